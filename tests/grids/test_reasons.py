"""Reasons on grids outside the band: one English rendering, read back exactly, any language
rendered from code and figures."""

from __future__ import annotations

import pytest

from gridplan.grids.reasons import ENGLISH, REASONS, Reason, shortfall, unit_over_max
from gridplan.i18n import REASON_TEMPLATES, reason_text

#: The reason column as the partition and the plan have always written it (outputs must not move).
WRITTEN = [
    (Reason("no_households", {"lo": 300}), "no_households: no households in the community (< 300)"),
    (
        Reason("community_below_min", {"households": 188, "lo": 300}),
        "community_below_min: 188 households in the community (< 300)",
    ),
    (
        Reason("part_below_min", {"households": 120, "lo": 300}),
        "part_below_min: 120 households in a detached part (< 300)",
    ),
    (
        Reason("band_empty", {"households": 520, "lo": 300, "hi": 500}),
        "band_empty: 520 households cannot form grids of 300-500",
    ),
    (
        Reason("unit_over_max", {"households": 540, "hi": 500}),
        "unit_over_max: 540 households in one building or address (> 500)",
    ),
    (
        Reason("no_contiguous_split", {"households": 900, "units": 4, "lo": 300, "hi": 500}),
        "no_contiguous_split: 900 households in 4 units have no contiguous split into grids of "
        "300-500 (exhaustive search)",
    ),
    (Reason("search_failed", {"households": 700, "units": 9}), "search_failed: 700 households, 9 units"),
    (
        Reason("search_failed", {"households": 700}),
        "search_failed: replanned from the previous grids (700 households)",
    ),
    (Reason("kept", {"households": 200}), "kept: grid kept as given with 200 households"),
    (
        Reason("edited_below_min", {"households": 188, "lo": 300}),
        "edited_below_min: 188 households, fewer than 300",
    ),
    (
        Reason("edited_over_max", {"households": 620, "hi": 500}),
        "edited_over_max: 620 households, more than 500",
    ),
]


def _key(r: Reason) -> tuple:
    return r.code, tuple(sorted(r.figures.items()))


@pytest.mark.parametrize(("reason", "text"), WRITTEN, ids=[f"{r.code}-{len(r.figures)}" for r, _ in WRITTEN])
def test_text_is_the_historical_column_and_parses_back(reason, text):
    assert reason.text() == text
    assert _key(Reason.parse(text)) == _key(reason)
    # rendering from the object and from the column value is the same, in every language
    for lang in ("zh", "en"):
        assert reason_text(reason, lang) == reason_text(text, lang)


def test_every_code_has_english_and_translations():
    assert set(REASONS) <= set(ENGLISH)
    assert set(ENGLISH) == set(REASON_TEMPLATES)
    assert {r.code for r, _ in WRITTEN} == set(ENGLISH)
    assert sum(len(t) for t in ENGLISH.values()) == len(WRITTEN)


def test_parse_edge_cases():
    assert Reason.parse("new_code: something") is None
    assert Reason.parse("kept").figures == {} and Reason.parse("kept").code == "kept"
    assert Reason.parse("search_failed: replanned").figures == {}
    # plans saved before reasons carried a code
    assert _key(Reason.parse("188 households, fewer than 300")) == (
        "edited_below_min",
        (("households", 188), ("lo", 300)),
    )
    assert Reason("kept").text() == "kept"
    with pytest.raises(KeyError):
        Reason("band_empty", {"households": 1}).text()


def test_shortfall_cascade():
    lo, hi = 300, 500
    assert shortfall(200, lo, hi, community=200, units=3).code == "community_below_min"
    assert shortfall(200, lo, hi, units=3).code == "part_below_min"
    assert shortfall(550, lo, hi, units=3).code == "band_empty"
    assert shortfall(900, lo, hi, units=3, proven=True).code == "no_contiguous_split"
    assert shortfall(900, lo, hi, units=3).figures == {"households": 900, "units": 3}
    assert (
        shortfall(900, lo, hi).text() == "search_failed: replanned from the previous grids (900 households)"
    )
    assert unit_over_max(540, hi).text() == dict((r.code, t) for r, t in WRITTEN)["unit_over_max"]

"""Why a grid is outside the band: a code and its figures, rendered in English in one place.

A :class:`Reason` is what the planner decides (``unit_over_max`` with ``households`` and ``hi``);
:meth:`Reason.text` is the ``"<code>: <detail>"`` string of the ``reason`` column, and
:meth:`Reason.parse` reads such a string back (from a grids file or a saved plan) by the same
templates, so that :func:`gridplan.i18n.reason_text` renders any language from code and figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gridplan.grids.search import whole_grids_possible

__all__ = ["ENGLISH", "REASONS", "Reason", "shortfall", "unit_over_max"]

#: Reason codes on grids that are not in the band; the text after the colon gives the numbers.
REASONS = {
    "no_households": "no household lies in the community: one empty grid covers it",
    "community_below_min": "the community has fewer households than the minimum of one grid",
    "part_below_min": "a part of the community cut off (by barriers, kept grids, oversized "
    "buildings or the community's own shape) has fewer households than the minimum",
    "band_empty": "the households cannot be divided into whole grids within the bounds",
    "unit_over_max": "a single building or address has more households than the maximum",
    "no_contiguous_split": "an exhaustive search showed that the units cannot be grouped into "
    "contiguous grids within the bounds",
    "search_failed": "no contiguous split within the bounds was found (search limit reached)",
    "kept": "grid kept as given (--keep)",
}

#: The English detail of every code, one template per set of figures (``search_failed`` has
#: two: a fresh search names its units, a replan does not). ``edited_*`` are the plan's codes
#: (:mod:`gridplan.plan`), which writes the same ``"<code>: <detail>"`` form.
ENGLISH: dict[str, tuple[str, ...]] = {
    "no_households": ("no households in the community (< {lo})",),
    "community_below_min": ("{households} households in the community (< {lo})",),
    "part_below_min": ("{households} households in a detached part (< {lo})",),
    "band_empty": ("{households} households cannot form grids of {lo}-{hi}",),
    "unit_over_max": ("{households} households in one building or address (> {hi})",),
    "no_contiguous_split": (
        (
            "{households} households in {units} units have no contiguous "
            "split into grids of {lo}-{hi} (exhaustive search)"
        ),
    ),
    "search_failed": (
        "{households} households, {units} units",
        "replanned from the previous grids ({households} households)",
    ),
    "kept": ("grid kept as given with {households} households",),
    "edited_below_min": ("{households} households, fewer than {lo}",),
    "edited_over_max": ("{households} households, more than {hi}",),
}

#: Codes whose detail was once written without the ``"<code>: "`` prefix (plans saved before
#: reasons carried a code); :meth:`Reason.parse` still recognises them.
_BARE = ("edited_below_min", "edited_over_max")

_FIELD = re.compile(r"\{(\w+)\}")


def _names(template: str) -> frozenset[str]:
    return frozenset(_FIELD.findall(template))


def _pattern(template: str) -> re.Pattern:
    """The template as a regex that gives back its figures (whole integers)."""
    parts = _FIELD.split(template)  # literal, name, literal, name, ..., literal
    body = "".join(re.escape(p) if k % 2 == 0 else rf"(?P<{p}>-?\d+)" for k, p in enumerate(parts))
    return re.compile(body)


_PATTERNS = {code: [(_pattern(t), t) for t in ts] for code, ts in ENGLISH.items()}


@dataclass(frozen=True)
class Reason:
    """A reason code (:data:`ENGLISH`) and the figures its sentence states.

    Attributes
    ----------
    code : str
        E.g. ``"unit_over_max"``.
    figures : dict of str to int
        E.g. ``{"households": 540, "hi": 500}``; empty when only the code is known.
    """

    code: str
    figures: dict[str, int] = field(default_factory=dict)

    def text(self) -> str:
        """The ``reason`` column: ``"<code>: <English detail>"`` (the code alone without figures).

        Raises
        ------
        KeyError
            No English template of the code takes exactly these figures.
        """
        if not self.figures:
            return self.code
        names = frozenset(self.figures)
        for template in ENGLISH[self.code]:
            if _names(template) == names:
                return f"{self.code}: {template.format(**self.figures)}"
        raise KeyError(f"no template of {self.code!r} takes {sorted(names)}")

    @classmethod
    def parse(cls, text: str) -> Reason | None:
        """The reason a ``reason`` string states, or None when its code is unknown.

        A known code whose detail matches none of its templates comes back without figures.
        """
        code, _, detail = str(text).partition(":")
        code, detail = code.strip(), detail.strip()
        if code in ENGLISH:
            return cls(code, _figures(code, detail))
        for bare in _BARE:
            figures = _figures(bare, str(text).strip())
            if figures:
                return cls(bare, figures)
        return None


def _figures(code: str, detail: str) -> dict[str, int]:
    for pattern, _ in _PATTERNS[code]:
        m = pattern.fullmatch(detail)
        if m is not None:
            return {k: int(v) for k, v in m.groupdict().items()}
    return {}


def unit_over_max(households: int, hi: int) -> Reason:
    """One building or address over the maximum: a grid of its own.

    Parameters
    ----------
    households : int
        The unit's households.
    hi : int
        The maximum.

    Returns
    -------
    Reason
    """
    return Reason("unit_over_max", {"households": int(households), "hi": int(hi)})


def shortfall(
    part: int,
    lo: int,
    hi: int,
    *,
    community: int | None = None,
    units: int | None = None,
    proven: bool = False,
) -> Reason:
    """Why the grids of a part of a community (``part`` households) miss the band.

    Parameters
    ----------
    part : int
        Households of the part that was planned as one.
    lo, hi : int
        The band.
    community : int, optional
        The households of the whole community when that part is the whole of it.
    units : int, optional
        Units of the part (a fresh search); None for a plan repaired from the previous grids.
    proven : bool
        An exhaustive search showed that no contiguous split exists.

    Returns
    -------
    Reason
    """
    if community is not None and community < lo:
        return Reason("community_below_min", {"households": int(community), "lo": lo})
    if part < lo:
        return Reason("part_below_min", {"households": int(part), "lo": lo})
    if not whole_grids_possible(part, lo, hi):
        return Reason("band_empty", {"households": int(part), "lo": lo, "hi": hi})
    if units is None:
        return Reason("search_failed", {"households": int(part)})
    if proven:
        return Reason(
            "no_contiguous_split", {"households": int(part), "units": int(units), "lo": lo, "hi": hi}
        )
    return Reason("search_failed", {"households": int(part), "units": int(units)})

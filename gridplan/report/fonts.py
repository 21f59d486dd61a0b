"""Fonts of the report figures: a CJK font on any machine, and a check for glyphs it lacks.

Chinese text needs a CJK font. :func:`cjk_font` takes a system font when there is one (Noto Sans
CJK from Debian's fonts-noto-cjk, Source Han Sans, WenQuanYi, Microsoft YaHei, SimHei, PingFang)
and otherwise the subset of Noto Sans CJK SC shipped in ``gridplan/assets/fonts`` (SIL OFL 1.1), so
figures work on a fresh machine. Labels with characters the font lacks would print as empty boxes
("tofu"); :func:`missing_glyphs` finds them and :func:`check_text` warns.

The CJK fonts systems ship (Noto Sans CJK, Source Han Sans) have CFF outlines, which matplotlib's
PDF backend embeds under ``/FontFile2``, the key for TrueType outlines (matplotlib issues 2869,
20870): strict PDF readers refuse such a font. :func:`truetype_text` puts a PDF's text in the
bundled subset instead, whose outlines are TrueType (``build_subset.py`` converts them).
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.ft2font import FT2Font

from gridplan.errors import GridplanWarning

__all__ = [
    "BUNDLED_FONT",
    "SYSTEM_FONTS",
    "cjk_font",
    "missing_glyphs",
    "check_text",
    "has_cff_outlines",
    "truetype_text",
]

BUNDLED_FONT = Path(__file__).resolve().parents[1] / "assets" / "fonts" / "NotoSansSC-gridplan-subset.ttf"
#: System CJK fonts to prefer, best first.
SYSTEM_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Noto Sans CJK JP",
)


@functools.lru_cache(maxsize=1)
def cjk_font(prefer_bundled: bool = False) -> FontProperties:
    """A font with Chinese glyphs: a system CJK font, else the bundled subset.

    Parameters
    ----------
    prefer_bundled : bool
        Use the bundled subset even when a system font exists (tests use this to check that
        figures work on a fresh machine).

    Returns
    -------
    matplotlib.font_manager.FontProperties
    """
    if not prefer_bundled:
        installed = {f.name: f.fname for f in fontManager.ttflist}
        for name in SYSTEM_FONTS:
            if name in installed:
                return FontProperties(fname=installed[name])
    if not BUNDLED_FONT.exists():  # pragma: no cover - a broken installation
        warnings.warn(
            "no CJK font found: Chinese labels will show as boxes; install fonts-noto-cjk",
            GridplanWarning,
            stacklevel=2,
        )
        return FontProperties()
    return FontProperties(fname=str(BUNDLED_FONT))


@functools.lru_cache(maxsize=8)
def _charmap(fname: str) -> frozenset[int]:
    return frozenset(FT2Font(fname).get_charmap())


def missing_glyphs(text: str, font: FontProperties | None = None) -> set[str]:
    """Characters of ``text`` that ``font`` (default :func:`cjk_font`) cannot draw.

    Spaces and control characters are ignored.
    """
    font = font or cjk_font()
    fname = font.get_file() or _find(font)
    cmap = _charmap(str(fname))
    return {ch for ch in set(text) if not ch.isspace() and ord(ch) >= 0x20 and ord(ch) not in cmap}


def _find(font: FontProperties) -> str:
    from matplotlib.font_manager import findfont

    return findfont(font)


def check_text(texts, font: FontProperties) -> None:
    """Warn (:class:`~gridplan.errors.GridplanWarning`, at the plotting function's caller) when
    ``font`` lacks characters of ``texts``."""
    missing = set()
    for t in texts:
        missing |= missing_glyphs(str(t), font)
    if missing:
        warnings.warn(
            f"the CJK font lacks {''.join(sorted(missing))}: those characters will show "
            "as boxes; install fonts-noto-cjk",
            GridplanWarning,
            stacklevel=3,
        )


@functools.lru_cache(maxsize=16)
def has_cff_outlines(fname: str) -> bool:
    """Whether the font file ``fname`` (the first face of a collection) has CFF outlines."""
    from fontTools.ttLib import TTFont

    kw = {"fontNumber": 0} if fname.lower().endswith((".ttc", ".otc")) else {}
    try:
        with TTFont(fname, lazy=True, **kw) as font:
            return "CFF " in font or "CFF2" in font
    except Exception:  # a font fontTools cannot read (Type 1, a bitmap font): not CFF-in-OpenType
        return False


def truetype_text(fig) -> None:
    """Set every text of ``fig`` drawn in a CFF-flavoured font in the bundled TrueType subset
    (same family, so the same metrics), where the subset has its characters: for a PDF.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    """
    from matplotlib.text import Text

    if not BUNDLED_FONT.exists():  # pragma: no cover - a broken installation
        return
    bundled = str(BUNDLED_FONT)
    for text in fig.findobj(Text):
        props = text.get_fontproperties()
        fname = props.get_file() or _find(props)
        if not has_cff_outlines(str(fname)):
            continue
        if missing_glyphs(text.get_text(), FontProperties(fname=bundled)):
            continue  # rather the system font's glyphs under the wrong key than boxes
        swapped = props.copy()
        swapped.set_file(bundled)
        text.set_fontproperties(swapped)

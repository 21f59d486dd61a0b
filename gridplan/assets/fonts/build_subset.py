"""Rebuild the bundled CJK font subset (run by a developer, not at import time).

The subset is Noto Sans CJK SC Regular (SIL OFL 1.1, see OFL.txt) cut down with fontTools to
ASCII, Latin-1, general and CJK punctuation, full-width forms, the 6,763 hanzi of GB 2312 (levels 1 and 2: practically every character of
Chinese place and community names) and every non-ASCII character in gridplan's own source, so that
figures have Chinese labels on a machine without a system CJK font.

The outlines are then converted from cubic (CFF) to quadratic (TrueType ``glyf``) curves with
fontTools' cu2qu: matplotlib's PDF backend embeds a font's outlines under ``/FontFile2``, the key
for TrueType outlines, whatever their flavour (matplotlib issues 2869, 20870), so a CFF font makes
a PDF that strict readers refuse. A TrueType-flavoured subset embeds as the PDF format says.

    python gridplan/assets/fonts/build_subset.py [/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

HERE = Path(__file__).resolve().parent
OUT = HERE / "NotoSansSC-gridplan-subset.ttf"
#: Largest distance (font units, 1,000 per em) between a cubic curve and its quadratic copy.
MAX_ERR = 1.0
SOURCE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FAMILY = "Noto Sans CJK SC"


def gb2312_hanzi() -> set[str]:
    chars = set()
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def source_chars() -> set[str]:
    chars = set()
    for path in sorted((HERE.parents[1]).rglob("*.py")):
        chars.update(ch for ch in path.read_text(encoding="utf-8") if ord(ch) > 0x7F)
    return chars


def main(source: str = SOURCE) -> None:
    collection = TTCollection(source)
    font = next(f for f in collection.fonts if f["name"].getDebugName(1) == FAMILY)
    text = set(map(chr, range(0x20, 0x7F))) | gb2312_hanzi() | source_chars()
    # Latin-1, general punctuation (– — ‘ ’ “ ” …), CJK symbols and punctuation, full-width forms.
    for lo, hi in (
        (0xA0, 0xFF),
        (0x2000, 0x206F),
        (0x2190, 0x21FF),
        (0x2460, 0x24FF),
        (0x3000, 0x303F),
        (0xFF00, 0xFFEF),
    ):
        text |= set(map(chr, range(lo, hi + 1)))
    opts = subset.Options()
    opts.layout_features = ["*"]
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    sub = subset.Subsetter(opts)
    sub.populate(text="".join(sorted(text)))
    sub.subset(font)
    to_truetype(font)
    font.save(OUT)
    print(f"{OUT}: {OUT.stat().st_size / 1e6:.2f} MB, {len(font.getBestCmap())} characters")


def to_truetype(font) -> None:
    """Replace ``font``'s CFF outlines by TrueType ones (in place), as fontTools' own otf2ttf
    snippet does: each glyph drawn through a cubic-to-quadratic pen into a ``glyf`` table."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        # CFF contours run counter-clockwise, TrueType ones clockwise
        glyph_set[name].draw(Cu2QuPen(pen, MAX_ERR, reverse_direction=True))
        glyphs[name] = pen.glyph()
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    font["loca"] = newTable("loca")
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for key in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, key, 0)
    maxp.maxZones = 1
    font["post"].formatType = 2.0
    font["post"].extraNames = []
    font["post"].mapping = {}
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    font.recalcBBoxes = True


if __name__ == "__main__":
    main(*sys.argv[1:])

"""Static figures: Chinese labels without tofu, status colours drawn, reproducible PNG bytes."""

from __future__ import annotations

import ast
import hashlib
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from _figures import missing_status_colours, pixels_near, status_swatches
from _lattice import lattice
from matplotlib.ft2font import FT2Font
from matplotlib.image import imread
from matplotlib.text import Text
from pyproj import Proj

from gridplan.errors import GridplanWarning, InputError
from gridplan.i18n import LABELS
from gridplan.report import figures, style


@pytest.fixture(scope="module")
def district():
    d = lattice(communities=2)
    g = d["grids"].copy()
    # One grid over the band, one under: all three status colours must appear.
    g.loc[0, ["households", "status"]] = [620, "over"]
    g.loc[1, ["households", "status"]] = [180, "under"]
    d["grids"] = g
    return d


def _pixels_near(png: Path, hex_colour: str, alpha: float = 1.0, tol: float = 0.06) -> int:
    img = imread(png)[..., :3]
    rgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    # The colour as drawn over white at the given alpha.
    target = alpha * rgb + (1 - alpha) * np.ones(3)
    return int((np.abs(img - target).max(axis=2) < tol).sum())


def _cjk_literals() -> str:
    """Every Chinese character of the figures' labels: string literals of
    gridplan.report.figures and the Chinese figure labels of gridplan.i18n."""
    tree = ast.parse(Path(figures.__file__).read_text(encoding="utf-8"))
    text = "".join(
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    )
    text += "".join(e["zh"] for k, e in LABELS.items() if k.startswith("fig_") or k == "unit_households")
    return "".join(sorted({ch for ch in text if ord(ch) > 0x2E80}))


def test_bundled_font_covers_every_label_and_common_hanzi():
    bundled = figures.cjk_font(prefer_bundled=True)
    assert Path(bundled.get_file()) == figures.BUNDLED_FONT
    labels = _cjk_literals()
    assert len(labels) > 20
    assert figures.missing_glyphs(labels, bundled) == set()
    # Names from the sample district and Yichang's communities use common hanzi.
    assert figures.missing_glyphs("宜昌市西陵区夷陵路街道学院街社区党群服务中心", bundled) == set()
    # The check itself finds what is missing.
    assert figures.missing_glyphs("网格\U00020000", bundled) == {"\U00020000"}
    assert (Path(figures.BUNDLED_FONT).parent / "OFL.txt").exists()


@pytest.mark.parametrize("bundled", [False, True])
def test_grid_map_draws_statuses_without_tofu(district, tmp_path, bundled):
    font = figures.cjk_font(prefer_bundled=bundled)
    path = tmp_path / "grids.png"
    with warnings.catch_warnings():
        # matplotlib warns "Glyph ... missing from font(s)" when it draws tofu.
        warnings.simplefilter("error")
        fig = figures.plot_grids(
            district["grids"],
            path,
            households=district["households"],
            communities=district["communities"],
            font=font,
        )
    assert path.exists() and fig is not None
    img = imread(path)
    assert img.shape[1] == 9 * 150
    # each status fills a grid of the map, far more than its legend swatch
    for status, (rgb, area) in status_swatches(fig).items():
        assert pixels_near(img, rgb) > 10 * area, status


def test_missing_glyph_warns(district, tmp_path):
    font = figures.cjk_font(prefer_bundled=True)
    with pytest.warns(GridplanWarning, match="lacks"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph", category=UserWarning)
            figures.plot_grids(district["grids"], tmp_path / "x.png", font=font, title="网格\U00020000")


def test_coverage_map_and_histogram(district, tmp_path):
    hh = district["households"].copy()
    hh["covered"] = np.arange(len(hh)) % 3 != 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figures.plot_coverage(
            hh,
            tmp_path / "cov.png",
            grids=district["grids"],
            facilities=hh.iloc[[0, 200]],
            sites=hh.iloc[[100]],
        )
        figures.plot_households_histogram(district["grids"], tmp_path / "hist.png")
    assert _pixels_near(tmp_path / "cov.png", style.UNCOVERED_COLOUR) > 50
    assert _pixels_near(tmp_path / "cov.png", style.COVERED_COLOUR) > 50
    assert _pixels_near(tmp_path / "cov.png", "#ffd92f") > 20
    assert _pixels_near(tmp_path / "hist.png", "#377eb8") > 500
    with pytest.raises(InputError):
        figures.plot_coverage(district["households"], tmp_path / "bad.png")


def test_png_bytes_are_reproducible(district, tmp_path):
    digests = []
    for name in ("a.png", "b.png"):
        figures.plot_grids(district["grids"], tmp_path / name, communities=district["communities"])
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    with pytest.raises(InputError):
        figures.plot_grids(district["grids"], tmp_path / "map.jpg")


CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]")


@pytest.fixture(scope="module")
def in_band():
    """Two communities whose grids all hold 400 households: no grid is under or over."""
    d = lattice(communities=2)
    assert set(d["grids"]["status"]) == {"ok"}
    return d


def test_legend_shows_every_status_colour_when_all_grids_are_in_band(in_band, tmp_path):
    path = tmp_path / "grids.png"
    fig = figures.plot_grids(in_band["grids"], path, communities=in_band["communities"])
    # the under and over colours are nowhere on the map: only the legend can show them
    assert missing_status_colours(path, fig) == {}
    # without its legend the same map lacks them, so the check above can fail
    fig.axes[0].get_legend().remove()
    fig.savefig(tmp_path / "bare.png", dpi=fig.dpi, facecolor="white")
    assert set(missing_status_colours(tmp_path / "bare.png", figures.plot_grids(in_band["grids"]))) == {
        "under",
        "over",
    }


def _north_arrow(fig):
    found = [a for a in fig.findobj() if a.get_gid() == figures.NORTH_ARROW_GID]
    assert len(found) == 1, found
    return found[0]


def test_north_arrow_points_to_true_north(in_band, tmp_path):
    grids = in_band["grids"]
    fig = figures.plot_grids(grids)
    arrow = _north_arrow(fig)
    # from its tail to its tip, in points (the map's aspect is equal: as on the page)
    dx, dy = np.subtract(arrow.xy, arrow.xyann)
    tilt = np.degrees(np.arctan2(-dx, dy))
    # the lattice lies 1.8 degrees east of UTM zone 50's central meridian: grid north is ~1 degree
    # off true north there
    centre = grids.union_all().centroid
    convergence = Proj(figures.local_crs(grids)).get_factors(centre.x, centre.y).meridian_convergence
    assert 0.5 < convergence < 2
    assert tilt == pytest.approx(convergence, abs=0.05)
    letters = [a.get_text() for a in fig.findobj() if a.get_gid() == f"{figures.NORTH_ARROW_GID}_label"]
    assert letters == ["北"]
    hh = in_band["households"].assign(covered=True)
    _north_arrow(figures.plot_coverage(hh, grids=grids))


def _texts(fig) -> list[str]:
    return [a.get_text() for a in fig.findobj(Text) if a.get_text()]


def test_chinese_labels_are_those_of_before(in_band):
    texts = _texts(figures.plot_grids(in_band["grids"], communities=in_band["communities"]))
    for label in (
        "网格划分（按户数状态）",
        "达标（300–500户）：10个",
        "户数偏少（<300户）：0个",
        "户数偏多（>500户）：0个",
        "社区边界",
        "500 米",
        "01\n400户",
    ):
        assert label in texts, (label, texts)


def test_english_figure_has_no_chinese(in_band, tmp_path):
    path = tmp_path / "grids_en.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = figures.plot_grids(
            in_band["grids"],
            path,
            households=in_band["households"],
            communities=in_band["communities"],
            lang="en",
        )
    texts = _texts(fig)
    assert [x for x in texts if CJK.search(x)] == []
    for label in ("Grids by household count", "In band (300–500 hh): 10", "Community boundary", "500 m", "N"):
        assert label in texts, (label, texts)
    assert "01\n400 hh" in texts
    assert missing_status_colours(path, fig) == {}
    # a title of one's own, and none
    assert "Plan A" in _texts(figures.plot_grids(in_band["grids"], title="Plan A", lang="en"))
    assert fig.axes[0].get_title() and not figures.plot_grids(in_band["grids"], title="").axes[0].get_title()
    with pytest.raises(InputError, match="language"):
        figures.plot_grids(in_band["grids"], lang="fr")


def test_pdf_is_vector_with_the_font_embedded_and_reproducible(district, tmp_path):
    font = figures.cjk_font()
    digests = []
    for name in ("a.pdf", "b.PDF"):
        fig = figures.plot_grids(district["grids"], tmp_path / name, communities=district["communities"])
        data = (tmp_path / name).read_bytes()
        digests.append(hashlib.sha256(data).hexdigest())
    assert data.startswith(b"%PDF-")
    # the CJK font is embedded as a subset (a tag, "+", its PostScript name) of its own outlines,
    # not as Type 3 drawings
    ps_name = FT2Font(font.get_file()).postscript_name.encode()
    assert re.search(rb"/BaseFont /[A-Z]{6}\+" + re.escape(ps_name), data), ps_name
    assert b"/FontFile2" in data
    assert b"/Type3" not in data and b"/Subtype /Type3" not in data
    assert b"/Subtype /Image" not in data  # vector: no raster of the map
    assert digests[0] == digests[1]
    # no date in the file: the same plan gives the same bytes on another day
    assert b"/CreationDate" not in data
    assert fig is not None
    figures.plot_coverage(
        district["households"].assign(covered=True), tmp_path / "cov.pdf", grids=district["grids"]
    )
    figures.plot_households_histogram(district["grids"], tmp_path / "hist.pdf")
    assert (tmp_path / "cov.pdf").read_bytes().startswith(b"%PDF-")
    assert (tmp_path / "hist.pdf").read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize("name", ["map.jpg", "map.svg", "map", "map.png.txt"])
def test_other_suffixes_are_refused_and_nothing_is_written(district, tmp_path, name):
    with pytest.raises(InputError, match=r"neither a \.png nor a \.pdf") as err:
        figures.plot_grids(district["grids"], tmp_path / name)
    assert err.value.fix and ".pdf" in err.value.fix
    assert list(tmp_path.iterdir()) == []


def _font_programs(pdf: bytes) -> list[bytes]:
    """The decompressed font files a PDF embeds under /FontFile2 (matplotlib writes each as an
    object with a FlateDecode stream)."""
    import zlib

    out = []
    for num in sorted(set(re.findall(rb"/FontFile2 (\d+) 0 R", pdf))):
        m = re.search(rb"\n" + num + rb" 0 obj\s*<<(.*?)>>\s*stream\r?\n", pdf, re.S)
        assert m, num
        length = int(re.search(rb"/Length (\d+)", m.group(1)).group(1))
        raw = pdf[m.end() : m.end() + length]
        out.append(zlib.decompress(raw) if b"FlateDecode" in m.group(1) else raw)
    return out


_SYSTEM_CFF = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")  # Debian's fonts-noto-cjk


@pytest.mark.parametrize("which", ["bundled", "system CFF"])
def test_pdf_embeds_truetype_outlines_under_fontfile2(district, tmp_path, which):
    # /FontFile2 is the key for TrueType outlines: a CFF font program there (Noto Sans CJK as
    # matplotlib embeds it) makes a malformed PDF; the labels are drawn in the bundled TrueType
    # subset instead, and stay text
    from matplotlib.font_manager import FontProperties

    if which == "bundled":
        font = figures.cjk_font(prefer_bundled=True)
    elif _SYSTEM_CFF.exists():
        font = FontProperties(fname=str(_SYSTEM_CFF))
    else:
        pytest.skip(f"no system CFF CJK font ({_SYSTEM_CFF}: Debian's fonts-noto-cjk)")
    path = tmp_path / "g.pdf"
    figures.plot_grids(district["grids"], path, communities=district["communities"], font=font)
    programs = _font_programs(path.read_bytes())
    assert programs
    for prog in programs:
        assert prog[:4] in (b"\x00\x01\x00\x00", b"true"), prog[:4]  # not b"OTTO" (CFF)
        assert b"glyf" in prog[:512] and b"CFF " not in prog[:512]

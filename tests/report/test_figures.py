"""Static figures: Chinese labels without tofu, status colours drawn, reproducible PNG bytes."""

from __future__ import annotations

import ast
import hashlib
import warnings
from pathlib import Path

import numpy as np
import pytest
from _lattice import lattice
from matplotlib.image import imread

from gridplan.errors import GridplanWarning, InputError
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
    """Every Chinese character in string literals of gridplan.report.figures (its labels)."""
    tree = ast.parse(Path(figures.__file__).read_text(encoding="utf-8"))
    text = "".join(
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    )
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
    for status in ("ok", "under", "over"):
        assert _pixels_near(path, style.STATUS_COLOURS[status], alpha=0.75) > 500, status


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

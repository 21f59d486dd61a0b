"""Static maps and charts for reports (PNG, matplotlib), with Chinese labels.

Chinese text needs a CJK font. :func:`cjk_font` takes a system font when there is one (Noto Sans
CJK from Debian's fonts-noto-cjk, Source Han Sans, WenQuanYi, Microsoft YaHei, SimHei, PingFang)
and otherwise the subset of Noto Sans CJK SC shipped in ``gridplan/assets/fonts`` (SIL OFL 1.1), so
figures work on a fresh machine. Labels with characters the font lacks would print as empty boxes
("tofu"); :func:`missing_glyphs` finds them and the plotting functions warn.

Figures are drawn on :class:`matplotlib.figure.Figure` objects (no pyplot state), in the data's
local metric CRS so that shapes and the scale bar are true, and saved without timestamps, so that
the same input gives the same PNG bytes.
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.ft2font import FT2Font
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from gridplan.errors import GridplanWarning, InputError
from gridplan.io.projection import local_crs
from gridplan.norms import GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS, WALK_MINUTES
from gridplan.report.style import BOUNDARY_COLOUR, COVERED_COLOUR, STATUS_COLOURS, UNCOVERED_COLOUR

__all__ = [
    "BUNDLED_FONT",
    "cjk_font",
    "missing_glyphs",
    "plot_grids",
    "plot_coverage",
    "plot_households_histogram",
]

BUNDLED_FONT = Path(__file__).resolve().parents[1] / "assets" / "fonts" / "NotoSansSC-gridplan-subset.otf"
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

_DPI = 150
#: PNG metadata without the matplotlib version, so that PNG bytes do not change with upgrades.
_PNG_META = {"Software": None}


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


def _check_text(texts, font: FontProperties) -> None:
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


# --- helpers ---------------------------------------------------------------------------------


def _metric(gdf: gpd.GeoDataFrame | None, crs) -> gpd.GeoDataFrame | None:
    if gdf is None:
        return None
    if gdf.crs is None:
        raise InputError(
            "a layer to plot has no CRS",
            fix="read it with gridplan.io.files",
            message_zh="待绘制的图层没有坐标系",
        )
    return gdf.to_crs(crs)


def _new_figure(bounds=None) -> tuple[Figure, object]:
    width = 9.0
    height = 8.0
    if bounds is not None:
        x0, y0, x1, y1 = bounds
        aspect = (y1 - y0) / max(x1 - x0, 1e-9)
        # Room for the title above and the legend below the map.
        height = float(np.clip(width * aspect + 2.0, 4.0, 13.0))
    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig, ax


def _scale_bar(ax, font: FontProperties) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    # Room under the map for the bar, so that it never covers data.
    y0 -= 0.08 * (y1 - y0)
    ax.set_ylim(y0, y1)
    span = x1 - x0
    # A round length of about a fifth of the map width.
    nice = np.array([50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000])
    length = float(nice[np.argmin(np.abs(nice - span / 5))])
    x, y = x0 + 0.02 * span, y0 + 0.025 * (y1 - y0)
    ax.plot([x, x + length], [y, y], color="black", linewidth=3, solid_capstyle="butt")
    label = f"{length / 1000:g} 千米" if length >= 1000 else f"{length:g} 米"
    ax.text(
        x + length / 2,
        y + 0.008 * (y1 - y0),
        label,
        ha="center",
        va="bottom",
        fontproperties=font,
        fontsize=8,
    )


def _save(fig: Figure, path) -> Path:
    from gridplan.io.atomic import atomic_path

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError(
            f"{path} is not a .png file", fix="name the figure *.png", message_zh="图片文件名应以 .png 结尾"
        )
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=_DPI, metadata=_PNG_META, facecolor="white")
    return path


def _draw_boundaries(ax, communities, grids) -> None:
    if grids is not None:
        grids.boundary.plot(ax=ax, color="white", linewidth=0.6)
    if communities is not None:
        communities.boundary.plot(ax=ax, color=BOUNDARY_COLOUR, linewidth=1.4)


# --- maps ------------------------------------------------------------------------------------


def plot_grids(
    grids: gpd.GeoDataFrame,
    path: str | os.PathLike | None = None,
    *,
    households: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    title: str | None = "网格划分（按户数状态）",
    labels: bool | None = None,
    min_households: int = GRID_MIN_HOUSEHOLDS,
    max_households: int = GRID_MAX_HOUSEHOLDS,
    font: FontProperties | None = None,
) -> Figure:
    """Map of grids coloured by status (达标 / 户数偏少 / 户数偏多), with community boundaries.

    Parameters
    ----------
    grids : GeoDataFrame
        Grids with ``status`` (computed from ``households`` and the band when absent).
    path : path-like, optional
        Save the map as PNG here.
    households : GeoDataFrame, optional
        Household points, drawn as small dots.
    communities : GeoDataFrame, optional
        Community boundaries, drawn dark.
    title : str, optional
        Map title.
    labels : bool, optional
        Write each grid's number and households on it; default when there are at most 80 grids.
    min_households, max_households : int
        The band, for the legend and for a missing ``status``.
    font : FontProperties, optional
        The CJK font (default :func:`cjk_font`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if grids is None or len(grids) == 0:
        raise InputError("there are no grids to plot", message_zh="没有可绘制的网格")
    crs = local_crs(grids)
    g = _metric(grids, crs)
    if "status" not in g.columns:
        hh = g["households"]
        g["status"] = np.where(hh < min_households, "under", np.where(hh > max_households, "over", "ok"))
    font = font or cjk_font()
    fig, ax = _new_figure(g.total_bounds)
    colours = g["status"].map(STATUS_COLOURS).fillna("#999999")
    g.plot(ax=ax, color=colours.tolist(), edgecolor="white", linewidth=0.6, alpha=0.75)
    if households is not None and len(households):
        _metric(households, crs).plot(ax=ax, color="#222222", markersize=0.6, alpha=0.5)
    _draw_boundaries(ax, _metric(communities, crs), None)
    if labels is None:
        labels = len(g) <= 80
    texts = []
    if labels:
        pts = g.geometry.representative_point()
        # The grid's number: from its code when it has one (codes may be carried over a replan).
        ids = g["grid_code"] if "grid_code" in g.columns else g["grid_id"]
        for (x, y), gid, hh in zip(zip(pts.x, pts.y), ids, g["households"]):
            text = f"{str(gid).rsplit('-', 1)[-1]}\n{int(hh)}户"
            texts.append(text)
            ax.text(x, y, text, ha="center", va="center", fontsize=6, fontproperties=font)
    counts = g["status"].value_counts()
    legend_text = [
        f"达标（{min_households}–{max_households}户）：{counts.get('ok', 0)}个",
        f"户数偏少（<{min_households}户）：{counts.get('under', 0)}个",
        f"户数偏多（>{max_households}户）：{counts.get('over', 0)}个",
    ]
    handles = [
        Patch(facecolor=STATUS_COLOURS[k], alpha=0.75, label=t)
        for k, t in zip(("ok", "under", "over"), legend_text)
    ]
    if communities is not None:
        handles.append(Line2D([], [], color=BOUNDARY_COLOUR, linewidth=1.4, label="社区边界"))
        legend_text.append("社区边界")
    _legend_below(ax, handles, font)
    if title:
        ax.set_title(title, fontproperties=_sized(font, 13))
    _scale_bar(ax, font)
    _check_text(texts + legend_text + [title or ""], font)
    if path is not None:
        _save(fig, path)
    return fig


def _legend_below(ax, handles, font: FontProperties) -> None:
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.01),
        ncol=min(3, len(handles)),
        prop=_sized(font, 8),
        frameon=False,
    )


def _sized(font: FontProperties, size: float) -> FontProperties:
    f = font.copy()
    f.set_size(size)
    return f


def plot_coverage(
    coverage,
    path: str | os.PathLike | None = None,
    *,
    facilities: gpd.GeoDataFrame | None = None,
    isochrones: gpd.GeoDataFrame | None = None,
    grids: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    minutes: float = WALK_MINUTES,
    title: str | None = None,
    font: FontProperties | None = None,
) -> Figure:
    """Map of the 15-minute circle: households covered or not, centres, isochrones, new sites.

    Parameters
    ----------
    coverage : CoverageResult or GeoDataFrame
        A coverage result (its ``households`` and ``isochrones`` are used) or household points
        with a boolean ``covered`` column.
    path : path-like, optional
        Save the map as PNG here.
    facilities : GeoDataFrame, optional
        Existing centres (drawn as stars).
    isochrones : GeoDataFrame, optional
        Isochrones with ``minutes``; the ``minutes`` ones are shaded.
    grids, communities : GeoDataFrame, optional
        Boundaries drawn for orientation.
    sites : GeoDataFrame, optional
        Recommended new centres (drawn as triangles).
    minutes : float
        The service-circle threshold, for the legend and the isochrones shown.
    title : str, optional
        Map title (default ``"{minutes}分钟步行覆盖"``).
    font : FontProperties, optional
        The CJK font (default :func:`cjk_font`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    # A GeoDataFrame has a ``households`` column: tell a table from a result by type.
    if isinstance(coverage, pd.DataFrame):
        households = coverage
    else:
        households = coverage.households
        if isochrones is None:
            isochrones = getattr(coverage, "isochrones", None)
    if households is None or "covered" not in households.columns:
        raise InputError(
            "households have no 'covered' column",
            column="covered",
            fix="pass the result of gridplan.access.coverage",
            message_zh="住户缺少覆盖结果",
        )
    crs = local_crs(households)
    hh = _metric(households, crs)
    font = font or cjk_font()
    frame = (
        _metric(grids if grids is not None else communities, crs)
        if (grids is not None or communities is not None)
        else hh
    )
    fig, ax = _new_figure(frame.total_bounds)
    _draw_isochrone_area(ax, isochrones, crs, minutes)
    _draw_boundaries(ax, _metric(communities, crs), None)
    if grids is not None:
        _metric(grids, crs).boundary.plot(ax=ax, color="#999999", linewidth=0.5)
    covered = hh["covered"].fillna(False).astype(bool).to_numpy()
    weight = hh["households"].to_numpy(dtype=float) if "households" in hh else np.ones(len(hh))
    size = 2 + 6 * np.sqrt(weight / max(weight.max(), 1.0))
    if len(hh) > 5000:
        # A city of points: smaller dots, or they hide each other and the boundaries.
        size *= 0.3
    pts = hh.geometry
    ax.scatter(pts.x[covered], pts.y[covered], s=size[covered], color=COVERED_COLOUR, linewidths=0)
    ax.scatter(pts.x[~covered], pts.y[~covered], s=size[~covered], color=UNCOVERED_COLOUR, linewidths=0)
    centres, stations = _draw_facilities(ax, facilities, sites, crs)
    total = weight.sum()
    share = weight[covered].sum() / total if total else 0.0
    m = f"{minutes:g}"
    handles = [
        Line2D(
            [], [], marker="o", linestyle="", color=COVERED_COLOUR, label=f"{m}分钟内可达（{share:.0%}户）"
        ),
        Line2D([], [], marker="o", linestyle="", color=UNCOVERED_COLOUR, label=f"超出{m}分钟"),
        Patch(facecolor=ISOCHRONE_FILL, alpha=0.45, label=f"{m}分钟等时圈"),
    ]
    handles += _facility_handles(centres, stations, sites)
    legend_text = [h.get_label() for h in handles]
    _legend_below(ax, handles, font)
    title = title if title is not None else f"{m}分钟步行覆盖"
    ax.set_title(title, fontproperties=_sized(font, 13))
    _scale_bar(ax, font)
    _check_text(legend_text + [title], font)
    if path is not None:
        _save(fig, path)
    return fig


#: Fill of the service-circle area on the coverage map.
ISOCHRONE_FILL = "#9ecae1"


def _draw_isochrone_area(ax, isochrones, crs, minutes: float) -> None:
    if isochrones is None or not len(isochrones):
        return
    iso = _metric(isochrones, crs)
    if "minutes" in iso.columns:
        iso = iso[np.isclose(iso["minutes"].astype(float), float(minutes))]
    if len(iso):
        # One area: overlapping translucent polygons would stack into uneven shades.
        area = gpd.GeoSeries([shapely.union_all(iso.geometry.to_numpy())], crs=crs)
        area.plot(ax=ax, color=ISOCHRONE_FILL, alpha=0.45, edgecolor="none")


def _draw_facilities(ax, facilities, sites, crs) -> tuple[bool, bool]:
    """Centres as stars, stations as diamonds, proposed sites as triangles; which were drawn."""
    centres = stations = False
    if facilities is not None and len(facilities):
        f = _metric(facilities, crs)
        st = f[f["kind"] == "station"] if "kind" in f.columns else f.iloc[:0]
        f = f[f["kind"] != "station"] if "kind" in f.columns else f
        centres, stations = True, bool(len(st))
        ax.scatter(
            f.geometry.x,
            f.geometry.y,
            marker="*",
            s=140,
            color="#ffd92f",
            edgecolors="black",
            linewidths=0.7,
            zorder=5,
        )
        if len(st):
            ax.scatter(
                st.geometry.x,
                st.geometry.y,
                marker="D",
                s=22,
                color="#ff7f00",
                edgecolors="black",
                linewidths=0.5,
                zorder=5,
            )
    if sites is not None and len(sites):
        s = _metric(sites, crs)
        ax.scatter(
            s.geometry.x,
            s.geometry.y,
            marker="^",
            s=90,
            color="#984ea3",
            edgecolors="white",
            linewidths=0.7,
            zorder=6,
        )
    return centres, stations


def _facility_handles(centres: bool, stations: bool, sites) -> list:
    handles = []
    if centres:
        handles.append(
            Line2D(
                [],
                [],
                marker="*",
                linestyle="",
                markersize=11,
                markerfacecolor="#ffd92f",
                markeredgecolor="black",
                label="党群服务中心",
            )
        )
    if stations:
        handles.append(
            Line2D(
                [],
                [],
                marker="D",
                linestyle="",
                markersize=5,
                markerfacecolor="#ff7f00",
                markeredgecolor="black",
                label="党群服务站",
            )
        )
    if sites is not None and len(sites):
        handles.append(
            Line2D([], [], marker="^", linestyle="", markersize=9, color="#984ea3", label="建议新增选址")
        )
    return handles


def plot_households_histogram(
    grids: gpd.GeoDataFrame | pd.DataFrame,
    path: str | os.PathLike | None = None,
    *,
    min_households: int = GRID_MIN_HOUSEHOLDS,
    max_households: int = GRID_MAX_HOUSEHOLDS,
    title: str | None = "每个网格的户数",
    font: FontProperties | None = None,
) -> Figure:
    """Histogram of households per grid, with the standard band shaded.

    Parameters
    ----------
    grids : DataFrame
        Grids with ``households``.
    path : path-like, optional
        Save as PNG here.
    min_households, max_households : int
        The band (300–500 by default).
    title : str, optional
    font : FontProperties, optional
        The CJK font (default :func:`cjk_font`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    hh = pd.to_numeric(grids["households"]).to_numpy(dtype=float)
    font = font or cjk_font()
    fig = Figure(figsize=(7.0, 4.0), dpi=_DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.axvspan(min_households, max_households, color="#4daf4a", alpha=0.15)
    width = 25
    lo = min(hh.min(initial=min_households), min_households) // width * width
    hi = max(hh.max(initial=max_households), max_households) // width * width + 2 * width
    ax.hist(hh, bins=np.arange(lo, hi, width), color="#377eb8", edgecolor="white")
    ax.set_xlabel("每个网格户数", fontproperties=_sized(font, 10))
    ax.set_ylabel("网格数", fontproperties=_sized(font, 10))
    inside = int(((hh >= min_households) & (hh <= max_households)).sum())
    band = f"标准区间 {min_households}–{max_households}户：{inside}/{len(hh)} 个网格"
    ax.legend(
        handles=[Patch(facecolor="#4daf4a", alpha=0.15, label=band)], prop=_sized(font, 9), loc="upper left"
    )
    if title:
        ax.set_title(title, fontproperties=_sized(font, 12))
    _check_text([band, title or "", "每个网格户数", "网格数"], font)
    if path is not None:
        _save(fig, path)
    return fig

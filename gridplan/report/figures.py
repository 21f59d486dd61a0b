"""Static maps and charts for reports (PNG or vector PDF, matplotlib), labelled in Chinese or English.

Chinese text needs a CJK font (:mod:`gridplan.report.fonts`: a system font, else the bundled
subset); labels with characters the font lacks would print as boxes, and the plotting functions
warn. The grid map's labels come from :mod:`gridplan.i18n` in the language asked for.

Figures are drawn on :class:`matplotlib.figure.Figure` objects (no pyplot state), in the data's
local metric CRS so that shapes and the scale bar are true, with a north arrow pointing to true
north, and saved without timestamps, so that the same input gives the same PNG or PDF bytes. A PDF
embeds the subset of the font it uses (``pdf.fonttype`` 42) and its labels are text.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import shapely
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import OffsetFrom
from pyproj import Transformer

from gridplan.errors import InputError
from gridplan.grids.figures import band_status
from gridplan.i18n import LANGS, t
from gridplan.io.projection import WGS84, local_crs
from gridplan.norms import GRID_MAX_HOUSEHOLDS, GRID_MIN_HOUSEHOLDS, WALK_MINUTES
from gridplan.report.fonts import BUNDLED_FONT, cjk_font, missing_glyphs, truetype_text
from gridplan.report.fonts import check_text as _check_text
from gridplan.report.style import BOUNDARY_COLOUR, COVERED_COLOUR, STATUS_COLOURS, UNCOVERED_COLOUR

__all__ = [
    "BUNDLED_FONT",
    "NORTH_ARROW_GID",
    "cjk_font",
    "missing_glyphs",
    "plot_grids",
    "plot_coverage",
    "plot_households_histogram",
]

_DPI = 150
#: File metadata without the matplotlib version or a date, so that the bytes do not change with
#: upgrades or from one run to the next.
_METADATA = {
    "png": {"Software": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
}


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


def _scale_bar(ax, font: FontProperties, lang: str = "zh") -> None:
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
    if length >= 1000:
        label = t("fig_kilometres", lang, n=f"{length / 1000:g}")
    else:
        label = t("fig_metres", lang, n=f"{length:g}")
    ax.text(
        x + length / 2,
        y + 0.008 * (y1 - y0),
        label,
        ha="center",
        va="bottom",
        fontproperties=font,
        fontsize=8,
    )


#: ``Artist.get_gid`` of the north arrow and of its letter, so that readers of a figure find them.
NORTH_ARROW_GID = "north_arrow"


def _north_arrow(ax, crs, font: FontProperties, lang: str = "zh") -> None:
    """A north arrow beside the map's top-right corner, pointing to true north at the map's centre.

    Drawn by hand with ``Axes.annotate``: matplotlib has no north arrow, and the one small library
    that draws one (matplotlib-map-utils) is not worth a dependency for a single arrow.
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    # Grid north of a UTM zone is up to a few degrees off true north away from its central
    # meridian: take the direction of a step north from the centre.
    to_geo = Transformer.from_crs(crs, WGS84, always_xy=True)
    lon, lat = to_geo.transform(cx, cy)
    nx, ny = to_geo.transform(lon, min(lat + 0.01, 89.99), direction="INVERSE")
    ux, uy = np.array([nx - cx, ny - cy]) / np.hypot(nx - cx, ny - cy)
    # The axes' aspect is equal, so a direction in data units is the same on paper (in points).
    corner = OffsetFrom(ax, (1.0, 1.0), unit="points")
    base, length = np.array([14.0, -38.0]), 24.0
    arrow = ax.annotate(
        "",
        xy=tuple(base + length * np.array([ux, uy])),
        xycoords=corner,
        xytext=tuple(base),
        textcoords=corner,
        arrowprops=dict(arrowstyle="-|>,head_length=0.8,head_width=0.35", color="black", linewidth=1.6),
    )
    arrow.set_gid(NORTH_ARROW_GID)
    letter = ax.annotate(
        t("fig_north", lang),
        xy=tuple(base + (length + 8.0) * np.array([ux, uy])),
        xycoords=corner,
        ha="center",
        va="center",
        fontproperties=_sized(font, 9),
    )
    letter.set_gid(f"{NORTH_ARROW_GID}_label")


def _save(fig: Figure, path) -> Path:
    from gridplan.io.atomic import atomic_path

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in _METADATA:
        raise InputError(
            f"{path} is neither a .png nor a .pdf file",
            fix="name the figure *.png (image) or *.pdf (vector, for print)",
            message_zh="图片文件名应以 .png 或 .pdf 结尾",
        )
    # Type 42: the PDF embeds a subset of the font itself, not Type 3 glyph procedures (matplotlib's
    # default), which Acrobat does not count as embedded fonts and some print workflows refuse
    # (matplotlib issues 28521, 30568); the labels stay searchable text. The font must have
    # TrueType outlines for that (see gridplan.report.fonts.truetype_text).
    if fmt == "pdf":
        truetype_text(fig)
    with atomic_path(path) as tmp, matplotlib.rc_context({"pdf.fonttype": 42}):
        fig.savefig(tmp, format=fmt, dpi=_DPI, metadata=_METADATA[fmt], facecolor="white")
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
    title: str | None = None,
    labels: bool | None = None,
    min_households: int = GRID_MIN_HOUSEHOLDS,
    max_households: int = GRID_MAX_HOUSEHOLDS,
    font: FontProperties | None = None,
    lang: str = "zh",
) -> Figure:
    """Map of grids coloured by status (达标 / 户数偏少 / 户数偏多), with community boundaries,
    a legend, a scale bar and a north arrow.

    Parameters
    ----------
    grids : GeoDataFrame
        Grids with ``status`` (computed from ``households`` and the band when absent).
    path : path-like, optional
        Save the map here: ``.png`` (image) or ``.pdf`` (vector, labels as text).
    households : GeoDataFrame, optional
        Household points, drawn as small dots.
    communities : GeoDataFrame, optional
        Community boundaries, drawn dark.
    title : str, optional
        Map title; default ``网格划分（按户数状态）`` in ``lang``; ``""`` for none.
    labels : bool, optional
        Write each grid's number and households on it; default when there are at most 80 grids.
    min_households, max_households : int
        The band, for the legend and for a missing ``status``.
    font : FontProperties, optional
        The CJK font (default :func:`cjk_font`).
    lang : str
        Language of the title, legend, grid labels and scale bar: ``zh`` (default) or ``en``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if grids is None or len(grids) == 0:
        raise InputError("there are no grids to plot", message_zh="没有可绘制的网格")
    if lang not in LANGS:
        raise InputError(
            f"unknown figure language {lang!r}",
            fix=f"use one of {', '.join(LANGS)}",
            message_zh=f"不支持的图件语言 {lang!r}",
        )
    crs = local_crs(grids)
    g = _metric(grids, crs)
    if "status" not in g.columns:
        hh = g["households"]
        g["status"] = band_status(hh, min_households, max_households)
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
        unit = t("unit_households", lang)
        for (x, y), gid, hh in zip(zip(pts.x, pts.y), ids, g["households"]):
            text = f"{str(gid).rsplit('-', 1)[-1]}\n{int(hh)}{unit}"
            texts.append(text)
            ax.text(x, y, text, ha="center", va="center", fontsize=6, fontproperties=font)
    handles = _status_handles(g["status"], min_households, max_households, communities is not None, lang)
    _legend_below(ax, handles, font)
    title = t("fig_grids_title", lang) if title is None else title
    if title:
        ax.set_title(title, fontproperties=_sized(font, 13))
    _scale_bar(ax, font, lang)
    _north_arrow(ax, crs, font, lang)
    _check_text(texts + [h.get_label() for h in handles] + [title, t("fig_north", lang)], font)
    if path is not None:
        _save(fig, path)
    return fig


def _status_handles(status: pd.Series, lo: int, hi: int, boundaries: bool, lang: str) -> list:
    """Legend entries of the grid map: a swatch per status (in band, under, over, in this order)
    with its count of grids, and the community boundary line when it is drawn."""
    counts = status.value_counts()
    handles: list = [
        Patch(
            facecolor=STATUS_COLOURS[k],
            alpha=0.75,
            label=t(f"fig_legend_{k}", lang, lo=lo, hi=hi, n=counts.get(k, 0)),
        )
        for k in ("ok", "under", "over")
    ]
    if boundaries:
        handles.append(
            Line2D([], [], color=BOUNDARY_COLOUR, linewidth=1.4, label=t("fig_community_boundary", lang))
        )
    return handles


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
        Save the map here: ``.png`` or ``.pdf``.
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
    _north_arrow(ax, crs, font)
    _check_text(legend_text + [title, t("fig_north", "zh")], font)
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
        Save here: ``.png`` or ``.pdf``.
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
    inside = int((band_status(hh, min_households, max_households) == "ok").sum())
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

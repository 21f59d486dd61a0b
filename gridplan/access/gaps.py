"""Gaps in the service circle: clusters of uncovered households, drawn as polygons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.norms import GAP_BUFFER_M, GAP_EPS_M, GAP_MIN_HOUSEHOLDS

__all__ = ["gaps"]


def gaps(
    points_metric: gpd.GeoSeries,
    weights: np.ndarray,
    *,
    population: np.ndarray | None = None,
    off_network: np.ndarray | None = None,
    walk_min: np.ndarray | None = None,
    community_id: np.ndarray | None = None,
    eps_m: float = GAP_EPS_M,
    min_households: int = GAP_MIN_HOUSEHOLDS,
    buffer_m: float = GAP_BUFFER_M,
) -> gpd.GeoDataFrame:
    """Clusters of (uncovered) households as polygons, ranked by households.

    DBSCAN (scikit-learn) on metric coordinates with ``sample_weight`` = households, so a
    cluster's core needs ``min_households`` households within ``eps_m``; each cluster is drawn as
    the convex hull of its points buffered by ``buffer_m``.

    Parameters
    ----------
    points_metric : GeoSeries
        Household points in a metric CRS.
    weights : ndarray of int
        Households per point.

    Returns
    -------
    GeoDataFrame
        ``gap_id``, ``rank``, ``households``, ``population``, ``points``, ``off_network``,
        ``mean_walk_min``, ``community_id``, ``area_m2``, polygon in the points' CRS.
    """
    from sklearn.cluster import DBSCAN

    cols = [
        "gap_id",
        "rank",
        "households",
        "population",
        "points",
        "off_network",
        "mean_walk_min",
        "community_id",
        "area_m2",
    ]
    if len(points_metric) == 0:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=points_metric.crs)
    xy = shapely.get_coordinates(points_metric.values.to_numpy())
    labels = DBSCAN(eps=eps_m, min_samples=min_households).fit(xy, sample_weight=weights).labels_
    inc = labels >= 0
    if not inc.any():
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=points_metric.crs)
    lab = labels[inc]
    order = np.argsort(lab, kind="stable")
    hulls = shapely.convex_hull(shapely.multipoints(xy[inc][order], indices=lab[order]))
    polys = shapely.buffer(hulls, buffer_m, quad_segs=8)
    k = lab.max() + 1
    hh = np.bincount(lab, weights=weights[inc], minlength=k)
    df = pd.DataFrame(
        {"label": np.arange(k), "households": hh.astype(np.int64), "points": np.bincount(lab, minlength=k)}
    )
    df["population"] = (
        np.bincount(lab, weights=population[inc], minlength=k).round().astype(np.int64)
        if population is not None
        else None
    )
    df["off_network"] = (
        np.bincount(lab, weights=(weights * off_network)[inc], minlength=k).astype(np.int64)
        if off_network is not None
        else 0
    )
    if walk_min is not None:
        w = np.where(np.isfinite(walk_min), weights, 0.0)[inc]
        s = np.bincount(lab, weights=np.nan_to_num(walk_min[inc]) * w, minlength=k)
        ws = np.bincount(lab, weights=w, minlength=k)
        df["mean_walk_min"] = np.where(ws > 0, s / np.where(ws > 0, ws, 1), np.nan).round(2)
    else:
        df["mean_walk_min"] = np.nan
    if community_id is not None:
        cid = pd.DataFrame({"label": lab, "cid": community_id[inc], "w": weights[inc]})
        cid = cid[cid["cid"].notna()]
        top = (
            cid.groupby(["label", "cid"], sort=True)["w"]
            .sum()
            .reset_index()
            .sort_values(["label", "w", "cid"], ascending=[True, False, True], kind="stable")
            .drop_duplicates("label")
        )
        df["community_id"] = df["label"].map(dict(zip(top["label"], top["cid"])))
    else:
        df["community_id"] = None
    df["area_m2"] = shapely.area(polys).round(1)
    df = gpd.GeoDataFrame(df, geometry=polys, crs=points_metric.crs)
    df = df.sort_values(["households", "label"], ascending=[False, True], kind="stable")
    df["rank"] = np.arange(1, len(df) + 1)
    df["gap_id"] = [f"gap-{r:02d}" for r in df["rank"]]
    return df[cols + ["geometry"]].reset_index(drop=True)

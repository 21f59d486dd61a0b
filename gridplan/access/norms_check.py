"""Community centres and street centres against the floor-area and staffing norms."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from gridplan.access.summaries import _ids
from gridplan.norms import Norms

__all__ = ["standards_table", "street_centres"]


def standards_table(
    table: pd.DataFrame,
    fac: gpd.GeoDataFrame,
    fac_community: np.ndarray,
    communities: gpd.GeoDataFrame | None,
    norms: Norms,
) -> pd.DataFrame:
    """Per community: centres, floor area against the norm, grid and community workers needed.

    Parameters
    ----------
    table : DataFrame
        :func:`gridplan.access.summaries.household_table`.
    fac : GeoDataFrame
        Every facility (all kinds).
    fac_community : ndarray
        Community of each facility (``None`` when unknown).
    communities : GeoDataFrame, optional
        Communities listed even without households.
    norms : Norms

    Returns
    -------
    DataFrame
        One row per community, sorted by id; the floor area is unknown (NaN) when a centre of
        the community has no ``area_m2``.
    """
    ids = []
    names = {}
    if communities is not None and "community_id" in communities.columns:
        ids = [i for i in _ids(communities["community_id"]) if i is not None]
        if "name" in communities.columns:
            names = dict(zip(ids, communities["name"].astype(object)))
    if "community_id" in table.columns:
        ids = sorted(set(ids) | set(table["community_id"].dropna().astype(str)))
    else:
        ids = sorted(set(ids))
    cols = [
        "community_id",
        "name",
        "households",
        "population",
        "centres",
        "stations",
        "centre_area_m2",
        "m2_per_100_households",
        "norm_m2_per_100",
        "required_m2",
        "area_shortfall_m2",
        "meets_area_norm",
        "grids",
        "grid_workers_needed",
        "community_workers_needed",
        "share_covered",
    ]
    if not ids:
        return pd.DataFrame({c: [] for c in cols})
    out = pd.DataFrame({"community_id": ids})
    out["name"] = out["community_id"].map(names)
    if "community_id" in table.columns:
        g = table[table["community_id"].notna()].groupby("community_id", sort=True)
        hh = g["households"].sum()
        pop = g["population"].sum()
        cov = g["hh_covered"].sum()
        grids = g["grid_id"].nunique() if "grid_id" in table.columns else None
    else:
        hh = pop = cov = pd.Series(dtype=float)
        grids = None
    out["households"] = out["community_id"].map(hh).fillna(0).astype(np.int64)
    out["population"] = out["community_id"].map(pop).fillna(0).round().astype(np.int64)
    kinds = fac["kind"].to_numpy()
    area = (
        pd.to_numeric(fac["area_m2"], errors="coerce")
        if "area_m2" in fac.columns
        else pd.Series(np.nan, index=fac.index)
    )
    cc = pd.DataFrame({"cid": fac_community, "kind": kinds, "area": area.to_numpy()})
    cc = cc[cc["cid"].notna()]
    centres = cc[cc["kind"] == "community_centre"]
    n_centres = centres.groupby("cid")["area"].size()
    # area is unknown (NaN) when any centre of the community lacks it
    area_sum = centres.groupby("cid")["area"].sum(min_count=1)
    area_unknown = centres.groupby("cid")["area"].apply(lambda s: s.isna().any())
    out["centres"] = out["community_id"].map(n_centres).fillna(0).astype(np.int64)
    out["stations"] = (
        out["community_id"].map(cc[cc["kind"] == "station"].groupby("cid").size()).fillna(0).astype(np.int64)
    )
    a = out["community_id"].map(area_sum).astype(float)
    a = a.where(~out["community_id"].isin(area_unknown.index[area_unknown.to_numpy(bool)]))
    a = a.where(out["centres"] > 0, 0.0)
    out["centre_area_m2"] = a.round(1)
    hh_f = out["households"].astype(float)
    out["m2_per_100_households"] = (a / hh_f.where(hh_f > 0) * 100.0).round(2)
    out["norm_m2_per_100"] = norms.centre_m2_per_100_households
    out["required_m2"] = (hh_f / 100.0 * norms.centre_m2_per_100_households).round(1)
    out["area_shortfall_m2"] = (out["required_m2"] - a).clip(lower=0).round(1)
    out["meets_area_norm"] = pd.array(np.where(a.isna(), pd.NA, a >= out["required_m2"]), dtype="boolean")
    out["grids"] = out["community_id"].map(grids).fillna(0).astype(np.int64) if grids is not None else 0
    out["grid_workers_needed"] = out["grids"] * norms.grid_workers_per_grid
    out["community_workers_needed"] = np.ceil(
        out["population"] / 10000.0 * norms.community_workers_per_10k_residents
    ).astype(np.int64)
    out["share_covered"] = (out["community_id"].map(cov).fillna(0) / hh_f.where(hh_f > 0)).round(6)
    return out[cols]


def street_centres(facilities: gpd.GeoDataFrame, norms: Norms) -> list[dict]:
    """Each street centre's floor area against :attr:`~gridplan.norms.Norms.street_centre_min_m2`.

    Returns
    -------
    list of dict
        ``facility_id``, ``area_m2``, ``meets_norm`` (``None`` when the area is unknown),
        ``norm_m2``.
    """
    out = []
    sc = facilities[facilities["kind"] == "street_centre"]
    area = pd.to_numeric(sc.get("area_m2", pd.Series(np.nan, index=sc.index)), errors="coerce")
    for fid, a in zip(sc["facility_id"], area):
        out.append(
            {
                "facility_id": str(fid),
                "area_m2": None if pd.isna(a) else float(a),
                "meets_norm": None if pd.isna(a) else bool(a >= norms.street_centre_min_m2),
                "norm_m2": norms.street_centre_min_m2,
            }
        )
    return out

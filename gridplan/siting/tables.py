"""The outputs of a siting run: ranked sites, households after, coverage per level, report."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from gridplan.io.projection import to_wgs84
from gridplan.norms import Norms
from gridplan.siting.solution import _integral

__all__ = [
    "candidate_report",
    "coverage_after_table",
    "first_new_site",
    "households_after",
    "jsonable",
    "run_counts",
    "sites_table",
    "solver_report",
]


def first_new_site(
    A: sparse.csr_array, chosen: np.ndarray, demand_rows: np.ndarray, candidate_ids: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which households the chosen sites reach, and the first-ranked site reaching each.

    Parameters
    ----------
    A : sparse (demand rows x candidates)
    chosen : ndarray of int
        Chosen candidate columns, best first.
    demand_rows : ndarray of int
        Household row of each row of ``A``.
    candidate_ids : ndarray
        ``candidate_id`` of every candidate column.
    n : int
        Household rows.

    Returns
    -------
    (reached, new_site) : (ndarray of bool, ndarray of object)
        Per household row; ``new_site`` is ``None`` where no chosen site reaches it.
    """
    reached = np.zeros(n, dtype=bool)
    new_site = np.full(n, None, dtype=object)
    if chosen.size:
        sub = sparse.csc_array(A[:, chosen])
        hit_rows, hit_cols = sub.tocoo().coords
        order = np.lexsort((hit_cols, hit_rows))
        hit_rows, hit_cols = hit_rows[order], hit_cols[order]
        first = np.r_[True, hit_rows[1:] != hit_rows[:-1]] if hit_rows.size else np.zeros(0, bool)
        rows_hit = demand_rows[hit_rows[first]]
        reached[rows_hit] = True
        new_site[rows_hit] = candidate_ids[chosen[hit_cols[first]]]
    return reached, new_site


def households_after(households, eligible, is_demand, before, after, new_site) -> gpd.GeoDataFrame:
    """The input households (same rows and order) with the run's flags per household."""
    return households.assign(
        eligible=eligible,
        demand=is_demand,
        covered_before=before,
        covered_after=after,
        new_site=pd.array(new_site, dtype=object),
    )


def sites_table(
    cands: gpd.GeoDataFrame,
    chosen: np.ndarray,
    gains: np.ndarray,
    base_cov: float,
    eligible_total: int,
    kind: str,
    cand_area: np.ndarray,
    capacity: bool,
    norms: Norms,
) -> gpd.GeoDataFrame:
    """The recommended sites, best first, in EPSG:4326 (see :class:`~.api.SitingResult`)."""
    sel = cands.iloc[chosen]
    cum = base_cov + np.cumsum(gains)
    sites = gpd.GeoDataFrame(
        {
            "rank": np.arange(1, chosen.size + 1, dtype=np.int64),
            "candidate_id": sel["candidate_id"].to_numpy(dtype=object),
            "source": sel["source"].to_numpy(dtype=object),
            "name": sel["name"].to_numpy(dtype=object),
            "kind": kind,
            "households_gained": np.round(gains).astype(np.int64) if _integral(gains) else gains,
            "cumulative_households_covered": np.round(cum, 6),
            "cumulative_share_covered": np.round(cum / eligible_total, 6)
            if eligible_total
            else np.zeros(chosen.size),
            "area_m2": cand_area[chosen] if capacity else sel["area_m2"].to_numpy(dtype=float),
            "capacity_households": np.floor([norms.centre_households_capacity(a) for a in cand_area[chosen]])
            if capacity
            else np.full(chosen.size, np.nan),
        },
        geometry=sel.geometry.values,
        crs=cands.crs,
    )
    return to_wgs84(sites)


def coverage_after_table(
    weights, eligible, before, after, comm, grid_id, capacity, base_cov, total_after
) -> pd.DataFrame:
    """Per ``level`` (all, community, grid) and ``id``: households covered before and after.

    Counted over the eligible households. Capacitated runs have the ``all`` row only: there
    "covered" is households served within capacity, not a per-household flag.
    """
    rows = []
    frame = pd.DataFrame(
        {"h": weights * eligible, "b": weights * (eligible & before), "a": weights * (eligible & after)}
    )
    if capacity:
        rows.append(
            {
                "level": "all",
                "id": "all",
                "households": int(frame["h"].sum()),
                "households_covered_before": int(base_cov),
                "households_covered_after": round(total_after),
            }
        )
    else:
        rows.append(
            {
                "level": "all",
                "id": "all",
                "households": int(frame["h"].sum()),
                "households_covered_before": int(frame["b"].sum()),
                "households_covered_after": int(frame["a"].sum()),
            }
        )
        for level, key in (("community", comm), ("grid", grid_id)):
            if key is None:
                continue
            g = frame.assign(k=key).dropna(subset=["k"]).groupby("k", sort=True).sum()
            g = g[g["h"] > 0]
            for ident, r in g.iterrows():
                rows.append(
                    {
                        "level": level,
                        "id": str(ident),
                        "households": int(r["h"]),
                        "households_covered_before": int(r["b"]),
                        "households_covered_after": int(r["a"]),
                    }
                )
    out = pd.DataFrame(
        rows, columns=["level", "id", "households", "households_covered_before", "households_covered_after"]
    )
    h = out["households"].where(out["households"] > 0)
    out["share_before"] = (out["households_covered_before"] / h).round(6).fillna(0.0)
    out["share_after"] = (out["households_covered_after"] / h).round(6).fillna(0.0)
    return out


def jsonable(obj):
    """``obj`` with numpy scalars as Python ones and non-finite floats as ``None``."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if not math.isfinite(v) else v
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def run_counts(weights, eligible, off, is_demand, base_cov, total_after, eligible_total) -> dict:
    """The household counts of the run report, in report order."""
    return {
        "households_total": int(weights.sum()),
        "households_eligible": eligible_total,
        "households_off_network": int(weights[off].sum()),
        "households_demand": int(weights[is_demand].sum()),
        "households_covered_before": int(base_cov),
        "households_covered_after": round(total_after),
        "share_before": round(base_cov / eligible_total, 6) if eligible_total else 0.0,
        "share_after": round(total_after / eligible_total, 6) if eligible_total else 0.0,
    }


def candidate_report(cands, cand_off, spacing_m) -> dict:
    """How many candidates of each source, which are off the network, the lattice spacing."""
    return {
        "network_node": int((cands["source"] == "network_node").sum()),
        "user": int((cands["source"] == "user").sum()),
        "off_network": [str(x) for x in cands["candidate_id"][cand_off]],
        "spacing_m": float(spacing_m),
    }


def solver_report(sol, add, chosen, times, extra) -> dict:
    """The solver's part of the run report: sizes, objective, bound, gap, times."""
    solved = sol.as_dict()
    return {
        "sites": int(chosen.size),
        "note": (
            f"only {chosen.size} new site(s) add coverage; more would gain nothing"
            if add is not None and chosen.size < add
            else None
        ),
        **{k: v for k, v in solved.items() if k != "times_s"},
        "times_s": {
            **{k: round(v, 3) for k, v in times.items()},
            **{f"solver_{k}": v for k, v in solved["times_s"].items()},
        },
        **extra,
        "gap_note": "gap = (bound - objective) / bound, bound proven by the LP relaxation, the "
        "MILP dual bound or greedy submodularity; 'optimal' only when gap is 0",
        "objective_meaning": "number of new sites" if add is None else "households gained over the baseline",
    }

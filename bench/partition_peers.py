"""gridplan's balanced partition against its peers, on one region of random points.

2,000 and 10,000 random points carrying 10-120 households each in a 2 km square (seed 0); units
are their Voronoi cells, adjacency = shared cell boundary (the Delaunay graph clipped to the
square). Every method gets the same graph and weights and is timed on the partition alone:

- gridplan (core): gridplan.grids.search.plan_graph (METIS start + bounded repair + compactness)
- gridplan (end-to-end): gridplan.grids.api() from the household points (cells, graph, grids)
- pymetis: contiguous k-way, ufactor 100, k = round(H / 400)
- spopt MaxPHeuristic: floor 300 households (2,000 points only)
- k-means-constrained: k = round(H / 400), 5-7 points per cluster (2,000 points only)

Prints one table: wall time, grids, share of grids with 300-500 households, min and max households,
contiguity (every grid connected in the graph), mean Polsby-Popper.

Run: .venv/bin/python bench/partition_peers.py
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pymetis
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generators.region import random_region  # noqa: E402

from gridplan.geometry.adjacency import shared_boundaries  # noqa: E402
from gridplan.grids.api import partition  # noqa: E402
from gridplan.grids.search import Graph, plan_graph  # noqa: E402

LO, HI = 300, 500


def metrics(labels, w, adj, area, perim):
    labels = np.asarray(labels)
    k = labels.max() + 1
    hh = np.bincount(labels, weights=w, minlength=k)
    coo = adj.tocoo()
    same = labels[coo.row] == labels[coo.col]
    sub = sparse.csr_matrix((np.ones(same.sum()), (coo.row[same], coo.col[same])), shape=adj.shape)
    ncomp = connected_components(sub, directed=False)[0]
    contiguous = ncomp == len(np.unique(labels))
    a = np.bincount(labels, weights=area, minlength=k)
    internal = np.bincount(labels[coo.row[same]], weights=coo.data[same], minlength=k)
    p = np.bincount(labels, weights=perim, minlength=k) - internal  # each shared edge seen twice
    pp = 4 * math.pi * a / p**2
    used = hh > 0
    return {
        "grids": int(used.sum()),
        "in_band": float(((hh >= LO) & (hh <= HI))[used].mean()),
        "min": int(hh[used].min()),
        "max": int(hh[used].max()),
        "contiguous": bool(contiguous),
        "pp": float(pp[used].mean()),
    }


def row(name, n, seconds, m):
    if m is None:
        print(f"{name:<28}{n:>7}  {'not available':>10}")
        return
    print(
        f"{name:<28}{n:>7}{seconds:>10.2f}{m['grids']:>7}{m['in_band']:>9.1%}{m['min']:>6}"
        f"{m['max']:>6}{'yes' if m['contiguous'] else 'NO':>6}{m['pp']:>8.3f}"
    )


def main() -> None:
    print(
        f"{'method':<28}{'points':>7}{'time s':>10}{'grids':>7}{'in band':>9}{'min':>6}{'max':>6}"
        f"{'cont':>6}{'PP':>8}"
    )
    for n in (2000, 10000):
        pts, cells, square = random_region(n, seed=0)
        geoms = cells.geometry.values
        i, j, ln = shared_boundaries(geoms)
        adj = sparse.csr_matrix((np.r_[ln, ln], (np.r_[i, j], np.r_[j, i])), shape=(n, n))
        w = pts["households"].to_numpy()
        area, perim = shapely.area(geoms), shapely.length(geoms)
        total = int(w.sum())
        k = round(total / 400)

        t = time.perf_counter()
        labels, _ = plan_graph(Graph(w, adj, area, perim), LO, HI, seed=0)
        row("gridplan (core)", n, time.perf_counter() - t, metrics(labels, w, adj, area, perim))

        comm = gpd.GeoDataFrame({"community_id": ["R"], "name": ["region"]}, geometry=[square], crs=pts.crs)
        t = time.perf_counter()
        res = partition(pts, comm, n_jobs=1)
        secs = time.perf_counter() - t
        gh = res.grids["households"].to_numpy()
        print(
            f"{'gridplan (end-to-end)':<28}{n:>7}{secs:>10.2f}{len(gh):>7}"
            f"{((gh >= LO) & (gh <= HI)).mean():>9.1%}{gh.min():>6}{gh.max():>6}"
            f"{'yes' if (res.grids.geom_type == 'Polygon').all() else 'NO':>6}"
            f"{res.grids['compactness'].mean():>8.3f}"
        )

        t = time.perf_counter()
        ew = np.maximum(np.ceil(adj.data), 1).astype(np.int64)
        _, parts = pymetis.part_graph(
            k,
            pymetis.CSRAdjacency(adj.indptr, adj.indices),
            vweights=w,
            eweights=ew,
            options=pymetis.Options(contig=1, seed=0, ufactor=100),
        )
        row(
            "pymetis (contig, uf 100)",
            n,
            time.perf_counter() - t,
            metrics(np.asarray(parts), w, adj, area, perim),
        )

        if n > 2000:
            continue
        try:
            from libpysal.weights import W
            from spopt.region import MaxPHeuristic

            nb = {a: adj.indices[adj.indptr[a] : adj.indptr[a + 1]].tolist() for a in range(n)}
            gdf = gpd.GeoDataFrame({"households": w.astype(float)}, geometry=geoms, crs=pts.crs)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wts = W(nb, silence_warnings=True)
                t = time.perf_counter()
                model = MaxPHeuristic(
                    gdf, wts, ["households"], "households", LO, top_n=2, max_iterations_construction=10
                )
                np.random.seed(0)
                model.solve()
            secs = time.perf_counter() - t
            lab = np.asarray(model.labels_)
            lab = np.unique(lab, return_inverse=True)[1]
            row("spopt MaxPHeuristic (300)", n, secs, metrics(lab, w, adj, area, perim))
        except ImportError:
            row("spopt MaxPHeuristic (300)", n, 0, None)
        try:
            from k_means_constrained import KMeansConstrained

            xy = shapely.get_coordinates(pts.geometry.values)
            mean = w.mean()
            t = time.perf_counter()
            km = KMeansConstrained(
                n_clusters=k,
                size_min=math.ceil(LO / mean),
                size_max=math.floor(HI / mean),
                random_state=0,
                n_init=1,
            )
            lab = km.fit_predict(xy - xy.mean(0))
            row("k-means-constrained", n, time.perf_counter() - t, metrics(lab, w, adj, area, perim))
        except ImportError:
            row("k-means-constrained", n, 0, None)


if __name__ == "__main__":
    main()

"""How fast the planner's app answers: an edit on a 10,000-household community, and opening the
sample district.

Measures, on one machine, the library work behind one interaction in the app:
- edit: ``Plan.move_unit`` / ``split_grid`` / ``merge_grids`` (re-computing the touched grids'
  polygons, households, status, compactness) + the plan's figures + building the folium map with
  the selected grid's units and rendering it to the HTML/JS string that streamlit-folium sends;
- open: loading the sample, the first partition, the Plan and the first map (what the first
  session pays; later sessions reuse the cached sample and partition).

The 10,000-household community is the sample district's first communities merged into one
(``gridplan.datasets.sample``), so the figure uses real partition units and cells.

Usage: ``python bench/app_latency.py [--moves 20]``; prints one line per figure.
"""

from __future__ import annotations

import argparse
import statistics
import time

import geopandas as gpd
import numpy as np


def _big_community(sample: dict, target: int = 10_000):
    comm = sample["communities"]
    hh = sample["households"]
    joined = gpd.sjoin(hh, comm[["community_id", "geometry"]], predicate="within", how="left")
    per = joined.groupby("community_id")["households"].sum()
    chosen, total = [], 0
    # grow a connected set of communities from the first one until it holds `target` households
    metric = comm.to_crs(comm.estimate_utm_crs())
    chosen.append(comm["community_id"].iloc[0])
    total = per.get(chosen[0], 0)
    while total < target:
        union = metric[metric["community_id"].isin(chosen)].union_all()
        touching = metric[
            ~metric["community_id"].isin(chosen) & metric.geometry.intersects(union.buffer(1.0))
        ]
        nxt = touching.sort_values("community_id")["community_id"].iloc[0]
        chosen.append(nxt)
        total += per.get(nxt, 0)
    merged = comm[comm["community_id"].isin(chosen)].dissolve()
    merged = gpd.GeoDataFrame(
        {
            "community_id": ["BIG"],
            "name": ["合并社区"],
            "street_id": [comm["street_id"].iloc[0]],
            "street_name": [comm["street_name"].iloc[0]],
        },
        geometry=[merged.geometry.iloc[0]],
        crs=comm.crs,
    )
    inside = joined["community_id"].isin(chosen).to_numpy()
    return hh[inside].reset_index(drop=True), merged


def _render(plan, selected, unit=None):
    from gridplan.app.webmap import plan_map

    fmap = plan_map(plan.grids, units=plan.units, selected_grid=selected, selected_unit=unit, tiles=None)
    return len(fmap.get_root().render())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=20)
    args = ap.parse_args(argv)

    from gridplan.app.webmap import plan_map
    from gridplan.datasets.sample import load_sample
    from gridplan.grids.api import partition
    from gridplan.plan.model import Plan

    # --- opening the sample (first session, in-process, no browser)
    t0 = time.perf_counter()
    s = load_sample()
    t1 = time.perf_counter()
    r = partition(
        s["households"],
        s["communities"],
        buildings=s["buildings"],
        estates=s["estates"],
        barriers=s["barriers"],
        n_jobs=1,
    )
    t2 = time.perf_counter()
    plan = Plan.from_partition(r, s["households"], s["communities"])
    t3 = time.perf_counter()
    html = plan_map(plan.grids, tiles=None).get_root().render()
    t4 = time.perf_counter()
    print(
        f"sample open (first session): load {t1 - t0:.2f} s + partition {t2 - t1:.2f} s + "
        f"plan {t3 - t2:.2f} s + map {t4 - t3:.2f} s = {t4 - t0:.2f} s "
        f"({len(plan.grids)} grids, {int(plan.grids['households'].sum()):,} households, "
        f"map {len(html) / 1e6:.2f} MB)"
    )
    t5 = time.perf_counter()
    plan2 = Plan.from_partition(r, s["households"], s["communities"])
    plan_map(plan2.grids, tiles=None).get_root().render()
    print(f"sample open (later sessions, sample and partition cached): {time.perf_counter() - t5:.2f} s")

    # --- a community of >= 10,000 households
    hh, comm = _big_community(s)
    t = time.perf_counter()
    rb = partition(hh, comm, buildings=s["buildings"], estates=s["estates"], barriers=s["barriers"], n_jobs=1)
    # as the app builds it: with the barriers, so every edit re-checks barrier crossings
    big = Plan.from_partition(rb, hh, comm, barriers=s["barriers"])
    print(
        f"community of {int(hh['households'].sum()):,} households: {len(big.grids)} grids, "
        f"{len(big.units)} units (partition + plan {time.perf_counter() - t:.2f} s)"
    )

    _edits(big, args.moves, "estates as units (the sample as it is)")
    # micro-grids of at most 100 households, regenerated for the grids every edit touches
    t = time.perf_counter()
    rm = partition(
        hh,
        comm,
        buildings=s["buildings"],
        estates=s["estates"],
        barriers=s["barriers"],
        micro_max=100,
        n_jobs=1,
    )
    micro = Plan.from_partition(
        rm, hh, comm, buildings=s["buildings"], estates=s["estates"], barriers=s["barriers"], micro_max=100
    )
    print(
        f"same community with micro-grids (micro_max 100): {len(micro.micro_grids)} micro-grids "
        f"(partition + plan {time.perf_counter() - t:.2f} s)"
    )
    _edits(micro, max(5, args.moves // 2), "estates as units, micro-grids regenerated per edit")
    # one point per household and no estates: every building is a unit (many more units)
    pts = hh.loc[hh.index.repeat(hh["households"])].reset_index(drop=True)
    rng = np.random.default_rng(1)
    xy = pts.to_crs(comm.estimate_utm_crs()).geometry
    moved = gpd.GeoSeries(
        gpd.points_from_xy(xy.x + rng.normal(0, 3, len(xy)), xy.y + rng.normal(0, 3, len(xy))), crs=xy.crs
    )
    pts = gpd.GeoDataFrame(
        pts.drop(columns=["geometry", "estate_id"]).assign(households=1),
        geometry=moved.to_crs(4326).values,
        crs=4326,
    )
    t = time.perf_counter()
    rb = partition(pts, comm, n_jobs=1)
    fine = Plan.from_partition(rb, pts, comm)
    print(
        f"community of {len(pts):,} household points, buildings as units: {len(fine.grids)} "
        f"grids, {len(fine.units)} units (partition + plan {time.perf_counter() - t:.2f} s)"
    )
    _edits(fine, args.moves, "buildings as units, one point per household")
    _app_rerun()
    return 0


def _app_rerun() -> None:
    """The whole Streamlit script run after a move click (AppTest, no browser)."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=300)
    a = time.perf_counter()
    at.run()
    first = time.perf_counter() - a
    plan = at.session_state["plan"]
    times = []
    for uid in plan.units["unit_id"]:
        if len(times) >= 5:
            break
        targets = plan.unit_neighbour_grids(uid)
        if not targets:
            continue
        try:
            plan.move_unit(uid, targets[0])
        except Exception:
            continue
        plan.undo()
        gid = plan.units.set_index("unit_id").at[uid, "grid_id"]
        at.selectbox(key="sel_grid_box").set_value(gid).run()
        at.selectbox(key="sel_unit_box").set_value(uid).run()
        a = time.perf_counter()
        at.button(key="btn_move").click().run()
        times.append(time.perf_counter() - a)
        assert not at.exception
    print(
        f"app (AppTest) first run on the sample: {first:.2f} s; script rerun after a move click: "
        f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
        f"({len(times)} moves, 77-grid district, whole page incl. tables)"
    )
    # the export page: showing it builds nothing; each file is built by its own button, once per
    # plan version
    at.sidebar.radio(key="step__zh").set_value("export").run()
    shown = at.session_state["last_render_s"]
    builds = {}
    for key in (
        "export_grids_geojson",
        "export_grids_gpkg",
        "export_households",
        "export_excel",
        "export_csv",
        "save_plan",
    ):
        a = time.perf_counter()
        at.button(key=f"btn_prepare_{key}").click().run()
        builds[key] = time.perf_counter() - a
        assert not at.exception
    a = time.perf_counter()
    at.run()
    again = time.perf_counter() - a
    print(
        f"export page: shown in {shown * 1000:.0f} ms (page script); building each file "
        "(whole rerun): "
        + ", ".join(f"{k.replace('export_', '')} {v:.2f} s" for k, v in builds.items())
        + f"; shown again with all files cached: {again:.2f} s"
    )


def _edits(big, moves: int, label: str) -> None:
    print(f"-- {label}")
    rng = np.random.default_rng(0)
    edit_s, total_s = [], []
    done = 0
    units = big.units_metric["unit_id"].tolist()
    for uid in rng.permutation(units):
        if done >= moves:
            break
        targets = big.unit_neighbour_grids(uid)
        if not targets:
            continue
        a = time.perf_counter()
        try:
            big.move_unit(uid, targets[0])
        except Exception:  # refused moves (would cut a grid) are not timed
            continue
        b = time.perf_counter()
        _ = big.grids, big.report
        _render(big, targets[0], uid)
        c = time.perf_counter()
        edit_s.append(b - a)
        total_s.append(c - a)
        done += 1
    gid = big.grids.sort_values("households")["grid_id"].iloc[-1]
    a = time.perf_counter()
    new = big.split_grid(gid)
    _ = big.grids, big.report
    _render(big, gid)
    split_s = time.perf_counter() - a
    a = time.perf_counter()
    big.merge_grids(*new)
    _ = big.grids, big.report
    _render(big, gid)
    merge_s = time.perf_counter() - a
    a = time.perf_counter()
    big.undo()
    _ = big.grids
    undo_s = time.perf_counter() - a

    def fmt(x):
        return f"median {statistics.median(x) * 1000:.0f} ms, max {max(x) * 1000:.0f} ms"

    print(f"move_unit alone ({len(edit_s)} moves): {fmt(edit_s)}")
    print(f"move_unit + figures + map rebuild and render: {fmt(total_s)}")
    print(
        f"split_grid + figures + map: {split_s * 1000:.0f} ms; merge_grids + figures + map: "
        f"{merge_s * 1000:.0f} ms; undo: {undo_s * 1000:.0f} ms"
    )
    print(f"check() after the edits: {big.check() or 'sound'}")
    print(
        "target: an edit updates map and figures within 1 s -> "
        + ("met" if max(total_s + [split_s, merge_s]) < 1.0 else "NOT met")
    )


if __name__ == "__main__":
    raise SystemExit(main())

"""The bundled sample district: a synthetic but realistic Chinese street (街道) of about 4 km².

A deterministic generator (numpy ``Generator`` seeded by ``seed``) of roads with jitter and curves,
a river, about ten communities (社区) made of whole blocks, about sixty walled estates (小区) with
gates, walk-ups, towers and an old town, a walking network noded at its intersections, party-mass
service centres (党群服务中心) and stations (党群服务站). It deliberately contains the hard cases
gridplan must handle; ``data/README.md`` lists them and ``tests/test_sample.py`` checks each one.

>>> from gridplan.datasets.sample import make_sample
>>> layers = make_sample(seed=0)                     # doctest: +SKIP
>>> layers["households"]["households"].sum()         # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from gridplan.datasets.fill import block_frame, fill_blocks, rectangles
from gridplan.datasets.layout import ARTERIAL_H, ARTERIAL_V, HEIGHT, RIVER_NAME, WIDTH, build_layout
from gridplan.datasets.services import PUSHES, place_centres
from gridplan.datasets.streets import assemble, base_lines, walk_from
from gridplan.errors import InputError
from gridplan.io.atomic import atomic_outputs
from gridplan.io.files import write_geojson_file
from gridplan.io.projection import WGS84
from gridplan.norms import walk_metres

__all__ = ["make_sample", "write_sample", "load_sample", "LAYERS", "SAMPLE_FILES", "summarize"]

#: Centre of the district (WGS-84): Wuchang, Wuhan, south of the old city wall line.
CENTRE_LON, CENTRE_LAT = 114.312, 30.546
#: The road grid is turned by this many degrees (counter-clockwise), like the real city grid.
ROTATION_DEG = 14.0
#: Local metric CRS of the generator: UTM zone 50N.
UTM = CRS.from_epsg(32650)

STREET_ID = "420106001"
STREET_NAME = "紫阳街道"
#: Community names; ids are STREET_ID + a three-digit serial, in north-to-south, west-to-east order
#: (the 12-digit pattern of the national statistical division codes, 统计用区划代码; fictional).
COMMUNITY_NAMES = [
    "紫阳",
    "彭刘杨",
    "首义",
    "复兴",
    "大成",
    "长湖",
    "起义门",
    "楚望台",
    "白鹭",
    "涵三宫",
    "积玉",
    "书院",
]
#: Persons per household by building kind (old town households are smaller and older).
HOUSEHOLD_SIZE = {"walkup": 2.6, "tower": 2.8, "lowrise": 2.3}
KIND_ZH = {"walkup": "多层住宅", "tower": "高层住宅", "lowrise": "低层住宅"}
#: The far cluster: at least this many households beyond FAR_MARGIN x the 15-minute walk.
FAR_MIN_HOUSEHOLDS = 500
FAR_MARGIN = 1.1
MEGA_TOWER = {"levels": 45, "per_floor": 12, "w": 46.0, "d": 30.0}

#: Layer -> file under the data folder, in writing order.
SAMPLE_FILES = {
    "street": "boundaries/street.geojson",
    "communities": "boundaries/communities.geojson",
    "estates": "estates/estates.geojson",
    "gates": "estates/gates.geojson",
    "buildings": "buildings/buildings.geojson",
    "households": "households/households.geojson",
    "facilities": "facilities/facilities.geojson",
    "network": "network/walk.geojson",
    "barriers": "barriers/barriers.geojson",
}
LAYERS = tuple(SAMPLE_FILES)
#: Each layer's id column; files are sorted by it.
_SORT = {
    "street": "street_id",
    "communities": "community_id",
    "estates": "estate_id",
    "gates": "gate_id",
    "buildings": "building_id",
    "households": "building_id",
    "facilities": "facility_id",
    "network": "edge_id",
    "barriers": "barrier_id",
}


def make_sample(seed: int = 0) -> dict[str, gpd.GeoDataFrame]:
    """Generate the sample district in memory.

    Parameters
    ----------
    seed : int, default 0
        Seed of the random generator; the same seed gives the same district, byte for byte.

    Returns
    -------
    dict of str to GeoDataFrame
        Keys ``street, communities, estates, gates, buildings, households, facilities, network,
        barriers``; every frame in EPSG:4326 with the data-contract columns, sorted by its id.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(
            f"seed must be a non-negative integer, not {seed!r}",
            fix="pass --seed 0 (the committed sample) or another whole number >= 0",
            message_zh=f"随机种子必须是非负整数，而不是 {seed!r}",
            fix_zh="使用 --seed 0（随附的示例数据）或其他非负整数",
        )
    rng = np.random.default_rng(seed)
    layout = build_layout(rng)
    base = base_lines(layout)
    gate_targets = base.geometry.values[base["highway"].to_numpy() != "primary"]
    fill = fill_blocks(rng, layout, gate_targets)
    _mega_tower(layout, fill)
    paths = gpd.GeoDataFrame(fill.paths, geometry="geometry")
    paths["footway"] = None
    paths["bridge"] = False
    network = assemble(pd.concat([base, paths], ignore_index=True), layout.street, layout.river)

    blocks = layout.blocks
    comm_polys = np.array(
        [
            shapely.unary_union(blocks.geometry.values[blocks["community"].to_numpy() == c])
            for c in range(layout.n_communities)
        ]
    )
    rp = shapely.get_coordinates(shapely.point_on_surface(comm_polys))
    order = np.lexsort((np.round(rp[:, 0]), -np.round(rp[:, 1], -2)))
    rank = np.empty(len(order), int)
    rank[order] = np.arange(len(order))
    comm_ids = np.array([f"{STREET_ID}{r + 1:03d}" for r in rank])
    names = np.array([COMMUNITY_NAMES[r] + "社区" for r in rank])

    # Estates and buildings with their community.
    est_geom = np.array([e["geometry"] for e in fill.estates])
    est_comm = blocks["community"].to_numpy()[[e["block"] for e in fill.estates]]
    b_geom = np.array([b["geometry"] for b in fill.buildings])
    b_est = np.array([-1 if b["estate"] is None else b["estate"] for b in fill.buildings])
    inp, blk = shapely.STRtree(blocks.geometry.values).query(shapely.centroid(b_geom), predicate="within")
    b_block = np.full(len(b_geom), -1)
    b_block[inp] = blk
    b_comm = blocks["community"].to_numpy()[b_block]
    b_hh = np.array([b["households"] for b in fill.buildings])
    comm_hh = np.bincount(b_comm, weights=b_hh, minlength=layout.n_communities)

    # The far community: the corner community (not the small one) farthest from the street centre.
    sc = np.array(layout.street.centroid.coords[0])
    cc = shapely.get_coordinates(shapely.centroid(comm_polys))
    dist = np.hypot(*(cc - sc).T)
    dist[blocks.loc[layout.small_block, "community"]] = -1
    far = int(np.argmax(dist))
    # Move the far community's neighbours' centres away until a real cluster is out of reach
    # (with a 10 % margin, so that any sensible snapping still finds it beyond 15 minutes).
    walls = shapely.unary_union(est_geom)
    hh_xy = shapely.get_coordinates(shapely.centroid(b_geom))
    for push in PUSHES:
        centres = place_centres(layout, comm_polys, comm_hh, far, walls, push=push)
        walk = walk_from(network, np.array([c["xy"] for c in centres]), hh_xy)
        if b_hh[walk > FAR_MARGIN * walk_metres()].sum() >= FAR_MIN_HOUSEHOLDS:
            break
    stations = _stations(rng, fill, est_geom, est_comm, far)

    frames = _frames(
        layout,
        fill,
        network,
        comm_polys,
        comm_ids,
        names,
        est_geom,
        est_comm,
        b_geom,
        b_est,
        b_comm,
        centres,
        stations,
    )
    return frames


def _mega_tower(layout, fill) -> None:
    """Make one tower a 45-storey, 12-households-a-floor block (540 households in one building)."""
    towers = [i for i, b in enumerate(fill.buildings) if b["kind"] == "tower" and b["estate"] is not None]
    if not towers:
        return
    blocks = layout.blocks
    # Tower estates with the most towers first; in each, the most central tower that has room.
    counts = pd.Series([fill.buildings[i]["estate"] for i in towers]).value_counts(sort=False)
    for est in sorted(counts.index, key=lambda e: (-counts[e], e)):
        e = fill.estates[est]
        u, v = block_frame(blocks.geometry.values[e["block"]])
        mine = [i for i in towers if fill.buildings[i]["estate"] == est]
        c = shapely.Point(e["geometry"].centroid)
        allowed = e["geometry"].buffer(-8.0)
        others = shapely.unary_union([b["geometry"] for b in fill.buildings if b["estate"] == est])
        for i in sorted(mine, key=lambda i: (fill.buildings[i]["geometry"].centroid.distance(c), i)):
            old = fill.buildings[i]["geometry"]
            x, y = old.centroid.coords[0]
            big = rectangles([x], [y], [MEGA_TOWER["w"]], [MEGA_TOWER["d"]], u, v)[0]
            rest = shapely.difference(others, old.buffer(0.01))
            if big.within(allowed) and big.distance(rest) > 12.0:
                fill.buildings[i].update(
                    geometry=big,
                    levels=MEGA_TOWER["levels"],
                    households=MEGA_TOWER["levels"] * MEGA_TOWER["per_floor"],
                )
                return


def _stations(rng, fill, est_geom, est_comm, far) -> list[dict]:
    """Five stations (党群服务站) in estates' property buildings; one in the far community."""
    areas = np.array([g.area for g in est_geom])
    in_far = np.flatnonzero(est_comm == far)
    picks = [int(in_far[np.argmax(areas[in_far])])] if len(in_far) else []
    rest = [i for i in rng.permutation(len(est_geom)) if est_comm[i] != far]
    seen_comm = {int(est_comm[p]) for p in picks}
    for i in rest:
        if len(picks) >= 5:
            break
        if int(est_comm[i]) not in seen_comm:
            picks.append(int(i))
            seen_comm.add(int(est_comm[i]))
    out = []
    for i in picks:
        g = shapely.get_coordinates(est_geom[i].buffer(-6.0).exterior.interpolate(0.25, normalized=True))[0]
        out.append(
            {
                "kind": "station",
                "community": int(est_comm[i]),
                "xy": g,
                "area_m2": float(rng.choice([60, 80, 100, 120, 150])),
                "estate": i,
            }
        )
    return out


def _to_wgs84(geoms: np.ndarray) -> np.ndarray:
    """Local frame -> rotated -> UTM 50N -> WGS-84, vectorised over coordinates."""
    to_utm = Transformer.from_crs(WGS84, UTM, always_xy=True)
    ox, oy = to_utm.transform(CENTRE_LON, CENTRE_LAT)
    back = Transformer.from_crs(UTM, WGS84, always_xy=True)
    t = np.radians(ROTATION_DEG)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])

    def f(xy):
        xy = (xy - [WIDTH / 2, HEIGHT / 2]) @ rot.T + [ox, oy]
        lon, lat = back.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms, dtype=object), f)


def _gdf(data: dict, geoms, sort: str) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(data, geometry=_to_wgs84(geoms), crs=WGS84)
    return gdf.sort_values(sort, kind="stable").reset_index(drop=True)


def _frames(
    layout,
    fill,
    network,
    comm_polys,
    comm_ids,
    names,
    est_geom,
    est_comm,
    b_geom,
    b_est,
    b_comm,
    centres,
    stations,
) -> dict[str, gpd.GeoDataFrame]:
    out = {}
    out["street"] = _gdf(
        {"street_id": [STREET_ID], "name": [STREET_NAME], "street_name": [STREET_NAME]},
        [layout.street],
        "street_id",
    )
    out["communities"] = _gdf(
        {"community_id": comm_ids, "name": names, "street_id": STREET_ID, "street_name": STREET_NAME},
        comm_polys,
        "community_id",
    )
    est_id = _estate_frames(out, fill, comm_ids, est_geom, est_comm)
    _building_frames(out, layout, fill, comm_ids, est_id, b_geom, b_est, b_comm)
    out["facilities"] = _facility_frame(fill, comm_ids, names, centres, stations)
    net = network.copy()
    net["edge_id"] = np.arange(1, len(net) + 1, dtype="int64")
    out["network"] = _gdf(
        {
            "edge_id": net["edge_id"],
            "highway": net["highway"],
            "name": pd.array(net["name"], dtype="string"),
            "footway": pd.array(net["footway"], dtype="string"),
            "bridge": net["bridge"].astype(bool),
        },
        net.geometry.values,
        "edge_id",
    )

    out["barriers"] = _barrier_frame(layout)
    return out


def _estate_frames(out, fill, comm_ids, est_geom, est_comm) -> np.ndarray:
    # Estates: ids in community order, then north to south, west to east.
    ep = shapely.get_coordinates(shapely.point_on_surface(est_geom))
    e_order = np.lexsort((np.round(ep[:, 0]), -np.round(ep[:, 1], -1), comm_ids[est_comm]))
    est_id = np.empty(len(est_geom), object)
    est_id[e_order] = [f"XQ{i + 1:03d}" for i in range(len(e_order))]
    out["estates"] = _gdf(
        {
            "estate_id": est_id,
            "name": [e["name"] for e in fill.estates],
            "community_id": comm_ids[est_comm],
            "n_gates": [int(e.get("n_gates", 0)) for e in fill.estates],
        },
        est_geom,
        "estate_id",
    )
    g_est = np.array([g["estate"] for g in fill.gates])
    g_seq = np.array([g["seq"] for g in fill.gates])
    out["gates"] = _gdf(
        {
            "gate_id": [f"{est_id[e]}-G{s + 1}" for e, s in zip(g_est, g_seq)],
            "estate_id": est_id[g_est],
            "name": [g["name"] for g in fill.gates],
        },
        [g["geometry"] for g in fill.gates],
        "gate_id",
    )

    return est_id


def _building_frames(out, layout, fill, comm_ids, est_id, b_geom, b_est, b_comm) -> None:
    # Buildings: ids in community, estate (loose last), north-to-south order.
    bp = shapely.get_coordinates(shapely.centroid(b_geom))
    b_estid = np.array([est_id[e] if e >= 0 else "~" for e in b_est], dtype=object)
    b_order = np.lexsort((np.round(bp[:, 0]), -np.round(bp[:, 1], -1), b_estid, comm_ids[b_comm]))
    b_id = np.empty(len(b_geom), object)
    b_id[b_order] = [f"B{i + 1:05d}" for i in range(len(b_order))]
    kind = np.array([b["kind"] for b in fill.buildings])
    hh = np.array([b["households"] for b in fill.buildings], dtype="int64")
    levels = np.array([b["levels"] for b in fill.buildings], dtype="int64")
    bname = np.empty(len(b_geom), object)
    seq = pd.Series(b_estid[b_order]).groupby(b_estid[b_order]).cumcount().to_numpy() + 1
    road_tree = shapely.STRtree(layout.roads.geometry.values)
    near_road = layout.roads["name"].to_numpy()[road_tree.nearest(shapely.centroid(b_geom[b_order]))]
    loose_seq = pd.Series(np.arange(len(b_order))).groupby(near_road).cumcount().to_numpy() + 1
    for j, i in enumerate(b_order):
        bname[i] = f"{seq[j]}栋" if b_est[i] >= 0 else f"{near_road[j]}{loose_seq[j]}号"
    estate_col = pd.array([est_id[e] if e >= 0 else None for e in b_est], dtype="string")
    out["buildings"] = _gdf(
        {
            "building_id": b_id,
            "estate_id": estate_col,
            "levels": levels,
            "households": hh,
            "kind": kind,
            "kind_zh": [KIND_ZH[k] for k in kind],
            "name": bname,
        },
        b_geom,
        "building_id",
    )
    size = np.array([HOUSEHOLD_SIZE[k] for k in kind])
    pop = np.floor(hh * size + 0.5).astype("int64")  # round half up: deterministic everywhere
    out["households"] = _gdf(
        {"building_id": b_id, "estate_id": estate_col, "households": hh, "population": pop},
        shapely.centroid(b_geom),
        "building_id",
    )


def _facility_frame(fill, comm_ids, names, centres, stations) -> gpd.GeoDataFrame:
    # Facilities.
    rows = []
    for f in centres + stations:
        cid = comm_ids[f["community"]]
        if f["kind"] == "street_centre":
            fid, name = f"{STREET_ID}-JD", f"{STREET_NAME}党群服务中心"
        elif f["kind"] == "community_centre":
            fid, name = f"{cid}-SQ", f"{names[f['community']]}党群服务中心"
        else:
            fid, name = f"{cid}-Z{f['estate']:02d}", f"{fill.estates[f['estate']]['name']}党群服务站"
        rows.append(
            {
                "facility_id": fid,
                "name": name,
                "kind": f["kind"],
                "area_m2": float(f["area_m2"]),
                "community_id": cid,
                "geometry": shapely.Point(f["xy"]),
            }
        )
    # Station ids use a per-community serial (not the internal estate index).
    fac = pd.DataFrame(rows)
    st = fac["kind"] == "station"
    fac.loc[st, "facility_id"] = [
        f"{c}-Z{i + 1:02d}"
        for c, i in zip(fac.loc[st, "community_id"], fac[st].groupby("community_id").cumcount())
    ]
    return _gdf(fac.drop(columns="geometry").to_dict("list"), fac["geometry"].to_numpy(), "facility_id")


def _barrier_frame(layout) -> gpd.GeoDataFrame:
    # Barriers: arterials and the river, one line per name, over the street and a margin.
    clip = layout.street.buffer(100.0)
    roads = layout.roads
    bar = []
    for name in (ARTERIAL_V, ARTERIAL_H):
        g = shapely.line_merge(shapely.unary_union(roads.loc[roads["name"] == name, "geometry"].values))
        bar.append(("arterial", name, shapely.intersection(g, clip)))
    bar.append(("river", RIVER_NAME, shapely.intersection(layout.river, clip)))
    return _gdf(
        {
            "barrier_id": [f"BR{i + 1:02d}" for i in range(len(bar))],
            "kind": [b[0] for b in bar],
            "name": [b[1] for b in bar],
        },
        [b[2] for b in bar],
        "barrier_id",
    )


def write_sample(out_dir: str | os.PathLike = "data", seed: int = 0) -> list[Path]:
    """Generate the sample district and write its files under ``out_dir``, all or none.

    Parameters
    ----------
    out_dir : path, default "data"
        Folder to write into (created if needed); see :data:`SAMPLE_FILES` for the layout.
    seed : int, default 0

    Returns
    -------
    list of Path
        The files written (GeoJSON layers and ``households/households.csv``).
    """
    frames = make_sample(seed)
    with atomic_outputs(out_dir) as out:
        for key, rel in SAMPLE_FILES.items():
            write_geojson_file(frames[key], out.path(rel), Path(rel).stem)
        hh = frames["households"]
        csv = pd.DataFrame(
            {
                "building_id": hh["building_id"],
                "estate_id": hh["estate_id"],
                "households": hh["households"],
                "population": hh["population"],
                "lon": hh.geometry.x.map("{:.7f}".format),
                "lat": hh.geometry.y.map("{:.7f}".format),
            }
        )
        csv.to_csv(
            out.path("households/households.csv"), index=False, encoding="utf-8-sig", lineterminator="\n"
        )
        paths = out.commit()
    return paths


#: The sample district's files, shipped inside the package (so an installed wheel has them).
SAMPLE_DIR = Path(__file__).resolve().parent / "district"


def load_sample(root: str | os.PathLike | None = None) -> dict[str, gpd.GeoDataFrame]:
    """The sample district as GeoDataFrames (EPSG:4326).

    Reads the committed files under ``root`` (default: the repository's ``data`` folder) when they
    are all there; otherwise generates the district in memory with :func:`make_sample`.

    Parameters
    ----------
    root : path, optional
        A folder written by :func:`write_sample`.

    Returns
    -------
    dict of str to GeoDataFrame
        Same keys as :func:`make_sample`.
    """
    import pyogrio

    root = Path(root) if root is not None else SAMPLE_DIR
    paths = {k: root / rel for k, rel in SAMPLE_FILES.items()}
    if not all(p.exists() for p in paths.values()):
        return make_sample()
    out = {}
    for key, p in paths.items():
        gdf = pyogrio.read_dataframe(p)
        # GeoJSON has no integer width: give back the int64 columns make_sample() produces.
        ints = [c for c in gdf.columns if pd.api.types.is_integer_dtype(gdf[c].dtype)]
        gdf[ints] = gdf[ints].astype("int64")
        out[key] = gdf.set_crs(WGS84, allow_override=True)
    return out


def summarize(layers: dict[str, gpd.GeoDataFrame]) -> dict:
    """Headline figures of a sample district (for the CLI and the README)."""
    hh = layers["households"]
    comm = layers["communities"]
    metric = comm.to_crs(comm.estimate_utm_crs())
    return {
        "area_km2": round(float(metric.area.sum()) / 1e6, 2),
        "communities": len(comm),
        "estates": len(layers["estates"]),
        "gates": len(layers["gates"]),
        "buildings": len(layers["buildings"]),
        "households": int(hh["households"].sum()),
        "population": int(hh["population"].sum()),
        "facilities": layers["facilities"]["kind"].value_counts().sort_index().to_dict(),
        "network_edges": len(layers["network"]),
        "network_km": round(float(layers["network"].to_crs(metric.crs).length.sum()) / 1000, 1),
    }

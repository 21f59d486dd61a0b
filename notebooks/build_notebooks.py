"""The cells of the four example notebooks: the one source of their code and text.

The notebooks are generated so that their code stays reviewable here and their cell ids are
stable. ``make notebooks`` (``notebooks/run_notebooks.py``) builds them from this file, executes
them and commits them with their outputs; ``python notebooks/build_notebooks.py`` alone writes them
without outputs (what a stale notebook looks like to ``tests/pipeline/test_notebooks.py``, which
checks that the committed cells equal what this script builds and that every code cell ran).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from IPython.display import Image, display

# The notebook runs with cwd = notebooks/; the repository and its data are one folder up.
ROOT = Path.cwd().resolve().parent
REALDATA = ROOT.parent / "shared" / "realdata"
OUT = Path(os.environ.get("GRIDPLAN_NOTEBOOK_OUT", ROOT / "out" / "notebooks")) / NAME
OUT.mkdir(parents=True, exist_ok=True)
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 14)
warnings.simplefilter("ignore", FutureWarning)
"""


def nb(cells: list[tuple[str, str]], name: str) -> nbformat.NotebookNode:
    book = new_notebook()
    book.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (gridplan)", "language": "python"},
        "language_info": {"name": "python"},
    }
    for i, (kind, source) in enumerate(cells):
        source = source.replace("NAME_PLACEHOLDER", name).strip("\n")
        cell = new_markdown_cell(source) if kind == "md" else new_code_cell(source)
        cell.id = f"{name}-{i:02d}"
        if kind == "params":
            cell.metadata["tags"] = ["parameters"]
        book.cells.append(cell)
    return book


def setup(name: str) -> str:
    return f'NAME = "{name}"\n' + SETUP


# --- 01 quickstart ---------------------------------------------------------------------------

QUICKSTART = [
    (
        "md",
        """\
# 01 · Quickstart: the sample district end to end

The bundled sample district (a synthetic street of ten communities in Wuchang, Wuhan; see
`gridplan/datasets/district/README.md`) through the Python API, step by step:

1. **grids** (网格): households partitioned into contiguous grids of 300–500 households,
2. **coverage**: walking time to the nearest party-mass service centre (党群服务中心) on the walking
   network, the 15-minute circle,
3. **sites**: where three new centres would cover most of the households left outside,
4. **maps and exports** for reports and for the grid-management platform.

Every step is a library call that takes and returns GeoDataFrames, so each can be inspected.""",
    ),
    ("code", setup("01_quickstart")),
    (
        "code",
        """\
import gridplan as gp
from gridplan.report import export, figures
from gridplan.access.coverage import coverage
from gridplan.network import load_network
from gridplan.grids.api import partition
from gridplan.siting.api import site

sample = gp.load_sample()
pd.Series({name: len(layer) for name, layer in sample.items()}, name="rows").to_frame()""",
    ),
    ("md", "## 1 · Grids\n\nOne call per district; communities are planned independently."),
    (
        "code",
        """\
result = partition(sample["households"], sample["communities"], buildings=sample["buildings"],
                   estates=sample["estates"], barriers=sample["barriers"], seed=0, n_jobs=1)
grids = result.grids
print(f"{len(grids)} grids, {int(grids['households'].sum()):,} households")
grids["status"].value_counts().to_frame()""",
    ),
    (
        "code",
        """\
grids[["grid_id", "community_name", "households", "population", "n_buildings", "n_estates",
       "status", "reason", "area_m2", "compactness"]].head(10)""",
    ),
    (
        "code",
        """\
# Nothing is dropped: every household row is in exactly one grid.
assert len(result.assignment) == len(sample["households"])
assert result.assignment["grid_id"].notna().all()
assert grids["households"].sum() == sample["households"]["households"].sum()""",
    ),
    (
        "code",
        """\
figures.plot_grids(grids, OUT / "grids.png", households=result.assignment,
                   communities=sample["communities"])
figures.plot_households_histogram(grids, OUT / "households_per_grid.png")
display(Image(filename=str(OUT / "grids.png"), width=720))
display(Image(filename=str(OUT / "households_per_grid.png"), width=600))""",
    ),
    (
        "md",
        """\
## 2 · The 15-minute circle

Walking network from `gridplan/datasets/district/network/walk.geojson`; walking time at 4 km/h from every household to
its nearest centre (street and community centres; stations do not count as centres).""",
    ),
    (
        "code",
        """\
network = load_network(sample["network"])
cov = coverage(result.assignment, sample["facilities"], network, grids=grids,
               communities=sample["communities"])
print(f"{cov.report['households_covered']:,} of {cov.report['households']:,} households "
      f"({cov.report['share_covered']:.1%}) within 15 minutes")
cov.summary[cov.summary["level"] == "community"]""",
    ),
    (
        "code",
        """\
cov.standards[["community_id", "name", "households", "m2_per_100_households",
               "norm_m2_per_100", "meets_area_norm", "grid_workers_needed"]]""",
    ),
    (
        "md",
        """\
## 3 · New centres

Up to three new community centres, where they cover most of the households left outside (fewer
when fewer already reach everyone).""",
    ),
    (
        "code",
        """\
siting = site(cov.households, sample["facilities"], network, add=3, grids=grids)
siting.sites.drop(columns="geometry")""",
    ),
    (
        "code",
        """\
figures.plot_coverage(cov, OUT / "coverage.png", facilities=sample["facilities"], grids=grids,
                      communities=sample["communities"], sites=siting.sites)
display(Image(filename=str(OUT / "coverage.png"), width=720))""",
    ),
    (
        "md",
        """\
## 4 · Exports

A GeoPackage with one layer per level, an Excel report in Chinese and RFC 7946 GeoJSON, with
stable grid codes `<street_id>-<community_id>-<NN>` (see `gridplan.report.codes`).""",
    ),
    (
        "code",
        """\
written = export.export(grids, gpkg=OUT / "plan.gpkg", xlsx=OUT / "report.xlsx",
                        geojson=OUT / "grids.geojson", communities=sample["communities"],
                        households=result.assignment, facilities=sample["facilities"],
                        sites=siting.sites, coverage=cov, micro_grids=result.micro_grids)
for kind, path in written.items():
    print(f"{kind:8s} {path.relative_to(OUT.parent)}")
layers = export.read_geopackage(written["gpkg"])
pd.Series({name: len(layer) for name, layer in layers.items()}, name="features").to_frame()""",
    ),
    (
        "code",
        """\
layers["grids"][["grid_code", "grid_id", "community_name", "households", "status"]].head()""",
    ),
]


# --- 02 real OSM -----------------------------------------------------------------------------

REAL_OSM = [
    (
        "md",
        """\
# 02 · A real OpenStreetMap extract: buildings → households → grids → coverage

Any OSM file (`.osm`, `.osm.bz2`, `.osm.pbf`) or, when online, a place name. By default it runs on
the central-Nanjing extract in `../shared/realdata/nanjing/` (© OpenStreetMap contributors, ODbL)
when that folder exists, and skips with a message otherwise.

- **Households** are estimated from building footprints × floors (`building:levels`, else the
  default of 6) ÷ 90 m² gross per household (`gridplan.norms`). OSM has no household counts:
  these are estimates, not census figures.
- **Community boundaries**: OSM has none here. Give your own file in `COMMUNITY_FILE`; otherwise
  the notebook **generates** them as a regular grid of `CELL_M`-metre squares clipped to the
  buildings' hull (only squares with dwellings are kept). They are stand-ins for 社区 boundaries,
  not real ones.
- **Centres**: the extract has no party-mass centres either, so existing centres are stood in for
  by a green-field siting of `N_EXISTING` centres (hypothetical), and then `N_NEW` more are
  recommended where households are still more than 15 minutes away.""",
    ),
    (
        "params",
        """\
# Parameters
OSM_FILE = "../../shared/realdata/nanjing/nanjing_xinjiekou.osm.pbf"   # or None
PLACE = None            # e.g. "新街口街道, 南京市" to download with OSMnx (needs the internet)
COMMUNITY_FILE = None   # community polygons (community_id, name); None: generate them
CELL_M = 700.0          # size of generated community squares (m)
N_EXISTING = 2          # hypothetical existing centres (green-field siting)
N_NEW = 2               # new centres to recommend""",
    ),
    (
        "code",
        setup("02_real_osm")
        + """
HAVE_DATA = PLACE is not None or (OSM_FILE is not None and Path(OSM_FILE).exists())
if not HAVE_DATA:
    print(f"Skipping: {OSM_FILE} is absent (real data exists only in the developers' "
          "workplace) and no PLACE is given. Set OSM_FILE to any OSM extract to run this notebook.")""",
    ),
    (
        "code",
        """\
import shapely

import gridplan as gp
from gridplan.report import figures
from gridplan.prepare.buildings import buildings_from_osm, households_from_buildings
from gridplan.access.coverage import coverage
from gridplan.network import load_network
from gridplan.grids.api import partition
from gridplan.io.projection import local_crs
from gridplan.siting.api import site

if HAVE_DATA:
    if PLACE is None:
        buildings = buildings_from_osm(OSM_FILE)
        network = load_network(OSM_FILE)
    else:
        import osmnx as ox

        feats = ox.features_from_place(PLACE, tags={"building": True})
        feats = feats[feats.geometry.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index()
        buildings = gpd.GeoDataFrame({
            "building_id": feats["osmid"].astype(str),
            "levels": pd.to_numeric(feats.get("building:levels"), errors="coerce"),
            "kind": feats["building"].astype(str),
        }, geometry=feats.geometry.to_numpy(), crs=feats.crs)
        network = load_network(place=PLACE)
    est = households_from_buildings(buildings)
    est = est[est["dwelling"] & (est["households"] > 0)].reset_index(drop=True)
    crs = local_crs(est)
    # One household point per building, at a point inside its footprint.
    households = gpd.GeoDataFrame(
        est[["building_id", "households"]],
        geometry=est.geometry.to_crs(crs).representative_point().to_numpy(), crs=crs,
    ).to_crs(4326)
    print(f"{len(buildings):,} residential buildings, {len(est):,} dwellings, "
          f"{int(households['households'].sum()):,} estimated households; "
          f"walking network: {len(network.edges):,} edges")""",
    ),
    (
        "code",
        """\
if HAVE_DATA:
    if COMMUNITY_FILE is not None:
        communities = gp.read_communities(COMMUNITY_FILE)
    else:
        # Generated stand-ins for community boundaries: squares clipped to the buildings' hull.
        pts = households.to_crs(crs).geometry.to_numpy()
        hull = shapely.convex_hull(shapely.multipoints(pts)).buffer(100.0)
        x0, y0, x1, y1 = hull.bounds
        squares = np.array([shapely.box(x, y, x + CELL_M, y + CELL_M)
                            for x in np.arange(x0, x1, CELL_M) for y in np.arange(y0, y1, CELL_M)])
        cells = shapely.intersection(squares, hull)
        cells = cells[shapely.area(cells) > 0]
        with_homes = np.unique(shapely.STRtree(cells).query(pts, predicate="intersects")[1])
        cells = cells[with_homes]
        communities = gpd.GeoDataFrame({
            "community_id": [f"G{i + 1:02d}" for i in range(len(cells))],
            "name": [f"生成社区{i + 1:02d}" for i in range(len(cells))],
            "street_id": "X01", "street_name": "示例街道",
        }, geometry=cells, crs=crs).to_crs(4326)
    print(f"{len(communities)} communities")""",
    ),
    (
        "code",
        """\
if HAVE_DATA:
    result = partition(households, communities, seed=0, n_jobs=1)
    grids = result.grids
    assert grids["households"].sum() == households["households"].sum()
    figures.plot_grids(grids, OUT / "grids.png", households=result.assignment,
                       communities=communities, title="网格划分（OSM 建筑估算户数）")
    display(Image(filename=str(OUT / "grids.png"), width=720))
    display(grids.groupby("community_id").agg(grids=("grid_id", "size"),
                                               households=("households", "sum"),
                                               ok=("status", lambda s: int((s == "ok").sum()))))""",
    ),
    (
        "code",
        """\
if HAVE_DATA:
    greenfield = site(result.assignment, None, network, add=N_EXISTING, demand="all")
    centres = greenfield.sites.assign(
        facility_id=[f"H{i + 1}" for i in range(len(greenfield.sites))],
        name=[f"假设中心{i + 1}" for i in range(len(greenfield.sites))],
        kind="community_centre")[["facility_id", "name", "kind", "geometry"]]
    cov = coverage(result.assignment, centres, network, grids=grids, communities=communities)
    more = site(cov.households, centres, network, add=N_NEW, grids=grids)
    print(f"{N_EXISTING} hypothetical centres: {cov.report['share_covered']:.1%} of households "
          f"within 15 minutes; with {N_NEW} more: "
          f"{more.sites['cumulative_share_covered'].iloc[-1]:.1%}")
    figures.plot_coverage(cov, OUT / "coverage.png", facilities=centres, grids=grids,
                          communities=communities, sites=more.sites,
                          title="15分钟步行覆盖（假设的现有中心）")
    display(Image(filename=str(OUT / "coverage.png"), width=720))
    display(cov.summary[cov.summary["level"] == "community"])""",
    ),
]


# --- 03 city ---------------------------------------------------------------------------------

CITY = [
    (
        "md",
        """\
# 03 · City scale: the 193 real communities of Yichang (宜昌)

Real community (社区/村) and street (街办) boundaries and the 45 real party-mass service centres of
central Yichang, from `../shared/realdata/yichang/` (a public urban-health-check project). The
notebook skips with a message when that folder is absent.

What is real and what is generated, plainly:

- **Real**: the boundaries, the street of each community, the per-community building counts
  (`bldg_n`), the residential land use, and the 45 centres (scraped from Amap in **GCJ-02** and
  converted here with `coords="gcj02"`).
- **Generated**: household points. The data has none, so each community gets `bldg_n` building
  points placed at random (seeded) inside its residential land (or inside the community when it
  has almost none), each with 8–40 households. Totals are therefore plausible, not true.
- **Generated**: the walking network. The data has none and there is no internet here, so the
  notebook lays a **synthetic street lattice** (one street every 150 m, clipped to community land)
  over the city. It ignores real streets, the Yangtze bridges, and hills; a lattice makes walks
  about 1.27 times the straight-line distance on average. Coverage figures below are therefore
  indicative only; with an OSM extract of Yichang pass it to `load_network` instead.""",
    ),
    (
        "code",
        setup("03_city")
        + """
YICHANG = REALDATA / "yichang"
HAVE_REALDATA = YICHANG.exists()
if not HAVE_REALDATA:
    print(f"Skipping: {YICHANG} is absent (real data exists only in the developers' workplace).")""",
    ),
    (
        "code",
        """\
import shapely

import gridplan as gp
from gridplan.report import figures
from gridplan.access.coverage import coverage
from gridplan.network import load_network
from gridplan.grids.api import partition
from gridplan.io.projection import local_crs

if HAVE_REALDATA:
    # No id column in the source: the (unique) community name serves as id, the street name as
    # street id.
    communities = gp.read_communities(
        YICHANG / "yichang_communities.geojson",
        columns={"community_id": "SQMC", "name": "SQMC", "street_id": "SSJD",
                 "street_name": "SSJD"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no kind column: every facility a community centre"
        centres = gp.read_facilities(YICHANG / "yichang_party_mass_centres_gcj02.geojson",
                                     coords="gcj02", columns={"facility_id": "poi_id"})
    print(f"{len(communities)} communities in {communities['street_id'].nunique()} streets; "
          f"{len(centres)} centres")
    display(communities["类型"].value_counts().to_frame())""",
    ),
    (
        "code",
        """\
if HAVE_REALDATA:
    # Check the GCJ-02 conversion against the source's own WGS-84 version of the same points.
    ref = gpd.read_file(YICHANG / "yichang_party_mass_centres_wgs84.geojson")
    ref = ref.set_index("poi_id").loc[centres["facility_id"]]
    crs = local_crs(communities)
    gap = centres.to_crs(crs).geometry.distance(ref.set_crs(4326).to_crs(crs).geometry.set_axis(
        centres.index), align=False)
    raw = gpd.read_file(YICHANG / "yichang_party_mass_centres_gcj02.geojson").to_crs(crs)
    shift = raw.geometry.distance(centres.to_crs(crs).geometry, align=False)
    print(f"GCJ-02 -> WGS-84 moved the centres by {shift.mean():.0f} m on average; after "
          f"conversion they are {gap.mean():.2f} m (max {gap.max():.2f} m) from the source's "
          "WGS-84 points")
    assert gap.max() < 5.0""",
    ),
    (
        "code",
        """\
if HAVE_REALDATA:
    counts = pd.read_csv(YICHANG / "yichang_community_buildings.csv", encoding="utf-8-sig")
    counts = counts.set_index("社区")["bldg_n"]
    land = gpd.read_file(YICHANG / "yichang_residential_landuse.geojson").to_crs(crs)
    metric = communities.to_crs(crs)
    n_buildings = metric["community_id"].map(counts).fillna(0).astype(int).to_numpy()
    residential = shapely.intersection(metric.geometry.to_numpy(),
                                       shapely.union_all(land.geometry.to_numpy()))
    mostly_land = shapely.area(residential) > 0.05 * shapely.area(metric.geometry.to_numpy())
    where = np.where(mostly_land, residential, metric.geometry.to_numpy())
    points = gpd.GeoSeries(where, crs=crs).sample_points(size=n_buildings,
                                                         rng=np.random.default_rng(0))
    points = points[n_buildings > 0].explode(index_parts=False)
    rng = np.random.default_rng(1)
    households = gpd.GeoDataFrame({
        "building_id": [f"B{i:05d}" for i in range(len(points))],
        "community_id": metric["community_id"].to_numpy()[points.index.to_numpy()],
        "households": rng.integers(8, 41, len(points)),
    }, geometry=points.to_numpy(), crs=crs).to_crs(4326)
    # Communities without building counts (villages, a few urban ones) get no households and are
    # left out of the partition; they are listed here rather than dropped silently.
    planned = communities[communities["community_id"].isin(households["community_id"])]
    left_out = communities.loc[~communities.index.isin(planned.index), ["name", "street_name",
                                                                        "类型"]]
    print(f"{len(households):,} generated buildings, {int(households['households'].sum()):,} "
          f"households in {len(planned)} communities; {len(left_out)} communities without "
          "building counts are not planned")
    display(left_out["类型"].value_counts().to_frame())""",
    ),
    (
        "code",
        """\
if HAVE_REALDATA:
    result = partition(households, planned, seed=0, n_jobs=2)
    grids = result.grids
    assert grids["households"].sum() == households["households"].sum()
    by_street = grids.groupby("street_name").agg(
        communities=("community_id", "nunique"), grids=("grid_id", "size"),
        households=("households", "sum"),
        in_band=("status", lambda s: f"{(s == 'ok').mean():.0%}"))
    print(f"{len(grids):,} grids; {(grids['status'] == 'ok').mean():.1%} within 300-500 households")
    display(by_street.sort_values("households", ascending=False))""",
    ),
    (
        "code",
        """\
if HAVE_REALDATA:
    figures.plot_grids(grids, OUT / "grids.png", communities=planned, labels=False,
                       title="宜昌市中心城区网格划分（生成户数）")
    figures.plot_households_histogram(grids, OUT / "households_per_grid.png")
    display(Image(filename=str(OUT / "grids.png"), width=760))
    display(Image(filename=str(OUT / "households_per_grid.png"), width=600))""",
    ),
    (
        "md",
        """\
### Coverage of the 45 real centres (on the synthetic lattice)

The lattice is built here, in the notebook, and is clearly not the real street network (see the
top of the notebook).""",
    ),
    (
        "code",
        """\
if HAVE_REALDATA:
    SPACING_M = 150.0
    land_all = shapely.union_all(metric.geometry.to_numpy()).buffer(30.0)
    x0, y0, x1, y1 = land_all.bounds
    xs = np.arange(np.floor(x0 / SPACING_M) * SPACING_M, x1 + SPACING_M, SPACING_M)
    ys = np.arange(np.floor(y0 / SPACING_M) * SPACING_M, y1 + SPACING_M, SPACING_M)
    lines = np.r_[shapely.linestrings([[[x, y0], [x, y1]] for x in xs]),
                  shapely.linestrings([[[x0, y], [x1, y]] for y in ys])]
    # Union nodes the lattice at every crossing, so that streets connect there.
    segments = shapely.get_parts(shapely.intersection(shapely.union_all(lines), land_all))
    segments = segments[shapely.get_type_id(segments) == 1]
    lattice = gpd.GeoDataFrame({"highway": np.full(len(segments), "residential")},
                               geometry=segments, crs=crs)
    network = load_network(lattice)
    cov = coverage(result.assignment, centres, network, grids=grids, communities=planned)
    print(f"synthetic lattice: {len(network.edges):,} edges; {cov.report['share_covered']:.1%} of "
          "generated households within 15 minutes of one of the 45 centres")
    streets = cov.summary[cov.summary["level"] == "street"]
    display(streets[["name", "households", "households_covered", "share_covered"]]
            .sort_values("share_covered"))""",
    ),
    (
        "code",
        """\
if HAVE_REALDATA:
    figures.plot_coverage(cov, OUT / "coverage.png", facilities=centres, communities=planned,
                          title="45个党群服务中心15分钟步行覆盖（合成路网，仅供参考）")
    display(Image(filename=str(OUT / "coverage.png"), width=760))""",
    ),
]


# --- 04 scenarios ----------------------------------------------------------------------------

SCENARIOS = [
    (
        "md",
        """\
# 04 · Scenarios: a new estate, a new centre

Two comparisons on the sample district:

1. **Before / after a new estate** (新建小区): 600 households in three new towers in one community;
   the grids are replanned with `replan=` (moving as few households as possible), and
   `gridplan.report.codes.carry_codes` keeps the codes of grids that continue. Which grids changed, and
   what share of the existing households changed grid?
2. **With / without a new centre**: the best single new community centre, and the change in
   15-minute coverage per community.""",
    ),
    ("code", setup("04_scenarios")),
    (
        "code",
        """\
import shapely

import gridplan as gp
from gridplan.report import codes, figures
from gridplan.access.coverage import coverage
from gridplan.network import load_network
from gridplan.grids.api import partition
from gridplan.io.projection import local_crs
from gridplan.siting.api import site

sample = gp.load_sample()
context = dict(buildings=sample["buildings"], estates=sample["estates"],
               barriers=sample["barriers"], seed=0, n_jobs=1)
before = partition(sample["households"], sample["communities"], **context)
old = codes.grid_codes(before.grids, sample["communities"])
print(f"before: {len(old)} grids")""",
    ),
    (
        "code",
        """\
# The new estate: three towers of 200 households near the middle of the third community.
community = sample["communities"].iloc[2]
crs = local_crs(sample["communities"])
centre = gpd.GeoSeries([community.geometry], crs=4326).to_crs(crs).representative_point().iloc[0]
towers = gpd.GeoDataFrame({
    "households": [200, 200, 200], "population": [540, 540, 540],
    "building_id": ["NEW-1", "NEW-2", "NEW-3"], "estate_id": "NEW",
}, geometry=[shapely.Point(centre.x + dx, centre.y) for dx in (-30.0, 0.0, 30.0)], crs=crs)
households = pd.concat([sample["households"], towers.to_crs(4326)], ignore_index=True)
after = partition(households, sample["communities"], replan=before.assignment, **context)
new = codes.carry_codes(after.grids, old, assignment=after.assignment,
                        previous_assignment=before.assignment, communities=sample["communities"])
print(f"after the new estate in {community['name']}: {len(new)} grids")
new["code_status"].value_counts().to_frame()""",
    ),
    (
        "code",
        """\
n_old = len(before.assignment)
moved = (before.assignment["grid_id"].to_numpy()
         != after.assignment["grid_id"].to_numpy()[:n_old])
weights = before.assignment["households"].to_numpy()
share_moved = weights[moved].sum() / weights.sum()
print(f"{int(weights[moved].sum()):,} of {int(weights.sum()):,} existing households "
      f"({share_moved:.1%}) are in a different grid after the replan")
changed = new[new["code_status"] != "kept"]
changed[["grid_code", "previous_code", "code_status", "community_name", "households", "status"]]""",
    ),
    (
        "md",
        """\
The map labels grids by the number of their (carried) code. Grids that are over or under the band
after the replan are flagged by `partition` with a reason; the planner decides what to do next.""",
    ),
    (
        "code",
        """\
figures.plot_grids(new, OUT / "grids_after.png", households=after.assignment,
                   communities=sample["communities"], title="新建小区后的网格（重新划分）")
display(Image(filename=str(OUT / "grids_after.png"), width=720))""",
    ),
    ("md", "## With and without a new centre"),
    (
        "code",
        """\
network = load_network(sample["network"])
base = coverage(before.assignment, sample["facilities"], network, grids=before.grids,
                communities=sample["communities"])
best = site(base.households, sample["facilities"], network, add=1, grids=before.grids)
new_centre = best.sites.assign(facility_id="NEW-C1", name="新建党群服务中心",
                               kind="community_centre")[["facility_id", "name", "kind", "geometry"]]
facilities = pd.concat([sample["facilities"], new_centre.to_crs(4326)], ignore_index=True)
with_centre = coverage(before.assignment, facilities, network, grids=before.grids,
                       communities=sample["communities"])
print(f"without: {base.report['share_covered']:.1%}, with the new centre: "
      f"{with_centre.report['share_covered']:.1%} of households within 15 minutes")""",
    ),
    (
        "code",
        """\
key = ["level", "id", "name"]
a = base.summary[base.summary["level"] == "community"].set_index(key)
b = with_centre.summary[with_centre.summary["level"] == "community"].set_index(key)
delta = pd.DataFrame({
    "households": a["households"],
    "covered_without": a["households_covered"],
    "covered_with": b["households_covered"],
    "gain": b["households_covered"] - a["households_covered"],
    "share_without": a["share_covered"].round(3),
    "share_with": b["share_covered"].round(3),
}).reset_index(level=["level"], drop=True)
assert (delta["gain"] >= 0).all()
delta.sort_values("gain", ascending=False)""",
    ),
    (
        "code",
        """\
figures.plot_coverage(with_centre, OUT / "coverage_with_new_centre.png", facilities=facilities,
                      grids=before.grids, communities=sample["communities"], sites=new_centre,
                      title="新增一个党群服务中心后的15分钟覆盖")
display(Image(filename=str(OUT / "coverage_with_new_centre.png"), width=720))""",
    ),
]

NOTEBOOKS = {
    "01_quickstart": QUICKSTART,
    "02_real_osm": REAL_OSM,
    "03_city": CITY,
    "04_scenarios": SCENARIOS,
}


def build() -> dict[str, nbformat.NotebookNode]:
    return {name: nb(cells, name) for name, cells in NOTEBOOKS.items()}


def main() -> None:
    for name, book in build().items():
        path = HERE / f"{name}.ipynb"
        nbformat.validate(book)
        path.write_text(nbformat.writes(book) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())

"""The bad-input corpus through the planning commands: ``partition``, ``coverage``, ``site``.

tests/test_bad_inputs.py checks what ``gridplan validate`` says about each file; here the same
files (and the network/facility cases appended to tests/data/bad/make_bad.py) go through the
commands that write results. Every case ends in one of two documented outcomes:

- an error: exit code 2, a message naming the file (or layer), the column or rows and a fix, and
  nothing written in ``--out`` (previous outputs there untouched);
- a repair or warning, and correct output: every household read in is written out (per
  community), nothing dropped.

Cases marked ``xfail(strict=True)`` are bugs reported to their module's owner; when one is fixed the
test passes, strict xfail turns that into a failure, and the marker must go.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridplan import io
from gridplan.cli import main
from gridplan.errors import GridplanWarning

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
COMM = "communities.geojson"
SHP_MAP = ["--map", "community_id=SQBM,name=SQMC"]
# The corpus holds 12 points of 10..120 households: a small band gives several grids.
BAND = ["--min", "20", "--max", "200", "--jobs", "1"]


def _read_hh(name: str, coords: str = "wgs84") -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GridplanWarning)
        return io.read_households(BAD / name, coords=coords)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def _run(capsys, *argv) -> tuple[int, str]:
    rc = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return rc, cap.out + cap.err


def _warned(rec, text: str) -> bool:
    return any(text in str(w.message) for w in rec)


# --- partition: repaired or accepted with a warning ---------------------------------------------

# (households, communities, extra args, text of the expected warning or None)
PARTITION_OK = [
    ("hh_gbk.csv", COMM, [], "read as GBK"),
    ("hh_utf8_bom.csv", COMM, [], "'户数' used as 'households'"),
    ("hh_title_row.xlsx", COMM, [], "skipped 1 title row"),
    ("hh_units.csv", COMM, [], "carry a unit such as '12户'"),
    ("hh_swapped.csv", COMM, [], "longitude and latitude are swapped"),
    ("hh_no_households_col.csv", COMM, [], "each row counts as one household"),
    ("hh_gcj02.csv", COMM, ["--coords", "gcj02"], None),
    ("hh_in_bowtie.csv", "comm_bowtie.geojson", [], "repaired with shapely.make_valid"),
    ("hh_in_bowtie.csv", "comm_selfcross.geojson", [], "repaired with shapely.make_valid"),
    ("hh_good.csv", "comm_multipolygon.geojson", [], None),
    ("hh_good.csv", "comm_holes.geojson", [], None),
    ("hh_in_overlap.csv", "comm_overlap.geojson", [], None),
    ("hh_good.csv", "comm_unknown_crs.geojson", [], None),
]


@pytest.mark.parametrize("hh,comm,extra,warning", PARTITION_OK, ids=[f"{c[0]}+{c[1]}" for c in PARTITION_OK])
def test_partition_repairs_and_keeps_every_household(tmp_path, capsys, recwarn, hh, comm, extra, warning):
    out = tmp_path / "out"
    rc, text = _run(
        capsys,
        "partition",
        "--households",
        BAD / hh,
        "--communities",
        BAD / comm,
        "--out",
        out,
        *BAND,
        *extra,
    )
    assert rc == 0, text
    if warning:
        assert _warned(recwarn, warning), [str(w.message) for w in recwarn]
    coords = "gcj02" if "gcj02" in extra else "wgs84"
    src = _read_hh(hh, coords)
    assigned = gpd.read_file(out / "households.geojson")
    grids = gpd.read_file(out / "grids.geojson")
    # Same rows, same order, same counts; every row in exactly one grid of the written grids.
    assert len(assigned) == len(src)
    assert assigned["households"].tolist() == src["households"].tolist()
    assert assigned["grid_id"].notna().all()
    assert set(assigned["grid_id"]) <= set(grids["grid_id"])
    assert int(grids["households"].sum()) == int(src["households"].sum())
    per_grid = assigned.groupby("grid_id")["households"].sum()
    assert per_grid.to_dict() == grids.set_index("grid_id")["households"].to_dict()
    # Per community: the grids of a community hold exactly the households that lie in it.
    per_comm = grids.groupby("community_id")["households"].sum()
    by_prefix = (
        assigned.assign(c=assigned["grid_id"].str.rsplit("-", n=1).str[0]).groupby("c")["households"].sum()
    )
    assert per_comm.to_dict() == by_prefix.to_dict()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["total"]["households"] == int(src["households"].sum())


def test_gcj02_without_coords_is_an_error_that_suggests_coords(tmp_path, capsys):
    out = tmp_path / "out"
    rc, text = _run(
        capsys,
        "partition",
        "--households",
        BAD / "hh_gcj02.csv",
        "--communities",
        BAD / COMM,
        "--out",
        out,
        *BAND,
    )
    assert rc == 2, text
    assert "--coords gcj02" in text and "rows 4, 5, 6" in text
    assert not out.exists()


def test_bowtie_repair_keeps_the_shape_and_grids_tile_it(tmp_path, capsys):
    out = tmp_path / "out"
    rc, text = _run(
        capsys,
        "partition",
        "--households",
        BAD / "hh_in_bowtie.csv",
        "--communities",
        BAD / "comm_bowtie.geojson",
        "--out",
        out,
        *BAND,
    )
    assert rc == 0, text
    grids = gpd.read_file(out / "grids.geojson").to_crs(32649)
    comm = gpd.read_file(BAD / "comm_bowtie.geojson")
    # The repaired bow-tie is its two triangles: half the bounding box, not a zero-area sliver
    # (a ratio, so measured in degrees, where the outline's edges are straight).
    c1 = shapely.make_valid(comm.geometry.iloc[0])
    assert c1.area == pytest.approx(shapely.envelope(c1).area / 2, rel=1e-9)
    c1 = shapely.make_valid(comm.to_crs(32649).geometry.iloc[0])
    c1_grids = shapely.union_all(grids.loc[grids["community_id"] == "C1"].geometry.values)
    assert shapely.symmetric_difference(c1, c1_grids).area < 1e-3 * c1.area


@pytest.mark.parametrize("comm_file", ["comm_multipolygon.geojson", "comm_holes.geojson"])
def test_multipart_and_holed_communities_are_tiled_by_their_grids(tmp_path, capsys, comm_file):
    out = tmp_path / "out"
    rc, text = _run(
        capsys,
        "partition",
        "--households",
        BAD / "hh_good.csv",
        "--communities",
        BAD / comm_file,
        "--out",
        out,
        *BAND,
    )
    assert rc == 0, text
    grids = gpd.read_file(out / "grids.geojson").to_crs(32649)
    comm = gpd.read_file(BAD / comm_file).to_crs(32649)
    for cid, poly in zip(comm["community_id"], comm.geometry):
        union = shapely.union_all(grids.loc[grids["community_id"] == cid].geometry.values)
        assert shapely.symmetric_difference(poly, union).area < 1e-3 * poly.area, cid


def test_overlap_households_follow_the_validate_rule(tmp_path, capsys):
    """validate assigns a household in an overlap to the nearest representative point; partition
    must agree, otherwise the community totals of validate and partition differ."""
    from gridplan.io.validate import validate_inputs

    out = tmp_path / "out"
    rc, text = _run(
        capsys,
        "partition",
        "--households",
        BAD / "hh_in_overlap.csv",
        "--communities",
        BAD / "comm_overlap.geojson",
        "--out",
        out,
        *BAND,
    )
    assert rc == 0, text
    assigned = gpd.read_file(out / "households.geojson")
    got = assigned["grid_id"].str.rsplit("-", n=1).str[0].tolist()
    checked = validate_inputs(households=BAD / "hh_in_overlap.csv", communities=BAD / "comm_overlap.geojson")
    assert got == checked.frames["households"]["community_id"].tolist()


# --- partition: errors, nothing written ---------------------------------------------------------

# (households, communities, extra, texts the message must contain)
PARTITION_ERRORS = [
    ("hh_metres.geojson", COMM, [], ["hh_metres.geojson", "metres", "Fix:"]),
    ("hh_nan_coords.csv", COMM, [], ["hh_nan_coords.csv", "column 'geometry'", "rows 4, 7", "Fix:"]),
    ("hh_null_geometry.geojson", COMM, [], ["hh_null_geometry.geojson", "rows 2", "Fix:"]),
    ("hh_empty_geometry.geojson", COMM, [], ["hh_empty_geometry.geojson", "rows 2", "Fix:"]),
    ("hh_header_only.csv", COMM, [], ["hh_header_only.csv", "0 rows", "Fix:"]),
    ("hh_zero_bytes.geojson", COMM, [], ["hh_zero_bytes.geojson", "empty", "Fix:"]),
    ("hh_nonpositive.csv", COMM, [], ["hh_nonpositive.csv", "column 'households'", "rows 2, 5"]),
    ("garbage.geojson", COMM, [], ["garbage.geojson", "Fix:"]),
    (
        "hh_good.csv",
        "comm_dup_ids.geojson",
        [],
        ["comm_dup_ids.geojson", "column 'community_id'", "rows 1, 2", "Fix:"],
    ),
    ("hh_good.csv", "comm_no_id.geojson", [], ["comm_no_id.geojson", "community_id", "Fix:"]),
    ("hh_good.csv", "comm_empty.geojson", [], ["comm_empty.geojson", "0 rows", "Fix:"]),
    (
        "hh_good.csv",
        "comm_noprj_metres.zip",
        ["--map", "community_id=SQBM"],
        ["comm_noprj_metres.zip", "Fix:"],
    ),
]


@pytest.mark.parametrize(
    "hh,comm,extra,texts", PARTITION_ERRORS, ids=[f"{c[0]}+{c[1]}" for c in PARTITION_ERRORS]
)
def test_partition_errors_name_the_problem_and_write_nothing(tmp_path, capsys, hh, comm, extra, texts):
    out = tmp_path / "out"
    rc, text = _run(
        capsys,
        "partition",
        "--households",
        BAD / hh,
        "--communities",
        BAD / comm,
        "--out",
        out,
        *BAND,
        *extra,
    )
    assert rc == 2, text
    for t in texts:
        assert t in text, (t, text)
    assert "错误" in text  # the Chinese line for planners
    assert not out.exists() or not any(out.iterdir())


def test_an_error_leaves_previous_outputs_untouched(tmp_path, capsys):
    out = tmp_path / "out"
    rc, _ = _run(
        capsys,
        "partition",
        "--households",
        BAD / "hh_good.csv",
        "--communities",
        BAD / COMM,
        "--out",
        out,
        *BAND,
    )
    assert rc == 0
    before = _files(out)
    for hh in ("hh_nan_coords.csv", "hh_metres.geojson"):
        rc, _ = _run(
            capsys, "partition", "--households", BAD / hh, "--communities", BAD / COMM, "--out", out, *BAND
        )
        assert rc == 2
        assert _files(out) == before


def test_community_without_households_is_flagged_not_a_crash(tmp_path, capsys):
    out = tmp_path / "out"
    rc, text = _run(
        capsys,
        "partition",
        "--households",
        BAD / "hh_good.csv",
        "--communities",
        BAD / "comm_no_households.geojson",
        "--out",
        out,
        *BAND,
    )
    assert rc == 0, text
    grids = gpd.read_file(out / "grids.geojson")
    assert int(grids["households"].sum()) == int(_read_hh("hh_good.csv")["households"].sum())


SHAPEFILES = [("comm_noprj.zip", "assumed"), ("comm_gbk_cpg.zip", None), ("comm_gbk_nocpg.zip", "GBK")]


@pytest.mark.parametrize("comm,warning", SHAPEFILES, ids=[c[0] for c in SHAPEFILES])
def test_shapefile_communities_through_the_library(comm, warning):
    from gridplan.grids.api import partition

    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        communities = io.read_communities(BAD / comm, columns={"community_id": "SQBM", "name": "SQMC"})
    if warning:
        assert _warned(rec, warning), [str(w.message) for w in rec]
    hh = _read_hh("hh_good.csv")
    res = partition(hh, communities, min_households=20, max_households=200, n_jobs=1)
    assert int(res.grids["households"].sum()) == int(hh["households"].sum())
    assert set(res.grids["community_name"]) == {"解放路社区", "墨池巷社区"}


def test_shapefile_communities_with_map_through_the_cli(tmp_path, capsys):
    out = tmp_path / "out"
    rc, text = _run(
        capsys,
        "partition",
        "--households",
        BAD / "hh_good.csv",
        "--communities",
        BAD / "comm_gbk_cpg.zip",
        "--out",
        out,
        *BAND,
        *SHP_MAP,
    )
    assert rc == 0, text
    grids = gpd.read_file(out / "grids.geojson")
    assert set(grids["community_name"]) == {"解放路社区", "墨池巷社区"}


# --- coverage and site: network and facility cases ------------------------------------------------


def _coverage(capsys, out, hh="hh_good.csv", fac="fac_good.geojson", net="net_good.geojson", *extra):
    return _run(
        capsys,
        "coverage",
        "--households",
        BAD / hh,
        "--facilities",
        BAD / fac,
        "--network",
        BAD / net,
        "--communities",
        BAD / COMM,
        "--out",
        out,
        "--no-isochrones",
        *extra,
    )


def _check_coverage_totals(out: Path, src: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict]:
    hh = gpd.read_file(out / "households.geojson")
    assert len(hh) == len(src)
    assert hh["households"].tolist() == src["households"].tolist()
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig", dtype={"id": str})
    total = int(src["households"].sum())
    assert int(table.loc[table["level"] == "all", "households"].iat[0]) == total
    inside = hh["community_id"].notna()
    comm = table[table["level"] == "community"].set_index("id")["households"]
    want = hh[inside].groupby("community_id")["households"].sum()
    assert comm.reindex(want.index).tolist() == want.tolist()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["households"] == total
    return hh, report


def test_coverage_good_case(tmp_path, capsys):
    rc, text = _coverage(capsys, tmp_path / "o")
    assert rc == 0, text
    hh, report = _check_coverage_totals(tmp_path / "o", _read_hh("hh_good.csv"))
    assert hh["covered"].all()


def test_coverage_disconnected_network_reports_unreachable_households(tmp_path, capsys):
    out = tmp_path / "o"
    rc, text = _coverage(capsys, out, "hh_good.csv", "fac_west_only.geojson", "net_disconnected.geojson")
    assert rc == 0, text
    hh, report = _check_coverage_totals(out, _read_hh("hh_good.csv"))
    east = hh["community_id"] == "C2"
    # C2's piece of the network has no centre: its households are unreachable (null time, not
    # covered, counted), never dropped and never given a straight-line time.
    assert east.any() and hh.loc[east, "walk_min"].isna().all()
    assert not hh.loc[east, "covered"].any()
    assert hh.loc[~east, "covered"].all()
    assert report["network"]["components"] == 2
    assert report["unreachable_households"] == int(hh.loc[east, "households"].sum())


def test_coverage_facility_far_from_walkways_is_listed(tmp_path, capsys):
    out = tmp_path / "o"
    rc, text = _coverage(capsys, out, "hh_good.csv", "fac_far_from_network.geojson")
    assert rc == 0, text
    hh, report = _check_coverage_totals(out, _read_hh("hh_good.csv"))
    assert report["facilities_off_network"] == ["F9"]
    # F9 covers nobody: every covered household is F1's.
    assert set(hh.loc[hh["covered"], "nearest_facility_id"]) == {"F1"}
    assert not hh.loc[hh["community_id"] == "C2", "covered"].all()


def test_coverage_warns_about_a_facility_far_from_walkways(tmp_path, capsys, recwarn):
    rc, text = _coverage(capsys, tmp_path / "o", "hh_good.csv", "fac_far_from_network.geojson")
    assert rc == 0
    assert "F9" in text or _warned(recwarn, "F9")


def test_coverage_with_no_centre_warns_and_covers_nobody(tmp_path, capsys, recwarn):
    out = tmp_path / "o"
    rc, text = _coverage(capsys, out, "hh_good.csv", "fac_stations_only.geojson")
    assert rc == 0, text
    assert _warned(recwarn, "nothing is covered")
    hh, report = _check_coverage_totals(out, _read_hh("hh_good.csv"))
    assert not hh["covered"].any() and report["households_covered"] == 0


def test_coverage_households_far_outside_are_counted_off_network(tmp_path, capsys):
    out = tmp_path / "o"
    rc, text = _coverage(capsys, out, "hh_far_outside.csv")
    assert rc == 0, text
    src = _read_hh("hh_far_outside.csv")
    hh, report = _check_coverage_totals(out, src)
    far = [1, 7]
    assert hh.index[hh["off_network"]].tolist() == far
    assert report["off_network_households"] == int(src["households"].iloc[far].sum())
    assert hh.index[hh["community_id"].isna()].tolist() == far


def test_coverage_counts_households_outside_communities(tmp_path, capsys):
    out = tmp_path / "o"
    rc, text = _coverage(capsys, out, "hh_far_outside.csv")
    assert rc == 0, text
    src = _read_hh("hh_far_outside.csv")
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig", dtype={"id": str}, keep_default_na=False)
    assert "nan" not in set(table.loc[table["level"] == "community", "id"])
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["households_outside_communities"] == int(src["households"].iloc[[1, 7]].sum())


def test_coverage_warns_about_gcj02_points(tmp_path, capsys, recwarn):
    rc, text = _coverage(capsys, tmp_path / "o", "hh_gcj02.csv")
    assert rc == 0
    assert "gcj02" in text.lower() or _warned(recwarn, "--coords gcj02")


# (command-specific args, facilities, network, texts)
NET_FAC_ERRORS = [
    ("coverage", "fac_none.geojson", "net_good.geojson", ["fac_none.geojson", "0 rows", "Fix:"]),
    ("site", "fac_none.geojson", "net_good.geojson", ["fac_none.geojson", "0 rows", "Fix:"]),
    (
        "coverage",
        "fac_dup_ids.geojson",
        "net_good.geojson",
        ["fac_dup_ids.geojson", "facility_id", "rows 2, 3", "Fix:"],
    ),
    ("coverage", "fac_unknown_kind.geojson", "net_good.geojson", ["kind", "rows 2", "clinic"]),
    ("coverage", "fac_good.geojson", "garbage.geojson", ["garbage.geojson", "Fix:"]),
    ("site", "fac_good.geojson", "garbage.geojson", ["garbage.geojson", "Fix:"]),
]


@pytest.mark.parametrize(
    "cmd,fac,net,texts", NET_FAC_ERRORS, ids=[f"{c[0]}:{c[1]}+{c[2]}" for c in NET_FAC_ERRORS]
)
def test_network_and_facility_errors(tmp_path, capsys, cmd, fac, net, texts):
    out = tmp_path / "o"
    extra = ["--add", "1"] if cmd == "site" else ["--no-isochrones"]
    rc, text = _run(
        capsys,
        cmd,
        "--households",
        BAD / "hh_good.csv",
        "--facilities",
        BAD / fac,
        "--network",
        BAD / net,
        "--out",
        out,
        *extra,
    )
    assert rc == 2, text
    for t in texts:
        assert t in text, (t, text)
    assert not out.exists() or not any(out.iterdir())


def _site(capsys, out, fac, net, *extra):
    return _run(
        capsys,
        "site",
        "--households",
        BAD / "hh_good.csv",
        "--facilities",
        BAD / fac,
        "--network",
        BAD / net,
        "--out",
        out,
        "--add",
        "1",
        *extra,
    )


@pytest.mark.parametrize(
    "fac,net,uncovered",
    [
        ("fac_west_only.geojson", "net_disconnected.geojson", "C2"),
        ("fac_far_from_network.geojson", "net_good.geojson", None),
        ("fac_stations_only.geojson", "net_good.geojson", "all"),
    ],
)
def test_site_handles_network_and_facility_cases(tmp_path, capsys, fac, net, uncovered):
    out = tmp_path / "o"
    rc, text = _site(capsys, out, fac, net)
    assert rc == 0, text
    # Independent count of what is uncovered before siting, from the coverage command.
    cov = tmp_path / "c"
    rc, text = _coverage(capsys, cov, "hh_good.csv", fac, net)
    assert rc == 0, text
    hh = gpd.read_file(cov / "households.geojson")
    before = int(hh.loc[~hh["covered"], "households"].sum())
    assert before > 0
    sites = gpd.read_file(out / "sites.geojson")
    # One new site gains something, never more than was uncovered.
    assert len(sites) == 1 and 0 < int(sites["households_gained"].iat[0]) <= before
    total = int(hh["households"].sum())
    share = float(sites["cumulative_share_covered"].iat[0])
    covered_after = total - before + int(sites["households_gained"].iat[0])
    assert share == pytest.approx(covered_after / total, abs=1e-6)
    if uncovered == "C2":
        assert before == int(hh.loc[hh["community_id"] == "C2", "households"].sum())
    elif uncovered == "all":
        assert before == total


STRAYS = [  # households file, communities, CSV lines of the strays
    ("hh_far_outside.csv", COMM, [3, 9]),  # geocoded to Beijing
    ("hh_in_hole.csv", "comm_holes.geojson", [2]),  # in a hole of a community (a park, a lake)
    ("hh_in_gap.csv", "comm_gap.geojson", [2]),  # in a gap between two communities
]


@pytest.mark.parametrize("hh,comm,lines", STRAYS, ids=[s[0] for s in STRAYS])
def test_stray_households_are_rejects_not_fatal(tmp_path, capsys, hh, comm, lines):
    """A few rows outside every community (more than 50 m away): planned without them, listed
    in rejects.csv with their CSV lines, counted in the report; nothing lost."""
    out = tmp_path / "out"
    rc, text = _run(
        capsys, "partition", "--households", BAD / hh, "--communities", BAD / comm, "--out", out, *BAND
    )
    assert rc == 0, text
    src = pd.read_csv(BAD / hh)
    rejects = pd.read_csv(out / "rejects.csv", encoding="utf-8-sig")
    assert rejects["row"].tolist() == lines  # the CSV's own line numbers (header = line 1)
    report = json.loads((out / "report.json").read_text("utf-8"))["total"]
    assert report["rejected_rows"] == len(lines)
    assert report["households"] + report["rejected_households"] == int(src["households"].sum())
    assigned = gpd.read_file(out / "households.geojson")
    assert assigned["grid_id"].isna().sum() == len(lines) and len(assigned) == len(src)
    assert "rejects.csv" in text

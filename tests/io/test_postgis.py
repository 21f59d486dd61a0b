"""PostGIS in and out, against a real PostgreSQL + PostGIS server (``pg_url`` in conftest.py).

The plan is the sample district's, computed by ``gridplan demo``; the export command writes it
to a GeoPackage and to PostGIS in one run, and every table must read back equal to its layer.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridplan.cli import main
from gridplan.errors import InputError
from gridplan.io.files import write
from gridplan.io.postgis import KEYS, ROW, read_plan, write_plan
from gridplan.report.export import read_geopackage

pytestmark = [pytest.mark.xdist_group("postgis"), pytest.mark.slow]

DISTRICT = Path(__file__).resolve().parents[2] / "gridplan" / "datasets" / "district"
INPUTS = {
    "communities": DISTRICT / "boundaries" / "communities.geojson",
    "households": DISTRICT / "households" / "households.geojson",
    "facilities": DISTRICT / "facilities" / "facilities.geojson",
}


def _engine(url: str):
    import sqlalchemy as sa

    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    from gridplan.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    run_demo(out, quiet=True)
    return out


@pytest.fixture(scope="module")
def exported(demo, pg_url, tmp_path_factory) -> dict:
    """``gridplan export`` of the demo plan to a GeoPackage and to schema ``plan_a``."""
    gpkg = tmp_path_factory.mktemp("export") / "plan.gpkg"
    args = ["export", "--grids", str(demo / "grids" / "grids.geojson")]
    args += ["--households", str(demo / "grids" / "households.geojson")]
    args += ["--communities", str(INPUTS["communities"]), "--facilities", str(INPUTS["facilities"])]
    args += ["--coverage", str(demo / "coverage"), "--sites", str(demo / "sites" / "sites.geojson")]
    args += ["--gpkg", str(gpkg), "--postgis", pg_url, "--schema", "plan_a", "-q"]
    assert main(args) == 0
    return {"gpkg": gpkg, "layers": read_geopackage(gpkg), "tables": read_plan(pg_url, schema="plan_a")}


@pytest.fixture(scope="module")
def inputs(pg_url) -> str:
    """The sample's input files as tables of schema ``inputs``, exactly as the files hold them."""
    engine = _engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS inputs CASCADE; CREATE SCHEMA inputs")
        for name, path in INPUTS.items():
            gpd.read_file(path).to_postgis(name, conn, schema="inputs")
    engine.dispose()
    return pg_url


def _in_key_order(layer: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    key = [c for c in KEYS.get(name, ()) if c in layer.columns]
    return layer.sort_values(key).reset_index(drop=True) if key else layer


# --- round trip --------------------------------------------------------------------------


def test_every_layer_reads_back_equal(exported, tmp_path):
    layers, tables = exported["layers"], exported["tables"]
    assert set(layers) == {
        "streets",
        "communities",
        "grids",
        "households",
        "facilities",
        "isochrones",
        "sites",
    }
    assert set(tables) == set(layers) | {"coverage"}
    for name, layer in layers.items():
        expected, got = _in_key_order(layer, name), tables[name]
        pd.testing.assert_frame_equal(
            pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(expected.drop(columns="geometry"))
        )
        assert (got.geometry.to_wkb() == expected.geometry.to_wkb()).all(), name
        assert got.crs == expected.crs
        a, b = write(expected, tmp_path / f"{name}_file.geojson"), write(got, tmp_path / f"{name}_db.geojson")
        assert a.read_bytes() == b.read_bytes(), name


def test_coverage_per_grid_is_keyed_by_grid_code(exported, demo):
    coverage, grids = exported["tables"]["coverage"], exported["tables"]["grids"]
    assert list(coverage["grid_code"]) == sorted(grids["grid_code"])
    summary = pd.read_csv(demo / "coverage" / "coverage.csv", encoding="utf-8-sig")
    rows = summary[summary["level"] == "grid"].set_index("id")
    for col in ("households", "households_covered", "off_network"):
        assert coverage.set_index("grid_id")[col].to_dict() == rows[col].to_dict()
    assert (coverage["grid_code"] == coverage["grid_id"].map(grids.set_index("grid_id")["grid_code"])).all()


def test_keys_and_spatial_indexes(exported, pg_url):
    engine = _engine(pg_url)
    with engine.connect() as conn:
        indexes = conn.exec_driver_sql(
            "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'plan_a' ORDER BY 1, 2"
        ).fetchall()
    engine.dispose()
    defs = {}
    for table, indexdef in indexes:
        defs.setdefault(table, []).append(indexdef)
    assert any("UNIQUE" in d and "(grid_code)" in d for d in defs["grids"])
    assert any("USING gist (geometry)" in d for d in defs["grids"])
    assert any("UNIQUE" in d and "(grid_code)" in d for d in defs["coverage"])
    assert any(f"({ROW})" in d for d in defs["households"])
    assert any("(grid_code)" in d and "UNIQUE" not in d for d in defs["households"])
    for table in ("streets", "communities", "households", "facilities", "isochrones", "sites"):
        assert any("USING gist (geometry)" in d for d in defs[table]), table


# --- replacing a plan --------------------------------------------------------------------


def _smaller_plan(tables: dict) -> dict:
    """Another plan: the district without its last community, and no sites."""
    last = sorted(tables["communities"]["community_id"])[-1]
    out = {}
    for name, frame in tables.items():
        if name == "sites":
            continue
        out[name] = frame[frame["community_id"] != last] if "community_id" in frame else frame
    if "community_id" not in out["coverage"]:
        kept = set(out["grids"]["grid_code"])
        out["coverage"] = out["coverage"][out["coverage"]["grid_code"].isin(kept)]
    return {k: v.reset_index(drop=True) for k, v in out.items()}


#: What a reader sees of a plan: one query per table; together, in one statement, one snapshot.
_PARTS = (
    "SELECT count(*) FROM plan_swap.grids",
    "SELECT count(*) FROM plan_swap.coverage",
    "SELECT count(*) FROM plan_swap.households",
    "SELECT count(*) FROM plan_swap.sites",
    "SELECT md5(string_agg(grid_code, ',' ORDER BY grid_code)) FROM plan_swap.grids",
    "SELECT sum(households) FROM plan_swap.households",
)
_FINGERPRINT = "SELECT " + ", ".join(f"({p})" for p in _PARTS)


def test_rerun_replaces_a_plan_in_one_transaction(exported, pg_url):
    plan_a = exported["tables"]
    plan_b = _smaller_plan(plan_a)
    write_plan(plan_a, pg_url, schema="plan_swap")
    engine = _engine(pg_url)
    with engine.connect() as conn:
        fp_a = tuple(conn.exec_driver_sql(_FINGERPRINT).one())
    seen: list[tuple] = []
    done = threading.Event()
    errors: list[BaseException] = []

    def read_snapshots(isolation: str) -> None:
        try:
            with engine.connect() as conn:
                conn = conn.execution_options(isolation_level=isolation)
                while not done.is_set():
                    with conn.begin():
                        if isolation == "REPEATABLE READ":  # a statement per table, one snapshot
                            row = tuple(conn.exec_driver_sql(p).scalar() for p in _PARTS)
                        else:
                            row = tuple(conn.exec_driver_sql(_FINGERPRINT).one())
                    seen.append(row)
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)

    readers = [
        threading.Thread(target=read_snapshots, args=(i,)) for i in ("READ COMMITTED", "REPEATABLE READ")
    ]
    for r in readers:
        r.start()
    for plan in (plan_b, plan_a, plan_b):
        write_plan(plan, pg_url, schema="plan_swap")
    done.set()
    for r in readers:
        r.join()
    with engine.connect() as conn:
        fp_b = tuple(conn.exec_driver_sql(_FINGERPRINT).one())
    engine.dispose()
    assert not errors, errors
    assert len(seen) > 10
    assert set(seen) <= {fp_a, fp_b}, set(seen) - {fp_a, fp_b}  # never half a plan
    assert fp_a != fp_b and fp_b[3] == 0  # plan B has no sites: the old ones are gone
    got = read_plan(pg_url, schema="plan_swap")
    for name, frame in plan_b.items():
        pd.testing.assert_frame_equal(pd.DataFrame(got[name]), pd.DataFrame(_in_key_order(frame, name)))


def test_changed_columns_recreate_the_table(exported, pg_url):
    grids = exported["tables"]["grids"]
    write_plan({"grids": grids}, pg_url, schema="plan_cols")
    wider = grids.assign(note="checked")
    narrower = grids.drop(columns=["reason", "kept"])
    for frame in (wider, narrower):
        write_plan({"grids": frame}, pg_url, schema="plan_cols")
        got = read_plan(pg_url, schema="plan_cols")["grids"]
        pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(frame))


# --- reading inputs ----------------------------------------------------------------------


def test_partition_from_postgis_equals_partition_from_files(inputs, tmp_path):
    from_files, from_db = tmp_path / "files", tmp_path / "db"
    common = ["partition", "--seed", "0", "-q"]
    files = ["--communities", str(INPUTS["communities"]), "--households", str(INPUTS["households"])]
    db = ["--communities", f"{inputs}?table=inputs.communities"]
    db += ["--households", f"{inputs}?sql=SELECT * FROM inputs.households WHERE households > 0"]
    assert main([*common, *files, "--out", str(from_files)]) == 0
    assert main([*common, *db, "--out", str(from_db)]) == 0
    for name in ("grids.geojson", "households.geojson"):
        assert (from_db / name).read_bytes() == (from_files / name).read_bytes(), name


def test_validate_from_postgis_equals_validate_from_files(inputs, tmp_path):
    files = [f"--{k}={p}" for k, p in INPUTS.items()]
    db = [f"--{k}={inputs}?table=inputs.{k}" for k in INPUTS]
    assert main(["validate", *files, "--out", str(tmp_path / "f"), "-q"]) == 0
    assert main(["validate", *db, "--out", str(tmp_path / "d"), "-q"]) == 0
    assert (tmp_path / "f" / "problems.csv").read_bytes() == (tmp_path / "d" / "problems.csv").read_bytes()


def test_query_is_taken_literally_after_sql(inputs):
    from gridplan.io.files import read_layer

    sql = "SELECT * FROM inputs.facilities WHERE 1+1 = 2 AND kind <> 'a&b' ORDER BY facility_id"
    got = read_layer(f"{inputs}?sql={sql}", "facilities")
    expected = read_layer(INPUTS["facilities"], "facilities")
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(expected.drop(columns="geometry"))
    )
    assert (got.geometry.to_wkb() == expected.geometry.to_wkb()).all()


# --- errors: exit 2 with the table and the fix -------------------------------------------


def _password_ignored(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(url).close()
    except psycopg.OperationalError:
        return False
    return True


def _fails(capsys, args: list[str]) -> str:
    assert main(args) == 2
    return capsys.readouterr().err


def test_password_in_the_url_is_refused(inputs, capsys, tmp_path):
    rest = inputs.split("://", 1)[1].split("@")[-1]
    url = f"postgresql://gridplan:secret@{rest}"
    err = _fails(
        capsys, ["validate", "--communities", f"{url}?table=inputs.communities", "--out", str(tmp_path)]
    )
    assert "holds a password" in err and "PGPASSWORD" in err and "secret" not in err


def test_export_refuses_a_password_and_a_table(demo, pg_url, capsys):
    rest = pg_url.split("://", 1)[1].split("@")[-1]
    grids = ["export", "--grids", str(demo / "grids" / "grids.geojson")]
    err = _fails(capsys, [*grids, "--postgis", f"postgresql://gridplan:secret@{rest}"])
    assert "holds a password" in err and "secret" not in err
    err = _fails(capsys, [*grids, "--postgis", f"{pg_url}?table=grids"])
    assert "names a database, not a table" in err and "--schema" in err


def test_wrong_password(inputs, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "wrong")  # libpq prefers it to the password file
    if _password_ignored(inputs):
        pytest.skip("the server at GRIDPLAN_TEST_PG does not check passwords (trust authentication)")
    err = _fails(
        capsys, ["validate", "--communities", f"{inputs}?table=inputs.communities", "--out", str(tmp_path)]
    )
    assert "refused the credentials" in err and "table inputs.communities" in err and "~/.pgpass" in err


def test_unreachable_server(inputs, capsys, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://gridplan@127.0.0.1:{port}/gridplan?table=communities"
    err = _fails(capsys, ["validate", "--communities", url, "--out", str(tmp_path)])
    assert f"cannot reach the PostgreSQL server at 127.0.0.1:{port}" in err and "pg_isready" in err


def test_missing_table(inputs, capsys, tmp_path):
    err = _fails(capsys, ["partition", "--communities", f"{inputs}?table=inputs.communes",
                          "--households", str(INPUTS["households"]), "--out", str(tmp_path)])  # fmt: skip
    assert "table 'inputs.communes' not found" in err and "inputs.communities" in err and "?table=" in err


def test_missing_column(inputs, capsys, tmp_path):
    sql = "SELECT name, geometry FROM inputs.communities"
    err = _fails(capsys, ["validate", "--communities", f"{inputs}?sql={sql}", "--out", str(tmp_path)])
    assert "required column 'community_id' is missing" in err and "query in postgresql://" in err
    err = _fails(capsys, ["validate", "--communities", f"{inputs}?sql=SELECT nope FROM inputs.communities",
                          "--out", str(tmp_path)])  # fmt: skip
    assert 'column "nope" does not exist' in err


def test_wrong_geometry_type(inputs, capsys, tmp_path):
    err = _fails(
        capsys, ["validate", "--households", f"{inputs}?table=inputs.communities", "--out", str(tmp_path)]
    )
    assert "households must be Point geometries, found Polygon" in err and "table inputs.communities" in err


def test_missing_extra_says_how_to_install(monkeypatch, pg_url):
    monkeypatch.setitem(sys.modules, "geoalchemy2", None)  # as if the extra were not installed
    with pytest.raises(InputError, match=r"gridplan\[postgis\]"):
        write_plan({}, pg_url)


def test_server_versions(pg_url):
    engine = _engine(pg_url)
    with engine.connect() as conn:
        pg, postgis = conn.exec_driver_sql(
            "SELECT current_setting('server_version'), postgis_lib_version()"
        ).one()
    engine.dispose()
    print(f"PostgreSQL {pg}, PostGIS {postgis}")
    assert postgis.startswith("3.") and int(pg.split(".")[0]) >= 13


def test_export_reads_grids_back_from_postgis(exported, demo, pg_url, tmp_path):
    """The grids gridplan exported to PostGIS are an input of ``gridplan export`` like the file."""
    from_file, from_db = tmp_path / "file.geojson", tmp_path / "db.geojson"
    grids = demo / "grids" / "grids.geojson"
    assert main(["export", "--grids", str(grids), "--geojson", str(from_file), "-q"]) == 0
    assert main(["export", "--grids", f"{pg_url}?table=plan_a.grids", "--geojson", str(from_db), "-q"]) == 0
    a, b = gpd.read_file(from_file), gpd.read_file(from_db)
    assert sorted(a["grid_code"]) == sorted(b["grid_code"])
    a, b = a.set_index("grid_code").sort_index(), b.set_index("grid_code").sort_index()
    assert (a["households"] == b["households"]).all()
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=1e-7).all()

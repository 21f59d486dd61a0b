"""gridplan.prepare.buildings: households from footprints; OSM buildings checked against an independent
reading of the same file (OSMnx features_from_xml on an .osm XML copy, geodesic areas by pyproj)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from gridplan.cli import main
from gridplan.norms import DEFAULT_NORMS
from gridplan.prepare.buildings import (
    GENERIC_BUILDING_TAGS,
    RESIDENTIAL_BUILDING_TAGS,
    buildings_from_osm,
    households_from_buildings,
)

GEOD = Geod(ellps="WGS84")


def _geodesic_area(geoms) -> np.ndarray:
    return np.array([abs(GEOD.geometry_area_perimeter(g)[0]) for g in geoms])


def test_households_from_footprints_formula():
    # 20 m x 30 m (600 m²) boxes near Yichang, as degrees.
    dx, dy = 20 / 95_600, 30 / 110_900
    boxes = [shapely.box(111.28 + i * 0.001, 30.70, 111.28 + i * 0.001 + dx, 30.70 + dy) for i in range(4)]
    tiny = shapely.box(111.29, 30.70, 111.29 + 5 / 95_600, 30.70 + 5 / 110_900)
    b = gpd.GeoDataFrame(
        {"levels": [6, None, 18, 3, 2], "households": [None, None, None, 7, None]},
        geometry=boxes + [tiny],
        crs=4326,
    )
    b["building_id"] = [f"b{i}" for i in range(5)]
    got = households_from_buildings(b)
    area = _geodesic_area(b.geometry)
    lv = np.array([6, DEFAULT_NORMS.default_levels, 18])
    expect = np.rint(area[:3] * lv / DEFAULT_NORMS.gross_m2_per_household)
    assert np.abs(got["households"].to_numpy()[:3] - expect).max() <= 1
    assert got["households"].iloc[3] == 7 and not got["households_estimated"].iloc[3]
    assert got["households"].iloc[4] == 0 and not got["dwelling"].iloc[4]
    assert got["households"].dtype == "int64" and len(got) == 5
    denser = households_from_buildings(b, norms=DEFAULT_NORMS.with_(gross_m2_per_household=45))
    assert (denser["households"].to_numpy()[:3] >= 2 * got["households"].to_numpy()[:3] - 1).all()


@pytest.fixture(scope="module")
def nanjing(realdata, tmp_path_factory):
    import osmium
    import osmnx as ox

    pbf = realdata / "nanjing" / "nanjing_xinjiekou.osm.pbf"
    xml = tmp_path_factory.mktemp("osm") / "nanjing.osm"
    writer = osmium.SimpleWriter(str(xml))
    for obj in osmium.FileProcessor(str(pbf)):
        writer.add(obj)
    writer.close()
    feats = ox.features_from_xml(xml, tags={"building": True, "landuse": "residential"})
    return pbf, feats


@pytest.mark.realdata
def test_osm_buildings_match_independent_reading(nanjing):
    pbf, feats = nanjing
    ours_all = buildings_from_osm(pbf, residential=False)
    ours = buildings_from_osm(pbf)
    polys = feats[feats.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    bld = polys[polys["building"].notna() & (polys["building"] != "no")]
    zones = polys[polys["landuse"] == "residential"]
    ids = [("w" if el == "way" else "r") + str(i) for el, i in bld.index]
    assert sorted(ids) == ours_all["building_id"].tolist()
    kind = bld["building"].to_numpy(dtype=object)
    generic = np.isin(kind, list(GENERIC_BUILDING_TAGS))
    in_zone = gpd.sjoin(
        gpd.GeoDataFrame(geometry=bld.representative_point(), crs=4326),
        zones[["geometry"]],
        predicate="intersects",
    ).index.unique()
    resi = np.isin(kind, list(RESIDENTIAL_BUILDING_TAGS)) | (generic & bld.index.isin(in_zone))
    expect_ids = sorted(np.array(ids)[resi])
    assert ours["building_id"].tolist() == expect_ids
    assert 0 < len(ours) < len(ours_all)
    # Footprints: our UTM areas against pyproj geodesic areas of OSMnx's polygons.
    ref = pd.Series(_geodesic_area(bld.geometry), index=ids).loc[expect_ids].to_numpy()
    est = households_from_buildings(ours)
    np.testing.assert_allclose(est["footprint_m2"].to_numpy(), ref, rtol=3e-3)
    lv = pd.to_numeric(bld["building:levels"], errors="coerce")
    lv = pd.Series(lv.to_numpy(), index=ids).loc[expect_ids].to_numpy()
    lv = np.where(np.isfinite(lv) & (lv > 0), lv, DEFAULT_NORMS.default_levels)
    dwelling = ref >= DEFAULT_NORMS.min_dwelling_footprint_m2
    expect_hh = np.where(dwelling, np.maximum(1, np.rint(ref * lv / 90.0)), 0)
    assert est["dwelling"].sum() == dwelling.sum()
    assert est["households"].sum() == pytest.approx(expect_hh.sum(), rel=3e-3)


@pytest.mark.realdata
def test_households_command_writes_one_row_per_residential_building(realdata, tmp_path, capsys):
    pbf = realdata / "nanjing" / "nanjing_xinjiekou.osm.pbf"
    out = tmp_path / "hh.geojson"
    assert main(["households", "--from-osm", str(pbf), "--out", str(out), "--points"]) == 0
    from gridplan.io import read_households

    got = read_households(out)
    est = households_from_buildings(buildings_from_osm(pbf))
    est = est[est["dwelling"]]
    assert len(got) == len(est) and got["building_id"].is_unique
    assert got["households"].sum() == est["households"].sum()
    assert (got.geometry.geom_type == "Point").all()
    assert got.geometry.within(est.geometry.reset_index(drop=True)).all()
    assert f"{len(got):,} buildings" in capsys.readouterr().out

"""Loading a walking network: OSM files, OSMnx graphs and GraphML, line files, downloads.

Whatever the source, the lines go through :func:`gridplan.network.graph.network_from_lines`, the
one place where the graph rules live.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import geopandas as gpd

from gridplan.errors import NetworkError
from gridplan.io.readers import GDAL_ERRORS
from gridplan.network.graph import WalkNetwork, network_from_lines

__all__ = ["load_network", "OSM_SUFFIXES", "GRAPHML_SUFFIXES"]

OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".xml")
GRAPHML_SUFFIXES = (".graphml", ".graphml.gz")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in OSM_SUFFIXES + GRAPHML_SUFFIXES:
        if name.endswith(s):
            return s
    return path.suffix.lower()


def _graph_lines(graph) -> gpd.GeoDataFrame:
    import osmnx as ox

    # OSMnx walk graphs hold every street twice (u->v and v->u); OSMnx's own undirected view
    # keeps one of each pair, so edge counts and snapping see each street once
    if graph.is_directed():
        graph = ox.convert.to_undirected(graph)
    edges = ox.convert.graph_to_gdfs(graph, nodes=False, fill_edge_geometry=True).reset_index()
    keep = [
        c for c in ("highway", "name", "osmid", "foot", "access", "sidewalk", "area") if c in edges.columns
    ]
    return edges[keep + ["geometry"]]


def load_network(
    source=None,
    *,
    place: str | None = None,
    polygon=None,
    crs=None,
    layer: str | None = None,
    progress: bool = False,
) -> WalkNetwork:
    """Load a walking network.

    Parameters
    ----------
    source : str, Path, GeoDataFrame or networkx graph, optional
        An OSM file (``.osm``, ``.osm.bz2``, ``.osm.pbf``, read with pyosmium), an OSMnx GraphML
        file (``osmnx.load_graphml``), a line file (GeoJSON, GeoPackage, Shapefile, GeoParquet),
        a GeoDataFrame of lines, or an OSMnx graph.
    place : str, optional
        Download the walking network of this place with OSMnx (needs the internet).
    polygon : shapely Polygon or GeoDataFrame, optional
        Download the walking network inside this polygon (WGS-84) with OSMnx.
    crs : optional
        Metric CRS to use (default: the UTM zone of the network).
    layer : str, optional
        Layer of a multi-layer line file.
    progress : bool
        Show a tqdm progress bar over the two steps (reading the ways, building the graph).

    Returns
    -------
    WalkNetwork

    Raises
    ------
    NetworkError
        Unreadable file, no walkable ways, or a failed download.
    """
    from tqdm import tqdm

    with tqdm(total=2, desc="walking network", unit="step", disable=not progress) as bar:
        bar.set_postfix_str("reading")
        lines, name = _network_lines(source, place=place, polygon=polygon, layer=layer)
        bar.update(1)
        bar.set_postfix_str("building the graph")
        net = network_from_lines(lines, crs=crs, source=name)
        bar.update(1)
    return net


def _network_lines(source, *, place, polygon, layer) -> tuple[gpd.GeoDataFrame, str]:
    """The walking network's lines and the name used in messages (see :func:`load_network`)."""
    if source is None and place is None and polygon is None:
        raise NetworkError(
            "no walking network given",
            fix="pass --network FILE (OSM, GraphML or GeoJSON lines) or --place NAME",
            message_zh="未提供步行路网",
            fix_zh="请用 --network 指定路网文件，或用 --place 指定地名",
        )
    if source is None:
        return _download(place=place, polygon=polygon), f"OSM download ({place or 'polygon'})"
    if isinstance(source, gpd.GeoDataFrame):
        return source, "GeoDataFrame"
    if hasattr(source, "edges") and hasattr(source, "graph"):  # a networkx graph from OSMnx
        return _graph_lines(source), "graph"
    path = Path(source)
    if not path.exists():
        raise NetworkError(
            "the walking network file does not exist",
            file=str(path),
            fix="check the path given to --network",
            message_zh="步行路网文件不存在",
        )
    suffix = _suffix(path)
    if suffix in OSM_SUFFIXES:
        from gridplan.network.osm import read_osm_ways

        return read_osm_ways(path), str(path)
    if suffix in GRAPHML_SUFFIXES:
        import osmnx as ox

        try:
            graph = ox.load_graphml(path)
        except (OSError, ValueError, KeyError, TypeError, ElementTree.ParseError) as exc:
            # networkx's GraphML reader: XML errors, and missing or mistyped attributes
            raise NetworkError(
                f"cannot read the GraphML file: {exc}",
                file=str(path),
                fix="save the graph with osmnx.save_graphml",
                message_zh="无法读取 GraphML 文件",
            ) from exc
        return _graph_lines(graph), str(path)
    return _read_lines(path, layer), str(path)


def _read_lines(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    # gridplan.io.files has no "network" kind (its readers check contract columns of the other
    # layers), so line files are read with pyogrio directly.
    import pyogrio

    try:
        gdf = pyogrio.read_dataframe(path, layer=layer)
    except GDAL_ERRORS as exc:
        raise NetworkError(
            f"cannot read the walking network: {exc}",
            file=str(path),
            fix="give GeoJSON lines, an OSM file or an OSMnx GraphML file",
            message_zh="无法读取步行路网文件",
        ) from exc
    if gdf.crs is None and path.suffix.lower() in (".geojson", ".json"):
        gdf = gdf.set_crs("EPSG:4326")  # RFC 7946: GeoJSON is WGS-84
    return gdf


def _download(*, place=None, polygon=None) -> gpd.GeoDataFrame:
    import osmnx as ox

    try:
        if place is not None:
            graph = ox.graph_from_place(place, network_type="walk", simplify=False)
        else:
            if isinstance(polygon, (gpd.GeoDataFrame, gpd.GeoSeries)):
                polygon = polygon.to_crs(4326).union_all()
            graph = ox.graph_from_polygon(polygon, network_type="walk", simplify=False)
    except Exception as exc:  # noqa: BLE001
        # A download fails in many ways (requests/urllib3 errors, OSMnx's own exception classes
        # from a private module, empty responses); each must become the same NetworkError with
        # the offline fix, so the broad clause is deliberate here and only here.
        raise NetworkError(
            f"could not download the walking network from OpenStreetMap: {type(exc).__name__}: {exc}",
            file=str(place) if place else "polygon",
            fix="check the internet connection and the place name, or pass --network with an "
            "OSM/GraphML/GeoJSON file",
            message_zh="无法从 OpenStreetMap 下载步行路网",
            fix_zh="请检查网络连接和地名，或用 --network 指定本地路网文件",
        ) from exc
    return _graph_lines(graph)

"""Sample district, step 4: party-mass service centres and stations (local metric frame).

Sites are chosen so that the hard cases the sample promises hold: one corner community has no
centre of its own and its neighbours' centres sit on their far sides, so that a cluster of
households there is beyond a 15-minute walk; one centre is below the floor-area norm.
"""

from __future__ import annotations

import numpy as np
import shapely

from gridplan.datasets.layout import RIVER_WIDTH, Layout
from gridplan.norms import DEFAULT_NORMS

STREET_CENTRE_M2 = 1600.0
#: How far (in units of the distance between centroids) neighbours of the far community move
#: their centre away from it; tried in turn until the far cluster is big enough.
PUSHES = (0.2, 0.5, 1.0, 3.0)


def _kerb_sites(blocks_geom, avoid) -> np.ndarray:
    """Candidate centre sites: points 7 m inside block edges, every 5 m, away from ``avoid``."""
    rings = shapely.segmentize(shapely.boundary(shapely.buffer(blocks_geom, -7.0)), 5.0)
    pts = shapely.get_coordinates(rings)
    ok = shapely.distance(shapely.points(pts), avoid) > 0
    return pts[ok]


def place_centres(
    layout: Layout, community_polys, community_hh: np.ndarray, far: int, estates_zone, push: float = PUSHES[0]
) -> list[dict]:
    """Street centre and community centres; ``far`` gets none."""
    roads = layout.roads
    primary = shapely.unary_union(roads.loc[roads["highway"] == "primary", "geometry"].values)
    avoid = shapely.unary_union(
        [primary.buffer(22.0), layout.river.buffer(RIVER_WIDTH / 2 + 8), estates_zone]
    )
    blocks = layout.blocks
    cent = shapely.get_coordinates(shapely.centroid(community_polys))
    far_c = cent[far]
    far_poly = community_polys[far]
    out = []
    norm = DEFAULT_NORMS.centre_m2_per_100_households / 100.0
    with_centre = [c for c in range(len(community_polys)) if c != far]
    below = max(
        (c for c in with_centre if c != layout.blocks.loc[layout.small_block, "community"]),
        key=lambda c: community_hh[c],
    )
    street_c = np.array(layout.street.centroid.coords[0])
    for c in with_centre:
        sites = _kerb_sites(blocks.geometry.values[blocks["community"].to_numpy() == c], avoid)
        neighbour = shapely.length(shapely.intersection(community_polys[c].boundary, far_poly.boundary)) > 1
        target = cent[c] + (cent[c] - far_c) * push if neighbour else cent[c]
        site = sites[np.argmin(np.hypot(*(sites - target).T))]
        need = community_hh[c] * norm
        factor = 0.5 if c == below else 1.1 + 0.1 * (c % 6)
        area = max(120.0, round(need * factor / 10.0) * 10.0)
        out.append({"kind": "community_centre", "community": c, "xy": site, "area_m2": area})
    # The street centre: in the middle of the street, in whichever community is there.
    c_mid = int(np.argmax(shapely.contains_xy(community_polys, *street_c)))
    if c_mid == far:
        c_mid = with_centre[0]
    sites = _kerb_sites(blocks.geometry.values[blocks["community"].to_numpy() == c_mid], avoid)
    site = sites[np.argmin(np.hypot(*(sites - street_c).T))]
    out.append({"kind": "street_centre", "community": c_mid, "xy": site, "area_m2": STREET_CENTRE_M2})
    return out

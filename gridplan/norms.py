"""Norms and defaults, in one place.

Every number that comes from a standard or is a modelling default lives here, with its source, so
that a planner can see and override it. Functions take these as keyword defaults; the CLI and the
app show them.

Sources (see ../shared/DOMAIN.md and the seed documents):
- Grid size 300-500 households: national practice ("每个网格原则上覆盖300—500户"), e.g. Chongqing.
- Micro-grids: typically one building or 30-100 households (Taizhou).
- Community centre floor area: 30 m² per 100 households (Hunan); Zhejiang's 2025 target 40 m².
- Street (街道) centre: at least 1,000 m².
- Community workers: at least 18 per 10,000 urban residents; one full-time grid worker per grid.
- 15-minute life circle: GB 50180-2018 (5/10/15-minute circles, 300/500/1,000 m walking distance).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from gridplan.errors import InputError

__all__ = [
    "CENTRE_KINDS",
    "COMMUNITY_SNAP_M",
    "COVER_TOL_M",
    "DEFAULT_NORMS",
    "FACILITY_KINDS",
    "GAP_BUFFER_M",
    "GAP_EPS_M",
    "GAP_MIN_HOUSEHOLDS",
    "GRID_MAX_HOUSEHOLDS",
    "GRID_MIN_HOUSEHOLDS",
    "ISOCHRONE_BUFFER_M",
    "ISOCHRONE_MINUTES",
    "LIFE_CIRCLES",
    "MAX_SNAP_M",
    "MICRO_GRID_MAX_HOUSEHOLDS",
    "WALK_MINUTES",
    "WALK_SPEED_KMH",
    "Norms",
    "walk_metres",
]

# --- grids ---------------------------------------------------------------------------------
GRID_MIN_HOUSEHOLDS = 300
GRID_MAX_HOUSEHOLDS = 500
MICRO_GRID_MAX_HOUSEHOLDS = 100
#: Households up to this far outside every community boundary (gaps between civil-affairs
#: polygons) join the nearest community; farther ones are an input error.
COMMUNITY_SNAP_M = 50.0

# --- walking --------------------------------------------------------------------------------
WALK_SPEED_KMH = 4.0
WALK_MINUTES = 15.0
#: Walking minutes of a service station (党群服务站, "中心+站点"): stations are meant to be closer
#: to home than the centre, inside grids and estates (GB 50180-2018's 10-minute circle).
STATION_WALK_MINUTES = 10.0
#: Households farther than this from any walkway are reported as off the network.
MAX_SNAP_M = 300.0
#: Tolerance (metres) when comparing a walking distance with the service circle, so that a
#: household exactly on the line is covered despite floating-point sums. Coverage and siting both
#: use it: the gain a siting run claims is the gain a coverage run measures.
COVER_TOL_M = 1e-6
#: GB 50180-2018 life circles: minutes -> nominal walking distance in metres.
LIFE_CIRCLES = {5: 300.0, 10: 500.0, 15: 1000.0}
#: Isochrone thresholds (minutes) drawn by default.
ISOCHRONE_MINUTES = (5, 10, 15)
#: Isochrone polygons = reachable walkways buffered by this much (metres): the strip a household
#: can stand in and still be "on" a reached walkway (same order as typical building setbacks).
ISOCHRONE_BUFFER_M = 50.0
#: Gaps (clusters of uncovered households): DBSCAN radius (m), minimum households per cluster,
#: and the buffer (m) around each cluster's convex hull.
GAP_EPS_M = 150.0
GAP_MIN_HOUSEHOLDS = 50
GAP_BUFFER_M = 50.0

# --- facilities -----------------------------------------------------------------------------
FACILITY_KINDS = ("street_centre", "community_centre", "station")
#: Kinds that count as a "centre" for the 15-minute circle unless the user says otherwise.
CENTRE_KINDS = ("street_centre", "community_centre")


def walk_metres(minutes: float = WALK_MINUTES, speed_kmh: float = WALK_SPEED_KMH) -> float:
    """Network distance walked in ``minutes`` at ``speed_kmh``."""
    return float(minutes) * float(speed_kmh) * 1000.0 / 60.0


@dataclass(frozen=True)
class Norms:
    """The planning norms and modelling defaults; override with :meth:`with_`.

    The service circle (``walk_minutes``, ``walk_speed_kmh``, ``station_walk_minutes``) and
    ``max_snap_m`` are defaults: :func:`gridplan.coverage` and :func:`gridplan.site` take them
    from the ``norms`` they are given unless the caller passes ``minutes``, ``speed_kmh`` or
    ``max_snap_m`` explicitly (an explicit argument always wins).

    Examples
    --------
    >>> from gridplan.norms import DEFAULT_NORMS
    >>> zhejiang = DEFAULT_NORMS.with_(centre_m2_per_100_households=40.0)
    >>> ten_minutes = DEFAULT_NORMS.with_(walk_minutes=10)
    """

    walk_speed_kmh: float = WALK_SPEED_KMH
    walk_minutes: float = WALK_MINUTES
    #: Walk of a service station's circle (中心+站点): shorter than a centre's.
    station_walk_minutes: float = STATION_WALK_MINUTES
    max_snap_m: float = MAX_SNAP_M
    #: Community centre floor area per 100 households (Hunan: 30; Zhejiang 2025 target: 40).
    centre_m2_per_100_households: float = 30.0
    #: Street-level centre minimum floor area.
    street_centre_min_m2: float = 1000.0
    #: Community workers per 10,000 residents (minimum).
    community_workers_per_10k_residents: float = 18.0
    #: Full-time grid workers per grid.
    grid_workers_per_grid: int = 1
    #: Persons per household when the data has no population (China 2020 census: 2.62).
    household_size: float = 2.62
    #: Gross floor area per household (m²) when estimating households from buildings.
    gross_m2_per_household: float = 90.0
    #: Floors assumed for a residential building without a levels tag.
    default_levels: int = 6
    #: Buildings smaller than this footprint (m²) are not counted as dwellings.
    min_dwelling_footprint_m2: float = 40.0

    def with_(self, **changes) -> Norms:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)

    @property
    def walk_m(self) -> float:
        """Walking distance of the service circle in metres."""
        return walk_metres(self.walk_minutes, self.walk_speed_kmh)

    def service_circle(
        self, minutes: float | None = None, speed_kmh: float | None = None
    ) -> tuple[float, float]:
        """Minutes and walking speed (km/h) of a service circle.

        Parameters
        ----------
        minutes, speed_kmh : float, optional
            The caller's explicit values; ``None`` takes :attr:`walk_minutes` /
            :attr:`walk_speed_kmh`.

        Returns
        -------
        (float, float)

        Raises
        ------
        InputError
            Minutes or speed not positive.
        """
        minutes = float(self.walk_minutes if minutes is None else minutes)
        speed_kmh = float(self.walk_speed_kmh if speed_kmh is None else speed_kmh)
        if minutes <= 0 or speed_kmh <= 0:
            raise InputError(
                "minutes and speed must be positive",
                fix="e.g. --minutes 15 --speed-kmh 4",
                message_zh="分钟数和步行速度必须为正数",
            )
        return minutes, speed_kmh

    def snap_limit(self, max_snap_m: float | None = None) -> float:
        """``max_snap_m`` when given, else :attr:`max_snap_m`."""
        return float(self.max_snap_m if max_snap_m is None else max_snap_m)

    def centre_households_capacity(self, area_m2: float) -> float:
        """Households a centre of ``area_m2`` can serve under the floor-area norm."""
        return float(area_m2) / self.centre_m2_per_100_households * 100.0


DEFAULT_NORMS = Norms()

# --- the planner's app and plan files -------------------------------------------------------
#: Edits a Plan keeps for undo; older ones are forgotten.
PLAN_UNDO_DEPTH = 100
#: Two partition units are neighbours when their cells share at least this much boundary (m);
#: a contact at a corner only does not make a grid contiguous.
UNIT_ADJACENCY_MIN_EDGE_M = 0.5
#: A shared boundary of two units lies on a barrier (arterial road, river, railway) where it is
#: within this distance (m) of the barrier line: unit cells come back from WGS-84 with
#: centimetre-level drift, so an exact test would miss boundaries drawn along the barrier.
PLAN_BARRIER_SNAP_M = 0.5
#: Upload limits: one file (bytes), everything unpacked from one zip (bytes), the compression
#: ratio of a zip member (zip bombs reach 1000:1; real GIS data stays below ~20:1), members per zip.
UPLOAD_MAX_BYTES = 200 * 1024 * 1024
UPLOAD_MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
UPLOAD_MAX_RATIO = 100.0
UPLOAD_MAX_FILES = 500
#: Basemap tiles when neither the app setting nor the GRIDPLAN_TILES environment variable says
#: otherwise. Offline (an intranet without this server) the vector layers still draw.
DEFAULT_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILES_ATTRIBUTION = "© OpenStreetMap contributors"
#: A grid's label (code and households) shows on the web map once the grid spans this many
#: screen pixels (square root of its area): a label ("07 420户") is about 50 px wide.
MAP_LABEL_MIN_PX = 50.0

__all__ += [
    "DEFAULT_TILES_ATTRIBUTION",
    "DEFAULT_TILES_URL",
    "MAP_LABEL_MIN_PX",
    "PLAN_BARRIER_SNAP_M",
    "PLAN_UNDO_DEPTH",
    "UNIT_ADJACENCY_MIN_EDGE_M",
    "UPLOAD_MAX_BYTES",
    "UPLOAD_MAX_FILES",
    "UPLOAD_MAX_RATIO",
    "UPLOAD_MAX_UNPACKED_BYTES",
]

# --- engines (gridplan.parallel.engine) ----------------------------------------------------------------
#: LocalCluster started by ``engine="dask"`` when no scheduler address is given: worker
#: processes and threads per worker (one thread: the per-community and per-tile work is
#: numpy/shapely code that holds the GIL in places, so processes scale better than threads).
DASK_WORKERS = 2
DASK_THREADS_PER_WORKER = 1
#: Side (m) of the square coverage tiles of ``engine="dask"``: 3 km cores with a ~1 km halo
#: (the 15-minute walk) keep the halo overhead near (5/3)^2 while a city still splits into
#: enough tiles to spread over workers.
TILE_M = 3000.0

__all__ += ["DASK_THREADS_PER_WORKER", "DASK_WORKERS", "TILE_M"]

# --- siting (gridplan.siting.api) -----------------------------------------------------------------
#: Lattice spacing (m) of network-node candidate sites: about a block, so a candidate stands near
#: every street corner without multiplying near-identical candidates.
SITING_SPACING_M = 150.0
#: Floor area (m²) assumed for a NEW centre or station in the capacitated model (a typical
#: converted ground floor; 150 m² serves 500 households at 30 m² per 100 households).
NEW_SITE_AREA_M2 = 150.0
#: Seconds allowed to the exact siting solver before it reports its best answer and gap.
SITING_TIME_LIMIT_S = 30.0

__all__ += ["NEW_SITE_AREA_M2", "SITING_SPACING_M", "SITING_TIME_LIMIT_S", "STATION_WALK_MINUTES"]

# --- web-map coordinates read as WGS-84 (gridplan.io.coords.detect_web_offset: validate, coverage)
#: The households check and coverage suspect GCJ-02/BD-09 points declared WGS-84 when at least
#: this share of household rows is misplaced (outside every community; for coverage also off the
#: walking network) ...
COORDS_SUSPECT_SHARE = 0.1
#: ... and at least this many rows (a couple of stray points can land near a walkway by chance) ...
COORDS_SUSPECT_MIN_ROWS = 5
#: ... and converting the points would put right at least this share of those rows (the Chinese
#: web-map offset is a few hundred metres).
COORDS_CONFIRM_SHARE = 0.8

__all__ += ["COORDS_CONFIRM_SHARE", "COORDS_SUSPECT_MIN_ROWS", "COORDS_SUSPECT_SHARE"]

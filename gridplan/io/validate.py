"""Every input check, in one place: used by the readers, every command and the app.

:func:`validate_inputs` takes GeoDataFrames (or file paths) for any of the input layers, brings
each to the data contract and checks the layers against each other. It never raises for bad data:
the result lists every problem; :meth:`ValidationResult.raise_if_errors` turns errors into an
:class:`~gridplan.errors.InputError`.

Rules worth knowing
-------------------
- A household outside every community is a *reject*: it is counted and listed (row, id, location)
  in :attr:`ValidationResult.rejects`, kept in the cleaned households frame with a missing
  ``community_id``, and never dropped silently. If no household at all falls inside a community,
  that is an error.
- Overlapping community polygons are reported with their overlap area. A household inside an
  overlap goes to the community whose representative point (``shapely.point_on_surface``) is
  nearest to it, ties broken by the lowest ``community_id``: a deterministic rule that keeps a
  household with the community it is most "inside".
- GCJ-02 points declared WGS-84: when many households fall outside every community and
  converting them from GCJ-02 (or BD-09) to WGS-84 would put most of them inside
  (:func:`gridplan.io.coords.detect_web_offset`, the same test coverage uses), a warning
  suggests ``--coords gcj02`` (``bd09``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.errors import InputError
from gridplan.io.coords import detect_web_offset
from gridplan.io.files import read_checked, split_columns
from gridplan.io.join import containing_polygon, outside_all
from gridplan.io.problems import ROW_NUMBERS, Problem, number_rows, raise_first_error
from gridplan.io.projection import local_crs
from gridplan.io.readers import source_name
from gridplan.io.schema import KINDS, conform

__all__ = ["Problem", "ValidationResult", "validate_inputs", "OVERLAP_MIN_M2"]

#: Overlaps between community polygons smaller than this are digitising noise, not reported.
OVERLAP_MIN_M2 = 1.0


@dataclass
class ValidationResult:
    """What :func:`validate_inputs` found.

    Attributes
    ----------
    problems : list of Problem
        Errors, warnings and repairs, in the order found.
    frames : dict of str -> GeoDataFrame
        The cleaned layers (contract columns, EPSG:4326, repaired geometries; households with
        ``community_id`` from a spatial join when they had none).
    rejects : GeoDataFrame or None
        Households outside every community: ``row`` (the row as messages name it: its number
        in the file, or its 0-based position in a GeoDataFrame) and the household's columns.
        ``None`` when there were no communities to test against.
    """

    problems: list[Problem] = field(default_factory=list)
    frames: dict = field(default_factory=dict)
    rejects: gpd.GeoDataFrame | None = None

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings and repairs allowed)."""
        return not any(p.severity == "error" for p in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def raise_if_errors(self) -> None:
        """Raise :class:`~gridplan.errors.InputError` for the first error (naming how many more)."""
        raise_first_error(self.problems)

    def to_frame(self) -> pd.DataFrame:
        """The problems as a table (one row per problem)."""
        cols = [
            "severity",
            "code",
            "file",
            "column",
            "n_rows",
            "rows",
            "message",
            "fix",
            "message_zh",
            "fix_zh",
        ]
        recs = []
        for p in self.problems:
            d = p.to_dict()
            d["n_rows"] = len(p.shown_rows)
            d["rows"] = ", ".join(str(r) for r in p.shown_rows[:50])
            recs.append(d)
        return pd.DataFrame.from_records(recs, columns=cols)

    def to_text(self, lang: str = "en") -> str:
        """A readable report: counts per layer, then one line per problem."""
        zh = lang == "zh"
        lines = []
        for kind, gdf in self.frames.items():
            if gdf is None:
                continue
            extra = ""
            if kind == "households" and "households" in gdf.columns:
                extra = (
                    f", {int(gdf['households'].sum()):,} 户"
                    if zh
                    else f", {int(gdf['households'].sum()):,} households"
                )
            lines.append(f"{kind}: {len(gdf):,} {'行' if zh else 'rows'}{extra}")
        if self.rejects is not None and len(self.rejects):
            lines.append(
                ("社区外的户点" if zh else "households outside every community")
                + f": {len(self.rejects):,} {'行' if zh else 'rows'}, "
                f"{int(self.rejects['households'].sum()):,} " + ("户" if zh else "households")
            )
        n = {s: sum(p.severity == s for p in self.problems) for s in ("error", "warning", "repaired")}
        lines.append(
            f"错误 {n['error']}，警告 {n['warning']}，已修复 {n['repaired']}"
            if zh
            else f"{n['error']} error(s), {n['warning']} warning(s), {n['repaired']} repair(s)"
        )
        label = {
            "error": "错误" if zh else "ERROR",
            "warning": "警告" if zh else "WARNING",
            "repaired": "已修复" if zh else "REPAIRED",
        }
        for p in self.problems:
            lines.append(f"  [{label[p.severity]}] {p.code}: {p.text(lang)}")
        return "\n".join(lines)


def validate_inputs(
    households=None,
    communities=None,
    facilities=None,
    buildings=None,
    estates=None,
    barriers=None,
    *,
    names: dict | None = None,
    columns: dict | None = None,
    coords: str | dict = "wgs84",
    layers: dict | None = None,
    crs: dict | None = None,
) -> ValidationResult:
    """Check the input layers, alone and against each other.

    Parameters
    ----------
    households, communities, facilities, buildings, estates, barriers : GeoDataFrame or path
        Any subset of the input layers. A path is read with :func:`gridplan.io.files.read_checked`.
    names : dict, optional
        kind -> file name used in messages (defaults to the path's name or the kind).
    columns : dict, optional
        Contract field -> file column, applied to each *file* that has that column
        (:func:`gridplan.io.files.split_columns`); an entry that fits no file is an error.
    coords : {"wgs84", "gcj02", "bd09"} or dict
        Datum of the households and facilities *files* (web-map points); or a dict layer kind ->
        datum for each file.
    layers, crs : dict, optional
        Layer kind -> GeoPackage layer / Excel sheet, and -> CRS of a table's x/y columns
        (:func:`gridplan.io.files.read_layer`).

    Returns
    -------
    ValidationResult
    """
    given = dict(
        households=households,
        communities=communities,
        facilities=facilities,
        buildings=buildings,
        estates=estates,
        barriers=barriers,
    )
    names = dict(names or {})
    result = ValidationResult()
    by_datum = dict(coords) if isinstance(coords, dict) else {"households": coords, "facilities": coords}
    try:
        by_kind = split_columns(
            columns or {}, {k: v for k, v in given.items() if isinstance(v, (str, Path))}, layers
        )
    except InputError as exc:
        result.problems.append(
            Problem(
                "error",
                "mapped_column_missing",
                exc.file or "",
                exc.column,
                [],
                exc.message,
                exc.fix or "",
                exc.message_zh or "",
                exc.fix_zh or "",
            )
        )
        return result
    for kind in KINDS:
        obj = given[kind]
        if obj is None:
            continue
        if isinstance(obj, (str, Path)):
            names.setdefault(kind, source_name(obj))
            gdf, probs = read_checked(
                obj,
                kind,
                columns=by_kind[kind] or None,
                coords=by_datum.get(kind, "wgs84"),
                layer=(layers or {}).get(kind),
                crs=(crs or {}).get(kind),
            )
        elif isinstance(obj, gpd.GeoDataFrame):
            gdf, probs = conform(obj, kind, names.get(kind, kind))
            gdf.attrs.pop(ROW_NUMBERS, None)  # a frame from Python: rows are its positions
        else:
            raise InputError(
                f"{kind} must be a GeoDataFrame or a file path, not {type(obj).__name__}",
                fix="read the file with gridplan.io.files first",
            )
        result.problems += probs
        layer_ok = not any(p.severity == "error" for p in probs)
        result.frames[kind] = gdf if layer_ok else None
    comm = result.frames.get("communities")
    if comm is not None:
        _check_overlaps(comm, result, names.get("communities", "communities"))
    hh = result.frames.get("households")
    if hh is not None and comm is not None:
        _join_households(hh, comm, result, names)
    fac = result.frames.get("facilities")
    if fac is not None and comm is not None and "community_id" in fac.columns:
        unknown = fac["community_id"].notna() & ~fac["community_id"].isin(comm["community_id"])
        if unknown.any():
            result.problems.append(
                _about_rows(
                    fac,
                    "warning",
                    "unknown_community_id",
                    names.get("facilities", "facilities"),
                    "community_id",
                    unknown,
                    "facilities name communities that are not in the communities layer",
                    "check the community_id values",
                    "设施的 community_id 不在社区图层中",
                )
            )
    return result


def _numbers(frame: pd.DataFrame):
    """The file's row numbers of a frame read by :func:`read_checked` (None: a frame from
    Python, or one whose rows no longer match them)."""
    numbers = frame.attrs.get(ROW_NUMBERS)
    return numbers if numbers is not None and len(numbers) == len(frame) else None


def _about_rows(
    frame, severity, code, file, column, mask, message, fix="", message_zh="", fix_zh=""
) -> Problem:
    """A Problem about the rows of ``frame`` where ``mask`` holds, numbered as the file's."""
    rows = np.flatnonzero(np.asarray(mask)).tolist()
    return Problem(
        severity,
        code,
        file,
        column,
        rows,
        message,
        fix,
        message_zh,
        fix_zh,
        number_rows(_numbers(frame), rows),
    )


def _check_overlaps(comm: gpd.GeoDataFrame, result, name):
    metric = comm.to_crs(local_crs(comm))
    geoms = np.asarray(metric.geometry.values)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if not len(left):
        return
    area = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    big = area >= OVERLAP_MIN_M2
    if not big.any():
        return
    ids = comm["community_id"].to_numpy()
    pairs = [f"{ids[a]}/{ids[b]} {ar:,.0f} m²" for a, b, ar in zip(left[big], right[big], area[big])]
    rows = np.zeros(len(comm), dtype=bool)
    rows[left[big]] = rows[right[big]] = True
    result.problems.append(
        _about_rows(
            comm,
            "warning",
            "communities_overlap",
            name,
            "geometry",
            rows,
            f"{int(big.sum())} pair(s) of communities overlap, {area[big].sum():,.0f} m² in all "
            f"({'; '.join(pairs[:5])}{' ...' if len(pairs) > 5 else ''}); a household in an overlap "
            "goes to the community whose representative point is nearest",
            "correct the shared boundaries in the source",
            f"{int(big.sum())} 对社区边界重叠，共 {area[big].sum():,.0f} 平方米；"
            "重叠区内的户点归属代表点最近的社区",
            "请修正相邻社区的共同边界",
        )
    )


def _join_households(hh, comm, result, names):
    hname = names.get("households", "households")
    polys = np.asarray(comm.geometry.values)
    ids = comm["community_id"].to_numpy(dtype=object)
    if "community_id" in hh.columns and hh["community_id"].notna().any():
        unknown = hh["community_id"].notna() & ~hh["community_id"].isin(comm["community_id"])
        if unknown.any():
            result.problems.append(
                _about_rows(
                    hh,
                    "error",
                    "unknown_community_id",
                    hname,
                    "community_id",
                    unknown,
                    "community_id values that are not in the communities layer: "
                    + ", ".join(sorted(set(hh.loc[unknown, "community_id"].astype(str)))[:5]),
                    "correct the ids, or drop the column to join households to communities by location",
                    "户点的 community_id 不在社区图层中",
                    "请更正编号，或删除该列按位置匹配社区",
                )
            )
            result.frames["households"] = None
            return
    tree = shapely.STRtree(polys)
    choice = containing_polygon(hh.geometry, comm.geometry, ids)
    outside = choice < 0
    cleaned = hh.copy()
    joined = pd.Series(np.where(outside, None, ids[np.maximum(choice, 0)]), index=hh.index, dtype="str")
    if "community_id" in hh.columns:
        # A community_id given in the file wins over the spatial join.
        given = hh["community_id"].notna().to_numpy()
        joined = hh["community_id"].where(given, joined)
        outside &= ~given
    cleaned["community_id"] = joined.astype("str")
    result.frames["households"] = cleaned
    n_out = int(outside.sum())
    hh_out = int(hh["households"].to_numpy()[outside].sum()) if n_out else 0
    rejects = hh.loc[outside].copy()
    rejects.insert(0, "row", number_rows(_numbers(hh), np.flatnonzero(outside)))
    result.rejects = gpd.GeoDataFrame(rejects, geometry=hh.geometry.name, crs=hh.crs)
    _outside_problems(hh, outside, hh_out, tree, hname, result)
    if n_out < len(hh):
        empty = ~comm["community_id"].isin(set(joined.dropna()))
        if empty.any():
            result.problems.append(
                _about_rows(
                    comm,
                    "warning",
                    "community_without_households",
                    names.get("communities", "communities"),
                    "community_id",
                    empty,
                    f"{int(empty.sum())} communit(ies) contain no household: "
                    + ", ".join(comm.loc[empty, "community_id"].astype(str).head(5)),
                    "check that the household file covers these communities",
                    f"{int(empty.sum())} 个社区内没有户点",
                    "请检查户点数据是否覆盖这些社区",
                )
            )


def _outside_problems(
    hh, outside: np.ndarray, hh_out: int, tree, hname: str, result: ValidationResult
) -> None:
    """What the households outside every community tell: a likely datum mix-up (GCJ-02/BD-09),
    nothing inside at all (an error), or rejects to list."""
    n_out = int(outside.sum())
    hint = ""
    guess = detect_web_offset(hh.geometry, outside, lambda x, y: outside_all(x, y, tree))
    if guess is not None:
        src, share = guess.system, guess.fixed_share
        hint = src
        result.problems.append(
            Problem(
                "warning",
                f"looks_{src}",
                hname,
                "geometry",
                [],
                f"{n_out:,} of {len(hh):,} households fall outside every community, but "
                f"{share:.0%} of them would fall inside if the points were {guess.label} "
                "coordinates, which are offset by a few hundred metres from WGS-84",
                f'read the households with --coords {src} (coords="{src}")',
                f"{n_out:,}/{len(hh):,} 个户点落在所有社区之外，但若按 {src.upper()} 坐标转换，"
                f"其中 {share:.0%} 会落在社区内",
                f"请使用 --coords {src} 读取户点",
            )
        )
    if n_out == len(hh):
        result.problems.append(
            Problem(
                "error",
                "all_outside",
                hname,
                "geometry",
                [],
                "no household falls inside any community",
                (
                    f"read the households with --coords {hint}"
                    if hint
                    else "check that households and communities cover the same area and coordinate system"
                ),
                "没有任何户点落在社区范围内",
                f"请使用 --coords {hint}" if hint else "请检查户点与社区是否为同一区域、同一坐标系",
            )
        )
    elif n_out:
        result.problems.append(
            _about_rows(
                hh,
                "warning",
                "outside_communities",
                hname,
                "geometry",
                outside,
                f"{n_out:,} row(s) ({hh_out:,} households) lie outside every community; they are "
                "listed as rejects (rejects.csv) and not assigned to any grid",
                "check their coordinates or extend the community boundaries",
                f"{n_out:,} 行（{hh_out:,} 户）位于所有社区之外，已列入 rejects.csv，不分配网格",
                "请检查其坐标，或补全社区边界",
            )
        )

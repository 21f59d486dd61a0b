"""The value rules of each layer kind: household counts, ids, facility kinds, levels.

:func:`gridplan.io.schema.conform` applies :class:`Kinds` after the columns, CRS and geometry
are settled; the parsing helpers here (numbers written as "12户", ids as "101" or 101.0) are
the only ones in gridplan.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import shapely

from gridplan.norms import FACILITY_KINDS

__all__ = [
    "Kinds",
    "count_column",
    "facility_points",
    "row_positions",
    "KIND_ALIASES",
    "MAX_HOUSEHOLDS_AT_POINT",
    "header_key",
    "parse_numbers",
    "to_id",
]


#: More households than this at one point is implausible (the largest towers hold about
#: 1,000; a whole estate is rarely 5,000): more likely a total row or a population column.
MAX_HOUSEHOLDS_AT_POINT = 5_000


#: A numeric column whose header holds one of these is probably a household count: without a
#: ``households`` column the reader stops rather than count one household per row.
COUNT_HINTS = ("户", "household", "hh")


#: Facility kind spellings accepted besides the contract values.
KIND_ALIASES = {
    "street": "street_centre",
    "street_center": "street_centre",
    "街道党群服务中心": "street_centre",
    "街道": "street_centre",
    "community": "community_centre",
    "community_center": "community_centre",
    "社区党群服务中心": "community_centre",
    "社区": "community_centre",
    "党群服务站": "station",
    "站点": "station",
    "服务站": "station",
}


_NUMBER = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*([^\d\s.+-]{0,4})\s*$")


def _count_like(header) -> bool:
    """A header that suggests a household count: not an id (``household_id``, ``户号``) and not
    a population (``户籍人口``)."""
    key = header_key(header)
    if re.search(r"(id|编号|代码|号|编码)$", key) or "_id" in key:
        return False
    if any(p in key for p in ("人口", "人数", "pop")):
        return False
    return any(h in key for h in COUNT_HINTS)


def _numeric(s: pd.Series) -> bool:
    """True when every filled cell of ``s`` reads as a number (``12`` or ``12户``)."""
    values, bad, _ = parse_numbers(s)
    return bool(values.notna().any()) and not bad.any()


def header_key(name) -> str:
    """A header as compared with :data:`ALIASES`: lower case, no unit in brackets at the end."""
    key = str(name).strip().lower()
    return re.sub(r"\s*[（(][^）)]*[）)]$", "", key).strip()


def row_positions(mask) -> list[int]:
    return np.flatnonzero(np.asarray(mask)).tolist()


def parse_numbers(s: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse a column of numbers written as numbers or text such as "12户".

    Returns (float values with NaN for blanks, bad-row mask, with-unit mask). Vectorised with
    pandas string methods: no Python loop per row.
    """
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype(float), np.zeros(len(s), bool), np.zeros(len(s), bool)
    if pd.api.types.is_numeric_dtype(s.dtype):
        v = pd.to_numeric(s, errors="coerce").astype(float)
        return v, np.zeros(len(s), bool), np.zeros(len(s), bool)
    blank = s.isna().to_numpy().copy()
    st = s.astype("string").str.strip()
    blank |= (st == "").fillna(True).to_numpy(dtype=bool)
    m = st.str.extract(_NUMBER)
    num = pd.to_numeric(m[0], errors="coerce").astype(float)
    bad = num.isna().to_numpy() & ~blank
    unit = (m[1].fillna("").astype("string").str.len().fillna(0).to_numpy() > 0).copy()
    unit &= ~bad
    return num.where(~pd.isna(num), np.nan), bad, unit


def to_id(s: pd.Series) -> pd.Series:
    """Identifiers as strings: 101 and 101.0 both become "101"; blanks become missing."""
    if pd.api.types.is_float_dtype(s.dtype):
        f = s.to_numpy(dtype=float)
        whole = np.isfinite(f) & (np.floor(f) == f)
        if whole[np.isfinite(f)].all():
            s = pd.Series(
                pd.array(np.where(whole, f, 0).astype(np.int64), dtype="Int64"), index=s.index
            ).mask(~whole)
    elif pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("string")
    out = s.astype("string").str.strip()
    out = out.mask(out == "")
    return out.astype("str")


def facility_points(arr: np.ndarray, types: np.ndarray, null: np.ndarray, add):
    """Facilities drawn as building outlines stand at a point inside them
    (``shapely.point_on_surface``: inside even for an L-shaped or ring-shaped building)."""
    polys = np.isin(types, (3, 6)) & ~null
    if not polys.any():
        return arr, types
    arr = arr.copy()
    arr[polys] = shapely.point_on_surface(shapely.make_valid(arr[polys]))
    add(
        "warning",
        "facility_polygons",
        f"{int(polys.sum())} facilit(ies) are polygons (building outlines); each is placed at a "
        "point inside its outline",
        column="geometry",
        rows=np.flatnonzero(polys),
        fix="give facilities as points (their entrance) for exact walking distances",
        message_zh=f"{int(polys.sum())} 个设施为多边形（建筑轮廓），已取轮廓内的一点作为其位置",
        fix_zh="如需精确步行距离，请以点（入口位置）提供设施",
    )
    return arr, np.asarray(shapely.get_type_id(arr))


class Kinds:
    """Per-kind value checks; each mutates the frame in place and adds problems."""

    @staticmethod
    def households(gdf, add):
        if "households" not in gdf.columns:
            counts = [c for c in gdf.columns if c != "geometry" and _count_like(c) and _numeric(gdf[c])]
            if counts:
                add(
                    "error",
                    "households_unmapped",
                    f"no 'households' column, but column "
                    f"'{counts[0]}' looks like a household count; reading one household per row "
                    "would be wrong",
                    column=counts[0],
                    fix=f"pass --map households={counts[0]} (columns={{'households': "
                    f"'{counts[0]}'}} in Python), or rename the column",
                    message_zh=f"没有 'households' 列，但 '{counts[0]}' 列像是户数；按每行一户计会出错",
                    fix_zh=f"请用 --map households={counts[0]} 指定户数列",
                )
                return
            gdf["households"] = np.ones(len(gdf), dtype=np.int64)
            add(
                "warning",
                "households_missing",
                "there is no 'households' column; each row counts as one household",
                column="households",
                fix="map the household count column with --map households=COLUMN if there is one",
                message_zh="没有 'households' 列，每行按一户计",
                fix_zh="如有户数列，请用 --map households=列名 指定",
            )
        else:
            count_column(gdf, "households", add, required=True, minimum=1, unit_word="户")
            _implausible_counts(gdf["households"], add)
        if "population" in gdf.columns:
            count_column(gdf, "population", add, required=False, minimum=0, unit_word="人")

    @staticmethod
    def communities(gdf, add):
        if "name" not in gdf.columns and "community_id" in gdf.columns:
            gdf["name"] = gdf["community_id"]
        for col in ("name", "street_name"):
            if col in gdf.columns:
                gdf[col] = gdf[col].astype("string").astype("str")

    @staticmethod
    def facilities(gdf, add):
        if "kind" not in gdf.columns:
            # Lists of 党群服务中心 scraped from web maps rarely say which level a centre is.
            gdf["kind"] = "community_centre"
            add(
                "warning",
                "kind_missing",
                "there is no 'kind' column; every facility is taken as a community_centre",
                column="kind",
                fix="add a 'kind' column (street_centre, community_centre or station) or map one "
                "with --map kind=COLUMN",
                message_zh="没有 'kind' 列，所有设施均按社区党群服务中心处理",
                fix_zh="请添加 'kind' 列（street_centre、community_centre 或 station）",
            )
        k = gdf["kind"].astype("string").str.strip()
        k = k.str.lower().replace(KIND_ALIASES)
        unknown = ~k.isin(FACILITY_KINDS).fillna(False).to_numpy(dtype=bool)
        if unknown.any():
            vals = sorted(set(gdf["kind"][unknown].astype(str)))[:5]
            add(
                "error",
                "unknown_kind",
                f"unknown facility kind(s) {', '.join(vals)}",
                column="kind",
                rows=row_positions(unknown),
                fix=f"use one of {', '.join(FACILITY_KINDS)}",
                message_zh=f"未知的设施类型 {', '.join(vals)}",
                fix_zh="类型须为 street_centre（街道中心）、community_centre（社区中心）或 station（站点）",
            )
        gdf["kind"] = k.astype("str")
        if "name" not in gdf.columns and "facility_id" in gdf.columns:
            gdf["name"] = gdf["facility_id"]
        if "area_m2" in gdf.columns:
            v, bad, _ = parse_numbers(gdf["area_m2"])
            if bad.any():
                add(
                    "error",
                    "non_numeric",
                    "floor area is not a number",
                    column="area_m2",
                    rows=row_positions(bad),
                    fix="write area_m2 as a number of square metres",
                    message_zh="面积不是数字",
                )
            gdf["area_m2"] = v.to_numpy(dtype=float)

    @staticmethod
    def buildings(gdf, add):
        if "building_id" not in gdf.columns:
            gdf["building_id"] = (
                pd.Series(np.arange(len(gdf)), index=gdf.index).map("B{}".format).astype("str")
            )
            add(
                "warning",
                "ids_generated",
                "no 'building_id' column; ids B0, B1, ... were given by row order",
                column="building_id",
                fix="map an id column with --map building_id=COLUMN",
                message_zh="没有 'building_id' 列，已按行号生成编号",
            )
        if "levels" in gdf.columns:
            v, bad, _ = parse_numbers(gdf["levels"])
            if bad.any():
                add(
                    "warning",
                    "non_numeric",
                    "levels that are not numbers are treated as unknown (default floors apply)",
                    column="levels",
                    rows=row_positions(bad),
                    fix="write levels as a whole number of floors",
                    message_zh="层数不是数字，按默认层数计",
                )
            v = v.where(v > 0)
            gdf["levels"] = v.to_numpy(dtype=float)
        if "households" in gdf.columns:
            count_column(gdf, "households", add, required=False, minimum=0, unit_word="户")

    @staticmethod
    def estates(gdf, add):
        if "name" not in gdf.columns and "estate_id" in gdf.columns:
            gdf["name"] = gdf["estate_id"]

    @staticmethod
    def barriers(gdf, add):
        if "kind" not in gdf.columns:
            gdf["kind"] = "arterial"
            add(
                "warning",
                "barrier_kind_missing",
                "no 'kind' column; every line is taken as an arterial road",
                column="kind",
                fix="add kind = arterial, river or railway",
                message_zh="没有 'kind' 列，所有线均按主干道处理",
            )
        else:
            gdf["kind"] = gdf["kind"].astype("string").str.strip().str.lower().astype("str")
        if "name" not in gdf.columns:
            gdf["name"] = pd.Series(pd.NA, index=gdf.index, dtype="str")


def _implausible_counts(counts: pd.Series, add) -> None:
    """Warn about points holding more households than :data:`MAX_HOUSEHOLDS_AT_POINT`."""
    big = (counts > MAX_HOUSEHOLDS_AT_POINT).fillna(False).to_numpy(dtype=bool)
    if not big.any():
        return
    top = int(counts[big].max())
    add(
        "warning",
        "implausible_count",
        f"{int(big.sum())} point(s) hold more than {MAX_HOUSEHOLDS_AT_POINT:,} households "
        f"(up to {top:,}): more than any one building or estate; a total row, or a population "
        "column read as households?",
        column="households",
        rows=np.flatnonzero(big),
        fix="check these rows: delete total rows, and map the household count column with "
        "--map households=COLUMN",
        message_zh=f"{int(big.sum())} 个点的户数超过 {MAX_HOUSEHOLDS_AT_POINT:,}（最多 {top:,}），"
        "超过任何一栋楼或一个小区；是否为合计行，或把人口列当成了户数？",
        fix_zh="请检查这些行：删除合计行，并用 --map households=列名 指定户数列",
    )


def _booleans(gdf, col: str, v: pd.Series, bad: np.ndarray, add):
    """True/false in a count column is an error, never 1/0: JSON booleans that GDAL read as
    numbers (flagged by gridplan.io.readers) and boolean columns."""
    boolean = np.zeros(len(gdf), bool)
    boolean[gdf.attrs.get("gridplan_json_booleans", {}).get(col, [])] = True
    if pd.api.types.is_bool_dtype(gdf[col].dtype):
        boolean[:] = True
    if boolean.any():
        add(
            "error",
            "boolean",
            f"{int(boolean.sum())} value(s) are true/false, not a number",
            column=col,
            rows=row_positions(boolean),
            fix=f"write {col} as whole numbers",
            message_zh=f"{int(boolean.sum())} 个值是 true/false，不是数字",
            fix_zh=f"请将 {col} 写成整数",
        )
        v = v.mask(boolean)
        bad = bad & ~boolean
    return v, bad, boolean


def count_column(gdf, col, add, *, required, minimum, unit_word):
    v, bad, unit = parse_numbers(gdf[col])
    v, bad, boolean = _booleans(gdf, col, v, bad, add)
    blank = v.isna().to_numpy() & ~bad & ~boolean
    if unit.any():
        add(
            "repaired",
            "number_with_unit",
            f"{int(unit.sum())} value(s) carry a unit such as '12{unit_word}'; the number was used",
            column=col,
            rows=row_positions(unit),
            fix="write plain numbers",
            message_zh=f"{int(unit.sum())} 个数值带单位（如 '12{unit_word}'），已取其中的数字",
        )
    if bad.any():
        sample = ", ".join(repr(str(x)) for x in gdf[col][bad].head(3))
        add(
            "error",
            "non_numeric",
            f"values are not numbers ({sample})",
            column=col,
            rows=row_positions(bad),
            fix=f"write {col} as whole numbers",
            message_zh=f"{col} 的值不是数字（{sample}）",
            fix_zh=f"请将 {col} 写成整数",
        )
    f = v.to_numpy(dtype=float)
    frac = np.isfinite(f) & (np.floor(f) != f)
    if frac.any():
        add(
            "error",
            "not_whole",
            "values are not whole numbers",
            column=col,
            rows=row_positions(frac),
            fix=f"write {col} as whole numbers",
            message_zh=f"{col} 的值不是整数",
        )
    low = np.isfinite(f) & (f < minimum)
    if low.any():
        add(
            "error",
            "non_positive" if minimum >= 1 else "negative",
            f"{int(low.sum())} value(s) are below {minimum}",
            column=col,
            rows=row_positions(low),
            fix=f"{col} must be at least {minimum}; correct or remove these rows",
            message_zh=f"{int(low.sum())} 个值小于 {minimum}",
            fix_zh=f"{col} 至少为 {minimum}，请更正或删除这些行",
        )
    if required and blank.any():
        add(
            "error",
            "missing_value",
            f"{int(blank.sum())} row(s) have no {col} value",
            column=col,
            rows=row_positions(blank),
            fix=f"fill in {col} (or drop the column to count one household per row)",
            message_zh=f"{int(blank.sum())} 行缺少 {col}",
            fix_zh=f"请填写 {col}",
        )
    good = np.isfinite(f) & ~frac
    ints = np.where(good, f, 0).astype(np.int64)
    if required and good.all():
        gdf[col] = ints
    else:
        gdf[col] = pd.array(np.where(good, ints, 0), dtype="Int64")
        gdf.loc[~good, col] = pd.NA

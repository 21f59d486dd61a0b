"""Labels of the planner's app and web map in Chinese (default) and English.

Every visible label goes through :func:`t`, so switching the language changes all of them; a test
checks that every key has both languages and that the English labels carry no Chinese.
"""

from __future__ import annotations

import math
import re
import string

from gridplan.grids.reasons import Reason

__all__ = [
    "LANGS",
    "LABELS",
    "REASON_TEMPLATES",
    "t",
    "fill",
    "columns",
    "reason_text",
    "unit_text",
    "edit_text",
    "warning_text",
    "yes_no",
]

LANGS = ("zh", "en")

#: key -> {"zh": ..., "en": ...}; ``{name}`` placeholders are filled by :func:`t`.
LABELS: dict[str, dict[str, str]] = {
    # --- page and sidebar
    "app_title": {"zh": "社区网格规划", "en": "Community grid planning"},
    "app_caption": {
        "zh": "网格划分（300—500户）与15分钟党群服务圈",
        "en": "Grids of 300-500 households and the 15-minute service circle",
    },
    "language": {"zh": "语言 / Language", "en": "Language / 语言"},
    "step": {"zh": "步骤", "en": "Step"},
    "step_data": {"zh": "1 数据", "en": "1 Data"},
    "step_grids": {"zh": "2 网格", "en": "2 Grids"},
    "step_coverage": {"zh": "3 服务覆盖", "en": "3 Coverage"},
    "step_sites": {"zh": "4 选址", "en": "4 Sites"},
    "step_export": {"zh": "5 导出", "en": "5 Export"},
    "tiles_url": {
        "zh": "底图瓦片地址（内网或天地图；填 none 不用底图）",
        "en": "Basemap tile URL (intranet or Tianditu; none for no basemap)",
    },
    "dataset": {"zh": "当前数据：{name}", "en": "Current data: {name}"},
    "dataset_sample": {"zh": "示例街道", "en": "sample district"},
    "dataset_upload": {"zh": "上传的数据", "en": "uploaded data"},
    # --- data step
    "data_source": {"zh": "数据来源", "en": "Data source"},
    "source_sample": {"zh": "示例街道（内置）", "en": "Sample district (bundled)"},
    "source_upload": {"zh": "上传自己的数据", "en": "Upload your own files"},
    "load_sample": {"zh": "载入示例街道", "en": "Load the sample district"},
    "upload_help": {
        "zh": "支持 GeoJSON、GeoPackage、Shapefile 压缩包、GeoParquet、CSV、Excel",
        "en": "GeoJSON, GeoPackage, zipped Shapefile, GeoParquet, CSV, Excel",
    },
    "upload_kind_households": {"zh": "户点（必需）", "en": "Households (required)"},
    "upload_kind_communities": {"zh": "社区边界（必需）", "en": "Community boundaries (required)"},
    "upload_kind_buildings": {"zh": "建筑", "en": "Buildings"},
    "upload_kind_estates": {"zh": "小区", "en": "Estates"},
    "upload_kind_facilities": {"zh": "党群服务中心/站点", "en": "Service centres and stations"},
    "upload_kind_barriers": {
        "zh": "阻隔（主干道、河流、铁路）",
        "en": "Barriers (arterials, rivers, railways)",
    },
    "upload_kind_network": {
        "zh": "步行路网（GeoJSON 线或 OSM 文件）",
        "en": "Walking network (GeoJSON lines or OSM file)",
    },
    "coords": {"zh": "坐标系", "en": "Coordinate system"},
    "coords_wgs84": {"zh": "WGS-84（GPS、天地图）", "en": "WGS-84 (GPS, Tianditu)"},
    "coords_gcj02": {"zh": "GCJ-02（高德、腾讯）", "en": "GCJ-02 (Amap, Tencent)"},
    "coords_bd09": {"zh": "BD-09（百度）", "en": "BD-09 (Baidu)"},
    "column_mapping": {"zh": "列对应：{kind}", "en": "Column mapping: {kind}"},
    "column_for": {"zh": "字段 {field} 对应的列", "en": "Column for {field}"},
    "column_none": {"zh": "（无）", "en": "(none)"},
    "read_validate": {"zh": "读取并检查", "en": "Read and check"},
    "validation": {"zh": "数据检查结果", "en": "Data check"},
    "validation_ok": {
        "zh": "数据检查通过：{n} 条警告或修复",
        "en": "Data check passed: {n} warning(s) or repair(s)",
    },
    "validation_failed": {
        "zh": "数据有 {n} 处错误，未载入；当前方案保持不变。",
        "en": "{n} error(s) in the data: not loaded; the current plan is unchanged.",
    },
    "need_required": {
        "zh": "请上传户点和社区边界。",
        "en": "Please upload households and community boundaries.",
    },
    "upload_failed": {"zh": "上传失败：{msg}", "en": "Upload failed: {msg}"},
    "loaded_layers": {"zh": "已载入图层", "en": "Loaded layers"},
    "rows": {"zh": "行数", "en": "rows"},
    "severity": {"zh": "级别", "en": "Severity"},
    "severity_error": {"zh": "错误", "en": "error"},
    "severity_warning": {"zh": "警告", "en": "warning"},
    "severity_repaired": {"zh": "已修复", "en": "repaired"},
    "problem": {"zh": "问题", "en": "Problem"},
    "fix": {"zh": "解决办法", "en": "Fix"},
    "where": {"zh": "位置", "en": "Where"},
    # --- grids step
    "min_households": {"zh": "每网格最少户数", "en": "Minimum households per grid"},
    "max_households": {"zh": "每网格最多户数", "en": "Maximum households per grid"},
    "micro_max": {"zh": "微网格最多户数（0 = 不划分）", "en": "Micro-grid maximum households (0 = none)"},
    "generate": {"zh": "生成网格", "en": "Generate grids"},
    "no_plan": {"zh": "尚未生成网格。", "en": "No grids yet."},
    "metric_grids": {"zh": "网格数", "en": "Grids"},
    "metric_households": {"zh": "总户数", "en": "Households"},
    "metric_ok": {"zh": "达标网格", "en": "Grids in band"},
    "metric_under": {"zh": "户数不足", "en": "Under"},
    "metric_over": {"zh": "户数超标", "en": "Over"},
    "grid_table": {"zh": "网格表", "en": "Grid table"},
    "select_grid": {"zh": "选择网格（或点击地图）", "en": "Select a grid (or click the map)"},
    "selected_grid": {"zh": "网格 {grid}", "en": "Grid {grid}"},
    "grid_estates": {"zh": "小区", "en": "Estates"},
    "grid_buildings": {"zh": "楼栋", "en": "Buildings"},
    "grid_neighbours": {"zh": "相邻网格", "en": "Neighbouring grids"},
    "grid_units": {"zh": "单元（小区/楼栋）", "en": "Units (estates/buildings)"},
    "edit": {"zh": "调整", "en": "Adjust"},
    "move_unit": {"zh": "移动单元", "en": "Move unit"},
    "select_unit": {"zh": "单元（或点击地图）", "en": "Unit (or click the map)"},
    "move_to": {"zh": "移到网格", "en": "Move to grid"},
    "move": {"zh": "移动", "en": "Move"},
    "split": {"zh": "拆分为两个网格", "en": "Split into two grids"},
    "merge_with": {"zh": "与相邻网格合并", "en": "Merge with neighbouring grid"},
    "merge": {"zh": "合并", "en": "Merge"},
    "lock": {"zh": "锁定", "en": "Lock"},
    "unlock": {"zh": "解锁", "en": "Unlock"},
    "rebalance": {"zh": "重新平衡本社区未锁定网格", "en": "Re-balance the unlocked grids of this community"},
    "undo": {"zh": "撤销", "en": "Undo"},
    "redo": {"zh": "重做", "en": "Redo"},
    "edit_done": {"zh": "{what}", "en": "{what}"},
    "edit_warning": {"zh": "注意：{what}", "en": "Note: {what}"},
    "micro_stale": {
        "zh": "以下网格调整后，其微网格已失效，需重新生成：{grids}",
        "en": "Micro-grids of these edited grids are stale and must be regenerated: {grids}",
    },
    "yes": {"zh": "是", "en": "Yes"},
    "no": {"zh": "否", "en": "No"},
    "no_targets": {
        "zh": "该单元没有可移入的相邻网格。",
        "en": "This unit touches no other grid of its community.",
    },
    "locked_note": {"zh": "该网格已锁定。", "en": "This grid is locked."},
    "history": {"zh": "调整记录", "en": "Edit history"},
    # --- coverage step
    "speed": {"zh": "步行速度（公里/小时）", "en": "Walking speed (km/h)"},
    "minutes": {"zh": "服务圈（分钟）", "en": "Service circle (minutes)"},
    "compute_coverage": {"zh": "计算步行覆盖", "en": "Compute walking coverage"},
    "no_coverage": {"zh": "尚未计算覆盖。", "en": "Coverage not computed yet."},
    "no_network": {"zh": "没有步行路网或服务中心数据。", "en": "No walking network or facilities."},
    "share_covered": {"zh": "覆盖率", "en": "Share covered"},
    "households_covered": {"zh": "覆盖户数", "en": "Households covered"},
    "uncovered": {"zh": "未覆盖户数", "en": "Households not covered"},
    "by_community": {"zh": "按社区", "en": "By community"},
    "by_grid": {"zh": "按网格", "en": "By grid"},
    "standards": {"zh": "面积与人员配置标准", "en": "Floor-area and staffing norms"},
    "gaps": {"zh": "未覆盖聚集区", "en": "Uncovered clusters"},
    "legend_walk": {
        "zh": "户点颜色：步行分钟数（绿≤5，浅绿≤10，黄≤15，橙≤30，红>30，紫=不可达）",
        "en": "Household colour: walking minutes (green ≤5, light green ≤10, yellow ≤15, "
        "orange ≤30, red >30, purple = unreachable)",
    },
    "legend_grids": {
        "zh": "网格颜色：绿=达标，橙=户数不足，红=超标；虚线边框=已锁定",
        "en": "Grid colour: green = in band, orange = under, red = over; dashed = locked",
    },
    # --- sites step
    "n_sites": {"zh": "新增中心/站点数量 K", "en": "New centres or stations K"},
    "site_kind": {"zh": "类型", "en": "Kind"},
    "recommend": {"zh": "推荐选址", "en": "Recommend sites"},
    "siting_missing": {"zh": "选址模块尚未安装。", "en": "The siting module is not available yet."},
    "candidate": {
        "zh": "点击地图放置候选点，然后评估",
        "en": "Click the map to place a candidate, then evaluate",
    },
    "candidate_at": {"zh": "候选点：{lon:.5f}, {lat:.5f}", "en": "Candidate: {lon:.5f}, {lat:.5f}"},
    "evaluate_candidate": {"zh": "评估候选点", "en": "Evaluate the candidate"},
    "coverage_change": {
        "zh": "覆盖率 {before:.1%} → {after:.1%}（新增 {gained} 户）",
        "en": "Coverage {before:.1%} → {after:.1%} ({gained} households gained)",
    },
    "sites_table": {"zh": "推荐结果", "en": "Recommended sites"},
    # --- export step
    "export_prepare": {"zh": "生成 {what}", "en": "Build {what}"},
    "export_ready": {
        "zh": "文件按当前方案生成；方案改动后需重新生成。",
        "en": "Files are built for the current plan; edit the plan and build them again.",
    },
    "export_grids_geojson": {"zh": "下载网格 GeoJSON", "en": "Download grids (GeoJSON)"},
    "export_grids_gpkg": {"zh": "下载网格 GeoPackage", "en": "Download grids (GeoPackage)"},
    "export_households": {"zh": "下载户点及网格编号（CSV）", "en": "Download households with grid ids (CSV)"},
    "export_excel": {"zh": "下载中文报表（Excel）", "en": "Download the report (Excel, Chinese)"},
    "export_csv": {"zh": "下载网格表（CSV）", "en": "Download the grid table (CSV)"},
    "save_plan": {"zh": "保存整个方案（.gpkg）", "en": "Save the whole plan (.gpkg)"},
    "open_plan": {"zh": "打开已保存的方案", "en": "Open a saved plan"},
    "plan_opened": {"zh": "已打开方案：{n} 个网格", "en": "Plan opened: {n} grids"},
    # --- map
    "map_basemap": {"zh": "底图", "en": "Basemap"},
    # the OpenStreetMap credit (gridplan.norms.DEFAULT_TILES_ATTRIBUTION) in each language
    "map_attribution_osm": {"zh": "© OpenStreetMap 贡献者", "en": "© OpenStreetMap contributors"},
    "map_grids": {"zh": "网格", "en": "Grids"},
    "map_units": {"zh": "单元", "en": "Units"},
    "map_households": {"zh": "户点", "en": "Households"},
    "map_isochrones": {"zh": "等时圈", "en": "Isochrones"},
    "map_gaps": {"zh": "未覆盖聚集区", "en": "Uncovered clusters"},
    "map_micro_grids": {"zh": "微网格", "en": "Micro-grids"},
    "map_facilities": {"zh": "服务中心", "en": "Centres"},
    "map_sites": {"zh": "推荐选址", "en": "Recommended sites"},
    "unit_households": {"zh": "户", "en": " hh"},
    "status_ok": {"zh": "达标", "en": "in band"},
    "status_under": {"zh": "不足", "en": "under"},
    "status_over": {"zh": "超标", "en": "over"},
    "kind_street_centre": {"zh": "街道党群服务中心", "en": "street centre"},
    "kind_community_centre": {"zh": "社区党群服务中心", "en": "community centre"},
    "kind_station": {"zh": "党群服务站", "en": "service station"},
    # --- column headers
    "col_grid_id": {"zh": "网格编号", "en": "Grid"},
    "col_community_id": {"zh": "社区编号", "en": "Community id"},
    "col_community_name": {"zh": "社区", "en": "Community"},
    "col_street_id": {"zh": "街道编号", "en": "Street id"},
    "col_street_name": {"zh": "街道", "en": "Street"},
    "col_households": {"zh": "户数", "en": "Households"},
    "col_population": {"zh": "人口", "en": "Population"},
    "col_n_buildings": {"zh": "楼栋数", "en": "Buildings"},
    "col_n_estates": {"zh": "小区数", "en": "Estates"},
    "col_status": {"zh": "状态", "en": "Status"},
    "col_reason": {"zh": "原因", "en": "Reason"},
    "col_area_m2": {"zh": "面积（平方米）", "en": "Area (m²)"},
    "col_compactness": {"zh": "紧凑度", "en": "Compactness"},
    "col_locked": {"zh": "锁定", "en": "Locked"},
    "col_barrier_crossing": {"zh": "跨越阻隔", "en": "Crosses a barrier"},
    "col_unit_id": {"zh": "单元", "en": "Unit"},
    "col_micro_grid_id": {"zh": "微网格编号", "en": "Micro-grid"},
    "col_kind": {"zh": "类型", "en": "Kind"},
    "col_estate_id": {"zh": "小区编号", "en": "Estate"},
    "col_walk_min": {"zh": "步行分钟", "en": "Walk (min)"},
    "col_facility_id": {"zh": "中心编号", "en": "Centre"},
    "col_minutes": {"zh": "分钟", "en": "Minutes"},
    "col_rank": {"zh": "排名", "en": "Rank"},
    "col_name": {"zh": "名称", "en": "Name"},
    "col_households_gained": {"zh": "新增覆盖户数", "en": "Households gained"},
    "col_cumulative_share_covered": {"zh": "累计覆盖率", "en": "Cumulative share covered"},
    "col_level": {"zh": "层级", "en": "Level"},
    "col_id": {"zh": "编号", "en": "Id"},
    "col_households_covered": {"zh": "覆盖户数", "en": "Households covered"},
    "col_share_covered": {"zh": "覆盖率", "en": "Share covered"},
    "col_off_network": {"zh": "离网户数", "en": "Off network"},
    "col_gap_id": {"zh": "聚集区", "en": "Cluster"},
    "col_field": {"zh": "字段", "en": "Field"},
    "col_column": {"zh": "列", "en": "Column"},
    "col_grid_code": {"zh": "网格编码", "en": "Grid code"},
    "col_micro_code": {"zh": "微网格编码", "en": "Micro-grid code"},
    "col_n_grids": {"zh": "网格数", "en": "Grids"},
    "col_n_ok": {"zh": "达标网格数", "en": "Grids in band"},
    "col_n_under": {"zh": "户数偏少网格数", "en": "Grids under"},
    "col_n_over": {"zh": "户数偏多网格数", "en": "Grids over"},
    "col_lon": {"zh": "经度", "en": "Longitude"},
    "col_lat": {"zh": "纬度", "en": "Latitude"},
    "col_centre_area_m2": {"zh": "服务中心面积（平方米）", "en": "Centre area (m²)"},
    "col_area_per_100_households": {"zh": "每百户面积（平方米）", "en": "Area per 100 households (m²)"},
    "col_norm_m2_per_100_households": {"zh": "标准（平方米/百户）", "en": "Norm (m² per 100 households)"},
    "col_meets_norm": {"zh": "是否达标", "en": "Meets the norm"},
    "col_grid_workers": {"zh": "专职网格员", "en": "Grid workers"},
    "col_previous_code": {"zh": "原网格编码", "en": "Previous code"},
    "col_code_status": {"zh": "编码状态", "en": "Code status"},
    "col_kept": {"zh": "保持不变", "en": "Kept"},
    "col_changed": {"zh": "是否调整", "en": "Changed"},
    "col_centres": {"zh": "服务中心数", "en": "Centres"},
    "col_stations": {"zh": "服务站数", "en": "Stations"},
    "col_m2_per_100_households": {"zh": "每百户面积（平方米）", "en": "m² per 100 households"},
    "col_norm_m2_per_100": {"zh": "标准（平方米/百户）", "en": "Norm (m² per 100 households)"},
    "col_required_m2": {"zh": "应有面积（平方米）", "en": "Required area (m²)"},
    "col_area_shortfall_m2": {"zh": "面积缺口（平方米）", "en": "Area shortfall (m²)"},
    "col_meets_area_norm": {"zh": "面积是否达标", "en": "Meets the area norm"},
    "col_grids": {"zh": "网格数", "en": "Grids"},
    "col_grid_workers_needed": {"zh": "需专职网格员数", "en": "Grid workers needed"},
    "col_community_workers_needed": {"zh": "需社区工作者数", "en": "Community workers needed"},
    "col_candidate_id": {"zh": "候选点编号", "en": "Candidate"},
    "col_source": {"zh": "来源", "en": "Source"},
    "col_cumulative_households_covered": {"zh": "累计覆盖户数", "en": "Cumulative households covered"},
    "col_capacity_households": {"zh": "可服务户数", "en": "Capacity (households)"},
    "col_nearest_facility_id": {"zh": "最近服务中心", "en": "Nearest centre"},
    "col_covered": {"zh": "是否覆盖", "en": "Covered"},
    "col_snap_m": {"zh": "距路网（米）", "en": "Distance to a walkway (m)"},
    "col_part": {"zh": "编码段", "en": "Code part"},
    "col_meaning": {"zh": "含义", "en": "Meaning"},
    "col_example": {"zh": "示例", "en": "Example"},
    # --- contract fields no table shows (the data step's column mapping); kept apart from the
    # col_* headers, which also head the Excel report
    "field_building_id": {"zh": "楼栋编号", "en": "Building id"},
    "field_levels": {"zh": "层数", "en": "Floors"},
    # --- report figures (gridplan.report.figures): the grid map's title, legend, scale bar and
    # north arrow; {n} is a count or a length, {lo}/{hi} the household band
    "fig_grids_title": {"zh": "网格划分（按户数状态）", "en": "Grids by household count"},
    "fig_legend_ok": {"zh": "达标（{lo}–{hi}户）：{n}个", "en": "In band ({lo}–{hi} hh): {n}"},
    "fig_legend_under": {"zh": "户数偏少（<{lo}户）：{n}个", "en": "Too few households (<{lo} hh): {n}"},
    "fig_legend_over": {"zh": "户数偏多（>{hi}户）：{n}个", "en": "Too many households (>{hi} hh): {n}"},
    "fig_community_boundary": {"zh": "社区边界", "en": "Community boundary"},
    "fig_metres": {"zh": "{n} 米", "en": "{n} m"},
    "fig_kilometres": {"zh": "{n} 千米", "en": "{n} km"},
    "fig_north": {"zh": "北", "en": "N"},
    # --- end of report figures
}

#: Partition and plan reason codes with a sentence per language over the reason's figures
#: (:class:`gridplan.grids.reasons.Reason`; the English ``reason`` column itself is
#: :meth:`~gridplan.grids.reasons.Reason.text`). ``variants`` are tried first; a template is used
#: when the reason has all of its figures, else the ``*_short`` sentence. The codes are those of
#: :data:`gridplan.grids.reasons.ENGLISH` (the partition's and the plan's ``edited_*``); a test
#: checks that every code has a template.
REASON_TEMPLATES: dict[str, dict] = {
    "no_households": {
        "zh": "社区内没有户点（每网格至少 {lo} 户）",
        "en": "no households in the community (at least {lo} per grid)",
        "zh_short": "社区内没有户点",
        "en_short": "no households in the community",
    },
    "community_below_min": {
        "zh": "整个社区只有 {households} 户，少于每网格最少户数 {lo}",
        "en": "the whole community has {households} households, fewer than the minimum of {lo}",
        "zh_short": "整个社区户数少于一个网格的最少户数",
        "en_short": "the community has fewer households than one grid's minimum",
    },
    "part_below_min": {
        "zh": "被阻隔或社区形状隔开的片区只有 {households} 户，少于 {lo} 户",
        "en": "a part cut off by barriers or the community's shape has {households} households, "
        "fewer than {lo}",
        "zh_short": "被隔开的片区户数不足",
        "en_short": "a cut-off part has too few households",
    },
    "band_empty": {
        "zh": "{households} 户无法分成每格 {lo}—{hi} 户的整数个网格",
        "en": "{households} households cannot be divided into whole grids of {lo}-{hi}",
        "zh_short": "户数无法分成整数个达标网格",
        "en_short": "the households cannot form whole grids within the bounds",
    },
    "unit_over_max": {
        "zh": "一栋楼或一个地址就有 {households} 户，超过每网格最多户数 {hi}",
        "en": "one building or address has {households} households, more than the maximum of {hi}",
        "zh_short": "单栋楼户数超过网格上限",
        "en_short": "one building exceeds the maximum",
    },
    "no_contiguous_split": {
        "zh": "{households} 户（{units} 个单元）穷举后仍无法组成连续且每格 {lo}—{hi} 户的网格",
        "en": "{households} households in {units} units have no contiguous split into grids of "
        "{lo}-{hi} (exhaustive search)",
        "zh_short": "无法组成连续且户数达标的网格",
        "en_short": "no contiguous split within the bounds exists",
    },
    "search_failed": {
        "variants": [
            {
                "zh": "{households} 户（{units} 个单元）：在搜索限度内未找到户数达标的连续划分",
                "en": "{households} households in {units} units: no contiguous split within the "
                "bounds found within the search limit",
            }
        ],
        "zh": "{households} 户：在搜索限度内未找到户数达标的连续划分",
        "en": "{households} households: no contiguous split within the bounds found within the search limit",
        "zh_short": "搜索限度内未找到达标划分",
        "en_short": "no split within the bounds found (search limit)",
    },
    "kept": {
        "zh": "按原样保留的网格，有 {households} 户",
        "en": "grid kept as given, with {households} households",
        "zh_short": "按原样保留的网格",
        "en_short": "grid kept as given",
    },
    "edited_below_min": {
        "zh": "调整后有 {households} 户，少于每网格最少户数 {lo}",
        "en": "{households} households after editing, fewer than the minimum of {lo}",
        "zh_short": "调整后户数不足",
        "en_short": "too few households after editing",
    },
    "edited_over_max": {
        "zh": "调整后有 {households} 户，超过每网格最多户数 {hi}",
        "en": "{households} households after editing, more than the maximum of {hi}",
        "zh_short": "调整后户数超标",
        "en_short": "too many households after editing",
    },
}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def reason_text(reason, lang: str = "zh") -> str:
    """A partition or plan reason as a sentence in ``lang``.

    Parameters
    ----------
    reason : Reason or str or None
        A :class:`gridplan.grids.reasons.Reason`, or a ``reason`` column value
        (``"<code>: <detail>"``, read back by :meth:`~gridplan.grids.reasons.Reason.parse`).
    lang : str
        ``zh`` (default) or ``en``.

    Returns
    -------
    str
        The code's sentence with the reason's figures; its short sentence when the figures are
        unknown; a generic sentence for an unknown code, so that the Chinese UI never shows the
        English detail; ``—`` for no reason.
    """
    if reason is None or (isinstance(reason, float) and math.isnan(reason)) or reason == "":
        return "—"
    parsed = reason if isinstance(reason, Reason) else Reason.parse(str(reason))
    lang = lang if lang in LANGS else "zh"
    tpl = None if parsed is None else REASON_TEMPLATES.get(parsed.code)
    if tpl is None:
        if lang == "zh":
            return "户数不在规定范围内"
        return reason.code if isinstance(reason, Reason) else str(reason)
    figures = parsed.figures
    for variant in tpl.get("variants", []) + [tpl]:
        if figures and _fields(variant[lang]) <= set(figures):
            return variant[lang].format(**figures)
    return tpl[f"{lang}_short"]


def yes_no(value, lang: str = "zh") -> str:
    """``是``/``否`` (Yes/No) for a truth value; ``—`` for a missing one."""
    if value is None or str(value) in ("<NA>", "nan"):
        return "—"
    return t("yes" if bool(value) else "no", lang)


def unit_text(unit_id, lang: str = "zh") -> str:
    """A partition unit in words: ``<community>/E:<estate>#<part>`` -> 小区 XQ004（第2部分）.

    Unit ids are built by :func:`gridplan.grids.units.unit_keys`: ``E:`` an estate (``#k``: its k-th
    part), ``B:`` a building, ``B:@x,y`` an address without a building id.
    """
    text = str(unit_id)
    key = text.split("/", 1)[1] if "/" in text else text
    zh = lang != "en"
    m = re.fullmatch(r"E:(.+?)(?:#(\d+))?", key)
    if m:
        name, part = m.group(1), m.group(2)
        if zh:
            return f"小区 {name}" + (f"（第{part}部分）" if part else "")
        return f"estate {name}" + (f" (part {part})" if part else "")
    m = re.fullmatch(r"B:@(-?\d+),(-?\d+)", key)
    if m:
        return "地址点" if zh else "address point"
    m = re.fullmatch(r"B:(.+)", key)
    if m:
        return f"楼栋 {m.group(1)}" if zh else f"building {m.group(1)}"
    return f"单元 {key}" if zh else f"unit {key}"


def edit_text(action: dict, lang: str = "zh") -> str:
    """One plan edit (:attr:`gridplan.plan.model.Plan.edits`) as a plain sentence in ``lang``."""
    op = action.get("op")
    zh = lang != "en"
    if op == "move":
        u = unit_text(action["unit"], lang)
        return (
            f"已将 {u} 从网格 {action['from']} 移到 {action['to']}"
            if zh
            else f"Moved {u} from grid {action['from']} to {action['to']}"
        )
    if op == "move_building":
        # the building as its unit when it is one (楼栋 B00012: the app's names then put the
        # building's name in its place), else by its id
        unit = str(action.get("unit"))
        b = unit_text(unit if "B:" in unit else f"B:{action['building']}", lang)
        return (
            f"已将 {b} 从网格 {action['from']} 移到 {action['to']}"
            if zh
            else f"Moved {b} from grid {action['from']} to {action['to']}"
        )
    if op == "split":
        return (
            f"已将网格 {action['grid']} 拆分为 {action['grid']} 和 {action['new']}"
            if zh
            else f"Split grid {action['grid']} into {action['grid']} and {action['new']}"
        )
    if op == "merge":
        return (
            f"已将网格 {action['gone']} 并入 {action['keep']}"
            if zh
            else f"Merged grid {action['gone']} into {action['keep']}"
        )
    if op == "lock":
        return f"已锁定网格 {action['grid']}" if zh else f"Locked grid {action['grid']}"
    if op == "unlock":
        return f"已解锁网格 {action['grid']}" if zh else f"Unlocked grid {action['grid']}"
    if op == "rebalance":
        return (
            f"已重新平衡社区 {action['community']} 的未锁定网格"
            if zh
            else f"Re-balanced the unlocked grids of community {action['community']}"
        )
    if op == "undo":
        return "已撤销上一步" if zh else "Undid the last edit"
    if op == "redo":
        return "已重做" if zh else "Redid the edit"
    return "已完成调整" if zh else "Edit done"


def warning_text(warning: dict, lang: str = "zh") -> str:
    """A plan edit warning (:attr:`gridplan.plan.model.Plan.last_warnings`) in ``lang``."""
    zh = lang != "en"
    if warning.get("code") == "barrier_crossing":
        names = [str(n) for n in warning.get("barriers") or [] if n]
        kinds = [str(k) for k in warning.get("kinds") or [] if k]
        if zh:
            what = (
                "、".join(names)
                if names
                else "、".join(dict.fromkeys(_BARRIER_ZH.get(k, "阻隔") for k in kinds)) or "阻隔"
            )
            return f"网格 {warning['grid_id']} 现在跨越了{what}（主干道、河流或铁路），请确认是否合适"
        what = ", ".join(names) if names else ", ".join(dict.fromkeys(kinds)) or "a barrier"
        return (
            f"grid {warning['grid_id']} now straddles {what} (arterial road, river or "
            "railway); check that this is intended"
        )
    return "请检查本次调整" if zh else "check this edit"


_BARRIER_ZH = {"arterial": "主干道", "river": "河流", "railway": "铁路"}


def t(key: str, lang: str = "zh", **values) -> str:
    """The label ``key`` in ``lang`` with ``values`` filled in.

    Unknown keys raise ``KeyError`` (a test keeps the table complete); an unknown language falls
    back to Chinese.
    """
    return fill(LABELS[key], lang, **values)


def fill(entry: dict[str, str], lang: str = "zh", **values) -> str:
    """One label entry (``{"zh": ..., "en": ...}``) in ``lang`` (Chinese when it has none), with
    ``values`` filled in: the lookup of this table and of the app's own (:mod:`gridplan.app.labels`)."""
    text = entry.get(lang) or entry["zh"]
    return text.format(**values) if values else text


def columns(names, lang: str = "zh") -> dict[str, str]:
    """Header labels for the data columns ``names`` that have a ``col_*`` label."""
    return {n: t(f"col_{n}", lang) for n in names if f"col_{n}" in LABELS}

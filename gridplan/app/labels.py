"""Labels only the web app shows (basemaps, legends, per-file datums, siting notes, names of
table values), in Chinese (default) and English, and the app's one lookup of every label.

The labels shared with the library and the command line stay in :mod:`gridplan.i18n`;
:func:`text` looks here first, then there, so that a page asks for any label the same way.
No Streamlit here: the services and the map use these labels too.
"""

from __future__ import annotations

from gridplan.i18n import LABELS, fill, t

__all__ = ["APP_LABELS", "text", "has_label"]

#: key -> {"zh": ..., "en": ...}; ``{name}`` placeholders are filled by :func:`text`.
APP_LABELS: dict[str, dict[str, str]] = {
    # --- basemap chooser
    "basemap": {"zh": "底图", "en": "Basemap"},
    "basemap_none": {"zh": "无底图（离线可用）", "en": "None (works offline)"},
    "basemap_xyz": {"zh": "内网瓦片服务（XYZ 地址）", "en": "Intranet tile server (XYZ URL)"},
    "basemap_tianditu": {"zh": "天地图（矢量 + 注记）", "en": "Tianditu (vector + labels)"},
    "basemap_xyz_url": {"zh": "瓦片地址（含 {z}/{x}/{y}）", "en": "Tile URL (with {z}/{x}/{y})"},
    "basemap_tianditu_key": {"zh": "天地图密钥（tk）", "en": "Tianditu key (tk)"},
    "basemap_needs_url": {
        "zh": "请填写瓦片地址；未填写时不显示底图",
        "en": "Enter the tile URL; without it the map has no basemap",
    },
    "basemap_needs_key": {
        "zh": "请填写天地图密钥；未填写时不显示底图",
        "en": "Enter the Tianditu key; without it the map has no basemap",
    },
    "map_attribution_tianditu": {"zh": "© 天地图", "en": "© Tianditu"},
    "map_attribution_xyz": {"zh": "底图：内网瓦片服务", "en": "Basemap: intranet tile server"},
    "map_basemap_labels": {"zh": "底图注记", "en": "Basemap labels"},
    "map_communities": {"zh": "社区边界", "en": "Communities"},
    # --- legends
    "legend_status": {"zh": "网格状态", "en": "Grid status"},
    "legend_centres": {"zh": "服务设施", "en": "Service centres"},
    "legend_community": {"zh": "社区边界", "en": "Community boundary"},
    "legend_site": {"zh": "推荐新址", "en": "Recommended site"},
    "legend_locked": {"zh": "已锁定（虚线）", "en": "Locked (dashed)"},
    # --- the data step
    "coords_for": {"zh": "坐标系", "en": "Coordinate system"},
    "upload_kept": {"zh": "已载入：{name}", "en": "Loaded: {name}"},
    "upload_replace": {"zh": "上传新文件替换", "en": "Upload a file to replace it"},
    "upload_remove": {"zh": "移除", "en": "Remove"},
    # --- siting
    "siting_fewer_full": {
        "zh": "只推荐了 {got} 处（要求 {asked} 处）：新增 {got} 处后，步行可达的住户已全部覆盖"
        "（覆盖率 {share:.0%}），再增加站点不会增加覆盖。",
        "en": "Only {got} of the {asked} sites asked for: with {got} new sites every household "
        "within walking reach is covered ({share:.0%}); more sites would cover no one more.",
    },
    "siting_fewer_unreachable": {
        "zh": "只推荐了 {got} 处（要求 {asked} 处）：其余未覆盖的住户（其中 {off} 户不在步行路网上）"
        "任何候选点都覆盖不到，再增加站点不会增加覆盖。",
        "en": "Only {got} of the {asked} sites asked for: no candidate reaches the households still "
        "uncovered ({off} of them off the walking network); more sites would cover no one more.",
    },
    # --- proposals (方案)
    "step_proposals": {"zh": "6 方案", "en": "6 Proposals"},
    "proposal_default": {"zh": "方案 {time}", "en": "Proposal {time}"},
    "proposal_current": {"zh": "当前方案", "en": "Current proposal"},
    "proposal_current_version": {
        "zh": "当前方案（第 {version} 版）",
        "en": "Current proposal (version {version})",
    },
    "proposal_unsaved": {
        "zh": "尚未保存：首次编辑或生成网格后自动保存",
        "en": "Not saved yet: saved automatically after the first edit or grid generation",
    },
    "proposal_autosave": {
        "zh": "每次编辑后自动保存；刷新页面不会丢失",
        "en": "Saved after every edit; reloading the page loses nothing",
    },
    "proposal_conflict": {"zh": "自动保存已停止：{message}", "en": "Autosave stopped: {message}"},
    "proposal_conflict_fix": {
        "zh": "可在“方案”页打开最新版本，或将当前网格另存为新方案",
        "en": "On the Proposals page, open the latest version, or save these grids as a new proposal",
    },
    "proposal_list": {"zh": "已保存的方案", "en": "Saved proposals"},
    "proposal_none": {"zh": "还没有保存的方案", "en": "No proposal saved yet"},
    "proposal_choose": {"zh": "方案", "en": "Proposal"},
    "proposal_version": {"zh": "版本", "en": "Version"},
    "proposal_versions": {"zh": "版本记录", "en": "Versions"},
    "proposal_open": {"zh": "打开此版本", "en": "Open this version"},
    "proposal_opened": {
        "zh": "已打开方案“{name}”第 {version} 版",
        "en": "Opened proposal {name}, version {version}",
    },
    "proposal_save_as": {"zh": "另存为新方案", "en": "Save as a new proposal"},
    "proposal_new_name": {"zh": "新方案名称", "en": "Name of the new proposal"},
    "proposal_saved_as": {"zh": "已另存为方案“{name}”", "en": "Saved as proposal {name}"},
    "proposal_compare": {"zh": "方案对比", "en": "Compare proposals"},
    "proposal_delete": {"zh": "删除方案", "en": "Delete a proposal"},
    "proposal_delete_none": {
        "zh": "除当前打开的方案外没有其他方案（当前方案不能删除）",
        "en": "No proposal other than the open one (the open proposal cannot be deleted)",
    },
    "proposal_delete_confirm": {
        "zh": "确认删除方案“{name}”及其全部版本（不可恢复）",
        "en": "Yes, delete proposal {name} with all its versions (cannot be undone)",
    },
    "proposal_delete_button": {"zh": "删除", "en": "Delete"},
    "proposal_deleted": {"zh": "已删除方案“{name}”", "en": "Proposal {name} deleted"},
    "proposal_side_a": {"zh": "方案 A", "en": "Proposal A"},
    "proposal_side_b": {"zh": "方案 B", "en": "Proposal B"},
    "proposal_compare_button": {"zh": "对比", "en": "Compare"},
    "proposal_diff_map": {"zh": "不同的网格：{name}", "en": "Grids that differ: {name}"},
    "proposal_no_diff": {"zh": "两个方案的网格完全相同", "en": "The two proposals have the same grids"},
    "proposal_col_name": {"zh": "方案名称", "en": "Proposal"},
    "proposal_col_version": {"zh": "最新版本", "en": "Latest version"},
    "proposal_col_versions": {"zh": "版本数", "en": "Versions"},
    "proposal_col_updated": {"zh": "更新时间（UTC）", "en": "Updated (UTC)"},
    "version_col_version": {"zh": "版本", "en": "Version"},
    "version_col_saved": {"zh": "保存时间（UTC）", "en": "Saved (UTC)"},
    "version_col_note": {"zh": "说明", "en": "Note"},
    "version_col_grids": {"zh": "网格数", "en": "Grids"},
    "version_col_edits": {"zh": "可撤销的编辑", "en": "Edits to undo"},
    "version_col_network": {"zh": "含步行路网", "en": "Walking network"},
    "note_generated": {"zh": "生成网格", "en": "Grids generated"},
    "note_undo_generate": {"zh": "撤销生成网格", "en": "Grid generation undone"},
    "note_saved_as": {"zh": "另存", "en": "Saved as"},
    "generate_confirm": {
        "zh": "当前方案有 {n} 次编辑或锁定。重新生成网格将替换它们（旧版本保留在方案中，可撤销）。确定生成？",
        "en": "This proposal has {n} edits or locks. Generating the grids again replaces them (the "
        "old version stays in the proposal and can be restored). Generate?",
    },
    "generate_confirm_yes": {"zh": "确定生成", "en": "Generate"},
    "generate_cancel": {"zh": "取消", "en": "Cancel"},
    "generate_undo": {"zh": "撤销生成网格", "en": "Undo grid generation"},
    "figure": {"zh": "指标", "en": "Figure"},
    "figure_grids": {"zh": "网格数", "en": "Grids"},
    "figure_grids_in_band": {"zh": "户数达标网格数", "en": "Grids within the household band"},
    "figure_share_in_band": {"zh": "户数达标网格占比", "en": "Share of grids within the band"},
    "figure_mean_compactness": {"zh": "平均紧凑度", "en": "Mean compactness"},
    "figure_households": {"zh": "住户数", "en": "Households"},
    "figure_households_moved": {"zh": "所属网格不同的住户数", "en": "Households in another grid"},
    "figure_share_covered": {"zh": "15分钟服务覆盖率", "en": "15-minute coverage"},
    "figure_grid_workers_needed": {"zh": "需专职网格员数", "en": "Full-time grid workers needed"},
    # --- values in tables
    "source_network_node": {"zh": "路网节点", "en": "network node"},
    "source_user": {"zh": "候选地点", "en": "candidate"},
    "level_all": {"zh": "全部", "en": "all"},
    "level_street": {"zh": "街道", "en": "street"},
    "level_community": {"zh": "社区", "en": "community"},
    "level_grid": {"zh": "网格", "en": "grid"},
    # --- names of units
    "unit_estate": {"zh": "{name}", "en": "{name}"},
    "unit_estate_part": {"zh": "{name}（第{part}部分）", "en": "{name} (part {part})"},
    "unit_building": {"zh": "{name}", "en": "{name}"},
    # --- fixes of the data check, per problem code and field (instead of the command line's --map)
    "fix_households_missing": {
        "zh": "如有户数列，请在“{kind}”的列对应中为“{field}”选择该列；否则每行按 1 户计",
        "en": 'if there is a household count column, choose it for "{field}" in the column mapping '
        'of "{kind}"; otherwise each row counts as one household',
    },
    "fix_kind_missing": {
        "zh": "请在“{kind}”的列对应中为“{field}”选择列（街道中心、社区中心或服务站）；否则全部按社区党群服务中心计",
        "en": 'choose the column for "{field}" (street centre, community centre or station) in the '
        'column mapping of "{kind}"; otherwise every facility counts as a community centre',
    },
    "fix_ids_generated": {
        "zh": "如有编号列，请在“{kind}”的列对应中为“{field}”选择该列",
        "en": 'if there is an id column, choose it for "{field}" in the column mapping of "{kind}"',
    },
    "fix_duplicate_id": {
        "zh": "请让每行的“{field}”各不相同，或在“{kind}”的列对应中为它选择另一列",
        "en": 'give every row its own "{field}", or choose another column for it in the column '
        'mapping of "{kind}"',
    },
    "fix_mapped_column_missing": {
        "zh": "文件中没有列 {column}：请在“{kind}”的列对应中重新选择",
        "en": 'the file has no column {column}: choose again in the column mapping of "{kind}"',
    },
    "fix_column_alias": {
        "zh": "已按同义列名读取“{field}”；如不对，请在“{kind}”的列对应中改选",
        "en": 'read "{field}" from a column with a similar name; if that is wrong, choose another '
        'in the column mapping of "{kind}"',
    },
    "fix_implausible_count": {
        "zh": "请检查这些行：删除合计行，并在“{kind}”的列对应中为“{field}”选择正确的列",
        "en": 'check these rows: delete total rows, and choose the right column for "{field}" in '
        'the column mapping of "{kind}"',
    },
    "fix_choose_column": {
        "zh": "请在“{kind}”的列对应中为“{field}”选择列",
        "en": 'choose the column for "{field}" in the column mapping of "{kind}"',
    },
    "fix_choose_named_column": {
        "zh": "请在“{kind}”的列对应中为“{field}”选择列 {column}",
        "en": 'choose column {column} for "{field}" in the column mapping of "{kind}"',
    },
    # --- progress of the long steps
    "progress_opening": {
        "zh": "正在打开：示例街道与网格…",
        "en": "Opening the sample district and its grids…",
    },
    "progress_reopening": {"zh": "正在打开方案“{name}”…", "en": "Opening proposal “{name}”…"},
    "progress_reading": {"zh": "正在读取 {name}（{kind}）…", "en": "Reading {name} ({kind})…"},
    "progress_network": {"zh": "正在读取步行路网 {name}…", "en": "Reading the walking network {name}…"},
    "progress_partition": {
        "zh": "正在划分网格（{households:,} 户）…",
        "en": "Drawing the grids ({households:,} households)…",
    },
    "progress_done": {"zh": "完成（{seconds:.1f} 秒）", "en": "Done ({seconds:.1f} s)"},
    "progress_failed": {"zh": "未完成", "en": "Not done"},
    "progress_coverage": {
        "zh": "正在计算步行覆盖（{households:,} 户，{facilities} 处设施）…",
        "en": "Computing walking coverage ({households:,} households, {facilities} centres)…",
    },
    "progress_sites": {"zh": "正在推荐 {k} 处新址…", "en": "Recommending {k} new sites…"},
    "progress_upload": {
        "zh": "正在读取 {n} 个文件（{size}）、检查并划分网格…",
        "en": "Reading {n} files ({size}), checking them and drawing the grids…",
    },
    # --- buildings
    "select_building": {"zh": "楼栋（或点击地图）", "en": "Building (or click the map)"},
    "building_option": {"zh": "{name}（{n} 户）", "en": "{name} ({n} households)"},
    "building_to": {"zh": "楼栋移到网格", "en": "Move the building to grid"},
    "move_building": {"zh": "移动楼栋", "en": "Move the building"},
    "preview_move_building": {"zh": "移动楼栋后：{counts}", "en": "After moving the building: {counts}"},
    "no_building_targets": {
        "zh": "该楼栋没有可移入的相邻网格。",
        "en": "No neighbouring grid can take this building.",
    },
    # --- map export
    "export_map_png": {"zh": "下载地图（PNG）", "en": "Download the map (PNG)"},
    "export_map_pdf": {"zh": "下载地图（PDF）", "en": "Download the map (PDF)"},
    # --- editing
    "find": {"zh": "查找网格、小区、楼栋或社区", "en": "Find a grid, estate, building or community"},
    "find_hint": {
        "zh": "网格编号、小区名称、楼栋编号或社区名称，回车查找",
        "en": "Grid code, estate name, building id or community name; press Enter",
    },
    "find_grid": {"zh": "网格 {grid}", "en": "Grid {grid}"},
    "find_estate": {"zh": "小区“{name}”：网格 {grid}", "en": "Estate {name}: grid {grid}"},
    "find_building": {"zh": "楼栋“{name}”：网格 {grid}", "en": "Building {name}: grid {grid}"},
    "find_community": {
        "zh": "社区“{name}”的第一个网格：{grid}",
        "en": "First grid of community {name}: {grid}",
    },
    "find_more": {
        "zh": "（另有 {n} 处匹配，可输入更完整的名称）",
        "en": " ({n} more matches; type more of the name)",
    },
    "find_none": {"zh": "没有找到“{query}”", "en": "Nothing found for “{query}”"},
    "preview_move": {"zh": "移动后：{counts}", "en": "After the move: {counts}"},
    "preview_split": {"zh": "拆分后：{counts}", "en": "After the split: {counts}"},
    "preview_merge": {"zh": "合并后：{counts}", "en": "After the merge: {counts}"},
    "preview_count": {
        "zh": "网格 {grid}（{before} → {after} 户{outside}）",
        "en": "grid {grid} ({before} → {after} households{outside})",
    },
    "preview_new": {
        "zh": "新网格 {grid}（{after} 户{outside}）",
        "en": "new grid {grid} ({after} households{outside})",
    },
    "preview_gone": {"zh": "网格 {grid}（并入后不再保留）", "en": "grid {grid} (merged in, no longer kept)"},
    "preview_outside": {"zh": "，不在 {lo}–{hi} 户之间", "en": ", outside {lo}–{hi}"},
    "edit_under": {
        "zh": "网格 {grid} 将只有 {n} 户，少于下限 {lo} 户",
        "en": "grid {grid} would have {n} households, fewer than the minimum of {lo}",
    },
    "edit_over": {
        "zh": "网格 {grid} 将有 {n} 户，多于上限 {hi} 户",
        "en": "grid {grid} would have {n} households, more than the maximum of {hi}",
    },
    "edit_confirm": {"zh": "执行后{what}。仍要执行吗？", "en": "After this edit {what}. Do it anyway?"},
    "edit_anyway": {"zh": "仍然执行", "en": "Do it anyway"},
    "edit_cancel": {"zh": "取消", "en": "Cancel"},
    "no_merge_targets": {
        "zh": "相邻网格均已锁定，不能合并",
        "en": "Every neighbouring grid is locked: there is none to merge with",
    },
    # --- the grid lines' check (plan geometry figures)
    "quality_title": {"zh": "网格线检查", "en": "How the grid lines fit"},
    "quality_row": {"zh": "{head}：{value}", "en": "{head}: {value}"},
    "quality_which": {"zh": "{value}：{names}", "en": "{value}: {names}"},
    "quality_more": {"zh": "{names} 等", "en": "{names} and more"},
    "quality_buildings_cut": {"zh": "被网格线切开的楼栋", "en": "Buildings cut by a grid line"},
    "quality_n_buildings": {"zh": "{n} 栋（应为 0）", "en": "{n} (should be 0)"},
    "quality_buildings_split": {
        "zh": "；另有 {n} 栋按单元门分属不同网格，属有意拆分，不算切开",
        "en": "; {n} more split between grids by entrance on purpose, not counted as cut",
    },
    "quality_estates_cut": {"zh": "被网格线分开的小区", "en": "Estates divided by a grid line"},
    "quality_n_estates": {"zh": "{n} 个", "en": "{n}"},
    "quality_lines": {
        "zh": "沿街道、围墙或楼栋轮廓的网格线",
        "en": "Grid lines along streets, walls or building outlines",
    },
    "quality_lines_walls": {
        "zh": "沿围墙或楼栋轮廓的网格线",
        "en": "Grid lines along walls or building outlines",
    },
    "quality_enclosed": {
        "zh": "飞地网格（四周被另一网格包围）",
        "en": "Enclave grids (surrounded by another grid)",
    },
    "quality_n_grids": {"zh": "{n} 个", "en": "{n}"},
    "quality_unknown": {"zh": "未统计（数据中没有{what}）", "en": "not counted (the data has no {what})"},
    "quality_what_buildings": {"zh": "楼栋轮廓", "en": "building outlines"},
    "quality_what_estates": {"zh": "小区范围", "en": "estate outlines"},
    "quality_what_lines": {"zh": "街道、围墙或楼栋轮廓", "en": "streets, walls or building outlines"},
    "quality_no_network": {
        "zh": "未载入步行路网：网格线只与围墙、楼栋轮廓比对，沿街道的部分未计入。",
        "en": "No walking network loaded: grid lines are measured against walls and building "
        "outlines only; those along streets are not counted.",
    },
}


def has_label(key: str) -> bool:
    """Whether ``key`` is a label of the app or of :mod:`gridplan.i18n`."""
    return key in APP_LABELS or key in LABELS


def text(key: str, lang: str = "zh", **values) -> str:
    """The label ``key`` in ``lang`` with ``values`` filled in: the app's own labels first, then
    :func:`gridplan.i18n.t` (which raises ``KeyError`` for an unknown key)."""
    entry = APP_LABELS.get(key)
    return t(key, lang, **values) if entry is None else fill(entry, lang, **values)

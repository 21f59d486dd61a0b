"""The library's fixes, worded for the app: a planner maps columns in the column step, not with
the command line's ``--map FIELD=COLUMN``, and never sees a shell command.

A data-check problem carries its code and its column: :func:`fix_text` gives the app's own
instruction for the problems whose fix is a column choice (:data:`FIXES`, by code), naming the
layer and the field in words. Errors raised while a file is taken (not problems of the check)
keep the library's text with its command-line parts reworded by :func:`app_wording`.
"""

from __future__ import annotations

import re

from gridplan.i18n import LABELS, t

__all__ = ["FIXES", "field_text", "fix_text", "app_wording"]

#: Problem code -> (the app's fix label, the field it is about: None = the problem's column).
#: The problems that the readers (gridplan.io) fix with a ``--map`` hint.
FIXES: dict[str, tuple[str, str | None]] = {
    "households_unmapped": ("fix_choose_named_column", "households"),
    "households_missing": ("fix_households_missing", "households"),
    "kind_missing": ("fix_kind_missing", "kind"),
    "ids_generated": ("fix_ids_generated", None),
    "missing_column": ("fix_choose_column", None),
    "duplicate_id": ("fix_duplicate_id", None),
    "mapped_column_missing": ("fix_mapped_column_missing", None),
    "column_alias": ("fix_column_alias", None),
    "implausible_count": ("fix_implausible_count", "households"),
}

#: The fields and columns of a ``--map a=X,b=Y`` hint (``--map lon=/lat=``: fields only).
_PAIRS = r"((?:[a-z_]+=[^\s,，、）)/]*[,/]?)+)"
#: English: a verb that hands the mapping to ``--map`` ("pass --map a=X", "map it with ...").
_MAP_EN_VERB = re.compile(r"\b(?:pass|use|map (?:it|one|them) with)\s+--map\s+" + _PAIRS)
_MAP_EN = re.compile(r"--map\s+" + _PAIRS)
#: Chinese: "用 --map a=X 指定" (the count column's hint adds "户数列").
_MAP_ZH = re.compile(r"用\s*--map\s+" + _PAIRS + r"\s*指定(?:户数列)?")
#: A column named only as a placeholder ("map it to your column").
_PLACEHOLDERS = ("COLUMN", "YOUR_COLUMN", "列名", "")
#: A Python ``columns={...}`` example after a ``--map`` hint.
_PY_COLUMNS = re.compile(r"\s*\(columns=\{[^)]*\}\)")
_SHELL_EN = re.compile(
    r"use `gridplan households --from-osm [^`]*`(?: to estimate households "
    r"from buildings)?"
)
_SHELL_ZH = re.compile(r"请使用\s*`gridplan households --from-osm [^`]*`")
_BARE = re.compile(r"\s?--map(?:\s*/\s*columns=)?\s?")


def field_text(name: str, lang: str = "zh") -> str:
    """A contract field in words: its column header (``col_*``) where the tables have one, else
    its own ``field_*`` label (fields only the readers know); the name itself otherwise."""
    for key in (f"col_{name}", f"field_{name}"):
        if key in LABELS:
            return t(key, lang)
    return name


def fix_text(problem, lang: str = "zh", kind: str | None = None) -> str:
    """What the planner should do about a data-check problem, in the app's terms.

    Parameters
    ----------
    problem : Problem
        A problem of :func:`gridplan.io.files.read_checked` or the layers' check (``code``,
        ``column``, ``fix``/``fix_zh``).
    lang : {"zh", "en"}
    kind : str, optional
        The layer's name in words (the column step's section); the file name otherwise.

    Returns
    -------
    str
        The instruction of :data:`FIXES` for the problem's code; else the library's fix, with
        any command-line part reworded (:func:`app_wording`).
    """
    from gridplan.app.labels import text

    entry = FIXES.get(problem.code)
    if entry is None:
        fix = (problem.fix_zh or problem.fix) if lang == "zh" else problem.fix
        return app_wording(fix, lang)
    key, fld = entry
    column = problem.column or ""
    return text(
        key,
        lang,
        kind=kind or problem.file or "",
        field=field_text(fld or column, lang),
        column=column,
    )


def _pairs(text: str) -> list[tuple[str, str]]:
    return [tuple(p.split("=", 1)) for p in re.split(r"[,/]", text) if "=" in p]


def _choose_en(match: re.Match) -> str:
    """ "choose column X for "Field" ... in the column mapping"."""
    pairs = _pairs(match.group(1))
    named = [f'column {c} for "{field_text(f, "en")}"' for f, c in pairs if c not in _PLACEHOLDERS]
    open_ = [f'"{field_text(f, "en")}"' for f, c in pairs if c in _PLACEHOLDERS]
    if open_:
        named.append(("the columns for " if len(open_) > 1 else "the column for ") + " and ".join(open_))
    return f"choose {' and '.join(named)} in the column mapping"


def _fields_en(match: re.Match) -> str:
    fields = ", ".join(f'"{field_text(f, "en")}"' for f, _ in _pairs(match.group(1)))
    return f"the column mapping ({fields})"


def _choose_zh(match: re.Match) -> str:
    """ "在“列对应”中为“字段”选择列 X"."""
    pairs = _pairs(match.group(1))
    fields = "、".join(f"“{field_text(f, 'zh')}”" for f, _ in pairs)
    named = [c for _, c in pairs if c not in _PLACEHOLDERS]
    return f"在“列对应”中为{fields}选择列" + (f" {'、'.join(named)}" if named else "")


def app_wording(text: str | None, lang: str = "zh") -> str:
    """``text`` with its command-line hints in the app's terms.

    Parameters
    ----------
    text : str or None
        A message or fix of the library, in ``lang``.
    lang : {"zh", "en"}

    Returns
    -------
    str
        The text, ``--map FIELD=COLUMN`` named as the column step's choice for the field, a
        ``columns={...}`` example dropped, a ``gridplan`` command named as the step it stands for.
    """
    if not text:
        return text or ""
    out = _PY_COLUMNS.sub("", str(text))
    if lang == "zh":
        out = _SHELL_ZH.sub("请先由建筑轮廓估算户点", out)
        out = _MAP_ZH.sub(_choose_zh, out)
        return _BARE.sub("“列对应”", out)
    out = _SHELL_EN.sub("estimate households from the buildings first", out)
    out = _MAP_EN_VERB.sub(_choose_en, out)
    out = _MAP_EN.sub(_fields_en, out)
    out = _BARE.sub(" the column mapping ", out)
    return re.sub(r"\bthe the\b", "the", re.sub(r" {2,}", " ", out)).strip()

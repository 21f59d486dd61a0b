"""The library's fixes, worded for the app: a planner maps columns in the column step, not with
the command line's ``--map FIELD=COLUMN``, and never sees a shell command.

The readers word their fixes for both the command line and the app; this module rewrites the
command-line parts of a message (``--map``, ``columns=``, ``gridplan <command>``) into the app's
terms, leaving everything else of the message as it is.
"""

from __future__ import annotations

import re

from gridplan.i18n import LABELS, t

__all__ = ["field_text", "app_wording"]

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

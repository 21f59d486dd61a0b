"""Every error and warning gridplan raises, in one place.

A user-facing error names the file, the column or rows, and the fix, so that a planner can act on
it without reading a traceback. The CLI turns any :class:`GridplanError` into a message on stderr
and exit code 2; the app shows :meth:`GridplanError.localized` in the chosen language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "GridplanError",
    "InputError",
    "NetworkError",
    "OutputError",
    "ConflictError",
    "GridplanWarning",
    "RepairWarning",
    "format_rows",
]

#: How many row numbers an error message lists before it says "and N more".
MAX_ROWS_SHOWN = 10


def format_rows(rows: Iterable[object], limit: int = MAX_ROWS_SHOWN) -> str:
    """Render row labels as ``"3, 7, 12 and 40 more"`` for messages."""
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:limit])
    if len(rows) > limit:
        shown += f" and {len(rows) - limit} more"
    return shown


class GridplanError(Exception):
    """Base of every error gridplan raises on purpose.

    Parameters
    ----------
    message : str
        What is wrong, in English.
    file : str, optional
        The input file (or layer name) the problem is in.
    column : str, optional
        The column the problem is in.
    rows : sequence, optional
        The rows that show the problem, as 0-based positions in the data as read (for code).
    row_numbers : sequence, optional
        The same rows as the user's program numbers them (the line of a CSV or the row of a
        spreadsheet, counting the header and any title rows; the feature number from 1 in a GIS
        file). Messages show these; without them, ``rows``.
    fix : str, optional
        What the user should do about it.
    message_zh, fix_zh : str, optional
        The same in Chinese, for the app and the Chinese CLI.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        rows: Sequence[object] | None = None,
        row_numbers: Sequence[object] | None = None,
        fix: str | None = None,
        message_zh: str | None = None,
        fix_zh: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.column = column
        self.rows = list(rows) if rows is not None else []
        self.row_numbers = list(row_numbers) if row_numbers is not None else []
        self.fix = fix
        self.message_zh = message_zh
        self.fix_zh = fix_zh
        super().__init__(self._render(message, fix, lang="en"))

    def _render(self, message: str, fix: str | None, lang: str) -> str:
        zh = lang == "zh"
        parts = []
        if self.file:
            parts.append(f"{self.file}: ")
        if self.column:
            parts.append(f"列 '{self.column}': " if zh else f"column '{self.column}': ")
        parts.append(message)
        shown = self.row_numbers or self.rows
        if shown:
            label = "行" if zh else "rows"
            parts.append(f" ({label} {format_rows(shown)})")
        if fix:
            parts.append(f" 解决办法：{fix}" if zh else f" Fix: {fix}")
        return "".join(parts)

    def localized(self, lang: str = "zh") -> str:
        """The message in ``lang`` ("zh" or "en"), falling back to English."""
        if lang == "zh" and self.message_zh:
            return self._render(self.message_zh, self.fix_zh or self.fix, lang="zh")
        return str(self)


class InputError(GridplanError, ValueError):
    """An input file or table cannot be used as given. Nothing is written."""


class NetworkError(InputError):
    """The walking network cannot be built or used (no walkable ways, unreadable file, ...)."""


class OutputError(GridplanError, OSError):
    """An output cannot be written (folder not writable, disk full, ...)."""


class ConflictError(GridplanError):
    """A save would overwrite work another session saved first (a proposal in the plan store was
    saved or deleted after this session opened it). Nothing is written."""


class GridplanWarning(UserWarning):
    """Something the user should know about; the run goes on."""


class RepairWarning(GridplanWarning):
    """An input was repaired (invalid geometry made valid, coordinates converted, ...)."""

"""The Problem record shared by the readers (gridplan.io.files) and the checks (gridplan.io.validate)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from gridplan.errors import GridplanWarning, InputError, RepairWarning

__all__ = [
    "Problem",
    "SEVERITIES",
    "ROW_NUMBERS",
    "RowNumbers",
    "number_rows",
    "raise_first_error",
    "emit_warnings",
]

SEVERITIES = ("error", "warning", "repaired")

#: ``DataFrame.attrs`` key: the number the user's program shows for each row of a frame read
#: from a file (CSV line or spreadsheet row counting the header and title rows; feature number
#: from 1 in GIS files), as :class:`RowNumbers`. Valid only while the frame keeps the rows as
#: read.
ROW_NUMBERS = "gridplan_row_numbers"


class RowNumbers(tuple):
    """The row numbers of a frame read from a file, one per row.

    A tuple because pandas compares ``attrs`` when it concatenates frames (an array would not
    compare to one truth value); never copied, because pandas deep-copies ``attrs`` on every
    operation and a tuple cannot change.
    """

    __slots__ = ()

    def __new__(cls, values=()):
        return super().__new__(cls, (int(v) for v in values))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def number_rows(numbers: Sequence[int] | None, positions: Sequence[int]) -> list[int]:
    """The rows at 0-based ``positions`` as the user's program numbers them.

    Parameters
    ----------
    numbers : RowNumbers or None
        The file's number of every row (:data:`ROW_NUMBERS`); ``None`` for a frame built in
        Python, whose rows are named by their 0-based position.
    positions : sequence of int

    Returns
    -------
    list of int
    """
    if numbers is None:
        return [int(r) for r in positions]
    return [int(numbers[int(r)]) for r in positions]


@dataclass
class Problem:
    """One finding about an input.

    ``severity`` is "error" (the input cannot be used; nothing is written), "warning" (the run goes
    on, the user should look) or "repaired" (gridplan changed the data, e.g. made a polygon valid).
    ``rows`` are 0-based positions in the data as read; ``row_numbers`` the same rows as the
    user's program numbers them (:data:`ROW_NUMBERS`), which messages show. A problem about rows
    that were dropped (empty rows) has only ``row_numbers``; one that names its rows in the
    message has neither.
    """

    severity: str
    code: str
    file: str | None
    column: str | None
    rows: list = field(default_factory=list)
    message: str = ""
    fix: str = ""
    message_zh: str = ""
    fix_zh: str = ""
    row_numbers: list = field(default_factory=list)

    @property
    def shown_rows(self) -> list:
        """The rows as messages name them: ``row_numbers``, else ``rows``."""
        return self.row_numbers or self.rows

    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("rows", "row_numbers"):
            d[key] = [int(r) if hasattr(r, "__index__") else r for r in d[key]]
        return d

    def text(self, lang: str = "en") -> str:
        """The message in ``lang`` ("en" or "zh"), worded exactly as the error would be."""
        return self.to_error().localized(lang)

    def to_error(self) -> InputError:
        return InputError(
            self.message,
            file=self.file,
            column=self.column,
            rows=self.rows,
            row_numbers=self.row_numbers,
            fix=self.fix or None,
            message_zh=self.message_zh or None,
            fix_zh=self.fix_zh or None,
        )


def raise_first_error(problems: list[Problem]) -> None:
    """Raise the first error among ``problems`` as an InputError (mentioning how many more)."""
    errors = [p for p in problems if p.severity == "error"]
    if not errors:
        return
    first = errors[0]
    if len(errors) > 1:
        extra = f"; {len(errors) - 1} more problem(s): " + "; ".join(p.code for p in errors[1:6])
        first = Problem(**{**first.__dict__, "message": first.message + extra})
    raise first.to_error()


def emit_warnings(problems: list[Problem], stacklevel: int = 3) -> None:
    """Issue every warning/repair as a Python warning, so notebook users see them."""
    for p in problems:
        if p.severity == "repaired":
            warnings.warn(p.text(), RepairWarning, stacklevel=stacklevel)
        elif p.severity == "warning":
            warnings.warn(p.text(), GridplanWarning, stacklevel=stacklevel)

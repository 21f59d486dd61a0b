"""The Problem record shared by the readers (gridplan.io.files) and the checks (gridplan.io.validate)."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

from gridplan.errors import GridplanWarning, InputError, RepairWarning

__all__ = ["Problem", "SEVERITIES", "raise_first_error", "emit_warnings"]

SEVERITIES = ("error", "warning", "repaired")


@dataclass
class Problem:
    """One finding about an input.

    ``severity`` is "error" (the input cannot be used; nothing is written), "warning" (the run goes
    on, the user should look) or "repaired" (gridplan changed the data, e.g. made a polygon valid).
    ``rows`` are 0-based row positions in the file.
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

    def to_dict(self) -> dict:
        d = asdict(self)
        d["rows"] = [int(r) if hasattr(r, "__index__") else r for r in self.rows]
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
        extra = f"; {len(errors) - 1} more problem(s): " + "; ".join(
            p.code for p in errors[1:6])
        first = Problem(**{**first.__dict__, "message": first.message + extra})
    raise first.to_error()


def emit_warnings(problems: list[Problem], stacklevel: int = 3) -> None:
    """Issue every warning/repair as a Python warning, so notebook users see them."""
    for p in problems:
        if p.severity == "repaired":
            warnings.warn(p.text(), RepairWarning, stacklevel=stacklevel)
        elif p.severity == "warning":
            warnings.warn(p.text(), GridplanWarning, stacklevel=stacklevel)

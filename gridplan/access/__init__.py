"""Stage 2b: walking access to service centres, the 15-minute circle and the norms check.

The folder is ``access`` rather than ``coverage`` so that ``gridplan.coverage`` stays the
function (see :mod:`gridplan.grids`).
"""

from gridplan.access.coverage import CoverageResult, coverage, write_coverage

__all__ = ["CoverageResult", "coverage", "write_coverage"]

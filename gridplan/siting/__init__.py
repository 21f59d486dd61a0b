"""Stage 3: where new centres or stations close the coverage gaps.

:mod:`.api` builds the instance from GeoDataFrames; :mod:`.solvers` is the array core
(sparse coverage matrix in, chosen sites and a proven bound out).
"""

from gridplan.siting.api import SitingResult, site, write_siting

__all__ = ["SitingResult", "site", "write_siting"]

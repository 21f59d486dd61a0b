"""Stage 3: where new centres or stations close the coverage gaps.

:mod:`.api` builds the instance from GeoDataFrames (:mod:`.candidates`, :mod:`.matrix`) and
writes the tables (:mod:`.tables`); :mod:`.solvers` is the array core (sparse coverage matrix in,
chosen sites and a proven bound out), built from :mod:`.reduce`, :mod:`.greedy`,
:mod:`.lagrange`, :mod:`.milp` and :mod:`.capacitated`.
"""

from gridplan.siting.api import SitingResult, site, write_siting

__all__ = ["SitingResult", "site", "write_siting"]

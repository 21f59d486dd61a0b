"""What every covering solver returns, and the gap arithmetic they share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["MILP_NNZ_PER_SECOND", "CoverSolution"]

#: Largest MILP (covered pairs per second of time left) handed to HiGHS after reduction and
#: fixing; measured: 93k pairs solve in about 2 s, while the LP relaxation of 640k pairs alone
#: takes 80 s on the same machine.
MILP_NNZ_PER_SECOND = 5000
_EPS = 1e-6


@dataclass
class CoverSolution:
    """A solved covering instance, in original column numbers.

    Attributes
    ----------
    sites : ndarray
        Chosen columns, best first.
    gains : ndarray
        Marginal weight each site adds in that order (for capacitated problems: households served).
    objective : float
        Covered (or served) weight of the objective; for :func:`min_cover` the number of sites.
    bound : float
        Proven bound on the optimum (upper for maximisation, lower for minimisation).
    gap : float
        Relative gap between objective and bound (0 = proven optimal).
    status : str
        ``optimal`` (proven), ``feasible`` (gap > 0) or ``infeasible``.
    method : str
        Which solver produced ``sites`` (``milp`` or ``greedy``).
    """

    sites: np.ndarray
    gains: np.ndarray
    objective: float
    bound: float
    gap: float
    status: str
    method: str
    times: dict = field(default_factory=dict)
    sizes: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)

    @classmethod
    def proven(cls, sites, gains, objective, bound, gap, method, times, sizes, details) -> CoverSolution:
        """A solution whose status follows from its gap: ``optimal`` only when the gap is 0."""
        status = "optimal" if gap <= 0 else "feasible"
        return cls(sites, gains, objective, bound, gap, status, method, times, sizes, details)

    def as_dict(self) -> dict:
        return {
            "objective": float(self.objective),
            "bound": float(self.bound),
            "gap": float(self.gap),
            "status": self.status,
            "method": self.method,
            "times_s": {k: round(float(v), 3) for k, v in self.times.items()},
            "sizes": dict(self.sizes),
            **self.details,
        }


def _integral(w) -> bool:
    w = np.asarray(w, dtype=np.float64)
    return bool(np.all(w == np.round(w)))


def _max_gap(objective: float, bound: float, integral: bool) -> tuple[float, float]:
    if integral:
        bound = math.floor(bound + _EPS)
    bound = max(bound, objective)
    gap = 0.0 if bound <= 0 else (bound - objective) / bound
    return bound, gap

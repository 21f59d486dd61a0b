"""Complete search for a contiguous partition of a small graph with every part in a band.

Hand-written: a depth-first enumeration of connected unit sets (each generated once, by the
include/exclude scheme of connected-subgraph enumeration), peeling one part at a time off a
peripheral unit, with the remaining components checked for a non-empty band and solved
independently (memoised). No well-kept library enumerates connected partitions under hard lower
and upper weight bounds. Unit sets are bitsets in Python ints (bit ``x`` for unit ``x``): the same
enumeration in the same order as with sets, several times faster.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

__all__ = ["BudgetExceeded", "bits", "exact_parts", "whole_grids_possible"]


def whole_grids_possible(total: int, lo: int, hi: int) -> bool:
    """Can ``total`` households be divided into whole grids of ``lo``-``hi`` (by count alone)?

    Parameters
    ----------
    total, lo, hi : int

    Returns
    -------
    bool
        Some whole number of grids k has k * lo <= total <= k * hi (always, for lo = 0).
    """
    return math.ceil(total / hi) <= total // lo if lo > 0 else True


class BudgetExceeded(Exception):
    """The search took more steps than its budget allows."""


def exact_parts(w: list[int], nb: list[int], lo: int, hi: int, budget: int) -> list[int] | None:
    """A partition of all units into connected parts with weights in [lo, hi], or None.

    Parameters
    ----------
    w : list of int
        Weight per unit.
    nb : list of int
        Neighbour bitset per unit (the graph is connected).
    lo, hi : int
        The band.
    budget : int
        Most enumeration steps (connected sets extended) before giving up.

    Returns
    -------
    list of int or None
        The parts as bitsets, or None when no such partition exists.

    Raises
    ------
    BudgetExceeded
        The search did not finish within ``budget`` steps.

    Notes
    -----
    ``extend(sset, weight, frontier, blocked)`` is one step: ``frontier`` holds the units that
    may join the set next, in order, and only those light enough; ``blocked`` the units that may
    not enter a later frontier (in the set, passed over, or already in a frontier). A unit too
    heavy for a set is too heavy for every larger one, so dropping it from the frontier (it stays
    blocked) changes no step. The same remainder comes back from many peeled sets, with its
    components memoised by then: ``tails`` keeps their joined parts instead of finding them again.
    """
    n = len(w)
    heavy = sum(1 << x for x in range(n) if w[x] > hi)
    count = 0
    memo: dict = {}
    tails: dict = {}  # remainder -> its components' parts joined, None when one has none

    def solve_rest(rest: int):
        tail: list | None = []
        for comp in _components(rest, nb):
            sub = solve(comp)
            if sub is None:
                tail = None
                break
            tail += sub
        tails[rest] = tail
        return tail

    def solve(region: int):
        if region in memo:
            return memo[region]
        members = bits(region)
        total = sum(w[x] for x in members)
        if not whole_grids_possible(total, lo, hi) or region & heavy:
            memo[region] = None
            return None
        if lo <= total <= hi:
            memo[region] = [region]
            return memo[region]
        # peel from the unit with the fewest neighbours inside the region (periphery)
        root = min(members, key=lambda x: ((nb[x] & region).bit_count(), x))
        result = None

        def extend(sset, weight, frontier, blocked):
            nonlocal result, count
            count += 1
            if count > budget:
                raise BudgetExceeded
            if weight >= lo:
                rest = region & ~sset
                tail = tails[rest] if rest in tails else solve_rest(rest)
                if tail is not None:
                    result = [sset, *tail]
                    return True
            free = region & ~blocked
            for i, v in enumerate(frontier):
                wv = w[v]
                room = hi - weight - wv
                nxt = [x for x in frontier[i + 1 :] if w[x] <= room]
                more = m = nb[v] & free
                while m:  # bits(more), inlined
                    low = m & -m
                    x = low.bit_length() - 1
                    if w[x] <= room:
                        nxt.append(x)
                    m ^= low
                if nxt:
                    if extend(sset | (1 << v), weight + wv, nxt, blocked | more):
                        return True
                    continue
                count += 1  # nothing can join that set: extend's step, without the call
                if count > budget:
                    raise BudgetExceeded
                if weight + wv >= lo:
                    rest = region & ~(sset | (1 << v))
                    tail = tails[rest] if rest in tails else solve_rest(rest)
                    if tail is not None:
                        result = [sset | (1 << v), *tail]
                        return True
            return False

        near = nb[root] & region
        front = [x for x in bits(near) if w[x] <= hi - w[root]]
        extend(1 << root, w[root], front, (1 << root) | near)
        memo[region] = result
        return result

    return solve((1 << n) - 1)


def _components(nodes: int, nb: list[int]) -> Iterator[int]:
    """Connected components of the units in bitset ``nodes`` (``nb``: neighbour bitsets),
    ordered by their lowest unit; generated lazily (the search stops at the first without a
    plan)."""
    left = nodes
    while left:
        comp = new = left & -left
        while new:
            reach = 0
            while new:  # the neighbours of every unit in new (inlined: the hot loop)
                low = new & -new
                reach |= nb[low.bit_length() - 1]
                new ^= low
            new = reach & left & ~comp
            comp |= new
        left &= ~comp
        yield comp


def bits(mask: int) -> list[int]:
    """The set bits of ``mask``, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out

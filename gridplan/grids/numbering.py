"""Grid codes ``<community_id>-NN``: kept grids keep theirs, replanned grids take the code of
the previous grid they continue, new grids are numbered north-west first."""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["grid_codes", "grid_order", "split_grid_id"]


def grid_order(geoms: np.ndarray) -> np.ndarray:
    """Spatial order, north-west first.

    Parameters
    ----------
    geoms : array of Polygon

    Returns
    -------
    ndarray of int
        Positions ordered by x - y of a point on the surface, then by -y, then by x (to the mm).
    """
    rp = shapely.point_on_surface(geoms)
    x, y = shapely.get_x(rp), shapely.get_y(rp)
    return np.lexsort((np.round(x, 3), -np.round(y, 3), np.round(x - y, 3)))


def split_grid_id(grid_id) -> tuple[str, int | None]:
    """``"<community_id>-<NN>"`` -> (community id, NN); (the whole id, None) without a numeric
    tail. The one reading of a grid code's parts (codes, plans, exports and the map use it)."""
    head, sep, tail = str(grid_id).rpartition("-")
    if sep and tail.isdigit():
        return head, int(tail)
    return str(grid_id), None


def _number(gid: str, cid: str) -> int | None:
    head, number = split_grid_id(gid)
    return number if head == cid else None


def grid_codes(
    cid: str,
    kept_ids: list[str],
    geoms: np.ndarray,
    hh_grid: np.ndarray,
    hh: np.ndarray,
    previous: np.ndarray | None,
) -> np.ndarray:
    """The code of every grid of community ``cid``.

    Parameters
    ----------
    cid : str
        The community id.
    kept_ids : list of str
        Codes of the kept grids, which are grids 0..len(kept_ids)-1.
    geoms : ndarray of Polygon
        Every grid's polygon.
    hh_grid : ndarray of int
        Grid of every household row.
    hh : ndarray of int
        Households per row.
    previous : ndarray of object, optional
        Previous grid_id per household row (a replan).

    Returns
    -------
    ndarray of object
        One code per grid.
    """
    nk, ngrids = len(kept_ids), len(geoms)
    used = set()
    code = np.empty(ngrids, dtype=object)
    for k_i, gid in enumerate(kept_ids):
        code[k_i] = gid
        used.add(_number(gid, cid))
    new = np.arange(nk, ngrids)
    ordered = new[grid_order(geoms[new])] if len(new) else new
    # replanned grids take the code of the previous grid they mostly continue (one-to-one)
    if previous is not None and len(new):
        prev = np.asarray(previous, dtype=object)
        pairs: dict = {}
        for g, p, h in zip(hh_grid, prev, hh):
            if g >= nk and p is not None and isinstance(p, str) and p.startswith(f"{cid}-"):
                pairs[(int(g), p)] = pairs.get((int(g), p), 0) + int(h)
        for (g, p), _ in sorted(pairs.items(), key=lambda t: (-t[1], t[0])):
            if code[g] is None and _number(p, cid) not in used:
                code[g] = p
                used.add(_number(p, cid))
    nxt = 1
    for g in ordered:
        if code[g] is not None:
            continue
        while nxt in used:
            nxt += 1
        code[g] = f"{cid}-{nxt:02d}"
        used.add(nxt)
    return code

"""A plan with its undo/redo history and its walking network as a manifest of pieces.

The manifest (JSON) names every piece by key (:mod:`gridplan.plan.store_pieces`): the data the
plan was made from (households, communities, context layers), every undo/redo state (grids,
unit-to-grid map, micro-grids, locks, the edit that made it), the unit tables of re-balancing
edits, and the walking network. States shared between edits are written once and shared again
when read, so that undo and redo after reopening swap the same states as before the save.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from pyproj import CRS
from scipy import sparse

from gridplan.network.graph import WalkNetwork
from gridplan.plan.common import jsonable
from gridplan.plan.history import Edit, History, State
from gridplan.plan.model import Plan
from gridplan.plan.store_pieces import PieceWriter, frame_array, frame_bytes, read_frame
from gridplan.plan.units import UnitTables

__all__ = ["MANIFEST_FORMAT", "encode_plan", "decode_plan", "encode_network", "decode_network", "piece_keys"]

#: Layout version of the manifests written by :func:`encode_plan`.
MANIFEST_FORMAT = 1

Reader = Callable[[str], bytes]


def encode_plan(plan: Plan, writer: PieceWriter) -> dict:
    """The manifest of ``plan``: its data, its current state and its whole undo/redo history.

    Parameters
    ----------
    plan : Plan
    writer : PieceWriter
        Collects the pieces' bytes (and remembers the ones it has seen).

    Returns
    -------
    dict
        JSON-able; :func:`decode_plan` turns it back into a plan.
    """
    states: dict[int, str] = {}
    state_rows: dict[str, dict] = {}
    tables: dict[int, str] = {}
    table_rows: dict[str, dict] = {}

    def state_ref(st: State | None) -> str | None:
        if st is None:
            return None
        if id(st) not in states:
            ref = f"s{len(states)}"
            states[id(st)] = ref
            state_rows[ref] = _encode_state(st, writer)
        return states[id(st)]

    def tables_ref(t: UnitTables | None) -> str | None:
        if t is None:
            return None
        if id(t) not in tables:
            ref = f"t{len(tables)}"
            tables[id(t)] = ref
            table_rows[ref] = {
                "units": writer.frame(t.units),
                "household_unit": writer.array(t.household_unit, "unit"),
            }
        return tables[id(t)]

    history = plan._history

    def edits(stack: list[Edit]) -> list[dict]:
        return [
            {
                "label": e.label,
                "before": state_ref(e.before),
                "after": state_ref(e.after),
                "tables_before": tables_ref(e.tables_before),
                "tables_after": tables_ref(e.tables_after),
            }
            for e in stack
        ]

    current_tables = tables_ref(plan._tables)
    return {
        "format": "gridplan-proposal",
        "version": MANIFEST_FORMAT,
        "min_households": plan.min_households,
        "max_households": plan.max_households,
        "seed": plan.seed,
        "micro_max": plan.micro_max,
        "reasons": {k: v for k, v in sorted(plan._reasons.items())},
        "report": jsonable(plan.partition_report),
        "households": writer.frame(plan._households),
        "communities": writer.frame(plan._communities),
        "context": {name: writer.frame(plan.context[name]) for name in sorted(plan.context)},
        "state": state_ref(plan._state),
        "n_grids": len(plan._state.grids),
        "tables": current_tables,
        "undo_depth": history.depth,
        "undo": edits(history.undo),
        "redo": edits(history.redo),
        "states": state_rows,
        "unit_tables": table_rows,
        "coverage": _encode_coverage(plan, writer),
    }


def _encode_state(st: State, writer: PieceWriter) -> dict:
    return {
        "grids": writer.frame(st.grids),
        "unit_grid": writer.array(st.unit_grid, "grid_id"),
        "micro_grids": writer.frame(st.micro_grids),
        "locked": sorted(st.locked),
        "label": st.label,
        "action": jsonable(st.action),
        "warnings": [jsonable(w) for w in st.warnings],
        "micro_stale": sorted(st.micro_stale),
    }


def _encode_coverage(plan: Plan, writer: PieceWriter) -> str | None:
    """The covered flag per household of the attached coverage (for comparing proposals)."""
    if plan.coverage is None:
        return None
    covered = plan.coverage.households["covered"].fillna(False).to_numpy(dtype=bool)
    return writer.array(covered, "covered")


def decode_plan(manifest: dict, read: Reader, remember: Callable[[object, str], None] | None = None) -> Plan:
    """The plan of a manifest written by :func:`encode_plan`, with its undo/redo history.

    Parameters
    ----------
    manifest : dict
    read : callable
        ``key -> bytes`` of a piece.
    remember : callable, optional
        Called with every frame and array read and its key (a :class:`PieceWriter` then knows
        them, and saving the plan again writes nothing it shares with this version).

    Returns
    -------
    Plan
    """
    frames: dict[str, object] = {}
    keep = remember or (lambda obj, key: None)

    def frame(key):
        if key is None:
            return None
        if key not in frames:
            frames[key] = read_frame(read(key))
            keep(frames[key], key)
        return frames[key]

    def array(key, dtype=None):
        values = frame_array(frame(key), dtype)
        keep(values, key)
        return values

    states = {
        ref: State(
            array(row["unit_grid"], object),
            frame(row["grids"]),
            frozenset(row["locked"]),
            frame(row["micro_grids"]),
            row["label"],
            row["action"],
            tuple(row["warnings"]),
            frozenset(row["micro_stale"]),
        )
        for ref, row in manifest["states"].items()
    }
    current = states[manifest["state"]]
    cur_tables = manifest["unit_tables"][manifest["tables"]]
    units = frame(cur_tables["units"]).copy()
    units["grid_id"] = current.unit_grid
    plan = Plan(
        frame(manifest["households"]),
        frame(manifest["communities"]),
        units,
        array(cur_tables["household_unit"], np.int64),
        min_households=manifest["min_households"],
        max_households=manifest["max_households"],
        reasons=manifest["reasons"],
        micro_grids=current.micro_grids,
        locked=current.locked,
        context={name: frame(key) for name, key in manifest["context"].items()},
        seed=manifest["seed"],
        report=manifest["report"],
        micro_max=manifest["micro_max"],
    )
    tables = {manifest["tables"]: plan._tables}
    for ref, row in manifest["unit_tables"].items():
        if ref not in tables:
            tables[ref] = UnitTables.build(
                frame(row["units"]),
                array(row["household_unit"], np.int64),
                plan._hh_weight,
                plan._barrier_lines[0],
            )
    plan._history = _decode_history(manifest, states, tables)
    plan._set_state(current)
    return plan


def _decode_history(manifest: dict, states: dict[str, State], tables: dict[str, UnitTables]) -> History:
    history = History(manifest["undo_depth"])

    def edit(row: dict) -> Edit:
        return Edit(
            row["label"],
            states[row["before"]],
            states.get(row["after"]) if row["after"] else None,
            tables.get(row["tables_before"]) if row["tables_before"] else None,
            tables.get(row["tables_after"]) if row["tables_after"] else None,
        )

    history.undo = [edit(r) for r in manifest["undo"]]
    history.redo = [edit(r) for r in manifest["redo"]]
    return history


def encode_network(network: WalkNetwork, writer: PieceWriter) -> dict:
    """The manifest entry of a walking network: nodes, edges and the CSR matrix as they are.

    The matrix and the components are stored, not rebuilt, so that a reopened network is the
    same network (the graph rules stay in :func:`gridplan.network.graph.network_from_lines`).
    """
    coo = sparse.coo_array(network.csr)
    nodes = pd.DataFrame(
        {"x": network.node_xy[:, 0], "y": network.node_xy[:, 1], "component": network.component}
    )
    matrix = pd.DataFrame(
        {"row": coo.row.astype(np.int64), "col": coo.col.astype(np.int64), "length": coo.data}
    )
    return {
        "crs": network.crs.to_wkt(),
        "nodes": writer.put(network.node_xy, lambda: frame_bytes(nodes)),
        "edges": writer.frame(network.edges),
        "csr": writer.put(network.csr, lambda: frame_bytes(matrix)),
        "report": jsonable(network.report),
    }


def decode_network(entry: dict, read: Reader) -> WalkNetwork:
    """The :class:`~gridplan.network.graph.WalkNetwork` of :func:`encode_network`."""
    nodes = read_frame(read(entry["nodes"]))
    matrix = read_frame(read(entry["csr"]))
    n = len(nodes)
    csr = sparse.csr_array(
        (matrix["length"].to_numpy(), (matrix["row"].to_numpy(), matrix["col"].to_numpy())), shape=(n, n)
    )
    return WalkNetwork(
        crs=CRS.from_wkt(entry["crs"]),
        node_xy=nodes[["x", "y"]].to_numpy(dtype=np.float64),
        edges=read_frame(read(entry["edges"])),
        csr=csr,
        component=nodes["component"].to_numpy(),
        report=entry["report"],
    )


def piece_keys(manifest: dict) -> set[str]:
    """Every piece key a version manifest names (for writing and for removing unused pieces)."""
    keys = {manifest["households"], manifest["communities"], manifest.get("coverage")}
    keys |= set(manifest["context"].values())
    for row in manifest["states"].values():
        keys |= {row["grids"], row["unit_grid"], row["micro_grids"]}
    for row in manifest["unit_tables"].values():
        keys |= {row["units"], row["household_unit"]}
    net = manifest.get("network")
    if net:
        keys |= {net["nodes"], net["edges"], net["csr"]}
    keys.discard(None)
    return keys

"""Proposals (方案) on the server: named plans with versions, history and the data they came from.

>>> store = PlanStore()  # GRIDPLAN_DB, else GRIDPLAN_DATA or the user data folder  # doctest: +SKIP
>>> store.save("紫阳 A", plan, network=net)   # doctest: +SKIP
>>> plan = store.open("紫阳 A")               # undo/redo work as before the save  # doctest: +SKIP

Every :meth:`PlanStore.save` adds a version holding the full plan state, the undo/redo history,
the data the plan was made from and the walking network, as a manifest of content-addressed
pieces (:mod:`gridplan.plan.store_codec`): a version shares every unchanged piece with the one
before it, so that an autosave after each edit writes only the new state.

Saving is optimistic: a handle remembers the version it opened or saved last, and saving over a
proposal that another session has saved since raises :class:`~gridplan.errors.ConflictError`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from gridplan.errors import ConflictError, InputError
from gridplan.network.graph import WalkNetwork
from gridplan.plan.model import Plan
from gridplan.plan.store_codec import decode_network, decode_plan, encode_network, encode_plan, piece_keys
from gridplan.plan.store_db import Database, Tx, open_database
from gridplan.plan.store_pieces import PieceWriter

__all__ = ["PlanStore", "Proposal"]

#: Longest proposal name accepted.
MAX_NAME = 200


@dataclass
class Proposal:
    """One version of a proposal as :meth:`PlanStore.load` reads it."""

    name: str
    version: int
    plan: Plan
    #: The walking network saved with the version (None when none was ever given).
    network: WalkNetwork | None
    saved: str
    note: str


class PlanStore:
    """Named proposals with versions, in SQLite (default) or PostgreSQL.

    Parameters
    ----------
    where : str or path, optional
        A data folder (the database is ``proposals.sqlite`` in it), a ``.sqlite`` file, or a
        ``postgresql://`` URL (credentials from the environment, as in
        :mod:`gridplan.io.postgis`). Default: ``GRIDPLAN_DB`` when set, else ``GRIDPLAN_DATA``,
        else the user's data folder.

    Notes
    -----
    The optimistic base of each proposal is kept per handle: give each editing session (each
    browser tab of the app) its own handle, or pass ``base=`` (the :attr:`Proposal.version` the
    session opened) to :meth:`save`. A handle is not shared between threads.
    """

    def __init__(self, where: str | os.PathLike | None = None) -> None:
        self._db: Database = open_database(where)
        self._writer = PieceWriter()
        #: proposal name -> the version this handle opened or saved last (its optimistic base)
        self._base: dict[str, int] = {}

    @property
    def where(self) -> str:
        """The database file or server, for messages."""
        return self._db.where

    # ------------------------------------------------------------------ writing
    def save(
        self,
        name: str,
        plan: Plan,
        *,
        network: WalkNetwork | None = None,
        note: str = "",
        base: int | None = None,
    ) -> int:
        """Save ``plan`` as the next version of proposal ``name`` (a new name starts at 1).

        Cheap when called after every edit: only pieces the last save did not write are written
        (after one edit, the new state's grids), and a save without a ``note`` of a plan that
        has not changed since the latest version adds no version. A coverage attached to the plan
        is kept as each household's covered flag (for :meth:`compare`); after opening, compute it
        again on the saved :attr:`Proposal.network`.

        Parameters
        ----------
        name : str
        plan : Plan
        network : WalkNetwork, optional
            The walking network the plan's coverage is computed on. Default: the network of the
            version this one follows, if any.
        note : str
            Free text shown in :meth:`versions`.
        base : int, optional
            The version this save follows. Default: the version this handle last opened or
            saved of ``name`` (none for a name this handle has not seen).

        Returns
        -------
        int
            The new version number (the latest one when nothing changed).

        Raises
        ------
        ConflictError
            Another session saved or deleted the proposal after ``base``, or the name exists
            and this handle never opened it.
        """
        name = _check_name(name)
        base = self._base.get(name) if base is None else int(base)
        manifest = encode_plan(plan, self._writer)
        if network is not None:
            manifest["network"] = encode_network(network, self._writer)
        try:
            with self._db.transaction(write=True) as tx:
                version = self._write(tx, name, base, manifest, note)
        finally:
            self._writer.done()
        self._base[name] = version
        return version

    def _write(self, tx: Tx, name: str, base: int | None, manifest: dict, note: str) -> int:
        head = tx.one("SELECT head FROM gridplan_proposals WHERE name = ?", [name])
        _check_base(name, head, base)
        parent = self._manifest(tx, name, head) if head is not None else {}
        manifest.setdefault("network", parent.get("network"))
        if not note and _text(manifest) == _text(parent):
            return head  # an autosave with nothing changed (e.g. a page rerun) adds no version
        keys = sorted(piece_keys(manifest))
        for key in sorted(set(keys) - tx.existing(keys)):
            data = self._writer.bytes_of(key)
            tx.run(
                "INSERT INTO gridplan_pieces (key, data) VALUES (?, ?) ON CONFLICT DO NOTHING", [key, data]
            )
        now = datetime.now(UTC).isoformat(timespec="seconds")
        version = (head or 0) + 1
        if head is None:
            created = tx.run(
                "INSERT INTO gridplan_proposals (name, head, updated) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [name, version, now],
            )
            _check_base(name, None if created else -1, base)
        else:
            tx.run("UPDATE gridplan_proposals SET head = ?, updated = ? WHERE name = ?", [version, now, name])
        tx.run(
            "INSERT INTO gridplan_versions (name, version, parent, saved, note, grids, edits, network, "
            "manifest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                name,
                version,
                head,
                now,
                str(note),
                manifest["n_grids"],
                len(manifest["undo"]),
                int(manifest["network"] is not None),
                _text(manifest),
            ],
        )
        return version

    def delete(self, name: str) -> None:
        """Remove a proposal with all its versions, and the pieces no other version uses.

        Raises
        ------
        InputError
            No proposal of that name.
        """
        name = _check_name(name)
        with self._db.transaction(write=True) as tx:
            if not tx.run("DELETE FROM gridplan_proposals WHERE name = ?", [name]):
                raise _unknown(name)
            tx.run("DELETE FROM gridplan_versions WHERE name = ?", [name])
            used: set[str] = set()
            for (text,) in tx.rows("SELECT manifest FROM gridplan_versions"):
                used |= piece_keys(json.loads(text))
            stored = {r[0] for r in tx.rows("SELECT key FROM gridplan_pieces")}
            for key in sorted(stored - used):
                tx.run("DELETE FROM gridplan_pieces WHERE key = ?", [key])
        self._base.pop(name, None)

    # ------------------------------------------------------------------ reading
    def load(self, name: str, version: int | None = None) -> Proposal:
        """A version of a proposal (default: the latest) with its plan and walking network.

        The plan's undo and redo work as they did before the save; this handle's next
        :meth:`save` of ``name`` follows the version read.

        Raises
        ------
        InputError
            No proposal or version of that name and number.
        """
        name = _check_name(name)
        with self._db.transaction() as tx:
            head = tx.one("SELECT head FROM gridplan_proposals WHERE name = ?", [name])
            if head is None:
                raise _unknown(name)
            number = head if version is None else int(version)
            row = tx.rows(
                "SELECT saved, note FROM gridplan_versions WHERE name = ? AND version = ?", [name, number]
            )
            if not row:
                raise InputError(
                    f"proposal {name!r} has no version {number}",
                    fix=f"choose one of its versions 1-{head} (store.versions(name))",
                    message_zh=f"方案“{name}”没有第 {number} 版",
                    fix_zh=f"请选择第 1-{head} 版",
                )
            manifest = self._manifest(tx, name, number)
            data = tx.pieces(piece_keys(manifest))
        plan = decode_plan(manifest, data.__getitem__, self._writer.remember)
        net = decode_network(manifest["network"], data.__getitem__) if manifest.get("network") else None
        # an older version opened is saved as a new version on top of the latest, not in place
        self._base[name] = head
        return Proposal(name, number, plan, net, row[0][0], row[0][1])

    def open(self, name: str, version: int | None = None) -> Plan:
        """The plan of a version of a proposal (default: the latest); see :meth:`load`."""
        return self.load(name, version).plan

    def network(self, name: str, version: int | None = None) -> WalkNetwork | None:
        """The walking network saved with a version of a proposal (None when it has none);
        reads only the network's pieces."""
        entry = self.manifest(name, version).get("network")
        if not entry:
            return None
        data = self.pieces([entry["nodes"], entry["edges"], entry["csr"]])
        return decode_network(entry, data.__getitem__)

    def list(self) -> pd.DataFrame:
        """The proposals: ``name``, ``version`` (the latest), ``versions``, ``updated`` (UTC)."""
        with self._db.transaction() as tx:
            rows = tx.rows(
                "SELECT p.name, p.head, COUNT(v.version), p.updated FROM gridplan_proposals p "
                "JOIN gridplan_versions v ON v.name = p.name GROUP BY p.name, p.head, p.updated "
                "ORDER BY p.name"
            )
        return pd.DataFrame(rows, columns=["name", "version", "versions", "updated"])

    def versions(self, name: str) -> pd.DataFrame:
        """The versions of a proposal, oldest first.

        Returns
        -------
        DataFrame
            ``version``, ``parent``, ``saved`` (UTC, ISO 8601), ``note``, ``grids``, ``edits``
            (undo depth), ``network`` (bool).
        """
        name = _check_name(name)
        with self._db.transaction() as tx:
            rows = tx.rows(
                "SELECT version, parent, saved, note, grids, edits, network FROM gridplan_versions "
                "WHERE name = ? ORDER BY version",
                [name],
            )
        if not rows:
            raise _unknown(name)
        out = pd.DataFrame(rows, columns=["version", "parent", "saved", "note", "grids", "edits", "network"])
        out["parent"] = out["parent"].astype("Int64")
        out["network"] = out["network"].astype(bool)
        return out

    def manifest(self, name: str, version: int | None = None) -> dict:
        """The JSON manifest of a version (what :mod:`gridplan.plan.store_compare` reads)."""
        name = _check_name(name)
        with self._db.transaction() as tx:
            head = tx.one("SELECT head FROM gridplan_proposals WHERE name = ?", [name])
            if head is None:
                raise _unknown(name)
            return self._manifest(tx, name, head if version is None else int(version))

    def pieces(self, keys) -> dict[str, bytes]:
        """The bytes of stored pieces by key."""
        with self._db.transaction() as tx:
            return tx.pieces(list(keys))

    def compare(self, a, b):
        """Two proposals side by side; see :func:`gridplan.plan.store_compare.compare`."""
        from gridplan.plan.store_compare import compare

        return compare(self, a, b)

    def _manifest(self, tx: Tx, name: str, version: int) -> dict:
        text = tx.one(
            "SELECT manifest FROM gridplan_versions WHERE name = ? AND version = ?", [name, version]
        )
        if text is None:
            raise InputError(
                f"proposal {name!r} has no version {version}",
                fix="list its versions with store.versions(name)",
                message_zh=f"方案“{name}”没有第 {version} 版",
            )
        return json.loads(text)


def _text(manifest: dict) -> str:
    """A manifest as stored: the same manifest, the same text."""
    return json.dumps(manifest, ensure_ascii=False, sort_keys=True)


def _check_name(name) -> str:
    text = str(name).strip() if name is not None else ""
    if not text or len(text) > MAX_NAME:
        raise InputError(
            f"a proposal name must be 1-{MAX_NAME} characters, got {name!r}",
            fix="give the proposal a short name, e.g. '紫阳 方案A'",
            message_zh=f"方案名称须为 1-{MAX_NAME} 个字符",
            fix_zh="请为方案取一个简短的名称",
        )
    return text


def _check_base(name: str, head: int | None, base: int | None) -> None:
    """Refuse a save that would overwrite work of another session (optimistic locking)."""
    if head == base:
        return
    if head is None:
        raise ConflictError(
            f"proposal {name!r} was deleted by another session after version {base} was opened",
            fix="save the plan under a new name",
            message_zh=f"方案“{name}”在打开第 {base} 版后已被其他会话删除",
            fix_zh="请将方案另存为新名称",
        )
    if base is None:
        raise ConflictError(
            f"a proposal named {name!r} exists already (version {head if head > 0 else 1})",
            fix="open it first to save over it (store.open(name)), or choose another name",
            message_zh=f"已存在名为“{name}”的方案",
            fix_zh="如需覆盖请先打开该方案，或换一个名称",
        )
    raise ConflictError(
        f"proposal {name!r} was saved by another session as version {head} after version {base} "
        "was opened; saving would overwrite that work",
        fix=f"open version {head} and redo the edits, or save this plan under a new name",
        message_zh=f"方案“{name}”在打开第 {base} 版后已被其他会话保存为第 {head} 版，保存将覆盖其工作",
        fix_zh=f"请打开第 {head} 版后重新编辑，或将本方案另存为新名称",
    )


def _unknown(name: str) -> InputError:
    return InputError(
        f"no proposal named {name!r}",
        fix="list the proposals with store.list()",
        message_zh=f"没有名为“{name}”的方案",
        fix_zh="请在方案列表中选择",
    )

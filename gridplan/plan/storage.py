"""A plan on disk: one GeoPackage that planners reopen tomorrow and GIS software reads too.

Layers for households (with their unit), communities, units, grids, optional micro-grids and
context layers, and a ``plan_meta`` table of JSON; never a pickle. The same plan gives the same
bytes: GeoPackage timestamps are pinned as in :func:`gridplan.io.files.write`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from gridplan.errors import InputError
from gridplan.io.files import write_layers
from gridplan.io.readers import GDAL_ERRORS
from gridplan.plan.common import jsonable

__all__ = ["PLAN_FORMAT_VERSION", "PlanStorage"]

#: Version of the plan file layout written by :meth:`PlanStorage.save`.
PLAN_FORMAT_VERSION = 1

#: What reading a file that is not a plan raises before its meta table is understood: GDAL
#: cannot open it or has no ``plan_meta`` layer (GDAL_ERRORS), the table has no ``value``
#: (KeyError) or no row (IndexError), or the value is not JSON text (ValueError, TypeError).
_NOT_A_PLAN = (*GDAL_ERRORS, KeyError, IndexError, TypeError)


class PlanStorage:
    """:meth:`save` and :meth:`load` of a :class:`~gridplan.plan.model.Plan`."""

    def save(self, path: str | os.PathLike) -> Path:
        """Write the plan to one GeoPackage (atomically; no pickle; same plan, same bytes).

        Layers: ``households`` (with ``gp_unit``), ``communities``, ``units`` (cells, current
        ``grid_id``), ``grids``, optional ``micro_grids`` and context layers, and ``plan_meta``
        (JSON: version, band, seed, locks, kept reasons, partition report). Undo history is not
        saved.

        Returns
        -------
        pathlib.Path
        """
        path = Path(path)
        if path.suffix.lower() != ".gpkg":
            raise InputError(
                f"a plan file must end in .gpkg, not {path.name}",
                fix="save as e.g. plan.gpkg",
                message_zh="方案文件须以 .gpkg 结尾",
            )
        units = self._tables.units
        meta = {
            "format": "gridplan-plan",
            "version": PLAN_FORMAT_VERSION,
            "min_households": self.min_households,
            "max_households": self.max_households,
            "seed": self.seed,
            "locked": sorted(self._state.locked),
            "reasons": {k: v for k, v in sorted(self._reasons.items())},
            "report": jsonable(self.partition_report),
            "households_columns": list(map(str, self._households.columns)),
            "unit_id_type": "int" if pd.api.types.is_integer_dtype(units["unit_id"]) else "str",
            "context": sorted(self.context),
            "micro_grids": self._state.micro_grids is not None,
            "micro_max": self.micro_max,
        }
        hh = self._households.copy()
        hh["gp_unit"] = self._tables.household_unit
        layers = {
            "households": hh,
            "communities": self._communities,
            "units": self.units_metric,
            "grids": self._state.grids.reset_index(drop=True),
        }
        if self._state.micro_grids is not None:
            layers["micro_grids"] = self._state.micro_grids
        layers.update((name, self.context[name]) for name in sorted(self.context))
        _write_plan_file(path, layers, meta)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike):
        """Open a plan written by :meth:`save`.

        Raises
        ------
        InputError
            The file is not a readable gridplan plan.
        """
        path = Path(path)
        try:
            layers = {name for name, _ in pyogrio.list_layers(path)}
            meta_df = pyogrio.read_dataframe(path, layer="plan_meta")
            meta = json.loads(meta_df["value"].iloc[0])
        except _NOT_A_PLAN as exc:
            raise InputError(
                f"not a gridplan plan file ({exc.__class__.__name__}: {exc})",
                file=str(path),
                fix="open a .gpkg written by 'save plan'",
                message_zh="不是 gridplan 方案文件",
                fix_zh="请打开由“保存方案”生成的 .gpkg 文件",
            ) from exc
        if (
            not isinstance(meta, dict)
            or meta.get("format") != "gridplan-plan"
            or meta.get("version", 0) > PLAN_FORMAT_VERSION
        ):
            raise InputError(
                "plan file of an unknown format or a newer version",
                file=str(path),
                fix="update gridplan",
                message_zh="方案文件格式未知或版本更新",
            )
        hh = gpd.read_file(path, layer="households")
        hh_unit = hh.pop("gp_unit").to_numpy(dtype=np.int64)
        hh = hh[[c for c in meta["households_columns"] if c in hh.columns and c != "geometry"] + ["geometry"]]
        units = gpd.read_file(path, layer="units")
        if meta.get("unit_id_type") == "int":
            units["unit_id"] = units["unit_id"].astype(np.int64)
        communities = gpd.read_file(path, layer="communities")
        context = {
            name: gpd.read_file(path, layer=name) for name in meta.get("context", []) if name in layers
        }
        micro = gpd.read_file(path, layer="micro_grids") if "micro_grids" in layers else None
        return cls(
            hh,
            communities,
            units,
            hh_unit,
            min_households=meta["min_households"],
            max_households=meta["max_households"],
            reasons=meta.get("reasons"),
            micro_grids=micro,
            locked=meta.get("locked", ()),
            context=context,
            seed=meta.get("seed", 0),
            report=meta.get("report"),
            micro_max=meta.get("micro_max"),
        )


def _write_plan_file(path: Path, layers: dict[str, gpd.GeoDataFrame], meta: dict) -> None:
    """All layers and the meta table into one GeoPackage, replacing ``path`` when complete."""
    table = pd.DataFrame({"key": ["plan"], "value": [json.dumps(meta, ensure_ascii=False)]})
    write_layers({**layers, "plan_meta": table}, path)

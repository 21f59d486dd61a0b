"""Estates, buildings and units by the names the planner's data gives them, not by their ids.

A partition unit's id (``<community>/E:<estate>#<part>``, :func:`gridplan.grids.units.unit_keys`)
is a key for code; the planner knows the estate as 锦绣花园. :class:`Names` holds the names of
one dataset and words units, edits and messages with them; without a name it falls back to
:func:`gridplan.i18n.unit_text`. No Streamlit here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import geopandas as gpd

from gridplan.app.labels import text
from gridplan.i18n import edit_text, unit_text

__all__ = ["Names", "names_of"]

#: A unit id inside a message: community code, ``/``, ``E:`` or ``B:`` and the key.
_UNIT_ID = re.compile(r"[0-9A-Za-z_-]+/[EB]:[^\s,，。;；:：)）'\"、]+")
_KEY = re.compile(r"(?:.*/)?([EB]):(.+?)(?:#(\d+))?")


def _name_map(layer: gpd.GeoDataFrame | None, id_col: str) -> dict[str, str]:
    if layer is None or id_col not in layer.columns or "name" not in layer.columns:
        return {}
    pairs = layer[[id_col, "name"]].dropna()
    pairs = pairs[pairs["name"].astype(str).str.strip() != ""]
    return dict(zip(pairs[id_col].astype(str), pairs["name"].astype(str).str.strip()))


@dataclass
class Names:
    """The names of one dataset's estates and buildings.

    Attributes
    ----------
    estates, buildings : dict
        id -> name (only the ids that have a name).
    """

    estates: dict[str, str] = field(default_factory=dict)
    buildings: dict[str, str] = field(default_factory=dict)

    def estate(self, estate_id) -> str:
        """The estate's name, else its id."""
        return self.estates.get(str(estate_id), str(estate_id))

    def unit(self, unit_id, lang: str = "zh") -> str:
        """A unit in words: 锦绣花园（第2部分）, a building's name; else :func:`unit_text`."""
        m = _KEY.fullmatch(str(unit_id))
        if m:
            kind, key, part = m.groups()
            names = self.estates if kind == "E" else self.buildings
            if key in names:
                if part:
                    return text("unit_estate_part", lang, name=names[key], part=part)
                return text("unit_estate" if kind == "E" else "unit_building", lang, name=names[key])
        return unit_text(unit_id, lang)

    def edit(self, action: dict, lang: str = "zh") -> str:
        """:func:`gridplan.i18n.edit_text` with the moved unit, or building, by its name."""
        out = self.message(edit_text(action, lang), lang, units=[action.get("unit")])
        building = action.get("building")
        if building is not None and str(building) in self.buildings:
            named = text("unit_building", lang, name=self.buildings[str(building)])
            out = out.replace(unit_text(f"B:{building}", lang), named)
        return out

    def message(self, message: str, lang: str = "zh", *, units=()) -> str:
        """``message`` with every unit id in it, and every unit worded by
        :func:`gridplan.i18n.unit_text` among ``units``, replaced by the unit's name."""
        out = str(message)
        for uid in units:
            if uid is not None:
                out = out.replace(unit_text(uid, lang), self.unit(uid, lang))
        return _UNIT_ID.sub(lambda m: self.unit(m.group(0), lang), out)


def names_of(layers: dict) -> Names:
    """The :class:`Names` of a dataset's layers (``estates``, ``buildings``)."""
    return Names(
        _name_map(layers.get("estates"), "estate_id"),
        _name_map(layers.get("buildings"), "building_id"),
    )

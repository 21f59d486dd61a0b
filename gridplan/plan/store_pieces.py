"""Content-addressed pieces: frames and arrays as GeoParquet/Parquet bytes named by their hash.

A proposal version in a :class:`~gridplan.plan.store.PlanStore` is a small JSON manifest that
names its pieces (households, units, each undo state's grids, the walking network, ...) by the
SHA-256 of their bytes. A piece that two versions share is stored once, so that an autosave after
one edit writes only the new state. Parquet, never a pickle: the same frame gives the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import weakref
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

__all__ = ["PieceWriter", "frame_bytes", "read_frame", "array_frame", "frame_array"]


def frame_bytes(frame: pd.DataFrame) -> bytes:
    """A (Geo)DataFrame as Parquet bytes (GeoParquet for a GeoDataFrame; index and dtypes kept)."""
    # pandas writes DataFrame.attrs into the Parquet metadata: the readers' notes (row numbers,
    # JSON booleans) would make the same data two different pieces
    frame = frame.copy(deep=False)
    frame.attrs = {}
    if isinstance(frame, gpd.GeoDataFrame):
        # one CRS, one spelling: EPSG:4326 parsed from a GDAL export (a "datum") and from
        # pyproj's database (a "datum_ensemble") are the same CRS, and must be the same piece
        for name in frame.columns[frame.dtypes == "geometry"]:
            crs = frame[name].crs
            if crs is not None:
                frame[name] = frame[name].set_crs(_canonical(crs), allow_override=True)
    buf = io.BytesIO()
    frame.to_parquet(buf)
    return buf.getvalue()


def read_frame(data: bytes) -> pd.DataFrame:
    """The frame of :func:`frame_bytes`: a GeoDataFrame when it was written as one, with the
    same dtypes."""
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    meta = table.schema.metadata or {}
    frame = table.to_pandas()
    if b"pandas" in meta:
        _restore_object_columns(frame, json.loads(meta[b"pandas"]))
    if b"geo" not in meta:
        return frame
    # the GeoParquet columns gpd.read_parquet would decode, with each CRS parsed once per
    # process: pyproj takes ~40 ms per PROJJSON, most of the time of reading a plan's frames
    geo = json.loads(meta[b"geo"])
    for name, info in geo["columns"].items():
        frame[name] = gpd.GeoSeries.from_wkb(
            frame[name], index=frame.index, crs=_crs(json.dumps(info.get("crs", "OGC:CRS84")))
        )
    return gpd.GeoDataFrame(frame, geometry=geo["primary_column"])


@functools.lru_cache(maxsize=32)
def _crs(text: str) -> CRS | None:
    """A CRS from its GeoParquet JSON (PROJJSON, or null for none)."""
    value = json.loads(text)
    if value is None:
        return None
    # the CRS as it was written (EPSG:4326, not its PROJJSON), so that a frame read back and
    # written again gives the same bytes
    return _canonical(CRS.from_user_input(value))


@functools.lru_cache(maxsize=32)
def _canonical(crs: CRS) -> CRS:
    """The CRS from the EPSG database when it is an EPSG one, else itself."""
    epsg = crs.to_epsg()
    return CRS.from_epsg(epsg) if epsg is not None else crs


def _restore_object_columns(frame: pd.DataFrame, meta: dict) -> None:
    """Text columns that were ``object`` (pandas reads all text back as ``str``) become
    ``object`` again, missing values as None, so that a frame reads back as it was written."""
    for col in meta.get("columns", []):
        name = col.get("name")
        if (
            col.get("numpy_type") == "object"
            and col.get("pandas_type") in ("unicode", "mixed")
            and name in frame.columns
            and frame[name].dtype != object
        ):
            values = frame[name]
            frame[name] = pd.Series(
                np.where(values.isna(), None, values.to_numpy(dtype=object)), index=frame.index, dtype=object
            )


def array_frame(values: np.ndarray, name: str = "value") -> pd.DataFrame:
    """A one-dimensional array as a one-column frame, so that arrays are Parquet pieces too."""
    return pd.DataFrame({name: values})


def frame_array(frame: pd.DataFrame, dtype=None) -> np.ndarray:
    """The array of :func:`array_frame`."""
    return frame.iloc[:, 0].to_numpy(dtype=dtype)


class PieceWriter:
    """Names pieces by the hash of their bytes and keeps the bytes of pieces not yet stored.

    The hash of an object already named is remembered by identity (while the object lives), so
    that saving a plan again costs nothing for the frames and undo states it still shares with
    the last save: plans never change a frame or a state in place (:mod:`gridplan.plan.history`).
    """

    def __init__(self) -> None:
        self._known: dict[int, tuple[weakref.ref, str]] = {}
        self.pending: dict[str, bytes] = {}
        self._again: dict[str, Callable[[], bytes]] = {}

    def put(self, obj, encode: Callable[[], bytes]) -> str:
        """The key of ``obj``, whose bytes ``encode()`` makes; encodes only objects not seen."""
        seen = self._known.get(id(obj))
        if seen is not None and seen[0]() is obj:
            self._again[seen[1]] = encode
            return seen[1]
        data = encode()
        key = hashlib.sha256(data).hexdigest()
        self.pending[key] = data
        self.remember(obj, key)
        return key

    def remember(self, obj, key: str) -> None:
        """Know ``obj`` as the piece ``key`` (read from the store: its bytes need no hashing)."""
        try:
            self._known[id(obj)] = (weakref.ref(obj), key)
        except TypeError:  # an object without weak references is simply encoded each time
            pass

    def frame(self, frame: pd.DataFrame | None) -> str | None:
        """Key of a frame (None for None)."""
        if frame is None:
            return None
        return self.put(frame, lambda: frame_bytes(frame))

    def array(self, values: np.ndarray, name: str = "value") -> str:
        """Key of a one-dimensional array."""
        return self.put(values, lambda: frame_bytes(array_frame(values, name)))

    def bytes_of(self, key: str) -> bytes:
        """The bytes of a piece named in this save (encoded again when it was known already)."""
        if key not in self.pending:
            self.pending[key] = self._again[key]()
        return self.pending[key]

    def done(self) -> None:
        """Forget the bytes of the last save (the keys stay known)."""
        self.pending.clear()
        self._again.clear()
        self._known = {k: v for k, v in self._known.items() if v[0]() is not None}

"""Files a planner uploads in the web app, handled safely.

An upload is staged in a private temporary folder and read with the :mod:`gridplan.io.files` readers;
the folder is removed afterwards whatever happens. Limits (in :mod:`gridplan.norms`): the size
of one file, the size of everything a zip unpacks to, the compression ratio of each zip member
(zip bombs), the number of members. Zip members are unpacked by this module, byte-counted, never
outside the staging folder (no absolute paths, no ``..``, no links), so that GDAL only ever opens
checked plain files. Nothing is unpickled or evaluated.

Every failure is an :class:`~gridplan.errors.InputError` with a Chinese message; the app shows it
and keeps the current plan.
"""

from __future__ import annotations

import contextlib
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from gridplan.errors import InputError
from gridplan.norms import (
    UPLOAD_MAX_BYTES,
    UPLOAD_MAX_FILES,
    UPLOAD_MAX_RATIO,
    UPLOAD_MAX_UNPACKED_BYTES,
)

__all__ = [
    "ALLOWED_SUFFIXES",
    "NETWORK_SUFFIXES",
    "staging",
    "stage_upload",
    "read_upload",
    "peek_columns",
    "safe_extract",
]

#: Data files the readers accept (a zip may hold any of them, or a Shapefile's parts).
ALLOWED_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".parquet", ".geoparquet", ".csv", ".xlsx", ".shp")
#: Walking network files.
NETWORK_SUFFIXES = (".geojson", ".json", ".gpkg", ".osm", ".pbf", ".bz2", ".graphml", ".zip")
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".xml")
_CHUNK = 1 << 16


def _err(message: str, message_zh: str, fix: str, fix_zh: str, name: str | None = None):
    return InputError(message, file=name, fix=fix, message_zh=message_zh, fix_zh=fix_zh)


@contextlib.contextmanager
def staging() -> Iterator[Path]:
    """A private temporary folder, removed with everything in it on exit."""
    folder = Path(tempfile.mkdtemp(prefix="gridplan-upload-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _safe_name(name: str, suffixes) -> str:
    base = PurePosixPath(str(name).replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*') or "upload"
    if base.startswith("."):
        base = "upload" + base
    low = base.lower()
    if not any(low.endswith(s) for s in suffixes):
        raise _err(
            f"unsupported file type: {base}",
            f"不支持的文件类型：{base}",
            f"upload one of {', '.join(suffixes)}",
            f"请上传以下格式之一：{'、'.join(suffixes)}",
            base,
        )
    return base


def stage_upload(
    name: str, data: bytes, folder: Path, *, suffixes=ALLOWED_SUFFIXES, max_bytes: int = UPLOAD_MAX_BYTES
) -> Path:
    """Write one uploaded file into ``folder`` and return the path to read.

    A zip is unpacked safely (:func:`safe_extract`) and the data file inside it is returned.

    Raises
    ------
    InputError
        Too large, unsupported type, broken or unsafe zip, or a zip without a data file.
    """
    base = _safe_name(name, suffixes)
    if len(data) > max_bytes:
        raise _err(
            f"the file is {len(data) / 1e6:.1f} MB, more than the limit of {max_bytes / 1e6:.0f} MB",
            f"文件大小 {len(data) / 1e6:.1f} MB，超过上限 {max_bytes / 1e6:.0f} MB",
            "split the data or simplify geometries",
            "请拆分数据或简化几何",
            base,
        )
    if not data:
        raise _err(
            "the file is empty (0 bytes)",
            "文件为空（0 字节）",
            "export the data again",
            "请重新导出数据",
            base,
        )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / base
    path.write_bytes(data)
    if base.lower().endswith(".zip"):
        out = folder / (Path(base).stem + "_unzipped")
        files = safe_extract(path, out)
        path.unlink()
        return _main_file(files, base, suffixes)
    return path


def safe_extract(
    zip_path: Path,
    dest: Path,
    *,
    max_unpacked: int = UPLOAD_MAX_UNPACKED_BYTES,
    max_ratio: float = UPLOAD_MAX_RATIO,
    max_files: int = UPLOAD_MAX_FILES,
) -> list[Path]:
    """Unpack ``zip_path`` into ``dest`` refusing traversal, links, bombs and excess.

    Sizes are counted on the bytes actually decompressed, not on the headers, which a crafted
    zip can fake. Written by hand: :mod:`zipfile` guards names on ``extractall`` but not sizes or
    ratios, and no well-kept library does both.

    Returns
    -------
    list of Path
        The files written, in archive order.
    """
    name = zip_path.name
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _err(
            f"not a readable zip file ({exc})",
            "不是有效的 zip 压缩包（文件损坏或格式不对）",
            "zip the files again",
            "请重新压缩文件",
            name,
        ) from exc
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    written: list[Path] = []
    total = 0
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > max_files:
            raise _err(
                f"the zip holds {len(infos)} files, more than {max_files}",
                f"压缩包内文件数 {len(infos)} 超过上限 {max_files}",
                "zip only the data files",
                "只压缩需要的数据文件",
                name,
            )
        for info in infos:
            target = _safe_target(info, root, name)
            if target is None:
                continue
            limit_member = max(info.compress_size, 1) * max_ratio
            target.parent.mkdir(parents=True, exist_ok=True)
            size = 0
            try:
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(_CHUNK):
                        size += len(chunk)
                        total += len(chunk)
                        if size > limit_member and size > _CHUNK * 16:
                            raise _err(
                                f"{info.filename} unpacks to more than {max_ratio:g} times its "
                                "compressed size (a zip bomb?)",
                                f"{info.filename} 解压后超过压缩大小的 {max_ratio:g} 倍（疑似压缩炸弹）",
                                "upload the data uncompressed or zip it normally",
                                "请上传未压缩的数据或正常压缩",
                                name,
                            )
                        if total > max_unpacked:
                            raise _err(
                                f"the zip unpacks to more than {max_unpacked / 1e6:.0f} MB",
                                f"解压后超过 {max_unpacked / 1e6:.0f} MB",
                                "split the data",
                                "请拆分数据",
                                name,
                            )
                        out.write(chunk)
            except (
                zipfile.BadZipFile,
                zipfile.LargeZipFile,
                OSError,
                EOFError,
                NotImplementedError,
                RuntimeError,
            ) as exc:
                raise _err(
                    f"the zip is damaged or encrypted ({exc})",
                    "压缩包已损坏或加密，无法解压",
                    "zip the files again without a password",
                    "请不加密码重新压缩",
                    name,
                ) from exc
            written.append(target)
    return written


def _safe_target(info: zipfile.ZipInfo, root: Path, name: str) -> Path | None:
    """Where a zip member may be written inside ``root``: refused for absolute paths, ``..``,
    drive letters and links; None for metadata that is skipped."""
    member = info.filename.replace("\\", "/")
    parts = PurePosixPath(member).parts
    mode = (info.external_attr >> 16) & 0xFFFF
    if member.startswith("/") or ".." in parts or (parts and ":" in parts[0]) or stat.S_ISLNK(mode):
        raise _err(
            f"unsafe path in the zip: {info.filename}",
            f"压缩包中有不安全的路径：{info.filename}",
            "zip the files without folders outside the archive",
            "请重新压缩，不要包含指向压缩包外的路径",
            name,
        )
    target = (root / member).resolve()
    if root not in target.parents:
        raise _err(
            f"unsafe path in the zip: {info.filename}",
            f"压缩包中有不安全的路径：{info.filename}",
            "zip the files again",
            "请重新压缩文件",
            name,
        )
    if PurePosixPath(member).name.startswith(".") or "__MACOSX" in parts:
        return None  # macOS metadata and hidden files are not data
    return target


def _main_file(files: list[Path], name: str, suffixes) -> Path:
    data = [f for f in files if f.suffix.lower() in suffixes and f.suffix.lower() != ".zip"]
    shp = [f for f in data if f.suffix.lower() == ".shp"]
    if shp:
        if len(shp) > 1:
            raise _err(
                f"the zip holds {len(shp)} shapefiles; upload one per layer",
                f"压缩包中有 {len(shp)} 个 Shapefile，每次只能上传一个图层",
                "zip each layer separately",
                "请每个图层单独压缩",
                name,
            )
        stem = shp[0].with_suffix("")
        if not any(stem.with_suffix(s).exists() or stem.with_suffix(s.upper()).exists() for s in (".dbf",)):
            raise _err(
                "the shapefile has no .dbf part",
                "Shapefile 缺少 .dbf 文件",
                "zip the .shp, .shx, .dbf and .prj together",
                "请把 .shp、.shx、.dbf、.prj 一起压缩",
                name,
            )
        return shp[0]
    if len(data) == 1:
        return data[0]
    if not data:
        raise _err(
            "the zip holds no data file",
            "压缩包中没有可读取的数据文件",
            "zip a Shapefile (.shp, .shx, .dbf, .prj) or a GeoJSON/GeoPackage/CSV",
            "请压缩 Shapefile 全部文件或 GeoJSON/GeoPackage/CSV 文件",
            name,
        )
    raise _err(
        f"the zip holds several data files ({', '.join(f.name for f in data[:5])})",
        "压缩包中有多个数据文件",
        "zip one layer per file",
        "每个压缩包只放一个图层",
        name,
    )


def peek_columns(path: str | Path) -> list[str]:
    """Column names of a data file for the column-mapping step, as the reader will see them
    (encoding, separator and title rows found by :func:`gridplan.io.readers.columns_of`);
    [] when the file cannot be read: the reader reports that with a proper message later."""
    from gridplan.io.readers import columns_of

    try:
        return columns_of(path)
    except InputError:
        return []


def read_upload(kind: str, name: str, data: bytes, *, columns: dict | None = None, coords: str = "wgs84"):
    """Stage, read and conform one uploaded layer; the staging folder is always removed.

    Parameters
    ----------
    kind : str
        ``households``, ``communities``, ``buildings``, ``estates``, ``facilities`` or ``barriers``.
    name : str
        The uploaded file name (only its base name and suffix are used).
    data : bytes
        The file content.
    columns : dict, optional
        Contract field -> file column (the column-mapping step).
    coords : {"wgs84", "gcj02", "bd09"}

    Returns
    -------
    (GeoDataFrame or None, list of Problem)
        As :func:`gridplan.io.files.read_checked`: the frame is None when the file cannot be used.

    Raises
    ------
    InputError
        For upload-level failures (size, type, unsafe or broken zip).
    """
    from gridplan.io.files import read_checked

    with staging() as folder:
        path = stage_upload(name, data, folder)
        gdf, problems = read_checked(path, kind, columns=columns or None, coords=coords)
        if gdf is not None:
            gdf = gdf.copy()  # detach from anything still pointing into the staging folder
    return gdf, problems


def read_network_upload(name: str, data: bytes):
    """Stage and load an uploaded walking network with :func:`gridplan.network.load.load_network`.

    Returns
    -------
    WalkNetwork
    """
    from gridplan.network.load import load_network

    with staging() as folder:
        path = stage_upload(name, data, folder, suffixes=NETWORK_SUFFIXES)
        return load_network(path)

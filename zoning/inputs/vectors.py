"""Reading the files planners have: shapefiles (often GBK without a .cpg), GeoPackage,
GeoJSON. Every failure names the file and what was expected.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import TYPE_CHECKING

from zoning.core.errors import InputFileError

if TYPE_CHECKING:
    import geopandas as gpd

VECTOR_SUFFIXES = {".shp", ".gpkg", ".geojson", ".json", ".fgb", ".kml"}

#: Tables a GeoPackage may hold beside its features that are never sites: the provenance
#: record zoning's outputs carry, and the layer styles QGIS saves.
KNOWN_TABLES = frozenset({"provenance", "layer_styles"})

#: DBF language-driver ids that name a Chinese code page (ArcGIS writes 0x4D for 936).
_LDID_CHINESE = {0x4D: "GB18030", 0x7A: "GB18030"}


def detect_dbf_encoding(shp_path: str | Path) -> tuple[str, str]:
    """The encoding of a shapefile's attributes and how it was decided.

    Order: the ``.cpg`` file if present; else the text fields are tried as UTF-8 and,
    if that fails, as GB18030 (the superset of GBK and GB2312 that ArcGIS and MapGIS
    exports in China use); else the DBF language-driver byte.

    Returns
    -------
    (encoding, reason)
    """
    shp_path = Path(shp_path)
    cpg = shp_path.with_suffix(".cpg")
    if not cpg.exists():
        cpg = shp_path.with_suffix(".CPG")
    if cpg.exists():
        name = cpg.read_text(encoding="ascii", errors="ignore").strip()
        if name:
            return _normalise_codepage(name), f".cpg file says {name}"
    dbf = shp_path.with_suffix(".dbf")
    if not dbf.exists():
        dbf = shp_path.with_suffix(".DBF")
    if not dbf.exists():
        msg = f"{shp_path}: the .dbf file of the shapefile is missing"
        raise InputFileError(msg)
    raw = dbf.read_bytes()
    if len(raw) < 32:
        msg = f"{dbf}: not a dBASE file (only {len(raw)} bytes)"
        raise InputFileError(msg)
    n_records, header_len, record_len = struct.unpack("<IHH", raw[4:12])
    ldid = raw[29]
    text_fields: list[tuple[int, int]] = []
    offset = 1  # deletion flag
    pos = 32
    while pos + 32 <= header_len and raw[pos] != 0x0D:
        ftype = chr(raw[pos + 11])
        flen = raw[pos + 16]
        if ftype in "CM":
            text_fields.append((offset, flen))
        offset += flen
        pos += 32
    payload = bytearray()
    for r in range(n_records):
        start = header_len + r * record_len
        rec = raw[start : start + record_len]
        for off, flen in text_fields:
            payload += rec[off : off + flen].rstrip(b" \x00") + b"\n"
    if all(b < 0x80 for b in payload):
        if ldid in _LDID_CHINESE:
            return _LDID_CHINESE[ldid], f"ASCII text; language driver 0x{ldid:02X} says Chinese"
        return "UTF-8", "text fields are plain ASCII"
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        try:
            payload.decode("gb18030")
        except UnicodeDecodeError as exc:
            msg = f"{dbf}: attribute text is neither UTF-8 nor GBK/GB18030; add a .cpg file naming its code page"
            raise InputFileError(msg) from exc
        return "GB18030", "no .cpg; text fields are not UTF-8 but decode as GBK/GB18030"
    return "UTF-8", "no .cpg; text fields decode as UTF-8"


def _normalise_codepage(name: str) -> str:
    key = name.upper().replace("-", "").replace("_", "")
    if key in {"936", "CP936", "GBK", "GB2312", "GB18030", "ANSI936"}:
        return "GB18030"
    if key in {"UTF8", "65001"}:
        return "UTF-8"
    return name


def read_vector_file(
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """Read a shapefile, GeoPackage or GeoJSON, detecting a shapefile's encoding.

    Returns the frame and a dict of notes (``encoding``, ``encoding_reason``, ``layer``).

    Raises
    ------
    InputFileError
        If the file is missing, empty, of an unknown kind, or unreadable.
    """
    import pyogrio

    path = Path(path)
    if not path.exists():
        msg = f"{path}: file not found"
        raise InputFileError(msg)
    if path.stat().st_size == 0:
        msg = f"{path}: the file is empty"
        raise InputFileError(msg)
    suffix = path.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        msg = f"{path}: unsupported file type {suffix!r}; expected one of {', '.join(sorted(VECTOR_SUFFIXES))}"
        raise InputFileError(msg)
    notes: dict[str, str] = {}
    if suffix == ".shp" and encoding is None:
        encoding, reason = detect_dbf_encoding(path)
        notes["encoding_reason"] = reason
    if encoding:
        notes["encoding"] = encoding
    if suffix == ".gpkg" and layer is None:
        layers = pyogrio.list_layers(path)
        spatial = [str(n) for n, kind in layers if kind]
        tables = {str(n) for n, kind in layers if not kind}
        # zoning check's own GeoPackage: its sites beside the provenance table (and QGIS's
        # styles): the sites are meant; any other table might be the sites, so it is asked
        if len(layers) > 1 and len(spatial) == 1 and tables <= KNOWN_TABLES:
            layer = spatial[0]
            notes["layer_reason"] = f"the only layer with geometries beside {', '.join(sorted(tables))}"
        elif len(layers) > 1:
            names = ", ".join(str(n) for n, _ in layers)
            msg = f"{path}: holds several layers ({names}); name the one to read with --layer (zoning map: --sites-layer)"
            raise InputFileError(msg)
    elif suffix == ".gpkg":  # the layer named: one the file has, with geometries
        layers = pyogrio.list_layers(path)
        kinds = {str(n): kind for n, kind in layers}
        with_geoms = ", ".join(n for n, kind in kinds.items() if kind) or "none"
        if layer not in kinds:
            msg = f"{path}: has no layer {layer!r}; its layers with geometries: {with_geoms}"
            raise InputFileError(msg)
        if not kinds[layer]:
            msg = f"{path}: layer {layer!r} is a table without geometries; its layers with geometries: {with_geoms}"
            raise InputFileError(msg)
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
    except Exception as exc:  # pyogrio DataSourceError / DataLayerError / FieldError
        msg = f"{path}: cannot read ({exc})"
        raise InputFileError(msg) from exc
    if layer:
        notes["layer"] = layer
    if len(gdf) == 0:
        msg = f"{path}: the file has no features"
        raise InputFileError(msg)
    return gdf, notes

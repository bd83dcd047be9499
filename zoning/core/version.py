"""The version of a pack: its stated version and release date, and content hashes.

A pack says which version it is (``[pack] version``, ``released`` in the manifest) and
:func:`pack_version` computes what it holds:

- one SHA-256 per layer, of the features as read (attributes and geometry, column order
  ignored), so a layer has the same hash in a directory and after ``zoning layers push``
  to PostGIS, and a file rewritten with the same features keeps it;
- the rules version: a SHA-256 of the manifest's ``[pack.rule_files]`` (every rule file
  with its own SHA-256), which :func:`zoning.core.manifest.verify_rules` holds the
  catalogue to;
- the manifest's SHA-256: of its content as data (``[pack]`` and ``[[layers]]`` as JSON
  with sorted keys), leaving out what says where the pack is stored (``postgis``) and a
  recorded ``content_sha256``;
- the content hash: a SHA-256 of the three above, the pack's fingerprint.

The periods in force of layers and plans are the manifest's ``valid_from`` / ``valid_to``
and the rules' ``in_force``.

``zoning layers validate`` prints the version, and checks the content against a
``content_sha256`` the manifest records, if it records one. Every output's provenance
(:mod:`zoning.core.provenance`) carries the version and the content hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoning.core.manifest import MANIFEST_NAME, file_sha256, tomllib

if TYPE_CHECKING:
    import geopandas as gpd

    from zoning.core.manifest import LayerSpec, Pack

__all__ = [
    "PackVersion",
    "frame_sha256",
    "layer_sha256",
    "manifest_sha256",
    "pack_version",
    "rules_version",
]

#: Manifest keys of ``[pack]`` that do not belong to the content (where it is stored, the
#: recorded hash itself).
_NOT_CONTENT = frozenset({"postgis", "content_sha256"})


@dataclass(frozen=True)
class PackVersion:
    """What a pack is: its name, stated version and release date, and content hashes."""

    name: str
    version: str | None
    released: dt.date | None
    content_sha256: str
    manifest_sha256: str
    rules_sha256: str
    rule_files: int
    layers: dict[str, str] = field(default_factory=dict)
    #: the ``content_sha256`` the manifest records, if any
    recorded_sha256: str | None = None

    @property
    def label(self) -> str:
        """``2026.1 (2026-11-25)``, or ``unversioned`` for a pack that states no version."""
        v = self.version or "unversioned"
        return f"{v} ({self.released.isoformat()})" if self.released else v

    @property
    def short(self) -> str:
        """The first 12 hex digits of the content hash."""
        return self.content_sha256[:12]

    @property
    def matches_record(self) -> bool | None:
        """Whether the content is what the manifest records (None if it records nothing)."""
        if not self.recorded_sha256:
            return None
        return self.recorded_sha256.lower() == self.content_sha256

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "released": self.released.isoformat() if self.released else None,
            "content_sha256": self.content_sha256,
            "manifest_sha256": self.manifest_sha256,
            "rules_sha256": self.rules_sha256,
            "rule_files": self.rule_files,
            "layers": dict(self.layers),
        }


def _json_default(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return str(value)


def _sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode("utf-8") if isinstance(text, str) else text).hexdigest()


def rules_version(pack: Pack) -> str:
    """SHA-256 of the rule catalogue as the manifest lists it (file names and their SHA-256)."""
    files = dict(pack.meta.get("rule_files") or {})
    return _sha("".join(f"{name}={str(digest).lower()}\n" for name, digest in sorted(files.items())))


def manifest_sha256(pack: Pack) -> str:
    """SHA-256 of the manifest's content as data (storage keys and a recorded hash left out)."""
    path = Path(pack.path) / MANIFEST_NAME
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    head = {k: v for k, v in dict(data.get("pack", {})).items() if k not in _NOT_CONTENT}
    doc = {"pack": head, "layers": data.get("layers", [])}
    return _sha(json.dumps(doc, sort_keys=True, ensure_ascii=False, default=_json_default))


def frame_sha256(gdf: gpd.GeoDataFrame) -> str:
    """SHA-256 of a layer's features: its attribute columns in name order, every value as
    text, then every geometry as 2-D WKB (row order kept: it is the layer's order)."""
    import numpy as np
    import pandas as pd
    import shapely

    h = hashlib.sha256()
    geom = gdf.geometry.name if hasattr(gdf, "geometry") else None
    cols = sorted(c for c in gdf.columns if c != geom)
    h.update(("\x1f".join(map(str, cols)) + "\n").encode("utf-8"))
    for c in cols:
        col = gdf[c]
        values = col.astype(object).where(pd.notna(col), None).to_numpy()
        h.update(("\x1e" + "\x1f".join("" if v is None else str(v) for v in values)).encode("utf-8"))
    if geom is not None:
        wkb = shapely.to_wkb(np.asarray(gdf.geometry.values), output_dimension=2, byte_order=1)
        for b in wkb:
            h.update(b"\x00" if b is None else b)
    return h.hexdigest()


def layer_sha256(pack: Pack, spec: LayerSpec) -> str:
    """SHA-256 of one layer: its features (vector), or the bytes of its file (raster)."""
    if spec.kind == "raster":
        return file_sha256(pack.file_path(spec))
    from zoning.core.layers import read_layer

    return frame_sha256(read_layer(pack, spec.name))


def _stamp(pack: Pack) -> tuple[Any, ...]:
    """What the hashes depend on: the manifest's and the layer files' modification times
    (a PostGIS pack's cache is rewritten on every push)."""
    parts: list[Any] = [str(pack.path), pack.dsn or ""]
    for p in [Path(pack.path) / MANIFEST_NAME, *(pack.file_path(s) for s in pack.layers)]:
        try:
            st = p.stat()
            parts.append((str(p), st.st_mtime_ns, st.st_size))
        except OSError:
            parts.append((str(p), None))
    return tuple(parts)


def pack_version(pack: Pack) -> PackVersion:
    """The version of ``pack`` with its content hashes (computed once per state of its files)."""
    key = _stamp(pack)
    found = _VERSIONS.get(key)
    if found is None:
        if len(_VERSIONS) >= 8:
            _VERSIONS.pop(next(iter(_VERSIONS)))
        found = _VERSIONS[key] = _compute(pack)
    return found


#: computed versions by :func:`_stamp` (a Pack holds dicts: it is not hashable itself)
_VERSIONS: dict[tuple[Any, ...], PackVersion] = {}


def _compute(pack: Pack) -> PackVersion:
    layers = {spec.name: layer_sha256(pack, spec) for spec in pack.layers}
    man = manifest_sha256(pack)
    rules = rules_version(pack)
    content = _sha(
        f"manifest={man}\nrules={rules}\n" + "".join(f"layer {n}={h}\n" for n, h in layers.items())
    )
    recorded = pack.meta.get("content_sha256")
    return PackVersion(
        name=pack.name,
        version=pack.version,
        released=pack.released,
        content_sha256=content,
        manifest_sha256=man,
        rules_sha256=rules,
        rule_files=len(dict(pack.meta.get("rule_files") or {})),
        layers=layers,
        recorded_sha256=str(recorded) if recorded else None,
    )

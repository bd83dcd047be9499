"""Layer packs, wherever they are stored: the one entry point that opens a pack and reads its layers.

A pack is either a directory holding ``manifest.toml`` and the layer files it lists
(:mod:`zoning.core.manifest`, which also describes the manifest format) or a PostGIS
schema addressed by a ``postgresql://`` DSN (:mod:`zoning.core.postgis`). This module
dispatches between the two; it imports both, and neither imports it, so there is no
import cycle. Everything else receives :class:`Pack`, :class:`LayerSpec` and GeoDataFrames.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from zoning.core.errors import LayerReadError, ManifestError
from zoning.core.manifest import (
    MANIFEST_NAME,
    Accuracy,
    LayerSpec,
    Pack,
    check_name,
    clear_layer_cache,
    is_dsn,
    open_dir,
    pack_lock,
    read_file_layer,
    read_manifest_head,
    read_manifest_now,
    tomllib,
    verify_rules,
    write_manifest,
)
from zoning.core.vocab import ACCURACIES, ACCURACY_LABELS, KIND_LABELS, KINDS

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [  # the store's API, and the vocabulary its callers use with it
    "ACCURACIES",
    "ACCURACY_LABELS",
    "KINDS",
    "KIND_LABELS",
    "MANIFEST_NAME",
    "Accuracy",
    "LayerSpec",
    "Pack",
    "add_layer",
    "check_name",
    "open_pack",
    "pack_lock",
    "read_layer",
    "read_manifest_head",
    "tomllib",
    "verify_rules",
    "write_manifest",
]


def open_pack(path: str | Path) -> Pack:
    """Open the pack at ``path``: a directory (or its manifest file), or a ``postgresql://`` DSN.

    Raises
    ------
    ManifestError
        If the manifest is missing, not TOML, or does not follow the format of
        :mod:`zoning.core.manifest`; for a DSN, if the schema holds no pack.
        Also if the rules catalogue the manifest names is missing, empty, altered or
        holds files the manifest does not list (:func:`zoning.core.manifest.verify_rules`):
        every command opens its pack here, so none answers without its rules.
    PostgisError
        If the database of a DSN cannot be reached.
    """
    if is_dsn(path):
        from zoning.core import postgis  # imported only for PostGIS packs (psycopg is optional)

        pack = postgis.open_pack(str(path))
    else:
        pack = open_dir(path)
        if pack.meta.get("postgis"):  # the local cache of a PostGIS pack
            from zoning.core import postgis

            pack = postgis.attach(pack)
    verify_rules(pack)
    return pack


def read_layer(pack: Pack, name: str) -> gpd.GeoDataFrame:
    """Read one vector layer of a pack as a GeoDataFrame in the pack's CRS.

    Results are cached per file modification time (per push for PostGIS); callers get a copy.
    """
    spec = pack.layer(name)
    if spec.kind == "raster":
        msg = f"layer {name!r} is a raster; sample it with zoning.rasters"
        raise LayerReadError(msg)
    if pack.dsn:
        from zoning.core import postgis

        return postgis.read_layer(pack, spec)
    return read_file_layer(pack, spec)


def add_layer(pack: Pack, gdf: gpd.GeoDataFrame, spec: LayerSpec, *, replace: bool = False) -> Pack:
    """Write ``gdf`` into the pack as ``spec`` and record it in the manifest.

    The file is written beside the manifest (``spec.file``, table ``spec.table``); an
    existing layer of the same name is replaced only with ``replace=True``. The write holds
    the pack's lock (:func:`zoning.core.manifest.pack_lock`) and re-reads the manifest inside
    it, so concurrent imports into one pack keep each other's layers; the layer file and the
    manifest go through unique temporary names and an atomic rename.
    """
    import os
    import shutil
    import tempfile

    import pyogrio

    check_name(spec.name)
    if Path(spec.file).name != spec.file or spec.file.startswith("."):
        msg = f"layer {spec.name!r}: file {spec.file!r} must be a plain file name inside the pack"
        raise ManifestError(msg)
    if spec.table is not None:
        check_name(spec.table, "table name")
    with pack_lock(pack.path):
        manifest = pack.path / MANIFEST_NAME
        current = read_manifest_now(manifest)  # the manifest as it is now, not cached
        names = [s.name for s in current.layers]
        if spec.name in names and not replace:
            msg = f"pack {pack.path} already has a layer {spec.name!r}; pass replace (--replace) to swap it"
            raise ManifestError(msg)
        target = pack.path / spec.file
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=pack.path)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            if target.exists() and target.suffix == ".gpkg":
                shutil.copy2(target, tmp)
            else:
                tmp.unlink()
            pyogrio.write_dataframe(gdf, tmp, layer=spec.table, driver="GPKG", append=False)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        layers = [s for s in current.layers if s.name != spec.name]
        if spec.name in names:
            layers.insert(names.index(spec.name), spec)
        else:
            layers.append(spec)
        write_manifest(pack.path, read_manifest_head(current), layers)
    clear_layer_cache()
    return open_pack(pack.path)

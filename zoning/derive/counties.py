"""The county layer a derivation (or its demonstration inputs) uses when the config names none."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from zoning.core import settings
from zoning.core.errors import ManifestError, NoCountyLayerError

if TYPE_CHECKING:
    import geopandas as gpd

    from zoning.core.layers import Pack

__all__ = ["county_pack", "pack_counties"]

_HINT = 'name one in the config ([inputs] counties = "counties.gpkg") or point $ZONING_PACK at a pack that has one'


def county_pack(pack: Pack | str | Path | None = None) -> Pack:
    """``pack`` opened (default: ``settings.default_pack``), to take its county layer from.

    Raises :class:`NoCountyLayerError`, in one line, when the pack cannot be opened."""
    from zoning.core.layers import Pack, open_pack

    if isinstance(pack, Pack):
        return pack
    where = pack if pack is not None else settings.default_pack
    try:
        return open_pack(where)
    except ManifestError as exc:
        msg = f"no county layer: the pack {where} cannot be opened ({exc}); {_HINT}"
        raise NoCountyLayerError(msg) from None


def pack_counties(pack: Pack | str | Path | None = None) -> gpd.GeoDataFrame:
    """The first layer of kind ``counties`` of ``pack`` (a :class:`~zoning.core.layers.Pack`
    or where one is; default: ``settings.default_pack``).

    Raises :class:`NoCountyLayerError`, in one line, when the pack cannot be opened or has
    no county layer.
    """
    from zoning.core.layers import read_layer

    opened = county_pack(pack)
    found = opened.by_kind("counties")
    if not found:
        msg = f"no county layer: the pack {opened.path} has no layer of kind 'counties'; {_HINT}"
        raise NoCountyLayerError(msg)
    return read_layer(opened, found[0].name)

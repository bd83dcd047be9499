"""The county layer a derivation (or its demonstration inputs) uses when the config names none."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from zoning.core import settings
from zoning.core.errors import ManifestError, NoCountyLayerError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["pack_counties"]


def pack_counties(pack: str | Path | None = None) -> gpd.GeoDataFrame:
    """The first layer of kind ``counties`` of ``pack`` (default: ``settings.default_pack``).

    Raises :class:`NoCountyLayerError`, in one line, when the pack cannot be opened or has
    no county layer.
    """
    from zoning.core.layers import open_pack, read_layer

    where = pack if pack is not None else settings.default_pack
    hint = 'name one in the config ([inputs] counties = "counties.gpkg") or point $ZONING_PACK at a pack that has one'
    try:
        opened = open_pack(where)
    except ManifestError as exc:
        msg = f"no county layer: the pack {where} cannot be opened ({exc}); {hint}"
        raise NoCountyLayerError(msg) from None
    found = opened.by_kind("counties")
    if not found:
        msg = f"no county layer: the pack {opened.path} has no layer of kind 'counties'; {hint}"
        raise NoCountyLayerError(msg)
    return read_layer(opened, found[0].name)

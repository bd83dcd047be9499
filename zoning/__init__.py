"""Land and groundwater zoning for 晋城市 (Jincheng, Shanxi): query a location, map the layers,
batch-check project sites, derive the groundwater key zones.

The public API, as the README shows it::

    from zoning import query_point, check_sites, open_pack

    answer = query_point(112.85, 35.49)
    results = check_sites("sites.csv")

Each name is imported from its module on first use (a module-level ``__getattr__``), so
``import zoning`` stays cheap: the command line's cold start does not pay for geopandas
until a command needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names are, for type checkers and editors
    from zoning.check import check_sites, iter_check
    from zoning.core.context import load_context
    from zoning.core.layers import open_pack
    from zoning.derive import derive
    from zoning.maps import build_map
    from zoning.query import query_point, query_points

#: public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "query_point": "zoning.query",
    "query_points": "zoning.query",
    "check_sites": "zoning.check",
    "iter_check": "zoning.check",
    "build_map": "zoning.maps",
    "derive": "zoning.derive",
    "open_pack": "zoning.core.layers",
    "load_context": "zoning.core.context",
}

__all__ = [
    "build_map",
    "check_sites",
    "derive",
    "iter_check",
    "load_context",
    "open_pack",
    "query_point",
    "query_points",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'zoning' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""Groundwater key zones derived, not drawn: the 晋市环发〔2023〕123号 method as a rasterio pipeline.

``derive(config, out)`` runs it; ``load_config(path)`` reads a TOML config. The pure steps are
in :mod:`zoning.derive.steps`. The demonstration inputs are generated outside this package, by
:mod:`zoning.demo` (``zoning derive`` and :func:`zoning.demo.derive_demo` generate them first
when a config says ``[demo] generate = true``).
"""

import sys
import types
from typing import Any

from zoning.derive.config import Config, load_config
from zoning.derive.pipeline import DeriveResult, derive

__all__ = ["Config", "DeriveResult", "derive", "load_config"]


class _DeriveModule(types.ModuleType):
    """``zoning.derive`` is both this package and, re-exported by :mod:`zoning`, the function
    :func:`derive`. Python binds the package to the attribute ``zoning.derive`` whenever the
    package is imported first, so the package itself is callable: ``zoning.derive(config, out)``
    runs the derivation either way."""

    def __call__(self, *args: Any, **kwargs: Any) -> DeriveResult:
        return derive(*args, **kwargs)


sys.modules[__name__].__class__ = _DeriveModule

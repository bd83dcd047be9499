"""Groundwater key zones derived, not drawn: the 晋市环发〔2023〕123号 method as a rasterio pipeline.

``derive(config, out)`` runs it; ``load_config(path)`` reads a TOML config. The pure steps are
in :mod:`zoning.derive.steps`, the demonstration inputs in :mod:`zoning.derive.demo`.
"""

from zoning.derive.config import Config, load_config
from zoning.derive.pipeline import DeriveResult, derive

__all__ = ["Config", "DeriveResult", "derive", "load_config"]

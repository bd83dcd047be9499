"""Demonstration data: seeded synthetic inputs for the groundwater derivation.

Kept apart from :mod:`zoning.derive`: the pipeline runs on whatever inputs a config names and
never imports this package. A config that says ``[demo] generate = true`` is run through
:func:`derive_demo` (``zoning derive`` does that), which generates the inputs into
``OUT/demo_inputs`` before the pipeline reads them. The generator is
:mod:`zoning.demo.groundwater`; ``python -m zoning.demo OUTDIR`` writes the inputs and a
``config.toml`` once, to keep them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zoning.derive.config import Config
    from zoning.derive.pipeline import DeriveResult

__all__ = ["derive_demo", "needs_generation", "prepare_inputs"]


def needs_generation(cfg: Config) -> bool:
    """Whether ``cfg`` asks for generated demonstration inputs (``[demo] generate = true``)."""
    return bool(cfg.demo and cfg.demo.get("generate"))


def prepare_inputs(cfg: Config, folder: Path) -> tuple[Config, dict[str, Any]]:
    """Generate the demonstration inputs of ``cfg`` into ``folder``; the config to run and the record.

    The ``prepare`` step of :func:`zoning.derive.pipeline.derive`: the config's ``[inputs]``
    paths then resolve in ``folder``.
    """
    from zoning.demo import groundwater
    from zoning.derive.config import with_base

    demo = cfg.demo or {}
    record = groundwater.generate(
        folder,
        resolution=float(demo.get("resolution", cfg.resolution)),
        seed=int(demo.get("seed", groundwater.DEFAULT_SEED)),
        crs=cfg.crs,
    )
    return with_base(cfg, folder), record


def derive_demo(config: str | Path | Config, out: str | Path | None = None, **kwargs: Any) -> DeriveResult:
    """:func:`zoning.derive.derive`, generating the demonstration inputs first when the config asks."""
    from zoning.derive.config import Config, load_config
    from zoning.derive.pipeline import derive

    cfg = config if isinstance(config, Config) else load_config(config)
    prepare = prepare_inputs if needs_generation(cfg) else None
    return derive(cfg, out, prepare=prepare, **kwargs)

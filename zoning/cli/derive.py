"""``zoning derive CONFIG.toml [--out DIR] [--map] [--overwrite]``.

Derives the groundwater key zones (晋市环发〔2023〕123号 method) from the inputs a TOML config
names; see :mod:`zoning.derive`. Prints the area table and writes every map, the zones and
the tables into ``--out`` (default ``<config dir>/out``). A config that says
``[demo] generate = true`` gets its demonstration inputs from :mod:`zoning.demo` first.

``--overwrite`` replaces only what an earlier ``zoning derive`` wrote into the folder (it
keeps a list of it, ``.zoning-derive.json``); the user's other files stay, and a folder
without that list is never emptied.
"""

from __future__ import annotations

from pathlib import Path

import click

from zoning.cli import options


@click.command("derive")
@click.argument("config")
@click.option(
    "--out",
    "out",
    default=None,
    metavar="DIR",
    help="Output folder (default: <config dir>/out). Written via a temporary folder, then moved into place.",
)
@click.option("--map", "html_map", is_flag=True, help="Also write map.html (folium) with every map as an overlay.")
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace the files an earlier `zoning derive` wrote into the output folder (other files stay).",
)
def derive(config: str, out: str | None, html_map: bool, overwrite: bool) -> None:
    """Derive groundwater protection and control zones from CONFIG (TOML).

    \b
      zoning derive layers/jincheng/derive_demo/config.toml --out out/derive --map
    """
    from zoning.core.errors import InputFileError

    if not Path(config).exists():
        raise InputFileError(f"{config}: cannot read config: no such file")
    options.regular_file(config, "CONFIG")
    if out is not None:
        options.writable_dir(out, "--out")
    from zoning.demo import derive_demo

    res = derive_demo(config, out, overwrite=overwrite, html_map=html_map)
    click.echo(res.report())
    click.echo(f"\nwritten: {res.out}")


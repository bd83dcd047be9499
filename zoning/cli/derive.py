"""``zoning derive CONFIG.toml [--out DIR] [--map] [--overwrite]``.

Derives the groundwater key zones (晋市环发〔2023〕123号 method) from the inputs a TOML config
names; see :mod:`zoning.derive`. Prints the area table and writes every map, the zones and
the tables into ``--out`` (default ``<config dir>/out``). A config that says
``[demo] generate = true`` gets its demonstration inputs from :mod:`zoning.demo` first.
"""

from __future__ import annotations

import click


@click.command("derive")
@click.argument("config", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Output folder (default: <config dir>/out). Written via a temporary folder, then renamed.",
)
@click.option("--map", "html_map", is_flag=True, help="Also write map.html (folium) with every map as an overlay.")
@click.option("--overwrite", is_flag=True, help="Replace an existing, non-empty output folder.")
def derive(config: str, out: str | None, html_map: bool, overwrite: bool) -> None:
    """Derive groundwater protection and control zones from CONFIG (TOML).

    \b
      zoning derive layers/jincheng/derive_demo/config.toml --out out/derive --map
    """
    from zoning.core.errors import ValidationError, ZoningError

    try:
        from zoning.demo import derive_demo

        res = derive_demo(config, out, overwrite=overwrite, html_map=html_map)
    except ValidationError as exc:
        lines = [str(exc), *(f"  - {p}" for p in exc.problems if p not in str(exc))]
        raise click.ClickException("\n".join(lines)) from None
    except ZoningError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(res.report())
    click.echo(f"\nwritten: {res.out}")

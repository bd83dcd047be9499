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
    from zoning.core.errors import CoordinateError, InputFileError, UsageError, ValidationError, ZoningError

    try:  # the same one-line messages and exit codes as under `zoning` (the command also runs alone)
        if not Path(config).exists():
            raise InputFileError(f"{config}: cannot read config: no such file")
        options.regular_file(config, "CONFIG")
        if out is not None:
            if Path(out).exists() and not Path(out).is_dir():
                raise UsageError(f"--out {out} is a file; expected a folder (it is created if missing)")
            options.writable_dir(out, "--out")
        from zoning.demo import derive_demo

        res = derive_demo(config, out, overwrite=overwrite, html_map=html_map)
    except (UsageError, CoordinateError) as exc:
        raise _one_line(str(exc), 2) from None
    except ValidationError as exc:
        lines = [str(exc), *(f"  - {p}" for p in exc.problems if p not in str(exc))]
        raise _one_line("\n".join(lines), 1) from None
    except ZoningError as exc:
        raise _one_line(str(exc), 1) from None
    click.echo(res.report())
    click.echo(f"\nwritten: {res.out}")


def _one_line(message: str, exit_code: int) -> click.ClickException:
    exc = click.ClickException(message)
    exc.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance
    return exc

"""The ``zoning`` command group: logging, error translation, subcommands.

Library errors become one-line messages: a bad coordinate or CRS on the command line
exits with 2 (usage), a problem in data or files with 1. Commands import what they
need inside their bodies, so ``zoning --help`` and a single query start fast.
"""

from __future__ import annotations

import logging

import click


class UsageProblem(click.ClickException):
    """A bad value on the command line: a one-line message and exit code 2."""

    exit_code = 2


class ZoningGroup(click.Group):
    """A click group that turns ZoningError into a clean message and exit code."""

    def invoke(self, ctx: click.Context):
        from zoning.core.errors import CoordinateError, ValidationError, ZoningError

        try:
            return super().invoke(ctx)
        except CoordinateError as exc:
            raise UsageProblem(str(exc)) from None
        except ValidationError as exc:
            lines = [str(exc), *(f"  - {p}" for p in exc.problems)]
            raise click.ClickException("\n".join(lines)) from None
        except ZoningError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=ZoningGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (repeatable).")
@click.option("-q", "--quiet", count=True, help="Less log output.")
@click.version_option(package_name="zoning")
@click.pass_context
def main_group(ctx: click.Context, verbose: int, quiet: int) -> None:
    """Land and groundwater zoning for 晋城市 (Jincheng, Shanxi).

    \b
    Query what applies at a point, manage layer packs.
    \b
      zoning query 112.85 35.50
      zoning query 38396500 3928400 --crs gk3
      zoning layers validate layers/jincheng
    """
    level = max(logging.DEBUG, logging.WARNING - 10 * (verbose - quiet))
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.ensure_object(dict)


from zoning.cli.check import check  # noqa: E402
from zoning.cli.derive import derive  # noqa: E402
from zoning.cli.layers import layers  # noqa: E402
from zoning.cli.map import map_cmd  # noqa: E402
from zoning.cli.query import query  # noqa: E402

main_group.add_command(layers)
main_group.add_command(query)
main_group.add_command(map_cmd)
main_group.add_command(check)
main_group.add_command(derive)


if __name__ == "__main__":  # python -m zoning.cli.main
    main_group()

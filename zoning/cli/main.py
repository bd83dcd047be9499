"""The ``zoning`` command group: logging, error translation, subcommands.

Library errors become one-line messages: a bad coordinate or CRS on the command line
exits with 2 (usage), a problem in data or files with 1. Commands import what they
need inside their bodies, so ``zoning --help`` and a single query start fast.
"""

from __future__ import annotations

import logging
from typing import Any

import click


def _one_line(message: str, exit_code: int) -> click.ClickException:
    """click's one-line ``Error: message`` with ``exit_code`` (no error class of the CLI's own)."""
    exc = click.ClickException(message)
    exc.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance
    return exc


class ZoningGroup(click.Group):
    """A click group that turns ZoningError into a clean message and exit code.

    :class:`~zoning.core.errors.UsageError` and :class:`~zoning.core.errors.CoordinateError`
    (a bad value on the command line) exit with 2, every other ZoningError with 1.
    """

    def invoke(self, ctx: click.Context) -> Any:
        from zoning.core.errors import CoordinateError, UsageError, ValidationError, ZoningError

        try:
            return super().invoke(ctx)
        except (CoordinateError, UsageError) as exc:
            raise _one_line(str(exc), 2) from None
        except ValidationError as exc:
            lines = [str(exc), *(f"  - {p}" for p in exc.problems)]
            raise _one_line("\n".join(lines), 1) from None
        except ZoningError as exc:
            raise _one_line(str(exc), 1) from None


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

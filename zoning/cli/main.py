"""The ``zoning`` command group: logging, error translation, subcommands.

Library errors become one-line messages: a bad coordinate or CRS on the command line
exits with 2 (usage), a problem in data or files with 1. Any other exception becomes one
line too (``Error: ... (rerun with --debug for the traceback)``, exit 1); ``--debug``
shows the traceback. SIGTERM is handled as SIGINT is: the command's temporary files are
removed before it exits. Commands import what they need inside their bodies, so
``zoning --help`` and a single query start fast.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import traceback
from typing import Any

import click

#: Exit status after SIGTERM (128 + 15, as a shell reports it).
EXIT_SIGTERM = 128 + signal.SIGTERM


def _one_line(message: str, exit_code: int) -> click.ClickException:
    """click's one-line ``Error: message`` with ``exit_code`` (no error class of the CLI's own)."""
    exc = click.ClickException(message)
    exc.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance
    return exc


def _scrub(message: str) -> str:
    """A message without secrets: a DSN's password, and libpq's $PGPASSWORD, never printed."""
    from zoning.core.errors import scrub_secrets

    return scrub_secrets(message)


def _on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM unwinds like Ctrl-C: ``except BaseException`` / ``finally`` blocks remove temporary files."""
    raise SystemExit(EXIT_SIGTERM)


def _missing_extra(exc: ModuleNotFoundError) -> str | None:
    """``pip install 'zoning[extra]'`` advice when ``exc`` is an optional dependency not installed."""
    from zoning.cli.options import EXTRA_MODULES, extra_advice

    top = (exc.name or "").split(".")[0]
    extra = next((e for e, modules in EXTRA_MODULES.items() if top in modules), None)
    return None if extra is None else extra_advice(extra, top)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush does not fail on the closed pipe."""
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (a test runner's capture)
        pass


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug")) or os.environ.get("ZONING_DEBUG", "") not in ("", "0")


class ZoningGroup(click.Group):
    """A click group that turns every error into a clean message and exit code.

    :class:`~zoning.core.errors.UsageError` and :class:`~zoning.core.errors.CoordinateError`
    (a bad value on the command line) exit with 2, every other ZoningError and OSError
    (a file that cannot be read or written) with 1, and any other exception with 1 and one
    line pointing at ``--debug``.
    """

    def invoke(self, ctx: click.Context) -> Any:
        from zoning.core.errors import CoordinateError, UsageError, ValidationError, ZoningError

        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            return super().invoke(ctx)
        except (CoordinateError, UsageError) as exc:
            raise _one_line(_scrub(str(exc)), 2) from None
        except ValidationError as exc:
            lines = [str(exc), *(f"  - {p}" for p in exc.problems if p not in str(exc))]
            raise _one_line(_scrub("\n".join(lines)), 1) from None
        except ZoningError as exc:
            raise _one_line(_scrub(str(exc)), 1) from None
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except ModuleNotFoundError as exc:
            advice = _missing_extra(exc)
            if advice is None:
                raise self._unexpected(ctx, exc) from None
            raise _one_line(advice, 1) from None
        except BrokenPipeError:  # `zoning query ... | head`: the reader has gone, nothing to report
            _silence_stdout()
            raise SystemExit(1) from None
        except OSError as exc:
            if _debug(ctx):
                click.echo(_scrub(traceback.format_exc()), err=True)
            what = f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
            raise _one_line(_scrub(what), 1) from None
        except Exception as exc:
            raise self._unexpected(ctx, exc) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    @staticmethod
    def _unexpected(ctx: click.Context, exc: Exception) -> click.ClickException:
        """One line for an exception nobody anticipated; the traceback under ``--debug``."""
        if _debug(ctx):
            click.echo(_scrub(traceback.format_exc()), err=True)
        what = " ".join(str(exc).split()) or "no message"
        return _one_line(_scrub(f"{type(exc).__name__}: {what} (rerun with --debug for the traceback)"), 1)


@click.group(cls=ZoningGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (repeatable).")
@click.option("-q", "--quiet", count=True, help="Less log output.")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error (also $ZONING_DEBUG=1).")
@click.version_option(package_name="zoning")
@click.pass_context
def main_group(ctx: click.Context, verbose: int, quiet: int, debug: bool) -> None:
    """Land and groundwater zoning for 晋城市 (Jincheng, Shanxi).

    \b
    Query what applies at a point, manage layer packs.
    \b
      zoning query 112.85 35.50
      zoning query 38396500 3928400 --crs gk3
      zoning layers validate layers/jincheng

    Exit codes: 0 done; 1 a problem in data or files; 2 a bad value on the command
    line; 3 with check --fail-on when a site reaches that verdict.
    """
    level = max(logging.DEBUG, logging.WARNING - 10 * (verbose - quiet))
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.ensure_object(dict)


from zoning.cli.check import check  # noqa: E402
from zoning.cli.derive import derive  # noqa: E402
from zoning.cli.layers import layers  # noqa: E402
from zoning.cli.map import map_cmd  # noqa: E402
from zoning.cli.query import query  # noqa: E402
from zoning.cli.serve import serve  # noqa: E402
from zoning.cli.watch import watch  # noqa: E402

main_group.add_command(layers)
main_group.add_command(query)
main_group.add_command(map_cmd)
main_group.add_command(check)
main_group.add_command(derive)
main_group.add_command(watch)
main_group.add_command(serve)
from zoning.cli.audit import audit  # noqa: E402
from zoning.cli.users import users  # noqa: E402

main_group.add_command(users)
main_group.add_command(audit)


if __name__ == "__main__":  # python -m zoning.cli.main
    main_group()

"""Options shared by the commands.

pack_opt   --pack DIR|DSN: the layer pack (default: the shipped Jincheng pack, or $ZONING_PACK)
crs_opt    --crs: CRS of input coordinates (EPSG code, PROJ string or alias: gcj02, bd09, gk3...)
order_opt  --order xy|survey: survey = X (northing) first, as Chinese survey tables list it
lang_opt   --lang zh|en: language of text output
date_opt   --date YYYY-MM-DD: the day the rules are read on (default today)
format_opt --format text|json
pairs      the callback of a repeatable NAME=VALUE option (-a/--set/--field)
attributes the callback of -a/--set: NAME=VALUE pairs checked against the project attributes
checked    run a check of the core on an option's value: its error becomes a usage error (exit 2)
encoding_opt_handler  an --encoding value that names a codec Python knows
input_file  an input path that must be a regular file (not a FIFO, device or folder)
require_extra  refuse, before any work, a command whose optional dependencies are not installed

Exit codes (README): 0 done; 1 a problem in data or files; 2 a bad value on the command
line; 3 check --fail-on. Every value checked here is a usage error (2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import click

from zoning.core import settings

T = TypeVar("T")

#: The top-level modules of each optional dependency set of pyproject.toml (``pip install 'zoning[EXTRA]'``).
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "report": ("docx", "weasyprint", "matplotlib"),
    "serve": ("fastapi", "uvicorn", "httptools", "uvloop", "orjson", "multipart", "pygeoapi", "yaml", "httpx"),
    "cad": ("ezdxf",),
    "scale": ("psycopg", "dask", "dask_geopandas"),
}


def extra_advice(extra: str, module: str) -> str:
    """The one line that tells which extra to install for ``module``."""
    return f"this command needs the {extra!r} extra ({module} is not installed): pip install 'zoning[{extra}]'"


def require_extra(extra: str) -> None:
    """Raise (exit 1, one line naming the extra) unless every module of ``extra`` can be imported;
    checked before the work starts, so nothing is half written."""
    from importlib.util import find_spec

    from zoning.core.errors import ZoningError

    for module in EXTRA_MODULES[extra]:
        if find_spec(module) is None:
            raise ZoningError(extra_advice(extra, module))


def pack_handler(ctx: click.Context, param: click.Parameter, value: str | None):
    """Open the pack (its manifest and rules catalogue checked). A pack that is missing,
    corrupt, empty or without its rules is a data problem: the ManifestError reaches the
    group's handler and exits with 1, in one line."""
    from zoning.core.layers import open_pack

    if ctx.resilient_parsing:
        return None
    return open_pack(value or settings.default_pack)


pack_opt = click.option(
    "--pack",
    "pack",
    metavar="DIR",
    callback=pack_handler,
    help="Layer pack: a directory, or a PostGIS DSN postgresql://... (default: the shipped Jincheng pack, "
    "or $ZONING_PACK).",
)
def _crs_handler(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A ``--crs`` value the one coordinate parser knows (:func:`zoning.core.coords.resolve_crs`:
    EPSG codes, PROJ strings, aliases gk3, gk3:38, gcj02, bd09...), as given: gk3 keeps its zone to
    each coordinate. An unknown CRS is a usage error (exit code 2)."""
    if value is None:
        return None
    from zoning.core.coords import resolve_crs

    checked(ctx, param, lambda: resolve_crs(value))
    return value


crs_opt = click.option(
    "--crs",
    default=None,
    callback=_crs_handler,
    metavar="CRS",
    help="CRS of the input coordinates: EPSG:4490 (default, CGCS2000 lon/lat), EPSG:4326, "
    "EPSG:4526/4547 (Gauss-Kruger), gk3 (detect zone from the easting prefix), gcj02 (Amap), "
    "bd09 (Baidu), or any PROJ string.",
)
order_opt = click.option(
    "--order",
    type=click.Choice(["xy", "survey"]),
    default="xy",
    show_default=True,
    help="survey: the first number is X = northing (Chinese survey order).",
)
lang_opt = click.option(
    "--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of the text output."
)
date_opt = click.option(
    "--date", "on_date", type=click.DateTime(["%Y-%m-%d"]), default=None,
    help="Read the rules as in force on this date, YYYY-MM-DD (default today).",
)
format_opt = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)


def checked(ctx: click.Context, param: click.Parameter, check: Callable[[], T]) -> T:
    """``check()``, a check of the core on an option's value: the error it raises for a bad
    value (UsageError, RuleError, CoordinateError) becomes click's usage error (exit code 2),
    in the core's words, so the command line and the service say the same."""
    from zoning.core.errors import CoordinateError, RuleError, UsageError

    try:
        return check()
    except (UsageError, RuleError, CoordinateError) as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def pairs(expected: str, example: str) -> Callable[[click.Context, click.Parameter, Sequence[str]], dict[str, str]]:
    """The callback of a repeatable ``NAME=VALUE`` option: the pairs as a dict, stripped.

    ``expected`` names the form (``NAME=VALUE``, ``TARGET=COLUMN``) and ``example`` shows one,
    for the message of a value without ``=``.
    """

    def handler(ctx: click.Context, param: click.Parameter, values: Sequence[str]) -> dict[str, str]:
        from zoning.core.rules import parse_pairs

        return checked(ctx, param, lambda: parse_pairs(values, expected, example))

    return handler


def attributes(expected: str, example: str, option: str):
    """The callback of ``-a`` / ``--set``: ``NAME=VALUE`` pairs whose names are project
    attributes and whose values are allowed (an unknown name or value exits with 2)."""
    split = pairs(expected, example)

    def handler(ctx: click.Context, param: click.Parameter, values: Sequence[str]) -> dict[str, str]:
        from zoning.core.rules import checked_project

        out = split(ctx, param, values)
        checked(ctx, param, lambda: checked_project(out))
        return out

    return handler


def encoding_handler(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An ``--encoding`` value: a codec Python knows (``gbk``, ``utf-8``, ``gb18030``...)."""
    from zoning.inputs.sites import known_encoding

    return None if value is None else checked(ctx, param, lambda: known_encoding(value))


def regular_file(path: str | Path, what: str, *, dir_ok: bool = False) -> Path:
    """``path`` if it is a regular file (or, with ``dir_ok``, a folder); a UsageError otherwise.

    A FIFO, a device such as /dev/zero or a socket would make a reader hang or read for
    ever; a folder where a file is expected fails late and obscurely. Both are refused at once.
    """
    import os
    import stat

    from zoning.core.errors import UsageError

    p = Path(path)
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        raise UsageError(f"{what} {path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot be read ({exc.strerror})") from None
    if stat.S_ISREG(mode) or (dir_ok and stat.S_ISDIR(mode)):
        return p
    kind = "a folder" if stat.S_ISDIR(mode) else ("a FIFO" if stat.S_ISFIFO(mode) else "not a regular file")
    raise UsageError(f"{what} {path}: is {kind}; expected a regular file" + (" or a folder" if dir_ok else ""))


def input_file(what: str, *, dir_ok: bool = False):
    """The callback of an input path option/argument: :func:`regular_file` (None stays None)."""

    def handler(ctx: click.Context, param: click.Parameter, value: str | None):
        if value is None or ctx.resilient_parsing:
            return value
        regular_file(value, what, dir_ok=dir_ok)
        return value

    return handler


def output_file(path: str | Path, what: str, *, overwrite: bool) -> Path:
    """Check an output file before the work starts: not a folder, not an existing file
    without ``overwrite`` (UsageError, 2), and a folder it can be written into (InputFileError, 1)."""
    import os

    from zoning.core.errors import InputFileError, UsageError

    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{what} {p} is a folder; expected a file name")
    if p.exists() and not overwrite:
        raise UsageError(f"{what} {p} exists; pass --overwrite to replace it")
    writable_dir(p.parent, what, named=p)
    if p.exists() and not os.access(p, os.W_OK):
        raise InputFileError(f"{what} {p}: not writable (permission denied)")
    return p


def writable_dir(folder: str | Path, what: str, *, named: str | Path | None = None, probe: bool = True) -> Path:
    """``folder`` (created later if missing) if files can be written into it, checked before the work starts.

    The one check of an output folder (``check --out``, ``derive --out``, the folder of an ``-o``
    file, the service's ``--data``). ``named`` is the path the message names: the value given
    (default ``folder``; for ``-o`` the file, not its folder). ``probe=False``: only that it is
    (or can become) a folder, not that this user may write there (``zoning users list`` reads).

    Raises
    ------
    UsageError
        ``folder``, or a folder above it, is a file (exit 2): ``--out r is a file; expected a
        folder (it is created if missing)``, ``-o r/a.csv: r is a file, not a folder``.
    InputFileError
        Nothing can be written there (exit 1).
    """
    import os
    import tempfile

    from zoning.core.errors import InputFileError, UsageError

    d = Path(folder) if str(folder) else Path(".")
    shown = d if named is None else Path(named)
    above = d  # the folder itself, or the nearest one above it that exists
    while not above.exists() and above != above.parent:
        above = above.parent
    if above.exists() and not above.is_dir():
        if above == shown:
            raise UsageError(f"{what} {shown} is a file; expected a folder (it is created if missing)")
        raise UsageError(f"{what} {shown}: {above} is a file, not a folder")
    if not probe:
        return d
    try:  # try it: access() says yes to root even where nothing can be written (/proc, read-only mounts)
        fd, tmp = tempfile.mkstemp(prefix=".zoning-write-test-", dir=above)
    except OSError as exc:
        raise InputFileError(f"{what} {shown}: cannot write into {above} ({exc.strerror})") from None
    os.close(fd)
    os.unlink(tmp)
    return d

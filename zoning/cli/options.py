"""Options shared by the commands.

pack_opt   --pack DIR|DSN: the layer pack (default: the shipped Jincheng pack, or $ZONING_PACK)
crs_opt    --crs: CRS of input coordinates (EPSG code, PROJ string or alias: gcj02, bd09, gk3...)
order_opt  --order xy|survey: survey = X (northing) first, as Chinese survey tables list it
lang_opt   --lang zh|en: language of text output
format_opt --format text|json
pairs      the callback of a repeatable NAME=VALUE option (-a/--set/--field)
resolve_crs_option  a --crs value through the one coordinate parser (zoning.core.coords)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import click

from zoning.core import settings


def _pack_handler(ctx: click.Context, param: click.Parameter, value: str | None):
    from zoning.core.errors import ManifestError
    from zoning.core.layers import open_pack

    try:
        return open_pack(value or settings.default_pack)
    except ManifestError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


pack_opt = click.option(
    "--pack",
    "pack",
    metavar="DIR",
    callback=_pack_handler,
    help="Layer pack: a directory, or a PostGIS DSN postgresql://... (default: the shipped Jincheng pack, "
    "or $ZONING_PACK).",
)
crs_opt = click.option(
    "--crs",
    default=None,
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
format_opt = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)


def pairs(expected: str, example: str) -> Callable[[click.Context, click.Parameter, Sequence[str]], dict[str, str]]:
    """The callback of a repeatable ``NAME=VALUE`` option: the pairs as a dict, stripped.

    ``expected`` names the form (``NAME=VALUE``, ``TARGET=COLUMN``) and ``example`` shows one,
    for the message of a value without ``=``.
    """

    def handler(ctx: click.Context, param: click.Parameter, values: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for item in values or ():
            if "=" not in item:
                raise click.BadParameter(f"{item!r}: expected {expected}, e.g. {example}", ctx=ctx, param=param)
            key, value = item.split("=", 1)
            out[key.strip()] = value.strip()
        return out

    return handler


def resolve_crs_option(value: str | None, *, option: str = "--crs") -> str | None:
    """A ``--crs`` value checked by :func:`zoning.core.coords.resolve_crs`, the one parser of
    CRS names (aliases such as gk3, gk3:38, gcj02, bd09, EPSG codes, PROJ strings).

    Returns the canonical name (``gk3`` stays ``gk3``: its zone is resolved per coordinate);
    ``None`` stays ``None``. An unknown CRS is a usage error (exit code 2) naming the option.
    """
    if value is None:
        return None
    from zoning.core.coords import resolve_crs
    from zoning.core.errors import UnknownCRSError

    try:
        return resolve_crs(value)
    except UnknownCRSError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None

"""Options shared by the commands.

pack_opt   --pack DIR|DSN: the layer pack (default: the shipped Jincheng pack, or $ZONING_PACK)
crs_opt    --crs: CRS of input coordinates (EPSG code, PROJ string or alias: gcj02, bd09, gk3...)
order_opt  --order xy|survey: survey = X (northing) first, as Chinese survey tables list it
lang_opt   --lang zh|en: language of text output
format_opt --format text|json
"""

from __future__ import annotations

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
lang_opt = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                        help="Language of the text output.")
format_opt = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                          show_default=True, help="Output format.")

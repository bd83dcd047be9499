"""``zoning query``: what applies at one point."""

from __future__ import annotations

import json

import click

from zoning.cli import options


@click.command(short_help="What applies at a point.")
@click.argument("x")
@click.argument("y")
@options.crs_opt
@options.order_opt
@options.pack_opt
@options.format_opt
@options.lang_opt
def query(x: str, y: str, crs: str | None, order: str, pack, fmt: str, lang: str) -> None:
    """What applies at the point X Y (longitude latitude by default).

    \b
    Examples:
      zoning query 112.85 35.50                      # CGCS2000 lon/lat
      zoning query 112.8567 35.4985 --crs gcj02      # copied from Amap
      zoning query 38396465.71 3928409.18 --crs gk3  # Gauss-Kruger, zone prefix 38
      zoning query 3928409.18 38396465.71 --crs gk3 --order survey
      zoning query 112.85 35.50 --format json --lang en
    """
    from zoning.query import query_point

    result = query_point(x, y, crs, order=order, pack=pack)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(result.to_text(lang))

"""``zoning layers push``: load a pack into PostGIS (register with ``layers.add_command(push)``)."""

from __future__ import annotations

import click


@click.command("push", short_help="Load a pack into PostGIS, with GIST indexes.")
@click.argument("pack", metavar="PACK")
@click.argument("dsn", metavar="DSN")
@click.option("--replace", "replace_existing", is_flag=True, help="Replace a pack already in the target schema.")
def push(pack: str, dsn: str, replace_existing: bool) -> None:
    """Load every vector layer of PACK (a directory, or another DSN) into the PostGIS
    database DSN, one table per layer with a GIST index, and the manifest and rules
    catalogue into the table zoning_manifest. ``?schema=NAME`` in the DSN chooses the
    schema (default zoning). Afterwards DSN works wherever a pack does (--pack DSN,
    zoning layers validate DSN).

    \b
    Example:
      zoning layers push layers/jincheng "postgresql://gis@db.example:5432/zoning?schema=jincheng"
      zoning layers validate "postgresql://gis@db.example:5432/zoning?schema=jincheng"
    """
    from zoning.core.postgis import is_dsn, push_pack, redact

    if not is_dsn(dsn):
        raise click.BadParameter(
            f"{dsn!r}: expected postgresql://user@host:port/dbname[?schema=NAME]", param_hint="DSN"
        )
    result, notes = push_pack(pack, dsn, replace_existing=replace_existing)
    for note in notes:
        click.echo(f"  {note}")
    click.echo(f"pushed {result.name} ({len(result.layers)} layers) to {redact(dsn)}")

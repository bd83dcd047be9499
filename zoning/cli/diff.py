"""``zoning layers diff OLD NEW``: what changed between two packs."""

from __future__ import annotations

import json

import click

from zoning.cli import options


@click.command("diff", short_help="What changed between two packs (layers, rules, quota, key projects).")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@options.format_opt
@options.lang_opt
@click.option("--gpkg", "gpkg_out", metavar="FILE", help="Write the changed areas to a GeoPackage (layer changes).")
@click.option("--html", "html_out", metavar="FILE", help="Write an offline HTML map of the changed areas.")
@click.option("--all", "show_all", is_flag=True, help="List every changed feature and project (text; default 20 a layer).")
@click.option("--overwrite", is_flag=True, help="Replace --gpkg / --html files that exist.")
def diff(old: str, new: str, fmt: str, lang: str, gpkg_out: str | None, html_out: str | None, show_all: bool,
         overwrite: bool) -> None:
    """Compare pack OLD with pack NEW (directories or postgresql:// DSNs): per layer the
    features added, removed and changed (outline: area gained and lost in km²;
    attributes: which fields), key-project lists matched by name, rules added, removed,
    re-worded or with a changed period, and quota figures.

    \b
    Examples:
      zoning layers diff layers/jincheng-2026.1 layers/jincheng
      zoning layers diff old/ new/ --format json > changes.json
      zoning layers diff old/ new/ --gpkg changes.gpkg --html changes.html
    """
    from zoning.versions.diff import diff_packs

    for path, what in ((gpkg_out, "--gpkg"), (html_out, "--html")):
        if path:
            options.output_file(path, what, overwrite=overwrite)
    result = diff_packs(old, new)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(result.to_text(lang, limit=None if show_all else 20))
    if gpkg_out:
        from zoning.versions.render import write_changes_gpkg

        click.echo(f"gpkg: {write_changes_gpkg(result, gpkg_out)}", err=fmt == "json")
    if html_out:
        from pathlib import Path

        from zoning.core.manifest import atomic_write_text
        from zoning.versions.render import build_diff_map

        target = Path(html_out)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, build_diff_map(result, lang).get_root().render())
        click.echo(f"html: {target}", err=fmt == "json")

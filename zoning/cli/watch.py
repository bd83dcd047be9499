"""``zoning watch add|list|run``: saved watch lists re-checked whenever asked."""

from __future__ import annotations

import click

from zoning.cli import options

store_opt = click.option("--store", metavar="DIR", default=None,
                         help="Watch folder (default $ZONING_WATCH_DIR, else ~/.zoning/watch).")


@click.group(short_help="Saved watch lists: re-check sites and report what changed since the last run.")
def watch() -> None:
    """Keep a list of sites under watch: `zoning watch run` re-checks them against the
    pack as it is now and reports only the sites whose answer changed since the last run,
    with what changed (zones, verdict, rules) and, for the run, the pack version, rules
    version, as-of date or input that differs."""


@watch.command("add", short_help="Save a watch over a sites file.")
@click.argument("name")
@click.argument("sites", callback=options.input_file("SITES", dir_ok=True))
@click.option("--pack", "pack", metavar="DIR", default=None, help="Layer pack (default: the shipped pack, or $ZONING_PACK).")
@options.crs_opt
@click.option("--set", "attrs", multiple=True, callback=options.attributes("NAME=VALUE", "construction=新建", "--set"),
              metavar="NAME=VALUE", help="A project attribute for every site (repeatable).")
@click.option("--replace", is_flag=True, help="Redefine a watch of the same name.")
@store_opt
def add(name: str, sites: str, pack: str | None, crs: str | None, attrs: dict, replace: bool, store: str | None) -> None:
    """Save watch NAME over SITES (any file `zoning check` reads)."""
    from zoning.versions.watch import add_watch

    w = add_watch(name, sites, pack=pack, attributes=attrs, crs=crs, folder=store, replace=replace)
    click.echo(f"watch {w.name}: {w.sites} (pack {w.pack or 'default'})")


@watch.command("list", short_help="List the saved watches.")
@store_opt
def list_(store: str | None) -> None:
    """List the saved watches with their last run."""
    from zoning.versions.watch import list_watches, watch_dir

    found = list_watches(store)
    if not found:
        click.echo(f"no watch saved in {watch_dir(store)}")
    for w in found:
        last = w.last_run or {}
        when = f"last run {last.get('at')}: {last.get('sites')} sites, {last.get('changed')} changed" if last else "never run"
        version = (last.get("provenance") or {}).get("pack_version", "")
        click.echo(f"{w.name}: {w.sites} (pack {w.pack or 'default'}) {when}" + (f" [pack {version}]" if version else ""))


@watch.command("run", short_help="Re-check watches; report the changes since the last run.")
@click.argument("names", nargs=-1)
@options.date_opt
@options.lang_opt
@store_opt
def run(names: tuple[str, ...], on_date, lang: str, store: str | None) -> None:
    """Re-check the watches NAMES (default: every saved watch)."""
    from zoning.versions.watch import list_watches, run_watch

    zh = lang == "zh"
    todo = list(names) or [w.name for w in list_watches(store)]
    if not todo:
        click.echo("没有保存的监视列表" if zh else "no watch saved")
    for name in todo:
        r = run_watch(name, folder=store, on_date=on_date.date() if on_date else None, lang=lang)
        if r.first:
            click.echo(f"{name}: 首次运行, 已记录 {r.n_sites} 个项目的结论" if zh else
                        f"{name}: first run, answers of {r.n_sites} sites recorded")
            continue
        click.echo(f"{name}: {r.n_sites} 个项目, 自上次运行以来变化 {len(r.changes)} 个" if zh else
                    f"{name}: {r.n_sites} sites, {len(r.changes)} changed since the last run")
        for line in r.provenance_changes:
            click.echo(f"  {line}")
        for rec in r.changes.to_dict("records"):
            click.echo(f"  [{rec['row']}] {rec.get('site_name') or ''}: {rec['change_cause']}")

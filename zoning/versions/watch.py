"""A saved watch list: sites re-checked whenever asked, reporting only what changed since the last run.

A watch is a JSON file ``NAME.json`` in the watch folder (``$ZONING_WATCH_DIR``, default
``~/.zoning/watch``): the sites file, the pack, the project attributes every site shares
and the input's CRS. :func:`run_watch` checks the sites against the pack as it is now, on
today's date (or the date given), compares each site's answer with the one the last run
recorded (``NAME.last.csv``: the compared columns of :data:`zoning.versions.recheck.COMPARED`)
and names, per changed site, what differs (zones gained or lost, verdict, binding rules),
and for the run what changed in its provenance (pack version and content, rules version,
as-of date, input file). The first run records the answers and reports no change.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from zoning.core.errors import InputFileError, UsageError
from zoning.core.manifest import atomic_write_text, check_name, is_dsn

__all__ = ["Watch", "WatchRun", "add_watch", "list_watches", "run_watch", "watch_dir"]


def watch_dir(path: str | Path | None = None) -> Path:
    """The watch folder: ``path``, else ``$ZONING_WATCH_DIR``, else ``~/.zoning/watch``."""
    if path:
        return Path(path)
    env = os.environ.get("ZONING_WATCH_DIR")
    return Path(env) if env else Path.home() / ".zoning" / "watch"


@dataclass
class Watch:
    """A saved watch: what to re-check, and on which pack."""

    name: str
    sites: str
    pack: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    crs: str | None = None
    created: str = ""
    last_run: dict[str, Any] | None = None

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=2, default=str) + "\n"


@dataclass
class WatchRun:
    """One run of a watch: the sites that changed since the last run, and why."""

    watch: Watch
    n_sites: int
    changes: pd.DataFrame
    provenance_changes: list[str]
    first: bool
    provenance: dict[str, str]


def _path(folder: Path, name: str) -> Path:
    return folder / f"{check_name(name, 'watch name')}.json"


def add_watch(name: str, sites: str | Path, *, pack: str | None = None, attributes: dict[str, Any] | None = None,
              crs: str | None = None, folder: str | Path | None = None, replace: bool = False) -> Watch:
    """Save a watch called ``name`` over the sites file ``sites``."""
    d = watch_dir(folder)
    d.mkdir(parents=True, exist_ok=True)
    target = _path(d, name)
    if target.exists() and not replace:
        msg = f"watch {name!r} exists ({target}); pass --replace to redefine it"
        raise UsageError(msg)
    sites_path = Path(sites)
    if not sites_path.exists():
        msg = f"{sites}: no such file or folder"
        raise InputFileError(msg)
    pack_ref = None
    if pack:
        pack_ref = pack if is_dsn(str(pack)) else str(Path(pack).resolve())
    w = Watch(name=name, sites=str(sites_path.resolve()), pack=pack_ref, attributes=dict(attributes or {}),
              crs=crs, created=dt.datetime.now().isoformat(timespec="seconds"))
    atomic_write_text(target, w.to_json())
    (d / f"{name}.last.csv").unlink(missing_ok=True)
    return w


def list_watches(folder: str | Path | None = None) -> list[Watch]:
    d = watch_dir(folder)
    out = []
    for f in sorted(d.glob("*.json")) if d.is_dir() else []:
        try:
            out.append(Watch(**json.loads(f.read_text(encoding="utf-8"))))
        except (ValueError, TypeError) as exc:
            msg = f"{f}: not a watch file ({exc})"
            raise InputFileError(msg) from exc
    return out


def _load(name: str, folder: Path) -> Watch:
    target = _path(folder, name)
    if not target.exists():
        known = ", ".join(w.name for w in list_watches(folder)) or "none"
        msg = f"no watch called {name!r} in {folder}; saved watches: {known}"
        raise UsageError(msg)
    return Watch(**json.loads(target.read_text(encoding="utf-8")))


def run_watch(name: str, *, folder: str | Path | None = None, on_date: dt.date | None = None,
              lang: str = "zh") -> WatchRun:
    """Re-check the watch's sites now; the sites changed since the last run, and why."""
    from zoning.check import build_context, check_sites
    from zoning.core.provenance import compare_provenance, provenance
    from zoning.inputs.sites import read_sites
    from zoning.versions.recheck import COMPARED, compare_results

    d = watch_dir(folder)
    w = _load(name, d)
    ctx = build_context(w.pack, project_defaults=w.attributes, on_date=on_date)
    sites = read_sites(w.sites, crs=w.crs) if w.crs else read_sites(w.sites)
    res = check_sites(sites, context=ctx)
    prov = provenance(ctx.context, on_date=ctx.on_date, input_file=w.sites)
    cols = ["row", *(c for c in COMPARED if c in res.columns)]
    snap = pd.DataFrame(res[cols]).astype(object).where(pd.notna(res[cols]), None)
    last = d / f"{name}.last.csv"
    first = not last.exists()
    if first:
        changes = pd.DataFrame(columns=["row", "site_name", "changed", "change_cause"])
        prov_changes: list[str] = []
    else:
        before = pd.read_csv(last, dtype=str, keep_default_na=False).replace({"": None})
        cmp = compare_results(before, snap.astype(str).replace({"None": None}), lang=lang)
        cmp = cmp[cmp["changed"]]
        names = dict(zip(res["row"].astype(str), res.get("site_name", res["row"]).astype(str)))
        cmp.insert(1, "site_name", [names.get(str(r)) for r in cmp["row"]])
        changes = cmp.reset_index(drop=True)
        prov_changes = compare_provenance(w.last_run.get("provenance", {}) if w.last_run else {}, prov, lang)
    tmp = last.with_name(f".{last.name}.tmp")
    snap.to_csv(tmp, index=False)
    tmp.replace(last)
    w.last_run = {"at": dt.datetime.now().isoformat(timespec="seconds"), "provenance": prov, "sites": len(res),
                  "changed": len(changes)}
    atomic_write_text(_path(d, name), w.to_json())
    return WatchRun(w, len(res), changes, prov_changes, first, prov)

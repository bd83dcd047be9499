"""``zoning audit``: read the audit log of ``zoning serve``."""

from __future__ import annotations

import json

import click

from zoning.cli.serve import data_opt

audit_opt = click.option("--audit", "audit_url", default=None, metavar="URL",
                         help="postgresql://... when the service logs there (default: SQLite under --data).")
filters = [
    click.option("--kind", type=click.Choice(["answer", "check", "check_result"]), default=None),
    click.option("--user", default=None),
    click.option("--since", default=None, metavar="ISO-TIME", help="e.g. 2026-01-01 or 2026-01-01T08:00"),
    click.option("--until", default=None, metavar="ISO-TIME"),
]


def _filters(f):
    for opt in reversed(filters):
        f = opt(f)
    return f


def _log(data_dir: str, audit_url: str | None):
    from pathlib import Path

    from zoning.core.errors import UsageError
    from zoning.service.audit import AUDIT_FILE, open_audit

    if audit_url is None and not (Path(data_dir) / AUDIT_FILE).is_file():
        raise UsageError(f"--data {data_dir}: no audit log there ({AUDIT_FILE}); give the --data of zoning serve")
    return open_audit(audit_url, data_dir)


@click.group(short_help="Read the audit log of zoning serve.")
def audit() -> None:
    """Every answer and check job of `zoning serve`: user, time, inputs, pack version and hash, summary."""


@audit.command("list")
@data_opt
@audit_opt
@_filters
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_cmd(data_dir, audit_url, kind, user, since, until, limit, fmt) -> None:
    """The latest entries, newest first."""
    entries = _log(data_dir, audit_url).entries(kind=kind, user=user, since=since, until=until, limit=limit)
    for e in entries:
        if fmt == "json":
            click.echo(json.dumps(e.to_dict(), ensure_ascii=False))
        else:
            s = e.summary
            what = (f"verdict={s.get('verdict')} county={s.get('county')} zones={','.join(map(str, s.get('zones', [])))}"
                    if e.kind == "answer" else f"status={s.get('status')} sites={s.get('n_sites', '')}")
            inputs = (f"{e.inputs.get('x')},{e.inputs.get('y')} {e.inputs.get('crs') or ''}".strip()
                      if e.kind == "answer" else ",".join(u.get("name", "") for u in e.inputs.get("uploads", [])))
            click.echo(f"{e.time}  {e.kind:12s} {e.user:12s} {e.id}  {inputs}  {what}  pack {e.pack} "
                       f"{e.pack_version} {e.pack_hash[:12]}")


@audit.command("export")
@data_opt
@audit_opt
@_filters
@click.option("-o", "--output", required=True, metavar="FILE", help="A .csv or .jsonl file.")
@click.option("--overwrite", is_flag=True)
def export(data_dir, audit_url, kind, user, since, until, output, overwrite) -> None:
    """Every entry (oldest first) to CSV (Excel-safe: UTF-8 BOM, no cell read as a formula) or JSON lines."""
    from pathlib import Path

    import pandas as pd

    from zoning.cli import options
    from zoning.core.errors import UsageError
    from zoning.outputs.reports import neutralise_formulas
    from zoning.service.audit import COLUMNS

    out = options.output_file(output, "-o", overwrite=overwrite)
    suffix = Path(output).suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise UsageError(f"-o {output}: the suffix must be .csv or .jsonl")
    entries = _log(data_dir, audit_url).entries(kind=kind, user=user, since=since, until=until, limit=None,
                                                newest_first=False)
    if suffix == ".jsonl":
        with out.open("w", encoding="utf-8") as fh:
            for e in entries:
                fh.write(json.dumps(e.to_dict(), ensure_ascii=False) + "\n")
    else:
        rows = [{c: (json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v)
                 for c, v in e.to_dict().items()} for e in entries]
        df = pd.DataFrame(rows, columns=list(COLUMNS))
        for c in df.columns:
            df[c] = neutralise_formulas(df[c].astype(object).where(df[c].notna(), "").astype(str))
        df.to_csv(out, index=False, encoding="utf-8-sig")
    click.echo(f"{len(entries)} entries -> {out}")

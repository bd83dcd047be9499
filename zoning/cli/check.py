"""``zoning check``: batch-check project sites (points or red-line polygons)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from zoning.cli import options
from zoning.core import settings, vocab

#: Exit code when ``--fail-on`` is given and a site reaches that verdict.
EXIT_FAIL_ON = 3

#: verdicts, strongest first, and the levels --fail-on counts (from the one vocabulary)
_FAIL_ON = {
    vocab.PROHIBITED: (vocab.PROHIBITED,),
    vocab.CONDITIONAL: (vocab.PROHIBITED, vocab.NEEDS_CONFIRMATION, vocab.CONDITIONAL),
}


def _check_formats() -> tuple[str, ...]:
    """What --format and -o write: the tables (zoning.outputs.reports) and the review reports."""
    from zoning.outputs.reports import FORMATS
    from zoning.outputs.review import REVIEW_FORMATS

    return (*FORMATS, *REVIEW_FORMATS)


def _formats_handler(ctx, param, value):
    """--format LIST: read by the one parser of format lists (the service's upload form reads its own
    ``format`` field there too), so both accept and refuse a list alike, in the same sentence."""
    from zoning.outputs.formats import parse_formats

    if value is None:
        return None
    return options.checked(ctx, param, lambda: parse_formats(value, _check_formats(), what="output format"))


def _pieces_formats(ctx, param, value):
    from zoning.outputs.formats import parse_formats
    from zoning.outputs.pieces import PIECE_FORMATS

    return options.checked(ctx, param, lambda: parse_formats(value, PIECE_FORMATS, what="pieces format"))


def _output_files(ctx, param, values):
    """-o FILE: each suffix names a format of --format, checked before any work starts."""
    from zoning.outputs.formats import suffix_format

    for f in values:
        options.checked(ctx, param, lambda f=f: suffix_format(f, _check_formats()))
    return values


def _outputs(sites: Path, out_dir: str | None, files: tuple[str, ...], fmts: list[str] | None) -> dict[str, Path]:
    from zoning.outputs.formats import files_missing, suffix_format
    from zoning.outputs.reports import FORMATS

    outputs: dict[str, Path] = {}
    for f in files:  # the review reports' files are taken out before (zoning.outputs.review)
        outputs[suffix_format(f, FORMATS)] = Path(f)
    if out_dir or not files:
        base = Path(out_dir) if out_dir else Path("check_results")
        stem = sites.stem if sites.is_file() else sites.name
        for f in fmts or ["csv", "xlsx"]:
            outputs.setdefault(f, base / f"{stem}_check.{f}")
    elif fmts:
        files_missing(f for f in fmts if f not in outputs)
    return outputs


_split_fields = options.pairs("TARGET=COLUMN", "lon=东经 or construction=建设性质")


def _fields_handler(ctx, param, values):
    """--field TARGET=COLUMN pairs whose targets check knows (an unknown target exits with 2)."""
    from zoning.inputs.sites import site_field_target

    out = _split_fields(ctx, param, values)
    for target, column in out.items():
        options.checked(ctx, param, lambda t=target, c=column: site_field_target(t, c))
    return out


def _check_scheduler(address: str) -> None:
    """A dask scheduler address that answers, checked before any work (one line, exit 1 if not)."""
    import socket
    from urllib.parse import urlsplit

    from zoning.core.errors import EngineError, UsageError

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if parts.scheme not in ("tcp", "tls") or not host or not port:
        raise UsageError(f"--scheduler {address!r}: expected tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786")
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        raise EngineError(f"dask scheduler {address} cannot be reached ({exc.strerror or exc})") from None


@click.command(short_help="Batch-check project sites against zones and planning extents.")
@click.argument("sites")
@options.pack_opt
@options.crs_opt
@options.order_opt
@options.date_opt
@click.option("--out", "out_dir", metavar="DIR", help="Write <SITES>_check.<format> for each --format into DIR.")
@click.option(
    "-o",
    "--output",
    "out_files",
    multiple=True,
    callback=_output_files,
    metavar="FILE",
    help="An output file; its suffix (.csv .xlsx .gpkg .html, or .docx .pdf: one review volume) chooses the format "
    "(repeatable).",
)
@click.option(
    "--format",
    "fmts",
    callback=_formats_handler,
    metavar="LIST",
    help="Comma-separated formats for --out: csv,xlsx,gpkg,html (default csv,xlsx), and docx,pdf: the review "
    "report (审查报告) of every site, in DIR/<SITES>_review/.",
)
@click.option(
    "--report-volume",
    is_flag=True,
    help="docx/pdf: one document for the whole batch (a summary table first) instead of one per site.",
)
@click.option(
    "--fail-on",
    type=click.Choice(list(_FAIL_ON)),
    default=None,
    help=f"Exit with code {EXIT_FAIL_ON} when any site reaches this verdict (conditional also counts "
    f"{' and '.join(vocab.VERDICT_LABELS[v][1] for v in _FAIL_ON[vocab.CONDITIONAL][:-1])}).",
)
@click.option(
    "--field",
    "fields",
    multiple=True,
    callback=_fields_handler,
    metavar="TARGET=COLUMN",
    help="Map a column, e.g. --field lon=东经 --field site_name=工程名称 --field construction=性质 (repeatable).",
)
@click.option(
    "--set",
    "attrs",
    multiple=True,
    callback=options.attributes("NAME=VALUE", "construction=新建", "--set"),
    metavar="NAME=VALUE",
    help="A project attribute for every site without its own, e.g. --set construction=新建 (repeatable).",
)
@click.option("--layer", "layer_name", help="Layer inside a multi-layer GeoPackage.")
@click.option("--sheet", help="Excel sheet (default the first).")
@click.option(
    "--encoding",
    callback=options.encoding_handler,
    help="Text encoding of the input (default detected: UTF-8, UTF-8 BOM, GBK).",
)
@click.option(
    "--chunksize",
    type=click.IntRange(*settings.CHUNKSIZE_RANGE),
    default=settings.DEFAULT_CHUNKSIZE,
    show_default=True,
    help="CSV rows read and checked at a time (bounds memory).",
)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@click.option(
    "--engine",
    type=click.Choice(["in-process", "dask", "postgis"]),
    default=None,
    help="in-process (default for files), dask (partitioned on a dask cluster), postgis (in SQL; "
    "the default for a postgresql://...?table=NAME SITES).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="dask: worker processes of the local cluster (default: CPU count).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="dask: an existing scheduler, e.g. tcp://10.0.0.5:8786, instead of a local cluster.",
)
@click.option("--overwrite", is_flag=True, help="Replace -o files that exist (--out DIR files are always rewritten).")
@click.option("--pieces", is_flag=True, help="Also write each site's overlap pieces (压占图斑) and the remainder that "
              "conflicts with no zone (see --pieces-format).")
@click.option("--pieces-format", "pieces_fmts", default="gpkg,jzd", show_default=True, metavar="LIST",
              callback=_pieces_formats,
              help="--pieces formats: gpkg (layers pieces, remainder), geojson, shp, dxf, jzd (界址点 file).")
@click.option("--near", "near_m", type=click.FloatRange(min=0), default=None, metavar="METRES",
              help="Measure the distance and direction to the nearest zone of each class a site lies outside, "
              "and flag sites within METRES of one (columns nearest_zones, nearest_zone_m, near_zone).")
@click.option("--against", "against", metavar="OLD_PACK", default=None,
              help="Also check against an older pack (directory or DSN), or compare with an earlier result "
                   "file of zoning check (.csv or .gpkg): columns 变化/changed, 变化原因/change_cause "
              "(the layer feature, rule or quota figure behind each difference), verdict_before, zone_ids_before.")
@options.lang_opt
def check(
    sites,
    pack,
    crs,
    order,
    on_date,
    out_dir,
    out_files,
    fmts,
    report_volume,
    fail_on,
    fields,
    attrs,
    layer_name,
    sheet,
    encoding,
    chunksize,
    progress,
    engine,
    workers,
    scheduler,
    overwrite,
    pieces,
    pieces_fmts,
    near_m,
    against,
    lang,
) -> None:
    """Check every site in SITES against the control zones and planning extents.

    SITES is a CSV (UTF-8, BOM or GBK), an Excel .xlsx (title rows and merged cells
    are fine), a GeoJSON / GeoPackage / shapefile of points or red-line polygons, a
    界址点坐标 text file, or a folder of such files. Headers such as 项目名称, 经度,
    纬度, 建设性质, 行业类别, 总投资(万元), 用地面积(亩), 用地类别 are recognised;
    --field overrides.

    Every input row gives one output row, in input order, with its row number, the
    zones it touches (ha, 亩, % of the site), county, 中心城市规划区 / 中心城区, the
    verdict and the articles that produced it, the accuracy of the layers it rests on
    and a status (ok, or the exact problem with that row).

    Exit codes: 0 done; 1 a file or data problem; 2 a usage problem (bad option, unknown
    CRS); 3 with --fail-on when at least one site reaches that verdict.

    \b
    Examples:
      zoning check sites.xlsx --out results --format csv,xlsx,gpkg,html
      zoning check 红线.shp -o 核查.xlsx --set construction=新建 --set discharges_pollutants=是
      zoning check 界址点/ --out results --fail-on prohibited
      zoning check points.csv --crs gcj02 --field lon=lng --field lat=lat -o out.csv
      zoning check big.csv --engine dask --workers 4 --out results --format csv,gpkg
      zoning check "postgresql://user@host/db?table=parcels" --pack postgresql://user@host/db
    """
    from zoning.check import build_context
    from zoning.core.context import freeze_loaded
    from zoning.core.errors import UsageError
    from zoning.core.postgis import is_dsn

    _refuse_early(sites, fmts, pieces, pieces_fmts, out_dir, out_files, overwrite, engine, scheduler)
    ctx = build_context(pack, project_defaults=attrs, on_date=on_date.date() if on_date else None, near_m=near_m)
    earlier = _Against.of(against, ctx, attrs, near_m, in_process=engine != "dask" and not is_dsn(sites))
    freeze_loaded()  # the contexts live to the end of the command: out of the collector's reach
    if is_dsn(sites):
        if engine not in (None, "postgis"):
            raise UsageError("a postgresql:// SITES table is checked in the database (--engine postgis)")
        from zoning.engines import check_in_database

        res = check_in_database(sites, context=ctx)
        click.echo(f"{res.n_sites} sites checked in the database -> table {res.table} (key {res.key})")
        click.echo(", ".join(f"{k} {v}" for k, v in res.verdict_counts.items()))
        return
    if engine == "postgis":
        raise UsageError("--engine postgis needs SITES as postgresql://...?table=NAME")
    sites_path = Path(sites)
    show = sys.stderr.isatty() if progress is None else progress
    sinks = _Sinks.of(ctx, sites_path, out_dir, out_files, fmts, report_volume, pieces, pieces_fmts, lang, show)
    read = dict(crs=crs, order=order, fields=fields, layer=layer_name, sheet=sheet, encoding=encoding, chunksize=chunksize)
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(unit=" sites", desc="check", file=sys.stderr, leave=False)
    try:
        if engine == "dask":
            from zoning.engines import iter_check_dask

            for res in iter_check_dask(sites_path, context=ctx, workers=workers, scheduler=scheduler, **read):
                if bar is not None:
                    bar.update(len(res))
                sinks.write(earlier.compare(None, res, ctx, lang))  # an earlier result file, if any
        else:
            from zoning.check import check_sites
            from zoning.inputs.sites import iter_sites

            for chunk in iter_sites(sites_path, **read):  # the input chunk too: --against re-checks it
                sinks.write(earlier.compare(chunk, check_sites(chunk, context=ctx, progress=bar), ctx, lang))
        written = sinks.close()
    except BaseException:
        sinks.abort()
        raise
    finally:
        if bar is not None:
            bar.close()
    _say(ctx, sinks, written, earlier, lang)
    if fail_on:
        hit = sum(sinks.results.verdict_counts.get(v, 0) for v in _FAIL_ON[fail_on])
        if hit:
            click.echo(f"--fail-on {fail_on}: {hit} 个项目达到该结论" if lang == "zh"
                       else f"--fail-on {fail_on}: {hit} site(s) reach it", err=True)
            click.get_current_context().exit(EXIT_FAIL_ON)


def _refuse_early(sites, fmts, pieces, pieces_fmts, out_dir, out_files, overwrite, engine, scheduler) -> None:
    """Everything that can be refused before the pack is read: the extras a format needs,
    the input, the output folder and files, the dask scheduler."""
    from zoning.core.postgis import is_dsn

    if {"docx", "pdf"} & set(fmts or ()):
        options.require_extra("report")
    if (pieces and "dxf" in pieces_fmts) or str(sites).lower().endswith(".dxf"):
        options.require_extra("cad")
    if not is_dsn(sites):
        sites_path = Path(sites)
        if not sites_path.exists() and not sites_path.is_symlink():
            raise click.BadParameter(f"{sites}: no such file or folder", param_hint="SITES")
        options.regular_file(sites_path, "SITES", dir_ok=True)
        if out_dir is not None:
            options.writable_dir(out_dir, "--out")
        from zoning.outputs.reports import guard_outputs

        guard_outputs(out_files, [sites_path])  # an input is never an output, whatever --overwrite says
        for f in out_files:
            options.output_file(f, "-o", overwrite=overwrite)
    if engine == "dask" and scheduler:
        _check_scheduler(scheduler)


@dataclass
class _Against:
    """``--against``: an earlier result file of zoning check (``earlier``), or another pack
    (``old`` and the ``diff`` of the two), each chunk's answers compared with it."""

    name: str | None = None
    earlier: Any = None
    old: Any = None
    diff: Any = None
    changed: int = 0

    @classmethod
    def of(cls, against: str | None, ctx: Any, attrs: dict, near_m: float | None, *, in_process: bool) -> _Against:
        if against is None:
            return cls()
        if Path(against).is_file():
            from zoning.versions.recheck import read_results

            return cls(against, earlier=read_results(against))
        if not in_process:
            from zoning.core.errors import UsageError

            raise UsageError("--against re-checks in process: give a sites file, without --engine dask")
        from zoning.check import build_context
        from zoning.versions.diff import diff_packs

        old = build_context(against, project_defaults=attrs, on_date=ctx.on_date, near_m=near_m)
        return cls(against, old=old, diff=diff_packs(old.pack, ctx.pack))

    def compare(self, chunk: Any, checked: Any, ctx: Any, lang: str) -> Any:
        """The chunk's results, with what changed and why when there is something to compare with."""
        if self.old is not None:
            from zoning.versions.recheck import recheck_sites

            checked = recheck_sites(chunk, new=ctx, old=self.old, diff=self.diff, new_results=checked, lang=lang)
        elif self.earlier is not None:
            from zoning.versions.recheck import against_results

            checked = against_results(self.earlier, checked, lang=lang)
        else:
            return checked
        self.changed += int(checked["changed"].sum())
        return checked

    def summary(self, n: int, lang: str) -> str | None:
        if self.name is None:
            return None
        what = f"{self.name} ({self.diff.old.label})" if self.diff is not None else self.name
        return (f"与 {what} 相比: 变化 {self.changed} 个, 未变化 {n - self.changed} 个" if lang == "zh"
                else f"against {what}: {self.changed} changed, {n - self.changed} unchanged")


@dataclass
class _Sinks:
    """Where each checked chunk goes: the result files, the 压占 pieces and the review reports."""

    results: Any
    pieces: Any = None
    reviews: Any = None

    @classmethod
    def of(cls, ctx: Any, sites: Path, out_dir: str | None, out_files: tuple[str, ...], fmts: list[str] | None,
           volume: bool, pieces: bool, pieces_fmts: list[str], lang: str, show: bool) -> _Sinks:
        from zoning.outputs.reports import ResultWriter
        from zoning.outputs.review import REVIEW_FORMATS, ReviewWriter, review_targets

        review = review_targets(sites, out_dir, out_files, fmts, volume=volume)
        if review is not None:  # the review report's formats are written by its own writer
            out_files = tuple(f for f in out_files if Path(f).suffix.lower().lstrip(".") not in REVIEW_FORMATS)
            fmts = [f for f in fmts if f not in REVIEW_FORMATS] if fmts else fmts
        outputs = {} if review is not None and not out_files and not fmts else _outputs(sites, out_dir, out_files, fmts)
        sinks = cls(ResultWriter(outputs, lang=lang, context=ctx, inputs=[sites]))
        if pieces:  # the overlap pieces and the remainder (zoning.outputs.pieces), beside the results
            from zoning.outputs.pieces import PiecesWriter, pieces_outputs

            stem = sites.stem if sites.is_file() else sites.name
            sinks.pieces = PiecesWriter(pieces_outputs(outputs, stem, pieces_fmts), ctx, lang)
        if review is not None:  # the review reports (zoning.outputs.review), from the same result rows
            sinks.reviews = ReviewWriter(ctx, lang=lang, inputs=[sites], progress=show, **review)
        return sinks

    def write(self, res: Any) -> None:
        for sink in (self.results, self.pieces, self.reviews):
            if sink is not None:
                sink.write(res)

    def close(self) -> dict[str, Path]:
        written = self.results.close()
        if self.pieces is not None:
            written.update({f"pieces {k}": v for k, v in self.pieces.close().items()})
        if self.reviews is not None:
            self.reviews.close()
        return written

    def abort(self) -> None:
        for sink in (self.results, self.reviews, self.pieces):
            if sink is not None:
                sink.abort()


def _say(ctx: Any, sinks: _Sinks, written: dict[str, Path], against: _Against, lang: str) -> None:
    """What the run gives: the count per verdict, what changed, the demonstration warning,
    the files written and the review reports."""
    from zoning.outputs.reports import verdict_label

    zh = lang == "zh"
    w = sinks.results
    summary = ", ".join(f"{verdict_label(v, lang)} {w.verdict_counts[v]}" for v in vocab.ALL_VERDICTS
                        if v in w.verdict_counts)
    click.echo((f"{w.n_sites} 个项目: " if zh else f"{w.n_sites} sites: ") + summary)
    if (changed := against.summary(w.n_sites, lang)) is not None:
        click.echo(changed)
    if ctx.demonstration_layers:
        click.echo(("注意: 依据的 " + "、".join(ctx.demonstration_layers) + " 为演示数据, 结论不能作为审批依据") if zh else
                   ("note: " + ", ".join(ctx.demonstration_layers) + " are demonstration data; verdicts resting on "
                    "them are not for approval"))
    for fmt, path in written.items():
        click.echo(f"  {fmt}: {path}")
    if sinks.reviews is not None:
        click.echo(f"  {'审查报告' if zh else 'review reports'}: {len(sinks.reviews.written)} -> {sinks.reviews.where()}")
        for key, err in sinks.reviews.failures:
            click.echo(f"  {'审查报告未能生成' if zh else 'review report failed'}: {key}: {err}", err=True)
    if getattr(w, "map_note", None):
        click.echo(f"  html: {w.map_note}")

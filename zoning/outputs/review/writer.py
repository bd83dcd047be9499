"""Write review reports for a batch: one Word/PDF document per site, or one volume.

:class:`ReviewWriter` takes result chunks as :class:`zoning.outputs.reports.ResultWriter`
does (the same rows the CSV gets), builds each site's :class:`Review` in the parent and
renders the documents (site map, Word, PDF) in worker processes, a bounded number at a
time, so memory stays flat on large batches. A site whose document fails gets its error
recorded in :attr:`ReviewWriter.failures`; the others are written. Each file is written
under a temporary name and renamed into place when complete.
"""

from __future__ import annotations

import os
import re
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoning.core import vocab

if TYPE_CHECKING:
    import geopandas as gpd

    from zoning.check import CheckContext
    from zoning.core.context import PackContext
    from zoning.outputs.review.content import Review

__all__ = ["REVIEW_FORMATS", "ReviewWriter", "render_site", "review_targets", "site_filename", "write_point_review"]

#: The report formats.
REVIEW_FORMATS: tuple[str, ...] = ("docx", "pdf")

_CTX: PackContext | None = None  # the pack context of a worker process


def _init_worker(context: PackContext) -> None:
    global _CTX
    _CTX = context


def site_filename(row: Any, site_id: Any, name: Any) -> str:
    """A file name (no suffix) for a site's report: its row and its id or name, made safe."""
    label = next((str(v) for v in (site_id, name) if v is not None and str(v).strip() and str(v) != "nan"), "")
    label = re.sub(r"[^\w\-]+", "_", label, flags=re.UNICODE).strip("._")[:40]
    try:
        num = f"{int(float(row)):05d}"
    except (TypeError, ValueError):
        num = "00000"
    return f"{num}_{label}" if label else num


def review_targets(
    sites: Path,
    out_dir: str | Path | None,
    files: tuple[str, ...] | list[str],
    fmts: list[str] | None,
    *,
    volume: bool = False,
) -> dict[str, Any] | None:
    """Where the review reports of ``zoning check`` go, as keywords of :class:`ReviewWriter`
    (``formats`` and ``out_dir`` = DIR/<SITES>_review, or ``volume`` = {format: file}), or
    None when no report is asked for.

    Raises
    ------
    UsageError
        A report format with nowhere to go, or ``--report-volume`` without a report format.
    """
    from zoning.core.errors import UsageError
    from zoning.outputs.formats import files_missing

    asked = [f for f in fmts or [] if f in REVIEW_FORMATS]
    volume_files = {
        Path(f).suffix.lower().lstrip("."): Path(f)
        for f in files
        if Path(f).suffix.lower().lstrip(".") in REVIEW_FORMATS
    }
    if not asked and not volume_files:
        if volume:
            raise UsageError("--report-volume needs --format docx and/or pdf (or -o FILE.docx / FILE.pdf)")
        return None
    stem = sites.stem if sites.is_file() else sites.name
    formats = tuple(dict.fromkeys([*asked, *volume_files]))
    if volume_files or volume:
        missing = [f for f in asked if f not in volume_files]
        if not out_dir:
            files_missing(missing)
        for f in missing:
            volume_files[f] = Path(out_dir or ".") / f"{stem}_review.{f}"
        return {"formats": formats, "volume": volume_files}
    if not out_dir:
        raise UsageError(
            f"--format {','.join(asked)} writes one report per site: give --out DIR "
            "(or --report-volume with -o FILE.docx / FILE.pdf)"
        )
    return {"formats": formats, "out_dir": Path(out_dir) / f"{stem}_review"}


def write_point_review(
    x: float | str,
    y: float | str,
    crs: str | int | None = None,
    *,
    fmt: str | None,
    path: str | Path | None,
    order: str = "xy",
    pack: Any = None,
    project: dict[str, Any] | None = None,
    on_date: Any = None,
    lang: str = "zh",
    overwrite: bool = False,
) -> Path:
    """The review report of one point (``zoning query X Y --format docx|pdf -o FILE``): the
    point is checked as a site (the same answer as ``zoning check``) and its report written.

    Raises
    ------
    UsageError
        No ``path``, a format that is not docx/pdf, or an existing file without ``overwrite``.
    """
    import geopandas as gpd
    from shapely.geometry import Point

    from zoning.check import build_context, check_sites
    from zoning.core.coords import parse_point
    from zoning.core.errors import UsageError
    from zoning.core.provenance import provenance
    from zoning.outputs.review.content import build_reviews

    if not path:
        raise UsageError(f"--format {fmt} writes a report file: give -o FILE.{fmt if fmt in REVIEW_FORMATS else 'pdf'}")
    out = Path(path)
    suffix = out.suffix.lower().lstrip(".")
    fmt = fmt if fmt in REVIEW_FORMATS else suffix
    if fmt not in REVIEW_FORMATS:
        raise UsageError(f"-o {out}: a report is .docx or .pdf (or give --format docx|pdf)")
    if out.is_dir():
        raise UsageError(f"-o {out} is a folder; expected a file name")
    if out.exists() and not overwrite:
        raise UsageError(f"-o {out} exists; pass --overwrite to replace it")
    parsed = parse_point(x, y, crs, order=order, check_city=False)  # type: ignore[arg-type]
    text = f"{x} {y} ({parsed.input_crs}, order {order})"
    zh = lang == "zh"
    gdf = gpd.GeoDataFrame(
        {
            "source": [("查询点 " if zh else "query point ") + text],
            "row": [1],
            "site_name": [f"{'查询点' if zh else 'query point'} {parsed.lon:.6f}, {parsed.lat:.6f}"],
        },
        geometry=[Point(parsed.lon, parsed.lat)],
        crs="EPSG:4490",
    )
    ctx = build_context(pack, project_defaults=project, on_date=on_date)
    res = check_sites(gdf, context=ctx)
    prov = provenance(ctx.context, on_date=ctx.on_date, input_text=text)
    rv = build_reviews(ctx, res, prov, lang=lang)[0]
    out.parent.mkdir(parents=True, exist_ok=True)
    render_site(rv, {fmt: out}, ctx.context)
    return out


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")


def _map(context: PackContext, rv: Review) -> bytes | None:
    from zoning.outputs.review.sitemap import render_site_map

    if rv.geometry is None or getattr(rv.geometry, "is_empty", True):
        return None
    return render_site_map(context, rv)


def render_site(rv: Review, paths: dict[str, Path], context: PackContext | None = None) -> list[Path]:
    """Render one site's report to each ``{format: path}`` (atomically)."""
    from zoning.outputs.review.pdf import write_pdf
    from zoning.outputs.review.word import write_docx

    ctx = context or _CTX
    assert ctx is not None, "render_site needs a pack context"
    png = _map(ctx, rv)
    done = []
    for fmt, path in paths.items():
        tmp = _tmp(path)
        try:
            (write_docx if fmt == "docx" else write_pdf)([rv], [png], tmp)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        done.append(path)
    return done


def _render_map(rv: Review) -> bytes | None:
    assert _CTX is not None
    return _map(_CTX, rv)


def _safe_render_site(rv: Review, paths: dict[str, Path]) -> tuple[list[Path], str | None]:
    try:
        return render_site(rv, paths), None
    except Exception as exc:  # noqa: BLE001 - one site's failure is reported, the batch goes on
        return [], f"{type(exc).__name__}: {exc}"


@dataclass
class ReviewWriter:
    """Review reports for the sites of a check, chunk by chunk.

    Parameters
    ----------
    context
        The check run (:func:`zoning.check.build_context`).
    formats
        Any of :data:`REVIEW_FORMATS`.
    out_dir
        Per-site documents go to ``out_dir/<row>_<id or name>.<format>``.
    volume
        ``{format: path}``: one document for the whole batch instead, with a summary table first.
    inputs
        The input file (its SHA-256 goes into the provenance); ``input_text`` for a typed-in point.
    workers
        Processes that render documents (default: the CPU count, at most 4; 1 renders in-process).
    progress
        Show a progress bar of documents on standard error.
    """

    context: CheckContext
    formats: tuple[str, ...] = REVIEW_FORMATS
    out_dir: Path | None = None
    volume: dict[str, Path] | None = None
    lang: str = "zh"
    inputs: list[Path] = field(default_factory=list)
    input_text: str | None = None
    workers: int | None = None
    progress: bool = False
    overwrite: bool = True
    written: list[Path] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    n_sites: int = 0
    _pool: Any = field(default=None, repr=False)
    _pending: dict = field(default_factory=dict, repr=False)
    _volume_items: list = field(default_factory=list, repr=False)
    _bar: Any = field(default=None, repr=False)
    _prov: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        from zoning.core.provenance import provenance

        bad = [f for f in self.formats if f not in REVIEW_FORMATS]
        if bad:
            from zoning.core.errors import UsageError

            msg = f"unknown report format(s) {', '.join(bad)}; expected {', '.join(REVIEW_FORMATS)}"
            raise UsageError(msg)
        if self.volume is None and self.out_dir is None:
            from zoning.core.errors import UsageError

            raise UsageError("review reports need a folder (out_dir) or volume files")
        if self.out_dir is not None:
            self.out_dir = Path(self.out_dir)
            self.out_dir.mkdir(parents=True, exist_ok=True)
        first = self.inputs[0] if self.inputs else None
        self._prov = provenance(
            self.context.context, on_date=self.context.on_date, input_file=first, input_text=self.input_text
        )
        if self.workers is None:
            self.workers = max(1, min(4, os.cpu_count() or 1))
        if self.progress:
            from tqdm import tqdm

            self._bar = tqdm(unit=" reports", desc="reports", file=sys.stderr, leave=False)

    # ---------------------------------------------------------------- chunks
    def _reviews(self, results: gpd.GeoDataFrame) -> list[Review]:
        from zoning.outputs.review.content import build_reviews

        return build_reviews(self.context, results, self._prov, lang=self.lang, errors=self.failures)

    def _ensure_pool(self) -> Any:
        if self._pool is None and (self.workers or 1) > 1:
            import multiprocessing as mp

            method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=mp.get_context(method),
                initializer=_init_worker,
                initargs=(self.context.context,),
            )
        return self._pool

    def _collect(self, done: set[Future]) -> None:
        for fut in done:
            key = self._pending.pop(fut)
            paths, err = fut.result()
            if err:
                self.failures.append((key, err))
            self.written.extend(paths)
            if self._bar is not None:
                self._bar.update(1)

    def write(self, results: gpd.GeoDataFrame) -> None:
        """Add one chunk of check results."""
        reviews = self._reviews(results)
        self.n_sites += len(reviews)
        if self.volume is not None:
            self._volume_items.extend(reviews)
            return
        assert self.out_dir is not None
        pool = self._ensure_pool() if self.n_sites > 2 else None
        for rv in reviews:
            stem = site_filename(rv.summary.get("row"), rv.summary.get("site_id"), rv.summary.get("name"))
            paths = {fmt: self.out_dir / f"{stem}.{fmt}" for fmt in self.formats}
            key = f"{rv.summary.get('row')} {rv.site_label}"
            if pool is None:
                written, err = [], None
                try:
                    written = render_site(rv, paths, self.context.context)
                except Exception as exc:  # noqa: BLE001 - reported per site
                    err = f"{type(exc).__name__}: {exc}"
                if err:
                    self.failures.append((key, err))
                self.written.extend(written)
                if self._bar is not None:
                    self._bar.update(1)
                continue
            while len(self._pending) >= 4 * (self.workers or 1):
                done, _ = wait(list(self._pending), return_when=FIRST_COMPLETED)
                self._collect(done)
            self._pending[pool.submit(_safe_render_site, rv, paths)] = key

    def close(self) -> list[Path]:
        """Finish every document (and the volume); the paths written."""
        try:
            if self._pending:
                done, _ = wait(list(self._pending))
                self._collect(done)
            if self.volume is not None:
                self._write_volume()
        finally:
            self._shutdown()
        return self.written

    def abort(self) -> None:
        """Stop the workers; documents already complete stay."""
        for fut in list(self._pending):
            fut.cancel()
        self._pending.clear()
        self._shutdown()

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def where(self) -> str:
        """The folder of the per-site documents, or the volume files."""
        if self.volume is not None:
            return ", ".join(str(p) for p in self.volume.values())
        return str(self.out_dir)

    # ---------------------------------------------------------------- volume
    def _summary(self) -> tuple[list[str], list[list[str]], str]:
        zh = self.lang == "zh"
        header = (
            ["行号", "编号", "项目名称", "所在县", "用地面积(公顷)", "审查结论", "报告编号"]
            if zh
            else ["Row", "Id", "Project", "County", "Area (ha)", "Verdict", "Report no."]
        )
        rows = [
            [
                rv.summary["row"],
                rv.summary["site_id"],
                rv.site_label,
                rv.summary["county"],
                rv.summary["area"],
                rv.verdict_label,
                rv.number,
            ]
            for rv in self._volume_items
        ]
        counts: dict[str, int] = {}
        for rv in self._volume_items:
            counts[rv.verdict] = counts.get(rv.verdict, 0) + 1
        tally = ", ".join(f"{vocab.verdict_label(v, self.lang)} {counts[v]}" for v in vocab.ALL_VERDICTS if v in counts)
        title = (
            f"建设项目用地合规性审查报告汇编 ({len(rows)} 个项目: {tally})"
            if zh
            else f"Compliance reviews of construction-project sites ({len(rows)} sites: {tally})"
        )
        return header, rows, title

    def _write_volume(self) -> None:
        from zoning.outputs.review.pdf import write_pdf
        from zoning.outputs.review.word import write_docx

        items = self._volume_items
        pool = self._ensure_pool() if len(items) > 2 else None
        if pool is not None:
            maps = list(pool.map(_render_map, items, chunksize=4))
        else:
            maps = [_map(self.context.context, rv) for rv in items]
        if self._bar is not None:
            self._bar.update(len(items))
        summary = self._summary()
        assert self.volume is not None
        for fmt, path in self.volume.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = _tmp(path)
            try:
                (write_docx if fmt == "docx" else write_pdf)(items, maps, tmp, summary=summary)
                os.replace(tmp, path)
            finally:
                if tmp.exists():
                    tmp.unlink()
            self.written.append(path)

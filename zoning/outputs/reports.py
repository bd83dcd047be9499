"""Writers for batch-check results: CSV, Excel, GeoPackage and an HTML report.

Every file is written to a temporary name beside its target and renamed into place
when complete (an interrupted run leaves no half file), and no writer ever replaces a
file that was an input of the run (:func:`guard_outputs`).

* CSV: UTF-8 with a byte-order mark, so Excel shows the Chinese; headers in the
  chosen language (:data:`COLUMN_LABELS`).
* Excel (xlsxwriter in constant-memory mode when installed, else openpyxl write-only;
  see benchmarks/results/check.md): sheet 结果/results (readable headers, frozen
  header row, verdict colours), 按县汇总/by county (county × verdict), 供地计划/quota,
  说明/about (pack, date, layers and their accuracy, the demonstration warning).
* GeoPackage: one layer ``sites`` in EPSG:4490 with every result field under its
  English name, plus ``verdict_label``.
* HTML: header (pack, date, accuracy warning), summary tables and, when
  :mod:`zoning.maps` is available, the interactive map with the sites.

:class:`ResultWriter` takes results chunk by chunk (bounded memory); :func:`write_results`
writes a whole GeoDataFrame.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zoning.core import vocab
from zoning.core.errors import InputFileError
from zoning.core.layers import ACCURACY_LABELS
from zoning.core.vocab import NOT_CHECKED, VERDICT_LABELS

#: A text cell that starts with one of these is run by spreadsheets as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(text: pd.Series) -> pd.Series:
    """Text cells a spreadsheet would run as formulas, made inert (OWASP, CSV injection):
    a cell that starts with ``= + - @``, a tab or a carriage return and is not a number
    gets a leading apostrophe, which Excel and LibreOffice show as text."""
    s = text.astype("string")
    risky = s.str.startswith(FORMULA_STARTS).fillna(False)
    if risky.any():
        numeric = pd.to_numeric(s[risky], errors="coerce").notna()
        idx = risky[risky].index[~numeric.to_numpy()]
        s.loc[idx] = "'" + s.loc[idx]
    return s


def _text_array(col: pd.Series, *, known: bool = False, shared: dict[str, Any] | None = None) -> Any:
    """A column as Arrow text (None where empty). ``known``: a result column that holds text
    already; other columns (the input's) may hold numbers or anything, shown as text.

    ``shared``: the arrays of one chunk's columns by name, so that the CSV and the
    GeoPackage convert each text column once (only a clean conversion is shared: a column
    that needed its values made text is converted again, so ``known`` still raises)."""
    import pyarrow as pa

    name = str(col.name)
    if shared is not None and name in shared:
        return shared[name]
    if isinstance(col.dtype, pd.StringDtype):  # already Arrow-backed (or pandas' own strings): no round trip
        arr = pa.array(col.array)
        arr = arr.cast(pa.string()) if arr.type != pa.string() else arr
    else:
        values = col.to_numpy(dtype=object)
        try:
            arr = pa.array(values, type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            if known:
                raise
            return pa.array([None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values],
                            type=pa.string())
    if shared is not None:
        shared[name] = arr
    return arr


def _csv_array(col: pd.Series, shared: dict[str, Any] | None = None) -> Any:
    """A column as the CSV prints it, in Arrow: numbers as numbers, anything else as text
    with formula-like cells neutralised (:func:`neutralise_formulas`, found in Arrow)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pd.api.types.is_float_dtype(col) or pd.api.types.is_integer_dtype(col):
        return pa.array(col.to_numpy(), from_pandas=True)
    arr = _text_array(col, shared=shared)
    # a cell's first character among FORMULA_STARTS (twice as fast as a regular expression)
    risky = pc.fill_null(pc.is_in(pc.utf8_slice_codeunits(arr, 0, 1), value_set=_formula_starts()), False)
    if pc.any(risky).as_py():
        idx = np.flatnonzero(risky.to_numpy(zero_copy_only=False))
        values = arr.to_pylist()
        for k, v in zip(idx, neutralise_formulas(pd.Series([values[k] for k in idx], dtype=object))):
            values[k] = v
        arr = pa.array(values, type=pa.string())
    return arr


@lru_cache(maxsize=1)
def _formula_starts() -> Any:
    import pyarrow as pa

    return pa.array(FORMULA_STARTS, type=pa.string())


if TYPE_CHECKING:
    import geopandas as gpd

    from zoning.check import CheckContext
    from zoning.core.vocab import Lang

__all__ = ["COLUMN_LABELS", "FORMATS", "GpkgFeed", "ResultWriter", "guard_outputs", "unsynced_sqlite", "verdict_label",
           "wkb_array", "write_results"]

FORMATS: tuple[str, ...] = ("csv", "xlsx", "gpkg", "html")

from zoning.check import RESULT_LABELS as COLUMN_LABELS  # noqa: E402  (re-exported)


def _labels() -> dict[str, tuple[str, str]]:
    from zoning.core.rules import PROJECT_ATTRIBUTES

    out = dict(COLUMN_LABELS)
    for name, spec in PROJECT_ATTRIBUTES.items():
        out.setdefault(name, (spec.zh, spec.en))
    return out


verdict_label = vocab.verdict_label


def guard_outputs(outputs: Iterable[str | Path], inputs: Iterable[str | Path]) -> None:
    """Refuse any output path that is (or resolves to) an input file.

    Raises
    ------
    InputFileError
        Naming the output that would overwrite an input.
    """
    ins = set()
    for p in inputs:
        p = Path(p)
        files = [p] if not p.is_dir() else [q for q in p.iterdir() if q.is_file()]
        for f in files:
            ins.add(f.resolve())
            for sib in (".dbf", ".shx", ".prj", ".cpg"):
                if f.suffix.lower() == ".shp":
                    ins.add(f.with_suffix(sib).resolve())
    for o in outputs:
        if Path(o).resolve() in ins:
            msg = f"output {o} is an input file of this run: choose another --out/-o"
            raise InputFileError(msg)


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")


def _relabel(col: pd.Series, label_of: Any, empty: str | None = None) -> pd.Series:
    """Values replaced by their labels, computed once per distinct value (a column of
    100,000 verdicts has six); empty cells get ``empty``."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    table = np.array([label_of(u) for u in uniques] + [empty], dtype=object)
    return pd.Series(table[codes], index=col.index, dtype=object)


def _display_columns(results: pd.DataFrame, lang: str) -> tuple[list[str], list[str], dict[str, pd.Series]]:
    """What a reader sees of the result columns (no geometry): their names, their headers in
    ``lang``, and the columns whose values are shown as labels (verdicts, statuses,
    accuracy, yes/no), relabelled; the other columns are shown as they are."""
    i = 0 if lang == "zh" else 1
    geom = results.geometry.name if hasattr(results, "geometry") else None
    names = [c for c in results.columns if c != geom]
    relabelled: dict[str, pd.Series] = {}

    def relabel(c: str, label_of: Any, empty: str | None = None) -> None:
        if c in names:
            relabelled[c] = _relabel(results[c], label_of, empty)

    for c in ("verdict", *(f"verdict_{s}" for s in vocab.SUBJECTS), "verdict_before"):
        relabel(c, lambda v: verdict_label(v, lang), verdict_label(NOT_CHECKED, lang) if c == "verdict" else None)
    relabel("status_code", lambda v: vocab.STATUS_CODES.get(v, (v, v))[i])
    relabel("basis_accuracy", lambda v: ACCURACY_LABELS.get(v, (v, v))[i])
    yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
    membership = {m: vocab.label(pair, lang) for m, pair in vocab.MEMBERSHIP_LABELS.items()}
    for c in ("in_planning_area", "in_central_city"):
        relabel(c, lambda v: membership.get(v, v) if isinstance(v, str) else (yes if v else no))
    for c in ("demonstration_basis", "changed"):
        relabel(c, lambda v: yes if v else no)
    labels = {**_labels(), **results.attrs.get("column_labels", {})}
    headers = [labels[c][i] if c in labels else str(c) for c in names]
    return names, headers, relabelled


def _display_frame(results: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Result columns (no geometry) with labelled verdict/status/accuracy values and headers."""
    names, headers, relabelled = _display_columns(results, lang)
    df = pd.DataFrame(results[names])
    for c, col in relabelled.items():
        df[c] = col
    df.columns = headers
    return df


def _csv_table(results: pd.DataFrame, lang: str, shared: dict[str, Any] | None = None) -> Any:
    """The CSV's rows of a chunk as an Arrow table, column by column from the results (no
    display frame is built: copying 50 text columns into one cost more than writing them);
    the columns shown as they are share their text with the GeoPackage through ``shared``."""
    import pyarrow as pa

    names, headers, relabelled = _display_columns(results, lang)
    arrays = [_csv_array(relabelled[c]) if c in relabelled else _csv_array(results[c], shared) for c in names]
    return pa.table(arrays, names=headers)


def _demo_warning(ctx: CheckContext | None, lang: str) -> str | None:
    """The warning a report gives when a layer it rests on is demonstration data (None: none is)."""
    demo = ctx.demonstration_layers if ctx is not None else []
    if not demo:
        return None
    return (("注意: 图层 " + "、".join(demo) + " 为演示数据(非官方范围), 依据这些图层得出的结论仅供演示, "
             "不能作为审批依据; 请导入官方图层后重新核查。") if lang == "zh" else
            ("WARNING: layers " + ", ".join(demo) + " are demonstration data (not official outlines): "
             "verdicts that rest on them are for demonstration only and must not be used for approval; "
             "import the official layers and check again."))


def _header_lines(ctx: CheckContext | None, lang: str, notes: list[str],
                  prov: dict[str, str] | None = None, *, warning: bool = True) -> list[str]:
    """A report's header: provenance, the pack and its layers (each with its accuracy in words,
    as the map and the review say it), the demonstration warning (unless ``warning`` is False:
    the HTML report shows it apart), the project defaults and the notes."""
    zh = lang == "zh"
    lines = []
    if prov:  # where the answers come from (zoning.core.provenance)
        from zoning.core.provenance import provenance_lines

        lines.extend(provenance_lines(prov, lang))
    if ctx is not None:
        lines.append(f"图层包: {ctx.pack.title} ({ctx.pack.name}); 规则评价日期: {ctx.on_date.isoformat()}" if zh else
                     f"Layer pack: {ctx.pack.title} ({ctx.pack.name}); rules evaluated for {ctx.on_date.isoformat()}")
        for u in ctx.layers_used:
            acc = vocab.layer_accuracy_label(u.accuracy, lang, u.positional_accuracy_m)
            lines.append(f"  - {u.name} [{acc}] {u.source}")
        demo_warning = _demo_warning(ctx, lang)
        if warning and demo_warning:
            lines.append(demo_warning)
        if ctx.defaults:
            lines.append(("统一项目属性: " if zh else "Project attributes for every site: ")
                         + ", ".join(f"{k}={v}" for k, v in ctx.defaults.items()))
    lines.extend(notes)
    return lines


@dataclass
class ResultWriter:
    """Write results chunk by chunk to any of csv, xlsx, gpkg, html; atomic on :meth:`close`.

    Parameters
    ----------
    outputs
        ``{format: path}``.
    lang
        ``zh`` or ``en`` for headers and labels.
    context
        The :class:`zoning.check.CheckContext` of the run (header, quota, accuracy).
    inputs
        Input paths, never overwritten.
    xlsx_engine
        ``"xlsxwriter"``, ``"openpyxl"`` or ``None`` (xlsxwriter if installed).
    html_max_sites
        Most sites drawn on the HTML map and listed in its table (strongest verdicts first).
    """

    outputs: dict[str, Path]
    lang: str = "zh"
    context: Any = None
    inputs: list[Path] = field(default_factory=list)
    xlsx_engine: str | None = None
    html_max_sites: int = 2_000
    notes: list[str] = field(default_factory=list)
    _tmps: dict[str, Path] = field(default_factory=dict, repr=False)
    _csv: Any = field(default=None, repr=False)
    #: the CSV rows of the last chunk being written by a thread (Arrow's writer runs without the GIL)
    _csv_pending: Any = field(default=None, repr=False)
    _csv_thread: Any = field(default=None, repr=False)
    _xlsx: Any = field(default=None, repr=False)
    _gpkg_feed: Any = field(default=None, repr=False)
    _gpkg_type: str = field(default="Unknown", repr=False)
    _tally: Any = field(default=None, repr=False)
    _html_sites: list = field(default_factory=list, repr=False)
    n_sites: int = 0
    verdict_counts: dict[str, int] = field(default_factory=dict)
    _xlsx_rows_in_sheet: int = field(default=0, repr=False)
    _xlsx_sheets: int = field(default=1, repr=False)
    _xlsx_cut: int = field(default=0, repr=False)
    _xlsx_header: Any = field(default=None, repr=False)
    _columns: list[str] | None = field(default=None, repr=False)
    #: where the answers come from (:func:`zoning.core.provenance.provenance`); computed from the context
    provenance: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.provenance is None and self.context is not None:
            from zoning.core.provenance import provenance

            ins = [Path(p) for p in self.inputs if Path(p).exists()]
            self.provenance = provenance(self.context, on_date=getattr(self.context, "on_date", None),
                                         input_file=ins[0] if len(ins) == 1 else None)
        unknown = set(self.outputs) - set(FORMATS)
        if unknown:
            msg = f"unknown output format(s) {', '.join(sorted(unknown))}; expected {', '.join(FORMATS)}"
            raise InputFileError(msg)
        self.outputs = {k: Path(v) for k, v in self.outputs.items()}
        guard_outputs(self.outputs.values(), self.inputs)
        for fmt, path in self.outputs.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = _tmp(path)
            if tmp.exists():
                tmp.unlink()
            self._tmps[fmt] = tmp

    # ----------------------------------------------------------------- chunks
    def _conform(self, results: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The chunk in the column set fixed by the first chunk: the result columns, the
        input's known fields, its other columns, and ``other_fields`` holding, as
        ``name=value`` text, any column a later chunk (or another file) brings that the
        first did not have. Columns never shift and nothing is dropped."""
        import geopandas as gpd

        geom = results.geometry.name
        cols = [c for c in results.columns if c != geom]
        if self._columns is None:
            fixed = list(cols)
            for c in ("input_crs", "input_notes", "location", "county_declared"):
                if c not in fixed:
                    fixed.append(c)
            fixed.append(OTHER_FIELDS)
            self._columns = fixed
        extra = [c for c in cols if c not in self._columns]
        out = results.reindex(columns=[*self._columns, geom])
        if extra:
            vals = results[extra].astype(object).where(results[extra].notna(), None).to_numpy()
            out[OTHER_FIELDS] = ["；".join(f"{c}={v}" for c, v in zip(extra, row) if v is not None) or None
                                 for row in vals]
        out.attrs = dict(results.attrs)
        return gpd.GeoDataFrame(out, geometry=geom, crs=results.crs)

    def write(self, results: gpd.GeoDataFrame) -> None:
        """Append one chunk of results."""
        from zoning.check import Tally

        results = self._conform(results)
        self.n_sites += len(results)
        for v, k in results["verdict"].value_counts().items():
            self.verdict_counts[v] = self.verdict_counts.get(v, 0) + int(k)
        if self._tally is None:
            self._tally = Tally()
        self._tally.add(results)
        for n in results.attrs.get("notes", []):
            if n not in self.notes:
                self.notes.append(n)
        shared: dict[str, Any] = {}  # each text column made Arrow once, for the CSV and the GeoPackage
        if "csv" in self.outputs:
            self._write_csv(results, shared)
        if "xlsx" in self.outputs:
            self._write_xlsx_rows(results)
        if "gpkg" in self.outputs:
            self._write_gpkg(results, shared)
        if "html" in self.outputs:
            self._keep_for_html(results)

    def summary(self) -> pd.DataFrame:
        from zoning.check import Tally

        return (self._tally or Tally()).summary()

    def quota(self) -> pd.DataFrame:
        from zoning.check import quota_accounting

        usage = self._tally.usage if self._tally is not None else None
        return quota_accounting(None, context=self.context,
                                usage=usage if usage is not None else pd.DataFrame(columns=["sites_ha", "sites"]))

    def close(self) -> dict[str, Path]:
        """Finish every file and move it into place; returns ``{format: path}``."""
        if "csv" in self.outputs and self._csv is not None:
            self._csv_finish()
        if "csv" in self.outputs and self._csv is None:
            self._tmps["csv"].write_bytes(b"\xef\xbb\xbf")
        if "xlsx" in self.outputs:
            self._finish_xlsx()
        if "html" in self.outputs:
            self._write_html()
        if "gpkg" in self.outputs and self._gpkg_feed is None:
            msg = "no sites to write to the GeoPackage"
            raise InputFileError(msg)
        if "gpkg" in self.outputs:
            self._gpkg_feed.close()  # the last rows, then the spatial index, once
        if "gpkg" in self.outputs and self.provenance:  # a provenance table beside the sites layer
            import pyarrow as pa
            from pyogrio.raw import write_arrow

            with unsynced_sqlite():
                write_arrow(pa.table({"key": list(self.provenance), "value": list(self.provenance.values())}),
                            self._tmps["gpkg"], layer="provenance", driver="GPKG", append=True)
        for fmt, path in self.outputs.items():
            os.replace(self._tmps[fmt], path)
        if "csv" in self.outputs and self.provenance:  # a CSV has no room for it: a record beside it
            from zoning.core.provenance import write_provenance_file

            write_provenance_file(self.outputs["csv"], self.provenance)
        return dict(self.outputs)

    def abort(self) -> None:
        """Remove the temporary files (after an error)."""
        if self._gpkg_feed is not None:
            self._gpkg_feed.abort()
        if self._csv is not None:
            try:
                self._csv_finish()
            except Exception:  # noqa: BLE001 - aborting anyway: the file is removed below
                pass
        if self._xlsx is not None:
            try:
                self._xlsx.close()
            except Exception:  # noqa: BLE001 - best effort clean-up
                pass
        for tmp in self._tmps.values():
            if tmp.exists():
                tmp.unlink()

    # ----------------------------------------------------------------- csv
    def _write_csv(self, results: gpd.GeoDataFrame, shared: dict[str, Any] | None = None) -> None:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        first = self._csv is None
        if first:  # UTF-8 with a BOM, so that Excel shows the Chinese
            # Arrow's own file, not a Python one: each write to a Python file takes the GIL,
            # which GDAL holds while it writes the GeoPackage, so the CSV waited on it
            self._csv = pa.OSFile(str(self._tmps["csv"]), "wb")
            self._csv.write(b"\xef\xbb\xbf")
        # pyarrow's writer is ~15x faster than pandas' on these wide frames, and it runs without
        # the GIL: a thread writes this chunk while the next is checked (rows stay in order:
        # a chunk starts only when the one before is written)
        table = _csv_table(results, self.lang, shared)
        self._csv_written()
        if self._csv_thread is None:
            from concurrent.futures import ThreadPoolExecutor

            self._csv_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zoning-csv")
        self._csv_pending = self._csv_thread.submit(pacsv.write_csv, table, self._csv,
                                                    pacsv.WriteOptions(include_header=first))

    def _csv_written(self) -> None:
        """Wait for the chunk the thread is writing (its error, if any, is raised here)."""
        pending, self._csv_pending = self._csv_pending, None
        if pending is not None:
            pending.result()

    def _csv_finish(self) -> None:
        """The last chunk written, the thread stopped, the file closed."""
        try:
            self._csv_written()
        finally:
            if self._csv_thread is not None:
                self._csv_thread.shutdown()
                self._csv_thread = None
            self._csv.close()

    # ----------------------------------------------------------------- gpkg
    def _write_gpkg(self, results: gpd.GeoDataFrame, shared: dict[str, Any] | None = None) -> None:
        """Append a chunk to the GeoPackage as an Arrow table of fixed field types: the
        result columns by their declared type, the input's own columns as text (a type
        guessed from one chunk could not hold the next), the verdict's label beside it."""
        import pyarrow as pa
        import shapely

        from zoning.check import BOOLEAN_COLUMNS, NUMERIC_COLUMNS, TEXT_COLUMNS

        geom_name = results.geometry.name
        labels = {v: verdict_label(v, self.lang) for v in vocab.ALL_VERDICTS}
        names: list[str] = []
        arrays: list[Any] = []
        for c in results.columns:
            if c == geom_name:
                continue
            col = results[c]
            if c in NUMERIC_COLUMNS:
                arr = pa.array(pd.to_numeric(col, errors="coerce").to_numpy(dtype=float), from_pandas=True)
            elif c in BOOLEAN_COLUMNS:
                arr = pa.array(col.astype(object).where(col.notna(), None).to_numpy(), type=pa.bool_())
            elif c == "row" and pd.api.types.is_integer_dtype(col):
                arr = pa.array(col.to_numpy())
            else:
                arr = _text_array(col, known=c in TEXT_COLUMNS, shared=shared)
            names.append(str(c))
            arrays.append(arr)
            if c == "verdict":
                names.append("verdict_label")
                arrays.append(pa.array(col.map(labels).fillna(labels[NOT_CHECKED]).to_numpy(dtype=object),
                                       type=pa.string()))
        geoms = results.geometry.to_numpy()
        if self._gpkg_feed is None:  # a typed layer where the first chunk allows (QGIS shows it as such)
            types = set(shapely.get_type_id(geoms[~shapely.is_missing(geoms)]).tolist())
            self._gpkg_type = ("Point" if types == {0} else "MultiPolygon" if types and types <= {3, 6} else "Unknown")
        names.append("geometry")
        arrays.append(wkb_array(geoms, self._gpkg_type))
        table = pa.table(arrays, names=names)
        if self._gpkg_feed is None:  # the first chunk fixes the layer's fields
            self._gpkg_feed = GpkgFeed(self._tmps["gpkg"], table.schema, self._gpkg_type)
        self._gpkg_feed.put(table)

    # ----------------------------------------------------------------- xlsx
    def _engine(self) -> str:
        if self.xlsx_engine:
            return self.xlsx_engine
        try:
            import xlsxwriter  # noqa: F401
        except ImportError:
            return "openpyxl"
        return "xlsxwriter"

    def _write_xlsx_rows(self, results: gpd.GeoDataFrame) -> None:
        """Rows into the workbook; past a sheet's row limit they continue on a new sheet, and
        text past a cell's limit is cut with a marker — both said on the notes sheet."""
        df = _display_frame(results, self.lang)
        codes = results["verdict"].to_numpy()
        zh = self.lang == "zh"
        marker = "…[截断, 全文见CSV/GeoPackage]" if zh else "…[cut; full text in the CSV/GeoPackage]"
        for i in range(df.shape[1]):
            col = df.iloc[:, i]
            if pd.api.types.is_numeric_dtype(col):
                continue
            s = col.astype("string")
            long = (s.str.len() > XLSX_MAX_CELL).fillna(False)
            if long.any():
                self._xlsx_cut += int(long.sum())
                s.loc[long] = s.loc[long].str.slice(0, XLSX_MAX_CELL - len(marker)) + marker
                df.isetitem(i, s)
        if self._xlsx is None:
            self._xlsx = (_XlsxWriterBook if self._engine() == "xlsxwriter" else _OpenpyxlBook)(self._tmps["xlsx"], self.lang)
            self._xlsx_header = (list(df.columns),
                                 list(results.columns).index("verdict") if "verdict" in results.columns else None)
            self._xlsx.header(*self._xlsx_header)
        start = 0
        while start < len(df):
            room = XLSX_MAX_ROWS - 1 - self._xlsx_rows_in_sheet
            if room <= 0:
                self._xlsx_sheets += 1
                name = f"结果 ({self._xlsx_sheets})" if zh else f"results ({self._xlsx_sheets})"
                self._xlsx.new_sheet(name, *self._xlsx_header)
                self._xlsx_rows_in_sheet = 0
                continue
            part = slice(start, start + room)
            self._xlsx.rows(df.iloc[part], codes[part])
            self._xlsx_rows_in_sheet += len(df.iloc[part])
            start += room

    def _finish_xlsx(self) -> None:
        if self._xlsx is None:
            self._xlsx = (_XlsxWriterBook if self._engine() == "xlsxwriter" else _OpenpyxlBook)(self._tmps["xlsx"], self.lang)
            self._xlsx.header([_labels()[c][0 if self.lang == "zh" else 1] for c in ("row", "site_name", "verdict")], 2)
        zh = self.lang == "zh"
        s = _summary_display(self.summary(), self.lang)
        self._xlsx.table("按县汇总" if zh else "by county", s)
        from zoning.check import quota_status

        quota = self.quota()
        expired = quota_status(quota.attrs.get("quota", {}), self.lang)
        q = _quota_display(quota, self.lang)
        if expired:  # the sheet says so on its own first row, and its name too
            q = pd.concat([pd.DataFrame({q.columns[0]: [expired]}), q], ignore_index=True)
        self._xlsx.table(("供地计划" if zh else "quota") + ((" (已过期)" if zh else " (expired)") if expired else ""), q)
        lines = _header_lines(self.context, self.lang, self.notes, self.provenance)
        if expired:
            lines.append(expired)
        if self._xlsx_sheets > 1:
            lines.append(f"结果超过工作表行数上限 ({XLSX_MAX_ROWS - 1:,} 行), 续写在工作表 结果 (2)…结果 ({self._xlsx_sheets})"
                         if zh else f"the results pass a sheet's row limit ({XLSX_MAX_ROWS - 1:,} rows) and continue on "
                         f"sheets results (2)…results ({self._xlsx_sheets})")
        if self._xlsx_cut:
            lines.append(f"{self._xlsx_cut} 个单元格超过 {XLSX_MAX_CELL:,} 字符的上限, 在工作簿中截断; 全文见 CSV 或 GeoPackage"
                         if zh else f"{self._xlsx_cut} cell(s) longer than Excel's {XLSX_MAX_CELL:,} characters are cut "
                         "in the workbook; the CSV and the GeoPackage hold the full text")
        self._xlsx.table("说明" if zh else "about", pd.DataFrame({("说明" if zh else "notes"): lines}))
        self._xlsx.close()

    # ----------------------------------------------------------------- html
    def _keep_for_html(self, results: gpd.GeoDataFrame) -> None:
        from zoning.core.verdicts import VERDICTS

        rank = {v: i for i, v in enumerate(VERDICTS)}
        keep = results[["row", "site_id", "site_name", "county", "verdict", "zones", "articles", "status",
                        "demonstration_basis", results.geometry.name]].copy()
        keep["_rank"] = [rank.get(v, len(rank)) for v in keep["verdict"]]
        self._html_sites.append(keep)
        allk = pd.concat(self._html_sites)
        if len(allk) > self.html_max_sites:
            allk = allk.sort_values(["_rank", "row"], kind="stable").head(self.html_max_sites)
        self._html_sites = [allk]

    def _write_html(self) -> None:
        text, self.map_note = render_html_report(
            self._html_sites[0] if self._html_sites else None, summary=self.summary(), quota=self.quota(),
            context=self.context, lang=self.lang, notes=self.notes, n_sites=self.n_sites,
            verdict_counts=self.verdict_counts, max_sites=self.html_max_sites, prov=self.provenance)
        self._tmps["html"].write_text(text, encoding="utf-8")


def _quota_display(q: pd.DataFrame, lang: str) -> pd.DataFrame:
    zh = lang == "zh"
    names = {"class": "用地类别" if zh else "class", "quota_ha": "计划(公顷)" if zh else "quota (ha)",
             "sites": "项目数" if zh else "sites", "sites_ha": "项目用地(公顷)" if zh else "sites (ha)",
             "remaining_ha": "剩余(公顷)" if zh else "remaining (ha)", "overrun_ha": "超出(公顷)" if zh else "overrun (ha)"}
    return q.rename(columns=names)


#: The column holding, as ``name=value`` text, input columns that only later chunks have.
OTHER_FIELDS = "other_fields"

def wkb_array(geoms: np.ndarray, geometry_type: str) -> Any:
    """Geometries as an Arrow WKB column for a GeoPackage layer of ``geometry_type``: in a
    ``MultiPolygon`` layer a polygon becomes a multipolygon of one part (as GDAL's
    ``promote_to_multi`` makes it); missing geometries stay null."""
    import pyarrow as pa
    import shapely

    if geometry_type == "MultiPolygon":
        single = np.flatnonzero(shapely.get_type_id(geoms) == 3)
        if len(single):
            geoms = geoms.copy()
            geoms[single] = shapely.multipolygons(geoms[single], indices=np.arange(len(single)))
    return pa.array(shapely.to_wkb(geoms), type=pa.binary(), from_pandas=True)


_UNSYNCED_LOCK = threading.Lock()
_unsynced_users = 0


@contextmanager
def unsynced_sqlite() -> Iterator[None]:
    """GDAL's SQLite writes (the GeoPackage) without an fsync at each commit, for a report
    written to a temporary file and moved into place, as the CSV is: the syncs only forced
    the 100 MB just written to disk before the move (60 ms per 100,000 sites, on the
    provenance table's commit alone). A value the user set (``OGR_SQLITE_SYNCHRONOUS`` in
    the environment or GDAL's configuration) is kept; the option is GDAL's, process-wide,
    so it is set while any report is being written and put back when the last one ends."""
    import pyogrio

    global _unsynced_users
    with _UNSYNCED_LOCK:
        if _unsynced_users == 0 and pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS") is None:
            pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
            _unsynced_users = 1
        elif _unsynced_users:
            _unsynced_users += 1
        owner = _unsynced_users > 0
    try:
        yield
    finally:
        if owner:
            with _UNSYNCED_LOCK:
                _unsynced_users -= 1
                if _unsynced_users == 0:
                    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": None})


class GpkgFeed:
    """A layer of a GeoPackage (``sites``, or the pieces' layers) written as one stream of chunks.

    GDAL (pyogrio's ``write_arrow``) reads the chunks from a queue in a thread of its own, so
    every chunk goes into one layer in one pass and the spatial index is built once, at the
    end: appending chunk by chunk reopened the file and updated the index row by row, which
    cost as much as writing the rows. The queue holds one chunk, so memory stays bounded.
    GDAL holds the GIL while it writes, so the thread saves no time by running beside the
    check, only the appends. A later chunk is cast to the first one's fields; an error in
    the thread is raised by the next :meth:`put` or by :meth:`close`.
    """

    _END = object()
    _ABORT = object()

    def __init__(self, path: Path, schema: Any, geometry_type: str, *, layer: str = "sites") -> None:
        import queue

        self.path = path
        self.schema = schema
        self.layer = layer
        self.error: BaseException | None = None
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._thread = threading.Thread(target=self._write, args=(geometry_type,), name="zoning-gpkg", daemon=True)
        self._thread.start()

    def _chunks(self) -> Iterator[Any]:
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if item is self._ABORT:
                raise InputFileError(f"{self.path.name}: writing stopped")
            yield from item.to_batches()

    def _write(self, geometry_type: str) -> None:
        import pyarrow as pa
        from pyogrio.raw import write_arrow

        try:
            reader = pa.RecordBatchReader.from_batches(self.schema, self._chunks())
            with unsynced_sqlite():
                write_arrow(reader, self.path, layer=self.layer, driver="GPKG", geometry_name="geometry",
                            geometry_type=geometry_type, crs="EPSG:4490")
        except BaseException as exc:  # noqa: BLE001 - handed to the writer's thread at put/close
            self.error = exc

    def _send(self, item: Any) -> None:
        import queue

        while True:
            if self.error is not None:
                raise self.error
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                if not self._thread.is_alive():
                    raise self.error or InputFileError(f"{self.path.name}: the GeoPackage writer stopped") from None

    def put(self, table: Any) -> None:
        """Queue one chunk (an Arrow table with a WKB ``geometry`` column)."""
        if not table.schema.equals(self.schema):
            table = table.cast(self.schema)
        self._send(table)

    def close(self) -> None:
        """The last chunk written, the layer and its spatial index finished."""
        self._send(self._END)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        """Stop the writing (after an error elsewhere); the caller removes the file."""
        import queue

        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        try:
            self._queue.put_nowait(self._ABORT)
        except queue.Full:
            pass
        self._thread.join(timeout=30)

#: Excel's limits: rows per sheet (header included) and characters per cell.
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_CELL = 32_767


class _XlsxWriterBook:
    def __init__(self, path: Path, lang: str) -> None:
        import xlsxwriter

        self.wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "nan_inf_to_errors": True,
                                                   "strings_to_numbers": False, "strings_to_urls": False})
        self.lang = lang
        self.ws = self.wb.add_worksheet("结果" if lang == "zh" else "results")
        self.head_fmt = self.wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                            "valign": "top"})
        self.vfmt = {k: self.wb.add_format({"bg_color": c}) for k, c in vocab.VERDICT_FILLS.items()}
        self.r = 0
        self.verdict_col: int | None = None
        self.close = self._close  # type: ignore[method-assign]

    def header(self, cols: list[str], verdict_col: int | None) -> None:
        self.verdict_col = verdict_col
        self.ws.write_row(0, 0, cols, self.head_fmt)
        self.ws.freeze_panes(1, 0)
        for j, c in enumerate(cols):
            self.ws.set_column(j, j, min(max(8, len(str(c)) * 2), 40))
        self.ncols = len(cols)
        self.r = 1

    def new_sheet(self, name: str, cols: list[str], verdict_col: int | None) -> None:
        self.ws = self.wb.add_worksheet(name[:31])
        self.header(cols, verdict_col)

    def rows(self, df: pd.DataFrame, codes: np.ndarray) -> None:
        ws = self.ws
        # one writer per column, chosen once from its dtype (per-cell type checks cost
        # more than xlsxwriter itself on large runs); object columns are checked per cell
        columns = []
        for j, c in enumerate(df.columns):
            col = df[c]
            if j == self.verdict_col:
                kind = "verdict"
            elif pd.api.types.is_bool_dtype(col):
                kind = "bool"
            elif pd.api.types.is_numeric_dtype(col):
                kind = "number"
            elif pd.api.types.is_string_dtype(col) and not pd.api.types.is_object_dtype(col):
                kind = "string"
            else:
                kind = "any"
            values = col.astype(object).where(col.notna(), None).to_numpy()
            columns.append((j, kind, values))
        vfmt = self.vfmt

        def write_any(r: int, j: int, v: Any) -> None:
            if isinstance(v, (bool, np.bool_)):
                ws.write_boolean(r, j, bool(v))
            elif isinstance(v, (int, float, np.integer, np.floating)):
                ws.write_number(r, j, float(v))
            else:
                ws.write_string(r, j, str(v))

        writers = {"string": ws.write_string, "number": ws.write_number, "bool": ws.write_boolean, "any": write_any}
        plan = [(j, writers.get(kind), values) for j, kind, values in columns]
        # constant_memory mode flushes each row when the next starts: write row by row
        r0 = self.r
        for k in range(len(df)):
            r = r0 + k
            for j, fn, values in plan:
                v = values[k]
                if v is None:
                    continue
                if fn is None:  # the verdict, coloured
                    ws.write(r, j, v, vfmt.get(codes[k], None))
                else:
                    fn(r, j, v)
        self.r += len(df)
        if self.r > 1:
            ws.autofilter(0, 0, self.r - 1, self.ncols - 1)

    def table(self, name: str, df: pd.DataFrame) -> None:
        ws = self.wb.add_worksheet(name[:31])
        ws.write_row(0, 0, [str(c) for c in df.columns], self.head_fmt)
        ws.freeze_panes(1, 0)
        for i, row in enumerate(df.astype(object).where(df.notna(), None).to_numpy(), start=1):
            for j, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                    ws.write_number(i, j, float(v))
                else:
                    ws.write_string(i, j, str(v))
        ws.set_column(0, max(len(df.columns) - 1, 0), 16)

    def _close(self) -> None:
        self.wb.close()


class _OpenpyxlBook:
    def __init__(self, path: Path, lang: str) -> None:
        import openpyxl

        self.path = path
        self.wb = openpyxl.Workbook(write_only=True)
        self.ws = self.wb.create_sheet("结果" if lang == "zh" else "results")
        self.ws.freeze_panes = "A2"
        self.verdict_col: int | None = None

    def _head(self, ws, cols):
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font, PatternFill

        out = []
        for c in cols:
            cell = WriteOnlyCell(ws, value=str(c))
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            out.append(cell)
        ws.append(out)

    def new_sheet(self, name: str, cols: list[str], verdict_col: int | None) -> None:
        self.ws = self.wb.create_sheet(name[:31])
        self.ws.freeze_panes = "A2"
        self.header(cols, verdict_col)

    def header(self, cols: list[str], verdict_col: int | None) -> None:
        self.verdict_col = verdict_col
        self._head(self.ws, cols)
        from openpyxl.styles import PatternFill

        self.fills = {k: PatternFill("solid", fgColor=c.lstrip("#")) for k, c in vocab.VERDICT_FILLS.items()}

    def rows(self, df: pd.DataFrame, codes: np.ndarray) -> None:
        from openpyxl.cell import WriteOnlyCell

        vc = self.verdict_col
        for k, row in enumerate(df.astype(object).where(df.notna(), None).to_numpy()):
            row = [v.item() if isinstance(v, np.generic) else v for v in row]
            if vc is not None and row[vc] is not None:
                cell = WriteOnlyCell(self.ws, value=row[vc])
                fill = self.fills.get(codes[k])
                if fill is not None:
                    cell.fill = fill
                row[vc] = cell
            self.ws.append(row)

    def table(self, name: str, df: pd.DataFrame) -> None:
        ws = self.wb.create_sheet(name[:31])
        ws.freeze_panes = "A2"
        self._head(ws, list(df.columns))
        for row in df.astype(object).where(df.notna(), None).to_numpy():
            ws.append([v.item() if isinstance(v, np.generic) else v for v in row])

    def close(self) -> None:
        self.wb.save(self.path)


def write_results(
    results: gpd.GeoDataFrame,
    outputs: dict[str, str | Path],
    *,
    lang: str = "zh",
    context: CheckContext | None = None,
    inputs: Iterable[str | Path] = (),
    xlsx_engine: str | None = None,
) -> dict[str, Path]:
    """Write a whole result frame to ``{format: path}`` (see :class:`ResultWriter`)."""
    from zoning.check import build_context

    ctx = context or build_context()
    w = ResultWriter({k: Path(v) for k, v in outputs.items()}, lang=lang, context=ctx,
                     inputs=[Path(p) for p in inputs], xlsx_engine=xlsx_engine)
    try:
        w.write(results)
        return w.close()
    except BaseException:
        w.abort()
        raise


# --------------------------------------------------------------------------- HTML


def _table_html(df: pd.DataFrame) -> str:
    return df.to_html(index=False, na_rep="", border=0, classes="t", escape=True)


def _summary_display(summary: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The by-county summary with headers in the report's language."""
    zh = lang == "zh"
    extra = {"total": ("合计", "total"), "on demonstration data": ("依据演示数据", "on demonstration data")}
    s = summary.copy()
    s.columns = [verdict_label(c, lang) if c in VERDICT_LABELS else
                 extra[c][0 if zh else 1] if c in extra else c for c in s.columns]
    return s.reset_index().rename(columns={"county": "县(市、区)" if zh else "county"})


def render_html_report(
    sites: pd.DataFrame | None,
    *,
    summary: pd.DataFrame,
    quota: pd.DataFrame,
    context: CheckContext | None,
    lang: str = "zh",
    notes: list[str] | None = None,
    n_sites: int = 0,
    verdict_counts: dict[str, int] | None = None,
    max_sites: int = 2_000,
    prov: dict[str, str] | None = None,
) -> tuple[str, str | None]:
    """The HTML report and a note on the map (None when the map is in it)."""
    zh = lang == "zh"
    head = _header_lines(context, lang, notes or [], prov, warning=False)
    warning = _demo_warning(context, lang)
    title = "建设项目选址批量核查报告" if zh else "Batch check of project sites"
    today = dt.date.today().isoformat()
    parts = [f"<!DOCTYPE html><html lang=\"{'zh-CN' if zh else 'en'}\"><head><meta charset=\"utf-8\">"
             f"<title>{html.escape(title)}</title><style>"
             "body{font-family:'Microsoft YaHei','PingFang SC',sans-serif;margin:1.5em;color:#222}"
             "table.t{border-collapse:collapse;margin:.5em 0 1.5em}table.t td,table.t th{border:1px solid #ccc;"
             "padding:3px 6px;font-size:13px;vertical-align:top}table.t th{background:#DDEBF7}"
             ".warn{background:#fff3cd;border:1px solid #e0b100;padding:.6em 1em;margin:.8em 0}"
             ".map{height:600px;border:1px solid #ccc}</style></head><body>",
             f"<h1>{html.escape(title)}</h1><p>{html.escape(today)}</p>"]
    if warning:
        parts.append(f"<div class=\"warn\"><b>{'演示数据' if zh else 'Demonstration data'}</b>: "
                     + html.escape(warning) + "</div>")
    parts.append("<ul>" + "".join(f"<li>{html.escape(h)}</li>" for h in head) + "</ul>")
    counts = verdict_counts or {}
    vc = pd.DataFrame({("结论" if zh else "verdict"): [verdict_label(v, lang) for v in counts],
                       ("项目数" if zh else "sites"): list(counts.values())})
    parts.append(f"<h2>{'结论统计' if zh else 'Verdicts'} ({n_sites})</h2>" + _table_html(vc))
    parts.append(f"<h2>{'按县汇总' if zh else 'By county'}</h2>" + _table_html(_summary_display(summary, lang)))
    if len(quota):
        info = quota.attrs.get("quota", {})
        cap = f"{info.get('year', '')} {info.get('area_name', '')} {info.get('document', '')}"
        from zoning.check import quota_status

        expired = quota_status(info, lang)
        parts.append(f"<h2>{'供地计划对照' if zh else 'Land-supply quota'} ({html.escape(cap)})</h2>"
                     + (f"<p class=\"warn\">{html.escape(expired)}</p>" if expired else "")
                     + _table_html(_quota_display(quota, lang)))
    map_note = None
    if sites is not None and len(sites):
        map_html, map_note = _map_html(sites, context, lang)
        parts.append(f"<h2>{'地图' if zh else 'Map'}</h2>")
        if map_html:
            parts.append(map_html)
        else:
            parts.append(f"<p>{html.escape(map_note or '')}</p>")
        shown = sites.drop(columns=[sites.geometry.name, "_rank"], errors="ignore")
        if n_sites > len(shown):
            parts.append(f"<p>{'仅列出结论最严格的' if zh else 'Listing the'} {len(shown)} "
                         f"{'个项目' if zh else 'sites with the strongest verdicts'} / {n_sites}</p>")
        disp = shown.copy()
        disp["verdict"] = [verdict_label(v, lang) for v in disp["verdict"]]
        labels = _labels()
        disp.columns = [labels.get(c, (c, c))[0 if zh else 1] for c in disp.columns]
        parts.append(f"<h2>{'项目清单' if zh else 'Sites'}</h2>" + _table_html(disp))
    parts.append("</body></html>")
    return "\n".join(parts), map_note


def _map_html(sites: gpd.GeoDataFrame, context, lang: str) -> tuple[str | None, str | None]:
    try:
        from zoning import maps
    except ImportError:
        return None, ("地图模块 zoning.maps 不可用, 报告未含地图" if lang == "zh" else
                      "zoning.maps is not available: the report has no map")
    import geopandas as gpd

    from zoning.check import build_context

    ctx = context or build_context()
    g = gpd.GeoDataFrame(sites, geometry=sites.geometry.name, crs="EPSG:4490")
    g = g[g.geometry.notna()].drop(columns=["_rank"], errors="ignore").rename(columns={"site_name": "name"})
    g["name"] = g["name"].fillna(g["row"].astype(str))
    g["verdict"] = g["verdict"].replace({NOT_CHECKED: None})
    map_lang: Lang
    if lang == "zh":
        map_lang = "zh"
    elif lang == "en":
        map_lang = "en"
    else:  # as build_map refuses it: the report is still written, without a map
        return None, f"map could not be built: lang was {lang!r} but is expected to be 'zh' or 'en'"
    try:  # offline only: no network at run time (without the inlined assets there is no map, said so)
        m = maps.build_map(ctx.pack, sites=g, lang=map_lang, offline=True, rules=ctx.rules, today=ctx.on_date)
    except Exception as exc:  # noqa: BLE001 - the report must not fail because of the map
        return None, (f"地图生成失败: {exc}" if lang == "zh" else f"map could not be built: {exc}")
    doc = m.get_root().render()
    return (f"<iframe class=\"map\" style=\"width:100%\" srcdoc=\"{html.escape(doc, quote=True)}\"></iframe>", None)

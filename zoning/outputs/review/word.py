"""The review report as a Word document (python-docx over the shipped template).

The template (``template.docx`` beside this module, built by
``scripts/build_review_template.py``) carries the page set-up and the styles: Title,
Heading 1, Normal, Caption, Quote, Warning and Table Grid. A bureau restyles its reports
by editing those styles in Word, without code.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zoning.outputs.review.content import Review

__all__ = ["TEMPLATE", "write_docx"]

#: The shipped Word template.
TEMPLATE = Path(__file__).resolve().parent / "template.docx"


def _table(doc, header: Sequence[str], rows: Sequence[Sequence[str]], widths_cm: Sequence[float] | None = None):
    from docx.shared import Cm

    table = doc.add_table(rows=1, cols=len(header))
    table.style = doc.styles["Table Grid"]
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = ""
        run = cell.paragraphs[0].add_run(str(text))
        run.bold = True
    for r in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, r):
            cell.text = str(text)
    if widths_cm:
        for row in table.rows:
            for cell, w in zip(row.cells, widths_cm):
                cell.width = Cm(w)
    return table


def _pairs(doc, rows: Sequence[tuple[str, str]]):
    """A two-column table of label and value (no header row)."""
    from docx.shared import Cm

    table = doc.add_table(rows=0, cols=2)
    table.style = doc.styles["Table Grid"]
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text = ""
        cells[0].paragraphs[0].add_run(str(label)).bold = True
        cells[1].text = str(value)
        cells[0].width, cells[1].width = Cm(4.5), Cm(11.5)
    return table


def _shaded_box(doc, lines: Sequence[str], fill: str) -> None:
    """A one-cell table with a coloured background holding ``lines`` (the accuracy statement)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    box = doc.add_table(rows=1, cols=1)
    box.style = doc.styles["Table Grid"]
    cell = box.rows[0].cells[0]
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)
    cell.text = ""
    for i, line in enumerate(lines):
        p = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        p.style = doc.styles["Warning"] if i == 0 else doc.styles["Normal"]
        p.add_run(line)


def _review(doc, rv: Review, map_png: bytes | None) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    lab = rv.labels
    doc.add_paragraph(rv.title, style="Title").alignment = WD_ALIGN_PARAGRAPH.CENTER
    p = doc.add_paragraph(f"{lab['number']}: {rv.number}    {lab['date']}: {rv.date}")
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p = doc.add_paragraph()
    p.add_run(f"{rv.site_label}    {lab['verdict']}: ").bold = True
    p.add_run(rv.verdict_label).bold = True
    if rv.accuracy_statement:  # on the first page when any layer is not official
        doc.add_paragraph(lab["accuracy_first"], style="Heading 2")
        _shaded_box(doc, rv.accuracy_statement, "FDE9E7" if rv.demonstration else "FFF4D6")

    doc.add_paragraph(lab["s_project"], style="Heading 1")
    _pairs(doc, rv.project)

    doc.add_paragraph(lab["s_map"], style="Heading 1")
    if map_png:
        doc.add_picture(io.BytesIO(map_png), width=Cm(16))
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(lab["map_caption"], style="Caption").alignment = WD_ALIGN_PARAGRAPH.CENTER

    doc.add_paragraph(lab["s_overlap"], style="Heading 1")
    doc.add_paragraph(lab["t_class"], style="Caption")
    if rv.class_rows:
        _table(doc, rv.class_header, rv.class_rows)
        doc.add_paragraph(lab["t_zone"], style="Caption")
        _table(doc, rv.zone_header, rv.zone_rows)
    else:
        doc.add_paragraph(lab["no_zone"])
    doc.add_paragraph(lab["t_extent"], style="Caption")
    _table(doc, rv.extent_header, rv.extent_rows)
    doc.add_paragraph(lab["t_county"], style="Caption")
    _table(doc, rv.county_header, rv.county_rows)

    doc.add_paragraph(lab["s_opinion"], style="Heading 1")
    for line in rv.opinion:
        doc.add_paragraph(line)
    if rv.subject_verdicts:
        _table(doc, [lab["subject"], lab["verdict"]], rv.subject_verdicts)
    if rv.articles:
        doc.add_paragraph(lab["articles"], style="Heading 2")
        doc.add_paragraph(lab["articles_intro"])
        for a in rv.articles:
            p = doc.add_paragraph()
            p.add_run(f"{a.document} {a.article}").bold = True
            p.add_run(f"  {a.document_title}  [{a.subject} · {a.effect}]")
            doc.add_paragraph(a.text, style="Quote")
            if a.summary_en:
                doc.add_paragraph(a.summary_en)
    if rv.to_confirm:
        doc.add_paragraph(lab["confirm"], style="Heading 2")
        doc.add_paragraph(lab["confirm_intro"])
        _table(doc, [lab["confirm_attr"], lab["confirm_why"]], rv.to_confirm, (6, 10))
    for line in rv.notes:
        doc.add_paragraph(line)

    doc.add_paragraph(lab["s_accuracy"], style="Heading 1")
    if not rv.accuracy_statement:
        doc.add_paragraph(lab["all_official"])
    _table(doc, rv.accuracy_header, rv.accuracy_rows, (3.2, 3.0, 3.8, 6.0))

    doc.add_paragraph(lab["s_provenance"], style="Heading 1")
    _pairs(doc, rv.provenance)

    doc.add_paragraph(lab["s_signature"], style="Heading 1")
    sig = _table(doc, rv.signature, [["", "", ""]])
    sig.rows[1].height = Cm(1.6)


def write_docx(
    reviews: Sequence[Review],
    maps: Sequence[bytes | None],
    path: str | Path,
    *,
    summary: tuple[list[str], list[list[str]], str] | None = None,
    template: str | Path | None = None,
) -> Path:
    """Write one or more reviews (a volume: ``summary`` = (header, rows, title) first) to ``path``."""
    from docx import Document
    from docx.enum.text import WD_BREAK

    doc = Document(str(template or TEMPLATE))
    if summary is not None:
        header, rows, title = summary
        doc.add_paragraph(title, style="Title")
        _table(doc, header, rows)
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    for i, (rv, png) in enumerate(zip(reviews, maps)):
        if i:
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        _review(doc, rv, png)
    doc.core_properties.title = reviews[0].title if reviews else ""
    doc.core_properties.subject = reviews[0].number if len(reviews) == 1 else "volume"
    out = Path(path)
    doc.save(str(out))
    return out

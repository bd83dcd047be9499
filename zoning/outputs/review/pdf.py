"""The review report as PDF: the same :class:`~zoning.outputs.review.content.Review` laid
out as HTML and typeset by WeasyPrint, which embeds (subsets of) the fonts it uses.

Every text of the review is escaped (``html.escape``): a site name or a rule text never
becomes markup. The style sheet ``report.css`` beside this module can be restyled.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from zoning.core import vocab

if TYPE_CHECKING:
    from zoning.outputs.review.content import Review

__all__ = ["CSS", "review_html", "write_pdf"]

#: The shipped style sheet.
CSS = Path(__file__).resolve().parent / "report.css"

_NUMERIC_HEADERS = ("公顷", "亩", "%", "ha", "% of the site", "占项目用地 %")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    numeric = [
        any(h.endswith(x) or h == x for x in _NUMERIC_HEADERS)
        or "(公顷)" in h
        or "(亩)" in h
        or "(ha)" in h
        or "(亩)" in h
        for h in header
    ]
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{_e(c)}</td>' if numeric[j] else f"<td>{_e(c)}</td>" for j, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _pairs(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="pairs"><tbody>{body}</tbody></table>'


def _review(rv: Review, map_png: bytes | None, first: bool) -> str:
    lab = rv.labels
    colour = vocab.VERDICT_COLOURS.get(rv.verdict, "#777777")
    out = [
        f'<section class="{"" if first else "break"}">',
        f'<h1 class="title">{_e(rv.title)}</h1>',
        f'<p class="number">{_e(lab["number"])}: {_e(rv.number)}&emsp;{_e(lab["date"])}: {_e(rv.date)}</p>',
        f'<p class="verdict" style="border-left-color:{colour}">{_e(rv.site_label)}&emsp;{_e(lab["verdict"])}: '
        f"{_e(rv.verdict_label)}</p>",
    ]
    if rv.accuracy_statement:
        kind = "" if rv.demonstration else " indicative"
        lines = "".join(
            f'<p class="{"lead" if i == 0 else ""}">{_e(s)}</p>' for i, s in enumerate(rv.accuracy_statement)
        )
        out.append(f'<h3>{_e(lab["accuracy_first"])}</h3><div class="accuracy{kind}">{lines}</div>')
    out.append(f"<h2>{_e(lab['s_project'])}</h2>{_pairs(rv.project)}")
    out.append(f"<h2>{_e(lab['s_map'])}</h2><figure>")
    if map_png:
        out.append(f'<img src="data:image/png;base64,{base64.b64encode(map_png).decode("ascii")}" alt="map"/>')
    out.append(f'<p class="caption">{_e(lab["map_caption"])}</p></figure>')
    out.append(f'<h2>{_e(lab["s_overlap"])}</h2><p class="caption">{_e(lab["t_class"])}</p>')
    if rv.class_rows:
        out.append(_table(rv.class_header, rv.class_rows))
        out.append(f'<p class="caption">{_e(lab["t_zone"])}</p>{_table(rv.zone_header, rv.zone_rows)}')
    else:
        out.append(f"<p>{_e(lab['no_zone'])}</p>")
    out.append(f'<p class="caption">{_e(lab["t_extent"])}</p>{_table(rv.extent_header, rv.extent_rows)}')
    out.append(f'<p class="caption">{_e(lab["t_county"])}</p>{_table(rv.county_header, rv.county_rows)}')
    out.append(f"<h2>{_e(lab['s_opinion'])}</h2>" + "".join(f"<p>{_e(s)}</p>" for s in rv.opinion))
    if rv.subject_verdicts:
        out.append(_table([lab["subject"], lab["verdict"]], rv.subject_verdicts))
    if rv.articles:
        out.append(f"<h3>{_e(lab['articles'])}</h3><p>{_e(lab['articles_intro'])}</p>")
        for a in rv.articles:
            out.append(
                f'<p class="cite"><b>{_e(a.document)} {_e(a.article)}</b>&ensp;{_e(a.document_title)}&ensp;'
                f"[{_e(a.subject)} · {_e(a.effect)}]</p><blockquote>{_e(a.text)}</blockquote>"
            )
            if a.summary_en:
                out.append(f"<p>{_e(a.summary_en)}</p>")
    if rv.to_confirm:
        out.append(f"<h3>{_e(lab['confirm'])}</h3><p>{_e(lab['confirm_intro'])}</p>")
        out.append(_table([lab["confirm_attr"], lab["confirm_why"]], rv.to_confirm))
    out.extend(f"<p>{_e(s)}</p>" for s in rv.notes)
    out.append(f"<h2>{_e(lab['s_accuracy'])}</h2>")
    if not rv.accuracy_statement:
        out.append(f"<p>{_e(lab['all_official'])}</p>")
    out.append(_table(rv.accuracy_header, rv.accuracy_rows))
    out.append(f"<h2>{_e(lab['s_provenance'])}</h2>{_pairs(rv.provenance)}")
    out.append(f"<h2>{_e(lab['s_signature'])}</h2>{_table(rv.signature, [['', '', '']], 'signature')}")
    out.append("</section>")
    return "".join(out)


def review_html(
    reviews: Sequence[Review],
    maps: Sequence[bytes | None],
    *,
    summary: tuple[list[str], list[list[str]], str] | None = None,
) -> str:
    """The HTML the PDF is typeset from."""
    lang = reviews[0].lang if reviews else "zh"
    page = (
        '"第 " counter(page) " 页 共 " counter(pages) " 页"'
        if lang == "zh"
        else '"page " counter(page) " of " counter(pages)'
    )
    parts = [
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8"/>',
        f"<title>{_e(reviews[0].title if reviews else '')}</title>",
        f"<style>@page {{ @bottom-center {{ content: {page}; font-size: 8.5pt; color: #555; }} }}</style>",
        "</head><body>",
    ]
    first = True
    if summary is not None:
        header, rows, title = summary
        parts.append(f'<section><h1 class="title">{_e(title)}</h1>{_table(header, rows)}</section>')
        first = False
    for rv, png in zip(reviews, maps):
        parts.append(_review(rv, png, first))
        first = False
    parts.append("</body></html>")
    return "".join(parts)


def write_pdf(
    reviews: Sequence[Review],
    maps: Sequence[bytes | None],
    path: str | Path,
    *,
    summary: tuple[list[str], list[list[str]], str] | None = None,
    stylesheet: str | Path | None = None,
) -> Path:
    """Typeset the reviews (a volume: ``summary`` first) to ``path`` with embedded fonts."""
    from weasyprint import CSS as WCSS
    from weasyprint import HTML

    doc = HTML(string=review_html(reviews, maps, summary=summary), base_url=str(CSS.parent))
    out = Path(path)
    doc.write_pdf(str(out), stylesheets=[WCSS(filename=str(stylesheet or CSS))])
    return out

"""Build zoning/outputs/review/template.docx, the Word template of the review report.

The template holds only styles and the page set-up (A4, margins, the fonts of body text,
headings, captions, quotes and tables): a bureau restyles its reports by editing these
styles in Word and saving the file in place of the shipped one (or passing its own with
``--report-template``); the content is written by zoning.outputs.review.word.

    python scripts/build_review_template.py
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

OUT = Path(__file__).resolve().parent.parent / "zoning" / "outputs" / "review" / "template.docx"


def _fonts(style, latin: str, east_asia: str, size: float, bold: bool | None = None) -> None:
    style.font.name = latin
    style.font.size = Pt(size)
    if bold is not None:
        style.font.bold = bold
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)


def main() -> None:
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.5)
    sec.top_margin, sec.bottom_margin = Cm(2.5), Cm(2.2)
    styles = doc.styles
    _fonts(styles["Normal"], "Times New Roman", "宋体", 10.5)
    _fonts(styles["Title"], "Times New Roman", "黑体", 20, bold=True)
    styles["Title"].font.color.rgb = RGBColor(0, 0, 0)
    for name, size in (("Heading 1", 14), ("Heading 2", 12)):
        _fonts(styles[name], "Times New Roman", "黑体", size, bold=True)
        styles[name].font.color.rgb = RGBColor(0, 0, 0)
    _fonts(styles["Caption"], "Times New Roman", "宋体", 9, bold=False)
    _fonts(styles["Quote"], "Times New Roman", "仿宋", 10.5)
    if "Warning" not in [s.name for s in styles]:
        warn = styles.add_style("Warning", WD_STYLE_TYPE.PARAGRAPH)
        warn.base_style = styles["Normal"]
        _fonts(warn, "Times New Roman", "黑体", 10.5, bold=True)
        warn.font.color.rgb = RGBColor(0x8B, 0, 0)
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    doc.core_properties.title = "建设项目用地合规性审查报告"
    doc.core_properties.author = "zoning"
    doc.save(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

"""The formal review report (建设项目用地合规性审查报告) in Word and PDF.

One :class:`~zoning.outputs.review.content.Review` per site is built from the check's
result row (the CSV's answer) and rendered by :mod:`.word` (python-docx over the shipped
template) and :mod:`.pdf` (WeasyPrint, fonts embedded), with the site map of
:mod:`.sitemap`. :class:`~zoning.outputs.review.writer.ReviewWriter` writes a batch;
:func:`~zoning.outputs.review.writer.write_point_review` the report of one point.
"""

from zoning.core.provenance import provenance  # the one record every output carries, re-exported
from zoning.outputs.review.content import Review, answer_id, build_review, build_reviews, zone_rows
from zoning.outputs.review.writer import (
    REVIEW_FORMATS,
    ReviewWriter,
    render_site,
    review_targets,
    site_filename,
    write_point_review,
)

__all__ = [
    "REVIEW_FORMATS",
    "Review",
    "ReviewWriter",
    "answer_id",
    "build_review",
    "build_reviews",
    "provenance",
    "render_site",
    "review_targets",
    "site_filename",
    "write_point_review",
    "zone_rows",
]

#!/usr/bin/env bash
# Install the Debian packages of the review report (zoning check/query --format docx,pdf):
#   fonts-noto-cjk  Noto Sans/Serif CJK, the fonts of the site map and of the PDF (embedded)
#   poppler-utils   pdftotext, pdffonts and pdftoppm, with which the tests read the PDFs
# WeasyPrint's Pango/HarfBuzz libraries come with Debian (libpango-1.0-0, libpangoft2-1.0-0).
# Nothing is downloaded outside apt.
#
#   bash scripts/install_report_deps.sh     # as root (CI, developer machines); else via sudo
set -euo pipefail

have_font() { [ -n "$(fc-list 'Noto Sans CJK SC' 2>/dev/null | head -n1)" ]; }
if have_font && command -v pdffonts >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 \
        && ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0; then
    echo "report dependencies present: Noto CJK, poppler-utils, Pango"
    exit 0
fi

bash "$(cd "$(dirname "$0")" && pwd)/apt_install.sh" fonts-noto-cjk poppler-utils libpango-1.0-0 libpangoft2-1.0-0
fc-cache -f >/dev/null 2>&1 || true
fc-list 'Noto Sans CJK SC' | head -n1

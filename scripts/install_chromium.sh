#!/usr/bin/env bash
# Install Debian's headless Chromium (and its driver) for the browser tests of the maps,
# plus a CJK font so that screenshots show Chinese. Nothing is downloaded outside apt:
# Playwright (the Python driver in the test extra) is pointed at /usr/bin/chromium and
# never fetches a browser of its own.
#
#   bash scripts/install_chromium.sh        # as root (CI, developer machines); else via sudo
set -euo pipefail

if [ -x /usr/bin/chromium ] && { [ -n "$(fc-list :lang=zh 2>/dev/null | head -n1)" ] || [ -n "${CI:-}" ]; }; then
    echo "chromium present: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
    exit 0
fi

bash "$(cd "$(dirname "$0")" && pwd)/apt_install.sh" chromium chromium-driver fonts-wqy-zenhei
/usr/bin/chromium --version 2>/dev/null | head -n1

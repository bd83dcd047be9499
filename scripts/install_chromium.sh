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

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install_chromium.sh: not root and no sudo; install the Debian packages chromium chromium-driver" >&2
        exit 1
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_chromium.sh: apt-get not found; install Chromium at /usr/bin/chromium by other means" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q chromium chromium-driver fonts-wqy-zenhei
/usr/bin/chromium --version 2>/dev/null | head -n1

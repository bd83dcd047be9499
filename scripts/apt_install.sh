#!/usr/bin/env bash
# Install Debian packages for the project's own set-up: apt_install.sh PKG [PKG...]
# Used by install_chromium.sh and install_postgis.sh. Runs apt-get as root, or through
# sudo; refreshes the package lists only when a package has no install candidate yet.
# Nothing is downloaded outside apt.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "apt_install.sh: not root and no sudo; install the Debian packages: $*" >&2
        exit 1
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt_install.sh: apt-get not found; install these packages by other means: $*" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
for pkg in "$@"; do
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [^(]'; then
        $SUDO apt-get update -q
        break
    fi
done
$SUDO apt-get install -y -q "$@"

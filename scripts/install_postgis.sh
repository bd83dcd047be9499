#!/usr/bin/env bash
# Install PostgreSQL and PostGIS from Debian's packages for the PostGIS tests and the
# scale benchmark (a throw-away cluster is started by the tests themselves, on a
# loopback port: tests/pg_fixture.py). Idempotent: does nothing when both are present.
# Nothing is downloaded outside apt.
#
#   bash scripts/install_postgis.sh        # as root (CI, developer machines); else via sudo
#
# Debian bookworm: postgresql (15) and postgresql-15-postgis-3; binaries in
# /usr/lib/postgresql/15/bin. PG_MAJOR overrides the major version.
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-15}"
BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
EXT="/usr/share/postgresql/${PG_MAJOR}/extension/postgis.control"

if [ -x "${BIN}/initdb" ] && [ -x "${BIN}/pg_ctl" ] && [ -f "${EXT}" ]; then
    echo "postgis present: $("${BIN}/postgres" --version) with $(grep default_version "${EXT}" | tr -d "'")"
    exit 0
fi

HERE="$(cd "$(dirname "$0")" && pwd)"
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
# the server package's postinst would create and start a 'main' cluster: the tests do not
# need it, so tell postgresql-common not to create one
if [ ! -e /etc/postgresql-common/createcluster.conf ] || ! grep -q '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf 2>/dev/null; then
    $SUDO mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $SUDO tee -a /etc/postgresql-common/createcluster.conf >/dev/null
fi
bash "${HERE}/apt_install.sh" "postgresql-${PG_MAJOR}" "postgresql-${PG_MAJOR}-postgis-3"
"${BIN}/postgres" --version
grep default_version "${EXT}"

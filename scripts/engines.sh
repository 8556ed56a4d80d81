#!/usr/bin/env bash
# Install the SPARQL engines that tests/test_stores_engines.py runs treatygraph against, only when
# they are missing (idempotent; safe to call on every CI run):
#   oxigraph              the Oxigraph server (`oxigraph serve`), a PyPI package of the venv
#   virtuoso-opensource   Virtuoso Open Source 7 (`virtuoso-t`, `isql-vt`), a Debian package
# The tests start each engine themselves, unprivileged, on free loopback ports in a temporary
# directory, and stop it at the end; nothing here starts a service. The Debian package's own
# service (port 1111/8890, /var/lib/virtuoso-opensource-7) is kept from starting: the install runs
# with a policy-rc.d that refuses to start services, and the debconf password questions are
# answered non-interactively.
# Tests whose engine is missing skip with the reason, so this step is optional on a laptop.
#
# Usage: scripts/engines.sh [PYTHON]   (PYTHON: the venv's interpreter, default .venv/bin/python)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${1:-$here/.venv/bin/python}"

# -- Oxigraph server (PyPI) ---------------------------------------------------------------------
bindir="$(dirname "$python")"
if [ -x "$bindir/oxigraph" ] || command -v oxigraph >/dev/null 2>&1; then
    echo "engines: oxigraph present"
else
    echo "engines: installing oxigraph (PyPI)"
    "$python" -m pip install --quiet "oxigraph>=0.5"
fi

# -- Virtuoso Open Source 7 (Debian) ------------------------------------------------------------
if command -v virtuoso-t >/dev/null 2>&1 && command -v isql-vt >/dev/null 2>&1; then
    echo "engines: virtuoso present"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "engines: no apt-get on this machine: install Virtuoso Open Source 7 (Debian's" \
         "virtuoso-opensource) yourself; the store tests that need it skip, saying why" >&2
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

# Keep the package's own service from starting during the install (a Docker image often has
# this file already; leave one that is there alone).
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    made_policy=1
fi
cleanup() {
    if [ "$made_policy" -eq 1 ]; then
        $SUDO rm -f "$policy"
    fi
}
trap cleanup EXIT

# The package asks for the dba password; the tests' own database sets its own, so any will do.
echo "engines: installing virtuoso-opensource (Debian)"
printf '%s\n' \
    "virtuoso-opensource-7 virtuoso-opensource-7/dba-password password dba" \
    "virtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password dba" \
    | $SUDO debconf-set-selections
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
    virtuoso-opensource
# In case the service started anyway (no policy-rc.d honoured), stop it: the tests use their own.
if command -v service >/dev/null 2>&1; then
    $SUDO service virtuoso-opensource-7 stop >/dev/null 2>&1 || true
fi
command -v virtuoso-t >/dev/null && command -v isql-vt >/dev/null
echo "engines: virtuoso installed ($(virtuoso-t -? 2>&1 | grep -m1 -i version || true))"

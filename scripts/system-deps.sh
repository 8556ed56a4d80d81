#!/usr/bin/env bash
# Install the Debian packages the service tests use, only when they are missing (idempotent):
#   rasqal-utils       roqet, a real SPARQL client (tests/test_service_clients.py)
#   chromium           headless browser (tests/test_service_browser.py)
#   chromium-driver    WebDriver for chromium (not needed by --dump-dom, kept for browser tooling)
# Tests that need a missing tool skip with the reason, so this step is optional on a laptop.
set -euo pipefail

missing=()
command -v roqet >/dev/null 2>&1 || missing+=(rasqal-utils)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
    || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)

if [ ${#missing[@]} -eq 0 ]; then
    echo "system-deps: all present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "system-deps: installing ${missing[*]}"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Install the Debian packages the service tests use, only when they are missing (idempotent):
#   rasqal-utils       roqet, a real SPARQL client (tests/test_service_clients.py)
#   chromium           headless browser (tests/test_service_browser.py, tests/test_browser_*.py,
#                      driven by Playwright for Python with executable_path=/usr/bin/chromium:
#                      Playwright's own browser download is never used)
#   chromium-driver    WebDriver for chromium (kept for browser tooling)
#   nodejs, npm        the npm client, which installs the pages' libraries and axe-core
#                      (package.json: `make setup` / `make run`)
# Tests that need a missing tool skip with the reason, so this step is optional on a laptop.
set -euo pipefail

missing=()
command -v roqet >/dev/null 2>&1 || missing+=(rasqal-utils)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
    || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
    echo "system-deps: all present"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "$(basename "$0"): no apt-get on this machine: install these (or your system's equivalents)" \
         "yourself: ${missing[*]}; the tests that need them skip, saying why" >&2
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "system-deps: installing ${missing[*]}"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"

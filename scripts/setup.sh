#!/bin/sh
# Installs what riskatlas needs on Debian 12 (GDAL and the tools its Rust
# bindings build with); with --tests, also what the test suite opens the
# outputs with (QGIS 3.22's Python bindings and GDAL's; poppler-utils for
# the PDF maps; Chromium and
# playwright-core, pinned in tests/web/package-lock.json, for the web map).
# Safe to run again.
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
TEST_PACKAGES=""
for arg in "$@"; do
    case "$arg" in
        --tests) TEST_PACKAGES="python3-qgis qgis-providers python3-gdal chromium poppler-utils" ;;
        *) echo "usage: $0 [--tests]" >&2; exit 2 ;;
    esac
done
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    libgdal-dev gdal-bin pkg-config clang libclang-dev libsqlite3-dev fonts-noto-cjk time python3 python3-openpyxl \
    $TEST_PACKAGES >/dev/null
if [ -n "$TEST_PACKAGES" ]; then
    # Node.js for the browser tests: the machine's own if it has one.
    if ! command -v npm >/dev/null 2>&1; then
        $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    fi
    (cd "$(dirname "$0")/../tests/web" && npm ci --no-audit --no-fund --silent)
fi

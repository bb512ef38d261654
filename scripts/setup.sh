#!/bin/sh
# Installs what riskatlas needs on Debian 12 (GDAL and the tools its Rust
# bindings build with); with --tests, also what the test suite opens the
# outputs with (QGIS 3.22's Python bindings and GDAL's). Safe to run again.
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
TEST_PACKAGES=""
for arg in "$@"; do
    case "$arg" in
        --tests) TEST_PACKAGES="python3-qgis qgis-providers python3-gdal" ;;
        *) echo "usage: $0 [--tests]" >&2; exit 2 ;;
    esac
done
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    libgdal-dev gdal-bin pkg-config clang libclang-dev libsqlite3-dev fonts-noto-cjk time python3 python3-openpyxl \
    $TEST_PACKAGES >/dev/null

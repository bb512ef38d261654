#!/bin/sh
# Installs what riskatlas needs on Debian 12 (GDAL and the tools its Rust
# bindings build with), then nothing else. Safe to run again.
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    libgdal-dev gdal-bin pkg-config clang libclang-dev libsqlite3-dev fonts-noto-cjk time python3 python3-openpyxl >/dev/null

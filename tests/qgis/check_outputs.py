"""Opens a riskatlas output folder in QGIS (PyQGIS, headless) as a planner
would and checks what they would see: every layer styled by default, the
Chinese aliases, date and yes/no fields typed, each feature drawn by one
rule, and the palette's colours where the red and blue enterprises and the
graded grid cells are; exposure.tif a valid Cloud-Optimized GeoTIFF; the
project opening from a moved folder with its district atlas.

usage: check_outputs.py OUT_DIR RENDER_DIR REPO_DIR YELLOW ORANGE RED
(the last three: the run's exposure thresholds)
Exits 1 with one line per failed check; renders go to RENDER_DIR.
"""
import math
import os
import sys
import tomllib

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication, QgsCoordinateReferenceSystem, QgsExpression,
    QgsExpressionContext, QgsExpressionContextUtils, QgsMapRendererParallelJob,
    QgsMapSettings, QgsPointXY, QgsRasterLayer, QgsRectangle, QgsVectorLayer,
)
from qgis.PyQt.QtCore import QDate, QSize, QVariant  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

OUT, RENDERS, REPO = sys.argv[1], sys.argv[2], sys.argv[3]
THRESHOLDS = dict(zip(("yellow", "orange", "red"), map(float, sys.argv[4:7])))
os.makedirs(RENDERS, exist_ok=True)
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
    return ok


def catalogue():
    layers = {}
    admin = [("city_code", "市代码"), ("city_name", "市"), ("district_code", "区县代码"),
             ("district_name", "区县"), ("town_code", "乡镇街道代码"), ("town_name", "乡镇街道")]
    # A run's layers (the comparison's are in layers/changes/).
    for name in sorted(n for n in os.listdir(os.path.join(REPO, "layers")) if n.endswith(".toml")):
        with open(os.path.join(REPO, "layers", name), "rb") as f:
            d = tomllib.load(f)
        fields = [(x["name"], x["type"], x["alias"], x.get("decimals")) for x in d["fields"]]
        if d.get("admin_fields"):
            fields += [(n, "string", a, None) for n, a in admin]
        layers[d["name"]] = fields
    return layers


def palette():
    with open(os.path.join(REPO, "styles", "palette.toml"), "rb") as f:
        return {g: QColor(v["fill"]) for g, v in tomllib.load(f)["grades"].items()}


def render(layers, extent, size, crs, path):
    s = QgsMapSettings()
    s.setLayers(layers)
    s.setDestinationCrs(crs)
    s.setExtent(extent)
    s.setOutputSize(QSize(*size))
    s.setOutputDpi(96)
    s.setBackgroundColor(QColor("white"))
    job = QgsMapRendererParallelJob(s)
    job.start()
    job.waitForFinished()
    img = job.renderedImage()
    img.save(path)
    render.labels = [l.labelText for l in job.takeLabelingResults().allLabels()]
    return img, s


def close(c, want, tol=3):
    return all(abs(a - b) <= tol for a, b in
               zip((c.red(), c.green(), c.blue()), (want.red(), want.green(), want.blue())))


def rule_filters(layer):
    root = layer.renderer().rootRule()
    return [(r.label(), r.filterExpression()) for r in root.children()]


def check_vector(layer, name, fields):
    """The style, aliases, types and rules of one vector layer."""
    where = f"{layer.source().split('/')[-1]} {name}"
    if not check(layer.isValid(), f"{where}: does not open"):
        return
    r = layer.renderer()
    check(r.type() == "RuleRenderer", f"{where}: default style not loaded (renderer {r.type()})")
    qfields = layer.fields()
    for fname, ftype, alias, decimals in fields:
        i = qfields.indexOf(fname)
        if not check(i >= 0, f"{where}: no field {fname}"):
            continue
        check(layer.attributeAlias(i) == alias,
              f"{where}.{fname}: alias {layer.attributeAlias(i)!r}, expected {alias!r}")
        qtype = qfields.at(i).type()
        if ftype == "date" and ".gpkg" in layer.source():
            check(qtype == QVariant.Date, f"{where}.{fname}: type {qtype}, expected QDate")
        if ftype == "boolean":
            check(qtype == QVariant.Bool, f"{where}.{fname}: type {qtype}, expected bool")
        if ftype == "real":
            w = layer.editorWidgetSetup(i)
            shown = w.config().get("Precision")
            check(w.type() == "Range" and shown == decimals,
                  f"{where}.{fname}: shown by {w.type()!r} with {shown} decimals, expected {decimals}")
    # Every feature matches exactly one rule (the else rule takes the rest).
    if r.type() != "RuleRenderer":
        return
    rules = rule_filters(layer)
    exprs = [(label, None if f == "ELSE" else QgsExpression(f)) for label, f in rules]
    for label, e in exprs:
        if e is not None:
            check(not e.hasParserError(), f"{where}: rule {label}: {e.parserErrorString()}")
    has_else = any(e is None for _, e in exprs)
    ctx = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    bad = 0
    for feat in layer.getFeatures():
        ctx.setFeature(feat)
        hits = sum(1 for _, e in exprs if e is not None and bool(e.evaluate(ctx)))
        if hits > 1 or (hits == 0 and not has_else):
            bad += 1
        for fname, ftype, _, _ in fields:
            v = feat[fname]
            if v is None or (hasattr(v, "isNull") and v.isNull()):
                continue
            if ftype == "boolean":
                check(isinstance(v, bool), f"{where}.{fname}: value {v!r} is not a bool")
            if ftype == "date" and ".gpkg" in layer.source():
                check(isinstance(v, QDate), f"{where}.{fname}: value {v!r} is not a QDate")
    check(bad == 0, f"{where}: {bad} features match no rule or several")


def check_sld(gpkg, name, rules):
    """The layer's SLD from `layer_styles` reads back into QGIS with one rule
    per legend entry."""
    import sqlite3
    import tempfile
    with sqlite3.connect(gpkg) as db:
        row = db.execute("SELECT styleSLD FROM layer_styles WHERE f_table_name = ? AND useAsDefault",
                         (name,)).fetchone()
    if not check(row is not None and row[0], f"{name}: no SLD in layer_styles"):
        return
    path = os.path.join(tempfile.mkdtemp(), f"{name}.sld")
    with open(path, "w", encoding="utf-8") as f:
        f.write(row[0])
    lyr = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
    lyr.loadSldStyle(path)
    r = lyr.renderer()
    got = len(r.rootRule().children()) if r.type() == "RuleRenderer" else 0
    check(got == rules, f"{name}: the SLD reads back as {r.type()} with {got} rules, expected {rules}")


def check_grid_colours(gpkg, colours):
    """A cell of each grade renders in its colour at the grid's opacity."""
    lyr = QgsVectorLayer(f"{gpkg}|layername=exposure_grid", "g", "ogr")
    with open(os.path.join(REPO, "styles", "map.toml"), "rb") as f:
        alpha = tomllib.load(f)["grid"]["alpha"]
    crs = QgsCoordinateReferenceSystem("EPSG:4326")
    for grade, want in colours.items():
        cell = next((f for f in lyr.getFeatures() if f["grade"] == grade), None)
        if not check(cell is not None, f"exposure_grid: no {grade} cell to test"):
            continue
        p = cell.geometry().pointOnSurface().asPoint()
        d = 0.0002  # a fraction of a 100 m cell around a point inside it
        img, _ = render([lyr], QgsRectangle(p.x() - d, p.y() - d, p.x() + d, p.y() + d), (101, 101),
                        crs, os.path.join(RENDERS, f"exposure_grid-{grade}.png"))
        c = QColor(img.pixel(50, 50))
        blended = QColor(*(round(v * alpha + 255 * (1 - alpha)) for v in (want.red(), want.green(), want.blue())))
        check(close(c, blended, 3), f"exposure_grid: a {grade} cell renders as {c.name()}, expected {blended.name()}")


def isolated(layer, grade):
    """An enterprise of `grade` with no other enterprise within ~200 m."""
    pts = [(f["grade"], f.geometry().asPoint()) for f in layer.getFeatures()]
    for g, p in pts:
        if g != grade:
            continue
        if all(q is p or (abs(q.x() - p.x()) > 0.002 or abs(q.y() - p.y()) > 0.002) for _, q in pts):
            return p
    return None


def check_enterprise_colours(layer, colours):
    crs = QgsCoordinateReferenceSystem("EPSG:4326")
    lab = layer.labeling().settings() if layer.labeling() else None
    check(lab is not None and lab.scaleVisibility and lab.minimumScale == 100000,
          "enterprises: names are not limited to scales larger than 1:100000")
    for grade in ("red", "blue"):
        p = isolated(layer, grade)
        if not check(p is not None, f"enterprises: no isolated {grade} enterprise to test"):
            continue
        d = 0.001
        img, _ = render([layer], QgsRectangle(p.x() - d, p.y() - d, p.x() + d, p.y() + d),
                        (201, 201), crs, os.path.join(RENDERS, f"enterprise-{grade}.png"))
        c = QColor(img.pixel(100, 100))
        check(close(c, colours[grade]),
              f"enterprises: a {grade} enterprise renders as {c.name()}, expected {colours[grade].name()}")
    img, _ = render([layer], layer.extent(), (1200, 1200), crs, os.path.join(RENDERS, "enterprises.png"))
    seen = {QColor(img.pixel(x, y)).name() for x in range(0, 1200, 2) for y in range(0, 1200, 2)}
    for grade, want in colours.items():
        check(want.name() in seen, f"enterprises: the whole layer shows no {grade} ({want.name()})")


def check_cog(path):
    """GDAL's own validation of a Cloud-Optimized GeoTIFF, and its layout tag."""
    from osgeo import gdal
    from osgeo_utils.samples.validate_cloud_optimized_geotiff import validate
    warnings, errors, _ = validate(path, full_check=True)
    check(not errors, f"exposure.tif: not a valid COG: {errors}")
    check(not warnings, f"exposure.tif: COG warnings: {warnings}")
    layout = gdal.Info(path, format="json")["metadata"]["IMAGE_STRUCTURE"].get("LAYOUT")
    check(layout == "COG", f"exposure.tif: LAYOUT={layout}")


def check_raster(colours):
    from osgeo import gdal
    path = os.path.join(OUT, "exposure.tif")
    check_cog(path)
    lyr = QgsRasterLayer(path, "exposure")
    if not check(lyr.isValid(), "exposure.tif: does not open"):
        return
    ren = lyr.renderer()
    check(ren.type() == "singlebandpseudocolor",
          f"exposure.tif: sidecar style not loaded (renderer {ren.type()})")
    with open(os.path.join(REPO, "styles", "map.toml"), "rb") as f:
        alpha = tomllib.load(f)["grid"]["alpha"]
    ds = gdal.Open(path)
    band = ds.GetRasterBand(1).ReadAsArray()
    rows, cols = band.shape
    gt = ds.GetGeoTransform()
    extent = QgsRectangle(gt[0], gt[3] + rows * gt[5], gt[0] + cols * gt[1], gt[3])
    img, _ = render([lyr], extent, (cols, rows), lyr.crs(), os.path.join(RENDERS, "exposure.png"))
    t = THRESHOLDS
    classes = [("red", lambda e: e >= t["red"]), ("orange", lambda e: t["orange"] <= e < t["red"]),
               ("yellow", lambda e: t["yellow"] <= e < t["orange"]), ("blue", lambda e: 0 < e < t["yellow"])]
    for grade, test in classes:
        want = colours[grade]
        blended = QColor(*(round(c * alpha + 255 * (1 - alpha)) for c in (want.red(), want.green(), want.blue())))
        found = checked = 0
        for y in range(0, rows, 3):
            for x in range(0, cols, 3):
                if test(float(band[y, x])):
                    checked += 1
                    found += close(QColor(img.pixel(x, y)), blended, 4)
                    if checked >= 200:
                        break
            if checked >= 200:
                break
        check(checked > 0 and found == checked,
              f"exposure.tif: {checked - found} of {checked} {grade} cells not {blended.name()}")
    zero = next(((x, y) for y in range(0, rows, 7) for x in range(0, cols, 7) if band[y, x] == 0), None)
    if check(zero is not None, "exposure.tif: no nodata cell to test"):
        c = QColor(img.pixel(*zero))
        check(c.name() == "#ffffff", f"exposure.tif: nodata renders as {c.name()}, not transparent")


def check_project():
    """The project opens from a moved copy of the folder, every layer valid
    and read from the copy, in the metric CRS, and its atlas makes one page
    per district."""
    import shutil
    import tempfile
    from qgis.core import QgsLayoutExporter, QgsProject
    moved = os.path.join(tempfile.mkdtemp(), "moved elsewhere")
    shutil.copytree(OUT, moved)
    shutil.rmtree(OUT + "-gone", ignore_errors=True)
    os.rename(OUT, OUT + "-gone")  # the original is not there to fall back on
    try:
        p = QgsProject.instance()
        if not check(p.read(os.path.join(moved, "riskatlas.qgs")), "riskatlas.qgs: does not open"):
            return
        tif = QgsRasterLayer(os.path.join(moved, "exposure.tif"), "t")
        check(p.crs().isValid() and p.crs() == tif.crs(),
              f"riskatlas.qgs: project CRS {p.crs().authid()}, expected the metric {tif.crs().authid()}")
        layers = list(p.mapLayers().values())
        check(len(layers) == 11, f"riskatlas.qgs: {len(layers)} layers, expected 11")
        for lyr in layers:
            check(lyr.isValid(), f"riskatlas.qgs: layer {lyr.name()} is not valid")
            check(lyr.source().startswith(moved), f"riskatlas.qgs: {lyr.name()} reads {lyr.source()}")
        groups = [g.name() for g in p.layerTreeRoot().children()]
        check(set(groups) == {"行政区划", "企业", "重大危险源", "隐患", "脆弱性目标", "风险网格", "应急资源", "化工园区"},
              f"riskatlas.qgs: groups {groups}")
        # What the project shows when it opens, for a person to look at.
        root = p.layerTreeRoot()
        shown = [l for l in root.layerOrder() if root.findLayer(l.id()).isVisible()]
        render(shown, p.viewSettings().defaultViewExtent(), (1400, 1000), p.crs(),
               os.path.join(RENDERS, "project.png"))
        units = QgsVectorLayer(f"{moved}/riskatlas.gpkg|layername=admin_units", "u", "ogr")
        names = {f["name"] for f in units.getFeatures() if f["level"] == "district"}
        districts = len(names)
        check(names <= set(render.labels),
              f"riskatlas.qgs: district names not placed on the opening view: {names - set(render.labels)}")
        layout = p.layoutManager().layoutByName("区县图集")
        if not check(layout is not None, "riskatlas.qgs: no layout 区县图集"):
            return
        atlas = layout.atlas()
        check(atlas.enabled() and atlas.updateFeatures() == districts,
              f"riskatlas.qgs: the atlas has {atlas.count()} pages for {districts} districts")
        pages = os.path.join(RENDERS, "atlas")
        shutil.rmtree(pages, ignore_errors=True)
        os.makedirs(pages)
        settings = QgsLayoutExporter.ImageExportSettings()
        settings.dpi = 100
        settings.generateWorldFile = False
        result, err = QgsLayoutExporter.exportToImage(atlas, os.path.join(pages, "page"), "png", settings)
        made = [f for f in os.listdir(pages) if f.endswith(".png")]
        check(result == QgsLayoutExporter.Success and len(made) == districts,
              f"riskatlas.qgs: atlas export {result} {err}, {len(made)} pages for {districts} districts")
    finally:
        os.rename(OUT + "-gone", OUT)
        # The copy is some 200 MB: not left behind in the system's temporary folder.
        QgsProject.instance().clear()
        shutil.rmtree(os.path.dirname(moved), ignore_errors=True)


def main():
    app = QgsApplication([], False)
    app.initQgis()
    cat = catalogue()
    colours = palette()
    gpkg = os.path.join(OUT, "riskatlas.gpkg")
    for name, fields in sorted(cat.items()):
        lyr = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        check_vector(lyr, name, fields)
        if name == "enterprises" and lyr.isValid():
            check_enterprise_colours(lyr, colours)
        if lyr.isValid() and lyr.renderer().type() == "RuleRenderer":
            check_sld(gpkg, name, len(lyr.renderer().rootRule().children()))
        gj = QgsVectorLayer(os.path.join(OUT, "geojson", f"{name}.geojson"), name, "ogr")
        check_vector(gj, name, fields)
    check_grid_colours(gpkg, colours)
    check_raster(colours)
    check_project()
    for f in failures:
        print(f)
    print(f"{len(failures)} failed checks", flush=True)
    # Straight out: QGIS 3.22 can crash while tearing down headless.
    os._exit(1 if failures else 0)


main()

"""The comparison's outputs opened in QGIS 3.22 (headless): the change
raster with the palette beside it (paletted, one class per step with its
label, a cell of each step present rendered in its colour), and each layer
of changes.gpkg with its default style (rule-based, every feature drawn by
exactly one rule, the change field aliased 变化).

Usage: check_changes.py CHANGES_DIR RENDER_DIR"""
import os
import sys

from osgeo import gdal
from qgis.core import (QgsApplication, QgsExpression, QgsExpressionContext,
                       QgsExpressionContextUtils, QgsMapRendererParallelJob, QgsMapSettings,
                       QgsRasterLayer, QgsRectangle, QgsVectorLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

changes, renders = sys.argv[1], sys.argv[2]
tif = f"{changes}/exposure_change.tif"
app = QgsApplication([], False)
app.initQgis()
failed = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed.append(what)
    return ok


layer = QgsRasterLayer(tif, "change")
check(layer.isValid(), "the change raster loads")
renderer = layer.renderer()
check(renderer.type() == "paletted", f"its default style is paletted ({renderer.type()})")
classes = {int(c.value): (c.color.name(), c.label) for c in renderer.classes()}
check(sorted(classes) == list(range(-3, 4)), f"a class per step -3 … +3 ({sorted(classes)})")
check(classes.get(3, ("", ""))[1] == "升3级" and classes.get(-3, ("", ""))[1] == "降3级",
      "classes labelled 升3级 … 降3级")

ds = gdal.Open(tif)
gt = ds.GetGeoTransform()
values = ds.GetRasterBand(1).ReadAsArray()
for step in (-3, -1, 1, 3):
    found = list(zip(*(values == step).nonzero()))
    if not found:
        continue
    row, col = found[0]
    x0, y1 = gt[0] + col * gt[1], gt[3] + row * gt[5]
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setExtent(QgsRectangle(x0 + gt[1] * 0.25, y1 + gt[5] * 0.75,
                                    x0 + gt[1] * 0.75, y1 + gt[5] * 0.25))
    settings.setOutputSize(QSize(5, 5))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    got = job.renderedImage().pixelColor(2, 2).name()
    check(got == classes[step][0], f"a cell of step {step:+} renders {classes[step][0]} (got {got})")

settings = QgsMapSettings()
settings.setLayers([layer])
settings.setDestinationCrs(layer.crs())
settings.setExtent(layer.extent())
settings.setOutputSize(QSize(900, 900))
settings.setBackgroundColor(QColor("white"))
job = QgsMapRendererParallelJob(settings)
job.start()
job.waitForFinished()
job.renderedImage().save(f"{renders}/exposure_change.png")
LAYERS = ["admin_unit_changes", "enterprise_changes", "hazard_source_changes",
          "hidden_danger_changes", "vulnerable_target_changes"]
for name in LAYERS:
    layer = QgsVectorLayer(f"{changes}/changes.gpkg|layername={name}", name, "ogr")
    if not check(layer.isValid(), f"{name} loads"):
        continue
    r = layer.renderer()
    check(r.type() == "RuleRenderer", f"{name}: its default style is rule-based ({r.type()})")
    i = layer.fields().indexOf("change")
    check(i >= 0 and layer.attributeAlias(i) == "变化", f"{name}: change is aliased 变化")
    if r.type() != "RuleRenderer":
        continue
    exprs = [QgsExpression(rule.filterExpression()) for rule in r.rootRule().children()]
    ctx = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    bad, n = 0, 0
    for feat in layer.getFeatures():
        ctx.setFeature(feat)
        n += 1
        if sum(1 for e in exprs if bool(e.evaluate(ctx))) != 1:
            bad += 1
    check(bad == 0, f"{name}: each of its {n} features drawn by exactly one rule ({bad} not)")

print(f"{len(failed)} failed checks", flush=True)
# Straight out: QGIS 3.22 can crash while tearing down headless.
os._exit(1 if failed else 0)

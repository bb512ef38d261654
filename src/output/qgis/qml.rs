//! QGIS layer styles (`.qml`, as QGIS 3.22 reads them): a rule-based
//! renderer with symbol levels (the first rule drawn on top), labels, the
//! Chinese field aliases and the editor widgets of date and yes/no fields;
//! and the exposure raster's discrete ramp.

use super::symbology::{raster_classes, Labels, Line, Rgba, Symbol, Symbology};
use super::xml::Xml;
use crate::output::layers::{FieldType, GeometryKind, LayerDef};
use crate::styles;

/// The QGIS version the styles are written for (the oldest we test with).
pub const QGIS_VERSION: &str = "3.22.16-Białowieża";

pub const DOCTYPE: &str = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>";

/// The font labels are set in: Noto Sans CJK, which the maps use too.
pub const LABEL_FONT: &str = "Noto Sans CJK SC";

/// A number as QGIS writes it in a style (no trailing zeros).
pub fn num(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn option(x: &mut Xml, name: &str, value: &str) {
    x.empty(
        "Option",
        &[("type", "QString"), ("name", name), ("value", value)],
    );
}

fn line_style(line: Option<&Line>) -> &'static str {
    match line {
        None => "no",
        Some(l) if l.dashed => "dash",
        Some(_) => "solid",
    }
}

/// One symbol with a single symbol layer at drawing pass `pass`.
fn symbol(x: &mut Xml, name: &str, s: &Symbol, pass: usize) {
    let pass = pass.to_string();
    let (kind, class) = match s {
        Symbol::Marker { .. } => ("marker", "SimpleMarker"),
        Symbol::Fill { .. } => ("fill", "SimpleFill"),
    };
    x.open(
        "symbol",
        &[
            ("type", kind),
            ("name", name),
            ("alpha", "1"),
            ("clip_to_extent", "1"),
            ("force_rhr", "0"),
        ],
    );
    x.open(
        "layer",
        &[
            ("class", class),
            ("pass", &pass),
            ("enabled", "1"),
            ("locked", "0"),
        ],
    );
    x.open("Option", &[("type", "Map")]);
    let clear = Rgba(0, 0, 0, 0);
    match s {
        Symbol::Marker {
            shape,
            size_mm,
            fill,
            outline,
        } => {
            option(x, "angle", "0");
            option(x, "color", &fill.unwrap_or(clear).to_qgis());
            option(x, "joinstyle", "bevel");
            option(x, "name", shape.name());
            option(x, "outline_color", &outline.colour.to_qgis());
            option(x, "outline_style", line_style(Some(outline)));
            option(x, "outline_width", &num(outline.width_mm));
            option(x, "outline_width_unit", "MM");
            option(x, "scale_method", "diameter");
            option(x, "size", &num(*size_mm));
            option(x, "size_unit", "MM");
        }
        Symbol::Fill { fill, outline } => {
            option(x, "color", &fill.unwrap_or(clear).to_qgis());
            option(x, "joinstyle", "bevel");
            let o = outline.as_ref();
            option(x, "outline_color", &o.map_or(clear, |l| l.colour).to_qgis());
            option(x, "outline_style", line_style(o));
            option(x, "outline_width", &num(o.map_or(0.0, |l| l.width_mm)));
            option(x, "outline_width_unit", "MM");
            option(x, "style", if fill.is_some() { "solid" } else { "no" });
        }
    }
    x.close().close().close();
}

/// The rule-based renderer: the first rule's features are drawn last.
fn renderer(x: &mut Xml, s: &Symbology) {
    x.open(
        "renderer-v2",
        &[
            ("type", "RuleRenderer"),
            ("symbollevels", "1"),
            ("forceraster", "0"),
            ("enableorderby", "0"),
            ("referencescale", "-1"),
        ],
    );
    x.open("rules", &[("key", "root")]);
    for (i, r) in s.rules.iter().enumerate() {
        let (key, sym) = (format!("rule{i}"), i.to_string());
        x.empty(
            "rule",
            &[
                ("key", &key),
                ("label", &r.label),
                ("filter", &r.filter.expression()),
                ("symbol", &sym),
            ],
        );
    }
    x.close();
    x.open("symbols", &[]);
    let n = s.rules.len();
    for (i, r) in s.rules.iter().enumerate() {
        symbol(x, &i.to_string(), &r.symbol, n - 1 - i);
    }
    x.close().close();
}

/// The label expression: the field, or nothing where `only` does not hold.
fn label_expression(l: &Labels) -> String {
    match &l.only {
        Some(f) => format!("CASE WHEN {} THEN \"{}\" END", f.expression(), l.field),
        None => format!("\"{}\"", l.field),
    }
}

fn labeling(x: &mut Xml, l: &Labels, geometry: GeometryKind) {
    let t = &styles::map().text;
    let colour = |hex: &str| Rgba::hex(hex, 1.0).to_qgis();
    let (size, expression) = (num(l.size_pt), label_expression(l));
    x.open("labeling", &[("type", "simple")]);
    x.open("settings", &[("calloutType", "simple")]);
    x.open(
        "text-style",
        &[
            ("fieldName", &expression),
            ("isExpression", "1"),
            ("fontFamily", LABEL_FONT),
            ("namedStyle", "Regular"),
            ("fontSize", &size),
            ("fontSizeUnit", "Point"),
            ("fontWeight", "50"),
            ("textColor", &colour(&t.colour)),
            ("textOpacity", "1"),
        ],
    );
    x.empty(
        "text-buffer",
        &[
            ("bufferDraw", "1"),
            ("bufferSize", "0.8"),
            ("bufferSizeUnits", "MM"),
            ("bufferColor", &colour(&t.halo)),
            ("bufferOpacity", "1"),
            ("bufferNoFill", "1"),
            ("bufferJoinStyle", "128"),
        ],
    );
    x.close();
    // Points: around the point, 1 mm off; polygons: over their inside.
    let priority = l.priority.to_string();
    let mut placement = vec![("priority", priority.as_str())];
    placement.extend_from_slice(match geometry {
        GeometryKind::Point => &[("placement", "0"), ("dist", "1"), ("distUnits", "MM")][..],
        GeometryKind::MultiPolygon => &[("placement", "1"), ("centroidInside", "1")][..],
    });
    x.empty("placement", &placement);
    let scale = num(l.max_scale_denominator);
    let limited = if l.max_scale_denominator > 0.0 {
        "1"
    } else {
        "0"
    };
    x.empty(
        "rendering",
        &[
            ("scaleVisibility", limited),
            // QGIS's names: scaleMax holds the most zoomed-out scale.
            ("scaleMin", "0"),
            ("scaleMax", &scale),
            ("obstacle", "1"),
            ("displayAll", "0"),
            ("drawLabels", "1"),
            ("labelPerPart", "0"),
        ],
    );
    x.close().close();
}

/// The editor widgets QGIS would not guess: dates with their format, yes/no
/// as check boxes, reals with their decimals.
fn field_configuration(x: &mut Xml, def: &LayerDef) {
    x.open("fieldConfiguration", &[]);
    for f in &def.fields {
        let widget = match f.kind {
            FieldType::Date => "DateTime",
            FieldType::Boolean => "CheckBox",
            FieldType::Real => "Range",
            _ => continue,
        };
        x.open(
            "field",
            &[("name", &f.name), ("configurationFlags", "None")],
        );
        x.open("editWidget", &[("type", widget)]);
        x.open("config", &[]);
        x.open("Option", &[("type", "Map")]);
        if f.kind == FieldType::Date {
            let b = |x: &mut Xml, name: &str, v: &str| {
                x.empty("Option", &[("type", "bool"), ("name", name), ("value", v)]);
            };
            b(x, "allow_null", "true");
            b(x, "calendar_popup", "true");
            option(x, "display_format", "yyyy-MM-dd");
            option(x, "field_format", "yyyy-MM-dd");
            b(x, "field_iso_format", "false");
        } else if f.kind == FieldType::Real {
            // Shown with the decimals the value is rounded to.
            let decimals = f.decimals.unwrap_or(4).to_string();
            x.empty(
                "Option",
                &[("type", "bool"), ("name", "AllowNull"), ("value", "true")],
            );
            x.empty(
                "Option",
                &[("type", "int"), ("name", "Precision"), ("value", &decimals)],
            );
            x.empty(
                "Option",
                &[("type", "double"), ("name", "Step"), ("value", "1")],
            );
            option(x, "Style", "SpinBox");
        } else {
            option(x, "CheckedState", "");
            option(x, "UncheckedState", "");
            x.empty(
                "Option",
                &[
                    ("type", "int"),
                    ("name", "TextDisplayMethod"),
                    ("value", "1"),
                ],
            );
        }
        x.close().close().close().close();
    }
    x.close();
    x.open("aliases", &[]);
    for f in &def.fields {
        x.empty("alias", &[("field", &f.name), ("name", &f.alias)]);
    }
    x.close();
}

/// The QML of a vector layer.
pub fn vector(def: &LayerDef, s: &Symbology) -> String {
    document(Some(s.labels_flag()), |x| vector_style(x, def, s))
}

/// A QML document around `body`; `labels` is the vector layers' labels flag.
fn document(labels: Option<&str>, body: impl FnOnce(&mut Xml)) -> String {
    let mut x = Xml::new(DOCTYPE);
    let mut attrs = vec![
        ("version", QGIS_VERSION),
        ("styleCategories", "AllStyleCategories"),
    ];
    attrs.extend(labels.map(|l| ("labelsEnabled", l)));
    attrs.push(("hasScaleBasedVisibilityFlag", "0"));
    x.open("qgis", &attrs);
    body(&mut x);
    x.close();
    x.finish()
}

/// A vector layer's style elements, as they sit in a QML or in a project's
/// `maplayer`: renderer, labels, widgets and aliases.
pub fn vector_style(x: &mut Xml, def: &LayerDef, s: &Symbology) {
    renderer(x, s);
    if let Some(l) = &s.labels {
        labeling(x, l, def.geometry);
    }
    field_configuration(x, def);
    let geometry = match def.geometry {
        GeometryKind::Point => "0",
        GeometryKind::MultiPolygon => "2",
    };
    x.text(
        "previewExpression",
        &[],
        &format!("\"{}\"", preview_field(def)),
    );
    x.text("layerGeometryType", &[], geometry);
}

/// The field a feature is named by in QGIS's identify results: its name, else its id.
fn preview_field(def: &LayerDef) -> &str {
    ["name", "id", "source_id", "code", "grade"]
        .into_iter()
        .find(|n| def.fields.iter().any(|f| f.name == *n))
        .unwrap_or("fid")
}

/// The QML of the exposure GeoTIFF: a discrete ramp at the grade thresholds
/// (nodata, E = 0, stays transparent), at the grid's opacity.
pub fn raster(yellow: f64, orange: f64, red: f64) -> String {
    document(None, |x| raster_style(x, yellow, orange, red))
}

/// The change raster's style: a colour per step, −3 … +3, nodata transparent.
pub fn change_raster() -> String {
    document(None, |x| {
        let change = &styles::map().change;
        x.open("pipe", &[]);
        x.open(
            "rasterrenderer",
            &[
                ("type", "paletted"),
                ("band", "1"),
                ("opacity", "1"),
                ("alphaBand", "-1"),
                ("nodataColor", ""),
            ],
        );
        x.open("colorPalette", &[]);
        for step in -3i16..=3 {
            let label = match step {
                0 => "不变".to_string(),
                s if s > 0 => format!("升{s}级"),
                s => format!("降{}级", -s),
            };
            x.empty(
                "paletteEntry",
                &[
                    ("value", &step.to_string()),
                    ("color", change.colour(step)),
                    ("alpha", "255"),
                    ("label", &label),
                ],
            );
        }
        x.close().close();
        x.empty(
            "brightnesscontrast",
            &[("brightness", "0"), ("contrast", "0"), ("gamma", "1")],
        );
        x.close();
        x.text("blendMode", &[], "0");
    })
}

/// The raster's style elements, as they sit in a QML or a project's `maplayer`.
pub fn raster_style(x: &mut Xml, yellow: f64, orange: f64, red: f64) {
    x.open("pipe", &[]);
    let opacity = num(styles::map().grid.alpha);
    let max = num(red * 2.0);
    x.open(
        "rasterrenderer",
        &[
            ("type", "singlebandpseudocolor"),
            ("band", "1"),
            ("opacity", &opacity),
            ("alphaBand", "-1"),
            ("nodataColor", ""),
            ("classificationMin", "0"),
            ("classificationMax", &max),
        ],
    );
    x.open("rastershader", &[]);
    x.open(
        "colorrampshader",
        &[
            ("colorRampType", "DISCRETE"),
            ("classificationMode", "1"),
            ("clip", "0"),
            ("minimumValue", "0"),
            ("maximumValue", &max),
            ("labelPrecision", "4"),
        ],
    );
    for (bound, colour, label) in raster_classes(yellow, orange, red) {
        let value = if bound.is_finite() {
            format!("{bound:?}")
        } else {
            "inf".to_string()
        };
        x.empty(
            "item",
            &[
                ("value", &value),
                ("color", &colour.to_hex()),
                ("alpha", "255"),
                ("label", &label),
            ],
        );
    }
    x.close().close().close();
    x.empty(
        "brightnesscontrast",
        &[("brightness", "0"), ("contrast", "0"), ("gamma", "1")],
    );
    x.close();
    x.text("blendMode", &[], "0");
}

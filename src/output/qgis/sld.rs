//! The same layer styles as OGC SLD 1.1 (Symbology Encoding), for
//! GeoServer and other SLD readers; QGIS keeps it beside the QML in
//! `layer_styles`. SLD draws rules in document order, so they are written
//! least important first.

use super::qml::LABEL_FONT;
use super::symbology::{Filter, Labels, Line, Lit, Symbol, Symbology};
use super::xml::Xml;
use crate::output::layers::Layer;
use crate::styles;

/// Pixels per millimetre at SLD's standard 0.28 mm pixel.
const PX_PER_MM: f64 = 1.0 / 0.28;

fn px(mm: f64) -> String {
    let v = (mm * PX_PER_MM * 100.0).round() / 100.0;
    format!("{v}")
}

fn svg(x: &mut Xml, name: &str, value: &str) {
    x.text("se:SvgParameter", &[("name", name)], value);
}

fn property_is(x: &mut Xml, field: &str, literal: &str) {
    x.open("ogc:PropertyIsEqualTo", &[]);
    x.text("ogc:PropertyName", &[], field);
    x.text("ogc:Literal", &[], literal);
    x.close();
}

/// Writes a filter's body; booleans compare with 1 and 0, as a GeoPackage holds them.
fn filter_body(x: &mut Xml, f: &Filter) {
    match f {
        Filter::Eq(field, Lit::Str(v)) => property_is(x, field, v),
        Filter::Eq(field, Lit::Int(v)) => property_is(x, field, &v.to_string()),
        Filter::In(field, values) => {
            x.open("ogc:Or", &[]);
            for v in values {
                property_is(x, field, v);
            }
            x.close();
        }
        Filter::IsTrue(field) => property_is(x, field, "1"),
        Filter::IsFalse(field) => property_is(x, field, "0"),
        Filter::All(parts) => {
            x.open("ogc:And", &[]);
            for p in parts {
                filter_body(x, p);
            }
            x.close();
        }
        Filter::Else => unreachable!("the else rule is written as se:ElseFilter"),
    }
}

fn filter(x: &mut Xml, f: &Filter) {
    if *f == Filter::Else {
        x.empty("se:ElseFilter", &[]);
    } else {
        x.open("ogc:Filter", &[("xmlns:ogc", "http://www.opengis.net/ogc")]);
        filter_body(x, f);
        x.close();
    }
}

fn stroke(x: &mut Xml, l: &Line) {
    x.open("se:Stroke", &[]);
    svg(x, "stroke", &l.colour.to_hex());
    svg(x, "stroke-width", &px(l.width_mm));
    if l.dashed {
        svg(x, "stroke-dasharray", "4 2");
    }
    x.close();
}

fn fill(x: &mut Xml, c: super::symbology::Rgba) {
    x.open("se:Fill", &[]);
    svg(x, "fill", &c.to_hex());
    if c.3 < 255 {
        svg(x, "fill-opacity", &format!("{:.2}", c.opacity()));
    }
    x.close();
}

fn symbolizer(x: &mut Xml, s: &Symbol) {
    match s {
        Symbol::Marker {
            shape,
            size_mm,
            fill: f,
            outline,
        } => {
            x.open("se:PointSymbolizer", &[]);
            x.open("se:Graphic", &[]);
            x.open("se:Mark", &[]);
            x.text("se:WellKnownName", &[], shape.name());
            if let Some(c) = f {
                fill(x, *c);
            }
            stroke(x, outline);
            x.close();
            x.text("se:Size", &[], &px(*size_mm));
            x.close().close();
        }
        Symbol::Fill { fill: f, outline } => {
            x.open("se:PolygonSymbolizer", &[]);
            if let Some(c) = f {
                fill(x, *c);
            }
            if let Some(l) = outline {
                stroke(x, l);
            }
            x.close();
        }
    }
}

fn label_rule(x: &mut Xml, l: &Labels) {
    let t = &styles::map().text;
    x.open("se:Rule", &[]);
    x.text("se:Name", &[], "标注");
    if let Some(f) = &l.only {
        filter(x, f);
    }
    if l.max_scale_denominator > 0.0 {
        x.text(
            "se:MaxScaleDenominator",
            &[],
            &format!("{}", l.max_scale_denominator),
        );
    }
    x.open("se:TextSymbolizer", &[]);
    x.open("se:Label", &[]);
    x.text("ogc:PropertyName", &[], l.field);
    x.close();
    x.open("se:Font", &[]);
    svg(x, "font-family", LABEL_FONT);
    svg(x, "font-size", &px(l.size_pt * 25.4 / 72.0));
    x.close();
    x.open("se:Halo", &[]);
    x.text("se:Radius", &[], "2");
    x.open("se:Fill", &[]);
    svg(x, "fill", &t.halo.to_lowercase());
    x.close().close();
    x.open("se:Fill", &[]);
    svg(x, "fill", &t.colour.to_lowercase());
    x.close();
    x.close().close();
}

/// The SLD of a vector layer.
pub fn vector(layer: Layer, s: &Symbology) -> String {
    let mut x = Xml::new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    x.open(
        "StyledLayerDescriptor",
        &[
            ("xmlns", "http://www.opengis.net/sld"),
            ("xmlns:ogc", "http://www.opengis.net/ogc"),
            ("xmlns:se", "http://www.opengis.net/se"),
            ("xmlns:xlink", "http://www.w3.org/1999/xlink"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("version", "1.1.0"),
            (
                "xsi:schemaLocation",
                "http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd",
            ),
        ],
    );
    x.open("NamedLayer", &[]);
    x.text("se:Name", &[], layer.as_str());
    x.open("UserStyle", &[]);
    x.text("se:Name", &[], layer.as_str());
    x.open("se:FeatureTypeStyle", &[]);
    for r in s.rules.iter().rev() {
        x.open("se:Rule", &[]);
        x.text("se:Name", &[], &r.label);
        x.open("se:Description", &[]);
        x.text("se:Title", &[], &r.label);
        x.close();
        filter(&mut x, &r.filter);
        symbolizer(&mut x, &r.symbol);
        x.close();
    }
    x.close();
    // Labels in a style of their own, drawn over every symbol and out of
    // reach of the symbol rules' else filter.
    if let Some(l) = &s.labels {
        x.open("se:FeatureTypeStyle", &[]);
        label_rule(&mut x, l);
        x.close();
    }
    x.close().close().close();
    x.finish()
}

//! The MapLibre GL style of the tiles, made from the same description of
//! each layer as the QGIS styles ([`symbology`]): one MapLibre layer per
//! rule (most important on top), circles for enterprises, sprite icons for
//! the other markers, fills and outlines for polygons, and labels for the
//! units and the red and orange enterprises.

use serde_json::{json, Value as Json};

use crate::ingest::config::{Project, Web};
use crate::output::layers::{self, Layer};
use crate::output::qgis::symbology::{self, Filter, Lit, Rgba, Shape, Symbol};
use crate::output::web::{LABELS, TILES};
use crate::styles;

/// The source's name in the style.
pub const SOURCE: &str = "riskatlas";
/// The basemap's source and layer name.
pub const BASEMAP: &str = "basemap";

/// CSS pixels of `mm` millimetres of symbol.
pub fn px(mm: f64) -> f64 {
    round2(mm * styles::map().web.px_per_mm)
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Points to CSS pixels.
fn pt(points: f64) -> f64 {
    round2(points * 96.0 / 72.0)
}

/// A filter as a MapLibre expression; `others` are the layer's other
/// filters, which an else rule excludes.
pub fn expression(f: &Filter, others: &[&Filter]) -> Json {
    let get = |field: &str| json!(["get", field]);
    match f {
        Filter::Eq(field, Lit::Str(v)) => json!(["==", get(field), v]),
        Filter::Eq(field, Lit::Int(v)) => json!(["==", get(field), v]),
        Filter::In(field, values) => json!(["in", get(field), ["literal", values]]),
        Filter::IsTrue(field) => json!(["==", get(field), true]),
        Filter::IsFalse(field) => json!(["!=", get(field), true]),
        Filter::All(parts) => {
            let mut v = vec![json!("all")];
            v.extend(parts.iter().map(|p| expression(p, &[])));
            Json::Array(v)
        }
        Filter::Else => {
            let mut any = vec![json!("any")];
            any.extend(
                others
                    .iter()
                    .filter(|o| ***o != Filter::Else)
                    .map(|o| expression(o, &[])),
            );
            json!(["!", Json::Array(any)])
        }
    }
}

fn colour(c: Rgba) -> String {
    c.to_hex()
}

/// The sprite icon of rule `i` of `layer`.
pub fn icon_name(layer: Layer, i: usize) -> String {
    format!("{layer}-{i}")
}

/// Every marker that is not a circle, as a sprite icon: (name, symbol).
pub fn icons() -> Vec<(String, Symbol)> {
    layers::in_draw_order()
        .into_iter()
        .flat_map(|l| {
            symbology::symbology(l)
                .rules
                .into_iter()
                .enumerate()
                .filter(|(_, r)| matches!(r.symbol, Symbol::Marker { shape, .. } if shape != Shape::Circle))
                .map(move |(i, r)| (icon_name(l, i), r.symbol))
        })
        .collect()
}

/// The MapLibre layers of one rule.
fn rule_layers(layer: Layer, i: usize, filter: Json, symbol: &Symbol) -> Vec<Json> {
    let id = format!("{layer}-{i}");
    let base = |id: String, kind: &str| {
        json!({
            "id": id,
            "type": kind,
            "source": SOURCE,
            "source-layer": layer.to_string(),
            "filter": filter,
        })
    };
    let mut out = Vec::new();
    match symbol {
        Symbol::Fill { fill, outline } => {
            if let Some(f) = fill {
                let mut l = base(id.clone(), "fill");
                l["paint"] =
                    json!({ "fill-color": colour(*f), "fill-opacity": round2(f.opacity()) });
                out.push(l);
            }
            if let Some(o) = outline {
                let mut l = base(format!("{id}-outline"), "line");
                l["paint"] = json!({
                    "line-color": colour(o.colour),
                    "line-opacity": round2(o.colour.opacity()),
                    "line-width": px(o.width_mm).max(0.5),
                });
                if o.dashed {
                    l["paint"]["line-dasharray"] = json!([3, 2]);
                }
                out.push(l);
            }
        }
        Symbol::Marker {
            shape: Shape::Circle,
            size_mm,
            fill,
            outline,
        } => {
            let mut l = base(id, "circle");
            l["paint"] = json!({
                "circle-radius": px(*size_mm / 2.0),
                "circle-color": fill.map(colour).unwrap_or_else(|| "#ffffff".into()),
                "circle-opacity": fill.map(|f| round2(f.opacity())).unwrap_or(0.0),
                "circle-stroke-color": colour(outline.colour),
                "circle-stroke-width": px(outline.width_mm),
            });
            out.push(l);
        }
        Symbol::Marker { .. } => {
            let mut l = base(id, "symbol");
            l["layout"] = json!({
                "icon-image": icon_name(layer, i),
                "icon-allow-overlap": true,
                "icon-ignore-placement": true,
            });
            out.push(l);
        }
    }
    out
}

/// The layers of one output layer: its rules, the first on top.
fn layer_layers(layer: Layer) -> Vec<Json> {
    let s = symbology::symbology(layer);
    let filters: Vec<&Filter> = s.rules.iter().map(|r| &r.filter).collect();
    s.rules
        .iter()
        .enumerate()
        .rev()
        .flat_map(|(i, r)| rule_layers(layer, i, expression(&r.filter, &filters), &r.symbol))
        .collect()
}

/// The label layer of `layer`, if it has labels (units' names come from
/// their name points).
fn label_layer(layer: Layer) -> Option<Json> {
    let labels = symbology::symbology(layer).labels?;
    let m = styles::map();
    let (source_layer, min_zoom) = match layer {
        Layer::AdminUnits => (LABELS.to_string(), 0),
        Layer::Enterprises => (layer.to_string(), m.web.enterprise_labels),
        _ => (layer.to_string(), 0),
    };
    let mut l = json!({
        "id": format!("{layer}-labels"),
        "type": "symbol",
        "source": SOURCE,
        "source-layer": source_layer,
        "minzoom": min_zoom,
        "layout": {
            "text-field": ["get", labels.field],
            "text-font": [m.web.font],
            "text-size": pt(labels.size_pt),
            "text-max-width": 8,
            "symbol-sort-key": 10 - i64::from(labels.priority),
        },
        "paint": {
            "text-color": m.text.colour.to_lowercase(),
            "text-halo-color": m.text.halo.to_lowercase(),
            "text-halo-width": 1.5,
        },
    });
    if layer == Layer::Enterprises {
        l["layout"]["text-offset"] = json!([0, 0.9]);
        l["layout"]["text-anchor"] = json!("top");
        l["layout"]["text-optional"] = json!(true);
    }
    if let Some(f) = &labels.only {
        l["filter"] = expression(f, &[]);
    }
    Some(l)
}

/// The style: an optional basemap, the layers bottom to top, the labels
/// on top (the units' last, so they win placement).
pub fn style(project: &Project, cfg: &Web, bounds: [f64; 4]) -> Json {
    let max_zoom = styles::map().web.max_zoom;
    let mut sources = serde_json::Map::new();
    sources.insert(
        SOURCE.into(),
        json!({
            "type": "vector",
            "url": format!("pmtiles://{TILES}"),
            "attribution": project.source_line(),
            "maxzoom": max_zoom,
        }),
    );
    let mut style_layers = vec![json!({
        "id": "background",
        "type": "background",
        "paint": { "background-color": styles::map().page.background.to_lowercase() },
    })];
    if let Some(b) = &cfg.basemap {
        sources.insert(
            BASEMAP.into(),
            json!({
                "type": "raster",
                "tiles": [b.tiles],
                "tileSize": b.tile_size,
                "maxzoom": b.max_zoom,
                "attribution": b.attribution,
            }),
        );
        style_layers.push(json!({ "id": BASEMAP, "type": "raster", "source": BASEMAP }));
    }
    for l in layers::in_draw_order() {
        style_layers.extend(layer_layers(l));
    }
    let mut labelled: Vec<Layer> = layers::in_draw_order();
    labelled.sort_by_key(|l| symbology::symbology(*l).labels.map(|x| x.priority));
    style_layers.extend(labelled.into_iter().filter_map(label_layer));
    let centre = [(bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0];
    json!({
        "version": 8,
        "name": project.title,
        "metadata": { "riskatlas:crs": cfg.crs.as_str(), "riskatlas:year": project.year },
        "center": [round6(centre[0]), round6(centre[1])],
        "zoom": super::fit_zoom(bounds),
        "sprite": "sprite",
        "sources": sources,
        "layers": style_layers,
    })
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// The legend entries of a layer for the viewer: label and how it is drawn.
pub fn legend(layer: Layer) -> Json {
    let entries: Vec<Json> = symbology::symbology(layer)
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| match &r.symbol {
            Symbol::Fill { fill, outline } => json!({
                "label": r.label,
                "kind": "fill",
                "fill": fill.map(colour),
                "opacity": fill.map(|f| round2(f.opacity())),
                "outline": outline.map(|o| colour(o.colour)),
                "dashed": outline.map(|o| o.dashed).unwrap_or(false),
            }),
            Symbol::Marker {
                shape: Shape::Circle,
                fill,
                outline,
                ..
            } => json!({
                "label": r.label,
                "kind": "circle",
                "fill": fill.map(colour),
                "outline": colour(outline.colour),
            }),
            Symbol::Marker { .. } => json!({
                "label": r.label,
                "kind": "icon",
                "icon": icon_name(layer, i),
            }),
        })
        .collect();
    Json::Array(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_else_rule_excludes_the_others() {
        let a = Filter::Eq("hazard_grade", Lit::Int(1));
        let b = Filter::Eq("hazard_grade", Lit::Int(2));
        let e = expression(&Filter::Else, &[&a, &b, &Filter::Else]);
        assert_eq!(
            e,
            json!([
                "!",
                [
                    "any",
                    ["==", ["get", "hazard_grade"], 1],
                    ["==", ["get", "hazard_grade"], 2]
                ]
            ])
        );
    }

    #[test]
    fn every_rule_has_a_layer_and_every_icon_a_name() {
        for l in Layer::ALL {
            let n = symbology::symbology(l).rules.len();
            assert!(layer_layers(l).len() >= n, "{l}");
        }
        let names: Vec<String> = icons().into_iter().map(|(n, _)| n).collect();
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(names, unique);
        assert!(names.iter().any(|n| n.starts_with("hazard_sources-")));
    }
}

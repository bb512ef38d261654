//! The web deliverable, `web/` in the output: the layers as vector tiles in
//! one PMTiles file, a MapLibre GL style made from `styles/` (the same
//! palette and symbols as the PNG maps and the QGIS styles), its sprite, and
//! an offline viewer with MapLibre GL JS vendored beside it.
//!
//! Features are collected while the layers are written ([`WebLayers`]);
//! the exposure grid is tiled from its grade raster. [`write`] then cuts the
//! tiles and writes the folder.

pub mod mvt;
mod sprite;
pub mod style;
pub mod tiles;
mod viewer;

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Instant;

use geo::InteriorPoint;
use rayon::prelude::*;
use serde_json::json;

use crate::crs;
use crate::ingest::config::{Web, WebCrs};
use crate::model::{AdminLevel, DangerLevel, Grade};
use crate::output::layers::{self, Layer, LayerDef, Row, Shape, Value};
use crate::output::qgis::symbology::{self, Symbol, Symbology};
use crate::output::write::{write_text, WriteError};
use crate::output::Results;
use crate::progress::Timings;
use crate::styles;
use tiles::{Collected, GridPyramid, Placement, TileKey, Transform};

/// The folder of the web deliverable in the output.
pub const DIR: &str = "web";
/// The vector tiles.
pub const TILES: &str = "riskatlas.pmtiles";
/// The tile layer of the units' name points (one per unit, so a name is
/// placed once rather than once per tile its polygon crosses).
pub const LABELS: &str = "admin_units_labels";

/// The functions from WGS 84 to the web map's coordinates and back.
fn web_transform(crs: WebCrs) -> (Transform, Transform) {
    fn same(lon: f64, lat: f64) -> (f64, f64) {
        (lon, lat)
    }
    match crs {
        WebCrs::Wgs84 => (same, same),
        WebCrs::Gcj02 => (crs::wgs84_to_gcj02, crs::gcj02_to_wgs84),
        WebCrs::Bd09 => (crs::wgs84_to_bd09, crs::bd09_to_wgs84),
    }
}

/// A district's entry in the viewer's list.
struct District {
    code: String,
    name: String,
    grade: String,
    bounds: [f64; 4],
}

/// The layer being collected: its tile layer, the fields the web keeps
/// and its style, which ranks its features.
struct Current {
    layer: Layer,
    index: usize,
    fields: Vec<usize>,
    style: Symbology,
}

/// The layers' features, collected for the tiles as the layers are written.
pub struct WebLayers {
    collected: Collected,
    current: Option<Current>,
    labels: Option<usize>,
    ids: u64,
    districts: Vec<District>,
}

impl WebLayers {
    /// An empty collection in the web map's coordinates.
    pub fn new(cfg: &Web) -> WebLayers {
        let (to, from) = web_transform(cfg.crs);
        WebLayers {
            collected: Collected::new(to, from),
            current: None,
            labels: None,
            ids: 0,
            districts: Vec::new(),
        }
    }

    /// Starts `layer` (the grid is tiled from its raster instead).
    pub fn begin(&mut self, layer: Layer) {
        self.ids = 0;
        // The layer before is complete: its columns' spare room goes back.
        self.collected.shrink();
        if layer == Layer::ExposureGrid {
            self.current = None;
            return;
        }
        let def = layers::def(layer);
        let fields: Vec<usize> = (0..def.fields.len())
            .filter(|&i| def.fields[i].web)
            .collect();
        let names = fields.iter().map(|&i| def.fields[i].name.clone()).collect();
        let style = symbology::symbology(layer);
        let thin = tiles::thin_cell(smallest_symbol_px(&style));
        let index = self.collected.begin_layer(&layer.to_string(), names, thin);
        if layer == Layer::AdminUnits {
            let names = LABEL_FIELDS.iter().map(|n| n.to_string()).collect();
            self.labels = Some(self.collected.begin_layer(LABELS, names, thin));
        }
        self.current = Some(Current {
            layer,
            index,
            fields,
            style,
        });
    }

    /// Adds a part of the current layer's rows; ids count from 1 in the
    /// layer, as the GeoJSON `id` and the GeoPackage `fid` do.
    pub fn add(&mut self, rows: &[Row]) {
        let Some(current) = self.current.take() else {
            self.ids += rows.len() as u64;
            return;
        };
        let layer = current.layer;
        let def = layers::def(layer);
        for row in rows {
            self.ids += 1;
            let values: Vec<&Value> = current.fields.iter().map(|&i| &row.values[i]).collect();
            let at = Placement {
                min_zoom: min_zoom(layer, def, row),
                rank: current.style.rank(&|name| value(def, row, name)) as u8,
            };
            self.collected
                .add(current.index, self.ids, at, &row.shape, &values);
            if layer == Layer::AdminUnits {
                self.add_label(def, row, at.min_zoom);
            }
        }
        self.current = Some(current);
    }

    /// The unit's name point, and its entry in the district list.
    fn add_label(&mut self, def: &LayerDef, row: &Row, z: u8) {
        let Shape::MultiPolygon(mp) = &row.shape else {
            return;
        };
        let Some(p) = mp.interior_point() else { return };
        let get = |n: &str| value(def, row, n);
        let values = LABEL_FIELDS.map(get);
        let labels = self.labels.expect("labels begin with the units");
        let at = Placement {
            min_zoom: z,
            rank: 0,
        };
        self.collected
            .add(labels, self.ids, at, &Shape::Point(p), &values);
        if *get("level") == Value::Str(AdminLevel::District.as_str().into()) {
            let text = |v: &Value| match v {
                Value::Str(s) => s.clone(),
                _ => String::new(),
            };
            let to_web = |lon: f64, lat: f64| self.collected.to_web(lon, lat);
            let b = geo::BoundingRect::bounding_rect(mp).map(|r| {
                let (a, b) = (to_web(r.min().x, r.min().y), to_web(r.max().x, r.max().y));
                [a.0, a.1, b.0, b.1]
            });
            self.districts.push(District {
                code: text(get("code")),
                name: text(get("name")),
                grade: text(get("grade")),
                bounds: b.unwrap_or_default(),
            });
        }
    }
}

/// The width in pixels of the smallest point symbol of a layer's style, if
/// it draws points.
fn smallest_symbol_px(style: &Symbology) -> Option<f64> {
    style
        .rules
        .iter()
        .filter_map(|r| match r.symbol {
            Symbol::Marker { size_mm, .. } => Some(style::px(size_mm)),
            Symbol::Fill { .. } => None,
        })
        .min_by(f64::total_cmp)
}

/// The fields of the units' name points.
const LABEL_FIELDS: [&str; 4] = ["code", "name", "level", "grade"];

/// The row's value of field `name`.
fn value<'a>(def: &LayerDef, row: &'a Row, name: &str) -> &'a Value {
    let i = def
        .fields
        .iter()
        .position(|f| f.name == name)
        .unwrap_or_else(|| panic!("{} has a field {name}", def.name));
    &row.values[i]
}

/// The zoom from which a feature is in the tiles (`styles/map.toml` [web]).
fn min_zoom(layer: Layer, def: &LayerDef, row: &Row) -> u8 {
    let w = &styles::map().web;
    // Compared in place: a text made for each comparison was three
    // allocations per enterprise.
    let is = |name: &str, v: &str| matches!(value(def, row, name), Value::Str(s) if s == v);
    match layer {
        Layer::AdminUnits if is("level", AdminLevel::Town.as_str()) => w.towns,
        Layer::AdminUnits | Layer::ExposureGrid | Layer::ChemicalParks => 0,
        Layer::Enterprises => {
            if is("grade", Grade::Red.as_str()) || is("grade", Grade::Orange.as_str()) {
                w.enterprises_red_orange
            } else if is("grade", Grade::Yellow.as_str()) {
                w.enterprises_yellow
            } else {
                w.enterprises_blue
            }
        }
        Layer::HazardSources => match value(def, row, "is_major") {
            Value::Bool(true) => w.major_hazards,
            _ => w.other_hazard_units,
        },
        Layer::HiddenDangers if is("level", DangerLevel::Major.as_str()) => w.major_dangers,
        Layer::HiddenDangers => w.general_dangers,
        Layer::VulnerableTargets => w.targets,
        Layer::EmergencyResources => w.resources,
        Layer::ResourceCoverage => w.coverage,
        Layer::InfluenceZones => w.influence_zones,
        // Not in a run's tiles.
        Layer::AdminUnitChanges
        | Layer::EnterpriseChanges
        | Layer::HazardSourceChanges
        | Layer::HiddenDangerChanges
        | Layer::VulnerableTargetChanges => 0,
    }
}

/// The grade names of the grid's codes 0–4 (0: no exposure).
fn grid_grades() -> [&'static str; 5] {
    [
        "",
        Grade::Blue.as_str(),
        Grade::Yellow.as_str(),
        Grade::Orange.as_str(),
        Grade::Red.as_str(),
    ]
}

/// What was written: tiles per zoom, bytes, features per tile layer.
pub struct WebSummary {
    /// Tiles written.
    pub tiles: usize,
    /// The PMTiles file's size.
    pub bytes: u64,
    /// (tile layer, features collected).
    pub features: Vec<(String, usize)>,
}

/// Writes `web/`: the tiles, the style and sprite, the viewer's data and
/// the viewer. `grid_codes` is the grid's grade raster.
pub fn write(
    r: Results,
    cfg: &Web,
    mut web: WebLayers,
    grid_codes: Vec<u8>,
    out_dir: &Path,
    timings: &mut Timings,
) -> Result<WebSummary, WriteError> {
    let dir = out_dir.join(DIR);
    std::fs::create_dir_all(&dir).map_err(|source| WriteError::Io {
        path: dir.clone(),
        source,
    })?;
    web.collected.shrink();
    web.collected.order_spatially();
    let w = &styles::map().web;
    let pyramid = GridPyramid::new(
        r.grid.spec,
        r.loaded.index.metric().clone(),
        grid_codes,
        &Layer::ExposureGrid.to_string(),
        grid_grades(),
        w.grid,
    );
    let bounds = web
        .collected
        .bounds()
        .unwrap_or([-180.0, -85.0, 180.0, 85.0]);
    let t = Instant::now();
    let (tiles, bytes) = write_pmtiles(
        &dir.join(TILES),
        &web.collected,
        &pyramid,
        bounds,
        w.max_zoom,
    )?;
    timings.push("web_tiles".into(), t.elapsed().as_secs_f64());
    let t = Instant::now();
    let info = viewer_info(r, cfg, &web, bounds);
    write_text(&dir.join("map.json"), &pretty(&info))?;
    write_text(
        &dir.join("style.json"),
        &pretty(&style::style(r.project, cfg, bounds)),
    )?;
    sprite::write(&dir)?;
    viewer::write(&dir)?;
    timings.push("web_style_viewer".into(), t.elapsed().as_secs_f64());
    Ok(WebSummary {
        tiles,
        bytes,
        features: web.collected.counts(),
    })
}

fn pretty(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values serialise");
    s.push('\n');
    s
}

/// Tiles encoded together, in parallel, before they are written.
const TILES_AT_ONCE: usize = 256;

/// The PMTiles id of a tile (its place on the Hilbert curve of its zoom).
fn tile_id(k: TileKey) -> u64 {
    pmtiles::TileId::from(pmtiles::TileCoord::new(k.z, k.x, k.y).expect("a tile within its zoom"))
        .value()
}

/// Cuts and writes the tiles zoom by zoom (a zoom's tiles encoded and
/// compressed in parallel, a few hundred at a time); returns the tiles
/// written and the file's size.
fn write_pmtiles(
    path: &Path,
    c: &Collected,
    grid: &GridPyramid,
    bounds: [f64; 4],
    max_zoom: u8,
) -> Result<(usize, u64), WriteError> {
    let io = |source: std::io::Error| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let pm = |e: pmtiles::PmtError| WriteError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    };
    let file = File::create(path).map_err(io)?;
    let centre = [(bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0];
    let mut writer = pmtiles::PmTilesWriter::new(pmtiles::TileType::Mvt)
        .precompressed(pmtiles::Compression::Gzip)
        .internal_compression(pmtiles::Compression::Gzip)
        .min_zoom(0)
        .max_zoom(max_zoom)
        .bounds(bounds[0], bounds[1], bounds[2], bounds[3])
        .center(centre[0], centre[1])
        .center_zoom(fit_zoom(bounds))
        .metadata(tile_metadata(c, max_zoom).to_string())
        .create(BufWriter::with_capacity(1 << 20, file))
        .map_err(pm)?;
    let mut count = 0;
    let mut write = |tiles: Vec<(TileKey, Vec<u8>)>| -> Result<(), WriteError> {
        for (k, b) in tiles {
            writer
                .add_tile(pmtiles::TileCoord::new(k.z, k.x, k.y).map_err(pm)?, &b)
                .map_err(pm)?;
            count += 1;
        }
        Ok(())
    };
    for z in 0..=max_zoom {
        let zoom = tiles::tiles_at_zoom(c, Some(grid), z, z < max_zoom, tile_id);
        let encode = |jobs: &[tiles::TileJob]| -> Vec<(TileKey, Vec<u8>)> {
            jobs.par_iter()
                .map(|j| (j.key, zoom.encode(j)))
                .filter(|(_, b)| !b.is_empty())
                .map(|(k, b)| (k, gzip(&b)))
                .collect()
        };
        // A few hundred tiles at a time, so memory holds those tiles'
        // bytes and grid polygons, never a whole zoom's; each batch is
        // written while the next is encoded.
        let mut done: Vec<(TileKey, Vec<u8>)> = Vec::new();
        for jobs in zoom.jobs.chunks(TILES_AT_ONCE) {
            let (written, next) = rayon::join(|| write(std::mem::take(&mut done)), || encode(jobs));
            written?;
            done = next;
        }
        write(done)?;
    }
    writer.finalize().map_err(pm)?;
    let bytes = std::fs::metadata(path).map_err(io)?.len();
    Ok((count, bytes))
}

/// The tiles' gzip level, with libdeflate: level 1 makes the province's tiles
/// (1,015 MB of MVT) 433 MB in 5.3 s of CPU, where zlib-rs took 10.6 s for
/// 426 MB at its level 3 and 5.4 s for 515 MB at its level 1.
const GZIP_LEVEL: i32 = 1;

thread_local! {
    /// Each thread's compressor, made once (it holds its hash tables), and
    /// its output buffer, as large as the largest tile's bound: a tile's
    /// bytes are copied out at their size, so a batch of tiles waiting to
    /// be written holds no more than it must.
    static GZIP: std::cell::RefCell<(libdeflater::Compressor, Vec<u8>)> = std::cell::RefCell::new((
        libdeflater::Compressor::new(
            libdeflater::CompressionLvl::new(GZIP_LEVEL).expect("a valid level"),
        ),
        Vec::new(),
    ));
}

/// Gzip with no name or time in the header, so the same tile gives the same bytes.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    GZIP.with_borrow_mut(|(c, out)| {
        out.resize(c.gzip_compress_bound(bytes.len()), 0);
        let n = c
            .gzip_compress(bytes, out)
            .expect("the bound holds the output");
        out[..n].to_vec()
    })
}

/// The zoom at which `bounds` (lon/lat) fills a 1024-pixel-wide view.
pub fn fit_zoom(bounds: [f64; 4]) -> u8 {
    let a = tiles::world(bounds[0], bounds[3]);
    let b = tiles::world(bounds[2], bounds[1]);
    let span = (b[0] - a[0]).max(b[1] - a[1]).max(1e-9);
    ((1024.0 / 256.0 / span).log2().floor()).clamp(0.0, 14.0) as u8
}

/// TileJSON's `vector_layers`: each tile layer, its fields and zooms.
fn tile_metadata(c: &Collected, max_zoom: u8) -> serde_json::Value {
    let mut layers = vec![json!({
        "id": Layer::ExposureGrid.to_string(),
        "fields": { "grade": "String" },
        "minzoom": styles::map().web.grid,
        "maxzoom": max_zoom,
    })];
    for (name, fields) in c.layer_fields() {
        let types: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|f| (f.to_string(), json!(field_type(&name, f))))
            .collect();
        layers.push(json!({ "id": name, "fields": types, "minzoom": 0, "maxzoom": max_zoom }));
    }
    json!({
        "name": "riskatlas",
        "format": "pbf",
        "generator": concat!("riskatlas ", env!("CARGO_PKG_VERSION")),
        "vector_layers": layers,
    })
}

/// TileJSON's type of a field: `Number`, `Boolean` or `String`.
fn field_type(layer: &str, field: &str) -> &'static str {
    let layer = if layer == LABELS {
        "admin_units"
    } else {
        layer
    };
    let def = layers::catalogue()
        .values()
        .find(|d| d.name.to_string() == layer)
        .expect("a tile layer is a catalogue layer");
    match def.fields.iter().find(|f| f.name == field).map(|f| f.kind) {
        Some(layers::FieldType::Integer | layers::FieldType::Real) => "Number",
        Some(layers::FieldType::Boolean) => "Boolean",
        _ => "String",
    }
}

/// What the viewer shows besides the map: title, dates, the layers' names
/// and aliases, the legend, the districts and the lists.
fn viewer_info(r: Results, cfg: &Web, web: &WebLayers, bounds: [f64; 4]) -> serde_json::Value {
    let p = r.project;
    let layers: Vec<serde_json::Value> = layers::in_draw_order()
        .into_iter()
        .rev()
        .map(|l| {
            let def = layers::def(l);
            json!({
                "id": l.to_string(),
                "title": def.title,
                "fields": def.fields.iter().filter(|f| f.web).map(|f| json!({ "name": f.name, "alias": f.alias })).collect::<Vec<_>>(),
                "legend": style::legend(l),
            })
        })
        .collect();
    let districts: Vec<serde_json::Value> = web
        .districts
        .iter()
        .map(|d| json!({ "code": d.code, "name": d.name, "grade": d.grade, "bounds": d.bounds }))
        .collect();
    let mut lists: Vec<serde_json::Value> = crate::output::lists::NAMES
        .iter()
        .map(|n| json!({ "name": n, "href": format!("../{}/{n}.csv", crate::output::lists::DIR) }))
        .collect();
    lists.push(json!({ "name": "清单（Excel 工作簿）", "href": format!("../{}/{}", crate::output::lists::DIR, crate::output::lists::WORKBOOK) }));
    let grades: Vec<serde_json::Value> = Grade::DESCENDING
        .into_iter()
        .map(|g| json!({ "grade": g.as_str(), "label": styles::label(g), "colour": styles::grade(g).fill }))
        .collect();
    json!({
        "title": p.title,
        "area_name": p.area_name,
        "year": p.year,
        "data_date": p.as_of.to_string(),
        "source": p.source_line(),
        "crs": cfg.crs.as_str(),
        "bounds": bounds,
        "tiles": TILES,
        "grades": grades,
        "layers": layers,
        "districts": districts,
        "lists": lists,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::config::Basemap;

    fn one_enterprise(cfg: &Web) -> WebLayers {
        let def = layers::def(Layer::Enterprises);
        let mut rows = layers::sample_rows(def, 1);
        rows[0].shape = Shape::Point(geo::Point::new(119.95, 31.78));
        let mut w = WebLayers::new(cfg);
        w.begin(Layer::Enterprises);
        w.add(&rows);
        w
    }

    #[test]
    fn gcj02_tiles_are_shifted_by_the_forward_formula() {
        let wgs = one_enterprise(&Web::default());
        let gcj = one_enterprise(&Web {
            crs: WebCrs::Gcj02,
            ..Web::default()
        });
        let (lon, lat) = crs::wgs84_to_gcj02(119.95, 31.78);
        assert_eq!(wgs.collected.bounds(), Some([119.95, 31.78, 119.95, 31.78]));
        assert_eq!(gcj.collected.bounds(), Some([lon, lat, lon, lat]));
        // Some 500 m east and north-west of where WGS 84 puts it.
        assert!((lon - 119.95).abs() > 0.003 && (lat - 31.78).abs() > 0.001);
    }

    #[test]
    fn ids_count_from_one_across_parts_as_in_the_geojson() {
        let def = layers::def(Layer::HiddenDangers);
        let mut w = WebLayers::new(&Web::default());
        w.begin(Layer::HiddenDangers);
        w.add(&layers::sample_rows(def, 3));
        w.add(&layers::sample_rows(def, 2));
        let ids: Vec<u64> = w.collected.ids(0);
        assert_eq!(ids, vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_basemap_sits_under_every_layer_of_the_style() {
        let project = crate::ingest::config::Project::parse(
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/changzhou/project.toml"),
            )
            .unwrap(),
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/changzhou/project.toml"),
        )
        .unwrap();
        let cfg = Web {
            basemap: Some(Basemap {
                tiles: "https://tiles.example/{z}/{x}/{y}.png".into(),
                attribution: "底图".into(),
                tile_size: 256,
                max_zoom: 18,
            }),
            ..Web::default()
        };
        let s = style::style(&project, &cfg, [119.0, 31.0, 120.0, 32.0]);
        assert_eq!(s["layers"][1]["id"], style::BASEMAP);
        assert_eq!(
            s["sources"][style::BASEMAP]["tiles"][0],
            "https://tiles.example/{z}/{x}/{y}.png"
        );
        let none = style::style(&project, &Web::default(), [119.0, 31.0, 120.0, 32.0]);
        assert!(none["sources"].get(style::BASEMAP).is_none());
    }
}

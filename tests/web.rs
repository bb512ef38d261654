//! The web map of the example: its tiles read back with independent readers
//! (the `pmtiles` crate's and `mvt-reader`), `riskatlas serve` answering
//! range requests, and the viewer driven in headless Chromium
//! (`tests/web/check_viewer.mjs`; `./scripts/setup.sh --tests` installs
//! Chromium, Node's playwright-core and the fonts). Screenshots are left in
//! `target/web-screenshots/` for a person to look at.

mod util;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use geo::{Area, BooleanOps, Coord, LineString, MultiPolygon, Polygon, Rect};
use serde_json::Value;
use util::*;

/// The example's output, made once for the tests of this file.
fn example() -> &'static Path {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| example_in_scratch("web-example"))
}

/// Runs a future of the async PMTiles reader to its end.
fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// The tiles of the file's highest zoom, decoded.
struct TopZoom {
    /// The zoom (the header's `max_zoom`).
    z: u8,
    /// Units across a tile, the same in every layer of every tile.
    extent: f64,
    /// (x, y, decoded tile).
    tiles: Vec<(u32, u32, mvt_reader::Reader)>,
}

impl TopZoom {
    fn read(path: &Path) -> TopZoom {
        let (z, tiles) = top_tiles(path);
        let extents: BTreeSet<u32> = tiles
            .iter()
            .flat_map(|(_, _, r)| r.get_layer_metadata().unwrap())
            .map(|l| l.extent)
            .collect();
        assert_eq!(extents.len(), 1, "one extent in every layer: {extents:?}");
        let extent = f64::from(*extents.first().unwrap());
        TopZoom { z, extent, tiles }
    }

    /// Lon/lat of tile coordinates in tile (x, y).
    fn lon_lat(&self, x: u32, y: u32, px: f64, py: f64) -> (f64, f64) {
        let n = f64::from(1u32 << self.z);
        let wx = (f64::from(x) + px / self.extent) / n;
        let wy = (f64::from(y) + py / self.extent) / n;
        let lon = wx * 360.0 - 180.0;
        let lat = (std::f64::consts::PI * (1.0 - 2.0 * wy))
            .sinh()
            .atan()
            .to_degrees();
        (lon, lat)
    }
}

/// The file's highest zoom (its header's `max_zoom`) and every tile of it:
/// (x, y, decoded tile).
fn top_tiles(path: &Path) -> (u8, Vec<(u32, u32, mvt_reader::Reader)>) {
    block_on(async {
        let reader = pmtiles::AsyncPmTilesReader::new_with_path(path)
            .await
            .unwrap();
        let h = reader.get_header();
        assert_eq!(h.tile_type, pmtiles::TileType::Mvt);
        let z = h.max_zoom;
        let tile = |lon: f64, lat: f64| {
            let n = f64::from(1u32 << z);
            let x = (lon + 180.0) / 360.0 * n;
            let l = lat.to_radians();
            let y = (1.0 - (l.tan() + 1.0 / l.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
            (x.floor() as u32, y.floor() as u32)
        };
        let (x0, y0) = tile(h.min_longitude, h.max_latitude);
        let (x1, y1) = tile(h.max_longitude, h.min_latitude);
        let mut out = Vec::new();
        for x in x0.saturating_sub(1)..=x1 + 1 {
            for y in y0.saturating_sub(1)..=y1 + 1 {
                let coord = pmtiles::TileCoord::new(z, x, y).unwrap();
                if let Some(bytes) = reader.get_tile_decompressed(coord).await.unwrap() {
                    out.push((x, y, mvt_reader::Reader::new(bytes.to_vec()).unwrap()));
                }
            }
        }
        (z, out)
    })
}

/// The features of tile layer `name` in each tile: (x, y, feature).
fn layer_features(
    tiles: &[(u32, u32, mvt_reader::Reader)],
    name: &str,
) -> Vec<(u32, u32, mvt_reader::feature::Feature)> {
    let mut out = Vec::new();
    for (x, y, r) in tiles {
        let names = r.get_layer_names().unwrap();
        if let Some(i) = names.iter().position(|n| n == name) {
            out.extend(r.get_features(i).unwrap().into_iter().map(|f| (*x, *y, f)));
        }
    }
    out
}

fn geojson_features(out: &Path, layer: &str) -> Vec<Value> {
    read_json(&out.join(format!("geojson/{layer}.geojson")))["features"]
        .as_array()
        .unwrap()
        .clone()
}

fn text(v: Option<&mvt_reader::feature::Value>) -> Option<String> {
    match v {
        Some(mvt_reader::feature::Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

#[test]
fn every_feature_is_in_the_tiles_at_the_highest_zoom_with_its_id_place_and_grade() {
    let out = example();
    let top = TopZoom::read(&out.join("web/riskatlas.pmtiles"));
    assert!(!top.tiles.is_empty());
    for layer in [
        "enterprises",
        "hazard_sources",
        "hidden_dangers",
        "vulnerable_targets",
        "influence_zones",
        "admin_units",
    ] {
        let geojson = geojson_features(out, layer);
        let by_id: BTreeMap<u64, &Value> = geojson
            .iter()
            .map(|f| (f["id"].as_u64().unwrap(), f))
            .collect();
        let features = layer_features(&top.tiles, layer);
        let ids: BTreeSet<u64> = features.iter().map(|(_, _, f)| f.id.unwrap()).collect();
        assert_eq!(
            ids,
            by_id.keys().copied().collect(),
            "{layer}: the ids in the zoom-{} tiles are the GeoJSON's",
            top.z
        );
        for (x, y, f) in &features {
            let g = by_id[&f.id.unwrap()];
            let props = f.properties.as_ref().unwrap();
            for key in ["grade", "name", "id", "level"] {
                if let (Some(t), Some(v)) = (text(props.get(key)), g["properties"][key].as_str()) {
                    assert_eq!(t, v, "{layer} {}: {key}", f.id.unwrap());
                }
            }
            if let geo::Geometry::Point(p) = &f.geometry {
                let (lon, lat) = top.lon_lat(*x, *y, f64::from(p.x()), f64::from(p.y()));
                let c = &g["geometry"]["coordinates"];
                let (dx, dy) = (
                    (lon - c[0].as_f64().unwrap()) * 94_000.0,
                    (lat - c[1].as_f64().unwrap()) * 111_000.0,
                );
                assert!(
                    dx.hypot(dy) < 1.0,
                    "{layer} {}: {dx:.2} m, {dy:.2} m off",
                    f.id.unwrap()
                );
            }
        }
        // A point is in exactly one tile.
        if geojson[0]["geometry"]["type"] == "Point" {
            assert_eq!(features.len(), geojson.len(), "{layer}");
        }
    }
}

/// A decoded polygon or multipolygon as a geo multipolygon.
fn as_multipolygon(g: &geo::Geometry<f32>) -> MultiPolygon<f64> {
    let conv = |p: &geo::Polygon<f32>| {
        let ring = |l: &LineString<f32>| {
            LineString::from(
                l.0.iter()
                    .map(|c| Coord {
                        x: f64::from(c.x),
                        y: f64::from(c.y),
                    })
                    .collect::<Vec<_>>(),
            )
        };
        Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect())
    };
    match g {
        geo::Geometry::Polygon(p) => MultiPolygon(vec![conv(p)]),
        geo::Geometry::MultiPolygon(mp) => MultiPolygon(mp.0.iter().map(conv).collect()),
        other => panic!("not a polygon: {other:?}"),
    }
}

#[test]
fn the_grid_tiles_cover_each_grade_with_the_area_of_the_grid_layer() {
    let out = example();
    let top = TopZoom::read(&out.join("web/riskatlas.pmtiles"));
    let mut tiled: BTreeMap<String, f64> = BTreeMap::new();
    let inside = Rect::new(
        Coord { x: 0.0, y: 0.0 },
        Coord {
            x: top.extent,
            y: top.extent,
        },
    )
    .to_polygon();
    for (x, y, f) in layer_features(&top.tiles, "exposure_grid") {
        let grade = text(f.properties.as_ref().unwrap().get("grade")).unwrap();
        // Only the part inside the tile: the buffer is the neighbours'.
        let part = as_multipolygon(&f.geometry).intersection(&MultiPolygon(vec![inside.clone()]));
        let (_, lat) = top.lon_lat(x, y, top.extent / 2.0, top.extent / 2.0);
        let unit_m =
            40_075_016.686 * lat.to_radians().cos() / f64::from(1u32 << top.z) / top.extent;
        *tiled.entry(grade).or_default() += part.unsigned_area() * unit_m * unit_m / 1e6;
    }
    let mut layer: BTreeMap<String, f64> = BTreeMap::new();
    for f in geojson_features(out, "exposure_grid") {
        let p = &f["properties"];
        *layer
            .entry(p["grade"].as_str().unwrap().to_string())
            .or_default() += p["area_km2"].as_f64().unwrap();
    }
    assert_eq!(
        tiled.keys().collect::<Vec<_>>(),
        layer.keys().collect::<Vec<_>>()
    );
    for (grade, km2) in &layer {
        let t = tiled[grade];
        assert!(
            (t - km2).abs() / km2 < 0.01,
            "{grade}: {t:.3} km² in the tiles, {km2:.3} km² in the layer"
        );
    }
}

#[test]
fn the_style_draws_every_rule_of_every_layer_from_the_tiles() {
    let out = example();
    let style = read_json(&out.join("web/style.json"));
    assert_eq!(style["version"], 8);
    assert_eq!(
        style["sources"]["riskatlas"]["url"],
        "pmtiles://riskatlas.pmtiles"
    );
    let layers = style["layers"].as_array().unwrap();
    let source_layers: BTreeSet<&str> = layers
        .iter()
        .filter_map(|l| l["source-layer"].as_str())
        .collect();
    let metadata = tiles_metadata_layers(&out.join("web/riskatlas.pmtiles"));
    for s in &source_layers {
        assert!(metadata.contains(*s), "{s} is drawn but not in the tiles");
    }
    // The grid under the points, the units' names on top.
    let pos = |id: &str| layers.iter().position(|l| l["id"] == id).unwrap();
    assert!(pos("exposure_grid-0") < pos("enterprises-0"));
    assert_eq!(layers.last().unwrap()["id"], "admin_units-labels");
    // Every icon the style names is in the sprite, at both densities.
    for sprite in ["sprite.json", "sprite@2x.json"] {
        let index = read_json(&out.join("web").join(sprite));
        for l in layers {
            if let Some(icon) = l["layout"]["icon-image"].as_str() {
                assert!(index.get(icon).is_some(), "{icon} in {sprite}");
            }
        }
    }
}

fn tiles_metadata_layers(path: &Path) -> BTreeSet<String> {
    block_on(async {
        let reader = pmtiles::AsyncPmTilesReader::new_with_path(path)
            .await
            .unwrap();
        let m: Value = serde_json::from_str(&reader.get_metadata().await.unwrap()).unwrap();
        m["vector_layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap().to_string())
            .collect()
    })
}

/// `riskatlas serve OUT --port 0`, and the address it printed.
fn serve(out: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_riskatlas"))
        .args(["serve", out.to_str().unwrap(), "--port", "0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, url)
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_server_answers_range_requests_for_the_tiles() {
    let out = example();
    let (child, url) = serve(out);
    let _server = Server(child);
    let host = url.trim_start_matches("http://").split('/').next().unwrap();
    let mut s = TcpStream::connect(host).unwrap();
    write!(
        s,
        "GET /web/riskatlas.pmtiles HTTP/1.1\r\nHost: {host}\r\nRange: bytes=0-126\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    s.read_to_end(&mut response).unwrap();
    let head_end = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..head_end]).to_lowercase();
    assert!(head.starts_with("http/1.1 206"), "{head}");
    assert!(head.contains("content-range: bytes 0-126/"), "{head}");
    let body = &response[head_end + 4..];
    assert_eq!(body.len(), 127);
    assert_eq!(&body[..7], b"PMTiles", "the PMTiles header's magic");
}

#[test]
fn serve_refuses_a_folder_without_a_web_map() {
    let empty = tempfile::tempdir().unwrap();
    let o = riskatlas_expect(&["serve", empty.path().to_str().unwrap(), "--port", "0"], 2);
    assert!(stderr(&o).contains("web/index.html"), "{}", stderr(&o));
}

#[test]
fn the_viewer_works_in_headless_chromium() {
    let out = example();
    let (child, url) = serve(out);
    let _server = Server(child);
    let shots = root().join("target/web-screenshots");
    let script = root().join("tests/web/check_viewer.mjs");
    assert!(
        root()
            .join("tests/web/node_modules/playwright-core")
            .exists(),
        "playwright-core is not installed: run ./scripts/setup.sh --tests"
    );
    let o = Command::new("node")
        .arg(&script)
        .arg(&url)
        .arg(out)
        .arg(&shots)
        .output()
        .expect("node runs (./scripts/setup.sh --tests)");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    println!("{stdout}");
    assert!(
        o.status.success(),
        "viewer checks failed:\n{stdout}\n{stderr}"
    );
}

//! Vector tiles of the output layers: features collected as the layers are
//! written (points, and polygons in Web Mercator), then cut zoom by zoom
//! into tiles of 4096 units with a buffer, and the exposure grid drawn from
//! its grade raster, generalised at low zooms.
//!
//! A feature is in the tiles from its layer's (or class's) minimum zoom in
//! `styles/map.toml` [web] up to the maximum zoom, so a tile stays small
//! where points are dense. Polygons are quantised to the tile's units and
//! clipped to the tile and its buffer (first to the column, then to the
//! row); the clipping edges lie in the buffer, which the renderer does not
//! draw.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::analysis::exposure::GridSpec;
use crate::crs::MetricCrs;
use crate::output::layers::{Shape, Value};
use crate::output::polygonize::regions;
use crate::output::web::mvt::{self, LayerBuilder, TileGeometry, TilePolygon, Xy};

/// Units across a tile.
pub const EXTENT: u32 = 4096;
/// Units of buffer around a tile, beyond which geometry is clipped.
const BUFFER: f64 = 64.0;

/// A position in Web Mercator world coordinates: 0–1 across, y down.
pub type World = [f64; 2];

/// Web Mercator world coordinates of lon/lat degrees.
pub fn world(lon: f64, lat: f64) -> World {
    let lat = lat.clamp(-85.051_128_78, 85.051_128_78).to_radians();
    let x = (lon + 180.0) / 360.0;
    let y =
        0.5 - ((std::f64::consts::FRAC_PI_4 + lat / 2.0).tan().ln()) / (2.0 * std::f64::consts::PI);
    [x, y]
}

/// One ring, one polygon (exterior first) and a feature's polygons, in world coordinates.
type Ring = Vec<World>;
type Polygon = Vec<Ring>;

/// A feature's geometry in world coordinates.
#[derive(Debug, Clone)]
enum Geometry {
    Point(World),
    Polygons(Vec<Polygon>),
}

/// One feature: its id, the zoom from which it is in the tiles, its
/// geometry and its properties (packed, see [`pack`]).
struct Feature {
    id: u64,
    min_zoom: u8,
    geometry: Geometry,
    props: Box<[u8]>,
}

/// One tile layer's features and the names of their properties.
struct TileLayer {
    name: String,
    fields: Vec<String>,
    features: Vec<Feature>,
}

/// The features of every tile layer, in the order they are drawn.
pub struct Collected {
    layers: Vec<TileLayer>,
    bounds: Option<[f64; 4]>,
    to_web: Transform,
    from_web: Transform,
}

impl Collected {
    /// An empty collection; `to_web` turns WGS 84 lon/lat into the web map's
    /// coordinates (the identity, or GCJ-02 / BD-09 for Chinese basemaps)
    /// and `from_web` back.
    pub fn new(to_web: Transform, from_web: Transform) -> Collected {
        Collected {
            layers: Vec::new(),
            bounds: None,
            to_web,
            from_web,
        }
    }

    /// Starts tile layer `name` with the properties `fields`; returns the
    /// layer's index, which [`Collected::add`] takes.
    pub fn begin_layer(&mut self, name: &str, fields: Vec<String>) -> usize {
        self.layers.push(TileLayer {
            name: name.to_string(),
            fields,
            features: Vec::new(),
        });
        self.layers.len() - 1
    }

    /// Adds a feature of `shape` (WGS 84) to tile layer `layer`; `values`
    /// are the layer's fields in order.
    pub fn add(&mut self, layer: usize, id: u64, min_zoom: u8, shape: &Shape, values: &[&Value]) {
        let to_web = self.to_web;
        let mut w = |lon: f64, lat: f64| {
            let (x, y) = to_web(lon, lat);
            let b = self.bounds.get_or_insert([x, y, x, y]);
            *b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
            world(x, y)
        };
        let geometry = match shape {
            Shape::Point(p) => Geometry::Point(w(p.x(), p.y())),
            Shape::MultiPolygon(mp) => Geometry::Polygons(
                mp.0.iter()
                    .map(|poly| {
                        std::iter::once(poly.exterior())
                            .chain(poly.interiors())
                            .map(|ring| ring.0.iter().map(|c| w(c.x, c.y)).collect())
                            .collect()
                    })
                    .collect(),
            ),
        };
        let layer = &mut self.layers[layer];
        debug_assert_eq!(values.len(), layer.fields.len());
        layer.features.push(Feature {
            id,
            min_zoom,
            geometry,
            props: pack(values),
        });
    }

    /// The bounds of every feature added, in the web map's lon/lat.
    pub fn bounds(&self) -> Option<[f64; 4]> {
        self.bounds
    }

    /// The web map's coordinates of WGS 84 lon/lat.
    pub fn to_web(&self, lon: f64, lat: f64) -> (f64, f64) {
        (self.to_web)(lon, lat)
    }

    /// Each tile layer's name and fields.
    pub fn layer_fields(&self) -> Vec<(String, Vec<String>)> {
        self.layers
            .iter()
            .map(|l| (l.name.clone(), l.fields.clone()))
            .collect()
    }

    /// The ids of tile layer `layer`'s features, in order.
    #[cfg(test)]
    pub fn ids(&self, layer: usize) -> Vec<u64> {
        self.layers[layer].features.iter().map(|f| f.id).collect()
    }

    /// Features per tile layer.
    pub fn counts(&self) -> Vec<(String, usize)> {
        self.layers
            .iter()
            .map(|l| (l.name.clone(), l.features.len()))
            .collect()
    }
}

/// Packs values into bytes: a tag (0 null, 1 text, 2 integer, 3 real,
/// 4 true, 5 false) and the value, so a province's million features cost a
/// few dozen bytes each rather than a `Value` per field.
fn pack(values: &[&Value]) -> Box<[u8]> {
    let mut out = Vec::new();
    for v in values {
        match v {
            Value::Null => out.push(0),
            Value::Str(s) => {
                out.push(1);
                out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            Value::Int(i) => {
                out.push(2);
                out.extend_from_slice(&i.to_le_bytes());
            }
            Value::Real(r) => {
                out.push(3);
                out.extend_from_slice(&r.to_le_bytes());
            }
            Value::Bool(b) => out.push(if *b { 4 } else { 5 }),
        }
    }
    out.into_boxed_slice()
}

/// The values [`pack`] packed.
fn unpack(mut bytes: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    let take8 = |b: &[u8]| -> [u8; 8] { b[..8].try_into().expect("8 bytes") };
    while let Some((&tag, rest)) = bytes.split_first() {
        bytes = rest;
        out.push(match tag {
            0 => Value::Null,
            1 => {
                let n = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes")) as usize;
                let s = String::from_utf8(bytes[4..4 + n].to_vec()).expect("packed from a String");
                bytes = &bytes[4 + n..];
                Value::Str(s)
            }
            2 => {
                let v = i64::from_le_bytes(take8(bytes));
                bytes = &bytes[8..];
                Value::Int(v)
            }
            3 => {
                let v = f64::from_le_bytes(take8(bytes));
                bytes = &bytes[8..];
                Value::Real(v)
            }
            4 => Value::Bool(true),
            _ => Value::Bool(false),
        });
    }
    out
}

/// The exposure grid's grade raster, as a pyramid: level k has cells 2^k
/// grid cells wide, each the most common code of the four below it (ties
/// to the higher grade), so low zooms show where each grade dominates.
pub struct GridPyramid {
    spec: GridSpec,
    metric: MetricCrs,
    levels: Vec<(Vec<u8>, usize, usize)>,
    layer: String,
    grades: [&'static str; 5],
    min_zoom: u8,
}

impl GridPyramid {
    /// The pyramid of `codes` (row-major over `spec`; 0 = no exposure, 1–4
    /// the grades blue … red, named `grades[code]`), tiled as `layer` from `min_zoom`.
    pub fn new(
        spec: GridSpec,
        metric: MetricCrs,
        codes: Vec<u8>,
        layer: &str,
        grades: [&'static str; 5],
        min_zoom: u8,
    ) -> GridPyramid {
        let mut levels = vec![(codes, spec.cols, spec.rows)];
        while {
            let (_, c, r) = levels.last().expect("level 0");
            *c > 1 || *r > 1
        } && levels.len() < 16
        {
            let (codes, cols, rows) = levels.last().expect("a level");
            let next = halve(codes, *cols, *rows);
            levels.push(next);
        }
        GridPyramid {
            spec,
            metric,
            levels,
            layer: layer.to_string(),
            grades,
            min_zoom,
        }
    }
}

/// The level above: each cell the most common of its (up to) four, ties to the higher code.
fn halve(codes: &[u8], cols: usize, rows: usize) -> (Vec<u8>, usize, usize) {
    let (nc, nr) = (cols.div_ceil(2), rows.div_ceil(2));
    let mut out = vec![0u8; nc * nr];
    for r in 0..nr {
        for c in 0..nc {
            let mut count = [0u8; 8];
            for (dr, dc) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let (rr, cc) = (2 * r + dr, 2 * c + dc);
                if rr < rows && cc < cols {
                    count[usize::from(codes[rr * cols + cc] & 7)] += 1;
                }
            }
            let best = (0..8).rev().max_by_key(|&k| (count[k], k)).unwrap_or(0);
            out[r * nc + c] = best as u8;
        }
    }
    (out, nc, nr)
}

/// A lon/lat transform (WGS 84 to the web map's coordinates, or back).
pub type Transform = fn(f64, f64) -> (f64, f64);

/// One grid region's part in a tile: its id, grade code and polygon.
type GridPiece = (u64, u8, TilePolygon);

/// A tile's column and row, and what it holds.
type ByTile<T> = Vec<((u32, u32), T)>;

/// A tile's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileKey {
    /// Zoom.
    pub z: u8,
    /// Column.
    pub x: u32,
    /// Row (0 at the top).
    pub y: u32,
}

/// One feature's part in one tile.
struct Piece {
    layer: usize,
    index: usize,
    geometry: TileGeometry,
}

/// What `tile` gives: each tile's MVT bytes, in Hilbert (PMTiles) order.
pub struct ZoomTiles {
    /// (tile, bytes), ascending by PMTiles tile id.
    pub tiles: Vec<(TileKey, Vec<u8>)>,
}

/// The tiles of zoom `z`, in PMTiles order (`order` gives a tile's id).
pub fn tiles_at_zoom(
    c: &Collected,
    grid: Option<&GridPyramid>,
    z: u8,
    order: impl Fn(TileKey) -> u64 + Sync,
) -> ZoomTiles {
    let mut buckets: BTreeMap<(u32, u32), Vec<Piece>> = BTreeMap::new();
    for (li, layer) in c.layers.iter().enumerate() {
        let pieces: Vec<((u32, u32), Piece)> = layer
            .features
            .par_iter()
            .enumerate()
            .filter(|(_, f)| f.min_zoom <= z)
            .flat_map_iter(|(i, f)| {
                cut(&f.geometry, z).into_iter().map(move |(k, g)| {
                    (
                        k,
                        Piece {
                            layer: li,
                            index: i,
                            geometry: g,
                        },
                    )
                })
            })
            .collect();
        for (k, p) in pieces {
            buckets.entry(k).or_default().push(p);
        }
    }
    let grid_tiles: ByTile<Vec<GridPiece>> = match grid {
        Some(g) if z >= g.min_zoom => grid_tiles(g, z, c.to_web, c.from_web),
        _ => Vec::new(),
    };
    let mut grid_by_tile: BTreeMap<(u32, u32), Vec<GridPiece>> = grid_tiles.into_iter().collect();
    for k in grid_by_tile.keys() {
        buckets.entry(*k).or_default();
    }
    let mut keys: Vec<((u32, u32), Vec<Piece>)> = buckets.into_iter().collect();
    keys.sort_by_key(|((x, y), _)| order(TileKey { z, x: *x, y: *y }));
    let grid_pieces: Vec<Vec<GridPiece>> = keys
        .iter()
        .map(|(k, _)| grid_by_tile.remove(k).unwrap_or_default())
        .collect();
    let tiles = keys
        .into_par_iter()
        .zip(grid_pieces)
        .map(|(((x, y), pieces), grid_pieces)| {
            let bytes = encode(c, grid, &pieces, &grid_pieces);
            (TileKey { z, x, y }, bytes)
        })
        .filter(|(_, b)| !b.is_empty())
        .collect();
    ZoomTiles { tiles }
}

/// The MVT of one tile: the grid first (drawn underneath), then the layers.
fn encode(
    c: &Collected,
    grid: Option<&GridPyramid>,
    pieces: &[Piece],
    grid_pieces: &[GridPiece],
) -> Vec<u8> {
    let mut builders: Vec<LayerBuilder> = Vec::new();
    if let Some(g) = grid {
        let mut b = LayerBuilder::new(&g.layer, EXTENT);
        for (id, code, poly) in grid_pieces {
            let grade = Value::Str(g.grades[usize::from(*code)].to_string());
            b.add(
                *id,
                &[("grade", &grade)],
                &TileGeometry::Polygons(vec![poly.clone()]),
            );
        }
        builders.push(b);
    }
    for (li, layer) in c.layers.iter().enumerate() {
        let mut b = LayerBuilder::new(&layer.name, EXTENT);
        for p in pieces.iter().filter(|p| p.layer == li) {
            let f = &layer.features[p.index];
            let values = unpack(&f.props);
            let props: Vec<(&str, &Value)> = layer
                .fields
                .iter()
                .map(String::as_str)
                .zip(values.iter())
                .collect();
            b.add(f.id, &props, &p.geometry);
        }
        builders.push(b);
    }
    mvt::encode_tile(&builders)
}

/// The tiles a geometry falls in at zoom `z`, with its part in each.
fn cut(g: &Geometry, z: u8) -> Vec<((u32, u32), TileGeometry)> {
    let scale = f64::from(EXTENT) * f64::from(1u32 << z);
    let n = 1u32 << z;
    match g {
        Geometry::Point([x, y]) => {
            let (px, py) = (x * scale, y * scale);
            let (tx, ty) = (tile_of(px, n), tile_of(py, n));
            let origin = |t: u32| f64::from(t) * f64::from(EXTENT);
            vec![(
                (tx, ty),
                TileGeometry::Point([
                    (px - origin(tx)).round() as i32,
                    (py - origin(ty)).round() as i32,
                ]),
            )]
        }
        Geometry::Polygons(polys) => cut_polygons(polys, scale, n),
    }
}

fn tile_of(p: f64, n: u32) -> u32 {
    ((p / f64::from(EXTENT)).floor().max(0.0) as u32).min(n - 1)
}

/// Polygons at `scale` units per world, quantised and cut into the tiles they cover.
fn cut_polygons(polys: &[Polygon], scale: f64, n: u32) -> Vec<((u32, u32), TileGeometry)> {
    let quantised: Vec<Polygon> = polys
        .iter()
        .map(|p| {
            p.iter()
                .map(|ring| quantise(ring, scale))
                .collect::<Vec<Ring>>()
        })
        .filter(|p: &Polygon| p[0].len() >= 3)
        .collect();
    let Some([x0, y0, x1, y1]) = bbox(quantised.iter().flat_map(|p| p[0].iter())) else {
        return Vec::new();
    };
    let e = f64::from(EXTENT);
    let range = |lo: f64, hi: f64| (tile_of(lo - BUFFER, n), tile_of(hi + BUFFER, n));
    let (tx0, tx1) = range(x0, x1);
    let (ty0, ty1) = range(y0, y1);
    let mut out = Vec::new();
    for tx in tx0..=tx1 {
        let lo = f64::from(tx) * e - BUFFER;
        let strip = clip_polygons(&quantised, 0, lo, lo + e + 2.0 * BUFFER, tx0 == tx1);
        for ty in ty0..=ty1 {
            let lo = f64::from(ty) * e - BUFFER;
            let part = clip_polygons(&strip, 1, lo, lo + e + 2.0 * BUFFER, ty0 == ty1);
            if part.is_empty() {
                continue;
            }
            let origin = [f64::from(tx) * e, f64::from(ty) * e];
            out.push(((tx, ty), TileGeometry::Polygons(to_tile(&part, origin))));
        }
    }
    out
}

/// A ring in `scale` units, rounded to whole units, repeated vertices dropped.
fn quantise(ring: &[World], scale: f64) -> Ring {
    let mut out: Ring = Vec::with_capacity(ring.len());
    for p in ring {
        let q = [(p[0] * scale).round(), (p[1] * scale).round()];
        if out.last() != Some(&q) {
            out.push(q);
        }
    }
    out
}

fn bbox<'a>(points: impl Iterator<Item = &'a World>) -> Option<[f64; 4]> {
    points.fold(None, |b, p| {
        Some(match b {
            None => [p[0], p[1], p[0], p[1]],
            Some([a, b, c, d]) => [a.min(p[0]), b.min(p[1]), c.max(p[0]), d.max(p[1])],
        })
    })
}

/// The polygons clipped to `lo ≤ p[axis] ≤ hi` (as they are when `whole`,
/// the range holding them all); polygons whose exterior is cut away go.
fn clip_polygons(polys: &[Polygon], axis: usize, lo: f64, hi: f64, whole: bool) -> Vec<Polygon> {
    if whole {
        return polys.to_vec();
    }
    polys
        .iter()
        .filter_map(|p| {
            let rings: Vec<Ring> = p.iter().map(|r| clip_ring(r, axis, lo, hi)).collect();
            if rings[0].len() < 3 {
                return None;
            }
            Some(rings.into_iter().filter(|r| r.len() >= 3).collect())
        })
        .collect()
}

/// Sutherland–Hodgman: the ring clipped to the slab `lo ≤ p[axis] ≤ hi`.
fn clip_ring(ring: &[World], axis: usize, lo: f64, hi: f64) -> Ring {
    let half = |ring: &[World], keep: &dyn Fn(f64) -> bool, edge: f64| -> Ring {
        let mut out = Vec::with_capacity(ring.len() + 4);
        let n = ring.len();
        for i in 0..n {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            let (ia, ib) = (keep(a[axis]), keep(b[axis]));
            if ia {
                out.push(a);
            }
            if ia != ib {
                let t = (edge - a[axis]) / (b[axis] - a[axis]);
                let mut p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
                p[axis] = edge;
                out.push(p);
            }
        }
        out
    };
    let above = half(ring, &|v| v >= lo, lo);
    if above.is_empty() {
        return above;
    }
    half(&above, &|v| v <= hi, hi)
}

/// Polygons in tile coordinates from `origin`.
fn to_tile(polys: &[Polygon], origin: World) -> Vec<TilePolygon> {
    let xy = |p: &World| -> Xy {
        [
            (p[0] - origin[0]).round() as i32,
            (p[1] - origin[1]).round() as i32,
        ]
    };
    polys
        .iter()
        .map(|p| {
            let mut rings = p.iter().map(|r| r.iter().map(xy).collect::<Vec<Xy>>());
            let exterior = rings.next().expect("a polygon has an exterior");
            (exterior, rings.collect())
        })
        .collect()
}

/// The grid's regions in each tile of zoom `z`: (id, code, polygon) per
/// region, from the pyramid level whose cells are at least 8 tile units wide.
fn grid_tiles(
    g: &GridPyramid,
    z: u8,
    to_web: Transform,
    from_web: Transform,
) -> ByTile<Vec<GridPiece>> {
    let n = 1u32 << z;
    let scale = f64::from(EXTENT) * f64::from(n);
    let s = &g.spec;
    // Points along the grid's edges (curved in lon/lat) give the tiles to visit.
    let (width, height) = (s.cols as f64 * s.cell, s.rows as f64 * s.cell);
    let edge: Vec<[f64; 2]> = (0..=16)
        .flat_map(|i| {
            let f = f64::from(i) / 16.0;
            [
                [s.x0 + f * width, s.y0],
                [s.x0 + f * width, s.y0 - height],
                [s.x0, s.y0 - f * height],
                [s.x0 + width, s.y0 - f * height],
            ]
        })
        .collect();
    let to_world = |x: f64, y: f64| {
        let (lon, lat) = g.metric.unproject(x, y);
        let (lon, lat) = to_web(lon, lat);
        world(lon, lat)
    };
    let w: Vec<World> = edge.iter().map(|c| to_world(c[0], c[1])).collect();
    let Some([wx0, wy0, wx1, wy1]) = bbox(w.iter()) else {
        return Vec::new();
    };
    // Metres per tile unit at the grid's middle latitude.
    let (_, mid_lat) = g.metric.unproject(
        s.x0 + s.cols as f64 * s.cell / 2.0,
        s.y0 - s.rows as f64 * s.cell / 2.0,
    );
    let unit_m = 40_075_016.686 * mid_lat.to_radians().cos() / scale;
    let mut level = 0;
    while level + 1 < g.levels.len() && s.cell * f64::from(1u32 << level) < 8.0 * unit_m {
        level += 1;
    }
    let (codes, cols, rows) = &g.levels[level];
    let block = s.cell * f64::from(1u32 << level);
    let (tx0, tx1) = (tile_of(wx0 * scale, n), tile_of(wx1 * scale, n));
    let (ty0, ty1) = (tile_of(wy0 * scale, n), tile_of(wy1 * scale, n));
    let tiles: Vec<(u32, u32)> = (tx0..=tx1)
        .flat_map(|x| (ty0..=ty1).map(move |y| (x, y)))
        .collect();
    tiles
        .into_par_iter()
        .filter_map(|(tx, ty)| {
            let e = f64::from(EXTENT);
            let (lo, hi) = (
                [f64::from(tx) * e - BUFFER, f64::from(ty) * e - BUFFER],
                [
                    f64::from(tx + 1) * e + BUFFER,
                    f64::from(ty + 1) * e + BUFFER,
                ],
            );
            let window = tile_window(g, lo, hi, scale, block, (*cols, *rows), from_web)?;
            let polys = window_regions(codes, *cols, window, |c, r| {
                let p = to_world(s.x0 + c * block, s.y0 - r * block);
                [p[0] * scale, p[1] * scale]
            });
            let level_id = (level as u64) << 40;
            let pieces: Vec<GridPiece> = polys
                .into_iter()
                .filter_map(|(first, code, poly)| {
                    let part = clip_polygons(&[poly], 0, lo[0], hi[0], false);
                    let part = clip_polygons(&part, 1, lo[1], hi[1], false);
                    let mut tp = to_tile(&part, [f64::from(tx) * e, f64::from(ty) * e]);
                    (!tp.is_empty()).then(|| (level_id | first as u64, code, tp.remove(0)))
                })
                .collect();
            (!pieces.is_empty()).then_some(((tx, ty), pieces))
        })
        .collect()
}

/// The window of pyramid cells `[c0, c1) × [r0, r1)` under the tile whose
/// buffered bounds are `lo`–`hi` (scaled world units), one cell wider each way.
fn tile_window(
    g: &GridPyramid,
    lo: World,
    hi: World,
    scale: f64,
    block: f64,
    (cols, rows): (usize, usize),
    from_web: Transform,
) -> Option<[usize; 4]> {
    let s = &g.spec;
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for fx in [0.0, 0.5, 1.0] {
        for fy in [0.0, 0.5, 1.0] {
            let wx = (lo[0] + fx * (hi[0] - lo[0])) / scale;
            let wy = (lo[1] + fy * (hi[1] - lo[1])) / scale;
            let (lon, lat) = unworld(wx, wy);
            let (lon, lat) = from_web(lon, lat);
            let (x, y) = g.metric.project(lon, lat);
            xs.push((x - s.x0) / block);
            ys.push((s.y0 - y) / block);
        }
    }
    let min = |v: &[f64]| v.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let c0 = (min(&xs).floor() - 1.0).max(0.0) as usize;
    let r0 = (min(&ys).floor() - 1.0).max(0.0) as usize;
    let c1 = ((max(&xs).ceil() + 1.0).max(0.0) as usize).min(cols);
    let r1 = ((max(&ys).ceil() + 1.0).max(0.0) as usize).min(rows);
    (c0 < c1 && r0 < r1).then_some([c0, r0, c1, r1])
}

/// Lon/lat of Web Mercator world coordinates.
fn unworld(x: f64, y: f64) -> (f64, f64) {
    let lon = x * 360.0 - 180.0;
    let lat = (std::f64::consts::PI * (1.0 - 2.0 * y))
        .sinh()
        .atan()
        .to_degrees();
    (lon, lat)
}

/// The regions of the window `[c0, r0, c1, r1]` of `codes`: (index of the
/// region's first cell in the level, code, polygon with vertices placed by `at(col, row)`).
fn window_regions(
    codes: &[u8],
    cols: usize,
    [c0, r0, c1, r1]: [usize; 4],
    at: impl Fn(f64, f64) -> World,
) -> Vec<(usize, u8, Polygon)> {
    let w = c1 - c0;
    let mut win = Vec::with_capacity(w * (r1 - r0));
    for r in r0..r1 {
        win.extend_from_slice(&codes[r * cols + c0..r * cols + c1]);
    }
    if win.iter().all(|&c| c == 0) {
        return Vec::new();
    }
    let ring = |v: &[[u32; 2]]| -> Ring {
        v.iter()
            .map(|&[c, r]| at((c0 + c as usize) as f64, (r0 + r as usize) as f64))
            .collect()
    };
    regions(&win, w)
        .into_iter()
        .map(|reg| {
            let [c, r] = reg.exterior.iter().fold([u32::MAX, u32::MAX], |m, p| {
                if (p[1], p[0]) < (m[1], m[0]) {
                    *p
                } else {
                    m
                }
            });
            let first = (r0 + r as usize) * cols + c0 + c as usize;
            let mut poly = vec![ring(&reg.exterior)];
            poly.extend(reg.holes.iter().map(|h| ring(h)));
            (first, reg.code, poly)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_coordinates_put_the_origin_in_the_middle() {
        let [x, y] = world(0.0, 0.0);
        assert!((x - 0.5).abs() < 1e-12 && (y - 0.5).abs() < 1e-12);
        let (lon, lat) = unworld(world(119.95, 31.78)[0], world(119.95, 31.78)[1]);
        assert!((lon - 119.95).abs() < 1e-9 && (lat - 31.78).abs() < 1e-9);
    }

    #[test]
    fn packed_values_come_back() {
        let v = [
            Value::Str("常州".into()),
            Value::Null,
            Value::Int(-3),
            Value::Real(2.5),
            Value::Bool(true),
            Value::Bool(false),
        ];
        let refs: Vec<&Value> = v.iter().collect();
        let back = unpack(&pack(&refs));
        assert_eq!(format!("{back:?}"), format!("{v:?}"));
    }

    #[test]
    fn a_ring_clipped_to_a_slab_keeps_the_part_inside() {
        let square = vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        let c = clip_ring(&square, 0, 2.0, 5.0);
        let xs: Vec<f64> = c.iter().map(|p| p[0]).collect();
        assert!(xs.iter().all(|&x| (2.0..=5.0).contains(&x)), "{c:?}");
        assert_eq!(c.len(), 4);
        assert!(clip_ring(&square, 1, 20.0, 30.0).is_empty());
    }

    #[test]
    fn a_polygon_across_tiles_is_cut_into_each() {
        // A square spanning the four tiles around the centre of zoom 1.
        let s = [0.4, 0.4];
        let poly = vec![vec![s, [0.6, 0.4], [0.6, 0.6], [0.4, 0.6]]];
        let cuts = cut(&Geometry::Polygons(vec![poly]), 1);
        let tiles: Vec<(u32, u32)> = cuts.iter().map(|(k, _)| *k).collect();
        assert_eq!(tiles, vec![(0, 0), (0, 1), (1, 0), (1, 1)]);
        for (_, g) in &cuts {
            let TileGeometry::Polygons(p) = g else {
                panic!("polygons")
            };
            for v in &p[0].0 {
                assert!(v[0] >= -64 && v[0] <= 4096 + 64 && v[1] >= -64 && v[1] <= 4096 + 64);
            }
        }
    }

    #[test]
    fn a_point_falls_in_one_tile_at_each_zoom() {
        let p = Geometry::Point(world(119.95, 31.78));
        for z in 0..=14 {
            let c = cut(&p, z);
            assert_eq!(c.len(), 1);
            let TileGeometry::Point([x, y]) = c[0].1 else {
                panic!("a point")
            };
            assert!((0..=4096).contains(&x) && (0..=4096).contains(&y));
        }
    }

    #[test]
    fn the_pyramid_keeps_the_most_common_grade() {
        let (codes, c, r) = halve(&[4, 0, 0, 0, 2, 2, 1, 1], 4, 2);
        assert_eq!((c, r), (2, 1));
        // [4,0 / 2,2] → 2 (twice); [0,0 / 1,1] → 1 (tie, the higher).
        assert_eq!(codes, vec![2, 1]);
    }
}

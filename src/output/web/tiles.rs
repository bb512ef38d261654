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
use crate::output::web::mvt::{self, LayerBuilder, Prop, TileGeometry, TilePolygon, Xy};

/// Units across a tile: MapLibre's own tile precision, so at the highest
/// zoom (12) a unit is about a metre and nothing is lost when it draws the
/// zoom-12 tiles at street level.
pub const EXTENT: u32 = 8192;
/// Units of buffer around a tile, beyond which geometry is clipped: a
/// sixty-fourth of the tile, 8 of the 512 pixels MapLibre draws it on.
const BUFFER: f64 = 128.0;
/// The narrowest grid cell tiled, in tile units: a pixel of the 512 MapLibre
/// draws a tile on (finer cells are generalised by the grid's pyramid).
const MIN_CELL: f64 = EXTENT as f64 / 512.0;
/// Below the highest zoom, a tile keeps one point of a layer per square as
/// wide as the layer's smallest symbol (see [`thin_cell`]) and never
/// narrower than this many units, two of the 512 pixels MapLibre draws it
/// on: the one drawn on top. A province's zoom-6 tile held 61,338
/// enterprises in 2.7 MB.
const THIN_CELL: i32 = (EXTENT / 256) as i32;
/// Tile units in one of the 512 pixels MapLibre draws a tile on.
const UNITS_PER_PX: f64 = EXTENT as f64 / 512.0;
/// Below the highest zoom, a polygon's vertex is kept only this many units
/// (half a pixel) or more from the last one kept, across or down: the
/// province's zones and units drew the same with fewer vertices.
const THIN_STEP: f64 = EXTENT as f64 / 1024.0;

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
#[derive(Debug, Clone, Copy)]
enum Geometry<'a> {
    Point(World),
    Polygons(&'a [Polygon]),
}

/// One tile layer's features, column by column (a province's million
/// points cost some 30 bytes each besides their properties), and the
/// names of their properties.
struct TileLayer {
    name: String,
    fields: Vec<String>,
    ids: Vec<u64>,
    /// Below the highest zoom, one point per square of this many units.
    thin_cell: i32,
    /// The zoom from which each feature is in the tiles.
    min_zooms: Vec<u8>,
    /// Each feature's [`Placement::rank`].
    ranks: Vec<u8>,
    /// A layer's features are points or polygons.
    points: Vec<World>,
    polygons: Vec<Vec<Polygon>>,
    /// The features' properties packed end to end (see [`pack`]);
    /// `prop_ends[i]` ends the i-th feature's.
    props: Vec<u8>,
    prop_ends: Vec<u64>,
}

impl TileLayer {
    fn len(&self) -> usize {
        self.ids.len()
    }

    fn geometry(&self, i: usize) -> Geometry<'_> {
        match self.points.get(i) {
            Some(&p) if self.polygons.is_empty() => Geometry::Point(p),
            _ => Geometry::Polygons(&self.polygons[i]),
        }
    }

    /// Puts feature `order[k]` at `k`, column by column.
    fn permute(&mut self, order: &[usize]) {
        self.ids = order.iter().map(|&i| self.ids[i]).collect();
        self.min_zooms = order.iter().map(|&i| self.min_zooms[i]).collect();
        self.ranks = order.iter().map(|&i| self.ranks[i]).collect();
        if !self.points.is_empty() {
            self.points = order.iter().map(|&i| self.points[i]).collect();
        }
        if !self.polygons.is_empty() {
            let mut old: Vec<Option<Vec<Polygon>>> = std::mem::take(&mut self.polygons)
                .into_iter()
                .map(Some)
                .collect();
            self.polygons = order
                .iter()
                .map(|&i| old[i].take().expect("each feature once"))
                .collect();
        }
        let mut props = Vec::with_capacity(self.props.len());
        let mut ends = Vec::with_capacity(self.prop_ends.len());
        for &i in order {
            props.extend_from_slice(self.props(i));
            ends.push(props.len() as u64);
        }
        (self.props, self.prop_ends) = (props, ends);
    }

    fn props(&self, i: usize) -> &[u8] {
        let start = if i == 0 {
            0
        } else {
            self.prop_ends[i - 1] as usize
        };
        &self.props[start..self.prop_ends[i] as usize]
    }
}

/// Where a feature is in the tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// The zoom from which it is in the tiles.
    pub min_zoom: u8,
    /// Its rank among its layer's features drawn at one place, 0 on top
    /// (its rule's place in the layer's style): below the highest zoom, of
    /// points that overlap a tile keeps the best ranked (see [`THIN_CELL`]).
    pub rank: u8,
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

    /// Starts tile layer `name` with the properties `fields`, its points
    /// thinned to one per `thin_cell` units (see [`thin_cell`]); returns
    /// the layer's index, which [`Collected::add`] takes.
    pub fn begin_layer(&mut self, name: &str, fields: Vec<String>, thin_cell: i32) -> usize {
        self.layers.push(TileLayer {
            name: name.to_string(),
            fields,
            thin_cell,
            ids: Vec::new(),
            min_zooms: Vec::new(),
            ranks: Vec::new(),
            points: Vec::new(),
            polygons: Vec::new(),
            props: Vec::new(),
            prop_ends: Vec::new(),
        });
        self.layers.len() - 1
    }

    /// Adds a feature of `shape` (WGS 84) to tile layer `layer`; `values`
    /// are the layer's fields in order. A layer holds points or polygons,
    /// not both.
    pub fn add(&mut self, layer: usize, id: u64, at: Placement, shape: &Shape, values: &[&Value]) {
        let to_web = self.to_web;
        let mut w = |lon: f64, lat: f64| {
            let (x, y) = to_web(lon, lat);
            let b = self.bounds.get_or_insert([x, y, x, y]);
            *b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
            world(x, y)
        };
        let l = &mut self.layers[layer];
        match shape {
            Shape::Point(p) => {
                assert!(l.polygons.is_empty(), "{}: points and polygons", l.name);
                l.points.push(w(p.x(), p.y()));
            }
            Shape::MultiPolygon(mp) => {
                assert!(l.points.is_empty(), "{}: points and polygons", l.name);
                l.polygons.push(
                    mp.0.iter()
                        .map(|poly| {
                            std::iter::once(poly.exterior())
                                .chain(poly.interiors())
                                .map(|ring| ring.0.iter().map(|c| w(c.x, c.y)).collect())
                                .collect()
                        })
                        .collect(),
                );
            }
        }
        debug_assert_eq!(values.len(), l.fields.len());
        l.ids.push(id);
        l.min_zooms.push(at.min_zoom);
        l.ranks.push(at.rank);
        pack(values, &mut l.props);
        l.prop_ends.push(l.props.len() as u64);
    }

    /// Stores each layer's features in the order of their places on a
    /// Z-order curve, so a tile's features lie near one another in memory
    /// (in input order, a tile's million-point layer is read all over its
    /// columns, a cache miss per property). Tiles are unchanged: a tile
    /// lists its features by id, which follows the input order.
    pub fn order_spatially(&mut self) {
        for l in &mut self.layers {
            let place = |i: usize| -> World {
                if l.polygons.is_empty() {
                    l.points[i]
                } else {
                    l.polygons[i]
                        .first()
                        .and_then(|p| p.first())
                        .and_then(|r| r.first())
                        .copied()
                        .unwrap_or([0.0, 0.0])
                }
            };
            // Sorted with each key beside its feature's place: looking the
            // key up at every comparison was a cache miss each.
            let mut keyed: Vec<(u64, usize)> = (0..l.len())
                .into_par_iter()
                .map(|i| (z_order(place(i)), i))
                .collect();
            keyed.par_sort_unstable();
            let order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
            l.permute(&order);
        }
    }

    /// Gives back what the layers' columns hold beyond their length.
    pub fn shrink(&mut self) {
        for l in &mut self.layers {
            l.ids.shrink_to_fit();
            l.min_zooms.shrink_to_fit();
            l.ranks.shrink_to_fit();
            l.points.shrink_to_fit();
            l.polygons.shrink_to_fit();
            l.props.shrink_to_fit();
            l.prop_ends.shrink_to_fit();
        }
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
        self.layers[layer].ids.clone()
    }

    /// Features per tile layer.
    pub fn counts(&self) -> Vec<(String, usize)> {
        self.layers
            .iter()
            .map(|l| (l.name.clone(), l.len()))
            .collect()
    }
}

/// The place of a world position on a Z-order curve of 2^20 steps a side.
fn z_order([x, y]: World) -> u64 {
    let q = |v: f64| (v.clamp(0.0, 1.0) * f64::from((1u32 << 20) - 1)) as u64;
    interleave(q(x), q(y))
}

/// The Z-order of a tile (or of 20-bit coordinates): x's bits at the even
/// places, y's at the odd.
fn interleave(x: u64, y: u64) -> u64 {
    let spread = |mut v: u64| {
        v &= 0xF_FFFF;
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        (v | (v << 1)) & 0x5555_5555_5555_5555
    };
    spread(x) | (spread(y) << 1)
}

/// Packs values onto `out` as MVT value messages ([`mvt::value_message`]),
/// a null as one zero byte (no message starts so): a province's million
/// features cost a few dozen bytes each rather than a `Value` per field,
/// and a tile copies their messages as they are.
fn pack(values: &[&Value], out: &mut Vec<u8>) {
    for v in values {
        let prop = match v {
            Value::Null => {
                out.push(0);
                continue;
            }
            Value::Str(s) => Prop::Str(s),
            Value::Int(i) => Prop::Int(*i),
            Value::Real(r) => Prop::Real(*r),
            Value::Bool(b) => Prop::Bool(*b),
        };
        mvt::value_message(prop, out);
    }
}

/// The messages [`pack`] packed, borrowed from the bytes (`None` for null).
fn unpack(mut bytes: &[u8]) -> impl Iterator<Item = Option<&[u8]>> {
    std::iter::from_fn(move || {
        let first = *bytes.first()?;
        if first == 0 {
            bytes = &bytes[1..];
            return Some(None);
        }
        let (message, rest) = bytes.split_at(mvt::value_message_len(bytes));
        bytes = rest;
        Some(Some(message))
    })
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
            let (rr, cc) = (2 * r, 2 * c);
            if rr + 1 < rows && cc + 1 < cols {
                let k = codes[rr * cols + cc];
                let same = codes[rr * cols + cc + 1] == k
                    && codes[(rr + 1) * cols + cc] == k
                    && codes[(rr + 1) * cols + cc + 1] == k;
                if same {
                    out[r * nc + c] = k & 7;
                    continue;
                }
            }
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

/// A tile's column and row, and what it holds.
type ByTile<T> = Vec<((u32, u32), T)>;

/// One grid region's part in a tile: its id, grade code and polygon.
type GridPiece = (u64, u8, TilePolygon);

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

/// One feature's part in one tile: its layer, its place in the layer's
/// columns, its id (which orders a tile's features) and its geometry.
struct Piece {
    layer: usize,
    index: usize,
    id: u64,
    geometry: TileGeometry,
}

/// One tile to encode: its address, the features' parts in it, and the
/// window of grid cells under it.
pub struct TileJob {
    /// The tile.
    pub key: TileKey,
    /// Its parts: a range of the zoom's [`Zoom::pieces`].
    pieces: std::ops::Range<usize>,
    grid: Option<[usize; 4]>,
}

/// The tiles of one zoom, planned: which tiles there are (in PMTiles
/// order) and what falls in each. The grid's regions are traced only when
/// a tile is encoded, so a caller encoding a few tiles at a time holds
/// only those tiles' polygons.
pub struct Zoom<'a> {
    c: &'a Collected,
    grid: Option<(&'a GridPyramid, GridZoom)>,
    /// Every tile's parts, tile after tile, each with its tile's column and row.
    pieces: Vec<((u32, u32), Piece)>,
    /// The tiles, ascending by PMTiles tile id.
    pub jobs: Vec<TileJob>,
}

/// The tiles of zoom `z`, in PMTiles order (`order` gives a tile's id);
/// with `thin`, points that overlap are thinned (see [`THIN_CELL`]).
pub fn tiles_at_zoom<'a>(
    c: &'a Collected,
    grid: Option<&'a GridPyramid>,
    z: u8,
    thin: bool,
    order: impl Fn(TileKey) -> u64 + Sync,
) -> Zoom<'a> {
    // Every layer's parts, sorted by tile, then layer, then feature id (the
    // input order, whatever order the columns are stored in).
    let mut pieces: Vec<((u32, u32), Piece)> = Vec::new();
    for (li, layer) in c.layers.iter().enumerate() {
        let at = (0..layer.len())
            .into_par_iter()
            .filter(|&i| layer.min_zooms[i] <= z);
        let piece = move |i: usize, geometry: TileGeometry| Piece {
            layer: li,
            index: i,
            id: layer.ids[i],
            geometry,
        };
        if layer.polygons.is_empty() && thin {
            pieces.par_extend(thinned_points(layer, z).map(|(k, i, g)| (k, piece(i, g))));
        } else if layer.polygons.is_empty() {
            pieces.par_extend(at.map(|i| {
                let (k, g) = cut_point(layer.points[i], z);
                (k, piece(i, g))
            }));
        } else {
            let step = if thin { THIN_STEP } else { 1.0 };
            pieces.par_extend(at.flat_map_iter(|i| {
                cut(layer.geometry(i), z, step)
                    .into_iter()
                    .map(move |(k, g)| (k, piece(i, g)))
            }));
        }
    }
    // By the tile's Z-order: each layer's features are stored in Z-order,
    // so the parts come nearly sorted and the merge sort finds long runs.
    pieces.par_sort_by_key(|(k, p)| (interleave(k.0.into(), k.1.into()), p.layer, p.id));
    let mut jobs: Vec<TileJob> = Vec::new();
    for (k, &((x, y), _)) in pieces.iter().enumerate() {
        match jobs.last_mut() {
            Some(j) if (j.key.x, j.key.y) == (x, y) => j.pieces.end = k + 1,
            _ => jobs.push(TileJob {
                key: TileKey { z, x, y },
                pieces: k..k + 1,
                grid: None,
            }),
        }
    }
    let grid = grid
        .filter(|g| z >= g.min_zoom)
        .map(|g| (g, GridZoom::new(g, z, c.to_web)));
    let mut windows: BTreeMap<(u32, u32), [usize; 4]> = match &grid {
        Some((g, gz)) => grid_windows(g, gz, c.from_web).into_iter().collect(),
        None => BTreeMap::new(),
    };
    for j in &mut jobs {
        j.grid = windows.remove(&(j.key.x, j.key.y));
    }
    jobs.extend(windows.into_iter().map(|((x, y), w)| TileJob {
        key: TileKey { z, x, y },
        pieces: 0..0,
        grid: Some(w),
    }));
    jobs.sort_by_key(|j| order(j.key));
    Zoom {
        c,
        grid,
        pieces,
        jobs,
    }
}

impl Zoom<'_> {
    /// The MVT of one tile: the grid first (drawn underneath), then the
    /// layers; empty when nothing falls in it.
    pub fn encode(&self, job: &TileJob) -> Vec<u8> {
        let c = self.c;
        let mut builders: Vec<LayerBuilder> = Vec::new();
        if let Some((g, gz)) = &self.grid {
            let mut b = LayerBuilder::new(&g.layer, EXTENT);
            let pieces = match job.grid {
                Some(window) => grid_pieces(g, gz, job.key, window, c.to_web),
                None => Vec::new(),
            };
            for (id, code, poly) in pieces {
                let grade = Prop::Str(g.grades[usize::from(code)]);
                b.add(
                    id,
                    &[("grade", Some(grade))],
                    &TileGeometry::Polygons(vec![poly]),
                );
            }
            builders.push(b);
        }
        // A tile's parts come in layer order (see `tiles_at_zoom`).
        let parts = &self.pieces[job.pieces.clone()];
        debug_assert!(parts.is_sorted_by_key(|(_, p)| p.layer));
        for pieces in parts.chunk_by(|(_, a), (_, b)| a.layer == b.layer) {
            let layer = &c.layers[pieces[0].1.layer];
            let mut b = LayerBuilder::new(&layer.name, EXTENT);
            for (_, p) in pieces {
                let values = unpack(layer.props(p.index));
                b.add_encoded(p.id, &layer.fields, values, &p.geometry);
            }
            builders.push(b);
        }
        mvt::encode_tile(&builders)
    }
}

/// The side of the squares a point layer is thinned by, in tile units: its
/// smallest symbol's width in pixels, `symbol_px`, so that of the points
/// one symbol would cover only the one on top is kept (an enterprise's
/// 3.5 px: a province's zoom-7 tile's enterprises 371 → 274 KB gzipped), and
/// at least [`THIN_CELL`].
pub fn thin_cell(symbol_px: Option<f64>) -> i32 {
    let units = symbol_px.map_or(0.0, |px| (px * UNITS_PER_PX).floor());
    (units as i32).max(THIN_CELL)
}

/// A point layer's points at zoom `z` after thinning: of the points in
/// one square of the layer's `thin_cell` units of a tile, the best ranked, then the
/// first in input order; each with its tile, place in the layer and
/// geometry.
fn thinned_points(
    layer: &TileLayer,
    z: u8,
) -> impl ParallelIterator<Item = ((u32, u32), usize, TileGeometry)> + '_ {
    let cell = layer.thin_cell;
    let across = EXTENT.div_ceil(cell as u32) + 1;
    let square = |[x, y]: Xy| {
        let s = |v: i32| (v.max(0) / cell) as u32;
        s(y) * across + s(x)
    };
    // (tile, square, rank, id, place in the layer, position in the tile)
    type Candidate = ((u32, u32), u32, u8, u64, usize, Xy);
    let mut at: Vec<Candidate> = (0..layer.len())
        .into_par_iter()
        .filter(|&i| layer.min_zooms[i] <= z)
        .map(|i| {
            let (tile, p) = point_in_tile(layer.points[i], z);
            (tile, square(p), layer.ranks[i], layer.ids[i], i, p)
        })
        .collect();
    at.par_sort_unstable_by_key(|&(tile, square, rank, id, ..)| (tile, square, rank, id));
    at.dedup_by_key(|&mut (tile, square, ..)| (tile, square));
    at.into_par_iter()
        .map(|(tile, _, _, _, i, p)| (tile, i, TileGeometry::Point(p)))
}

/// The tiles a geometry falls in at zoom `z`, with its part in each; a
/// polygon keeps the vertices `step` units apart (see [`quantise`]).
fn cut(g: Geometry, z: u8, step: f64) -> Vec<((u32, u32), TileGeometry)> {
    let scale = f64::from(EXTENT) * f64::from(1u32 << z);
    let n = 1u32 << z;
    match g {
        Geometry::Point(p) => vec![cut_point(p, z)],
        Geometry::Polygons(polys) => cut_polygons(polys, scale, n, step),
    }
}

/// The tile a point falls in at zoom `z`, and its place there.
fn cut_point(p: World, z: u8) -> ((u32, u32), TileGeometry) {
    let (tile, xy) = point_in_tile(p, z);
    (tile, TileGeometry::Point(xy))
}

/// The tile a point falls in at zoom `z`, and its tile units there.
fn point_in_tile([x, y]: World, z: u8) -> ((u32, u32), Xy) {
    let scale = f64::from(EXTENT) * f64::from(1u32 << z);
    let (px, py) = (x * scale, y * scale);
    let n = 1u32 << z;
    let (tx, ty) = (tile_of(px, n), tile_of(py, n));
    let origin = |t: u32| f64::from(t) * f64::from(EXTENT);
    (
        (tx, ty),
        [
            (px - origin(tx)).round() as i32,
            (py - origin(ty)).round() as i32,
        ],
    )
}

fn tile_of(p: f64, n: u32) -> u32 {
    ((p / f64::from(EXTENT)).floor().max(0.0) as u32).min(n - 1)
}

/// Polygons at `scale` units per world, quantised and cut into the tiles they cover.
fn cut_polygons(
    polys: &[Polygon],
    scale: f64,
    n: u32,
    step: f64,
) -> Vec<((u32, u32), TileGeometry)> {
    let quantised: Vec<Polygon> = polys
        .iter()
        .map(|p| {
            p.iter()
                .map(|ring| quantise(ring, scale, step))
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

/// A ring in `scale` units, rounded to whole units, each vertex kept only
/// when it is `step` units or more from the last kept, across or down (a
/// step of 1 drops only repeated vertices).
fn quantise(ring: &[World], scale: f64, step: f64) -> Ring {
    let mut out: Ring = Vec::with_capacity(ring.len());
    for p in ring {
        let q = [(p[0] * scale).round(), (p[1] * scale).round()];
        let far = |last: &World| (q[0] - last[0]).abs().max((q[1] - last[1]).abs()) >= step;
        if out.last().is_none_or(far) {
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

/// How the grid is tiled at one zoom: the pyramid level whose cells are
/// at least [`MIN_CELL`] tile units wide, and the tiles its extent covers.
struct GridZoom {
    level: usize,
    /// The level's cell size in metres.
    block: f64,
    /// The [`Lattice`]'s step, in the level's cells.
    step: usize,
    /// Tile units per world at this zoom.
    scale: f64,
    tiles: [u32; 4],
}

impl GridZoom {
    fn new(g: &GridPyramid, z: u8, to_web: Transform) -> GridZoom {
        let n = 1u32 << z;
        let scale = f64::from(EXTENT) * f64::from(n);
        let s = &g.spec;
        // Points along the grid's edges (curved in lon/lat) give the tiles to visit.
        let (width, height) = (s.cols as f64 * s.cell, s.rows as f64 * s.cell);
        let w: Vec<World> = (0..=16)
            .flat_map(|i| {
                let f = f64::from(i) / 16.0;
                [
                    [s.x0 + f * width, s.y0],
                    [s.x0 + f * width, s.y0 - height],
                    [s.x0, s.y0 - f * height],
                    [s.x0 + width, s.y0 - f * height],
                ]
            })
            .map(|c| g.world(c[0], c[1], to_web))
            .collect();
        let [wx0, wy0, wx1, wy1] = bbox(w.iter()).expect("the edge has points");
        // Metres per tile unit at the grid's middle latitude.
        let (_, mid_lat) = g.metric.unproject(s.x0 + width / 2.0, s.y0 - height / 2.0);
        let unit_m = 40_075_016.686 * mid_lat.to_radians().cos() / scale;
        let mut level = 0;
        while level + 1 < g.levels.len() && s.cell * f64::from(1u32 << level) < MIN_CELL * unit_m {
            level += 1;
        }
        let block = s.cell * f64::from(1u32 << level);
        // The interpolation's error grows with the square of the step and
        // a tile unit doubles each zoom down: the step grows by √2 a zoom.
        let lattice_m = LATTICE_M * 2f64.powf((14.0 - f64::from(z)) / 2.0);
        GridZoom {
            level,
            block,
            step: ((lattice_m / block).floor() as usize).max(1),
            scale,
            tiles: [
                tile_of(wx0 * scale, n),
                tile_of(wy0 * scale, n),
                tile_of(wx1 * scale, n),
                tile_of(wy1 * scale, n),
            ],
        }
    }

    /// The tile's bounds with its buffer, in tile units of the world.
    fn buffered(&self, tx: u32, ty: u32) -> (World, World) {
        let e = f64::from(EXTENT);
        (
            [f64::from(tx) * e - BUFFER, f64::from(ty) * e - BUFFER],
            [
                f64::from(tx + 1) * e + BUFFER,
                f64::from(ty + 1) * e + BUFFER,
            ],
        )
    }
}

impl GridPyramid {
    /// World coordinates of the metric point (x, y).
    fn world(&self, x: f64, y: f64, to_web: Transform) -> World {
        let (lon, lat) = self.metric.unproject(x, y);
        let (lon, lat) = to_web(lon, lat);
        world(lon, lat)
    }
}

/// The tiles of the zoom with some exposure under them, and the window of
/// the level's cells each covers.
fn grid_windows(g: &GridPyramid, gz: &GridZoom, from_web: Transform) -> ByTile<[usize; 4]> {
    let [tx0, ty0, tx1, ty1] = gz.tiles;
    let (codes, cols, rows) = &g.levels[gz.level];
    let tiles: Vec<(u32, u32)> = (tx0..=tx1)
        .flat_map(|x| (ty0..=ty1).map(move |y| (x, y)))
        .collect();
    tiles
        .into_par_iter()
        .filter_map(|(tx, ty)| {
            let (lo, hi) = gz.buffered(tx, ty);
            let w = tile_window(g, lo, hi, gz.scale, gz.block, (*cols, *rows), from_web)?;
            let [c0, r0, c1, r1] = w;
            let any = (r0..r1).any(|r| codes[r * cols + c0..r * cols + c1].iter().any(|&k| k != 0));
            any.then_some(((tx, ty), w))
        })
        .collect()
}

/// The grid's regions in one tile: (id, code, polygon) per region, clipped
/// to the tile and its buffer.
fn grid_pieces(
    g: &GridPyramid,
    gz: &GridZoom,
    key: TileKey,
    window: [usize; 4],
    to_web: Transform,
) -> Vec<GridPiece> {
    let s = &g.spec;
    let (codes, cols, _) = &g.levels[gz.level];
    let (lo, hi) = gz.buffered(key.x, key.y);
    let lattice = Lattice::new(window, gz.step, |c, r| {
        let p = g.world(
            s.x0 + c as f64 * gz.block,
            s.y0 - r as f64 * gz.block,
            to_web,
        );
        [p[0] * gz.scale, p[1] * gz.scale]
    });
    let polys = window_regions(codes, *cols, window, |c, r| lattice.at(c, r));
    let level_id = (gz.level as u64) << 40;
    let e = f64::from(EXTENT);
    polys
        .into_iter()
        .filter_map(|(first, code, poly)| {
            let part = clip_polygons(&[poly], 0, lo[0], hi[0], false);
            let part = clip_polygons(&part, 1, lo[1], hi[1], false);
            let mut tp = to_tile(&part, [f64::from(key.x) * e, f64::from(key.y) * e]);
            (!tp.is_empty()).then(|| (level_id | first as u64, code, tp.remove(0)))
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

/// Cell corners this far apart (metres) are projected exactly,
/// those between interpolated (see [`Lattice`]).
const LATTICE_M: f64 = 500.0;

/// The positions of a window's cell corners, projected exactly every
/// `step` cells (and at the window's edges) and interpolated bilinearly
/// between. Over 500 m the projection to Web Mercator (and GCJ-02's shift)
/// bends by a centimetre or two, under a twentieth of a tile unit at the
/// highest zoom, while a projection per vertex was most of the grid's tiling time.
struct Lattice {
    cols: Vec<usize>,
    rows: Vec<usize>,
    nodes: Vec<World>,
    /// Per column of the window from its first: the node column before it
    /// and how far it lies towards the next; likewise per row.
    col_spans: Vec<(usize, f64)>,
    row_spans: Vec<(usize, f64)>,
}

impl Lattice {
    fn new(
        [c0, r0, c1, r1]: [usize; 4],
        step: usize,
        exact: impl Fn(usize, usize) -> World,
    ) -> Lattice {
        let along = |a: usize, b: usize| -> Vec<usize> {
            let mut v: Vec<usize> = (a..b).step_by(step).collect();
            v.push(b);
            v
        };
        let (cols, rows) = (along(c0, c1), along(r0, r1));
        let nodes = rows
            .iter()
            .flat_map(|&r| cols.iter().map(move |&c| (c, r)))
            .map(|(c, r)| exact(c, r))
            .collect();
        let spans = |v: &[usize]| -> Vec<(usize, f64)> {
            (v[0]..=v[v.len() - 1]).map(|x| span(v, x)).collect()
        };
        Lattice {
            col_spans: spans(&cols),
            row_spans: spans(&rows),
            cols,
            rows,
            nodes,
        }
    }

    /// The position of corner (c, r) of the window.
    fn at(&self, c: usize, r: usize) -> World {
        let (i, tx) = self.col_spans[c - self.cols[0]];
        let (j, ty) = self.row_spans[r - self.rows[0]];
        let n = self.cols.len();
        let node = |a: usize, b: usize| self.nodes[b * n + a];
        let (p00, p10, p01, p11) = (
            node(i, j),
            node(i + 1, j),
            node(i, j + 1),
            node(i + 1, j + 1),
        );
        let mix = |k: usize| {
            (1.0 - ty) * ((1.0 - tx) * p00[k] + tx * p10[k])
                + ty * ((1.0 - tx) * p01[k] + tx * p11[k])
        };
        [mix(0), mix(1)]
    }
}

/// The node before `x` along `v` (node positions, ascending; `x` within
/// them) and how far `x` lies from it towards the next.
fn span(v: &[usize], x: usize) -> (usize, f64) {
    let i = v.partition_point(|&n| n <= x).clamp(1, v.len() - 1) - 1;
    (i, (x - v[i]) as f64 / (v[i + 1] - v[i]) as f64)
}

/// The regions of the window `[c0, r0, c1, r1]` of `codes`: (index of the
/// region's first cell in the level, code, polygon with vertices placed by `at(col, row)`).
fn window_regions(
    codes: &[u8],
    cols: usize,
    [c0, r0, c1, r1]: [usize; 4],
    at: impl Fn(usize, usize) -> World,
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
            .map(|&[c, r]| at(c0 + c as usize, r0 + r as usize))
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
            Value::Int(i64::MIN),
            Value::Bool(true),
            Value::Bool(false),
        ];
        let refs: Vec<&Value> = v.iter().collect();
        let mut packed = Vec::new();
        pack(&refs, &mut packed);
        let back: Vec<Option<&[u8]>> = unpack(&packed).collect();
        let expected: Vec<Option<Prop>> = vec![
            Some(Prop::Str("常州")),
            None,
            Some(Prop::Int(-3)),
            Some(Prop::Real(2.5)),
            Some(Prop::Int(i64::MIN)),
            Some(Prop::Bool(true)),
            Some(Prop::Bool(false)),
        ];
        let messages: Vec<Option<Vec<u8>>> = expected
            .into_iter()
            .map(|p| {
                p.map(|p| {
                    let mut m = Vec::new();
                    mvt::value_message(p, &mut m);
                    m
                })
            })
            .collect();
        assert_eq!(
            back,
            messages.iter().map(|m| m.as_deref()).collect::<Vec<_>>()
        );
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
        let cuts = cut(Geometry::Polygons(&[poly]), 1, 1.0);
        let tiles: Vec<(u32, u32)> = cuts.iter().map(|(k, _)| *k).collect();
        assert_eq!(tiles, vec![(0, 0), (0, 1), (1, 0), (1, 1)]);
        for (_, g) in &cuts {
            let TileGeometry::Polygons(p) = g else {
                panic!("polygons")
            };
            let (e, b) = (EXTENT as i32, BUFFER as i32);
            for v in &p[0].0 {
                assert!(v[0] >= -b && v[0] <= e + b && v[1] >= -b && v[1] <= e + b);
            }
        }
    }

    #[test]
    fn below_the_highest_zoom_a_ring_keeps_vertices_half_a_pixel_apart() {
        // A 48-gon 40 units across its radius: its edges are 5.2 units.
        let ring: Ring = (0..=48)
            .map(|k| {
                let a = std::f64::consts::TAU * f64::from(k % 48) / 48.0;
                [0.5 + 40.0 * a.cos() / 8192.0, 0.5 + 40.0 * a.sin() / 8192.0]
            })
            .collect();
        let whole = quantise(&ring, 8192.0, 1.0);
        assert_eq!(
            whole.len(),
            49,
            "every distinct vertex at a step of one unit"
        );
        let thin = quantise(&ring, 8192.0, THIN_STEP);
        assert!(
            thin.len() >= 24 && thin.len() < 40,
            "{} vertices",
            thin.len()
        );
        for w in thin.windows(2) {
            let d = (w[1][0] - w[0][0]).abs().max((w[1][1] - w[0][1]).abs());
            assert!(d >= THIN_STEP, "{w:?}");
        }
        assert_eq!(thin[0], whole[0]);
    }

    #[test]
    fn a_point_falls_in_one_tile_at_each_zoom() {
        let p = Geometry::Point(world(119.95, 31.78));
        for z in 0..=crate::styles::map().web.max_zoom {
            let c = cut(p, z, 1.0);
            assert_eq!(c.len(), 1);
            let TileGeometry::Point([x, y]) = c[0].1 else {
                panic!("a point")
            };
            let inside = 0..=EXTENT as i32;
            assert!(inside.contains(&x) && inside.contains(&y));
        }
    }

    #[test]
    fn a_layer_is_thinned_by_its_smallest_symbol_and_never_below_two_pixels() {
        // An enterprise's 1.1 mm at 3.2 px/mm: 3.52 px, 56 units.
        assert_eq!(thin_cell(Some(3.52)), 56);
        assert_eq!(thin_cell(Some(8.0)), 128);
        assert_eq!(thin_cell(Some(1.0)), THIN_CELL);
        assert_eq!(thin_cell(None), THIN_CELL);
    }

    #[test]
    fn thinning_keeps_the_best_ranked_first_point_of_each_square() {
        fn same(lon: f64, lat: f64) -> (f64, f64) {
            (lon, lat)
        }
        let mut c = Collected::new(same, same);
        let layer = c.begin_layer("p", Vec::new(), thin_cell(Some(3.5)));
        // 20,000 points in a few km around 常州, some on one spot; ranks 0–3
        // and min zooms 4–11 drawn from a fixed sequence.
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        };
        let mut places = Vec::new();
        for id in 1..=20_000u64 {
            let (lon, lat) = if id % 10 == 0 {
                (119.95, 31.78)
            } else {
                (
                    119.9 + next(10_000) as f64 * 1e-5,
                    31.75 + next(10_000) as f64 * 1e-5,
                )
            };
            let at = Placement {
                min_zoom: 4 + next(8) as u8,
                rank: next(4) as u8,
            };
            c.add(layer, id, at, &Shape::Point(geo::Point::new(lon, lat)), &[]);
            places.push((id, at));
        }
        c.order_spatially();
        let l = &c.layers[layer];
        for z in [6, 9, 11] {
            let square = |i: usize| {
                let ((tx, ty), [x, y]) = point_in_tile(l.points[i], z);
                (tx, ty, x / l.thin_cell, y / l.thin_cell)
            };
            // The best (rank, id) of each square, from every point in the zoom.
            let mut best: BTreeMap<(u32, u32, i32, i32), (u8, u64)> = BTreeMap::new();
            for i in (0..l.len()).filter(|&i| l.min_zooms[i] <= z) {
                let e = best.entry(square(i)).or_insert((u8::MAX, u64::MAX));
                *e = (*e).min((l.ranks[i], l.ids[i]));
            }
            let zoom = tiles_at_zoom(&c, None, z, true, |k| interleave(k.x.into(), k.y.into()));
            let kept: BTreeMap<(u32, u32, i32, i32), (u8, u64)> = zoom
                .pieces
                .iter()
                .map(|(_, p)| (square(p.index), (l.ranks[p.index], p.id)))
                .collect();
            assert_eq!(
                kept.len(),
                zoom.pieces.len(),
                "zoom {z}: one point per square"
            );
            assert_eq!(kept, best, "zoom {z}");
            let all = tiles_at_zoom(&c, None, z, false, |k| interleave(k.x.into(), k.y.into()));
            let in_zoom = places.iter().filter(|(_, at)| at.min_zoom <= z).count();
            assert_eq!(
                all.pieces.len(),
                in_zoom,
                "zoom {z}: unthinned, every point"
            );
            assert!(
                kept.len() < in_zoom,
                "zoom {z}: {} of {in_zoom} kept",
                kept.len()
            );
        }
    }

    #[test]
    fn the_lattice_places_corners_within_a_twentieth_of_a_unit_at_the_highest_zoom() {
        // 3 km of 100 m cells over 常州, to GCJ-02 (whose shift bends most).
        let metric = MetricCrs::for_longitude(119.95, 31.78);
        let (x0, y0) = metric.project(119.92, 31.80);
        let scale = f64::from(EXTENT) * f64::from(1u32 << crate::styles::map().web.max_zoom);
        let exact = |c: usize, r: usize| {
            let (lon, lat) = metric.unproject(x0 + c as f64 * 100.0, y0 - r as f64 * 100.0);
            let (lon, lat) = crate::crs::wgs84_to_gcj02(lon, lat);
            let w = world(lon, lat);
            [w[0] * scale, w[1] * scale]
        };
        let lattice = Lattice::new([0, 0, 30, 27], 5, exact);
        let mut worst = 0.0f64;
        for r in 0..=27 {
            for c in 0..=30 {
                let (a, b) = (lattice.at(c, r), exact(c, r));
                worst = worst.max((a[0] - b[0]).abs()).max((a[1] - b[1]).abs());
            }
        }
        assert!(worst < 0.05, "{worst} units");
        assert_eq!(lattice.at(10, 15), exact(10, 15));
        assert_eq!(lattice.at(30, 27), exact(30, 27));
    }

    #[test]
    fn the_pyramid_keeps_the_most_common_grade() {
        let (codes, c, r) = halve(&[4, 0, 0, 0, 2, 2, 1, 1], 4, 2);
        assert_eq!((c, r), (2, 1));
        // [4,0 / 2,2] → 2 (twice); [0,0 / 1,1] → 1 (tie, the higher).
        assert_eq!(codes, vec![2, 1]);
    }
}

//! The base layers under the risk data — the units around the study area,
//! built-up areas, water, railways, roads and place names from the
//! project's `[basemap]` — drawn muted
//! (`styles/map.toml` [basemap]) so a reader can tell where things are,
//! and thinned with the map's scale: at city scale only the larger places
//! are named and roads are finer.

use std::collections::BTreeMap;

use geo::{BoundingRect, LineString, MapCoords, MultiPolygon};
use tiny_skia::{Color, PathBuilder};

use crate::crs::{InputCrs, MetricCrs};
use crate::ingest::config::InputKind;
use crate::ingest::load::tiles::{Tile, TilePackage};

use super::legend::{fill_swatch, Entry, Painter};
use super::{colour, Page, View};

/// A line of a base layer, in the metric CRS.
pub struct BaseLine {
    /// The line.
    pub line: LineString<f64>,
    /// A canal (drawn as a river, wider) or a major road.
    pub major: bool,
}

/// A unit around the study area, in the metric CRS, less the study area.
pub struct BaseArea {
    /// Its name, where given.
    pub name: Option<String>,
    /// What of it lies beyond the study area.
    pub area: MultiPolygon<f64>,
}

/// A named place, in the metric CRS.
pub struct BasePlace {
    /// Easting, northing in metres.
    pub xy: [f64; 2],
    /// Its name as given.
    pub name: String,
    /// 0 a city, 1 a county or district seat, 2 a town or smaller: the
    /// order in which places are named, and which a small scale leaves out.
    pub rank: u8,
    /// Population where given (0 when not): the order within a rank.
    pub population: f64,
}

/// Everything the base layers hold, in the metric CRS (all empty without
/// a `[basemap]`).
#[derive(Default)]
pub struct BaseMap {
    /// The units around the study area (beyond it only).
    pub surroundings: Vec<BaseArea>,
    /// Built-up areas.
    pub built_up: Vec<MultiPolygon<f64>>,
    /// Lakes, reservoirs and wide rivers.
    pub water_areas: Vec<MultiPolygon<f64>>,
    /// Rivers and canals as lines.
    pub water_lines: Vec<BaseLine>,
    /// Railways.
    pub railways: Vec<LineString<f64>>,
    /// Roads.
    pub roads: Vec<BaseLine>,
    /// Named places, most important first.
    pub places: Vec<BasePlace>,
    /// The credit line for the base data, printed at the foot of the map.
    pub attribution: Option<String>,
    /// The raster tile package, when given.
    pub tiles: Option<TileLayer>,
    /// The base layers' `max_scale`s, where given: each drawn only on maps
    /// of 1:N or smaller, N at least this.
    pub max_scale: BTreeMap<InputKind, f64>,
}

impl BaseMap {
    /// Whether base layer `layer` is drawn on this page, at the scale
    /// [`settle_scale`] settled for it.
    fn shows(&self, page: &Page, layer: InputKind) -> bool {
        self.max_scale
            .get(&layer)
            .is_none_or(|&n| page.base_denominator >= n)
    }
}

/// A raster tile package to draw: Web Mercator tiles on `crs`'s datum.
pub struct TileLayer {
    /// The open package.
    pub source: std::sync::Arc<TilePackage>,
    /// The datum the tiles are drawn on (WGS 84, GCJ-02 or BD-09).
    pub crs: InputCrs,
    /// The maps' metric CRS, to find each pixel's longitude and latitude.
    pub metric: MetricCrs,
}

/// Scale denominators above which a map counts as small scale: fewer
/// places named, finer roads.
const SMALL_SCALE: f64 = 300_000.0;

/// Settles the scale that decides which base layers a `max_scale` leaves
/// out of a map of `[min, max]` (metric): the map's fit to the page before
/// the legend takes its corner (as the points' thinning does), so that the
/// legend, made before the layout, and the map agree. A page that never
/// settles it draws none of those layers.
pub(super) fn settle_scale(page: &mut Page, min: [f64; 2], max: [f64; 2]) {
    page.base_denominator =
        page.px_per_mm * 1000.0 / View::fit(min, max, super::map_body(page)).scale;
}

/// The layers drawn within `[min, max]` (metric), as legend entries:
/// 周边地区, 建成区, 水域, 河流, 铁路, 道路.
pub(super) fn legend_entries(
    page: &Page,
    base: &BaseMap,
    min: [f64; 2],
    max: [f64; 2],
) -> Vec<Entry> {
    use geo::Intersects;
    let mut entries = Vec::new();
    let frame = rect(min, max);
    let shown = base.shows(page, InputKind::BaseSurroundings);
    if shown && base.surroundings.iter().any(|s| s.area.intersects(&frame)) {
        let c = colour(&super::styles::map().basemap.surroundings, 1.0);
        entries.push(entry(fill_swatch(c), "周边地区", c));
    }
    entries.extend(local_legend_entries(page, base, min, max));
    entries
}

fn rect(min: [f64; 2], max: [f64; 2]) -> geo::Rect<f64> {
    geo::Rect::new(
        geo::coord! { x: min[0], y: min[1] },
        geo::coord! { x: max[0], y: max[1] },
    )
}

/// [`legend_entries`] but the surroundings, for a map that leaves them out
/// (an enterprise's, where the exposure surface covers the land around).
pub(super) fn local_legend_entries(
    page: &Page,
    base: &BaseMap,
    min: [f64; 2],
    max: [f64; 2],
) -> Vec<Entry> {
    use geo::Intersects;
    let s = &super::styles::map().basemap;
    let frame = rect(min, max);
    let any_area = |areas: &[MultiPolygon<f64>]| areas.iter().any(|m| m.intersects(&frame));
    let any_line =
        |mut lines: std::slice::Iter<'_, BaseLine>| lines.any(|l| l.line.intersects(&frame));
    let shows = |layer| base.shows(page, layer);
    let mut entries = Vec::new();
    if shows(InputKind::BaseBuiltUp) && any_area(&base.built_up) {
        let c = colour(&s.built_up, 1.0);
        entries.push(entry(hatch_swatch(), "建成区", c));
    }
    if shows(InputKind::BaseWater) && any_area(&base.water_areas) {
        let c = colour(&s.water, 1.0);
        entries.push(entry(fill_swatch(c), "水域", c));
    }
    if shows(InputKind::BaseWater) && any_line(base.water_lines.iter()) {
        let c = colour(&s.river, 1.0);
        entries.push(entry(line_swatch(LineKind::River), "河流、运河", c));
    }
    if shows(InputKind::BaseRailways) && base.railways.iter().any(|l| l.intersects(&frame)) {
        let c = colour(&s.railway, 1.0);
        entries.push(entry(line_swatch(LineKind::Railway), "铁路", c));
    }
    if shows(InputKind::BaseRoads) && any_line(base.roads.iter()) {
        let c = colour(&s.road, 1.0);
        entries.push(entry(line_swatch(LineKind::Road), "道路", c));
    }
    entries
}

fn entry(paint: Painter, text: &str, c: Color) -> Entry {
    Entry {
        paint,
        text: text.to_string(),
        colour: Some(c),
    }
}

/// How a base line is drawn.
#[derive(Clone, Copy)]
enum LineKind {
    River,
    Railway,
    Road,
}

/// A short horizontal stretch of the line's symbol.
fn line_swatch(kind: LineKind) -> Painter {
    Box::new(move |page: &mut Page, x, y, size| {
        let mut pb = PathBuilder::new();
        pb.move_to(x - size * 0.55, y);
        pb.line_to(x + size * 0.55, y);
        if let Some(path) = pb.finish() {
            stroke_line(page, &path, kind, false, None);
        }
    })
}

/// The map's scale denominator (1:N on paper).
fn denominator(page: &Page, view: &View) -> f64 {
    page.px_per_mm * 1000.0 / view.scale
}

/// Draws all the base layers, for a map with no grid.
pub(super) fn draw_all(page: &mut Page, view: &View, base: &BaseMap) {
    draw_areas(page, view, base);
    draw_lines(page, view, base);
}

/// Draws the base layers' areas — the land around the study area,
/// built-up areas, then water — over the area fills and under the grid
/// (whose cells show over a lake).
pub(super) fn draw_areas(page: &mut Page, view: &View, base: &BaseMap) {
    let s = page.style.basemap.clone();
    let outline = (colour(&s.surroundings_outline, 1.0), page.mm(0.25));
    let shown = base.shows(page, InputKind::BaseSurroundings);
    for a in base.surroundings.iter().filter(|_| shown) {
        page.polygon(
            view,
            &a.area,
            Some(colour(&s.surroundings, 1.0)),
            Some(outline),
        );
    }
    draw_local_areas(page, view, base);
}

/// [`draw_areas`] but the surroundings.
pub(super) fn draw_local_areas(page: &mut Page, view: &View, base: &BaseMap) {
    let s = page.style.basemap.clone();
    let (gap, width) = (page.mm(s.built_up_gap_mm), page.mm(s.built_up_mm));
    let clip = page.clip();
    let shown = base.shows(page, InputKind::BaseBuiltUp);
    for m in base.built_up.iter().filter(|_| shown) {
        if let Some(path) = hatch_path(view, m, gap, page.frame) {
            page.canvas
                .stroke(&path, colour(&s.built_up, 1.0), width, None, clip.as_ref());
        }
    }
    page.keep_clip(clip);
    let outline = (colour(&s.river, 1.0), page.mm(s.shore_mm));
    let shown = base.shows(page, InputKind::BaseWater);
    for m in base.water_areas.iter().filter(|_| shown) {
        page.polygon(view, m, Some(colour(&s.water, 1.0)), Some(outline));
    }
}

/// Draws the base layers' lines — rivers, railways, roads — over the grid
/// (and over the tiles, when given) and under the outlines and points, so
/// the network reads through the risk colours.
pub(super) fn draw_lines(page: &mut Page, view: &View, base: &BaseMap) {
    draw_tiles(page, view, base);
    let small = denominator(page, view) > SMALL_SCALE;
    let clip = page.clip();
    let shows = |layer| base.shows(page, layer);
    let (water, railways, roads) = (
        shows(InputKind::BaseWater),
        shows(InputKind::BaseRailways),
        shows(InputKind::BaseRoads),
    );
    for l in base.water_lines.iter().filter(|_| water) {
        if let Some(path) = line_path(view, &l.line) {
            stroke_line(page, &path, LineKind::River, l.major, clip.as_ref());
        }
    }
    for l in base.railways.iter().filter(|_| railways) {
        if let Some(path) = line_path(view, l) {
            stroke_line(page, &path, LineKind::Railway, false, clip.as_ref());
        }
    }
    for l in base.roads.iter().filter(|_| roads) {
        if let Some(path) = line_path(view, &l.line) {
            stroke_line(
                page,
                &path,
                LineKind::Road,
                l.major && !small,
                clip.as_ref(),
            );
        }
    }
    page.keep_clip(clip);
}

/// Strokes a line's symbol: a river (wider when `wide`: a canal), a
/// railway (a dark line with light dashes), a road (wider when `wide`).
fn stroke_line(
    page: &mut Page,
    path: &tiny_skia::Path,
    kind: LineKind,
    wide: bool,
    clip: Option<&super::Clip>,
) {
    let s = page.style.basemap.clone();
    match kind {
        LineKind::River => {
            let w = page.mm(if wide { s.canal_mm } else { s.river_mm });
            page.canvas
                .stroke(path, colour(&s.river, 1.0), w, None, clip);
        }
        LineKind::Road => {
            let w = page.mm(if wide { s.major_road_mm } else { s.road_mm });
            page.canvas
                .stroke(path, colour(&s.road, 1.0), w, None, clip);
        }
        LineKind::Railway => {
            let w = page.mm(s.railway_mm);
            page.canvas
                .stroke(path, colour(&s.railway, 1.0), w, None, clip);
            let dash = page.mm(s.railway_mm * 4.0);
            let ink = colour(&s.railway_dash, 1.0);
            page.canvas
                .stroke(path, ink, w * 0.45, Some([dash, dash]), clip);
        }
    }
}

/// The legend's swatch of built-up areas: its square hatched as they are.
fn hatch_swatch() -> Painter {
    Box::new(move |page: &mut Page, x, y, size| {
        let s = page.style.basemap.clone();
        let (w, h) = (size * 0.55, size * 0.42);
        let box_ = super::Rect {
            l: x - w,
            t: y - h,
            r: x + w,
            b: y + h,
        };
        let corners = [
            (box_.l, box_.t),
            (box_.r, box_.t),
            (box_.r, box_.b),
            (box_.l, box_.b),
        ];
        let square = MultiPolygon(vec![geo::Polygon::new(
            corners
                .map(|(x, y)| (f64::from(x), f64::from(y)))
                .to_vec()
                .into(),
            Vec::new(),
        )]);
        let edge = colour(&page.style.furniture.swatch_outline, 1.0);
        page.rect(box_, Some(Color::WHITE), Some((edge, 0.8)));
        let gap = page.mm(s.built_up_gap_mm).min(size * 0.3);
        if let Some(path) = hatch_pixels(&square, gap, box_) {
            let width = page.mm(s.built_up_mm);
            page.canvas
                .stroke(&path, colour(&s.built_up, 1.0), width, None, None);
        }
    })
}

/// 45° hatching lines across `mp` (metric) in pixels, `gap` px apart and
/// anchored to the page, so that neighbouring areas' lines run on; `None`
/// when none falls in `frame`.
fn hatch_path(
    view: &View,
    mp: &MultiPolygon<f64>,
    gap: f32,
    frame: super::Rect,
) -> Option<tiny_skia::Path> {
    let pixels = mp.map_coords(|c| {
        let (x, y) = view.px(c.x, c.y);
        geo::coord! { x: f64::from(x), y: f64::from(y) }
    });
    hatch_pixels(&pixels, gap, frame)
}

/// [`hatch_path`] for a multipolygon already in pixels: each line
/// x + y = c (c a multiple of `gap`) is cut where it crosses the rings,
/// and the stretches inside (even–odd) kept.
fn hatch_pixels(mp: &MultiPolygon<f64>, gap: f32, frame: super::Rect) -> Option<tiny_skia::Path> {
    let gap = f64::from(gap.max(1.0));
    let mut pb = PathBuilder::new();
    for poly in &mp.0 {
        let Some(b) = poly.bounding_rect() else {
            continue;
        };
        if b.max().x < f64::from(frame.l)
            || b.min().x > f64::from(frame.r)
            || b.max().y < f64::from(frame.t)
            || b.min().y > f64::from(frame.b)
        {
            continue;
        }
        let edges: Vec<[geo::Coord<f64>; 2]> = std::iter::once(poly.exterior())
            .chain(poly.interiors())
            .flat_map(|r| r.lines().map(|l| [l.start, l.end]))
            .collect();
        let (lo, hi) = (b.min().x + b.min().y, b.max().x + b.max().y);
        let mut xs: Vec<f64> = Vec::new();
        let mut c = (lo / gap).ceil() * gap;
        while c <= hi {
            xs.clear();
            for [p, q] in &edges {
                let (u0, u1) = (p.x + p.y, q.x + q.y);
                if (u0 <= c) != (u1 <= c) {
                    let t = (c - u0) / (u1 - u0);
                    xs.push(p.x + t * (q.x - p.x));
                }
            }
            xs.sort_by(f64::total_cmp);
            for pair in xs.chunks_exact(2) {
                pb.move_to(pair[0] as f32, (c - pair[0]) as f32);
                pb.line_to(pair[1] as f32, (c - pair[1]) as f32);
            }
            c += gap;
        }
    }
    pb.finish()
}

/// A line as a pixel path; `None` for fewer than two points.
fn line_path(view: &View, line: &LineString<f64>) -> Option<tiny_skia::Path> {
    let mut pb = PathBuilder::new();
    super::trace(&mut pb, view, line.coords());
    pb.finish()
}

/// Names the places in the frame, most important first, where a name
/// overlaps nothing placed before and is not already on the map (a unit's
/// name); at small scale only cities and county seats.
pub(super) fn label_places(page: &mut Page, view: &View, base: &BaseMap) {
    label_surroundings(page, view, base);
    label_local_places(page, view, base);
}

/// [`label_places`] but the surroundings' names.
pub(super) fn label_local_places(page: &mut Page, view: &View, base: &BaseMap) {
    let s = page.style.basemap.clone();
    let max_rank = if denominator(page, view) > SMALL_SCALE {
        1
    } else {
        2
    };
    let size = page.pt(page.style.text.small_pt);
    let dot = page.mm(s.place_mm);
    let ink = colour(&s.place, 1.0);
    let shown = base.shows(page, InputKind::BasePlaces);
    for p in base.places.iter().filter(|p| shown && p.rank <= max_rank) {
        if page.labelled.contains(&p.name) {
            continue;
        }
        let (x, y) = view.px(p.xy[0], p.xy[1]);
        if !page.frame.holds(x, y) {
            continue;
        }
        let size = if p.rank == 0 { size * 1.15 } else { size };
        if page.label_in(&p.name, x, y, size, dot * 1.5, ink) {
            page.canvas.circle(x, y, dot / 2.0, Some(ink), None);
        }
    }
}

/// Names each surrounding unit in the frame, in grey, in the middle of its
/// part that shows: the point of a lattice over the frame deepest inside
/// that part (farthest from the lattice's points outside it and from the
/// frame's edge), so a long part that wraps round the study area gets its
/// name in its broadest place, not at an edge (a unit's own middle is often
/// off the map).
fn label_surroundings(page: &mut Page, view: &View, base: &BaseMap) {
    use geo::{BoundingRect, Intersects};
    let s = page.style.basemap.clone();
    let ink = colour(&s.surroundings_name, 1.0);
    let size = page.pt(page.style.text.label_pt);
    let f = page.frame;
    let (l, t) = view.metric(f.l, f.t);
    let (r, b) = view.metric(f.r, f.b);
    let frame = geo::Rect::new(geo::coord! { x: l, y: b }, geo::coord! { x: r, y: t });
    let shown = base.shows(page, InputKind::BaseSurroundings);
    for a in base.surroundings.iter().filter(|_| shown) {
        let Some(name) = &a.name else { continue };
        if page.labelled.contains(name)
            || !a
                .area
                .bounding_rect()
                .is_some_and(|bb| bb.intersects(&frame))
        {
            continue;
        }
        let Some(at) = deepest_point(&a.area, frame) else {
            continue;
        };
        let (x, y) = view.px(at.0, at.1);
        page.label_in(name, x, y, size, 0.0, ink);
    }
}

/// Of a lattice of 24 × 24 points over `frame`, the one deepest inside
/// `area`: farthest from the lattice's points outside it and from the
/// frame's edge (of equally deep ones, the nearest the middle of those
/// inside); `None` when no point of the lattice is inside.
fn deepest_point(area: &MultiPolygon<f64>, frame: geo::Rect<f64>) -> Option<(f64, f64)> {
    use geo::Contains;
    const STEPS: usize = 24;
    let (min, max) = (frame.min(), frame.max());
    let lattice = (0..STEPS)
        .flat_map(|i| (0..STEPS).map(move |j| (i, j)))
        .map(|(i, j)| {
            let u = (i as f64 + 0.5) / STEPS as f64;
            let v = (j as f64 + 0.5) / STEPS as f64;
            (min.x + (max.x - min.x) * u, min.y + (max.y - min.y) * v)
        });
    type Points = Vec<(f64, f64)>;
    let (inside, outside): (Points, Points) =
        lattice.partition(|&(x, y)| area.contains(&geo::Point::new(x, y)));
    let depth = |p: &(f64, f64)| {
        let to_edge = (p.0 - min.x)
            .min(max.x - p.0)
            .min(p.1 - min.y)
            .min(max.y - p.1);
        outside
            .iter()
            .map(|q| (p.0 - q.0).hypot(p.1 - q.1))
            .fold(to_edge, f64::min)
    };
    let n = inside.len() as f64;
    let mean = inside
        .iter()
        .fold((0.0, 0.0), |m, p| (m.0 + p.0 / n, m.1 + p.1 / n));
    let off = |p: &(f64, f64)| (p.0 - mean.0).hypot(p.1 - mean.1);
    inside
        .iter()
        .map(|p| (depth(p), off(p), *p))
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, p)| p)
}

/// Pixels between the points whose longitude and latitude are computed;
/// the tiles' coordinates in between are interpolated (at 16 px the error
/// is far below a pixel at any map scale).
const TILE_STEP: usize = 16;

/// Draws the raster tile package over the area fills and the grid in
/// multiply mode: its white leaves them as they are, its roads and names
/// darken them, so the risk colours and the map under them both show. The
/// tiles are muted by `styles/map.toml` [basemap] tiles_strength. The zoom
/// is the one whose pixels are as fine as the map's, within the package's.
pub(super) fn draw_tiles(page: &mut Page, view: &View, base: &BaseMap) {
    let Some(t) = &base.tiles else { return };
    let f = page.frame;
    let (l, top) = (f.l.max(0.0) as usize, f.t.max(0.0) as usize);
    let (w, h) = (f.r as usize - l, f.b as usize - top);
    let Some(mut overlay) = tiny_skia::Pixmap::new(w as u32, h as u32) else {
        return;
    };
    let (cx, cy) = view.metric((f.l + f.r) / 2.0, (f.t + f.b) / 2.0);
    let lat = t.metric.unproject(cx, cy).1;
    let fine = (156_543.033_928 * lat.to_radians().cos() * view.scale)
        .log2()
        .ceil();
    let (lo, hi) = t.source.zooms();
    let z = fine.clamp(lo as f64, hi as f64) as u8;
    let (nx, ny) = (w / TILE_STEP + 2, h / TILE_STEP + 2);
    let nodes: Vec<(f64, f64)> = (0..ny * nx)
        .map(|k| {
            let (i, j) = (k % nx, k / nx);
            let (x, y) = view.metric((l + i * TILE_STEP) as f32, (top + j * TILE_STEP) as f32);
            let (lon, lat) = t.metric.unproject(x, y);
            let (lon, lat) = match t.crs {
                InputCrs::Gcj02 => crate::crs::wgs84_to_gcj02(lon, lat),
                InputCrs::Bd09 => crate::crs::wgs84_to_bd09(lon, lat),
                _ => (lon, lat),
            };
            mercator(lon, lat, z)
        })
        .collect();
    let strength = page.style.basemap.tiles_strength;
    let mute = |c: u8| (255.0 - (255.0 - c as f64) * strength).round() as u8;
    let span = 1u32 << z;
    let mut cache: std::collections::HashMap<(u32, u32), Option<Tile>> = Default::default();
    let pixels = overlay.pixels_mut();
    for py in 0..h {
        let (j, v) = (py / TILE_STEP, (py % TILE_STEP) as f64 / TILE_STEP as f64);
        for px in 0..w {
            let (i, u) = (px / TILE_STEP, (px % TILE_STEP) as f64 / TILE_STEP as f64);
            let at = |i: usize, j: usize| nodes[j * nx + i];
            let lerp = |a: (f64, f64), b: (f64, f64), t: f64| {
                (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
            };
            let (x, y) = lerp(
                lerp(at(i, j), at(i + 1, j), u),
                lerp(at(i, j + 1), at(i + 1, j + 1), u),
                v,
            );
            let (tx, ty) = ((x / 256.0).floor(), (y / 256.0).floor());
            if tx < 0.0 || ty < 0.0 || tx >= span as f64 || ty >= span as f64 {
                continue;
            }
            let key = (tx as u32, ty as u32);
            let tile = cache
                .entry(key)
                .or_insert_with(|| t.source.tile(z, key.0, key.1));
            let Some(tile) = tile else { continue };
            let s = tile.size as f64 / 256.0;
            let ix = (((x - tx * 256.0) * s) as usize).min(tile.size - 1);
            let iy = (((y - ty * 256.0) * s) as usize).min(tile.size - 1);
            let c = &tile.rgb[(iy * tile.size + ix) * 3..][..3];
            pixels[py * w + px] =
                tiny_skia::ColorU8::from_rgba(mute(c[0]), mute(c[1]), mute(c[2]), 255)
                    .premultiply();
        }
    }
    page.canvas.image(l as i32, top as i32, &overlay, true);
}

/// Web Mercator pixel coordinates (256-pixel tiles) at zoom `z`, counted
/// from the north-west corner of the world.
fn mercator(lon: f64, lat: f64, z: u8) -> (f64, f64) {
    let n = 256.0 * (1u64 << z) as f64;
    let phi = lat.to_radians();
    let y = (1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / std::f64::consts::PI) / 2.0;
    ((lon + 180.0) / 360.0 * n, y * n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Contains, Polygon};

    #[test]
    fn a_name_goes_where_the_part_is_broadest() {
        // A U round a square hole, its arms 10 wide and its base 30 deep:
        // the points nearest the middle of its lattice points lie in its thin
        // arms, the deepest in its base.
        let ring = vec![
            (0.0, 0.0),
            (100.0, 0.0),
            (100.0, 100.0),
            (90.0, 100.0),
            (90.0, 30.0),
            (10.0, 30.0),
            (10.0, 100.0),
            (0.0, 100.0),
        ];
        let u = MultiPolygon(vec![Polygon::new(LineString::from(ring), vec![])]);
        let frame = geo::Rect::new(
            geo::coord! { x: 0.0, y: 0.0 },
            geo::coord! { x: 100.0, y: 100.0 },
        );
        let (x, y) = deepest_point(&u, frame).expect("the U is in the frame");
        assert!(u.contains(&geo::Point::new(x, y)));
        assert!((10.0..=20.0).contains(&y), "in the base's middle: {y}");
        assert!((25.0..=75.0).contains(&x), "away from the arms: {x}");
        let outside = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(200.0, 0.0), (300.0, 0.0), (300.0, 90.0)]),
            vec![],
        )]);
        assert_eq!(deepest_point(&outside, frame), None);
    }

    #[test]
    fn hatching_fills_an_area_with_lines_and_leaves_its_hole_out() {
        // A 100 px square with a 40 px square hole, hatched every 10 px.
        let square =
            |a: f64, b: f64| LineString::from(vec![(a, a), (b, a), (b, b), (a, b), (a, a)]);
        let m = MultiPolygon(vec![Polygon::new(
            square(0.0, 100.0),
            vec![square(30.0, 70.0)],
        )]);
        let frame = crate::maps::render::Rect {
            l: 0.0,
            t: 0.0,
            r: 200.0,
            b: 200.0,
        };
        let path = hatch_pixels(&m, 10.0, frame).expect("lines");
        let (mut length, mut start) = (0.0f64, (0.0f32, 0.0f32));
        for seg in path.segments() {
            match seg {
                tiny_skia::PathSegment::MoveTo(p) => start = (p.x, p.y),
                tiny_skia::PathSegment::LineTo(p) => {
                    let (dx, dy) = (p.x - start.0, p.y - start.1);
                    // 45°: x + y stays the same along a line.
                    assert!((dx + dy).abs() < 1e-3, "{start:?} → {p:?}");
                    length += f64::from(dx.hypot(dy));
                    let mid = ((start.0 + p.x) / 2.0, (start.1 + p.y) / 2.0);
                    let in_hole = (30.0..70.0).contains(&mid.0) && (30.0..70.0).contains(&mid.1);
                    assert!(!in_hole, "a line crosses the hole at {mid:?}");
                }
                other => panic!("only straight lines: {other:?}"),
            }
        }
        // Lines 10/√2 px apart over 10,000 − 1,600 px².
        let expected = 8_400.0 / (10.0 / 2f64.sqrt());
        assert!(
            (length - expected).abs() < 0.05 * expected,
            "{length} vs {expected}"
        );
        let away = crate::maps::render::Rect {
            l: 300.0,
            t: 300.0,
            r: 400.0,
            b: 400.0,
        };
        assert!(hatch_pixels(&m, 10.0, away).is_none());
    }
}

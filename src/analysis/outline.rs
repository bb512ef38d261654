//! How far a point outside the study area is from it, to the precision its
//! reject message needs.
//!
//! A point within [`NEAR_M`] of the study area's outline gets the exact
//! distance, in metres of the metric CRS, to the nearest boundary segment
//! and the unit that segment bounds: such a point is most likely a geocoding
//! slip or a boundary drawn a little short, and the user acts on it. A point
//! farther out is only said to be farther: it belongs to another area (a
//! provincial list given to a city run is the common case), and "more than
//! 10 km" is all its message needs. A lon/lat screen certifies that for most
//! such points without projecting them or searching the outline, so they
//! cost about as much as a point inside.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU8, Ordering};

use geo::{Coord, LinesIter, Point};
use rstar::primitives::{GeomWithData, Line};
use rstar::{PointDistance, RTree, AABB};

use crate::crs::MetricCrs;
use crate::model::{AdminLevel, AdminUnit};

/// Beyond this distance (metres) from every unit, a point outside is reported
/// as "more than" it, without the exact figure or the nearest unit.
pub const NEAR_M: f64 = 10_000.0;

/// A boundary segment and the unit (index into `units`) it bounds.
pub(super) type Segment = GeomWithData<Line<[f64; 2]>, usize>;

/// Boundary segments in an R-tree.
pub(super) type SegmentTree = RTree<Segment>;

/// The unit nearest an outside point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    /// The unit's slot: its index in [`super::join::AdminIndex::units`].
    pub slot: usize,
    /// Distance to the unit's boundary in metres, in the metric CRS.
    pub metres: f64,
}

/// How far an outside point is from the study area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distance {
    /// Within [`NEAR_M`]: the nearest unit and the exact distance.
    Near(Nearest),
    /// Farther than this many metres from every unit.
    Beyond(f64),
}

/// The study area's outline in the metric CRS, for distances to outside points.
pub(super) struct Outline {
    tree: SegmentTree,
    /// For each vertex where outline segments of several units meet, the
    /// unit a point nearest that vertex is given: the finest, then the
    /// smallest code.
    shared_vertices: HashMap<(u64, u64), usize>,
    screen: FarScreen,
    metric: MetricCrs,
}

impl Outline {
    /// The outline of `units`, whose lon/lat envelope is `bounds`.
    pub(super) fn new(units: &[AdminUnit], bounds: AABB<[f64; 2]>, metric: &MetricCrs) -> Outline {
        let tree = segment_tree(units, true, |c| {
            let (x, y) = metric.project(c.x, c.y);
            [x, y]
        });
        Outline {
            shared_vertices: shared_vertices(&tree, units),
            tree,
            screen: FarScreen::new(bounds),
            metric: metric.clone(),
        }
    }

    /// How far the lon/lat point `p` is from the outline: exact within
    /// [`NEAR_M`], a bound beyond. The result depends only on the true
    /// distance; the screen only spares work.
    pub(super) fn distance(&self, p: Point<f64>) -> Option<Distance> {
        if self.screen.is_far(p, self) {
            return Some(Distance::Beyond(NEAR_M));
        }
        self.nearest(p).map(|n| {
            if n.metres > NEAR_M {
                Distance::Beyond(NEAR_M)
            } else {
                Distance::Near(n)
            }
        })
    }

    /// The nearest unit to the lon/lat point `p` and the exact distance.
    pub(super) fn nearest(&self, p: Point<f64>) -> Option<Nearest> {
        let (x, y) = self.metric.project(p.x(), p.y());
        self.nearest_metric([x, y])
    }

    /// The nearest unit to `here` (metric coordinates). Another unit can be
    /// as near only through a shared vertex, since each segment is kept once.
    fn nearest_metric(&self, here: [f64; 2]) -> Option<Nearest> {
        let nearest = self.tree.nearest_neighbor(&here)?;
        let line = nearest.geom();
        let slot = nearest_vertex(line, here)
            .and_then(|v| self.shared_vertices.get(&vertex_key(v)).copied())
            .unwrap_or(nearest.data);
        Some(Nearest {
            slot,
            metres: line.distance_2(&here).sqrt(),
        })
    }
}

/// The vertices where outline segments of several units meet, each with the
/// unit it is given: the finest, then the smallest code.
fn shared_vertices(tree: &SegmentTree, units: &[AdminUnit]) -> HashMap<(u64, u64), usize> {
    let rank = |i: usize| (std::cmp::Reverse(units[i].level), i);
    let mut at_vertex: HashMap<(u64, u64), (usize, bool)> = HashMap::new();
    for s in tree.iter() {
        for v in [s.geom().from, s.geom().to] {
            at_vertex
                .entry(vertex_key(v))
                .and_modify(|(best, shared)| {
                    *shared |= *best != s.data;
                    if rank(s.data) < rank(*best) {
                        *best = s.data;
                    }
                })
                .or_insert((s.data, false));
        }
    }
    at_vertex
        .into_iter()
        .filter(|(_, (_, shared))| *shared)
        .map(|(k, (best, _))| (k, best))
        .collect()
}

/// Side of a screen cell, metres: a quarter of [`NEAR_M`], so that only
/// points within about 14 km of the outline need the exact distance.
const SCREEN_CELL_M: f64 = NEAR_M / 4.0;

/// At most this many screen cells along each axis (a province in 2.5 km
/// cells needs about 250).
const SCREEN_MAX_CELLS: usize = 512;

/// Metres per degree of latitude, rounded down (the meridian arc is at
/// least 110,574 m per degree anywhere), and per degree of longitude on the
/// equator, rounded down (111,319 m): lower bounds for distances.
const M_PER_DEG_LAT: f64 = 110_000.0;
const M_PER_DEG_LON_EQUATOR: f64 = 111_000.0;

/// Certifies cheaply that a lon/lat point is more than [`NEAR_M`] from the
/// outline. Beyond a margin around the study area's envelope every point is
/// (a lower bound from degrees alone); inside it, a grid of cells, each
/// judged once, the first time a point falls in it: far when the exact
/// distance of its centre, less the cell's radius, still exceeds `NEAR_M`.
struct FarScreen {
    /// Lon/lat rectangle outside which every point is far.
    min: [f64; 2],
    max: [f64; 2],
    /// Cells along x and y, and their size in degrees.
    cells: [usize; 2],
    step: [f64; 2],
    /// Per cell: 0 not judged yet, 1 may hold near points, 2 all far.
    state: Vec<AtomicU8>,
}

const UNJUDGED: u8 = 0;
const MAY_BE_NEAR: u8 = 1;
const ALL_FAR: u8 = 2;

impl FarScreen {
    fn new(bounds: AABB<[f64; 2]>) -> FarScreen {
        // A quarter more margin than the bounds need, for the metric CRS's
        // scale (UTM shrinks by 0.04 %) and a geodesic's bulge to the pole.
        let reach = NEAR_M * 1.25;
        let (lo, hi) = (bounds.lower(), bounds.upper());
        let lat_margin = reach / M_PER_DEG_LAT;
        let pole_side = (lo[1].abs().max(hi[1].abs()) + 2.0 * lat_margin).min(89.0);
        let lon_margin = reach / (M_PER_DEG_LON_EQUATOR * pole_side.to_radians().cos());
        let min = [lo[0] - lon_margin, lo[1] - lat_margin];
        let max = [hi[0] + lon_margin, hi[1] + lat_margin];
        let mid_lat = ((lo[1] + hi[1]) / 2.0).to_radians();
        let span_m = [
            (max[0] - min[0]) * M_PER_DEG_LON_EQUATOR * mid_lat.cos(),
            (max[1] - min[1]) * M_PER_DEG_LAT,
        ];
        let cells =
            span_m.map(|s| ((s / SCREEN_CELL_M).ceil() as usize).clamp(1, SCREEN_MAX_CELLS));
        let step = [
            (max[0] - min[0]) / cells[0] as f64,
            (max[1] - min[1]) / cells[1] as f64,
        ];
        FarScreen {
            min,
            max,
            cells,
            step,
            state: (0..cells[0] * cells[1])
                .map(|_| AtomicU8::new(UNJUDGED))
                .collect(),
        }
    }

    /// Whether `p` is certainly more than [`NEAR_M`] from the outline.
    fn is_far(&self, p: Point<f64>, outline: &Outline) -> bool {
        let (x, y) = (p.x(), p.y());
        if !(x >= self.min[0] && x <= self.max[0] && y >= self.min[1] && y <= self.max[1]) {
            return true;
        }
        let i = (((x - self.min[0]) / self.step[0]) as usize).min(self.cells[0] - 1);
        let j = (((y - self.min[1]) / self.step[1]) as usize).min(self.cells[1] - 1);
        let cell = &self.state[j * self.cells[0] + i];
        let mut state = cell.load(Ordering::Relaxed);
        if state == UNJUDGED {
            // Judging twice in a race gives the same answer.
            state = self.judge(i, j, outline);
            cell.store(state, Ordering::Relaxed);
        }
        state == ALL_FAR
    }

    /// Whether every point of cell (`i`, `j`) is farther than [`NEAR_M`]:
    /// by the triangle inequality, when the centre's distance less the
    /// cell's radius (in the metric CRS, padded for the curvature of the
    /// projected edges) exceeds it.
    fn judge(&self, i: usize, j: usize, outline: &Outline) -> u8 {
        let x0 = self.min[0] + i as f64 * self.step[0];
        let y0 = self.min[1] + j as f64 * self.step[1];
        let project = |x: f64, y: f64| {
            let (px, py) = outline.metric.project(x, y);
            [px, py]
        };
        let centre = project(x0 + self.step[0] / 2.0, y0 + self.step[1] / 2.0);
        let radius = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
            .iter()
            .map(|(a, b)| {
                let c = project(x0 + a * self.step[0], y0 + b * self.step[1]);
                (c[0] - centre[0]).hypot(c[1] - centre[1])
            })
            .fold(0.0, f64::max);
        match outline.nearest_metric(centre) {
            Some(n) if n.metres - (radius * 1.01 + 1.0) > NEAR_M => ALL_FAR,
            _ => MAY_BE_NEAR,
        }
    }
}

fn vertex_key(v: [f64; 2]) -> (u64, u64) {
    (v[0].to_bits(), v[1].to_bits())
}

/// The end of `line` that is its point nearest `p`, if one is.
fn nearest_vertex(line: &Line<[f64; 2]>, p: [f64; 2]) -> Option<[f64; 2]> {
    let (a, b) = (line.from, line.to);
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let t = (p[0] - a[0]) * dx + (p[1] - a[1]) * dy;
    if t <= 0.0 {
        Some(a)
    } else if t >= dx * dx + dy * dy {
        Some(b)
    } else {
        None
    }
}

/// Segments of every unit's rings, their coordinates mapped by `f`. A
/// segment shared by several units (a district's edge is also its city's
/// and province's) is kept once, for the finest of them, then the smallest
/// code. With `outline_only`, a segment shared by two units of one level —
/// an edge inside the study area, never the nearest for a point outside —
/// is left out.
pub(super) fn segment_tree(
    units: &[AdminUnit],
    outline_only: bool,
    f: impl Fn(Coord<f64>) -> [f64; 2],
) -> SegmentTree {
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(units[i].level), i));
    type Key = ((u64, u64), (u64, u64));
    let key = |a: Coord<f64>, b: Coord<f64>| -> Key {
        let (a, b) = (
            (a.x.to_bits(), a.y.to_bits()),
            (b.x.to_bits(), b.y.to_bits()),
        );
        if a <= b {
            (a, b)
        } else {
            (b, a)
        }
    };
    let mut inner: HashSet<Key> = HashSet::new();
    if outline_only {
        let mut per_level: HashMap<(AdminLevel, Key), u32> = HashMap::new();
        for u in units {
            for l in u.boundary.lines_iter() {
                *per_level.entry((u.level, key(l.start, l.end))).or_default() += 1;
            }
        }
        inner = per_level
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|((_, k), _)| k)
            .collect();
    }
    let mut seen = HashSet::new();
    let mut segments = Vec::new();
    for i in order {
        for l in units[i].boundary.lines_iter() {
            let k = key(l.start, l.end);
            if !inner.contains(&k) && seen.insert(k) {
                segments.push(GeomWithData::new(Line::new(f(l.start), f(l.end)), i));
            }
        }
    }
    RTree::bulk_load(segments)
}

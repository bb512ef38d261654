//! Influence of hazard sources and the exposure grid.
//!
//! **Sources.** Every hazard unit is a source; so is every enterprise without
//! one (at its location). A source's grade is the higher of its own (major
//! hazard grade 1 → red, 2 → orange, 3 → yellow, 4 and non-major → blue) and its
//! enterprise's; its weight w comes from `exposure.weights` by that grade, its
//! influence radius r from the input's `radius_m` (e.g. an external safety
//! distance by GB/T 37243), else `exposure.default_radius_m` by grade.
//!
//! **Grid.** Cells of `cell_size_m` over the study area in the metric CRS,
//! the origin snapped to whole cells. A cell's value is
//! E = Σ w·K(d/r) over the sources within r of its centre (`mode = "sum"`;
//! `"max"` keeps the largest term), with K one of QGIS's heatmap kernels.
//! The grid is computed in bands of square tiles; tiles run in parallel with
//! rayon, each summing its candidate sources in source order into its own
//! buffer, so no lock is taken and the result does not depend on the number
//! of threads. Only one band is held at a time.

use geo::Point;
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use std::sync::OnceLock;

use crate::analysis::buckets::{envelope, holds, SourceBuckets};
use crate::analysis::spatial::PointIndex;
use crate::crs::MetricCrs;
use crate::ingest::config::{Exposure, Kernel, Mode};
use crate::model::{Enterprises, Grade, Graded, HazardUnit, VulnerableTarget};

/// Where a source's influence radius came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RadiusSource {
    /// The input's `radius_m`.
    Input,
    /// `exposure.default_radius_m` for the source's grade.
    Default,
}

impl RadiusSource {
    /// The output spelling (`input`, `default`).
    pub fn as_str(self) -> &'static str {
        match self {
            RadiusSource::Input => "input",
            RadiusSource::Default => "default",
        }
    }
}

/// What a source stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceOf {
    /// Index into the hazard units.
    HazardUnit(usize),
    /// Index into the enterprises (one without hazard units).
    Enterprise(usize),
}

/// A source of the exposure grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The hazard unit or enterprise the source stands for.
    pub of: SourceOf,
    /// Id of that hazard unit or enterprise.
    pub id: String,
    /// Location in WGS 84 lon/lat degrees.
    pub lon_lat: Point<f64>,
    /// Metric easting/northing.
    pub xy: [f64; 2],
    /// For a hazard unit, the higher of its own colour and its enterprise's
    /// grade; for an enterprise, its grade.
    pub grade: Grade,
    /// Weight w from `exposure.weights` for `grade`.
    pub weight: f64,
    /// Influence radius r in metres, in the metric CRS.
    pub radius_m: f64,
    /// Whether `radius_m` came from the input or the defaults.
    pub radius_source: RadiusSource,
}

/// The grid's sources: hazard units first (in input order), then the
/// enterprises that have none.
pub fn sources(
    units: &[HazardUnit],
    enterprises: &Enterprises<Graded>,
    cfg: &Exposure,
    metric: &MetricCrs,
) -> Vec<Source> {
    let make = |of, id: &str, p: Point<f64>, grade: Grade, radius: Option<f64>| {
        let (x, y) = metric.project(p.x(), p.y());
        let (radius_m, radius_source) = match radius {
            Some(r) => (r, RadiusSource::Input),
            None => (cfg.default_radius_m.get(grade), RadiusSource::Default),
        };
        Source {
            of,
            id: id.to_string(),
            lon_lat: p,
            xy: [x, y],
            grade,
            weight: cfg.weights.get(grade),
            radius_m,
            radius_source,
        }
    };
    let mut out: Vec<Source> = units
        .par_iter()
        .enumerate()
        .map(|(i, u)| {
            // Validation accepted only units of accepted enterprises.
            let owner = enterprises
                .get(&u.enterprise_id)
                .expect("a hazard unit's enterprise is loaded");
            let grade = u.colour().max(owner.grade());
            make(SourceOf::HazardUnit(i), &u.id, u.lon_lat, grade, u.radius_m)
        })
        .collect();
    let with_units: std::collections::HashSet<&str> =
        units.iter().map(|u| u.enterprise_id.as_str()).collect();
    out.par_extend(
        enterprises
            .par_iter()
            .enumerate()
            .filter(|(_, e)| !with_units.contains(e.id()))
            .map(|(i, e)| make(SourceOf::Enterprise(i), e.id(), e.lon_lat, e.grade(), None)),
    );
    out
}

/// The kernel K(u) for u = d/r; zero beyond the radius.
///
/// ```
/// use riskatlas::{analysis::exposure::kernel, ingest::config::Kernel};
/// assert_eq!(kernel(Kernel::Quartic, 0.5), 0.5625);
/// assert_eq!(kernel(Kernel::Quartic, 1.2), 0.0);
/// ```
pub fn kernel(k: Kernel, u: f64) -> f64 {
    if !(0.0..=1.0).contains(&u) {
        return 0.0;
    }
    let v = 1.0 - u * u;
    match k {
        Kernel::Quartic => v * v,
        Kernel::Triweight => v * v * v,
        Kernel::Epanechnikov => v,
        Kernel::Triangular => 1.0 - u,
        Kernel::Uniform => 1.0,
    }
}

/// One source's term at distance `d` (m).
fn term(s: &Source, d: f64, k: Kernel) -> f64 {
    s.weight * kernel(k, d / s.radius_m)
}

/// Combines a cell's value with a term.
fn combine(mode: Mode, acc: f64, t: f64) -> f64 {
    match mode {
        Mode::Sum => acc + t,
        Mode::Max => acc.max(t),
    }
}

/// The grid's geometry: north-up cells of `cell` metres from the west and
/// north edges `x0`, `y0` (whole multiples of the cell size).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridSpec {
    /// West edge of the grid, metres in the metric CRS.
    pub x0: f64,
    /// North edge of the grid, metres in the metric CRS.
    pub y0: f64,
    /// Cell side in metres.
    pub cell: f64,
    /// Number of columns, west to east.
    pub cols: usize,
    /// Number of rows, north to south.
    pub rows: usize,
}

impl GridSpec {
    /// The smallest snapped grid covering a metric envelope.
    pub fn covering(min: [f64; 2], max: [f64; 2], cell: f64) -> GridSpec {
        let x0 = (min[0] / cell).floor() * cell;
        let y0 = (max[1] / cell).ceil() * cell;
        let cols = (((max[0] - x0) / cell).ceil() as usize).max(1);
        let rows = (((y0 - min[1]) / cell).ceil() as usize).max(1);
        GridSpec {
            x0,
            y0,
            cell,
            cols,
            rows,
        }
    }

    /// Metric centre of a cell.
    pub fn centre(&self, row: usize, col: usize) -> [f64; 2] {
        [
            self.x0 + (col as f64 + 0.5) * self.cell,
            self.y0 - (row as f64 + 0.5) * self.cell,
        ]
    }

    /// GDAL geotransform (west edge, cell width, 0, north edge, 0, −cell height).
    pub fn geotransform(&self) -> [f64; 6] {
        [self.x0, self.cell, 0.0, self.y0, 0.0, -self.cell]
    }

    /// The grid's edges: west, south, east, north.
    pub fn extent(&self) -> [f64; 4] {
        [
            self.x0,
            self.y0 - self.rows as f64 * self.cell,
            self.x0 + self.cols as f64 * self.cell,
            self.y0,
        ]
    }

    /// Number of cells, `cols × rows`.
    pub fn cells(&self) -> usize {
        self.cols * self.rows
    }
}

/// A block of cells: first row and column, and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First row of the block (0 at the north edge).
    pub row0: usize,
    /// First column of the block (0 at the west edge).
    pub col0: usize,
    /// Number of rows in the block.
    pub rows: usize,
    /// Number of columns in the block.
    pub cols: usize,
}

/// Sources indexed by the envelopes of their circles: by an R-tree for
/// windows of cells (the grid's tiles, a map's surface) and by a lattice of
/// squares for single points (the targets, a map's pixels at the edge of the
/// sources' reach), each built when first asked for.
pub struct SourceIndex<'a> {
    sources: &'a [Source],
    tree: OnceLock<RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>>,
    squares: OnceLock<SourceBuckets>,
}

impl<'a> SourceIndex<'a> {
    /// Indexes `sources` by the bounding boxes of their circles, in metres in the metric CRS.
    pub fn new(sources: &'a [Source]) -> Self {
        SourceIndex {
            sources,
            tree: OnceLock::new(),
            squares: OnceLock::new(),
        }
    }

    fn tree(&self) -> &RTree<GeomWithData<Rectangle<[f64; 2]>, usize>> {
        self.tree.get_or_init(|| {
            let entries = self
                .sources
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let e = envelope(s);
                    GeomWithData::new(Rectangle::from_corners([e[0], e[1]], [e[2], e[3]]), i)
                })
                .collect();
            RTree::bulk_load(entries)
        })
    }

    /// The lattice of squares (built now if it was not).
    pub fn squares(&self) -> &SourceBuckets {
        self.squares
            .get_or_init(|| SourceBuckets::new(self.sources))
    }

    /// Indices of the sources whose circle envelope meets `[min, max]`, in source order.
    fn candidates(&self, min: [f64; 2], max: [f64; 2]) -> Vec<usize> {
        let mut c: Vec<usize> = self
            .tree()
            .locate_in_envelope_intersecting(&AABB::from_corners(min, max))
            .map(|e| e.data)
            .collect();
        c.sort_unstable();
        c
    }

    /// E at a metric point (exact, not from the grid), and the covering
    /// sources (index, distance) in source order. The square's candidates
    /// are checked against their envelopes as the R-tree checks them, so E
    /// is what [`SourceIndex::candidates`] would give, to the bit.
    pub fn at(&self, xy: [f64; 2], k: Kernel, mode: Mode) -> (f64, Vec<(usize, f64)>) {
        let candidates = self
            .squares()
            .candidates(xy)
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| holds(&envelope(&self.sources[i]), xy));
        exposure_at(self.sources, candidates, xy, k, mode)
    }

    /// Values of a block of cells (row-major), each source stamped over the
    /// cells of its bounding box in source order.
    pub fn block(&self, spec: &GridSpec, w: Window, k: Kernel, mode: Mode) -> Vec<f64> {
        let mut out = vec![0.0; w.rows * w.cols];
        let mut lines: Vec<&mut [f64]> = out.chunks_mut(w.cols.max(1)).collect();
        self.stamp(spec, w, k, mode, &mut lines);
        out
    }

    /// Stamps each source over the cells of window `w` whose centres it
    /// covers, in source order, onto `lines` (the window's rows, each
    /// `w.cols` cells, all 0 to begin with).
    fn stamp(&self, spec: &GridSpec, w: Window, k: Kernel, mode: Mode, lines: &mut [&mut [f64]]) {
        let Window {
            row0,
            col0,
            rows,
            cols,
        } = w;
        let half = spec.cell / 2.0;
        let nw = spec.centre(row0, col0);
        let se = spec.centre(row0 + rows - 1, col0 + cols - 1);
        for i in self.candidates([nw[0] - half, se[1] - half], [se[0] + half, nw[1] + half]) {
            let s = &self.sources[i];
            let r = s.radius_m;
            // Columns and rows whose centres can lie within r of the source.
            let c_lo = (((s.xy[0] - r - spec.x0) / spec.cell - 0.5)
                .ceil()
                .max(col0 as f64)) as usize;
            let c_hi = (((s.xy[0] + r - spec.x0) / spec.cell - 0.5)
                .floor()
                .min((col0 + cols - 1) as f64)) as isize;
            let r_lo = (((spec.y0 - (s.xy[1] + r)) / spec.cell - 0.5)
                .ceil()
                .max(row0 as f64)) as usize;
            let r_hi = (((spec.y0 - (s.xy[1] - r)) / spec.cell - 0.5)
                .floor()
                .min((row0 + rows - 1) as f64)) as isize;
            if c_hi < c_lo as isize || r_hi < r_lo as isize {
                continue;
            }
            for row in r_lo..=r_hi as usize {
                let cy = spec.y0 - (row as f64 + 0.5) * spec.cell;
                let dy2 = (cy - s.xy[1]).powi(2);
                let line = &mut *lines[row - row0];
                for col in c_lo..=c_hi as usize {
                    let cx = spec.x0 + (col as f64 + 0.5) * spec.cell;
                    let d2 = (cx - s.xy[0]).powi(2) + dy2;
                    if d2 <= r * r {
                        let cell = &mut line[col - col0];
                        *cell = combine(mode, *cell, term(s, d2.sqrt(), k));
                    }
                }
            }
        }
    }

    /// Computes the grid band by band (`tile` rows at a time, each band split
    /// into `tile`-wide tiles computed in parallel) and hands each band, in
    /// order, to `sink(first_row, rows, values)`; the next band is computed
    /// while `sink` takes the last. Each window is stamped straight into
    /// its band, and two bands' memory is used in turn.
    pub fn bands<E>(
        &self,
        spec: &GridSpec,
        tile: usize,
        k: Kernel,
        mode: Mode,
        mut sink: impl FnMut(usize, usize, &[f64]) -> Result<(), E>,
    ) -> Result<(), E> {
        let band_of = |row0: usize, rows: usize, mut band: Vec<f64>| -> Vec<f64> {
            band.clear();
            band.resize(rows * spec.cols, 0.0);
            self.stamp_band(spec, tile, row0..row0 + rows, k, mode, &mut band);
            band
        };
        let mut pending: Option<(usize, usize, Vec<f64>)> = None;
        let mut spare = Vec::new();
        for row0 in (0..spec.rows).step_by(tile) {
            let rows = tile.min(spec.rows - row0);
            let free = std::mem::take(&mut spare);
            let (sunk, band) = std::thread::scope(|s| {
                let next = std::thread::Builder::new()
                    .name("grid-band".into())
                    .spawn_scoped(s, || band_of(row0, rows, free))
                    .expect("the system can start a thread");
                let sunk = match pending.take() {
                    Some((r0, n, b)) => {
                        let sunk = sink(r0, n, &b);
                        spare = b;
                        sunk
                    }
                    None => Ok(()),
                };
                (sunk, next.join().expect("the band's thread does not panic"))
            });
            sunk?;
            pending = Some((row0, rows, band));
        }
        match pending {
            Some((r0, n, b)) => sink(r0, n, &b),
            None => Ok(()),
        }
    }

    /// Stamps the band of grid rows `band_rows` (`band`, all 0, the grid's
    /// whole width) in `tile`-wide windows computed in parallel.
    fn stamp_band(
        &self,
        spec: &GridSpec,
        tile: usize,
        band_rows: std::ops::Range<usize>,
        k: Kernel,
        mode: Mode,
        band: &mut [f64],
    ) {
        let (row0, rows) = (band_rows.start, band_rows.len());
        let tiles_x = spec.cols.div_ceil(tile);
        // Each window's part of every line of the band.
        let mut windows: Vec<Vec<&mut [f64]>> =
            (0..tiles_x).map(|_| Vec::with_capacity(rows)).collect();
        for line in band.chunks_mut(spec.cols.max(1)) {
            let mut rest = line;
            for w in windows.iter_mut() {
                let (part, after) = rest.split_at_mut(tile.min(rest.len()));
                w.push(part);
                rest = after;
            }
        }
        windows
            .into_par_iter()
            .enumerate()
            .for_each(|(t, mut lines)| {
                let col0 = t * tile;
                let window = Window {
                    row0,
                    col0,
                    rows,
                    cols: tile.min(spec.cols - col0),
                };
                self.stamp(spec, window, k, mode, &mut lines);
            });
    }
}

/// A cell's grade by the thresholds; `None` where E = 0.
pub fn cell_grade(e: f64, cfg: &Exposure) -> Option<Grade> {
    cfg.thresholds.grade(e)
}

/// The sources around one vulnerable target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetExposure {
    /// E at the target itself.
    pub e: f64,
    /// (source index, distance in m) of the nearest [`COVERING_KEPT`] of the
    /// sources whose radius covers the target, nearest first (ties by index).
    pub covering: Vec<(usize, f64)>,
    /// How many sources' radius covers the target.
    pub covering_count: usize,
    /// The nearest source and its distance in metres, covering or not.
    pub nearest: Option<(usize, f64)>,
}

/// The covering sources kept per target, the ones the lists and the layer
/// name: in a province's dense clusters a target lies within the radius of
/// over a thousand sources, and keeping them all held 8.4 million pairs.
pub const COVERING_KEPT: usize = 10;

/// E at a metric point from `candidates` (source indices in source order,
/// every source whose envelope holds the point among them), and the
/// covering sources (index, distance) in source order.
fn exposure_at(
    sources: &[Source],
    candidates: impl IntoIterator<Item = usize>,
    xy: [f64; 2],
    k: Kernel,
    mode: Mode,
) -> (f64, Vec<(usize, f64)>) {
    let mut e = 0.0;
    let mut covering = Vec::new();
    for i in candidates {
        let s = &sources[i];
        let d = ((s.xy[0] - xy[0]).powi(2) + (s.xy[1] - xy[1]).powi(2)).sqrt();
        if d <= s.radius_m {
            e = combine(mode, e, term(s, d, k));
            covering.push((i, d));
        }
    }
    (e, covering)
}

/// The nearest [`COVERING_KEPT`] of (source, distance) pairs, nearest first
/// (ties by source index), without sorting them all.
fn nearest_kept(mut covering: Vec<(usize, f64)>) -> Vec<(usize, f64)> {
    let nearer = |a: &(usize, f64), b: &(usize, f64)| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0));
    if covering.len() > COVERING_KEPT {
        covering.select_nth_unstable_by(COVERING_KEPT, nearer);
        covering.truncate(COVERING_KEPT);
        covering.shrink_to_fit();
    }
    covering.sort_by(nearer);
    covering
}

/// For every target: E at its location, the sources covering it and the nearest source.
pub fn target_exposure(
    targets: &[VulnerableTarget],
    sources: &[Source],
    cfg: &Exposure,
    metric: &MetricCrs,
) -> Vec<TargetExposure> {
    // A province's million sources, filed twice: built side by side.
    let index = SourceIndex::new(sources);
    let (_, points) = rayon::join(
        || index.squares(),
        || PointIndex::new(sources.par_iter().map(|s| s.lon_lat), metric),
    );
    let xy: Vec<[f64; 2]> = targets
        .par_iter()
        .map(|t| {
            let (x, y) = metric.project(t.lon_lat.x(), t.lon_lat.y());
            [x, y]
        })
        .collect();
    // Taken square by square: a square's candidates and the sources they
    // name stay in the cache from one target to the next (a province's
    // 333,333 targets in input order had a cache miss per candidate).
    // Each target's square found once, not at every comparison.
    let squares = index.squares();
    let mut keyed: Vec<(Option<usize>, u32)> = xy
        .par_iter()
        .enumerate()
        .map(|(i, &p)| (squares.square(p), i as u32))
        .collect();
    keyed.par_sort_unstable();
    let order: Vec<u32> = keyed.into_iter().map(|(_, i)| i).collect();
    let exposed: Vec<TargetExposure> = order
        .par_iter()
        .map(|&i| {
            let i = i as usize;
            let (e, covering) = index.at(xy[i], cfg.kernel, cfg.mode);
            let covering_count = covering.len();
            let covering = nearest_kept(covering);
            TargetExposure {
                e,
                covering,
                covering_count,
                nearest: points.nearest(targets[i].lon_lat),
            }
        })
        .collect();
    in_order(exposed, &order)
}

/// `items[k]` belongs at place `order[k]`: the items in place order.
fn in_order<T>(items: Vec<T>, order: &[u32]) -> Vec<T> {
    let mut placed: Vec<Option<T>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    for (item, &at) in items.into_iter().zip(order) {
        placed[at as usize] = Some(item);
    }
    placed
        .into_iter()
        .map(|item| item.expect("the order names each place once"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::config::Exposure;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const KERNELS: [Kernel; 5] = [
        Kernel::Quartic,
        Kernel::Triweight,
        Kernel::Epanechnikov,
        Kernel::Triangular,
        Kernel::Uniform,
    ];

    #[test]
    fn kernel_values_at_0_half_1_and_beyond() {
        let expect = [
            (Kernel::Quartic, [1.0, 0.5625, 0.0]),
            (Kernel::Triweight, [1.0, 0.421875, 0.0]),
            (Kernel::Epanechnikov, [1.0, 0.75, 0.0]),
            (Kernel::Triangular, [1.0, 0.5, 0.0]),
            (Kernel::Uniform, [1.0, 1.0, 1.0]),
        ];
        for (k, [at0, at_half, at1]) in expect {
            assert_eq!(kernel(k, 0.0), at0, "{k:?}");
            assert_eq!(kernel(k, 0.5), at_half, "{k:?}");
            assert_eq!(kernel(k, 1.0), at1, "{k:?}");
            assert_eq!(kernel(k, 1.0001), 0.0, "{k:?}");
        }
    }

    /// The squares' candidates, checked against the envelopes, give what
    /// the R-tree gives, bit for bit, at `n` random points over and around
    /// the sources, on the squares' corners and on envelope edges; returns
    /// how many of the points are covered.
    fn squares_match_the_tree(sources: &[Source], n: usize, rng: &mut ChaCha8Rng) -> usize {
        let index = SourceIndex::new(sources);
        let envelopes: Vec<[f64; 4]> = sources.iter().map(envelope).collect();
        let mut points: Vec<[f64; 2]> = (0..n)
            .map(|_| {
                [
                    rng.gen_range(-9000.0..29_000.0),
                    rng.gen_range(-9000.0..29_000.0),
                ]
            })
            .collect();
        let corner = envelopes
            .iter()
            .fold([f64::MAX; 2], |a, e| [a[0].min(e[0]), a[1].min(e[1])]);
        points.extend((0..40).map(|k| {
            [
                corner[0] + 1000.0 * f64::from(k),
                corner[1] + 500.0 * f64::from(k),
            ]
        }));
        points.extend(envelopes.iter().take(200).map(|e| [e[0], e[3]]));
        let mut covered = 0;
        for xy in points {
            let from_tree = index.candidates(xy, xy);
            for mode in [Mode::Sum, Mode::Max] {
                let expected = exposure_at(sources, from_tree.clone(), xy, Kernel::Quartic, mode);
                let got = index.at(xy, Kernel::Quartic, mode);
                assert_eq!(got.0.to_bits(), expected.0.to_bits(), "{xy:?}");
                assert_eq!(got.1, expected.1, "{xy:?}");
            }
            covered += usize::from(!index.at(xy, Kernel::Quartic, Mode::Sum).1.is_empty());
        }
        covered
    }

    #[test]
    fn the_squares_find_what_the_tree_finds() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let sources = |n: usize, radii: &[f64], rng: &mut ChaCha8Rng| -> Vec<Source> {
            (0..n)
                .map(|_| {
                    let r = radii[rng.gen_range(0..radii.len())];
                    source(
                        rng.gen_range(0.0..20_000.0),
                        rng.gen_range(0.0..20_000.0),
                        1.5,
                        r,
                    )
                })
                .collect()
        };
        let ordinary = sources(2000, &[300.0, 500.0, 800.0, 1000.0, 7300.0], &mut rng);
        assert!(squares_match_the_tree(&ordinary, 3000, &mut rng) > 1000);
        // Radii of tens of kilometres: the squares grow.
        let wide = sources(300, &[300.0, 60_000.0], &mut rng);
        assert!(SourceBuckets::new(&wide).square_m() > 1000.0);
        assert!(squares_match_the_tree(&wide, 2000, &mut rng) > 1000);
    }

    #[test]
    fn the_nearest_covering_sources_are_kept_in_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for n in [0, 3, 10, 11, 500] {
            // Whole-metre distances, so that ties are common.
            let pairs: Vec<(usize, f64)> = (0..n)
                .map(|i| (i, f64::from(rng.gen_range(0..40u32))))
                .collect();
            let mut sorted = pairs.clone();
            sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            sorted.truncate(COVERING_KEPT);
            assert_eq!(nearest_kept(pairs), sorted, "{n} pairs");
        }
    }

    fn source(x: f64, y: f64, w: f64, r: f64) -> Source {
        Source {
            of: SourceOf::Enterprise(0),
            id: String::new(),
            lon_lat: Point::new(0.0, 0.0),
            xy: [x, y],
            grade: Grade::Blue,
            weight: w,
            radius_m: r,
            radius_source: RadiusSource::Default,
        }
    }

    /// Targets are taken square by square but come back in their own
    /// order, each with what a query of its own gives.
    #[test]
    fn targets_keep_their_order_and_their_values() {
        let metric = MetricCrs::for_longitude(119.9, 31.8);
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let mut lon_lat = |spread: f64| {
            Point::new(
                119.9 + rng.gen_range(-spread..spread),
                31.8 + rng.gen_range(-spread..spread),
            )
        };
        let sources: Vec<Source> = (0..3000)
            .map(|k| {
                let p = lon_lat(0.2);
                let (x, y) = metric.project(p.x(), p.y());
                Source {
                    lon_lat: p,
                    ..source(
                        x,
                        y,
                        1.0 + f64::from(k % 4),
                        500.0 + f64::from(k % 7) * 300.0,
                    )
                }
            })
            .collect();
        // Some targets beyond every source's reach, the rest among them.
        let targets: Vec<VulnerableTarget> = (0..2000)
            .map(|k| VulnerableTarget {
                id: k.to_string(),
                name: String::new(),
                kind: String::new(),
                population: None,
                lon_lat: lon_lat(if k % 10 == 0 { 0.6 } else { 0.2 }),
                admin: Default::default(),
            })
            .collect();
        let cfg = Exposure::default();
        let got = target_exposure(&targets, &sources, &cfg, &metric);
        let index = SourceIndex::new(&sources);
        let points = PointIndex::new(sources.par_iter().map(|s| s.lon_lat), &metric);
        let mut covered = 0;
        for (t, g) in targets.iter().zip(&got) {
            let (x, y) = metric.project(t.lon_lat.x(), t.lon_lat.y());
            let (e, covering) = index.at([x, y], cfg.kernel, cfg.mode);
            covered += usize::from(!covering.is_empty());
            let want = TargetExposure {
                e,
                covering_count: covering.len(),
                covering: nearest_kept(covering),
                nearest: points.nearest(t.lon_lat),
            };
            assert_eq!(*g, want, "target {}", t.id);
        }
        assert!((1000..1950).contains(&covered), "{covered} of 2000 covered");
    }

    /// The whole grid by a brute-force double loop over cells and sources.
    fn brute(spec: &GridSpec, sources: &[Source], k: Kernel, mode: Mode) -> Vec<f64> {
        let mut out = vec![0.0; spec.cells()];
        for row in 0..spec.rows {
            for col in 0..spec.cols {
                let c = spec.centre(row, col);
                for s in sources {
                    let d = ((c[0] - s.xy[0]).powi(2) + (c[1] - s.xy[1]).powi(2)).sqrt();
                    if d <= s.radius_m {
                        out[row * spec.cols + col] =
                            combine(mode, out[row * spec.cols + col], term(s, d, k));
                    }
                }
            }
        }
        out
    }

    fn whole(index: &SourceIndex, spec: &GridSpec, tile: usize, k: Kernel, mode: Mode) -> Vec<f64> {
        let mut all = Vec::new();
        index
            .bands::<()>(spec, tile, k, mode, |_, _, band| {
                all.extend_from_slice(band);
                Ok(())
            })
            .unwrap();
        all
    }

    #[test]
    fn a_single_source_equals_the_formula_cell_by_cell() {
        let spec = GridSpec::covering([0.0, 0.0], [2000.0, 2000.0], 100.0);
        let s = [source(1030.0, 970.0, 8.0, 450.0)];
        let index = SourceIndex::new(&s);
        let grid = whole(&index, &spec, 7, Kernel::Quartic, Mode::Sum);
        for row in 0..spec.rows {
            for col in 0..spec.cols {
                let c = spec.centre(row, col);
                let u = ((c[0] - 1030.0f64).powi(2) + (c[1] - 970.0f64).powi(2)).sqrt() / 450.0;
                let want = if u <= 1.0 {
                    8.0 * (1.0 - u * u).powi(2)
                } else {
                    0.0
                };
                assert!(
                    (grid[row * spec.cols + col] - want).abs() < 1e-12,
                    "cell {row},{col}"
                );
            }
        }
    }

    #[test]
    fn tiles_equal_brute_force_on_seeded_data() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let sources: Vec<Source> = (0..300)
            .map(|_| {
                source(
                    rng.gen_range(-500.0..5500.0),
                    rng.gen_range(-500.0..4500.0),
                    [1.0, 2.0, 4.0, 8.0][rng.gen_range(0..4)],
                    rng.gen_range(120.0..900.0),
                )
            })
            .collect();
        let spec = GridSpec::covering([0.0, 0.0], [5000.0, 4000.0], 100.0);
        let index = SourceIndex::new(&sources);
        for k in KERNELS {
            for mode in [Mode::Sum, Mode::Max] {
                let fast = whole(&index, &spec, 16, k, mode);
                let slow = brute(&spec, &sources, k, mode);
                for (a, b) in fast.iter().zip(&slow) {
                    assert!(
                        (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                        "{k:?} {mode:?}: {a} vs {b}"
                    );
                }
                assert!(slow.iter().any(|v| *v > 0.0));
            }
        }
    }

    #[test]
    fn shifting_by_whole_cells_shifts_the_grid() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let sources: Vec<Source> = (0..50)
            .map(|_| {
                source(
                    rng.gen_range(0.0..3000.0),
                    rng.gen_range(0.0..3000.0),
                    2.0,
                    rng.gen_range(150.0..600.0),
                )
            })
            .collect();
        let spec = GridSpec::covering([0.0, 0.0], [3000.0, 3000.0], 100.0);
        let a = whole(
            &SourceIndex::new(&sources),
            &spec,
            8,
            Kernel::Quartic,
            Mode::Sum,
        );
        let shifted: Vec<Source> = sources
            .iter()
            .map(|s| source(s.xy[0] + 700.0, s.xy[1] - 300.0, s.weight, s.radius_m))
            .collect();
        let spec2 = GridSpec::covering([700.0, -300.0], [3700.0, 2700.0], 100.0);
        assert_eq!((spec2.cols, spec2.rows), (spec.cols, spec.rows));
        let b = whole(
            &SourceIndex::new(&shifted),
            &spec2,
            8,
            Kernel::Quartic,
            Mode::Sum,
        );
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0));
        }
    }

    #[test]
    fn thread_count_does_not_change_a_bit() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let sources: Vec<Source> = (0..400)
            .map(|_| {
                source(
                    rng.gen_range(0.0..8000.0),
                    rng.gen_range(0.0..8000.0),
                    4.0,
                    rng.gen_range(200.0..1200.0),
                )
            })
            .collect();
        let spec = GridSpec::covering([0.0, 0.0], [8000.0, 8000.0], 50.0);
        let index = SourceIndex::new(&sources);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| whole(&index, &spec, 32, Kernel::Quartic, Mode::Sum))
        };
        let one: Vec<u64> = run(1).iter().map(|v| v.to_bits()).collect();
        let many: Vec<u64> = run(3).iter().map(|v| v.to_bits()).collect();
        assert_eq!(one, many);
    }

    #[test]
    fn grid_origin_is_snapped_to_whole_cells() {
        let spec = GridSpec::covering([1234.0, 5678.0], [3456.0, 7890.0], 100.0);
        assert_eq!((spec.x0, spec.y0), (1200.0, 7900.0));
        assert!(
            spec.x0 + spec.cols as f64 * 100.0 >= 3456.0
                && spec.y0 - spec.rows as f64 * 100.0 <= 5678.0
        );
    }

    #[test]
    fn cell_grades_by_thresholds() {
        let cfg = Exposure::default();
        assert_eq!(
            [5.0, 4.0, 3.9, 2.0, 1.0, 0.5, 0.0].map(|e| cell_grade(e, &cfg)),
            [
                Some(Grade::Red),
                Some(Grade::Red),
                Some(Grade::Orange),
                Some(Grade::Orange),
                Some(Grade::Yellow),
                Some(Grade::Blue),
                None
            ]
        );
    }
}

//! Polygon layers made from the grid: `exposure_grid` (cells with E > 0, or
//! those cells merged per grade when there are too many to list) and
//! `influence_zones` (the circle of each hazard source). Geometry is built in
//! the metric CRS and returned in WGS 84 lon/lat.

use geo::{LineString, MultiPolygon, Polygon};

use crate::analysis::exposure::{cell_grade, GridSpec, Source, SourceOf};
use crate::crs::MetricCrs;
use crate::ingest::config::Exposure;
use crate::model::{Grade, HazardUnit};
use crate::output::layers::{self, Row, Shape, Value};
use crate::output::polygonize::regions;

/// Collects the `exposure_grid` layer while the grid streams by: single cells
/// up to `max_grid_cells`, and a one-byte-per-cell grade raster from which
/// merged polygons are made when that is exceeded.
pub struct GridCells {
    spec: GridSpec,
    cap: usize,
    cells: Vec<(u32, u32, f64)>,
    overflow: bool,
    /// Every cell's grade code, row-major.
    grades: Vec<u8>,
}

impl GridCells {
    /// An empty collector for a grid of `spec`, with a grade raster and the
    /// cap `exposure.max_grid_cells`.
    pub fn new(spec: GridSpec, cfg: &Exposure) -> GridCells {
        GridCells {
            spec,
            cap: cfg.max_grid_cells,
            cells: Vec::new(),
            overflow: false,
            grades: vec![0; spec.cols * spec.rows],
        }
    }

    /// Takes one band of the grid.
    pub fn add_band(&mut self, row0: usize, rows: usize, values: &[f64], cfg: &Exposure) {
        let at = row0 * self.spec.cols;
        let band = &mut self.grades[at..at + rows * self.spec.cols];
        for (g, &e) in band.iter_mut().zip(values) {
            *g = cell_grade(e, cfg).map_or(0, Grade::grid_code);
        }
        if !self.overflow {
            for (i, &e) in values.iter().enumerate().filter(|(_, e)| **e > 0.0) {
                self.cells.push((
                    (row0 + i / self.spec.cols) as u32,
                    (i % self.spec.cols) as u32,
                    e,
                ));
            }
            if self.cells.len() > self.cap {
                self.overflow = true;
                self.cells = Vec::new();
            }
        }
    }

    /// Every cell's grade code (0 where E = 0, 1 blue … 4 red), row-major.
    pub fn codes(&self) -> &[u8] {
        &self.grades
    }

    /// Whether cells were merged per grade.
    pub fn merged(&self) -> bool {
        self.overflow
    }

    /// The layer's rows: one per cell, or one per merged polygon.
    pub fn rows(&self, cfg: &Exposure, metric: &MetricCrs) -> Vec<Row> {
        let cell_km2 = self.spec.cell * self.spec.cell / 1e6;
        if !self.overflow {
            return self
                .cells
                .iter()
                .map(|&(r, c, e)| {
                    let nw = [
                        self.spec.x0 + c as f64 * self.spec.cell,
                        self.spec.y0 - r as f64 * self.spec.cell,
                    ];
                    let ring = square(nw, self.spec.cell);
                    grid_row(
                        cell_grade(e, cfg),
                        Some(e),
                        1,
                        cell_km2,
                        metric.to_wgs84(&MultiPolygon(vec![ring])),
                    )
                })
                .collect();
        }
        self.merged_rows(metric, cell_km2)
    }

    /// Cells of equal grade merged into polygons, one row per region.
    fn merged_rows(&self, metric: &MetricCrs, cell_km2: f64) -> Vec<Row> {
        let spec = &self.spec;
        // The regions' corners lie on the lattice of the cells' corners.
        let lattice = metric.lattice([spec.x0, spec.y0], spec.cell, spec.cols + 1, spec.rows + 1);
        let polygon = |exterior: &[[u32; 2]],
                       holes: &[Vec<[u32; 2]>],
                       at: &dyn Fn(usize, usize) -> (f64, f64)| {
            let ring = |r: &[[u32; 2]]| -> LineString<f64> {
                r.iter()
                    .map(|&[c, row]| at(c as usize, row as usize))
                    .collect()
            };
            MultiPolygon(vec![Polygon::new(
                ring(exterior),
                holes.iter().map(|h| ring(h)).collect(),
            )])
        };
        let metres = |c: usize, r: usize| {
            (
                spec.x0 + c as f64 * spec.cell,
                spec.y0 - r as f64 * spec.cell,
            )
        };
        let lon_lat = |c: usize, r: usize| lattice.lon_lat(c, r);
        let mut rows: Vec<Row> = regions(&self.grades, spec.cols)
            .into_iter()
            .filter_map(|r| {
                let grade = Grade::from_grid_code(r.code)?;
                let mp = polygon(&r.exterior, &r.holes, &metres);
                let area_km2 = geo::Area::unsigned_area(&mp) / 1e6;
                let cells = (area_km2 / cell_km2).round() as i64;
                Some(grid_row(
                    Some(grade),
                    None,
                    cells,
                    area_km2,
                    polygon(&r.exterior, &r.holes, &lon_lat),
                ))
            })
            .collect();
        // Red first, then by size; regions of one grade and size stay in the
        // order of their top-left cells.
        rows.sort_by(|a, b| {
            grade_key(b)
                .cmp(&grade_key(a))
                .then(area(b).total_cmp(&area(a)))
        });
        rows
    }
}

fn grade_key(r: &Row) -> Option<Grade> {
    match &r.values[0] {
        Value::Str(s) => Grade::parse(s),
        _ => None,
    }
}

fn area(r: &Row) -> f64 {
    match r.values[3] {
        Value::Real(a) => a,
        _ => 0.0,
    }
}

fn grid_row(
    grade: Option<Grade>,
    e: Option<f64>,
    cells: i64,
    area_km2: f64,
    shape: MultiPolygon<f64>,
) -> Row {
    layers::exposure_grid_row(grade, e, cells, area_km2, Shape::MultiPolygon(shape))
}

/// A square cell from its north-west corner, counter-clockwise.
fn square(nw: [f64; 2], size: f64) -> Polygon<f64> {
    let [x, y] = nw;
    Polygon::new(
        LineString::from(vec![
            (x, y - size),
            (x + size, y - size),
            (x + size, y),
            (x, y),
            (x, y - size),
        ]),
        vec![],
    )
}

/// Vertices of an influence circle.
const CIRCLE_VERTICES: usize = 48;

/// The cosine and sine of each vertex's angle, computed once for the
/// province's 100,000 circles.
static UNIT_CIRCLE: std::sync::LazyLock<[[f64; 2]; CIRCLE_VERTICES]> =
    std::sync::LazyLock::new(|| {
        std::array::from_fn(|k| {
            let a = 2.0 * std::f64::consts::PI * k as f64 / CIRCLE_VERTICES as f64;
            [a.cos(), a.sin()]
        })
    });

/// The `influence_zones` row of a source: a circle for every hazard source
/// (enterprises without hazard units are grid sources too, but are left out
/// of this layer to keep it readable).
pub fn influence_zone(s: &Source, units: &[HazardUnit], metric: &MetricCrs) -> Option<Row> {
    let SourceOf::HazardUnit(i) = s.of else {
        return None;
    };
    let ring: Vec<(f64, f64)> = (0..=CIRCLE_VERTICES)
        .map(|k| {
            let [cos, sin] = UNIT_CIRCLE[k % CIRCLE_VERTICES];
            (s.xy[0] + s.radius_m * cos, s.xy[1] + s.radius_m * sin)
        })
        .collect();
    let circle = MultiPolygon(vec![Polygon::new(LineString::from(ring), vec![])]);
    Some(layers::influence_zone_row(
        s,
        &units[i].enterprise_id,
        Shape::MultiPolygon(metric.to_wgs84(&circle)),
    ))
}

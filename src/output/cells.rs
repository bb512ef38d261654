//! Polygon layers made from the grid: `exposure_grid` (cells with E > 0, or
//! those cells merged per grade when there are too many to list) and
//! `influence_zones` (the circle of each hazard source). Geometry is built in
//! the metric CRS and returned in WGS 84 lon/lat.

use gdal::raster::Buffer;
use gdal::vector::{FieldDefn, LayerAccess, LayerOptions, OGRFieldType};
use gdal::DriverManager;
use geo::{LineString, MultiPolygon, Polygon};

use crate::analysis::exposure::{cell_grade, GridSpec, Source, SourceOf};
use crate::crs::MetricCrs;
use crate::ingest::config::Exposure;
use crate::model::{Grade, HazardUnit};
use crate::output::layers::{self, Row, Shape, Value};

/// Grade codes in the grade raster (0 = E = 0).
fn code(g: Grade) -> u8 {
    match g {
        Grade::Blue => 1,
        Grade::Yellow => 2,
        Grade::Orange => 3,
        Grade::Red => 4,
    }
}

fn grade_of(code: i64) -> Option<Grade> {
    match code {
        1 => Some(Grade::Blue),
        2 => Some(Grade::Yellow),
        3 => Some(Grade::Orange),
        4 => Some(Grade::Red),
        _ => None,
    }
}

/// Collects the `exposure_grid` layer while the grid streams by: single cells
/// up to `max_grid_cells`, and a one-byte-per-cell grade raster from which
/// merged polygons are made when that is exceeded.
pub struct GridCells {
    spec: GridSpec,
    cap: usize,
    cells: Vec<(u32, u32, f64)>,
    overflow: bool,
    grades: gdal::Dataset,
}

type GdalResult<T> = Result<T, gdal::errors::GdalError>;

impl GridCells {
    /// An empty collector for a grid of `spec`, with an in-memory grade raster
    /// and the cap `exposure.max_grid_cells`.
    pub fn new(spec: GridSpec, cfg: &Exposure) -> GdalResult<GridCells> {
        let driver = DriverManager::get_driver_by_name("MEM")?;
        let mut grades = driver.create_with_band_type::<u8, _>("", spec.cols, spec.rows, 1)?;
        grades.set_geo_transform(&spec.geotransform())?;
        Ok(GridCells {
            spec,
            cap: cfg.max_grid_cells,
            cells: Vec::new(),
            overflow: false,
            grades,
        })
    }

    /// Takes one band of the grid.
    pub fn add_band(
        &mut self,
        row0: usize,
        rows: usize,
        values: &[f64],
        cfg: &Exposure,
    ) -> GdalResult<()> {
        let codes: Vec<u8> = values
            .iter()
            .map(|&e| cell_grade(e, cfg).map_or(0, code))
            .collect();
        let mut buf = Buffer::new((self.spec.cols, rows), codes);
        self.grades
            .rasterband(1)?
            .write((0, row0 as isize), (self.spec.cols, rows), &mut buf)?;
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
        Ok(())
    }

    /// Every cell's grade code (0 where E = 0, 1 blue … 4 red), row-major.
    pub fn codes(&self) -> GdalResult<Vec<u8>> {
        Ok(self
            .grades
            .rasterband(1)?
            .read_band_as::<u8>()?
            .data()
            .to_vec())
    }

    /// Whether cells were merged per grade.
    pub fn merged(&self) -> bool {
        self.overflow
    }

    /// The layer's rows: one per cell, or one per merged polygon.
    pub fn rows(&self, cfg: &Exposure, metric: &MetricCrs) -> GdalResult<Vec<Row>> {
        let cell_km2 = self.spec.cell * self.spec.cell / 1e6;
        if !self.overflow {
            return Ok(self
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
                .collect());
        }
        self.polygonize(metric, cell_km2)
    }

    /// Merges cells of equal grade into polygons with GDAL's polygonizer.
    fn polygonize(&self, metric: &MetricCrs, cell_km2: f64) -> GdalResult<Vec<Row>> {
        let driver = DriverManager::get_driver_by_name("Memory")?;
        let mut out = driver.create_vector_only("")?;
        let layer = out.create_layer(LayerOptions {
            name: "zones",
            ty: gdal::vector::OGRwkbGeometryType::wkbPolygon,
            ..Default::default()
        })?;
        FieldDefn::new("code", OGRFieldType::OFTInteger)?.add_to_layer(&layer)?;
        let band = self.grades.rasterband(1)?;
        // SAFETY: the band and the layer are valid handles owned by `self`
        // and this function for the whole call; no progress callback is given.
        let rv = unsafe {
            // The band is its own mask: cells with code 0 (E = 0) are left out.
            let b = band.c_rasterband();
            gdal_sys::GDALPolygonize(
                b,
                b,
                layer.c_layer(),
                0,
                std::ptr::null_mut(),
                None,
                std::ptr::null_mut(),
            )
        };
        if rv != gdal_sys::CPLErr::CE_None {
            return Err(gdal::errors::GdalError::CplError {
                class: rv,
                number: 0,
                msg: "polygonize failed".into(),
            });
        }
        let mut layer = out.layer(0)?;
        let mut rows = Vec::new();
        for f in layer.features() {
            let Some(grade) = f.field_as_integer(0)?.and_then(|c| grade_of(c.into())) else {
                continue;
            };
            let Some(g) = f.geometry() else { continue };
            let mp = match geo::Geometry::<f64>::try_from(g)? {
                geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
                geo::Geometry::MultiPolygon(mp) => mp,
                _ => continue,
            };
            let area_km2 = geo::Area::unsigned_area(&mp) / 1e6;
            let cells = (area_km2 / cell_km2).round() as i64;
            rows.push(grid_row(
                Some(grade),
                None,
                cells,
                area_km2,
                metric.to_wgs84(&mp),
            ));
        }
        // Red first, then by size: a stable order whatever GDAL's.
        rows.sort_by(|a, b| {
            grade_key(b)
                .cmp(&grade_key(a))
                .then(area(b).total_cmp(&area(a)))
        });
        Ok(rows)
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

/// The `influence_zones` rows: a circle for every hazard source (enterprises
/// without hazard units are grid sources too, but are left out of this layer
/// to keep it readable).
pub fn influence_zones(sources: &[Source], units: &[HazardUnit], metric: &MetricCrs) -> Vec<Row> {
    sources
        .iter()
        .filter_map(|s| match s.of {
            SourceOf::HazardUnit(i) => Some((s, &units[i])),
            SourceOf::Enterprise(_) => None,
        })
        .map(|(s, u)| {
            let ring: Vec<(f64, f64)> = (0..=CIRCLE_VERTICES)
                .map(|k| {
                    let a = 2.0 * std::f64::consts::PI * (k % CIRCLE_VERTICES) as f64
                        / CIRCLE_VERTICES as f64;
                    (
                        s.xy[0] + s.radius_m * a.cos(),
                        s.xy[1] + s.radius_m * a.sin(),
                    )
                })
                .collect();
            let circle = MultiPolygon(vec![Polygon::new(LineString::from(ring), vec![])]);
            layers::influence_zone_row(
                s,
                &u.enterprise_id,
                Shape::MultiPolygon(metric.to_wgs84(&circle)),
            )
        })
        .collect()
}

//! Reading a finished run's output folder for a comparison: `report.json`
//! for the run's year, grid and parameters, and the GeoPackage for the
//! records, by the layers' field names (through GDAL, as any client would).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gdal::vector::LayerAccess;
use gdal::Dataset;

use super::{Danger, Enterprise, Hazard, Run, RunGrid, Target, Unit};
use crate::crs::MetricCrs;
use crate::ingest::config::Thresholds;
use crate::model::{AdminLevel, Grade};

/// Why an output folder cannot be read for a comparison.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct ReadError {
    /// The file that could not be used.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

fn error(path: &Path, reason: impl ToString) -> ReadError {
    ReadError {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Reads the run whose output is in `dir`.
pub fn read_run(dir: &Path) -> Result<Run, ReadError> {
    let report = read_report(dir)?;
    read_run_from(dir, &report, dir)
}

/// Reads an output folder's `report.json` and checks that it has what a
/// comparison needs.
pub fn read_report(dir: &Path) -> Result<serde_json::Value, ReadError> {
    let report_path = dir.join("report.json");
    let text = std::fs::read_to_string(&report_path).map_err(|e| {
        error(
            &report_path,
            format!("cannot be read ({e}): is this the output folder of `riskatlas run`?"),
        )
    })?;
    let report: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| error(&report_path, e))?;
    report_facts(&report).map_err(|r| error(&report_path, r))?;
    Ok(report)
}

/// Reads a run from its report and the GeoPackage and exposure raster in
/// `files` (a run still being written has them apart from its folder);
/// `dir` names it in messages.
pub fn read_run_from(
    dir: &Path,
    report: &serde_json::Value,
    files: &Path,
) -> Result<Run, ReadError> {
    let (year, grid, thresholds) =
        report_facts(report).map_err(|r| error(&dir.join("report.json"), r))?;
    let gpkg = files.join(crate::output::write::GPKG_FILE);
    let ds = Dataset::open(&gpkg).map_err(|e| error(&gpkg, e))?;
    let layers = Layers {
        ds: &ds,
        path: &gpkg,
    };
    Ok(Run {
        dir: dir.to_path_buf(),
        exposure: files.join(EXPOSURE_FILE),
        year,
        data_date: report["data_date"].as_str().unwrap_or_default().to_string(),
        grid,
        thresholds,
        units: layers.read("admin_units", "code", unit)?,
        enterprises: layers.read("enterprises", "id", enterprise)?,
        hazards: layers.read("hazard_sources", "id", hazard)?,
        dangers: layers.read("hidden_dangers", "id", danger)?,
        targets: layers.read("vulnerable_targets", "id", target)?,
    })
}

/// The exposure raster of a run's output folder.
pub const EXPOSURE_FILE: &str = "exposure.tif";

/// A run's exposure raster, read a band of rows at a time.
pub struct ExposureRaster {
    ds: Dataset,
    path: PathBuf,
    /// The raster's geotransform (metric CRS).
    pub geotransform: [f64; 6],
    /// Columns and rows.
    pub size: (usize, usize),
}

impl ExposureRaster {
    /// Opens the run's `exposure.tif`.
    pub fn open(path: &Path) -> Result<ExposureRaster, ReadError> {
        let ds = Dataset::open(path).map_err(|e| error(path, e))?;
        let geotransform = ds.geo_transform().map_err(|e| error(path, e))?;
        let size = ds.raster_size();
        Ok(ExposureRaster {
            ds,
            path: path.to_path_buf(),
            geotransform,
            size,
        })
    }

    /// E of the cells of rows `row0 .. row0 + rows` and columns `col0 ..
    /// col0 + cols` (row-major), all within the raster.
    pub fn read(
        &self,
        (col0, row0): (usize, usize),
        (cols, rows): (usize, usize),
    ) -> Result<Vec<f32>, ReadError> {
        let band = self.ds.rasterband(1).map_err(|e| error(&self.path, e))?;
        let buf = band
            .read_as::<f32>(
                (col0 as isize, row0 as isize),
                (cols, rows),
                (cols, rows),
                None,
            )
            .map_err(|e| error(&self.path, e))?;
        Ok(buf.data().to_vec())
    }
}

/// The year, the grid and the exposure thresholds from `report.json`.
fn report_facts(report: &serde_json::Value) -> Result<(i64, RunGrid, Thresholds), String> {
    let num = |pointer: &str| {
        report
            .pointer(pointer)
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| {
                format!(
                    "has no {pointer}: written by an older riskatlas? Run that year's project again with this one"
                )
            })
    };
    let epsg = num("/crs/metric/epsg")? as u32;
    if MetricCrs::for_epsg(epsg).is_none() {
        return Err(format!(
            "metric CRS EPSG:{epsg} is not a CGCS2000 3-degree Gauss-Kruger zone riskatlas writes"
        ));
    }
    let grid = RunGrid {
        epsg,
        metric_name: report
            .pointer("/crs/metric/name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string(),
        cell_size_m: num("/findings/grid/cell_size_m")?,
        west: num("/findings/grid/origin/west")?,
        north: num("/findings/grid/origin/north")?,
        cols: num("/findings/grid/cols")? as u64,
        rows: num("/findings/grid/rows")? as u64,
    };
    let thresholds = Thresholds {
        red: num("/parameters/exposure_thresholds/red")?,
        orange: num("/parameters/exposure_thresholds/orange")?,
        yellow: num("/parameters/exposure_thresholds/yellow")?,
    };
    Ok((num("/year")? as i64, grid, thresholds))
}

/// The GeoPackage's layers, read by field name.
struct Layers<'a> {
    ds: &'a Dataset,
    path: &'a Path,
}

/// One feature's fields by name.
struct Fields<'a> {
    feature: &'a gdal::vector::Feature<'a>,
    names: &'a BTreeMap<String, usize>,
}

impl Fields<'_> {
    fn text(&self, name: &str) -> String {
        self.names
            .get(name)
            .and_then(|&i| self.feature.field_as_string(i).ok().flatten())
            .unwrap_or_default()
    }

    fn real(&self, name: &str) -> Option<f64> {
        self.names
            .get(name)
            .and_then(|&i| self.feature.field_as_double(i).ok().flatten())
    }

    fn int(&self, name: &str) -> Option<i64> {
        self.names
            .get(name)
            .and_then(|&i| self.feature.field_as_integer64(i).ok().flatten())
    }

    fn flag(&self, name: &str) -> bool {
        self.int(name).unwrap_or(0) != 0
    }

    fn grade(&self, name: &str) -> Option<Grade> {
        Grade::parse(&self.text(name))
    }

    /// The feature's point (lon, lat).
    fn point(&self) -> (f64, f64) {
        self.feature
            .geometry()
            .map(|g| {
                let (x, y, _) = g.get_point(0);
                (x, y)
            })
            .unwrap_or((f64::NAN, f64::NAN))
    }

    /// The feature's polygons, lon/lat (empty for other geometries).
    fn polygons(&self) -> geo::MultiPolygon<f64> {
        match self.feature.geometry().and_then(|g| g.to_geo().ok()) {
            Some(geo::Geometry::MultiPolygon(mp)) => mp,
            Some(geo::Geometry::Polygon(p)) => geo::MultiPolygon(vec![p]),
            _ => geo::MultiPolygon(Vec::new()),
        }
    }

    /// The code of the record's district (else its city).
    fn unit_code(&self) -> String {
        let d = self.text("district_code");
        if d.is_empty() {
            self.text("city_code")
        } else {
            d
        }
    }

    /// Where the record is: its district (or city) name.
    fn place(&self) -> String {
        let d = self.text("district_name");
        if d.is_empty() {
            self.text("city_name")
        } else {
            d
        }
    }
}

impl Layers<'_> {
    /// Every feature of `layer`, keyed by its `key` field.
    fn read<T>(
        &self,
        layer: &str,
        key: &str,
        make: impl Fn(&Fields) -> T,
    ) -> Result<BTreeMap<String, T>, ReadError> {
        let mut l = self
            .ds
            .layer_by_name(layer)
            .map_err(|e| error(self.path, format!("layer {layer}: {e}")))?;
        let names: BTreeMap<String, usize> = l
            .defn()
            .fields()
            .enumerate()
            .map(|(i, f)| (f.name(), i))
            .collect();
        if !names.contains_key(key) {
            return Err(error(
                self.path,
                format!("layer {layer} has no field {key}"),
            ));
        }
        let mut out = BTreeMap::new();
        for feature in l.features() {
            let fields = Fields {
                feature: &feature,
                names: &names,
            };
            out.insert(fields.text(key), make(&fields));
        }
        Ok(out)
    }
}

fn unit(f: &Fields) -> Unit {
    Unit {
        name: f.text("name"),
        level: AdminLevel::parse(&f.text("level")),
        grade: f.grade("grade"),
        shares: [
            f.real("share_red").unwrap_or(0.0),
            f.real("share_orange").unwrap_or(0.0),
            f.real("share_yellow").unwrap_or(0.0),
        ],
        boundary: f.polygons(),
    }
}

fn enterprise(f: &Fields) -> Enterprise {
    let reason = match f.text("grade_reason") {
        r if r.is_empty() && f.text("grade_source") == "assessed" => "自评等级".to_string(),
        r => r,
    };
    Enterprise {
        name: f.text("name"),
        place: f.place(),
        grade: f.grade("grade"),
        reason,
        unit: f.unit_code(),
        at: f.point(),
    }
}

fn hazard(f: &Fields) -> Hazard {
    Hazard {
        name: f.text("name"),
        enterprise: f.text("enterprise_name"),
        place: f.place(),
        major: f.flag("is_major"),
        s: f.real("s_value"),
        r: f.real("r_value"),
        grade: f.int("hazard_grade").map(|g| g as u8),
        at: f.point(),
    }
}

fn danger(f: &Fields) -> Danger {
    Danger {
        description: f.text("description"),
        enterprise_id: f.text("enterprise_id"),
        place: f.place(),
        major: f.text("level") == "major",
        open: f.text("status") == "open",
        // GDAL gives dates as 2026/05/15.
        due: f.text("due_date").replace('/', "-"),
        overdue: f.flag("overdue"),
        at: f.point(),
    }
}

fn target(f: &Fields) -> Target {
    Target {
        name: f.text("name"),
        kind: f.text("kind"),
        place: f.place(),
        exposure: f.real("exposure").unwrap_or(0.0),
        at: f.point(),
    }
}

//! Per-unit statistics over the exposure grid and the records, and each
//! unit's grade by the area rule.
//!
//! Cells belong to the finest unit whose polygon holds their centre (GDAL's
//! rasterisation of the units, coarse levels first so finer ones overwrite
//! them, band by band, so memory stays bounded) — the same rule as the point
//! join; every unit adds up the cells of the units inside it. Records count toward every unit
//! of their path (town, district, city).

use std::collections::{BTreeMap, HashMap};

use gdal::raster::{rasterize, Buffer, RasterizeOptions};
use gdal::vector::ToGdal;
use gdal::DriverManager;

use crate::analysis::exposure::{cell_grade, GridSpec, TargetExposure};
use crate::analysis::join::AdminIndex;
use crate::crs::MetricCrs;
use crate::ingest::config::Exposure;
use crate::model::{AdminRef, DangerLevel, Grade, Graded, HazardUnit, HiddenDanger};

/// Grade slots in arrays: red, orange, yellow, blue.
pub(crate) fn slot(g: Grade) -> usize {
    match g {
        Grade::Red => 0,
        Grade::Orange => 1,
        Grade::Yellow => 2,
        Grade::Blue => 3,
    }
}

/// Cell statistics of one unit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CellStats {
    /// Cells whose centre lies in the unit.
    pub cells: u64,
    /// Sum of E over those cells.
    pub sum_e: f64,
    /// Largest E of those cells (0 when there are none).
    pub max_e: f64,
    /// Cells per grade (red, orange, yellow, blue); the rest have E = 0.
    pub by_grade: [u64; 4],
}

impl CellStats {
    pub(crate) fn add(&mut self, e: f64, cfg: &Exposure) {
        self.cells += 1;
        self.sum_e += e;
        self.max_e = self.max_e.max(e);
        if let Some(g) = cell_grade(e, cfg) {
            self.by_grade[slot(g)] += 1;
        }
    }

    fn merge(&mut self, o: &CellStats) {
        self.cells += o.cells;
        self.sum_e += o.sum_e;
        self.max_e = self.max_e.max(o.max_e);
        for i in 0..4 {
            self.by_grade[i] += o.by_grade[i];
        }
    }

    /// Share of the unit's cells in each grade (red, orange, yellow, blue).
    pub fn shares(&self) -> [f64; 4] {
        let n = self.cells.max(1) as f64;
        self.by_grade.map(|c| c as f64 / n)
    }

    /// Mean E over the unit's cells (0 for a unit without cells).
    pub fn mean_e(&self) -> f64 {
        self.sum_e / self.cells.max(1) as f64
    }
}

/// Assigns grid cells to the finest units, band by band.
pub struct UnitRaster {
    /// Every unit's boundary in metric coordinates, as a GDAL geometry, in
    /// drawing order (coarse levels first).
    geometries: Vec<gdal::vector::Geometry>,
    /// The slot + 1 of each geometry's unit (the value burnt).
    burn: Vec<f64>,
}

impl UnitRaster {
    /// Projects every unit's boundary to `metric` and converts it for GDAL's
    /// rasteriser, in join order (coarse levels first).
    pub fn new(
        index: &AdminIndex,
        metric: &MetricCrs,
    ) -> Result<UnitRaster, gdal::errors::GdalError> {
        let mut geometries = Vec::new();
        let mut burn = Vec::new();
        for (slot, u, _) in index.join_units() {
            geometries.push(metric.to_metric(&u.boundary).to_gdal()?);
            burn.push((slot + 1) as f64);
        }
        Ok(UnitRaster { geometries, burn })
    }

    /// For the cells of rows `row0 .. row0 + rows`, the slot + 1 of the
    /// finest unit holding each cell centre (0 outside every unit).
    pub fn band(
        &self,
        spec: &GridSpec,
        row0: usize,
        rows: usize,
    ) -> Result<Vec<i32>, gdal::errors::GdalError> {
        let driver = DriverManager::get_driver_by_name("MEM")?;
        let mut ds = driver.create_with_band_type::<i32, _>("", spec.cols, rows, 1)?;
        let top = spec.y0 - row0 as f64 * spec.cell;
        ds.set_geo_transform(&[spec.x0, spec.cell, 0.0, top, 0.0, -spec.cell])?;
        rasterize(
            &mut ds,
            &[1],
            &self.geometries,
            &self.burn,
            Some(RasterizeOptions::default()),
        )?;
        let buf: Buffer<i32> = ds.rasterband(1)?.read_band_as::<i32>()?;
        Ok(buf.data().to_vec())
    }
}

/// Accumulates each unit's own cell statistics (the cells whose finest unit
/// it is) from grid bands, by slot.
pub struct GridStats {
    /// Own cell statistics of each unit, indexed by slot.
    pub own: Vec<CellStats>,
    /// All cells of the grid with E > 0, per grade.
    pub grid_by_grade: [u64; 4],
}

impl GridStats {
    /// Empty statistics for `n_units` units.
    pub fn new(n_units: usize) -> Self {
        GridStats {
            own: vec![CellStats::default(); n_units],
            grid_by_grade: [0; 4],
        }
    }

    /// Adds a band: its values and the unit slot + 1 of each cell.
    pub fn add_band(&mut self, values: &[f64], units: &[i32], cfg: &Exposure) {
        for (&e, &u) in values.iter().zip(units) {
            if u > 0 {
                self.own[(u - 1) as usize].add(e, cfg);
            }
            if let Some(g) = cell_grade(e, cfg) {
                self.grid_by_grade[slot(g)] += 1;
            }
        }
    }
}

/// Counts of records in one unit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordCounts {
    /// Enterprises per grade (red, orange, yellow, blue).
    pub enterprises_by_grade: [u64; 4],
    /// Major hazard sources by grade 1–4.
    pub major_hazards: [u64; 4],
    /// Open major hidden dangers (重大事故隐患 not yet rectified).
    pub open_major_dangers: u64,
    /// Vulnerable targets with E > 0.
    pub targets_exposed: u64,
    /// High-risk places (major hazard sources, red and orange enterprises)
    /// whose emergency-resource coverage was measured.
    pub high_risk_places: u64,
    /// Those of them covered.
    pub covered_places: u64,
}

/// Every code on a record's path.
fn codes(a: &AdminRef) -> impl Iterator<Item = &str> {
    [&a.city_code, &a.district_code, &a.town_code]
        .into_iter()
        .flatten()
        .map(String::as_str)
}

/// Counts records per unit code, at every level of their paths.
pub fn count_records(
    enterprises: &[Graded],
    units: &[HazardUnit],
    dangers: &[HiddenDanger],
    targets: &[crate::model::VulnerableTarget],
    exposure: &[TargetExposure],
    places: &[crate::analysis::coverage::Place],
) -> HashMap<String, RecordCounts> {
    let mut out: HashMap<String, RecordCounts> = HashMap::new();
    let mut each = |a: &AdminRef, f: &dyn Fn(&mut RecordCounts)| {
        for c in codes(a) {
            f(out.entry(c.to_string()).or_default());
        }
    };
    for e in enterprises {
        let g = e.grade();
        each(&e.admin, &|c| c.enterprises_by_grade[slot(g)] += 1);
    }
    for u in units {
        if let Some(g) = u.major_grade() {
            each(&u.admin, &|c| c.major_hazards[(g - 1) as usize] += 1);
        }
    }
    for d in dangers
        .iter()
        .filter(|d| d.level == DangerLevel::Major && d.status.is_open())
    {
        each(&d.admin, &|c| c.open_major_dangers += 1);
    }
    for (t, x) in targets.iter().zip(exposure) {
        if x.e > 0.0 {
            each(&t.admin, &|c| c.targets_exposed += 1);
        }
    }
    for p in places {
        let covered = u64::from(p.covered);
        each(&p.admin, &|c| {
            c.high_risk_places += 1;
            c.covered_places += covered;
        });
    }
    out
}

/// Cell statistics for every unit code: its own cells and those of every
/// unit inside it.
pub fn unit_cells(index: &AdminIndex, stats: &GridStats) -> BTreeMap<String, CellStats> {
    let mut out: BTreeMap<String, CellStats> = BTreeMap::new();
    for (slot, s) in stats.own.iter().enumerate() {
        for c in codes(index.path(slot)) {
            out.entry(c.to_string()).or_default().merge(s);
        }
    }
    out
}

/// A unit's grade by the area rule, with the rule that fired.
pub fn unit_grade(cells: &CellStats, cfg: &Exposure) -> (Grade, String) {
    let [red, orange, yellow, _] = cells.shares();
    let t = &cfg.area_shares;
    let pct = |v: f64| format!("{:.1}%", v * 100.0);
    if red >= t.red {
        (
            Grade::Red,
            format!("红色网格占 {} ≥ {} [area_red]", pct(red), pct(t.red)),
        )
    } else if red + orange >= t.orange {
        (
            Grade::Orange,
            format!(
                "红+橙网格占 {} ≥ {} [area_orange]",
                pct(red + orange),
                pct(t.orange)
            ),
        )
    } else if red + orange + yellow >= t.yellow {
        (
            Grade::Yellow,
            format!(
                "红+橙+黄网格占 {} ≥ {} [area_yellow]",
                pct(red + orange + yellow),
                pct(t.yellow)
            ),
        )
    } else {
        (
            Grade::Blue,
            format!(
                "红+橙+黄网格占 {} < {} [area_blue]",
                pct(red + orange + yellow),
                pct(t.yellow)
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(cells: u64, by_grade: [u64; 4]) -> CellStats {
        CellStats {
            cells,
            sum_e: 0.0,
            max_e: 0.0,
            by_grade,
        }
    }

    #[test]
    fn area_rule_picks_the_first_share_reached() {
        let cfg = Exposure::default();
        assert_eq!(unit_grade(&stats(1000, [20, 0, 0, 0]), &cfg).0, Grade::Red);
        assert_eq!(
            unit_grade(&stats(1000, [19, 31, 0, 0]), &cfg).0,
            Grade::Orange
        );
        assert_eq!(
            unit_grade(&stats(1000, [10, 20, 70, 0]), &cfg).0,
            Grade::Yellow
        );
        let (g, rule) = unit_grade(&stats(1000, [10, 20, 69, 500]), &cfg);
        assert_eq!(g, Grade::Blue);
        assert!(
            rule.contains("9.9%") && rule.contains("[area_blue]"),
            "{rule}"
        );
    }
}

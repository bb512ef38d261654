//! The grid's geometry before it is computed: the study area's metric
//! envelope, the band and tile size, and the memory budget a grid must fit.

use std::collections::BTreeMap;

use crate::analysis::aggregate::{CellStats, GridStats};
use crate::analysis::exposure::GridSpec;
use crate::analysis::join::AdminIndex;
use crate::ingest::config::Project;
use crate::output::cells::GridCells;

/// A grid too large for `exposure.grid_memory_mb`, with the numbers and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct GridBudgetError(String);

/// Cells per grid band and tile side (also the GeoTIFF block size).
pub const TILE: usize = 256;

/// The exposure grid's geometry: snapped cells of `cell` metres over the
/// study area. The grid stage and the parks' cells both use it.
pub fn grid_spec(index: &AdminIndex, cell: f64) -> GridSpec {
    let (min, max) = study_bounds(index);
    GridSpec::covering(min, max, cell)
}

/// The metric envelope of every unit.
pub fn study_bounds(index: &AdminIndex) -> ([f64; 2], [f64; 2]) {
    let metric = index.metric();
    let mut min = [f64::INFINITY; 2];
    let mut max = [f64::NEG_INFINITY; 2];
    for u in index.units() {
        for c in u.boundary.iter().flat_map(|p| p.exterior().coords()) {
            let (x, y) = metric.project(c.x, c.y);
            min = [min[0].min(x), min[1].min(y)];
            max = [max[0].max(x), max[1].max(y)];
        }
    }
    (min, max)
}

/// Bytes the grid stage holds per cell: the one-byte grade raster of the
/// `exposure_grid` layer, its copy for the maps, and the merging of cells
/// (measured: 2.8 bytes a cell on a 101.7 M-cell grid, GDAL's block cache
/// bounded to 128 MiB).
const GRID_BYTES_PER_CELL: f64 = 3.0;
/// Bytes held per column of a band (TILE rows): values, unit slots, grades
/// and the tiles' own buffers.
const GRID_BYTES_PER_BAND_COLUMN: f64 = TILE as f64 * 29.0;

/// Refuses a grid whose memory estimate is over `exposure.grid_memory_mb`,
/// before any of it is computed: a cell size of 1 m over a city would need
/// tens of gigabytes.
pub fn check_grid_budget(project: &Project, index: &AdminIndex) -> Result<(), GridBudgetError> {
    let (min, max) = study_bounds(index);
    let cell = project.cell_size_m;
    let cols = ((max[0] - min[0]) / cell).ceil() + 1.0;
    let rows = ((max[1] - min[1]) / cell).ceil() + 1.0;
    let cells = cols * rows;
    let bytes = cells * GRID_BYTES_PER_CELL + cols * GRID_BYTES_PER_BAND_COLUMN;
    let budget = project.exposure.grid_memory_mb as f64 * 1024.0 * 1024.0;
    // A NaN size (boundaries without extent) fails the comparison; GDAL's
    // raster sizes are C ints.
    if !(bytes <= budget && cols.max(rows) <= i32::MAX as f64) {
        return Err(GridBudgetError(format!(
            "the exposure grid would have {} cells ({} × {} at cell_size_m = {cell}) and need about {} of memory \
             (and a GeoTIFF of up to {} uncompressed), over the budget exposure.grid_memory_mb = {}; \
             use a larger cell_size_m or raise exposure.grid_memory_mb in the project file",
            group_thousands(cells),
            group_thousands(cols),
            group_thousands(rows),
            human_bytes(bytes),
            human_bytes(cells * 4.0),
            project.exposure.grid_memory_mb,
        )));
    }
    Ok(())
}

/// 1234567 → "1,234,567" (a huge or non-finite value as it is).
fn group_thousands(v: f64) -> String {
    if !(v.is_finite() && v < 1e18) {
        return format!("{v:e}");
    }
    let digits = format!("{:.0}", v);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn human_bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    if !b.is_finite() {
        return "an unbounded amount".into();
    }
    let mut v = b;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// What the grid stage found.
pub struct GridOutcome {
    /// The grid's geometry in the metric CRS.
    pub spec: GridSpec,
    /// Cell statistics of each unit's own cells and of the whole grid.
    pub stats: GridStats,
    /// Cell statistics of every unit, by code.
    pub unit_cells: BTreeMap<String, CellStats>,
    /// The `exposure_grid` layer, still to be turned into rows.
    pub cells: Option<GridCells>,
    /// Whether the `exposure_grid` layer had more than `exposure.max_grid_cells`
    /// cells with E > 0 and was merged into polygons per grade.
    pub merged: bool,
}

//! The output stage: the layers, the lists, the rejects and the report, and
//! the writers that put them in the output folder.
//!
//! It takes the loaded records, the analysis and the grid, and gives files:
//! the layer catalogue ([`layers`], with the grid and influence-zone polygons
//! of [`cells`]) written as GeoJSON, GeoPackage and GeoTIFF, the four lists
//! ([`lists`]) as CSV and XLSX, `rejects.csv` and `report.json` ([`report`]),
//! the QGIS styles and project ([`qgis`]) and the web map ([`web`]), all
//! into the staging folder of the run's transaction ([`write::staging`]);
//! and the annual comparison's outputs ([`changes`]).

pub mod build;
pub mod cells;
pub mod changes;
pub mod layers;
pub mod lists;
pub mod polygonize;
pub mod qgis;
pub mod report;
pub mod web;
pub mod write;

/// The exposure raster's title: the description of its band and its layer's
/// name in the QGIS project.
pub const EXPOSURE_TITLE: &str = "风险暴露值E";

use crate::analysis::grid::GridOutcome;
use crate::analysis::Analysis;
use crate::ingest::config::Project;
use crate::ingest::Loaded;
use crate::model::Graded;

/// What the output stages read: the project, the records, the analysis and the grid.
#[derive(Clone, Copy)]
pub struct Results<'a> {
    /// The project file as loaded.
    pub project: &'a Project,
    /// The validated, joined records, with the enterprises graded.
    pub loaded: &'a Loaded<Graded>,
    /// The exposure sources and the sources around each vulnerable target.
    pub analysis: &'a Analysis,
    /// The grid's geometry and cell statistics.
    pub grid: &'a GridOutcome,
}

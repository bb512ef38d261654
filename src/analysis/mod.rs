//! The analysis stage: from the loaded records to the findings.
//!
//! It takes [`crate::ingest::Loaded`] and gives it back with its enterprises
//! graded, with an [`Analysis`]: major hazard
//! sources identified and graded by GB 18218-2018 ([`hazard`]), overdue
//! dangers marked and enterprises graded on the four colours ([`grade`]), the
//! exposure grid's sources and each vulnerable target's exposure
//! ([`exposure`]), the emergency resources' coverage of the high-risk
//! places ([`coverage`]); the per-unit statistics and area grades ([`aggregate`])
//! follow from the grid. The join to the units ([`join`]) and the metric
//! point index ([`spatial`]) serve the other stages too.

use crate::ingest::config::{InputKind, Project};
use crate::ingest::Loaded;
use crate::model::Graded;
use exposure::TargetExposure;

pub mod aggregate;
pub mod buckets;
pub mod chemicals;
pub mod clear_cells;
pub mod coverage;
pub mod exposure;
pub mod gb18218;
pub mod grade;
pub mod grid;
pub mod hazard;
pub mod join;
pub mod outline;
pub mod parks;
pub mod roads;
pub mod spatial;

/// What the analysis stages add to the loaded records.
pub struct Analysis {
    /// The exposure grid's sources: hazard units (same order), then the
    /// enterprises without one.
    pub sources: Vec<exposure::Source>,
    /// For each vulnerable target (same order), the sources around it.
    pub target_exposure: Vec<TargetExposure>,
    /// The emergency resources' coverage of the high-risk places.
    pub coverage: coverage::CoverageResult,
    /// What each chemical park holds, and its grade (same order as the parks).
    pub parks: Vec<parks::ParkFindings>,
}

/// The analysis stages: identify and grade hazard sources (GB 18218), mark
/// overdue dangers, grade enterprises, and find the sources around each
/// target. The loaded records come back with their enterprises graded.
pub fn analyse(project: &Project, loaded: Loaded) -> (Loaded<Graded>, Analysis) {
    let metric = loaded.index.metric().clone();
    let Loaded {
        index,
        enterprises,
        mut hazard_units,
        mut hidden_dangers,
        targets,
        resources,
        parks,
        roads,
        basemap,
        tiles,
        ledger,
        summaries,
        mut timings,
    } = loaded;
    timings.stage("assess_hazard_sources", || {
        hazard::assess_units(&mut hazard_units, &enterprises, &targets, &metric)
    });
    let enterprises = timings.stage("grade_enterprises", || {
        grade::mark_overdue(&mut hidden_dangers, project.as_of);
        grade::grade_enterprises(
            enterprises,
            &hazard_units,
            &hidden_dangers,
            &project.grading,
        )
    });
    let sources = timings.stage("exposure_sources", || {
        exposure::sources(&hazard_units, &enterprises, &project.exposure, &metric)
    });
    let target_exposure = timings.stage("target_exposure", || {
        exposure::target_exposure(&targets, &sources, &project.exposure, &metric)
    });
    let coverage = timings.stage("resource_coverage", || {
        let graph = roads::RoadGraph::new(&roads, &metric);
        let resources = coverage::Resources {
            given: project.inputs.contains_key(&InputKind::EmergencyResources),
            list: &resources,
            roads: graph.as_ref(),
        };
        coverage::coverage(
            &hazard_units,
            &enterprises,
            &resources,
            &project.coverage,
            &metric,
        )
    });
    let park_findings = timings.stage("assess_parks", || {
        let input = parks::ParkInputs {
            enterprises: &enterprises,
            units: &hazard_units,
            targets: &targets,
            sources: &sources,
            spec: grid::grid_spec(&index, project.cell_size_m),
        };
        parks::assess_parks(&parks, &input, (&project.parks, &project.exposure), &metric)
    });
    let loaded = Loaded {
        index,
        enterprises,
        hazard_units,
        hidden_dangers,
        targets,
        resources,
        parks,
        roads,
        basemap,
        tiles,
        ledger,
        summaries,
        timings,
    };
    (
        loaded,
        Analysis {
            sources,
            target_exposure,
            coverage,
            parks: park_findings,
        },
    )
}

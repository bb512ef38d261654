//! Building the output layers and lists from the results, and writing them:
//! one layer at a time as GeoJSON, the GeoPackage and the lists on their own
//! threads.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;

use rayon::prelude::*;
use thiserror::Error;

use crate::analysis::aggregate;
use crate::analysis::grid::GridOutcome;
use crate::analysis::Analysis;
use crate::ingest::config::{InputKind, Project};
use crate::ingest::Loaded;
use crate::model::{Graded, HazardUnit};
use crate::output::cells::{self, GridCells};
use crate::output::layers::{self, EnterpriseHazards, Layer};
use crate::output::lists::{self, ListCount, Table};
use crate::output::qgis;
use crate::output::report::units_by_grade_of;
use crate::output::web;
use crate::output::write::{self, WriteError};
use crate::output::Results;
use crate::progress::{Progress, Timings};

/// Why the layers or lists could not be written.
#[derive(Debug, Error)]
pub enum OutputError {
    /// An output file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// GDAL failed while building the `exposure_grid` rows (merging cells per grade).
    #[error("GDAL: {0}")]
    Gdal(#[from] gdal::errors::GdalError),
}

/// Major-hazard counts per enterprise.
fn hazards_by_enterprise(units: &[HazardUnit]) -> HashMap<&str, EnterpriseHazards> {
    let mut out: HashMap<&str, EnterpriseHazards> = HashMap::new();
    for u in units {
        if let Some(g) = u.major_grade() {
            let h = out.entry(u.enterprise_id.as_str()).or_default();
            h.major += 1;
            h.top_grade = Some(h.top_grade.map_or(g, |t| t.min(g)));
        }
    }
    out
}

/// The `admin_units` rows with their statistics and area grades.
fn admin_unit_rows(
    project: &Project,
    loaded: &Loaded<Graded>,
    analysis: &Analysis,
    grid: &GridOutcome,
) -> Vec<layers::Row> {
    let metric = loaded.index.metric();
    let records = aggregate::count_records(
        &loaded.enterprises,
        &loaded.hazard_units,
        &loaded.hidden_dangers,
        &loaded.targets,
        &analysis.target_exposure,
        &analysis.coverage.places,
    );
    let cells = &grid.unit_cells;
    loaded
        .index
        .units()
        .iter()
        .map(|u| {
            let c = cells.get(&u.code);
            let findings = layers::UnitFindings {
                records: records.get(&u.code),
                cells: c,
                grade: c.map(|c| aggregate::unit_grade(c, &project.exposure)),
            };
            layers::admin_unit_findings_row(u, metric.area_m2(&u.boundary) / 1e6, &findings)
        })
        .collect()
}

/// The `exposure_grid` rows, made from the grid cells on their own thread.
/// With the time they took (`grid_cells_rows`).
type GridRows<'s> = std::thread::ScopedJoinHandle<'s, (Vec<layers::Row>, Timings)>;

/// Rows a large layer is built, written and handed on in at a time: a
/// province's layers then never exist whole, and the GeoPackage writer
/// works on one part while the next is built.
const PART_ROWS: usize = 32_768;

/// Rows of `items`, made in parallel a part at a time and handed to `each`.
fn in_parts<T: Sync>(
    items: &[T],
    row: impl Fn(usize, &T) -> Option<layers::Row> + Sync,
    each: &mut dyn FnMut(Vec<layers::Row>) -> Result<(), OutputError>,
) -> Result<(), OutputError> {
    for (p, part) in items.chunks(PART_ROWS).enumerate() {
        let base = p * PART_ROWS;
        let rows = part
            .par_iter()
            .enumerate()
            .filter_map(|(k, t)| row(base + k, t))
            .collect();
        each(rows)?;
    }
    Ok(())
}

/// Builds one output layer and hands its rows to `each`, a part at a time
/// for the large layers (rows made in parallel); `exposure_grid`'s come whole
/// from `grid_rows` (the time they took goes to `grid_timings`).
fn build_layer(
    layer: Layer,
    r: Results,
    grid_rows: &mut Option<GridRows>,
    grid_timings: &mut Option<Timings>,
    each: &mut dyn FnMut(Vec<layers::Row>) -> Result<(), OutputError>,
) -> Result<(), OutputError> {
    let Results {
        project,
        loaded,
        analysis,
        grid,
    } = r;
    let metric = loaded.index.metric();
    match layer {
        Layer::AdminUnitChanges
        | Layer::EnterpriseChanges
        | Layer::HazardSourceChanges
        | Layer::HiddenDangerChanges
        | Layer::VulnerableTargetChanges => {
            unreachable!("a run never builds the comparison's layers (see output/changes.rs)")
        }
        Layer::AdminUnits => each(admin_unit_rows(project, loaded, analysis, grid)),
        Layer::InfluenceZones => in_parts(
            &analysis.sources,
            |_, s| cells::influence_zone(s, &loaded.hazard_units, metric),
            each,
        ),
        Layer::VulnerableTargets => in_parts(
            &loaded.targets,
            |i, t| {
                let e = &analysis.target_exposure[i];
                Some(layers::vulnerable_target_row(t, e, &analysis.sources))
            },
            each,
        ),
        Layer::Enterprises => {
            let hazards = hazards_by_enterprise(&loaded.hazard_units);
            in_parts(
                &loaded.enterprises,
                |_, e| {
                    let h = hazards.get(e.id()).copied().unwrap_or_default();
                    Some(layers::enterprise_row(e, h))
                },
                each,
            )
        }
        // Hazard units are the first sources, in the same order.
        Layer::HazardSources => in_parts(
            &loaded.hazard_units,
            |i, u| {
                let owner = loaded.enterprises.get(&u.enterprise_id);
                let s = &analysis.sources[i];
                Some(layers::hazard_source_row(u, owner.map(|e| e.name()), s))
            },
            each,
        ),
        Layer::HiddenDangers => in_parts(
            &loaded.hidden_dangers,
            |_, d| Some(layers::hidden_danger_row(d)),
            each,
        ),
        Layer::EmergencyResources => in_parts(
            &loaded.resources,
            |_, r| Some(layers::emergency_resource_row(r)),
            each,
        ),
        Layer::ChemicalParks => each(
            loaded
                .parks
                .iter()
                .zip(&analysis.parks)
                .map(|(p, f)| layers::park_row(p, f))
                .collect(),
        ),
        Layer::ResourceCoverage => {
            let c = &analysis.coverage;
            in_parts(
                &c.places,
                |_, p| Some(layers::coverage_row(p, &c.required, &loaded.resources)),
                each,
            )
        }
        Layer::ExposureGrid => {
            let (rows, secs) = grid_rows
                .take()
                .expect("the grid layer is built once")
                .join()
                .expect("the grid layer thread does not panic");
            *grid_timings = Some(secs);
            each(rows)
        }
    }
}

/// How each of the lists is made, in workbook order.
type ListBuilder = fn(&Loaded<Graded>, &Analysis) -> Table;
const LISTS: [ListBuilder; 4] = [
    |l, _| lists::risk_list(&l.enterprises, &l.hazard_units),
    |l, _| lists::danger_list(&l.hidden_dangers, &l.enterprises),
    |l, _| lists::hazard_list(&l.hazard_units, &l.enterprises),
    |l, a| lists::target_list(&l.targets, &a.target_exposure, &a.sources),
];
/// The lists made when the project gives emergency resources.
const RESOURCE_LISTS: [ListBuilder; 2] = [
    |l, _| lists::resource_list(&l.resources),
    |l, a| lists::uncovered_list(&a.coverage, &l.resources),
];
/// The list made when the project gives chemical parks.
const PARK_LISTS: [ListBuilder; 1] = [|l, a| lists::park_list(&l.parks, &a.parks)];

/// The timestamp written into the GeoPackage: the data date, else the year's end.
fn gpkg_stamp(project: &Project) -> String {
    let date = project
        .data_date
        .clone()
        .unwrap_or_else(|| format!("{}-12-31", project.year));
    format!("{date}T00:00:00.000Z")
}

/// What the lists' thread gives back: each list's rows, the seconds it
/// took, and the time of each step.
pub type ListsDone = Result<(Vec<ListCount>, f64, Timings), OutputError>;

/// Starts writing the four lists on a thread of `scope`: they need only
/// the records and the analysis, so they are written beside the grid, the
/// maps and the layers. [`write_layers_and_lists`] waits for them.
pub fn spawn_lists<'s, 'e: 's>(
    scope: &'s std::thread::Scope<'s, 'e>,
    project: &'e Project,
    loaded: &'e Loaded<Graded>,
    analysis: &'e Analysis,
    out_dir: &'e Path,
) -> std::thread::ScopedJoinHandle<'s, ListsDone> {
    std::thread::Builder::new()
        .name("lists".into())
        .spawn_scoped(scope, move || {
            write_lists(project, loaded, analysis, out_dir)
        })
        .expect("the system can start a thread")
}

/// Builds the four lists and writes them (CSV and one workbook), one list
/// at a time so that only one is held at once; returns their row counts,
/// the seconds it took, and the time of each step.
fn write_lists(
    project: &Project,
    loaded: &Loaded<Graded>,
    analysis: &Analysis,
    out_dir: &Path,
) -> Result<(Vec<ListCount>, f64, Timings), OutputError> {
    let t = Instant::now();
    let mut steps = Timings::default();
    let dir = out_dir.join(lists::DIR);
    let mut book = write::ListsWorkbook::new(&dir.join(lists::WORKBOOK), project.as_of)?;
    let given = |k: InputKind| project.inputs.contains_key(&k);
    let resource_lists = RESOURCE_LISTS
        .iter()
        .filter(|_| given(InputKind::EmergencyResources));
    let park_lists = PARK_LISTS.iter().filter(|_| given(InputKind::Parks));
    let mut counts = Vec::new();
    for build in LISTS.iter().chain(resource_lists).chain(park_lists) {
        let table = steps.add_to("lists_build", || build(loaded, analysis));
        steps.add_to("lists_write_csv", || {
            write::write_list_csv(&dir.join(format!("{}.csv", table.name)), &table)
        })?;
        steps.add_to("lists_write_xlsx", || book.add(&table))?;
        counts.push((table.name, table.rows.len()));
    }
    steps.add_to("lists_write_xlsx", || book.save())?;
    Ok((counts, t.elapsed().as_secs_f64(), steps))
}

/// What the GeoPackage writer is handed, in order: a layer's start, its
/// rows a part at a time, its end.
enum ToGpkg {
    Begin(&'static layers::LayerDef),
    Rows(Vec<layers::Row>),
    End,
}

/// Writes the GeoPackage from the layers as they come; returns its total
/// time and each layer's (`gpkg_<layer>`: its table, R-tree and metadata,
/// not the time waiting for its rows).
fn write_gpkg(
    path: &Path,
    stamp: &str,
    rx: mpsc::Receiver<ToGpkg>,
) -> Result<(f64, Timings), WriteError> {
    let t = Instant::now();
    let mut per_layer = Timings::default();
    let mut gpkg = write::gpkg::GpkgWriter::create(path, stamp)?;
    let mut open = None;
    let mut busy = 0.0;
    for msg in rx {
        let started = Instant::now();
        match msg {
            ToGpkg::Begin(def) => open = Some(gpkg.begin_layer(def)?),
            ToGpkg::Rows(rows) => {
                let layer = open.as_mut().expect("rows come between begin and end");
                gpkg.add_rows(layer, &rows)?;
            }
            ToGpkg::End => {
                let layer = open.take().expect("a layer ends after it begins");
                let name = format!("gpkg_{}", layer.name());
                gpkg.end_layer(layer)?;
                busy += started.elapsed().as_secs_f64();
                per_layer.push(name, std::mem::take(&mut busy));
                continue;
            }
        }
        busy += started.elapsed().as_secs_f64();
    }
    gpkg.finish()?;
    Ok((t.elapsed().as_secs_f64(), per_layer))
}

/// Writes the QGIS project over the output folder's layers.
pub fn write_qgis_project(r: Results, out_dir: &Path) -> Result<(), WriteError> {
    let (date, source) = (r.project.as_of.to_string(), r.project.source_line());
    let epsg = r.loaded.index.metric().epsg;
    let wkt = |code: u32| {
        gdal::spatial_ref::SpatialRef::from_epsg(code)
            .and_then(|s| s.to_wkt())
            .map_err(|e| WriteError::Gdal {
                path: out_dir.join(qgis::project::FILE),
                message: format!("EPSG:{code}: {e}"),
            })
    };
    let (metric_wkt, wgs84_wkt) = (wkt(epsg)?, wkt(4326)?);
    let info = qgis::project::ProjectInfo {
        area_name: r.project.area_name.as_deref().unwrap_or(""),
        year: r.project.year,
        data_date: &date,
        source: &source,
        epsg,
        metric_wkt: &metric_wkt,
        wgs84_wkt: &wgs84_wkt,
        extent: r.grid.spec.extent(),
        thresholds: &r.project.exposure.thresholds,
    };
    write::write_text(
        &out_dir.join(qgis::project::FILE),
        &qgis::project::project(&info),
    )
}

/// What [`write_layers_and_lists`] reports: the units per grade (from
/// `admin_units`), the lists' row counts, and the web map's tiles.
pub struct Written {
    /// Units per grade and level.
    pub units_by_grade: serde_json::Value,
    /// (list, rows).
    pub lists: Vec<ListCount>,
    /// The web map, when written.
    pub web: Option<web::WebSummary>,
}

/// Writes the layers (GeoJSON here, the GeoPackage on its own thread), with
/// the merged grid cells made meanwhile; then the web map's tiles from the
/// same rows while the GeoPackage and the `lists` (see [`spawn_lists`]) finish.
pub fn write_layers_and_lists(
    r: Results,
    grid_cells: GridCells,
    lists: std::thread::ScopedJoinHandle<'_, ListsDone>,
    out_dir: &Path,
    progress: &Progress,
    timings: &mut Timings,
) -> Result<Written, OutputError> {
    let Results {
        project, loaded, ..
    } = r;
    // One layer at a time, a part at a time: built, written as GeoJSON,
    // then handed to the GeoPackage writer (SQLite is the slowest writer),
    // which overlaps with the next parts and the lists. A few parts are
    // alive at once, never a whole large layer (one part queued: a
    // province's peak is some 45 MB lower than with two).
    let (tx, rx) = mpsc::sync_channel::<ToGpkg>(1);
    let gpkg_path = out_dir.join(super::write::GPKG_FILE);
    let stamp = gpkg_stamp(project);
    let metric = loaded.index.metric().clone();
    let web_cfg = &project.web;
    let mut web = web_cfg.enabled.then(|| web::WebLayers::new(web_cfg));
    let grid_codes = web.as_ref().map(|_| grid_cells.codes().to_vec());
    std::thread::scope(|scope| {
        // Named, so that profilers and debuggers tell them apart.
        let named = |name: &str| std::thread::Builder::new().name(name.to_string());
        let spawn_failed = "the system can start a thread";
        let mut grid_rows = Some(
            named("grid-cells")
                .spawn_scoped(scope, move || {
                    let mut t = Timings::default();
                    let rows = t.stage("grid_cells_rows", || {
                        grid_cells.rows(&project.exposure, &metric)
                    });
                    (rows, t)
                })
                .expect(spawn_failed),
        );
        let gpkg_thread = named("gpkg")
            .spawn_scoped(scope, move || write_gpkg(&gpkg_path, &stamp, rx))
            .expect(spawn_failed);
        let mut units_by_grade = serde_json::Value::Null;
        // The grid layer goes last: its rows are the last to be ready.
        let mut order = layers::in_draw_order();
        order.retain(|l| *l != Layer::ExposureGrid);
        order.push(Layer::ExposureGrid);
        let bar = progress.bar(order.len() as u64, "writing layers");
        let mut grid_timings = None;
        // How long the layers waited for the GeoPackage writer to take a part.
        let mut gpkg_wait = 0.0;
        for layer in order {
            let def = layers::def(layer);
            let geojson_dir = out_dir.join("geojson");
            // The style beside the layer, which QGIS loads with it.
            write::write_text(
                &geojson_dir.join(format!("{layer}.qml")),
                &qgis::layer_qml(layer),
            )?;
            let geojson = geojson_dir.join(format!("{layer}.geojson"));
            let mut geojson = write::GeoJsonWriter::create(&geojson, def)?;
            let (mut build_secs, mut write_secs) = (0.0, 0.0);
            let mut gpkg_open = tx.send(ToGpkg::Begin(def)).is_ok();
            if let Some(w) = web.as_mut() {
                w.begin(layer);
            }
            let mut built = Instant::now();
            build_layer(layer, r, &mut grid_rows, &mut grid_timings, &mut |rows| {
                build_secs += built.elapsed().as_secs_f64();
                let t = Instant::now();
                if layer == Layer::AdminUnits {
                    units_by_grade = units_by_grade_of(def, &rows);
                }
                geojson.write_rows(&rows)?;
                if let Some(w) = web.as_mut() {
                    w.add(&rows);
                }
                write_secs += t.elapsed().as_secs_f64();
                // A stopped writer's error comes from its join below.
                let t = Instant::now();
                gpkg_open = gpkg_open && tx.send(ToGpkg::Rows(rows)).is_ok();
                gpkg_wait += t.elapsed().as_secs_f64();
                built = Instant::now();
                Ok(())
            })?;
            build_secs += built.elapsed().as_secs_f64();
            let t = Instant::now();
            geojson.finish()?;
            write_secs += t.elapsed().as_secs_f64();
            timings.push(format!("build_{layer}"), build_secs);
            timings.push(format!("write_{layer}"), write_secs);
            if !(gpkg_open && tx.send(ToGpkg::End).is_ok()) {
                break;
            }
            bar.inc(1);
        }
        drop(tx);
        timings.push("wait_for_gpkg".into(), gpkg_wait);
        bar.finish_and_clear();
        timings.0.extend(grid_timings.into_iter().flat_map(|t| t.0));
        let web = match (web, grid_codes) {
            (Some(w), Some(codes)) => {
                let t = Instant::now();
                let summary = web::write(r, web_cfg, w, codes, out_dir, timings)?;
                timings.push("web".into(), t.elapsed().as_secs_f64());
                Some(summary)
            }
            _ => None,
        };
        let t = Instant::now();
        let (lists, list_secs, list_steps) =
            lists.join().expect("the lists thread does not panic")?;
        let (gpkg_secs, gpkg_steps) = gpkg_thread
            .join()
            .expect("the GeoPackage writer does not panic")?;
        timings.push("lists_background".into(), list_secs);
        timings.0.extend(list_steps.0);
        timings.push("write_gpkg_background".into(), gpkg_secs);
        timings.0.extend(gpkg_steps.0);
        timings.push("wait_for_background".into(), t.elapsed().as_secs_f64());
        Ok(Written {
            units_by_grade,
            lists,
            web,
        })
    })
}

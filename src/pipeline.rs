//! Runs the stages in order: load and validate every input, join points to
//! the administrative units, then write the layers, the rejects and the report.
//!
//! Stages take typed inputs and return typed outputs; this module only wires
//! them together, times them and keeps the accounting.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use rayon::prelude::*;
use serde_json::json;
use thiserror::Error;

use crate::analysis::aggregate::{self, GridStats, UnitRaster};
use crate::output::cells::{self, GridCells};
use crate::analysis::exposure::{GridSpec, SourceIndex};
use crate::ingest::config::Project;
use crate::ingest::{index_units, load_all, load_boundaries, IngestError, Loaded};
use crate::output::layers::{self, EnterpriseHazards, LayerData};
use crate::output::lists::{self, Table};
use crate::model::HazardUnit;
use crate::progress::{Progress, Timings};
use crate::output::write::{self, WriteError};
use crate::analysis::grid::{self, study_bounds, GridOutcome, TILE};
use crate::output::report::{findings, grid_summary, print_summary, report, units_by_grade_of};
use crate::analysis::{analyse, Analysis};
use crate::maps::{self, render};
use crate::output::Results;

#[derive(Debug, Error)]
pub enum PipelineError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    GridBudget(#[from] grid::GridBudgetError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("{0}")]
    Invalid(String),
    #[error("GDAL: {0}")]
    Gdal(#[from] gdal::errors::GdalError),
    #[error(transparent)]
    Render(#[from] render::RenderError),
    #[error(transparent)]
    Output(#[from] write::staging::StagingError),
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

/// The exposure grid: computed band by band into `exposure.tif`, the
/// per-unit cell statistics and the `exposure_grid` layer.
pub fn exposure_grid(
    project: &Project,
    loaded: &Loaded,
    analysis: &Analysis,
    tif: &Path,
    progress: &Progress,
) -> Result<GridOutcome, PipelineError> {
    let cfg = &project.exposure;
    let metric = loaded.index.metric();
    let (min, max) = study_bounds(&loaded.index);
    let spec = GridSpec::covering(min, max, project.cell_size_m);
    let sources = SourceIndex::new(&analysis.sources);
    let unit_raster = UnitRaster::new(&loaded.index, metric)?;
    let mut tiff =
        write::GeoTiff::create(tif, spec.cols, spec.rows, spec.geotransform(), metric.epsg)?;
    let mut stats = GridStats::new(loaded.index.units().len());
    let mut cells = GridCells::new(spec, cfg)?;
    let bar = progress.bar(spec.rows as u64, "exposure grid");
    sources.bands(
        &spec,
        TILE,
        cfg.kernel,
        cfg.mode,
        |row0, rows, band| -> Result<(), PipelineError> {
            let units = unit_raster.band(&spec, row0, rows)?;
            stats.add_band(band, &units, cfg);
            tiff.write_band(row0, rows, band)?;
            cells.add_band(row0, rows, band, cfg)?;
            bar.inc(rows as u64);
            Ok(())
        },
    )?;
    bar.finish_and_clear();
    tiff.finish()?;
    let merged = cells.merged();
    let unit_cells = aggregate::unit_cells(&loaded.index, &stats);
    Ok(GridOutcome {
        spec,
        stats,
        unit_cells,
        cells: Some(cells),
        merged,
    })
}

/// The `admin_units` rows with their statistics and area grades.
fn admin_unit_rows(
    project: &Project,
    loaded: &Loaded,
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

/// The output layers' names, in catalogue draw order.
fn layer_names() -> Vec<&'static str> {
    let mut defs: Vec<&layers::LayerDef> = layers::catalogue().values().collect();
    defs.sort_by_key(|d| d.draw_order);
    defs.into_iter().map(|d| d.name.as_str()).collect()
}

/// Builds one output layer; rows of the large point layers are made in
/// parallel. (`exposure_grid` is made from the grid on its own thread.)
fn build_layer(
    name: &str,
    project: &Project,
    loaded: &Loaded,
    analysis: &Analysis,
    grid: &GridOutcome,
) -> LayerData {
    let metric = loaded.index.metric();
    let rows = match name {
        "admin_units" => admin_unit_rows(project, loaded, analysis, grid),
        "influence_zones" => {
            cells::influence_zones(&analysis.sources, &loaded.hazard_units, metric)
        }
        "vulnerable_targets" => loaded
            .targets
            .par_iter()
            .zip(&analysis.target_exposure)
            .map(|(t, e)| layers::vulnerable_target_row(t, e, &analysis.sources))
            .collect(),
        "enterprises" => {
            let hazards = hazards_by_enterprise(&loaded.hazard_units);
            loaded
                .enterprises
                .par_iter()
                .map(|e| {
                    layers::enterprise_row(
                        e,
                        hazards.get(e.id.as_str()).copied().unwrap_or_default(),
                    )
                })
                .collect()
        }
        "hazard_sources" => {
            let names: HashMap<&str, &str> = loaded
                .enterprises
                .iter()
                .map(|e| (e.id.as_str(), e.name.as_str()))
                .collect();
            // Hazard units are the first sources, in the same order.
            loaded
                .hazard_units
                .par_iter()
                .zip(&analysis.sources)
                .map(|(u, s)| {
                    layers::hazard_source_row(u, names.get(u.enterprise_id.as_str()).copied(), s)
                })
                .collect()
        }
        "hidden_dangers" => loaded
            .hidden_dangers
            .par_iter()
            .map(layers::hidden_danger_row)
            .collect(),
        other => unreachable!("layer {other} has no builder"),
    };
    LayerData {
        def: layers::def(name),
        rows,
    }
}

/// The four lists.
fn build_lists(loaded: &Loaded, analysis: &Analysis) -> Vec<Table> {
    vec![
        lists::risk_list(&loaded.enterprises, &loaded.hazard_units),
        lists::danger_list(&loaded.hidden_dangers, &loaded.enterprises),
        lists::hazard_list(&loaded.hazard_units, &loaded.enterprises),
        lists::target_list(
            &loaded.targets,
            &analysis.target_exposure,
            &analysis.sources,
        ),
    ]
}

/// The timestamp written into the GeoPackage: the data date, else the year's end.
fn gpkg_stamp(project: &Project) -> String {
    let date = project
        .data_date
        .clone()
        .unwrap_or_else(|| format!("{}-12-31", project.year));
    format!("{date}T00:00:00.000Z")
}

/// What a finished run tells the CLI.
#[derive(Debug)]
pub struct Outcome {
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub out_dir: Option<PathBuf>,
}

fn outcome(loaded: &Loaded, out_dir: Option<PathBuf>) -> Outcome {
    let sum = |f: fn(&crate::ingest::validate::Counts) -> u64| loaded.ledger.counts.values().map(f).sum();
    Outcome {
        read: sum(|c| c.read),
        accepted: sum(|c| c.accepted),
        rejected: sum(|c| c.rejected),
        out_dir,
    }
}

/// `riskatlas check`: load and validate only; optionally write the rejects and report.
pub fn check(
    project: &Project,
    report_dir: Option<&Path>,
    progress: &Progress,
) -> Result<Outcome, PipelineError> {
    if let Some(dir) = report_dir {
        // The two files written must not be inputs of the project.
        for (what, path) in project_files(project) {
            let input = write::staging::absolute(&path);
            for name in ["rejects.csv", "report.json"] {
                if write::staging::absolute(&dir.join(name)) == input {
                    return Err(PipelineError::Invalid(format!(
                        "--report {}: writing {name} there would overwrite {what} {}",
                        dir.display(),
                        input.display()
                    )));
                }
            }
        }
    }
    let loaded = load_all(project, progress, |_| Ok::<(), PipelineError>(()))?;
    print_summary(&loaded);
    if let Some(dir) = report_dir {
        write::write_rejects(&dir.join("rejects.csv"), &loaded.ledger.rejects)?;
        write::write_json(&dir.join("report.json"), &report(project, &loaded, None))?;
    }
    ensure_balanced(&loaded)?;
    Ok(outcome(&loaded, report_dir.map(Path::to_path_buf)))
}

fn ensure_balanced(loaded: &Loaded) -> Result<(), PipelineError> {
    if loaded.ledger.balanced() {
        Ok(())
    } else {
        Err(PipelineError::Invalid(
            "internal error: accepted + rejected != read for some input (see report.json)".into(),
        ))
    }
}

/// Options of `riskatlas generate`.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub boundaries: PathBuf,
    pub out: PathBuf,
    pub seed: u64,
    pub year: i32,
    pub sizes: crate::generate::Sizes,
    pub bad_rows: bool,
}

/// `riskatlas generate`: synthetic inputs for a boundary file, and their project file.
pub fn generate(
    opts: &GenerateOptions,
    progress: &Progress,
) -> Result<crate::generate::files::Written, PipelineError> {
    let units = load_boundaries(&opts.boundaries, progress)?;
    let area_name = units
        .iter()
        .min_by_key(|u| u.level)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| units[0].name.clone());
    let index = index_units(units);
    let data = crate::generate::synthesize(&index, &opts.sizes, opts.seed, opts.year);
    Ok(crate::generate::files::write_all(
        &opts.out,
        &opts.boundaries,
        &data,
        opts.year,
        &area_name,
        opts.bad_rows,
    )?)
}

/// Writes the layers (GeoJSON here, the GeoPackage on its own thread) and the
/// lists (on their own thread), with the merged grid cells made meanwhile.
/// Returns the units per grade (from `admin_units`) and the lists.
fn write_layers_and_lists(
    r: Results,
    grid_cells: GridCells,
    out_dir: &Path,
    progress: &Progress,
    timings: &mut Timings,
) -> Result<(serde_json::Value, Vec<Table>), PipelineError> {
    let Results {
        project,
        loaded,
        analysis,
        grid,
    } = r;
    // One layer at a time: built, written as GeoJSON, then handed to the
    // GeoPackage writer (SQLite's R-tree is the slowest writer), which
    // overlaps with the next layers and the lists. At most two layers are
    // alive at once.
    let (tx, rx) = mpsc::sync_channel::<LayerData>(0);
    let gpkg_path = out_dir.join("riskatlas.gpkg");
    let stamp = gpkg_stamp(project);
    let metric = loaded.index.metric().clone();
    std::thread::scope(|scope| {
        let mut zones = Some(scope.spawn(move || grid_cells.rows(&project.exposure, &metric)));
        let lists = scope.spawn(move || -> Result<(Vec<Table>, f64), PipelineError> {
            let t = Instant::now();
            let lists = build_lists(loaded, analysis);
            for table in &lists {
                write::write_list_csv(
                    &out_dir.join("lists").join(format!("{}.csv", table.name)),
                    table,
                )?;
            }
            write::write_lists_xlsx(
                &out_dir.join("lists").join("清单.xlsx"),
                &lists,
                project.as_of,
            )?;
            Ok((lists, t.elapsed().as_secs_f64()))
        });
        let gpkg_thread = scope.spawn(move || -> Result<f64, WriteError> {
            let t = Instant::now();
            let mut gpkg = write::gpkg::GpkgWriter::create(&gpkg_path, &stamp)?;
            for layer in rx {
                gpkg.add_layer(&layer)?;
            }
            gpkg.finish()?;
            Ok(t.elapsed().as_secs_f64())
        });
        let mut units_by_grade = serde_json::Value::Null;
        // The grid layer goes last: its rows are the last to be ready.
        let mut names = layer_names();
        names.retain(|n| *n != "exposure_grid");
        names.push("exposure_grid");
        let bar = progress.bar(names.len() as u64, "writing layers");
        for name in names {
            let grid_thread = if name == "exposure_grid" {
                zones.take()
            } else {
                None
            };
            let layer = match grid_thread {
                Some(thread) => LayerData {
                    def: layers::def(name),
                    rows: thread
                        .join()
                        .expect("the grid layer thread does not panic")?,
                },
                None => timings.stage(&format!("build_{name}"), || {
                    build_layer(name, project, loaded, analysis, grid)
                }),
            };
            if name == "admin_units" {
                units_by_grade = units_by_grade_of(&layer);
            }
            let geojson = out_dir.join("geojson").join(format!("{name}.geojson"));
            timings.stage(&format!("write_{name}"), || {
                write::write_geojson(&geojson, &layer)
            })?;
            if tx.send(layer).is_err() {
                break; // the writer stopped; its error comes from join below
            }
            bar.inc(1);
        }
        drop(tx);
        bar.finish_and_clear();
        let t = Instant::now();
        let (lists, list_secs) = lists.join().expect("the lists thread does not panic")?;
        let gpkg_secs = gpkg_thread
            .join()
            .expect("the GeoPackage writer does not panic")?;
        timings.0.push(("lists_background".into(), list_secs));
        timings.0.push(("write_gpkg_background".into(), gpkg_secs));
        timings
            .0
            .push(("wait_for_background".into(), t.elapsed().as_secs_f64()));
        Ok((units_by_grade, lists))
    })
}

/// Every file a project reads, named by its `[inputs.…]` key (and the project file).
fn project_files(project: &Project) -> Vec<(String, PathBuf)> {
    let mut files = vec![("the project file".to_string(), project.file.clone())];
    for spec in project.inputs.values() {
        files.push((format!("[inputs.{}]", spec.kind.key()), spec.path.clone()));
    }
    files
}

/// What can be checked before any input is read: the output folder does not
/// overlap the inputs, and the font is there when maps are on.
fn preflight(project: &Project, out_dir: &Path) -> Result<(), PipelineError> {
    let files = project_files(project);
    write::staging::refuse_overlap(
        out_dir,
        files.iter().map(|(what, path)| (what.as_str(), path.as_path())),
    )?;
    if project.maps.enabled {
        render::load_font(project.maps.font.as_deref())?;
    }
    Ok(())
}

/// `riskatlas run`: the whole pipeline into `out_dir`, as a transaction: the
/// outputs are written into a staging folder beside it and swapped in at the
/// end, so `out_dir` holds either the previous complete output or this one.
pub fn run(
    project: &Project,
    out_dir: &Path,
    progress: &Progress,
) -> Result<Outcome, PipelineError> {
    preflight(project, out_dir)?;
    let txn = write::staging::OutputTxn::begin(out_dir)?;
    let stage = txn.path().to_path_buf();
    let mut loaded = load_all(project, progress, |index| {
        grid::check_grid_budget(project, index).map_err(PipelineError::from)
    })?;
    print_summary(&loaded);
    let analysis = analyse(project, &mut loaded);
    let mut timings = std::mem::take(&mut loaded.timings);
    let mut grid = timings.stage("exposure_grid", || {
        exposure_grid(
            project,
            &loaded,
            &analysis,
            &stage.join("exposure.tif"),
            progress,
        )
    })?;
    let grid_summary = grid_summary(&grid);
    let grid_cells = grid.cells.take().expect("grid cells are pending");
    let results = Results {
        project,
        loaded: &loaded,
        analysis: &analysis,
        grid: &grid,
    };
    let map_files = maps::render_maps(results, grid_cells.codes()?, &stage, &mut timings)?;
    let (units_by_grade, lists) =
        write_layers_and_lists(results, grid_cells, &stage, progress, &mut timings)?;
    timings.stage("write_rejects", || {
        write::write_rejects(&stage.join("rejects.csv"), &loaded.ledger.rejects)
    })?;
    loaded.timings = timings;
    ensure_balanced(&loaded)?;
    let mut findings = findings(&loaded, &lists);
    findings["grid"] = grid_summary;
    findings["units_by_grade"] = units_by_grade;
    findings["maps"] = json!(map_files
        .iter()
        .filter_map(|p| p.strip_prefix(&stage).ok())
        .map(|p| p.to_string_lossy().into_owned())
        .collect::<Vec<_>>());
    let mut report = report(project, &loaded, Some(findings));
    let files = write::staging::manifest(&stage).map_err(|source| WriteError::Io {
        path: stage.clone(),
        source,
    })?;
    report["manifest"] = json!({
        "statement": "every file of this output folder, with its size in bytes; report.json itself is the one file not listed",
        "files": files.iter().map(|(path, bytes)| json!({ "path": path, "bytes": bytes })).collect::<Vec<_>>(),
    });
    write::write_json(&stage.join("report.json"), &report)?;
    txn.commit()?;
    Ok(outcome(&loaded, Some(out_dir.to_path_buf())))
}

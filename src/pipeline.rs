//! Runs the stages in order — [`crate::ingest`] (load, validate, join),
//! [`crate::analysis`] (GB 18218, grades, exposure), the grid, [`crate::maps`]
//! and [`crate::output`] — inside the output folder's transaction.
//!
//! Stages take typed inputs and return typed outputs; this module only wires
//! them together (the grid's bands are streamed to the GeoTIFF, the unit
//! statistics and the grid layer here), times them and keeps the accounting.

use std::path::{Path, PathBuf};

use serde_json::json;
use thiserror::Error;

use crate::analysis::aggregate::{self, GridStats, UnitRaster};
use crate::analysis::exposure::SourceIndex;
use crate::analysis::grid::{self, GridOutcome, TILE};
use crate::analysis::{analyse, Analysis};
use crate::ingest::config::Project;
use crate::ingest::{index_units, load_all, load_boundaries, IngestError, Loaded};
use crate::maps::{self, render};
use crate::model::Graded;
use crate::output::build::{spawn_lists, write_layers_and_lists, write_qgis_project};
use crate::output::cells::GridCells;
use crate::output::changes;
use crate::output::qgis;
use crate::output::report::{findings, grid_summary, print_summary, report};
use crate::output::write::{self, WriteError};
use crate::output::Results;
use crate::progress::Progress;

/// Why a `run`, `check` or `generate` stopped.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// An input could not be loaded, or the boundaries hold no usable unit.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// The exposure grid would not fit `exposure.grid_memory_mb`.
    #[error(transparent)]
    GridBudget(#[from] grid::GridBudgetError),
    /// An output file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A folder given to `compare` is not a readable riskatlas output.
    #[error(transparent)]
    CompareRead(#[from] crate::compare::read::ReadError),
    /// The comparison could not be made or written (the runs cannot be
    /// compared, or a file could not be read or written).
    #[error(transparent)]
    Changes(#[from] changes::ChangesError),
    /// `generate --evolve-from` was given a folder it cannot go on from.
    #[error("{}: {reason}", path.display())]
    Evolve {
        /// The recipe it looked for.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// `check --report` would write over one of the project's files.
    #[error("--report {}: writing {name} there would overwrite {what} {}", dir.display(), input.display())]
    ReportOverInput {
        /// The folder given to `--report`.
        dir: PathBuf,
        /// The file that would be written (`rejects.csv` or `report.json`).
        name: &'static str,
        /// Which of the project's files it is: the project file itself or an
        /// `[inputs.…]` key.
        what: String,
        /// That file, as an absolute path.
        input: PathBuf,
    },
    /// Some input's records do not add up (a bug: the run keeps no output).
    #[error("internal error: accepted + rejected != read for some input (see report.json)")]
    Unbalanced,
    /// A GDAL call on the grid's in-memory rasters failed.
    #[error("GDAL: {0}")]
    Gdal(#[from] gdal::errors::GdalError),
    /// A map could not be drawn or written, or the font is missing or unusable.
    #[error(transparent)]
    Render(#[from] render::RenderError),
    /// The output folder is in use, may not be replaced, or could not be
    /// staged or swapped in.
    #[error(transparent)]
    OutputFolder(#[from] write::staging::StagingError),
    /// Building the layers or lists failed.
    #[error(transparent)]
    Output(#[from] crate::output::build::OutputError),
}

/// The exposure grid: computed band by band into `exposure.tif`, the
/// per-unit cell statistics and the `exposure_grid` layer.
pub fn exposure_grid(
    project: &Project,
    loaded: &Loaded<Graded>,
    analysis: &Analysis,
    tif: &Path,
    progress: &Progress,
) -> Result<GridOutcome, PipelineError> {
    let cfg = &project.exposure;
    let metric = loaded.index.metric();
    let spec = grid::grid_spec(&loaded.index, project.cell_size_m);
    let sources = SourceIndex::new(&analysis.sources);
    let unit_raster = UnitRaster::new(&loaded.index, metric)?;
    let mut tiff = write::GeoTiff::create::<f32>(
        tif,
        (spec.cols, spec.rows),
        spec.geotransform(),
        metric.epsg,
        write::Band::EXPOSURE,
    )?;
    let mut stats = GridStats::new(loaded.index.units().len());
    let mut cells = GridCells::new(spec, cfg);
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
            cells.add_band(row0, rows, band, cfg);
            bar.inc(rows as u64);
            Ok(())
        },
    )?;
    bar.finish_and_clear();
    tiff.finish()?;
    // The ramp beside the raster, which QGIS loads with it.
    write::write_text(
        &tif.with_extension("qml"),
        &qgis::raster_qml(&cfg.thresholds),
    )?;
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

/// What a finished run tells the CLI.
#[derive(Debug)]
pub struct Outcome {
    /// Records read over all inputs.
    pub read: u64,
    /// Records accepted over all inputs.
    pub accepted: u64,
    /// Records rejected over all inputs; the CLI exits with 1 when there are any.
    pub rejected: u64,
    /// The folder the outputs (or the `check --report` files) went to, if any.
    pub out_dir: Option<PathBuf>,
}

fn outcome<E>(loaded: &Loaded<E>, out_dir: Option<PathBuf>) -> Outcome {
    let sum =
        |f: fn(&crate::ingest::validate::Counts) -> u64| loaded.ledger.counts.values().map(f).sum();
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
                    return Err(PipelineError::ReportOverInput {
                        dir: dir.to_path_buf(),
                        name,
                        what,
                        input,
                    });
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
    let outcome = outcome(&loaded, report_dir.map(Path::to_path_buf));
    drop_aside(loaded);
    Ok(outcome)
}

fn ensure_balanced<E>(loaded: &Loaded<E>) -> Result<(), PipelineError> {
    if loaded.ledger.balanced() {
        Ok(())
    } else {
        Err(PipelineError::Unbalanced)
    }
}

/// Options of `riskatlas generate`.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// The boundary file to generate for (GeoJSON, as read by the loader).
    pub boundaries: PathBuf,
    /// Folder the inputs and `project.toml` are written into.
    pub out: PathBuf,
    /// How to make the data set (seed, year, sizes, bad rows).
    pub recipe: crate::generate::Recipe,
    /// A folder of base layers to copy beside the data and name in the
    /// project file's `[basemap]`.
    pub basemap: Option<PathBuf>,
}

impl GenerateOptions {
    /// The next year, `year`, of the data set generated into `from`: its
    /// recipe and boundaries, one step further.
    pub fn evolve_from(
        from: &Path,
        year: i32,
        out: PathBuf,
    ) -> Result<GenerateOptions, PipelineError> {
        use crate::generate::files::{BASEMAP, BOUNDARIES, RECIPE};
        let path = from.join(RECIPE);
        let bad = |reason: String| PipelineError::Evolve {
            path: path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            bad(format!(
                "cannot be read ({e}); --evolve-from takes a folder written by `riskatlas generate`"
            ))
        })?;
        let mut recipe: crate::generate::Recipe =
            toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if year <= recipe.year() {
            return Err(bad(format!(
                "the data set is of {}: --year must be later (got {year})",
                recipe.year()
            )));
        }
        recipe.years.push(year);
        Ok(GenerateOptions {
            boundaries: from.join(BOUNDARIES),
            out,
            recipe,
            basemap: Some(from.join(BASEMAP)).filter(|d| d.is_dir()),
        })
    }
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
    let (data, changes) = opts.recipe.make(&index);
    Ok(crate::generate::files::write_all(
        &opts.out,
        (&opts.boundaries, opts.basemap.as_deref()),
        &opts.recipe,
        (&data, &changes),
        &area_name,
    )?)
}

/// Every file a project reads, named by its table (and the project file).
fn project_files(project: &Project) -> Vec<(String, PathBuf)> {
    let mut files = vec![("the project file".to_string(), project.file.clone())];
    for spec in project.inputs.values() {
        files.push((spec.kind.table().to_string(), spec.path.clone()));
    }
    files
}

/// What can be checked before any input is read: the output folder does not
/// overlap the inputs, and the font is there when maps are on.
fn preflight(project: &Project, out_dir: &Path) -> Result<(), PipelineError> {
    let files = project_files(project);
    write::staging::refuse_overlap(
        out_dir,
        files
            .iter()
            .map(|(what, path)| (what.as_str(), path.as_path())),
    )?;
    if project.maps.enabled {
        render::load_font(project.maps.font.as_deref())?;
    }
    if let Some(previous) = &project.previous {
        // The run replaces its folder: the earlier output must lie elsewhere.
        write::staging::refuse_overlap(out_dir, [("[compare] previous", previous.as_path())])?;
        crate::compare::read::read_report(previous)?;
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
    let loaded = load_all(project, progress, |index| {
        grid::check_grid_budget(project, index).map_err(PipelineError::from)
    })?;
    print_summary(&loaded);
    let (mut loaded, analysis) = analyse(project, loaded);
    let mut timings = std::mem::take(&mut loaded.timings);
    let (grid, map_files, written) = std::thread::scope(|scope| {
        // The lists need only the records and the analysis: written from
        // here on, beside the grid, the maps and the layers.
        let lists = spawn_lists(scope, project, &loaded, &analysis, &stage);
        let mut grid = timings.stage("exposure_grid", || {
            exposure_grid(
                project,
                &loaded,
                &analysis,
                &stage.join("exposure.tif"),
                progress,
            )
        })?;
        let grid_cells = grid.cells.take().expect("grid cells are pending");
        let results = Results {
            project,
            loaded: &loaded,
            analysis: &analysis,
            grid: &grid,
        };
        let map_files =
            maps::render_maps(results, grid_cells.codes().to_vec(), &stage, &mut timings)?;
        let written =
            write_layers_and_lists(results, grid_cells, lists, &stage, progress, &mut timings)?;
        timings.stage("write_qgis_project", || write_qgis_project(results, &stage))?;
        timings.stage("write_rejects", || {
            write::write_rejects(&stage.join("rejects.csv"), &loaded.ledger.rejects)
        })?;
        Ok::<_, PipelineError>((grid, map_files, written))
    })?;
    let grid_summary = grid_summary(&grid);
    loaded.timings = timings;
    ensure_balanced(&loaded)?;
    let mut findings = findings(&loaded, &written.lists);
    findings["grid"] = grid_summary;
    findings["units_by_grade"] = written.units_by_grade;
    if let Some(w) = &written.web {
        findings["web"] = json!({
            "tiles": w.tiles,
            "bytes": w.bytes,
            "features": w.features.iter().map(|(l, n)| (l.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
        });
    }
    findings["maps"] = json!(map_files
        .iter()
        .filter_map(|p| p.strip_prefix(&stage).ok())
        .map(|p| p.to_string_lossy().into_owned())
        .collect::<Vec<_>>());
    let mut report = report(project, &loaded, Some(findings));
    if let Some(previous) = &project.previous {
        let started = std::time::Instant::now();
        let comparison = compare_with_previous(project, previous, (out_dir, &stage), &report)?;
        report["timings_s"]["compare"] =
            json!((started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
        for line in changes::summary_lines(&comparison) {
            crate::note!("{line}");
        }
        report["comparison"] = comparison;
    }
    commit_with_report(txn, report)?;
    let outcome = outcome(&loaded, Some(out_dir.to_path_buf()));
    drop_aside((loaded, analysis, grid));
    Ok(outcome)
}

/// Writes `report.json`, with the manifest of every other file, into the
/// staging folder and swaps the folder into place.
fn commit_with_report(
    txn: write::staging::OutputTxn,
    mut report: serde_json::Value,
) -> Result<(), PipelineError> {
    let stage = txn.path().to_path_buf();
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
    Ok(())
}

/// `riskatlas compare`: what changed from the run in `old` to the run in
/// `new`, written into `out_dir` as a transaction (the change lists and
/// `report.json`); the summary lines are returned for stderr.
pub fn compare(
    old: &Path,
    new: &Path,
    out_dir: &Path,
    map_options: Option<&maps::render::MapOptions>,
) -> Result<Vec<String>, PipelineError> {
    use crate::compare::read::read_run;
    write::staging::refuse_overlap(
        out_dir,
        [("the older output", old), ("the newer output", new)],
    )?;
    if let Some(opts) = map_options {
        render::load_font(opts.font.as_deref())?;
    }
    // Two GeoPackages, each read by its own GDAL dataset: on two threads.
    let (old_run, new_run) = rayon::join(|| read_run(old), || read_run(new));
    let (old_run, new_run) = (old_run?, new_run?);
    let txn = write::staging::OutputTxn::begin(out_dir)?;
    let mut report = json!({ "tool": "riskatlas", "version": env!("CARGO_PKG_VERSION") });
    let comparison = changes::write_changes(&old_run, &new_run, txn.path(), map_options)?;
    let lines = changes::summary_lines(&comparison);
    for (k, v) in comparison.as_object().expect("an object") {
        report[k] = v.clone();
    }
    commit_with_report(txn, report)?;
    Ok(lines)
}

/// The run's comparison with `[compare] previous`, written into `stage/changes`.
fn compare_with_previous(
    project: &Project,
    previous: &Path,
    (out_dir, stage): (&Path, &Path),
    report: &serde_json::Value,
) -> Result<serde_json::Value, PipelineError> {
    use crate::compare::read::{read_run, read_run_from};
    let old_run = read_run(previous)?;
    let new_run = read_run_from(out_dir, report, stage)?;
    let opts = project
        .maps
        .enabled
        .then(|| maps::map_options(&project.maps));
    Ok(changes::write_changes(
        &old_run,
        &new_run,
        &stage.join(changes::CHANGES_DIR),
        opts.as_ref(),
    )?)
}

/// Drops the run's records on a thread of their own: freeing a province's
/// millions of small allocations takes about a second, which the CLI then
/// does not wait for (the process ends without it).
fn drop_aside<T: Send + 'static>(data: T) {
    // When no thread can be started, `spawn` drops the data itself.
    let _ = std::thread::Builder::new()
        .name("drop".into())
        .spawn(move || drop(data));
}

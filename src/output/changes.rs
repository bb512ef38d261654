//! The annual comparison's outputs: the change lists (CSV and
//! `变化清单.xlsx`), the change raster with its QGIS style, the change maps
//! and the comparison for `report.json`, written into a folder of the
//! output's transaction (the `compare` command's, or a run's `changes/`).

use std::path::Path;

use serde_json::json;
use thiserror::Error;

use crate::analysis::grid::TILE;
use crate::compare::{tables, Changes, Danger, Hazard, Kind, Run, Target, Unit};
use crate::maps;
use crate::model::Grade;
use crate::output::layers::{self, Layer, Row, Shape, Value};
use crate::output::qgis;
use crate::output::write::{self, WriteError};

/// Why a comparison could not be made or written.
#[derive(Debug, Error)]
pub enum ChangesError {
    /// The runs cannot be compared.
    #[error(transparent)]
    Refused(#[from] crate::compare::Refused),
    /// A run's file could not be read.
    #[error(transparent)]
    Read(#[from] crate::compare::read::ReadError),
    /// An output file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A change map could not be rendered.
    #[error(transparent)]
    Render(#[from] maps::render::RenderError),
}

/// The folder of a run's comparison with `[compare] previous`.
pub const CHANGES_DIR: &str = "changes";

/// Compares two runs (refusing runs that cannot be) and writes the change
/// lists into `dir/lists`; gives the comparison for `report.json`.
pub fn write_changes(
    old_run: &crate::compare::Run,
    new_run: &crate::compare::Run,
    dir: &Path,
    map_options: Option<&maps::render::MapOptions>,
) -> Result<serde_json::Value, ChangesError> {
    use crate::compare::{self as cmp, tables};
    cmp::comparable(old_run, new_run)?;
    let mut changes = cmp::compare(old_run, new_run);
    let lists = dir.join("lists");
    std::fs::create_dir_all(&lists).map_err(|source| WriteError::Io {
        path: lists.clone(),
        source,
    })?;
    let mut summary = tables::summary(&changes);
    let (tally, grid) = change_raster(old_run, new_run, &dir.join(CHANGE_RASTER))?;
    let map_files = match map_options {
        Some(opts) => {
            let data = maps::compare::change_map_data(&changes, grid);
            maps::render::change::render_change_maps(&data, opts, &dir.join("maps"))?
        }
        None => Vec::new(),
    };
    summary["grid_cells"] = json!({
        "statement": "cells of the newer grid by the change of their grade level (none and blue 0, yellow 1, orange 2, red 3), each year by its own thresholds; cells without exposure in either year are not counted",
        "up": tally.up(),
        "down": tally.down(),
        "by_step": tally.to_json(),
    });
    if let Some(lines) = summary["lines"].as_array_mut() {
        lines.push(json!(format!(
            "网格 升级 {} 格, 降级 {} 格 ({})",
            tally.up(),
            tally.down(),
            CHANGE_RASTER
        )));
    }
    let tables = tables::tables(&mut changes);
    let stamp = format!("{}T00:00:00.000Z", new_run.data_date);
    write_layers(&changes, dir, &stamp)?;
    let date = crate::model::Date {
        year: new_run.year as i32,
        month: 12,
        day: 31,
    };
    let mut book = write::ListsWorkbook::new(&lists.join(tables::WORKBOOK), date)?;
    for table in &tables {
        write::write_list_csv(&lists.join(format!("{}.csv", table.name)), table)?;
        book.add(table)?;
    }
    book.save()?;
    let side =
        |run: &cmp::Run| json!({ "folder": run.dir.display().to_string(), "year": run.year });
    Ok(json!({
        "comparison": { "old": side(old_run), "new": side(new_run) },
        "matched_by": "enterprises by id (统一社会信用代码), hazard units, hidden dangers and vulnerable targets by id, units by code",
        "summary": summary,
        "lists": tables.iter().map(|t| (t.name.to_string(), json!(t.rows.len()))).collect::<serde_json::Map<_, _>>(),
        "maps": map_files.iter().filter_map(|p| p.strip_prefix(dir).ok()).map(|p| p.to_string_lossy().into_owned()).collect::<Vec<_>>(),
    }))
}

/// The change raster beside the change lists.
pub const CHANGE_RASTER: &str = "exposure_change.tif";

/// Writes the change of each cell's grade level (−3 … +3) over the newer
/// run's grid as a COG, a band of rows at a time; gives the count of each
/// change and the cells' change codes for the maps.
fn change_raster(
    old_run: &crate::compare::Run,
    new_run: &crate::compare::Run,
    path: &Path,
) -> Result<(crate::compare::grid::Tally, maps::render::GradeGrid), ChangesError> {
    use crate::compare::grid::{cell_change, offset, Tally, NODATA};
    use crate::compare::read::ExposureRaster;
    let (old, new) = (
        ExposureRaster::open(&old_run.exposure)?,
        ExposureRaster::open(&new_run.exposure)?,
    );
    let (dx, dy) = offset(&old.geotransform, &new.geotransform);
    let (cols, rows) = new.size;
    let band = write::Band {
        description: "风险等级变化",
        nodata: f64::from(NODATA),
        resampling: "MODE",
    };
    let mut tiff =
        write::GeoTiff::create::<i16>(path, new.size, new.geotransform, new_run.grid.epsg, band)?;
    let thresholds = (&old_run.thresholds, &new_run.thresholds);
    let mut tally = Tally::default();
    let mut codes = Vec::with_capacity(cols * rows);
    for row0 in (0..rows).step_by(TILE) {
        let n = TILE.min(rows - row0);
        let now = new.read((0, row0), (cols, n))?;
        // The older grid's part of these rows, when it has one.
        let (oc0, oc1) = ((dx).max(0), (cols as i64 + dx).min(old.size.0 as i64));
        let (or0, or1) = (
            (row0 as i64 + dy).max(0),
            (row0 as i64 + n as i64 + dy).min(old.size.1 as i64),
        );
        let before = if oc0 < oc1 && or0 < or1 {
            let size = ((oc1 - oc0) as usize, (or1 - or0) as usize);
            Some((old.read((oc0 as usize, or0 as usize), size)?, size.0))
        } else {
            None
        };
        let at_old = |r: usize, c: usize| -> Option<f32> {
            let (oc, or) = (c as i64 + dx, (row0 + r) as i64 + dy);
            let (values, width) = before.as_ref()?;
            ((oc0..oc1).contains(&oc) && (or0..or1).contains(&or))
                .then(|| values[(or - or0) as usize * width + (oc - oc0) as usize])
        };
        let changes: Vec<i16> = (0..n * cols)
            .map(|k| cell_change(at_old(k / cols, k % cols), Some(now[k]), thresholds))
            .collect();
        tally.add(&changes);
        codes.extend(changes.iter().map(|&c| maps::render::change::step_code(c)));
        tiff.write_rows(row0, n, changes)?;
    }
    tiff.finish()?;
    // Its palette beside it, which QGIS loads with it.
    write::write_text(&path.with_extension("qml"), &qgis::change_raster_qml())?;
    let gt = new.geotransform;
    let spec = crate::analysis::exposure::GridSpec {
        x0: gt[0],
        y0: gt[3],
        cell: gt[1],
        cols,
        rows,
    };
    Ok((tally, maps::render::GradeGrid { spec, codes }))
}

/// The summary's lines, for stderr.
pub fn summary_lines(comparison: &serde_json::Value) -> Vec<String> {
    comparison["summary"]["lines"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Writes the change layers, in the lists' order: a GeoJSON file each in
/// `dir/geojson` and together in `dir/changes.gpkg` (with their QGIS styles).
fn write_layers(changes: &Changes, dir: &Path, stamp: &str) -> Result<(), WriteError> {
    let mut gpkg = write::gpkg::GpkgWriter::create(&dir.join(CHANGES_GPKG), stamp)?;
    for layer in Layer::CHANGES {
        let rows = change_rows(changes, layer);
        let def = layers::def(layer);
        let mut geojson =
            write::GeoJsonWriter::create(&dir.join(format!("geojson/{layer}.geojson")), def)?;
        geojson.write_rows(&rows)?;
        geojson.finish()?;
        let mut open = gpkg.begin_layer(def)?;
        gpkg.add_rows(&mut open, &rows)?;
        gpkg.end_layer(open)?;
    }
    gpkg.finish()
}

/// The GeoPackage of the change layers.
pub const CHANGES_GPKG: &str = "changes.gpkg";

fn point(at: (f64, f64)) -> Shape {
    Shape::Point(geo::Point::new(at.0, at.1))
}

fn text(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::Str(s.to_string())
    }
}

fn grade(g: Option<Grade>) -> Value {
    g.map(|g| g.as_str().to_string()).into()
}

fn real(x: Option<f64>) -> Value {
    x.map(layers::round4).into()
}

/// The rows of one change layer.
fn change_rows(changes: &Changes, layer: Layer) -> Vec<Row> {
    let (old, new) = (changes.old, changes.new);
    match layer {
        Layer::EnterpriseChanges => changes
            .enterprises
            .iter()
            .map(|c| {
                let e = c.latest();
                layers::row_of(
                    layer,
                    point(e.at),
                    [
                        ("change", text(c.kind.key())),
                        ("id", text(c.id)),
                        ("name", text(&e.name)),
                        ("district", text(&e.place)),
                        ("old_grade", grade(c.old.and_then(|e| e.grade))),
                        ("new_grade", grade(c.new.and_then(|e| e.grade))),
                        ("old_reason", c.old.map_or(Value::Null, |e| text(&e.reason))),
                        ("new_reason", c.new.map_or(Value::Null, |e| text(&e.reason))),
                    ],
                )
            })
            .collect(),
        Layer::HazardSourceChanges => changes
            .hazards
            .iter()
            .map(|c| {
                let h = c.latest();
                let level = |h: Option<&Hazard>| h.and_then(|h| h.grade).map(i64::from).into();
                layers::row_of(
                    layer,
                    point(h.at),
                    [
                        ("change", text(c.kind.key())),
                        ("id", text(c.id)),
                        ("name", text(&h.name)),
                        ("enterprise_name", text(&h.enterprise)),
                        ("district", text(&h.place)),
                        ("old_s", real(c.old.and_then(|h| h.s))),
                        ("new_s", real(c.new.and_then(|h| h.s))),
                        ("old_r", real(c.old.and_then(|h| h.r))),
                        ("new_r", real(c.new.and_then(|h| h.r))),
                        ("old_grade", level(c.old)),
                        ("new_grade", level(c.new)),
                        ("note", text(tables::hazard_note(c))),
                    ],
                )
            })
            .collect(),
        Layer::HiddenDangerChanges => changes
            .dangers
            .iter()
            .map(|c| {
                let d = c.latest();
                let status = |d: Option<&Danger>| {
                    d.map_or(Value::Null, |d| {
                        text(if d.open { "open" } else { "rectified" })
                    })
                };
                layers::row_of(
                    layer,
                    point(d.at),
                    [
                        ("change", text(tables::danger_key(c.kind))),
                        ("id", text(c.id)),
                        ("description", text(&d.description)),
                        ("level", text(if d.major { "major" } else { "general" })),
                        ("enterprise_id", text(&d.enterprise_id)),
                        ("district", text(&d.place)),
                        ("old_status", status(c.old)),
                        ("new_status", status(c.new)),
                        ("due_date", text(&d.due)),
                    ],
                )
            })
            .collect(),
        Layer::VulnerableTargetChanges => changes
            .targets
            .iter()
            .map(|c| {
                let t = c.latest();
                let graded = |run: &Run, t: Option<&Target>| {
                    grade(t.and_then(|t| run.thresholds.grade(t.exposure)))
                };
                layers::row_of(
                    layer,
                    point(t.at),
                    [
                        ("change", text(c.kind.key())),
                        ("id", text(c.id)),
                        ("name", text(&t.name)),
                        ("kind", text(&t.kind)),
                        ("district", text(&t.place)),
                        ("old_exposure", real(c.old.map(|t| t.exposure))),
                        ("new_exposure", real(c.new.map(|t| t.exposure))),
                        ("old_grade", graded(old, c.old)),
                        ("new_grade", graded(new, c.new)),
                    ],
                )
            })
            .collect(),
        Layer::AdminUnitChanges => unit_rows(changes),
        run_layer => unreachable!("{run_layer} is a run's layer, not the comparison's"),
    }
}

/// Every unit of either run, changed ones first, with its grades and shares.
fn unit_rows(changes: &Changes) -> Vec<Row> {
    tables::unit_order(changes)
        .into_iter()
        .map(|(code, kind)| {
            let (o, n) = (changes.old.units.get(code), changes.new.units.get(code));
            let u: &Unit = n.or(o).expect("a unit of either run");
            let share = |u: Option<&Unit>, i: usize| u.map(|u| u.shares[i]).into();
            layers::row_of(
                Layer::AdminUnitChanges,
                Shape::MultiPolygon(u.boundary.clone()),
                [
                    ("change", text(kind.map_or("same", Kind::key))),
                    ("code", text(code)),
                    ("name", text(&u.name)),
                    ("level", text(u.level.map_or("", |l| l.as_str()))),
                    ("old_grade", grade(o.and_then(|u| u.grade))),
                    ("new_grade", grade(n.and_then(|u| u.grade))),
                    ("old_share_red", share(o, 0)),
                    ("new_share_red", share(n, 0)),
                    ("old_share_orange", share(o, 1)),
                    ("new_share_orange", share(n, 1)),
                    ("old_share_yellow", share(o, 2)),
                    ("new_share_yellow", share(n, 2)),
                ],
            )
        })
        .collect()
}

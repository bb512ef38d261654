//! `report.json` and the run's summary on stderr: the accounting of every
//! input, the repairs, the CRS, the join rule, the findings, the parameters
//! and the wall time of each stage.

use std::collections::BTreeMap;

use serde_json::json;

use crate::analysis::grid::GridOutcome;
use crate::ingest::config::{InputKind, Project};
use crate::ingest::validate::Counts;
use crate::ingest::Loaded;
use crate::model::{Grade, Graded};
use crate::output::layers::{self, LayerDef};
use crate::output::lists::ListCount;

/// The grid's size and cell counts, for `report.json`.
pub fn grid_summary(grid: &GridOutcome) -> serde_json::Value {
    let s = &grid.spec;
    json!({
        "cols": s.cols, "rows": s.rows, "cells": s.cells(), "cell_size_m": s.cell,
        "origin": { "west": s.x0, "north": s.y0 },
        "cells_by_grade": {
            "red": grid.stats.grid_by_grade[0], "orange": grid.stats.grid_by_grade[1],
            "yellow": grid.stats.grid_by_grade[2], "blue": grid.stats.grid_by_grade[3],
        },
        "exposure_grid_layer": if grid.merged { "cells merged per grade" } else { "single cells" },
    })
}

/// Administrative units per area grade, by level, from the `admin_units` layer.
pub fn units_by_grade_of(def: &LayerDef, rows: &[layers::Row]) -> serde_json::Value {
    let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let col = |name: &str| {
        def.fields
            .iter()
            .position(|f| f.name == name)
            .expect("catalogue field")
    };
    let (level, grade) = (col("level"), col("grade"));
    for row in rows {
        if let (layers::Value::Str(l), layers::Value::Str(g)) =
            (&row.values[level], &row.values[grade])
        {
            *out.entry(l.clone())
                .or_default()
                .entry(g.clone())
                .or_default() += 1;
        }
    }
    json!(out)
}

/// Counts by grade and by kind of finding, for `report.json`.
pub fn findings(loaded: &Loaded<Graded>, lists: &[ListCount]) -> serde_json::Value {
    let mut by_grade = serde_json::Map::new();
    for g in Grade::DESCENDING {
        let n = loaded.enterprises.iter().filter(|e| e.grade() == g).count();
        by_grade.insert(g.as_str().to_string(), json!(n));
    }
    let derived = loaded
        .enterprises
        .iter()
        .filter(|e| e.rating.source == crate::model::GradeSource::Derived)
        .count();
    let mut major_by_grade = serde_json::Map::new();
    for g in 1..=4u8 {
        major_by_grade.insert(
            g.to_string(),
            json!(loaded
                .hazard_units
                .iter()
                .filter(|u| u.major_grade() == Some(g))
                .count()),
        );
    }
    let assessments = || {
        loaded
            .hazard_units
            .iter()
            .filter_map(|u| u.assessment.as_ref())
    };
    let major_dangers = || {
        loaded
            .hidden_dangers
            .iter()
            .filter(|d| d.level == crate::model::DangerLevel::Major)
    };
    json!({
        "enterprises_by_grade": by_grade,
        "enterprise_grade_source": { "assessed": loaded.enterprises.len() - derived, "derived": derived },
        "major_hazard_sources_by_grade": major_by_grade,
        "hazard_units": {
            "assessed": assessments().count(),
            "major": assessments().filter(|a| a.is_major).count(),
            "incomplete_inventory": loaded.hazard_units.iter().filter(|u| u.incomplete).count(),
            "beta_assumed": assessments().filter(|a| a.any_beta_assumed()).count(),
            "alpha_estimated": assessments().filter(|a| a.alpha_source == crate::model::AlphaSource::Estimated).count(),
        },
        "hidden_dangers": {
            "major": major_dangers().count(),
            "open_major": major_dangers().filter(|d| d.status.is_open()).count(),
            "overdue_major": major_dangers().filter(|d| d.overdue).count(),
        },
        "ambiguous_match": ambiguous_matches(loaded),
        "lists": lists.iter().map(|(name, rows)| (name.to_string(), json!(rows))).collect::<serde_json::Map<_, _>>(),
    })
}

/// Every inventory line for which a choice between GB 18218 rows was made
/// (the conservative row taken), with its unit, row and reason.
fn ambiguous_matches(loaded: &Loaded<Graded>) -> serde_json::Value {
    let lines: Vec<serde_json::Value> = loaded
        .hazard_units
        .iter()
        .filter_map(|u| Some((u, u.assessment.as_ref()?)))
        .flat_map(|(u, a)| {
            a.shares.iter().filter_map(move |c| {
                let choice = c.resolved.choice.as_ref()?;
                Some(json!({
                    "unit": u.id,
                    "chemical": c.name,
                    "row": c.resolved.q_source,
                    "row_name": c.resolved.row_name,
                    "choice": choice,
                }))
            })
        })
        .collect();
    json!({
        "statement": "inventory lines whose GB 18218 row was a choice (the conservative row was taken); give the qualifier (content, concentration) or the category to settle them",
        "units": loaded.hazard_units.iter().filter(|u| u.assessment.as_ref().is_some_and(|a| a.ambiguous_match())).count(),
        "lines": lines,
    })
}

/// The accounting and parameters of a run, as `report.json` holds them.
pub fn report<E>(
    project: &Project,
    loaded: &Loaded<E>,
    findings: Option<serde_json::Value>,
) -> serde_json::Value {
    let inputs: serde_json::Map<String, serde_json::Value> = loaded
        .ledger
        .counts
        .iter()
        .map(|(kind, c)| {
            (
                kind.key().to_string(),
                input_report(project, loaded, *kind, c),
            )
        })
        .collect();
    let balanced = loaded.ledger.balanced();
    let metric = loaded.index.metric();
    json!({
        "tool": "riskatlas",
        "version": env!("CARGO_PKG_VERSION"),
        "title": project.title,
        "year": project.year,
        "data_date": project.data_date,
        "accounting": {
            "balanced": balanced,
            "statement": if balanced {
                "for every input, accepted + rejected == read: every record is in the outputs or in rejects.csv"
            } else {
                "ACCOUNTING ERROR: for some input, accepted + rejected != read"
            },
            "read": loaded.ledger.counts.values().map(|c| c.read).sum::<u64>(),
            "accepted": loaded.ledger.counts.values().map(|c| c.accepted).sum::<u64>(),
            "rejected": loaded.ledger.counts.values().map(|c| c.rejected).sum::<u64>(),
        },
        "inputs": inputs,
        "repairs": loaded.ledger.repairs,
        "crs": {
            "output": "EPSG:4326 (WGS 84 longitude/latitude)",
            "metric": { "epsg": metric.epsg, "name": metric.name, "central_meridian": metric.central_meridian },
        },
        "join": {
            "level": loaded.index.finest_level().as_str(),
            "boundary_rule": "a point strictly inside a unit belongs to it; a point on a boundary goes to the unit with the smallest code among those containing it",
        },
        "findings": findings,
        "parameters": parameters(project),
        "timings_s": loaded.timings.0.iter().map(|(k, v)| (k.clone(), json!((v * 1000.0).round() / 1000.0))).collect::<serde_json::Map<_, _>>(),
        "memory_kib": memory(),
    })
}

/// The process's memory peak so far and at the end of each stage, as
/// [`crate::progress::memory_marks`] noted them (empty where `/proc` does not tell).
fn memory() -> serde_json::Value {
    json!({
        "statement": "the process's peak resident memory (VmHWM, KiB) so far when report.json was made, and when each stage ended, in the order the stages ended; stages run side by side, so a stage's figure is the peak up to its end, not its own; the kernel counts lazily, to a few hundred KiB",
        "peak": crate::progress::peak_memory_kib(),
        "after_stage": crate::progress::memory_marks().into_iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
    })
}

/// One input's file, driver, CRS and accounting, for `report.json`.
fn input_report<E>(
    project: &Project,
    loaded: &Loaded<E>,
    kind: InputKind,
    c: &Counts,
) -> serde_json::Value {
    let spec = &project.inputs[&kind];
    let summary = loaded.summaries.get(&kind);
    let mut by_code = std::collections::BTreeMap::<&str, u64>::new();
    for r in loaded.ledger.rejects.iter().filter(|r| r.kind == kind) {
        *by_code.entry(r.code.as_str()).or_default() += 1;
    }
    json!({
        "file": spec.display_path,
        "layer": summary.map(|s| s.layer.clone()),
        "driver": summary.map(|s| s.driver.gdal_name()),
        "crs": summary.map(|s| s.crs.to_string()),
        "encoding": spec.encoding,
        "read": c.read,
        "accepted": c.accepted,
        "rejected": c.rejected,
        "balanced": c.balanced(),
        "rejected_by_reason": by_code,
        "lines": summary.and_then(|s| s.lines),
        "warnings": summary.map(|s| s.warnings.clone()).unwrap_or_default(),
    })
}

/// The run's parameters (grid, grading rules, default radii), for `report.json`.
fn parameters(project: &Project) -> serde_json::Value {
    json!({
        "cell_size_m": project.cell_size_m,
        "as_of": project.as_of.to_string(),
        "grading": {
            "policy": "these rules are local policy, not national standard",
            "unassessed": project.grading.unassessed.as_str(),
            "rules": project.grading.rules.iter().map(|r| json!({
                "id": r.id, "when": format!("{:?}", r.when), "hazard_grades": r.hazard_grades,
                "raise_to": r.raise_to.as_str(), "enabled": r.enabled,
            })).collect::<Vec<_>>(),
        },
        "default_radius_m": {
            "red": project.exposure.default_radius_m.red, "orange": project.exposure.default_radius_m.orange,
            "yellow": project.exposure.default_radius_m.yellow, "blue": project.exposure.default_radius_m.blue,
        },
        "exposure_thresholds": project.exposure.thresholds,
        "coverage": {
            "policy": "these reaches are local policy, not national standard",
            "detour_factor": project.coverage.detour_factor,
            "within_m": crate::model::ResourceKind::ALL.iter().map(|k| (k.as_str().to_string(), json!(project.coverage.within_m.get(*k)))).collect::<serde_json::Map<_, _>>(),
            "required": project.coverage.required.as_ref().map(|ks| ks.iter().map(|k| k.as_str()).collect::<Vec<_>>()),
        },
        "parks": {
            "policy": "the park grade is local policy, not national standard",
            "around_m": project.parks.around_m,
            "r_sum": { "red": project.parks.r_sum_red, "orange": project.parks.r_sum_orange, "yellow": project.parks.r_sum_yellow },
        },
    })
}

/// Prints the per-input accounting and the first rejects to stderr.
pub fn print_summary<E>(loaded: &Loaded<E>) {
    crate::note!(
        "{:<20} {:>9} {:>9} {:>9}",
        "input",
        "read",
        "accepted",
        "rejected"
    );
    for (kind, c) in &loaded.ledger.counts {
        crate::note!(
            "{:<20} {:>9} {:>9} {:>9}",
            kind.key(),
            c.read,
            c.accepted,
            c.rejected
        );
    }
    for r in loaded.ledger.rejects.iter().take(20) {
        let layer = r
            .source
            .layer
            .as_deref()
            .map(|l| format!(" [{l}]"))
            .unwrap_or_default();
        let id =
            r.id.as_deref()
                .map(|i| format!(" id {i}:"))
                .unwrap_or_default();
        crate::note!(
            "rejected: {}{layer}: row {}:{id} {}",
            r.source.file,
            r.source.row,
            r.reason
        );
    }
    if loaded.ledger.rejects.len() > 20 {
        crate::note!("… and {} more rejects", loaded.ledger.rejects.len() - 20);
    }
    for r in &loaded.ledger.repairs {
        crate::note!(
            "repaired: {}: row {}: id {}: {}",
            r.file,
            r.row,
            r.id,
            r.what
        );
    }
}

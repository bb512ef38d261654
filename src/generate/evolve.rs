//! The next year of a synthetic data set, with every change it makes
//! recorded, so that a comparison of the two years' runs can be checked
//! against what is known to have changed.
//!
//! A year on: some enterprises close (their hazard units and hidden dangers
//! go with them) and some open near others; some self-assessed grades move a
//! step; some inventories grow or shrink and a few hazard units are added or
//! taken out of service; most open hidden dangers are rectified, the rest
//! stay open past their deadline, last year's closed ones are archived and
//! the year's new findings take their place; a few targets are added or
//! removed and some populations change.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{jitter, round_t, trade_name, GenDanger, GenEnterprise, GenTarget, GenUnit, Synthetic};
use crate::analysis::join::AdminIndex;
use crate::model::Grade;

/// Share of enterprises that close in a year.
const CLOSE: f64 = 0.03;
/// New enterprises in a year, as a share of last year's.
const OPEN: f64 = 0.04;
/// Share of the remaining enterprises whose self-assessed grade moves a step.
const REGRADE: f64 = 0.08;
/// Share of the remaining hazard units whose inventory changes.
const REINVENTORY: f64 = 0.06;
/// Share of the remaining hazard units taken out of service.
const RETIRE: f64 = 0.01;
/// New hazard units, as a share of last year's.
const ADD_UNITS: f64 = 0.02;
/// Share of the open hidden dangers rectified during the year.
const RECTIFY: f64 = 0.6;
/// Share of targets removed, added, and whose population changes.
const TARGETS_GONE: f64 = 0.01;
const TARGETS_NEW: f64 = 0.02;
const TARGETS_POPULATION: f64 = 0.05;

/// One change the evolution made, as `evolution.csv` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `enterprise`, `hazard_unit`, `hidden_danger` or `target`.
    pub kind: &'static str,
    /// The record's id.
    pub id: String,
    /// What happened: `opened`, `closed`, `assessed_grade`, `inventory`,
    /// `added`, `retired`, `gone_with_enterprise`, `rectified`, `still_open`,
    /// `archived`, `found`, `population`, `removed`.
    pub change: &'static str,
    /// The value before, where the change has one.
    pub old: String,
    /// The value after, where the change has one.
    pub new: String,
}

impl Change {
    fn new(kind: &'static str, id: &str, change: &'static str) -> Change {
        Change {
            kind,
            id: id.to_string(),
            change,
            old: String::new(),
            new: String::new(),
        }
    }

    fn values(mut self, old: impl ToString, new: impl ToString) -> Change {
        self.old = old.to_string();
        self.new = new.to_string();
        self
    }
}

/// The seed of the step to `year` of a data set seeded `seed`.
fn step_seed(seed: u64, year: i32) -> u64 {
    seed ^ (year as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// `prev` a year on, as of `year`, and what changed.
pub fn evolve(
    prev: &Synthetic,
    index: &AdminIndex,
    seed: u64,
    year: i32,
) -> (Synthetic, Vec<Change>) {
    let mut rng = ChaCha8Rng::seed_from_u64(step_seed(seed, year));
    let mut log = Vec::new();
    let enterprises = evolve_enterprises(&mut rng, index, prev, &mut log);
    let open: std::collections::HashSet<&str> = enterprises.iter().map(|e| e.id.as_str()).collect();
    let units = evolve_units(&mut rng, index, prev, &enterprises, &open, &mut log);
    let dangers = evolve_dangers(&mut rng, index, prev, &enterprises, &open, year, &mut log);
    let targets = evolve_targets(&mut rng, index, prev, &mut log);
    let next = Synthetic {
        enterprises,
        units,
        dangers,
        targets,
        // Resources and parks stay from year to year.
        resources: prev.resources.clone(),
        parks: prev.parks.clone(),
    };
    (next, log)
}

/// The largest number in the ids (after `prefix_len` characters, up to a
/// non-digit), so new ids continue the series.
fn last_number<'a>(ids: impl Iterator<Item = &'a str>, prefix_len: usize) -> usize {
    ids.filter_map(|id| {
        let digits: String = id
            .chars()
            .skip(prefix_len)
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    })
    .max()
    .unwrap_or(0)
}

fn step_grade(rng: &mut ChaCha8Rng, g: Option<Grade>) -> Option<Grade> {
    const ORDER: [Grade; 4] = [Grade::Blue, Grade::Yellow, Grade::Orange, Grade::Red];
    match g {
        // A first self-assessment: mostly low.
        None if rng.gen_bool(0.6) => Some(Grade::Blue),
        None => Some(Grade::Yellow),
        Some(g) => {
            let i = ORDER.iter().position(|&o| o == g).expect("four grades");
            let j = match i {
                0 => 1,
                3 => 2,
                _ if rng.gen_bool(0.5) => i + 1,
                _ => i - 1,
            };
            Some(ORDER[j])
        }
    }
}

fn grade_text(g: Option<Grade>) -> &'static str {
    g.map_or("", Grade::as_str)
}

fn evolve_enterprises(
    rng: &mut ChaCha8Rng,
    index: &AdminIndex,
    prev: &Synthetic,
    log: &mut Vec<Change>,
) -> Vec<GenEnterprise> {
    let mut next = Vec::with_capacity(prev.enterprises.len());
    for e in &prev.enterprises {
        if rng.gen_bool(CLOSE) {
            log.push(Change::new("enterprise", &e.id, "closed"));
            continue;
        }
        let mut e = e.clone();
        if rng.gen_bool(REGRADE) {
            let grade = step_grade(rng, e.grade);
            log.push(
                Change::new("enterprise", &e.id, "assessed_grade")
                    .values(grade_text(e.grade), grade_text(grade)),
            );
            e.grade = grade;
        }
        next.push(e);
    }
    // The enterprise number sits after `91`, six digits of the unit's code and `MA`.
    let mut number = last_number(prev.enterprises.iter().map(|e| e.id.as_str()), 10);
    let opened = (prev.enterprises.len() as f64 * OPEN).round() as usize;
    for _ in 0..opened.min(prev.enterprises.len()) {
        let beside = &prev.enterprises[rng.gen_range(0..prev.enterprises.len())];
        number += 1;
        let e = GenEnterprise {
            id: format!(
                "{}{:07}{}",
                &beside.id[..10],
                number,
                (b'A' + (number % 26) as u8) as char
            ),
            name: format!(
                "{}{}{}有限公司",
                beside.name.chars().take(2).collect::<String>(),
                trade_name(rng),
                super::industry_word(beside.industry)
            ),
            industry: beside.industry,
            address: beside.address.clone(),
            grade: None,
            people_500m: None,
            lon_lat: jitter(rng, index, beside.lon_lat, 400.0),
        };
        log.push(Change::new("enterprise", &e.id, "opened"));
        next.push(e);
    }
    next
}

fn evolve_units(
    rng: &mut ChaCha8Rng,
    index: &AdminIndex,
    prev: &Synthetic,
    enterprises: &[GenEnterprise],
    open: &std::collections::HashSet<&str>,
    log: &mut Vec<Change>,
) -> Vec<GenUnit> {
    let mut next = Vec::with_capacity(prev.units.len());
    for u in &prev.units {
        if !open.contains(u.enterprise_id.as_str()) {
            log.push(Change::new("hazard_unit", &u.id, "gone_with_enterprise"));
            continue;
        }
        if rng.gen_bool(RETIRE) {
            log.push(Change::new("hazard_unit", &u.id, "retired"));
            continue;
        }
        let mut u = u.clone();
        if rng.gen_bool(REINVENTORY) {
            let before = inventory_text(&u);
            for c in &mut u.chemicals {
                c.quantity_t = round_t(c.quantity_t * rng.gen_range(0.3..3.0));
            }
            log.push(
                Change::new("hazard_unit", &u.id, "inventory").values(before, inventory_text(&u)),
            );
        }
        next.push(u);
    }
    let owners: Vec<&GenEnterprise> = {
        let with_units: std::collections::HashSet<&str> =
            next.iter().map(|u| u.enterprise_id.as_str()).collect();
        enterprises
            .iter()
            .filter(|e| with_units.contains(e.id.as_str()))
            .collect()
    };
    let mut number = last_number(prev.units.iter().map(|u| u.id.as_str()), 2);
    let added = (prev.units.len() as f64 * ADD_UNITS).round() as usize;
    for _ in 0..added.min(owners.len()) {
        let e = owners[rng.gen_range(0..owners.len())];
        let template = &prev.units[rng.gen_range(0..prev.units.len())];
        number += 1;
        let u = GenUnit {
            id: format!("HU{number:06}"),
            enterprise_id: e.id.clone(),
            name: format!("新建{}", template.kind),
            kind: template.kind,
            lon_lat: Some(jitter(rng, index, e.lon_lat, 120.0)),
            radius_m: None,
            people_500m: None,
            chemicals: template.chemicals.clone(),
        };
        log.push(Change::new("hazard_unit", &u.id, "added"));
        next.push(u);
    }
    next
}

/// A unit's inventory as `name quantity t; …`.
fn inventory_text(u: &GenUnit) -> String {
    u.chemicals
        .iter()
        .map(|c| format!("{} {} t", c.name, c.quantity_t))
        .collect::<Vec<_>>()
        .join("; ")
}

fn is_open(status: &str) -> bool {
    matches!(status, "未整改" | "整改中")
}

#[allow(clippy::too_many_arguments)]
fn evolve_dangers(
    rng: &mut ChaCha8Rng,
    index: &AdminIndex,
    prev: &Synthetic,
    enterprises: &[GenEnterprise],
    open: &std::collections::HashSet<&str>,
    year: i32,
    log: &mut Vec<Change>,
) -> Vec<GenDanger> {
    let mut next = Vec::with_capacity(prev.dangers.len());
    let mut archived = 0;
    for d in &prev.dangers {
        if d.enterprise_id
            .as_deref()
            .is_some_and(|e| !open.contains(e))
        {
            log.push(Change::new("hidden_danger", &d.id, "gone_with_enterprise"));
            continue;
        }
        if !is_open(d.status) {
            archived += 1;
            log.push(Change::new("hidden_danger", &d.id, "archived"));
            continue;
        }
        let mut d = d.clone();
        if rng.gen_bool(RECTIFY) {
            log.push(Change::new("hidden_danger", &d.id, "rectified").values(d.status, "已整改"));
            d.status = "已整改";
        } else {
            log.push(Change::new("hidden_danger", &d.id, "still_open").values(d.status, d.status));
        }
        next.push(d);
    }
    for k in 0..archived {
        let e = (!rng.gen_bool(0.15)).then(|| &enterprises[rng.gen_range(0..enterprises.len())]);
        let lon_lat = match e {
            Some(e) => Some(jitter(rng, index, e.lon_lat, 60.0)),
            None => {
                let t = &prev.targets[rng.gen_range(0..prev.targets.len())];
                Some(jitter(rng, index, t.lon_lat, 200.0))
            }
        };
        let d = super::danger(rng, (year, k + 1), e.map(|e| e.id.clone()), lon_lat);
        log.push(Change::new("hidden_danger", &d.id, "found"));
        next.push(d);
    }
    next
}

fn evolve_targets(
    rng: &mut ChaCha8Rng,
    index: &AdminIndex,
    prev: &Synthetic,
    log: &mut Vec<Change>,
) -> Vec<GenTarget> {
    let mut next = Vec::with_capacity(prev.targets.len());
    for t in &prev.targets {
        if rng.gen_bool(TARGETS_GONE) {
            log.push(Change::new("target", &t.id, "removed"));
            continue;
        }
        let mut t = t.clone();
        if rng.gen_bool(TARGETS_POPULATION) {
            let population =
                ((t.population as f64 * rng.gen_range(0.7..1.4)) as i64 / 10 * 10).max(10);
            log.push(Change::new("target", &t.id, "population").values(t.population, population));
            t.population = population;
        }
        next.push(t);
    }
    let mut number = last_number(prev.targets.iter().map(|t| t.id.as_str()), 2);
    let added = (prev.targets.len() as f64 * TARGETS_NEW).round() as usize;
    for _ in 0..added.min(prev.targets.len()) {
        let beside = &prev.targets[rng.gen_range(0..prev.targets.len())];
        number += 1;
        let t = GenTarget {
            id: format!("VT{number:06}"),
            name: format!("{}{}", trade_name(rng), super::target_suffix(beside.kind)),
            kind: beside.kind,
            population: beside.population,
            lon_lat: jitter(rng, index, beside.lon_lat, 800.0),
        };
        log.push(Change::new("target", &t.id, "added"));
        next.push(t);
    }
    next
}

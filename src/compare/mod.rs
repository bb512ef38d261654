//! The annual comparison: what changed between two runs' outputs.
//!
//! Records are matched by id (enterprises by 统一社会信用代码, hazard units,
//! hidden dangers and targets by theirs, units by code), which stay stable
//! from year to year; the two runs must share the study area, the metric
//! CRS and the grid (cell size and cell edges), or the comparison is refused
//! with the reason. [`read`] reads an output folder; [`compare`] is pure;
//! [`tables`] makes the change lists and the summary.

pub mod grid;
pub mod read;
pub mod tables;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::ingest::config::Thresholds;
use crate::model::{AdminLevel, Grade};

/// What a run's `report.json` says of its grid.
#[derive(Debug, Clone, PartialEq)]
pub struct RunGrid {
    /// EPSG code of the metric CRS.
    pub epsg: u32,
    /// Its name, for messages.
    pub metric_name: String,
    /// Cell size in metres.
    pub cell_size_m: f64,
    /// West edge of the grid (metric CRS).
    pub west: f64,
    /// North edge of the grid.
    pub north: f64,
    /// Columns.
    pub cols: u64,
    /// Rows.
    pub rows: u64,
}

/// An administrative unit as a run graded it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// Its name.
    pub name: String,
    /// Its level (none for a level this riskatlas does not know).
    pub level: Option<AdminLevel>,
    /// Its grade.
    pub grade: Option<Grade>,
    /// Shares of its area in red, orange and yellow cells (%).
    pub shares: [f64; 3],
    /// Its boundary, lon/lat.
    pub boundary: geo::MultiPolygon<f64>,
}

/// An enterprise as a run graded it.
#[derive(Debug, Clone, PartialEq)]
pub struct Enterprise {
    /// Its name.
    pub name: String,
    /// Its district (or city).
    pub place: String,
    /// Its four-colour grade.
    pub grade: Option<Grade>,
    /// Why it has that grade.
    pub reason: String,
    /// Its district's code (else its city's).
    pub unit: String,
    /// Lon/lat.
    pub at: (f64, f64),
}

/// A hazard unit as a run assessed it (GB 18218).
#[derive(Debug, Clone, PartialEq)]
pub struct Hazard {
    /// Its name.
    pub name: String,
    /// Its enterprise's name.
    pub enterprise: String,
    /// Its district (or city).
    pub place: String,
    /// Whether it is a major hazard source (S ≥ 1).
    pub major: bool,
    /// S = Σ q/Q.
    pub s: Option<f64>,
    /// R = α Σ β q/Q.
    pub r: Option<f64>,
    /// Major-hazard grade 1–4 (1 highest); none when not major.
    pub grade: Option<u8>,
    /// Lon/lat.
    pub at: (f64, f64),
}

/// A hidden danger as a run listed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Danger {
    /// What it is.
    pub description: String,
    /// The enterprise it was found in (empty for a public place).
    pub enterprise_id: String,
    /// Its district (or city).
    pub place: String,
    /// Whether it is a major danger (重大隐患).
    pub major: bool,
    /// Whether it is still open (未整改 or 整改中).
    pub open: bool,
    /// Its rectification deadline.
    pub due: String,
    /// Whether it is open past its deadline as of the run's date.
    pub overdue: bool,
    /// Lon/lat.
    pub at: (f64, f64),
}

/// A vulnerable target with its exposure.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Its name.
    pub name: String,
    /// Its kind (学校, 医院 …).
    pub kind: String,
    /// Its district (or city).
    pub place: String,
    /// E at the target.
    pub exposure: f64,
    /// Lon/lat.
    pub at: (f64, f64),
}

/// One run's output, read for a comparison.
#[derive(Debug, Clone)]
pub struct Run {
    /// The output folder.
    pub dir: PathBuf,
    /// Its exposure raster.
    pub exposure: PathBuf,
    /// The data year.
    pub year: i64,
    /// The date its data describes.
    pub data_date: String,
    /// The grid.
    pub grid: RunGrid,
    /// The exposure thresholds of its cell grades.
    pub thresholds: Thresholds,
    /// Units by code.
    pub units: BTreeMap<String, Unit>,
    /// Enterprises by id.
    pub enterprises: BTreeMap<String, Enterprise>,
    /// Hazard units by id.
    pub hazards: BTreeMap<String, Hazard>,
    /// Hidden dangers by id.
    pub dangers: BTreeMap<String, Danger>,
    /// Vulnerable targets by id.
    pub targets: BTreeMap<String, Target>,
}

impl Run {
    /// The codes and names of the study area's top units (the coarsest level present).
    pub fn top_units(&self) -> Vec<(&str, &str)> {
        let top = self.units.values().filter_map(|u| u.level).min();
        self.units
            .iter()
            .filter(|(_, u)| u.level.is_some() && u.level == top)
            .map(|(c, u)| (c.as_str(), u.name.as_str()))
            .collect()
    }
}

/// Why two runs cannot be compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{old} and {new} cannot be compared: {reason}")]
pub struct Refused {
    /// The older output folder.
    pub old: String,
    /// The newer output folder.
    pub new: String,
    /// Why.
    pub reason: String,
}

/// Checks that the two runs cover the same area on the same grid.
pub fn comparable(old: &Run, new: &Run) -> Result<(), Refused> {
    let refuse = |reason: String| Refused {
        old: old.dir.display().to_string(),
        new: new.dir.display().to_string(),
        reason,
    };
    let list = |units: Vec<(&str, &str)>| {
        units
            .iter()
            .map(|(c, n)| format!("{n} ({c})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // By code: a unit renamed between the years is still the same area.
    let codes = |r: &Run| {
        r.top_units()
            .into_iter()
            .map(|(c, _)| c.to_string())
            .collect::<Vec<_>>()
    };
    if codes(old) != codes(new) {
        return Err(refuse(format!(
            "different study areas: {} against {}",
            list(old.top_units()),
            list(new.top_units())
        )));
    }
    let (a, b) = (&old.grid, &new.grid);
    if a.epsg != b.epsg {
        return Err(refuse(format!(
            "different metric CRS: EPSG:{} ({}) against EPSG:{} ({})",
            a.epsg, a.metric_name, b.epsg, b.metric_name
        )));
    }
    if a.cell_size_m != b.cell_size_m {
        return Err(refuse(format!(
            "different cell sizes: {} m against {} m (set cell_size_m alike in both projects)",
            a.cell_size_m, b.cell_size_m
        )));
    }
    let whole = |d: f64| (d / a.cell_size_m - (d / a.cell_size_m).round()).abs() < 1e-6;
    if !whole(a.west - b.west) || !whole(a.north - b.north) {
        return Err(refuse(format!(
            "the grids' cell edges do not line up (west {} against {}, north {} against {})",
            a.west, b.west, a.north, b.north
        )));
    }
    Ok(())
}

/// How a record changed between the runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// In the new run only.
    New,
    /// In the old run only.
    Gone,
    /// Graded higher.
    Up,
    /// Graded lower.
    Down,
    /// A hidden danger open in both runs, past its deadline in the newer.
    Overdue,
}

impl Kind {
    /// The Chinese word of the change lists.
    pub fn label(self) -> &'static str {
        match self {
            Kind::New => "新增",
            Kind::Gone => "减少",
            Kind::Up => "升级",
            Kind::Down => "降级",
            Kind::Overdue => "逾期未整改",
        }
    }

    /// The spelling of the report.
    pub fn key(self) -> &'static str {
        match self {
            Kind::New => "new",
            Kind::Gone => "gone",
            Kind::Up => "up",
            Kind::Down => "down",
            Kind::Overdue => "overdue",
        }
    }
}

/// A record present in either run, with its state in each.
#[derive(Debug, Clone, PartialEq)]
pub struct Change<'a, T> {
    /// The record's id.
    pub id: &'a str,
    /// How it changed.
    pub kind: Kind,
    /// Its state in the old run.
    pub old: Option<&'a T>,
    /// Its state in the new run.
    pub new: Option<&'a T>,
}

impl<'a, T> Change<'a, T> {
    /// Its state in the newer run, else in the older.
    pub fn latest(&self) -> &'a T {
        self.new.or(self.old).expect("a change has a state")
    }

    /// The state that makes the change serious, and whether it is the
    /// newer run's: the new one going up or appearing, the old one going
    /// down or away.
    pub fn deciding(&self) -> (bool, Option<&'a T>) {
        match self.kind {
            Kind::Up | Kind::New | Kind::Overdue => (true, self.new),
            Kind::Down | Kind::Gone => (false, self.old),
        }
    }
}

/// Every record that is new, gone, or (where `kind_of` says) changed.
fn diff<'a, T>(
    old: &'a BTreeMap<String, T>,
    new: &'a BTreeMap<String, T>,
    kind_of: impl Fn(Option<&T>, Option<&T>) -> Option<Kind>,
) -> Vec<Change<'a, T>> {
    let ids: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    ids.into_iter()
        .filter_map(|id| {
            let (o, n) = (old.get(id), new.get(id));
            kind_of(o, n).map(|kind| Change {
                id: id.as_str(),
                kind,
                old: o,
                new: n,
            })
        })
        .collect()
}

/// New, gone, up and down by an ordered grade (`None` lowest).
fn by_grade<G: Ord>(old: Option<G>, new: Option<G>) -> Option<Kind> {
    match old.cmp(&new) {
        std::cmp::Ordering::Less => Some(Kind::Up),
        std::cmp::Ordering::Greater => Some(Kind::Down),
        std::cmp::Ordering::Equal => None,
    }
}

/// What changed between two comparable runs.
pub struct Changes<'a> {
    /// The older run.
    pub old: &'a Run,
    /// The newer run.
    pub new: &'a Run,
    /// Enterprises new, gone, graded up or down.
    pub enterprises: Vec<Change<'a, Enterprise>>,
    /// Major hazard sources new (a new unit, or one that became major), gone
    /// (taken out, or no longer major), graded up or down (1 is highest).
    pub hazards: Vec<Change<'a, Hazard>>,
    /// Hidden dangers new, no longer listed, closed (`Down`: open, then
    /// rectified), reopened (`Up`), and those open in both runs and past
    /// their deadline in the newer (`Overdue`).
    pub dangers: Vec<Change<'a, Danger>>,
    /// Vulnerable targets new, gone, or whose exposure grade changed.
    pub targets: Vec<Change<'a, Target>>,
    /// Units new, gone, or graded up or down.
    pub units: Vec<Change<'a, Unit>>,
}

/// The changes from `old` to `new`.
pub fn compare<'a>(old: &'a Run, new: &'a Run) -> Changes<'a> {
    let presence = |o: bool, n: bool| match (o, n) {
        (false, true) => Some(Kind::New),
        (true, false) => Some(Kind::Gone),
        _ => None,
    };
    let enterprises = diff(&old.enterprises, &new.enterprises, |o, n| {
        presence(o.is_some(), n.is_some())
            .or_else(|| by_grade(o.and_then(|e| e.grade), n.and_then(|e| e.grade)))
    });
    // Grade 1 is the highest: ordered by Reverse.
    let hazards = diff(&old.hazards, &new.hazards, |o, n| {
        let major = |h: Option<&Hazard>| h.is_some_and(|h| h.major);
        presence(major(o), major(n)).or_else(|| {
            let g = |h: Option<&Hazard>| h.and_then(|h| h.grade).map(std::cmp::Reverse);
            by_grade(g(o), g(n))
        })
    });
    let dangers = diff(&old.dangers, &new.dangers, |o, n| match (o, n) {
        (Some(o), Some(n)) if o.open && n.open => n.overdue.then_some(Kind::Overdue),
        (Some(o), Some(n)) => by_grade(Some(o.open), Some(n.open)),
        _ => presence(o.is_some(), n.is_some()),
    });
    let (to, tn) = (&old.thresholds, &new.thresholds);
    let targets = diff(&old.targets, &new.targets, |o, n| {
        presence(o.is_some(), n.is_some()).or_else(|| {
            by_grade(
                o.and_then(|t| to.grade(t.exposure)),
                n.and_then(|t| tn.grade(t.exposure)),
            )
        })
    });
    let units = diff(&old.units, &new.units, |o, n| {
        presence(o.is_some(), n.is_some())
            .or_else(|| by_grade(o.and_then(|u| u.grade), n.and_then(|u| u.grade)))
    });
    Changes {
        old,
        new,
        enterprises,
        hazards,
        dangers,
        targets,
        units,
    }
}

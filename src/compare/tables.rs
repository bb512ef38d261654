//! The change lists (变化清单: a sheet and a CSV per kind of record, the
//! most serious changes first) and the comparison's summary.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Change, Changes, Danger, Enterprise, Hazard, Kind, Run, Target, Unit};
use crate::model::{AdminLevel, Grade};
use crate::output::layers::{round4, Value};
use crate::output::lists::{columns, numbered, Table};
use crate::styles;

/// 企业变化.
pub const ENTERPRISES: &str = "企业变化";
/// 重大危险源变化.
pub const HAZARDS: &str = "重大危险源变化";
/// 隐患变化.
pub const DANGERS: &str = "隐患变化";
/// 脆弱性目标变化.
pub const TARGETS: &str = "脆弱性目标变化";
/// 行政区变化.
pub const UNITS: &str = "行政区变化";
/// The workbook of every change list.
pub const WORKBOOK: &str = "变化清单.xlsx";

/// A grade as the lists write it: 红, 橙, 黄, 蓝 (empty for none).
fn colour(g: Option<Grade>) -> Value {
    g.map(|g| styles::grade(g).colour_name.clone()).into()
}

fn text(s: &str) -> Value {
    Value::Str(s.to_string())
}

fn real(x: Option<f64>) -> Value {
    x.map(round4).into()
}

/// Lon/lat to 1e-7° (about a centimetre), as the GeoJSON layers give them.
fn lon_lat(at: (f64, f64)) -> [Value; 2] {
    let r = |v: f64| Value::Real((v * 1e7).round() / 1e7);
    [r(at.0), r(at.1)]
}

/// Up-grades first, then new records, down-grades and the records gone;
/// within each, by the grade that matters (red first), then by id.
fn order<T>(changes: &mut [Change<T>], rank: impl Fn(&Change<T>) -> i64) {
    let kind = |k: Kind| match k {
        Kind::Overdue => 0,
        Kind::Up => 1,
        Kind::New => 2,
        Kind::Down => 3,
        Kind::Gone => 4,
    };
    changes.sort_by(|a, b| (kind(a.kind), -rank(a), a.id).cmp(&(kind(b.kind), -rank(b), b.id)));
}

/// The grade of the state that makes a change serious ([`Change::deciding`]).
fn grade_rank<T>(c: &Change<T>, grade: impl Fn(&T) -> Option<Grade>) -> i64 {
    c.deciding().1.and_then(grade).map_or(-1, |g| g as i64)
}

/// 企业变化: new, gone, up and down, with the old and new grades and reasons.
pub fn enterprise_table(changes: &mut [Change<Enterprise>]) -> Table {
    order(changes, |c| grade_rank(c, |e| e.grade));
    let rows = changes
        .iter()
        .map(|c| {
            let e = c.latest();
            let mut row = vec![
                text(c.kind.label()),
                text(c.id),
                text(&e.name),
                text(&e.place),
                colour(c.old.and_then(|e| e.grade)),
                colour(c.new.and_then(|e| e.grade)),
                c.old.map(|e| e.reason.clone()).into(),
                c.new.map(|e| e.reason.clone()).into(),
            ];
            row.extend(lon_lat(e.at));
            row
        })
        .collect();
    Table {
        name: ENTERPRISES,
        columns: columns(&[
            ("变化", 8.0),
            ("统一社会信用代码", 22.0),
            ("企业名称", 28.0),
            ("所在区县", 10.0),
            ("原等级", 8.0),
            ("现等级", 8.0),
            ("原定级理由", 36.0),
            ("现定级理由", 36.0),
            ("经度", 12.0),
            ("纬度", 12.0),
        ]),
        rows: numbered(rows),
    }
}

/// A major-hazard grade as the lists write it (一级 … 四级).
fn hazard_grade(g: Option<u8>) -> Value {
    g.map(|g| {
        let n = ["一", "二", "三", "四"].get(usize::from(g).wrapping_sub(1));
        format!("{}级", n.copied().unwrap_or("?"))
    })
    .into()
}

/// Why a major hazard source is new or gone.
pub fn hazard_note(c: &Change<Hazard>) -> &'static str {
    match (c.kind, c.old, c.new) {
        (Kind::New, None, _) => "新单元",
        (Kind::New, Some(_), _) => "原非重大危险源",
        (Kind::Gone, _, None) => "单元已不在清单",
        (Kind::Gone, _, Some(_)) => "不再构成重大危险源",
        _ => "",
    }
}

/// 重大危险源变化: major hazard sources new, gone, graded up or down.
pub fn hazard_table(changes: &mut [Change<Hazard>]) -> Table {
    // Grade 1 is the most serious.
    order(changes, |c| {
        c.deciding()
            .1
            .and_then(|h| h.grade)
            .map_or(-1, |g| 5 - i64::from(g))
    });
    let rows = changes
        .iter()
        .map(|c| {
            let h = c.latest();
            let mut row = vec![
                text(c.kind.label()),
                text(c.id),
                text(&h.name),
                text(&h.enterprise),
                text(&h.place),
                real(c.old.and_then(|h| h.s)),
                real(c.new.and_then(|h| h.s)),
                real(c.old.and_then(|h| h.r)),
                real(c.new.and_then(|h| h.r)),
                hazard_grade(c.old.and_then(|h| h.grade)),
                hazard_grade(c.new.and_then(|h| h.grade)),
                text(hazard_note(c)),
            ];
            row.extend(lon_lat(h.at));
            row
        })
        .collect();
    Table {
        name: HAZARDS,
        columns: columns(&[
            ("变化", 8.0),
            ("单元编号", 12.0),
            ("单元名称", 16.0),
            ("企业名称", 28.0),
            ("所在区县", 10.0),
            ("原S", 10.0),
            ("现S", 10.0),
            ("原R", 10.0),
            ("现R", 10.0),
            ("原级别", 8.0),
            ("现级别", 8.0),
            ("说明", 18.0),
            ("经度", 12.0),
            ("纬度", 12.0),
        ]),
        rows: numbered(rows),
    }
}

/// How a hidden danger changed, in the words of the lists.
pub fn danger_label(k: Kind) -> &'static str {
    match k {
        Kind::New => "新增",
        Kind::Gone => "未再列出",
        Kind::Down => "已整改",
        Kind::Up => "重新打开",
        Kind::Overdue => "逾期未整改",
    }
}

/// How a hidden danger changed, in the spelling of the report and the layers.
pub fn danger_key(k: Kind) -> &'static str {
    match k {
        Kind::New => "new",
        Kind::Gone => "no_longer_listed",
        Kind::Down => "rectified",
        Kind::Up => "reopened",
        Kind::Overdue => "overdue",
    }
}

fn status(d: Option<&Danger>) -> Value {
    d.map(|d| if d.open { "未整改" } else { "已整改" })
        .map(text)
        .into()
}

/// 隐患变化: hidden dangers overdue, reopened, new, closed and no longer listed, major ones first.
pub fn danger_table(changes: &mut [Change<Danger>]) -> Table {
    order(changes, |c| i64::from(c.latest().major));
    let rows = changes
        .iter()
        .map(|c| {
            let d = c.latest();
            let mut row = vec![
                text(danger_label(c.kind)),
                text(c.id),
                text(&d.description),
                text(if d.major { "重大" } else { "一般" }),
                text(&d.enterprise_id),
                text(&d.place),
                status(c.old),
                status(c.new),
                text(&d.due),
            ];
            row.extend(lon_lat(d.at));
            row
        })
        .collect();
    Table {
        name: DANGERS,
        columns: columns(&[
            ("变化", 10.0),
            ("隐患编号", 14.0),
            ("隐患描述", 24.0),
            ("级别", 6.0),
            ("企业编号", 22.0),
            ("所在区县", 10.0),
            ("原状态", 8.0),
            ("现状态", 8.0),
            ("整改期限", 12.0),
            ("经度", 12.0),
            ("纬度", 12.0),
        ]),
        rows: numbered(rows),
    }
}

/// 脆弱性目标变化: targets new, gone, or whose exposure grade went up or down.
pub fn target_table(changes: &mut [Change<Target>], old: &Run, new: &Run) -> Table {
    let grade_in = |run: &Run, t: Option<&Target>| t.and_then(|t| run.thresholds.grade(t.exposure));
    order(changes, |c| {
        let (newer, t) = c.deciding();
        grade_in(if newer { new } else { old }, t).map_or(-1, |g| g as i64)
    });
    let rows = changes
        .iter()
        .map(|c| {
            let t = c.latest();
            let mut row = vec![
                text(c.kind.label()),
                text(c.id),
                text(&t.name),
                text(&t.kind),
                text(&t.place),
                real(c.old.map(|t| t.exposure)),
                real(c.new.map(|t| t.exposure)),
                colour(grade_in(old, c.old)),
                colour(grade_in(new, c.new)),
            ];
            row.extend(lon_lat(t.at));
            row
        })
        .collect();
    Table {
        name: TARGETS,
        columns: columns(&[
            ("变化", 8.0),
            ("目标编号", 12.0),
            ("目标名称", 20.0),
            ("类型", 8.0),
            ("所在区县", 10.0),
            ("原暴露值E", 10.0),
            ("现暴露值E", 10.0),
            ("原暴露等级", 10.0),
            ("现暴露等级", 10.0),
            ("经度", 12.0),
            ("纬度", 12.0),
        ]),
        rows: numbered(rows),
    }
}

/// 行政区变化: every unit of either run, its grade and its shares of red,
/// orange and yellow cells before and after; up-grades first.
pub fn unit_table(changes: &Changes) -> Table {
    let rows = unit_order(changes)
        .into_iter()
        .map(|(code, kind)| {
            let (o, n) = (changes.old.units.get(code), changes.new.units.get(code));
            let u = n.or(o).expect("a unit of either run");
            let share = |u: Option<&Unit>, i: usize| real(u.map(|u| u.shares[i]));
            vec![
                text(kind.map_or("不变", Kind::label)),
                text(code),
                text(&u.name),
                text(u.level.map_or("", level_zh)),
                colour(o.and_then(|u| u.grade)),
                colour(n.and_then(|u| u.grade)),
                share(o, 0),
                share(n, 0),
                share(o, 1),
                share(n, 1),
                share(o, 2),
                share(n, 2),
            ]
        })
        .collect();
    Table {
        name: UNITS,
        columns: columns(&[
            ("变化", 8.0),
            ("代码", 10.0),
            ("名称", 14.0),
            ("级别", 6.0),
            ("原等级", 8.0),
            ("现等级", 8.0),
            ("原红色网格占比(%)", 12.0),
            ("现红色网格占比(%)", 12.0),
            ("原橙色网格占比(%)", 12.0),
            ("现橙色网格占比(%)", 12.0),
            ("原黄色网格占比(%)", 12.0),
            ("现黄色网格占比(%)", 12.0),
        ]),
        rows: numbered(rows),
    }
}

/// Every unit code of either run with its change, in the order of the unit
/// list and layer: up, new, down, gone, then the unchanged; by code within.
pub fn unit_order<'a>(changes: &'a Changes) -> Vec<(&'a str, Option<Kind>)> {
    let kinds: BTreeMap<&str, Kind> = changes.units.iter().map(|c| (c.id, c.kind)).collect();
    let mut codes: Vec<&str> = changes
        .old
        .units
        .keys()
        .chain(changes.new.units.keys())
        .map(String::as_str)
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let mut order: Vec<(&str, Option<Kind>)> = codes
        .into_iter()
        .map(|c| (c, kinds.get(c).copied()))
        .collect();
    order.sort_by_key(|&(c, k)| (k.map_or(4, unit_rank), c));
    order
}

fn unit_rank(k: Kind) -> u8 {
    match k {
        Kind::Up => 0,
        Kind::New => 1,
        Kind::Down => 2,
        Kind::Gone => 3,
        Kind::Overdue => 4,
    }
}

fn level_zh(level: AdminLevel) -> &'static str {
    match level {
        AdminLevel::Province => "省",
        AdminLevel::City => "市",
        AdminLevel::District => "区县",
        AdminLevel::Town => "乡镇",
    }
}

/// Every change list, in the workbook's order.
pub fn tables(changes: &mut Changes) -> Vec<Table> {
    let units = unit_table(changes);
    let (old, new) = (changes.old, changes.new);
    vec![
        enterprise_table(&mut changes.enterprises),
        hazard_table(&mut changes.hazards),
        danger_table(&mut changes.dangers),
        target_table(&mut changes.targets, old, new),
        units,
    ]
}

/// How many changes of each kind.
fn counts<T>(changes: &[Change<T>], label: impl Fn(Kind) -> &'static str) -> serde_json::Value {
    let mut by = BTreeMap::<&str, usize>::new();
    for c in changes {
        *by.entry(label(c.kind)).or_default() += 1;
    }
    json!(by)
}

/// How the enterprises of one grade went from the old count to the new.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct GradeFlow {
    /// Enterprises of the grade in the older run.
    pub old: usize,
    /// In the newer run.
    pub new: usize,
    /// New enterprises of the grade.
    pub new_records: usize,
    /// Enterprises of the grade that are gone.
    pub gone_records: usize,
    /// Graded up into it.
    pub up_into: usize,
    /// Graded down into it.
    pub down_into: usize,
    /// Graded up out of it.
    pub up_out: usize,
    /// Graded down out of it.
    pub down_out: usize,
}

/// The flow of each grade: old + new records + into − out − gone = new.
pub fn grade_flows(changes: &Changes) -> BTreeMap<Grade, GradeFlow> {
    let mut flows: BTreeMap<Grade, GradeFlow> = Grade::DESCENDING
        .iter()
        .map(|&g| (g, GradeFlow::default()))
        .collect();
    for e in changes.old.enterprises.values().filter_map(|e| e.grade) {
        flows.entry(e).or_default().old += 1;
    }
    for e in changes.new.enterprises.values().filter_map(|e| e.grade) {
        flows.entry(e).or_default().new += 1;
    }
    for c in &changes.enterprises {
        let (o, n) = (c.old.and_then(|e| e.grade), c.new.and_then(|e| e.grade));
        match (c.kind, o, n) {
            (Kind::New, _, Some(n)) => flows.entry(n).or_default().new_records += 1,
            (Kind::Gone, Some(o), _) => flows.entry(o).or_default().gone_records += 1,
            (Kind::Up, o, Some(n)) => {
                flows.entry(n).or_default().up_into += 1;
                if let Some(o) = o {
                    flows.entry(o).or_default().up_out += 1;
                }
            }
            (Kind::Down, Some(o), n) => {
                flows.entry(o).or_default().down_out += 1;
                if let Some(n) = n {
                    flows.entry(n).or_default().down_into += 1;
                }
            }
            _ => {}
        }
    }
    flows
}

/// One line per grade for stderr, e.g. `红色企业 69 → 74 (+5: 新增 3, 升入 4, 降出 2)`.
pub fn flow_lines(flows: &BTreeMap<Grade, GradeFlow>) -> Vec<String> {
    Grade::DESCENDING
        .iter()
        .map(|g| {
            let f = flows[g];
            let parts: Vec<String> = [
                ("新增", f.new_records),
                ("减少", f.gone_records),
                ("升入", f.up_into),
                ("降入", f.down_into),
                ("升出", f.up_out),
                ("降出", f.down_out),
            ]
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(w, n)| format!("{w} {n}"))
            .collect();
            let delta = f.new as i64 - f.old as i64;
            let detail = if parts.is_empty() {
                String::new()
            } else {
                format!(": {}", parts.join(", "))
            };
            format!(
                "{}色企业 {} → {} ({delta:+}{detail})",
                styles::grade(*g).colour_name,
                f.old,
                f.new
            )
        })
        .collect()
}

/// A run's major hazard sources.
fn majors(run: &Run) -> usize {
    run.hazards.values().filter(|h| h.major).count()
}

/// A run's major hidden dangers still open.
fn open_majors(run: &Run) -> usize {
    run.dangers.values().filter(|d| d.major && d.open).count()
}

fn kinds<T>(changes: &[Change<T>]) -> Vec<Kind> {
    changes.iter().map(|c| c.kind).collect()
}

/// The other summary lines for stderr: major hazard sources, hidden
/// dangers, targets and units.
pub fn other_lines(changes: &Changes) -> Vec<String> {
    let count = |v: &[Kind], k: Kind| v.iter().filter(|&&x| x == k).count();
    let (h, d) = (kinds(&changes.hazards), kinds(&changes.dangers));
    let (t, u) = (kinds(&changes.targets), kinds(&changes.units));
    vec![
        format!(
            "重大危险源 {} → {} (新增 {}, 减少 {}, 升级 {}, 降级 {})",
            majors(changes.old),
            majors(changes.new),
            count(&h, Kind::New),
            count(&h, Kind::Gone),
            count(&h, Kind::Up),
            count(&h, Kind::Down)
        ),
        format!(
            "未整改重大隐患 {} → {}; 隐患 新增 {}, 已整改 {}, 逾期未整改 {}, 重新打开 {}, 未再列出 {}",
            open_majors(changes.old),
            open_majors(changes.new),
            count(&d, Kind::New),
            count(&d, Kind::Down),
            count(&d, Kind::Overdue),
            count(&d, Kind::Up),
            count(&d, Kind::Gone)
        ),
        format!(
            "脆弱性目标 暴露等级升 {}, 降 {}; 新增 {}, 减少 {}",
            count(&t, Kind::Up),
            count(&t, Kind::Down),
            count(&t, Kind::New),
            count(&t, Kind::Gone)
        ),
        format!(
            "行政区 升级 {}, 降级 {}, 新增 {}, 减少 {}",
            count(&u, Kind::Up),
            count(&u, Kind::Down),
            count(&u, Kind::New),
            count(&u, Kind::Gone)
        ),
    ]
}

/// The comparison's summary for `report.json`.
pub fn summary(changes: &Changes) -> serde_json::Value {
    let grades = grade_flows(changes);
    let flows: BTreeMap<&str, GradeFlow> = grades.iter().map(|(g, f)| (g.as_str(), *f)).collect();
    let key = Kind::key;
    json!({
        "enterprises": {
            "changes": counts(&changes.enterprises, key),
            "by_grade": flows,
        },
        "major_hazard_sources": {
            "old": majors(changes.old),
            "new": majors(changes.new),
            "changes": counts(&changes.hazards, key),
        },
        "hidden_dangers": {
            "open_major_old": open_majors(changes.old),
            "open_major_new": open_majors(changes.new),
            "changes": counts(&changes.dangers, danger_key),
        },
        "vulnerable_targets": { "changes": counts(&changes.targets, key) },
        "admin_units": { "changes": counts(&changes.units, key) },
        "lines": flow_lines(&grades).into_iter().chain(other_lines(changes)).collect::<Vec<_>>(),
    })
}

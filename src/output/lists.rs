//! The four lists the seed plans ask every city to keep, as tables with
//! Chinese headers: 重大安全风险清单 (red and orange enterprises and why),
//! 重大隐患清单 (major hidden dangers, overdue first), 重大危险源清单 (major
//! hazard sources with S, R, α, β and grade) and 脆弱性目标清单 (vulnerable
//! targets with their protection class and the sources whose radius covers them).
//!
//! Building a table is pure; [`crate::output::write`] turns tables into CSV and XLSX.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::analysis::coverage::{CoverageResult, Place};
use crate::analysis::exposure::{Source, TargetExposure};
use crate::analysis::parks::ParkFindings;
use crate::model::{
    AdminRef, Assessment, ChemicalPark, ChemicalShare, DangerLevel, EmergencyResource, Enterprises,
    Grade, Graded, HazardUnit, HiddenDanger, Protection, VulnerableTarget,
};
use crate::output::layers::{covering_text, inventory_text, round4, row_label, yes_no, Value};
use crate::styles;

/// The lists' folder in the output.
pub const DIR: &str = "lists";
/// The workbook with one sheet per list.
pub const WORKBOOK: &str = "清单.xlsx";
/// 重大安全风险清单: red and orange enterprises.
pub const RISK_LIST: &str = "重大安全风险清单";
/// 重大隐患清单: major hidden dangers.
pub const DANGER_LIST: &str = "重大隐患清单";
/// 重大危险源清单: major hazard sources.
pub const HAZARD_LIST: &str = "重大危险源清单";
/// 脆弱性目标清单: vulnerable targets.
pub const TARGET_LIST: &str = "脆弱性目标清单";
/// The four lists in the order they are written.
pub const NAMES: [&str; 4] = [RISK_LIST, DANGER_LIST, HAZARD_LIST, TARGET_LIST];
/// 应急资源清单: the emergency resources.
pub const RESOURCE_LIST: &str = "应急资源清单";
/// 应急资源覆盖不足清单: the high-risk places some required kind does not reach.
pub const UNCOVERED_LIST: &str = "应急资源覆盖不足清单";
/// The lists made when the project gives emergency resources.
pub const RESOURCE_NAMES: [&str; 2] = [RESOURCE_LIST, UNCOVERED_LIST];
/// 化工园区清单: the chemical parks, made when the project gives them.
pub const PARK_LIST: &str = "化工园区清单";

/// A column: Chinese header and width in characters (for XLSX).
#[derive(Debug, Clone)]
pub struct Column {
    /// Chinese column header.
    pub header: &'static str,
    /// Column width in characters, for XLSX.
    pub width: f64,
}

/// One list.
#[derive(Debug, Clone)]
pub struct Table {
    /// The list's Chinese name: file stem and sheet name.
    pub name: &'static str,
    /// The columns, starting with 序号.
    pub columns: Vec<Column>,
    /// The rows, each numbered from 1 in the first column.
    pub rows: Vec<Vec<Value>>,
}

/// A list's name and its number of rows, for the report once the list is written.
pub type ListCount = (&'static str, usize);

/// The columns of a list: 序号 and then `spec` (header, width).
pub fn columns(spec: &[(&'static str, f64)]) -> Vec<Column> {
    std::iter::once(("序号", 6.0))
        .chain(spec.iter().copied())
        .map(|(header, width)| Column { header, width })
        .collect()
}

/// Prefixes each row with its 1-based number, in a row of exactly its
/// size (inserting into a full row would double its allocation, and a
/// province's lists hold a million rows).
pub fn numbered(rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| {
            let mut out = Vec::with_capacity(r.len() + 1);
            out.push(Value::Int(i as i64 + 1));
            out.extend(r);
            out
        })
        .collect()
}

fn district(a: &AdminRef) -> Value {
    a.district_name
        .clone()
        .or_else(|| a.city_name.clone())
        .into()
}

/// 重大安全风险清单: red and orange enterprises, red first, with their reasons.
pub fn risk_list(enterprises: &[Graded], units: &[HazardUnit]) -> Table {
    let mut majors: HashMap<&str, Vec<&HazardUnit>> = HashMap::new();
    for u in units.iter().filter(|u| u.major_grade().is_some()) {
        majors.entry(u.enterprise_id.as_str()).or_default().push(u);
    }
    let mut picked: Vec<&Graded> = enterprises
        .iter()
        .filter(|e| e.grade() >= Grade::Orange)
        .collect();
    picked.sort_by(|a, b| {
        b.grade()
            .cmp(&a.grade())
            .then(a.admin.district_code.cmp(&b.admin.district_code))
            .then(a.id().cmp(b.id()))
    });
    let rows = picked
        .into_iter()
        .map(|e| {
            let r = &e.rating;
            let mh = majors.get(e.id()).map(Vec::as_slice).unwrap_or(&[]);
            let mh_text = mh
                .iter()
                .map(|u| {
                    format!(
                        "{}({})",
                        u.id,
                        crate::analysis::hazard::grade_label_zh(u.major_grade())
                    )
                })
                .collect::<Vec<_>>()
                .join("、");
            vec![
                e.id().into(),
                e.name().into(),
                district(&e.admin),
                e.industry().into(),
                styles::label(r.grade).into(),
                e.assessed_grade.map(styles::label).into(),
                if r.source == crate::model::GradeSource::Assessed {
                    "自评"
                } else {
                    "规则判定"
                }
                .into(),
                r.reason_text().into(),
                Value::Int(mh.len() as i64),
                mh_text.into(),
                e.address().into(),
            ]
        })
        .collect();
    Table {
        name: RISK_LIST,
        columns: columns(&[
            ("企业编号", 22.0),
            ("企业名称", 30.0),
            ("区县", 10.0),
            ("行业", 14.0),
            ("风险等级", 10.0),
            ("自评等级", 10.0),
            ("等级来源", 10.0),
            ("定级理由", 60.0),
            ("重大危险源数", 12.0),
            ("重大危险源", 30.0),
            ("地址", 30.0),
        ]),
        rows: numbered(rows),
    }
}

/// 重大隐患清单: major hidden dangers, overdue first, then open, then by due date.
pub fn danger_list(dangers: &[HiddenDanger], enterprises: &Enterprises<Graded>) -> Table {
    let mut picked: Vec<&HiddenDanger> = dangers
        .iter()
        .filter(|d| d.level == DangerLevel::Major)
        .collect();
    picked.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then(b.status.is_open().cmp(&a.status.is_open()))
            .then(a.due.cmp(&b.due))
            .then(a.id.cmp(&b.id))
    });
    let rows = picked
        .into_iter()
        .map(|d| {
            vec![
                d.id.as_str().into(),
                d.enterprise_id.clone().into(),
                d.enterprise_id
                    .as_deref()
                    .and_then(|e| enterprises.get(e))
                    .map(|e| e.name())
                    .into(),
                district(&d.admin),
                d.description.as_str().into(),
                d.status.label_zh().into(),
                d.found.map(|x| x.to_string()).into(),
                d.due.map(|x| x.to_string()).into(),
                yes_no(d.overdue).into(),
            ]
        })
        .collect();
    Table {
        name: DANGER_LIST,
        columns: columns(&[
            ("隐患编号", 16.0),
            ("企业编号", 22.0),
            ("企业名称", 30.0),
            ("区县", 10.0),
            ("隐患描述", 30.0),
            ("整改状态", 10.0),
            ("发现日期", 12.0),
            ("整改期限", 12.0),
            ("是否逾期", 10.0),
        ]),
        rows: numbered(rows),
    }
}

/// One cell for a unit's inventory lines, in input order, joined by "；".
fn each_line(a: &Assessment, f: impl Fn(&ChemicalShare) -> String) -> String {
    a.shares.iter().map(f).collect::<Vec<_>>().join("；")
}

/// One row of 重大危险源清单: the unit, its inventory traced line by line, S, R, α, β and grade.
fn hazard_list_row(u: &HazardUnit, enterprises: &Enterprises<Graded>) -> Vec<Value> {
    let a = u.assessment.as_ref().expect("major units are assessed");
    vec![
        u.id.as_str().into(),
        u.enterprise_id.as_str().into(),
        enterprises.get(&u.enterprise_id).map(|e| e.name()).into(),
        district(&u.admin),
        u.name.as_str().into(),
        u.kind.label_zh().into(),
        inventory_text(u).into(),
        each_line(a, |c| row_label(&c.resolved)).into(),
        each_line(a, |c| c.resolved.matched_by.label_zh().to_string()).into(),
        each_line(a, |c| {
            c.resolved.critical_t.map_or("—".into(), |q| q.to_string())
        })
        .into(),
        each_line(a, |c| c.resolved.beta.to_string()).into(),
        each_line(a, |c| round4(c.ratio).to_string()).into(),
        a.shares
            .iter()
            .filter_map(|c| c.resolved.choice.clone())
            .collect::<Vec<_>>()
            .join("；")
            .into(),
        round4(a.s).into(),
        round4(a.r).into(),
        a.alpha.into(),
        Value::Int(i64::from(a.people_500m)),
        if a.alpha_source == crate::analysis::hazard::AlphaSource::Input {
            "填报"
        } else {
            "按脆弱性目标估算"
        }
        .into(),
        a.betas_text().into(),
        crate::analysis::hazard::grade_label_zh(a.grade).into(),
        if u.incomplete { "是" } else { "否" }.into(),
    ]
}

/// 重大危险源清单: major hazard sources, grade 1 first, then by R.
pub fn hazard_list(units: &[HazardUnit], enterprises: &Enterprises<Graded>) -> Table {
    let mut picked: Vec<&HazardUnit> = units.iter().filter(|u| u.major_grade().is_some()).collect();
    let r = |u: &HazardUnit| u.assessment.as_ref().map(|a| a.r).unwrap_or(0.0);
    picked.sort_by(|a, b| {
        a.major_grade()
            .cmp(&b.major_grade())
            .then(r(b).total_cmp(&r(a)))
            .then(a.id.cmp(&b.id))
    });
    let rows = picked
        .into_iter()
        .map(|u| hazard_list_row(u, enterprises))
        .collect();
    Table {
        name: HAZARD_LIST,
        columns: columns(&[
            ("危险源编号", 12.0),
            ("企业编号", 22.0),
            ("企业名称", 30.0),
            ("区县", 10.0),
            ("单元名称", 14.0),
            ("单元类型", 10.0),
            ("危险化学品", 40.0),
            ("匹配行", 24.0),
            ("匹配方式", 20.0),
            ("临界量Q(吨)", 16.0),
            ("校正系数β", 14.0),
            ("q/Q", 16.0),
            ("匹配选择", 40.0),
            ("S", 10.0),
            ("R", 10.0),
            ("α", 6.0),
            ("500米内人数", 12.0),
            ("人数来源", 16.0),
            ("β取值", 50.0),
            ("级别", 8.0),
            ("清单不完整", 10.0),
        ]),
        rows: numbered(rows),
    }
}

/// 脆弱性目标清单: every target with its exposure E, protection class and the
/// sources covering it; most exposed first (E, then class, then distance to
/// the nearest source).
pub fn target_list(
    targets: &[VulnerableTarget],
    exposure: &[TargetExposure],
    sources: &[Source],
) -> Table {
    // The class once per target, not at every comparison (a province
    // sorts a third of a million targets).
    let protection: Vec<Protection> = targets.par_iter().map(|t| t.protection()).collect();
    let nearest = |i: usize| exposure[i].nearest.map(|(_, d)| d).unwrap_or(f64::INFINITY);
    // Each target's keys side by side, so a comparison reads one place;
    // its place last, as a stable sort keeps ties.
    let mut keyed: Vec<(f64, Protection, f64, &str, usize)> = (0..targets.len())
        .into_par_iter()
        .map(|i| {
            (
                exposure[i].e,
                protection[i],
                nearest(i),
                targets[i].id.as_str(),
                i,
            )
        })
        .collect();
    keyed.par_sort_unstable_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.total_cmp(&b.2))
            .then(a.3.cmp(b.3))
            .then(a.4.cmp(&b.4))
    });
    let order: Vec<usize> = keyed.into_iter().map(|k| k.4).collect();
    let rows = order
        .into_par_iter()
        .map(|i| {
            let (t, e) = (&targets[i], &exposure[i]);
            vec![
                t.id.as_str().into(),
                t.name.as_str().into(),
                t.kind.as_str().into(),
                protection[i].label_zh().into(),
                t.population.into(),
                district(&t.admin),
                round4(e.e).into(),
                Value::Int(e.covering_count as i64),
                covering_text(e, sources).into(),
                e.nearest.map(|(j, _)| sources[j].id.clone()).into(),
                e.nearest.map(|(_, d)| d.round()).into(),
            ]
        })
        .collect();
    Table {
        name: TARGET_LIST,
        columns: columns(&[
            ("目标编号", 12.0),
            ("目标名称", 24.0),
            ("类型", 10.0),
            ("保护类别", 10.0),
            ("人数", 10.0),
            ("区县", 10.0),
            ("风险暴露值E", 12.0),
            ("影响范围内危险源数", 18.0),
            ("影响范围内危险源(编号 距离)", 40.0),
            ("最近危险源", 12.0),
            ("最近距离(米)", 12.0),
        ]),
        rows: numbered(rows),
    }
}

/// 应急资源清单: every resource, by kind, then district, then id.
pub fn resource_list(resources: &[EmergencyResource]) -> Table {
    let mut order: Vec<&EmergencyResource> = resources.iter().collect();
    order.sort_by(|a, b| {
        (a.kind, &a.admin.district_code, &a.id).cmp(&(b.kind, &b.admin.district_code, &b.id))
    });
    let rows = order
        .into_iter()
        .map(|r| {
            vec![
                r.id.as_str().into(),
                r.name.as_str().into(),
                r.kind.label_zh().into(),
                r.capacity.into(),
                r.phone.clone().into(),
                district(&r.admin),
                r.admin.town_name.clone().into(),
            ]
        })
        .collect();
    Table {
        name: RESOURCE_LIST,
        columns: columns(&[
            ("资源编号", 12.0),
            ("资源名称", 28.0),
            ("资源类型", 14.0),
            ("规模", 10.0),
            ("值班电话", 14.0),
            ("区县", 10.0),
            ("乡镇街道", 12.0),
        ]),
        rows: numbered(rows),
    }
}

/// 应急资源覆盖不足清单: the high-risk places not covered — major hazard
/// sources first (grade 1 first), then enterprises (red first) — with the
/// kinds out of reach and the route distance to the nearest of each kind.
pub fn uncovered_list(c: &CoverageResult, resources: &[EmergencyResource]) -> Table {
    let mut picked: Vec<&Place> = c.places.iter().filter(|p| !p.covered).collect();
    picked.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(a.hazard_grade.cmp(&b.hazard_grade))
            .then(b.grade.cmp(&a.grade))
            .then(a.id.cmp(&b.id))
    });
    let rows = picked
        .into_iter()
        .map(|p| {
            let missing: Vec<&str> = p
                .missing(&c.required)
                .iter()
                .map(|k| k.label_zh())
                .collect();
            let mut row: Vec<Value> = vec![
                p.kind.label_zh().into(),
                p.id.as_str().into(),
                p.name.as_str().into(),
                p.enterprise_id.as_str().into(),
                styles::label(p.grade).into(),
                p.hazard_grade.map(i64::from).into(),
                district(&p.admin),
                missing.join("、").into(),
            ];
            row.extend(p.nearest.iter().map(|n| {
                n.map(|n| format!("{} {}", resources[n.resource].name, n.route_m.round()))
                    .into()
            }));
            row
        })
        .collect();
    let mut spec = vec![
        ("对象类型", 10.0),
        ("编号", 14.0),
        ("名称", 28.0),
        ("企业编号", 20.0),
        ("企业风险等级", 12.0),
        ("重大危险源等级", 14.0),
        ("区县", 10.0),
        ("未覆盖资源类型", 24.0),
    ];
    spec.extend([
        ("最近救援队伍(名称 米)", 28.0),
        ("最近消防救援站(名称 米)", 28.0),
        ("最近应急物资储备库(名称 米)", 28.0),
        ("最近医院(名称 米)", 28.0),
        ("最近避难场所(名称 米)", 28.0),
    ]);
    Table {
        name: UNCOVERED_LIST,
        columns: columns(&spec),
        rows: numbered(rows),
    }
}

/// 化工园区清单: every park, the highest grade first, then by Σ R.
pub fn park_list(parks: &[ChemicalPark], findings: &[ParkFindings]) -> Table {
    let mut order: Vec<usize> = (0..parks.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (&findings[a], &findings[b]);
        fb.grade
            .cmp(&fa.grade)
            .then(fb.r_sum.total_cmp(&fa.r_sum))
            .then(parks[a].code.cmp(&parks[b].code))
    });
    let rows = order
        .into_iter()
        .map(|i| {
            let (p, f) = (&parks[i], &findings[i]);
            let shares = f.cells.shares();
            let mut row: Vec<Value> = vec![
                p.code.as_str().into(),
                p.name.as_str().into(),
                p.level.clone().into(),
                ((f.area_km2 * 1000.0).round() / 1000.0).into(),
            ];
            row.extend(f.enterprises_by_grade.iter().map(|&n| Value::Int(n as i64)));
            row.extend(f.major_hazards.iter().map(|&n| Value::Int(n as i64)));
            row.push(((f.r_sum * 100.0).round() / 100.0).into());
            row.push(Value::Int(f.population_inside as i64));
            row.push(Value::Int(f.population_around as i64));
            row.extend(
                shares
                    .iter()
                    .map(|s| Value::from((s * 1e4).round() / 100.0)),
            );
            row.push(styles::label(f.grade).into());
            row.push(f.grade_rule.as_str().into());
            row
        })
        .collect();
    Table {
        name: PARK_LIST,
        columns: columns(&[
            ("园区代码", 12.0),
            ("园区名称", 24.0),
            ("级别", 8.0),
            ("面积(平方公里)", 14.0),
            ("红色企业", 10.0),
            ("橙色企业", 10.0),
            ("黄色企业", 10.0),
            ("蓝色企业", 10.0),
            ("一级重大危险源", 14.0),
            ("二级重大危险源", 14.0),
            ("三级重大危险源", 14.0),
            ("四级重大危险源", 14.0),
            ("重大危险源R值合计", 16.0),
            ("园区内人数", 12.0),
            ("周边人数", 12.0),
            ("红色网格占比(%)", 14.0),
            ("橙色网格占比(%)", 14.0),
            ("黄色网格占比(%)", 14.0),
            ("蓝色网格占比(%)", 14.0),
            ("园区风险等级", 12.0),
            ("定级依据", 50.0),
        ]),
        rows: numbered(rows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_matches_its_header() {
        let t = risk_list(&[], &[]);
        assert_eq!(t.columns[0].header, "序号");
        for t in [
            risk_list(&[], &[]),
            danger_list(&[], &Enterprises::default()),
            hazard_list(&[], &Enterprises::default()),
            target_list(&[], &[], &[]),
            resource_list(&[]),
            uncovered_list(&CoverageResult::default(), &[]),
            park_list(&[], &[]),
        ] {
            assert!(t.rows.is_empty());
            assert!(t.columns.iter().all(|c| c.width > 0.0));
        }
    }
}

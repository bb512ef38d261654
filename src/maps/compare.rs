//! What the annual comparison's maps show: the units and changed
//! enterprises of two runs, in the newer run's metric CRS, over the change
//! of each cell's grade.

use crate::compare::{Changes, Kind};
use crate::crs::MetricCrs;
use crate::maps::render::change::{ChangeMapData, ChangePoint, ChangeUnit, Mark};
use crate::maps::render::GradeGrid;
use crate::model::AdminLevel;
use crate::styles;

fn mark(kind: Kind) -> Option<Mark> {
    match kind {
        Kind::Up => Some(Mark::Up),
        Kind::Down => Some(Mark::Down),
        Kind::New => Some(Mark::New),
        Kind::Gone => Some(Mark::Gone),
        Kind::Overdue => None,
    }
}

/// The change maps' data; `grid` holds the cells' change codes
/// ([`crate::maps::render::change::step_code`]).
pub fn change_map_data(changes: &Changes, grid: GradeGrid) -> ChangeMapData {
    let (old, new) = (changes.old, changes.new);
    let metric = MetricCrs::for_epsg(new.grid.epsg).expect("checked when the report was read");
    let of_level = |level: AdminLevel| -> Vec<(&String, &crate::compare::Unit)> {
        new.units
            .iter()
            .filter(|(_, u)| u.level == Some(level))
            .collect()
    };
    let districts = match of_level(AdminLevel::District) {
        d if d.is_empty() => of_level(AdminLevel::Town),
        d => d,
    };
    let unit_marks: std::collections::BTreeMap<&str, Kind> =
        changes.units.iter().map(|c| (c.id, c.kind)).collect();
    let grade_name = |g: Option<crate::model::Grade>| {
        g.map_or("无".to_string(), |g| styles::grade(g).colour_name.clone())
    };
    let units = districts
        .into_iter()
        .map(|(code, u)| {
            let kind = unit_marks.get(code.as_str()).copied();
            let mark = kind
                .filter(|k| matches!(k, Kind::Up | Kind::Down))
                .and_then(mark);
            let before = old.units.get(code).and_then(|u| u.grade);
            ChangeUnit {
                code: code.clone(),
                name: u.name.clone(),
                boundary: metric.to_metric(&u.boundary),
                mark,
                grades: if mark.is_some() {
                    format!("{}→{}", grade_name(before), grade_name(u.grade))
                } else {
                    String::new()
                },
            }
        })
        .collect();
    let cities = of_level(AdminLevel::City);
    let tops = new.top_units();
    ChangeMapData {
        area_name: match tops.as_slice() {
            [(_, name)] => name.to_string(),
            _ => String::new(),
        },
        years: (old.year, new.year),
        data_date: new.data_date.clone(),
        source: format!(
            "数据来源：{}年与{}年安全风险分布电子图运行结果对比",
            old.year, new.year
        ),
        city: match cities.as_slice() {
            [(_, c)] => Some(metric.to_metric(&c.boundary)),
            _ => None,
        },
        units,
        grid,
        enterprises: changes
            .enterprises
            .iter()
            .filter_map(|c| {
                let e = c.latest();
                let (x, y) = metric.project(e.at.0, e.at.1);
                Some(ChangePoint {
                    xy: [x, y],
                    mark: mark(c.kind)?,
                    unit: e.unit.clone(),
                })
            })
            .collect(),
    }
}

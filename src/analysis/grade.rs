//! Enterprise grades on the four-colour scale, and the status of hidden dangers.
//!
//! An enterprise keeps its own assessed grade; the rules of the project file
//! (policy, not national standard) can only raise it, and every rule that
//! fires is recorded with a readable reason and its code. An enterprise
//! without an assessment starts at `grading.unassessed` (blue by default).

use std::collections::HashMap;

use rayon::prelude::*;

use crate::ingest::config::{Condition, Grading, Rule};
use crate::model::{
    DangerLevel, Date, Enterprise, Enterprises, GradeReason, GradeSource, Graded, HazardUnit,
    HiddenDanger, Rating,
};
use crate::styles;

/// Marks open dangers whose due date is before `as_of` as overdue.
pub fn mark_overdue(dangers: &mut [HiddenDanger], as_of: Date) {
    for d in dangers {
        d.overdue = d.status.is_open() && d.due.is_some_and(|due| due < as_of);
    }
}

/// What one enterprise has that the rules look at.
#[derive(Default)]
struct Facts<'a> {
    /// (unit id, major-hazard grade, R) of its major hazard sources.
    major: Vec<(&'a str, u8, f64)>,
    /// (danger id, overdue) of its open major hidden dangers.
    open_major: Vec<(&'a str, bool)>,
}

/// Lists up to three items and says how many more there are.
fn some_of(items: Vec<String>) -> String {
    let more = items.len().saturating_sub(3);
    let mut text = items.into_iter().take(3).collect::<Vec<_>>().join("、");
    if more > 0 {
        text.push_str(&format!(" 等{}处", more + 3));
    }
    text
}

/// The reason a rule gives, or `None` when it does not fire.
fn fire(rule: &Rule, facts: &Facts) -> Option<String> {
    match rule.when {
        Condition::MajorHazard => {
            let hits: Vec<String> = facts
                .major
                .iter()
                .filter(|(_, g, _)| rule.hazard_grades.contains(g))
                .map(|(id, g, r)| {
                    format!(
                        "{}重大危险源 {id}（R={r:.1}）",
                        crate::analysis::hazard::grade_label_zh(Some(*g))
                    )
                })
                .collect();
            (!hits.is_empty()).then(|| format!("存在{}", some_of(hits)))
        }
        Condition::OpenMajorDanger => {
            let hits: Vec<String> = facts
                .open_major
                .iter()
                .map(|(id, overdue)| {
                    if *overdue {
                        format!("{id}（已逾期）")
                    } else {
                        id.to_string()
                    }
                })
                .collect();
            (!hits.is_empty()).then(|| format!("存在未整改重大事故隐患 {}", some_of(hits)))
        }
    }
}

/// Grades every enterprise: from here on each has a settled rating.
pub fn grade_enterprises(
    enterprises: Enterprises,
    units: &[HazardUnit],
    dangers: &[HiddenDanger],
    grading: &Grading,
) -> Enterprises<Graded> {
    let mut facts: HashMap<&str, Facts> = HashMap::new();
    for u in units {
        if let (Some(g), Some(a)) = (u.major_grade(), &u.assessment) {
            facts
                .entry(u.enterprise_id.as_str())
                .or_default()
                .major
                .push((u.id.as_str(), g, a.r));
        }
    }
    for d in dangers {
        if let (Some(e), DangerLevel::Major, true) = (&d.enterprise_id, d.level, d.status.is_open())
        {
            facts
                .entry(e.as_str())
                .or_default()
                .open_major
                .push((d.id.as_str(), d.overdue));
        }
    }
    let none = Facts::default();
    let ratings: Vec<Rating> = enterprises
        .par_iter()
        .map(|e| rate(e, facts.get(e.id()).unwrap_or(&none), grading))
        .collect();
    let mut ratings = ratings.into_iter();
    enterprises.map(|enterprise| Graded {
        enterprise,
        rating: ratings.next().expect("one rating per enterprise"),
    })
}

/// One enterprise's rating: its own assessment (or the default), raised by
/// every enabled rule that fires.
fn rate(e: &Enterprise, f: &Facts, grading: &Grading) -> Rating {
    let mut rating = match e.assessed_grade {
        Some(g) => Rating {
            grade: g,
            source: GradeSource::Assessed,
            reasons: Vec::new(),
        },
        None => Rating {
            grade: grading.unassessed,
            source: GradeSource::Derived,
            reasons: vec![GradeReason {
                code: "unassessed".into(),
                text: format!("无自评等级，按默认{}", styles::label(grading.unassessed)),
            }],
        },
    };
    for rule in grading.rules.iter().filter(|r| r.enabled) {
        if let Some(text) = fire(rule, f) {
            let raised = rule.raise_to > rating.grade;
            let effect = if raised {
                format!("，定为{}", styles::label(rule.raise_to))
            } else {
                "，等级已不低于此".to_string()
            };
            rating.reasons.push(GradeReason {
                code: rule.id.clone(),
                text: format!("{text}{effect}"),
            });
            if raised {
                rating.grade = rule.raise_to;
                rating.source = GradeSource::Derived;
            }
        }
    }
    rating
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::chemicals::resolve;
    use crate::analysis::hazard::{assess, AlphaSource};
    use crate::ingest::config::default_rules;
    use crate::model::DangerStatus;
    use crate::model::{Grade, UnitKind};
    use geo::Point;

    fn enterprise(id: &str, assessed: Option<Grade>) -> Enterprise {
        Enterprise {
            text: crate::model::EnterpriseText::new(id, &format!("{id} 公司"), None, None),
            lon_lat: Point::new(120.0, 31.5),
            assessed_grade: assessed,
            people_500m: None,
            admin: Default::default(),
        }
    }

    /// A unit holding `chlorine_t` of chlorine with `people` around it.
    fn unit(id: &str, enterprise: &str, chlorine_t: f64, people: u32) -> HazardUnit {
        let a = assess(
            &[("氯", chlorine_t, resolve("氯", None, None).unwrap())],
            people,
            AlphaSource::Input,
            false,
        );
        HazardUnit {
            id: id.into(),
            enterprise_id: enterprise.into(),
            name: "1号储罐区".into(),
            kind: UnitKind::TankFarm,
            lon_lat: Point::new(120.0, 31.5),
            located_by_enterprise: true,
            radius_m: None,
            people_500m: Some(people),
            chemicals: Vec::new(),
            incomplete: false,
            admin: Default::default(),
            assessment: Some(a),
        }
    }

    fn danger(
        id: &str,
        enterprise: &str,
        level: DangerLevel,
        status: DangerStatus,
        due: Date,
    ) -> HiddenDanger {
        HiddenDanger {
            id: id.into(),
            enterprise_id: Some(enterprise.into()),
            description: "储罐区防火堤破损".into(),
            level,
            status,
            found: None,
            due: Some(due),
            lon_lat: Point::new(120.0, 31.5),
            located_by_enterprise: true,
            admin: Default::default(),
            overdue: false,
        }
    }

    fn grading() -> Grading {
        Grading {
            unassessed: Grade::Blue,
            rules: default_rules(),
        }
    }

    #[test]
    fn rules_raise_but_never_lower() {
        let es = vec![
            enterprise("A", Some(Grade::Blue)),   // grade-1 source → red
            enterprise("B", None),                // grade-3 source → orange
            enterprise("C", Some(Grade::Red)),    // grade-4 source: stays red
            enterprise("D", Some(Grade::Yellow)), // nothing fires
        ];
        // 氯 (Q 5 t, β 4): 250 t with 100 people → R = 2 × 4 × 50 = 400 (grade 1);
        // 15 t with 40 people → R = 1.2 × 4 × 3 = 14.4 (grade 3);
        // 5 t with nobody → R = 0.5 × 4 × 1 = 2 (grade 4).
        let units = vec![
            unit("U1", "A", 250.0, 100),
            unit("U2", "B", 15.0, 40),
            unit("U3", "C", 5.0, 0),
        ];
        let es = grade_enterprises(Enterprises::new(es), &units, &[], &grading());
        let r = |i: usize| es[i].rating.clone();
        assert_eq!(
            (r(0).grade, r(0).source),
            (Grade::Red, GradeSource::Derived)
        );
        assert!(
            r(0).reason_text().contains("一级重大危险源 U1")
                && r(0).reason_text().contains("[major_hazard_1_2]")
        );
        assert_eq!(r(1).grade, Grade::Orange);
        assert_eq!(r(1).reasons[0].code, "unassessed");
        assert_eq!(
            (r(2).grade, r(2).source),
            (Grade::Red, GradeSource::Assessed)
        );
        assert!(
            r(2).reasons[0].text.contains("已不低于"),
            "a rule that fires is recorded even when it does not raise"
        );
        assert_eq!(
            (r(3).grade, r(3).source, r(3).reasons.len()),
            (Grade::Yellow, GradeSource::Assessed, 0)
        );
    }

    #[test]
    fn open_major_danger_makes_red_and_overdue_is_marked() {
        let sept = Date {
            year: 2026,
            month: 9,
            day: 1,
        };
        let as_of = Date {
            year: 2026,
            month: 10,
            day: 31,
        };
        let mut ds = vec![
            danger("Y1", "A", DangerLevel::Major, DangerStatus::Pending, sept),
            danger("Y2", "B", DangerLevel::Major, DangerStatus::Rectified, sept),
            danger("Y3", "C", DangerLevel::General, DangerStatus::Pending, sept),
            danger(
                "Y4",
                "D",
                DangerLevel::Major,
                DangerStatus::InProgress,
                Date {
                    year: 2026,
                    month: 12,
                    day: 1,
                },
            ),
        ];
        mark_overdue(&mut ds, as_of);
        assert_eq!(
            ds.iter().map(|d| d.overdue).collect::<Vec<_>>(),
            [true, false, true, false]
        );
        let es: Vec<Enterprise> = ["A", "B", "C", "D"]
            .iter()
            .map(|id| enterprise(id, Some(Grade::Blue)))
            .collect();
        let es = grade_enterprises(Enterprises::new(es), &[], &ds, &grading());
        let grades: Vec<Grade> = es.iter().map(Graded::grade).collect();
        assert_eq!(grades, [Grade::Red, Grade::Blue, Grade::Blue, Grade::Red]);
        assert!(es[0].rating.reason_text().contains("Y1（已逾期）"));
    }

    #[test]
    fn a_switched_off_rule_does_not_fire() {
        let mut g = grading();
        g.rules
            .iter_mut()
            .for_each(|r| r.enabled = r.id != "major_hazard_1_2");
        let es = Enterprises::new(vec![enterprise("A", Some(Grade::Blue))]);
        let es = grade_enterprises(es, &[unit("U1", "A", 250.0, 100)], &[], &g);
        assert_eq!(es[0].grade(), Grade::Blue);
    }
}

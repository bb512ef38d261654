//! Major hazard sources by GB 18218-2018《危险化学品重大危险源辨识》.
//!
//! The standard's tables live in `data/gb18218/` (with their provenance note)
//! and are compiled in. For each hazard unit:
//!
//! * **identification** (clause 4.2.1): S = Σ qᵢ/Qᵢ; the unit is a major
//!   hazard source when S ≥ 1. Q comes from Table 1 or Table 2 as
//!   [`crate::analysis::chemicals`] identifies each inventory line;
//! * **grading** (clause 4.3.2): R = α Σ βᵢ qᵢ/Qᵢ; grade 1 (R ≥ 100),
//!   2 (50 ≤ R < 100), 3 (10 ≤ R < 50), 4 (R < 10); no grade when S < 1.
//!   β from Table 3 for the named toxic gases, else Table 4 by category;
//!   a Table 1 chemical given without a category takes the conservative β of
//!   its group, and the result says so. α from Table 5 by the people outside
//!   the plant within 500 m.
//!
//! S and R are compared with their thresholds after rounding to 1e-9, so a
//! value that is exactly on a boundary in decimal (R = 10) is not pushed
//! below it by binary floating point.

use rayon::prelude::*;

use crate::analysis::gb18218::tables;
use crate::analysis::spatial::PointIndex;
use crate::crs::MetricCrs;
pub use crate::model::{AlphaSource, Assessment, ChemicalShare, Resolved};
use crate::model::{Enterprises, HazardUnit, VulnerableTarget};

/// Rounds for threshold comparisons (see the module note).
fn settle(v: f64) -> f64 {
    (v * 1e9).round() / 1e9
}

/// The Chinese name of a major-hazard grade (Table 6): 一级 … 四级; empty for none.
pub fn grade_label_zh(grade: Option<u8>) -> &'static str {
    match grade {
        Some(1) => "一级",
        Some(2) => "二级",
        Some(3) => "三级",
        Some(4) => "四级",
        _ => "",
    }
}

/// Major-hazard grade (1–4) by R, Table 6; boundaries belong to the higher grade.
pub fn grade_for_r(r: f64) -> u8 {
    match settle(r) {
        r if r >= 100.0 => 1,
        r if r >= 50.0 => 2,
        r if r >= 10.0 => 3,
        _ => 4,
    }
}

/// Identifies and grades a unit from its resolved inventory.
///
/// ```
/// use riskatlas::analysis::chemicals::resolve;
/// use riskatlas::analysis::hazard::{assess, AlphaSource};
/// // 氯 5 t + 氨 5 t, nobody within 500 m: S = 1.5, R = 0.5 × (4×1 + 2×0.5) = 2.5, grade 4.
/// let inv = vec![("氯", 5.0, resolve("氯", None, None).unwrap()), ("氨", 5.0, resolve("氨", None, None).unwrap())];
/// let a = assess(&inv, 0, AlphaSource::Input, false);
/// assert!((a.s - 1.5).abs() < 1e-12 && (a.r - 2.5).abs() < 1e-12);
/// assert_eq!(a.grade, Some(4));
/// ```
pub fn assess(
    inventory: &[(&str, f64, Resolved)],
    people_500m: u32,
    alpha_source: AlphaSource,
    incomplete: bool,
) -> Assessment {
    let shares: Vec<ChemicalShare> = inventory
        .iter()
        .map(|(name, q, res)| ChemicalShare {
            name: name.to_string(),
            quantity_t: *q,
            resolved: res.clone(),
            ratio: res.critical_t.map_or(0.0, |critical| q / critical),
        })
        .collect();
    // Folded from +0.0: an empty sum is then 0, not -0.
    let s: f64 = shares.iter().map(|c| c.ratio).fold(0.0, |a, b| a + b);
    let alpha = tables().alpha(people_500m);
    let r = alpha
        * shares
            .iter()
            .map(|c| c.resolved.beta * c.ratio)
            .fold(0.0, |a, b| a + b);
    let is_major = settle(s) >= 1.0;
    Assessment {
        s,
        is_major,
        alpha,
        alpha_source,
        people_500m,
        r,
        grade: is_major.then(|| grade_for_r(r)),
        shares,
        incomplete,
    }
}

/// Table 5 counts the people outside the plant within this distance.
pub const PEOPLE_RADIUS_M: f64 = 500.0;

/// The hazard stage: identifies and grades every unit in place.
///
/// The people count behind α is the unit's own `people_500m`, else its
/// enterprise's (`alpha_source = input`), else the summed population of the
/// vulnerable targets within 500 m of the enterprise (`estimated`).
pub fn assess_units(
    units: &mut [HazardUnit],
    enterprises: &Enterprises,
    targets: &[VulnerableTarget],
    metric: &MetricCrs,
) {
    let target_index = PointIndex::new(targets.par_iter().map(|t| t.lon_lat), metric);
    units.par_iter_mut().for_each(|u| {
        let enterprise = enterprises.get(&u.enterprise_id);
        let given = u.people_500m.or(enterprise.and_then(|e| e.people_500m));
        let (people, source) = match given {
            Some(p) => (p, AlphaSource::Input),
            None => {
                let at = enterprise.map(|e| e.lon_lat).unwrap_or(u.lon_lat);
                let sum: u64 = target_index
                    .within(at, PEOPLE_RADIUS_M)
                    .iter()
                    .map(|(i, _)| u64::from(targets[*i].population.unwrap_or(0)))
                    .sum();
                (sum.min(u64::from(u32::MAX)) as u32, AlphaSource::Estimated)
            }
        };
        // Every accepted line was identified when it was checked.
        let inventory: Vec<(&str, f64, Resolved)> = u
            .chemicals
            .iter()
            .map(|c| (c.name.as_str(), c.quantity_t, c.resolved.clone()))
            .collect();
        u.assessment = Some(assess(&inventory, people, source, u.incomplete));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::chemicals::resolve;

    fn inv(items: &[(&'static str, f64)]) -> Vec<(&'static str, f64, Resolved)> {
        items
            .iter()
            .map(|&(n, q)| (n, q, resolve(n, None, None).unwrap()))
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn chlorine_and_ammonia_with_nobody_around() {
        let a = assess(
            &inv(&[("氯", 5.0), ("氨", 5.0)]),
            0,
            AlphaSource::Input,
            false,
        );
        assert!(close(a.s, 1.5), "S = {}", a.s);
        assert!(close(a.alpha, 0.5));
        assert!(close(a.r, 2.5), "R = {}", a.r);
        assert_eq!(a.grade, Some(4));
    }

    #[test]
    fn chlorine_250_t_with_100_people() {
        let a = assess(&inv(&[("氯", 250.0)]), 100, AlphaSource::Input, false);
        assert!(close(a.s, 50.0));
        assert!(close(a.alpha, 2.0));
        assert!(close(a.r, 400.0));
        assert_eq!(a.grade, Some(1));
    }

    #[test]
    fn exactly_s_one_is_major_and_just_below_is_not() {
        let a = assess(&inv(&[("甲醇", 500.0)]), 10, AlphaSource::Input, false);
        assert!(a.is_major && a.grade.is_some());
        let b = assess(&inv(&[("甲醇", 499.9)]), 10, AlphaSource::Input, false);
        assert!(!b.is_major && b.grade.is_none());
        // Decimal sums that are 1 in exact arithmetic: 0.1 + 0.2 + 0.7 of Q.
        let c = assess(
            &inv(&[("氯", 0.5), ("氯", 1.0), ("氯", 3.5)]),
            0,
            AlphaSource::Input,
            false,
        );
        assert!(c.is_major, "S = {}", c.s);
    }

    #[test]
    fn r_boundaries_belong_to_the_higher_grade() {
        assert_eq!(grade_for_r(100.0), 1);
        assert_eq!(grade_for_r(99.999), 2);
        assert_eq!(grade_for_r(50.0), 2);
        assert_eq!(grade_for_r(49.99), 3);
        assert_eq!(grade_for_r(10.0), 3);
        assert_eq!(grade_for_r(9.99), 4);
        // Hydrogen sulphide (β = 5, Q = 5 t) with 1–29 people (α = 1):
        // R = 5 × q/5 = q, so q = 10, 50, 100 t land exactly on the boundaries.
        for (q, grade) in [(10.0, 3), (50.0, 2), (100.0, 1)] {
            let a = assess(&inv(&[("硫化氢", q)]), 20, AlphaSource::Input, false);
            assert!(close(a.r, q), "R = {}", a.r);
            assert_eq!(a.grade, Some(grade), "R = {q}");
        }
    }

    #[test]
    fn table2_category_chemical() {
        // Not in Table 1: Q and β from its category (W5.3: Q = 1000 t, β = 1).
        let r = resolve("某溶剂混合物", None, Some("W5.3")).unwrap();
        assert_eq!((r.critical_t, r.beta), (Some(1000.0), 1.0));
        assert_eq!(r.q_source, "table2:W5.3");
        assert!(!r.beta_assumed);
        let a = assess(
            &[("某溶剂混合物", 1500.0, r)],
            60,
            AlphaSource::Input,
            false,
        );
        assert!(close(a.s, 1.5) && close(a.r, 1.5 * 1.5) && a.grade == Some(4));
    }

    #[test]
    fn toxic_gas_beta_from_table3() {
        let r = resolve("液氯", None, None).unwrap();
        assert_eq!((r.critical_t, r.beta), (Some(5.0), 4.0));
        assert_eq!(r.beta_source, "table3");
        let r = resolve("光气", Some("75-44-5"), None).unwrap();
        assert_eq!((r.critical_t, r.beta), (Some(0.3), 20.0));
    }

    #[test]
    fn table1_without_category_takes_the_conservative_group_beta() {
        let r = resolve("甲苯", None, None).unwrap();
        assert_eq!(r.critical_t, Some(500.0));
        assert!(
            r.beta_assumed
                && r.beta == 1.5
                && r.beta_source.starts_with("assumed:flammable_liquid")
        );
        // With its category given, Table 4 applies.
        let r = resolve("甲苯", None, Some("W5.3")).unwrap();
        assert!(!r.beta_assumed && r.beta == 1.0);
    }

    #[test]
    fn unknown_chemicals() {
        // With a category: resolved by Table 2.
        assert!(resolve("不明液体", None, Some("W5.4")).is_ok());
        // Without: an error that says why.
        let e = resolve("不明液体", None, None).unwrap_err();
        assert!(e.contains("Table 1") && e.contains("category"), "{e}");
    }
}

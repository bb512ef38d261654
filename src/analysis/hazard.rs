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

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use crate::analysis::chemicals::{normalise_name, resolve};
use crate::analysis::spatial::PointIndex;
use crate::crs::MetricCrs;
pub use crate::model::{AlphaSource, Assessment, ChemicalShare, Resolved};
use crate::model::{Enterprises, HazardUnit, VulnerableTarget};

const TABLE1_CSV: &str = include_str!("../../data/gb18218/table1_named_chemicals.csv");
/// Table 2 joined with Table 4 (code, category, description, Q, β).
const TABLE2_CSV: &str = include_str!("../../data/gb18218/table2_categories.csv");
const TABLE3_CSV: &str = include_str!("../../data/gb18218/table3_toxic_gas_beta.csv");
const TABLE5_CSV: &str = include_str!("../../data/gb18218/table5_alpha.csv");

/// A Table 1 chemical.
#[derive(Debug, Clone)]
pub struct NamedChemical {
    /// Sequence number in Table 1.
    pub seq: u32,
    /// Name as the standard gives it.
    pub name: String,
    /// Other names the chemical is known by, matched like the name.
    pub aliases: Vec<String>,
    /// CAS numbers; some rows have several, and some CAS numbers several rows.
    pub cas: Vec<String>,
    /// Critical quantity Q in tonnes.
    pub critical_t: f64,
    /// Coarse hazard group (not part of the standard), for the conservative β.
    pub group: String,
}

/// A Table 2 category with its Table 4 β.
#[derive(Debug, Clone)]
pub struct Category {
    /// Category code, e.g. `J1` or `W5.3`.
    pub code: String,
    /// Hazard category name (急性毒性 …), without the description column.
    pub name: String,
    /// Critical quantity Q in tonnes (Table 2).
    pub critical_t: f64,
    /// Correction coefficient β (Table 4).
    pub beta: f64,
}

/// The compiled-in tables and their lookup indexes.
pub struct Tables {
    /// Table 1 rows, in table order.
    pub named: Vec<NamedChemical>,
    /// Table 2 rows, in table order.
    pub categories: Vec<Category>,
    /// Table 3: (normalised name, CAS, β).
    toxic_gases: Vec<(String, String, f64)>,
    /// Table 5 rows: (min people, max people or None, α).
    alpha_rows: Vec<(u32, Option<u32>, f64)>,
    /// Table 1 rows by CAS number.
    pub(crate) by_cas: HashMap<String, Vec<usize>>,
    /// Table 1 row by normalised name or alias (a name in several rows:
    /// the smallest Q).
    pub(crate) by_name: HashMap<String, usize>,
}

/// Splits one RFC 4180 line (names in the tables contain quoted commas).
pub fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            _ => out.last_mut().expect("non-empty").push(c),
        }
    }
    out
}

/// The data rows of one of the compiled-in tables (after its header).
pub(crate) fn csv_rows(csv: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    csv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(split_csv_line)
}

fn list(cell: &str) -> Vec<String> {
    cell.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Tables {
    fn parse() -> Tables {
        let named: Vec<NamedChemical> = csv_rows(TABLE1_CSV)
            .map(|r| NamedChemical {
                seq: r[0].parse().expect("table 1 seq"),
                name: r[1].clone(),
                aliases: list(&r[2]),
                cas: list(&r[3]),
                critical_t: r[4].parse().expect("table 1 Q"),
                group: r[5].clone(),
            })
            .collect();
        let categories = csv_rows(TABLE2_CSV)
            .map(|r| Category {
                code: r[0].clone(),
                name: r[1].clone(),
                critical_t: r[3].parse().expect("table 2 Q"),
                beta: r[4].parse().expect("table 4 β"),
            })
            .collect();
        let toxic_gases = csv_rows(TABLE3_CSV)
            .map(|r| {
                (
                    normalise_name(&r[0]),
                    r[1].clone(),
                    r[2].parse().expect("table 3 β"),
                )
            })
            .collect();
        let alpha_rows = csv_rows(TABLE5_CSV)
            .map(|r| {
                (
                    r[0].parse().expect("table 5 min"),
                    r[1].parse().ok(),
                    r[2].parse().expect("table 5 α"),
                )
            })
            .collect();
        let mut by_cas: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_name = HashMap::new();
        for (i, c) in named.iter().enumerate() {
            for cas in &c.cas {
                by_cas.entry(cas.clone()).or_default().push(i);
            }
            for n in std::iter::once(&c.name).chain(&c.aliases) {
                // A name shared by several rows (硝化棉) resolves to the one
                // with the smallest Q, the conservative choice.
                let slot = by_name.entry(normalise_name(n)).or_insert(i);
                if named[i].critical_t < named[*slot].critical_t {
                    *slot = i;
                }
            }
        }
        Tables {
            named,
            categories,
            toxic_gases,
            alpha_rows,
            by_cas,
            by_name,
        }
    }

    /// Table 2 category by code.
    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// Table 3 β of a named toxic gas, by name (or its Table 1 row) or CAS.
    pub(crate) fn toxic_gas_beta(
        &self,
        name: &str,
        cas: Option<&str>,
        row: Option<&NamedChemical>,
    ) -> Option<f64> {
        let mut names = vec![normalise_name(name)];
        if let Some(r) = row {
            names.push(normalise_name(&r.name));
            names.extend(r.aliases.iter().map(|a| normalise_name(a)));
        }
        let cases: Vec<&str> = cas
            .into_iter()
            .chain(row.iter().flat_map(|r| r.cas.iter().map(String::as_str)))
            .collect();
        self.toxic_gases
            .iter()
            .find(|(n, c, _)| names.contains(n) || cases.contains(&c.as_str()))
            .map(|(_, _, b)| *b)
    }

    /// α for a number of exposed people (Table 5).
    pub fn alpha(&self, people: u32) -> f64 {
        self.alpha_rows
            .iter()
            .find(|(min, max, _)| people >= *min && max.is_none_or(|m| people <= m))
            .map(|(_, _, a)| *a)
            .expect("table 5 covers every count")
    }
}

/// The compiled-in tables.
pub fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(Tables::parse)
}

/// Whether `code` is a Table 2 category code (case-sensitive, upper case).
///
/// ```
/// assert!(riskatlas::analysis::hazard::is_category_code("W5.3"));
/// assert!(!riskatlas::analysis::hazard::is_category_code("W12"));
/// ```
pub fn is_category_code(code: &str) -> bool {
    static CODES: OnceLock<BTreeSet<String>> = OnceLock::new();
    CODES
        .get_or_init(|| tables().categories.iter().map(|c| c.code.clone()).collect())
        .contains(code)
}

/// The conservative β for a Table 1 group when no category is given: the
/// largest Table 4 β among the categories the group can fall in.
pub fn conservative_beta(group: &str) -> (f64, &'static str) {
    match group {
        "toxic" => (4.0, "J1"),
        "explosive" => (2.0, "W1.1"),
        "flammable_gas" => (1.5, "W2"),
        "oxidizing_gas" => (1.0, "W4"),
        "flammable_liquid" => (1.5, "W5.1"),
        _ => (1.5, "W6.1/W7.1"),
    }
}

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
    let target_index = PointIndex::new(targets.iter().map(|t| t.lon_lat), metric);
    for u in units.iter_mut() {
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
        // Every accepted line resolves (validation rejected the others).
        let inventory: Vec<(&str, f64, Resolved)> = u
            .chemicals
            .iter()
            .filter_map(|c| {
                resolve(&c.name, c.cas.as_deref(), c.category.as_deref())
                    .ok()
                    .map(|r| (c.name.as_str(), c.quantity_t, r))
            })
            .collect();
        u.assessment = Some(assess(&inventory, people, source, u.incomplete));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn tables_are_complete() {
        let t = tables();
        assert_eq!(t.named.len(), 85);
        assert_eq!(t.categories.len(), 24);
        assert_eq!(t.toxic_gases.len(), 14);
        assert!(is_category_code("J1") && is_category_code("W11"));
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

    #[test]
    fn alpha_by_people() {
        let t = tables();
        assert_eq!(
            [0, 1, 29, 30, 49, 50, 99, 100, 5000].map(|p| t.alpha(p)),
            [0.5, 1.0, 1.0, 1.2, 1.2, 1.5, 1.5, 2.0, 2.0]
        );
    }
}

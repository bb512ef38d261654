//! Chemical identification: an inventory line (name, CAS, category) to its
//! GB 18218-2018 row, with how it matched, so every Q and β can be traced.
//!
//! Matching order, first hit wins:
//! 1. **CAS** in Table 1; a CAS in several rows (硝酸铵, 硝化纤维素) is
//!    settled by the name, else the row with the smallest Q is taken and the
//!    choice recorded;
//! 2. the **name or an alias** of a Table 1 row (after [`crate::analysis::gb18218::normalise_name`]);
//! 3. the **synonym table** `data/gb18218/synonyms.csv`: common, trade and
//!    English names of Table 1 chemicals (液化石油气, LPG, 天然气 …), and of
//!    common Table 2 chemicals with their category (柴油 W5.4, 丙烯 W2 …);
//! 4. 2 and 3 again with **concentration and grade qualifiers removed**
//!    (`盐酸(31%)`, `氨水 20%`, `甲醇(工业级)`);
//! 5. the **Table 2 category** the line gives.
//!
//! Where a row depends on a qualifier, the stated percentage decides: 甲醛
//! is row 8 only above 90 %, 硝酸 row 81 only above 70 %, 硝酸铵 row 43 or
//! 44 by its combustible content. Without the qualifier the conservative
//! row (smallest Q) is taken and the choice recorded. A substance the
//! synonym table marks as outside GB 18218 (corrosive only: 盐酸, 硫酸,
//! 氢氧化钠, 氨水 …) is accepted with q/Q = 0 unless the line gives a
//! category. A line that matches nothing is rejected with the closest
//! Table 1 names.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::analysis::gb18218::{
    conservative_beta, csv_rows, normalise_name, tables, Category, NamedChemical, Tables,
};
use crate::model::{MatchedBy, Resolved};

const SYNONYMS_CSV: &str = include_str!("../../data/gb18218/synonyms.csv");

/// Where a synonym leads.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    /// A Table 1 row, by its index in [`Tables::named`].
    Row(usize),
    /// A substance not in Table 1, in a Table 2 category (by code).
    Category(String),
    /// A substance in no Table 1 row and no Table 2 category, and why.
    NotCovered(String),
}

/// One line of the synonym table.
#[derive(Debug, Clone)]
struct Synonym {
    target: Target,
    /// Set when the synonym stands for several rows (or for a row only at
    /// some concentration): the choice it makes, for the trace.
    note: Option<String>,
}

/// The synonym table by normalised name.
fn synonyms() -> &'static HashMap<String, Synonym> {
    static S: OnceLock<HashMap<String, Synonym>> = OnceLock::new();
    S.get_or_init(|| {
        let t = tables();
        let seq_index: HashMap<u32, usize> = t
            .named
            .iter()
            .enumerate()
            .map(|(i, c)| (c.seq, i))
            .collect();
        csv_rows(SYNONYMS_CSV)
            .map(|r| {
                let mut note = r.get(2).filter(|n| !n.is_empty()).cloned();
                let target = match r[1].as_str() {
                    // For these the note is the reason, not a choice.
                    "none" => Target::NotCovered(note.take().unwrap_or_default()),
                    row if row.starts_with("table2:") => {
                        let code = &row["table2:".len()..];
                        assert!(
                            t.category(code).is_some(),
                            "synonyms.csv: no category {code}"
                        );
                        Target::Category(code.to_string())
                    }
                    row => {
                        let seq: u32 = row
                            .strip_prefix("table1:")
                            .and_then(|s| s.parse().ok())
                            .expect("synonyms.csv targets are table1:<seq>, table2:<code> or none");
                        Target::Row(seq_index[&seq])
                    }
                };
                (normalise_name(&r[0]), Synonym { target, note })
            })
            .collect()
    })
}

/// Words of a name that say a grade or form, not a different substance.
const GRADE_WORDS: [&str; 8] = [
    "工业级",
    "工业用",
    "试剂级",
    "分析纯",
    "化学纯",
    "优级纯",
    "精制",
    "工业",
];

/// A normalised name without its concentration or grade qualifier, and the
/// percentage it stated: `盐酸(31%)` → (`盐酸`, 31), `氨水20%` → (`氨水`, 20),
/// `甲醇(工业级)` → (`甲醇`, none). `None` when there is nothing to remove.
///
/// ```
/// use riskatlas::analysis::chemicals::strip_qualifiers;
/// assert_eq!(strip_qualifiers("盐酸(31%)"), Some(("盐酸".into(), Some(31.0))));
/// assert_eq!(strip_qualifiers("氨水20%"), Some(("氨水".into(), Some(20.0))));
/// assert_eq!(strip_qualifiers("硝酸铵(可燃物0.1%)"), Some(("硝酸铵".into(), Some(0.1))));
/// assert_eq!(strip_qualifiers("甲醇"), None);
/// ```
pub fn strip_qualifiers(norm: &str) -> Option<(String, Option<f64>)> {
    let mut base = norm.to_string();
    let mut percent = None;
    // A bracketed qualifier at the end: (31%), (含量≥99%), (工业级).
    if let Some(open) = base.rfind('(').filter(|_| base.ends_with(')')) {
        let inner = &base[open + 1..base.len() - 1];
        if inner.contains('%') || GRADE_WORDS.iter().any(|w| inner.contains(w)) {
            percent = first_percentage(inner);
            base.truncate(open);
        }
    }
    // A bare percentage at the end: 氨水20%, 硫酸98%, 过氧化氢≥27.5%.
    if base.ends_with('%') {
        let start = base
            .char_indices()
            .rev()
            .skip(1)
            .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || "<>=≤≥~-".contains(*c)))
            .map_or(0, |(i, c)| i + c.len_utf8());
        percent = percent.or_else(|| first_percentage(&base[start..]));
        base.truncate(start);
    }
    for w in GRADE_WORDS {
        if base.len() > w.len() && (base.starts_with(w) || base.ends_with(w)) {
            base = base.replacen(w, "", 1);
        }
    }
    (base != norm && !base.is_empty()).then_some((base, percent))
}

/// The first number followed by `%` in a qualifier. A strict bound counts
/// as just past it (`>90%` is above 90, `<25%` below 25), so it lands on the
/// side of a row's limit it names.
fn first_percentage(text: &str) -> Option<f64> {
    let end = text.find('%')?;
    let start = text[..end]
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let value: f64 = text[start..end].parse().ok()?;
    let nudge = match text[..start].chars().next_back() {
        Some('>') => 1e-9,
        Some('<') => -1e-9,
        _ => 0.0,
    };
    Some(value + nudge)
}

/// A Table 1 match before qualifiers and category are applied.
#[derive(Debug, Clone)]
struct Hit {
    target: Target,
    by: MatchedBy,
    choice: Option<String>,
}

impl Tables {
    /// The Table 1 rows a CAS number is in.
    fn rows_by_cas(&self, cas: &str) -> &[usize] {
        self.by_cas.get(cas.trim()).map_or(&[], Vec::as_slice)
    }

    /// The row whose name or an alias is `norm`, and which of the two it was.
    fn by_name_or_alias(&self, norm: &str) -> Option<(usize, MatchedBy)> {
        let i = *self.by_name.get(norm)?;
        let by = if normalise_name(&self.named[i].name) == norm {
            MatchedBy::Name
        } else {
            MatchedBy::Alias
        };
        Some((i, by))
    }
}

/// The smallest-Q row among `rows` (the conservative choice).
fn conservative(t: &Tables, rows: &[usize]) -> usize {
    *rows
        .iter()
        .min_by(|&&a, &&b| t.named[a].critical_t.total_cmp(&t.named[b].critical_t))
        .expect("at least one row")
}

/// Table 1 by CAS, settled by the name (or the name without qualifiers)
/// when the CAS is in several rows.
fn by_cas(t: &Tables, cas: &str, names: &[&str]) -> Option<Hit> {
    let rows = t.rows_by_cas(cas);
    let row = |i: usize, choice| Hit {
        target: Target::Row(i),
        by: MatchedBy::Cas,
        choice,
    };
    match rows {
        [] => None,
        [only] => Some(row(*only, None)),
        _ => {
            // A name in the CAS's rows settles it (with a choice still, when
            // the name is itself shared by several of them, as 硝化棉 is).
            let named = names.iter().find_map(|n| {
                let i = t.by_name_or_alias(n).map(|(i, _)| i);
                i.filter(|i| rows.contains(i))
                    .map(|i| (i, shared_name_choice(t, n, i)))
            });
            Some(match named {
                Some((i, choice)) => row(i, choice),
                None => {
                    let i = conservative(t, rows);
                    let seqs: Vec<String> =
                        rows.iter().map(|&r| t.named[r].seq.to_string()).collect();
                    row(
                        i,
                        Some(format!(
                            "CAS {} is in Table 1 rows {}; the name does not say which, so row {} ({}, the smallest Q) is taken",
                            cas.trim(),
                            seqs.join(", "),
                            t.named[i].seq,
                            t.named[i].name
                        )),
                    )
                }
            })
        }
    }
}

/// The choice made when `norm` names several Table 1 rows (硝化棉 is an
/// alias of rows 37–41): row `taken`, the smallest Q.
fn shared_name_choice(t: &Tables, norm: &str, taken: usize) -> Option<String> {
    static SHARED: OnceLock<HashMap<String, Vec<u32>>> = OnceLock::new();
    let shared = SHARED.get_or_init(|| {
        let mut by_name: HashMap<String, Vec<u32>> = HashMap::new();
        for c in &tables().named {
            for n in std::iter::once(&c.name).chain(&c.aliases) {
                let seqs = by_name.entry(normalise_name(n)).or_default();
                if !seqs.contains(&c.seq) {
                    seqs.push(c.seq);
                }
            }
        }
        by_name.retain(|_, seqs| seqs.len() > 1);
        by_name
    });
    let rows: Vec<String> = shared.get(norm)?.iter().map(u32::to_string).collect();
    Some(format!(
        "{norm} names Table 1 rows {}; row {} ({}, the smallest Q) is taken",
        rows.join(", "),
        t.named[taken].seq,
        t.named[taken].name
    ))
}

/// Table 1 by name, alias or synonym of `norm`.
fn by_any_name(t: &Tables, norm: &str) -> Option<Hit> {
    if let Some((i, by)) = t.by_name_or_alias(norm) {
        return Some(Hit {
            target: Target::Row(i),
            by,
            choice: shared_name_choice(t, norm, i),
        });
    }
    let s = synonyms().get(norm)?;
    Some(Hit {
        target: s.target.clone(),
        by: if matches!(s.target, Target::NotCovered(_)) {
            MatchedBy::NotCovered
        } else {
            MatchedBy::Synonym
        },
        choice: s.note.clone(),
    })
}

/// What a stated percentage makes of a Table 1 hit on rows that depend on
/// it: the hit (perhaps moved to the right row, its choice settled), or why
/// the row does not apply.
fn apply_percentage(t: &Tables, mut hit: Hit, percent: f64, norm: &str) -> Result<Hit, String> {
    let Target::Row(i) = hit.target else {
        return Ok(hit);
    };
    let seq = t.named[i].seq;
    let row_of = |seq: u32| t.named.iter().position(|c| c.seq == seq);
    let not_row = |limit: &str| {
        format!(
            "{percent} % is not GB 18218 Table 1 row {seq} ({}), which covers only {limit}",
            t.named[i].name
        )
    };
    match seq {
        8 if percent <= 90.0 => Err(not_row("more than 90 %")),
        81 if percent <= 70.0 => Err(not_row("more than 70 %")),
        43 | 44 if norm.contains("可燃物") => {
            let want = if percent > 0.2 { 43 } else { 44 };
            hit.target = Target::Row(row_of(want).expect("rows 43 and 44"));
            hit.choice = None;
            Ok(hit)
        }
        8 | 81 => {
            hit.choice = None;
            Ok(hit)
        }
        _ => Ok(hit),
    }
}

/// The Table 1 match of a line, in the module's order, or why a row that
/// matched does not apply at the stated percentage.
fn match_table1(name: &str, cas: Option<&str>) -> Result<Option<Hit>, String> {
    let t = tables();
    let norm = normalise_name(name);
    let stripped = strip_qualifiers(&norm);
    let base = stripped.as_ref().map(|(b, _)| b.as_str());
    let names: Vec<&str> = std::iter::once(norm.as_str()).chain(base).collect();
    let hit = cas
        .and_then(|c| by_cas(t, c, &names))
        .or_else(|| by_any_name(t, &norm))
        .or_else(|| {
            base.and_then(|b| by_any_name(t, b)).map(|mut h| {
                if h.by != MatchedBy::NotCovered {
                    h.by = MatchedBy::Qualified;
                }
                h
            })
        });
    match (hit, stripped.and_then(|(_, p)| p)) {
        (Some(h), Some(p)) => apply_percentage(t, h, p, &norm).map(Some),
        (hit, _) => Ok(hit),
    }
}

/// Finds Q and β for a chemical, and how, or says why it cannot be.
///
/// ```
/// use riskatlas::analysis::chemicals::resolve;
/// use riskatlas::model::MatchedBy;
/// let r = resolve("液化石油气", None, None).unwrap();
/// assert_eq!((r.critical_t, r.q_source.as_str(), r.matched_by), (Some(50.0), "table1:52", MatchedBy::Synonym));
/// ```
pub fn resolve(name: &str, cas: Option<&str>, category: Option<&str>) -> Result<Resolved, String> {
    let t = tables();
    let cat = category.and_then(|c| t.category(c));
    if category.is_some() && cat.is_none() {
        return Err(format!(
            "category {:?} is not a GB 18218 Table 2 code",
            category.unwrap_or("")
        ));
    }
    let hit = match match_table1(name, cas) {
        Ok(hit) => hit,
        Err(_) if cat.is_some() => None,
        Err(why) => return Err(format!("{name:?}: {why}; {}", HOW_TO_CATEGORISE)),
    };
    match (hit.map(|h| (h.target, h.by, h.choice)), cat) {
        (Some((Target::Row(i), by, choice)), _) => {
            Ok(from_row(t, &t.named[i], by, choice, name, cas, cat))
        }
        (_, Some(c)) => Ok(from_category(c, MatchedBy::Category, None)),
        (Some((Target::Category(code), _, choice)), None) => {
            let c = t.category(&code).expect("checked when the synonyms load");
            Ok(from_category(c, MatchedBy::Synonym, choice))
        }
        (Some((Target::NotCovered(reason), ..)), None) => Ok(Resolved {
            critical_t: None,
            q_source: "none".into(),
            row_name: reason,
            beta: 0.0,
            beta_source: "none".into(),
            beta_assumed: false,
            matched_by: MatchedBy::NotCovered,
            choice: None,
        }),
        (None, None) => Err(unmatched(name)),
    }
}

/// Q and β of a Table 2 category (β from Table 4).
fn from_category(c: &Category, by: MatchedBy, choice: Option<String>) -> Resolved {
    Resolved {
        critical_t: Some(c.critical_t),
        q_source: format!("table2:{}", c.code),
        row_name: c.name.clone(),
        beta: c.beta,
        beta_source: format!("table4:{}", c.code),
        beta_assumed: false,
        matched_by: by,
        choice,
    }
}

/// How a user places a chemical that Table 1 does not name.
const HOW_TO_CATEGORISE: &str = "if it is not a Table 1 chemical, give its hazard category as a Table 2 code in the category column (e.g. W5.4 for a flammable liquid of category 3, J5 for acute toxicity category 2)";

/// Q and β of a Table 1 hit: β from Table 3 for the named toxic gases, else
/// from the line's category, else the conservative β of the row's group.
fn from_row(
    t: &Tables,
    row: &NamedChemical,
    by: MatchedBy,
    choice: Option<String>,
    name: &str,
    cas: Option<&str>,
    cat: Option<&Category>,
) -> Resolved {
    let (beta, beta_source, beta_assumed) = match (t.toxic_gas_beta(name, cas, Some(row)), cat) {
        (Some(b), _) => (b, "table3".to_string(), false),
        (None, Some(c)) => (c.beta, format!("table4:{}", c.code), false),
        (None, None) => {
            let (b, codes) = conservative_beta(&row.group);
            (b, format!("assumed:{} ({codes})", row.group), true)
        }
    };
    Resolved {
        critical_t: Some(row.critical_t),
        q_source: format!("table1:{}", row.seq),
        row_name: row.name.clone(),
        beta,
        beta_source,
        beta_assumed,
        matched_by: by,
        choice,
    }
}

/// The reject reason for a name nothing matched: the closest Table 1 names
/// and how to give a category.
fn unmatched(name: &str) -> String {
    let near = closest_names(&normalise_name(name), 3);
    let hint = if near.is_empty() {
        String::new()
    } else {
        format!("; closest Table 1 names: {}", near.join(", "))
    };
    format!(
        "{name:?} is not in GB 18218 Table 1 (by CAS, name, alias or synonym) and has no hazard category{hint}; {HOW_TO_CATEGORISE}"
    )
}

/// Up to `n` Table 1 row names nearest `norm` by edit distance over the
/// normalised names, aliases and synonyms, each within half its length.
pub fn closest_names(norm: &str, n: usize) -> Vec<String> {
    let t = tables();
    let mut scored: Vec<(usize, u32, &str)> = Vec::new();
    let mut consider = |candidate: &str, row: &'static NamedChemical| {
        let c = normalise_name(candidate);
        let d = edit_distance(norm, &c);
        if d * 2 <= c.chars().count().max(norm.chars().count()) {
            scored.push((d, row.seq, row.name.as_str()));
        }
    };
    for row in &t.named {
        for c in std::iter::once(&row.name).chain(&row.aliases) {
            consider(c, row);
        }
    }
    for (syn, s) in synonyms() {
        if let Target::Row(i) = s.target {
            consider(syn, &t.named[i]);
        }
    }
    scored.sort();
    let mut out: Vec<String> = Vec::new();
    for (_, _, name) in scored {
        if !out.iter().any(|o| o == name) && out.len() < n {
            out.push(name.to_string());
        }
    }
    out
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::hazard::assess;
    use crate::model::AlphaSource;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn row(name: &str, cas: Option<&str>) -> (String, MatchedBy, Option<String>) {
        let r = resolve(name, cas, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        (r.q_source, r.matched_by, r.choice)
    }

    /// S, R and the grade of an inventory with `people` within 500 m.
    fn grade(items: &[(&str, f64, Option<&str>)], people: u32) -> (f64, f64, Option<u8>) {
        let inv: Vec<(&str, f64, Resolved)> = items
            .iter()
            .map(|&(n, q, cat)| (n, q, resolve(n, None, cat).unwrap()))
            .collect();
        let a = assess(&inv, people, AlphaSource::Input, false);
        (a.s, a.r, a.grade)
    }

    #[test]
    fn lpg_by_its_common_name_grades_like_the_standard_name() {
        // LPG 400 t (Q 50, β 1.5) + methanol 5,000 t (Q 500), 150 people (α 2):
        // S = 8 + 10 = 18; R = 2 × (1.5 × 8 + 1 × 10) = 44 (grade 3) with methanol
        // as W5.3, 2 × (12 + 15) = 54 (grade 2) with its conservative β 1.5.
        for lpg in [
            "液化石油气",
            "液化石油气(含丙烷、丁烷及其混合物)",
            "石油气(液化的)",
            "LPG",
            "ＬＰＧ",
        ] {
            let (s, r, g) = grade(&[(lpg, 400.0, None), ("甲醇", 5000.0, Some("W5.3"))], 150);
            assert!(
                close(s, 18.0) && close(r, 44.0) && g == Some(3),
                "{lpg}: S {s} R {r}"
            );
            let (_, r, g) = grade(&[(lpg, 400.0, None), ("甲醇", 5000.0, None)], 150);
            assert!(close(r, 54.0) && g == Some(2), "{lpg}: R {r}");
        }
    }

    #[test]
    fn every_synonym_class_reaches_its_row() {
        let t1 = |seq: u32| format!("table1:{seq}");
        assert_eq!(row("氯", None).0, t1(12)); // name
        assert_eq!(row("液氯", None).1, MatchedBy::Alias);
        assert_eq!(row("chlorine", None), (t1(12), MatchedBy::Synonym, None)); // English
        assert_eq!(row("天然气", None).0, t1(49)); // common name
        assert_eq!(row("液碱", None).1, MatchedBy::NotCovered);
        assert_eq!(
            row("甲醇(工业级)", None),
            (t1(65), MatchedBy::Qualified, None)
        );
        assert_eq!(row("工业甲醇", None).0, t1(65));
        assert_eq!(row("甲苯 99.5%", None).0, t1(64)); // concentration, spaces
        assert_eq!(row("环氧乙烷（99.9％）", None).0, t1(7)); // full-width forms
        assert_eq!(row("盐酸(31%)", None).1, MatchedBy::NotCovered);
        assert_eq!(row("氨水 20%", None).1, MatchedBy::NotCovered);
        // Hand-computed: 氯 (Q 5, β 4) 10 t as "Chlorine" + 氨水 20 % 100 t,
        // nobody around (α 0.5): S = 2, R = 0.5 × 4 × 2 = 4, grade 4.
        let (s, r, g) = grade(&[("Chlorine", 10.0, None), ("氨水 20%", 100.0, None)], 0);
        assert!(
            close(s, 2.0) && close(r, 4.0) && g == Some(4),
            "S {s} R {r}"
        );
    }

    #[test]
    fn ammonium_nitrate_by_cas_alone_takes_the_conservative_row_and_says_so() {
        let (r, by, choice) = row("某化学品", Some("6484-52-2"));
        assert_eq!((r.as_str(), by), ("table1:43", MatchedBy::Cas));
        assert!(choice.unwrap().contains("43, 44"));
        // The name or its combustible content decides, and no choice is left.
        assert_eq!(
            row("硝酸铵(含可燃物≤0.2%)", Some("6484-52-2")),
            ("table1:44".into(), MatchedBy::Cas, None)
        );
        assert_eq!(
            row("硝酸铵（可燃物0.1%）", None),
            ("table1:44".into(), MatchedBy::Qualified, None)
        );
        assert_eq!(row("硝酸铵(可燃物0.5%)", None).0, "table1:43");
        // A name several rows share leaves a choice, with or without the CAS.
        for cas in [None, Some("9004-70-0")] {
            let (r, _, choice) = row("硝化棉", cas);
            assert_eq!(r, "table1:37");
            assert!(choice.unwrap().contains("37, 38, 39, 40, 41"));
        }
        assert_eq!(
            row("硝化棉(含乙醇≥25%)", None),
            ("table1:39".into(), MatchedBy::Synonym, None)
        );
        let (r, by, choice) = row("硝酸铵", None);
        assert_eq!((r.as_str(), by), ("table1:43", MatchedBy::Synonym));
        assert!(choice.is_some());
    }

    #[test]
    fn formaldehyde_by_its_concentration() {
        // Without a qualifier: row 8, and the choice is recorded.
        let (r, _, choice) = row("甲醛", None);
        assert_eq!(r, "table1:8");
        assert!(choice.unwrap().contains("90 %"));
        assert_eq!(
            row("甲醛(95%)", None),
            ("table1:8".into(), MatchedBy::Qualified, None)
        );
        // At 37 % it is not row 8, whether found by name or by CAS.
        for cas in [None, Some("50-00-0")] {
            let e = resolve("甲醛(37%)", cas, None).unwrap_err();
            assert!(
                e.contains("not GB 18218 Table 1 row 8") && e.contains("category"),
                "{e}"
            );
            let r = resolve("甲醛(37%)", cas, Some("J5")).unwrap();
            assert_eq!(
                (r.q_source.as_str(), r.matched_by),
                ("table2:J5", MatchedBy::Category)
            );
        }
    }

    #[test]
    fn every_table1_row_is_reachable_by_name_cas_and_another_name() {
        let t = tables();
        for c in &t.named {
            let want = format!("table1:{}", c.seq);
            assert_eq!(row(&c.name, None).0, want, "name of row {}", c.seq);
            for cas in &c.cas {
                assert_eq!(
                    row(&c.name, Some(cas)).0,
                    want,
                    "CAS {cas} of row {}",
                    c.seq
                );
            }
            let others = c.aliases.iter().cloned().chain(
                synonyms()
                    .iter()
                    .filter(|(_, s)| {
                        s.target
                            == Target::Row(t.named.iter().position(|x| x.seq == c.seq).unwrap())
                    })
                    .map(|(n, _)| n.clone()),
            );
            assert!(
                others
                    .into_iter()
                    .any(|n| resolve(&n, None, None).is_ok_and(|r| r.q_source == want)),
                "row {} ({}) has no other name that reaches it",
                c.seq,
                c.name
            );
        }
    }

    #[test]
    fn an_unknown_name_gets_the_closest_table1_names() {
        let e = resolve("液化石油汽", None, None).unwrap_err();
        assert!(e.contains("液化石油气(含丙烷、丁烷及其混合物)"), "{e}");
        assert!(e.contains("category"), "{e}");
        assert!(resolve("不明液体", None, Some("W5.4")).is_ok());
    }

    #[test]
    fn common_table2_chemicals_take_their_category_and_say_it_was_chosen() {
        let r = resolve("柴油", None, None).unwrap();
        assert_eq!(
            (r.critical_t, r.q_source.as_str(), r.beta),
            (Some(5000.0), "table2:W5.4", 1.0)
        );
        assert!(r.choice.unwrap().contains("W5.1"));
        // The line's own category wins.
        let r = resolve("柴油", None, Some("W5.1")).unwrap();
        assert_eq!((r.q_source.as_str(), r.choice), ("table2:W5.1", None));
        // 丙烯 is a flammable gas (W2: Q 10 t, β 1.5): 30 t and 60 people (α 1.5)
        // give S = 3, R = 1.5 × 1.5 × 3 = 6.75, grade 4.
        let (s, r, g) = grade(&[("丙烯", 30.0, None)], 60);
        assert!(
            close(s, 3.0) && close(r, 6.75) && g == Some(4),
            "S {s} R {r}"
        );
    }

    #[test]
    fn a_not_covered_line_adds_nothing_and_a_category_overrides_it() {
        let r = resolve("硫酸(98%)", None, None).unwrap();
        assert_eq!((r.critical_t, r.q_source.as_str()), (None, "none"));
        assert!(r.choice.is_none() && r.row_name.contains("corrosive"));
        let r = resolve("硫酸(98%)", None, Some("W9.2")).unwrap();
        assert_eq!(r.critical_t, Some(200.0));
        let (s, r, g) = grade(&[("硫酸(98%)", 1000.0, None)], 0);
        assert!(s == 0.0 && s.is_sign_positive() && r == 0.0 && g.is_none());
    }
}

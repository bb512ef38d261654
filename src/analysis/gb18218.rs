//! The tables of GB 18218-2018 (`data/gb18218/`, compiled in) and their
//! lookup indexes: Table 1's named chemicals by CAS and normalised name,
//! Table 2's categories with their Table 4 β, Table 3's toxic-gas β and
//! Table 5's α. [`crate::analysis::chemicals`] matches inventory lines to
//! these rows; [`crate::analysis::hazard`] computes S and R with them.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

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
/// assert!(riskatlas::analysis::gb18218::is_category_code("W5.3"));
/// assert!(!riskatlas::analysis::gb18218::is_category_code("W12"));
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

/// Normalises a chemical name for lookup: full-width to half-width, no
/// spaces, one kind of bracket, lower-case Latin letters.
///
/// ```
/// use riskatlas::analysis::gb18218::normalise_name;
/// assert_eq!(normalise_name("甲醛（含量＞90％）"), normalise_name("甲醛(含量>90%)"));
/// assert_eq!(normalise_name(" 液 氯 "), "液氯");
/// ```
pub fn normalise_name(name: &str) -> String {
    name.chars()
        .filter_map(|c| {
            let c = match c {
                // Full-width ASCII block → ASCII.
                '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
                '\u{3000}' => ' ',
                '【' | '〔' => '[',
                '】' | '〕' => ']',
                other => other,
            };
            let c = match c {
                '[' | '{' => '(',
                ']' | '}' => ')',
                other => other,
            };
            (!c.is_whitespace()).then(|| c.to_ascii_lowercase())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_complete() {
        let t = tables();
        assert_eq!(t.named.len(), 85);
        assert_eq!(t.categories.len(), 24);
        assert_eq!(t.toxic_gases.len(), 14);
        assert!(is_category_code("J1") && is_category_code("W11"));
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

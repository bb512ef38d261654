//! Major hazard sources by GB 18218-2018: the standard's tables, embedded so
//! the tool runs without any data folder.
//!
//! The tables live in `data/gb18218/` (with their provenance note) and are
//! compiled in. Identification and grading build on them.

use std::collections::BTreeSet;
use std::sync::OnceLock;

/// GB 18218-2018 Table 2 joined with Table 4 (CSV: code, category, description, Q, β).
const TABLE2_CSV: &str = include_str!("../data/gb18218/table2_categories.csv");

/// The Table 2 hazard category codes (J1 … J5, W1.1 … W11).
fn category_codes() -> &'static BTreeSet<String> {
    static CODES: OnceLock<BTreeSet<String>> = OnceLock::new();
    CODES.get_or_init(|| {
        TABLE2_CSV
            .lines()
            .skip(1)
            .filter_map(|line| line.split(',').next())
            .filter(|code| !code.is_empty())
            .map(str::to_string)
            .collect()
    })
}

/// Whether `code` is a Table 2 category code (case-sensitive, upper case).
///
/// ```
/// assert!(riskatlas::hazard::is_category_code("W5.3"));
/// assert!(!riskatlas::hazard::is_category_code("W12"));
/// ```
pub fn is_category_code(code: &str) -> bool {
    category_codes().contains(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table2_has_its_24_categories() {
        assert_eq!(category_codes().len(), 24);
        assert!(is_category_code("J1") && is_category_code("W11"));
    }
}

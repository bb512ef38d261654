//! The canonical styles (`styles/*.toml`, compiled in): the four-colour
//! palette from which every renderer takes its colours.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::model::Grade;

const PALETTE: &str = include_str!("../styles/palette.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeStyle {
    /// Chinese legend label.
    pub label: String,
    /// Fill colour as `#RRGGBB`.
    pub fill: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Palette {
    grades: BTreeMap<String, GradeStyle>,
}

fn palette() -> &'static Palette {
    static P: OnceLock<Palette> = OnceLock::new();
    P.get_or_init(|| {
        toml::from_str(PALETTE).expect("styles/palette.toml is valid (checked by tests)")
    })
}

/// The style of a grade.
///
/// ```
/// use riskatlas::{model::Grade, styles};
/// assert_eq!(styles::grade(Grade::Red).fill, "#E60012");
/// ```
pub fn grade(g: Grade) -> &'static GradeStyle {
    &palette().grades[g.as_str()]
}

/// `#RRGGBB` → (r, g, b).
pub fn rgb(hex: &str) -> Option<(u8, u8, u8)> {
    let h = hex.strip_prefix('#')?;
    if h.len() != 6 {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    Some((byte(0)?, byte(2)?, byte(4)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grade_has_a_colour_and_label() {
        for g in Grade::DESCENDING {
            let s = grade(g);
            assert!(rgb(&s.fill).is_some(), "{g}: {}", s.fill);
            assert_eq!(s.label, g.label_zh());
        }
        assert_eq!(rgb("#0068B7"), Some((0, 0x68, 0xB7)));
        assert_eq!(rgb("0068B7"), None);
    }
}

//! The canonical styles (`styles/*.toml`, compiled in): the four-colour
//! palette from which every renderer takes its colours.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::model::Grade;

const PALETTE: &str = include_str!("../styles/palette.toml");

/// How one grade is named and coloured, as read from `styles/palette.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeStyle {
    /// Chinese name of the grade, as legends, lists and reasons give it.
    pub label: String,
    /// The colour's Chinese name (红, 橙, 黄, 蓝).
    pub colour_name: String,
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

/// The Chinese name of a grade (重大风险 …), from the palette.
pub fn label(g: Grade) -> &'static str {
    &grade(g).label
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
            assert!(!s.label.is_empty() && s.colour_name.chars().count() == 1);
        }
        assert_eq!(rgb("#0068B7"), Some((0, 0x68, 0xB7)));
        assert_eq!(rgb("0068B7"), None);
    }
}

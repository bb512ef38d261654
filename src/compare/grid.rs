//! The change of each grid cell's grade between two runs: the newer grid's
//! cells, each with its grade level this year less its level last year
//! (−3 … +3), each year graded by its own thresholds.
//!
//! Levels: no exposure and blue 0, yellow 1, orange 2, red 3 — a cell that
//! went from no exposure to red is +3, as one from blue. A cell with no
//! exposure in either year has no value (nodata), so the raster shows only
//! where risk is or was.

use crate::ingest::config::Thresholds;
use crate::model::Grade;

/// The change raster's value for cells with no exposure in either year.
pub const NODATA: i16 = -9999;

/// A cell's grade level: no exposure and blue 0, yellow 1, orange 2, red 3.
fn level(e: f32, t: &Thresholds) -> i16 {
    match t.grade(f64::from(e)) {
        Some(Grade::Red) => 3,
        Some(Grade::Orange) => 2,
        Some(Grade::Yellow) => 1,
        _ => 0,
    }
}

/// A cell's change from E `old` to E `new` (`None`: outside that year's
/// grid, as E = 0).
pub fn cell_change(
    old: Option<f32>,
    new: Option<f32>,
    (to, tn): (&Thresholds, &Thresholds),
) -> i16 {
    let (o, n) = (old.unwrap_or(0.0), new.unwrap_or(0.0));
    // NaN counts as no exposure.
    let exposed = |e: f32| e.partial_cmp(&0.0) == Some(std::cmp::Ordering::Greater);
    if !exposed(o) && !exposed(n) {
        return NODATA;
    }
    level(n, tn) - level(o, to)
}

/// Where the older grid's cells lie in the newer's: the whole-cell offset
/// (columns, rows) to add to a newer cell's position, from the two
/// geotransforms (the runs were checked to share cell size and edges).
pub fn offset(old: &[f64; 6], new: &[f64; 6]) -> (i64, i64) {
    let cell = new[1];
    (
        ((new[0] - old[0]) / cell).round() as i64,
        ((old[3] - new[3]) / cell).round() as i64,
    )
}

/// How many cells of the newer grid changed by each step, −3 … +3 (index 0 is −3).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally(pub [u64; 7]);

impl Tally {
    /// Counts the changes of a band of cells.
    pub fn add(&mut self, changes: &[i16]) {
        for &c in changes {
            if (-3..=3).contains(&c) {
                self.0[(c + 3) as usize] += 1;
            }
        }
    }

    /// Cells graded higher than last year.
    pub fn up(&self) -> u64 {
        self.0[4..].iter().sum()
    }

    /// Cells graded lower.
    pub fn down(&self) -> u64 {
        self.0[..3].iter().sum()
    }

    /// The counts by step, for `report.json`.
    pub fn to_json(self) -> serde_json::Value {
        let by: serde_json::Map<String, serde_json::Value> = (-3i16..=3)
            .map(|c| {
                (
                    format!("{c:+}"),
                    serde_json::json!(self.0[(c + 3) as usize]),
                )
            })
            .collect();
        serde_json::Value::Object(by)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Thresholds = Thresholds {
        red: 4.0,
        orange: 2.0,
        yellow: 1.0,
    };

    #[test]
    fn a_cell_changes_by_its_grade_levels() {
        let t = (&T, &T);
        assert_eq!(cell_change(Some(0.0), Some(5.0), t), 3);
        assert_eq!(cell_change(Some(0.5), Some(5.0), t), 3);
        assert_eq!(cell_change(Some(5.0), Some(1.5), t), -2);
        assert_eq!(cell_change(Some(2.5), Some(3.9), t), 0);
        assert_eq!(cell_change(None, Some(1.0), t), 1);
        assert_eq!(cell_change(Some(0.0), None, t), NODATA);
        assert_eq!(cell_change(Some(f32::NAN), Some(0.0), t), NODATA);
        // Each year by its own thresholds.
        let strict = Thresholds { red: 8.0, ..T };
        assert_eq!(cell_change(Some(5.0), Some(5.0), (&T, &strict)), -1);
    }

    #[test]
    fn the_older_grid_is_found_by_whole_cells() {
        let old = [100.0, 100.0, 0.0, 5000.0, 0.0, -100.0];
        let new = [300.0, 100.0, 0.0, 4900.0, 0.0, -100.0];
        assert_eq!(offset(&old, &new), (2, 1));
        assert_eq!(offset(&new, &old), (-2, -1));
    }

    #[test]
    fn the_tally_counts_up_and_down() {
        let mut t = Tally::default();
        t.add(&[-3, -1, 0, 0, 2, 3, NODATA]);
        assert_eq!((t.up(), t.down()), (2, 2));
        assert_eq!(t.to_json()["+0"], 2);
    }
}

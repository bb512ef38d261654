//! A shortcut for point joins: a uniform grid over the study area, each
//! cell that no boundary comes near holding the unit every point in it
//! joins to.
//!
//! Within such a cell, whether a unit holds a point cannot change (no
//! edge of any unit, at any level, passes within [`MARGIN`] of it), so the
//! exact join of one point answers for the whole cell — and for the whole
//! run of clear cells beside it in its row, which is how the grid is filled
//! with one exact join per run. A point in a cell that an edge comes near,
//! or outside the grid, takes the exact path: the shortcut never changes a
//! join, it only skips the search for the points far from every boundary
//! (most of them: at a province's scale the cells are about a kilometre).

use geo::{Coord, LineString};

/// About how many cells the grid has: 1 MiB of slots.
const CELLS: f64 = 262_144.0;

/// How near (degrees) an edge may come to a cell for it to stay clear: far
/// above the rounding of a point's cell index (~1e-14° at 180°), far below
/// any boundary's detail.
const MARGIN: f64 = 1e-9;

/// An edge passes within [`MARGIN`] of the cell: the exact path decides.
const NEAR_EDGE: u32 = u32::MAX;
/// The cell lies in no unit.
const NO_UNIT: u32 = u32::MAX - 1;
/// Not yet filled (only while building).
const UNFILLED: u32 = u32::MAX - 2;

/// What the grid knows of a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The point joins this unit (slot).
    Unit(usize),
    /// The point lies in no unit.
    NoUnit,
    /// Near a boundary or outside the grid: ask the exact join.
    Exact,
}

/// The grid of clear cells (see the module's doc).
pub struct ClearCells {
    x0: f64,
    y0: f64,
    /// Cells per degree, east and north.
    per_x: f64,
    per_y: f64,
    nx: usize,
    ny: usize,
    /// Row-major from the south-west corner: a slot, [`NO_UNIT`] or [`NEAR_EDGE`].
    cells: Vec<u32>,
}

impl ClearCells {
    /// The grid over `bounds` (`[min_x, min_y, max_x, max_y]`, lon/lat),
    /// with every ring of every unit marked; `interior_unit` is the exact
    /// join of a point that no boundary touches.
    pub fn new<'a>(
        bounds: [f64; 4],
        rings: impl Iterator<Item = &'a LineString<f64>>,
        interior_unit: impl Fn(Coord<f64>) -> Option<usize>,
    ) -> ClearCells {
        let [x0, y0, x1, y1] = bounds;
        let (w, h) = (x1 - x0, y1 - y0);
        if !(w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite()) {
            return ClearCells::empty();
        }
        let nx = ((CELLS * w / h).sqrt().ceil() as usize).clamp(1, 16_384);
        let ny = ((CELLS / nx as f64).ceil() as usize).clamp(1, 16_384);
        let mut grid = ClearCells {
            x0,
            y0,
            per_x: nx as f64 / w,
            per_y: ny as f64 / h,
            nx,
            ny,
            cells: vec![UNFILLED; nx * ny],
        };
        for ring in rings {
            for edge in ring.0.windows(2) {
                grid.mark_edge(edge[0], edge[1]);
            }
        }
        grid.fill(interior_unit);
        grid
    }

    /// A grid with no cell: every point takes the exact path.
    pub fn empty() -> ClearCells {
        ClearCells {
            x0: 0.0,
            y0: 0.0,
            per_x: 0.0,
            per_y: 0.0,
            nx: 0,
            ny: 0,
            cells: Vec::new(),
        }
    }

    /// What the grid knows of `c`.
    #[inline]
    pub fn lookup(&self, c: Coord<f64>) -> Lookup {
        let fx = (c.x - self.x0) * self.per_x;
        let fy = (c.y - self.y0) * self.per_y;
        // Written so that NaN fails too.
        if !(fx >= 0.0 && fy >= 0.0 && fx < self.nx as f64 && fy < self.ny as f64) {
            return Lookup::Exact;
        }
        match self.cells[fy as usize * self.nx + fx as usize] {
            NEAR_EDGE => Lookup::Exact,
            NO_UNIT => Lookup::NoUnit,
            slot => Lookup::Unit(slot as usize),
        }
    }

    /// The share of cells that are clear.
    #[cfg(test)]
    pub fn clear_share(&self) -> f64 {
        let clear = self.cells.iter().filter(|&&c| c != NEAR_EDGE).count();
        clear as f64 / self.cells.len().max(1) as f64
    }

    /// Marks every cell the edge `a`–`b` passes within [`MARGIN`] of: row by
    /// row, the part of the edge within the row's band (widened by the
    /// margin), widened again by the margin east and west.
    fn mark_edge(&mut self, a: Coord<f64>, b: Coord<f64>) {
        let row = |y: f64| ((y - self.y0) * self.per_y).floor();
        let first = row(a.y.min(b.y) - MARGIN).max(0.0);
        let last = row(a.y.max(b.y) + MARGIN).min(self.ny as f64 - 1.0);
        // Also false for NaN coordinates.
        if first.partial_cmp(&last).is_none_or(|o| o.is_gt()) {
            return;
        }
        for j in first as usize..=last as usize {
            let lo = self.y0 + j as f64 / self.per_y - MARGIN;
            let hi = self.y0 + (j + 1) as f64 / self.per_y + MARGIN;
            let Some((xa, xb)) = x_span_within(a, b, lo, hi) else {
                continue;
            };
            let col = |x: f64| ((x - self.x0) * self.per_x).floor();
            let from = col(xa - MARGIN).max(0.0);
            let to = col(xb + MARGIN).min(self.nx as f64 - 1.0);
            if from <= to {
                let start = j * self.nx;
                self.cells[start + from as usize..=start + to as usize].fill(NEAR_EDGE);
            }
        }
    }

    /// Gives each run of clear cells in a row the unit of its first cell's
    /// centre: the run is one region no edge crosses.
    fn fill(&mut self, interior_unit: impl Fn(Coord<f64>) -> Option<usize>) {
        for j in 0..self.ny {
            let y = self.y0 + (j as f64 + 0.5) / self.per_y;
            let row = &mut self.cells[j * self.nx..(j + 1) * self.nx];
            let mut i = 0;
            while i < row.len() {
                if row[i] == NEAR_EDGE {
                    i += 1;
                    continue;
                }
                let x = self.x0 + (i as f64 + 0.5) / self.per_x;
                let slot = interior_unit(Coord { x, y })
                    .and_then(|s| u32::try_from(s).ok())
                    .filter(|&s| s < UNFILLED)
                    .unwrap_or(NO_UNIT);
                while i < row.len() && row[i] != NEAR_EDGE {
                    row[i] = slot;
                    i += 1;
                }
            }
        }
    }
}

/// The west and east ends of the part of the edge `a`–`b` between the
/// latitudes `lo` and `hi`, if any.
fn x_span_within(a: Coord<f64>, b: Coord<f64>, lo: f64, hi: f64) -> Option<(f64, f64)> {
    let (ymin, ymax) = (a.y.min(b.y), a.y.max(b.y));
    if ymax < lo || ymin > hi {
        return None;
    }
    let dy = b.y - a.y;
    let (ta, tb) = if dy == 0.0 {
        (0.0, 1.0)
    } else {
        let t_lo = ((lo - a.y) / dy).clamp(0.0, 1.0);
        let t_hi = ((hi - a.y) / dy).clamp(0.0, 1.0);
        (t_lo.min(t_hi), t_lo.max(t_hi))
    };
    let xa = a.x + (b.x - a.x) * ta;
    let xb = a.x + (b.x - a.x) * tb;
    Some((xa.min(xb), xa.max(xb)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::line_string;

    #[test]
    fn cells_an_edge_passes_near_take_the_exact_path() {
        // A unit west of x = 1 in a 2 × 1 degree box: cells touching x = 1 are
        // near an edge; the rest are in the unit or in none.
        let ring = line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0), (x: 0.0, y: 0.0)];
        let grid = ClearCells::new([0.0, 0.0, 2.0, 1.0], std::iter::once(&ring), |c| {
            (c.x < 1.0).then_some(3)
        });
        assert_eq!(grid.lookup(Coord { x: 0.5, y: 0.5 }), Lookup::Unit(3));
        assert_eq!(grid.lookup(Coord { x: 1.5, y: 0.5 }), Lookup::NoUnit);
        assert_eq!(grid.lookup(Coord { x: 1.0, y: 0.5 }), Lookup::Exact);
        assert_eq!(
            grid.lookup(Coord {
                x: 1.0 - 1e-12,
                y: 0.5
            }),
            Lookup::Exact
        );
        assert_eq!(grid.lookup(Coord { x: 0.5, y: 1e-12 }), Lookup::Exact);
        assert_eq!(grid.lookup(Coord { x: -0.1, y: 0.5 }), Lookup::Exact);
        assert_eq!(
            grid.lookup(Coord {
                x: f64::NAN,
                y: 0.5
            }),
            Lookup::Exact
        );
        assert!(grid.clear_share() > 0.9, "{}", grid.clear_share());
    }

    #[test]
    fn a_diagonal_edge_marks_every_cell_it_crosses() {
        let ring =
            line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 0.7), (x: 0.0, y: 1.0), (x: 0.0, y: 0.0)];
        let grid = ClearCells::new([0.0, 0.0, 1.0, 1.0], std::iter::once(&ring), |_| None);
        for k in 0..=10_000 {
            let t = k as f64 / 10_000.0;
            let on = Coord { x: t, y: 0.7 * t };
            assert_eq!(grid.lookup(on), Lookup::Exact, "{on:?}");
        }
    }

    #[test]
    fn a_degenerate_area_has_no_cells() {
        let grid = ClearCells::new([1.0, 1.0, 1.0, 2.0], std::iter::empty(), |_| Some(0));
        assert_eq!(grid.lookup(Coord { x: 1.0, y: 1.5 }), Lookup::Exact);
    }
}

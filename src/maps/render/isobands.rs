//! Where a sampled field is at or above a level, as polygons: marching
//! squares over a lattice of samples, so a PDF prints the enterprise maps'
//! exposure bands as crisp paths rather than as the page's pixels.

/// Samples on a lattice, row by row; sample (row, col) stands at x = col,
/// y = row (y down, as on the page).
pub(super) struct Lattice<'a> {
    pub(super) values: &'a [f64],
    pub(super) rows: usize,
    pub(super) cols: usize,
}

/// A ring, in lattice units, clockwise on the page.
pub(super) type Ring = Vec<[f64; 2]>;

impl Lattice<'_> {
    fn at(&self, row: usize, col: usize) -> f64 {
        self.values[row * self.cols + col]
    }
}

/// Rings whose union is where `inside` holds: a cell with all four corners
/// inside is part of a row's run of whole cells (one rectangle per run), a
/// cell with some inside gives the part of it cut off by straight lines
/// between the crossings on its edges. `cross(a, b, va, vb)` is the
/// fraction of the way from sample point `a` to `b` where the level is
/// crossed (`inside(va) != inside(vb)`); it is always asked with `a`
/// before `b` in row-major order, so the two cells sharing an edge meet
/// at the same point. A saddle (two opposite corners inside) is joined
/// through the cell when the mean of its corners is inside.
pub(super) fn band(
    l: &Lattice,
    inside: impl Fn(f64) -> bool,
    cross: impl Fn([f64; 2], [f64; 2], f64, f64) -> f64,
) -> Vec<Ring> {
    let mut rings = Vec::new();
    for r in 0..l.rows.saturating_sub(1) {
        let mut run: Option<usize> = None;
        for c in 0..l.cols.saturating_sub(1) {
            // Clockwise on the page: top left, top right, bottom right, bottom left.
            let corners = [(r, c), (r, c + 1), (r + 1, c + 1), (r + 1, c)];
            let v = corners.map(|(rr, cc)| l.at(rr, cc));
            let ins = v.map(&inside);
            if ins.iter().all(|&i| i) {
                run.get_or_insert(c);
                continue;
            }
            if let Some(start) = run.take() {
                rings.push(rectangle(start, c, r));
            }
            if ins.iter().any(|&i| i) {
                cell_rings(&corners, &v, &ins, &inside, &cross, &mut rings);
            }
        }
        if let Some(start) = run {
            rings.push(rectangle(start, l.cols - 1, r));
        }
    }
    rings
}

/// Cells `from..to` of row `r` as one rectangle.
fn rectangle(from: usize, to: usize, r: usize) -> Ring {
    let (x0, x1, y0, y1) = (from as f64, to as f64, r as f64, r as f64 + 1.0);
    vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
}

/// The inside part of one cell with some corners in and some out.
fn cell_rings(
    corners: &[(usize, usize); 4],
    v: &[f64; 4],
    ins: &[bool; 4],
    inside: &impl Fn(f64) -> bool,
    cross: &impl Fn([f64; 2], [f64; 2], f64, f64) -> f64,
    rings: &mut Vec<Ring>,
) {
    let point = |i: usize| [corners[i].1 as f64, corners[i].0 as f64];
    // The walk round the cell: inside corners and the crossings between.
    let mut walk: Vec<([f64; 2], bool)> = Vec::with_capacity(8);
    for i in 0..4 {
        let j = (i + 1) % 4;
        if ins[i] {
            walk.push((point(i), true));
        }
        if ins[i] != ins[j] {
            // Asked in row-major order, so a shared edge gives one point.
            let (a, b) = if corners[i] < corners[j] {
                (i, j)
            } else {
                (j, i)
            };
            let t = cross(point(a), point(b), v[a], v[b]).clamp(0.0, 1.0);
            let (pa, pb) = (point(a), point(b));
            walk.push((
                [pa[0] + (pb[0] - pa[0]) * t, pa[1] + (pb[1] - pa[1]) * t],
                false,
            ));
        }
    }
    let saddle = ins[0] == ins[2] && ins[1] == ins[3] && ins[0] != ins[1];
    if saddle && !inside(v.iter().sum::<f64>() / 4.0) {
        // Two corners apart: each with the crossings either side of it.
        let n = walk.len();
        for k in (0..n).filter(|&k| walk[k].1) {
            let prev = walk[(k + n - 1) % n].0;
            let next = walk[(k + 1) % n].0;
            push_unless_flat(rings, vec![prev, walk[k].0, next]);
        }
        return;
    }
    push_unless_flat(rings, walk.into_iter().map(|(p, _)| p).collect());
}

/// Keeps a ring with an area: a corner exactly at the level gives pieces
/// of none.
fn push_unless_flat(rings: &mut Vec<Ring>, ring: Ring) {
    if area2(&ring) > 1e-12 {
        rings.push(ring);
    }
}

/// Twice the signed area (positive: clockwise on the page, y down).
fn area2(ring: &Ring) -> f64 {
    (0..ring.len())
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linear(_: [f64; 2], _: [f64; 2], va: f64, vb: f64, level: f64) -> f64 {
        (level - va) / (vb - va)
    }

    #[test]
    fn a_cone_above_a_level_is_a_disc() {
        // E = 10 − distance from (20, 20): E ≥ 4 within radius 6.
        let (rows, cols) = (41, 41);
        let values: Vec<f64> = (0..rows * cols)
            .map(|i| {
                let (r, c) = ((i / cols) as f64, (i % cols) as f64);
                10.0 - ((r - 20.0).powi(2) + (c - 20.0).powi(2)).sqrt()
            })
            .collect();
        let l = Lattice {
            values: &values,
            rows,
            cols,
        };
        let rings = band(&l, |v| v >= 4.0, |a, b, va, vb| linear(a, b, va, vb, 4.0));
        assert!(
            rings.iter().all(|r| area2(r) > 0.0),
            "one orientation: {:?}",
            rings.iter().find(|r| area2(r) <= 0.0)
        );
        let area: f64 = rings.iter().map(|r| area2(r) / 2.0).sum();
        let disc = std::f64::consts::PI * 36.0;
        assert!((area - disc).abs() / disc < 0.01, "{area} for {disc}");
        let whole = band(&l, |v| v >= -100.0, |_, _, _, _| unreachable!());
        let area: f64 = whole.iter().map(|r| area2(r) / 2.0).sum();
        assert_eq!(area, 40.0 * 40.0);
        assert_eq!(whole.len(), 40, "a rectangle per row");
    }

    #[test]
    fn a_saddle_is_joined_only_when_its_middle_is_inside() {
        let cell = |values: [f64; 4]| {
            let l = Lattice {
                values: &values,
                rows: 2,
                cols: 2,
            };
            band(&l, |v| v >= 1.0, |a, b, va, vb| linear(a, b, va, vb, 1.0))
        };
        // Top left and bottom right inside; the mean 0.8 is out: two triangles.
        let apart = cell([2.0, 0.0, 0.0, 1.2]);
        assert_eq!(apart.len(), 2);
        assert!(
            apart.iter().all(|r| r.len() == 3 && area2(r) > 0.0),
            "{apart:?}"
        );
        // The mean 1.25 is in: one hexagon through the middle.
        let joined = cell([3.0, 0.0, 0.0, 2.0]);
        assert_eq!(joined.len(), 1);
        assert_eq!(joined[0].len(), 6);
        assert!(area2(&joined[0]) > 0.0);
    }

    #[test]
    fn a_shared_edge_is_crossed_at_one_point() {
        // Two cells side by side; the middle column's edge is asked once per
        // cell, always from its upper sample.
        let values = [0.0, 0.0, 0.0, 0.0, 5.0, 0.0];
        let l = Lattice {
            values: &values,
            rows: 2,
            cols: 3,
        };
        let asked = std::cell::RefCell::new(Vec::new());
        band(
            &l,
            |v| v >= 1.0,
            |a, b, va, vb| {
                asked.borrow_mut().push((a, b));
                linear(a, b, va, vb, 1.0)
            },
        );
        let asked = asked.into_inner();
        assert!(asked.iter().all(|(a, b)| (a[1], a[0]) < (b[1], b[0])));
        let middle = asked.iter().filter(|(a, _)| *a == [1.0, 0.0]).count();
        assert_eq!(middle, 2, "{asked:?}");
    }
}

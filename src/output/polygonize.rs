//! Regions of equal grade in the grade raster, as polygons.
//!
//! The merged `exposure_grid` layer of a province has tens of millions of
//! cells; GDAL's polygonizer (3.6) takes about 20 s of CPU on them, this one
//! well under a second. A region is a 4-connected set of cells of one
//! non-zero code (cells touching only at a corner are separate regions, as
//! in GDAL's default). Its rings are traced cell edge by cell edge with the
//! region on the right, keeping only the corners; a ring that meets itself
//! at a corner is split there into simple loops (a hole touching the
//! exterior at a point, as in GDAL's output and OGC validity). The loops are
//! the region's exterior and its holes, told apart by their winding; the
//! region a ring belongs to comes from a labelling of the raster's runs, so
//! no point-in-polygon test is needed.

/// One region: its code and its rings as grid vertices `[col, row]` (row 0
/// at the top), each ring closed (first vertex = last). In a y-up world the
/// exterior is counter-clockwise and the holes clockwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// The cells' code (never 0).
    pub code: u8,
    /// The outer ring.
    pub exterior: Vec<[u32; 2]>,
    /// The inner rings.
    pub holes: Vec<Vec<[u32; 2]>>,
}

/// A map for lookups only (never iterated, so its order cannot reach the
/// output), with a fast hash: tracing asks it once per vertex.
type FastMap<K, V> = hashbrown::HashMap<K, V, foldhash::fast::FixedState>;

/// The regions of `codes` (row-major, `cols` wide; 0 = no region), in the
/// order of their top-left cells.
pub fn regions(codes: &[u8], cols: usize) -> Vec<Region> {
    if cols == 0 {
        return Vec::new();
    }
    let grid = Grid {
        codes,
        cols,
        rows: codes.len() / cols,
    };
    let labels = RunLabels::new(&grid);
    let mut visited = vec![0u64; codes.len().div_ceil(64)];
    let mut regions: Vec<Region> = Vec::new();
    // Each component's region, by its label (a run's index); NONE until its
    // exterior is traced.
    const NONE: u32 = u32::MAX;
    let mut by_label: Vec<u32> = vec![NONE; labels.runs()];
    let mut pending: Vec<Vec<[u32; 2]>> = Vec::new();
    for r in 0..grid.rows {
        for c in 0..cols {
            let i = r * cols + c;
            let k = codes[i];
            if k == 0 || (r > 0 && codes[i - cols] == k) || visited[i / 64] >> (i % 64) & 1 == 1 {
                continue;
            }
            let label = labels.label(r, c);
            let (traced, pinched) = grid.trace(r, c, &mut visited);
            let loops = if pinched {
                simple_loops(&traced)
            } else {
                vec![without_straights(traced)]
            };
            for mut ring in loops {
                // Traced with the region on the right in row-down coordinates:
                // an exterior has positive area there, a hole negative.
                // Reversed, they wind the y-up way.
                let exterior = twice_area(&ring) > 0;
                ring.reverse();
                if exterior {
                    by_label[label as usize] = regions.len() as u32;
                    regions.push(Region {
                        code: k,
                        exterior: ring,
                        holes: Vec::new(),
                    });
                } else {
                    // The exterior comes first: its top-left cell is above any
                    // hole. A loop pinched off the exterior comes before it,
                    // and waits for it.
                    pending.push(ring);
                }
            }
            let at = by_label[label as usize];
            if at != NONE {
                regions[at as usize].holes.append(&mut pending);
            }
        }
    }
    regions
}

/// The raster, read with "outside is 0".
struct Grid<'a> {
    codes: &'a [u8],
    cols: usize,
    rows: usize,
}

impl Grid<'_> {
    fn at(&self, row: i64, col: i64) -> u8 {
        if row < 0 || col < 0 || row as usize >= self.rows || col as usize >= self.cols {
            0
        } else {
            self.codes[row as usize * self.cols + col as usize]
        }
    }

    /// The ring through the top edge of cell (`r0`, `c0`), walked with the
    /// region on the right (row-down coordinates), corners only, closed;
    /// and whether it passes a corner where the region touches itself
    /// diagonally (the only vertices a ring can meet twice). Marks the top
    /// edges it walks, so that no ring is traced twice.
    fn trace(&self, r0: usize, c0: usize, visited: &mut [u64]) -> (Vec<[u32; 2]>, bool) {
        let k = self.codes[r0 * self.cols + c0];
        let inside = |row: i64, col: i64| self.at(row, col) == k;
        let start = (c0 as i64, r0 as i64);
        let (mut x, mut y) = start;
        let mut d = (1i64, 0i64);
        let mut ring = vec![[c0 as u32, r0 as u32]];
        let mut pinched = false;
        loop {
            if d == (1, 0) {
                let i = y as usize * self.cols + x as usize;
                visited[i / 64] |= 1 << (i % 64);
            }
            x += d.0;
            y += d.1;
            // Ahead of the vertex: the cell on the right and the one on the left.
            let right = (-d.1, d.0);
            let cell = |(ox, oy): (i64, i64)| (y + (oy - 1) / 2, x + (ox - 1) / 2);
            let (fr_row, fr_col) = cell((d.0 + right.0, d.1 + right.1));
            let (fl_row, fl_col) = cell((d.0 - right.0, d.1 - right.1));
            let next = if !inside(fr_row, fr_col) {
                // Behind, the region is on the right only: with it ahead on
                // the left, it touches itself across this corner.
                pinched |= inside(fl_row, fl_col);
                right
            } else if inside(fl_row, fl_col) {
                (-right.0, -right.1)
            } else {
                d
            };
            if next != d {
                ring.push([x as u32, y as u32]);
                d = next;
            }
            if (x, y) == start && d == (1, 0) {
                return (ring, pinched);
            }
        }
    }
}

/// A traced ring split where it meets itself (a corner where the region
/// touches itself diagonally): each loop closed and with corners only, the
/// pinched-off loops first. An exterior so becomes an exterior and holes
/// that touch it at a point, as OGC validity (and GDAL) has it.
fn simple_loops(ring: &[[u32; 2]]) -> Vec<Vec<[u32; 2]>> {
    let mut loops = Vec::new();
    let mut path: Vec<[u32; 2]> = Vec::with_capacity(ring.len());
    let mut at: FastMap<[u32; 2], usize> = Default::default();
    for &v in &ring[..ring.len() - 1] {
        if let Some(&p) = at.get(&v) {
            let mut pinched: Vec<[u32; 2]> = path.drain(p + 1..).collect();
            for u in &pinched {
                at.remove(u);
            }
            pinched.insert(0, v);
            loops.push(close_without_straights(pinched));
        } else {
            at.insert(v, path.len());
            path.push(v);
        }
    }
    loops.push(close_without_straights(path));
    loops
}

/// A closed traced ring that meets itself nowhere, without vertices where
/// it runs straight on: as [`simple_loops`] gives it, without its lookups.
fn without_straights(mut ring: Vec<[u32; 2]>) -> Vec<[u32; 2]> {
    ring.pop();
    close_without_straights(ring)
}

/// An open loop of vertices, closed, without vertices where it runs straight on.
fn close_without_straights(open: Vec<[u32; 2]>) -> Vec<[u32; 2]> {
    let n = open.len();
    let turns = |i: usize| {
        let (p, v, q) = (open[(i + n - 1) % n], open[i], open[(i + 1) % n]);
        let d = |a: [u32; 2], b: [u32; 2]| [b[0] as i64 - a[0] as i64, b[1] as i64 - a[1] as i64];
        let (a, b) = (d(p, v), d(v, q));
        a[0] * b[1] != a[1] * b[0]
    };
    let mut ring: Vec<[u32; 2]> = (0..n).filter(|&i| turns(i)).map(|i| open[i]).collect();
    ring.push(ring[0]);
    ring
}

/// Twice the signed area of a closed ring (shoelace), exact in integers.
fn twice_area(ring: &[[u32; 2]]) -> i64 {
    ring.windows(2)
        .map(|w| {
            let ([x0, y0], [x1, y1]) = (w[0], w[1]);
            x0 as i64 * y1 as i64 - x1 as i64 * y0 as i64
        })
        .sum()
}

/// Connected components of the raster by runs: each row's runs of one code,
/// joined with the overlapping runs of the same code in the row above.
struct RunLabels {
    /// Index of each row's first run in `runs`; one more entry at the end.
    row_start: Vec<usize>,
    /// Each run's first column (runs of code 0 are not kept).
    first_col: Vec<u32>,
    parent: Vec<u32>,
}

impl RunLabels {
    fn new(grid: &Grid) -> RunLabels {
        let mut row_start = Vec::with_capacity(grid.rows + 1);
        let mut spans: Vec<(u32, u32, u8)> = Vec::new();
        for r in 0..grid.rows {
            row_start.push(spans.len());
            let row = &grid.codes[r * grid.cols..(r + 1) * grid.cols];
            let mut c = 0;
            while c < row.len() {
                let k = row[c];
                let end = c + row[c..].iter().take_while(|&&v| v == k).count();
                if k != 0 {
                    spans.push((c as u32, end as u32, k));
                }
                c = end;
            }
        }
        row_start.push(spans.len());
        let mut parent: Vec<u32> = (0..spans.len() as u32).collect();
        for r in 1..grid.rows {
            let (above, here) = (
                row_start[r - 1]..row_start[r],
                row_start[r]..row_start[r + 1],
            );
            let (mut a, mut h) = (above.start, here.start);
            while a < above.end && h < here.end {
                let (a0, a1, ak) = spans[a];
                let (h0, h1, hk) = spans[h];
                if ak == hk && a0 < h1 && h0 < a1 {
                    union(&mut parent, a as u32, h as u32);
                }
                if a1 <= h1 {
                    a += 1;
                } else {
                    h += 1;
                }
            }
        }
        RunLabels {
            row_start,
            first_col: spans.iter().map(|s| s.0).collect(),
            parent,
        }
    }

    /// How many runs there are: every label is below it.
    fn runs(&self) -> usize {
        self.parent.len()
    }

    /// The component of cell (`r`, `c`), which has a non-zero code.
    fn label(&self, r: usize, c: usize) -> u32 {
        let runs = &self.first_col[self.row_start[r]..self.row_start[r + 1]];
        let run = self.row_start[r] + runs.partition_point(|&c0| c0 as usize <= c) - 1;
        find(&self.parent, run as u32)
    }
}

fn find(parent: &[u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        i = parent[i as usize];
    }
    i
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find_halving(parent, a), find_halving(parent, b));
    if ra != rb {
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        parent[hi as usize] = lo;
    }
}

fn find_halving(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let grand = parent[parent[i as usize] as usize];
        parent[i as usize] = grand;
        i = grand;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdal::raster::Buffer;
    use gdal::vector::{FieldDefn, LayerAccess, LayerOptions, OGRFieldType};
    use gdal::DriverManager;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A region as a comparable value: its code, twice its area, and the
    /// corners of each ring (sorted), the exterior first, then the holes sorted.
    type Key = (u8, i64, Vec<Vec<[i64; 2]>>);

    /// Corners of a closed ring: vertices where the direction changes.
    fn corners(ring: &[[i64; 2]]) -> Vec<[i64; 2]> {
        let n = ring.len() - 1;
        (0..n)
            .filter(|&i| {
                let (p, v, q) = (ring[(i + n - 1) % n], ring[i], ring[(i + 1) % n]);
                (v[0] - p[0]) * (q[1] - v[1]) != (v[1] - p[1]) * (q[0] - v[0])
            })
            .map(|i| ring[i])
            .collect()
    }

    fn key(code: u8, rings: Vec<Vec<[i64; 2]>>) -> Key {
        let area: i64 = rings
            .iter()
            .map(|r| {
                r.windows(2)
                    .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
                    .sum::<i64>()
            })
            .map(i64::abs)
            .enumerate()
            .map(|(i, a)| if i == 0 { a } else { -a })
            .sum();
        let mut sets: Vec<Vec<[i64; 2]>> = rings
            .iter()
            .map(|r| {
                let mut c = corners(r);
                c.sort();
                c
            })
            .collect();
        sets[1..].sort();
        (code, area, sets)
    }

    fn ours(codes: &[u8], cols: usize) -> Vec<Key> {
        let mut keys: Vec<Key> = regions(codes, cols)
            .into_iter()
            .map(|r| {
                let to_i =
                    |ring: Vec<[u32; 2]>| ring.iter().map(|v| [v[0] as i64, v[1] as i64]).collect();
                let mut rings = vec![to_i(r.exterior)];
                rings.extend(r.holes.into_iter().map(to_i));
                key(r.code, rings)
            })
            .collect();
        keys.sort();
        keys
    }

    /// GDAL's polygonizer on the same raster (geotransform: one unit per
    /// cell, row 0 at y = 0 going down as y = -row), in grid vertices.
    fn gdal(codes: &[u8], cols: usize) -> Vec<Key> {
        let rows = codes.len() / cols;
        let mem = DriverManager::get_driver_by_name("MEM").unwrap();
        let mut ds = mem
            .create_with_band_type::<u8, _>("", cols, rows, 1)
            .unwrap();
        ds.set_geo_transform(&[0.0, 1.0, 0.0, 0.0, 0.0, -1.0])
            .unwrap();
        let mut buf = Buffer::new((cols, rows), codes.to_vec());
        ds.rasterband(1)
            .unwrap()
            .write((0, 0), (cols, rows), &mut buf)
            .unwrap();
        let mut out = DriverManager::get_driver_by_name("Memory")
            .unwrap()
            .create_vector_only("")
            .unwrap();
        let layer = out
            .create_layer(LayerOptions {
                name: "p",
                ty: gdal::vector::OGRwkbGeometryType::wkbPolygon,
                ..Default::default()
            })
            .unwrap();
        FieldDefn::new("code", OGRFieldType::OFTInteger)
            .unwrap()
            .add_to_layer(&layer)
            .unwrap();
        let band = ds.rasterband(1).unwrap();
        // SAFETY: valid band and layer handles for the call; no callback.
        let rv = unsafe {
            let b = band.c_rasterband();
            gdal_sys::GDALPolygonize(
                b,
                b,
                layer.c_layer(),
                0,
                std::ptr::null_mut(),
                None,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(rv, gdal_sys::CPLErr::CE_None);
        let mut layer = out.layer(0).unwrap();
        let mut keys: Vec<Key> = layer
            .features()
            .map(|f| {
                let code = f.field_as_integer(0).unwrap().unwrap() as u8;
                let g: geo::Geometry<f64> = f.geometry().unwrap().try_into().unwrap();
                let geo::Geometry::Polygon(p) = g else {
                    panic!("{g:?}")
                };
                let to_i = |l: &geo::LineString<f64>| {
                    l.0.iter().map(|c| [c.x as i64, -c.y as i64]).collect()
                };
                let mut rings = vec![to_i(p.exterior())];
                rings.extend(p.interiors().iter().map(to_i));
                key(code, rings)
            })
            .collect();
        keys.sort();
        keys
    }

    /// Blobs of a few codes: neighbours mostly agree, with specks, holes,
    /// islands in holes and corner-touching cells.
    fn blobs(cols: usize, rows: usize, seed: u64) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut codes = vec![0u8; cols * rows];
        for r in 0..rows {
            for c in 0..cols {
                let left = if c > 0 { codes[r * cols + c - 1] } else { 0 };
                let up = if r > 0 { codes[(r - 1) * cols + c] } else { 0 };
                codes[r * cols + c] = match rng.gen_range(0..10) {
                    0..=3 => left,
                    4..=6 => up,
                    _ => rng.gen_range(0..5),
                };
            }
        }
        codes
    }

    #[test]
    fn agrees_with_gdal_on_seeded_rasters() {
        for seed in 0..40 {
            let (cols, rows) = (10 + seed as usize % 23, 8 + seed as usize % 17);
            let codes = blobs(cols, rows, seed);
            assert_eq!(
                ours(&codes, cols),
                gdal(&codes, cols),
                "seed {seed}:\n{codes:?}"
            );
        }
        let codes = blobs(300, 200, 99);
        let (got, want) = (ours(&codes, 300), gdal(&codes, 300));
        assert!(got.len() > 1_000, "{} regions", got.len());
        assert!(
            got == want,
            "300 x 200: {} regions vs GDAL's {}",
            got.len(),
            want.len()
        );
    }

    /// A ring traced without passing a diagonal touch meets itself nowhere:
    /// skipping the search for such meetings leaves it as it was.
    #[test]
    fn rings_without_a_diagonal_touch_are_simple() {
        let (mut pinched_rings, mut simple_rings) = (0, 0);
        for seed in 0..60 {
            let (cols, rows) = (10 + seed as usize % 23, 8 + seed as usize % 17);
            let codes = blobs(cols, rows, seed);
            let grid = Grid {
                codes: &codes,
                cols,
                rows,
            };
            let mut visited = vec![0u64; codes.len().div_ceil(64)];
            for r in 0..rows {
                for c in 0..cols {
                    let i = r * cols + c;
                    let top_edge = r == 0 || codes[i - cols] != codes[i];
                    if codes[i] == 0 || !top_edge || visited[i / 64] >> (i % 64) & 1 == 1 {
                        continue;
                    }
                    let (ring, pinched) = grid.trace(r, c, &mut visited);
                    let loops = simple_loops(&ring);
                    if pinched {
                        pinched_rings += 1;
                    } else {
                        simple_rings += 1;
                        assert_eq!(loops, vec![without_straights(ring)], "seed {seed}");
                    }
                }
            }
        }
        assert!(
            pinched_rings > 10 && simple_rings > 100,
            "{pinched_rings} {simple_rings}"
        );
    }

    #[test]
    fn a_ring_of_cells_has_a_hole_and_corner_neighbours_stay_apart() {
        #[rustfmt::skip]
        let codes = [
            1, 1, 1, 0,
            1, 0, 1, 0,
            1, 1, 1, 0,
            0, 0, 0, 1,
        ];
        let got = regions(&codes, 4);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(
            got[0].exterior,
            vec![[0, 0], [0, 3], [3, 3], [3, 0], [0, 0]]
        );
        assert_eq!(
            got[0].holes,
            vec![vec![[1, 2], [1, 1], [2, 1], [2, 2], [1, 2]]]
        );
        assert_eq!(
            got[1].exterior,
            vec![[3, 3], [3, 4], [4, 4], [4, 3], [3, 3]]
        );
        assert_eq!(ours(&codes, 4), gdal(&codes, 4));
    }
}

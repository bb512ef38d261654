//! A layer's spatial index written whole: SQLite's R-tree shadow tables
//! filled from a tree packed in one pass, instead of one `INSERT` per
//! feature into the virtual table (which rebalances the tree as it goes and
//! took about 14 s per million features).
//!
//! The format is SQLite's (`ext/rtree/rtree.c`): table `<t>_node` holds each
//! node as a blob — a 2-byte tree depth (root only), a 2-byte cell count,
//! then cells of an 8-byte id (a feature's id in a leaf, a child node's
//! number above) and the box as 32-bit floats, min x, max x, min y, max y,
//! all big-endian, the blob zero-padded to the node size; node 1 is the root.
//! `<t>_rowid` maps each feature to its leaf and `<t>_parent` each node
//! below the root to its parent. Boxes are rounded outwards to 32-bit floats
//! the way SQLite rounds them, so a query finds every feature it would have.
//! `rtreecheck()` verifies the result in the tests.

use rusqlite::{params, Connection};

/// Bytes of a 2-D cell: id and four 32-bit coordinates.
const CELL_BYTES: usize = 8 + 4 * 4;

/// SQLite's factors for rounding a double to a float downwards and upwards
/// when the nearest float lies on the wrong side (`RNDTOWARDS`, `RNDAWAY`).
const TOWARDS: f64 = 1.0 - 1.0 / 8_388_608.0;
const AWAY: f64 = 1.0 + 1.0 / 8_388_608.0;

/// The largest float not above `d`, as SQLite's `rtreeValueDown` gives it.
fn down(d: f64) -> f32 {
    let f = d as f32;
    if f as f64 > d {
        (d * if d < 0.0 { AWAY } else { TOWARDS }) as f32
    } else {
        f
    }
}

/// The smallest float not below `d`, as SQLite's `rtreeValueUp` gives it.
fn up(d: f64) -> f32 {
    let f = d as f32;
    if (f as f64) < d {
        (d * if d < 0.0 { TOWARDS } else { AWAY }) as f32
    } else {
        f
    }
}

/// A node's cell: an id and its box `[min x, max x, min y, max y]`.
type Cell = (i64, [f32; 4]);

fn union(cells: &[Cell]) -> [f32; 4] {
    cells.iter().fold(
        [
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ],
        |b, (_, c)| {
            [
                b[0].min(c[0]),
                b[1].max(c[1]),
                b[2].min(c[2]),
                b[3].max(c[3]),
            ]
        },
    )
}

/// Replaces the (empty) R-tree `table` with one holding `entries` — feature
/// ids and boxes `[min x, max x, min y, max y]` — packed in their order
/// (spatially sorted by the caller, so that neighbours share nodes).
pub fn write(tx: &Connection, table: &str, entries: &[(i64, [f64; 4])]) -> rusqlite::Result<()> {
    let node_bytes: usize = tx.query_row(
        &format!("SELECT length(data) FROM \"{table}_node\" WHERE nodeno = 1"),
        [],
        |r| r.get(0),
    )?;
    let per_node = (node_bytes - 4) / CELL_BYTES;
    let mut level: Vec<Cell> = entries
        .iter()
        .map(|&(id, b)| (id, [down(b[0]), up(b[1]), down(b[2]), up(b[3])]))
        .collect();
    // Levels bottom-up, each a list of nodes (their cells); the last has one node.
    let mut levels: Vec<Vec<Vec<Cell>>> = Vec::new();
    loop {
        let nodes: Vec<Vec<Cell>> = if level.is_empty() {
            vec![Vec::new()]
        } else {
            level.chunks(per_node).map(<[Cell]>::to_vec).collect()
        };
        let done = nodes.len() == 1;
        levels.push(nodes);
        if done {
            break;
        }
        // Numbers for this level's nodes are given below; cells above
        // refer to them by their place for now.
        level = levels
            .last()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, cells)| (i as i64, union(cells)))
            .collect();
    }
    // Node numbers: the root is 1, then level by level from the top.
    let mut first_number = vec![0i64; levels.len()];
    let mut next = 1i64;
    for (depth, nodes) in levels.iter().enumerate().rev() {
        first_number[depth] = next;
        next += nodes.len() as i64;
    }
    tx.execute(&format!("DELETE FROM \"{table}_node\""), [])?;
    let mut node = tx.prepare(&format!("INSERT INTO \"{table}_node\" VALUES (?1, ?2)"))?;
    // Each feature's leaf, inserted in feature order once the nodes are in:
    // appended, not scattered over the table as the spatial order would.
    let mut leaf_of: Vec<(i64, i64)> = Vec::with_capacity(entries.len());
    let mut parent = Pairs::new(tx, format!("{table}_parent"));
    let depth = levels.len() - 1;
    let mut blob = vec![0u8; node_bytes];
    for (height, nodes) in levels.iter().enumerate().rev() {
        for (i, cells) in nodes.iter().enumerate() {
            let number = first_number[height] + i as i64;
            blob.fill(0);
            if number == 1 {
                blob[0..2].copy_from_slice(&(depth as u16).to_be_bytes());
            }
            blob[2..4].copy_from_slice(&(cells.len() as u16).to_be_bytes());
            for (k, (id, b)) in cells.iter().enumerate() {
                // Above the leaves, an id is the child's place in the level below.
                let id = if height == 0 {
                    *id
                } else {
                    first_number[height - 1] + id
                };
                let at = 4 + k * CELL_BYTES;
                blob[at..at + 8].copy_from_slice(&id.to_be_bytes());
                for (j, v) in b.iter().enumerate() {
                    blob[at + 8 + 4 * j..at + 12 + 4 * j].copy_from_slice(&v.to_be_bytes());
                }
                if height == 0 {
                    leaf_of.push((id, number));
                } else {
                    parent.push(id, number)?;
                }
            }
            parent.flush()?;
            node.execute(params![number, blob])?;
        }
    }
    leaf_of.sort_unstable();
    let mut rowid = Pairs::new(tx, format!("{table}_rowid"));
    for (id, number) in leaf_of {
        rowid.push(id, number)?;
    }
    rowid.flush()
}

/// Pairs of integers inserted into a two-column table in the order pushed,
/// up to [`PAIRS_PER_INSERT`] to a statement (a million features' leaf
/// numbers one statement each took a second).
struct Pairs<'c> {
    conn: &'c Connection,
    table: String,
    pending: Vec<(i64, i64)>,
}

/// Rows inserted by one statement.
const PAIRS_PER_INSERT: usize = 128;

impl<'c> Pairs<'c> {
    fn new(conn: &'c Connection, table: String) -> Pairs<'c> {
        Pairs {
            conn,
            table,
            pending: Vec::with_capacity(PAIRS_PER_INSERT),
        }
    }

    fn push(&mut self, a: i64, b: i64) -> rusqlite::Result<()> {
        self.pending.push((a, b));
        if self.pending.len() == PAIRS_PER_INSERT {
            self.flush()?;
        }
        Ok(())
    }

    /// Inserts the pairs pushed so far.
    fn flush(&mut self) -> rusqlite::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let sql = super::gpkg::insert_sql(&self.table, 2, self.pending.len());
        let mut insert = self.conn.prepare_cached(&sql)?;
        for (k, (a, b)) in self.pending.iter().enumerate() {
            insert.raw_bind_parameter(2 * k + 1, a)?;
            insert.raw_bind_parameter(2 * k + 2, b)?;
        }
        insert.raw_execute()?;
        self.pending.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rusqlite::Connection;

    /// Boxes written whole pass SQLite's own check, and a window query
    /// through the index finds exactly the boxes a scan finds.
    #[test]
    fn a_packed_tree_passes_rtreecheck_and_answers_like_a_scan() {
        for n in [0usize, 1, 50, 51, 52, 3_000, 40_000] {
            let mut conn = Connection::open_in_memory().unwrap();
            conn.execute_batch("PRAGMA page_size = 4096; CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy);")
                .unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
            let entries: Vec<(i64, [f64; 4])> = (0..n)
                .map(|i| {
                    let (x, y) = (rng.gen_range(118.0..122.0), rng.gen_range(30.0..33.0));
                    let (w, h) = (rng.gen_range(0.0..0.01), rng.gen_range(0.0..0.01));
                    (i as i64 + 1, [x, x + w, y, y + h])
                })
                .collect();
            let tx = conn.transaction().unwrap();
            write(&tx, "r", &entries).unwrap();
            tx.commit().unwrap();
            let check: String = conn
                .query_row("SELECT rtreecheck('r')", [], |r| r.get(0))
                .unwrap();
            assert_eq!(check, "ok", "{n} entries");
            let count: usize = conn
                .query_row("SELECT count(*) FROM r", [], |r| r.get(0))
                .unwrap();
            assert_eq!(count, n);
            for _ in 0..20 {
                let (x, y) = (rng.gen_range(118.0..122.0), rng.gen_range(30.0..33.0));
                let q = [x, x + 0.3, y, y + 0.3];
                let mut got: Vec<i64> = conn
                    .prepare("SELECT id FROM r WHERE maxx >= ?1 AND minx <= ?2 AND maxy >= ?3 AND miny <= ?4")
                    .unwrap()
                    .query_map(params![q[0], q[1], q[2], q[3]], |r| r.get(0))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                got.sort();
                let want: Vec<i64> = entries
                    .iter()
                    .map(|(id, b)| {
                        (
                            id,
                            [down(b[0]), up(b[1]), down(b[2]), up(b[3])].map(f64::from),
                        )
                    })
                    .filter(|(_, b)| b[1] >= q[0] && b[0] <= q[1] && b[3] >= q[2] && b[2] <= q[3])
                    .map(|(id, _)| *id)
                    .collect();
                assert_eq!(got, want, "{n} entries, window {q:?}");
            }
        }
    }

    #[test]
    fn boxes_round_outwards_to_floats() {
        for d in [120.123456789, -33.3333333, 0.1, -0.1, 31.0, 1e-30] {
            assert!(down(d) as f64 <= d && up(d) as f64 >= d, "{d}");
        }
    }
}

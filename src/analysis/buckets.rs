//! Sources by the squares of a lattice that their circles' envelopes
//! overlap. The candidates at a point are one square's list, already in
//! source order. This serves [`SourceIndex::at`]'s point queries (one per
//! target, and per map pixel at the edge of the sources' reach), where an
//! R-tree's descent through a province's dense, overlapping envelopes cost
//! more than the distances it spared.
//!
//! [`SourceIndex::at`]: crate::analysis::exposure::SourceIndex::at

use crate::analysis::exposure::Source;

/// Side of a square in metres at first: about the default radii, so that a
/// circle falls in a few squares.
const SQUARE_M: f64 = 1000.0;

/// Entries per source beyond which the squares are made larger (for inputs
/// whose radii are many kilometres).
const ENTRIES_PER_SOURCE: usize = 16;

/// The lattice: squares of `size` metres from the south-west corner
/// `(x0, y0)` of all envelopes, each with the sources whose envelope
/// overlaps it.
pub struct SourceBuckets {
    x0: f64,
    y0: f64,
    size: f64,
    cols: usize,
    rows: usize,
    /// Square `k`'s sources are `ids[starts[k]..starts[k + 1]]`.
    starts: Vec<u32>,
    ids: Vec<u32>,
}

impl SourceBuckets {
    /// Files `sources` by the squares their envelopes (metres in the metric
    /// CRS) overlap.
    pub fn new(sources: &[Source]) -> SourceBuckets {
        let envelopes: Vec<[f64; 4]> = sources.iter().map(envelope).collect();
        let Some(corner) = envelopes.iter().copied().reduce(|a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        }) else {
            return SourceBuckets {
                x0: 0.0,
                y0: 0.0,
                size: SQUARE_M,
                cols: 0,
                rows: 0,
                starts: vec![0],
                ids: Vec::new(),
            };
        };
        let mut b = SourceBuckets {
            x0: corner[0],
            y0: corner[1],
            size: SQUARE_M,
            cols: 0,
            rows: 0,
            starts: Vec::new(),
            ids: Vec::new(),
        };
        loop {
            b.cols = b.column(corner[2]) + 1;
            b.rows = b.row(corner[3]) + 1;
            let entries: usize = envelopes
                .iter()
                .map(|e| (b.column(e[2]) - b.column(e[0]) + 1) * (b.row(e[3]) - b.row(e[1]) + 1))
                .sum();
            if entries <= ENTRIES_PER_SOURCE * sources.len() + (1 << 20) {
                break;
            }
            b.size *= 2.0;
        }
        b.fill(&envelopes);
        b
    }

    /// Counts each square's entries, then files the sources in order, so
    /// each square's list is in source order.
    fn fill(&mut self, envelopes: &[[f64; 4]]) {
        let mut counts = vec![0u32; self.cols * self.rows + 1];
        for e in envelopes {
            self.each_square(e, |k| counts[k + 1] += 1);
        }
        for k in 1..counts.len() {
            counts[k] += counts[k - 1];
        }
        let mut next = counts.clone();
        let mut ids = vec![0u32; counts[counts.len() - 1] as usize];
        for (i, e) in envelopes.iter().enumerate() {
            self.each_square(e, |k| {
                ids[next[k] as usize] = i as u32;
                next[k] += 1;
            });
        }
        self.starts = counts;
        self.ids = ids;
    }

    fn each_square(&self, e: &[f64; 4], mut f: impl FnMut(usize)) {
        for r in self.row(e[1])..=self.row(e[3]) {
            for c in self.column(e[0])..=self.column(e[2]) {
                f(r * self.cols + c);
            }
        }
    }

    fn column(&self, x: f64) -> usize {
        ((x - self.x0) / self.size).floor().max(0.0) as usize
    }

    fn row(&self, y: f64) -> usize {
        ((y - self.y0) / self.size).floor().max(0.0) as usize
    }

    /// The side of a square, in metres.
    pub fn square_m(&self) -> f64 {
        self.size
    }

    /// The sources whose envelope may hold `xy`, in source order: a
    /// superset of those whose envelope holds it.
    pub fn candidates(&self, xy: [f64; 2]) -> &[u32] {
        match self.square(xy) {
            Some(k) => &self.ids[self.starts[k] as usize..self.starts[k + 1] as usize],
            None => &[],
        }
    }

    /// The square holding `xy`, if any: points taken square by square
    /// share their candidates in the cache.
    pub fn square(&self, xy: [f64; 2]) -> Option<usize> {
        let (c, r) = ((xy[0] - self.x0) / self.size, (xy[1] - self.y0) / self.size);
        (c >= 0.0 && r >= 0.0 && c < self.cols as f64 && r < self.rows as f64)
            .then(|| r.floor() as usize * self.cols + c.floor() as usize)
    }
}

/// A source's envelope: min x, min y, max x, max y, computed as the
/// R-tree's corners are, so that both hold the same points.
pub fn envelope(s: &Source) -> [f64; 4] {
    let r = s.radius_m;
    [s.xy[0] - r, s.xy[1] - r, s.xy[0] + r, s.xy[1] + r]
}

/// Whether envelope `e` holds `xy` (its edges included).
pub fn holds(e: &[f64; 4], xy: [f64; 2]) -> bool {
    e[0] <= xy[0] && xy[0] <= e[2] && e[1] <= xy[1] && xy[1] <= e[3]
}

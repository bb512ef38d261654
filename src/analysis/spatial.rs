//! Neighbourhood queries in metres: an R-tree of points projected to the
//! study area's metric CRS, built once with `bulk_load`, queried by radius.

use geo::Point;
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::RTree;

use crate::crs::MetricCrs;

type Entry = GeomWithData<[f64; 2], usize>;

/// Points (by their index in the caller's slice) in metric coordinates.
pub struct PointIndex<'m> {
    tree: RTree<Entry>,
    metric: &'m MetricCrs,
}

impl<'m> PointIndex<'m> {
    /// Indexes WGS 84 lon/lat points; entry `i` is the `i`-th point (the
    /// projection, a province's million points, runs in parallel).
    pub fn new(
        points: impl IndexedParallelIterator<Item = Point<f64>>,
        metric: &'m MetricCrs,
    ) -> Self {
        let entries = points
            .enumerate()
            .map(|(i, p)| {
                let (x, y) = metric.project(p.x(), p.y());
                GeomWithData::new([x, y], i)
            })
            .collect();
        PointIndex {
            tree: RTree::bulk_load(entries),
            metric,
        }
    }

    /// Projects a lon/lat point to metric coordinates.
    pub fn project(&self, p: Point<f64>) -> [f64; 2] {
        let (x, y) = self.metric.project(p.x(), p.y());
        [x, y]
    }

    /// Indices and distances (m) of the points within `radius_m` of `p`, nearest first
    /// (ties by index, so the order is deterministic).
    pub fn within(&self, p: Point<f64>, radius_m: f64) -> Vec<(usize, f64)> {
        let q = self.project(p);
        let mut hits: Vec<(usize, f64)> = self
            .tree
            .locate_within_distance(q, radius_m * radius_m)
            .map(|e| (e.data, distance(q, *e.geom())))
            .collect();
        hits.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        hits
    }

    /// The nearest point and its distance (m).
    pub fn nearest(&self, p: Point<f64>) -> Option<(usize, f64)> {
        let q = self.project(p);
        self.tree
            .nearest_neighbor(&q)
            .map(|e| (e.data, distance(q, *e.geom())))
    }
}

fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radius_queries_match_brute_force() {
        let metric = MetricCrs::for_longitude(120.0, 31.5);
        let pts: Vec<Point<f64>> = (0..400)
            .map(|i| {
                Point::new(
                    119.9 + (i % 20) as f64 * 0.002,
                    31.5 + (i / 20) as f64 * 0.002,
                )
            })
            .collect();
        let idx = PointIndex::new(pts.par_iter().copied(), &metric);
        let centre = Point::new(119.92, 31.52);
        let got: Vec<usize> = idx
            .within(centre, 500.0)
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        let c = idx.project(centre);
        let mut want: Vec<(usize, f64)> = pts
            .iter()
            .enumerate()
            .map(|(i, p)| (i, distance(c, idx.project(*p))))
            .filter(|(_, d)| *d <= 500.0)
            .collect();
        want.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        assert_eq!(got, want.into_iter().map(|(i, _)| i).collect::<Vec<_>>());
        assert!(!got.is_empty());
        assert_eq!(idx.nearest(centre).map(|(i, _)| i), got.first().copied());
    }
}

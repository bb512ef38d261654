//! The road network the emergency resources' coverage routes over: the
//! roads' vertices as nodes (vertices that round to the same 0.1 m in the
//! metric CRS are one node, so roads connect where they share a vertex, as
//! in a noded network such as OpenStreetMap's), consecutive vertices joined by edges as long as the
//! segment in the metric CRS. A point enters the network at the nearest
//! point of the nearest segment, the straight line to it added to the
//! route, and goes on along the segment to either end.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use rstar::primitives::{GeomWithData, Line};
use rstar::RTree;

use crate::crs::MetricCrs;
use crate::model::Road;

/// A road segment in the metric CRS, with the nodes at its ends.
type Segment = GeomWithData<Line<[f64; 2]>, (u32, u32)>;

/// The network: nodes in the metric CRS, edges as adjacency lists.
pub struct RoadGraph {
    nodes: Vec<[f64; 2]>,
    edges: Vec<Vec<(u32, f64)>>,
    segments: RTree<Segment>,
}

/// Where a point joins the network: its nearest segment's ends (a, b), how
/// far along it from a (0–1), the segment's length and the leg to it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    ends: (u32, u32),
    t: f64,
    len: f64,
    leg: f64,
}

impl Entry {
    /// Each end with the metres to it: the leg, then along the segment.
    fn to_ends(self) -> [(u32, f64); 2] {
        [
            (self.ends.0, self.leg + self.t * self.len),
            (self.ends.1, self.leg + (1.0 - self.t) * self.len),
        ]
    }
}

/// The route to a point from the nearest of a set of starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reached {
    /// Route length in metres, the legs to and from the network included.
    pub metres: f64,
    /// The label of the start it came from.
    pub from: usize,
}

impl RoadGraph {
    /// The network of `roads`; `None` when they hold no segment.
    pub fn new(roads: &[Road], metric: &MetricCrs) -> Option<RoadGraph> {
        let mut ids: HashMap<(i64, i64), u32> = HashMap::new();
        let mut nodes: Vec<[f64; 2]> = Vec::new();
        let mut edges: Vec<Vec<(u32, f64)>> = Vec::new();
        let mut node = |xy: [f64; 2]| -> u32 {
            let key = ((xy[0] * 10.0).round() as i64, (xy[1] * 10.0).round() as i64);
            *ids.entry(key).or_insert_with(|| {
                nodes.push(xy);
                edges.push(Vec::new());
                (nodes.len() - 1) as u32
            })
        };
        let mut segments: Vec<(u32, u32)> = Vec::new();
        for line in roads.iter().flat_map(|r| r.lines.iter()) {
            let ids: Vec<u32> = line
                .coords()
                .map(|c| {
                    let (x, y) = metric.project(c.x, c.y);
                    node([x, y])
                })
                .collect();
            segments.extend(
                ids.windows(2)
                    .filter(|w| w[0] != w[1])
                    .map(|w| (w[0], w[1])),
            );
        }
        if segments.is_empty() {
            return None;
        }
        let mut lines = Vec::with_capacity(segments.len());
        for (a, b) in segments {
            let (p, q) = (nodes[a as usize], nodes[b as usize]);
            let d = metres(p, q);
            edges[a as usize].push((b, d));
            edges[b as usize].push((a, d));
            lines.push(GeomWithData::new(Line::new(p, q), (a, b)));
        }
        let segments = RTree::bulk_load(lines);
        Some(RoadGraph {
            nodes,
            edges,
            segments,
        })
    }

    /// Where a metric point joins the network.
    fn entry(&self, xy: [f64; 2]) -> Entry {
        let s = self
            .segments
            .nearest_neighbor(&xy)
            .expect("a network has segments");
        let (a, b) = s.data;
        let (p, q) = (self.nodes[a as usize], self.nodes[b as usize]);
        let len = metres(p, q);
        let t = if len > 0.0 {
            (((xy[0] - p[0]) * (q[0] - p[0]) + (xy[1] - p[1]) * (q[1] - p[1])) / (len * len))
                .clamp(0.0, 1.0)
        } else {
            0.0
        };
        let on = [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])];
        Entry {
            ends: (a, b),
            t,
            len,
            leg: metres(xy, on),
        }
    }

    /// Every node's route from the nearest of `starts` (label, metric
    /// point): one Dijkstra search from all of them at once. Ties go to the
    /// start reached first, the lower label when both are.
    pub fn from_nearest(&self, starts: &[(usize, [f64; 2])]) -> Routes<'_> {
        let mut best: Vec<Option<Reached>> = vec![None; self.nodes.len()];
        let mut heap = BinaryHeap::new();
        let mut on_segment: HashMap<(u32, u32), Vec<(Entry, usize)>> = HashMap::new();
        let mut entries: Vec<(u32, Reached)> = Vec::new();
        for &(from, xy) in starts {
            let e = self.entry(xy);
            on_segment.entry(e.ends).or_default().push((e, from));
            entries.extend(e.to_ends().map(|(n, metres)| (n, Reached { metres, from })));
        }
        entries.sort_by(|a, b| {
            a.1.metres
                .total_cmp(&b.1.metres)
                .then(a.1.from.cmp(&b.1.from))
        });
        for (n, r) in entries {
            if best[n as usize].is_none_or(|b| r.metres < b.metres) {
                best[n as usize] = Some(r);
                heap.push(Reverse((r.metres.to_bits(), r.from, n)));
            }
        }
        while let Some(Reverse((bits, from, n))) = heap.pop() {
            let here = f64::from_bits(bits);
            if best[n as usize]
                .is_some_and(|b| b.metres < here || (b.metres == here && b.from < from))
            {
                continue;
            }
            for &(m, d) in &self.edges[n as usize] {
                let metres = here + d;
                let better = match best[m as usize] {
                    None => true,
                    Some(b) => metres < b.metres || (metres == b.metres && from < b.from),
                };
                if better {
                    best[m as usize] = Some(Reached { metres, from });
                    heap.push(Reverse((metres.to_bits(), from, m)));
                }
            }
        }
        Routes {
            graph: self,
            best,
            on_segment,
        }
    }
}

/// Each node's route from the nearest start, and the starts by segment.
pub struct Routes<'g> {
    graph: &'g RoadGraph,
    best: Vec<Option<Reached>>,
    on_segment: HashMap<(u32, u32), Vec<(Entry, usize)>>,
}

impl Routes<'_> {
    /// The route to a metric point: to either end of its nearest segment,
    /// then along it and off to the point; `None` when no start reaches
    /// that segment's part of the network.
    /// A start on the same segment is also reached along it directly.
    pub fn to(&self, xy: [f64; 2]) -> Option<Reached> {
        let e = self.graph.entry(xy);
        let via_ends = e.to_ends().into_iter().filter_map(|(n, rest)| {
            self.best[n as usize].map(|r| Reached {
                metres: r.metres + rest,
                from: r.from,
            })
        });
        let along = self
            .on_segment
            .get(&e.ends)
            .into_iter()
            .flatten()
            .map(|(s, from)| Reached {
                metres: s.leg + (s.t - e.t).abs() * e.len + e.leg,
                from: *from,
            });
        via_ends
            .chain(along)
            .min_by(|a, b| a.metres.total_cmp(&b.metres).then(a.from.cmp(&b.from)))
    }
}

/// Metres between two metric points.
fn metres(p: [f64; 2], q: [f64; 2]) -> f64 {
    ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, MultiLineString};

    /// Roads given in metres on the metric CRS's own plane: lon/lat that
    /// project to them.
    fn road(metric: &MetricCrs, pts: &[[f64; 2]]) -> Road {
        let coords: Vec<(f64, f64)> = pts.iter().map(|p| metric.unproject(p[0], p[1])).collect();
        Road {
            id: "R".into(),
            lines: MultiLineString(vec![LineString::from(coords)]),
        }
    }

    #[test]
    fn routes_follow_the_roads_from_the_nearest_start() {
        let metric = MetricCrs::for_longitude(120.0, 31.6);
        let (x0, y0) = (500_000.0, 3_500_000.0);
        let p = |dx: f64, dy: f64| [x0 + dx, y0 + dy];
        // An L: east 3 km, then north 4 km; and a separate road far away.
        let roads = [
            road(&metric, &[p(0.0, 0.0), p(3000.0, 0.0), p(3000.0, 4000.0)]),
            road(&metric, &[p(50_000.0, 0.0), p(51_000.0, 0.0)]),
        ];
        let g = RoadGraph::new(&roads, &metric).unwrap();
        let routes = g.from_nearest(&[(7, p(0.0, -100.0)), (9, p(3000.0, 4300.0))]);
        // From the start of the L: 100 m to it, 3 km east, 500 m north, 50 m
        // off (from the other start: 300 m, 3.5 km, 50 m).
        let r = routes.to(p(3050.0, 500.0)).unwrap();
        assert_eq!(r.from, 7);
        assert!(
            (r.metres - (100.0 + 3000.0 + 500.0 + 50.0)).abs() < 0.05,
            "{}",
            r.metres
        );
        // Nearer the other start along the road: 300 m + 1 km.
        let r = routes.to(p(3000.0, 3000.0)).unwrap();
        assert_eq!(r.from, 9);
        assert!((r.metres - 1300.0).abs() < 0.05, "{}", r.metres);
        // The far road is not connected to either start.
        assert_eq!(routes.to(p(50_500.0, 10.0)), None);
        // A long segment is joined where the point is nearest to it, not at its ends.
        let r = routes.to(p(1500.0, 20.0)).unwrap();
        assert!(
            (r.metres - (100.0 + 1500.0 + 20.0)).abs() < 0.05,
            "{}",
            r.metres
        );
    }
}

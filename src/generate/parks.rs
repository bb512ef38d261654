//! Synthetic chemical parks: a polygon around each of the (at most two)
//! industrial clusters with the most hazard units nearby, irregular but
//! fixed by the cluster, so no random numbers are drawn.

use geo::Point;

use super::{offset, District, GenEnterprise, GenUnit};

/// A synthetic chemical park.
#[derive(Debug, Clone)]
pub struct GenPark {
    /// Park code, `HGYQ` and a two-digit number.
    pub code: String,
    /// Name from its district.
    pub name: String,
    /// 省级 for the first, 市级 for the second.
    pub level: &'static str,
    /// Outer ring in WGS 84 lon/lat, closed.
    pub ring: Vec<Point<f64>>,
}

/// The parks around the clusters with the most hazard units within their
/// spread's reach (two at most, one per district).
pub(super) fn parks(
    districts: &[District],
    enterprises: &[GenEnterprise],
    units: &[GenUnit],
) -> Vec<GenPark> {
    let at: std::collections::HashMap<&str, Point<f64>> = enterprises
        .iter()
        .map(|e| (e.id.as_str(), e.lon_lat))
        .collect();
    let near = |c: Point<f64>, reach_m: f64| {
        units
            .iter()
            .filter_map(|u| at.get(u.enterprise_id.as_str()))
            .filter(|p| metres(**p, c) <= reach_m)
            .count()
    };
    let mut clusters: Vec<(usize, usize, &District)> = districts
        .iter()
        .filter_map(|d| {
            let (k, n) = d
                .parks
                .iter()
                .enumerate()
                .map(|(k, (c, s))| (k, near(*c, radius(*s))))
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))?;
            Some((n, k, d))
        })
        .filter(|(n, _, _)| *n > 0)
        .collect();
    clusters.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.slot.cmp(&b.2.slot)));
    clusters
        .into_iter()
        .take(2)
        .enumerate()
        .map(|(i, (_, k, d))| {
            let (c, s) = d.parks[k];
            GenPark {
                code: format!("HGYQ{:02}", i + 1),
                name: format!("{}化工园区", d.unit.name),
                level: if i == 0 { "省级" } else { "市级" },
                ring: ring(c, radius(s)),
            }
        })
        .collect()
}

/// A park's mean radius from its cluster's spread, metres.
fn radius(spread_m: f64) -> f64 {
    2.5 * spread_m
}

/// Metres between two lon/lat points, on a local plane.
fn metres(a: Point<f64>, b: Point<f64>) -> f64 {
    let dx = (a.x() - b.x()) * 111_320.0 * a.y().to_radians().cos();
    let dy = (a.y() - b.y()) * 110_574.0;
    (dx * dx + dy * dy).sqrt()
}

/// A closed 16-gon around `c` whose radius wavers between 85 % and 115 %
/// of `r_m`, counter-clockwise.
fn ring(c: Point<f64>, r_m: f64) -> Vec<Point<f64>> {
    let n = 16;
    let mut pts: Vec<Point<f64>> = (0..n)
        .map(|i| {
            let a = i as f64 / n as f64 * std::f64::consts::TAU;
            let r = r_m * (1.0 + 0.15 * (3.0 * a).sin() * (2.0 * a + 1.0).cos());
            offset(c, r * a.cos(), r * a.sin())
        })
        .collect();
    pts.push(pts[0]);
    pts
}

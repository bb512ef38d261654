//! Joining points to the administrative hierarchy.
//!
//! The index is built once: an R-tree (`bulk_load`) of the envelopes of the
//! finest units present (towns if the boundaries have them, else districts),
//! each unit paired with geo's `IntervalTreeMultiPolygon` for the exact test.
//! Coarser units (city, district) follow from the `parent` codes.
//!
//! **Boundary rule.** A point strictly inside a unit belongs to it. A point on
//! a boundary (shared by neighbours, or the outer edge) goes to the unit with
//! the smallest code among those whose closed polygon contains it, so every
//! point has exactly one unit. A point in no unit is outside the study area and
//! is reported with the distance to the nearest unit in metres.

use std::collections::HashMap;
use std::sync::Arc;

use geo::coordinate_position::CoordPos;
use geo::indexed::IntervalTreeMultiPolygon;
use geo::{
    BoundingRect, Contains, CoordinatePosition, Distance, Euclidean, MapCoords, MultiPolygon, Point,
};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::crs::MetricCrs;
use crate::model::{AdminLevel, AdminRef, AdminUnit};

type Envelope = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Why a point could not be joined.
#[derive(Debug, Clone, PartialEq)]
pub struct Outside {
    /// Name and code of the nearest unit and the distance to it in metres.
    pub nearest: Option<(String, String, f64)>,
    /// Whether swapping the point's lon and lat would put it inside.
    pub swapped_inside: bool,
}

/// The administrative units, indexed for point joins.
pub struct AdminIndex {
    units: Vec<AdminUnit>,
    /// Indices (into `units`) of the finest-level units, sorted by code.
    finest: Vec<usize>,
    finest_level: AdminLevel,
    tree: RTree<Envelope>,
    fast: Vec<IntervalTreeMultiPolygon<f64>>,
    /// The joined path of each finest unit, shared by every point in it.
    paths: Vec<Arc<AdminRef>>,
    metric: MetricCrs,
}

impl AdminIndex {
    /// Builds the index. `units` must hold at least one polygon unit.
    pub fn new(mut units: Vec<AdminUnit>, metric: MetricCrs) -> AdminIndex {
        units.sort_by(|a, b| a.code.cmp(&b.code));
        let finest_level = units
            .iter()
            .map(|u| u.level)
            .filter(|l| *l != AdminLevel::Province)
            .max()
            .unwrap_or(AdminLevel::Province);
        let finest: Vec<usize> = (0..units.len())
            .filter(|&i| units[i].level == finest_level)
            .collect();
        let envelopes = finest
            .iter()
            .enumerate()
            .filter_map(|(slot, &i)| {
                let r = units[i].boundary.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    slot,
                ))
            })
            .collect();
        let fast = finest
            .iter()
            .map(|&i| IntervalTreeMultiPolygon::new(&units[i].boundary))
            .collect();
        let paths = finest
            .iter()
            .map(|&i| Arc::new(admin_path(&units, i)))
            .collect();
        AdminIndex {
            tree: RTree::bulk_load(envelopes),
            units,
            finest,
            finest_level,
            fast,
            paths,
            metric,
        }
    }

    /// All units, sorted by code.
    pub fn units(&self) -> &[AdminUnit] {
        &self.units
    }

    /// The finest units (in slot order, i.e. by code) with their unit paths.
    pub fn finest(&self) -> impl Iterator<Item = (&AdminUnit, &AdminRef)> {
        self.finest
            .iter()
            .zip(&self.paths)
            .map(|(&i, p)| (&self.units[i], p.as_ref()))
    }

    /// The level points are joined at.
    pub fn finest_level(&self) -> AdminLevel {
        self.finest_level
    }

    pub fn metric(&self) -> &MetricCrs {
        &self.metric
    }

    /// The finest unit (slot into the finest list) holding `p`, by the boundary rule.
    pub fn locate(&self, p: Point<f64>) -> Option<usize> {
        let mut candidates: Vec<usize> = self
            .tree
            .locate_all_at_point(&[p.x(), p.y()])
            .map(|e| e.data)
            .collect();
        // Slots follow code order, so sorting them applies the smallest-code rule.
        candidates.sort_unstable();
        if let Some(&slot) = candidates.iter().find(|&&s| self.fast[s].contains(&p)) {
            return Some(slot);
        }
        candidates.into_iter().find(|&s| {
            self.units[self.finest[s]]
                .boundary
                .coordinate_position(&p.0)
                == CoordPos::OnBoundary
        })
    }

    /// Joins a point: its unit path, or why it is outside.
    pub fn join(&self, p: Point<f64>) -> Result<Arc<AdminRef>, Outside> {
        if let Some(slot) = self.locate(p) {
            return Ok(self.paths[slot].clone());
        }
        let swapped_inside = self.locate(Point::new(p.y(), p.x())).is_some();
        Err(Outside {
            nearest: self.nearest(p),
            swapped_inside,
        })
    }

    /// The nearest finest unit and its distance in metres, measured in the
    /// metric CRS; the candidates are the few nearest envelopes.
    pub fn nearest(&self, p: Point<f64>) -> Option<(String, String, f64)> {
        let here = self.metric.project(p.x(), p.y());
        let here = Point::new(here.0, here.1);
        self.tree
            .nearest_neighbor_iter(&[p.x(), p.y()])
            .take(4)
            .map(|e| {
                let unit = &self.units[self.finest[e.data]];
                let projected: MultiPolygon<f64> = unit.boundary.map_coords(|c| {
                    let (x, y) = self.metric.project(c.x, c.y);
                    geo::Coord { x, y }
                });
                (unit, Euclidean.distance(&here, &projected))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(u, d)| (u.name.clone(), u.code.clone(), d))
    }

    /// The envelope of the study area (all finest units), lon/lat.
    pub fn bounds(&self) -> AABB<[f64; 2]> {
        self.tree.root().envelope()
    }
}

/// The path from a unit up through its parents, by level.
fn admin_path(units: &[AdminUnit], start: usize) -> AdminRef {
    let by_code: HashMap<&str, usize> = units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.code.as_str(), i))
        .collect();
    let mut path = AdminRef::default();
    let mut at = Some(start);
    let mut steps = 0;
    while let Some(i) = at {
        let u = &units[i];
        let (code, name) = (Some(u.code.clone()), Some(u.name.clone()));
        match u.level {
            AdminLevel::Town => (path.town_code, path.town_name) = (code, name),
            AdminLevel::District => (path.district_code, path.district_name) = (code, name),
            AdminLevel::City => (path.city_code, path.city_name) = (code, name),
            AdminLevel::Province => {}
        }
        steps += 1;
        at = u
            .parent
            .as_deref()
            .and_then(|p| by_code.get(p).copied())
            .filter(|_| steps < 8);
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Coord};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn unit(
        code: &str,
        level: AdminLevel,
        parent: Option<&str>,
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
    ) -> AdminUnit {
        AdminUnit {
            code: code.into(),
            name: format!("unit {code}"),
            level,
            parent: parent.map(str::to_string),
            boundary: MultiPolygon(vec![
                polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)],
            ]),
        }
    }

    /// A city split into two districts along x = 120.
    fn two_districts() -> AdminIndex {
        AdminIndex::new(
            vec![
                unit(
                    "320400",
                    AdminLevel::City,
                    Some("320000"),
                    119.0,
                    31.0,
                    121.0,
                    32.0,
                ),
                unit(
                    "320412",
                    AdminLevel::District,
                    Some("320400"),
                    120.0,
                    31.0,
                    121.0,
                    32.0,
                ),
                unit(
                    "320402",
                    AdminLevel::District,
                    Some("320400"),
                    119.0,
                    31.0,
                    120.0,
                    32.0,
                ),
            ],
            MetricCrs::for_longitude(120.0, 31.5),
        )
    }

    #[test]
    fn joins_to_district_and_city() {
        let idx = two_districts();
        let r = idx.join(Point::new(120.5, 31.5)).unwrap();
        assert_eq!(r.district_code.as_deref(), Some("320412"));
        assert_eq!(r.city_code.as_deref(), Some("320400"));
    }

    #[test]
    fn shared_boundary_goes_to_smallest_code() {
        let idx = two_districts();
        let r = idx.join(Point::new(120.0, 31.5)).unwrap();
        assert_eq!(r.district_code.as_deref(), Some("320402"));
        // An outer-edge point belongs to the only unit there.
        let r = idx.join(Point::new(121.0, 31.5)).unwrap();
        assert_eq!(r.district_code.as_deref(), Some("320412"));
    }

    #[test]
    fn outside_reports_distance_in_metres() {
        let idx = two_districts();
        let miss = idx.join(Point::new(121.01, 31.5)).unwrap_err();
        let (_, code, d) = miss.nearest.unwrap();
        assert_eq!(code, "320412");
        // 0.01° of longitude at 31.5°N is about 950 m.
        assert!((900.0..1000.0).contains(&d), "{d}");
        assert!(!miss.swapped_inside);
    }

    /// The index agrees with a brute-force scan of every unit on random points,
    /// including points snapped onto shared edges and vertices.
    #[test]
    fn agrees_with_brute_force_on_seeded_points() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        // A 4×3 grid of districts of unequal sizes.
        let mut units = vec![unit("100", AdminLevel::City, None, 0.0, 0.0, 4.0, 3.0)];
        let xs = [0.0, 1.1, 1.9, 3.05, 4.0];
        let ys = [0.0, 0.95, 2.1, 3.0];
        for i in 0..4 {
            for j in 0..3 {
                let code = format!("1{:02}", i * 3 + j + 1);
                units.push(unit(
                    &code,
                    AdminLevel::District,
                    Some("100"),
                    xs[i],
                    ys[j],
                    xs[i + 1],
                    ys[j + 1],
                ));
            }
        }
        let idx = AdminIndex::new(units.clone(), MetricCrs::for_longitude(120.0, 30.0));
        let districts: Vec<&AdminUnit> = {
            let mut d: Vec<&AdminUnit> = units
                .iter()
                .filter(|u| u.level == AdminLevel::District)
                .collect();
            d.sort_by(|a, b| a.code.cmp(&b.code));
            d
        };
        for k in 0..20_000 {
            let mut x: f64 = rng.gen_range(-0.2..4.2);
            let mut y: f64 = rng.gen_range(-0.2..3.2);
            if k % 5 == 0 {
                x = xs[rng.gen_range(0..5)];
            }
            if k % 7 == 0 {
                y = ys[rng.gen_range(0..4)];
            }
            let p = Point::new(x, y);
            let brute = districts
                .iter()
                .find(|u| u.boundary.coordinate_position(&Coord { x, y }) == CoordPos::Inside)
                .or_else(|| {
                    districts.iter().find(|u| {
                        u.boundary.coordinate_position(&Coord { x, y }) == CoordPos::OnBoundary
                    })
                })
                .map(|u| u.code.clone());
            let got = idx.join(p).ok().and_then(|r| r.district_code.clone());
            assert_eq!(got, brute, "point {x},{y}");
        }
    }

    /// Real boundaries (常州市's six districts, read without GDAL): the index
    /// agrees with a brute-force scan on seeded random points over the city.
    #[test]
    fn agrees_with_brute_force_on_real_boundaries() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/boundaries/changzhou.geojson"
        );
        let fc: geojson::FeatureCollection =
            std::fs::read_to_string(path).unwrap().parse().unwrap();
        let units: Vec<AdminUnit> = fc
            .features
            .iter()
            .map(|f| {
                let prop = |k: &str| f.property(k).and_then(|v| v.as_str()).map(str::to_string);
                let geom: geo::Geometry<f64> = f.geometry.clone().unwrap().try_into().unwrap();
                let boundary = match geom {
                    geo::Geometry::MultiPolygon(mp) => mp,
                    geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
                    other => panic!("{other:?}"),
                };
                AdminUnit {
                    code: prop("adcode").unwrap(),
                    name: prop("name").unwrap(),
                    level: AdminLevel::parse(&prop("level").unwrap()).unwrap(),
                    parent: prop("parent"),
                    boundary,
                }
            })
            .collect();
        let idx = AdminIndex::new(units.clone(), MetricCrs::for_longitude(119.8, 31.6));
        let districts: Vec<&AdminUnit> = units
            .iter()
            .filter(|u| u.level == AdminLevel::District)
            .collect();
        let bounds = idx.bounds();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut inside = 0;
        for _ in 0..5_000 {
            let (x, y) = (
                rng.gen_range(bounds.lower()[0]..bounds.upper()[0]),
                rng.gen_range(bounds.lower()[1]..bounds.upper()[1]),
            );
            let c = Coord { x, y };
            let mut holding: Vec<&str> = districts
                .iter()
                .filter(|u| u.boundary.coordinate_position(&c) != CoordPos::Outside)
                .map(|u| u.code.as_str())
                .collect();
            holding.sort();
            let got = idx
                .join(Point::new(x, y))
                .ok()
                .and_then(|r| r.district_code.clone());
            assert_eq!(got.as_deref(), holding.first().copied(), "point {x},{y}");
            inside += usize::from(got.is_some());
        }
        assert!(inside > 2_000, "most points fall in the city: {inside}");
    }
}

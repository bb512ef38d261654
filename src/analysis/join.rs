//! Joining points to the administrative hierarchy.
//!
//! The index is built once: one R-tree (`bulk_load`) of unit envelopes per
//! level, finest first, each unit paired with geo's
//! `IntervalTreeMultiPolygon` for the exact test; coarser levels are asked
//! only when the finer ones leave the point out. A point joins the **finest
//! unit that holds it**, whatever its level: a town where towns are given, the
//! district where its towns leave a gap or it has none, the city in a sliver
//! between districts. Coarser units follow from the `parent` codes.
//!
//! **Boundary rule.** At the finest level with a unit whose closed polygon
//! holds the point, a unit whose interior holds it wins; otherwise (the point
//! is on a boundary shared by neighbours, or on the outer edge) the unit with
//! the smallest code among those whose boundary holds it. So every point has
//! exactly one unit. A point in no unit is outside the study area and is
//! reported with its distance to the study area ([`super::outline`]): in
//! metres, with the nearest unit, within 10 km; "more than 10 km" beyond.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use geo::indexed::IntervalTreeMultiPolygon;
use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{BoundingRect, Contains, Coord, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{Envelope as _, RTree, AABB};

use super::clear_cells::{ClearCells, Lookup};
use super::outline::{segment_tree, Distance, Nearest, Outline, SegmentTree};
use crate::crs::MetricCrs;
use crate::model::{AdminLevel, AdminRef, AdminUnit};

type Envelope = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Why a point could not be joined.
#[derive(Debug, Clone, PartialEq)]
pub struct Outside {
    /// How far it is from the study area (none when there is no outline).
    pub distance: Option<Distance>,
    /// Whether swapping the point's lon and lat would put it inside.
    pub swapped_inside: bool,
}

/// The administrative units, indexed for point joins.
pub struct AdminIndex {
    /// Every unit, sorted by code; a unit's index here is its slot.
    units: Vec<AdminUnit>,
    finest_level: AdminLevel,
    /// Envelopes of the units of each level present, finest level first.
    levels: Vec<RTree<Envelope>>,
    fast: Vec<IntervalTreeMultiPolygon<f64>>,
    /// The units of the cells no boundary comes near: most points' join.
    clear: ClearCells,
    /// The joined path of each unit, shared by every point in it.
    paths: Vec<Arc<AdminRef>>,
    /// Boundary segments in lon/lat, for the exact on-boundary test.
    segments: OnceLock<SegmentTree>,
    /// The study area's outline in the metric CRS, for distances to outside points.
    outline: OnceLock<Outline>,
    metric: MetricCrs,
}

impl AdminIndex {
    /// Builds the index. `units` must hold at least one polygon unit.
    pub fn new(mut units: Vec<AdminUnit>, metric: MetricCrs) -> AdminIndex {
        units.sort_by(|a, b| a.code.cmp(&b.code));
        let finest_level = units
            .iter()
            .map(|u| u.level)
            .max()
            .unwrap_or(AdminLevel::Province);
        let mut by_level: std::collections::BTreeMap<std::cmp::Reverse<AdminLevel>, Vec<Envelope>> =
            Default::default();
        for (slot, u) in units.iter().enumerate() {
            if let Some(r) = u.boundary.bounding_rect() {
                by_level
                    .entry(std::cmp::Reverse(u.level))
                    .or_default()
                    .push(GeomWithData::new(
                        Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                        slot,
                    ));
            }
        }
        let levels = by_level.into_values().map(RTree::bulk_load).collect();
        let fast = units
            .iter()
            .map(|u| IntervalTreeMultiPolygon::new(&u.boundary))
            .collect();
        let paths = (0..units.len())
            .map(|i| Arc::new(admin_path(&units, i)))
            .collect();
        let mut index = AdminIndex {
            levels,
            units,
            finest_level,
            fast,
            clear: ClearCells::empty(),
            paths,
            segments: OnceLock::new(),
            outline: OnceLock::new(),
            metric,
        };
        let (lo, hi) = (index.bounds().lower(), index.bounds().upper());
        let rings = index.units.iter().flat_map(|u| {
            u.boundary
                .0
                .iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        });
        let clear = ClearCells::new([lo[0], lo[1], hi[0], hi[1]], rings, |c| {
            index.interior_unit(Point(c))
        });
        index.clear = clear;
        index
    }

    /// All units, sorted by code.
    pub fn units(&self) -> &[AdminUnit] {
        &self.units
    }

    /// Every unit a point or cell can belong to, with its path, coarse levels
    /// first (so that drawing them in this order leaves each cell with its
    /// finest unit), by code within a level. Slots are indices into [`Self::units`].
    pub fn join_units(&self) -> impl Iterator<Item = (usize, &AdminUnit, &AdminRef)> {
        let mut order: Vec<usize> = (0..self.units.len()).collect();
        order.sort_by_key(|&i| (self.units[i].level, i));
        order
            .into_iter()
            .map(|i| (i, &self.units[i], self.paths[i].as_ref()))
    }

    /// The path (town, district, city) of unit `slot`.
    pub fn path(&self, slot: usize) -> &AdminRef {
        &self.paths[slot]
    }

    /// The finest level the boundaries have.
    pub fn finest_level(&self) -> AdminLevel {
        self.finest_level
    }

    /// The metric CRS of the study area (the project's `metric_crs`, or the
    /// zone chosen for the centre of the units), used for every distance and area.
    pub fn metric(&self) -> &MetricCrs {
        &self.metric
    }

    /// Whether `p` lies on the boundary of unit `slot` (exact, robust predicates).
    fn on_boundary(&self, p: Point<f64>, slot: usize) -> bool {
        let tree = self
            .segments
            .get_or_init(|| segment_tree(&self.units, false, |c| [c.x, c.y]));
        let c = p.0;
        // Envelopes only: a Line's own point test is a rounded distance.
        tree.locate_in_envelope_intersecting(&AABB::from_point([c.x, c.y]))
            .any(|s| {
                s.data == slot && {
                    let (a, b) = (s.geom().from, s.geom().to);
                    let (a, b) = (Coord { x: a[0], y: a[1] }, Coord { x: b[0], y: b[1] });
                    RobustKernel::orient2d(a, b, c) == Orientation::Collinear
                }
            })
    }

    /// The unit (slot) holding `p`, by the boundary rule.
    pub fn locate(&self, p: Point<f64>) -> Option<usize> {
        match self.clear.lookup(p.0) {
            Lookup::Unit(slot) => Some(slot),
            Lookup::NoUnit => None,
            Lookup::Exact => self.locate_exactly(p),
        }
    }

    /// The unit of a point no boundary touches: the finest level's first
    /// unit (by code) whose interior holds it.
    fn interior_unit(&self, p: Point<f64>) -> Option<usize> {
        self.levels.iter().find_map(|tree| {
            tree.locate_all_at_point(&[p.x(), p.y()])
                .map(|e| e.data)
                .filter(|&s| self.fast[s].contains(&p))
                .min()
        })
    }

    /// [`Self::locate`] without the grid's shortcut.
    fn locate_exactly(&self, p: Point<f64>) -> Option<usize> {
        for tree in &self.levels {
            let mut candidates: Vec<usize> = tree
                .locate_all_at_point(&[p.x(), p.y()])
                .map(|e| e.data)
                .collect();
            // Slots follow code order within a level.
            candidates.sort_unstable();
            if let Some(&slot) = candidates.iter().find(|&&s| self.fast[s].contains(&p)) {
                return Some(slot);
            }
            if let Some(&slot) = candidates.iter().find(|&&s| self.on_boundary(p, s)) {
                return Some(slot);
            }
        }
        None
    }

    /// Joins a point: its unit path, or why it is outside.
    pub fn join(&self, p: Point<f64>) -> Result<Arc<AdminRef>, Outside> {
        if let Some(slot) = self.locate(p) {
            return Ok(self.paths[slot].clone());
        }
        let swapped_inside = self.locate(Point::new(p.y(), p.x())).is_some();
        Err(Outside {
            distance: self.outline().distance(p),
            swapped_inside,
        })
    }

    /// The nearest unit and its exact distance in metres, measured in the
    /// metric CRS to the nearest boundary segment; among units sharing that
    /// segment, the finest, then the smallest code.
    pub fn nearest(&self, p: Point<f64>) -> Option<Nearest> {
        self.outline().nearest(p)
    }

    /// The outline, built on the first point outside.
    fn outline(&self) -> &Outline {
        self.outline
            .get_or_init(|| Outline::new(&self.units, self.bounds(), &self.metric))
    }

    /// The envelope of the study area (all units), lon/lat.
    pub fn bounds(&self) -> AABB<[f64; 2]> {
        let mut boxes = self.levels.iter().map(|t| t.root().envelope());
        let first = boxes.next().unwrap_or_else(|| AABB::from_point([0.0, 0.0]));
        boxes.fold(first, |a, b| a.merged(&b))
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
    use crate::analysis::outline::NEAR_M;
    use geo::coordinate_position::CoordPos;
    use geo::{polygon, CoordinatePosition, Distance as _, Euclidean, MultiPolygon};
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
        let Some(Distance::Near(near)) = miss.distance else {
            panic!("{miss:?}")
        };
        let d = near.metres;
        assert_eq!(idx.units()[near.slot].code, "320412");
        // 0.01° of longitude at 31.5°N is about 950 m.
        assert!((900.0..1000.0).contains(&d), "{d}");
        assert!(!miss.swapped_inside);
    }

    #[test]
    fn a_point_nearest_a_shared_vertex_names_the_smaller_code() {
        let idx = two_districts();
        // Due south of the corner the two districts share; the parallel
        // curves up away from the central meridian, so that corner is the
        // nearest point of both.
        let near = idx.nearest(Point::new(120.0, 30.7)).unwrap();
        assert_eq!(idx.units()[near.slot].code, "320402");
        // 0.3° of latitude is about 33 km.
        assert!(
            (32_000.0..34_000.0).contains(&near.metres),
            "{}",
            near.metres
        );
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
    /// The bundled Changzhou boundaries: city, districts.
    fn changzhou_units() -> Vec<AdminUnit> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/boundaries/changzhou.geojson"
        );
        let fc: geojson::FeatureCollection =
            std::fs::read_to_string(path).unwrap().parse().unwrap();
        fc.features
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
            .collect()
    }

    /// Around real boundaries, an outside point is reported "beyond" exactly
    /// when its exact distance exceeds 10 km, however the screen judged its cell.
    #[test]
    fn the_far_screen_never_hides_a_near_point() {
        let idx = AdminIndex::new(changzhou_units(), MetricCrs::for_longitude(119.8, 31.6));
        let (lo, hi) = (idx.bounds().lower(), idx.bounds().upper());
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (mut near, mut beyond) = (0, 0);
        for _ in 0..20_000 {
            let p = Point::new(
                rng.gen_range(lo[0] - 0.4..hi[0] + 0.4),
                rng.gen_range(lo[1] - 0.4..hi[1] + 0.4),
            );
            let Err(miss) = idx.join(p) else { continue };
            let exact = idx.nearest(p).unwrap();
            match miss.distance.unwrap() {
                Distance::Near(n) => {
                    near += 1;
                    assert_eq!(n, exact);
                    assert!(exact.metres <= NEAR_M);
                }
                Distance::Beyond(_) => {
                    beyond += 1;
                    assert!(exact.metres > NEAR_M, "{p:?}: {exact:?}");
                }
            }
        }
        assert!(
            near > 1_000 && beyond > 1_000,
            "{near} near, {beyond} beyond"
        );
    }

    #[test]
    fn agrees_with_brute_force_on_real_boundaries() {
        let units = changzhou_units();
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

    /// The grid's shortcut never changes a join: on real boundaries, at
    /// random points, at every vertex and along every edge, nudged by
    /// 1e-10° to 1e-5°, the index answers as the exact path does.
    #[test]
    fn the_clear_cells_agree_with_the_exact_join() {
        let idx = AdminIndex::new(changzhou_units(), MetricCrs::for_longitude(119.8, 31.6));
        assert!(idx.clear.clear_share() > 0.8, "{}", idx.clear.clear_share());
        let (lo, hi) = (idx.bounds().lower(), idx.bounds().upper());
        let mut rng = ChaCha8Rng::seed_from_u64(13);
        let mut points: Vec<Coord> = (0..50_000)
            .map(|_| Coord {
                x: rng.gen_range(lo[0] - 0.01..hi[0] + 0.01),
                y: rng.gen_range(lo[1] - 0.01..hi[1] + 0.01),
            })
            .collect();
        for u in idx.units() {
            for p in &u.boundary.0 {
                for w in p.exterior().0.windows(2).step_by(7) {
                    let t: f64 = rng.gen_range(0.0..1.0);
                    let on = w[0] + (w[1] - w[0]) * t;
                    for base in [w[0], on] {
                        points.push(base);
                        for d in [1e-10, 1e-7, 1e-5] {
                            let (dx, dy) = (rng.gen_range(-d..d), rng.gen_range(-d..d));
                            points.push(base + Coord { x: dx, y: dy });
                        }
                    }
                }
            }
        }
        let mut shortcut = 0;
        for c in &points {
            let p = Point(*c);
            assert_eq!(idx.locate(p), idx.locate_exactly(p), "point {c:?}");
            shortcut += usize::from(idx.clear.lookup(*c) != Lookup::Exact);
        }
        assert!(
            shortcut > 40_000,
            "{shortcut} of {} by the shortcut",
            points.len()
        );
    }

    /// A unit as the loader makes it: read from a geometry whose rings run
    /// either way, normalised by the checker.
    fn checked_unit(
        code: &str,
        level: &str,
        parent: Option<&str>,
        g: geo::Polygon<f64>,
    ) -> AdminUnit {
        let spec = crate::ingest::config::InputSpec::boundaries(std::path::Path::new("b.geojson"));
        let checker = crate::ingest::validate::Checker::new(
            &spec,
            crate::crs::ToWgs84::new(crate::crs::InputCrs::Wgs84).unwrap(),
        );
        let source = crate::model::SourceRef {
            file: crate::model::SourceName::intern("b.geojson"),
            layer: None,
            row: 1,
        };
        let name = format!("unit {code}");
        let raw = crate::ingest::load::RawRecord::new(
            source,
            &[Some(code), Some(&name), Some(level), parent],
            None,
        )
        .with_geometry(geo::Geometry::Polygon(g), Some(true));
        checker.admin_unit(&raw).unwrap().0
    }

    /// Ring orientation never changes a join: a point in a hole is outside
    /// the unit for every combination of outer and hole winding.
    #[test]
    fn holes_hold_no_points_whatever_the_winding() {
        let outer = geo::LineString::from(vec![
            (119.0, 31.0),
            (121.0, 31.0),
            (121.0, 33.0),
            (119.0, 33.0),
            (119.0, 31.0),
        ]);
        let hole = geo::LineString::from(vec![
            (119.5, 31.5),
            (120.5, 31.5),
            (120.5, 32.5),
            (119.5, 32.5),
            (119.5, 31.5),
        ]);
        let rev = |l: &geo::LineString<f64>| geo::LineString(l.0.iter().rev().copied().collect());
        for (o, h) in [
            (outer.clone(), hole.clone()),
            (rev(&outer), hole.clone()),
            (outer.clone(), rev(&hole)),
            (rev(&outer), rev(&hole)),
        ] {
            let unit = checked_unit("320402", "district", None, geo::Polygon::new(o, vec![h]));
            let idx = AdminIndex::new(vec![unit], MetricCrs::for_longitude(120.0, 32.0));
            assert!(
                idx.join(Point::new(120.0, 32.0)).is_err(),
                "a point in the hole is outside"
            );
            assert!(
                idx.join(Point::new(119.2, 32.0)).is_ok(),
                "a point in the ring is inside"
            );
            // The hole's edge is 0.5° away: about 47 km east-west at 32°N, 55 km north-south.
            let d = idx.nearest(Point::new(120.0, 32.0)).unwrap().metres;
            assert!((45_000.0..56_000.0).contains(&d), "{d}");
        }
    }

    /// Points join the finest unit that holds them at whatever level: a town
    /// where towns are given, the district where they leave a gap or there are none.
    #[test]
    fn joins_the_finest_unit_at_any_level() {
        let units = vec![
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
                "320402",
                AdminLevel::District,
                Some("320400"),
                119.0,
                31.0,
                120.0,
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
            // Towns cover only the south half of 320402; 320412 has none.
            unit(
                "320402001",
                AdminLevel::Town,
                Some("320402"),
                119.0,
                31.0,
                119.5,
                31.5,
            ),
            unit(
                "320402002",
                AdminLevel::Town,
                Some("320402"),
                119.5,
                31.0,
                120.0,
                31.5,
            ),
        ];
        let idx = AdminIndex::new(units, MetricCrs::for_longitude(120.0, 31.5));
        let at = |x, y| idx.join(Point::new(x, y)).unwrap();
        let r = at(119.2, 31.2);
        assert_eq!(
            (r.town_code.as_deref(), r.district_code.as_deref()),
            (Some("320402001"), Some("320402"))
        );
        let r = at(119.2, 31.8);
        assert_eq!(
            (r.town_code.as_deref(), r.district_code.as_deref()),
            (None, Some("320402"))
        );
        let r = at(120.5, 31.5);
        assert_eq!(
            (
                r.town_code.as_deref(),
                r.district_code.as_deref(),
                r.city_code.as_deref()
            ),
            (None, Some("320412"), Some("320400"))
        );
        // On the edge between the two towns: the smaller code, at town level.
        assert_eq!(at(119.5, 31.2).town_code.as_deref(), Some("320402001"));
        // On the edge between a town and the district without towns: the town.
        assert_eq!(at(120.0, 31.2).town_code.as_deref(), Some("320402002"));
    }

    /// The distance of an outside point, from the segment index, equals a
    /// brute-force distance to every projected unit; the reported distance
    /// is that figure within 10 km and "more than 10 km" beyond, whichever
    /// way the screen judged the point's cell.
    #[test]
    fn outside_distances_agree_with_brute_force() {
        let idx = two_districts();
        let metric = idx.metric().clone();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (mut near, mut beyond) = (0, 0);
        for _ in 0..5000 {
            let p = Point::new(rng.gen_range(118.5..121.5), rng.gen_range(30.6..32.4));
            let Err(miss) = idx.join(p) else { continue };
            let (x, y) = metric.project(p.x(), p.y());
            let brute = idx
                .units()
                .iter()
                .map(|u| Euclidean.distance(&Point::new(x, y), &metric.to_metric(&u.boundary)))
                .fold(f64::INFINITY, f64::min);
            if brute == 0.0 {
                // Outside the lon/lat ring but inside its projection, whose
                // edges are chords of the curved images of the parallels.
                continue;
            }
            let exact = idx.nearest(p).unwrap().metres;
            assert!(
                (exact - brute).abs() < 1e-6 * brute.max(1.0),
                "{exact} vs {brute}"
            );
            match miss.distance.unwrap() {
                Distance::Near(n) => {
                    near += 1;
                    assert!(brute <= NEAR_M, "{p:?} is {brute} m away");
                    assert!((n.metres - brute).abs() < 1e-6 * brute.max(1.0));
                }
                Distance::Beyond(m) => {
                    beyond += 1;
                    assert_eq!(m, NEAR_M);
                    assert!(brute > NEAR_M, "{p:?} is only {brute} m away");
                }
            }
        }
        assert!(near > 100 && beyond > 100, "{near} near, {beyond} beyond");
    }
}

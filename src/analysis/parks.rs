//! Chemical parks (化工园区): for each park, the enterprises and major hazard
//! sources inside it (or on its boundary) by grade, the sum of R of those sources, the people at
//! vulnerable targets inside it and around it, its cells by grade (the
//! exposure grid's own values, computed for the park's cells), and its grade
//! by `[parks]` — the higher of the area rule on its cells and a grade from
//! its ΣR (policy, not national standard).

use geo::{BoundingRect, Distance as _, Euclidean, Intersects, MultiPolygon, Point};
use rayon::prelude::*;

use super::aggregate::{slot, unit_grade, CellStats};
use super::exposure::{GridSpec, Source, SourceIndex, Window};
use crate::crs::MetricCrs;
use crate::ingest::config::{Exposure, Parks};
use crate::model::{ChemicalPark, Grade, Graded, HazardUnit, VulnerableTarget};

/// What a park holds and its grade.
#[derive(Debug, Clone, PartialEq)]
pub struct ParkFindings {
    /// Area in km², in the metric CRS.
    pub area_km2: f64,
    /// Enterprises inside per grade (red, orange, yellow, blue).
    pub enterprises_by_grade: [u64; 4],
    /// Major hazard sources inside by grade 1–4.
    pub major_hazards: [u64; 4],
    /// Σ R of the major hazard sources inside.
    pub r_sum: f64,
    /// People at the vulnerable targets inside.
    pub population_inside: u64,
    /// People at the vulnerable targets outside it within `[parks] around_m`.
    pub population_around: u64,
    /// The grid cells whose centre lies inside.
    pub cells: CellStats,
    /// Its grade.
    pub grade: Grade,
    /// Why, in words.
    pub grade_rule: String,
}

/// The records the parks are assessed from, in the metric CRS.
pub struct ParkInputs<'a> {
    /// The graded enterprises.
    pub enterprises: &'a [Graded],
    /// The hazard units, assessed.
    pub units: &'a [HazardUnit],
    /// The vulnerable targets.
    pub targets: &'a [VulnerableTarget],
    /// The exposure grid's sources.
    pub sources: &'a [Source],
    /// The exposure grid's geometry.
    pub spec: GridSpec,
}

/// Assesses every park (same order as `parks`).
pub fn assess_parks(
    parks: &[ChemicalPark],
    input: &ParkInputs,
    cfg: (&Parks, &Exposure),
    metric: &MetricCrs,
) -> Vec<ParkFindings> {
    if parks.is_empty() {
        return Vec::new();
    }
    let index = SourceIndex::new(input.sources);
    parks
        .par_iter()
        .map(|p| {
            let near = |pad_m: f64| Near::park(&p.boundary, pad_m);
            let shape = metric.to_metric(&p.boundary);
            assess(&shape, near, input, &index, cfg, metric)
        })
        .collect()
}

/// A box in longitude and latitude around a park, wide enough to hold
/// every point within `pad_m` metres of it whatever the projection: a
/// cheap test that spares projecting the province's points, most of them
/// far away, before the exact one.
struct Near(Option<geo::Rect<f64>>);

impl Near {
    /// Around `boundary` (longitude, latitude): `pad_m` plus a kilometre
    /// plus a twentieth of its diagonal, far beyond how much a straight
    /// edge in the metric CRS bends away from the one between the same
    /// corners in degrees; no box near the poles.
    fn park(boundary: &MultiPolygon<f64>, pad_m: f64) -> Near {
        let Some(b) = boundary.bounding_rect() else {
            return Near(None);
        };
        const M_PER_DEGREE: f64 = 110_000.0;
        let diagonal_m = (b.width().powi(2) + b.height().powi(2)).sqrt() * 111_320.0;
        let dlat = (pad_m + 1_000.0 + diagonal_m / 20.0) / M_PER_DEGREE;
        let widest = (b.min().y.abs().max(b.max().y.abs()) + dlat)
            .to_radians()
            .cos();
        if widest < 0.1 {
            return Near(None);
        }
        let dlon = dlat / widest;
        Near(Some(geo::Rect::new(
            (b.min().x - dlon, b.min().y - dlat),
            (b.max().x + dlon, b.max().y + dlat),
        )))
    }

    /// Whether the point may be near the park.
    fn holds(&self, p: Point<f64>) -> bool {
        self.0.is_none_or(|r| {
            p.x() >= r.min().x && p.x() <= r.max().x && p.y() >= r.min().y && p.y() <= r.max().y
        })
    }
}

/// One park, its boundary in the metric CRS.
fn assess(
    shape: &MultiPolygon<f64>,
    near: impl Fn(f64) -> Near,
    input: &ParkInputs,
    index: &SourceIndex,
    (parks, exposure): (&Parks, &Exposure),
    metric: &MetricCrs,
) -> ParkFindings {
    let mut f = ParkFindings {
        area_km2: geo::Area::unsigned_area(shape) / 1e6,
        enterprises_by_grade: [0; 4],
        major_hazards: [0; 4],
        r_sum: 0.0,
        population_inside: 0,
        population_around: 0,
        cells: CellStats::default(),
        grade: Grade::Blue,
        grade_rule: String::new(),
    };
    let Some(bbox) = shape.bounding_rect() else {
        return f;
    };
    let (close, around) = (near(0.0), near(parks.around_m));
    let inside = |lon_lat: Point<f64>| {
        if !close.holds(lon_lat) {
            return false;
        }
        let (x, y) = metric.project(lon_lat.x(), lon_lat.y());
        let p = Point::new(x, y);
        bbox_holds(&bbox, x, y, 0.0) && shape.intersects(&p)
    };
    for e in input.enterprises.iter().filter(|e| inside(e.lon_lat)) {
        f.enterprises_by_grade[slot(e.grade())] += 1;
    }
    for u in input.units.iter().filter(|u| inside(u.lon_lat)) {
        if let (Some(g), Some(a)) = (u.major_grade(), &u.assessment) {
            f.major_hazards[(g - 1) as usize] += 1;
            f.r_sum += a.r;
        }
    }
    for t in input.targets.iter().filter(|t| around.holds(t.lon_lat)) {
        let (x, y) = metric.project(t.lon_lat.x(), t.lon_lat.y());
        if !bbox_holds(&bbox, x, y, parks.around_m) {
            continue;
        }
        let people = u64::from(t.population.unwrap_or(0));
        let d = Euclidean.distance(&Point::new(x, y), shape);
        if d == 0.0 {
            f.population_inside += people;
        } else if d <= parks.around_m {
            f.population_around += people;
        }
    }
    f.cells = park_cells(shape, &bbox, input.spec, index, exposure);
    let (area_grade, area_rule) = unit_grade(&f.cells, exposure);
    let (r_grade, r_rule) = r_sum_grade(f.r_sum, parks);
    (f.grade, f.grade_rule) = if r_grade > area_grade {
        (r_grade, format!("{r_rule}（面积规则：{area_rule}）"))
    } else {
        (area_grade, format!("{area_rule}；{r_rule}"))
    };
    f
}

/// Whether (x, y) lies within `pad` metres of the box.
fn bbox_holds(b: &geo::Rect<f64>, x: f64, y: f64, pad: f64) -> bool {
    x >= b.min().x - pad && x <= b.max().x + pad && y >= b.min().y - pad && y <= b.max().y + pad
}

/// The statistics of the grid cells whose centre lies in the park, their E
/// computed as the grid computes it (the same sources, order and kernel).
fn park_cells(
    shape: &MultiPolygon<f64>,
    bbox: &geo::Rect<f64>,
    spec: GridSpec,
    index: &SourceIndex,
    cfg: &Exposure,
) -> CellStats {
    let mut stats = CellStats::default();
    let col = |x: f64| ((x - spec.x0) / spec.cell).floor();
    let row = |y: f64| ((spec.y0 - y) / spec.cell).floor();
    let (c0, c1) = (col(bbox.min().x).max(0.0), col(bbox.max().x));
    let (r0, r1) = (row(bbox.max().y).max(0.0), row(bbox.min().y));
    let (c1, r1) = (
        c1.min(spec.cols as f64 - 1.0),
        r1.min(spec.rows as f64 - 1.0),
    );
    if c1 < c0 || r1 < r0 {
        return stats;
    }
    let w = Window {
        row0: r0 as usize,
        col0: c0 as usize,
        rows: (r1 - r0) as usize + 1,
        cols: (c1 - c0) as usize + 1,
    };
    let values = index.block(&spec, w, cfg.kernel, cfg.mode);
    for (i, e) in values.into_iter().enumerate() {
        let [x, y] = spec.centre(w.row0 + i / w.cols, w.col0 + i % w.cols);
        if shape.intersects(&Point::new(x, y)) {
            stats.add(e, cfg);
        }
    }
    stats
}

/// The grade from a park's Σ R by `[parks]`, and the rule in words.
fn r_sum_grade(r: f64, p: &Parks) -> (Grade, String) {
    let (grade, bound) = if r >= p.r_sum_red {
        (Grade::Red, format!("≥ {}", p.r_sum_red))
    } else if r >= p.r_sum_orange {
        (Grade::Orange, format!("≥ {}", p.r_sum_orange))
    } else if r >= p.r_sum_yellow {
        (Grade::Yellow, format!("≥ {}", p.r_sum_yellow))
    } else {
        (Grade::Blue, format!("< {}", p.r_sum_yellow))
    };
    let name = crate::styles::label(grade);
    (grade, format!("重大危险源ΣR = {r:.2} {bound} → {name}"))
}

#[cfg(test)]
mod tests {
    use geo::{polygon, Distance as _};

    use super::*;

    #[test]
    fn the_box_near_a_park_holds_every_point_within_the_pad() {
        let pad = 2_000.0;
        for (lon, lat, size) in [(119.9, 31.7, 0.02), (120.4, 0.5, 0.4), (118.3, 59.0, 0.5)] {
            let park = MultiPolygon::new(vec![polygon![
                (x: lon, y: lat),
                (x: lon + size, y: lat + size * 0.1),
                (x: lon + size * 0.8, y: lat + size),
                (x: lon - size * 0.2, y: lat + size * 0.7),
                (x: lon, y: lat),
            ]]);
            let near = Near::park(&park, pad);
            // The study area's projection may be centred a zone away.
            for metric in [
                MetricCrs::for_longitude(lon, lat),
                MetricCrs::for_longitude(lon + 3.0, lat),
            ] {
                let shape = metric.to_metric(&park);
                let b = shape.bounding_rect().unwrap();
                let steps = 80;
                let (w, h) = (b.width() + 4.0 * pad, b.height() + 4.0 * pad);
                for i in 0..=steps {
                    for j in 0..=steps {
                        let x = b.min().x - 2.0 * pad + w * f64::from(i) / f64::from(steps);
                        let y = b.min().y - 2.0 * pad + h * f64::from(j) / f64::from(steps);
                        if Euclidean.distance(&Point::new(x, y), &shape) > pad {
                            continue;
                        }
                        let (plon, plat) = metric.unproject(x, y);
                        assert!(near.holds(Point::new(plon, plat)), "{lat} {x} {y}");
                    }
                }
            }
            // And it does leave out what is far.
            assert!(!near.holds(Point::new(lon + 1.0 + size, lat)));
            assert!(!near.holds(Point::new(lon, lat - 1.0)));
        }
    }
}

//! Join benchmark: 1,000,000 generated enterprise locations over Jiangsu's
//! 95 districts (the bundled `jiangsu.geojson`), joined exactly as the
//! pipeline does (R-tree of envelopes, interval-tree point-in-polygon, rayon).
//!
//! Run with `cargo bench --bench join`. Targets: ≤ 1.5 s per 1 M points on
//! a 2-core machine; with 20 % of the points outside, within 10 % of the
//! all-inside time. Two such cases: a national list given to the province
//! (the outside points 6° east, in the sea), and the common one, the
//! province's list given to one city (常州市, 3204): its outside points lie
//! in the neighbouring cities, some of them within 10 km of the city, where
//! the exact distance is computed.

use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use geo::Point;
use rayon::prelude::*;
use riskatlas::analysis::join::AdminIndex;
use riskatlas::analysis::outline::Distance;
use riskatlas::generate::{synthesize, Sizes};
use riskatlas::ingest::{index_units, load_boundaries};
use riskatlas::model::AdminUnit;
use riskatlas::progress::Progress;

const POINTS: usize = 1_000_000;

/// `n` generated enterprise locations inside the units of `index`.
fn points_in(index: &AdminIndex, n: usize) -> Vec<Point<f64>> {
    let sizes = Sizes {
        enterprises: n,
        hazard_units: 0,
        hidden_dangers: 0,
        targets: 0,
    };
    synthesize(index, &sizes, 1, 2026)
        .enterprises
        .into_iter()
        .map(|e| e.lon_lat)
        .collect()
}

/// Every fifth point of `inside` replaced by the next of `outside`.
fn mix(inside: &[Point<f64>], outside: &[Point<f64>]) -> Vec<Point<f64>> {
    let mut far = outside.iter().cycle();
    inside
        .iter()
        .enumerate()
        .map(|(i, p)| if i % 5 == 0 { *far.next().unwrap() } else { *p })
        .collect()
}

fn bench_all_inside(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    index: &AdminIndex,
    points: &[Point<f64>],
) {
    group.bench_function(name, |b| {
        b.iter(|| {
            let joined = points
                .par_iter()
                .filter(|p| index.join(**p).is_ok())
                .count();
            assert_eq!(joined, points.len());
        })
    });
}

/// Joins `points`, a fifth of them outside, each outside one with the
/// distance its message gives (exact within 10 km, a bound beyond).
fn bench_mixed(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    index: &AdminIndex,
    points: &[Point<f64>],
) {
    group.bench_function(name, |b| {
        b.iter(|| {
            let outside: Vec<f64> = points
                .par_iter()
                .filter_map(|p| index.join(*p).err())
                .map(|o| match o.distance.expect("an outline") {
                    Distance::Near(n) => n.metres,
                    Distance::Beyond(m) => m,
                })
                .collect();
            assert_eq!(outside.len(), points.len() / 5);
            assert!(outside.iter().all(|d| *d > 0.0));
        })
    });
}

fn join_million(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/boundaries/jiangsu.geojson");
    let units = load_boundaries(&path, &Progress::hidden()).expect("bundled boundaries load");
    let city_units: Vec<AdminUnit> = units
        .iter()
        .filter(|u| u.code.starts_with("3204"))
        .cloned()
        .collect();
    let province = index_units(units);
    let city = index_units(city_units);

    let points = points_in(&province, POINTS);
    let sea: Vec<_> = points
        .iter()
        .map(|p| Point::new(p.x() + 6.0, p.y()))
        .collect();
    let elsewhere: Vec<_> = points
        .iter()
        .copied()
        .filter(|p| city.join(*p).is_err())
        .collect();
    let near = elsewhere
        .iter()
        .filter(|p| {
            matches!(
                city.join(**p).err().and_then(|o| o.distance),
                Some(Distance::Near(_))
            )
        })
        .count();
    eprintln!(
        "city case: {} of the province's points lie outside 常州市, {near} of them within 10 km",
        elsewhere.len()
    );
    let in_city = points_in(&city, POINTS);

    let mut group = c.benchmark_group("join");
    group.sample_size(10);
    bench_all_inside(
        &mut group,
        "1M points over 95 districts",
        &province,
        &points,
    );
    bench_mixed(
        &mut group,
        "1M points, 20 % outside (6° east), with distances",
        &province,
        &mix(&points, &sea),
    );
    bench_all_inside(&mut group, "city: 1M points inside", &city, &in_city);
    bench_mixed(
        &mut group,
        "city: 1M points, 20 % from the rest of the province",
        &city,
        &mix(&in_city, &elsewhere),
    );
    group.finish();
}

criterion_group!(benches, join_million);
criterion_main!(benches);

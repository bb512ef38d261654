//! Join benchmark: 1,000,000 generated enterprise locations over Jiangsu's
//! 95 districts (the bundled `jiangsu.geojson`), joined exactly as the
//! pipeline does (R-tree of envelopes, interval-tree point-in-polygon, rayon).
//!
//! Run with `cargo bench --bench join`. Targets: ≤ 1.5 s per 1 M points on
//! a 2-core machine; with 20 % of the points outside the province (a
//! national list given to a provincial run), within 10 % of that time —
//! each outside point costs a nearest-segment query, not a scan of the
//! boundaries.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use rayon::prelude::*;
use riskatlas::generate::{synthesize, Sizes};
use riskatlas::ingest::{index_units, load_boundaries};
use riskatlas::progress::Progress;

fn join_million(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/boundaries/jiangsu.geojson");
    let index =
        index_units(load_boundaries(&path, &Progress::hidden()).expect("bundled boundaries load"));
    let sizes = Sizes {
        enterprises: 1_000_000,
        hazard_units: 0,
        hidden_dangers: 0,
        targets: 0,
    };
    let points: Vec<_> = synthesize(&index, &sizes, 1, 2026)
        .enterprises
        .into_iter()
        .map(|e| e.lon_lat)
        .collect();
    let mut group = c.benchmark_group("join");
    group.sample_size(10);
    group.bench_function("1M points over 95 districts", |b| {
        b.iter(|| {
            let joined = points
                .par_iter()
                .filter(|p| index.join(**p).is_ok())
                .count();
            assert_eq!(joined, points.len());
        })
    });
    // Every fifth point moved 6° east: into the East China Sea.
    let mixed: Vec<_> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i % 5 == 0 {
                geo::Point::new(p.x() + 6.0, p.y())
            } else {
                *p
            }
        })
        .collect();
    group.bench_function("1M points, 20 % outside, with distances", |b| {
        b.iter(|| {
            let outside: Vec<f64> = mixed
                .par_iter()
                .filter_map(|p| index.join(*p).err())
                .map(|o| o.nearest.expect("a nearest unit").metres)
                .collect();
            assert_eq!(outside.len(), points.len() / 5);
            assert!(outside.iter().all(|d| *d > 0.0));
        })
    });
    group.finish();
}

criterion_group!(benches, join_million);
criterion_main!(benches);

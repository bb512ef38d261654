//! Join benchmark: 1,000,000 generated enterprise locations over Jiangsu's
//! 95 districts (the bundled `jiangsu.geojson`), joined exactly as the
//! pipeline does (R-tree of envelopes, interval-tree point-in-polygon, rayon).
//!
//! Run with `cargo bench --bench join`. Target: ≤ 1.5 s per 1 M points on
//! a 2-core machine.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use rayon::prelude::*;
use riskatlas::generate::{synthesize, Sizes};
use riskatlas::pipeline::{index_units, load_boundaries};
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
    group.finish();
}

criterion_group!(benches, join_million);
criterion_main!(benches);

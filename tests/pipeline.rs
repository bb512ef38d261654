//! End-to-end tests: the built binary on the bundled example city and on a
//! second city generated from another boundary file.

mod util;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use geo::{coordinate_position::CoordPos, Area, CoordinatePosition, MultiPolygon};
use serde_json::Value;
use util::*;

const LAYERS: [&str; 7] = [
    "admin_units",
    "enterprises",
    "hazard_sources",
    "hidden_dangers",
    "vulnerable_targets",
    "exposure_grid",
    "influence_zones",
];

/// The layers of points joined to units.
const POINT_LAYERS: [&str; 4] = [
    "enterprises",
    "hazard_sources",
    "hidden_dangers",
    "vulnerable_targets",
];

/// Runs the example city once for every test that only reads its outputs.
fn example_outputs() -> &'static Path {
    use std::sync::OnceLock;
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| example_in_scratch("pipeline-example"))
}

/// Accounting: for every input, accepted + rejected == read, and the report says so.
fn assert_accounting(report: &Value, rejects: &[Vec<String>]) {
    assert_eq!(report["accounting"]["balanced"], Value::Bool(true));
    let mut total_rejected = 0;
    for (name, input) in report["inputs"].as_object().unwrap() {
        let (read, acc, rej) = (
            input["read"].as_u64().unwrap(),
            input["accepted"].as_u64().unwrap(),
            input["rejected"].as_u64().unwrap(),
        );
        assert_eq!(acc + rej, read, "{name}: {acc} + {rej} != {read}");
        assert!(read > 0, "{name} read nothing");
        total_rejected += rej;
    }
    assert_eq!(
        rejects.len() as u64 - 1,
        total_rejected,
        "rejects.csv rows vs report"
    );
}

/// Every row listed in expected_rejects.csv is in rejects.csv with its code,
/// and nothing else was rejected (the clean records all pass).
fn assert_expected_rejects(expected: &[Vec<String>], rejects: &[Vec<String>]) {
    let header = &rejects[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let got: BTreeSet<(String, String, String, String)> = rejects[1..]
        .iter()
        .map(|r| {
            (
                r[col("source_file")].clone(),
                r[col("layer")].clone(),
                r[col("row")].clone(),
                r[col("code")].clone(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String, String)> = expected[1..]
        .iter()
        .map(|e| (e[0].clone(), e[1].clone(), e[2].clone(), e[3].clone()))
        .collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "expected but not rejected so: {missing:#?}\nrejected unexpectedly: {extra:#?}"
    );
}

/// Every accepted point lies in (or on the boundary of) the unit it was joined to.
fn assert_points_in_their_units(out: &Path) {
    let admin = read_json(&out.join("geojson/admin_units.geojson"));
    let units: BTreeMap<String, MultiPolygon<f64>> = admin["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["properties"]["code"].as_str().unwrap().to_string(),
                multipolygon(&f["geometry"]),
            )
        })
        .collect();
    for layer in POINT_LAYERS {
        let fc = read_json(&out.join(format!("geojson/{layer}.geojson")));
        for f in fc["features"].as_array().unwrap() {
            let code = f["properties"]["district_code"]
                .as_str()
                .unwrap_or_else(|| panic!("{layer}: no district_code"));
            assert!(
                f["properties"]["city_code"].is_string(),
                "{layer}: no city_code"
            );
            let c = &f["geometry"]["coordinates"];
            let p = geo::Coord {
                x: c[0].as_f64().unwrap(),
                y: c[1].as_f64().unwrap(),
            };
            // Written coordinates are rounded to 1e-7°, so allow a point that
            // rounding moved just across the boundary.
            let pos = units[code].coordinate_position(&p);
            if pos == CoordPos::Outside {
                use geo::{Distance, Euclidean};
                let d = Euclidean.distance(&geo::Point(p), &units[code]);
                assert!(d < 2e-7, "{layer}: {p:?} is {d}° outside unit {code}");
            }
        }
    }
}

/// RFC 7946: a FeatureCollection without `crs`, lon/lat in range, at most 7
/// decimals, outer rings counter-clockwise and holes clockwise.
fn assert_rfc7946(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let fc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(fc["type"], "FeatureCollection");
    assert!(
        fc.get("crs").is_none(),
        "{}: has a crs member",
        path.display()
    );
    for f in fc["features"].as_array().unwrap() {
        assert_eq!(f["type"], "Feature");
        assert!(f["properties"].is_object());
        let g = &f["geometry"];
        let mut numbers = Vec::new();
        collect_numbers(&g["coordinates"], &mut numbers);
        for pair in numbers.chunks(2) {
            assert!(
                (-180.0..=180.0).contains(&pair[0]) && (-90.0..=90.0).contains(&pair[1]),
                "{pair:?}"
            );
        }
        if g["type"] == "MultiPolygon" {
            for poly in multipolygon(g) {
                assert!(
                    poly.exterior().signed_area_ccw() > 0.0,
                    "{}: outer ring not counter-clockwise",
                    path.display()
                );
                for hole in poly.interiors() {
                    assert!(
                        hole.signed_area_ccw() < 0.0,
                        "{}: hole not clockwise",
                        path.display()
                    );
                }
            }
        }
    }
    // Decimals are checked on the text, where the writer's formatting shows:
    // every innermost array is a position.
    for piece in text.split('[').skip(1) {
        let Some((inner, _)) = piece.split_once(']') else {
            continue;
        };
        for token in inner.split(',') {
            if let Some((_, decimals)) = token.split_once('.') {
                if token.parse::<f64>().is_ok() {
                    assert!(
                        decimals.len() <= 7,
                        "{}: {token} has more than 7 decimals",
                        path.display()
                    );
                }
            }
        }
    }
}

trait SignedRing {
    fn signed_area_ccw(&self) -> f64;
}
impl SignedRing for geo::LineString<f64> {
    fn signed_area_ccw(&self) -> f64 {
        geo::Polygon::new(self.clone(), vec![]).signed_area()
    }
}

fn collect_numbers(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| collect_numbers(x, out)),
        Value::Number(n) => out.push(n.as_f64().unwrap()),
        _ => {}
    }
}

#[test]
fn example_city_accounts_for_every_record() {
    let out = example_outputs();
    let report = read_json(&out.join("report.json"));
    let rejects = read_csv(&out.join("rejects.csv"));
    assert_accounting(&report, &rejects);
    assert_eq!(report["crs"]["metric"]["epsg"], 4549);
    for stage in ["load_enterprises", "exposure_grid", "write_enterprises"] {
        assert!(
            report["timings_s"][stage].is_number(),
            "no timing for {stage}"
        );
    }
    // The memory peak so far at each stage's end grows from the first
    // stage to the last and stays within the run's peak, which is more than
    // the example's inputs (the kernel syncs its counters lazily: a few
    // pages of slack).
    let memory = &report["memory_kib"];
    let peak = memory["peak"].as_u64().expect("a peak");
    let marks: Vec<(String, u64)> = memory["after_stage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m[0].as_str().unwrap().to_string(), m[1].as_u64().unwrap()))
        .collect();
    assert!(peak > 50 * 1024, "{peak} KiB");
    assert!(marks.iter().any(|(s, _)| s == "exposure_grid"));
    assert!(marks[0].1 < marks[marks.len() - 1].1, "{marks:?}");
    assert!(
        marks.iter().all(|(_, k)| *k <= peak + 4096),
        "{peak}: {marks:?}"
    );
    assert_eq!(report["inputs"]["vulnerable_targets"]["read"], 1004);
    assert_eq!(report["inputs"]["enterprises"]["read"], 3008);
}

#[test]
fn example_city_rejects_every_bad_row_with_its_reason() {
    let out = example_outputs();
    let expected = read_csv(&root().join("fixtures/changzhou/expected_rejects.csv"));
    let rejects = read_csv(&out.join("rejects.csv"));
    assert!(expected.len() > 20, "the fixture has its bad rows");
    assert_expected_rejects(&expected, &rejects);
    // Every reject names file, row, field and reason.
    for r in &rejects[1..] {
        assert!(
            !r[0].is_empty() && r[2].parse::<u64>().is_ok() && !r[4].is_empty() && !r[7].is_empty(),
            "{r:?}"
        );
    }
}

#[test]
fn example_city_points_lie_in_their_units() {
    assert_points_in_their_units(example_outputs());
}

#[test]
fn example_city_geojson_follows_rfc7946() {
    let out = example_outputs();
    for layer in LAYERS {
        assert_rfc7946(&out.join(format!("geojson/{layer}.geojson")));
    }
}

#[test]
fn gbk_shapefile_reads_with_the_encoding_override() {
    let out = example_outputs();
    let targets = read_json(&out.join("geojson/vulnerable_targets.geojson"));
    let features = targets["features"].as_array().unwrap();
    assert_eq!(features.len(), 1000);
    let kinds: BTreeSet<&str> = features
        .iter()
        .map(|f| f["properties"]["kind"].as_str().unwrap())
        .collect();
    for kind in ["学校", "医院", "居民区"] {
        assert!(kinds.contains(kind), "kind {kind} missing from {kinds:?}");
    }
}

#[test]
fn two_runs_give_byte_identical_outputs() {
    let first = example_outputs();
    let project = root().join("fixtures/changzhou/project.toml");
    let second = run_project(&project, "2", 1);
    let files = files_under(first);
    assert_eq!(files, files_under(second.path()));
    for f in files {
        let (a, b) = (
            std::fs::read(first.join(&f)).unwrap(),
            std::fs::read(second.path().join(&f)).unwrap(),
        );
        if f.ends_with("report.json") {
            // Only the wall times and the memory figures may differ.
            let strip = |bytes: &[u8]| {
                let mut v: Value = serde_json::from_slice(bytes).unwrap();
                v.as_object_mut().unwrap().remove("timings_s");
                v.as_object_mut().unwrap().remove("memory_kib");
                v
            };
            assert_eq!(strip(&a), strip(&b));
        } else {
            assert!(a == b, "{} differs between runs", f.display());
        }
    }
}

#[test]
fn one_thread_and_two_threads_agree() {
    let out = run_project(&root().join("fixtures/changzhou/project.toml"), "1", 1);
    for f in files_under(out.path())
        .into_iter()
        .filter(|f| !f.ends_with("report.json"))
    {
        assert!(
            std::fs::read(out.path().join(&f)).unwrap()
                == std::fs::read(example_outputs().join(&f)).unwrap(),
            "{}",
            f.display()
        );
    }
}

/// Over `max_grid_cells`, the grid layer holds cells merged per grade, whose
/// areas add up to the grid's cell counts, the same for any thread count.
#[test]
fn large_grids_are_merged_per_grade() {
    let dir = copy_fixture("changzhou");
    let project = dir.path().join("project.toml");
    let mut text = std::fs::read_to_string(&project).unwrap();
    text.push_str("\n[exposure]\nmax_grid_cells = 1000\n");
    std::fs::write(&project, text).unwrap();
    let (one, two) = (run_project(&project, "1", 1), run_project(&project, "2", 1));
    let report = read_json(&two.path().join("report.json"));
    assert_eq!(
        report["findings"]["grid"]["exposure_grid_layer"],
        "cells merged per grade"
    );
    let zones = features(two.path(), "exposure_grid");
    assert!(zones.len() < 20_000, "merged: {} features", zones.len());
    for g in ["red", "orange", "yellow", "blue"] {
        let cells: i64 = zones
            .iter()
            .filter(|f| f["properties"]["grade"] == g)
            .map(|f| f["properties"]["cells"].as_i64().unwrap())
            .sum();
        let want = report["findings"]["grid"]["cells_by_grade"][g]
            .as_i64()
            .unwrap();
        assert!(
            (cells - want).abs() <= want / 1000 + 2,
            "{g}: {cells} merged cells vs {want} in the grid"
        );
        assert!(zones
            .iter()
            .filter(|f| f["properties"]["grade"] == g)
            .all(|f| f["properties"]["e"].is_null()));
    }
    for f in [
        "geojson/exposure_grid.geojson",
        "exposure.tif",
        "riskatlas.gpkg",
    ] {
        assert!(
            std::fs::read(one.path().join(f)).unwrap()
                == std::fs::read(two.path().join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn second_city_generated_from_wuxi_runs_end_to_end() {
    let data = generate_for("wuxi", "7", "1500", &["--bad-rows"]);
    let project = data.path().join("project.toml");
    let out = run_project(&project, "2", 1);
    let report = read_json(&out.path().join("report.json"));
    let rejects = read_csv(&out.path().join("rejects.csv"));
    assert_accounting(&report, &rejects);
    assert_expected_rejects(
        &read_csv(&data.path().join("expected_rejects.csv")),
        &rejects,
    );
    assert_points_in_their_units(out.path());
    assert_eq!(report["inputs"]["enterprises"]["accepted"], 1500);
    let admin = read_json(&out.path().join("geojson/admin_units.geojson"));
    assert_eq!(
        admin["features"].as_array().unwrap().len(),
        8,
        "无锡市 and its 7 districts"
    );
}

#[test]
fn generator_reproduces_the_bundled_example_byte_for_byte() {
    let data = tempfile::tempdir().unwrap();
    let boundaries = root().join("fixtures/boundaries/changzhou.geojson");
    riskatlas_expect(
        &[
            "generate",
            "--boundaries",
            boundaries.to_str().unwrap(),
            "--seed",
            "2026",
            "--enterprises",
            "3000",
            "--hazard-sources",
            "300",
            "--hidden-dangers",
            "500",
            "--targets",
            "1000",
            "--bad-rows",
            "--basemap",
            root().join("fixtures/basemap/changzhou").to_str().unwrap(),
            "--out",
            data.path().to_str().unwrap(),
        ],
        0,
    );
    for f in files_under(data.path()) {
        let bundled = std::fs::read(root().join("fixtures/changzhou").join(&f)).unwrap_or_default();
        assert!(
            std::fs::read(data.path().join(&f)).unwrap() == bundled,
            "{} differs from fixtures/changzhou",
            f.display()
        );
    }
}

/// The bundled next year is the example evolved a year by the generator.
#[test]
fn generator_reproduces_the_bundled_next_year_byte_for_byte() {
    let data = tempfile::tempdir().unwrap();
    let out = data.path().join("2027");
    riskatlas_expect(
        &[
            "generate",
            "--evolve-from",
            root().join("fixtures/changzhou").to_str().unwrap(),
            "--year",
            "2027",
            "--out",
            out.to_str().unwrap(),
        ],
        0,
    );
    let files = files_under(&out);
    assert!(files.iter().any(|f| f.ends_with("evolution.csv")));
    for f in files {
        let bundled =
            std::fs::read(root().join("fixtures/changzhou-2027").join(&f)).unwrap_or_default();
        assert!(
            std::fs::read(out.join(&f)).unwrap() == bundled,
            "{} differs from fixtures/changzhou-2027",
            f.display()
        );
    }
}

#[test]
fn enterprises_cluster_in_parks() {
    // Clustered data has many more near neighbours than uniform data would:
    // compare the median nearest-neighbour distance with the uniform
    // expectation 0.5 / sqrt(density).
    let fc = read_json(&example_outputs().join("geojson/enterprises.geojson"));
    let pts: Vec<(f64, f64)> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let c = &f["geometry"]["coordinates"];
            (
                c[0].as_f64().unwrap() * 94_600.0,
                c[1].as_f64().unwrap() * 110_900.0,
            )
        })
        .collect();
    let mut nearest: Vec<f64> = pts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            pts.iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, b)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt())
                .fold(f64::MAX, f64::min)
        })
        .collect();
    nearest.sort_by(f64::total_cmp);
    let nn = nearest[nearest.len() / 2];
    let area_m2 = 4_372e6; // 常州市, about 4,372 km²
    let uniform = 0.5 / (pts.len() as f64 / area_m2).sqrt();
    assert!(
        nn < 0.5 * uniform,
        "median nearest neighbour {nn:.0} m vs {uniform:.0} m if uniform"
    );
}

/// The GeoPackage holds the same layers and counts as the GeoJSON, in EPSG:4326,
/// and can itself be an input (a layer picked by name, its CRS read from the file).
#[test]
fn geopackage_matches_geojson_and_reads_back_as_input() {
    use gdal::vector::LayerAccess;
    let out = example_outputs();
    let gpkg = gdal::Dataset::open(out.join("riskatlas.gpkg")).unwrap();
    for name in LAYERS {
        let layer = gpkg.layer_by_name(name).unwrap();
        let fc = read_json(&out.join(format!("geojson/{name}.geojson")));
        assert_eq!(
            layer.feature_count() as usize,
            fc["features"].as_array().unwrap().len(),
            "{name}"
        );
        assert_eq!(
            layer.spatial_ref().unwrap().auth_code().unwrap(),
            4326,
            "{name}"
        );
        // A feature has one number in both formats: its GeoJSON `id` is its
        // GeoPackage `fid`, 1, 2, 3 … in layer order.
        let ids: Vec<u64> = fc["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_u64().expect("an integer id"))
            .collect();
        assert!(ids.iter().copied().eq(1..=ids.len() as u64), "{name}");
        let mut layer = gpkg.layer_by_name(name).unwrap();
        for (f, feature) in layer.features().zip(fc["features"].as_array().unwrap()) {
            assert_eq!(f.fid(), feature["id"].as_u64(), "{name}");
            let (key, value) = feature["properties"]
                .as_object()
                .unwrap()
                .iter()
                .next()
                .unwrap();
            if let Some(text) = value.as_str() {
                let stored = f.field_as_string(f.field_index(key).unwrap()).unwrap();
                assert_eq!(stored.as_deref(), Some(text), "{name} fid {:?}", f.fid());
            }
        }
    }
    // Each spatial index passes SQLite's own check and holds every feature.
    let db = rusqlite::Connection::open(out.join("riskatlas.gpkg")).unwrap();
    for name in LAYERS {
        let check: String = db
            .query_row(
                &format!("SELECT rtreecheck('rtree_{name}_geom')"),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(check, "ok", "{name}");
        let (indexed, features): (i64, i64) = db
            .query_row(
                &format!("SELECT (SELECT count(*) FROM \"rtree_{name}_geom\"), (SELECT count(*) FROM \"{name}\")"),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(indexed, features, "{name}");
    }
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project.toml");
    let gpkg_path = out.join("riskatlas.gpkg");
    std::fs::write(
        &project,
        format!(
            "year = 2026\n[inputs.admin_units]\npath = {gpkg_path:?}\nlayer = \"admin_units\"\nfields = {{ parent = \"parent_code\" }}\n\
             [inputs.enterprises]\npath = {gpkg_path:?}\nlayer = \"enterprises\"\n"
        ),
    )
    .unwrap();
    let report_dir = tempfile::tempdir().unwrap();
    riskatlas_expect(
        &[
            "check",
            project.to_str().unwrap(),
            "--report",
            report_dir.path().to_str().unwrap(),
            "-q",
        ],
        0,
    );
    let report = read_json(&report_dir.path().join("report.json"));
    assert_eq!(report["inputs"]["enterprises"]["accepted"], 3000);
    assert_eq!(report["inputs"]["enterprises"]["driver"], "GPKG");
    assert_eq!(report["inputs"]["enterprises"]["crs"], "wgs84");
}

fn features(out: &Path, layer: &str) -> Vec<Value> {
    read_json(&out.join(format!("geojson/{layer}.geojson")))["features"]
        .as_array()
        .unwrap()
        .clone()
}

/// Table 6, written out independently of the code under test.
fn table6(r: f64) -> u64 {
    if r >= 100.0 {
        1
    } else if r >= 50.0 {
        2
    } else if r >= 10.0 {
        3
    } else {
        4
    }
}

#[test]
fn major_hazard_grades_agree_with_r_by_table6() {
    let units = features(example_outputs(), "hazard_sources");
    let mut majors = 0;
    for f in &units {
        let p = &f["properties"];
        let s = p["s_value"].as_f64().unwrap();
        let is_major = p["is_major"].as_bool().unwrap();
        assert_eq!(is_major, s >= 1.0, "{}: S = {s}", p["id"]);
        if is_major {
            majors += 1;
            let r = p["r_value"].as_f64().unwrap();
            // r_value is rounded to 4 decimals; stay away from the boundaries.
            let grade = p["hazard_grade"].as_u64().unwrap();
            if [10.0, 50.0, 100.0]
                .iter()
                .all(|b: &f64| (r - b).abs() > 1e-3)
            {
                assert_eq!(grade, table6(r), "{}: R = {r}", p["id"]);
            }
            assert!(["input", "estimated"].contains(&p["alpha_source"].as_str().unwrap()));
            assert!(p["beta_used"].as_str().unwrap().contains("β="));
        } else {
            assert!(
                p["hazard_grade"].is_null(),
                "{}: graded though S < 1",
                p["id"]
            );
        }
    }
    assert!(
        majors >= 10,
        "the example has major hazard sources: {majors}"
    );
    let incomplete: Vec<&Value> = units
        .iter()
        .filter(|f| f["properties"]["incomplete"] == true)
        .collect();
    assert_eq!(
        incomplete.len(),
        1,
        "the unit with rejected inventory lines is flagged"
    );
}

#[test]
fn enterprises_with_grade_1_or_2_sources_are_red() {
    let es = features(example_outputs(), "enterprises");
    let mut checked = 0;
    for f in &es {
        let p = &f["properties"];
        assert!(["red", "orange", "yellow", "blue"].contains(&p["grade"].as_str().unwrap()));
        assert!(["assessed", "derived"].contains(&p["grade_source"].as_str().unwrap()));
        if matches!(p["top_hazard_grade"].as_u64(), Some(1 | 2)) {
            assert_eq!(p["grade"], "red", "{}", p["id"]);
            assert!(p["grade_reason"]
                .as_str()
                .unwrap()
                .contains("major_hazard_1_2"));
            checked += 1;
        }
        if p["grade_source"] == "assessed" {
            assert_eq!(p["grade"], p["assessed_grade"], "an assessed grade is kept");
        }
    }
    assert!(checked > 0, "the example has grade 1/2 sources");
}

#[test]
fn a_switched_off_rule_changes_the_grades() {
    let dir = copy_fixture("changzhou");
    let project = dir.path().join("project.toml");
    let mut text = std::fs::read_to_string(&project).unwrap();
    text.push_str(
        "\n[grading]\n[[grading.rules]]\nid = \"major_hazard_1_2\"\nwhen = \"major_hazard\"\nhazard_grades = [1, 2]\nraise_to = \"red\"\nenabled = false\n",
    );
    std::fs::write(&project, text).unwrap();
    let out = run_project(&project, "2", 1);
    let mut with_grade_1_2 = 0;
    for f in features(out.path(), "enterprises") {
        let p = &f["properties"];
        let reason = p["grade_reason"].as_str().unwrap_or("");
        assert!(
            !reason.contains("major_hazard"),
            "only the listed rules apply: {reason}"
        );
        if matches!(p["top_hazard_grade"].as_u64(), Some(1 | 2)) {
            with_grade_1_2 += 1;
            // Red now only if assessed so.
            assert_eq!(
                p["grade"],
                p["assessed_grade"].as_str().unwrap_or("blue"),
                "{}",
                p["id"]
            );
        }
    }
    assert!(with_grade_1_2 > 0);
}

/// What a Python `script` using openpyxl prints as JSON about the workbook at `path`.
fn openpyxl(script: &str, path: &Path) -> Value {
    let py = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script, path.to_str().unwrap()])
        .output()
        .expect("python3 runs");
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    serde_json::from_slice(&py.stdout).unwrap()
}

/// The lists open in a real XLSX reader (openpyxl), with their header row
/// frozen, and hold as many rows as the layers say they should.
#[test]
fn lists_match_the_layers_and_open_in_openpyxl() {
    let out = example_outputs();
    let count = |layer: &str, pred: &dyn Fn(&Value) -> bool| {
        features(out, layer)
            .iter()
            .filter(|f| pred(&f["properties"]))
            .count()
    };
    let expected = [
        (
            "重大安全风险清单",
            count("enterprises", &|p| {
                p["grade"] == "red" || p["grade"] == "orange"
            }),
        ),
        (
            "重大隐患清单",
            count("hidden_dangers", &|p| p["level"] == "major"),
        ),
        (
            "重大危险源清单",
            count("hazard_sources", &|p| p["is_major"] == true),
        ),
        ("脆弱性目标清单", count("vulnerable_targets", &|_| true)),
    ];
    let script = r#"
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1], read_only=False)
print(json.dumps({ws.title: {"rows": ws.max_row - 1, "freeze": ws.freeze_panes, "header": [c.value for c in ws[1]]} for ws in wb.worksheets}, ensure_ascii=False))
"#;
    let sheets = openpyxl(script, &out.join("lists/清单.xlsx"));
    for (name, n) in expected {
        let sheet = &sheets[name];
        assert_eq!(
            sheet["rows"].as_u64().unwrap() as usize,
            n,
            "{name} in the workbook"
        );
        assert_eq!(sheet["freeze"], "A2", "{name}: header row frozen");
        assert_eq!(sheet["header"][0], "序号");
        let csv_path = out.join(format!("lists/{name}.csv"));
        let bytes = std::fs::read(&csv_path).unwrap();
        assert!(
            bytes.starts_with("\u{feff}".as_bytes()),
            "{name}.csv has a BOM"
        );
        let rows = read_csv(&csv_path);
        assert_eq!(rows.len() - 1, n, "{name}.csv");
        assert_eq!(
            rows[0],
            sheet["header"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        );
    }
    assert!(expected.iter().all(|(_, n)| *n > 0), "{expected:?}");
    // Overdue major dangers come first.
    let dangers = read_csv(&out.join("lists/重大隐患清单.csv"));
    let overdue: Vec<bool> = dangers[1..]
        .iter()
        .map(|r| r.last().unwrap() == "是")
        .collect();
    assert!(overdue.windows(2).all(|w| w[0] >= w[1]), "overdue first");
}

/// exposure.tif reads back with GDAL: the zone's CRS, a snapped geotransform,
/// nodata 0, and cell values equal to E recomputed here from the layers, with
/// PROJ doing the projection.
#[test]
fn exposure_geotiff_reads_back_with_recomputable_values() {
    use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
    let out = example_outputs();
    let ds = gdal::Dataset::open(out.join("exposure.tif")).unwrap();
    assert_eq!(ds.spatial_ref().unwrap().auth_code().unwrap(), 4549);
    let gt = ds.geo_transform().unwrap();
    assert_eq!((gt[1], gt[5], gt[2], gt[4]), (100.0, -100.0, 0.0, 0.0));
    assert_eq!(
        (gt[0] % 100.0, gt[3] % 100.0),
        (0.0, 0.0),
        "origin snapped to whole cells"
    );
    let band = ds.rasterband(1).unwrap();
    assert_eq!(band.no_data_value(), Some(0.0));
    let (cols, rows) = ds.raster_size();
    let values: Vec<f32> = band.read_band_as::<f32>().unwrap().data().to_vec();

    // The sources: hazard units, and enterprises without any, with the
    // weights and radii the layers report (defaults by grade for enterprises).
    let mut wgs = SpatialRef::from_epsg(4326).unwrap();
    wgs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let mut zone = SpatialRef::from_epsg(4549).unwrap();
    zone.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let to_zone = CoordTransform::new(&wgs, &zone).unwrap();
    let project = |c: &Value| {
        let (mut x, mut y, mut z) = ([c[0].as_f64().unwrap()], [c[1].as_f64().unwrap()], [0.0]);
        to_zone.transform_coords(&mut x, &mut y, &mut z).unwrap();
        (x[0], y[0])
    };
    let mut sources = Vec::new();
    let mut with_units = BTreeSet::new();
    for f in features(out, "hazard_sources") {
        let p = &f["properties"];
        with_units.insert(p["enterprise_id"].as_str().unwrap().to_string());
        sources.push((
            project(&f["geometry"]["coordinates"]),
            p["weight"].as_f64().unwrap(),
            p["radius_m"].as_f64().unwrap(),
        ));
    }
    let weight = |g: &str| {
        [
            ("red", 8.0),
            ("orange", 4.0),
            ("yellow", 2.0),
            ("blue", 1.0),
        ]
        .iter()
        .find(|(n, _)| *n == g)
        .unwrap()
        .1
    };
    let radius = |g: &str| {
        [
            ("red", 1000.0),
            ("orange", 800.0),
            ("yellow", 500.0),
            ("blue", 300.0),
        ]
        .iter()
        .find(|(n, _)| *n == g)
        .unwrap()
        .1
    };
    for f in features(out, "enterprises") {
        let p = &f["properties"];
        if !with_units.contains(p["id"].as_str().unwrap()) {
            let g = p["grade"].as_str().unwrap();
            sources.push((project(&f["geometry"]["coordinates"]), weight(g), radius(g)));
        }
    }
    let e_at = |x: f64, y: f64| -> f64 {
        sources
            .iter()
            .map(|((sx, sy), w, r)| {
                let u = ((x - sx).powi(2) + (y - sy).powi(2)).sqrt() / r;
                if u <= 1.0 {
                    w * (1.0 - u * u).powi(2)
                } else {
                    0.0
                }
            })
            .sum()
    };
    // The cells at the sources themselves (non-zero) and a spread of others.
    let mut checked_nonzero = 0;
    let picks: Vec<(usize, usize)> = sources
        .iter()
        .step_by(97)
        .map(|((x, y), _, _)| {
            (
                ((gt[3] - y) / 100.0) as usize,
                ((x - gt[0]) / 100.0) as usize,
            )
        })
        .chain((0..50).map(|k| ((k * 37) % rows, (k * 53) % cols)))
        .collect();
    for (row, col) in picks {
        let (x, y) = (
            gt[0] + (col as f64 + 0.5) * 100.0,
            gt[3] - (row as f64 + 0.5) * 100.0,
        );
        let want = e_at(x, y);
        let got = values[row * cols + col] as f64;
        assert!(
            (got - want).abs() <= 1e-4 * want.max(1.0),
            "cell {row},{col}: tif {got} vs recomputed {want}"
        );
        checked_nonzero += usize::from(want > 0.0);
    }
    assert!(checked_nonzero > 10);
}

#[test]
fn admin_units_carry_statistics_and_an_area_grade() {
    let out = example_outputs();
    let units = features(out, "admin_units");
    let enterprises = features(out, "enterprises");
    for f in &units {
        let p = &f["properties"];
        let code = p["code"].as_str().unwrap();
        let in_unit = |e: &&Value| {
            e["properties"]["district_code"] == code || e["properties"]["city_code"] == code
        };
        for g in ["red", "orange", "yellow", "blue"] {
            let n = enterprises
                .iter()
                .filter(in_unit)
                .filter(|e| e["properties"]["grade"] == g)
                .count();
            assert_eq!(
                p[format!("enterprises_{g}")].as_u64().unwrap() as usize,
                n,
                "{code} {g}"
            );
        }
        let shares: f64 = ["red", "orange", "yellow", "blue"]
            .iter()
            .map(|g| p[format!("share_{g}")].as_f64().unwrap())
            .sum();
        assert!(shares <= 100.0 + 1e-6, "{code}: shares {shares}");
        let (red, orange, yellow) = (
            p["share_red"].as_f64().unwrap(),
            p["share_orange"].as_f64().unwrap(),
            p["share_yellow"].as_f64().unwrap(),
        );
        let want = if red >= 2.0 {
            "red"
        } else if red + orange >= 5.0 {
            "orange"
        } else if red + orange + yellow >= 10.0 {
            "yellow"
        } else {
            "blue"
        };
        // Shares are rounded to 0.01 %; stay away from the thresholds.
        if [2.0, 5.0, 10.0].iter().all(|t| {
            (red - t).abs() > 0.02
                && (red + orange - t).abs() > 0.02
                && (red + orange + yellow - t).abs() > 0.02
        }) {
            assert_eq!(p["grade"], want, "{code}");
        }
        assert!(p["grade_rule"].as_str().unwrap().contains("[area_"));
        assert!(p["e_max"].as_f64().unwrap() >= p["e_mean"].as_f64().unwrap());
    }
    // Every exposure_grid cell has E > 0 and its grade by the thresholds.
    for f in features(out, "exposure_grid").iter().step_by(101) {
        let p = &f["properties"];
        let e = p["e"].as_f64().unwrap();
        let want = if e >= 4.0 {
            "red"
        } else if e >= 2.0 {
            "orange"
        } else if e >= 1.0 {
            "yellow"
        } else {
            "blue"
        };
        assert!(e > 0.0);
        if [1.0, 2.0, 4.0].iter().all(|t| (e - t).abs() > 1e-3) {
            assert_eq!(p["grade"], want, "E = {e}");
        }
    }
    assert!(!features(out, "influence_zones").is_empty());
}

/// A decoded PNG: width, height and RGBA bytes.
/// A PNG of any colour type, as RGBA.
fn decode_png_any(path: &Path) -> (u32, u32, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let rgba = match info.color_type {
        png::ColorType::Rgb => buf
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::Rgba => buf,
        other => panic!("{}: {other:?}", path.display()),
    };
    (info.width, info.height, rgba)
}

fn decode_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba, "{}", path.display());
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

const PALETTE: [(&str, [u8; 3]); 4] = [
    ("red", [0xE6, 0x00, 0x12]),
    ("orange", [0xF3, 0x98, 0x00]),
    ("yellow", [0xFF, 0xF1, 0x00]),
    ("blue", [0x00, 0x68, 0xB7]),
];

/// A map's entry in `maps/maps.json`.
fn map_entry(out: &Path, file: &str) -> Value {
    let index: Value =
        serde_json::from_slice(&std::fs::read(out.join("maps/maps.json")).unwrap()).unwrap();
    index["maps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["file"] == file)
        .unwrap_or_else(|| panic!("{file} not in maps.json"))
        .clone()
}

/// A map entry's legend: its entries' texts and its notes.
fn legend_texts(entry: &Value) -> (Vec<String>, Vec<String>) {
    let texts = |key: &str| -> Vec<String> {
        entry[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().or(e["text"].as_str()).unwrap().to_string())
            .collect()
    };
    (texts("legend"), texts("legend_notes"))
}

/// A furniture box of a map's entry, px.
fn furniture_box(entry: &Value, name: &str) -> Option<[usize; 4]> {
    let b = entry["furniture"].get(name)?.as_array()?;
    Some(std::array::from_fn(|i| {
        b[i].as_i64().unwrap().max(0) as usize
    }))
}

/// Every furniture box of a map's entry, px.
fn furniture_boxes(entry: &Value) -> Vec<[usize; 4]> {
    entry["furniture"]
        .as_object()
        .unwrap()
        .keys()
        .filter_map(|k| furniture_box(entry, k))
        .collect()
}

/// The colours of the grid's (or the exposure surface's) grades in a map's
/// legend.
fn grade_tints(entry: &Value) -> Vec<[u8; 3]> {
    entry["legend"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["text"].as_str().unwrap().contains(" E "))
        .map(|e| hex_rgb(e["colour"].as_str().unwrap()))
        .collect()
}

/// A map's PDF rendered by `pdftoppm` at the size of its PNG, in `dir`.
fn render_pdf_at(pdf: &str, png: &(u32, u32, Vec<u8>), dir: &Path) -> (u32, u32, Vec<u8>) {
    let (w, h) = (png.0.to_string(), png.1.to_string());
    let stem = dir.join("page");
    poppler(
        "pdftoppm",
        &[
            "-png",
            "-singlefile",
            "-scale-to-x",
            &w,
            "-scale-to-y",
            &h,
            pdf,
            stem.to_str().unwrap(),
        ],
    );
    let img = decode_png_any(&dir.join("page.png"));
    assert_eq!((img.0, img.1), (png.0, png.1));
    img
}

/// Whether some pixel has exactly `rgb` where `keep` holds (x, y).
fn has_colour_where(
    img: &(u32, u32, Vec<u8>),
    rgb: [u8; 3],
    keep: impl Fn(usize, usize) -> bool,
) -> bool {
    has_colour_within(img, rgb, 0, keep)
}

/// Whether some pixel is within `tolerance` of `rgb` in each channel
/// where `keep` holds (x, y).
fn has_colour_within(
    img: &(u32, u32, Vec<u8>),
    rgb: [u8; 3],
    tolerance: u8,
    keep: impl Fn(usize, usize) -> bool,
) -> bool {
    let (w, h, data) = img;
    (0..*h as usize).any(|y| {
        (0..*w as usize).any(|x| {
            let p = &data[(y * *w as usize + x) * 4..][..3];
            keep(x, y) && p.iter().zip(rgb).all(|(a, b)| a.abs_diff(b) <= tolerance)
        })
    })
}

/// Whether the map's legend box shows `rgb`.
fn in_legend(img: &(u32, u32, Vec<u8>), entry: &Value, rgb: [u8; 3]) -> bool {
    let [l, t, r, b] = furniture_box(entry, "legend").expect("a legend");
    has_colour_where(img, rgb, |x, y| x >= l && x < r && y >= t && y < b)
}

/// Whether the map itself shows `rgb`: inside the neat frame (12 mm in at
/// 150 dpi), outside every furniture box.
fn in_body(img: &(u32, u32, Vec<u8>), entry: &Value, rgb: [u8; 3]) -> bool {
    let (w, h) = (img.0 as usize, img.1 as usize);
    let boxes = furniture_boxes(entry);
    has_colour_where(img, rgb, |x, y| {
        x > 75
            && x < w - 75
            && y > 75
            && y < h - 75
            && !boxes
                .iter()
                .any(|[l, t, r, b]| x >= *l && x < *r && y >= *t && y < *b)
    })
}

fn hex_rgb(hex: &str) -> [u8; 3] {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap();
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

/// Every map listed in `maps.json`: each legend entry with a colour shows
/// it in the legend and on the map itself (outside the furniture); the
/// furniture boxes lie on the page and do not overlap; the scale is given.
#[test]
fn every_legend_colour_is_on_its_map() {
    let out = example_outputs();
    let index: Value =
        serde_json::from_slice(&std::fs::read(out.join("maps/maps.json")).unwrap()).unwrap();
    let maps = index["maps"].as_array().unwrap();
    let pngs = files_under(&out.join("maps"))
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "png"))
        .count();
    assert_eq!(maps.len(), pngs, "one entry per map");
    let mut enterprise_maps = 0;
    let mut checked = 0;
    for m in maps {
        let file = m["file"].as_str().unwrap();
        if file.starts_with("maps/enterprise/") {
            enterprise_maps += 1;
            if enterprise_maps > 8 {
                continue;
            }
        }
        assert!(!m["title"].as_str().unwrap().is_empty(), "{file}");
        assert!(m["scale"].as_u64().unwrap() > 1000, "{file}");
        let img = decode_png(&out.join(file));
        let boxes: Vec<(String, [usize; 4])> = m["furniture"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| (k.clone(), furniture_box(m, k).unwrap()))
            .collect();
        for (i, (a, [l, t, r, b])) in boxes.iter().enumerate() {
            assert!(
                l < r && t < b && *r <= img.0 as usize && *b <= img.1 as usize,
                "{file}: {a}"
            );
            for (other, [l2, t2, r2, b2]) in &boxes[i + 1..] {
                let apart = r <= l2 || r2 <= l || b <= t2 || b2 <= t;
                assert!(apart, "{file}: {a} overlaps {other}");
            }
        }
        for e in m["legend"].as_array().unwrap() {
            let Some(hex) = e["colour"].as_str() else {
                continue;
            };
            let rgb = hex_rgb(hex);
            let text = e["text"].as_str().unwrap();
            assert!(in_legend(&img, m, rgb), "{file}: legend lacks {text} {hex}");
            assert!(in_body(&img, m, rgb), "{file}: map lacks {text} {hex}");
            checked += 1;
        }
    }
    assert!(checked > 200, "{checked} legend colours checked");
}

/// Runs one of poppler's tools (`pdfinfo`, `pdffonts`, `pdftotext`,
/// `pdftoppm`; Debian's poppler-utils) and gives its output.
fn poppler(tool: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e} (install poppler-utils)"));
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Each map has a vector PDF beside its PNG: the city's on A3, the
/// districts' and enterprises' on A4, its font embedded and subset, its
/// title found as text, and — drawn at the PNG's size — every legend
/// colour in the legend box and on the map outside the furniture.
#[test]
fn every_map_has_a_pdf_with_its_text_and_colours() {
    let out = example_outputs();
    let index = read_json(&out.join("maps/maps.json"));
    let maps = index["maps"].as_array().unwrap();
    assert!(maps
        .iter()
        .all(|m| m["pdf"].as_str().is_some_and(|p| out.join(p).is_file())));
    let enterprise = maps
        .iter()
        .find(|m| m["file"].as_str().unwrap().starts_with("maps/enterprise/"))
        .unwrap();
    let picked = [
        (map_entry(out, "maps/city.png"), "A3"),
        (map_entry(out, "maps/district/320412.png"), "A4"),
        (enterprise.clone(), "A4"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (m, paper) in picked {
        let pdf = out.join(m["pdf"].as_str().unwrap());
        let pdf = pdf.to_str().unwrap();
        let info = poppler("pdfinfo", &[pdf]);
        assert!(info.contains(&format!("({paper})")), "{pdf}: {info}");
        let fonts = poppler("pdffonts", &[pdf]);
        let rows: Vec<&str> = fonts.lines().skip(2).collect();
        assert!(!rows.is_empty(), "{pdf}: no font");
        for row in rows {
            let cols: Vec<&str> = row.split_whitespace().collect();
            let n = cols.len();
            assert_eq!(cols[n - 5..n - 2], ["yes", "yes", "yes"], "{pdf}: {row}");
        }
        let text: String = poppler("pdftotext", &[pdf, "-"])
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let title: String = m["title"]
            .as_str()
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        assert!(
            text.contains(&title),
            "{pdf}: title {title} not in its text"
        );
        let png = decode_png(&out.join(m["file"].as_str().unwrap()));
        let img = render_pdf_at(pdf, &png, dir.path());
        let boxes = furniture_boxes(&m);
        let [l, t, r, b] = furniture_box(&m, "legend").expect("a legend");
        let mut colours = 0;
        for e in m["legend"].as_array().unwrap() {
            let Some(hex) = e["colour"].as_str() else {
                continue;
            };
            let rgb = hex_rgb(hex);
            let text = e["text"].as_str().unwrap();
            let legend = has_colour_within(&img, rgb, 3, |x, y| x >= l && x < r && y >= t && y < b);
            assert!(legend, "{pdf}: legend lacks {text} {hex}");
            let body = has_colour_within(&img, rgb, 3, |x, y| {
                x > 75
                    && x < png.0 as usize - 75
                    && y > 75
                    && y < png.1 as usize - 75
                    && !boxes
                        .iter()
                        .any(|&[l, t, r, b]| x >= l && x < r && y >= t && y < b)
            });
            assert!(body, "{pdf}: map lacks {text} {hex}");
            colours += 1;
        }
        assert!(colours >= 4, "{pdf}: {colours} legend colours");
    }
}

/// The enterprise maps draw the exposure as it is at each point (exact E
/// sampled every few pixels and interpolated), not in the grid's 100 m
/// blocks: the boundaries between its grades fall anywhere on the ground,
/// not on the cell edges, as they would with blocks.
#[test]
fn enterprise_maps_draw_a_smooth_exposure_surface() {
    let out = example_outputs();
    let report = read_json(&out.join("report.json"));
    let grid = &report["findings"]["grid"];
    let cell = grid["cell_size_m"].as_f64().unwrap();
    let west = grid["origin"]["west"].as_f64().unwrap();
    let index = read_json(&out.join("maps/maps.json"));
    let (mut off_edge, mut transitions) = (0, 0);
    for m in index["maps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["file"].as_str().unwrap().starts_with("maps/enterprise/"))
        .take(6)
    {
        let img = decode_png(&out.join(m["file"].as_str().unwrap()));
        let gt: Vec<f64> = m["geotransform"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let tints = grade_tints(m);
        let boxes = furniture_boxes(m);
        let (w, h) = (img.0 as usize, img.1 as usize);
        let px = |x: usize, y: usize| -> [u8; 3] {
            let p = &img.2[(y * w + x) * 4..][..3];
            [p[0], p[1], p[2]]
        };
        for y in (80..h - 80).step_by(7) {
            for x in 80..w - 81 {
                let free = !boxes
                    .iter()
                    .any(|&[l, t, r, b]| x + 1 >= l && x < r && y >= t && y < b);
                let (a, b) = (px(x, y), px(x + 1, y));
                if free && a != b && tints.contains(&a) && tints.contains(&b) {
                    let ground = gt[0] + (x + 1) as f64 * gt[1];
                    let off = (ground - west).rem_euclid(cell);
                    transitions += 1;
                    if off.min(cell - off) > 0.15 * cell {
                        off_edge += 1;
                    }
                }
            }
        }
    }
    assert!(transitions > 200, "{transitions} grade boundaries crossed");
    assert!(
        off_edge * 2 > transitions,
        "{off_edge} of {transitions} grade boundaries away from the cell edges"
    );
}

#[test]
fn maps_show_the_grades_and_one_map_per_district() {
    let out = example_outputs();
    let city = decode_png(&out.join("maps/city.png"));
    assert_eq!((city.0, city.1), (1754, 1240), "A4 landscape at 150 dpi");
    // Each grade some enterprise has is in the legend and on the map.
    let entry = map_entry(out, "maps/city.png");
    let enterprises = features(out, "enterprises");
    for (name, rgb) in PALETTE {
        if enterprises.iter().any(|f| f["properties"]["grade"] == name) {
            assert!(in_legend(&city, &entry, rgb), "legend lacks {name}");
            assert!(in_body(&city, &entry, rgb), "map body lacks {name}");
        }
    }
    let districts: Vec<String> = features(out, "admin_units")
        .iter()
        .filter(|f| f["properties"]["level"] == "district")
        .map(|f| f["properties"]["code"].as_str().unwrap().to_string())
        .collect();
    let mut maps: Vec<String> = std::fs::read_dir(out.join("maps/district"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".png"))
        .collect();
    maps.sort();
    let mut want: Vec<String> = districts.iter().map(|c| format!("{c}.png")).collect();
    want.sort();
    assert_eq!(maps, want);
    for m in &maps {
        let img = decode_png(&out.join("maps/district").join(m));
        assert_eq!((img.0, img.1), (1754, 1240));
        let entry = map_entry(out, &format!("maps/district/{m}"));
        assert!(in_legend(&img, &entry, PALETTE[3].1), "{m}: legend");
    }
}

/// The hidden-danger maps: the city's and one per district; each class's
/// colour is in the legend, and in a district's map body exactly when the
/// district has a hidden danger of that class.
#[test]
fn hidden_danger_maps_show_each_class_where_there_is_one() {
    let out = example_outputs();
    let dir = out.join("maps/hidden_dangers");
    let city = decode_png(&dir.join("city.png"));
    assert_eq!((city.0, city.1), (1754, 1240));
    // Colours from styles/map.toml [dangers], written out here.
    type Class = (&'static str, [u8; 3], fn(&Value) -> bool);
    let classes: [Class; 3] = [
        ("open major", [0x8B, 0x00, 0x00], |p| {
            p["level"] == "major" && p["status"] == "open" && p["progress"] != "in_progress"
                || p["level"] == "major" && p["overdue"] == true
        }),
        ("major in progress", [0xE0, 0x47, 0x4C], |p| {
            p["level"] == "major" && p["progress"] == "in_progress" && p["overdue"] == false
        }),
        ("open general", [0xE0, 0x7B, 0x00], |p| {
            p["level"] == "general" && p["status"] == "open" && p["overdue"] == true
        }),
    ];
    let entry = map_entry(out, "maps/hidden_dangers/city.png");
    for (name, rgb, _) in &classes {
        assert!(in_legend(&city, &entry, *rgb), "city legend lacks {name}");
    }
    let dangers = features(out, "hidden_dangers");
    let districts: Vec<String> = features(out, "admin_units")
        .iter()
        .filter(|f| f["properties"]["level"] == "district")
        .map(|f| f["properties"]["code"].as_str().unwrap().to_string())
        .collect();
    let mut seen_absent = 0;
    for code in &districts {
        let img = decode_png(&dir.join(format!("district/{code}.png")));
        let entry = map_entry(out, &format!("maps/hidden_dangers/district/{code}.png"));
        for (name, rgb, is) in &classes {
            let n = dangers
                .iter()
                .map(|f| &f["properties"])
                .filter(|p| p["district_code"] == code.as_str() && is(p))
                .count();
            // Outside the legend and the inset (the table holds no colour).
            let drawn = in_body(&img, &entry, *rgb);
            assert_eq!(drawn, n > 0, "{code}: {name}: {n} in the data");
            seen_absent += usize::from(n == 0);
        }
    }
    assert!(
        seen_absent > 0,
        "some district lacks some class: the absence is tested"
    );
}

/// Metres between two lon/lat points on a local plane (equirectangular at
/// their mean latitude, WGS 84's radii): independent of the metric CRS the
/// code uses, and within 0.1 % of it over a city.
fn local_metres(a: [f64; 2], b: [f64; 2]) -> f64 {
    let lat = ((a[1] + b[1]) / 2.0).to_radians();
    let m_per_deg_lat = 111_132.954 - 559.822 * (2.0 * lat).cos();
    let m_per_deg_lon = 111_412.84 * lat.cos() - 93.5 * (3.0 * lat).cos();
    let dx = (a[0] - b[0]) * m_per_deg_lon;
    let dy = (a[1] - b[1]) * m_per_deg_lat;
    (dx * dx + dy * dy).sqrt()
}

fn lon_lat(f: &Value) -> [f64; 2] {
    let c = &f["geometry"]["coordinates"];
    [c[0].as_f64().unwrap(), c[1].as_f64().unwrap()]
}

/// Each high-risk place's nearest resource of each kind, its route distance
/// (straight line × 1.3) and its coverage (default reaches), recomputed here
/// from the two layers; the per-unit shares and the list of uncovered
/// places agree with them.
#[test]
fn coverage_finds_the_nearest_resource_of_each_kind() {
    let out = example_outputs();
    let resources = features(out, "emergency_resources");
    assert!(resources.len() > 100, "the example has emergency resources");
    let places = features(out, "resource_coverage");
    let majors = features(out, "hazard_sources")
        .iter()
        .filter(|f| f["properties"]["is_major"] == true)
        .count();
    let high = features(out, "enterprises")
        .iter()
        .filter(|f| ["red", "orange"].contains(&f["properties"]["grade"].as_str().unwrap()))
        .count();
    assert_eq!(places.len(), majors + high);
    let reach = [
        ("rescue_team", 10_000.0),
        ("fire_station", 5_000.0),
        ("material_depot", 20_000.0),
        ("hospital", 10_000.0),
        ("shelter", 3_000.0),
    ];
    let mut covered = 0;
    for p in &places {
        let at = lon_lat(p);
        let props = &p["properties"];
        let mut all_within = true;
        for (kind, within) in reach {
            let best = resources
                .iter()
                .filter(|r| r["properties"]["kind"] == kind)
                .map(|r| (local_metres(at, lon_lat(r)), r))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .expect("every kind is in the example");
            let got_m = props[format!("{kind}_m")].as_f64().unwrap();
            let want_m = best.0 * 1.3;
            assert!(
                (got_m - want_m).abs() <= want_m * 0.002 + 1.0,
                "{}: {kind}: {got_m} m, want {want_m:.1}",
                props["id"]
            );
            let got_id = props[format!("{kind}_id")].as_str().unwrap();
            let got = resources
                .iter()
                .find(|r| r["properties"]["id"] == got_id)
                .unwrap();
            // The same one, or one as near within the planes' difference.
            assert!(local_metres(at, lon_lat(got)) <= best.0 * 1.002 + 1.0);
            all_within &= want_m <= within * 0.998 || (got_m <= within && want_m <= within * 1.002);
        }
        assert_eq!(props["covered"], all_within, "{}", props["id"]);
        covered += usize::from(all_within);
    }
    let units = features(out, "admin_units");
    let city = units
        .iter()
        .find(|f| f["properties"]["level"] == "city")
        .unwrap();
    assert_eq!(city["properties"]["high_risk_places"], places.len());
    assert_eq!(city["properties"]["covered_places"], covered);
    let per_district: u64 = units
        .iter()
        .filter(|f| f["properties"]["level"] == "district")
        .map(|f| f["properties"]["high_risk_places"].as_u64().unwrap())
        .sum();
    assert_eq!(per_district as usize, places.len());
    let list = read_csv(&out.join("lists/应急资源覆盖不足清单.csv"));
    assert_eq!(list.len() - 1, places.len() - covered);
    let listed = read_csv(&out.join("lists/应急资源清单.csv"));
    assert_eq!(listed.len() - 1, resources.len());
}

/// The coverage maps: the city's and one per district; each resource
/// kind's colour in the legend, and the covered places' green ring in a
/// district's map body exactly when the district has a covered place.
#[test]
fn coverage_maps_ring_the_covered_places() {
    let out = example_outputs();
    let dir = out.join("maps/coverage");
    let city = decode_png(&dir.join("city.png"));
    let entry = map_entry(out, "maps/coverage/city.png");
    // Colours from styles/map.toml [resources], written out here.
    for rgb in [
        [0x00, 0x79, 0x6B],
        [0xC2, 0x18, 0x5B],
        [0x79, 0x55, 0x48],
        [0x00, 0x97, 0xA7],
        [0x55, 0x8B, 0x2F],
    ] {
        assert!(in_legend(&city, &entry, rgb), "legend lacks {rgb:?}");
    }
    let green = [0x1B, 0x9E, 0x3B];
    let places = features(out, "resource_coverage");
    for f in features(out, "admin_units")
        .iter()
        .filter(|f| f["properties"]["level"] == "district")
    {
        let code = f["properties"]["code"].as_str().unwrap();
        let img = decode_png(&dir.join(format!("district/{code}.png")));
        let covered = places
            .iter()
            .filter(|p| {
                p["properties"]["district_code"] == code && p["properties"]["covered"] == true
            })
            .count();
        let entry = map_entry(out, &format!("maps/coverage/district/{code}.png"));
        let drawn = in_body(&img, &entry, green);
        assert_eq!(drawn, covered > 0, "{code}: {covered} covered places");
    }
    // With a reach of 1 m for fire stations no place is covered: no ring is green.
    let dir = copy_fixture("changzhou");
    let project = dir.path().join("project.toml");
    let base = std::fs::read_to_string(&project).unwrap();
    std::fs::write(
        &project,
        format!("{base}\n[coverage.within_m]\nfire_station = 1.0\n"),
    )
    .unwrap();
    let run = run_project(&project, "2", 1);
    let none = features(run.path(), "resource_coverage");
    assert!(none.iter().all(|p| p["properties"]["covered"] == false));
    assert!(none.iter().all(|p| p["properties"]["missing"]
        .as_str()
        .unwrap()
        .contains("消防救援站")));
    for name in ["city.png", "district/320412.png"] {
        let img = decode_png(&run.path().join("maps/coverage").join(name));
        let entry = map_entry(run.path(), &format!("maps/coverage/{name}"));
        assert!(!in_body(&img, &entry, green), "{name}");
    }
}

/// Metres from a point to a polygon's boundary on a local plane (0 inside).
fn metres_to(p: [f64; 2], shape: &MultiPolygon<f64>) -> f64 {
    if shape.coordinate_position(&geo::Coord { x: p[0], y: p[1] }) != CoordPos::Outside {
        return 0.0;
    }
    let lat = p[1].to_radians();
    let (kx, ky) = (
        111_412.84 * lat.cos() - 93.5 * (3.0 * lat).cos(),
        111_132.954 - 559.822 * (2.0 * lat).cos(),
    );
    let mut best = f64::INFINITY;
    for poly in &shape.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            for seg in ring.lines() {
                let (ax, ay) = ((seg.start.x - p[0]) * kx, (seg.start.y - p[1]) * ky);
                let (bx, by) = ((seg.end.x - p[0]) * kx, (seg.end.y - p[1]) * ky);
                let (dx, dy) = (bx - ax, by - ay);
                let t = (-(ax * dx + ay * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
                best = best.min(((ax + t * dx).powi(2) + (ay + t * dy).powi(2)).sqrt());
            }
        }
    }
    best
}

/// Each park's enterprises by grade, major hazard sources by grade, Σ R and
/// people inside and within 1 km, recomputed here from the other layers;
/// its grade is the higher of the area rule on its shares and the ΣR rule.
#[test]
fn parks_hold_what_lies_inside_them() {
    let out = example_outputs();
    let parks = features(out, "chemical_parks");
    assert_eq!(parks.len(), 2, "the example has two parks");
    let enterprises = features(out, "enterprises");
    let hazards = features(out, "hazard_sources");
    let targets = features(out, "vulnerable_targets");
    let grades = ["red", "orange", "yellow", "blue"];
    let rank = |g: &str| grades.iter().position(|x| *x == g).unwrap();
    for park in &parks {
        let shape = multipolygon(&park["geometry"]);
        let props = &park["properties"];
        let inside = |f: &Value| {
            let [x, y] = lon_lat(f);
            shape.coordinate_position(&geo::Coord { x, y }) != CoordPos::Outside
        };
        for g in grades {
            let n = enterprises
                .iter()
                .filter(|f| f["properties"]["grade"] == g && inside(f))
                .count();
            assert_eq!(
                props[format!("enterprises_{g}")],
                n,
                "{}: {g}",
                props["code"]
            );
        }
        let majors: Vec<&Value> = hazards
            .iter()
            .filter(|f| f["properties"]["is_major"] == true && inside(f))
            .collect();
        for k in 1..=4 {
            let n = majors
                .iter()
                .filter(|f| f["properties"]["hazard_grade"] == k)
                .count();
            assert_eq!(props[format!("major_hazards_{k}")], n);
        }
        let r: f64 = majors
            .iter()
            .map(|f| f["properties"]["r_value"].as_f64().unwrap())
            .sum();
        let got_r = props["r_sum"].as_f64().unwrap();
        assert!(
            (got_r - r).abs() <= 0.01 * (majors.len() as f64 + 1.0),
            "ΣR {got_r} vs {r}"
        );
        let people = |lo: f64, hi: f64| -> u64 {
            targets
                .iter()
                .filter(|t| (lo..=hi).contains(&metres_to(lon_lat(t), &shape)))
                .map(|t| t["properties"]["population"].as_u64().unwrap_or(0))
                .sum()
        };
        assert_eq!(props["population_inside"], people(0.0, 0.0));
        let around = props["population_around"].as_u64().unwrap();
        assert!(
            (people(1e-9, 998.0)..=people(1e-9, 1002.0)).contains(&around),
            "around {around}"
        );
        let shares: Vec<f64> = grades
            .iter()
            .map(|g| props[format!("share_{g}")].as_f64().unwrap())
            .collect();
        let area = if shares[0] >= 2.0 {
            "red"
        } else if shares[0] + shares[1] >= 5.0 {
            "orange"
        } else if shares[0] + shares[1] + shares[2] >= 10.0 {
            "yellow"
        } else {
            "blue"
        };
        let by_r = if got_r >= 100.0 {
            "red"
        } else if got_r >= 50.0 {
            "orange"
        } else if got_r >= 10.0 {
            "yellow"
        } else {
            "blue"
        };
        let want = grades[rank(area).min(rank(by_r))];
        assert_eq!(props["grade"], want, "{}", props["code"]);
    }
    let list = read_csv(&out.join("lists/化工园区清单.csv"));
    assert_eq!(list.len() - 1, parks.len());
    for p in &parks {
        let code = p["properties"]["code"].as_str().unwrap();
        assert!(out.join(format!("maps/parks/{code}.png")).exists());
    }
}

/// With a road network, the route follows the roads: one fire station
/// 1.5 km south of a place, joined to it by a road that goes 2 km east,
/// north and back west (5.5 km); places whose nearest road is a piece no
/// station reaches fall back to the straight line × 1.3.
#[test]
fn coverage_routes_along_the_roads() {
    let example = example_outputs();
    let first = &features(example, "resource_coverage")[0];
    let [lon, lat] = lon_lat(first);
    let rad = lat.to_radians();
    let m_lon = 111_412.84 * rad.cos() - 93.5 * (3.0 * rad).cos();
    let m_lat = 111_132.954 - 559.822 * (2.0 * rad).cos();
    let at = |east: f64, north: f64| [lon + east / m_lon, lat + north / m_lat];
    let dir = copy_fixture("changzhou");
    let s = at(0.0, -1500.0);
    std::fs::write(
        dir.path().join("emergency_resources.csv"),
        format!(
            "资源编号,资源名称,资源类型,规模,值班电话,经度,纬度\nF1,测试消防站,消防救援站,30,1,{:.7},{:.7}\n",
            s[0], s[1]
        ),
    )
    .unwrap();
    let line = |pts: &[[f64; 2]]| {
        let c: Vec<String> = pts
            .iter()
            .map(|p| format!("[{:.7},{:.7}]", p[0], p[1]))
            .collect();
        format!(
            r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"LineString","coordinates":[{}]}}}}"#,
            c.join(",")
        )
    };
    let roads = [
        line(&[s, at(2000.0, -1500.0), at(2000.0, 0.0), at(0.0, 0.0)]),
        // Far from the station's road, not joined to it.
        line(&[at(-30_000.0, 0.0), at(-29_000.0, 0.0)]),
    ];
    std::fs::write(
        dir.path().join("roads.geojson"),
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            roads.join(",")
        ),
    )
    .unwrap();
    let project = dir.path().join("project.toml");
    let text = std::fs::read_to_string(&project).unwrap();
    std::fs::write(
        &project,
        format!("{text}\n[inputs.roads]\npath = \"roads.geojson\"\ncrs = \"wgs84\"\n\n[maps]\nenabled = false\n"),
    )
    .unwrap();
    let out = run_project(&project, "2", 1);
    let places = features(out.path(), "resource_coverage");
    let p = places
        .iter()
        .find(|f| f["properties"]["id"] == first["properties"]["id"])
        .unwrap();
    let m = p["properties"]["fire_station_m"].as_f64().unwrap();
    assert!((m - 5500.0).abs() < 5500.0 * 0.003, "{m} m by road");
    assert_eq!(p["properties"]["distance_by"], "road");
    assert_eq!(
        p["properties"]["covered"], false,
        "5.5 km is beyond the 5 km reach"
    );
    let straight: Vec<&Value> = places
        .iter()
        .filter(|f| f["properties"]["distance_by"] == "straight_line")
        .collect();
    assert!(
        !straight.is_empty(),
        "some places are nearest the unjoined road"
    );
    for f in straight {
        let want = local_metres(lon_lat(f), s) * 1.3;
        let got = f["properties"]["fire_station_m"].as_f64().unwrap();
        assert!((got - want).abs() <= want * 0.002 + 1.0, "{got} vs {want}");
    }
    let report = read_json(&out.path().join("report.json"));
    assert_eq!(
        report["inputs"]["roads"]["accepted"], 2,
        "{}",
        report["inputs"]["roads"]
    );
}

/// A resources input whose every row is rejected still lists every
/// high-risk place, none of them covered.
#[test]
fn with_no_resource_accepted_no_place_is_covered() {
    let dir = copy_fixture("changzhou");
    std::fs::write(
        dir.path().join("emergency_resources.csv"),
        "资源编号,资源名称,资源类型,规模,值班电话,经度,纬度\nX1,停机坪,直升机停机坪,1,1,119.9,31.7\n",
    )
    .unwrap();
    let project = dir.path().join("project.toml");
    let text = std::fs::read_to_string(&project).unwrap();
    std::fs::write(&project, format!("{text}\n[maps]\nenabled = false\n")).unwrap();
    let out = run_project(&project, "2", 1);
    let places = features(out.path(), "resource_coverage");
    let example = features(example_outputs(), "resource_coverage");
    assert_eq!(places.len(), example.len());
    assert!(places.iter().all(|p| p["properties"]["covered"] == false));
    let list = read_csv(&out.path().join("lists/应急资源覆盖不足清单.csv"));
    assert_eq!(list.len() - 1, places.len());
}

#[test]
fn map_size_and_dpi_are_options_and_a_missing_font_is_explained() {
    let dir = copy_fixture("changzhou");
    let project = dir.path().join("project.toml");
    let base = std::fs::read_to_string(&project).unwrap();
    std::fs::write(
        &project,
        format!("{base}\n[maps]\nwidth_mm = 210.0\nheight_mm = 297.0\ndpi = 100\n"),
    )
    .unwrap();
    let out = run_project(&project, "2", 1);
    let city = decode_png(&out.path().join("maps/city.png"));
    assert_eq!((city.0, city.1), (827, 1169), "A4 portrait at 100 dpi");
    std::fs::write(
        &project,
        format!("{base}\n[maps]\nfont = \"no-such-font.ttc\"\n"),
    )
    .unwrap();
    let o = riskatlas(&[
        "run",
        project.to_str().unwrap(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("fonts-noto-cjk"), "{}", stderr(&o));
}

/// Every major hazard source counts in exactly one district (the district
/// maps and their legends show each district's own).
#[test]
fn every_major_hazard_source_counts_in_one_district() {
    let out = example_outputs();
    let majors = features(out, "hazard_sources")
        .into_iter()
        .filter(|f| f["properties"]["is_major"] == true)
        .count();
    let per_district: usize = features(out, "admin_units")
        .iter()
        .filter(|f| f["properties"]["level"] == "district")
        .map(|f| {
            (1..=4)
                .map(|g| {
                    f["properties"][format!("major_hazards_{g}")]
                        .as_u64()
                        .unwrap() as usize
                })
                .sum::<usize>()
        })
        .sum();
    assert_eq!(
        per_district, majors,
        "every major hazard source is in exactly one district"
    );
}

/// Every hazard unit's S can be rebuilt from its trace (row, Q, q/Q per
/// line), R is given only for major hazard sources, no value is negative
/// zero, and the workbook's 重大危险源清单 carries the rows and matches.
#[test]
fn every_hazard_grade_traces_to_its_rows() {
    let out = example_outputs();
    let units = features(out, "hazard_sources");
    let mut ambiguous = 0;
    for f in &units {
        let p = &f["properties"];
        let lines: Vec<Value> =
            serde_json::from_str(p["chemical_trace_json"].as_str().unwrap()).unwrap();
        // Every accepted inventory line is traced.
        assert_eq!(
            lines.len() as u64,
            p["n_chemicals"].as_u64().unwrap(),
            "{}",
            p["id"]
        );
        let mut s = 0.0;
        for l in &lines {
            let q = l["quantity_t"].as_f64().unwrap();
            match l["critical_t"].as_f64() {
                Some(critical) => {
                    assert!(
                        (l["ratio"].as_f64().unwrap() - q / critical).abs() < 1e-4,
                        "{l}"
                    );
                    assert!(l["row"].as_str().unwrap().starts_with("table"), "{l}");
                    s += q / critical;
                }
                None => assert_eq!(l["matched_by"], "not_covered", "{l}"),
            }
        }
        assert!(
            (p["s_value"].as_f64().unwrap() - s).abs() < 1e-3,
            "{}: S {} vs {s}",
            p["id"],
            p["s_value"]
        );
        assert_eq!(
            p["r_value"].is_null(),
            p["is_major"] == false,
            "{}",
            p["id"]
        );
        ambiguous += u64::from(p["ambiguous_match"].as_bool().unwrap());
    }
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        report["findings"]["ambiguous_match"]["units"]
            .as_u64()
            .unwrap(),
        ambiguous
    );
    for layer in [
        "hazard_sources",
        "admin_units",
        "enterprises",
        "vulnerable_targets",
    ] {
        let text = std::fs::read_to_string(out.join(format!("geojson/{layer}.geojson"))).unwrap();
        assert!(
            !text.contains(":-0,") && !text.contains(":-0.0,") && !text.contains(":-0}"),
            "{layer} holds a negative zero"
        );
    }
    let script = r#"
import json, sys, openpyxl
ws = openpyxl.load_workbook(sys.argv[1])["重大危险源清单"]
rows = [[c.value for c in r] for r in ws.iter_rows()]
print(json.dumps(rows, ensure_ascii=False, default=str))
"#;
    let rows: Vec<Vec<Value>> =
        serde_json::from_value(openpyxl(script, &out.join("lists/清单.xlsx"))).unwrap();
    let col = |name: &str| {
        rows[0]
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let (id, row, by, q) = (
        col("危险源编号"),
        col("匹配行"),
        col("匹配方式"),
        col("临界量Q(吨)"),
    );
    let by_id: std::collections::HashMap<&str, &Value> = units
        .iter()
        .map(|f| (f["properties"]["id"].as_str().unwrap(), &f["properties"]))
        .collect();
    for r in &rows[1..] {
        let p = by_id[r[id].as_str().unwrap()];
        let lines: Vec<Value> =
            serde_json::from_str(p["chemical_trace_json"].as_str().unwrap()).unwrap();
        let cells = |i: usize| r[i].as_str().unwrap().split('；').count();
        assert_eq!(
            (cells(row), cells(by), cells(q)),
            (lines.len(), lines.len(), lines.len()),
            "{r:?}"
        );
        assert!(r[row].as_str().unwrap().starts_with('表'), "{r:?}");
    }
    assert!(rows.len() > 1);
}

/// A map's pixel for a WGS 84 position, through the geotransform and CRS
/// `maps.json` records.
fn map_pixel(index: &Value, entry: &Value, lon: f64, lat: f64) -> (f64, f64) {
    let epsg: u32 = index["crs"].as_str().unwrap()["EPSG:".len()..]
        .parse()
        .unwrap();
    let metric = riskatlas::crs::MetricCrs::for_epsg(epsg).unwrap();
    let gt: Vec<f64> = entry["geotransform"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let (x, y) = metric.project(lon, lat);
    ((x - gt[0]) / gt[1], (y - gt[3]) / gt[5])
}

/// Whether a pixel is the roads' grey or near it (anti-aliased over a
/// light tint), from `styles/map.toml` [basemap] road.
fn roadish(img: &(u32, u32, Vec<u8>), x: usize, y: usize) -> bool {
    let road = hex_rgb(&riskatlas::styles::map().basemap.road);
    let p = &img.2[(y * img.0 as usize + x) * 4..][..3];
    (0..3).all(|i| (p[i] as i32 - road[i] as i32).abs() <= 24)
}

/// The example's built-up areas (Natural Earth 1:50m, `max_scale = 500000`)
/// are hatched on the city-wide maps, over the area grades, whose colour
/// still shows between the lines; the district maps (1:85,000–1:383,000)
/// leave them out, legend and all.
#[test]
fn built_up_areas_are_hatched_on_the_city_maps_only() {
    let out = example_outputs();
    let index: Value =
        serde_json::from_slice(&std::fs::read(out.join("maps/maps.json")).unwrap()).unwrap();
    let has_built_up = |m: &Value| legend_texts(m).0.iter().any(|t| t == "建成区");
    let mut districts = 0;
    for m in index["maps"].as_array().unwrap() {
        let file = m["file"].as_str().unwrap();
        let city = matches!(
            file,
            "maps/city.png" | "maps/hidden_dangers/city.png" | "maps/coverage/city.png"
        );
        if city {
            assert!(has_built_up(m), "{file}: no 建成区 in the legend");
        } else if file.starts_with("maps/district/") {
            districts += 1;
            assert!(!has_built_up(m), "{file} is larger than 1:500,000");
        }
    }
    assert_eq!(districts, 6);
    // 天宁区's middle, in the built-up area on the city map: a 40 px square
    // keeps its blue area fill between the lines (an opaque fill would leave
    // none of it), and its darker pixels gather on the 45° lines
    // x + y = a multiple of the hatching's gap (roads, dots and the name
    // 常州市 fall anywhere).
    let entry = map_entry(out, "maps/city.png");
    let img = decode_png(&out.join("maps/city.png"));
    let style = riskatlas::styles::map();
    let (cx, cy) = map_pixel(&index, &entry, 119.99, 31.79);
    let gap = style.basemap.built_up_gap_mm * 150.0 / 25.4;
    let fill = img_fill_of(&out.join("geojson/admin_units.geojson"), "320402");
    let (mut fill_seen, mut on_lines, mut between) = (0, 0, 0);
    for y in (cy as usize - 20)..(cy as usize + 20) {
        for x in (cx as usize - 20)..(cx as usize + 20) {
            let p = &img.2[(y * img.0 as usize + x) * 4..][..3];
            let luminance = p.iter().map(|&v| f64::from(v)).sum::<f64>() / 3.0;
            if (0..3).all(|i| (i32::from(p[i]) - i32::from(fill[i])).abs() <= 2) {
                fill_seen += 1;
            } else if luminance < 190.0 {
                // Where the pixel's centre is across the lines: the 40 %
                // nearest them and the 40 % farthest.
                let phase = ((x + y + 1) as f64 / gap).fract();
                on_lines += !(0.2..=0.8).contains(&phase) as usize;
                between += (0.3..0.7).contains(&phase) as usize;
            }
        }
    }
    assert!(
        fill_seen > 200,
        "the area fill shows at {fill_seen} of 1,600 px"
    );
    assert!(
        on_lines > 100 && on_lines as f64 > 1.5 * between as f64,
        "{on_lines} darker px on the hatching's lines, {between} between them"
    );
}

/// The flat colour a unit's area fill takes on the maps: its grade's tint
/// over white (`styles/map.toml` [units] fill_alpha).
fn img_fill_of(units: &Path, code: &str) -> [u8; 3] {
    let units = read_json(units);
    let grade = units["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["code"] == code)
        .and_then(|f| f["properties"]["grade"].as_str())
        .expect("the unit has a grade")
        .to_string();
    let grade = riskatlas::model::Grade::DESCENDING
        .into_iter()
        .find(|g| g.as_str() == grade)
        .expect("one of the four grades");
    let c = hex_rgb(&riskatlas::styles::grade(grade).fill);
    let a = riskatlas::styles::map().units.fill_alpha;
    c.map(|v| (f64::from(v) * a + 255.0 * (1.0 - a)).round() as u8)
}

/// The example's base layers are on its maps, under the risk data: at the
/// middle of the bundled roads (away from the furniture) the city map and
/// a district map show the road grey, and much less so beside them; where
/// an enterprise sits on a road, its symbol, not the road, is on top.
#[test]
fn base_layers_are_drawn_under_the_risk_data() {
    let out = example_outputs();
    let index: Value =
        serde_json::from_slice(&std::fs::read(out.join("maps/maps.json")).unwrap()).unwrap();
    let roads = read_json(&root().join("fixtures/basemap/changzhou/roads.geojson"));
    let enterprises = read_json(&out.join("geojson/enterprises.geojson"));
    // The district map greys its neighbours over everything: it is checked
    // inside the district only.
    let units = read_json(&out.join("geojson/admin_units.geojson"));
    let wujin: MultiPolygon<f64> = units["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["code"] == "320412")
        .map(|f| multipolygon(&f["geometry"]))
        .expect("武进区 in the units layer");
    for (file, within) in [
        ("maps/city.png", None),
        ("maps/district/320412.png", Some(&wujin)),
    ] {
        let entry = map_entry(out, file);
        let img = decode_png(&out.join(file));
        let (w, h) = (img.0 as f64, img.1 as f64);
        let boxes = furniture_boxes(&entry);
        // Inside the frame (12 mm at 150 dpi, and a margin), off the furniture.
        let clear = |x: f64, y: f64| {
            x > 90.0
                && x < w - 90.0
                && y > 90.0
                && y < h - 90.0
                && !boxes.iter().any(|[l, t, r, b]| {
                    x + 8.0 >= *l as f64
                        && x - 8.0 < *r as f64
                        && y + 8.0 >= *t as f64
                        && y - 8.0 < *b as f64
                })
        };
        let near_road = |x: f64, y: f64| {
            let (x, y) = (x.round() as usize, y.round() as usize);
            (x - 1..=x + 1).any(|i| (y - 1..=y + 1).any(|j| roadish(&img, i, j)))
        };
        let mut segments = Vec::new();
        let (mut on, mut beside, mut n) = (0, 0, 0);
        for f in roads["features"].as_array().unwrap() {
            let c = f["geometry"]["coordinates"].as_array().unwrap();
            let lon_lat = |i: usize| (c[i][0].as_f64().unwrap(), c[i][1].as_f64().unwrap());
            let middle = geo::Point::new(
                (lon_lat(0).0 + lon_lat(c.len() - 1).0) / 2.0,
                (lon_lat(0).1 + lon_lat(c.len() - 1).1) / 2.0,
            );
            if within.is_some_and(|u| !geo::Contains::contains(u, &middle)) {
                continue;
            }
            let ends: Vec<(f64, f64)> = c
                .iter()
                .map(|p| {
                    map_pixel(
                        &index,
                        &entry,
                        p[0].as_f64().unwrap(),
                        p[1].as_f64().unwrap(),
                    )
                })
                .collect();
            for pair in ends.windows(2) {
                segments.push((pair[0], pair[1]));
                let (a, b) = (pair[0], pair[1]);
                let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
                let mid = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
                // 12 px to the side of the road.
                let side = (
                    mid.0 - (b.1 - a.1) / len * 12.0,
                    mid.1 + (b.0 - a.0) / len * 12.0,
                );
                if len < 30.0 || !clear(mid.0, mid.1) || !clear(side.0, side.1) {
                    continue;
                }
                n += 1;
                on += near_road(mid.0, mid.1) as usize;
                beside += near_road(side.0, side.1) as usize;
            }
        }
        assert!(n >= 40, "{file}: only {n} road midpoints to check");
        let (on, beside) = (on as f64 / n as f64, beside as f64 / n as f64);
        assert!(
            on >= 0.8 && beside <= on / 2.0,
            "{file}: road grey at {:.0} % of {n} road midpoints and {:.0} % beside them",
            on * 100.0,
            beside * 100.0
        );
        // Enterprises within a pixel of a road: their own colour on top.
        let on_road: Vec<(f64, f64)> = enterprises["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let c = &f["geometry"]["coordinates"];
                map_pixel(
                    &index,
                    &entry,
                    c[0].as_f64().unwrap(),
                    c[1].as_f64().unwrap(),
                )
            })
            .filter(|&(x, y)| clear(x, y))
            .filter(|&p| {
                segments
                    .iter()
                    .any(|&(a, b)| distance_to_segment(p, a, b) < 1.0)
            })
            .collect();
        let covered = on_road
            .iter()
            .filter(|(x, y)| roadish(&img, x.round() as usize, y.round() as usize))
            .count();
        assert!(
            on_road.len() >= 10 && covered * 20 <= on_road.len(),
            "{file}: {covered} of {} enterprises on a road show the road over them",
            on_road.len()
        );
    }
}

/// Distance in px from `p` to the segment a–b.
fn distance_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    };
    ((p.0 - a.0 - t * dx).powi(2) + (p.1 - a.1 - t * dy).powi(2)).sqrt()
}

/// At a scale where every enterprise's symbol would cover more than half
/// the city, the city map draws only the highest grades that fit and its
/// legend's notes count the rest: 30,000 enterprises in Changzhou leave
/// the blue ones out (not in the legend's entries, not on the map), while
/// the example's 3,000 are all drawn (see `every_legend_colour_is_on_its_map`).
/// The hidden-danger city map leaves out its least urgent classes, the
/// coverage city map the places' rings.
#[test]
fn a_dense_city_map_draws_the_highest_grades_and_counts_the_rest() {
    let data = generate_for("changzhou", "7", "30000", &["--hidden-dangers", "10000"]);
    let project = data.path().join("project.toml");
    let mut text = std::fs::read_to_string(&project).unwrap();
    text.push_str("\n[maps]\nenterprise_maps = false\n");
    std::fs::write(&project, text).unwrap();
    let out = run_project(&project, "2", 0);
    let entry = map_entry(out.path(), "maps/city.png");
    let legend: Vec<&str> = entry["legend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    let notes: Vec<&str> = entry["legend_notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let fc = read_json(&out.path().join("geojson/enterprises.geojson"));
    let blue = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["grade"] == "blue")
        .count();
    assert!(
        legend.iter().any(|t| t.starts_with("重大风险（红）企业")),
        "{legend:?}"
    );
    assert!(
        !legend.iter().any(|t| t.starts_with("低风险（蓝）企业")),
        "{legend:?}"
    );
    assert!(
        notes.contains(&"本比例尺下未逐一绘出：")
            && notes.contains(&format!("　低风险（蓝）企业 {blue} 家").as_str()),
        "{notes:?}"
    );
    let img = decode_png(&out.path().join("maps/city.png"));
    let blue_dot = hex_rgb(&riskatlas::styles::grade(riskatlas::model::Grade::Blue).fill);
    assert!(!in_body(&img, &entry, blue_dot), "blue enterprises drawn");
    let red_dot = hex_rgb(&riskatlas::styles::grade(riskatlas::model::Grade::Red).fill);
    assert!(in_body(&img, &entry, red_dot), "red enterprises not drawn");

    // The hidden-danger city map likewise, with 10,000 hidden dangers: it
    // leaves out the least urgent classes (at the least the open general
    // ones not overdue) and counts them; the major ones are drawn.
    let entry = map_entry(out.path(), "maps/hidden_dangers/city.png");
    let (legend, notes) = legend_texts(&entry);
    let fc = read_json(&out.path().join("geojson/hidden_dangers.geojson"));
    let open_general = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let p = &f["properties"];
            p["level"] == "general" && p["status"] == "open" && p["overdue"] == false
        })
        .count();
    assert!(
        legend.iter().any(|t| t.starts_with("重大隐患 逾期未整改")),
        "{legend:?}"
    );
    assert!(
        !legend
            .iter()
            .any(|t| t.starts_with("一般隐患 未整改、整改中")),
        "{legend:?}"
    );
    assert!(
        notes.contains(&"本比例尺下未逐一绘出：".to_string())
            && notes.contains(&format!("　一般隐患 未整改、整改中 {open_general} 处")),
        "{notes:?}"
    );
    let img = decode_png(&out.path().join("maps/hidden_dangers/city.png"));
    let major = hex_rgb(&riskatlas::styles::map().dangers.open_major);
    assert!(
        in_body(&img, &entry, major),
        "major hidden dangers not drawn"
    );

    // The coverage city map: its 3,957 high-risk places' rings would cover
    // the city; they are counted, each district's coverage is written
    // under its name, and the resources (299) are drawn.
    let entry = map_entry(out.path(), "maps/coverage/city.png");
    let (legend, notes) = legend_texts(&entry);
    assert!(
        !legend.iter().any(|t| t.starts_with("未全部覆盖")),
        "{legend:?}"
    );
    assert!(
        notes.contains(&"本比例尺下未逐一绘出：".to_string())
            && notes
                .iter()
                .any(|n| n.starts_with("　未全部覆盖的高风险对象 ")),
        "{notes:?}"
    );
    let img = decode_png(&out.path().join("maps/coverage/city.png"));
    let r = &riskatlas::styles::map().resources;
    assert!(
        !in_body(&img, &entry, hex_rgb(&r.covered)),
        "covered rings drawn"
    );
    assert!(
        in_body(&img, &entry, hex_rgb(&r.fire_station)),
        "resources not drawn"
    );
    let pdf = out.path().join("maps/coverage/city.pdf");
    let text = poppler("pdftotext", &[pdf.to_str().unwrap(), "-"]);
    // A district's line in the legend, `金坛区  43.9%（408/929）`, and under its name `覆盖率 43.9%`.
    let named = notes
        .iter()
        .filter_map(|n| n.split_once("  ").and_then(|(_, v)| v.split_once('（')))
        .filter(|(share, _)| text.contains(&format!("覆盖率 {share}")))
        .count();
    assert!(
        named >= 3,
        "{named} districts' coverage under their names:\n{text}"
    );
}

/// The greys of [`grey_tiles`], as a chessboard: a tile read from the wrong
/// place shows the other grey.
const TILE_GREYS: [u8; 2] = [200, 180];

/// Plain light-grey 256 px PNG tiles, (200, 200, 200) where x + y is even
/// and (180, 180, 180) where it is odd, zooms 7–10, over the lon/lat box
/// (west, south, east, north), as (z, x, y counted from the north, PNG).
fn grey_tiles((west, south, east, north): (f64, f64, f64, f64)) -> Vec<(u8, u32, u32, Vec<u8>)> {
    let pngs = TILE_GREYS.map(|v| {
        let mut tile = tiny_skia::Pixmap::new(256, 256).unwrap();
        tile.fill(tiny_skia::Color::from_rgba8(v, v, v, 255));
        tile.encode_png().unwrap()
    });
    let mut tiles = Vec::new();
    for z in 7u8..=10 {
        let n = (1u32 << z) as f64;
        let col = |lon: f64| ((lon + 180.0) / 360.0 * n) as u32;
        let row = |lat: f64| {
            let p = f64::to_radians(lat);
            ((1.0 - (p.tan() + 1.0 / p.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32
        };
        for x in col(west)..=col(east) {
            for y in row(north)..=row(south) {
                tiles.push((z, x, y, pngs[((x + y) % 2) as usize].clone()));
            }
        }
    }
    tiles
}

/// `tiles` as an MBTiles file (rows counted from the south).
fn write_mbtiles(path: &Path, tiles: &[(u8, u32, u32, Vec<u8>)]) {
    let db = rusqlite::Connection::open(path).unwrap();
    db.execute_batch(
        "CREATE TABLE metadata (name text, value text);
         CREATE TABLE tiles (zoom_level integer, tile_column integer,
                             tile_row integer, tile_data blob);
         INSERT INTO metadata VALUES ('format', 'png');",
    )
    .unwrap();
    for (z, x, y, png) in tiles {
        let tms = (1u32 << z) - 1 - y;
        db.execute(
            "INSERT INTO tiles VALUES (?1, ?2, ?3, ?4)",
            (z, x, tms, png),
        )
        .unwrap();
    }
}

/// `tiles` as a PMTiles file, written by the pmtiles crate.
fn write_pmtiles(path: &Path, tiles: &[(u8, u32, u32, Vec<u8>)]) {
    let mut sorted: Vec<_> = tiles
        .iter()
        .map(|(z, x, y, png)| (pmtiles::TileCoord::new(*z, *x, *y).unwrap(), png))
        .collect();
    sorted.sort_by_key(|(c, _)| pmtiles::TileId::from(*c).value());
    let mut w = pmtiles::PmTilesWriter::new(pmtiles::TileType::Png)
        .min_zoom(7)
        .max_zoom(10)
        .create(std::fs::File::create(path).unwrap())
        .unwrap();
    for (c, png) in sorted {
        w.add_tile(c, png).unwrap();
    }
    w.finalize().unwrap();
}

/// A raster tile package (`[basemap] tiles`) is drawn under the points and
/// over the paper in multiply mode: where the example's city map shows the
/// pale land around the city, the same map with plain grey tiles shows it
/// darkened by their greys muted by
/// `tiles_strength`; its enterprises' colours are untouched. The same tiles
/// in a PMTiles file draw the same map, byte for byte.
#[test]
fn a_raster_tile_package_is_drawn_under_the_data() {
    let dir = copy_fixture("changzhou");
    let tiles = grey_tiles((118.0, 30.5, 121.0, 32.6));
    write_mbtiles(&dir.path().join("tiles.mbtiles"), &tiles);
    let project = dir.path().join("project.toml");
    let text = std::fs::read_to_string(&project).unwrap();
    assert!(text.contains("\n[basemap]\n"));
    let text = text.replace("\n[basemap]\n", "\n[basemap]\ntiles = \"tiles.mbtiles\"\n");
    let text = text + "\n[maps]\nenterprise_maps = false\n";
    std::fs::write(&project, &text).unwrap();
    let tiled = run_project(&project, "2", 1);
    write_pmtiles(&dir.path().join("tiles.pmtiles"), &tiles);
    let pm_text = text.replace("tiles.mbtiles", "tiles.pmtiles");
    std::fs::write(&project, pm_text).unwrap();
    let pm_tiled = run_project(&project, "2", 1);
    for map in ["maps/city.png", "maps/district/320412.png"] {
        assert!(
            std::fs::read(tiled.path().join(map)).unwrap()
                == std::fs::read(pm_tiled.path().join(map)).unwrap(),
            "{map} differs between the MBTiles and the PMTiles package"
        );
    }
    let plain = example_outputs();
    let entry = map_entry(plain, "maps/city.png");
    assert_eq!(
        entry["furniture"],
        map_entry(tiled.path(), "maps/city.png")["furniture"]
    );
    let (a, b) = (
        decode_png(&plain.join("maps/city.png")),
        decode_png(&tiled.path().join("maps/city.png")),
    );
    // The paper outside the city is the surroundings' pale land; multiplied
    // by a tile grey v at strength s it becomes c · (1 − s · (255 − v) / 255).
    let style = riskatlas::styles::map();
    let strength = style.basemap.tiles_strength;
    let land = hex_rgb(&style.basemap.surroundings);
    let muted = |c: u8, v: u8| f64::from(c) * (1.0 - strength * f64::from(255 - v) / 255.0);
    let greys = TILE_GREYS.map(|v| land.map(|c| muted(c, v)));
    let near = |p: &[u8], q: [f64; 3]| (0..3).all(|k| (f64::from(p[k]) - q[k]).abs() <= 1.0);
    let red = hex_rgb(&riskatlas::styles::grade(riskatlas::model::Grade::Red).fill);
    let (mut paper, mut greyed, mut reds, mut kept) = (0, 0, 0, 0);
    for y in 100..a.1 as usize - 100 {
        for x in 100..a.0 as usize - 100 {
            let i = (y * a.0 as usize + x) * 4;
            let (pa, pb) = (&a.2[i..i + 3], &b.2[i..i + 3]);
            if pa == land {
                paper += 1;
                greyed += greys.iter().any(|&g| near(pb, g)) as usize;
            } else if pa == red {
                reds += 1;
                kept += (pb == red) as usize;
            }
        }
    }
    assert!(
        paper > 100_000 && greyed * 10 >= paper * 8,
        "{greyed} of {paper} pixels of the land around greyed"
    );
    assert!(
        reds > 100 && kept == reds,
        "{kept} of {reds} red pixels kept"
    );
}

/// With `[basemap.surroundings]` the city map locates the city in an inset
/// (its units in the highlight red among the grey units around) and names
/// the surrounding units that show in its frame (泰州市, across the
/// Yangtze, is no place of the places layer in the frame); without them it
/// has neither.
#[test]
fn the_city_map_locates_the_city_among_its_surroundings() {
    let with = example_outputs();
    let style = riskatlas::styles::map();
    let red = hex_rgb(&riskatlas::styles::grade(riskatlas::model::Grade::Red).fill);
    let a = style.inset.highlight_alpha;
    let highlight = red.map(|c| (255.0 * (1.0 - a) + f64::from(c) * a).round() as u8);
    for map in CITY_MAPS {
        let entry = map_entry(with, map);
        let [l, t, r, b] = furniture_box(&entry, "inset").expect("a city map has an inset");
        let img = decode_png(&with.join(map));
        let inside = |x: usize, y: usize| x >= l && x < r && y >= t && y < b;
        assert!(
            has_colour_within(&img, highlight, 2, inside),
            "{map}: no city in the inset"
        );
        assert!(
            has_colour_where(&img, hex_rgb(&style.inset.other_fill), inside),
            "{map}: no surroundings in the inset"
        );
    }
    let pdf_text = |out: &Path| {
        let pdf = out.join("maps/city.pdf");
        poppler("pdftotext", &[pdf.to_str().unwrap(), "-"])
    };
    assert!(pdf_text(with).contains("泰州市"), "泰州市 not named");

    let dir = copy_fixture("changzhou");
    let project = dir.path().join("project.toml");
    let text = std::fs::read_to_string(&project).unwrap();
    let table =
        "[basemap.surroundings]\npath = \"basemap/surroundings.geojson\"\ncrs = \"wgs84\"\n";
    assert!(text.contains(table));
    let text = text.replace(table, "") + "\n[maps]\nenterprise_maps = false\n";
    std::fs::write(&project, text).unwrap();
    let without = run_project(&project, "2", 1);
    for map in CITY_MAPS {
        let entry = map_entry(without.path(), map);
        assert_eq!(furniture_box(&entry, "inset"), None, "{map}");
    }
    assert!(!pdf_text(without.path()).contains("泰州市"));
}

/// The maps of the whole city: risk, hidden dangers, resources and coverage.
const CITY_MAPS: [&str; 3] = [
    "maps/city.png",
    "maps/hidden_dangers/city.png",
    "maps/coverage/city.png",
];

/// An enterprise map's PDF draws its exposure bands as paths, not as an
/// image of the page's pixels (so they print crisp), and the paths show
/// the same grades where the PNG does: rendered at the PNG's size, the
/// pixels the PNG paints in a grade's colour (away from the furniture)
/// have that colour in the PDF too, but for the odd pixel at a band's edge
/// or under a symbol.
#[test]
fn enterprise_pdfs_draw_the_exposure_bands_as_paths_where_the_png_paints_them() {
    let out = example_outputs();
    let index = read_json(&out.join("maps/maps.json"));
    let dir = tempfile::tempdir().unwrap();
    let (mut same, mut painted) = (0usize, 0usize);
    for m in index["maps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["file"].as_str().unwrap().starts_with("maps/enterprise/"))
        .take(4)
    {
        let pdf = out.join(m["pdf"].as_str().unwrap());
        let pdf = pdf.to_str().unwrap();
        let images = poppler("pdfimages", &["-list", pdf]);
        assert_eq!(images.lines().count(), 2, "{pdf} holds images:\n{images}");
        let png = decode_png(&out.join(m["file"].as_str().unwrap()));
        let img = render_pdf_at(pdf, &png, dir.path());
        let tints = grade_tints(m);
        assert!(!tints.is_empty());
        let boxes = furniture_boxes(m);
        let (wp, hp) = (png.0 as usize, png.1 as usize);
        for y in (80..hp - 80).step_by(3) {
            for x in (80..wp - 80).step_by(3) {
                if boxes
                    .iter()
                    .any(|[l, t, r, b]| x >= *l && x < *r && y >= *t && y < *b)
                {
                    continue;
                }
                let i = (y * wp + x) * 4;
                let p = [png.2[i], png.2[i + 1], png.2[i + 2]];
                if !tints.contains(&p) {
                    continue;
                }
                painted += 1;
                let q = &img.2[i..i + 3];
                same += (0..3).all(|k| q[k].abs_diff(p[k]) <= 3) as usize;
            }
        }
    }
    assert!(painted > 50_000, "{painted} pixels painted");
    assert!(
        same as f64 >= painted as f64 * 0.97,
        "{same} of {painted} grade pixels the same in the PDF"
    );
}

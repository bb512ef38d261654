//! Helpers for the integration tests: run the built binary in a temporary
//! folder and read what it wrote.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::Value;

/// The repository root (where `fixtures/` lives).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `riskatlas` with `args`; returns its output (never panics on failure).
pub fn riskatlas(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_riskatlas"))
        .args(args)
        .env(
            "RAYON_NUM_THREADS",
            std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "2".into()),
        )
        .output()
        .expect("the binary runs")
}

/// Runs and asserts the exit code, printing stderr when it differs.
pub fn riskatlas_expect(args: &[&str], code: i32) -> Output {
    let out = riskatlas(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "riskatlas {args:?}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `riskatlas run PROJECT` into a new temporary folder on `threads`
/// threads, asserts the exit code and returns the folder.
pub fn run_project(project: &Path, threads: &str, code: i32) -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("temp dir");
    run_project_into(project, out.path(), threads, code);
    out
}

/// Runs `riskatlas run PROJECT --out OUT` on `threads` threads and asserts
/// the exit code.
pub fn run_project_into(project: &Path, out: &Path, threads: &str, code: i32) {
    let o = Command::new(env!("CARGO_BIN_EXE_riskatlas"))
        .args([
            "run",
            project.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ])
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .expect("the binary runs");
    assert_eq!(
        o.status.code(),
        Some(code),
        "riskatlas run {}\n--- stderr ---\n{}",
        project.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// An empty folder `NAME` in the build's scratch space (`target/tmp`), for
/// outputs a test file's tests share through a `static`. A static is never
/// dropped, so a temporary folder there would be left behind by every run;
/// this one is emptied and reused by the next.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("the scratch folder can be emptied");
    }
    std::fs::create_dir_all(&dir).expect("the scratch folder can be made");
    dir
}

/// Runs the example city into the scratch folder `name` (see
/// [`scratch_dir`]) on two threads, for a test file's tests to share;
/// exit 1: done, with the example's deliberately bad rows rejected.
pub fn example_in_scratch(name: &str) -> PathBuf {
    let out = scratch_dir(name);
    run_project_into(
        &root().join("fixtures/changzhou/project.toml"),
        &out,
        "2",
        1,
    );
    out
}

/// Debian's Python, which has the QGIS and GDAL bindings (a `python3`
/// earlier on the PATH, e.g. a virtualenv's, may not).
pub fn python() -> PathBuf {
    let debian = PathBuf::from("/usr/bin/python3");
    if debian.exists() {
        debian
    } else {
        PathBuf::from("python3")
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A CSV file as rows of strings (BOM stripped), header included.
pub fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.expect("valid CSV").iter().map(str::to_string).collect())
        .collect()
}

fn ring(v: &Value) -> LineString<f64> {
    LineString(
        v.as_array()
            .expect("ring")
            .iter()
            .map(|p| Coord {
                x: p[0].as_f64().unwrap(),
                y: p[1].as_f64().unwrap(),
            })
            .collect(),
    )
}

/// A GeoJSON Polygon/MultiPolygon geometry as a geo MultiPolygon.
pub fn multipolygon(geom: &Value) -> MultiPolygon<f64> {
    let polygon = |rings: &Value| {
        let rings = rings.as_array().expect("rings");
        Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
    };
    match geom["type"].as_str() {
        Some("Polygon") => MultiPolygon(vec![polygon(&geom["coordinates"])]),
        Some("MultiPolygon") => MultiPolygon(
            geom["coordinates"]
                .as_array()
                .unwrap()
                .iter()
                .map(polygon)
                .collect(),
        ),
        other => panic!("not a polygon: {other:?}"),
    }
}

/// A data set made by `riskatlas generate` for a bundled boundary file
/// (`fixtures/boundaries/<area>.geojson`) with the seed, the number of
/// enterprises and any further options, in a new temporary folder.
pub fn generate_for(area: &str, seed: &str, enterprises: &str, more: &[&str]) -> tempfile::TempDir {
    let data = tempfile::tempdir().expect("temp dir");
    let boundaries = root().join(format!("fixtures/boundaries/{area}.geojson"));
    let mut args = vec![
        "generate",
        "--boundaries",
        boundaries.to_str().unwrap(),
        "--seed",
        seed,
        "--enterprises",
        enterprises,
        "--out",
        data.path().to_str().unwrap(),
        "-q",
    ];
    args.extend(more);
    riskatlas_expect(&args, 0);
    data
}

/// `riskatlas check PROJECT --report DIR`: its output and the report folder.
pub fn check_with_report(project: &Path) -> (Output, tempfile::TempDir) {
    let report = tempfile::tempdir().expect("temp dir");
    let out = riskatlas(&[
        "check",
        project.to_str().unwrap(),
        "--report",
        report.path().to_str().unwrap(),
        "-q",
    ]);
    (out, report)
}

/// Copies a fixture folder into a new temporary folder.
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    fn copy_dir(from: &Path, to: &Path) {
        for entry in std::fs::read_dir(from).expect("fixture exists") {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.path().is_dir() {
                std::fs::create_dir(&target).unwrap();
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&root().join("fixtures").join(name), dir.path());
    dir
}

/// Every regular file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// `read` counted without riskatlas: a CSV's physical data lines (header
/// and blank lines left out, lines continuing a quoted field taken off), a
/// GeoJSON's features. `None` for other kinds of file.
pub fn independent_count(path: &Path, continued: u64) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    match path.extension()?.to_str()? {
        "csv" => {
            // Lines end at \n, \r\n or a lone \r.
            let text = String::from_utf8_lossy(&bytes)
                .replace("\r\n", "\n")
                .replace('\r', "\n");
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            let blank = lines
                .iter()
                .skip(1)
                .filter(|l| l.trim_matches([' ', '\t', '\n']).is_empty())
                .count() as u64;
            Some((lines.len() as u64).saturating_sub(1 + blank + continued))
        }
        "geojson" | "json" => {
            let v: Value = serde_json::from_slice(&bytes).ok()?;
            Some(v["features"].as_array()?.len() as u64)
        }
        _ => None,
    }
}

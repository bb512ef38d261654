//! The outputs of the example and of a generated second city, pinned by
//! their SHA-256 hashes (`tests/expected/*.sha256`), so a change of code that
//! is meant to leave the outputs alone (a refactoring) is shown to.
//! `report.json` is hashed without its wall times.
//!
//! After an intended change of outputs, rewrite the expected hashes with
//! `UPDATE_GOLDEN=1 cargo test --release --test golden` and say why in the commit.

mod util;

use std::path::Path;

use sha2::{Digest, Sha256};
use util::*;

/// `hash  path` lines for every file of an output folder, sorted by path.
fn hashes(out: &Path) -> String {
    let mut lines = String::new();
    for f in files_under(out) {
        let mut bytes = std::fs::read(out.join(&f)).unwrap();
        if f.ends_with("report.json") {
            let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            v.as_object_mut().unwrap().remove("timings_s");
            v.as_object_mut().unwrap().remove("memory_kib");
            bytes = serde_json::to_vec_pretty(&v).unwrap();
        }
        let hash = Sha256::digest(&bytes);
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        lines.push_str(&format!(
            "{hex}  {}\n",
            f.to_string_lossy().replace('\\', "/")
        ));
    }
    lines
}

fn assert_golden(name: &str, out: &Path) {
    let expected_path = root().join("tests/expected").join(format!("{name}.sha256"));
    let got = hashes(out);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&expected_path, &got).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&expected_path)
        .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
    let diff: Vec<String> = expected
        .lines()
        .zip(got.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("expected {a}\n     got {b}"))
        .collect();
    assert!(
        expected == got,
        "{name}: outputs differ from tests/expected/{name}.sha256 ({} vs {} files):\n{}",
        expected.lines().count(),
        got.lines().count(),
        diff.join("\n")
    );
}

#[test]
fn example_outputs_are_unchanged() {
    let out = run_project(&root().join("fixtures/changzhou/project.toml"), "2", 1);
    assert_golden("changzhou", out.path());
}

#[test]
fn a_generated_second_city_is_unchanged() {
    let data = generate_for("wuxi", "7", "1500", &["--bad-rows"]);
    let out = run_project(&data.path().join("project.toml"), "2", 1);
    assert_golden("wuxi", out.path());
}

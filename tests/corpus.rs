//! The bad-input corpus (`tests/corpus/`): every case is run as a user would
//! run it, and its exit code, messages, rejects and accounting are checked,
//! with `read` compared against a count made without riskatlas.

mod util;

use std::path::{Path, PathBuf};

use serde_json::Value;
use util::*;

/// A case's expectations (`expect.toml`).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    description: String,
    command: String,
    out: Option<String>,
    exit: i32,
    #[serde(default)]
    stderr: Vec<String>,
    #[serde(default)]
    reject: Vec<ExpectedReject>,
    #[serde(default)]
    counts: std::collections::BTreeMap<String, ExpectedCounts>,
    #[serde(default)]
    continued: std::collections::BTreeMap<String, u64>,
    #[serde(default = "yes")]
    independent: bool,
}

fn yes() -> bool {
    true
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedReject {
    input: String,
    row: u64,
    code: String,
    reason: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedCounts {
    read: Option<u64>,
    accepted: Option<u64>,
}

fn corpus() -> PathBuf {
    root().join("tests/corpus")
}

/// Copies every file of `from` (recursively) into `to`, over what is there.
fn overlay(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            overlay(&entry.path(), &target);
        } else if entry.file_name() != "expect.toml" {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Checks the accounting of every input in a report: balanced, and `read`
/// equal to the independent count of its file.
pub fn assert_accounted(report: &Value, dir: &Path, continued: &dyn Fn(&str) -> u64, what: &str) {
    assert_eq!(report["accounting"]["balanced"], true, "{what}: {report}");
    for (input, c) in report["inputs"].as_object().unwrap() {
        let (read, accepted, rejected) = (
            c["read"].as_u64().unwrap(),
            c["accepted"].as_u64().unwrap(),
            c["rejected"].as_u64().unwrap(),
        );
        assert_eq!(accepted + rejected, read, "{what}: {input}");
        let file = dir.join(c["file"].as_str().unwrap());
        if let Some(n) = independent_count(&file, continued(input)) {
            assert_eq!(read, n, "{what}: {input}: read vs the file's own count");
        }
    }
}

fn run_case(name: &str) {
    let case = corpus().join(name);
    let expect: Expect =
        toml::from_str(&std::fs::read_to_string(case.join("expect.toml")).unwrap())
            .unwrap_or_else(|e| panic!("{name}/expect.toml: {e}"));
    let dir = tempfile::tempdir().unwrap();
    overlay(&corpus().join("_base"), dir.path());
    overlay(&case, dir.path());
    let project = dir.path().join("project.toml");
    let results = tempfile::tempdir().unwrap();
    let out_dir = match &expect.out {
        Some(o) => dir.path().join(o),
        None => results.path().join("out"),
    };
    let flag = match expect.command.as_str() {
        "check" => "--report",
        "run" => "--out",
        other => panic!("{name}: unknown command {other}"),
    };
    let args = [
        expect.command.as_str(),
        project.to_str().unwrap(),
        flag,
        out_dir.to_str().unwrap(),
        "-q",
    ];
    let out = riskatlas(&args);
    let err = stderr(&out);
    let what = format!("case {name} ({})", expect.description);
    assert_eq!(out.status.code(), Some(expect.exit), "{what}\n{err}");
    for needle in &expect.stderr {
        assert!(
            err.contains(needle.as_str()),
            "{what}: stderr lacks {needle:?}:\n{err}"
        );
    }
    if expect.exit == 2 {
        // A failed run writes nothing where its outputs would go.
        if expect.command == "run" && expect.out.is_none() {
            assert!(
                !out_dir.exists(),
                "{what}: a failed run left {}",
                out_dir.display()
            );
        }
        return;
    }
    let report = read_json(&out_dir.join("report.json"));
    if expect.independent {
        let continued = |input: &str| expect.continued.get(input).copied().unwrap_or(0);
        assert_accounted(&report, dir.path(), &continued, &what);
    }
    for (input, c) in &expect.counts {
        let got = &report["inputs"][input];
        if let Some(read) = c.read {
            assert_eq!(got["read"], read, "{what}: {input} read");
        }
        if let Some(accepted) = c.accepted {
            assert_eq!(got["accepted"], accepted, "{what}: {input} accepted");
        }
    }
    let rejects = read_csv(&out_dir.join("rejects.csv"));
    for r in &expect.reject {
        let file = report["inputs"][&r.input]["file"]
            .as_str()
            .unwrap()
            .to_string();
        let found = rejects.iter().any(|row| {
            row[0] == file
                && row[2] == r.row.to_string()
                && row[6] == r.code
                && row[7].contains(r.reason.as_str())
        });
        assert!(
            found,
            "{what}: no reject {} row {} {} {:?} in:\n{rejects:?}",
            r.input, r.row, r.code, r.reason
        );
    }
}

#[test]
fn every_corpus_case_behaves_as_expected() {
    let mut cases: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("expect.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "the corpus has its cases: {cases:?}");
    // Every case runs; the failures are reported together.
    let failed: Vec<&String> = cases
        .iter()
        .filter(|name| std::panic::catch_unwind(|| run_case(name)).is_err())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} corpus cases failed: {failed:?}",
        failed.len(),
        cases.len()
    );
}

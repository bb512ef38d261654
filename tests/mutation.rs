//! Seeded mutations of the example's CSV, GeoJSON and XLSX inputs — byte
//! flips, stray quotes, deleted and doubled lines, odd Unicode, truncation —
//! each checked with `riskatlas check`: no panic, an exit code of 0, 1 or 2,
//! balanced accounting, and no line or feature silently lost (`read` equals a
//! count of the mutated file made without riskatlas).
//!
//! `MUTATION_CASES` sets the number of cases (default 300), `MUTATION_SEED` the seed.

mod util;

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use util::*;

/// The inputs a mutation may hit: project key, file name.
const TARGETS: [(&str, &str); 3] = [
    ("enterprises", "enterprises.csv"),
    ("hidden_dangers", "hidden_dangers.geojson"),
    ("hazard_units", "hazard_inventory.xlsx"),
];

/// Text that trips readers: BOMs, zero-width and direction marks, combining
/// marks, astral characters, NUL, line separators, full-width space, and
/// bytes that are not UTF-8.
const ODD: [&[u8]; 16] = [
    "\u{feff}".as_bytes(),
    "\u{200b}".as_bytes(),
    "\u{202e}".as_bytes(),
    "e\u{301}".as_bytes(),
    "😀".as_bytes(),
    b"\0",
    "\u{2028}".as_bytes(),
    "\u{3000}".as_bytes(),
    b"\r",
    b"\t",
    b",",
    b"\\",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    "\u{fffd}".as_bytes(),
];

/// Positions of the starts of lines.
fn line_starts(bytes: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .filter(|&i| i < bytes.len())
        .collect()
}

/// One mutation of `bytes`; returns its description.
fn mutate(rng: &mut ChaCha8Rng, bytes: &mut Vec<u8>, binary: bool) -> String {
    let pick = if binary {
        rng.gen_range(0..2)
    } else {
        rng.gen_range(0..7)
    };
    let at = |rng: &mut ChaCha8Rng, bytes: &Vec<u8>| rng.gen_range(0..bytes.len());
    match pick {
        0 => {
            let n = rng.gen_range(1..=5);
            for _ in 0..n {
                let i = at(rng, bytes);
                bytes[i] = rng.gen();
            }
            format!("{n} random bytes")
        }
        1 => {
            let i = rng.gen_range(bytes.len() / 2..bytes.len());
            bytes.truncate(i);
            format!("truncated at {i}")
        }
        2 => {
            let n = rng.gen_range(1..=3);
            for _ in 0..n {
                let i = at(rng, bytes);
                bytes.insert(i, b'"');
            }
            format!("{n} stray quotes")
        }
        3 | 4 => {
            let starts = line_starts(bytes);
            let k = rng.gen_range(1..starts.len());
            let (a, b) = (starts[k], starts.get(k + 1).copied().unwrap_or(bytes.len()));
            let line: Vec<u8> = bytes[a..b].to_vec();
            if pick == 3 {
                bytes.drain(a..b);
                format!("line {} deleted", k + 1)
            } else {
                bytes.splice(a..a, line);
                format!("line {} doubled", k + 1)
            }
        }
        _ => {
            let n = rng.gen_range(1..=3);
            for _ in 0..n {
                let odd = ODD[rng.gen_range(0..ODD.len())];
                let i = at(rng, bytes);
                bytes.splice(i..i, odd.iter().copied());
            }
            format!("{n} odd characters")
        }
    }
}

/// A project over the example's files, with one of them replaced by `file`.
fn project_with(dir: &Path, replaced: &str) -> PathBuf {
    let fixture = root().join("fixtures/changzhou");
    let text = std::fs::read_to_string(fixture.join("project.toml")).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        match line
            .strip_prefix("path = \"")
            .and_then(|p| p.strip_suffix('"'))
        {
            Some(p) if p != replaced => {
                out.push_str(&format!("path = \"{}\"\n", fixture.join(p).display()))
            }
            _ => out.push_str(&format!("{line}\n")),
        }
    }
    let project = dir.join("project.toml");
    std::fs::write(&project, out).unwrap();
    project
}

/// Runs one mutated case; returns a description of what was wrong, if anything.
fn run_case(seed: u64, case: u64) -> Option<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (case.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
    let (input, name) = TARGETS[[0, 0, 1, 1, 2][rng.gen_range(0..5)]];
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(root().join("fixtures/changzhou").join(name)).unwrap();
    let binary = name.ends_with(".xlsx");
    let what = mutate(&mut rng, &mut bytes, binary);
    let what = format!("case {case} ({name}: {what})");
    std::fs::write(dir.path().join(name), &bytes).unwrap();
    let project = project_with(dir.path(), name);
    let report_dir = dir.path().join("report");
    let out = riskatlas(&[
        "check",
        project.to_str().unwrap(),
        "--report",
        report_dir.to_str().unwrap(),
        "-q",
    ]);
    let err = stderr(&out);
    match out.status.code() {
        Some(2) => {
            return (!err.contains("error:") || err.contains("panicked"))
                .then(|| format!("{what}: exit 2 without a clear error:\n{err}"))
        }
        Some(0) | Some(1) => {}
        other => {
            return Some(format!(
                "{what}: exit {other:?} (a panic or a signal):\n{err}"
            ))
        }
    }
    let report = read_json(&report_dir.join("report.json"));
    if report["accounting"]["balanced"] != true {
        return Some(format!("{what}: accounting does not balance"));
    }
    let c = &report["inputs"][input];
    let continued = c["lines"]["continued"].as_u64().unwrap_or(0);
    let read = c["read"].as_u64().unwrap();
    if c["accepted"].as_u64().unwrap() + c["rejected"].as_u64().unwrap() != read {
        return Some(format!("{what}: {input}: accepted + rejected != read"));
    }
    match independent_count(&dir.path().join(name), continued) {
        Some(n) if n != read => Some(format!(
            "{what}: {input}: read {read}, but the file holds {n}"
        )),
        _ => None,
    }
}

#[test]
fn mutated_inputs_never_panic_and_never_lose_a_record() {
    let cases: u64 = std::env::var("MUTATION_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let seed: u64 = std::env::var("MUTATION_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2026);
    let failures: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                s.spawn(move || {
                    (w..cases)
                        .step_by(2)
                        .filter_map(|k| run_case(seed, k))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

//! The output folder as a transaction: one run at a time, a failed or killed
//! run leaves the previous output whole, a rerun leaves exactly its own files.

mod util;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use util::*;

/// A copy of the example's inputs, a folder for outputs, the project file,
/// and the output folder the runs use.
fn example() -> (tempfile::TempDir, tempfile::TempDir, PathBuf, PathBuf) {
    let inputs = copy_fixture("changzhou");
    let project = inputs.path().join("project.toml");
    let results = tempfile::tempdir().unwrap();
    let out = results.path().join("out");
    (inputs, results, project, out)
}

/// `riskatlas run PROJECT --out OUT -q`, to its end.
fn run(project: &Path, out: &Path) -> std::process::Output {
    riskatlas(&[
        "run",
        project.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ])
}

fn spawn_run(project: &Path, out: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_riskatlas"))
        .args([
            "run",
            project.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

/// Asserts `out` is one complete output — its files are exactly those of the
/// manifest in its report, with their sizes — and returns its title.
fn assert_complete(out: &Path) -> String {
    let report = read_json(&out.join("report.json"));
    let mut listed: Vec<(String, u64)> = report["manifest"]["files"]
        .as_array()
        .expect("a manifest")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["bytes"].as_u64().unwrap(),
            )
        })
        .collect();
    listed.push((
        "report.json".into(),
        std::fs::metadata(out.join("report.json")).unwrap().len(),
    ));
    listed.sort();
    let mut there: Vec<(String, u64)> = files_under(out)
        .into_iter()
        .map(|p| {
            let size = std::fs::metadata(out.join(&p)).unwrap().len();
            (p.to_string_lossy().replace('\\', "/"), size)
        })
        .collect();
    there.sort();
    assert_eq!(
        there,
        listed,
        "{}: the files are the manifest's",
        out.display()
    );
    report["title"].as_str().unwrap().to_string()
}

/// What lies beside the output folder other than itself (staging debris).
fn beside(out: &Path) -> Vec<String> {
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != &name && n.contains(&name))
        .collect()
}

fn retitle(project: &Path, title: &str) {
    let text = std::fs::read_to_string(project).unwrap();
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("title = ") {
                format!("title = \"{title}\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(project, text).unwrap();
}

#[test]
fn a_second_run_into_the_same_folder_is_refused_naming_the_holder() {
    let (_inputs, results, project, out) = example();
    let mut first = spawn_run(&project, &out);
    let lock = results.path().join(".out.lock");
    let start = Instant::now();
    while !lock.exists() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = run(&project, &out);
    let err = stderr(&second);
    assert_eq!(second.status.code(), Some(2), "{err}");
    assert!(
        err.contains("in use by another riskatlas run")
            && err.contains(&format!("pid {}", first.id())),
        "{err}"
    );
    assert_eq!(first.wait().unwrap().code(), Some(1));
    assert_complete(&out);
    assert!(beside(&out).is_empty(), "{:?}", beside(&out));
}

#[test]
fn a_failed_run_leaves_the_previous_output_untouched() {
    let (_inputs, _results, project, out) = example();
    assert_eq!(run(&project, &out).status.code(), Some(1));
    let before: Vec<_> = files_under(&out)
        .into_iter()
        .map(|p| (std::fs::read(out.join(&p)).unwrap(), p))
        .collect();
    // A font that is not there fails the run after the inputs are named but
    // before anything is written.
    let text = std::fs::read_to_string(&project).unwrap();
    std::fs::write(
        &project,
        format!("{text}\n[maps]\nfont = \"no-such-font.ttf\"\n"),
    )
    .unwrap();
    let failed = run(&project, &out);
    assert_eq!(failed.status.code(), Some(2), "{}", stderr(&failed));
    let after: Vec<_> = files_under(&out)
        .into_iter()
        .map(|p| (std::fs::read(out.join(&p)).unwrap(), p))
        .collect();
    assert!(
        before == after,
        "the previous output is byte for byte as it was"
    );
    assert!(beside(&out).is_empty(), "{:?}", beside(&out));
}

#[test]
fn a_rerun_leaves_exactly_its_own_files() {
    let (_inputs, _results, project, out) = example();
    assert_eq!(run(&project, &out).status.code(), Some(1));
    assert!(out.join("maps/city.png").exists());
    let text = std::fs::read_to_string(&project).unwrap();
    std::fs::write(&project, format!("{text}\n[maps]\nenabled = false\n")).unwrap();
    assert_eq!(run(&project, &out).status.code(), Some(1));
    assert!(
        !out.join("maps").exists(),
        "maps of the earlier run are gone"
    );
    assert_complete(&out);
}

#[test]
fn a_folder_of_other_files_is_never_replaced() {
    let (_inputs, results, project, _) = example();
    std::fs::write(results.path().join("notes.txt"), "mine").unwrap();
    let out = riskatlas(&[
        "run",
        project.to_str().unwrap(),
        "--out",
        results.path().to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a riskatlas output"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(results.path().join("notes.txt")).unwrap(),
        "mine"
    );
}

/// Runs killed (SIGKILL) at several moments leave the output folder as the
/// previous complete output or the new complete output, never a mix; the
/// next run clears what they left beside it.
#[test]
fn killed_runs_never_leave_a_mix() {
    let (_inputs, _results, project, out) = example();
    retitle(&project, "旧版");
    assert_eq!(run(&project, &out).status.code(), Some(1));
    retitle(&project, "新版");
    let (mut seen_new, mut seen_old) = (false, false);
    for delay_ms in [20, 150, 400, 800, 1500, 2500, 4000] {
        let mut child = spawn_run(&project, &out);
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let title = assert_complete(&out);
        assert!(title == "旧版" || title == "新版", "{title}");
        seen_new |= title == "新版";
        seen_old |= title == "旧版";
        if seen_new {
            assert_eq!(title, "新版", "once swapped in, the new output stays");
        }
    }
    assert!(seen_old, "some kill came before the swap");
    assert_eq!(run(&project, &out).status.code(), Some(1));
    assert_eq!(assert_complete(&out), "新版");
    assert!(beside(&out).is_empty(), "leftovers: {:?}", beside(&out));
}

//! The outputs opened in QGIS 3.22 as a planner would (PyQGIS, headless;
//! `./scripts/setup.sh --tests` installs it): the checks themselves are in
//! `tests/qgis/check_outputs.py`. The renders it makes are left in
//! `target/qgis-renders/` for a person to look at.

mod util;

use std::process::Command;

use riskatlas::ingest::config::Project;
use util::*;

#[test]
fn example_opens_styled_in_qgis() {
    let project_file = root().join("fixtures/changzhou/project.toml");
    let out = run_project(&project_file, "2", 1);
    let t = Project::load(&project_file).unwrap().exposure.thresholds;
    let renders = root().join("target/qgis-renders");
    let o = Command::new(python())
        .arg(root().join("tests/qgis/check_outputs.py"))
        .arg(out.path())
        .arg(&renders)
        .arg(root())
        .args([t.yellow, t.orange, t.red].map(|v| v.to_string()))
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .expect("python3 runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(
        !stderr.contains("No module named 'qgis'"),
        "PyQGIS is not installed: run ./scripts/setup.sh --tests"
    );
    assert!(
        o.status.success(),
        "QGIS checks failed:\n{stdout}\n{stderr}"
    );
}

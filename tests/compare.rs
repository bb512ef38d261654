//! The annual comparison on a generated pair of years whose changes are
//! known by construction: `generate --evolve-from` records every change it
//! makes in `evolution.csv`, and `compare` must find exactly those.

mod util;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use util::{read_csv, read_json, riskatlas_expect, root, scratch_dir, stderr};

/// Two years of a generated city, run without maps, and their comparison.
struct Pair {
    root: PathBuf,
}

impl Pair {
    fn path(&self, p: &str) -> PathBuf {
        self.root.join(p)
    }

    fn s(&self, p: &str) -> String {
        self.path(p).to_str().unwrap().to_string()
    }
}

/// `riskatlas compare ARGS -q`, asserting the exit code.
fn compare_runs(args: &[&str], code: i32) -> std::process::Output {
    let args: Vec<&str> = ["compare"]
        .iter()
        .chain(args)
        .chain(&["-q"])
        .copied()
        .collect();
    riskatlas_expect(&args, code)
}

/// `riskatlas run PROJECT --out DIR -q`, asserting the exit code.
fn run_into(args: &[&str], code: i32) -> std::process::Output {
    let args: Vec<&str> = ["run"].iter().chain(args).chain(&["-q"]).copied().collect();
    riskatlas_expect(&args, code)
}

/// Writes `project.toml` again with maps off (they are not compared here).
fn without_maps(project: &Path) {
    let text = std::fs::read_to_string(project).unwrap();
    std::fs::write(project, format!("{text}\n[maps]\nenabled = false\n")).unwrap();
}

fn pair() -> &'static Pair {
    static PAIR: OnceLock<Pair> = OnceLock::new();
    PAIR.get_or_init(|| {
        let p = Pair {
            root: scratch_dir("compare-pair"),
        };
        let boundaries = root().join("fixtures/boundaries/changzhou.geojson");
        riskatlas_expect(
            &[
                "generate",
                "--boundaries",
                boundaries.to_str().unwrap(),
                "--enterprises",
                "2000",
                "--year",
                "2025",
                "--out",
                &p.s("2025"),
                "-q",
            ],
            0,
        );
        riskatlas_expect(
            &[
                "generate",
                "--evolve-from",
                &p.s("2025"),
                "--year",
                "2026",
                "--out",
                &p.s("2026"),
                "-q",
            ],
            0,
        );
        for y in ["2025", "2026"] {
            without_maps(&p.path(&format!("{y}/project.toml")));
            run_into(
                &[
                    &p.s(&format!("{y}/project.toml")),
                    "--out",
                    &p.s(&format!("out{y}")),
                ],
                0,
            );
        }
        compare_runs(&[&p.s("out2025"), &p.s("out2026"), "--out", &p.s("cmp")], 0);
        p
    })
}

/// The ids of each (kind, change) of `evolution.csv`.
type ChangeIds = BTreeMap<(String, String), BTreeSet<String>>;
/// The old and new values of each (id, change).
type ChangeValues = HashMap<(String, String), (String, String)>;

/// `evolution.csv`: the ids of each (kind, change), and each change's old/new values.
fn evolution(p: &Pair) -> (ChangeIds, ChangeValues) {
    let rows = read_csv(&p.path("2026/evolution.csv"));
    let mut ids = ChangeIds::new();
    let mut values = HashMap::new();
    for r in &rows[1..] {
        ids.entry((r[0].clone(), r[2].clone()))
            .or_default()
            .insert(r[1].clone());
        values.insert((r[1].clone(), r[2].clone()), (r[3].clone(), r[4].clone()));
    }
    (ids, values)
}

/// A change list as (change, id) → the row by header.
/// A change list's rows by (change, id), each as header → value.
type ChangeList = BTreeMap<(String, String), BTreeMap<String, String>>;

fn changes(dir: &Path, list: &str) -> ChangeList {
    let rows = read_csv(&dir.join(format!("lists/{list}.csv")));
    let header = &rows[0];
    rows[1..]
        .iter()
        .map(|r| {
            let row: BTreeMap<String, String> =
                header.iter().cloned().zip(r.iter().cloned()).collect();
            ((row["变化"].clone(), r[2].clone()), row)
        })
        .collect()
}

fn ids_of(list: &ChangeList, change: &str) -> BTreeSet<String> {
    list.keys()
        .filter(|(c, _)| c == change)
        .map(|(_, id)| id.clone())
        .collect()
}

fn logged(log: &ChangeIds, kind: &str, changes: &[&str]) -> BTreeSet<String> {
    changes
        .iter()
        .flat_map(|c| {
            log.get(&(kind.to_string(), c.to_string()))
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

/// The ids of `list` marked `label` are those `evolution.csv` has for `kind` and `changes`.
fn assert_logged(list: &ChangeList, label: &str, log: &ChangeIds, kind: &str, changes: &[&str]) {
    assert_eq!(ids_of(list, label), logged(log, kind, changes), "{label}");
}

#[test]
fn enterprises_opened_and_closed_are_exactly_those_generated() {
    let p = pair();
    let (log, _) = evolution(p);
    let list = changes(&p.path("cmp"), "企业变化");
    assert_logged(&list, "新增", &log, "enterprise", &["opened"]);
    assert_logged(&list, "减少", &log, "enterprise", &["closed"]);
    assert!(!ids_of(&list, "新增").is_empty() && !ids_of(&list, "减少").is_empty());
}

/// An enterprise without hazard units or hidden dangers in either year is
/// graded by its self-assessment alone: its grade changes exactly when the
/// generator moved that, from and to the values it recorded.
#[test]
fn a_self_assessed_change_is_found_with_its_old_and_new_grade() {
    let p = pair();
    let (log, values) = evolution(p);
    let list = changes(&p.path("cmp"), "企业变化");
    let mut with_records = BTreeSet::new();
    for y in ["2025", "2026"] {
        for layer in ["hazard_sources", "hidden_dangers"] {
            let fc = read_json(&p.path(&format!("out{y}/geojson/{layer}.geojson")));
            for f in fc["features"].as_array().unwrap() {
                if let Some(e) = f["properties"]["enterprise_id"].as_str() {
                    with_records.insert(e.to_string());
                }
            }
        }
    }
    let zh = |g: &str| match g {
        "red" => "红",
        "orange" => "橙",
        "yellow" => "黄",
        // Unassessed enterprises are blue by default.
        _ => "蓝",
    };
    let moved = logged(&log, "enterprise", &["assessed_grade"]);
    let mut checked = 0;
    for id in moved.iter().filter(|id| !with_records.contains(*id)) {
        let (old, new) = &values[&(id.clone(), "assessed_grade".to_string())];
        let found = list
            .iter()
            .find(|((_, i), _)| i == id)
            .map(|((c, _), row)| (c.clone(), row["原等级"].clone(), row["现等级"].clone()));
        if zh(old) == zh(new) {
            assert_eq!(found, None, "{id}: {old} → {new} is no change of grade");
            continue;
        }
        let (c, o, n) = found.unwrap_or_else(|| panic!("{id}: {old} → {new} not in the list"));
        assert_eq!((o.as_str(), n.as_str()), (zh(old), zh(new)), "{id}");
        let rank = |g: &str| {
            ["蓝", "黄", "橙", "红"]
                .iter()
                .position(|x| *x == g)
                .unwrap()
        };
        let expected = if rank(zh(new)) > rank(zh(old)) {
            "升级"
        } else {
            "降级"
        };
        assert_eq!(c, expected, "{id}");
        checked += 1;
    }
    assert!(checked > 20, "only {checked} enterprises checked");
    // And no such enterprise changes grade without a recorded cause.
    for (c, id) in list.keys() {
        if (c == "升级" || c == "降级") && !with_records.contains(id) {
            assert!(moved.contains(id), "{id} changed grade without a cause");
        }
    }
}

#[test]
fn hidden_dangers_rectified_found_and_overdue_are_exactly_those_generated() {
    let p = pair();
    let (log, _) = evolution(p);
    let list = changes(&p.path("cmp"), "隐患变化");
    assert_logged(&list, "已整改", &log, "hidden_danger", &["rectified"]);
    assert_logged(&list, "新增", &log, "hidden_danger", &["found"]);
    // Last year's deadlines have all passed: every danger left open is overdue.
    assert_logged(&list, "逾期未整改", &log, "hidden_danger", &["still_open"]);
    assert_logged(
        &list,
        "未再列出",
        &log,
        "hidden_danger",
        &["archived", "gone_with_enterprise"],
    );
    assert!(ids_of(&list, "重新打开").is_empty());
}

#[test]
fn targets_added_and_removed_are_exactly_those_generated() {
    let p = pair();
    let (log, _) = evolution(p);
    let list = changes(&p.path("cmp"), "脆弱性目标变化");
    assert_logged(&list, "新增", &log, "target", &["added"]);
    assert_logged(&list, "减少", &log, "target", &["removed"]);
}

/// A hazard unit's S changes only with its inventory: a unit becomes or
/// stops being a major hazard source only when the generator added,
/// retired or refilled it.
#[test]
fn major_hazard_sources_change_only_with_their_units() {
    let p = pair();
    let (log, _) = evolution(p);
    let list = changes(&p.path("cmp"), "重大危险源变化");
    let touched = logged(
        &log,
        "hazard_unit",
        &["added", "retired", "gone_with_enterprise", "inventory"],
    );
    for change in ["新增", "减少"] {
        for id in ids_of(&list, change) {
            assert!(touched.contains(&id), "{id} {change} without a cause");
        }
    }
    let majors = |y: &str| -> BTreeSet<String> {
        let fc = read_json(&p.path(&format!("out{y}/geojson/hazard_sources.geojson")));
        fc["features"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["properties"]["is_major"] == true)
            .map(|f| f["properties"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (old, new) = (majors("2025"), majors("2026"));
    let expected_new: BTreeSet<String> = new.difference(&old).cloned().collect();
    let expected_gone: BTreeSet<String> = old.difference(&new).cloned().collect();
    assert_eq!(ids_of(&list, "新增"), expected_new);
    assert_eq!(ids_of(&list, "减少"), expected_gone);
    for id in logged(&log, "hazard_unit", &["added"]).intersection(&new) {
        assert!(ids_of(&list, "新增").contains(id), "{id}");
    }
}

#[test]
fn the_summary_adds_up() {
    let p = pair();
    let report = read_json(&p.path("cmp/report.json"));
    let flows = &report["summary"]["enterprises"]["by_grade"];
    for g in ["red", "orange", "yellow", "blue"] {
        let f = &flows[g];
        let n = |k: &str| f[k].as_i64().unwrap();
        assert_eq!(
            n("old") + n("new_records") + n("up_into") + n("down_into")
                - n("up_out")
                - n("down_out")
                - n("gone_records"),
            n("new"),
            "{g}: {f}"
        );
    }
    let list = changes(&p.path("cmp"), "企业变化");
    let counted = &report["summary"]["enterprises"]["changes"];
    for (key, label) in [
        ("new", "新增"),
        ("gone", "减少"),
        ("up", "升级"),
        ("down", "降级"),
    ] {
        assert_eq!(
            counted[key].as_u64().unwrap_or(0) as usize,
            ids_of(&list, label).len(),
            "{key}"
        );
    }
    for (name, rows) in report["lists"].as_object().unwrap() {
        let csv = read_csv(&p.path(&format!("cmp/lists/{name}.csv")));
        assert_eq!(csv.len() - 1, rows.as_u64().unwrap() as usize, "{name}");
    }
    // The old and new counts are the two runs' own.
    for (y, key) in [("2025", "old"), ("2026", "new")] {
        let run = read_json(&p.path(&format!("out{y}/report.json")));
        assert_eq!(
            flows["red"][key],
            run["findings"]["enterprises_by_grade"]["red"]
        );
    }
    assert!(p.path("cmp/lists/变化清单.xlsx").is_file());
}

#[test]
fn a_run_compared_with_itself_has_no_changes() {
    let p = pair();
    let out = p.path("self");
    compare_runs(
        &[
            &p.s("out2026"),
            &p.s("out2026"),
            "--out",
            out.to_str().unwrap(),
        ],
        0,
    );
    for list in ["企业变化", "重大危险源变化", "隐患变化", "脆弱性目标变化"] {
        let rows = read_csv(&out.join(format!("lists/{list}.csv")));
        // A danger open past its deadline is a state of the year, not a change.
        let rows: Vec<_> = rows[1..].iter().filter(|r| r[1] != "逾期未整改").collect();
        assert!(rows.is_empty(), "{list}: {rows:?}");
    }
    let units = read_csv(&out.join("lists/行政区变化.csv"));
    assert!(units[1..].iter().all(|r| r[1] == "不变"));
}

#[test]
fn swapping_the_years_swaps_every_change() {
    let p = pair();
    let back = p.path("back");
    compare_runs(
        &[
            &p.s("out2026"),
            &p.s("out2025"),
            "--out",
            back.to_str().unwrap(),
        ],
        0,
    );
    fn swap(c: &str) -> &str {
        match c {
            "新增" => "减少",
            "减少" => "新增",
            "升级" => "降级",
            "降级" => "升级",
            "未再列出" => "新增",
            "已整改" => "重新打开",
            "重新打开" => "已整改",
            other => other,
        }
    }
    for list in ["企业变化", "重大危险源变化", "脆弱性目标变化", "行政区变化"]
    {
        let forward: BTreeSet<(String, String)> = changes(&p.path("cmp"), list)
            .into_keys()
            .map(|(c, id)| (swap(&c).to_string(), id))
            .collect();
        let backward: BTreeSet<(String, String)> = changes(&back, list).into_keys().collect();
        assert_eq!(forward, backward, "{list}");
    }
    // Dangers: new ↔ no longer listed, rectified ↔ reopened.
    let forward = changes(&p.path("cmp"), "隐患变化");
    let backward = changes(&back, "隐患变化");
    assert_eq!(ids_of(&forward, "已整改"), ids_of(&backward, "重新打开"));
    assert_eq!(ids_of(&forward, "新增"), ids_of(&backward, "未再列出"));
    assert_eq!(ids_of(&forward, "未再列出"), ids_of(&backward, "新增"));
}

#[test]
fn runs_of_different_areas_or_grids_are_refused() {
    let p = pair();
    // Another city.
    let wuxi = p.path("wuxi");
    riskatlas_expect(
        &[
            "generate",
            "--boundaries",
            root()
                .join("fixtures/boundaries/wuxi.geojson")
                .to_str()
                .unwrap(),
            "--enterprises",
            "300",
            "--out",
            wuxi.to_str().unwrap(),
            "-q",
        ],
        0,
    );
    without_maps(&wuxi.join("project.toml"));
    run_into(
        &[
            wuxi.join("project.toml").to_str().unwrap(),
            "--out",
            &p.s("outwuxi"),
        ],
        0,
    );
    let out = compare_runs(&[&p.s("out2026"), &p.s("outwuxi"), "--out", &p.s("x")], 2);
    assert!(
        stderr(&out).contains("different study areas"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("常州市"), "{}", stderr(&out));
    // The same city on a 200 m grid.
    let coarse = p.path("coarse.toml");
    let text = std::fs::read_to_string(p.path("2026/project.toml")).unwrap();
    std::fs::write(
        &coarse,
        text.replace("cell_size_m = 100.0", "cell_size_m = 200.0"),
    )
    .unwrap();
    let coarse_project = p.path("2026/coarse.toml");
    std::fs::rename(&coarse, &coarse_project).unwrap();
    run_into(
        &[coarse_project.to_str().unwrap(), "--out", &p.s("outcoarse")],
        0,
    );
    let out = compare_runs(&[&p.s("out2026"), &p.s("outcoarse"), "--out", &p.s("x")], 2);
    assert!(
        stderr(&out).contains("different cell sizes: 100 m against 200 m"),
        "{}",
        stderr(&out)
    );
    // Not an output folder; an output folder inside an input.
    let out = compare_runs(&[&p.s("2025"), &p.s("out2026"), "--out", &p.s("x")], 2);
    assert!(stderr(&out).contains("report.json"), "{}", stderr(&out));
    let inside = p.path("out2026/changes");
    let out = compare_runs(
        &[
            &p.s("out2025"),
            &p.s("out2026"),
            "--out",
            inside.to_str().unwrap(),
        ],
        2,
    );
    assert!(stderr(&out).contains("inside"), "{}", stderr(&out));
    assert!(!p.path("x").exists() && !inside.exists());
}

#[test]
fn an_evolved_year_is_made_again_byte_for_byte() {
    let p = pair();
    let again = p.path("again");
    riskatlas_expect(
        &[
            "generate",
            "--evolve-from",
            &p.s("2025"),
            "--year",
            "2026",
            "--out",
            again.to_str().unwrap(),
            "-q",
        ],
        0,
    );
    for f in [
        "enterprises.csv",
        "hidden_dangers.geojson",
        "evolution.csv",
        "generator.toml",
    ] {
        assert_eq!(
            std::fs::read(again.join(f)).unwrap(),
            std::fs::read(p.path(&format!("2026/{f}"))).unwrap(),
            "{f}"
        );
    }
    let out = riskatlas_expect(
        &[
            "generate",
            "--evolve-from",
            &p.s("2026"),
            "--year",
            "2026",
            "--out",
            &p.s("y"),
            "-q",
        ],
        2,
    );
    assert!(
        stderr(&out).contains("--year must be later"),
        "{}",
        stderr(&out)
    );
}

/// `[compare] previous` in the project file: the run writes the same change
/// lists into `changes/` and the comparison into its report.
#[test]
fn a_run_with_a_previous_output_compares_itself_with_it() {
    let p = pair();
    let text = std::fs::read_to_string(p.path("2026/project.toml")).unwrap();
    let project = p.path("2026/with-previous.toml");
    std::fs::write(
        &project,
        format!("{text}\n[compare]\nprevious = \"../out2025\"\n"),
    )
    .unwrap();
    let out = p.path("outprev");
    let run = run_into(
        &[project.to_str().unwrap(), "--out", out.to_str().unwrap()],
        0,
    );
    assert!(stderr(&run).contains("色企业"), "{}", stderr(&run));
    for list in [
        "企业变化",
        "重大危险源变化",
        "隐患变化",
        "脆弱性目标变化",
        "行政区变化",
    ] {
        assert_eq!(
            read_csv(&out.join(format!("changes/lists/{list}.csv"))),
            read_csv(&p.path(&format!("cmp/lists/{list}.csv"))),
            "{list}"
        );
    }
    let report = read_json(&out.join("report.json"));
    let command = read_json(&p.path("cmp/report.json"));
    assert_eq!(report["comparison"]["summary"], command["summary"]);
    assert_eq!(report["comparison"]["comparison"]["old"]["year"], 2025);
    // A previous folder that is not an output stops the run before it reads anything.
    std::fs::write(
        &project,
        format!("{text}\n[compare]\nprevious = \"../nowhere\"\n"),
    )
    .unwrap();
    let missing = p.path("outmissing");
    let run = run_into(
        &[
            project.to_str().unwrap(),
            "--out",
            missing.to_str().unwrap(),
        ],
        2,
    );
    assert!(
        stderr(&run).contains("nowhere/report.json"),
        "{}",
        stderr(&run)
    );
    assert!(!missing.exists());
    // Nor may it be the folder the run replaces.
    std::fs::write(
        &project,
        format!("{text}\n[compare]\nprevious = \"../outprev\"\n"),
    )
    .unwrap();
    let run = run_into(
        &[project.to_str().unwrap(), "--out", out.to_str().unwrap()],
        2,
    );
    assert!(
        stderr(&run).contains("[compare] previous"),
        "{}",
        stderr(&run)
    );
}

/// A raster's single band, row-major, with its size.
fn raster(path: &Path) -> (Vec<f64>, (usize, usize)) {
    let ds = gdal::Dataset::open(path).unwrap();
    let size = ds.raster_size();
    let band = ds.rasterband(1).unwrap();
    let buf = band.read_as::<f64>((0, 0), size, size, None).unwrap();
    (buf.data().to_vec(), size)
}

/// Every cell of the change raster is its grade level this year less last
/// year's, computed here from the two runs' rasters and thresholds; the
/// summary counts them; the same run gives no change and the other order
/// the opposite one.
#[test]
fn the_change_raster_is_each_cells_grade_level_change() {
    let p = pair();
    let level = |e: f64, t: &serde_json::Value| -> i64 {
        let at = |k: &str| t[k].as_f64().unwrap();
        match e {
            e if e >= at("red") => 3,
            e if e >= at("orange") => 2,
            e if e >= at("yellow") => 1,
            _ => 0,
        }
    };
    let thresholds = |y: &str| {
        read_json(&p.path(&format!("out{y}/report.json")))["parameters"]["exposure_thresholds"]
            .clone()
    };
    let (old, old_size) = raster(&p.path("out2025/exposure.tif"));
    let (new, size) = raster(&p.path("out2026/exposure.tif"));
    // The same boundaries and cell size: the same grid.
    assert_eq!(old_size, size);
    let (change, change_size) = raster(&p.path("cmp/exposure_change.tif"));
    assert_eq!(change_size, size);
    let (t_old, t_new) = (thresholds("2025"), thresholds("2026"));
    let mut by_step = [0u64; 7];
    for k in 0..new.len() {
        // exposure.tif's nodata is E = 0.
        let expected = if old[k] <= 0.0 && new[k] <= 0.0 {
            -9999
        } else {
            level(new[k], &t_new) - level(old[k], &t_old)
        };
        assert_eq!(
            change[k] as i64, expected,
            "cell {k}: {} → {}",
            old[k], new[k]
        );
        if expected != -9999 {
            by_step[(expected + 3) as usize] += 1;
        }
    }
    let report = read_json(&p.path("cmp/report.json"));
    let cells = &report["summary"]["grid_cells"];
    for (i, step) in ["-3", "-2", "-1", "+0", "+1", "+2", "+3"]
        .iter()
        .enumerate()
    {
        assert_eq!(
            cells["by_step"][step].as_u64().unwrap(),
            by_step[i],
            "{step}"
        );
    }
    assert!(cells["up"].as_u64().unwrap() > 0 && cells["down"].as_u64().unwrap() > 0);
    for (old, new, out) in [
        ("out2026", "out2026", "raster-self"),
        ("out2026", "out2025", "raster-back"),
    ] {
        compare_runs(&[&p.s(old), &p.s(new), "--out", &p.s(out)], 0);
    }
    let (same, _) = raster(&p.path("raster-self/exposure_change.tif"));
    assert!(same.iter().all(|&v| v == 0.0 || v == -9999.0));
    let (back, _) = raster(&p.path("raster-back/exposure_change.tif"));
    for k in 0..change.len() {
        let expected = if change[k] == -9999.0 {
            -9999.0
        } else {
            -change[k] + 0.0
        };
        assert_eq!(back[k], expected, "cell {k}");
    }
}

/// The change raster opens in QGIS with its palette, and its cells render
/// in their step's colour; each change layer opens with its default style
/// and every feature is drawn by one rule (`tests/qgis/check_changes.py`;
/// the raster's render is left in `target/qgis-renders/` to look at).
#[test]
fn the_changes_open_styled_in_qgis() {
    let p = pair();
    let renders = root().join("target/qgis-renders");
    std::fs::create_dir_all(&renders).unwrap();
    let o = std::process::Command::new(util::python())
        .arg(root().join("tests/qgis/check_changes.py"))
        .arg(p.path("cmp"))
        .arg(&renders)
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .expect("python3 runs");
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(
        !err.contains("No module named 'qgis'"),
        "PyQGIS is not installed: run ./scripts/setup.sh --tests"
    );
    assert!(o.status.success(), "QGIS checks failed:\n{out}\n{err}");
    assert!(
        out.contains("renders #d7191c") || out.contains("renders #1a9641"),
        "{out}"
    );
}

/// The colours present in a PNG, as `#rrggbb`.
fn png_colours(path: &Path) -> BTreeSet<String> {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    buf[..info.buffer_size()]
        .chunks(step)
        .map(|p| format!("#{:02x}{:02x}{:02x}", p[0], p[1], p[2]))
        .collect()
}

/// A change map for the city and one per district, with the marks of the
/// enterprises graded up and down in the change scale's strongest red and
/// green; `--no-maps` makes none.
#[test]
fn the_change_maps_are_made_for_the_city_and_each_district() {
    let p = pair();
    let report = read_json(&p.path("cmp/report.json"));
    let maps: BTreeSet<String> = report["maps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    let units = read_json(&p.path("out2026/geojson/admin_units.geojson"));
    let mut expected: BTreeSet<String> = units["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["level"] == "district")
        .map(|f| {
            format!(
                "maps/district/{}.png",
                f["properties"]["code"].as_str().unwrap()
            )
        })
        .collect();
    expected.insert("maps/city.png".to_string());
    let pdfs: BTreeSet<String> = expected.iter().map(|m| m.replace(".png", ".pdf")).collect();
    expected.extend(pdfs);
    assert_eq!(maps, expected);
    // Each map's PDF for print: the city's on A3, a district's on A4.
    for (file, paper) in [
        ("cmp/maps/city.pdf", "(A3)"),
        (
            expected
                .iter()
                .find(|m| m.starts_with("maps/district/"))
                .unwrap()
                .as_str(),
            "(A4)",
        ),
    ] {
        let path = if file.starts_with("cmp/") {
            p.path(file)
        } else {
            p.path(&format!("cmp/{}", file.replace(".png", ".pdf")))
        };
        let info = std::process::Command::new("pdfinfo")
            .arg(&path)
            .output()
            .expect("pdfinfo (poppler-utils)");
        let info = String::from_utf8_lossy(&info.stdout);
        assert!(info.contains(paper), "{}: {info}", path.display());
        assert!(info.contains("Title:"), "{}: {info}", path.display());
    }
    let colours = png_colours(&p.path("cmp/maps/city.png"));
    assert!(colours.contains("#d7191c"), "no mark of a grade up");
    assert!(colours.contains("#1a9641"), "no mark of a grade down");
    let plain = p.path("nomaps");
    compare_runs(
        &[
            &p.s("out2025"),
            &p.s("out2026"),
            "--out",
            plain.to_str().unwrap(),
            "--no-maps",
        ],
        0,
    );
    assert!(!plain.join("maps").exists());
    assert_eq!(
        read_json(&plain.join("report.json"))["maps"],
        serde_json::json!([])
    );
}

/// Each change layer holds its list's rows, in the list's order, with the
/// same change and id, at the same place; the GeoJSON and the GeoPackage
/// hold the same features.
#[test]
fn the_change_layers_hold_the_change_lists() {
    let p = pair();
    let lists = [
        ("enterprise_changes", "企业变化"),
        ("hazard_source_changes", "重大危险源变化"),
        ("hidden_danger_changes", "隐患变化"),
        ("vulnerable_target_changes", "脆弱性目标变化"),
        ("admin_unit_changes", "行政区变化"),
    ];
    let words = |layer: &str, key: &str| -> String {
        let w = match (layer, key) {
            ("hidden_danger_changes", "new") => "新增",
            ("hidden_danger_changes", "no_longer_listed") => "未再列出",
            ("hidden_danger_changes", "rectified") => "已整改",
            ("hidden_danger_changes", "reopened") => "重新打开",
            ("hidden_danger_changes", "overdue") => "逾期未整改",
            (_, "up") => "升级",
            (_, "down") => "降级",
            (_, "new") => "新增",
            (_, "gone") => "减少",
            (_, "same") => "不变",
            (_, other) => panic!("{layer}: change {other:?}"),
        };
        w.to_string()
    };
    let gpkg = gdal::Dataset::open(p.path("cmp/changes.gpkg")).unwrap();
    for (layer, list) in lists {
        let fc = read_json(&p.path(&format!("cmp/geojson/{layer}.geojson")));
        let features = fc["features"].as_array().unwrap();
        let csv = read_csv(&p.path(&format!("cmp/lists/{list}.csv")));
        assert_eq!(features.len(), csv.len() - 1, "{layer}");
        let id_field = if layer == "admin_unit_changes" {
            "code"
        } else {
            "id"
        };
        for (f, row) in features.iter().zip(&csv[1..]) {
            let props = &f["properties"];
            assert_eq!(
                words(layer, props["change"].as_str().unwrap()),
                row[1],
                "{layer}"
            );
            assert_eq!(props[id_field].as_str().unwrap(), row[2], "{layer}");
            if layer != "admin_unit_changes" {
                let c = &f["geometry"]["coordinates"];
                let (x, y) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
                let n = row.len();
                let (lx, ly): (f64, f64) =
                    (row[n - 2].parse().unwrap(), row[n - 1].parse().unwrap());
                assert!(
                    (x - lx).abs() < 2e-7 && (y - ly).abs() < 2e-7,
                    "{layer} {}",
                    row[2]
                );
            }
        }
        use gdal::vector::LayerAccess;
        let l = gpkg.layer_by_name(layer).unwrap();
        assert_eq!(
            l.feature_count() as usize,
            features.len(),
            "{layer} in changes.gpkg"
        );
    }
    assert!(read_json(&p.path("cmp/geojson/enterprise_changes.geojson"))
        .get("crs")
        .is_none());
}

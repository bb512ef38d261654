//! Bad input never panics: broken files, wrong encodings, missing columns and
//! misspelt project keys get an error that names the file and the problem.

mod util;

use std::path::Path;

use util::*;

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn check(dir: &Path) -> std::process::Output {
    riskatlas(&["check", dir.join("project.toml").to_str().unwrap(), "-q"])
}

fn assert_fails_naming(out: &std::process::Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
    }
}

#[test]
fn truncated_geojson_is_named() {
    let dir = copy_fixture("changzhou");
    let path = dir.path().join("hidden_dangers.geojson");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert_fails_naming(&check(dir.path()), &["hidden_dangers.geojson"]);
}

#[test]
fn a_text_file_named_xlsx_is_named() {
    let dir = copy_fixture("changzhou");
    std::fs::write(
        dir.path().join("hazard_inventory.xlsx"),
        "单元编号,企业编号\nHU1,E1\n",
    )
    .unwrap();
    assert_fails_naming(&check(dir.path()), &["hazard_inventory.xlsx", "XLSX"]);
}

#[test]
fn missing_column_lists_the_columns_there_are() {
    let dir = copy_fixture("changzhou");
    edit(
        &dir.path().join("project.toml"),
        "name = \"企业名称\"",
        "name = \"单位名称\"",
    );
    assert_fails_naming(
        &check(dir.path()),
        &[
            "enterprises.csv",
            "单位名称",
            "企业名称",
            "统一社会信用代码",
        ],
    );
}

#[test]
fn misspelt_project_key_is_named() {
    let dir = copy_fixture("changzhou");
    edit(&dir.path().join("project.toml"), "cell_size_m", "cell_size");
    assert_fails_naming(&check(dir.path()), &["cell_size"]);
}

#[test]
fn missing_file_and_unknown_type_are_named() {
    let dir = copy_fixture("changzhou");
    std::fs::remove_file(dir.path().join("hidden_dangers.geojson")).unwrap();
    assert_fails_naming(&check(dir.path()), &["hidden_dangers.geojson", "not found"]);
    let dir = copy_fixture("changzhou");
    std::fs::rename(
        dir.path().join("enterprises.csv"),
        dir.path().join("enterprises.txt"),
    )
    .unwrap();
    edit(
        &dir.path().join("project.toml"),
        "enterprises.csv",
        "enterprises.txt",
    );
    assert_fails_naming(&check(dir.path()), &["enterprises.txt", "unsupported"]);
}

#[test]
fn gbk_shapefile_without_override_names_the_fix() {
    let dir = copy_fixture("changzhou");
    edit(
        &dir.path().join("project.toml"),
        "encoding = \"CP936\"\n",
        "",
    );
    assert_fails_naming(
        &check(dir.path()),
        &["vulnerable_targets.shp", "CP936", ".cpg"],
    );
}

#[test]
fn truncated_csv_keeps_the_good_rows_and_balances() {
    let dir = copy_fixture("changzhou");
    let path = dir.path().join("enterprises.csv");
    let bytes = std::fs::read(&path).unwrap();
    // Cut in the middle of the 101st data row.
    let cut: usize = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(100)
        .unwrap()
        .0
        + 30;
    std::fs::write(&path, &bytes[..cut]).unwrap();
    let (out, report_dir) = check_with_report(&dir.path().join("project.toml"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = read_json(&report_dir.path().join("report.json"));
    let e = &report["inputs"]["enterprises"];
    assert_eq!(e["read"], 101);
    assert_eq!(
        e["accepted"].as_u64().unwrap() + e["rejected"].as_u64().unwrap(),
        101
    );
    assert!(e["accepted"].as_u64().unwrap() >= 100);
}

#[test]
fn check_writes_nothing_unless_asked() {
    let dir = copy_fixture("changzhou");
    let before = files_under(dir.path());
    let out = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("enterprises"),
        "prints the accounting"
    );
    assert_eq!(files_under(dir.path()), before);
}

#[test]
fn invalid_boundaries_are_repaired_only_when_the_area_stays() {
    let dir = copy_fixture("changzhou");
    // Two square districts: 甲区 with a spike back along its south edge (a
    // repair removes it, area unchanged), 乙区 drawn as a bow-tie (its lobes
    // cancel in the signed area; repaired it would be a different shape).
    let fc = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"adcode":"320400","name":"常州市","level":"city","parent":null},"geometry":{"type":"Polygon","coordinates":[[[119.0,31.0],[121.0,31.0],[121.0,32.5],[119.0,32.5],[119.0,31.0]]]}},
{"type":"Feature","properties":{"adcode":"320401","name":"甲区","level":"district","parent":"320400"},"geometry":{"type":"Polygon","coordinates":[[[119.0,31.0],[120.0,31.0],[120.4,31.0],[120.0,31.0],[120.0,32.5],[119.0,32.5],[119.0,31.0]]]}},
{"type":"Feature","properties":{"adcode":"320402","name":"乙区","level":"district","parent":"320400"},"geometry":{"type":"Polygon","coordinates":[[[120.0,31.0],[121.0,32.5],[121.0,31.0],[120.0,32.5],[120.0,31.0]]]}}
]}"#;
    std::fs::write(dir.path().join("boundaries.geojson"), fc).unwrap();
    let report_dir = tempfile::tempdir().unwrap();
    let out = riskatlas(&[
        "check",
        dir.path().join("project.toml").to_str().unwrap(),
        "--report",
        report_dir.path().to_str().unwrap(),
        "-q",
    ]);
    assert!(matches!(out.status.code(), Some(1)), "{}", stderr(&out));
    let report = read_json(&report_dir.path().join("report.json"));
    let repairs = report["repairs"].as_array().unwrap();
    assert_eq!(repairs.len(), 1, "{repairs:?}");
    assert_eq!(repairs[0]["id"], "320401");
    assert!(stderr(&out).contains("repaired"));
    let rejects = read_csv(&report_dir.path().join("rejects.csv"));
    let bowtie = rejects
        .iter()
        .find(|r| r[3] == "320402")
        .expect("the bow-tie is rejected");
    assert_eq!(bowtie[6], "invalid_geometry");
    assert!(bowtie[7].contains("more than 1 %"), "{bowtie:?}");
}

#[test]
fn help_is_complete_for_every_command() {
    for (cmd, needles) in [
        ("run", &["--out", "PROJECT"][..]),
        ("check", &["--report"][..]),
        (
            "generate",
            &[
                "--boundaries",
                "--seed",
                "--enterprises",
                "--hazard-sources",
                "--hidden-dangers",
                "--targets",
                "--bad-rows",
                "--out",
            ][..],
        ),
    ] {
        let out = riskatlas_expect(&[cmd, "--help"], 0);
        let text = String::from_utf8_lossy(&out.stdout);
        for n in needles {
            assert!(text.contains(n), "{cmd} --help lacks {n}:\n{text}");
        }
    }
    let out = riskatlas_expect(&["--help"], 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Exit codes"));
}

/// A hostile enterprise id still gives a safe map file name, inside maps/.
#[test]
fn hostile_ids_give_safe_map_file_names() {
    let dir = copy_fixture("changzhou");
    // Give a red, assessed enterprise a hostile id.
    let path = dir.path().join("enterprises.csv");
    let bytes = std::fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains(",红,"))
        .expect("a red enterprise")
        .to_string();
    let id = line.split(',').next().unwrap().to_string();
    let hostile = format!("../../{}/名字/{}", "x".repeat(120), "a b");
    std::fs::write(
        &path,
        text.replacen(&line, &line.replacen(&id, &hostile, 1), 1),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = riskatlas(&[
        "run",
        dir.path().join("project.toml").to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "-q",
    ]);
    assert!(matches!(o.status.code(), Some(1)), "{}", stderr(&o));
    let files = files_under(out.path());
    assert!(
        files.iter().all(|f| !f.to_string_lossy().contains("..")),
        "{files:?}"
    );
    let maps: Vec<String> = std::fs::read_dir(out.path().join("maps/enterprise"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        maps.iter().all(|m| m.len() <= 68
            && m.trim_end_matches(".png")
                .trim_end_matches(".pdf")
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')),
        "{maps:?}"
    );
    assert!(
        maps.iter().any(|m| m.starts_with("x") && m.len() > 20),
        "the hostile id's map is there: {maps:?}"
    );
    assert!(!out.path().join("x").exists() && !dir.path().join("x").exists());
}

/// `riskatlas … 2>&1 | head`: the reader of stderr goes away; the run must
/// neither panic (exit 101) nor stop half-way.
#[test]
fn a_closed_stderr_pipe_is_not_a_crash() {
    use std::process::{Command, Stdio};
    let dir = copy_fixture("changzhou");
    let out = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_riskatlas"))
        .args([
            "run",
            dir.path().join("project.toml").to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(1),
        "the run finishes with its own exit code"
    );
    assert!(out.path().join("report.json").exists());
}

#[test]
fn a_report_folder_that_would_overwrite_an_input_is_refused() {
    let dir = copy_fixture("changzhou");
    std::fs::rename(
        dir.path().join("enterprises.csv"),
        dir.path().join("rejects.csv"),
    )
    .unwrap();
    edit(
        &dir.path().join("project.toml"),
        "enterprises.csv",
        "rejects.csv",
    );
    let before = std::fs::read(dir.path().join("rejects.csv")).unwrap();
    let out = riskatlas(&[
        "check",
        dir.path().join("project.toml").to_str().unwrap(),
        "--report",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("would overwrite [inputs.enterprises]"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(dir.path().join("rejects.csv")).unwrap(),
        before
    );
}

/// A park that is not a polygon and a road that is not a line are
/// rejected with the file, the feature and why; the run goes on, and the
/// rejects add up.
#[test]
fn a_point_park_and_a_polygon_road_are_rejected_by_feature() {
    let dir = copy_fixture("changzhou");
    let parks = dir.path().join("parks.geojson");
    let text = std::fs::read_to_string(&parks).unwrap();
    let point = r#"{"type":"Feature","properties":{"园区代码":"BAD-P1","园区名称":"点状园区"},"geometry":{"type":"Point","coordinates":[119.9,31.7]}}"#;
    std::fs::write(
        &parks,
        text.replacen("\n]}", &format!(",\n{point}\n]}}"), 1),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("roads.geojson"),
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":"R1"},"geometry":{"type":"LineString","coordinates":[[119.9,31.7],[119.95,31.7]]}},
{"type":"Feature","properties":{"id":"R2"},"geometry":{"type":"Polygon","coordinates":[[[119.9,31.7],[119.95,31.7],[119.95,31.75],[119.9,31.7]]]}}
]}"#,
    )
    .unwrap();
    let project = dir.path().join("project.toml");
    let mut text = std::fs::read_to_string(&project).unwrap();
    text.push_str("\n[inputs.roads]\npath = \"roads.geojson\"\ncrs = \"wgs84\"\n[inputs.roads.fields]\nid = \"id\"\n");
    std::fs::write(&project, text).unwrap();
    let out = check(dir.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let run = run_project(&project, "2", 1);
    let rejects = std::fs::read_to_string(run.path().join("rejects.csv")).unwrap();
    let line = |file: &str, id: &str| {
        rejects
            .lines()
            .find(|l| l.contains(file) && l.contains(id))
            .unwrap_or_else(|| panic!("no reject of {id} in {file}:\n{rejects}"))
            .to_string()
    };
    let park = line("parks.geojson", "BAD-P1");
    assert!(
        park.contains("a chemical park must be a polygon or multipolygon"),
        "{park}"
    );
    let road = line("roads.geojson", "R2");
    assert!(
        road.contains("a road must be a line or multiline"),
        "{road}"
    );
    let counts = |name: &str| {
        let line = err
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line in {err}"));
        line.split_whitespace()
            .skip(1)
            .map(|n| n.parse::<u64>().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(counts("parks"), [3, 2, 1]);
    assert_eq!(counts("roads"), [2, 1, 1]);
}

/// A base layer's bad feature is a reject like any other (named by file,
/// row and reason) and the good ones are drawn; the counts add up.
#[test]
fn bad_base_layer_features_are_rejected_and_counted() {
    let dir = copy_fixture("changzhou");
    std::fs::write(
        dir.path().join("basemap/roads.geojson"),
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"常金大道","class":"primary"},"geometry":{"type":"LineString","coordinates":[[119.9,31.7],[119.95,31.72]]}},
{"type":"Feature","properties":{"name":"错误道路"},"geometry":{"type":"Point","coordinates":[119.9,31.7]}}
]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("basemap/places.geojson"),
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"湖塘镇","class":"PPLA4"},"geometry":{"type":"Point","coordinates":[119.96,31.72]}},
{"type":"Feature","properties":{"name":"","class":"PPLA4"},"geometry":{"type":"Point","coordinates":[119.9,31.7]}}
]}"#,
    )
    .unwrap();
    let (out, report_dir) = check_with_report(&dir.path().join("project.toml"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = read_json(&report_dir.path().join("report.json"));
    for layer in ["basemap_roads", "basemap_places"] {
        let r = &report["inputs"][layer];
        assert_eq!(
            (
                r["read"].as_u64(),
                r["accepted"].as_u64(),
                r["rejected"].as_u64()
            ),
            (Some(2), Some(1), Some(1)),
            "{layer}: {r}"
        );
    }
    assert_eq!(report["accounting"]["balanced"], true);
    let rejects = std::fs::read_to_string(report_dir.path().join("rejects.csv")).unwrap();
    assert!(
        rejects.contains(
            "roads.geojson,,2,错误道路,geometry,,invalid_geometry,a road or railway must be a line"
        ),
        "{rejects}"
    );
    assert!(rejects.contains("places.geojson,,2,"), "{rejects}");
}

/// A tile package that is missing or not MBTiles is refused before any
/// input is read, naming `[basemap] tiles`, the path and why.
#[test]
fn a_bad_tile_package_is_named() {
    let dir = copy_fixture("changzhou");
    let project = dir.path().join("project.toml");
    edit(
        &project,
        "[basemap]\n",
        "[basemap]\ntiles = \"cache.mbtiles\"\n",
    );
    assert_fails_naming(
        &check(dir.path()),
        &["[basemap] tiles", "cache.mbtiles", "no such file"],
    );
    std::fs::write(dir.path().join("cache.mbtiles"), "not a database").unwrap();
    assert_fails_naming(&check(dir.path()), &["[basemap] tiles", "cache.mbtiles"]);
}

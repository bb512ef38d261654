//! Writes a synthetic data set in the formats supervision offices really hand
//! over: enterprises as a UTF-8 CSV in GCJ-02 (copied from Amap), hazard
//! inventories as an XLSX workbook with a units sheet and a chemicals sheet,
//! hidden dangers as GeoJSON, vulnerable targets as a GBK Shapefile without a
//! `.cpg`, emergency resources as a UTF-8 CSV in WGS 84, chemical parks as
//! GeoJSON polygons, and a ready `project.toml` beside them.

use std::io::Write;
use std::path::{Path, PathBuf};

use gdal::vector::{FieldDefn, LayerAccess, LayerOptions, OGRFieldType, ToGdal};
use gdal::DriverManager;
use geo::Point;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};

use super::evolve::Change;
use super::parks::GenPark;
use super::resources::GenResource;
use super::{GenDanger, GenEnterprise, GenTarget, GenUnit, Recipe, Synthetic};
use crate::crs::wgs84_to_gcj02;
use crate::model::Grade;
use crate::output::write::{atomic_write, xlsx_err, WriteError};

/// A deliberately bad record: where it is and the reject code it must get.
#[derive(Debug, Clone)]
pub struct Expected {
    /// The generated input file it is in, e.g. `enterprises.csv`.
    pub file: &'static str,
    /// Sheet name for the workbook, empty otherwise.
    pub layer: &'static str,
    /// Row as [`crate::model::SourceRef::row`] counts it: the Excel row, the CSV
    /// line, or the 1-based feature number.
    pub row: u64,
    /// The reject code the row must get in `rejects.csv`.
    pub code: &'static str,
    /// What is wrong with the row, in a few words.
    pub what: &'static str,
}

const ENTERPRISES: &str = "enterprises.csv";
const HAZARDS: &str = "hazard_inventory.xlsx";
const DANGERS: &str = "hidden_dangers.geojson";
const TARGETS: &str = "vulnerable_targets.shp";
const RESOURCES: &str = "emergency_resources.csv";
const PARKS: &str = "parks.geojson";
/// The boundaries, copied beside the data.
pub const BOUNDARIES: &str = "boundaries.geojson";
/// How the data set was made.
pub const RECIPE: &str = "generator.toml";
/// What changed since the year before, for an evolved year.
pub const EVOLUTION: &str = "evolution.csv";
/// The base layers' folder, copied beside the data when given.
pub const BASEMAP: &str = "basemap";
/// The base layers a basemap folder may hold, by their `[basemap]` table,
/// and the file with their credit line.
const BASE_LAYERS: [&str; 6] = [
    "surroundings",
    "built_up",
    "water",
    "railways",
    "roads",
    "places",
];
const BASE_CREDIT: &str = "attribution.txt";
const BASE_KEYS: &str = "layers.toml";
const UNITS_SHEET: &str = "危险源单元";
const CHEMICALS_SHEET: &str = "化学品";

fn io(path: &Path) -> impl Fn(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn gdal_err(path: &Path) -> impl Fn(gdal::errors::GdalError) -> WriteError + '_ {
    move |e| WriteError::Gdal {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Everything written, for the CLI to report.
pub struct Written {
    /// Path of the `project.toml` written.
    pub project: PathBuf,
    /// The deliberately bad rows, also listed in `expected_rejects.csv`; empty
    /// without `bad_rows`.
    pub expected: Vec<Expected>,
}

/// Writes the data set made by `recipe` into `out` (with bad rows when the
/// recipe says so), the recipe as `generator.toml` and, for a year evolved
/// from another, its changes as `evolution.csv`.
pub fn write_all(
    out: &Path,
    (boundaries, basemap): (&Path, Option<&Path>),
    recipe: &Recipe,
    (data, changes): (&Synthetic, &[Change]),
    area_name: &str,
) -> Result<Written, WriteError> {
    let (year, bad_rows) = (recipe.year(), recipe.bad_rows);
    std::fs::create_dir_all(out).map_err(io(out))?;
    let bytes = std::fs::read(boundaries).map_err(io(boundaries))?;
    atomic_write(&out.join(BOUNDARIES), |w| w.write_all(&bytes))?;
    let mut expected = Vec::new();
    write_enterprises(
        &out.join(ENTERPRISES),
        &data.enterprises,
        bad_rows.then_some(&mut expected),
    )?;
    write_hazards(
        &out.join(HAZARDS),
        &data.units,
        bad_rows.then_some(&mut expected),
    )?;
    write_dangers(
        &out.join(DANGERS),
        &data.dangers,
        bad_rows.then_some(&mut expected),
    )?;
    write_targets(
        &out.join(TARGETS),
        &data.targets,
        year,
        bad_rows.then_some(&mut expected),
    )?;
    write_resources(
        &out.join(RESOURCES),
        &data.resources,
        bad_rows.then_some(&mut expected),
    )?;
    write_parks(&out.join(PARKS), &data.parks)?;
    let basemap = match basemap {
        Some(dir) => copy_basemap(dir, &out.join(BASEMAP))?,
        None => String::new(),
    };
    let project = out.join("project.toml");
    atomic_write(&project, |w| {
        w.write_all(project_toml(year, area_name).as_bytes())?;
        w.write_all(basemap.as_bytes())
    })?;
    let recipe_text = format!(
        "# How this data set was made: `riskatlas generate --evolve-from` reads it to\n\
         # make the data set again and go on a year.\n{}",
        toml::to_string(recipe).expect("a recipe is plain TOML")
    );
    atomic_write(&out.join(RECIPE), |w| w.write_all(recipe_text.as_bytes()))?;
    let log = out.join(EVOLUTION);
    if recipe.years.is_empty() {
        let _ = std::fs::remove_file(&log);
    } else {
        write_changes(&log, changes)?;
    }
    if bad_rows {
        atomic_write(&out.join("expected_rejects.csv"), |w| {
            writeln!(w, "file,layer,row,code,what")?;
            for e in &expected {
                writeln!(w, "{},{},{},{},{}", e.file, e.layer, e.row, e.code, e.what)?;
            }
            Ok(())
        })?;
    }
    Ok(Written { project, expected })
}

/// The changes of an evolved year, one a line (UTF-8, comma-separated).
fn write_changes(path: &Path, changes: &[Change]) -> Result<(), WriteError> {
    atomic_write(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(["kind", "id", "change", "old", "new"])?;
        for c in changes {
            csv.write_record([c.kind, &c.id, c.change, &c.old, &c.new])?;
        }
        csv.flush()
    })
}

fn grade_zh(g: Grade) -> &'static str {
    match g {
        Grade::Red => "红",
        Grade::Orange => "橙",
        Grade::Yellow => "黄",
        Grade::Blue => "蓝",
    }
}

/// Quotes a CSV cell when needed (RFC 4180).
fn cell(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn gcj(p: Point<f64>) -> (String, String) {
    let (x, y) = wgs84_to_gcj02(p.x(), p.y());
    (format!("{x:.6}"), format!("{y:.6}"))
}

fn write_enterprises(
    path: &Path,
    list: &[GenEnterprise],
    expected: Option<&mut Vec<Expected>>,
) -> Result<(), WriteError> {
    atomic_write(path, |w| {
        // Excel's "CSV UTF-8" starts with a byte-order mark; so do we.
        w.write_all(
            "\u{feff}统一社会信用代码,企业名称,行业类别,地址,风险等级,周边500米人数,经度,纬度\n"
                .as_bytes(),
        )?;
        let line_graded = |e: &GenEnterprise, grade: &str, lon: &str, lat: &str| {
            format!(
                "{},{},{},{},{},{},{},{}\n",
                e.id,
                cell(&e.name),
                e.industry,
                cell(&e.address),
                grade,
                e.people_500m.map(|p| p.to_string()).unwrap_or_default(),
                lon,
                lat
            )
        };
        let line = |e: &GenEnterprise, lon: &str, lat: &str| {
            line_graded(e, e.grade.map(grade_zh).unwrap_or(""), lon, lat)
        };
        for e in list {
            let (lon, lat) = gcj(e.lon_lat);
            w.write_all(line(e, &lon, &lat).as_bytes())?;
        }
        if let Some(exp) = expected {
            let mut row = list.len() as u64 + 1;
            let base = &list[0];
            let mut bad = |w: &mut dyn Write, bytes: Vec<u8>, code, what| -> std::io::Result<()> {
                row += 1;
                exp.push(Expected {
                    file: ENTERPRISES,
                    layer: "",
                    row,
                    code,
                    what,
                });
                w.write_all(&bytes)
            };
            let fresh = |n: u32| GenEnterprise {
                id: format!("BAD-E{n:03}"),
                ..base.clone()
            };
            let (lon, lat) = gcj(base.lon_lat);
            bad(
                w,
                line(&fresh(1), "", &lat).into_bytes(),
                "missing_coordinate",
                "longitude empty",
            )?;
            bad(
                w,
                line(&fresh(2), &cell(&lon.replace('.', ",")), &lat).into_bytes(),
                "unparsable_number",
                "decimal comma in longitude",
            )?;
            bad(
                w,
                line(&fresh(3), &lat, &lon).into_bytes(),
                "lon_lat_swapped",
                "longitude and latitude swapped",
            )?;
            bad(
                w,
                line(&fresh(4), "116.397128", "39.916527").into_bytes(),
                "outside_study_area",
                "a point in Beijing",
            )?;
            bad(
                w,
                line(base, &lon, &lat).into_bytes(),
                "duplicate_id",
                "first enterprise repeated",
            )?;
            bad(
                w,
                line_graded(&fresh(6), "紫", &lon, &lat).into_bytes(),
                "unknown_grade",
                "grade 紫",
            )?;
            // A name saved in GBK inside a UTF-8 file: the bytes cannot be decoded.
            let mut gbk = b"BAD-E007,".to_vec();
            gbk.extend(encoding_rs::GBK.encode("常州乱码化工有限公司").0.iter());
            gbk.extend(format!(",化工,,,,{lon},{lat}\n").into_bytes());
            bad(w, gbk, "undecodable_text", "name encoded in GBK")?;
            let unnamed = GenEnterprise {
                name: String::new(),
                ..fresh(8)
            };
            bad(
                w,
                line(&unnamed, &lon, &lat).into_bytes(),
                "missing_value",
                "name empty",
            )?;
        }
        Ok(())
    })
}

fn write_hazards(
    path: &Path,
    units: &[GenUnit],
    expected: Option<&mut Vec<Expected>>,
) -> Result<(), WriteError> {
    let err = xlsx_err(path);
    let mut book = Workbook::new();
    // A fixed creation time keeps the workbook byte-identical across runs.
    let created = ExcelDateTime::from_ymd(2026, 1, 1).map_err(&err)?;
    book.set_properties(
        &DocProperties::new()
            .set_creation_datetime(&created)
            .set_author("riskatlas generate"),
    );
    let mut unit_rows: Vec<[String; 8]> = units
        .iter()
        .map(|u| {
            let (lon, lat) = u
                .lon_lat
                .map(|p| (format!("{:.6}", p.x()), format!("{:.6}", p.y())))
                .unwrap_or_default();
            [
                u.id.clone(),
                u.enterprise_id.clone(),
                u.name.clone(),
                u.kind.to_string(),
                lon,
                lat,
                opt(u.radius_m),
                opt(u.people_500m),
            ]
        })
        .collect();
    let mut chem_rows: Vec<[String; 5]> = units
        .iter()
        .flat_map(|u| {
            u.chemicals.iter().map(move |c| {
                [
                    u.id.clone(),
                    c.name.clone(),
                    c.cas.clone().unwrap_or_default(),
                    c.category.unwrap_or("").to_string(),
                    format!("{}", c.quantity_t),
                ]
            })
        })
        .collect();
    if let Some(exp) = expected {
        let u0 = unit_rows[0].clone();
        let mut push_unit = |row: [String; 8], code, what| {
            unit_rows.push(row);
            exp.push(Expected {
                file: HAZARDS,
                layer: UNITS_SHEET,
                row: unit_rows.len() as u64 + 1,
                code,
                what,
            });
        };
        let mut bad = u0.clone();
        bad[0] = "BAD-HU1".into();
        bad[1] = "91000000MA0000000X".into();
        push_unit(
            bad,
            "unknown_enterprise",
            "enterprise not in enterprises.csv",
        );
        push_unit(u0.clone(), "duplicate_id", "first unit repeated");
        let mut bad = u0.clone();
        bad[0] = "BAD-HU3".into();
        bad[3] = "露天堆场".into();
        push_unit(bad, "unknown_value", "unit type 露天堆场");
        let mut bad = u0.clone();
        bad[0] = "BAD-HU4".into();
        bad[1] = "BAD-E004".into();
        push_unit(
            bad,
            "unknown_enterprise",
            "enterprise rejected as outside the study area",
        );
        let first_unit = units[0].id.clone();
        let mut push_chem = |row: [String; 5], code, what| {
            chem_rows.push(row);
            exp.push(Expected {
                file: HAZARDS,
                layer: CHEMICALS_SHEET,
                row: chem_rows.len() as u64 + 1,
                code,
                what,
            });
        };
        let c = |unit: &str, name: &str, cat: &str, q: &str| {
            [
                unit.to_string(),
                name.to_string(),
                String::new(),
                cat.to_string(),
                q.to_string(),
            ]
        };
        push_chem(
            c(&first_unit, "甲醇", "", "-5"),
            "negative_quantity",
            "quantity -5 t",
        );
        push_chem(
            c(&first_unit, "甲苯", "", "若干"),
            "unparsable_number",
            "quantity 若干",
        );
        push_chem(
            c("HU999999", "氯", "", "2"),
            "unknown_unit",
            "unit not in the units sheet",
        );
        push_chem(
            c(&first_unit, "某混合物", "W99", "3"),
            "unknown_value",
            "category W99",
        );
        push_chem(
            c(&first_unit, "某神秘化合物", "", "2"),
            "unknown_chemical",
            "not in Table 1 and no category",
        );
    }
    let sheet = book.add_worksheet();
    sheet.set_name(UNITS_SHEET).map_err(&err)?;
    let head = [
        "单元编号",
        "企业编号",
        "单元名称",
        "单元类型",
        "经度",
        "纬度",
        "影响半径(米)",
        "周边500米人数",
    ];
    for (c, h) in head.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).map_err(&err)?;
    }
    for (r, row) in unit_rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            write_cell(sheet, r as u32 + 1, c as u16, v).map_err(&err)?;
        }
    }
    let sheet = book.add_worksheet();
    sheet.set_name(CHEMICALS_SHEET).map_err(&err)?;
    let head = [
        "单元编号",
        "化学品名称",
        "CAS号",
        "危险性类别",
        "设计最大量(吨)",
    ];
    for (c, h) in head.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).map_err(&err)?;
    }
    for (r, row) in chem_rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            write_cell(sheet, r as u32 + 1, c as u16, v).map_err(&err)?;
        }
    }
    let bytes = book.save_to_buffer().map_err(&err)?;
    atomic_write(path, |w| w.write_all(&bytes))
}

/// Numbers go in as numbers, the rest as text, as a person typing would.
fn write_cell(
    sheet: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    col: u16,
    v: &str,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    if v.is_empty() {
        return Ok(());
    }
    match v.parse::<f64>() {
        Ok(n) if !v.contains('-') || v.starts_with('-') => {
            sheet.write_number(row, col, n).map(|_| ())
        }
        _ => sheet.write_string(row, col, v).map(|_| ()),
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn write_dangers(
    path: &Path,
    list: &[GenDanger],
    expected: Option<&mut Vec<Expected>>,
) -> Result<(), WriteError> {
    let feature = |d: &GenDanger| -> String {
        let props = serde_json::json!({
            "隐患编号": d.id, "企业编号": d.enterprise_id, "隐患描述": d.description,
            "隐患级别": d.level, "整改状态": d.status, "发现日期": d.found, "整改期限": d.due,
        });
        let geom = match d.lon_lat {
            Some(p) => format!(
                r#"{{"type":"Point","coordinates":[{:.7},{:.7}]}}"#,
                p.x(),
                p.y()
            ),
            None => "null".into(),
        };
        format!(r#"{{"type":"Feature","properties":{props},"geometry":{geom}}}"#)
    };
    let mut features: Vec<String> = list.iter().map(feature).collect();
    if let Some(exp) = expected {
        let base = list
            .iter()
            .find(|d| d.enterprise_id.is_some())
            .unwrap_or(&list[0])
            .clone();
        let mut push = |d: GenDanger, code, what| {
            features.push(feature(&d));
            exp.push(Expected {
                file: DANGERS,
                layer: "",
                row: features.len() as u64,
                code,
                what,
            });
        };
        push(
            GenDanger {
                id: "BAD-YH1".into(),
                enterprise_id: Some("91000000MA0000000X".into()),
                ..base.clone()
            },
            "unknown_enterprise",
            "enterprise not in enterprises.csv",
        );
        push(
            GenDanger {
                id: "BAD-YH2".into(),
                level: "特大",
                ..base.clone()
            },
            "unknown_value",
            "level 特大",
        );
        push(
            GenDanger {
                id: "BAD-YH3".into(),
                due: "2026-13-45".into(),
                ..base.clone()
            },
            "unparsable_date",
            "due date 2026-13-45",
        );
        push(
            GenDanger {
                id: "BAD-YH4".into(),
                enterprise_id: None,
                lon_lat: None,
                ..base.clone()
            },
            "missing_coordinate",
            "no geometry and no enterprise",
        );
        push(base.clone(), "duplicate_id", "a danger repeated");
    }
    write_features(path, &features)
}

/// Writes the targets as a Shapefile whose DBF is GBK, then removes the
/// `.cpg` and the DBF's language byte, as many Chinese shapefiles come.
fn write_targets(
    path: &Path,
    list: &[GenTarget],
    year: i32,
    expected: Option<&mut Vec<Expected>>,
) -> Result<(), WriteError> {
    let mut rows: Vec<GenTarget> = list.to_vec();
    if let Some(exp) = expected {
        let base = list[0].clone();
        let mut push = |t: GenTarget, code, what| {
            rows.push(t);
            exp.push(Expected {
                file: TARGETS,
                layer: "",
                row: rows.len() as u64,
                code,
                what,
            });
        };
        push(
            GenTarget {
                id: "BAD-VT1".into(),
                population: -20,
                ..base.clone()
            },
            "negative_quantity",
            "population -20",
        );
        push(
            GenTarget {
                id: "BAD-VT2".into(),
                lon_lat: Point::new(121.4737, 31.2304),
                ..base.clone()
            },
            "outside_study_area",
            "a point in Shanghai",
        );
        push(base.clone(), "duplicate_id", "first target repeated");
        push(
            GenTarget {
                id: "BAD-VT4".into(),
                name: String::new(),
                ..base.clone()
            },
            "missing_value",
            "name empty",
        );
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("targets");
    let tmp_dir = dir.join(format!(".{stem}.partial"));
    let _ = std::fs::remove_dir_all(&tmp_dir);
    std::fs::create_dir_all(&tmp_dir).map_err(io(&tmp_dir))?;
    let tmp = tmp_dir.join(format!("{stem}.shp"));
    let err = gdal_err(&tmp);
    {
        let driver = DriverManager::get_driver_by_name("ESRI Shapefile").map_err(&err)?;
        let mut ds = driver.create_vector_only(&tmp).map_err(&err)?;
        let srs = gdal::spatial_ref::SpatialRef::from_epsg(4326).map_err(&err)?;
        let layer = ds
            .create_layer(LayerOptions {
                name: stem,
                srs: Some(&srs),
                ty: gdal::vector::OGRwkbGeometryType::wkbPoint,
                options: Some(&["ENCODING=CP936"]),
            })
            .map_err(&err)?;
        for (name, ty, width) in [
            ("目标编号", OGRFieldType::OFTString, 16),
            ("目标名称", OGRFieldType::OFTString, 60),
            ("类型", OGRFieldType::OFTString, 16),
            ("人数", OGRFieldType::OFTInteger, 9),
        ] {
            let f = FieldDefn::new(name, ty).map_err(&err)?;
            f.set_width(width);
            f.add_to_layer(&layer).map_err(&err)?;
        }
        for t in &rows {
            let mut feat = gdal::vector::Feature::new(layer.defn()).map_err(&err)?;
            feat.set_geometry(t.lon_lat.to_gdal().map_err(&err)?)
                .map_err(&err)?;
            feat.set_field_string(0, &t.id).map_err(&err)?;
            if t.name.is_empty() {
                feat.set_field_null(1).map_err(&err)?;
            } else {
                feat.set_field_string(1, &t.name).map_err(&err)?;
            }
            feat.set_field_string(2, t.kind).map_err(&err)?;
            feat.set_field_integer(3, t.population as i32)
                .map_err(&err)?;
            feat.create(&layer).map_err(&err)?;
        }
        ds.close().map_err(&err)?;
    }
    let _ = std::fs::remove_file(tmp.with_extension("cpg"));
    let dbf = tmp.with_extension("dbf");
    let mut bytes = std::fs::read(&dbf).map_err(io(&dbf))?;
    // DBF header: bytes 1–3 are the last-update date (pinned for determinism),
    // byte 29 the language driver id (cleared: "unknown", like many GBK files).
    bytes[1] = (year - 1900).clamp(0, 255) as u8;
    bytes[2] = 12;
    bytes[3] = 31;
    bytes[29] = 0;
    std::fs::write(&dbf, &bytes).map_err(io(&dbf))?;
    for ext in ["shp", "shx", "dbf", "prj"] {
        let from = tmp.with_extension(ext);
        if from.exists() {
            std::fs::rename(&from, path.with_extension(ext)).map_err(io(&from))?;
        }
    }
    let _ = std::fs::remove_file(path.with_extension("cpg"));
    std::fs::remove_dir_all(&tmp_dir).map_err(io(&tmp_dir))
}

/// Writes the emergency resources as a UTF-8 CSV with WGS 84 coordinates,
/// with a few bad rows when `expected` is given.
fn write_resources(
    path: &Path,
    list: &[GenResource],
    expected: Option<&mut Vec<Expected>>,
) -> Result<(), WriteError> {
    atomic_write(path, |w| {
        w.write_all("\u{feff}资源编号,资源名称,资源类型,规模,值班电话,经度,纬度\n".as_bytes())?;
        let line = |r: &GenResource, kind: &str, lat: &str| {
            format!(
                "{},{},{},{},{},{:.6},{}\n",
                r.id,
                cell(&r.name),
                kind,
                r.capacity,
                r.phone,
                r.lon_lat.x(),
                lat
            )
        };
        for r in list {
            w.write_all(line(r, r.kind, &format!("{:.6}", r.lon_lat.y())).as_bytes())?;
        }
        let (Some(exp), Some(base)) = (expected, list.first()) else {
            return Ok(());
        };
        let lat = format!("{:.6}", base.lon_lat.y());
        let fresh = |n: u32| GenResource {
            id: format!("BAD-ER{n}"),
            ..base.clone()
        };
        let rows = [
            (
                line(&fresh(1), "直升机停机坪", &lat),
                "unknown_value",
                "kind 直升机停机坪",
            ),
            (
                line(&fresh(2), base.kind, ""),
                "missing_coordinate",
                "latitude empty",
            ),
            (
                line(base, base.kind, &lat),
                "duplicate_id",
                "first resource repeated",
            ),
        ];
        for (k, (text, code, what)) in rows.into_iter().enumerate() {
            exp.push(Expected {
                file: RESOURCES,
                layer: "",
                row: (list.len() + k + 2) as u64,
                code,
                what,
            });
            w.write_all(text.as_bytes())?;
        }
        Ok(())
    })
}

/// Writes GeoJSON features (their text) as one FeatureCollection, a feature a line.
fn write_features(path: &Path, features: &[String]) -> Result<(), WriteError> {
    atomic_write(path, |w| {
        w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
        w.write_all(features.join(",\n").as_bytes())?;
        w.write_all(b"\n]}\n")
    })
}

/// Writes the chemical parks as GeoJSON polygons.
fn write_parks(path: &Path, list: &[GenPark]) -> Result<(), WriteError> {
    let features: Vec<String> = list
        .iter()
        .map(|p| {
            let props = serde_json::json!({"园区代码": p.code, "园区名称": p.name, "园区级别": p.level});
            let ring: Vec<String> = p
                .ring
                .iter()
                .map(|c| format!("[{:.7},{:.7}]", c.x(), c.y()))
                .collect();
            format!(
                r#"{{"type":"Feature","properties":{props},"geometry":{{"type":"Polygon","coordinates":[[{}]]}}}}"#,
                ring.join(",")
            )
        })
        .collect();
    write_features(path, &features)
}

/// Copies the base layers found in `dir` (`<table>.geojson` for each table
/// of `[basemap]`, and `attribution.txt`) into `to`; returns the project
/// file's `[basemap]` for them, each table with the keys `layers.toml`
/// gives it, if any (`[built_up] max_scale = 500000`).
fn copy_basemap(dir: &Path, to: &Path) -> Result<String, WriteError> {
    std::fs::create_dir_all(to).map_err(io(to))?;
    let mut toml = String::from("\n[basemap]\n");
    let credit = dir.join(BASE_CREDIT);
    if credit.is_file() {
        let text = std::fs::read_to_string(&credit).map_err(io(&credit))?;
        atomic_write(&to.join(BASE_CREDIT), |w| w.write_all(text.as_bytes()))?;
        let quoted = toml::Value::String(text.trim().to_string());
        toml.push_str(&format!("attribution = {quoted}\n"));
    }
    let extra = base_layer_keys(dir, to)?;
    for layer in BASE_LAYERS {
        let file = format!("{layer}.geojson");
        let from = dir.join(&file);
        if !from.is_file() {
            continue;
        }
        let bytes = std::fs::read(&from).map_err(io(&from))?;
        atomic_write(&to.join(&file), |w| w.write_all(&bytes))?;
        toml.push_str(&format!(
            "\n[basemap.{layer}]\npath = \"{BASEMAP}/{file}\"\ncrs = \"wgs84\"\n"
        ));
        if let Some(toml::Value::Table(keys)) = extra.get(layer) {
            for (key, value) in keys {
                toml.push_str(&format!("{key} = {value}\n"));
            }
        }
    }
    Ok(toml)
}

/// The basemap folder's `layers.toml`: further keys for each layer's table
/// (empty when there is none); copied into `to`, so that a data set evolved
/// from this one keeps them.
fn base_layer_keys(dir: &Path, to: &Path) -> Result<toml::Table, WriteError> {
    let path = dir.join(BASE_KEYS);
    if !path.is_file() {
        return Ok(toml::Table::new());
    }
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    atomic_write(&to.join(BASE_KEYS), |w| w.write_all(text.as_bytes()))?;
    text.parse::<toml::Table>().map_err(|e| {
        io(&path)(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e.to_string(),
        ))
    })
}

/// The project file for the generated inputs, every mapping spelt out.
fn project_toml(year: i32, area_name: &str) -> String {
    format!(
        r#"# riskatlas project: synthetic example data for {area_name} (generated).
title = "{area_name}安全风险分布电子图"
area_name = "{area_name}"
year = {year}
data_date = "{year}-10-31"
source = "数据来源：{area_name}应急管理局安全生产监管数据（合成示例数据）"
metric_crs = "auto"
cell_size_m = 100.0

[inputs.admin_units]
path = "{BOUNDARIES}"
crs = "wgs84"
fields = {{ code = "adcode", name = "name", level = "level", parent = "parent" }}

[inputs.enterprises]
path = "{ENTERPRISES}"
crs = "gcj02"
x = "经度"
y = "纬度"
[inputs.enterprises.fields]
id = "统一社会信用代码"
name = "企业名称"
industry = "行业类别"
address = "地址"
grade = "风险等级"
people_500m = "周边500米人数"

[inputs.hazard_units]
path = "{HAZARDS}"
layer = "{UNITS_SHEET}"
crs = "wgs84"
x = "经度"
y = "纬度"
[inputs.hazard_units.fields]
id = "单元编号"
enterprise_id = "企业编号"
name = "单元名称"
kind = "单元类型"
radius_m = "影响半径(米)"
people_500m = "周边500米人数"

[inputs.chemicals]
path = "{HAZARDS}"
layer = "{CHEMICALS_SHEET}"
[inputs.chemicals.fields]
unit_id = "单元编号"
name = "化学品名称"
cas = "CAS号"
category = "危险性类别"
quantity_t = "设计最大量(吨)"

[inputs.hidden_dangers]
path = "{DANGERS}"
crs = "wgs84"
[inputs.hidden_dangers.fields]
id = "隐患编号"
enterprise_id = "企业编号"
description = "隐患描述"
level = "隐患级别"
status = "整改状态"
found_date = "发现日期"
due_date = "整改期限"

[inputs.vulnerable_targets]
path = "{TARGETS}"
crs = "wgs84"
encoding = "CP936"
[inputs.vulnerable_targets.fields]
id = "目标编号"
name = "目标名称"
kind = "类型"
population = "人数"

[inputs.emergency_resources]
path = "{RESOURCES}"
crs = "wgs84"
x = "经度"
y = "纬度"
[inputs.emergency_resources.fields]
id = "资源编号"
name = "资源名称"
kind = "资源类型"
capacity = "规模"
phone = "值班电话"

[inputs.parks]
path = "{PARKS}"
crs = "wgs84"
[inputs.parks.fields]
code = "园区代码"
name = "园区名称"
level = "园区级别"
"#
    )
}

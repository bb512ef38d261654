//! The maps stage: the PNG maps — the city map, the district atlas and the
//! enterprise maps — from the records, the analysis and the grid.
//!
//! [`map_data`] turns the results into what the maps show, in metric
//! coordinates; [`render`] draws the pages (furniture, legends, the three
//! kinds of map) with styles from `styles/`.

use std::path::{Path, PathBuf};

use geo::Point;

use crate::analysis::aggregate;
use crate::analysis::exposure::Source;
use crate::analysis::grid::GridOutcome;
use crate::analysis::parks::ParkFindings;
use crate::analysis::Analysis;
use crate::crs::MetricCrs;
use crate::ingest::config::InputKind;
use crate::ingest::config::Project;
use crate::ingest::Loaded;
use crate::model::ChemicalPark;
use crate::model::ResourceKind;
use crate::model::{
    AdminLevel, AdminRef, DangerLevel, Date, Grade, Graded, HazardUnit, HiddenDanger,
};
use crate::output::Results;
use crate::progress::Timings;
use render::base::{BaseArea, BaseLine, BaseMap, BasePlace, TileLayer};
use render::coverage::{CoverageData, MapPlace, MapResource};
use render::dangers::MapDanger;
use render::parks::MapPark;
use render::RenderError;

pub mod compare;
pub mod render;

/// Renders the maps when the project asks for them; returns the files.
pub fn render_maps(
    r: Results,
    codes: Vec<u8>,
    out_dir: &Path,
    timings: &mut Timings,
) -> Result<Vec<PathBuf>, RenderError> {
    let m = &r.project.maps;
    if !m.enabled {
        return Ok(Vec::new());
    }
    let data = timings.stage("prepare_maps", || {
        map_data(r.project, r.loaded, r.analysis, r.grid, codes)
    });
    let opts = map_options(m);
    timings.stage("render_maps", || {
        render::render_all(&data, &opts, &out_dir.join("maps"))
    })
}

/// The renderer's options from the project's `[maps]`.
pub fn map_options(m: &crate::ingest::config::Maps) -> render::MapOptions {
    render::MapOptions {
        width_mm: m.width_mm,
        height_mm: m.height_mm,
        dpi: m.dpi,
        font: m.font.clone(),
        enterprise_maps: match m.enterprise_maps {
            Some(true) => render::EnterpriseMaps::Always,
            Some(false) => render::EnterpriseMaps::Never,
            None => render::EnterpriseMaps::Auto,
        },
        all_enterprises: m.all_enterprises,
        pdf: m.pdf,
    }
}

/// What the maps show, in metric coordinates.
pub fn map_data(
    project: &Project,
    loaded: &Loaded<Graded>,
    analysis: &Analysis,
    grid: &GridOutcome,
    codes: Vec<u8>,
) -> render::MapData {
    let units = MapUnits {
        project,
        loaded,
        grid,
    };
    let metric = loaded.index.metric();
    let xy = |p: Point<f64>| {
        let (x, y) = metric.project(p.x(), p.y());
        [x, y]
    };
    let mut data = render::MapData {
        area_name: project.area_name.clone().unwrap_or_default(),
        year: project.year,
        data_date: project.as_of.to_string(),
        source: project.source_line(),
        city: units.of_level(AdminLevel::City).into_iter().next(),
        // The atlas is by district (else by the finest level); towns, where
        // given, are drawn inside.
        units: match units.of_level(AdminLevel::District) {
            districts if districts.is_empty() => units.of_level(loaded.index.finest_level()),
            districts => districts,
        },
        towns: units.of_level(AdminLevel::Town),
        enterprises: loaded
            .enterprises
            .iter()
            .map(|e| enterprise_point(e, xy(e.lon_lat)))
            .collect(),
        hazards: loaded
            .hazard_units
            .iter()
            .zip(&analysis.sources)
            .map(|(u, s)| hazard_point(u, s))
            .collect(),
        targets: loaded
            .targets
            .iter()
            .map(|t| render::MapTarget {
                xy: xy(t.lon_lat),
                kind: t.kind.clone(),
                name: t.name.clone(),
            })
            .collect(),
        dangers: loaded
            .hidden_dangers
            .iter()
            .map(|d| danger_point(d, xy(d.lon_lat), loaded, project.as_of))
            .collect(),
        parks: loaded
            .parks
            .iter()
            .zip(&analysis.parks)
            .map(|(p, f)| park_shape(p, f, metric))
            .collect(),
        park_around_m: project.parks.around_m,
        coverage: project
            .inputs
            .contains_key(&InputKind::EmergencyResources)
            .then(|| coverage_data(project, loaded, analysis, xy)),
        grid: render::GradeGrid {
            spec: grid.spec,
            codes,
        },
        grid_thresholds: project.exposure.thresholds,
        base: BaseMap::default(),
        epsg: metric.epsg,
        exposure: None,
        inset_units: Default::default(),
    };
    data.base = base_map(project, loaded, metric, &study_area(&data));
    // The enterprise maps draw E exactly from its sources.
    if render::makes_enterprise_maps(&data.enterprises, &map_options(&project.maps)) {
        data.exposure = Some(render::ExposureField {
            sources: analysis.sources.clone(),
            kernel: project.exposure.kernel,
            mode: project.exposure.mode,
        });
    }
    data
}

/// The whole mapped area, metric: the city, else its units together.
fn study_area(data: &render::MapData) -> geo::MultiPolygon<f64> {
    match &data.city {
        Some(c) => c.boundary.clone(),
        None => geo::unary_union(data.units.iter().map(|u| &u.boundary)),
    }
}

/// The base layers in the metric CRS, places most important first; the
/// surrounding units less the `study` area, so they only ever lie beyond it.
fn base_map(
    project: &Project,
    loaded: &Loaded<Graded>,
    metric: &MetricCrs,
    study: &geo::MultiPolygon<f64>,
) -> BaseMap {
    use geo::Geometry as G;
    let mut base = BaseMap {
        attribution: project.basemap_attribution.clone(),
        tiles: loaded
            .tiles
            .clone()
            .zip(project.basemap_tiles.as_ref())
            .map(|(source, (_, crs))| TileLayer {
                source,
                crs: *crs,
                metric: metric.clone(),
            }),
        max_scale: project
            .inputs
            .iter()
            .filter_map(|(kind, spec)| spec.max_scale.map(|n| (*kind, n)))
            .collect(),
        ..BaseMap::default()
    };
    for (kind, features) in &loaded.basemap {
        for f in features {
            let class = f.class.as_deref().unwrap_or("");
            let lines = |g: &G<f64>| -> Vec<geo::LineString<f64>> {
                match g {
                    G::LineString(l) => vec![metric.to_metric(l)],
                    G::MultiLineString(m) => metric.to_metric(m).0,
                    _ => Vec::new(),
                }
            };
            let area = match &f.geometry {
                G::Polygon(p) => Some(metric.to_metric(&geo::MultiPolygon(vec![p.clone()]))),
                G::MultiPolygon(m) => Some(metric.to_metric(m)),
                _ => None,
            };
            match kind {
                InputKind::BaseSurroundings => {
                    let beyond = area.map(|a| geo::BooleanOps::difference(&a, study));
                    base.surroundings
                        .extend(beyond.filter(|a| !a.0.is_empty()).map(|area| BaseArea {
                            name: f.name.clone(),
                            area,
                        }));
                }
                InputKind::BaseBuiltUp => base.built_up.extend(area),
                InputKind::BaseWater => {
                    base.water_areas.extend(area);
                    let major = is_canal(class);
                    base.water_lines.extend(
                        lines(&f.geometry)
                            .into_iter()
                            .map(|line| BaseLine { line, major }),
                    );
                }
                InputKind::BaseRailways => base.railways.extend(lines(&f.geometry)),
                InputKind::BaseRoads => {
                    let major = is_major_road(class);
                    base.roads.extend(
                        lines(&f.geometry)
                            .into_iter()
                            .map(|line| BaseLine { line, major }),
                    );
                }
                InputKind::BasePlaces => {
                    if let (G::Point(p), Some(name)) = (&f.geometry, &f.name) {
                        let (x, y) = metric.project(p.x(), p.y());
                        base.places.push(BasePlace {
                            xy: [x, y],
                            name: name.clone(),
                            rank: place_rank(class, name),
                            population: f.population.unwrap_or(0.0),
                        });
                    }
                }
                _ => {}
            }
        }
    }
    base.places.sort_by(|a, b| {
        (a.rank, b.population, &a.name)
            .partial_cmp(&(b.rank, a.population, &b.name))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    base
}

/// A canal, drawn wider than a river: 运河, or OpenStreetMap's `canal`.
fn is_canal(class: &str) -> bool {
    class.contains("运河") || class.eq_ignore_ascii_case("canal")
}

/// A road drawn wider at district scale: 高速公路, 国道, 省道 (or 快速路),
/// or OpenStreetMap's motorway, trunk and primary.
fn is_major_road(class: &str) -> bool {
    const MAJOR: [&str; 7] = [
        "高速",
        "国道",
        "省道",
        "快速路",
        "motorway",
        "trunk",
        "primary",
    ];
    MAJOR.iter().any(|m| class.starts_with(m))
}

/// How important a place is by its class: 0 a city (地级市, 省会, GeoNames'
/// PPLC/PPLA/PPLA2, OpenStreetMap's `city`), 1 a county-level seat (县级市,
/// 区, 县, PPLA3, `town`), 2 anything smaller — and any 街道, 镇 or 乡 by its
/// name, whatever its class (GeoNames files many 街道 as PPLA3).
fn place_rank(class: &str, name: &str) -> u8 {
    if ["街道", "镇", "乡"].iter().any(|s| name.ends_with(s)) {
        return 2;
    }
    match class {
        "省会" | "地级市" | "城市" | "PPLC" | "PPLA" | "PPLA2" | "city" => 0,
        "县级市" | "区" | "县" | "PPLA3" | "town" => 1,
        _ => 2,
    }
}

/// A park as its map draws it, with the lines of its findings box.
fn park_shape(p: &ChemicalPark, f: &ParkFindings, metric: &MetricCrs) -> MapPark {
    let [red, orange, yellow, blue] = f.cells.shares().map(|s| s * 100.0);
    let majors: u64 = f.major_hazards.iter().sum();
    MapPark {
        code: p.code.clone(),
        name: p.name.clone(),
        boundary: metric.to_metric(&p.boundary),
        grade: f.grade,
        lines: vec![
            format!("园区风险等级：{}", crate::styles::label(f.grade)),
            format!(
                "面积 {:.2} 平方公里；{} 家企业",
                f.area_km2,
                f.enterprises_by_grade.iter().sum::<u64>()
            ),
            format!("重大危险源 {majors} 处，R值合计 {:.2}", f.r_sum),
            format!(
                "园区内人数 {}，周边人数 {}",
                f.population_inside, f.population_around
            ),
            format!("网格占比 红 {red:.1}% 橙 {orange:.1}% 黄 {yellow:.1}% 蓝 {blue:.1}%"),
        ],
    }
}

/// The resources and the places' coverage as the coverage maps draw them.
fn coverage_data(
    project: &Project,
    loaded: &Loaded<Graded>,
    analysis: &Analysis,
    xy: impl Fn(Point<f64>) -> [f64; 2],
) -> CoverageData {
    let c = &project.coverage;
    let route = c.within_m.get(ResourceKind::FireStation);
    CoverageData {
        resources: loaded
            .resources
            .iter()
            .map(|r| MapResource {
                xy: xy(r.lon_lat),
                kind: r.kind,
                unit: finest_code(&r.admin),
            })
            .collect(),
        places: analysis
            .coverage
            .places
            .iter()
            .map(|p| MapPlace {
                xy: xy(p.lon_lat),
                covered: p.covered,
                unit: finest_code(&p.admin),
            })
            .collect(),
        fire_reach_m: route / c.detour_factor,
        fire_route_m: route,
    }
}

/// A hidden danger as a map symbol at `xy` (metric), with what the table
/// of overdue ones says of it.
fn danger_point(d: &HiddenDanger, xy: [f64; 2], loaded: &Loaded<Graded>, as_of: Date) -> MapDanger {
    MapDanger {
        id: d.id.clone(),
        xy,
        major: d.level == DangerLevel::Major,
        status: d.status,
        overdue: d.overdue,
        unit: finest_code(&d.admin),
        district: d
            .admin
            .district_name
            .clone()
            .or_else(|| d.admin.town_name.clone())
            .unwrap_or_default(),
        enterprise: d
            .enterprise_id
            .as_deref()
            .and_then(|e| loaded.enterprises.get(e))
            .map(|e| e.name().to_string())
            .unwrap_or_default(),
        due: d.due.map(|x| x.to_string()).unwrap_or_default(),
        days_overdue: match (d.overdue, d.due) {
            (true, Some(due)) => as_of.days_since(due),
            _ => 0,
        },
    }
}

/// The units as the maps draw them: metric outlines and area grades.
struct MapUnits<'a> {
    project: &'a Project,
    loaded: &'a Loaded<Graded>,
    grid: &'a GridOutcome,
}

impl MapUnits<'_> {
    /// Every unit of `level`, by code.
    fn of_level(&self, level: AdminLevel) -> Vec<render::MapUnit> {
        let index = &self.loaded.index;
        index
            .units()
            .iter()
            .filter(|u| u.level == level)
            .map(|u| render::MapUnit {
                code: u.code.clone(),
                name: u.name.clone(),
                boundary: index.metric().to_metric(&u.boundary),
                grade: self
                    .grid
                    .unit_cells
                    .get(&u.code)
                    .map(|c| aggregate::unit_grade(c, &self.project.exposure).0),
            })
            .collect()
    }
}

/// The code of the unit a record is drawn in: its district, else its town.
fn finest_code(a: &AdminRef) -> Option<String> {
    a.district_code.clone().or_else(|| a.town_code.clone())
}

/// An enterprise as a map point at `xy` (metric); only red and orange ones
/// carry their reasons, which only the enterprise maps show.
fn enterprise_point(e: &Graded, xy: [f64; 2]) -> render::MapPoint {
    let grade = e.grade();
    render::MapPoint {
        id: e.id().to_string(),
        xy,
        grade,
        name: e.name().to_string(),
        unit: finest_code(&e.admin),
        reasons: if grade >= Grade::Orange {
            e.rating.reason_text()
        } else {
            String::new()
        },
    }
}

/// A hazard unit as a map symbol, at its grid source's place and radius.
fn hazard_point(u: &HazardUnit, s: &Source) -> render::MapHazard {
    let a = u.assessment.as_ref();
    render::MapHazard {
        id: u.id.clone(),
        enterprise: u.enterprise_id.clone(),
        xy: s.xy,
        radius_m: s.radius_m,
        unit: finest_code(&u.admin),
        s: a.map_or(0.0, |a| a.s),
        r: a.map_or(0.0, |a| a.r),
        grade: u.major_grade(),
    }
}

//! The project file (TOML): what the inputs are, how their columns map to our
//! fields, their CRS and encoding, and the run's options.
//!
//! Parsing is separate from reading the file so tests can feed text. The result
//! is one validated, read-only [`Project`] that every stage borrows. Unknown
//! keys are errors that name the key: a misspelt option must never be ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::crs::{CrsError, InputCrs};
use crate::model::{Date, Grade, ResourceKind};

/// Why a project file could not be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The project file could not be read.
    #[error("{path}: cannot read the project file: {source}")]
    Read {
        /// The project file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is not valid TOML, or has an unknown or missing key or a value of the wrong type.
    #[error("{path}: {message}")]
    Syntax {
        /// The project file.
        path: PathBuf,
        /// The TOML parser's message, on one line.
        message: String,
    },
    /// One `[inputs.…]` or `[basemap.…]` table is invalid.
    #[error("{path}: {input} {message}")]
    Input {
        /// The project file.
        path: PathBuf,
        /// The input's table, e.g. `[inputs.enterprises]`.
        input: String,
        /// What is wrong with it.
        message: String,
    },
    /// A value is out of range, or the inputs do not fit together.
    #[error("{path}: {message}")]
    Invalid {
        /// The project file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// The kinds of input a project can name, each with its logical fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InputKind {
    /// `admin_units`: administrative units with their boundaries and hierarchy.
    AdminUnits,
    /// `enterprises`: the supervised enterprises (生产经营单位).
    Enterprises,
    /// `hazard_units`: hazard units (危险化学品单元) of the enterprises.
    HazardUnits,
    /// `chemicals`: the hazard units' inventory lines; no location of their own.
    Chemicals,
    /// `hidden_dangers`: hidden dangers (事故隐患) found by inspection.
    HiddenDangers,
    /// `vulnerable_targets`: schools, hospitals, residential areas and the like (脆弱性目标).
    VulnerableTargets,
    /// `emergency_resources`: rescue teams, fire stations, depots, hospitals, shelters (应急资源).
    EmergencyResources,
    /// `parks`: chemical parks (化工园区) as polygons.
    Parks,
    /// `roads`: the road network the emergency resources' coverage routes over.
    Roads,
    /// `[basemap.surroundings]`: the units around the study area (the
    /// province's cities, the neighbouring counties), for the inset and the
    /// land beyond the study area.
    BaseSurroundings,
    /// `[basemap.built_up]`: built-up areas, drawn under the risk data.
    BaseBuiltUp,
    /// `[basemap.water]`: lakes and rivers (polygons or lines).
    BaseWater,
    /// `[basemap.railways]`: railways.
    BaseRailways,
    /// `[basemap.roads]`: roads.
    BaseRoads,
    /// `[basemap.places]`: place names (points).
    BasePlaces,
}

impl InputKind {
    /// The base layers, under `[basemap]`, in drawing order.
    pub const BASEMAP: [InputKind; 6] = [
        InputKind::BaseSurroundings,
        InputKind::BaseBuiltUp,
        InputKind::BaseWater,
        InputKind::BaseRailways,
        InputKind::BaseRoads,
        InputKind::BasePlaces,
    ];

    /// The `[inputs]`, in the order the pipeline reads them: each may refer
    /// to the ones before.
    pub const ALL: [InputKind; 9] = [
        InputKind::AdminUnits,
        InputKind::Enterprises,
        InputKind::HazardUnits,
        InputKind::Chemicals,
        InputKind::HiddenDangers,
        InputKind::VulnerableTargets,
        InputKind::EmergencyResources,
        InputKind::Parks,
        InputKind::Roads,
    ];

    /// The key under `[inputs]`.
    pub fn key(self) -> &'static str {
        match self {
            InputKind::AdminUnits => "admin_units",
            InputKind::Enterprises => "enterprises",
            InputKind::HazardUnits => "hazard_units",
            InputKind::Chemicals => "chemicals",
            InputKind::HiddenDangers => "hidden_dangers",
            InputKind::VulnerableTargets => "vulnerable_targets",
            InputKind::EmergencyResources => "emergency_resources",
            InputKind::Parks => "parks",
            InputKind::Roads => "roads",
            InputKind::BaseSurroundings => "basemap_surroundings",
            InputKind::BaseBuiltUp => "basemap_built_up",
            InputKind::BaseWater => "basemap_water",
            InputKind::BaseRailways => "basemap_railways",
            InputKind::BaseRoads => "basemap_roads",
            InputKind::BasePlaces => "basemap_places",
        }
    }

    /// Whether this is a base layer (`[basemap.…]`).
    pub fn is_base(self) -> bool {
        InputKind::BASEMAP.contains(&self)
    }

    /// The project file's table for this input: `[inputs.enterprises]`,
    /// `[basemap.roads]`.
    pub fn table(self) -> &'static str {
        match self {
            InputKind::AdminUnits => "[inputs.admin_units]",
            InputKind::Enterprises => "[inputs.enterprises]",
            InputKind::HazardUnits => "[inputs.hazard_units]",
            InputKind::Chemicals => "[inputs.chemicals]",
            InputKind::HiddenDangers => "[inputs.hidden_dangers]",
            InputKind::VulnerableTargets => "[inputs.vulnerable_targets]",
            InputKind::EmergencyResources => "[inputs.emergency_resources]",
            InputKind::Parks => "[inputs.parks]",
            InputKind::Roads => "[inputs.roads]",
            InputKind::BaseSurroundings => "[basemap.surroundings]",
            InputKind::BaseBuiltUp => "[basemap.built_up]",
            InputKind::BaseWater => "[basemap.water]",
            InputKind::BaseRailways => "[basemap.railways]",
            InputKind::BaseRoads => "[basemap.roads]",
            InputKind::BasePlaces => "[basemap.places]",
        }
    }

    /// Logical fields and whether each is required.
    pub fn fields(self) -> &'static [(&'static str, bool)] {
        match self {
            InputKind::AdminUnits => &[
                ("code", true),
                ("name", true),
                ("level", true),
                ("parent", false),
            ],
            InputKind::Enterprises => &[
                ("id", true),
                ("name", true),
                ("industry", false),
                ("address", false),
                ("grade", false),
                ("people_500m", false),
            ],
            InputKind::HazardUnits => &[
                ("id", true),
                ("enterprise_id", true),
                ("name", true),
                ("kind", true),
                ("radius_m", false),
                ("people_500m", false),
            ],
            InputKind::Chemicals => &[
                ("unit_id", true),
                ("name", true),
                ("cas", false),
                ("category", false),
                ("quantity_t", true),
            ],
            InputKind::HiddenDangers => &[
                ("id", true),
                ("enterprise_id", false),
                ("description", true),
                ("level", true),
                ("status", true),
                ("found_date", false),
                ("due_date", false),
            ],
            InputKind::VulnerableTargets => &[
                ("id", true),
                ("name", true),
                ("kind", true),
                ("population", false),
            ],
            InputKind::EmergencyResources => &[
                ("id", true),
                ("name", true),
                ("kind", true),
                ("capacity", false),
                ("phone", false),
            ],
            InputKind::Parks => &[("code", true), ("name", true), ("level", false)],
            InputKind::Roads => &[("id", false)],
            InputKind::BaseSurroundings
            | InputKind::BaseBuiltUp
            | InputKind::BaseWater
            | InputKind::BaseRailways
            | InputKind::BaseRoads => &[("name", false), ("class", false)],
            InputKind::BasePlaces => &[("name", true), ("class", false), ("population", false)],
        }
    }

    /// The field that names a record in messages.
    pub fn id_field(self) -> &'static str {
        match self {
            InputKind::AdminUnits | InputKind::Parks => "code",
            InputKind::Chemicals => "unit_id",
            k if k.is_base() => "name",
            _ => "id",
        }
    }

    /// Whether `id_field` must be unique (inventory lines share their unit's
    /// id).
    /// Roads may repeat an id (a road split in parts), base layers a name.
    pub fn unique_ids(self) -> bool {
        !matches!(self, InputKind::Chemicals | InputKind::Roads) && !self.is_base()
    }

    /// Whether records of this kind have a location (all but the chemicals table).
    pub fn has_location(self) -> bool {
        !matches!(self, InputKind::Chemicals)
    }

    /// Whether the project must name this input.
    pub fn required(self) -> bool {
        matches!(self, InputKind::AdminUnits | InputKind::Enterprises)
    }
}

/// One input as written in the project file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    path: PathBuf,
    layer: Option<String>,
    crs: Option<String>,
    encoding: Option<String>,
    x: Option<String>,
    y: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    max_scale: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    title: Option<String>,
    area_name: Option<String>,
    year: i32,
    data_date: Option<String>,
    source: Option<String>,
    #[serde(default = "default_metric_crs")]
    metric_crs: String,
    #[serde(default = "default_cell_size")]
    cell_size_m: f64,
    inputs: BTreeMap<String, RawInput>,
    #[serde(default)]
    grading: Grading,
    #[serde(default)]
    exposure: Exposure,
    #[serde(default)]
    maps: Maps,
    #[serde(default)]
    web: Web,
    #[serde(default)]
    coverage: Coverage,
    #[serde(default)]
    parks: Parks,
    compare: Option<RawCompare>,
    #[serde(default)]
    basemap: RawBasemap,
}

/// `[basemap]`: the base layers drawn under the risk data, each an input
/// table like `[inputs.…]`, and the credit line they need on the maps.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBasemap {
    attribution: Option<String>,
    tiles: Option<PathBuf>,
    tiles_crs: Option<String>,
    surroundings: Option<RawInput>,
    built_up: Option<RawInput>,
    water: Option<RawInput>,
    railways: Option<RawInput>,
    roads: Option<RawInput>,
    places: Option<RawInput>,
}

impl RawBasemap {
    /// The layers given, with their kinds.
    fn layers(&self) -> impl Iterator<Item = (InputKind, &RawInput)> {
        [
            (InputKind::BaseSurroundings, &self.surroundings),
            (InputKind::BaseBuiltUp, &self.built_up),
            (InputKind::BaseWater, &self.water),
            (InputKind::BaseRailways, &self.railways),
            (InputKind::BaseRoads, &self.roads),
            (InputKind::BasePlaces, &self.places),
        ]
        .into_iter()
        .filter_map(|(k, r)| r.as_ref().map(|r| (k, r)))
    }
}

/// `[compare]`: the run to compare this one with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCompare {
    previous: PathBuf,
}

/// Rendered maps.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Maps {
    /// Whether `run` renders the PNG maps.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Whether to render a map per red and orange enterprise: `true`,
    /// `false`, or (not given) only when there are at most
    /// `MAX_AUTO_ENTERPRISE_MAPS` of them — a province has tens of thousands.
    pub enterprise_maps: Option<bool>,
    /// A map for every enterprise, not only red and orange ones.
    #[serde(default)]
    pub all_enterprises: bool,
    /// Page width in millimetres (297, A4 landscape, when not given).
    #[serde(default = "a4_width")]
    pub width_mm: f64,
    /// Page height in millimetres (210, A4 landscape, when not given).
    #[serde(default = "a4_height")]
    pub height_mm: f64,
    /// Resolution of the PNG maps in dots per inch (150 when not given).
    #[serde(default = "default_dpi")]
    pub dpi: f64,
    /// A .ttf/.otf/.ttc font with Chinese glyphs (relative to the project
    /// file); Noto Sans CJK SC from fonts-noto-cjk when not given.
    pub font: Option<PathBuf>,
    /// Whether each map is also written as a vector PDF for print.
    #[serde(default = "yes")]
    pub pdf: bool,
}

/// The coordinates of the web map: WGS 84, or the offset systems of the
/// Chinese basemaps (AMap and Tencent: GCJ-02; Baidu: BD-09).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebCrs {
    /// WGS 84 (天地图, OpenStreetMap, no basemap).
    #[default]
    Wgs84,
    /// GCJ-02, for AMap (高德) and Tencent basemaps.
    Gcj02,
    /// BD-09, for Baidu basemaps.
    Bd09,
}

impl WebCrs {
    /// The name as the project file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            WebCrs::Wgs84 => "wgs84",
            WebCrs::Gcj02 => "gcj02",
            WebCrs::Bd09 => "bd09",
        }
    }
}

/// A raster basemap under the web map: an XYZ tile template.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Basemap {
    /// The tile URL with `{z}`, `{x}` and `{y}` (and the user's token, e.g.
    /// 天地图's `tk=`).
    pub tiles: String,
    /// The credit line shown on the map.
    #[serde(default)]
    pub attribution: String,
    /// Tile size in pixels (256 when not given).
    #[serde(default = "default_tile_size")]
    pub tile_size: u32,
    /// The basemap's highest zoom (18 when not given).
    #[serde(default = "default_basemap_zoom")]
    pub max_zoom: u8,
}

fn default_tile_size() -> u32 {
    256
}

fn default_basemap_zoom() -> u8 {
    18
}

/// The web deliverable: vector tiles, a MapLibre style and an offline viewer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Web {
    /// Whether `run` writes the `web/` folder.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The coordinates of the tiles, to line up with the basemap.
    #[serde(default)]
    pub crs: WebCrs,
    /// A raster basemap; none when not given (the viewer then works offline).
    #[serde(default)]
    pub basemap: Option<Basemap>,
}

impl Default for Web {
    fn default() -> Self {
        Web {
            enabled: true,
            crs: WebCrs::Wgs84,
            basemap: None,
        }
    }
}

/// `[coverage]`: how far each kind of emergency resource may be from a
/// high-risk place (a red or orange enterprise, a major hazard source) for
/// the place to count as covered by it. Policy defaults, not a standard.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    /// Route distance over straight-line distance, for want of a road
    /// network (1.3: typical of Chinese cities' road networks).
    #[serde(default = "default_detour")]
    pub detour_factor: f64,
    /// The farthest each kind may be, by route, in metres.
    #[serde(default)]
    pub within_m: CoverageDistances,
    /// The kinds a place must have within reach to be covered; not given:
    /// every kind the resources input holds.
    #[serde(default)]
    pub required: Option<Vec<ResourceKind>>,
}

impl Default for Coverage {
    fn default() -> Self {
        Coverage {
            detour_factor: default_detour(),
            within_m: CoverageDistances::default(),
            required: None,
        }
    }
}

fn default_detour() -> f64 {
    1.3
}

/// `[coverage.within_m]`: the reach of each kind of resource, in metres by route.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageDistances {
    /// Rescue teams (救援队伍): 10 km.
    #[serde(default = "ten_km")]
    pub rescue_team: f64,
    /// Fire and rescue stations (消防救援站): 5 km.
    #[serde(default = "five_km")]
    pub fire_station: f64,
    /// Material depots (应急物资储备库): 20 km.
    #[serde(default = "twenty_km")]
    pub material_depot: f64,
    /// Hospitals (医院): 10 km.
    #[serde(default = "ten_km")]
    pub hospital: f64,
    /// Shelters (避难场所): 3 km.
    #[serde(default = "three_km")]
    pub shelter: f64,
}

impl CoverageDistances {
    /// The reach of `kind`, in metres by route.
    pub fn get(&self, kind: ResourceKind) -> f64 {
        match kind {
            ResourceKind::RescueTeam => self.rescue_team,
            ResourceKind::FireStation => self.fire_station,
            ResourceKind::MaterialDepot => self.material_depot,
            ResourceKind::Hospital => self.hospital,
            ResourceKind::Shelter => self.shelter,
        }
    }
}

impl Default for CoverageDistances {
    fn default() -> Self {
        CoverageDistances {
            rescue_team: ten_km(),
            fire_station: five_km(),
            material_depot: twenty_km(),
            hospital: ten_km(),
            shelter: three_km(),
        }
    }
}

fn three_km() -> f64 {
    3000.0
}

fn five_km() -> f64 {
    5000.0
}

fn ten_km() -> f64 {
    10_000.0
}

fn twenty_km() -> f64 {
    20_000.0
}

/// The coverage settings make sense: a detour factor of at least 1 and
/// positive distances.
fn validate_coverage(c: &Coverage) -> Result<(), String> {
    if c.required.as_ref().is_some_and(|r| r.is_empty()) {
        return Err("coverage.required is empty: name at least one kind, or leave it out for every kind the input holds".into());
    }
    if !(c.detour_factor.is_finite() && c.detour_factor >= 1.0) {
        return Err(format!(
            "coverage.detour_factor must be a number of at least 1 (route over straight-line distance), got {}",
            c.detour_factor
        ));
    }
    for kind in ResourceKind::ALL {
        let m = c.within_m.get(kind);
        if !(m.is_finite() && m > 0.0) {
            return Err(format!(
                "coverage.within_m.{} must be a positive number of metres, got {m}",
                kind.as_str()
            ));
        }
    }
    Ok(())
}

/// `[parks]`: how a chemical park is assessed. The R thresholds echo GB
/// 18218's grades applied to the park's total; policy, not a standard.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parks {
    /// The ring around a park whose targets' people count as around it, metres.
    #[serde(default = "park_ring")]
    pub around_m: f64,
    /// Σ R of the park's major hazard sources from which it is red.
    #[serde(default = "r_red")]
    pub r_sum_red: f64,
    /// … orange.
    #[serde(default = "r_orange")]
    pub r_sum_orange: f64,
    /// … yellow.
    #[serde(default = "r_yellow")]
    pub r_sum_yellow: f64,
}

impl Default for Parks {
    fn default() -> Self {
        Parks {
            around_m: park_ring(),
            r_sum_red: r_red(),
            r_sum_orange: r_orange(),
            r_sum_yellow: r_yellow(),
        }
    }
}

fn park_ring() -> f64 {
    1000.0
}

fn r_red() -> f64 {
    100.0
}

fn r_orange() -> f64 {
    50.0
}

fn r_yellow() -> f64 {
    10.0
}

/// The park settings make sense: a non-negative ring and R thresholds that
/// fall from red to yellow.
fn validate_parks(p: &Parks) -> Result<(), String> {
    if !(p.around_m.is_finite() && p.around_m >= 0.0) {
        return Err(format!(
            "parks.around_m must be a number of metres, at least 0, got {}",
            p.around_m
        ));
    }
    if !(p.r_sum_red >= p.r_sum_orange && p.r_sum_orange >= p.r_sum_yellow && p.r_sum_yellow > 0.0)
    {
        return Err(format!(
            "parks: r_sum_red ≥ r_sum_orange ≥ r_sum_yellow > 0 is needed, got {}, {}, {}",
            p.r_sum_red, p.r_sum_orange, p.r_sum_yellow
        ));
    }
    Ok(())
}

/// Above this many enterprise maps, they are made only when asked for.
pub const MAX_AUTO_ENTERPRISE_MAPS: usize = 1000;

fn a4_width() -> f64 {
    297.0
}

fn a4_height() -> f64 {
    210.0
}

fn default_dpi() -> f64 {
    150.0
}

impl Default for Maps {
    fn default() -> Self {
        Maps {
            enabled: true,
            enterprise_maps: None,
            all_enterprises: false,
            width_mm: a4_width(),
            height_mm: a4_height(),
            dpi: default_dpi(),
            font: None,
            pdf: true,
        }
    }
}

/// What raises an enterprise's grade.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The enterprise has a major hazard source of one of `hazard_grades`.
    MajorHazard,
    /// The enterprise has an open (not rectified) major hidden danger.
    OpenMajorDanger,
}

/// One grading rule: when its condition holds, the enterprise's grade is
/// raised to at least `raise_to`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Machine code recorded in `grade_reason`.
    pub id: String,
    /// The condition that fires the rule.
    pub when: Condition,
    /// Major-hazard grades (1–4) that fire a `major_hazard` rule.
    #[serde(default)]
    pub hazard_grades: Vec<u8>,
    /// The lowest grade an enterprise has once the rule fires.
    pub raise_to: Grade,
    /// Whether the rule is applied (`true` when not given).
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// Enterprise grading policy (not national standard: see the README).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grading {
    /// Grade of an enterprise with no assessed grade that no rule raises.
    #[serde(default = "blue")]
    pub unassessed: Grade,
    /// The rules, in order; the defaults when not given.
    #[serde(default = "default_rules")]
    pub rules: Vec<Rule>,
}

fn blue() -> Grade {
    Grade::Blue
}

impl Default for Grading {
    fn default() -> Self {
        Grading {
            unassessed: Grade::Blue,
            rules: default_rules(),
        }
    }
}

/// The default rules: grade 1–2 major hazard → red, grade 3 → orange,
/// grade 4 → yellow, open major hidden danger → red.
pub fn default_rules() -> Vec<Rule> {
    let rule = |id: &str, when: Condition, grades: &[u8], raise_to| Rule {
        id: id.to_string(),
        when,
        hazard_grades: grades.to_vec(),
        raise_to,
        enabled: true,
    };
    vec![
        rule(
            "major_hazard_1_2",
            Condition::MajorHazard,
            &[1, 2],
            Grade::Red,
        ),
        rule(
            "major_hazard_3",
            Condition::MajorHazard,
            &[3],
            Grade::Orange,
        ),
        rule(
            "major_hazard_4",
            Condition::MajorHazard,
            &[4],
            Grade::Yellow,
        ),
        rule(
            "open_major_danger",
            Condition::OpenMajorDanger,
            &[],
            Grade::Red,
        ),
    ]
}

/// A value for each grade.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerGrade {
    /// Value for red.
    pub red: f64,
    /// Value for orange.
    pub orange: f64,
    /// Value for yellow.
    pub yellow: f64,
    /// Value for blue.
    pub blue: f64,
}

impl PerGrade {
    /// The value for grade `g`.
    pub fn get(&self, g: Grade) -> f64 {
        match g {
            Grade::Red => self.red,
            Grade::Orange => self.orange,
            Grade::Yellow => self.yellow,
            Grade::Blue => self.blue,
        }
    }
}

/// The kernel K(u), u = d/r, of the exposure grid: the raw formulas QGIS's
/// heatmap uses, so results compare cell by cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kernel {
    /// (1 − u²)²
    Quartic,
    /// (1 − u²)³
    Triweight,
    /// 1 − u²
    Epanechnikov,
    /// 1 − u
    Triangular,
    /// 1
    Uniform,
}

/// How the terms of the sources reaching a cell combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// E is the sum of the terms.
    Sum,
    /// E is the largest single term.
    Max,
}

/// Cell grades by exposure: red E ≥ red, orange E ≥ orange, yellow E ≥ yellow, blue E > 0.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Lowest E of a red cell.
    pub red: f64,
    /// Lowest E of an orange cell.
    pub orange: f64,
    /// Lowest E of a yellow cell.
    pub yellow: f64,
}

impl Thresholds {
    /// The grade of exposure `e`; `None` where E = 0.
    pub fn grade(&self, e: f64) -> Option<crate::model::Grade> {
        use crate::model::Grade;
        match e {
            e if e >= self.red => Some(Grade::Red),
            e if e >= self.orange => Some(Grade::Orange),
            e if e >= self.yellow => Some(Grade::Yellow),
            e if e > 0.0 => Some(Grade::Blue),
            _ => None,
        }
    }
}

/// Area grade rule: red if red cells cover at least `red` of a unit's area,
/// orange if red + orange cover `orange`, yellow if red + orange + yellow cover `yellow`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaShares {
    /// Red when at least this share (0–1) of the unit's area is red cells.
    pub red: f64,
    /// Orange when at least this share (0–1) is red or orange cells.
    pub orange: f64,
    /// Yellow when at least this share (0–1) is red, orange or yellow cells.
    pub yellow: f64,
}

/// Influence of hazard sources and the exposure grid.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exposure {
    /// Influence radius in metres of a source whose input gives none, by the
    /// source's grade.
    #[serde(default = "default_radius")]
    pub default_radius_m: PerGrade,
    /// Weight w of a source by its grade.
    #[serde(default = "default_weights")]
    pub weights: PerGrade,
    /// How a source's term falls off with distance (quartic when not given).
    #[serde(default = "default_kernel")]
    pub kernel: Kernel,
    /// How the terms reaching a cell combine into its E (sum when not given).
    #[serde(default = "default_mode")]
    pub mode: Mode,
    /// E values that set each cell's grade.
    #[serde(default = "default_thresholds")]
    pub thresholds: Thresholds,
    /// Area shares that set each administrative unit's grade from its cells.
    #[serde(default = "default_shares")]
    pub area_shares: AreaShares,
    /// Above this many cells with E > 0, the `exposure_grid` layer holds
    /// cells merged per grade instead of single cells.
    #[serde(default = "default_max_cells")]
    pub max_grid_cells: usize,
    /// Memory the grid stage may use, in MiB; a grid estimated above it is
    /// refused before it is computed.
    #[serde(default = "default_grid_memory_mb")]
    pub grid_memory_mb: u64,
}

fn default_radius() -> PerGrade {
    PerGrade {
        red: 1000.0,
        orange: 800.0,
        yellow: 500.0,
        blue: 300.0,
    }
}

fn default_weights() -> PerGrade {
    PerGrade {
        red: 8.0,
        orange: 4.0,
        yellow: 2.0,
        blue: 1.0,
    }
}

fn default_kernel() -> Kernel {
    Kernel::Quartic
}

fn default_mode() -> Mode {
    Mode::Sum
}

fn default_thresholds() -> Thresholds {
    Thresholds {
        red: 4.0,
        orange: 2.0,
        yellow: 1.0,
    }
}

fn default_shares() -> AreaShares {
    AreaShares {
        red: 0.02,
        orange: 0.05,
        yellow: 0.10,
    }
}

fn default_grid_memory_mb() -> u64 {
    2048
}

fn default_max_cells() -> usize {
    200_000
}

impl Default for Exposure {
    fn default() -> Self {
        Exposure {
            default_radius_m: default_radius(),
            weights: default_weights(),
            kernel: default_kernel(),
            mode: default_mode(),
            thresholds: default_thresholds(),
            area_shares: default_shares(),
            max_grid_cells: default_max_cells(),
            grid_memory_mb: default_grid_memory_mb(),
        }
    }
}

fn default_metric_crs() -> String {
    "auto".to_string()
}

fn default_cell_size() -> f64 {
    100.0
}

/// One validated input: absolute path, parsed CRS, full column mapping.
#[derive(Debug, Clone)]
pub struct InputSpec {
    /// Which input this is.
    pub kind: InputKind,
    /// Path as written in the project file, for messages and reports.
    pub display_path: String,
    /// Path to open: the one written, resolved against the project file's folder.
    pub path: PathBuf,
    /// Layer (GeoPackage) or sheet (XLSX) name.
    pub layer: Option<String>,
    /// CRS of the coordinates as the project file names it; WGS 84 when it names none.
    pub crs: InputCrs,
    /// Whether the project file names the CRS (else a layer's own CRS wins).
    pub crs_given: bool,
    /// Text encoding override (e.g. `GBK`, `CP936`).
    pub encoding: Option<String>,
    /// Coordinate columns; `None` means the features' own geometry.
    pub xy_columns: Option<(String, String)>,
    /// Logical field → source column, for every logical field of the kind
    /// (unmapped fields default to a column of the same name).
    pub columns: Vec<(&'static str, String, bool)>,
    /// A base layer's `max_scale`: drawn only on maps of 1:N or smaller
    /// (N at least this), for data too coarse to show closer.
    pub max_scale: Option<f64>,
}

impl InputSpec {
    /// A boundary file with the properties of the bundled boundaries
    /// (`adcode`, `name`, `level`, `parent`), in WGS 84.
    pub fn boundaries(path: &Path) -> InputSpec {
        let raw = RawInput {
            path: path.to_path_buf(),
            layer: None,
            crs: None,
            encoding: None,
            x: None,
            y: None,
            fields: BTreeMap::from([("code".to_string(), "adcode".to_string())]),
            max_scale: None,
        };
        validate_input(InputKind::AdminUnits, &raw, Path::new(""))
            .expect("the built-in mapping is valid")
    }

    /// Source column mapped to a logical field.
    pub fn column(&self, field: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(f, _, _)| *f == field)
            .map(|(_, c, _)| c.as_str())
    }
}

/// Which metric CRS to use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetricChoice {
    /// The CGCS2000 3° zone of the study area's centre.
    Auto,
    /// A Gauss–Krüger zone named by its EPSG code (4534–4554).
    Epsg(u32),
}

/// The validated project: every stage borrows what it needs from here.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project file, as given.
    pub file: PathBuf,
    /// Title written into the run report; 安全风险分布电子图 when not given.
    pub title: String,
    /// Name of the study area shown on the maps, when given.
    pub area_name: Option<String>,
    /// The data year (1900–2200).
    pub year: i32,
    /// The data date as written (e.g. `2026-10-31`), when given; parsed into `as_of`.
    pub data_date: Option<String>,
    /// Data-source line printed on the maps, when given.
    pub source: Option<String>,
    /// The metric CRS used for distances, areas and the exposure grid.
    pub metric_crs: MetricChoice,
    /// Side of an exposure grid cell in metres, in the metric CRS (100 when not given).
    pub cell_size_m: f64,
    /// The validated inputs by kind; the required ones are always present.
    pub inputs: BTreeMap<InputKind, InputSpec>,
    /// The date the data describes; dangers due before it are overdue.
    pub as_of: Date,
    /// Enterprise grading policy.
    pub grading: Grading,
    /// Influence of hazard sources and the exposure grid.
    pub exposure: Exposure,
    /// Rendered maps.
    pub maps: Maps,
    /// The web map.
    pub web: Web,
    /// Emergency resources' coverage of the high-risk places.
    pub coverage: Coverage,
    /// How chemical parks are assessed.
    pub parks: Parks,
    /// `[compare] previous`: an earlier run's output folder (resolved
    /// against the project file's folder) to compare this run with.
    pub previous: Option<PathBuf>,
    /// `[basemap] attribution`: the base layers' credit line, printed on
    /// the maps (the layers themselves are in `inputs`).
    pub basemap_attribution: Option<String>,
    /// `[basemap] tiles` (resolved against the project file's folder) and
    /// `tiles_crs`: an offline raster tile package drawn under the data.
    pub basemap_tiles: Option<(PathBuf, InputCrs)>,
}

impl Project {
    /// The source line of the maps: the project's, or a generic one.
    pub fn source_line(&self) -> String {
        self.source
            .clone()
            .unwrap_or_else(|| "数据来源：安全生产监管数据".into())
    }

    /// Reads and validates a project file.
    pub fn load(path: &Path) -> Result<Project, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Project::parse(&text, path)
    }

    /// Validates project text; relative input paths resolve against `path`'s folder.
    pub fn parse(text: &str, path: &Path) -> Result<Project, ConfigError> {
        let raw: RawProject = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        if !(raw.cell_size_m.is_finite() && raw.cell_size_m > 0.0) {
            return Err(invalid(format!(
                "cell_size_m must be a positive number of metres, got {}",
                raw.cell_size_m
            )));
        }
        let metric_crs = parse_metric(&raw.metric_crs).map_err(invalid)?;
        let basemap_tiles = match &raw.basemap.tiles {
            Some(tiles) => Some((base.join(tiles), tiles_crs(&raw.basemap).map_err(invalid)?)),
            None if raw.basemap.tiles_crs.is_some() => {
                return Err(invalid("[basemap] tiles_crs is given without tiles".into()))
            }
            None => None,
        };
        let mut inputs = parse_inputs(&raw.inputs, path)?;
        for (kind, input) in raw.basemap.layers() {
            inputs.insert(kind, checked_input(kind, input, path)?);
        }
        if !(1900..=2200).contains(&raw.year) {
            return Err(invalid(format!(
                "year = {} is out of range: give the data year, e.g. year = 2026",
                raw.year
            )));
        }
        let as_of = match &raw.data_date {
            Some(text) => crate::ingest::values::parse_date(text)
                .map_err(|e| invalid(format!("data_date {text:?} {e}")))?,
            None => Date {
                year: raw.year,
                month: 12,
                day: 31,
            },
        };
        validate_grading(&raw.grading).map_err(invalid)?;
        validate_maps(&raw.maps).map_err(invalid)?;
        validate_web(&raw.web).map_err(invalid)?;
        validate_radii(&raw.exposure).map_err(invalid)?;
        validate_coverage(&raw.coverage).map_err(invalid)?;
        validate_parks(&raw.parks).map_err(invalid)?;
        Ok(Project {
            file: path.to_path_buf(),
            as_of,
            grading: raw.grading,
            exposure: raw.exposure,
            maps: Maps {
                font: raw.maps.font.as_ref().map(|f| base.join(f)),
                ..raw.maps.clone()
            },
            web: raw.web.clone(),
            coverage: raw.coverage,
            parks: raw.parks,
            title: raw
                .title
                .unwrap_or_else(|| "安全风险分布电子图".to_string()),
            area_name: raw.area_name,
            year: raw.year,
            data_date: raw.data_date,
            source: raw.source,
            metric_crs,
            cell_size_m: raw.cell_size_m,
            inputs,
            previous: raw.compare.map(|c| base.join(c.previous)),
            basemap_attribution: raw.basemap.attribution,
            basemap_tiles,
        })
    }
}

/// The `[inputs.…]` tables, each checked: known keys only, the required
/// inputs present, hazard units and chemicals together.
fn parse_inputs(
    raw: &BTreeMap<String, RawInput>,
    path: &Path,
) -> Result<BTreeMap<InputKind, InputSpec>, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let mut inputs = BTreeMap::new();
    for (key, input) in raw {
        let kind = InputKind::ALL
            .into_iter()
            .find(|k| k.key() == key)
            .ok_or_else(|| {
                invalid(format!(
                    "unknown input [inputs.{key}]; known inputs: {}",
                    InputKind::ALL.map(|k| k.key()).join(", ")
                ))
            })?;
        inputs.insert(kind, checked_input(kind, input, path)?);
    }
    for kind in InputKind::ALL {
        if kind.required() && !inputs.contains_key(&kind) {
            return Err(invalid(format!(
                "missing required input [inputs.{}]",
                kind.key()
            )));
        }
    }
    if inputs.contains_key(&InputKind::HazardUnits) != inputs.contains_key(&InputKind::Chemicals) {
        return Err(invalid(
            "[inputs.hazard_units] and [inputs.chemicals] go together: name both or neither".into(),
        ));
    }
    Ok(inputs)
}

/// The page size and resolution are within what can be rendered.
fn validate_maps(m: &Maps) -> Result<(), String> {
    if m.dpi >= 30.0
        && m.dpi <= 1200.0
        && m.width_mm >= 50.0
        && m.height_mm >= 50.0
        && m.width_mm * m.dpi / 25.4 * m.height_mm * m.dpi / 25.4 <= 2.0e8
    {
        Ok(())
    } else {
        Err(format!("maps: size {} × {} mm at {} dpi is out of range (30–1200 dpi, at least 50 mm a side, at most 200 megapixels)", m.width_mm, m.height_mm, m.dpi))
    }
}

/// A basemap template names the tile it asks for.
fn validate_web(w: &Web) -> Result<(), String> {
    let Some(b) = &w.basemap else {
        return Ok(());
    };
    let missing: Vec<&str> = ["{z}", "{x}", "{y}"]
        .into_iter()
        .filter(|t| !b.tiles.contains(t))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "web.basemap.tiles must hold {{z}}, {{x}} and {{y}}; {:?} lacks {}",
            b.tiles,
            missing.join(", ")
        ));
    }
    if !(b.tiles.starts_with("http://") || b.tiles.starts_with("https://")) {
        return Err(format!(
            "web.basemap.tiles must be an http:// or https:// URL, got {:?}",
            b.tiles
        ));
    }
    if !matches!(b.tile_size, 256 | 512) || b.max_zoom > 24 {
        return Err(format!(
            "web.basemap: tile_size must be 256 or 512 and max_zoom at most 24, got {} and {}",
            b.tile_size, b.max_zoom
        ));
    }
    Ok(())
}

/// Every default influence radius is a positive length.
fn validate_radii(e: &Exposure) -> Result<(), String> {
    let r = &e.default_radius_m;
    if [r.red, r.orange, r.yellow, r.blue]
        .iter()
        .all(|r| r.is_finite() && *r > 0.0)
    {
        Ok(())
    } else {
        Err("exposure.default_radius_m: every radius must be a positive number of metres".into())
    }
}

fn validate_grading(g: &Grading) -> Result<(), String> {
    for r in &g.rules {
        match r.when {
            Condition::MajorHazard
                if r.hazard_grades.is_empty()
                    || r.hazard_grades.iter().any(|h| !(1..=4).contains(h)) =>
            {
                return Err(format!(
                    "grading rule {:?}: hazard_grades must list major-hazard grades 1 … 4",
                    r.id
                ));
            }
            Condition::OpenMajorDanger if !r.hazard_grades.is_empty() => {
                return Err(format!(
                    "grading rule {:?}: hazard_grades applies only to when = \"major_hazard\"",
                    r.id
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn parse_metric(text: &str) -> Result<MetricChoice, String> {
    if text.trim().eq_ignore_ascii_case("auto") {
        return Ok(MetricChoice::Auto);
    }
    match text.parse::<InputCrs>() {
        Ok(InputCrs::Epsg(code)) if (4534..=4554).contains(&code) => Ok(MetricChoice::Epsg(code)),
        _ => Err(format!(
            "metric_crs must be \"auto\" or a CGCS2000 3-degree Gauss-Kruger zone EPSG:4534 … EPSG:4554, got {text:?}"
        )),
    }
}

/// `[basemap] tiles_crs`: the datum the tiles are drawn on — WGS 84 (also
/// CGCS2000: 天地图) by default, GCJ-02 (Amap, Tencent) or BD-09 (Baidu);
/// tiles are in Web Mercator on that datum.
fn tiles_crs(raw: &RawBasemap) -> Result<InputCrs, String> {
    let Some(text) = &raw.tiles_crs else {
        return Ok(InputCrs::Wgs84);
    };
    match text.parse::<InputCrs>() {
        Ok(InputCrs::Epsg(_)) | Err(_) => Err(format!(
            "[basemap] tiles_crs = {text:?}: use wgs84, cgcs2000, gcj02 or bd09 (tiles are Web Mercator on one of these)"
        )),
        Ok(crs) => Ok(crs),
    }
}

/// One input table checked, an error naming the table.
fn checked_input(kind: InputKind, raw: &RawInput, path: &Path) -> Result<InputSpec, ConfigError> {
    let base = path.parent().unwrap_or(Path::new("."));
    validate_input(kind, raw, base).map_err(|message| ConfigError::Input {
        path: path.to_path_buf(),
        input: kind.table().to_string(),
        message,
    })
}

fn validate_input(kind: InputKind, raw: &RawInput, base: &Path) -> Result<InputSpec, String> {
    let known = kind.fields();
    for key in raw.fields.keys() {
        if !known.iter().any(|(f, _)| f == key) {
            return Err(format!(
                "unknown key fields.{key}; fields of {}: {}",
                kind.key(),
                known.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    let crs = match &raw.crs {
        Some(text) => text
            .parse::<InputCrs>()
            .map_err(|e: CrsError| e.to_string())?,
        None => InputCrs::Wgs84,
    };
    let xy_columns = match (&raw.x, &raw.y) {
        (Some(x), Some(y)) => Some((x.clone(), y.clone())),
        (None, None) => None,
        _ => return Err("x and y name the coordinate columns: give both or neither".into()),
    };
    if xy_columns.is_some() && !kind.has_location() {
        return Err("this input has no location: remove x and y".into());
    }
    if let Some(enc) = &raw.encoding {
        if crate::ingest::values::encoding_for_label(enc).is_none() {
            return Err(format!(
                "unknown encoding {enc:?}; use e.g. UTF-8, GBK, CP936, GB18030, BIG5"
            ));
        }
    }
    match raw.max_scale {
        Some(_) if !kind.is_base() => {
            return Err("max_scale is for the base layers ([basemap.…]) only".into())
        }
        Some(n) if !(n.is_finite() && n >= 1.0) => {
            return Err(format!(
                "max_scale = {n} is not a scale denominator: give N of 1:N, e.g. max_scale = 500000"
            ))
        }
        _ => {}
    }
    let columns = known
        .iter()
        .map(|&(field, required)| {
            let column = raw
                .fields
                .get(field)
                .cloned()
                .unwrap_or_else(|| field.to_string());
            (field, column, required)
        })
        .collect();
    Ok(InputSpec {
        kind,
        display_path: raw.path.to_string_lossy().into_owned(),
        path: base.join(&raw.path),
        layer: raw.layer.clone(),
        crs,
        crs_given: raw.crs.is_some(),
        encoding: raw.encoding.clone(),
        xy_columns,
        columns,
        max_scale: raw.max_scale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
year = 2026
[inputs.admin_units]
path = "b.geojson"
fields = { code = "adcode" }
[inputs.enterprises]
path = "e.csv"
crs = "gcj02"
x = "lon"
y = "lat"
"#;

    #[test]
    fn minimal_project_resolves_paths_and_defaults() {
        let p = Project::parse(MINIMAL, Path::new("/data/city/project.toml")).unwrap();
        let e = &p.inputs[&InputKind::Enterprises];
        assert_eq!(e.path, Path::new("/data/city/e.csv"));
        assert_eq!(e.crs, InputCrs::Gcj02);
        assert_eq!(e.column("id"), Some("id"));
        assert_eq!(
            p.inputs[&InputKind::AdminUnits].column("code"),
            Some("adcode")
        );
        assert_eq!(p.cell_size_m, 100.0);
        assert_eq!(p.metric_crs, MetricChoice::Auto);
    }

    #[test]
    fn web_options_are_read_and_a_basemap_template_checked() {
        let p = Project::parse(MINIMAL, Path::new("p.toml")).unwrap();
        assert_eq!(p.web, Web::default());
        let text = format!(
            "{MINIMAL}\n[web]\ncrs = \"gcj02\"\n[web.basemap]\ntiles = \"https://t/{{z}}/{{x}}/{{y}}\"\n"
        );
        let p = Project::parse(&text, Path::new("p.toml")).unwrap();
        assert_eq!(p.web.crs, WebCrs::Gcj02);
        assert_eq!(p.web.basemap.unwrap().tile_size, 256);
        let text = format!("{MINIMAL}\n[web.basemap]\ntiles = \"https://t/{{z}}/{{x}}\"\n");
        let err = Project::parse(&text, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("web.basemap.tiles") && err.contains("{y}"),
            "{err}"
        );
        let text = format!("{MINIMAL}\n[web]\ncrs = \"utm\"\n");
        assert!(Project::parse(&text, Path::new("p.toml")).is_err());
    }

    #[test]
    fn unknown_top_level_key_is_named() {
        let text = format!("colour = 1\n{MINIMAL}");
        let err = Project::parse(&text, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn unknown_input_key_and_field_are_named() {
        let text = MINIMAL.replace("x = \"lon\"", "x = \"lon\"\nprojection = 1");
        let err = Project::parse(&text, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("projection"), "{err}");
        let text = MINIMAL.replace("code = \"adcode\"", "kode = \"adcode\"");
        let err = Project::parse(&text, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("fields.kode") && err.contains("admin_units"),
            "{err}"
        );
    }

    #[test]
    fn grading_defaults_and_overrides() {
        let p = Project::parse(MINIMAL, Path::new("p.toml")).unwrap();
        assert_eq!(p.grading.rules.len(), 4);
        assert_eq!(
            p.as_of,
            Date {
                year: 2026,
                month: 12,
                day: 31
            }
        );
        let text = format!(
            "{MINIMAL}\n[grading]\nunassessed = \"yellow\"\n[[grading.rules]]\nid = \"mh\"\nwhen = \"major_hazard\"\nhazard_grades = [1]\nraise_to = \"红\"\nenabled = false\n"
        );
        let p = Project::parse(&text, Path::new("p.toml")).unwrap();
        assert_eq!(p.grading.unassessed, Grade::Yellow);
        assert_eq!(p.grading.rules.len(), 1);
        assert!(!p.grading.rules[0].enabled && p.grading.rules[0].raise_to == Grade::Red);
        let bad = text.replace("hazard_grades = [1]", "hazard_grades = [5]");
        assert!(Project::parse(&bad, Path::new("p.toml"))
            .unwrap_err()
            .to_string()
            .contains("hazard_grades"));
        let bad = text.replace("raise_to = \"红\"", "raise_to = \"紫\"");
        assert!(Project::parse(&bad, Path::new("p.toml"))
            .unwrap_err()
            .to_string()
            .contains("紫"));
    }

    #[test]
    fn bad_crs_and_missing_input_are_errors() {
        let text = MINIMAL.replace("gcj02", "mercator");
        let err = Project::parse(&text, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("mercator") && err.contains("enterprises"),
            "{err}"
        );
        let text = MINIMAL.replace("[inputs.enterprises]", "[inputs.enterprisez]");
        let err = Project::parse(&text, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("enterprisez"), "{err}");
    }

    #[test]
    fn a_base_layer_may_be_kept_off_large_scale_maps() {
        let text = format!(
            "{MINIMAL}[basemap.built_up]\npath = \"base/urban.geojson\"\nmax_scale = 500000\n"
        );
        let p = Project::parse(&text, Path::new("p.toml")).unwrap();
        assert_eq!(p.inputs[&InputKind::BaseBuiltUp].max_scale, Some(500_000.0));
        assert_eq!(p.inputs[&InputKind::Enterprises].max_scale, None);
        let zero = text.replace("500000", "0");
        let err = Project::parse(&zero, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[basemap.built_up]") && err.contains("max_scale"),
            "{err}"
        );
        let on_input = MINIMAL.replace("y = \"lat\"\n", "y = \"lat\"\nmax_scale = 500000\n");
        let err = Project::parse(&on_input, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[inputs.enterprises]") && err.contains("base layers"),
            "{err}"
        );
    }

    #[test]
    fn basemap_layers_are_inputs_named_by_their_table() {
        let text = format!(
            "{MINIMAL}[basemap]\nattribution = \"© OpenStreetMap 贡献者\"\n\
             [basemap.roads]\npath = \"base/roads.gpkg\"\nlayer = \"lines\"\n\
             fields = {{ name = \"name\", class = \"highway\" }}\n\
             [basemap.places]\npath = \"base/places.csv\"\nx = \"lon\"\ny = \"lat\"\n"
        );
        let p = Project::parse(&text, Path::new("dir/p.toml")).unwrap();
        assert_eq!(
            p.basemap_attribution.as_deref(),
            Some("© OpenStreetMap 贡献者")
        );
        let roads = &p.inputs[&InputKind::BaseRoads];
        assert_eq!(roads.path, Path::new("dir/base/roads.gpkg"));
        assert_eq!(roads.column("class"), Some("highway"));
        assert!(p.inputs.contains_key(&InputKind::BasePlaces));
        assert!(!p.inputs.contains_key(&InputKind::Roads));
        // A mistake names the [basemap.…] table, not an [inputs.…] one.
        let bad = text.replace("class = \"highway\"", "kind = \"highway\"");
        let err = Project::parse(&bad, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[basemap.roads]") && err.contains("fields.kind"),
            "{err}"
        );
        let bad = text.replace("[basemap.places]", "[basemap.towns]");
        let err = Project::parse(&bad, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("towns"), "{err}");
        // A tile package: its path resolved, its datum one tiles are drawn on.
        let tiles = text.replace(
            "[basemap]\n",
            "[basemap]\ntiles = \"t.mbtiles\"\ntiles_crs = \"gcj02\"\n",
        );
        let p = Project::parse(&tiles, Path::new("dir/p.toml")).unwrap();
        assert_eq!(
            p.basemap_tiles,
            Some((PathBuf::from("dir/t.mbtiles"), InputCrs::Gcj02))
        );
        let bad = tiles.replace("gcj02", "EPSG:3857");
        let err = Project::parse(&bad, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("tiles_crs") && err.contains("gcj02"), "{err}");
        let bad = tiles.replace("tiles = \"t.mbtiles\"\n", "");
        let err = Project::parse(&bad, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("without tiles"), "{err}");
    }
}

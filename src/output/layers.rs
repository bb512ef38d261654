//! The catalogue of output layers (`layers/*.toml`, compiled in) and the
//! conversion of domain records into rows of those layers.
//!
//! The catalogue is the one place that says which fields a layer has, in what
//! order, with which type and Chinese alias; every writer (GeoJSON, GeoPackage)
//! follows it, so the formats cannot drift apart.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use geo::{MultiPolygon, Point};
use serde::Deserialize;

use crate::analysis::aggregate::{CellStats, RecordCounts};
use crate::analysis::coverage::Place;
use crate::analysis::exposure::{Source, TargetExposure};
use crate::analysis::parks::ParkFindings;
use crate::model::{
    AdminRef, AdminUnit, Assessment, ChemicalPark, EmergencyResource, Grade, Graded, HazardUnit,
    HiddenDanger, Resolved, ResourceKind, VulnerableTarget,
};

const CATALOGUE: [&str; 15] = [
    include_str!("../../layers/exposure_grid.toml"),
    include_str!("../../layers/influence_zones.toml"),
    include_str!("../../layers/admin_units.toml"),
    include_str!("../../layers/enterprises.toml"),
    include_str!("../../layers/hazard_sources.toml"),
    include_str!("../../layers/hidden_dangers.toml"),
    include_str!("../../layers/vulnerable_targets.toml"),
    include_str!("../../layers/emergency_resources.toml"),
    include_str!("../../layers/resource_coverage.toml"),
    include_str!("../../layers/chemical_parks.toml"),
    include_str!("../../layers/changes/admin_unit_changes.toml"),
    include_str!("../../layers/changes/enterprise_changes.toml"),
    include_str!("../../layers/changes/hazard_source_changes.toml"),
    include_str!("../../layers/changes/hidden_danger_changes.toml"),
    include_str!("../../layers/changes/vulnerable_target_changes.toml"),
];

/// The unit fields appended to every point layer with `admin_fields = true`.
const ADMIN_FIELDS: [(&str, &str); 6] = [
    ("city_code", "市代码"),
    ("city_name", "市"),
    ("district_code", "区县代码"),
    ("district_name", "区县"),
    ("town_code", "乡镇街道代码"),
    ("town_name", "乡镇街道"),
];

/// The type of a layer field, as the catalogue writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Text.
    String,
    /// 64-bit integer.
    Integer,
    /// Double-precision number.
    Real,
    /// A calendar date, `YYYY-MM-DD` (GeoPackage DATE; a string in GeoJSON).
    Date,
    /// Yes or no (GeoPackage BOOLEAN; `true`/`false` in GeoJSON).
    Boolean,
}

/// One field of a layer, as `layers/*.toml` defines it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Field name (snake_case ASCII), the same in every format.
    pub name: String,
    /// The field's type.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Chinese alias shown by QGIS and used as list headers.
    pub alias: String,
    /// The longest text the field can hold, in characters, for fields whose
    /// values come from a closed set (grades, kinds); declared in the
    /// GeoPackage as `TEXT(width)`. Free text has none.
    #[serde(default)]
    pub width: Option<usize>,
    /// For real fields: the decimals they are rounded to, which QGIS shows.
    #[serde(default)]
    pub decimals: Option<u32>,
    /// Whether the field is in the vector tiles: what the web map filters,
    /// labels and shows in its popups (the rest stays in the layers).
    #[serde(default)]
    pub web: bool,
}

/// The geometry type of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum GeometryKind {
    /// Points, for the record layers.
    Point,
    /// Multipolygons, for units, grid cells and influence circles.
    MultiPolygon,
}

/// The output layers, by the name they have in every format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// Grid cells with E > 0, or those cells merged per grade.
    ExposureGrid,
    /// The influence circle of each hazard source.
    InfluenceZones,
    /// Administrative units with their record counts, E statistics and grade.
    AdminUnits,
    /// Supervised enterprises with their grades.
    Enterprises,
    /// Hazard units with their GB 18218 assessment.
    HazardSources,
    /// Hidden dangers.
    HiddenDangers,
    /// Vulnerable targets with the sources around them.
    VulnerableTargets,
    /// Emergency resources (应急资源).
    EmergencyResources,
    /// The high-risk places with their nearest resources.
    ResourceCoverage,
    /// Chemical parks with what they hold and their grade.
    ChemicalParks,
    /// The comparison's units with their grades before and after.
    AdminUnitChanges,
    /// The comparison's enterprises new, gone, graded up or down.
    EnterpriseChanges,
    /// The comparison's major hazard sources new, gone, graded up or down.
    HazardSourceChanges,
    /// The comparison's hidden dangers that changed.
    HiddenDangerChanges,
    /// The comparison's vulnerable targets that changed.
    VulnerableTargetChanges,
}

impl Layer {
    /// Every layer.
    pub const ALL: [Layer; 10] = [
        Layer::ExposureGrid,
        Layer::InfluenceZones,
        Layer::AdminUnits,
        Layer::Enterprises,
        Layer::HazardSources,
        Layer::HiddenDangers,
        Layer::VulnerableTargets,
        Layer::EmergencyResources,
        Layer::ResourceCoverage,
        Layer::ChemicalParks,
    ];

    /// The annual comparison's layers (`riskatlas compare`), not a run's.
    pub const CHANGES: [Layer; 5] = [
        Layer::AdminUnitChanges,
        Layer::EnterpriseChanges,
        Layer::HazardSourceChanges,
        Layer::HiddenDangerChanges,
        Layer::VulnerableTargetChanges,
    ];

    /// Whether this is one of the comparison's layers.
    pub fn is_change(self) -> bool {
        Layer::CHANGES.contains(&self)
    }

    /// The layer's name: its GeoJSON file, GeoPackage table and QGIS layer.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::ExposureGrid => "exposure_grid",
            Layer::InfluenceZones => "influence_zones",
            Layer::AdminUnits => "admin_units",
            Layer::Enterprises => "enterprises",
            Layer::HazardSources => "hazard_sources",
            Layer::HiddenDangers => "hidden_dangers",
            Layer::VulnerableTargets => "vulnerable_targets",
            Layer::EmergencyResources => "emergency_resources",
            Layer::ResourceCoverage => "resource_coverage",
            Layer::ChemicalParks => "chemical_parks",
            Layer::AdminUnitChanges => "admin_unit_changes",
            Layer::EnterpriseChanges => "enterprise_changes",
            Layer::HazardSourceChanges => "hazard_source_changes",
            Layer::HiddenDangerChanges => "hidden_danger_changes",
            Layer::VulnerableTargetChanges => "vulnerable_target_changes",
        }
    }
}

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A layer's definition from `layers/*.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerDef {
    /// Which layer this is.
    pub name: Layer,
    /// Chinese title, e.g. 行政区划; the GeoPackage identifier.
    pub title: String,
    /// Geometry type of every feature.
    pub geometry: GeometryKind,
    /// Rank in drawing order: lower layers come first and are drawn underneath.
    pub draw_order: i32,
    /// The group (行政区划, 企业 …) the layer sits in in the QGIS project.
    pub group: String,
    #[serde(default)]
    admin_fields: bool,
    /// Fields in output order, the unit fields last when the layer has them.
    pub fields: Vec<FieldDef>,
}

/// The layer definitions, keyed by layer.
pub fn catalogue() -> &'static BTreeMap<Layer, LayerDef> {
    static DEFS: OnceLock<BTreeMap<Layer, LayerDef>> = OnceLock::new();
    DEFS.get_or_init(|| {
        CATALOGUE
            .iter()
            .map(|text| {
                let mut def: LayerDef =
                    toml::from_str(text).expect("layers/*.toml is valid (checked by tests)");
                if def.admin_fields {
                    def.fields
                        .extend(ADMIN_FIELDS.iter().map(|(name, alias)| FieldDef {
                            name: name.to_string(),
                            kind: FieldType::String,
                            alias: alias.to_string(),
                            width: None,
                            decimals: None,
                            // The district, which popups show.
                            web: *name == "district_name",
                        }));
                }
                (def.name, def)
            })
            .collect()
    })
}

/// The definition of one layer (every layer is in the catalogue: a test checks).
pub fn def(layer: Layer) -> &'static LayerDef {
    &catalogue()[&layer]
}

/// A run's layers from the bottom of the drawing order to the top.
pub fn in_draw_order() -> Vec<Layer> {
    let mut defs: Vec<&LayerDef> = catalogue()
        .values()
        .filter(|d| !d.name.is_change())
        .collect();
    defs.sort_by_key(|d| d.draw_order);
    defs.into_iter().map(|d| d.name).collect()
}

/// `n` made-up point rows for `def`, for the writers' tests.
#[cfg(test)]
pub fn sample_rows(def: &LayerDef, n: usize) -> Vec<Row> {
    (0..n)
        .map(|i| Row {
            shape: Shape::Point(geo::Point::new(
                119.0 + i as f64 * 1e-4,
                31.0 + i as f64 * 7e-5,
            )),
            values: def
                .fields
                .iter()
                .enumerate()
                .map(|(k, f)| match f.kind {
                    FieldType::String => Value::Str(format!("值{i}-{k}")),
                    FieldType::Integer => Value::Int(i as i64),
                    FieldType::Real => Value::Real(i as f64 * 0.25),
                    FieldType::Date => Value::Str(format!("2026-01-{:02}", i % 28 + 1)),
                    FieldType::Boolean => Value::Bool(i % 2 == 0),
                })
                .collect(),
        })
        .collect()
}

/// A field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value: JSON null, SQL NULL, an empty CSV or XLSX cell.
    Null,
    /// Text.
    Str(String),
    /// Integer.
    Int(i64),
    /// Real number.
    Real(f64),
    /// Yes or no.
    Bool(bool),
}

impl Value {
    /// Whether the value can be written into a field of type `kind`.
    fn fits(&self, kind: FieldType) -> bool {
        matches!(
            (self, kind),
            (Value::Null, _)
                | (Value::Str(_), FieldType::String | FieldType::Date)
                | (Value::Int(_), FieldType::Integer)
                | (Value::Real(_), FieldType::Real)
                | (Value::Bool(_), FieldType::Boolean)
        )
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
impl From<f64> for Value {
    /// Never negative zero.
    fn from(v: f64) -> Self {
        Value::Real(v + 0.0)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(v as i64)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}

/// 是 or 否, as the lists write yes and no.
pub fn yes_no(b: bool) -> &'static str {
    if b {
        "是"
    } else {
        "否"
    }
}

/// A feature's geometry, WGS 84 lon/lat.
#[derive(Debug, Clone)]
pub enum Shape {
    /// A point feature.
    Point(Point<f64>),
    /// A polygon or multipolygon feature.
    MultiPolygon(MultiPolygon<f64>),
}

/// One row: geometry and values in the layer's field order.
#[derive(Debug, Clone)]
pub struct Row {
    /// Geometry in WGS 84 lon/lat degrees.
    pub shape: Shape,
    /// One value per field of the layer, in catalogue order.
    pub values: Vec<Value>,
}

/// A row of `layer` from its fields by name (in catalogue order, as a row
/// function gives them): for layers built outside this module.
pub fn row_of<'a>(
    layer: Layer,
    shape: Shape,
    values: impl IntoIterator<Item = (&'a str, Value)>,
) -> Row {
    values
        .into_iter()
        .fold(RowBuilder::new(def(layer)), |b, (name, v)| b.set(name, v))
        .build(shape)
}

/// Builds rows in catalogue order from named values, so a row function lists
/// its fields by name and a misspelt or missing one fails the layer tests.
struct RowBuilder {
    def: &'static LayerDef,
    values: Vec<Value>,
    /// The field after the one set last: row functions set their fields in
    /// catalogue order, so the name is found there at once, not by a scan.
    next: usize,
}

impl RowBuilder {
    fn new(def: &'static LayerDef) -> Self {
        RowBuilder {
            def,
            values: vec![Value::Null; def.fields.len()],
            next: 0,
        }
    }

    fn set(mut self, name: &str, value: impl Into<Value>) -> Self {
        let fields = &self.def.fields;
        let i = match fields.get(self.next) {
            Some(f) if f.name == name => self.next,
            _ => fields
                .iter()
                .position(|f| f.name == name)
                .unwrap_or_else(|| panic!("layer {} has no field {name}", self.def.name)),
        };
        self.next = i + 1;
        let value = value.into();
        let field = &self.def.fields[i];
        assert!(
            value.fits(field.kind),
            "{}.{name} is {:?}, given {value:?}",
            self.def.name,
            field.kind
        );
        if let (Some(width), Value::Str(s)) = (field.width, &value) {
            assert!(
                s.chars().count() <= width,
                "{}.{name}: {s:?} is longer than its declared width {width}",
                self.def.name
            );
        }
        self.values[i] = value;
        self
    }

    fn admin(self, a: &AdminRef) -> Self {
        self.set("city_code", a.city_code.clone())
            .set("city_name", a.city_name.clone())
            .set("district_code", a.district_code.clone())
            .set("district_name", a.district_name.clone())
            .set("town_code", a.town_code.clone())
            .set("town_name", a.town_name.clone())
    }

    fn build(self, shape: Shape) -> Row {
        Row {
            shape,
            values: self.values,
        }
    }
}

/// What the hazard stage found for one enterprise.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnterpriseHazards {
    /// Number of major hazard sources.
    pub major: u32,
    /// The highest (numerically smallest) major-hazard grade among them.
    pub top_grade: Option<u8>,
}

/// The `enterprises` row of a graded enterprise, with its major-hazard counts.
pub fn enterprise_row(e: &Graded, hazards: EnterpriseHazards) -> Row {
    let rating = &e.rating;
    RowBuilder::new(def(Layer::Enterprises))
        .set("id", e.id())
        .set("name", e.name())
        .set("industry", e.industry())
        .set("address", e.address())
        .set("assessed_grade", e.assessed_grade.map(|g| g.as_str()))
        .set("people_500m", e.people_500m)
        .set("grade", rating.grade.as_str())
        .set("grade_source", rating.source.as_str())
        .set("grade_reason", rating.reason_text())
        .set("major_hazards", hazards.major)
        .set("top_hazard_grade", hazards.top_grade.map(u32::from))
        .admin(&e.admin)
        .build(Shape::Point(e.lon_lat))
}

/// Inventory as one readable cell: "氯 5 t; 氨 5 t".
pub fn inventory_text(u: &HazardUnit) -> String {
    u.chemicals
        .iter()
        .map(|c| format!("{} {} t", c.name, c.quantity_t))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Rounds a derived value for output (S, R to 4 decimals are plenty);
/// never negative zero.
pub fn round4(v: f64) -> f64 {
    (v * 1e4).round() / 1e4 + 0.0
}

/// The GB 18218 row a chemical line used, as the lists and traces name it:
/// `表1第52项`, `表2 W5.4`, or `—` for a substance GB 18218 does not cover.
pub fn row_label(r: &Resolved) -> String {
    if let Some(seq) = r.q_source.strip_prefix("table1:") {
        format!("表1第{seq}项")
    } else if let Some(code) = r.q_source.strip_prefix("table2:") {
        format!("表2 {code}")
    } else {
        "—".to_string()
    }
}

/// How each inventory line was identified, one readable clause per line:
/// `液化石油气 400 t → 表1第52项 液化石油气(…)（同义名）Q=50 β=1.5 (assumed:…) q/Q=8`,
/// with the choice made between rows where one was.
pub fn chemical_trace(a: &Assessment) -> String {
    a.shares
        .iter()
        .map(|c| {
            let r = &c.resolved;
            let mut text = match r.critical_t {
                Some(q) => format!(
                    "{} {} t → {} {}（{}）Q={q} β={} ({}) q/Q={}",
                    c.name,
                    c.quantity_t,
                    row_label(r),
                    r.row_name,
                    r.matched_by.label_zh(),
                    r.beta,
                    r.beta_source,
                    round4(c.ratio)
                ),
                None => format!(
                    "{} {} t → {}（{}）",
                    c.name,
                    c.quantity_t,
                    r.matched_by.label_zh(),
                    r.row_name
                ),
            };
            if let Some(choice) = &r.choice {
                text.push_str(&format!(" [{choice}]"));
            }
            text
        })
        .collect::<Vec<_>>()
        .join("；")
}

/// The same, as a JSON array of each line's name, quantity, row, match,
/// Q, β and q/Q: for programs.
pub fn chemical_trace_json(a: &Assessment) -> String {
    let lines: Vec<serde_json::Value> = a
        .shares
        .iter()
        .map(|c| {
            let r = &c.resolved;
            serde_json::json!({
                "name": c.name,
                "quantity_t": c.quantity_t,
                "row": r.q_source,
                "row_name": r.row_name,
                "matched_by": r.matched_by.as_str(),
                "critical_t": r.critical_t,
                "beta": r.beta,
                "beta_source": r.beta_source,
                "ratio": round4(c.ratio),
                "choice": r.choice,
            })
        })
        .collect();
    serde_json::Value::Array(lines).to_string()
}

/// The `hazard_sources` row of a hazard unit: its GB 18218 assessment and, from
/// its exposure `source`, the grade, weight and radius used for the grid.
/// `enterprise_name` is the owner's name, when known.
pub fn hazard_source_row(u: &HazardUnit, enterprise_name: Option<&str>, source: &Source) -> Row {
    let a = u.assessment.as_ref();
    RowBuilder::new(def(Layer::HazardSources))
        .set("id", u.id.as_str())
        .set("enterprise_id", u.enterprise_id.as_str())
        .set("enterprise_name", enterprise_name)
        .set("name", u.name.as_str())
        .set("unit_kind", u.kind.label_zh())
        .set("chemicals", inventory_text(u))
        .set("n_chemicals", u.chemicals.len() as i64)
        .set("incomplete", u.incomplete)
        .set("chemical_trace", a.map(chemical_trace))
        .set("chemical_trace_json", a.map(chemical_trace_json))
        .set("ambiguous_match", a.map(|a| a.ambiguous_match()))
        .set("s_value", a.map(|a| round4(a.s)))
        .set("is_major", a.map(|a| a.is_major))
        // GB 18218 defines R only for major hazard sources.
        .set("r_value", a.filter(|a| a.is_major).map(|a| round4(a.r)))
        .set("alpha", a.map(|a| a.alpha))
        .set("alpha_source", a.map(|a| a.alpha_source.as_str()))
        .set("people_500m", a.map(|a| a.people_500m))
        .set("beta_used", a.map(|a| a.betas_text()))
        .set("beta_assumed", a.map(|a| a.any_beta_assumed()))
        .set("hazard_grade", u.major_grade().map(u32::from))
        .set("source_grade", source.grade.as_str())
        .set("weight", source.weight)
        .set("radius_m", source.radius_m)
        .set("radius_source", source.radius_source.as_str())
        .set("located_by_enterprise", u.located_by_enterprise)
        .admin(&u.admin)
        .build(Shape::Point(u.lon_lat))
}

/// The `hidden_dangers` row of a hidden danger.
pub fn hidden_danger_row(d: &HiddenDanger) -> Row {
    RowBuilder::new(def(Layer::HiddenDangers))
        .set("id", d.id.as_str())
        .set("enterprise_id", d.enterprise_id.clone())
        .set("description", d.description.as_str())
        .set("level", d.level.as_str())
        .set("status", d.status.as_str())
        .set("progress", d.status.progress_str())
        .set("found_date", d.found.map(|x| x.to_string()))
        .set("due_date", d.due.map(|x| x.to_string()))
        .set("located_by_enterprise", d.located_by_enterprise)
        .set("overdue", d.overdue)
        .admin(&d.admin)
        .build(Shape::Point(d.lon_lat))
}

/// The covering sources as one cell, nearest first, at most the ten kept:
/// "HU000012 320 m; HU000031 870 m … (共 14 处)".
pub fn covering_text(e: &TargetExposure, sources: &[Source]) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(16 * e.covering.len());
    for (k, (i, d)) in e.covering.iter().enumerate() {
        if k > 0 {
            text.push_str("; ");
        }
        text.push_str(&sources[*i].id);
        text.push(' ');
        push_whole_metres(&mut text, *d);
        text.push_str(" m");
    }
    if e.covering_count > e.covering.len() {
        let _ = write!(text, " … (共 {} 处)", e.covering_count);
    }
    text
}

/// Writes a distance as `{:.0}` does: to the nearest whole number, a tie
/// to the even one (`{:.0}`'s own, slower, path for ties, negative and huge
/// values).
fn push_whole_metres(text: &mut String, d: f64) {
    use std::fmt::Write as _;
    if d.is_sign_positive() && d < 1e15 && d - d.trunc() != 0.5 {
        let _ = write!(text, "{}", d.round() as i64);
    } else {
        let _ = write!(text, "{d:.0}");
    }
}

/// The `vulnerable_targets` row of a target: its protection class, E at the
/// target, the covering sources and the nearest one. `sources` are the
/// exposure sources that `e` refers to by index.
pub fn vulnerable_target_row(t: &VulnerableTarget, e: &TargetExposure, sources: &[Source]) -> Row {
    RowBuilder::new(def(Layer::VulnerableTargets))
        .set("id", t.id.as_str())
        .set("name", t.name.as_str())
        .set("kind", t.kind.as_str())
        .set("population", t.population)
        .set("protection", t.protection().label_zh())
        .set("exposure", round4(e.e))
        .set("n_sources", e.covering_count as i64)
        .set("sources", covering_text(e, sources))
        .set(
            "nearest_source",
            e.nearest.map(|(i, _)| sources[i].id.clone()),
        )
        .set("nearest_m", e.nearest.map(|(_, d)| d.round()))
        .admin(&t.admin)
        .build(Shape::Point(t.lon_lat))
}

/// The `emergency_resources` row of a resource.
pub fn emergency_resource_row(r: &EmergencyResource) -> Row {
    RowBuilder::new(def(Layer::EmergencyResources))
        .set("id", r.id.as_str())
        .set("name", r.name.as_str())
        .set("kind", r.kind.as_str())
        .set("capacity", r.capacity)
        .set("phone", r.phone.clone())
        .admin(&r.admin)
        .build(Shape::Point(r.lon_lat))
}

/// The `resource_coverage` row of a high-risk place: whether it is covered,
/// the required kinds out of reach, and the nearest resource of each kind
/// with its route distance in whole metres. `resources` are the accepted
/// resources the place's nearest ones index.
pub fn coverage_row(p: &Place, required: &[ResourceKind], resources: &[EmergencyResource]) -> Row {
    let missing: Vec<&str> = p.missing(required).iter().map(|k| k.label_zh()).collect();
    let mut b = RowBuilder::new(def(Layer::ResourceCoverage))
        .set("place_kind", p.kind.as_str())
        .set("id", p.id.as_str())
        .set("enterprise_id", p.enterprise_id.as_str())
        .set("name", p.name.as_str())
        .set("grade", p.grade.as_str())
        .set("hazard_grade", p.hazard_grade.map(i64::from))
        .set("covered", p.covered)
        .set("missing", missing.join("、"))
        .set("distance_by", p.distance_by());
    for (kind, n) in ResourceKind::ALL.iter().zip(&p.nearest) {
        let k = kind.as_str();
        b = b
            .set(
                &format!("{k}_id"),
                n.map(|n| resources[n.resource].id.clone()),
            )
            .set(&format!("{k}_m"), n.map(|n| n.route_m.round() as i64));
    }
    b.admin(&p.admin).build(Shape::Point(p.lon_lat))
}

/// The `chemical_parks` row of a park and what it holds.
pub fn park_row(p: &ChemicalPark, f: &ParkFindings) -> Row {
    let mut row = RowBuilder::new(def(Layer::ChemicalParks))
        .set("code", p.code.as_str())
        .set("name", p.name.as_str())
        .set("level", p.level.clone())
        .set("area_km2", (f.area_km2 * 1000.0).round() / 1000.0);
    for (i, g) in Grade::DESCENDING.iter().enumerate() {
        row = row.set(
            &format!("enterprises_{}", g.as_str()),
            f.enterprises_by_grade[i] as i64,
        );
    }
    for i in 0..4 {
        row = row.set(
            &format!("major_hazards_{}", i + 1),
            f.major_hazards[i] as i64,
        );
    }
    row = row
        .set("r_sum", (f.r_sum * 100.0).round() / 100.0)
        .set("population_inside", f.population_inside as i64)
        .set("population_around", f.population_around as i64);
    let shares = f.cells.shares();
    for (i, g) in Grade::DESCENDING.iter().enumerate() {
        row = row.set(
            &format!("share_{}", g.as_str()),
            (shares[i] * 1e4).round() / 100.0,
        );
    }
    row.set("grade", f.grade.as_str())
        .set("grade_rule", f.grade_rule.as_str())
        .build(Shape::MultiPolygon(p.boundary.clone()))
}

/// An `exposure_grid` row: a single cell with its `e`, or a polygon merging
/// `cells` cells of one grade with no `e`. `area_km2` is rounded to 4 decimals.
pub fn exposure_grid_row(
    grade: Option<Grade>,
    e: Option<f64>,
    cells: i64,
    area_km2: f64,
    shape: Shape,
) -> Row {
    RowBuilder::new(def(Layer::ExposureGrid))
        .set("grade", grade.map(|g| g.as_str()))
        .set("e", e)
        .set("cells", cells)
        .set("area_km2", (area_km2 * 1e4).round() / 1e4)
        .build(shape)
}

/// The `influence_zones` row of source `s`: its circle `shape` (WGS 84 lon/lat)
/// and the id of the enterprise owning it.
pub fn influence_zone_row(s: &Source, enterprise_id: &str, shape: Shape) -> Row {
    RowBuilder::new(def(Layer::InfluenceZones))
        .set("source_id", s.id.as_str())
        .set("enterprise_id", enterprise_id)
        .set("grade", s.grade.as_str())
        .set("radius_m", s.radius_m)
        .set("radius_source", s.radius_source.as_str())
        .build(shape)
}

/// What the grid and the records say about one administrative unit.
pub struct UnitFindings<'a> {
    /// Record counts over the unit and the units inside it; `None` when it has no records.
    pub records: Option<&'a RecordCounts>,
    /// Cell statistics over the unit and the units inside it; `None` for a
    /// province, which the statistics do not cover.
    pub cells: Option<&'a CellStats>,
    /// The unit's grade by the area rule and the rule that decided it; `None`
    /// without cell statistics.
    pub grade: Option<(Grade, String)>,
}

/// The `admin_units` row of a unit: its area in km² (rounded to 0.001), the
/// record counts, the E statistics and the area-rule grade from `f`.
pub fn admin_unit_findings_row(u: &AdminUnit, area_km2: f64, f: &UnitFindings) -> Row {
    let mut row = RowBuilder::new(def(Layer::AdminUnits))
        .set("code", u.code.as_str())
        .set("name", u.name.as_str())
        .set("level", u.level.as_str())
        .set("parent_code", u.parent.clone())
        .set("area_km2", (area_km2 * 1000.0).round() / 1000.0);
    let r = f.records.cloned().unwrap_or_default();
    for (i, g) in ["red", "orange", "yellow", "blue"].iter().enumerate() {
        row = row.set(
            &format!("enterprises_{g}"),
            r.enterprises_by_grade[i] as i64,
        );
        row = row.set(
            &format!("major_hazards_{}", i + 1),
            r.major_hazards[i] as i64,
        );
    }
    row = row
        .set("open_major_dangers", r.open_major_dangers as i64)
        .set("targets_exposed", r.targets_exposed as i64)
        .set("high_risk_places", r.high_risk_places as i64)
        .set("covered_places", r.covered_places as i64)
        .set(
            "covered_pct",
            (r.high_risk_places > 0).then(|| {
                (r.covered_places as f64 * 10_000.0 / r.high_risk_places as f64).round() / 100.0
            }),
        );
    if let Some(c) = f.cells {
        let shares = c.shares();
        row = row
            .set("e_mean", round4(c.mean_e()))
            .set("e_max", round4(c.max_e));
        for (i, g) in ["red", "orange", "yellow", "blue"].iter().enumerate() {
            row = row.set(&format!("share_{g}"), (shares[i] * 1e4).round() / 100.0);
        }
    }
    if let Some((g, rule)) = &f.grade {
        row = row
            .set("grade", g.as_str())
            .set("grade_rule", rule.as_str());
    }
    row.build(Shape::MultiPolygon(u.boundary.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_metres_are_written_as_display_with_no_decimals() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.49999999999999994,
            7.0,
            1e15,
            3e15,
            -2.5,
        ];
        for _ in 0..300_000 {
            let d: f64 = rng.gen_range(0.0..50_000.0);
            values.extend([d, d.trunc() + 0.5, d.trunc()]);
        }
        for d in values {
            let mut s = String::new();
            push_whole_metres(&mut s, d);
            assert_eq!(s, format!("{d:.0}"), "{d:e}");
        }
    }

    #[test]
    fn catalogue_parses_with_snake_case_unique_fields() {
        let cat = catalogue();
        assert_eq!(cat.len(), CATALOGUE.len());
        assert!(Layer::ALL.iter().all(|l| cat.contains_key(l)));
        for def in cat.values() {
            let mut seen = std::collections::BTreeSet::new();
            for f in &def.fields {
                assert!(
                    f.name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                    "{}",
                    f.name
                );
                assert!(seen.insert(&f.name), "{}.{} twice", def.name, f.name);
                assert_eq!(
                    f.decimals.is_some(),
                    f.kind == FieldType::Real,
                    "{}.{}: decimals are given for real fields, only",
                    def.name,
                    f.name
                );
                assert!(!f.alias.is_empty());
            }
        }
    }

    #[test]
    fn row_functions_fill_their_layers() {
        let enterprise = crate::model::Enterprise {
            text: crate::model::EnterpriseText::new("E1", "常州某化工有限公司", None, None),
            lon_lat: Point::new(119.9, 31.8),
            assessed_grade: Some(crate::model::Grade::Red),
            people_500m: Some(12),
            admin: Default::default(),
        };
        let e = Graded {
            enterprise,
            rating: crate::model::Rating {
                grade: crate::model::Grade::Red,
                source: crate::model::GradeSource::Assessed,
                reasons: Vec::new(),
            },
        };
        let row = enterprise_row(&e, EnterpriseHazards::default());
        assert_eq!(row.values.len(), def(Layer::Enterprises).fields.len());
        assert_eq!(row.values[0], Value::Str("E1".into()));
        assert!(row.values.contains(&Value::Str("red".into())));
    }
}

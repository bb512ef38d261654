//! Record checks and the rejects ledger.
//!
//! Every record read is either accepted into a typed record or rejected with a
//! [`Reject`] that names its file, row, id, field, value and reason. The
//! [`Ledger`] keeps the accounting per input so that `accepted + rejected ==
//! read` can be checked and reported. Value parsing (numbers, coordinates,
//! dates, enumerations) lives here too, each with a field-level error.

use std::collections::{BTreeMap, HashMap};

use geo::{
    Coord, Geometry, InteriorPoint, MapCoords, MultiLineString, MultiPolygon, Point, Validation,
};
use serde::Serialize;

use crate::crs::ToWgs84;
use crate::ingest::config::{InputKind, InputSpec};
use crate::ingest::load::RawRecord;
use crate::ingest::values::{parse_coordinate, parse_count, parse_date, parse_number};
use crate::model::{
    AdminLevel, AdminUnit, BaseFeature, Chemical, ChemicalPark, DangerLevel, DangerStatus,
    EmergencyResource, Enterprise, EnterpriseText, Enterprises, Grade, HazardUnit, HiddenDanger,
    ResourceKind, Road, SourceRef, UnitKind, VulnerableTarget,
};

/// Why a record was rejected: a stable machine code beside the readable text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// A required field is empty.
    MissingValue,
    /// The record has no location: an empty x or y column, or no geometry.
    MissingCoordinate,
    /// A number (or coordinate) cannot be parsed.
    UnparsableNumber,
    /// Coordinates are not lon/lat degrees although the CRS is geographic, or cannot be transformed.
    CoordinateOutOfRange,
    /// Longitude and latitude are given the wrong way round.
    LonLatSwapped,
    /// The point lies in no administrative unit.
    OutsideStudyArea,
    /// An earlier record of the same input has the same id.
    DuplicateId,
    /// The named enterprise is not among the accepted enterprises.
    UnknownEnterprise,
    /// The named hazard unit is not among the accepted hazard units.
    UnknownUnit,
    /// A quantity or radius is negative (a radius also when zero).
    NegativeQuantity,
    /// The geometry is missing, unreadable, of the wrong type or cannot be repaired.
    InvalidGeometry,
    /// The enterprise's grade is not one of 红/橙/黄/蓝 (red/orange/yellow/blue).
    UnknownGrade,
    /// A field is not one of its allowed values (level, kind, status, category).
    UnknownValue,
    /// A date cannot be parsed.
    UnparsableDate,
    /// A field holds bytes that are not valid text in the expected encoding.
    UndecodableText,
    /// GB 18218 cannot place the chemical, so it has no critical quantity (临界量) Q.
    UnknownChemical,
    /// A CSV line that is no record: a stray quote or a wrong number of fields.
    MalformedRow,
    /// An administrative unit's parent is empty, unknown, rejected, of the wrong level or does not hold most of its area.
    InvalidHierarchy,
}

impl RejectCode {
    /// The stable snake_case code written to the rejects list.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::MissingValue => "missing_value",
            RejectCode::MissingCoordinate => "missing_coordinate",
            RejectCode::UnparsableNumber => "unparsable_number",
            RejectCode::CoordinateOutOfRange => "coordinate_out_of_range",
            RejectCode::LonLatSwapped => "lon_lat_swapped",
            RejectCode::OutsideStudyArea => "outside_study_area",
            RejectCode::DuplicateId => "duplicate_id",
            RejectCode::UnknownEnterprise => "unknown_enterprise",
            RejectCode::UnknownUnit => "unknown_unit",
            RejectCode::NegativeQuantity => "negative_quantity",
            RejectCode::InvalidGeometry => "invalid_geometry",
            RejectCode::UnknownGrade => "unknown_grade",
            RejectCode::UnknownValue => "unknown_value",
            RejectCode::UnparsableDate => "unparsable_date",
            RejectCode::UndecodableText => "undecodable_text",
            RejectCode::UnknownChemical => "unknown_chemical",
            RejectCode::MalformedRow => "malformed_row",
            RejectCode::InvalidHierarchy => "invalid_hierarchy",
        }
    }
}

/// One rejected record.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    /// The input the record came from.
    pub kind: InputKind,
    /// File, layer and row of the record.
    pub source: SourceRef,
    /// The record's id, when it has one.
    pub id: Option<String>,
    /// The source column at fault, or `x/y`, `geometry` or `(row)`.
    pub field: String,
    /// The offending value as read; empty when the value is missing.
    pub value: String,
    /// Machine code of the cause.
    pub code: RejectCode,
    /// Readable reason.
    pub reason: String,
}

/// A problem with one field, before the record's location is attached.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// The source column at fault, or `x/y`, `geometry` or `(row)`.
    pub field: String,
    /// The offending value as read; empty when the value is missing.
    pub value: String,
    /// Machine code of the cause.
    pub code: RejectCode,
    /// Readable reason.
    pub reason: String,
}

impl FieldError {
    /// A field error from its parts.
    pub fn new(field: &str, value: &str, code: RejectCode, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            value: value.to_string(),
            code,
            reason: reason.into(),
        }
    }
}

/// A repair made to a record that was then accepted (said, never silent).
#[derive(Debug, Clone, Serialize)]
pub struct Repair {
    /// File name as written in the project file.
    pub file: String,
    /// Row or feature number of the record (see [`SourceRef::row`]).
    pub row: u64,
    /// The record's id (an administrative unit's code).
    pub id: String,
    /// What was changed, e.g. removed repeated vertices.
    pub what: String,
}

/// Read/accepted/rejected for one input.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Records read from the input.
    pub read: u64,
    /// Records that passed every check and reached the outputs.
    pub accepted: u64,
    /// Records rejected, each with a [`Reject`].
    pub rejected: u64,
}

impl Counts {
    /// Whether accepted + rejected equals read.
    pub fn balanced(&self) -> bool {
        self.accepted + self.rejected == self.read
    }
}

/// All rejects and repairs of a run, with per-input accounting.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Every rejected record.
    pub rejects: Vec<Reject>,
    /// Every repair made to an accepted record.
    pub repairs: Vec<Repair>,
    /// Read, accepted and rejected counts per input.
    pub counts: BTreeMap<InputKind, Counts>,
}

impl Ledger {
    /// Counts one record read from an input.
    pub fn count_read(&mut self, kind: InputKind) {
        self.counts.entry(kind).or_default().read += 1;
    }

    /// How many records of an input have been read so far.
    pub fn read(&self, kind: InputKind) -> u64 {
        self.counts.get(&kind).map_or(0, |c| c.read)
    }

    /// Records a rejected record of an input and counts it.
    pub fn reject(
        &mut self,
        kind: InputKind,
        source: SourceRef,
        id: Option<String>,
        e: FieldError,
    ) {
        self.counts.entry(kind).or_default().rejected += 1;
        self.rejects.push(Reject {
            kind,
            source,
            id,
            field: e.field,
            value: e.value,
            code: e.code,
            reason: e.reason,
        });
    }

    /// Records how many of an input's records reached the outputs.
    pub fn set_accepted(&mut self, kind: InputKind, n: usize) {
        self.counts.entry(kind).or_default().accepted = n as u64;
    }

    /// Whether every input's counts balance.
    pub fn balanced(&self) -> bool {
        self.counts.values().all(Counts::balanced)
    }
}

/// A record that passed its field checks, with its source and id, for the
/// inputs checked further once all are read (the units' hierarchy, the
/// inventory lines' units).
#[derive(Debug, Clone)]
pub struct Staged<T> {
    /// File, layer and row of the record.
    pub source: SourceRef,
    /// The record's id (empty when it has none).
    pub id: String,
    /// The checked record.
    pub record: T,
}

// ---------------------------------------------------------------- records

/// Reads the logical fields of one record, turning each problem into a [`FieldError`].
struct Fields<'a> {
    spec: &'a InputSpec,
    raw: &'a RawRecord,
}

impl<'a> Fields<'a> {
    fn index(&self, field: &str) -> usize {
        self.spec
            .columns
            .iter()
            .position(|(f, _, _)| *f == field)
            .expect("field is declared for this input kind")
    }

    fn column(&self, field: &str) -> String {
        self.spec.column(field).unwrap_or(field).to_string()
    }

    fn optional(&self, field: &str) -> Option<&'a str> {
        self.raw.value(self.index(field))
    }

    fn required(&self, field: &str) -> Result<&'a str, FieldError> {
        self.optional(field).ok_or_else(|| {
            FieldError::new(
                &self.column(field),
                "",
                RejectCode::MissingValue,
                format!("{field} is empty"),
            )
        })
    }

    fn parsed<T>(
        &self,
        field: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, FieldError> {
        match self.optional(field) {
            None => Ok(None),
            Some(text) => parse(text).map(Some).map_err(|reason| {
                let code = if reason.contains("negative") {
                    RejectCode::NegativeQuantity
                } else if reason.contains("date") {
                    RejectCode::UnparsableDate
                } else {
                    RejectCode::UnparsableNumber
                };
                FieldError::new(
                    &self.column(field),
                    text,
                    code,
                    format!("{field} {text:?} {reason}"),
                )
            }),
        }
    }

    fn enumerated<T>(
        &self,
        field: &str,
        parse: impl Fn(&str) -> Option<T>,
        code: RejectCode,
        expected: &str,
    ) -> Result<T, FieldError> {
        let text = self.required(field)?;
        parse(text).ok_or_else(|| {
            FieldError::new(
                &self.column(field),
                text,
                code,
                format!("{field} {text:?} is not one of {expected}"),
            )
        })
    }
}

/// Rejects a line that is no record (a stray quote, a wrong number of
/// fields) and a record whose text could not be decoded, naming the first field.
fn check_text(raw: &RawRecord) -> Result<(), FieldError> {
    if let Some((reason, line)) = &raw.malformed {
        return Err(FieldError::new(
            "(row)",
            line,
            RejectCode::MalformedRow,
            reason.clone(),
        ));
    }
    match raw.undecodable.first() {
        Some((field, lossy)) => Err(FieldError::new(
            field,
            lossy,
            RejectCode::UndecodableText,
            format!("{field} holds bytes that are not valid text in the expected encoding"),
        )),
        None => Ok(()),
    }
}

/// The location of a point record, in WGS 84, from coordinate columns or
/// the feature geometry; `Ok(None)` when the record has none.
pub fn locate(
    raw: &RawRecord,
    spec: &InputSpec,
    to_wgs: &ToWgs84,
) -> Result<Option<Point<f64>>, FieldError> {
    let xy = match (raw.xy_text(), &raw.geometry) {
        (Some((xt, yt)), _) => {
            let columns = spec.xy_columns.as_ref().expect("xy columns");
            column_xy(xt, yt, columns)?
        }
        (None, Some(g)) => match representative_point(g) {
            Some(p) => Some((p.x(), p.y())),
            None => {
                return Err(FieldError::new(
                    "geometry",
                    "",
                    RejectCode::InvalidGeometry,
                    "geometry has no usable point",
                ))
            }
        },
        (None, None) => match &raw.geometry_error {
            Some(e) => {
                return Err(FieldError::new(
                    "geometry",
                    "",
                    RejectCode::InvalidGeometry,
                    format!("geometry cannot be read: {e}"),
                ))
            }
            None => None,
        },
    };
    match xy {
        Some((x, y)) => to_lon_lat(x, y, spec, to_wgs).map(Some),
        None => Ok(None),
    }
}

/// The coordinates in the x and y columns (`Ok(None)` when both are empty).
fn column_xy(
    xt: Option<&str>,
    yt: Option<&str>,
    (xc, yc): &(String, String),
) -> Result<Option<(f64, f64)>, FieldError> {
    let empty = |column: &str| {
        FieldError::new(
            column,
            "",
            RejectCode::MissingCoordinate,
            format!("{column} is empty"),
        )
    };
    let (xt, yt) = match (xt, yt) {
        (None, None) => return Ok(None),
        (None, Some(_)) => return Err(empty(xc)),
        (Some(_), None) => return Err(empty(yc)),
        (Some(x), Some(y)) => (x, y),
    };
    let number = |column: &str, text: &str| {
        parse_coordinate(text).map_err(|r| {
            FieldError::new(
                column,
                text,
                RejectCode::UnparsableNumber,
                format!("{column} {text:?} {r}"),
            )
        })
    };
    Ok(Some((number(xc, xt)?, number(yc, yt)?)))
}

/// Input coordinates (x, y) in WGS 84 lon/lat, refused when a geographic
/// input's values cannot be degrees (swapped, or out of range).
fn to_lon_lat(
    x: f64,
    y: f64,
    spec: &InputSpec,
    to_wgs: &ToWgs84,
) -> Result<Point<f64>, FieldError> {
    // Written out only for a reject: formatting two floats per record costs more than the check.
    let value = || format!("{x}, {y}");
    if to_wgs.crs().is_geographic() && !(x.abs() <= 180.0 && y.abs() <= 90.0) {
        let (code, reason) = if y.abs() <= 180.0 && x.abs() <= 90.0 {
            (
                RejectCode::LonLatSwapped,
                "longitude and latitude are swapped (latitude cannot exceed 90°)".to_string(),
            )
        } else {
            (
                RejectCode::CoordinateOutOfRange,
                out_of_range(x, y, to_wgs.crs()),
            )
        };
        return Err(FieldError::new("x/y", &value(), code, reason));
    }
    let (lon, lat) = to_wgs
        .convert(x, y)
        .filter(|(lon, lat)| lon.is_finite() && lat.is_finite())
        .ok_or_else(|| {
            FieldError::new(
                "x/y",
                &value(),
                RejectCode::CoordinateOutOfRange,
                format!("cannot transform from {}", spec.crs),
            )
        })?;
    Ok(Point::new(lon, lat))
}

/// Why coordinates of a geographic input are not longitude/latitude, and what they may be.
fn out_of_range(x: f64, y: f64, crs: crate::crs::InputCrs) -> String {
    format!(
        "coordinates ({x}, {y}) are outside longitude/latitude range although the input's CRS is {crs} \
         (the project file's crs; without one, a GeoJSON without a crs member is read as WGS 84); {}",
        crate::crs::likely_crs(x, y)
    )
}

/// A point standing for a feature: itself, or an interior point of a site polygon.
fn representative_point(g: &Geometry<f64>) -> Option<Point<f64>> {
    match g {
        Geometry::Point(p) => Some(*p),
        Geometry::MultiPoint(mp) if mp.0.len() == 1 => Some(mp.0[0]),
        other => other.interior_point(),
    }
    .filter(|p| p.x().is_finite() && p.y().is_finite())
}

/// The reject of a second record with the same id, naming the first one's
/// row; `field` is the id's source column.
pub fn duplicate_id(field: &str, id: &str, first_row: u64) -> FieldError {
    FieldError::new(
        field,
        id,
        RejectCode::DuplicateId,
        format!("duplicate id {id:?} (first at row {first_row})"),
    )
}

/// Field checks for one input: its spec and CRS converter. Checks are pure
/// (no state across records), so records can be checked on any thread;
/// duplicate ids are caught afterwards, in file order (see [`crate::ingest::stream`]).
pub struct Checker<'a> {
    /// The input being checked.
    pub spec: &'a InputSpec,
    /// Converts the input's coordinates to WGS 84 lon/lat degrees.
    pub to_wgs: ToWgs84,
}

impl<'a> Checker<'a> {
    /// A checker for one input and its CRS converter.
    pub fn new(spec: &'a InputSpec, to_wgs: ToWgs84) -> Self {
        Checker { spec, to_wgs }
    }

    fn fields<'r>(&'a self, raw: &'r RawRecord) -> Fields<'r>
    where
        'a: 'r,
    {
        Fields {
            spec: self.spec,
            raw,
        }
    }

    /// The record's id, for messages even when the record is rejected.
    pub fn id_of(&self, raw: &RawRecord, id_field: &str) -> Option<String> {
        let i = self
            .spec
            .columns
            .iter()
            .position(|(f, _, _)| *f == id_field)?;
        raw.value(i).map(str::to_string)
    }

    fn required_id(&self, raw: &RawRecord, field: &str) -> Result<String, FieldError> {
        Ok(self.fields(raw).required(field)?.to_string())
    }

    fn required_point(&self, raw: &RawRecord) -> Result<Point<f64>, FieldError> {
        locate(raw, self.spec, &self.to_wgs)?.ok_or_else(|| {
            FieldError::new(
                "x/y",
                "",
                RejectCode::MissingCoordinate,
                "record has no coordinates or geometry",
            )
        })
    }

    /// An administrative unit, with a note of any repair made to its boundary.
    pub fn admin_unit(&self, raw: &RawRecord) -> Result<(AdminUnit, Option<Repair>), FieldError> {
        check_text(raw)?;
        let code = self.required_id(raw, "code")?;
        let f = self.fields(raw);
        let name = f.required("name")?.to_string();
        let level = f.enumerated(
            "level",
            AdminLevel::parse,
            RejectCode::UnknownValue,
            "province, city, district, town",
        )?;
        let parent = f.optional("parent").map(str::to_string);
        let boundary = self.boundary(raw, "an administrative unit")?;
        let repair = boundary.1.map(|what| repair_of(raw, &code, what));
        let unit = AdminUnit {
            code,
            name,
            level,
            parent,
            boundary: boundary.0,
        };
        Ok((unit, repair))
    }

    /// A geometry in WGS 84: a vertex outside lon/lat's range (in a
    /// geographic input CRS) is an error; one the conversion cannot place
    /// becomes NaN, for the caller to reject or repair.
    fn to_wgs84<G>(&self, g: G) -> Result<G, FieldError>
    where
        G: MapCoords<f64, f64, Output = G> + geo::CoordsIter<Scalar = f64>,
    {
        if self.to_wgs.crs().is_geographic() {
            if let Some(c) = g
                .coords_iter()
                .find(|c| !(c.x.abs() <= 180.0 && c.y.abs() <= 90.0))
            {
                return Err(FieldError::new(
                    "geometry",
                    &format!("{}, {}", c.x, c.y),
                    RejectCode::CoordinateOutOfRange,
                    out_of_range(c.x, c.y, self.to_wgs.crs()),
                ));
            }
        }
        Ok(g.map_coords(|c| {
            let (x, y) = self
                .to_wgs
                .convert(c.x, c.y)
                .unwrap_or((f64::NAN, f64::NAN));
            Coord { x, y }
        }))
    }

    /// A polygon record's boundary in WGS 84, repaired where that is safe
    /// (what was done in the second part) and its rings oriented; `what`
    /// names the record in the message when it is not a polygon.
    fn boundary(
        &self,
        raw: &RawRecord,
        what: &str,
    ) -> Result<(MultiPolygon<f64>, Option<String>), FieldError> {
        let boundary = match &raw.geometry {
            Some(Geometry::Polygon(p)) => MultiPolygon(vec![p.clone()]),
            Some(Geometry::MultiPolygon(mp)) => mp.clone(),
            Some(_) => {
                return Err(FieldError::new(
                    "geometry",
                    "",
                    RejectCode::InvalidGeometry,
                    format!("{what} must be a polygon or multipolygon"),
                ))
            }
            None => return Err(no_geometry(raw)),
        };
        let boundary = self.to_wgs84(boundary)?;
        let boundary = repair_boundary(boundary, raw.geometry_valid).map_err(|reason| {
            FieldError::new("geometry", "", RejectCode::InvalidGeometry, reason)
        })?;
        // The join's winding-number test counts a hole only if it runs
        // against its outer ring; rings as read may run either way.
        let boundary = (
            geo::Orient::orient(&boundary.0, geo::orient::Direction::Default),
            boundary.1,
        );
        Ok(boundary)
    }

    /// An enterprise; it must have a location.
    pub fn enterprise(&self, raw: &RawRecord) -> Result<Enterprise, FieldError> {
        check_text(raw)?;
        let id = self.required_id(raw, "id")?;
        let f = self.fields(raw);
        let name = f.required("name")?;
        let assessed_grade = match f.optional("grade") {
            None => None,
            Some(text) => Some(Grade::parse(text).ok_or_else(|| {
                FieldError::new(
                    &f.column("grade"),
                    text,
                    RejectCode::UnknownGrade,
                    format!("grade {text:?} is not one of 红/橙/黄/蓝 (red/orange/yellow/blue)"),
                )
            })?),
        };
        let people_500m = f.parsed("people_500m", parse_count)?;
        let lon_lat = self.required_point(raw)?;
        Ok(Enterprise {
            text: EnterpriseText::new(&id, name, f.optional("industry"), f.optional("address")),
            lon_lat,
            assessed_grade,
            people_500m,
            admin: Default::default(),
        })
    }

    /// A hazard unit of one of the accepted `enterprises`.
    pub fn hazard_unit(
        &self,
        raw: &RawRecord,
        enterprises: &Enterprises,
    ) -> Result<HazardUnit, FieldError> {
        check_text(raw)?;
        let id = self.required_id(raw, "id")?;
        let f = self.fields(raw);
        let enterprise_id = f.required("enterprise_id")?.to_string();
        let enterprise_at = enterprises
            .get(&enterprise_id)
            .map(|e| e.lon_lat)
            .ok_or_else(|| {
                FieldError::new(
                    &f.column("enterprise_id"),
                    &enterprise_id,
                    RejectCode::UnknownEnterprise,
                    format!("enterprise {enterprise_id:?} is not among the accepted enterprises"),
                )
            })?;
        let name = f.required("name")?.to_string();
        let kind = f.enumerated(
            "kind",
            UnitKind::parse,
            RejectCode::UnknownValue,
            "储罐区, 库区, 生产装置",
        )?;
        let radius_m = f.parsed("radius_m", parse_number)?;
        if let Some(r) = radius_m.filter(|r| *r <= 0.0) {
            return Err(FieldError::new(
                &f.column("radius_m"),
                &r.to_string(),
                RejectCode::NegativeQuantity,
                "radius_m must be positive",
            ));
        }
        let people_500m = f.parsed("people_500m", parse_count)?;
        let own = locate(raw, self.spec, &self.to_wgs)?;
        Ok(HazardUnit {
            id,
            enterprise_id,
            name,
            kind,
            lon_lat: own.unwrap_or(enterprise_at),
            located_by_enterprise: own.is_none(),
            radius_m,
            people_500m,
            chemicals: Vec::new(),
            incomplete: false,
            admin: Default::default(),
            assessment: None,
        })
    }

    /// One inventory line; `units` holds the accepted hazard unit ids.
    pub fn chemical(
        &self,
        raw: &RawRecord,
        units: &HashMap<String, usize>,
    ) -> Result<Chemical, FieldError> {
        check_text(raw)?;
        let f = self.fields(raw);
        let unit_id = f.required("unit_id")?.to_string();
        if !units.contains_key(&unit_id) {
            return Err(FieldError::new(
                &f.column("unit_id"),
                &unit_id,
                RejectCode::UnknownUnit,
                format!("hazard unit {unit_id:?} is not among the accepted hazard units"),
            ));
        }
        let name = f.required("name")?.to_string();
        let quantity_t = f
            .parsed("quantity_t", |t| {
                parse_number(t.trim_end_matches(['吨', 't', 'T']).trim())
            })?
            .ok_or_else(|| {
                FieldError::new(
                    &f.column("quantity_t"),
                    "",
                    RejectCode::MissingValue,
                    "quantity_t is empty",
                )
            })?;
        if quantity_t < 0.0 {
            return Err(FieldError::new(
                &f.column("quantity_t"),
                &quantity_t.to_string(),
                RejectCode::NegativeQuantity,
                format!("quantity_t {quantity_t} is negative"),
            ));
        }
        let category = match f.optional("category") {
            None => None,
            Some(text) => {
                let code = text.trim().to_uppercase();
                if !crate::analysis::gb18218::is_category_code(&code) {
                    return Err(FieldError::new(&f.column("category"), text, RejectCode::UnknownValue, format!("category {text:?} is not a GB 18218 Table 2 code (J1 … J5, W1.1 … W11)")));
                }
                Some(code)
            }
        };
        let cas = f.optional("cas").map(str::to_string);
        // A chemical that GB 18218 cannot place has no Q: the line is set
        // aside and its unit computed from the rest (flagged incomplete).
        let resolved =
            crate::analysis::chemicals::resolve(&name, cas.as_deref(), category.as_deref())
                .map_err(|reason| {
                    FieldError::new(
                        &f.column("name"),
                        &name,
                        RejectCode::UnknownChemical,
                        reason,
                    )
                })?;
        Ok(Chemical {
            unit_id,
            name,
            cas,
            category,
            quantity_t,
            resolved,
        })
    }

    /// A hidden danger, of one of the accepted `enterprises` when it names one.
    pub fn hidden_danger(
        &self,
        raw: &RawRecord,
        enterprises: &Enterprises,
    ) -> Result<HiddenDanger, FieldError> {
        check_text(raw)?;
        let id = self.required_id(raw, "id")?;
        let f = self.fields(raw);
        let enterprise_id = f.optional("enterprise_id").map(str::to_string);
        let enterprise_at = match &enterprise_id {
            Some(e) => Some(enterprises.get(e).map(|e| e.lon_lat).ok_or_else(|| {
                FieldError::new(
                    &f.column("enterprise_id"),
                    e,
                    RejectCode::UnknownEnterprise,
                    format!("enterprise {e:?} is not among the accepted enterprises"),
                )
            })?),
            None => None,
        };
        let description = f.required("description")?.to_string();
        let level = f.enumerated(
            "level",
            DangerLevel::parse,
            RejectCode::UnknownValue,
            "重大, 一般",
        )?;
        let status = f.enumerated(
            "status",
            DangerStatus::parse,
            RejectCode::UnknownValue,
            "未整改, 整改中, 已整改, 已销号",
        )?;
        let found = f.parsed("found_date", parse_date)?;
        let due = f.parsed("due_date", parse_date)?;
        let own = locate(raw, self.spec, &self.to_wgs)?;
        let lon_lat = own.or(enterprise_at).ok_or_else(|| {
            FieldError::new(
                "geometry",
                "",
                RejectCode::MissingCoordinate,
                "no location and no enterprise to take one from",
            )
        })?;
        Ok(HiddenDanger {
            id,
            enterprise_id,
            description,
            level,
            status,
            found,
            due,
            lon_lat,
            located_by_enterprise: own.is_none(),
            admin: Default::default(),
            overdue: false,
        })
    }

    /// A vulnerable target; it must have a location.
    pub fn vulnerable_target(&self, raw: &RawRecord) -> Result<VulnerableTarget, FieldError> {
        check_text(raw)?;
        let id = self.required_id(raw, "id")?;
        let f = self.fields(raw);
        let name = f.required("name")?.to_string();
        let kind = f.required("kind")?.to_string();
        let population = f.parsed("population", parse_count)?;
        let lon_lat = self.required_point(raw)?;
        Ok(VulnerableTarget {
            id,
            name,
            kind,
            population,
            lon_lat,
            admin: Default::default(),
        })
    }

    /// A road: lines, with an id when the input has one (else `#` and the row).
    pub fn road(&self, raw: &RawRecord) -> Result<Road, FieldError> {
        check_text(raw)?;
        let id = match self.fields(raw).optional("id") {
            Some(id) => id.to_string(),
            None => format!("#{}", raw.source.row),
        };
        let lines = match &raw.geometry {
            Some(Geometry::LineString(l)) => MultiLineString(vec![l.clone()]),
            Some(Geometry::MultiLineString(m)) => m.clone(),
            Some(_) => {
                return Err(FieldError::new(
                    "geometry",
                    "",
                    RejectCode::InvalidGeometry,
                    "a road must be a line or multiline",
                ))
            }
            None => return Err(no_geometry(raw)),
        };
        let lines = self.placed_wgs84(lines)?;
        Ok(Road { id, lines })
    }

    /// A feature of a base layer: a name where given (required for a
    /// place), its class, a place's population, and a geometry of the
    /// layer's type — a polygon for built-up areas, a line for roads and
    /// railways, either for water, a point for places.
    pub fn base_feature(&self, raw: &RawRecord) -> Result<BaseFeature, FieldError> {
        check_text(raw)?;
        let kind = self.spec.kind;
        let f = self.fields(raw);
        let name = match kind {
            InputKind::BasePlaces => Some(f.required("name")?.to_string()),
            _ => f.optional("name").map(str::to_string),
        };
        let class = f.optional("class").map(str::to_string);
        let population = match kind {
            InputKind::BasePlaces => f.parsed("population", parse_number)?,
            _ => None,
        };
        let geometry = match kind {
            InputKind::BasePlaces => Geometry::Point(self.required_point(raw)?),
            _ => {
                let g = raw.geometry.clone().ok_or_else(|| no_geometry(raw))?;
                let lines = matches!(g, Geometry::LineString(_) | Geometry::MultiLineString(_));
                let areas = matches!(g, Geometry::Polygon(_) | Geometry::MultiPolygon(_));
                let (fits, wanted) = match kind {
                    InputKind::BaseBuiltUp => (areas, "a built-up area must be a polygon"),
                    InputKind::BaseSurroundings => (areas, "a surrounding unit must be a polygon"),
                    InputKind::BaseWater => (lines || areas, "water must be a polygon or a line"),
                    _ => (lines, "a road or railway must be a line or multiline"),
                };
                if !fits {
                    return Err(FieldError::new(
                        "geometry",
                        "",
                        RejectCode::InvalidGeometry,
                        wanted,
                    ));
                }
                self.placed_wgs84(g)?
            }
        };
        let id = name
            .clone()
            .unwrap_or_else(|| format!("#{}", raw.source.row));
        Ok(BaseFeature {
            id,
            name,
            class,
            population,
            geometry,
        })
    }

    /// [`Checker::to_wgs84`], every vertex placed (a vertex the conversion
    /// cannot place is an error).
    fn placed_wgs84<G>(&self, g: G) -> Result<G, FieldError>
    where
        G: MapCoords<f64, f64, Output = G> + geo::CoordsIter<Scalar = f64>,
    {
        let g = self.to_wgs84(g)?;
        if let Some(c) = g
            .coords_iter()
            .find(|c| !(c.x.is_finite() && c.y.is_finite()))
        {
            return Err(FieldError::new(
                "geometry",
                &format!("{}, {}", c.x, c.y),
                RejectCode::CoordinateOutOfRange,
                "a vertex could not be converted to WGS 84 (outside the input CRS's area)",
            ));
        }
        Ok(g)
    }

    /// A chemical park: a polygon with a code and a name.
    pub fn park(&self, raw: &RawRecord) -> Result<(ChemicalPark, Option<Repair>), FieldError> {
        check_text(raw)?;
        let code = self.required_id(raw, "code")?;
        let f = self.fields(raw);
        let name = f.required("name")?.to_string();
        let level = f.optional("level").map(str::to_string);
        let (boundary, repaired) = self.boundary(raw, "a chemical park")?;
        let repair = repaired.map(|what| repair_of(raw, &code, what));
        let park = ChemicalPark {
            code,
            name,
            level,
            boundary,
        };
        Ok((park, repair))
    }

    /// An emergency resource; it must have a location and a known kind.
    pub fn emergency_resource(&self, raw: &RawRecord) -> Result<EmergencyResource, FieldError> {
        check_text(raw)?;
        let id = self.required_id(raw, "id")?;
        let f = self.fields(raw);
        let name = f.required("name")?.to_string();
        let kind = f.enumerated(
            "kind",
            ResourceKind::parse,
            RejectCode::UnknownValue,
            "救援队伍, 消防救援站, 应急物资储备库, 医院, 避难场所 (rescue_team, fire_station, material_depot, hospital, shelter)",
        )?;
        let capacity = f.parsed("capacity", parse_count)?;
        let phone = f.optional("phone").map(str::to_string);
        let lon_lat = self.required_point(raw)?;
        Ok(EmergencyResource {
            id,
            name,
            kind,
            capacity,
            phone,
            lon_lat,
            admin: Default::default(),
        })
    }
}

/// Why a record that needs a geometry has none: GDAL's reason, else missing.
fn no_geometry(raw: &RawRecord) -> FieldError {
    let reason = raw
        .geometry_error
        .clone()
        .unwrap_or_else(|| "geometry is missing".into());
    FieldError::new("geometry", "", RejectCode::InvalidGeometry, reason)
}

/// The note of a repair made to record `id`.
fn repair_of(raw: &RawRecord, id: &str, what: String) -> Repair {
    Repair {
        file: raw.source.file.to_string(),
        row: raw.source.row,
        id: id.to_string(),
        what,
    }
}

/// The level a unit's parent must have: one up (a town's parent is a
/// district, a district's a city, a city's a province).
fn parent_level(level: AdminLevel) -> Option<AdminLevel> {
    match level {
        AdminLevel::Province => None,
        AdminLevel::City => Some(AdminLevel::Province),
        AdminLevel::District => Some(AdminLevel::City),
        AdminLevel::Town => Some(AdminLevel::District),
    }
}

/// Share of `child`'s area inside `parent`, estimated on a lattice of up to
/// about 400 points spread over the child (its interior point when the
/// lattice misses a small child).
fn share_inside(
    child: &MultiPolygon<f64>,
    parent: &geo::indexed::IntervalTreeMultiPolygon<f64>,
) -> f64 {
    use geo::{BoundingRect, Contains};
    let Some(r) = child.bounding_rect() else {
        return 0.0;
    };
    let own = geo::indexed::IntervalTreeMultiPolygon::new(child);
    let n = 20;
    let (mut inside_child, mut inside_both) = (0u32, 0u32);
    for i in 0..n {
        for j in 0..n {
            let p = Point::new(
                r.min().x + (i as f64 + 0.5) / n as f64 * r.width(),
                r.min().y + (j as f64 + 0.5) / n as f64 * r.height(),
            );
            if own.contains(&p) {
                inside_child += 1;
                inside_both += u32::from(parent.contains(&p));
            }
        }
    }
    if inside_child == 0 {
        return match child.interior_point() {
            Some(p) if parent.contains(&p) => 1.0,
            _ => 0.0,
        };
    }
    f64::from(inside_both) / f64::from(inside_child)
}

/// A unit that failed the hierarchy checks, with why.
pub type UnitReject = (Staged<AdminUnit>, FieldError);

/// Checks the hierarchy of the accepted units, coarse levels first: a unit's
/// parent must be among them, one level up (a town may sit directly in a
/// city that has no districts), and hold most of its area. Units of the
/// coarsest level present may name a parent outside the file (the province of
/// a city's boundaries). Returns the units that pass and the rejects.
pub fn check_hierarchy(
    mut units: Vec<Staged<AdminUnit>>,
    parent_column: &str,
) -> (Vec<Staged<AdminUnit>>, Vec<UnitReject>) {
    units.sort_by_key(|u| u.record.level);
    let Some(top) = units.first().map(|u| u.record.level) else {
        return (units, Vec::new());
    };
    // Cities that have districts (a town may sit directly only in the others).
    let has_districts: std::collections::HashSet<String> = units
        .iter()
        .filter(|u| u.record.level == AdminLevel::District)
        .filter_map(|u| u.record.parent.clone())
        .collect();
    let all_codes: HashMap<String, u64> = units
        .iter()
        .map(|u| (u.record.code.clone(), u.source.row))
        .collect();
    let mut accepted: Vec<Staged<AdminUnit>> = Vec::with_capacity(units.len());
    let mut by_code: HashMap<String, usize> = HashMap::new();
    let mut fast: HashMap<usize, geo::indexed::IntervalTreeMultiPolygon<f64>> = HashMap::new();
    let mut rejected = Vec::new();
    for unit in units {
        let u = &unit.record;
        let reject = |reason: String| {
            FieldError::new(
                parent_column,
                u.parent.as_deref().unwrap_or(""),
                RejectCode::InvalidHierarchy,
                reason,
            )
        };
        let verdict = match (&u.parent, parent_level(u.level)) {
            _ if u.level == top => Ok(()),
            (None, _) | (_, None) => Err(reject(format!(
                "parent is empty: a {} must name the unit it belongs to",
                u.level.as_str()
            ))),
            (Some(code), Some(want)) => match by_code.get(code) {
                None if all_codes.contains_key(code) => Err(reject(format!(
                    "parent {code} was itself rejected (row {})",
                    all_codes[code]
                ))),
                None => Err(reject(format!(
                    "parent {code} is not among the administrative units"
                ))),
                Some(&i) => {
                    let p = &accepted[i].record;
                    let misfit = level_misfit(u, p, want, &has_districts).or_else(|| {
                        let index = fast.entry(i).or_insert_with(|| {
                            geo::indexed::IntervalTreeMultiPolygon::new(&p.boundary)
                        });
                        area_misfit(u, p, index)
                    });
                    misfit.map_or(Ok(()), |reason| Err(reject(reason)))
                }
            },
        };
        match verdict {
            Ok(()) => {
                by_code.insert(u.code.clone(), accepted.len());
                accepted.push(unit);
            }
            Err(e) => rejected.push((unit, e)),
        }
    }
    (accepted, rejected)
}

/// Why `u` cannot sit in `p` by level, if it cannot: `p` must be of the
/// level `want` above `u`, except that a town may sit directly in a city
/// without districts.
fn level_misfit(
    u: &AdminUnit,
    p: &AdminUnit,
    want: AdminLevel,
    has_districts: &std::collections::HashSet<String>,
) -> Option<String> {
    let town_in_city = u.level == AdminLevel::Town
        && p.level == AdminLevel::City
        && !has_districts.contains(&p.code);
    (p.level != want && !town_in_city).then(|| {
        format!(
            "parent {} ({}) is a {}, but a {}'s parent must be a {}",
            p.code,
            p.name,
            p.level.as_str(),
            u.level.as_str(),
            want.as_str()
        )
    })
}

/// Why `u` cannot sit in `p` by area, if it cannot: at least half of it must
/// lie inside `p` (`index` is `p`'s boundary, indexed).
fn area_misfit(
    u: &AdminUnit,
    p: &AdminUnit,
    index: &geo::indexed::IntervalTreeMultiPolygon<f64>,
) -> Option<String> {
    let share = share_inside(&u.boundary, index);
    (share < 0.5).then(|| {
        format!(
            "only {:.0} % of its area lies inside its parent {} ({}): \
             the parent code or the boundary is wrong",
            share * 100.0,
            p.code,
            p.name
        )
    })
}

/// Makes a boundary valid where that is safe: drops repeated vertices and, for
/// self-intersections or bad ring order, rebuilds it with geo's `MakeValid`.
/// Returns the boundary and a note of what was changed, if anything.
pub fn repair_boundary(
    mp: MultiPolygon<f64>,
    known_valid: Option<bool>,
) -> Result<(MultiPolygon<f64>, Option<String>), String> {
    use geo::{Area, MakeValid, RemoveRepeatedPoints};
    if mp.0.is_empty() {
        return Err("geometry is empty".into());
    }
    if mp
        .iter()
        .flat_map(|p| p.exterior().coords())
        .any(|c| !(c.x.is_finite() && c.y.is_finite()))
    {
        return Err("geometry has a non-finite coordinate".into());
    }
    // geo's validity check is quadratic on long rings; GEOS's answer from
    // the reader is used when there is one.
    if known_valid.unwrap_or_else(|| mp.is_valid()) {
        return Ok((mp, None));
    }
    let problem = mp
        .validation_errors()
        .first()
        .map(|e| e.to_string())
        .unwrap_or_else(|| "invalid".into());
    let deduped = mp.remove_repeated_points();
    if deduped.is_valid() {
        return Ok((
            deduped,
            Some(format!("removed repeated vertices ({problem})")),
        ));
    }
    // Areas are compared unsigned: a bow-tie's lobes cancel in its signed
    // area, so a repair that keeps both lobes changes the area a lot and is
    // refused rather than trusted.
    let before = deduped.unsigned_area();
    let fixed = deduped
        .make_valid()
        .map_err(|e| format!("invalid geometry that cannot be repaired ({problem}): {e:?}"))?;
    let after = fixed.unsigned_area();
    if fixed.0.is_empty() || !fixed.is_valid() || (after - before).abs() > 0.01 * before {
        return Err(format!(
            "invalid geometry ({problem}); repair would change its area by more than 1 %"
        ));
    }
    Ok((
        fixed,
        Some(format!("repaired invalid geometry ({problem})")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Area};

    #[test]
    fn duplicate_ids_name_the_first_row() {
        let e = duplicate_id("id", "E1", 2);
        assert_eq!(e.code, RejectCode::DuplicateId);
        assert!(e.reason.contains("row 2"));
    }

    #[test]
    fn ledger_accounting() {
        let mut l = Ledger::default();
        for _ in 0..3 {
            l.count_read(InputKind::Enterprises);
        }
        let src = SourceRef {
            file: crate::model::SourceName::intern("e.csv"),
            layer: None,
            row: 2,
        };
        l.reject(
            InputKind::Enterprises,
            src,
            None,
            FieldError::new("lon", "x", RejectCode::UnparsableNumber, "bad"),
        );
        l.set_accepted(InputKind::Enterprises, 1);
        assert!(!l.balanced());
        l.set_accepted(InputKind::Enterprises, 2);
        assert!(l.balanced());
    }

    #[test]
    fn repairs_a_bowtie_and_passes_a_valid_polygon() {
        let valid = MultiPolygon(vec![
            polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)],
        ]);
        let (same, note) = repair_boundary(valid.clone(), None).unwrap();
        assert_eq!(same, valid);
        assert!(note.is_none());
        let dup = MultiPolygon(vec![
            polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)],
        ]);
        // Repeated vertices are valid by OGC rules and pass unchanged.
        let (same, note) = repair_boundary(dup.clone(), None).unwrap();
        assert!(same == dup && note.is_none());
        // A bow-tie: its lobes cancel in the signed area; repaired it would
        // cover 50, so the 1 % rule refuses it.
        let bowtie = MultiPolygon(vec![
            polygon![(x: 0., y: 0.), (x: 0., y: 10.), (x: 10., y: 0.), (x: 10., y: 10.)],
        ]);
        let err = repair_boundary(bowtie, Some(false)).unwrap_err();
        assert!(err.contains("more than 1 %"), "{err}");
        // A lopsided bow-tie (lobes 100 and 1): repairing changes the area by 2 %.
        let lopsided = MultiPolygon(vec![
            polygon![(x: -1., y: -1.), (x: -1., y: 1.), (x: 10., y: -10.), (x: 10., y: 10.)],
        ]);
        assert!(repair_boundary(lopsided, Some(false)).is_err());
        // A spike back along an edge: the repair removes it at no change of area.
        let spike = MultiPolygon(vec![
            polygon![(x: 0., y: 0.), (x: 10., y: 0.), (x: 12., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)],
        ]);
        let (fixed, note) = repair_boundary(spike, Some(false)).unwrap();
        assert!(fixed.is_valid());
        assert!((fixed.unsigned_area() - 100.0).abs() < 1e-9);
        assert!(note.unwrap().contains("repaired"));
    }

    fn staged_unit(
        code: &str,
        level: AdminLevel,
        parent: Option<&str>,
        x0: f64,
        x1: f64,
    ) -> Staged<AdminUnit> {
        Staged {
            source: SourceRef {
                file: crate::model::SourceName::intern("b.geojson"),
                layer: None,
                row: code.len() as u64,
            },
            id: code.into(),
            record: AdminUnit {
                code: code.into(),
                name: format!("unit {code}"),
                level,
                parent: parent.map(str::to_string),
                boundary: MultiPolygon(vec![
                    polygon![(x: x0, y: 0.), (x: x1, y: 0.), (x: x1, y: 1.), (x: x0, y: 1.)],
                ]),
            },
        }
    }

    #[test]
    fn hierarchy_needs_an_existing_parent_one_level_up_holding_the_unit() {
        use AdminLevel::*;
        let units = vec![
            staged_unit("320400", City, Some("320000"), 0.0, 4.0),
            staged_unit("320402", District, Some("320400"), 0.0, 1.0),
            staged_unit("320402001", Town, Some("320402"), 0.0, 0.5),
            // No such parent.
            staged_unit("320499001", Town, Some("320499"), 0.5, 1.0),
            // Mostly outside its parent 320402 (x 0 … 1).
            staged_unit("320402002", Town, Some("320402"), 0.8, 2.0),
            // A town whose parent is a city that has districts.
            staged_unit("320400003", Town, Some("320400"), 3.0, 4.0),
            // A district outside its city, and its town.
            staged_unit("320413", District, Some("320400"), 5.0, 6.0),
            staged_unit("320413001", Town, Some("320413"), 5.0, 5.5),
            // A district without a parent.
            staged_unit("320414", District, None, 1.0, 2.0),
        ];
        let (ok, bad) = check_hierarchy(units, "parent");
        let mut ok: Vec<&str> = ok.iter().map(|u| u.record.code.as_str()).collect();
        ok.sort();
        assert_eq!(ok, ["320400", "320402", "320402001"]);
        let reason = |code: &str| {
            bad.iter()
                .find(|(u, _)| u.record.code == code)
                .map(|(_, e)| (e.code, e.reason.clone()))
                .unwrap()
        };
        assert_eq!(reason("320499001").0, RejectCode::InvalidHierarchy);
        assert!(reason("320499001").1.contains("not among"));
        assert!(
            reason("320402002").1.contains("% of its area"),
            "{:?}",
            reason("320402002")
        );
        assert!(reason("320400003").1.contains("must be a district"));
        assert!(reason("320413").1.contains("% of its area"));
        assert!(reason("320413001").1.contains("itself rejected"));
        assert!(reason("320414").1.contains("parent is empty"));
        // A town may sit directly in a city without districts (不设区的市).
        let units = vec![
            staged_unit("441900", City, Some("440000"), 0.0, 4.0),
            staged_unit("441900001", Town, Some("441900"), 0.0, 1.0),
        ];
        let (ok, bad) = check_hierarchy(units, "parent");
        assert_eq!((ok.len(), bad.len()), (2, 0));
    }
}

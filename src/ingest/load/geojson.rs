//! GeoJSON inputs read with serde_json when that reads exactly as GDAL would.
//!
//! GDAL's GeoJSON driver builds a JSON object tree and then an OGR feature
//! for every record: a 5 MB boundary file takes it about 0.3 s of a core,
//! beside the enterprises' reading at the start of every run. Only what
//! reads exactly as through GDAL is taken here: a FeatureCollection with no
//! `crs` member, a string or no `name` and no feature `id`; mapped columns whose values
//! are all strings (GDAL is asked to keep dates as written) or all
//! integers; 2D Points, MultiPoints, LineStrings, MultiLineStrings,
//! Polygons and MultiPolygons with closed rings and no empty part. A point
//! is made here; any other geometry goes through GDAL's WKB reader, for the
//! same checks as through GDAL. Coordinates are parsed from their text with
//! Rust's correctly rounded parser, as GDAL's `strtod` does. Every other
//! GeoJSON file is left to [`super::GdalReader`].

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{
    checked_geometry, decoder_for, layer_crs, layer_error, map_columns, row_text, source_names,
    take_gdal_messages, undecodable_note, ColumnMap, Driver, LoadError, RawRecord, ReadSummary,
    Reader,
};
use crate::ingest::config::InputSpec;
use crate::model::SourceRef;

/// Files larger than this are left to GDAL, which streams them; this reader
/// holds the whole file and its features at once.
const MAX_BYTES: u64 = 64 << 20;

/// A GeoJSON input parsed and found to read exactly as through GDAL.
pub struct Plan {
    /// The layer's name as GDAL gives it.
    layer: String,
    /// Where the mapped fields are among the properties' names, in the order
    /// they first appear (GDAL's fields).
    map: ColumnMap,
    features: Vec<Feature>,
}

impl Plan {
    /// The plan for `spec`, or `None` when the file must go through GDAL.
    pub fn for_input(spec: &InputSpec) -> Option<Plan> {
        // GDAL decodes column names with the input's encoding; UTF-8 here.
        if spec.layer.is_some()
            || spec.encoding.is_some()
            || std::fs::metadata(&spec.path).ok()?.len() > MAX_BYTES
        {
            return None;
        }
        let bytes = std::fs::read(&spec.path).ok()?;
        let text = std::str::from_utf8(&bytes).ok()?;
        // GDAL's GeoJSON driver declines a file that mentions a TopoJSON
        // topology near its start.
        if text.contains("\"Topology\"") {
            return None;
        }
        let collection: Collection = object(serde_json::from_str(text).ok()?)?;
        if collection.kind != "FeatureCollection" || collection.crs.is_some() {
            return None;
        }
        // GDAL names the layer after the collection's `name`, else the file.
        let layer = match collection.name {
            Some(name) => serde_json::from_str::<String>(name.get()).ok()?,
            None => spec.path.file_stem()?.to_string_lossy().into_owned(),
        };
        if layer.contains('\0') {
            return None;
        }
        let raw_features = collection.features?;
        let mut columns: Vec<String> = Vec::new();
        let mut features = Vec::with_capacity(raw_features.len());
        for raw in raw_features {
            let f: RawFeature = object(raw)?;
            if f.kind != "Feature" || f.id.is_some() {
                return None;
            }
            let mut values = Vec::new();
            for (key, value) in f.properties.map(|p| p.0).unwrap_or_default() {
                if key.is_empty() || key.contains('\0') {
                    return None;
                }
                let column = match columns.iter().position(|c| *c == key) {
                    Some(i) => i,
                    None => {
                        columns.push(key.into_owned());
                        columns.len() - 1
                    }
                };
                if values.iter().any(|(c, _)| *c == column) {
                    return None; // a key twice in one feature
                }
                values.push((column, value));
            }
            let geometry = match f.geometry {
                None => None,
                Some(g) => Some(Shape::parse(&object(g)?)?),
            };
            features.push(Feature { values, geometry });
        }
        // GDAL orders names that differ only in case otherwise, and a field
        // is found by its name in any case: such names are left to GDAL.
        let folded: std::collections::HashSet<String> =
            columns.iter().map(|c| c.trim().to_lowercase()).collect();
        if folded.len() < columns.len() {
            return None;
        }
        let map = map_columns(spec, &columns, features.is_empty(), Driver::GeoJson).ok()?;
        if !(0..columns.len())
            .filter(|&c| map.reads(c))
            .all(|c| column_reads_as_gdal(&features, c))
        {
            return None;
        }
        Some(Plan {
            layer,
            map,
            features,
        })
    }
}

/// Whether a mapped column's values read the same here as through GDAL:
/// all strings or all integers.
fn column_reads_as_gdal(features: &[Feature], column: usize) -> bool {
    let values = features
        .iter()
        .flat_map(|f| f.values.iter().filter(move |(c, _)| *c == column))
        .map(|(_, v)| v);
    let (mut text, mut integer) = (false, false);
    for v in values {
        match v {
            Value::Null => {}
            Value::Text(_) => text = true,
            Value::Integer(_) => integer = true,
            _ => return false,
        }
    }
    !(text && integer)
}

/// `raw` as a `T` when it is a JSON object: serde's derived structs also
/// take an array of the fields' values, which GDAL does not.
fn object<'a, T: Deserialize<'a>>(raw: &'a RawValue) -> Option<T> {
    raw.get()
        .starts_with('{')
        .then(|| serde_json::from_str(raw.get()).ok())?
}

/// A top-level GeoJSON object (only what decides the plan).
#[derive(Deserialize)]
struct Collection<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    crs: Option<IgnoredAny>,
    #[serde(default, borrow)]
    name: Option<&'a RawValue>,
    #[serde(default, borrow)]
    features: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct RawFeature<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    id: Option<IgnoredAny>,
    #[serde(default, borrow)]
    properties: Option<Properties<'a>>,
    #[serde(default, borrow)]
    geometry: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawGeometry<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    coordinates: Option<&'a RawValue>,
}

/// A feature's properties in the file's order, a key given twice kept twice.
struct Properties<'a>(Vec<(Cow<'a, str>, Value)>);

impl<'de: 'a, 'a> Deserialize<'de> for Properties<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pairs<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Pairs<'a> {
            type Value = Properties<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
                let mut pairs = Vec::new();
                while let Some(key) = m.next_key::<Cow<'de, str>>()? {
                    pairs.push((key, m.next_value::<Value>()?));
                }
                Ok(Properties(pairs))
            }
        }
        d.deserialize_map(Pairs(std::marker::PhantomData))
    }
}

/// A property's value, as far as it matters here.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    /// A string, up to its first NUL (GDAL's C strings end there).
    Text(String),
    /// An integer, written as GDAL writes an integer field.
    Integer(String),
    /// Anything else: a real, a boolean, an array or an object.
    Other,
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
                Ok(Value::Text(s.split('\0').next().unwrap_or("").to_string()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
                Ok(Value::Integer(n.to_string()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
                Ok(match i64::try_from(n) {
                    Ok(n) => Value::Integer(n.to_string()),
                    Err(_) => Value::Other,
                })
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value, E> {
                Ok(Value::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Value, E> {
                Ok(Value::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Value::Other)
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Value, M::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Value::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// One feature: its values by column, and its geometry.
struct Feature {
    values: Vec<(usize, Value)>,
    geometry: Option<Shape>,
}

/// A geometry as read: a point, or any other type as WKB for GDAL.
enum Shape {
    Point(f64, f64),
    Wkb(Vec<u8>),
}

/// Nested coordinate arrays, parsed from their text.
enum Nested {
    Number(f64),
    List(Vec<Nested>),
}

impl Shape {
    /// The geometry, or `None` when it is of a kind, shape or dimension
    /// this reader leaves to GDAL.
    fn parse(g: &RawGeometry) -> Option<Shape> {
        let coordinates = nested(g.coordinates?.get())?;
        let mut wkb = Vec::new();
        match g.kind.as_ref() {
            "Point" => {
                let [x, y] = position(&coordinates)?;
                return Some(Shape::Point(x, y));
            }
            "MultiPoint" => {
                let points = list(&coordinates)?;
                counted(&mut wkb, 4, points.len());
                for p in points {
                    kind(&mut wkb, 1);
                    xy(&mut wkb, position(p)?);
                }
            }
            "LineString" => {
                kind(&mut wkb, 2);
                positions(&mut wkb, &coordinates, false)?;
            }
            "MultiLineString" => {
                let lines = list(&coordinates)?;
                counted(&mut wkb, 5, lines.len());
                for l in lines {
                    kind(&mut wkb, 2);
                    positions(&mut wkb, l, false)?;
                }
            }
            "Polygon" => polygon(&mut wkb, &coordinates)?,
            "MultiPolygon" => {
                let polygons = list(&coordinates)?;
                counted(&mut wkb, 6, polygons.len());
                for p in polygons {
                    polygon(&mut wkb, p)?;
                }
            }
            _ => return None,
        }
        Some(Shape::Wkb(wkb))
    }
}

/// A little-endian WKB geometry header of type `code`.
fn kind(wkb: &mut Vec<u8>, code: u32) {
    wkb.push(1);
    wkb.extend(code.to_le_bytes());
}

/// A WKB header of type `code` and its count of parts.
fn counted(wkb: &mut Vec<u8>, code: u32, parts: usize) {
    kind(wkb, code);
    wkb.extend((parts as u32).to_le_bytes());
}

/// A position's two coordinates.
fn xy(wkb: &mut Vec<u8>, [x, y]: [f64; 2]) {
    wkb.extend(x.to_le_bytes());
    wkb.extend(y.to_le_bytes());
}

/// A polygon's WKB: its rings, each closed.
fn polygon(wkb: &mut Vec<u8>, coordinates: &Nested) -> Option<()> {
    let rings = list(coordinates)?;
    counted(wkb, 3, rings.len());
    for ring in rings {
        positions(wkb, ring, true)?;
    }
    Some(())
}

/// A count and the positions of a line or ring (`closed`: first = last).
fn positions(wkb: &mut Vec<u8>, coordinates: &Nested, closed: bool) -> Option<()> {
    let points = list(coordinates)?;
    let coords: Vec<[f64; 2]> = points.iter().map(position).collect::<Option<_>>()?;
    if closed && (coords.len() < 4 || coords[0] != coords[coords.len() - 1]) {
        return None;
    }
    wkb.extend((points.len() as u32).to_le_bytes());
    coords.into_iter().for_each(|c| xy(wkb, c));
    Some(())
}

/// A non-empty array's items.
fn list(n: &Nested) -> Option<&[Nested]> {
    match n {
        Nested::List(items) if !items.is_empty() => Some(items),
        _ => None,
    }
}

/// A position of exactly two numbers.
fn position(n: &Nested) -> Option<[f64; 2]> {
    match list(n)? {
        [Nested::Number(x), Nested::Number(y)] => Some([*x, *y]),
        _ => None,
    }
}

/// Coordinate arrays from their JSON text (already checked by serde_json).
fn nested(text: &str) -> Option<Nested> {
    let mut rest = text.trim_start();
    let n = nested_at(&mut rest)?;
    rest.trim_start().is_empty().then_some(n)
}

fn nested_at(rest: &mut &str) -> Option<Nested> {
    *rest = rest.trim_start();
    if let Some(after) = rest.strip_prefix('[') {
        *rest = after.trim_start();
        let mut items = Vec::new();
        if let Some(after) = rest.strip_prefix(']') {
            *rest = after;
            return Some(Nested::List(items));
        }
        loop {
            items.push(nested_at(rest)?);
            *rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix(',') {
                *rest = after;
            } else if let Some(after) = rest.strip_prefix(']') {
                *rest = after;
                return Some(Nested::List(items));
            } else {
                return None;
            }
        }
    }
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
        .unwrap_or(rest.len());
    let token = &rest[..end];
    // GDAL reads a number without a point or exponent as a 64-bit integer
    // (so `-0` is 0); one beyond that range is left to it.
    let value = if token.contains(['.', 'e', 'E']) {
        token.parse::<f64>().ok()?
    } else {
        token.parse::<i64>().ok()? as f64
    };
    *rest = &rest[end..];
    value.is_finite().then_some(Nested::Number(value))
}

/// Reads a GeoJSON input by its [`Plan`].
pub struct GeojsonReader(pub Plan);

impl Reader for GeojsonReader {
    fn read<C>(
        &self,
        spec: &InputSpec,
        start: impl FnOnce(&ReadSummary) -> Result<C, String>,
        mut each: impl FnMut(&mut C, RawRecord),
    ) -> Result<(C, ReadSummary), LoadError> {
        let plan = &self.0;
        let mut summary = ReadSummary::opening(
            Driver::GeoJson,
            plan.layer.clone(),
            layer_crs(spec, Some(4326), &plan.map),
            Some(plan.features.len()),
        );
        let mut context = start(&summary).map_err(|m| layer_error(spec, m))?;
        let decoder = decoder_for(spec, Driver::GeoJson);
        let names = source_names(spec);
        let mut bad_text = 0u64;
        take_gdal_messages();
        for (k, f) in plan.features.iter().enumerate() {
            let text = row_text(spec, &plan.map, &decoder, |i| {
                f.values
                    .iter()
                    .find(|(c, _)| *c == i)
                    .and_then(|(_, v)| match v {
                        Value::Text(t) | Value::Integer(t) => Some(t.as_bytes()),
                        _ => None,
                    })
            });
            bad_text += u64::from(!text.undecodable.is_empty());
            let (geometry, geometry_valid, geometry_error) = match (&f.geometry, &plan.map.xy) {
                (_, Some(_)) | (None, _) => (None, None, None),
                (Some(Shape::Point(x, y)), _) => (Some(geo::Point::new(*x, *y).into()), None, None),
                (Some(Shape::Wkb(wkb)), _) => match gdal::vector::Geometry::from_wkb(wkb) {
                    Ok(g) => checked_geometry(&g),
                    Err(e) => (None, None, Some(e.to_string())),
                },
            };
            let source = SourceRef {
                file: names.0,
                layer: names.1,
                row: k as u64 + 1,
            };
            let record = RawRecord {
                geometry,
                geometry_valid,
                geometry_error,
                ..text.into_record(source, plan.map.xy.is_some())
            };
            each(&mut context, record);
        }
        let total = plan.features.len() as u64;
        summary.encoding_hint = undecodable_note(spec, Driver::GeoJson, bad_text, total);
        summary.warnings = take_gdal_messages();
        Ok((context, summary))
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::crs::InputCrs;
    use crate::ingest::config::InputKind;
    use crate::ingest::load::test_support::records;
    use crate::ingest::load::GdalReader;

    fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn spec(path: &Path, kind: InputKind, fields: &[(&'static str, &str)]) -> InputSpec {
        InputSpec {
            kind,
            display_path: path.file_name().unwrap().to_string_lossy().into_owned(),
            path: path.to_path_buf(),
            layer: None,
            crs: InputCrs::Wgs84,
            crs_given: false,
            encoding: None,
            xy_columns: None,
            columns: fields
                .iter()
                .map(|(f, c)| (*f, c.to_string(), true))
                .collect(),
            max_scale: None,
        }
    }

    /// The file is read here, and exactly as GDAL reads it.
    fn same_as_gdal(spec: &InputSpec) -> Vec<String> {
        let plan = Plan::for_input(spec).expect("read without GDAL");
        let here = records(&GeojsonReader(plan), spec);
        let gdal = records(&GdalReader(Driver::GeoJson), spec);
        assert_eq!(here.1, gdal.1);
        assert_eq!(here.0.len(), gdal.0.len());
        for (a, b) in here.0.iter().zip(&gdal.0) {
            assert_eq!(a, b);
        }
        here.0
    }

    const UNIT_FIELDS: &[(&str, &str)] = &[
        ("code", "adcode"),
        ("name", "name"),
        ("level", "level"),
        ("parent", "parent"),
    ];

    #[test]
    fn boundaries_read_the_same_as_through_gdal() {
        super::super::configure_gdal();
        let dir = tempfile::tempdir().unwrap();
        // Polygons valid and not, holes, a multipolygon, full-precision and
        // integer coordinates, an integer code column, escapes, a NUL, blank
        // and missing values, a null geometry, keys in another order.
        let path = file(
            dir.path(),
            "units.geojson",
            r#"{"type": "FeatureCollection", "name": " 边界 ", "features": [
  {"type": "Feature", "properties": {"adcode": 320400, "name": "常州市", "level": "city"},
   "geometry": {"type": "Polygon", "coordinates": [[[119.1, 31.1], [120.2, 31.1], [120.2, 32.1], [119.1, 32.1], [119.1, 31.1]],
     [[119.5, 31.5], [119.6, 31.5], [119.6, 31.6], [119.5, 31.5]]]}},
  {"type": "Feature", "properties": {"level": "district", "name": "天宁\u533a\u0000尾", "adcode": 320402, "parent": null, "extra": [1, {"a": 2.5}]},
   "geometry": {"type": "MultiPolygon", "coordinates": [[[[119.95123456789012, 31.7512345678901], [120.05, 31.75], [120.05, 31.85], [119.95123456789012, 31.7512345678901]]],
     [[[120, 31], [121, 31], [121, 32], [120, 31]]]]}},
  {"type": "Feature", "properties": {"adcode": 320411, "name": " 新北区 ", "level": "district", "parent": ""},
   "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}},
  {"type": "Feature", "properties": {"adcode": -7, "name": "无界", "level": "district"}, "geometry": null},
  {"type": "Feature", "properties": null, "geometry": {"type": "Polygon", "coordinates": [[[1, 1], [2, 1], [2, 2], [1, 1]]]}}
]}"#,
        );
        let read = same_as_gdal(&spec(&path, InputKind::AdminUnits, UNIT_FIELDS));
        assert_eq!(read.len(), 5);
        assert_eq!(
            Plan::for_input(&spec(&path, InputKind::AdminUnits, UNIT_FIELDS))
                .unwrap()
                .layer,
            " 边界 "
        );
        assert!(
            read[1].contains("天宁区") && !read[1].contains("尾"),
            "{}",
            read[1]
        );
        assert!(
            read[2].contains("geometry_valid: Some(false)"),
            "{}",
            read[2]
        );
    }

    #[test]
    fn points_and_lines_read_the_same_as_through_gdal() {
        super::super::configure_gdal();
        let dir = tempfile::tempdir().unwrap();
        let path = file(
            dir.path(),
            "firms.json",
            r#"{"type":"FeatureCollection","name":null,"features":[
{"type":"Feature","properties":{"id":"E1","name":"常州化工","人数":12},"geometry":{"type":"Point","coordinates":[119.979898,32.545383]}},
{"type":"Feature","properties":{"id":"E2","name":"江南电子","人数":null},"geometry":{"type":"Point","coordinates":[1e2,3.25E1]}},
{"type":"Feature","properties":{"id":"E7","name":"零点","人数":0},"geometry":{"type":"Point","coordinates":[-0,-0.0]}},
{"type":"Feature","properties":{"id":"E3","name":"两点"},"geometry":{"type":"MultiPoint","coordinates":[[120,31],[120.5,31.5]]}},
{"type":"Feature","properties":{"id":"E4","name":"管线"},"geometry":{"type":"LineString","coordinates":[[120,31],[120.5,31.5]]}},
{"type":"Feature","properties":{"id":"E5","name":"管网"},"geometry":{"type":"MultiLineString","coordinates":[[[120,31],[120.5,31.5]],[[121,31],[121,32]]]}},
{"type":"Feature","properties":{"name":"无位置","id":"E6"}}
]}"#,
        );
        let fields = [("id", "id"), ("name", "name"), ("people_500m", "人数")];
        let read = same_as_gdal(&spec(&path, InputKind::Enterprises, &fields));
        assert_eq!(read.len(), 7);
        assert_eq!(
            Plan::for_input(&spec(&path, InputKind::Enterprises, &fields))
                .unwrap()
                .layer,
            "firms"
        );
        assert!(read[0].contains("119.979898"), "{}", read[0]);
    }

    #[test]
    fn dates_read_as_written_here_and_through_gdal() {
        super::super::configure_gdal();
        let dir = tempfile::tempdir().unwrap();
        // Each column all of one kind GDAL would otherwise type (and give
        // back reformatted): dates, date-times, times, date-like ids.
        let rows = [
            [
                "2026-01-01",
                "2026-03-05",
                "2026-03-05T10:00:00+08:00",
                "12:30",
            ],
            [
                "2026-01-02",
                "2026/3/5",
                "2026-03-05 10:00:00.5",
                "08:00:01",
            ],
            [
                "2026-01-03",
                "-2020-01-01",
                "2026/03/05 23:59",
                "23:59:59.250",
            ],
        ];
        let features: Vec<String> = rows
            .iter()
            .map(|[id, found, due, at]| {
                format!(
                    r#"{{"type":"Feature","properties":{{"隐患编号":"{id}","发现日期":"{found}","整改期限":"{due}","时刻":"{at}"}},"geometry":{{"type":"Point","coordinates":[120,31]}}}}"#
                )
            })
            .collect();
        let path = file(
            dir.path(),
            "dangers.geojson",
            &format!(
                r#"{{"type":"FeatureCollection","features":[{}]}}"#,
                features.join(",\n")
            ),
        );
        let fields = [
            ("id", "隐患编号"),
            ("found_date", "发现日期"),
            ("due_date", "整改期限"),
            ("description", "时刻"),
        ];
        let read = same_as_gdal(&spec(&path, InputKind::HiddenDangers, &fields));
        for (r, row) in read.iter().zip(&rows) {
            assert!(r.contains(&row.concat()), "{row:?} in {r}");
        }
    }

    #[test]
    fn what_gdal_reads_differently_is_left_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let fields = [("id", "id"), ("name", "name"), ("grade", "grade")];
        let feature = |props: &str, geometry: &str| {
            format!(r#"{{"type":"Feature","properties":{props},"geometry":{geometry}}}"#)
        };
        let point = r#"{"type":"Point","coordinates":[120,31]}"#;
        let collection = |features: &[String], extra: &str| {
            format!(
                r#"{{"type":"FeatureCollection"{extra},"features":[{}]}}"#,
                features.join(",")
            )
        };
        let ok = feature(r#"{"id":"E1","name":"甲","grade":"红"}"#, point);
        let cases = [
            // The base case, read here (checked below).
            ("plain", collection(std::slice::from_ref(&ok), "")),
            (
                "a crs",
                collection(
                    std::slice::from_ref(&ok),
                    r#","crs":{"type":"name","properties":{"name":"EPSG:4490"}}"#,
                ),
            ),
            (
                "a layer number",
                collection(std::slice::from_ref(&ok), r#","name":7"#),
            ),
            (
                "a feature id",
                collection(
                    &[ok.replace(r#""type":"Feature""#, r#""type":"Feature","id":"X1""#)],
                    "",
                ),
            ),
            ("a real", collection(&[ok.replace(r#""红""#, "1.5")], "")),
            (
                "a boolean",
                collection(&[ok.replace(r#""红""#, "true")], ""),
            ),
            (
                "text and integers",
                collection(&[ok.clone(), ok.replace(r#""红""#, "3")], ""),
            ),
            (
                "a key twice",
                collection(
                    &[ok.replace(r#""grade":"红""#, r#""grade":"红","grade":"蓝""#)],
                    "",
                ),
            ),
            (
                "a 3D point",
                collection(
                    &[feature(
                        r#"{"id":"E1","name":"甲"}"#,
                        r#"{"type":"Point","coordinates":[120,31,5]}"#,
                    )],
                    "",
                ),
            ),
            (
                "an unclosed ring",
                collection(
                    &[feature(
                        r#"{"id":"E1","name":"甲"}"#,
                        r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}"#,
                    )],
                    "",
                ),
            ),
            (
                "an empty polygon",
                collection(
                    &[feature(
                        r#"{"id":"E1","name":"甲"}"#,
                        r#"{"type":"Polygon","coordinates":[]}"#,
                    )],
                    "",
                ),
            ),
            (
                "a collection",
                collection(
                    &[feature(
                        r#"{"id":"E1","name":"甲"}"#,
                        r#"{"type":"GeometryCollection","geometries":[]}"#,
                    )],
                    "",
                ),
            ),
            (
                "a NaN",
                collection(
                    &[feature(
                        r#"{"id":"E1","name":"甲"}"#,
                        r#"{"type":"Point","coordinates":[NaN,31]}"#,
                    )],
                    "",
                ),
            ),
            ("a lone feature", ok.clone()),
            (
                "names in two cases",
                collection(
                    &[ok.replace(r#""grade":"红""#, r#""grade":"红","NAME":"乙""#)],
                    "",
                ),
            ),
            (
                "a NUL in a name",
                collection(&[ok.replace(r#""grade""#, r#""grade\u0000x""#)], ""),
            ),
            (
                "a NUL in the layer's",
                collection(std::slice::from_ref(&ok), r#","name":"a\u0000b""#),
            ),
            (
                "a feature as an array",
                collection(
                    &[ok.clone(), r#"["Feature",null,{"id":"E2"},null]"#.into()],
                    "",
                ),
            ),
            (
                "a geometry as an array",
                collection(
                    &[feature(
                        r#"{"id":"E1","name":"甲"}"#,
                        r#"["Point",[120,31]]"#,
                    )],
                    "",
                ),
            ),
            (
                "a topology",
                collection(&[ok.replace("红", "Topology")], ""),
            ),
            (
                "an integer beyond 64 bits",
                collection(
                    &[feature(
                        r#"{"id":"E1","name":"甲"}"#,
                        r#"{"type":"Point","coordinates":[12345678901234567890,31]}"#,
                    )],
                    "",
                ),
            ),
        ];
        for (what, text) in cases {
            let path = file(dir.path(), "firms.geojson", &text);
            let plan = Plan::for_input(&spec(&path, InputKind::Enterprises, &fields));
            assert_eq!(plan.is_some(), what == "plain", "{what}");
        }
        // Another layer named, or an unmapped column of any type: as before.
        let path = file(
            dir.path(),
            "firms.geojson",
            &collection(&[ok.replace("}", r#","note":1.5}"#)], ""),
        );
        let mut s = spec(&path, InputKind::Enterprises, &fields);
        assert!(Plan::for_input(&s).is_some());
        s.layer = Some("firms".into());
        assert!(Plan::for_input(&s).is_none());
        // GDAL decodes the names in the input's encoding.
        s.layer = None;
        s.encoding = Some("GBK".into());
        assert!(Plan::for_input(&s).is_none());
    }

    /// Every bundled boundary file, and the example's parks, read here as through GDAL.
    #[test]
    fn the_bundled_boundaries_read_the_same_as_through_gdal() {
        super::super::configure_gdal();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        for name in ["changzhou", "jiangsu", "suzhou", "weihai", "wuxi"] {
            let path = root.join("boundaries").join(format!("{name}.geojson"));
            let read = same_as_gdal(&spec(&path, InputKind::AdminUnits, UNIT_FIELDS));
            assert!(read.len() > 2, "{name}");
        }
        let parks = root.join("changzhou/parks.geojson");
        let fields = [
            ("code", "园区代码"),
            ("name", "园区名称"),
            ("level", "园区级别"),
        ];
        assert_eq!(
            same_as_gdal(&spec(&parks, InputKind::Parks, &fields)).len(),
            2
        );
    }
}

//! Reading inputs through GDAL into plain records.
//!
//! This is one of the two modules that touch files. It opens a dataset with the
//! driver its extension promises (so a file that is not what its name says is
//! an error, not garbage), resolves the mapped columns once, and hands each
//! feature to the caller as a [`RawRecord`]: text values in logical-field order,
//! the raw coordinate text or the feature geometry, and where it came from.
//! Nothing here judges a value; that is [`crate::ingest::validate`]'s job. GDAL
//! datasets are not `Sync`, so reading happens on one thread.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ffi::CStr;
use std::path::Path;
use std::sync::Mutex;

use encoding_rs::Encoding;
use gdal::vector::LayerAccess;
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use thiserror::Error;

use crate::ingest::config::{InputKind, InputSpec};
use crate::ingest::values::encoding_for_label;

pub mod csv;
mod geojson;
mod gpkg;
mod mapped;
mod shapefile;
pub mod tiles;
mod xlsx;
use crate::crs::InputCrs;
use crate::model::{SourceName, SourceRef};

/// Why an input file could not be read.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The path of an input (`[inputs.…]`, `[basemap.…]`) is not a readable file of its type.
    #[error("{input} {path}: {message}")]
    Path {
        /// The input's table, e.g. `[inputs.enterprises]`.
        input: &'static str,
        /// The file's absolute path.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// The file's extension is not one riskatlas reads.
    #[error(
        "{file}: unsupported file type {ext:?}; use .geojson, .json, .shp, .gpkg, .csv or .xlsx"
    )]
    UnsupportedType {
        /// The file as named in the project file.
        file: String,
        /// Its extension without the dot (empty when it has none).
        ext: String,
    },
    /// GDAL could not open the file with the driver its extension promises.
    #[error("{file}: cannot be read as {driver}: {reason}")]
    Open {
        /// The file as named in the project file.
        file: String,
        /// The driver tried.
        driver: Driver,
        /// GDAL's messages, or a short reason when it gave none.
        reason: String,
    },
    /// No layer or sheet could be picked, or the file could not be read through.
    #[error("{file}: {message}")]
    Layer {
        /// The file as named in the project file.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// A column the project file maps a required field to is not in the file.
    #[error(
        "{file}: no column {column:?} for field {field}; the file's columns are: {available}{hint}"
    )]
    MissingColumn {
        /// The file as named in the project file.
        file: String,
        /// The logical field (or `x`, `y`) the column was wanted for.
        field: String,
        /// The column name the project file gives.
        column: String,
        /// The file's columns, comma-separated.
        available: String,
        /// Advice when the column names look mis-decoded.
        hint: String,
    },
    /// The file has no attribute columns at all, so no mapped field can be found.
    #[error("{input} {path}: has no attribute columns, so no field can be read ({what}); it needs a column {column:?} for field {field}")]
    NoColumns {
        /// The input's table, e.g. `[inputs.hidden_dangers]`.
        input: &'static str,
        /// The file's absolute path.
        path: String,
        /// The logical field (or `x`, `y`) the column was wanted for.
        field: String,
        /// The column name the project file gives for it.
        column: String,
        /// What the file holds instead, e.g. a bare geometry.
        what: String,
    },
}

/// One feature or row, as text, in the order of the input's logical fields.
///
/// The values live in one string, so a record costs two allocations however
/// many fields it has (a province's million rows are read in well under a
/// second only this way).
#[derive(Debug, Clone)]
pub struct RawRecord {
    /// Where the record came from: file, layer or sheet, and row.
    pub source: SourceRef,
    /// The decoded, trimmed values one after another.
    text: String,
    /// Where each value lies in `text`: the logical fields (same order as
    /// `InputSpec::columns`), then the x and y columns when the input names
    /// them; `None` for a null, missing or blank cell.
    spans: Vec<Option<(u32, u32)>>,
    /// Whether the input names coordinate columns (the last two spans).
    has_xy: bool,
    /// The feature's own geometry, in the input CRS, when it has one.
    pub geometry: Option<geo::Geometry<f64>>,
    /// Validity of a polygon geometry by GEOS (OGC rules), when checked.
    pub geometry_valid: Option<bool>,
    /// Set when the feature has a geometry that cannot be used: one GDAL
    /// could not convert, an empty one (GDAL reads a NaN coordinate as an
    /// empty point) or one with a non-finite coordinate.
    pub geometry_error: Option<String>,
    /// Set when the line could not be read as a record at all (CSV): the
    /// reason and the line's text (shortened).
    pub malformed: Option<(String, String)>,
    /// Fields whose bytes are not valid text in the expected encoding,
    /// with their lossy rendering for the rejects report.
    pub undecodable: Vec<(String, String)>,
}

impl RawRecord {
    /// A record of text values only (no geometry): the logical fields, then
    /// the x and y texts when the input names coordinate columns.
    pub fn new(
        source: SourceRef,
        values: &[Option<&str>],
        xy_text: Option<(Option<&str>, Option<&str>)>,
    ) -> RawRecord {
        let mut text = TextRow::default();
        for v in values {
            text.push(*v);
        }
        if let Some((x, y)) = xy_text {
            text.push(x);
            text.push(y);
        }
        text.into_record(source, xy_text.is_some())
    }

    /// The record with a feature geometry and its validity.
    pub fn with_geometry(mut self, geometry: geo::Geometry<f64>, valid: Option<bool>) -> RawRecord {
        self.geometry = Some(geometry);
        self.geometry_valid = valid;
        self
    }

    /// Value of a logical field by its position in the input's field list.
    pub fn value(&self, index: usize) -> Option<&str> {
        let fields = self.spans.len() - if self.has_xy { 2 } else { 0 };
        (index < fields).then(|| self.span(index)).flatten()
    }

    /// Text of the x and y columns, when the input names coordinate columns.
    pub fn xy_text(&self) -> Option<(Option<&str>, Option<&str>)> {
        let n = self.spans.len();
        self.has_xy.then(|| (self.span(n - 2), self.span(n - 1)))
    }

    fn span(&self, i: usize) -> Option<&str> {
        let (a, b) = self.spans[i]?;
        Some(&self.text[a as usize..b as usize])
    }
}

/// A record's values as they are decoded, one after another in one string.
#[derive(Default)]
struct TextRow {
    text: String,
    spans: Vec<Option<(u32, u32)>>,
    undecodable: Vec<(String, String)>,
}

impl TextRow {
    /// Appends a value, trimmed; blank is `None`.
    fn push(&mut self, value: Option<&str>) {
        let span = value.map(str::trim).filter(|v| !v.is_empty()).map(|v| {
            let start = self.text.len() as u32;
            self.text.push_str(v);
            (start, self.text.len() as u32)
        });
        self.spans.push(span);
    }

    fn into_record(self, source: SourceRef, has_xy: bool) -> RawRecord {
        RawRecord {
            source,
            text: self.text,
            spans: self.spans,
            has_xy,
            geometry: None,
            geometry_valid: None,
            geometry_error: None,
            malformed: None,
            undecodable: self.undecodable,
        }
    }
}

/// What reading one input found besides the records themselves.
#[derive(Debug, Clone)]
pub struct ReadSummary {
    /// The driver the file was read with.
    pub driver: Driver,
    /// Name of the layer or sheet read (the file stem for CSV).
    pub layer: String,
    /// The CRS used for coordinates: the project file's, or the layer's own
    /// when the project file does not name one.
    pub crs: InputCrs,
    /// Warnings GDAL gave while reading (e.g. malformed CSV lines).
    pub warnings: Vec<String>,
    /// A note when records held text that is not in the expected encoding,
    /// with the encoding setting to try.
    pub encoding_hint: Option<String>,
    /// For CSV: how the file's physical lines were used (they add up).
    pub lines: Option<csv::LineCount>,
    /// How many records the file holds at most, when that is cheap to know
    /// before reading (to size the lists once).
    pub expected: Option<usize>,
}

impl ReadSummary {
    /// What is known of an input before its first record is read.
    fn opening(driver: Driver, layer: String, crs: InputCrs, expected: Option<usize>) -> Self {
        ReadSummary {
            driver,
            layer,
            crs,
            warnings: Vec::new(),
            encoding_hint: None,
            lines: None,
            expected,
        }
    }
}

/// A problem with an input's layer, or the caller's refusal of it at the start.
fn layer_error(spec: &InputSpec, message: String) -> LoadError {
    LoadError::Layer {
        file: spec.display_path.clone(),
        message,
    }
}

/// The kinds of file riskatlas reads, each promised by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// GeoJSON (`.geojson`, `.json`).
    GeoJson,
    /// ESRI Shapefile (`.shp`, or its `.dbf` attribute table).
    Shapefile,
    /// GeoPackage (`.gpkg`).
    GeoPackage,
    /// CSV text (`.csv`), read by the `csv` submodule rather than GDAL.
    Csv,
    /// Excel workbook (`.xlsx`), the first row the header and every cell read as text.
    Xlsx,
}

impl Driver {
    /// The driver a file's extension promises.
    fn for_path(path: &Path) -> Option<Driver> {
        let ext = path.extension()?.to_str()?.to_lowercase();
        Some(match ext.as_str() {
            "geojson" | "json" => Driver::GeoJson,
            "shp" | "dbf" => Driver::Shapefile,
            "gpkg" => Driver::GeoPackage,
            "csv" => Driver::Csv,
            "xlsx" => Driver::Xlsx,
            _ => return None,
        })
    }

    /// GDAL's name of the driver (also what `report.json` gives).
    pub fn gdal_name(self) -> &'static str {
        match self {
            Driver::GeoJson => "GeoJSON",
            Driver::Shapefile => "ESRI Shapefile",
            Driver::GeoPackage => "GPKG",
            Driver::Csv => "CSV",
            Driver::Xlsx => "XLSX",
        }
    }

    /// The kind of file, for messages.
    fn kind_of(self) -> &'static str {
        match self {
            Driver::Xlsx => "an XLSX workbook",
            Driver::GeoPackage => "a GeoPackage",
            Driver::GeoJson => "a GeoJSON file",
            Driver::Shapefile => "a shapefile",
            Driver::Csv => "a CSV text file",
        }
    }

    /// Whether a file's first bytes fit this driver.
    fn content_fits(self, head: &[u8], ext: &str) -> bool {
        let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
        match self {
            Driver::Xlsx => head.starts_with(b"PK\x03\x04"),
            Driver::GeoPackage => head.starts_with(b"SQLite format 3\0"),
            Driver::Shapefile => ext == "dbf" || head.starts_with(&[0, 0, 0x27, 0x0a]),
            Driver::GeoJson => text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'),
            Driver::Csv => {
                !(head.starts_with(b"PK\x03\x04")
                    || head.starts_with(b"SQLite format 3\0")
                    || head.starts_with(b"\xff\xfe")
                    || head.starts_with(b"\xfe\xff")
                    || head.contains(&0))
            }
        }
    }

    /// Whether rows are numbered as in a spreadsheet (header = row 1).
    /// (CSV rows come numbered by line from the CSV reader.)
    fn is_tabular(self) -> bool {
        self == Driver::Xlsx
    }
}

impl std::fmt::Display for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.gdal_name())
    }
}

/// GDAL's messages, each with the reading scope of the thread that raised
/// it (see [`MessageScope`]).
static GDAL_MESSAGES: Mutex<Vec<(u64, String)>> = Mutex::new(Vec::new());

/// Messages kept per scope; beyond them a file's messages are dropped.
const MESSAGES_PER_SCOPE: usize = 1000;

thread_local! {
    /// The reading scope of this thread: 0 outside any.
    static SCOPE: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The threads reading and checking one input share a scope, so GDAL's
/// messages reach the file they belong to even while another input is
/// read at the same time on other threads (GDAL calls the handler on the
/// thread that raised the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageScope(u64);

impl MessageScope {
    /// A scope no other reading uses.
    pub fn new() -> MessageScope {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        MessageScope(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }

    /// Puts this thread in the scope until the guard is dropped.
    pub fn enter(self) -> ScopeGuard {
        ScopeGuard(SCOPE.with(|s| s.replace(self.0)))
    }
}

impl Default for MessageScope {
    fn default() -> MessageScope {
        MessageScope::new()
    }
}

/// Gives a thread back the scope it had before [`MessageScope::enter`].
pub struct ScopeGuard(u64);

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        SCOPE.with(|s| s.set(self.0));
    }
}

/// GDAL's raster block cache, in MiB, unless the environment sets
/// `GDAL_CACHEMAX`. GDAL's own default (5 % of RAM) lets the GeoTIFF writer
/// hold dirty blocks in proportion to the grid, so memory grew with the grid.
const GDAL_CACHE_MB: &str = "128";

/// Sets GDAL up for a run: its messages captured into a buffer, so they are
/// reported with the file they belong to, and its block cache bounded.
pub fn configure_gdal() {
    capture_gdal_messages();
    if std::env::var_os("GDAL_CACHEMAX").is_none() {
        let _ = gdal::config::set_config_option("GDAL_CACHEMAX", GDAL_CACHE_MB);
    }
}

/// Routes GDAL's own messages into a buffer so they reach the user with the
/// file they belong to, instead of bare lines on stderr.
fn capture_gdal_messages() {
    gdal::config::set_error_handler(|kind, _num, message| {
        let scope = SCOPE.with(|s| s.get());
        if let Ok(mut buf) = GDAL_MESSAGES.lock() {
            if buf.iter().filter(|(s, _)| *s == scope).count() < MESSAGES_PER_SCOPE {
                buf.push((scope, format!("{kind:?}: {message}")));
            }
        }
    });
}

/// Takes the messages raised in this thread's scope, in the order raised.
fn take_gdal_messages() -> Vec<String> {
    let scope = SCOPE.with(|s| s.get());
    let Ok(mut buf) = GDAL_MESSAGES.lock() else {
        return Vec::new();
    };
    let (mine, others): (Vec<_>, Vec<_>) = buf.drain(..).partition(|(s, _)| *s == scope);
    *buf = others;
    mine.into_iter().map(|(_, m)| m).collect()
}

/// Open options that make each driver give us what is in the file, as text.
fn open_options(driver: Driver, spec: &InputSpec) -> Vec<String> {
    match driver {
        Driver::Shapefile => match &spec.encoding {
            // GDAL recodes names and values itself, so Chinese column names match too.
            Some(enc) => vec![format!("ENCODING={}", gdal_encoding_name(enc))],
            None => vec![],
        },
        // A date-like string stays the text written (GDAL would type it as a
        // date and give it back as `YYYY/MM/DD`, an id such as "2026-01-02"
        // too).
        Driver::GeoJson => vec!["DATE_AS_STRING=YES".into()],
        _ => vec![],
    }
}

/// The iconv name GDAL understands for a user's label.
fn gdal_encoding_name(label: &str) -> String {
    match encoding_for_label(label).map(|e| e.name()) {
        Some("GBK") => "CP936".into(),
        Some(name) => name.to_string(),
        None => label.to_string(),
    }
}

/// Opens a dataset with exactly the driver its extension promises.
pub fn open(
    path: &Path,
    display: &str,
    options: &[String],
) -> Result<(Dataset, Driver), LoadError> {
    let driver = Driver::for_path(path).ok_or_else(|| LoadError::UnsupportedType {
        file: display.into(),
        ext: path
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default(),
    })?;
    let opts: Vec<&str> = options.iter().map(|s| s.as_str()).collect();
    let drivers = [driver.gdal_name()];
    take_gdal_messages();
    // GDAL 3.6's XLSX driver takes these as configuration, not open options:
    // the first row is the header and every cell is read as text.
    let xlsx = driver == Driver::Xlsx;
    for (key, value) in [
        ("OGR_XLSX_HEADERS", "FORCE"),
        ("OGR_XLSX_FIELD_TYPES", "STRING"),
    ] {
        let _ = gdal::config::set_thread_local_config_option(key, if xlsx { value } else { "" });
    }
    let ds = Dataset::open_ex(
        path,
        DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
            allowed_drivers: Some(&drivers),
            open_options: Some(&opts),
            sibling_files: None,
        },
    )
    .map_err(|e| {
        let mut reason = take_gdal_messages().join("; ");
        if reason.is_empty() {
            reason = format!("not a valid {driver} file ({e})");
        }
        LoadError::Open {
            file: display.into(),
            driver,
            reason,
        }
    })?;
    Ok((ds, driver))
}

/// Decodes field bytes: the override encoding if given, else UTF-8.
struct TextDecoder {
    encoding: Option<&'static Encoding>,
}

impl TextDecoder {
    /// The text of `bytes` (borrowed when they are already UTF-8), or its
    /// lossy rendering when they are not valid in the encoding.
    fn decode_cow<'b>(&self, bytes: &'b [u8]) -> Result<Cow<'b, str>, String> {
        match self.encoding {
            Some(enc) => enc
                .decode_without_bom_handling_and_without_replacement(bytes)
                .ok_or_else(|| enc.decode(bytes).0.into_owned()),
            None => std::str::from_utf8(bytes)
                .map(Cow::Borrowed)
                .map_err(|_| String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    fn decode(&self, bytes: &[u8]) -> Result<String, String> {
        self.decode_cow(bytes).map(Cow::into_owned)
    }
}

/// Field names of a layer, decoded like its values.
fn layer_columns(layer: &gdal::vector::Layer, decoder: &TextDecoder) -> Vec<String> {
    let mut names = Vec::new();
    // SAFETY: the layer handle is valid while `layer` is borrowed; the field
    // definitions and their names belong to the layer definition, which
    // outlives this loop, and each name is copied (decoded) before the next.
    unsafe {
        let defn = gdal_sys::OGR_L_GetLayerDefn(layer.c_layer());
        for i in 0..gdal_sys::OGR_FD_GetFieldCount(defn) {
            let fld = gdal_sys::OGR_FD_GetFieldDefn(defn, i);
            let bytes = CStr::from_ptr(gdal_sys::OGR_Fld_GetNameRef(fld)).to_bytes();
            names.push(decoder.decode(bytes).unwrap_or_else(|lossy| lossy));
        }
    }
    names
}

/// GDAL's name for a column without a header: `Field1`, `Field2` …
fn is_default_field_name(name: &str) -> bool {
    name.strip_prefix("Field")
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// Finds a column by exact name, then ignoring case and surrounding spaces.
fn find_column(columns: &[String], wanted: &str) -> Option<usize> {
    columns.iter().position(|c| c == wanted).or_else(|| {
        let w = wanted.trim().to_lowercase();
        columns.iter().position(|c| c.trim().to_lowercase() == w)
    })
}

/// Picks the layer the input names, or the only one.
fn pick_layer<'a>(ds: &'a Dataset, spec: &InputSpec) -> Result<gdal::vector::Layer<'a>, LoadError> {
    let names: Vec<String> = ds.layers().map(|l| l.name()).collect();
    let err = |message: String| layer_error(spec, message);
    match &spec.layer {
        Some(name) => ds.layer_by_name(name).map_err(|_| {
            err(format!(
                "no layer or sheet {name:?}; it has: {}",
                names.join(", ")
            ))
        }),
        None if names.len() == 1 => ds.layer(0).map_err(|e| err(e.to_string())),
        None if names.is_empty() => Err(err("has no layers".into())),
        None => Err(err(format!(
            "has {} layers ({}); name one with layer = \"…\" in the project file",
            names.len(),
            names.join(", ")
        ))),
    }
}

/// The EPSG code of a layer's own CRS, when it has one.
fn layer_epsg(layer: &gdal::vector::Layer) -> Option<u32> {
    let srs = layer.spatial_ref()?;
    srs.auth_code().ok().map(|c| c as u32).or_else(|| {
        let name = srs.name()?.to_lowercase();
        (name.contains("wgs 84") || name.contains("wgs_1984")).then_some(4326)
    })
}

/// What a file's first bytes show it to be, for a file that is not what its
/// extension says.
fn sniff(head: &[u8]) -> &'static str {
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    if head.starts_with(b"PK\x03\x04") {
        "a ZIP archive (such as an XLSX workbook)"
    } else if head.starts_with(b"SQLite format 3\0") {
        "an SQLite database (such as a GeoPackage)"
    } else if head.starts_with(&[0, 0, 0x27, 0x0a]) {
        "a shapefile"
    } else if head.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]) {
        "an old binary Excel .xls workbook (save it as .xlsx)"
    } else if matches!(first, Some(b'{') | Some(b'[')) {
        "JSON text"
    } else if head.starts_with(b"\xff\xfe") || head.starts_with(b"\xfe\xff") {
        "UTF-16 text (save it as UTF-8)"
    } else if std::str::from_utf8(head).is_ok() || !head.contains(&0) {
        "plain text (such as CSV)"
    } else {
        "binary data of an unknown kind"
    }
}

/// The full path of an input, for messages (as given when it cannot be made absolute).
fn absolute(path: &std::path::Path) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Checks every input's path (see [`check_path`]) before any is read, so a
/// missing or mistyped file is reported at once, not after minutes of
/// reading the inputs before it.
pub fn check_paths<'a>(specs: impl IntoIterator<Item = &'a InputSpec>) -> Result<(), LoadError> {
    specs
        .into_iter()
        .try_for_each(|spec| check_path(spec).map(|_| ()))
}

/// Checks an input's path before a reader touches it — it exists, is a file,
/// is not empty, its content fits its extension, a shapefile has its `.dbf` —
/// so the message names the `[inputs.…]` key, the full path and the cause
/// instead of a bare GDAL failure. Returns the driver.
fn check_path(spec: &InputSpec) -> Result<Driver, LoadError> {
    let path = &spec.path;
    let full = absolute(path);
    let err = |message: String| LoadError::Path {
        input: spec.kind.table(),
        path: full.display().to_string(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => err("file not found".into()),
        _ => err(format!("cannot be read: {e}")),
    })?;
    if meta.is_dir() {
        return Err(err("is a folder, not a file: name the file itself".into()));
    }
    let driver = Driver::for_path(path).ok_or_else(|| LoadError::UnsupportedType {
        file: spec.display_path.clone(),
        ext: path
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default(),
    })?;
    if meta.len() == 0 {
        return Err(err(format!(
            "the file is empty (0 bytes), not {}",
            driver.kind_of()
        )));
    }
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .map_err(|e| err(format!("cannot be read: {e}")))?;
    let head = &head[..n];
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    if !driver.content_fits(head, &ext) {
        return Err(err(format!(
            "is not {} as its extension .{ext} says: its content is {}",
            driver.kind_of(),
            sniff(head)
        )));
    }
    if driver == Driver::Shapefile && ext == "shp" {
        let has = |e: &str| path.with_extension(e).exists();
        if !(has("dbf") || has("DBF")) {
            return Err(err(format!(
                "the shapefile's attribute file {} is missing (a shapefile is .shp + .shx + .dbf)",
                full.with_extension("dbf").display()
            )));
        }
    }
    Ok(driver)
}

/// Where the input's logical fields (and coordinate columns) are among a file's columns.
struct ColumnMap {
    fields: Vec<Option<usize>>,
    xy: Option<(usize, usize)>,
}

impl ColumnMap {
    /// Whether the file's column `i` is read (as a field or a coordinate).
    fn reads(&self, i: usize) -> bool {
        self.fields.contains(&Some(i)) || self.xy.is_some_and(|(x, y)| x == i || y == i)
    }
}

/// Finds every mapped column, or says which is missing and what there is.
/// A file without records may lack a schema (an empty FeatureCollection):
/// then missing columns are not an error.
fn map_columns(
    spec: &InputSpec,
    columns: &[String],
    empty: bool,
    driver: Driver,
) -> Result<ColumnMap, LoadError> {
    let garbled = columns.iter().any(|c| c.contains('\u{fffd}'));
    let missing = |field: &str, column: &str| {
        if columns.is_empty() {
            return LoadError::NoColumns {
                input: spec.kind.table(),
                path: absolute(&spec.path).display().to_string(),
                field: field.to_string(),
                column: column.to_string(),
                what: match driver {
                    Driver::GeoJson => "a bare geometry, or features without \"properties\"".into(),
                    _ => format!("a {driver} layer without fields"),
                },
            };
        }
        LoadError::MissingColumn {
            file: spec.display_path.clone(),
            field: field.to_string(),
            column: column.to_string(),
            available: columns.join(", "),
            hint: if garbled {
                format!(" ({})", encoding_hint(spec, driver))
            } else {
                String::new()
            },
        }
    };
    let mut fields = Vec::with_capacity(spec.columns.len());
    for (field, column, required) in &spec.columns {
        match find_column(columns, column) {
            Some(i) => fields.push(Some(i)),
            None if *required && !empty => return Err(missing(field, column)),
            None => fields.push(None),
        }
    }
    let xy = match &spec.xy_columns {
        Some(_) if empty => None,
        Some((x, y)) => Some((
            find_column(columns, x).ok_or_else(|| missing("x", x))?,
            find_column(columns, y).ok_or_else(|| missing("y", y))?,
        )),
        None => None,
    };
    Ok(ColumnMap { fields, xy })
}

/// The text values of one row: each mapped field decoded and trimmed (`None`
/// when null or blank), then the coordinate texts; the fields that would
/// not decode are noted.
fn row_text<'b>(
    spec: &InputSpec,
    map: &ColumnMap,
    decoder: &TextDecoder,
    cell: impl Fn(usize) -> Option<&'b [u8]>,
) -> TextRow {
    let mut row = TextRow {
        text: String::new(),
        spans: Vec::with_capacity(spec.columns.len() + 2),
        undecodable: Vec::new(),
    };
    let text = |row: &mut TextRow, idx: Option<usize>, name: &str| {
        let value = idx.and_then(&cell).map(|raw| {
            decoder.decode_cow(raw).unwrap_or_else(|lossy| {
                row.undecodable.push((name.to_string(), lossy.clone()));
                Cow::Owned(lossy)
            })
        });
        row.push(value.as_deref());
    };
    for ((_, column, _), idx) in spec.columns.iter().zip(&map.fields) {
        text(&mut row, *idx, column);
    }
    if let Some((xi, yi)) = map.xy {
        let (x, y) = spec.xy_columns.as_ref().expect("xy columns");
        text(&mut row, Some(xi), x);
        text(&mut row, Some(yi), y);
    }
    row
}

/// The decoder for an input's text: the override encoding, else UTF-8. A
/// shapefile's encoding is handled by GDAL itself (see `open_options`).
fn decoder_for(spec: &InputSpec, driver: Driver) -> TextDecoder {
    TextDecoder {
        encoding: match &spec.encoding {
            Some(label) if driver != Driver::Shapefile => encoding_for_label(label),
            _ => None,
        },
    }
}

/// The note for `report.json` and stderr when records held undecodable text.
fn undecodable_note(spec: &InputSpec, driver: Driver, bad: u64, total: u64) -> Option<String> {
    (bad > 0).then(|| {
        format!(
            "{}: {bad} of {total} records hold undecodable text and were rejected; {}",
            spec.display_path,
            encoding_hint(spec, driver)
        )
    })
}

/// The seam for input formats: a reader turns one file into raw records.
/// Once the file is open and its CRS known, `start` builds the caller's
/// context (or refuses with a reason); then `each` is called for every
/// record in file order — a line that is no record (CSV) comes as a record
/// marked `malformed`, so it is counted and rejected like any other. A new
/// format is a [`Driver`] and a `Reader`; validation and everything after
/// it see only [`RawRecord`]s.
pub trait Reader {
    /// Reads the input `spec`: `start` builds the context from the summary, then
    /// `each` gets every record in file order. Returns the context and the summary.
    fn read<C>(
        &self,
        spec: &InputSpec,
        start: impl FnOnce(&ReadSummary) -> Result<C, String>,
        each: impl FnMut(&mut C, RawRecord),
    ) -> Result<(C, ReadSummary), LoadError>;
}

/// CSV, read by riskatlas itself ([`csv::parse`]): Excel's quoting, every line accounted for.
pub struct CsvReader;

/// GeoJSON, Shapefile, GeoPackage and XLSX, read through GDAL.
pub struct GdalReader(pub Driver);

/// Reads one input with the reader for its driver, after checking its path
/// (exists, is a non-empty file whose content fits its extension).
pub fn read_input<C>(
    spec: &InputSpec,
    start: impl FnOnce(&ReadSummary) -> Result<C, String>,
    each: impl FnMut(&mut C, RawRecord),
) -> Result<(C, ReadSummary), LoadError> {
    match check_path(spec)? {
        Driver::Csv => CsvReader.read(spec, start, each),
        Driver::GeoPackage => match gpkg::Plan::for_input(spec) {
            Some(plan) => gpkg::GpkgReader(plan).read(spec, start, each),
            None => GdalReader(Driver::GeoPackage).read(spec, start, each),
        },
        Driver::GeoJson => match geojson::Plan::for_input(spec) {
            Some(plan) => geojson::GeojsonReader(plan).read(spec, start, each),
            None => GdalReader(Driver::GeoJson).read(spec, start, each),
        },
        Driver::Xlsx => match xlsx::Plan::for_input(spec) {
            Some(plan) => xlsx::XlsxReader(plan).read(spec, start, each),
            None => GdalReader(Driver::Xlsx).read(spec, start, each),
        },
        driver => GdalReader(driver).read(spec, start, each),
    }
}

impl Reader for CsvReader {
    fn read<C>(
        &self,
        spec: &InputSpec,
        start: impl FnOnce(&ReadSummary) -> Result<C, String>,
        each: impl FnMut(&mut C, RawRecord),
    ) -> Result<(C, ReadSummary), LoadError> {
        read_csv(spec, start, each)
    }
}

fn read_csv<C>(
    spec: &InputSpec,
    start: impl FnOnce(&ReadSummary) -> Result<C, String>,
    mut each: impl FnMut(&mut C, RawRecord),
) -> Result<(C, ReadSummary), LoadError> {
    let layer_err = |message: String| layer_error(spec, message);
    let file =
        mapped::Mapped::open(&spec.path).map_err(|e| layer_err(format!("cannot be read: {e}")))?;
    let bytes = file.bytes();
    let bom = if bytes.starts_with(b"\xef\xbb\xbf") {
        3
    } else {
        0
    };
    let body = &bytes[bom..];
    let physical = mapped::count_lines(&file, bom);
    let decoder = decoder_for(spec, Driver::Csv);
    let (name, layer) = source_names(spec);
    let source = |line: u64| SourceRef {
        file: name,
        layer,
        row: line,
    };
    let stem = spec
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned());
    let mut summary = ReadSummary::opening(
        Driver::Csv,
        stem.unwrap_or_default(),
        spec.crs,
        Some(physical as usize),
    );
    // The header is parsed first, on its own, so columns are known before any row.
    let header = csv::header(body).map_err(layer_err)?;
    let columns: Vec<String> = header
        .names
        .iter()
        .map(|n| decoder.decode(n).unwrap_or_else(|lossy| lossy))
        .collect();
    let map = map_columns(spec, &columns, false, Driver::Csv)?;
    let mut context = start(&summary).map_err(layer_err)?;
    let (mut bad_text, mut total) = (0u64, 0u64);
    let (_, lines) = csv::parse_counted(body, physical, |row, offset| {
        file.release_before(bom + offset);
        total += 1;
        let record = match row {
            csv::Row::Record { line, fields } => {
                let text = row_text(spec, &map, &decoder, |i| fields.get(i).map(|f| f.as_ref()));
                bad_text += u64::from(!text.undecodable.is_empty());
                text.into_record(source(line), map.xy.is_some())
            }
            csv::Row::Malformed { line, reason, text } => RawRecord {
                malformed: Some((
                    reason,
                    shorten(&decoder.decode(text).unwrap_or_else(|l| l), 200),
                )),
                ..RawRecord::new(source(line), &vec![None; spec.columns.len()], None)
            },
        };
        each(&mut context, record);
    })
    .map_err(layer_err)?;
    summary.encoding_hint = undecodable_note(spec, Driver::Csv, bad_text, total);
    summary.lines = Some(lines);
    Ok((context, summary))
}

/// At most `max` characters of `text`, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// Why an empty geometry cannot be used (GDAL reads a NaN point as empty).
const EMPTY_GEOMETRY: &str = "geometry is empty (or holds a NaN coordinate)";

/// Why a geometry with an infinite or NaN coordinate cannot be used.
const NON_FINITE_GEOMETRY: &str = "geometry holds a non-finite coordinate (NaN or Infinity)";

/// Whether every coordinate of a geometry is finite.
fn all_finite(g: &geo::Geometry<f64>) -> bool {
    use geo::CoordsIter;
    g.coords_iter().all(|c| c.x.is_finite() && c.y.is_finite())
}

/// A feature's geometry as geo's type, with GEOS's validity for polygons, or
/// why it cannot be used. `None` geometry and no error: the feature has none.
fn feature_geometry(
    feature: &gdal::vector::Feature,
) -> (Option<geo::Geometry<f64>>, Option<bool>, Option<String>) {
    // A null geometry must not reach GDAL's geometry calls, which complain about it.
    // SAFETY: the feature handle is valid while `feature` is borrowed; only
    // the pointer is inspected, never dereferenced.
    if unsafe { gdal_sys::OGR_F_GetGeometryRef(feature.c_feature()).is_null() } {
        return (None, None, None);
    }
    match feature.geometry() {
        Some(g) => checked_geometry(g),
        None => (None, None, None),
    }
}

/// A GDAL geometry as geo's type, with GEOS's validity for polygons, or why
/// it cannot be used.
fn checked_geometry(
    g: &gdal::vector::Geometry,
) -> (Option<geo::Geometry<f64>>, Option<bool>, Option<String>) {
    if g.is_empty() {
        // GeoJSON's NaN reads as an empty point: never a silent "no location".
        return (None, None, Some(EMPTY_GEOMETRY.into()));
    }
    match geo::Geometry::<f64>::try_from(g) {
        Ok(geo) if !all_finite(&geo) => (None, None, Some(NON_FINITE_GEOMETRY.into())),
        Ok(geo @ (geo::Geometry::Polygon(_) | geo::Geometry::MultiPolygon(_))) => {
            (Some(geo), Some(g.is_valid()), None)
        }
        Ok(geo) => (Some(geo), None, None),
        Err(e) => (None, None, Some(e.to_string())),
    }
}

impl Reader for GdalReader {
    fn read<C>(
        &self,
        spec: &InputSpec,
        start: impl FnOnce(&ReadSummary) -> Result<C, String>,
        each: impl FnMut(&mut C, RawRecord),
    ) -> Result<(C, ReadSummary), LoadError> {
        self.read_layer(spec, start, each, true)
    }
}

impl GdalReader {
    /// Reads through GDAL; with `native_points`, a point shapefile's records
    /// are read from its files where that reads the same (see [`shapefile`]).
    fn read_layer<C>(
        &self,
        spec: &InputSpec,
        start: impl FnOnce(&ReadSummary) -> Result<C, String>,
        mut each: impl FnMut(&mut C, RawRecord),
        native_points: bool,
    ) -> Result<(C, ReadSummary), LoadError> {
        let options = open_options(self.0, spec);
        let (ds, driver) = open(&spec.path, &spec.display_path, &options)?;
        let mut layer = pick_layer(&ds, spec)?;
        let decoder = decoder_for(spec, driver);
        let (columns, empty) = gdal_columns(&mut layer, &decoder, driver);
        let map = map_columns(spec, &columns, empty, driver)?;
        let mut summary = ReadSummary::opening(
            driver,
            layer.name(),
            layer_crs(spec, layer_epsg(&layer), &map),
            layer.try_feature_count().map(|n| n as usize),
        );
        let mut context = start(&summary).map_err(|m| layer_error(spec, m))?;
        let (mut undecodable_rows, mut total_rows) = (0u64, 0u64);
        // Kept: what GDAL said while opening the layer and reading its
        // schema (an XLSX sheet is parsed whole then, and a parse error
        // there leaves it short).
        let opening = take_gdal_messages();
        let names = source_names(spec);
        let mut emit = |record: RawRecord| {
            undecodable_rows += u64::from(!record.undecodable.is_empty());
            total_rows += 1;
            each(&mut context, record);
        };
        let native = match driver {
            Driver::Shapefile if native_points && !empty => {
                shapefile::Points::read(spec, &layer, &columns, &map)
            }
            _ => None,
        };
        if let Some(points) = native {
            for k in 0..points.len() {
                let text = row_text(spec, &map, &decoder, |i| points.cell(k, i));
                let geometry = (Some(points.point(k)), None, None);
                emit(located(text, geometry, feature_source(&names, driver, k)));
            }
        } else {
            let records = if empty { 0 } else { usize::MAX };
            for (k, feature) in layer.features().take(records).enumerate() {
                emit(gdal_record(
                    spec, &names, &map, &decoder, driver, k, &feature,
                ));
            }
        }
        summary.encoding_hint = undecodable_note(spec, driver, undecodable_rows, total_rows);
        summary.warnings = opening.into_iter().chain(take_gdal_messages()).collect();
        Ok((context, summary))
    }
}

/// A layer's column names, and whether it holds no records. GDAL reads a
/// sheet holding only its header row as one data row under Field1…FieldN;
/// such a sheet has those names and no records. (Counting features can mean
/// reading the whole file, so ask only when cheap.)
fn gdal_columns(
    layer: &mut gdal::vector::Layer,
    decoder: &TextDecoder,
    driver: Driver,
) -> (Vec<String>, bool) {
    let mut columns = layer_columns(layer, decoder);
    let header_only = driver == Driver::Xlsx
        && columns.iter().all(|c| is_default_field_name(c))
        && layer.try_feature_count() == Some(1);
    if header_only {
        if let Some(first) = layer.features().next() {
            columns = (0..columns.len())
                .map(|i| first.field_as_string(i).ok().flatten().unwrap_or_default())
                .collect();
        }
    }
    let empty = header_only || layer.try_feature_count() == Some(0);
    (columns, empty)
}

/// The CRS of a layer's coordinates: the project file's, or the layer's own
/// (`epsg`, when it has one) when the project file names none and the
/// geometry is the feature's.
fn layer_crs(spec: &InputSpec, epsg: Option<u32>, map: &ColumnMap) -> InputCrs {
    match (spec.crs_given, epsg) {
        (false, Some(code)) if map.xy.is_none() => match code {
            4326 => InputCrs::Wgs84,
            4490 => InputCrs::Cgcs2000,
            c => InputCrs::Epsg(c),
        },
        _ => spec.crs,
    }
}

/// Feature `k` (0-based, in file order) as a raw record.
fn gdal_record(
    spec: &InputSpec,
    names: &(SourceName, Option<SourceName>),
    map: &ColumnMap,
    decoder: &TextDecoder,
    driver: Driver,
    k: usize,
    feature: &gdal::vector::Feature,
) -> RawRecord {
    // SAFETY: the feature handle is valid for this call, and `i` is a field
    // index of its layer (from `map_columns`). GDAL's string for a field may
    // live in a buffer the next call overwrites; `row_text` decodes (copies)
    // each value before it asks for the next.
    let text = row_text(spec, map, decoder, |i| unsafe {
        let f = feature.c_feature();
        if gdal_sys::OGR_F_IsFieldSetAndNotNull(f, i as i32) == 0 {
            return None;
        }
        Some(CStr::from_ptr(gdal_sys::OGR_F_GetFieldAsString(f, i as i32)).to_bytes())
    });
    if map.xy.is_some() {
        let source = feature_source(names, driver, k);
        return text.into_record(source, true);
    }
    let geometry = feature_geometry(feature);
    located(text, geometry, feature_source(names, driver, k))
}

/// A feature's record: its text and its geometry (with validity, or why it
/// cannot be used).
fn located(
    text: TextRow,
    (geometry, geometry_valid, geometry_error): (
        Option<geo::Geometry<f64>>,
        Option<bool>,
        Option<String>,
    ),
    source: SourceRef,
) -> RawRecord {
    RawRecord {
        geometry,
        geometry_valid,
        geometry_error,
        ..text.into_record(source, false)
    }
}

/// Where feature `k` (0-based, in file order) of a GDAL layer comes from.
fn feature_source(names: &(SourceName, Option<SourceName>), driver: Driver, k: usize) -> SourceRef {
    let row = k as u64 + 1;
    SourceRef {
        file: names.0,
        layer: names.1,
        row: if driver.is_tabular() { row + 1 } else { row },
    }
}

/// The file and layer names every record of an input shares.
fn source_names(spec: &InputSpec) -> (SourceName, Option<SourceName>) {
    (
        SourceName::intern(&spec.display_path),
        spec.layer.as_deref().map(SourceName::intern),
    )
}

/// What to tell a user whose file has text that is not in the expected encoding.
fn encoding_hint(spec: &InputSpec, driver: Driver) -> String {
    match (&spec.encoding, driver) {
        (None, Driver::Shapefile) => format!(
            "text is not UTF-8 and the shapefile has no .cpg; Chinese DBFs are usually GBK: \
             set encoding = \"CP936\" for {}",
            spec.kind.table()
        ),
        (None, _) => format!(
            "text is expected in UTF-8; if the whole file is GBK, set encoding = \"GBK\" for {}",
            spec.kind.table()
        ),
        (Some(enc), _) => format!(
            "text is expected in {enc}; check the encoding of {}",
            spec.kind.table()
        ),
    }
}

/// Counts per input kind, for the report.
pub type ReadSummaries = BTreeMap<InputKind, ReadSummary>;

/// What the readers' tests share.
#[cfg(test)]
mod test_support {
    use super::{InputSpec, RawRecord, ReadSummary, Reader};

    /// Every record a reading gives, as its debug text, and its summary;
    /// `read` reads with the `start` and `each` it is given.
    pub(super) fn collect(
        read: impl FnOnce(
            &mut dyn FnMut(&ReadSummary) -> Result<Vec<String>, String>,
            &mut dyn FnMut(&mut Vec<String>, RawRecord),
        ) -> (Vec<String>, ReadSummary),
    ) -> (Vec<String>, ReadSummary) {
        // A scope of its own: GDAL's messages from tests running beside it stay out.
        let _scope = super::MessageScope::new().enter();
        read(&mut |_| Ok(Vec::new()), &mut |all, r| {
            all.push(format!("{r:?}"))
        })
    }

    /// What a test compares of a summary.
    pub(super) fn summary_text(s: &ReadSummary) -> String {
        format!(
            "{} {:?} {:?} {:?} {:?}",
            s.layer, s.crs, s.expected, s.warnings, s.encoding_hint
        )
    }

    /// The records and summary `reader` gives.
    pub(super) fn read_all(reader: &impl Reader, spec: &InputSpec) -> (Vec<String>, ReadSummary) {
        collect(|start, each| reader.read(spec, start, each).unwrap())
    }

    /// Every record a reader gives, as its debug text, and the summary.
    pub(super) fn records(reader: &impl Reader, spec: &InputSpec) -> (Vec<String>, String) {
        let (records, summary) = read_all(reader, spec);
        (records, summary_text(&summary))
    }
}

#[cfg(test)]
mod message_tests {
    use super::*;

    /// Two inputs read at once on their own threads each get only the
    /// messages GDAL raised while reading them.
    #[test]
    fn gdal_messages_stay_with_the_scope_that_raised_them() {
        configure_gdal();
        // A warning raised through GDAL's own error function, as its drivers do.
        let raise = |text: &str| {
            let format = std::ffi::CString::new("%s").unwrap();
            let text = std::ffi::CString::new(text).unwrap();
            unsafe {
                gdal_sys::CPLError(
                    gdal_sys::CPLErr::CE_Warning,
                    1,
                    format.as_ptr(),
                    text.as_ptr(),
                )
            };
        };
        // Both raise all theirs before either takes its own.
        let both_raised = std::sync::Barrier::new(2);
        let read = |name: &'static str| {
            let both_raised = &both_raised;
            move || {
                let _in_scope = MessageScope::new().enter();
                for k in 0..200 {
                    raise(&format!("{name}: row {k}"));
                }
                both_raised.wait();
                take_gdal_messages()
            }
        };
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(read("first-input.geojson"));
            let b = s.spawn(read("second-input.geojson"));
            (a.join().unwrap(), b.join().unwrap())
        });
        assert_eq!(a.len(), 200, "{a:?}");
        assert_eq!(b.len(), 200, "{b:?}");
        assert!(a.iter().all(|m| m.contains("first-input")), "{a:?}");
        assert!(b.iter().all(|m| m.contains("second-input")), "{b:?}");
    }
}

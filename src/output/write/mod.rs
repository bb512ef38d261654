//! Writing outputs: GeoJSON (RFC 7946), the GeoPackage, `rejects.csv` and
//! `report.json`.
//!
//! Every file is written to a temporary name in its final folder and renamed
//! into place, so a reader never sees half a layer. Output is deterministic:
//! features in a fixed order, numbers formatted the same way every time, and
//! the GeoPackage's timestamps pinned to the project's data date.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use gdal::{DriverManager, Metadata};
use geo::winding_order::{Winding, WindingOrder};
use geo::{Coord, LineString, Polygon};
use thiserror::Error;

pub mod gpkg;
pub mod rtree;
pub mod staging;

use crate::ingest::validate::Reject;
use crate::model::Date;
use crate::output::layers::{yes_no, LayerDef, Row, Shape, Value};
use crate::output::lists::Table;

/// The GeoPackage of a run's output folder.
pub const GPKG_FILE: &str = "riskatlas.gpkg";

/// Why an output file could not be written.
#[derive(Debug, Error)]
pub enum WriteError {
    /// A file or folder could not be read, created, written or renamed (XLSX
    /// errors are reported here too).
    #[error("{path}: {source}")]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// GDAL could not create, write or close a dataset.
    #[error("{path}: {message}")]
    Gdal {
        /// The dataset's path.
        path: PathBuf,
        /// GDAL's error message.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The temporary sibling a file is written to before it is renamed into place.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// Writes a file atomically: `fill` writes into a temporary sibling, which is
/// renamed over `path` only when `fill` succeeded.
pub fn atomic_write(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let tmp = temp_path(path);
    let result = (|| {
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
        fill(&mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()
    })();
    match result {
        Ok(()) => std::fs::rename(&tmp, path).map_err(io_err(path)),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(io_err(path)(e))
        }
    }
}

/// Writes a text file atomically.
pub fn write_text(path: &Path, text: &str) -> Result<(), WriteError> {
    atomic_write(path, |w| w.write_all(text.as_bytes()))
}

/// Writes a coordinate with at most 7 decimals (about 1 cm), as RFC 7946 advises.
fn push_coord(out: &mut String, v: f64) {
    let k = (v * 1e7).round();
    // Below 10^8 (doubles there lie closer together than 10^-8) the nearest
    // double to k / 10^7 has no shorter decimal than k / 10^7 itself, so
    // the digits of k are what `{}` of the rounded value prints, without
    // its general shortest-digits search.
    if k.abs() < 1.0e15 {
        push_ten_millionths(out, k as i64);
    } else {
        use std::fmt::Write as _;
        let r = k / 1e7;
        let _ = write!(out, "{r}");
    }
}

/// Writes k / 10^7 as `{}` writes an f64: no exponent, no trailing zeros,
/// no decimal point for a whole number, 0 for zero.
fn push_ten_millionths(out: &mut String, k: i64) {
    use std::fmt::Write as _;
    let sign = if k < 0 { "-" } else { "" };
    let k = k.unsigned_abs();
    let (whole, mut frac) = (k / 10_000_000, k % 10_000_000);
    let _ = write!(out, "{sign}{whole}");
    if frac != 0 {
        let mut width = 7;
        while frac % 10 == 0 {
            frac /= 10;
            width -= 1;
        }
        let _ = write!(out, ".{frac:0width$}");
    }
}

fn push_position(out: &mut String, x: f64, y: f64) {
    out.push('[');
    push_coord(out, x);
    out.push(',');
    push_coord(out, y);
    out.push(']');
}

/// A ring as a JSON array of positions.
fn push_ring(out: &mut String, ring: OrientedRing) {
    out.push('[');
    ring.for_each(|i, c| {
        if i > 0 {
            out.push(',');
        }
        push_position(out, c.x, c.y);
    });
    out.push(']');
}

/// A polygon's ring as both writers want it (RFC 7946 and the GeoPackage
/// alike: exteriors counter-clockwise, holes clockwise): the ring and whether
/// it is read backwards. This is what geo's `orient` makes, without copying
/// every polygon to get it.
#[derive(Clone, Copy)]
struct OrientedRing<'a> {
    ring: &'a LineString<f64>,
    backwards: bool,
}

impl OrientedRing<'_> {
    /// Its number of positions.
    fn len(&self) -> usize {
        self.ring.0.len()
    }

    /// Calls `f` with each position's index and coordinates, in order.
    fn for_each(&self, mut f: impl FnMut(usize, Coord<f64>)) {
        if self.backwards {
            self.ring
                .0
                .iter()
                .rev()
                .enumerate()
                .for_each(|(i, c)| f(i, *c));
        } else {
            self.ring.0.iter().enumerate().for_each(|(i, c)| f(i, *c));
        }
    }
}

/// A polygon's exterior, then its holes, each wound as the writers want
/// (a ring of no winding, too short or open, is left as it is, as by `orient`).
fn oriented_rings(poly: &Polygon<f64>) -> impl Iterator<Item = OrientedRing<'_>> {
    let wound = |ring, want| OrientedRing {
        ring,
        backwards: matches!(Winding::winding_order(ring), Some(w) if w != want),
    };
    std::iter::once(wound(poly.exterior(), WindingOrder::CounterClockwise)).chain(
        poly.interiors()
            .iter()
            .map(move |h| wound(h, WindingOrder::Clockwise)),
    )
}

/// RFC 7946 geometry JSON: outer rings counter-clockwise, holes clockwise.
fn geometry_json(shape: &Shape, out: &mut String) {
    match shape {
        Shape::Point(p) => {
            out.push_str(r#"{"type":"Point","coordinates":"#);
            push_position(out, p.x(), p.y());
            out.push('}');
        }
        Shape::MultiPolygon(mp) => {
            out.push_str(r#"{"type":"MultiPolygon","coordinates":["#);
            for (i, poly) in mp.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('[');
                for (k, ring) in oriented_rings(poly).enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    push_ring(out, ring);
                }
                out.push(']');
            }
            out.push_str("]}");
        }
    }
}

/// Appends a JSON string literal.
fn push_json_str(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    // Runs of text needing no escape are copied whole: what needs one is
    // ASCII, so a run never splits a character.
    let mut rest = s;
    while let Some(i) = rest
        .bytes()
        .position(|b| b == b'"' || b == b'\\' || b < 0x20)
    {
        out.push_str(&rest[..i]);
        match rest.as_bytes()[i] {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out.push('"');
}

/// Appends a property value as JSON (non-finite numbers become null).
fn push_json_value(out: &mut String, v: &Value) {
    use std::fmt::Write as _;
    match v {
        Value::Null => out.push_str("null"),
        Value::Str(s) => push_json_str(out, s),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Real(r) if r.is_finite() => {
            let _ = write!(out, "{r:?}");
        }
        Value::Real(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}

/// A layer as an RFC 7946 FeatureCollection, one feature per line, written
/// a part at a time (so a province's layers never
/// have to be in memory whole) into a temporary sibling, renamed into place
/// by [`GeoJsonWriter::finish`]; dropped unfinished, it leaves nothing.
pub struct GeoJsonWriter {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<FileThread>,
    /// The field names, escaped once: `"name":`.
    keys: Vec<String>,
    features: usize,
}

impl GeoJsonWriter {
    /// Starts the layer `def` at `path`.
    pub fn create(path: &Path, def: &LayerDef) -> Result<GeoJsonWriter, WriteError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let tmp = temp_path(path);
        let keys = def
            .fields
            .iter()
            .map(|f| {
                let mut k = String::new();
                push_json_str(&mut k, &f.name);
                k.push(':');
                k
            })
            .collect();
        let file = File::create(&tmp).map_err(io_err(path))?;
        let out = FileThread::start(BufWriter::with_capacity(1 << 20, file)).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io_err(path)(e)
        })?;
        // From here on, a failure drops the writer, which removes the file.
        let mut w = GeoJsonWriter {
            path: path.to_path_buf(),
            tmp,
            out: Some(out),
            keys,
            features: 0,
        };
        w.send(vec![
            "{\"type\":\"FeatureCollection\",\"features\":[\n".to_string()
        ])?;
        Ok(w)
    }

    /// Appends `rows`; their text is made in parallel, then written in order.
    pub fn write_rows(&mut self, rows: &[Row]) -> Result<(), WriteError> {
        use rayon::prelude::*;
        let first = self.features;
        let keys = &self.keys;
        let texts: Vec<String> = rows
            .par_chunks(1024)
            .enumerate()
            .map(|(c, part)| {
                let mut buf = String::with_capacity(part.len() * 256);
                for (k, row) in part.iter().enumerate() {
                    let index = first + c * 1024 + k;
                    if index > 0 {
                        buf.push_str(",\n");
                    }
                    push_feature(&mut buf, index as u64 + 1, keys, row);
                }
                buf
            })
            .collect();
        self.send(texts)?;
        self.features += rows.len();
        Ok(())
    }

    /// Hands texts to the file's thread; its error, when it has stopped on one.
    fn send(&mut self, texts: Vec<String>) -> Result<(), WriteError> {
        let out = self.out.as_ref().expect("open until finished");
        if out.send(texts) {
            return Ok(());
        }
        let stopped = self.out.take().expect("open until finished").finish();
        let _ = std::fs::remove_file(&self.tmp);
        let e = stopped
            .err()
            .unwrap_or_else(|| std::io::Error::other("the file's writer stopped"));
        Err(io_err(&self.path)(e))
    }

    /// Ends the collection, syncs the file and renames it into place.
    pub fn finish(mut self) -> Result<(), WriteError> {
        let out = self.out.take().expect("open until finished");
        let result = (|| {
            let mut out = out.finish()?;
            out.write_all(b"\n]}\n")?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(io_err(&self.path)(e));
        }
        std::fs::rename(&self.tmp, &self.path).map_err(io_err(&self.path))
    }
}

impl Drop for GeoJsonWriter {
    fn drop(&mut self) {
        if let Some(out) = self.out.take() {
            let _ = out.finish();
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A thread writing texts to a file in the order sent, so the next part of
/// a layer is made while the last is written (and its memory freed there).
struct FileThread {
    tx: std::sync::mpsc::SyncSender<Vec<String>>,
    thread: std::thread::JoinHandle<std::io::Result<BufWriter<File>>>,
}

impl FileThread {
    /// Starts the thread writing to `out`.
    fn start(mut out: BufWriter<File>) -> std::io::Result<FileThread> {
        // One part queued besides the one being written.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<String>>(1);
        let thread = std::thread::Builder::new()
            .name("geojson".into())
            .spawn(move || {
                for texts in rx {
                    for t in &texts {
                        out.write_all(t.as_bytes())?;
                    }
                }
                Ok(out)
            })?;
        Ok(FileThread { tx, thread })
    }

    /// Queues texts; `false` when the thread has stopped (on an error,
    /// which [`FileThread::finish`] gives).
    fn send(&self, texts: Vec<String>) -> bool {
        self.tx.send(texts).is_ok()
    }

    /// Waits for everything sent to be written; gives the file back.
    fn finish(self) -> std::io::Result<BufWriter<File>> {
        drop(self.tx);
        self.thread
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the file's writer panicked")))
    }
}

/// One feature: its properties in the layer's field order, then its geometry.
/// One feature; `id` is its number in the layer from 1, the same as its
/// `fid` in the GeoPackage (GDAL reads it as the feature id), so a feature
/// has one number in every format and web maps can key hover and selection on it.
fn push_feature(buf: &mut String, id: u64, keys: &[String], row: &Row) {
    use std::fmt::Write as _;
    let _ = write!(buf, r#"{{"type":"Feature","id":{id},"properties":{{"#);
    for (k, (key, v)) in keys.iter().zip(&row.values).enumerate() {
        if k > 0 {
            buf.push(',');
        }
        buf.push_str(key);
        push_json_value(buf, v);
    }
    buf.push_str(r#"},"geometry":"#);
    geometry_json(&row.shape, buf);
    buf.push('}');
}

/// Writes `rejects.csv` (UTF-8 with BOM so Excel shows the Chinese correctly).
pub fn write_rejects(path: &Path, rejects: &[Reject]) -> Result<(), WriteError> {
    atomic_write(path, |w| {
        w.write_all("\u{feff}".as_bytes())?;
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record([
            "source_file",
            "layer",
            "row",
            "id",
            "field",
            "value",
            "code",
            "reason",
        ])?;
        for r in rejects {
            csv.write_record([
                &*r.source.file,
                r.source.layer.as_deref().unwrap_or(""),
                &r.source.row.to_string(),
                r.id.as_deref().unwrap_or(""),
                &r.field,
                &r.value,
                r.code.as_str(),
                &r.reason,
            ])?;
        }
        csv.flush()
    })
}

/// Writes pretty JSON atomically.
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), WriteError> {
    atomic_write(path, |w| {
        serde_json::to_writer_pretty(&mut *w, value).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })
}

/// Writes one list as CSV: UTF-8 with BOM and Chinese headers, so Excel
/// opens it correctly by double-click.
pub fn write_list_csv(path: &Path, table: &Table) -> Result<(), WriteError> {
    atomic_write(path, |w| {
        w.write_all("\u{feff}".as_bytes())?;
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(table.columns.iter().map(|c| c.header))?;
        for row in &table.rows {
            csv.write_record(row.iter().map(cell_text))?;
        }
        csv.flush()
    })
}

/// A value as list text; reals without trailing noise.
fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Bool(b) => yes_no(*b).to_string(),
    }
}

/// The workbook's deflate level: 2 writes the province's 清单.xlsx in 4.5 s
/// (60.6 MB) where the default 6 took 7.8 s (51.0 MB), on a thread beside
/// the layers.
const WORKBOOK_DEFLATE_LEVEL: u8 = 2;

/// The lists' workbook, a sheet per list added as each list is made: the
/// sheets stream to temporary files, so a list need not outlive its sheet.
/// Bold header row, frozen, column widths set; the document date pinned for
/// determinism.
pub struct ListsWorkbook {
    path: PathBuf,
    book: rust_xlsxwriter::Workbook,
    header: rust_xlsxwriter::Format,
}

impl ListsWorkbook {
    /// A workbook to be saved at `path`, dated `created`.
    pub fn new(path: &Path, created: Date) -> Result<ListsWorkbook, WriteError> {
        use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
        let mut book = Workbook::new();
        book.set_zip_compression_level(WORKBOOK_DEFLATE_LEVEL);
        let stamp =
            ExcelDateTime::from_ymd(created.year as u16, created.month as u8, created.day as u8)
                .map_err(xlsx_err(path))?;
        book.set_properties(
            &DocProperties::new()
                .set_creation_datetime(&stamp)
                .set_author("riskatlas"),
        );
        let header = Format::new()
            .set_bold()
            .set_text_wrap()
            .set_background_color("D9D9D9");
        Ok(ListsWorkbook {
            path: path.to_path_buf(),
            book,
            header,
        })
    }

    /// Adds `table` as the next sheet.
    pub fn add(&mut self, table: &Table) -> Result<(), WriteError> {
        let err = xlsx_err(&self.path);
        // Rows are written in order, so the sheet can stream to disk.
        let sheet = self
            .book
            .add_worksheet_with_constant_memory()
            .map_err(err)?;
        sheet.set_name(table.name).map_err(err)?;
        for (c, col) in table.columns.iter().enumerate() {
            sheet
                .write_string_with_format(0, c as u16, col.header, &self.header)
                .map_err(err)?;
            sheet.set_column_width(c as u16, col.width).map_err(err)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(err)?;
        for (r, row) in table.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, v) in row.iter().enumerate() {
                let c = c as u16;
                match v {
                    Value::Null => continue,
                    Value::Str(s) => sheet.write_string(r, c, s).map_err(err)?,
                    Value::Int(i) => sheet.write_number(r, c, *i as f64).map_err(err)?,
                    Value::Real(x) => sheet.write_number(r, c, *x).map_err(err)?,
                    Value::Bool(b) => sheet.write_string(r, c, yes_no(*b)).map_err(err)?,
                };
            }
        }
        Ok(())
    }

    /// Saves the workbook, streamed into its file (atomically).
    pub fn save(self) -> Result<(), WriteError> {
        let ListsWorkbook { path, mut book, .. } = self;
        atomic_write(&path, |w| {
            book.save_to_writer(w)
                .map_err(|e| std::io::Error::other(e.to_string()))
        })
    }
}

/// A workbook error as a write error on `path`.
pub fn xlsx_err(path: &Path) -> impl Fn(rust_xlsxwriter::XlsxError) -> WriteError + Copy + '_ {
    move |e| WriteError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// A Cloud-Optimized GeoTIFF (Float32, DEFLATE, 256 × 256 tiles, nodata 0,
/// overviews inside). The COG layout can only be made by copying a whole
/// raster, so the grid is first written band by band into a plain tiled
/// GeoTIFF beside it (uncompressed: it is read once), which `finish` copies
/// through GDAL's COG driver and removes.
pub struct GeoTiff {
    path: PathBuf,
    raw: PathBuf,
    ds: gdal::Dataset,
    cols: usize,
    band: Band,
}

/// What a GeoTIFF's one band holds.
#[derive(Debug, Clone, Copy)]
pub struct Band {
    /// The name QGIS shows in its legend.
    pub description: &'static str,
    /// The value of cells without data.
    pub nodata: f64,
    /// How the overviews are made: `AVERAGE` for a measure, `MODE` for classes.
    pub resampling: &'static str,
}

impl Band {
    /// The exposure grid: E as Float32, nodata where E = 0.
    pub const EXPOSURE: Band = Band {
        description: crate::output::EXPOSURE_TITLE,
        nodata: 0.0,
        resampling: "AVERAGE",
    };
}

/// Hands the memory GDAL has freed (block caches of the two GeoTIFFs, the
/// COG driver's buffers) back to the system: glibc keeps freed pages of the
/// C heap, which would otherwise stay in the process through the rest of
/// the run.
fn release_freed_c_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of glibc's heap.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The sibling the grid is first written to, before its copy as a COG.
fn raw_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".raw.partial");
    path.with_file_name(name)
}

impl GeoTiff {
    /// Creates the file for a `rows` × `cols` grid of `T` (f32 or i16)
    /// with the given geotransform and EPSG code.
    pub fn create<T: gdal::raster::GdalType>(
        path: &Path,
        (cols, rows): (usize, usize),
        geotransform: [f64; 6],
        epsg: u32,
        band: Band,
    ) -> Result<GeoTiff, WriteError> {
        let gdal_err = |e: gdal::errors::GdalError| WriteError::Gdal {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let raw = raw_path(path);
        let driver = DriverManager::get_driver_by_name("GTiff").map_err(gdal_err)?;
        let options = gdal::raster::RasterCreationOptions::from_iter([
            "TILED=YES",
            "BLOCKXSIZE=256",
            "BLOCKYSIZE=256",
            "BIGTIFF=IF_SAFER",
        ]);
        let mut ds = driver
            .create_with_band_type_with_options::<T, _>(&raw, cols, rows, 1, &options)
            .map_err(gdal_err)?;
        ds.set_geo_transform(&geotransform).map_err(gdal_err)?;
        ds.set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_epsg(epsg).map_err(gdal_err)?)
            .map_err(gdal_err)?;
        ds.rasterband(1)
            .and_then(|mut b| {
                b.set_no_data_value(Some(band.nodata))?;
                b.set_description(band.description)
            })
            .map_err(gdal_err)?;
        Ok(GeoTiff {
            path: path.to_path_buf(),
            raw,
            ds,
            cols,
            band,
        })
    }

    fn gdal_err(&self) -> impl Fn(gdal::errors::GdalError) -> WriteError + '_ {
        move |e| WriteError::Gdal {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// Writes rows `row0 .. row0 + rows` (row-major values) as Float32.
    pub fn write_band(
        &mut self,
        row0: usize,
        rows: usize,
        values: &[f64],
    ) -> Result<(), WriteError> {
        let data: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        self.write_rows(row0, rows, data)
    }

    /// Writes rows `row0 .. row0 + rows` of values of the band's type.
    pub fn write_rows<T: gdal::raster::GdalType + Copy>(
        &mut self,
        row0: usize,
        rows: usize,
        data: Vec<T>,
    ) -> Result<(), WriteError> {
        let mut buf = gdal::raster::Buffer::new((self.cols, rows), data);
        let mut band = self.ds.rasterband(1).map_err(self.gdal_err())?;
        band.write((0, row0 as isize), (self.cols, rows), &mut buf)
            .map_err(self.gdal_err())
    }

    /// Copies the grid into a COG (overviews by averaging, halving while
    /// larger than a tile), renames it into place and removes the plain copy.
    pub fn finish(self) -> Result<(), WriteError> {
        let result = self.copy_as_cog();
        let raw = self.raw.clone();
        drop(self);
        let _ = std::fs::remove_file(&raw);
        release_freed_c_heap();
        result
    }

    fn copy_as_cog(&self) -> Result<(), WriteError> {
        let err = self.gdal_err();
        let tmp = temp_path(&self.path);
        let driver = DriverManager::get_driver_by_name("COG").map_err(&err)?;
        let options = gdal::raster::RasterCreationOptions::from_iter([
            "COMPRESS=DEFLATE",
            "PREDICTOR=YES",
            "BLOCKSIZE=256",
            "OVERVIEWS=IGNORE_EXISTING",
            &format!("RESAMPLING={}", self.band.resampling),
            "BIGTIFF=IF_SAFER",
            "NUM_THREADS=ALL_CPUS",
        ]);
        let copied = self
            .ds
            .create_copy(&driver, &tmp, &options)
            .and_then(|cog| cog.close());
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&tmp);
            return Err(err(e));
        }
        std::fs::rename(&tmp, &self.path).map_err(io_err(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::layers::{def, sample_rows, Layer};

    #[test]
    fn json_strings_escape_quotes_backslashes_and_controls_only() {
        let texts = [
            String::new(),
            "常州市武进区".to_string(),
            "a\"b\\c\nd\re\tf".to_string(),
            "\u{1}\u{1f}x\u{7f}\u{8}\u{c}".to_string(),
            "\"开头和结尾\\".to_string(),
            (0u8..128).map(char::from).collect(),
        ];
        for t in &texts {
            let mut out = String::from("x");
            push_json_str(&mut out, t);
            let back: String = serde_json::from_str(&out[1..]).expect("valid JSON");
            assert_eq!(&back, t);
            let escaped: usize = out.matches('\\').count();
            let needing = t
                .chars()
                .filter(|c| matches!(c, '"' | '\\') || (*c as u32) < 0x20)
                .count();
            assert_eq!(escaped, needing + t.matches('\\').count(), "{out}");
        }
        let mut out = String::new();
        push_json_str(&mut out, "\u{1}\u{1f}");
        assert_eq!(out, "\"\\u0001\\u001f\"");
    }

    /// The rings as the writers read them are geo's `orient`ed polygon's,
    /// whichever way the rings came wound.
    #[test]
    fn rings_are_read_as_orient_makes_them() {
        use geo::{orient::Direction, Orient};
        let square = |x: f64, s: f64| {
            LineString::from(vec![(x, x), (x + s, x), (x + s, x + s), (x, x + s), (x, x)])
        };
        let reversed =
            |l: LineString<f64>| LineString::from(l.0.into_iter().rev().collect::<Vec<_>>());
        let (outer, hole) = (square(0.0, 10.0), square(2.0, 3.0));
        for poly in [
            Polygon::new(outer.clone(), vec![hole.clone()]),
            Polygon::new(reversed(outer.clone()), vec![reversed(hole.clone())]),
            Polygon::new(reversed(outer), vec![hole]),
        ] {
            let oriented = poly.orient(Direction::Default);
            let expected: Vec<&LineString<f64>> = std::iter::once(oriented.exterior())
                .chain(oriented.interiors())
                .collect();
            let read: Vec<LineString<f64>> = oriented_rings(&poly)
                .map(|r| {
                    let mut coords = Vec::new();
                    r.for_each(|_, c| coords.push(c));
                    LineString::from(coords)
                })
                .collect();
            assert_eq!(read.iter().collect::<Vec<_>>(), expected);
        }
    }

    /// What a coordinate was written as before the fast path: the rounded value's `{}`.
    fn coord_by_display(v: f64) -> String {
        let r = (v * 1e7).round() / 1e7;
        let r = if r == 0.0 { 0.0 } else { r };
        format!("{r}")
    }

    #[test]
    fn coordinates_are_written_as_the_rounded_values_display() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut fixed = vec![
            0.0,
            -0.0,
            1e-8,
            -4e-8,
            5e-8,
            -5e-8,
            0.5,
            -0.5,
            1.0,
            120.0,
            -180.0,
            31.000_000_1,
            119.999_999_95,
            0.100_000_05,
            99_999_999.999_999_9,
            1e8,
            3e8,
            1e9,
            1e15,
            f64::MAX,
        ];
        for scale in [1.0, 10.0, 180.0, 1e4, 1e6, 1e8, 2e8] {
            for _ in 0..200_000 {
                let v: f64 = rng.gen_range(-scale..scale);
                fixed.push(v);
                // Values on and next to the seventh decimal.
                let k = (v * 1e7).round();
                fixed.push(k / 1e7);
                fixed.push((k + 0.5) / 1e7);
            }
        }
        for v in fixed {
            let mut s = String::new();
            push_coord(&mut s, v);
            assert_eq!(s, coord_by_display(v), "{v:e}");
        }
    }

    /// A layer written in parts is byte for byte the layer written whole,
    /// and an unfinished one leaves no file behind.
    #[test]
    fn geojson_in_parts_is_the_layer_whole() {
        let dir = tempfile::tempdir().unwrap();
        let d = def(Layer::HiddenDangers);
        let rows = sample_rows(d, 2500);
        let whole = dir.path().join("whole.geojson");
        let mut w = GeoJsonWriter::create(&whole, d).unwrap();
        w.write_rows(&rows).unwrap();
        w.finish().unwrap();
        let parts = dir.path().join("parts.geojson");
        let mut w = GeoJsonWriter::create(&parts, d).unwrap();
        for part in [&rows[..1], &rows[1..1], &rows[1..1100], &rows[1100..]] {
            w.write_rows(part).unwrap();
        }
        w.finish().unwrap();
        assert_eq!(
            std::fs::read(&whole).unwrap(),
            std::fs::read(&parts).unwrap()
        );
        let text = std::fs::read_to_string(&parts).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["features"].as_array().unwrap().len(), 2500);

        let left = dir.path().join("left.geojson");
        let mut w = GeoJsonWriter::create(&left, d).unwrap();
        w.write_rows(&rows[..10]).unwrap();
        drop(w);
        assert!(!left.exists() && !temp_path(&left).exists());
    }
}

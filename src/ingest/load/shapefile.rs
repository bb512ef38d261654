//! Point shapefiles' records read straight from their `.shp`, `.shx` and
//! `.dbf`, where that gives exactly what GDAL 3.6 gives.
//!
//! GDAL still opens the file: the layer's name, its fields and their types,
//! the record count, the CRS and GDAL's messages all come from it. Only the
//! records are read here. GDAL recodes each text value through
//! `CPLRecodeIconv`, which opens iconv and clears a 32 KB buffer per value:
//! a province's 333,333 targets took 1.3–1.7 s, most of it in those calls.
//! Here each value goes through the same iconv conversion, opened once.
//!
//! The records are read here only when every one reads as GDAL reads it
//! and GDAL would say nothing about any:
//! an `encoding` given in the project file (GDAL's `ENCODING` open option;
//! only GBK, `CP936`, which GDAL recodes through iconv), the CRS given
//! there too, 2-D points only, the three files consistent with each other
//! and with GDAL's count, no deleted record, and the mapped fields text
//! (`C`) or integers (`N` without decimals) whose values are blank, `*`
//! or a plain number of at most nine digits, the other fields' values text
//! iconv converts or numbers parsed whole. Any value iconv cannot convert
//! whole leaves the file to GDAL, which skips the bytes and warns. Anything
//! else, or anything in doubt, leaves the whole file to GDAL.

use std::ffi::CString;
use std::path::Path;

use gdal::vector::LayerAccess;

use super::ColumnMap;
use crate::ingest::config::InputSpec;

/// The one encoding read here: GDAL's name for GBK, converted by iconv.
const GBK: &str = "CP936";

/// A mapped column's values, as GDAL types them.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// `OFTString` from a `C` field: the text, trimmed of spaces, recoded.
    Text,
    /// `OFTInteger` or `OFTInteger64` from an `N` field without decimals:
    /// the number, written back as C's `%d` writes it.
    Integer,
}

/// One mapped DBF field.
#[derive(Debug, Clone, Copy)]
struct Field {
    /// GDAL's index of the field, the DBF's too.
    index: usize,
    /// Offset of the field in a record (after the deletion flag).
    offset: usize,
    width: usize,
    kind: Kind,
}

/// A point shapefile's records: each point, and each mapped field's value
/// as the UTF-8 text GDAL would give (`None` when GDAL reads it as null).
pub struct Points {
    xy: Vec<[f64; 2]>,
    /// GDAL field index of each mapped field, in `values` order.
    fields: Vec<usize>,
    /// Every value's text, one after the other.
    text: String,
    /// Per record, per mapped field: the value's span in `text`.
    values: Vec<Option<(u32, u32)>>,
}

impl Points {
    /// The records of the layer GDAL opened, read from the files, or `None`
    /// when any of them might read otherwise than through GDAL.
    pub fn read(
        spec: &InputSpec,
        layer: &gdal::vector::Layer,
        columns: &[String],
        map: &ColumnMap,
    ) -> Option<Points> {
        let encoding = spec.encoding.as_deref()?;
        if super::gdal_encoding_name(encoding) != GBK
            || !spec.crs_given
            || map.xy.is_some()
            || spec.layer.is_some()
        {
            return None;
        }
        let count = usize::try_from(layer.try_feature_count()?).ok()?;
        let shp = std::fs::read(sibling(&spec.path, "shp")?).ok()?;
        let shx = std::fs::read(sibling(&spec.path, "shx")?).ok()?;
        let dbf = std::fs::read(sibling(&spec.path, "dbf")?).ok()?;
        let xy = points(&shp, &shx, count)?;
        let mut iconv = Iconv::open(GBK)?;
        let table = Table::new(&dbf, count, columns, &mut iconv)?;
        let mut fields: Vec<usize> = map.fields.iter().flatten().copied().collect();
        fields.sort_unstable();
        fields.dedup();
        let fields: Vec<Field> = fields
            .into_iter()
            .map(|i| table.field(i, gdal_kind(layer, i)?))
            .collect::<Option<_>>()?;
        // Every other field GDAL reads too, and warns about: text iconv
        // cannot convert, integers and reals not parsed whole.
        let others: Vec<(usize, usize, Other)> = (0..table.fields.len())
            .filter(|i| !fields.iter().any(|f| f.index == *i))
            .filter_map(|i| {
                let (_, offset, width) = table.fields[i];
                other_kind(layer, i).map(|o| (offset, width, o))
            })
            .collect();
        let (text, values) = table.values(count, &fields, &others, &mut iconv)?;
        Some(Points {
            xy,
            fields: fields.iter().map(|f| f.index).collect(),
            text,
            values,
        })
    }

    pub fn len(&self) -> usize {
        self.xy.len()
    }

    /// Record `k`'s point.
    pub fn point(&self, k: usize) -> geo::Geometry<f64> {
        let [x, y] = self.xy[k];
        geo::Geometry::Point(geo::Point::new(x, y))
    }

    /// Record `k`'s value of GDAL field `i` (a mapped one), as GDAL gives it.
    pub fn cell(&self, k: usize, i: usize) -> Option<&[u8]> {
        let at = self.fields.binary_search(&i).ok()?;
        let (start, end) = self.values[k * self.fields.len() + at]?;
        Some(&self.text.as_bytes()[start as usize..end as usize])
    }
}

/// The file beside `path` with extension `ext`, in the case the `.shp`'s own
/// extension is written in (as GDAL looks for it first).
fn sibling(path: &Path, ext: &str) -> Option<std::path::PathBuf> {
    // shapelib: `base.ext`, else `base.EXT`, whatever the case of the name given.
    [ext.to_string(), ext.to_ascii_uppercase()]
        .into_iter()
        .map(|e| path.with_extension(e))
        .find(|p| p.exists())
        .filter(|p| p.is_file())
}

/// GDAL's type and subtype of field `i`, if the layer has it.
fn field_type(
    layer: &gdal::vector::Layer,
    i: usize,
) -> Option<(
    gdal_sys::OGRFieldType::Type,
    gdal_sys::OGRFieldSubType::Type,
)> {
    // SAFETY: the layer handle is valid while `layer` is borrowed, and `i`
    // is below the definition's field count (checked first).
    unsafe {
        let defn = gdal_sys::OGR_L_GetLayerDefn(layer.c_layer());
        if i >= usize::try_from(gdal_sys::OGR_FD_GetFieldCount(defn)).ok()? {
            return None;
        }
        let fld = gdal_sys::OGR_FD_GetFieldDefn(defn, i as i32);
        Some((
            gdal_sys::OGR_Fld_GetType(fld),
            gdal_sys::OGR_Fld_GetSubType(fld),
        ))
    }
}

/// GDAL's type of mapped field `i`, if it is one read here.
fn gdal_kind(layer: &gdal::vector::Layer, i: usize) -> Option<Kind> {
    use gdal_sys::OGRFieldType as T;
    match field_type(layer, i)? {
        (T::OFTString, _) => Some(Kind::Text),
        (T::OFTInteger | T::OFTInteger64, gdal_sys::OGRFieldSubType::OFSTNone) => {
            Some(Kind::Integer)
        }
        _ => None,
    }
}

/// An unmapped field's type, as far as GDAL may warn while reading it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Other {
    Text,
    Integer,
    Real,
}

/// GDAL's type of an unmapped field, when reading it may raise a message.
fn other_kind(layer: &gdal::vector::Layer, i: usize) -> Option<Other> {
    use gdal_sys::OGRFieldType as T;
    match field_type(layer, i)?.0 {
        T::OFTString => Some(Other::Text),
        T::OFTInteger => Some(Other::Integer),
        T::OFTReal => Some(Other::Real),
        _ => None,
    }
}

/// `Some` when GDAL reads an unmapped field's value `raw` without a
/// message: text iconv converts whole, an integer or a real parsed whole.
fn read_quietly(raw: &[u8], o: Other, iconv: &mut Iconv) -> Option<()> {
    let v = shapelib_text(raw);
    let null = v.is_empty() || (o != Other::Text && v[0] == b'*');
    if null {
        return Some(());
    }
    match o {
        Other::Text if v.is_ascii() => Some(()),
        Other::Text => iconv.convert(v).map(drop),
        Other::Integer => plain_integer(v).map(drop),
        Other::Real => plain_real(v).then_some(()),
    }
}

/// Digits, with an optional minus sign and a fraction after a point: a
/// real GDAL parses whole.
fn plain_real(v: &[u8]) -> bool {
    let digits = v.strip_prefix(b"-").unwrap_or(v);
    let (int, frac) = match digits.iter().position(|&b| b == b'.') {
        Some(p) => (&digits[..p], &digits[p + 1..]),
        None => (digits, &b"0"[..]),
    };
    !int.is_empty() && !frac.is_empty() && int.iter().chain(frac).all(u8::is_ascii_digit)
}

fn be_u32(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

fn le_u32(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

fn le_u16(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize)
}

fn le_f64(b: &[u8], at: usize) -> Option<f64> {
    Some(f64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The shape type of 2-D points.
const POINT: usize = 1;

/// Bytes of a point record's content: its type, x and y.
const POINT_CONTENT: usize = 20;

/// The `count` points, in the order of the index (`.shx`), as GDAL reads
/// them; `None` unless both files hold exactly `count` finite 2-D points
/// whose record headers agree with the index.
fn points(shp: &[u8], shx: &[u8], count: usize) -> Option<Vec<[f64; 2]>> {
    let header_ok = |b: &[u8]| {
        be_u32(b, 0) == Some(9994)
            && be_u32(b, 24).map(|words| words * 2) == Some(b.len())
            && le_u32(b, 28) == Some(1000)
            && le_u32(b, 32) == Some(POINT)
    };
    if !header_ok(shp) || !header_ok(shx) || shx.len() != 100 + 8 * count {
        return None;
    }
    (0..count)
        .map(|k| {
            let at = be_u32(shx, 100 + 8 * k)? * 2;
            let len = be_u32(shx, 104 + 8 * k)? * 2;
            if len != POINT_CONTENT
                || at < 100
                || be_u32(shp, at + 4)? * 2 != len
                || le_u32(shp, at + 8)? != POINT
            {
                return None;
            }
            let (x, y) = (le_f64(shp, at + 12)?, le_f64(shp, at + 20)?);
            (x.is_finite() && y.is_finite()).then_some([x, y])
        })
        .collect()
}

/// A dBASE III table as shapelib reads it.
struct Table<'a> {
    dbf: &'a [u8],
    header: usize,
    record_len: usize,
    /// Each field's type, offset in a record and width.
    fields: Vec<(u8, usize, usize)>,
}

impl<'a> Table<'a> {
    /// The table, when it is plain dBASE III holding `count` records whose
    /// field names recode to GDAL's `columns`.
    fn new(
        dbf: &'a [u8],
        count: usize,
        columns: &[String],
        iconv: &mut Iconv,
    ) -> Option<Table<'a>> {
        let header = le_u16(dbf, 8)?;
        let record_len = le_u16(dbf, 10)?;
        let n = columns.len();
        if dbf.first() != Some(&0x03)
            || le_u32(dbf, 4)? != count
            || header != 32 + 32 * n + 1
            || dbf.get(header - 1) != Some(&0x0D)
            || dbf.len() < header + count * record_len
        {
            return None;
        }
        let mut fields = Vec::with_capacity(n);
        let mut offset = 1;
        for (i, column) in columns.iter().enumerate() {
            let d = &dbf[32 + 32 * i..64 + 32 * i];
            let kind = d[11];
            // shapelib (GDAL 3.6): every field's width is byte 16 alone.
            let width = usize::from(d[16]);
            if kind != b'C' && d[17] != 0 {
                // Decimals: GDAL reads the field as a real, not read here.
                fields.push((0, offset, width));
            } else {
                fields.push((kind, offset, width));
            }
            let name = &d[..11];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(11)];
            let name = trim_end_spaces(name);
            if iconv.convert(name)? != *column {
                return None;
            }
            offset += width;
        }
        (offset == record_len).then_some(Table {
            dbf,
            header,
            record_len,
            fields,
        })
    }

    /// Mapped field `index`, when GDAL's type for it (`kind`) is read here
    /// and the DBF's type is the one GDAL made it from.
    fn field(&self, index: usize, kind: Kind) -> Option<Field> {
        let &(dbf_kind, offset, width) = self.fields.get(index)?;
        let fits = match kind {
            Kind::Text => dbf_kind == b'C',
            Kind::Integer => dbf_kind == b'N',
        };
        fits.then_some(Field {
            index,
            offset,
            width,
            kind,
        })
    }

    /// The mapped fields' values of the first `count` records (see
    /// [`value`]), when GDAL reads every record, the other fields
    /// included, without a message.
    #[allow(clippy::type_complexity)]
    fn values(
        &self,
        count: usize,
        fields: &[Field],
        others: &[(usize, usize, Other)],
        iconv: &mut Iconv,
    ) -> Option<(String, Vec<Option<(u32, u32)>>)> {
        let mut text = String::new();
        let mut values = Vec::with_capacity(count * fields.len());
        for k in 0..count {
            let record = self.record(k)?;
            for &(offset, width, o) in others {
                read_quietly(&record[offset..offset + width], o, iconv)?;
            }
            for f in fields {
                let raw = &record[f.offset..f.offset + f.width];
                values.push(value(raw, f.kind, iconv, &mut text)?);
            }
        }
        Some((text, values))
    }

    /// Record `k`'s bytes after its deletion flag; `None` for a record
    /// marked deleted (or marked anyhow but blank).
    fn record(&self, k: usize) -> Option<&'a [u8]> {
        let at = self.header + k * self.record_len;
        let bytes = &self.dbf[at..at + self.record_len];
        (bytes[0] == b' ').then_some(bytes)
    }
}

fn trim_end_spaces(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&c| c != b' ').map_or(0, |p| p + 1);
    &b[..end]
}

/// A field's value as shapelib gives it to GDAL: up to its first NUL,
/// trimmed of spaces at both ends.
fn shapelib_text(raw: &[u8]) -> &[u8] {
    let raw = &raw[..raw.iter().position(|&b| b == 0).unwrap_or(raw.len())];
    let start = raw.iter().position(|&b| b != b' ').unwrap_or(raw.len());
    trim_end_spaces(&raw[start..])
}

/// One value as GDAL gives it, appended to `text` (its span), `None` inside
/// when GDAL reads it as null; `None` outside when it is not read here.
fn value(
    raw: &[u8],
    kind: Kind,
    iconv: &mut Iconv,
    text: &mut String,
) -> Option<Option<(u32, u32)>> {
    let v = shapelib_text(raw);
    let start = u32::try_from(text.len()).ok()?;
    match kind {
        // shapelib: an empty text is null.
        Kind::Text if v.is_empty() => return Some(None),
        Kind::Text => text.push_str(iconv.convert(v)?),
        // shapelib: a number all blank or starting with `*` is null.
        Kind::Integer if v.is_empty() || v[0] == b'*' => return Some(None),
        Kind::Integer => text.push_str(&plain_integer(v)?.to_string()),
    }
    let end = u32::try_from(text.len()).ok()?;
    Some(Some((start, end)))
}

/// A number of at most nine digits with an optional minus sign: what C's
/// `atoi` and GDAL's 64-bit parse both read whole, and the same.
fn plain_integer(v: &[u8]) -> Option<i64> {
    let digits = v.strip_prefix(b"-").unwrap_or(v);
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// An iconv conversion to UTF-8, opened once, as GDAL's `CPLRecodeIconv`
/// opens it for each value; its output buffer is reused from value to value.
struct Iconv(libc::iconv_t, Vec<u8>);

impl Iconv {
    fn open(from: &str) -> Option<Iconv> {
        let to = CString::new("UTF-8").ok()?;
        let from = CString::new(from).ok()?;
        // SAFETY: both names are NUL-terminated strings alive for the call.
        let cd = unsafe { libc::iconv_open(to.as_ptr(), from.as_ptr()) };
        (cd as isize != -1).then_some(Iconv(cd, Vec::new()))
    }

    /// `bytes` in UTF-8, or `None` when iconv cannot convert them whole
    /// (GDAL would skip bytes or stop short). ASCII is the same in GBK.
    fn convert<'a>(&'a mut self, bytes: &'a [u8]) -> Option<&'a str> {
        if bytes.is_ascii() {
            return std::str::from_utf8(bytes).ok();
        }
        let out = &mut self.1;
        out.clear();
        out.resize(bytes.len() * 4 + 4, 0);
        let mut inp = bytes.as_ptr() as *mut libc::c_char;
        let mut in_left = bytes.len();
        let mut outp = out.as_mut_ptr() as *mut libc::c_char;
        let mut out_left = out.len();
        // SAFETY: the pointers and lengths describe `bytes` (read only, as
        // iconv reads its input) and `out`; the first call resets the state.
        let done = unsafe {
            libc::iconv(
                self.0,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
            libc::iconv(self.0, &mut inp, &mut in_left, &mut outp, &mut out_left)
        };
        if done == usize::MAX || in_left != 0 {
            return None;
        }
        let written = out.len() - out_left;
        std::str::from_utf8(&out[..written]).ok()
    }
}

impl Drop for Iconv {
    fn drop(&mut self) {
        // SAFETY: the descriptor was opened in `open` and is closed once.
        unsafe { libc::iconv_close(self.0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::InputCrs;
    use crate::ingest::config::InputKind;
    use crate::ingest::load::test_support::{collect, records, summary_text};
    use crate::ingest::load::GdalReader;
    use std::path::PathBuf;

    /// A DBF field: name (GBK bytes), type, width, decimals.
    type Def = (&'static [u8], u8, u8, u8);

    /// The targets' fields as users' files have them: GBK names, text and a count.
    const DEFS: &[Def] = &[
        (b"\xc4\xbf\xb1\xea\xb1\xe0\xba\xc5", b'C', 16, 0), // 目标编号
        (b"\xc4\xbf\xb1\xea\xc3\xfb\xb3\xc6", b'C', 40, 0), // 目标名称
        (b"\xc0\xe0\xd0\xcd", b'C', 12, 0),                 // 类型
        (b"\xc8\xcb\xca\xfd", b'N', 9, 0),                  // 人数
    ];

    /// A record: its point, its deletion flag and each field's bytes
    /// (padded with spaces to the field's width).
    struct Rec {
        xy: [f64; 2],
        flag: u8,
        values: Vec<&'static [u8]>,
    }

    fn rec(xy: [f64; 2], values: &[&'static [u8]]) -> Rec {
        Rec {
            xy,
            flag: b' ',
            values: values.to_vec(),
        }
    }

    /// Writes `name.shp`, `.shx` and `.dbf` of point records, with shape
    /// type `shape` in every header and record.
    fn write(dir: &Path, name: &str, defs: &[Def], recs: &[Rec], shape: u32) -> PathBuf {
        let header = |words: usize| {
            let mut h = vec![0u8; 100];
            h[0..4].copy_from_slice(&9994u32.to_be_bytes());
            h[24..28].copy_from_slice(&(words as u32).to_be_bytes());
            h[28..32].copy_from_slice(&1000u32.to_le_bytes());
            h[32..36].copy_from_slice(&shape.to_le_bytes());
            h
        };
        let mut shp = header(50 + 14 * recs.len());
        let mut shx = header(50 + 4 * recs.len());
        for (k, r) in recs.iter().enumerate() {
            shx.extend_from_slice(&((shp.len() / 2) as u32).to_be_bytes());
            shx.extend_from_slice(&10u32.to_be_bytes());
            shp.extend_from_slice(&(k as u32 + 1).to_be_bytes());
            shp.extend_from_slice(&10u32.to_be_bytes());
            shp.extend_from_slice(&shape.to_le_bytes());
            shp.extend_from_slice(&r.xy[0].to_le_bytes());
            shp.extend_from_slice(&r.xy[1].to_le_bytes());
        }
        let record_len: usize = 1 + defs.iter().map(|d| usize::from(d.2)).sum::<usize>();
        let mut dbf = vec![0u8; 32];
        dbf[0] = 3;
        dbf[4..8].copy_from_slice(&(recs.len() as u32).to_le_bytes());
        dbf[8..10].copy_from_slice(&((33 + 32 * defs.len()) as u16).to_le_bytes());
        dbf[10..12].copy_from_slice(&(record_len as u16).to_le_bytes());
        for (field, kind, width, decimals) in defs {
            let mut d = [0u8; 32];
            d[..field.len()].copy_from_slice(field);
            d[11] = *kind;
            d[16] = *width;
            d[17] = *decimals;
            dbf.extend_from_slice(&d);
        }
        dbf.push(0x0D);
        for r in recs {
            dbf.push(r.flag);
            for (v, d) in r.values.iter().zip(defs) {
                let mut cell = v.to_vec();
                cell.resize(usize::from(d.2), b' ');
                dbf.extend_from_slice(&cell);
            }
        }
        dbf.push(0x1A);
        let path = dir.join(format!("{name}.shp"));
        std::fs::write(&path, shp).unwrap();
        std::fs::write(path.with_extension("shx"), shx).unwrap();
        std::fs::write(path.with_extension("dbf"), dbf).unwrap();
        path
    }

    fn spec(path: &Path) -> InputSpec {
        InputSpec {
            kind: InputKind::VulnerableTargets,
            display_path: path.file_name().unwrap().to_string_lossy().into_owned(),
            path: path.to_path_buf(),
            layer: None,
            crs: InputCrs::Wgs84,
            crs_given: true,
            encoding: Some("CP936".into()),
            xy_columns: None,
            columns: vec![
                ("id", "目标编号".into(), true),
                ("name", "目标名称".into(), true),
                ("kind", "类型".into(), true),
                ("population", "人数".into(), false),
            ],
            max_scale: None,
        }
    }

    /// Whether the records are read here, and every record and the summary,
    /// by the reader as it reads.
    fn read(spec: &InputSpec) -> (bool, Vec<String>, String) {
        super::super::configure_gdal();
        let _scope = super::super::MessageScope::new().enter();
        let native = {
            let options = super::super::open_options(super::super::Driver::Shapefile, spec);
            let (ds, driver) =
                super::super::open(&spec.path, &spec.display_path, &options).unwrap();
            let layer = ds.layer(0).unwrap();
            let decoder = super::super::decoder_for(spec, driver);
            let columns = super::super::layer_columns(&layer, &decoder);
            let map = super::super::map_columns(spec, &columns, false, driver).unwrap();
            Points::read(spec, &layer, &columns, &map).is_some()
        };
        let (records, summary) = records(&GdalReader(super::super::Driver::Shapefile), spec);
        (native, records, summary)
    }

    /// GDAL's own reading of the same input, record by record.
    fn through_gdal(spec: &InputSpec) -> (Vec<String>, String) {
        let (records, summary) = collect(|start, each| {
            GdalReader(super::super::Driver::Shapefile)
                .read_layer(spec, start, each, false)
                .unwrap()
        });
        (records, summary_text(&summary))
    }

    fn assert_same_as_gdal(spec: &InputSpec, native: bool) -> Vec<String> {
        let (here, records, summary) = read(spec);
        assert_eq!(here, native, "read here: {here}");
        let (gdal, gdal_summary) = through_gdal(spec);
        assert_eq!(summary, gdal_summary);
        assert_eq!(records.len(), gdal.len());
        for (a, b) in records.iter().zip(&gdal) {
            assert_eq!(a, b);
        }
        records
    }

    /// Values as users' DBFs hold them, read here exactly as GDAL reads
    /// them: GBK text with spaces around, inside and nothing else, a NUL
    /// cutting a value short, blank and `*` counts, signs and leading zeros.
    #[test]
    fn point_records_read_here_as_gdal_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let recs = vec![
            rec(
                [119.9, 31.8],
                &[
                    b"T001",
                    b"\xb3\xa3\xd6\xdd\xd6\xd0\xd1\xa7",
                    b"\xd1\xa7\xd0\xa3",
                    b"1200",
                ],
            ),
            rec(
                [119.95, 31.75],
                &[
                    b"  T002 ",
                    b" \xd2\xbd\xd4\xba  \xb6\xfe ",
                    b"\xd2\xbd\xd4\xba",
                    b"   007",
                ],
            ),
            rec([-0.0, 0.0], &[b"T003", b"", b"   ", b""]),
            rec(
                [120.0, 32.0],
                &[b"T0\x0004", b"a\x00\xd1\xa7", b"\t\xd1\xa7\t", b"*********"],
            ),
            rec(
                [1e-300, -1e300],
                &[b"T005", b"Name (A&B) \"q\"", b"x", b"-0"],
            ),
            rec(
                [119.0, 31.0],
                &[b"T006", b"\x80\xa1\xa1", b"\xd7\xa1", b"-123456789"],
            ),
        ];
        let path = write(dir.path(), "targets", DEFS, &recs, 1);
        let records = assert_same_as_gdal(&spec(&path), true);
        assert_eq!(records.len(), 6);
        assert!(records[0].contains("常州中学"), "{}", records[0]);
    }

    /// The example's targets read here, exactly as GDAL reads them.
    #[test]
    fn the_examples_targets_read_here_as_gdal_reads_them() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/changzhou/vulnerable_targets.shp");
        let records = assert_same_as_gdal(&spec(&path), true);
        assert_eq!(records.len(), 1004);
    }

    /// GDAL 3.6 takes every field's width from one byte, a text field's
    /// too: a file whose record length fits a two-byte width is left to it.
    #[test]
    fn a_fields_width_is_one_byte() {
        let dir = tempfile::tempdir().unwrap();
        let recs = [rec([1.0, 2.0], &[b"T001", b"name", b"kind", b"1"])];
        let path = write(dir.path(), "t", DEFS, &recs, 1);
        // The first field's width byte 17 set, and 256 bytes more in each
        // record after its 16: read with two bytes, the widths add up.
        let dbf_path = path.with_extension("dbf");
        let mut dbf = std::fs::read(&dbf_path).unwrap();
        dbf[32 + 17] = 1;
        let record_len = u16::from_le_bytes([dbf[10], dbf[11]]) + 256;
        dbf[10..12].copy_from_slice(&record_len.to_le_bytes());
        let first_field_end = 33 + 32 * DEFS.len() + 1 + 16;
        dbf.splice(first_field_end..first_field_end, [b'x'; 256]);
        std::fs::write(&dbf_path, dbf).unwrap();
        let records = assert_same_as_gdal(&spec(&path), false);
        assert!(records[0].contains("T001"), "{}", records[0]);
    }

    /// Like GDAL, the files are `name.shp`, `.shx`, `.dbf` if they exist,
    /// else their upper-case twins, whatever case the path is given in.
    #[test]
    fn lower_case_files_come_first_as_in_gdal() {
        let dir = tempfile::tempdir().unwrap();
        let upper = write(
            dir.path(),
            "t",
            DEFS,
            &[rec([1.0, 2.0], &[b"T1", b"a", b"b", b"1"])],
            1,
        );
        for ext in ["shp", "shx", "dbf"] {
            let to = upper.with_extension(ext.to_ascii_uppercase());
            std::fs::rename(upper.with_extension(ext), to).unwrap();
        }
        let lower = write(
            dir.path(),
            "t",
            DEFS,
            &[rec([5.0, 6.0], &[b"T9", b"z", b"y", b"9"])],
            1,
        );
        std::fs::remove_file(lower.with_extension("shx")).unwrap();
        std::fs::remove_file(lower.with_extension("dbf")).unwrap();
        let records = assert_same_as_gdal(&spec(&upper.with_extension("SHP")), true);
        assert!(records[0].contains("5.0"), "{}", records[0]);
    }

    /// GDAL reads the fields that are not mapped too, and warns about text
    /// iconv cannot convert and numbers it parses in part: such a file is
    /// left to it; clean values are no reason to.
    #[test]
    fn unmapped_fields_gdal_would_warn_about_are_left_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(Def, &'static [u8], bool); 6] = [
            ((b"X", b'C', 4, 0), b"\xaa\xa1", false),
            ((b"X", b'N', 5, 0), b"1 2", false),
            ((b"X", b'N', 8, 2), b"1,5", false),
            ((b"X", b'C', 4, 0), b"\xd1\xa7", true),
            ((b"X", b'N', 5, 0), b" 12", true),
            ((b"X", b'N', 8, 2), b"-1.50", true),
        ];
        for (k, (extra, value, native)) in cases.into_iter().enumerate() {
            let defs: Vec<Def> = DEFS.iter().copied().chain([extra]).collect();
            let recs = [rec([1.0, 2.0], &[b"T1", b"a", b"b", b"1", value])];
            let path = write(dir.path(), &format!("t{k}"), &defs, &recs, 1);
            assert_same_as_gdal(&spec(&path), native);
        }
    }

    /// Each input that might read otherwise is left to GDAL, whose reading
    /// it then is.
    #[test]
    fn what_might_read_otherwise_is_left_to_gdal() {
        let dir = tempfile::tempdir().unwrap();
        let good = || rec([119.9, 31.8], &[b"T1", b"\xd1\xa7", b"x", b"5"]);
        let with = |values: &[&'static [u8]]| vec![good(), rec([119.9, 31.8], values)];
        let mut deleted = vec![good(), good()];
        deleted[1].flag = b'*';
        let decimals: &[Def] = &[DEFS[0], DEFS[1], DEFS[2], (DEFS[3].0, b'N', 9, 2)];
        let date: &[Def] = &[DEFS[0], DEFS[1], DEFS[2], (DEFS[3].0, b'D', 8, 0)];
        let wide: &[Def] = &[DEFS[0], DEFS[1], DEFS[2], (DEFS[3].0, b'N', 12, 0)];
        let value = |v: &'static [u8]| with(&[b"T2", b"n", b"x", v]);
        let cases: Vec<(&str, &[Def], Vec<Rec>, u32)> = vec![
            // Codes iconv has no character for (user-defined), or a lead byte cut off.
            (
                "user_defined",
                DEFS,
                with(&[b"T2", b"\xaa\xa1", b"x", b"1"]),
                1,
            ),
            (
                "cut_lead_byte",
                DEFS,
                with(&[b"T2", b"\xd1\xa7\xd1", b"x", b"1"]),
                1,
            ),
            (
                "gb18030_four_bytes",
                DEFS,
                with(&[b"T2", b"\x81\x30\x81\x30", b"x", b"1"]),
                1,
            ),
            ("deleted", DEFS, deleted, 1),
            ("real_count", DEFS, value(b"1.5"), 1),
            ("ten_digits", wide, value(b"1234567890"), 1),
            ("plus_sign", DEFS, value(b"+5"), 1),
            ("decimals", decimals, value(b"1.25"), 1),
            ("date", date, value(b"20260305"), 1),
            ("point_z", DEFS, value(b"1"), 11),
            (
                "nan",
                DEFS,
                vec![good(), rec([f64::NAN, 31.0], &[b"T2", b"n", b"x", b"1"])],
                1,
            ),
        ];
        for (what, defs, recs, shape) in cases {
            let path = write(dir.path(), what, defs, &recs, shape);
            let (here, ..) = read(&spec(&path));
            assert!(!here, "{what}: read here");
            assert_same_as_gdal(&spec(&path), false);
        }
        let ok = write(dir.path(), "ok", DEFS, &[good()], 1);
        let gb18030 = InputSpec {
            encoding: Some("GB18030".into()),
            ..spec(&ok)
        };
        let no_crs = InputSpec {
            crs_given: false,
            ..spec(&ok)
        };
        for (what, s) in [("GB18030", gb18030), ("no crs", no_crs)] {
            assert!(!read(&s).0, "{what}: read here");
        }
        assert!(read(&spec(&ok)).0);
        // Clean files are read here: the cases above differ from them in one thing each.
        for (name, defs) in [("clean", DEFS), ("clean_wide", wide)] {
            let path = write(
                dir.path(),
                name,
                defs,
                &with(&[b"T2", b"n", b"x", b"-1"]),
                1,
            );
            assert_same_as_gdal(&spec(&path), true);
        }
    }
}

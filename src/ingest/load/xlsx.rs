//! XLSX inputs read with zip and quick-xml when that reads exactly as GDAL would.
//!
//! GDAL's XLSX driver parses a whole sheet into an in-memory layer, an OGR
//! feature per row, when the layer is first used, and on opening it parses
//! the workbook's last sheet too (to drop a trailing empty one): a
//! 100,000-row sheet costs it about 2 s of a core. riskatlas opens XLSX with
//! the first row as the header and every cell as text, and then a cell reads
//! as the text of its value, so the same can be read here straight from the
//! sheet's XML, following the driver's own rules: a cell's value is the text
//! of its first `<v>` or `<t>`, a shared string is every `<t>` of its `<si>`,
//! missing rows between two rows are empty records, a header cell without
//! text is named `FieldN`. Only what reads exactly as through GDAL is taken:
//! the named sheet (or the only one), found by its exact name among names
//! distinct in any case; well-formed UTF-8 parts with no DOCTYPE, no carriage
//! return and no character XML forbids; rows numbered in increasing order,
//! a header and at least one record, no row longer than the header, cells
//! in column order, shared strings that exist; no date- or time-formatted
//! number in a mapped column (GDAL rewrites those as dates). Every other
//! workbook is left to [`super::GdalReader`].

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::Read;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader as XmlReader;

use super::{
    decoder_for, layer_crs, layer_error, map_columns, row_text, source_names, take_gdal_messages,
    undecodable_note, ColumnMap, Driver, LoadError, RawRecord, ReadSummary, Reader,
};
use crate::ingest::config::InputSpec;
use crate::model::SourceRef;

/// What GDAL requires in the first 2,047 bytes of `[Content_Types].xml`.
const SHEET_MIMETYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml";

/// GDAL's XLSX reader stops with an error after ten 8 KB buffers without
/// an event: a tag, comment or instruction longer than this is left to it.
const MAX_TAG_BYTES: usize = 64 << 10;

/// GDAL's column limit (it warns and folds later columns into the last).
const MAX_COLUMNS: usize = 2000;

/// An XLSX input read from its sheet's XML and found to read exactly as
/// through GDAL.
pub struct Plan {
    /// The sheet's name (GDAL's layer name).
    layer: String,
    /// Where the mapped fields are among the header's columns.
    map: ColumnMap,
    /// The columns read, ascending: the slots of each row in `cells`.
    mapped: Vec<usize>,
    /// Every mapped value's text, one after another.
    text: String,
    /// Each record's mapped values as ranges of `text`, `mapped.len()` per
    /// record; `None` where the cell is missing or empty.
    cells: Vec<Option<(u32, u32)>>,
    /// The number of records (rows after the header, missing ones included).
    rows: usize,
}

impl Plan {
    /// The plan for `spec`, or `None` when the workbook is left to GDAL.
    pub fn for_input(spec: &InputSpec) -> Option<Plan> {
        // Read once: the archive is read from these bytes, which its headers
        // are also checked against.
        let raw = std::fs::read(&spec.path).ok()?;
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(raw.as_slice())).ok()?;
        let types = part(&mut zip, &raw, "[Content_Types].xml")?;
        let head = &types[..types.len().min(2047)];
        let head = &head[..memchr::memchr(0, head).unwrap_or(head.len())];
        if !head
            .windows(SHEET_MIMETYPE.len())
            .any(|w| w == SHEET_MIMETYPE.as_bytes())
        {
            return None;
        }
        // GDAL's /vsizip/ takes the first of two entries of one name, and
        // finds `./xl/…` or `xl\…` names as `xl/…`: such archives are left to it.
        let start = usize::try_from(zip.central_directory_start()).ok()?;
        let directory = raw.get(start..)?;
        // GDAL's unzip wants the end record right after the directory it
        // describes (it shifts every offset otherwise).
        let end = memchr::memmem::rfind(directory, b"PK\x05\x06")?;
        let record = directory.get(end..end + 22)?;
        let size = u32::from_le_bytes([record[12], record[13], record[14], record[15]]);
        if usize::try_from(size).ok()? != end || record[4..8] != [0, 0, 0, 0] {
            return None;
        }
        if memchr::memmem::find_iter(directory, b"PK\x01\x02").count() != zip.len()
            || zip
                .file_names_raw()
                .any(|n| n.starts_with(b"./") || n.starts_with(b"/") || n.contains(&b'\\'))
        {
            return None;
        }
        let rels = worksheet_targets(&part(&mut zip, &raw, "xl/_rels/workbook.xml.rels")?)?;
        let sheets = sheets(&part(&mut zip, &raw, "xl/workbook.xml")?, &rels)?;
        let (layer, path) = pick_sheet(&sheets, spec.layer.as_deref())?;
        // GDAL reads a workbook without either of these as having none.
        let shared = match zip.index_for_name("xl/sharedStrings.xml") {
            Some(_) => SharedStrings::parse(&part(&mut zip, &raw, "xl/sharedStrings.xml")?)?,
            None => SharedStrings::default(),
        };
        let styles = match zip.index_for_name("xl/styles.xml") {
            Some(_) => temporal_styles(&part(&mut zip, &raw, "xl/styles.xml")?)?,
            None => Vec::new(),
        };
        let sheet = part(&mut zip, &raw, &path)?;
        let mut reader = SheetReader::new(spec, &shared, &styles);
        reader.parse(&sheet)?;
        reader.into_plan(layer)
    }
}

/// A workbook's archive, over the file's bytes.
type Archive<'r> = zip::ZipArchive<std::io::Cursor<&'r [u8]>>;

/// One part of the workbook, whole; `None` where GDAL's unzip would refuse
/// it: a local header that disagrees with the central directory, a
/// method other than stored or deflated, a length other than declared.
fn part(zip: &mut Archive, raw: &[u8], name: &str) -> Option<Vec<u8>> {
    let mut file = zip.by_name(name).ok()?;
    let at = usize::try_from(file.header_start()).ok()?;
    let local = raw.get(at..at.checked_add(30)?)?;
    let u16_at = |i: usize| u16::from_le_bytes([local[i], local[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([local[i], local[i + 1], local[i + 2], local[i + 3]]);
    let method = match file.compression() {
        zip::CompressionMethod::Stored => 0,
        zip::CompressionMethod::Deflated => 8,
        _ => return None,
    };
    if !local.starts_with(b"PK\x03\x04")
        || u16_at(8) != method
        || usize::from(u16_at(26)) != file.name_raw().len()
        || (u16_at(6) & 8 == 0
            && (u32_at(14) != file.crc32()
                || u64::from(u32_at(18)) != file.compressed_size()
                || u64::from(u32_at(22)) != file.size()))
    {
        return None;
    }
    let mut bytes = Vec::with_capacity(file.size().min(1 << 30) as usize);
    file.read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 == file.size()).then_some(bytes)
}

/// An XML event as GDAL's handlers see it: an element's start (an empty
/// element is a start and an end), its end, or decoded character data.
enum Ev<'a> {
    Open(BytesStart<'a>),
    Close,
    Text(Cow<'a, str>),
}

/// A pull parser over a whole part that refuses whatever expat would reject
/// or read otherwise, as `None`.
struct Xml<'a> {
    reader: XmlReader<&'a [u8]>,
    depth: usize,
    root_done: bool,
    close_next: bool,
    /// Which events GDAL's handlers see for this part (they reset its
    /// "too much data" counter): end tags, character data.
    ends: bool,
    data: bool,
    /// Bytes before the text (a BOM), the end of the last event, and
    /// character-data callbacks per 8 KB block.
    skew: usize,
    last_event: usize,
    callbacks: Vec<u32>,
}

/// GDAL's handlers for a part: which events reach it.
#[derive(Clone, Copy)]
enum Handlers {
    /// Start tags only (workbook, relationships).
    Starts,
    /// Start and end tags (styles).
    Tags,
    /// Tags and character data (sheets, shared strings).
    All,
}

impl<'a> Xml<'a> {
    /// The parser, or `None` for a part that is not plain UTF-8 XML 1.0
    /// text without carriage returns and forbidden characters.
    fn new(bytes: &'a [u8], handlers: Handlers) -> Option<Xml<'a>> {
        let skew = if bytes.starts_with(b"\xef\xbb\xbf") {
            3
        } else {
            0
        };
        let bytes = &bytes[skew..];
        if bytes.starts_with(b"\xef\xbb\xbf") {
            return None;
        }
        let text = std::str::from_utf8(bytes).ok()?;
        // Expat turns a carriage return into a line feed; rejects other
        // control characters and U+FFFE/U+FFFF.
        let forbidden = |b: u8| b < 0x20 && b != b'\t' && b != b'\n';
        let control = bytes.chunks(64).any(|c| {
            c.iter().fold(false, |any, &b| any | (b < 0x20)) && c.iter().any(|&b| forbidden(b))
        });
        // U+FFFE and U+FFFF are EF BF BE and EF BF BF in UTF-8.
        let non_character = memchr::memmem::find_iter(bytes, b"\xef\xbf")
            .any(|i| matches!(bytes.get(i + 2), Some(0xbe | 0xbf)));
        if control || non_character {
            return None;
        }
        Some(Xml {
            reader: XmlReader::from_str(text),
            depth: 0,
            root_done: false,
            close_next: false,
            ends: !matches!(handlers, Handlers::Starts),
            data: matches!(handlers, Handlers::All),
            skew,
            last_event: 0,
            callbacks: Vec::new(),
        })
    }

    /// The next event; `Ok(None)` at a proper end, `Err` on anything else.
    fn next(&mut self) -> Result<Option<Ev<'a>>, ()> {
        if std::mem::take(&mut self.close_next) {
            return self.close();
        }
        loop {
            let before = self.reader.buffer_position() as usize + self.skew;
            let event = self.reader.read_event().map_err(|_| ())?;
            let after = self.reader.buffer_position() as usize + self.skew;
            match event {
                Event::Start(e) | Event::Empty(e) if self.root_done || !tag_ok(&e) => {
                    return Err(())
                }
                Event::Start(e) => {
                    self.event(after)?;
                    self.depth += 1;
                    return Ok(Some(Ev::Open(e)));
                }
                Event::Empty(e) => {
                    self.event(after)?;
                    self.depth += 1;
                    self.close_next = true;
                    return Ok(Some(Ev::Open(e)));
                }
                Event::End(_) => {
                    if self.ends {
                        self.event(after)?;
                    }
                    return self.close();
                }
                Event::Text(t) => {
                    let t = t.into_inner();
                    if self.depth == 0 {
                        if !t.trim_matches([' ', '\t', '\n']).is_empty() {
                            return Err(());
                        }
                        continue;
                    }
                    if t.contains("]]>") {
                        return Err(());
                    }
                    self.text(before, after, &t)?;
                    return Ok(Some(Ev::Text(t)));
                }
                Event::CData(c) if self.depth > 0 => {
                    let c = c.into_inner();
                    self.text(before + 9, after, &c)?;
                    return Ok(Some(Ev::Text(c)));
                }
                Event::GeneralRef(r) if self.depth > 0 => {
                    self.text(before, after, "")?;
                    self.callback(before, 1)?;
                    return Ok(Some(Ev::Text(reference(&r)?)));
                }
                Event::Decl(d) => {
                    if before != self.skew || !decl_ok(&d) {
                        return Err(());
                    }
                    let version = d.version().map_err(|_| ())?;
                    let utf8 = match d.encoding() {
                        None => true,
                        Some(e) => e.map_err(|_| ())?.eq_ignore_ascii_case("utf-8"),
                    };
                    if version != "1.0" || !utf8 {
                        return Err(());
                    }
                }
                Event::Comment(c) if !c.contains("--") && !c.ends_with('-') => {}
                Event::PI(p) if pi_ok(&p) => {}
                Event::Eof if self.root_done && self.depth == 0 => return Ok(None),
                _ => return Err(()),
            }
        }
    }

    /// An element event GDAL's handler sees, ending at `at`: after more than
    /// 64 KB without one GDAL may have stopped ("too much data").
    fn event(&mut self, at: usize) -> Result<(), ()> {
        if at - self.last_event > MAX_TAG_BYTES {
            return Err(());
        }
        self.last_event = at;
        Ok(())
    }

    /// Character data from `start` to `end`: expat's callbacks for it (one
    /// per run, one per line feed), counted per 8 KB block as GDAL does
    /// ("million laugh pattern" past 8,192 in one block; refused from 4,096).
    fn text(&mut self, start: usize, end: usize, t: &str) -> Result<(), ()> {
        if !self.data {
            return Ok(());
        }
        if start - self.last_event > MAX_TAG_BYTES {
            return Err(());
        }
        self.last_event = end;
        self.callback(start, 1)?;
        for i in memchr::memchr_iter(b'\n', t.as_bytes()) {
            self.callback(start + i, 2)?;
        }
        Ok(())
    }

    fn callback(&mut self, at: usize, n: u32) -> Result<(), ()> {
        if !self.data {
            return Ok(());
        }
        let block = at / 8192;
        if self.callbacks.len() <= block {
            self.callbacks.resize(block + 1, 0);
        }
        self.callbacks[block] += n;
        match self.callbacks[block] >= 4096 {
            true => Err(()),
            false => Ok(()),
        }
    }

    fn close(&mut self) -> Result<Option<Ev<'a>>, ()> {
        self.depth = self.depth.checked_sub(1).ok_or(())?;
        self.root_done = self.depth == 0;
        Ok(Some(Ev::Close))
    }
}

/// An ASCII XML name (expat's rules for others are left to GDAL).
fn ascii_name(n: &str) -> bool {
    let b = n.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || matches!(b[0], b'_' | b':'))
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'.' | b'-'))
}

/// Name and attributes as XML 1.0 writes them: ASCII names, whitespace
/// before each attribute, `=`, a quoted value; the attribute names in turn.
fn attributes_ok<'t>(content: &'t str, names: &mut Vec<&'t str>) -> bool {
    let b = content.as_bytes();
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n');
    let mut i = b.iter().position(|&c| ws(c)).unwrap_or(b.len());
    if !ascii_name(&content[..i]) {
        return false;
    }
    loop {
        let start = i;
        while i < b.len() && ws(b[i]) {
            i += 1;
        }
        if i == b.len() {
            return true;
        }
        if i == start {
            return false;
        }
        let name = i;
        while i < b.len() && !ws(b[i]) && b[i] != b'=' {
            i += 1;
        }
        if !ascii_name(&content[name..i]) {
            return false;
        }
        names.push(&content[name..i]);
        while i < b.len() && ws(b[i]) {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            return false;
        }
        i += 1;
        while i < b.len() && ws(b[i]) {
            i += 1;
        }
        let Some(&q) = b.get(i).filter(|&&q| q == b'"' || q == b'\'') else {
            return false;
        };
        match b[i + 1..].iter().position(|&c| c == q) {
            Some(k) => i += k + 2,
            None => return false,
        }
    }
}

fn tag_ok(content: &str) -> bool {
    content.len() <= MAX_TAG_BYTES && attributes_ok(content, &mut Vec::new())
}

/// `<?xml version="1.0" [encoding=".."] [standalone="yes|no"]?>` exactly.
fn decl_ok(content: &str) -> bool {
    let mut names = Vec::new();
    if !content.starts_with("xml") || !attributes_ok(content, &mut names) {
        return false;
    }
    let order = ["version", "encoding", "standalone"];
    let mut at = 0;
    for n in &names {
        match order[at..].iter().position(|o| o == n) {
            Some(k) => at += k + 1,
            None => return false,
        }
    }
    names.first() == Some(&"version")
        && content.contains("standalone") == names.contains(&"standalone")
        && ["yes", "no"].iter().any(|v| {
            !names.contains(&"standalone")
                || content.contains(&format!("standalone=\"{v}\""))
                || content.contains(&format!("standalone='{v}'"))
        })
}

/// A processing instruction expat takes: a name other than `xml` in any case.
fn pi_ok(content: &str) -> bool {
    let target = content.split([' ', '\t', '\n']).next().unwrap_or("");
    content.len() <= MAX_TAG_BYTES && ascii_name(target) && !target.eq_ignore_ascii_case("xml")
}

/// The text an entity or character reference stands for.
fn reference<'a>(r: &quick_xml::events::BytesRef<'a>) -> Result<Cow<'a, str>, ()> {
    if r.is_char_ref() {
        let c = r.resolve_char_ref().map_err(|_| ())?.ok_or(())?;
        return match allowed(c) {
            true => Ok(Cow::Owned(c.to_string())),
            false => Err(()),
        };
    }
    Ok(Cow::Borrowed(match &**r {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => return Err(()),
    }))
}

/// Whether XML 1.0 allows the character (as a reference too).
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
}

/// An element's name as written (prefix included, as GDAL compares it).
fn name<'e>(e: &'e BytesStart) -> &'e str {
    e.name().into_inner()
}

/// An element's attributes, decoded as expat gives them (literal tabs and
/// line feeds as spaces, references resolved); `None` when one is malformed.
fn attributes<'e>(e: &'e BytesStart) -> Option<Attrs<'e>> {
    let mut all = Vec::with_capacity(4);
    for a in e.attributes() {
        let a = a.ok()?;
        let key = a.key.into_inner();
        let value = match a.value {
            Cow::Borrowed(raw) => decoded(raw)?,
            Cow::Owned(raw) => Cow::Owned(decoded(&raw)?.into_owned()),
        };
        all.push((key, value));
    }
    Some(all)
}

/// An element's attributes: qualified name and decoded value.
type Attrs<'e> = Vec<(&'e str, Cow<'e, str>)>;

/// An attribute's raw value as expat reads it.
fn decoded(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.contains(['<', '&', '\t', '\n']) {
        return Some(Cow::Borrowed(raw));
    }
    if raw.contains('<') {
        return None;
    }
    let spaced = raw.replace(['\t', '\n'], " ");
    let value = quick_xml::escape::unescape(&spaced).ok()?;
    value
        .chars()
        .all(allowed)
        .then(|| Cow::Owned(value.into_owned()))
}

/// An attribute's value by its (qualified) name.
fn attribute<'v>(attrs: &'v Attrs, key: &str) -> Option<&'v str> {
    attrs.iter().find(|(k, _)| *k == key).map(|(_, v)| &**v)
}

/// C's `atoi`: leading blanks, a sign, the digits that follow; 0 otherwise.
fn atoi(text: &str) -> i64 {
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut n: i128 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = (n * 10 + i128::from(b - b'0')).min(1 << 64);
    }
    let n = if negative { -n } else { n };
    // strtol's clamp to a long, then atoi's cast to an int.
    i64::from(n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64 as i32)
}

/// The workbook's worksheet relationships: id → target.
fn worksheet_targets(bytes: &[u8]) -> Option<HashMap<String, String>> {
    let mut xml = Xml::new(bytes, Handlers::Starts)?;
    let mut targets = HashMap::new();
    while let Some(ev) = xml.next().ok()? {
        if let Ev::Open(e) = ev {
            let attrs = attributes(&e)?;
            if name(&e) == "Relationship" {
                let (id, kind, target) = (
                    attribute(&attrs, "Id"),
                    attribute(&attrs, "Type"),
                    attribute(&attrs, "Target"),
                );
                if let (Some(id), Some(kind), Some(target)) = (id, kind, target) {
                    if kind.contains("/worksheet") {
                        targets.insert(id.to_string(), target.to_string());
                    }
                }
            }
        }
    }
    Some(targets)
}

/// The workbook's sheets in order: name and part path, as GDAL lists its
/// layers; `None` for a target GDAL might resolve otherwise.
fn sheets(bytes: &[u8], rels: &HashMap<String, String>) -> Option<Vec<(String, String)>> {
    let mut xml = Xml::new(bytes, Handlers::Starts)?;
    let mut seen = HashSet::new();
    let mut sheets = Vec::new();
    while let Some(ev) = xml.next().ok()? {
        let Ev::Open(e) = ev else { continue };
        let attrs = attributes(&e)?;
        let n = name(&e);
        let local = n.split_once(':').map_or(n, |(_, local)| local);
        if local != "sheet" {
            continue;
        }
        let (Some(sheet), Some(id)) = (attribute(&attrs, "name"), attribute(&attrs, "r:id")) else {
            continue;
        };
        let Some(target) = rels.get(id) else { continue };
        if !seen.insert(id.to_string()) || target.is_empty() {
            continue;
        }
        let path = match target.strip_prefix('/') {
            Some(absolute) => absolute.to_string(),
            None => format!("xl/{target}"),
        };
        if path.starts_with('/')
            || path.contains("//")
            || path.contains('\\')
            || path.contains("./")
        {
            return None;
        }
        sheets.push((sheet.to_string(), path));
    }
    Some(sheets)
}

/// The sheet an input reads: the one named (exactly, among names distinct
/// in any case), or the workbook's only sheet.
fn pick_sheet(sheets: &[(String, String)], layer: Option<&str>) -> Option<(String, String)> {
    let folded: HashSet<String> = sheets.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    if folded.len() < sheets.len() {
        return None;
    }
    match layer {
        Some(wanted) => sheets.iter().find(|(n, _)| n == wanted).cloned(),
        None if sheets.len() == 1 => sheets.first().cloned(),
        None => None,
    }
}

/// The shared-string table: each `<si>`'s `<t>` texts, joined.
#[derive(Default)]
struct SharedStrings {
    text: String,
    ends: Vec<usize>,
}

impl SharedStrings {
    fn parse(bytes: &[u8]) -> Option<SharedStrings> {
        let mut xml = Xml::new(bytes, Handlers::All)?;
        let mut table = SharedStrings::default();
        // GDAL's states: outside, in an `<si>`, in one of its `<t>`; each
        // with the depth it began at.
        let (mut si, mut t): (Option<usize>, Option<usize>) = (None, None);
        let mut depth = 0usize;
        while let Some(ev) = xml.next().ok()? {
            match ev {
                Ev::Open(e) => {
                    attributes(&e)?;
                    match (si, t) {
                        (None, _) if name(&e) == "si" => si = Some(depth),
                        (Some(_), None) if name(&e) == "t" => t = Some(depth),
                        _ => {}
                    }
                    depth += 1;
                }
                Ev::Close => {
                    depth -= 1;
                    if t == Some(depth) {
                        t = None;
                    } else if si == Some(depth) {
                        si = None;
                        table.ends.push(table.text.len());
                    }
                }
                Ev::Text(s) if t.is_some() => table.text.push_str(&s),
                Ev::Text(_) => {}
            }
        }
        Some(table)
    }

    fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.text[start..end])
    }
}

/// Which cell styles GDAL reads as a date, a time or a date-time (by
/// `cellXfs` index): built-in formats 14–22, and custom ones whose code has
/// `DD`, `YY` or `HH` (either case).
fn temporal_styles(bytes: &[u8]) -> Option<Vec<bool>> {
    let mut xml = Xml::new(bytes, Handlers::Tags)?;
    let mut custom: HashMap<i64, bool> = HashMap::new();
    let mut styles = Vec::new();
    let mut in_xfs = false;
    // Names of the open elements, to see where `cellXfs` ends.
    let mut open: Vec<String> = Vec::new();
    while let Some(ev) = xml.next().ok()? {
        match ev {
            Ev::Open(e) => {
                let attrs = attributes(&e)?;
                let n = name(&e);
                let id = || atoi(attribute(&attrs, "numFmtId").unwrap_or("-1"));
                if n == "numFmt" {
                    if let Some(code) = attribute(&attrs, "formatCode") {
                        if id() >= 164 {
                            let has = |s: &[&str]| s.iter().any(|p| code.contains(p));
                            custom.insert(id(), has(&["DD", "dd", "YY", "yy", "HH", "hh"]));
                        }
                    }
                } else if n == "cellXfs" {
                    in_xfs = true;
                } else if in_xfs && n == "xf" {
                    let id = id();
                    styles.push((14..=22).contains(&id) || custom.get(&id) == Some(&true));
                }
                open.push(n.to_string());
            }
            Ev::Close => {
                if open.pop().as_deref() == Some("cellXfs") {
                    in_xfs = false;
                }
            }
            Ev::Text(_) => {}
        }
    }
    Some(styles)
}

/// GDAL's parsing states within a sheet.
#[derive(Clone, Copy, PartialEq)]
enum State {
    Outside,
    SheetData,
    Row,
    Cell,
    Value,
}

/// How a cell's value is typed: by its `t` and its style.
#[derive(Clone, Copy, PartialEq)]
enum CellType {
    /// A number (or anything GDAL reads as its text).
    Number,
    /// A number with a date or time format: GDAL rewrites it.
    Temporal,
    /// A shared string's index.
    Lookup,
    /// Inline text or a boolean: the text as it is.
    Text,
}

/// Reads a sheet's rows as GDAL's XLSX reader does, keeping the mapped
/// columns' values.
struct SheetReader<'s> {
    spec: &'s InputSpec,
    shared: &'s SharedStrings,
    styles: &'s [bool],
    /// The current row's values, one after another, with each cell's range
    /// and whether GDAL would rewrite it.
    row_text: String,
    row_cells: Vec<(usize, usize, bool)>,
    /// The cell being read: its type and where its value began.
    cell: CellType,
    cell_start: usize,
    /// The next line's index (0 = the header) and the next cell's column.
    line: usize,
    column: usize,
    /// The header's names, once read.
    columns: Option<Vec<String>>,
    map: Option<ColumnMap>,
    mapped: Vec<usize>,
    text: String,
    cells: Vec<Option<(u32, u32)>>,
    rows: usize,
    /// The header row, kept until the next row makes it the header.
    first: Vec<String>,
    sheet_data_seen: bool,
}

impl<'s> SheetReader<'s> {
    fn new(spec: &'s InputSpec, shared: &'s SharedStrings, styles: &'s [bool]) -> Self {
        SheetReader {
            spec,
            shared,
            styles,
            row_text: String::new(),
            row_cells: Vec::new(),
            cell: CellType::Number,
            cell_start: 0,
            line: 0,
            column: 0,
            columns: None,
            map: None,
            mapped: Vec::new(),
            text: String::new(),
            cells: Vec::new(),
            rows: 0,
            first: Vec::new(),
            sheet_data_seen: false,
        }
    }

    /// Walks the sheet with GDAL's state machine; `None` where GDAL would
    /// read otherwise than this.
    fn parse(&mut self, bytes: &[u8]) -> Option<()> {
        let mut xml = Xml::new(bytes, Handlers::All)?;
        let mut stack: Vec<(State, usize)> = vec![(State::Outside, 0)];
        let mut depth = 0usize;
        while let Some(ev) = xml.next().ok()? {
            let (state, begin) = *stack.last().expect("the outer state stays");
            match ev {
                Ev::Open(e) => {
                    let n = name(&e);
                    let attrs = attributes(&e)?;
                    let next = match state {
                        State::Outside if n == "sheetData" => {
                            if std::mem::replace(&mut self.sheet_data_seen, true) {
                                return None;
                            }
                            Some(State::SheetData)
                        }
                        State::SheetData if n == "row" => {
                            self.start_row(&attrs)?;
                            Some(State::Row)
                        }
                        State::Row if n == "c" => {
                            self.start_cell(&attrs)?;
                            Some(State::Cell)
                        }
                        State::Cell
                            if self.row_text.len() == self.cell_start && (n == "v" || n == "t") =>
                        {
                            Some(State::Value)
                        }
                        _ => None,
                    };
                    if let Some(s) = next {
                        stack.push((s, depth));
                    }
                    depth += 1;
                }
                Ev::Close => {
                    depth -= 1;
                    if begin == depth && stack.len() > 1 {
                        match state {
                            State::Row => self.end_row()?,
                            State::Cell => self.end_cell()?,
                            _ => {}
                        }
                        stack.pop();
                    }
                }
                Ev::Text(t) => {
                    if state == State::Value {
                        self.row_text.push_str(&t);
                    }
                }
            }
        }
        Some(())
    }

    /// A `<row>`: its number must follow the last; rows skipped before it
    /// are empty records, as GDAL makes them.
    fn start_row(&mut self, attrs: &Attrs) -> Option<()> {
        self.row_text.clear();
        self.row_cells.clear();
        self.column = 0;
        let number = atoi(attribute(attrs, "r").unwrap_or("0"));
        let line = usize::try_from(number).ok()?.checked_sub(1)?;
        if line < self.line {
            return None;
        }
        let fields = self
            .first
            .len()
            .max(self.columns.as_ref().map_or(0, Vec::len));
        let gap = line - self.line;
        if gap > 10_000 || (fields > 0 && gap > 100_000 / fields) {
            return None;
        }
        while self.line < line {
            self.end_row()?;
        }
        Some(())
    }

    /// A `<c>`: columns skipped before it are empty cells.
    fn start_cell(&mut self, attrs: &Attrs) -> Option<()> {
        if let Some(r) =
            attribute(attrs, "r").filter(|r| r.starts_with(|c: char| c.is_ascii_uppercase()))
        {
            let mut column = 0usize;
            for (i, b) in r.bytes().take_while(u8::is_ascii_uppercase).enumerate() {
                let digit = usize::from(b - b'A');
                column = if i == 0 {
                    digit
                } else {
                    (column + 1) * 26 + digit
                };
                if column >= MAX_COLUMNS {
                    return None;
                }
            }
            if column < self.column {
                return None;
            }
            while self.column < column {
                let at = self.row_text.len();
                self.row_cells.push((at, at, false));
                self.column += 1;
            }
        }
        let style = usize::try_from(atoi(attribute(attrs, "s").unwrap_or("-1"))).ok();
        let temporal = style.and_then(|s| self.styles.get(s)) == Some(&true);
        let kind = attribute(attrs, "t").unwrap_or("");
        self.cell = if kind.eq_ignore_ascii_case("s") {
            CellType::Lookup
        } else if kind.eq_ignore_ascii_case("inlineStr") || kind.eq_ignore_ascii_case("b") {
            CellType::Text
        } else if temporal {
            CellType::Temporal
        } else {
            CellType::Number
        };
        self.cell_start = self.row_text.len();
        Some(())
    }

    /// A cell's end: a shared string's index becomes its text.
    fn end_cell(&mut self) -> Option<()> {
        let start = self.cell_start;
        if self.cell == CellType::Lookup {
            let index = usize::try_from(atoi(&self.row_text[start..])).ok()?;
            let value = self.shared.get(index)?;
            self.row_text.truncate(start);
            self.row_text.push_str(value);
        }
        let end = self.row_text.len();
        self.row_cells
            .push((start, end, self.cell == CellType::Temporal && end > start));
        self.column += 1;
        Some(())
    }

    /// A row's end (or a skipped row): the header, or a record.
    fn end_row(&mut self) -> Option<()> {
        let values = std::mem::take(&mut self.row_cells);
        if self.line == 0 {
            if values.len() > MAX_COLUMNS {
                return None;
            }
            self.first = values
                .iter()
                .map(|&(s, e, _)| self.row_text[s..e].to_string())
                .collect();
        } else {
            if self.line == 1 {
                self.read_header()?;
            }
            if values.len() > self.columns.as_ref().map_or(0, Vec::len)
                || values.len() > MAX_COLUMNS
            {
                return None;
            }
            self.add_record(&values)?;
        }
        self.row_text.clear();
        self.row_cells = values;
        self.row_cells.clear();
        self.line += 1;
        Some(())
    }

    /// The first row as the columns' names (`FieldN` where blank), mapped.
    fn read_header(&mut self) -> Option<()> {
        let columns: Vec<String> = std::mem::take(&mut self.first)
            .into_iter()
            .enumerate()
            .map(|(i, n)| {
                if n.is_empty() {
                    format!("Field{}", i + 1)
                } else {
                    n
                }
            })
            .collect();
        let decoder = decoder_for(self.spec, Driver::Xlsx);
        let columns: Vec<String> = columns
            .into_iter()
            .map(|n| decoder.decode(n.as_bytes()).unwrap_or_else(|lossy| lossy))
            .collect();
        let map = map_columns(self.spec, &columns, false, Driver::Xlsx).ok()?;
        self.mapped = (0..columns.len()).filter(|&i| map.reads(i)).collect();
        self.columns = Some(columns);
        self.map = Some(map);
        Some(())
    }

    /// A record's mapped values, kept.
    fn add_record(&mut self, values: &[(usize, usize, bool)]) -> Option<()> {
        for &c in &self.mapped {
            match values.get(c) {
                Some(&(_, _, true)) => return None,
                Some(&(s, e, false)) if e > s => {
                    let start = u32::try_from(self.text.len()).ok()?;
                    self.text.push_str(&self.row_text[s..e]);
                    let end = u32::try_from(self.text.len()).ok()?;
                    self.cells.push(Some((start, end)));
                }
                _ => self.cells.push(None),
            }
        }
        self.rows += 1;
        Some(())
    }

    /// The plan, once a header and at least one record were read.
    fn into_plan(self, layer: String) -> Option<Plan> {
        if self.line < 2 {
            return None;
        }
        let default = |c: &String| {
            c.strip_prefix("Field")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        };
        if self.rows == 1 && self.columns.as_ref()?.iter().all(default) {
            return None;
        }
        Some(Plan {
            layer,
            map: self.map?,
            mapped: self.mapped,
            text: self.text,
            cells: self.cells,
            rows: self.rows,
        })
    }
}

/// Reads an XLSX input by its [`Plan`].
pub struct XlsxReader(pub Plan);

impl Reader for XlsxReader {
    fn read<C>(
        &self,
        spec: &InputSpec,
        start: impl FnOnce(&ReadSummary) -> Result<C, String>,
        mut each: impl FnMut(&mut C, RawRecord),
    ) -> Result<(C, ReadSummary), LoadError> {
        let plan = &self.0;
        let mut summary = ReadSummary::opening(
            Driver::Xlsx,
            plan.layer.clone(),
            layer_crs(spec, None, &plan.map),
            Some(plan.rows),
        );
        let mut context = start(&summary).map_err(|m| layer_error(spec, m))?;
        let decoder = decoder_for(spec, Driver::Xlsx);
        let names = source_names(spec);
        let mut bad_text = 0u64;
        take_gdal_messages();
        let width = plan.mapped.len();
        for k in 0..plan.rows {
            let row = &plan.cells[k * width..(k + 1) * width];
            let text = row_text(spec, &plan.map, &decoder, |i| {
                let slot = plan.mapped.binary_search(&i).ok()?;
                row[slot].map(|(s, e)| &plan.text.as_bytes()[s as usize..e as usize])
            });
            bad_text += u64::from(!text.undecodable.is_empty());
            let source = SourceRef {
                file: names.0,
                layer: names.1,
                // The header is row 1.
                row: k as u64 + 2,
            };
            each(
                &mut context,
                text.into_record(source, plan.map.xy.is_some()),
            );
        }
        summary.encoding_hint = undecodable_note(spec, Driver::Xlsx, bad_text, plan.rows as u64);
        summary.warnings = take_gdal_messages();
        Ok((context, summary))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::crs::InputCrs;
    use crate::ingest::config::{InputKind, Project};
    use crate::ingest::load::test_support::records;
    use crate::ingest::load::GdalReader;

    /// The input is read here, and exactly as GDAL reads it.
    fn same_as_gdal(spec: &InputSpec) -> Vec<String> {
        super::super::configure_gdal();
        let plan = Plan::for_input(spec).expect("read without GDAL");
        let here = records(&XlsxReader(plan), spec);
        let gdal = records(&GdalReader(Driver::Xlsx), spec);
        assert_eq!(here.1, gdal.1);
        assert_eq!(here.0.len(), gdal.0.len());
        for (a, b) in here.0.iter().zip(&gdal.0) {
            assert_eq!(a, b);
        }
        here.0
    }

    fn spec(path: &Path, layer: Option<&str>, fields: &[(&'static str, &str)]) -> InputSpec {
        InputSpec {
            kind: InputKind::HazardUnits,
            display_path: path.file_name().unwrap().to_string_lossy().into_owned(),
            path: path.to_path_buf(),
            layer: layer.map(str::to_string),
            crs: InputCrs::Wgs84,
            crs_given: false,
            encoding: None,
            xy_columns: Some(("经度".into(), "纬度".into())),
            columns: fields
                .iter()
                .map(|(f, c)| (*f, c.to_string(), true))
                .collect(),
            max_scale: None,
        }
    }

    const FIELDS: &[(&str, &str)] = &[("id", "单元编号"), ("name", "单元名称"), ("kind", "类型")];

    const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;

    const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet2.xml"/></Relationships>"#;

    const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy/m/d"/><numFmt numFmtId="165" formatCode="0.000"/></numFmts><cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="165"/></cellXfs></styleSheet>"#;

    /// A workbook of two sheets ("单元" and "Other") from their XML, with
    /// the shared strings given.
    fn workbook(dir: &Path, name: &str, sheet: &str, shared: &str) -> PathBuf {
        workbook_typed(dir, name, sheet, shared, CONTENT_TYPES)
    }

    /// [`workbook`] with its `[Content_Types].xml` given.
    fn workbook_typed(dir: &Path, name: &str, sheet: &str, shared: &str, types: &str) -> PathBuf {
        let workbook = r#"<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="单元" sheetId="1" r:id="rId1"/><sheet name="Other" sheetId="2" r:id="rId2"/></sheets></workbook>"#;
        let other = r#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row><row r="2"><c r="A2"><v>1</v></c></row></sheetData></worksheet>"#;
        let path = dir.join(name);
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        for (part, text) in [
            ("[Content_Types].xml", types),
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", RELS),
            ("xl/styles.xml", STYLES),
            ("xl/sharedStrings.xml", shared),
            ("xl/worksheets/sheet1.xml", sheet),
            ("xl/worksheets/sheet2.xml", other),
        ] {
            zip.start_file(part, options).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        path
    }

    fn sheet(rows: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:F9"/><cols><col min="1" max="6" width="12"/></cols><sheetData>{rows}</sheetData><pageMargins left="0.7"/></worksheet>"#
        )
    }

    /// Shared strings 0–6: the header's names (one in rich-text runs, one
    /// with a phonetic run GDAL keeps), then values.
    const SHARED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="7" uniqueCount="7"><si><t>单元编号</t></si><si><r><rPr><b/></rPr><t>单元</t></r><r><t xml:space="preserve">名称</t></r></si><si><t>经度</t></si><si><t>纬度</t></si><si><t xml:space="preserve"> 储罐区 &amp; 仓库 </t><rPh sb="0" eb="1"><t>ちょ</t></rPh></si><si><t/></si><si><t>U&#x4E2D;&lt;</t></si></sst>"#;

    /// A record under [`HEADER`], every mapped cell filled.
    const ROW: &str = r#"<row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2"><v>2</v></c><c r="C2"><v>3</v></c><c r="D2"><v>120</v></c><c r="E2"><v>31</v></c></row>"#;

    const HEADER: &str = r#"<row r="1" spans="1:6"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><t>类型</t></is></c><c r="D1" t="s"><v>2</v></c><c r="E1" t="s"><v>3</v></c><c r="F1"/></row>"#;

    #[test]
    fn cells_read_the_same_as_through_gdal() {
        let dir = tempfile::tempdir().unwrap();
        let rows = [
            HEADER,
            // Full-precision and integer numbers, a shared string with
            // spaces and an escape, a formula's cached value.
            r#"<row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2"><f>1+1</f><v>2</v></c><c r="C2" t="inlineStr"><is><r><t>首段</t></r><r><t>次段</t></r></is></c><c r="D2"><v>119.12345678901234</v></c><c r="E2" s="3"><v>31.5</v></c></row>"#,
            // A date-formatted number outside the mapped columns, a boolean,
            // an error, a formula's text, a CDATA section, references.
            r#"<row r="3"><c r="A3" t="b"><v>1</v></c><c r="B3" t="e"><v>#N/A</v></c><c r="C3" t="str"><f>A1</f><v><![CDATA[a<b]]></v></c><c r="D3"><v>1.5E2</v></c><c r="E3"><v>-0</v></c><c r="F3" s="1"><v>46086</v></c></row>"#,
            // Rows 4 and 5 missing, then cells without references, a
            // skipped column, an empty shared string, a blank value.
            r#"<row r="6"><c t="s"><v>6</v></c><c t="s"><v>5</v></c><c r="E6"><v>  </v></c></row>"#,
            r#"<row r="7"/>"#,
            r#"<row r="8"><c r="A8" t="inlineStr"><is><t>&#20013;&#x6587;</t></is></c><c r="B8" t="s" s="2"><v>6</v></c></row>"#,
        ];
        let path = workbook(dir.path(), "units.xlsx", &sheet(&rows.concat()), SHARED);
        let read = same_as_gdal(&spec(&path, Some("单元"), FIELDS));
        assert_eq!(read.len(), 7, "{read:#?}");
        assert!(read[0].contains("储罐区 & 仓库 ちょ"), "{}", read[0]);
        assert!(read[0].contains("119.12345678901234"), "{}", read[0]);
        assert!(read[1].contains("a<b"), "{}", read[1]);
        let other = spec(&path, Some("Other"), &[("id", "x")]);
        let other = InputSpec {
            xy_columns: None,
            ..other
        };
        assert_eq!(same_as_gdal(&other).len(), 1);
    }

    #[test]
    fn the_bundled_workbooks_read_the_same_as_through_gdal() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        for example in ["changzhou", "changzhou-2027"] {
            let project = Project::load(&root.join(example).join("project.toml")).unwrap();
            for kind in [InputKind::HazardUnits, InputKind::Chemicals] {
                let read = same_as_gdal(&project.inputs[&kind]);
                assert!(read.len() > 10, "{example} {kind:?}");
            }
        }
    }

    #[test]
    fn what_gdal_reads_differently_is_left_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let row = ROW;
        let plain = sheet(&[HEADER, row].concat());
        let cases = [
            ("plain", plain.clone(), SHARED.to_string(), Some("单元")),
            (
                "a date in a mapped column",
                sheet(&[HEADER, &row.replace(r#"c r="B2""#, r#"c r="B2" s="1""#)].concat()),
                SHARED.into(),
                Some("单元"),
            ),
            (
                "a custom date format in a mapped column",
                sheet(&[HEADER, &row.replace(r#"c r="B2""#, r#"c r="B2" s="2""#)].concat()),
                SHARED.into(),
                Some("单元"),
            ),
            (
                "rows out of order",
                sheet(&[HEADER, &row.replace("r=\"2\"", "r=\"3\""), row].concat()),
                SHARED.into(),
                Some("单元"),
            ),
            (
                "a row without its number",
                sheet(&[HEADER, &row.replace("<row r=\"2\">", "<row>")].concat()),
                SHARED.into(),
                Some("单元"),
            ),
            (
                "a row longer than the header",
                sheet(
                    &[
                        HEADER,
                        &row.replace("</row>", r#"<c r="H2"><v>9</v></c></row>"#),
                    ]
                    .concat(),
                ),
                SHARED.into(),
                Some("单元"),
            ),
            (
                "cells out of order",
                sheet(&[HEADER, &row.replace(r#"c r="B2""#, r#"c r="A2""#)].concat()),
                SHARED.into(),
                Some("单元"),
            ),
            (
                "a missing shared string",
                sheet(&[HEADER, &row.replace("<v>4</v>", "<v>70</v>")].concat()),
                SHARED.into(),
                Some("单元"),
            ),
            (
                "the header alone",
                sheet(HEADER),
                SHARED.into(),
                Some("单元"),
            ),
            (
                "a carriage return",
                plain.clone(),
                SHARED.replace("仓库", "仓\r\n库"),
                Some("单元"),
            ),
            (
                "a DOCTYPE",
                plain.replacen("<worksheet", "<!DOCTYPE worksheet>\n<worksheet", 1),
                SHARED.into(),
                Some("单元"),
            ),
            (
                "an unknown entity",
                plain.clone(),
                SHARED.replace("&amp;", "&nbsp;"),
                Some("单元"),
            ),
            (
                "a forbidden character reference",
                plain.clone(),
                SHARED.replace("&amp;", "&#1;"),
                Some("单元"),
            ),
            (
                "UTF-16 declared",
                plain.replacen("encoding=\"UTF-8\"", "encoding=\"UTF-16\"", 1),
                SHARED.into(),
                Some("单元"),
            ),
            (
                "a sheet named in another case",
                plain.clone(),
                SHARED.into(),
                Some("other"),
            ),
            (
                "no sheet named, two there",
                plain.clone(),
                SHARED.into(),
                None,
            ),
            (
                "a second root",
                format!("{plain}<worksheet/>"),
                SHARED.into(),
                Some("单元"),
            ),
            (
                // GDAL 3.6 reads a `sheetData` anywhere, this one too.
                "a sheetData in the columns",
                plain.replacen("<cols>", "<cols><sheetData/>", 1),
                SHARED.into(),
                Some("单元"),
            ),
            (
                // C's atoi wraps this to style 1, a date.
                "a style number past 32 bits",
                sheet(
                    &[
                        HEADER,
                        &row.replace(r#"c r="B2""#, r#"c r="B2" s="4294967297""#),
                    ]
                    .concat(),
                ),
                SHARED.into(),
                Some("单元"),
            ),
            (
                "more cells than GDAL's 2000 columns",
                sheet(
                    &[
                        &HEADER.replace(
                            "</row>",
                            &r#"<c t="inlineStr"><is><t>x</t></is></c>"#.repeat(1996),
                        ),
                        "</row>",
                        row,
                    ]
                    .concat()
                    .replacen("</row></row>", "</row>", 1),
                ),
                SHARED.into(),
                Some("单元"),
            ),
            (
                // Past GDAL's 8,192 text callbacks in 8 KB ("million laugh").
                "thousands of line feeds in a cell",
                sheet(
                    &[
                        HEADER,
                        &row.replace("<v>2</v>", &format!("<v>{}</v>", "a\n".repeat(6000))),
                    ]
                    .concat(),
                ),
                SHARED.into(),
                Some("单元"),
            ),
            (
                "a comment with a double hyphen",
                sheet(&[HEADER, "<!-- a -- b -->", row].concat()),
                SHARED.into(),
                Some("单元"),
            ),
            (
                "an attribute without a space before it",
                sheet(&[HEADER, &row.replace(r#"<c r="B2">"#, r#"<c r="B2"t="n">"#)].concat()),
                SHARED.into(),
                Some("单元"),
            ),
            (
                "]]> in text",
                plain.clone(),
                SHARED.replace("仓库", "仓]]>库"),
                Some("单元"),
            ),
            (
                "a declaration after a space",
                format!(" {plain}"),
                SHARED.into(),
                Some("单元"),
            ),
        ];
        for (what, sheet_xml, shared, layer) in cases {
            let path = workbook(dir.path(), "case.xlsx", &sheet_xml, &shared);
            let plan = Plan::for_input(&spec(&path, layer, FIELDS));
            assert_eq!(plan.is_some(), what == "plain", "{what}");
        }
        // GDAL's test for the mimetype stops at a NUL.
        let types = CONTENT_TYPES.replacen("<Types", "<Types\0", 1);
        let path = workbook_typed(dir.path(), "nul.xlsx", &plain, SHARED, &types);
        assert!(Plan::for_input(&spec(&path, Some("单元"), FIELDS)).is_none());
        // A header GDAL names Field1… over one record reads as no records.
        let blank_header =
            r#"<row r="1"><c r="A1" t="inlineStr"><is><t></t></is></c><c r="B1"/></row>"#;
        let path = workbook(
            dir.path(),
            "blank.xlsx",
            &sheet(&[blank_header, row].concat()),
            SHARED,
        );
        let field1 = InputSpec {
            xy_columns: None,
            ..spec(&path, Some("单元"), &[("id", "Field1")])
        };
        assert!(Plan::for_input(&field1).is_none());
    }

    #[test]
    fn a_sheet_gdal_parses_only_in_part_says_so() {
        // GDAL parses the sheet while it reads the layer's schema: its
        // error there is kept with the input's warnings.
        let dir = tempfile::tempdir().unwrap();
        let rows = [
            HEADER,
            r#"<row r="2"><c r="A2" t="s"><v>4</v></c><c r="D2"><v>120</v></c><c r="E2"><v>31</v></c></row>"#,
            r#"<row r="3"><c r="A3"><v>1</v></row>"#,
        ];
        let path = workbook(dir.path(), "broken.xlsx", &sheet(&rows.concat()), SHARED);
        let spec = spec(&path, Some("单元"), FIELDS);
        assert!(Plan::for_input(&spec).is_none());
        super::super::configure_gdal();
        let _scope = super::super::MessageScope::new().enter();
        let (n, summary) = super::super::read_input(&spec, |_| Ok(0usize), |n, _| *n += 1).unwrap();
        assert_eq!(n, 1);
        assert!(
            summary.warnings.iter().any(|w| w.contains("XML parsing")),
            "{:?}",
            summary.warnings
        );
    }

    #[test]
    fn the_header_is_decoded_as_the_input_says() {
        // An `encoding` for a workbook decodes its names too, through GDAL
        // as here: the UTF-8 name read as GBK no longer matches.
        let dir = tempfile::tempdir().unwrap();
        let rows = [HEADER, ROW];
        let path = workbook(dir.path(), "gbk.xlsx", &sheet(&rows.concat()), SHARED);
        let gbk = InputSpec {
            encoding: Some("GBK".into()),
            ..spec(&path, Some("单元"), FIELDS)
        };
        assert!(Plan::for_input(&gbk).is_none());
        super::super::configure_gdal();
        assert!(matches!(
            GdalReader(Driver::Xlsx).read(&gbk, |_| Ok(()), |_, _| {}),
            Err(LoadError::MissingColumn { .. })
        ));
    }
}

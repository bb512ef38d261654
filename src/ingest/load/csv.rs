//! CSV read the way Excel reads it, with every physical line accounted for.
//!
//! GDAL's CSV reader treats a `"` anywhere as the start of a quoted field, so
//! one stray quote in an address swallows every following line into a single
//! record. Here a quote opens a quoted field only at the start of a field; a
//! quote inside an unquoted field is a literal character, as in Excel. A
//! quoted field may span lines, but a record that does and then has the
//! wrong number of fields, or whose first line is a complete row by itself,
//! or a quote that is never closed, is a stray quote: its first line is
//! reported as malformed and reading resumes on the next line, so one bad
//! line never hides the lines after it.
//!
//! Parsing works on bytes (the delimiter, quote and line breaks are ASCII,
//! which never occur inside GBK or UTF-8 multi-byte characters), so the
//! caller decodes each field in the file's encoding and can reject a record
//! with undecodable text field by field.

use std::borrow::Cow;

/// One data row as the parser found it.
#[derive(Debug, PartialEq)]
pub enum Row<'a> {
    /// A record: the physical line it starts on (the header is line 1) and its fields.
    Record {
        /// Physical line the record starts on (1-based; the header is line 1).
        line: u64,
        /// The field values, unquoted but not yet decoded; as many as the header has.
        fields: Vec<Cow<'a, [u8]>>,
    },
    /// A line that does not become a record, with the reason and the line's text.
    Malformed {
        /// Physical line the bad row starts on (1-based).
        line: u64,
        /// Why the line is not a record.
        reason: String,
        /// The raw bytes of that first line, without its line break.
        text: &'a [u8],
    },
}

/// How the physical lines of a file were used; they add up to `lines`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LineCount {
    /// Physical lines in the file, counted independently of parsing.
    pub lines: u64,
    /// Lines before the data: the header (and an Excel `sep=` line).
    pub header_lines: u64,
    /// Lines that start a record.
    pub records: u64,
    /// Further lines of records whose quoted fields span lines.
    pub continued: u64,
    /// Lines that do not become a record (each is a reject).
    pub malformed: u64,
    /// Empty or whitespace-only lines, which hold no data.
    pub blank: u64,
}

impl LineCount {
    /// Whether every physical line is accounted for.
    pub fn balanced(&self) -> bool {
        self.header_lines + self.records + self.continued + self.malformed + self.blank
            == self.lines
    }
}

/// The header row and the delimiter of a CSV file.
#[derive(Debug)]
pub struct Header<'a> {
    /// The column names, unquoted but not yet decoded, in file order.
    pub names: Vec<Cow<'a, [u8]>>,
    /// The field delimiter: from an Excel `sep=` line, else comma, semicolon or tab.
    pub delimiter: u8,
}

/// How a record's fields ended.
enum Parsed<'a> {
    /// Complete: the fields, the byte after the record, and the line breaks inside quoted fields.
    Fields {
        fields: Vec<Cow<'a, [u8]>>,
        next: usize,
        inner_breaks: u64,
    },
    /// A quoted field runs to the end of the file.
    Unterminated,
}

fn is_break(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// The position after the line break ending the line that holds `pos`
/// (the end of the file if there is none).
fn next_line(bytes: &[u8], pos: usize) -> usize {
    match bytes[pos..].iter().position(|&b| is_break(b)) {
        None => bytes.len(),
        Some(k) => skip_break(bytes, pos + k),
    }
}

/// Steps over one line break (`\n`, `\r\n` or a lone `\r`) at `pos`.
fn skip_break(bytes: &[u8], pos: usize) -> usize {
    if bytes[pos] == b'\r' && bytes.get(pos + 1) == Some(&b'\n') {
        pos + 2
    } else {
        pos + 1
    }
}

/// Line breaks in a byte run, a `\r\n` counting once.
fn count_breaks(bytes: &[u8]) -> u64 {
    // Every "\n", and every "\r" but those of a "\r\n": simple counts the
    // compiler vectorises (a file of a million rows is counted before it is
    // parsed, while nothing else can start).
    let returns = count_byte(bytes, b'\r');
    let crlf = if returns == 0 {
        0
    } else {
        bytes
            .iter()
            .zip(&bytes[1..])
            .filter(|&(&a, &b)| a == b'\r' && b == b'\n')
            .count() as u64
    };
    count_byte(bytes, b'\n') + returns - crlf
}

/// How many times `byte` occurs: summed in byte lanes 128 bytes at a time
/// (a plain count widens every byte to 64 bits and goes 4 bytes a step).
fn count_byte(bytes: &[u8], byte: u8) -> u64 {
    let mut chunks = bytes.chunks_exact(128);
    let mut n = 0;
    for chunk in &mut chunks {
        n += u64::from(chunk.iter().fold(0u8, |k, &b| k + u8::from(b == byte)));
    }
    n + chunks.remainder().iter().filter(|&&b| b == byte).count() as u64
}

/// Physical lines of a file: line breaks, plus a last line without one.
pub fn physical_lines(bytes: &[u8]) -> u64 {
    let breaks = count_breaks(bytes);
    breaks + u64::from(bytes.last().is_some_and(|&b| !is_break(b)))
}

/// End of an unquoted run: the next delimiter or line break, or the end.
fn field_end(bytes: &[u8], from: usize, delimiter: u8) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == delimiter || is_break(b))
        .map_or(bytes.len(), |k| from + k)
}

/// Parses the record starting at `start`.
fn parse_record(bytes: &[u8], start: usize, delimiter: u8) -> Parsed<'_> {
    let mut fields = Vec::new();
    let mut i = start;
    let mut inner_breaks = 0;
    loop {
        if bytes.get(i) == Some(&b'"') {
            let mut text = Vec::new();
            i += 1;
            loop {
                let Some(k) = bytes[i..].iter().position(|&b| b == b'"') else {
                    return Parsed::Unterminated;
                };
                text.extend_from_slice(&bytes[i..i + k]);
                inner_breaks += count_breaks(&bytes[i..i + k]);
                i += k + 1;
                if bytes.get(i) == Some(&b'"') {
                    text.push(b'"');
                    i += 1;
                } else {
                    break;
                }
            }
            // Text after the closing quote belongs to the field, as in Excel.
            let end = field_end(bytes, i, delimiter);
            text.extend_from_slice(&bytes[i..end]);
            i = end;
            fields.push(Cow::Owned(text));
        } else {
            let end = field_end(bytes, i, delimiter);
            fields.push(Cow::Borrowed(&bytes[i..end]));
            i = end;
        }
        match bytes.get(i) {
            None => {
                return Parsed::Fields {
                    fields,
                    next: i,
                    inner_breaks,
                }
            }
            Some(&b) if b == delimiter => i += 1,
            Some(_) => {
                return Parsed::Fields {
                    fields,
                    next: skip_break(bytes, i),
                    inner_breaks,
                }
            }
        }
    }
}

/// The delimiter of the header line: comma, semicolon or tab, whichever it
/// holds most of (comma on a tie).
fn detect_delimiter(line: &[u8]) -> u8 {
    let mut best = (0, b',');
    for d in [b',', b';', b'\t'] {
        let n = line.iter().filter(|&&b| b == d).count();
        if n > best.0 {
            best = (n, d);
        }
    }
    best.1
}

/// Fields of the line at `pos` if every quote on it were a literal character.
/// A record whose quoted field spans lines although its first line alone is
/// a complete row was opened by a stray quote.
fn line_width(bytes: &[u8], pos: usize, delimiter: u8) -> usize {
    1 + bytes[pos..]
        .iter()
        .take_while(|&&b| !is_break(b))
        .filter(|&&b| b == delimiter)
        .count()
}

/// Whether the line at `pos` holds only spaces and tabs.
fn blank_line(bytes: &[u8], pos: usize) -> bool {
    bytes[pos..]
        .iter()
        .take_while(|&&b| !is_break(b))
        .all(|&b| b == b' ' || b == b'\t')
}

/// Parses a whole CSV file (BOM already removed): its header, then each data
/// row in order through `each`. Returns the header and how the lines were used.
pub fn parse<'a>(
    bytes: &'a [u8],
    mut each: impl FnMut(Row<'a>),
) -> Result<(Header<'a>, LineCount), String> {
    parse_counted(bytes, physical_lines(bytes), |row, _| each(row))
}

/// [`parse`] for a file whose physical lines were counted beforehand
/// (`lines`, as [`physical_lines`] counts them); `each` also gets the byte
/// offset where the row starts, so the caller knows what it is done with.
pub fn parse_counted<'a>(
    bytes: &'a [u8],
    lines: u64,
    mut each: impl FnMut(Row<'a>, usize),
) -> Result<(Header<'a>, LineCount), String> {
    let mut count = LineCount {
        lines,
        ..LineCount::default()
    };
    let (header, header_lines, mut pos) = read_header(bytes)?;
    count.header_lines = header_lines;
    let (names, delimiter) = (&header.names, header.delimiter);
    let width = names.len();
    let mut line = count.header_lines + 1;
    while pos < bytes.len() {
        if blank_line(bytes, pos) {
            count.blank += 1;
            pos = next_line(bytes, pos);
            line += 1;
            continue;
        }
        let (row, next, lines) = next_row(bytes, pos, line, delimiter, width, &mut count);
        each(row, pos);
        pos = next;
        line += lines;
    }
    if !count.balanced() {
        return Err(format!(
            "internal error: {} physical lines but {} accounted for",
            count.lines,
            count.header_lines + count.records + count.continued + count.malformed + count.blank
        ));
    }
    Ok((header, count))
}

/// The row that starts at `pos` on line `line` of a file whose header has
/// `width` fields: a record, or a malformed line that costs only itself.
/// Returns the row, where the next one starts and how many lines it took,
/// and counts them in `count`.
fn next_row<'a>(
    bytes: &'a [u8],
    pos: usize,
    line: u64,
    delimiter: u8,
    width: usize,
    count: &mut LineCount,
) -> (Row<'a>, usize, u64) {
    let text = &bytes[pos..field_end(bytes, pos, 0)];
    let malformed = |reason: String, count: &mut LineCount| {
        count.malformed += 1;
        (
            Row::Malformed { line, reason, text },
            next_line(bytes, pos),
            1,
        )
    };
    match parse_record(bytes, pos, delimiter) {
        Parsed::Unterminated => malformed(
            format!("unterminated quoted field starting at line {line}"),
            count,
        ),
        Parsed::Fields {
            fields,
            inner_breaks,
            ..
        } if inner_breaks > 0
            && (fields.len() != width || line_width(bytes, pos, delimiter) == width) =>
        {
            malformed(
                format!(
                    "unterminated quoted field starting at line {line} (closed only on line {}, \
                     which would make a row of {} fields where the header has {width})",
                    line + inner_breaks,
                    fields.len()
                ),
                count,
            )
        }
        Parsed::Fields {
            mut fields,
            next,
            inner_breaks,
        } => {
            // Trailing empty fields past the header's width are harmless.
            while fields.len() > width
                && fields.last().is_some_and(|f| f.iter().all(|&b| b == b' '))
            {
                fields.pop();
            }
            let row = if fields.len() == width {
                count.records += 1;
                count.continued += inner_breaks;
                Row::Record { line, fields }
            } else {
                count.malformed += 1 + inner_breaks;
                let (n, more) = (fields.len(), fields.len() > width);
                Row::Malformed {
                    line,
                    text,
                    reason: format!(
                        "row has {n} fields where the header has {width}{}",
                        if more {
                            " (a delimiter inside an unquoted value?)"
                        } else {
                            " (a value or delimiter missing?)"
                        }
                    ),
                }
            };
            (row, next, 1 + inner_breaks)
        }
    }
}

/// The header of a CSV file (BOM already removed): its column names and
/// delimiter, how many lines it takes (an Excel `sep=` line adds one), and
/// where the data starts.
pub fn header(bytes: &[u8]) -> Result<Header<'_>, String> {
    read_header(bytes).map(|(h, _, _)| h)
}

fn read_header(bytes: &[u8]) -> Result<(Header<'_>, u64, usize), String> {
    let mut pos = 0;
    let mut lines = 0;
    // Excel writes `sep=;` as a first line to name the delimiter.
    let first = &bytes[..field_end(bytes, 0, 0)];
    let mut delimiter = None;
    if first.len() == 5 && first[..4].eq_ignore_ascii_case(b"sep=") {
        delimiter = Some(first[4]);
        pos = next_line(bytes, 0);
        lines += 1;
    }
    if pos >= bytes.len() {
        return Err("has no header row".into());
    }
    let delimiter =
        delimiter.unwrap_or_else(|| detect_delimiter(&bytes[pos..field_end(bytes, pos, 0)]));
    match parse_record(bytes, pos, delimiter) {
        Parsed::Fields {
            fields,
            next,
            inner_breaks: 0,
        } => Ok((
            Header {
                names: fields,
                delimiter,
            },
            lines + 1,
            next,
        )),
        _ => {
            Err("header row has an unterminated quoted field (a stray \" in a column name?)".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> (Vec<String>, LineCount) {
        let mut out = Vec::new();
        let (_, count) = parse(text.as_bytes(), |row| match row {
            Row::Record { line, fields } => out.push(format!(
                "{line}:{}",
                fields
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect::<Vec<_>>()
                    .join("|")
            )),
            Row::Malformed { line, reason, .. } => out.push(format!("{line}!{reason}")),
        })
        .unwrap();
        (out, count)
    }

    #[test]
    fn quotes_inside_unquoted_fields_are_literal() {
        let (r, c) = rows("id,addr,n\n1,汉江路980号3\"管廊,5\n2,机\"\"\"制造,6\n3,ok,7\n");
        assert_eq!(
            r,
            ["2:1|汉江路980号3\"管廊|5", "3:2|机\"\"\"制造|6", "4:3|ok|7"]
        );
        assert_eq!((c.lines, c.records, c.malformed), (4, 3, 0));
    }

    #[test]
    fn quoted_fields_escape_quotes_delimiters_and_line_breaks() {
        let (r, c) = rows("a,b\r\n\"x,\"\"y\"\"\",\"two\r\nlines\"\r\n\"q\"tail,z\r\n");
        assert_eq!(r, ["2:x,\"y\"|two\r\nlines", "4:qtail|z"]);
        assert_eq!((c.records, c.continued), (2, 1));
        assert!(c.balanced());
    }

    #[test]
    fn an_unterminated_quote_costs_one_line_only() {
        let (r, c) = rows("a,b\n1,x\n2,\"broken\n3,y\n4,z");
        assert_eq!(r[1], "3!unterminated quoted field starting at line 3");
        assert_eq!(&r[2..], ["4:3|y", "5:4|z"]);
        assert_eq!((c.lines, c.records, c.malformed), (5, 3, 1));
    }

    #[test]
    fn a_stray_quote_closed_lines_later_is_caught_by_the_field_count() {
        // Closed two lines later, the row would have the header's width.
        let (r, c) = rows("a,b,c\n1,\"x,1\n2,y,2\n3,z\",3\n4,w,4\n");
        assert!(
            r[0].starts_with("2!unterminated quoted field starting at line 2"),
            "{r:?}"
        );
        assert_eq!(&r[1..], ["3:2|y|2", "4:3|z\"|3", "5:4|w|4"]);
        assert!(c.balanced() && c.malformed == 1);
        // Closed on the next line with a different width.
        let (r, _) = rows("a,b,c\n1,\"x\n2,y\",2,9\n");
        assert!(r[0].starts_with("2!unterminated"), "{r:?}");
        assert_eq!(
            r[1],
            "3!row has 4 fields where the header has 3 (a delimiter inside an unquoted value?)"
        );
        // A real multi-line address is kept.
        let (r, c) = rows("id,addr,n,m\n1,\"路1号\n2楼\",5,6\n");
        assert_eq!(r, ["2:1|路1号\n2楼|5|6"]);
        assert_eq!(c.continued, 1);
    }

    #[test]
    fn wrong_field_counts_blank_lines_and_other_delimiters() {
        let (r, c) = rows("a;b\n1;2;3\n\n  \n4\n5;6;\n");
        assert!(r[0].starts_with("2!row has 3 fields where the header has 2"));
        assert!(r[1].starts_with("5!row has 1 fields"));
        assert_eq!(r[2], "6:5|6");
        assert_eq!((c.blank, c.malformed, c.records), (2, 2, 1));
        let (r, _) = rows("sep=\t\na\tb\n1\t2\n");
        assert_eq!(r, ["3:1|2"]);
    }

    #[test]
    fn header_problems_are_errors() {
        assert!(parse(b"", |_| {}).is_err());
        assert!(parse(b"\"a,b\n1,2\n", |_| {}).is_err());
        let (h, c) = parse(b"a,b", |_| {}).unwrap();
        assert_eq!(h.names.len(), 2);
        assert_eq!((c.lines, c.records), (1, 0));
    }

    #[test]
    fn line_breaks_count_as_one_byte_at_a_time_would() {
        // The reference: each "\n", and each "\r" not followed by "\n".
        let slow = |b: &[u8]| {
            (0..b.len())
                .filter(|&i| b[i] == b'\n' || (b[i] == b'\r' && b.get(i + 1) != Some(&b'\n')))
                .count() as u64
        };
        for text in [
            "",
            "a",
            "\r",
            "\n",
            "\r\n",
            "\n\r",
            "\r\r\n",
            "a\rb\r\nc\nd\r",
            "\r\n\r\n\n\r",
            "汉\r江\r\n路",
        ] {
            assert_eq!(
                count_breaks(text.as_bytes()),
                slow(text.as_bytes()),
                "{text:?}"
            );
        }
        // Longer than the 128-byte steps, with breaks across their edges.
        let long = "ab\r\nc\rd\n\n汉字,\r".repeat(100);
        for cut in [0, 1, 127, 128, 129, 255, 256, 1000] {
            let b = &long.as_bytes()[cut..];
            assert_eq!(count_breaks(b), slow(b), "from byte {cut}");
        }
    }
}

//! The values of spreadsheets as users write them: decimal numbers (also
//! full-width), coordinates in degrees-minutes-seconds, counts, the date
//! spellings of Chinese spreadsheets and Excel serial days, and the labels
//! of text encodings. Every parser says why a text is not a value, so the
//! checks can reject a field with a reason a user can act on. A leaf module:
//! the project file and the record checks both read values through it.

use encoding_rs::Encoding;

use crate::model::Date;

/// Maps an encoding label users write (CP936, GBK, GB18030, UTF-8 …) to a decoder.
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    let l = label.trim().to_lowercase();
    let l = match l.as_str() {
        "cp936" | "936" | "ms936" | "windows-936" => "gbk",
        "utf8" => "utf-8",
        other => other,
    };
    Encoding::for_label(l.as_bytes())
}

/// Replaces full-width digits and signs, which Chinese spreadsheets often hold.
fn half_width(text: &str) -> std::borrow::Cow<'_, str> {
    if text.is_ascii() {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' | '。' => '.',
            '－' | '—' => '-',
            '＋' => '+',
            '，' => ',',
            _ => c,
        })
        .collect::<String>()
        .into()
}

/// Parses a plain decimal number, with a reason users can act on.
pub fn parse_number(text: &str) -> Result<f64, String> {
    let t = half_width(text.trim());
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err("is not a finite number".into()),
        Err(_) if t.contains(',') => Err("is not a number (a decimal comma? use a point)".into()),
        Err(_) => Err("is not a number".into()),
    }
}

/// Parses a coordinate: a decimal number, or degrees-minutes-seconds such as
/// `119°57'30.5"` or `119度57分30.5秒` (an `S`/`W` suffix makes it negative).
pub fn parse_coordinate(text: &str) -> Result<f64, String> {
    let t = half_width(text.trim());
    if !t.contains(['°', '度']) {
        return parse_number(&t);
    }
    let negative = t.ends_with(['S', 'W', 's', 'w']) || t.starts_with('-');
    let parts: Vec<f64> = t
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| "is not a valid degrees-minutes-seconds value".to_string())?;
    if parts.is_empty() || parts.len() > 3 || parts.iter().skip(1).any(|v| *v >= 60.0) {
        return Err("is not a valid degrees-minutes-seconds value".into());
    }
    let value =
        parts[0] + parts.get(1).unwrap_or(&0.0) / 60.0 + parts.get(2).unwrap_or(&0.0) / 3600.0;
    Ok(if negative { -value } else { value })
}

/// Parses a non-negative count (people, population).
pub fn parse_count(text: &str) -> Result<u32, String> {
    let v = parse_number(text.trim_end_matches('人'))?;
    if v < 0.0 {
        return Err("is negative".into());
    }
    if v.fract() != 0.0 || v > u32::MAX as f64 {
        return Err("is not a whole number".into());
    }
    Ok(v as u32)
}

/// Parses the date spellings of Chinese spreadsheets: 2026-03-05, 2026/3/5,
/// 2026.3.5, 2026年3月5日, 20260305, and Excel serial day numbers.
pub fn parse_date(text: &str) -> Result<Date, String> {
    let t = half_width(text.trim());
    // Dates with a time part keep only the date.
    let t = t.split([' ', 'T']).next().unwrap_or("");
    let parts: Vec<&str> = t
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.is_empty())
        .collect();
    let (y, m, d) = match parts.as_slice() {
        [y, m, d] => (y.parse().ok(), m.parse().ok(), d.parse().ok()),
        [one] if one.len() == 8 && one.chars().all(|c| c.is_ascii_digit()) => (
            one[0..4].parse().ok(),
            one[4..6].parse().ok(),
            one[6..8].parse().ok(),
        ),
        [one] if one.chars().all(|c| c.is_ascii_digit()) && one.len() == 5 => {
            return one
                .parse::<i64>()
                .map(excel_serial_to_date)
                .map_err(|_| "is not a date".to_string())
        }
        _ => (None, None, None),
    };
    let (Some(year), Some(month), Some(day)) = (y, m, d) else {
        return Err("is not a date (use YYYY-MM-DD)".into());
    };
    if !(1900..=2200).contains(&year)
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
    {
        return Err("is not a valid calendar date".into());
    }
    Ok(Date { year, month, day })
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Excel's serial day (1900 system, 25569 = 1970-01-01) to a civil date.
fn excel_serial_to_date(serial: i64) -> Date {
    civil_from_days(serial - 25569)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
pub fn civil_from_days(z: i64) -> Date {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    Date { year, month, day }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_coordinates() {
        assert_eq!(parse_number(" 12.5 "), Ok(12.5));
        assert_eq!(parse_number("１２．５"), Ok(12.5));
        assert!(parse_number("121,45")
            .unwrap_err()
            .contains("decimal comma"));
        assert!(parse_number("abc").is_err());
        assert!(parse_number("NaN").is_err());
        let dms = parse_coordinate("119°57'30\"").unwrap();
        assert!((dms - (119.0 + 57.0 / 60.0 + 30.0 / 3600.0)).abs() < 1e-12);
        let dms = parse_coordinate("31度48分36秒").unwrap();
        assert!((dms - 31.81).abs() < 1e-12);
        assert!(parse_coordinate("119°75'").is_err());
        assert_eq!(parse_count("300"), Ok(300));
        assert!(parse_count("-5").unwrap_err().contains("negative"));
        assert!(parse_count("2.5").is_err());
    }

    #[test]
    fn dates_in_chinese_spreadsheet_spellings() {
        let d = Date {
            year: 2026,
            month: 3,
            day: 5,
        };
        for t in [
            "2026-03-05",
            "2026/3/5",
            "2026.3.5",
            "2026年3月5日",
            "20260305",
            "2026-03-05 10:00:00",
        ] {
            assert_eq!(parse_date(t), Ok(d), "{t}");
        }
        assert_eq!(parse_date("46086"), Ok(d), "Excel serial");
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("soon").is_err());
    }
}

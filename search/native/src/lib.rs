//! The embedded engine's document builder, compiled.
//!
//! `search/embedded_docs.py` (`build_doc` + `tantivy_json`) is the reference: this module
//! produces the same tantivy JSON for the records it can handle and declines the others (the
//! caller builds those in Python). It handles text made of ASCII, accented Latin letters, the
//! common CJK ideographs, full-width ASCII forms and a few CJK punctuation marks — the
//! characters whose NFKC fold,
//! tokenization, case mapping and regex classes are simple and identical in both languages.
//! Any other character, an undeclared field, an unusual value type or any Python exception
//! declines the whole record. `tests/test_search_native.py` checks the equivalence, including
//! every BMP character's fold.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;

use base64::Engine as _;
use blake2::digest::{Update, VariableOutput};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyDateAccess, PyDateTime, PyDict, PyFloat, PyInt, PyList, PySet, PyString,
    PyTimeAccess, PyTuple, PyTzInfoAccess,
};

/// Why a record is left to the Python builder (never an error: Python decides).
struct Decline;

type Res<T> = Result<T, Decline>;

impl From<PyErr> for Decline {
    fn from(_: PyErr) -> Self {
        Decline
    }
}

// -- characters -------------------------------------------------------------------------------

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3005 | 0x3007 | 0x3400..=0x4DBF | 0x4E00..=0x9FFF)
}

/// NFKC fold + strip for the supported characters; `None` for text with any other character.
pub fn fold(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let cp = c as u32;
        match cp {
            0x20..=0x7E | 0x09 | 0x0A | 0x0D => out.push(c),
            _ if is_han(c) || is_latin_letter(c) => out.push(c),
            0xFF01..=0xFF5E => out.push(char::from_u32(cp - 0xFEE0)?),
            0x3000 => out.push(' '),
            0x2026 => out.push_str("..."),
            // NFKC-stable CJK punctuation: 、。〈〉《》「」『』【】 ‘’“” · —
            0x3001 | 0x3002 | 0x3008..=0x3011 | 0x2018 | 0x2019 | 0x201C | 0x201D | 0x00B7
            | 0x2014 => out.push(c),
            _ => return None,
        }
    }
    let trimmed = out.trim_matches(is_space);
    if trimmed.len() == out.len() {
        Some(out)
    } else {
        Some(trimmed.to_string())
    }
}

/// Accented Latin letters (pinyin's ü and tone marks, European names): precomposed, NFKC-stable,
/// letters to Python's `\w`, with the same case mappings in both languages. Excluded: İ ı Ĳ ĳ
/// Ŀ ŀ ŉ ſ (compatibility forms or language-dependent case).
fn is_latin_letter(c: char) -> bool {
    match c as u32 {
        0xC0..=0xFF => !matches!(c as u32, 0xD7 | 0xF7),
        0x100..=0x17F => !matches!(c as u32, 0x130..=0x133 | 0x13F | 0x140 | 0x149 | 0x17F),
        0x1CD..=0x1DC => true, // ǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜ
        _ => false,
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn folded(s: &str) -> Res<String> {
    fold(s).ok_or(Decline)
}

// -- regexes (the patterns of search/analysis.py, restricted to the supported characters) -----

struct Patterns {
    may_plate: regex::Regex,
    may_phone: regex::Regex,
    may_id: regex::Regex,
    plate_in_text: fancy_regex::Regex,
    phone_in_text: fancy_regex::Regex,
    id_in_text: fancy_regex::Regex,
    plate: regex::Regex,
    phone_raw: regex::Regex,
    phone_ext: regex::Regex,
    mobile: regex::Regex,
    landline: regex::Regex,
    id: regex::Regex,
}

impl Patterns {
    fn new() -> Self {
        Patterns {
            // Cheap necessary conditions of the three patterns with look-arounds (those run
            // on fancy-regex's slower backtracking engine only where these find something).
            may_plate: regex::Regex::new(r"[\x{4e00}-\x{9fff}]\s?[A-Za-z]").unwrap(),
            may_phone: regex::Regex::new(r"1[3-9][0-9]").unwrap(),
            may_id: regex::Regex::new(r"[0-9]{17}").unwrap(),
            plate_in_text: fancy_regex::Regex::new(
                r"[\x{4e00}-\x{9fff}]\s?[A-Za-z][\s·•・.\-]?[A-Za-z0-9]{5,6}(?![A-Za-z0-9])",
            )
            .unwrap(),
            phone_in_text: fancy_regex::Regex::new(
                r"(?<![\d+])(?:(?:\+|00)?86[\s\-]?)?1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}(?!\d)",
            )
            .unwrap(),
            id_in_text: fancy_regex::Regex::new(r"(?<!\d)\d{17}[\dXx](?![\dXx])").unwrap(),
            plate: regex::Regex::new(
                r"^[\x{4e00}-\x{9fff}][A-Z](?:[A-Z0-9]{5,6}|[A-Z0-9]{4}[挂学警港澳领])$",
            )
            .unwrap(),
            phone_raw: regex::Regex::new(r"^[+\d(][\d\s\-()·]{6,}$").unwrap(),
            // core/normalize.py _LANDLINE_EXT
            phone_ext: regex::Regex::new(r"(?i)(转|ext\.?|x)\s*\d+$").unwrap(),
            mobile: regex::Regex::new(r"^1[3-9]\d{9}$").unwrap(),
            landline: regex::Regex::new(r"^0\d{9,11}$").unwrap(),
            id: regex::Regex::new(r"^(?:\d{17}[\dX]|\d{15})$").unwrap(),
        }
    }
}

// -- normalisers (core/normalize.py on folded text) ---------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Norm {
    None,
    Phone,
    Plate,
    IdNumber,
    Text,
    Code,
    Name,
}

/// Python's `\s` (`str.isspace`): Rust's whitespace plus the separators U+001C..U+001F.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `core.normalize.phone` on folded text: an extension at the end (`转123`, `ext 12`, `x12`)
/// dropped, O/o/I/l read as 0/1 in a number written with a few of them, digits kept, the China
/// country code removed.
fn norm_phone(v: &str, ext: &regex::Regex) -> String {
    if !v.chars().any(char::is_alphabetic) {
        // no extension marker and no letter typed for a digit: only the digits count
        return country_code_off(v.chars().filter(|c| c.is_ascii_digit()).collect());
    }
    let folded = ext.replace(v, "");
    let bare: String = folded
        .chars()
        .filter(|&c| !(py_space(c) || matches!(c, '-' | '(' | ')' | '+' | '.')))
        .collect();
    let like = !bare.is_empty()
        && bare.chars().all(|c| c.is_ascii_digit() || matches!(c, 'O' | 'o' | 'I' | 'l'));
    let source: String = if like && bare.chars().filter(|c| c.is_ascii_digit()).count() >= 3 {
        bare.chars()
            .map(|c| match c {
                'O' | 'o' => '0',
                'I' | 'l' => '1',
                c => c,
            })
            .collect()
    } else {
        folded.into_owned()
    };
    // (Python keeps every Unicode digit; folded text the builder accepts has only ASCII ones)
    country_code_off(source.chars().filter(|c| c.is_ascii_digit()).collect())
}

/// A phone's digits without the China country code (`0086…`, or `86` before 11 digits).
fn country_code_off(digits: String) -> String {
    if let Some(rest) = digits.strip_prefix("0086") {
        rest.to_string()
    } else if digits.starts_with("86") && digits.len() == 13 {
        digits[2..].to_string()
    } else {
        digits
    }
}

/// Province abbreviations written in Latin letters, longest first as Python tries them
/// (`core/normalize.py` `_LATIN_PROVINCE`; `tests/test_search_native.py` checks the copy).
const LATIN_PROVINCES: [(&str, char); 51] = [
    ("XIANG", '湘'), ("QIONG", '琼'), ("CHUAN", '川'), ("SHAAN", '陕'), ("JING", '京'),
    ("MENG", '蒙'), ("LIAO", '辽'), ("ZANG", '藏'), ("QING", '青'), ("NING", '宁'), ("HEI", '黑'),
    ("ZHE", '浙'), ("WAN", '皖'), ("MIN", '闽'), ("YUE", '粤'), ("YUN", '云'), ("XIN", '新'),
    ("BJ", '京'), ("TJ", '津'), ("HE", '冀'), ("SX", '晋'), ("NM", '蒙'), ("LN", '辽'), ("JL", '吉'),
    ("HL", '黑'), ("HU", '沪'), ("SH", '沪'), ("SU", '苏'), ("JS", '苏'), ("ZJ", '浙'), ("AH", '皖'),
    ("FJ", '闽'), ("JX", '赣'), ("LU", '鲁'), ("SD", '鲁'), ("HA", '豫'), ("HB", '鄂'), ("HN", '湘'),
    ("GD", '粤'), ("GX", '桂'), ("HI", '琼'), ("CQ", '渝'), ("SC", '川'), ("GZ", '贵'), ("YN", '云'),
    ("XZ", '藏'), ("SN", '陕'), ("GS", '甘'), ("QH", '青'), ("NX", '宁'), ("XJ", '新'),
];

/// `_SERIAL.fullmatch`: `[A-Z][A-Z0-9]{5,6}`.
fn is_serial(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() == 6 || b.len() == 7)
        && b[0].is_ascii_uppercase()
        && b[1..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// `core.normalize.plate` on folded text: separators dropped, upper case, a Latin province
/// abbreviation (`ZHE A 00001`) as its character, O and I after the city letter as 0 and 1.
fn norm_plate(v: &str) -> String {
    let mut canon = v
        .chars()
        .filter(|&c| !(py_space(c)
                       || matches!(c, '·' | '•' | '・' | '‧' | '∙' | '⋅' | '.' | '-' | '_' | '/'
                                     | '—' | '–' | '|')))
        .collect::<String>()
        .to_uppercase();
    if canon.chars().next().is_some_and(|c| c.is_ascii()) {
        for (latin, province) in LATIN_PROVINCES {
            if let Some(rest) = canon.strip_prefix(latin) {
                if is_serial(rest) {
                    canon = format!("{province}{rest}");
                    break;
                }
            }
        }
    }
    let n = canon.chars().count();
    let mut chars = canon.chars();
    if let Some(first) = chars.next() {
        let rest: String = chars.collect();
        if (canon.contains('O') || canon.contains('I')) && (n == 7 || n == 8) && !first.is_ascii()
            && is_serial(&rest)
        {
            let (city, serial) = rest.split_at(1);
            canon = format!("{first}{city}{}", serial.replace('O', "0").replace('I', "1"));
        }
    }
    canon
}

fn norm_id(v: &str) -> String {
    v.chars().filter(|&c| !is_space(c)).collect::<String>().to_uppercase()
}

fn squeeze_spaces(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut in_space = false;
    for c in v.chars() {
        if is_space(c) {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

fn normalise(norm: Norm, v: &str, ext: &regex::Regex) -> String {
    match norm {
        Norm::None => v.to_string(),
        Norm::Phone => norm_phone(v, ext),
        Norm::Plate => norm_plate(v),
        Norm::IdNumber | Norm::Code => norm_id(v),
        Norm::Text => squeeze_spaces(v).to_lowercase(),
        Norm::Name => {
            let s = squeeze_spaces(v);
            if s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
                s.replace(' ', "")
            } else {
                s
            }
        }
    }
}

impl Patterns {
    fn identifier_forms(&self, folded: &str) -> Vec<String> {
        let mut out = Vec::new();
        let p = norm_plate(folded);
        if self.plate.is_match(&p) {
            out.push(p);
        }
        if self.phone_raw.is_match(folded) {
            let ph = norm_phone(folded, &self.phone_ext);
            if self.mobile.is_match(&ph) || self.landline.is_match(&ph) {
                out.push(ph);
            }
        }
        let i = norm_id(folded);
        if self.id.is_match(&i) && !out.contains(&i) {
            out.push(i);
        }
        out
    }

    fn identifiers_in_text(&self, text: &str, found: &mut BTreeSet<String>) -> Res<()> {
        if !text.bytes().any(|b| b.is_ascii_digit()) {
            return Ok(());
        }
        if self.may_plate.is_match(text) {
            for m in self.plate_in_text.find_iter(text) {
                let p = norm_plate(m.map_err(|_| Decline)?.as_str());
                if self.plate.is_match(&p) {
                    found.insert(p);
                }
            }
        }
        if self.may_phone.is_match(text) {
            for m in self.phone_in_text.find_iter(text) {
                found.insert(norm_phone(m.map_err(|_| Decline)?.as_str(), &self.phone_ext));
            }
        }
        if self.may_id.is_match(text) {
            for m in self.id_in_text.find_iter(text) {
                found.insert(norm_id(m.map_err(|_| Decline)?.as_str()));
            }
        }
        Ok(())
    }

    /// Space-joined lower-cased tokens, and the runs of two or more adjacent Han tokens.
    fn analyse(&self, folded: &str) -> (String, Vec<String>) {
        let mut tokens = String::with_capacity(folded.len() * 2);
        let mut runs = Vec::new();
        let mut run = String::new();
        let mut run_len = 0;
        for (start, end, han) in Tokens::new(folded) {
            if !tokens.is_empty() {
                tokens.push(' ');
            }
            let t = &folded[start..end];
            if han {
                tokens.push_str(t);
                run.push_str(t);
                run_len += 1;
            } else {
                if t.is_ascii() {
                    tokens.extend(t.chars().map(|c| c.to_ascii_lowercase()));
                } else {
                    tokens.push_str(&t.to_lowercase());
                }
                if run_len >= 2 {
                    runs.push(std::mem::take(&mut run));
                }
                run.clear();
                run_len = 0;
            }
        }
        if run_len >= 2 {
            runs.push(run);
        }
        (tokens, runs)
    }
}

/// The tokens of folded, supported text: `analysis._TOKEN` (a Han character, or a run of
/// letter words joined by `. ' ’ :` and number words joined by `. , ; ' ’`), as (start, end,
/// is Han). A greedy scan equals the regex's leftmost-first match: nothing follows its loop.
struct Tokens<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        Tokens { text, pos: 0 }
    }
}

fn is_let(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || is_latin_letter(c)
}

impl Iterator for Tokens<'_> {
    type Item = (usize, usize, bool);

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.text;
        loop {
            let c = text[self.pos..].chars().next()?;
            let start = self.pos;
            if is_han(c) {
                self.pos += c.len_utf8();
                return Some((start, self.pos, true));
            }
            if !(is_let(c) || c.is_ascii_digit()) {
                self.pos += c.len_utf8();
                continue;
            }
            let mut i = start;
            loop {
                let Some(c) = text[i..].chars().next() else { break };
                let (word, seps): (fn(char) -> bool, &[char]) = if is_let(c) {
                    (is_let, &['.', '\'', '\u{2019}', ':'])
                } else if c.is_ascii_digit() {
                    (|c: char| c.is_ascii_digit(), &['.', ',', ';', '\'', '\u{2019}'])
                } else {
                    break;
                };
                i += text[i..].find(|c: char| !word(c)).unwrap_or(text.len() - i);
                loop {
                    let mut it = text[i..].chars();
                    match (it.next(), it.next()) {
                        (Some(sep), Some(next)) if seps.contains(&sep) && word(next) => {
                            i += sep.len_utf8();
                            i += text[i..].find(|c: char| !word(c)).unwrap_or(text.len() - i);
                        }
                        _ => break,
                    }
                }
            }
            self.pos = i;
            return Some((start, i, false));
        }
    }
}

// -- JSON ----------------------------------------------------------------------------------------

fn jstr(buf: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *buf, s).expect("writing to a Vec cannot fail");
}

fn jstrs<S: AsRef<str>>(buf: &mut Vec<u8>, items: &[S]) {
    buf.push(b'[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        jstr(buf, s.as_ref());
    }
    buf.push(b']');
}

/// A JSON object of `(name, value)` pairs, in order.
fn jobject<T>(buf: &mut Vec<u8>, items: &[(String, T)], value: impl Fn(&mut Vec<u8>, &T)) {
    buf.push(b'{');
    for (i, (name, v)) in items.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        jstr(buf, name);
        buf.push(b':');
        value(buf, v);
    }
    buf.push(b'}');
}

fn jfloat(buf: &mut Vec<u8>, f: f64) {
    serde_json::to_writer(&mut *buf, &f).expect("writing to a Vec cannot fail");
}

fn key(buf: &mut Vec<u8>, k: &str) {
    buf.push(b',');
    jstr(buf, k);
    buf.push(b':');
}

/// `datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()` for years 1..=9999.
fn rfc3339(ms: i64) -> Res<String> {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // civil-from-days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    if !(1..=9999).contains(&y) {
        return Err(Decline);
    }
    let frac = if milli > 0 { format!(".{:06}", milli * 1000) } else { String::new() };
    Ok(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{frac}+00:00",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    ))
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `YYYY-MM-DD` of a day count since 1970-01-01 (Howard Hinnant).
fn civil_day(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The workspace time zone's UTC offsets over a range of instants
/// (`core.timezones.offset_table`): `(lo, hi, [(start, offset seconds), ...])`, epoch seconds.
struct ZoneTable {
    lo: i64,
    hi: i64,
    spans: Vec<(i64, i64)>,
}

impl ZoneTable {
    /// The UTC offset at `secs`, or None outside the table's range.
    fn offset(&self, secs: i64) -> Option<i64> {
        if secs < self.lo || secs >= self.hi {
            return None;
        }
        let i = self.spans.partition_point(|&(start, _)| start <= secs);
        if i == 0 {
            return None;
        }
        Some(self.spans[i - 1].1)
    }
}

/// `search.document.record_time` and `isoformat()` of a plain naive datetime (China Standard
/// Time, as `core.model.to_utc` reads it), with Python's float steps (`int(timestamp() *
/// 1000)`), its day in the workspace's zone; None for anything else (or out of the table).
fn naive_time_parts(t: &Bound<'_, PyAny>, zone: &ZoneTable) -> Option<(i64, String, String)> {
    let dt = t.downcast_exact::<PyDateTime>().ok()?;
    if dt.get_tzinfo().is_some() {
        return None;
    }
    let (y, m, d) = (i64::from(dt.get_year()), i64::from(dt.get_month()), i64::from(dt.get_day()));
    let (hh, mm, ss) = (i64::from(dt.get_hour()), i64::from(dt.get_minute()),
                        i64::from(dt.get_second()));
    let us = i64::from(dt.get_microsecond());
    let secs = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss - 8 * 3600;
    let total_us = secs * 1_000_000 + us;
    if total_us.unsigned_abs() >= 1 << 53 {
        return None; // the float steps would no longer be exact here
    }
    let offset = zone.offset(secs)?;
    let ts = total_us as f64 / 1e6; // timedelta.total_seconds(): correctly rounded
    let ms = (ts * 1000.0).trunc() as i64;
    let day = civil_day((secs + offset).div_euclid(86_400));
    let frac = if us != 0 { format!(".{us:06}") } else { String::new() };
    let iso = format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}{frac}");
    Some((ms, day, iso))
}

fn uid_hash(uid: &str) -> u64 {
    let mut h = blake2::Blake2bVar::new(8).expect("8 is a valid BLAKE2b output size");
    h.update(uid.as_bytes());
    let mut out = [0u8; 8];
    h.finalize_variable(&mut out).expect("the output size was set to 8");
    u64::from_be_bytes(out)
}

// -- the builder -----------------------------------------------------------------------------------

const TEXT: u8 = 1;
const KEYWORD: u8 = 2;
const IDENTIFIER: u8 = 3;
const NUMBER: u8 = 4;
const TIME: u8 = 5;
const SKIP: u8 = 6;

#[derive(Clone, Copy)]
struct Plan {
    role: u8,
    declared_text: bool,
    norm: Norm,
    detect_forms: bool,
}

/// Builds tantivy JSON for records of one field registry and one index layout.
///
/// Parameters (all from `search/embedded_docs.py`): `resolve(type, name)` gives a field's plan
/// as `(role name, declared_text, normalizer name, detect_forms)` or None (undeclared); `typed(space,
/// name)` gives the tantivy field of `space.name` or None; `time_parts(dt)` gives a record
/// time's `(epoch ms, local day, isoformat)`; `time_value(v)` a TIME field value's epoch ms or
/// None; `fields` the tantivy field names of the layout; `zone` the workspace time zone's
/// offsets (`core.timezones.offset_table`), with which naive record times are converted here
/// (without it, or outside its range, `time_parts` converts them).

/// Records built between two moments the GIL is let go (see ``build_es``).
const YIELD_EVERY: usize = 64;
#[pyclass(module = "search._native")]
struct DocBuilder {
    resolve: PyObject,
    typed: PyObject,
    time_parts: PyObject,
    time_value: PyObject,
    zone: Option<ZoneTable>,
    fields: HashSet<String>,
    plans: HashMap<String, HashMap<String, Option<Plan>>>,
    typed_cache: [HashMap<String, Slot>; 4],
    claimed: [HashMap<String, String>; 4],
    re: Patterns,
    declined: u64,
}

enum Slot {
    Field(String),
    Absent,
    Ambiguous,
}

struct Doc {
    all_text: Vec<String>,
    text: Vec<(String, String)>,
    keywords: Vec<(String, Vec<String>)>,
    numbers: Vec<(String, f64)>,
    dates: Vec<(String, i64)>,
    ids: BTreeSet<String>,
}

/// A record taken apart once: what :meth:`DocBuilder.build` (tantivy) and
/// :meth:`DocBuilder.build_es` (Elasticsearch) write out.
struct Collected {
    uid: String,
    source: String,
    rtype: String,
    doc: Doc,
    entity_ids: Vec<String>,
    title: String,
    src_text: Vec<(String, String)>,
    time_ms: Option<i64>,
    day: Option<String>,
    time_iso: Option<String>,
    geo: Option<(f64, f64)>,
    all_values: Vec<String>,
}

fn push_keyword(kw: &mut Vec<(String, Vec<String>)>, name: &str, values: impl IntoIterator<Item = String>) {
    if let Some((_, v)) = kw.iter_mut().find(|(n, _)| n == name) {
        v.extend(values);
    } else {
        kw.push((name.to_string(), values.into_iter().collect()));
    }
}

fn set_last<T>(items: &mut Vec<(String, T)>, name: &str, value: T) {
    if let Some((_, v)) = items.iter_mut().find(|(n, _)| n == name) {
        *v = value;
    } else {
        items.push((name.to_string(), value));
    }
}

fn dedup(values: Vec<String>) -> Vec<String> {
    if values.len() < 2 {
        return values;
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    if values.len() <= 16 {
        for v in values {
            if !out.contains(&v) {
                out.push(v);
            }
        }
        return out;
    }
    let mut seen = HashSet::with_capacity(values.len());
    for v in values {
        if seen.insert(v.clone()) {
            out.push(v);
        }
    }
    out
}

/// `str(v)`.
fn py_str(v: &Bound<'_, PyAny>) -> Res<String> {
    match v.downcast_exact::<PyString>() {
        Ok(s) => Ok(s.to_str()?.to_string()),
        Err(_) => Ok(v.str()?.to_str()?.to_string()),
    }
}

/// `v` if it is a plain str (a subclass may print differently: declined).
fn exact_str<'a, 'py>(v: &'a Bound<'py, PyAny>) -> Res<&'a Bound<'py, PyString>> {
    v.downcast_exact::<PyString>().map_err(|_| Decline)
}

impl DocBuilder {
    fn plan(&mut self, py: Python<'_>, rtype: &str, name: &str) -> Res<Option<Plan>> {
        if let Some(p) = self.plans.get(rtype).and_then(|m| m.get(name)) {
            return Ok(*p);
        }
        let got = self.resolve.bind(py).call1((rtype, name))?;
        let plan = if got.is_none() {
            None
        } else {
            let t = got.downcast::<PyTuple>().map_err(|_| Decline)?;
            let role_name: String = t.get_item(0)?.extract()?;
            let role = match role_name.as_str() {
                "text" => TEXT,
                "keyword" => KEYWORD,
                "identifier" => IDENTIFIER,
                "number" => NUMBER,
                "time" => TIME,
                "geo" | "photo" => SKIP,
                _ => return Err(Decline), // a role this module does not know
            };
            let declared_text: bool = t.get_item(1)?.extract()?;
            let norm_name: Option<String> = t.get_item(2)?.extract()?;
            let detect_forms: bool = t.get_item(3)?.extract()?;
            let norm = match norm_name.as_deref() {
                None => Norm::None,
                Some("phone") => Norm::Phone,
                Some("plate") => Norm::Plate,
                Some("id_number") => Norm::IdNumber,
                Some("text") => Norm::Text,
                Some("code") => Norm::Code,
                Some("name") => Norm::Name,
                Some(_) => return Err(Decline), // a normaliser this module does not know
            };
            Some(Plan { role, declared_text, norm, detect_forms })
        };
        self.plans.entry(rtype.to_string()).or_default().insert(name.to_string(), plan);
        Ok(plan)
    }

    fn typed(&mut self, py: Python<'_>, space: usize, name: &str) -> Res<Option<String>> {
        match self.typed_cache[space].get(name) {
            Some(Slot::Field(f)) => return Ok(Some(f.clone())),
            Some(Slot::Absent) => return Ok(None),
            Some(Slot::Ambiguous) => return Err(Decline),
            None => {}
        }
        let label = ["t", "k", "n", "d"][space];
        let got: Option<String> = self.typed.bind(py).call1((label, name))?.extract()?;
        let slot = match &got {
            None => Slot::Absent,
            Some(f) => match self.claimed[space].get(f) {
                // Two names, one tantivy field (``a.b`` and ``a_b``): in Python the last value
                // wins, in JSON both would be indexed. Such records go to Python.
                Some(other) if other != name => {
                    let other = other.clone();
                    self.typed_cache[space].insert(other, Slot::Ambiguous);
                    Slot::Ambiguous
                }
                _ => {
                    self.claimed[space].insert(f.clone(), name.to_string());
                    Slot::Field(f.clone())
                }
            },
        };
        let ambiguous = matches!(slot, Slot::Ambiguous);
        self.typed_cache[space].insert(name.to_string(), slot);
        if ambiguous {
            return Err(Decline);
        }
        Ok(got)
    }

    fn identifier_values(&self, raw: &str, plan: &Plan) -> Res<Vec<String>> {
        let f = folded(raw)?;
        let mut out: Vec<String> = Vec::new();
        if !f.is_empty() {
            out.push(f.clone());
        }
        if plan.norm != Norm::None {
            let canonical = normalise(plan.norm, &f, &self.re.phone_ext);
            if !canonical.is_empty() && !out.contains(&canonical) {
                out.push(canonical);
            }
        }
        if plan.detect_forms {
            for v in self.re.identifier_forms(&f) {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        Ok(out)
    }

    fn add_value(&mut self, py: Python<'_>, doc: &mut Doc, name: &str, plan: &Plan,
                 v: &Bound<'_, PyAny>) -> Res<()> {
        match plan.role {
            TEXT => {
                let f = folded(&py_str(v)?)?;
                if let Some((_, t)) = doc.text.iter_mut().find(|(n, _)| n == name) {
                    t.push('\n');
                    t.push_str(&f);
                } else {
                    doc.text.push((name.to_string(), f.clone()));
                }
                self.re.identifiers_in_text(&f, &mut doc.ids)?;
                if !plan.declared_text {
                    doc.all_text.push(f);
                }
            }
            NUMBER => {
                if v.is_instance_of::<PyBool>() {
                    return Ok(());
                }
                if v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>() {
                    let n: f64 = v.extract()?;
                    set_last(&mut doc.numbers, name, n);
                } else if v.is_instance_of::<PyString>() {
                    return Err(Decline); // float(str) rules are Python's
                }
            }
            TIME => {
                let ms: Option<i64> = self.time_value.bind(py).call1((v,))?.extract()?;
                if let Some(ms) = ms {
                    set_last(&mut doc.dates, name, ms);
                }
            }
            SKIP => {}
            IDENTIFIER => {
                let forms = self.identifier_values(&py_str(v)?, plan)?;
                if !forms.is_empty() {
                    doc.all_text.push(forms[0].clone());
                    doc.ids.extend(forms.iter().cloned());
                    push_keyword(&mut doc.keywords, name, forms);
                }
            }
            KEYWORD => {
                let f = folded(&py_str(v)?)?;
                push_keyword(&mut doc.keywords, name, [f.clone()]);
                doc.all_text.push(f);
            }
            _ => return Err(Decline),
        }
        Ok(())
    }

    /// What a record's documents are made of (both formats): everything but the layout.
    fn collect(&mut self, py: Python<'_>, record: &Bound<'_, PyAny>) -> Res<Collected> {
        let source_o = record.getattr(intern!(py, "source"))?;
        let source = exact_str(&source_o)?.to_str()?;
        let id_o = record.getattr(intern!(py, "id"))?;
        let rid = exact_str(&id_o)?.to_str()?;
        let type_o = record.getattr(intern!(py, "type"))?;
        let rtype = exact_str(&type_o)?.to_str()?.to_string();
        let uid = format!("{source}:{rid}");
        let text_o = record.getattr(intern!(py, "text"))?;
        let text_d = text_o.downcast::<PyDict>().map_err(|_| Decline)?;
        let fields_o = record.getattr(intern!(py, "fields"))?;
        let fields_d = fields_o.downcast::<PyDict>().map_err(|_| Decline)?;

        let mut doc = Doc {
            all_text: Vec::new(),
            text: Vec::new(),
            keywords: Vec::new(),
            numbers: Vec::new(),
            dates: Vec::new(),
            ids: BTreeSet::new(),
        };
        let mut src_text: Vec<(String, String)> = Vec::with_capacity(text_d.len());
        let mut title: Option<String> = None;
        for (k, v) in text_d.iter() {
            let name = exact_str(&k)?.to_str()?.to_string();
            let raw = exact_str(&v)?.to_str()?.to_string();
            if !raw.is_empty() {
                if title.is_none() {
                    let n = raw.chars().count();
                    title = Some(if n <= 80 {
                        raw.clone()
                    } else {
                        raw.chars().take(79).chain(std::iter::once('…')).collect()
                    });
                }
                let f = folded(&raw)?;
                let plan = self.plan(py, &rtype, &name)?;
                let declared_text = plan.map(|p| p.declared_text).unwrap_or(false);
                self.re.identifiers_in_text(&f, &mut doc.ids)?;
                if !declared_text {
                    doc.all_text.push(f.clone());
                }
                set_last(&mut doc.text, &name, f);
            }
            src_text.push((name, raw));
        }
        let title = title.unwrap_or_else(|| format!("{rtype} {rid}"));

        for (k, value) in fields_d.iter() {
            let name = exact_str(&k)?.to_str()?.to_string();
            let plan = match self.plan(py, &rtype, &name)? {
                Some(p) => p,
                None => return Err(Decline), // undeclared: its role depends on each value
            };
            if value.is_none() {
                continue;
            }
            if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>()
                || value.is_instance_of::<PySet>()
            {
                for v in value.try_iter()? {
                    let v = v?;
                    if v.is_none() {
                        continue;
                    }
                    if let Ok(s) = v.downcast::<PyString>() {
                        if s.to_str()?.is_empty() {
                            continue;
                        }
                    }
                    self.add_value(py, &mut doc, &name, &plan, &v)?;
                }
            } else {
                if let Ok(s) = value.downcast::<PyString>() {
                    if s.to_str()?.is_empty() {
                        continue;
                    }
                }
                self.add_value(py, &mut doc, &name, &plan, &value)?;
            }
        }

        let mut entity_ids: Vec<String> = Vec::new();
        for e in record.getattr(intern!(py, "entities"))?.try_iter()? {
            let e = e?;
            let eid = e.getattr(intern!(py, "id"))?;
            entity_ids.push(exact_str(&eid)?.to_str()?.to_string());
            let ekey = e.getattr(intern!(py, "key"))?;
            doc.ids.insert(exact_str(&ekey)?.to_str()?.to_string());
            let label_o = e.getattr(intern!(py, "label"))?;
            let label = exact_str(&label_o)?.to_str()?;
            if !label.is_empty() {
                doc.all_text.push(folded(label)?);
            }
        }

        // record time and point
        let time_o = record.getattr(intern!(py, "time"))?;
        let (time_ms, day, time_iso): (Option<i64>, Option<String>, Option<String>) =
            if time_o.is_none() {
                (None, None, None)
            } else if let Some((ms, day, iso)) =
                self.zone.as_ref().and_then(|z| naive_time_parts(&time_o, z))
            {
                (Some(ms), Some(day), Some(iso))
            } else {
                let (ms, day, iso): (i64, String, String) =
                    self.time_parts.bind(py).call1((&time_o,))?.extract()?;
                (Some(ms), Some(day), Some(iso))
            };
        let geo_o = record.getattr(intern!(py, "geo"))?;
        let geo: Option<(f64, f64)> = if geo_o.is_truthy()? {
            Some((geo_o.get_item(0)?.extract()?, geo_o.get_item(1)?.extract()?))
        } else {
            None
        };

        let all_values = dedup(std::mem::take(&mut doc.all_text));
        Ok(Collected { uid, source: source.to_string(), rtype, doc, entity_ids, title, src_text,
                       time_ms, day, time_iso, geo, all_values })
    }

    fn build_one(&mut self, py: Python<'_>, record: &Bound<'_, PyAny>) -> Res<String> {
        let Collected { uid, source, rtype, mut doc, entity_ids, title, src_text, time_ms, day,
                        time_iso, geo, all_values } = self.collect(py, record)?;
        let source = source.as_str();
        let ids: Vec<&String> = doc.ids.iter().collect();

        // -- tantivy JSON
        let mut out: Vec<u8> = Vec::with_capacity(1024);
        write!(out, "{{\"h\":{}", uid_hash(&uid)).expect("Vec");
        key(&mut out, "ids");
        jstrs(&mut out, &ids);
        key(&mut out, "ent");
        jstrs(&mut out, &entity_ids);
        self.analysed(&mut out, "all", &all_values)?;
        for (name, value) in &doc.text {
            if let Some(f) = self.typed(py, 0, name)? {
                self.analysed(&mut out, &f, std::slice::from_ref(value))?;
            }
        }
        for (name, value) in [("uid", Some(&uid)), ("source", Some(&source.to_string())),
                              ("type", Some(&rtype)), ("day", day.as_ref())] {
            if let Some(v) = value {
                if !v.is_empty() {
                    key(&mut out, name);
                    jstr(&mut out, v);
                }
            }
        }
        let mut extra: Vec<(String, Vec<String>)> = Vec::new();
        for (name, values) in std::mem::take(&mut doc.keywords) {
            let values = dedup(values);
            match self.typed(py, 1, &name)? {
                Some(f) => {
                    key(&mut out, &f);
                    jstrs(&mut out, &values);
                }
                None => extra.push((name, values)),
            }
        }
        if !extra.is_empty() {
            key(&mut out, "kx");
            jobject(&mut out, &extra, |buf, values| jstrs(buf, values));
        }
        for (name, value) in &doc.numbers {
            if let Some(f) = self.typed(py, 2, name)? {
                if value.is_finite() {
                    key(&mut out, &f);
                    jfloat(&mut out, *value);
                }
            }
        }
        for (name, ms) in &doc.dates {
            if let Some(f) = self.typed(py, 3, name)? {
                key(&mut out, &f);
                jstr(&mut out, &rfc3339(*ms)?);
            }
        }
        if let Some(ms) = time_ms {
            key(&mut out, "time");
            jstr(&mut out, &rfc3339(ms)?);
        }
        if let Some((lat, lon)) = geo {
            if lat.is_finite() && lon.is_finite() {
                key(&mut out, "lat");
                jfloat(&mut out, lat);
                key(&mut out, "lon");
                jfloat(&mut out, lon);
            }
        }

        // -- the stored source: title, original text, time, searched values, point, epoch ms
        let mut src: Vec<u8> = Vec::with_capacity(512);
        src.extend_from_slice(b"{\"title\":");
        jstr(&mut src, &title);
        src.extend_from_slice(b",\"text\":");
        jobject(&mut src, &src_text, |buf, raw| jstr(buf, raw));
        src.extend_from_slice(b",\"time\":");
        match &time_iso {
            Some(iso) => jstr(&mut src, iso),
            None => src.extend_from_slice(b"null"),
        }
        src.extend_from_slice(b",\"all\":");
        let text_vals: Vec<&String> = doc.text.iter().map(|(_, v)| v).collect();
        let seen: HashSet<&str> = text_vals.iter().map(|s| s.as_str()).collect();
        let mut searched: Vec<&str> = text_vals.iter().map(|s| s.as_str()).collect();
        searched.extend(all_values.iter().map(|s| s.as_str()).filter(|v| !seen.contains(v)));
        jstrs(&mut src, &searched);
        src.extend_from_slice(b",\"geo\":");
        match geo {
            Some((lat, lon)) => {
                src.push(b'[');
                jfloat(&mut src, lat);
                src.push(b',');
                jfloat(&mut src, lon);
                src.push(b']');
            }
            None => src.extend_from_slice(b"null"),
        }
        src.extend_from_slice(b",\"ms\":");
        match time_ms {
            Some(ms) => write!(src, "{ms}").expect("Vec"),
            None => src.extend_from_slice(b"null"),
        }
        src.push(b'}');
        key(&mut out, "src");
        out.push(b'"'); // base64 needs no JSON escaping
        let mut b64 = String::with_capacity(src.len() * 4 / 3 + 4);
        base64::engine::general_purpose::STANDARD.encode_string(&src, &mut b64);
        out.extend_from_slice(b64.as_bytes());
        out.push(b'"');
        out.push(b'}');
        String::from_utf8(out).map_err(|_| Decline)
    }

    /// The Elasticsearch document of a record: ``search.elastic._es_doc(build_doc(record))``
    /// as JSON (Elasticsearch analyses the folded text itself, so nothing is tokenized here).
    /// Also returns where the uid's JSON string ends (it starts at byte 7).
    fn build_es_one(&mut self, py: Python<'_>, record: &Bound<'_, PyAny>) -> Res<(Vec<u8>, usize)> {
        let c = self.collect(py, record)?;
        let mut out: Vec<u8> = Vec::with_capacity(1024);
        out.extend_from_slice(b"{\"uid\":");
        jstr(&mut out, &c.uid);
        let uid_end = out.len();
        key(&mut out, "source");
        jstr(&mut out, &c.source);
        key(&mut out, "type");
        jstr(&mut out, &c.rtype);
        if let Some(ms) = c.time_ms {
            key(&mut out, "time");
            write!(out, "{ms}").expect("Vec");
        }
        if let Some(day) = &c.day {
            key(&mut out, "day");
            jstr(&mut out, day);
        }
        if let Some((lat, lon)) = c.geo {
            if !(lat.is_finite() && lon.is_finite()) {
                return Err(Decline); // Python sends it and the cluster names the failure
            }
            key(&mut out, "geo");
            out.extend_from_slice(b"{\"lat\":");
            jfloat(&mut out, lat);
            out.extend_from_slice(b",\"lon\":");
            jfloat(&mut out, lon);
            out.push(b'}');
        }
        key(&mut out, "all");
        jstrs(&mut out, &c.all_values);
        key(&mut out, "t");
        jobject(&mut out, &c.doc.text, |buf, v| jstr(buf, v));
        let keywords: Vec<(String, Vec<String>)> = c.doc.keywords.iter()
            .map(|(n, v)| (n.clone(), dedup(v.clone()))).collect();
        key(&mut out, "k");
        jobject(&mut out, &keywords, |buf, v| jstrs(buf, v));
        if c.doc.numbers.iter().any(|(_, v)| !v.is_finite()) {
            return Err(Decline);
        }
        key(&mut out, "n");
        jobject(&mut out, &c.doc.numbers, |buf, v| jfloat(buf, *v));
        key(&mut out, "d");
        jobject(&mut out, &c.doc.dates, |buf, v| {
            write!(buf, "{v}").expect("Vec");
        });
        let ids: Vec<&String> = c.doc.ids.iter().collect();
        key(&mut out, "ids");
        jstrs(&mut out, &ids);
        key(&mut out, "ent");
        jstrs(&mut out, &c.entity_ids);
        key(&mut out, "src");
        out.extend_from_slice(b"{\"title\":");
        jstr(&mut out, &c.title);
        out.extend_from_slice(b",\"text\":");
        jobject(&mut out, &c.src_text, |buf, raw| jstr(buf, raw));
        out.extend_from_slice(b",\"time\":");
        match &c.time_iso {
            Some(iso) => jstr(&mut out, iso),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b"}}");
        Ok((out, uid_end))
    }

    fn analysed(&self, out: &mut Vec<u8>, field: &str, values: &[String]) -> Res<()> {
        let mut tokens: Vec<String> = Vec::with_capacity(values.len());
        let mut runs: Vec<String> = Vec::new();
        for v in values {
            let (t, r) = self.re.analyse(v);
            tokens.push(t);
            runs.extend(r);
        }
        key(out, field);
        jstrs(out, &tokens);
        let twin = format!("g_{field}");
        if !runs.is_empty() && self.fields.contains(&twin) {
            key(out, &twin);
            jstrs(out, &runs);
        }
        Ok(())
    }
}

#[pymethods]
impl DocBuilder {
    #[new]
    #[pyo3(signature = (resolve, typed, time_parts, time_value, fields, zone=None))]
    fn new(resolve: PyObject, typed: PyObject, time_parts: PyObject, time_value: PyObject,
           fields: Vec<String>, zone: Option<(i64, i64, Vec<(i64, i64)>)>) -> Self {
        DocBuilder {
            resolve,
            typed,
            time_parts,
            time_value,
            zone: zone.map(|(lo, hi, spans)| ZoneTable { lo, hi, spans }),
            fields: fields.into_iter().collect(),
            plans: HashMap::new(),
            typed_cache: Default::default(),
            claimed: Default::default(),
            re: Patterns::new(),
            declined: 0,
        }
    }

    /// Tantivy JSON of each record, or None where the Python builder must do it.
    fn build(&mut self, py: Python<'_>, records: &Bound<'_, PyAny>) -> PyResult<Vec<Option<String>>> {
        let mut out = Vec::new();
        for r in records.try_iter()? {
            let r = r?;
            match self.build_one(py, &r) {
                Ok(doc) => out.push(Some(doc)),
                Err(Decline) => {
                    self.declined += 1;
                    out.push(None);
                }
            }
        }
        Ok(out)
    }

    /// Elasticsearch bulk NDJSON for the records (the GIL is let go every ``YIELD_EVERY``): ``(body, built)`` where ``body`` holds an
    /// ``index`` action (into ``index_of[record.type]``) and the document of every record this
    /// builder took, and ``built[i]`` says whether record ``i`` is in it (the caller builds the
    /// others in Python).
    fn build_es(&mut self, py: Python<'_>, records: &Bound<'_, PyAny>,
                index_of: &Bound<'_, PyDict>) -> PyResult<(Py<pyo3::types::PyBytes>, Vec<bool>)> {
        let mut body: Vec<u8> = Vec::with_capacity(1 << 16);
        let mut built = Vec::new();
        for (i, r) in records.try_iter()?.enumerate() {
            if i % YIELD_EVERY == YIELD_EVERY - 1 {
                // Let the threads sending earlier bodies take the GIL now: a whole request's
                // worth of records holds it for ~7 ms, and a sender that cannot read its
                // response or start its next request in that time leaves the cluster idle.
                py.allow_threads(|| ());
            }
            let r = r?;
            let mark = body.len();
            let ok = (|| -> Res<()> {
                let rtype_o = r.getattr(intern!(py, "type"))?;
                let index_o = index_of.get_item(rtype_o)?.ok_or(Decline)?;
                let index = exact_str(&index_o)?.to_str()?.to_string();
                let (doc, uid_end) = self.build_es_one(py, &r)?;
                body.extend_from_slice(b"{\"index\":{\"_index\":");
                jstr(&mut body, &index);
                // the document's uid is its _id (the Python path's action too)
                body.extend_from_slice(b",\"_id\":");
                body.extend_from_slice(&doc[7..uid_end]);
                body.extend_from_slice(b"}}\n");
                body.extend_from_slice(&doc);
                body.push(b'\n');
                Ok(())
            })();
            match ok {
                Ok(()) => built.push(true),
                Err(Decline) => {
                    body.truncate(mark);
                    self.declined += 1;
                    built.push(false);
                }
            }
        }
        Ok((pyo3::types::PyBytes::new(py, &body).unbind(), built))
    }

    /// Records declined so far.
    #[getter]
    fn declined(&self) -> u64 {
        self.declined
    }
}

/// :func:`core.normalize.fold` for the supported characters, None for other text (tests).
#[pyfunction]
#[pyo3(name = "fold")]
fn py_fold(text: &str) -> Option<String> {
    fold(text)
}

/// The 64-bit BLAKE2b hash of a uid (tests compare it with `embedded_docs.uid_hash`).
#[pyfunction]
#[pyo3(name = "uid_hash")]
fn py_uid_hash(uid: &str) -> u64 {
    uid_hash(uid)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<DocBuilder>()?;
    m.add_function(wrap_pyfunction!(py_fold, m)?)?;
    m.add_function(wrap_pyfunction!(py_uid_hash, m)?)?;
    m.add("VERSION", 1)?;
    Ok(())
}

//! Decoding pages into records that already exist, on the scanner's walk.
//!
//! A script that iterates typed records (the typed exports of tw-export's
//! `Client`) needs them one page after another, but building fresh ones
//! costs an allocation for every string and list of every record. [`decode_page_into`] walks the page with the one-pass
//! scanner and overwrites the records of the previous page in place: a
//! string is copied into the capacity it already has, a list reuses its
//! elements, so once the first pages have grown the buffers, decoding
//! allocates nothing but the unknown fields it keeps. It gives exactly the
//! records [`crate::decode_page`] gives (a property test holds the two
//! together, starting from records of another page); anything the walk is
//! not sure of goes to the serde decoders.

use crate::dataset::Dataset;
use crate::error::DecodeError;
use crate::page::Layout;
use crate::scan::{Scan, Unsure, Walk};

/// A value that can be decoded over an older value of its type, reusing
/// its allocations (generated for every model type; used through
/// [`decode_page_into`]).
#[doc(hidden)]
pub trait DecodeInto: Sized {
    /// Reads the next value of `walk` into `self`, replacing all of it.
    fn decode_into(&mut self, walk: &mut Walk<'_, '_>) -> Scan<()>;

    /// Reads the next value of `walk` as a new value.
    fn decode_new(walk: &mut Walk<'_, '_>) -> Scan<Self>;

    /// A value a list no longer needed, to decode over instead of building
    /// a new one (model objects keep up to `spares::MAX` per thread).
    fn take_spare() -> Option<Self> {
        None
    }

    /// Keeps a value a list no longer needs, for [`DecodeInto::take_spare`].
    fn keep_spare(self) {}
}

/// The text of the string at the walk (after its opening quote is
/// expected), borrowed when it has no escapes.
#[inline]
pub(crate) fn string_text<'a>(walk: &mut Walk<'a, '_>) -> Scan<std::borrow::Cow<'a, str>> {
    let (inner, escaped) = string_inner(walk)?;
    if escaped {
        let mut text = String::with_capacity(inner.len());
        unescape_into(&mut text, inner)?;
        Ok(std::borrow::Cow::Owned(text))
    } else {
        Ok(std::borrow::Cow::Borrowed(inner))
    }
}

/// The text between the quotes of the string at the walk, as sent, and
/// whether it holds escapes.
#[inline]
fn string_inner<'a>(walk: &mut Walk<'a, '_>) -> Scan<(&'a str, bool)> {
    let open = walk.i;
    walk.expect(b'"')?;
    let escaped = walk.string()?;
    // A slice of the page's text: no UTF-8 check per string.
    let text = walk.text;
    let inner = text.get(open + 1..walk.i - 1).ok_or(Unsure)?;
    Ok((inner, escaped))
}

/// Appends the text of `inner` (a string's text between its quotes, whose
/// escapes the walk has checked) with its escapes undone, as UTF-8 bytes.
pub(crate) fn push_unescaped(out: &mut Vec<u8>, inner: &str) {
    let start = out.len();
    if unescape_into_bytes(out, inner).is_err() {
        // Surrogate pairs: serde_json undoes them.
        out.truncate(start);
        let text: String = serde_json::from_str(&format!("\"{inner}\""))
            .expect("the walk checked the string's escapes");
        out.extend_from_slice(text.as_bytes());
    }
}

/// [`push_unescaped`] as a new string.
pub(crate) fn unescaped(inner: &str) -> String {
    let mut out = Vec::with_capacity(inner.len());
    push_unescaped(&mut out, inner);
    String::from_utf8(out).expect("unescaped text is UTF-8")
}

/// Appends the text of `inner` with its escapes undone; unsure of
/// surrogate pairs.
fn unescape_into_bytes(out: &mut Vec<u8>, inner: &str) -> Scan<()> {
    let mut rest = inner;
    while let Some(at) = rest.find('\\') {
        out.extend_from_slice(&rest.as_bytes()[..at]);
        let (c, next) = crate::scan::escape(rest.as_bytes(), at + 1)?;
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        rest = rest.get(next..).ok_or(Unsure)?;
    }
    out.extend_from_slice(rest.as_bytes());
    Ok(())
}

/// Appends the text of `inner` to a string (see [`unescape_into_bytes`]).
fn unescape_into(out: &mut String, inner: &str) -> Scan<()> {
    let mut bytes = std::mem::take(out).into_bytes();
    let result = unescape_into_bytes(&mut bytes, inner);
    *out = String::from_utf8(bytes).map_err(|_| Unsure)?;
    result
}

impl DecodeInto for String {
    #[inline]
    fn decode_into(&mut self, walk: &mut Walk<'_, '_>) -> Scan<()> {
        // Into the capacity the string has, escapes or not.
        let (inner, escaped) = string_inner(walk)?;
        self.clear();
        if escaped {
            unescape_into(self, inner)
        } else {
            self.push_str(inner);
            Ok(())
        }
    }

    fn decode_new(walk: &mut Walk<'_, '_>) -> Scan<Self> {
        string_text(walk).map(std::borrow::Cow::into_owned)
    }
}

impl DecodeInto for i64 {
    fn decode_new(walk: &mut Walk<'_, '_>) -> Scan<Self> {
        let mut value = 0;
        value.decode_into(walk)?;
        Ok(value)
    }

    fn decode_into(&mut self, walk: &mut Walk<'_, '_>) -> Scan<()> {
        let start = walk.i;
        walk.integer()?;
        let text = walk.text;
        *self = text
            .get(start..walk.i)
            .ok_or(Unsure)?
            .parse()
            .map_err(|_| Unsure)?;
        Ok(())
    }
}

impl DecodeInto for serde_json::Number {
    fn decode_new(walk: &mut Walk<'_, '_>) -> Scan<Self> {
        let mut value = serde_json::Number::from(0);
        value.decode_into(walk)?;
        Ok(value)
    }

    fn decode_into(&mut self, walk: &mut Walk<'_, '_>) -> Scan<()> {
        let start = walk.i;
        walk.number()?;
        // The same parser as typed decoding, on the number's text.
        *self = serde_json::from_slice(&walk.b[start..walk.i]).map_err(|_| Unsure)?;
        Ok(())
    }
}

impl DecodeInto for bool {
    fn decode_new(walk: &mut Walk<'_, '_>) -> Scan<Self> {
        let mut value = false;
        value.decode_into(walk)?;
        Ok(value)
    }

    fn decode_into(&mut self, walk: &mut Walk<'_, '_>) -> Scan<()> {
        *self = walk.peek() == Some(b't');
        walk.literal(if *self { b"true" } else { b"false" })
    }
}

impl<T: DecodeInto> DecodeInto for Option<T> {
    #[inline]
    fn decode_into(&mut self, walk: &mut Walk<'_, '_>) -> Scan<()> {
        if walk.peek() == Some(b'n') {
            *self = None;
            return walk.literal(b"null");
        }
        match self {
            Some(value) => value.decode_into(walk),
            None => {
                *self = Some(T::decode_new(walk)?);
                Ok(())
            }
        }
    }

    fn decode_new(walk: &mut Walk<'_, '_>) -> Scan<Self> {
        let mut value = None;
        value.decode_into(walk)?;
        Ok(value)
    }
}

impl<T: DecodeInto> DecodeInto for Vec<T> {
    fn decode_new(walk: &mut Walk<'_, '_>) -> Scan<Self> {
        let mut value = Vec::new();
        value.decode_into(walk)?;
        Ok(value)
    }

    fn decode_into(&mut self, walk: &mut Walk<'_, '_>) -> Scan<()> {
        let mut n = 0;
        walk.container(b'[', b']', |walk| {
            match self.get_mut(n) {
                Some(item) => item.decode_into(walk)?,
                None => self.push(match T::take_spare() {
                    Some(mut spare) => {
                        spare.decode_into(walk)?;
                        spare
                    }
                    None => T::decode_new(walk)?,
                }),
            }
            n += 1;
            Ok(())
        })?;
        while self.len() > n {
            if let Some(item) = self.pop() {
                item.keep_spare();
            }
        }
        Ok(())
    }
}

/// The value of an unknown field, kept as typed decoding keeps it (the
/// same seed, on the value's text).
pub(crate) fn extra_value(walk: &mut Walk<'_, '_>) -> Scan<serde_json::Value> {
    let start = walk.i;
    walk.any(0)?;
    extra_value_of(&walk.b[start..walk.i])
}

/// The value of an unknown field whose text is `text`, kept as typed
/// decoding keeps it.
pub(crate) fn extra_value_of(text: &[u8]) -> Scan<serde_json::Value> {
    use serde::de::DeserializeSeed as _;
    let mut de = serde_json::Deserializer::from_slice(text);
    crate::validate::Extra::kept()
        .deserialize(&mut de)
        .map_err(|_| Unsure)
}

/// Whether `text`, one JSON value that [`Walk::any`] accepted, is exactly
/// the compact JSON serde_json writes for the value typed decoding keeps
/// from it ([`extra_value_of`]), so that the text can stand for the value
/// wherever the value would be written: `true`, `false` and `null`; a
/// string without escapes (serde_json escapes only quotes, backslashes and
/// control characters, which a string without escapes cannot hold); an
/// integer of at most 18 digits (an `i64` or `u64` as written), not `-0`;
/// a decimal fraction without an exponent whose fraction ends in a digit
/// other than 0 or is `.0`, with at most 15 significant digits (so its
/// digits are the shortest that read back as its `f64`) and a magnitude of
/// zero or from 1e-5 to below 1e15 (where serde_json writes no exponent).
/// Anything else, objects and arrays included, is decoded.
pub(crate) fn reads_as_written(text: &[u8]) -> bool {
    match text {
        b"true" | b"false" | b"null" => return true,
        [b'"', inner @ .., b'"'] => return !inner.contains(&b'\\'),
        _ => {}
    }
    let unsigned = text.strip_prefix(b"-").unwrap_or(text);
    let (whole, fraction) = match unsigned.iter().position(|&b| b == b'.') {
        Some(dot) => (&unsigned[..dot], Some(&unsigned[dot + 1..])),
        None => (unsigned, None),
    };
    let digits = |part: &[u8]| !part.is_empty() && part.iter().all(u8::is_ascii_digit);
    // JSON allows no leading zero but in `0` itself.
    if !digits(whole) || (whole.len() > 1 && whole[0] == b'0') {
        return false;
    }
    let Some(fraction) = fraction else {
        // serde_json reads `-0` as a float and writes `-0.0`.
        let negative_zero = whole == b"0" && unsigned.len() < text.len();
        return whole.len() <= 18 && !negative_zero;
    };
    if !digits(fraction) || whole.len() > 15 {
        return false;
    }
    if fraction == b"0" {
        // A whole number (or zero) as a float: `3.0`, `-0.0`.
        return true;
    }
    if fraction.last() == Some(&b'0') {
        return false;
    }
    let significant = if whole == b"0" {
        let zeros = fraction.iter().take_while(|&&b| b == b'0').count();
        if zeros > 4 {
            return false;
        }
        fraction.len() - zeros
    } else {
        whole.len() + fraction.len()
    };
    significant <= 15
}

/// Decodes a response body of dataset `D` into `records`, reusing the
/// records it holds (from an earlier page) and their allocations; returns
/// `has_next` and the next cursor. The records are exactly
/// [`crate::decode_page`]'s, and so is the error.
///
/// ```
/// use tw_model::{SkillClusters, decode_page_into};
///
/// let mut records = Vec::new();
/// let body = br#"{"has_next":true,"next_starting_after":"e1","records":[{"external_id":"e1"}]}"#;
/// let (has_next, next) = decode_page_into::<SkillClusters>(body, &mut records)?;
/// assert!(has_next);
/// assert_eq!(next.as_deref(), Some("e1"));
/// assert_eq!(records[0].external_id, "e1");
///
/// // The next page overwrites the same records.
/// decode_page_into::<SkillClusters>(br#"{"has_next":false,"records":[{"external_id":"e2"}]}"#, &mut records)?;
/// assert_eq!(records.len(), 1);
/// assert_eq!(records[0].external_id, "e2");
/// # Ok::<(), tw_model::DecodeError>(())
/// ```
pub fn decode_page_into<D: Dataset>(
    body: &[u8],
    records: &mut Vec<D::Record>,
) -> Result<(bool, Option<String>), DecodeError> {
    // One UTF-8 check for the page; strings are slices of it.
    let text = std::str::from_utf8(body).unwrap_or_default();
    if let Some(envelope) = walk_page(body, text, Layout::of::<D>(), |walk| {
        <Vec<D::Record> as DecodeInto>::decode_into(records, walk)
    }) {
        return Ok(envelope);
    }
    let page = crate::decode::decode_page::<D>(body)?;
    *records = page.records;
    Ok((page.has_next, page.next_starting_after))
}

/// Walks a whole response body in `layout` (`text` is `body` checked to
/// be UTF-8, or empty), its records read by `records`: `has_next` and the
/// next cursor, or `None` when the walk is not sure (the serde decoders
/// then decide).
pub(crate) fn walk_page(
    body: &[u8],
    text: &str,
    layout: Layout,
    records: impl FnMut(&mut Walk<'_, '_>) -> Scan<()>,
) -> Option<(bool, Option<String>)> {
    let mut walk = Walk::new(body, None);
    walk.text = text;
    let mut envelope = None;
    walk.whole(|walk| {
        envelope = Some(walk.envelope(layout, records)?);
        Ok(())
    })
    .ok()?;
    envelope
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// `json` (one JSON string) decoded over a string that held text.
    fn decoded(json: &str) -> Scan<String> {
        let mut walk = Walk::new(json.as_bytes(), None);
        walk.text = json;
        let mut out = String::from("what the record held before");
        out.decode_into(&mut walk)?;
        Ok(out)
    }

    #[test]
    fn escapes_are_undone_as_serde_json_undoes_them() {
        for json in [
            r#""plain""#,
            r#""""#,
            r#""a\"b\\c\/d""#,
            r#""\b\f\n\r\t""#,
            r#""\u00e9\u0041\u20ac\uFFFD""#,
            r#""\u0000x\u001f""#,
            r#""ends with a backslash\\""#,
            r#""\\u0041 is not an escape""#,
        ] {
            let expected: String = serde_json::from_str(json).unwrap();
            assert_eq!(decoded(json).unwrap(), expected, "{json}");
        }
        // Surrogate pairs are left to serde_json (the walk is unsure).
        assert!(decoded(r#""\ud83d\ude00""#).is_err());
    }

    /// Every character escaped as `\uXXXX` (as a JSON writer that keeps to
    /// ASCII writes it), surrogate pairs for those outside the BMP.
    fn ascii_only(text: &str) -> String {
        let mut out = String::from("\"");
        for unit in text.encode_utf16() {
            out.push_str(&format!("\\u{unit:04x}"));
        }
        out.push('"');
        out
    }

    /// What typed decoding writes for the unknown value `text`.
    fn written(text: &str) -> String {
        serde_json::to_string(&extra_value_of(text.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn values_that_read_as_written_are_known_by_their_text() {
        for text in [
            "true",
            "null",
            r#""plain""#,
            r#""é ✓ /""#,
            "0",
            "-7",
            "123456789012345678",
            "0.5",
            "-12.25",
            "1.0",
            "-0.0",
            "0.00001",
            "0.000012345678901",
            "123456789012345.0",
            "12345678901234.5",
        ] {
            assert!(reads_as_written(text.as_bytes()), "{text}");
            assert_eq!(written(text), text);
        }
        for text in [
            "1.50",
            "1e5",
            "1.5E-3",
            "0.000001",
            "1234567890123456.0",
            "1.2345678901234567",
            "-0",
            "1234567890123456789",
            r#""a\/b""#,
            r#""\u00e9""#,
            "[1]",
            "{}",
        ] {
            assert!(!reads_as_written(text.as_bytes()), "{text}");
        }
    }

    /// JSON numbers written in many ways: as Rust prints floats (shortest,
    /// `Debug`, exponent, fixed precision), integers of any width, and
    /// decimals built digit by digit.
    fn number_texts() -> impl Strategy<Value = String> {
        let float = any::<f64>().prop_filter("finite", |x| x.is_finite());
        let small = (-1e16f64..1e16).prop_map(|x| x / 10f64.powi(7));
        prop_oneof![
            float.clone().prop_map(|x| format!("{x}")),
            float.clone().prop_map(|x| format!("{x:?}")),
            float.prop_map(|x| format!("{x:e}")),
            (small.clone(), 0usize..20).prop_map(|(x, p)| format!("{x:.p$}")),
            small.prop_map(|x| format!("{x:?}")),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<i128>().prop_map(|n| n.to_string()),
            ("-?", "0|[1-9][0-9]{0,19}", "(\\.[0-9]{1,20})?")
                .prop_map(|(sign, whole, fraction)| format!("{sign}{whole}{fraction}")),
            // Near the edges: tiny fractions, wide whole parts.
            "-?0\\.0{0,8}[0-9]{0,12}[1-9]",
            "-?[1-9][0-9]{10,17}\\.([0-9]{0,4}[1-9]|0)",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn a_number_that_reads_as_written_is_written_as_read(text in number_texts()) {
            if reads_as_written(text.as_bytes()) {
                prop_assert_eq!(written(&text), text);
            }
        }

        #[test]
        fn a_string_that_reads_as_written_is_written_as_read(value in any::<String>()) {
            let text = serde_json::to_string(&value).unwrap();
            prop_assert_eq!(reads_as_written(text.as_bytes()), !text.contains('\\'));
            if reads_as_written(text.as_bytes()) {
                prop_assert_eq!(written(&text), text);
            }
        }
    }

    proptest! {
        #[test]
        fn any_string_decodes_to_itself(text in any::<String>()) {
            let json = serde_json::to_string(&text).unwrap();
            prop_assert_eq!(decoded(&json).unwrap(), text.clone());
            let json = ascii_only(&text);
            match decoded(&json) {
                Ok(got) => prop_assert_eq!(got, text),
                // Only surrogate pairs leave the walk unsure.
                Err(Unsure) => prop_assert!(text.chars().any(|c| c.len_utf16() == 2)),
            }
        }
    }
}

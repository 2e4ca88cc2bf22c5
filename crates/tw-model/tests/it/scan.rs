//! The one-pass scanner: it decides valid pages itself, and whatever it
//! accepts, the decoders accept with the same records (it is never the
//! only judge of an invalid page).

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::Value;
use tw_model::{
    Dataset, Describe, EachRecord, EmployeeSkillClusters, SkillClusters, Table, UnknownFields,
    Validate, ViewPage, decode_page, decode_raw_page, decode_view_page, scan_raw_page,
    view_page_each, view_record,
};

use crate::props::page_doc;

/// Runs `check` on pairs of generated pages of `D`, both compact or both
/// pretty-printed: a first page to decode, then a second over it.
fn over_two_pages<D: Dataset>(check: impl Fn(String, String) -> Result<(), TestCaseError>) {
    use proptest::test_runner::{Config, TestRunner};

    let mut runner = TestRunner::new(Config::with_cases(96));
    let pages = (
        crate::props::page_doc_for::<D>(),
        crate::props::page_doc_for::<D>(),
        any::<bool>(),
    );
    runner
        .run(&pages, |(first, second, pretty)| {
            let text = |doc: &Value| {
                if pretty {
                    serde_json::to_string_pretty(doc).unwrap()
                } else {
                    doc.to_string()
                }
            };
            check(text(&first), text(&second))
        })
        .unwrap();
}

/// Decoding generated pages of `D` in place, over the records of another
/// generated page, gives exactly the records `decode_page` gives.
pub(crate) fn pages_decoded_in_place_equal_fresh_ones<D: Dataset>() {
    over_two_pages::<D>(|first, second| {
        let mut records = Vec::new();
        tw_model::decode_page_into::<D>(first.as_bytes(), &mut records).unwrap();
        let (has_next, next) =
            tw_model::decode_page_into::<D>(second.as_bytes(), &mut records).unwrap();
        let fresh = decode_page::<D>(second.as_bytes()).unwrap();
        prop_assert_eq!(&records, &fresh.records);
        prop_assert_eq!(has_next, fresh.has_next);
        prop_assert_eq!(next, fresh.next_starting_after);
        Ok(())
    });
}

/// The cells of a row as text, after checking that a cell said to be
/// plain (written without a search for quotes) holds no quote and no
/// character below U+0020.
fn row_text(row: &[tw_model::Cell<'_>]) -> Vec<String> {
    row.iter()
        .map(|cell| {
            let text = cell.to_string();
            let mut written = Vec::new();
            if tw_model::FieldText::write_plain(cell, &mut written) {
                assert_eq!(written, text.as_bytes(), "a plain cell's text");
                assert!(
                    !text.chars().any(|c| c == '"' || c < ' '),
                    "a plain cell holds {text:?}"
                );
            } else {
                assert!(written.is_empty(), "a cell not plain wrote {written:?}");
            }
            text
        })
        .collect()
}

/// The rows of a record, as text, with each row's repeat hint.
pub(crate) fn typed_rows<T: Table>(record: &T) -> Vec<(Vec<String>, usize)> {
    let mut rows = Vec::new();
    record
        .rows(&mut |row, repeats| {
            rows.push((row_text(row), repeats));
            Ok::<(), ()>(())
        })
        .unwrap();
    check_hints(&rows);
    rows
}

/// The rows of a viewed record (see [`typed_rows`]).
pub(crate) fn viewed_rows<T: Table>(view: &T::View, text: &str) -> Vec<(Vec<String>, usize)> {
    let mut rows = Vec::new();
    T::view_rows(view, text, &mut |row, repeats| {
        rows.push((row_text(row), repeats));
        Ok::<(), ()>(())
    })
    .unwrap();
    check_hints(&rows);
    rows
}

/// Checks that each row's repeat hint is true: a record's first row
/// repeats nothing (the row before is another record's), and a later row
/// says it repeats only fields that are the row before's.
fn check_hints(rows: &[(Vec<String>, usize)]) {
    for (i, (row, repeats)) in rows.iter().enumerate() {
        let Some(i) = i.checked_sub(1) else {
            assert_eq!(*repeats, 0, "a record's first row repeats {repeats} fields");
            continue;
        };
        let before = &rows[i].0;
        assert!(
            *repeats <= row.len() && row[..*repeats] == before[..*repeats],
            "a row says it repeats {repeats} fields of the row before: {before:?}, then {row:?}"
        );
    }
}

/// The rows of a record as text, with each row's repeat hint.
type Rows = Vec<(Vec<String>, usize)>;

/// A body viewed one record at a time by [`view_page_each`]: the page,
/// and the rows of each record handed (those handed before a restart
/// forgotten, as a caller must), or the error's text.
pub(crate) fn each_rows<D: Dataset>(body: &[u8]) -> Result<(ViewPage, Vec<Rows>), String> {
    let mut rows = Vec::new();
    let page = view_page_each::<D>(body.to_vec(), |record| match record {
        EachRecord::Record(view, text) => rows.push(viewed_rows::<D::Record>(view, text)),
        EachRecord::Restart => {
            assert!(!rows.is_empty(), "a restart before any record");
            rows.clear();
        }
    })
    .map_err(|err| err.to_string())?;
    Ok((page, rows))
}

/// Viewing generated pages of `D` (over the views of another generated
/// page) gives the records' texts and table rows that decoding gives,
/// with the same verdict.
pub(crate) fn pages_viewed_give_the_rows_of_decoded_ones<D: Dataset>() {
    over_two_pages::<D>(|first, second| {
        let mut views = Vec::new();
        decode_view_page::<D>(first.into_bytes(), &mut views).unwrap();
        let page = decode_view_page::<D>(second.clone().into_bytes(), &mut views).unwrap();
        let fresh = decode_page::<D>(second.as_bytes()).unwrap();
        prop_assert_eq!(page.has_next, fresh.has_next);
        prop_assert_eq!(&page.next_starting_after, &fresh.next_starting_after);
        prop_assert_eq!(views.len(), fresh.records.len());
        prop_assert_eq!(page.records.len(), fresh.records.len());
        for ((view, range), record) in views.iter().zip(&page.records).zip(&fresh.records) {
            let sent: Value = serde_json::from_str(&page.text[range.clone()]).unwrap();
            prop_assert_eq!(&serde_json::to_value(record).unwrap(), &sent);
            prop_assert_eq!(
                viewed_rows::<D::Record>(view, &page.text),
                typed_rows(record)
            );
            // One record at a time, from its text, gives the same rows.
            let one = view_record::<D::Record, _>(&page.text[range.clone()], |view, text| {
                viewed_rows::<D::Record>(view, text)
            });
            prop_assert_eq!(one.unwrap(), typed_rows(record));
        }
        // One record at a time over one view gives the same records.
        let (each, rows) = each_rows::<D>(second.as_bytes()).unwrap();
        prop_assert_eq!(&each.records, &page.records);
        prop_assert_eq!(each.has_next, page.has_next);
        prop_assert_eq!(&each.next_starting_after, &page.next_starting_after);
        let typed: Vec<_> = fresh.records.iter().map(typed_rows).collect();
        prop_assert_eq!(rows, typed);
        Ok(())
    });
}

/// `value` as compact JSON with every object's keys in an order of their
/// own, drawn from `salt` (serde_json writes them sorted).
fn write_shuffled(value: &Value, salt: u64, out: &mut String) {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

    let rank =
        |key: &str, salt: u64| BuildHasherDefault::<DefaultHasher>::default().hash_one((salt, key));
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by_key(|key| rank(key, salt));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).unwrap());
                out.push(':');
                write_shuffled(&map[key], rank(key, salt), out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_shuffled(item, salt.wrapping_add(i as u64 + 1), out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Generated pages of `D` whose objects send their keys in orders of their
/// own, record after record (so the order the walks learn keeps missing),
/// are still decided by the scanner, viewed and decoded in place as
/// decoding decides them.
pub(crate) fn keys_in_any_order_are_read_as_decoded<D: Dataset>() {
    use proptest::test_runner::{Config, TestRunner};

    let mut runner = TestRunner::new(Config::with_cases(64));
    // Decoded in place over the last page's records, as an export does.
    let records = std::cell::RefCell::new(Vec::new());
    runner
        .run(
            &(crate::props::page_doc_for::<D>(), any::<u64>()),
            |(doc, salt)| {
                let mut text = String::new();
                write_shuffled(&doc, salt, &mut text);
                let typed = decode_page::<D>(text.as_bytes()).unwrap();
                let scanned = scan_raw_page::<D>(text.as_bytes());
                prop_assert!(scanned.is_some(), "the scanner left a valid page: {}", text);
                let scanned = scanned.unwrap();
                prop_assert_eq!(scanned.records.len(), typed.records.len());
                for (range, record) in scanned.records.iter().zip(&typed.records) {
                    let sent: Value = serde_json::from_str(&text[range.clone()]).unwrap();
                    prop_assert_eq!(&serde_json::to_value(record).unwrap(), &sent);
                }
                let (_, rows) = each_rows::<D>(text.as_bytes()).unwrap();
                let expected: Vec<_> = typed.records.iter().map(typed_rows).collect();
                prop_assert_eq!(rows, expected);
                let mut records = records.borrow_mut();
                tw_model::decode_page_into::<D>(text.as_bytes(), &mut records).unwrap();
                prop_assert_eq!(&*records, &typed.records);
                Ok(())
            },
        )
        .unwrap();
}

/// A record's text viewed by [`view_record`] has the verdict and, when
/// valid, the rows of the record decoded from it.
fn record_viewed_like_decoded(text: &str) -> Result<(), TestCaseError> {
    let viewed = view_record::<EmployeeSkillClusters, _>(text, |view, text| {
        viewed_rows::<EmployeeSkillClusters>(view, text)
    });
    match tw_model::decode::<EmployeeSkillClusters>(text.as_bytes()) {
        Ok(record) => prop_assert_eq!(viewed.unwrap(), typed_rows(&record)),
        Err(err) => prop_assert_eq!(err.to_string(), viewed.unwrap_err().to_string()),
    }
    Ok(())
}

/// Generated valid pages of `D` (compact and pretty-printed) are decided
/// by the scanner itself, with the records decoding finds; every record's
/// unknown fields are counted as from the decoded `Value`.
pub(crate) fn generated_pages_are_decided_by_the_scanner<D: Dataset>() {
    use proptest::test_runner::{Config, TestRunner};

    let scanner = <D::Record as Validate>::scanner().expect("every record type has a scanner");
    let shape = <D::Record as Describe>::shape();
    let mut runner = TestRunner::new(Config::with_cases(96));
    runner
        .run(&crate::props::page_doc_for::<D>(), |doc| {
            for (text, pretty) in [
                (doc.to_string(), false),
                (serde_json::to_string_pretty(&doc).unwrap(), true),
            ] {
                let scanned = scan_raw_page::<D>(text.as_bytes());
                prop_assert!(scanned.is_some(), "the scanner left a valid page: {}", text);
                let scanned = scanned.unwrap();
                let typed = decode_page::<D>(text.as_bytes()).unwrap();
                prop_assert_eq!(scanned.records.len(), typed.records.len());
                prop_assert_eq!(scanned.has_next, typed.has_next);
                prop_assert_eq!(&scanned.next_starting_after, &typed.next_starting_after);
                let any_breaks = scanned
                    .records
                    .iter()
                    .any(|r| text[r.clone()].contains('\n'));
                prop_assert_eq!(scanned.line_breaks, any_breaks);
                if !pretty {
                    prop_assert!(!scanned.line_breaks);
                }
                let mut page_slow = BTreeMap::new();
                for (range, record) in scanned.records.iter().zip(&typed.records) {
                    let sent: Value = serde_json::from_str(&text[range.clone()]).unwrap();
                    prop_assert_eq!(&serde_json::to_value(record).unwrap(), &sent);
                    prop_assert!(scanner.check(&text[range.clone()]));
                    let mut fast = UnknownFields::default();
                    prop_assert!(scanner.count_unknown(&text[range.clone()], &mut fast));
                    let mut slow = BTreeMap::new();
                    tw_model::unknown_fields(&shape, &sent, &mut slow);
                    prop_assert_eq!(fast.counts(), &slow);
                    tw_model::unknown_fields(&shape, &sent, &mut page_slow);
                }
                // Counted in the pass that checks the page: the same page,
                // and the counts of its records one by one, added to what
                // was there.
                let mut counts = UnknownFields::from_counts(page_slow.clone());
                let counted =
                    tw_model::decode_raw_page_counting::<D>(text.as_bytes(), &mut counts).unwrap();
                prop_assert_eq!(&counted.records, &scanned.records);
                prop_assert_eq!(counted.has_next, scanned.has_next);
                let doubled: BTreeMap<String, u64> =
                    page_slow.iter().map(|(k, n)| (k.clone(), 2 * n)).collect();
                prop_assert_eq!(counts.counts(), &doubled);
            }
            Ok(())
        })
        .unwrap();
}

/// The unknown fields of viewed records, counted from their views (as a
/// CSV export counts them, with no second walk), are those counted from
/// the records' `Value`s: for views walked from the page, over the views
/// of another page, and for views of the typed records (the walk's
/// fallback).
pub(crate) fn viewed_records_count_unknown_fields_as_decoded<D: Dataset>() {
    let shape = <D::Record as Describe>::shape();
    over_two_pages::<D>(|first, second| {
        for text in [first, second] {
            let raw = decode_raw_page::<D>(text.as_bytes()).unwrap();
            let mut expected = BTreeMap::new();
            for range in &raw.records {
                let sent: Value = serde_json::from_str(&text[range.clone()]).unwrap();
                tw_model::unknown_fields(&shape, &sent, &mut expected);
            }
            let mut viewed = UnknownFields::default();
            view_page_each::<D>(text.clone().into_bytes(), |record| match record {
                EachRecord::Record(view, text) => viewed.add_viewed::<D::Record>(view, text),
                EachRecord::Restart => viewed = UnknownFields::default(),
            })
            .unwrap();
            prop_assert_eq!(viewed.counts(), &expected);
            let mut from_typed = UnknownFields::default();
            let mut view = Default::default();
            for record in decode_page::<D>(text.as_bytes()).unwrap().records {
                let mut text = String::new();
                <D::Record as Table>::view_of(&record, &mut text, &mut view);
                from_typed.add_viewed::<D::Record>(&view, &text);
            }
            prop_assert_eq!(from_typed.counts(), &expected);
        }
        Ok(())
    });
}

/// The page the scanner accepts is the page the decoders accept, with the
/// same record texts; `decode_raw_page` (scanner first) agrees with both.
fn accepted_only_if_decoded(text: &str) -> Result<(), TestCaseError> {
    if let Some(scanned) = scan_raw_page::<SkillClusters>(text.as_bytes()) {
        let typed = decode_page::<SkillClusters>(text.as_bytes());
        prop_assert!(
            typed.is_ok(),
            "scanner accepted what decode rejects: {}",
            text
        );
        let typed = typed.unwrap();
        prop_assert_eq!(scanned.records.len(), typed.records.len());
        for (range, record) in scanned.records.iter().zip(&typed.records) {
            let sent: Value = serde_json::from_str(&text[range.clone()]).unwrap();
            prop_assert_eq!(serde_json::to_value(record).unwrap(), sent);
        }
    }
    // Decoding in place (over records of a valid page) agrees too.
    let mut records = decode_page::<SkillClusters>(
        br#"{"has_next":false,"records":[{"external_id":"z","x":1,"skill_clusters":[{"current_skills":[{"name":"n"}],"sources":["a"]}]}]}"#,
    )
    .unwrap()
    .records;
    let in_place = tw_model::decode_page_into::<SkillClusters>(text.as_bytes(), &mut records);
    match decode_page::<SkillClusters>(text.as_bytes()) {
        Ok(page) => {
            prop_assert!(in_place.is_ok());
            prop_assert_eq!(&records, &page.records);
        }
        Err(err) => prop_assert_eq!(err.to_string(), in_place.unwrap_err().to_string()),
    }
    // Viewing (over views of a valid page) agrees too, rows and all.
    let mut views = Vec::new();
    decode_view_page::<SkillClusters>(
        br#"{"has_next":false,"records":[{"external_id":"z","x":1,"skill_clusters":[{"current_skills":[{"name":"n"}],"sources":["a"]}]}]}"#.to_vec(),
        &mut views,
    )
    .unwrap();
    let viewed = decode_view_page::<SkillClusters>(text.as_bytes().to_vec(), &mut views);
    match decode_page::<SkillClusters>(text.as_bytes()) {
        Ok(page) => {
            prop_assert!(viewed.is_ok());
            let viewed = viewed.unwrap();
            prop_assert_eq!(views.len(), page.records.len());
            for (view, record) in views.iter().zip(&page.records) {
                prop_assert_eq!(
                    viewed_rows::<EmployeeSkillClusters>(view, &viewed.text),
                    typed_rows(record)
                );
            }
        }
        Err(err) => prop_assert_eq!(err.to_string(), viewed.unwrap_err().to_string()),
    }
    // One record at a time too.
    match (
        decode_page::<SkillClusters>(text.as_bytes()),
        each_rows::<SkillClusters>(text.as_bytes()),
    ) {
        (Ok(page), Ok((_, rows))) => {
            let typed: Vec<_> = page.records.iter().map(typed_rows).collect();
            prop_assert_eq!(rows, typed);
        }
        (Err(err), Err(each)) => prop_assert_eq!(err.to_string(), each),
        (typed, each) => prop_assert!(
            false,
            "decoding said {:?}, viewing one at a time {:?}",
            typed.map(drop),
            each.map(drop)
        ),
    }
    crate::validate::same_verdict_for::<SkillClusters>(text)
}

/// [`accepted_only_if_decoded`] for bytes that may not be UTF-8.
fn bytes_accepted_only_if_decoded(body: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(text) = std::str::from_utf8(body) {
        return accepted_only_if_decoded(text);
    }
    prop_assert!(
        scan_raw_page::<SkillClusters>(body).is_none(),
        "accepted invalid UTF-8"
    );
    let typed = decode_page::<SkillClusters>(body)
        .map(drop)
        .map_err(|e| e.to_string());
    let raw = decode_raw_page::<SkillClusters>(body)
        .map(drop)
        .map_err(|e| e.to_string());
    prop_assert!(typed.is_err());
    prop_assert_eq!(&typed, &raw);
    let each = each_rows::<SkillClusters>(body).map(drop);
    prop_assert_eq!(typed, each);
    Ok(())
}

/// Bytes that change the meaning of JSON text the most.
const EDITS: &[&str] = &[
    "\"",
    "\\",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "0",
    "1",
    "-",
    ".",
    "e",
    "E",
    "+",
    "n",
    "t",
    "f",
    "null",
    "true",
    " ",
    "\n",
    "\t",
    "\u{1}",
    "\\u",
    "\\ud800",
    "\\uDC00",
    "é",
    "\u{feff}",
    "00",
    "1e400",
    "9223372036854775808",
    "-9223372036854775809",
    "\"x\":1,",
];

/// `text` with `edit` put in place of up to `cut` bytes at `at` (any
/// number, taken modulo the length), on character boundaries.
fn edited(text: &str, at: usize, cut: usize, edit: &str) -> String {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let mut end = (at + cut).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    format!("{}{}{}", &text[..at], edit, &text[end..])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Any byte edit of a valid page (a replacement, an insertion or a
    /// deletion at any character boundary): the scanner never accepts what
    /// decoding rejects.
    #[test]
    fn edited_pages_are_never_accepted_wrongly(
        doc in page_doc(),
        at in any::<usize>(),
        cut in 0usize..3,
        edit in prop::sample::select(EDITS),
        pretty in any::<bool>(),
    ) {
        let text = if pretty { serde_json::to_string_pretty(&doc).unwrap() } else { doc.to_string() };
        accepted_only_if_decoded(&edited(&text, at, cut, edit))?;
    }

    /// Any edit of a valid record: viewed alone, it is decided as decoding
    /// decides it.
    #[test]
    fn edited_records_are_viewed_as_decoded(
        doc in crate::props::record_doc(),
        at in any::<usize>(),
        cut in 0usize..3,
        edit in prop::sample::select(EDITS),
    ) {
        let text = doc.to_string();
        record_viewed_like_decoded(&text)?;
        record_viewed_like_decoded(&edited(&text, at, cut, edit))?;
    }

    /// A page laid out as the sandbox sends it (`has_next` first, the
    /// cursor last), edited anywhere: whenever the cursor is read from the
    /// body's ends, decoding either fails or reads the same cursor, with
    /// `has_next` true; and the unedited page's cursor is read there
    /// whenever it is a plain string on a page with a next one.
    #[test]
    fn a_cursor_read_from_the_ends_is_the_decoded_cursor(
        doc in page_doc(),
        cursor in "[a-zA-Z0-9_=+/-]{1,12}",
        at in any::<usize>(),
        cut in 0usize..3,
        edit in prop::sample::select(EDITS),
    ) {
        let Value::Object(mut fields) = doc else { unreachable!() };
        let has_next = fields.remove("has_next").unwrap();
        let records = fields.remove("records").unwrap();
        fields.remove("next_starting_after");
        let mut text = format!(r#"{{"has_next":{has_next},"records":{records}"#);
        for (key, value) in &fields {
            text += &format!(",{}:{value}", Value::from(key.as_str()));
        }
        text += &format!(r#","next_starting_after":"{cursor}"}}"#);
        let peeked = tw_model::peek_next_cursor(text.as_bytes());
        prop_assert_eq!(peeked, (has_next == Value::Bool(true)).then_some(cursor.as_str()));
        for text in [text.clone(), edited(&text, at, cut, edit)] {
            if let Some(peeked) = tw_model::peek_next_cursor(text.as_bytes())
                && let Ok(page) = decode_page::<SkillClusters>(text.as_bytes())
            {
                prop_assert!(page.has_next, "{}", text);
                prop_assert_eq!(page.next_starting_after.as_deref(), Some(peeked), "{}", text);
            }
        }
    }

    /// Any byte of a valid page replaced by any byte (UTF-8 or not).
    #[test]
    fn pages_with_any_byte_replaced_are_never_accepted_wrongly(
        doc in page_doc(),
        at in any::<usize>(),
        byte in any::<u8>(),
    ) {
        let mut body = doc.to_string().into_bytes();
        let at = at % body.len();
        body[at] = byte;
        bytes_accepted_only_if_decoded(&body)?;
    }
}

#[test]
fn non_ascii_text_is_checked_as_utf8() {
    let page = |name: &[u8]| {
        let mut body = br#"{"has_next":false,"records":[{"external_id":""#.to_vec();
        body.extend_from_slice(name);
        body.extend_from_slice(br#""}]}"#);
        body
    };
    for (name, valid) in [
        ("データ 🦀 é".as_bytes(), true),
        (&[0xC3, 0xA9][..], true),
        (&[0xC3][..], false),
        (&[0xC0, 0x80][..], false),
        (&[0xED, 0xA0, 0x80][..], false),
        (&[0xF4, 0x90, 0x80, 0x80][..], false),
        (&[0xE0, 0x80, 0x80][..], false),
        (&[0xFF][..], false),
    ] {
        let body = page(name);
        assert_eq!(
            scan_raw_page::<SkillClusters>(&body).is_some(),
            valid,
            "{name:?}"
        );
        bytes_accepted_only_if_decoded(&body).unwrap();
    }
}

/// A JSON value as a server may spell it: numbers as Rust prints floats
/// (shortest, `Debug`, with an exponent, to a fixed precision), integers
/// of any width, decimals built digit by digit; strings as serde_json
/// writes them and with escapes it would not write; flags, `null`, and
/// small arrays and objects of those.
fn spelled_value() -> impl Strategy<Value = String> {
    let float = any::<f64>().prop_filter("finite", |x| x.is_finite());
    let scalar = prop_oneof![
        float.clone().prop_map(|x| format!("{x}")),
        float.clone().prop_map(|x| format!("{x:?}")),
        float.prop_map(|x| format!("{x:e}")),
        ((-1e9f64..1e9), 0usize..18).prop_map(|(x, p)| format!("{x:.p$}")),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<i128>().prop_map(|n| n.to_string()),
        "-?(0|[1-9][0-9]{0,19})(\\.[0-9]{1,18})?([eE][-+]?[0-9]{1,3})?",
        // Short decimals, trailing zeros and all, large and tiny.
        "-?(0|[1-9][0-9]{0,15})\\.[0-9]{0,6}0{0,2}",
        "-?0\\.0{0,7}[0-9]{0,9}[1-9]0?",
        any::<String>().prop_map(|text| serde_json::to_string(&text).unwrap()),
        Just(r#""a\/b \u00e9 \ud83d\ude00""#.to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
    ];
    let nested = scalar.clone().prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec(("[a-z]{1,3}", inner), 0..3).prop_map(|members| {
                let members: Vec<String> = members
                    .into_iter()
                    .map(|(k, v)| format!(r#""{k}" : {v}"#))
                    .collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    });
    // Only a field's whole value can be kept as text: mostly scalars.
    prop_oneof![4 => scalar, 1 => nested]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// An unknown field's value however the server spells it, on the
    /// employee, a cluster or a skill: viewed, the record has the verdict
    /// and the rows (its `extra` cells included) of the record decoded.
    #[test]
    fn unknown_values_spelled_any_way_are_viewed_as_decoded(
        value in spelled_value(),
        level in 0usize..3,
    ) {
        let (employee, cluster, skill) = match level {
            0 => (format!(r#","x_new":{value}"#), String::new(), String::new()),
            1 => (String::new(), format!(r#","x_new":{value}"#), String::new()),
            _ => (String::new(), String::new(), format!(r#","x_new":{value}"#)),
        };
        let text = format!(
            r#"{{"external_id":"e1"{employee},"skill_clusters":[{{"skill_cluster_id":"c1"{cluster},"current_skills":[{{"name":"Rust","x_old":0.25{skill}}},{{"name":"Go"}}]}}]}}"#
        );
        record_viewed_like_decoded(&text)?;
    }
}

#[test]
fn numbers_at_the_edges_are_decided_like_decoding() {
    let page = |cluster: &str| {
        format!(
            r#"{{"has_next":false,"records":[{{"external_id":"a","skill_clusters":[{cluster}]}}]}}"#
        )
    };
    for level in [
        "0",
        "-0",
        "5",
        "-5",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "-9223372036854775809",
        "18446744073709551616",
        "01",
        "1.0",
        "1e2",
        "1.",
        ".5",
        "-",
        "+1",
        "1e",
        "0x10",
    ] {
        let text = page(&format!(r#"{{"proficiency_level":{level}}}"#));
        accepted_only_if_decoded(&text).unwrap();
    }
    for extra in [
        "1e308",
        "1e309",
        "-1e400",
        "1e-400",
        "1.7976931348623157e308",
        "1.8e308",
        "0.5",
        "-0.0",
        "1E+2",
        "1e+",
        "12345678901234567890123",
        "2.",
        "-.5",
    ] {
        let text = page(&format!(r#"{{"weight":{extra}}}"#));
        accepted_only_if_decoded(&text).unwrap();
    }
    // Decided by the scanner itself, not only agreed with:
    let sure = page(r#"{"proficiency_level":-9223372036854775808,"weight":1.5e-7}"#);
    assert!(scan_raw_page::<SkillClusters>(sure.as_bytes()).is_some());
}

#[test]
fn strings_and_keys_at_the_edges_are_decided_like_decoding() {
    let page = |record: &str| format!(r#"{{"has_next":false,"records":[{record}]}}"#);
    for record in [
        r#"{"external_id":"a\"b\\c\/d\b\f\n\r\t\u00e9"}"#,
        r#"{"external_id":"\ud83d\ude00"}"#,
        r#"{"external_id":"\ud83d"}"#,
        r#"{"external_id":"\ude00"}"#,
        r#"{"external_id":"\x"}"#,
        r#"{"external_id":"\u12"}"#,
        "{\"external_id\":\"tab\there\"}",
        r#"{"extern\u0061l_id":"a"}"#,
        r#"{"external_id":"a","external_id":"b"}"#,
        r#"{"external_id":"a","x":1,"x":2}"#,
        r#"{"external_id":null}"#,
        r#"{"external_id":"a","skill_clusters":null}"#,
        r#"{"external_id":"a","skill_clusters":[null]}"#,
        r#"{"external_id":"a",}"#,
        r#"{"external_id":"a" "x":1}"#,
        "[]",
        "\"a\"",
    ] {
        accepted_only_if_decoded(&page(record)).unwrap();
    }
    let sure = page(r#"{"external_id":"a\"b\\c\u00e9 ✓"}"#);
    assert!(scan_raw_page::<SkillClusters>(sure.as_bytes()).is_some());
}

#[test]
fn envelopes_at_the_edges_are_decided_like_decoding() {
    for text in [
        r#"{"has_next":false,"records":[]}"#,
        r#" {"records":[],"has_next":true,"next_starting_after":"c1"} "#,
        r#"{"has_next":false,"records":[],"next_starting_after":null}"#,
        r#"{"has_next":false,"records":[],"next_starting_after":"a\nb"}"#,
        r#"{"has_next":false,"records":[],"next_starting_after":"\u0061"}"#,
        r#"{"has_next":false,"records":[],"has_next":true}"#,
        r#"{"has_next":false,"records":[],"records":[]}"#,
        r#"{"has_next":null,"records":[]}"#,
        r#"{"has_next":false}"#,
        r#"{"records":[]}"#,
        r#"{"has_next":false,"records":[]}x"#,
        "\u{feff}{\"has_next\":false,\"records\":[]}",
        r#"{"has_next":false,"records":[],"meta":{"deep":[1,{"a":null}]}}"#,
        r#"{"has_next":false,"records":{}}"#,
        "",
        "{",
    ] {
        accepted_only_if_decoded(text).unwrap();
    }
    let next = scan_raw_page::<SkillClusters>(
        br#"{"records":[],"has_next":true,"next_starting_after":"c1"}"#,
    )
    .unwrap();
    assert_eq!(next.next_starting_after.as_deref(), Some("c1"));
    assert!(next.has_next);
}

#[test]
fn deep_nesting_is_left_to_the_decoders() {
    let nested = |levels: usize| format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
    for levels in [1, 40, 59, 60, 64, 65, 130, 10_000] {
        let text = format!(
            r#"{{"has_next":false,"records":[{{"external_id":"a","x":{}}}]}}"#,
            nested(levels)
        );
        accepted_only_if_decoded(&text).unwrap();
        assert_eq!(
            scan_raw_page::<SkillClusters>(text.as_bytes()).is_some(),
            levels <= 60,
            "{levels} levels"
        );
    }
}

#[test]
fn invalid_utf8_is_left_to_the_decoders() {
    let mut body = br#"{"has_next":false,"records":[{"external_id":"a"#.to_vec();
    body.push(0xff);
    body.extend_from_slice(br#""}]}"#);
    let typed = decode_page::<SkillClusters>(&body).unwrap_err();
    let raw = decode_raw_page::<SkillClusters>(&body).unwrap_err();
    assert_eq!(typed.to_string(), raw.to_string());
}

#[test]
fn unknown_fields_repeated_in_one_object_count_once_like_a_value() {
    let scanner = EmployeeSkillClusters::scanner().unwrap();
    let mut counts = UnknownFields::default();
    let record = r#"{"external_id":"a","x":1,"y":{"x":2},"skill_clusters":[{"x":1},{"x":2}]}"#;
    assert!(scanner.count_unknown(record, &mut counts));
    let expected: BTreeMap<String, u64> = [("x", 1), ("y", 1), ("skill_clusters[].x", 2)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(counts.counts(), &expected);
    // An invalid record adds nothing.
    assert!(!scanner.count_unknown(r#"{"x":1}"#, &mut counts));
    assert_eq!(counts.counts(), &expected);
}

#[test]
fn decoding_in_place_reuses_the_records_allocations() {
    let mut records = Vec::new();
    let first = br#"{"has_next":true,"records":[{"external_id":"employee-000001","skill_clusters":[{"skill_cluster_name":"Data engineering","current_skills":[{"name":"Rust"}]}]}]}"#;
    tw_model::decode_page_into::<SkillClusters>(first, &mut records).unwrap();
    let id = records[0].external_id.as_ptr();
    let clusters = records[0].clusters().as_ptr();
    let name = records[0].clusters()[0]
        .skill_cluster_name
        .as_ref()
        .unwrap()
        .as_ptr();
    let second = br#"{"has_next":false,"records":[{"external_id":"e2","skill_clusters":[{"skill_cluster_name":"Testing","current_skills":[]}]}]}"#;
    tw_model::decode_page_into::<SkillClusters>(second, &mut records).unwrap();
    assert_eq!(
        records,
        decode_page::<SkillClusters>(second).unwrap().records
    );
    assert_eq!(records[0].external_id.as_ptr(), id);
    assert_eq!(records[0].clusters().as_ptr(), clusters);
    assert_eq!(
        records[0].clusters()[0]
            .skill_cluster_name
            .as_ref()
            .unwrap()
            .as_ptr(),
        name
    );
}

/// Counting a page the scanner leaves to the decoders (a repeated key)
/// counts each record as the one-record count does; a page the decoders
/// refuse leaves the counts as they were.
#[test]
fn pages_counted_by_the_decoders_count_alike_and_refused_ones_not_at_all() {
    let body = r#"{"has_next":false,"records":[
        {"external_id":"a","external_id":"b","team":1,"skill_clusters":[{"weight":2}]},
        {"external_id":"c","team":2}]}"#;
    assert!(scan_raw_page::<SkillClusters>(body.as_bytes()).is_none());
    let mut counts = UnknownFields::default();
    let page =
        tw_model::decode_raw_page_counting::<SkillClusters>(body.as_bytes(), &mut counts).unwrap();
    assert_eq!(page.records.len(), 2);
    let expected: BTreeMap<String, u64> = [
        ("skill_clusters[].weight".to_owned(), 1),
        ("team".to_owned(), 2),
    ]
    .into_iter()
    .collect();
    assert_eq!(counts.counts(), &expected);

    // The second record lacks its external id: refused, nothing counted,
    // whether the scanner or the decoders give the verdict.
    for refused in [
        r#"{"has_next":false,"records":[{"external_id":"a","team":1},{"team":2}]}"#,
        r#"{"has_next":false,"records":[{"external_id":"a","external_id":"b","team":1},{"team":2}]}"#,
    ] {
        let err =
            tw_model::decode_raw_page_counting::<SkillClusters>(refused.as_bytes(), &mut counts)
                .unwrap_err();
        assert!(err.to_string().contains("external_id"), "{err}");
        assert_eq!(counts.counts(), &expected, "{refused}");
    }
}

//! Raw records written a page at a time (`RecordWriter::write_raw_page`,
//! what a JSON export of the command does): the output is byte for byte
//! what writing each record with `write_raw_record` gives, in every
//! format, whatever lies between the records of a page (nothing but a
//! comma, whitespace, line breaks), and the records' texts are the
//! server's.

use tw_export::model::{EmployeeSkillClusters, SkillClusters};
use tw_export::output::{CsvDialect, Format, RecordWriter};
use tw_export::{Raw, RawRecord, Repr};

mod common;

/// The records of `body`, read as the command reads a JSON export's page.
fn records(body: &[u8]) -> Vec<RawRecord> {
    <Raw as Repr<SkillClusters>>::decode_page(body.to_vec(), Vec::new())
        .unwrap()
        .items
}

/// `records` written in `format` by `write`, with the record count.
fn written(
    format: Format,
    records: &[RawRecord],
    write: impl Fn(&mut RecordWriter<Vec<u8>, EmployeeSkillClusters>, &[RawRecord]),
) -> (Vec<u8>, u64) {
    let mut out = RecordWriter::new(Vec::new(), format);
    out.begin().unwrap();
    write(&mut out, records);
    let count = out.records();
    (out.finish().unwrap(), count)
}

/// The same page with `gap` in place of each comma between its records
/// (and before the list's `]`), and with every line broken (pretty).
fn variants(body: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let page: serde_json::Value = serde_json::from_slice(body).unwrap();
    let texts: Vec<String> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| serde_json::to_string(record).unwrap())
        .collect();
    let with_gap = |gap: &str| {
        let mut page = page.clone();
        page["records"] = serde_json::Value::Array(Vec::new());
        let envelope = serde_json::to_string(&page).unwrap();
        let records = format!("[{}{gap}]", texts.join(&format!("{gap},{gap}")));
        envelope.replacen("[]", &records, 1).into_bytes()
    };
    vec![
        ("as sent", body.to_vec()),
        ("compact", with_gap("")),
        ("spaces", with_gap(" ")),
        ("line breaks", with_gap("\n")),
        ("pretty", serde_json::to_vec_pretty(&page).unwrap()),
    ]
}

#[test]
fn a_page_at_a_time_writes_what_each_record_writes() {
    // Pages of 100 employees with every include: well over the writer's
    // buffer, with escapes, unknown fields and non-ASCII names.
    let bodies = common::recorded(200);
    assert_eq!(bodies.len(), 2);
    for (name, body) in variants(&bodies[0]) {
        let records = records(&body);
        assert_eq!(records.len(), 100, "{name}");
        for format in [
            Format::Jsonl,
            Format::Json,
            Format::Csv(CsvDialect::Techwolf),
        ] {
            let by_page = written(format, &records, |out, records| {
                out.write_raw_page(records).unwrap();
            });
            let by_record = written(format, &records, |out, records| {
                for record in records {
                    out.write_raw_record(record).unwrap();
                }
            });
            assert!(by_page == by_record, "{name}, {format:?}: outputs differ");
            assert_eq!(by_page.1, 100, "{name}, {format:?}");
        }
        // Each line is a record, on one line, with the server's values.
        let (lines, _) = written(Format::Jsonl, &records, |out, records| {
            out.write_raw_page(records).unwrap();
        });
        let lines = String::from_utf8(lines).unwrap();
        assert!(lines.ends_with('\n'), "{name}");
        let lines: Vec<&str> = lines.lines().collect();
        let original: serde_json::Value = serde_json::from_slice(&body).unwrap();
        for (i, line) in lines.iter().enumerate() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(value, original["records"][i], "{name}: line {i}");
        }
    }
}

#[test]
fn record_texts_stay_the_servers() {
    let bodies = common::recorded(100);
    for (name, body) in variants(&bodies[0]) {
        let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
        for (i, record) in records(&body).iter().enumerate() {
            // The exact bytes: found in the body the server sent.
            let text = record.as_str();
            assert!(
                body.windows(text.len()).any(|w| w == text.as_bytes()),
                "{name}: record {i} is not the server's text"
            );
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(value, page["records"][i], "{name}: record {i}");
        }
    }
}

#[test]
fn records_of_several_pages_and_single_records_keep_their_order() {
    // A compact page, a record on its own (buffered), a page of records
    // apart (written one at a time), then the compact page again: each
    // page's lines go out in one write, around what is buffered.
    let bodies = common::recorded(200);
    let compact = records(&bodies[0]);
    let spaced = records(&variants(&bodies[1])[2].1);
    let mut mixed: Vec<RawRecord> = Vec::new();
    mixed.extend(compact.iter().cloned());
    mixed.push(spaced[0].clone());
    mixed.extend(compact[..3].iter().cloned());
    mixed.extend(spaced.iter().cloned());
    mixed.extend(records(&bodies[1]));
    for format in [Format::Jsonl, Format::Json] {
        let by_page = written(format, &mixed, |out, records| {
            // Written in slices that end mid-page too.
            for part in records.chunks(37) {
                out.write_raw_page(part).unwrap();
            }
        });
        let by_record = written(format, &mixed, |out, records| {
            for record in records {
                out.write_raw_record(record).unwrap();
            }
        });
        assert!(by_page == by_record, "{format:?}: outputs differ");
        assert_eq!(by_page.1, mixed.len() as u64);
    }
}

//! The hand CSV writer (`tw_export::output::CsvWriter`) writes exactly
//! what the csv crate writes with the options each dialect names, for any
//! rows: every dialect reader then reads back what was written.

use proptest::prelude::*;
use tw_export::output::{CsvDialect, CsvWriter, guard_formula};

/// What the csv crate writes for `rows` in `dialect`.
fn reference(rows: &[Vec<String>], dialect: CsvDialect) -> Vec<u8> {
    let mut builder = csv::WriterBuilder::new();
    builder.has_headers(false).flexible(true);
    match dialect {
        CsvDialect::Techwolf => builder
            .quote_style(csv::QuoteStyle::Always)
            .terminator(csv::Terminator::CRLF),
        CsvDialect::Rfc4180 => builder
            .quote_style(csv::QuoteStyle::Necessary)
            .terminator(csv::Terminator::Any(b'\n')),
    };
    let mut writer = builder.from_writer(Vec::new());
    for row in rows {
        match dialect {
            CsvDialect::Techwolf => writer
                .write_record(row.iter().map(|v| guard_formula(v).into_owned()))
                .unwrap(),
            CsvDialect::Rfc4180 => writer.write_record(row).unwrap(),
        }
    }
    writer.into_inner().unwrap()
}

fn ours(rows: &[Vec<String>], dialect: CsvDialect) -> Vec<u8> {
    let mut writer = CsvWriter::new(Vec::new(), dialect);
    for row in rows {
        writer.write_row(row).unwrap();
    }
    writer.into_inner().unwrap()
}

/// Fields made of the bytes that matter to CSV and the guard, plain text
/// and non-ASCII, of lengths around the eight-byte words the writer reads.
fn field() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => Just("a"),
            1 => Just("\""),
            1 => Just(","),
            1 => Just("\n"),
            1 => Just("\r"),
            1 => Just("="),
            1 => Just("-"),
            1 => Just("`"),
            1 => Just("\t"),
            1 => Just("é"),
            1 => Just("{\"k\":1}"),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn writes_what_the_csv_crate_writes(
        rows in prop::collection::vec(prop::collection::vec(field(), 1..6), 0..6),
    ) {
        for dialect in [CsvDialect::Techwolf, CsvDialect::Rfc4180] {
            prop_assert_eq!(
                String::from_utf8(ours(&rows, dialect)).unwrap(),
                String::from_utf8(reference(&rows, dialect)).unwrap(),
                "{:?}", dialect
            );
        }
    }
}

#[test]
fn a_row_of_one_empty_field_is_written_as_a_row() {
    let rows = vec![vec![String::new()], vec!["x".to_owned()]];
    assert_eq!(ours(&rows, CsvDialect::Rfc4180), b"\"\"\nx\n");
    assert_eq!(
        ours(&rows, CsvDialect::Rfc4180),
        reference(&rows, CsvDialect::Rfc4180)
    );
}

#[test]
fn long_output_is_flushed_through_and_complete() {
    // More than the writer's buffer, so it writes through mid-way.
    let rows: Vec<Vec<String>> = (0..40_000)
        .map(|i| vec![format!("id-{i}"), "=x\"y".to_owned(), "plain".to_owned()])
        .collect();
    for dialect in [CsvDialect::Techwolf, CsvDialect::Rfc4180] {
        assert_eq!(ours(&rows, dialect), reference(&rows, dialect));
    }
}

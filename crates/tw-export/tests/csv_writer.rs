//! The hand CSV writer (`tw_export::output::CsvWriter`) writes exactly
//! what the csv crate writes with the options each dialect names, for any
//! rows: every dialect reader then reads back what was written.

use proptest::prelude::*;
use tw_export::model::Cell;
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

/// [`ours`] with each row's true hint: how many leading fields it shares
/// with the row before (`write_row_repeating` copies those).
fn ours_repeating(rows: &[Vec<String>], dialect: CsvDialect) -> Vec<u8> {
    let mut writer = CsvWriter::new(Vec::new(), dialect);
    let mut last: Option<&Vec<String>> = None;
    for row in rows {
        let repeats = last.map_or(0, |last| {
            row.iter().zip(last).take_while(|(a, b)| a == b).count()
        });
        writer.write_row_repeating(row, repeats).unwrap();
        last = Some(row);
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
            // `#` is `"` + 1: a byte a quote test with a borrow between
            // bytes would take for a quote after one.
            1 => Just("#"),
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

    /// Cells of text that holds no quote and no control character (JSON
    /// strings sent without escapes), written as `Cell::Plain`, are the
    /// same bytes as the text.
    #[test]
    fn plain_cells_are_written_as_their_text(
        rows in prop::collection::vec(prop::collection::vec(field(), 1..6), 0..6),
    ) {
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|f| f.chars().filter(|c| *c != '"' && *c >= ' ').collect())
                    .collect()
            })
            .collect();
        for dialect in [CsvDialect::Techwolf, CsvDialect::Rfc4180] {
            let mut writer = CsvWriter::new(Vec::new(), dialect);
            for row in &rows {
                let cells: Vec<Cell<'_>> = row.iter().map(|f| Cell::Plain(f)).collect();
                writer.write_row(&cells).unwrap();
            }
            prop_assert_eq!(
                String::from_utf8(writer.into_inner().unwrap()).unwrap(),
                String::from_utf8(reference(&rows, dialect)).unwrap(),
                "{:?}", dialect
            );
        }
    }

    /// Rows that repeat leading fields of the row before, written with the
    /// hint, are the same bytes (rows of other lengths included).
    #[test]
    fn repeated_fields_are_copied_to_the_same_bytes(
        mut rows in prop::collection::vec(prop::collection::vec(field(), 1..6), 0..8),
        kept in prop::collection::vec(0..6usize, 8),
    ) {
        for i in 1..rows.len() {
            let k = kept[i].min(rows[i].len()).min(rows[i - 1].len());
            let prefix = rows[i - 1][..k].to_vec();
            rows[i][..k].clone_from_slice(&prefix);
        }
        for dialect in [CsvDialect::Techwolf, CsvDialect::Rfc4180] {
            prop_assert_eq!(
                String::from_utf8(ours_repeating(&rows, dialect)).unwrap(),
                String::from_utf8(reference(&rows, dialect)).unwrap(),
                "{:?}", dialect
            );
        }
    }
}

/// The rows of the records of `page` (dataset `D`), viewed from its text as
/// the export views them, written by [`CsvWriter`] in `dialect`, and the
/// rows' texts.
fn viewed_rows_written<D: tw_export::Dataset>(
    page: &str,
    dialect: CsvDialect,
) -> (Vec<u8>, Vec<Vec<String>>) {
    use tw_export::model::Table;
    use tw_export::model::view::{EachRecord, view_page_each};
    let mut writer = CsvWriter::new(Vec::new(), dialect);
    let mut texts = Vec::new();
    view_page_each::<D>(page.as_bytes().to_vec(), |record| {
        let EachRecord::Record(view, text) = record else {
            panic!("a page the walk is sure of is not restarted");
        };
        D::Record::view_rows(view, text, &mut |row: &[Cell<'_>], _| {
            texts.push(row.iter().map(|cell| cell.to_text().into_owned()).collect());
            writer.write_row(row)
        })
        .unwrap();
    })
    .unwrap();
    (writer.into_inner().unwrap(), texts)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Nested values shown as JSON (a skill's `properties` object, a job
    /// skill's `skill_types` list), written from their views with each
    /// quote doubled in one go, are the bytes the csv crate writes for
    /// their text: strings with and without escapes (those are decoded
    /// and doubled after), with commas, line breaks, formula starts, and
    /// objects with a field this release does not know.
    #[test]
    fn nested_json_cells_are_written_as_their_text(
        values in prop::collection::vec(field(), 1..4),
        unknown in any::<bool>(),
    ) {
        let more = if unknown { r#","sandbox_new_field":"a,\"b""# } else { "" };
        let json = |v: &String| serde_json::to_string(v).unwrap();
        let skills: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                format!(
                    r#"{{"skill_id":"s{i}","properties":{{"sap_status":{{"value":{}{more}}}}}}}"#,
                    json(v)
                )
            })
            .collect();
        let skills = format!(r#"{{"has_next":false,"records":[{}]}}"#, skills.join(","));
        let types: Vec<String> = values
            .iter()
            .map(|v| format!(r#"{{"skill_type":{},"is_common":true{more}}}"#, json(v)))
            .collect();
        let jobs = format!(
            r#"{{"has_next":false,"records":[{{"external_id":"j","skills":[{{"skill_id":"s","skill_types":[{}]}},{{"skill_id":"t","skill_types":[]}}]}}]}}"#,
            types.join(",")
        );
        for dialect in [CsvDialect::Techwolf, CsvDialect::Rfc4180] {
            for (written, texts) in [
                viewed_rows_written::<tw_export::model::skills::Skills>(&skills, dialect),
                viewed_rows_written::<tw_export::model::job_skill_profiles::JobSkillProfiles>(
                    &jobs, dialect,
                ),
            ] {
                prop_assert_eq!(
                    String::from_utf8(written).unwrap(),
                    String::from_utf8(reference(&texts, dialect)).unwrap(),
                    "{:?}", dialect
                );
            }
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
    // Rows repeating the one before: a row whose predecessor was written
    // through is written whole.
    let rows: Vec<Vec<String>> = (0..40_000)
        .map(|i| {
            vec![
                "=same".to_owned(),
                format!("id-{}", i / 3),
                format!("x\"{i}"),
            ]
        })
        .collect();
    for dialect in [CsvDialect::Techwolf, CsvDialect::Rfc4180] {
        assert_eq!(ours_repeating(&rows, dialect), reference(&rows, dialect));
    }
}

/// Takes at most `room` more bytes, then fails until given more room.
struct Cramped {
    taken: Vec<u8>,
    room: usize,
}

impl std::io::Write for Cramped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::Error::other("disk full"));
        }
        let n = buf.len().min(self.room).min(1000);
        self.taken.extend_from_slice(&buf[..n]);
        self.room -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn after_a_failed_write_a_later_flush_writes_each_byte_once() {
    let rows: Vec<Vec<String>> = (0..20)
        .map(|i| vec![format!("id-{i}"), "x".repeat(100)])
        .collect();
    let expected = reference(&rows, CsvDialect::Rfc4180);
    let mut writer = CsvWriter::new(
        Cramped {
            taken: Vec::new(),
            room: 1500,
        },
        CsvDialect::Rfc4180,
    );
    for row in &rows {
        writer.write_row(row).unwrap();
    }
    let err = writer.flush().unwrap_err();
    assert_eq!(err.to_string(), "disk full");
    assert_eq!(writer.get_ref().taken, expected[..1500]);
    // Room again: the rest, nothing twice.
    writer.get_mut().room = usize::MAX;
    assert_eq!(writer.into_inner().unwrap().taken, expected);
}

#[test]
fn a_dropped_writer_writes_what_it_holds() {
    let mut out = Vec::new();
    {
        let mut writer = CsvWriter::new(&mut out, CsvDialect::Rfc4180);
        writer.write_row(&["a", "b"]).unwrap();
    }
    assert_eq!(out, b"a,b\n");
}

/// A typed record's rows (written through its view) quote what needs
/// quoting: its strings may hold quotes, commas, line breaks and control
/// characters that a page's unescaped strings never hold.
#[test]
fn typed_records_with_quotes_and_line_breaks_read_back() {
    use tw_export::model::EmployeeSkillClusters;
    use tw_export::output::{Format, RecordWriter};

    let record: EmployeeSkillClusters = serde_json::from_str(
        r#"{"external_id":"e\"1\n,","skill_clusters":[{"skill_cluster_name":"a,\"b\"\r",
            "current_skills":[{"name":"x\ty\u0001\\"}]}]}"#,
    )
    .unwrap();
    for dialect in [CsvDialect::Techwolf, CsvDialect::Rfc4180] {
        let mut writer = RecordWriter::new(Vec::new(), Format::Csv(dialect));
        writer.begin().unwrap();
        writer.write(&record).unwrap();
        let bytes = writer.finish().unwrap();
        let mut reader = csv::ReaderBuilder::new().from_reader(&bytes[..]);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1, "{dialect:?}");
        assert_eq!(&rows[0][0], "e\"1\n,", "{dialect:?}");
        assert_eq!(&rows[0][2], "a,\"b\"\r", "{dialect:?}");
        assert_eq!(&rows[0][9], "x\ty\u{1}\\", "{dialect:?}");
    }
}

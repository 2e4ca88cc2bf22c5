//! Raw records (checked JSON text, what a JSON export of the command
//! reads) written as CSV: each record is viewed from its text as it is
//! written, and its rows are exactly those typed and viewed records give,
//! in both dialects, with and without read-ahead. So are the rows of
//! `Rows` records (what a CSV export reads), written as their page is
//! decoded.

use std::collections::BTreeMap;
use tw_export::model::{EmployeeSkillClusters, SkillClusters};
use tw_export::output::{CsvDialect, Format, RecordWriter, Rfc4180Csv, TechwolfCsv};

use tw_export::{
    Checkpoint, Client, NoJson, Raw, RawCounted, Repr, Rows, RowsCounted, RowsRecord, Secret,
    Typed, Viewed,
};

mod common;

/// Every item of `bodies` replayed as pages of representation `R`, on
/// this thread.
fn items<R: Repr<SkillClusters>>(bodies: &[Vec<u8>]) -> Vec<R::Item>
where
    R::Item: Clone,
{
    collect::<R>(&common::replaying(bodies))
}

/// Every item of `client`'s export of [`common::request`], each page
/// handed back once read.
fn collect<R: Repr<SkillClusters>>(client: &Client) -> Vec<R::Item>
where
    R::Item: Clone,
{
    let mut items = Vec::new();
    let mut pages = client.pages::<SkillClusters, R>(common::request(), Checkpoint::start(), None);
    while let Some(page) = pages.next() {
        let page = page.unwrap();
        items.extend(page.iter().cloned());
        pages.recycle(page);
    }
    items
}

/// A CSV file of `dialect` with every item written by `write`.
fn csv<I>(
    dialect: CsvDialect,
    items: &[I],
    mut write: impl FnMut(&mut RecordWriter<Vec<u8>, EmployeeSkillClusters>, &I),
) -> Vec<u8> {
    let mut out = RecordWriter::new(Vec::new(), Format::Csv(dialect));
    out.begin().unwrap();
    for item in items {
        write(&mut out, item);
    }
    assert_eq!(out.records(), items.len() as u64);
    out.finish().unwrap()
}

#[test]
fn raw_records_write_the_rows_of_typed_records() {
    // Sandbox pages hold escapes, unknown fields and formula-like names.
    let bodies = common::recorded(300);
    // The same tenant again (same seed), live, read ahead.
    let sandbox = tw_sandbox::Sandbox::start(tw_sandbox::SandboxConfig {
        employees: 300,
        ..Default::default()
    })
    .unwrap();
    let live = Client::builder()
        .base_url(sandbox.base_url())
        .bearer_token(Secret::new("sandbox-token"))
        .read_ahead(true)
        .build()
        .unwrap();
    let typed_records = items::<Typed>(&bodies);
    assert_eq!(typed_records.len(), 300);
    for dialect in [CsvDialect::Techwolf, CsvDialect::Rfc4180] {
        let typed = csv(dialect, &typed_records, |out, record| {
            out.write(record).unwrap();
        });
        let viewed = csv(dialect, &items::<Viewed>(&bodies), |out, record| {
            out.write_viewed(record).unwrap();
        });
        assert!(viewed == typed, "{dialect:?}: viewed rows differ");
        // Rows written as pages are decoded, in either dialect: a writer
        // of the other dialect writes the record from its text.
        let with_rows = |records: Vec<RowsRecord>| {
            let one_by_one = csv(dialect, &records, |out, record| {
                out.write_rows_record(record).unwrap();
            });
            // All at once: runs of one page's records go out in one go,
            // each run ending where the next page starts.
            let mut out =
                RecordWriter::<_, EmployeeSkillClusters>::new(Vec::new(), Format::Csv(dialect));
            out.begin().unwrap();
            out.write_rows_page(&records).unwrap();
            assert_eq!(out.records(), records.len() as u64);
            let at_once = out.finish().unwrap();
            assert!(
                at_once == one_by_one,
                "{dialect:?}: rows of a page at once differ"
            );
            one_by_one
        };
        for (records, what) in [
            (items::<Rows<TechwolfCsv>>(&bodies), "techwolf rows"),
            (items::<Rows<Rfc4180Csv>>(&bodies), "rfc4180 rows"),
            (collect::<Rows<TechwolfCsv>>(&live), "techwolf rows, live"),
            (collect::<Rows<Rfc4180Csv>>(&live), "rfc4180 rows, live"),
        ] {
            assert_eq!(records.len(), 300, "{what}");
            assert!(with_rows(records) == typed, "{dialect:?}: {what} differ");
        }
        // Without their JSON, into a writer of their own dialect.
        let records = match dialect {
            CsvDialect::Techwolf => items::<Rows<TechwolfCsv, NoJson>>(&bodies),
            CsvDialect::Rfc4180 => items::<Rows<Rfc4180Csv, NoJson>>(&bodies),
        };
        assert_eq!(records.len(), 300);
        let texts: Vec<bool> = records.iter().map(|r| !r.as_str().is_empty()).collect();
        let last_of_page: Vec<bool> = (0..300).map(|i| i % 100 == 99).collect();
        assert_eq!(
            texts, last_of_page,
            "only a page's last record keeps its text"
        );
        // Into another dialect: refused, with what to do, and nothing
        // written.
        let other = match dialect {
            CsvDialect::Techwolf => CsvDialect::Rfc4180,
            CsvDialect::Rfc4180 => CsvDialect::Techwolf,
        };
        let mut out = RecordWriter::<_, EmployeeSkillClusters>::new(Vec::new(), Format::Csv(other));
        let err = out.write_rows_record(&records[0]).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("WithJson"), "{err}");
        assert_eq!(out.records(), 0);
        assert!(out.finish().unwrap().is_empty());
        assert!(
            with_rows(records) == typed,
            "{dialect:?}: rows without JSON differ"
        );
        for records in [items::<Raw>(&bodies), collect::<Raw>(&live)] {
            let raw = csv(dialect, &records, |out, record| {
                out.write_raw_record(record).unwrap();
            });
            assert!(raw == typed, "{dialect:?}: rows of raw records differ");
            // The same records as text (a pretty-printed one included).
            let text = csv(dialect, &records, |out, record| {
                let pretty: serde_json::Value = serde_json::from_str(record.as_str()).unwrap();
                out.write_raw(&serde_json::to_string_pretty(&pretty).unwrap())
                    .unwrap();
            });
            assert!(text == typed, "{dialect:?}: rows of record texts differ");
        }
    }
    drop(live);
    sandbox.stop();
}

#[test]
fn text_that_is_not_a_record_is_refused_and_writes_nothing() {
    let mut out = RecordWriter::<_, EmployeeSkillClusters>::new(
        Vec::new(),
        Format::Csv(CsvDialect::Techwolf),
    );
    out.begin().unwrap();
    out.flush().unwrap();
    let header = out.get_ref().len();
    for (bad, names) in [
        (r#"{"external_id":2}"#, "external_id"),
        (r#"{"skill_clusters":[]}"#, "external_id"),
        (
            r#"{"external_id":"e1","skill_clusters":[{"current_skills":[{"name":5}]}]}"#,
            "current_skills[0].name",
        ),
        (r#"{"external_id":"e1""#, "EOF"),
        ("[]", "expected"),
    ] {
        let err = out.write_raw(bad).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{bad}");
        assert!(err.to_string().contains(names), "{bad}: {err}");
    }
    assert_eq!(out.records(), 0);
    out.flush().unwrap();
    assert_eq!(out.get_ref().len(), header, "nothing but the header");
    // A record after the refused ones is written as usual.
    out.write_raw(r#"{"external_id":"e1"}"#).unwrap();
    let written = out.finish().unwrap();
    assert_eq!(
        &written[header..],
        b"\"e1\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\r\n"
    );
}

#[test]
fn rows_of_a_page_the_walk_leaves_to_serde_are_written_once() {
    // The second record's surrogate pair is left to serde once the first
    // record's rows are written: those rows are forgotten, and every
    // record's rows come again from the decoded page.
    let body = br#"{"has_next":false,"records":[
        {"external_id":"e1","skill_clusters":[{"skill_cluster_name":"Data","current_skills":[{"name":"SQL"},{"name":"=Rust"}]}]},
        {"external_id":"\ud83d\ude00","skill_clusters":[{"skill_cluster_name":"Ops"}]}
    ]}"#;
    let bodies = [body.to_vec()];
    let typed_records = items::<Typed>(&bodies);
    assert_eq!(typed_records.len(), 2);
    for dialect in [CsvDialect::Techwolf, CsvDialect::Rfc4180] {
        let typed = csv(dialect, &typed_records, |out, record| {
            out.write(record).unwrap();
        });
        for records in [
            items::<Rows<TechwolfCsv>>(&bodies),
            items::<Rows<Rfc4180Csv>>(&bodies),
        ] {
            let rows = csv(dialect, &records, |out, record| {
                out.write_rows_record(record).unwrap();
            });
            assert_eq!(
                String::from_utf8(rows).unwrap(),
                String::from_utf8(typed.clone()).unwrap()
            );
        }
    }
}

/// The unknown fields each page of `R` counted, by page, as its first
/// record hands them on (`None` for a page that brought none).
fn page_counts<R: Repr<SkillClusters>>(
    bodies: &[Vec<u8>],
    counted: fn(&R::Item) -> Option<&BTreeMap<String, u64>>,
) -> Vec<Option<BTreeMap<String, u64>>> {
    page_counts_up_to::<R>(bodies, None, counted)
}

/// [`page_counts`] of an export of at most `max_records` records.
fn page_counts_up_to<R: Repr<SkillClusters>>(
    bodies: &[Vec<u8>],
    max_records: Option<u64>,
    counted: fn(&R::Item) -> Option<&BTreeMap<String, u64>>,
) -> Vec<Option<BTreeMap<String, u64>>> {
    let client = common::replaying(bodies);
    let mut pages =
        client.pages::<SkillClusters, R>(common::request(), Checkpoint::start(), max_records);
    let mut counts = Vec::new();
    while let Some(page) = pages.next() {
        let page = page.unwrap();
        assert!(
            page.iter().skip(1).all(|item| counted(item).is_none()),
            "only a page's first record hands on its counts"
        );
        counts.push(page.first().and_then(counted).cloned());
        pages.recycle(page);
    }
    counts
}

#[test]
fn rows_counted_records_count_each_pages_unknown_fields_as_raw_ones_do() {
    // Sandbox pages hold unknown fields at several depths.
    let bodies = common::recorded(300);
    let raw = page_counts::<RawCounted>(&bodies, |r| r.page_unknown_fields());
    assert_eq!(raw.len(), 3);
    assert!(
        raw.iter()
            .all(|counts| counts.as_ref().is_some_and(|c| c.len() > 1))
    );
    for rows in [
        page_counts::<RowsCounted<TechwolfCsv>>(&bodies, RowsRecord::page_unknown_fields),
        page_counts::<RowsCounted<Rfc4180Csv>>(&bodies, RowsRecord::page_unknown_fields),
    ] {
        assert_eq!(rows, raw);
    }
    // The rows are those of records that do not count.
    let counted = items::<RowsCounted<TechwolfCsv>>(&bodies);
    let plain = items::<Rows<TechwolfCsv, NoJson>>(&bodies);
    let rows = |records: &[RowsRecord]| {
        csv(CsvDialect::Techwolf, records, |out, record| {
            out.write_rows_record(record).unwrap();
        })
    };
    assert_eq!(rows(&counted), rows(&plain));
    // Records that do not count hand on nothing.
    let none = page_counts::<Rows<TechwolfCsv>>(&bodies, RowsRecord::page_unknown_fields);
    assert_eq!(none, [None, None, None]);
}

#[test]
fn a_page_the_walk_leaves_to_serde_counts_its_unknown_fields_once() {
    // The first record is viewed (and its unknown fields counted) before
    // the second's surrogate pair sends the page to serde: the counts
    // start over with the rows.
    let body = br#"{"has_next":false,"records":[
        {"external_id":"e1","team":"a","skill_clusters":[{"skill_cluster_name":"Data","weight":1,"current_skills":[{"name":"SQL","level":2}]}]},
        {"external_id":"\ud83d\ude00","team":"b","skill_clusters":[{"skill_cluster_name":"Ops"}]}
    ]}"#;
    let bodies = [body.to_vec()];
    let expected = BTreeMap::from([
        ("skill_clusters[].current_skills[].level".to_owned(), 1),
        ("skill_clusters[].weight".to_owned(), 1),
        ("team".to_owned(), 2),
    ]);
    let raw = page_counts::<RawCounted>(&bodies, |r| r.page_unknown_fields());
    assert_eq!(raw, [Some(expected.clone())]);
    let rows = page_counts::<RowsCounted<TechwolfCsv>>(&bodies, RowsRecord::page_unknown_fields);
    assert_eq!(rows, [Some(expected)]);
}

#[test]
fn a_capped_export_counts_the_unknown_fields_of_the_records_it_keeps() {
    // Pages of 100: a cap inside a page keeps part of it, and the counts
    // cover that part only.
    let bodies = common::recorded(300);
    let shape = <EmployeeSkillClusters as tw_export::model::Describe>::shape();
    let all: Vec<serde_json::Value> = items::<Raw>(&bodies)
        .iter()
        .map(|record| serde_json::from_str(record.as_str()).unwrap())
        .collect();
    let sum = |pages: Vec<Option<BTreeMap<String, u64>>>| {
        let mut total = BTreeMap::new();
        for (path, n) in pages.into_iter().flatten().flatten() {
            *total.entry(path).or_insert(0) += n;
        }
        total
    };
    for max in [1, 5, 100, 150, 299] {
        let mut expected = BTreeMap::new();
        for record in &all[..max] {
            tw_export::model::unknown_fields(&shape, record, &mut expected);
        }
        assert!(!expected.is_empty() || max == 1, "{max}");
        let max = Some(max as u64);
        let raw = page_counts_up_to::<RawCounted>(&bodies, max, |r| r.page_unknown_fields());
        assert_eq!(sum(raw), expected, "raw, max {max:?}");
        for rows in [
            page_counts_up_to::<RowsCounted<TechwolfCsv>>(&bodies, max, |r| {
                r.page_unknown_fields()
            }),
            page_counts_up_to::<RowsCounted<Rfc4180Csv>>(&bodies, max, |r| r.page_unknown_fields()),
        ] {
            assert_eq!(sum(rows), expected, "rows, max {max:?}");
        }
    }
}

//! What the export paths allocate, counted by an instrumented global
//! allocator (this test binary's only test, so nothing else allocates
//! meanwhile). Pages are recorded from the sandbox first, the sandbox is
//! stopped, and the export replays them from memory on this thread (no
//! read-ahead), so every allocation counted is the export's own.

// The measured counts are printed (`--nocapture`) for the benchmark notes.
#![allow(clippy::print_stderr)]

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::hint::black_box;

use tw_export::model::view::ObjectView;
use tw_export::model::{EmployeeSkillClusters, SkillClusters, Table, decode_view_page};
use tw_export::output::{CsvDialect, Format, RecordWriter, TechwolfCsv};
use tw_export::{Checkpoint, Raw, Rows, Viewed};

mod common;

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const EMPLOYEES: u32 = 3_000;

/// Replays `bodies` through `pages::<SkillClusters, R>`, writing every
/// record with `write` and handing each page back; returns the records
/// written and the allocations made from page `warm` on.
fn replay<R: tw_export::Repr<SkillClusters>>(
    bodies: &[Vec<u8>],
    warm: usize,
    mut write: impl FnMut(&R::Item),
) -> (u64, usize) {
    let client = common::replaying(bodies);
    let mut pages = client.pages::<SkillClusters, R>(common::request(), Checkpoint::start(), None);
    let mut records = 0;
    let mut region = None;
    for n in 0.. {
        if n == warm {
            region = Some(Region::new(GLOBAL));
        }
        let Some(page) = pages.next() else { break };
        let page = page.unwrap();
        for record in &page {
            write(record);
            records += 1;
        }
        pages.recycle(page);
    }
    (records, region.unwrap().change().allocations)
}

#[test]
fn exports_allocate_per_page_not_per_record_or_field() {
    let bodies = common::recorded(EMPLOYEES);
    let pages = bodies.len();
    assert_eq!(pages, (EMPLOYEES / 100) as usize);

    // JSON Lines: the raw records written as sent.
    let mut jsonl = RecordWriter::<_, EmployeeSkillClusters>::new(std::io::sink(), Format::Jsonl);
    let (records, allocations) = replay::<Raw>(&bodies, 0, |record| {
        jsonl.write_raw_record(record).unwrap();
    });
    assert_eq!(records, u64::from(EMPLOYEES));
    let per_page = allocations as f64 / pages as f64;
    eprintln!("JSON Lines: {allocations} allocations for {records} records in {pages} pages");
    // A page costs its request, body, record list and cursor: a few dozen
    // allocations, whatever its number of records (100 here).
    assert!(per_page < 50.0, "{per_page} allocations per page");

    // CSV: each page viewed over the last page's views (the pages handed
    // back), written as table rows. Once the first pages have grown the
    // views' lists, viewing allocates nothing: strings stay in the page.
    // What is left is the `extra` cells of objects with unknown fields
    // (the sandbox sends them). A fresh typed decode allocates for every
    // string and list.
    let mut csv = RecordWriter::<_, EmployeeSkillClusters>::new(
        std::io::sink(),
        Format::Csv(CsvDialect::Techwolf),
    );
    let warm = 5;
    let (records, viewed) = replay::<Viewed>(&bodies, warm, |record| {
        csv.write_viewed(record).unwrap();
    });
    assert_eq!(records, u64::from(EMPLOYEES));
    // The command's CSV path: each record of a page viewed into one view
    // and its rows written at once, as the page is decoded; the consumer
    // copies the rows.
    let mut csv = RecordWriter::<_, EmployeeSkillClusters>::new(
        std::io::sink(),
        Format::Csv(CsvDialect::Techwolf),
    );
    let (records, with_rows) = replay::<Rows<TechwolfCsv>>(&bodies, warm, |record| {
        csv.write_rows_record(record).unwrap();
    });
    assert_eq!(records, u64::from(EMPLOYEES));
    // Each record viewed from its text after a scan of its page.
    let mut csv = RecordWriter::<_, EmployeeSkillClusters>::new(
        std::io::sink(),
        Format::Csv(CsvDialect::Techwolf),
    );
    let (records, by_record) = replay::<Raw>(&bodies, warm, |record| {
        csv.write_raw_record(record).unwrap();
    });
    assert_eq!(records, u64::from(EMPLOYEES));
    let region = Region::new(GLOBAL);
    let mut fields = 0;
    for body in &bodies[warm..] {
        let page = tw_export::model::decode_page::<SkillClusters>(body).unwrap();
        black_box(&page);
    }
    let fresh = region.change().allocations;
    let mut views = Vec::new();
    let mut with_unknown = 0;
    for body in &bodies[warm..] {
        let page = decode_view_page::<SkillClusters>(body.clone(), &mut views).unwrap();
        for view in &views {
            <EmployeeSkillClusters as Table>::view_rows(view, &page.text, &mut |row, _| {
                fields += row.len();
                Ok::<(), std::io::Error>(())
            })
            .unwrap();
            let mut objects: Vec<&dyn ObjectView> = vec![view];
            for cluster in view.skill_clusters.as_deref().unwrap_or_default() {
                objects.push(cluster);
                for list in [
                    &cluster.current_skills,
                    &cluster.related_skills,
                    &cluster.rejected_skills,
                ] {
                    for skill in list.as_deref().unwrap_or_default() {
                        objects.push(skill);
                    }
                }
            }
            with_unknown += objects
                .iter()
                .filter(|object| !object.unknowns().is_empty())
                .count();
        }
    }
    let pages_counted = pages - warm;
    eprintln!(
        "CSV over {pages_counted} warm pages ({fields} fields, {with_unknown} objects with \
         unknown fields): {viewed} allocations viewing and writing rows, {with_rows} writing rows \
         as pages are decoded, {by_record} viewing each record from its scanned text; a fresh \
         typed decode alone: {fresh}"
    );
    assert!(
        with_unknown > 0,
        "the sandbox sends unknown fields, so this test sees them"
    );
    // A page costs what a JSON Lines page costs, and each object with
    // unknown fields what its `extra` cell needs (the values kept, the
    // fields sorted, the cell's JSON): never one per field. Measured:
    // 5,327 for 25 pages and 2,325 such objects (0.024 per field).
    let budget = 50 * pages_counted + 3 * with_unknown;
    for (path, allocations) in [
        ("viewed", viewed),
        ("rows as pages are decoded", with_rows),
        ("scanned, then viewed", by_record),
    ] {
        assert!(
            allocations <= budget,
            "{path}: {allocations} allocations for {fields} fields, over {budget} \
             ({pages_counted} pages, {with_unknown} objects with unknown fields)"
        );
    }
    assert!(
        viewed.max(by_record).max(with_rows) * 5 < fresh,
        "viewed {viewed}, rows {with_rows}, by record {by_record} vs fresh {fresh} allocations"
    );
}

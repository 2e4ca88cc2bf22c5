//! What the export paths allocate, counted by an instrumented global
//! allocator (this test binary's only test, so nothing else allocates
//! meanwhile). Pages are recorded from the sandbox first, the sandbox is
//! stopped, and the export replays them from memory on this thread (no
//! read-ahead), so every allocation counted is the export's own.

// The measured counts are printed (`--nocapture`) for the benchmark notes.
#![allow(clippy::print_stderr)]

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tw_export::model::{EmployeeSkillClusters, ExportRequest, SkillClusters, Table, Unknown};
use tw_export::output::{CsvDialect, Format, RecordWriter};
use tw_export::{Checkpoint, Client, Raw, Typed};
use tw_transport::testing::{RecordingTransport, ScriptedTransport};
use tw_transport::{BaseUrl, HttpTransport, Response};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const EMPLOYEES: u32 = 3_000;

/// Every page of the skill-clusters export (pages of 100, every include)
/// of a sandbox tenant; the sandbox is stopped before this returns.
fn recorded() -> Vec<Vec<u8>> {
    let sandbox = tw_sandbox::Sandbox::start(tw_sandbox::SandboxConfig {
        employees: EMPLOYEES,
        ..Default::default()
    })
    .unwrap();
    let http = HttpTransport::new(BaseUrl::parse(&sandbox.base_url()).unwrap()).unwrap();
    let recording = std::sync::Arc::new(
        RecordingTransport::new(http).with_header("Authorization", "Bearer sandbox-token"),
    );
    let client = Client::with_transport(recording.clone());
    for page in client.pages::<SkillClusters, Raw>(request(), Checkpoint::start(), None) {
        page.unwrap();
    }
    sandbox.stop();
    recording.bodies()
}

fn request() -> ExportRequest<SkillClusters> {
    let mut request = ExportRequest::<SkillClusters>::new(100).unwrap();
    request.body.include = tw_export::model::skill_clusters::Include::ALL.to_vec();
    request
}

/// Replays `bodies` through `pages::<SkillClusters, R>`, writing every
/// record with `write` and handing each page back; returns the records
/// written and the allocations made from page `warm` on.
fn replay<R: tw_export::Repr<SkillClusters>>(
    bodies: &[Vec<u8>],
    warm: usize,
    mut write: impl FnMut(&R::Item),
) -> (u64, usize) {
    let replay = ScriptedTransport::new();
    for body in bodies {
        replay.push(Response {
            status: 200,
            headers: Vec::new(),
            body: body.clone(),
        });
    }
    let client = Client::with_transport(replay);
    let mut pages = client.pages::<SkillClusters, R>(request(), Checkpoint::start(), None);
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
    let bodies = recorded();
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

    // CSV: records decoded into the last page's (the pages handed back),
    // written as table rows. Once the first pages have grown the records
    // and the spare lists, decoding allocates only for what it keeps that
    // the model does not type (unknown fields, explicit nulls: the sandbox
    // sends both); a fresh decode allocates for every string and list.
    let mut csv = RecordWriter::new(std::io::sink(), Format::Csv(CsvDialect::Techwolf));
    let warm = 5;
    let (records, in_place) = replay::<Typed>(&bodies, warm, |record| {
        csv.write(record).unwrap();
    });
    assert_eq!(records, u64::from(EMPLOYEES));
    let region = Region::new(GLOBAL);
    let mut fields = 0;
    for body in &bodies[warm..] {
        let page = tw_export::model::decode_page::<SkillClusters>(body).unwrap();
        for record in &page.records {
            record
                .rows(&mut |row, _| {
                    fields += row.len();
                    Ok::<(), std::io::Error>(())
                })
                .unwrap();
        }
    }
    let fresh = region.change().allocations;
    eprintln!(
        "CSV over {} warm pages ({fields} fields): {in_place} allocations decoding in place \
         and writing rows; a fresh decode and the same rows: {fresh}",
        pages - warm
    );
    // Measured: 0.043 per field in place (what decoding keeps of unknown
    // fields and explicit nulls, and the `extra` cells of the objects
    // that have unknown fields), 0.43 fresh.
    assert!(
        in_place * 5 < fresh,
        "in place {in_place} vs fresh {fresh} allocations"
    );
    assert!(
        (in_place as f64) < 0.06 * fields as f64,
        "{in_place} allocations for {fields} fields"
    );

    // The rows alone: numbers, joined lists and nested JSON are written
    // into the writer's one scratch buffer, so only an object with unknown
    // fields allocates (its `extra` cell's JSON: the cell, the list of
    // fields it sorts, and their growth), never a field.
    let records: Vec<EmployeeSkillClusters> = bodies[warm..]
        .iter()
        .flat_map(|body| {
            tw_export::model::decode_page::<SkillClusters>(body)
                .unwrap()
                .records
        })
        .collect();
    let mut with_unknown = 0;
    for record in &records {
        let mut objects: Vec<&dyn Unknown> = vec![record];
        for cluster in record.clusters() {
            objects.push(cluster);
            objects.extend(cluster.skills().map(|(_, skill)| skill as &dyn Unknown));
        }
        for object in objects {
            let mut any = false;
            object.for_each_unknown(&mut |_, _| any = true);
            with_unknown += usize::from(any);
        }
    }
    let mut csv = RecordWriter::new(std::io::sink(), Format::Csv(CsvDialect::Techwolf));
    for record in &records[..100] {
        csv.write(record).unwrap();
    }
    let region = Region::new(GLOBAL);
    for record in &records {
        csv.write(record).unwrap();
    }
    let rows_only = region.change().allocations;
    eprintln!(
        "CSV rows of {} records ({fields} fields, {with_unknown} objects with unknown \
         fields): {rows_only} allocations",
        records.len()
    );
    assert!(
        with_unknown > 0,
        "the sandbox sends unknown fields, so this test sees them"
    );
    assert!(
        rows_only <= 4 * with_unknown,
        "{rows_only} allocations writing rows, {with_unknown} objects with unknown fields"
    );
}

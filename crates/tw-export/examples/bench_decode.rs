//! Benchmark helper for `cargo xtask bench`: decoding speed on in-memory
//! pages served by the sandbox.
//!
//! * Skill clusters (pages of 100 employees, all includes): the one-pass
//!   scanner (what every export reads pages with), views over the
//!   previous page's (`Viewed` records), decoding in place over the
//!   previous page's records, fresh
//!   typed records, and two baselines
//!   on the same bytes: `serde_json::Value` and `serde::de::IgnoredAny`
//!   (the cost of just reading the JSON).
//! * Every dataset (default request, largest page): the scanner next to
//!   `IgnoredAny`, and the two export paths below (`jsonl_out`,
//!   `csv_out`) on its pages.
//!
//! * The two export paths on those pages, without network or disk, as the
//!   command runs them: the scanner, then each record written as JSON
//!   Lines (`jsonl_out`) or viewed from its text and written as TechWolf
//!   CSV rows (`csv_out`), both to `io::sink()`; and the CSV path's
//!   viewing alone, no rows written (`csv_view`). Each path again as
//!   `tw-export all` and `--stats` run it, with the unknown fields
//!   counted by path in the pass that checks the page (`jsonl_counting`,
//!   `csv_counting`).
//! * The same two paths on the same tenant's pages with a field this
//!   release does not know in every employee, cluster and skill
//!   (`SandboxConfig::new_fields`), as on the day the API starts sending
//!   one (`jsonl_out_new_fields`, `csv_out_new_fields`, and counted:
//!   `jsonl_counting_new_fields`, `csv_counting_new_fields`): JSON Lines copies
//!   such a field with the rest of the record, CSV writes it into every
//!   row's `extra` cell.
//!
//! Prints `RESULT <name> <MB/s>` lines. `--quick` for a short run,
//! `--only NAME` to run one skill-clusters decoder alone (for a profiler),
//! `--dump-pages DIR` to write the skill-clusters pages into `DIR` instead.

#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use tw_export::model::{Dataset, ExportRequest};
use tw_export::output::{CsvDialect, Format, RecordWriter, TechwolfCsv};
use tw_export::{Checkpoint, Client, Raw, RawCounted, Repr, Rows, RowsCounted, RowsRecord};
use tw_model::{EmployeeSkillClusters, SkillClusters, SkillClustersPage};
use tw_transport::testing::RecordingTransport;
use tw_transport::{BaseUrl, HttpTransport, Request, Transport};

/// Every response body of dataset `D`'s export (default request, largest
/// page) from `sandbox`.
fn bodies_of<D: Dataset>(sandbox: &tw_sandbox::Sandbox) -> Vec<Vec<u8>> {
    let http = HttpTransport::new(BaseUrl::parse(&sandbox.base_url()).unwrap()).unwrap();
    let recording = Arc::new(
        RecordingTransport::new(http).with_header("Authorization", "Bearer sandbox-token"),
    );
    let client = Client::with_transport(recording.clone());
    let request = ExportRequest::<D>::new(i64::from(D::MAX_LIMIT)).unwrap();
    for page in client.pages::<D, Raw>(request, Checkpoint::start(), None) {
        page.expect("the sandbox serves valid pages");
    }
    recording.bodies()
}

/// An export path over one page at a time (see [`export_paths`]).
type Path = Box<dyn FnMut(&[u8])>;

/// The two export paths without the network or the disk, as the command
/// runs them: for JSON Lines, each page scanned over the last page's items
/// (checked record ranges), then its lines written; for CSV, each page's
/// records viewed one at a time and their TechWolf rows written as the
/// page is decoded, then the page's rows copied. Both write to
/// `io::sink()` and copy the page body first (the command owns it; here it
/// is borrowed).
fn export_paths<D: Dataset>() -> (Path, Path) {
    (jsonl_path::<D>(), csv_path::<D, Rows<TechwolfCsv>>())
}

/// The JSON Lines path of [`export_paths`].
fn jsonl_path<D: Dataset>() -> Path {
    let mut jsonl = RecordWriter::<_, D::Record>::new(std::io::sink(), Format::Jsonl);
    let mut raw_items = Vec::new();
    Box::new(move |b: &[u8]| {
        let page =
            <Raw as Repr<D>>::decode_page(b.to_vec(), std::mem::take(&mut raw_items)).unwrap();
        jsonl.write_raw_page(&page.items).unwrap();
        raw_items = page.items;
    })
}

/// The CSV path of [`export_paths`] over records of representation `R`;
/// a page's unknown fields, when its records count them (`RowsCounted`,
/// as `tw-export all` and `--stats` run it), added to the export's.
fn csv_path<D: Dataset, R: Repr<D, Item = RowsRecord>>() -> Path {
    let mut csv =
        RecordWriter::<_, D::Record>::new(std::io::sink(), Format::Csv(CsvDialect::Techwolf));
    let mut csv_items = Vec::new();
    let mut counts = tw_model::UnknownFields::default();
    Box::new(move |b: &[u8]| {
        let mut page = R::decode_page(b.to_vec(), std::mem::take(&mut csv_items)).unwrap();
        csv.write_rows_page(&page.items).unwrap();
        if let Some(page_counts) = page.items.first().and_then(RowsRecord::page_unknown_fields) {
            counts.add_counts(page_counts);
        }
        black_box(counts.counts());
        R::release(&mut page.items);
        csv_items = page.items;
    })
}

/// The JSON Lines path as `tw-export all` and `--stats` run it: each page
/// scanned as in [`export_paths`], its records' unknown fields counted by
/// path in the same pass (`RawCounted`), its lines written, and the page's
/// counts added to the export's (what the command reports as drift).
fn jsonl_counting_path() -> Path {
    let mut jsonl = RecordWriter::<_, EmployeeSkillClusters>::new(std::io::sink(), Format::Jsonl);
    let mut raw_items = Vec::new();
    let mut counts = tw_model::UnknownFields::default();
    Box::new(move |b: &[u8]| {
        let page = <RawCounted as Repr<SkillClusters>>::decode_page(
            b.to_vec(),
            std::mem::take(&mut raw_items),
        )
        .unwrap();
        jsonl.write_raw_page(&page.items).unwrap();
        if let Some(page_counts) = page.items.first().and_then(|r| r.page_unknown_fields()) {
            counts.add_counts(page_counts);
        }
        black_box(counts.counts());
        raw_items = page.items;
    })
}

/// A named decoder run over one page.
type Run<'a> = (&'a str, &'a mut dyn FnMut(&[u8]));

/// Every skill-clusters page of the sandbox tenant, all includes, as served.
fn skill_cluster_pages(sandbox: &tw_sandbox::Sandbox) -> Vec<Vec<u8>> {
    let http = HttpTransport::new(BaseUrl::parse(&sandbox.base_url()).unwrap()).unwrap();
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut body = serde_json::json!({
            "limit": 100,
            "include": ["current_skills", "related_skills", "rejected_skills", "sources"]
        });
        if let Some(cursor) = &cursor {
            body["starting_after"] = cursor.as_str().into();
        }
        let request = Request::post_json(
            "/export/employees/skill_clusters",
            body.to_string().into_bytes(),
        )
        .with_header("Authorization", "Bearer sandbox-token");
        let page = http.send(&request).expect("the sandbox answers").body;
        let raw = tw_model::decode_raw::<tw_model::EmployeeSkillClusters>(&page).unwrap();
        pages.push(page);
        match raw.next_starting_after {
            Some(next) if raw.has_next => cursor = Some(next),
            _ => return pages,
        }
    }
}

/// The median MB/s of each run over `pages`, runs alternated `rounds`
/// times; `None` for a run `only` leaves out.
fn measure(
    pages: &[Vec<u8>],
    runs: &mut [Run<'_>],
    rounds: usize,
    only: Option<&str>,
) -> Vec<Option<f64>> {
    let bytes: usize = pages.iter().map(Vec::len).sum();
    let mut samples = vec![Vec::new(); runs.len()];
    for _ in 0..rounds {
        for (i, (name, run)) in runs.iter_mut().enumerate() {
            if only.is_some_and(|only| only != *name) {
                continue;
            }
            let start = Instant::now();
            for page in pages {
                run(page);
            }
            samples[i].push(start.elapsed().as_secs_f64());
        }
    }
    samples
        .into_iter()
        .map(|mut times| {
            times.sort_by(f64::total_cmp);
            times
                .get(times.len() / 2)
                .map(|median| bytes as f64 / 1e6 / median)
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let (employees, rounds) = if quick { (2_000, 1) } else { (20_000, 9) };
    let sandbox = tw_sandbox::Sandbox::start(tw_sandbox::SandboxConfig {
        employees,
        ..Default::default()
    })
    .expect("the sandbox starts");

    let pages = skill_cluster_pages(&sandbox);
    // `--dump-pages DIR`: the pages as files (page-0000.json, ...), for
    // measurements outside the workspace (bench/simd-eval,
    // bench/fused-csv), then stop.
    if let Some(dir) = args
        .iter()
        .position(|a| a == "--dump-pages")
        .and_then(|i| args.get(i + 1))
    {
        std::fs::create_dir_all(dir).expect("the directory is created");
        for (i, page) in pages.iter().enumerate() {
            let path = std::path::Path::new(dir).join(format!("page-{i:04}.json"));
            std::fs::write(path, page).expect("the page is written");
        }
        println!("{} pages in {dir}", pages.len());
        return;
    }
    let mut views = Vec::new();
    let mut view = |b: &[u8]| {
        black_box(
            tw_model::decode_view_page::<tw_model::SkillClusters>(b.to_vec(), &mut views).unwrap(),
        );
    };
    let mut records = Vec::new();
    let mut in_place = |b: &[u8]| {
        tw_model::decode_page_into::<tw_model::SkillClusters>(b, &mut records).unwrap();
        black_box(&records);
    };
    let (mut jsonl_out, mut csv_out) = export_paths::<SkillClusters>();
    // The CSV path without its rows: each record viewed as `csv_out`
    // views it, and nothing written (what the rows cost is the difference).
    let mut csv_view = |b: &[u8]| {
        let page = tw_model::view_page_each::<SkillClusters>(b.to_vec(), |record| {
            black_box(&record);
        })
        .unwrap();
        black_box(page);
    };
    let mut jsonl_counting = jsonl_counting_path();
    let mut csv_counting = csv_path::<SkillClusters, RowsCounted<TechwolfCsv>>();
    let mut runs: [Run<'_>; 11] = [
        ("jsonl_out", &mut jsonl_out),
        ("jsonl_counting", &mut jsonl_counting),
        ("csv_out", &mut csv_out),
        ("csv_counting", &mut csv_counting),
        ("csv_view", &mut csv_view),
        ("scan", &mut |b| {
            black_box(tw_model::scan_raw_page::<tw_model::SkillClusters>(b).unwrap());
        }),
        ("view", &mut view),
        ("in_place", &mut in_place),
        ("typed", &mut |b| {
            black_box(tw_model::decode::<SkillClustersPage>(b).unwrap());
        }),
        ("value", &mut |b| {
            black_box(serde_json::from_slice::<serde_json::Value>(b).unwrap());
        }),
        ("ignored_any", &mut |b| {
            black_box(serde_json::from_slice::<serde::de::IgnoredAny>(b).unwrap());
        }),
    ];
    let results = measure(&pages, &mut runs, rounds, only.as_deref());
    for ((name, _), mbps) in runs.iter().zip(results) {
        if let Some(mbps) = mbps {
            println!("RESULT {name} {mbps:.1}");
        }
    }
    println!("RESULT bytes {}", pages.iter().map(Vec::len).sum::<usize>());

    // The export paths again, on the same tenant's pages from a sandbox
    // that puts a field the model does not know in every object.
    let new_fields = tw_sandbox::Sandbox::start(tw_sandbox::SandboxConfig {
        employees,
        new_fields: true,
        ..Default::default()
    })
    .expect("the sandbox starts");
    let new_pages = skill_cluster_pages(&new_fields);
    new_fields.stop();
    let (mut jsonl_new, mut csv_new) = export_paths::<SkillClusters>();
    let mut jsonl_counting_new = jsonl_counting_path();
    let mut csv_counting_new = csv_path::<SkillClusters, RowsCounted<TechwolfCsv>>();
    let mut runs: [Run<'_>; 4] = [
        ("jsonl_out_new_fields", &mut jsonl_new),
        ("jsonl_counting_new_fields", &mut jsonl_counting_new),
        ("csv_out_new_fields", &mut csv_new),
        ("csv_counting_new_fields", &mut csv_counting_new),
    ];
    let results = measure(&new_pages, &mut runs, rounds, only.as_deref());
    for ((name, _), mbps) in runs.iter().zip(results) {
        if let Some(mbps) = mbps {
            println!("RESULT {name} {mbps:.1}");
        }
    }
    if only.is_some() {
        return;
    }

    // Every dataset: the scanner next to just reading the JSON, and the
    // two export paths (what a CSV export costs against a JSON Lines one).
    fn per_dataset<D: Dataset>(sandbox: &tw_sandbox::Sandbox, rounds: usize) {
        let pages = bodies_of::<D>(sandbox);
        let (mut jsonl, mut csv) = export_paths::<D>();
        let mut runs: [Run<'_>; 4] = [
            ("scan", &mut |b| {
                black_box(tw_model::scan_raw_page::<D>(b).expect("the scanner decides"));
            }),
            ("ignored_any", &mut |b| {
                black_box(serde_json::from_slice::<serde::de::IgnoredAny>(b).unwrap());
            }),
            ("jsonl_out", &mut jsonl),
            ("csv_out", &mut csv),
        ];
        let results = measure(&pages, &mut runs, rounds, None);
        let bytes: usize = pages.iter().map(Vec::len).sum();
        let [scan, ignored, jsonl, csv] = [0, 1, 2, 3].map(|i| results[i].unwrap_or(0.0));
        println!(
            "RESULT dataset {} {bytes} {scan:.1} {ignored:.1} {jsonl:.1} {csv:.1}",
            D::NAME,
        );
    }
    macro_rules! each {
        ($($module:ident: $dataset:ty,)*) => {
            $( per_dataset::<$dataset>(&sandbox, rounds); )*
        };
    }
    tw_model::with_datasets!(each);
}

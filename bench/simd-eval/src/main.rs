//! Do SIMD JSON crates read a page faster than tw-model's scanner?
//!
//! The performance issue invited sonic-rs or simd-json if they measure
//! faster. This times, on the same in-memory skill-clusters pages (pages
//! of 100 employees, all includes, as the sandbox serves them), runs
//! alternated round by round, medians:
//!
//! * `scan`: tw-model's one-pass scanner (envelope, record ranges, every
//!   record checked against its model), what every export reads pages with;
//! * `serde IgnoredAny`: serde_json just reading the JSON (the bench's
//!   baseline);
//! * `sonic-rs IgnoredAny`: sonic-rs just reading it;
//! * `sonic-rs records`: sonic-rs finding `records` and each record's raw
//!   text (the envelope and the ranges, no model check);
//! * `simd-json tape`: simd-json's tape of the page (a copy first: it
//!   parses in place), no model check.
//!
//! Neither crate checks a record against its model, so each would be a
//! first pass before the scanner's model check, not a replacement: it only
//! pays if it is much faster than the scanner. Build with
//! `RUSTFLAGS="-C target-cpu=native"` (and another `CARGO_TARGET_DIR`) to
//! give both crates every SIMD instruction of the machine.

use std::hint::black_box;
use std::time::Instant;

use tw_transport::{BaseUrl, HttpTransport, Request, Transport};

fn pages() -> Vec<Vec<u8>> {
    let sandbox = tw_sandbox::Sandbox::start(tw_sandbox::SandboxConfig {
        employees: 5_000,
        ..Default::default()
    })
    .expect("the sandbox starts");
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

type Run<'a> = (&'a str, &'a mut dyn FnMut(&[u8]));

fn main() {
    let pages = pages();
    let bytes: usize = pages.iter().map(Vec::len).sum();
    let rounds = 15;
    let mut runs: [Run<'_>; 5] = [
        ("scan", &mut |b| {
            black_box(tw_model::scan_raw_page::<tw_model::SkillClusters>(b).unwrap());
        }),
        ("serde IgnoredAny", &mut |b| {
            black_box(serde_json::from_slice::<serde::de::IgnoredAny>(b).unwrap());
        }),
        ("sonic-rs IgnoredAny", &mut |b| {
            black_box(sonic_rs::from_slice::<serde::de::IgnoredAny>(b).unwrap());
        }),
        ("sonic-rs records", &mut |b| {
            let records = sonic_rs::get_from_slice(b, ["records"]).unwrap();
            let mut ranges = 0usize;
            for record in sonic_rs::to_array_iter(records.as_raw_str().as_bytes()) {
                ranges += record.unwrap().as_raw_str().len();
            }
            black_box(ranges);
        }),
        ("simd-json tape", &mut |b| {
            let mut copy = b.to_vec();
            black_box(simd_json::to_tape(&mut copy).unwrap().0.len());
        }),
    ];
    let mut samples = vec![Vec::new(); runs.len()];
    for _ in 0..rounds {
        for (i, (_, run)) in runs.iter_mut().enumerate() {
            let start = Instant::now();
            for page in &pages {
                run(page);
            }
            samples[i].push(bytes as f64 / 1e6 / start.elapsed().as_secs_f64());
        }
    }
    println!(
        "{} skill-clusters pages, {:.1} MB, median of {rounds} alternated rounds",
        pages.len(),
        bytes as f64 / 1e6
    );
    let medians: Vec<f64> = samples
        .iter_mut()
        .map(|s| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        })
        .collect();
    println!("{:<22} {:>8} {:>10}", "reader", "MB/s", "vs scan");
    for ((name, _), mbps) in runs.iter().zip(&medians) {
        println!("{name:<22} {mbps:>8.0} {:>9.2}x", mbps / medians[0]);
    }
}

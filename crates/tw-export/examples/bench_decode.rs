//! Benchmark helper for `cargo xtask bench`: decoding speed of skill-clusters
//! pages (100 employees each, all includes, sandbox data) into typed records,
//! next to two baselines on the same bytes: `serde_json::Value` and
//! `serde::de::IgnoredAny` (the cost of just reading the JSON), and the
//! exporter's pass-through path (records kept as raw JSON, each checked
//! against the model without building it).
//!
//! Prints `RESULT <name> <MB/s>` lines. `--quick` for a short run.

#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::time::Instant;

use tw_model::SkillClustersPage;
use tw_sandbox::{IncludeSet, Tenant};

fn pages(employees: u32) -> Vec<Vec<u8>> {
    let tenant = Tenant::generate(employees, 42);
    (0..tenant.len())
        .collect::<Vec<_>>()
        .chunks(100)
        .map(|chunk| {
            let mut page = b"{\"has_next\":true,\"records\":[".to_vec();
            for (i, &index) in chunk.iter().enumerate() {
                if i > 0 {
                    page.push(b',');
                }
                tenant.render(index, IncludeSet::ALL, &mut page);
            }
            page.extend_from_slice(b"],\"next_starting_after\":\"sc1000000000000000000000\"}");
            page
        })
        .collect()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (employees, rounds) = if quick { (2_000, 1) } else { (20_000, 9) };
    let pages = pages(employees);
    let bytes: usize = pages.iter().map(Vec::len).sum();
    type Run = fn(&[u8]);
    let runs: [(&str, Run); 4] = [
        ("raw_checked", |b| {
            black_box(tw_model::decode_raw::<tw_model::EmployeeSkillClusters>(b).unwrap());
        }),
        ("typed", |b| {
            black_box(tw_model::decode::<SkillClustersPage>(b).unwrap());
        }),
        ("value", |b| {
            black_box(serde_json::from_slice::<serde_json::Value>(b).unwrap());
        }),
        ("ignored_any", |b| {
            black_box(serde_json::from_slice::<serde::de::IgnoredAny>(b).unwrap());
        }),
    ];
    let mut samples = vec![Vec::new(); runs.len()];
    for _ in 0..rounds {
        for (i, (_, run)) in runs.iter().enumerate() {
            let start = Instant::now();
            for page in &pages {
                run(page);
            }
            samples[i].push(start.elapsed().as_secs_f64());
        }
    }
    for ((name, _), mut times) in runs.iter().zip(samples) {
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!("RESULT {name} {:.1}", bytes as f64 / 1e6 / median);
    }
    println!("RESULT bytes {bytes}");
}

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
use tw_transport::{BaseUrl, HttpTransport, Request, Transport};

/// Every page of a sandbox tenant of `employees`, all includes, as served.
fn pages(employees: u32) -> Vec<Vec<u8>> {
    let sandbox = tw_sandbox::Sandbox::start(tw_sandbox::SandboxConfig {
        employees,
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    // `--only NAME`: one decoder alone (for a profiler).
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let (employees, rounds) = if quick { (2_000, 1) } else { (20_000, 9) };
    let pages = pages(employees);
    let bytes: usize = pages.iter().map(Vec::len).sum();
    type Run = fn(&[u8]);
    let runs: [(&str, Run); 5] = [
        ("scan", |b| {
            black_box(tw_model::scan_raw_page::<tw_model::SkillClusters>(b).unwrap());
        }),
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
        for (i, (name, run)) in runs.iter().enumerate() {
            if only.as_ref().is_some_and(|only| only != name) {
                samples[i].push(f64::NAN);
                continue;
            }
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

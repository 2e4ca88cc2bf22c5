//! Do SIMD JSON crates read a page faster than tw-model's scanner?
//!
//! The performance issue invited sonic-rs or simd-json if they measure
//! faster. This times, on the same in-memory skill-clusters pages (pages
//! of 100 employees, all includes, as the sandbox serves them, written by
//! `bench_decode --dump-pages DIR`), runs alternated round by round,
//! medians:
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
//!
//! ```text
//! cargo run --release -p tw-export --example bench_decode -- --dump-pages /tmp/pages
//! cargo run --release --manifest-path bench/simd-eval/Cargo.toml -- /tmp/pages
//! ```

use std::hint::black_box;
use std::time::Instant;

/// The pages `bench_decode --dump-pages DIR` wrote, in order.
fn pages(dir: &str) -> Vec<Vec<u8>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("the pages directory (bench_decode --dump-pages DIR) is there")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no page-*.json in {dir}");
    paths
        .iter()
        .map(|path| std::fs::read(path).expect("a page"))
        .collect()
}

type Run<'a> = (&'a str, &'a mut dyn FnMut(&[u8]));

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: simd-eval DIR (pages written by bench_decode --dump-pages DIR)");
    let pages = pages(&dir);
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

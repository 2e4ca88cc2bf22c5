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

#[path = "../../dumped_pages.rs"]
mod dumped_pages;

use dumped_pages::{Run, median_seconds, pages};

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
    let seconds = median_seconds(&pages, &mut runs, rounds);
    println!(
        "{} skill-clusters pages, {:.1} MB, median of {rounds} alternated rounds",
        pages.len(),
        bytes as f64 / 1e6
    );
    let medians: Vec<f64> = seconds.iter().map(|s| bytes as f64 / 1e6 / s).collect();
    println!("{:<22} {:>8} {:>10}", "reader", "MB/s", "vs scan");
    for ((name, _), mbps) in runs.iter().zip(&medians) {
        println!("{name:<22} {mbps:>8.0} {:>9.2}x", mbps / medians[0]);
    }
}

//! Pagination overhead per item: drains 1,000,000 items in pages of 100
//! from an in-memory source, next to a baseline that flattens the same
//! pre-built pages with no pagination at all. Runs are alternated and
//! repeated; the median is reported, with the ratio to the baseline.
//!
//! `cargo bench -p tw-paginate` (or `-- --quick` for one short round).

#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use tw_paginate::{Cursor, Page, Paginator};

const PAGE: usize = 100;

type Run = fn(Vec<Vec<u64>>) -> u64;

fn pages(items: usize) -> Vec<Vec<u64>> {
    (0..items as u64)
        .collect::<Vec<_>>()
        .chunks(PAGE)
        .map(<[u64]>::to_vec)
        .collect()
}

fn baseline(pages: Vec<Vec<u64>>) -> u64 {
    pages.into_iter().flatten().map(black_box).sum()
}

fn source(pages: Vec<Vec<u64>>) -> impl FnMut(Option<&Cursor>) -> Result<Page<u64>, ()> + Send {
    let total = pages.len();
    let mut pages = pages.into_iter();
    let mut index = 0;
    move |_cursor| {
        index += 1;
        Ok(Page {
            items: pages.next().unwrap_or_default(),
            has_next: index < total,
            next_cursor: (index < total).then(|| Cursor::new(index.to_string())),
        })
    }
}

fn plain(pages: Vec<Vec<u64>>) -> u64 {
    Paginator::new(source(pages))
        .items()
        .map(|item| black_box(item.unwrap()))
        .sum()
}

fn read_ahead(pages: Vec<Vec<u64>>) -> u64 {
    Paginator::new(source(pages))
        .items_read_ahead()
        .map(|item| black_box(item.unwrap()))
        .sum()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let (items, rounds) = if quick { (100_000, 1) } else { (1_000_000, 7) };
    let expected: u64 = (0..items as u64).sum();
    let runs: [(&str, Run); 3] = [
        ("baseline: flatten pre-built pages", baseline),
        ("tw-paginate items()", plain),
        ("tw-paginate items_read_ahead()", read_ahead),
    ];
    let mut samples = vec![Vec::new(); runs.len()];
    for _ in 0..rounds {
        for (i, (_, run)) in runs.iter().enumerate() {
            let input = pages(items);
            let start = Instant::now();
            let sum = run(input);
            samples[i].push(start.elapsed());
            assert_eq!(sum, expected);
        }
    }
    let medians: Vec<Duration> = samples.into_iter().map(median).collect();
    let per_item = |d: Duration| d.as_nanos() as f64 / items as f64;
    println!("drain {items} items in pages of {PAGE}, median of {rounds} alternated rounds");
    println!("{:<36} {:>10} {:>12}", "run", "ns/item", "vs baseline");
    for ((name, _), median) in runs.iter().zip(&medians) {
        println!(
            "{name:<36} {:>10.2} {:>11.2}x",
            per_item(*median),
            median.as_secs_f64() / medians[0].as_secs_f64()
        );
    }
    println!(
        "pagination overhead: {:.2} ns/item (target < 20 ns/item)",
        per_item(medians[1]) - per_item(medians[0])
    );
}

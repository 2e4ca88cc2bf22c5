//! What the measurements outside the workspace (`bench/simd-eval`,
//! `bench/fused-csv`) share: the pages `bench_decode --dump-pages DIR`
//! wrote, and timing runs over them alternated round by round. Each crate
//! takes it with `#[path = "../../dumped_pages.rs"] mod dumped_pages;`.

use std::time::Instant;

/// The pages `bench_decode --dump-pages DIR` wrote, in order.
pub fn pages(dir: &str) -> Vec<Vec<u8>> {
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

/// A named run: what it does with one page.
pub type Run<'a> = (&'a str, &'a mut dyn FnMut(&[u8]));

/// The median time, in seconds, each run takes over all `pages`, the runs
/// alternated `rounds` times (odd, so the median is one round's).
pub fn median_seconds(pages: &[Vec<u8>], runs: &mut [Run<'_>], rounds: usize) -> Vec<f64> {
    let mut samples = vec![Vec::new(); runs.len()];
    for _ in 0..rounds {
        for (i, (_, run)) in runs.iter_mut().enumerate() {
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
            times[times.len() / 2]
        })
        .collect()
}

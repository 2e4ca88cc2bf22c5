//! What the views of the CSV path keep in memory, counted by an
//! instrumented global allocator (this test binary's only test; the
//! sandbox that recorded the pages has ended all its threads before the
//! count starts).

// The measured bytes are printed (`--nocapture`) for the benchmark notes.
#![allow(clippy::print_stderr)]

use std::hint::black_box;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tw_export::model::{SkillClusters, decode_view_page};

mod common;

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// The views every page is viewed over (as the export's read-ahead thread
/// views each page over a written one's) keep what the pages need, not
/// more with every page: an export of any size stays in the same memory.
#[test]
fn views_keep_the_same_memory_however_many_pages_they_view() {
    let bodies = common::recorded(6_000);
    let pages = bodies.len();
    let page_bytes = bodies.iter().map(Vec::len).sum::<usize>() / pages;

    let region = Region::new(GLOBAL);
    let mut views = Vec::new();
    let mut kept = Vec::new();
    for body in &bodies {
        black_box(decode_view_page::<SkillClusters>(body.clone(), &mut views).unwrap());
        let stats = region.change();
        // stats_alloc counts what `realloc` adds or frees in these two too.
        kept.push(stats.bytes_allocated as isize - stats.bytes_deallocated as isize);
    }
    let (early, last) = (kept[pages / 3 - 1], kept[pages - 1]);
    eprintln!(
        "views keep {early} bytes after {} pages, {last} after {pages}; a page is {page_bytes} bytes",
        pages / 3
    );
    // Measured: 454 kB after 20 pages, 487 kB after 60, for pages of
    // 152 kB (after 300 pages: 495 kB).
    assert!(
        last * 10 <= early * 11,
        "views kept {early} bytes after {} pages and {last} after {pages}",
        pages / 3
    );
    assert!(
        last < 4 * page_bytes as isize,
        "views keep {last} bytes for pages of {page_bytes}"
    );
    drop(views);
}

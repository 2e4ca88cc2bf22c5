//! Resuming: from checkpoints, from errors, from a finished run.

use tw_paginate::{Checkpoint, Paginator};

use crate::Scripted;

#[test]
fn resume_after_an_error_completes_the_run_without_gaps_or_repeats() {
    let failing = Scripted::uniform(6, 7).failing_at(4);
    let mut first: Vec<u32> = Vec::new();
    let mut checkpoint = None;
    for item in Paginator::new(failing.clone()).items() {
        match item {
            Ok(item) => first.push(item),
            Err(err) => checkpoint = Some(err.checkpoint().clone()),
        }
    }
    let checkpoint = checkpoint.expect("the injected error");
    assert_eq!(checkpoint.items, 28);

    let healthy = Scripted::uniform(6, 7);
    let mut rest = Paginator::resume(healthy.clone(), checkpoint).items();
    first.extend(rest.by_ref().map(Result::unwrap));
    assert_eq!(first, healthy.all_items());
    assert_eq!(
        healthy.fetches(),
        2,
        "only pages 4 and 5 were fetched again"
    );
    assert_eq!(rest.yielded(), 42, "counts carry over");
    assert_eq!(rest.pages_fetched(), 6);
}

#[test]
fn a_complete_checkpoint_fetches_nothing() {
    let source = Scripted::uniform(2, 3);
    let mut items = Paginator::new(source.clone()).items();
    assert_eq!(items.by_ref().count(), 6);
    let done = items.checkpoint().clone();
    assert_eq!(
        done,
        Checkpoint {
            cursor: None,
            pages: 2,
            items: 6,
            complete: true
        }
    );

    let again = Scripted::uniform(2, 3);
    assert_eq!(Paginator::resume(again.clone(), done).items().count(), 0);
    assert_eq!(again.fetches(), 0);
}

#[test]
fn item_checkpoint_moves_only_at_page_boundaries() {
    let source = Scripted::uniform(3, 4);
    let mut items = Paginator::new(source).items();
    assert_eq!(items.checkpoint(), &Checkpoint::start());
    let mut boundaries = Vec::new();
    while let Some(item) = items.next() {
        item.unwrap();
        let checkpoint = items.checkpoint();
        boundaries.push((items.yielded(), checkpoint.items, checkpoint.cursor.clone()));
    }
    let expected: Vec<(u64, u64, Option<tw_paginate::Cursor>)> = (1..=12)
        .map(|n: u64| {
            let whole = n / 4;
            let cursor = match whole {
                0 => None,
                3 => None,
                w => Some(format!("c{w}").into()),
            };
            (n, whole * 4, cursor)
        })
        .collect();
    assert_eq!(boundaries, expected);
    assert!(items.checkpoint().complete);
}

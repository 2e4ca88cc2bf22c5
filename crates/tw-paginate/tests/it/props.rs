//! Pagination invariants over any split of a dataset into pages.

use proptest::prelude::*;
use tw_paginate::{Error, Paginator};

use crate::Scripted;

/// 1 to 12 pages of 0 to 6 items each, numbered in order.
fn split() -> impl Strategy<Value = Vec<Vec<u32>>> {
    prop::collection::vec(0usize..7, 1..13).prop_map(|sizes| {
        let mut next = 0;
        sizes
            .into_iter()
            .map(|size| {
                let page = (next..next + size as u32).collect();
                next += size as u32;
                page
            })
            .collect()
    })
}

fn outcome<I: Iterator<Item = Result<u32, Error<std::io::Error>>>>(
    iter: I,
) -> (Vec<u32>, Vec<String>) {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for result in iter {
        match result {
            Ok(item) => items.push(item),
            Err(err) => errors.push(err.to_string()),
        }
    }
    (items, errors)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn items_equal_the_dataset_in_order(pages in split()) {
        let source = Scripted::new(pages);
        let (items, errors) = outcome(Paginator::new(source.clone()).items());
        prop_assert!(errors.is_empty());
        prop_assert_eq!(items, source.all_items());
        prop_assert_eq!(source.fetches(), source.pages.len());
    }

    #[test]
    fn an_error_at_page_k_yields_the_first_k_pages_then_one_err(
        (pages, k) in split().prop_flat_map(|p| { let n = p.len(); (Just(p), 0..n) })
    ) {
        let source = Scripted::new(pages).failing_at(k);
        let expected: Vec<u32> = source.pages[..k].iter().flatten().copied().collect();
        let mut iter = Paginator::new(source).items();
        let mut items = Vec::new();
        let err = loop {
            match iter.next() {
                Some(Ok(item)) => items.push(item),
                Some(Err(err)) => break err,
                None => panic!("ended without the injected error"),
            }
        };
        prop_assert_eq!(&items, &expected);
        prop_assert_eq!(err.checkpoint().pages, k as u64);
        prop_assert_eq!(err.checkpoint().items, expected.len() as u64);
        prop_assert!(iter.next().is_none());
        prop_assert!(iter.next().is_none());
    }

    #[test]
    fn resuming_from_a_checkpoint_after_any_page_yields_exactly_the_rest(
        (pages, j) in split().prop_flat_map(|p| { let n = p.len(); (Just(p), 0..=n) })
    ) {
        let source = Scripted::new(pages);
        let mut first = Paginator::new(source.clone()).pages();
        let mut seen: Vec<u32> = Vec::new();
        for page in first.by_ref().take(j) {
            seen.extend(page.unwrap());
        }
        let checkpoint = first.checkpoint().clone();
        prop_assert_eq!(checkpoint.pages, j as u64);
        prop_assert_eq!(checkpoint.items, seen.len() as u64);
        drop(first);

        let mut rest_iter = Paginator::resume(source.clone(), checkpoint).items();
        let rest: Vec<u32> = rest_iter.by_ref().map(Result::unwrap).collect();
        seen.extend(rest);
        prop_assert_eq!(seen, source.all_items());
        prop_assert_eq!(rest_iter.yielded(), source.all_items().len() as u64);
        prop_assert!(rest_iter.checkpoint().complete);
    }

    #[test]
    fn item_checkpoints_at_page_boundaries_are_exact(
        (pages, n) in split().prop_flat_map(|p| {
            let total: usize = p.iter().map(Vec::len).sum();
            (Just(p), 0..=total)
        })
    ) {
        let source = Scripted::new(pages);
        let mut iter = Paginator::new(source.clone()).items();
        let taken: Vec<u32> = iter.by_ref().take(n).map(Result::unwrap).collect();
        let checkpoint = iter.checkpoint().clone();
        prop_assert!(checkpoint.items <= iter.yielded());
        prop_assert_eq!(iter.yielded(), n as u64);
        // Resume and drop what the checkpoint does not cover: nothing lost or repeated.
        let overlap = (iter.yielded() - checkpoint.items) as usize;
        let rest: Vec<u32> = Paginator::resume(source.clone(), checkpoint)
            .items()
            .map(Result::unwrap)
            .skip(overlap)
            .collect();
        let mut all = taken;
        all.extend(rest);
        prop_assert_eq!(all, source.all_items());
    }

    #[test]
    fn take_n_fetches_the_minimum_number_of_pages(
        (pages, n) in split().prop_flat_map(|p| {
            let total: usize = p.iter().map(Vec::len).sum();
            (Just(p), 0..=total + 2)
        })
    ) {
        let source = Scripted::new(pages);
        let got = Paginator::new(source.clone()).items().take(n).count();
        let total = source.all_items().len();
        prop_assert_eq!(got, n.min(total));
        let minimum = if n == 0 {
            0
        } else {
            let mut sum = 0;
            source
                .pages
                .iter()
                .position(|page| { sum += page.len(); sum >= n })
                .map_or(source.pages.len(), |i| i + 1)
        };
        prop_assert_eq!(source.fetches(), minimum);
    }

    #[test]
    fn read_ahead_yields_the_same_as_plain(
        (pages, fail) in split().prop_flat_map(|p| { let n = p.len(); (Just(p), prop::option::of(0..n + 1)) })
    ) {
        let mut source = Scripted::new(pages);
        source.fail_at = fail;
        let plain = outcome(Paginator::new(source.clone()).items());
        let ahead = outcome(Paginator::new(source.clone()).items_read_ahead());
        prop_assert_eq!(plain, ahead);
        let plain_pages: Vec<_> = Paginator::new(source.clone()).pages().map(|p| p.map_err(|e| e.to_string())).collect();
        let ahead_pages: Vec<_> = Paginator::new(source).pages_read_ahead().map(|p| p.map_err(|e| e.to_string())).collect();
        prop_assert_eq!(plain_pages, ahead_pages);
    }
}

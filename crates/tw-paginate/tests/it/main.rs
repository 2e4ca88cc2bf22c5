//! Integration tests of tw-paginate: one module per topic.

mod guards;
mod props;
mod read_ahead;
mod resume;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tw_paginate::{Cursor, Page, PageSource};

/// A page source over fixed pages: page `i` is fetched with cursor `c{i}`
/// (none for page 0), and fails with `boom at page {i}` when `i == fail_at`.
#[derive(Clone, Debug)]
pub struct Scripted {
    pub pages: Arc<Vec<Vec<u32>>>,
    pub fail_at: Option<usize>,
    pub fetches: Arc<AtomicUsize>,
}

impl Scripted {
    pub fn new(pages: Vec<Vec<u32>>) -> Self {
        Scripted {
            pages: Arc::new(pages),
            fail_at: None,
            fetches: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn failing_at(mut self, page: usize) -> Self {
        self.fail_at = Some(page);
        self
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Pages of `size` numbered items, `count` of them.
    pub fn uniform(count: usize, size: usize) -> Self {
        let pages = (0..count)
            .map(|p| (0..size).map(|i| (p * size + i) as u32).collect())
            .collect();
        Scripted::new(pages)
    }

    pub fn all_items(&self) -> Vec<u32> {
        self.pages.iter().flatten().copied().collect()
    }
}

impl PageSource for Scripted {
    type Item = u32;
    type Error = std::io::Error;

    fn fetch(&mut self, cursor: Option<&Cursor>) -> Result<Page<u32>, Self::Error> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let index = match cursor {
            None => 0,
            Some(cursor) => cursor.as_str()[1..]
                .parse::<usize>()
                .expect("a cursor we made"),
        };
        if Some(index) == self.fail_at {
            return Err(std::io::Error::other(format!("boom at page {index}")));
        }
        let has_next = index + 1 < self.pages.len();
        Ok(Page {
            items: self.pages[index].clone(),
            has_next,
            next_cursor: has_next.then(|| Cursor::new(format!("c{}", index + 1))),
        })
    }
}

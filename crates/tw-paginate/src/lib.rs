//! A generic, lazy, fallible, resumable cursor-pagination iterator.
//!
//! # Why this crate exists
//!
//! Every TechWolf export is the same loop: fetch a page with a cursor, yield
//! its records, follow `next_starting_after` until `has_next` is false. The
//! loop is short, and easy to get subtly wrong: a server that says "more"
//! without a cursor, or hands back a cursor it already gave, turns a naive
//! `loop` into an infinite one or a silent partial export. This crate runs
//! that loop once, correctly, for any page source, and knows nothing of HTTP
//! or JSON.
//!
//! * **Lazy**: a page is fetched only when the consumer needs an item from it
//!   (`take(5)` over pages of 100 makes one fetch).
//! * **Fallible**: items are `Result<T, Error<E>>`; after the first `Err` the
//!   iterator yields `None` forever ([`FusedIterator`](std::iter::FusedIterator)).
//! * **Guarded**: a missing cursor, a repeated cursor and an endless run of
//!   empty pages each stop with their own [`Error`] variant instead of
//!   looping or stopping silently.
//! * **Resumable**: [`Items::checkpoint`] tells where a new iterator continues
//!   without losing or repeating an item; every error carries one too.
//! * **Read-ahead** (optional): the next page is fetched on a background
//!   thread while the consumer works through the current one.
//!
//! # Example
//!
//! A blocking script over a closure-based source:
//!
//! ```
//! use tw_paginate::{Cursor, Page, Paginator};
//!
//! // A stand-in for an HTTP call: 250 numbers in pages of 100.
//! let fetch = |cursor: Option<&Cursor>| -> Result<Page<u32>, std::io::Error> {
//!     let start: u32 = cursor.map_or(0, |c| c.as_str().parse().unwrap());
//!     let end = (start + 100).min(250);
//!     Ok(Page {
//!         items: (start..end).collect(),
//!         has_next: end < 250,
//!         next_cursor: (end < 250).then(|| Cursor::new(end.to_string())),
//!     })
//! };
//!
//! fn sum_all(fetch: impl FnMut(Option<&Cursor>) -> Result<Page<u32>, std::io::Error>)
//!     -> Result<u64, Box<dyn std::error::Error>>
//! {
//!     let mut sum = 0;
//!     for item in Paginator::new(fetch).items() {
//!         sum += u64::from(item?);
//!     }
//!     Ok(sum)
//! }
//!
//! assert_eq!(sum_all(fetch)?, (0..250).sum::<u64>());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The checkpoint contract
//!
//! A [`Checkpoint`] is taken at a *page boundary*: it records the cursor of
//! the next page to fetch and how many pages and items lie before it.
//!
//! * [`Items::checkpoint`] returns the boundary after the last page whose
//!   every item has been yielded. While the consumer is part-way through a
//!   page, it is the boundary *before* that page: its `items` count is then
//!   lower than [`Items::yielded`], and resuming repeats the part of the page
//!   already yielded. Taken right after the last item of a page (or whenever
//!   `yielded() == checkpoint().items`), it is exact.
//! * [`Pages::checkpoint`] returns the boundary after the last page yielded.
//! * An [`Error`] carries the boundary before the page that failed; items of
//!   that page are never yielded, so resuming from it is exact.
//! * [`Paginator::resume`] from a checkpoint continues with the page after
//!   it, carrying the counts over. From a `complete` checkpoint it fetches
//!   nothing. Cursors are the server's, so "exact" assumes the server serves
//!   the same cursor the same way; TechWolf's exports read live data, so
//!   records changed meanwhile can move.
//! * A cap (`max_items`) that ends the iteration part-way through a page
//!   leaves the checkpoint before that page.

#![deny(missing_docs)]

mod engine;
mod error;
mod iter;

use std::fmt;

pub use crate::error::Error;
pub use crate::iter::{Items, Pages, Paginator};

/// An opaque cursor: the server's token for "continue after here".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor(String);

impl Cursor {
    /// Wraps the server's cursor text.
    pub fn new(value: impl Into<String>) -> Self {
        Cursor(value.into())
    }

    /// The cursor text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The cursor text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl From<String> for Cursor {
    fn from(value: String) -> Self {
        Cursor(value)
    }
}

impl From<&str> for Cursor {
    fn from(value: &str) -> Self {
        Cursor(value.to_owned())
    }
}

/// One page as a [`PageSource`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The page's items, in order.
    pub items: Vec<T>,
    /// Whether another page follows.
    pub has_next: bool,
    /// The cursor for the next page, as the server sent it. Never derived
    /// from the items unless a fallback is set with
    /// [`Paginator::cursor_fallback`].
    pub next_cursor: Option<Cursor>,
}

/// Something that fetches pages: the first with `None`, each later one with
/// the cursor the previous page gave.
///
/// Closures `FnMut(Option<&Cursor>) -> Result<Page<T>, E>` are page sources.
pub trait PageSource {
    /// The item of a page.
    type Item;
    /// The error of a fetch.
    type Error;

    /// Fetches the page after `cursor` (the first page for `None`).
    fn fetch(&mut self, cursor: Option<&Cursor>) -> Result<Page<Self::Item>, Self::Error>;
}

impl<T, E, F> PageSource for F
where
    F: FnMut(Option<&Cursor>) -> Result<Page<T>, E>,
{
    type Item = T;
    type Error = E;

    fn fetch(&mut self, cursor: Option<&Cursor>) -> Result<Page<T>, E> {
        self(cursor)
    }
}

/// A resumable position at a page boundary; see the crate docs for the
/// exact contract.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// The cursor to fetch the next page with; `None` before the first page
    /// (and once complete).
    pub cursor: Option<Cursor>,
    /// Pages before this point.
    pub pages: u64,
    /// Items before this point.
    pub items: u64,
    /// Whether the last page (`has_next: false`) lies before this point.
    pub complete: bool,
}

impl Checkpoint {
    /// The start: no cursor, nothing delivered.
    pub fn start() -> Self {
        Checkpoint::default()
    }

    /// A position after `cursor`, with no counts (for `--starting-after`
    /// style starts).
    pub fn after(cursor: Cursor) -> Self {
        Checkpoint {
            cursor: Some(cursor),
            ..Checkpoint::default()
        }
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pages = plural(self.pages, "page", "pages");
        let items = plural(self.items, "item", "items");
        match (&self.cursor, self.complete) {
            (_, true) => write!(f, "complete after {pages} and {items}"),
            (Some(cursor), false) => write!(
                f,
                "{pages} and {items} delivered; resume after cursor {cursor}"
            ),
            (None, false) => write!(f, "{pages} and {items} delivered; resume from the start"),
        }
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

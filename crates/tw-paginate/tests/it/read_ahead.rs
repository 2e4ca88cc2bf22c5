//! Read-ahead: overlap, bounded memory, early drop, panics.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use tw_paginate::{Cursor, Page, PageSource, Paginator};

use crate::Scripted;

/// A source of pages `0..pages`, each `size` copies of its number (the
/// cursor is the next number), that sends the number of every page it
/// fetches on the channel [`reporting`] returns; the channel closes when
/// the source is dropped (when a read-ahead thread ends, say).
struct Reporting {
    pages: u32,
    size: usize,
    fetched: mpsc::Sender<u32>,
}

impl PageSource for Reporting {
    type Item = u32;
    type Error = String;

    fn fetch(&mut self, cursor: Option<&Cursor>) -> Result<Page<u32>, String> {
        let index: u32 = cursor.map_or(0, |c| c.as_str().parse().unwrap());
        self.fetched.send(index).unwrap();
        let has_next = index + 1 < self.pages;
        Ok(Page {
            items: vec![index; self.size],
            has_next,
            next_cursor: has_next.then(|| Cursor::new((index + 1).to_string())),
        })
    }
}

/// A [`Reporting`] source and the channel of the pages it fetches.
fn reporting(pages: u32, size: usize) -> (Reporting, mpsc::Receiver<u32>) {
    let (fetched, fetches) = mpsc::channel();
    let source = Reporting {
        pages,
        size,
        fetched,
    };
    (source, fetches)
}

#[test]
fn the_next_page_is_fetched_while_the_current_one_is_consumed() {
    let (source, rx) = reporting(5, 3);
    let mut items = Paginator::new(source).items_read_ahead();
    assert_eq!(items.next().unwrap().unwrap(), 0);
    // The consumer holds page 0 and asks for nothing more, yet page 1 is fetched.
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 0);
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 1);
    // ...but not page 2: one page ahead, no more.
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    let rest: Vec<u32> = items.map(Result::unwrap).collect();
    assert_eq!(rest, [0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
}

#[test]
fn dropping_the_iterator_stops_the_background_thread() {
    // The channel closes when the background thread ends and drops the
    // source: the event this test waits for.
    let (source, fetches) = reporting(1000, 10);
    let mut items = Paginator::new(source).items_read_ahead();
    assert!(items.next().is_some());
    drop(items);
    // The producer finishes at most the fetch under way, then sees the
    // closed channel and ends, closing `fetches`.
    let count = fetches.iter().count();
    assert!(count <= 3, "fetched {count} pages of 1000");
}

#[test]
fn a_panic_in_the_source_reaches_the_consumer() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let source = move |_: Option<&Cursor>| -> Result<Page<u32>, String> {
        if counter.fetch_add(1, Ordering::SeqCst) == 1 {
            panic!("source exploded");
        }
        Ok(Page {
            items: vec![1],
            has_next: true,
            next_cursor: Some(Cursor::new("n")),
        })
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Paginator::new(source).items_read_ahead().count()
    }));
    let panic = result.expect_err("the panic must not look like the end of the data");
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"source exploded"));
}

#[test]
fn next_within_takes_a_page_only_once_it_is_fetched() {
    // Page 1 is fetched only once the test lets it: until then the
    // consumer is told it is not there, and nothing moves.
    let (gate, opened) = mpsc::channel::<()>();
    let opened = Mutex::new(opened);
    let source = move |cursor: Option<&Cursor>| -> Result<Page<u32>, String> {
        let index: u32 = cursor.map_or(0, |c| c.as_str().parse().unwrap());
        if index == 1 {
            opened.lock().unwrap().recv().unwrap();
        }
        if index == 2 {
            return Err("page 2 failed".to_owned());
        }
        Ok(Page {
            items: vec![index],
            has_next: true,
            next_cursor: Some(Cursor::new((index + 1).to_string())),
        })
    };
    let mut pages = Paginator::new(source).pages_read_ahead();
    assert_eq!(pages.next().unwrap().unwrap(), [0]);
    let after_first = pages.checkpoint().clone();
    assert!(pages.next_within(Duration::ZERO).is_pending());
    assert!(pages.next_within(Duration::from_millis(5)).is_pending());
    assert_eq!(
        pages.checkpoint(),
        &after_first,
        "a pending poll takes nothing"
    );

    gate.send(()).unwrap();
    // Waits as long as it takes the page to arrive: an event, not a window.
    match pages.next_within(Duration::from_secs(60)) {
        Poll::Ready(Some(Ok(items))) => assert_eq!(items, [1]),
        other => panic!("expected page 1, got {other:?}"),
    }
    assert_eq!(pages.checkpoint().pages, after_first.pages + 1);
    // An error is handed over as `next` hands it, and ends the pages; the
    // checkpoint stays after the last page taken.
    match pages.next_within(Duration::from_secs(60)) {
        Poll::Ready(Some(Err(err))) => {
            assert_eq!(
                err.source_error().map(String::as_str),
                Some("page 2 failed")
            );
        }
        other => panic!("expected the error, got {other:?}"),
    }
    assert_eq!(pages.checkpoint().pages, after_first.pages + 1);
    assert!(matches!(
        pages.next_within(Duration::ZERO),
        Poll::Ready(None)
    ));
    assert!(pages.next().is_none());
}

#[test]
fn next_within_reports_the_end_and_never_waits_without_read_ahead() {
    let mut inline = Paginator::new(Scripted::uniform(2, 3)).pages();
    assert!(inline.next_within(Duration::from_secs(60)).is_pending());
    assert_eq!(inline.by_ref().count(), 2);
    assert!(matches!(
        inline.next_within(Duration::ZERO),
        Poll::Ready(None)
    ));

    let mut ahead = Paginator::new(Scripted::uniform(2, 3)).pages_read_ahead();
    let mut taken = 0;
    loop {
        match ahead.next_within(Duration::from_secs(60)) {
            Poll::Ready(Some(page)) => {
                page.unwrap();
                taken += 1;
            }
            Poll::Ready(None) => break,
            Poll::Pending => panic!("a page that is on its way is waited for"),
        }
    }
    assert_eq!(taken, 2);
}

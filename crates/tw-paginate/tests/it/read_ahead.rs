//! Read-ahead: overlap, bounded memory, early drop, panics.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tw_paginate::{Cursor, Page, Paginator};

use crate::Scripted;

#[test]
fn the_next_page_is_fetched_while_the_current_one_is_consumed() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let source = move |cursor: Option<&Cursor>| -> Result<Page<u32>, String> {
        let index: u32 = cursor.map_or(0, |c| c.as_str().parse().unwrap());
        tx.lock().unwrap().send(index).unwrap();
        Ok(Page {
            items: vec![index; 3],
            has_next: index < 4,
            next_cursor: (index < 4).then(|| Cursor::new((index + 1).to_string())),
        })
    };
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
    let source = Scripted::uniform(1000, 10);
    let fetches = source.fetches.clone();
    let mut items = Paginator::new(source).items_read_ahead();
    assert!(items.next().is_some());
    drop(items);
    // The producer finishes at most the fetch under way, then sees the
    // closed channel; give it time, then check the count no longer moves.
    std::thread::sleep(Duration::from_millis(100));
    let after_drop = fetches.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(fetches.load(Ordering::SeqCst), after_drop);
    assert!(after_drop <= 3, "fetched {after_drop} pages of 1000");
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

//! Each guard, each cap, and the error messages.

use tw_paginate::{Checkpoint, Cursor, Error, Page, Paginator};

use crate::Scripted;

type Script = Vec<(Vec<u32>, bool, Option<&'static str>)>;
type AskedLog = std::rc::Rc<std::cell::RefCell<Vec<Option<String>>>>;

/// A source that serves `script` in order, whatever cursor it is given, and
/// records the cursors it was asked for.
fn replay(
    script: Script,
) -> (
    impl FnMut(Option<&Cursor>) -> Result<Page<u32>, std::io::Error>,
    AskedLog,
) {
    let asked = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let log = asked.clone();
    let mut script = script.into_iter();
    let source = move |cursor: Option<&Cursor>| {
        log.borrow_mut().push(cursor.map(|c| c.as_str().to_owned()));
        let (items, has_next, next) = script.next().expect("fetched past the script");
        Ok(Page {
            items,
            has_next,
            next_cursor: next.map(Cursor::from),
        })
    };
    (source, asked)
}

fn drain<I: Iterator<Item = Result<u32, E>>, E>(iter: I) -> (Vec<u32>, Vec<E>) {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for result in iter {
        match result {
            Ok(item) => items.push(item),
            Err(err) => errors.push(err),
        }
    }
    (items, errors)
}

#[test]
fn follows_the_server_cursor_not_the_items() {
    let (source, asked) = replay(vec![
        (vec![1, 2], true, Some("opaque-x")),
        (vec![3], true, Some("opaque-y")),
        (vec![4], false, None),
    ]);
    let (items, errors) = drain(Paginator::new(source).items());
    assert_eq!(items, [1, 2, 3, 4]);
    assert!(errors.is_empty());
    assert_eq!(
        *asked.borrow(),
        [None, Some("opaque-x".into()), Some("opaque-y".into())]
    );
}

#[test]
fn has_next_without_cursor_is_an_error_not_a_stop() {
    let (source, _) = replay(vec![(vec![1, 2], true, Some("a")), (vec![3], true, None)]);
    let mut items = Paginator::new(source).items();
    let (got, errors) = drain(items.by_ref());
    assert_eq!(
        got,
        [1, 2],
        "items of the page without a cursor are not yielded"
    );
    let [err] = errors.as_slice() else {
        panic!("{errors:?}")
    };
    assert!(matches!(err, Error::MissingCursor { .. }));
    assert!(err.is_protocol());
    assert_eq!(
        err.checkpoint(),
        &Checkpoint {
            cursor: Some("a".into()),
            pages: 1,
            items: 2,
            complete: false
        }
    );
    insta::assert_snapshot!("missing_cursor", err);
    assert!(items.next().is_none() && items.next().is_none(), "fused");
}

#[test]
fn fallback_derives_the_cursor_only_when_it_is_missing() {
    let (source, asked) = replay(vec![
        (vec![10, 11], true, None),
        (vec![12], true, Some("server")),
        (vec![13], false, None),
    ]);
    let items = Paginator::new(source)
        .cursor_fallback(|item: &u32| Some(Cursor::new(format!("id-{item}"))))
        .items();
    let (got, errors) = drain(items);
    assert_eq!(got, [10, 11, 12, 13]);
    assert!(errors.is_empty());
    assert_eq!(
        *asked.borrow(),
        [None, Some("id-11".into()), Some("server".into())]
    );

    // An empty page gives the fallback nothing to work with.
    let (source, _) = replay(vec![(vec![], true, None)]);
    let (_, errors) = drain(
        Paginator::new(source)
            .cursor_fallback(|_| Some("x".into()))
            .items(),
    );
    assert!(matches!(errors.as_slice(), [Error::MissingCursor { .. }]));
}

#[test]
fn the_same_cursor_twice_in_a_row_is_a_loop() {
    let (source, _) = replay(vec![
        (vec![1], true, Some("c1")),
        (vec![2], true, Some("c1")),
        (vec![3], false, None),
    ]);
    let (got, errors) = drain(Paginator::new(source).items());
    assert_eq!(got, [1]);
    let [err @ Error::RepeatedCursor { cursor, .. }] = errors.as_slice() else {
        panic!("{errors:?}")
    };
    assert_eq!(cursor.as_str(), "c1");
    assert_eq!(err.checkpoint().cursor, Some("c1".into()));
    insta::assert_snapshot!("repeated_cursor", err);
}

#[test]
fn a_cursor_seen_earlier_is_a_loop() {
    let (source, _) = replay(vec![
        (vec![1], true, Some("c1")),
        (vec![2], true, Some("c2")),
        (vec![3], true, Some("c3")),
        (vec![4], true, Some("c1")),
    ]);
    let (got, errors) = drain(Paginator::new(source).items());
    assert_eq!(got, [1, 2, 3]);
    assert!(
        matches!(errors.as_slice(), [Error::RepeatedCursor { checkpoint, .. }] if checkpoint.pages == 3)
    );
}

#[test]
fn the_start_cursor_coming_back_is_a_loop() {
    let (source, _) = replay(vec![(vec![7], true, Some("start"))]);
    let (got, errors) = drain(
        Paginator::new(source)
            .starting_after("start".into())
            .items(),
    );
    assert!(got.is_empty());
    assert!(matches!(errors.as_slice(), [Error::RepeatedCursor { .. }]));
}

fn empty_pages_then_data(empties: usize) -> Script {
    let cursors: Vec<&'static str> = (0..=empties)
        .map(|i| &*Box::leak(format!("e{i}").into_boxed_str()))
        .collect();
    let mut script: Script = (0..empties)
        .map(|i| (vec![], true, Some(cursors[i])))
        .collect();
    script.push((vec![42], false, None));
    script
}

#[test]
fn empty_pages_are_legal_up_to_the_limit() {
    let (source, _) = replay(empty_pages_then_data(99));
    let (got, errors) = drain(Paginator::new(source).items());
    assert_eq!(got, [42]);
    assert!(errors.is_empty());

    let (source, asked) = replay(empty_pages_then_data(100));
    let (got, errors) = drain(Paginator::new(source).items());
    assert!(got.is_empty());
    let [err] = errors.as_slice() else {
        panic!("{errors:?}")
    };
    assert!(matches!(err, Error::TooManyEmptyPages { count: 100, .. }));
    assert_eq!(asked.borrow().len(), 100, "stopped at the 100th empty page");
    assert_eq!(err.checkpoint().pages, 99);
    insta::assert_snapshot!("too_many_empty_pages", err);

    let (source, _) = replay(empty_pages_then_data(3));
    let (_, errors) = drain(Paginator::new(source).max_empty_pages(3).items());
    assert!(matches!(
        errors.as_slice(),
        [Error::TooManyEmptyPages { count: 3, .. }]
    ));
}

#[test]
fn empty_runs_reset_on_a_page_with_items() {
    let mut script: Script = Vec::new();
    for round in 0..3 {
        for i in 0..2 {
            let cursor: &'static str = Box::leak(format!("r{round}e{i}").into_boxed_str());
            script.push((vec![], true, Some(cursor)));
        }
        let cursor: &'static str = Box::leak(format!("r{round}d").into_boxed_str());
        script.push((vec![round], true, Some(cursor)));
    }
    script.push((vec![], false, None));
    let (source, _) = replay(script);
    let (got, errors) = drain(Paginator::new(source).max_empty_pages(3).items());
    assert_eq!(got, [0, 1, 2]);
    assert!(errors.is_empty());
}

#[test]
fn source_errors_carry_the_checkpoint_and_the_cause() {
    let source = Scripted::uniform(5, 10).failing_at(3);
    let mut items = Paginator::new(source).items();
    let (got, errors) = drain(items.by_ref());
    assert_eq!(got.len(), 30);
    let [err] = errors.as_slice() else {
        panic!("{errors:?}")
    };
    assert!(err.is_source());
    assert_eq!(err.source_error().unwrap().to_string(), "boom at page 3");
    let cause = std::error::Error::source(err).expect("the source error is the cause");
    assert_eq!(cause.to_string(), "boom at page 3");
    insta::assert_snapshot!("source_error", err);
    assert!(items.next().is_none());
}

#[test]
fn caps_end_cleanly() {
    let source = Scripted::uniform(10, 100);
    let mut pages = Paginator::new(source.clone()).max_pages(2).pages();
    assert_eq!(
        pages.by_ref().map(|p| p.unwrap().len()).collect::<Vec<_>>(),
        [100, 100]
    );
    assert_eq!(source.fetches(), 2);
    assert_eq!(pages.checkpoint().cursor, Some("c2".into()));

    let source = Scripted::uniform(10, 100);
    let mut items = Paginator::new(source.clone()).max_items(150).items();
    let got: Vec<u32> = items.by_ref().map(Result::unwrap).collect();
    assert_eq!(got, (0..150).collect::<Vec<_>>());
    assert_eq!(source.fetches(), 2);
    assert_eq!(items.yielded(), 150);
    assert_eq!(
        items.checkpoint(),
        &Checkpoint {
            cursor: Some("c1".into()),
            pages: 1,
            items: 100,
            complete: false
        },
        "a cap part-way through a page leaves the checkpoint before it"
    );

    let source = Scripted::uniform(3, 100);
    let got = Paginator::new(source.clone())
        .max_items(200)
        .items()
        .count();
    assert_eq!(
        (got, source.fetches()),
        (200, 2),
        "no fetch past an exact cap"
    );
}

#[test]
fn take_fetches_only_what_it_needs() {
    let source = Scripted::uniform(10, 100);
    let first: Vec<u32> = Paginator::new(source.clone())
        .items()
        .take(5)
        .map(Result::unwrap)
        .collect();
    assert_eq!(first, [0, 1, 2, 3, 4]);
    assert_eq!(source.fetches(), 1);

    let source = Scripted::uniform(10, 100);
    let _ = Paginator::new(source.clone()).items();
    assert_eq!(source.fetches(), 0, "creating the iterator fetches nothing");
}

#[test]
fn checkpoint_display() {
    insta::assert_snapshot!(
        "checkpoints",
        [
            Checkpoint::start(),
            Checkpoint::after("abc".into()),
            Checkpoint {
                cursor: Some("x\"y".into()),
                pages: 1,
                items: 1,
                complete: false
            },
            Checkpoint {
                cursor: None,
                pages: 12,
                items: 1200,
                complete: true
            },
        ]
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
    );
}

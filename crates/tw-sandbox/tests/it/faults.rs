//! Each fault fires on schedule; each protocol violation looks as described.

use std::time::{Duration, Instant};

use tw_sandbox::Faults;

use crate::client::Client;
use crate::{request, with_faults};

fn statuses(faults: Faults, requests: usize) -> Vec<u16> {
    let sandbox = with_faults(2000, faults);
    let mut out = Vec::new();
    let mut client = Client::connect(sandbox.addr()).unwrap();
    for _ in 0..requests {
        match client.export(&request(5)) {
            Ok(reply) => out.push(reply.status),
            Err(_) => {
                out.push(0);
                client = Client::connect(sandbox.addr()).unwrap();
            }
        }
    }
    out
}

#[test]
fn rate_limits_carry_retry_after() {
    let mut faults = Faults::default();
    faults.rate_limit_every = Some(3);
    faults.retry_after_secs = 7;
    assert_eq!(
        statuses(faults.clone(), 7),
        [200, 200, 429, 200, 200, 429, 200]
    );
    let sandbox = with_faults(10, faults);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    client.export(&request(1)).unwrap();
    client.export(&request(1)).unwrap();
    let reply = client.export(&request(1)).unwrap();
    assert_eq!(reply.header("retry-after"), Some("7"));
    assert_eq!(reply.json()["error"], "rate_limited");
}

#[test]
fn server_errors_and_expired_tokens_on_schedule() {
    let mut faults = Faults::default();
    faults.server_error_every = Some(2);
    assert_eq!(statuses(faults, 5), [200, 503, 200, 503, 200]);
    let mut faults = Faults::default();
    faults.unauthorized_every = Some(4);
    assert_eq!(
        statuses(faults, 8),
        [200, 200, 200, 401, 200, 200, 200, 401]
    );
}

#[test]
fn dropped_connections_and_cut_bodies() {
    let mut faults = Faults::default();
    faults.close_every = Some(3);
    assert_eq!(statuses(faults, 6), [200, 200, 0, 200, 200, 0]);

    let mut faults = Faults::default();
    faults.cut_body_every = Some(2);
    let sandbox = with_faults(100, faults);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    assert_eq!(client.export(&request(50)).unwrap().status, 200);
    let err = client
        .export(&request(50))
        .expect_err("a cut body cannot be read in full");
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    let log = sandbox.requests();
    assert_eq!(log.len(), 2);
}

#[test]
fn slow_answers_and_latency() {
    let mut faults = Faults::default();
    faults.slow_every = Some(2);
    faults.slow_delay = Duration::from_millis(300);
    let sandbox = with_faults(10, faults);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    let started = Instant::now();
    client.export(&request(1)).unwrap();
    let fast = started.elapsed();
    let started = Instant::now();
    assert_eq!(client.export(&request(1)).unwrap().status, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "slow answer took {:?} (the fast one {fast:?})",
        started.elapsed()
    );

    let mut faults = Faults::default();
    faults.latency = Duration::from_millis(50);
    let sandbox = with_faults(10, faults);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    let started = Instant::now();
    for _ in 0..3 {
        client.export(&request(1)).unwrap();
    }
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[test]
fn held_answers_wait_for_release() {
    let sandbox = with_faults(100, Faults::default());
    sandbox.hold_after(1);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    assert_eq!(client.export(&request(5)).unwrap().status, 200);
    // The next two (on two connections) arrive and are logged, and wait.
    let (answered, answers) = std::sync::mpsc::channel();
    let waiting: Vec<_> = [client, Client::connect(sandbox.addr()).unwrap()]
        .into_iter()
        .map(|mut client| {
            let answered = answered.clone();
            std::thread::spawn(move || {
                let status = client.export(&request(5)).unwrap().status;
                answered.send(status).unwrap();
            })
        })
        .collect();
    let started = Instant::now();
    while sandbox.requests().len() < 3 {
        assert!(started.elapsed() < Duration::from_secs(60), "not logged");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(answers.try_recv().is_err(), "a held request was answered");
    sandbox.release();
    for thread in waiting {
        thread.join().unwrap();
    }
    assert_eq!(answers.try_iter().collect::<Vec<_>>(), [200, 200]);

    // Dropping the sandbox lets a held answer go too.
    let sandbox = with_faults(10, Faults::default());
    sandbox.hold_after(0);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    let waiting = std::thread::spawn(move || client.export(&request(1)).map(|r| r.status));
    let started = Instant::now();
    while sandbox.requests().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60), "not logged");
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(sandbox);
    assert_eq!(waiting.join().unwrap().unwrap(), 200);
}

#[test]
fn a_repeated_cursor() {
    let mut faults = Faults::default();
    faults.repeat_cursor = true;
    let sandbox = with_faults(100, faults);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    let first = client.export(&request(10)).unwrap().json();
    let mut body = request(10);
    body["starting_after"] = first["next_starting_after"].clone();
    let second = client.export(&body).unwrap().json();
    assert_eq!(second["has_next"], true);
    assert_eq!(second["next_starting_after"], first["next_starting_after"]);
}

#[test]
fn has_next_without_a_cursor() {
    let mut faults = Faults::default();
    faults.missing_cursor = true;
    let sandbox = with_faults(100, faults);
    let page = Client::connect(sandbox.addr())
        .unwrap()
        .export(&request(10))
        .unwrap()
        .json();
    assert_eq!(page["has_next"], true);
    assert!(page.get("next_starting_after").is_none());
}

#[test]
fn empty_pages_with_has_next() {
    let mut faults = Faults::default();
    faults.empty_pages = 3;
    let sandbox = with_faults(25, faults);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    let pages = crate::all_pages(&mut client, &request(10));
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["records"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [10, 0, 0, 0, 10, 0, 0, 0, 5]);
    let mut cursors: Vec<&serde_json::Value> = pages
        .iter()
        .filter_map(|p| p.get("next_starting_after"))
        .collect();
    let n = cursors.len();
    cursors.sort_by_key(|c| c.to_string());
    cursors.dedup();
    assert_eq!(cursors.len(), n, "every empty page carries a new cursor");
    assert_eq!(crate::records(&pages).len(), 25);
}

//! Retries: what is retried, how long it waits, when it gives up.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tw_transport::testing::ScriptedTransport;
use tw_transport::{Error, NetworkKind, Request, RetryPolicy, RetryTransport, Transport};

use crate::server::{Reply, TestServer};
use crate::{Sleeps, checked_message, http, retrying, snapshot};

fn export() -> Request {
    Request::post_json(
        "/export/employees/skill_clusters",
        br#"{"limit":100}"#.to_vec(),
    )
}

#[test]
fn retry_after_seconds_is_honoured() {
    let server = TestServer::start(|_, i| match i {
        0 => Reply::json(429, r#"{"detail":"slow down"}"#).with_header("Retry-After", "7"),
        _ => Reply::json(200, "{}"),
    });
    let sleeps = Sleeps::default();
    let transport = retrying(&server.url(), &sleeps);
    transport.send(&export()).unwrap();
    assert_eq!(sleeps.recorded(), [Duration::from_secs(7)]);
    assert_eq!(server.requests().len(), 2);
    assert_eq!(transport.retries(), 1);
    let bodies: Vec<_> = server.requests().iter().map(|s| s.body.clone()).collect();
    assert_eq!(bodies[0], bodies[1], "the same body is replayed");
}

#[test]
fn retry_after_as_an_http_date_is_honoured() {
    let server = TestServer::start(|_, i| match i {
        0 => {
            let at = SystemTime::now() + Duration::from_secs(20);
            Reply::json(503, "").with_header("Retry-After", &httpdate::fmt_http_date(at))
        }
        _ => Reply::json(200, "{}"),
    });
    let sleeps = Sleeps::default();
    retrying(&server.url(), &sleeps).send(&export()).unwrap();
    let [wait] = sleeps.recorded()[..] else {
        panic!("{:?}", sleeps.recorded())
    };
    assert!(
        (Duration::from_secs(18)..=Duration::from_secs(20)).contains(&wait),
        "{wait:?}"
    );
}

#[test]
fn a_retry_after_over_the_cap_fails_fast() {
    let server = TestServer::start(|_, _| Reply::json(429, "").with_header("Retry-After", "3600"));
    let sleeps = Sleeps::default();
    let err = retrying(&server.url(), &sleeps)
        .send(&export())
        .unwrap_err();
    assert!(matches!(err, Error::RetryAfterTooLong { .. }), "{err:?}");
    assert!(sleeps.recorded().is_empty(), "did not sleep for an hour");
    snapshot!("retry_after_too_long", checked_message(&err));
}

#[test]
fn server_errors_then_success() {
    let server = TestServer::start(|_, i| match i {
        0 => Reply::json(500, "oops"),
        1 => Reply::json(502, "<html>bad gateway</html>"),
        2 => Reply::json(504, ""),
        _ => Reply::json(200, r#"{"ok":true}"#),
    });
    let sleeps = Sleeps::default();
    let response = retrying(&server.url(), &sleeps).send(&export()).unwrap();
    assert_eq!(response.body, br#"{"ok":true}"#);
    // Full jitter: each wait is at most its doubling ceiling.
    let ceilings = [500, 1000, 2000].map(Duration::from_millis);
    let waits = sleeps.recorded();
    assert_eq!(waits.len(), 3);
    for (wait, ceiling) in waits.iter().zip(ceilings) {
        assert!(*wait <= ceiling, "{wait:?} > {ceiling:?}");
    }
}

#[test]
fn dropped_connections_and_cut_bodies_are_retried() {
    let server = TestServer::start(|_, i| match i {
        0 => Reply::Close,
        1 => Reply::Truncate {
            declared: 1000,
            body: b"{\"has_next\"".to_vec(),
        },
        2 => Reply::Delay(Duration::from_secs(3), Box::new(Reply::json(200, "{}"))),
        _ => Reply::json(200, r#"{"ok":1}"#),
    });
    let sleeps = Sleeps::default();
    let mut config = tw_transport::HttpConfig::default();
    config.request_timeout = Duration::from_millis(500);
    let http = tw_transport::HttpTransport::with_config(
        tw_transport::BaseUrl::parse(&server.url()).unwrap(),
        config,
    )
    .unwrap();
    let log = sleeps.0.clone();
    let transport = RetryTransport::new(http, RetryPolicy::default())
        .with_sleeper(move |d| log.lock().unwrap().push(d));
    let response = transport.send(&export()).unwrap();
    assert_eq!(response.body, br#"{"ok":1}"#);
    assert_eq!(server.requests().len(), 4);
    assert_eq!(transport.retries(), 3);
}

#[test]
fn client_errors_are_never_retried() {
    for status in [400, 401, 403, 404, 409, 422] {
        let server = TestServer::start(move |_, _| Reply::json(status, "no"));
        let sleeps = Sleeps::default();
        let err = retrying(&server.url(), &sleeps)
            .send(&export())
            .unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.attempts(), 1);
        assert_eq!(server.requests().len(), 1, "status {status}");
        assert!(sleeps.recorded().is_empty());
    }
}

#[test]
fn exhaustion_reports_the_last_error_and_the_attempts() {
    let server =
        TestServer::start(|_, _| Reply::json(503, r#"{"error": "maintenance until 14:00 UTC"}"#));
    let sleeps = Sleeps::default();
    let err = retrying(&server.url(), &sleeps)
        .send(&export())
        .unwrap_err();
    assert_eq!(err.attempts(), 5);
    assert_eq!(server.requests().len(), 5);
    assert_eq!(sleeps.recorded().len(), 4);
    snapshot!("exhausted", checked_message(&err));
}

#[test]
fn the_total_time_budget_stops_retries() {
    let scripted = ScriptedTransport::new();
    for _ in 0..5 {
        scripted.push_with_header(503, ("Retry-After", "40"), "busy");
    }
    let mut policy = RetryPolicy::default();
    policy.max_total = Duration::from_secs(100);
    let sleeps = Sleeps::default();
    let log = sleeps.0.clone();
    let transport =
        RetryTransport::new(&scripted, policy).with_sleeper(move |d| log.lock().unwrap().push(d));
    let err = transport.send(&export()).unwrap_err();
    assert_eq!(
        sleeps.recorded(),
        [Duration::from_secs(40), Duration::from_secs(40)]
    );
    assert_eq!(err.attempts(), 3);
}

#[test]
fn the_observer_sees_every_retry() {
    let scripted = ScriptedTransport::new();
    scripted.push_error(Error::Network {
        request: "POST /x".into(),
        kind: NetworkKind::Closed,
        message: "reset".into(),
        attempts: 1,
    });
    scripted.push_json(200, "{}");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let transport = RetryTransport::new(&scripted, RetryPolicy::default())
        .with_sleeper(|_| {})
        .with_observer(move |event| {
            log.lock()
                .unwrap()
                .push((event.attempt, event.error.to_string()))
        });
    transport.send(&export()).unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [(
            1,
            "POST /x failed: connection closed without a complete response: reset".to_owned()
        )]
    );
}

#[test]
fn backoff_ceilings_double_up_to_the_cap() {
    let policy = RetryPolicy::default();
    let ceilings: Vec<u64> = (1..=9)
        .map(|a| policy.ceiling(a).as_millis() as u64)
        .collect();
    assert_eq!(
        ceilings,
        [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
    );
    assert_eq!(policy.ceiling(200), Duration::from_secs(30));
}

#[test]
fn a_zero_or_past_retry_after_still_backs_off() {
    let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(3600));
    let server = TestServer::start(move |_, i| match i {
        0 => Reply::json(503, "").with_header("Retry-After", "0"),
        1 => Reply::json(429, "").with_header("Retry-After", &past),
        _ => Reply::json(200, "{}"),
    });
    let sleeps = Sleeps::default();
    retrying(&server.url(), &sleeps).send(&export()).unwrap();
    let policy = RetryPolicy::default();
    assert_eq!(
        sleeps.recorded(),
        [policy.ceiling(1) / 2, policy.ceiling(2) / 2],
        "half the backoff ceiling is the floor"
    );
}

#[test]
fn a_pooled_connection_the_server_closed_is_replaced_without_a_retry() {
    // Every answer is followed by a silent close: each next request first
    // meets a dead pooled connection.
    let server = TestServer::start(|_, _| Reply::ThenClose(Box::new(Reply::json(200, "{}"))));
    let sleeps = Sleeps::default();
    let warnings = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = warnings.clone();
    let log = sleeps.0.clone();
    let transport = RetryTransport::new(http(&server.url()), RetryPolicy::default())
        .with_sleeper(move |d| log.lock().unwrap().push(d))
        .with_observer(move |_| {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
    for _ in 0..5 {
        transport.send(&export()).unwrap();
    }
    assert_eq!(server.requests().len(), 5, "every request answered once");
    assert!(
        sleeps.recorded().is_empty(),
        "no backoff: {:?}",
        sleeps.recorded()
    );
    assert_eq!(
        warnings.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no retry warning"
    );
    assert_eq!(transport.retries(), 0);
}

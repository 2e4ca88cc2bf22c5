//! Authentication: token caching, refresh, 401 handling, secret hygiene.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tw_transport::{AuthTransport, ClientCredentials, Credentials, Request, Secret, Transport};

use crate::server::{Reply, Seen, TestServer};
use crate::{
    CLIENT_SECRET, STATIC_TOKEN, Sleeps, assert_no_secret, checked_message, full_stack, http,
    snapshot,
};

/// A tenant: `/oauth/token` issues `tok-SECRET-<n>` with `expires_in`, and
/// the API accepts only the newest token (or, with `reject_all`, none).
fn tenant(expires_in: u64, reject_all: bool) -> (TestServer, Arc<AtomicUsize>) {
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    let server = TestServer::start(move |seen: &Seen, _| {
        if seen.path() == "/oauth/token" {
            let body = seen.json();
            if body["client_secret"] != CLIENT_SECRET {
                return Reply::json(
                    401,
                    format!(
                        r#"{{"error":"access_denied","echo":"{}"}}"#,
                        body["client_secret"]
                    ),
                );
            }
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            return Reply::json(
                200,
                format!(
                    r#"{{"access_token":"tok-SECRET-{n}","expires_in":{expires_in},"token_type":"Bearer","scope":"read"}}"#
                ),
            );
        }
        let current = format!("Bearer tok-SECRET-{}", counter.load(Ordering::SeqCst));
        if reject_all || seen.header("authorization") != Some(current.as_str()) {
            return Reply::json(401, r#"{"detail":"invalid token"}"#);
        }
        Reply::json(200, r#"{"has_next":false,"records":[]}"#)
    });
    (server, issued)
}

fn export() -> Request {
    Request::post_json(
        "/export/employees/skill_clusters",
        br#"{"limit":10}"#.to_vec(),
    )
}

#[test]
fn the_token_request_is_documented_json() {
    let (server, _) = tenant(3600, false);
    full_stack(&server.url(), &Sleeps::default())
        .send(&export())
        .unwrap();
    let token_request = &server.requests()[0];
    assert_eq!(token_request.path(), "/oauth/token");
    assert_eq!(
        token_request.header("content-type"),
        Some("application/json")
    );
    assert_eq!(
        token_request.json(),
        serde_json::json!({
            "client_id": "client-abc",
            "client_secret": CLIENT_SECRET,
            "audience": "eu3.techwolf.ai",
            "grant_type": "client_credentials",
            "tenant": "acme",
        })
    );
    assert_eq!(
        server.requests()[1].header("authorization"),
        Some("Bearer tok-SECRET-1")
    );
}

#[test]
fn a_cached_token_serves_many_calls() {
    let (server, issued) = tenant(3600, false);
    let transport = full_stack(&server.url(), &Sleeps::default());
    for _ in 0..20 {
        transport.send(&export()).unwrap();
    }
    assert_eq!(issued.load(Ordering::SeqCst), 1);
    assert_eq!(transport.token_fetches(), 1);
}

#[test]
fn an_expiring_token_is_refreshed_before_use() {
    // expires_in 0: every call finds the token due for refresh.
    let (server, issued) = tenant(0, false);
    let transport = full_stack(&server.url(), &Sleeps::default());
    for _ in 0..5 {
        transport.send(&export()).unwrap();
    }
    assert_eq!(issued.load(Ordering::SeqCst), 5);
    let api_calls: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|s| s.path() != "/oauth/token")
        .collect();
    assert_eq!(api_calls.len(), 5, "no call needed a 401 to notice");
}

#[test]
fn a_token_revoked_mid_sequence_is_replaced_once() {
    let (server, issued) = tenant(3600, false);
    let transport = full_stack(&server.url(), &Sleeps::default());
    transport.send(&export()).unwrap();
    // The server rotates: a token issued behind our back makes ours stale.
    let other = full_stack(&server.url(), &Sleeps::default());
    other.send(&export()).unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    // Our cached tok-1 now gets a 401; we refresh (tok-3) and replay.
    transport.send(&export()).unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 3);
    let last_two: Vec<_> = server
        .requests()
        .iter()
        .rev()
        .take(3)
        .map(|s| {
            (
                s.path().to_owned(),
                s.header("authorization").map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        last_two,
        [
            (
                "/export/employees/skill_clusters".to_owned(),
                Some("Bearer tok-SECRET-3".to_owned())
            ),
            ("/oauth/token".to_owned(), None),
            (
                "/export/employees/skill_clusters".to_owned(),
                Some("Bearer tok-SECRET-1".to_owned())
            ),
        ]
    );
}

#[test]
fn a_second_401_is_an_auth_error_naming_the_client_id() {
    let (server, issued) = tenant(3600, true);
    let err = full_stack(&server.url(), &Sleeps::default())
        .send(&export())
        .unwrap_err();
    assert!(err.is_auth());
    assert_eq!(issued.load(Ordering::SeqCst), 2, "one refresh, not a loop");
    snapshot!("rejected_twice", checked_message(&err));
}

#[test]
fn rejected_client_credentials_never_echo_the_secret() {
    let (server, _) = tenant(3600, false);
    let credentials = Credentials::ClientCredentials(
        ClientCredentials::new(
            "client-abc",
            Secret::new("wrong-SECRET-value"),
            "acme",
            format!("{}/oauth/token", server.url()),
            "eu3.techwolf.ai",
        )
        .unwrap(),
    );
    let transport = AuthTransport::new(http(&server.url()), credentials);
    let err = transport.send(&export()).unwrap_err();
    assert!(err.is_auth());
    let message = checked_message(&err);
    assert!(
        message.contains(r#""echo":""***"""#),
        "the echoed secret is scrubbed: {message}"
    );
    snapshot!("bad_client_secret", message);
    assert_no_secret(&format!("{transport:?}"));
}

#[test]
fn a_rejected_static_token_is_an_auth_error() {
    let (server, _) = tenant(3600, true);
    let transport = AuthTransport::new(
        http(&server.url()),
        Credentials::BearerToken(Secret::new(STATIC_TOKEN)),
    );
    let err = transport.send(&export()).unwrap_err();
    assert!(err.is_auth());
    assert_eq!(
        server.requests().len(),
        1,
        "a static token cannot be refreshed"
    );
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some(format!("Bearer {STATIC_TOKEN}").as_str())
    );
    snapshot!("static_rejected", checked_message(&err));
}

#[test]
fn concurrent_callers_share_one_token_fetch() {
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    let server = TestServer::start(move |seen: &Seen, _| {
        if seen.path() == "/oauth/token" {
            std::thread::sleep(Duration::from_millis(200));
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            return Reply::json(
                200,
                format!(r#"{{"access_token":"tok-SECRET-{n}","expires_in":3600}}"#),
            );
        }
        Reply::json(200, "{}")
    });
    let transport = Arc::new(full_stack(&server.url(), &Sleeps::default()));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let transport = transport.clone();
            std::thread::spawn(move || transport.send(&export()).map(|_| ()))
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    assert_eq!(issued.load(Ordering::SeqCst), 1);
}

#[test]
fn token_endpoint_failures_are_retried() {
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    let server = TestServer::start(move |seen: &Seen, i| {
        if seen.path() == "/oauth/token" {
            if i == 0 {
                return Reply::json(503, "auth0 hiccup");
            }
            counter.fetch_add(1, Ordering::SeqCst);
            return Reply::json(200, r#"{"access_token":"tok-SECRET-x","expires_in":3600}"#);
        }
        Reply::json(200, "{}")
    });
    let sleeps = Sleeps::default();
    full_stack(&server.url(), &sleeps).send(&export()).unwrap();
    assert_eq!(sleeps.recorded().len(), 1);
    assert_eq!(issued.load(Ordering::SeqCst), 1);
}

#[test]
fn a_token_response_without_a_token_is_an_auth_error() {
    let server = TestServer::start(|_, _| Reply::json(200, r#"{"error":"weird"}"#));
    let err = full_stack(&server.url(), &Sleeps::default())
        .send(&export())
        .unwrap_err();
    assert!(err.is_auth());
    snapshot!("no_access_token", checked_message(&err));
}

#[test]
fn debug_output_never_shows_secrets() {
    let credentials = crate::client_credentials("https://techwolf.eu.auth0.com/oauth/token");
    assert_no_secret(&format!("{credentials:?}"));
    let request = Request::post_json(
        "/x",
        format!(r#"{{"client_secret":"{CLIENT_SECRET}"}}"#).into_bytes(),
    )
    .with_header("Authorization", format!("Bearer {STATIC_TOKEN}"));
    assert_no_secret(&format!("{request:?}"));
    assert_eq!(format!("{}", Secret::new(STATIC_TOKEN)), "***");
    assert_eq!(format!("{:?}", Secret::new(STATIC_TOKEN)), "***");
    assert_eq!(Secret::new(" padded\n").expose(), "padded");
}

#[test]
fn region_defaults() {
    let eu = ClientCredentials::for_region("eu", "acme", "id", Secret::new("s3cr3t")).unwrap();
    assert_eq!(
        (eu.token_url(), eu.audience()),
        (tw_transport::EU_TOKEN_URL, "eu3.techwolf.ai")
    );
    let us = ClientCredentials::for_region("US", "acme", "id", Secret::new("s3cr3t")).unwrap();
    assert_eq!(
        (us.token_url(), us.audience()),
        (tw_transport::US_TOKEN_URL, "us3.techwolf.ai")
    );
    let err = ClientCredentials::for_region("ap", "acme", "id", Secret::new("s3cr3t")).unwrap_err();
    insta::assert_snapshot!("unknown_region", err);
    let err = ClientCredentials::new(
        "id",
        Secret::new("s"),
        "acme",
        "http://auth.example/token",
        "aud",
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("plain http:// is only allowed to a loopback host"),
        "{err}"
    );
}

#[test]
fn the_token_is_only_sent_to_the_api_origin() {
    let inner = Arc::new(tw_transport::testing::ScriptedTransport::new());
    inner.push_json(200, "{}");
    let auth = AuthTransport::new(
        inner.clone(),
        Credentials::BearerToken(Secret::new(STATIC_TOKEN)),
    );
    for elsewhere in [
        "https://attacker.example/collect",
        "http://127.0.0.1:9/x",
        "export/employees/skill_clusters",
    ] {
        let err = auth.send(&Request::get(elsewhere)).unwrap_err();
        assert!(err.is_config(), "{err}");
        assert!(
            err.to_string()
                .contains("only sent to the configured API base URL"),
            "{err}"
        );
        assert_no_secret(&err.to_string());
    }
    assert!(inner.requests().is_empty(), "nothing was sent");
    auth.send(&Request::get("/version")).unwrap();
    assert_eq!(
        inner.requests()[0].header("Authorization"),
        Some(format!("Bearer {STATIC_TOKEN}").as_str())
    );
}

#[test]
fn credentials_are_checked_and_scopes_are_asked_for() {
    let credentials = |secret: &str| {
        ClientCredentials::new(
            "client-1",
            Secret::new(secret),
            "acme",
            "https://auth.example/oauth/token",
            "eu3.techwolf.ai",
        )
    };
    assert!(
        credentials("").unwrap_err().is_config(),
        "fields are private: no unchecked value"
    );
    let credentials = credentials(CLIENT_SECRET).unwrap().with_scopes(["read"]);
    assert_eq!(credentials.scopes(), ["read"]);
    assert_eq!(credentials.client_id(), "client-1");
    assert_eq!(credentials.tenant(), "acme");
    assert!(!format!("{credentials:?}").contains(CLIENT_SECRET));
    let inner = Arc::new(tw_transport::testing::ScriptedTransport::new());
    inner.push_json(200, r#"{"access_token":"tok-SECRET-1","expires_in":3600}"#);
    inner.push_json(200, "{}");
    AuthTransport::new(inner.clone(), Credentials::ClientCredentials(credentials))
        .send(&export())
        .unwrap();
    let token_request = &inner.requests()[0];
    assert_eq!(token_request.path, "https://auth.example/oauth/token");
    let body: serde_json::Value =
        serde_json::from_slice(token_request.body.as_deref().unwrap()).unwrap();
    assert_eq!(body["scopes"], serde_json::json!(["read"]));
}

/// A token endpoint that answers `body` (with `{token}` replaced by a fresh
/// token) and an API that accepts the latest token.
fn token_endpoint(body: &'static str) -> TestServer {
    let issued = Arc::new(AtomicUsize::new(0));
    TestServer::start(move |seen: &Seen, _| {
        if seen.path() == "/oauth/token" {
            let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
            return Reply::json(200, body.replace("{token}", &format!("tok-SECRET-{n}")));
        }
        Reply::json(200, r#"{"has_next":false,"records":[]}"#)
    })
}

#[test]
fn expires_in_is_read_leniently_and_capped() {
    for (body, fetches_for_three_requests) in [
        (r#"{"access_token":"{token}","expires_in":"3600"}"#, 1),
        (r#"{"access_token":"{token}","expires_in":3600.0}"#, 1),
        (
            r#"{"access_token":"{token}","expires_in":18446744073709551615}"#,
            1,
        ),
        (r#"{"access_token":"{token}","expires_in":1e300}"#, 1),
        (r#"{"access_token":"{token}","expires_in":"soon"}"#, 1),
        (r#"{"access_token":"{token}","expires_in":0}"#, 3),
        (r#"{"access_token":"{token}","expires_in":-5}"#, 3),
        (r#"{"access_token":"{token}","expires_in":"-1"}"#, 3),
    ] {
        let server = token_endpoint(body);
        let transport = full_stack(&server.url(), &Sleeps::default());
        for _ in 0..3 {
            transport
                .send(&export())
                .unwrap_or_else(|e| panic!("{body}: {e}"));
        }
        assert_eq!(
            transport.token_fetches(),
            fetches_for_three_requests,
            "{body}: 0 or negative means use once"
        );
    }
}

#[test]
fn a_token_reply_without_a_usable_token_never_prints_it() {
    for body in [
        r#"{"access_token":123456789,"expires_in":3600,"echo":"123456789"}"#,
        r#"{"access_token":{"value":"tok-SECRET-9","kind":"jwt"},"expires_in":"x"}"#,
        r#"{"access_token":["tok-SECRET-9"]}"#,
        r#"{"access_token":null,"expires_in":3600}"#,
        r#"{"access_token":""}"#,
    ] {
        let server = TestServer::start(move |seen: &Seen, _| {
            if seen.path() == "/oauth/token" {
                Reply::json(200, body)
            } else {
                Reply::json(200, "{}")
            }
        });
        let err = full_stack(&server.url(), &Sleeps::default())
            .send(&export())
            .unwrap_err();
        assert!(err.is_auth(), "{err}");
        let text = err.to_string();
        assert!(text.contains("without a usable access_token"), "{text}");
        assert!(!text.contains("123456789"), "{text}");
        assert_no_secret(&text);
    }
}

#[test]
fn a_rate_limited_or_failing_token_endpoint_is_not_a_credentials_error() {
    for status in [429, 500, 503] {
        let server = TestServer::start(move |seen: &Seen, _| {
            if seen.path() == "/oauth/token" {
                Reply::json(status, r#"{"error":"busy"}"#)
            } else {
                Reply::json(200, "{}")
            }
        });
        let sleeps = Sleeps::default();
        let err = full_stack(&server.url(), &sleeps)
            .send(&export())
            .unwrap_err();
        assert!(!err.is_auth(), "{status}: {err}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(sleeps.recorded().len(), 4, "{status} was retried");
    }
    for status in [400, 401, 403] {
        let server = TestServer::start(move |_: &Seen, _| Reply::json(status, "{}"));
        let err = full_stack(&server.url(), &Sleeps::default())
            .send(&export())
            .unwrap_err();
        assert!(err.is_auth(), "{status}: {err}");
    }
}

#[test]
fn a_secret_echoed_across_the_snippet_cut_leaves_no_prefix() {
    // A 503 whose body echoes the live token right where the 2 KiB cut
    // falls: the retry observer (the WARN line) and the final error see it
    // scrubbed, and no 10-character prefix of it.
    let server = TestServer::start(|seen: &Seen, _| {
        if seen.path() == "/oauth/token" {
            return Reply::json(
                200,
                r#"{"access_token":"tok-SECRET-cut-0123456789abcdef","expires_in":3600}"#,
            );
        }
        let auth = seen.header("authorization").unwrap_or_default().to_owned();
        // 2029 + "Bearer " = 2036: the 2048-character cut falls 12
        // characters into the token.
        Reply::json(503, format!("{}{auth}", "x".repeat(2029)))
    });
    let observed = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = observed.clone();
    let sleeps = Sleeps::default();
    let sleep_log = sleeps.0.clone();
    let retrying = tw_transport::RetryTransport::new(http(&server.url()), Default::default())
        .with_sleeper(move |d| sleep_log.lock().unwrap().push(d))
        .with_observer(move |event| log.lock().unwrap().push(event.error.to_string()));
    let transport = AuthTransport::new(
        retrying,
        crate::client_credentials(&format!("{}/oauth/token", server.url())),
    );
    let err = transport.send(&export()).unwrap_err();
    let mut texts = observed.lock().unwrap().clone();
    texts.push(err.to_string());
    assert!(texts.len() > 1);
    for text in texts {
        assert!(
            !text.contains("tok-SECRET"),
            "a 10-character prefix: {text}"
        );
        assert_no_secret(&text);
    }
}

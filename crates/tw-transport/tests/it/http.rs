//! The ureq transport against a real server: keep-alive, headers, bodies,
//! timeouts, failures.

use std::io::Write;
use std::time::Duration;

use tw_transport::{BaseUrl, HttpConfig, HttpTransport, NetworkKind, Request, Transport};

use crate::server::{Reply, TestServer};
use crate::{checked_message, http};

#[test]
fn one_connection_serves_many_requests() {
    let server = TestServer::start(|_, i| Reply::json(200, format!(r#"{{"page": {i}}}"#)));
    let transport = http(&server.url());
    for i in 0..50 {
        let response = transport
            .send(&Request::post_json(
                "/export/employees/skill_clusters",
                b"{}".to_vec(),
            ))
            .unwrap();
        assert_eq!(response.body, format!(r#"{{"page": {i}}}"#).into_bytes());
    }
    assert_eq!(server.requests().len(), 50);
    assert_eq!(server.connections(), 1, "keep-alive: one TCP connection");
}

#[test]
fn bodies_handed_back_are_read_into_and_hold_only_the_new_bytes() {
    // Long and short bodies in turn, each read into the memory of the one
    // before: the short ones hold none of the long ones' bytes.
    let body = |i: usize| {
        let len = if i.is_multiple_of(2) { 200_000 } else { 17 };
        (0..len)
            .map(|j| b'a' + ((i + j) % 26) as u8)
            .collect::<Vec<u8>>()
    };
    let server = TestServer::start(move |_, i| Reply::Respond {
        status: 200,
        headers: Vec::new(),
        body: body(i),
    });
    let transport = http(&server.url());
    let mut reused = 0;
    let mut last: Option<*const u8> = None;
    for i in 0..12 {
        let response = transport
            .send(&Request::post_json("/export/skills", b"{}".to_vec()))
            .unwrap();
        assert!(response.body == body(i), "response {i}");
        // Freed and allocated afresh, a short body and a long one would
        // not share an address.
        reused += usize::from(last == Some(response.body.as_ptr()));
        last = Some(response.body.as_ptr());
        transport.recycle(response.body);
    }
    assert_eq!(
        reused, 11,
        "every body after the first read into the first's memory"
    );
}

#[test]
fn a_large_body_handed_back_is_freed_not_kept() {
    // 9 MiB, then a short body: read into a fresh buffer sized to it, as a
    // body the transport did not keep leaves it (a kept one would be read
    // into, and keep its capacity).
    let server = TestServer::start(|_, i| Reply::Respond {
        status: 200,
        headers: Vec::new(),
        body: vec![b'x'; if i == 0 { 9 << 20 } else { 17 }],
    });
    let transport = http(&server.url());
    let send = || {
        transport
            .send(&Request::post_json("/export/skills", b"{}".to_vec()))
            .unwrap()
    };
    let large = send().body;
    assert_eq!(large.len(), 9 << 20);
    transport.recycle(large);
    let short = send().body;
    assert_eq!(short, [b'x'; 17]);
    assert!(
        short.capacity() < 1 << 20,
        "{} bytes kept",
        short.capacity()
    );
}

#[test]
fn sends_the_documented_headers_query_and_body() {
    let server = TestServer::start(|_, _| Reply::json(200, "{}"));
    let mut config = HttpConfig::default();
    config.api_version = Some("2024-09-13".into());
    let transport =
        HttpTransport::with_config(BaseUrl::parse(&server.url()).unwrap(), config).unwrap();
    let request = Request::post_json("/export/skills", br#"{"limit":5}"#.to_vec())
        .with_query("include", "a b")
        .with_query("include", "c&d")
        .with_header("X-Custom", "1");
    transport.send(&request).unwrap();
    let seen = &server.requests()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path(), "/export/skills");
    assert!(
        seen.target.ends_with("?include=a+b&include=c%26d")
            || seen.target.ends_with("?include=a%20b&include=c%26d"),
        "{}",
        seen.target
    );
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("accept"), Some("application/json"));
    assert_eq!(seen.header("x-api-version"), Some("2024-09-13"));
    assert_eq!(seen.header("x-custom"), Some("1"));
    assert_eq!(
        seen.header("user-agent"),
        Some(concat!("tw-export/", env!("CARGO_PKG_VERSION")))
    );
    assert!(
        seen.header("accept-encoding")
            .unwrap_or_default()
            .contains("gzip")
    );
    assert_eq!(seen.body, br#"{"limit":5}"#);
}

#[test]
fn api_version_must_be_a_date() {
    let mut config = HttpConfig::default();
    config.api_version = Some("2024-09-13\r\nX-Evil: 1".into());
    let err = HttpTransport::with_config(BaseUrl::parse("http://127.0.0.1:1").unwrap(), config)
        .unwrap_err();
    assert!(err.is_config());
    insta::assert_snapshot!("bad_api_version", err);
}

#[test]
fn gzip_bodies_are_decoded() {
    let server = TestServer::start(|_, _| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all(br#"{"has_next": false, "records": []}"#)
            .unwrap();
        Reply::Respond {
            status: 200,
            headers: vec![("Content-Encoding".into(), "gzip".into())],
            body: encoder.finish().unwrap(),
        }
    });
    let response = http(&server.url()).send(&Request::get("/x")).unwrap();
    assert_eq!(response.body, br#"{"has_next": false, "records": []}"#);
}

#[test]
fn error_statuses_keep_their_body() {
    let server =
        TestServer::start(|_, _| Reply::json(422, r#"{"detail": "limit must be <= 100"}"#));
    let err = http(&server.url())
        .send(&Request::post_json(
            "/export/employees/skill_clusters",
            b"{}".to_vec(),
        ))
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    assert!(!err.is_retryable());
    insta::assert_snapshot!("status_422", checked_message(&err));
}

#[test]
fn long_error_bodies_are_cut_to_2_kib() {
    let server = TestServer::start(|_, _| {
        Reply::json(500, format!("<html>\n\n  {}</html>", "x".repeat(10_000)))
    });
    let err = http(&server.url()).send(&Request::get("/x")).unwrap_err();
    let tw_transport::Error::Status { body, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        body.starts_with("<html> xxx"),
        "whitespace folded: {}",
        &body[..20]
    );
    assert!(
        body.len() <= 2048 + 3 && body.ends_with('…'),
        "{}",
        body.len()
    );
}

#[test]
fn redirects_are_not_followed() {
    let server = TestServer::start(|_, _| {
        Reply::json(302, "").with_header("Location", "https://elsewhere.example/steal")
    });
    let err = http(&server.url()).send(&Request::get("/x")).unwrap_err();
    assert_eq!(err.status(), Some(302));
    assert!(
        err.to_string()
            .contains("unexpected redirect to https://elsewhere.example/steal"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_runaway_body_is_an_error_not_an_allocation() {
    let server = TestServer::start(|_, _| Reply::json(200, "x".repeat(100_000)));
    let mut config = HttpConfig::default();
    config.max_body_bytes = 10_000;
    let transport =
        HttpTransport::with_config(BaseUrl::parse(&server.url()).unwrap(), config).unwrap();
    let err = transport.send(&Request::get("/big")).unwrap_err();
    assert!(
        matches!(err, tw_transport::Error::BodyTooLarge { limit: 10_000, .. }),
        "{err:?}"
    );
    insta::assert_snapshot!("body_too_large", err);
}

#[test]
fn a_slow_server_times_out() {
    let server = TestServer::start(|_, _| {
        Reply::Delay(Duration::from_secs(3), Box::new(Reply::json(200, "{}")))
    });
    let mut config = HttpConfig::default();
    config.request_timeout = Duration::from_millis(300);
    let transport =
        HttpTransport::with_config(BaseUrl::parse(&server.url()).unwrap(), config).unwrap();
    let err = transport.send(&Request::get("/slow")).unwrap_err();
    assert!(
        matches!(
            err,
            tw_transport::Error::Network {
                kind: NetworkKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[test]
fn closed_and_truncated_responses_are_retryable_network_errors() {
    let server = TestServer::start(|_, i| match i {
        0 => Reply::Close,
        _ => Reply::Truncate {
            declared: 500,
            body: br#"{"has_next": true, "rec"#.to_vec(),
        },
    });
    let transport = http(&server.url());
    let closed = transport.send(&Request::get("/a")).unwrap_err();
    assert!(closed.is_retryable(), "{closed:?}");
    let truncated = transport.send(&Request::get("/b")).unwrap_err();
    assert!(
        matches!(
            truncated,
            tw_transport::Error::Network {
                kind: NetworkKind::Truncated | NetworkKind::Closed,
                ..
            }
        ),
        "{truncated:?}"
    );
    assert!(truncated.is_retryable());
}

#[test]
fn nothing_listening_is_a_connect_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = http(&format!("http://127.0.0.1:{port}"))
        .send(&Request::get("/x"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            tw_transport::Error::Network {
                kind: NetworkKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[test]
fn an_explicit_proxy_is_used_for_https() {
    let proxy = TestServer::start(|_, _| Reply::Close);
    let mut config = HttpConfig::default();
    config.proxy = Some(proxy.url());
    config.connect_timeout = Duration::from_secs(5);
    let transport =
        HttpTransport::with_config(BaseUrl::for_tenant("acme", "eu3").unwrap(), config).unwrap();
    let err = transport.send(&Request::get("/version")).unwrap_err();
    assert!(
        err.is_retryable() || matches!(err, tw_transport::Error::Network { .. }),
        "{err:?}"
    );
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1, "the request went to the proxy");
    assert_eq!(seen[0].method, "CONNECT");
    assert_eq!(seen[0].target, "acme.eu3.techwolf.ai:443");

    let mut config = HttpConfig::default();
    config.proxy = Some("not a url".into());
    let err = HttpTransport::with_config(BaseUrl::for_tenant("acme", "eu3").unwrap(), config)
        .unwrap_err();
    assert!(err.is_config(), "{err:?}");
}

#[test]
fn loopback_urls_bypass_the_proxy_token_requests_included() {
    let proxy = TestServer::start(|_, _| Reply::Close);
    let token_endpoint = TestServer::start(|_, _| Reply::json(200, r#"{"access_token":"t"}"#));
    let mut config = HttpConfig::default();
    config.proxy = Some(proxy.url());
    config.request_timeout = Duration::from_secs(5);
    let transport =
        HttpTransport::with_config(BaseUrl::for_tenant("acme", "eu3").unwrap(), config).unwrap();
    let token_url = format!("{}/oauth/token", token_endpoint.url());
    let localhost_url = token_url.replace("127.0.0.1", "localhost");
    for url in [token_url, localhost_url] {
        let response = transport
            .send(&Request::post_json(
                &url,
                br#"{"client_secret":"s"}"#.to_vec(),
            ))
            .unwrap();
        assert_eq!(response.status, 200, "{url}");
    }
    assert_eq!(token_endpoint.requests().len(), 2, "sent directly");
    assert!(proxy.requests().is_empty(), "the proxy saw nothing");
}

#[test]
fn a_gzip_bomb_stops_at_the_cap_and_a_body_at_the_cap_is_whole() {
    const CAP: u64 = 1 << 20;
    fn gzip_of_zeros(len: usize) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 64 * 1024];
        let mut left = len;
        while left > 0 {
            let n = left.min(zeros.len());
            encoder.write_all(&zeros[..n]).unwrap();
            left -= n;
        }
        encoder.finish().unwrap()
    }
    let bomb = gzip_of_zeros(64 << 20);
    let exact = gzip_of_zeros(CAP as usize);
    assert!(
        bomb.len() < 1 << 20,
        "64 MiB of zeros compress to {} bytes",
        bomb.len()
    );
    let server = TestServer::start(move |seen, _| Reply::Respond {
        status: 200,
        headers: vec![("Content-Encoding".into(), "gzip".into())],
        body: if seen.path() == "/bomb" {
            bomb.clone()
        } else {
            exact.clone()
        },
    });
    let mut config = HttpConfig::default();
    config.max_body_bytes = CAP;
    let transport =
        HttpTransport::with_config(BaseUrl::parse(&server.url()).unwrap(), config).unwrap();
    let err = transport.send(&Request::get("/bomb")).unwrap_err();
    assert!(
        matches!(err, tw_transport::Error::BodyTooLarge { limit: CAP, .. }),
        "{err:?}"
    );
    let whole = transport.send(&Request::get("/exact")).unwrap();
    assert_eq!(
        whole.body.len() as u64,
        CAP,
        "a body of exactly the cap is accepted"
    );
}

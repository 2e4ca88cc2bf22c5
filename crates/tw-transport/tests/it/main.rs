//! Integration tests of tw-transport against real HTTP servers on 127.0.0.1.

mod auth;
mod http;
mod retry;
mod server;
mod url;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tw_transport::{
    AuthTransport, BaseUrl, ClientCredentials, Credentials, HttpConfig, HttpTransport, RetryPolicy,
    RetryTransport, Secret,
};

pub const CLIENT_SECRET: &str = "cs-SECRET-9f8e7d6c";
pub const STATIC_TOKEN: &str = "static-SECRET-token-1234";

/// Fails if `text` contains any secret the tests use (client secret, static
/// token, or any issued token: they all contain `SECRET`).
pub fn assert_no_secret(text: &str) {
    assert!(
        !text.contains("SECRET") && !text.contains(CLIENT_SECRET),
        "a secret leaked into: {text}"
    );
}

/// Checks `Display` and `Debug` of an error for secrets, then returns the
/// message.
pub fn checked_message(err: &tw_transport::Error) -> String {
    let message = err.to_string();
    assert_no_secret(&message);
    assert_no_secret(&format!("{err:?}"));
    message
}

/// Sleeps recorded instead of slept.
#[derive(Clone, Default, Debug)]
pub struct Sleeps(pub Arc<Mutex<Vec<Duration>>>);

impl Sleeps {
    pub fn recorded(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

pub fn http(url: &str) -> HttpTransport {
    let mut config = HttpConfig::default();
    config.request_timeout = Duration::from_secs(5);
    HttpTransport::with_config(BaseUrl::parse(url).unwrap(), config).unwrap()
}

pub fn retrying(url: &str, sleeps: &Sleeps) -> RetryTransport<HttpTransport> {
    let log = sleeps.0.clone();
    RetryTransport::new(http(url), RetryPolicy::default())
        .with_sleeper(move |d| log.lock().unwrap().push(d))
}

pub fn client_credentials(token_url: &str) -> Credentials {
    Credentials::ClientCredentials(
        ClientCredentials::new(
            "client-abc",
            Secret::new(CLIENT_SECRET),
            "acme",
            token_url,
            "eu3.techwolf.ai",
        )
        .unwrap(),
    )
}

pub fn full_stack(url: &str, sleeps: &Sleeps) -> AuthTransport<RetryTransport<HttpTransport>> {
    AuthTransport::new(
        retrying(url, sleeps),
        client_credentials(&format!("{url}/oauth/token")),
    )
}

/// Snapshot settings that hide the test server's port.
#[macro_export]
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({filters => vec![(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]")]}, {
            insta::assert_snapshot!($name, $value);
        });
    };
}

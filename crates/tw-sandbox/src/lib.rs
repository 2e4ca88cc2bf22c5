//! A fake TechWolf export API on loopback, for tests, demos and your own
//! tests.
//!
//! # Why this crate exists
//!
//! Nobody can try or test a TechWolf client without a tenant and
//! credentials. The sandbox fills that gap, the way stripe-mock does for
//! Stripe: it serves `POST /export/employees/skill_clusters` and
//! `POST /oauth/token` over real HTTP/1.1 on 127.0.0.1, from a synthetic
//! tenant that is deterministic from a seed and built to break naive
//! clients:
//!
//! * names with commas, quotes, newlines, tabs, non-Latin scripts, emoji,
//!   and leading `=`, `+`, `-`, `@` (spreadsheet formula injection);
//! * clusters without `validation_state`, an unknown state
//!   (`pending_review`), an unknown source (`hackathon`), unknown extra
//!   fields at every level, UUID and non-UUID ids;
//! * opaque cursors that are never the last record's id, and a 400 for any
//!   cursor the tenant did not issue.
//!
//! [`SandboxConfig::new_fields`] adds a field the model does not know to
//! every object, as the API will one day.
//!
//! [`Faults`] inject failures on a schedule (rate limits, 5xx, dropped
//! connections, cut bodies, slow answers, expired tokens) and protocol
//! violations (a repeated cursor, `has_next` without a cursor, endless
//! empty pages). The request log lets tests count connections and check
//! what every page asked for, and [`Sandbox::hold_after`] holds pages back
//! so a test can kill or signal a client at a page of its choosing without
//! racing it.
//!
//! Records are rendered to JSON once, when the sandbox starts, and pages are
//! assembled from memory, so the sandbox is not the bottleneck when a
//! client is benchmarked against it.
//!
//! # Example
//!
//! ```
//! use tw_sandbox::{Sandbox, SandboxConfig};
//!
//! let sandbox = Sandbox::start(SandboxConfig { employees: 250, ..SandboxConfig::default() })?;
//! assert!(sandbox.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(sandbox.token_url(), format!("{}/oauth/token", sandbox.base_url()));
//! assert_eq!(sandbox.tenant().len(), 250);
//! // Point a client at `sandbox.base_url()` with client id "sandbox-client"
//! // and secret "sandbox-secret", or the bearer token "sandbox-token".
//! sandbox.stop();
//! # Ok::<(), std::io::Error>(())
//! ```

#![deny(missing_docs)]

mod api;
mod collections;
mod cursor;
mod rng;
mod server;
mod tenant;
mod vocabulary;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

pub use crate::tenant::Tenant;

/// Failures and protocol violations to inject. "Every k-th" counts export
/// requests (1-based) across all connections and datasets; `None` turns a
/// fault off. When several faults fall on the same request, the first in
/// field order wins. With the `clap` feature this is also the fault flags
/// of `tw-export sandbox` (declared once, here).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[non_exhaustive]
pub struct Faults {
    /// Every k-th export request: the connection is closed without a response.
    #[cfg_attr(feature = "clap", arg(long, value_name = "K", help_heading = "Faults"))]
    pub close_every: Option<u32>,
    /// Every k-th export request: the page is cut off half-way and the
    /// connection closed.
    #[cfg_attr(feature = "clap", arg(long, value_name = "K", help_heading = "Faults"))]
    pub cut_body_every: Option<u32>,
    /// Every k-th export request: 429 with `Retry-After: retry_after_secs`.
    #[cfg_attr(feature = "clap", arg(long, value_name = "K", help_heading = "Faults"))]
    pub rate_limit_every: Option<u32>,
    /// The `Retry-After` of rate-limited answers, in seconds (default 1).
    #[cfg_attr(
        feature = "clap",
        arg(
            long = "retry-after",
            default_value_t = 1,
            value_name = "SECS",
            help_heading = "Faults"
        )
    )]
    pub retry_after_secs: u64,
    /// Every k-th export request: 503.
    #[cfg_attr(feature = "clap", arg(long, value_name = "K", help_heading = "Faults"))]
    pub server_error_every: Option<u32>,
    /// Every k-th export request: 401, as if the token had expired.
    #[cfg_attr(feature = "clap", arg(long, value_name = "K", help_heading = "Faults"))]
    pub unauthorized_every: Option<u32>,
    /// Every k-th export request: answered after `slow_delay`.
    #[cfg_attr(feature = "clap", arg(long, value_name = "K", help_heading = "Faults"))]
    pub slow_every: Option<u32>,
    /// The delay of slow answers (default 2 s).
    #[cfg_attr(
        feature = "clap",
        arg(long = "slow-ms", default_value = "2000", value_name = "MS", value_parser = millis, help_heading = "Faults")
    )]
    pub slow_delay: Duration,
    /// Added to every export answer (to simulate network latency).
    #[cfg_attr(
        feature = "clap",
        arg(long = "latency-ms", default_value = "0", value_name = "MS", value_parser = millis, help_heading = "Faults")
    )]
    pub latency: Duration,
    /// Every page carries the same `next_starting_after` (clients must not
    /// loop).
    #[cfg_attr(feature = "clap", arg(long, help_heading = "Faults"))]
    pub repeat_cursor: bool,
    /// Pages say `has_next: true` without `next_starting_after`.
    #[cfg_attr(feature = "clap", arg(long, help_heading = "Faults"))]
    pub missing_cursor: bool,
    /// After each page that has a next one, this many empty pages with
    /// `has_next: true` (each with a new cursor) come first; `u32::MAX`
    /// for endless.
    #[cfg_attr(
        feature = "clap",
        arg(long, default_value_t = 0, value_name = "N", help_heading = "Faults")
    )]
    pub empty_pages: u32,
    /// Export paths answered 403 (a dataset the tenant may not read).
    #[cfg_attr(
        feature = "clap",
        arg(long = "forbid", value_name = "PATH", help_heading = "Faults")
    )]
    pub forbidden: Vec<String>,
    /// Export paths answered 503 every time (a dataset that keeps failing).
    #[cfg_attr(
        feature = "clap",
        arg(long = "fail", value_name = "PATH", help_heading = "Faults")
    )]
    pub failing: Vec<String>,
}

#[cfg(feature = "clap")]
fn millis(value: &str) -> Result<Duration, String> {
    value
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| format!("invalid duration {value:?}: expected whole milliseconds, e.g. 250"))
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            close_every: None,
            cut_body_every: None,
            rate_limit_every: None,
            retry_after_secs: 1,
            server_error_every: None,
            unauthorized_every: None,
            slow_every: None,
            slow_delay: Duration::from_secs(2),
            latency: Duration::ZERO,
            repeat_cursor: false,
            missing_cursor: false,
            empty_pages: 0,
            forbidden: Vec::new(),
            failing: Vec::new(),
        }
    }
}

/// How to build and serve the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// Employees in the synthetic tenant (default 1,000).
    pub employees: u32,
    /// The seed: same seed and count, byte-identical pages (default 42).
    pub seed: u64,
    /// The port on 127.0.0.1; 0 (the default) picks a free one.
    pub port: u16,
    /// The client id `/oauth/token` accepts (default `sandbox-client`).
    pub client_id: String,
    /// The client secret `/oauth/token` accepts (default `sandbox-secret`).
    pub client_secret: String,
    /// A bearer token accepted without the token endpoint (default
    /// `sandbox-token`); `None` to require client credentials.
    pub static_token: Option<String>,
    /// Lifetime of issued tokens (default one hour; short ones force
    /// clients to refresh mid-export).
    pub token_lifetime: Duration,
    /// What `GET /version` answers (default `2024-09-13`).
    pub api_version: String,
    /// Faults to inject.
    pub faults: Faults,
    /// Every object of every record (the record itself and each object
    /// nested in it) carries one more field, [`NEW_FIELD`], first, as on
    /// the day the API starts sending a field this release of the model
    /// does not know: for checking that a pipeline keeps working, and what
    /// such a field costs (default off).
    pub new_fields: bool,
}

/// The field [`SandboxConfig::new_fields`] adds to every object, with the
/// value `0.5`.
pub const NEW_FIELD: &str = "sandbox_new_field";

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            employees: 1_000,
            seed: 42,
            port: 0,
            client_id: "sandbox-client".into(),
            client_secret: "sandbox-secret".into(),
            static_token: Some("sandbox-token".into()),
            token_lifetime: Duration::from_secs(3600),
            api_version: "2024-09-13".into(),
            faults: Faults::default(),
            new_fields: false,
        }
    }
}

/// One request the sandbox received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query parameters, percent-decoded, in order.
    pub query: Vec<(String, String)>,
    /// The body as text; token requests are redacted (they hold the secret).
    pub body: String,
    /// The status answered; 0 when the connection was closed instead.
    pub status: u16,
    /// Which TCP connection carried it (0, 1, ... in accept order).
    pub connection: u64,
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    server: server::Server,
    state: Arc<api::State>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr())
            .field("employees", &self.state.tenant.len())
            .field("seed", &self.state.tenant.seed())
            .finish_non_exhaustive()
    }
}

impl Drop for Sandbox {
    /// Lets held answers go, so no connection thread waits forever.
    fn drop(&mut self) {
        self.state.gate.open();
    }
}

impl Sandbox {
    /// Generates the tenant and starts serving on 127.0.0.1 in background
    /// threads.
    pub fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        let listener = TcpListener::bind(("127.0.0.1", config.port)).map_err(|err| {
            std::io::Error::new(
                err.kind(),
                format!("cannot listen on 127.0.0.1:{}: {err}", config.port),
            )
        })?;
        let tenant = Tenant::generate(config.employees, config.seed);
        let state = Arc::new(api::State::new(config, tenant));
        let handler = {
            let state = state.clone();
            Arc::new(move |request: &server::HttpRequest| state.handle(request))
        };
        let server = server::Server::start(listener, handler)?;
        Ok(Sandbox { server, state })
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `http://127.0.0.1:<port>`: the base URL for clients.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The token endpoint, `<base_url>/oauth/token`.
    pub fn token_url(&self) -> String {
        format!("{}{}", self.base_url(), api::TOKEN_PATH)
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &SandboxConfig {
        &self.state.config
    }

    /// The synthetic tenant it serves.
    pub fn tenant(&self) -> &Tenant {
        &self.state.tenant
    }

    /// The requests received so far (the latest 100,000).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state.requests()
    }

    /// The first key field of every record of the dataset at `path`, in
    /// export order without filters (e.g. every employee's external id, or
    /// every job's); empty for a path the sandbox does not serve.
    pub fn keys(&self, path: &str) -> Vec<String> {
        self.state.keys(path)
    }

    /// Marks employees updated on `date` (their `last_updated` moves there),
    /// so that an incremental export finds them; `employees` are indices
    /// in export order.
    pub fn mark_updated(&self, employees: impl IntoIterator<Item = usize>, date: tw_model::Date) {
        let day = u32::try_from(date.days_since_epoch()).expect("a date after 1970");
        for index in employees {
            self.state.tenant.mark_updated(index, day);
        }
    }

    /// Holds back the answers to every export request after the next
    /// `answered` ones, until [`Sandbox::release`] (or the sandbox is
    /// dropped): a test can stop a client at a page of its choosing and
    /// act while it waits (kill it, signal it), with no timing involved.
    /// Held requests are in [`Sandbox::requests`] as soon as they arrive.
    ///
    /// ```
    /// use tw_sandbox::{Sandbox, SandboxConfig};
    ///
    /// let sandbox = Sandbox::start(SandboxConfig::default())?;
    /// sandbox.hold_after(2); // the next two export pages are answered, then none
    /// sandbox.release(); // all are answered again
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn hold_after(&self, answered: u64) {
        self.state
            .gate
            .close_after(self.state.export_requests() + answered);
    }

    /// Answers the held export requests and holds no more.
    pub fn release(&self) {
        self.state.gate.open();
    }

    /// How many export requests arrived so far (faulted ones included).
    pub fn export_requests(&self) -> u64 {
        self.state.export_requests()
    }

    /// Distinct TCP connections among the logged requests.
    pub fn connections(&self) -> usize {
        let mut ids: Vec<u64> = self.requests().iter().map(|r| r.connection).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    /// Serves until the process ends (foreground mode).
    pub fn wait(mut self) {
        self.server.wait();
    }

    /// Stops serving: lets held answers go, closes the listener, ends every
    /// connection once the answer it is writing (if any) is out, and
    /// returns once all of the sandbox's threads have ended.
    pub fn stop(mut self) {
        self.state.gate.open();
        self.server.stop();
    }
}

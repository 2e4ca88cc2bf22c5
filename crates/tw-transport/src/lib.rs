//! A blocking HTTP transport for the TechWolf API, behind a small trait.
//!
//! # Why this crate exists
//!
//! Every byte from TechWolf passes through here, and what goes wrong with API
//! clients in this space is well known: rate limits handled badly, tokens
//! expiring half-way through a long export, a reset connection killing a
//! run, secrets leaking into logs. This crate handles each by default:
//!
//! * [`HttpTransport`]: one ureq agent with keep-alive, connect and request
//!   timeouts, a body cap, gzip, proxies from the environment, and
//!   non-2xx bodies kept for the error message.
//! * [`RetryTransport`]: retries 408/429/5xx and network failures with
//!   exponential backoff and full jitter, honouring `Retry-After`.
//! * [`AuthTransport`]: a static bearer token or OAuth2 client credentials,
//!   with a cached token refreshed before it expires and once more on a 401.
//! * [`BaseUrl`]: `https://{tenant}.{region}.techwolf.ai` from DNS labels
//!   only; plain `http://` only to loopback.
//! * [`Secret`]: tokens and secrets print as `***`, and errors are scrubbed
//!   of them.
//!
//! Only this crate names `ureq`, and no public signature does.
//!
//! # Example
//!
//! ```no_run
//! use tw_transport::{
//!     AuthTransport, BaseUrl, ClientCredentials, Credentials, HttpTransport, Request,
//!     RetryPolicy, RetryTransport, Secret, Transport,
//! };
//!
//! let base = BaseUrl::for_tenant("acme", "eu3")?;
//! let credentials = ClientCredentials::for_region(
//!     "eu",
//!     "acme",
//!     "my-client-id",
//!     Secret::new(std::env::var("TECHWOLF_CLIENT_SECRET").unwrap_or_default()),
//! )?;
//! let transport = AuthTransport::new(
//!     RetryTransport::new(HttpTransport::new(base)?, RetryPolicy::default()),
//!     Credentials::ClientCredentials(credentials),
//! );
//! let response = transport.send(&Request::post_json(
//!     "/export/employees/skill_clusters",
//!     br#"{"limit": 100}"#.to_vec(),
//! ))?;
//! println!("{} bytes", response.body.len());
//! # Ok::<(), tw_transport::Error>(())
//! ```
//!
//! # TLS and corporate proxies
//!
//! TLS uses rustls with the Mozilla root certificates bundled in the binary.
//! Behind a TLS-inspecting proxy whose certificate authority is installed in
//! the operating system, build with the `platform-verifier` feature to trust
//! the operating system's store instead. Proxies come from `HTTPS_PROXY`,
//! `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`.

#![deny(missing_docs)]

mod auth;
mod error;
mod http;
mod message;
mod retry;
mod retry_after;
mod secret;
mod transport;
mod url;

#[cfg(any(test, feature = "test-util"))]
pub mod testing;

pub use crate::auth::{
    AuthTransport, ClientCredentials, Credentials, EU_AUDIENCE, EU_TOKEN_URL, US_AUDIENCE,
    US_TOKEN_URL, region_defaults,
};
pub use crate::error::{Error, NetworkKind};
pub use crate::http::{HttpConfig, HttpTransport};
pub use crate::message::{Method, Request, Response};
pub use crate::retry::{RetryEvent, RetryPolicy, RetryTransport};
pub use crate::secret::Secret;
pub use crate::transport::Transport;
pub use crate::url::BaseUrl;

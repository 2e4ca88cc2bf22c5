//! The transport error: what failed, where, how often, and whether retrying
//! can help.

use std::fmt;
use std::time::Duration;

/// What went wrong on the network, for [`Error::Network`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NetworkKind {
    /// The host name did not resolve (check tenant and region).
    Dns,
    /// No connection could be made.
    Connect,
    /// The connect or request timeout ran out.
    Timeout,
    /// The connection was closed or reset before a complete response.
    Closed,
    /// The response body ended early or did not match its length.
    Truncated,
    /// The response was not valid HTTP.
    Protocol,
    /// TLS failed (certificate, handshake).
    Tls,
    /// The proxy could not be used.
    Proxy,
    /// Anything else below HTTP.
    Other,
}

impl NetworkKind {
    /// Whether a new attempt may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            NetworkKind::Connect
                | NetworkKind::Timeout
                | NetworkKind::Closed
                | NetworkKind::Truncated
                | NetworkKind::Protocol
        )
    }

    fn describe(self) -> &'static str {
        match self {
            NetworkKind::Dns => "host name did not resolve",
            NetworkKind::Connect => "could not connect",
            NetworkKind::Timeout => "timed out",
            NetworkKind::Closed => "connection closed without a complete response",
            NetworkKind::Truncated => "response body cut off",
            NetworkKind::Protocol => "invalid HTTP response",
            NetworkKind::Tls => "TLS failed",
            NetworkKind::Proxy => "proxy failed",
            NetworkKind::Other => "network error",
        }
    }
}

impl fmt::Display for NetworkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// An error of a [`crate::Transport`].
///
/// Messages name the request (`POST /export/employees/skill_clusters`), the
/// status, the start of the body and the number of attempts, and never
/// contain a token or client secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a status other than 2xx.
    #[error(
        "{request} failed with HTTP {status}{reason}{after}: {body}",
        reason = reason_phrase(*status),
        after = attempts_suffix(*attempts),
        body = body_or_empty(body)
    )]
    Status {
        /// `METHOD path` of the request.
        request: String,
        /// The status code.
        status: u16,
        /// The first 2 KiB of the body, whitespace folded, secrets removed.
        body: String,
        /// The wait the server asked for in `Retry-After`, if any.
        retry_after: Option<Duration>,
        /// How many attempts were made.
        attempts: u32,
    },
    /// No complete response arrived.
    #[error("{request} failed{after}: {kind}: {message}", after = attempts_suffix(*attempts))]
    Network {
        /// `METHOD path` of the request.
        request: String,
        /// What went wrong.
        kind: NetworkKind,
        /// The underlying cause, as text.
        message: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The response body was larger than the configured cap.
    #[error(
        "{request}: the response body is larger than the {limit}-byte limit \
         (raise `max_body_bytes`, or ask for smaller pages)"
    )]
    BodyTooLarge {
        /// `METHOD path` of the request.
        request: String,
        /// The cap, in bytes.
        limit: u64,
    },
    /// The server asked for a longer wait than the retry policy allows.
    #[error(
        "{request} failed with HTTP {status}{after} and asked to retry after {}s, \
         more than the {}s allowed (`max_retry_after`); giving up instead of waiting",
        retry_after.as_secs(),
        max.as_secs(),
        after = attempts_suffix(*attempts)
    )]
    RetryAfterTooLong {
        /// `METHOD path` of the request.
        request: String,
        /// The status that carried `Retry-After`.
        status: u16,
        /// The wait asked for.
        retry_after: Duration,
        /// The longest wait allowed.
        max: Duration,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The credentials were rejected, or no token could be obtained.
    #[error("authentication failed{using}: {reason}", using = using(credential))]
    Auth {
        /// Which credential was used: a client id or "a static bearer
        /// token"; never a secret.
        credential: String,
        /// What happened.
        reason: String,
        /// The HTTP status involved, if any.
        status: Option<u16>,
    },
    /// A setting is invalid (tenant, region, URL, header value...).
    #[error("invalid {what} {value:?}: {expected}")]
    InvalidConfig {
        /// Which setting.
        what: &'static str,
        /// The rejected value.
        value: String,
        /// What is allowed.
        expected: String,
    },
}

fn attempts_suffix(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

fn body_or_empty(body: &str) -> &str {
    if body.is_empty() {
        "(empty body)"
    } else {
        body
    }
}

fn using(credential: &str) -> String {
    if credential.is_empty() {
        String::new()
    } else {
        format!(" using {credential}")
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => " Bad Request",
        401 => " Unauthorized",
        403 => " Forbidden",
        404 => " Not Found",
        405 => " Method Not Allowed",
        408 => " Request Timeout",
        409 => " Conflict",
        413 => " Content Too Large",
        422 => " Unprocessable Entity",
        429 => " Too Many Requests",
        500 => " Internal Server Error",
        502 => " Bad Gateway",
        503 => " Service Unavailable",
        504 => " Gateway Timeout",
        _ => "",
    }
}

/// The statuses worth another attempt: the export POSTs are read-only, so
/// replaying them is safe.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

impl Error {
    /// Whether a new attempt may succeed (408, 429, 5xx gateway errors,
    /// timeouts, dropped connections, cut-off bodies).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Status { status, .. } => is_retryable_status(*status),
            Error::Network { kind, .. } => kind.is_retryable(),
            _ => false,
        }
    }

    /// Whether the credentials or token were rejected (including a 401 or
    /// 403 status).
    pub fn is_auth(&self) -> bool {
        match self {
            Error::Auth { .. } => true,
            Error::Status { status, .. } => matches!(status, 401 | 403),
            _ => false,
        }
    }

    /// Whether a setting was invalid (nothing was sent).
    pub fn is_config(&self) -> bool {
        matches!(self, Error::InvalidConfig { .. })
    }

    /// The kind of network failure, if this is one.
    pub fn network_kind(&self) -> Option<NetworkKind> {
        match self {
            Error::Network { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// The HTTP status involved, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } | Error::RetryAfterTooLong { status, .. } => Some(*status),
            Error::Auth { status, .. } => *status,
            _ => None,
        }
    }

    /// What went wrong, without the request or the attempt count (those a
    /// retry log line says itself): `HTTP 503 Service Unavailable: <body>`
    /// for a status, `could not connect: <cause>` for a network failure;
    /// the whole message for the other kinds, which are never retried.
    ///
    /// ```
    /// use tw_transport::{Error, NetworkKind};
    ///
    /// let error = Error::Network {
    ///     request: "POST /export/skills".into(),
    ///     kind: NetworkKind::Timeout,
    ///     message: "no answer in 120 s".into(),
    ///     attempts: 2,
    /// };
    /// assert_eq!(error.to_string(), format!("POST /export/skills failed after 2 attempts: {}", error.reason()));
    /// ```
    pub fn reason(&self) -> String {
        match self {
            Error::Status { status, body, .. } => format!(
                "HTTP {status}{}: {}",
                reason_phrase(*status),
                body_or_empty(body)
            ),
            Error::Network { kind, message, .. } => format!("{kind}: {message}"),
            other => other.to_string(),
        }
    }

    /// How many attempts were made (1 when not retried).
    pub fn attempts(&self) -> u32 {
        match self {
            Error::Status { attempts, .. }
            | Error::Network { attempts, .. }
            | Error::RetryAfterTooLong { attempts, .. } => *attempts,
            _ => 1,
        }
    }

    pub(crate) fn set_attempts(&mut self, n: u32) {
        match self {
            Error::Status { attempts, .. }
            | Error::Network { attempts, .. }
            | Error::RetryAfterTooLong { attempts, .. } => *attempts = n,
            _ => {}
        }
    }

    pub(crate) fn invalid(what: &'static str, value: &str, expected: impl Into<String>) -> Self {
        Error::InvalidConfig {
            what,
            value: value.to_owned(),
            expected: expected.into(),
        }
    }

    /// Removes `secret` from every text this error carries.
    pub(crate) fn scrub(&mut self, secret: &str) {
        use crate::secret::scrub;
        match self {
            Error::Status { body, request, .. } => {
                scrub(body, secret);
                scrub(request, secret);
            }
            Error::Network {
                message, request, ..
            } => {
                scrub(message, secret);
                scrub(request, secret);
            }
            Error::Auth { reason, .. } => scrub(reason, secret),
            Error::InvalidConfig { value, .. } => scrub(value, secret),
            Error::BodyTooLarge { request, .. } | Error::RetryAfterTooLong { request, .. } => {
                scrub(request, secret)
            }
        }
    }
}

/// The first 2 KiB of `body` as text: lossy UTF-8, whitespace runs folded to
/// one space, cut at a character boundary.
pub(crate) fn body_snippet(body: &[u8]) -> String {
    const MAX: usize = 2048;
    // Scrub before cutting, over enough bytes to hold a secret that
    // straddles the cut, so no prefix of a secret survives the cut.
    let head = &body[..body.len().min(MAX + 4 + crate::secret::longest_known())];
    let mut text = String::from_utf8_lossy(head).into_owned();
    crate::secret::scrub_known(&mut text);
    let mut out = String::with_capacity(text.len().min(MAX));
    let mut space = false;
    for ch in text.trim().chars() {
        if ch.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        if out.len() + ch.len_utf8() > MAX {
            out.push('…');
            return out;
        }
        out.push(ch);
    }
    if body.len() > head.len() {
        out.push('…');
    }
    out
}

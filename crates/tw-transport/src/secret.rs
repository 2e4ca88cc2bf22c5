//! Secrets that never print.

use std::fmt;
use std::sync::RwLock;

/// A token or client secret. `Debug` and `Display` print `***`; the value is
/// only reachable through [`Secret::expose`], which the crate calls in
/// exactly two places: building the `Authorization` header and the token
/// request body.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value. Surrounding whitespace (a trailing newline from
    /// a file, say) is removed.
    ///
    /// The value is also remembered for the life of the process, so that
    /// every error text built from a server's answer is scrubbed of it at
    /// the source, before any log, observer or message sees it.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        let trimmed = value.trim();
        let secret = if trimmed.len() == value.len() {
            Secret(value)
        } else {
            Secret(trimmed.to_owned())
        };
        remember(&secret.0);
        secret
    }

    /// The secret value. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Replaces every occurrence of `secret` in `text` with `***`.
/// Every secret value this process holds (tokens and client secrets).
static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Short values would match innocent text and say nothing about a secret.
const MIN_LEN: usize = 4;

fn remember(value: &str) {
    if value.len() < MIN_LEN {
        return;
    }
    let mut known = KNOWN.write().unwrap_or_else(|poison| poison.into_inner());
    if !known.iter().any(|k| k == value) {
        known.push(value.to_owned());
    }
}

/// Replaces every secret this process holds in `text` with `***`.
pub(crate) fn scrub_known(text: &mut String) {
    let known = KNOWN.read().unwrap_or_else(|poison| poison.into_inner());
    for secret in known.iter() {
        scrub(text, secret);
    }
}

/// The length in bytes of the longest secret this process holds.
pub(crate) fn longest_known() -> usize {
    let known = KNOWN.read().unwrap_or_else(|poison| poison.into_inner());
    known.iter().map(String::len).max().unwrap_or(0)
}

pub(crate) fn scrub(text: &mut String, secret: &str) {
    if secret.len() >= MIN_LEN && text.contains(secret) {
        *text = text.replace(secret, "***");
    }
}

//! Secrets that never print.

use std::fmt;

/// A token or client secret. `Debug` and `Display` print `***`; the value is
/// only reachable through [`Secret::expose`], which the crate calls in
/// exactly two places: building the `Authorization` header and the token
/// request body.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value. Surrounding whitespace (a trailing newline from
    /// a file, say) is removed.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        let trimmed = value.trim();
        if trimmed.len() == value.len() {
            Secret(value)
        } else {
            Secret(trimmed.to_owned())
        }
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
pub(crate) fn scrub(text: &mut String, secret: &str) {
    // Short values would match innocent text and say nothing about the secret.
    if secret.len() >= 4 && text.contains(secret) {
        *text = text.replace(secret, "***");
    }
}

//! Errors of this crate: invalid requests and undecodable responses.

/// A request value outside what the API accepts, caught before any I/O.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// `limit` outside the dataset's range.
    #[error(
        "limit must be between {min} and {max} (inclusive), got {value}",
        min = crate::PageLimit::MIN
    )]
    LimitOutOfRange {
        /// The rejected value.
        value: i64,
        /// The dataset's largest page.
        max: u32,
    },
    /// `starting_after` empty or longer than 100 characters.
    #[error(
        "starting_after must be 1 to {max} characters long, got {len} characters",
        max = crate::CURSOR_MAX_LEN
    )]
    CursorLength {
        /// The rejected cursor's length in characters.
        len: usize,
    },
    /// A date that is not a calendar date written as `YYYY-MM-DD`.
    #[error(
        "invalid date {value:?}: expected a calendar date written as YYYY-MM-DD, e.g. 2024-03-25"
    )]
    InvalidDate {
        /// The rejected value.
        value: String,
    },
    /// A query parameter value the API does not accept.
    #[error("invalid {name} {value:?}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// The rejected value.
        value: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// A filter object that is not what its `"filter"` tag documents.
    #[error("invalid filter {value}: {reason}")]
    InvalidFilter {
        /// The rejected value, as JSON text.
        value: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
}

/// A response body that is not the JSON the model expects.
///
/// The message says where the problem is, as a path like
/// `records[3].skill_clusters[0].proficiency_level`, plus serde_json's own
/// description with line and column.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.describe())]
pub struct DecodeError {
    path: String,
    source: serde_json::Error,
}

impl DecodeError {
    pub(crate) fn new(path: String, source: serde_json::Error) -> Self {
        DecodeError { path, source }
    }

    /// Where in the document decoding failed, e.g.
    /// `records[3].skill_clusters[0].proficiency_level`; `.` for the top level.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The line (1-based) at which decoding failed.
    pub fn line(&self) -> usize {
        self.source.line()
    }

    /// The column (1-based) at which decoding failed.
    pub fn column(&self) -> usize {
        self.source.column()
    }

    /// Whether the body is not JSON at all (or is cut short), as opposed to
    /// JSON of the wrong shape.
    pub fn is_syntax(&self) -> bool {
        matches!(
            self.source.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        )
    }

    /// Whether the body ended before the JSON value was complete, which on
    /// a network response usually means the connection broke off.
    pub fn is_truncated(&self) -> bool {
        self.source.is_eof()
    }

    fn describe(&self) -> String {
        if self.is_syntax() {
            format!("response body is not valid JSON: {}", self.source)
        } else if self.path == "." || self.path.is_empty() {
            format!("unexpected response body: {}", self.source)
        } else {
            format!("unexpected response body at {}: {}", self.path, self.source)
        }
    }
}

//! The library error.

use tw_paginate::Checkpoint;

/// Why an export (or building a client) failed.
///
/// Errors raised while paging carry the [`Checkpoint`] to resume from
/// ([`Error::checkpoint`]): every record before it was yielded, none after.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A request value is out of range (limit, cursor, date).
    #[error(transparent)]
    Request(#[from] tw_model::RequestError),
    /// The client settings are incomplete or contradictory.
    #[error("{0}")]
    Config(String),
    /// The API could not be reached, refused the credentials, or kept
    /// failing after retries.
    #[error("{error}")]
    Api {
        /// The transport's error (its message is complete, so it is not
        /// repeated as a `source`).
        error: tw_transport::Error,
        /// Where to resume, when the failure came while paging.
        checkpoint: Option<Checkpoint>,
    },
    /// A response page was not the JSON the export documents.
    #[error("page {page} of the export is not valid: {source}")]
    Decode {
        /// The page number (1-based, counting pages before a resume).
        page: u64,
        /// The decoding error, naming the failing path.
        source: tw_model::DecodeError,
        /// Where to resume.
        checkpoint: Option<Checkpoint>,
    },
    /// The server broke the pagination protocol (a missing or repeated
    /// cursor, endless empty pages, an over-long cursor).
    #[error("the API broke the pagination protocol: {message}")]
    Protocol {
        /// What happened.
        message: String,
        /// Where to resume.
        checkpoint: Option<Checkpoint>,
    },
}

impl Error {
    /// Where to resume an export that stopped with this error.
    pub fn checkpoint(&self) -> Option<&Checkpoint> {
        match self {
            Error::Api { checkpoint, .. }
            | Error::Decode { checkpoint, .. }
            | Error::Protocol { checkpoint, .. } => checkpoint.as_ref(),
            _ => None,
        }
    }

    /// The HTTP status the API answered with, when that is why the export
    /// failed (e.g. 403 for a dataset the tenant may not read).
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { error, .. } => error.status(),
            _ => None,
        }
    }

    /// The underlying transport error, if the API was the problem.
    pub fn transport(&self) -> Option<&tw_transport::Error> {
        match self {
            Error::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Whether the credentials or token were rejected.
    pub fn is_auth(&self) -> bool {
        matches!(self, Error::Api { error, .. } if error.is_auth())
    }

    /// Whether the settings or request were invalid (nothing was sent).
    pub fn is_invalid_input(&self) -> bool {
        match self {
            Error::Request(_) | Error::Config(_) => true,
            Error::Api { error, .. } => error.is_config(),
            _ => false,
        }
    }

    /// Whether the API failed (after retries) or broke the protocol.
    pub fn is_api_failure(&self) -> bool {
        !self.is_auth() && !self.is_invalid_input()
    }

    pub(crate) fn with_checkpoint(mut self, at: Checkpoint) -> Self {
        match &mut self {
            Error::Api { checkpoint, .. }
            | Error::Decode { checkpoint, .. }
            | Error::Protocol { checkpoint, .. } => *checkpoint = Some(at),
            _ => {}
        }
        self
    }

    /// Flattens a pagination error into an export error with its checkpoint.
    pub(crate) fn from_pagination(err: tw_paginate::Error<Error>) -> Self {
        let checkpoint = err.checkpoint().clone();
        if err.is_source() {
            let source = err.into_source_error().expect("a source error");
            return source.with_checkpoint(checkpoint);
        }
        Error::Protocol {
            message: err.to_string(),
            checkpoint: Some(checkpoint),
        }
    }
}

impl From<tw_transport::Error> for Error {
    fn from(error: tw_transport::Error) -> Self {
        Error::Api {
            error,
            checkpoint: None,
        }
    }
}

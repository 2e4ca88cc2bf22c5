//! The pagination error: a failed fetch or a server that broke the protocol.

use crate::{Checkpoint, Cursor};

/// Why pagination stopped early.
///
/// Every variant carries the [`Checkpoint`] at the last page boundary before
/// the problem: all items up to it were yielded, none after it, so
/// `Paginator::resume` from it loses and repeats nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error<E> {
    /// The page source failed.
    #[error("fetching page {page} failed ({checkpoint})", page = checkpoint.pages + 1)]
    Source {
        /// The source's error.
        #[source]
        source: E,
        /// Where to resume.
        checkpoint: Checkpoint,
    },
    /// A page said more pages follow but gave no cursor for them.
    #[error(
        "page {page} says more pages follow but carries no cursor for the next one; \
         stopped rather than loop or silently skip records ({checkpoint})",
        page = checkpoint.pages + 1
    )]
    MissingCursor {
        /// Where to resume.
        checkpoint: Checkpoint,
    },
    /// A page returned a cursor that an earlier page had already returned.
    #[error(
        "page {page} returned the cursor {cursor} that an earlier page already returned; \
         stopped because following it would loop ({checkpoint})",
        page = checkpoint.pages + 1
    )]
    RepeatedCursor {
        /// The repeated cursor.
        cursor: Cursor,
        /// Where to resume.
        checkpoint: Checkpoint,
    },
    /// Too many empty pages in a row, each saying more pages follow.
    #[error(
        "{count} empty pages in a row, each saying more pages follow; \
         stopped at the `max_empty_pages` limit ({checkpoint})"
    )]
    TooManyEmptyPages {
        /// How many empty pages came in a row.
        count: u32,
        /// Where to resume.
        checkpoint: Checkpoint,
    },
}

impl<E> Error<E> {
    /// Where to resume: the last page boundary before the problem.
    pub fn checkpoint(&self) -> &Checkpoint {
        match self {
            Error::Source { checkpoint, .. }
            | Error::MissingCursor { checkpoint }
            | Error::RepeatedCursor { checkpoint, .. }
            | Error::TooManyEmptyPages { checkpoint, .. } => checkpoint,
        }
    }

    /// Whether the page source failed (as opposed to the server breaking
    /// the pagination protocol).
    pub fn is_source(&self) -> bool {
        matches!(self, Error::Source { .. })
    }

    /// Whether the server broke the pagination protocol (missing or
    /// repeated cursor, endless empty pages). Retrying will not help.
    pub fn is_protocol(&self) -> bool {
        !self.is_source()
    }

    /// The source's error, if the source failed.
    pub fn source_error(&self) -> Option<&E> {
        match self {
            Error::Source { source, .. } => Some(source),
            _ => None,
        }
    }

    /// The source's error, by value, if the source failed.
    pub fn into_source_error(self) -> Option<E> {
        match self {
            Error::Source { source, .. } => Some(source),
            _ => None,
        }
    }
}

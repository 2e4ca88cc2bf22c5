//! The command line: arguments, validation, and the subcommands.

pub(crate) mod all;
pub(crate) mod args;
pub(crate) mod checkpoint;
pub(crate) mod compress;
pub(crate) mod export;
pub(crate) mod lockfile;
pub(crate) mod parquet;
pub(crate) mod sandbox;
pub(crate) mod signals;
pub(crate) mod state;
pub(crate) mod stderr;
pub(crate) mod writeback;

use std::fmt;

/// How the process ends, by failure class; see README "Exit codes".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Invalid arguments or input.
    Usage = 2,
    /// Authentication failed.
    Auth = 3,
    /// The API failed after retries or broke the pagination protocol.
    Api = 4,
    /// A local I/O error.
    Io = 5,
}

/// An error the user must fix in the command line or its inputs.
#[derive(Debug)]
pub(crate) struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A run that ended with some work failed: exits with `exit`, whatever
/// the causes below it are.
#[derive(Debug)]
pub(crate) struct Failed {
    pub exit: Exit,
    pub message: String,
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failed {}

/// A hint printed after the error (e.g. how to resume).
#[derive(Debug)]
pub(crate) struct Hint(pub String);

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Hint {}

/// Classifies an error chain into an exit code.
pub(crate) fn classify(err: &anyhow::Error) -> Exit {
    if let Some(failed) = err.downcast_ref::<Failed>() {
        return failed.exit;
    }
    for cause in err.chain() {
        if cause.downcast_ref::<UsageError>().is_some() {
            return Exit::Usage;
        }
        if let Some(export) = cause.downcast_ref::<tw_export::Error>() {
            return if export.is_auth() {
                Exit::Auth
            } else if export.is_invalid_input() {
                Exit::Usage
            } else {
                Exit::Api
            };
        }
        if let Some(transport) = cause.downcast_ref::<tw_transport::Error>() {
            return if transport.is_auth() {
                Exit::Auth
            } else if transport.is_config() {
                Exit::Usage
            } else {
                Exit::Api
            };
        }
        if cause.downcast_ref::<tw_model::RequestError>().is_some() {
            return Exit::Usage;
        }
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return Exit::Io;
        }
    }
    Exit::Io
}

/// Whether the error is a closed stdout pipe (`tw-export ... | head`).
pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `n` and its noun, singular for one: `1 page`, `3 pages`, `1 retry`.
pub(crate) fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", noun(n, one, many))
}

/// The noun for `n` things: `one` for one, `many` otherwise.
pub(crate) fn noun<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// `text` safe for a terminal: control characters other than the line
/// break (ANSI escape sequences, carriage returns, backspaces, bells) are
/// shown escaped, so text a server sent cannot clear the screen, move the
/// cursor or forge a line. Server bodies reach messages with their line
/// breaks already folded to spaces.
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        if ch.is_control() && ch != '\n' {
            out.extend(ch.escape_default());
        } else {
            out.push(ch);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// An error's causes in one line, without the single-export hint (how to
/// resume one file), which `all --resume` replaces.
pub(crate) fn describe(err: &anyhow::Error) -> String {
    let hint = err.downcast_ref::<Hint>().map(ToString::to_string);
    err.chain()
        .map(ToString::to_string)
        .filter(|cause| Some(cause) != hint.as_ref())
        .collect::<Vec<_>>()
        .join(": ")
}

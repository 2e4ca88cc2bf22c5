//! Everything the command writes to stderr: log lines, progress, the
//! summary and errors, as text or (`--log-format json`) as one JSON object
//! per line. Text lines are written through the progress display, so a log
//! line never tears a progress line.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

static JSON: AtomicBool = AtomicBool::new(false);
static MULTI: OnceLock<indicatif::MultiProgress> = OnceLock::new();

/// Chooses JSON lines (no progress display) or text.
pub(crate) fn set_json(json: bool) {
    JSON.store(json, Ordering::SeqCst);
}

/// Whether stderr carries JSON lines.
pub(crate) fn json() -> bool {
    JSON.load(Ordering::SeqCst)
}

/// The one progress display: drawn on a terminal in text mode, else hidden.
pub(crate) fn multi() -> &'static indicatif::MultiProgress {
    MULTI.get_or_init(|| {
        if json() || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
        } else {
            indicatif::MultiProgress::new()
        }
    })
}

/// Writes `bytes` to stderr with the progress display out of the way.
fn write_through_progress(bytes: &[u8]) {
    multi().suspend(|| {
        let _ = std::io::stderr().write_all(bytes);
    });
}

/// A `tracing` writer that goes through the progress display.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        write_through_progress(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// One line of the summary (or of an error): text as given, or a JSON
/// object in the shape of the JSON log lines, with `fields` added.
pub(crate) fn line(level: &str, message: &str, fields: serde_json::Value) {
    if json() {
        let mut object = serde_json::Map::new();
        object.insert(
            "timestamp".into(),
            crate::cli::state::rfc3339(std::time::SystemTime::now()).into(),
        );
        object.insert("level".into(), level.into());
        let mut all = serde_json::Map::new();
        all.insert("message".into(), message.into());
        if let serde_json::Value::Object(fields) = fields {
            all.extend(fields);
        }
        object.insert("fields".into(), serde_json::Value::Object(all));
        let mut text = serde_json::Value::Object(object).to_string();
        text.push('\n');
        write_through_progress(text.as_bytes());
    } else {
        write_through_progress(format!("{message}\n").as_bytes());
    }
}

//! `PATH.checkpoint`: where an interrupted export to `PATH` resumes.
//!
//! Written after every page once the page's records are in `PATH.partial`,
//! by writing `PATH.checkpoint.tmp` and renaming it over the old one, so a
//! process killed at any moment leaves either the old or the new checkpoint,
//! and the partial file holds at least `bytes` bytes. It never holds a
//! secret: the options record what shapes the output, not how to log in.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tw_paginate::{Checkpoint, Cursor};

/// The file format version.
const VERSION: u32 = 1;

/// The saved state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Saved {
    /// Format version.
    pub tw_export_checkpoint: u32,
    /// The options that shape the output; a resume must match them.
    pub options: Value,
    /// The cursor of the next page; `null` at the start or when complete.
    pub next_cursor: Option<String>,
    /// Whether the last page is written (only the rename is missing).
    pub complete: bool,
    /// Bytes of the partial file that are final.
    pub bytes: u64,
    /// Records in those bytes.
    pub records: u64,
    /// Pages in those bytes.
    pub pages: u64,
}

impl Saved {
    pub(crate) fn new(options: Value, at: &Checkpoint, bytes: u64) -> Saved {
        Saved {
            tw_export_checkpoint: VERSION,
            options,
            next_cursor: at.cursor.as_ref().map(|c| c.as_str().to_owned()),
            complete: at.complete,
            bytes,
            records: at.items,
            pages: at.pages,
        }
    }

    /// The pagination checkpoint to resume from.
    pub(crate) fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            cursor: self.next_cursor.clone().map(Cursor::new),
            pages: self.pages,
            items: self.records,
            complete: self.complete,
        }
    }

    /// The options that differ from `options`, by name.
    pub(crate) fn differences(&self, options: &Value) -> Vec<String> {
        let (Value::Object(saved), Value::Object(now)) = (&self.options, options) else {
            return vec!["all options".into()];
        };
        let mut keys: Vec<&String> = saved.keys().chain(now.keys()).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .filter(|k| saved.get(*k) != now.get(*k))
            .map(|k| {
                format!(
                    "{k}: checkpoint has {}, this run has {}",
                    saved.get(k).map_or("nothing".into(), Value::to_string),
                    now.get(k).map_or("nothing".into(), Value::to_string)
                )
            })
            .collect()
    }
}

/// `PATH.partial` and `PATH.checkpoint` for an output `PATH`.
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    pub output: PathBuf,
    pub partial: PathBuf,
    pub checkpoint: PathBuf,
}

impl Paths {
    pub(crate) fn for_output(output: &Path) -> Paths {
        let with = |suffix: &str| {
            let mut name = output.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        };
        Paths {
            output: output.to_owned(),
            partial: with(".partial"),
            checkpoint: with(".checkpoint"),
        }
    }

    pub(crate) fn load(&self) -> std::io::Result<Option<Saved>> {
        match fs::read(&self.checkpoint) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|err| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{} is not a tw-export checkpoint: {err}",
                        self.checkpoint.display()
                    ),
                )
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Replaces the checkpoint atomically.
    pub(crate) fn save(&self, saved: &Saved) -> std::io::Result<()> {
        let mut tmp = self.checkpoint.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        // One write: the file is unbuffered.
        let mut text = serde_json::to_vec_pretty(saved)?;
        text.push(b'\n');
        create_private(&tmp)?.write_all(&text)?;
        fs::rename(&tmp, &self.checkpoint)
    }
}

/// Creates (or truncates) a file readable by its owner only: exports hold
/// personal data.
pub(crate) fn create_private(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        // An existing file keeps its mode through open(); make sure.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

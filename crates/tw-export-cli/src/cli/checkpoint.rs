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
    pub lock: PathBuf,
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
            lock: with(".lock"),
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

/// Creates a new file readable by its owner only (exports hold personal
/// data), replacing whatever was at `path`. Whatever was there is unlinked
/// first and the file is created with `O_CREAT | O_EXCL`, which never
/// follows a symbolic link: a link planted at `path` is removed, not
/// written through, and one planted again in between makes this fail.
pub(crate) fn create_private(path: &Path) -> std::io::Result<fs::File> {
    match fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Opens an existing partial file to continue it, only if it is a regular
/// file (not a link, device or FIFO) owned by this user. The check and the
/// open are tied together by comparing the opened file's identity with the
/// checked one, so a swap in between is caught.
pub(crate) fn open_partial(path: &Path) -> std::io::Result<fs::File> {
    let refuse = |why: &str| {
        std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("refusing to continue {}: {why}", path.display()),
        )
    };
    let before = fs::symlink_metadata(path)?;
    if !before.file_type().is_file() {
        return Err(refuse("it is not a regular file (a symbolic link?)"));
    }
    let file = fs::OpenOptions::new().read(true).write(true).open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let opened = file.metadata()?;
        if (opened.dev(), opened.ino()) != (before.dev(), before.ino()) {
            return Err(refuse("it was replaced while being opened"));
        }
        // /proc/self belongs to this process's effective user.
        if let Ok(me) = fs::metadata("/proc/self")
            && opened.uid() != me.uid()
        {
            return Err(refuse("it belongs to another user"));
        }
    }
    Ok(file)
}

/// Checks `-o PATH` before any request: not a directory (or a path ending
/// in `/`), and not an existing device, FIFO or socket, which the final
/// rename would replace with a regular file.
pub(crate) fn check_target(path: &Path) -> std::io::Result<()> {
    let invalid = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, why);
    let text = path.as_os_str().to_string_lossy();
    if text.ends_with('/') || path.is_dir() {
        return Err(invalid(format!(
            "-o {}: is a directory; give a file path such as {}",
            path.display(),
            path.join("export.jsonl").display()
        )));
    }
    if let Ok(meta) = fs::metadata(path)
        && !meta.file_type().is_file()
    {
        return Err(invalid(format!(
            "-o {}: is not a regular file (a device or FIFO?); write to stdout \
             and redirect instead: tw-export ... > {}",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

/// An exclusive lock on `PATH.lock`, held while an export writes `PATH`:
/// a second run on the same `PATH` fails at once instead of writing the
/// same partial file. The OS releases it when the process ends, however
/// it ends, so a killed run never blocks `--resume`. The lock file stays
/// (removing it would let two runs lock two different files).
pub(crate) fn lock(paths: &Paths) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    if fs::symlink_metadata(&paths.lock).is_ok_and(|m| !m.file_type().is_file()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "refusing to use {}: it is not a regular file",
                paths.lock.display()
            ),
        ));
    }
    let file = options.open(&paths.lock)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(std::io::Error::new(
            std::io::ErrorKind::WouldBlock,
            format!(
                "another tw-export is writing {} (it holds {}); wait for it to finish",
                paths.output.display(),
                paths.lock.display()
            ),
        )),
        Err(fs::TryLockError::Error(err)) => Err(err),
    }
}

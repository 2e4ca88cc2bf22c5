//! Lock files that do not outstay their run.
//!
//! A run holds an exclusive OS lock on `PATH.lock` while it writes `PATH`
//! (or a manifest, or a state file). The OS drops the lock when the
//! process ends, however it ends, so a killed run never blocks the next.
//! On Unix the holder also removes the file when it is done, while still
//! holding the lock, so a finished export leaves nothing beside its
//! output. Removing a lock file is safe only with a check on the other
//! side: a run that opened the file just before it was removed would lock
//! a file nobody else can see. So a run that gets the lock checks that the
//! path still names the file it locked, and otherwise starts again with
//! the new file. A killed run's lock file stays until the next run on the
//! same path takes it and removes it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// How many times a run starts again when lock files are removed under
/// it: each time means another run finished in between.
const ATTEMPTS: usize = 100;

/// An exclusive lock on a lock file, released (and on Unix, the file
/// removed) when dropped.
#[derive(Debug)]
pub(crate) struct LockFile {
    path: PathBuf,
    /// Held open: closing it releases the lock.
    _file: fs::File,
}

impl LockFile {
    /// Takes the lock on `path`, or `None` at once when another process
    /// holds it.
    pub(crate) fn try_take(path: &Path) -> io::Result<Option<LockFile>> {
        take(path, false)
    }

    /// Takes the lock on `path`, waiting for another holder to let go.
    pub(crate) fn take(path: &Path) -> io::Result<LockFile> {
        take(path, true).map(|lock| lock.expect("a waiting lock is always taken"))
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        // Removed before the lock goes (the file closes after this):
        // whoever locks the old file next sees it is gone and starts again.
        #[cfg(unix)]
        let _ = fs::remove_file(&self.path);
    }
}

fn take(path: &Path, wait: bool) -> io::Result<Option<LockFile>> {
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    for _ in 0..ATTEMPTS {
        if fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file()) {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "refusing to use {}: it is not a regular file",
                    path.display()
                ),
            ));
        }
        let file = options.open(path)?;
        if wait {
            file.lock()?;
        } else {
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => return Ok(None),
                Err(fs::TryLockError::Error(err)) => return Err(err),
            }
        }
        if names(path, &file)? {
            return Ok(Some(LockFile {
                path: path.to_owned(),
                _file: file,
            }));
        }
        // Its holder removed it between our open and our lock: the file
        // we hold is no longer the lock; take the one at `path` now.
    }
    Err(io::Error::other(format!(
        "could not lock {}: it was replaced {ATTEMPTS} times while being taken",
        path.display()
    )))
}

/// Whether `path` still names `file`.
#[cfg(unix)]
fn names(path: &Path, file: &fs::File) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let held = file.metadata()?;
    Ok(match fs::symlink_metadata(path) {
        Ok(now) => now.dev() == held.dev() && now.ino() == held.ino(),
        Err(err) if err.kind() == io::ErrorKind::NotFound => false,
        Err(err) => return Err(err),
    })
}

/// Lock files are never removed off Unix, so the path names the file.
#[cfg(not(unix))]
fn names(_: &Path, _: &fs::File) -> io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tw-lockfile-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn one_holder_at_a_time_and_the_file_goes_with_it() {
        let path = dir("one").join("out.jsonl.lock");
        let first = LockFile::try_take(&path).unwrap().expect("free");
        assert!(path.exists());
        assert!(LockFile::try_take(&path).unwrap().is_none(), "held");
        drop(first);
        #[cfg(unix)]
        assert!(!path.exists(), "removed when released");
        let again = LockFile::try_take(&path).unwrap();
        assert!(again.is_some(), "free again");
    }

    #[test]
    fn a_stale_lock_file_is_taken_and_removed() {
        let path = dir("stale").join("out.jsonl.lock");
        fs::write(&path, b"").unwrap();
        let lock = LockFile::take(&path).unwrap();
        drop(lock);
        #[cfg(unix)]
        assert!(!path.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_on_a_removed_file_is_not_the_lock() {
        // A run that locked a file its holder has since removed holds no
        // lock: `names` sees the path is gone or names another file.
        let path = dir("removed").join("out.jsonl.lock");
        let file = fs::File::create(&path).unwrap();
        assert!(names(&path, &file).unwrap());
        fs::remove_file(&path).unwrap();
        assert!(!names(&path, &file).unwrap());
        fs::write(&path, b"").unwrap();
        assert!(!names(&path, &file).unwrap(), "a new file at the path");
        // Taking it now gets the new file, and the old one is not held.
        let lock = LockFile::try_take(&path).unwrap().expect("free");
        assert!(names(&path, &lock._file).unwrap());
    }

    #[test]
    fn a_lock_path_that_is_not_a_file_is_refused() {
        let path = dir("dir").join("out.jsonl.lock");
        fs::create_dir(&path).unwrap();
        let err = LockFile::try_take(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }
}

//! Early writeback: an export's file reaches the disk while the export
//! runs, not all at its end.
//!
//! A file export ends with an fsync before the rename that puts the
//! complete file in place (a crash never leaves a half-written file under
//! the output's name). Left alone, the kernel keeps every written byte
//! dirty in memory until that fsync, which then writes the whole file while
//! the export waits: on this project's benchmark machine a 152 MB export
//! spent 0.21 s in that one call, more than the fetch itself. [`Writeback`]
//! asks for the bytes written so far to be written out every
//! [`WRITEBACK_EVERY`] bytes, on a thread of its own, so the disk works
//! alongside the network and the final fsync writes only the tail (the
//! idea of RocksDB's `bytes_per_sync`). It also keeps a long export from
//! filling memory with dirty pages.
//!
//! An error of a background sync is kept and returned by
//! [`Writeback::sync_all`]: the thread's handle shares the file's open
//! description, so the kernel reports a write-back error to one of the two
//! only, and it must not be lost on the thread.

use std::fs;
use std::io::{self, Write};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// How many bytes are written between two requests to write the file out.
pub(crate) const WRITEBACK_EVERY: u64 = 8 << 20;

/// A file whose written bytes are synced to disk in the background, every
/// [`WRITEBACK_EVERY`] bytes; [`Writeback::sync_all`] ends it.
pub(crate) struct Writeback {
    file: fs::File,
    /// Bytes written since the last request.
    since: u64,
    /// The syncing thread (`None` when it could not be started: then the
    /// final sync does all the work, as without this type).
    flusher: Option<Flusher>,
}

/// The background thread and the way to wake it.
struct Flusher {
    /// Room for one request: requests made while one waits are merged
    /// into it.
    wake: mpsc::SyncSender<()>,
    thread: JoinHandle<io::Result<()>>,
}

impl Writeback {
    /// Writes `file` with early writeback.
    pub(crate) fn new(file: fs::File) -> Writeback {
        Writeback::syncing_with(file, fs::File::sync_data)
    }

    /// [`Writeback::new`] whose background syncs call `sync` (tests make
    /// it fail).
    fn syncing_with(file: fs::File, sync: fn(&fs::File) -> io::Result<()>) -> Writeback {
        let flusher = file.try_clone().ok().and_then(|clone| {
            let (wake, requests) = mpsc::sync_channel::<()>(1);
            std::thread::Builder::new()
                .name("tw-export writeback".into())
                .spawn(move || {
                    // Ends when the writer hangs up, or at the first error
                    // (kept for sync_all).
                    for () in requests {
                        sync(&clone)?;
                    }
                    Ok(())
                })
                .ok()
                .map(|thread| Flusher { wake, thread })
        });
        Writeback {
            file,
            since: 0,
            flusher,
        }
    }

    /// Stops the background syncs (waiting for the one under way) and
    /// syncs the rest of the file, data and metadata; the first error of
    /// any sync, background or final, is returned.
    pub(crate) fn sync_all(&mut self) -> io::Result<()> {
        self.stop()?;
        self.file.sync_all()
    }

    /// Stops the background thread, if running, after the sync under way;
    /// returns the first error of its syncs.
    fn stop(&mut self) -> io::Result<()> {
        let Some(Flusher { wake, thread }) = self.flusher.take() else {
            return Ok(());
        };
        drop(wake);
        thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writeback thread panicked")))
    }
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.since += n as u64;
        if self.since >= WRITEBACK_EVERY {
            self.since = 0;
            if let Some(flusher) = &self.flusher {
                // Full: a request is already waiting and covers these
                // bytes too. Gone: the thread stopped on an error, which
                // sync_all returns.
                let _ = flusher.wake.try_send(());
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for Writeback {
    /// An export that stops early (an error, a signal) waits for the sync
    /// under way, so no thread outlives the file's writer.
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[test]
    fn every_byte_arrives_and_sync_all_ends_the_thread() {
        let dir = std::env::temp_dir().join(format!("tw-writeback-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out");
        let mut out = Writeback::new(fs::File::create(&path).unwrap());
        assert!(out.flusher.is_some(), "the thread starts");
        // Enough to request several background syncs, in odd-sized writes.
        let chunk: Vec<u8> = (0..=250u8).cycle().take(1_000_003).collect();
        let mut expected = Vec::new();
        while (expected.len() as u64) < 3 * WRITEBACK_EVERY {
            out.write_all(&chunk).unwrap();
            expected.extend_from_slice(&chunk);
        }
        out.sync_all().unwrap();
        assert!(out.flusher.is_none(), "sync_all stops the thread");
        // A second call only syncs.
        out.sync_all().unwrap();
        drop(out);
        assert_eq!(fs::read(&path).unwrap(), expected);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_background_sync_fails_sync_all() {
        let dir = std::env::temp_dir().join(format!("tw-writeback-err-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out");
        let failing: fn(&fs::File) -> io::Result<()> =
            |_| Err(io::Error::other("injected write-back failure"));
        let mut out = Writeback::syncing_with(fs::File::create(&path).unwrap(), failing);
        // Enough for a background sync to be asked for; writes themselves
        // still succeed.
        out.write_all(&vec![b'x'; WRITEBACK_EVERY as usize + 1])
            .unwrap();
        let err = out.sync_all().unwrap_err();
        assert_eq!(err.to_string(), "injected write-back failure");
        drop(out);
        fs::remove_dir_all(&dir).unwrap();
    }
}

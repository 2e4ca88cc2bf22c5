//! `PATH.checkpoint`: where an interrupted export to `PATH` resumes.
//!
//! Written after a page once its records are in `PATH.partial` (after every
//! page the next one does not follow at once, at least once a second, and
//! before a run stops; see the export loop),
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

use crate::cli::lockfile::LockFile;

/// The file format version: 2 adds the last page's digest, 3 digests with
/// four lanes ([`PageDigest`]); 2 is still read (checked with the one-lane
/// digest it was written with) and 1 too (without that check).
const VERSION: u32 = 3;

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
    /// Where the bytes written since the checkpoint before this one start
    /// in the partial file (the last page, or the last few pages).
    #[serde(default)]
    pub page_start: u64,
    /// The digest of the partial file's bytes `page_start..bytes` (hex), to
    /// tell a partial file that changed from the one the checkpoint
    /// describes.
    #[serde(default)]
    pub page_digest: Option<String>,
    /// The unknown-field counts of the records in those bytes, when the
    /// export collects them (`tw-export all`), so a resume reports them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_fields: Option<std::collections::BTreeMap<String, u64>>,
}

impl Saved {
    /// The state after `at`, with the partial file as `tracked` wrote it;
    /// starts the digest of the bytes up to the next checkpoint.
    pub(crate) fn new<W>(options: Value, at: &Checkpoint, tracked: &Tracked<W>) -> Saved {
        let saved = Saved {
            tw_export_checkpoint: VERSION,
            options,
            next_cursor: at.cursor.as_ref().map(|c| c.as_str().to_owned()),
            complete: at.complete,
            bytes: tracked.bytes,
            records: at.items,
            pages: at.pages,
            page_start: tracked.page_start.get(),
            page_digest: Some(format!("{:016x}", tracked.digest.get().finish())),
            unknown_fields: None,
        };
        tracked.page_start.set(tracked.bytes);
        tracked.digest.set(PageDigest::new());
        saved
    }

    /// Why this checkpoint cannot be resumed from, if it cannot.
    fn unusable(&self) -> Option<String> {
        if !(1..=VERSION).contains(&self.tw_export_checkpoint) {
            return Some(format!(
                "format version {} is not one this tw-export reads (1 to {VERSION})",
                self.tw_export_checkpoint
            ));
        }
        if let Some(cursor) = &self.next_cursor
            && let Err(err) = tw_model::check_cursor(cursor)
        {
            return Some(format!("its cursor is not one the API accepts: {err}"));
        }
        if self.records > self.bytes || self.page_start > self.bytes {
            return Some(format!(
                "it counts {} records and a page from byte {} in {} bytes",
                self.records, self.page_start, self.bytes
            ));
        }
        None
    }

    /// Checks the partial file's last page against the digest (versions 2
    /// and 3, each with its own digest).
    pub(crate) fn matches(&self, file: &mut fs::File) -> std::io::Result<bool> {
        let Some(expected) = &self.page_digest else {
            return Ok(true);
        };
        let digest = if self.tw_export_checkpoint == 2 {
            self.digest_page::<1>(file)?
        } else {
            self.digest_page::<4>(file)?
        };
        Ok(format!("{digest:016x}") == *expected)
    }

    /// The digest of the partial file's bytes `page_start..bytes`.
    fn digest_page<const LANES: usize>(&self, file: &mut fs::File) -> std::io::Result<u64> {
        use std::io::{Read, Seek};
        file.seek(std::io::SeekFrom::Start(self.page_start))?;
        let mut digest = Digest::<LANES>::new();
        let mut page = file.take(self.bytes - self.page_start);
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let n = page.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            digest.update(&buffer[..n]);
        }
        Ok(digest.finish())
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

    /// The checkpoint, `None` when there is none, `Err` with why when it
    /// cannot be used (not JSON, another format, an impossible count, a
    /// cursor the API would refuse).
    pub(crate) fn load(&self) -> std::io::Result<Option<Result<Saved, String>>> {
        match fs::read(&self.checkpoint) {
            Ok(bytes) => Ok(Some(match serde_json::from_slice::<Saved>(&bytes) {
                Err(err) => Err(format!("it is not a tw-export checkpoint ({err})")),
                Ok(saved) => match saved.unusable() {
                    Some(why) => Err(why),
                    None => Ok(saved),
                },
            })),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Replaces the checkpoint atomically.
    pub(crate) fn save(&self, saved: &Saved) -> std::io::Result<()> {
        replace_json(&self.checkpoint, saved)
    }
}

/// Replaces `path` with `value` as pretty JSON, atomically: written to
/// `path.tmp` (a new private file), then renamed over `path`, so a reader
/// or a process killed at any moment sees the old file or the new one.
pub(crate) fn replace_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    // One write: the file is unbuffered.
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    create_private(&tmp)?.write_all(&text)?;
    fs::rename(&tmp, path)
}

/// A writer that counts the bytes written through it and digests the
/// current page's bytes, so checkpoints know the partial file's length and
/// can later tell whether it changed, without reading it back.
#[derive(Debug)]
pub(crate) struct Tracked<W> {
    pub(crate) inner: W,
    pub(crate) bytes: u64,
    // Cells: a checkpoint is taken through the record writer's shared
    // reference to its output.
    page_start: std::cell::Cell<u64>,
    digest: std::cell::Cell<PageDigest>,
    /// The SHA-256 of every byte of the file so far, when asked for
    /// ([`Tracked::hashing`]): the hash `--stats` and `all`'s manifest
    /// report, taken as the bytes go by instead of reading the finished
    /// file back.
    sha256: Option<sha2::Sha256>,
    /// A Parquet conversion that follows the file as it is written
    /// ([`Tracked::feeding`]).
    feed: Option<crate::cli::parquet::Feed>,
}

impl<W> Tracked<W> {
    /// Tracks `inner`, which already holds `bytes` bytes.
    pub(crate) fn new(inner: W, bytes: u64) -> Self {
        Tracked {
            inner,
            bytes,
            page_start: std::cell::Cell::new(bytes),
            digest: std::cell::Cell::new(PageDigest::new()),
            sha256: None,
            feed: None,
        }
    }

    /// Also hands what is written to `feed`'s conversion, from the first
    /// byte (a new file).
    pub(crate) fn feeding(mut self, feed: Option<crate::cli::parquet::Feed>) -> Self {
        self.feed = feed;
        self
    }

    /// Tells the conversion fed ([`Tracked::feeding`]) that the file is
    /// complete.
    pub(crate) fn end_feed(&mut self) {
        if let Some(feed) = &mut self.feed {
            feed.end();
        }
    }

    /// Also hashes what is written, after the bytes `sha256` has hashed
    /// (the file's first `bytes`, on a resume); `None` hashes nothing.
    pub(crate) fn hashing(mut self, sha256: Option<sha2::Sha256>) -> Self {
        self.sha256 = sha256;
        self
    }

    /// The SHA-256 of the file's bytes (hex), when hashing.
    pub(crate) fn sha256_hex(&mut self) -> Option<String> {
        use sha2::Digest as _;
        self.sha256.take().map(|sha256| hex(&sha256.finalize()))
    }
}

impl<W: Write> Write for Tracked<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let mut digest = self.digest.get();
        digest.update(&buf[..n]);
        self.digest.set(digest);
        if let Some(sha256) = &mut self.sha256 {
            sha2::Digest::update(sha256, &buf[..n]);
        }
        if let Some(feed) = &mut self.feed {
            // A feed whose conversion stopped takes nothing more (the
            // complete file is converted instead).
            feed.send(&buf[..n]);
        }
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The digest checkpoints are written with: four lanes, so it runs at the
/// speed of the multiplier rather than at its latency.
pub(crate) type PageDigest = Digest<4>;

/// A fast streaming digest (not cryptographic: it tells changed or
/// mismatched bytes, not tampering by someone who computes it too). Word
/// `i` of the input (eight bytes, little-endian) goes to lane `i % LANES`;
/// the lanes are independent chains, folded together at the end, so
/// `LANES` of them run side by side. The result does not depend on how the
/// bytes were split into writes. `Digest<1>` is the digest of checkpoint
/// format 2; at most 4 lanes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Digest<const LANES: usize> {
    lanes: [u64; LANES],
    /// Bytes of a block not yet mixed (fewer than `8 * LANES`).
    tail: [u8; 32],
    tail_len: usize,
    len: u64,
}

impl<const LANES: usize> Digest<LANES> {
    const BLOCK: usize = 8 * LANES;

    pub(crate) fn new() -> Self {
        const { assert!(LANES >= 1 && LANES <= 4, "1 to 4 lanes") };
        let mut lanes = [0; LANES];
        for (i, lane) in lanes.iter_mut().enumerate() {
            *lane = 0x243F_6A88_85A3_08D3 ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
        Digest {
            lanes,
            tail: [0; 32],
            tail_len: 0,
            len: 0,
        }
    }

    fn mix(state: u64, word: u64) -> u64 {
        (state ^ word)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29)
    }

    /// Mixes one block of `8 * LANES` bytes.
    fn block(&mut self, block: &[u8]) {
        for (lane, word) in self.lanes.iter_mut().zip(block.chunks_exact(8)) {
            *lane = Self::mix(*lane, u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
    }

    pub(crate) fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if self.tail_len > 0 {
            let take = (Self::BLOCK - self.tail_len).min(data.len());
            self.tail[self.tail_len..self.tail_len + take].copy_from_slice(&data[..take]);
            self.tail_len += take;
            data = &data[take..];
            if self.tail_len < Self::BLOCK {
                return;
            }
            let tail = self.tail;
            self.block(&tail[..Self::BLOCK]);
            self.tail_len = 0;
        }
        let mut blocks = data.chunks_exact(Self::BLOCK);
        for block in blocks.by_ref() {
            self.block(block);
        }
        let rest = blocks.remainder();
        self.tail[..rest.len()].copy_from_slice(rest);
        self.tail_len = rest.len();
    }

    pub(crate) fn finish(&self) -> u64 {
        // The tail, padded with zeros to a block (a whole zero block when
        // there is none), then the lanes in order, then the length.
        let mut last = [0u8; 32];
        last[..self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
        let mut digest = *self;
        digest.block(&last[..Self::BLOCK]);
        let mut state = digest.lanes[0];
        for &lane in &digest.lanes[1..] {
            state = Self::mix(state, lane);
        }
        state = Self::mix(state, self.len);
        // splitmix64's finaliser, so nearby inputs differ everywhere.
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Creates a new file readable by its owner only (exports hold personal
/// data), replacing whatever was at `path`. The file is created with
/// `O_CREAT | O_EXCL`, which never follows a symbolic link; when something
/// is already there (a stale file, a planted link) it is unlinked and the
/// create tried once more: a link planted at `path` is removed, not
/// written through, and one planted again in between makes this fail.
/// (Creating first saves the unlink of the usual case: the checkpoint is
/// written this way up to once per page.)
pub(crate) fn create_private(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            fs::remove_file(path)?;
            options.open(path)
        }
        opened => opened,
    }
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
/// in `/`), in a directory that exists ([`check_dir_of`]), and not an
/// existing device, FIFO or socket, which the final rename would replace
/// with a regular file.
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
    // The export's own files (lock, partial, checkpoint) go beside it.
    check_dir_of("-o", path)?;
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

/// Checks that the directory a file named by `flag` goes in exists, before
/// any request. A missing one is not created: a typo in it would be, and
/// the run would end with its output somewhere nobody looks.
pub(crate) fn check_dir_of(flag: &str, path: &Path) -> std::io::Result<()> {
    let invalid = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, why);
    let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) else {
        return Ok(());
    };
    match fs::metadata(dir) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(invalid(format!(
            "{flag} {}: the directory {} does not exist; create it first \
             (mkdir -p {}) or give another path",
            path.display(),
            dir.display(),
            dir.display()
        ))),
        Ok(meta) if !meta.is_dir() => Err(invalid(format!(
            "{flag} {}: {} is not a directory",
            path.display(),
            dir.display()
        ))),
        _ => Ok(()),
    }
}

/// An exclusive lock on `PATH.lock`, held while an export writes `PATH`:
/// a second run on the same `PATH` fails at once instead of writing the
/// same partial file. The OS releases it when the process ends, however
/// it ends, so a killed run never blocks `--resume`; a run that finishes
/// (or fails) removes the lock file (see [`LockFile`]).
pub(crate) fn lock(paths: &Paths) -> std::io::Result<LockFile> {
    LockFile::try_take(&paths.lock)?.ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::WouldBlock,
            format!(
                "another tw-export is writing {} (it holds {}); wait for it to finish",
                paths.output.display(),
                paths.lock.display()
            ),
        )
    })
}

/// The sha256 (hex) and length of a file.
pub(crate) fn sha256(path: &Path) -> std::io::Result<(String, u64)> {
    use sha2::Digest as _;
    let (hasher, len) = sha256_reading(&mut fs::File::open(path)?)?;
    Ok((hex(&hasher.finalize()), len))
}

/// The SHA-256 state after the rest of `reader`, and how many bytes that
/// was.
pub(crate) fn sha256_reading(
    reader: &mut impl std::io::Read,
) -> std::io::Result<(sha2::Sha256, u64)> {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0; 256 * 1024];
    let mut len = 0;
    loop {
        let n = reader.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        len += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((hasher, len))
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::Digest;

    fn digest<const LANES: usize>(parts: &[&[u8]]) -> u64 {
        let mut digest = Digest::<LANES>::new();
        parts.iter().for_each(|p| digest.update(p));
        digest.finish()
    }

    fn data() -> Vec<u8> {
        (0..1000u32).map(|i| (i * 7 % 251) as u8).collect()
    }

    fn does_not_depend_on_how_bytes_were_split<const LANES: usize>() {
        let data = data();
        let whole = digest::<LANES>(&[&data]);
        for cut in [0, 1, 3, 7, 8, 9, 31, 32, 33, 500, 999, 1000] {
            let (a, b) = data.split_at(cut);
            assert_eq!(digest::<LANES>(&[a, b]), whole, "cut at {cut}");
            let thirds: Vec<&[u8]> = b.chunks(3).collect();
            let mut parts = vec![a];
            parts.extend(thirds);
            assert_eq!(digest::<LANES>(&parts), whole, "cut at {cut} then threes");
        }
        for at in [0, 8, 500, 999] {
            let mut changed = data.clone();
            changed[at] ^= 1;
            assert_ne!(digest::<LANES>(&[&changed]), whole, "byte {at}");
        }
        // Two words swapped between lanes.
        let mut swapped = data.clone();
        swapped.copy_within(0..8, 8);
        swapped[..8].copy_from_slice(&data[8..16]);
        assert_ne!(digest::<LANES>(&[&swapped]), whole, "words swapped");
        assert_ne!(digest::<LANES>(&[&data[..999]]), whole, "length matters");
        assert_ne!(
            digest::<LANES>(&[b"\0"]),
            digest::<LANES>(&[b""]),
            "trailing zero bytes matter"
        );
    }

    #[test]
    fn the_digest_does_not_depend_on_how_bytes_were_split() {
        does_not_depend_on_how_bytes_were_split::<1>();
        does_not_depend_on_how_bytes_were_split::<4>();
    }

    #[cfg(unix)]
    #[test]
    fn create_private_replaces_files_and_links_and_writes_through_neither() {
        use std::io::Write;
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("tw-create-private-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let stale = dir.join("stale");
        std::fs::write(&stale, b"old contents").unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        for path in [dir.join("fresh"), stale, link.clone()] {
            super::create_private(&path)
                .unwrap()
                .write_all(b"new")
                .unwrap();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            assert!(meta.file_type().is_file(), "{path:?}");
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{path:?}");
            assert_eq!(std::fs::read(&path).unwrap(), b"new", "{path:?}");
        }
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    }

    #[test]
    fn one_lane_is_the_digest_format_2_checkpoints_hold() {
        // Printed by the one-lane digest of tw-export 0.1.0 (checkpoint
        // format 2): such checkpoints still resume.
        let data = data();
        for (len, expected) in [
            (0, 0x2b75_54ac_007b_fe65),
            (5, 0x9e3e_c498_d181_022e),
            (8, 0x00f1_bbf6_29d0_e037),
            (1000, 0xd7ab_61f5_f6b4_105e),
        ] {
            assert_eq!(digest::<1>(&[&data[..len]]), expected, "{len} bytes");
        }
    }
}

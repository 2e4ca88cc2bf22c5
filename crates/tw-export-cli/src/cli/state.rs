//! `--state FILE`: when each dataset last exported successfully, for
//! incremental runs.
//!
//! ```json
//! {"tw_export_state": 1, "datasets": {"skill-clusters": {"started": "2026-11-30T02:00:00Z"}}}
//! ```
//!
//! One file can serve every dataset: each run replaces only its own entry,
//! under a lock on `FILE.lock`, by writing a new file and renaming it over
//! the old one. It holds no secret.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tw_export::Date;

use crate::cli::checkpoint::{check_dir_of, replace_json};
use crate::cli::export::usage;

/// The file format version.
const VERSION: u32 = 1;

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    tw_export_state: u32,
    datasets: BTreeMap<String, Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    /// When the last successful export of the dataset started (RFC 3339, UTC).
    started: String,
}

/// A state file.
#[derive(Debug)]
pub(crate) struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// The state file at `path`, which need not exist yet; its directory
    /// must ([`check_dir_of`]), so that a run does not export everything
    /// and then fail to record it.
    pub(crate) fn new(path: &Path) -> std::io::Result<StateFile> {
        check_dir_of("--state", path)?;
        Ok(StateFile {
            path: path.to_owned(),
        })
    }

    fn read(&self) -> anyhow::Result<State> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(State {
                    tw_export_state: VERSION,
                    ..Default::default()
                });
            }
            Err(err) => {
                return Err(err).with_context(|| format!("reading {}", self.path.display()));
            }
        };
        let state: State = serde_json::from_slice(&bytes).map_err(|err| {
            usage(format!(
                "--state {} is not a tw-export state file ({err}); give another path, \
                 or delete it to export everything once",
                self.path.display()
            ))
        })?;
        if state.tw_export_state != VERSION {
            return Err(usage(format!(
                "--state {} has format version {}; this tw-export reads {VERSION}",
                self.path.display(),
                state.tw_export_state
            )));
        }
        Ok(state)
    }

    /// The `last_updated gt` date for `dataset`: the day before its last
    /// successful run started (a day of overlap: the filter has day
    /// granularity and clocks differ). `None` before the first run.
    pub(crate) fn since(&self, dataset: &str) -> anyhow::Result<Option<Date>> {
        let state = self.read()?;
        let Some(entry) = state.datasets.get(dataset) else {
            return Ok(None);
        };
        let date = entry
            .started
            .get(..10)
            .and_then(|day| Date::parse(day).ok())
            .ok_or_else(|| {
                usage(format!(
                    "--state {}: {dataset} started {:?}, which is not an RFC 3339 time",
                    self.path.display(),
                    entry.started
                ))
            })?;
        Ok(Some(Date::from_days_since_epoch(
            date.days_since_epoch() - 1,
        )))
    }

    /// Records that `dataset`'s export that started at `started` succeeded.
    pub(crate) fn record(&self, dataset: &str, started: SystemTime) -> anyhow::Result<()> {
        let lock_path = {
            let mut name = self.path.as_os_str().to_owned();
            name.push(".lock");
            PathBuf::from(name)
        };
        let _lock = crate::cli::lockfile::LockFile::take(&lock_path)
            .with_context(|| format!("locking {}", lock_path.display()))?;
        let mut state = self.read()?;
        state.datasets.insert(
            dataset.to_owned(),
            Entry {
                started: rfc3339(started),
            },
        );
        replace_json(&self.path, &state).with_context(|| format!("writing {}", self.path.display()))
    }
}

/// `time` as RFC 3339 in UTC, to the second: `2026-11-30T20:09:48Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let date = Date::from_days_since_epoch(secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400);
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_utc_to_the_second() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_796_069_388);
        assert_eq!(rfc3339(t), "2026-11-30T20:09:48Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn since_is_the_day_before_the_last_start() {
        let dir = std::env::temp_dir().join(format!("tw-state-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let state = StateFile::new(&dir.join("state.json")).unwrap();
        assert_eq!(state.since("skills").unwrap(), None);
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_796_069_388);
        state.record("skills", t).unwrap();
        state.record("org-units", UNIX_EPOCH).unwrap();
        assert_eq!(
            state.since("skills").unwrap(),
            Some(Date::parse("2026-11-29").unwrap())
        );
        assert_eq!(
            state.since("org-units").unwrap(),
            Some(Date::parse("1969-12-31").unwrap())
        );
        fs::write(dir.join("state.json"), b"{").unwrap();
        assert!(state.since("skills").is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}

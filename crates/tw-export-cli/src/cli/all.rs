//! `tw-export all -o DIR`: every dataset into a directory, several at
//! once, with a manifest; resumable and incremental.
//!
//! Each dataset is exported exactly as its own subcommand exports it to a
//! file (`DIR/<dataset>.<ext>` through `.partial` and `.checkpoint`), by
//! the same generic code; `all` only decides which, how many at once, and
//! records what happened in `DIR/manifest.json`.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use anyhow::Context;
use clap::Args;
use serde::{Deserialize, Serialize};
use tw_export::output::Format;
use tw_export::{Client, Dataset};

use crate::cli::args::{
    self, ConnectionArgs, DatasetArgs, DialectArg, EmployeeFilterArgs, FormatArg,
};
use crate::cli::checkpoint::{Paths, check_target, lock, replace_json};
use crate::cli::compress::Compression;
use crate::cli::export::{
    Drift, Incremental, Job, Progress, Resume, Written, connect, format_from, make_incremental,
    options_of, request_for, usage,
};
use crate::cli::state::{StateFile, rfc3339};
use crate::cli::{Exit, Failed, classify, counted, noun, printable};

/// `tw-export all`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example: tw-export all --sandbox -o tenant/ --jobs 4 --state tenant/state.json\n\n\
Writes DIR/<dataset>.<ext> for every dataset and DIR/manifest.json (per dataset: status, records, \
bytes, sha256, the request, unknown fields). Exit 0 when every dataset is ok or skipped (403, 404), \
4 when any failed, 3 when authentication failed for all."
)]
pub(crate) struct AllArgs {
    /// Where the API is and how to log in.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Only these datasets (comma-separated subcommand names) [default: all].
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_dataset, help_heading = "Request")]
    pub datasets: Vec<&'static str>,
    /// Page size, capped at each dataset's largest [default: 100].
    #[arg(long, value_name = "N", value_parser = args::parse_limit, help_heading = "Request")]
    pub limit: Option<u32>,
    /// Filters passed to every dataset that has them.
    #[command(flatten)]
    pub filters: EmployeeFilterArgs,
    /// Datasets exported at once (one client: one token, one connection pool).
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=16), help_heading = "Request")]
    pub jobs: u32,
    /// Output format of every file.
    #[arg(long, value_enum, default_value_t = FormatArg::Jsonl, help_heading = "Output")]
    pub format: FormatArg,
    /// CSV dialect [default: techwolf].
    #[arg(long, value_enum, help_heading = "Output")]
    pub csv_dialect: Option<DialectArg>,
    /// Compress every file (DIR/<dataset>.<ext>.gz or .zst), resumable like the rest.
    #[arg(long, value_enum, value_name = "gz|zst", help_heading = "Output")]
    pub compress: Option<CompressArg>,
    /// The directory (created if missing).
    #[arg(short, long, value_name = "DIR", help_heading = "Output")]
    pub output: PathBuf,
    /// Continue an interrupted run: finished files are kept (checked against the manifest's sha256), unfinished ones resume.
    #[arg(long, help_heading = "Output")]
    pub resume: bool,
    /// Incremental: per dataset, only records updated since its last successful run recorded in FILE (less a day).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub state: Option<PathBuf>,
    /// No progress display and, on success, no summary (warnings and errors still print).
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,
    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, help_heading = "Output")]
    pub verbose: u8,
}

/// `--compress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CompressArg {
    /// gzip (`.gz`).
    Gz,
    /// zstd (`.zst`).
    Zst,
}

impl CompressArg {
    fn compression(self) -> Compression {
        match self {
            CompressArg::Gz => Compression::Gzip,
            CompressArg::Zst => Compression::Zstd,
        }
    }
}

fn parse_dataset(value: &str) -> Result<&'static str, String> {
    let names: Vec<&'static str> = registry().iter().map(|e| e.name).collect();
    names
        .iter()
        .copied()
        .find(|n| *n == value.trim())
        .ok_or_else(|| format!("unknown dataset {value:?}; allowed: {}", names.join(", ")))
}

/// One dataset `all` can run.
struct Entry {
    name: &'static str,
    examples: &'static [&'static str],
    run: fn(&Ctx<'_>) -> anyhow::Result<Done>,
}

fn entry<A: DatasetArgs>() -> Entry {
    Entry {
        name: A::D::NAME,
        examples: A::EXAMPLES,
        run: run_dataset::<A>,
    }
}

/// Every dataset subcommand's examples, for `--help`.
pub(crate) fn examples() -> Vec<(&'static str, &'static [&'static str])> {
    registry().iter().map(|e| (e.name, e.examples)).collect()
}

/// Every dataset, in the order of `tw_model::with_datasets!` (a test
/// holds the two lists together).
fn registry() -> Vec<Entry> {
    use crate::cli::args::*;
    vec![
        entry::<SkillClustersArgs>(),
        entry::<SkillProfilesArgs>(),
        entry::<TaskProfilesArgs>(),
        entry::<AiGoalsArgs>(),
        entry::<PositionMatchesArgs>(),
        entry::<SkillsArgs>(),
        entry::<OrgUnitsArgs>(),
        entry::<JobSkillProfilesArgs>(),
        entry::<JobMarketSkillProfilesArgs>(),
        entry::<JobMarketAlignmentArgs>(),
        entry::<JobTaskProfilesArgs>(),
        entry::<JobSuggestionsArgs>(),
    ]
}

/// `DIR/manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Manifest {
    /// Format version.
    pub tw_export_manifest: u32,
    /// `tw-export <version>`.
    pub tool: String,
    /// The API's base URL (or `sandbox:<employees>:<seed>`).
    pub base_url: String,
    /// The `X-API-Version` sent, if any.
    pub api_version: Option<String>,
    /// When the run started and finished (RFC 3339, UTC).
    pub started: String,
    pub finished: Option<String>,
    /// Per dataset.
    pub datasets: BTreeMap<String, DatasetEntry>,
}

/// One dataset in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DatasetEntry {
    /// `running`, `ok`, `skipped` or `failed`.
    pub status: String,
    /// The file, relative to the directory.
    pub file: String,
    /// Records, pages, bytes, sha256 of the complete file, unknown fields.
    #[serde(flatten)]
    pub written: Written,
    pub started: String,
    pub finished: Option<String>,
    /// Body and query sent (no secrets).
    pub request: serde_json::Value,
    /// The record's key fields.
    pub key: Vec<String>,
    /// What `--state` made of this dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<serde_json::Value>,
    /// Why it was skipped or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl DatasetEntry {
    /// A dataset that started at `started` and has nothing to show yet.
    fn started(file: String, started: String) -> DatasetEntry {
        DatasetEntry {
            status: "running".to_owned(),
            file,
            written: Written::default(),
            started,
            finished: None,
            request: serde_json::Value::Null,
            key: Vec::new(),
            incremental: None,
            reason: None,
        }
    }
}

const MANIFEST_VERSION: u32 = 1;

/// What every dataset's run shares.
struct Ctx<'a> {
    args: &'a AllArgs,
    client: &'a Client,
    target: &'a str,
    dir: &'a Path,
    format: Format,
    state: Option<&'a StateFile>,
    manifest: &'a Mutex<Manifest>,
    previous: Option<&'a Manifest>,
    multi: &'a indicatif::MultiProgress,
}

impl Ctx<'_> {
    fn manifest_path(&self) -> PathBuf {
        self.dir.join("manifest.json")
    }

    /// Updates the manifest (in memory and on disk, atomically).
    fn update(&self, name: &str, entry: DatasetEntry) -> anyhow::Result<()> {
        let mut manifest = self.manifest.lock().unwrap_or_else(|p| p.into_inner());
        manifest.datasets.insert(name.to_owned(), entry);
        replace_json(&self.manifest_path(), &*manifest)
            .with_context(|| format!("writing {}", self.manifest_path().display()))
    }
}

/// A dataset that ended: its manifest entry.
struct Done(DatasetEntry);

/// `<dataset>.<ext>`, with `.gz` or `.zst` when compressed.
fn file_name(name: &str, format: FormatArg, compress: Option<CompressArg>) -> String {
    let ext = crate::cli::export::format_name(format);
    match compress {
        None => format!("{name}.{ext}"),
        Some(CompressArg::Gz) => format!("{name}.{ext}.gz"),
        Some(CompressArg::Zst) => format!("{name}.{ext}.zst"),
    }
}

/// The flags `all` passes to dataset `A`: those of its common filters
/// that `A` has.
fn common_flags<A: DatasetArgs>(filters: &EmployeeFilterArgs) -> Vec<String> {
    let mut flags = Vec::new();
    if filters.active_only && A::takes("active-only") {
        flags.push("--active-only".to_owned());
    }
    if filters.inactive_only && A::takes("inactive-only") {
        flags.push("--inactive-only".to_owned());
    }
    for (date, flag) in [
        (filters.updated.updated_after, "updated-after"),
        (filters.updated.updated_before, "updated-before"),
    ] {
        if let Some(date) = date
            && A::takes(flag)
        {
            flags.push(format!("--{flag}"));
            flags.push(date.to_string());
        }
    }
    flags
}

/// Exports dataset `A` into the directory.
fn run_dataset<A: DatasetArgs>(ctx: &Ctx<'_>) -> anyhow::Result<Done> {
    let name = A::D::NAME;
    let started = SystemTime::now();
    let file = file_name(name, ctx.args.format, ctx.args.compress);
    let path = ctx.dir.join(&file);
    let dataset = A::parse_from(&common_flags::<A>(&ctx.args.filters))
        .map_err(|err| usage(format!("{name}: {err}")))?;
    let limit = match A::D::PAGING {
        tw_export::model::Paging::Cursor => ctx.args.limit.map(|l| l.min(A::D::MAX_LIMIT)),
        tw_export::model::Paging::Document { .. } => None,
    };
    let mut request = request_for(&dataset, limit, false, &[], &[])?;
    let incremental = match ctx.state {
        Some(state) => Some(make_incremental::<A>(&mut request, state)?),
        None => None,
    };
    let mut entry = DatasetEntry {
        request: serde_json::to_value(&request).expect("a request serializes"),
        key: A::D::KEY.iter().map(|k| (*k).to_owned()).collect(),
        incremental: incremental
            .as_ref()
            .map(|i| serde_json::to_value(i).expect("serializes")),
        ..DatasetEntry::started(file.clone(), rfc3339(started))
    };

    // --resume: a finished file that still matches the manifest is kept.
    if ctx.args.resume
        && let Some(previous) = ctx.previous.and_then(|m| m.datasets.get(name))
        && previous.status == "ok"
        && previous.request == entry.request
        && let Some(expected) = &previous.written.sha256
        && crate::cli::checkpoint::sha256(&path).is_ok_and(|(hash, _)| hash == *expected)
    {
        tracing::info!("{name}: kept, {file} matches the manifest");
        return Ok(Done(previous.clone()));
    }

    check_target(&path)?;
    let _lock =
        lock(&Paths::for_output(&path)).with_context(|| format!("locking {}", path.display()))?;
    ctx.update(name, entry.clone())?;
    let compression = ctx.args.compress.map(CompressArg::compression);
    let parquet = ctx.args.format == FormatArg::Parquet;
    let options = options_of(
        ctx.target,
        &request,
        None,
        None,
        ctx.format,
        compression,
        parquet,
    );
    let progress = if ctx.multi.is_hidden() || ctx.args.quiet {
        Progress::new(true)
    } else {
        Progress::line(ctx.multi, name)
    };
    let job = Job {
        client: ctx.client,
        request,
        start: tw_export::Checkpoint::start(),
        max_records: None,
        format: ctx.format,
        progress: &progress,
        drift: Some(Drift::default()),
        bom: false,
        compression,
        parquet,
        sha256: true,
    };
    let resume = if ctx.args.resume {
        Resume::IfAny
    } else {
        Resume::No
    };
    let written: Written = job
        .into_file(&path, &options, resume)
        .inspect_err(|_| progress.bar.finish_and_clear())?;
    progress.bar.finish_and_clear();
    let written = written.with_sha256_of(&path)?;
    if let Some(state) = ctx.state {
        state.record(name, started)?;
    }
    entry.status = "ok".to_owned();
    entry.written = written;
    entry.finished = Some(rfc3339(SystemTime::now()));
    Ok(Done(entry))
}

/// How a dataset's failure counts.
fn skipped(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<tw_export::Error>()
            .and_then(tw_export::Error::transport)
            .is_some_and(|t| {
                matches!(
                    t,
                    tw_transport::Error::Status {
                        status: 403 | 404,
                        ..
                    }
                )
            })
    })
}

/// `tw-export all`.
pub(crate) fn run(args: &AllArgs) -> anyhow::Result<()> {
    let started = SystemTime::now();
    crate::cli::export::check_csv_flags(args.format, args.csv_dialect, false)?;
    if args.format == FormatArg::Parquet && args.compress.is_some() {
        return Err(usage(
            "Parquet compresses its own columns: drop --compress with --format parquet",
        ));
    }
    let format = format_from(
        args.format,
        args.csv_dialect.unwrap_or(DialectArg::Techwolf),
    );
    let chosen: Vec<Entry> = registry()
        .into_iter()
        .filter(|e| args.datasets.is_empty() || args.datasets.contains(&e.name))
        .collect();
    if args.resume && args.state.is_some() {
        tracing::debug!("--resume with --state: state is read as it was when the run began");
    }
    if let Some(state) = &args.state
        && args.filters.updated.updated_after.is_some()
    {
        return Err(usage(format!(
            "--state {} and --updated-after both set where exports start: use one of them",
            state.display()
        )));
    }
    if args.output.exists() && !args.output.is_dir() {
        return Err(usage(format!(
            "-o {}: is a file; `all` writes a file per dataset and a manifest into a \
             directory: give a directory (created when missing), such as ./tenant",
            args.output.display()
        )));
    }
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    let manifest_path = args.output.join("manifest.json");
    let _lock = lock(&Paths::for_output(&manifest_path))
        .with_context(|| format!("locking {}", manifest_path.display()))?;
    let previous: Option<Manifest> = if args.resume {
        match std::fs::read(&manifest_path) {
            Ok(bytes) => Some(serde_json::from_slice(&bytes).map_err(|err| {
                usage(format!(
                    "cannot resume: {} is not a tw-export manifest ({err}); run without --resume",
                    manifest_path.display()
                ))
            })?),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(err).context(format!("reading {}", manifest_path.display())),
        }
    } else {
        None
    };
    // Checked before connecting (which may start the built-in sandbox).
    let state = args.state.as_deref().map(StateFile::new).transpose()?;
    let connection = connect(&args.connection)?;
    let manifest = Mutex::new(Manifest {
        tw_export_manifest: MANIFEST_VERSION,
        tool: format!("tw-export {}", env!("CARGO_PKG_VERSION")),
        base_url: if args.connection.sandbox {
            connection.target.clone()
        } else {
            connection.client.base_url().to_owned()
        },
        api_version: args.connection.api_version.map(|d| d.to_string()),
        started: rfc3339(started),
        finished: None,
        datasets: BTreeMap::new(),
    });
    let multi = crate::cli::stderr::multi();
    let ctx = Ctx {
        args,
        client: &connection.client,
        target: &connection.target,
        dir: &args.output,
        format,
        state: state.as_ref(),
        manifest: &manifest,
        previous: previous.as_ref(),
        multi,
    };
    let names: Vec<&'static str> = chosen.iter().map(|e| e.name).collect();
    let queue = Mutex::new(chosen.into_iter().collect::<VecDeque<Entry>>());
    // Per dataset: the error, when it did not end ok or skipped.
    let failures: Mutex<Vec<(&'static str, anyhow::Error)>> = Mutex::new(Vec::new());
    let workers = (args.jobs as usize).min(names.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    if crate::cli::signals::requested().is_some() {
                        break;
                    }
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some(entry) = next else { break };
                    let started = rfc3339(SystemTime::now());
                    let result = (entry.run)(&ctx);
                    let recorded = match result {
                        Ok(Done(done)) => ctx.update(entry.name, done),
                        Err(err) => {
                            let status = if err.is::<crate::cli::signals::Interrupted>() {
                                "interrupted"
                            } else if skipped(&err) {
                                "skipped"
                            } else {
                                "failed"
                            };
                            let reason = printable(&crate::cli::describe(&err)).into_owned();
                            tracing::warn!("{}: {status}: {reason}", entry.name);
                            let mut manifest =
                                ctx.manifest.lock().unwrap_or_else(|p| p.into_inner());
                            let mut failed =
                                manifest.datasets.remove(entry.name).unwrap_or_else(|| {
                                    DatasetEntry::started(
                                        file_name(entry.name, args.format, args.compress),
                                        started.clone(),
                                    )
                                });
                            drop(manifest);
                            failed.status = status.to_owned();
                            failed.reason = Some(reason);
                            failed.finished = Some(rfc3339(SystemTime::now()));
                            if status == "failed" || status == "interrupted" {
                                failures
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .push((entry.name, err));
                            }
                            ctx.update(entry.name, failed)
                        }
                    };
                    if let Err(err) = recorded {
                        failures
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((entry.name, err));
                    }
                }
            });
        }
    });
    multi.clear().ok();
    if let Some(connections) = connection.client.connections() {
        tracing::info!(connections, "HTTP: {connections} connections opened");
    }
    let mut manifest = manifest.into_inner().unwrap_or_else(|p| p.into_inner());
    manifest.finished = Some(rfc3339(SystemTime::now()));
    replace_json(&manifest_path, &manifest)
        .with_context(|| format!("writing {}", manifest_path.display()))?;

    let failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut total = 0;
    if !args.quiet || !failures.is_empty() {
        use crate::cli::stderr::line;
        for name in &names {
            if let Some(entry) = manifest.datasets.get(*name) {
                total += entry.written.records;
                let detail = match (&entry.reason, &entry.incremental) {
                    (Some(reason), _) => format!(": {reason}"),
                    (None, Some(incremental)) => format!(
                        " ({})",
                        serde_json::from_value::<Incremental>(incremental.clone())
                            .map_or_else(|_| incremental.to_string(), |i| i.describe())
                    ),
                    (None, None) => String::new(),
                };
                line(
                    "INFO",
                    &format!(
                        "  {name:<27} {:<8} {:>9} {}{detail}",
                        entry.status,
                        entry.written.records,
                        noun(entry.written.records, "record", "records")
                    ),
                    serde_json::json!({
                        "dataset": name,
                        "status": entry.status,
                        "records": entry.written.records,
                        "reason": entry.reason,
                    }),
                );
            }
        }
        let count = |status: &str| {
            manifest
                .datasets
                .values()
                .filter(|e| e.status == status)
                .count()
        };
        let seconds = started.elapsed().map_or(0.0, |d| d.as_secs_f64());
        line(
            "INFO",
            &format!(
                "tw-export: {} ok, {} skipped, {} failed; {}, {}, {seconds:.1}s -> {}",
                count("ok"),
                count("skipped"),
                count("failed"),
                counted(total, "record", "records"),
                counted(connection.client.retries(), "retry", "retries"),
                args.output.display()
            ),
            serde_json::json!({
                "ok": count("ok"),
                "skipped": count("skipped"),
                "failed": count("failed"),
                "records": total,
                "retries": connection.client.retries(),
                "seconds": seconds,
                "output": args.output.display().to_string(),
            }),
        );
    }
    if let Some(interrupted) = crate::cli::signals::requested() {
        return Err(anyhow::Error::new(interrupted).context(crate::cli::Hint(
            "finished datasets are in place; run the same command with --resume to continue the rest"
                .to_owned(),
        )));
    }
    if failures.is_empty() {
        return Ok(());
    }
    let all_auth = failures.len() == names.len()
        && failures.iter().all(|(_, err)| classify(err) == Exit::Auth);
    let listed: Vec<&str> = failures.iter().map(|(n, _)| *n).collect();
    let (first_name, first) = &failures[0];
    Err(anyhow::Error::new(Failed {
        exit: if all_auth { Exit::Auth } else { Exit::Api },
        message: format!(
            "{} of {} datasets failed ({}); see {}; the first, {first_name}: {}",
            listed.len(),
            names.len(),
            listed.join(", "),
            manifest_path.display(),
            crate::cli::describe(first)
        ),
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_registry_is_the_dataset_list() {
        macro_rules! names {
            ($($module:ident: $dataset:ty,)*) => {
                vec![$(<$dataset as tw_model::Dataset>::NAME),*]
            };
        }
        let listed: Vec<&str> = tw_model::with_datasets!(names);
        let registry: Vec<&str> = super::registry().iter().map(|e| e.name).collect();
        assert_eq!(registry, listed, "every dataset once, in the list's order");
    }
}

//! `tw-export skill-clusters`: the export command.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, IsTerminal, Seek, Write};
use std::path::Path;
use std::task::Poll;
use std::time::{Duration, Instant};

use anyhow::Context;
use tw_export::model::Table;
use tw_export::output::{CsvDialect, Format, RecordWriter};
use tw_export::output::{Rfc4180Csv, TechwolfCsv};
use tw_export::{
    Checkpoint, Client, Cursor, Dataset, ExportRequest, NoJson, Raw, RawCounted, RawRecord, Repr,
    RetryPolicy, Rows, RowsCounted, RowsRecord, Secret,
};

use crate::cli::args::{
    ConnectionArgs, DatasetArgs, DialectArg, ExportArgs, FormatArg, OutputArgs,
};
use crate::cli::checkpoint::{
    Paths, Saved, Tracked, check_dir_of, check_target, create_private, lock, open_partial,
    replace_json,
};
use crate::cli::compress::{Compressed, Compression};
use crate::cli::counted;
use crate::cli::state::{StateFile, rfc3339};
use crate::cli::writeback::Writeback;
use crate::cli::{Hint, UsageError};

pub(crate) fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// The output format: `--format`, else the file name's extension, else
/// JSON Lines; a contradiction between the two, `--csv-dialect` or `--bom`
/// without CSV, or an extension this release cannot write is a usage error.
fn format_of(args: &OutputArgs) -> anyhow::Result<(Format, Option<Compression>, bool)> {
    let path = args.output.as_deref().filter(|p| p.as_os_str() != "-");
    let (named, compression) = match path {
        Some(path) => format_by_name(path)?,
        None => (None, None),
    };
    let format = match (args.format, named) {
        (Some(given), Some(named)) if given != named => {
            return Err(usage(format!(
                "--format {} contradicts the file name {} (a {} file): drop --format or rename the file",
                format_name(given),
                path.map(|p| p.display().to_string()).unwrap_or_default(),
                format_name(named)
            )));
        }
        (Some(given), _) => given,
        (None, Some(named)) => named,
        (None, None) => FormatArg::Jsonl,
    };
    check_csv_flags(format, args.csv_dialect, args.bom)?;
    let parquet = format == FormatArg::Parquet;
    if parquet && path.is_none() {
        return Err(usage(
            "Parquet output needs a file (its footer comes last): give -o PATH.parquet",
        ));
    }
    Ok((
        format_from(format, args.csv_dialect.unwrap_or(DialectArg::Techwolf)),
        compression,
        parquet,
    ))
}

/// `--csv-dialect` and `--bom` only go with CSV output.
pub(crate) fn check_csv_flags(
    format: FormatArg,
    dialect: Option<DialectArg>,
    bom: bool,
) -> anyhow::Result<()> {
    if format != FormatArg::Csv {
        for (given, flag) in [(dialect.is_some(), "--csv-dialect"), (bom, "--bom")] {
            if given {
                return Err(usage(format!(
                    "{flag} applies to CSV output, and this export writes {}: drop {flag} or use --format csv",
                    format_name(format)
                )));
            }
        }
    }
    Ok(())
}

pub(crate) fn format_name(format: FormatArg) -> &'static str {
    match format {
        FormatArg::Jsonl => "jsonl",
        FormatArg::Json => "json",
        FormatArg::Csv => "csv",
        FormatArg::Parquet => "parquet",
    }
}

/// The format and compression a file name asks for (`x.csv`, `x.jsonl.gz`,
/// `x.json.zst`): `None` for an extension that names no format (e.g.
/// `.out`); an error for one this release cannot write yet.
fn format_by_name(path: &Path) -> anyhow::Result<(Option<FormatArg>, Option<Compression>)> {
    let lower = |p: &Path| {
        p.extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
    };
    let mut extension = lower(path);
    let compression = extension.as_deref().and_then(Compression::of_extension);
    if compression.is_some() {
        extension = path.file_stem().and_then(|stem| lower(Path::new(stem)));
    }
    let format = match extension.as_deref() {
        Some("jsonl" | "ndjson") => Some(FormatArg::Jsonl),
        Some("json") => Some(FormatArg::Json),
        Some("csv") => Some(FormatArg::Csv),
        Some("parquet") if compression.is_some() => {
            return Err(usage(format!(
                "{}: Parquet compresses its own columns; name the file .parquet",
                path.display()
            )));
        }
        Some("parquet") => Some(FormatArg::Parquet),
        Some(other @ ("xlsx" | "bz2" | "xz")) => {
            return Err(usage(format!(
                "{}: this release cannot write .{other} files; write .jsonl, .json, .csv \
                 (optionally compressed as .gz or .zst) or .parquet",
                path.display()
            )));
        }
        _ => None,
    };
    Ok((format, compression))
}

/// The output format the flags ask for.
pub(crate) fn format_from(format: FormatArg, dialect: DialectArg) -> Format {
    match format {
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Json => Format::Json,
        FormatArg::Csv => Format::Csv(match dialect {
            DialectArg::Techwolf => CsvDialect::Techwolf,
            DialectArg::Rfc4180 => CsvDialect::Rfc4180,
        }),
        // Written as plain CSV first, converted when complete.
        FormatArg::Parquet => Format::Csv(CsvDialect::Rfc4180),
    }
}

fn build_request<A: DatasetArgs>(args: &ExportArgs<A>) -> anyhow::Result<ExportRequest<A::D>> {
    request_for(
        &args.dataset,
        args.paging.limit,
        args.paging.starting_after.is_some(),
        &args.extra.filters,
        &args.extra.query,
    )
}

/// The request `dataset`'s flags ask for, with the common flags: the page
/// size, whether a start cursor is given, and the escape hatches.
pub(crate) fn request_for<A: DatasetArgs>(
    dataset: &A,
    limit: Option<u32>,
    starting_after: bool,
    extra_filters: &[tw_export::Filter],
    extra_query: &[(String, String)],
) -> anyhow::Result<ExportRequest<A::D>> {
    let (mut body, query) = dataset.build().map_err(usage)?;
    if !extra_filters.is_empty() {
        let Some(filters) = A::filters_mut(&mut body) else {
            return Err(usage(format!(
                "{} takes no filters: drop --filter",
                A::D::NAME
            )));
        };
        filters.extend(extra_filters.iter().cloned());
    }
    if let tw_export::model::Paging::Document { .. } = A::D::PAGING {
        for (given, flag) in [
            (limit.is_some(), "--limit"),
            (starting_after, "--starting-after"),
        ] {
            if given {
                return Err(usage(format!(
                    "{} comes whole in one response, without pages: drop {flag}",
                    A::D::NAME
                )));
            }
        }
    }
    let limit = limit.unwrap_or(DEFAULT_LIMIT.min(A::D::MAX_LIMIT));
    let request = ExportRequest::<A::D>::new(i64::from(limit))
        .map_err(|err| usage(format!("--limit: {err} for {}", A::D::NAME)))?;
    let mut request = request.with_body(body).with_query(query);
    request.extra_query = extra_query.to_vec();
    Ok(request)
}

/// The page size when `--limit` is not given.
const DEFAULT_LIMIT: u32 = 100;

/// The connection: a client, a description of the target for checkpoints,
/// and the in-process sandbox when `--sandbox` is on.
pub(crate) struct Connection {
    pub client: Client,
    pub target: String,
    _sandbox: Option<tw_sandbox::Sandbox>,
}

pub(crate) fn connect(args: &ConnectionArgs) -> anyhow::Result<Connection> {
    let retry_policy = {
        let mut policy = RetryPolicy::default();
        policy.max_attempts = args.max_attempts;
        policy
    };
    let max_attempts = args.max_attempts;
    let mut builder = Client::builder()
        .request_timeout(Duration::from_secs(args.timeout))
        .retry_policy(retry_policy)
        .on_retry(move |event| {
            tracing::warn!(
                "{}: attempt {} of {max_attempts} failed ({}); retrying in {:.1}s",
                event.request,
                event.attempt,
                crate::cli::printable(&event.error.reason()),
                event.delay.as_secs_f64(),
            );
        });
    if let Some(version) = args.api_version {
        builder = builder.api_version(version);
    }
    if args.sandbox {
        let sandbox = tw_sandbox::Sandbox::start(tw_sandbox::SandboxConfig {
            employees: args.sandbox_employees,
            ..Default::default()
        })
        .context("starting the built-in sandbox")?;
        let config = sandbox.config();
        let client = builder
            .base_url(sandbox.base_url())
            .token_url(sandbox.token_url())
            .audience("sandbox")
            .tenant_name("sandbox")
            .client_credentials(
                config.client_id.clone(),
                Secret::new(config.client_secret.clone()),
            )
            .build()?;
        tracing::info!(
            "exporting from the built-in sandbox at {}",
            sandbox.base_url()
        );
        return Ok(Connection {
            client,
            target: format!("sandbox:{}:{}", config.employees, config.seed),
            _sandbox: Some(sandbox),
        });
    }

    let target = match (&args.base_url, &args.tenant, &args.region) {
        (Some(url), _, _) => {
            builder = builder.base_url(url);
            url.trim_end_matches('/').to_owned()
        }
        (None, Some(tenant), Some(region)) => {
            builder = builder.tenant(tenant, region);
            format!("{tenant}.{region}")
        }
        (None, Some(_), None) => {
            return Err(usage(
                "--tenant needs --region (eu, us, or another region name), or give --base-url",
            ));
        }
        _ => {
            return Err(usage(
                "no API to export from: give --tenant and --region, or --base-url, or try --sandbox",
            ));
        }
    };
    if let Some(tenant) = &args.tenant {
        builder = builder.tenant_name(tenant);
    }
    if let Some(region) = &args.region {
        builder = builder.region(region);
    }
    if let Some(url) = &args.token_url {
        builder = builder.token_url(url);
    }
    if let Some(audience) = &args.audience {
        builder = builder.audience(audience);
    }

    let secret = match &args.client_secret_file {
        Some(path) => Some(fs::read_to_string(path).map_err(|err| {
            usage(format!(
                "cannot read --client-secret-file {}: {err}",
                path.display()
            ))
        })?),
        None => None,
    };
    builder = tw_export::env::credentials(secret)
        .map_err(|err| usage(err.to_string()))?
        .apply(builder);
    let client = builder.build().map_err(|err| {
        if err.is_invalid_input() {
            usage(err.to_string())
        } else {
            anyhow::Error::new(err)
        }
    })?;
    Ok(Connection {
        client,
        target,
        _sandbox: None,
    })
}

/// The progress display: a spinner line on a terminal, nothing otherwise.
pub(crate) struct Progress {
    pub bar: indicatif::ProgressBar,
    pub started: Instant,
}

impl Progress {
    /// One line of `multi` for dataset `name`.
    pub(crate) fn line(multi: &indicatif::MultiProgress, name: &str) -> Progress {
        let bar = multi.add(indicatif::ProgressBar::new_spinner());
        bar.set_prefix(name.to_owned());
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {prefix}: {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress {
            bar,
            started: Instant::now(),
        }
    }

    pub(crate) fn new(quiet: bool) -> Progress {
        let bar = if quiet || crate::cli::stderr::json() || !io::stderr().is_terminal() {
            indicatif::ProgressBar::hidden()
        } else {
            let bar = crate::cli::stderr::multi().add(indicatif::ProgressBar::new_spinner());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        };
        Progress {
            bar,
            started: Instant::now(),
        }
    }

    fn update(&self, records: u64, pages: u64, retries: u64) {
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-3);
        self.bar.set_message(format!(
            "{records} records, {pages} pages, {:.0} records/s, {retries} retries, {:.1}s",
            records as f64 / elapsed,
            elapsed
        ));
    }
}

/// What a resume must match: everything that shapes the output (the page
/// size may change). Recorded in the checkpoint; holds no secret.
#[derive(Debug, serde::Serialize)]
struct ResumeKey<'a, D: Dataset> {
    dataset: &'static str,
    endpoint: &'static str,
    target: &'a str,
    body: &'a D::Body,
    query: &'a D::Query,
    extra_query: &'a [(String, String)],
    starting_after: Option<&'a str>,
    max_records: Option<u64>,
    format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    compression: Option<&'static str>,
    /// For a table (CSV, or Parquet through CSV): how its rows are laid
    /// out, since another release may lay them out differently (a column
    /// added, or a column's content written another way) and a resumed
    /// file must not mix the two.
    #[serde(skip_serializing_if = "Option::is_none")]
    table: Option<TableKey>,
}

/// What decides a table's rows: the release whose tables write them, and
/// the columns.
#[derive(Debug, serde::Serialize)]
struct TableKey {
    release: &'static str,
    columns: &'static [&'static str],
}

/// `tw-export <dataset>`: one export loop for every dataset.
pub(crate) fn run<A: DatasetArgs>(args: &ExportArgs<A>) -> anyhow::Result<()> {
    let started = std::time::SystemTime::now();
    if let Some(path) = &args.output.stats {
        // Nowhere to write the report, not even of a failure: stop first.
        check_dir_of("--stats", path)?;
    }
    let mut report = Report::default();
    let result = export_and_report(args, started, &mut report);
    if let Some(path) = &args.output.stats {
        let stats = Stats {
            dataset: A::D::NAME,
            status: if result.is_ok() { "ok" } else { "failed" },
            output: report.output.clone(),
            written: report.written.clone(),
            retries: report.retries,
            started: rfc3339(started),
            finished: rfc3339(std::time::SystemTime::now()),
            request: report.request.clone(),
            key: A::D::KEY,
            incremental: report.incremental.clone(),
            exit_code: result
                .as_ref()
                .err()
                .map_or(0, |err| crate::cli::classify(err) as u8),
            error: result
                .as_ref()
                .err()
                .map(|err| crate::cli::printable(&crate::cli::describe(err)).into_owned()),
        };
        replace_json(path, &stats)
            .with_context(|| format!("writing --stats {}", path.display()))?;
    }
    result
}

/// What a run found out, for `--stats` (filled as the run goes).
#[derive(Debug, Default)]
struct Report {
    output: String,
    request: serde_json::Value,
    incremental: Option<Incremental>,
    retries: u64,
    written: Written,
}

/// `--stats FILE`: one JSON document per run, for schedulers.
#[derive(Debug, serde::Serialize)]
struct Stats<'a> {
    dataset: &'static str,
    /// `ok` or `failed`.
    status: &'static str,
    /// The output file, or `-` for stdout.
    output: String,
    #[serde(flatten)]
    written: Written,
    retries: u64,
    started: String,
    finished: String,
    /// Body and query (no secrets).
    request: serde_json::Value,
    key: &'a [&'a str],
    #[serde(skip_serializing_if = "Option::is_none")]
    incremental: Option<Incremental>,
    exit_code: u8,
    error: Option<String>,
}

fn export_and_report<A: DatasetArgs>(
    args: &ExportArgs<A>,
    started: std::time::SystemTime,
    report: &mut Report,
) -> anyhow::Result<()> {
    let (format, compression, parquet) = format_of(&args.output)?;
    let mut request = build_request(args)?;
    let state = args
        .output
        .state
        .as_deref()
        .map(StateFile::new)
        .transpose()?;
    let incremental = match &state {
        Some(state) => Some(make_incremental::<A>(&mut request, state)?),
        None => None,
    };
    report.request = serde_json::to_value(&request).expect("a request serializes");
    report.incremental = incremental.clone();
    let to_file = args
        .output
        .output
        .as_deref()
        .filter(|p| p.as_os_str() != "-");
    report.output = to_file.map_or_else(|| "-".to_owned(), |p| p.display().to_string());
    // Before any request: the target must be a file path, and no other run
    // may be writing it (the lock is held until this process ends).
    let _lock = match to_file {
        Some(path) => {
            check_target(path)?;
            Some(
                lock(&Paths::for_output(path))
                    .with_context(|| format!("locking {}", path.display()))?,
            )
        }
        None => None,
    };
    let connection = connect(&args.connection)?;
    let options = options_of(
        &connection.target,
        &request,
        args.paging.starting_after.as_ref(),
        args.paging.max_records,
        format,
        compression,
        parquet,
    );
    let start = args
        .paging
        .starting_after
        .clone()
        .map_or_else(Checkpoint::start, Checkpoint::after);
    let progress = Progress::new(args.output.quiet);
    // Unknown fields are counted when someone will read them.
    let count_unknown = args.output.stats.is_some() || args.output.verbose > 0;
    let job = Job {
        client: &connection.client,
        request,
        start,
        max_records: args.paging.max_records,
        format,
        progress: &progress,
        drift: count_unknown.then(Drift::default),
        bom: args.output.bom,
        compression,
        parquet,
        sha256: args.output.stats.is_some(),
    };
    let resume = if args.output.resume {
        Resume::Required
    } else {
        Resume::No
    };
    let result = match to_file {
        None => job.into_stdout(),
        Some(path) => job.into_file(path, &options, resume),
    };
    report.retries = connection.client.retries();
    progress.bar.finish_and_clear();
    if let Some(connections) = connection.client.connections() {
        tracing::info!(
            connections,
            retries = report.retries,
            "HTTP: {connections} connections opened"
        );
    }
    let written = result?;
    // The file's sha256 only for --stats, which reports it: taken as the
    // file was written (a Parquet file's is read back from it).
    report.written = match to_file.filter(|_| args.output.stats.is_some()) {
        Some(path) => written.with_sha256_of(path)?,
        None => written,
    };
    if let (Some(state), Some(incremental)) = (&state, &incremental) {
        state.record(A::D::NAME, started)?;
        tracing::info!("{}: {}", A::D::NAME, incremental.describe());
    }
    if !report.written.unknown_fields.is_empty() {
        let listed: Vec<String> = report
            .written
            .unknown_fields
            .iter()
            .map(|(path, n)| format!("{path} ({n})"))
            .collect();
        tracing::info!(
            "fields this release does not know (kept in JSON, in CSV's extra column): {}",
            listed.join(", ")
        );
    }
    if !args.output.quiet {
        let seconds = progress.started.elapsed().as_secs_f64();
        let destination = if to_file.is_some() {
            report.output.as_str()
        } else {
            "stdout"
        };
        crate::cli::stderr::line(
            "INFO",
            &format!(
                "tw-export: {}, {}, {}, {seconds:.1}s -> {destination}{}",
                counted(report.written.records, "record", "records"),
                counted(report.written.pages, "page", "pages"),
                counted(report.retries, "retry", "retries"),
                incremental
                    .as_ref()
                    .map_or_else(String::new, |i| format!(" ({})", i.describe()))
            ),
            serde_json::json!({
                "dataset": A::D::NAME,
                "records": report.written.records,
                "pages": report.written.pages,
                "retries": report.retries,
                "seconds": seconds,
                "output": report.output,
            }),
        );
    }
    Ok(())
}

/// What `--state` made of an export.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub(crate) enum Incremental {
    /// Records updated after this date (the last run's start, less a day).
    Since {
        /// The `last_updated gt` date sent.
        updated_after: tw_export::Date,
    },
    /// No earlier run in the state file: everything.
    First,
    /// The dataset has no `last_updated` filter: everything.
    Full,
}

impl Incremental {
    /// One line for the summary.
    pub(crate) fn describe(&self) -> String {
        match self {
            Incremental::Since { updated_after } => {
                format!("incremental: updated after {updated_after}")
            }
            Incremental::First => "incremental: no earlier run, exported fully".to_owned(),
            Incremental::Full => "no last_updated filter: exported fully".to_owned(),
        }
    }
}

/// Applies `--state` to a request: the overlap filter when the state file
/// has an earlier run of this dataset and the dataset can filter on
/// `last_updated`. An explicit `--updated-after` with `--state` is a usage
/// error (which one would win?).
pub(crate) fn make_incremental<A: DatasetArgs>(
    request: &mut ExportRequest<A::D>,
    state: &StateFile,
) -> anyhow::Result<Incremental> {
    if !A::takes("updated-after") {
        return Ok(Incremental::Full);
    }
    let filters =
        A::filters_mut(&mut request.body).expect("a dataset with --updated-after has filters");
    if filters.iter().any(|f| {
        matches!(
            f,
            tw_export::Filter::LastUpdated {
                operator: tw_export::model::Operator::Gt,
                ..
            }
        )
    }) {
        return Err(usage(format!(
            "--state and --updated-after both set the start of {}: use one of them",
            A::D::NAME
        )));
    }
    match state.since(A::D::NAME)? {
        Some(date) => {
            filters.push(tw_export::Filter::updated_after(date));
            Ok(Incremental::Since {
                updated_after: date,
            })
        }
        None => Ok(Incremental::First),
    }
}

/// What a resume must match, as recorded in the checkpoint.
pub(crate) fn options_of<D: Dataset>(
    target: &str,
    request: &ExportRequest<D>,
    starting_after: Option<&Cursor>,
    max_records: Option<u64>,
    format: Format,
    compression: Option<Compression>,
    parquet: bool,
) -> serde_json::Value {
    let key = ResumeKey::<D> {
        dataset: D::NAME,
        endpoint: D::PATH,
        target,
        body: &request.body,
        query: &request.query,
        extra_query: &request.extra_query,
        starting_after: starting_after.map(Cursor::as_str),
        max_records,
        format: if parquet { "parquet" } else { format.name() },
        compression: compression.map(Compression::name),
        table: matches!(format, Format::Csv(_)).then_some(TableKey {
            release: env!("CARGO_PKG_VERSION"),
            columns: D::Record::COLUMNS,
        }),
    };
    serde_json::to_value(&key).expect("a resume key serializes")
}

/// Whether an export to a file continues an interrupted one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resume {
    /// Start over (discarding an interrupted export).
    No,
    /// Continue from the checkpoint; without one, a usage error.
    Required,
    /// Continue from the checkpoint if there is one, else start.
    IfAny,
}

/// What an export wrote, as `--stats` and `all`'s manifest both report it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Written {
    pub records: u64,
    pub pages: u64,
    pub bytes: u64,
    /// Of the complete output file (not for stdout).
    pub sha256: Option<String>,
    /// JSON paths of record fields the model does not know, with counts.
    pub unknown_fields: BTreeMap<String, u64>,
}

impl Written {
    /// `self` with the complete file's sha256 and length: as hashed while
    /// it was written, or else read back from `file` (a converted Parquet
    /// file).
    pub(crate) fn with_sha256_of(mut self, file: &Path) -> anyhow::Result<Written> {
        if self.sha256.is_some() {
            return Ok(self);
        }
        let (hash, bytes) = crate::cli::checkpoint::sha256(file)
            .with_context(|| format!("reading {}", file.display()))?;
        self.sha256 = Some(hash);
        self.bytes = bytes;
        Ok(self)
    }
}

/// Counts the fields of records that the model does not know, by JSON
/// path: each page brings its own counts, counted in the pass that checks
/// it ([`RawCounted`] for JSON, [`RowsCounted`] for CSV).
#[derive(Default)]
pub(crate) struct Drift {
    fields: tw_export::model::UnknownFields,
}

impl Drift {
    /// Adds a page's counts, counted as its records were checked.
    fn add(&mut self, counts: &BTreeMap<String, u64>) {
        self.fields.add_counts(counts);
    }

    /// The counts so far.
    pub(crate) fn counts(&self) -> &BTreeMap<String, u64> {
        self.fields.counts()
    }

    /// Continues from a resumed export's counts.
    fn resume_from(&mut self, counts: BTreeMap<String, u64>) {
        self.fields = tw_export::model::UnknownFields::from_counts(counts);
    }

    fn into_counts(self) -> BTreeMap<String, u64> {
        self.fields.into_counts()
    }
}

/// One export: where it starts, what it asks, how it shows progress.
pub(crate) struct Job<'a, D: Dataset> {
    pub client: &'a Client,
    pub request: ExportRequest<D>,
    pub start: Checkpoint,
    pub max_records: Option<u64>,
    pub format: Format,
    pub progress: &'a Progress,
    /// Counts unknown fields when set.
    pub drift: Option<Drift>,
    /// Starts the output with a UTF-8 byte order mark.
    pub bom: bool,
    /// Compresses a file output.
    pub compression: Option<Compression>,
    /// Converts the (CSV) file output to Parquet once complete.
    pub parquet: bool,
    /// Hashes a file output (SHA-256) as it is written, for a report
    /// that gives the hash (`--stats`, `all`'s manifest); hashing costs
    /// about a third of a JSON Lines export's CPU, so an export nobody
    /// reads the hash of does not.
    pub sha256: bool,
}

/// The UTF-8 byte order mark.
const BOM: &[u8] = "\u{feff}".as_bytes();

/// How long the export loop waits for the next page before it writes a
/// checkpoint while it waits: a page that comes sooner is written first.
const NEXT_PAGE_WAIT: Duration = Duration::from_millis(10);

/// The oldest a checkpoint gets while pages keep coming: a killed export
/// redoes at most this much work (plus one page).
const CHECKPOINT_MAX_AGE: Duration = Duration::from_secs(1);

/// What the export loop runs after a page (see [`Job::pump`]): a flush,
/// or a checkpoint.
trait AfterPage<W: Write, T>:
    FnMut(&mut RecordWriter<W, T>, &Checkpoint, Option<&Drift>) -> anyhow::Result<()>
{
}

impl<W: Write, T, F> AfterPage<W, T> for F where
    F: FnMut(&mut RecordWriter<W, T>, &Checkpoint, Option<&Drift>) -> anyhow::Result<()>
{
}

/// A record as the export loop takes it from a page and writes it.
trait Pumped<T: Table + serde::Serialize + serde::de::DeserializeOwned>: Sized {
    /// Writes the records of a page.
    fn write_page<W: Write>(page: &[Self], writer: &mut RecordWriter<W, T>) -> io::Result<()>;
    /// The unknown fields of a page's records, when the page counted them
    /// as it was checked (read as [`RawCounted`] or [`RowsCounted`]).
    fn counted(page: &[Self]) -> Option<&BTreeMap<String, u64>>;
}

impl<T: Table + serde::Serialize + serde::de::DeserializeOwned> Pumped<T> for RawRecord {
    fn write_page<W: Write>(page: &[Self], writer: &mut RecordWriter<W, T>) -> io::Result<()> {
        writer.write_raw_page(page)
    }

    fn counted(page: &[Self]) -> Option<&BTreeMap<String, u64>> {
        page.first().and_then(RawRecord::page_unknown_fields)
    }
}

impl<T: Table + serde::Serialize + serde::de::DeserializeOwned> Pumped<T> for RowsRecord {
    fn write_page<W: Write>(page: &[Self], writer: &mut RecordWriter<W, T>) -> io::Result<()> {
        writer.write_rows_page(page)
    }

    fn counted(page: &[Self]) -> Option<&BTreeMap<String, u64>> {
        page.first().and_then(RowsRecord::page_unknown_fields)
    }
}

impl<D: Dataset> Job<'_, D> {
    /// The export loop: every page is written; `after_page` (a flush, or a
    /// checkpoint) runs after a page whenever the next one is not there
    /// within [`NEXT_PAGE_WAIT`] (so a checkpoint costs no time: the loop
    /// would wait anyway), when the last one is [`CHECKPOINT_MAX_AGE`]
    /// old, and before the loop stops on an error or a signal, so the
    /// last checkpoint always names the last page written when the export
    /// waits or stops. Errors get `on_error`'s context. JSON reads the
    /// records as checked JSON text (`Raw`) and writes it as sent; CSV
    /// reads them with their rows (`Rows`), written as each page is
    /// decoded (on the read-ahead thread), and copies the rows.
    fn pump<W>(
        self,
        writer: &mut RecordWriter<W, D::Record>,
        after_page: impl AfterPage<W, D::Record>,
        on_error: impl Fn(tw_export::Error, u64) -> anyhow::Error,
        what: &dyn Fn() -> String,
    ) -> anyhow::Result<(u64, Option<Drift>)>
    where
        W: Write,
    {
        // Unknown fields are counted in the pass that checks each page:
        // from the JSON walk, or from the views the rows are written from.
        match (self.format, self.drift.is_some()) {
            (Format::Csv(CsvDialect::Techwolf), true) => {
                self.pump_as::<W, RowsCounted<TechwolfCsv>>(writer, after_page, on_error, what)
            }
            (Format::Csv(CsvDialect::Techwolf), false) => {
                self.pump_as::<W, Rows<TechwolfCsv, NoJson>>(writer, after_page, on_error, what)
            }
            (Format::Csv(CsvDialect::Rfc4180), true) => {
                self.pump_as::<W, RowsCounted<Rfc4180Csv>>(writer, after_page, on_error, what)
            }
            (Format::Csv(CsvDialect::Rfc4180), false) => {
                self.pump_as::<W, Rows<Rfc4180Csv, NoJson>>(writer, after_page, on_error, what)
            }
            (_, true) => self.pump_as::<W, RawCounted>(writer, after_page, on_error, what),
            (_, false) => self.pump_as::<W, Raw>(writer, after_page, on_error, what),
        }
    }

    /// [`Job::pump`] with the records in representation `R`.
    fn pump_as<W, R>(
        mut self,
        writer: &mut RecordWriter<W, D::Record>,
        mut after_page: impl AfterPage<W, D::Record>,
        on_error: impl Fn(tw_export::Error, u64) -> anyhow::Error,
        what: &dyn Fn() -> String,
    ) -> anyhow::Result<(u64, Option<Drift>)>
    where
        W: Write,
        R: Repr<D>,
        R::Item: Pumped<D::Record>,
    {
        let mut drift = self.drift.take();
        // Pages written: the checkpoint's count, which stops at the last
        // page boundary passed, leaves out a page `--max-records` cut.
        let mut written_pages = self.start.pages;
        let mut pages = self
            .client
            .pages::<D, R>(self.request, self.start, self.max_records);
        // A page taken while deciding whether to checkpoint, not yet
        // written: `pages.checkpoint()` is already past it.
        let mut next = None;
        let mut saved = Instant::now();
        while let Some(batch) = next.take().or_else(|| pages.next()) {
            let batch = match batch {
                Ok(batch) => batch,
                Err(err) => {
                    // The position after the last page written (an error
                    // does not move it); the error is what is reported.
                    let _ = after_page(writer, pages.checkpoint(), drift.as_ref());
                    return Err(on_error(err, writer.records()));
                }
            };
            R::Item::write_page(&batch, writer).with_context(what)?;
            written_pages += 1;
            if let Some(drift) = &mut drift {
                // `pump` reads pages that count when there is a drift.
                let counts = R::Item::counted(&batch);
                debug_assert!(batch.is_empty() || counts.is_some());
                if let Some(counts) = counts {
                    drift.add(counts);
                }
            }
            pages.recycle(batch);
            self.progress.update(
                writer.records(),
                pages.checkpoint().pages,
                self.client.retries(),
            );
            if let Some(interrupted) = crate::cli::signals::requested() {
                after_page(writer, pages.checkpoint(), drift.as_ref())?;
                return Err(anyhow::Error::new(interrupted));
            }
            if saved.elapsed() < CHECKPOINT_MAX_AGE
                && let Poll::Ready(page) = pages.next_within(NEXT_PAGE_WAIT)
            {
                // Written first; the end needs no checkpoint.
                next = page;
                continue;
            }
            after_page(writer, pages.checkpoint(), drift.as_ref())?;
            saved = Instant::now();
        }
        Ok((pages.checkpoint().pages.max(written_pages), drift))
    }

    fn into_stdout(self) -> anyhow::Result<Written> {
        let what = || "writing to stdout".to_owned();
        let mut out = Tracked::new(io::stdout().lock(), 0);
        if self.bom {
            out.write_all(BOM).with_context(what)?;
        }
        let mut writer = RecordWriter::for_dataset::<D>(out, self.format, 0);
        writer.begin().with_context(what)?;
        let (pages, drift) = self.pump(
            &mut writer,
            |writer, _, _| writer.flush().with_context(what),
            |err, _| anyhow::Error::new(err),
            &what,
        )?;
        let records = writer.records();
        let out = writer.finish().with_context(what)?;
        Ok(Written {
            records,
            pages,
            bytes: out.bytes,
            sha256: None,
            unknown_fields: drift.map(Drift::into_counts).unwrap_or_default(),
        })
    }

    /// Exports to `path` through `path.partial` and its checkpoint, and
    /// renames it into place once complete.
    pub(crate) fn into_file(
        mut self,
        path: &Path,
        options: &serde_json::Value,
        resume: Resume,
    ) -> anyhow::Result<Written> {
        let paths = Paths::for_output(path);
        // A Parquet file's hash is read from it once converted: its
        // partial CSV is not hashed.
        let hash = self.sha256 && !self.parquet;
        let resume = match resume {
            Resume::IfAny => paths.checkpoint.exists() && paths.partial.exists(),
            Resume::Required => true,
            Resume::No => false,
        };
        // A new Parquet export converts its CSV as it is written (declared
        // before the writer, which holds its feed: see `Following`); a
        // resumed one converts the complete CSV.
        let (feed, following) = if self.parquet && !resume {
            let (feed, following) = crate::cli::parquet::follow(
                &paths.partial,
                &paths.output,
                <D::Record as tw_export::model::Table>::COLUMNS,
                <D::Record as tw_export::model::Table>::kinds(),
            )?;
            (Some(feed), Some(following))
        } else {
            (None, None)
        };
        let (mut writer, start) = if resume {
            let (writer, start, counts) =
                resume_partial::<D>(&paths, options, self.format, self.compression, hash)?;
            if let (Some(drift), Some(counts)) = (&mut self.drift, counts) {
                drift.resume_from(counts);
            }
            (writer, start)
        } else {
            (
                new_partial::<D>(&paths, self.format, self.bom, self.compression, hash, feed)?,
                self.start.clone(),
            )
        };
        self.start = start.clone();
        let save = |writer: &mut PartialWriter<D::Record>,
                    at: &Checkpoint,
                    drift: Option<&Drift>|
         -> anyhow::Result<()> {
            writer.flush()?;
            let mut saved = Saved::new(options.clone(), at, writer.get_ref().get_ref());
            saved.unknown_fields = drift.map(|d| d.counts().clone());
            paths
                .save(&saved)
                .with_context(|| format!("writing {}", paths.checkpoint.display()))
        };
        save(&mut writer, &start, self.drift.as_ref())?;

        let what = || format!("writing {}", paths.partial.display());
        let on_error = |err: tw_export::Error, records: u64| {
            if records == 0 {
                // Nothing to resume: leave nothing behind.
                let _ = fs::remove_file(&paths.partial);
                let _ = fs::remove_file(&paths.checkpoint);
                return anyhow::Error::new(err);
            }
            // The hint only where a second try can pass (network, 5xx,
            // 429); after a refusal (401, 400) or a broken protocol the
            // same command would fail the same way.
            if !err
                .transport()
                .is_some_and(tw_transport::Error::is_retryable)
            {
                return anyhow::Error::new(err);
            }
            let hint = format!(
                "{} holds the {records} records exported so far; \
                 run the same command with --resume to continue",
                paths.partial.display(),
            );
            anyhow::Error::new(err).context(Hint(hint))
        };
        let parquet = self.parquet;
        let (pages, drift) = self
            .pump(&mut writer, save, on_error, &what)
            .map_err(|err| {
                if err.is::<crate::cli::signals::Interrupted>() {
                    let hint = format!(
                        "{} holds the records exported so far; \
                         run the same command with --resume to continue",
                        paths.partial.display(),
                    );
                    err.context(Hint(hint))
                } else {
                    err
                }
            })?;
        let records = writer.records();
        let mut counting = writer
            .finish()
            .and_then(Compressed::into_inner)
            .with_context(what)?;
        counting.inner.sync_all()?;
        let mut bytes = counting.bytes;
        // `None` for a Parquet file: its partial CSV was not hashed, and
        // the converted file's hash is read from it.
        let sha256 = counting.sha256_hex();
        counting.end_feed();
        drop(counting);
        if parquet {
            let followed = following.map(|following| following.finish());
            match &followed {
                Some(Ok(_)) => tracing::info!(
                    "{}: converted to Parquet as the CSV was written",
                    paths.output.display()
                ),
                Some(Err(err)) => tracing::debug!(
                    "converting {} as it was written stopped: {err:#}",
                    paths.partial.display()
                ),
                None => {}
            }
            if !matches!(followed, Some(Ok(_))) {
                tracing::info!("converting {} to Parquet", paths.partial.display());
                crate::cli::parquet::convert(
                    &paths.partial,
                    &paths.output,
                    <D::Record as tw_export::model::Table>::COLUMNS,
                    &<D::Record as tw_export::model::Table>::kinds(),
                )
                .with_context(|| format!("writing {}", paths.output.display()))?;
            }
            bytes = fs::metadata(&paths.output)?.len();
            fs::remove_file(&paths.partial)?;
        } else {
            fs::rename(&paths.partial, &paths.output).with_context(|| {
                format!(
                    "renaming {} to {}",
                    paths.partial.display(),
                    paths.output.display()
                )
            })?;
        }
        let _ = fs::remove_file(&paths.checkpoint);
        if let Some(dir) = paths.output.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(dir) = fs::File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok(Written {
            records,
            pages,
            bytes,
            sha256,
            unknown_fields: drift.map(Drift::into_counts).unwrap_or_default(),
        })
    }
}

/// The output of an export to a file: the partial file, counting bytes.
type PartialWriter<T> = RecordWriter<Compressed<Tracked<Writeback>>, T>;

/// A resumed partial file: the writer, where to continue, and the
/// unknown-field counts so far.
type Resumed<T> = (PartialWriter<T>, Checkpoint, Option<BTreeMap<String, u64>>);

/// Opens the interrupted export's partial file at its checkpointed length,
/// after checking that the options match; returns where to continue.
fn resume_partial<D: Dataset>(
    paths: &Paths,
    options: &serde_json::Value,
    format: Format,
    compression: Option<Compression>,
    hash: bool,
) -> anyhow::Result<Resumed<D::Record>> {
    let start_over = || {
        format!(
            "run the same command without --resume to start over (that discards {})",
            paths.partial.display()
        )
    };
    let saved = paths
        .load()?
        .ok_or_else(|| {
            usage(format!(
                "nothing to resume: {} does not exist (run without --resume to start an export)",
                paths.checkpoint.display()
            ))
        })?
        .map_err(|why| {
            usage(format!(
                "cannot resume: {} is unusable: {why}; {}",
                paths.checkpoint.display(),
                start_over()
            ))
        })?;
    let differences = saved.differences(options);
    if !differences.is_empty() {
        return Err(usage(format!(
            "cannot resume: these options differ from the interrupted export's:\n    {}\n\
             run with the same options, or without --resume to start over",
            differences.join("\n    ")
        )));
    }
    let mut file = match open_partial(&paths.partial) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err(usage(format!(
                "nothing to resume: cannot open {}: {err}",
                paths.partial.display()
            )));
        }
        Err(err) => return Err(err.into()),
    };
    let length = file.metadata()?.len();
    if length < saved.bytes {
        return Err(usage(format!(
            "cannot resume: {} holds {length} bytes but its checkpoint says {}; \
             run without --resume to start over",
            paths.partial.display(),
            saved.bytes
        )));
    }
    if !saved.matches(&mut file)? {
        return Err(usage(format!(
            "cannot resume: {} does not match its checkpoint (its last written pages \
             changed since); {}",
            paths.partial.display(),
            start_over()
        )));
    }
    file.set_len(saved.bytes)?;
    // The output's hash goes on from the bytes already there (read once).
    let sha256 = if hash {
        file.seek(io::SeekFrom::Start(0))?;
        Some(crate::cli::checkpoint::sha256_reading(&mut file)?.0)
    } else {
        None
    };
    file.seek(io::SeekFrom::End(0))?;
    tracing::info!(
        "resuming {} after {} ({})",
        paths.output.display(),
        counted(saved.records, "record", "records"),
        counted(saved.pages, "page", "pages")
    );
    Ok((
        RecordWriter::for_dataset::<D>(
            Compressed::new(
                Tracked::new(Writeback::new(file), saved.bytes).hashing(sha256),
                compression,
            ),
            format,
            saved.records,
        ),
        saved.checkpoint(),
        saved.unknown_fields.clone(),
    ))
}

/// Starts a new partial file (discarding an interrupted export's) and
/// writes the header.
fn new_partial<D: Dataset>(
    paths: &Paths,
    format: Format,
    bom: bool,
    compression: Option<Compression>,
    hash: bool,
    feed: Option<crate::cli::parquet::Feed>,
) -> anyhow::Result<PartialWriter<D::Record>> {
    if paths.partial.exists() || paths.checkpoint.exists() {
        tracing::warn!(
            "discarding the interrupted export in {} (use --resume to continue one)",
            paths.partial.display()
        );
        let _ = fs::remove_file(&paths.checkpoint);
    }
    let file = create_private(&paths.partial)
        .with_context(|| format!("creating {}", paths.partial.display()))?;
    let mut out = Compressed::new(
        Tracked::new(Writeback::new(file), 0)
            .hashing(hash.then(sha2::Sha256::default))
            .feeding(feed),
        compression,
    );
    if bom {
        out.write_all(BOM)?;
    }
    let mut writer = RecordWriter::for_dataset::<D>(out, format, 0);
    writer.begin()?;
    Ok(writer)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file export hashes its output as it writes only when its report
    /// gives the hash (hashing is a third of a JSON Lines export's CPU),
    /// and that hash is the file's; a Parquet export never hashes its
    /// partial CSV (the converted file's hash is read from it).
    #[test]
    fn a_file_export_hashes_its_output_only_for_a_report_that_gives_it() {
        let sandbox = tw_sandbox::Sandbox::start(tw_sandbox::SandboxConfig {
            employees: 30,
            ..Default::default()
        })
        .unwrap();
        let client = Client::builder()
            .base_url(sandbox.base_url())
            .bearer_token(Secret::new("sandbox-token"))
            .build()
            .unwrap();
        let dir = std::env::temp_dir().join(format!("tw-export-hash-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let formats = [
            (Format::Jsonl, false, "jsonl"),
            (Format::Csv(CsvDialect::Techwolf), false, "csv"),
            (Format::Csv(CsvDialect::Rfc4180), true, "parquet"),
        ];
        for (format, parquet, extension) in formats {
            for sha256 in [false, true] {
                let path = dir.join(format!("out-{sha256}.{extension}"));
                let progress = Progress::new(true);
                let job = Job::<tw_export::SkillClusters> {
                    client: &client,
                    request: ExportRequest::new(10).unwrap(),
                    start: Checkpoint::start(),
                    max_records: None,
                    format,
                    progress: &progress,
                    drift: None,
                    bom: false,
                    compression: None,
                    parquet,
                    sha256,
                };
                let written = job
                    .into_file(&path, &serde_json::json!({}), Resume::No)
                    .unwrap();
                assert_eq!(written.records, 30, "{extension}");
                let expected =
                    (sha256 && !parquet).then(|| crate::cli::checkpoint::sha256(&path).unwrap().0);
                assert_eq!(written.sha256, expected, "{extension}, sha256 {sha256}");
            }
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}

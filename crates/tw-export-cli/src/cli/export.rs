//! `tw-export skill-clusters`: the export command.

use std::fs;
use std::io::{self, IsTerminal, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use tw_export::output::{CsvDialect, Format, RecordWriter};
use tw_export::{
    Checkpoint, Client, Cursor, Dataset, ExportRequest, Raw, RawRecord, Repr, RetryPolicy, Secret,
    Typed,
};

use crate::cli::args::{
    ConnectionArgs, DatasetArgs, DialectArg, ExportArgs, FormatArg, OutputArgs,
};
use crate::cli::checkpoint::{
    Paths, Saved, Tracked, check_target, create_private, lock, open_partial,
};
use crate::cli::{Hint, UsageError};

fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

fn format_of(args: &OutputArgs) -> Format {
    match args.format {
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Json => Format::Json,
        FormatArg::Csv => Format::Csv(match args.csv_dialect {
            DialectArg::Techwolf => CsvDialect::Techwolf,
            DialectArg::Rfc4180 => CsvDialect::Rfc4180,
        }),
    }
}

fn build_request<A: DatasetArgs>(args: &ExportArgs<A>) -> anyhow::Result<ExportRequest<A::D>> {
    let (mut body, query) = args.dataset.build().map_err(usage)?;
    if !args.extra.filters.is_empty() {
        let Some(filters) = A::filters_mut(&mut body) else {
            return Err(usage(format!(
                "{} takes no filters: drop --filter",
                A::D::NAME
            )));
        };
        filters.extend(args.extra.filters.iter().cloned());
    }
    if let tw_export::model::Paging::Document { .. } = A::D::PAGING {
        for (given, flag) in [
            (args.paging.limit.is_some(), "--limit"),
            (args.paging.starting_after.is_some(), "--starting-after"),
        ] {
            if given {
                return Err(usage(format!(
                    "{} comes whole in one response, without pages: drop {flag}",
                    A::D::NAME
                )));
            }
        }
    }
    let limit = args
        .paging
        .limit
        .unwrap_or(DEFAULT_LIMIT.min(A::D::MAX_LIMIT));
    let request = ExportRequest::<A::D>::new(i64::from(limit))
        .map_err(|err| usage(format!("--limit: {err} for {}", A::D::NAME)))?;
    let mut request = request.with_body(body).with_query(query);
    request.extra_query = args.extra.query.clone();
    Ok(request)
}

/// The page size when `--limit` is not given.
const DEFAULT_LIMIT: u32 = 100;

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The connection: a client, a description of the target for checkpoints,
/// and the in-process sandbox when `--sandbox` is on.
struct Connection {
    client: Client,
    target: String,
    _sandbox: Option<tw_sandbox::Sandbox>,
}

fn connect(args: &ConnectionArgs) -> anyhow::Result<Connection> {
    let retry_policy = {
        let mut policy = RetryPolicy::default();
        policy.max_attempts = args.max_attempts;
        policy
    };
    let mut builder = Client::builder()
        .request_timeout(Duration::from_secs(args.timeout))
        .retry_policy(retry_policy)
        .on_retry(|event| {
            tracing::warn!(
                "retrying {} in {:.1}s: attempt {} failed: {}",
                event.request,
                event.delay.as_secs_f64(),
                event.attempt,
                crate::cli::printable(&event.error.to_string())
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

    let token = env_var("TECHWOLF_TOKEN");
    let client_id = env_var("TECHWOLF_CLIENT_ID");
    let secret = match &args.client_secret_file {
        Some(path) => Some(fs::read_to_string(path).map_err(|err| {
            usage(format!(
                "cannot read --client-secret-file {}: {err}",
                path.display()
            ))
        })?),
        None => env_var("TECHWOLF_CLIENT_SECRET"),
    };
    builder = match (token, client_id, secret) {
        (Some(_), Some(_), _) => {
            return Err(usage(
                "both TECHWOLF_TOKEN and TECHWOLF_CLIENT_ID are set: unset one of them",
            ));
        }
        (Some(token), None, _) => builder.bearer_token(Secret::new(token)),
        (None, Some(id), Some(secret)) => {
            let secret = Secret::new(secret);
            if secret.is_empty() {
                return Err(usage("the client secret is empty"));
            }
            builder.client_credentials(id, secret)
        }
        (None, Some(_), None) => {
            return Err(usage(
                "TECHWOLF_CLIENT_ID is set but no secret: set TECHWOLF_CLIENT_SECRET or pass --client-secret-file",
            ));
        }
        (None, None, _) => {
            return Err(usage(
                "no credentials: set TECHWOLF_TOKEN, or TECHWOLF_CLIENT_ID with TECHWOLF_CLIENT_SECRET \
                 (or --client-secret-file)",
            ));
        }
    };
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
struct Progress {
    bar: indicatif::ProgressBar,
    started: Instant,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        let bar = if quiet || !io::stderr().is_terminal() {
            indicatif::ProgressBar::hidden()
        } else {
            let bar = indicatif::ProgressBar::new_spinner();
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
}

/// `tw-export <dataset>`: one export loop for every dataset.
pub(crate) fn run<A: DatasetArgs>(args: &ExportArgs<A>) -> anyhow::Result<()> {
    let format = format_of(&args.output);
    let request = build_request(args)?;
    let to_file = args
        .output
        .output
        .as_deref()
        .filter(|p| p.as_os_str() != "-");
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
    let key = ResumeKey::<A::D> {
        dataset: A::D::NAME,
        endpoint: A::D::PATH,
        target: &connection.target,
        body: &request.body,
        query: &request.query,
        extra_query: &request.extra_query,
        starting_after: args.paging.starting_after.as_ref().map(Cursor::as_str),
        max_records: args.paging.max_records,
        format: format.name(),
    };
    let options = serde_json::to_value(&key).expect("a resume key serializes");
    let start = args
        .paging
        .starting_after
        .clone()
        .map_or_else(Checkpoint::start, Checkpoint::after);
    let progress = Progress::new(args.output.quiet);
    let job = Job {
        client: &connection.client,
        request,
        start,
        max_records: args.paging.max_records,
        format,
        progress: &progress,
    };
    let (records, pages, destination) = match (to_file, format) {
        (None, Format::Csv(_)) => job.into_stdout::<Typed>()?,
        (None, _) => job.into_stdout::<Raw>()?,
        (Some(path), Format::Csv(_)) => {
            job.into_file::<Typed>(path, &options, args.output.resume)?
        }
        (Some(path), _) => job.into_file::<Raw>(path, &options, args.output.resume)?,
    };
    progress.bar.finish_and_clear();
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "tw-export: {records} records, {pages} pages, {} retries, {:.1}s -> {destination}",
            connection.client.retries(),
            progress.started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// How a representation's records are written: typed records through
/// their table or serialization, raw records as the server's text.
trait Writes<D: Dataset>: Repr<D> {
    fn write<W: Write>(
        item: &Self::Item,
        writer: &mut RecordWriter<W, D::Record>,
    ) -> io::Result<()>;
}

impl<D: Dataset> Writes<D> for Typed {
    fn write<W: Write>(
        item: &D::Record,
        writer: &mut RecordWriter<W, D::Record>,
    ) -> io::Result<()> {
        writer.write(item)
    }
}

impl<D: Dataset> Writes<D> for Raw {
    fn write<W: Write>(
        item: &RawRecord,
        writer: &mut RecordWriter<W, D::Record>,
    ) -> io::Result<()> {
        writer.write_raw(item.as_str())
    }
}

/// One export: where it starts, what it asks, how it shows progress.
struct Job<'a, D: Dataset> {
    client: &'a Client,
    request: ExportRequest<D>,
    start: Checkpoint,
    max_records: Option<u64>,
    format: Format,
    progress: &'a Progress,
}

impl<D: Dataset> Job<'_, D> {
    /// The export loop: every page is written, then `after_page` runs
    /// (a flush, or a checkpoint); errors get `on_error`'s context.
    fn pump<R, W>(
        self,
        writer: &mut RecordWriter<W, D::Record>,
        mut after_page: impl FnMut(&mut RecordWriter<W, D::Record>, &Checkpoint) -> anyhow::Result<()>,
        on_error: impl Fn(tw_export::Error, u64) -> anyhow::Error,
        what: &dyn Fn() -> String,
    ) -> anyhow::Result<u64>
    where
        R: Writes<D>,
        W: Write,
    {
        let mut pages = self
            .client
            .pages::<D, R>(self.request, self.start, self.max_records);
        while let Some(batch) = pages.next() {
            let batch = batch.map_err(|err| on_error(err, writer.records()))?;
            for record in &batch {
                R::write(record, writer).with_context(what)?;
            }
            after_page(writer, pages.checkpoint())?;
            self.progress.update(
                writer.records(),
                pages.checkpoint().pages,
                self.client.retries(),
            );
        }
        Ok(pages.checkpoint().pages)
    }

    fn into_stdout<R>(self) -> anyhow::Result<(u64, u64, String)>
    where
        R: Writes<D>,
    {
        let what = || "writing to stdout".to_owned();
        let mut writer = RecordWriter::for_dataset::<D>(io::stdout().lock(), self.format, 0);
        writer.begin().with_context(what)?;
        let pages = self.pump::<R, _>(
            &mut writer,
            |writer, _| writer.flush().with_context(what),
            |err, _| anyhow::Error::new(err),
            &what,
        )?;
        let records = writer.records();
        drop(writer.finish().with_context(what)?);
        Ok((records, pages, "stdout".to_owned()))
    }

    fn into_file<R>(
        mut self,
        path: &Path,
        options: &serde_json::Value,
        resume: bool,
    ) -> anyhow::Result<(u64, u64, String)>
    where
        R: Writes<D>,
    {
        let paths = Paths::for_output(path);
        let (mut writer, start) = if resume {
            resume_partial::<D>(&paths, options, self.format)?
        } else {
            (new_partial::<D>(&paths, self.format)?, self.start.clone())
        };
        self.start = start.clone();
        let save = |writer: &mut PartialWriter<D::Record>, at: &Checkpoint| -> anyhow::Result<()> {
            writer.flush()?;
            paths
                .save(&Saved::new(options.clone(), at, writer.get_ref()))
                .with_context(|| format!("writing {}", paths.checkpoint.display()))
        };
        save(&mut writer, &start)?;

        let what = || format!("writing {}", paths.partial.display());
        let on_error = |err: tw_export::Error, records: u64| {
            let hint = format!(
                "{} holds the {records} records exported so far; \
                 run the same command with --resume to continue",
                paths.partial.display(),
            );
            anyhow::Error::new(err).context(Hint(hint))
        };
        let pages = self.pump::<R, _>(&mut writer, save, on_error, &what)?;
        let records = writer.records();
        let counting = writer.finish().with_context(what)?;
        counting.inner.sync_all()?;
        fs::rename(&paths.partial, &paths.output).with_context(|| {
            format!(
                "renaming {} to {}",
                paths.partial.display(),
                paths.output.display()
            )
        })?;
        let _ = fs::remove_file(&paths.checkpoint);
        if let Some(dir) = paths.output.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(dir) = fs::File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok((records, pages, path.display().to_string()))
    }
}

/// The output of an export to a file: the partial file, counting bytes.
type PartialWriter<T> = RecordWriter<Tracked<fs::File>, T>;

/// Opens the interrupted export's partial file at its checkpointed length,
/// after checking that the options match; returns where to continue.
fn resume_partial<D: Dataset>(
    paths: &Paths,
    options: &serde_json::Value,
    format: Format,
) -> anyhow::Result<(PartialWriter<D::Record>, Checkpoint)> {
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
            "cannot resume: {} does not match its checkpoint (its last written page \
             changed since); {}",
            paths.partial.display(),
            start_over()
        )));
    }
    file.set_len(saved.bytes)?;
    file.seek(io::SeekFrom::End(0))?;
    tracing::info!(
        "resuming {} after {} records ({} pages)",
        paths.output.display(),
        saved.records,
        saved.pages
    );
    Ok((
        RecordWriter::for_dataset::<D>(Tracked::new(file, saved.bytes), format, saved.records),
        saved.checkpoint(),
    ))
}

/// Starts a new partial file (discarding an interrupted export's) and
/// writes the header.
fn new_partial<D: Dataset>(
    paths: &Paths,
    format: Format,
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
    let mut writer = RecordWriter::for_dataset::<D>(Tracked::new(file, 0), format, 0);
    writer.begin()?;
    Ok(writer)
}

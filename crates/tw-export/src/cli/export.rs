//! `tw-export skill-clusters`: the export command.

use std::fs;
use std::io::{self, IsTerminal, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;
use tw_export::output::{CsvDialect, Format, RecordWriter};
use tw_export::{Checkpoint, Client};
use tw_model::{Filter, SkillClustersRequest};
use tw_transport::{RetryPolicy, Secret};

use crate::cli::args::{DialectArg, ExportArgs, FormatArg};
use crate::cli::checkpoint::{Paths, Saved, create_private};
use crate::cli::{Hint, UsageError};

fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// Counts the bytes written through it, so checkpoints know the length of
/// the partial file without asking the file system.
#[derive(Debug)]
struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn format_of(args: &ExportArgs) -> Format {
    match args.format {
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Json => Format::Json,
        FormatArg::Csv => Format::Csv(match args.csv_dialect {
            DialectArg::Techwolf => CsvDialect::Techwolf,
            DialectArg::Rfc4180 => CsvDialect::Rfc4180,
        }),
    }
}

fn build_request(args: &ExportArgs) -> anyhow::Result<SkillClustersRequest> {
    let mut request = SkillClustersRequest::new(i64::from(args.limit.get()))?
        .with_include(args.include.0.iter().cloned());
    if args.active_only || args.inactive_only {
        request = request.with_filter(Filter::is_active(args.active_only));
    }
    if let Some(date) = &args.updated_after {
        request = request.with_filter(Filter::updated_after(date)?);
    }
    if let Some(date) = &args.updated_before {
        request = request.with_filter(Filter::updated_before(date)?);
    }
    if let Some(cursor) = &args.starting_after {
        request = request.with_starting_after(cursor)?;
    }
    Ok(request)
}

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

fn connect(args: &ExportArgs) -> anyhow::Result<Connection> {
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
                event.error
            );
        });
    if let Some(version) = &args.api_version {
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

pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    let format = format_of(args);
    let request = build_request(args)?;
    let connection = connect(args)?;
    let options = json!({
        "endpoint": tw_export::SKILL_CLUSTERS_PATH,
        "target": connection.target,
        "filters": request.filters,
        "include": request.include,
        "starting_after": request.starting_after,
        "max_records": args.max_records,
        "format": format.name(),
    });
    let progress = Progress::new(args.quiet);
    let to_file = args.output.as_deref().filter(|p| p.as_os_str() != "-");
    let (records, pages, destination) = match to_file {
        None => {
            let (records, pages) =
                export_to_stdout(&connection.client, request, format, args, &progress)?;
            (records, pages, "stdout".to_owned())
        }
        Some(path) => {
            let (records, pages) = export_to_file(
                &connection.client,
                request,
                format,
                args,
                &options,
                path,
                &progress,
            )?;
            (records, pages, path.display().to_string())
        }
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

/// Pages of the export: decoded for CSV, raw (checked, written unchanged)
/// for JSON Lines and JSON.
enum Stream {
    Typed(tw_export::SkillClusterPages),
    Raw(tw_export::SkillClusterRawPages),
}

enum Batch {
    Typed(Vec<tw_model::EmployeeSkillClusters>),
    Raw(Vec<tw_export::RawRecord>),
}

impl Stream {
    fn open(
        client: &Client,
        request: SkillClustersRequest,
        start: Checkpoint,
        format: Format,
        max_records: Option<u64>,
    ) -> Stream {
        match format {
            Format::Csv(_) => {
                Stream::Typed(client.skill_cluster_pages(request, start, max_records))
            }
            Format::Jsonl | Format::Json => {
                Stream::Raw(client.skill_cluster_raw_pages(request, start, max_records))
            }
        }
    }

    fn next_batch(&mut self) -> Option<Result<Batch, tw_export::Error>> {
        Some(match self {
            Stream::Typed(pages) => pages.next()?.map(Batch::Typed),
            Stream::Raw(pages) => pages.next()?.map(Batch::Raw),
        })
    }

    fn checkpoint(&self) -> &Checkpoint {
        match self {
            Stream::Typed(pages) => pages.checkpoint(),
            Stream::Raw(pages) => pages.checkpoint(),
        }
    }
}

impl Batch {
    fn write_to<W: Write>(&self, writer: &mut RecordWriter<W>) -> io::Result<()> {
        match self {
            Batch::Typed(records) => records.iter().try_for_each(|r| writer.write(r)),
            Batch::Raw(records) => records
                .iter()
                .try_for_each(|r| writer.write_raw(r.as_str())),
        }
    }
}

fn export_to_stdout(
    client: &Client,
    request: SkillClustersRequest,
    format: Format,
    args: &ExportArgs,
    progress: &Progress,
) -> anyhow::Result<(u64, u64)> {
    let start = Client::start_of(&request);
    let mut writer = RecordWriter::new(io::stdout().lock(), format);
    writer.begin().context("writing to stdout")?;
    let mut pages = Stream::open(client, request, start, format, args.max_records);
    while let Some(batch) = pages.next_batch() {
        batch?.write_to(&mut writer).context("writing to stdout")?;
        writer.flush().context("writing to stdout")?;
        progress.update(writer.records(), pages.checkpoint().pages, client.retries());
    }
    let records = writer.records();
    drop(writer.finish().context("writing to stdout")?);
    Ok((records, pages.checkpoint().pages))
}

fn export_to_file(
    client: &Client,
    request: SkillClustersRequest,
    format: Format,
    args: &ExportArgs,
    options: &serde_json::Value,
    path: &Path,
    progress: &Progress,
) -> anyhow::Result<(u64, u64)> {
    let paths = Paths::for_output(path);
    let (mut writer, start) = if args.resume {
        let saved = paths.load()?.ok_or_else(|| {
            usage(format!(
                "nothing to resume: {} does not exist (run without --resume to start an export)",
                paths.checkpoint.display()
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
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&paths.partial)
            .map_err(|err| {
                usage(format!(
                    "nothing to resume: cannot open {}: {err}",
                    paths.partial.display()
                ))
            })?;
        let length = file.metadata()?.len();
        if length < saved.bytes {
            return Err(usage(format!(
                "cannot resume: {} holds {length} bytes but its checkpoint says {}; \
                 run without --resume to start over",
                paths.partial.display(),
                saved.bytes
            )));
        }
        file.set_len(saved.bytes)?;
        file.seek(io::SeekFrom::End(0))?;
        tracing::info!(
            "resuming {} after {} records ({} pages)",
            path.display(),
            saved.records,
            saved.pages
        );
        let counting = Counting {
            inner: file,
            bytes: saved.bytes,
        };
        (
            RecordWriter::resume(counting, format, saved.records),
            saved.checkpoint(),
        )
    } else {
        if paths.partial.exists() || paths.checkpoint.exists() {
            tracing::warn!(
                "discarding the interrupted export in {} (use --resume to continue one)",
                paths.partial.display()
            );
            let _ = fs::remove_file(&paths.checkpoint);
        }
        let file = create_private(&paths.partial)
            .with_context(|| format!("creating {}", paths.partial.display()))?;
        let mut writer = RecordWriter::new(
            Counting {
                inner: file,
                bytes: 0,
            },
            format,
        );
        writer.begin()?;
        (writer, Client::start_of(&request))
    };
    let save =
        |writer: &mut RecordWriter<Counting<fs::File>>, at: &Checkpoint| -> anyhow::Result<()> {
            writer.flush()?;
            paths
                .save(&Saved::new(options.clone(), at, writer.get_ref().bytes))
                .with_context(|| format!("writing {}", paths.checkpoint.display()))
        };
    save(&mut writer, &start)?;

    let mut pages = Stream::open(client, request, start, format, args.max_records);
    while let Some(batch) = pages.next_batch() {
        let batch = batch.map_err(|err| {
            let hint = format!(
                "{} holds the {} records exported so far; run the same command with --resume to continue",
                paths.partial.display(),
                writer.records()
            );
            anyhow::Error::new(err).context(Hint(hint))
        })?;
        batch
            .write_to(&mut writer)
            .with_context(|| format!("writing {}", paths.partial.display()))?;
        save(&mut writer, pages.checkpoint())?;
        progress.update(writer.records(), pages.checkpoint().pages, client.retries());
    }
    let records = writer.records();
    let counting = writer
        .finish()
        .with_context(|| format!("writing {}", paths.partial.display()))?;
    counting.inner.sync_all()?;
    fs::rename(&paths.partial, &paths.output).with_context(|| {
        format!(
            "renaming {} to {}",
            paths.partial.display(),
            paths.output.display()
        )
    })?;
    let _ = fs::remove_file(&paths.checkpoint);
    if let Some(dir) = paths.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(dir) = fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok((records, pages.checkpoint().pages))
}

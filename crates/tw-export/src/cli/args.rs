//! Command-line arguments (clap). Names are part of the contract.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tw_model::{Filter, Include, PageLimit};

/// Export skills data from the TechWolf Skill Engine API.
#[derive(Debug, Parser)]
#[command(
    name = "tw-export",
    version,
    term_width = 100,
    propagate_version = true
)]
#[command(
    after_help = "Exit codes: 0 success, 2 invalid arguments or input, 3 authentication \
failed, 4 the API failed after retries or broke the pagination protocol, 5 local I/O error."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Export every employee's skill clusters (POST /export/employees/skill_clusters).
    SkillClusters(Box<ExportArgs>),
    /// Run the built-in fake TechWolf API in the foreground.
    Sandbox(SandboxArgs),
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// One JSON object per line.
    Jsonl,
    /// One JSON array.
    Json,
    /// One row per (employee, cluster, skill).
    Csv,
}

/// CSV dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    /// CRLF, every field quoted, formula guard (as TechWolf's own files).
    Techwolf,
    /// Minimal quoting, LF, values unchanged.
    Rfc4180,
}

/// `tw-export skill-clusters`.
#[derive(Debug, Args)]
#[command(
    after_help = "Credentials come from the environment, never from flags: TECHWOLF_TOKEN \
(a bearer token), or TECHWOLF_CLIENT_ID with TECHWOLF_CLIENT_SECRET (or --client-secret-file)."
)]
pub struct ExportArgs {
    // Connection
    /// Tenant name, as TechWolf issued it.
    #[arg(long, env = "TECHWOLF_TENANT", value_parser = parse_label("tenant"), help_heading = "Connection")]
    pub tenant: Option<String>,
    /// Region: eu, us, or another DNS label.
    #[arg(long, env = "TECHWOLF_REGION", value_parser = parse_label("region"), help_heading = "Connection")]
    pub region: Option<String>,
    /// Full API base URL, overriding tenant and region (https://, or http:// to loopback).
    #[arg(long, env = "TECHWOLF_BASE_URL", value_parser = parse_url, help_heading = "Connection")]
    pub base_url: Option<String>,
    /// OAuth2 token endpoint (default: by region).
    #[arg(long, env = "TECHWOLF_TOKEN_URL", value_parser = parse_url, help_heading = "Connection")]
    pub token_url: Option<String>,
    /// OAuth2 audience (default: by region).
    #[arg(long, env = "TECHWOLF_AUDIENCE", help_heading = "Connection")]
    pub audience: Option<String>,
    /// Send X-API-Version: DATE (YYYY-MM-DD) to override the tenant's pinned API version.
    #[arg(long, value_parser = parse_api_version, help_heading = "Connection")]
    pub api_version: Option<String>,
    /// Read the client secret from this file instead of TECHWOLF_CLIENT_SECRET.
    #[arg(long, value_name = "PATH", help_heading = "Connection")]
    pub client_secret_file: Option<PathBuf>,
    /// Timeout of one request, in seconds.
    #[arg(long, default_value_t = 120, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600), help_heading = "Connection")]
    pub timeout: u64,
    /// Attempts per request before giving up (1 disables retries).
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20), help_heading = "Connection")]
    pub max_attempts: u32,
    /// Export from a built-in sandbox started in this process (no credentials needed).
    #[arg(long, conflicts_with_all = ["base_url", "tenant", "region", "token_url"], help_heading = "Connection")]
    pub sandbox: bool,
    /// Employees in the --sandbox tenant.
    #[arg(
        long,
        default_value_t = 1000,
        value_name = "N",
        requires = "sandbox",
        help_heading = "Connection"
    )]
    pub sandbox_employees: u32,

    // Request
    /// Page size, 1 to 100.
    #[arg(long, default_value = "100", value_parser = parse_limit, help_heading = "Request")]
    pub limit: PageLimit,
    /// Optional lists to include, comma-separated.
    #[arg(
        long,
        value_name = "LIST",
        default_value = "current_skills,related_skills,rejected_skills,sources",
        value_parser = parse_includes,
        help_heading = "Request"
    )]
    pub include: IncludeList,
    /// Only active employees.
    #[arg(long, conflicts_with = "inactive_only", help_heading = "Request")]
    pub active_only: bool,
    /// Only inactive employees.
    #[arg(long, help_heading = "Request")]
    pub inactive_only: bool,
    /// Only employees updated after DATE (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_date, help_heading = "Request")]
    pub updated_after: Option<String>,
    /// Only employees updated before DATE (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_date, help_heading = "Request")]
    pub updated_before: Option<String>,
    /// Start after this cursor (a next_starting_after from an earlier run).
    #[arg(long, value_name = "CURSOR", value_parser = parse_cursor, conflicts_with = "resume", help_heading = "Request")]
    pub starting_after: Option<String>,
    /// Stop after N records.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Request")]
    pub max_records: Option<u64>,

    // Output
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Jsonl, help_heading = "Output")]
    pub format: FormatArg,
    /// Write to PATH (atomically, resumable) instead of stdout; - is stdout.
    #[arg(short, long, value_name = "PATH", help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// CSV dialect.
    #[arg(long, value_enum, default_value_t = DialectArg::Techwolf, help_heading = "Output")]
    pub csv_dialect: DialectArg,
    /// Continue an interrupted export to --output from its checkpoint.
    #[arg(long, requires = "output", help_heading = "Output")]
    pub resume: bool,
    /// No progress display.
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,
    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, help_heading = "Output")]
    pub verbose: u8,
}

/// `tw-export sandbox`.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Employees in the synthetic tenant.
    #[arg(long, default_value_t = 1000)]
    pub employees: u32,
    /// Seed of the synthetic tenant (same seed, same data).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Lifetime of issued tokens, in seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECS")]
    pub token_lifetime: u64,
    /// Every K-th export request: 429 Too Many Requests with Retry-After.
    #[arg(long, value_name = "K", help_heading = "Faults")]
    pub rate_limit_every: Option<u32>,
    /// The Retry-After of rate-limited answers, in seconds.
    #[arg(
        long,
        default_value_t = 1,
        value_name = "SECS",
        help_heading = "Faults"
    )]
    pub retry_after: u64,
    /// Every K-th export request: 503.
    #[arg(long, value_name = "K", help_heading = "Faults")]
    pub server_error_every: Option<u32>,
    /// Every K-th export request: 401, as if the token expired.
    #[arg(long, value_name = "K", help_heading = "Faults")]
    pub unauthorized_every: Option<u32>,
    /// Every K-th export request: close the connection without a response.
    #[arg(long, value_name = "K", help_heading = "Faults")]
    pub close_every: Option<u32>,
    /// Every K-th export request: cut the body off half-way.
    #[arg(long, value_name = "K", help_heading = "Faults")]
    pub cut_body_every: Option<u32>,
    /// Every K-th export request: answer after --slow-ms.
    #[arg(long, value_name = "K", help_heading = "Faults")]
    pub slow_every: Option<u32>,
    /// Delay of slow answers, in milliseconds.
    #[arg(
        long,
        default_value_t = 2000,
        value_name = "MS",
        help_heading = "Faults"
    )]
    pub slow_ms: u64,
    /// Latency added to every export answer, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS", help_heading = "Faults")]
    pub latency_ms: u64,
    /// Protocol violation: every page returns the same cursor.
    #[arg(long, help_heading = "Faults")]
    pub repeat_cursor: bool,
    /// Protocol violation: has_next without a cursor.
    #[arg(long, help_heading = "Faults")]
    pub missing_cursor: bool,
    /// Protocol violation: this many empty pages with has_next after each page.
    #[arg(long, default_value_t = 0, value_name = "N", help_heading = "Faults")]
    pub empty_pages: u32,
}

/// A validated, de-duplicated `--include` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludeList(pub Vec<Include>);

fn parse_label(what: &'static str) -> impl Fn(&str) -> Result<String, String> + Clone {
    move |value: &str| {
        let check = if what == "tenant" {
            tw_transport::BaseUrl::for_tenant(value, "eu")
        } else {
            tw_transport::BaseUrl::for_tenant("tenant", value)
        };
        accept(value, check)
    }
}

/// `value` when `check` passed, else the check's message (for clap).
fn accept<T, E: std::fmt::Display>(value: &str, check: Result<T, E>) -> Result<String, String> {
    check
        .map(|_| value.to_owned())
        .map_err(|err| err.to_string())
}

fn parse_url(value: &str) -> Result<String, String> {
    accept(value, tw_transport::BaseUrl::parse(value))
}

fn parse_api_version(value: &str) -> Result<String, String> {
    accept(value, tw_transport::check_api_version(value))
}

fn parse_limit(value: &str) -> Result<PageLimit, String> {
    let n: i64 = value
        .parse()
        .map_err(|_| format!("invalid limit {value:?}: expected a whole number from 1 to 100"))?;
    PageLimit::new(n).map_err(|err| err.to_string())
}

fn parse_includes(value: &str) -> Result<IncludeList, String> {
    let mut list = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let include = Include::from(part);
        if !include.is_known() {
            return Err(format!(
                "unknown include {part:?}; allowed: {}",
                Include::KNOWN.join(", ")
            ));
        }
        if !list.contains(&include) {
            list.push(include);
        }
    }
    Ok(IncludeList(list))
}

fn parse_date(value: &str) -> Result<String, String> {
    accept(value, Filter::updated_after(value))
}

fn parse_cursor(value: &str) -> Result<String, String> {
    accept(value, tw_model::Cursor::new(value))
}

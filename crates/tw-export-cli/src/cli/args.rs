//! Command-line arguments (clap). Names are part of the contract.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tw_export::Cursor;
use tw_model::skill_profiles::{ExternalVendor, ProfileQuery, ResponseFormat, SortedBody};
use tw_model::{
    Dataset, Date, Filter, FilteredBody, FiltersOnly, NoBody, NoQuery, SkillClusters,
    SkillProfiles, ai_goals, job_market_alignment, job_market_skill_profiles, job_skill_profiles,
    job_suggestions, job_task_profiles, org_units, position_matches, skill_clusters,
    skill_profiles, skills, task_profiles,
};
use tw_sandbox::Faults;

/// Export skills data from the TechWolf Skill Engine API.
#[derive(Debug, Parser)]
#[command(
    name = "tw-export",
    version,
    term_width = 100,
    propagate_version = true
)]
#[command(after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// stderr as text, or as JSON lines (timestamp, level, message, fields) for log shippers; json draws no progress.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, help_heading = "Output")]
    pub log_format: LogFormat,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands: one per dataset, and the sandbox.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Export every employee's skill clusters (POST /export/employees/skill_clusters).
    SkillClusters(Box<ExportArgs<SkillClustersArgs>>),
    /// Export every employee's skill profile (POST /export/employees/skill_profiles).
    SkillProfiles(Box<ExportArgs<SkillProfilesArgs>>),
    /// Export every employee's task profile (POST /export/employees/task_profiles, experimental).
    TaskProfiles(Box<ExportArgs<TaskProfilesArgs>>),
    /// Export every employee's AI-generated goals (POST /export/employees/ai_goals).
    AiGoals(Box<ExportArgs<AiGoalsArgs>>),
    /// Export every employee's match with their assigned position (POST /export/employees/match_assigned_position).
    PositionMatches(Box<ExportArgs<PositionMatchesArgs>>),
    /// Export the skill vocabulary and the tenant's taxonomy (POST /export/skills).
    Skills(Box<ExportArgs<SkillsArgs>>),
    /// Export the organisational tree with employee counts (GET /organisational_units/export).
    ///
    /// JSON Lines holds one root unit per line with its subtree as sent; JSON the response
    /// document; CSV one row per unit with parent_external_id, depth and path.
    OrgUnits(Box<ExportArgs<OrgUnitsArgs>>),
    /// Export every job's skill profile (POST /job_architecture/export/jobs/skill_profiles).
    JobSkillProfiles(Box<ExportArgs<JobSkillProfilesArgs>>),
    /// Export every job's task profile (POST /job_architecture/export/jobs/task_profiles, experimental).
    JobTaskProfiles(Box<ExportArgs<JobTaskProfilesArgs>>),
    /// Export job-architecture suggestions and their review state (POST /job_architecture/export/suggestions).
    JobSuggestions(Box<ExportArgs<JobSuggestionsArgs>>),
    /// Export every job's market skill profiles per peer group (POST /job_architecture/export/jobs/market_skill_profiles).
    JobMarketSkillProfiles(Box<ExportArgs<JobMarketSkillProfilesArgs>>),
    /// Export every job's alignment with each peer group's market profile (POST /job_architecture/export/jobs/market_alignment).
    JobMarketAlignment(Box<ExportArgs<JobMarketAlignmentArgs>>),
    /// Export every dataset (or --datasets) into a directory, with a manifest.
    All(Box<crate::cli::all::AllArgs>),
    /// Run the built-in fake TechWolf API in the foreground.
    #[command(
        after_help = "Examples:\n  tw-export sandbox --port 8080 --employees 100000\n  \
tw-export sandbox --port 0 --rate-limit-every 10 --latency-ms 20 --forbid /export/skills"
    )]
    Sandbox(SandboxArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(
        after_help = "Example: tw-export completions bash > ~/.local/share/bash-completion/completions/tw-export"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) of tw-export.
    #[command(after_help = "Example: tw-export man > ~/.local/share/man/man1/tw-export.1")]
    Man,
}

impl Command {
    /// Runs the subcommand, after `init_logging` with its verbosity (`-v`
    /// count; the sandbox logs at info).
    pub(crate) fn run(&self, init_logging: impl FnOnce(u8)) -> anyhow::Result<()> {
        match self {
            Command::SkillClusters(args) => export(args, init_logging),
            Command::SkillProfiles(args) => export(args, init_logging),
            Command::TaskProfiles(args) => export(args, init_logging),
            Command::AiGoals(args) => export(args, init_logging),
            Command::PositionMatches(args) => export(args, init_logging),
            Command::Skills(args) => export(args, init_logging),
            Command::OrgUnits(args) => export(args, init_logging),
            Command::JobSkillProfiles(args) => export(args, init_logging),
            Command::JobTaskProfiles(args) => export(args, init_logging),
            Command::JobSuggestions(args) => export(args, init_logging),
            Command::JobMarketSkillProfiles(args) => export(args, init_logging),
            Command::JobMarketAlignment(args) => export(args, init_logging),
            Command::All(args) => {
                init_logging(args.verbose);
                crate::cli::signals::install()?;
                crate::cli::all::run(args)
            }
            Command::Sandbox(args) => {
                init_logging(1);
                crate::cli::sandbox::run(args)
            }
            Command::Completions { shell } => {
                use std::io::Write as _;
                let mut command = command();
                // Into memory first: the generator panics on a closed pipe.
                let mut script = Vec::new();
                clap_complete::generate(*shell, &mut command, "tw-export", &mut script);
                std::io::stdout().write_all(&script)?;
                Ok(())
            }
            Command::Man => {
                use std::io::Write as _;
                let mut page = Vec::new();
                clap_mangen::Man::new(command()).render(&mut page)?;
                std::io::stdout().write_all(&page)?;
                Ok(())
            }
        }
    }
}

fn export<A: DatasetArgs>(
    args: &ExportArgs<A>,
    init_logging: impl FnOnce(u8),
) -> anyhow::Result<()> {
    init_logging(args.output.verbose);
    crate::cli::signals::install()?;
    crate::cli::export::run(args)
}

/// The flags of one dataset: each dataset declares only its own, and says
/// how they become the request's body and query.
pub(crate) trait DatasetArgs: Args + std::fmt::Debug {
    /// The dataset.
    type D: Dataset;
    /// Two or three example command lines, for `--help`.
    const EXAMPLES: &'static [&'static str];
    /// The body and query these flags ask for; `Err` is a usage error.
    fn build(&self) -> Result<Built<Self::D>, String>;

    /// The body's filters, for `--filter`; `None` when the export takes
    /// none (then `--filter` is a usage error).
    fn filters_mut(body: &mut <Self::D as Dataset>::Body) -> Option<&mut Vec<Filter>>;

    /// Whether these flags include `--<long>` (what `all` and `--state`
    /// may pass on to this dataset).
    fn takes(long: &str) -> bool {
        Self::augment_args(clap::Command::new("dataset"))
            .get_arguments()
            .any(|arg| arg.get_long() == Some(long))
    }

    /// These flags as parsed from `args` (flag names and values, without
    /// the subcommand): the defaults, plus what `args` sets.
    fn parse_from(args: &[String]) -> Result<Self, clap::Error>
    where
        Self: Sized,
    {
        let command = Self::augment_args(clap::Command::new(Self::D::NAME).no_binary_name(true));
        Self::from_arg_matches(&command.try_get_matches_from(args)?)
    }
}

/// A dataset's body and query.
pub(crate) type Built<D> = (<D as Dataset>::Body, <D as Dataset>::Query);

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FormatArg {
    /// One JSON object per line.
    Jsonl,
    /// One JSON array.
    Json,
    /// One row per table row of the dataset (see README).
    Csv,
    /// The CSV table with typed columns, for warehouses (needs a file).
    Parquet,
}

/// CSV dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DialectArg {
    /// CRLF, every field quoted, formula guard (as TechWolf's own files).
    Techwolf,
    /// Minimal quoting, LF, values unchanged.
    Rfc4180,
}

/// The exit codes, in every `--help`.
pub(crate) const EXIT_CODES: &str = "Exit codes: 0 success, 2 invalid arguments or input, \
3 authentication failed, 4 the API failed after retries or broke the pagination protocol, \
5 local I/O error.";

/// Where credentials come from, in every export's `--help`.
const CREDENTIALS: &str = "Credentials come from the environment, never from flags: \
TECHWOLF_TOKEN (a bearer token), or TECHWOLF_CLIENT_ID with TECHWOLF_CLIENT_SECRET (or \
--client-secret-file).";

/// The command line: [`Cli`]'s, with each export subcommand's examples,
/// where credentials come from and the exit codes after its help.
pub(crate) fn command() -> clap::Command {
    use clap::CommandFactory as _;
    let mut command = Cli::command();
    for (name, examples) in crate::cli::all::examples() {
        let mut text = String::from("Examples:\n");
        for example in examples {
            text.push_str("  ");
            text.push_str(example);
            text.push('\n');
        }
        text.push('\n');
        text.push_str(CREDENTIALS);
        text.push_str("\n\n");
        text.push_str(EXIT_CODES);
        command = command.mut_subcommand(name, |sub| sub.after_help(text));
    }
    for name in ["all", "sandbox", "completions", "man"] {
        command = command.mut_subcommand(name, |sub| {
            let before = sub.get_after_help().map(ToString::to_string);
            let text = match before {
                Some(before) => format!("{before}\n\n{EXIT_CODES}"),
                None => EXIT_CODES.to_owned(),
            };
            sub.after_help(text)
        });
    }
    command
}

/// A dataset subcommand: the common flag groups, declared once, and the
/// dataset's own flags.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs<A: DatasetArgs> {
    /// Where the API is and how to log in.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Page size, start and stop.
    #[command(flatten)]
    pub paging: PagingArgs,
    /// The dataset's own flags.
    #[command(flatten)]
    pub dataset: A,
    /// Parameters the model does not know.
    #[command(flatten)]
    pub extra: ExtraArgs,
    /// Format and destination.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Escape hatches: what the model does not know yet, sent as given.
#[derive(Debug, Args)]
pub(crate) struct ExtraArgs {
    /// Another filter object, sent as given (repeatable), e.g. '{"filter":"x","ids":["a"]}'.
    #[arg(long = "filter", value_name = "JSON", value_parser = parse_filter, help_heading = "Request")]
    pub filters: Vec<Filter>,
    /// Another query parameter, sent as given (repeatable), e.g. vocab_language=de.
    #[arg(long = "query", value_name = "KEY=VALUE", value_parser = parse_query, help_heading = "Request")]
    pub query: Vec<(String, String)>,
}

/// Where the API is and how to log in.
#[derive(Debug, Args)]
pub(crate) struct ConnectionArgs {
    /// Tenant name, as TechWolf issued it.
    #[arg(long, env = tw_export::env::TENANT, value_parser = parse_label("tenant"), help_heading = "Connection")]
    pub tenant: Option<String>,
    /// Region: eu, us, or another DNS label.
    #[arg(long, env = tw_export::env::REGION, value_parser = parse_label("region"), help_heading = "Connection")]
    pub region: Option<String>,
    /// Full API base URL, overriding tenant and region (https://, or http:// to loopback).
    #[arg(long, env = tw_export::env::BASE_URL, value_parser = parse_url, help_heading = "Connection")]
    pub base_url: Option<String>,
    /// OAuth2 token endpoint (default: by region).
    #[arg(long, env = tw_export::env::TOKEN_URL, value_parser = parse_url, help_heading = "Connection")]
    pub token_url: Option<String>,
    /// OAuth2 audience (default: by region).
    #[arg(long, env = tw_export::env::AUDIENCE, help_heading = "Connection")]
    pub audience: Option<String>,
    /// Send X-API-Version: DATE (YYYY-MM-DD) to override the tenant's pinned API version.
    #[arg(long, value_name = "DATE", value_parser = parse_date, help_heading = "Connection")]
    pub api_version: Option<Date>,
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
}

/// Page size, start and stop.
#[derive(Debug, Args)]
pub(crate) struct PagingArgs {
    /// Page size, from 1 to the dataset's largest (100 for most, 1000 for skills) [default: 100].
    #[arg(long, value_name = "N", value_parser = parse_limit, help_heading = "Request")]
    pub limit: Option<u32>,
    /// Start after this cursor (a next_starting_after from an earlier run).
    #[arg(long, value_name = "CURSOR", value_parser = parse_cursor, conflicts_with = "resume", help_heading = "Request")]
    pub starting_after: Option<Cursor>,
    /// Stop after N records.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Request")]
    pub max_records: Option<u64>,
}

/// Format and destination.
#[derive(Debug, Args)]
pub(crate) struct OutputArgs {
    /// Output format [default: from the file name (.jsonl, .json, .csv), else jsonl].
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<FormatArg>,
    /// Write to PATH (atomically, resumable) instead of stdout; - is stdout.
    #[arg(short, long, value_name = "PATH", help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// CSV dialect [default: techwolf].
    #[arg(long, value_enum, help_heading = "Output")]
    pub csv_dialect: Option<DialectArg>,
    /// Start a CSV with a UTF-8 byte order mark (for Excel on Windows).
    #[arg(long, help_heading = "Output")]
    pub bom: bool,
    /// Continue an interrupted export to --output from its checkpoint.
    #[arg(long, requires = "output", help_heading = "Output")]
    pub resume: bool,
    /// Incremental: only records updated since this dataset's last successful run recorded in FILE (less a day), and record this run there.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub state: Option<PathBuf>,
    /// Write a JSON report of the run to FILE, success or not: counts, bytes, sha256, request, unknown fields, exit code, error.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub stats: Option<PathBuf>,
    /// No progress display and no summary (warnings and errors still print).
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,
    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, help_heading = "Output")]
    pub verbose: u8,
}

/// The `last_updated` filter.
#[derive(Debug, Args)]
pub(crate) struct UpdatedArgs {
    /// Only records updated after DATE (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_date, help_heading = "Request")]
    pub updated_after: Option<Date>,
    /// Only records updated before DATE (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_date, help_heading = "Request")]
    pub updated_before: Option<Date>,
}

impl UpdatedArgs {
    /// The filters these flags ask for.
    pub(crate) fn filters(&self) -> Result<Vec<Filter>, String> {
        if let (Some(after), Some(before)) = (self.updated_after, self.updated_before)
            && after >= before
        {
            return Err(format!(
                "--updated-after {after} is not before --updated-before {before}: no record can match"
            ));
        }
        let mut filters = Vec::new();
        filters.extend(self.updated_after.map(Filter::updated_after));
        filters.extend(self.updated_before.map(Filter::updated_before));
        Ok(filters)
    }
}

/// The employee filters: `is_active` and `last_updated`.
#[derive(Debug, Args)]
pub(crate) struct EmployeeFilterArgs {
    /// Only active employees.
    #[arg(long, conflicts_with = "inactive_only", help_heading = "Request")]
    pub active_only: bool,
    /// Only inactive employees.
    #[arg(long, help_heading = "Request")]
    pub inactive_only: bool,
    /// The `last_updated` filter.
    #[command(flatten)]
    pub updated: UpdatedArgs,
}

impl EmployeeFilterArgs {
    /// The filters these flags ask for.
    pub(crate) fn filters(&self) -> Result<Vec<Filter>, String> {
        let mut filters = Vec::new();
        if self.active_only || self.inactive_only {
            filters.push(Filter::is_active(self.active_only));
        }
        filters.extend(self.updated.filters()?);
        Ok(filters)
    }
}

/// The job filters: `last_updated` and `job_family_id_is_in_list`.
#[derive(Debug, Args)]
pub(crate) struct JobFilterArgs {
    /// The `last_updated` filter.
    #[command(flatten)]
    pub updated: UpdatedArgs,
    /// Only jobs of these job families (comma-separated ids).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        help_heading = "Request"
    )]
    pub job_family_ids: Vec<String>,
}

impl JobFilterArgs {
    /// The filters these flags ask for.
    pub(crate) fn filters(&self) -> Result<Vec<Filter>, String> {
        let mut filters = self.updated.filters()?;
        filters.extend(list_values(&self.job_family_ids).map(Filter::job_family_ids));
        Ok(filters)
    }
}

/// The non-blank values of a comma-separated list flag, trimmed; `None`
/// when there are none (then the filter is not sent).
fn list_values(values: &[String]) -> Option<Vec<&str>> {
    let values: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    (!values.is_empty()).then_some(values)
}

/// `tw-export skill-clusters`'s own flags.
#[derive(Debug, Args)]
pub(crate) struct SkillClustersArgs {
    /// Optional lists to include, comma-separated.
    #[arg(
        long,
        value_name = "LIST",
        default_value = "current_skills,related_skills,rejected_skills,sources",
        value_parser = parse_includes::<skill_clusters::Include>,
        help_heading = "Request"
    )]
    pub include: IncludeList<skill_clusters::Include>,
    /// Employee filters.
    #[command(flatten)]
    pub filters: EmployeeFilterArgs,
}

impl DatasetArgs for SkillClustersArgs {
    type D = SkillClusters;

    const EXAMPLES: &'static [&'static str] = &[
        "tw-export skill-clusters --sandbox --active-only --updated-after 2024-01-01 -o clusters.jsonl",
        "tw-export skill-clusters --tenant acme --region eu --state state.json --format csv -o clusters.csv",
    ];

    fn filters_mut(body: &mut skill_clusters::Body) -> Option<&mut Vec<Filter>> {
        Some(&mut body.filters)
    }

    fn build(&self) -> Result<Built<SkillClusters>, String> {
        let body = skill_clusters::Body {
            filters: self.filters.filters()?,
            include: self.include.0.clone(),
            ..Default::default()
        };
        Ok((body, NoQuery {}))
    }
}

/// Skill orderings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SortArg {
    /// By skill name.
    Alphabetical,
    /// By decreasing confidence.
    Confidence,
}

/// Profile response formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ResponseFormatArg {
    /// A flat list of skills per employee (the documented shape).
    List,
    /// A hierarchy (its shape is not documented; records are kept as sent).
    Hierarchy,
}

/// `tw-export skill-profiles`'s own flags.
#[derive(Debug, Args)]
pub(crate) struct SkillProfilesArgs {
    /// Optional parts to include, comma-separated (also: seniority).
    #[arg(
        long,
        value_name = "LIST",
        default_value = "skill_validation_state,sources,rejected_skills,low_data_availability_flag",
        value_parser = parse_includes::<skill_profiles::Include>,
        help_heading = "Request"
    )]
    pub include: IncludeList<skill_profiles::Include>,
    /// Employee filters.
    #[command(flatten)]
    pub filters: EmployeeFilterArgs,
    /// The order of each employee's skills (default: the API's).
    #[arg(long, value_enum, help_heading = "Request")]
    pub sort: Option<SortArg>,
    /// Query parameters.
    #[command(flatten)]
    pub query: ProfileQueryArgs,
}

impl DatasetArgs for SkillProfilesArgs {
    type D = SkillProfiles;

    const EXAMPLES: &'static [&'static str] = &[
        "tw-export skill-profiles --sandbox --sort confidence --format csv -o profiles.csv",
        "tw-export skill-profiles --tenant acme --region eu --active-only -o profiles.jsonl",
    ];

    fn filters_mut(body: &mut skill_profiles::Body) -> Option<&mut Vec<Filter>> {
        Some(&mut body.filters)
    }

    fn build(&self) -> Result<Built<SkillProfiles>, String> {
        let body = skill_profiles::Body {
            filters: self.filters.filters()?,
            include: self.include.0.clone(),
            output_skills_sorting: self.sort.map(SortArg::sorting),
            ..Default::default()
        };
        Ok((body, self.query.query()))
    }
}

/// `--response-format` and `--external-vendor`, as the profile exports
/// take them.
#[derive(Debug, Args)]
pub(crate) struct ProfileQueryArgs {
    /// The record shape (query parameter response_format; default: the API's, list).
    #[arg(long, value_enum, help_heading = "Request")]
    pub response_format: Option<ResponseFormatArg>,
    /// The skill vocabulary (query parameter external_vendor): techwolf, workday, sap_attribute_library.
    #[arg(long, value_name = "VENDOR", value_parser = parse_vendor, help_heading = "Request")]
    pub external_vendor: Option<ExternalVendor>,
}

impl ProfileQueryArgs {
    fn query(&self) -> ProfileQuery {
        ProfileQuery {
            response_format: self.response_format.map(|format| match format {
                ResponseFormatArg::List => ResponseFormat::List,
                ResponseFormatArg::Hierarchy => ResponseFormat::Hierarchy,
            }),
            external_vendor: self.external_vendor.clone(),
        }
    }
}

/// `tw-export task-profiles`'s own flags.
#[derive(Debug, Args)]
pub(crate) struct TaskProfilesArgs {
    /// Optional parts to include, comma-separated.
    #[arg(
        long,
        value_name = "LIST",
        default_value = "ai_impact,source_events,weekly_hours,linked_skills,rejected_tasks",
        value_parser = parse_includes::<task_profiles::Include>,
        help_heading = "Request"
    )]
    pub include: IncludeList<task_profiles::Include>,
    /// Employee filters.
    #[command(flatten)]
    pub filters: EmployeeFilterArgs,
    /// Query parameters.
    #[command(flatten)]
    pub query: ProfileQueryArgs,
}

impl DatasetArgs for TaskProfilesArgs {
    type D = task_profiles::TaskProfiles;

    const EXAMPLES: &'static [&'static str] = &[
        "tw-export task-profiles --sandbox --include ai_impact,weekly_hours --format csv -o tasks.csv",
        "tw-export task-profiles --tenant acme --region eu --updated-after 2026-01-01 -o tasks.jsonl",
    ];

    fn filters_mut(body: &mut FilteredBody<task_profiles::Include>) -> Option<&mut Vec<Filter>> {
        Some(&mut body.filters)
    }

    fn build(&self) -> Result<Built<task_profiles::TaskProfiles>, String> {
        let body = FilteredBody {
            filters: self.filters.filters()?,
            include: self.include.0.clone(),
            ..Default::default()
        };
        Ok((body, self.query.query()))
    }
}

/// `tw-export ai-goals`'s own flags.
#[derive(Debug, Args)]
pub(crate) struct AiGoalsArgs {
    /// Employee filters.
    #[command(flatten)]
    pub filters: EmployeeFilterArgs,
    /// The skill vocabulary (query parameter external_vendor): techwolf, workday, sap_attribute_library.
    #[arg(long, value_name = "VENDOR", value_parser = parse_vendor, help_heading = "Request")]
    pub external_vendor: Option<ExternalVendor>,
    /// Which versions of each goal (query parameter versions; only latest is documented).
    #[arg(long, value_name = "V", value_parser = parse_versions, help_heading = "Request")]
    pub versions: Option<ai_goals::Versions>,
}

impl DatasetArgs for AiGoalsArgs {
    type D = ai_goals::AiGoals;

    const EXAMPLES: &'static [&'static str] = &[
        "tw-export ai-goals --sandbox --active-only --format csv -o goals.csv",
        "tw-export ai-goals --tenant acme --region eu --versions latest -o goals.jsonl",
    ];

    fn filters_mut(body: &mut FiltersOnly) -> Option<&mut Vec<Filter>> {
        Some(&mut body.filters)
    }

    fn build(&self) -> Result<Built<ai_goals::AiGoals>, String> {
        let body = FiltersOnly {
            filters: self.filters.filters()?,
            ..Default::default()
        };
        let query = ai_goals::Query {
            external_vendor: self.external_vendor.clone(),
            versions: self.versions.clone(),
        };
        Ok((body, query))
    }
}

/// Match response formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MatchFormatArg {
    /// Employee, job and score.
    Simple,
    /// With an explanation (its shape is not documented; records are kept as sent).
    Explained,
}

/// `tw-export position-matches`'s own flags.
#[derive(Debug, Args)]
pub(crate) struct PositionMatchesArgs {
    /// Employee filters.
    #[command(flatten)]
    pub filters: EmployeeFilterArgs,
    /// The record shape (query parameter response_format; default: the API's, simple).
    #[arg(long, value_enum, help_heading = "Request")]
    pub response_format: Option<MatchFormatArg>,
    /// The skill vocabulary (query parameter external_vendor): workday, sap_attribute_library.
    #[arg(long, value_name = "VENDOR", value_parser = parse_vendor, help_heading = "Request")]
    pub external_vendor: Option<ExternalVendor>,
}

impl DatasetArgs for PositionMatchesArgs {
    type D = position_matches::PositionMatches;

    const EXAMPLES: &'static [&'static str] = &[
        "tw-export position-matches --sandbox --active-only --format csv -o matches.csv",
        "tw-export position-matches --tenant acme --region eu --response-format simple -o matches.jsonl",
    ];

    fn filters_mut(body: &mut FiltersOnly) -> Option<&mut Vec<Filter>> {
        Some(&mut body.filters)
    }

    fn build(&self) -> Result<Built<position_matches::PositionMatches>, String> {
        let body = FiltersOnly {
            filters: self.filters.filters()?,
            ..Default::default()
        };
        let query = position_matches::Query {
            response_format: self.response_format.map(MatchFormatArg::format),
            external_vendor: self.external_vendor.clone(),
        };
        Ok((body, query))
    }
}

/// `tw-export job-skill-profiles`'s own flags.
#[derive(Debug, Args)]
pub(crate) struct JobSkillProfilesArgs {
    /// Optional parts to include, comma-separated (also: skill_validation_state).
    #[arg(
        long,
        value_name = "LIST",
        default_value = "low_data_availability_flag,proficiency_level,proficiency_float,critical",
        value_parser = parse_includes::<job_skill_profiles::Include>,
        help_heading = "Request"
    )]
    pub include: IncludeList<job_skill_profiles::Include>,
    /// Job filters.
    #[command(flatten)]
    pub filters: JobFilterArgs,
    /// The order of each job's skills (default: the API's).
    #[arg(long, value_enum, help_heading = "Request")]
    pub sort: Option<SortArg>,
}

impl SortArg {
    fn sorting(self) -> skill_profiles::Sorting {
        match self {
            SortArg::Alphabetical => skill_profiles::Sorting::Alphabetical,
            SortArg::Confidence => skill_profiles::Sorting::Confidence,
        }
    }
}

impl DatasetArgs for JobSkillProfilesArgs {
    type D = job_skill_profiles::JobSkillProfiles;

    const EXAMPLES: &'static [&'static str] = &[
        "tw-export job-skill-profiles --sandbox --job-family-ids jf_finance --format csv -o job-skills.csv",
        "tw-export job-skill-profiles --tenant acme --region eu --sort confidence -o job-skills.jsonl",
    ];

    fn filters_mut(body: &mut SortedBody<job_skill_profiles::Include>) -> Option<&mut Vec<Filter>> {
        Some(&mut body.filters)
    }

    fn build(&self) -> Result<Built<job_skill_profiles::JobSkillProfiles>, String> {
        let body = SortedBody {
            filters: self.filters.filters()?,
            include: self.include.0.clone(),
            output_skills_sorting: self.sort.map(SortArg::sorting),
            ..Default::default()
        };
        Ok((body, NoQuery {}))
    }
}

/// `tw-export job-task-profiles`'s own flags.
#[derive(Debug, Args)]
pub(crate) struct JobTaskProfilesArgs {
    /// Optional parts to include, comma-separated.
    #[arg(
        long,
        value_name = "LIST",
        default_value = "ai_impact,source_data,weekly_hours,linked_skills,rejected_tasks",
        value_parser = parse_includes::<job_task_profiles::Include>,
        help_heading = "Request"
    )]
    pub include: IncludeList<job_task_profiles::Include>,
    /// Job filters.
    #[command(flatten)]
    pub filters: JobFilterArgs,
    /// Query parameters.
    #[command(flatten)]
    pub query: ProfileQueryArgs,
}

impl DatasetArgs for JobTaskProfilesArgs {
    type D = job_task_profiles::JobTaskProfiles;

    const EXAMPLES: &'static [&'static str] = &[
        "tw-export job-task-profiles --sandbox --job-family-ids jf_data --format csv -o job-tasks.csv",
        "tw-export job-task-profiles --tenant acme --region eu --updated-after 2026-01-01 -o job-tasks.jsonl",
    ];

    fn filters_mut(
        body: &mut FilteredBody<job_task_profiles::Include>,
    ) -> Option<&mut Vec<Filter>> {
        Some(&mut body.filters)
    }

    fn build(&self) -> Result<Built<job_task_profiles::JobTaskProfiles>, String> {
        let body = FilteredBody {
            filters: self.filters.filters()?,
            include: self.include.0.clone(),
            ..Default::default()
        };
        Ok((body, self.query.query()))
    }
}

/// Suggestion formats (in the body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SuggestionFormatArg {
    /// One record per suggestion.
    List,
    /// Grouped per job (shape not documented; records are kept as sent).
    Grouped,
}

/// Suggestion categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CategoryArg {
    /// Suggestions about job skills.
    Skills,
    /// Suggestions about job tasks.
    Tasks,
}

/// `tw-export job-suggestions`'s own flags.
#[derive(Debug, Args)]
pub(crate) struct JobSuggestionsArgs {
    /// Only suggestions in these review states (comma-separated: suggested, accepted, rejected).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        help_heading = "Request"
    )]
    pub states: Vec<String>,
    /// Only suggestions about jobs of these job families (comma-separated ids).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        help_heading = "Request"
    )]
    pub job_family_ids: Vec<String>,
    /// The record shape (response_format, sent in the body; default: the API's, list).
    #[arg(long, value_enum, help_heading = "Request")]
    pub response_format: Option<SuggestionFormatArg>,
    /// Skill or task suggestions (query parameter category; default: the API's, skills).
    #[arg(long, value_enum, help_heading = "Request")]
    pub category: Option<CategoryArg>,
    /// The skill vocabulary (query parameter external_vendor).
    #[arg(long, value_name = "VENDOR", value_parser = parse_vendor, help_heading = "Request")]
    pub external_vendor: Option<ExternalVendor>,
}

impl DatasetArgs for JobSuggestionsArgs {
    type D = job_suggestions::JobSuggestions;

    const EXAMPLES: &'static [&'static str] = &[
        "tw-export job-suggestions --sandbox --states suggested --category tasks -o suggestions.jsonl",
        "tw-export job-suggestions --tenant acme --region eu --response-format list --format csv -o suggestions.csv",
    ];

    fn filters_mut(body: &mut job_suggestions::Body) -> Option<&mut Vec<Filter>> {
        Some(&mut body.filters)
    }

    fn build(&self) -> Result<Built<job_suggestions::JobSuggestions>, String> {
        let states = list_values(&self.states)
            .map(|states| {
                states
                    .into_iter()
                    .map(parse_state)
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .map(|states| Filter::states(states.iter().map(|state| state.as_str())));
        let filters = states
            .into_iter()
            .chain(list_values(&self.job_family_ids).map(Filter::job_family_ids))
            .collect();
        let body = job_suggestions::Body {
            filters,
            response_format: self.response_format.map(|format| match format {
                SuggestionFormatArg::List => job_suggestions::SuggestionFormat::List,
                SuggestionFormatArg::Grouped => job_suggestions::SuggestionFormat::Grouped,
            }),
            ..Default::default()
        };
        let query = job_suggestions::Query {
            category: self.category.map(|category| match category {
                CategoryArg::Skills => job_suggestions::Category::Skills,
                CategoryArg::Tasks => job_suggestions::Category::Tasks,
            }),
            external_vendor: self.external_vendor.clone(),
        };
        Ok((body, query))
    }
}

/// `tw-export job-market-skill-profiles`'s own flags.
#[derive(Debug, Args)]
pub(crate) struct JobMarketSkillProfilesArgs {
    /// Job filters.
    #[command(flatten)]
    pub filters: JobFilterArgs,
    /// The order of each peer group's skills (default: the API's).
    #[arg(long, value_enum, help_heading = "Request")]
    pub sort: Option<SortArg>,
    /// Query parameters.
    #[command(flatten)]
    pub query: ProfileQueryArgs,
}

impl DatasetArgs for JobMarketSkillProfilesArgs {
    type D = job_market_skill_profiles::JobMarketSkillProfiles;

    const EXAMPLES: &'static [&'static str] = &[
        "tw-export job-market-skill-profiles --sandbox --sort alphabetical --format csv -o market.csv",
        "tw-export job-market-skill-profiles --tenant acme --region eu --job-family-ids jf_data -o market.jsonl",
    ];

    fn filters_mut(body: &mut SortedBody<String>) -> Option<&mut Vec<Filter>> {
        Some(&mut body.filters)
    }

    fn build(&self) -> Result<Built<job_market_skill_profiles::JobMarketSkillProfiles>, String> {
        let body = SortedBody {
            filters: self.filters.filters()?,
            output_skills_sorting: self.sort.map(SortArg::sorting),
            ..Default::default()
        };
        Ok((body, self.query.query()))
    }
}

/// `tw-export job-market-alignment`'s own flags.
#[derive(Debug, Args)]
pub(crate) struct JobMarketAlignmentArgs {
    /// Job filters.
    #[command(flatten)]
    pub filters: JobFilterArgs,
    /// The record shape (query parameter response_format; default: the API's, simple).
    #[arg(long, value_enum, help_heading = "Request")]
    pub response_format: Option<MatchFormatArg>,
}

impl MatchFormatArg {
    fn format(self) -> position_matches::MatchFormat {
        match self {
            MatchFormatArg::Simple => position_matches::MatchFormat::Simple,
            MatchFormatArg::Explained => position_matches::MatchFormat::Explained,
        }
    }
}

impl DatasetArgs for JobMarketAlignmentArgs {
    type D = job_market_alignment::JobMarketAlignment;

    const EXAMPLES: &'static [&'static str] = &[
        "tw-export job-market-alignment --sandbox --job-family-ids jf_engineering --format csv -o alignment.csv",
        "tw-export job-market-alignment --tenant acme --region eu --response-format simple -o alignment.jsonl",
    ];

    fn filters_mut(body: &mut FiltersOnly) -> Option<&mut Vec<Filter>> {
        Some(&mut body.filters)
    }

    fn build(&self) -> Result<Built<job_market_alignment::JobMarketAlignment>, String> {
        let body = FiltersOnly {
            filters: self.filters.filters()?,
            ..Default::default()
        };
        let query = job_market_alignment::Query {
            response_format: self.response_format.map(MatchFormatArg::format),
        };
        Ok((body, query))
    }
}

/// `tw-export skills`'s own flags.
#[derive(Debug, Args)]
pub(crate) struct SkillsArgs {
    /// Extra skill attributes, comma-separated (query parameter include; the documented list is cut off, properties is inferred) [default: none].
    #[arg(
        long,
        value_name = "LIST",
        default_value = "",
        value_parser = parse_includes::<skills::Include>,
        help_heading = "Request"
    )]
    pub include: IncludeList<skills::Include>,
    /// Only skills from this source, e.g. vocabulary (filter skill_source).
    #[arg(long, value_name = "S", value_parser = parse_nonblank("--skill-source"), help_heading = "Request")]
    pub skill_source: Option<String>,
    /// Only these skills (comma-separated ids; filter skill_id_is_in_list).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        help_heading = "Request"
    )]
    pub skill_ids: Vec<String>,
    /// The language of names and descriptions (query parameter vocab_language): en, en_uk, en_us, de, fr, nl.
    #[arg(long, value_name = "L", value_parser = parse_language, help_heading = "Request")]
    pub vocab_language: Option<skills::VocabLanguage>,
    /// The skill vocabulary (query parameter external_vendor): workday, sap_attribute_library.
    #[arg(long, value_name = "VENDOR", value_parser = parse_vendor, help_heading = "Request")]
    pub external_vendor: Option<ExternalVendor>,
}

impl DatasetArgs for SkillsArgs {
    type D = skills::Skills;

    const EXAMPLES: &'static [&'static str] = &[
        "tw-export skills --sandbox --skill-source vocabulary --vocab-language de --limit 1000 --format csv -o skills.csv",
        "tw-export skills --tenant acme --region eu --skill-ids rust-lang,gaap --include properties -o skills.jsonl",
    ];

    fn filters_mut(body: &mut skills::Body) -> Option<&mut Vec<Filter>> {
        Some(&mut body.filters.filters)
    }

    fn build(&self) -> Result<Built<skills::Skills>, String> {
        let mut body = skills::Body::default();
        body.filters
            .filters
            .extend(self.skill_source.clone().map(Filter::skill_source));
        body.filters
            .filters
            .extend(list_values(&self.skill_ids).map(Filter::skill_ids));
        let query = skills::Query {
            vocab_language: self.vocab_language.clone(),
            external_vendor: self.external_vendor.clone(),
            include: self.include.0.clone(),
        };
        Ok((body, query))
    }
}

/// `tw-export org-units`'s own flags.
#[derive(Debug, Args)]
pub(crate) struct OrgUnitsArgs {
    /// Extra unit fields, comma-separated (query parameter include).
    #[arg(
        long,
        value_name = "LIST",
        default_value = "low_data_availability_flag",
        value_parser = parse_includes::<org_units::Include>,
        help_heading = "Request"
    )]
    pub include: IncludeList<org_units::Include>,
    /// Only units with employees who have this skill, counting only them (query parameter skill_id).
    #[arg(long, value_name = "ID", value_parser = parse_skill_id, help_heading = "Request")]
    pub skill_id: Option<String>,
}

impl DatasetArgs for OrgUnitsArgs {
    type D = org_units::OrgUnits;

    const EXAMPLES: &'static [&'static str] = &[
        "tw-export org-units --sandbox --skill-id rust-lang --format csv -o org-units.csv",
        "tw-export org-units --tenant acme --region eu --format json -o org-units.json",
    ];

    fn filters_mut(_: &mut NoBody) -> Option<&mut Vec<Filter>> {
        None
    }

    fn build(&self) -> Result<Built<org_units::OrgUnits>, String> {
        let query = org_units::Query {
            skill_id: self.skill_id.clone(),
            include: self.include.0.clone(),
        };
        Ok((NoBody {}, query))
    }
}

/// `tw-export sandbox`.
#[derive(Debug, Args)]
pub(crate) struct SandboxArgs {
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
    /// Add a field this release does not know (`sandbox_new_field`) to
    /// every object of every record, as on the day the API adds one.
    #[arg(long)]
    pub new_fields: bool,
    /// Faults to inject.
    #[command(flatten)]
    pub faults: Faults,
}

/// A validated, de-duplicated `--include` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IncludeList<I>(pub Vec<I>);

/// An open enum of include values, as `open_enum!` declares them.
pub(crate) trait KnownValues:
    for<'a> From<&'a str> + PartialEq + Clone + Send + Sync + 'static
{
    /// The values this release knows.
    const KNOWN: &'static [&'static str];
    /// Whether the value is one of them.
    fn is_known(&self) -> bool;
}

macro_rules! known_values {
    ($($ty:ty),*) => {$(
        impl KnownValues for $ty {
            const KNOWN: &'static [&'static str] = <$ty>::KNOWN;
            fn is_known(&self) -> bool {
                <$ty>::is_known(self)
            }
        }
    )*};
}

known_values!(
    skill_clusters::Include,
    skill_profiles::Include,
    task_profiles::Include,
    job_skill_profiles::Include,
    job_task_profiles::Include,
    skills::Include,
    skills::VocabLanguage,
    org_units::Include,
    ExternalVendor,
    ai_goals::Versions,
    job_suggestions::SuggestionState
);

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

pub(crate) fn parse_limit(value: &str) -> Result<u32, String> {
    let bad = || {
        format!(
            "invalid limit {value:?}: expected a whole number from 1 to the dataset's largest page (100 for most)"
        )
    };
    let n: i64 = value.parse().map_err(|_| bad())?;
    tw_model::PageLimit::new(n, tw_model::PageLimit::MAX)
        .map(tw_model::PageLimit::get)
        .map_err(|err| err.to_string())
}

fn parse_includes<I: KnownValues>(value: &str) -> Result<IncludeList<I>, String> {
    let mut list = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let include = I::from(part);
        if !include.is_known() {
            return Err(format!(
                "unknown include {part:?}; allowed: {}",
                I::KNOWN.join(", ")
            ));
        }
        if !list.contains(&include) {
            list.push(include);
        }
    }
    Ok(IncludeList(list))
}

/// One value of an open enum that the command only accepts when known.
fn parse_known<I: KnownValues>(what: &str, value: &str) -> Result<I, String> {
    let parsed = I::from(value);
    if parsed.is_known() {
        Ok(parsed)
    } else {
        Err(format!(
            "unknown {what} {value:?}; allowed: {}",
            I::KNOWN.join(", ")
        ))
    }
}

fn parse_vendor(value: &str) -> Result<ExternalVendor, String> {
    parse_known("vendor", value)
}

/// A `--states` value: a review state this release knows (another goes
/// in `--filter`, which sends it as given).
fn parse_state(value: &str) -> Result<job_suggestions::SuggestionState, String> {
    parse_known("review state", value).map_err(|err| {
        format!(
            "--states: {err} (to send another: --filter '{{\"filter\":\"state_is_in_list\",\"states\":[{value:?}]}}')"
        )
    })
}

fn parse_language(value: &str) -> Result<skills::VocabLanguage, String> {
    parse_known("language", value)
}

fn parse_skill_id(value: &str) -> Result<String, String> {
    accept(value, org_units::check_skill_id(value))
}

fn parse_nonblank(flag: &'static str) -> impl Fn(&str) -> Result<String, String> + Clone {
    move |value: &str| {
        let value = value.trim();
        if value.is_empty() {
            Err(format!("{flag} needs a value"))
        } else {
            Ok(value.to_owned())
        }
    }
}

fn parse_versions(value: &str) -> Result<ai_goals::Versions, String> {
    parse_known("versions", value)
}

fn parse_filter(value: &str) -> Result<Filter, String> {
    let json: serde_json::Value = serde_json::from_str(value)
        .map_err(|err| format!("not JSON ({err}); give a filter object such as '{{\"filter\":\"is_active\",\"is_active\":true}}'"))?;
    Filter::other(json).map_err(|err| err.to_string())
}

fn parse_query(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected KEY=VALUE, got {value:?}")),
    }
}

fn parse_date(value: &str) -> Result<Date, String> {
    Date::parse(value).map_err(|err| err.to_string())
}

fn parse_cursor(value: &str) -> Result<Cursor, String> {
    tw_model::check_cursor(value)
        .map(|()| Cursor::new(value))
        .map_err(|err| err.to_string())
}

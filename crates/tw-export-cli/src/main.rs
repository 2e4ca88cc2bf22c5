//! The `tw-export` command; see `tw-export --help` and the README.

mod cli;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

use crate::cli::args::Cli;
use crate::cli::{Hint, classify, is_broken_pipe, printable};

fn init_logging(verbose: u8) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(match verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        })
    });
    let builder = tracing_subscriber::fmt()
        .with_writer(|| crate::cli::stderr::LogWriter)
        .with_env_filter(filter)
        .with_target(false);
    let _ = if crate::cli::stderr::json() {
        builder
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}

#[allow(clippy::print_stderr)]
fn report(err: &anyhow::Error, exit_code: u8) {
    // A hint is attached as context: it is the outermost layer of the chain.
    let hint = err.downcast_ref::<Hint>().map(ToString::to_string);
    if crate::cli::stderr::json() {
        let causes: Vec<String> = err
            .chain()
            .skip(usize::from(hint.is_some()))
            .map(|c| printable(&c.to_string()).into_owned())
            .collect();
        crate::cli::stderr::line(
            "ERROR",
            causes.first().map_or("", String::as_str),
            serde_json::json!({
                "causes": &causes[1.min(causes.len())..],
                "hint": hint.as_deref().map(|h| printable(h).into_owned()),
                "exit_code": exit_code,
            }),
        );
        return;
    }
    let mut first = true;
    for (i, cause) in err.chain().enumerate() {
        if i == 0 && hint.is_some() {
            continue;
        }
        if first {
            eprintln!("error: {}", printable(&cause.to_string()));
            first = false;
        } else {
            eprintln!("  caused by: {}", printable(&cause.to_string()));
        }
    }
    if let Some(hint) = hint {
        eprintln!("hint: {}", printable(&hint));
    }
}

fn main() -> ExitCode {
    use clap::FromArgMatches as _;
    let parsed = crate::cli::args::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err) => {
            let json_wanted = {
                let args: Vec<String> = std::env::args().collect();
                args.iter().any(|a| a == "--log-format=json")
                    || args
                        .windows(2)
                        .any(|w| w[0] == "--log-format" && w[1] == "json")
            };
            if json_wanted && err.use_stderr() {
                crate::cli::stderr::set_json(true);
                crate::cli::stderr::line(
                    "ERROR",
                    err.render().to_string().trim(),
                    serde_json::json!({"exit_code": 2}),
                );
                return ExitCode::from(2);
            }
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    crate::cli::stderr::set_json(cli.log_format == crate::cli::args::LogFormat::Json);
    let result = cli.command.run(init_logging);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let code = match err.downcast_ref::<crate::cli::signals::Interrupted>() {
                Some(interrupted) => interrupted.exit_code(),
                None => classify(&err) as u8,
            };
            report(&err, code);
            ExitCode::from(code)
        }
    }
}

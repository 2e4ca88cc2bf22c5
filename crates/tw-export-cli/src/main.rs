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
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

#[allow(clippy::print_stderr)]
fn report(err: &anyhow::Error) {
    // A hint is attached as context: it is the outermost layer of the chain.
    let hint = err.downcast_ref::<Hint>().map(ToString::to_string);
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
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = cli.command.run(init_logging);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            report(&err);
            if let Some(interrupted) = err.downcast_ref::<crate::cli::signals::Interrupted>() {
                return ExitCode::from(interrupted.exit_code());
            }
            ExitCode::from(classify(&err) as u8)
        }
    }
}

//! Project automation, run as `cargo xtask <command>`.
//!
//! * `gen-schema [--check]`: write the JSON Schemas of `tw-model` to
//!   `schemas/`, or check that the committed files are up to date.
//! * `bench [--quick]`: build in release mode and run every performance
//!   measurement, printing a Markdown report (and, without `--quick`,
//!   writing it to `bench/RESULTS.md` and README's Performance section).

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[cfg(test)]
mod architecture;
mod bench;
mod schema;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  gen-schema          write tw-model's JSON Schemas to schemas/
  gen-schema --check  fail if schemas/ differs from what the code generates
  bench               run every performance measurement (minutes)
  bench --quick       the same on a small tenant, once (what CI runs)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["gen-schema"] => schema::write(&schema::schemas_dir()),
        ["gen-schema", "--check"] => schema::check(&schema::schemas_dir()),
        ["bench"] => bench::run(false),
        ["bench", "--quick"] => bench::run(true),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

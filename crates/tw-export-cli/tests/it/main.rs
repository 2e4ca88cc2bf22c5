//! Integration tests of tw-export: the library against the sandbox, and the
//! `tw-export` binary as a subprocess.

mod all;
mod cli;
mod datasets;
mod errors;
mod hostile;
mod library;
mod resume;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tw_sandbox::{Faults, Sandbox, SandboxConfig};

pub fn sandbox(employees: u32) -> Sandbox {
    Sandbox::start(SandboxConfig {
        employees,
        ..SandboxConfig::default()
    })
    .unwrap()
}

pub fn sandbox_with(employees: u32, faults: Faults) -> Sandbox {
    Sandbox::start(SandboxConfig {
        employees,
        faults,
        ..SandboxConfig::default()
    })
    .unwrap()
}

/// The binary, with a clean environment (no TECHWOLF_*, no RUST_LOG).
pub fn tw_export() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tw-export"));
    command.env_clear();
    command
}

/// `tw-export skill-clusters --base-url <sandbox>` with the static token.
pub fn export_from(sandbox: &Sandbox) -> Command {
    export_dataset(sandbox, "skill-clusters")
}

/// `tw-export <dataset> --base-url <sandbox>` with the static token.
pub fn export_dataset(sandbox: &Sandbox, dataset: &str) -> Command {
    let mut command = tw_export();
    command.env("TECHWOLF_TOKEN", "sandbox-token").args([
        dataset,
        "--base-url",
        &sandbox.base_url(),
    ]);
    command
}

pub fn run(command: &mut Command) -> Output {
    command.output().expect("the binary runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The SHA-256 of `bytes`, lower-case hex, as `--stats` and `all`'s
/// manifest report a file's.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The JSON document in the file at `path` (a report, a manifest, a
/// checkpoint, a state file).
pub fn read_json(path: impl AsRef<Path>) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tw-export-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn ids_of_tenant(sandbox: &Sandbox) -> Vec<String> {
    (0..sandbox.tenant().len())
        .map(|i| sandbox.tenant().external_id(i).to_owned())
        .collect()
}

pub fn jsonl_ids(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["external_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// The rows a record's `Table` impl emits, as strings, after checking each
/// row's hint: 0 on the record's first row, and otherwise leading fields
/// that are the previous row's.
pub fn table_rows<T: tw_model::Table>(record: &T) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    record
        .rows(
            &mut |row: &[tw_export::model::Cell<'_>], repeats| -> Result<(), ()> {
                assert_eq!(row.len(), T::COLUMNS.len(), "every row has every column");
                let row: Vec<String> = row.iter().map(|c| c.to_string()).collect();
                match rows.last() {
                    None => assert_eq!(repeats, 0, "a record's first row repeats nothing"),
                    Some(last) => assert_eq!(
                        row[..repeats],
                        last[..repeats],
                        "the hint says {repeats} fields repeat"
                    ),
                }
                rows.push(row);
                Ok(())
            },
        )
        .unwrap();
    rows
}

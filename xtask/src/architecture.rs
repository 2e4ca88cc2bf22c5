//! The architecture invariants that can be grepped (see ARCHITECTURE.md),
//! checked by `cargo test`.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `[dependencies]` section of a crate's Cargo.toml.
fn dependencies(krate: &str) -> String {
    let text = std::fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml"))
        .expect("the crate's Cargo.toml");
    let start = text.find("[dependencies]").map_or(text.len(), |i| i + 14);
    let rest = &text[start..];
    rest[..rest.find("\n[").unwrap_or(rest.len())].to_owned()
}

fn sources(krate: &str) -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).expect("a source folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                out.push((path, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("crates").join(krate).join("src"), &mut out);
    out
}

fn crates() -> Vec<String> {
    std::fs::read_dir(root().join("crates"))
        .expect("crates/")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[test]
fn only_tw_transport_names_ureq() {
    for krate in crates() {
        let names = dependencies(&krate).lines().any(|l| l.starts_with("ureq"))
            || sources(&krate)
                .iter()
                .any(|(_, text)| text.contains("ureq::"));
        assert_eq!(names, krate == "tw-transport", "{krate} and ureq");
    }
}

#[test]
fn model_and_paginate_do_no_io() {
    for krate in ["tw-model", "tw-paginate"] {
        for (path, text) in sources(krate) {
            for io in [
                "std::fs",
                "std::net",
                "std::process",
                "std::env",
                "TcpStream",
            ] {
                assert!(!text.contains(io), "{} uses {io}", path.display());
            }
        }
        let deps = dependencies(krate);
        assert!(
            !deps.contains("tw-"),
            "{krate} depends on another workspace crate"
        );
    }
}

#[test]
fn the_library_does_not_carry_the_command() {
    let deps = dependencies("tw-export");
    for command_only in [
        "clap",
        "anyhow",
        "indicatif",
        "tracing-subscriber",
        "mimalloc",
        "tw-sandbox",
    ] {
        assert!(
            !deps.lines().any(|l| l.starts_with(command_only)),
            "tw-export (the library) depends on {command_only}"
        );
    }
    for (path, text) in sources("tw-export") {
        assert!(!text.contains("clap::"), "{} uses clap", path.display());
    }
}

/// Every published crate ships a README and the LICENSE, and says what it
/// is about on crates.io (`cargo package` lists them).
#[test]
fn every_crate_packages_a_readme_and_the_license() {
    for krate in crates() {
        let dir = root().join("crates").join(&krate);
        for file in ["README.md", "LICENSE"] {
            let text = std::fs::read_to_string(dir.join(file))
                .unwrap_or_else(|e| panic!("{krate}/{file}: {e}"));
            assert!(!text.trim().is_empty(), "{krate}/{file} is empty");
        }
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
        for key in [
            "readme = ",
            "keywords = ",
            "categories = ",
            "description = ",
        ] {
            assert!(manifest.contains(key), "{krate}/Cargo.toml lacks {key}");
        }
        assert!(
            !manifest.contains("example.invalid"),
            "{krate}: a placeholder URL"
        );
    }
}

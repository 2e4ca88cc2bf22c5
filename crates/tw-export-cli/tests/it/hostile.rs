//! Hostile files and concurrent use: the command never writes through a
//! link, never replaces what it did not create, never runs twice on one
//! output, and checks its target before any request.

use std::path::Path;

use crate::{export_from, run, sandbox, stderr, temp_dir};

fn export_to(sandbox: &tw_sandbox::Sandbox, out: &Path, extra: &[&str]) -> std::process::Output {
    run(export_from(sandbox).args(extra).arg("-o").arg(out))
}

#[test]
fn a_second_run_on_the_same_output_stops_at_once() {
    let sandbox = sandbox(50);
    let dir = temp_dir("locked");
    let out = dir.join("out.jsonl");
    // Another run holds the lock (this test process plays it).
    let held = std::fs::File::create(dir.join("out.jsonl.lock")).unwrap();
    held.try_lock().unwrap();
    let output = export_to(&sandbox, &out, &[]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("another tw-export is writing")
            && stderr(&output).contains("out.jsonl"),
        "{}",
        stderr(&output)
    );
    assert!(sandbox.requests().is_empty(), "no request was sent");
    assert!(!out.exists() && !dir.join("out.jsonl.partial").exists());
    drop(held);
    let output = export_to(&sandbox, &out, &[]);
    assert!(
        output.status.success(),
        "the lock is gone with its holder: {}",
        stderr(&output)
    );
    // The run took the lock file left behind and removed it when done.
    assert!(!dir.join("out.jsonl.lock").exists());
}

#[cfg(unix)]
#[test]
fn links_planted_at_our_temporary_files_are_not_written_through() {
    let sandbox = sandbox(30);
    let dir = temp_dir("symlinks");
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let out = dir.join("out.jsonl");
    std::os::unix::fs::symlink(&victim, dir.join("out.jsonl.partial")).unwrap();
    std::os::unix::fs::symlink(&victim, dir.join("out.jsonl.checkpoint.tmp")).unwrap();
    let output = export_to(&sandbox, &out, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 30);
    assert!(
        !std::fs::symlink_metadata(&out)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[cfg(unix)]
#[test]
fn resume_refuses_a_partial_file_that_is_a_link() {
    let mut faults = tw_sandbox::Faults::default();
    faults.server_error_every = Some(3);
    let sandbox = crate::sandbox_with(100, faults);
    let dir = temp_dir("resume-link");
    let out = dir.join("out.jsonl");
    // An interrupted export: the third page fails and there are no retries.
    let output = export_to(&sandbox, &out, &["--limit", "10", "--max-attempts", "1"]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(dir.join("out.jsonl.checkpoint").exists());
    // The partial file is swapped for a link to someone else's file.
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::fs::remove_file(dir.join("out.jsonl.partial")).unwrap();
    std::os::unix::fs::symlink(&victim, dir.join("out.jsonl.partial")).unwrap();
    let output = export_to(
        &sandbox,
        &out,
        &["--limit", "10", "--max-attempts", "1", "--resume"],
    );
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("refusing to continue")
            && stderr(&output).contains("not a regular file"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn a_directory_target_is_refused_before_any_request() {
    let sandbox = sandbox(10);
    let dir = temp_dir("dir-target");
    for target in [dir.clone(), dir.join("sub/")] {
        if target.to_string_lossy().ends_with('/') {
            std::fs::create_dir_all(&target).unwrap();
        }
        let output = export_to(&sandbox, &target, &[]);
        assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("is a directory"),
            "{}",
            stderr(&output)
        );
    }
    assert!(sandbox.requests().is_empty(), "no request was sent");
    let hidden: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
}

#[test]
fn a_target_in_a_missing_directory_is_refused_before_any_request() {
    let sandbox = sandbox(10);
    let dir = temp_dir("missing-dir-target");
    let file = dir.join("a-file");
    std::fs::write(&file, "precious").unwrap();
    for (target, expected) in [
        (
            dir.join("typo/out.csv"),
            format!(
                "the directory {} does not exist; create it first",
                dir.join("typo").display()
            ),
        ),
        (
            file.join("out.csv"),
            format!("{} is not a directory", file.display()),
        ),
    ] {
        let output = export_to(&sandbox, &target, &[]);
        assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
        assert!(stderr(&output).contains(&expected), "{}", stderr(&output));
    }
    assert!(sandbox.requests().is_empty(), "no request was sent");
    assert!(
        !dir.join("typo").exists(),
        "the missing directory is not made"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");
    // The files a run writes beside its output: the report and the state
    // (which a run that exported everything and then could not record it
    // would leave stale, so the next run exports everything again).
    let out = dir.join("out.jsonl");
    for flag in ["--stats", "--state"] {
        let missing = dir.join("typo").join("run.json");
        let output = export_to(&sandbox, &out, &[flag, missing.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
        let expected = format!(
            "{flag} {}: the directory {} does not exist",
            missing.display(),
            dir.join("typo").display()
        );
        assert!(stderr(&output).contains(&expected), "{}", stderr(&output));
        assert!(!out.exists(), "{flag}: nothing exported");
    }
    assert!(sandbox.requests().is_empty(), "no request was sent");
    assert!(
        !dir.join("typo").exists(),
        "the missing directory is not made"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_target_is_refused_and_left_alone() {
    let sandbox = sandbox(10);
    let dir = temp_dir("fifo-target");
    let fifo = dir.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let output = export_to(&sandbox, &fifo, &[]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not a regular file"),
        "{}",
        stderr(&output)
    );
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(sandbox.requests().is_empty());
}

/// A loopback server that answers every request of one connection with
/// `status` and `body` (bodies the sandbox never sends); it stops when the
/// client closes the connection.
fn answering(status: u16, body: &'static str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut stream = stream;
        loop {
            let mut length = 0;
            let mut line = String::new();
            let mut head_done = false;
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    head_done = true;
                    break;
                }
                line.clear();
            }
            if !head_done {
                break;
            }
            let mut request_body = vec![0; length];
            if reader.read_exact(&mut request_body).is_err() {
                break;
            }
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if stream.write_all(reply.as_bytes()).is_err() {
                break;
            }
        }
    });
    url
}

#[test]
fn server_text_cannot_drive_the_terminal() {
    let url = answering(
        400,
        "{\"detail\":\"\u{1b}[2J\u{1b}[Htw-export: 1000 records, 10 pages\u{7}\r\u{8}\"}",
    );
    let output = run(crate::tw_export()
        .env("TECHWOLF_TOKEN", "sandbox-token")
        .args(["skill-clusters", "--base-url", &url]));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("\\u{1b}[2J"), "shown escaped: {text}");
    for control in ['\u{1b}', '\u{7}', '\r', '\u{8}'] {
        assert!(
            !text.contains(control),
            "{control:?} reached the terminal: {text:?}"
        );
    }
}

/// The secret scan: for every scripted failure and at no log level and at
/// the most verbose one, neither the client secret, nor an issued token,
/// nor a 10-character prefix of either appears on stdout, stderr or in any
/// file the run leaves.
#[test]
fn no_secret_or_prefix_of_one_in_any_output_for_any_failure() {
    const SECRET: &str = "s3cr3t-scan-prefix-9d2a";
    type SetFault = fn(&mut tw_sandbox::Faults);
    let faults: [(&str, SetFault); 7] = [
        ("close", |f| f.close_every = Some(2)),
        ("cut body", |f| f.cut_body_every = Some(2)),
        ("rate limit", |f| f.rate_limit_every = Some(2)),
        ("server error", |f| f.server_error_every = Some(2)),
        ("unauthorized", |f| f.unauthorized_every = Some(2)),
        ("repeated cursor", |f| f.repeat_cursor = true),
        ("missing cursor", |f| f.missing_cursor = true),
    ];
    for (name, set) in faults {
        let mut faults = tw_sandbox::Faults::default();
        set(&mut faults);
        let sandbox = tw_sandbox::Sandbox::start(tw_sandbox::SandboxConfig {
            employees: 30,
            client_secret: SECRET.into(),
            faults,
            ..Default::default()
        })
        .unwrap();
        for verbosity in [None, Some("-vvv")] {
            let dir = temp_dir(&format!(
                "scan-{}-{}",
                name.replace(' ', "-"),
                verbosity.is_some()
            ));
            let output = run(crate::tw_export()
                .env("TECHWOLF_CLIENT_ID", "sandbox-client")
                .env("TECHWOLF_CLIENT_SECRET", SECRET)
                .args(["skill-clusters", "--limit", "10", "--tenant", "sandbox"])
                .args(verbosity)
                .args([
                    "--base-url",
                    &sandbox.base_url(),
                    "--token-url",
                    &sandbox.token_url(),
                ])
                .args(["--audience", "sandbox", "-o"])
                .arg(dir.join("out.jsonl")));
            let mut texts = vec![
                ("stderr".to_owned(), stderr(&output)),
                (
                    "stdout".to_owned(),
                    String::from_utf8_lossy(&output.stdout).into_owned(),
                ),
            ];
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                texts.push((path.display().to_string(), text));
            }
            for (what, text) in texts {
                for needle in [SECRET, &SECRET[..10], "sbx-"] {
                    assert!(
                        !text.contains(needle),
                        "{name}, {verbosity:?}: {needle:?} in {what}"
                    );
                }
            }
        }
    }
}

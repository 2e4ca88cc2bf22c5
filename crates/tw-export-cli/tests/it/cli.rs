//! The binary end to end: formats, faults, protocol violations, secrets.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use tw_model::EmployeeSkillClusters;
use tw_model::Table;
use tw_sandbox::{Faults, Sandbox, SandboxConfig};

use crate::{
    export_from, ids_of_tenant, jsonl_ids, run, sandbox, sandbox_with, stderr, temp_dir, tw_export,
};

fn records_of(path: &std::path::Path) -> Vec<EmployeeSkillClusters> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| tw_model::decode(l.as_bytes()).unwrap())
        .collect()
}

#[test]
fn jsonl_has_every_employee_once_and_round_trips() {
    let sandbox = sandbox(777);
    let dir = temp_dir("jsonl");
    let out = dir.join("out.jsonl");
    let output = run(export_from(&sandbox)
        .args(["--limit", "50", "-o"])
        .arg(&out));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(jsonl_ids(&out), ids_of_tenant(&sandbox));
    assert!(!dir.join("out.jsonl.partial").exists() && !dir.join("out.jsonl.checkpoint").exists());
    // Every line is what the model round-trips: the same JSON value.
    for line in std::fs::read_to_string(&out).unwrap().lines() {
        let sent: serde_json::Value = serde_json::from_str(line).unwrap();
        let typed: EmployeeSkillClusters = tw_model::decode(line.as_bytes()).unwrap();
        assert_eq!(serde_json::to_value(&typed).unwrap(), sent);
    }
    assert!(
        stderr(&output).contains("tw-export: 777 records, 16 pages, 0 retries"),
        "{}",
        stderr(&output)
    );
    // Each line is the record exactly as the server sent it.
    let first_page = sandbox.requests()[0].clone();
    assert_eq!(first_page.status, 200);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "exports hold personal data");
    }
}

#[test]
fn json_is_one_valid_array() {
    let sandbox = sandbox(333);
    let dir = temp_dir("json");
    let out = dir.join("out.json");
    let output = run(export_from(&sandbox)
        .args(["--format", "json", "--limit", "40", "-o"])
        .arg(&out));
    assert!(output.status.success(), "{}", stderr(&output));
    let array: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let ids: Vec<String> = array
        .iter()
        .map(|r| r["external_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ids_of_tenant(&sandbox));

    let empty = dir.join("empty.json");
    let output = run(export_from(&sandbox)
        .args(["--format", "json", "--updated-after", "2099-01-01", "-o"])
        .arg(&empty));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&empty).unwrap(), "[]\n");
}

#[test]
fn csv_rows_parse_back_to_the_records() {
    let sandbox = sandbox(400);
    let dir = temp_dir("csv");
    let jsonl = dir.join("out.jsonl");
    assert!(
        run(export_from(&sandbox).arg("-o").arg(&jsonl))
            .status
            .success()
    );
    let records = records_of(&jsonl);
    let expected: Vec<Vec<String>> = records.iter().flat_map(crate::table_rows).collect();
    let employees: std::collections::BTreeSet<&str> =
        expected.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(employees.len(), 400, "every employee has a row");

    // RFC 4180: values come back unchanged.
    let rfc = dir.join("rfc.csv");
    assert!(
        run(export_from(&sandbox)
            .args(["--format", "csv", "--csv-dialect", "rfc4180", "-o"])
            .arg(&rfc))
        .status
        .success()
    );
    let mut reader = csv::ReaderBuilder::new().from_path(&rfc).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        EmployeeSkillClusters::COLUMNS
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows, expected);
    let text = std::fs::read_to_string(&rfc).unwrap();
    assert!(!text.contains("\r\n\""), "LF line ends");

    // TechWolf: CRLF, every field quoted, formula guard; undoing the guard gives the values.
    let tw = dir.join("tw.csv");
    assert!(
        run(export_from(&sandbox)
            .args(["--format", "csv", "-o"])
            .arg(&tw))
        .status
        .success()
    );
    let text = std::fs::read_to_string(&tw).unwrap();
    assert!(text.starts_with("\"employee_external_id\",\"skill_cluster_id\""));
    assert!(text.ends_with("\"\r\n"));
    let mut reader = csv::ReaderBuilder::new().from_path(&tw).unwrap();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), expected.len());
    let mut guarded = 0;
    for (row, want) in rows.iter().zip(&expected) {
        for (got, want) in row.iter().zip(want) {
            if want.starts_with(['=', '+', '-', '@', '\t', '\r', '`']) {
                assert_eq!(got, &format!("`{want}"));
                guarded += 1;
            } else {
                assert_eq!(got, want);
            }
        }
    }
    assert!(guarded > 0, "the sandbox has formula-like names");
    for tricky in [
        "\"\"Power\"\"",
        "SQL\nqueries",
        "Cold calling\t(outbound)",
        "`=VLOOKUP",
        "`+1 Negotiation",
        "`-Rigging",
        "`@Risk",
        "🦀",
        "データサイエンス",
    ] {
        assert!(text.contains(tricky), "{tricky:?} in the TechWolf CSV");
    }
}

#[test]
fn faults_are_survived_and_the_output_is_complete() {
    let mut faults = Faults::default();
    faults.rate_limit_every = Some(4);
    faults.retry_after_secs = 0;
    faults.server_error_every = Some(9);
    faults.close_every = Some(11);
    faults.cut_body_every = Some(13);
    let sandbox = sandbox_with(600, faults);
    let dir = temp_dir("faults");
    let out = dir.join("out.jsonl");
    let output = run(export_from(&sandbox)
        .args(["--limit", "25", "--max-attempts", "8", "-o"])
        .arg(&out));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(jsonl_ids(&out), ids_of_tenant(&sandbox));
    // Each retry is logged once: the request, which attempt of how many
    // failed and why, and the wait; the request is not named twice.
    let log = stderr(&output);
    let retries: Vec<&str> = log.lines().filter(|l| l.contains("retrying in")).collect();
    for (why, expected) in [
        ("a 429", "(HTTP 429 Too Many Requests: "),
        ("a 503", "(HTTP 503 Service Unavailable: "),
    ] {
        assert!(
            retries.iter().any(|l| l.contains(&format!(
                "POST /export/employees/skill_clusters: attempt 1 of 8 failed {expected}"
            ))),
            "{why} is logged with its reason: {log}"
        );
    }
    for line in &retries {
        assert_eq!(line.matches("POST /export").count(), 1, "{line}");
        assert!(!line.contains("failed after"), "{line}");
    }

    let clean = self::sandbox(600);
    let reference = dir.join("clean.jsonl");
    assert!(
        run(export_from(&clean)
            .args(["--limit", "25", "-o"])
            .arg(&reference))
        .status
        .success()
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&reference).unwrap(),
        "byte-identical"
    );
}

#[test]
fn a_protocol_violation_exits_4_and_leaves_no_output() {
    for (name, faults) in [
        ("repeat", {
            let mut f = Faults::default();
            f.repeat_cursor = true;
            f
        }),
        ("missing", {
            let mut f = Faults::default();
            f.missing_cursor = true;
            f
        }),
        ("empty", {
            let mut f = Faults::default();
            f.empty_pages = u32::MAX;
            f
        }),
    ] {
        let sandbox = sandbox_with(300, faults);
        let dir = temp_dir(&format!("protocol-{name}"));
        let out = dir.join("out.jsonl");
        std::fs::write(&out, "previous complete export\n").unwrap();
        let output = run(export_from(&sandbox)
            .args(["--limit", "10", "-o"])
            .arg(&out));
        assert_eq!(output.status.code(), Some(4), "{name}: {}", stderr(&output));
        let message = stderr(&output);
        assert!(
            message.contains("the API broke the pagination protocol"),
            "{message}"
        );
        // The same server would break the same way: no resume hint.
        assert!(!message.contains("hint:"), "{message}");
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "previous complete export\n",
            "not overwritten"
        );
    }
}

#[test]
fn authentication_failures_exit_3() {
    let sandbox = sandbox(10);
    let output = run(tw_export().env("TECHWOLF_TOKEN", "not-the-token").args([
        "skill-clusters",
        "--base-url",
        &sandbox.base_url(),
    ]));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("authentication failed using a static bearer token"));
    assert!(!stderr(&output).contains("not-the-token"));
}

#[test]
fn no_secret_reaches_any_output_or_log() {
    const SECRET: &str = "s3cr3t-only-in-env-7e1f";
    let mut faults = Faults::default();
    faults.unauthorized_every = Some(3);
    faults.server_error_every = Some(4);
    let sandbox = Sandbox::start(SandboxConfig {
        employees: 200,
        client_secret: SECRET.into(),
        token_lifetime: std::time::Duration::from_secs(1),
        faults,
        ..SandboxConfig::default()
    })
    .unwrap();
    let dir = temp_dir("secrets");
    let out = dir.join("out.csv");
    let output = run(tw_export()
        .env("TECHWOLF_CLIENT_ID", "sandbox-client")
        .env("TECHWOLF_CLIENT_SECRET", SECRET)
        .args([
            "skill-clusters",
            "-vvv",
            "--format",
            "csv",
            "--limit",
            "10",
            "--tenant",
            "sandbox",
        ])
        .args([
            "--base-url",
            &sandbox.base_url(),
            "--token-url",
            &sandbox.token_url(),
            "--audience",
            "sandbox",
            "-o",
        ])
        .arg(&out));
    assert!(output.status.success(), "{}", stderr(&output));
    let log = stderr(&output);
    assert!(log.contains("DEBUG"), "debug logs were on");
    assert!(log.contains("retrying"), "{log}");
    let mut texts = vec![
        log,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        std::fs::read_to_string(&out).unwrap(),
    ];
    // A failing run leaves a checkpoint: it must be clean too.
    let mut faults = Faults::default();
    faults.repeat_cursor = true;
    let broken = Sandbox::start(SandboxConfig {
        employees: 50,
        client_secret: SECRET.into(),
        faults,
        ..SandboxConfig::default()
    })
    .unwrap();
    let failed = dir.join("failed.jsonl");
    let output = run(tw_export()
        .env("TECHWOLF_CLIENT_ID", "sandbox-client")
        .env("TECHWOLF_CLIENT_SECRET", SECRET)
        .args([
            "skill-clusters",
            "-vv",
            "--limit",
            "10",
            "--tenant",
            "sandbox",
        ])
        .args([
            "--base-url",
            &broken.base_url(),
            "--token-url",
            &broken.token_url(),
            "--audience",
            "sandbox",
            "-o",
        ])
        .arg(&failed));
    assert_eq!(output.status.code(), Some(4));
    texts.push(stderr(&output));
    texts.push(std::fs::read_to_string(dir.join("failed.jsonl.checkpoint")).unwrap());
    texts.push(std::fs::read_to_string(dir.join("failed.jsonl.partial")).unwrap());
    for text in &texts {
        assert!(!text.contains(SECRET), "the client secret leaked");
        assert!(!text.contains("sbx-"), "an issued token leaked");
    }
}

#[test]
fn a_closed_stdout_pipe_exits_0() {
    let sandbox = sandbox(5000);
    let mut child = export_from(&sandbox)
        .args(["--limit", "10"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("{\"external_id\""));
    drop(reader);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!stderr(&output).contains("error"), "{}", stderr(&output));
}

#[test]
fn sandbox_flag_needs_no_credentials_and_max_records_caps() {
    // Pages of 20: the page the cap cuts counts as a page written; one of
    // a thing is singular.
    for (max, summary) in [
        ("42", "tw-export: 42 records, 3 pages"),
        ("40", "tw-export: 40 records, 2 pages"),
        ("5", "tw-export: 5 records, 1 page,"),
        ("1", "tw-export: 1 record, 1 page, 0 retries"),
    ] {
        let output = run(tw_export().args([
            "skill-clusters",
            "--sandbox",
            "--sandbox-employees",
            "250",
            "--max-records",
            max,
            "--limit",
            "20",
        ]));
        assert!(output.status.success(), "{}", stderr(&output));
        let lines = String::from_utf8(output.stdout.clone()).unwrap();
        assert_eq!(lines.lines().count().to_string(), max);
        assert!(stderr(&output).contains(summary), "{}", stderr(&output));
    }
}

#[test]
fn help_is_stable() {
    for (name, args) in [
        ("help_top", vec!["--help"]),
        ("help_skill_clusters", vec!["skill-clusters", "--help"]),
        ("help_sandbox", vec!["sandbox", "--help"]),
    ] {
        let output = run(tw_export().args(&args));
        assert!(output.status.success());
        insta::assert_snapshot!(name, String::from_utf8(output.stdout).unwrap());
    }
}

#[test]
fn the_sandbox_subcommand_prints_a_ready_command() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tw_export()
        .args(["sandbox", "--port", &port.to_string(), "--employees", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    while !text.contains("Ctrl-C") {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        text.push_str(&line);
    }
    let base = format!("http://127.0.0.1:{port}");
    assert!(text.contains(&format!("base URL:  {base}")), "{text}");
    // The printed command works.
    let dir = temp_dir("sandbox-cmd");
    let out = dir.join("skill-clusters.jsonl");
    let output = run(tw_export()
        .env("TECHWOLF_TOKEN", "sandbox-token")
        .args(["skill-clusters", "--base-url", &base, "-o"])
        .arg(&out));
    child.kill().unwrap();
    let _ = child.wait();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 30);
}

#[test]
fn the_file_name_picks_the_format_and_quiet_is_silent() {
    let sandbox = sandbox(30);
    let dir = temp_dir("by-name");
    for (name, check) in [
        ("out.csv", "\"employee_external_id\""),
        ("out.json", "["),
        ("out.ndjson", "{\"external_id\""),
    ] {
        let output = run(export_from(&sandbox)
            .arg("-q")
            .arg("-o")
            .arg(dir.join(name)));
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(
            output.stderr.is_empty(),
            "-q prints nothing on success: {}",
            stderr(&output)
        );
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(text.starts_with(check), "{name}: {}", &text[..40]);
    }
    // --bom: Excel's byte order mark, then the same CSV.
    let output = run(export_from(&sandbox)
        .args(["-q", "--bom", "-o"])
        .arg(dir.join("bom.csv")));
    assert!(output.status.success(), "{}", stderr(&output));
    let with = std::fs::read(dir.join("bom.csv")).unwrap();
    let without = std::fs::read(dir.join("out.csv")).unwrap();
    assert_eq!(&with[..3], b"\xEF\xBB\xBF");
    assert_eq!(&with[3..], &without[..]);
}

#[test]
fn stats_describe_the_run_for_a_scheduler() {
    let sandbox = sandbox(40);
    let dir = temp_dir("stats");
    let out = dir.join("clusters.csv");
    let stats = dir.join("stats.json");
    let output = run(export_from(&sandbox)
        .args(["--limit", "15", "-q", "--stats"])
        .arg(&stats)
        .arg("-o")
        .arg(&out));
    assert!(output.status.success(), "{}", stderr(&output));
    let report = crate::read_json(&stats);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(report["dataset"], "skill-clusters");
    assert_eq!(report["status"], "ok");
    assert_eq!(report["records"], 40);
    assert_eq!(report["pages"], 3);
    assert_eq!(report["bytes"], bytes.len() as u64);
    assert_eq!(report["sha256"], crate::sha256_hex(&bytes));
    assert_eq!(report["exit_code"], 0);
    assert!(report["error"].is_null());
    assert_eq!(report["request"]["limit"], 15);
    assert_eq!(report["key"], serde_json::json!(["external_id"]));
    assert!(report["unknown_fields"]["employee_group"].as_u64().unwrap() > 0);
    for time in ["started", "finished"] {
        let t = report[time].as_str().unwrap();
        assert!(
            t.len() == 20 && t.ends_with('Z') && &t[10..11] == "T",
            "{t}"
        );
    }

    // A failed run reports too: its exit code and message.
    let output = run(tw_export()
        .env("TECHWOLF_TOKEN", "wrong")
        .args([
            "skill-clusters",
            "--base-url",
            &sandbox.base_url(),
            "--stats",
        ])
        .arg(&stats));
    assert_eq!(output.status.code(), Some(3));
    let report = crate::read_json(&stats);
    assert_eq!(report["status"], "failed");
    assert_eq!(report["exit_code"], 3);
    assert!(
        report["error"].as_str().unwrap().contains("401"),
        "{report}"
    );
    assert_eq!(report["output"], "-");
}

#[test]
fn completions_and_a_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = run(tw_export().args(["completions", shell]));
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = String::from_utf8(output.stdout).unwrap();
        for word in ["tw-export", "skill-clusters", "org-units", "state"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let output = run(tw_export().args(["completions", "tcsh"]));
    assert_eq!(output.status.code(), Some(2));
    let output = run(tw_export().arg("man"));
    assert!(output.status.success(), "{}", stderr(&output));
    let page = String::from_utf8(output.stdout).unwrap();
    assert!(page.contains(".TH tw-export 1"), "{}", &page[..200]);
    assert!(page.contains("skill\\-clusters") || page.contains("skill-clusters"));
}

#[test]
fn every_subcommand_help_has_examples_and_exit_codes() {
    let output = run(tw_export().arg("--help"));
    let top = String::from_utf8(output.stdout).unwrap();
    let mut names: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    names.retain(|n| n != "help");
    assert!(names.len() >= 16, "{names:?}");
    for name in names {
        let output = run(tw_export().args([name.as_str(), "--help"]));
        assert!(output.status.success(), "{name}");
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(help.contains("Example"), "{name} --help has no example");
        assert!(
            help.contains("Exit codes: 0 success"),
            "{name} --help has no exit codes"
        );
    }
}

#[test]
fn json_logs_are_json_on_every_line_of_stderr() {
    let sandbox = sandbox(30);
    let dir = temp_dir("json-logs");
    let every_line_json = |output: &std::process::Output| -> Vec<serde_json::Value> {
        let text = stderr(output);
        assert!(!text.trim().is_empty());
        text.lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
                assert!(
                    value["timestamp"].is_string() && value["level"].is_string(),
                    "{value}"
                );
                assert!(value["fields"]["message"].is_string(), "{value}");
                value
            })
            .collect()
    };
    // Success, with -v: log lines and the summary.
    let output = run(export_from(&sandbox)
        .args(["--log-format", "json", "-v", "-o"])
        .arg(dir.join("a.jsonl")));
    assert!(output.status.success());
    let lines = every_line_json(&output);
    let summary = lines.last().unwrap();
    assert_eq!(summary["fields"]["records"], 30);
    // A failure: the error, its exit code.
    let output = run(tw_export().env("TECHWOLF_TOKEN", "wrong").args([
        "skill-clusters",
        "--log-format",
        "json",
        "--base-url",
        &sandbox.base_url(),
    ]));
    assert_eq!(output.status.code(), Some(3));
    let lines = every_line_json(&output);
    assert_eq!(lines.last().unwrap()["level"], "ERROR");
    assert_eq!(lines.last().unwrap()["fields"]["exit_code"], 3);
    // A usage error, before anything runs.
    let output = run(tw_export().args(["skills", "--log-format", "json", "--limit", "0"]));
    assert_eq!(output.status.code(), Some(2));
    every_line_json(&output);
}

#[test]
fn verbose_runs_report_the_connections_they_opened() {
    let sandbox = sandbox(60);
    let output = run(export_from(&sandbox).args(["-v", "--limit", "10"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stderr(&output);
    let opened: usize = text
        .lines()
        .find_map(|l| {
            let rest = l.split("HTTP: ").nth(1)?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no connection count in {text}"));
    assert_eq!(opened, sandbox.connections(), "{text}");
    assert!(
        opened < 6,
        "7 pages over a pool, not one connection each: {opened}"
    );
}

//! Atomic output and resume: kill the exporter anywhere, resume, and get
//! the same bytes as an uninterrupted run.

use std::path::Path;
use std::time::{Duration, Instant};

use tw_sandbox::Faults;

use crate::{export_dataset, export_from, run, sandbox, sandbox_with, stderr, temp_dir};

fn checkpoint_records(path: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str::<serde_json::Value>(&text).ok()?["records"].as_u64()
}

/// When [`kill_during`] kills the exporter: each an event it waits for,
/// never a time.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// As soon as it is started (before or while it creates its files).
    AtOnce,
    /// Once its checkpoint exists and says at least this many records are
    /// written (0: the first checkpoint, before or after the first page).
    /// The sandbox holds back the pages after those, so the export cannot
    /// run past the kill point, however the machine schedules it.
    After(u64),
}

/// The page size of the kill tests.
const LIMIT: u64 = 10;

/// Runs an export to `out` with pages of [`LIMIT`] and kills it (SIGKILL)
/// `when` it says.
fn kill_during(
    dataset: &str,
    sandbox: &tw_sandbox::Sandbox,
    format: &[&str],
    out: &Path,
    when: Kill,
) {
    if let Kill::After(after) = when {
        sandbox.hold_after(after.div_ceil(LIMIT).max(1));
    }
    let mut child = export_dataset(sandbox, dataset)
        .args(["--limit", &LIMIT.to_string()])
        .args(format)
        .arg("-o")
        .arg(out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let checkpoint = out.with_extension(format!(
        "{}.checkpoint",
        out.extension().unwrap().to_string_lossy()
    ));
    if let Kill::After(after) = when {
        // A deadline for a hung exporter only: the kill point is the event.
        let started = Instant::now();
        while checkpoint_records(&checkpoint).is_none_or(|n| n < after) {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the export never wrote a checkpoint of {after} records"
            );
            if child.try_wait().unwrap().is_some() {
                panic!("the export finished before it could be killed");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    sandbox.release();
    assert!(!out.exists(), "a killed export leaves no output file");
}

/// Kills an export of `dataset` at several points in each format, resumes
/// it, and compares with an uninterrupted run (part of every dataset's
/// suite).
pub(crate) fn kill_and_resume_gives_byte_identical_output<D: tw_export::Dataset>() {
    if let tw_model::Paging::Document { .. } = D::PAGING {
        return kill_and_resume_a_document::<D>();
    }
    let dataset = D::NAME;
    let sandbox = sandbox(400);
    // Kill points: at once, the first checkpoint, the first page, about a
    // third, the last page.
    let total = sandbox.keys(D::PATH).len() as u64;
    assert!(total >= 50, "enough records for several kill points");
    for format in [
        &["--format", "jsonl"][..],
        &["--format", "json"],
        &["--format", "csv"],
        &["--format", "parquet"],
    ] {
        let dir = temp_dir(&format!("kill-{dataset}-{}", format[1]));
        let reference = dir.join("reference.out");
        let output = run(export_dataset(&sandbox, dataset)
            .args(["--limit", "10"])
            .args(format)
            .arg("-o")
            .arg(&reference));
        assert!(output.status.success(), "{}", stderr(&output));
        let expected = std::fs::read(&reference).unwrap();

        for (i, when) in [
            Kill::AtOnce,
            Kill::After(0),
            Kill::After(1),
            Kill::After(total * 3 / 8),
            Kill::After(total - 10),
        ]
        .into_iter()
        .enumerate()
        {
            let out = dir.join(format!("run{i}.out"));
            kill_during(dataset, &sandbox, format, &out, when);
            let mut resume = export_dataset(&sandbox, dataset);
            resume
                .args(["--limit", "10", "--resume"])
                .args(format)
                .arg("-o")
                .arg(&out);
            let output = run(&mut resume);
            if !dir.join(format!("run{i}.out.checkpoint")).exists()
                && output.status.code() == Some(2)
            {
                // Killed before the first checkpoint: nothing can be resumed,
                // and a fresh run (discarding the partial file) must do.
                assert!(
                    stderr(&output).contains("nothing to resume"),
                    "{}",
                    stderr(&output)
                );
                let mut fresh = export_dataset(&sandbox, dataset);
                fresh
                    .args(["--limit", "10"])
                    .args(format)
                    .arg("-o")
                    .arg(&out);
                let output = run(&mut fresh);
                assert!(output.status.success(), "{}", stderr(&output));
            } else {
                assert!(
                    output.status.success(),
                    "{format:?} kill {i}: {}",
                    stderr(&output)
                );
            }
            assert_eq!(
                std::fs::read(&out).unwrap(),
                expected,
                "{format:?} kill point {i}"
            );
            assert!(!dir.join(format!("run{i}.out.checkpoint")).exists());
            assert!(!dir.join(format!("run{i}.out.partial")).exists());
        }
    }
}

/// A document export has one request: killed while it is in flight (the
/// sandbox has logged it and holds the answer back), the partial file has
/// the header only, and `--resume` fetches the document again.
fn kill_and_resume_a_document<D: tw_export::Dataset>() {
    let dataset = D::NAME;
    let sandbox = sandbox(400);
    for format in ["jsonl", "json", "csv", "parquet"] {
        let dir = temp_dir(&format!("kill-{dataset}-{format}"));
        let reference = dir.join("reference.out");
        let output = run(export_dataset(&sandbox, dataset)
            .args(["--format", format, "-o"])
            .arg(&reference));
        assert!(output.status.success(), "{}", stderr(&output));
        let expected = std::fs::read(&reference).unwrap();

        let out = dir.join("run.out");
        let before = sandbox.requests().len();
        sandbox.hold_after(0);
        let mut child = export_dataset(&sandbox, dataset)
            .args(["--format", format, "-o"])
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // The event: the sandbox logged the request (and holds its answer).
        let started = Instant::now();
        while sandbox.requests()[before..]
            .iter()
            .all(|r| r.path != D::PATH)
        {
            assert!(started.elapsed() < Duration::from_secs(60), "no request");
            assert!(child.try_wait().unwrap().is_none(), "exited early");
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        sandbox.release();
        assert!(!out.exists(), "a killed export leaves no output file");
        let output = run(export_dataset(&sandbox, dataset)
            .args(["--format", format, "--resume", "-o"])
            .arg(&out));
        assert!(output.status.success(), "{format}: {}", stderr(&output));
        assert_eq!(std::fs::read(&out).unwrap(), expected, "{format}");
        assert!(!dir.join("run.out.checkpoint").exists());
    }
}

#[test]
fn a_failed_run_resumes_after_the_fault_is_gone() {
    let mut faults = Faults::default();
    faults.server_error_every = Some(3);
    let flaky = sandbox_with(100, faults);
    let dir = temp_dir("resume-after-fault");
    let out = dir.join("out.jsonl");
    // No retries: the third request (page 3) fails.
    let output = run(export_from(&flaky)
        .args(["--limit", "10", "--max-attempts", "1", "-o"])
        .arg(&out));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.starts_with("error: POST /export/employees/skill_clusters failed with HTTP 503"),
        "{message}"
    );
    assert!(
        message.contains("hint: ")
            && message.contains("holds the 20 records exported so far")
            && message.contains("--resume"),
        "{message}"
    );
    assert!(!out.exists());
    // Pages 1 and 2 come at once, so the loop checkpoints only as it
    // stops: the checkpoint names both pages and every byte written.
    let partial = dir.join("out.jsonl.partial");
    let checkpoint = dir.join("out.jsonl.checkpoint");
    assert_eq!(checkpoint_records(&checkpoint), Some(20));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&checkpoint).unwrap()).unwrap();
    assert_eq!(saved["pages"], 2);
    assert_eq!(
        saved["bytes"].as_u64(),
        Some(std::fs::metadata(&partial).unwrap().len())
    );

    // Resuming against another server is refused: the target differs.
    let other = sandbox(100);
    let output = run(export_from(&other)
        .args(["--limit", "10", "--resume", "-o"])
        .arg(&out));
    assert_eq!(output.status.code(), Some(2));
    insta::with_settings!({filters => vec![(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]")]}, {
        insta::assert_snapshot!("resume_mismatch", stderr(&output));
    });

    // With retries the same server gets through; nothing lost, nothing twice.
    let output = run(export_from(&flaky)
        .args(["--limit", "10", "--resume", "-o"])
        .arg(&out));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(crate::jsonl_ids(&out), crate::ids_of_tenant(&other));
}

#[test]
fn a_parquet_export_converts_as_it_writes_and_a_failed_one_leaves_no_parquet() {
    let mut faults = Faults::default();
    faults.server_error_every = Some(3);
    let flaky = sandbox_with(100, faults);
    let dir = temp_dir("parquet-follow");
    let out = dir.join("out.parquet");
    let output = run(export_from(&flaky)
        .args(["--limit", "10", "--max-attempts", "1", "-o"])
        .arg(&out));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    // The conversion that followed the CSV stopped with the export: no
    // Parquet file, whole or half; the CSV and checkpoint stay.
    assert!(!out.exists());
    assert!(!dir.join("out.parquet.tmp").exists());
    assert_eq!(
        checkpoint_records(&dir.join("out.parquet.checkpoint")),
        Some(20)
    );

    // A resumed export converts the complete CSV.
    let output = run(export_from(&flaky)
        .args(["--limit", "10", "--resume", "-v", "-o"])
        .arg(&out));
    assert!(output.status.success(), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("out.parquet.partial to Parquet"),
        "{message}"
    );
    assert!(!message.contains("as the CSV was written"), "{message}");

    // A new one converts its CSV as it is written, to the same file.
    let fresh = dir.join("fresh.parquet");
    let output = run(export_from(&flaky)
        .args(["--limit", "10", "-v", "-o"])
        .arg(&fresh));
    assert!(output.status.success(), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("fresh.parquet: converted to Parquet as the CSV was written"),
        "{message}"
    );
    assert!(!message.contains("partial to Parquet"), "{message}");
    assert_eq!(std::fs::read(&fresh).unwrap(), std::fs::read(&out).unwrap());
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "only the two Parquet files: {left:?}");
}

#[test]
fn resume_refusals() {
    let sandbox = sandbox(50);
    let dir = temp_dir("resume-refusals");
    // A name that implies no format: the test switches formats on purpose.
    let out = dir.join("out.data");
    let output = run(export_from(&sandbox).args(["--resume", "-o"]).arg(&out));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("nothing to resume"),
        "{}",
        stderr(&output)
    );

    // An interrupted CSV export cannot be resumed as JSON.
    let mut faults = Faults::default();
    faults.server_error_every = Some(2);
    let broken = sandbox_with(50, faults);
    let output = run(export_from(&broken)
        .args([
            "--format",
            "csv",
            "--limit",
            "10",
            "--max-attempts",
            "1",
            "-o",
        ])
        .arg(&out));
    assert_eq!(output.status.code(), Some(4));
    let output = run(export_from(&broken)
        .args(["--format", "jsonl", "--limit", "10", "--resume", "-o"])
        .arg(&out));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("format: checkpoint has \"csv-techwolf\", this run has \"jsonl\""),
        "{}",
        stderr(&output)
    );

    // A CSV export interrupted under another release (whose tables may lay
    // rows out differently) is not continued by this one: one file never
    // mixes two layouts. The checkpoint names the release and columns.
    let csv = dir.join("release.csv");
    let output = run(export_from(&broken)
        .args(["--limit", "10", "--max-attempts", "1", "-o"])
        .arg(&csv));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let checkpoint = dir.join("release.csv.checkpoint");
    let mut saved = crate::read_json(&checkpoint);
    let table = &mut saved["options"]["table"];
    assert_eq!(table["release"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        table["columns"],
        serde_json::json!(<tw_model::EmployeeSkillClusters as tw_model::Table>::COLUMNS)
    );
    table["release"] = "0.0.1".into();
    std::fs::write(&checkpoint, saved.to_string()).unwrap();
    let partial = dir.join("release.csv.partial");
    let before = std::fs::read(&partial).unwrap();
    let output = run(export_from(&broken)
        .args(["--limit", "10", "--resume", "-o"])
        .arg(&csv));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("table: checkpoint has {\"columns\":["),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("\"release\":\"0.0.1\"}, this run has"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read(&partial).unwrap(),
        before,
        "the partial file is untouched"
    );
    assert!(!csv.exists());

    // A different page size is fine: it does not change the output.
    let mut faults = Faults::default();
    faults.server_error_every = Some(3);
    let flaky = sandbox_with(50, faults);
    let out = dir.join("limit.jsonl");
    let output = run(export_from(&flaky)
        .args(["--limit", "10", "--max-attempts", "1", "-o"])
        .arg(&out));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let output = run(export_from(&flaky)
        .args(["--limit", "7", "--resume", "-o"])
        .arg(&out));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(crate::jsonl_ids(&out), crate::ids_of_tenant(&sandbox));
}

/// An interrupted export to `dir/out.jsonl`: the third page fails and
/// there are no retries, leaving a partial file and a checkpoint.
fn interrupted(dir: &Path) -> (tw_sandbox::Sandbox, std::path::PathBuf) {
    let mut faults = Faults::default();
    faults.server_error_every = Some(3);
    let sandbox = sandbox_with(100, faults);
    let out = dir.join("out.jsonl");
    let output = run(export_from(&sandbox)
        .args(["--limit", "10", "--max-attempts", "1", "-o"])
        .arg(&out));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    (sandbox, out)
}

/// A resume refused because the partial file's last page does not match
/// the checkpoint's digest: exit 2, saying so.
fn refused_as_changed(output: &std::process::Output) {
    assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
    assert!(
        stderr(output).contains("does not match its checkpoint"),
        "{}",
        stderr(output)
    );
}

fn resume(sandbox: &tw_sandbox::Sandbox, out: &Path) -> std::process::Output {
    run(export_from(sandbox)
        .args(["--limit", "10", "--max-attempts", "1", "--resume", "-o"])
        .arg(out))
}

#[test]
fn an_unusable_checkpoint_is_a_usage_error_that_says_how_to_start_over() {
    let dir = temp_dir("bad-checkpoint");
    let (sandbox, out) = interrupted(&dir);
    let checkpoint = dir.join("out.jsonl.checkpoint");
    let good = crate::read_json(&checkpoint);
    let with = |key: &str, value: serde_json::Value| {
        let mut changed = good.clone();
        changed[key] = value;
        changed.to_string()
    };
    for (case, text) in [
        ("empty", String::new()),
        ("garbage", "not json {".to_owned()),
        ("negative bytes", with("bytes", (-5).into())),
        ("unknown version", with("tw_export_checkpoint", 99.into())),
        (
            "more records than bytes",
            with("records", 10_000_000.into()),
        ),
        (
            "a cursor the API refuses",
            with("next_cursor", "c".repeat(101).into()),
        ),
    ] {
        std::fs::write(&checkpoint, text).unwrap();
        let output = resume(&sandbox, &out);
        assert_eq!(output.status.code(), Some(2), "{case}: {}", stderr(&output));
        let message = stderr(&output);
        assert!(
            message.contains("out.jsonl.checkpoint is unusable")
                && message.contains("without --resume to start over"),
            "{case}: {message}"
        );
    }
    assert!(!out.exists());
}

#[test]
fn a_partial_file_that_changed_since_its_checkpoint_is_not_continued() {
    let dir = temp_dir("tampered-partial");
    let (sandbox, out) = interrupted(&dir);
    let partial = dir.join("out.jsonl.partial");
    let mut bytes = std::fs::read(&partial).unwrap();
    // Change one character inside the last written page (the last record).
    let at = bytes.len() - 5;
    bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
    std::fs::write(&partial, &bytes).unwrap();
    refused_as_changed(&resume(&sandbox, &out));
    assert!(!out.exists());

    // Untouched, the same partial file resumes to the complete export
    // (every third request still fails, so it takes a few resumes, each of
    // which checks the digest of the page written before it).
    let dir = temp_dir("untampered-partial");
    let (sandbox, out) = interrupted(&dir);
    let mut runs = 0;
    loop {
        runs += 1;
        let output = resume(&sandbox, &out);
        if output.status.success() {
            break;
        }
        assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
        assert!(runs < 20, "each resume makes progress");
    }
    assert!(runs > 1);
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 100);
}

#[test]
fn the_digest_is_the_one_of_the_checkpoint_format() {
    // Format 3 digests pages with four lanes; a format 2 checkpoint holds
    // the one-lane digest (unit tests hold that one to tw-export 0.1.0's)
    // and is checked with it, so the same digest under format 2 does not
    // match.
    let dir = temp_dir("checkpoint-format");
    let (sandbox, out) = interrupted(&dir);
    let checkpoint = dir.join("out.jsonl.checkpoint");
    let mut saved = crate::read_json(&checkpoint);
    assert_eq!(saved["tw_export_checkpoint"], 3);
    saved["tw_export_checkpoint"] = 2.into();
    std::fs::write(&checkpoint, saved.to_string()).unwrap();
    refused_as_changed(&resume(&sandbox, &out));
}

#[test]
fn the_resume_hint_only_when_a_resume_can_help() {
    let dir = temp_dir("resume-hints");
    // Refused on the first page: no records, nothing left behind, no hint.
    let sandbox = sandbox(30);
    let out = dir.join("refused.jsonl");
    let output = run(crate::tw_export()
        .env("TECHWOLF_TOKEN", "wrong")
        .args(["skill-clusters", "--base-url", &sandbox.base_url(), "-o"])
        .arg(&out));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(!stderr(&output).contains("--resume"), "{}", stderr(&output));
    for leftover in [
        "refused.jsonl",
        "refused.jsonl.partial",
        "refused.jsonl.checkpoint",
    ] {
        assert!(!dir.join(leftover).exists(), "{leftover}");
    }
    // A broken protocol after some pages: the records stay, but no hint
    // (the same server would break the same way).
    let mut faults = Faults::default();
    faults.repeat_cursor = true;
    let broken = sandbox_with(50, faults);
    let out = dir.join("broken.jsonl");
    let output = run(export_from(&broken).args(["--limit", "10", "-o"]).arg(&out));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(!stderr(&output).contains("hint:"), "{}", stderr(&output));
    assert!(dir.join("broken.jsonl.partial").exists());
}

/// Sends `signal` (e.g. "-INT") to a child process with kill(1).
fn send(signal: &str, child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn ctrl_c_and_sigterm_stop_after_a_page_and_resume_exactly() {
    // 100 pages; the sandbox holds the fourth until the signal is sent.
    let sandbox = sandbox(1000);
    let dir = temp_dir("signals");
    let reference = dir.join("reference.jsonl");
    let output = run(export_from(&sandbox)
        .args(["--limit", "10", "-o"])
        .arg(&reference));
    assert!(output.status.success(), "{}", stderr(&output));

    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        let out = dir.join(format!("run{code}.jsonl"));
        let checkpoint = dir.join(format!("run{code}.jsonl.checkpoint"));
        sandbox.hold_after(3);
        let child = export_from(&sandbox)
            .args(["--limit", "10", "-o"])
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The event: a checkpoint after at least two pages.
        let started = Instant::now();
        while checkpoint_records(&checkpoint).is_none_or(|n| n < 20) {
            assert!(started.elapsed() < Duration::from_secs(60), "no progress");
            std::thread::sleep(Duration::from_millis(2));
        }
        send(signal, &child);
        // The exporter stops at the end of the page it waits for.
        sandbox.release();
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(code), "{}", stderr(&output));
        let message = stderr(&output);
        assert!(message.contains("stopped by"), "{message}");
        assert!(message.contains("--resume"), "{message}");
        assert!(!out.exists());
        let output = run(export_from(&sandbox)
            .args(["--limit", "10", "--resume", "-o"])
            .arg(&out));
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(
            std::fs::read(&out).unwrap(),
            std::fs::read(&reference).unwrap()
        );
    }
}

/// The decompressed bytes of a `.gz` or `.zst` file.
fn decompressed(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut out)
            .unwrap();
        out
    } else {
        zstd::decode_all(&bytes[..]).unwrap()
    }
}

#[test]
fn compressed_outputs_resume_to_the_same_content() {
    let sandbox = sandbox(400);
    let dir = temp_dir("compressed");
    for (name, plain) in [("out.jsonl.gz", "out.jsonl"), ("out.csv.zst", "out.csv")] {
        let reference = dir.join(plain);
        let output = run(export_from(&sandbox)
            .args(["--limit", "10", "-o"])
            .arg(&reference));
        assert!(output.status.success(), "{}", stderr(&output));
        let expected = std::fs::read(&reference).unwrap();

        let whole = dir.join(format!("whole-{name}"));
        let output = run(export_from(&sandbox)
            .args(["--limit", "10", "-o"])
            .arg(&whole));
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(decompressed(&whole), expected, "{name}");
        assert!(std::fs::metadata(&whole).unwrap().len() < expected.len() as u64 / 3);

        let out = dir.join(name);
        kill_during("skill-clusters", &sandbox, &[], &out, Kill::After(150));
        let output = run(export_from(&sandbox)
            .args(["--limit", "10", "--resume", "-o"])
            .arg(&out));
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        assert_eq!(
            decompressed(&out),
            expected,
            "{name} after a kill and --resume"
        );
    }
}

/// The hash `--stats` reports is the finished file's, whether the run was
/// resumed or not: it is taken as the bytes are written, going on from
/// the bytes of the interrupted run on a resume.
#[test]
fn a_resumed_exports_reported_hash_is_its_files() {
    let dir = temp_dir("resume-sha256");
    for name in ["out.jsonl", "out.csv.gz", "out.json"] {
        // The third request fails, and there are no retries.
        let mut faults = Faults::default();
        faults.server_error_every = Some(3);
        let flaky = sandbox_with(60, faults);
        let out = dir.join(name);
        let output = run(export_from(&flaky)
            .args(["--limit", "10", "--max-attempts", "1", "-o"])
            .arg(&out));
        assert_eq!(output.status.code(), Some(4), "{name}: {}", stderr(&output));
        let mut partial = out.as_os_str().to_owned();
        partial.push(".partial");
        assert!(std::fs::metadata(&partial).unwrap().len() > 0, "{name}");
        let stats = dir.join(format!("{name}.stats.json"));
        let output = run(export_from(&flaky)
            .args(["--limit", "10", "--resume", "--stats"])
            .arg(&stats)
            .arg("-o")
            .arg(&out));
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let report = crate::read_json(&stats);
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(report["sha256"], crate::sha256_hex(&bytes), "{name}");
        assert_eq!(report["bytes"], bytes.len() as u64, "{name}");
        assert_eq!(report["records"], 60, "{name}");
    }
}

//! `tw-export all`: every dataset into a directory, with a manifest.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use tw_sandbox::{Faults, Sandbox};

use crate::{run, sandbox, sandbox_with, stderr, temp_dir, tw_export};

/// `tw-export all --base-url <sandbox> -o DIR` with the static token.
fn all(sandbox: &Sandbox, dir: &Path) -> std::process::Command {
    let mut command = tw_export();
    command
        .env("TECHWOLF_TOKEN", "sandbox-token")
        .args(["all", "--base-url", &sandbox.base_url(), "-o"])
        .arg(dir);
    command
}

fn read_manifest(dir: &Path) -> Value {
    crate::read_json(dir.join("manifest.json"))
}

/// Every dataset's name and path, from tw-model's list.
fn datasets() -> Vec<(&'static str, &'static str)> {
    macro_rules! list {
        ($($module:ident: $dataset:ty,)*) => {
            vec![$((<$dataset as tw_model::Dataset>::NAME, <$dataset as tw_model::Dataset>::PATH)),*]
        };
    }
    tw_model::with_datasets!(list)
}

#[test]
fn every_dataset_lands_in_the_directory_with_a_true_manifest() {
    let sandbox = sandbox(150);
    let dir = temp_dir("all-every");
    let output = run(all(&sandbox, &dir).args(["--jobs", "3", "--active-only"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let manifest = read_manifest(&dir);
    assert_eq!(
        manifest["base_url"],
        sandbox.base_url().trim_end_matches('/')
    );
    assert!(manifest["finished"].is_string());
    for (name, path) in datasets() {
        let entry = &manifest["datasets"][name];
        assert_eq!(entry["status"], "ok", "{name}: {entry}");
        let file = dir.join(format!("{name}.jsonl"));
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(entry["sha256"], crate::sha256_hex(&bytes), "{name}");
        assert_eq!(entry["bytes"], bytes.len() as u64, "{name}");
        let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
        assert_eq!(entry["records"], lines, "{name}");
        // --active-only reached exactly the datasets that have it.
        let filters = entry["request"]["body"]["filters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let active = filters.iter().any(|f| f["filter"] == "is_active");
        let employee_export = path.starts_with("/export/employees/");
        assert_eq!(active, employee_export, "{name}: {filters:?}");
        if !employee_export {
            assert_eq!(entry["records"], sandbox.keys(path).len() as u64, "{name}");
        }
        assert!(!dir.join(format!("{name}.jsonl.partial")).exists());
        assert!(!dir.join(format!("{name}.jsonl.checkpoint")).exists());
    }
    // The sandbox sends fields the model does not know: reported by path.
    let drift = &manifest["datasets"]["skill-clusters"]["unknown_fields"];
    assert!(drift["employee_group"].as_u64().unwrap() > 0, "{drift}");
    assert!(
        drift["skill_clusters[].cluster_weight"].as_u64().unwrap() > 0,
        "{drift}"
    );
    assert!(
        manifest["datasets"]["org-units"]["unknown_fields"]["manager_external_id"]
            .as_u64()
            .is_some()
    );
    // One token for all (static here), and every request was a dataset's.
    let summary = stderr(&output);
    assert!(summary.contains("12 ok, 0 skipped, 0 failed"), "{summary}");
}

#[test]
fn forbidden_datasets_are_skipped_and_failing_ones_fail_with_exit_4() {
    let mut faults = Faults::default();
    faults.forbidden = vec!["/export/skills".into()];
    let forbidden = sandbox_with(40, faults);
    let dir = temp_dir("all-skipped");
    let output = run(all(&forbidden, &dir).args(["--datasets", "skills,ai-goals"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let manifest = read_manifest(&dir);
    assert_eq!(manifest["datasets"]["skills"]["status"], "skipped");
    let reason = manifest["datasets"]["skills"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("403") && reason.contains("may not read"),
        "{reason}"
    );
    assert_eq!(manifest["datasets"]["ai-goals"]["status"], "ok");
    assert!(!dir.join("skills.jsonl").exists());
    assert_eq!(manifest["datasets"].as_object().unwrap().len(), 2);

    let mut faults = Faults::default();
    faults.failing = vec!["/export/employees/ai_goals".into()];
    let failing = sandbox_with(40, faults);
    let dir = temp_dir("all-failed");
    let output = run(all(&failing, &dir).args([
        "--datasets",
        "ai-goals,skills,org-units",
        "--max-attempts",
        "1",
    ]));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1 of 3 datasets failed (ai-goals)"),
        "{}",
        stderr(&output)
    );
    let manifest = read_manifest(&dir);
    assert_eq!(manifest["datasets"]["ai-goals"]["status"], "failed");
    assert!(
        manifest["datasets"]["ai-goals"]["reason"]
            .as_str()
            .unwrap()
            .contains("503")
    );
    assert_eq!(manifest["datasets"]["skills"]["status"], "ok");
    assert_eq!(manifest["datasets"]["org-units"]["status"], "ok");
    assert!(!dir.join("ai-goals.jsonl").exists(), "no half-written file");

    // Refused credentials fail every dataset: exit 3.
    let dir = temp_dir("all-auth");
    let mut command = all(&failing, &dir);
    command.env("TECHWOLF_TOKEN", "wrong-token");
    let output = run(command.args(["--datasets", "skills,org-units"]));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
}

#[test]
fn bad_input_exits_2_before_any_request() {
    let sandbox = sandbox(10);
    let dir = temp_dir("all-bad");
    for (args, message) in [
        (
            &["--datasets", "skills,people"][..],
            "unknown dataset \"people\"",
        ),
        (&["--jobs", "0"], "--jobs"),
        (&["--limit", "0"], "limit"),
        (
            &["--state", "s.json", "--updated-after", "2024-01-01"],
            "use one of them",
        ),
    ] {
        let output = run(all(&sandbox, &dir).args(args));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert!(sandbox.requests().is_empty());
}

/// Runs `all` into `dir` and SIGKILLs it once `ready` says so (polling
/// the directory: an event, not a timer).
fn kill_when(mut command: std::process::Command, dir: &Path, ready: impl Fn(&Path) -> bool) {
    let mut child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !ready(dir) {
        assert!(started.elapsed() < Duration::from_secs(120), "never ready");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before the kill point"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// How many datasets the manifest lists as ok (0 when unreadable).
fn finished(dir: &Path) -> usize {
    std::fs::read(dir.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|m| {
            m["datasets"]
                .as_object()
                .map(|d| d.values().filter(|e| e["status"] == "ok").count())
        })
        .unwrap_or(0)
}

/// Whether some dataset has a checkpoint after at least one page.
fn mid_dataset(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            e.file_name().to_string_lossy().ends_with(".checkpoint")
                && std::fs::read(e.path())
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                    .is_some_and(|c| c["pages"].as_u64().unwrap_or(0) >= 1)
        })
    })
}

#[test]
fn killed_anywhere_and_resumed_the_directory_is_the_same() {
    let mut faults = Faults::default();
    faults.latency = Duration::from_millis(10);
    let sandbox = sandbox_with(300, faults);
    let reference = temp_dir("all-kill-reference");
    let output = run(all(&sandbox, &reference).args(["--jobs", "2", "--limit", "20"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let expected = read_manifest(&reference);

    type Ready = Box<dyn Fn(&Path) -> bool>;
    let points: Vec<(&str, Ready)> = vec![
        ("first-page", Box::new(mid_dataset)),
        ("one-done", Box::new(|d: &Path| finished(d) >= 1)),
        ("half-done", Box::new(|d: &Path| finished(d) >= 6)),
    ];
    for (name, ready) in points {
        let dir = temp_dir(&format!("all-kill-{name}"));
        let mut command = all(&sandbox, &dir);
        command.args(["--jobs", "2", "--limit", "20"]);
        kill_when(command, &dir, ready);
        let output = run(all(&sandbox, &dir).args(["--jobs", "2", "--limit", "20", "--resume"]));
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let got = read_manifest(&dir);
        for (dataset, _) in datasets() {
            let file = format!("{dataset}.jsonl");
            assert_eq!(
                std::fs::read(dir.join(&file)).unwrap(),
                std::fs::read(reference.join(&file)).unwrap(),
                "{name}: {file}"
            );
            for field in [
                "status",
                "records",
                "bytes",
                "sha256",
                "request",
                "unknown_fields",
            ] {
                assert_eq!(
                    got["datasets"][dataset][field], expected["datasets"][dataset][field],
                    "{name}: {dataset} {field}"
                );
            }
            assert!(!dir.join(format!("{file}.partial")).exists());
        }
        // The killed run's lock files went with the run that resumed it.
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".lock"))
            .collect();
        assert!(left.is_empty(), "{name}: {left:?}");
    }
}

#[test]
fn state_makes_the_next_run_incremental() {
    let sandbox = sandbox(200);
    let dir = temp_dir("all-state");
    let state = dir.join("state.json");
    let first = run(all(&sandbox, &dir.join("1"))
        .arg("--state")
        .arg(&state)
        .args(["--datasets", "skill-clusters,skills"]));
    assert!(first.status.success(), "{}", stderr(&first));
    let saved = crate::read_json(&state);
    let started = saved["datasets"]["skill-clusters"]["started"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(saved["datasets"]["skills"]["started"].is_string());

    // Three employees change today; the second run sends the overlap
    // filter (the day before the first run) and gets exactly them.
    let today = tw_model::Date::parse(&started[..10]).unwrap();
    sandbox.mark_updated([3, 50, 199], today);
    let before = sandbox.requests().len();
    let second = run(all(&sandbox, &dir.join("2"))
        .arg("--state")
        .arg(&state)
        .args(["--datasets", "skill-clusters,skills"]));
    assert!(second.status.success(), "{}", stderr(&second));
    let overlap = tw_model::Date::from_days_since_epoch(today.days_since_epoch() - 1);
    let sent: Vec<Value> = sandbox.requests()[before..]
        .iter()
        .filter(|r| r.path == "/export/employees/skill_clusters")
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(
        sent[0]["filters"],
        serde_json::json!([{"filter": "last_updated", "value": overlap.to_string(), "operator": "gt"}])
    );
    let keys = sandbox.keys("/export/employees/skill_clusters");
    let got = crate::jsonl_ids(&dir.join("2/skill-clusters.jsonl"));
    assert_eq!(got, [keys[3].clone(), keys[50].clone(), keys[199].clone()]);
    // Skills cannot filter on last_updated: exported fully, and said so.
    let manifest = read_manifest(&dir.join("2"));
    assert_eq!(
        manifest["datasets"]["skills"]["incremental"]["mode"],
        "full"
    );
    assert_eq!(
        manifest["datasets"]["skill-clusters"]["incremental"]["mode"],
        "since"
    );
    assert!(stderr(&second).contains("no last_updated filter: exported fully"));
}

#[test]
fn state_works_on_a_dataset_subcommand_too() {
    let sandbox = sandbox(60);
    let dir = temp_dir("state-single");
    let state = dir.join("state.json");
    let export = |out: &str| {
        run(crate::export_dataset(&sandbox, "skill-profiles")
            .arg("--state")
            .arg(&state)
            .arg("-o")
            .arg(dir.join(out)))
    };
    let output = export("1.jsonl");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("no earlier run, exported fully"));
    assert_eq!(crate::jsonl_ids(&dir.join("1.jsonl")).len(), 60);
    let output = export("2.jsonl");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("incremental: updated after"),
        "{}",
        stderr(&output)
    );
    assert!(crate::jsonl_ids(&dir.join("2.jsonl")).is_empty());
    // With an explicit start as well: which one would win? A usage error.
    let output = run(crate::export_dataset(&sandbox, "skill-profiles")
        .arg("--state")
        .arg(&state)
        .args(["--updated-after", "2024-01-01"]));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("use one of them"));
}

#[test]
fn concurrent_datasets_share_one_token_and_one_pool() {
    let sandbox = sandbox(120);
    let dir = temp_dir("all-one-token");
    let output = run(tw_export()
        .env("TECHWOLF_CLIENT_ID", "sandbox-client")
        .env("TECHWOLF_CLIENT_SECRET", "sandbox-secret")
        .args(["all", "--jobs", "4", "--limit", "25", "--tenant", "sandbox"])
        .args(["--base-url", &sandbox.base_url()])
        .args([
            "--token-url",
            &sandbox.token_url(),
            "--audience",
            "sandbox",
            "-o",
        ])
        .arg(&dir));
    assert!(output.status.success(), "{}", stderr(&output));
    let requests = sandbox.requests();
    let tokens = requests.iter().filter(|r| r.path == "/oauth/token").count();
    assert_eq!(tokens, 1, "one token request served every dataset");
    let exports = requests.len() - tokens;
    assert!(exports >= 12);
    // One pool: at most one connection per worker (and read-ahead), not
    // one per request.
    assert!(
        sandbox.connections() <= 4 * 2 + 1,
        "{} connections for {} requests",
        sandbox.connections(),
        requests.len()
    );
}

#[test]
fn compressed_directories_hold_the_same_content() {
    let sandbox = sandbox(50);
    let plain = temp_dir("all-plain");
    let packed = temp_dir("all-zst");
    let datasets = ["--datasets", "skills,org-units,ai-goals"];
    let output = run(all(&sandbox, &plain).args(datasets));
    assert!(output.status.success(), "{}", stderr(&output));
    let output = run(all(&sandbox, &packed)
        .args(datasets)
        .args(["--compress", "zst"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let manifest = read_manifest(&packed);
    for name in ["skills", "org-units", "ai-goals"] {
        let entry = &manifest["datasets"][name];
        assert_eq!(entry["file"], format!("{name}.jsonl.zst"));
        let bytes = std::fs::read(packed.join(format!("{name}.jsonl.zst"))).unwrap();
        assert_eq!(entry["sha256"], crate::sha256_hex(&bytes), "{name}");
        assert_eq!(
            zstd::decode_all(&bytes[..]).unwrap(),
            std::fs::read(plain.join(format!("{name}.jsonl"))).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn parquet_directories_hold_the_csv_tables() {
    let sandbox = sandbox(60);
    let dir = temp_dir("all-parquet");
    let output =
        run(all(&sandbox, &dir).args(["--format", "parquet", "--datasets", "skills,org-units"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let manifest = read_manifest(&dir);
    for name in ["skills", "org-units"] {
        let path = dir.join(format!("{name}.parquet"));
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            manifest["datasets"][name]["sha256"],
            crate::sha256_hex(&bytes)
        );
        assert!(!dir.join(format!("{name}.parquet.partial")).exists());
    }
    let rows =
        crate::datasets::parquet_rows::<tw_model::skills::Skills>(&dir.join("skills.parquet"));
    assert_eq!(
        rows.len() as u64,
        manifest["datasets"]["skills"]["records"].as_u64().unwrap()
    );
    let output = run(all(&sandbox, &dir).args(["--format", "parquet", "--compress", "gz"]));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[test]
fn all_checks_its_paths_before_any_request() {
    let sandbox = sandbox(10);
    let dir = temp_dir("all-into-a-file");
    let file = dir.join("tenant");
    std::fs::write(&file, "not a directory").unwrap();
    let output = run(&mut all(&sandbox, &file));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is a file; `all` writes a file per dataset"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a directory");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "nothing beside it"
    );
    assert!(sandbox.requests().is_empty(), "no request was sent");
    // A state file in a directory that does not exist: refused before any
    // export, not after every one of them.
    let missing = dir.join("typo").join("state.json");
    let output = run(all(&sandbox, &dir.join("out")).arg("--state").arg(&missing));
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the directory") && stderr(&output).contains("does not exist"),
        "{}",
        stderr(&output)
    );
    assert!(sandbox.requests().is_empty(), "no request was sent");
}

#[test]
fn ctrl_c_stops_all_and_resume_finishes_it() {
    let sandbox = sandbox(1000);
    let reference = temp_dir("all-sigint-reference");
    let datasets = [
        "--datasets",
        "skill-clusters,skill-profiles,skills",
        "--jobs",
        "1",
        "--limit",
        "10",
    ];
    let output = run(all(&sandbox, &reference).args(datasets));
    assert!(output.status.success(), "{}", stderr(&output));

    let dir = temp_dir("all-sigint");
    // The sandbox holds the first dataset's fourth page (of 100) until the
    // signal is sent.
    sandbox.hold_after(3);
    let child = all(&sandbox, &dir)
        .args(datasets)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The event: the first dataset has written pages.
    let started = Instant::now();
    while !mid_dataset(&dir) {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    sandbox.release();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(stderr(&output).contains("--resume"), "{}", stderr(&output));
    let manifest = read_manifest(&dir);
    assert_eq!(
        manifest["datasets"]["skill-clusters"]["status"],
        "interrupted"
    );
    assert!(
        manifest["datasets"].get("skills").is_none(),
        "no new dataset after the signal"
    );

    let output = run(all(&sandbox, &dir).args(datasets).arg("--resume"));
    assert!(output.status.success(), "{}", stderr(&output));
    for name in ["skill-clusters", "skill-profiles", "skills"] {
        let file = format!("{name}.jsonl");
        assert_eq!(
            std::fs::read(dir.join(&file)).unwrap(),
            std::fs::read(reference.join(&file)).unwrap(),
            "{file}"
        );
    }
}

/// The day the API starts sending a field the model does not know, in
/// every object: every dataset still exports, in JSON Lines and CSV; each
/// record keeps the field, each CSV row carries it in its `extra` cell,
/// and the manifest counts it once per record. CSV counts every unknown
/// field, at every path, as JSON Lines does (from the views the rows are
/// written from, not from the JSON text).
#[test]
fn a_field_the_api_adds_to_every_object_reaches_every_output() {
    let sandbox = Sandbox::start(tw_sandbox::SandboxConfig {
        employees: 40,
        new_fields: true,
        ..tw_sandbox::SandboxConfig::default()
    })
    .unwrap();
    let new = tw_sandbox::NEW_FIELD;
    let mut counted_in_jsonl = BTreeMap::new();
    for format in ["jsonl", "csv"] {
        let dir = temp_dir(&format!("all-new-fields-{format}"));
        let output = run(all(&sandbox, &dir).args(["--format", format]));
        assert!(output.status.success(), "{}", stderr(&output));
        let manifest = read_manifest(&dir);
        // Fields added to nested objects, counted by their paths.
        let mut nested = 0;
        for (name, _) in datasets() {
            let entry = &manifest["datasets"][name];
            assert_eq!(entry["status"], "ok", "{name} {format}: {entry}");
            let records = entry["records"].as_u64().unwrap();
            assert!(records > 0, "{name}");
            assert_eq!(
                entry["unknown_fields"][new].as_u64(),
                Some(records),
                "{name} {format}: {entry}"
            );
            nested += entry["unknown_fields"]
                .as_object()
                .unwrap()
                .keys()
                .filter(|path| path.ends_with(&format!(".{new}")))
                .count();
            let drift = counted_in_jsonl
                .entry(name)
                .or_insert(entry["unknown_fields"].clone());
            assert_eq!(&entry["unknown_fields"], drift, "{name} {format}");
            let file = dir.join(format!("{name}.{format}"));
            if format == "jsonl" {
                let text = std::fs::read_to_string(&file).unwrap();
                for line in text.lines() {
                    let record: Value = serde_json::from_str(line).unwrap();
                    assert_eq!(record[new], 0.5, "{name}: {line}");
                }
            } else {
                let mut reader = csv::Reader::from_path(&file).unwrap();
                let extra = reader.headers().unwrap().len() - 1;
                assert_eq!(&reader.headers().unwrap()[extra], "extra", "{name}");
                let mut rows = 0;
                for row in reader.records() {
                    let row = row.unwrap();
                    let cell: Value = serde_json::from_str(&row[extra]).unwrap();
                    let keys: Vec<&String> = cell.as_object().unwrap().keys().collect();
                    assert!(
                        keys.iter().any(|key| key.ends_with(&format!(".{new}"))),
                        "{name}: {keys:?}"
                    );
                    rows += 1;
                }
                assert!(rows as u64 >= records, "{name}: {rows} rows");
            }
        }
        assert!(nested > 10, "{format}: {nested} nested paths");
    }
}

//! `cargo xtask bench [--quick]`: every performance measurement in one go.
//!
//! Builds the release binaries (`--quick`: the dev-profile ones, to check
//! the benchmark runs end to end), starts the sandbox as a separate process
//! (so the exporter is measured alone), and runs each comparison side by
//! side, alternating, several times, reporting medians. Absolute numbers
//! on a shared machine drift; the ratios are what the targets are about.
//!
//! Processes are measured with GNU time (`/usr/bin/time`) for user and
//! system CPU and peak RSS; wall time is taken around the process here, at
//! a finer resolution than GNU time's 10 ms.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

/// One measured process run.
#[derive(Debug, Clone, Copy, Default)]
struct Usage {
    wall: f64,
    cpu: f64,
    rss_mib: f64,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn median_usage(runs: &[Usage]) -> Usage {
    Usage {
        wall: median(runs.iter().map(|u| u.wall).collect()),
        cpu: median(runs.iter().map(|u| u.cpu).collect()),
        rss_mib: median(runs.iter().map(|u| u.rss_mib).collect()),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Runs `program args` under GNU time and returns its usage; stdout is
/// discarded, a failure is an error.
fn measure(program: &Path, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<Usage> {
    let report = std::env::temp_dir().join(format!("tw-bench-time-{}", std::process::id()));
    let mut command = Command::new("/usr/bin/time");
    command
        .arg("-f")
        .arg("%e %U %S %M")
        .arg("-o")
        .arg(&report)
        .arg(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let started = std::time::Instant::now();
    let output = command
        .output()
        .context("running /usr/bin/time (install GNU time: apt-get install time)")?;
    let wall = started.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!(
            "{} {} failed: {}",
            program.display(),
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = std::fs::read_to_string(&report)?;
    let fields: Vec<f64> = text
        .split_whitespace()
        .map(|f| f.parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("parsing GNU time output {text:?}"))?;
    let [_, user, sys, rss_kb] = fields[..] else {
        bail!("unexpected GNU time output {text:?}");
    };
    Ok(Usage {
        wall,
        cpu: user + sys,
        rss_mib: rss_kb / 1024.0,
    })
}

/// A sandbox process, killed on drop.
struct SandboxProcess {
    child: Child,
    url: String,
}

impl SandboxProcess {
    fn start(exporter: &Path, employees: u32, latency_ms: u64) -> anyhow::Result<SandboxProcess> {
        Self::start_with(exporter, employees, latency_ms, &[])
    }

    /// [`SandboxProcess::start`] with more `tw-export sandbox` arguments.
    fn start_with(
        exporter: &Path,
        employees: u32,
        latency_ms: u64,
        more: &[&str],
    ) -> anyhow::Result<SandboxProcess> {
        let mut child = Command::new(exporter)
            .args([
                "sandbox",
                "--port",
                "0",
                "--employees",
                &employees.to_string(),
            ])
            .args(["--latency-ms", &latency_ms.to_string()])
            .args(more)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the sandbox")?;
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = loop {
            let Some(line) = lines.next() else {
                bail!("the sandbox exited before printing its URL");
            };
            if let Some(url) = line?.trim().strip_prefix("base URL:") {
                break url.trim().to_owned();
            }
        };
        // Keep draining stdout so the sandbox never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(SandboxProcess { child, url })
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `command` (a helper the benchmark reads) and returns its stdout;
/// fails with its stderr, under `what`, when it fails.
fn stdout_of(command: &mut Command, what: &str) -> anyhow::Result<String> {
    let output = command.output()?;
    if !output.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// Measures `tw-export skill-clusters --quiet --base-url URL EXTRA... -o OUT`
/// with the sandbox's static token.
fn export(exporter: &Path, url: &str, extra: &[&str], out: &str) -> anyhow::Result<Usage> {
    export_dataset(exporter, "skill-clusters", url, extra, out)
}

/// Measures `tw-export DATASET --quiet --base-url URL EXTRA... -o OUT`,
/// writing a new file: the previous run's output is deleted first, untimed
/// (what deleting a large file costs is the filesystem's, and the bench
/// reports it on its own row).
fn export_dataset(
    exporter: &Path,
    dataset: &str,
    url: &str,
    extra: &[&str],
    out: &str,
) -> anyhow::Result<Usage> {
    remove_if_there(Path::new(out))?;
    export_over(exporter, dataset, url, extra, out)
}

/// Deletes `path` if it exists; returns how long that took, in seconds.
/// Measures `dd` writing `bytes` zero bytes to a new file at `out` in
/// 256 KiB blocks, then `fdatasync`: what the disk alone takes for an
/// export's bytes. The file is deleted afterwards, untimed.
fn disk_floor(out: &str, bytes: u64) -> anyhow::Result<Usage> {
    const BLOCK: u64 = 256 << 10;
    remove_if_there(Path::new(out))?;
    let usage = measure(
        Path::new("dd"),
        &[
            "if=/dev/zero",
            &format!("of={out}"),
            &format!("bs={BLOCK}"),
            &format!("count={}", bytes.div_ceil(BLOCK)),
            "conv=fdatasync",
            "status=none",
        ],
        &[],
    )?;
    remove_if_there(Path::new(out))?;
    Ok(usage)
}

fn remove_if_there(path: &Path) -> anyhow::Result<f64> {
    let started = std::time::Instant::now();
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err.into()),
        _ => Ok(started.elapsed().as_secs_f64()),
    }
}

/// Measures `tw-export DATASET --quiet --base-url URL EXTRA... -o OUT` over
/// whatever OUT holds (the export replaces it).
fn export_over(
    exporter: &Path,
    dataset: &str,
    url: &str,
    extra: &[&str],
    out: &str,
) -> anyhow::Result<Usage> {
    let mut args = vec![dataset, "--quiet", "--base-url", url];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-o", out]);
    measure(exporter, &args, &[("TECHWOLF_TOKEN", "sandbox-token")])
}

struct Sizes {
    export: u32,
    latency: u32,
    scaling: [u32; 3],
    reps: usize,
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

/// Drops `binary`'s pages from the page cache (`dd iflag=nocache`), so its
/// peak RSS is an installed binary's: the file the linker just wrote is
/// cached in large folios, and each page fault of the new process maps
/// more of it (about 1 MiB more peak RSS for `tw-export --help`, 6.5 vs
/// 5.7 MiB, measured with GNU time). Best effort: without GNU dd the
/// numbers are only less stable.
fn drop_from_page_cache(binary: &std::path::Path) {
    let mut input = std::ffi::OsString::from("if=");
    input.push(binary);
    let dropped = Command::new("dd")
        .arg(input)
        .args(["iflag=nocache", "count=0", "status=none"])
        .status()
        .is_ok_and(|status| status.success());
    if !dropped {
        eprintln!(
            "note: could not drop {} from the page cache",
            binary.display()
        );
    }
}

pub(crate) fn run(quick: bool) -> anyhow::Result<()> {
    let root = root();
    let sizes = if quick {
        Sizes {
            export: 2_000,
            latency: 1_000,
            scaling: [1_000, 2_000, 4_000],
            reps: 1,
        }
    } else {
        Sizes {
            export: 100_000,
            latency: 10_000,
            scaling: [10_000, 100_000, 1_000_000],
            reps: 5,
        }
    };

    // The full run measures release binaries. --quick only checks that the
    // benchmark runs end to end (its numbers are not read), so it takes the
    // dev-profile binaries `cargo test` already built: no release build.
    let profile = if quick { "debug" } else { "release" };
    eprintln!("building {profile} binaries...");
    // The full run builds the command on its own, as users build it
    // (`cargo install`, `cargo run -p tw-export-cli`): built together with
    // the examples, it would get the features of their dev-dependencies too
    // (a test transport, proptest's Unicode tables for regex): 0.11 MB more
    // code, 0.25 MB more read-only data and 0.5 MiB more peak RSS than the
    // binary users run. --quick builds them together, with the features
    // `cargo test` already built them with.
    let builds: &[&[&str]] = if quick {
        &[&[
            "-p",
            "tw-export",
            "-p",
            "tw-export-cli",
            "--bins",
            "--examples",
        ]]
    } else {
        &[
            &["-p", "tw-export-cli", "--bins"],
            &["-p", "tw-export", "--examples"],
        ]
    };
    for &targets in builds {
        let mut build = Command::new(env!("CARGO"));
        build.current_dir(&root).args(["build", "--quiet"]);
        if !quick {
            build.arg("--release");
        }
        if !build.args(targets).status()?.success() {
            bail!("cargo build ({profile}) of {} failed", targets.join(" "));
        }
    }
    // Where cargo put them: CARGO_TARGET_DIR when set (relative to the
    // workspace), else target/.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(|| root.join("target"), |dir| root.join(dir));
    let release = target.join(profile);
    let exporter = release.join("tw-export");
    for binary in ["tw-export", "examples/fetch_floor", "examples/bench_decode"] {
        drop_from_page_cache(&release.join(binary));
    }
    let scratch = std::env::temp_dir().join(format!("tw-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let out = |name: &str| scratch.join(name).to_string_lossy().into_owned();
    let mut md = String::new();

    // 1. Decode: the scanner per dataset, decoders on skill clusters.
    eprintln!("1/6 decode...");
    let text = stdout_of(
        Command::new(release.join("examples/bench_decode")).args(if quick {
            &["--quick"][..]
        } else {
            &[]
        }),
        "bench_decode",
    )?;
    let result = |name: &str| -> anyhow::Result<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("RESULT {name} ")))
            .context("a bench_decode result")?
            .parse::<f64>()
            .map_err(Into::into)
    };
    let (jsonl_out, csv_out, csv_view) = (
        result("jsonl_out")?,
        result("csv_out")?,
        result("csv_view")?,
    );
    let (jsonl_new_fields, csv_new_fields) = (
        result("jsonl_out_new_fields")?,
        result("csv_out_new_fields")?,
    );
    let (jsonl_counting, jsonl_counting_new_fields) = (
        result("jsonl_counting")?,
        result("jsonl_counting_new_fields")?,
    );
    let (csv_counting, csv_counting_new_fields) =
        (result("csv_counting")?, result("csv_counting_new_fields")?);
    let (scan, view, in_place, typed, value, ignored) = (
        result("scan")?,
        result("view")?,
        result("in_place")?,
        result("typed")?,
        result("value")?,
        result("ignored_any")?,
    );
    writeln!(
        md,
        "### Decode (skill-clusters pages of 100, all includes, in memory)\n"
    )?;
    writeln!(md, "| decoder | MB/s | vs `IgnoredAny` |\n|---|---:|---:|")?;
    for (name, mbps) in [
        (
            "one-pass scanner (every export: envelope, ranges, every record checked)",
            scan,
        ),
        (
            "views over the last page's (`Viewed` records: strings as spans of the page)",
            view,
        ),
        (
            "typed records decoded in place over the last page's",
            in_place,
        ),
        ("typed records, fresh (`decode_page`)", typed),
        ("`serde_json::Value`", value),
        ("`IgnoredAny` (just reading)", ignored),
    ] {
        writeln!(md, "| {name} | {mbps:.0} | {:.2}x |", mbps / ignored)?;
    }
    // The scanner's target, and what `IgnoredAny` read on the run it was
    // set on: the same-run ratio shows whether a miss is this host's speed.
    const SCANNER_TARGET: f64 = 1000.0;
    const IGNORED_ANY_THEN: f64 = 1300.0;
    let ratio_target = SCANNER_TARGET / IGNORED_ANY_THEN;
    writeln!(
        md,
        "\n* Scanner: **{scan:.0} MB/s** (target at least {SCANNER_TARGET:.0} MB/s): {}",
        verdict(scan >= SCANNER_TARGET)
    )?;
    writeln!(
        md,
        "  * Against this run's `IgnoredAny`: **{:.2}x** (the target was set when `IgnoredAny` read {IGNORED_ANY_THEN:.0} MB/s: {ratio_target:.2}x of it): {}",
        scan / ignored,
        verdict(scan / ignored >= ratio_target)
    )?;
    writeln!(
        md,
        "* Typed at least as fast as `Value`: {} ({:.2}x)\n",
        verdict(typed >= value),
        typed / value
    )?;
    writeln!(
        md,
        "Every dataset, default request, largest page, in memory; the two export paths as the command runs them (JSON Lines: scan, write the checked bytes; TechWolf CSV: view each record, write its rows), to `io::sink()`:\n\n\
         | dataset | MB | scanner MB/s | `IgnoredAny` MB/s | scanner vs `IgnoredAny` | JSON Lines path MB/s | CSV path MB/s | CSV vs JSON Lines (CPU) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("RESULT dataset ") {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            let [name, bytes, scan, ignored, jsonl, csv] = parts[..] else {
                bail!("unexpected bench_decode line {line:?}");
            };
            let [bytes, scan, ignored, jsonl, csv] =
                [bytes, scan, ignored, jsonl, csv].map(str::parse::<f64>);
            let (bytes, scan, ignored, jsonl, csv) = (bytes?, scan?, ignored?, jsonl?, csv?);
            writeln!(
                md,
                "| {name} | {:.1} | {scan:.0} | {ignored:.0} | {:.2}x | {jsonl:.0} | {csv:.0} | {:.2}x |",
                bytes / 1e6,
                scan / ignored,
                jsonl / csv
            )?;
        }
    }
    writeln!(md)?;

    // 2-4. Export, peer, floor on one sandbox, alternating.
    eprintln!(
        "2-4/6 export, peer and floor against {} employees...",
        sizes.export
    );
    let sandbox = SandboxProcess::start(&exporter, sizes.export, 0)?;
    let peer = root.join("bench/peer.py");
    let python = PathBuf::from("python3");
    let mut runs: [Vec<Usage>; 12] = Default::default();
    let mut deletes = Vec::new();
    let mut deleted_mb = 0.0;
    for _ in 0..sizes.reps {
        runs[0].push(export(&exporter, &sandbox.url, &[], &out("a.jsonl"))?);
        // The same export over the file the run before left, as a nightly
        // export replaces yesterday's; and what deleting that file costs.
        runs[7].push(export_over(
            &exporter,
            "skill-clusters",
            &sandbox.url,
            &[],
            &out("a.jsonl"),
        )?);
        let jsonl_bytes = std::fs::metadata(out("a.jsonl"))?.len();
        deleted_mb = jsonl_bytes as f64 / 1e6;
        deletes.push(remove_if_there(Path::new(&out("a.jsonl")))?);
        // The disk alone: as many bytes, written and synced, no network.
        runs[8].push(disk_floor(&out("disk"), jsonl_bytes)?);
        // To stdout (discarded): the exporter without the disk.
        runs[6].push(measure(
            &exporter,
            &["skill-clusters", "--quiet", "--base-url", &sandbox.url],
            &[("TECHWOLF_TOKEN", "sandbox-token")],
        )?);
        runs[1].push(export(
            &exporter,
            &sandbox.url,
            &["--format", "csv"],
            &out("a.csv"),
        )?);
        // Counting unknown fields by path, as `all` does for its manifest.
        let stats = out("stats.json");
        runs[10].push(export(
            &exporter,
            &sandbox.url,
            &["--stats", &stats],
            &out("stats.jsonl"),
        )?);
        runs[11].push(export(
            &exporter,
            &sandbox.url,
            &["--format", "csv", "--stats", &stats],
            &out("stats.csv"),
        )?);
        runs[9].push(export(
            &exporter,
            &sandbox.url,
            &["--format", "parquet"],
            &out("a.parquet"),
        )?);
        remove_if_there(Path::new(&out("peer.jsonl")))?;
        runs[2].push(measure(
            &python,
            &[
                peer.to_str().unwrap(),
                &sandbox.url,
                "sandbox-token",
                &out("peer.jsonl"),
            ],
            &[],
        )?);
        runs[3].push(measure(
            &release.join("examples/fetch_floor"),
            &[&sandbox.url, "sandbox-token"],
            &[],
        )?);
        for (run, format) in [(4, "jsonl"), (5, "csv")] {
            runs[run].push(export_dataset(
                &exporter,
                "skill-profiles",
                &sandbox.url,
                &["--format", format],
                &out(&format!("profiles.{format}")),
            )?);
        }
    }
    // Every dataset through the generic path, JSONL (the raw path), on the
    // same sandbox: a slow dataset shows here.
    let mut per_dataset = Vec::new();
    for name in dataset_names() {
        let file = out(&format!("{name}.jsonl"));
        let mut usages = Vec::new();
        for _ in 0..sizes.reps.min(3) {
            usages.push(export_dataset(&exporter, name, &sandbox.url, &[], &file)?);
        }
        let bytes = std::fs::metadata(&file)?.len();
        let records = std::fs::read(&file)?
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        per_dataset.push((name, records, bytes, median_usage(&usages)));
    }
    drop(sandbox);
    // The day the API adds a field: the same export from a sandbox that
    // puts one the model does not know in every object.
    let sandbox = SandboxProcess::start_with(&exporter, sizes.export, 0, &["--new-fields"])?;
    let (mut jsonl_new, mut csv_new) = (Vec::new(), Vec::new());
    for _ in 0..sizes.reps {
        jsonl_new.push(export(&exporter, &sandbox.url, &[], &out("new.jsonl"))?);
        csv_new.push(export(
            &exporter,
            &sandbox.url,
            &["--format", "csv"],
            &out("new.csv"),
        )?);
    }
    drop(sandbox);
    let (jsonl_new, csv_new) = (median_usage(&jsonl_new), median_usage(&csv_new));
    let [
        jsonl,
        csv,
        peer_usage,
        floor,
        profiles_jsonl,
        profiles_csv,
        jsonl_stdout,
        jsonl_replacing,
        disk,
        parquet,
        jsonl_stats,
        csv_stats,
    ] = runs.map(|r| median_usage(&r));
    let delete = median(deletes);
    writeln!(
        md,
        "### Export of {} employees over loopback (median of {})\n",
        sizes.export, sizes.reps
    )?;
    writeln!(
        md,
        "| run | wall s | CPU s (user+sys) | peak RSS MiB |\n|---|---:|---:|---:|"
    )?;
    for (name, u) in [
        ("`tw-export` → JSONL file", jsonl),
        (
            "`tw-export` → JSONL file, replacing the run before's",
            jsonl_replacing,
        ),
        ("`tw-export` → CSV file", csv),
        (
            "`tw-export` → Parquet file (its CSV converted as it is written)",
            parquet,
        ),
        (
            "`tw-export` → JSONL on stdout (discarded: no disk)",
            jsonl_stdout,
        ),
        (
            "`tw-export --stats` → JSONL file (unknown fields counted, file hashed, as `all` does)",
            jsonl_stats,
        ),
        (
            "`tw-export --stats` → CSV file (unknown fields counted, file hashed, as `all --format csv` does)",
            csv_stats,
        ),
        (
            "Python `requests` + `json` → JSONL (bench/peer.py)",
            peer_usage,
        ),
        ("fetch-only floor (same transport, pages discarded)", floor),
        (
            "disk floor: `dd` of as many bytes as the JSONL file, fdatasync (no network)",
            disk,
        ),
        ("`tw-export skill-profiles` → JSONL", profiles_jsonl),
        ("`tw-export skill-profiles` → CSV", profiles_csv),
        (
            "`tw-export` → JSONL file, a new field in every object (`sandbox --new-fields`)",
            jsonl_new,
        ),
        (
            "`tw-export` → CSV file, a new field in every object (`sandbox --new-fields`)",
            csv_new,
        ),
    ] {
        writeln!(
            md,
            "| {name} | {:.2} | {:.2} | {:.1} |",
            u.wall, u.cpu, u.rss_mib
        )?;
    }
    writeln!(
        md,
        "\nThe first nine rows export skill clusters, and the disk row writes as many bytes as the \
         JSONL file holds, with no network, and syncs them; the skill-profiles rows export the same employees' profiles (all default includes) through the same generic path; the last two export skill clusters again, from a sandbox that adds a field the model does not know to every object. A file \
         export writes a new file (the run before's is deleted first, untimed) and ends with \
         an fsync before the rename that puts the complete file in place; its bytes are \
         written back to disk in the background as it runs. The replacing row exports over \
         the file the run before left: the rename then frees that file, which costs what \
         deleting it costs on this disk ({delete:.2} s, median of {} deletes of the \
         {deleted_mb:.0} MB file). The stdout row shows the exporter without the disk.",
        sizes.reps,
    )?;
    let cpu_ratio = peer_usage.cpu / jsonl.cpu;
    let floor_ratio = jsonl.wall / floor.wall;
    let csv_ratio = csv.cpu / jsonl.cpu;
    // The CSV export's CPU, at most this times the JSONL export's.
    const CSV_TARGET: f64 = 1.3;
    writeln!(md)?;
    writeln!(
        md,
        "* CPU: the peer uses **{cpu_ratio:.1}x** the exporter's CPU (target at least 15x, 20x wanted): {}",
        verdict(cpu_ratio >= 15.0)
    )?;
    writeln!(
        md,
        "* CSV: **{csv_ratio:.2}x** the CPU of the JSONL export (target at most {CSV_TARGET}x): {}",
        verdict(csv_ratio <= CSV_TARGET)
    )?;
    writeln!(
        md,
        "  * In memory (no network, no disk; skill-clusters pages, all includes; each path as the \
         command runs it): JSON Lines (scan, write the checked bytes) at {jsonl_out:.0} MB/s, \
         CSV (view each record and write its rows as the page is decoded, copy the rows) at {csv_out:.0} MB/s: CSV costs **{:.2}x** \
         the CPU of JSON Lines on the same bytes",
        jsonl_out / csv_out
    )?;
    // Time per byte, in units of the JSON Lines path's: viewing, then the
    // rows (what writing them adds to viewing).
    let viewing = jsonl_out / csv_view;
    let rows = jsonl_out / csv_out - viewing;
    writeln!(
        md,
        "  * Of that: viewing the records (the CSV path with no rows written, {csv_view:.0} MB/s) \
         **{viewing:.2}x** the JSON Lines path, writing their rows **{rows:.2}x**; {CSV_TARGET}x would \
         leave the rows {:.2}x",
        CSV_TARGET - viewing
    )?;
    writeln!(
        md,
        "  * From a sandbox that adds a field this release does not know to every object \
         (`tw-export sandbox --new-fields`, the last two rows): CSV **{:.2}x** the CPU of the \
         JSONL export (no target)",
        csv_new.cpu / jsonl_new.cpu
    )?;
    writeln!(
        md,
        "  * With a field this release does not know on every employee, cluster and skill (as \
         on the day the API starts sending one; the same tenant from a `--new-fields` sandbox, \
         in memory): JSON Lines at \
         {jsonl_new_fields:.0} MB/s, CSV (the new fields in every row's `extra` cell) at \
         {csv_new_fields:.0} MB/s: CSV costs **{:.2}x** the CPU of JSON Lines (no target; \
         {:.2}x without the new fields)",
        jsonl_new_fields / csv_new_fields,
        jsonl_out / csv_out
    )?;
    writeln!(
        md,
        "* Drift (no target): the JSONL export that also counts the fields the model does not \
         know by path and hashes the file for its report (`--stats`, and every export of \
         `tw-export all`) takes **{:.2}x** the CPU of the plain one; in memory, counted in the pass that checks each page, at \
         {jsonl_counting:.0} MB/s: {:.2}x the plain path on the same bytes ({:.2}x with a new \
         field in every object)",
        jsonl_stats.cpu / jsonl.cpu,
        jsonl_out / jsonl_counting,
        jsonl_new_fields / jsonl_counting_new_fields
    )?;
    writeln!(
        md,
        "  * CSV: the export that counts them and hashes the file (`--stats --format csv`, and \
         `all --format csv`) takes **{:.2}x** the CPU of the plain CSV export; in memory, counted from the views \
         the rows are written from, at {csv_counting:.0} MB/s: {:.2}x the plain CSV path on \
         the same bytes ({:.2}x with a new field in every object)",
        csv_stats.cpu / csv.cpu,
        csv_out / csv_counting,
        csv_new_fields / csv_counting_new_fields
    )?;
    writeln!(
        md,
        "* Parquet (no target): {:.2}x the CPU of the JSONL export; peak RSS {:.1} MiB, one \
         row group in memory as the CSV is converted while the export writes it",
        parquet.cpu / jsonl.cpu,
        parquet.rss_mib
    )?;
    writeln!(
        md,
        "* Wall: exporter {:.2} s vs peer {:.2} s (target: not slower): {}",
        jsonl.wall,
        peer_usage.wall,
        verdict(jsonl.wall <= peer_usage.wall)
    )?;
    writeln!(
        md,
        "* Floor: the JSONL file export takes **{floor_ratio:.2}x** the fetch-only floor's wall time \
         (target at most 2.0x): {}; replacing the run before's file: {:.2}x; to stdout, \
         without the disk: {:.2}x",
        verdict(floor_ratio <= 2.0),
        jsonl_replacing.wall / floor.wall,
        jsonl_stdout.wall / floor.wall
    )?;
    writeln!(
        md,
        "  * The disk alone: writing and syncing as many bytes takes {:.2} s ({:.2}x the fetch-only \
         floor); the JSONL file export takes {:.2}x the slower of the two floors",
        disk.wall,
        disk.wall / floor.wall,
        jsonl.wall / disk.wall.max(floor.wall)
    )?;
    writeln!(md)?;

    writeln!(
        md,
        "### Every dataset, JSONL, same sandbox (median of {})\n",
        sizes.reps.min(3)
    )?;
    writeln!(
        md,
        "| dataset | records | MB | wall s | CPU s | MB/s (wall) |\n|---|---:|---:|---:|---:|---:|"
    )?;
    for (name, records, bytes, u) in &per_dataset {
        let mb = *bytes as f64 / 1e6;
        writeln!(
            md,
            "| {name} | {records} | {mb:.1} | {:.2} | {:.2} | {:.0} |",
            u.wall,
            u.cpu,
            mb / u.wall.max(1e-6)
        )?;
    }
    writeln!(md)?;

    // 5. Latency hiding.
    eprintln!("5/6 latency and scaling...");
    let sandbox = SandboxProcess::start(&exporter, sizes.latency, 20)?;
    let (mut lat, mut lat_floor) = (Vec::new(), Vec::new());
    for _ in 0..sizes.reps.min(3) {
        lat.push(export(&exporter, &sandbox.url, &[], &out("lat.jsonl"))?);
        // The same pages fetched and dropped: what the sandbox's own time
        // per page (its sleep overshooting, serving) adds to 20 ms.
        lat_floor.push(measure(
            &release.join("examples/fetch_floor"),
            &[&sandbox.url, "sandbox-token"],
            &[],
        )?);
    }
    drop(sandbox);
    let (lat, lat_floor) = (median_usage(&lat), median_usage(&lat_floor));
    let pages = f64::from(sizes.latency.div_ceil(100));
    let ideal = pages * 0.020;
    writeln!(
        md,
        "### Latency hiding: 20 ms added to every page, {} employees ({} pages)\n",
        sizes.latency, pages
    )?;
    writeln!(
        md,
        "Wall {:.2} s vs pages x 20 ms = {ideal:.2} s: **{:.2}x** (target within 1.10x): {}\n",
        lat.wall,
        lat.wall / ideal,
        verdict(lat.wall / ideal <= 1.10)
    )?;
    writeln!(
        md,
        "* The fetch-only floor on the same sandbox (pages requested in turn and dropped) takes {:.2} s ({:.2}x the 20 ms per page): the export takes **{:.2}x** the floor\n",
        lat_floor.wall,
        lat_floor.wall / ideal,
        lat.wall / lat_floor.wall
    )?;

    // `tw-export all`: datasets at once, 20 ms per page.
    eprintln!("all --jobs 1 vs --jobs 4...");
    let sandbox = SandboxProcess::start(&exporter, sizes.latency, 20)?;
    let mut alone = Vec::new();
    for name in dataset_names() {
        let mut r = Vec::new();
        for _ in 0..sizes.reps.min(3) {
            r.push(export_dataset(
                &exporter,
                name,
                &sandbox.url,
                &[],
                &out(&format!("alone-{name}.jsonl")),
            )?);
        }
        alone.push(median_usage(&r).wall);
    }
    let mut all_runs: [Vec<Usage>; 2] = Default::default();
    for _ in 0..sizes.reps.min(3) {
        for (i, jobs) in [(0, "1"), (1, "4")] {
            let dir = out(&format!("all-{jobs}"));
            all_runs[i].push(measure(
                &exporter,
                &[
                    "all",
                    "--quiet",
                    "--base-url",
                    &sandbox.url,
                    "--jobs",
                    jobs,
                    "-o",
                    &dir,
                ],
                &[("TECHWOLF_TOKEN", "sandbox-token")],
            )?);
        }
    }
    drop(sandbox);
    let [jobs1, jobs4] = all_runs.map(|r| median_usage(&r));
    let slowest = alone.iter().copied().fold(0.0, f64::max);
    let sum: f64 = alone.iter().sum();
    let bound = slowest.max(sum / 4.0);
    writeln!(
        md,
        "### `tw-export all`: every dataset, 20 ms added to every page, {} employees (median of {})\n",
        sizes.latency,
        sizes.reps.min(3)
    )?;
    writeln!(
        md,
        "| run | wall s | CPU s | peak RSS MiB |\n|---|---:|---:|---:|\n\
         | each dataset alone, summed | {sum:.2} | | |\n\
         | slowest dataset alone | {slowest:.2} | | |\n\
         | `all --jobs 1` | {:.2} | {:.2} | {:.1} |\n\
         | `all --jobs 4` | {:.2} | {:.2} | {:.1} |\n",
        jobs1.wall, jobs1.cpu, jobs1.rss_mib, jobs4.wall, jobs4.cpu, jobs4.rss_mib
    )?;
    writeln!(
        md,
        "* `--jobs 4` takes **{:.2}x** the bound max(slowest alone, sum / 4) = {bound:.2} s (target within 1.3x): {}",
        jobs4.wall / bound,
        verdict(jobs4.wall / bound <= 1.3)
    )?;
    writeln!(
        md,
        "* `--jobs 4` is **{:.2}x** faster than `--jobs 1` (target at least 2.5x): {}\n",
        jobs1.wall / jobs4.wall,
        verdict(jobs1.wall / jobs4.wall >= 2.5)
    )?;

    // 6. Scaling.
    writeln!(
        md,
        "### Scaling (JSONL)\n\n| employees | wall s | µs/record | peak RSS MiB |\n|---:|---:|---:|---:|"
    )?;
    let mut scaling = Vec::new();
    for employees in sizes.scaling {
        let sandbox = SandboxProcess::start(&exporter, employees, 0)?;
        let mut r = Vec::new();
        for _ in 0..sizes.reps.min(3) {
            r.push(export(&exporter, &sandbox.url, &[], &out("scale.jsonl"))?);
        }
        let u = median_usage(&r);
        writeln!(
            md,
            "| {employees} | {:.2} | {:.2} | {:.1} |",
            u.wall,
            u.wall * 1e6 / f64::from(employees),
            u.rss_mib
        )?;
        scaling.push(u);
    }
    let rss_growth = scaling[2].rss_mib / scaling[0].rss_mib;
    let per_record = |i: usize| scaling[i].wall / f64::from(sizes.scaling[i]);
    let linear = per_record(2) / per_record(1);
    writeln!(md)?;
    writeln!(
        md,
        "* RSS from smallest to largest: {:.2}x, max {:.1} MiB (target within 1.10x and under 12 MiB): {}",
        rss_growth,
        scaling.iter().map(|u| u.rss_mib).fold(0.0, f64::max),
        verdict(rss_growth <= 1.10 && scaling.iter().all(|u| u.rss_mib < 12.0))
    )?;
    writeln!(
        md,
        "* Time per record, largest vs middle: {linear:.2}x (linear growth is 1.0x)"
    )?;

    // 6. tw-paginate's own overhead (its bench, in the bench profile).
    eprintln!("6/6 tw-paginate overhead...");
    let drain = stdout_of(
        Command::new(env!("CARGO"))
            .current_dir(&root)
            .args([
                "bench",
                "--quiet",
                "-p",
                "tw-paginate",
                "--bench",
                "drain",
                "--",
            ])
            .args(if quick { &["--quick"][..] } else { &[] }),
        "cargo bench -p tw-paginate",
    )?;
    writeln!(
        md,
        "\n### `tw-paginate` overhead (`cargo bench -p tw-paginate`)\n\n```\n{}```",
        drain
    )?;

    let machine = format!(
        "{} cores, {}; `cargo xtask bench{}`",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(
                |c| c.lines().find(|l| l.starts_with("model name")).map(|l| l
                    .split(':')
                    .nth(1)
                    .unwrap_or("")
                    .trim()
                    .to_owned())
            )
            .unwrap_or_else(|| "unknown CPU".into()),
        if quick { " --quick" } else { "" }
    );
    let report = format!("Measured on: {machine}.\n\n{md}");
    #[allow(clippy::print_stdout)]
    {
        println!("{report}");
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if !quick {
        std::fs::write(
            root.join("bench/RESULTS.md"),
            format!("# Benchmark results\n\n{report}"),
        )?;
        update_readme(&root.join("README.md"), &report)?;
        eprintln!("wrote bench/RESULTS.md and README's Performance section");
    }
    Ok(())
}

/// Replaces the text between the Performance markers in README.
fn update_readme(path: &Path, report: &str) -> anyhow::Result<()> {
    const START: &str = "<!-- bench:start -->";
    const END: &str = "<!-- bench:end -->";
    let text = std::fs::read_to_string(path)?;
    let (Some(start), Some(end)) = (text.find(START), text.find(END)) else {
        bail!("README.md has no {START} ... {END} section");
    };
    let updated = format!("{}{START}\n{report}\n{}", &text[..start], &text[end..]);
    std::fs::write(path, updated)?;
    Ok(())
}

/// Every dataset's subcommand name, from tw-model's one list.
fn dataset_names() -> Vec<&'static str> {
    macro_rules! names {
        ($($module:ident: $dataset:ty,)*) => {
            vec![$(<$dataset as tw_model::Dataset>::NAME),*]
        };
    }
    tw_model::with_datasets!(names)
}

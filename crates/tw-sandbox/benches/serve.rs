//! How fast the sandbox serves pages over loopback: a 100,000-employee
//! tenant, all includes, pages of 100, one keep-alive connection, read with
//! a plain client that parses nothing but the HTTP framing.
//!
//! `cargo bench -p tw-sandbox` (`-- --quick` for a 10,000-employee tenant).

#![allow(clippy::print_stdout)]

#[path = "../tests/it/client.rs"]
mod client;

use std::time::Instant;

use tw_sandbox::{Sandbox, SandboxConfig};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    if std::env::args().any(|a| a == "--million") {
        let started = Instant::now();
        let tenant = tw_sandbox::Tenant::generate(1_000_000, 42);
        println!(
            "1,000,000 employees: {:.0} MB rendered in {:.2} s",
            tenant.rendered_bytes() as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
        return;
    }
    let employees = if quick { 10_000 } else { 100_000 };
    let started = Instant::now();
    let sandbox = Sandbox::start(SandboxConfig {
        employees,
        ..SandboxConfig::default()
    })
    .unwrap();
    let generated = started.elapsed();
    let mut best = f64::MAX;
    let mut bytes = 0usize;
    let mut pages = 0usize;
    for _ in 0..if quick { 1 } else { 5 } {
        let mut client = client::Client::connect(sandbox.addr()).unwrap();
        let mut cursor: Option<String> = None;
        bytes = 0;
        pages = 0;
        let start = Instant::now();
        loop {
            let mut body = serde_json::json!({
                "limit": 100,
                "include": ["current_skills", "related_skills", "rejected_skills", "sources"]
            });
            if let Some(cursor) = &cursor {
                body["starting_after"] = cursor.clone().into();
            }
            let reply = client.export(&body).unwrap();
            assert_eq!(reply.status, 200);
            bytes += reply.body.len();
            pages += 1;
            // Find the cursor without parsing the page: it is the last field.
            let tail = &reply.body[reply.body.len().saturating_sub(64)..];
            let tail = std::str::from_utf8(tail).unwrap_or_default();
            cursor = tail
                .rsplit_once("\"next_starting_after\":\"")
                .map(|(_, rest)| rest.trim_end_matches("\"}").to_owned());
            if cursor.is_none() {
                break;
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "tenant: {employees} employees, {:.1} MB rendered in {:.2} s",
        sandbox.tenant().rendered_bytes() as f64 / 1e6,
        generated.as_secs_f64()
    );
    println!(
        "served {pages} pages, {:.1} MB in {:.3} s (best run): {:.0} pages/s, {:.0} MB/s (target > 200 MB/s)",
        bytes as f64 / 1e6,
        best,
        pages as f64 / best,
        bytes as f64 / 1e6 / best
    );
}

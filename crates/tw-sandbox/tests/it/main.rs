//! Integration tests of tw-sandbox, with a plain HTTP client.

mod client;
mod content;
mod endpoints;
mod faults;
mod pagination;

use serde_json::{Value, json};
use tw_sandbox::{Faults, Sandbox, SandboxConfig};

use crate::client::Client;

pub const ALL: [&str; 4] = [
    "current_skills",
    "related_skills",
    "rejected_skills",
    "sources",
];

pub fn sandbox(employees: u32) -> Sandbox {
    Sandbox::start(SandboxConfig {
        employees,
        ..SandboxConfig::default()
    })
    .unwrap()
}

pub fn with_faults(employees: u32, faults: Faults) -> Sandbox {
    Sandbox::start(SandboxConfig {
        employees,
        faults,
        ..SandboxConfig::default()
    })
    .unwrap()
}

/// Every page of an export, following `next_starting_after`, for a body
/// without `starting_after`.
pub(crate) fn all_pages(client: &mut Client, body: &Value) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut body = body.clone();
    loop {
        let reply = client.export(&body).unwrap();
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let page = reply.json();
        let next = page.get("next_starting_after").cloned();
        let has_next = page["has_next"].as_bool().unwrap();
        pages.push(page);
        if !has_next {
            assert!(next.is_none(), "the last page carries no cursor");
            return pages;
        }
        body["starting_after"] = next.expect("a cursor when has_next");
        assert!(pages.len() < 100_000, "runaway pagination");
    }
}

pub fn records(pages: &[Value]) -> Vec<Value> {
    pages
        .iter()
        .flat_map(|p| p["records"].as_array().unwrap().clone())
        .collect()
}

pub fn request(limit: u32) -> Value {
    json!({"limit": limit, "include": ALL})
}

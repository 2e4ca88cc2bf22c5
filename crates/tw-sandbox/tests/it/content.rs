//! The synthetic tenant: realistic, tricky, deterministic.

use serde_json::Value;

use crate::client::Client;
use crate::{all_pages, records, request, sandbox};

fn everything(employees: u32) -> Vec<Value> {
    let sandbox = sandbox(employees);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    records(&all_pages(&mut client, &request(100)))
}

fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[test]
fn names_break_naive_exporters() {
    let records = everything(1000);
    let mut all = Vec::new();
    for record in &records {
        strings(record, &mut all);
    }
    let has = |what: &str, test: &dyn Fn(&str) -> bool| {
        assert!(all.iter().any(|s| test(s)), "no value with {what}");
    };
    has("a comma", &|s| s.contains(','));
    has("a double quote", &|s| s.contains('"'));
    has("a newline", &|s| s.contains('\n'));
    has("a tab", &|s| s.contains('\t'));
    has("emoji", &|s| s.chars().any(|c| c as u32 >= 0x1F300));
    has("Japanese", &|s| {
        s.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c))
    });
    has("Arabic", &|s| {
        s.chars().any(|c| ('\u{0600}'..='\u{06ff}').contains(&c))
    });
    for lead in ['=', '+', '-', '@'] {
        has(&format!("a leading {lead}"), &|s| s.starts_with(lead));
    }
}

#[test]
fn forward_compatibility_cases_are_present() {
    let records = everything(1000);
    let clusters: Vec<&Value> = records
        .iter()
        .flat_map(|r| r["skill_clusters"].as_array().unwrap())
        .collect();
    let skills: Vec<&Value> = clusters
        .iter()
        .flat_map(|c| {
            ["current_skills", "related_skills", "rejected_skills"]
                .map(|k| c[k].as_array().unwrap())
        })
        .flatten()
        .collect();
    assert!(
        records
            .iter()
            .any(|r| r["skill_clusters"].as_array().unwrap().is_empty()),
        "employees without clusters"
    );
    assert!(
        records.iter().any(|r| r.get("employee_group").is_some()),
        "unknown record field"
    );
    assert!(
        clusters.iter().any(|c| c.get("validation_state").is_none()),
        "cluster without state"
    );
    assert!(
        clusters
            .iter()
            .any(|c| c["validation_state"] == "pending_review"),
        "unknown state"
    );
    assert!(
        clusters.iter().any(|c| c.get("cluster_weight").is_some()),
        "unknown cluster field"
    );
    assert!(
        clusters
            .iter()
            .any(|c| c["current_skills"].as_array().unwrap().len() > 1)
    );
    assert!(
        skills.iter().any(|s| s.get("confidence").is_some()),
        "unknown skill field"
    );
    assert!(skills.iter().any(|s| s["validation_state"] == "rejected"));
    assert!(
        skills.iter().any(|s| s["skill_sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "hackathon")),
        "unknown source"
    );
    let uuid = |s: &str| s.len() == 36 && s.chars().filter(|&c| c == '-').count() == 4;
    assert!(
        records
            .iter()
            .any(|r| uuid(r["external_id"].as_str().unwrap()))
    );
    assert!(
        records
            .iter()
            .any(|r| !uuid(r["external_id"].as_str().unwrap()))
    );
    assert!(
        clusters
            .iter()
            .any(|c| !uuid(c["skill_cluster_id"].as_str().unwrap()))
    );
}

#[test]
fn include_controls_the_optional_lists() {
    let sandbox = sandbox(200);
    let keys = |body: serde_json::Value| -> std::collections::BTreeSet<String> {
        let pages = all_pages(&mut Client::connect(sandbox.addr()).unwrap(), &body);
        records(&pages)
            .iter()
            .flat_map(|r| r["skill_clusters"].as_array().unwrap().clone())
            .flat_map(|c| c.as_object().unwrap().keys().cloned().collect::<Vec<_>>())
            .collect()
    };
    let none = keys(serde_json::json!({"limit": 100}));
    for list in crate::ALL {
        assert!(!none.contains(list), "{list} without include");
    }
    assert!(none.contains("skill_cluster_name") && none.contains("proficiency_level"));
    let some = keys(serde_json::json!({"limit": 100, "include": ["sources", "rejected_skills"]}));
    assert!(some.contains("sources") && some.contains("rejected_skills"));
    assert!(!some.contains("current_skills") && !some.contains("related_skills"));
    let all = keys(request(100));
    for list in crate::ALL {
        assert!(all.contains(list));
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let page = |seed: u64| {
        let sandbox = tw_sandbox::Sandbox::start(tw_sandbox::SandboxConfig {
            employees: 300,
            seed,
            ..Default::default()
        })
        .unwrap();
        let mut client = Client::connect(sandbox.addr()).unwrap();
        let first = client.export(&request(100)).unwrap().body;
        let mut body = request(100);
        body["starting_after"] =
            serde_json::from_slice::<Value>(&first).unwrap()["next_starting_after"].clone();
        let second = client.export(&body).unwrap().body;
        (first, second)
    };
    assert_eq!(page(7), page(7));
    assert_ne!(page(7).0, page(8).0);
}

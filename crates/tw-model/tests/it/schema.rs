//! The generated JSON Schemas accept what the model accepts.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::fixture;
use crate::props::page_doc;

fn validator(file: &str) -> jsonschema::Validator {
    let (_, schema) = tw_model::schemas()
        .into_iter()
        .find(|(name, _)| *name == file)
        .unwrap_or_else(|| panic!("no schema named {file}"));
    jsonschema::validator_for(&serde_json::to_value(schema).unwrap()).expect("schema compiles")
}

fn assert_valid(validator: &jsonschema::Validator, instance: &Value) {
    if let Err(err) = validator.validate(instance) {
        panic!("{err} at {}\n{instance:#}", err.instance_path());
    }
}

#[test]
fn schemas_are_snapshotted() {
    for (name, schema) in tw_model::schemas() {
        insta::assert_json_snapshot!(name, schema);
    }
}

#[test]
fn page_schema_accepts_the_seed_and_forward_compatible_payloads() {
    let page = validator("skill-clusters-page.json");
    let seed: Value = serde_json::from_str(&fixture("seed-skill-clusters-response.json")).unwrap();
    assert_valid(&page, &seed);
    assert_valid(
        &page,
        &json!({
            "has_next": false,
            "next_starting_after": null,
            "records": [{
                "external_id": "id_9",
                "new_field": [1, 2],
                "skill_clusters": [{
                    "skill_cluster_id": null,
                    "validation_state": "pending_review",
                    "sources": ["hackathon"],
                    "current_skills": [{"name": "SQL", "skill_id": null, "validation_state": null, "extra": {}}]
                }]
            }]
        }),
    );
}

#[test]
fn page_schema_rejects_what_the_model_rejects() {
    let page = validator("skill-clusters-page.json");
    for bad in [
        json!({"records": []}),
        json!({"has_next": true}),
        json!({"has_next": "yes", "records": []}),
        json!({"has_next": true, "records": [{"skill_clusters": []}]}),
        json!({"has_next": true, "records": [{"external_id": "a", "skill_clusters": [{"proficiency_level": "x"}]}]}),
    ] {
        assert!(!page.is_valid(&bad), "{bad}");
        assert!(
            tw_model::decode::<tw_model::SkillClustersPage>(bad.to_string().as_bytes()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn request_schema_accepts_the_seed_and_enforces_ranges() {
    let request = validator("skill-clusters-request.json");
    let seed: Value = serde_json::from_str(&fixture("seed-skill-clusters-request.json")).unwrap();
    assert_valid(&request, &seed);
    assert!(request.is_valid(&json!({"limit": 1})));
    assert!(request.is_valid(&json!({"limit": 100, "filters": [{"filter": "custom", "x": 1}]})));
    assert!(!request.is_valid(&json!({"limit": 0})));
    assert!(!request.is_valid(&json!({"limit": 101})));
    assert!(!request.is_valid(&json!({"limit": 10, "starting_after": "a".repeat(101)})));
    assert!(!request.is_valid(&json!({"limit": 10, "filters": [{"is_active": true}]})));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Every document the model accepts, the schema accepts.
    #[test]
    fn page_schema_accepts_every_generated_page(doc in page_doc()) {
        let page = validator("skill-clusters-page.json");
        prop_assert!(tw_model::decode::<tw_model::SkillClustersPage>(doc.to_string().as_bytes()).is_ok());
        prop_assert!(page.is_valid(&doc), "{:#}", doc);
    }
}

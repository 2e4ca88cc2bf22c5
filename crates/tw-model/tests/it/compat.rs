//! Forward compatibility: unknown values and fields survive, nothing is invented.

use serde_json::json;
use tw_model::{
    EmployeeSkillClusters, Skill, SkillCluster, SkillClustersPage, SkillSource, ValidationState,
    decode,
};

use crate::round_trip;

#[test]
fn unknown_enum_values_parse_and_serialize_back() {
    let json = r#"{"name": "Rust", "validation_state": "pending_review",
                   "skill_sources": ["working_history", "hackathon"]}"#;
    let skill: Skill = decode(json.as_bytes()).unwrap();
    assert_eq!(
        skill.validation_state,
        Some(ValidationState::Other("pending_review".into()))
    );
    assert_eq!(
        skill.skill_sources.as_deref().unwrap(),
        [
            SkillSource::WorkingHistory,
            SkillSource::Other("hackathon".into())
        ]
    );
    let (input, output) = round_trip::<Skill>(json);
    assert_eq!(input, output);
}

#[test]
fn known_spellings_map_to_variants() {
    for known in ValidationState::KNOWN {
        let state = ValidationState::from(*known);
        assert!(state.is_known(), "{known}");
        assert_eq!(state.as_str(), *known);
    }
    assert!(
        !ValidationState::from("Validated").is_known(),
        "case matters"
    );
}

#[test]
fn unknown_fields_at_every_level_are_kept() {
    let json = r#"{
        "has_next": false,
        "records": [{
            "external_id": "emp_1",
            "team": {"name": "blue", "size": 3},
            "skill_clusters": [{
                "skill_cluster_name": "Data",
                "weight": 0.25,
                "current_skills": [{"name": "SQL", "confidence": [1, 2, null], "is_core": true}]
            }]
        }],
        "total_count": 1
    }"#;
    let page: SkillClustersPage = decode(json.as_bytes()).unwrap();
    assert_eq!(page.extra["total_count"], 1);
    let record = &page.records[0];
    assert_eq!(record.extra["team"], json!({"name": "blue", "size": 3}));
    let cluster = &record.clusters()[0];
    assert_eq!(cluster.extra["weight"], 0.25);
    assert_eq!(cluster.current()[0].extra["is_core"], true);

    let (input, output) = round_trip::<SkillClustersPage>(json);
    assert_eq!(input, output);
}

#[test]
fn explicit_nulls_are_accepted_and_written_back() {
    let json = r#"{"skill_cluster_id": null, "skill_cluster_name": null, "domain_name": "Data",
                   "proficiency_level": null, "validation_state": null, "current_skills": null,
                   "sources": null}"#;
    let cluster: SkillCluster = decode(json.as_bytes()).unwrap();
    assert_eq!(cluster.skill_cluster_id, None);
    assert_eq!(cluster.proficiency_level, None);
    assert!(cluster.current().is_empty());
    let (input, output) = round_trip::<SkillCluster>(json);
    assert_eq!(input, output);

    let page = r#"{"has_next": false, "records": [], "next_starting_after": null}"#;
    let (input, output) = round_trip::<SkillClustersPage>(page);
    assert_eq!(input, output);
}

#[test]
fn absent_keys_stay_absent_and_empty_lists_stay_empty() {
    for json in [
        r#"{"external_id": "a"}"#,
        r#"{"external_id": "a", "skill_clusters": []}"#,
        r#"{"external_id": "a", "skill_clusters": [{}]}"#,
        r#"{"external_id": "a", "skill_clusters": [{"current_skills": [], "related_skills": [{"name": "x"}]}]}"#,
    ] {
        let (input, output) = round_trip::<EmployeeSkillClusters>(json);
        assert_eq!(input, output, "{json}");
    }
}

#[test]
fn ids_are_opaque_strings() {
    for id in [
        "5cbdbdbe-5f44-4423-8157-520f8a2f429a",
        "id_9",
        "write-unit-tests",
        "007",
        "ÉMP 1",
    ] {
        let json =
            json!({"external_id": id, "skill_clusters": [{"skill_cluster_id": id}]}).to_string();
        let record: EmployeeSkillClusters = decode(json.as_bytes()).unwrap();
        assert_eq!(record.external_id, id);
        assert_eq!(record.clusters()[0].skill_cluster_id.as_deref(), Some(id));
    }
}

#[test]
fn a_set_field_wins_over_a_remembered_null() {
    // Parsed with an explicit null, then filled in by the caller: the output
    // has the value once, not a duplicate key.
    let mut skill: Skill = decode(br#"{"name": "Go", "skill_id": null}"#).unwrap();
    skill.skill_id = Some("go-1".into());
    let text = serde_json::to_string(&skill).unwrap();
    assert_eq!(text, r#"{"name":"Go","skill_id":"go-1"}"#);
}

#[test]
fn older_tutorial_shape_parses() {
    // The tutorial's sample: clusters without ids or states, skills with only a name.
    let json = r#"{"has_next": true, "records": [{"external_id": "e1", "skill_clusters": [
        {"skill_cluster_name": "DevOps", "domain_name": "Computer Science", "proficiency_level": 2,
         "current_skills": [{"name": "Git"}]}]}]}"#;
    let page: SkillClustersPage = decode(json.as_bytes()).unwrap();
    assert_eq!(page.next_starting_after, None);
    let skill = &page.records[0].clusters()[0].current()[0];
    assert_eq!(
        (skill.name.as_str(), skill.skill_id.as_deref()),
        ("Git", None)
    );
}

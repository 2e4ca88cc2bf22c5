//! Bad input gives errors that say where and what.

use tw_model::{
    Date, Filter, PageRequest, SkillClusters, SkillClustersPage, SkillClustersRequest,
    check_cursor, decode,
};

fn decode_error(json: &str) -> tw_model::DecodeError {
    decode::<SkillClustersPage>(json.as_bytes()).expect_err("must not decode")
}

#[test]
fn missing_envelope_fields_are_named() {
    let err = decode_error(r#"{"records": []}"#);
    assert_eq!(err.path(), ".");
    insta::assert_snapshot!("missing_has_next", err);
    insta::assert_snapshot!("missing_records", decode_error(r#"{"has_next": true}"#));
}

#[test]
fn wrong_type_deep_inside_names_the_path() {
    let mut records: Vec<serde_json::Value> = (0..3)
        .map(|i| serde_json::json!({"external_id": format!("e{i}")}))
        .collect();
    records.push(serde_json::json!({
        "external_id": "e3",
        "skill_clusters": [{"skill_cluster_name": "Data", "proficiency_level": "high"}]
    }));
    let json = serde_json::json!({"has_next": false, "records": records}).to_string();
    let err = decode_error(&json);
    assert_eq!(err.path(), "records[3].skill_clusters[0].proficiency_level");
    assert!(!err.is_syntax());
    insta::assert_snapshot!("wrong_type_deep", err);
}

#[test]
fn missing_required_record_field_names_the_record() {
    let err = decode_error(
        r#"{"has_next": false, "records": [{"external_id": "a"}, {"skill_clusters": []}]}"#,
    );
    assert_eq!(err.path(), "records[1]");
    insta::assert_snapshot!("missing_external_id", err);
}

#[test]
fn invalid_and_truncated_json() {
    let err = decode_error("<html>502 Bad Gateway</html>");
    assert!(err.is_syntax());
    assert!(!err.is_truncated());
    insta::assert_snapshot!("not_json", err);

    let err = decode_error(r#"{"has_next": true, "records": [{"external_id": "a"#);
    assert!(err.is_truncated());
    insta::assert_snapshot!("truncated", err);

    let err = decode_error(r#"{"has_next": true, "records": []} trailing"#);
    assert!(err.is_syntax());
    insta::assert_snapshot!("trailing", err);
}

#[test]
fn request_errors_name_the_allowed_range() {
    insta::assert_snapshot!("limit_zero", SkillClustersRequest::new(0).unwrap_err());
    insta::assert_snapshot!("limit_101", SkillClustersRequest::new(101).unwrap_err());
    insta::assert_snapshot!("cursor_long", check_cursor(&"x".repeat(101)).unwrap_err());
    insta::assert_snapshot!("cursor_empty", check_cursor("").unwrap_err());
    insta::assert_snapshot!("bad_date", Date::parse("2024-02-30").unwrap_err());
    insta::assert_snapshot!(
        "bad_filter",
        Filter::other(serde_json::json!({"is_active": true})).unwrap_err()
    );
}

#[test]
fn invalid_request_bodies_are_rejected_on_parse() {
    let err = serde_json::from_str::<PageRequest<SkillClusters>>(r#"{"limit": 0}"#).unwrap_err();
    assert!(
        err.to_string().contains("limit must be between 1 and 100"),
        "{err}"
    );
    let long = "y".repeat(101);
    let err = serde_json::from_str::<PageRequest<SkillClusters>>(&format!(
        r#"{{"limit": 5, "starting_after": "{long}"}}"#
    ))
    .unwrap_err();
    assert!(err.to_string().contains("1 to 100 characters"), "{err}");
    let err = serde_json::from_str::<PageRequest<SkillClusters>>(r#"{"starting_after": "a"}"#)
        .unwrap_err();
    assert!(err.to_string().contains("missing field `limit`"), "{err}");
}

//! Properties: round trips over generated documents, and the limit range.

use proptest::prelude::*;
use serde_json::{Map, Value};
use tw_model::{EmployeeSkillClusters, SkillClustersPage, SkillClustersRequest, decode};

/// Any JSON value, a few levels deep.
pub(crate) fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Unknown fields: keys no model type uses.
fn extras() -> impl Strategy<Value = Vec<(String, Option<Value>)>> {
    prop::collection::vec(("x_[a-z]{1,8}", any_json().prop_map(Some)), 0..3)
}

/// A field that may be absent (`None`), an explicit `null`, or a value.
fn optional(value: impl Strategy<Value = Value>) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![Just(None), Just(Some(Value::Null)), value.prop_map(Some)]
}

fn string() -> impl Strategy<Value = Value> {
    "[^\u{0}]{0,16}".prop_map(Value::from)
}

fn state() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just("suggested"),
        Just("validated"),
        Just("initially_validated"),
        Just("rejected"),
        Just("pending_review"),
    ]
    .prop_map(Value::from)
}

fn sources() -> impl Strategy<Value = Value> {
    let one = prop_oneof![
        Just("working_history"),
        Just("resume_document"),
        Just("learning"),
        Just("hackathon"),
    ]
    .prop_map(Value::from);
    prop::collection::vec(one, 0..4).prop_map(Value::from)
}

fn object(fields: Vec<(String, Option<Value>)>) -> Value {
    let map: Map<String, Value> = fields
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    Value::Object(map)
}

fn field(name: &str) -> String {
    name.to_owned()
}

pub(crate) fn skill_doc() -> impl Strategy<Value = Value> {
    (
        string(),
        optional(string()),
        optional(state()),
        optional(sources()),
        extras(),
    )
        .prop_map(|(name, id, state, sources, mut extra)| {
            extra.extend([
                (field("name"), Some(name)),
                (field("skill_id"), id),
                (field("validation_state"), state),
                (field("skill_sources"), sources),
            ]);
            object(extra)
        })
}

fn skills() -> impl Strategy<Value = Value> {
    prop::collection::vec(skill_doc(), 0..3).prop_map(Value::from)
}

pub(crate) fn cluster_doc() -> impl Strategy<Value = Value> {
    (
        (optional(string()), optional(string()), optional(string())),
        optional((-5i64..10).prop_map(Value::from)),
        optional(state()),
        (optional(skills()), optional(skills()), optional(skills())),
        optional(sources()),
        extras(),
    )
        .prop_map(
            |((id, name, domain), level, state, (cur, rel, rej), sources, mut extra)| {
                extra.extend([
                    (field("skill_cluster_id"), id),
                    (field("skill_cluster_name"), name),
                    (field("domain_name"), domain),
                    (field("proficiency_level"), level),
                    (field("validation_state"), state),
                    (field("current_skills"), cur),
                    (field("related_skills"), rel),
                    (field("rejected_skills"), rej),
                    (field("sources"), sources),
                ]);
                object(extra)
            },
        )
}

pub(crate) fn record_doc() -> impl Strategy<Value = Value> {
    (
        "[A-Za-z0-9_-]{1,20}",
        optional(prop::collection::vec(cluster_doc(), 0..3).prop_map(Value::from)),
        extras(),
    )
        .prop_map(|(id, clusters, mut extra)| {
            extra.extend([
                (field("external_id"), Some(Value::from(id))),
                (field("skill_clusters"), clusters),
            ]);
            object(extra)
        })
}

pub(crate) fn page_doc() -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        prop::collection::vec(record_doc(), 0..4),
        optional(string()),
        extras(),
    )
        .prop_map(|(has_next, records, next, mut extra)| {
            extra.extend([
                (field("has_next"), Some(Value::from(has_next))),
                (field("records"), Some(Value::from(records))),
                (field("next_starting_after"), next),
            ]);
            object(extra)
        })
}

proptest! {
    /// parse -> serialize keeps every key and value and adds none, at every
    /// level, for absent, null and present optional fields and unknown ones.
    #[test]
    fn parse_then_serialize_is_the_identity_on_documents(doc in page_doc()) {
        let text = serde_json::to_string(&doc).unwrap();
        let page: SkillClustersPage = decode(text.as_bytes()).unwrap();
        prop_assert_eq!(serde_json::to_value(&page).unwrap(), doc);
    }

    /// Any valid record: value -> JSON -> value is equal.
    #[test]
    fn typed_records_round_trip(doc in record_doc()) {
        let record: EmployeeSkillClusters = serde_json::from_value(doc).unwrap();
        let text = serde_json::to_string(&record).unwrap();
        let again: EmployeeSkillClusters = decode(text.as_bytes()).unwrap();
        prop_assert_eq!(again, record);
    }

    #[test]
    fn in_range_limits_are_accepted(n in 1i64..=100) {
        prop_assert_eq!(SkillClustersRequest::new(n).unwrap().limit().get() as i64, n);
    }

    #[test]
    fn out_of_range_limits_are_rejected(n in prop_oneof![i64::MIN..=0, 101i64..=i64::MAX]) {
        let err = SkillClustersRequest::new(n).unwrap_err();
        prop_assert_eq!(err.to_string(), format!("limit must be between 1 and 100 (inclusive), got {n}"));
    }
}

//! `decode_raw` accepts exactly what `decode` accepts, and keeps the bytes.

use proptest::prelude::*;
use serde_json::Value;
use tw_model::{EmployeeSkillClusters, SkillClustersPage, decode, decode_raw};

use crate::props::{any_json, page_doc};

pub(crate) fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `decode` and `decode_raw` of records `T` agree on `text`.
pub(crate) fn same_verdict_for<D: tw_model::Dataset>(text: &str) -> Result<(), TestCaseError> {
    let full = tw_model::decode_page::<D>(text.as_bytes());
    let raw = tw_model::decode_raw_page::<D>(text.as_bytes());
    match (&full, &raw) {
        (Ok(page), Ok(raw)) => {
            prop_assert_eq!(page.records.len(), raw.records.len());
            for (typed, range) in page.records.iter().zip(&raw.records) {
                let sent: Value = serde_json::from_slice(&text.as_bytes()[range.clone()]).unwrap();
                prop_assert_eq!(serde_json::to_value(typed).unwrap(), sent);
            }
            prop_assert_eq!(&page.next_starting_after, &raw.next_starting_after);
            prop_assert_eq!(page.has_next, raw.has_next);
        }
        (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
        _ => prop_assert!(
            false,
            "decode {:?} but decode_raw {:?} for {}",
            full.is_ok(),
            raw.is_ok(),
            text
        ),
    }
    Ok(())
}

fn same_verdict(text: &str) -> Result<(), TestCaseError> {
    let full = decode::<tw_model::ExportPage<EmployeeSkillClusters>>(text.as_bytes());
    let raw = decode_raw::<EmployeeSkillClusters>(text.as_bytes());
    prop_assert_eq!(
        full.as_ref()
            .map(|p| p.records.len())
            .map_err(|e| e.to_string()),
        raw.as_ref()
            .map(|p| p.records.len())
            .map_err(|e| e.to_string()),
        "decode and decode_raw of ExportPage directly"
    );
    same_verdict_for::<tw_model::SkillClusters>(text)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn valid_pages_pass_and_keep_their_records(doc in page_doc()) {
        same_verdict(&doc.to_string())?;
    }

    /// Any value anywhere replaced by any other: both accept or both reject,
    /// with the same message.
    #[test]
    fn mutated_pages_get_the_same_verdict(doc in page_doc(), pick in any::<usize>(), replacement in any_json()) {
        let mut doc = doc;
        let mut paths = Vec::new();
        pointers(&doc, String::new(), &mut paths);
        let path = &paths[pick % paths.len()];
        if path.is_empty() {
            doc = replacement;
        } else {
            *doc.pointer_mut(path).unwrap() = replacement;
        }
        same_verdict(&doc.to_string())?;
    }

    /// Removing any key: both accept or both reject.
    #[test]
    fn pages_with_a_key_removed_get_the_same_verdict(doc in page_doc(), pick in any::<usize>()) {
        let mut doc = doc;
        let mut paths = Vec::new();
        pointers(&doc, String::new(), &mut paths);
        let path = &paths[pick % paths.len()];
        if let Some((parent, key)) = path.rsplit_once('/')
            && let Some(Value::Object(map)) = doc.pointer_mut(parent)
        {
            map.remove(&key.replace("~1", "/").replace("~0", "~"));
        }
        same_verdict(&doc.to_string())?;
    }
}

#[test]
fn the_raw_bytes_are_the_servers() {
    let text = r#"{"has_next":false,"records":[{"z_new":1,"external_id":"a","skill_clusters":[{"domain_name":"\u00e9"}]}]}"#;
    let page = decode_raw::<EmployeeSkillClusters>(text.as_bytes()).unwrap();
    assert_eq!(
        &text[page.records[0].clone()],
        r#"{"z_new":1,"external_id":"a","skill_clusters":[{"domain_name":"\u00e9"}]}"#
    );
}

#[test]
fn errors_name_the_path_like_decode() {
    let text = r#"{"has_next":false,"records":[{"external_id":"a"},{"external_id":"b","skill_clusters":[{"proficiency_level":"x"}]}]}"#;
    let err = decode_raw::<EmployeeSkillClusters>(text.as_bytes()).unwrap_err();
    assert_eq!(err.path(), "records[1].skill_clusters[0].proficiency_level");
}

#[test]
fn rejections_match_decode() {
    for text in [
        r#"{"has_next":true,"records":[{"external_id":5}]}"#,
        r#"{"has_next":true,"records":[{"skill_clusters":[]}]}"#,
        r#"{"has_next":true}"#,
        r#"{"has_next":true,"records":[{"external_id":"a","skill_clusters":[{"current_skills":[{"skill_id":"x"}]}]}]}"#,
        r#"{"has_next":true,"records":[{"external_id":"a","skill_clusters":[{"validation_state":3}]}]}"#,
        r#"{"has_next":true,"records":[{"external_id":"a","skill_clusters":{}}]}"#,
        r#"{"has_next":true,"records":[]"#,
    ] {
        let full = decode::<SkillClustersPage>(text.as_bytes()).unwrap_err();
        let raw = decode_raw::<EmployeeSkillClusters>(text.as_bytes()).unwrap_err();
        assert_eq!(full.to_string(), raw.to_string(), "{text}");
    }
}

/// Documents a generated `Value` cannot hold: duplicated envelope keys.
/// Typed and raw decoding read the envelope with one visitor, so they agree
/// on these by construction; this holds them to rejecting them.
#[test]
fn duplicated_envelope_keys_are_rejected_by_both() {
    for text in [
        r#"{"has_next":false,"has_next":false,"records":[]}"#,
        r#"{"has_next":false,"records":[],"records":[]}"#,
        r#"{"has_next":true,"records":[],"next_starting_after":"a","next_starting_after":"b"}"#,
        r#"{"has_next":true,"records":[],"next_starting_after":null,"next_starting_after":"b"}"#,
    ] {
        let typed = decode::<SkillClustersPage>(text.as_bytes()).unwrap_err();
        let raw = decode_raw::<EmployeeSkillClusters>(text.as_bytes()).unwrap_err();
        assert!(typed.to_string().contains("duplicate field"), "{typed}");
        assert_eq!(typed.to_string(), raw.to_string(), "{text}");
    }
}

/// Typed and raw decoding enforce the same limits on unknown fields:
/// nesting depth and the number range, so every output format accepts
/// exactly the same pages.
#[test]
fn unknown_fields_get_the_same_limits_in_both_decoders() {
    let page = |extra: &str| {
        format!(r#"{{"has_next":false,"records":[{{"external_id":"a","x":{extra}}}]}}"#)
    };
    let nested = |levels: usize| format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
    for (extra, ok) in [
        (nested(64), true),
        (nested(65), false),
        (nested(100_000), false),
        ("1e999999".to_owned(), false),
        ("-1e400".to_owned(), false),
        ("1e308".to_owned(), true),
        (r#"{"deep":{"deeper":[1,2,{"k":null}]}}"#.to_owned(), true),
    ] {
        let text = page(&extra);
        let typed = decode::<SkillClustersPage>(text.as_bytes());
        let raw = decode_raw::<EmployeeSkillClusters>(text.as_bytes());
        assert_eq!(typed.is_ok(), ok, "{}", &extra[..extra.len().min(40)]);
        assert_eq!(raw.is_ok(), ok, "{}", &extra[..extra.len().min(40)]);
        if let (Err(a), Err(b)) = (&typed, &raw) {
            assert_eq!(a.to_string(), b.to_string());
        }
    }
}

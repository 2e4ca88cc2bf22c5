//! Building requests: ranges, dates, filters.

use serde_json::json;
use tw_model::{Cursor, Filter, Include, Operator, PageLimit, RequestError, SkillClustersRequest};

#[test]
fn limit_boundaries() {
    for ok in [1, 2, 10, 99, 100] {
        assert_eq!(PageLimit::new(ok).unwrap().get(), ok as u32);
    }
    for bad in [i64::MIN, -1, 0, 101, 1000, i64::MAX] {
        assert_eq!(
            PageLimit::new(bad),
            Err(RequestError::LimitOutOfRange { value: bad })
        );
    }
    assert_eq!(PageLimit::default().get(), 100);
}

#[test]
fn cursor_length_is_counted_in_characters() {
    assert!(
        Cursor::new("é".repeat(100)).is_ok(),
        "200 bytes but 100 characters"
    );
    assert_eq!(
        Cursor::new("é".repeat(101)),
        Err(RequestError::CursorLength { len: 101 })
    );
    assert_eq!(Cursor::new("a".repeat(100)).unwrap().as_str().len(), 100);
}

#[test]
fn dates_must_be_real_calendar_dates() {
    for ok in ["2024-02-29", "2000-02-29", "2023-12-31", "1999-01-01"] {
        assert!(Filter::updated_after(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "2023-02-29",
        "1900-02-29",
        "2024-13-01",
        "2024-00-10",
        "2024-04-31",
        "2024-1-01",
        "24-01-01",
        "2024/01/01",
        "2024-01-01T00:00:00Z",
        "abcd-ef-gh",
        "2024-01-0a",
        "0000-01-01",
        "+024-01-01",
    ] {
        assert_eq!(
            Filter::updated_before(bad),
            Err(RequestError::InvalidDate {
                value: bad.to_owned()
            }),
            "{bad}"
        );
    }
}

#[test]
fn filters_serialize_as_documented() {
    let request = SkillClustersRequest::new(50)
        .unwrap()
        .with_filter(Filter::is_active(false))
        .with_filter(Filter::updated_after("2022-03-25").unwrap())
        .with_filter(
            Filter::other(json!({"filter": "job_family_id_is_in_list", "job_family_ids": ["a"]}))
                .unwrap(),
        )
        .with_include([
            Include::Sources,
            Include::Sources,
            Include::from("future_include"),
        ]);
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({
            "limit": 50,
            "filters": [
                {"filter": "is_active", "is_active": false},
                {"filter": "last_updated", "value": "2022-03-25", "operator": "gt"},
                {"filter": "job_family_id_is_in_list", "job_family_ids": ["a"]}
            ],
            "include": ["sources", "future_include"]
        })
    );
}

#[test]
fn filters_parse_to_typed_variants_only_when_nothing_would_be_lost() {
    let parse = |v: serde_json::Value| serde_json::from_value::<Filter>(v).unwrap();
    assert_eq!(
        parse(json!({"filter": "is_active", "is_active": true})),
        Filter::is_active(true)
    );
    assert_eq!(
        parse(json!({"filter": "last_updated", "value": "2022-03-25", "operator": "gte"})),
        Filter::LastUpdated {
            value: "2022-03-25".into(),
            operator: Operator::Other("gte".into())
        }
    );
    for passthrough in [
        json!({"filter": "is_active", "is_active": true, "scope": "all"}),
        json!({"filter": "is_active", "is_active": "yes"}),
        json!({"filter": "state_is_in_list", "states": ["suggested"]}),
    ] {
        let filter = parse(passthrough.clone());
        assert!(matches!(filter, Filter::Other(_)), "{passthrough}");
        assert_eq!(serde_json::to_value(&filter).unwrap(), passthrough);
    }
    assert!(serde_json::from_value::<Filter>(json!({"is_active": true})).is_err());
    assert!(serde_json::from_value::<Filter>(json!({"filter": 3})).is_err());
}

#[test]
fn empty_request_has_only_the_limit() {
    let request = SkillClustersRequest::new(1).unwrap();
    assert_eq!(serde_json::to_string(&request).unwrap(), r#"{"limit":1}"#);
}

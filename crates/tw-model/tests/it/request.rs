//! Building requests: ranges, dates, filters.

use serde_json::json;
use tw_model::skill_clusters::Include;
use tw_model::{
    Date, Filter, Operator, PageLimit, PageRequest, RequestError, SkillClusters,
    SkillClustersRequest, check_cursor,
};

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

#[test]
fn limit_boundaries() {
    for ok in [1, 2, 10, 99, 100] {
        assert_eq!(
            SkillClustersRequest::new(ok).unwrap().limit().get(),
            ok as u32
        );
    }
    for bad in [i64::MIN, -1, 0, 101, 1000, i64::MAX] {
        assert_eq!(
            SkillClustersRequest::new(bad).unwrap_err(),
            RequestError::LimitOutOfRange {
                value: bad,
                max: 100
            }
        );
    }
    assert_eq!(PageLimit::new(1000, 1000).unwrap().get(), 1000);
    assert!(
        PageLimit::new(1001, 5000).is_err(),
        "capped at PageLimit::MAX"
    );
}

#[test]
fn cursor_length_is_counted_in_characters() {
    assert!(
        check_cursor(&"é".repeat(100)).is_ok(),
        "200 bytes but 100 characters"
    );
    assert_eq!(
        check_cursor(&"é".repeat(101)),
        Err(RequestError::CursorLength { len: 101 })
    );
    assert_eq!(check_cursor(""), Err(RequestError::CursorLength { len: 0 }));
}

#[test]
fn dates_must_be_real_calendar_dates() {
    for ok in ["2024-02-29", "2000-02-29", "2023-12-31", "1999-01-01"] {
        assert_eq!(Date::parse(ok).unwrap().to_string(), ok);
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
            Date::parse(bad),
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
        .with_filter(Filter::updated_after(date("2022-03-25")))
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
        serde_json::to_value(request.page_body(None)).unwrap(),
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
        parse(json!({"filter": "last_updated", "value": "2022-03-25", "operator": "lt"})),
        Filter::LastUpdated {
            value: date("2022-03-25"),
            operator: Operator::Lt
        }
    );
    for passthrough in [
        json!({"filter": "is_active", "is_active": true, "scope": "all"}),
        json!({"filter": "last_updated", "value": "2022-03-25", "operator": "gt", "field": "x"}),
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
fn documented_filters_are_checked_when_deserialized() {
    for bad in [
        json!({"filter": "last_updated", "value": "2024-02-30", "operator": "gt"}),
        json!({"filter": "last_updated", "value": "2024-13-01", "operator": "lt"}),
        json!({"filter": "last_updated", "value": "2024-01-01", "operator": "gte"}),
        json!({"filter": "last_updated", "value": 20240101, "operator": "gt"}),
        json!({"filter": "last_updated", "operator": "gt"}),
        json!({"filter": "last_updated", "value": "2024-02-30", "operator": "gt", "x": 1}),
        json!({"filter": "is_active", "is_active": "yes"}),
        json!({"filter": "is_active"}),
    ] {
        let err = serde_json::from_value::<Filter>(bad.clone()).unwrap_err();
        assert!(
            err.to_string().starts_with("invalid filter"),
            "{bad}: {err}"
        );
        assert!(Filter::other(bad.clone()).is_err(), "{bad}");
    }
}

#[test]
fn empty_request_has_only_the_limit() {
    let request = SkillClustersRequest::new(1).unwrap();
    assert_eq!(
        serde_json::to_string(&request.page_body(None)).unwrap(),
        r#"{"limit":1}"#
    );
    assert_eq!(
        serde_json::to_string(&request).unwrap(),
        r#"{"limit":1,"body":{},"query":{}}"#
    );
}

#[test]
fn page_requests_parse_with_every_check() {
    let parsed: PageRequest<SkillClusters> =
        serde_json::from_str(r#"{"limit": 7, "starting_after": "c", "include": ["sources"]}"#)
            .unwrap();
    assert_eq!(parsed.request.limit().get(), 7);
    assert_eq!(parsed.starting_after.as_deref(), Some("c"));
    assert_eq!(parsed.request.body.include, [Include::Sources]);
    let bad_date = json!({"limit": 5, "filters": [
        {"filter": "last_updated", "value": "2024-02-30", "operator": "gt"}
    ]});
    assert!(serde_json::from_value::<PageRequest<SkillClusters>>(bad_date).is_err());
}

//! Pagination covers every selected employee exactly once.

use serde_json::json;

use crate::client::Client;
use crate::{all_pages, records, request, sandbox};

/// `YYYY-MM-DD` of a day number (days since 1970-01-01).
fn date(days: u32) -> String {
    tw_model::Date::from_days_since_epoch(i64::from(days)).to_string()
}

#[test]
fn every_employee_exactly_once_for_several_limits() {
    let sandbox = sandbox(537);
    let expected: Vec<String> = (0..537)
        .map(|i| sandbox.tenant().external_id(i).to_owned())
        .collect();
    let mut unique = expected.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 537, "external ids are unique");
    for limit in [1, 7, 10, 99, 100] {
        let mut client = Client::connect(sandbox.addr()).unwrap();
        let pages = all_pages(&mut client, &request(limit));
        let ids: Vec<String> = records(&pages)
            .iter()
            .map(|r| r["external_id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids, expected, "limit {limit}: in creation order, each once");
        assert_eq!(pages.len(), 537usize.div_ceil(limit as usize));
        for page in &pages {
            assert!(page["records"].as_array().unwrap().len() <= limit as usize);
        }
    }
}

type Keep<'a> = Box<dyn Fn(usize) -> bool + 'a>;

#[test]
fn filters_select_exactly_the_matching_employees() {
    let sandbox = sandbox(800);
    let tenant = sandbox.tenant();
    let pivot = tenant.updated_day(17);
    let cases: Vec<(serde_json::Value, Keep<'_>)> = vec![
        (
            json!([{"filter": "is_active", "is_active": true}]),
            Box::new(|i| tenant.is_active(i)),
        ),
        (
            json!([{"filter": "is_active", "is_active": false}]),
            Box::new(|i| !tenant.is_active(i)),
        ),
        (
            json!([{"filter": "last_updated", "value": date(pivot), "operator": "gt"}]),
            Box::new(move |i| tenant.updated_day(i) > pivot),
        ),
        (
            json!([{"filter": "last_updated", "value": date(pivot), "operator": "lt"}]),
            Box::new(move |i| tenant.updated_day(i) < pivot),
        ),
        (
            json!([
                {"filter": "is_active", "is_active": true},
                {"filter": "last_updated", "value": date(pivot - 400), "operator": "gt"},
                {"filter": "last_updated", "value": date(pivot + 300), "operator": "lt"}
            ]),
            Box::new(move |i| {
                tenant.is_active(i)
                    && tenant.updated_day(i) > pivot - 400
                    && tenant.updated_day(i) < pivot + 300
            }),
        ),
    ];
    for (filters, keep) in cases {
        let expected: Vec<&str> = (0..800)
            .filter(|&i| keep(i))
            .map(|i| tenant.external_id(i))
            .collect();
        assert!(
            !expected.is_empty() && expected.len() < 800,
            "{filters}: a real selection"
        );
        for limit in [3, 100] {
            let mut client = Client::connect(sandbox.addr()).unwrap();
            let mut body = request(limit);
            body["filters"] = filters.clone();
            let pages = all_pages(&mut client, &body);
            let ids: Vec<String> = records(&pages)
                .iter()
                .map(|r| r["external_id"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(ids, expected, "{filters} limit {limit}");
            // Every page but the last is full: filtering happens before paging.
            for page in &pages[..pages.len() - 1] {
                assert_eq!(page["records"].as_array().unwrap().len(), limit as usize);
            }
        }
    }
}

#[test]
fn cursors_are_opaque_and_not_record_ids() {
    let sandbox = sandbox(300);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    let pages = all_pages(&mut client, &request(10));
    for page in &pages[..pages.len() - 1] {
        let last = page["records"].as_array().unwrap().last().unwrap()["external_id"].clone();
        assert_ne!(page["next_starting_after"], last);
    }
    // Sending the last record's id, as the older tutorial suggests, is refused.
    let last_id = pages[0]["records"][9]["external_id"].as_str().unwrap();
    let mut body = request(10);
    body["starting_after"] = last_id.into();
    let reply = client.export(&body).unwrap();
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "invalid_cursor");
}

#[test]
fn every_page_is_one_connection_and_the_log_shows_identical_filters() {
    let sandbox = sandbox(250);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    let mut body = request(25);
    body["filters"] = json!([{"filter": "is_active", "is_active": true}]);
    let pages = all_pages(&mut client, &body);
    let log = sandbox.requests();
    assert_eq!(log.len(), pages.len());
    assert_eq!(sandbox.connections(), 1);
    for record in &log {
        let mut sent: serde_json::Value = serde_json::from_str(&record.body).unwrap();
        sent.as_object_mut().unwrap().remove("starting_after");
        assert_eq!(sent, body);
        assert_eq!(record.status, 200);
    }
}

#[test]
fn pages_validate_against_the_published_schema() {
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/skill-clusters-page.json"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let sandbox = sandbox(400);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    for body in [
        request(100),
        json!({"limit": 50}),
        json!({"limit": 33, "include": ["sources"]}),
    ] {
        for page in all_pages(&mut client, &body) {
            if let Err(err) = validator.validate(&page) {
                panic!("{err} at {}", err.instance_path());
            }
            let typed: tw_model::SkillClustersPage =
                tw_model::decode(page.to_string().as_bytes()).unwrap();
            assert_eq!(
                serde_json::to_value(&typed).unwrap(),
                page,
                "the model keeps every key"
            );
        }
    }
}

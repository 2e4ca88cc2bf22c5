//! One suite per dataset, generated from `tw_model::with_datasets!`: the
//! fixture request and response decode and round-trip, raw decoding agrees
//! with typed decoding, and the schemas accept the fixtures.

use serde_json::Value;
use tw_model::{Dataset, ExportPage, PageRequest, decode, decode_raw};

use crate::fixture;

fn schema(file: &str) -> jsonschema::Validator {
    let (_, schema) = tw_model::schemas()
        .into_iter()
        .find(|(name, _)| *name == file)
        .unwrap_or_else(|| panic!("no schema named {file}"));
    jsonschema::validator_for(&serde_json::to_value(schema).unwrap()).expect("schema compiles")
}

pub(crate) fn fixture_response_round_trips<D: Dataset>() {
    let text = fixture(&format!("endpoints/{}.response.json", D::NAME));
    let page: ExportPage<D::Record> = decode(text.as_bytes()).unwrap();
    assert!(page.records.len() >= 2, "a minimal and a full record");
    let sent: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        serde_json::to_value(&page).unwrap(),
        sent,
        "no key dropped or invented"
    );
    let raw = decode_raw::<D::Record>(text.as_bytes()).unwrap();
    assert_eq!(raw.records.len(), page.records.len());
    for (typed, range) in page.records.iter().zip(&raw.records) {
        let text: Value = serde_json::from_slice(&text.as_bytes()[range.clone()]).unwrap();
        assert_eq!(serde_json::to_value(typed).unwrap(), text);
    }
    assert!(schema(&format!("{}-page.json", D::NAME)).is_valid(&sent));
    for record in &sent["records"].as_array().unwrap()[..] {
        assert!(schema(&format!("{}-record.json", D::NAME)).is_valid(record));
    }
}

pub(crate) fn fixture_request_round_trips<D: Dataset>() {
    let text = fixture(&format!("endpoints/{}.request.json", D::NAME));
    let request: PageRequest<D> = decode(text.as_bytes()).unwrap();
    let sent: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_value(&request).unwrap(), sent);
    assert!(schema(&format!("{}-request.json", D::NAME)).is_valid(&sent));
    let mut over = sent.clone();
    over["limit"] = Value::from(D::MAX_LIMIT + 1);
    assert!(decode::<PageRequest<D>>(over.to_string().as_bytes()).is_err());
    assert!(!schema(&format!("{}-request.json", D::NAME)).is_valid(&over));
}

pub(crate) fn records_missing_a_key_are_rejected_alike<D: Dataset>() {
    let text = fixture(&format!("endpoints/{}.response.json", D::NAME));
    let mut page: Value = serde_json::from_str(&text).unwrap();
    page["records"][1]
        .as_object_mut()
        .unwrap()
        .remove(D::KEY[0]);
    let text = page.to_string();
    let typed = decode::<ExportPage<D::Record>>(text.as_bytes()).unwrap_err();
    let raw = decode_raw::<D::Record>(text.as_bytes()).unwrap_err();
    assert_eq!(typed.to_string(), raw.to_string());
    assert!(typed.to_string().contains(D::KEY[0]), "{typed}");
}

/// Generated pages of `D` (from its declaration): parse -> serialize is the
/// identity, raw decoding agrees with typed decoding, the schema accepts
/// them, and with any one key removed both decoders still agree.
pub(crate) fn generated_pages_hold_the_invariants<D: Dataset>() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let page_schema = schema(&format!("{}-page.json", D::NAME));
    let mut runner = TestRunner::new(Config::with_cases(96));
    let strategy = (crate::props::page_doc_for::<D>(), any::<usize>());
    runner
        .run(&strategy, |(doc, pick)| {
            let text = doc.to_string();
            let page: ExportPage<D::Record> = decode(text.as_bytes()).unwrap();
            prop_assert_eq!(serde_json::to_value(&page).unwrap(), doc.clone());
            prop_assert!(page_schema.is_valid(&doc), "{:#}", doc);
            crate::validate::same_verdict_for::<D::Record>(&text)?;

            let mut doc = doc;
            let mut paths = Vec::new();
            crate::validate::pointers(&doc, String::new(), &mut paths);
            let path = &paths[pick % paths.len()];
            if let Some((parent, key)) = path.rsplit_once('/')
                && let Some(Value::Object(map)) = doc.pointer_mut(parent)
            {
                map.remove(&key.replace("~1", "/").replace("~0", "~"));
            }
            crate::validate::same_verdict_for::<D::Record>(&doc.to_string())
        })
        .unwrap();
}

macro_rules! suites {
    ($($module:ident: $dataset:ty,)*) => {
        $(
            mod $module {
                #[test]
                fn fixture_response_round_trips() {
                    super::fixture_response_round_trips::<$dataset>();
                }

                #[test]
                fn fixture_request_round_trips() {
                    super::fixture_request_round_trips::<$dataset>();
                }

                #[test]
                fn generated_pages_hold_the_invariants() {
                    super::generated_pages_hold_the_invariants::<$dataset>();
                }

                #[test]
                fn records_missing_a_key_are_rejected_alike() {
                    super::records_missing_a_key_are_rejected_alike::<$dataset>();
                }
            }
        )*
    };
}

tw_model::with_datasets!(suites);

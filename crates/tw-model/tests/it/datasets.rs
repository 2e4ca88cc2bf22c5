//! One suite per dataset, generated from `tw_model::with_datasets!`: the
//! fixture request and response decode and round-trip, raw decoding agrees
//! with typed decoding, the schemas accept the fixtures, and the fixture
//! records' table rows are snapshotted.

use serde_json::Value;
use tw_model::{
    Dataset, ExportPage, Method, PageRequest, Paging, decode, decode_page, decode_raw_page,
};

use crate::fixture;

fn schema(file: &str) -> jsonschema::Validator {
    let (_, schema) = tw_model::schemas()
        .into_iter()
        .find(|(name, _)| *name == file)
        .unwrap_or_else(|| panic!("no schema named {file}"));
    jsonschema::validator_for(&serde_json::to_value(schema).unwrap()).expect("schema compiles")
}

/// The key of `D`'s records array in a response.
fn records_key<D: Dataset>() -> &'static str {
    match D::PAGING {
        Paging::Cursor => "records",
        Paging::Document { records } => records,
    }
}

/// A decoded response of `D` as JSON again: the page, or the document.
fn response_json<D: Dataset>(page: &ExportPage<D::Record>) -> Value {
    match D::PAGING {
        Paging::Cursor => serde_json::to_value(page).unwrap(),
        Paging::Document { records } => serde_json::to_value(page.as_document(records)).unwrap(),
    }
}

pub(crate) fn fixture_response_round_trips<D: Dataset>() {
    let text = fixture(&format!("endpoints/{}.response.json", D::NAME));
    let page = decode_page::<D>(text.as_bytes()).unwrap();
    assert!(page.records.len() >= 2, "a minimal and a full record");
    let sent: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        response_json::<D>(&page),
        sent,
        "no key dropped or invented"
    );
    let raw = decode_raw_page::<D>(text.as_bytes()).unwrap();
    assert_eq!(raw.records.len(), page.records.len());
    for (typed, range) in page.records.iter().zip(&raw.records) {
        let text: Value = serde_json::from_slice(&text.as_bytes()[range.clone()]).unwrap();
        assert_eq!(serde_json::to_value(typed).unwrap(), text);
    }
    assert!(schema(&format!("{}-page.json", D::NAME)).is_valid(&sent));
    for record in &sent[records_key::<D>()].as_array().unwrap()[..] {
        assert!(schema(&format!("{}-record.json", D::NAME)).is_valid(record));
    }
}

pub(crate) fn fixture_request_round_trips<D: Dataset>() {
    if D::METHOD == Method::Get {
        return fixture_query_round_trips::<D>();
    }
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

/// A `GET` export's fixture query (`<name>.query.txt`): the request
/// schema accepts it as an object, it decodes into `D::Query`, and that
/// sends exactly the fixture's parameters (the values of a repeated one in
/// order; parameters themselves may come in another order).
fn fixture_query_round_trips<D: Dataset>() {
    let text = fixture(&format!("endpoints/{}.query.txt", D::NAME));
    let pairs: Vec<(String, String)> = text
        .trim()
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').expect("KEY=VALUE");
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let schema_json = tw_model::schemas()
        .into_iter()
        .find(|(name, _)| *name == format!("{}-request.json", D::NAME))
        .map(|(_, s)| serde_json::to_value(s).unwrap())
        .unwrap();
    let mut object = serde_json::Map::new();
    for (key, value) in &pairs {
        let is_array = schema_json["properties"][key]["type"] == "array";
        if is_array {
            object
                .entry(key.clone())
                .or_insert_with(|| Value::Array(Vec::new()))
                .as_array_mut()
                .unwrap()
                .push(Value::from(value.clone()));
        } else {
            object.insert(key.clone(), Value::from(value.clone()));
        }
    }
    let object = Value::Object(object);
    assert!(
        schema(&format!("{}-request.json", D::NAME)).is_valid(&object),
        "{object}"
    );
    let query: D::Query = serde_json::from_value(object).unwrap();
    let by_name = |mut pairs: Vec<(String, String)>| {
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs
    };
    assert_eq!(by_name(tw_model::query_pairs(&query)), by_name(pairs));
}

pub(crate) fn records_missing_a_key_are_rejected_alike<D: Dataset>() {
    let text = fixture(&format!("endpoints/{}.response.json", D::NAME));
    let mut page: Value = serde_json::from_str(&text).unwrap();
    page[records_key::<D>()][1]
        .as_object_mut()
        .unwrap()
        .remove(D::KEY[0]);
    let text = page.to_string();
    let typed = decode_page::<D>(text.as_bytes()).unwrap_err();
    let raw = decode_raw_page::<D>(text.as_bytes()).unwrap_err();
    assert_eq!(typed.to_string(), raw.to_string());
    assert!(typed.to_string().contains(D::KEY[0]), "{typed}");
}

/// The table rows of `D`'s fixture records (a minimal and a full one), a
/// cell per line under its column's name, written down in a snapshot: what
/// each column of `D`'s CSV and Parquet shows is pinned, field by field.
/// The rows of the records viewed from the page's text are the same.
pub(crate) fn fixture_rows_are_snapshotted<D: Dataset>() {
    use std::fmt::Write as _;
    use tw_model::Table;

    let text = fixture(&format!("endpoints/{}.response.json", D::NAME));
    let page = decode_page::<D>(text.as_bytes()).unwrap();
    let mut views = Vec::new();
    let viewed = tw_model::decode_view_page::<D>(text.clone().into_bytes(), &mut views).unwrap();
    assert_eq!(views.len(), page.records.len());
    let mut out = String::new();
    for (r, (record, view)) in page.records.iter().zip(&views).enumerate() {
        let rows = crate::scan::typed_rows(record);
        assert_eq!(
            crate::scan::viewed_rows::<D::Record>(view, &viewed.text),
            rows
        );
        for (i, (row, _)) in rows.iter().enumerate() {
            writeln!(out, "record {} row {} of {}", r + 1, i + 1, rows.len()).unwrap();
            assert_eq!(row.len(), D::Record::COLUMNS.len());
            for (column, cell) in D::Record::COLUMNS.iter().zip(row) {
                writeln!(out, "  {column}: {cell:?}").unwrap();
            }
        }
    }
    insta::assert_snapshot!(format!("rows-{}", D::NAME), out);
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
            let page = decode_page::<D>(text.as_bytes()).unwrap();
            prop_assert_eq!(response_json::<D>(&page), doc.clone());
            prop_assert!(page_schema.is_valid(&doc), "{:#}", doc);
            crate::validate::same_verdict_for::<D>(&text)?;

            let mut doc = doc;
            let mut paths = Vec::new();
            crate::validate::pointers(&doc, String::new(), &mut paths);
            let path = &paths[pick % paths.len()];
            if let Some((parent, key)) = path.rsplit_once('/')
                && let Some(Value::Object(map)) = doc.pointer_mut(parent)
            {
                map.remove(&key.replace("~1", "/").replace("~0", "~"));
            }
            crate::validate::same_verdict_for::<D>(&doc.to_string())
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
                fn fixture_rows_are_snapshotted() {
                    super::fixture_rows_are_snapshotted::<$dataset>();
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
                fn every_typed_column_is_a_column() {
                    use tw_model::Table as _;
                    type Record = <$dataset as tw_model::Dataset>::Record;
                    for (name, _) in Record::TYPED {
                        assert!(Record::COLUMNS.contains(name), "{name} is not a column");
                    }
                    assert_eq!(Record::kinds().len(), Record::COLUMNS.len());
                    assert_eq!(Record::COLUMNS.last(), Some(&"extra"));
                }

                #[test]
                fn generated_pages_are_decided_by_the_scanner() {
                    crate::scan::generated_pages_are_decided_by_the_scanner::<$dataset>();
                }

                #[test]
                fn keys_in_any_order_are_read_as_decoded() {
                    crate::scan::keys_in_any_order_are_read_as_decoded::<$dataset>();
                }

                #[test]
                fn pages_decoded_in_place_equal_fresh_ones() {
                    crate::scan::pages_decoded_in_place_equal_fresh_ones::<$dataset>();
                }

                #[test]
                fn viewed_records_count_unknown_fields_as_decoded() {
                    crate::scan::viewed_records_count_unknown_fields_as_decoded::<$dataset>();
                }

                #[test]
                fn pages_viewed_give_the_rows_of_decoded_ones() {
                    crate::scan::pages_viewed_give_the_rows_of_decoded_ones::<$dataset>();
                }

                #[test]
                fn fixture_pages_are_decided_by_the_scanner() {
                    let text = crate::fixture(&format!(
                        "endpoints/{}.response.json",
                        <$dataset as tw_model::Dataset>::NAME
                    ));
                    assert!(tw_model::scan_raw_page::<$dataset>(text.as_bytes()).is_some());
                }

                #[test]
                fn rows_keep_every_unknown_field_and_value() {
                    crate::props::rows_keep_every_unknown_field_and_value::<$dataset>();
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

/// What the generic suites do not cover: the skills export's other two
/// response shapes and wrapped filters, and the org tree's flattening.
mod particular {
    use serde_json::Value;
    use tw_model::org_units::{OrgUnit, OrgUnits};
    use tw_model::skills::{Origin, Skills, SkillsRequest};
    use tw_model::{Filter, PageRequest, decode, decode_page, decode_raw_page};

    use crate::fixture;

    /// AI goals' target lists are shown by their ids, joined with `;`, as
    /// sent (escapes undone), one id alone and none blank; what else an
    /// item carries goes to `extra` under its index. Viewed from the page
    /// and from the typed records alike.
    #[test]
    fn ai_goal_target_ids_are_joined_with_escapes_undone() {
        use tw_model::ai_goals::AiGoals;

        let body = r#"{"has_next":false,"records":[
            {"external_id":"e1","target_skills":[{"skill_id":"s\u0031"}],
             "target_tasks":[{"task_id":"t\"1"},{"task_id":"t2","weight":0.5}]},
            {"external_id":"e2","target_skills":[],
             "target_tasks":[{"task_id":"a"},{"task_id":"b\\c"}]}]}"#;
        let page = decode_page::<AiGoals>(body.as_bytes()).unwrap();
        let typed: Vec<_> = page.records.iter().map(crate::scan::typed_rows).collect();
        let (_, viewed) = crate::scan::each_rows::<AiGoals>(body.as_bytes()).unwrap();
        assert_eq!(viewed, typed);
        let cells = |record: usize, column: usize| typed[record][0].0[column].clone();
        // target_skill_ids, target_task_ids, extra
        assert_eq!(cells(0, 5), "s1");
        assert_eq!(cells(0, 6), "t\"1;t2");
        assert_eq!(cells(0, 9), r#"{"goal.target_tasks[1].weight":0.5}"#);
        assert_eq!(cells(1, 5), "");
        assert_eq!(cells(1, 6), "a;b\\c");
        assert_eq!(cells(1, 9), "");
    }

    #[test]
    fn every_skills_response_shape_decodes_and_round_trips() {
        for file in [
            "skills.response.json",
            "skills.v2.response.json",
            "skills.v3.response.json",
        ] {
            let text = fixture(&format!("endpoints/{file}"));
            let page = decode_page::<Skills>(text.as_bytes()).unwrap();
            let sent: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(serde_json::to_value(&page).unwrap(), sent, "{file}");
            assert_eq!(
                decode_raw_page::<Skills>(text.as_bytes())
                    .unwrap()
                    .records
                    .len(),
                2,
                "{file}"
            );
            // The minimal record is the outside-the-taxonomy case: nulls kept.
            assert_eq!(page.records[0].taxonomy_domain_id, None);
            assert_eq!(page.records[0].extra["taxonomy_domain_id"], Value::Null);
        }
        let v3 =
            decode_page::<Skills>(fixture("endpoints/skills.v3.response.json").as_bytes()).unwrap();
        assert_eq!(v3.records[1].inference_enabled, Some(true));
        assert_eq!(v3.records[1].skill_source, Some(Origin::Vocabulary));
        let a =
            decode_page::<Skills>(fixture("endpoints/skills.response.json").as_bytes()).unwrap();
        let status = a.records[1]
            .properties
            .as_ref()
            .unwrap()
            .sap_status
            .as_ref()
            .unwrap();
        assert_eq!(status.value.as_deref(), Some("inactive"));
    }

    #[test]
    fn skills_filters_are_sent_wrapped_like_the_documented_sample() {
        let text = fixture("endpoints/skills.wrapped-filters.request.json");
        let request: PageRequest<Skills> = decode(text.as_bytes()).unwrap();
        let sent: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_value(&request).unwrap(), sent);

        // Built with the library's constructors: the same body.
        let built = SkillsRequest::new(150)
            .unwrap()
            .with_filter(Filter::skill_source("vocabulary"))
            .with_filter(Filter::skill_ids([
                "1779e018-2588-45e9-be68-13be84e7cbae",
                "b25eff9e-5a7f-4a1e-9f2f-0b9e641e6638",
                "5edfeae7-84ee-4048-9dad-ae9062112789",
            ]));
        let body =
            serde_json::to_value(built.page_body(Some("9c633fae-9610-43fb-a10d-681fcf5c398b")))
                .unwrap();
        assert_eq!(body, sent);
        // A plain filter array (every other export's form) is not this
        // export's body.
        let plain = r#"{"limit": 10, "filters": [{"filter": "skill_source", "skill_source": "vocabulary"}]}"#;
        assert!(decode::<PageRequest<Skills>>(plain.as_bytes()).is_err());
        // The page size goes to 1000 here, and no further.
        assert!(SkillsRequest::new(1000).is_ok());
        assert!(
            SkillsRequest::new(1001)
                .unwrap_err()
                .to_string()
                .contains("between 1 and 1000")
        );
    }

    #[test]
    fn the_org_tree_flattens_with_parent_depth_and_path() {
        let page = decode_page::<OrgUnits>(fixture("endpoints/org-units.response.json").as_bytes())
            .unwrap();
        let rows: Vec<(String, Option<String>, usize, String)> = page
            .records
            .iter()
            .flat_map(OrgUnit::flatten)
            .map(|row| {
                (
                    row.unit.external_id.clone(),
                    row.parent.map(|p| p.external_id.clone()),
                    row.depth,
                    row.path(),
                )
            })
            .collect();
        let expected = [
            ("ou_legal", None, 0, "ou_legal"),
            ("ou_operations", None, 0, "ou_operations"),
            (
                "ou_logistics",
                Some("ou_operations"),
                1,
                "ou_operations/ou_logistics",
            ),
            (
                "ou_warehouse_north",
                Some("ou_logistics"),
                2,
                "ou_operations/ou_logistics/ou_warehouse_north",
            ),
            (
                "ou_procurement",
                Some("ou_operations"),
                1,
                "ou_operations/ou_procurement",
            ),
        ];
        let expected: Vec<(String, Option<String>, usize, String)> = expected
            .iter()
            .map(|(id, parent, depth, path)| {
                (
                    id.to_string(),
                    parent.map(str::to_owned),
                    *depth,
                    path.to_string(),
                )
            })
            .collect();
        assert_eq!(rows, expected);
        // The include's field is kept where sent and absent where not.
        assert_eq!(page.records[0].low_data_availability, None);
        assert_eq!(page.records[1].children()[0].low_data_availability, Some(4));
    }

    /// An org unit's row shows its parent's id, its depth and its path as
    /// the typed tree's [`OrgUnit::flatten`] gives them, for ids sent with
    /// escapes (undone) as for plain ones; from the page and from the typed
    /// records alike.
    #[test]
    fn org_unit_rows_show_the_flattened_tree_with_escapes_undone() {
        let body = r#"{"organisational_structure":[
            {"external_id":"r\u0031","children":[
                {"external_id":"a\"b","children":[{"external_id":"c\\d"}]},
                {"external_id":"e/f"}]},
            {"external_id":"solo"}]}"#;
        let page = decode_page::<OrgUnits>(body.as_bytes()).unwrap();
        let (_, viewed) = crate::scan::each_rows::<OrgUnits>(body.as_bytes()).unwrap();
        let typed: Vec<_> = page.records.iter().map(crate::scan::typed_rows).collect();
        assert_eq!(viewed, typed);
        let flattened: Vec<Vec<Vec<String>>> = page
            .records
            .iter()
            .map(|record| {
                record
                    .flatten()
                    .map(|row| {
                        vec![
                            row.unit.external_id.clone(),
                            row.parent
                                .map(|p| p.external_id.clone())
                                .unwrap_or_default(),
                            row.depth.to_string(),
                            row.path(),
                        ]
                    })
                    .collect()
            })
            .collect();
        let shown: Vec<Vec<Vec<String>>> = viewed
            .iter()
            .map(|rows| rows.iter().map(|(cells, _)| cells[..4].to_vec()).collect())
            .collect();
        assert_eq!(shown, flattened);
        assert_eq!(shown[0][2], ["c\\d", "a\"b", "2", "r1/a\"b/c\\d"]);
        assert_eq!(shown[0][3][3], "r1/e/f");
        assert_eq!(shown[1], [["solo", "", "0", "solo"]]);
    }

    #[test]
    fn a_deep_tree_flattens_without_recursion() {
        // Built bottom-up: 10 000 levels would overflow a recursive walk.
        let mut unit = OrgUnit {
            external_id: "leaf".into(),
            ..Default::default()
        };
        for level in (0..10_000).rev() {
            unit = OrgUnit {
                external_id: format!("u{level}"),
                children: Some(vec![unit]),
                ..Default::default()
            };
        }
        let mut count = 0;
        let mut last_depth = 0;
        for row in unit.flatten() {
            count += 1;
            last_depth = row.depth;
        }
        assert_eq!((count, last_depth), (10_001, 10_000));
        // Dropping a 10 000-deep tree is recursive in std; keep it off this
        // thread's stack by leaking the test value.
        std::mem::forget(unit);
    }

    #[test]
    fn an_org_document_without_its_records_key_names_it() {
        let err = decode_page::<OrgUnits>(br#"{"records": []}"#).unwrap_err();
        assert!(
            err.to_string().contains("organisational_structure"),
            "{err}"
        );
        let err =
            decode_raw_page::<OrgUnits>(br#"{"organisational_structure": [{}]}"#).unwrap_err();
        assert!(err.to_string().contains("external_id"), "{err}");
    }
}

//! One suite per dataset, generated from `tw_model::with_datasets!`:
//! the library exports every record once through the sandbox, and the
//! command writes JSON Lines whose records round-trip and CSV whose rows
//! are the record type's table.

use tw_export::{Client, Dataset, ExportRequest, Secret};
use tw_model::Table;

use crate::{export_dataset, run, sandbox, stderr, table_rows, temp_dir};

fn key_of<T: serde::Serialize>(record: &T, key: &str) -> String {
    serde_json::to_value(record).unwrap()[key]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) fn library_exports_every_record_once<D: Dataset>() {
    let sandbox = sandbox(250);
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .bearer_token(Secret::new("sandbox-token"))
        .build()
        .unwrap();
    let ids: Vec<String> = client
        .export(ExportRequest::<D>::new(7).unwrap())
        .map(|r| key_of(&r.unwrap(), D::KEY[0]))
        .collect();
    assert_eq!(ids, sandbox.keys(D::PATH));
    let requests = sandbox.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.path == D::PATH && r.status == 200)
    );
    let expected = match D::PAGING {
        tw_model::Paging::Cursor => ids.len().div_ceil(7),
        tw_model::Paging::Document { .. } => 1,
    };
    assert_eq!(requests.len(), expected);
}

/// `--limit 30` where the dataset has pages (a document comes whole, and
/// `--limit` is a usage error there).
fn limit_args<D: Dataset>() -> &'static [&'static str] {
    match D::PAGING {
        tw_model::Paging::Cursor => &["--limit", "30"],
        tw_model::Paging::Document { .. } => &[],
    }
}

pub(crate) fn command_writes_jsonl_and_csv<D: Dataset>() {
    let sandbox = sandbox(120);
    let dir = temp_dir(&format!("dataset-{}", D::NAME));
    let export = |extra: &[&str], out: &std::path::Path| {
        let output = run(export_dataset(&sandbox, D::NAME)
            .args(limit_args::<D>())
            .args(extra)
            .arg("-o")
            .arg(out));
        assert!(output.status.success(), "{}", stderr(&output));
    };
    let jsonl = dir.join("out.jsonl");
    export(&[], &jsonl);
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let records: Vec<D::Record> = text
        .lines()
        .map(|line| tw_model::decode(line.as_bytes()).unwrap())
        .collect();
    let ids: Vec<String> = records.iter().map(|r| key_of(r, D::KEY[0])).collect();
    assert_eq!(ids, sandbox.keys(D::PATH));
    for (line, record) in text.lines().zip(&records) {
        let sent: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_value(record).unwrap(), sent);
    }

    let csv = dir.join("out.csv");
    export(&["--format", "csv", "--csv-dialect", "rfc4180"], &csv);
    let mut reader = csv::ReaderBuilder::new().from_path(&csv).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        D::Record::COLUMNS
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let expected: Vec<Vec<String>> = records.iter().flat_map(table_rows).collect();
    assert_eq!(rows, expected);

    // Parquet: the same table, typed as the dataset declares.
    let parquet = dir.join("out.parquet");
    export(&[], &parquet);
    assert_eq!(parquet_rows::<D>(&parquet), expected);
}

/// A Parquet file's rows as the CSV table's text, after checking each
/// value has its column's declared kind (null for a blank cell).
pub(crate) fn parquet_rows<D: Dataset>(path: &std::path::Path) -> Vec<Vec<String>> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let names: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    assert_eq!(names, D::Record::COLUMNS);
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            let row = row.unwrap();
            row.get_column_iter()
                .zip(D::Record::kinds())
                .map(|((_, field), kind)| match (field, kind) {
                    (Field::Null, _) => String::new(),
                    (Field::Str(s), tw_model::Kind::Text) => s.clone(),
                    (Field::Long(n), tw_model::Kind::Integer) => n.to_string(),
                    (Field::Double(x), tw_model::Kind::Float) => x.to_string(),
                    (Field::Bool(b), tw_model::Kind::Boolean) => b.to_string(),
                    (field, kind) => panic!("{field:?} in a {kind:?} column"),
                })
                .collect()
        })
        .collect()
}

macro_rules! suites {
    ($($module:ident: $dataset:ty,)*) => {
        $(
            mod $module {
                #[test]
                fn library_exports_every_record_once() {
                    super::library_exports_every_record_once::<$dataset>();
                }

                #[test]
                fn command_writes_jsonl_and_csv() {
                    super::command_writes_jsonl_and_csv::<$dataset>();
                }

                #[test]
                fn kill_and_resume_gives_byte_identical_output() {
                    crate::resume::kill_and_resume_gives_byte_identical_output::<$dataset>();
                }
            }
        )*
    };
}

tw_model::with_datasets!(suites);

/// The body and query the sandbox logged for the first export request of
/// `dataset` run with `flags`.
fn first_request(
    dataset: &str,
    flags: &[&str],
) -> (
    serde_json::Value,
    Vec<(String, String)>,
    std::process::Output,
) {
    let sandbox = sandbox(20);
    let output = run(export_dataset(&sandbox, dataset).args(flags));
    let sent = sandbox
        .requests()
        .into_iter()
        .next()
        .expect("an export request was sent");
    let body = if sent.body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&sent.body).unwrap()
    };
    (body, sent.query, output)
}

#[test]
fn dataset_flags_reach_the_server_as_documented() {
    let (body, query, output) = first_request(
        "task-profiles",
        &[
            "--include",
            "ai_impact,weekly_hours",
            "--active-only",
            "--updated-after",
            "2024-01-31",
            "--response-format",
            "list",
            "--external-vendor",
            "workday",
            "--limit",
            "7",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        body,
        serde_json::json!({
            "limit": 7,
            "filters": [
                {"filter": "is_active", "is_active": true},
                {"filter": "last_updated", "value": "2024-01-31", "operator": "gt"}
            ],
            "include": ["ai_impact", "weekly_hours"]
        })
    );
    assert_eq!(
        query,
        [
            ("external_vendor".to_owned(), "workday".to_owned()),
            ("response_format".to_owned(), "list".to_owned())
        ]
    );

    let (body, query, output) = first_request(
        "ai-goals",
        &[
            "--inactive-only",
            "--versions",
            "latest",
            "--external-vendor",
            "sap_attribute_library",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        body,
        serde_json::json!({"limit": 100, "filters": [{"filter": "is_active", "is_active": false}]})
    );
    assert_eq!(
        query,
        [
            (
                "external_vendor".to_owned(),
                "sap_attribute_library".to_owned()
            ),
            ("versions".to_owned(), "latest".to_owned())
        ]
    );
}

#[test]
fn job_filters_reach_the_server_and_select_jobs() {
    let (body, _, output) = first_request(
        "job-skill-profiles",
        &[
            "--job-family-ids",
            "jf_finance,jf_data",
            "--updated-before",
            "2026-01-01",
            "--sort",
            "alphabetical",
            "--include",
            "critical",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        body,
        serde_json::json!({
            "limit": 100,
            "filters": [
                {"filter": "last_updated", "value": "2026-01-01", "operator": "lt"},
                {"filter": "job_family_id_is_in_list", "job_family_ids": ["jf_finance", "jf_data"]}
            ],
            "include": ["critical"],
            "output_skills_sorting": "alphabetical"
        })
    );
    // The sandbox applies the family filter: only those families' jobs.
    let sandbox = sandbox(100);
    let output = run(
        export_dataset(&sandbox, "job-skill-profiles").args(["--job-family-ids", "jf_finance"])
    );
    assert!(output.status.success());
    let lines = String::from_utf8(output.stdout).unwrap().lines().count();
    let all = sandbox
        .keys("/job_architecture/export/jobs/skill_profiles")
        .len();
    assert!(lines > 0 && lines < all, "{lines} of {all} jobs");
    let output = run(export_dataset(&sandbox, "skill-clusters").args(["--job-family-ids", "x"]));
    assert_eq!(
        output.status.code(),
        Some(2),
        "a flag the dataset does not have"
    );
}

#[test]
fn suggestion_flags_go_to_the_body_and_query_as_documented() {
    let (body, query, output) = first_request(
        "job-suggestions",
        &[
            "--states",
            "suggested,accepted",
            "--job-family-ids",
            "jf_data",
            "--response-format",
            "list",
            "--category",
            "tasks",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        body,
        serde_json::json!({
            "limit": 100,
            "filters": [
                {"filter": "state_is_in_list", "states": ["suggested", "accepted"]},
                {"filter": "job_family_id_is_in_list", "job_family_ids": ["jf_data"]}
            ],
            "response_format": "list"
        })
    );
    assert_eq!(query, [("category".to_owned(), "tasks".to_owned())]);
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(record["task_id"].is_string(), "task suggestions: {record}");
        assert_ne!(record["state"], "rejected");
    }
}

#[test]
fn a_review_state_this_release_does_not_know_is_refused_before_any_request() {
    let sandbox = self::sandbox(20);
    let output =
        run(export_dataset(&sandbox, "job-suggestions").args(["--states", "accepted,sugested"]));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains(
            r#"--states: unknown review state "sugested"; allowed: suggested, accepted, rejected"#
        ),
        "{err}"
    );
    // The way to send it anyway is named, and it is a filter the command takes.
    assert!(
        err.contains(r#"--filter '{"filter":"state_is_in_list","states":["sugested"]}'"#),
        "{err}"
    );
    assert!(sandbox.requests().is_empty(), "no request was sent");
    // Blanks around and between values are no states.
    let (body, _, output) = first_request("job-suggestions", &["--states", " rejected,,accepted "]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        body["filters"],
        serde_json::json!([{"filter": "state_is_in_list", "states": ["rejected", "accepted"]}])
    );
}

#[test]
fn escape_hatches_send_what_the_model_does_not_know() {
    let (body, query, output) = first_request(
        "skill-profiles",
        &[
            "--filter",
            r#"{"filter":"department_is_in_list","departments":["R&D"]}"#,
            "--query",
            "vocab_language=de",
            "--query",
            "tag=a=b",
        ],
    );
    // The sandbox does not know them either: it says so (422), and the
    // command exits 4 with its message.
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(stderr(&output).contains("HTTP 422"), "{}", stderr(&output));
    assert_eq!(
        body["filters"].as_array().unwrap().last().unwrap(),
        &serde_json::json!({"filter": "department_is_in_list", "departments": ["R&D"]})
    );
    assert!(
        query.contains(&("vocab_language".to_owned(), "de".to_owned())),
        "{query:?}"
    );
    assert!(
        query.contains(&("tag".to_owned(), "a=b".to_owned())),
        "{query:?}"
    );
}

#[test]
fn skills_flags_reach_the_server_wrapped_and_as_repeated_query() {
    let (body, query, output) = first_request(
        "skills",
        &[
            "--skill-source",
            "vocabulary",
            "--skill-ids",
            "rust-lang, gaap",
            "--include",
            "properties",
            "--vocab-language",
            "de",
            "--external-vendor",
            "workday",
            "--limit",
            "1000",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        body,
        serde_json::json!({
            "limit": 1000,
            "filters": {"filters": [
                {"filter": "skill_source", "skill_source": "vocabulary"},
                {"filter": "skill_id_is_in_list", "skill_ids": ["rust-lang", "gaap"]}
            ]}
        })
    );
    assert_eq!(
        query,
        [
            ("external_vendor".to_owned(), "workday".to_owned()),
            ("include".to_owned(), "properties".to_owned()),
            ("vocab_language".to_owned(), "de".to_owned())
        ]
    );
    // The sandbox applied them: the two skills, in German, with properties.
    let records: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = records
        .iter()
        .map(|r| r["skill_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["rust-lang", "gaap"]);
    assert!(
        records
            .iter()
            .all(|r| r["skill_name"].as_str().unwrap().ends_with("[de]"))
    );
    assert!(
        records
            .iter()
            .all(|r| r["properties"]["sap_status"]["value"].is_string())
    );

    // Without --include, no properties; --filter joins the wrapped list.
    let (body, query, output) = first_request(
        "skills",
        &[
            "--filter",
            r#"{"filter":"skill_source","skill_source":"custom"}"#,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        body["filters"],
        serde_json::json!({"filters": [{"filter": "skill_source", "skill_source": "custom"}]})
    );
    assert!(query.is_empty(), "{query:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.lines().count() > 0);
    for line in text.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(record["skill_source"], "custom");
        assert!(record.get("properties").is_none());
    }
}

/// Every unit of an org tree, depth first: (external id, total, low data).
fn units(value: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
    out.push(value.clone());
    for child in value["children"].as_array().unwrap() {
        units(child, out);
    }
}

#[test]
fn org_units_is_one_get_with_its_query_and_totals_that_add_up() {
    let (body, query, output) = first_request("org-units", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(body, serde_json::Value::Null, "a GET sends no body");
    assert_eq!(
        query,
        [(
            "include".to_owned(),
            "low_data_availability_flag".to_owned()
        )]
    );

    let sandbox = sandbox(400);
    let tree = |flags: &[&str]| -> Vec<serde_json::Value> {
        let output = run(export_dataset(&sandbox, "org-units").args(flags));
        assert!(output.status.success(), "{}", stderr(&output));
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    // Every employee is in one unit: the roots' totals are the headcount,
    // and no unit counts fewer than its sub-units together.
    let roots = tree(&[]);
    let total: i64 = roots
        .iter()
        .map(|r| r["total_nr_of_employees"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 400);
    let mut all = Vec::new();
    roots.iter().for_each(|r| units(r, &mut all));
    for unit in &all {
        let children: i64 = unit["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["total_nr_of_employees"].as_i64().unwrap())
            .sum();
        let own = unit["total_nr_of_employees"].as_i64().unwrap();
        assert!(own >= children, "{unit}");
        let low = unit["low_data_availability"].as_i64().unwrap();
        assert!((0..=own).contains(&low), "{unit}");
    }
    // With --skill-id: only units with such employees, counting only them.
    let filtered = tree(&["--skill-id", "rust-lang", "--include", ""]);
    let mut kept = Vec::new();
    filtered.iter().for_each(|r| units(r, &mut kept));
    assert!(!kept.is_empty() && kept.len() <= all.len());
    let filtered_total: i64 = filtered
        .iter()
        .map(|r| r["total_nr_of_employees"].as_i64().unwrap())
        .sum();
    assert!(
        0 < filtered_total && filtered_total < 400,
        "{filtered_total}"
    );
    for unit in &kept {
        assert!(
            unit["total_nr_of_employees"].as_i64().unwrap() > 0,
            "{unit}"
        );
        assert!(
            unit.get("low_data_availability").is_none(),
            "not included: {unit}"
        );
    }
}

#[test]
fn org_units_json_is_the_document_and_csv_a_row_per_unit() {
    let sandbox = sandbox(200);
    let dir = temp_dir("org-units-formats");
    let export = |flags: &[&str], out: &str| {
        let path = dir.join(out);
        let output = run(export_dataset(&sandbox, "org-units")
            .args(flags)
            .arg("-o")
            .arg(&path));
        assert!(output.status.success(), "{}", stderr(&output));
        std::fs::read_to_string(path).unwrap()
    };
    let jsonl = export(&[], "org.jsonl");
    let json = export(&["--format", "json"], "org.json");
    let document: serde_json::Value = serde_json::from_str(&json).unwrap();
    let roots: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        document,
        serde_json::json!({"organisational_structure": roots}),
        "JSON is the response document"
    );
    let csv = export(&["--format", "csv", "--csv-dialect", "rfc4180"], "org.csv");
    let mut reader = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let mut all = Vec::new();
    roots.iter().for_each(|r| units(r, &mut all));
    assert_eq!(rows.len(), all.len(), "one row per unit");
    for (row, unit) in rows.iter().zip(&all) {
        assert_eq!(&row[0], unit["external_id"].as_str().unwrap());
        let depth: usize = row[2].parse().unwrap();
        assert_eq!(row[3].split('/').count(), depth + 1, "{row:?}");
        assert_eq!(row[3].rsplit('/').next().unwrap(), &row[0]);
        if depth == 0 {
            assert_eq!(&row[1], "");
        } else {
            let parent = row[3].rsplit('/').nth(1).unwrap();
            assert_eq!(&row[1], parent);
        }
    }
}

#[test]
fn the_formula_guard_also_guards_a_leading_backtick_so_it_can_be_undone() {
    let sandbox = sandbox(100);
    let output = run(export_dataset(&sandbox, "skills").args([
        "--format",
        "csv",
        "--skill-source",
        "custom",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("\"``Backticked` tooling #0\""), "{text}");
    // Undoing the rule (strip one leading backtick) gives the JSONL values.
    let jsonl = run(export_dataset(&sandbox, "skills").args(["--skill-source", "custom"]));
    let names: Vec<String> = String::from_utf8(jsonl.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["skill_name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let undone: Vec<String> = reader
        .records()
        .map(|r| {
            let name = r.unwrap()[1].to_owned();
            name.strip_prefix('`').map_or(name.clone(), str::to_owned)
        })
        .collect();
    assert_eq!(undone, names);
}

#[test]
fn csv_keeps_unknown_fields_in_its_extra_column() {
    let sandbox = sandbox(80);
    let output = run(export_dataset(&sandbox, "skill-clusters").args([
        "--format",
        "csv",
        "--csv-dialect",
        "rfc4180",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let mut reader = csv::ReaderBuilder::new().from_reader(&output.stdout[..]);
    let headers = reader.headers().unwrap().clone();
    assert_eq!(headers.iter().next_back(), Some("extra"));
    let mut seen = std::collections::BTreeSet::new();
    for row in reader.records() {
        let row = row.unwrap();
        let extra = &row[headers.len() - 1];
        if extra.is_empty() {
            continue;
        }
        let object: serde_json::Value = serde_json::from_str(extra).unwrap();
        seen.extend(object.as_object().unwrap().keys().cloned());
    }
    for key in [
        "employee.employee_group",
        "cluster.cluster_weight",
        "skill.confidence",
    ] {
        assert!(seen.contains(key), "{key} in {seen:?}");
    }
    // Known fields never land there, not even their remembered nulls.
    assert!(
        seen.iter().all(|k| !k.ends_with(".validation_state")),
        "{seen:?}"
    );
}

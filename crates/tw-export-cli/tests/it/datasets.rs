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
    assert_eq!(requests.len(), ids.len().div_ceil(7));
}

pub(crate) fn command_writes_jsonl_and_csv<D: Dataset>() {
    let sandbox = sandbox(120);
    let dir = temp_dir(&format!("dataset-{}", D::NAME));
    let export = |extra: &[&str], out: &std::path::Path| {
        let output = run(export_dataset(&sandbox, D::NAME)
            .args(["--limit", "30"])
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
    (
        serde_json::from_str(&sent.body).unwrap(),
        sent.query,
        output,
    )
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

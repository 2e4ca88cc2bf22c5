//! Invalid input exits 2 with a specific message, before any request.

use crate::{run, stderr, tw_export};

fn usage_error(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = tw_export();
    command.args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = run(&mut command);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{args:?}: {}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty());
    stderr(&output)
}

#[test]
fn bad_flags_exit_2_with_a_message() {
    // A port nothing listens on: any request would fail with exit 4, not 2.
    let url = "http://127.0.0.1:9";
    let token = [("TECHWOLF_TOKEN", "t")];
    let long = "c".repeat(101);
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "limit_0",
            vec!["skill-clusters", "--base-url", url, "--limit", "0"],
        ),
        (
            "limit_101",
            vec!["skill-clusters", "--base-url", url, "--limit", "101"],
        ),
        (
            "limit_text",
            vec!["skill-clusters", "--base-url", url, "--limit", "ten"],
        ),
        (
            "bad_date",
            vec![
                "skill-clusters",
                "--base-url",
                url,
                "--updated-after",
                "2024-02-30",
            ],
        ),
        (
            "bad_date_format",
            vec![
                "skill-clusters",
                "--base-url",
                url,
                "--updated-before",
                "25/03/2024",
            ],
        ),
        (
            "tenant_with_dot",
            vec![
                "skill-clusters",
                "--tenant",
                "acme.evil.com",
                "--region",
                "eu",
            ],
        ),
        (
            "region_with_slash",
            vec!["skill-clusters", "--tenant", "acme", "--region", "eu/x"],
        ),
        (
            "http_elsewhere",
            vec!["skill-clusters", "--base-url", "http://example.com"],
        ),
        (
            "resume_without_output",
            vec!["skill-clusters", "--base-url", url, "--resume"],
        ),
        (
            "bad_dialect",
            vec![
                "skill-clusters",
                "--base-url",
                url,
                "--format",
                "csv",
                "--csv-dialect",
                "excel",
            ],
        ),
        (
            "bad_format",
            vec!["skill-clusters", "--base-url", url, "--format", "xml"],
        ),
        (
            "bad_include",
            vec![
                "skill-clusters",
                "--base-url",
                url,
                "--include",
                "current_skills,everything",
            ],
        ),
        (
            "both_activity_filters",
            vec![
                "skill-clusters",
                "--base-url",
                url,
                "--active-only",
                "--inactive-only",
            ],
        ),
        (
            "long_cursor",
            vec![
                "skill-clusters",
                "--base-url",
                url,
                "--starting-after",
                &long,
            ],
        ),
        (
            "bad_api_version",
            vec![
                "skill-clusters",
                "--base-url",
                url,
                "--api-version",
                "latest",
            ],
        ),
        (
            "unknown_flag",
            vec!["skill-clusters", "--base-url", url, "--client-secret", "x"],
        ),
        (
            "skills_limit_1001",
            vec!["skills", "--base-url", url, "--limit", "1001"],
        ),
        (
            "skills_bad_include",
            vec![
                "skills",
                "--base-url",
                url,
                "--include",
                "properties,synonyms",
            ],
        ),
        (
            "skills_bad_language",
            vec!["skills", "--base-url", url, "--vocab-language", "es"],
        ),
        (
            "skills_blank_source",
            vec!["skills", "--base-url", url, "--skill-source", " "],
        ),
        (
            "skills_no_employee_filter",
            vec!["skills", "--base-url", url, "--active-only"],
        ),
        (
            "org_units_limit",
            vec!["org-units", "--base-url", url, "--limit", "10"],
        ),
        (
            "org_units_starting_after",
            vec!["org-units", "--base-url", url, "--starting-after", "c1"],
        ),
        (
            "org_units_bad_skill_id",
            vec!["org-units", "--base-url", url, "--skill-id", "rust lang"],
        ),
        (
            "org_units_long_skill_id",
            vec!["org-units", "--base-url", url, "--skill-id", &long],
        ),
        (
            "org_units_filter",
            vec![
                "org-units",
                "--base-url",
                url,
                "--filter",
                r#"{"filter":"x"}"#,
            ],
        ),
        (
            "org_units_bad_include",
            vec!["org-units", "--base-url", url, "--include", "headcount"],
        ),
        (
            "format_contradicts_name",
            vec![
                "skills",
                "--base-url",
                url,
                "--format",
                "csv",
                "-o",
                "skills.jsonl",
            ],
        ),
        (
            "parquet_to_stdout",
            vec!["skills", "--base-url", url, "--format", "parquet"],
        ),
        (
            "parquet_compressed",
            vec!["skills", "--base-url", url, "-o", "skills.parquet.gz"],
        ),
        (
            "xlsx_not_written",
            vec!["skills", "--base-url", url, "-o", "skills.xlsx"],
        ),
        (
            "dialect_without_csv",
            vec![
                "skills",
                "--base-url",
                url,
                "--csv-dialect",
                "rfc4180",
                "-o",
                "s.json",
            ],
        ),
        (
            "bom_without_csv",
            vec!["skills", "--base-url", url, "--bom"],
        ),
        (
            "all_dialect_without_csv",
            vec![
                "all",
                "--base-url",
                url,
                "-o",
                "dir",
                "--csv-dialect",
                "rfc4180",
            ],
        ),
        (
            "org_units_no_updated_filter",
            vec![
                "org-units",
                "--base-url",
                url,
                "--updated-after",
                "2024-01-01",
            ],
        ),
    ];
    for (name, args) in cases {
        let message = usage_error(&args, &token);
        insta::assert_snapshot!(name, message);
    }
}

type Case<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, &'a str)>);

#[test]
fn missing_connection_or_credentials_exit_2() {
    let url = "http://127.0.0.1:9";
    let cases: Vec<Case<'_>> = vec![
        (
            "no_target",
            vec!["skill-clusters"],
            vec![("TECHWOLF_TOKEN", "t")],
        ),
        (
            "tenant_without_region",
            vec!["skill-clusters", "--tenant", "acme"],
            vec![("TECHWOLF_TOKEN", "t")],
        ),
        (
            "no_credentials",
            vec!["skill-clusters", "--base-url", url],
            vec![],
        ),
        (
            "id_without_secret",
            vec!["skill-clusters", "--base-url", url],
            vec![("TECHWOLF_CLIENT_ID", "id")],
        ),
        (
            "token_and_id",
            vec!["skill-clusters", "--base-url", url],
            vec![("TECHWOLF_CLIENT_ID", "id"), ("TECHWOLF_TOKEN", "t")],
        ),
        (
            "no_token_url",
            vec!["skill-clusters", "--base-url", url, "--tenant", "acme"],
            vec![
                ("TECHWOLF_CLIENT_ID", "id"),
                ("TECHWOLF_CLIENT_SECRET", "s"),
            ],
        ),
        (
            "missing_secret_file",
            vec![
                "skill-clusters",
                "--base-url",
                url,
                "--client-secret-file",
                "/nonexistent/secret",
            ],
            vec![("TECHWOLF_CLIENT_ID", "id")],
        ),
    ];
    for (name, args, env) in cases {
        let message = usage_error(&args, &env);
        insta::assert_snapshot!(name, message);
    }
}

#[test]
fn env_vars_configure_the_connection() {
    // TECHWOLF_BASE_URL is read from the environment; the request then fails
    // to connect (exit 4), proving no flag was needed.
    let output = run(tw_export()
        .env("TECHWOLF_TOKEN", "t")
        .env("TECHWOLF_BASE_URL", "http://127.0.0.1:9")
        .args(["skill-clusters", "--max-attempts", "1"]));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("could not connect"),
        "{}",
        stderr(&output)
    );
}

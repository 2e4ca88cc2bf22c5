//! Auth, validation and routing answers, each with a JSON error body.

use std::time::Duration;

use serde_json::json;
use tw_sandbox::{Sandbox, SandboxConfig};

use crate::client::Client;
use crate::{request, sandbox};

fn token(client: &mut Client, id: &str, secret: &str) -> crate::client::Reply {
    let body = json!({
        "client_id": id, "client_secret": secret, "audience": "eu3.techwolf.ai",
        "grant_type": "client_credentials", "tenant": "sandbox"
    });
    client
        .send(
            "POST",
            "/oauth/token",
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
        .unwrap()
}

fn export_with(
    client: &mut Client,
    authorization: Option<&str>,
    body: &[u8],
) -> crate::client::Reply {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(value) = authorization {
        headers.push(("Authorization", value));
    }
    client
        .send("POST", "/export/employees/skill_clusters", &headers, body)
        .unwrap()
}

#[test]
fn client_credentials_issue_working_tokens() {
    let sandbox = sandbox(20);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    let reply = token(&mut client, "sandbox-client", "sandbox-secret");
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let bearer = format!("Bearer {}", body["access_token"].as_str().unwrap());
    let reply = export_with(
        &mut client,
        Some(&bearer),
        request(5).to_string().as_bytes(),
    );
    assert_eq!(reply.status, 200);

    let reply = token(&mut client, "sandbox-client", "wrong");
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["error"], "access_denied");
    let log = sandbox.requests();
    assert!(
        log.iter().all(|r| !r.body.contains("sandbox-secret")),
        "the log holds no secret"
    );
}

#[test]
fn tokens_expire() {
    let sandbox = Sandbox::start(SandboxConfig {
        employees: 5,
        token_lifetime: Duration::from_millis(300),
        ..SandboxConfig::default()
    })
    .unwrap();
    let mut client = Client::connect(sandbox.addr()).unwrap();
    let body = token(&mut client, "sandbox-client", "sandbox-secret").json();
    let bearer = format!("Bearer {}", body["access_token"].as_str().unwrap());
    assert_eq!(
        export_with(&mut client, Some(&bearer), br#"{"limit":1}"#).status,
        200
    );
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        export_with(&mut client, Some(&bearer), br#"{"limit":1}"#).status,
        401
    );
}

#[test]
fn bad_requests_get_specific_json_errors() {
    let sandbox = sandbox(20);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    let ok = Some("Bearer sandbox-token");
    let cases: Vec<(Option<&str>, Vec<u8>, u16, &str)> = vec![
        (None, br#"{"limit":1}"#.to_vec(), 401, "unauthorized"),
        (Some("Bearer nope"), br#"{"limit":1}"#.to_vec(), 401, "unauthorized"),
        (Some("Basic abc"), br#"{"limit":1}"#.to_vec(), 401, "unauthorized"),
        (ok, b"limit=1".to_vec(), 400, "invalid_json"),
        (ok, b"[1,2]".to_vec(), 400, "invalid_json"),
        (ok, br#"{"limit":0}"#.to_vec(), 422, "validation_error"),
        (ok, br#"{"limit":101}"#.to_vec(), 422, "validation_error"),
        (ok, br#"{"include":["sources"]}"#.to_vec(), 422, "validation_error"),
        (ok, br#"{"limit":5,"include":["everything"]}"#.to_vec(), 422, "validation_error"),
        (ok, br#"{"limit":5,"filters":[{"filter":"state_is_in_list","states":[]}]}"#.to_vec(), 422, "validation_error"),
        (ok, br#"{"limit":5,"filters":[{"filter":"last_updated","value":"yesterday","operator":"gt"}]}"#.to_vec(), 422, "validation_error"),
        (ok, br#"{"limit":5,"filters":[{"filter":"last_updated","value":"2024-01-01","operator":"gte"}]}"#.to_vec(), 422, "validation_error"),
        (ok, br#"{"limit":5,"starting_after":"sc1zzzz"}"#.to_vec(), 400, "invalid_cursor"),
    ];
    let mut details = Vec::new();
    for (auth, body, status, code) in cases {
        let reply = export_with(&mut client, auth, &body);
        assert_eq!(reply.status, status, "{}", String::from_utf8_lossy(&body));
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let json = reply.json();
        assert_eq!(json["error"], code, "{json}");
        details.push(format!(
            "{status} {} <- {}",
            json["detail"],
            String::from_utf8_lossy(&body)
        ));
    }
    insta::assert_snapshot!("error_details", details.join("\n"));
}

#[test]
fn unknown_paths_and_wrong_methods() {
    let sandbox = sandbox(5);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    let reply = client.send("GET", "/nope", &[], b"").unwrap();
    assert_eq!(
        (reply.status, reply.json()["error"].clone()),
        (404, json!("not_found"))
    );
    let reply = client
        .send("GET", "/export/employees/skill_clusters", &[], b"")
        .unwrap();
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("POST"));
    assert_eq!(reply.json()["error"], "method_not_allowed");
    let reply = client
        .send(
            "GET",
            "/version",
            &[("Authorization", "Bearer sandbox-token")],
            b"",
        )
        .unwrap();
    assert_eq!(reply.json()["version"], "2024-09-13");
    assert_eq!(sandbox.connections(), 1, "errors keep the connection alive");
}

#[test]
fn stopping_frees_the_port() {
    let sandbox = sandbox(5);
    let addr = sandbox.addr();
    sandbox.stop();
    assert!(std::net::TcpListener::bind(addr).is_ok());
}

#[test]
fn skills_and_org_units_check_their_own_forms() {
    let sandbox = sandbox(40);
    let mut client = Client::connect(sandbox.addr()).unwrap();
    let auth = [
        ("Authorization", "Bearer sandbox-token"),
        ("Content-Type", "application/json"),
    ];
    let post = |client: &mut Client, target: &str, body: &str| {
        client.send("POST", target, &auth, body.as_bytes()).unwrap()
    };
    let get = |client: &mut Client, target: &str| client.send("GET", target, &auth, b"").unwrap();

    // Skills: filters wrapped in an object, and nothing else.
    let wrapped = r#"{"limit":5,"filters":{"filters":[{"filter":"skill_source","skill_source":"vocabulary"}]}}"#;
    assert_eq!(post(&mut client, "/export/skills", wrapped).status, 200);
    let plain = r#"{"limit":5,"filters":[{"filter":"skill_source","skill_source":"vocabulary"}]}"#;
    let reply = post(&mut client, "/export/skills", plain);
    assert_eq!(reply.status, 422);
    assert!(
        reply.json()["detail"]
            .as_str()
            .unwrap()
            .contains("{\"filters\": [...]}")
    );
    assert_eq!(
        post(&mut client, "/export/skills", r#"{"limit":1000}"#).status,
        200
    );
    assert_eq!(
        post(&mut client, "/export/skills", r#"{"limit":1001}"#).status,
        422
    );
    let reply = post(
        &mut client,
        "/export/skills?vocab_language=de&vocab_language=fr",
        r#"{"limit":5}"#,
    );
    assert_eq!(reply.status, 422, "a single-valued parameter repeated");
    let reply = post(
        &mut client,
        "/export/skills?include=synonyms",
        r#"{"limit":5}"#,
    );
    assert_eq!(reply.status, 422);

    // Org units: a GET without body; its query checked.
    let reply = get(
        &mut client,
        "/organisational_units/export?include=low_data_availability_flag",
    );
    assert_eq!(reply.status, 200);
    assert!(reply.json()["organisational_structure"].is_array());
    let reply = get(
        &mut client,
        "/organisational_units/export?skill_id=rust%20lang",
    );
    assert_eq!(reply.status, 422, "{}", reply.json());
    let reply = get(&mut client, "/organisational_units/export?limit=5");
    assert_eq!(reply.status, 422);
    assert!(
        reply.json()["detail"]
            .as_str()
            .unwrap()
            .contains("allowed: skill_id, include")
    );
    let reply = client
        .send(
            "GET",
            "/organisational_units/export",
            &auth,
            br#"{"limit":5}"#,
        )
        .unwrap();
    assert_eq!(reply.status, 400, "a GET takes no body");
    let reply = post(&mut client, "/organisational_units/export", "{}");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET"));
}

#[test]
fn faults_fire_on_the_document_route_too() {
    let mut faults = tw_sandbox::Faults::default();
    faults.server_error_every = Some(2);
    faults.cut_body_every = Some(3);
    let sandbox = crate::with_faults(40, faults);
    let auth = [("Authorization", "Bearer sandbox-token")];
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let mut client = Client::connect(sandbox.addr()).unwrap();
        match client.send("GET", "/organisational_units/export", &auth, b"") {
            Ok(reply) => statuses.push(reply.status),
            Err(_) => statuses.push(0),
        }
    }
    // 1 ok, 2 server error, 3 a cut body (cannot be read in full), 4
    // server error.
    assert_eq!(statuses, [200, 503, 0, 503]);
}

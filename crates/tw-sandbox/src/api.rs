//! The fake API: routing, auth, the export endpoint and fault injection.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use serde_json::{Value, json};

use crate::collections::{self, Collection, Selection};
use crate::cursor::{self, Position};
use crate::server::{Answer, Gate, HttpRequest};
use crate::tenant::Tenant;
use crate::{RequestRecord, SandboxConfig};

pub(crate) const TOKEN_PATH: &str = "/oauth/token";
const LOG_CAP: usize = 100_000;

pub(crate) struct State {
    pub config: SandboxConfig,
    pub tenant: Arc<Tenant>,
    /// The route table: one collection per dataset.
    collections: Vec<Box<dyn Collection>>,
    tokens: Mutex<HashMap<String, Instant>>,
    token_counter: AtomicU64,
    token_salt: u64,
    export_requests: AtomicU64,
    log: Mutex<VecDeque<RequestRecord>>,
    /// Holds export answers back on a test's request.
    pub gate: Arc<Gate>,
}

fn json_answer(status: u16, body: &Value) -> Answer {
    Answer::Respond {
        status,
        headers: vec![("Content-Type", "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

fn error(status: u16, code: &str, detail: impl Into<String>) -> Answer {
    json_answer(status, &json!({"error": code, "detail": detail.into()}))
}

fn not_allowed(method: &str, allowed: &'static str) -> Answer {
    let mut answer = error(
        405,
        "method_not_allowed",
        format!("{method} is not allowed here; use {allowed}"),
    );
    if let Answer::Respond { headers, .. } = &mut answer {
        headers.push(("Allow", allowed.into()));
    }
    answer
}

fn status_of(answer: &Answer) -> u16 {
    match answer {
        Answer::Respond { status, .. } => *status,
        Answer::Close => 0,
        Answer::CutBody { .. } => 200,
        Answer::Delayed(_, inner) | Answer::Held(_, _, inner) => status_of(inner),
    }
}

/// The query of a request target, percent-decoded.
fn query_of(target: &str) -> Vec<(String, String)> {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() && text.is_char_boundary(i + 3) => {
                    match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                        Ok(byte) => {
                            out.push(byte);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                byte => out.push(byte),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    let Some((_, query)) = target.split_once('?') else {
        return Vec::new();
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// A per-dataset salt for cursors, so one dataset's cursor is rejected by
/// another (FNV-1a of the path).
fn salt(path: &str) -> u64 {
    path.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl State {
    /// Appends record `index` of `selection`, with [`crate::NEW_FIELD`]
    /// in every object when the sandbox adds it.
    fn render(&self, selection: &dyn Selection, index: usize, out: &mut Vec<u8>) {
        if !self.config.new_fields {
            return selection.render(index, out);
        }
        let mut record = Vec::with_capacity(2048);
        selection.render(index, &mut record);
        with_new_field(&record, out);
    }

    pub(crate) fn new(config: SandboxConfig, tenant: Tenant) -> State {
        let tenant = Arc::new(tenant);
        let collections = collections::route_table(&tenant);
        let salt = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(7, |d| d.as_nanos() as u64);
        State {
            config,
            tenant,
            collections,
            tokens: Mutex::new(HashMap::new()),
            token_counter: AtomicU64::new(0),
            token_salt: salt,
            export_requests: AtomicU64::new(0),
            log: Mutex::new(VecDeque::new()),
            gate: Arc::default(),
        }
    }

    pub(crate) fn requests(&self) -> Vec<RequestRecord> {
        self.log.lock().unwrap().iter().cloned().collect()
    }

    pub(crate) fn keys(&self, path: &str) -> Vec<String> {
        self.collections
            .iter()
            .find(|c| c.path() == path)
            .map_or_else(Vec::new, |c| (0..c.len()).map(|i| c.key(i)).collect())
    }

    pub(crate) fn export_requests(&self) -> u64 {
        self.export_requests.load(Ordering::SeqCst)
    }

    pub(crate) fn handle(&self, request: &HttpRequest) -> Answer {
        let answer = self.route(request);
        let body = if request.path() == TOKEN_PATH {
            "<redacted: holds the client secret>".to_owned()
        } else {
            String::from_utf8_lossy(&request.body).into_owned()
        };
        let mut log = self.log.lock().unwrap();
        if log.len() == LOG_CAP {
            log.pop_front();
        }
        log.push_back(RequestRecord {
            method: request.method.clone(),
            path: request.path().to_owned(),
            query: query_of(&request.target),
            body,
            status: status_of(&answer),
            connection: request.connection,
        });
        answer
    }

    fn route(&self, request: &HttpRequest) -> Answer {
        let method = request.method.as_str();
        let path = request.path();
        if let Some(collection) = self.collections.iter().find(|c| c.path() == path) {
            return if collection.method() == method {
                self.export(&**collection, request)
            } else {
                not_allowed(method, collection.method())
            };
        }
        match (path, method) {
            (TOKEN_PATH, "POST") => self.token(request),
            ("/version", "GET") => match self.authorize(request) {
                Err(answer) => answer,
                Ok(()) => json_answer(200, &json!({"version": self.config.api_version})),
            },
            (TOKEN_PATH, _) => not_allowed(method, "POST"),
            ("/version", _) => not_allowed(method, "GET"),
            (path, _) => error(404, "not_found", format!("no endpoint at {path}")),
        }
    }

    fn token(&self, request: &HttpRequest) -> Answer {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return error(400, "invalid_request", "the body must be a JSON object");
        };
        if body["grant_type"] != "client_credentials" {
            return error(
                400,
                "unsupported_grant_type",
                "grant_type must be \"client_credentials\"",
            );
        }
        if body["client_id"] != self.config.client_id.as_str()
            || body["client_secret"] != self.config.client_secret.as_str()
        {
            return json_answer(
                401,
                &json!({"error": "access_denied", "error_description": "Unauthorized"}),
            );
        }
        let n = self.token_counter.fetch_add(1, Ordering::SeqCst);
        let token = format!(
            "sbx-{:016x}{:08x}",
            self.token_salt.rotate_left(17) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            n
        );
        let lifetime = self.config.token_lifetime;
        self.tokens
            .lock()
            .unwrap()
            .insert(token.clone(), Instant::now() + lifetime);
        json_answer(
            200,
            &json!({
                "access_token": token,
                "expires_in": lifetime.as_secs(),
                "token_type": "Bearer",
                "scope": "read",
            }),
        )
    }

    fn authorize(&self, request: &HttpRequest) -> Result<(), Answer> {
        let token = request
            .header("authorization")
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        let valid = token.is_some_and(|token| {
            self.config.static_token.as_deref() == Some(token)
                || self
                    .tokens
                    .lock()
                    .unwrap()
                    .get(token)
                    .is_some_and(|expiry| Instant::now() < *expiry)
        });
        if valid {
            Ok(())
        } else {
            Err(error(
                401,
                "unauthorized",
                "missing, invalid or expired bearer token",
            ))
        }
    }

    /// The fault, if any, for the `n`-th export request (1-based).
    fn fault(&self, n: u64, page: impl FnOnce() -> Answer) -> Answer {
        let faults = &self.config.faults;
        let every = |k: Option<u32>| k.is_some_and(|k| k > 0 && n.is_multiple_of(u64::from(k)));
        let answer = if every(faults.close_every) {
            Answer::Close
        } else if every(faults.cut_body_every) {
            match page() {
                Answer::Respond {
                    status: 200, body, ..
                } => Answer::CutBody { body },
                other => other,
            }
        } else if every(faults.rate_limit_every) {
            let mut answer = error(429, "rate_limited", "too many requests");
            if let Answer::Respond { headers, .. } = &mut answer {
                headers.push(("Retry-After", faults.retry_after_secs.to_string()));
            }
            answer
        } else if every(faults.server_error_every) {
            error(503, "unavailable", "the service is briefly unavailable")
        } else if every(faults.unauthorized_every) {
            error(401, "unauthorized", "the bearer token expired")
        } else if every(faults.slow_every) {
            Answer::Delayed(faults.slow_delay, Box::new(page()))
        } else {
            page()
        };
        if faults.latency > Duration::ZERO {
            Answer::Delayed(faults.latency, Box::new(answer))
        } else {
            answer
        }
    }

    fn export(&self, collection: &dyn Collection, request: &HttpRequest) -> Answer {
        if let Err(answer) = self.authorize(request) {
            return answer;
        }
        let n = self.export_requests.fetch_add(1, Ordering::SeqCst) + 1;
        let faults = &self.config.faults;
        if faults.forbidden.iter().any(|p| p == collection.path()) {
            return error(
                403,
                "forbidden",
                format!("this tenant may not read {}", collection.path()),
            );
        }
        if faults.failing.iter().any(|p| p == collection.path()) {
            return error(
                503,
                "unavailable",
                format!("{} is failing", collection.path()),
            );
        }
        let answer = match collection.document() {
            Some(key) => self.fault(n, || self.document(collection, key, request)),
            None => self.fault(n, || self.page(collection, request)),
        };
        if self.gate.holds(n) {
            Answer::Held(self.gate.clone(), n, Box::new(answer))
        } else {
            answer
        }
    }

    /// The whole document of a document export: every selected record
    /// under `key`. Paging faults (empty pages, cursor faults) do not apply.
    fn document(&self, collection: &dyn Collection, key: &str, request: &HttpRequest) -> Answer {
        if !request.body.is_empty() {
            return error(
                400,
                "invalid_request",
                format!("{} takes no body", collection.path()),
            );
        }
        let selection = match collection.select(&serde_json::Map::new(), &query_of(&request.target))
        {
            Ok(selection) => selection,
            Err(detail) => return error(422, "validation_error", detail),
        };
        let mut out = Vec::with_capacity(4096);
        out.extend_from_slice(b"{\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":[");
        let mut first = true;
        for index in (0..collection.len()).filter(|i| selection.matches(*i)) {
            if !first {
                out.push(b',');
            }
            first = false;
            self.render(selection.as_ref(), index, &mut out);
        }
        out.extend_from_slice(b"]}");
        Answer::Respond {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body: out,
        }
    }

    fn page(&self, collection: &dyn Collection, request: &HttpRequest) -> Answer {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return error(400, "invalid_json", "the request body is not valid JSON");
        };
        let Value::Object(body) = body else {
            return error(
                400,
                "invalid_json",
                "the request body must be a JSON object",
            );
        };
        let max = collection.max_limit();
        let limit = match body.get("limit").map(Value::as_u64) {
            Some(Some(limit)) if (1..=u64::from(max)).contains(&limit) => limit as u32,
            Some(_) => {
                return error(
                    422,
                    "validation_error",
                    format!("limit must be an integer from 1 to {max}"),
                );
            }
            None => return error(422, "validation_error", "missing field `limit`"),
        };
        let starting_after = match body.get("starting_after") {
            None => None,
            Some(Value::String(cursor)) if (1..=100).contains(&cursor.chars().count()) => {
                Some(cursor.as_str())
            }
            Some(_) => {
                return error(
                    422,
                    "validation_error",
                    "starting_after must be a string of 1 to 100 characters",
                );
            }
        };
        let selection = match collection.select(&body, &query_of(&request.target)) {
            Ok(selection) => selection,
            Err(detail) => return error(422, "validation_error", detail),
        };
        let seed = self.tenant.seed() ^ salt(collection.path());
        let total = collection.len();
        let start = match starting_after {
            None => Position {
                next: 0,
                empties: 0,
            },
            Some(cursor) => match cursor::decode(cursor, seed) {
                Some(position) if (position.next as usize) <= total => position,
                _ => {
                    return error(
                        400,
                        "invalid_cursor",
                        format!(
                            "starting_after {cursor:?} is not a cursor this tenant issued for {}; \
                             send the previous page's next_starting_after",
                            collection.path()
                        ),
                    );
                }
            },
        };
        let faults = &self.config.faults;
        let mut out = Vec::with_capacity(limit as usize * 1536 + 128);
        out.extend_from_slice(b"{\"has_next\":");
        let next = if starting_after.is_some() && start.empties < faults.empty_pages {
            out.extend_from_slice(b"true,\"records\":[");
            Some(Position {
                next: start.next,
                empties: start.empties + 1,
            })
        } else {
            let mut index = start.next as usize;
            let mut taken = 0;
            let limit = limit as usize;
            let mut records = Vec::with_capacity(limit * 1536);
            while index < total && taken < limit {
                if selection.matches(index) {
                    if taken > 0 {
                        records.push(b',');
                    }
                    self.render(selection.as_ref(), index, &mut records);
                    taken += 1;
                }
                index += 1;
            }
            while index < total && !selection.matches(index) {
                index += 1;
            }
            let has_next = index < total;
            out.extend_from_slice(if has_next { b"true" } else { b"false" });
            out.extend_from_slice(b",\"records\":[");
            out.extend_from_slice(&records);
            has_next.then_some(Position {
                next: index as u32,
                empties: 0,
            })
        };
        out.push(b']');
        if let Some(mut next) = next {
            if faults.repeat_cursor {
                // Always the cursor after the first page: the client loops.
                next = Position {
                    next: next.next.min(limit),
                    empties: 0,
                };
            }
            if !faults.missing_cursor {
                out.extend_from_slice(b",\"next_starting_after\":\"");
                out.extend_from_slice(cursor::encode(next, seed).as_bytes());
                out.push(b'"');
            }
        }
        out.push(b'}');
        Answer::Respond {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body: out,
        }
    }
}

/// Appends `record` (compact JSON, as the collections render it) to `out`
/// with `"<NEW_FIELD>":0.5` first in every object: after each `{` that is
/// not inside a string.
fn with_new_field(record: &[u8], out: &mut Vec<u8>) {
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in record.iter().enumerate() {
        out.push(b);
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b'{' {
            out.push(b'"');
            out.extend_from_slice(crate::NEW_FIELD.as_bytes());
            out.extend_from_slice(b"\":0.5");
            if record.get(i + 1) != Some(&b'}') {
                out.push(b',');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_new_field;

    fn added(record: &str) -> String {
        let mut out = Vec::new();
        with_new_field(record.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_object_gets_the_field_first_and_strings_stay() {
        let new = r#""sandbox_new_field":0.5"#;
        assert_eq!(
            added(r#"{"a":{"b":[{},{"c":1}]},"d":"{x}\"{"}"#),
            format!(r#"{{{new},"a":{{{new},"b":[{{{new}}},{{{new},"c":1}}]}},"d":"{{x}}\"{{"}}"#)
        );
        let value: serde_json::Value =
            serde_json::from_str(&added(r#"{"s":"\\","t":{}}"#)).unwrap();
        assert_eq!(value["t"]["sandbox_new_field"], 0.5);
        assert_eq!(value["s"], "\\");
    }
}

//! The fake API: routing, auth, the export endpoint and fault injection.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tw_model::{Filter, Operator, SkillClustersRequest};

use crate::cursor::{self, Position};
use crate::server::{Answer, HttpRequest};
use crate::tenant::{IncludeSet, Tenant};
use crate::{RequestRecord, SandboxConfig};

pub(crate) const EXPORT_PATH: &str = "/export/employees/skill_clusters";
pub(crate) const TOKEN_PATH: &str = "/oauth/token";
const LOG_CAP: usize = 100_000;

pub(crate) struct State {
    pub config: SandboxConfig,
    pub tenant: Tenant,
    tokens: Mutex<HashMap<String, Instant>>,
    token_counter: AtomicU64,
    token_salt: u64,
    export_requests: AtomicU64,
    log: Mutex<VecDeque<RequestRecord>>,
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

fn status_of(answer: &Answer) -> u16 {
    match answer {
        Answer::Respond { status, .. } => *status,
        Answer::Close => 0,
        Answer::CutBody { .. } => 200,
        Answer::Delayed(_, inner) => status_of(inner),
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
fn parse_day(value: &str) -> Option<u32> {
    let b = value.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i64 = value[0..4].parse().ok()?;
    let month: i64 = value[5..7].parse().ok()?;
    let day: i64 = value[8..10].parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    u32::try_from(era * 146_097 + doe - 719_468).ok()
}

/// The employees a request selects.
struct Selection {
    active: Option<bool>,
    after: Option<u32>,
    before: Option<u32>,
}

impl Selection {
    fn from_filters(filters: &[Filter]) -> Result<Self, String> {
        let mut selection = Selection {
            active: None,
            after: None,
            before: None,
        };
        for filter in filters {
            match filter {
                Filter::IsActive { is_active } => selection.active = Some(*is_active),
                Filter::LastUpdated { value, operator } => {
                    let day = parse_day(value).ok_or_else(|| {
                        format!("last_updated value {value:?} is not a date written as YYYY-MM-DD")
                    })?;
                    match operator {
                        Operator::Gt => selection.after = Some(day),
                        Operator::Lt => selection.before = Some(day),
                        Operator::Other(other) => {
                            return Err(format!(
                                "last_updated operator {other:?} is not supported; use \"gt\" or \"lt\""
                            ));
                        }
                    }
                }
                Filter::Other(map) => {
                    return Err(format!(
                        "unsupported filter {}; this endpoint supports is_active and last_updated",
                        Value::Object(map.clone())
                    ));
                }
            }
        }
        Ok(selection)
    }

    fn matches(&self, tenant: &Tenant, index: usize) -> bool {
        self.active.is_none_or(|a| tenant.is_active(index) == a)
            && self.after.is_none_or(|d| tenant.updated_day(index) > d)
            && self.before.is_none_or(|d| tenant.updated_day(index) < d)
    }
}

impl State {
    pub fn new(config: SandboxConfig, tenant: Tenant) -> State {
        let salt = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(7, |d| d.as_nanos() as u64);
        State {
            config,
            tenant,
            tokens: Mutex::new(HashMap::new()),
            token_counter: AtomicU64::new(0),
            token_salt: salt,
            export_requests: AtomicU64::new(0),
            log: Mutex::new(VecDeque::new()),
        }
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.log.lock().unwrap().iter().cloned().collect()
    }

    pub fn export_requests(&self) -> u64 {
        self.export_requests.load(Ordering::SeqCst)
    }

    pub fn handle(&self, request: &HttpRequest) -> Answer {
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
            body,
            status: status_of(&answer),
            connection: request.connection,
        });
        answer
    }

    fn route(&self, request: &HttpRequest) -> Answer {
        let method = request.method.as_str();
        match (request.path(), method) {
            (EXPORT_PATH, "POST") => self.export(request),
            (TOKEN_PATH, "POST") => self.token(request),
            ("/version", "GET") => match self.authorize(request) {
                Err(answer) => answer,
                Ok(()) => json_answer(200, &json!({"version": self.config.api_version})),
            },
            (EXPORT_PATH | TOKEN_PATH, _) => {
                let mut answer = error(
                    405,
                    "method_not_allowed",
                    format!("{method} is not allowed here; use POST"),
                );
                if let Answer::Respond { headers, .. } = &mut answer {
                    headers.push(("Allow", "POST".into()));
                }
                answer
            }
            ("/version", _) => error(
                405,
                "method_not_allowed",
                format!("{method} is not allowed here; use GET"),
            ),
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
        let every = |k: Option<u32>| k.is_some_and(|k| k > 0 && n % u64::from(k) == 0);
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

    fn export(&self, request: &HttpRequest) -> Answer {
        if let Err(answer) = self.authorize(request) {
            return answer;
        }
        let n = self.export_requests.fetch_add(1, Ordering::SeqCst) + 1;
        self.fault(n, || self.page(request))
    }

    fn page(&self, request: &HttpRequest) -> Answer {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return error(400, "invalid_json", "the request body is not valid JSON");
        };
        if !body.is_object() {
            return error(
                400,
                "invalid_json",
                "the request body must be a JSON object",
            );
        }
        let export: SkillClustersRequest = match serde_json::from_value(body) {
            Ok(export) => export,
            Err(err) => return error(422, "validation_error", err.to_string()),
        };
        let include = match IncludeSet::from_includes(&export.include) {
            Ok(include) => include,
            Err(other) => {
                return error(
                    422,
                    "validation_error",
                    format!(
                        "unknown include {other:?}; allowed: current_skills, related_skills, rejected_skills, sources"
                    ),
                );
            }
        };
        let selection = match Selection::from_filters(&export.filters) {
            Ok(selection) => selection,
            Err(detail) => return error(422, "validation_error", detail),
        };
        let seed = self.tenant.seed();
        let total = self.tenant.len();
        let start = match &export.starting_after {
            None => Position {
                next: 0,
                empties: 0,
            },
            Some(cursor) => match cursor::decode(cursor.as_str(), seed) {
                Some(position) if (position.next as usize) <= total => position,
                _ => {
                    return error(
                        400,
                        "invalid_cursor",
                        format!(
                            "starting_after {:?} is not a cursor this tenant issued; \
                             send the previous page's next_starting_after",
                            cursor.as_str()
                        ),
                    );
                }
            },
        };
        let faults = &self.config.faults;
        let mut out = Vec::with_capacity(export.limit.get() as usize * 1536 + 128);
        out.extend_from_slice(b"{\"has_next\":");
        let next = if export.starting_after.is_some() && start.empties < faults.empty_pages {
            out.extend_from_slice(b"true,\"records\":[");
            Some(Position {
                next: start.next,
                empties: start.empties + 1,
            })
        } else {
            let mut index = start.next as usize;
            let mut taken = 0;
            let limit = export.limit.get() as usize;
            let mut records = Vec::with_capacity(limit * 1536);
            while index < total && taken < limit {
                if selection.matches(&self.tenant, index) {
                    if taken > 0 {
                        records.push(b',');
                    }
                    self.tenant.render(index, include, &mut records);
                    taken += 1;
                }
                index += 1;
            }
            while index < total && !selection.matches(&self.tenant, index) {
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
                    next: next.next.min(export.limit.get()),
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

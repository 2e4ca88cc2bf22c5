//! Authentication: a static bearer token, or OAuth2 client credentials with
//! a cached, early-refreshed token.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::error::body_snippet;
use crate::url::check_url;
use crate::{Error, Request, Response, Secret, Transport};

/// The Auth0 token endpoint for TechWolf's EU region.
pub const EU_TOKEN_URL: &str = "https://techwolf.eu.auth0.com/oauth/token";
/// The audience for TechWolf's EU region.
pub const EU_AUDIENCE: &str = "eu3.techwolf.ai";
/// The Auth0 token endpoint for TechWolf's US region.
pub const US_TOKEN_URL: &str = "https://techwolf-us.us.auth0.com/oauth/token";
/// The audience for TechWolf's US region.
pub const US_AUDIENCE: &str = "us3.techwolf.ai";

/// The documented token URL and audience of a region: `eu` (or `eu3`) and
/// `us` (or `us3`), case-insensitive; `None` for any other region.
pub fn region_defaults(region: &str) -> Option<(&'static str, &'static str)> {
    match region.to_ascii_lowercase().as_str() {
        "eu" | "eu3" => Some((EU_TOKEN_URL, EU_AUDIENCE)),
        "us" | "us3" => Some((US_TOKEN_URL, US_AUDIENCE)),
        _ => None,
    }
}

/// OAuth2 client credentials as TechWolf issues them.
///
/// `Debug` shows the client id, never the secret.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// The client id (TechWolf's "tenant ID").
    client_id: String,
    /// The client secret.
    client_secret: Secret,
    /// The tenant name, sent as TechWolf's extra `tenant` field.
    tenant: String,
    /// The token endpoint.
    token_url: String,
    /// The audience.
    audience: String,
    /// Scopes to ask for (`read`, `write`, `read_reports`); empty asks for
    /// every scope the client has.
    scopes: Vec<String>,
}

impl ClientCredentials {
    /// Credentials with an explicit token URL and audience.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: Secret,
        tenant: impl Into<String>,
        token_url: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, Error> {
        let credentials = ClientCredentials {
            client_id: client_id.into(),
            client_secret,
            tenant: tenant.into(),
            token_url: token_url.into(),
            audience: audience.into(),
            scopes: Vec::new(),
        };
        credentials.check()?;
        Ok(credentials)
    }

    /// Credentials with the documented token URL and audience of `region`:
    /// `eu` (or `eu3`) and `us` (or `us3`). Other regions need
    /// [`ClientCredentials::new`].
    pub fn for_region(
        region: &str,
        tenant: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret,
    ) -> Result<Self, Error> {
        let Some((token_url, audience)) = region_defaults(region) else {
            return Err(Error::invalid(
                "region",
                region,
                "token URL and audience defaults exist for `eu` and `us` only; \
                 give the token URL and audience explicitly for other regions",
            ));
        };
        Self::new(client_id, client_secret, tenant, token_url, audience)
    }

    /// Asks for these scopes (`read`, `write`, `read_reports`) instead of
    /// every scope the client has.
    pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The tenant name.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// The audience.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The scopes asked for; empty for every scope the client has.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    fn check(&self) -> Result<(), Error> {
        if self.client_id.trim().is_empty() {
            return Err(Error::invalid(
                "client id",
                &self.client_id,
                "expected a non-empty client id",
            ));
        }
        if self.client_secret.is_empty() {
            return Err(Error::invalid(
                "client secret",
                "",
                "expected a non-empty client secret",
            ));
        }
        if self.tenant.trim().is_empty() {
            return Err(Error::invalid(
                "tenant",
                &self.tenant,
                "expected the tenant name TechWolf gave you",
            ));
        }
        if self.audience.trim().is_empty() {
            return Err(Error::invalid(
                "audience",
                &self.audience,
                "expected e.g. eu3.techwolf.ai",
            ));
        }
        check_url("token URL", &self.token_url)
    }
}

/// How requests are authenticated.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A bearer token obtained elsewhere, sent as it is.
    BearerToken(Secret),
    /// OAuth2 client credentials, exchanged for cached tokens.
    ClientCredentials(ClientCredentials),
}

impl Credentials {
    /// Which credential this is, for messages: a client id or "a static
    /// bearer token". Never a secret.
    pub fn describe(&self) -> String {
        match self {
            Credentials::BearerToken(_) => "a static bearer token".to_owned(),
            Credentials::ClientCredentials(c) => format!("client id {:?}", c.client_id),
        }
    }
}

struct CachedToken {
    value: Secret,
    refresh_at: Instant,
}

/// The body of a token response; unknown fields are ignored.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<serde_json::Value>,
    expires_in: Option<serde_json::Value>,
}

/// Scrubs every string and number inside `value` from `text`.
fn scrub_value(text: &mut String, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => crate::secret::scrub(text, s),
        Value::Number(n) => crate::secret::scrub(text, &n.to_string()),
        Value::Array(items) => items.iter().for_each(|v| scrub_value(text, v)),
        Value::Object(map) => map.values().for_each(|v| scrub_value(text, v)),
        Value::Bool(_) | Value::Null => {}
    }
}

/// The longest token lifetime believed: Auth0's own maximum, 30 days. A
/// larger `expires_in` (say `18446744073709551615`) is capped, not added to
/// an `Instant` where it would overflow.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// The lifetime of a token from `expires_in`: an integer, an
/// integer-valued float or a numeric string (some OAuth servers send
/// strings); 0 or negative means "use once"; absent or unreadable, the
/// documented 3 hours.
fn token_lifetime(expires_in: Option<&serde_json::Value>) -> Duration {
    use serde_json::Value;
    let seconds = match expires_in {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(text)) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    match seconds {
        Some(s) if s.is_finite() && s.fract() == 0.0 => {
            if s <= 0.0 {
                Duration::ZERO
            } else {
                Duration::try_from_secs_f64(s).map_or(MAX_LIFETIME, |d| d.min(MAX_LIFETIME))
            }
        }
        _ => Duration::from_secs(10_800),
    }
}

/// A [`Transport`] decorator that adds `Authorization: Bearer <token>`.
///
/// With client credentials, the token is fetched on first use, cached, and
/// refreshed shortly before `expires_in` runs out (60 s early, or half the
/// lifetime for short-lived tokens). Threads that need a token at the same
/// time wait for one fetch. A 401 from the API drops the cached token,
/// fetches a new one and replays the request once; a second 401 is
/// [`Error::Auth`], naming the client id.
///
/// Put it outside a [`crate::RetryTransport`] so token requests and API
/// calls are both retried, and a token that expires during long retry waits
/// is renewed.
pub struct AuthTransport<T> {
    inner: T,
    credentials: Credentials,
    cache: Mutex<Option<CachedToken>>,
    token_fetches: AtomicU64,
}

impl<T> std::fmt::Debug for AuthTransport<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthTransport")
            .field("credentials", &self.credentials)
            .field("token_fetches", &self.token_fetches.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// How long before expiry a token is renewed.
fn refresh_margin(lifetime: Duration) -> Duration {
    Duration::from_secs(60).min(lifetime / 2)
}

impl<T: Transport> AuthTransport<T> {
    /// Authenticates requests through `inner` with `credentials`.
    pub fn new(inner: T, credentials: Credentials) -> Self {
        AuthTransport {
            inner,
            credentials,
            cache: Mutex::new(None),
            token_fetches: AtomicU64::new(0),
        }
    }

    /// How many tokens were fetched so far.
    pub fn token_fetches(&self) -> u64 {
        self.token_fetches.load(Ordering::Relaxed)
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// A valid token: the cached one unless it is due for refresh or is
    /// `stale` (the one the API just rejected).
    fn token(&self, stale: Option<&Secret>) -> Result<Secret, Error> {
        let client = match &self.credentials {
            Credentials::BearerToken(token) => return Ok(token.clone()),
            Credentials::ClientCredentials(client) => client,
        };
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(cached) = cache.as_ref() {
            let rejected = stale.is_some_and(|stale| *stale == cached.value);
            if !rejected && Instant::now() < cached.refresh_at {
                return Ok(cached.value.clone());
            }
        }
        *cache = None;
        let fetched = self.fetch_token(client)?;
        let value = fetched.value.clone();
        *cache = Some(fetched);
        Ok(value)
    }

    fn fetch_token(&self, client: &ClientCredentials) -> Result<CachedToken, Error> {
        let mut body = serde_json::json!({
            "client_id": client.client_id,
            "client_secret": client.client_secret.expose(),
            "audience": client.audience,
            "grant_type": "client_credentials",
            "tenant": client.tenant,
        });
        if !client.scopes.is_empty() {
            body["scopes"] = serde_json::json!(client.scopes);
        }
        let request = Request::post_json(&client.token_url, body.to_string().into_bytes());
        let secret = client.client_secret.expose();
        let describe = || self.credentials.describe();
        self.token_fetches.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            token_url = %client.token_url,
            client_id = %client.client_id,
            "requesting an OAuth2 token"
        );
        let started = Instant::now();
        let response = self.inner.send(&request).map_err(|mut err| {
            err.scrub(secret);
            match err {
                // Only these mean the credentials were refused; 429 and 5xx
                // were retried like API calls and stay what they are.
                Error::Status { status, body, .. } if matches!(status, 400 | 401 | 403) => Error::Auth {
                    credential: describe(),
                    reason: format!(
                        "the token endpoint {} rejected the client credentials with HTTP {status}: {}",
                        client.token_url,
                        if body.is_empty() { "(empty body)" } else { &body }
                    ),
                    status: Some(status),
                },
                other => other,
            }
        })?;
        let parsed: Option<TokenResponse> = serde_json::from_slice(&response.body).ok();
        let (access_token, expires_in) = match parsed {
            Some(TokenResponse {
                access_token,
                expires_in,
            }) => (access_token, expires_in),
            None => (None, None),
        };
        let token = match access_token {
            Some(serde_json::Value::String(token)) if !token.is_empty() => token,
            other => {
                let mut snippet = body_snippet(&response.body);
                crate::secret::scrub(&mut snippet, secret);
                // Whatever the token endpoint put there is never printed.
                if let Some(value) = other {
                    scrub_value(&mut snippet, &value);
                }
                return Err(Error::Auth {
                    credential: describe(),
                    reason: format!(
                        "the token endpoint {} answered without a usable access_token: {snippet}",
                        client.token_url
                    ),
                    status: Some(response.status),
                });
            }
        };
        let lifetime = token_lifetime(expires_in.as_ref());
        tracing::info!(
            lifetime_s = lifetime.as_secs(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "received an OAuth2 token"
        );
        Ok(CachedToken {
            value: Secret::new(token),
            refresh_at: started + lifetime - refresh_margin(lifetime),
        })
    }

    fn send_with(&self, request: &Request, token: &Secret) -> Result<Response, Error> {
        // The token is pinned to the API origin: only paths relative to the
        // base URL get it, never an absolute URL that may name another host.
        if !request.path.starts_with('/') {
            return Err(Error::invalid(
                "request path",
                &request.path,
                "a path starting with `/`: the bearer token is only sent to the configured API base URL",
            ));
        }
        let mut request = request.clone();
        request.set_header("Authorization", format!("Bearer {}", token.expose()));
        self.inner.send(&request).map_err(|mut err| {
            err.scrub(token.expose());
            if let Credentials::ClientCredentials(client) = &self.credentials {
                err.scrub(client.client_secret.expose());
            }
            err
        })
    }

    fn rejected(&self, request: &Request, err: &Error, twice: bool) -> Error {
        let body = match err {
            Error::Status { body, .. } if !body.is_empty() => body.clone(),
            _ => "(empty body)".to_owned(),
        };
        let what = if twice {
            "twice, the second time with a freshly issued token"
        } else {
            "(a static token cannot be renewed; get a new one)"
        };
        Error::Auth {
            credential: self.credentials.describe(),
            reason: format!(
                "{} was rejected with HTTP 401 {what}: {body}",
                request.describe()
            ),
            status: Some(401),
        }
    }
}

impl<T: Transport> Transport for AuthTransport<T> {
    fn send(&self, request: &Request) -> Result<Response, Error> {
        let token = self.token(None)?;
        match self.send_with(request, &token) {
            Err(err) if err.status() == Some(401) => {
                if matches!(self.credentials, Credentials::BearerToken(_)) {
                    return Err(self.rejected(request, &err, false));
                }
                let fresh = self.token(Some(&token))?;
                match self.send_with(request, &fresh) {
                    Err(err) if err.status() == Some(401) => {
                        Err(self.rejected(request, &err, true))
                    }
                    other => other,
                }
            }
            other => other,
        }
    }

    fn recycle(&self, body: Vec<u8>) {
        self.inner.recycle(body);
    }
}

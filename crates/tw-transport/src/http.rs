//! The ureq implementation of [`Transport`].

use std::time::{Duration, SystemTime};

use crate::error::{NetworkKind, body_snippet};
use crate::url::BaseUrl;
use crate::{Error, Method, Request, Response, Transport};

/// Settings of an [`HttpTransport`]. The defaults suit the TechWolf export
/// API; every value can be changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Time to resolve, connect and finish the TLS handshake (default 10 s).
    pub connect_timeout: Duration,
    /// Time for one whole request, body included (default 120 s: large
    /// export pages "can take some time").
    pub request_timeout: Duration,
    /// The largest response body read (default 256 MiB); a larger one is
    /// [`Error::BodyTooLarge`] instead of memory exhaustion.
    pub max_body_bytes: u64,
    /// The `User-Agent` header (default `tw-export/<version>`).
    pub user_agent: String,
    /// `X-API-Version` to send (a `YYYY-MM-DD` date), overriding the version
    /// TechWolf pinned for the tenant.
    pub api_version: Option<String>,
    /// Use the proxy named by `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` (and
    /// `NO_PROXY`), default true. Loopback base URLs never use a proxy.
    pub proxy_from_env: bool,
    /// An explicit proxy (`http://host:port`, `socks5://...`), overriding
    /// the environment. Loopback base URLs never use a proxy.
    pub proxy: Option<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            max_body_bytes: 256 * 1024 * 1024,
            user_agent: format!("tw-export/{}", env!("CARGO_PKG_VERSION")),
            api_version: None,
            proxy_from_env: true,
            proxy: None,
        }
    }
}

/// A blocking HTTP/1.1 client on one ureq agent, so connections are kept
/// alive and reused across requests.
///
/// ureq's defaults are overridden on purpose: 4xx/5xx bodies are read (not
/// dropped), connect and request timeouts are set, the body cap is ours,
/// redirects are not followed (an API that redirects is misconfigured, and a
/// redirect must not carry the token elsewhere), and gzip is accepted.
pub struct HttpTransport {
    agent: ureq::Agent,
    direct: ureq::Agent,
    /// Whether the last response left a keep-alive connection in the pool.
    pooled: std::sync::atomic::AtomicBool,
    /// TCP connections opened so far (pooled reuses do not count).
    connections: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Bodies handed back ([`Transport::recycle`]), whose memory the next
    /// responses are read into: at most [`SPARE_BODIES`].
    spare: std::sync::Mutex<Vec<Vec<u8>>>,
    base: BaseUrl,
    config: HttpConfig,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("base", &self.base)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Checks an `X-API-Version` value: a date written as `YYYY-MM-DD` (which
/// also keeps anything else out of the header).
pub(crate) fn check_api_version(value: &str) -> Result<(), Error> {
    let b = value.as_bytes();
    let ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "API version",
            value,
            "expected a date written as YYYY-MM-DD, e.g. 2024-09-13",
        ))
    }
}

impl HttpTransport {
    /// A transport for `base` with the default [`HttpConfig`].
    pub fn new(base: BaseUrl) -> Result<Self, Error> {
        Self::with_config(base, HttpConfig::default())
    }

    /// A transport for `base` with `config`.
    pub fn with_config(base: BaseUrl, config: HttpConfig) -> Result<Self, Error> {
        if let Some(version) = &config.api_version {
            check_api_version(version)?;
        }
        let proxy = match &config.proxy {
            Some(proxy) => Some(ureq::Proxy::new(proxy).map_err(|err| {
                Error::invalid(
                    "proxy",
                    proxy,
                    format!("expected a proxy URL such as http://proxy:3128 ({err})"),
                )
            })?),
            None => None,
        };
        // One agent per route: through the configured (or environment's)
        // proxy, and direct. Loopback hosts always go direct, token URLs
        // included: a client secret must not travel in clear text to a
        // proxy on its way to 127.0.0.1.
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let agent = |direct: bool| {
            let mut builder = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_connect(Some(config.connect_timeout))
                .timeout_global(Some(config.request_timeout))
                .max_redirects(0)
                .max_redirects_will_error(false)
                .user_agent(config.user_agent.as_str())
                .accept("application/json");
            if direct {
                builder = builder.proxy(None);
            } else if let Some(proxy) = &proxy {
                builder = builder.proxy(Some(proxy.clone()));
            } else if !config.proxy_from_env {
                builder = builder.proxy(None);
            }
            #[cfg(feature = "platform-verifier")]
            {
                builder = builder.tls_config(
                    ureq::tls::TlsConfig::builder()
                        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                        .build(),
                );
            }
            use ureq::unversioned::transport::Connector as _;
            ureq::Agent::with_parts(
                builder.build(),
                ureq::unversioned::transport::DefaultConnector::new()
                    .chain(CountingConnector(connections.clone())),
                CachingResolver::default(),
            )
        };
        let (agent, direct) = (agent(false), agent(true));
        Ok(HttpTransport {
            agent,
            direct,
            pooled: std::sync::atomic::AtomicBool::new(false),
            connections,
            spare: std::sync::Mutex::new(Vec::new()),
            base,
            config,
        })
    }

    /// A counter of the TCP connections this transport opens (a pooled
    /// connection reused is not a new one); it stays valid after the
    /// transport is moved into a stack.
    pub fn connection_counter(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        self.connections.clone()
    }

    /// The base URL requests are sent to.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base
    }

    /// The settings.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }
}

/// Counts the connections ureq opens: the connector chain runs only when
/// no pooled connection can serve the request.
#[derive(Debug)]
struct CountingConnector(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl ureq::unversioned::transport::Connector<Box<dyn ureq::unversioned::transport::Transport>>
    for CountingConnector
{
    type Out = Box<dyn ureq::unversioned::transport::Transport>;

    fn connect(
        &self,
        _details: &ureq::unversioned::transport::ConnectionDetails<'_>,
        chained: Option<Self::Out>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        if chained.is_some() {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(chained)
    }
}

/// ureq resolves the host name on every request, even when it then reuses a
/// pooled connection, and with a timeout set it spawns a thread per lookup.
/// An export of 1,000 pages would start 1,000 threads and make 1,000
/// lookups for one host; this resolver remembers each answer for a minute.
#[derive(Debug, Default)]
struct CachingResolver {
    inner: ureq::unversioned::resolver::DefaultResolver,
    cache: std::sync::Mutex<
        Vec<(
            String,
            std::time::Instant,
            ureq::unversioned::resolver::ResolvedSocketAddrs,
        )>,
    >,
}

impl ureq::unversioned::resolver::Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        const TTL: Duration = Duration::from_secs(60);
        let key = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or_default(),
            uri.authority().map(|a| a.as_str()).unwrap_or_default()
        );
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|(_, at, _)| at.elapsed() < TTL);
        if let Some((_, _, addrs)) = cache.iter().find(|(k, _, _)| *k == key) {
            return Ok(addrs.clone());
        }
        drop(cache);
        // Any failure but a timeout is the name not resolving (std reports
        // it as an uncategorized I/O error, which would read as a dropped
        // connection and be retried five times).
        let addrs = self
            .inner
            .resolve(uri, config, timeout)
            .map_err(|err| match err {
                ureq::Error::Timeout(t) => ureq::Error::Timeout(t),
                _ => ureq::Error::HostNotFound,
            })?;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.push((key, std::time::Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}

macro_rules! with_headers {
    ($builder:expr, $request:expr, $config:expr) => {{
        let mut builder = $builder;
        for (name, value) in &$request.query {
            builder = builder.query(name, value);
        }
        if let Some(version) = &$config.api_version {
            builder = builder.header("X-API-Version", version);
        }
        for (name, value) in &$request.headers {
            builder = builder.header(name, value);
        }
        builder
    }};
}

impl Transport for HttpTransport {
    fn send(&self, request: &Request) -> Result<Response, Error> {
        let url = self.base.join(&request.path)?;
        let describe = || request.describe();
        let agent = if crate::url::is_loopback_url(&url) {
            &self.direct
        } else {
            &self.agent
        };
        let call = || match request.method {
            Method::Get => with_headers!(agent.get(&url), request, self.config).call(),
            Method::Post => {
                let builder = with_headers!(agent.post(&url), request, self.config)
                    .header("Content-Type", "application/json");
                builder.send(request.body.as_deref().unwrap_or_default())
            }
        };
        // ureq does not say whether it reused a pooled connection; after a
        // complete keep-alive response one is pooled, and the next request
        // most likely goes out on it.
        let reusing = self
            .pooled
            .swap(false, std::sync::atomic::Ordering::Relaxed);
        let result = match call() {
            // A reused connection closed before any byte of a response: the
            // server had already closed the idle keep-alive connection. That
            // is no failure of the server's; send again at once, once, on a
            // new connection, before retry policies (their warnings and
            // backoff) see anything.
            Err(err) if reusing && closed_before_response(&err) => call(),
            other => other,
        };
        let mut response = result.map_err(|err| network_error(describe(), &url, err))?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let size_hint = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.trim().parse::<u64>().ok());
        let mut reader = response.body_mut().with_config().reader();
        let room = self
            .spare
            .lock()
            .ok()
            .and_then(|mut spare| spare.pop())
            .unwrap_or_default();
        let body = read_capped(&mut reader, self.config.max_body_bytes, size_hint, room).map_err(
            |err| match err {
                None => Error::BodyTooLarge {
                    request: describe(),
                    limit: self.config.max_body_bytes,
                },
                Some(err) => network_error(describe(), &url, ureq::Error::from(err)),
            },
        )?;
        let response = Response {
            status,
            headers,
            body,
        };
        let closes = response
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        self.pooled
            .store(!closes, std::sync::atomic::Ordering::Relaxed);
        check_status(request, response)
    }

    /// Keeps `body` (up to `SPARE_BODIES` of them, none larger than
    /// `SPARE_BODY_BYTES`) for the next responses to be read into: its
    /// `len()` bytes were written once, so they are not zeroed again
    /// before a read (zeroing took about 2% of a JSON Lines export's CPU);
    /// room past them is zeroed as a read needs it. A larger body (a big
    /// document export) is freed, so it does not stay in memory for the
    /// rest of a run.
    fn recycle(&self, body: Vec<u8>) {
        let capacity = body.capacity() as u64;
        if capacity == 0 || capacity > SPARE_BODY_BYTES {
            return;
        }
        if let Ok(mut spare) = self.spare.lock()
            && spare.len() < SPARE_BODIES
        {
            spare.push(body);
        }
    }
}

/// How many bodies handed back an [`HttpTransport`] keeps: with read-ahead,
/// one is read while one is checked and one written, and each comes back
/// once written.
const SPARE_BODIES: usize = 2;

/// The largest body an [`HttpTransport`] keeps to read into: pages of a
/// cursor export are a few hundred KB.
const SPARE_BODY_BYTES: u64 = 8 << 20;

/// Whether `err`, raised before a response arrived, says the connection
/// was closed or reset under the request.
fn closed_before_response(err: &ureq::Error) -> bool {
    use std::io::ErrorKind as Io;
    match err {
        ureq::Error::Io(io) => matches!(
            io.kind(),
            Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe | Io::UnexpectedEof
        ),
        _ => false,
    }
}

/// Reads a (possibly decompressing) body of at most `cap` bytes, straight
/// into the body's buffer. With `size_hint` (the Content-Length, when
/// within the cap) the buffer is sized once and never copied (a 150 KB
/// page was copied four times while doubling); otherwise it grows by
/// doubling but never beyond `cap`. A byte past the cap is an
/// error (`None`) before any more memory is taken: a gzip bomb costs at most
/// `cap` (1.5 x `cap` while the last doubling copies), not the doubling
/// past it that `read_to_vec` would do.
///
/// `room` is the memory of an earlier body (see [`Transport::recycle`]),
/// or empty: its `len()` bytes were written before, so reads go straight
/// into them, and only room past them is zeroed. A room larger than `cap`
/// is not used, so the cap holds as without one.
fn read_capped(
    reader: &mut impl std::io::Read,
    cap: u64,
    size_hint: Option<u64>,
    room: Vec<u8>,
) -> Result<Vec<u8>, Option<std::io::Error>> {
    use std::io::ErrorKind::Interrupted;
    const READ: usize = 64 * 1024;
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let hint = size_hint
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n <= cap);
    let mut body = if room.capacity() <= cap {
        room
    } else {
        Vec::new()
    };
    if let Some(hint) = hint
        && body.capacity() < hint
    {
        body.reserve_exact(hint - body.len());
    }
    // Bytes read so far; `body[filled..]` is written room for the next
    // reads (each byte is zeroed at most once, however short the reads).
    let mut filled = 0;
    loop {
        if filled == body.capacity() {
            // Full (or nothing yet without a hint): see whether more comes
            // before growing, so a body of exactly its Content-Length is
            // never copied.
            let mut probe = [0u8; 1];
            match reader.read(&mut probe) {
                Ok(0) => return Ok(body),
                Ok(_) => {
                    if filled >= cap {
                        return Err(None);
                    }
                    let wanted = filled.saturating_add(READ).max(filled * 2).min(cap);
                    body.reserve_exact(wanted - filled);
                    body.push(probe[0]);
                    filled += 1;
                }
                Err(err) if err.kind() == Interrupted => {}
                // ureq reports its own errors (a cut body, a bad gzip
                // stream) wrapped in io::Error.
                Err(err) => return Err(Some(err)),
            }
            continue;
        }
        if filled == body.len() {
            body.resize((filled + READ).min(body.capacity()), 0);
        }
        match reader.read(&mut body[filled..]) {
            Ok(0) => {
                body.truncate(filled);
                return Ok(body);
            }
            Ok(n) => filled += n,
            Err(err) if err.kind() == Interrupted => {}
            Err(err) => {
                body.truncate(filled);
                return Err(Some(err));
            }
        }
    }
}

/// Turns a non-2xx response into [`Error::Status`].
pub(crate) fn check_status(request: &Request, response: Response) -> Result<Response, Error> {
    if (200..300).contains(&response.status) {
        return Ok(response);
    }
    let retry_after = response
        .header("retry-after")
        .and_then(|value| crate::retry_after::parse(value, SystemTime::now()));
    let mut body = body_snippet(&response.body);
    if (300..400).contains(&response.status)
        && let Some(location) = response.header("location")
    {
        body = format!("unexpected redirect to {location}; {body}");
    }
    Err(Error::Status {
        request: request.describe(),
        status: response.status,
        body,
        retry_after,
        attempts: 1,
    })
}

fn network_error(request: String, url: &str, err: ureq::Error) -> Error {
    use std::io::ErrorKind as Io;
    let kind = match &err {
        ureq::Error::Timeout(_) => NetworkKind::Timeout,
        ureq::Error::HostNotFound => NetworkKind::Dns,
        ureq::Error::ConnectionFailed => NetworkKind::Connect,
        ureq::Error::Io(io) => match io.kind() {
            Io::ConnectionRefused | Io::AddrNotAvailable | Io::NotConnected => NetworkKind::Connect,
            Io::TimedOut | Io::WouldBlock => NetworkKind::Timeout,
            Io::UnexpectedEof => NetworkKind::Truncated,
            Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe => NetworkKind::Closed,
            _ => NetworkKind::Closed,
        },
        ureq::Error::Protocol(_) => NetworkKind::Protocol,
        ureq::Error::Decompress(..) => NetworkKind::Truncated,
        ureq::Error::BodyStalled => NetworkKind::Timeout,
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => NetworkKind::Tls,
        ureq::Error::TlsRequired => NetworkKind::Tls,
        ureq::Error::ConnectProxyFailed(_) | ureq::Error::InvalidProxyUrl => NetworkKind::Proxy,
        _ => NetworkKind::Other,
    };
    let message = if kind == NetworkKind::Dns {
        let host = url
            .split_once("://")
            .map_or(url, |(_, rest)| rest)
            .split(['/', '?'])
            .next()
            .unwrap_or_default();
        format!(
            "the host name {host} did not resolve: check --tenant and --region (the API is at \
             https://{{tenant}}.{{region}}.techwolf.ai) or --base-url"
        )
    } else {
        err.to_string()
    };
    Error::Network {
        request,
        kind,
        message,
        attempts: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unresolved_name_is_named_with_what_to_check() {
        let err = network_error(
            "POST /export/employees/skill_clusters".into(),
            "https://acme.eu9.techwolf.ai/export/employees/skill_clusters?x=1",
            ureq::Error::HostNotFound,
        );
        assert_eq!(err.network_kind(), Some(NetworkKind::Dns));
        let text = err.to_string();
        assert!(
            text.contains("acme.eu9.techwolf.ai did not resolve"),
            "{text}"
        );
        assert!(
            text.contains("--tenant") && text.contains("--base-url"),
            "{text}"
        );
        assert!(!err.is_retryable());
    }
}

#[cfg(test)]
mod read_tests {
    use super::read_capped;

    /// Hands out `data` a few bytes per read, with an interruption first.
    struct Trickle<'a> {
        data: &'a [u8],
        interrupted: bool,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if !self.interrupted {
                self.interrupted = true;
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(self.data.len()).min(7);
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn bodies_read_whole_whatever_the_hint_and_never_past_the_cap() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let read = |len: usize, cap: u64, hint: Option<u64>| {
            let mut reader = Trickle {
                data: &data[..len],
                interrupted: false,
            };
            read_capped(&mut reader, cap, hint, Vec::new()).map_err(|e| e.is_none())
        };
        for hint in [None, Some(0), Some(10), Some(100_000), Some(200_000)] {
            assert_eq!(read(100_000, 1 << 20, hint).unwrap(), data, "{hint:?}");
            assert_eq!(read(0, 1 << 20, hint).unwrap(), b"");
            // Exactly the cap is fine; one byte more is too large.
            assert_eq!(read(1000, 1000, hint).unwrap(), &data[..1000]);
            assert_eq!(read(1001, 1000, hint), Err(true), "{hint:?}");
        }
        let exact = read(100_000, 1 << 20, Some(100_000)).unwrap();
        assert_eq!(exact.capacity(), 100_000, "sized once, never grown");
    }

    #[test]
    fn bodies_read_into_an_earlier_bodys_memory_hold_only_their_bytes() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let read = |len: usize, cap: u64, hint: Option<u64>, room: Vec<u8>| {
            let mut reader = Trickle {
                data: &data[..len],
                interrupted: false,
            };
            read_capped(&mut reader, cap, hint, room).map_err(|e| e.is_none())
        };
        // Rooms full of stale bytes: larger than the body, smaller, empty
        // with capacity.
        let rooms = || {
            [
                vec![0xAA; 150_000],
                vec![0xBB; 30_000],
                Vec::with_capacity(120_000),
            ]
        };
        for hint in [None, Some(100_000)] {
            for room in rooms() {
                let (len, capacity) = (room.len(), room.capacity());
                let at = room.as_ptr();
                let body = read(100_000, 1 << 20, hint, room).unwrap();
                assert_eq!(body, data, "{hint:?}, room of {len}");
                if capacity >= 100_000 {
                    assert_eq!(body.as_ptr(), at, "read into the room, not a new buffer");
                }
            }
            for room in rooms() {
                assert_eq!(read(10, 1 << 20, hint, room).unwrap(), &data[..10]);
            }
        }
        // A room past the cap does not lift it.
        for hint in [None, Some(1000), Some(1001)] {
            assert_eq!(read(1001, 1000, hint, vec![0; 5000]), Err(true), "{hint:?}");
            assert_eq!(
                read(1000, 1000, hint, vec![0; 5000]).unwrap(),
                &data[..1000]
            );
        }
    }
}

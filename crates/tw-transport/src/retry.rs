//! Retries with exponential backoff, full jitter and `Retry-After`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::NetworkKind;
use crate::{Error, Request, Response, Transport};

/// When and how long to retry. The defaults follow TechWolf's own webhook
/// retry policy, with more room for rate limits.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in total, the first included (default 5; 1 disables retries).
    pub max_attempts: u32,
    /// The first backoff ceiling (default 0.5 s); it doubles per attempt.
    pub base_delay: Duration,
    /// The largest backoff ceiling (default 30 s).
    pub max_delay: Duration,
    /// Time one request may take across all attempts and waits (default
    /// 10 min); a retry that would overrun it is not made.
    pub max_total: Duration,
    /// The longest `Retry-After` honoured (default 120 s); a longer one
    /// fails fast with [`Error::RetryAfterTooLong`].
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_total: Duration::from_secs(600),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// No retries: one attempt.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The backoff ceiling before attempt `attempt + 1` (`attempt` >= 1):
    /// `base_delay * 2^(attempt - 1)`, at most `max_delay`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// What a [`RetryTransport`] tells its observer before it waits and retries.
#[derive(Debug)]
pub struct RetryEvent<'a> {
    /// `METHOD path` of the request.
    pub request: String,
    /// The attempt that failed (1 for the first).
    pub attempt: u32,
    /// The wait before the next attempt.
    pub delay: Duration,
    /// Why the attempt failed.
    pub error: &'a Error,
}

type Sleeper = Arc<dyn Fn(Duration) + Send + Sync>;
type Observer = Arc<dyn Fn(&RetryEvent<'_>) + Send + Sync>;

/// A [`Transport`] decorator that retries what [`Error::is_retryable`] says
/// may succeed: 408, 429, 500, 502, 503, 504, connection failures, timeouts
/// and cut-off bodies. The export endpoints are read-only POSTs, so replaying
/// them is safe. 400, 401, 403, 404, 409, 422 and other 4xx are never
/// retried.
///
/// Waits use exponential backoff with full jitter (a random wait up to
/// [`RetryPolicy::ceiling`]), or the server's `Retry-After` (seconds or an
/// HTTP date) when it sends one, but never less than half the ceiling (a
/// `Retry-After: 0` does not turn retries into a burst).
pub struct RetryTransport<T> {
    inner: T,
    policy: RetryPolicy,
    sleep: Sleeper,
    observer: Option<Observer>,
    retries: AtomicU64,
    rng: AtomicU64,
}

impl<T> std::fmt::Debug for RetryTransport<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryTransport")
            .field("policy", &self.policy)
            .field("retries", &self.retries.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<T: Transport> RetryTransport<T> {
    /// Retries `inner` according to `policy`, sleeping with
    /// `std::thread::sleep`.
    pub fn new(inner: T, policy: RetryPolicy) -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x9E37_79B9, |d| d.as_nanos() as u64)
            | 1;
        RetryTransport {
            inner,
            policy,
            sleep: Arc::new(std::thread::sleep),
            observer: None,
            retries: AtomicU64::new(0),
            rng: AtomicU64::new(seed),
        }
    }

    /// Replaces the sleeping function (tests record waits instead of
    /// sleeping).
    pub fn with_sleeper(mut self, sleep: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        self.sleep = Arc::new(sleep);
        self
    }

    /// Calls `observer` before every wait (for progress displays and logs).
    pub fn with_observer(
        mut self,
        observer: impl Fn(&RetryEvent<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Retries made so far, over all requests.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// A uniform random wait in `0..=ceiling` (xorshift64*; quality is
    /// irrelevant, spreading clients apart is the point).
    fn jitter(&self, ceiling: Duration) -> Duration {
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.store(x, Ordering::Relaxed);
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        let nanos = ceiling.as_nanos() as u64;
        Duration::from_nanos(if nanos == 0 { 0 } else { r % (nanos + 1) })
    }
}

impl<T: Transport> Transport for RetryTransport<T> {
    fn send(&self, request: &Request) -> Result<Response, Error> {
        let mut attempt = 1;
        let mut spent = Duration::ZERO;
        loop {
            let started = Instant::now();
            let result = self.inner.send(request);
            spent += started.elapsed();
            let mut error = match result {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            error.set_attempts(attempt);
            // A name that did not resolve gets one more try (a resolver's
            // hiccup), not the full budget: it is usually a wrong tenant.
            let dns_once = error.network_kind() == Some(NetworkKind::Dns) && attempt == 1;
            if !(error.is_retryable() || dns_once) || attempt >= self.policy.max_attempts {
                return Err(error);
            }
            let delay = match &error {
                Error::Status {
                    retry_after: Some(wait),
                    status,
                    ..
                } => {
                    if *wait > self.policy.max_retry_after {
                        return Err(Error::RetryAfterTooLong {
                            request: request.describe(),
                            status: *status,
                            retry_after: *wait,
                            max: self.policy.max_retry_after,
                            attempts: attempt,
                        });
                    }
                    // `Retry-After: 0` or a date in the past is no reason
                    // to hammer the server: half the backoff ceiling is
                    // the floor.
                    (*wait).max(self.policy.ceiling(attempt) / 2)
                }
                _ => self.jitter(self.policy.ceiling(attempt)),
            };
            if spent + delay > self.policy.max_total {
                return Err(error);
            }
            tracing::debug!(
                request = %request.describe(),
                attempt,
                status = error.status(),
                delay_ms = delay.as_millis() as u64,
                "retrying after a failed attempt"
            );
            if let Some(observer) = &self.observer {
                observer(&RetryEvent {
                    request: request.describe(),
                    attempt,
                    delay,
                    error: &error,
                });
            }
            self.retries.fetch_add(1, Ordering::Relaxed);
            (self.sleep)(delay);
            spent += delay;
            attempt += 1;
        }
    }

    fn recycle(&self, body: Vec<u8>) {
        self.inner.recycle(body);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::testing::ScriptedTransport;

    fn network(kind: NetworkKind) -> Error {
        Error::Network {
            request: "POST /x".into(),
            kind,
            message: kind.to_string(),
            attempts: 1,
        }
    }

    fn sends_for(errors: &[NetworkKind]) -> (usize, Result<Response, Error>) {
        let inner = Arc::new(ScriptedTransport::new());
        for kind in errors {
            inner.push_error(network(*kind));
        }
        inner.push_json(200, "{}");
        let sleeps = Arc::new(Mutex::new(0));
        let counter = sleeps.clone();
        let result = RetryTransport::new(inner.clone(), RetryPolicy::default())
            .with_sleeper(move |_| *counter.lock().unwrap() += 1)
            .send(&Request::get("/x"));
        (inner.requests().len(), result)
    }

    #[test]
    fn a_name_that_does_not_resolve_is_tried_twice_at_most() {
        let (sent, result) = sends_for(&[NetworkKind::Dns]);
        assert_eq!(sent, 2, "one retry");
        assert!(result.is_ok());
        let (sent, result) = sends_for(&[NetworkKind::Dns, NetworkKind::Dns, NetworkKind::Dns]);
        assert_eq!(sent, 2, "not five attempts");
        assert_eq!(result.unwrap_err().network_kind(), Some(NetworkKind::Dns));
        let (sent, _) = sends_for(&[
            NetworkKind::Closed,
            NetworkKind::Closed,
            NetworkKind::Closed,
        ]);
        assert_eq!(sent, 4, "other network failures keep the full budget");
    }
}

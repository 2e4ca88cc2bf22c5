//! An in-memory [`Transport`] for tests: scripted responses, recorded
//! requests. Enabled by the `test-util` feature.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::http::check_status;
use crate::{Error, Request, Response, Transport};

/// Answers requests from a script, in order, and records every request.
///
/// Non-2xx scripted responses become [`Error::Status`] exactly as the HTTP
/// transport makes them, so decorators behave the same on top of it.
///
/// ```
/// use tw_transport::{Request, Transport, testing::ScriptedTransport};
///
/// let transport = ScriptedTransport::new();
/// transport.push_json(200, r#"{"ok": true}"#);
/// transport.push_json(503, "busy");
/// assert!(transport.send(&Request::get("/a")).is_ok());
/// assert_eq!(transport.send(&Request::get("/b")).unwrap_err().status(), Some(503));
/// assert_eq!(transport.requests().len(), 2);
/// ```
#[derive(Debug, Default)]
pub struct ScriptedTransport {
    script: Mutex<VecDeque<Result<Response, Error>>>,
    requests: Mutex<Vec<Request>>,
}

impl ScriptedTransport {
    /// An empty script.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues a response.
    pub fn push(&self, response: Response) {
        self.script.lock().unwrap().push_back(Ok(response));
    }

    /// Queues a response with `status` and a body.
    pub fn push_json(&self, status: u16, body: &str) {
        self.push(Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        });
    }

    /// Queues a response with a header, e.g. `Retry-After`.
    pub fn push_with_header(&self, status: u16, header: (&str, &str), body: &str) {
        self.push(Response {
            status,
            headers: vec![(header.0.into(), header.1.into())],
            body: body.as_bytes().to_vec(),
        });
    }

    /// Queues an error (a network failure, say).
    pub fn push_error(&self, error: Error) {
        self.script.lock().unwrap().push_back(Err(error));
    }

    /// Every request sent so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Scripted answers not used yet.
    pub fn remaining(&self) -> usize {
        self.script.lock().unwrap().len()
    }
}

impl Transport for ScriptedTransport {
    fn send(&self, request: &Request) -> Result<Response, Error> {
        self.requests.lock().unwrap().push(request.clone());
        let next = self.script.lock().unwrap().pop_front();
        match next {
            Some(Ok(response)) => check_status(request, response),
            Some(Err(error)) => Err(error),
            None => panic!(
                "ScriptedTransport: no scripted answer left for {}",
                request.describe()
            ),
        }
    }
}

/// Sends through another transport, with extra headers (a test token),
/// and keeps every response body: record a server's pages once, replay
/// them from memory (with [`ScriptedTransport`]) as often as a test or
/// benchmark needs.
///
/// ```no_run
/// use tw_transport::{BaseUrl, HttpTransport, Request, Transport};
/// use tw_transport::testing::RecordingTransport;
///
/// let http = HttpTransport::new(BaseUrl::parse("http://127.0.0.1:8080")?)?;
/// let recording = RecordingTransport::new(http).with_header("Authorization", "Bearer t");
/// recording.send(&Request::get("/export/skills"))?;
/// assert_eq!(recording.bodies().len(), 1);
/// # Ok::<(), tw_transport::Error>(())
/// ```
pub struct RecordingTransport<T> {
    inner: T,
    headers: Vec<(String, String)>,
    bodies: Mutex<Vec<Vec<u8>>>,
}

/// Header names only: their values are typically a token.
impl<T: std::fmt::Debug> std::fmt::Debug for RecordingTransport<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("RecordingTransport")
            .field("inner", &self.inner)
            .field("headers", &names)
            .field("bodies", &self.bodies.lock().map(|b| b.len()).unwrap_or(0))
            .finish()
    }
}

impl<T: Transport> RecordingTransport<T> {
    /// Records what `inner` receives.
    pub fn new(inner: T) -> Self {
        RecordingTransport {
            inner,
            headers: Vec::new(),
            bodies: Mutex::new(Vec::new()),
        }
    }

    /// Adds a header to every request.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The response bodies so far, in order.
    pub fn bodies(&self) -> Vec<Vec<u8>> {
        self.bodies.lock().unwrap().clone()
    }
}

impl<T: Transport> Transport for RecordingTransport<T> {
    fn send(&self, request: &Request) -> Result<Response, Error> {
        let mut request = request.clone();
        for (name, value) in &self.headers {
            request.set_header(name.as_str(), value.as_str());
        }
        let response = self.inner.send(&request)?;
        self.bodies.lock().unwrap().push(response.body.clone());
        Ok(response)
    }

    fn recycle(&self, body: Vec<u8>) {
        self.inner.recycle(body);
    }
}

#[cfg(test)]
mod tests {
    use super::{RecordingTransport, ScriptedTransport};

    #[test]
    fn a_recording_transport_never_shows_its_header_values() {
        let recording = RecordingTransport::new(ScriptedTransport::new())
            .with_header("Authorization", "Bearer s3cr3t");
        let shown = format!("{recording:?}");
        assert!(shown.contains("Authorization"), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
}

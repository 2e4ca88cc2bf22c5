//! A small HTTP/1.1 server: keep-alive, one thread per connection, and
//! answers that may deliberately break the protocol (close without a
//! response, a body cut short) for fault injection.
//!
//! General-purpose servers such as tiny_http cannot close a connection
//! without answering or cut a body short, which is exactly what the sandbox
//! must do; the part of HTTP/1.1 an API client uses is small enough to
//! serve here.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 4 * 1024 * 1024;

/// A parsed request.
#[derive(Debug, Clone)]
pub(crate) struct HttpRequest {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub connection: u64,
}

impl HttpRequest {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

/// What to send back.
#[derive(Debug)]
pub(crate) enum Answer {
    Respond {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// Close the connection without a response.
    Close,
    /// Send the head with the full length and only the first half of the body.
    CutBody { body: Vec<u8> },
    /// Wait, then answer.
    Delayed(Duration, Box<Answer>),
    /// Wait until the gate lets the `n`-th export request go, then answer.
    Held(Arc<Gate>, u64, Box<Answer>),
}

/// Holds answers back until it is opened (see `Sandbox::hold_after`).
#[derive(Debug, Default)]
pub(crate) struct Gate {
    /// Export requests numbered above this (1-based) wait; `None`: open.
    from: Mutex<Option<u64>>,
    opened: Condvar,
}

impl Gate {
    /// Whether the `n`-th export request is held.
    pub(crate) fn holds(&self, n: u64) -> bool {
        Self::held(*self.from.lock().unwrap(), n)
    }

    fn held(from: Option<u64>, n: u64) -> bool {
        from.is_some_and(|from| n > from)
    }

    /// Holds the requests numbered above `from`.
    pub(crate) fn close_after(&self, from: u64) {
        *self.from.lock().unwrap() = Some(from);
    }

    /// Lets every held answer go, and holds no more.
    pub(crate) fn open(&self) {
        *self.from.lock().unwrap() = None;
        self.opened.notify_all();
    }

    /// Waits until the `n`-th export request is not held.
    fn wait(&self, n: u64) {
        let mut from = self.from.lock().unwrap();
        while Self::held(*from, n) {
            from = self.opened.wait(from).unwrap();
        }
    }
}

pub(crate) type Handler = dyn Fn(&HttpRequest) -> Answer + Send + Sync;

pub(crate) struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    connections: Connections,
}

/// The connection threads not known to have ended, each with its socket
/// (to shut down on stop).
type Connections = Arc<Mutex<Vec<(JoinHandle<()>, TcpStream)>>>;

impl Server {
    pub(crate) fn start(listener: TcpListener, handler: Arc<Handler>) -> io::Result<Server> {
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let ids = AtomicU64::new(0);
        let connections = Connections::default();
        let accept = {
            let (stop, connections) = (stop.clone(), connections.clone());
            std::thread::Builder::new()
                .name("tw-sandbox-accept".into())
                .spawn(move || {
                    for stream in listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            return;
                        }
                        let Ok(stream) = stream else { continue };
                        let Ok(socket) = stream.try_clone() else {
                            continue;
                        };
                        let id = ids.fetch_add(1, Ordering::SeqCst);
                        let (handler, stop) = (handler.clone(), stop.clone());
                        let Ok(thread) = std::thread::Builder::new()
                            .name(format!("tw-sandbox-conn-{id}"))
                            .spawn(move || {
                                let _ = serve(stream, id, &*handler, &stop);
                            })
                        else {
                            continue;
                        };
                        let mut connections = connections.lock().unwrap_or_else(|e| e.into_inner());
                        connections
                            .retain(|(thread, _): &(JoinHandle<()>, _)| !thread.is_finished());
                        connections.push((thread, socket));
                    }
                })?
        };
        Ok(Server {
            addr,
            stop,
            accept: Some(accept),
            connections,
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Blocks until the server is stopped from another thread.
    pub(crate) fn wait(&mut self) {
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }

    /// Stops accepting, ends every connection once the answer it is
    /// writing (if any) is out, and waits for all threads to end, so nothing
    /// of the server runs once it returns. Answers held by the gate must be
    /// let go first.
    pub(crate) fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        self.wait();
        let connections =
            std::mem::take(&mut *self.connections.lock().unwrap_or_else(|e| e.into_inner()));
        for (thread, socket) in connections {
            // Ends a read waiting for a request, but lets an answer being
            // written (a held one just let go) reach its client. A client
            // that stops reading holds the write up to `WRITE_TIMEOUT`.
            let _ = socket.shutdown(Shutdown::Read);
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn bad_request(writer: &mut TcpStream, status: u16, message: &str) -> io::Result<()> {
    let body = serde_json::json!({"error": "bad_request", "detail": message}).to_string();
    write!(
        writer,
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        reason(status),
        body.len()
    )
}

/// Waits for the next request's first byte; `false` when the peer closed or
/// the server is stopping.
fn await_request(reader: &mut BufReader<TcpStream>, stop: &AtomicBool) -> bool {
    loop {
        match reader.fill_buf() {
            Ok([]) => return false,
            Ok(_) => return true,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if stop.load(Ordering::SeqCst) {
                    return false;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// How long a write may wait for a client that does not read, before the
/// connection gives up on it.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

fn serve(
    stream: TcpStream,
    connection: u64,
    handler: &Handler,
    stop: &AtomicBool,
) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_millis(250)))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::with_capacity(16 * 1024, stream);
    while await_request(&mut reader, stop) {
        // A request has started: give it time to arrive in full.
        reader
            .get_ref()
            .set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut head = Vec::new();
        loop {
            let before = head.len();
            let n = reader.read_until(b'\n', &mut head)?;
            if n == 0 {
                return Ok(());
            }
            if head.len() > MAX_HEAD {
                return bad_request(&mut writer, 431, "request headers too large");
            }
            if head[before..] == *b"\r\n" || head[before..] == *b"\n" {
                break;
            }
        }
        let text = String::from_utf8_lossy(&head);
        let mut lines = text.lines();
        let request_line = lines.next().unwrap_or_default();
        let mut parts = request_line.split(' ');
        let (Some(method), Some(target), Some(version)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return bad_request(&mut writer, 400, "malformed request line");
        };
        let mut headers = Vec::new();
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        let find = |name: &str| {
            headers
                .iter()
                .find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        if find("transfer-encoding").is_some() {
            return bad_request(&mut writer, 411, "send the body with a Content-Length");
        }
        let length: usize = match find("content-length").map(|v| v.parse()) {
            None => 0,
            Some(Ok(n)) if n <= MAX_BODY => n,
            Some(Ok(_)) => return bad_request(&mut writer, 413, "request body too large"),
            Some(Err(_)) => return bad_request(&mut writer, 400, "invalid Content-Length"),
        };
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let close = version == "HTTP/1.0"
            || find("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let request = HttpRequest {
            method: method.to_owned(),
            target: target.to_owned(),
            headers,
            body,
            connection,
        };
        if !answer(&mut writer, handler(&request), close)? || close {
            let _ = writer.shutdown(Shutdown::Both);
            return Ok(());
        }
        reader
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(250)))?;
    }
    Ok(())
}

/// Writes an answer; `Ok(false)` when the connection must close.
fn answer(writer: &mut TcpStream, answer_: Answer, close: bool) -> io::Result<bool> {
    match answer_ {
        Answer::Respond {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\n",
                reason(status),
                body.len()
            );
            for (name, value) in headers {
                head.push_str(name);
                head.push_str(": ");
                head.push_str(&value);
                head.push_str("\r\n");
            }
            if close {
                head.push_str("Connection: close\r\n");
            }
            head.push_str("\r\n");
            writer.write_all(head.as_bytes())?;
            writer.write_all(&body)?;
            Ok(true)
        }
        Answer::Close => {
            writer.shutdown(Shutdown::Both)?;
            Ok(false)
        }
        Answer::CutBody { body } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            writer.write_all(head.as_bytes())?;
            writer.write_all(&body[..body.len() / 2])?;
            writer.flush()?;
            writer.shutdown(Shutdown::Both)?;
            Ok(false)
        }
        Answer::Delayed(wait, inner) => {
            std::thread::sleep(wait);
            answer(writer, *inner, close)
        }
        Answer::Held(gate, n, inner) => {
            gate.wait(n);
            answer(writer, *inner, close)
        }
    }
}

pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

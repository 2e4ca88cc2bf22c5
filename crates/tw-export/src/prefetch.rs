//! The next page's request, sent while this page is checked.
//!
//! A cursor page names the next page inside its own body, so a reader that
//! fetches a page, walks it, then asks for the next one leaves the network
//! idle while it walks, and its own core idle while it waits. With
//! read-ahead on, a page source reads the next cursor from the body's two
//! ends first ([`tw_model::peek_next_cursor`]), hands that request to a
//! helper thread, and walks the page meanwhile: fetching and checking
//! overlap, and an export takes about the longer of the two, not their sum.
//!
//! Where the export reads every page (no `max_records`), the helper
//! thread guesses too: when an answer arrives while the read-ahead thread
//! is waiting for it, the helper reads the next cursor from the body and
//! sends that request itself, at once. The two hand-overs between the
//! threads (the answer to the read-ahead thread, the next request back)
//! are then off the path from one page's arrival to the next request
//! (about 0.2 ms a page on the benchmark machine, against a server that
//! takes 20 ms a page). When the read-ahead thread is busy with
//! an earlier page, the helper does not guess, and the read-ahead thread
//! sends the next request as before: no more answers wait untaken than
//! without the helper's guesses.
//!
//! The guess never decides anything. The answer is used only for the
//! request the paginator then makes, compared whole; any other request
//! waits for the one in flight, drops its answer and goes out as usual.
//! There is at most one request in flight, so the server sees the same
//! sequence of requests as without the helper, except for a guessed one
//! whose answer goes unused: a page that fails to decode, or an export that
//! stops after the page (a caller that drops the pages). A source waits
//! for a request in flight before it reports a decode error, and when it is
//! dropped, so no request outlives the source.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use tw_transport::{Request, Response, Transport};

type Answer = Result<Response, tw_transport::Error>;

/// The request for the page after the one a response carries, when its
/// body names it where it can be read at once (its ends).
pub(crate) type Guess = Box<dyn Fn(&Response) -> Option<Request> + Send>;

/// The helper thread and the request it was given, if its answer is not
/// taken yet. Every request of the source goes out from the helper, the
/// guessed ones and the others, so that one thread, not two, holds what
/// sending takes (its stack, its allocator pages): sending from both cost
/// about 2 MiB of peak RSS on a 1M-employee export, and the peak grew with
/// the export's length. The thread starts with the first request.
pub(crate) struct Prefetch {
    transport: Arc<dyn Transport>,
    /// The helper's own guess of each next request, if it may make one.
    guess: Option<Guess>,
    shared: Arc<Shared>,
    helper: Option<Helper>,
    /// The request in flight (or answered and waiting): the caller's, or
    /// the one the helper sent after the last answer it gave.
    pending: Option<Request>,
}

struct Helper {
    requests: Sender<Request>,
    /// Each answer, with the request the helper sent next on its own.
    answers: Receiver<(Answer, Option<Request>)>,
    thread: JoinHandle<()>,
}

/// What the helper thread reads before it guesses.
struct Shared {
    /// Cleared for good when an answer goes unused (a failed page, a
    /// request other than the guess, the end): the helper then stops
    /// guessing, so waiting for what is in flight ends.
    guessing: AtomicBool,
    /// Raised by the read-ahead thread when it waits for an answer, and
    /// taken down by the helper with the answer it gives (or by the
    /// reader, when the answer was there before it waited).
    waiting: AtomicBool,
}

impl Prefetch {
    /// A prefetcher; with `guess`, the helper sends each next request
    /// itself when it can (see the module's documentation).
    pub(crate) fn new(transport: Arc<dyn Transport>, guess: Option<Guess>) -> Prefetch {
        Prefetch {
            transport,
            shared: Arc::new(Shared {
                guessing: AtomicBool::new(guess.is_some()),
                waiting: AtomicBool::new(false),
            }),
            guess,
            helper: None,
            pending: None,
        }
    }

    /// Sends `request` from the helper thread; [`Prefetch::send`] takes
    /// its answer. Does nothing while another request is in flight, or
    /// when the thread cannot be started (the request then goes out when
    /// it is asked for, from the caller's thread).
    pub(crate) fn start(&mut self, request: Request) {
        if self.pending.is_some() {
            return;
        }
        if self.helper.is_none() {
            self.helper = Helper::spawn(
                self.transport.clone(),
                self.guess.take(),
                self.shared.clone(),
            );
        }
        if let Some(helper) = &self.helper
            && helper.requests.send(request.clone()).is_ok()
        {
            self.pending = Some(request);
        }
    }

    /// Whether a request is in flight (or answered and waiting), so a
    /// guess would not be sent.
    pub(crate) fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// The answer to `request`: the helper's, when it was given this very
    /// request; else sent now, once a request in flight has finished (its
    /// answer is dropped). From the helper thread, or from this one when
    /// the helper cannot be started.
    pub(crate) fn send(&mut self, request: &Request) -> Answer {
        if let Some(pending) = self.pending.take() {
            match self.answer() {
                Some(answer) if pending == *request => return answer,
                // Dropped, with whatever the helper sent after it.
                _ => self.settle(),
            }
        }
        // Every request goes out from the helper thread, so only one
        // thread holds what sending takes (its stack, its allocator
        // pages). This thread waits for the answer from now on, which the
        // helper must know before the answer comes (see `answer`).
        self.shared.waiting.store(true, Ordering::SeqCst);
        self.start(request.clone());
        if self.pending.take().is_some()
            && let Some(answer) = self.answer()
        {
            return answer;
        }
        // No helper: this thread waits for nothing of the helper's.
        self.shared.waiting.store(false, Ordering::SeqCst);
        self.transport.send(request)
    }

    /// Waits for a request in flight to finish and drops its answer, and
    /// stops the helper's guessing: once an answer goes unused, the pages
    /// after it are not wanted.
    pub(crate) fn settle(&mut self) {
        self.shared.guessing.store(false, Ordering::SeqCst);
        // The helper may have guessed once more before it saw the flag.
        while self.pending.take().is_some() && self.answer().is_some() {}
    }

    /// The answer to the pending request; the request the helper then
    /// sent on its own, if any, becomes the pending one.
    fn answer(&mut self) -> Option<Answer> {
        let Some(helper) = self.helper.as_ref() else {
            self.shared.waiting.store(false, Ordering::SeqCst);
            return None;
        };
        self.shared.waiting.store(true, Ordering::SeqCst);
        let answer = helper.answers.recv().ok();
        self.shared.waiting.store(false, Ordering::SeqCst);
        match answer {
            Some((answer, ahead)) => {
                self.pending = ahead;
                Some(answer)
            }
            None => {
                if let Some(helper) = self.helper.take()
                    && let Err(panic) = helper.thread.join()
                {
                    // The transport panicked on the helper thread: raise
                    // it here, where it would have been raised without the
                    // helper.
                    std::panic::resume_unwind(panic);
                }
                None
            }
        }
    }
}

impl Helper {
    fn spawn(
        transport: Arc<dyn Transport>,
        guess: Option<Guess>,
        shared: Arc<Shared>,
    ) -> Option<Helper> {
        let (requests, inbox) = channel::<Request>();
        let (outbox, answers) = channel();
        let thread = std::thread::Builder::new()
            .name("tw-export-prefetch".into())
            .spawn(move || {
                let mut next = None;
                loop {
                    let request = match next.take() {
                        Some(request) => request,
                        None => match inbox.recv() {
                            Ok(request) => request,
                            Err(_) => return,
                        },
                    };
                    let answer = transport.send(&request);
                    // Guessed only when the read-ahead thread waits for
                    // this very answer (a hand-over would be all that
                    // stands between this page and the next request). The
                    // flag it raised goes down with the answer, so the next
                    // answer, should it come before the reader has woken
                    // or while it is busy, finds it down: a busy reader
                    // sends the next request itself when it gets there, so
                    // no more answers wait untaken than without the guess.
                    let waited = shared.waiting.swap(false, Ordering::SeqCst);
                    let ahead = match (&answer, &guess) {
                        (Ok(response), Some(guess))
                            if waited && shared.guessing.load(Ordering::SeqCst) =>
                        {
                            guess(response)
                        }
                        _ => None,
                    };
                    if outbox.send((answer, ahead.clone())).is_err() {
                        return;
                    }
                    next = ahead;
                }
            })
            .ok()?;
        Some(Helper {
            requests,
            answers,
            thread,
        })
    }
}

impl Drop for Prefetch {
    /// Ends the helper thread once its request in flight is answered.
    fn drop(&mut self) {
        self.shared.guessing.store(false, Ordering::SeqCst);
        if let Some(Helper {
            requests,
            answers,
            thread,
        }) = self.helper.take()
        {
            drop(requests);
            drop(answers);
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::mpsc::Sender;
    use std::time::Duration;

    use tw_transport::testing::ScriptedTransport;

    use super::*;

    /// Tells `sent` the path of each request as it arrives, then answers
    /// from a script.
    struct Telling {
        sent: Mutex<Sender<String>>,
        script: ScriptedTransport,
    }

    impl Transport for Telling {
        fn send(&self, request: &Request) -> Result<Response, tw_transport::Error> {
            let _ = self.sent.lock().unwrap().send(request.path.clone());
            self.script.send(request)
        }
    }

    /// The next request is the path the body names.
    fn guess_from_body() -> Guess {
        Box::new(|response: &Response| {
            let next = std::str::from_utf8(&response.body).ok()?;
            (!next.is_empty()).then(|| Request::get(next))
        })
    }

    #[test]
    fn the_helper_sends_the_next_request_itself_while_the_reader_waits() {
        let (sent, arrived) = channel();
        let script = ScriptedTransport::new();
        for next in ["/2", "/3", "/4"] {
            script.push_json(200, next);
        }
        let script = Arc::new(Telling {
            sent: Mutex::new(sent),
            script,
        });
        let mut prefetch = Prefetch::new(script.clone(), Some(guess_from_body()));
        // (The waits only end a test that would otherwise hang.)
        let wait = || arrived.recv_timeout(Duration::from_secs(60)).unwrap();

        let first = prefetch.send(&Request::get("/1")).unwrap();
        assert_eq!(first.body, b"/2");
        // Nobody asked for /2: the helper sent it when /1 was answered.
        assert_eq!([wait(), wait()], ["/1", "/2"]);
        assert!(prefetch.is_pending());
        // The reader was not waiting when /2 was answered, so /3 is the
        // reader's to send; settling takes /2's answer and guesses no more.
        prefetch.settle();
        assert!(!prefetch.is_pending());
        drop(prefetch);
        assert_eq!(script.script.requests().len(), 2);
        assert_eq!(script.script.remaining(), 1);
    }
}

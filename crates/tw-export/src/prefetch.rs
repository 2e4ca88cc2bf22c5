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
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use tw_transport::{Request, Response, Transport};

type Answer = Result<Response, tw_transport::Error>;

/// The helper thread and the request it was given, if its answer is not
/// taken yet. Every request of the source goes out from the helper, the
/// guessed ones and the others, so that one thread, not two, holds what
/// sending takes (its stack, its allocator pages): sending from both cost
/// about 2 MiB of peak RSS on a 1M-employee export, and the peak grew with
/// the export's length. The thread starts with the first request.
pub(crate) struct Prefetch {
    transport: Arc<dyn Transport>,
    helper: Option<Helper>,
    /// The request in flight (or answered and waiting).
    pending: Option<Request>,
}

struct Helper {
    requests: Sender<Request>,
    answers: Receiver<Answer>,
    thread: JoinHandle<()>,
}

impl Prefetch {
    pub(crate) fn new(transport: Arc<dyn Transport>) -> Prefetch {
        Prefetch {
            transport,
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
            self.helper = Helper::spawn(self.transport.clone());
        }
        if let Some(helper) = &self.helper
            && helper.requests.send(request.clone()).is_ok()
        {
            self.pending = Some(request);
        }
    }

    /// The answer to `request`: the helper's, when it was given this very
    /// request; else sent now, once a request in flight has finished (its
    /// answer is dropped). From the helper thread, or from this one when
    /// the helper cannot be started.
    pub(crate) fn send(&mut self, request: &Request) -> Answer {
        if let Some(pending) = self.pending.take()
            && let Some(answer) = self.answer()
            && pending == *request
        {
            return answer;
        }
        // Every request goes out from the helper thread, so only one
        // thread holds what sending takes (its stack, its allocator
        // pages).
        self.start(request.clone());
        if self.pending.take().is_some()
            && let Some(answer) = self.answer()
        {
            return answer;
        }
        self.transport.send(request)
    }

    /// Waits for a request in flight to finish and drops its answer.
    pub(crate) fn settle(&mut self) {
        if self.pending.take().is_some() {
            self.answer();
        }
    }

    fn answer(&mut self) -> Option<Answer> {
        let answer = self.helper.as_ref()?.answers.recv().ok();
        if answer.is_none()
            && let Some(helper) = self.helper.take()
            && let Err(panic) = helper.thread.join()
        {
            // The transport panicked on the helper thread: raise it here,
            // where it would have been raised without the helper.
            std::panic::resume_unwind(panic);
        }
        answer
    }
}

impl Helper {
    fn spawn(transport: Arc<dyn Transport>) -> Option<Helper> {
        let (requests, inbox) = channel::<Request>();
        let (outbox, answers) = channel();
        let thread = std::thread::Builder::new()
            .name("tw-export-prefetch".into())
            .spawn(move || {
                for request in inbox {
                    if outbox.send(transport.send(&request)).is_err() {
                        return;
                    }
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

//! The public iterators and their builder.

use std::iter::FusedIterator;
use std::marker::PhantomData;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::task::Poll;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::engine::{Config, Engine, Fetched, Step};
use crate::{Checkpoint, Cursor, Error, PageSource};

/// Configures pagination over a [`PageSource`], then turns into an iterator
/// of items ([`Paginator::items`]) or of whole pages ([`Paginator::pages`]).
///
/// ```
/// use tw_paginate::{Cursor, Page, Paginator};
///
/// let source = |_: Option<&Cursor>| -> Result<Page<u8>, String> {
///     Ok(Page { items: vec![1, 2, 3], has_next: false, next_cursor: None })
/// };
/// let first_two: Vec<u8> = Paginator::new(source)
///     .max_items(2)
///     .items()
///     .collect::<Result<_, _>>()
///     .unwrap();
/// assert_eq!(first_two, [1, 2]);
/// ```
pub struct Paginator<S: PageSource> {
    source: S,
    start: Checkpoint,
    config: Config<S::Item>,
}

impl<S: PageSource> std::fmt::Debug for Paginator<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paginator")
            .field("start", &self.start)
            .field("max_pages", &self.config.max_pages)
            .field("max_items", &self.config.max_items)
            .field("max_empty_pages", &self.config.max_empty_pages)
            .field("cursor_fallback", &self.config.fallback.is_some())
            .finish_non_exhaustive()
    }
}

impl<S: PageSource> Paginator<S> {
    /// The default limit on consecutive empty pages that say more follow.
    pub const DEFAULT_MAX_EMPTY_PAGES: u32 = 100;

    /// Pagination from the first page.
    pub fn new(source: S) -> Self {
        Self::resume(source, Checkpoint::start())
    }

    /// Pagination from a checkpoint: the page after it comes next, and the
    /// counts continue from it. A `complete` checkpoint yields nothing.
    pub fn resume(source: S, checkpoint: Checkpoint) -> Self {
        Paginator {
            source,
            start: checkpoint,
            config: Config {
                max_pages: None,
                max_items: None,
                max_empty_pages: Self::DEFAULT_MAX_EMPTY_PAGES,
                fallback: None,
            },
        }
    }

    /// Starts after `cursor` instead of at the first page.
    pub fn starting_after(mut self, cursor: Cursor) -> Self {
        self.start.cursor = Some(cursor);
        self.start.complete = false;
        self
    }

    /// Ends the iteration cleanly (no error) once `pages` pages were fetched
    /// in total (counting those before the start checkpoint).
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.config.max_pages = Some(pages);
        self
    }

    /// Ends the iteration cleanly (no error) once `items` items were yielded
    /// in total (counting those before the start checkpoint).
    pub fn max_items(mut self, items: u64) -> Self {
        self.config.max_items = Some(items);
        self
    }

    /// Stops with [`Error::TooManyEmptyPages`] when `pages` empty pages in a
    /// row each say more follow (default 100; 0 is treated as 1). Single empty
    /// pages are legal: servers filter after paging.
    pub fn max_empty_pages(mut self, pages: u32) -> Self {
        self.config.max_empty_pages = pages.max(1);
        self
    }

    /// Derives the next cursor from a page's last item, but only when a page
    /// says more follow and carries no cursor (older API versions omit
    /// `next_starting_after`). Without a fallback that case is
    /// [`Error::MissingCursor`].
    pub fn cursor_fallback(
        mut self,
        fallback: impl FnMut(&S::Item) -> Option<Cursor> + Send + 'static,
    ) -> Self {
        self.config.fallback = Some(Box::new(fallback));
        self
    }

    fn engine(self) -> (Engine<S>, Checkpoint) {
        let start = self.start.clone();
        (Engine::new(self.source, self.config, self.start), start)
    }

    /// An iterator of whole pages, fetched lazily on this thread.
    pub fn pages(self) -> Pages<S> {
        let (engine, start) = self.engine();
        Pages::new(Driver::Inline(engine), start)
    }

    /// An iterator of items, fetched lazily on this thread.
    pub fn items(self) -> Items<S> {
        Items::new(self.pages())
    }
}

impl<S> Paginator<S>
where
    S: PageSource + Send + 'static,
    S::Item: Send + 'static,
    S::Error: Send + 'static,
{
    /// An iterator of whole pages that fetches one page ahead on a
    /// background thread: while the consumer works through page N, page N+1
    /// is fetched. At most one page waits beyond the one being consumed.
    ///
    /// It yields exactly what [`Paginator::pages`] yields. Dropping it stops
    /// the background thread after the fetch under way, if any. A panic in
    /// the source is re-raised on the consuming thread.
    pub fn pages_read_ahead(self) -> Pages<S> {
        let (engine, start) = self.engine();
        Pages::new(Driver::Background(Background::spawn(engine)), start)
    }

    /// An iterator of items with one page of read-ahead; see
    /// [`Paginator::pages_read_ahead`].
    pub fn items_read_ahead(self) -> Items<S> {
        Items::new(self.pages_read_ahead())
    }
}

enum Driver<S: PageSource> {
    Inline(Engine<S>),
    Background(Background<S::Item, S::Error>),
}

struct Background<T, E> {
    receiver: Receiver<Result<Fetched<T>, Error<E>>>,
    thread: Option<JoinHandle<()>>,
}

impl<T: Send + 'static, E: Send + 'static> Background<T, E> {
    fn spawn<S>(mut engine: Engine<S>) -> Self
    where
        S: PageSource<Item = T, Error = E> + Send + 'static,
    {
        // A rendezvous channel: the producer holds at most one fetched page
        // while it waits for the consumer to take it.
        let (sender, receiver): (SyncSender<_>, _) = sync_channel(0);
        let thread = std::thread::Builder::new()
            .name("tw-paginate-read-ahead".into())
            .spawn(move || {
                while let Some(step) = engine.next_page() {
                    let last = step.is_err();
                    if sender.send(step).is_err() || last {
                        return;
                    }
                }
            })
            .expect("spawning the read-ahead thread");
        Background {
            receiver,
            thread: Some(thread),
        }
    }
}

impl<T, E> Background<T, E> {
    fn next_page(&mut self) -> Step<T, E> {
        match self.receiver.recv() {
            Ok(step) => Some(step),
            Err(_) => self.finished(),
        }
    }

    /// The next step if the producer hands it over within `wait`.
    fn next_page_within(&mut self, wait: Duration) -> Poll<Step<T, E>> {
        match self.receiver.recv_timeout(wait) {
            Ok(step) => Poll::Ready(Some(step)),
            Err(RecvTimeoutError::Timeout) => Poll::Pending,
            Err(RecvTimeoutError::Disconnected) => Poll::Ready(self.finished()),
        }
    }

    /// The producer finished, or panicked: re-raise its panic here rather
    /// than mistake it for the end of the data.
    fn finished(&mut self) -> Step<T, E> {
        if let Some(thread) = self.thread.take()
            && let Err(panic) = thread.join()
        {
            std::panic::resume_unwind(panic);
        }
        None
    }
}

/// An iterator of whole pages: `Ok(items)` per page, then `None`; or one
/// `Err` and then `None` forever.
///
/// Empty pages are yielded as empty `Vec`s, so a batching caller sees every
/// page boundary and can record [`Pages::checkpoint`] after each.
pub struct Pages<S: PageSource> {
    driver: Driver<S>,
    checkpoint: Checkpoint,
    finished: bool,
    _source: PhantomData<fn() -> S>,
}

impl<S: PageSource> std::fmt::Debug for Pages<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("checkpoint", &self.checkpoint)
            .field("finished", &self.finished)
            .field("read_ahead", &matches!(self.driver, Driver::Background(_)))
            .finish()
    }
}

impl<S: PageSource> Pages<S> {
    fn new(driver: Driver<S>, start: Checkpoint) -> Self {
        Pages {
            driver,
            checkpoint: start,
            finished: false,
            _source: PhantomData,
        }
    }

    /// The page boundary after the last page yielded (the start checkpoint
    /// before the first).
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The next page, if it is already fetched or arrives within `wait`:
    /// `Poll::Ready` with what [`Iterator::next`] would have returned, or
    /// `Poll::Pending` (nothing taken; call again, or `next` to block).
    ///
    /// Only a read-ahead iterator ([`Paginator::pages_read_ahead`]) has
    /// pages fetched ahead; without read-ahead nothing is fetched until
    /// `next` asks, so this is `Pending` until `next` has ended. A caller
    /// that records [`Pages::checkpoint`] after each page uses it to skip
    /// the recording while the next page is ready, and to record while it
    /// would wait anyway.
    ///
    /// ```
    /// use std::task::Poll;
    /// use std::time::Duration;
    /// use tw_paginate::{Cursor, Page, Paginator};
    ///
    /// let source = |_: Option<&Cursor>| -> Result<Page<u8>, String> {
    ///     Ok(Page { items: vec![1], has_next: false, next_cursor: None })
    /// };
    /// let mut pages = Paginator::new(source).pages();
    /// assert!(pages.next_within(Duration::ZERO).is_pending());
    /// assert_eq!(pages.next().unwrap().unwrap(), [1]);
    /// assert!(pages.next().is_none());
    /// assert!(matches!(pages.next_within(Duration::ZERO), Poll::Ready(None)));
    /// ```
    pub fn next_within(&mut self, wait: Duration) -> Poll<Option<<Self as Iterator>::Item>> {
        if self.finished {
            return Poll::Ready(None);
        }
        let step = match &mut self.driver {
            Driver::Inline(_) => return Poll::Pending,
            Driver::Background(background) => background.next_page_within(wait),
        };
        step.map(|step| self.take(step))
    }

    /// Moves the checkpoint past a fetched page; ends after an error or the
    /// last page.
    fn take(&mut self, step: Step<S::Item, S::Error>) -> Option<<Self as Iterator>::Item> {
        match step {
            Some(Ok(Fetched { items, after })) => {
                self.checkpoint = after;
                Some(Ok(items))
            }
            Some(Err(error)) => {
                self.finished = true;
                Some(Err(error))
            }
            None => {
                self.finished = true;
                None
            }
        }
    }
}

impl<S: PageSource> Iterator for Pages<S> {
    type Item = Result<Vec<S::Item>, Error<S::Error>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let step = match &mut self.driver {
            Driver::Inline(engine) => engine.next_page(),
            Driver::Background(background) => background.next_page(),
        };
        self.take(step)
    }
}

impl<S: PageSource> FusedIterator for Pages<S> {}

/// An iterator of items: `Ok(item)` for each item of each page, then
/// `None`; or, after the items before a failure, one `Err` and then `None`
/// forever.
pub struct Items<S: PageSource> {
    pages: Pages<S>,
    buffer: std::vec::IntoIter<S::Item>,
    /// The boundary before the page in `buffer`.
    before: Checkpoint,
    yielded: u64,
}

impl<S: PageSource> std::fmt::Debug for Items<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Items")
            .field("pages", &self.pages)
            .field("buffered", &self.buffer.len())
            .field("yielded", &self.yielded)
            .finish()
    }
}

impl<S: PageSource> Items<S> {
    fn new(pages: Pages<S>) -> Self {
        let before = pages.checkpoint().clone();
        Items {
            yielded: before.items,
            pages,
            buffer: Vec::new().into_iter(),
            before,
        }
    }

    /// Where a new iterator continues: the boundary after the last page
    /// whose every item was yielded. See the crate docs for the contract.
    pub fn checkpoint(&self) -> &Checkpoint {
        if self.buffer.len() == 0 {
            self.pages.checkpoint()
        } else {
            &self.before
        }
    }

    /// Items yielded in total, counting those before the start checkpoint.
    /// Equal to `checkpoint().items` exactly at page boundaries.
    pub fn yielded(&self) -> u64 {
        self.yielded
    }

    /// Pages fetched and yielded in total, counting those before the start
    /// checkpoint (the page being consumed included).
    pub fn pages_fetched(&self) -> u64 {
        self.pages.checkpoint().pages
    }
}

impl<S: PageSource> Iterator for Items<S> {
    type Item = Result<S::Item, Error<S::Error>>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.buffer.next() {
                self.yielded += 1;
                return Some(Ok(item));
            }
            let before = self.pages.checkpoint().clone();
            match self.pages.next()? {
                Ok(items) => {
                    self.before = before;
                    self.buffer = items.into_iter();
                }
                Err(error) => return Some(Err(error)),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let buffered = self.buffer.len();
        if self.pages.finished {
            (buffered, Some(buffered))
        } else {
            (buffered, None)
        }
    }
}

impl<S: PageSource> FusedIterator for Items<S> {}

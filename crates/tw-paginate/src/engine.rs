//! The pagination state machine: fetch, check, advance.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::{Checkpoint, Cursor, Error, Page, PageSource};

/// Derives a cursor from the last item of a page, for servers that omit it.
pub(crate) type Fallback<T> = Box<dyn FnMut(&T) -> Option<Cursor> + Send>;

/// The limits and fallback a [`crate::Paginator`] configures.
pub(crate) struct Config<T> {
    pub max_pages: Option<u64>,
    pub max_items: Option<u64>,
    pub max_empty_pages: u32,
    pub fallback: Option<Fallback<T>>,
}

/// A fetched page and the checkpoint after it.
pub(crate) struct Fetched<T> {
    pub items: Vec<T>,
    pub after: Checkpoint,
}

pub(crate) type Step<T, E> = Option<Result<Fetched<T>, Error<E>>>;

pub(crate) struct Engine<S: PageSource> {
    source: S,
    config: Config<S::Item>,
    /// The producer's position: after the last page fetched.
    state: Checkpoint,
    /// Hashes of every cursor seen (64-bit, so a million pages cost 8 MB;
    /// a false match needs a SipHash collision, about 1 in 10^7 at that size).
    seen: HashSet<u64>,
    empty_run: u32,
    done: bool,
}

fn cursor_hash(cursor: &Cursor) -> u64 {
    let mut hasher = DefaultHasher::new();
    cursor.hash(&mut hasher);
    hasher.finish()
}

impl<S: PageSource> Engine<S> {
    pub(crate) fn new(source: S, config: Config<S::Item>, start: Checkpoint) -> Self {
        let mut seen = HashSet::new();
        if let Some(cursor) = &start.cursor {
            seen.insert(cursor_hash(cursor));
        }
        Engine {
            source,
            config,
            state: start,
            seen,
            empty_run: 0,
            done: false,
        }
    }

    fn fail(&mut self, error: Error<S::Error>) -> Step<S::Item, S::Error> {
        self.done = true;
        Some(Err(error))
    }

    pub(crate) fn next_page(&mut self) -> Step<S::Item, S::Error> {
        if self.done || self.state.complete {
            return None;
        }
        let capped = self
            .config
            .max_pages
            .is_some_and(|max| self.state.pages >= max)
            || self
                .config
                .max_items
                .is_some_and(|max| self.state.items >= max);
        if capped {
            self.done = true;
            return None;
        }

        let Page {
            mut items,
            has_next,
            next_cursor,
        } = match self.source.fetch(self.state.cursor.as_ref()) {
            Ok(page) => page,
            Err(source) => {
                let checkpoint = self.state.clone();
                return self.fail(Error::Source { source, checkpoint });
            }
        };

        let next = if has_next {
            let cursor = next_cursor.or_else(|| {
                let fallback = self.config.fallback.as_mut()?;
                items.last().and_then(fallback)
            });
            let Some(cursor) = cursor else {
                let checkpoint = self.state.clone();
                return self.fail(Error::MissingCursor { checkpoint });
            };
            if !self.seen.insert(cursor_hash(&cursor)) {
                let checkpoint = self.state.clone();
                return self.fail(Error::RepeatedCursor { cursor, checkpoint });
            }
            if items.is_empty() {
                self.empty_run += 1;
                if self.empty_run >= self.config.max_empty_pages {
                    let checkpoint = self.state.clone();
                    let count = self.empty_run;
                    return self.fail(Error::TooManyEmptyPages { count, checkpoint });
                }
            } else {
                self.empty_run = 0;
            }
            Some(cursor)
        } else {
            None
        };

        if let Some(max) = self.config.max_items {
            let room = max - self.state.items;
            if items.len() as u64 > room {
                // The cap ends the iteration part-way through this page: the
                // checkpoint stays before it (page granularity).
                items.truncate(room as usize);
                self.done = true;
                return Some(Ok(Fetched {
                    items,
                    after: self.state.clone(),
                }));
            }
        }

        self.state = Checkpoint {
            complete: next.is_none(),
            cursor: next,
            pages: self.state.pages + 1,
            items: self.state.items + items.len() as u64,
        };
        Some(Ok(Fetched {
            items,
            after: self.state.clone(),
        }))
    }
}

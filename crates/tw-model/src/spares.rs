//! Spare values, per thread and type: the elements that lists let go of
//! when a record's list is shorter than the one decoded or viewed before
//! it, for a later, longer list to decode or view over instead of
//! allocating new ones. Both reuse paths (typed records decoded in place,
//! and views) keep their spares here.

use std::any::{Any, TypeId};
use std::cell::RefCell;

/// How many spare values of one type a thread keeps: enough for lists
/// whose lengths vary from record to record to stop allocating, and a
/// bound on what an unusually long list leaves behind.
pub(crate) const MAX: usize = 256;

thread_local! {
    /// One stack of spares per type (a handful of types, so a list beats
    /// a map).
    static SPARES: RefCell<Vec<(TypeId, Box<dyn Any>)>> = const { RefCell::new(Vec::new()) };
}

/// Calls `f` with the thread's stack of spare `T`s.
fn with<T: 'static, R>(f: impl FnOnce(&mut Vec<T>) -> R) -> R {
    SPARES.with_borrow_mut(|spares| {
        let id = TypeId::of::<T>();
        let at = match spares.iter().position(|(of, _)| *of == id) {
            Some(at) => at,
            None => {
                spares.push((id, Box::new(Vec::<T>::new())));
                spares.len() - 1
            }
        };
        let stack = spares[at]
            .1
            .downcast_mut::<Vec<T>>()
            .expect("each stack holds its own type");
        f(stack)
    })
}

/// A spare `T`, if the thread has one.
pub(crate) fn take<T: 'static>() -> Option<T> {
    with(Vec::pop)
}

/// Keeps `value` as a spare (dropped when the thread keeps [`MAX`]).
pub(crate) fn keep<T: 'static>(value: T) {
    with(|stack| {
        if stack.len() < MAX {
            stack.push(value);
        }
    });
}

/// Keeps the elements of `items` from `from` on as spares (as many as
/// there is room for; the rest are dropped), leaving `from` elements.
pub(crate) fn keep_from<T: 'static>(items: &mut Vec<T>, from: usize) {
    with(|stack| {
        let room = MAX.saturating_sub(stack.len());
        let kept = items.len().min(from + room);
        stack.extend(items.drain(from..kept));
    });
    items.truncate(from);
}

/// How many spare `T`s the thread has.
#[cfg(test)]
pub(crate) fn count<T: 'static>() -> usize {
    with(|stack: &mut Vec<T>| stack.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spares_are_kept_by_type_up_to_the_limit() {
        let mut items: Vec<String> = (0..MAX + 10).map(|i| i.to_string()).collect();
        keep_from(&mut items, 5);
        assert_eq!(items.len(), 5);
        assert_eq!(count::<String>(), MAX);
        keep(String::from("one too many"));
        assert_eq!(count::<String>(), MAX);
        assert_eq!(count::<Vec<u8>>(), 0, "each type has its own spares");
        assert!(take::<String>().is_some());
        assert_eq!(count::<String>(), MAX - 1);
        assert_eq!(take::<Vec<u8>>(), None);
    }
}

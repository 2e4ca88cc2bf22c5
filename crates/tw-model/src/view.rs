//! Views: records read as spans of their page's text, for tables.
//!
//! A CSV export needs a record's fields one by one, but not owned copies
//! of them. A view is the record's shape with every string replaced by a
//! [`Span`] of the page's text (and numbers, booleans and lists as
//! themselves), built on the same one-pass walk that checks the page
//! ([`decode_view_page`]). Writing a row then copies each field once, from
//! the page to the output; decoding typed records first copied it twice
//! and matched every enum value against its variants on the way.
//!
//! Every `wire_struct!` type has a view (`SkillCluster` has
//! `SkillClusterView`), generated from the same declaration as its decoders.
//! Views are reused from page to page, and so are their lists' elements:
//! a [`List`] that ends shorter than it was hands its surplus elements
//! (with their own lists) to the thread's spares, as typed records decoded
//! in place do, and a list that grows takes them back from there. Once the
//! first pages have grown the views, viewing a page allocates nothing but
//! the unknown fields it keeps, and the views keep about what recent pages
//! needed (`tests/view_memory.rs` in tw-export holds them to that).
//!
//! A page the walk is not sure of goes to the serde decoders, as everywhere:
//! the same error for a bad page, and for a good one the records are
//! written out again as JSON and viewed there.

use std::borrow::Cow;
use std::fmt::Debug;
use std::ops::{Deref, Range};
use std::sync::OnceLock;

use crate::dataset::{Cell, Dataset, FieldValue, Table, Unknown};
use crate::error::DecodeError;
use crate::page::Layout;
use crate::scan::{Scan, Unsure, Walk};
use crate::spares;

/// A string of a record: where its text is, between the quotes, in the
/// page (or document) the record was viewed in, and whether that text
/// holds escapes (then [`Span::text`] undoes them). Eight bytes: views of
/// a page are about as large as the page, so they stay small.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Span {
    start: u32,
    /// The end, with [`ESCAPED`] set when the text holds escapes.
    end: u32,
}

/// The bit of [`Span::end`] that says the text holds escapes.
const ESCAPED: u32 = 1 << 31;

/// The largest response body [`decode_view_page`] views: spans count in
/// 31 bits, and a page the walk is not sure of is written out again with
/// its strings after it (at most about twice its size).
pub const MAX_VIEWED_BODY: usize = 512 << 20;

impl Span {
    /// The span `start..end`, when `end` fits.
    #[inline]
    pub(crate) fn new(start: usize, end: usize, escaped: bool) -> Option<Span> {
        let end = u32::try_from(end).ok().filter(|&end| end < ESCAPED)?;
        Some(Span {
            start: start as u32,
            end: end | if escaped { ESCAPED } else { 0 },
        })
    }

    /// The string's text, in `text` (the page the record was viewed in).
    pub fn text(self, text: &str) -> Cow<'_, str> {
        let raw = self.raw(text);
        if !self.is_escaped() {
            return Cow::Borrowed(raw);
        }
        Cow::Owned(crate::decode_into::unescaped(raw))
    }

    /// The string as the page sends it, escapes and all.
    #[inline]
    pub fn raw(self, text: &str) -> &str {
        text.get(self.start as usize..(self.end & !ESCAPED) as usize)
            .unwrap_or_default()
    }

    /// [`Span::raw`]'s bytes.
    #[inline]
    pub fn raw_bytes(self, text: &str) -> &[u8] {
        text.as_bytes()
            .get(self.start as usize..(self.end & !ESCAPED) as usize)
            .unwrap_or_default()
    }

    /// Whether the string holds escapes.
    #[inline]
    pub fn is_escaped(self) -> bool {
        self.end & ESCAPED != 0
    }

    /// Appends the string as serde_json writes it. Text sent without
    /// escapes holds nothing serde_json escapes (quotes, backslashes,
    /// control characters), so it is written as sent. `false`, for `out`
    /// doubling quotes, when the text holds escapes (serde_json's text of
    /// it may hold a quote).
    #[doc(hidden)]
    #[inline]
    pub fn write_json(self, text: &str, out: &mut JsonOut<'_>) -> bool {
        if self.is_escaped() {
            if out.doubles_quotes() {
                return false;
            }
            serde_json::to_writer(out.unquoted(), &self.text(text)).expect("strings serialize");
        } else {
            out.quote();
            out.unquoted().extend_from_slice(self.raw_bytes(text));
            out.quote();
        }
        true
    }

    /// The string as a table cell: borrowed text, or text whose escapes a
    /// writer undoes as it writes it.
    #[inline]
    pub fn cell(self, text: &str) -> Cell<'_> {
        let raw = self.raw(text);
        if self.is_escaped() {
            Cell::Escaped(raw)
        } else {
            // JSON strings escape every quote and control character.
            Cell::Plain(raw)
        }
    }
}

/// How many elements beyond its length a [`List`] of the one view that
/// [`view_page_each`] and [`view_record`] reuse keeps in place.
const IN_PLACE: usize = 4;

/// A list of views, reused from record to record: elements beyond its
/// length go to the thread's spares and new ones come from there (see the
/// module docs), so viewing the next record over it reuses allocations. Reads
/// as a slice of its elements.
#[derive(Debug, Clone)]
pub struct List<T> {
    items: Vec<T>,
    /// How many of `items` are the list's (viewed text is under 2 GiB, so
    /// 32 bits count them; views are kept small, since a page's views
    /// stay in memory for reuse).
    len: u32,
    /// Where the list's JSON text is.
    json: Span,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List {
            items: Vec::new(),
            len: 0,
            json: Span::default(),
        }
    }
}

impl<T> List<T> {
    /// The list's JSON text, in `text` (the page it was viewed in).
    pub fn json<'t>(&self, text: &'t str) -> &'t str {
        self.json.raw(text)
    }
}

/// Where a view writes its JSON ([`Viewable::write_json`]): a buffer,
/// taking the JSON as it is, or with each `"` written twice, as the text
/// of a quoted CSV field (then JSON text that may hold a quote it cannot
/// see, such as serde_json's, is refused and the caller writes the JSON
/// another way).
#[doc(hidden)]
#[derive(Debug)]
pub struct JsonOut<'a> {
    buf: &'a mut Vec<u8>,
    quote: &'static [u8],
}

impl<'a> JsonOut<'a> {
    /// JSON as it is, appended to `buf`.
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        JsonOut { buf, quote: b"\"" }
    }

    /// JSON with each quote doubled, appended to `buf`.
    pub fn doubling_quotes(buf: &'a mut Vec<u8>) -> Self {
        JsonOut {
            buf,
            quote: b"\"\"",
        }
    }

    /// Whether quotes are doubled.
    #[inline]
    pub fn doubles_quotes(&self) -> bool {
        self.quote.len() == 2
    }

    /// Appends a quote (two, when doubling).
    #[inline]
    pub fn quote(&mut self) {
        self.buf.extend_from_slice(self.quote);
    }

    /// The buffer, for text that holds no quote (or any text, when
    /// quotes are not doubled).
    #[inline]
    pub fn unquoted(&mut self) -> &mut Vec<u8> {
        self.buf
    }
}

/// A view that knows where its JSON text is (a list's or an object's), for
/// [`ViewJson`]'s fallback.
#[doc(hidden)]
pub trait JsonText {
    /// The value's JSON text, in `text` (the page it was viewed in). For
    /// the view of a typed value, an object's text is there only when the
    /// view cannot write the object's JSON itself ([`Viewable::write_json`]
    /// gives `false`); else it is empty.
    fn json_text<'t>(&self, text: &'t str) -> &'t str;
}

impl<T> JsonText for List<T> {
    fn json_text<'t>(&self, text: &'t str) -> &'t str {
        self.json(text)
    }
}

/// A viewed list or object (the view of a `T`) as a [`Cell::Json`]: the
/// compact JSON the typed value writes, from the view where it can be sure
/// of it, else decoded from the value's text ([`AsTyped`]).
#[derive(Debug)]
pub struct ViewJson<'a, T: Viewable> {
    view: &'a T::View,
    text: &'a str,
}

impl<'a, T: Viewable> ViewJson<'a, T> {
    /// The JSON cell of `view`, whose strings are in `text`.
    pub fn new(view: &'a T::View, text: &'a str) -> Self {
        ViewJson { view, text }
    }
}

impl<T> crate::ToJson for ViewJson<'_, T>
where
    T: Viewable + serde::Serialize + serde::de::DeserializeOwned,
    T::View: JsonText,
{
    fn write_json_doubling_quotes(&self, out: &mut Vec<u8>) -> bool {
        let start = out.len();
        let written = T::write_json(self.view, self.text, &mut JsonOut::doubling_quotes(out));
        if !written {
            out.truncate(start);
        }
        written
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        let start = out.len();
        if !T::write_json(self.view, self.text, &mut JsonOut::new(out)) {
            out.truncate(start);
            let typed = AsTyped::<T> {
                json: self.view.json_text(self.text),
                typed: std::marker::PhantomData,
            };
            serde_json::to_writer(out, &typed).expect("a viewed value decodes");
        }
    }
}

/// A nested value of a viewed record that serializes as its typed value
/// `V` does: decoded from its JSON text when written (for [`Cell::Json`],
/// whose text is the typed value's compact JSON).
pub struct AsTyped<'t, V> {
    json: &'t str,
    typed: std::marker::PhantomData<fn() -> V>,
}

impl<V> Debug for AsTyped<'_, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("AsTyped").field(&self.json).finish()
    }
}

impl<V: serde::Serialize + serde::de::DeserializeOwned> serde::Serialize for AsTyped<'_, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The walk checked the text against the model, so it decodes.
        let value: V = serde_json::from_str(self.json).map_err(serde::ser::Error::custom)?;
        value.serialize(serializer)
    }
}

impl<T> Deref for List<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.items[..self.len as usize]
    }
}

impl<T: 'static> List<T> {
    /// The next element, `fresh` or kept from an earlier record (the
    /// caller overwrites every part of it).
    fn next_slot(&mut self, fresh: fn() -> T) -> &mut T {
        let at = self.len as usize;
        if at == self.items.len() {
            self.items.push(spares::take().unwrap_or_else(fresh));
        }
        self.len += 1;
        &mut self.items[at]
    }

    /// Hands the elements beyond the list's length to the spare pool, but
    /// for `in_place` of them: those stay for the list's next record, with
    /// no trip to the spares (for one view reused record after record,
    /// whose lists' lengths go up and down by a few; a page of views
    /// keeps none, or its views would hold that many more each).
    fn end(&mut self, in_place: usize) {
        let keep = self.len as usize + in_place;
        if self.items.len() > keep {
            spares::keep_from(&mut self.items, keep);
        }
    }
}

/// The unknown fields of a viewed object: where each key is in the page,
/// with its value as typed decoding keeps it, or, for the view of a typed
/// value, the fields themselves. Empty for most objects.
#[derive(Debug, Clone, Default)]
pub struct Unknowns(Option<Box<UnknownsIn>>);

/// The fields of [`Unknowns`], boxed: most objects have none, and every
/// viewed object has an `Unknowns`.
#[derive(Debug, Clone, Default)]
struct UnknownsIn {
    read: List<(Range<usize>, ReadValue)>,
    owned: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The value of an unknown field read from the page.
#[derive(Debug, Clone)]
enum ReadValue {
    /// Where its text is in the page: text that is the JSON typed decoding
    /// writes for it (see [`crate::decode_into::reads_as_written`]),
    /// written as it is; decoded only when asked for as a value.
    Text(Range<usize>, OnceLock<serde_json::Value>),
    /// The value, decoded as typed decoding decodes it.
    Decoded(serde_json::Value),
}

impl ReadValue {
    /// The value, decoded from `text` (the page) on the first call for
    /// one kept as text.
    fn value(&self, text: &str) -> &serde_json::Value {
        match self {
            ReadValue::Decoded(value) => value,
            ReadValue::Text(range, decoded) => decoded.get_or_init(|| {
                // The text was read and checked with the page; a `text`
                // other than the page's is the caller's mistake, and reads
                // as `null`.
                let json = text.get(range.clone()).unwrap_or_default();
                crate::decode_into::extra_value_of(json.as_bytes())
                    .unwrap_or(serde_json::Value::Null)
            }),
        }
    }

    /// The value as a [`FieldValue`]: its text when it is kept as text.
    fn field<'a>(&'a self, text: &'a str) -> FieldValue<'a> {
        match self {
            ReadValue::Text(range, _) => {
                FieldValue::Json(text.get(range.clone()).unwrap_or("null"))
            }
            ReadValue::Decoded(value) => FieldValue::Decoded(value),
        }
    }
}

impl Unknowns {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0
            .as_ref()
            .is_none_or(|fields| fields.read.is_empty() && fields.owned.is_none())
    }

    /// Forgets the fields. Their box goes to the spares, for the next
    /// object that has unknown fields: an object that kept its box would
    /// carry it through every list it is reused in, so in time every object
    /// that ever had unknown fields would hold one.
    #[doc(hidden)]
    pub fn clear(&mut self) {
        if let Some(mut fields) = self.0.take() {
            fields.read.len = 0;
            fields.owned = None;
            spares::keep(fields);
        }
    }

    /// Reads the value of the unknown field whose key (between its
    /// quotes) is at `key` of the page, as typed decoding reads it.
    #[doc(hidden)]
    pub fn read(&mut self, key: Range<usize>, walk: &mut Walk<'_, '_>) -> Scan<()> {
        let start = walk.i;
        walk.any(0)?;
        let text = &walk.b[start..walk.i];
        // Most new fields are a string, a number or a flag whose text is
        // what would be written for it: kept as text, not decoded.
        let value = if crate::decode_into::reads_as_written(text) {
            ReadValue::Text(start..walk.i, OnceLock::new())
        } else {
            ReadValue::Decoded(crate::decode_into::extra_value_of(text)?)
        };
        let fields = self
            .0
            .get_or_insert_with(|| spares::take().unwrap_or_default());
        *fields
            .read
            .next_slot(|| (0..0, ReadValue::Decoded(serde_json::Value::Null))) = (key, value);
        Ok(())
    }

    /// Calls `f` with each field, its key read from `text` (the page the
    /// object was viewed in).
    pub fn for_each<'a>(
        &'a self,
        text: &'a str,
        f: &mut dyn FnMut(&'a str, &'a serde_json::Value),
    ) {
        let Some(fields) = &self.0 else {
            return;
        };
        if let Some(owned) = &fields.owned {
            for (key, value) in owned.iter() {
                f(key, value);
            }
        }
        for (key, value) in fields.read.iter() {
            f(text.get(key.clone()).unwrap_or_default(), value.value(text));
        }
    }

    /// Calls `f` with each field as [`Unknowns::for_each`] does, its value
    /// as a [`FieldValue`]: the page's text of a value read from it whose
    /// text is the JSON that would be written for it, without decoding it.
    pub fn for_each_field<'a>(&'a self, text: &'a str, f: &mut dyn FnMut(&'a str, FieldValue<'a>)) {
        let Some(fields) = &self.0 else {
            return;
        };
        if let Some(owned) = &fields.owned {
            for (key, value) in owned.iter() {
                f(key, FieldValue::Decoded(value));
            }
        }
        for (key, value) in fields.read.iter() {
            f(text.get(key.clone()).unwrap_or_default(), value.field(text));
        }
    }

    /// Counts each field at `path` (a key repeated in one object once,
    /// as in a decoded `Value`).
    #[doc(hidden)]
    #[inline]
    pub fn count(
        &self,
        text: &str,
        path: &crate::FieldPath<'_>,
        counts: &mut crate::UnknownFields,
    ) {
        if self.0.is_some() {
            self.count_each(text, path, counts);
        }
    }

    #[cold]
    #[inline(never)]
    fn count_each(
        &self,
        text: &str,
        path: &crate::FieldPath<'_>,
        counts: &mut crate::UnknownFields,
    ) {
        let Some(fields) = &self.0 else {
            return;
        };
        for key in fields.owned.iter().flat_map(|owned| owned.keys()) {
            counts.add_at(path, key);
        }
        // A key repeated in the page's object counts once.
        let read = &fields.read[..];
        let key = |i: usize| text.get(read[i].0.clone()).unwrap_or_default();
        for i in 0..read.len() {
            if !(0..i).any(|j| key(j) == key(i)) {
                counts.add_at(path, key(i));
            }
        }
    }

    /// The unknown fields of typed value `value`.
    #[doc(hidden)]
    pub fn of(value: &dyn Unknown) -> Unknowns {
        let mut owned = serde_json::Map::new();
        value.for_each_unknown(&mut |key, value| {
            owned.insert(key.to_owned(), value.clone());
        });
        Unknowns((!owned.is_empty()).then(|| {
            Box::new(UnknownsIn {
                read: List::default(),
                owned: Some(owned),
            })
        }))
    }
}

/// A viewed object: its unknown fields, for a table's `extra` cell.
pub trait ObjectView {
    /// The object's unknown fields.
    fn unknowns(&self) -> &Unknowns;
}

/// A viewed object with the page it was viewed in, listing its unknown
/// fields as a typed object does.
pub(crate) struct InPage<'a>(pub &'a dyn ObjectView, pub &'a str);

impl Unknown for InPage<'_> {
    fn for_each_unknown<'a>(&'a self, f: &mut dyn FnMut(&'a str, &'a serde_json::Value)) {
        self.0.unknowns().for_each(self.1, f);
    }

    fn for_each_unknown_field<'a>(&'a self, f: &mut dyn FnMut(&'a str, FieldValue<'a>)) {
        self.0.unknowns().for_each_field(self.1, f);
    }
}

/// A model type that has a view (generated for every model type).
#[doc(hidden)]
pub trait Viewable {
    /// The view.
    type View: Clone + Debug + Send + Sync + 'static;

    /// A view to read into: a new one, or one set aside before.
    fn fresh() -> Self::View;

    /// Keeps a view no longer used where [`Viewable::fresh`] takes it
    /// back (a list, with its elements and room, goes to the spares); the
    /// default drops it.
    fn set_aside(view: Self::View) {
        drop(view);
    }

    /// Reads the next value of `walk` into `view`, replacing all of it
    /// and reusing its lists.
    fn view_into(view: &mut Self::View, walk: &mut Walk<'_, '_>) -> Scan<()>;

    /// The view of a typed value, its strings appended to `text`.
    fn view_of(value: &Self, text: &mut String, view: &mut Self::View);

    /// Appends the compact JSON the typed value writes, from its view
    /// (strings in `text`); `false` when the view cannot be sure of it (an
    /// object with unknown fields or explicit nulls, which the typed value
    /// writes after its known fields), or, for `out` doubling quotes, when
    /// it holds a string sent with escapes: then the caller writes the
    /// JSON another way (what was appended is the caller's to cut).
    fn write_json(view: &Self::View, text: &str, out: &mut JsonOut<'_>) -> bool;

    /// Whether [`Viewable::write_json`] writes `view`'s JSON: no object in
    /// it has unknown fields or explicit nulls.
    #[inline]
    fn writes_json(view: &Self::View) -> bool {
        let _ = view;
        true
    }

    /// Adds the unknown fields of `view` and of the objects in it, at
    /// `path`, to `counts` (see [`crate::UnknownFields::add_viewed`]);
    /// nothing but for objects.
    #[inline]
    fn count_view(
        view: &Self::View,
        text: &str,
        path: &crate::FieldPath<'_>,
        counts: &mut crate::UnknownFields,
    ) {
        let _ = (view, text, path, counts);
    }
}

impl Viewable for String {
    type View = Span;

    fn fresh() -> Span {
        Span::default()
    }

    #[inline]
    fn view_into(view: &mut Span, walk: &mut Walk<'_, '_>) -> Scan<()> {
        walk.expect(b'"')?;
        let start = walk.i;
        let escaped = walk.string()?;
        // A page too large for a span is decoded by serde, then refused.
        *view = Span::new(start, walk.i - 1, escaped).ok_or(Unsure)?;
        Ok(())
    }

    fn view_of(value: &String, text: &mut String, view: &mut Span) {
        *view = push_span(text, value);
    }

    fn write_json(view: &Span, text: &str, out: &mut JsonOut<'_>) -> bool {
        view.write_json(text, out)
    }
}

/// Appends `value` to `text` as the inside of a JSON string (escaped as
/// serde_json escapes it), and gives its span there: a span always points
/// at JSON string text, whether it came from a page or a typed value, so
/// text without escapes surely holds no quote and no control character.
#[doc(hidden)]
pub fn push_span(text: &mut String, value: &str) -> Span {
    let start = text.len();
    let escaped = value.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\');
    if escaped {
        let quoted = serde_json::to_string(value).expect("strings serialize");
        text.push_str(&quoted[1..quoted.len() - 1]);
    } else {
        text.push_str(value);
    }
    // Texts stay under 2 GiB: bodies over MAX_VIEWED_BODY are refused.
    Span::new(start, text.len(), escaped).expect("a viewed text is under 2 GiB")
}

/// Appends `value`'s compact JSON to `text`, and gives its span there.
#[doc(hidden)]
pub fn push_json<T: serde::Serialize + ?Sized>(text: &mut String, value: &T) -> Span {
    let start = text.len();
    text.push_str(&serde_json::to_string(value).expect("model values serialize"));
    Span::new(start, text.len(), false).expect("a viewed text is under 2 GiB")
}

macro_rules! viewed_as_itself {
    ($($ty:ty = $fresh:expr),*) => {
        $(
            impl Viewable for $ty {
                type View = $ty;

                fn fresh() -> $ty {
                    $fresh
                }

                #[inline]
                fn view_into(view: &mut $ty, walk: &mut Walk<'_, '_>) -> Scan<()> {
                    crate::DecodeInto::decode_into(view, walk)
                }

                fn view_of(value: &$ty, _: &mut String, view: &mut $ty) {
                    view.clone_from(value);
                }

                fn write_json(view: &$ty, _: &str, out: &mut JsonOut<'_>) -> bool {
                    // Numbers and booleans: no quote.
                    serde_json::to_writer(out.unquoted(), view).expect("values serialize");
                    true
                }
            }
        )*
    };
}

viewed_as_itself!(
    i64 = 0,
    bool = false,
    serde_json::Number = serde_json::Number::from(0)
);

impl<T: Viewable> Viewable for Option<T> {
    type View = Option<T::View>;

    fn fresh() -> Option<T::View> {
        None
    }

    fn set_aside(view: Option<T::View>) {
        if let Some(view) = view {
            T::set_aside(view);
        }
    }

    #[inline]
    fn view_into(view: &mut Option<T::View>, walk: &mut Walk<'_, '_>) -> Scan<()> {
        if walk.peek() == Some(b'n') {
            Self::set_aside(view.take());
            return walk.literal(b"null");
        }
        T::view_into(view.get_or_insert_with(T::fresh), walk)
    }

    fn view_of(value: &Option<T>, text: &mut String, view: &mut Option<T::View>) {
        match value {
            Some(value) => T::view_of(value, text, view.get_or_insert_with(T::fresh)),
            None => Self::set_aside(view.take()),
        }
    }

    fn writes_json(view: &Option<T::View>) -> bool {
        view.as_ref().is_none_or(T::writes_json)
    }

    fn write_json(view: &Option<T::View>, text: &str, out: &mut JsonOut<'_>) -> bool {
        match view {
            Some(view) => T::write_json(view, text, out),
            None => {
                out.unquoted().extend_from_slice(b"null");
                true
            }
        }
    }

    #[inline]
    fn count_view(
        view: &Option<T::View>,
        text: &str,
        path: &crate::FieldPath<'_>,
        counts: &mut crate::UnknownFields,
    ) {
        if let Some(view) = view {
            T::count_view(view, text, path, counts);
        }
    }
}

impl<T: Viewable + serde::Serialize> Viewable for Vec<T> {
    type View = List<T::View>;

    fn fresh() -> List<T::View> {
        spares::take().unwrap_or_default()
    }

    fn set_aside(mut view: List<T::View>) {
        view.len = 0;
        spares::keep(view);
    }

    fn view_into(view: &mut List<T::View>, walk: &mut Walk<'_, '_>) -> Scan<()> {
        view.len = 0;
        let start = walk.i;
        walk.container(b'[', b']', |walk| {
            T::view_into(view.next_slot(T::fresh), walk)
        })?;
        view.json = Span::new(start, walk.i, false).ok_or(Unsure)?;
        view.end(walk.in_place);
        Ok(())
    }

    fn view_of(value: &Vec<T>, text: &mut String, view: &mut List<T::View>) {
        view.json = push_json(text, value);
        view.len = 0;
        for item in value {
            T::view_of(item, text, view.next_slot(T::fresh));
        }
        view.end(0);
    }

    fn writes_json(view: &List<T::View>) -> bool {
        view.iter().all(T::writes_json)
    }

    fn write_json(view: &List<T::View>, text: &str, out: &mut JsonOut<'_>) -> bool {
        out.unquoted().push(b'[');
        for (i, item) in view.iter().enumerate() {
            if i > 0 {
                out.unquoted().push(b',');
            }
            if !T::write_json(item, text, out) {
                return false;
            }
        }
        out.unquoted().push(b']');
        true
    }

    #[inline]
    fn count_view(
        view: &List<T::View>,
        text: &str,
        path: &crate::FieldPath<'_>,
        counts: &mut crate::UnknownFields,
    ) {
        let items = path.items();
        for item in view.iter() {
            T::count_view(item, text, &items, counts);
        }
    }
}

/// A page viewed by [`decode_view_page`].
#[derive(Debug, Clone)]
pub struct ViewPage {
    /// The text the views' spans point into: the response body, or (for a
    /// page the walk was not sure of) its records written out again.
    pub text: String,
    /// Where each record is in `text`.
    pub records: Vec<Range<usize>>,
    /// Whether another page follows.
    pub has_next: bool,
    /// The cursor of the next page, when the server sent one.
    pub next_starting_after: Option<String>,
}

/// Views a response body of dataset `D`: each record's view goes into
/// `views` (over the views of an earlier page, reusing their lists), and
/// the page gives where each record is. The page and its verdict are
/// exactly [`crate::decode_page`]'s: the same records, the same error.
///
/// ```
/// use tw_model::{SkillClusters, decode_view_page};
///
/// let mut views = Vec::new();
/// let body = br#"{"has_next":false,"records":[{"external_id":"e1"},{"external_id":"e\"2"}]}"#;
/// let page = decode_view_page::<SkillClusters>(body.to_vec(), &mut views)?;
/// assert_eq!(views.len(), 2);
/// assert_eq!(views[0].external_id.text(&page.text), "e1");
/// assert_eq!(views[1].external_id.text(&page.text), "e\"2");
/// assert_eq!(&page.text[page.records[0].clone()], r#"{"external_id":"e1"}"#);
///
/// let bad = br#"{"has_next":false,"records":[{"skill_clusters":[]}]}"#;
/// let err = decode_view_page::<SkillClusters>(bad.to_vec(), &mut views).unwrap_err();
/// assert!(err.to_string().contains("external_id"), "{err}");
/// # Ok::<(), tw_model::DecodeError>(())
/// ```
pub fn decode_view_page<D: Dataset>(
    body: Vec<u8>,
    views: &mut Vec<<D::Record as Table>::View>,
) -> Result<ViewPage, DecodeError> {
    check_viewed_size(&body)?;
    let mut records = Vec::new();
    match String::from_utf8(body) {
        Ok(text) => {
            let walked =
                crate::decode_into::walk_page(text.as_bytes(), &text, Layout::of::<D>(), |walk| {
                    view_records::<D>(views, &mut records, walk)
                });
            match walked {
                Some(envelope) => Ok(ViewPage::walked(text, records, envelope)),
                None => from_typed::<D>(text.as_bytes(), views),
            }
        }
        Err(err) => from_typed::<D>(err.as_bytes(), views),
    }
}

impl ViewPage {
    /// A page the walk was sure of, with its envelope.
    fn walked(
        text: String,
        records: Vec<Range<usize>>,
        (has_next, next_starting_after): (bool, Option<String>),
    ) -> ViewPage {
        ViewPage {
            text,
            records,
            has_next,
            next_starting_after,
        }
    }
}

/// Refuses a body too large for spans (see [`MAX_VIEWED_BODY`]).
fn check_viewed_size(body: &[u8]) -> Result<(), DecodeError> {
    if body.len() <= MAX_VIEWED_BODY {
        return Ok(());
    }
    Err(DecodeError::new(
        ".".to_owned(),
        serde::de::Error::custom(format_args!(
            "a page of {} bytes is larger than a table export takes ({} MiB); \
             ask for smaller pages",
            body.len(),
            MAX_VIEWED_BODY >> 20
        )),
    ))
}

/// What [`view_page_each`] hands its callback: the next record, or word
/// that the records handed so far do not count.
#[derive(Debug)]
pub enum EachRecord<'a, V> {
    /// The next record: its view, and the text its spans point into.
    Record(&'a V, &'a str),
    /// The walk turned out unsure of the page after some records were
    /// handed: forget them; every record comes again, viewed from its
    /// typed decoding (or the page's error is returned).
    Restart,
}

/// Views a response body of dataset `D` one record at a time, with one
/// view reused from record to record (the thread's, as in
/// [`view_record`]), and calls `each` with every record in order while
/// the page is walked: a table's rows can be written while the record's
/// view is in the cache, and nothing is kept per record but where it is.
/// The page and its verdict are [`decode_view_page`]'s; on an error,
/// whatever `each` was given does not count.
///
/// ```
/// use tw_model::{EachRecord, SkillClusters, view_page_each};
///
/// let body = br#"{"has_next":false,"records":[{"external_id":"e1"},{"external_id":"e\"2"}]}"#;
/// let mut ids = Vec::new();
/// let page = view_page_each::<SkillClusters>(body.to_vec(), |record| match record {
///     EachRecord::Record(view, text) => ids.push(view.external_id.text(text).into_owned()),
///     EachRecord::Restart => ids.clear(),
/// })?;
/// assert_eq!(ids, ["e1", "e\"2"]);
/// assert_eq!(&page.text[page.records[1].clone()], r#"{"external_id":"e\"2"}"#);
/// # Ok::<(), tw_model::DecodeError>(())
/// ```
pub fn view_page_each<D: Dataset>(
    body: Vec<u8>,
    mut each: impl FnMut(EachRecord<'_, <D::Record as Table>::View>),
) -> Result<ViewPage, DecodeError> {
    check_viewed_size(&body)?;
    let mut records = Vec::new();
    let text = match String::from_utf8(body) {
        Ok(text) => text,
        Err(err) => return each_from_typed::<D>(err.as_bytes(), &mut each),
    };
    let mut view = spares::take::<<D::Record as Table>::View>().unwrap_or_default();
    let walked = crate::decode_into::walk_page(text.as_bytes(), &text, Layout::of::<D>(), |walk| {
        records.clear();
        walk.in_place = IN_PLACE;
        walk.container(b'[', b']', |walk| {
            let start = walk.i;
            <D::Record as Table>::view_into(&mut view, walk)?;
            records.push(start..walk.i);
            each(EachRecord::Record(&view, walk.text));
            Ok(())
        })
    });
    spares::keep(view);
    match walked {
        Some(envelope) => Ok(ViewPage::walked(text, records, envelope)),
        None => {
            if !records.is_empty() {
                each(EachRecord::Restart);
            }
            each_from_typed::<D>(text.as_bytes(), &mut each)
        }
    }
}

/// [`view_page_each`] of a page the walk was not sure of.
#[cold]
fn each_from_typed<D: Dataset>(
    body: &[u8],
    each: &mut impl FnMut(EachRecord<'_, <D::Record as Table>::View>),
) -> Result<ViewPage, DecodeError> {
    let mut views = Vec::new();
    let page = from_typed::<D>(body, &mut views)?;
    for view in &views {
        each(EachRecord::Record(view, &page.text));
    }
    Ok(page)
}

/// Views one record given as its JSON text (a record a page scan checked,
/// see [`crate::decode_raw_page`]) and calls `f` with its view and the
/// text the view's spans point into. The view is the thread's one view
/// of `T`, reused from record to record (its lists keep their room), so
/// a record is viewed, and its rows written, while its view is in the
/// cache. A record the walk is not sure of is decoded by serde (its error
/// is the record's) and viewed from there.
///
/// ```
/// use tw_model::{EmployeeSkillClusters, view_record};
///
/// let id = view_record::<EmployeeSkillClusters, _>(r#"{"external_id":"e\"1"}"#, |view, text| {
///     view.external_id.text(text).into_owned()
/// })?;
/// assert_eq!(id, "e\"1");
/// let err = view_record::<EmployeeSkillClusters, _>(r#"{"external_id":1}"#, |_, _| ()).unwrap_err();
/// assert!(err.to_string().contains("external_id"), "{err}");
/// # Ok::<(), tw_model::DecodeError>(())
/// ```
pub fn view_record<T: Table + serde::de::DeserializeOwned, R>(
    text: &str,
    f: impl FnOnce(&T::View, &str) -> R,
) -> Result<R, DecodeError> {
    let mut view = spares::take::<T::View>().unwrap_or_default();
    let mut walk = Walk::new(text.as_bytes(), None);
    walk.text = text;
    walk.in_place = IN_PLACE;
    let result = match walk.whole(|walk| T::view_into(&mut view, walk)) {
        Ok(()) => Ok(f(&view, text)),
        Err(Unsure) => view_decoded::<T, R>(text, &mut view, f),
    };
    spares::keep(view);
    result
}

/// [`view_record`] for a record the walk was not sure of.
#[cold]
fn view_decoded<T: Table + serde::de::DeserializeOwned, R>(
    text: &str,
    view: &mut T::View,
    f: impl FnOnce(&T::View, &str) -> R,
) -> Result<R, DecodeError> {
    let record: T = crate::decode::decode(text.as_bytes())?;
    let mut strings = String::new();
    T::view_of(&record, &mut strings, view);
    Ok(f(view, &strings))
}

/// The records array of a page, each record viewed into `views`.
fn view_records<D: Dataset>(
    views: &mut Vec<<D::Record as Table>::View>,
    records: &mut Vec<Range<usize>>,
    walk: &mut Walk<'_, '_>,
) -> Scan<()> {
    records.clear();
    let mut n = 0;
    walk.container(b'[', b']', |walk| {
        if n == views.len() {
            views.push(Default::default());
        }
        let start = walk.i;
        <D::Record as Table>::view_into(&mut views[n], walk)?;
        records.push(start..walk.i);
        n += 1;
        Ok(())
    })?;
    views.truncate(n);
    Ok(())
}

/// A page the walk was not sure of: decoded by serde (its error is the
/// page's). Its records are written out again as JSON, then their
/// strings after them, for the views' spans.
#[cold]
fn from_typed<D: Dataset>(
    body: &[u8],
    views: &mut Vec<<D::Record as Table>::View>,
) -> Result<ViewPage, DecodeError> {
    let page = crate::decode::decode_page::<D>(body)?;
    let mut text = String::new();
    let mut records = Vec::with_capacity(page.records.len());
    for record in &page.records {
        let start = text.len();
        text.push_str(&serde_json::to_string(record).expect("a record serializes"));
        records.push(start..text.len());
    }
    views.truncate(page.records.len());
    views.resize_with(page.records.len(), Default::default);
    for (record, view) in page.records.iter().zip(views.iter_mut()) {
        <D::Record as Table>::view_of(record, &mut text, view);
    }
    Ok(ViewPage {
        text,
        records,
        has_next: page.has_next,
        next_starting_after: page.next_starting_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skill_clusters::SkillClusterView;
    use crate::{EmployeeSkillClusters, SkillClusters};

    fn rows(view: &<EmployeeSkillClusters as Table>::View, text: &str) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        EmployeeSkillClusters::view_rows(view, text, &mut |row, _| {
            rows.push(row.iter().map(ToString::to_string).collect());
            Ok::<(), ()>(())
        })
        .unwrap();
        rows
    }

    #[test]
    fn escapes_are_undone_in_cells_and_unknown_fields_reach_the_extra_cell() {
        let body = br#"{"has_next":false,"records":[{"external_id":"e\u00e9\"1","team":"a\tb",
            "skill_clusters":[{"skill_cluster_name":"Data \"Power\"","sources":["x\/y","z"],
            "current_skills":[{"name":"SQL","weight":0.5}]}]}]}"#;
        let mut views = Vec::new();
        let page = decode_view_page::<SkillClusters>(body.to_vec(), &mut views).unwrap();
        let row = &rows(&views[0], &page.text)[0];
        assert_eq!(row[0], "e\u{e9}\"1");
        assert_eq!(row[2], "Data \"Power\"");
        assert_eq!(row[6], "x/y;z");
        assert_eq!(row[9], "SQL");
        assert_eq!(row[12], r#"{"employee.team":"a\tb","skill.weight":0.5}"#);
        let mut keys = Vec::new();
        views[0]
            .unknown
            .for_each(&page.text, &mut |key, _| keys.push(key));
        assert_eq!(keys, ["team"]);
    }

    #[test]
    fn a_page_the_walk_is_unsure_of_is_viewed_from_its_decoded_records() {
        // A surrogate pair, and an unknown field nested deeper than the
        // walk decides: serde decodes the page, the views read its records.
        let deep = format!("{}1{}", "[".repeat(62), "]".repeat(62));
        let body = format!(
            r#"{{"has_next":true,"next_starting_after":"c","records":[{{"external_id":"\ud83d\ude00","deep":{deep}}}]}}"#
        );
        let mut views = Vec::new();
        let page = decode_view_page::<SkillClusters>(body.into_bytes(), &mut views).unwrap();
        // The records as serde writes them, not as sent.
        assert!(!page.text.contains("\\ud83d"), "{}", page.text);
        assert!(page.has_next);
        assert_eq!(page.next_starting_after.as_deref(), Some("c"));
        let row = &rows(&views[0], &page.text)[0];
        assert_eq!(row[0], "\u{1f600}");
        assert!(
            row[12].starts_with(r#"{"employee.deep":[[["#),
            "{}",
            row[12]
        );
        let record: serde_json::Value =
            serde_json::from_str(&page.text[page.records[0].clone()]).unwrap();
        assert_eq!(record["external_id"], "\u{1f600}");
    }

    #[test]
    fn records_handed_before_the_walk_gave_up_are_handed_again_after_a_restart() {
        // A surrogate pair: serde reads it, the walk leaves it to serde.
        let body = br#"{"has_next":true,"records":[{"external_id":"e1"},{"external_id":"\ud83d\ude00"}],"next_starting_after":"c"}"#;
        let mut seen = Vec::new();
        let page = view_page_each::<SkillClusters>(body.to_vec(), |record| match record {
            EachRecord::Record(view, text) => seen.push(view.external_id.text(text).into_owned()),
            EachRecord::Restart => seen.push("restart".to_owned()),
        })
        .unwrap();
        assert_eq!(seen, ["e1", "restart", "e1", "\u{1f600}"]);
        assert!(page.has_next);
        assert_eq!(page.next_starting_after.as_deref(), Some("c"));
        assert_eq!(
            &page.text[page.records[0].clone()],
            r#"{"external_id":"e1"}"#
        );

        // A bad record after a good one: the decoders' error, after a
        // restart.
        let bad = br#"{"has_next":false,"records":[{"external_id":"e1"},{"external_id":2}]}"#;
        let mut restarts = 0;
        let err = view_page_each::<SkillClusters>(bad.to_vec(), |record| {
            restarts += usize::from(matches!(record, EachRecord::Restart));
        })
        .unwrap_err();
        let decoded = crate::decode_page::<SkillClusters>(bad).unwrap_err();
        assert_eq!(err.to_string(), decoded.to_string());
        assert_eq!(restarts, 1);
    }

    #[test]
    fn a_bad_page_gets_the_decoders_error() {
        let mut views = Vec::new();
        for body in [
            &br#"{"has_next":false,"records":[{"external_id":5}]}"#[..],
            br#"{"records":[]}"#,
            b"\xff",
        ] {
            let err = decode_view_page::<SkillClusters>(body.to_vec(), &mut views).unwrap_err();
            let expected = crate::decode_page::<SkillClusters>(body).unwrap_err();
            assert_eq!(err.to_string(), expected.to_string());
        }
    }

    #[test]
    fn a_page_too_large_for_spans_is_refused_with_what_to_do() {
        let mut body = br#"{"has_next":false,"records":[]}"#.to_vec();
        body.resize(MAX_VIEWED_BODY + 1, b' ');
        let err = decode_view_page::<SkillClusters>(body, &mut Vec::new()).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("larger than a table export takes (512 MiB)"),
            "{message}"
        );
        assert!(message.contains("ask for smaller pages"), "{message}");
    }

    #[test]
    fn one_view_reused_record_after_record_keeps_a_few_surplus_elements_in_place() {
        let spare_clusters = spares::count::<SkillClusterView>;
        let before = spare_clusters();
        let long =
            r#"{"external_id":"a","skill_clusters":[{},{},{},{},{},{},{"domain_name":"d"}]}"#;
        let short = r#"{"external_id":"b","skill_clusters":[{"domain_name":"e"}]}"#;
        let body = format!(r#"{{"has_next":false,"records":[{long},{short}]}}"#);
        let mut domains = Vec::new();
        view_page_each::<SkillClusters>(body.into_bytes(), |record| {
            if let EachRecord::Record(view, text) = record {
                let clusters = view.skill_clusters.as_deref().unwrap();
                let last = clusters.last().unwrap();
                domains.push((
                    clusters.len(),
                    last.domain_name.unwrap().text(text).into_owned(),
                ));
            }
        })
        .unwrap();
        assert_eq!(domains, [(7, "d".to_owned()), (1, "e".to_owned())]);
        // Of the six the short list let go of, all but IN_PLACE went to
        // the spares.
        assert_eq!(spare_clusters(), before + 6 - IN_PLACE);
        // One record at a time from its text, over the same view.
        let len = view_record::<EmployeeSkillClusters, _>(long, |view, _| {
            view.skill_clusters.as_deref().unwrap().len()
        })
        .unwrap();
        assert_eq!(len, 7);
        assert_eq!(spare_clusters(), before, "the longer list took them back");
    }

    #[test]
    fn a_shorter_list_hands_its_surplus_to_the_spares_and_a_longer_one_takes_it_back() {
        let spare_clusters = spares::count::<SkillClusterView>;
        let before = spare_clusters();
        let mut views = Vec::new();
        let long = br#"{"has_next":false,"records":[{"external_id":"a","skill_clusters":[{"sources":["project"]},{},{},{},{},{},{}]}]}"#;
        decode_view_page::<SkillClusters>(long.to_vec(), &mut views).unwrap();
        let short = br#"{"has_next":false,"records":[{"external_id":"b","skill_clusters":[{}]}]}"#;
        let page = decode_view_page::<SkillClusters>(short.to_vec(), &mut views).unwrap();
        let clusters = views[0].skill_clusters.as_ref().unwrap();
        assert_eq!(clusters.len(), 1);
        assert_eq!(clusters.items.len(), 1, "the surplus left the list");
        assert_eq!(spare_clusters(), before + 6);
        assert_eq!(views[0].external_id.text(&page.text), "b");

        // A longer list takes the spares back, and the record reads right.
        let page = decode_view_page::<SkillClusters>(long.to_vec(), &mut views).unwrap();
        let clusters = views[0].skill_clusters.as_ref().unwrap();
        assert_eq!(clusters.len(), 7);
        assert_eq!(spare_clusters(), before);
        let sources = clusters[0].sources.as_ref().unwrap();
        assert_eq!(sources.len(), 1);
        assert_eq!(sources[0].text(&page.text), "project");
        assert!(clusters[1].sources.is_none());
    }
}

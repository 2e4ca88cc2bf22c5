//! A dataset is a declaration: everything the generic export path needs to
//! know about one TechWolf export, as types and constants.

use std::borrow::Cow;
use std::fmt::Debug;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::validate::Validate;

/// The HTTP method of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET` (the query carries the parameters; no body).
    Get,
    /// `POST` with a JSON body.
    Post,
}

impl Method {
    /// `GET` or `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// How an export hands out its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Paging {
    /// Pages of `records` with `has_next` and `next_starting_after`; the
    /// request carries `limit` and `starting_after`.
    Cursor,
    /// One whole document in one response, with no `limit` and no cursor
    /// (the organisational-units tree): the records are the array under the
    /// key `records`, and the document's other keys are kept beside them.
    Document {
        /// The key of the records array, e.g. `organisational_structure`.
        records: &'static str,
    },
}

/// One TechWolf export, declared.
///
/// The generic machinery (the client, checkpoints, writers, the command,
/// the schemas) works from this alone; see ARCHITECTURE.md for what else a
/// new dataset touches.
pub trait Dataset: Send + Sync + 'static {
    /// The name used by the command, schema files and checkpoints, e.g.
    /// `skill-profiles`.
    const NAME: &'static str;
    /// One line on what the export holds (the command's help).
    const ABOUT: &'static str;
    /// The HTTP method.
    const METHOD: Method;
    /// The path, appended to the tenant's base URL.
    const PATH: &'static str;
    /// Cursor pages or one whole document.
    const PAGING: Paging;
    /// The largest `limit` the export takes.
    const MAX_LIMIT: u32;
    /// The record fields that identify a record: one field, or a pair.
    /// With a single key field, that field's value of a page's last record
    /// is the cursor fallback for servers that send no
    /// `next_starting_after`.
    const KEY: &'static [&'static str];

    /// The body fields besides `limit` and `starting_after`.
    type Body: Serialize
        + DeserializeOwned
        + JsonSchema
        + Clone
        + Debug
        + Default
        + PartialEq
        + Send
        + Sync
        + 'static;
    /// The query parameters (see [`crate::query_pairs`]).
    type Query: Serialize
        + DeserializeOwned
        + JsonSchema
        + Clone
        + Debug
        + Default
        + PartialEq
        + Send
        + Sync
        + 'static;
    /// One record.
    type Record: Serialize
        + DeserializeOwned
        + Validate
        + crate::DecodeInto
        + crate::Describe
        + JsonSchema
        + Table
        + Clone
        + Debug
        + PartialEq
        + Send
        + Sync
        + 'static;
}

/// The kind of a [`Table`] column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Text (ids, names, enum values, joined lists, compact JSON).
    Text,
    /// A whole number (`i64`).
    Integer,
    /// A number (`f64`).
    Float,
    /// `true` or `false`.
    Boolean,
}

/// The callback of [`Table::rows`]: receives one row's fields, and how
/// many of its leading fields are those of the row before it of the same
/// record (see [`Table::rows`]).
pub type EmitRow<'e, E> = dyn FnMut(&[Cell<'_>], usize) -> Result<(), E> + 'e;

/// One field of a [`Table`] row: text borrowed from the record, or a value
/// (a number, a joined list, a nested value) that a writer formats
/// straight into its output with [`Cell::write_to`]. Building a row
/// allocates nothing, whatever its fields.
///
/// ```
/// use tw_model::Cell;
///
/// let number = serde_json::Number::from_f64(0.5).unwrap();
/// let mut out = Vec::new();
/// for cell in [Cell::Text("e1"), Cell::Integer(3), Cell::Number(&number), Cell::Bool(true)] {
///     cell.write_to(&mut out);
///     out.push(b'|');
/// }
/// assert_eq!(out, b"e1|3|0.5|true|");
/// assert_eq!(Cell::Integer(-7).to_string(), "-7");
/// ```
#[derive(Clone, Copy)]
pub enum Cell<'a> {
    /// Text as it is; a blank field is `Text("")`.
    Text(&'a str),
    /// Text known to hold no `"` and no character below U+0020 (the text
    /// of a JSON string without escapes): a writer need not look for
    /// quotes or line breaks in it.
    Plain(&'a str),
    /// A whole number.
    Integer(i64),
    /// A number as JSON writes it (a whole one as its integer).
    Number(&'a serde_json::Number),
    /// `true` or `false`.
    Bool(bool),
    /// The labels of a list, joined with `;`.
    Joined(&'a dyn Labels),
    /// A JSON string's text as sent, escapes and all: written with its
    /// escapes undone (see [`crate::view::Span::cell`]).
    Escaped(&'a str),
    /// Strings of a list (spans of the page `.1`), joined with `;`.
    Spans(&'a [crate::view::Span], &'a str),
    /// A nested value as compact JSON.
    Json(&'a dyn ToJson),
}

impl<'a> Cell<'a> {
    /// A blank field.
    pub const BLANK: Cell<'static> = Cell::Text("");

    /// Appends the field's text to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match *self {
            Cell::Text(text) | Cell::Plain(text) => out.extend_from_slice(text.as_bytes()),
            Cell::Integer(n) => push_integer(out, n),
            Cell::Number(n) => match n.as_i64() {
                Some(whole) => push_integer(out, whole),
                // Floats keep serde_json's shortest text.
                None => {
                    use std::io::Write as _;
                    write!(out, "{n}").expect("writing to a Vec never fails");
                }
            },
            Cell::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Cell::Joined(labels) => {
                let mut first = true;
                labels.for_each_label(&mut |label| {
                    if !first {
                        out.push(b';');
                    }
                    first = false;
                    out.extend_from_slice(label.as_bytes());
                });
            }
            Cell::Json(value) => value.write_json(out),
            Cell::Escaped(raw) => crate::decode_into::push_unescaped(out, raw),
            Cell::Spans(spans, text) => {
                for (i, span) in spans.iter().enumerate() {
                    if i > 0 {
                        out.push(b';');
                    }
                    span.cell(text).write_to(out);
                }
            }
        }
    }

    /// The field's text: borrowed for [`Cell::Text`], built for the rest.
    pub fn to_text(&self) -> Cow<'a, str> {
        match *self {
            Cell::Text(text) | Cell::Plain(text) => Cow::Borrowed(text),
            other => {
                let mut out = Vec::new();
                other.write_to(&mut out);
                Cow::Owned(String::from_utf8(out).expect("cells write UTF-8"))
            }
        }
    }

    /// The bytes of the field's text: borrowed for [`Cell::Text`], else
    /// written into `scratch` (cleared first), so a writer that keeps one
    /// scratch buffer allocates nothing per field.
    #[inline]
    pub fn text_in<'s>(&'s self, scratch: &'s mut Vec<u8>) -> &'s [u8] {
        match self {
            Cell::Text(text) | Cell::Plain(text) => text.as_bytes(),
            other => other.written_in(scratch),
        }
    }

    /// [`Cell::text_in`] for cells that are not text, out of line.
    #[inline(never)]
    fn written_in<'s>(&self, scratch: &'s mut Vec<u8>) -> &'s [u8] {
        scratch.clear();
        self.write_to(scratch);
        scratch
    }
}

/// Appends `n` in decimal: 0 to 100 (levels, counts, versions) from one
/// static string of those numbers, others through `Display`.
fn push_integer(out: &mut Vec<u8>, n: i64) {
    const NUMBERS: &str = "0123456789101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899100";
    let small = usize::try_from(n).ok().and_then(|n| {
        let (start, len) = match n {
            0..=9 => (n, 1),
            10..=99 => (10 + 2 * (n - 10), 2),
            100 => (190, 3),
            _ => return None,
        };
        NUMBERS.get(start..start + len)
    });
    match small {
        Some(text) => out.extend_from_slice(text.as_bytes()),
        None => {
            use std::io::Write as _;
            write!(out, "{n}").expect("writing to a Vec never fails");
        }
    }
}

impl Default for Cell<'_> {
    fn default() -> Self {
        Cell::BLANK
    }
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(text: &'a str) -> Self {
        Cell::Text(text)
    }
}

impl std::fmt::Display for Cell<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl Debug for Cell<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Debug::fmt(&self.to_text(), f)
    }
}

/// Two cells are equal when their text is.
impl PartialEq for Cell<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.to_text() == other.to_text()
    }
}

/// A field's text as a writer takes it: the bytes of a string, or of a
/// [`Cell`] written into `scratch`. Writers take rows of either.
pub trait FieldText {
    /// The field's bytes (borrowed, or written into `scratch`).
    fn field_text<'s>(&'s self, scratch: &'s mut Vec<u8>) -> &'s [u8];

    /// Appends the field's text to `out` and returns `true` when the text
    /// surely holds no `"` and no character below U+0020 (see
    /// [`Cell::Plain`]), so a writer need not search it for them; returns
    /// `false`, having appended nothing, when that is not known.
    #[inline]
    fn write_plain(&self, out: &mut Vec<u8>) -> bool {
        let _ = out;
        false
    }

    /// Appends the field's text with each `"` written twice (a quoted
    /// field's content) and returns `true`, for a field that can write it
    /// so in one go (a viewed list or object shown as JSON); returns
    /// `false`, having appended nothing, otherwise.
    #[inline]
    fn write_doubling_quotes(&self, out: &mut Vec<u8>) -> bool {
        let _ = out;
        false
    }
}

impl<T: AsRef<str> + ?Sized> FieldText for T {
    #[inline]
    fn field_text<'s>(&'s self, _: &'s mut Vec<u8>) -> &'s [u8] {
        self.as_ref().as_bytes()
    }
}

impl FieldText for Cell<'_> {
    #[inline]
    fn field_text<'s>(&'s self, scratch: &'s mut Vec<u8>) -> &'s [u8] {
        self.text_in(scratch)
    }

    /// Plain text, numbers, booleans, blanks, and lists of strings sent
    /// without escapes are written; other cells are not known to be plain.
    #[inline(always)]
    fn write_plain(&self, out: &mut Vec<u8>) -> bool {
        // Most cells: inline in the writer's loop.
        match *self {
            Cell::Plain(text) => {
                out.extend_from_slice(text.as_bytes());
                true
            }
            _ => self.write_other_plain(out),
        }
    }

    /// Nested values shown as JSON (see [`ToJson::write_json_doubling_quotes`]).
    #[inline]
    fn write_doubling_quotes(&self, out: &mut Vec<u8>) -> bool {
        match *self {
            Cell::Json(value) => value.write_json_doubling_quotes(out),
            _ => false,
        }
    }
}

impl Cell<'_> {
    /// [`FieldText::write_plain`] for cells other than [`Cell::Plain`],
    /// out of line.
    #[inline(never)]
    fn write_other_plain(&self, out: &mut Vec<u8>) -> bool {
        match *self {
            Cell::Plain(text) => out.extend_from_slice(text.as_bytes()),
            Cell::Text("") => {}
            Cell::Integer(n) => push_integer(out, n),
            Cell::Bool(_) | Cell::Number(_) => self.write_to(out),
            Cell::Spans(spans, text) => {
                let start = out.len();
                for (i, span) in spans.iter().enumerate() {
                    if span.is_escaped() {
                        out.truncate(start);
                        return false;
                    }
                    if i > 0 {
                        out.push(b';');
                    }
                    out.extend_from_slice(span.raw_bytes(text));
                }
            }
            _ => return false,
        }
        true
    }
}

/// A list whose elements' labels a [`Cell::Joined`] writes.
pub trait Labels {
    /// Calls `f` with each element's label, in order.
    fn for_each_label(&self, f: &mut dyn FnMut(&str));
}

/// A value a [`Cell::Json`] writes as compact JSON (any `Serialize`).
pub trait ToJson {
    /// Appends the value's compact JSON to `out`.
    fn write_json(&self, out: &mut Vec<u8>);

    /// Appends the value's compact JSON with each `"` written twice (the
    /// text of a quoted CSV field) and returns `true`; or returns `false`,
    /// having appended nothing, when it cannot (then a writer doubles the
    /// quotes of [`ToJson::write_json`]'s text itself). The default cannot.
    fn write_json_doubling_quotes(&self, out: &mut Vec<u8>) -> bool {
        let _ = out;
        false
    }
}

impl<T: Serialize + ?Sized> ToJson for T {
    fn write_json(&self, out: &mut Vec<u8>) {
        serde_json::to_writer(out, self).expect("model values serialize");
    }
}

/// A record type's CSV shape: its columns, and the rows of one record.
///
/// Every row has exactly `COLUMNS.len()` fields. A record whose nested
/// list is empty still gets one row (with the list's columns blank), so
/// every record appears in the table.
pub trait Table {
    /// The column names, in order.
    const COLUMNS: &'static [&'static str];

    /// The columns whose values are not text, by name, with their kind,
    /// for typed formats such as Parquet: a cell is blank (no value) or
    /// reads as its column's kind. Every other column is [`Kind::Text`]
    /// (ids, names, lists joined with `;`, nested JSON); a test checks each
    /// name here is one of [`Table::COLUMNS`].
    const TYPED: &'static [(&'static str, Kind)] = &[];

    /// The kind of every column, in the order of [`Table::COLUMNS`].
    fn kinds() -> Vec<Kind> {
        Self::COLUMNS
            .iter()
            .map(|column| {
                Self::TYPED
                    .iter()
                    .find(|(name, _)| name == column)
                    .map_or(Kind::Text, |&(_, kind)| kind)
            })
            .collect()
    }

    /// Calls `emit` once per row of this record, with the row's fields
    /// and a hint: how many leading fields are the same text as those of
    /// the row emitted just before it for this record. The hint is 0 for a
    /// record's first row, and 0 is always right; a larger hint lets a
    /// writer copy those fields as it wrote them a row ago (a skill row
    /// repeats its employee's and cluster's fields). A test holds every
    /// dataset's hints to the fields. The fields are [`Cell`]s borrowed
    /// from the record, so building a row allocates nothing.
    fn rows<E>(&self, emit: &mut EmitRow<'_, E>) -> Result<(), E>;

    /// What a table reads a record's rows from on the export path: the
    /// record's view ([`crate::view`]: its strings as spans of the page).
    type View: Default + Clone + Debug + Send + Sync + 'static;

    /// Reads the next record of `walk` into `view` (see
    /// [`crate::decode_view_page`]).
    #[doc(hidden)]
    fn view_into(view: &mut Self::View, walk: &mut crate::Walk<'_, '_>) -> crate::Scan<()>;

    /// The view of a typed record, its strings appended to `text`.
    #[doc(hidden)]
    fn view_of(record: &Self, text: &mut String, view: &mut Self::View);

    /// [`Table::rows`] of a viewed record, whose strings are in `text`
    /// (the page it was viewed in). Both give the same rows.
    fn view_rows<E>(view: &Self::View, text: &str, emit: &mut EmitRow<'_, E>) -> Result<(), E>;

    /// Adds the unknown fields of a viewed record (its strings in `text`)
    /// at `path` to `counts`: what
    /// [`crate::UnknownFields::add_viewed`] calls.
    #[doc(hidden)]
    fn count_unknown(
        view: &Self::View,
        text: &str,
        path: &crate::FieldPath<'_>,
        counts: &mut crate::UnknownFields,
    );
}

/// The [`Table`] items of a table written over views (`$view`, the
/// record's generated view type): the typed record's rows are its view's.
macro_rules! rows_over_views {
    ($view:ty) => {
        type View = $view;

        fn view_into(view: &mut $view, walk: &mut $crate::Walk<'_, '_>) -> $crate::Scan<()> {
            <Self as $crate::view::Viewable>::view_into(view, walk)
        }

        fn view_of(record: &Self, text: &mut String, view: &mut $view) {
            <Self as $crate::view::Viewable>::view_of(record, text, view)
        }

        fn count_unknown(
            view: &$view,
            text: &str,
            path: &$crate::FieldPath<'_>,
            counts: &mut $crate::UnknownFields,
        ) {
            <Self as $crate::view::Viewable>::count_view(view, text, path, counts)
        }

        fn rows<E>(&self, emit: &mut $crate::EmitRow<'_, E>) -> Result<(), E> {
            let mut text = String::new();
            let mut view = <$view>::default();
            <Self as $crate::view::Viewable>::view_of(self, &mut text, &mut view);
            <Self as $crate::Table>::view_rows(&view, &text, emit)
        }
    };
}

pub(crate) use rows_over_views;

/// A model object whose unknown fields (those this release does not
/// know, kept in `extra`) can be listed; `wire_struct!` types implement it.
pub trait Unknown {
    /// Calls `f` with each unknown field (not the remembered `null`s of
    /// known ones).
    fn for_each_unknown<'a>(&'a self, f: &mut dyn FnMut(&'a str, &'a serde_json::Value));

    /// Calls `f` with each unknown field as [`Unknown::for_each_unknown`]
    /// does, its value as a [`FieldValue`]. The default gives each value
    /// decoded; a viewed object gives, where it can, the text the server
    /// sent for a value, without decoding it. [`cells::extra`] writes from
    /// this.
    fn for_each_unknown_field<'a>(&'a self, f: &mut dyn FnMut(&'a str, FieldValue<'a>)) {
        self.for_each_unknown(&mut |key, value| f(key, FieldValue::Decoded(value)));
    }
}

/// The value of an unknown field, as [`Unknown::for_each_unknown_field`]
/// gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// The value, decoded.
    Decoded(&'a serde_json::Value),
    /// The value's JSON text as the server sent it, which is exactly the
    /// compact JSON serde_json writes for the decoded value (a string
    /// without escapes, a short number, `true`, `false`, `null`).
    Json(&'a str),
}

/// Helpers for writing [`Table`] impls.
pub mod cells {
    use std::borrow::Cow;

    use super::{Cell, FieldValue, Labels, ToJson, Unknown};
    use crate::view::{InPage, List, ObjectView, Span};

    /// The `extra` cell of a row: the unknown fields of each object the row
    /// is made of, as one compact JSON object whose keys are
    /// `<level>.<field>` (`employee.employee_group`, `skill.confidence`);
    /// blank when there are none. Nothing the server sent is dropped from
    /// a CSV without a trace.
    pub fn extra(levels: &[(&str, &dyn Unknown)]) -> Cow<'static, str> {
        // Most rows have none: look before building anything.
        if !levels.iter().any(|(_, object)| has_unknown(*object)) {
            return Cow::Borrowed("");
        }
        let mut out = String::with_capacity(64);
        out.push('{');
        push_fields(&mut out, levels);
        out.push('}');
        Cow::Owned(out)
    }

    /// Whether `object` has a field the model does not know.
    fn has_unknown(object: &dyn Unknown) -> bool {
        let mut any = false;
        object.for_each_unknown_field(&mut |_, _| any = true);
        any
    }

    /// Appends the unknown fields of `levels` as JSON members (`"<level>.
    /// <field>":value`, comma-separated), written straight out, with no map
    /// of cloned values, in the order a map keyed by `<level>.<field>` has
    /// (sorted by that key; of equal keys, the last).
    fn push_fields(out: &mut String, levels: &[(&str, &dyn Unknown)]) {
        // One object with one field (a row that adds a field the API
        // started sending): nothing to sort. The first field is written as
        // it comes; a second one undoes it.
        if let [(level, object)] = levels {
            let start = out.len();
            let mut count = 0;
            object.for_each_unknown_field(&mut |key, value| {
                count += 1;
                if count == 1 {
                    push_field(out, level, key, value);
                }
            });
            if count == 1 {
                return;
            }
            out.truncate(start);
        }
        let mut found: Vec<(&str, &str, FieldValue<'_>)> = Vec::new();
        for (level, object) in levels {
            object.for_each_unknown_field(&mut |key, value| found.push((level, key, value)));
        }
        found.reverse();
        found.sort_by(|a, b| joined_key(a.0, a.1).cmp(joined_key(b.0, b.1)));
        found.dedup_by(|a, b| joined_key(a.0, a.1).eq(joined_key(b.0, b.1)));
        for (i, (level, key, value)) in found.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_field(out, level, key, value);
        }
    }

    /// Appends one member `"<level>.<key>":value`.
    fn push_field(out: &mut String, level: &str, key: &str, value: FieldValue<'_>) {
        // The key `<level>.<key>` as one JSON string: escaping is per
        // character, so the two parts are escaped one after the other.
        out.push('"');
        push_json_contents(out, level);
        out.push('.');
        push_json_contents(out, key);
        out.push_str("\":");
        let value = match value {
            FieldValue::Json(text) => return out.push_str(text),
            FieldValue::Decoded(value) => value,
        };
        match value {
            serde_json::Value::String(text) => {
                out.push('"');
                push_json_contents(out, text);
                out.push('"');
            }
            // A number's `Display` is its JSON (serde_json prints both
            // with the same integer and shortest-float formatting), with
            // no serializer in between.
            serde_json::Value::Number(n) => {
                use std::fmt::Write as _;
                write!(out, "{n}").expect("writing to a String never fails");
            }
            // `Display` writes the compact JSON `to_writer` does, and
            // straight into text: no UTF-8 check of what was written.
            other => {
                use std::fmt::Write as _;
                write!(out, "{other}").expect("writing to a String never fails");
            }
        }
    }

    /// The cell of `levels` when the last level has unknown fields, given
    /// `above`, the cell of the levels above it. When the last level's
    /// name sorts after every other's (`skill` below `employee` and
    /// `cluster`), so do all its keys (level names hold no `.`), and its
    /// fields are appended to `above`'s; when it sorts before every
    /// other's (`cluster` below `employee`), they are put in front. Either
    /// way a row below a parent with unknown fields does not collect and
    /// sort the parent's again.
    fn below<'a>(above: &str, levels: &[(&str, &dyn Unknown)]) -> Cow<'a, str> {
        let Some(((last, object), others)) = levels.split_last() else {
            return extra(levels);
        };
        // Names are a few bytes: looked at byte by byte, not by `memchr`.
        let dotless = |name: &str| name.bytes().all(|b| b != b'.');
        if !dotless(last) || !others.iter().all(|(level, _)| dotless(level)) {
            return extra(levels);
        }
        let after = others
            .iter()
            .all(|(level, _)| level_order(level, last).is_lt());
        let before = others
            .iter()
            .all(|(level, _)| level_order(level, last).is_gt());
        // `above` is blank, or an object with at least one member (`{}`
        // counts as blank).
        let members = above
            .strip_prefix('{')
            .and_then(|above| above.strip_suffix('}'))
            .filter(|members| !members.is_empty());
        let mut out = String::with_capacity(above.len() + 48);
        out.push('{');
        match (members, after, before) {
            (None, _, _) => push_fields(&mut out, &[(last, *object)]),
            (Some(members), true, _) => {
                out.push_str(members);
                out.push(',');
                push_fields(&mut out, &[(last, *object)]);
            }
            (Some(members), false, true) => {
                push_fields(&mut out, &[(last, *object)]);
                out.push(',');
                out.push_str(members);
            }
            (Some(_), false, false) => return extra(levels),
        }
        out.push('}');
        Cow::Owned(out)
    }

    /// [`extra`] of a row made of viewed objects, whose strings are in
    /// `text` (the page they were viewed in).
    pub fn extra_viewed<const N: usize>(
        text: &str,
        levels: [(&str, &dyn ObjectView); N],
    ) -> Cow<'static, str> {
        if levels
            .iter()
            .all(|(_, object)| object.unknowns().is_empty())
        {
            return Cow::Borrowed("");
        }
        in_page(text, levels, |levels| extra(levels))
    }

    /// Calls `f` with `levels` as objects that list their unknown fields,
    /// their keys read from `text`.
    fn in_page<const N: usize, R>(
        text: &str,
        levels: [(&str, &dyn ObjectView); N],
        f: impl FnOnce(&[(&str, &dyn Unknown)]) -> R,
    ) -> R {
        let in_page = levels.map(|(level, object)| (level, InPage(object, text)));
        f(&in_page
            .each_ref()
            .map(|(level, object)| (*level, object as &dyn Unknown)))
    }

    /// [`extra_below`] of a row made of viewed objects.
    pub fn extra_viewed_below<'a, const N: usize>(
        above: &'a str,
        text: &str,
        levels: [(&str, &dyn ObjectView); N],
    ) -> Cow<'a, str> {
        match levels.last() {
            Some((_, last)) if !last.unknowns().is_empty() => {
                in_page(text, levels, |levels| below(above, levels))
            }
            _ => Cow::Borrowed(above),
        }
    }

    /// [`extra`] of a row made of viewed objects (`levels`) and of the
    /// viewed items of `lists`, whose strings are in `text`: lists whose
    /// items a column shows by their labels only (a `;`-joined cell of
    /// ids), so that what else an item carries is not lost. Each item with
    /// unknown fields is a level of its own, `<list>[<i>]`
    /// (`goal.target_skills[0]` for the first item of a goal's
    /// `target_skills`, its fields keyed `goal.target_skills[0].<field>`).
    pub fn extra_viewed_with_items<const N: usize>(
        text: &str,
        levels: [(&str, &dyn ObjectView); N],
        lists: &[(&str, &dyn ViewedItems)],
    ) -> Cow<'static, str> {
        let mut items: Vec<(String, InPage<'_>)> = Vec::new();
        for (list, values) in lists {
            values.for_each_item(&mut |i, item| {
                let item = InPage(item, text);
                if has_unknown(&item) {
                    items.push((format!("{list}[{i}]"), item));
                }
            });
        }
        if items.is_empty() {
            return extra_viewed(text, levels);
        }
        in_page(text, levels, |levels| {
            let mut all: Vec<(&str, &dyn Unknown)> = levels.to_vec();
            all.extend(
                items
                    .iter()
                    .map(|(level, item)| (level.as_str(), item as &dyn Unknown)),
            );
            extra(&all)
        })
    }

    /// A viewed list whose items may carry unknown fields (see
    /// [`extra_viewed_with_items`]).
    pub trait ViewedItems {
        /// Calls `f` with each item and its index, in order.
        fn for_each_item<'a>(&'a self, f: &mut dyn FnMut(usize, &'a dyn ObjectView));
    }

    /// An optional viewed list (absent: no items).
    impl<V: ObjectView> ViewedItems for Option<List<V>> {
        fn for_each_item<'a>(&'a self, f: &mut dyn FnMut(usize, &'a dyn ObjectView)) {
            for (i, item) in self.iter().flat_map(|list| list.iter()).enumerate() {
                f(i, item);
            }
        }
    }

    /// The labels of a viewed list's items, each a string of the item
    /// (`label` picks it), for a [`Cell::Joined`].
    #[derive(Debug)]
    pub struct ViewedLabels<'a, V> {
        list: &'a [V],
        text: &'a str,
        label: fn(&V) -> Span,
    }

    impl<'a, V> ViewedLabels<'a, V> {
        /// The labels of `list` (absent: none), whose strings are in `text`.
        pub fn new(list: &'a Option<List<V>>, text: &'a str, label: fn(&V) -> Span) -> Self {
            let list = list.as_deref().unwrap_or_default();
            ViewedLabels { list, text, label }
        }

        /// The list's cell: blank for none, the one label's text, or the
        /// labels joined with `;`.
        pub fn cell(&self) -> Cell<'_> {
            match self.list {
                [] => Cell::BLANK,
                [one] => (self.label)(one).cell(self.text),
                _ => Cell::Joined(self),
            }
        }
    }

    impl<V> Labels for ViewedLabels<'_, V> {
        fn for_each_label(&self, f: &mut dyn FnMut(&str)) {
            for item in self.list {
                // Borrowed from the page; a label sent with escapes (rare)
                // is undone into a string of its own.
                f(&(self.label)(item).text(self.text));
            }
        }
    }

    /// An optional string of a view: its text (see
    /// [`crate::view::Span::cell`]), or blank.
    #[inline]
    pub fn span<'a>(value: &Option<Span>, text: &'a str) -> Cell<'a> {
        value.map_or(Cell::BLANK, |span| span.cell(text))
    }

    /// An optional list of strings of a view, joined with `;`; blank when
    /// absent.
    #[inline]
    pub fn spans<'a>(value: &'a Option<List<Span>>, text: &'a str) -> Cell<'a> {
        value
            .as_ref()
            .map_or(Cell::BLANK, |list| Cell::Spans(list, text))
    }

    /// The `extra` cell of a row made of `levels`, given `above`: the cell
    /// of the same levels without the last. When the last level has no
    /// unknown fields the two cells are the same, and `above` is borrowed:
    /// a nested table builds its parents' JSON once, not once per row.
    pub fn extra_below<'a>(above: &'a str, levels: &[(&str, &dyn Unknown)]) -> Cow<'a, str> {
        if levels.last().is_some_and(|(_, last)| has_unknown(*last)) {
            below(above, levels)
        } else {
            Cow::Borrowed(above)
        }
    }

    /// Appends `text` as the inside of a JSON string, escaped as serde_json
    /// escapes it (`"`, `\\` and control characters); most text needs
    /// none and is copied as it is.
    fn push_json_contents(out: &mut String, text: &str) {
        // Which bytes JSON escapes, looked up: one load and test per byte
        // instead of three comparisons.
        const ESCAPED: [bool; 256] = {
            let mut table = [false; 256];
            let mut b = 0;
            while b < 256 {
                table[b] = b < 0x20 || b == b'"' as usize || b == b'\\' as usize;
                b += 1;
            }
            table
        };
        let escaped = |bytes: &[u8]| bytes.iter().any(|&b| ESCAPED[usize::from(b)]);
        let bytes = text.as_bytes();
        let plain = match bytes.len() {
            // Eight bytes at a time, the last eight overlapping the ones
            // before: the scanner's test flags what JSON escapes, and
            // non-ASCII bytes too, so a flagged text is looked at again
            // byte by byte.
            8.. => {
                let word = |at: usize| {
                    let word = bytes[at..at + 8].try_into().expect("8 bytes");
                    crate::scan::special(u64::from_le_bytes(word))
                };
                let last = bytes.len() - 8;
                let flagged = (0..last).step_by(8).any(|at| word(at) != 0) || word(last) != 0;
                !flagged || !escaped(bytes)
            }
            _ => !escaped(bytes),
        };
        if !plain {
            let quoted = serde_json::to_string(text).expect("strings serialize");
            out.push_str(&quoted[1..quoted.len() - 1]);
        } else {
            out.push_str(text);
        }
    }

    /// How the keys of two levels' fields sort: `<a>.` against `<b>.`
    /// (as [`joined_key`] orders them), for level names without a `.`,
    /// compared as slices.
    fn level_order(a: &str, b: &str) -> std::cmp::Ordering {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let n = a.len().min(b.len());
        a[..n].cmp(&b[..n]).then_with(|| {
            // Past the shorter name, its key goes on with the `.`.
            let next = |name: &[u8]| name.get(n).copied().unwrap_or(b'.');
            next(a).cmp(&next(b))
        })
    }

    /// The bytes of the key `<level>.<key>`, without building it.
    fn joined_key<'a>(level: &'a str, key: &'a str) -> impl Iterator<Item = u8> + 'a {
        level
            .bytes()
            .chain(std::iter::once(b'.'))
            .chain(key.bytes())
    }

    /// A nested value as compact JSON (a viewed list or object's
    /// [`crate::view::ViewJson`], or any `Serialize` value), or blank.
    pub fn json<T: ToJson>(value: Option<&T>) -> Cell<'_> {
        value.map_or(Cell::BLANK, |v| Cell::Json(v))
    }

    /// A number or boolean, as JSON writes it, or blank.
    pub fn shown<'a, T: Shown<'a>>(value: Option<T>) -> Cell<'a> {
        value.map_or(Cell::BLANK, Shown::shown)
    }

    /// A value [`shown`] writes: `i64`, `bool`, `&serde_json::Number`.
    pub trait Shown<'a> {
        /// The value's cell.
        fn shown(self) -> Cell<'a>;
    }

    impl<'a> Shown<'a> for i64 {
        fn shown(self) -> Cell<'a> {
            Cell::Integer(self)
        }
    }

    impl<'a> Shown<'a> for bool {
        fn shown(self) -> Cell<'a> {
            Cell::Bool(self)
        }
    }

    impl<'a> Shown<'a> for &'a serde_json::Number {
        fn shown(self) -> Cell<'a> {
            Cell::Number(self)
        }
    }
}

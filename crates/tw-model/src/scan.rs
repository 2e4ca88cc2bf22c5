//! The single-pass validating scanner: one walk over a page's bytes finds
//! the envelope, each record's byte range, and checks each record against
//! its dataset's model.
//!
//! The scanner is compiled from the model description ([`Shape`]) that the
//! `wire_struct!` macro generates next to the serde impls, so every dataset
//! gets it without code of its own. It reads bytes directly: no serde
//! visitors, strings skipped eight bytes at a time, each key tried first
//! as the field that came at its place in the record before (the declared
//! order until a record shows the server's).
//!
//! It is a fast path, not a second definition of validity. It answers
//! "valid" only when it is sure, and "not sure" for anything invalid or
//! unusual (an escaped key, a repeated key, a surrogate escape, a number at
//! the edge of its range, deep nesting); [`crate::decode_raw_page`] then
//! asks the serde decoders, so the verdict and the error message (with its
//! path) are exactly [`crate::decode_page`]'s. The property tests that hold
//! raw decoding to typed decoding hold the scanner to it too, and others
//! check that it decides every generated valid page itself.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::dataset::Table;
use crate::page::Layout;
use crate::shape::Shape;
use crate::validate::{MAX_EXTRA_DEPTH, RawPage};

/// Containers open at once, counted from the page, that the scanner
/// decides itself (serde_json stops at 128; decoding decides deeper ones).
const MAX_DEPTH: u32 = 100;

/// Nesting inside an unknown field's value that the scanner decides itself
/// (below [`MAX_EXTRA_DEPTH`], which decoding enforces).
const MAX_UNKNOWN_DEPTH: u32 = MAX_EXTRA_DEPTH - 4;

/// A record type's [`Shape`] compiled for scanning.
///
/// Get a model type's own with [`crate::Validate::scanner`] (compiled once
/// per type), or compile any shape with [`Scanner::new`].
///
/// ```
/// use tw_model::{EmployeeSkillClusters, Validate};
///
/// let scanner = EmployeeSkillClusters::scanner().unwrap();
/// assert!(scanner.check(r#"{"external_id": "e1", "team": "blue"}"#));
/// // Invalid (or merely unusual): not decided here; decoding decides.
/// assert!(!scanner.check(r#"{"team": "blue"}"#));
/// ```
#[derive(Debug)]
pub struct Scanner {
    nodes: Vec<Node>,
}

#[derive(Debug)]
enum Node {
    String,
    Integer,
    Number,
    Bool,
    Array(usize),
    Object(Object),
}

/// Known fields of an object the scanner represents: one bit each in
/// [`Object::required`] and in the walk's set of fields seen.
const MAX_FIELDS: usize = u64::BITS as usize;

/// A compiled object shape.
#[derive(Debug)]
pub(crate) struct Object {
    fields: Vec<Field>,
    /// One bit per required field.
    required: u64,
    /// The field expected next, by slot: slot 0 is the object's start,
    /// slot `k + 1` the place after field `k`. It starts as the declared
    /// order and learns the order the server sends (a slot whose guess
    /// missed takes the field that came), so keys are matched a word at a
    /// time whatever that order is. A guess is only ever a guess, checked
    /// against the key's bytes: it changes speed, never a verdict. Relaxed
    /// atomics: a scanner is shared by every thread. A slot for each of
    /// at most [`MAX_FIELDS`] fields and one for the start, so an index
    /// clamped to `MAX_FIELDS` needs no bounds check.
    after: [AtomicU8; MAX_FIELDS + 1],
}

#[derive(Debug)]
struct Field {
    name: &'static str,
    node: usize,
    /// Optional fields may be `null`; required ones are never `Option`s.
    nullable: bool,
    /// The key as it follows its opening quote (the name, then `"`), in
    /// little-endian words, the last one zero-padded; see [`Field::is_at`].
    words: Vec<u64>,
    /// Which bytes of the last word belong to the key.
    last_mask: u64,
}

impl Field {
    fn new(name: &'static str, node: usize, nullable: bool) -> Field {
        let mut key = name.as_bytes().to_vec();
        key.push(b'"');
        let used = key.len() % 8;
        let last_mask = if used == 0 {
            u64::MAX
        } else {
            (1u64 << (used * 8)) - 1
        };
        key.resize(key.len().div_ceil(8) * 8, 0);
        let words = key
            .chunks_exact(8)
            .map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes")))
            .collect();
        Field {
            name,
            node,
            nullable,
            words,
            last_mask,
        }
    }

    /// Whether `b[i..]` is this key and its closing quote: a word compare
    /// per eight bytes (a key is followed by at least `:` and a value, so
    /// the whole words are there except at the very end of a body).
    #[inline(always)]
    fn is_at(&self, b: &[u8], i: usize) -> bool {
        let Some(text) = b.get(i..i + self.words.len() * 8) else {
            return is_key(b, i, self.name.as_bytes());
        };
        let mut words = text.chunks_exact(8).zip(&self.words);
        let last = words.next_back();
        for (text, word) in words {
            if u64::from_le_bytes(text.try_into().expect("8 bytes")) != *word {
                return false;
            }
        }
        last.is_some_and(|(text, word)| {
            u64::from_le_bytes(text.try_into().expect("8 bytes")) & self.last_mask == *word
        })
    }
}

impl Object {
    /// The field expected at `slot` (see [`Object::after`]); an index
    /// past the last field when the object is expected to end there.
    #[inline(always)]
    fn guess(&self, slot: usize) -> usize {
        usize::from(self.after[slot.min(MAX_FIELDS)].load(Ordering::Relaxed))
    }

    /// The field named `key`, when the guess for `slot` was not it; the
    /// slot learns the field for next time.
    #[cold]
    fn find(&self, key: &[u8], slot: usize) -> Option<usize> {
        let found = self.fields.iter().position(|f| f.name.as_bytes() == key)?;
        if let Ok(index) = u8::try_from(found) {
            self.after[slot.min(MAX_FIELDS)].store(index, Ordering::Relaxed);
        }
        Some(found)
    }
}

impl Scanner {
    /// Compiles `shape`; `None` for a shape the scanner cannot represent
    /// (an object of more than 64 known fields, a dangling recursion).
    pub fn new(shape: &Shape) -> Option<Scanner> {
        let mut scanner = Scanner { nodes: Vec::new() };
        scanner.compile(shape, &mut Vec::new())?;
        Some(scanner)
    }

    fn compile(
        &mut self,
        shape: &Shape,
        objects: &mut Vec<(&'static str, usize)>,
    ) -> Option<usize> {
        let node = match shape {
            Shape::String | Shape::Enum(_) => Node::String,
            Shape::Integer => Node::Integer,
            Shape::Number => Node::Number,
            Shape::Bool => Node::Bool,
            Shape::Array(item) => Node::Array(self.compile(item, objects)?),
            Shape::Recursive(name) => {
                return objects
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, i)| *i);
            }
            Shape::Object { name, fields } => {
                if fields.len() > MAX_FIELDS {
                    return None;
                }
                let at = self.nodes.len();
                self.nodes.push(Node::Bool); // replaced below
                objects.push((name, at));
                let mut object = Object {
                    fields: Vec::with_capacity(fields.len()),
                    required: 0,
                    // At most MAX_FIELDS fields: every slot's index fits a byte.
                    after: std::array::from_fn(|slot| {
                        AtomicU8::new(u8::try_from(slot).unwrap_or(u8::MAX))
                    }),
                };
                for (i, field) in fields.iter().enumerate() {
                    let node = self.compile(&field.shape, objects)?;
                    object
                        .fields
                        .push(Field::new(field.name, node, !field.required));
                    if field.required {
                        object.required |= 1 << i;
                    }
                }
                objects.pop();
                self.nodes[at] = Node::Object(object);
                return Some(at);
            }
        };
        self.nodes.push(node);
        Some(self.nodes.len() - 1)
    }

    /// The record's node: the first compiled.
    const ROOT: usize = 0;

    /// The record's object shape (a model record is an object).
    pub(crate) fn root_object(&self) -> Option<&Object> {
        match self.nodes.first() {
            Some(Node::Object(object)) => Some(object),
            _ => None,
        }
    }

    /// Whether `record` (the text of one JSON value, whitespace around it
    /// allowed, UTF-8 checked) surely has this shape. `false` means invalid, or unusual enough to
    /// leave to the serde decoders (which then give the verdict).
    pub fn check(&self, record: impl AsRef<[u8]>) -> bool {
        let mut walk = Walk::new(record.as_ref(), None);
        walk.whole(|walk| walk.value(self, Self::ROOT)).is_ok()
    }

    /// Like [`Scanner::check`], and when it is sure the record is valid,
    /// adds the record's unknown fields to `counts`, exactly as
    /// [`crate::unknown_fields`] counts them from the decoded `Value`
    /// (which the caller falls back to when this returns `false`).
    ///
    /// ```
    /// use tw_model::{EmployeeSkillClusters, UnknownFields, Validate};
    ///
    /// let scanner = EmployeeSkillClusters::scanner().unwrap();
    /// let mut counts = UnknownFields::default();
    /// let record = r#"{"external_id":"e1","team":"b","skill_clusters":[{"weight":2}]}"#;
    /// assert!(scanner.count_unknown(record, &mut counts));
    /// assert_eq!(counts.counts()["skill_clusters[].weight"], 1);
    /// assert_eq!(counts.counts()["team"], 1);
    /// ```
    pub fn count_unknown(&self, record: impl AsRef<[u8]>, counts: &mut UnknownFields) -> bool {
        counts.start();
        let mut walk = Walk::new(record.as_ref(), Some(&mut *counts));
        let valid = walk.whole(|walk| walk.value(self, Self::ROOT)).is_ok();
        if valid {
            counts.commit();
        }
        valid
    }
}

/// Counts of the fields a model does not know, by JSON path (see
/// [`crate::unknown_fields`]), gathered by [`Scanner::count_unknown`]
/// without building the record. Reused across records, it allocates only
/// for a path it has not seen.
#[derive(Debug, Default, Clone)]
pub struct UnknownFields {
    counts: BTreeMap<String, u64>,
    /// The path of the value being walked: its parts (field names and
    /// `[]`), joined only when an unknown key is found, so a walk through
    /// known fields pushes and pops a pointer, not text.
    path: Vec<&'static str>,
    /// The current record's unknown paths (committed when it is valid).
    pending: Vec<Range<usize>>,
    /// Their texts, back to back.
    pending_text: String,
    /// Unknown keys of the objects being walked (a key repeated in one
    /// object counts once, as in a decoded `Value`).
    keys: Vec<(usize, usize)>,
    /// [`UnknownFields::add_at`]'s path, joined.
    joined: String,
}

impl UnknownFields {
    /// The counts so far.
    pub fn counts(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }

    /// The counts, consumed.
    pub fn into_counts(self) -> BTreeMap<String, u64> {
        self.counts
    }

    /// Starts from earlier counts (a resumed export).
    pub fn from_counts(counts: BTreeMap<String, u64>) -> Self {
        UnknownFields {
            counts,
            ..UnknownFields::default()
        }
    }

    /// Adds counts gathered elsewhere (another page's, counted as it was
    /// checked: [`crate::decode_raw_page_counting`]).
    pub fn add_counts(&mut self, counts: &BTreeMap<String, u64>) {
        for (path, n) in counts {
            add_count(&mut self.counts, path, *n);
        }
    }

    /// Adds the unknown fields of a decoded record (the slow path, for a
    /// record the scanner left to the decoders).
    pub fn add_value(&mut self, shape: &Shape, record: &serde_json::Value) {
        crate::shape::unknown_fields(shape, record, &mut self.counts);
    }

    /// Adds the unknown fields of one record's JSON text (of the record
    /// type whose `scanner` and `shape` these are): counted by the scanner
    /// when it is sure of the record, else from the decoded value; nothing
    /// for text that is not JSON.
    pub fn add_record(&mut self, scanner: Option<&Scanner>, shape: &Shape, text: &[u8]) {
        if scanner.is_some_and(|scanner| scanner.count_unknown(text, self)) {
            return;
        }
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(text) {
            self.add_value(shape, &value);
        }
    }

    /// Adds the unknown fields of one record viewed for its table (the
    /// view a CSV export writes rows from, see [`Table::count_unknown`]):
    /// counted from what the view kept of them, with no second walk of
    /// the record's text, exactly as [`crate::unknown_fields`] counts them
    /// from the decoded `Value`. `text` is the page the view's spans point
    /// into.
    ///
    /// ```
    /// use tw_model::{EmployeeSkillClusters, UnknownFields, view_record};
    ///
    /// let mut counts = UnknownFields::default();
    /// let record = r#"{"external_id":"e1","team":"b","skill_clusters":[{"weight":2}]}"#;
    /// view_record::<EmployeeSkillClusters, _>(record, |view, text| {
    ///     counts.add_viewed::<EmployeeSkillClusters>(view, text)
    /// })
    /// .unwrap();
    /// assert_eq!(counts.counts()["skill_clusters[].weight"], 1);
    /// assert_eq!(counts.counts()["team"], 1);
    /// ```
    pub fn add_viewed<T: Table>(&mut self, view: &T::View, text: &str) {
        T::count_unknown(view, text, &FieldPath::ROOT, self);
    }

    /// Counts the unknown field `key` of the object at `path` (generated
    /// code's step of [`UnknownFields::add_viewed`]).
    #[doc(hidden)]
    #[cold]
    #[inline(never)]
    pub fn add_at(&mut self, path: &FieldPath<'_>, key: &str) {
        self.joined.clear();
        path.join(&mut self.joined);
        push_path_part(&mut self.joined, 0, key);
        add_count(&mut self.counts, &self.joined, 1);
    }

    /// Forgets what a walk that was not decided left pending.
    fn start(&mut self) {
        self.path.clear();
        self.pending.clear();
        self.pending_text.clear();
        self.keys.clear();
    }

    fn commit(&mut self) {
        for range in self.pending.drain(..) {
            add_count(&mut self.counts, &self.pending_text[range], 1);
        }
        self.pending_text.clear();
    }
}

/// Where a value is in a record, as the parts of its JSON path (field
/// names and `[]` for a list's items), each part a frame of the walk that
/// reached it: descending costs nothing, and the parts are joined only
/// for an unknown key ([`UnknownFields::add_at`]). Internal to tw-model's
/// generated code.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct FieldPath<'a> {
    parent: Option<&'a FieldPath<'a>>,
    part: &'static str,
}

impl<'a> FieldPath<'a> {
    /// The record itself.
    pub const ROOT: FieldPath<'static> = FieldPath {
        parent: None,
        part: "",
    };

    /// The value of field `name` of the object here.
    #[inline]
    pub fn field(&'a self, name: &'static str) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            part: name,
        }
    }

    /// The items of the list here.
    #[inline]
    pub fn items(&'a self) -> FieldPath<'a> {
        self.field(ITEMS)
    }

    /// Appends the path to `out` (empty), as the scanner writes it.
    fn join(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.join(out);
            push_path_part(out, 0, self.part);
        }
    }
}

/// The list items' part of a JSON path.
pub(crate) const ITEMS: &str = "[]";

/// Appends `part` (a field name, or [`ITEMS`]) to the JSON path whose
/// text starts at `start` of `out`: `a.b[].c`, a `.` before each part but
/// the first and [`ITEMS`]. The one rule for the paths the drift report
/// counts, whoever counts them (the scanner, a view, a decoded `Value`).
pub(crate) fn push_path_part(out: &mut String, start: usize, part: &str) {
    if part != ITEMS && out.len() > start {
        out.push('.');
    }
    out.push_str(part);
}

/// Adds `n` to `path`'s count in `counts` (allocating only for a new path).
fn add_count(counts: &mut BTreeMap<String, u64>, path: &str, n: u64) {
    match counts.get_mut(path) {
        Some(total) => *total += n,
        None => {
            counts.insert(path.to_owned(), n);
        }
    }
}

/// Not decided by the scanner: invalid, or left to the decoders.
/// Not decided by the scanner (internal to tw-model's generated code).
#[doc(hidden)]
#[derive(Debug)]
pub struct Unsure;

/// A step of the walk (internal to tw-model's generated code).
#[doc(hidden)]
pub type Scan<T> = Result<T, Unsure>;

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Bytes that end the fast run of a string: `"`, `\`, control bytes and
/// bytes of non-ASCII characters (checked to be UTF-8 one by one), as the
/// high bit of their byte. The lowest flagged byte is always one of them:
/// `x - 1` per byte sets the high bit of a zero byte (a match, after the
/// XOR) or of a byte of 0x81 and up, which is non-ASCII and flagged anyway,
/// and a borrow only runs upward from a match below; so the usual `& !x`
/// of the zero-byte test is not needed.
#[inline(always)]
pub(crate) fn special(w: u64) -> u64 {
    ((w ^ (LO * u64::from(b'"'))).wrapping_sub(LO)
        | (w ^ (LO * u64::from(b'\\'))).wrapping_sub(LO)
        | w.wrapping_sub(LO * 0x20)
        | w)
        & HI
}

/// The length of the UTF-8 character at `b[i]` (a non-ASCII byte), when
/// it is one: the ranges of Unicode's table of well-formed sequences (no
/// overlong forms, no surrogates, nothing above U+10FFFF).
#[inline(always)]
fn utf8_char(b: &[u8], i: usize) -> Scan<usize> {
    let at = |j: usize, range: std::ops::RangeInclusive<u8>| {
        b.get(i + j).is_some_and(|c| range.contains(c))
    };
    let ok = match b[i] {
        0xC2..=0xDF => at(1, 0x80..=0xBF),
        0xE0 => at(1, 0xA0..=0xBF) && at(2, 0x80..=0xBF),
        0xE1..=0xEC | 0xEE..=0xEF => at(1, 0x80..=0xBF) && at(2, 0x80..=0xBF),
        0xED => at(1, 0x80..=0x9F) && at(2, 0x80..=0xBF),
        0xF0 => at(1, 0x90..=0xBF) && at(2, 0x80..=0xBF) && at(3, 0x80..=0xBF),
        0xF1..=0xF3 => at(1, 0x80..=0xBF) && at(2, 0x80..=0xBF) && at(3, 0x80..=0xBF),
        0xF4 => at(1, 0x80..=0x8F) && at(2, 0x80..=0xBF) && at(3, 0x80..=0xBF),
        _ => false,
    };
    match (ok, b[i]) {
        (false, _) => Err(Unsure),
        (true, 0xC2..=0xDF) => Ok(2),
        (true, 0xE0..=0xEF) => Ok(3),
        (true, _) => Ok(4),
    }
}

/// `b[i..]` starts with `name` (ASCII, no quotes) then a closing quote;
/// compared eight bytes at a time.
#[inline(always)]
fn is_key(b: &[u8], i: usize, name: &[u8]) -> bool {
    let Some(text) = b.get(i..i + name.len() + 1) else {
        return false;
    };
    let (mut text, quote) = text.split_at(name.len());
    let mut name = name;
    while let (Some(x), Some(y)) = (text.first_chunk::<8>(), name.first_chunk::<8>()) {
        if u64::from_ne_bytes(*x) != u64::from_ne_bytes(*y) {
            return false;
        }
        text = &text[8..];
        name = &name[8..];
    }
    text.iter().zip(name).all(|(x, y)| x == y) && quote == b"\""
}

/// The escape after a backslash at `j`: the character it stands for and
/// where the string goes on. The one reading of JSON escapes: the walk
/// checks strings with it and the in-place decoders undo escapes with it.
#[inline]
pub(crate) fn escape(b: &[u8], j: usize) -> Scan<(char, usize)> {
    let simple = |c| Ok((c, j + 1));
    match b.get(j) {
        Some(b'"') => simple('"'),
        Some(b'\\') => simple('\\'),
        Some(b'/') => simple('/'),
        Some(b'b') => simple('\u{8}'),
        Some(b'f') => simple('\u{c}'),
        Some(b'n') => simple('\n'),
        Some(b'r') => simple('\r'),
        Some(b't') => simple('\t'),
        Some(b'u') => {
            let hex = b.get(j + 1..j + 5).ok_or(Unsure)?;
            let mut unit = 0u32;
            for &h in hex {
                unit = unit * 16 + char::from(h).to_digit(16).ok_or(Unsure)?;
            }
            // Surrogates (no `char`) must pair up; the decoders check that.
            char::from_u32(unit).map(|c| (c, j + 5)).ok_or(Unsure)
        }
        _ => Err(Unsure),
    }
}

/// A walk over JSON bytes (internal to tw-model's generated code).
#[doc(hidden)]
#[derive(Debug)]
pub struct Walk<'a, 'c> {
    pub(crate) b: &'a [u8],
    /// `b` as text, when it was checked to be UTF-8 up front (decoding
    /// slices strings out of it); empty otherwise.
    pub(crate) text: &'a str,
    pub(crate) i: usize,
    pub(crate) depth: u32,
    /// A line break was skipped as whitespace.
    breaks: bool,
    /// How many elements beyond its length a viewed list keeps in place
    /// (see `crate::view::List`): a few when one view is reused record
    /// after record, none for a page of views.
    pub(crate) in_place: usize,
    count: Option<&'c mut UnknownFields>,
}

impl<'a, 'c> Walk<'a, 'c> {
    pub(crate) fn new(b: &'a [u8], count: Option<&'c mut UnknownFields>) -> Self {
        Walk {
            b,
            text: "",
            i: 0,
            depth: 0,
            breaks: false,
            in_place: 0,
            count,
        }
    }

    /// `inner` over the whole input, whitespace around it allowed.
    pub(crate) fn whole(&mut self, inner: impl FnOnce(&mut Self) -> Scan<()>) -> Scan<()> {
        self.ws();
        inner(self)?;
        self.ws();
        if self.i == self.b.len() {
            Ok(())
        } else {
            Err(Unsure)
        }
    }

    #[inline(always)]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Skips whitespace. Every JSON token starts above `' '`, so one
    /// comparison settles the common case (compact JSON).
    #[inline(always)]
    pub(crate) fn ws(&mut self) {
        if let Some(&c) = self.b.get(self.i)
            && c <= b' '
        {
            self.ws_run();
        }
    }

    fn ws_run(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b' ' | b'\t' => self.i += 1,
                b'\n' | b'\r' => {
                    self.breaks = true;
                    self.i += 1;
                }
                _ => break,
            }
        }
    }

    #[inline(always)]
    pub(crate) fn expect(&mut self, c: u8) -> Scan<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(Unsure)
        }
    }

    #[inline(always)]
    pub(crate) fn literal(&mut self, text: &[u8]) -> Scan<()> {
        if self.b.get(self.i..self.i + text.len()) == Some(text) {
            self.i += text.len();
            Ok(())
        } else {
            Err(Unsure)
        }
    }

    #[inline]
    pub(crate) fn enter(&mut self) -> Scan<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(Unsure)
        } else {
            Ok(())
        }
    }

    /// A container: `open`, then `item` for each item (called at the
    /// item, after whitespace) with `,` between them, then `close`, one
    /// level deeper for the depth limit. The in-place decoders' lists and
    /// objects walk through here; the scanner's own loops stay written
    /// out (moving its object walk here cost 2% more instructions).
    #[inline(always)]
    pub(crate) fn container(
        &mut self,
        open: u8,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Scan<()>,
    ) -> Scan<()> {
        self.expect(open)?;
        self.enter()?;
        self.ws();
        if self.peek() == Some(close) {
            self.i += 1;
        } else {
            loop {
                item(self)?;
                if !self.next_in(close)? {
                    break;
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// After a container's value: `,` (then whitespace) gives `true`,
    /// `close` gives `false`.
    #[inline(always)]
    pub(crate) fn next_in(&mut self, close: u8) -> Scan<bool> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                self.ws();
                Ok(true)
            }
            Some(c) if c == close => {
                self.i += 1;
                Ok(false)
            }
            _ => Err(Unsure),
        }
    }

    /// From after a string's opening quote to after its closing one;
    /// `true` when it has escapes.
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Scan<bool> {
        let b = self.b;
        let mut i = self.i;
        let mut escaped = false;
        loop {
            while let Some(chunk) = b.get(i..i + 8) {
                let word = u64::from_le_bytes(chunk.try_into().map_err(|_| Unsure)?);
                let found = special(word);
                if found != 0 {
                    i += (found.trailing_zeros() / 8) as usize;
                    break;
                }
                i += 8;
            }
            match b.get(i) {
                Some(b'"') => {
                    self.i = i + 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    i = escape(b, i + 1)?.1;
                }
                Some(0..=0x1f) | None => return Err(Unsure),
                Some(0x80..) => i += utf8_char(b, i)?,
                Some(_) => i += 1,
            }
        }
    }

    /// An integer in `i64`'s range.
    pub(crate) fn integer(&mut self) -> Scan<()> {
        let b = self.b;
        let mut i = self.i;
        let negative = b.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        let start = i;
        match b.get(i) {
            // serde_json reads `-0` as the float -0.0, not an integer.
            Some(b'0') if !negative => i += 1,
            Some(b'1'..=b'9') => {
                i += 1;
                while let Some(b'0'..=b'9') = b.get(i) {
                    i += 1;
                }
            }
            _ => return Err(Unsure),
        }
        if let Some(b'.' | b'e' | b'E') = b.get(i) {
            return Err(Unsure);
        }
        let digits = i - start;
        if digits >= 19 {
            if digits > 19 {
                return Err(Unsure);
            }
            let magnitude: u64 = std::str::from_utf8(&b[start..i])
                .ok()
                .and_then(|text| text.parse().ok())
                .ok_or(Unsure)?;
            if magnitude > i64::MAX as u64 + u64::from(negative) {
                return Err(Unsure);
            }
        }
        self.i = i;
        Ok(())
    }

    /// Any JSON number that is surely finite as an `f64`.
    pub(crate) fn number(&mut self) -> Scan<()> {
        let b = self.b;
        let mut i = self.i;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let start = i;
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                i += 1;
                while let Some(b'0'..=b'9') = b.get(i) {
                    i += 1;
                }
            }
            _ => return Err(Unsure),
        }
        let whole_digits = i - start;
        if whole_digits > 300 {
            return Err(Unsure);
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            let fraction = i;
            while let Some(b'0'..=b'9') = b.get(i) {
                i += 1;
            }
            if i == fraction {
                return Err(Unsure);
            }
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            let positive = match b.get(i) {
                Some(b'-') => {
                    i += 1;
                    false
                }
                Some(b'+') => {
                    i += 1;
                    true
                }
                _ => true,
            };
            let digits = i;
            let mut exponent = 0usize;
            while let Some(&d @ b'0'..=b'9') = b.get(i) {
                exponent = exponent * 10 + usize::from(d - b'0');
                i += 1;
                if i - digits > 3 {
                    return Err(Unsure);
                }
            }
            if i == digits || (positive && whole_digits + exponent > 300) {
                return Err(Unsure);
            }
        }
        self.i = i;
        Ok(())
    }

    /// [`Walk::value`] with strings, the most common values, read inline.
    #[inline(always)]
    fn item(&mut self, scanner: &Scanner, node: usize) -> Scan<()> {
        if let Some(Node::String) = scanner.nodes.get(node) {
            self.expect(b'"')?;
            self.string().map(drop)
        } else {
            self.value(scanner, node)
        }
    }

    fn value(&mut self, scanner: &Scanner, node: usize) -> Scan<()> {
        match &scanner.nodes[node] {
            Node::String => {
                self.expect(b'"')?;
                self.string().map(drop)
            }
            Node::Integer => self.integer(),
            Node::Number => self.number(),
            Node::Bool => match self.peek() {
                Some(b't') => self.literal(b"true"),
                _ => self.literal(b"false"),
            },
            Node::Array(item) => {
                self.expect(b'[')?;
                self.enter()?;
                self.ws();
                let len = self.push_path(ITEMS);
                if self.peek() == Some(b']') {
                    self.i += 1;
                } else {
                    loop {
                        self.item(scanner, *item)?;
                        if !self.next_in(b']')? {
                            break;
                        }
                    }
                }
                self.pop_path(len);
                self.depth -= 1;
                Ok(())
            }
            Node::Object(object) => self.object(scanner, object),
        }
    }

    /// Appends to the counted path (when counting); returns where to cut
    /// it back to.
    #[inline]
    fn push_path(&mut self, part: &'static str) -> usize {
        match &mut self.count {
            Some(count) => {
                let len = count.path.len();
                count.path.push(part);
                len
            }
            None => 0,
        }
    }

    #[inline]
    fn pop_path(&mut self, len: usize) {
        if let Some(count) = &mut self.count {
            count.path.truncate(len);
        }
    }

    /// An unknown key of the object whose unknown keys start at `mark`
    /// (out of line: the walk through known keys stays small).
    #[cold]
    #[inline(never)]
    fn unknown_key(&mut self, key: Range<usize>, mark: usize) {
        let b = self.b;
        let Some(count) = &mut self.count else {
            return;
        };
        let repeated = count.keys[mark..]
            .iter()
            .any(|&(s, e)| b[s..e] == b[key.clone()]);
        if repeated {
            return;
        }
        count.keys.push((key.start, key.end));
        let Ok(name) = std::str::from_utf8(&b[key]) else {
            return;
        };
        let start = count.pending_text.len();
        for part in count.path.iter().copied().chain([name]) {
            push_path_part(&mut count.pending_text, start, part);
        }
        let end = count.pending_text.len();
        count.pending.push(start..end);
    }

    /// An object's key (from its opening quote to after the colon): the
    /// index of the known field it names, and where its text is. Servers
    /// send fields in one order, so the field that came after the last one
    /// seen last time (at `slot`: 0 at the start, `k + 1` after field `k`)
    /// is tried first, a word at a time.
    #[inline(always)]
    pub(crate) fn key_of(
        &mut self,
        object: &Object,
        slot: usize,
    ) -> Scan<(Option<usize>, Range<usize>)> {
        self.expect(b'"')?;
        let start = self.i;
        let guess = object.guess(slot);
        let found = match object.fields.get(guess) {
            Some(field) if field.is_at(self.b, start) => {
                self.i += field.name.len() + 1;
                Some(guess)
            }
            _ => {
                if self.string()? {
                    // Decoding unescapes keys before matching them.
                    return Err(Unsure);
                }
                object.find(&self.b[start..self.i - 1], slot)
            }
        };
        let key = start..self.i - 1;
        self.ws();
        self.expect(b':')?;
        self.ws();
        Ok((found, key))
    }

    fn object(&mut self, scanner: &Scanner, object: &Object) -> Scan<()> {
        self.expect(b'{')?;
        self.enter()?;
        self.ws();
        let mark = self.count.as_ref().map_or(0, |c| c.keys.len());
        let mut seen = 0u64;
        let mut next = 0;
        if self.peek() == Some(b'}') {
            self.i += 1;
        } else {
            loop {
                let (found, key) = self.key_of(object, next)?;
                match found {
                    Some(k) => {
                        let bit = 1u64 << k;
                        if seen & bit != 0 {
                            // Decoding keeps the last of repeated keys.
                            return Err(Unsure);
                        }
                        seen |= bit;
                        next = k + 1;
                        let field = &object.fields[k];
                        if field.nullable && self.peek() == Some(b'n') {
                            self.literal(b"null")?;
                        } else if self.count.is_some() {
                            let len = self.push_path(field.name);
                            self.value(scanner, field.node)?;
                            self.pop_path(len);
                        } else {
                            self.item(scanner, field.node)?;
                        }
                    }
                    None => {
                        self.unknown_key(key, mark);
                        self.any(0)?;
                    }
                }
                if !self.next_in(b'}')? {
                    break;
                }
            }
        }
        if let Some(count) = &mut self.count {
            count.keys.truncate(mark);
        }
        if seen & object.required != object.required {
            return Err(Unsure);
        }
        self.depth -= 1;
        Ok(())
    }

    /// Any JSON value (an unknown field's), `level` containers deep in it.
    pub(crate) fn any(&mut self, level: u32) -> Scan<()> {
        match self.peek() {
            Some(b'"') => {
                self.i += 1;
                self.string().map(drop)
            }
            Some(open @ (b'{' | b'[')) => {
                if level >= MAX_UNKNOWN_DEPTH {
                    return Err(Unsure);
                }
                self.i += 1;
                self.enter()?;
                self.ws();
                let close = if open == b'{' { b'}' } else { b']' };
                if self.peek() == Some(close) {
                    self.i += 1;
                } else {
                    loop {
                        if open == b'{' {
                            self.expect(b'"')?;
                            self.string()?;
                            self.ws();
                            self.expect(b':')?;
                            self.ws();
                        }
                        self.any(level + 1)?;
                        if !self.next_in(close)? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
                Ok(())
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(Unsure),
        }
    }

    /// A page or document envelope whose records are read by `records`.
    pub(crate) fn envelope(
        &mut self,
        layout: Layout,
        mut records: impl FnMut(&mut Self) -> Scan<()>,
    ) -> Scan<(bool, Option<String>)> {
        const HAS_NEXT: u8 = 1;
        const RECORDS: u8 = 2;
        const NEXT: u8 = 4;
        let records_key = match layout {
            Layout::Page => "records",
            Layout::Document(key) => key,
        };
        self.expect(b'{')?;
        self.enter()?;
        self.ws();
        let mut seen = 0u8;
        let mut has_next = false;
        let mut next = None;
        if self.peek() == Some(b'}') {
            self.i += 1;
        } else {
            loop {
                self.expect(b'"')?;
                let start = self.i;
                if self.string()? {
                    return Err(Unsure);
                }
                let key = &self.b[start..self.i - 1];
                self.ws();
                self.expect(b':')?;
                self.ws();
                let which = if key == records_key.as_bytes() {
                    RECORDS
                } else if layout == Layout::Page && key == b"has_next" {
                    HAS_NEXT
                } else if layout == Layout::Page && key == b"next_starting_after" {
                    NEXT
                } else {
                    0
                };
                if seen & which != 0 {
                    return Err(Unsure);
                }
                seen |= which;
                match which {
                    RECORDS => records(self)?,
                    HAS_NEXT => {
                        has_next = self.peek() == Some(b't');
                        self.literal(if has_next { b"true" } else { b"false" })?;
                    }
                    NEXT => {
                        if self.peek() == Some(b'n') {
                            self.literal(b"null")?;
                        } else {
                            let start = self.i;
                            self.expect(b'"')?;
                            let escaped = self.string()?;
                            let quoted =
                                std::str::from_utf8(&self.b[start..self.i]).map_err(|_| Unsure)?;
                            next = Some(if escaped {
                                // Once per page: let serde_json unescape it.
                                serde_json::from_str(quoted).map_err(|_| Unsure)?
                            } else {
                                quoted[1..quoted.len() - 1].to_owned()
                            });
                        }
                    }
                    _ => self.any(0)?,
                }
                if !self.next_in(b'}')? {
                    break;
                }
            }
        }
        let required = match layout {
            Layout::Page => HAS_NEXT | RECORDS,
            Layout::Document(_) => RECORDS,
        };
        if seen & required != required {
            return Err(Unsure);
        }
        self.depth -= 1;
        Ok((has_next, next))
    }
}

/// Scans a whole response body of records `scanner` in `layout`: the
/// page when the scanner is sure it is valid, `None` otherwise (the
/// decoders then decide).
pub(crate) fn scan_page(body: &[u8], layout: Layout, scanner: &Scanner) -> Option<RawPage> {
    scan_page_counting(body, layout, scanner, None)
}

/// [`scan_page`], and with `count`, in the same pass, the unknown fields of
/// the page's records added to it as [`Scanner::count_unknown`] counts each
/// record; only when the page is decided (else `count` is unchanged).
pub(crate) fn scan_page_counting(
    body: &[u8],
    layout: Layout,
    scanner: &Scanner,
    mut count: Option<&mut UnknownFields>,
) -> Option<RawPage> {
    if let Some(count) = count.as_deref_mut() {
        count.start();
    }
    let mut ranges = Vec::new();
    let mut breaks = false;
    let mut walk = Walk::new(body, count);
    let mut envelope = None;
    walk.whole(|walk| {
        envelope = Some(walk.envelope(layout, |walk| {
            walk.expect(b'[')?;
            walk.enter()?;
            walk.ws();
            if walk.peek() == Some(b']') {
                walk.i += 1;
            } else {
                ranges.reserve(128);
                loop {
                    let start = walk.i;
                    walk.breaks = false;
                    walk.value(scanner, Scanner::ROOT)?;
                    breaks |= walk.breaks;
                    ranges.push(start..walk.i);
                    if !walk.next_in(b']')? {
                        break;
                    }
                }
            }
            walk.depth -= 1;
            Ok(())
        })?);
        Ok(())
    })
    .ok()?;
    let (has_next, next_starting_after) = envelope?;
    if let Some(count) = walk.count {
        count.commit();
    }
    Some(RawPage {
        has_next,
        records: ranges,
        next_starting_after,
        line_breaks: breaks,
    })
}

/// The scanner alone on a response body of dataset `D`: the page (as
/// [`crate::decode_raw_page`] gives it) when the one-pass scanner is sure
/// the body is valid (UTF-8 included), `None` when it is invalid or
/// outside what the scanner decides itself. For tests and benchmarks of
/// the fast path; exports use [`crate::decode_raw_page`], which falls back
/// to the decoders.
///
/// ```
/// use tw_model::{SkillClusters, scan_raw_page};
///
/// let body = r#"{"has_next":false,"records":[{"external_id":"e1"}]}"#;
/// let page = scan_raw_page::<SkillClusters>(body.as_bytes()).unwrap();
/// assert_eq!(&body[page.records[0].clone()], r#"{"external_id":"e1"}"#);
/// // A repeated key is valid, but left to the decoders.
/// let repeated = r#"{"has_next":false,"records":[{"external_id":"a","external_id":"b"}]}"#;
/// assert!(scan_raw_page::<SkillClusters>(repeated.as_bytes()).is_none());
/// ```
pub fn scan_raw_page<D: crate::Dataset>(body: &[u8]) -> Option<RawPage> {
    let scanner = <D::Record as crate::Validate>::scanner()?;
    scan_page(body, Layout::of::<D>(), scanner)
}

#[cfg(test)]
mod tests {
    use super::{Node, Scanner, special};
    use crate::shape::Describe;

    /// Keys come in the server's order, learned; the verdict never depends
    /// on what was learned.
    #[test]
    fn keys_in_any_order_are_matched_and_their_order_learned() {
        // A scanner of its own: the shared one may be learning elsewhere.
        let scanner = Scanner::new(&crate::position_matches::PositionMatch::shape()).unwrap();
        let Some(Node::Object(object)) = scanner.nodes.first() else {
            panic!("a record is an object");
        };
        let index = |name| object.fields.iter().position(|f| f.name == name).unwrap();
        assert_eq!(
            object.guess(0),
            index("employee_id"),
            "declared order first"
        );

        // The documented order differs from the declared one.
        assert!(scanner.check(r#"{"job_id":"j","employee_id":"e","score":0.5}"#));
        assert_eq!(object.guess(0), index("job_id"));
        assert_eq!(object.guess(index("job_id") + 1), index("employee_id"));
        assert_eq!(object.guess(index("employee_id") + 1), index("score"));

        for learned in [
            r#"{"employee_id":"e","job_id":"j"}"#,
            r#"{"job_id":"j","employee_id":"e","score":0.5}"#,
        ] {
            assert!(scanner.check(learned), "{learned}");
            for bad in [
                r#"{"job_id":"j","score":0.5}"#,
                r#"{"job_id":1,"employee_id":"e"}"#,
                r#"{"job_id":"j","employee_id":"e","job_id":"k"}"#,
                r#"{"job_id":"j","employee_id":"e","score":"high"}"#,
            ] {
                assert!(!scanner.check(bad), "{bad} after {learned}");
            }
        }
    }

    /// The first byte of a word that `special` flags is the first byte
    /// that is `"`, `\`, below 0x20 or above 0x7F, for every byte value at
    /// every position after plain bytes, and after other bytes too.
    #[test]
    fn special_flags_exactly_the_first_byte_that_ends_a_run() {
        let ends = |c: u8| c == b'"' || c == b'\\' || !(0x20..0x80).contains(&c);
        for fill in [b'a', b' ', b'~', 0x7f, b'!', b'#', b'[', b']'] {
            for at in 0..8 {
                for c in 0..=255u8 {
                    for after in [b'a', 0x00, 0xff, b'"'] {
                        let mut bytes = [fill; 8];
                        bytes[at] = c;
                        for b in &mut bytes[at + 1..] {
                            *b = after;
                        }
                        let first = bytes.iter().position(|&b| ends(b));
                        let found = special(u64::from_le_bytes(bytes));
                        let flagged = (found != 0).then(|| (found.trailing_zeros() / 8) as usize);
                        assert_eq!(flagged, first, "{bytes:?}");
                    }
                }
            }
        }
    }
}

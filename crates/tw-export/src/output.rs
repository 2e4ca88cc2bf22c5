//! Output formats: JSON Lines, a JSON array, and CSV in two dialects.

use std::borrow::Cow;
use std::io::{self, Write};

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tw_model::{EmitRow, FieldText, Table};

/// How records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// One JSON object per line, exactly as the model round-trips it
    /// (unknown fields included).
    Jsonl,
    /// One JSON array of the same objects, valid only once complete.
    Json,
    /// The record type's [`Table`] rows.
    Csv(CsvDialect),
}

impl Format {
    /// A short name: `jsonl`, `json`, `csv-techwolf`, `csv-rfc4180`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Json => "json",
            Format::Csv(CsvDialect::Techwolf) => "csv-techwolf",
            Format::Csv(CsvDialect::Rfc4180) => "csv-rfc4180",
        }
    }
}

/// The CSV conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CsvDialect {
    /// As TechWolf's own file exports: CRLF line ends, every field quoted,
    /// and a backtick before any value starting with `=`, `+`, `-`, `@`, tab,
    /// carriage return (so spreadsheets do not run it as a formula) or a
    /// backtick (so the guard can be undone: strip one leading backtick).
    Techwolf,
    /// Minimal quoting, LF line ends, values unchanged.
    Rfc4180,
}

/// A [`CsvDialect`] as a type, for [`crate::Rows`]: a page's rows are
/// written on the read-ahead thread, when the page is decoded, and only
/// the representation's type reaches that far.
pub trait Dialect: Send + Sync + 'static {
    /// The dialect.
    const DIALECT: CsvDialect;
}

/// [`CsvDialect::Techwolf`] as a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TechwolfCsv;

impl Dialect for TechwolfCsv {
    const DIALECT: CsvDialect = CsvDialect::Techwolf;
}

/// [`CsvDialect::Rfc4180`] as a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rfc4180Csv;

impl Dialect for Rfc4180Csv {
    const DIALECT: CsvDialect = CsvDialect::Rfc4180;
}

/// `text` (valid JSON) without the whitespace between its tokens. Line
/// breaks can only be such whitespace: inside strings JSON escapes them.
pub fn compact_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for ch in text.chars() {
        if in_string {
            out.push(ch);
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                in_string = false;
            }
        } else if !matches!(ch, ' ' | '\t' | '\n' | '\r') {
            out.push(ch);
            in_string = ch == '"';
        }
    }
    out
}

/// The TechWolf formula-injection guard: a backtick before values starting
/// with `=`, `+`, `-`, `@`, tab or carriage return, and before values that
/// already start with a backtick, so the guard can always be undone:
/// strip one leading backtick, if there is one, to get the value back.
///
/// ```
/// use tw_export::output::guard_formula;
///
/// for value in ["=SUM(A1)", "`=SUM(A1)", "`quoted`", "plain", ""] {
///     let guarded = guard_formula(value);
///     assert_eq!(guarded.strip_prefix('`').unwrap_or(&guarded), value);
/// }
/// assert_eq!(guard_formula("@risk"), "`@risk");
/// ```
pub fn guard_formula(value: &str) -> Cow<'_, str> {
    if needs_guard(value.as_bytes()) {
        Cow::Owned(format!("`{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// Bytes buffered before a write to the underlying writer.
const BUFFER: usize = 256 * 1024;

/// Room the CSV writer keeps in its buffer for the next row.
const ROOM: usize = 32 * 1024;

/// A CSV writer for one dialect, by hand: every field of our rows is
/// already UTF-8 text, so writing a row is a few `extend`s into one
/// buffer (the csv crate's writer runs a byte state machine per field and
/// cost more than decoding the page). Its output is byte for byte the csv
/// crate's with the options each dialect names (a property test holds it
/// to that), so a reader of either dialect reads what was written. Like
/// `BufWriter`, it writes what it holds when dropped (errors ignored):
/// call [`CsvWriter::into_inner`] to see them.
///
/// ```
/// use tw_export::output::{CsvDialect, CsvWriter};
///
/// let mut csv = CsvWriter::new(Vec::new(), CsvDialect::Techwolf);
/// csv.write_row(&["id", "formula", "quote"])?;
/// csv.write_row(&["e1", "=1+1", "say \"hi\""])?;
/// assert_eq!(
///     csv.into_inner()?,
///     b"\"id\",\"formula\",\"quote\"\r\n\"e1\",\"`=1+1\",\"say \"\"hi\"\"\"\r\n"
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct CsvWriter<W: Write> {
    out: Buffered<W>,
    dialect: CsvDialect,
    /// Where the last row starts, while its bytes are still in `buf`.
    last_row: Option<usize>,
    /// Where each field of the last row ends (its separator included),
    /// counted from the row's start: one entry per field.
    ends: Vec<usize>,
    /// Where cells that are not text (numbers, joined lists, nested JSON)
    /// are written before they are quoted: one buffer, reused.
    scratch: Vec<u8>,
}

impl CsvWriter<io::Sink> {
    /// A writer that keeps every row in memory, after what `buf` holds
    /// (see [`CsvWriter::into_buffer`]).
    pub(crate) fn in_memory(buf: Vec<u8>, dialect: CsvDialect) -> Self {
        CsvWriter {
            out: Buffered { buf, out: None },
            dialect,
            last_row: None,
            ends: Vec::new(),
            scratch: Vec::new(),
        }
    }
}

impl<W: Write> CsvWriter<W> {
    /// A writer of `dialect` to `out`, buffered.
    pub fn new(out: W, dialect: CsvDialect) -> Self {
        CsvWriter {
            out: Buffered::new(out),
            dialect,
            last_row: None,
            ends: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// The bytes written so far, in memory.
    pub(crate) fn buffered(&self) -> &[u8] {
        &self.out.buf
    }

    /// Forgets the bytes written so far (of a writer in memory).
    pub(crate) fn clear(&mut self) {
        self.out.buf.clear();
        self.last_row = None;
    }

    /// The bytes of a writer [`CsvWriter::in_memory`].
    pub(crate) fn into_buffer(mut self) -> Vec<u8> {
        std::mem::take(&mut self.out.buf)
    }

    /// Appends whole rows that a writer of the same dialect wrote (line
    /// ends included), as they are: a page's rows go straight to the
    /// output (see [`Buffered::write_all`]).
    pub(crate) fn write_written(&mut self, rows: &[u8]) -> io::Result<()> {
        // The last row's bytes leave the buffer (or may).
        self.last_row = None;
        self.out.write_all(rows)
    }

    /// Writes one row: the fields (strings, or a table's
    /// [`tw_model::Cell`]s, which are formatted into a buffer the writer
    /// keeps), quoted as the dialect says, then the line end. For
    /// [`CsvDialect::Techwolf`], with the formula guard.
    pub fn write_row<F: FieldText>(&mut self, row: &[F]) -> io::Result<()> {
        self.write_row_repeating(row, 0)
    }

    /// Writes one row whose first `repeats` fields are the same text as
    /// those of the row written just before it (the hint of
    /// [`Table::rows`]): their bytes are copied from that row when it is
    /// still buffered and has as many fields, and written as usual
    /// otherwise. The output is [`CsvWriter::write_row`]'s, provided the
    /// hint is true; a hint larger than the truth repeats the fields of the
    /// row before.
    ///
    /// ```
    /// use tw_export::output::{CsvDialect, CsvWriter};
    ///
    /// let mut csv = CsvWriter::new(Vec::new(), CsvDialect::Rfc4180);
    /// csv.write_row(&["e1", "Data", "Rust"])?;
    /// csv.write_row_repeating(&["e1", "Data", "SQL"], 2)?;
    /// assert_eq!(csv.into_inner()?, b"e1,Data,Rust\ne1,Data,SQL\n");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write_row_repeating<F: FieldText>(
        &mut self,
        row: &[F],
        repeats: usize,
    ) -> io::Result<()> {
        let start = self.out.buf.len();
        let mut from = 0;
        match self.last_row {
            Some(last) if repeats > 0 && repeats <= row.len() && self.ends.len() == row.len() => {
                let end = self.ends[repeats - 1];
                self.out.buf.extend_from_within(last..last + end);
                self.ends.truncate(repeats);
                from = repeats;
            }
            _ => self.ends.clear(),
        }
        let buf = &mut self.out.buf;
        let scratch = &mut self.scratch;
        match self.dialect {
            CsvDialect::Techwolf => {
                for (i, field) in row.iter().enumerate().skip(from) {
                    // Pushed byte by byte: a slice of one or two bytes
                    // would be copied by a call to memcpy.
                    if i > 0 {
                        buf.push(b',');
                    }
                    buf.push(b'"');
                    let at = buf.len();
                    if !field.write_plain(buf) && !field.write_doubling_quotes(buf) {
                        push_doubling_quotes(buf, field.field_text(scratch));
                    }
                    // Doubling quotes keeps the first byte a guard looks at.
                    if needs_guard(&buf[at..]) {
                        buf.insert(at, b'`');
                    }
                    buf.push(b'"');
                    self.ends.push(buf.len() - start);
                }
                buf.extend_from_slice(b"\r\n");
            }
            CsvDialect::Rfc4180 => {
                for (i, field) in row.iter().enumerate().skip(from) {
                    if i > 0 {
                        buf.push(b',');
                    }
                    let at = buf.len();
                    if field.write_plain(buf) {
                        // No quote to double: quoted only for a comma, or
                        // when it is a record's one empty field (which
                        // would read as no record).
                        let text = &buf[at..];
                        if holds_any(text, [b',']) || (text.is_empty() && row.len() == 1) {
                            buf.insert(at, b'"');
                            buf.push(b'"');
                        }
                    } else if field.write_doubling_quotes({
                        buf.push(b'"');
                        buf
                    }) {
                        // Quoted only when the text needs it (nested JSON
                        // mostly does: it holds quotes or commas), like
                        // any other field.
                        let text = &buf[at + 1..];
                        if needs_quotes(text) || (text.is_empty() && row.len() == 1) {
                            buf.push(b'"');
                        } else {
                            buf.remove(at);
                        }
                    } else {
                        buf.truncate(at);
                        let text = field.field_text(scratch);
                        if needs_quotes(text) || (text.is_empty() && row.len() == 1) {
                            buf.push(b'"');
                            push_doubling_quotes(buf, text);
                            buf.push(b'"');
                        } else {
                            buf.extend_from_slice(text);
                        }
                    }
                    self.ends.push(buf.len() - start);
                }
                buf.push(b'\n');
            }
        }
        self.last_row = Some(start);
        if self.out.is_full() {
            self.last_row = None;
            self.out.write_buffer()?;
        }
        Ok(())
    }

    /// Writes everything buffered to the underlying writer and flushes it.
    pub fn flush(&mut self) -> io::Result<()> {
        self.last_row = None;
        self.out.flush()
    }

    /// The underlying writer (flush first to see every byte in it).
    pub fn get_ref(&self) -> &W {
        self.out.get_ref()
    }

    /// The underlying writer, mutably (writing to it directly puts bytes
    /// before those still buffered).
    pub fn get_mut(&mut self) -> &mut W {
        self.out.get_mut()
    }

    /// Flushes, and returns the underlying writer.
    pub fn into_inner(self) -> io::Result<W> {
        self.out.into_inner()
    }
}

impl<W: Write> std::fmt::Debug for CsvWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvWriter")
            .field("dialect", &self.dialect)
            .field("buffered", &self.out.buf.len())
            .finish_non_exhaustive()
    }
}

/// The output buffer of [`CsvWriter`] and of JSON output: like
/// `BufWriter`, but a write of [`ROOM`] bytes or more (a page of rows or
/// of JSON Lines, where `BufWriter` would copy anything under its
/// capacity) goes straight to the output after what is buffered, and the
/// CSV writer writes its rows into the buffer itself. Like `BufWriter`, it
/// writes what it holds when dropped (errors ignored).
struct Buffered<W: Write> {
    buf: Vec<u8>,
    /// `None` for a writer in memory ([`CsvWriter::in_memory`], which
    /// keeps every byte), and once `into_inner` took it.
    out: Option<W>,
}

impl<W: Write> Buffered<W> {
    fn new(out: W) -> Self {
        Buffered {
            buf: Vec::with_capacity(BUFFER),
            out: Some(out),
        }
    }

    /// Whether the buffer should be written out: it is kept under
    /// `BUFFER - ROOM` bytes, so a next row of up to `ROOM` bytes fits and
    /// the buffer never grows for rows of usual size. Never for a writer
    /// in memory.
    fn is_full(&self) -> bool {
        self.would_fill(0)
    }

    /// Whether `more` bytes would fill the buffer (see
    /// [`Buffered::is_full`]).
    fn would_fill(&self, more: usize) -> bool {
        self.out.is_some() && self.buf.len() + more >= BUFFER - ROOM
    }

    /// Writes `bytes`: into the buffer, or, from `ROOM` bytes up, straight
    /// to the output after what is buffered, without a copy. The buffer is
    /// written out first when `bytes` would fill it, so it stays as
    /// [`Buffered::is_full`] wants it, and on an error (as with
    /// `BufWriter`) none of `bytes` was taken.
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.len() >= ROOM && self.out.is_some() {
            self.write_buffer()?;
            let out = self.out.as_mut().expect("checked above");
            return out.write_all(bytes);
        }
        if self.would_fill(bytes.len()) {
            self.write_buffer()?;
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// Writes the buffer to the underlying writer. On an error, what was
    /// written leaves the buffer and the rest stays (as `BufWriter` does),
    /// so a later flush never writes a byte twice.
    fn write_buffer(&mut self) -> io::Result<()> {
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        let mut written = 0;
        let result = loop {
            if written == self.buf.len() {
                break Ok(());
            }
            match out.write(&self.buf[written..]) {
                Ok(0) => {
                    break Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the output took no more bytes",
                    ));
                }
                Ok(n) => written += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => break Err(err),
            }
        };
        self.buf.drain(..written);
        result
    }

    /// Writes everything buffered to the underlying writer and flushes it.
    fn flush(&mut self) -> io::Result<()> {
        self.write_buffer()?;
        self.out.as_mut().map_or(Ok(()), Write::flush)
    }

    fn get_ref(&self) -> &W {
        self.out.as_ref().expect("only into_inner takes the writer")
    }

    fn get_mut(&mut self) -> &mut W {
        self.out.as_mut().expect("only into_inner takes the writer")
    }

    /// Flushes, and returns the underlying writer.
    fn into_inner(mut self) -> io::Result<W> {
        self.flush()?;
        Ok(self.out.take().expect("only into_inner takes the writer"))
    }
}

impl<W: Write> Write for Buffered<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        Buffered::write_all(self, bytes)?;
        Ok(bytes.len())
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        Buffered::write_all(self, bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        Buffered::flush(self)
    }
}

impl<W: Write> Drop for Buffered<W> {
    fn drop(&mut self) {
        // As BufWriter: best effort, for a writer dropped without
        // into_inner (after an error, or by a script that forgot).
        let _ = self.write_buffer();
    }
}

/// Whether [`guard_formula`] puts a backtick before `value`: the one
/// place that says which first bytes are guarded.
fn needs_guard(value: &[u8]) -> bool {
    matches!(
        value.first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'`')
    )
}

/// Whether an RFC 4180 field must be quoted: it holds the delimiter, a
/// quote or a line break (the csv crate's rule for these options).
fn needs_quotes(value: &[u8]) -> bool {
    holds_any(value, [b',', b'"', b'\n', b'\r'])
}

/// Whether `text` holds any of `bytes` (none of them zero): eight bytes at
/// a time with the exact has-a-zero-byte test on `word ^ byte` (the last
/// word overlapping the one before). Fields are short, so this beats a call to
/// `memchr` per field.
#[inline(always)]
fn holds_any<const N: usize>(text: &[u8], bytes: [u8; N]) -> bool {
    const LO: u64 = u64::from_le_bytes([0x01; 8]);
    const HI: u64 = u64::from_le_bytes([0x80; 8]);
    let test = |word: u64| {
        let mut zero = 0;
        for byte in bytes {
            let x = word ^ (LO * u64::from(byte));
            zero |= x.wrapping_sub(LO) & !x;
        }
        zero & HI != 0
    };
    let mut words = text.chunks_exact(8);
    for word in words.by_ref() {
        if test(u64::from_le_bytes(word.try_into().expect("8 bytes"))) {
            return true;
        }
    }
    match text.len() {
        0 => false,
        // The last eight bytes, overlapping those already tested.
        8.. => test(u64::from_le_bytes(
            text[text.len() - 8..].try_into().expect("8 bytes"),
        )),
        _ => text.iter().any(|b| bytes.contains(b)),
    }
}

/// Appends `text` with each `"` doubled. Text with a quote is rare and goes
/// out of line, so the usual path saves no registers for the split.
fn push_doubling_quotes(buf: &mut Vec<u8>, text: &[u8]) {
    if holds_any(text, [b'"']) {
        push_quotes_doubled(buf, text);
    } else {
        buf.extend_from_slice(text);
    }
}

/// [`push_doubling_quotes`] for text that holds a quote.
#[cold]
#[inline(never)]
fn push_quotes_doubled(buf: &mut Vec<u8>, text: &[u8]) {
    // Text with quotes is mostly JSON (a quote every few bytes). Each
    // eight bytes are looked at as one word: a word is stored whole after
    // the bytes written so far, then for each quote in it the bytes up to
    // the quote are kept, a second quote is stored after them, and the
    // rest of the word is stored again after that; a few stores per quote
    // and no branch per byte. The buffer has room for every store (at
    // most twice the text, plus one word), and is cut to what was written.
    const LOW7: u64 = u64::from_le_bytes([0x7f; 8]);
    const QUOTES: u64 = u64::from_le_bytes([b'"'; 8]);
    let start = buf.len();
    buf.resize(start + 2 * text.len() + 8, 0);
    let out = &mut buf[start..];
    let mut at = 0;
    let mut words = text.chunks_exact(8);
    for word in words.by_ref() {
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        // The high bit of each byte that is a quote, exactly (no borrow
        // between bytes, unlike the quicker `x - 0x01..` test).
        let x = word ^ QUOTES;
        let mut quotes = !(((x & LOW7) + LOW7) | x | LOW7);
        out[at..at + 8].copy_from_slice(&word.to_le_bytes());
        // How many of the word's bytes are written so far.
        let mut done = 0;
        while quotes != 0 {
            let quote = (quotes.trailing_zeros() / 8) as usize;
            quotes &= quotes - 1;
            at += quote + 1 - done;
            out[at] = b'"';
            at += 1;
            done = quote + 1;
            // The rest of the word, after the doubled quote (a shift by
            // 64 bits is none: a quote in the last byte leaves no rest).
            let rest = word.checked_shr(8 * done as u32).unwrap_or(0);
            out[at..at + 8].copy_from_slice(&rest.to_le_bytes());
        }
        at += 8 - done;
    }
    for &byte in words.remainder() {
        out[at] = byte;
        out[at + 1] = b'"';
        at += 1 + usize::from(byte == b'"');
    }
    buf.truncate(start + at);
}

/// Writes the rows one record's table emits through `rows`.
pub(crate) fn write_rows<W: Write>(
    out: &mut CsvWriter<W>,
    rows: impl FnOnce(&mut EmitRow<'_, io::Error>) -> io::Result<()>,
) -> io::Result<()> {
    // A record's first row never repeats the last record's.
    let mut first = true;
    rows(&mut |row: &[tw_model::Cell<'_>], repeats| {
        let repeats = if first { 0 } else { repeats };
        first = false;
        out.write_row_repeating(row, repeats)
    })
}

enum Sink<W: Write> {
    Json(Buffered<W>),
    Csv(CsvWriter<W>),
}

/// Writes records of type `T` in a [`Format`] to `W`, header and trailer
/// included. CSV columns and rows come from `T`'s [`Table`] impl.
///
/// ```
/// use tw_export::model::EmployeeSkillClusters;
/// use tw_export::output::{CsvDialect, Format, RecordWriter};
///
/// let record: EmployeeSkillClusters =
///     serde_json::from_str(r#"{"external_id": "e1", "skill_clusters": []}"#).unwrap();
/// let mut writer = RecordWriter::new(Vec::new(), Format::Csv(CsvDialect::Rfc4180));
/// writer.begin()?;
/// writer.write(&record)?;
/// let bytes = writer.finish()?;
/// assert!(String::from_utf8(bytes).unwrap().ends_with("\ne1,,,,,,,,,,,,\n"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct RecordWriter<W: Write, T> {
    sink: Sink<W>,
    format: Format,
    records: u64,
    /// JSON only: the key the array goes under, in a document object.
    document: Option<&'static str>,
    record: PhantomData<fn(&T)>,
}

impl<W: Write, T> std::fmt::Debug for RecordWriter<W, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordWriter")
            .field("format", &self.format)
            .field("records", &self.records)
            .finish_non_exhaustive()
    }
}

impl<W: Write, T: Table + Serialize + DeserializeOwned> RecordWriter<W, T> {
    /// A writer for a new output; call [`RecordWriter::begin`] first.
    pub fn new(out: W, format: Format) -> Self {
        Self::resume(out, format, 0)
    }

    /// A writer that continues an output which already holds the header and
    /// `records_before` records (do not call `begin`).
    pub fn resume(out: W, format: Format, records_before: u64) -> Self {
        let sink = match format {
            Format::Jsonl | Format::Json => Sink::Json(Buffered::new(out)),
            Format::Csv(dialect) => Sink::Csv(CsvWriter::new(out, dialect)),
        };
        RecordWriter {
            sink,
            format,
            records: records_before,
            document: None,
            record: PhantomData,
        }
    }

    /// For [`Format::Json`]: writes the array as the records of a
    /// document, `{"<records_key>":[...]}`, the form a document export
    /// ([`tw_model::Paging::Document`]) sends. No effect on other formats.
    pub fn in_document(mut self, records_key: &'static str) -> Self {
        self.document = Some(records_key);
        self
    }

    /// A writer for dataset `D`'s records: [`RecordWriter::resume`], in
    /// its document when `D` is a document export.
    pub fn for_dataset<D>(out: W, format: Format, records_before: u64) -> Self
    where
        D: tw_model::Dataset<Record = T>,
    {
        let writer = Self::resume(out, format, records_before);
        match D::PAGING {
            tw_model::Paging::Document { records } => writer.in_document(records),
            tw_model::Paging::Cursor => writer,
        }
    }

    /// Writes the header: the CSV header row, or the JSON array's `[`.
    pub fn begin(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Json(out) if self.format == Format::Json => {
                if let Some(key) = self.document {
                    out.write_all(b"{")?;
                    serde_json::to_writer(&mut *out, key)?;
                    out.write_all(b":")?;
                }
                out.write_all(b"[")
            }
            Sink::Json(_) => Ok(()),
            Sink::Csv(out) => out.write_row(T::COLUMNS),
        }
    }

    /// Writes one record.
    pub fn write(&mut self, record: &T) -> io::Result<()> {
        match &mut self.sink {
            Sink::Json(out) => {
                if self.format == Format::Json {
                    out.write_all(if self.records == 0 { b"\n" } else { b",\n" })?;
                }
                serde_json::to_writer(&mut *out, record)?;
                if self.format == Format::Jsonl {
                    out.write_all(b"\n")?;
                }
            }
            Sink::Csv(out) => write_rows(out, |emit| record.rows(emit))?,
        }
        self.records += 1;
        Ok(())
    }

    /// Writes one viewed record (see [`crate::Viewed`]): its table's rows
    /// for CSV, its JSON text for JSON Lines and JSON. The output is
    /// [`RecordWriter::write`]'s for the same record.
    pub fn write_viewed(&mut self, record: &crate::ViewedRecord<T::View>) -> io::Result<()> {
        let Sink::Csv(out) = &mut self.sink else {
            return self.write_raw(record.as_str());
        };
        write_rows(out, |emit| {
            T::view_rows(record.view(), record.page_text(), emit)
        })?;
        self.records += 1;
        Ok(())
    }

    /// Writes one record whose rows were written when its page was
    /// decoded (see [`crate::Rows`]), as [`RecordWriter::write_rows_page`]
    /// writes a page of one.
    pub fn write_rows_record(&mut self, record: &crate::RowsRecord) -> io::Result<()> {
        self.write_rows_page(std::slice::from_ref(record))
    }

    /// Writes the records of a page of [`crate::Rows`] records: for CSV
    /// of the same dialect, their rows as they are (the rows of one
    /// page's records follow each other in one buffer, and are written in
    /// one go); otherwise each as [`RecordWriter::write_raw`] writes its
    /// JSON text. The output is [`RecordWriter::write`]'s for the same
    /// records. A record that kept no text ([`crate::NoJson`]) for a
    /// writer of another format or dialect is an
    /// [`io::ErrorKind::InvalidInput`] error, and nothing of it is written.
    pub fn write_rows_page(&mut self, records: &[crate::RowsRecord]) -> io::Result<()> {
        let mut records = records;
        while let Some(first) = records.first() {
            let (run, rows) = crate::client::rows_run(records);
            match &mut self.sink {
                Sink::Csv(out) if Some(out.dialect) == first.dialect() => {
                    out.write_written(rows)?;
                    self.records += run as u64;
                }
                _ => {
                    for record in &records[..run] {
                        self.write_rows_as_text(record)?;
                    }
                }
            }
            records = &records[run..];
        }
        Ok(())
    }

    /// A record of [`crate::Rows`] for a writer of another format or
    /// dialect: written from its JSON text, which it must have kept.
    fn write_rows_as_text(&mut self, record: &crate::RowsRecord) -> io::Result<()> {
        if record.as_str().is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "this record kept only its rows ({}), not its JSON text, and this \
                     writer writes {}: read the pages as Rows<_, WithJson> to write them \
                     in another format",
                    record
                        .dialect()
                        .map_or("none left", |d| Format::Csv(d).name()),
                    self.format.name()
                ),
            ));
        }
        self.write_raw(record.as_str())
    }

    /// Writes one record given as the server's JSON text (already checked
    /// against the model, e.g. a [`crate::RawRecord`]): unchanged for JSON
    /// Lines and JSON, as its table's rows for CSV.
    ///
    /// A record whose text spans lines (a pretty-printing server) has the
    /// whitespace between its tokens removed, so each JSON Lines record
    /// stays on one line while every value keeps the bytes the server sent
    /// (re-encoding would turn `18446744073709551616` into
    /// `1.8446744073709552e19`).
    ///
    /// For CSV the record is viewed from its text (the thread's one view
    /// of `T`, reused; see [`tw_model::view_record`]) and its rows are
    /// written at once, while the view is in the cache. The rows are
    /// [`RecordWriter::write`]'s for the same record. Text that is not a
    /// record of `T` is an [`io::ErrorKind::InvalidData`] error, and
    /// nothing of it is written.
    ///
    /// ```
    /// use tw_export::model::EmployeeSkillClusters;
    /// use tw_export::output::{CsvDialect, Format, RecordWriter};
    ///
    /// let mut writer = RecordWriter::<_, EmployeeSkillClusters>::new(
    ///     Vec::new(),
    ///     Format::Csv(CsvDialect::Rfc4180),
    /// );
    /// writer.write_raw(r#"{"external_id":"e1","skill_clusters":[{"skill_cluster_name":"Data"}]}"#)?;
    /// let err = writer.write_raw(r#"{"external_id":1}"#).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    /// assert_eq!(writer.finish()?, b"e1,,Data,,,,,,,,,,\n");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write_raw(&mut self, text: &str) -> io::Result<()> {
        if let Sink::Csv(out) = &mut self.sink {
            tw_model::view_record::<T, _>(text, |view, text| {
                write_rows(out, |emit| T::view_rows(view, text, emit))
            })
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))??;
            self.records += 1;
            return Ok(());
        }
        // `contains` on bytes is a memchr.
        if text.as_bytes().contains(&b'\n') || text.as_bytes().contains(&b'\r') {
            return self.write_json_text(compact_json(text).as_bytes());
        }
        self.write_json_text(text.as_bytes())
    }

    /// Writes a page of [`crate::RawRecord`]s, as
    /// [`RecordWriter::write_raw_record`] writes each. For JSON Lines, the
    /// lines of records that lie one after the other in their page (all of
    /// a page, as servers send them) are written in one go, straight from
    /// the page to the output.
    pub fn write_raw_page(&mut self, records: &[crate::RawRecord]) -> io::Result<()> {
        let mut records = records;
        while let Some(first) = records.first() {
            let run = match (&mut self.sink, self.format) {
                (Sink::Json(out), Format::Jsonl) => {
                    let (run, lines) = crate::client::lines_run(records);
                    out.write_all(lines)?;
                    run
                }
                _ => 0,
            };
            if run == 0 {
                self.write_raw_record(first)?;
                records = &records[1..];
            } else {
                self.records += run as u64;
                records = &records[run..];
            }
        }
        Ok(())
    }

    /// Writes a [`crate::RawRecord`] unchanged: [`RecordWriter::write_raw`]
    /// without looking for line breaks in a record the scanner found on
    /// one line (most), so the bytes go straight to the output.
    pub fn write_raw_record(&mut self, record: &crate::RawRecord) -> io::Result<()> {
        if !record.is_one_line() || matches!(self.sink, Sink::Csv(_)) {
            return self.write_raw(record.as_str());
        }
        self.write_json_text(record.as_bytes())
    }

    /// Writes one record's JSON text, on one line, as a JSON Lines line or
    /// the next element of the JSON array.
    fn write_json_text(&mut self, text: &[u8]) -> io::Result<()> {
        let Sink::Json(out) = &mut self.sink else {
            // Not reached: write_raw writes a CSV record's rows.
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "JSON text cannot be written into a CSV file",
            ));
        };
        if self.format == Format::Json {
            out.write_all(if self.records == 0 { b"\n" } else { b",\n" })?;
        }
        out.write_all(text)?;
        if self.format == Format::Jsonl {
            out.write_all(b"\n")?;
        }
        self.records += 1;
        Ok(())
    }

    /// Records written, counting those before a resume.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Pushes everything buffered into `W`.
    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Json(out) => out.flush(),
            Sink::Csv(out) => out.flush(),
        }
    }

    /// The underlying writer (flush first to see every byte in it).
    pub fn get_ref(&self) -> &W {
        match &self.sink {
            Sink::Json(out) => out.get_ref(),
            Sink::Csv(out) => out.get_ref(),
        }
    }

    /// Writes the trailer (the JSON array's `]`), flushes, and returns `W`.
    pub fn finish(mut self) -> io::Result<W> {
        if let (Format::Json, Sink::Json(out)) = (self.format, &mut self.sink) {
            out.write_all(if self.records == 0 { b"]" } else { b"\n]" })?;
            if self.document.is_some() {
                out.write_all(b"}")?;
            }
            out.write_all(b"\n")?;
        }
        self.flush()?;
        match self.sink {
            Sink::Json(out) => out.into_inner(),
            Sink::Csv(out) => out.into_inner(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{self, Write};

    use super::{BUFFER, Buffered, ROOM};

    /// Fails its `fail`-th write (0-based) and writes nothing of it; takes
    /// every other write whole.
    struct FailingOnce {
        out: Vec<u8>,
        writes: usize,
        fail: usize,
    }

    impl Write for FailingOnce {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.writes += 1;
            if self.writes - 1 == self.fail {
                return Err(io::Error::other("disk full"));
            }
            self.out.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn what_a_failed_write_reports_untaken_is_never_written() {
        // Small pieces and page-sized ones; the output fails once, at each
        // of its first writes in turn.
        let piece = |i: usize| {
            let len = if i % 300 == 299 {
                ROOM + i
            } else {
                1000 + i % 50
            };
            vec![b'a' + (i % 26) as u8; len]
        };
        for fail in 0..6 {
            let mut out = Buffered::new(FailingOnce {
                out: Vec::new(),
                writes: 0,
                fail,
            });
            let mut taken = Vec::new();
            for i in 0..3 * BUFFER / 1000 {
                let piece = piece(i);
                if Buffered::write_all(&mut out, &piece).is_ok() {
                    taken.extend_from_slice(&piece);
                }
                // The buffer never grows past its room for a next piece.
                assert!(out.buf.len() < BUFFER - ROOM, "fail at {fail}, piece {i}");
            }
            let written = out.into_inner().unwrap().out;
            // The output fails a write whole (nothing of it written), so
            // what went out is exactly what was taken, in order, once.
            assert!(written == taken, "fail at {fail}");
        }
    }
}

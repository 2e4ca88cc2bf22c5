//! Reading back the partial CSV a Parquet export converts: RFC 4180, a
//! row at a time, each field as a slice of the read buffer.
//!
//! The conversion reads every byte of the table once more, so this is the
//! part of a Parquet export that is pure overhead. The csv crate's reader
//! walks a state machine byte by byte and checks each record's UTF-8; it
//! took a sixth of a 100k-employee skill-clusters export to Parquet. This
//! reader finds each field's end eight bytes at a time, hands unquoted
//! fields and quoted ones without a doubled quote over as they are, and
//! checks UTF-8 once per row.
//!
//! It reads what the csv crate reads for the text a CSV writer writes:
//! fields split by `,`, rows ended by `\n`, `\r\n` or `\r`, quoted fields
//! with `""` for a quote, empty lines skipped. It is stricter about text no
//! writer writes: a quote inside an unquoted field, text after a closing
//! quote, or a quoted field never closed is an error that names the row.

use std::io::{self, Read};
use std::ops::Range;

/// How much is read at a time; a row longer than this grows the buffer.
const READ_AT_LEAST: usize = 256 << 10;

/// A field of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field<'a> {
    /// The field's text as written: without its enclosing quotes, but with
    /// each quote of the text still doubled when `doubled` is set.
    raw: &'a [u8],
    doubled: bool,
}

impl<'a> Field<'a> {
    /// The field's text, when it holds no quote (else `None`: use
    /// [`Field::push_to`]).
    pub(crate) fn plain(self) -> Option<&'a [u8]> {
        (!self.doubled).then_some(self.raw)
    }

    /// Appends the field's text (quotes undoubled) to `out`.
    #[inline]
    pub(crate) fn push_to(self, out: &mut Vec<u8>) {
        if self.doubled {
            self.push_undoubled(out);
        } else {
            out.extend_from_slice(self.raw);
        }
    }

    /// [`Field::push_to`] for a field that holds quotes (out of line).
    #[inline(never)]
    fn push_undoubled(self, out: &mut Vec<u8>) {
        let raw = self.raw;
        let mut from = 0;
        // Each quote of the text is two quotes here: keep the first.
        while let Some(at) = find(raw, from, [b'"']) {
            out.extend_from_slice(&raw[from..=at]);
            from = at + 2;
        }
        out.extend_from_slice(&raw[from..]);
    }

    /// Whether the field is empty (a blank cell).
    pub(crate) fn is_empty(self) -> bool {
        self.raw.is_empty()
    }
}

/// Why a row could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    Io(io::Error),
    /// The row (the header is row 1; empty lines are not counted) is not
    /// RFC 4180 CSV.
    Malformed {
        row: u64,
        what: &'static str,
    },
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(err) => write!(f, "{err}"),
            ReadError::Malformed { row, what } => {
                write!(f, "row {row} of the file (the header is row 1): {what}")
            }
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io(err) => Some(err),
            ReadError::Malformed { .. } => None,
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(err: io::Error) -> Self {
        ReadError::Io(err)
    }
}

/// An RFC 4180 CSV reader that lends out each row's fields.
pub(crate) struct Rows<R> {
    input: R,
    buf: Vec<u8>,
    /// Where the next row starts in `buf`.
    pos: usize,
    /// The end of the bytes read into `buf`.
    len: usize,
    /// `input` has no more bytes.
    eof: bool,
    /// The fields of the row just read, as ranges of its bytes, and
    /// whether each holds doubled quotes.
    fields: Vec<(Range<usize>, bool)>,
    /// Rows read so far, empty lines not counted.
    rows: u64,
}

/// How far [`parse_row`] got.
enum Parsed {
    /// A row ends `n` bytes in (its line end included).
    Row(usize),
    /// An empty line: only a line end, `n` bytes.
    Empty(usize),
    /// The row goes on past the bytes given.
    More,
}

impl<R: Read> Rows<R> {
    /// A reader of `input`.
    pub(crate) fn new(input: R) -> Self {
        Rows {
            input,
            buf: Vec::new(),
            pos: 0,
            len: 0,
            eof: false,
            fields: Vec::new(),
            rows: 0,
        }
    }

    /// The next row's fields, or `None` at the end of the input.
    pub(crate) fn next_row(&mut self) -> Result<Option<Row<'_>>, ReadError> {
        loop {
            let Rows {
                buf,
                pos,
                len,
                eof,
                fields,
                rows,
                ..
            } = self;
            if *pos == *len && *eof {
                return Ok(None);
            }
            let text = &buf[*pos..*len];
            let parsed = parse_row(text, *eof, fields).map_err(|what| ReadError::Malformed {
                row: *rows + 1,
                what,
            })?;
            match parsed {
                Parsed::Row(n) => {
                    let start = *pos;
                    *pos += n;
                    *rows += 1;
                    // Every byte outside fields is ASCII, so a row of
                    // UTF-8 has fields of UTF-8.
                    if std::str::from_utf8(&text[..n]).is_err() {
                        return Err(ReadError::Malformed {
                            row: *rows,
                            what: "the row is not UTF-8",
                        });
                    }
                    // The fields' ranges are of the row's bytes.
                    return Ok(Some(Row {
                        text: &self.buf[start..*pos],
                        fields: &self.fields,
                    }));
                }
                Parsed::Empty(n) => *pos += n,
                Parsed::More => self.fill()?,
            }
        }
    }

    /// Reads more input after the bytes not yet parsed (moved to the front).
    fn fill(&mut self) -> io::Result<()> {
        self.buf.copy_within(self.pos..self.len, 0);
        self.len -= self.pos;
        self.pos = 0;
        let want = self.len + READ_AT_LEAST;
        if self.buf.len() < want {
            // Room for a whole read after what is left (a row longer than
            // the buffer doubles it, once per such row).
            self.buf.resize(want.max(2 * self.buf.len()), 0);
        }
        loop {
            match self.input.read(&mut self.buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.len += n;
                    return Ok(());
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    }
}

/// A row read by [`Rows::next_row`].
pub(crate) struct Row<'a> {
    /// The row's bytes, line end included.
    text: &'a [u8],
    /// Where each field is in `text`, and whether it holds doubled quotes.
    fields: &'a [(Range<usize>, bool)],
}

impl<'a> Row<'a> {
    /// How many fields the row has.
    pub(crate) fn len(&self) -> usize {
        self.fields.len()
    }

    /// The row's fields in order.
    pub(crate) fn fields(&self) -> impl Iterator<Item = Field<'a>> + 'a {
        let text = self.text;
        self.fields.iter().map(move |(range, doubled)| Field {
            raw: &text[range.clone()],
            doubled: *doubled,
        })
    }
}

const LO: u64 = u64::from_le_bytes([0x01; 8]);
const HI: u64 = u64::from_le_bytes([0x80; 8]);

/// The high bit of each byte of `word` that is one of `bytes`; the lowest
/// one set is always a match (a false one only follows a match, through
/// the borrow).
#[inline(always)]
fn matches<const N: usize>(word: u64, bytes: [u8; N]) -> u64 {
    let mut found = 0;
    for byte in bytes {
        let x = word ^ (LO * u64::from(byte));
        found |= x.wrapping_sub(LO) & !x;
    }
    found & HI
}

/// Where the first of `bytes` is in `b` at or after `i`: eight bytes at a
/// time (fields are short: a call to `memchr` per field costs more than
/// it saves).
#[inline(always)]
fn find<const N: usize>(b: &[u8], mut i: usize, bytes: [u8; N]) -> Option<usize> {
    while let Some(word) = b.get(i..i + 8) {
        let found = matches(u64::from_le_bytes(word.try_into().ok()?), bytes);
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b[i..]
        .iter()
        .position(|c| bytes.contains(c))
        .map(|at| i + at)
}

/// Parses the row at the start of `b` into `fields` (ranges of `b`);
/// `eof` says that no byte follows `b`.
fn parse_row(
    b: &[u8],
    eof: bool,
    fields: &mut Vec<(Range<usize>, bool)>,
) -> Result<Parsed, &'static str> {
    fields.clear();
    // A `\r` ends a line, so the `\n` of a `\r\n` split across reads
    // is an empty line: skipped.
    match b.first() {
        Some(b'\n') => return Ok(Parsed::Empty(1)),
        Some(b'\r') if b.get(1) == Some(&b'\n') => return Ok(Parsed::Empty(2)),
        Some(b'\r') => return Ok(Parsed::Empty(1)),
        _ => {}
    }
    let mut i = 0;
    loop {
        if b.get(i) == Some(&b'"') {
            let start = i + 1;
            let mut j = start;
            let mut doubled = false;
            loop {
                let Some(at) = find(b, j, [b'"']) else {
                    return if eof {
                        Err("a quoted field is not closed")
                    } else {
                        Ok(Parsed::More)
                    };
                };
                j = at;
                // A quote at the end of the bytes closes the field for
                // now; the row then asks for more, and is read again.
                if b.get(j + 1) != Some(&b'"') {
                    break;
                }
                doubled = true;
                j += 2;
            }
            fields.push((start..j, doubled));
            i = j + 1;
        } else {
            match find(b, i, [b',', b'\n', b'\r', b'"']) {
                Some(at) if b[at] == b'"' => {
                    return Err("a quote inside a field that does not start with one");
                }
                Some(at) => {
                    fields.push((i..at, false));
                    i = at;
                }
                None if eof => {
                    fields.push((i..b.len(), false));
                    return Ok(Parsed::Row(b.len()));
                }
                None => return Ok(Parsed::More),
            }
        }
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'\n') => return Ok(Parsed::Row(i + 1)),
            Some(b'\r') if b.get(i + 1) == Some(&b'\n') => return Ok(Parsed::Row(i + 2)),
            Some(b'\r') => return Ok(Parsed::Row(i + 1)),
            None if eof => return Ok(Parsed::Row(i)),
            None => return Ok(Parsed::More),
            Some(_) => return Err("text after a quoted field's closing quote"),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A reader that hands out at most `step` bytes per read, to put the
    /// buffer's end at every place in a row.
    struct Trickle<'a> {
        text: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.text.len());
            out[..n].copy_from_slice(&self.text[..n]);
            self.text = &self.text[n..];
            Ok(n)
        }
    }

    fn read_all(text: &[u8], step: usize) -> Result<Vec<Vec<Vec<u8>>>, String> {
        let mut rows = Rows::new(Trickle { text, step });
        let mut out = Vec::new();
        while let Some(row) = rows.next_row().map_err(|e| e.to_string())? {
            out.push(
                row.fields()
                    .map(|field| {
                        let mut text = Vec::new();
                        field.push_to(&mut text);
                        if let Some(plain) = field.plain() {
                            assert_eq!(plain, text);
                        }
                        text
                    })
                    .collect(),
            );
        }
        Ok(out)
    }

    /// What the csv crate reads from `text` (no header), when it reads it.
    fn csv_crate(text: &[u8]) -> Option<Vec<Vec<Vec<u8>>>> {
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text);
        reader
            .byte_records()
            .map(|row| row.ok().map(|row| row.iter().map(<[u8]>::to_vec).collect()))
            .collect()
    }

    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "[a-z0-9 ]{1,12}",
            // Every character CSV treats specially, and non-ASCII ones.
            proptest::collection::vec(
                prop_oneof![
                    Just(','),
                    Just('"'),
                    Just('\n'),
                    Just('\r'),
                    Just('x'),
                    Just('é'),
                    Just('日')
                ],
                1..8
            )
            .prop_map(String::from_iter),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Rows the csv crate writes (RFC 4180, as a Parquet export's
        /// partial CSV is written) read back as they were, whatever bytes
        /// each read brings, and as the csv crate reads them.
        #[test]
        fn rows_written_read_back_as_the_csv_crate_reads_them(
            rows in proptest::collection::vec(proptest::collection::vec(field(), 2..5), 0..6),
            crlf in any::<bool>(),
            last_line_end in any::<bool>(),
            step in 1usize..40,
        ) {
            let mut writer = ::csv::WriterBuilder::new()
                .flexible(true)
                .terminator(if crlf { ::csv::Terminator::CRLF } else { ::csv::Terminator::Any(b'\n') })
                .from_writer(Vec::new());
            for row in &rows {
                writer.write_record(row).unwrap();
            }
            let mut text = writer.into_inner().unwrap();
            if !last_line_end && !text.is_empty() {
                text.pop();
                if crlf {
                    text.pop();
                }
            }
            let expected: Vec<Vec<Vec<u8>>> = rows
                .iter()
                .map(|row| row.iter().map(|f| f.as_bytes().to_vec()).collect())
                .collect();
            prop_assert_eq!(read_all(&text, step).unwrap(), expected.clone());
            prop_assert_eq!(csv_crate(&text).unwrap(), expected);
        }

        /// Any text this reader accepts, the csv crate reads the same.
        #[test]
        fn text_read_is_read_as_the_csv_crate_reads_it(
            text in proptest::collection::vec(
                prop_oneof![Just(b','), Just(b'"'), Just(b'\n'), Just(b'\r'), Just(b'a'), Just(b'b')],
                0..30,
            ),
            step in 1usize..8,
        ) {
            if let Ok(rows) = read_all(&text, step) {
                prop_assert_eq!(Some(rows), csv_crate(&text), "{:?}", String::from_utf8_lossy(&text));
            }
        }
    }

    #[test]
    fn text_no_writer_writes_is_an_error_that_names_the_row() {
        for (text, row, what) in [
            (&b"a,b\nc,d\"e\n"[..], 2, "a quote inside"),
            (b"a,b\n\"c\"d,e\n", 2, "text after"),
            (b"a,b\nc,d\n\"e,f\n", 3, "not closed"),
            (b"a,b\n\xff,c\n", 2, "not UTF-8"),
        ] {
            let err = read_all(text, 3).unwrap_err();
            assert!(err.contains(&format!("row {row} ")), "{err}");
            assert!(err.contains(what), "{err}");
        }
    }

    #[test]
    fn empty_lines_are_skipped_and_rows_counted_without_them() {
        let mut rows = Rows::new(&b"h1,h2\n\n\r\na,\"b\"\"c\"\r\n"[..]);
        assert_eq!(rows.next_row().unwrap().unwrap().len(), 2);
        let row = rows.next_row().unwrap().unwrap();
        let fields: Vec<Field<'_>> = row.fields().collect();
        assert_eq!(fields[0].plain(), Some(&b"a"[..]));
        assert_eq!(fields[1].plain(), None);
        let mut text = Vec::new();
        fields[1].push_to(&mut text);
        assert_eq!(text, b"b\"c");
        assert!(rows.next_row().unwrap().is_none());
        assert_eq!(rows.rows, 2);
    }
}

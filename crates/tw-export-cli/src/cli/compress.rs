//! Compressed output (`-o x.jsonl.gz`, `-o x.csv.zst`) that resumes.
//!
//! Every flush ends a gzip member or zstd frame, and the next write starts
//! a new one. The export flushes before each checkpoint, so
//! the checkpointed length is always the end of a complete member: a
//! resume truncates there and appends new members. gzip and zstd readers
//! (gzip, zcat, Python, pandas, DuckDB, polars) read concatenated members
//! as one stream, so the decompressed file equals an uninterrupted run's.

use std::io::{self, Write};

/// The compression a file name asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    /// `.gz`.
    Gzip,
    /// `.zst`.
    Zstd,
}

impl Compression {
    /// The compression of a file name's last extension, if any.
    pub(crate) fn of_extension(extension: &str) -> Option<Compression> {
        match extension {
            "gz" => Some(Compression::Gzip),
            "zst" => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// The name in the checkpoint's options.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

enum Member<W: Write> {
    /// Between members: the next write starts one.
    Idle(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
    /// Only while switching.
    Gone,
}

/// A writer that compresses in members ended by `flush`, or passes
/// through when there is no compression.
pub(crate) struct Compressed<W: Write> {
    compression: Option<Compression>,
    member: Member<W>,
}

impl<W: Write> std::fmt::Debug for Compressed<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressed")
            .field("compression", &self.compression)
            .finish_non_exhaustive()
    }
}

impl<W: Write> Compressed<W> {
    pub(crate) fn new(inner: W, compression: Option<Compression>) -> Self {
        Compressed {
            compression,
            member: Member::Idle(inner),
        }
    }

    /// Ends the current member, if one is open.
    fn end_member(&mut self) -> io::Result<()> {
        let inner = match std::mem::replace(&mut self.member, Member::Gone) {
            Member::Idle(inner) => inner,
            Member::Gzip(encoder) => encoder.finish()?,
            Member::Zstd(encoder) => encoder.finish()?,
            Member::Gone => return Err(io::Error::other("a compressed member failed before")),
        };
        self.member = Member::Idle(inner);
        Ok(())
    }

    /// The underlying writer (between members it holds every byte).
    pub(crate) fn get_ref(&self) -> &W {
        match &self.member {
            Member::Idle(inner) => inner,
            Member::Gzip(encoder) => encoder.get_ref(),
            Member::Zstd(encoder) => encoder.get_ref(),
            Member::Gone => unreachable!("only while switching members"),
        }
    }

    /// Ends the current member and returns the underlying writer.
    pub(crate) fn into_inner(mut self) -> io::Result<W> {
        self.end_member()?;
        match std::mem::replace(&mut self.member, Member::Gone) {
            Member::Idle(inner) => Ok(inner),
            _ => unreachable!("end_member leaves it idle"),
        }
    }
}

impl<W: Write> Write for Compressed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let (Member::Idle(_), Some(compression)) = (&self.member, self.compression) {
            let Member::Idle(inner) = std::mem::replace(&mut self.member, Member::Gone) else {
                unreachable!("matched above");
            };
            self.member = match compression {
                Compression::Gzip => Member::Gzip(flate2::write::GzEncoder::new(
                    inner,
                    flate2::Compression::default(),
                )),
                Compression::Zstd => Member::Zstd(zstd::stream::write::Encoder::new(inner, 3)?),
            };
        }
        match &mut self.member {
            Member::Idle(inner) => inner.write(buf),
            Member::Gzip(encoder) => encoder.write(buf),
            Member::Zstd(encoder) => encoder.write(buf),
            Member::Gone => Err(io::Error::other("a compressed member failed before")),
        }
    }

    /// Ends the member (so what is written so far is a complete stream),
    /// then flushes the underlying writer.
    fn flush(&mut self) -> io::Result<()> {
        self.end_member()?;
        match &mut self.member {
            Member::Idle(inner) => inner.flush(),
            _ => unreachable!("end_member leaves it idle"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_concatenate_to_the_whole_stream() {
        for compression in [Compression::Gzip, Compression::Zstd] {
            let mut out = Compressed::new(Vec::new(), Some(compression));
            out.write_all(b"first page\n").unwrap();
            out.flush().unwrap();
            let boundary = out.get_ref().len();
            out.write_all(b"second page\n").unwrap();
            out.flush().unwrap();
            let bytes = out.into_inner().unwrap();
            // A resume truncates at a boundary and appends a new member.
            let mut resumed = Compressed::new(bytes[..boundary].to_vec(), Some(compression));
            resumed.write_all(b"second page\n").unwrap();
            let resumed = resumed.into_inner().unwrap();
            for stream in [bytes, resumed] {
                let text = match compression {
                    Compression::Gzip => {
                        let mut text = String::new();
                        io::Read::read_to_string(
                            &mut flate2::read::MultiGzDecoder::new(&stream[..]),
                            &mut text,
                        )
                        .unwrap();
                        text
                    }
                    Compression::Zstd => {
                        String::from_utf8(zstd::decode_all(&stream[..]).unwrap()).unwrap()
                    }
                };
                assert_eq!(text, "first page\nsecond page\n", "{compression:?}");
            }
        }
    }
}

//! `--format parquet`: the dataset's CSV table (same columns, same rows)
//! with typed columns.
//!
//! The export itself writes the table as RFC 4180 CSV into `PATH.partial`,
//! checkpointed and resumable exactly like a CSV export. The CSV is
//! converted into `PATH` in row groups of at most [`ROW_GROUP_ROWS`] rows
//! (memory stays flat), through `PATH.tmp` and a rename once the last page
//! is in. A new export converts the CSV as it is written ([`follow`]: a
//! thread of its own reads each write, on the second core); a resumed one
//! converts the complete CSV ([`convert`]). A row group's text cells are
//! kept as one buffer per column, not one allocation per cell, and handed
//! to the column writer a batch at a time as slices of that buffer. An
//! export that stops leaves the CSV and its checkpoint, and `--resume`
//! converts again: no row lost or doubled. A conversion that fails (a bad
//! row, a full disk) removes `PATH.tmp`, and the CSV and checkpoint stay.
//!
//! Column types come from the table's declared [`Kind`]s: integers as
//! INT64, numbers as DOUBLE, booleans as BOOLEAN, everything else (ids,
//! names, `;`-joined lists, compact JSON) as UTF-8 strings. Every column is
//! optional; a blank cell is null.

use std::fs;
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use anyhow::Context;
use bytes::Bytes;
use parquet::basic::{Compression, ConvertedType, Repetition, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use tw_export::model::Kind;

use crate::cli::writeback::Writeback;

mod read;

/// Rows per row group.
pub(crate) const ROW_GROUP_ROWS: usize = 50_000;

/// Cells per batch handed to a column writer: a text column's values are
/// built as slices of its buffer this many at a time.
const BATCH: usize = 4096;

/// A row group's values of one column (its nulls are in its levels).
enum Column {
    /// Every value's bytes one after another, and where each one ends:
    /// a cell costs no allocation of its own. With one per cell, a
    /// 100k-employee skill-clusters export to Parquet peaked at 55 MiB and
    /// took 1.9 s of CPU; with one buffer reused from group to group, 43
    /// MiB and 1.35 s.
    Text {
        text: Vec<u8>,
        ends: Vec<usize>,
    },
    Integer(Vec<i64>),
    Float(Vec<f64>),
    Boolean(Vec<bool>),
}

/// Converts the RFC 4180 CSV at `csv` (with a header of `columns`) into a
/// Parquet file at `out`, through `out.tmp`; returns the rows written.
pub(crate) fn convert(
    csv: &Path,
    out: &Path,
    columns: &[&str],
    kinds: &[Kind],
) -> anyhow::Result<u64> {
    convert_in_groups(csv, out, columns, kinds, ROW_GROUP_ROWS, BATCH)
}

/// [`convert`] with row groups of at most `group_rows` rows, handed to the
/// column writers `batch` cells at a time.
fn convert_in_groups(
    csv: &Path,
    out: &Path,
    columns: &[&str],
    kinds: &[Kind],
    group_rows: usize,
    batch: usize,
) -> anyhow::Result<u64> {
    let file = fs::File::open(csv).with_context(|| format!("reading {}", csv.display()))?;
    write_table(file, csv, out, columns, kinds, group_rows, batch)
}

/// Writes the table read from `input` (the CSV at `csv`, as it is written
/// or once it is complete) as [`convert_in_groups`] does.
fn write_table(
    input: impl std::io::Read,
    csv: &Path,
    out: &Path,
    columns: &[&str],
    kinds: &[Kind],
    group_rows: usize,
    batch: usize,
) -> anyhow::Result<u64> {
    assert_eq!(columns.len(), kinds.len(), "a kind per column");
    let mut reader = read::Rows::new(input);
    let header_is = |row: &read::Row<'_>| {
        row.len() == columns.len()
            && row
                .fields()
                .zip(columns)
                .all(|(field, name)| field.plain() == Some(name.as_bytes()))
    };
    let reading = || format!("reading {}", csv.display());
    if !reader
        .next_row()
        .with_context(reading)?
        .as_ref()
        .is_some_and(header_is)
    {
        anyhow::bail!(
            "{} does not have this dataset's columns; run without --resume to start over",
            csv.display()
        );
    }
    let fields = columns
        .iter()
        .zip(kinds)
        .map(|(name, kind)| {
            let (physical, converted) = match kind {
                Kind::Text => (Physical::BYTE_ARRAY, ConvertedType::UTF8),
                Kind::Integer => (Physical::INT64, ConvertedType::NONE),
                Kind::Float => (Physical::DOUBLE, ConvertedType::NONE),
                Kind::Boolean => (Physical::BOOLEAN, ConvertedType::NONE),
            };
            Type::primitive_type_builder(name, physical)
                .with_repetition(Repetition::OPTIONAL)
                .with_converted_type(converted)
                .build()
                .map(Arc::new)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let schema = Arc::new(
        Type::group_type_builder("schema")
            .with_fields(fields)
            .build()?,
    );
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("tw-export {}", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let tmp = {
        let mut name = out.as_os_str().to_owned();
        name.push(".tmp");
        std::path::PathBuf::from(name)
    };
    let file = crate::cli::checkpoint::create_private(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    // A table that cannot be converted (a bad row, a full disk) leaves
    // no half-written Parquet file behind; the partial CSV stays.
    let written = (|| -> anyhow::Result<u64> {
        let mut writer = SerializedFileWriter::new(Writeback::new(file), schema, props)?;
        let mut buffers = new_buffers(kinds);
        let mut levels: Vec<Vec<i16>> = vec![Vec::new(); kinds.len()];
        let mut rows = 0u64;
        let mut in_group = 0usize;
        while let Some(row) = reader.next_row().with_context(reading)? {
            if row.len() != columns.len() {
                anyhow::bail!(
                    "{}: row {} (the header is row 1) has {} fields, not the {} of the header",
                    csv.display(),
                    rows + 2,
                    row.len(),
                    columns.len()
                );
            }
            let cells = row.fields().zip(buffers.iter_mut()).zip(levels.iter_mut());
            for (i, ((cell, buffer), levels)) in cells.enumerate() {
                if cell.is_empty() {
                    levels.push(0);
                    continue;
                }
                levels.push(1);
                buffer.push(cell).map_err(|what| {
                    let mut text = Vec::new();
                    cell.push_to(&mut text);
                    anyhow::anyhow!(
                        "{}: row {} (the header is row 1): column {} holds {:?}, not {what}",
                        csv.display(),
                        rows + 2,
                        columns[i],
                        String::from_utf8_lossy(&text)
                    )
                })?;
            }
            rows += 1;
            in_group += 1;
            if in_group == group_rows {
                write_group(&mut writer, &mut buffers, &mut levels, batch)?;
                in_group = 0;
            }
        }
        if in_group > 0 || rows == 0 {
            write_group(&mut writer, &mut buffers, &mut levels, batch)?;
        }
        let mut file = writer.into_inner()?;
        file.sync_all()?;
        Ok(rows)
    })();
    let rows = match written {
        Ok(rows) => rows,
        Err(err) => {
            let _ = fs::remove_file(&tmp);
            return Err(err);
        }
    };
    fs::rename(&tmp, out)
        .with_context(|| format!("renaming {} to {}", tmp.display(), out.display()))?;
    Ok(rows)
}

/// Chunks of CSV a following conversion may hold before the export waits
/// for it (writes of up to 256 KiB each: a few MiB).
const FOLLOW_CHUNKS: usize = 16;

/// What an export hands a following conversion ([`follow`]).
enum Chunk {
    /// Bytes written to the partial CSV, in order.
    Bytes(Vec<u8>),
    /// The CSV is complete.
    End,
}

/// The export's side of a following conversion: it sends each write of
/// the partial CSV on, and says when the CSV is complete.
#[derive(Debug)]
pub(crate) struct Feed {
    chunks: Option<mpsc::SyncSender<Chunk>>,
}

impl Feed {
    /// Hands `bytes` on; `false` once the conversion has stopped (it
    /// failed, and says why when it is finished).
    pub(crate) fn send(&mut self, bytes: &[u8]) -> bool {
        let sent = self
            .chunks
            .as_ref()
            .is_some_and(|chunks| chunks.send(Chunk::Bytes(bytes.to_vec())).is_ok());
        if !sent {
            self.chunks = None;
        }
        sent
    }

    /// Says that the CSV is complete: the conversion writes the rest of
    /// the Parquet file and puts it in place.
    pub(crate) fn end(&mut self) {
        if let Some(chunks) = self.chunks.take() {
            let _ = chunks.send(Chunk::End);
        }
    }
}

/// The thread of a following conversion.
#[derive(Debug)]
pub(crate) struct Following {
    thread: Option<JoinHandle<anyhow::Result<u64>>>,
}

impl Following {
    /// Waits for the conversion, after [`Feed::end`]: the rows of the
    /// Parquet file, now in place; an error when it stopped (then it left
    /// no `PATH.tmp`, and the complete CSV can be converted instead).
    pub(crate) fn finish(mut self) -> anyhow::Result<u64> {
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(rows)) => rows,
            _ => Err(anyhow::anyhow!("the Parquet conversion stopped")),
        }
    }
}

impl Drop for Following {
    /// Waits for a conversion that was not finished: the export stopped
    /// (an error, Ctrl-C) and dropped its [`Feed`] without its end, so the
    /// conversion fails and removes its `PATH.tmp`. The feed must be
    /// dropped first (declared after this), or this waits for ever.
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts converting the partial CSV at `csv` into the Parquet file at
/// `out` while it is written: a thread reads what the export writes, as
/// [`Feed`] hands it on, and writes row groups to `out.tmp` as they fill.
/// A Parquet export then takes about as long as the longer of the export
/// and the conversion, not the two one after the other. The CSV is still
/// written whole, so that an interrupted export resumes from it.
pub(crate) fn follow(
    csv: &Path,
    out: &Path,
    columns: &'static [&'static str],
    kinds: Vec<Kind>,
) -> anyhow::Result<(Feed, Following)> {
    let (chunks, received) = mpsc::sync_channel(FOLLOW_CHUNKS);
    let (csv, out) = (csv.to_owned(), out.to_owned());
    let thread = std::thread::Builder::new()
        .name("tw-export parquet".into())
        .spawn(move || {
            let input = Received {
                chunks: received,
                chunk: Vec::new(),
                at: 0,
                ended: false,
            };
            write_table(input, &csv, &out, columns, &kinds, ROW_GROUP_ROWS, BATCH)
        })
        .context("starting the Parquet conversion")?;
    Ok((
        Feed {
            chunks: Some(chunks),
        },
        Following {
            thread: Some(thread),
        },
    ))
}

/// The CSV as a following conversion reads it: the chunks the export
/// sends, until its end. A feed dropped before its end is an error, so an
/// export that stops never leaves a Parquet file of the rows so far.
struct Received {
    chunks: mpsc::Receiver<Chunk>,
    chunk: Vec<u8>,
    at: usize,
    ended: bool,
}

impl std::io::Read for Received {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            if self.ended {
                return Ok(0);
            }
            match self.chunks.recv() {
                Ok(Chunk::Bytes(bytes)) => {
                    self.chunk = bytes;
                    self.at = 0;
                }
                Ok(Chunk::End) => self.ended = true,
                Err(_) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the export stopped before the CSV was complete",
                    ));
                }
            }
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Column {
    /// Appends a cell that is not blank; `Err` says what the cell should
    /// have been when it is not one of the column's values.
    #[inline]
    fn push(&mut self, cell: read::Field<'_>) -> Result<(), &'static str> {
        // A number or boolean holds no quote.
        fn parse<T: std::str::FromStr>(
            cell: read::Field<'_>,
            what: &'static str,
        ) -> Result<T, &'static str> {
            cell.plain()
                .and_then(|text| std::str::from_utf8(text).ok())
                .and_then(|text| text.parse().ok())
                .ok_or(what)
        }
        match self {
            Column::Text { text, ends } => {
                cell.push_to(text);
                ends.push(text.len());
            }
            Column::Integer(values) => values.push(parse(cell, "a whole number")?),
            Column::Float(values) => values.push(parse(cell, "a number")?),
            Column::Boolean(values) => values.push(parse(cell, "true or false")?),
        }
        Ok(())
    }
}

fn new_buffers(kinds: &[Kind]) -> Vec<Column> {
    kinds
        .iter()
        .map(|kind| match kind {
            Kind::Text => Column::Text {
                text: Vec::new(),
                ends: Vec::new(),
            },
            Kind::Integer => Column::Integer(Vec::new()),
            Kind::Float => Column::Float(Vec::new()),
            Kind::Boolean => Column::Boolean(Vec::new()),
        })
        .collect()
}

/// Writes the buffered rows as one row group and empties the buffers.
fn write_group(
    writer: &mut SerializedFileWriter<Writeback>,
    buffers: &mut [Column],
    levels: &mut [Vec<i16>],
    batch: usize,
) -> anyhow::Result<()> {
    let mut group = writer.next_row_group()?;
    for (buffer, levels) in buffers.iter_mut().zip(levels.iter_mut()) {
        let Some(mut column) = group.next_column()? else {
            anyhow::bail!("the Parquet schema has fewer columns than the table");
        };
        // A text column's buffer, shared while the column is written.
        let mut shared = None;
        match buffer {
            Column::Text { text, ends } => {
                // The buffer becomes shared bytes without a copy; each
                // value is a slice of it (the dictionary keeps some until
                // the column is closed).
                let bytes = shared.insert(Bytes::from(std::mem::take(text)));
                let writer = column.typed::<ByteArrayType>();
                let mut values = Vec::with_capacity(batch.min(ends.len()));
                let mut start = 0;
                let mut next = 0;
                for levels in levels.chunks(batch) {
                    let present = levels.iter().filter(|&&level| level == 1).count();
                    values.clear();
                    for &end in &ends[next..next + present] {
                        values.push(ByteArray::from(bytes.slice(start..end)));
                        start = end;
                    }
                    next += present;
                    writer.write_batch(&values, Some(levels), None)?;
                }
                ends.clear();
            }
            Column::Integer(values) => {
                column
                    .typed::<Int64Type>()
                    .write_batch(values, Some(levels), None)?;
                values.clear();
            }
            Column::Float(values) => {
                column
                    .typed::<DoubleType>()
                    .write_batch(values, Some(levels), None)?;
                values.clear();
            }
            Column::Boolean(values) => {
                column
                    .typed::<BoolType>()
                    .write_batch(values, Some(levels), None)?;
                values.clear();
            }
        }
        levels.clear();
        column.close()?;
        // Closed, the column holds no slice of the buffer (its statistics
        // are copies): the next group fills the same buffer, so the
        // conversion's memory stays what one group needs.
        if let (Some(bytes), Column::Text { text, .. }) = (shared, buffer)
            && let Ok(unique) = bytes.try_into_mut()
        {
            *text = Vec::from(unique);
            text.clear();
        }
    }
    group.close()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    use super::*;

    /// A new scratch directory for one test.
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Every row of the Parquet file at `path`, as text (`-` for null).
    fn rows_of(path: &Path) -> (usize, Vec<Vec<String>>) {
        let reader = SerializedFileReader::new(fs::File::open(path).unwrap()).unwrap();
        let groups = reader.metadata().num_row_groups();
        let rows = reader
            .get_row_iter(None)
            .unwrap()
            .map(|row| {
                row.unwrap()
                    .get_column_iter()
                    .map(|(_, field)| match field {
                        Field::Null => "-".to_owned(),
                        Field::Str(s) => s.clone(),
                        Field::Long(n) => n.to_string(),
                        other => panic!("unexpected {other:?}"),
                    })
                    .collect()
            })
            .collect();
        (groups, rows)
    }

    #[test]
    fn text_cells_survive_groups_batches_and_nulls() {
        let dir = scratch("tw-parquet");
        let csv = dir.join("t.csv");
        let out = dir.join("t.parquet");
        // 23 rows: groups of 7 (the last one short), batches of 3 that
        // fall inside and across runs of nulls, text with quotes, commas,
        // line breaks and non-ASCII, and an all-null column stretch.
        let mut text = String::from("id,name,n\n");
        let mut expected = Vec::new();
        for i in 0..23 {
            let name = match i % 5 {
                0 => String::new(),
                1 => format!("say \"hi\" {i}"),
                2 => format!("a,b\nc {i}"),
                3 => format!("Statistik & Wahrscheinlichkeit ✓ {i}"),
                _ => format!("n{i}"),
            };
            let id = if (8..12).contains(&i) {
                String::new()
            } else {
                format!("e{i}")
            };
            let n = if i % 3 == 0 {
                String::new()
            } else {
                i.to_string()
            };
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            text.push_str(&format!("{id},{quoted},{n}\n"));
            let shown = |s: &str| {
                if s.is_empty() {
                    "-".to_owned()
                } else {
                    s.to_owned()
                }
            };
            expected.push(vec![shown(&id), shown(&name), shown(&n)]);
        }
        fs::write(&csv, text).unwrap();
        let rows = convert_in_groups(
            &csv,
            &out,
            &["id", "name", "n"],
            &[Kind::Text, Kind::Text, Kind::Integer],
            7,
            3,
        )
        .unwrap();
        assert_eq!(rows, 23);
        let (groups, read) = rows_of(&out);
        assert_eq!(groups, 4);
        assert_eq!(read, expected);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A table of `rows` rows with every kind of cell, as the export writes
    /// it (RFC 4180).
    fn table(rows: usize) -> String {
        let mut text = String::from("id,name,n\n");
        for i in 0..rows {
            let name = match i % 4 {
                0 => String::new(),
                1 => format!("\"say \"\"hi\"\", a,b\n{i}\""),
                2 => format!("Statistik ✓ {i}"),
                _ => format!("n{}", i % 7),
            };
            let n = if i % 3 == 0 {
                String::new()
            } else {
                i.to_string()
            };
            text.push_str(&format!("e{i},{name},{n}\n"));
        }
        text
    }

    const COLUMNS: &[&str] = &["id", "name", "n"];

    fn kinds() -> Vec<Kind> {
        vec![Kind::Text, Kind::Text, Kind::Integer]
    }

    #[test]
    fn a_conversion_that_follows_the_csv_writes_the_file_converting_it_after_does() {
        let dir = scratch("tw-parquet-follow");
        let csv = dir.join("t.csv");
        // No row (a header only), and more than a row group, so that
        // groups are written while rows arrive.
        for table_rows in [0, ROW_GROUP_ROWS + ROW_GROUP_ROWS / 2] {
            let text = table(table_rows);
            fs::write(&csv, &text).unwrap();
            let after = dir.join("after.parquet");
            let rows = convert(&csv, &after, COLUMNS, &kinds()).unwrap();
            assert_eq!(rows, table_rows as u64);

            let followed = dir.join("followed.parquet");
            let (mut feed, following) = follow(&csv, &followed, COLUMNS, kinds()).unwrap();
            // Writes of every size, cutting rows, fields and characters.
            let mut rest = text.as_bytes();
            for size in [1usize, 2, 3, 5, 7, 100, 4096, 65_536].into_iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (chunk, after) = rest.split_at(size.min(rest.len()));
                assert!(feed.send(chunk), "the conversion takes every write");
                rest = after;
            }
            feed.end();
            assert_eq!(following.finish().unwrap(), rows);
            assert_eq!(fs::read(&followed).unwrap(), fs::read(&after).unwrap());
            assert!(!dir.join("followed.parquet.tmp").exists());
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_conversion_whose_export_stops_leaves_no_parquet_file() {
        let dir = scratch("tw-parquet-stop");
        let csv = dir.join("t.csv");
        let out = dir.join("t.parquet");
        let text = table(ROW_GROUP_ROWS + 10);
        let half = &text.as_bytes()[..text.len() / 2];

        // Finished after a feed dropped without its end: an error.
        let (mut feed, following) = follow(&csv, &out, COLUMNS, kinds()).unwrap();
        assert!(feed.send(half));
        drop(feed);
        let err = following.finish().unwrap_err();
        assert!(
            format!("{err:#}").contains("stopped before the CSV was complete"),
            "{err:#}"
        );
        assert!(!out.exists() && !dir.join("t.parquet.tmp").exists());

        // Dropped (an export's error path): waited for, and cleaned up.
        let (mut feed, following) = follow(&csv, &out, COLUMNS, kinds()).unwrap();
        assert!(feed.send(half));
        drop(feed);
        drop(following);
        assert!(!out.exists() && !dir.join("t.parquet.tmp").exists());

        // A conversion that fails stops taking the export's writes.
        let (mut feed, following) = follow(&csv, &out, COLUMNS, kinds()).unwrap();
        assert!(feed.send(b"id,name,n\ne1,x,not a number\n"));
        while feed.send(b"e2,y,2\n") {}
        feed.end();
        let err = following.finish().unwrap_err();
        assert!(format!("{err:#}").contains("not a whole number"), "{err:#}");
        assert!(!out.exists() && !dir.join("t.parquet.tmp").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_cell_that_is_not_its_columns_kind_or_a_short_row_is_an_error_naming_it() {
        let dir = scratch("tw-parquet-bad");
        let csv = dir.join("t.csv");
        let out = dir.join("t.parquet");
        let columns = ["id", "n"];
        let kinds = [Kind::Text, Kind::Integer];
        for (text, expected) in [
            (
                "id,n\ne1,1\ne2,\"x\"\"y\"\n",
                r#"row 3 (the header is row 1): column n holds "x\"y", not a whole number"#,
            ),
            (
                "id,n\ne1,1.5\n",
                r#"row 2 (the header is row 1): column n holds "1.5""#,
            ),
            (
                "id,n\ne1,1\ne2\n",
                "row 3 (the header is row 1) has 1 fields, not the 2",
            ),
            ("id,m\ne1,1\n", "does not have this dataset's columns"),
            (
                "id,n\ne1,\"1\n",
                "row 2 of the file (the header is row 1): a quoted field",
            ),
        ] {
            fs::write(&csv, text).unwrap();
            let err = convert(&csv, &out, &columns, &kinds).unwrap_err();
            assert!(format!("{err:#}").contains(expected), "{err:#}");
            assert!(!out.exists(), "no Parquet file for a bad table");
            assert!(
                !dir.join("t.parquet.tmp").exists(),
                "no half-written one either"
            );
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}

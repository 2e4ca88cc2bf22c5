//! `--format parquet`: the dataset's CSV table (same columns, same rows)
//! with typed columns.
//!
//! The export itself writes the table as RFC 4180 CSV into `PATH.partial`,
//! checkpointed and resumable exactly like a CSV export; when the last page
//! is in, the CSV is converted into `PATH` in row groups of at most
//! [`ROW_GROUP_ROWS`] rows (memory stays flat), through `PATH.tmp` and a
//! rename. A process killed during the conversion leaves the complete CSV
//! and its checkpoint, and `--resume` converts again: no row lost or doubled.
//!
//! Column types come from the table's declared [`Kind`]s: integers as
//! INT64, numbers as DOUBLE, booleans as BOOLEAN, everything else (ids,
//! names, `;`-joined lists, compact JSON) as UTF-8 strings. Every column is
//! optional; a blank cell is null.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use parquet::basic::{Compression, ConvertedType, Repetition, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use tw_export::model::Kind;

use crate::cli::writeback::Writeback;

/// Rows per row group.
pub(crate) const ROW_GROUP_ROWS: usize = 50_000;

enum Column {
    Text(Vec<ByteArray>),
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
    assert_eq!(columns.len(), kinds.len(), "a kind per column");
    let mut reader = ::csv::ReaderBuilder::new()
        .from_path(csv)
        .with_context(|| format!("reading {}", csv.display()))?;
    let headers = reader.headers()?.clone();
    if headers.iter().ne(columns.iter().copied()) {
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
    let mut writer = SerializedFileWriter::new(Writeback::new(file), schema, props)?;
    let mut buffers = new_buffers(kinds);
    let mut levels: Vec<Vec<i16>> = vec![Vec::new(); kinds.len()];
    let mut rows = 0u64;
    let mut in_group = 0usize;
    let mut record = ::csv::StringRecord::new();
    while reader.read_record(&mut record)? {
        for (i, cell) in record.iter().enumerate() {
            if cell.is_empty() {
                levels[i].push(0);
                continue;
            }
            levels[i].push(1);
            let bad = |what: &str| {
                anyhow::anyhow!(
                    "row {}: column {} holds {cell:?}, not {what}",
                    rows + 1,
                    columns[i]
                )
            };
            match &mut buffers[i] {
                Column::Text(values) => values.push(ByteArray::from(cell)),
                Column::Integer(values) => {
                    values.push(cell.parse().map_err(|_| bad("a whole number"))?)
                }
                Column::Float(values) => values.push(cell.parse().map_err(|_| bad("a number"))?),
                Column::Boolean(values) => {
                    values.push(cell.parse().map_err(|_| bad("true or false"))?)
                }
            }
        }
        rows += 1;
        in_group += 1;
        if in_group == ROW_GROUP_ROWS {
            write_group(&mut writer, &mut buffers, &mut levels)?;
            in_group = 0;
        }
    }
    if in_group > 0 || rows == 0 {
        write_group(&mut writer, &mut buffers, &mut levels)?;
    }
    let mut file = writer.into_inner()?;
    file.sync_all()?;
    fs::rename(&tmp, out)
        .with_context(|| format!("renaming {} to {}", tmp.display(), out.display()))?;
    Ok(rows)
}

fn new_buffers(kinds: &[Kind]) -> Vec<Column> {
    kinds
        .iter()
        .map(|kind| match kind {
            Kind::Text => Column::Text(Vec::new()),
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
) -> anyhow::Result<()> {
    let mut group = writer.next_row_group()?;
    for (buffer, levels) in buffers.iter_mut().zip(levels.iter_mut()) {
        let Some(mut column) = group.next_column()? else {
            anyhow::bail!("the Parquet schema has fewer columns than the table");
        };
        match buffer {
            Column::Text(values) => {
                column
                    .typed::<ByteArrayType>()
                    .write_batch(values, Some(levels), None)?;
                values.clear();
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
    }
    group.close()?;
    Ok(())
}

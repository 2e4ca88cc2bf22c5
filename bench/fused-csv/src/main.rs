//! How much of the CSV rows' cost is the generic row path, and how much is
//! writing CSV at all?
//!
//! The performance issue asks for a CSV export at most 1.3x the CPU of a
//! JSON Lines export; the bench reads 1.58x to 1.65x. Tables emit each row
//! as an array of [`tw_model::Cell`]s through a `dyn FnMut`, and the CSV
//! writer walks the cells (a match per cell, the formula guard read back
//! from the output, each field's end kept for the next row's repeat).
//! This times, on the same in-memory skill-clusters pages (pages of 100
//! employees, all includes, as the sandbox serves them, written by
//! `bench_decode --dump-pages DIR`), runs alternated round by round,
//! medians:
//!
//! * `jsonl`: the JSON Lines path as the command runs it (scan, write the
//!   checked bytes);
//! * `view`: each record viewed, nothing written (the walk the CSV path
//!   shares);
//! * `rows`: the CSV path as the command runs it (`Rows<TechwolfCsv>`:
//!   each record viewed and its rows written through `Table::view_rows`);
//! * `fused`: each record viewed as in `view`, its rows written by
//!   [`fused_rows`], a writer that knows the skill-clusters table: typed
//!   calls per column instead of cells, the cluster's seven leading fields
//!   written once and copied per skill, the guard decided on the source.
//!
//! Before timing, it checks that `fused` writes exactly the bytes `rows`
//! writes, page by page. `fused_rows` repeats `view_rows`'s column logic by
//! hand, which is why it is not the export's path: a writer like it would
//! have to be generated from each table's declaration, or tables would
//! write rows into a sink with typed methods instead of emitting cells.
//!
//! ```text
//! cargo run --release -p tw-export --example bench_decode -- --dump-pages /tmp/pages
//! cargo run --release --manifest-path bench/fused-csv/Cargo.toml -- /tmp/pages
//! ```

use std::hint::black_box;

use tw_export::output::{CsvDialect, Format, RecordWriter, TechwolfCsv};
use tw_export::{Raw, Repr, Rows};
use tw_model::view::{List, Span};
use tw_model::{Cell, EmployeeSkillClusters, SkillClusters, cells};

#[path = "../../dumped_pages.rs"]
mod dumped_pages;

use dumped_pages::{Run, median_seconds, pages};

/// Whether a value starting with `first` gets the formula guard's backtick
/// (`tw_export::output::guard_formula`'s rule, repeated here so it
/// inlines; the identity check in `main` holds the two together).
#[inline(always)]
fn guard(first: Option<&u8>) -> bool {
    matches!(
        first,
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'`')
    )
}

/// `,"text"` for text known to hold no quote.
#[inline(always)]
fn plain(out: &mut Vec<u8>, text: &[u8]) {
    out.extend_from_slice(b",\"");
    if guard(text.first()) {
        out.push(b'`');
    }
    out.extend_from_slice(text);
    out.push(b'"');
}

/// `,"text"` for any text: quotes doubled.
#[inline(never)]
fn quoted(out: &mut Vec<u8>, text: &[u8]) {
    out.extend_from_slice(b",\"");
    if guard(text.first()) {
        out.push(b'`');
    }
    for &b in text {
        out.push(b);
        if b == b'"' {
            out.push(b'"');
        }
    }
    out.push(b'"');
}

/// `,"..."` for an optional string of the view.
#[inline(always)]
fn span(out: &mut Vec<u8>, value: Option<Span>, t: &str, scratch: &mut Vec<u8>) {
    match value {
        None => out.extend_from_slice(b",\"\""),
        Some(s) if !s.is_escaped() => plain(out, s.raw_bytes(t)),
        Some(s) => {
            scratch.clear();
            s.cell(t).write_to(scratch);
            quoted(out, scratch);
        }
    }
}

/// `,"..."` for an optional list of strings of the view, joined with `;`.
#[inline(always)]
fn spans(out: &mut Vec<u8>, value: &Option<List<Span>>, t: &str, scratch: &mut Vec<u8>) {
    let Some(list) = value else {
        out.extend_from_slice(b",\"\"");
        return;
    };
    if list.iter().all(|s| !s.is_escaped()) {
        out.extend_from_slice(b",\"");
        if guard(list.first().and_then(|s| s.raw_bytes(t).first())) {
            out.push(b'`');
        }
        for (i, s) in list.iter().enumerate() {
            if i > 0 {
                out.push(b';');
            }
            out.extend_from_slice(s.raw_bytes(t));
        }
        out.push(b'"');
    } else {
        scratch.clear();
        Cell::Spans(list, t).write_to(scratch);
        quoted(out, scratch);
    }
}

/// Ends a row: `blanks` blank fields, the `extra` cell, the line end.
fn end_row(out: &mut Vec<u8>, blanks: usize, extra: &str) {
    for _ in 0..blanks {
        out.extend_from_slice(b",\"\"");
    }
    if extra.is_empty() {
        out.extend_from_slice(b",\"\"");
    } else {
        quoted(out, extra.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends the TechWolf-dialect CSV rows of one employee's record, as
/// `EmployeeSkillClusters::view_rows` and the CSV writer make them: one
/// per (cluster, skill), the employee's and the cluster's fields first
/// (`prefix`, written once per cluster), the `extra` cell last.
fn fused_rows(
    view: &tw_model::skill_clusters::EmployeeSkillClustersView,
    t: &str,
    out: &mut Vec<u8>,
    prefix: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) {
    use tw_model::skill_clusters::SkillList;
    let employee_extra = cells::extra_viewed(t, [("employee", view)]);
    // The employee's id, written without its leading comma.
    prefix.clear();
    span(prefix, Some(view.external_id), t, scratch);
    prefix.remove(0);
    let id_len = prefix.len();
    let clusters = view.skill_clusters.as_deref().unwrap_or_default();
    if clusters.is_empty() {
        out.extend_from_slice(prefix);
        end_row(out, 11, &employee_extra);
        return;
    }
    for cluster in clusters {
        let cluster_extra = cells::extra_viewed_below(
            &employee_extra,
            t,
            [("employee", view), ("cluster", cluster)],
        );
        prefix.truncate(id_len);
        span(prefix, cluster.skill_cluster_id, t, scratch);
        span(prefix, cluster.skill_cluster_name, t, scratch);
        span(prefix, cluster.domain_name, t, scratch);
        match cluster.proficiency_level {
            Some(level) => {
                scratch.clear();
                Cell::Integer(level).write_to(scratch);
                plain(prefix, scratch);
            }
            None => prefix.extend_from_slice(b",\"\""),
        }
        span(prefix, cluster.validation_state, t, scratch);
        spans(prefix, &cluster.sources, t, scratch);
        let lists = [
            (SkillList::Current, &cluster.current_skills),
            (SkillList::Related, &cluster.related_skills),
            (SkillList::Rejected, &cluster.rejected_skills),
        ];
        let mut any = false;
        for (list, skills) in lists {
            for skill in skills.as_deref().unwrap_or_default() {
                any = true;
                let skill_extra = cells::extra_viewed_below(
                    &cluster_extra,
                    t,
                    [("employee", view), ("cluster", cluster), ("skill", skill)],
                );
                out.extend_from_slice(prefix);
                plain(out, list.as_str().as_bytes());
                span(out, skill.skill_id, t, scratch);
                span(out, Some(skill.name), t, scratch);
                span(out, skill.validation_state, t, scratch);
                spans(out, &skill.skill_sources, t, scratch);
                end_row(out, 0, &skill_extra);
            }
        }
        if !any {
            out.extend_from_slice(prefix);
            end_row(out, 5, &cluster_extra);
        }
    }
}

/// The CSV path as the command runs it, page by page, into `W`.
struct RowsPath<W: std::io::Write> {
    writer: RecordWriter<W, EmployeeSkillClusters>,
    items: Vec<tw_export::RowsRecord>,
}

impl<W: std::io::Write> RowsPath<W> {
    fn new(out: W) -> Self {
        RowsPath {
            writer: RecordWriter::new(out, Format::Csv(CsvDialect::Techwolf)),
            items: Vec::new(),
        }
    }

    fn page(&mut self, body: &[u8]) {
        let mut page = <Rows<TechwolfCsv> as Repr<SkillClusters>>::decode_page(
            body.to_vec(),
            std::mem::take(&mut self.items),
        )
        .unwrap();
        self.writer.write_rows_page(&page.items).unwrap();
        <Rows<TechwolfCsv> as Repr<SkillClusters>>::release(&mut page.items);
        self.items = page.items;
    }
}

/// Each record of a page viewed, and its rows written by [`fused_rows`]
/// into `out`.
#[derive(Default)]
struct FusedPath {
    out: Vec<u8>,
    prefix: Vec<u8>,
    scratch: Vec<u8>,
}

impl FusedPath {
    fn page(&mut self, body: &[u8]) {
        let FusedPath {
            out,
            prefix,
            scratch,
        } = self;
        let page =
            tw_model::view_page_each::<SkillClusters>(body.to_vec(), |record| match record {
                tw_model::EachRecord::Record(view, text) => {
                    fused_rows(view, text, out, prefix, scratch)
                }
                tw_model::EachRecord::Restart => out.clear(),
            })
            .unwrap();
        black_box(page);
    }
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: fused-csv DIR (pages written by bench_decode --dump-pages DIR)");
    let pages = pages(&dir);
    let bytes: usize = pages.iter().map(Vec::len).sum();

    // The same bytes as the command's CSV path.
    let mut rows = RowsPath::new(Vec::new());
    let mut fused = FusedPath::default();
    for page in &pages {
        rows.page(page);
        fused.page(page);
    }
    let expected = rows.writer.finish().unwrap();
    assert!(
        expected == fused.out,
        "the fused rows differ from the command's: {} against {} bytes",
        fused.out.len(),
        expected.len()
    );
    println!(
        "fused rows identical to the command's: {} bytes of CSV from {bytes} bytes of pages",
        expected.len()
    );

    let mut jsonl = RecordWriter::<_, EmployeeSkillClusters>::new(std::io::sink(), Format::Jsonl);
    let mut raw_items = Vec::new();
    let mut rows = RowsPath::new(std::io::sink());
    let mut fused = FusedPath::default();
    let rounds = 15;
    let mut runs: [Run<'_>; 4] = [
        ("jsonl", &mut |b| {
            let page = <Raw as Repr<SkillClusters>>::decode_page(
                b.to_vec(),
                std::mem::take(&mut raw_items),
            )
            .unwrap();
            jsonl.write_raw_page(&page.items).unwrap();
            raw_items = page.items;
        }),
        ("view", &mut |b| {
            let page = tw_model::view_page_each::<SkillClusters>(b.to_vec(), |record| {
                black_box(&record);
            })
            .unwrap();
            black_box(page);
        }),
        ("rows", &mut |b| rows.page(b)),
        ("fused", &mut |b| {
            // A page's rows, as the command's path keeps them.
            fused.out.clear();
            fused.page(b);
        }),
    ];
    let medians = median_seconds(&pages, &mut runs, rounds);
    for ((name, _), seconds) in runs.iter().zip(&medians) {
        println!("{name:>6}: {:7.1} MB/s", bytes as f64 / 1e6 / seconds);
    }
    let [jsonl, view, rows, fused] = medians[..] else {
        unreachable!("four runs")
    };
    println!(
        "against the JSON Lines path: viewing {:.2}x; writing the rows: generic {:.2}x, fused {:.2}x",
        view / jsonl,
        (rows - view) / jsonl,
        (fused - view) / jsonl,
    );
}

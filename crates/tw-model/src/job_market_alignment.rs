//! `job-market-alignment`: `POST /job_architecture/export/jobs/market_alignment`,
//! per job two alignment scores against each peer group's market profile.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::dataset::{Cell, Dataset, EmitRow, Kind, Method, Paging, Table, cells};
use crate::position_matches::MatchFormat;
use crate::request::{ExportRequest, FiltersOnly};
use crate::wire::wire_struct;

/// The job-market-alignment export, declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobMarketAlignment;

impl Dataset for JobMarketAlignment {
    const NAME: &'static str = "job-market-alignment";
    const ABOUT: &'static str = "Every job's alignment with each peer group's market profile \
        (POST /job_architecture/export/jobs/market_alignment)";
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/job_architecture/export/jobs/market_alignment";
    const PAGING: Paging = Paging::Cursor;
    const MAX_LIMIT: u32 = 100;
    /// The job's id is `job_id` here, not `external_id`.
    const KEY: &'static [&'static str] = &["job_id"];
    type Body = FiltersOnly;
    type Query = Query;
    type Record = JobMarketAlignmentRecord;
}

/// A request of the job-market-alignment export.
pub type JobMarketAlignmentRequest = ExportRequest<JobMarketAlignment>;

/// The query parameters of the job-market-alignment export.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Query {
    /// `simple` (the documented record) or `explained`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<MatchFormat>,
}

wire_struct! {
    /// One job's alignment with the market.
    pub struct JobMarketAlignmentRecord => JobMarketAlignmentRecordView {
        /// The job's external id.
        req job_id: String,
        /// One pair of scores per peer group.
        opt alignment_scores: Option<Vec<AlignmentScore>>,
    }
}

wire_struct! {
    /// A job's alignment with one peer group.
    pub struct AlignmentScore => AlignmentScoreView {
        /// The peer group's name.
        opt peer_group: Option<String>,
        /// How well the job's profile covers the peer group's (0 to 1).
        opt job_to_peer_score: Option<Number>,
        /// How well the peer group's profile covers the job's (0 to 1).
        opt peer_to_job_score: Option<Number>,
    }
}

impl Table for JobMarketAlignmentRecord {
    crate::dataset::rows_over_views!(JobMarketAlignmentRecordView);

    /// One row per (job, peer group); see README.
    const COLUMNS: &'static [&'static str] = &[
        "job_id",
        "peer_group",
        "job_to_peer_score",
        "peer_to_job_score",
        "extra",
    ];
    const TYPED: &'static [(&'static str, Kind)] = &[
        ("job_to_peer_score", Kind::Float),
        ("peer_to_job_score", Kind::Float),
    ];

    fn view_rows<E>(
        view: &JobMarketAlignmentRecordView,
        t: &str,
        emit: &mut EmitRow<'_, E>,
    ) -> Result<(), E> {
        let id = view.job_id.cell(t);
        let job_extra = cells::extra_viewed(t, [("job", view)]);
        let scores = view.alignment_scores.as_deref().unwrap_or_default();
        if scores.is_empty() {
            return emit(
                &[
                    id,
                    Cell::BLANK,
                    Cell::BLANK,
                    Cell::BLANK,
                    Cell::Text(&job_extra),
                ],
                0,
            );
        }
        for (i, score) in scores.iter().enumerate() {
            emit(
                &[
                    id,
                    cells::span(&score.peer_group, t),
                    cells::shown(score.job_to_peer_score.as_ref()),
                    cells::shown(score.peer_to_job_score.as_ref()),
                    Cell::Text(&cells::extra_viewed_below(
                        &job_extra,
                        t,
                        [("job", view), ("alignment", score)],
                    )),
                ],
                usize::from(i > 0),
            )?;
        }
        Ok(())
    }
}

//! `position-matches`: `POST /export/employees/match_assigned_position`,
//! the match score between each employee and the position assigned to them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::dataset::{Cell, Dataset, EmitRow, Kind, Method, Paging, Table, cells};
use crate::profile::ExternalVendor;
use crate::request::{ExportRequest, FiltersOnly};
use crate::wire::{open_enum, wire_struct};

/// The position-matches export, declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PositionMatches;

impl Dataset for PositionMatches {
    const NAME: &'static str = "position-matches";
    const ABOUT: &'static str = "Every employee's match with their assigned position \
        (POST /export/employees/match_assigned_position)";
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/export/employees/match_assigned_position";
    const PAGING: Paging = Paging::Cursor;
    const MAX_LIMIT: u32 = 100;
    const KEY: &'static [&'static str] = &["employee_id", "job_id"];
    type Body = FiltersOnly;
    type Query = Query;
    type Record = PositionMatch;
}

/// A request of the position-matches export.
pub type PositionMatchesRequest = ExportRequest<PositionMatches>;

/// The query parameters of the position-matches export.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Query {
    /// `simple` (the documented record) or `explained`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<MatchFormat>,
    /// The skill vocabulary (this page lists `workday` and
    /// `sap_attribute_library` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_vendor: Option<ExternalVendor>,
}

open_enum! {
    /// `response_format` of the match exports.
    pub enum MatchFormat {
        /// Employee, job and score.
        Simple = "simple",
        /// With an explanation (its shape is not documented).
        Explained = "explained",
    }
}

wire_struct! {
    /// The match between an employee and their assigned position. Tenants
    /// with proficiency or criticality matching get extra fields, kept in
    /// `extra`.
    pub struct PositionMatch => PositionMatchView {
        /// The employee's external id.
        req employee_id: String,
        /// The assigned position's job id.
        req job_id: String,
        /// The match score, 0 to 1.
        opt score: Option<Number>,
    }
}

impl Table for PositionMatch {
    crate::dataset::rows_over_views!(PositionMatchView);

    /// One row per employee; see README.
    const COLUMNS: &'static [&'static str] = &["employee_id", "job_id", "score", "extra"];
    const TYPED: &'static [(&'static str, Kind)] = &[("score", Kind::Float)];

    fn view_rows<E>(view: &PositionMatchView, t: &str, emit: &mut EmitRow<'_, E>) -> Result<(), E> {
        emit(
            &[
                view.employee_id.cell(t),
                view.job_id.cell(t),
                cells::shown(view.score.as_ref()),
                Cell::Text(&cells::extra_viewed(t, [("match", view)])),
            ],
            0,
        )
    }
}

//! `job-suggestions`: `POST /job_architecture/export/suggestions`, proposed
//! changes to job skill or task profiles with their review state.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::dataset::{Cell, Dataset, EmitRow, Method, Paging, Table, cells};
use crate::profile::ExternalVendor;
use crate::request::{ExportRequest, Filter, HasFilters};
use crate::view::ViewJson;
use crate::wire::{open_enum, wire_struct};

/// The job-suggestions export, declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobSuggestions;

impl Dataset for JobSuggestions {
    const NAME: &'static str = "job-suggestions";
    const ABOUT: &'static str = "Job-architecture suggestions and their review state (POST /job_architecture/export/suggestions)";
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/job_architecture/export/suggestions";
    const PAGING: Paging = Paging::Cursor;
    const MAX_LIMIT: u32 = 100;
    const KEY: &'static [&'static str] = &["suggestion_id"];
    type Body = Body;
    type Query = Query;
    type Record = Suggestion;
}

/// A request of the job-suggestions export.
pub type JobSuggestionsRequest = ExportRequest<JobSuggestions>;

/// The body of `POST /job_architecture/export/suggestions` besides `limit`
/// and `starting_after`. Unlike the other exports, `response_format` goes
/// in the body here.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Body {
    /// Filters (`state_is_in_list`, `job_family_id_is_in_list`), all of
    /// which must match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// `list` (one record per suggestion) or a grouped format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<SuggestionFormat>,
    /// Body fields this release does not know, sent as given.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Map<String, Value>,
}

impl HasFilters for Body {
    fn filters_mut(&mut self) -> &mut Vec<Filter> {
        &mut self.filters
    }
}

/// The query parameters of the job-suggestions export.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Query {
    /// Skill suggestions (the default) or task suggestions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// The skill vocabulary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_vendor: Option<ExternalVendor>,
}

open_enum! {
    /// `response_format` of the suggestions export (in the body).
    pub enum SuggestionFormat {
        /// One record per suggestion.
        List = "list",
        /// Grouped per job (its exact name and shape are not documented).
        Grouped = "grouped",
    }
}

open_enum! {
    /// `category`: which suggestions.
    pub enum Category {
        /// Suggestions about job skills.
        Skills = "skills",
        /// Suggestions about job tasks.
        Tasks = "tasks",
    }
}

open_enum! {
    /// What a suggestion proposes.
    pub enum SuggestionType {
        /// Add a skill to the job.
        AddJobSkill = "add_job_skill",
        /// Remove a skill from the job.
        RemoveJobSkill = "remove_job_skill",
        /// Change a skill's required proficiency.
        SetJobSkillProficiency = "set_job_skill_proficiency",
        /// Change whether a skill is critical.
        SetJobSkillCriticality = "set_job_skill_criticality",
        /// Add a task to the job.
        AddJobTask = "add_job_task",
    }
}

open_enum! {
    /// Where a suggestion is in its review.
    pub enum SuggestionState {
        /// Not reviewed yet.
        Suggested = "suggested",
        /// Accepted.
        Accepted = "accepted",
        /// Rejected.
        Rejected = "rejected",
    }
}

wire_struct! {
    /// One suggestion (list format).
    pub struct Suggestion => SuggestionView {
        /// The suggestion's id.
        req suggestion_id: String,
        /// The job it is about.
        opt job_id: Option<String>,
        /// The skill it is about (skill suggestions).
        opt skill_id: Option<String>,
        /// The skill's name.
        opt skill: Option<String>,
        /// The task it is about (task suggestions).
        opt task_id: Option<String>,
        /// The task's name.
        opt task: Option<String>,
        /// The skill's domain.
        opt domain_name: Option<String>,
        /// What it proposes.
        opt suggestion_type: Option<SuggestionType>,
        /// Its review state.
        opt state: Option<SuggestionState>,
        /// The proposed values (`{}` for additions).
        opt data: Option<SuggestionData>,
    }
}

wire_struct! {
    /// The values a suggestion proposes.
    pub struct SuggestionData => SuggestionDataView {
        /// The proposed proficiency level.
        opt proficiency_level: Option<i64>,
        /// Whether the skill should be critical.
        opt critical: Option<bool>,
    }
}

impl Table for Suggestion {
    crate::dataset::rows_over_views!(SuggestionView);

    /// One row per suggestion; see README.
    const COLUMNS: &'static [&'static str] = &[
        "suggestion_id",
        "job_id",
        "suggestion_type",
        "state",
        "skill_id",
        "skill",
        "task_id",
        "task",
        "domain_name",
        "data",
        "extra",
    ];

    fn view_rows<E>(view: &SuggestionView, t: &str, emit: &mut EmitRow<'_, E>) -> Result<(), E> {
        let data = view
            .data
            .as_ref()
            .map(|data| ViewJson::<SuggestionData>::new(data, t));
        emit(
            &[
                view.suggestion_id.cell(t),
                cells::span(&view.job_id, t),
                cells::span(&view.suggestion_type, t),
                cells::span(&view.state, t),
                cells::span(&view.skill_id, t),
                cells::span(&view.skill, t),
                cells::span(&view.task_id, t),
                cells::span(&view.task, t),
                cells::span(&view.domain_name, t),
                cells::json(data.as_ref()),
                Cell::Text(&cells::extra_viewed(t, [("suggestion", view)])),
            ],
            0,
        )
    }
}

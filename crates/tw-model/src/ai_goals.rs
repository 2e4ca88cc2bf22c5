//! `ai-goals`: `POST /export/employees/ai_goals`, the AI-generated goals of
//! every employee. TechWolf's page is cut off before its field tables, so
//! every field but the employee's id is optional here.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::dataset::cells::ViewedLabels;
use crate::dataset::{Cell, Dataset, EmitRow, Kind, Method, Paging, Table, cells};
use crate::profile::ExternalVendor;
use crate::request::{ExportRequest, FiltersOnly};
use crate::wire::{open_enum, wire_struct};

/// The AI-goals export, declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AiGoals;

impl Dataset for AiGoals {
    const NAME: &'static str = "ai-goals";
    const ABOUT: &'static str =
        "Every employee's AI-generated goals (POST /export/employees/ai_goals)";
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/export/employees/ai_goals";
    const PAGING: Paging = Paging::Cursor;
    const MAX_LIMIT: u32 = 100;
    /// A goal is an employee's goal in one version (inferred).
    const KEY: &'static [&'static str] = &["external_id", "version"];
    type Body = FiltersOnly;
    type Query = Query;
    type Record = AiGoal;
}

/// A request of the AI-goals export.
pub type AiGoalsRequest = ExportRequest<AiGoals>;

/// The query parameters of the AI-goals export.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Query {
    /// The skill vocabulary to answer in (default `techwolf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_vendor: Option<ExternalVendor>,
    /// Which versions of each goal (default `latest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<Versions>,
}

open_enum! {
    /// `versions`: which versions of each employee's goal to return. Only
    /// `latest` is documented; the rest of the list is cut off.
    pub enum Versions {
        /// The latest version only.
        Latest = "latest",
    }
}

wire_struct! {
    /// One AI-generated goal of an employee.
    pub struct AiGoal => AiGoalView {
        /// The employee's external id.
        req external_id: String,
        /// A short title.
        opt goal: Option<String>,
        /// The longer text.
        opt description: Option<String>,
        /// The skills the goal aims at (ids only).
        opt target_skills: Option<Vec<SkillRef>>,
        /// The tasks the goal aims at (ids only).
        opt target_tasks: Option<Vec<TaskRef>>,
        /// A job's external id the goal relates to.
        opt job_id: Option<String>,
        /// The goal's version.
        opt version: Option<i64>,
        /// When it was created (ISO 8601 with offset).
        opt created_on: Option<String>,
        /// When it last changed (ISO 8601 with offset).
        opt last_updated: Option<String>,
    }
}

wire_struct! {
    /// A reference to a skill.
    pub struct SkillRef => SkillRefView {
        /// The skill's id.
        req skill_id: String,
    }
}

wire_struct! {
    /// A reference to a task.
    pub struct TaskRef => TaskRefView {
        /// The task's id.
        req task_id: String,
    }
}

impl Table for AiGoal {
    crate::dataset::rows_over_views!(AiGoalView);

    /// One row per goal; see README.
    const COLUMNS: &'static [&'static str] = &[
        "employee_external_id",
        "version",
        "goal",
        "description",
        "job_id",
        "target_skill_ids",
        "target_task_ids",
        "created_on",
        "last_updated",
        "extra",
    ];
    const TYPED: &'static [(&'static str, Kind)] = &[("version", Kind::Integer)];

    fn view_rows<E>(view: &AiGoalView, t: &str, emit: &mut EmitRow<'_, E>) -> Result<(), E> {
        // The target lists show ids only: what else an item carries goes
        // to `extra` (`goal.target_skills[0].<field>`).
        let extra = cells::extra_viewed_with_items(
            t,
            [("goal", view)],
            &[
                ("goal.target_skills", &view.target_skills),
                ("goal.target_tasks", &view.target_tasks),
            ],
        );
        let skills = ViewedLabels::new(&view.target_skills, t, |skill| skill.skill_id);
        let tasks = ViewedLabels::new(&view.target_tasks, t, |task| task.task_id);
        emit(
            &[
                view.external_id.cell(t),
                cells::shown(view.version),
                cells::span(&view.goal, t),
                cells::span(&view.description, t),
                cells::span(&view.job_id, t),
                skills.cell(),
                tasks.cell(),
                cells::span(&view.created_on, t),
                cells::span(&view.last_updated, t),
                Cell::Text(&extra),
            ],
            0,
        )
    }
}

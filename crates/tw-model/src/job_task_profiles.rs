//! `job-task-profiles`: `POST /job_architecture/export/jobs/task_profiles`
//! (experimental), every job's task profile, oldest job first.

use serde_json::Number;

use crate::dataset::{Cell, Dataset, EmitRow, Kind, Method, Paging, Table, cells};
use crate::enums::ValidationState;
use crate::profile::ProfileQuery;
use crate::request::{ExportRequest, FilteredBody};
use crate::task_profiles::{AiImpact, LinkedSkill};
use crate::wire::{open_enum, wire_struct};

/// The job-task-profiles export, declared. TechWolf marks it experimental.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobTaskProfiles;

impl Dataset for JobTaskProfiles {
    const NAME: &'static str = "job-task-profiles";
    const ABOUT: &'static str = "Every job's task profile \
        (POST /job_architecture/export/jobs/task_profiles, experimental)";
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/job_architecture/export/jobs/task_profiles";
    const PAGING: Paging = Paging::Cursor;
    const MAX_LIMIT: u32 = 100;
    const KEY: &'static [&'static str] = &["external_id"];
    /// Job filters (`job_family_id_is_in_list` assumed, as on the sibling
    /// job exports) and include values.
    type Body = FilteredBody<Include>;
    type Query = ProfileQuery;
    type Record = JobTaskProfile;
}

/// A request of the job-task-profiles export.
pub type JobTaskProfilesRequest = ExportRequest<JobTaskProfiles>;

open_enum! {
    /// An optional part of each job task, asked for in `include`.
    pub enum Include {
        /// `tasks[].ai_impact`.
        AiImpact = "ai_impact",
        /// `tasks[].source_data`: the job profile data each task came from.
        SourceData = "source_data",
        /// `tasks[].weekly_hours`.
        WeeklyHours = "weekly_hours",
        /// `tasks[].linked_skills`.
        LinkedSkills = "linked_skills",
        /// Tasks rejected through feedback, too.
        RejectedTasks = "rejected_tasks",
    }
}

impl Include {
    /// Every value TechWolf documents: the command's default.
    pub const ALL: [Include; 5] = [
        Include::AiImpact,
        Include::SourceData,
        Include::WeeklyHours,
        Include::LinkedSkills,
        Include::RejectedTasks,
    ];
}

wire_struct! {
    /// One job's record in the job-task-profiles export.
    pub struct JobTaskProfile {
        /// The job's external id.
        req external_id: String,
        /// The job's tasks (`[]` without a task profile).
        opt tasks: Option<Vec<JobTask>>,
    }
}

impl JobTaskProfile {
    /// The tasks, empty when the field was absent.
    pub fn task_list(&self) -> &[JobTask] {
        self.tasks.as_deref().unwrap_or_default()
    }
}

wire_struct! {
    /// One task of a job's task profile.
    pub struct JobTask {
        /// The task's id (a slug).
        req task_id: String,
        /// The task's name.
        req task: String,
        /// Whether the task was validated.
        opt validation_state: Option<ValidationState>,
        /// Estimated hours per week.
        opt weekly_hours: Option<Number>,
        /// How AI affects the task.
        opt ai_impact: Option<AiImpact>,
        /// The skills linked to the task.
        opt linked_skills: Option<Vec<LinkedSkill>>,
        /// The job profile data the task came from.
        opt source_data: Option<Vec<SourceData>>,
    }
}

wire_struct! {
    /// A job profile-data entry a task came from.
    pub struct SourceData {
        /// The entry's id.
        opt external_id: Option<String>,
    }
}

impl Table for JobTaskProfile {
    /// One row per (job, task); see README.
    const COLUMNS: &'static [&'static str] = &[
        "job_external_id",
        "task_id",
        "task",
        "validation_state",
        "weekly_hours",
        "ai_impact_level",
        "ai_impact_rationale",
        "linked_skills",
        "source_data",
        "extra",
    ];
    const TYPED: &'static [(&'static str, Kind)] = &[("weekly_hours", Kind::Float)];

    fn rows<E>(&self, emit: &mut EmitRow<'_, E>) -> Result<(), E> {
        let job_extra = cells::extra(&[("job", self)]);
        let tasks = self.task_list();
        if tasks.is_empty() {
            let mut row: [Cell<'_>; 10] = Default::default();
            row[0] = Cell::Text(self.external_id.as_str());
            row[9] = Cell::Text(&job_extra);
            return emit(&row, 0);
        }
        for (i, task) in tasks.iter().enumerate() {
            let impact = task.ai_impact.as_ref();
            let task_extra = cells::extra_below(&job_extra, &[("job", self), ("task", task)]);
            // The impact's unknown fields, when it has any, below the task's.
            let impact_extra = impact.map(|impact| {
                cells::extra_below(
                    &task_extra,
                    &[("job", self), ("task", task), ("task.ai_impact", impact)],
                )
            });
            let mut row: [Cell<'_>; 10] = Default::default();
            row[0] = Cell::Text(self.external_id.as_str());
            row[1] = Cell::Text(task.task_id.as_str());
            row[2] = Cell::Text(task.task.as_str());
            row[3] = cells::label(&task.validation_state, ValidationState::as_str);
            row[4] = cells::shown(task.weekly_hours.as_ref());
            row[5] = impact.map_or(Cell::BLANK, |i| cells::text(&i.level));
            row[6] = impact.map_or(Cell::BLANK, |i| cells::text(&i.rationale));
            row[7] = cells::json(task.linked_skills.as_ref());
            row[8] = cells::json(task.source_data.as_ref());
            row[9] = Cell::Text(impact_extra.as_deref().unwrap_or(&task_extra));
            emit(&row, usize::from(i > 0))?;
        }
        Ok(())
    }
}

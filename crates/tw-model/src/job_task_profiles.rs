//! `job-task-profiles`: `POST /job_architecture/export/jobs/task_profiles`
//! (experimental), every job's task profile, oldest job first.

use serde_json::Number;

use crate::dataset::{Dataset, EmitRow, Kind, Method, Paging, Table};
use crate::enums::ValidationState;
use crate::profile::ProfileQuery;
use crate::request::{ExportRequest, FilteredBody};
use crate::task_profiles::{AiImpact, LinkedSkill, TaskRow, task_rows};
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
    pub struct JobTaskProfile => JobTaskProfileView {
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
    pub struct JobTask => JobTaskView {
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
    pub struct SourceData => SourceDataView {
        /// The entry's id.
        opt external_id: Option<String>,
    }
}

impl Table for JobTaskProfile {
    crate::dataset::rows_over_views!(JobTaskProfileView);

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

    fn view_rows<E>(
        view: &JobTaskProfileView,
        t: &str,
        emit: &mut EmitRow<'_, E>,
    ) -> Result<(), E> {
        let tasks = view.tasks.as_deref().unwrap_or_default();
        let tasks = tasks.iter().map(|task| TaskRow::<SourceData> {
            task,
            task_id: task.task_id,
            name: task.task,
            validation_state: task.validation_state,
            weekly_hours: task.weekly_hours.as_ref(),
            ai_impact: task.ai_impact.as_ref(),
            linked_skills: task.linked_skills.as_ref(),
            sources: task.source_data.as_ref(),
        });
        task_rows(("job", view), view.external_id, t, tasks, emit)
    }
}

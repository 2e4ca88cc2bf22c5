//! `task-profiles`: `POST /export/employees/task_profiles` (experimental),
//! every employee's task profile, oldest employee first.

use serde_json::Number;

use crate::dataset::{Cell, Dataset, EmitRow, Kind, Method, Paging, Table, cells};
use crate::enums::ValidationState;
use crate::profile::ProfileQuery;
use crate::request::{ExportRequest, FilteredBody};
use crate::skill_profiles::SourceEvent;
use crate::wire::{open_enum, wire_struct};

/// The task-profiles export, declared. TechWolf marks it experimental.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaskProfiles;

impl Dataset for TaskProfiles {
    const NAME: &'static str = "task-profiles";
    const ABOUT: &'static str =
        "Every employee's task profile (POST /export/employees/task_profiles, experimental)";
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/export/employees/task_profiles";
    const PAGING: Paging = Paging::Cursor;
    const MAX_LIMIT: u32 = 100;
    const KEY: &'static [&'static str] = &["external_id"];
    type Body = FilteredBody<Include>;
    type Query = ProfileQuery;
    type Record = EmployeeTaskProfile;
}

/// A request of the task-profiles export.
pub type TaskProfilesRequest = ExportRequest<TaskProfiles>;

open_enum! {
    /// An optional part of each task, asked for in `include`.
    pub enum Include {
        /// `tasks[].ai_impact`.
        AiImpact = "ai_impact",
        /// `tasks[].source_events`.
        SourceEvents = "source_events",
        /// `tasks[].weekly_hours`.
        WeeklyHours = "weekly_hours",
        /// `tasks[].linked_skills` (names follow `external_vendor`).
        LinkedSkills = "linked_skills",
        /// Tasks rejected through feedback, too.
        RejectedTasks = "rejected_tasks",
    }
}

impl Include {
    /// Every value TechWolf documents: the command's default.
    pub const ALL: [Include; 5] = [
        Include::AiImpact,
        Include::SourceEvents,
        Include::WeeklyHours,
        Include::LinkedSkills,
        Include::RejectedTasks,
    ];
}

wire_struct! {
    /// One employee's record in the task-profiles export.
    pub struct EmployeeTaskProfile {
        /// The employee's external id. An opaque string.
        req external_id: String,
        /// The employee's tasks (`[]` without a task profile);
        /// `task_list()` gives an empty-when-absent view.
        opt tasks: Option<Vec<Task>>,
    }
}

impl EmployeeTaskProfile {
    /// The tasks, empty when the field was absent.
    pub fn task_list(&self) -> &[Task] {
        self.tasks.as_deref().unwrap_or_default()
    }
}

wire_struct! {
    /// One task of a task profile.
    pub struct Task {
        /// The task's id (a slug in TechWolf's samples).
        req task_id: String,
        /// The task's name.
        req task: String,
        /// Whether the task was validated.
        opt validation_state: Option<ValidationState>,
        /// Estimated hours per week (`include: weekly_hours`).
        opt weekly_hours: Option<Number>,
        /// How AI affects the task (`include: ai_impact`).
        opt ai_impact: Option<AiImpact>,
        /// The skills linked to the task (`include: linked_skills`).
        opt linked_skills: Option<Vec<LinkedSkill>>,
        /// The events behind the task (`include: source_events`).
        opt source_events: Option<Vec<SourceEvent>>,
    }
}

wire_struct! {
    /// How AI affects a task.
    pub struct AiImpact {
        /// The level: `H1`, `H2`, `H3` seen (meaning not documented).
        opt level: Option<String>,
        /// Why, in free text.
        opt rationale: Option<String>,
    }
}

wire_struct! {
    /// A skill linked to a task or job.
    pub struct LinkedSkill {
        /// The skill's id.
        req skill_id: String,
        /// The skill's name in the chosen vocabulary.
        opt skill: Option<String>,
    }
}

impl Table for EmployeeTaskProfile {
    /// One row per (employee, task); see README.
    const COLUMNS: &'static [&'static str] = &[
        "employee_external_id",
        "task_id",
        "task",
        "validation_state",
        "weekly_hours",
        "ai_impact_level",
        "ai_impact_rationale",
        "linked_skills",
        "source_events",
        "extra",
    ];
    const TYPED: &'static [(&'static str, Kind)] = &[("weekly_hours", Kind::Float)];

    fn rows<E>(&self, emit: &mut EmitRow<'_, E>) -> Result<(), E> {
        let employee_extra = cells::extra(&[("employee", self)]);
        let tasks = self.task_list();
        if tasks.is_empty() {
            let mut row: [Cell<'_>; 10] = Default::default();
            row[0] = Cell::Text(self.external_id.as_str());
            row[9] = Cell::Text(&employee_extra);
            return emit(&row, 0);
        }
        for (i, task) in tasks.iter().enumerate() {
            let impact = task.ai_impact.as_ref();
            let task_extra =
                cells::extra_below(&employee_extra, &[("employee", self), ("task", task)]);
            // The impact's unknown fields, when it has any, below the task's.
            let impact_extra = impact.map(|impact| {
                cells::extra_below(
                    &task_extra,
                    &[
                        ("employee", self),
                        ("task", task),
                        ("task.ai_impact", impact),
                    ],
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
            row[8] = cells::json(task.source_events.as_ref());
            row[9] = Cell::Text(impact_extra.as_deref().unwrap_or(&task_extra));
            emit(&row, usize::from(i > 0))?;
        }
        Ok(())
    }
}

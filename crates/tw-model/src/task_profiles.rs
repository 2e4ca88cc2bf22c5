//! `task-profiles`: `POST /export/employees/task_profiles` (experimental),
//! every employee's task profile, oldest employee first.

use serde_json::Number;

use crate::dataset::{Cell, Dataset, EmitRow, Kind, Method, Paging, Table, Unknown, cells};
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
    pub struct EmployeeTaskProfile => EmployeeTaskProfileView {
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
    pub struct Task => TaskView {
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
    pub struct AiImpact => AiImpactView {
        /// The level: `H1`, `H2`, `H3` seen (meaning not documented).
        opt level: Option<String>,
        /// Why, in free text.
        opt rationale: Option<String>,
    }
}

wire_struct! {
    /// A skill linked to a task or job.
    pub struct LinkedSkill => LinkedSkillView {
        /// The skill's id.
        req skill_id: String,
        /// The skill's name in the chosen vocabulary.
        opt skill: Option<String>,
    }
}

impl Table for EmployeeTaskProfile {
    crate::dataset::rows_over_typed_records!();

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
        let tasks = self.task_list().iter().map(|task| TaskRow {
            task,
            task_id: &task.task_id,
            name: &task.task,
            validation_state: &task.validation_state,
            weekly_hours: task.weekly_hours.as_ref(),
            ai_impact: task.ai_impact.as_ref(),
            linked_skills: task.linked_skills.as_ref(),
            sources: cells::json(task.source_events.as_ref()),
        });
        task_rows(("employee", self), &self.external_id, tasks, emit)
    }
}

/// What a row of either task export (employees' or jobs') shows of one
/// task: the two task types differ only in their last list.
pub(crate) struct TaskRow<'t> {
    /// The task, for its unknown fields.
    pub task: &'t dyn Unknown,
    pub task_id: &'t str,
    pub name: &'t str,
    pub validation_state: &'t Option<ValidationState>,
    pub weekly_hours: Option<&'t Number>,
    pub ai_impact: Option<&'t AiImpact>,
    pub linked_skills: Option<&'t Vec<LinkedSkill>>,
    /// The last column: `source_events` or `source_data`.
    pub sources: Cell<'t>,
}

/// The rows of one owner's tasks (an employee's or a job's): one per
/// task, or one with blank task columns when there are none. `owner` is
/// its level name in the `extra` cell and the owner.
pub(crate) fn task_rows<'t, E>(
    owner: (&'static str, &'t dyn Unknown),
    owner_id: &'t str,
    tasks: impl Iterator<Item = TaskRow<'t>>,
    emit: &mut EmitRow<'_, E>,
) -> Result<(), E> {
    let owner_extra = cells::extra(&[owner]);
    let mut tasks = tasks.peekable();
    if tasks.peek().is_none() {
        let mut row: [Cell<'_>; 10] = Default::default();
        row[0] = Cell::Text(owner_id);
        row[9] = Cell::Text(&owner_extra);
        return emit(&row, 0);
    }
    for (i, task) in tasks.enumerate() {
        let impact = task.ai_impact;
        let task_extra = cells::extra_below(&owner_extra, &[owner, ("task", task.task)]);
        // The impact's unknown fields, when it has any, below the task's.
        let impact_extra = impact.map(|impact| {
            cells::extra_below(
                &task_extra,
                &[owner, ("task", task.task), ("task.ai_impact", impact)],
            )
        });
        let row = [
            Cell::Text(owner_id),
            Cell::Text(task.task_id),
            Cell::Text(task.name),
            cells::label(task.validation_state, ValidationState::as_str),
            cells::shown(task.weekly_hours),
            impact.map_or(Cell::BLANK, |i| cells::text(&i.level)),
            impact.map_or(Cell::BLANK, |i| cells::text(&i.rationale)),
            cells::json(task.linked_skills),
            task.sources,
            Cell::Text(impact_extra.as_deref().unwrap_or(&task_extra)),
        ];
        emit(&row, usize::from(i > 0))?;
    }
    Ok(())
}

//! `task-profiles`: `POST /export/employees/task_profiles` (experimental),
//! every employee's task profile, oldest employee first.

use serde_json::Number;

use crate::dataset::{Cell, Dataset, EmitRow, Kind, Method, Paging, Table, cells};
use crate::enums::ValidationState;
use crate::profile::ProfileQuery;
use crate::request::{ExportRequest, FilteredBody};
use crate::skill_profiles::SourceEvent;
use crate::view::{List, ObjectView, Span, ViewJson, Viewable};
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
    crate::dataset::rows_over_views!(EmployeeTaskProfileView);

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

    fn view_rows<E>(
        view: &EmployeeTaskProfileView,
        t: &str,
        emit: &mut EmitRow<'_, E>,
    ) -> Result<(), E> {
        let tasks = view.tasks.as_deref().unwrap_or_default();
        let tasks = tasks.iter().map(|task| TaskRow::<SourceEvent> {
            task,
            task_id: task.task_id,
            name: task.task,
            validation_state: task.validation_state,
            weekly_hours: task.weekly_hours.as_ref(),
            ai_impact: task.ai_impact.as_ref(),
            linked_skills: task.linked_skills.as_ref(),
            sources: task.source_events.as_ref(),
        });
        task_rows(("employee", view), view.external_id, t, tasks, emit)
    }
}

/// What a row of either task export (employees' or jobs') shows of one
/// viewed task: the two task types differ only in their last list, of
/// `S` (`source_events` or `source_data`).
pub(crate) struct TaskRow<'t, S: Viewable> {
    /// The task, for its unknown fields.
    pub task: &'t dyn ObjectView,
    pub task_id: Span,
    pub name: Span,
    pub validation_state: Option<Span>,
    pub weekly_hours: Option<&'t Number>,
    pub ai_impact: Option<&'t AiImpactView>,
    pub linked_skills: Option<&'t List<LinkedSkillView>>,
    /// The last column's list.
    pub sources: Option<&'t List<S::View>>,
}

/// The rows of one owner's viewed tasks (an employee's or a job's), whose
/// strings are in `t`: one per task, or one with blank task columns when
/// there are none. `owner` is its level name in the `extra` cell and the
/// owner.
pub(crate) fn task_rows<'t, S, E>(
    owner: (&'static str, &'t dyn ObjectView),
    owner_id: Span,
    t: &'t str,
    tasks: impl Iterator<Item = TaskRow<'t, S>>,
    emit: &mut EmitRow<'_, E>,
) -> Result<(), E>
where
    S: Viewable + serde::Serialize + serde::de::DeserializeOwned,
{
    let owner_extra = cells::extra_viewed(t, [owner]);
    let mut tasks = tasks.peekable();
    if tasks.peek().is_none() {
        let mut row: [Cell<'_>; 10] = Default::default();
        row[0] = owner_id.cell(t);
        row[9] = Cell::Text(&owner_extra);
        return emit(&row, 0);
    }
    for (i, task) in tasks.enumerate() {
        let impact = task.ai_impact;
        let task_extra = cells::extra_viewed_below(&owner_extra, t, [owner, ("task", task.task)]);
        // The impact's unknown fields, when it has any, below the task's.
        let impact_extra = impact.map(|impact| {
            cells::extra_viewed_below(
                &task_extra,
                t,
                [owner, ("task", task.task), ("task.ai_impact", impact)],
            )
        });
        let linked_skills = task
            .linked_skills
            .map(|list| ViewJson::<Vec<LinkedSkill>>::new(list, t));
        let sources = task.sources.map(|list| ViewJson::<Vec<S>>::new(list, t));
        let row = [
            owner_id.cell(t),
            task.task_id.cell(t),
            task.name.cell(t),
            cells::span(&task.validation_state, t),
            cells::shown(task.weekly_hours),
            impact.map_or(Cell::BLANK, |i| cells::span(&i.level, t)),
            impact.map_or(Cell::BLANK, |i| cells::span(&i.rationale, t)),
            cells::json(linked_skills.as_ref()),
            cells::json(sources.as_ref()),
            Cell::Text(impact_extra.as_deref().unwrap_or(&task_extra)),
        ];
        emit(&row, usize::from(i > 0))?;
    }
    Ok(())
}

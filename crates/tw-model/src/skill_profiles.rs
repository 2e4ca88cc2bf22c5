//! `skill-profiles`: `POST /export/employees/skill_profiles`, every
//! employee's skill profile (one record per employee, oldest first).

use serde_json::Number;

use crate::dataset::{Cell, Dataset, EmitRow, Kind, Method, Paging, Table, cells};
use crate::enums::{SkillSource, ValidationState};
pub use crate::profile::{ExternalVendor, ProfileQuery, ResponseFormat, SortedBody, Sorting};
use crate::request::ExportRequest;
use crate::view::ViewJson;
use crate::wire::{open_enum, wire_struct};

/// The skill-profiles export, declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SkillProfiles;

impl Dataset for SkillProfiles {
    const NAME: &'static str = "skill-profiles";
    const ABOUT: &'static str =
        "Every employee's skill profile (POST /export/employees/skill_profiles)";
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/export/employees/skill_profiles";
    const PAGING: Paging = Paging::Cursor;
    const MAX_LIMIT: u32 = 100;
    const KEY: &'static [&'static str] = &["external_id"];
    type Body = Body;
    type Query = Query;
    type Record = EmployeeSkillProfile;
}

/// A request of the skill-profiles export.
pub type SkillProfilesRequest = ExportRequest<SkillProfiles>;

/// The body of `POST /export/employees/skill_profiles` besides `limit` and
/// `starting_after`: employee filters, include values, skill order.
pub type Body = SortedBody<Include>;

/// The query parameters of the skill-profiles export.
pub type Query = ProfileQuery;

open_enum! {
    /// An optional part of each skill profile, asked for in `include`.
    pub enum Include {
        /// `skills[].validation_state`.
        SkillValidationState = "skill_validation_state",
        /// `skills[].sources` and `skills[].source_events`.
        Sources = "sources",
        /// Skills rejected through feedback, too.
        RejectedSkills = "rejected_skills",
        /// The record-level `low_data_availability` flag.
        LowDataAvailabilityFlag = "low_data_availability_flag",
        /// The employee's `seniority`: described by TechWolf's docs but
        /// missing from their list of values, so not sent by default.
        Seniority = "seniority",
    }
}

impl Include {
    /// The values TechWolf's enum lists (every one but `seniority`): the
    /// command's default.
    pub const DOCUMENTED: [Include; 4] = [
        Include::SkillValidationState,
        Include::Sources,
        Include::RejectedSkills,
        Include::LowDataAvailabilityFlag,
    ];
}

wire_struct! {
    /// One employee's record in the skill-profiles export.
    pub struct EmployeeSkillProfile => EmployeeSkillProfileView {
        /// The employee's external id. An opaque string.
        req external_id: String,
        /// How many skill events the employee has.
        opt num_skill_events: Option<i64>,
        /// Whether TechWolf has little data on the employee
        /// (`include: low_data_availability_flag`).
        opt low_data_availability: Option<bool>,
        /// The employee's seniority (scale not documented).
        opt seniority: Option<Number>,
        /// The employee's skills; `skills()` gives an empty-when-absent view.
        opt skills: Option<Vec<ProfileSkill>>,
    }
}

impl EmployeeSkillProfile {
    /// The skills, empty when the field was absent.
    pub fn skill_list(&self) -> &[ProfileSkill] {
        self.skills.as_deref().unwrap_or_default()
    }
}

wire_struct! {
    /// One skill of an employee's profile.
    pub struct ProfileSkill => ProfileSkillView {
        /// The skill's id.
        req skill_id: String,
        /// The skill's name in the chosen vocabulary.
        req skill: String,
        /// Whether the skill was validated (`include: skill_validation_state`).
        opt validation_state: Option<ValidationState>,
        /// The event types behind the skill (`include: sources`).
        opt sources: Option<Vec<SkillSource>>,
        /// The skill events behind the skill.
        opt source_events: Option<Vec<SourceEvent>>,
        /// The employee's own rating, on the integer scale.
        opt self_rated_proficiency_level: Option<i64>,
        /// The employee's own rating, 0 to 1.
        opt self_rated_proficiency_float: Option<Number>,
        /// TechWolf's inferred proficiency, on the integer scale.
        opt inferred_proficiency_level: Option<i64>,
        /// TechWolf's inferred proficiency, 0 to 1.
        opt inferred_proficiency_float: Option<Number>,
    }
}

wire_struct! {
    /// A skill event behind a profile skill.
    pub struct SourceEvent => SourceEventView {
        /// The skill event's id.
        opt external_id: Option<String>,
        /// The kind of event (same values as `sources`).
        opt event_type: Option<SkillSource>,
        /// The system the event came from, free text (e.g. `workday`).
        opt source: Option<String>,
    }
}

impl Table for EmployeeSkillProfile {
    crate::dataset::rows_over_views!(EmployeeSkillProfileView);

    /// One row per (employee, skill); see README.
    const COLUMNS: &'static [&'static str] = &[
        "employee_external_id",
        "num_skill_events",
        "low_data_availability",
        "seniority",
        "skill_id",
        "skill",
        "validation_state",
        "sources",
        "source_events",
        "self_rated_proficiency_level",
        "self_rated_proficiency_float",
        "inferred_proficiency_level",
        "inferred_proficiency_float",
        "extra",
    ];
    const TYPED: &'static [(&'static str, Kind)] = &[
        ("num_skill_events", Kind::Integer),
        ("low_data_availability", Kind::Boolean),
        ("seniority", Kind::Float),
        ("self_rated_proficiency_level", Kind::Integer),
        ("self_rated_proficiency_float", Kind::Float),
        ("inferred_proficiency_level", Kind::Integer),
        ("inferred_proficiency_float", Kind::Float),
    ];

    fn view_rows<E>(
        view: &EmployeeSkillProfileView,
        t: &str,
        emit: &mut EmitRow<'_, E>,
    ) -> Result<(), E> {
        let employee_extra = cells::extra_viewed(t, [("employee", view)]);
        let mut row: [Cell<'_>; 14] = Default::default();
        row[0] = view.external_id.cell(t);
        row[1] = cells::shown(view.num_skill_events);
        row[2] = cells::shown(view.low_data_availability);
        row[3] = cells::shown(view.seniority.as_ref());
        let skills = view.skills.as_deref().unwrap_or_default();
        if skills.is_empty() {
            row[13] = Cell::Text(&employee_extra);
            return emit(&row, 0);
        }
        for (i, skill) in skills.iter().enumerate() {
            let skill_extra = cells::extra_viewed_below(
                &employee_extra,
                t,
                [("employee", view), ("skill", skill)],
            );
            let source_events = skill
                .source_events
                .as_ref()
                .map(|events| ViewJson::<Vec<SourceEvent>>::new(events, t));
            // The employee's fields, copied (cells are references or numbers).
            let mut row = row;
            row[4] = skill.skill_id.cell(t);
            row[5] = skill.skill.cell(t);
            row[6] = cells::span(&skill.validation_state, t);
            row[7] = cells::spans(&skill.sources, t);
            row[8] = cells::json(source_events.as_ref());
            row[9] = cells::shown(skill.self_rated_proficiency_level);
            row[10] = cells::shown(skill.self_rated_proficiency_float.as_ref());
            row[11] = cells::shown(skill.inferred_proficiency_level);
            row[12] = cells::shown(skill.inferred_proficiency_float.as_ref());
            row[13] = Cell::Text(&skill_extra);
            // The employee's four fields repeat on every skill row.
            emit(&row, if i > 0 { 4 } else { 0 })?;
        }
        Ok(())
    }
}

//! `job-skill-profiles`: `POST /job_architecture/export/jobs/skill_profiles`,
//! the skill profile of every job. TechWolf's page is cut inside its sample,
//! so fields are optional where the sample is the only source.

use serde_json::Number;

use crate::dataset::{Cell, Dataset, EmitRow, Kind, Method, Paging, Table, cells};
use crate::enums::ValidationState;
use crate::profile::SortedBody;
use crate::request::{ExportRequest, NoQuery};
use crate::view::ViewJson;
use crate::wire::{open_enum, wire_struct};

/// The job-skill-profiles export, declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobSkillProfiles;

impl Dataset for JobSkillProfiles {
    const NAME: &'static str = "job-skill-profiles";
    const ABOUT: &'static str =
        "Every job's skill profile (POST /job_architecture/export/jobs/skill_profiles)";
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/job_architecture/export/jobs/skill_profiles";
    const PAGING: Paging = Paging::Cursor;
    const MAX_LIMIT: u32 = 100;
    const KEY: &'static [&'static str] = &["external_id"];
    /// Job filters (`last_updated`, `job_family_id_is_in_list`), include
    /// values and the skill order.
    type Body = SortedBody<Include>;
    /// The page's query parameters are not retrievable: use
    /// `ExportRequest::with_query_param` for any.
    type Query = NoQuery;
    type Record = JobSkillProfile;
}

/// A request of the job-skill-profiles export.
pub type JobSkillProfilesRequest = ExportRequest<JobSkillProfiles>;

open_enum! {
    /// An optional part of each job skill profile, asked for in `include`
    /// (the values TechWolf's sample sends; the full list is cut off).
    pub enum Include {
        /// The record-level `low_data_availability` flag.
        LowDataAvailabilityFlag = "low_data_availability_flag",
        /// `skills[].proficiency_level`.
        ProficiencyLevel = "proficiency_level",
        /// `skills[].proficiency_float`.
        ProficiencyFloat = "proficiency_float",
        /// `skills[].critical`.
        Critical = "critical",
        /// `skills[].validation_state` (listed on the per-job page).
        SkillValidationState = "skill_validation_state",
    }
}

impl Include {
    /// The values TechWolf's export sample sends: the command's default.
    pub const SAMPLED: [Include; 4] = [
        Include::LowDataAvailabilityFlag,
        Include::ProficiencyLevel,
        Include::ProficiencyFloat,
        Include::Critical,
    ];
}

wire_struct! {
    /// One job's record in the job-skill-profiles export.
    pub struct JobSkillProfile => JobSkillProfileView {
        /// The job's external id.
        req external_id: String,
        /// Whether TechWolf has little data on the job.
        opt low_data_availability: Option<bool>,
        /// The job's skills; `skill_list()` gives an empty-when-absent view.
        opt skills: Option<Vec<JobSkill>>,
    }
}

impl JobSkillProfile {
    /// The skills, empty when the field was absent.
    pub fn skill_list(&self) -> &[JobSkill] {
        self.skills.as_deref().unwrap_or_default()
    }
}

wire_struct! {
    /// One skill of a job's profile.
    pub struct JobSkill => JobSkillView {
        /// The skill's id.
        req skill_id: String,
        /// The skill's name.
        opt skill: Option<String>,
        /// What kind of skill it is for the job.
        opt skill_types: Option<Vec<SkillType>>,
        /// The skill's domain.
        opt domain_name: Option<String>,
        /// Whether the skill was validated.
        opt validation_state: Option<ValidationState>,
        /// The required proficiency, on the integer scale.
        opt proficiency_level: Option<i64>,
        /// The required proficiency, 0 to 1.
        opt proficiency_float: Option<Number>,
        /// Whether the skill is critical for the job (may be `null`).
        opt critical: Option<bool>,
    }
}

wire_struct! {
    /// A skill's type for a job.
    pub struct SkillType => SkillTypeView {
        /// A display string: `Job-Specific`, `Family-Specific`, `Core` seen.
        opt skill_type: Option<String>,
        /// Whether the skill is common.
        opt is_common: Option<bool>,
    }
}

impl Table for JobSkillProfile {
    crate::dataset::rows_over_views!(JobSkillProfileView);

    /// One row per (job, skill); see README.
    const COLUMNS: &'static [&'static str] = &[
        "job_external_id",
        "low_data_availability",
        "skill_id",
        "skill",
        "skill_types",
        "domain_name",
        "validation_state",
        "proficiency_level",
        "proficiency_float",
        "critical",
        "extra",
    ];
    const TYPED: &'static [(&'static str, Kind)] = &[
        ("low_data_availability", Kind::Boolean),
        ("proficiency_level", Kind::Integer),
        ("proficiency_float", Kind::Float),
        ("critical", Kind::Boolean),
    ];

    fn view_rows<E>(
        view: &JobSkillProfileView,
        t: &str,
        emit: &mut EmitRow<'_, E>,
    ) -> Result<(), E> {
        let job_extra = cells::extra_viewed(t, [("job", view)]);
        let mut row: [Cell<'_>; 11] = Default::default();
        row[0] = view.external_id.cell(t);
        row[1] = cells::shown(view.low_data_availability);
        let skills = view.skills.as_deref().unwrap_or_default();
        if skills.is_empty() {
            row[10] = Cell::Text(&job_extra);
            return emit(&row, 0);
        }
        for (i, skill) in skills.iter().enumerate() {
            let skill_extra =
                cells::extra_viewed_below(&job_extra, t, [("job", view), ("skill", skill)]);
            let skill_types = skill
                .skill_types
                .as_ref()
                .map(|types| ViewJson::<Vec<SkillType>>::new(types, t));
            // The job's fields, copied (cells are references or numbers).
            let mut row = row;
            row[2] = skill.skill_id.cell(t);
            row[3] = cells::span(&skill.skill, t);
            row[4] = cells::json(skill_types.as_ref());
            row[5] = cells::span(&skill.domain_name, t);
            row[6] = cells::span(&skill.validation_state, t);
            row[7] = cells::shown(skill.proficiency_level);
            row[8] = cells::shown(skill.proficiency_float.as_ref());
            row[9] = cells::shown(skill.critical);
            row[10] = Cell::Text(&skill_extra);
            // The job's two fields repeat on every skill row.
            emit(&row, if i > 0 { 2 } else { 0 })?;
        }
        Ok(())
    }
}

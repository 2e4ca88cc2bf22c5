//! `job-market-skill-profiles`:
//! `POST /job_architecture/export/jobs/market_skill_profiles`, per job the
//! market's skill profile for each peer group.

use crate::dataset::{Cell, Dataset, EmitRow, Method, Paging, Table};
use crate::profile::{ProfileQuery, SortedBody};
use crate::request::ExportRequest;
use crate::task_profiles::LinkedSkill;
use crate::wire::wire_struct;

/// The job-market-skill-profiles export, declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobMarketSkillProfiles;

impl Dataset for JobMarketSkillProfiles {
    const NAME: &'static str = "job-market-skill-profiles";
    const ABOUT: &'static str = "Every job's market skill profiles per peer group \
        (POST /job_architecture/export/jobs/market_skill_profiles)";
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/job_architecture/export/jobs/market_skill_profiles";
    const PAGING: Paging = Paging::Cursor;
    const MAX_LIMIT: u32 = 100;
    const KEY: &'static [&'static str] = &["external_id"];
    /// Job filters and the skill order; TechWolf documents no include
    /// values, so any string is sent as given.
    type Body = SortedBody<String>;
    type Query = ProfileQuery;
    type Record = JobMarketSkillProfile;
}

/// A request of the job-market-skill-profiles export.
pub type JobMarketSkillProfilesRequest = ExportRequest<JobMarketSkillProfiles>;

wire_struct! {
    /// One job's market skill profiles.
    pub struct JobMarketSkillProfile => JobMarketSkillProfileView {
        /// The job's external id.
        req external_id: String,
        /// One skill list per peer group; `peer_group_list()` gives an
        /// empty-when-absent view.
        opt peer_groups: Option<Vec<PeerGroup>>,
    }
}

impl JobMarketSkillProfile {
    /// The peer groups, empty when the field was absent.
    pub fn peer_group_list(&self) -> &[PeerGroup] {
        self.peer_groups.as_deref().unwrap_or_default()
    }
}

wire_struct! {
    /// The market's skill profile in one peer group.
    pub struct PeerGroup => PeerGroupView {
        /// The peer group's name (an industry segment).
        opt peer_group: Option<String>,
        /// The skills.
        opt skills: Option<Vec<LinkedSkill>>,
    }
}

impl Table for JobMarketSkillProfile {
    crate::dataset::rows_over_views!(JobMarketSkillProfileView);

    /// One row per (job, peer group, skill); see README.
    const COLUMNS: &'static [&'static str] = &[
        "job_external_id",
        "peer_group",
        "skill_id",
        "skill",
        "extra",
    ];

    fn view_rows<E>(
        view: &JobMarketSkillProfileView,
        t: &str,
        emit: &mut EmitRow<'_, E>,
    ) -> Result<(), E> {
        let id = view.external_id.cell(t);
        let blank = || Cell::BLANK;
        let job_extra = crate::cells::extra_viewed(t, [("job", view)]);
        let groups = view.peer_groups.as_deref().unwrap_or_default();
        if groups.is_empty() {
            return emit(&[id, blank(), blank(), blank(), Cell::Text(&job_extra)], 0);
        }
        for (g, group) in groups.iter().enumerate() {
            // A group's first row repeats the job of the row before (another
            // group's); its later rows the group too.
            let first = usize::from(g > 0);
            let name = crate::cells::span(&group.peer_group, t);
            let group_extra = crate::cells::extra_viewed_below(
                &job_extra,
                t,
                [("job", view), ("peer_group", group)],
            );
            let skills = group.skills.as_deref().unwrap_or_default();
            if skills.is_empty() {
                emit(
                    &[id, name, blank(), blank(), Cell::Text(&group_extra)],
                    first,
                )?;
            }
            for (i, skill) in skills.iter().enumerate() {
                emit(
                    &[
                        id,
                        name,
                        skill.skill_id.cell(t),
                        crate::cells::span(&skill.skill, t),
                        Cell::Text(&crate::cells::extra_viewed_below(
                            &group_extra,
                            t,
                            [("job", view), ("peer_group", group), ("skill", skill)],
                        )),
                    ],
                    if i > 0 { 2 } else { first },
                )?;
            }
        }
        Ok(())
    }
}

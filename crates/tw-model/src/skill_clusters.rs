//! `skill-clusters`: `POST /export/employees/skill_clusters`, every
//! employee's skill clusters.

use std::borrow::Cow;

use crate::dataset::{Cell, Dataset, EmitRow, Kind, Method, Paging, Table, cells, rows_over_views};
use crate::enums::{SkillSource, ValidationState};
use crate::request::{ExportRequest, FilteredBody, NoQuery};
use crate::wire::{open_enum, wire_struct};

/// The skill-clusters export, declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SkillClusters;

impl Dataset for SkillClusters {
    const NAME: &'static str = "skill-clusters";
    const ABOUT: &'static str =
        "Every employee's skill clusters (POST /export/employees/skill_clusters)";
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/export/employees/skill_clusters";
    const PAGING: Paging = Paging::Cursor;
    const MAX_LIMIT: u32 = 100;
    const KEY: &'static [&'static str] = &["external_id"];
    type Body = Body;
    type Query = NoQuery;
    type Record = EmployeeSkillClusters;
}

/// A request of the skill-clusters export.
pub type SkillClustersRequest = ExportRequest<SkillClusters>;

/// A page of the skill-clusters export.
pub type SkillClustersPage = crate::ExportPage<EmployeeSkillClusters>;

/// The body of `POST /export/employees/skill_clusters` besides `limit` and
/// `starting_after`: employee filters (`is_active`, `last_updated`) and the
/// optional parts of each cluster.
pub type Body = FilteredBody<Include>;

open_enum! {
    /// An optional part of each skill cluster that the skill-clusters export
    /// returns only when asked for in `include`.
    pub enum Include {
        /// The event types that led to each skill cluster (`sources`).
        Sources = "sources",
        /// The skills of the cluster that the employee has (`current_skills`).
        CurrentSkills = "current_skills",
        /// Skills related to the cluster (`related_skills`).
        RelatedSkills = "related_skills",
        /// Skills of the cluster rejected through feedback (`rejected_skills`).
        RejectedSkills = "rejected_skills",
    }
}

impl Include {
    /// Every include this release knows, in the order the API documents them.
    pub const ALL: [Include; 4] = [
        Include::Sources,
        Include::CurrentSkills,
        Include::RelatedSkills,
        Include::RejectedSkills,
    ];
}

wire_struct! {
    /// One employee's record in the skill-clusters export.
    pub struct EmployeeSkillClusters => EmployeeSkillClustersView {
        /// The employee's external id (the id the customer's HR system uses).
        /// An opaque string: never parsed as a UUID.
        req external_id: String,
        /// The employee's skill clusters. Absent stays absent when written
        /// back; `clusters()` gives an empty-when-absent view.
        opt skill_clusters: Option<Vec<SkillCluster>>,
    }
}

impl EmployeeSkillClusters {
    /// The employee's skill clusters, empty when the field was absent.
    pub fn clusters(&self) -> &[SkillCluster] {
        self.skill_clusters.as_deref().unwrap_or_default()
    }
}

wire_struct! {
    /// One skill cluster of an employee: a group of related skills with a
    /// proficiency level.
    pub struct SkillCluster => SkillClusterView {
        /// The cluster's id (absent in the older documented response shape).
        opt skill_cluster_id: Option<String>,
        /// The cluster's display name.
        opt skill_cluster_name: Option<String>,
        /// The name of the domain the cluster belongs to.
        opt domain_name: Option<String>,
        /// The employee's proficiency in the cluster, on TechWolf's integer
        /// scale (documented as 1 to 5; 0 appears in feedback).
        opt proficiency_level: Option<i64>,
        /// Whether the cluster was validated (absent in some responses).
        opt validation_state: Option<ValidationState>,
        /// Skills of the cluster the employee has (`include: current_skills`).
        opt current_skills: Option<Vec<Skill>>,
        /// Skills related to the cluster (`include: related_skills`).
        opt related_skills: Option<Vec<Skill>>,
        /// Skills of the cluster rejected through feedback
        /// (`include: rejected_skills`).
        opt rejected_skills: Option<Vec<Skill>>,
        /// The event types that led to the cluster (`include: sources`).
        opt sources: Option<Vec<SkillSource>>,
    }
}

/// Which list of a [`SkillCluster`] a skill came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkillList {
    /// `current_skills`.
    Current,
    /// `related_skills`.
    Related,
    /// `rejected_skills`.
    Rejected,
}

impl SkillList {
    /// A short lowercase name: `current`, `related` or `rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            SkillList::Current => "current",
            SkillList::Related => "related",
            SkillList::Rejected => "rejected",
        }
    }
}

impl std::fmt::Display for SkillList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl SkillCluster {
    /// The current skills, empty when the field was absent.
    pub fn current(&self) -> &[Skill] {
        self.current_skills.as_deref().unwrap_or_default()
    }

    /// The related skills, empty when the field was absent.
    pub fn related(&self) -> &[Skill] {
        self.related_skills.as_deref().unwrap_or_default()
    }

    /// The rejected skills, empty when the field was absent.
    pub fn rejected(&self) -> &[Skill] {
        self.rejected_skills.as_deref().unwrap_or_default()
    }

    /// The sources, empty when the field was absent.
    pub fn source_list(&self) -> &[SkillSource] {
        self.sources.as_deref().unwrap_or_default()
    }

    /// Every skill of the cluster with the list it is in: current, then
    /// related, then rejected, each in the server's order.
    pub fn skills(&self) -> impl Iterator<Item = (SkillList, &Skill)> {
        let tag = |list: SkillList| move |skill| (list, skill);
        self.current()
            .iter()
            .map(tag(SkillList::Current))
            .chain(self.related().iter().map(tag(SkillList::Related)))
            .chain(self.rejected().iter().map(tag(SkillList::Rejected)))
    }
}

wire_struct! {
    /// A skill inside a skill cluster.
    pub struct Skill => SkillView {
        /// The skill's display name.
        req name: String,
        /// The skill's id (absent in the older documented response shape).
        opt skill_id: Option<String>,
        /// Whether the skill was validated.
        opt validation_state: Option<ValidationState>,
        /// The event types that taught TechWolf this skill.
        opt skill_sources: Option<Vec<SkillSource>>,
    }
}

impl Table for EmployeeSkillClusters {
    /// One row per (employee, cluster, skill); see README.
    const COLUMNS: &'static [&'static str] = &[
        "employee_external_id",
        "skill_cluster_id",
        "skill_cluster_name",
        "domain_name",
        "proficiency_level",
        "cluster_validation_state",
        "cluster_sources",
        "list",
        "skill_id",
        "skill_name",
        "skill_validation_state",
        "skill_sources",
        "extra",
    ];
    const TYPED: &'static [(&'static str, Kind)] = &[("proficiency_level", Kind::Integer)];

    rows_over_views!(EmployeeSkillClustersView);

    fn view_rows<E>(
        view: &EmployeeSkillClustersView,
        t: &str,
        emit: &mut EmitRow<'_, E>,
    ) -> Result<(), E> {
        let employee_extra = cells::extra_viewed(t, [("employee", view)]);
        let clusters = view.skill_clusters.as_deref().unwrap_or_default();
        if clusters.is_empty() {
            let mut row: [Cell<'_>; 13] = Default::default();
            row[0] = view.external_id.cell(t);
            row[12] = Cell::Text(&employee_extra);
            return emit(&row, 0);
        }
        for (c, cluster) in clusters.iter().enumerate() {
            // A cluster's first row repeats the employee of the row before
            // (another cluster's), its later rows the cluster too.
            let first = usize::from(c > 0);
            // The cluster's cell, built once and borrowed by its skills'
            // rows that add no unknown fields of their own.
            let cluster_extra = cells::extra_viewed_below(
                &employee_extra,
                t,
                [("employee", view), ("cluster", cluster)],
            );
            let mut row: [Cell<'_>; 13] = Default::default();
            row[0] = view.external_id.cell(t);
            row[1] = cells::span(&cluster.skill_cluster_id, t);
            row[2] = cells::span(&cluster.skill_cluster_name, t);
            row[3] = cells::span(&cluster.domain_name, t);
            row[4] = cells::shown(cluster.proficiency_level);
            row[5] = cells::span(&cluster.validation_state, t);
            row[6] = cells::spans(&cluster.sources, t);
            let lists = [
                (SkillList::Current, &cluster.current_skills),
                (SkillList::Related, &cluster.related_skills),
                (SkillList::Rejected, &cluster.rejected_skills),
            ];
            let mut skills = lists
                .into_iter()
                .flat_map(|(list, skills)| {
                    let skills = skills.as_deref().unwrap_or_default();
                    skills.iter().map(move |skill| (list, skill))
                })
                .peekable();
            if skills.peek().is_none() {
                row[12] = Cell::Text(&cluster_extra);
                emit(&row, first)?;
                continue;
            }
            for (s, (list, skill)) in skills.enumerate() {
                let skill_extra = cells::extra_viewed_below(
                    &cluster_extra,
                    t,
                    [("employee", view), ("cluster", cluster), ("skill", skill)],
                );
                row[7] = Cell::Plain(list.as_str());
                row[8] = cells::span(&skill.skill_id, t);
                row[9] = skill.name.cell(t);
                row[10] = cells::span(&skill.validation_state, t);
                row[11] = cells::spans(&skill.skill_sources, t);
                let repeats = if s > 0 { 7 } else { first };
                match skill_extra {
                    // The cluster's cell (the skill adds no unknown
                    // fields): it outlives the row, which is reused for
                    // the next skill.
                    Cow::Borrowed(extra) => {
                        row[12] = Cell::Text(extra);
                        emit(&row, repeats)?;
                    }
                    // The skill's own cell lives for this row only: a copy
                    // of the row borrows it (cells are references or
                    // numbers).
                    Cow::Owned(extra) => {
                        let mut row = row;
                        row[12] = Cell::Text(&extra);
                        emit(&row, repeats)?;
                    }
                }
            }
        }
        Ok(())
    }
}

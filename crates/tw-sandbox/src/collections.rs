//! The datasets the sandbox serves, one collection each. Paging, cursors,
//! auth, faults and the request log are shared (`api.rs`); a collection
//! only checks its own body fields and query, selects records and renders
//! them. Requests are read as raw JSON, not with tw-model's request types,
//! so a bug symmetric in the client's serializer and deserializer cannot
//! hide.

use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};

use crate::rng::Rng;
use crate::tenant::{IncludeSet, Tenant};
use crate::vocabulary::{AI_IMPACT, CLUSTERS, GOALS, PEER_GROUPS, SKILL_TYPES, SOURCES, TASKS};

/// The route table: every dataset the sandbox serves, one line each.
pub(crate) fn route_table(tenant: &Arc<Tenant>) -> Vec<Box<dyn Collection>> {
    vec![
        Box::new(SkillClusters(tenant.clone())),
        Box::new(SkillProfiles::new(tenant.clone())),
        Box::new(TaskProfiles(tenant.clone())),
        Box::new(AiGoals(tenant.clone())),
        Box::new(PositionMatches(tenant.clone())),
        Box::new(Skills::new(tenant.clone())),
        Box::new(OrgUnits::new(tenant.clone())),
        Box::new(JobSkillProfiles(tenant.clone())),
        Box::new(JobTaskProfiles(tenant.clone())),
        Box::new(JobSuggestions(tenant.clone())),
        Box::new(JobMarketSkillProfiles(tenant.clone())),
        Box::new(JobMarketAlignment(tenant.clone())),
    ]
}

/// One dataset of the sandbox.
pub(crate) trait Collection: Send + Sync {
    /// `POST` or `GET`.
    fn method(&self) -> &'static str {
        "POST"
    }
    /// The path it answers.
    fn path(&self) -> &'static str;
    /// The largest `limit`.
    fn max_limit(&self) -> u32 {
        100
    }
    /// For an export that answers with one whole document (no paging, no
    /// body): the key of its records array.
    fn document(&self) -> Option<&'static str> {
        None
    }
    /// How many records there are before filtering.
    fn len(&self) -> usize;
    /// The first key field of record `index` (tests compare exports with it).
    fn key(&self, index: usize) -> String;
    /// Checks the body (besides `limit` and `starting_after`) and the query,
    /// and returns what to serve; `Err` is a 422 message.
    fn select<'a>(
        &'a self,
        body: &Map<String, Value>,
        query: &[(String, String)],
    ) -> Result<Box<dyn Selection + 'a>, String>;
}

/// The records a request selects, and how they render.
pub(crate) trait Selection {
    /// Whether record `index` is selected.
    fn matches(&self, index: usize) -> bool;
    /// Appends record `index`'s JSON.
    fn render(&self, index: usize, out: &mut Vec<u8>);
}

/// The skill order `output_skills_sorting` asks for: 0 the API's default,
/// 1 alphabetical, 2 by decreasing confidence.
fn skill_order(body: &Map<String, Value>) -> Result<usize, String> {
    let Some(value) = body.get("output_skills_sorting") else {
        return Ok(0);
    };
    match value
        .as_str()
        .and_then(|v| SORTINGS.iter().position(|s| *s == v))
    {
        Some(i) => Ok(i + 1),
        None => Err(format!(
            "output_skills_sorting {value} is not supported; allowed: {}",
            SORTINGS.join(", ")
        )),
    }
}

/// Rejects body keys other than `allowed` (and `limit`, `starting_after`).
fn only_keys(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    for key in body.keys() {
        if key != "limit" && key != "starting_after" && !allowed.contains(&key.as_str()) {
            return Err(format!(
                "unknown body field {key:?}; allowed: limit, starting_after, {}",
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

/// Rejects query parameters other than `allowed`, values outside their
/// lists and repeats; returns the value of each allowed parameter.
fn query_values<'q>(
    query: &'q [(String, String)],
    allowed: &[(&str, &[&str])],
) -> Result<Vec<Option<&'q str>>, String> {
    let lists = query_lists(query, allowed)?;
    let mut values = Vec::with_capacity(lists.len());
    for ((name, _), list) in allowed.iter().zip(lists) {
        match list[..] {
            [] => values.push(None),
            [one] => values.push(Some(one)),
            _ => return Err(format!("{name} given {} times; give it once", list.len())),
        }
    }
    Ok(values)
}

/// The include values of `body`, as bits of `known` (bit i: `known[i]`).
fn include_bits(body: &Map<String, Value>, known: &[&str]) -> Result<u8, String> {
    let mut bits = 0;
    let Some(include) = body.get("include") else {
        return Ok(0);
    };
    let Some(items) = include.as_array() else {
        return Err("include must be an array of strings".into());
    };
    for item in items {
        let position = item
            .as_str()
            .and_then(|v| known.iter().position(|k| *k == v));
        let Some(i) = position else {
            return Err(format!(
                "unknown include {item}; allowed: {}",
                known.join(", ")
            ));
        };
        bits |= 1 << i;
    }
    Ok(bits)
}

/// The employee filters every employee export takes: `is_active` and
/// `last_updated`.
struct EmployeeFilter<'t> {
    tenant: &'t Tenant,
    active: Option<bool>,
    after: Option<i64>,
    before: Option<i64>,
}

impl<'t> EmployeeFilter<'t> {
    fn parse(tenant: &'t Tenant, body: &Map<String, Value>) -> Result<Self, String> {
        let mut filter = EmployeeFilter {
            tenant,
            active: None,
            after: None,
            before: None,
        };
        let Some(filters) = body.get("filters") else {
            return Ok(filter);
        };
        let Some(filters) = filters.as_array() else {
            return Err("filters must be an array of filter objects".into());
        };
        for object in filters {
            let keys = object.as_object().map_or(0, Map::len);
            match object["filter"].as_str() {
                Some("is_active") if keys == 2 => {
                    let Some(active) = object["is_active"].as_bool() else {
                        return Err(format!("is_active must be true or false in {object}"));
                    };
                    filter.active = Some(active);
                }
                Some("last_updated") if keys == 3 => {
                    let day = object["value"]
                        .as_str()
                        .and_then(|v| tw_model::Date::parse(v).ok())
                        .ok_or_else(|| {
                            format!(
                                "last_updated value in {object} is not a date written as YYYY-MM-DD"
                            )
                        })?
                        .days_since_epoch();
                    match object["operator"].as_str() {
                        Some("gt") => filter.after = Some(day),
                        Some("lt") => filter.before = Some(day),
                        _ => {
                            return Err(format!(
                                "last_updated operator in {object} is not supported; use \"gt\" or \"lt\""
                            ));
                        }
                    }
                }
                _ => {
                    return Err(format!(
                        "unsupported filter {object}; this endpoint supports is_active and last_updated"
                    ));
                }
            }
        }
        Ok(filter)
    }

    fn matches(&self, index: usize) -> bool {
        let day = i64::from(self.tenant.updated_day(index));
        self.active
            .is_none_or(|a| self.tenant.is_active(index) == a)
            && self.after.is_none_or(|d| day > d)
            && self.before.is_none_or(|d| day < d)
    }
}

/// `POST /export/employees/skill_clusters`.
pub(crate) struct SkillClusters(pub Arc<Tenant>);

const CLUSTER_INCLUDES: [&str; 4] = [
    "current_skills",
    "related_skills",
    "rejected_skills",
    "sources",
];

impl Collection for SkillClusters {
    fn path(&self) -> &'static str {
        "/export/employees/skill_clusters"
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn key(&self, index: usize) -> String {
        self.0.external_id(index).to_owned()
    }

    fn select<'a>(
        &'a self,
        body: &Map<String, Value>,
        query: &[(String, String)],
    ) -> Result<Box<dyn Selection + 'a>, String> {
        only_keys(body, &["filters", "include"])?;
        query_values(query, &[])?;
        let bits = include_bits(body, &CLUSTER_INCLUDES)?;
        let mut include = 0;
        for (i, name) in CLUSTER_INCLUDES.iter().enumerate() {
            if bits & (1 << i) != 0 {
                include |= IncludeSet::bit(name).expect("a known include");
            }
        }
        Ok(Box::new(ClusterSelection {
            filter: EmployeeFilter::parse(&self.0, body)?,
            include: IncludeSet::from_bits(include),
        }))
    }
}

struct ClusterSelection<'t> {
    filter: EmployeeFilter<'t>,
    include: IncludeSet,
}

impl Selection for ClusterSelection<'_> {
    fn matches(&self, index: usize) -> bool {
        self.filter.matches(index)
    }

    fn render(&self, index: usize, out: &mut Vec<u8>) {
        self.filter.tenant.render(index, self.include, out);
    }
}

/// `POST /export/employees/skill_profiles`: the same employees, their
/// skills as a flat profile. Rendered on first use, once per skill order,
/// into pieces tagged with the include values they need.
pub(crate) struct SkillProfiles {
    tenant: Arc<Tenant>,
    orders: [OnceLock<Pieces>; 3],
}

const PROFILE_INCLUDES: [&str; 5] = [
    "skill_validation_state",
    "sources",
    "rejected_skills",
    "low_data_availability_flag",
    "seniority",
];
const VALIDATION: u8 = 1;
const SOURCES_BIT: u8 = 2;
const REJECTED: u8 = 4;
const LOW_DATA: u8 = 8;
const SENIORITY: u8 = 16;
const SORTINGS: [&str; 2] = ["alphabetical", "confidence"];
const SYSTEMS: [&str; 4] = ["workday", "successfactors", "coursera", "greenhouse"];

impl SkillProfiles {
    pub(crate) fn new(tenant: Arc<Tenant>) -> Self {
        SkillProfiles {
            tenant,
            orders: Default::default(),
        }
    }
}

impl Collection for SkillProfiles {
    fn path(&self) -> &'static str {
        "/export/employees/skill_profiles"
    }

    fn len(&self) -> usize {
        self.tenant.len()
    }

    fn key(&self, index: usize) -> String {
        self.tenant.external_id(index).to_owned()
    }

    fn select<'a>(
        &'a self,
        body: &Map<String, Value>,
        query: &[(String, String)],
    ) -> Result<Box<dyn Selection + 'a>, String> {
        only_keys(body, &["filters", "include", "output_skills_sorting"])?;
        // Both parameters are checked; the sandbox answers every vendor in
        // its one vocabulary, and only the documented `list` shape.
        query_values(
            query,
            &[
                ("response_format", &["list"]),
                (
                    "external_vendor",
                    &["techwolf", "workday", "sap_attribute_library"],
                ),
            ],
        )?;
        let order = skill_order(body)?;
        let include = include_bits(body, &PROFILE_INCLUDES)?;
        let pieces = self.orders[order].get_or_init(|| Pieces::profiles(&self.tenant, order));
        Ok(Box::new(ProfileSelection {
            filter: EmployeeFilter::parse(&self.tenant, body)?,
            pieces,
            include,
        }))
    }
}

struct ProfileSelection<'a> {
    filter: EmployeeFilter<'a>,
    pieces: &'a Pieces,
    include: u8,
}

impl Selection for ProfileSelection<'_> {
    fn matches(&self, index: usize) -> bool {
        self.filter.matches(index)
    }

    fn render(&self, index: usize, out: &mut Vec<u8>) {
        self.pieces.render(index, self.include, out);
    }
}

/// Records pre-rendered as pieces of JSON, each tagged with the include
/// bits it needs: a record for an include set is the concatenation of the
/// pieces whose bits are all in the set.
struct Pieces {
    bytes: Vec<u8>,
    /// Per piece: its end in `bytes` and the bits it needs.
    pieces: Vec<(u64, u8)>,
    /// Per record: its first piece; one extra.
    first: Vec<u32>,
}

impl Pieces {
    fn push(&mut self, text: &[u8], needs: u8) {
        self.bytes.extend_from_slice(text);
        self.pieces.push((self.bytes.len() as u64, needs));
    }

    fn render(&self, index: usize, include: u8, out: &mut Vec<u8>) {
        let (first, last) = (self.first[index] as usize, self.first[index + 1] as usize);
        let mut start = if first == 0 {
            0
        } else {
            self.pieces[first - 1].0 as usize
        };
        for &(end, needs) in &self.pieces[first..last] {
            if needs & !include == 0 {
                out.extend_from_slice(&self.bytes[start..end as usize]);
            }
            start = end as usize;
        }
    }

    /// The skill-profiles records of `tenant`, skills in `order` (0 the
    /// generation order, 1 alphabetical, 2 by decreasing confidence).
    fn profiles(tenant: &Tenant, order: usize) -> Pieces {
        let json = |value: &str| serde_json::to_string(value).expect("a string serializes");
        let mut out = Pieces {
            bytes: Vec::with_capacity(tenant.len() * 900),
            pieces: Vec::new(),
            first: Vec::with_capacity(tenant.len() + 1),
        };
        for index in 0..tenant.len() {
            out.first.push(out.pieces.len() as u32);
            let mut rng = Rng::new(tenant.seed() ^ 0x5EED_9F0F, index as u64);
            let held = tenant.held(index);
            let mut skills: Vec<(usize, u64, u8)> = held
                .iter()
                .enumerate()
                .map(|(i, _)| (i, rng.below(1000), 1 + rng.below(5) as u8))
                .collect();
            let name = |i: usize| {
                let h = held[i];
                CLUSTERS[h.template as usize].skills[h.skill as usize].1
            };
            match order {
                1 => skills.sort_by(|a, b| name(a.0).cmp(name(b.0))),
                2 => skills.sort_by_key(|s| std::cmp::Reverse(s.1)),
                _ => {}
            }
            // Rejected skills last, so an include set without them never
            // leaves a dangling comma.
            skills.sort_by_key(|s| held[s.0].state == 2);
            let events: u32 = held.iter().map(|h| h.sources.count_ones()).sum();
            let low = low_data(tenant, index);
            out.push(
                format!(
                    "{{\"external_id\":{},\"num_skill_events\":{events}",
                    json(tenant.external_id(index))
                )
                .as_bytes(),
                0,
            );
            out.push(
                format!(",\"low_data_availability\":{low}").as_bytes(),
                LOW_DATA,
            );
            out.push(
                format!(",\"seniority\":{}", rng.below(1000) as f64 / 100.0).as_bytes(),
                SENIORITY,
            );
            out.push(b",\"skills\":[", 0);
            for (k, &(i, _, level)) in skills.iter().enumerate() {
                let h = held[i];
                let (id, skill_name) = CLUSTERS[h.template as usize].skills[h.skill as usize];
                let rejected = if h.state == 2 { REJECTED } else { 0 };
                let comma = if k == 0 { "" } else { "," };
                out.push(
                    format!(
                        "{comma}{{\"skill_id\":{},\"skill\":{}",
                        json(id),
                        json(skill_name)
                    )
                    .as_bytes(),
                    rejected,
                );
                let state = ["suggested", "validated", "rejected"][h.state as usize];
                out.push(
                    format!(",\"validation_state\":\"{state}\"").as_bytes(),
                    VALIDATION | rejected,
                );
                let sources: Vec<&str> = (0..SOURCES.len())
                    .filter(|b| h.sources & (1 << b) != 0)
                    .map(|b| SOURCES[b])
                    .collect();
                let events: Vec<Value> = sources
                    .iter()
                    .enumerate()
                    .map(|(n, source)| {
                        serde_json::json!({
                            "external_id": format!("{}-{index}-{k}-{n}", &source[..2]),
                            "event_type": source,
                            "source": SYSTEMS[(index + k + n) % SYSTEMS.len()],
                        })
                    })
                    .collect();
                out.push(
                    format!(
                        ",\"sources\":{},\"source_events\":{}",
                        serde_json::to_string(&sources).expect("serializes"),
                        Value::from(events)
                    )
                    .as_bytes(),
                    SOURCES_BIT | rejected,
                );
                let self_rated = if (index + k) % 3 == 0 {
                    "null,\"self_rated_proficiency_float\":null".to_owned()
                } else {
                    let own = 1 + (u32::from(level) + k as u32) % 5;
                    format!(
                        "{own},\"self_rated_proficiency_float\":{}",
                        f64::from(own) / 5.0
                    )
                };
                out.push(
                    format!(
                        ",\"self_rated_proficiency_level\":{self_rated},\"inferred_proficiency_level\":{level},\"inferred_proficiency_float\":{}}}",
                        f64::from(level) / 5.0
                    )
                    .as_bytes(),
                    rejected,
                );
            }
            out.push(b"]}", 0);
        }
        out.first.push(out.pieces.len() as u32);
        out
    }
}

/// Appends `value` as a JSON string.
fn string(out: &mut Vec<u8>, value: &str) {
    serde_json::to_writer(out, value).expect("writing to a Vec");
}

const VENDORS: [&str; 3] = ["techwolf", "workday", "sap_attribute_library"];

/// `POST /export/employees/task_profiles`: the same employees' tasks,
/// linked to skills of the clusters they hold, rendered per request.
pub(crate) struct TaskProfiles(pub Arc<Tenant>);

const TASK_INCLUDES: [&str; 5] = [
    "ai_impact",
    "source_events",
    "weekly_hours",
    "linked_skills",
    "rejected_tasks",
];

impl Collection for TaskProfiles {
    fn path(&self) -> &'static str {
        "/export/employees/task_profiles"
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn key(&self, index: usize) -> String {
        self.0.external_id(index).to_owned()
    }

    fn select<'a>(
        &'a self,
        body: &Map<String, Value>,
        query: &[(String, String)],
    ) -> Result<Box<dyn Selection + 'a>, String> {
        only_keys(body, &["filters", "include"])?;
        query_values(
            query,
            &[
                ("response_format", &["list"]),
                ("external_vendor", &VENDORS),
            ],
        )?;
        Ok(Box::new(TaskSelection {
            holders: Holders::Employees(EmployeeFilter::parse(&self.0, body)?),
            include: include_bits(body, &TASK_INCLUDES)?,
        }))
    }
}

/// Whose task profiles: employees (with the employee filters) or jobs
/// (with the job filters).
enum Holders<'t> {
    Employees(EmployeeFilter<'t>),
    Jobs(JobFilter<'t>),
}

impl Holders<'_> {
    fn tenant(&self) -> &Tenant {
        match self {
            Holders::Employees(filter) => filter.tenant,
            Holders::Jobs(filter) => filter.tenant,
        }
    }

    fn matches(&self, index: usize) -> bool {
        match self {
            Holders::Employees(filter) => filter.matches(index),
            Holders::Jobs(filter) => filter.matches(index),
        }
    }

    fn id(&self, index: usize) -> String {
        match self {
            Holders::Employees(filter) => filter.tenant.external_id(index).to_owned(),
            Holders::Jobs(filter) => filter.tenant.job_id(index),
        }
    }
}

struct TaskSelection<'t> {
    holders: Holders<'t>,
    include: u8,
}

impl Selection for TaskSelection<'_> {
    fn matches(&self, index: usize) -> bool {
        self.holders.matches(index)
    }

    fn render(&self, index: usize, out: &mut Vec<u8>) {
        use std::io::Write as _;
        let has = |bit: u8| self.include & bit != 0;
        let jobs = matches!(self.holders, Holders::Jobs(_));
        let tenant = self.holders.tenant();
        let salt = if jobs { 0x7A5C_0002 } else { 0x7A5C_0001 };
        let mut rng = Rng::new(tenant.seed() ^ salt, index as u64);
        let id = self.holders.id(index);
        out.extend_from_slice(b"{\"external_id\":");
        string(out, &id);
        out.extend_from_slice(b",\"tasks\":[");
        // Some have no task profile: `tasks` is then `[]`.
        let count = if rng.chance(15) {
            0
        } else {
            1 + rng.below(3) as usize
        };
        let first = rng.below(TASKS.len() as u64) as usize;
        let mut written = 0;
        for k in 0..count {
            let (id, name, cluster) = TASKS[(first + k * 3) % TASKS.len()];
            let rejected = rng.chance(15);
            let hours = 1 + rng.below(12);
            let impact = AI_IMPACT[rng.below(AI_IMPACT.len() as u64) as usize];
            let validated = rng.chance(50);
            if rejected && !has(16) {
                continue;
            }
            if written > 0 {
                out.push(b',');
            }
            written += 1;
            out.extend_from_slice(b"{\"task_id\":");
            string(out, id);
            out.extend_from_slice(b",\"task\":");
            string(out, name);
            let state = if rejected {
                "rejected"
            } else if validated {
                "validated"
            } else {
                "suggested"
            };
            let _ = write!(out, ",\"validation_state\":\"{state}\"");
            if has(4) {
                let _ = write!(out, ",\"weekly_hours\":{hours}");
            }
            if has(1) {
                out.extend_from_slice(b",\"ai_impact\":{\"level\":");
                string(out, impact.0);
                out.extend_from_slice(b",\"rationale\":");
                string(out, impact.1);
                out.push(b'}');
            }
            if has(8) {
                out.extend_from_slice(b",\"linked_skills\":[");
                for (n, (skill_id, skill)) in CLUSTERS[cluster].skills.iter().take(2).enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"{\"skill_id\":");
                    string(out, skill_id);
                    out.extend_from_slice(b",\"skill\":");
                    string(out, skill);
                    out.push(b'}');
                }
                out.push(b']');
            }
            if has(2) && jobs {
                out.extend_from_slice(b",\"source_data\":[{\"external_id\":");
                string(out, &format!("jpd_{id}_description"));
                out.extend_from_slice(b"}]");
            } else if has(2) {
                let _ = write!(
                    out,
                    ",\"source_events\":[{{\"external_id\":\"prj-{index}-{k}\",\"event_type\":\"project\"}}]"
                );
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
    }
}

/// `POST /export/employees/ai_goals`: one goal per employee (the latest
/// version), aimed at skills of the vocabulary and at tasks.
pub(crate) struct AiGoals(pub Arc<Tenant>);

impl Collection for AiGoals {
    fn path(&self) -> &'static str {
        "/export/employees/ai_goals"
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn key(&self, index: usize) -> String {
        self.0.external_id(index).to_owned()
    }

    fn select<'a>(
        &'a self,
        body: &Map<String, Value>,
        query: &[(String, String)],
    ) -> Result<Box<dyn Selection + 'a>, String> {
        only_keys(body, &["filters"])?;
        query_values(
            query,
            &[("external_vendor", &VENDORS), ("versions", &["latest"])],
        )?;
        Ok(Box::new(GoalSelection {
            filter: EmployeeFilter::parse(&self.0, body)?,
        }))
    }
}

struct GoalSelection<'t> {
    filter: EmployeeFilter<'t>,
}

impl Selection for GoalSelection<'_> {
    fn matches(&self, index: usize) -> bool {
        self.filter.matches(index)
    }

    fn render(&self, index: usize, out: &mut Vec<u8>) {
        use std::io::Write as _;
        let tenant = self.filter.tenant;
        let mut rng = Rng::new(tenant.seed() ^ 0x60A1_5EED, index as u64);
        out.extend_from_slice(b"{\"external_id\":");
        string(out, tenant.external_id(index));
        out.extend_from_slice(b",\"goal\":");
        string(out, GOALS[rng.below(GOALS.len() as u64) as usize]);
        if rng.chance(70) {
            out.extend_from_slice(b",\"description\":");
            string(
                out,
                "Within nine months, take over the team's modules, and coach one colleague.",
            );
        }
        out.extend_from_slice(b",\"target_skills\":[");
        let held = tenant.held(index);
        for (n, h) in held.iter().take(3).enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"skill_id\":");
            string(
                out,
                CLUSTERS[h.template as usize].skills[h.skill as usize].0,
            );
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"target_tasks\":[");
        if rng.chance(60) {
            out.extend_from_slice(b"{\"task_id\":");
            string(out, TASKS[rng.below(TASKS.len() as u64) as usize].0);
            out.push(b'}');
        }
        out.push(b']');
        if rng.chance(50) {
            out.extend_from_slice(b",\"job_id\":");
            string(out, &assigned_job(tenant, index));
        }
        let day = tw_model::Date::from_days_since_epoch(i64::from(tenant.updated_day(index)));
        let _ = write!(
            out,
            ",\"version\":{},\"created_on\":\"{day}T07:45:10.114000+00:00\",\"last_updated\":\"{day}T08:03:51.870000+00:00\"}}",
            1 + rng.below(4)
        );
    }
}

/// The job an employee is assigned to (the same one AI goals refer to).
fn assigned_job(tenant: &Tenant, index: usize) -> String {
    let mut rng = Rng::new(tenant.seed() ^ 0x0B5E_A551, index as u64);
    tenant.job_id(rng.below(tenant.jobs() as u64) as usize)
}

/// `POST /export/employees/match_assigned_position`: every employee's match
/// score with their assigned job.
pub(crate) struct PositionMatches(pub Arc<Tenant>);

impl Collection for PositionMatches {
    fn path(&self) -> &'static str {
        "/export/employees/match_assigned_position"
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn key(&self, index: usize) -> String {
        self.0.external_id(index).to_owned()
    }

    fn select<'a>(
        &'a self,
        body: &Map<String, Value>,
        query: &[(String, String)],
    ) -> Result<Box<dyn Selection + 'a>, String> {
        only_keys(body, &["filters"])?;
        query_values(
            query,
            &[
                ("response_format", &["simple"]),
                ("external_vendor", &["workday", "sap_attribute_library"]),
            ],
        )?;
        Ok(Box::new(MatchSelection {
            filter: EmployeeFilter::parse(&self.0, body)?,
        }))
    }
}

struct MatchSelection<'t> {
    filter: EmployeeFilter<'t>,
}

impl Selection for MatchSelection<'_> {
    fn matches(&self, index: usize) -> bool {
        self.filter.matches(index)
    }

    fn render(&self, index: usize, out: &mut Vec<u8>) {
        use std::io::Write as _;
        let tenant = self.filter.tenant;
        let mut rng = Rng::new(tenant.seed() ^ 0x5C0_12E5, index as u64);
        out.extend_from_slice(b"{\"job_id\":");
        string(out, &assigned_job(tenant, index));
        out.extend_from_slice(b",\"employee_id\":");
        string(out, tenant.external_id(index));
        let _ = write!(out, ",\"score\":{}", rng.below(100_001) as f64 / 100_000.0);
        out.push(b'}');
    }
}

/// The job filters: `last_updated` and `job_family_id_is_in_list`.
struct JobFilter<'t> {
    tenant: &'t Tenant,
    after: Option<i64>,
    before: Option<i64>,
    families: Option<Vec<String>>,
}

impl<'t> JobFilter<'t> {
    fn parse(tenant: &'t Tenant, body: &Map<String, Value>) -> Result<Self, String> {
        let mut filter = JobFilter {
            tenant,
            after: None,
            before: None,
            families: None,
        };
        let Some(filters) = body.get("filters") else {
            return Ok(filter);
        };
        let Some(filters) = filters.as_array() else {
            return Err("filters must be an array of filter objects".into());
        };
        for object in filters {
            let keys = object.as_object().map_or(0, Map::len);
            match object["filter"].as_str() {
                Some("last_updated") if keys == 3 => {
                    let day = object["value"]
                        .as_str()
                        .and_then(|v| tw_model::Date::parse(v).ok())
                        .ok_or_else(|| format!("last_updated value in {object} is not a date"))?
                        .days_since_epoch();
                    match object["operator"].as_str() {
                        Some("gt") => filter.after = Some(day),
                        Some("lt") => filter.before = Some(day),
                        _ => {
                            return Err(format!(
                                "last_updated operator in {object} is not gt or lt"
                            ));
                        }
                    }
                }
                Some("job_family_id_is_in_list") if keys == 2 => {
                    let ids = object["job_family_ids"]
                        .as_array()
                        .and_then(|ids| {
                            ids.iter()
                                .map(|id| id.as_str().map(str::to_owned))
                                .collect()
                        })
                        .ok_or_else(|| {
                            format!("job_family_ids in {object} must be a list of strings")
                        })?;
                    filter.families = Some(ids);
                }
                _ => {
                    return Err(format!(
                        "unsupported filter {object}; this endpoint supports last_updated and job_family_id_is_in_list"
                    ));
                }
            }
        }
        Ok(filter)
    }

    fn matches(&self, index: usize) -> bool {
        let day = i64::from(self.tenant.job_updated_day(index));
        let family = self.tenant.job_family(index);
        self.after.is_none_or(|d| day > d)
            && self.before.is_none_or(|d| day < d)
            && self
                .families
                .as_ref()
                .is_none_or(|ids| ids.iter().any(|id| id == family))
    }
}

/// `POST /job_architecture/export/jobs/skill_profiles`: every job's skills,
/// from the skill vocabulary, rendered per request.
pub(crate) struct JobSkillProfiles(pub Arc<Tenant>);

const JOB_SKILL_INCLUDES: [&str; 5] = [
    "low_data_availability_flag",
    "proficiency_level",
    "proficiency_float",
    "critical",
    "skill_validation_state",
];

impl Collection for JobSkillProfiles {
    fn path(&self) -> &'static str {
        "/job_architecture/export/jobs/skill_profiles"
    }

    fn len(&self) -> usize {
        self.0.jobs()
    }

    fn key(&self, index: usize) -> String {
        self.0.job_id(index)
    }

    fn select<'a>(
        &'a self,
        body: &Map<String, Value>,
        _query: &[(String, String)],
    ) -> Result<Box<dyn Selection + 'a>, String> {
        // The page's query parameters are not documented: any is accepted.
        only_keys(body, &["filters", "include", "output_skills_sorting"])?;
        let sort = skill_order(body)?;
        Ok(Box::new(JobSkillSelection {
            filter: JobFilter::parse(&self.0, body)?,
            include: include_bits(body, &JOB_SKILL_INCLUDES)?,
            sort,
        }))
    }
}

struct JobSkillSelection<'t> {
    filter: JobFilter<'t>,
    include: u8,
    sort: usize,
}

impl Selection for JobSkillSelection<'_> {
    fn matches(&self, index: usize) -> bool {
        self.filter.matches(index)
    }

    fn render(&self, index: usize, out: &mut Vec<u8>) {
        use std::io::Write as _;
        let has = |bit: u8| self.include & bit != 0;
        let tenant = self.filter.tenant;
        let mut rng = Rng::new(tenant.seed() ^ 0x10B5_5C11, index as u64);
        let cluster = &CLUSTERS[rng.below(CLUSTERS.len() as u64) as usize];
        let mut skills: Vec<(&str, &str, u64)> = cluster
            .skills
            .iter()
            .take(2 + rng.below(3) as usize)
            .map(|(id, name)| (*id, *name, 1 + rng.below(5)))
            .collect();
        match self.sort {
            1 => skills.sort_by(|a, b| a.1.cmp(b.1)),
            2 => skills.sort_by_key(|s| std::cmp::Reverse(s.2)),
            _ => {}
        }
        out.extend_from_slice(b"{\"external_id\":");
        string(out, &tenant.job_id(index));
        if has(1) {
            let _ = write!(out, ",\"low_data_availability\":{}", skills.len() < 3);
        }
        out.extend_from_slice(b",\"skills\":[");
        for (n, (id, name, level)) in skills.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"skill_id\":");
            string(out, id);
            out.extend_from_slice(b",\"skill\":");
            string(out, name);
            let kind = SKILL_TYPES[(index + n) % SKILL_TYPES.len()];
            let _ = write!(out, ",\"skill_types\":[{{\"skill_type\":\"{kind}\"");
            if n % 2 == 0 {
                let _ = write!(out, ",\"is_common\":{}", n == 0);
            }
            out.extend_from_slice(b"}],\"domain_name\":");
            string(out, cluster.domain);
            let state = if (index + n).is_multiple_of(3) {
                "initially_validated"
            } else {
                "validated"
            };
            let _ = write!(out, ",\"validation_state\":\"{state}\"");
            if has(2) {
                let _ = write!(out, ",\"proficiency_level\":{level}");
            }
            if has(4) {
                let _ = write!(out, ",\"proficiency_float\":{}", *level as f64 / 5.0);
            }
            if has(8) {
                let critical = match (index + n) % 3 {
                    0 => "true",
                    1 => "false",
                    _ => "null",
                };
                let _ = write!(out, ",\"critical\":{critical}");
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
    }
}

/// `POST /job_architecture/export/jobs/task_profiles`: every job's tasks, as
/// the employee task profiles but with `source_data`.
pub(crate) struct JobTaskProfiles(pub Arc<Tenant>);

const JOB_TASK_INCLUDES: [&str; 5] = [
    "ai_impact",
    "source_data",
    "weekly_hours",
    "linked_skills",
    "rejected_tasks",
];

impl Collection for JobTaskProfiles {
    fn path(&self) -> &'static str {
        "/job_architecture/export/jobs/task_profiles"
    }

    fn len(&self) -> usize {
        self.0.jobs()
    }

    fn key(&self, index: usize) -> String {
        self.0.job_id(index)
    }

    fn select<'a>(
        &'a self,
        body: &Map<String, Value>,
        query: &[(String, String)],
    ) -> Result<Box<dyn Selection + 'a>, String> {
        only_keys(body, &["filters", "include"])?;
        query_values(
            query,
            &[
                ("response_format", &["list"]),
                ("external_vendor", &VENDORS),
            ],
        )?;
        Ok(Box::new(TaskSelection {
            holders: Holders::Jobs(JobFilter::parse(&self.0, body)?),
            include: include_bits(body, &JOB_TASK_INCLUDES)?,
        }))
    }
}

/// `POST /job_architecture/export/suggestions`: two suggestions per job,
/// each with an opaque id, about the job's skills or (with
/// `category=tasks`) its tasks.
pub(crate) struct JobSuggestions(pub Arc<Tenant>);

const SUGGESTIONS_PER_JOB: usize = 2;
const SUGGESTION_STATES: [&str; 3] = ["suggested", "accepted", "rejected"];

impl JobSuggestions {
    fn id(&self, index: usize) -> String {
        Rng::new(self.0.seed() ^ 0x5A6_6E57, index as u64).uuid()
    }

    fn state(&self, index: usize) -> &'static str {
        SUGGESTION_STATES[index * 7 % 11 % SUGGESTION_STATES.len()]
    }
}

impl Collection for JobSuggestions {
    fn path(&self) -> &'static str {
        "/job_architecture/export/suggestions"
    }

    fn len(&self) -> usize {
        self.0.jobs() * SUGGESTIONS_PER_JOB
    }

    fn key(&self, index: usize) -> String {
        self.id(index)
    }

    fn select<'a>(
        &'a self,
        body: &Map<String, Value>,
        query: &[(String, String)],
    ) -> Result<Box<dyn Selection + 'a>, String> {
        only_keys(body, &["filters", "response_format"])?;
        if let Some(format) = body.get("response_format")
            && format != "list"
        {
            return Err(format!(
                "response_format {format} is not served by the sandbox; allowed: \"list\""
            ));
        }
        let query = query_values(
            query,
            &[
                ("category", &["skills", "tasks"]),
                ("external_vendor", &VENDORS),
            ],
        )?;
        let mut families = None;
        let mut states = None;
        for object in body
            .get("filters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let list = |key: &str| -> Result<Vec<String>, String> {
                object[key]
                    .as_array()
                    .and_then(|ids| {
                        ids.iter()
                            .map(|id| id.as_str().map(str::to_owned))
                            .collect()
                    })
                    .ok_or_else(|| format!("{key} in {object} must be a list of strings"))
            };
            match object["filter"].as_str() {
                Some("job_family_id_is_in_list") => families = Some(list("job_family_ids")?),
                Some("state_is_in_list") => states = Some(list("states")?),
                _ => {
                    return Err(format!(
                        "unsupported filter {object}; this endpoint supports state_is_in_list \
                         and job_family_id_is_in_list"
                    ));
                }
            }
        }
        Ok(Box::new(SuggestionSelection {
            collection: self,
            tasks: query[0] == Some("tasks"),
            families,
            states,
        }))
    }
}

struct SuggestionSelection<'a> {
    collection: &'a JobSuggestions,
    tasks: bool,
    families: Option<Vec<String>>,
    states: Option<Vec<String>>,
}

impl Selection for SuggestionSelection<'_> {
    fn matches(&self, index: usize) -> bool {
        let job = index / SUGGESTIONS_PER_JOB;
        let tenant = &self.collection.0;
        let state = self.collection.state(index);
        self.families
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|id| id == tenant.job_family(job)))
            && self
                .states
                .as_ref()
                .is_none_or(|s| s.iter().any(|s| s == state))
    }

    fn render(&self, index: usize, out: &mut Vec<u8>) {
        use std::io::Write as _;
        let tenant = &self.collection.0;
        let job = index / SUGGESTIONS_PER_JOB;
        let mut rng = Rng::new(tenant.seed() ^ 0x5A6_6E58, index as u64);
        out.extend_from_slice(b"{\"suggestion_id\":");
        string(out, &self.collection.id(index));
        out.extend_from_slice(b",\"job_id\":");
        string(out, &tenant.job_id(job));
        let data = if self.tasks {
            let (id, name, _) = TASKS[rng.below(TASKS.len() as u64) as usize];
            out.extend_from_slice(b",\"task_id\":");
            string(out, id);
            out.extend_from_slice(b",\"task\":");
            string(out, name);
            out.extend_from_slice(b",\"suggestion_type\":\"add_job_task\"");
            "{}".to_owned()
        } else {
            let cluster = &CLUSTERS[rng.below(CLUSTERS.len() as u64) as usize];
            let (id, name) = cluster.skills[rng.below(cluster.skills.len() as u64) as usize];
            out.extend_from_slice(b",\"skill_id\":");
            string(out, id);
            out.extend_from_slice(b",\"skill\":");
            string(out, name);
            out.extend_from_slice(b",\"domain_name\":");
            string(out, cluster.domain);
            if rng.chance(50) {
                out.extend_from_slice(b",\"suggestion_type\":\"add_job_skill\"");
                "{}".to_owned()
            } else {
                out.extend_from_slice(b",\"suggestion_type\":\"set_job_skill_proficiency\"");
                format!("{{\"proficiency_level\":{}}}", 1 + rng.below(5))
            }
        };
        let _ = write!(
            out,
            ",\"state\":\"{}\",\"data\":{data}}}",
            self.collection.state(index)
        );
    }
}

/// The peer groups of job `index` (none for some jobs), the same in both
/// market exports.
fn peer_groups(tenant: &Tenant, index: usize) -> Vec<usize> {
    let mut rng = Rng::new(tenant.seed() ^ 0x9EE2_6000, index as u64);
    let first = rng.below(PEER_GROUPS.len() as u64) as usize;
    (0..rng.below(4) as usize)
        .map(|k| (first + k) % PEER_GROUPS.len())
        .collect()
}

/// `POST /job_architecture/export/jobs/market_skill_profiles`: per job and
/// peer group, skills of one cluster.
pub(crate) struct JobMarketSkillProfiles(pub Arc<Tenant>);

impl Collection for JobMarketSkillProfiles {
    fn path(&self) -> &'static str {
        "/job_architecture/export/jobs/market_skill_profiles"
    }

    fn len(&self) -> usize {
        self.0.jobs()
    }

    fn key(&self, index: usize) -> String {
        self.0.job_id(index)
    }

    fn select<'a>(
        &'a self,
        body: &Map<String, Value>,
        query: &[(String, String)],
    ) -> Result<Box<dyn Selection + 'a>, String> {
        only_keys(body, &["filters", "output_skills_sorting"])?;
        query_values(
            query,
            &[
                ("response_format", &["list"]),
                ("external_vendor", &VENDORS),
            ],
        )?;
        let alphabetical = skill_order(body)? == 1;
        Ok(Box::new(MarketSkillSelection {
            filter: JobFilter::parse(&self.0, body)?,
            alphabetical,
        }))
    }
}

struct MarketSkillSelection<'t> {
    filter: JobFilter<'t>,
    alphabetical: bool,
}

impl Selection for MarketSkillSelection<'_> {
    fn matches(&self, index: usize) -> bool {
        self.filter.matches(index)
    }

    fn render(&self, index: usize, out: &mut Vec<u8>) {
        let tenant = self.filter.tenant;
        out.extend_from_slice(b"{\"external_id\":");
        string(out, &tenant.job_id(index));
        out.extend_from_slice(b",\"peer_groups\":[");
        for (n, group) in peer_groups(tenant, index).into_iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"peer_group\":");
            string(out, PEER_GROUPS[group]);
            out.extend_from_slice(b",\"skills\":[");
            let cluster = &CLUSTERS[(index + group) % CLUSTERS.len()];
            let mut skills: Vec<_> = cluster.skills.iter().take(2 + group % 3).collect();
            if self.alphabetical {
                skills.sort_by(|a, b| a.1.cmp(b.1));
            }
            for (k, (id, name)) in skills.into_iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"skill\":");
                string(out, name);
                out.extend_from_slice(b",\"skill_id\":");
                string(out, id);
                out.push(b'}');
            }
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(b"]}");
    }
}

/// `POST /job_architecture/export/jobs/market_alignment`: per job and peer
/// group, the two alignment scores.
pub(crate) struct JobMarketAlignment(pub Arc<Tenant>);

impl Collection for JobMarketAlignment {
    fn path(&self) -> &'static str {
        "/job_architecture/export/jobs/market_alignment"
    }

    fn len(&self) -> usize {
        self.0.jobs()
    }

    fn key(&self, index: usize) -> String {
        self.0.job_id(index)
    }

    fn select<'a>(
        &'a self,
        body: &Map<String, Value>,
        query: &[(String, String)],
    ) -> Result<Box<dyn Selection + 'a>, String> {
        only_keys(body, &["filters"])?;
        query_values(query, &[("response_format", &["simple"])])?;
        Ok(Box::new(AlignmentSelection {
            filter: JobFilter::parse(&self.0, body)?,
        }))
    }
}

struct AlignmentSelection<'t> {
    filter: JobFilter<'t>,
}

impl Selection for AlignmentSelection<'_> {
    fn matches(&self, index: usize) -> bool {
        self.filter.matches(index)
    }

    fn render(&self, index: usize, out: &mut Vec<u8>) {
        use std::io::Write as _;
        let tenant = self.filter.tenant;
        let mut rng = Rng::new(tenant.seed() ^ 0xA119_0000, index as u64);
        out.extend_from_slice(b"{\"job_id\":");
        string(out, &tenant.job_id(index));
        out.extend_from_slice(b",\"alignment_scores\":[");
        for (n, group) in peer_groups(tenant, index).into_iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"peer_group\":");
            string(out, PEER_GROUPS[group]);
            let _ = write!(
                out,
                ",\"job_to_peer_score\":{},\"peer_to_job_score\":{}}}",
                rng.below(101) as f64 / 100.0,
                rng.below(101) as f64 / 100.0
            );
        }
        out.extend_from_slice(b"]}");
    }
}

/// Whether employee `index` has low data availability: fewer than three
/// skill events in all (skill profiles and the org tree agree on it).
fn low_data(tenant: &Tenant, index: usize) -> bool {
    let events: u32 = tenant
        .held(index)
        .iter()
        .map(|h| h.sources.count_ones())
        .sum();
    events < 3
}

/// The values of each allowed query parameter, in order; a parameter may
/// repeat. An empty value list in `allowed` takes any value.
fn query_lists<'q>(
    query: &'q [(String, String)],
    allowed: &[(&str, &[&str])],
) -> Result<Vec<Vec<&'q str>>, String> {
    let mut values = vec![Vec::new(); allowed.len()];
    for (name, value) in query {
        let Some(i) = allowed.iter().position(|(n, _)| n == name) else {
            let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "unknown query parameter {name:?}; allowed: {}",
                names.join(", ")
            ));
        };
        let known = allowed[i].1;
        if !known.is_empty() && !known.contains(&value.as_str()) {
            return Err(format!(
                "{name} {value:?} is not supported; allowed: {}",
                known.join(", ")
            ));
        }
        values[i].push(value.as_str());
    }
    Ok(values)
}

/// The skills of the vocabulary, each once: `(cluster template, skill)`.
fn vocabulary_skills() -> Vec<(usize, usize)> {
    let mut seen = std::collections::HashSet::new();
    let mut skills = Vec::new();
    for (t, template) in CLUSTERS.iter().enumerate() {
        for (s, (id, _)) in template.skills.iter().enumerate() {
            if seen.insert(*id) {
                skills.push((t, s));
            }
        }
    }
    skills
}

/// `POST /export/skills`: the vocabulary the profiles draw their skills
/// from, then the tenant's custom skills (one per 20 employees).
pub(crate) struct Skills {
    tenant: Arc<Tenant>,
    vocabulary: Vec<(usize, usize)>,
}

impl Skills {
    pub(crate) fn new(tenant: Arc<Tenant>) -> Self {
        Skills {
            tenant,
            vocabulary: vocabulary_skills(),
        }
    }

    fn skill_id(&self, index: usize) -> String {
        match self.vocabulary.get(index) {
            Some(&(t, s)) => CLUSTERS[t].skills[s].0.to_owned(),
            None => format!("custom-{:05}", index - self.vocabulary.len()),
        }
    }

    /// `vocabulary` or `custom` (and, for one in ten custom skills, a
    /// source this client's model does not know).
    fn source(&self, index: usize) -> &'static str {
        match index.checked_sub(self.vocabulary.len()) {
            None => "vocabulary",
            Some(k) if k % 10 == 9 => "legacy_import",
            Some(_) => "custom",
        }
    }
}

const LANGUAGES: [&str; 6] = ["en", "en_uk", "en_us", "de", "fr", "nl"];
const SKILL_VENDORS: [&str; 2] = ["workday", "sap_attribute_library"];
const CUSTOM_SKILLS: [&str; 6] = [
    "`Backticked` tooling",
    "Forklift \"reach\" trucks",
    "=HYPERLINK tricks",
    "Négociation, achats",
    "Kundenservice\nTelefon",
    "-Lean- six sigma",
];

impl Collection for Skills {
    fn path(&self) -> &'static str {
        "/export/skills"
    }

    fn max_limit(&self) -> u32 {
        1000
    }

    fn len(&self) -> usize {
        self.vocabulary.len() + self.tenant.len() / 20
    }

    fn key(&self, index: usize) -> String {
        self.skill_id(index)
    }

    fn select<'a>(
        &'a self,
        body: &Map<String, Value>,
        query: &[(String, String)],
    ) -> Result<Box<dyn Selection + 'a>, String> {
        only_keys(body, &["filters"])?;
        let values = query_lists(
            query,
            &[
                ("vocab_language", &LANGUAGES),
                ("external_vendor", &SKILL_VENDORS),
                ("include", &["properties"]),
            ],
        )?;
        // `include` repeats; the others may not.
        for (name, list) in ["vocab_language", "external_vendor"].iter().zip(&values) {
            if list.len() > 1 {
                return Err(format!("{name} given {} times; give it once", list.len()));
            }
        }
        let asked = values[0].first().copied().unwrap_or("en_uk");
        let language = LANGUAGES
            .iter()
            .copied()
            .find(|l| *l == asked)
            .expect("query_lists checked the value");
        let mut selection = SkillSelection {
            skills: self,
            language: if language == "en" { "en_uk" } else { language },
            properties: !values[2].is_empty(),
            source: None,
            ids: None,
        };
        let Some(filters) = body.get("filters") else {
            return Ok(Box::new(selection));
        };
        let wrapped = filters.as_object().filter(|o| o.len() == 1);
        let Some(Value::Array(filters)) = wrapped.and_then(|o| o.get("filters")) else {
            return Err(
                "filters must be an object holding the filter array: {\"filters\": [...]}".into(),
            );
        };
        for object in filters {
            let keys = object.as_object().map_or(0, Map::len);
            match object["filter"].as_str() {
                Some("skill_source") if keys == 2 => {
                    let Some(source) = object["skill_source"].as_str() else {
                        return Err(format!("skill_source must be a string in {object}"));
                    };
                    selection.source = Some(source.to_owned());
                }
                Some("skill_id_is_in_list") if keys == 2 => {
                    let ids = object["skill_ids"].as_array().and_then(|ids| {
                        ids.iter()
                            .map(|id| id.as_str().map(str::to_owned))
                            .collect::<Option<std::collections::HashSet<String>>>()
                    });
                    let Some(ids) = ids else {
                        return Err(format!("skill_ids must be an array of strings in {object}"));
                    };
                    selection.ids = Some(ids);
                }
                _ => {
                    return Err(format!(
                        "unsupported filter {object}; this endpoint supports skill_source and skill_id_is_in_list"
                    ));
                }
            }
        }
        Ok(Box::new(selection))
    }
}

struct SkillSelection<'a> {
    skills: &'a Skills,
    language: &'static str,
    properties: bool,
    source: Option<String>,
    ids: Option<std::collections::HashSet<String>>,
}

impl Selection for SkillSelection<'_> {
    fn matches(&self, index: usize) -> bool {
        self.source
            .as_deref()
            .is_none_or(|s| s == self.skills.source(index))
            && self
                .ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&self.skills.skill_id(index)))
    }

    fn render(&self, index: usize, out: &mut Vec<u8>) {
        use std::io::Write as _;
        let vocabulary = self.skills.vocabulary.get(index).copied();
        let (name, domain, cluster) = match vocabulary {
            Some((t, s)) => (
                CLUSTERS[t].skills[s].1.to_owned(),
                CLUSTERS[t].domain,
                // One cluster in four is outside the tenant's taxonomy.
                (t % 4 != 3).then_some(&CLUSTERS[t]),
            ),
            None => {
                let k = index - self.skills.vocabulary.len();
                (
                    format!("{} #{k}", CUSTOM_SKILLS[k % CUSTOM_SKILLS.len()]),
                    "Custom",
                    None,
                )
            }
        };
        let shown = if self.language.starts_with("en") {
            name.clone()
        } else {
            format!("{name} [{}]", self.language)
        };
        let description = format!("What \"{name}\" covers, in a sentence, with commas.");
        out.extend_from_slice(b"{\"skill_id\":");
        string(out, &self.skills.skill_id(index));
        out.extend_from_slice(b",\"skill_name\":");
        string(out, &shown);
        out.extend_from_slice(b",\"skill_description\":");
        // Some custom skills have no description.
        if vocabulary.is_none() && index.is_multiple_of(3) {
            out.extend_from_slice(b"null");
        } else {
            string(out, &description);
        }
        let _ = write!(
            out,
            ",\"skill_source\":\"{}\",\"inference_enabled\":{}",
            self.skills.source(index),
            !index.is_multiple_of(5)
        );
        out.extend_from_slice(b",\"default_skill_name\":");
        string(out, &name);
        out.extend_from_slice(b",\"default_skill_description\":");
        string(out, &description);
        out.extend_from_slice(b",\"techwolf_domain\":");
        string(out, domain);
        match cluster {
            Some(cluster) => {
                out.extend_from_slice(b",\"taxonomy_domain_id\":");
                string(out, &format!("dom-{}", &cluster.id[..8]));
                out.extend_from_slice(b",\"taxonomy_domain_name\":");
                string(out, cluster.domain);
                out.extend_from_slice(b",\"taxonomy_skill_cluster_id\":");
                string(out, cluster.id);
                out.extend_from_slice(b",\"taxonomy_skill_cluster_name\":");
                string(out, cluster.name);
            }
            None => out.extend_from_slice(
                b",\"taxonomy_domain_id\":null,\"taxonomy_domain_name\":null,\
                  \"taxonomy_skill_cluster_id\":null,\"taxonomy_skill_cluster_name\":null",
            ),
        }
        if self.properties {
            let status = if index.is_multiple_of(7) {
                "inactive"
            } else {
                "active"
            };
            let _ = write!(
                out,
                ",\"properties\":{{\"sap_status\":{{\"value\":\"{status}\"}}}}"
            );
        }
        out.push(b'}');
    }
}

/// `GET /organisational_units/export`: the organisational tree, one
/// document. Units form a heap-shaped tree under a few roots; every
/// employee belongs to one unit, and a unit's `total_nr_of_employees` is
/// its own employees plus its sub-units' totals, so the totals add up.
pub(crate) struct OrgUnits {
    tenant: Arc<Tenant>,
    /// Per unit: its parent (`None` for a root).
    parents: Vec<Option<usize>>,
    /// Per unit: its children, in order.
    children: Vec<Vec<usize>>,
    /// Per employee: its unit.
    unit_of: Vec<usize>,
}

const ORG_ROOTS: usize = 3;
const UNIT_NAMES: [&str; 8] = [
    "Operations",
    "Legal, Risk & Compliance",
    "R&D \"Labs\"",
    "=Finance",
    "Vertrieb Süd",
    "営業部",
    "People\nPartners",
    "+Growth",
];

impl OrgUnits {
    pub(crate) fn new(tenant: Arc<Tenant>) -> Self {
        let units = (tenant.len() / 40).max(8);
        let parents: Vec<Option<usize>> = (0..units)
            .map(|i| (i >= ORG_ROOTS).then(|| (i - ORG_ROOTS) / 3))
            .collect();
        let mut children = vec![Vec::new(); units];
        for (unit, parent) in parents.iter().enumerate() {
            if let Some(parent) = parent {
                children[*parent].push(unit);
            }
        }
        let unit_of = (0..tenant.len())
            .map(|e| Rng::new(tenant.seed() ^ 0x0_4617, e as u64).below(units as u64) as usize)
            .collect();
        OrgUnits {
            tenant,
            parents,
            children,
            unit_of,
        }
    }

    fn unit_id(unit: usize) -> String {
        format!("ou_{unit:04}")
    }

    /// The root units, in order.
    fn roots(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.parents.len()).filter(|u| self.parents[*u].is_none())
    }
}

impl Collection for OrgUnits {
    fn method(&self) -> &'static str {
        "GET"
    }

    fn path(&self) -> &'static str {
        "/organisational_units/export"
    }

    fn document(&self) -> Option<&'static str> {
        Some("organisational_structure")
    }

    fn len(&self) -> usize {
        self.roots().count()
    }

    fn key(&self, index: usize) -> String {
        Self::unit_id(self.roots().nth(index).expect("a root"))
    }

    fn select<'a>(
        &'a self,
        _body: &Map<String, Value>,
        query: &[(String, String)],
    ) -> Result<Box<dyn Selection + 'a>, String> {
        let values = query_lists(
            query,
            &[
                ("skill_id", &[]),
                ("include", &["low_data_availability_flag"]),
            ],
        )?;
        let skill = match values[0][..] {
            [] => None,
            [id] => {
                tw_model::org_units::check_skill_id(id).map_err(|err| err.to_string())?;
                Some(id)
            }
            _ => return Err("skill_id given more than once; give it once".into()),
        };
        // Per unit: (employees, low-data employees), own first, then
        // children added in (children have higher numbers than parents).
        let units = self.parents.len();
        let mut counts = vec![(0u64, 0u64); units];
        for (employee, &unit) in self.unit_of.iter().enumerate() {
            let has_skill = skill.is_none_or(|id| {
                self.tenant.held(employee).iter().any(|h| {
                    h.state != 2 && CLUSTERS[h.template as usize].skills[h.skill as usize].0 == id
                })
            });
            if has_skill {
                counts[unit].0 += 1;
                counts[unit].1 += u64::from(low_data(&self.tenant, employee));
            }
        }
        for unit in (0..units).rev() {
            if let Some(parent) = self.parents[unit] {
                let (n, low) = counts[unit];
                counts[parent].0 += n;
                counts[parent].1 += low;
            }
        }
        Ok(Box::new(UnitSelection {
            units: self,
            roots: self.roots().collect(),
            counts,
            // With skill_id, only units with matching employees are kept.
            keep_empty: skill.is_none(),
            low_data: !values[1].is_empty(),
        }))
    }
}

struct UnitSelection<'a> {
    units: &'a OrgUnits,
    roots: Vec<usize>,
    counts: Vec<(u64, u64)>,
    keep_empty: bool,
    low_data: bool,
}

impl UnitSelection<'_> {
    fn kept(&self, unit: usize) -> bool {
        self.keep_empty || self.counts[unit].0 > 0
    }

    fn render_unit(&self, unit: usize, out: &mut Vec<u8>) {
        use std::io::Write as _;
        out.extend_from_slice(b"{\"external_id\":");
        string(out, &OrgUnits::unit_id(unit));
        out.extend_from_slice(b",\"name\":");
        string(
            out,
            &format!("{} {unit}", UNIT_NAMES[unit % UNIT_NAMES.len()]),
        );
        let (employees, low) = self.counts[unit];
        let _ = write!(out, ",\"total_nr_of_employees\":{employees}");
        if self.low_data {
            let _ = write!(out, ",\"low_data_availability\":{low}");
        }
        // A field the model does not know, on some units.
        if unit % 4 == 1 {
            out.extend_from_slice(b",\"manager_external_id\":");
            string(out, &format!("emp-mgr-{unit}"));
        }
        out.extend_from_slice(b",\"children\":[");
        let mut first = true;
        for &child in &self.units.children[unit] {
            if self.kept(child) {
                if !first {
                    out.push(b',');
                }
                first = false;
                self.render_unit(child, out);
            }
        }
        out.extend_from_slice(b"]}");
    }
}

impl Selection for UnitSelection<'_> {
    fn matches(&self, index: usize) -> bool {
        self.kept(self.roots[index])
    }

    fn render(&self, index: usize, out: &mut Vec<u8>) {
        self.render_unit(self.roots[index], out);
    }
}

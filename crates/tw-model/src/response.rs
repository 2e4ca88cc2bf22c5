//! Response types: the generic export page and the skill-clusters records.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::enums::{SkillSource, ValidationState};
use crate::wire::wire_struct;

/// One page of a cursor-paginated export: the envelope every TechWolf export
/// endpoint shares.
///
/// `has_next` and `records` are required; a page without them is rejected
/// with an error naming the missing field. `next_starting_after` is the
/// cursor to send as `starting_after` for the next page. The API documents
/// that it can differ from the last record's id, so always prefer it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExportPage<T> {
    /// Whether another page follows this one.
    pub has_next: bool,
    /// The records of this page, in the server's order (oldest entity first).
    pub records: Vec<T>,
    /// The cursor for the next page; absent on older API versions and on
    /// some endpoints' last page.
    pub next_starting_after: Option<String>,
    /// Envelope fields this version does not know, kept verbatim (including
    /// an explicit `"next_starting_after": null`).
    pub extra: Map<String, Value>,
}

/// A page of the employee skill-clusters export.
pub type SkillClustersPage = ExportPage<EmployeeSkillClusters>;

const HAS_NEXT: &str = "has_next";
const RECORDS: &str = "records";
const NEXT: &str = "next_starting_after";

impl<T: Serialize> Serialize for ExportPage<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(HAS_NEXT, &self.has_next)?;
        map.serialize_entry(RECORDS, &self.records)?;
        if let Some(next) = &self.next_starting_after {
            map.serialize_entry(NEXT, next)?;
        }
        for (key, value) in &self.extra {
            let known = key == HAS_NEXT
                || key == RECORDS
                || (key == NEXT && self.next_starting_after.is_some());
            if !known {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ExportPage<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        enum Key {
            HasNext,
            Records,
            Next,
            Unknown(String),
        }

        struct KeyVisitor;

        impl Visitor<'_> for KeyVisitor {
            type Value = Key;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    HAS_NEXT => Key::HasNext,
                    RECORDS => Key::Records,
                    NEXT => Key::Next,
                    other => Key::Unknown(other.to_owned()),
                })
            }
        }

        impl<'de> Deserialize<'de> for Key {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_identifier(KeyVisitor)
            }
        }

        struct PageVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for PageVisitor<T> {
            type Value = ExportPage<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an export page object with `has_next` and `records`")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut has_next = None;
                let mut records = None;
                let mut next_starting_after = None;
                let mut extra = Map::new();
                while let Some(key) = access.next_key::<Key>()? {
                    match key {
                        Key::HasNext => has_next = Some(access.next_value()?),
                        Key::Records => records = Some(access.next_value()?),
                        Key::Next => {
                            next_starting_after = access.next_value::<Option<String>>()?;
                            if next_starting_after.is_none() {
                                extra.insert(NEXT.to_owned(), Value::Null);
                            } else {
                                extra.remove(NEXT);
                            }
                        }
                        Key::Unknown(name) => {
                            let value: Value = access.next_value()?;
                            extra.insert(name, value);
                        }
                    }
                }
                Ok(ExportPage {
                    has_next: has_next.ok_or_else(|| de::Error::missing_field(HAS_NEXT))?,
                    records: records.ok_or_else(|| de::Error::missing_field(RECORDS))?,
                    next_starting_after,
                    extra,
                })
            }
        }

        deserializer.deserialize_map(PageVisitor(std::marker::PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for ExportPage<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("ExportPage_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let records = generator.subschema_for::<Vec<T>>();
        json_schema!({
            "description": "One page of a cursor-paginated TechWolf export. Unknown fields are allowed and kept.",
            "type": "object",
            "required": [HAS_NEXT, RECORDS],
            "properties": {
                "has_next": {
                    "description": "Whether another page follows this one.",
                    "type": "boolean"
                },
                "records": records,
                "next_starting_after": {
                    "description": "The cursor to send as `starting_after` for the next page; may differ from the last record's id.",
                    "type": ["string", "null"]
                }
            }
        })
    }
}

wire_struct! {
    /// One employee's record in the skill-clusters export.
    pub struct EmployeeSkillClusters {
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
    pub struct SkillCluster {
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
    pub struct Skill {
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

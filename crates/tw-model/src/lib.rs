//! Forward-compatible serde types for the TechWolf Skill Engine export API,
//! with JSON Schemas.
//!
//! # Why this crate exists
//!
//! TechWolf pins an API version per tenant and adds fields and enum values
//! within a version, so one client sees several response shapes. The types
//! here accept every documented shape and survive the undocumented ones:
//!
//! * every field the documentation shows absent or `null` in any sample is an
//!   `Option`, and list fields have empty-when-absent accessors;
//! * unknown fields, at every level, are kept in `extra` and written back;
//! * enums are open: unknown values parse as `Other(String)`;
//! * `parse -> serialize` gives back every key and value the server sent, and
//!   adds none (an absent key stays absent, an explicit `null` stays `null`).
//!
//! Each TechWolf export is a [`Dataset`]: a declaration of its name,
//! method and path, paging, limit range, body, query, record type and key
//! fields. The generic export path in `tw-export` works from that alone.
//!
//! Requests are valid by construction: [`ExportRequest`] checks the page
//! size against the dataset's range, [`Date`] only holds calendar dates,
//! and a deserialized [`Filter`] is checked like a built one. Response bodies
//! decode with [`decode`] (typed records) or [`decode_raw`] (the records'
//! JSON text, checked against the model), which read the envelope with one
//! visitor and name the failing path on error.
//!
//! The fast paths are generated from the same model description
//! ([`Describe`]): a one-pass [`Scanner`] checks a page's records in the walk
//! that finds them ([`decode_raw_page`] uses it and falls back to the serde
//! decoders whenever it is not sure), [`decode_page_into`] decodes a page
//! on that walk into the records of an earlier one, reusing their
//! allocations, and [`decode_view_page`] views a page on it for tables
//! ([`view`]: strings as spans of the page, not copies). All give exactly
//! what [`decode_page`] gives.
//!
//! The crate does no I/O; `cargo xtask gen-schema` writes the JSON Schemas
//! of every dataset to `schemas/`.
//!
//! # Example
//!
//! ```
//! use tw_model::skill_clusters::Include;
//! use tw_model::{Filter, SkillClusters, SkillClustersPage, SkillClustersRequest, decode};
//!
//! // Build the request body of the first page.
//! let request = SkillClustersRequest::new(100)?
//!     .with_filter(Filter::is_active(true))
//!     .with_include([Include::CurrentSkills, Include::Sources]);
//! let body = serde_json::to_string(&request.page_body(None)).unwrap();
//! assert_eq!(
//!     body,
//!     r#"{"limit":100,"filters":[{"filter":"is_active","is_active":true}],"include":["current_skills","sources"]}"#
//! );
//!
//! // Decode a response page; a field TechWolf added later is kept.
//! let page: SkillClustersPage = decode(br#"{
//!     "has_next": false,
//!     "records": [{"external_id": "emp-1", "skill_clusters": [], "team": "blue"}]
//! }"#)?;
//! let employee = &page.records[0];
//! assert_eq!(employee.external_id, "emp-1");
//! assert_eq!(employee.extra["team"], "blue");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod dataset;
mod date;
mod decode;
mod decode_into;
mod enums;
mod error;
mod page;
mod profile;
mod request;
mod scan;
mod shape;
mod spares;
mod validate;
pub mod view;
mod wire;

pub mod ai_goals;
pub mod job_market_alignment;
pub mod job_market_skill_profiles;
pub mod job_skill_profiles;
pub mod job_suggestions;
pub mod job_task_profiles;
pub mod org_units;
pub mod position_matches;
pub mod skill_clusters;
pub mod skill_profiles;
pub mod skills;
pub mod task_profiles;

pub use crate::dataset::{
    Cell, Dataset, EmitRow, FieldText, FieldValue, Kind, Labels, Method, Paging, Table, ToJson,
    Unknown, cells,
};
pub use crate::date::Date;
pub use crate::decode::{decode, decode_page};
#[doc(hidden)]
pub use crate::decode_into::DecodeInto;
pub use crate::decode_into::decode_page_into;
pub use crate::enums::{SkillSource, ValidationState};
pub use crate::error::{DecodeError, RequestError};
pub use crate::page::{AsDocument, ExportPage, peek_next_cursor};
pub use crate::request::{
    CURSOR_MAX_LEN, ExportRequest, Filter, FilteredBody, FiltersOnly, HasFilters, HasInclude,
    NoBody, NoQuery, Operator, PageBody, PageLimit, PageRequest, check_cursor, query_pairs,
};
#[doc(hidden)]
pub use crate::scan::{FieldPath, Scan, Unsure, Walk};
pub use crate::scan::{Scanner, UnknownFields, scan_raw_page};
#[doc(hidden)]
pub use crate::shape::describe_object;
pub use crate::shape::{Describe, FieldShape, Shape, unknown_fields};
pub use crate::skill_clusters::{
    EmployeeSkillClusters, Skill, SkillCluster, SkillClusters, SkillClustersPage,
    SkillClustersRequest, SkillList,
};
pub use crate::skill_profiles::{
    EmployeeSkillProfile, ProfileSkill, SkillProfiles, SkillProfilesRequest, SourceEvent,
};
pub use crate::validate::{
    RawPage, Validate, decode_raw, decode_raw_page, decode_raw_page_counting,
};
pub use crate::view::{EachRecord, ViewPage, decode_view_page, view_page_each, view_record};

/// Re-exported so users need not depend on `serde_json` to read `extra`.
pub use serde_json::{Map, Value};

/// Calls `$callback! { module: Type, ... }` with every dataset this release
/// declares, in the order of the command's help. The schemas, the command's
/// tests and the per-dataset test suites are generated from this one list.
#[macro_export]
macro_rules! with_datasets {
    ($callback:ident) => {
        $callback! {
            skill_clusters: $crate::SkillClusters,
            skill_profiles: $crate::SkillProfiles,
            task_profiles: $crate::task_profiles::TaskProfiles,
            ai_goals: $crate::ai_goals::AiGoals,
            position_matches: $crate::position_matches::PositionMatches,
            skills: $crate::skills::Skills,
            org_units: $crate::org_units::OrgUnits,
            job_skill_profiles: $crate::job_skill_profiles::JobSkillProfiles,
            job_market_skill_profiles: $crate::job_market_skill_profiles::JobMarketSkillProfiles,
            job_market_alignment: $crate::job_market_alignment::JobMarketAlignment,
            job_task_profiles: $crate::job_task_profiles::JobTaskProfiles,
            job_suggestions: $crate::job_suggestions::JobSuggestions,
        }
    };
}

macro_rules! schema_list {
    ($($module:ident: $dataset:ty,)*) => {
        /// The JSON Schemas this crate publishes, as `(file name, schema)`
        /// pairs in a fixed order: per dataset `<name>-request.json` (a page's
        /// body; for a `GET` export, its query parameters as an object),
        /// `<name>-page.json` (a page, or the whole document) and
        /// `<name>-record.json`. `cargo xtask gen-schema` writes them to
        /// `schemas/`.
        pub fn schemas() -> Vec<(String, schemars::Schema)> {
            let mut all = Vec::new();
            $( dataset_schemas::<$dataset>(&mut all); )*
            all
        }
    };
}

with_datasets!(schema_list);

struct RequestSchema<D>(std::marker::PhantomData<D>);

impl<D: Dataset> schemars::JsonSchema for RequestSchema<D> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("{}-request", D::NAME).into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        crate::request::request_schema::<D>(generator)
    }
}

fn dataset_schemas<D: Dataset>(all: &mut Vec<(String, schemars::Schema)>) {
    all.push((
        format!("{}-request.json", D::NAME),
        schemars::schema_for!(RequestSchema<D>),
    ));
    all.push((
        format!("{}-page.json", D::NAME),
        schemars::schema_for!(PageSchema<D>),
    ));
    all.push((
        format!("{}-record.json", D::NAME),
        schemars::schema_for!(D::Record),
    ));
}

struct PageSchema<D>(std::marker::PhantomData<D>);

impl<D: Dataset> schemars::JsonSchema for PageSchema<D> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("{}-page", D::NAME).into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        match D::PAGING {
            Paging::Cursor => ExportPage::<D::Record>::json_schema(generator),
            Paging::Document { records } => {
                let list = generator.subschema_for::<Vec<D::Record>>();
                schemars::json_schema!({
                    "description": format!(
                        "The whole response of `{} {}`: one document, not paginated. \
                         Unknown fields are allowed and kept.",
                        D::METHOD.as_str(),
                        D::PATH
                    ),
                    "type": "object",
                    "required": [records],
                    "properties": { records: list }
                })
            }
        }
    }
}

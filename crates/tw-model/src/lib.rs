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
//! Requests are valid by construction: [`PageLimit`] and [`Cursor`] check the
//! documented ranges when built, before any I/O. Response bodies decode with
//! [`decode`], whose errors name the failing path.
//!
//! The crate does no I/O; `cargo xtask gen-schema` writes the JSON Schemas
//! of the public types to `schemas/`.
//!
//! # Example
//!
//! ```
//! use tw_model::{Filter, Include, SkillClustersPage, SkillClustersRequest, decode};
//!
//! // Build the request body of the first page.
//! let request = SkillClustersRequest::new(100)?
//!     .with_filter(Filter::is_active(true))
//!     .with_include([Include::CurrentSkills, Include::Sources]);
//! let body = serde_json::to_string(&request).unwrap();
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

mod decode;
mod enums;
mod error;
mod request;
mod response;
mod validate;
mod wire;

pub use crate::decode::decode;
pub use crate::enums::{Include, Operator, SkillSource, ValidationState};
pub use crate::error::{DecodeError, RequestError};
pub use crate::request::{Cursor, Filter, PageLimit, SkillClustersRequest};
pub use crate::response::{
    EmployeeSkillClusters, ExportPage, Skill, SkillCluster, SkillClustersPage, SkillList,
};
pub use crate::validate::{RawPage, Validate, decode_raw};

/// Re-exported so users need not depend on `serde_json` to read `extra`.
pub use serde_json::{Map, Value};

/// The JSON Schemas this crate publishes, as `(file name, schema)` pairs in
/// a fixed order. `cargo xtask gen-schema` writes them to `schemas/`.
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        (
            "skill-clusters-request.json",
            schemars::schema_for!(SkillClustersRequest),
        ),
        (
            "skill-clusters-page.json",
            schemars::schema_for!(SkillClustersPage),
        ),
        (
            "employee-skill-clusters.json",
            schemars::schema_for!(EmployeeSkillClusters),
        ),
    ]
}

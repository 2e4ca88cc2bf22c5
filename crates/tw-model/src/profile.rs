//! What the profile exports (skill and task profiles, of employees and
//! jobs) share: their query parameters.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::request::{Filter, HasFilters, HasInclude};
use crate::wire::open_enum;

/// The body of the skill-profile exports (employees and jobs): filters,
/// include values and the order of each record's skills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(bound(serialize = "I: Serialize", deserialize = "I: Deserialize<'de>"))]
pub struct SortedBody<I> {
    /// Filters, all of which must match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// Optional parts of each profile to return.
    #[serde(default = "Vec::<I>::new", skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<I>,
    /// The order of each record's skills (the API's default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_skills_sorting: Option<Sorting>,
    /// Body fields this release does not know, sent as given.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Map<String, Value>,
}

impl<I> Default for SortedBody<I> {
    fn default() -> Self {
        SortedBody {
            filters: Vec::new(),
            include: Vec::new(),
            output_skills_sorting: None,
            extra: Map::new(),
        }
    }
}

impl<I> HasFilters for SortedBody<I> {
    fn filters_mut(&mut self) -> &mut Vec<Filter> {
        &mut self.filters
    }
}

impl<I: PartialEq> HasInclude for SortedBody<I> {
    type Include = I;

    fn include_mut(&mut self) -> &mut Vec<I> {
        &mut self.include
    }
}

open_enum! {
    /// `output_skills_sorting`.
    pub enum Sorting {
        /// By skill name.
        Alphabetical = "alphabetical",
        /// By decreasing confidence.
        Confidence = "confidence",
    }
}

/// The query parameters of the profile exports.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ProfileQuery {
    /// `list` (the documented record shape) or `hierarchy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// The skill vocabulary to answer in; only vendors enabled on the
    /// tenant work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_vendor: Option<ExternalVendor>,
}

open_enum! {
    /// `response_format` of the profile exports.
    pub enum ResponseFormat {
        /// A flat list of skills per record (the documented shape).
        List = "list",
        /// A hierarchy (its shape is not documented).
        Hierarchy = "hierarchy",
    }
}

open_enum! {
    /// `external_vendor`: the skill vocabulary to answer in.
    pub enum ExternalVendor {
        /// TechWolf's own vocabulary.
        Techwolf = "techwolf",
        /// Workday's skills cloud.
        Workday = "workday",
        /// SAP's attribute library.
        SapAttributeLibrary = "sap_attribute_library",
    }
}

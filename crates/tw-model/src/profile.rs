//! What the profile exports (skill and task profiles, of employees and
//! jobs) share: their query parameters.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::wire::open_enum;

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

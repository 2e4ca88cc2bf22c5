//! `skills`: `POST /export/skills`, the skill vocabulary and where each
//! skill sits in the tenant's taxonomy.
//!
//! Three response shapes are documented (see README): one with
//! `properties`, one with `skill_source` and the default-language name and
//! description, and one that adds `inference_enabled`. [`TaxonomySkill`]
//! decodes all three: every field but `skill_id` is optional, and the
//! taxonomy fields are `null` for a skill outside the tenant's taxonomy.
//!
//! Unlike every other export, this one wraps its filters in an object,
//! `"filters": {"filters": [...]}`, and takes `include` as a repeated query
//! parameter. Its page size has no documented ceiling; its samples send
//! 200, so this crate accepts 1 to 1000.
//!
//! ```
//! use tw_model::Filter;
//! use tw_model::skills::{Include, SkillsRequest, VocabLanguage};
//!
//! let mut request = SkillsRequest::new(200)?.with_filter(Filter::skill_source("vocabulary"));
//! request.query.vocab_language = Some(VocabLanguage::De);
//! request.query.include = vec![Include::Properties];
//! assert_eq!(
//!     serde_json::to_string(&request.page_body(None))?,
//!     r#"{"limit":200,"filters":{"filters":[{"filter":"skill_source","skill_source":"vocabulary"}]}}"#
//! );
//! assert_eq!(
//!     request.query_pairs(),
//!     [("include".to_owned(), "properties".to_owned()), ("vocab_language".to_owned(), "de".to_owned())]
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::dataset::{Cell, Dataset, EmitRow, Kind, Method, Paging, Table, cells};
use crate::profile::ExternalVendor;
use crate::request::{ExportRequest, Filter, HasFilters, PageLimit};
use crate::view::ViewJson;
use crate::wire::{open_enum, wire_struct};

/// The skills export, declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Skills;

impl Dataset for Skills {
    const NAME: &'static str = "skills";
    const ABOUT: &'static str =
        "The skill vocabulary and the tenant's taxonomy (POST /export/skills)";
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/export/skills";
    const PAGING: Paging = Paging::Cursor;
    /// Not documented: the samples send 200, above the 100 of the other
    /// exports.
    const MAX_LIMIT: u32 = PageLimit::MAX;
    const KEY: &'static [&'static str] = &["skill_id"];
    type Body = Body;
    type Query = Query;
    type Record = TaxonomySkill;
}

/// A request of the skills export.
pub type SkillsRequest = ExportRequest<Skills>;

/// The body of `POST /export/skills` besides `limit` and `starting_after`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Body {
    /// The filters, wrapped: `{"filters": [...]}` (this export's form).
    #[serde(default, skip_serializing_if = "WrappedFilters::is_empty")]
    pub filters: WrappedFilters,
    /// Body fields this release does not know, sent as given.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Map<String, Value>,
}

/// The skills export's `filters` object: the filter list under `filters`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct WrappedFilters {
    /// Filters (`skill_source`, `skill_id_is_in_list`), all of which must
    /// match.
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// Keys of the wrapper this release does not know, sent as given.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Map<String, Value>,
}

impl WrappedFilters {
    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty() && self.extra.is_empty()
    }
}

impl HasFilters for Body {
    fn filters_mut(&mut self) -> &mut Vec<Filter> {
        &mut self.filters.filters
    }
}

/// The query parameters of the skills export.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Query {
    /// The language names and descriptions are shown in (default `en_uk`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vocab_language: Option<VocabLanguage>,
    /// The skill vocabulary (`workday`, `sap_attribute_library`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_vendor: Option<ExternalVendor>,
    /// Extra skill attributes, one `include` parameter each. The documented
    /// list is cut off; `properties` is inferred from a response sample.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<Include>,
}

open_enum! {
    /// `vocab_language`: the display language.
    pub enum VocabLanguage {
        /// English (an alias of `en_uk`).
        En = "en",
        /// British English (the default).
        EnUk = "en_uk",
        /// American English.
        EnUs = "en_us",
        /// German.
        De = "de",
        /// French.
        Fr = "fr",
        /// Dutch.
        Nl = "nl",
    }
}

open_enum! {
    /// `include` values of the skills export.
    pub enum Include {
        /// Vendor properties such as `sap_status` (inferred from a sample;
        /// the documented list is cut off).
        Properties = "properties",
    }
}

open_enum! {
    /// `skill_source`: where a skill comes from.
    pub enum Origin {
        /// TechWolf's vocabulary (the only value seen).
        Vocabulary = "vocabulary",
        /// A skill the tenant created (inferred: custom skills exist).
        Custom = "custom",
    }
}

wire_struct! {
    /// One skill of the vocabulary, in any of the three documented shapes.
    pub struct TaxonomySkill => TaxonomySkillView {
        /// The skill's id.
        req skill_id: String,
        /// Its name in `vocab_language` (or the vendor's vocabulary).
        opt skill_name: Option<String>,
        /// Its description.
        opt skill_description: Option<String>,
        /// Where it comes from (newer shapes).
        opt skill_source: Option<Origin>,
        /// Whether TechWolf infers it for employees (newest shape).
        opt inference_enabled: Option<bool>,
        /// Its name in the default language (newer shapes).
        opt default_skill_name: Option<String>,
        /// Its description in the default language (newer shapes).
        opt default_skill_description: Option<String>,
        /// TechWolf's default domain of the skill.
        opt techwolf_domain: Option<String>,
        /// The tenant taxonomy's domain; `null` outside the taxonomy.
        opt taxonomy_domain_id: Option<String>,
        /// That domain's name.
        opt taxonomy_domain_name: Option<String>,
        /// The tenant taxonomy's skill cluster; `null` outside the taxonomy.
        opt taxonomy_skill_cluster_id: Option<String>,
        /// That cluster's name.
        opt taxonomy_skill_cluster_name: Option<String>,
        /// Vendor properties (oldest shape; include-controlled).
        opt properties: Option<SkillProperties>,
    }
}

wire_struct! {
    /// A skill's vendor properties.
    pub struct SkillProperties => SkillPropertiesView {
        /// The skill's status in SAP.
        opt sap_status: Option<SapStatus>,
    }
}

wire_struct! {
    /// `properties.sap_status`.
    pub struct SapStatus => SapStatusView {
        /// `active` or `inactive`.
        opt value: Option<String>,
    }
}

impl Table for TaxonomySkill {
    crate::dataset::rows_over_views!(TaxonomySkillView);

    /// One row per skill; see README.
    const COLUMNS: &'static [&'static str] = &[
        "skill_id",
        "skill_name",
        "skill_description",
        "skill_source",
        "inference_enabled",
        "default_skill_name",
        "default_skill_description",
        "techwolf_domain",
        "taxonomy_domain_id",
        "taxonomy_domain_name",
        "taxonomy_skill_cluster_id",
        "taxonomy_skill_cluster_name",
        "sap_status",
        "properties",
        "extra",
    ];
    const TYPED: &'static [(&'static str, Kind)] = &[("inference_enabled", Kind::Boolean)];

    fn view_rows<E>(view: &TaxonomySkillView, t: &str, emit: &mut EmitRow<'_, E>) -> Result<(), E> {
        let sap_status = view
            .properties
            .as_ref()
            .and_then(|p| p.sap_status.as_ref())
            .and_then(|s| s.value);
        let properties = view
            .properties
            .as_ref()
            .map(|p| ViewJson::<SkillProperties>::new(p, t));
        emit(
            &[
                view.skill_id.cell(t),
                cells::span(&view.skill_name, t),
                cells::span(&view.skill_description, t),
                cells::span(&view.skill_source, t),
                cells::shown(view.inference_enabled),
                cells::span(&view.default_skill_name, t),
                cells::span(&view.default_skill_description, t),
                cells::span(&view.techwolf_domain, t),
                cells::span(&view.taxonomy_domain_id, t),
                cells::span(&view.taxonomy_domain_name, t),
                cells::span(&view.taxonomy_skill_cluster_id, t),
                cells::span(&view.taxonomy_skill_cluster_name, t),
                cells::span(&sap_status, t),
                cells::json(properties.as_ref()),
                Cell::Text(&cells::extra_viewed(t, [("skill", view)])),
            ],
            0,
        )
    }
}

//! What every export request shares: the page size, the cursor rule,
//! filters, and the request of a dataset without paging state.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::dataset::Dataset;
use crate::date::Date;
use crate::error::RequestError;

/// A page size: 1 to [`PageLimit::MAX`]. Each dataset accepts a range of
/// its own ([`Dataset::MAX_LIMIT`]); [`ExportRequest`] checks that one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PageLimit(u16);

impl PageLimit {
    /// The smallest page size.
    pub const MIN: u32 = 1;
    /// The largest page size any dataset takes (the skills export).
    pub const MAX: u32 = 1000;

    /// Checks `value` against `1..=max` (`max` at most [`PageLimit::MAX`]).
    pub fn new(value: i64, max: u32) -> Result<Self, RequestError> {
        let max = max.min(Self::MAX);
        if (i64::from(Self::MIN)..=i64::from(max)).contains(&value) {
            Ok(PageLimit(value as u16))
        } else {
            Err(RequestError::LimitOutOfRange { value, max })
        }
    }

    /// The page size.
    pub fn get(self) -> u32 {
        u32::from(self.0)
    }
}

impl fmt::Display for PageLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for PageLimit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u16(self.0)
    }
}

impl<'de> Deserialize<'de> for PageLimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(deserializer)?;
        PageLimit::new(value, PageLimit::MAX).map_err(serde::de::Error::custom)
    }
}

/// The longest cursor the API accepts in `starting_after`, in characters.
pub const CURSOR_MAX_LEN: usize = 100;

/// Checks a cursor against the API's rule for `starting_after`: 1 to
/// [`CURSOR_MAX_LEN`] characters. The one place that rule is written.
pub fn check_cursor(value: &str) -> Result<(), RequestError> {
    let len = value.chars().count();
    if (1..=CURSOR_MAX_LEN).contains(&len) {
        Ok(())
    } else {
        Err(RequestError::CursorLength { len })
    }
}

/// The JSON Schema of `starting_after`.
fn cursor_schema() -> Value {
    serde_json::json!({
        "description": "Opaque pagination cursor: the previous page's `next_starting_after`.",
        "type": "string",
        "minLength": 1,
        "maxLength": CURSOR_MAX_LEN
    })
}

/// The comparison of a `last_updated` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// Strictly after the date (`gt`).
    Gt,
    /// Strictly before the date (`lt`).
    Lt,
}

impl Operator {
    /// The operator as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Gt => "gt",
            Operator::Lt => "lt",
        }
    }

    fn parse(value: &str) -> Option<Operator> {
        match value {
            "gt" => Some(Operator::Gt),
            "lt" => Some(Operator::Lt),
            _ => None,
        }
    }
}

/// One entry of a request's `filters` array, tagged by its `"filter"` key.
///
/// The documented tags are typed and checked, including when deserialized:
/// a `last_updated` filter always holds a calendar date and `gt` or `lt`.
/// Filters this release does not model travel as [`Filter::Other`], the
/// object exactly as given; a documented tag with keys beyond its own stays
/// `Other` too (after its known keys are checked), so no key is dropped.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `{"filter": "is_active", "is_active": true}`: only (in)active employees.
    IsActive {
        /// `true` for active employees only, `false` for inactive ones only.
        is_active: bool,
    },
    /// `{"filter": "last_updated", "value": "2024-03-25", "operator": "gt"}`:
    /// only entities updated after (`gt`) or before (`lt`) a date.
    LastUpdated {
        /// The date.
        value: Date,
        /// The comparison.
        operator: Operator,
    },
    /// Any other filter object, passed through unchanged. It carries a
    /// string `"filter"` key; [`Filter::other`] checks that.
    Other(Map<String, Value>),
}

impl Filter {
    /// The `is_active` filter.
    pub fn is_active(is_active: bool) -> Self {
        Filter::IsActive { is_active }
    }

    /// `last_updated` `gt` `date`.
    pub fn updated_after(date: Date) -> Self {
        Filter::LastUpdated {
            value: date,
            operator: Operator::Gt,
        }
    }

    /// `last_updated` `lt` `date`.
    pub fn updated_before(date: Date) -> Self {
        Filter::LastUpdated {
            value: date,
            operator: Operator::Lt,
        }
    }

    /// `{"filter": "skill_source", "skill_source": source}`: only skills
    /// from this source, e.g. `vocabulary` (the skills export).
    pub fn skill_source(source: impl Into<String>) -> Self {
        let mut map = Map::new();
        map.insert("filter".into(), "skill_source".into());
        map.insert("skill_source".into(), Value::String(source.into()));
        Filter::Other(map)
    }

    /// `{"filter": "skill_id_is_in_list", "skill_ids": [...]}` (the skills
    /// export).
    pub fn skill_ids<S: Into<String>>(ids: impl IntoIterator<Item = S>) -> Self {
        Filter::in_list("skill_id_is_in_list", "skill_ids", ids)
    }

    /// `{"filter": "job_family_id_is_in_list", "job_family_ids": [...]}`
    /// (the job exports and suggestions).
    pub fn job_family_ids<S: Into<String>>(ids: impl IntoIterator<Item = S>) -> Self {
        Filter::in_list("job_family_id_is_in_list", "job_family_ids", ids)
    }

    /// `{"filter": "state_is_in_list", "states": [...]}` (suggestions:
    /// `suggested`, `accepted`, `rejected`).
    pub fn states<S: Into<String>>(states: impl IntoIterator<Item = S>) -> Self {
        Filter::in_list("state_is_in_list", "states", states)
    }

    fn in_list<S: Into<String>>(tag: &str, key: &str, values: impl IntoIterator<Item = S>) -> Self {
        let values: Vec<Value> = values
            .into_iter()
            .map(|v| Value::String(v.into()))
            .collect();
        let mut map = Map::new();
        map.insert("filter".into(), tag.into());
        map.insert(key.into(), Value::Array(values));
        Filter::Other(map)
    }

    /// Any other filter, given as a JSON object with a string `"filter"`
    /// key. A documented tag is checked as when deserialized.
    pub fn other(value: Value) -> Result<Self, RequestError> {
        match value {
            Value::Object(map) => Filter::from_json(map),
            other => Err(RequestError::InvalidFilter {
                value: other.to_string(),
                reason: "a filter must be a JSON object with a string \"filter\" key".into(),
            }),
        }
    }

    /// The filter as the JSON object the API takes (its serialization).
    pub fn to_json(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => unreachable!("a filter serializes as a JSON object"),
        }
    }

    fn from_json(map: Map<String, Value>) -> Result<Self, RequestError> {
        let invalid = |map: &Map<String, Value>, reason: &str| RequestError::InvalidFilter {
            value: Value::Object(map.clone()).to_string(),
            reason: reason.to_owned(),
        };
        let Some(Value::String(tag)) = map.get("filter") else {
            return Err(invalid(
                &map,
                "a filter must be a JSON object with a string \"filter\" key",
            ));
        };
        let typed = match tag.as_str() {
            "is_active" => {
                let Some(Value::Bool(is_active)) = map.get("is_active") else {
                    return Err(invalid(&map, "is_active must be true or false"));
                };
                (map.len() == 2).then_some(Filter::IsActive {
                    is_active: *is_active,
                })
            }
            "last_updated" => {
                let value = match map.get("value") {
                    Some(Value::String(text)) => Date::parse(text).ok(),
                    _ => None,
                };
                let Some(value) = value else {
                    return Err(invalid(
                        &map,
                        "value must be a calendar date written as YYYY-MM-DD",
                    ));
                };
                let operator = map.get("operator").and_then(Value::as_str);
                let Some(operator) = operator.and_then(Operator::parse) else {
                    return Err(invalid(&map, "operator must be \"gt\" or \"lt\""));
                };
                (map.len() == 3).then_some(Filter::LastUpdated { value, operator })
            }
            _ => None,
        };
        Ok(typed.unwrap_or(Filter::Other(map)))
    }
}

impl Serialize for Filter {
    /// Typed filters are written in the documented key order.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        match self {
            Filter::IsActive { is_active } => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("filter", "is_active")?;
                map.serialize_entry("is_active", is_active)?;
                map.end()
            }
            Filter::LastUpdated { value, operator } => {
                let mut map = serializer.serialize_map(Some(3))?;
                map.serialize_entry("filter", "last_updated")?;
                map.serialize_entry("value", value)?;
                map.serialize_entry("operator", operator.as_str())?;
                map.end()
            }
            Filter::Other(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        Filter::from_json(map).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Filter {
    fn schema_name() -> Cow<'static, str> {
        "Filter".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let date = generator.subschema_for::<Date>();
        json_schema!({
            "description": "A filter object, tagged by its \"filter\" key.",
            "anyOf": [
                {
                    "description": "Only active (true) or inactive (false) employees.",
                    "type": "object",
                    "required": ["filter", "is_active"],
                    "properties": {
                        "filter": { "const": "is_active" },
                        "is_active": { "type": "boolean" }
                    }
                },
                {
                    "description": "Only entities updated after (gt) or before (lt) a date.",
                    "type": "object",
                    "required": ["filter", "value", "operator"],
                    "properties": {
                        "filter": { "const": "last_updated" },
                        "value": date,
                        "operator": { "enum": ["gt", "lt"] }
                    }
                },
                {
                    "description": "Any other filter, passed through unchanged.",
                    "type": "object",
                    "required": ["filter"],
                    "properties": {
                        "filter": { "type": "string", "not": { "enum": ["is_active", "last_updated"] } }
                    }
                }
            ]
        })
    }
}

/// A request body that carries `filters` (for [`ExportRequest::with_filter`]).
pub trait HasFilters {
    /// The filters, all of which must match.
    fn filters_mut(&mut self) -> &mut Vec<Filter>;
}

/// A request body that carries `include` (for [`ExportRequest::with_include`]).
pub trait HasInclude {
    /// The dataset's include values.
    type Include: PartialEq;
    /// The include list.
    fn include_mut(&mut self) -> &mut Vec<Self::Include>;
}

/// The body of the exports whose body is `filters` and `include` only
/// (plus fields this release does not know).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(bound(serialize = "I: Serialize", deserialize = "I: Deserialize<'de>"))]
pub struct FilteredBody<I> {
    /// Filters, all of which must match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// Optional parts of each record to return.
    #[serde(default = "Vec::<I>::new", skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<I>,
    /// Body fields this release does not know, sent as given.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Map<String, Value>,
}

impl<I> Default for FilteredBody<I> {
    fn default() -> Self {
        FilteredBody {
            filters: Vec::new(),
            include: Vec::new(),
            extra: Map::new(),
        }
    }
}

impl<I> HasFilters for FilteredBody<I> {
    fn filters_mut(&mut self) -> &mut Vec<Filter> {
        &mut self.filters
    }
}

impl<I: PartialEq> HasInclude for FilteredBody<I> {
    type Include = I;

    fn include_mut(&mut self) -> &mut Vec<I> {
        &mut self.include
    }
}

/// The body of the exports whose body is `filters` only.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct FiltersOnly {
    /// Filters, all of which must match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// Body fields this release does not know, sent as given.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Map<String, Value>,
}

impl HasFilters for FiltersOnly {
    fn filters_mut(&mut self) -> &mut Vec<Filter> {
        &mut self.filters
    }
}

/// The body of an export that takes none (a `GET`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct NoBody {}

/// The query of a dataset that takes no query parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct NoQuery {}

/// Query parameters as `(name, value)` pairs, in name order: `null` is left
/// out, an array becomes one pair per element in order (the API's repeated
/// parameters), and any other value is its JSON text without quotes for
/// strings.
pub fn query_pairs<Q: Serialize>(query: &Q) -> Vec<(String, String)> {
    fn text(value: &Value) -> String {
        match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
    let Ok(Value::Object(map)) = serde_json::to_value(query) else {
        return Vec::new();
    };
    let mut pairs = Vec::new();
    for (name, value) in map {
        match value {
            Value::Null => {}
            Value::Array(items) => pairs.extend(items.iter().map(|v| (name.clone(), text(v)))),
            other => pairs.push((name, text(&other))),
        }
    }
    pairs
}

/// What to export from dataset `D`: the page size, the body (filters,
/// include, sorting and other body fields) and the query parameters. It has
/// no paging state: the cursor lives in the checkpoint and goes into each
/// page's body through [`ExportRequest::page_body`], so the request is never
/// cloned per page.
///
/// ```
/// use tw_model::{Date, ExportRequest, Filter, SkillClusters};
/// use tw_model::skill_clusters::Include;
///
/// let request = ExportRequest::<SkillClusters>::new(100)?
///     .with_filter(Filter::updated_after("2024-03-25".parse::<Date>()?))
///     .with_include([Include::CurrentSkills]);
/// let body = serde_json::to_string(&request.page_body(Some("c-1")))?;
/// assert_eq!(
///     body,
///     r#"{"limit":100,"starting_after":"c-1","filters":[{"filter":"last_updated","value":"2024-03-25","operator":"gt"}],"include":["current_skills"]}"#
/// );
/// assert!(ExportRequest::<SkillClusters>::new(101).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ExportRequest<D: Dataset> {
    limit: PageLimit,
    /// The body fields besides `limit` and `starting_after`.
    pub body: D::Body,
    /// The query parameters.
    pub query: D::Query,
    /// Query parameters this release does not model, sent after `query`'s
    /// (an escape hatch: nobody is blocked by a parameter the model lacks).
    pub extra_query: Vec<(String, String)>,
}

impl<D: Dataset> ExportRequest<D> {
    /// A request for pages of `limit` records (`1..=D::MAX_LIMIT`) with the
    /// default body and query (no filters, no includes).
    pub fn new(limit: i64) -> Result<Self, RequestError> {
        Ok(ExportRequest {
            limit: PageLimit::new(limit, D::MAX_LIMIT)?,
            body: D::Body::default(),
            query: D::Query::default(),
            extra_query: Vec::new(),
        })
    }

    /// The page size.
    pub fn limit(&self) -> PageLimit {
        self.limit
    }

    /// Changes the page size (`1..=D::MAX_LIMIT`).
    pub fn set_limit(&mut self, limit: i64) -> Result<(), RequestError> {
        self.limit = PageLimit::new(limit, D::MAX_LIMIT)?;
        Ok(())
    }

    /// Replaces the body.
    pub fn with_body(mut self, body: D::Body) -> Self {
        self.body = body;
        self
    }

    /// Replaces the query.
    pub fn with_query(mut self, query: D::Query) -> Self {
        self.query = query;
        self
    }

    /// The JSON body of the page after `cursor` (the first page for `None`).
    pub fn page_body<'a>(&'a self, cursor: Option<&'a str>) -> PageBody<'a, D::Body> {
        PageBody {
            limit: self.limit,
            starting_after: cursor,
            body: &self.body,
        }
    }

    /// Adds a query parameter the model does not know (repeatable).
    pub fn with_query_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_query.push((name.into(), value.into()));
        self
    }

    /// The query parameters as `(name, value)` pairs: `query`'s (see
    /// [`query_pairs`]), then `extra_query`.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = query_pairs(&self.query);
        pairs.extend(self.extra_query.iter().cloned());
        pairs
    }
}

impl<D: Dataset> ExportRequest<D>
where
    D::Body: HasFilters,
{
    /// Adds a filter.
    pub fn with_filter(mut self, filter: Filter) -> Self {
        self.body.filters_mut().push(filter);
        self
    }
}

impl<D: Dataset> ExportRequest<D>
where
    D::Body: HasInclude,
{
    /// Adds include values, skipping ones already present.
    pub fn with_include(
        mut self,
        include: impl IntoIterator<Item = <D::Body as HasInclude>::Include>,
    ) -> Self {
        let list = self.body.include_mut();
        for item in include {
            if !list.contains(&item) {
                list.push(item);
            }
        }
        self
    }
}

impl<D: Dataset> Clone for ExportRequest<D> {
    fn clone(&self) -> Self {
        ExportRequest {
            limit: self.limit,
            body: self.body.clone(),
            query: self.query.clone(),
            extra_query: self.extra_query.clone(),
        }
    }
}

impl<D: Dataset> PartialEq for ExportRequest<D> {
    fn eq(&self, other: &Self) -> bool {
        self.limit == other.limit
            && self.body == other.body
            && self.query == other.query
            && self.extra_query == other.extra_query
    }
}

impl<D: Dataset> fmt::Debug for ExportRequest<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportRequest")
            .field("dataset", &D::NAME)
            .field("limit", &self.limit)
            .field("body", &self.body)
            .field("query", &self.query)
            .field("extra_query", &self.extra_query)
            .finish()
    }
}

/// `{"limit": .., "body": {..}, "query": {..}}` (and `"extra_query"` when
/// set): how checkpoints and run reports record a request (no secrets in it).
impl<D: Dataset> Serialize for ExportRequest<D> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut s = serializer.serialize_struct("ExportRequest", 4)?;
        s.serialize_field("limit", &self.limit)?;
        s.serialize_field("body", &self.body)?;
        s.serialize_field("query", &self.query)?;
        if self.extra_query.is_empty() {
            s.skip_field("extra_query")?;
        } else {
            s.serialize_field("extra_query", &self.extra_query)?;
        }
        s.end()
    }
}

/// The JSON body of one page: `limit`, `starting_after` and the dataset's
/// body fields, borrowed from the [`ExportRequest`].
#[derive(Debug, Serialize)]
pub struct PageBody<'a, B> {
    limit: PageLimit,
    #[serde(skip_serializing_if = "Option::is_none")]
    starting_after: Option<&'a str>,
    #[serde(flatten)]
    body: &'a B,
}

/// A page's request body as the API takes it, owned: the request of
/// dataset `D` and the cursor it continues after. Its `Deserialize` checks
/// everything [`ExportRequest`] checks (the limit against the dataset's
/// range, the cursor's length, every filter).
pub struct PageRequest<D: Dataset> {
    /// The request (its query stays at the default: the body has none).
    pub request: ExportRequest<D>,
    /// The cursor, `starting_after`.
    pub starting_after: Option<String>,
}

impl<D: Dataset> fmt::Debug for PageRequest<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageRequest")
            .field("request", &self.request)
            .field("starting_after", &self.starting_after)
            .finish()
    }
}

impl<D: Dataset> Serialize for PageRequest<D> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.request
            .page_body(self.starting_after.as_deref())
            .serialize(serializer)
    }
}

#[derive(Deserialize)]
struct WireRequest<B> {
    limit: i64,
    #[serde(default)]
    starting_after: Option<String>,
    #[serde(flatten)]
    body: B,
}

impl<'de, D: Dataset> Deserialize<'de> for PageRequest<D> {
    fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        use serde::de::Error as _;
        let wire = WireRequest::<D::Body>::deserialize(deserializer)?;
        if let Some(cursor) = &wire.starting_after {
            check_cursor(cursor).map_err(De::Error::custom)?;
        }
        let request = ExportRequest::<D>::new(wire.limit)
            .map_err(De::Error::custom)?
            .with_body(wire.body);
        Ok(PageRequest {
            request,
            starting_after: wire.starting_after,
        })
    }
}

/// The JSON Schema of dataset `D`'s page request body; for a `GET`
/// export, of its query parameters as an object (a repeated parameter is
/// an array).
pub(crate) fn request_schema<D: Dataset>(generator: &mut SchemaGenerator) -> Schema {
    if D::METHOD == crate::Method::Get {
        let mut schema = D::Query::json_schema(generator);
        schema.ensure_object().insert(
            "description".into(),
            format!(
                "The query parameters of `{} {}`, as an object; a repeated parameter is an array.",
                D::METHOD.as_str(),
                D::PATH
            )
            .into(),
        );
        return schema;
    }
    let mut schema = D::Body::json_schema(generator);
    let object = schema.ensure_object();
    let properties = object
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(properties) = properties {
        let mut all = Map::new();
        all.insert(
            "limit".into(),
            serde_json::json!({
                "description": format!("Page size, 1 to {} inclusive.", D::MAX_LIMIT),
                "type": "integer",
                "minimum": PageLimit::MIN,
                "maximum": D::MAX_LIMIT
            }),
        );
        all.insert("starting_after".into(), cursor_schema());
        all.append(properties);
        *properties = all;
    }
    let required = object
        .entry("required")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(required) = required {
        required.insert(0, Value::from("limit"));
    }
    object.insert(
        "description".into(),
        format!("The body of `{} {}`.", D::METHOD.as_str(), D::PATH).into(),
    );
    schema
}

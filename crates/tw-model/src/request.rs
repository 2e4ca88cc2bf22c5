//! Request types for `POST /export/employees/skill_clusters`.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::enums::{Include, Operator};
use crate::error::RequestError;

/// A page size the API accepts: 1 to 100 inclusive.
///
/// The skill-clusters page renders the range as `1 < x < 100`, an artefact of
/// an older documentation generator; every newer rendering of the same field
/// says `1 <= x <= 100`, which is what this type enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PageLimit(u8);

impl PageLimit {
    /// The smallest page size.
    pub const MIN: u8 = 1;
    /// The largest page size.
    pub const MAX: u8 = 100;

    /// Checks `value` against 1..=100.
    pub fn new(value: i64) -> Result<Self, RequestError> {
        if (i64::from(Self::MIN)..=i64::from(Self::MAX)).contains(&value) {
            Ok(PageLimit(value as u8))
        } else {
            Err(RequestError::LimitOutOfRange { value })
        }
    }

    /// The page size.
    pub fn get(self) -> u32 {
        u32::from(self.0)
    }
}

impl Default for PageLimit {
    /// The largest page, 100: the fewest round trips.
    fn default() -> Self {
        PageLimit(Self::MAX)
    }
}

impl fmt::Display for PageLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for PageLimit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.0)
    }
}

impl<'de> Deserialize<'de> for PageLimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(deserializer)?;
        PageLimit::new(value).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for PageLimit {
    fn schema_name() -> Cow<'static, str> {
        "PageLimit".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Page size, 1 to 100 inclusive.",
            "type": "integer",
            "minimum": PageLimit::MIN,
            "maximum": PageLimit::MAX
        })
    }
}

/// An opaque pagination cursor as the API takes it in `starting_after`:
/// 1 to 100 characters.
///
/// Use the previous page's `next_starting_after`, which the API documents
/// can differ from the last record's external id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor(String);

impl Cursor {
    /// The longest cursor the API accepts, in characters.
    pub const MAX_LEN: usize = 100;

    /// Checks the length of `value` (1 to 100 characters).
    pub fn new(value: impl Into<String>) -> Result<Self, RequestError> {
        let value = value.into();
        let len = value.chars().count();
        if (1..=Self::MAX_LEN).contains(&len) {
            Ok(Cursor(value))
        } else {
            Err(RequestError::CursorLength { len })
        }
    }

    /// The cursor text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The cursor text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Cursor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Cursor::new(value).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Cursor {
    fn schema_name() -> Cow<'static, str> {
        "Cursor".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Opaque pagination cursor: the previous page's `next_starting_after`.",
            "type": "string",
            "minLength": 1,
            "maxLength": Cursor::MAX_LEN
        })
    }
}

/// One entry of a request's `filters` array, tagged by its `"filter"` key.
///
/// Filters this release does not model travel as [`Filter::Other`], the
/// object exactly as given. Parsing never drops a key: an `is_active` or
/// `last_updated` object with extra keys also stays `Other`.
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
        /// The date, `YYYY-MM-DD` in every documented example.
        value: String,
        /// The comparison.
        operator: Operator,
    },
    /// Any other filter object, passed through unchanged. It should carry a
    /// string `"filter"` key; [`Filter::other`] checks that.
    Other(Map<String, Value>),
}

impl Filter {
    /// The `is_active` filter.
    pub fn is_active(is_active: bool) -> Self {
        Filter::IsActive { is_active }
    }

    /// `last_updated` `gt` `date`; `date` must be a calendar date written as
    /// `YYYY-MM-DD`.
    pub fn updated_after(date: &str) -> Result<Self, RequestError> {
        Self::last_updated(date, Operator::Gt)
    }

    /// `last_updated` `lt` `date`; `date` must be a calendar date written as
    /// `YYYY-MM-DD`.
    pub fn updated_before(date: &str) -> Result<Self, RequestError> {
        Self::last_updated(date, Operator::Lt)
    }

    fn last_updated(date: &str, operator: Operator) -> Result<Self, RequestError> {
        check_date(date)?;
        Ok(Filter::LastUpdated {
            value: date.to_owned(),
            operator,
        })
    }

    /// Any other filter, given as a JSON object with a string `"filter"` key.
    pub fn other(value: Value) -> Result<Self, RequestError> {
        match value {
            Value::Object(map) if map.get("filter").is_some_and(Value::is_string) => {
                Ok(Filter::Other(map))
            }
            other => Err(RequestError::InvalidFilter {
                value: other.to_string(),
            }),
        }
    }

    /// The filter as the JSON object the API takes.
    pub fn to_json(&self) -> Map<String, Value> {
        match self {
            Filter::IsActive { is_active } => {
                let mut map = Map::new();
                map.insert("filter".into(), "is_active".into());
                map.insert("is_active".into(), (*is_active).into());
                map
            }
            Filter::LastUpdated { value, operator } => {
                let mut map = Map::new();
                map.insert("filter".into(), "last_updated".into());
                map.insert("value".into(), value.as_str().into());
                map.insert("operator".into(), operator.as_str().into());
                map
            }
            Filter::Other(map) => map.clone(),
        }
    }

    fn from_json(map: Map<String, Value>) -> Result<Self, RequestError> {
        let tag = match map.get("filter") {
            Some(Value::String(tag)) => tag.as_str(),
            _ => {
                return Err(RequestError::InvalidFilter {
                    value: Value::Object(map).to_string(),
                });
            }
        };
        let typed = match (tag, map.len()) {
            ("is_active", 2) => map
                .get("is_active")
                .and_then(Value::as_bool)
                .map(|is_active| Filter::IsActive { is_active }),
            ("last_updated", 3) => match (map.get("value"), map.get("operator")) {
                (Some(Value::String(value)), Some(Value::String(operator))) => {
                    Some(Filter::LastUpdated {
                        value: value.clone(),
                        operator: Operator::from(operator.as_str()),
                    })
                }
                _ => None,
            },
            _ => None,
        };
        Ok(typed.unwrap_or(Filter::Other(map)))
    }
}

impl Serialize for Filter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
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

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
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
                    "description": "Only entities updated after (gt) or before (lt) a date (YYYY-MM-DD).",
                    "type": "object",
                    "required": ["filter", "value", "operator"],
                    "properties": {
                        "filter": { "const": "last_updated" },
                        "value": { "type": "string" },
                        "operator": { "type": "string", "examples": ["gt", "lt"] }
                    }
                },
                {
                    "description": "Any other filter, passed through unchanged.",
                    "type": "object",
                    "required": ["filter"],
                    "properties": { "filter": { "type": "string" } }
                }
            ]
        })
    }
}

/// Checks that `value` is a calendar date written as `YYYY-MM-DD`.
pub(crate) fn check_date(value: &str) -> Result<(), RequestError> {
    let bad = || RequestError::InvalidDate {
        value: value.to_owned(),
    };
    let bytes = value.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>| -> Result<u32, RequestError> {
        let part = &value[range];
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if year == 0 || day == 0 || day > days {
        return Err(bad());
    }
    Ok(())
}

/// The body of `POST /export/employees/skill_clusters`.
///
/// Every field is valid by construction: [`PageLimit`] and [`Cursor`] check
/// their ranges when built, so a request that exists can be sent.
///
/// ```
/// use tw_model::{Filter, Include, SkillClustersRequest};
///
/// let request = SkillClustersRequest::new(100)?
///     .with_filter(Filter::is_active(true))
///     .with_include(Include::ALL);
/// assert_eq!(request.limit.get(), 100);
/// assert!(SkillClustersRequest::new(101).is_err());
/// # Ok::<(), tw_model::RequestError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SkillClustersRequest {
    /// Page size, 1 to 100 inclusive.
    pub limit: PageLimit,
    /// Continue after this cursor; omitted on the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_after: Option<Cursor>,
    /// Filters, all of which must match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// Optional parts of each cluster to return.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<Include>,
}

impl SkillClustersRequest {
    /// A request for pages of `limit` records (1..=100) with no filters and
    /// no includes.
    pub fn new(limit: i64) -> Result<Self, RequestError> {
        Ok(SkillClustersRequest {
            limit: PageLimit::new(limit)?,
            starting_after: None,
            filters: Vec::new(),
            include: Vec::new(),
        })
    }

    /// Continue after `cursor` (1 to 100 characters).
    pub fn with_starting_after(mut self, cursor: &str) -> Result<Self, RequestError> {
        self.starting_after = Some(Cursor::new(cursor)?);
        Ok(self)
    }

    /// Adds a filter.
    pub fn with_filter(mut self, filter: Filter) -> Self {
        self.filters.push(filter);
        self
    }

    /// Adds includes, skipping ones already present.
    pub fn with_include(mut self, include: impl IntoIterator<Item = Include>) -> Self {
        for item in include {
            if !self.include.contains(&item) {
                self.include.push(item);
            }
        }
        self
    }
}

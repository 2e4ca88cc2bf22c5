//! The export page: the envelope every paginated TechWolf export shares.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use std::marker::PhantomData;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

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
        let envelope = deserializer.deserialize_map(EnvelopeVisitor(PhantomData::<Vec<T>>))?;
        Ok(ExportPage {
            has_next: envelope.has_next,
            records: envelope.records,
            next_starting_after: envelope.next_starting_after,
            extra: envelope.extra,
        })
    }
}

/// An envelope whose `records` were read by a seed: a `Vec<T>` for typed
/// pages, the records' byte ranges for raw pages.
pub(crate) struct Envelope<R> {
    pub(crate) has_next: bool,
    pub(crate) records: R,
    pub(crate) next_starting_after: Option<String>,
    pub(crate) extra: Map<String, Value>,
}

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

/// The one envelope visitor. Typed and raw decoding differ only in the
/// seed that reads `records`, so they agree on every envelope by
/// construction: the same required keys, the same types, and a duplicated
/// envelope key is an error for both.
pub(crate) struct EnvelopeVisitor<S>(pub(crate) S);

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for EnvelopeVisitor<S> {
    type Value = Envelope<S::Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an export page object with `has_next` and `records`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut seed = Some(self.0);
        let mut has_next = None;
        let mut records = None;
        let mut next_starting_after = None;
        let mut next_seen = false;
        let mut extra = Map::new();
        while let Some(key) = access.next_key::<Key>()? {
            match key {
                Key::HasNext => {
                    if has_next.is_some() {
                        return Err(de::Error::duplicate_field(HAS_NEXT));
                    }
                    has_next = Some(access.next_value()?);
                }
                Key::Records => {
                    let Some(seed) = seed.take() else {
                        return Err(de::Error::duplicate_field(RECORDS));
                    };
                    records = Some(access.next_value_seed(seed)?);
                }
                Key::Next => {
                    if std::mem::replace(&mut next_seen, true) {
                        return Err(de::Error::duplicate_field(NEXT));
                    }
                    next_starting_after = access.next_value::<Option<String>>()?;
                    if next_starting_after.is_none() {
                        extra.insert(NEXT.to_owned(), Value::Null);
                    }
                }
                Key::Unknown(name) => {
                    let value: Value = access.next_value()?;
                    extra.insert(name, value);
                }
            }
        }
        Ok(Envelope {
            has_next: has_next.ok_or_else(|| de::Error::missing_field(HAS_NEXT))?,
            records: records.ok_or_else(|| de::Error::missing_field(RECORDS))?,
            next_starting_after,
            extra,
        })
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

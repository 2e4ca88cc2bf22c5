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
        PageSeed::<T>::new(Layout::Page).deserialize(deserializer)
    }
}

/// Where a response keeps its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// A cursor page: `has_next`, `records`, `next_starting_after`.
    Page,
    /// A whole document whose records are the array under this key; every
    /// other key is kept in `extra`, and there is no next page.
    Document(&'static str),
}

impl Layout {
    /// The layout of dataset `D`'s responses.
    pub(crate) fn of<D: crate::Dataset>() -> Layout {
        match D::PAGING {
            crate::Paging::Cursor => Layout::Page,
            crate::Paging::Document { records } => Layout::Document(records),
        }
    }
}

/// Reads an [`ExportPage`] in a given layout.
pub(crate) struct PageSeed<T> {
    layout: Layout,
    record: PhantomData<T>,
}

impl<T> PageSeed<T> {
    pub(crate) fn new(layout: Layout) -> Self {
        PageSeed {
            layout,
            record: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for PageSeed<T> {
    type Value = ExportPage<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let envelope = deserializer.deserialize_map(EnvelopeVisitor {
            seed: PhantomData::<Vec<T>>,
            layout: self.layout,
        })?;
        Ok(ExportPage {
            has_next: envelope.has_next,
            records: envelope.records,
            next_starting_after: envelope.next_starting_after,
            extra: envelope.extra,
        })
    }
}

impl<T> ExportPage<T> {
    /// The page as the document of a document export
    /// ([`crate::Paging::Document`]): `records` under `records_key`, then
    /// `extra`. Serializing it gives back the document decoded with
    /// [`crate::decode_page`].
    pub fn as_document(&self, records_key: &'static str) -> AsDocument<'_, T> {
        AsDocument {
            page: self,
            records_key,
        }
    }
}

/// The cursor a cursor page's body names for its next page, read from the
/// body's two ends without walking its records, so that the next request
/// can go out while this page is still being checked.
///
/// It answers only for a page laid out as the documented example and the
/// sandbox lay it out, compact, `has_next` first and `true`, the cursor last
/// and a plain string (`{"has_next":true,` … `,"next_starting_after":"c"}`,
/// whitespace around the whole allowed): `None` for anything else, and the
/// caller waits for the page's own walk. For a body that is valid JSON the
/// answer is the cursor decoding reads (the closing quote and brace end the
/// top-level object's last member, and a plain string holds no quote); for
/// one that is not, decoding fails and the answer is not used. Callers still
/// compare it with the decoded cursor before they use what they fetched.
///
/// ```
/// let body = br#"{"has_next":true,"records":[{"external_id":"e1"}],"next_starting_after":"c1"}"#;
/// assert_eq!(tw_model::peek_next_cursor(body), Some("c1"));
/// // The last page, and a layout this does not read: the walk decides.
/// assert_eq!(tw_model::peek_next_cursor(br#"{"has_next":false,"records":[]}"#), None);
/// assert_eq!(tw_model::peek_next_cursor(br#"{"records":[],"has_next":true,"next_starting_after":"c1"}"#), None);
/// ```
pub fn peek_next_cursor(body: &[u8]) -> Option<&str> {
    const HEAD: &[u8] = b"{\"has_next\":true,";
    const TAIL_KEY: &[u8] = b",\"next_starting_after\":\"";
    let inner = body.trim_ascii().strip_prefix(HEAD)?.strip_suffix(b"\"}")?;
    let open = inner.iter().rposition(|&b| b == b'"')?;
    let cursor = &inner[open + 1..];
    let plain = !cursor.is_empty() && cursor.iter().all(|&b| b >= 0x20 && b != b'\\');
    if !plain || !inner[..=open].ends_with(TAIL_KEY) {
        return None;
    }
    std::str::from_utf8(cursor).ok()
}

/// An [`ExportPage`] serialized as a document; see [`ExportPage::as_document`].
#[derive(Debug)]
pub struct AsDocument<'a, T> {
    page: &'a ExportPage<T>,
    records_key: &'static str,
}

impl<T: Serialize> Serialize for AsDocument<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(self.records_key, &self.page.records)?;
        for (key, value) in &self.page.extra {
            if key != self.records_key {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
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

#[derive(Clone, Copy)]
struct KeyVisitor(Layout);

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(match (self.0, v) {
            (Layout::Page, HAS_NEXT) => Key::HasNext,
            (Layout::Page, RECORDS) => Key::Records,
            (Layout::Page, NEXT) => Key::Next,
            (Layout::Document(records), key) if key == records => Key::Records,
            (_, other) => Key::Unknown(other.to_owned()),
        })
    }
}

impl<'de> DeserializeSeed<'de> for KeyVisitor {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_identifier(self)
    }
}

/// The one envelope visitor. Typed and raw decoding differ only in the
/// seed that reads `records`, so they agree on every envelope by
/// construction: the same required keys, the same types, and a duplicated
/// envelope key is an error for both. A document (see [`Layout`]) is read
/// by the same visitor with its records key.
pub(crate) struct EnvelopeVisitor<S> {
    pub(crate) seed: S,
    pub(crate) layout: Layout,
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for EnvelopeVisitor<S> {
    type Value = Envelope<S::Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.layout {
            Layout::Page => f.write_str("an export page object with `has_next` and `records`"),
            Layout::Document(records) => write!(f, "an export document object with `{records}`"),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let layout = self.layout;
        let records_key = match layout {
            Layout::Page => RECORDS,
            Layout::Document(records) => records,
        };
        let mut seed = Some(self.seed);
        let mut has_next = None;
        let mut records = None;
        let mut next_starting_after = None;
        let mut next_seen = false;
        let mut extra = Map::new();
        while let Some(key) = access.next_key_seed(KeyVisitor(layout))? {
            match key {
                Key::HasNext => {
                    if has_next.is_some() {
                        return Err(de::Error::duplicate_field(HAS_NEXT));
                    }
                    has_next = Some(access.next_value()?);
                }
                Key::Records => {
                    let Some(seed) = seed.take() else {
                        return Err(de::Error::duplicate_field(records_key));
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
        let has_next = match layout {
            Layout::Page => has_next.ok_or_else(|| de::Error::missing_field(HAS_NEXT))?,
            Layout::Document(_) => false,
        };
        Ok(Envelope {
            has_next,
            records: records.ok_or_else(|| de::Error::missing_field(records_key))?,
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

//! Checking that JSON has the model's shape without building the model.
//!
//! An exporter that writes records through unchanged (JSON Lines) still
//! wants every record checked: a required field missing or a value of the
//! wrong type must stop the export, exactly as decoding would. [`Validate`]
//! walks the same fields with the same rules as the types' `Deserialize`
//! impls, but allocates nothing: strings are looked at, not copied, and
//! unknown fields are skipped. It accepts exactly what decoding accepts
//! (a property test holds the two together).

use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::DecodeError;
use crate::page::{EnvelopeVisitor, Layout, PageSeed};

/// A type whose JSON shape can be checked without building a value.
pub trait Validate {
    /// Checks the next value of `deserializer` against `Self`'s shape.
    fn validate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error>;

    /// The one-pass scanner of `Self`'s shape, compiled once (model
    /// records have one; `None` for other types, which raw decoding then
    /// checks through serde alone).
    fn scanner() -> Option<&'static crate::Scanner> {
        None
    }
}

/// A seed that validates `T` (for `next_value_seed` and friends).
pub(crate) struct Check<T>(PhantomData<T>);

impl<T> Check<T> {
    pub(crate) fn new() -> Self {
        Check(PhantomData)
    }
}

impl<'de, T: Validate> DeserializeSeed<'de> for Check<T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        T::validate(deserializer)
    }
}

struct StrVisitor;

impl Visitor<'_> for StrVisitor {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

impl Validate for String {
    fn validate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(StrVisitor)
    }
}

impl Validate for i64 {
    fn validate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
        <i64 as serde::Deserialize>::deserialize(deserializer).map(drop)
    }
}

impl Validate for serde_json::Number {
    fn validate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
        <serde_json::Number as serde::Deserialize>::deserialize(deserializer).map(drop)
    }
}

impl Validate for bool {
    fn validate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
        <bool as serde::Deserialize>::deserialize(deserializer).map(drop)
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
        struct OptionVisitor<T>(PhantomData<T>);

        impl<'de, T: Validate> Visitor<'de> for OptionVisitor<T> {
            type Value = ();

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an optional value")
            }

            fn visit_none<E: de::Error>(self) -> Result<(), E> {
                Ok(())
            }

            fn visit_unit<E: de::Error>(self) -> Result<(), E> {
                Ok(())
            }

            fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
                T::validate(deserializer)
            }
        }

        deserializer.deserialize_option(OptionVisitor::<T>(PhantomData))
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
        struct SeqVisitor<T>(PhantomData<T>);

        impl<'de, T: Validate> Visitor<'de> for SeqVisitor<T> {
            type Value = ();

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                while seq.next_element_seed(Check::<T>::new())?.is_some() {}
                Ok(())
            }
        }

        deserializer.deserialize_seq(SeqVisitor::<T>(PhantomData))
    }
}

/// How deep an unknown field's value may nest, counted from the field.
/// Typed and raw decoding both enforce it with [`Extra`], far below
/// serde_json's own limit of 128 levels from the page, which would
/// otherwise count differently for a record inside a page (typed) and the
/// same record on its own (raw).
pub(crate) const MAX_EXTRA_DEPTH: u32 = 64;

/// Reads an unknown field's value: kept as a `serde_json::Value` for typed
/// records, only checked for raw ones. Both go through `deserialize_any`
/// (so numbers out of `f64`'s range are rejected, as `Value` rejects them)
/// with the same depth limit, so they accept exactly the same values, where
/// `IgnoredAny` would accept 100,000 levels of nesting or `1e999999`.
#[derive(Clone, Copy)]
pub(crate) struct Extra {
    keep: bool,
    depth: u32,
}

impl Extra {
    /// A seed that builds the value.
    pub(crate) fn kept() -> Self {
        Extra {
            keep: true,
            depth: 0,
        }
    }

    fn nested(self) -> Self {
        Extra {
            depth: self.depth + 1,
            ..self
        }
    }
}

impl<'de> DeserializeSeed<'de> for Extra {
    type Value = serde_json::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Extra {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(if self.keep {
            v.into()
        } else {
            serde_json::Value::Null
        })
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(if self.keep {
            v.into()
        } else {
            serde_json::Value::Null
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if self.depth >= MAX_EXTRA_DEPTH {
            return Err(de::Error::custom(format_args!(
                "an unknown field nests deeper than {MAX_EXTRA_DEPTH} levels"
            )));
        }
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.nested())? {
            if self.keep {
                items.push(item);
            }
        }
        Ok(serde_json::Value::Array(items))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if self.depth >= MAX_EXTRA_DEPTH {
            return Err(de::Error::custom(format_args!(
                "an unknown field nests deeper than {MAX_EXTRA_DEPTH} levels"
            )));
        }
        let mut object = serde_json::Map::new();
        if self.keep {
            while let Some(key) = map.next_key::<String>()? {
                let value = map.next_value_seed(self.nested())?;
                object.insert(key, value);
            }
        } else {
            while map.next_key::<IgnoredAny>()?.is_some() {
                map.next_value_seed(self.nested())?;
            }
        }
        Ok(serde_json::Value::Object(object))
    }
}

/// Checks an unknown field's value without keeping it (see [`Extra`]).
pub(crate) fn skip<'de, A: de::MapAccess<'de>>(access: &mut A) -> Result<(), A::Error> {
    access
        .next_value_seed(Extra {
            keep: false,
            depth: 0,
        })
        .map(drop)
}

/// One page of an export with its records left as the server's JSON text,
/// each checked against the record type (see [`decode_raw`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPage {
    /// Whether another page follows.
    pub has_next: bool,
    /// Where each record is in the body: `&body[range]` is exactly the
    /// JSON text the server sent for it (valid UTF-8).
    pub records: Vec<std::ops::Range<usize>>,
    /// The cursor for the next page.
    pub next_starting_after: Option<String>,
    /// Whether some record's text may contain a line break (whitespace
    /// between its tokens: a pretty-printing server). `false` is a promise
    /// that every record fits on one line as sent.
    pub line_breaks: bool,
}

/// The seed that reads a raw page's `records`: each record's text is
/// located in the body and checked against `T`.
struct RawRecords<T> {
    base: usize,
    record: PhantomData<T>,
}

impl<'de, T: Validate> DeserializeSeed<'de> for RawRecords<T> {
    type Value = Vec<std::ops::Range<usize>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        struct SeqVisitor<T> {
            base: usize,
            record: PhantomData<T>,
        }

        impl<'de, T: Validate> Visitor<'de> for SeqVisitor<T> {
            type Value = Vec<std::ops::Range<usize>>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut records = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(record) = seq.next_element::<&'de RawValue>()? {
                    let text = record.get();
                    let mut de = serde_json::Deserializer::from_str(text);
                    if T::validate(&mut de).and_then(|()| de.end()).is_err() {
                        // decode_raw replaces this with the typed decoder's
                        // error, which names the path.
                        return Err(de::Error::custom("a record failed validation"));
                    }
                    // The raw value borrows from the body, so its offset is exact.
                    let start = text.as_ptr() as usize - self.base;
                    records.push(start..start + text.len());
                }
                Ok(records)
            }
        }

        deserializer.deserialize_seq(SeqVisitor::<T> {
            base: self.base,
            record: self.record,
        })
    }
}

/// Decodes a page's envelope and locates each record's JSON text in
/// `body`, after checking the record has `T`'s shape. The envelope is read
/// by the same visitor as [`ExportPage`](crate::ExportPage)'s, so it fails
/// exactly where [`decode`](crate::decode)`::<ExportPage<T>>` fails, with the
/// same path-naming error, and it allocates nothing per record.
pub fn decode_raw<T>(body: &[u8]) -> Result<RawPage, DecodeError>
where
    T: Validate + serde::de::DeserializeOwned,
{
    decode_raw_in::<T>(body, Layout::Page)
}

/// [`decode_raw`] for a response of dataset `D`: a page of a cursor export,
/// or the whole document of a document export (see
/// [`crate::decode_page`]); the ranges are the records' texts either way.
pub fn decode_raw_page<D: crate::Dataset>(body: &[u8]) -> Result<RawPage, DecodeError> {
    decode_raw_in::<D::Record>(body, Layout::of::<D>())
}

/// [`decode_raw_page`], also adding the unknown fields of the page's
/// records to `counts` by JSON path, exactly as
/// [`Scanner::count_unknown`](crate::Scanner::count_unknown) and
/// [`crate::unknown_fields`] count them one record at a time: in the same
/// pass that checks the records, when the scanner decides the page; else
/// from each record after the decoders accepted the page. On an error
/// `counts` is unchanged. What `tw-export all` and `--stats` report as
/// drift, without reading the page twice.
///
/// ```
/// use tw_model::{SkillClusters, UnknownFields, decode_raw_page_counting};
///
/// let body = r#"{"has_next":false,"records":[
///     {"external_id":"e1","team":"b","skill_clusters":[{"weight":2}]},
///     {"external_id":"e2","team":"c"}]}"#;
/// let mut counts = UnknownFields::default();
/// let page = decode_raw_page_counting::<SkillClusters>(body.as_bytes(), &mut counts).unwrap();
/// assert_eq!(page.records.len(), 2);
/// assert_eq!(counts.counts()["team"], 2);
/// assert_eq!(counts.counts()["skill_clusters[].weight"], 1);
/// ```
pub fn decode_raw_page_counting<D: crate::Dataset>(
    body: &[u8],
    counts: &mut crate::UnknownFields,
) -> Result<RawPage, DecodeError> {
    let scanner = <D::Record as Validate>::scanner();
    if let Some(scanner) = scanner
        && let Some(page) =
            crate::scan::scan_page_counting(body, Layout::of::<D>(), scanner, Some(counts))
    {
        return Ok(page);
    }
    let page = decode_raw_serde::<D::Record>(body, Layout::of::<D>())?;
    let shape = <D::Record as crate::Describe>::shape();
    for range in &page.records {
        counts.add_record(scanner, &shape, &body[range.clone()]);
    }
    Ok(page)
}

fn decode_raw_in<T>(body: &[u8], layout: Layout) -> Result<RawPage, DecodeError>
where
    T: Validate + serde::de::DeserializeOwned,
{
    // The one-pass scanner when it is sure, else the serde decoders.
    if let Some(scanner) = T::scanner()
        && let Some(page) = crate::scan::scan_page(body, layout, scanner)
    {
        return Ok(page);
    }
    decode_raw_serde::<T>(body, layout)
}

/// Raw decoding through serde: the envelope visitor with a validating
/// seed, and on failure the typed decoder for the error.
fn decode_raw_serde<T>(body: &[u8], layout: Layout) -> Result<RawPage, DecodeError>
where
    T: Validate + serde::de::DeserializeOwned,
{
    let seed = RawRecords::<T> {
        base: body.as_ptr() as usize,
        record: PhantomData,
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let envelope = de
        .deserialize_map(EnvelopeVisitor { seed, layout })
        .and_then(|envelope| de.end().map(|()| envelope));
    match envelope {
        Ok(envelope) => {
            let line_breaks = envelope.records.iter().any(|r: &std::ops::Range<usize>| {
                body[r.clone()].iter().any(|&b| b == b'\n' || b == b'\r')
            });
            Ok(RawPage {
                has_next: envelope.has_next,
                records: envelope.records,
                next_starting_after: envelope.next_starting_after,
                line_breaks,
            })
        }
        Err(_) => Err(
            match crate::decode::decode_seed(body, || PageSeed::<T>::new(layout)) {
                Err(err) => err,
                // Cannot happen while Validate and Deserialize agree; report the
                // envelope as the culprit rather than pass bad data.
                Ok(_) => DecodeError::new(
                    ".".into(),
                    <serde_json::Error as de::Error>::custom("a record failed validation"),
                ),
            },
        ),
    }
}

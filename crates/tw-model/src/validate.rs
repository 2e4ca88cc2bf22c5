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
use crate::page::EnvelopeVisitor;

/// A type whose JSON shape can be checked without building a value.
pub trait Validate {
    /// Checks the next value of `deserializer` against `Self`'s shape.
    fn validate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error>;
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

/// Skips any value (for unknown fields).
pub(crate) fn skip<'de, A: de::MapAccess<'de>>(access: &mut A) -> Result<(), A::Error> {
    access.next_value::<IgnoredAny>().map(drop)
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
    let seed = RawRecords::<T> {
        base: body.as_ptr() as usize,
        record: PhantomData,
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let envelope = de
        .deserialize_map(EnvelopeVisitor(seed))
        .and_then(|envelope| de.end().map(|()| envelope));
    match envelope {
        Ok(envelope) => Ok(RawPage {
            has_next: envelope.has_next,
            records: envelope.records,
            next_starting_after: envelope.next_starting_after,
        }),
        Err(_) => Err(match crate::decode::<crate::ExportPage<T>>(body) {
            Err(err) => err,
            // Cannot happen while Validate and Deserialize agree; report the
            // envelope as the culprit rather than pass bad data.
            Ok(_) => DecodeError::new(
                ".".into(),
                <serde_json::Error as de::Error>::custom("a record failed validation"),
            ),
        }),
    }
}

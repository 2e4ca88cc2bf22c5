//! Integration tests of tw-model: one module per topic.

mod compat;
mod datasets;
mod errors;
mod props;
mod request;
mod scan;
mod schema;
mod seed;
mod validate;

use serde_json::Value;

/// A fixture from `tests/fixtures/`, as text.
pub fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses `json` as `T`, serializes it back and returns both documents as
/// `Value`s, so tests can compare what went in with what came out.
pub fn round_trip<T>(json: &str) -> (Value, Value)
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let parsed: T = tw_model::decode(json.as_bytes()).expect("decodes");
    let input: Value = serde_json::from_str(json).unwrap();
    let output = serde_json::to_value(&parsed).unwrap();
    (input, output)
}

//! Decoding response bodies with errors that say where.

use serde::de::{DeserializeOwned, DeserializeSeed};

use crate::dataset::Dataset;
use crate::error::DecodeError;
use crate::page::{ExportPage, Layout, PageSeed};

/// Decodes a JSON response body into `T`.
///
/// The fast path is a plain `serde_json` decode. Only when it fails is the
/// body decoded a second time with path tracking, so that the error can name
/// the place (`records[3].skill_clusters[0].proficiency_level`) at no cost to
/// the bodies that decode.
///
/// ```
/// use tw_model::{SkillClustersPage, decode};
///
/// let page: SkillClustersPage = decode(br#"{"has_next": false, "records": []}"#)?;
/// assert!(!page.has_next);
///
/// let err = decode::<SkillClustersPage>(br#"{"has_next": false}"#).unwrap_err();
/// assert!(err.to_string().contains("missing field `records`"));
/// # Ok::<(), tw_model::DecodeError>(())
/// ```
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    decode_seed(body, || std::marker::PhantomData::<T>)
}

/// A response body of dataset `D` decoded: a page of a cursor export, or
/// the whole document of a document export ([`crate::Paging::Document`]),
/// whose records are the array under its records key, whose other keys
/// are kept in `extra`, and which has no next page.
///
/// ```
/// use tw_model::decode_page;
/// use tw_model::org_units::OrgUnits;
///
/// let page = decode_page::<OrgUnits>(br#"{"organisational_structure": [
///     {"external_id": "ou_1", "name": "Legal", "total_nr_of_employees": 4, "children": []}
/// ]}"#)?;
/// assert_eq!(page.records[0].external_id, "ou_1");
/// assert!(!page.has_next);
/// # Ok::<(), tw_model::DecodeError>(())
/// ```
pub fn decode_page<D: Dataset>(body: &[u8]) -> Result<ExportPage<D::Record>, DecodeError> {
    decode_seed(body, || PageSeed::<D::Record>::new(Layout::of::<D>()))
}

/// Decodes `body` with the seed `make` gives (called twice on error).
pub(crate) fn decode_seed<T, S>(body: &[u8], make: impl Fn() -> S) -> Result<T, DecodeError>
where
    S: for<'de> DeserializeSeed<'de, Value = T>,
{
    let mut fast_de = serde_json::Deserializer::from_slice(body);
    let fast = make()
        .deserialize(&mut fast_de)
        .and_then(|value| fast_de.end().map(|()| value));
    match fast {
        Ok(value) => Ok(value),
        Err(fast) => {
            let mut de = serde_json::Deserializer::from_slice(body);
            let mut track = serde_path_to_error::Track::new();
            let result =
                make().deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
            let result = result.map_err(|err| (track.path().to_string(), err));
            match result {
                Err((path, err)) => Err(DecodeError::new(path, err)),
                // The value decoded, so the fast path failed on what follows
                // it (trailing characters): that is an error at the top level.
                Ok(_) => Err(DecodeError::new(".".to_owned(), fast)),
            }
        }
    }
}

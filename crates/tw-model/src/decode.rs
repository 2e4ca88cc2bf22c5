//! Decoding response bodies with errors that say where.

use serde::de::DeserializeOwned;

use crate::error::DecodeError;

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
    match serde_json::from_slice(body) {
        Ok(value) => Ok(value),
        Err(fast) => {
            let mut de = serde_json::Deserializer::from_slice(body);
            let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
            match result {
                Err(err) => {
                    let path = err.path().to_string();
                    Err(DecodeError::new(path, err.into_inner()))
                }
                // The value decoded, so the fast path failed on what follows
                // it (trailing characters): that is an error at the top level.
                Ok(_) => Err(DecodeError::new(".".to_owned(), fast)),
            }
        }
    }
}

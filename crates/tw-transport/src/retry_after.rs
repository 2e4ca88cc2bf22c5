//! `Retry-After`: delay-seconds or an HTTP date.

use std::time::{Duration, SystemTime};

/// Parses a `Retry-After` value relative to `now`: whole seconds, or an
/// HTTP date such as `Sun, 06 Nov 1994 08:49:37 GMT` (the three formats
/// RFC 9110 allows, parsed by `httpdate`). A date in the past means no wait.
pub(crate) fn parse(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn seconds() {
        assert_eq!(parse("120", at(0)), Some(Duration::from_secs(120)));
        assert_eq!(parse(" 0 ", at(0)), Some(Duration::ZERO));
        assert_eq!(parse("-1", at(0)), None);
        assert_eq!(parse("soon", at(0)), None);
    }

    #[test]
    fn http_dates() {
        // RFC 9110's example date.
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        // The other two formats RFC 9110 requires recipients to accept.
        for other in ["Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            assert_eq!(
                parse(other, at(784_111_777 - 5)),
                Some(Duration::from_secs(5)),
                "{other}"
            );
        }
        assert_eq!(
            parse(date, at(784_111_777 - 30)),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse(date, at(784_111_777 + 30)),
            Some(Duration::ZERO),
            "past dates mean now"
        );
        assert_eq!(parse("Sun, 06 Nov 1994 08:49:37 UTC", at(0)), None);
        assert_eq!(parse("Sun, 06 Foo 1994 08:49:37 GMT", at(0)), None);
    }
}

//! Base URLs: built from tenant and region, or given whole, and checked so
//! that no input can send a token somewhere unexpected.

use std::fmt;
use std::net::IpAddr;

use crate::Error;

const LABEL_RULE: &str = "expected a DNS label: 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen";

/// Checks one DNS label (a tenant or region name).
fn check_label(what: &'static str, value: &str) -> Result<(), Error> {
    let ok = (1..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(what, value, LABEL_RULE))
    }
}

/// The URL every API path is joined to, e.g. `https://acme.eu3.techwolf.ai`.
///
/// Only `https://` URLs are accepted, except `http://` to a loopback host
/// (127.0.0.0/8, `::1`, `localhost`) for tests and the sandbox: a bearer token
/// is never sent in clear text over a network.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl {
    url: String,
}

impl BaseUrl {
    /// `https://{tenant}.{region}.techwolf.ai`. Tenant and region must each be
    /// a DNS label, so that no value can point the client at another host.
    ///
    /// ```
    /// use tw_transport::BaseUrl;
    ///
    /// let url = BaseUrl::for_tenant("acme", "eu3")?;
    /// assert_eq!(url.as_str(), "https://acme.eu3.techwolf.ai");
    /// assert!(BaseUrl::for_tenant("evil.com/x", "eu").is_err());
    /// # Ok::<(), tw_transport::Error>(())
    /// ```
    pub fn for_tenant(tenant: &str, region: &str) -> Result<Self, Error> {
        check_label("tenant", tenant)?;
        check_label("region", region)?;
        Ok(BaseUrl {
            url: format!(
                "https://{}.{}.techwolf.ai",
                tenant.to_ascii_lowercase(),
                region.to_ascii_lowercase()
            ),
        })
    }

    /// A whole base URL: `https://host[:port][/prefix]`, or `http://` to a
    /// loopback host. No credentials, query or fragment; a trailing `/` is
    /// dropped.
    pub fn parse(url: &str) -> Result<Self, Error> {
        check_url("base URL", url)?;
        Ok(BaseUrl {
            url: url.trim_end_matches('/').to_owned(),
        })
    }

    /// The URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// Joins a path starting with `/` to the base; absolute URLs are checked
    /// and returned as they are.
    pub fn join(&self, path: &str) -> Result<String, Error> {
        if path.starts_with("https://") || path.starts_with("http://") {
            check_url("request URL", path)?;
            Ok(path.to_owned())
        } else if path.starts_with('/') {
            Ok(format!("{}{path}", self.url))
        } else {
            Err(Error::invalid(
                "request path",
                path,
                "expected a path starting with `/` or an absolute https:// URL",
            ))
        }
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// Checks an absolute URL: https anywhere, http only to loopback, no
/// userinfo, query or fragment, a plausible host.
pub(crate) fn check_url(what: &'static str, url: &str) -> Result<(), Error> {
    let expected = "expected https://host[:port][/path], or http:// to 127.0.0.1, [::1] or localhost \
                    (no user name, query or fragment)";
    let bad = || Error::invalid(what, url, expected);
    let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(bad());
    };
    if url.contains(['?', '#', ' ', '\\']) || url.chars().any(char::is_control) {
        return Err(bad());
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err(bad());
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(bad)?;
        check_port(after).ok_or_else(bad)?;
        host.parse::<std::net::Ipv6Addr>().map_err(|_| bad())?;
        host
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        if let Some(port) = port {
            port.parse::<u16>().map_err(|_| bad())?;
        }
        let host_ok = !host.is_empty()
            && host
                .split('.')
                .all(|label| check_label("host", label).is_ok());
        if !host_ok {
            return Err(bad());
        }
        host
    };
    if !https && !is_loopback(host) {
        return Err(Error::invalid(
            what,
            url,
            "plain http:// is only allowed to a loopback host (127.0.0.1, [::1], localhost), \
             so that tokens never cross a network unencrypted; use https://",
        ));
    }
    Ok(())
}

fn check_port(after_bracket: &str) -> Option<()> {
    match after_bracket.strip_prefix(':') {
        None if after_bracket.is_empty() => Some(()),
        None => None,
        Some(port) => port.parse::<u16>().ok().map(|_| ()),
    }
}

/// Whether an absolute URL's host is a loopback host.
pub(crate) fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    is_loopback(host)
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

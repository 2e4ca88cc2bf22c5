//! The `TECHWOLF_*` environment variables, read as the `tw-export` command
//! reads them. The names and the credential rules are written here once;
//! the command takes its environment from this module.

use crate::{ClientBuilder, Error, Secret};

/// Tenant name.
pub const TENANT: &str = "TECHWOLF_TENANT";
/// Region (`eu`, `us`, or another DNS label).
pub const REGION: &str = "TECHWOLF_REGION";
/// Full API base URL, overriding tenant and region.
pub const BASE_URL: &str = "TECHWOLF_BASE_URL";
/// OAuth2 token endpoint.
pub const TOKEN_URL: &str = "TECHWOLF_TOKEN_URL";
/// OAuth2 audience.
pub const AUDIENCE: &str = "TECHWOLF_AUDIENCE";
/// A static bearer token.
pub const TOKEN: &str = "TECHWOLF_TOKEN";
/// OAuth2 client id (TechWolf's "tenant ID").
pub const CLIENT_ID: &str = "TECHWOLF_CLIENT_ID";
/// OAuth2 client secret.
pub const CLIENT_SECRET: &str = "TECHWOLF_CLIENT_SECRET";

/// A variable's value; unset and blank are the same.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// How to log in, from the environment.
#[derive(Debug)]
pub enum Credentials {
    /// `TECHWOLF_TOKEN`.
    Token(Secret),
    /// `TECHWOLF_CLIENT_ID` with a secret.
    Client {
        /// The client id.
        id: String,
        /// The secret.
        secret: Secret,
    },
}

/// The credentials in the environment: `TECHWOLF_TOKEN`, or
/// `TECHWOLF_CLIENT_ID` with `secret` when given (the command's
/// `--client-secret-file`) or else `TECHWOLF_CLIENT_SECRET`. Both a token
/// and a client id, an id without a secret, an empty secret and no
/// credentials at all are errors that say what to set.
pub fn credentials(secret: Option<String>) -> Result<Credentials, Error> {
    credentials_from(&var, secret)
}

fn credentials_from(
    var: &dyn Fn(&str) -> Option<String>,
    secret: Option<String>,
) -> Result<Credentials, Error> {
    let secret = secret.or_else(|| var(CLIENT_SECRET));
    match (var(TOKEN), var(CLIENT_ID), secret) {
        (Some(_), Some(_), _) => Err(Error::Config(format!(
            "both {TOKEN} and {CLIENT_ID} are set: unset one of them"
        ))),
        (Some(token), None, _) => Ok(Credentials::Token(Secret::new(token))),
        (None, Some(id), Some(secret)) => {
            let secret = Secret::new(secret);
            if secret.is_empty() {
                return Err(Error::Config("the client secret is empty".into()));
            }
            Ok(Credentials::Client { id, secret })
        }
        (None, Some(_), None) => Err(Error::Config(format!(
            "{CLIENT_ID} is set but no secret: set {CLIENT_SECRET} or pass --client-secret-file"
        ))),
        (None, None, _) => Err(Error::Config(format!(
            "no credentials: set {TOKEN}, or {CLIENT_ID} with {CLIENT_SECRET} \
             (or --client-secret-file)"
        ))),
    }
}

impl Credentials {
    /// Puts these credentials on `builder`.
    pub fn apply(self, builder: ClientBuilder) -> ClientBuilder {
        match self {
            Credentials::Token(token) => builder.bearer_token(token),
            Credentials::Client { id, secret } => builder.client_credentials(id, secret),
        }
    }
}

impl ClientBuilder {
    /// Settings from the `TECHWOLF_*` environment, exactly as the command
    /// reads it: `TECHWOLF_BASE_URL`, or `TECHWOLF_TENANT` with
    /// `TECHWOLF_REGION`; `TECHWOLF_TOKEN_URL` and `TECHWOLF_AUDIENCE` when
    /// set; and the credentials (see [`credentials`]). Later builder calls
    /// override any of it.
    ///
    /// ```no_run
    /// let client = tw_export::ClientBuilder::from_env()?.build()?;
    /// # Ok::<(), tw_export::Error>(())
    /// ```
    pub fn from_env() -> Result<ClientBuilder, Error> {
        Self::from_vars(&var)
    }

    /// [`ClientBuilder::from_env`] with the variables `var` gives.
    fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> Result<ClientBuilder, Error> {
        let mut builder = ClientBuilder::default();
        if let Some(url) = var(BASE_URL) {
            builder = builder.base_url(url);
        }
        if let Some(tenant) = var(TENANT) {
            builder = builder.tenant_name(tenant);
        }
        if let Some(region) = var(REGION) {
            builder = builder.region(region);
        }
        if let Some(url) = var(TOKEN_URL) {
            builder = builder.token_url(url);
        }
        if let Some(audience) = var(AUDIENCE) {
            builder = builder.audience(audience);
        }
        Ok(credentials_from(var, None)?.apply(builder))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).filter(|v| !v.trim().is_empty()).cloned()
    }

    #[test]
    fn the_environment_configures_a_client_as_the_command_does() {
        let builder = ClientBuilder::from_vars(&vars(&[
            (TENANT, "acme"),
            (REGION, "eu"),
            (CLIENT_ID, "id"),
            (CLIENT_SECRET, "s3cr3t"),
        ]))
        .unwrap();
        let client = builder.build().unwrap();
        assert_eq!(client.base_url(), "https://acme.eu.techwolf.ai");
        assert!(!format!("{client:?}").contains("s3cr3t"));

        let client =
            ClientBuilder::from_vars(&vars(&[(BASE_URL, "http://127.0.0.1:9"), (TOKEN, "t")]))
                .unwrap()
                .build()
                .unwrap();
        assert_eq!(client.base_url(), "http://127.0.0.1:9");
    }

    #[test]
    fn missing_or_contradictory_credentials_say_what_to_set() {
        let message = |pairs: &[(&str, &str)]| {
            ClientBuilder::from_vars(&vars(pairs))
                .unwrap_err()
                .to_string()
        };
        assert!(message(&[]).starts_with("no credentials: set TECHWOLF_TOKEN"));
        assert!(message(&[(TOKEN, "t"), (CLIENT_ID, "i")]).contains("unset one of them"));
        assert!(message(&[(CLIENT_ID, "i")]).contains("set TECHWOLF_CLIENT_SECRET"));
        assert!(message(&[(CLIENT_ID, "i"), (CLIENT_SECRET, "  ")]).contains("no secret"));
    }
}

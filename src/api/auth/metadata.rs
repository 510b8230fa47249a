//! Temporary credentials from ECS instance metadata, for a CI runner on a Huawei Cloud VM with
//! an agency: a session token (`PUT /meta-data/latest/api/token`), then
//! `GET /openstack/latest/securitykey`.

use super::credentials::Names;
use super::Credentials;
use crate::api::Env;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::sync::Arc;
use url::Url;
use zeroize::Zeroizing;

/// The metadata service's base URL, or `off` to skip that source.
pub const ENV_METADATA_ENDPOINT: &str = "DCS_WAIT_METADATA_ENDPOINT";
/// Where ECS instance metadata answers.
pub const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
const TOKEN_PATH: &str = "meta-data/latest/api/token";
const SECURITY_KEY_PATH: &str = "openstack/latest/securitykey";
const TOKEN_TTL_SECONDS: &str = "21600";

/// Credentials that stop working at `expires_at`.
#[derive(Debug, Clone)]
pub struct Expiring {
    /// The credentials.
    pub credentials: Arc<Credentials>,
    /// When they stop working.
    pub expires_at: jiff::Timestamp,
}

/// Why metadata gave no credentials. Messages never hold a body: it would hold a secret.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// No answer at all.
    #[error("instance metadata at {endpoint} did not answer: {source}")]
    Unreachable {
        /// The service asked.
        endpoint: String,
        /// What the HTTP client said (without the URL).
        source: Arc<reqwest::Error>,
    },
    /// An answer other than the credentials: the request named, and the HTTP status.
    #[error("instance metadata refused the {0} request with HTTP {1}")]
    Refused(&'static str, u16),
    /// A security key that is not one; what is wrong with it.
    #[error("instance metadata sent a security key that is not valid ({0})")]
    Malformed(&'static str),
    /// An answer past the cap: which one.
    #[error("instance metadata sent a {0} larger than {max} bytes", max = crate::api::http::MAX_BODY_BYTES)]
    TooLarge(&'static str),
}

#[derive(Deserialize)]
struct SecurityKey {
    credential: Credential,
}

/// The secret parts go straight into [`SecretString`]s: no plain copy to leak or to leave
/// in memory.
#[derive(Deserialize)]
struct Credential {
    access: String,
    secret: SecretString,
    securitytoken: Option<SecretString>,
    expires_at: String,
}

/// The metadata service of this machine (or of a test).
#[derive(Debug, Clone)]
pub struct Metadata {
    http: reqwest::Client,
    base: Url,
}

impl Metadata {
    /// The endpoint from `DCS_WAIT_METADATA_ENDPOINT` (default `http://169.254.169.254`);
    /// `off` turns the source off. An endpoint that is not a URL turns it off too, with a
    /// warning: credentials may still come from elsewhere.
    pub fn endpoint_from_env(env: &Env) -> Option<Url> {
        let text = env
            .get(ENV_METADATA_ENDPOINT)
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        if text.eq_ignore_ascii_case("off") {
            return None;
        }
        match Url::parse(&text) {
            Ok(base) => Some(base),
            Err(e) => {
                tracing::warn!("{ENV_METADATA_ENDPOINT}={text:?} is not a URL ({e}); instance metadata is not asked");
                None
            }
        }
    }

    /// The service at `base`, asked through `http` (no proxy, short timeouts: instance
    /// metadata answers on the local link or not at all).
    pub fn new(base: Url, http: reqwest::Client) -> Metadata {
        Metadata { http, base }
    }

    /// Where the service is asked.
    pub fn endpoint(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(path.split('/'));
        }
        url
    }

    fn unreachable(&self, e: reqwest::Error) -> MetadataError {
        MetadataError::Unreachable {
            endpoint: self.base.to_string(),
            source: Arc::new(e.without_url()),
        }
    }

    async fn body(
        &self,
        response: &mut reqwest::Response,
        what: &'static str,
    ) -> Result<Vec<u8>, MetadataError> {
        crate::api::http::read_body(response)
            .await
            .map_err(|e| match e {
                crate::api::http::BodyError::Transport(e) => self.unreachable(e),
                crate::api::http::BodyError::TooLarge => MetadataError::TooLarge(what),
            })
    }

    /// A session token, or none where the service does not use them (404, 405, 503).
    async fn session_token(&self) -> Result<Option<Zeroizing<String>>, MetadataError> {
        let mut response = self
            .http
            .put(self.url(TOKEN_PATH))
            .header("X-Metadata-Token-Ttl-Seconds", TOKEN_TTL_SECONDS)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        match response.status().as_u16() {
            200 => {
                let token = Zeroizing::new(self.body(&mut response, "session token").await?);
                let token = Zeroizing::new(String::from_utf8_lossy(&token).trim().to_string());
                Ok(Some(token).filter(|t| !t.is_empty()))
            }
            404 | 405 | 503 => Ok(None),
            status => Err(MetadataError::Refused("session token", status)),
        }
    }

    /// Fresh credentials.
    pub async fn fetch(&self) -> Result<Expiring, MetadataError> {
        let token = self.session_token().await?;
        let mut request = self.http.get(self.url(SECURITY_KEY_PATH));
        if let Some(token) = token {
            if let Ok(mut value) = http::HeaderValue::from_str(&token) {
                value.set_sensitive(true);
                request = request.header("X-Metadata-Token", value);
            }
        }
        let mut response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(MetadataError::Refused("security key", status));
        }
        let body = Zeroizing::new(self.body(&mut response, "security key").await?);
        parse_security_key(&body)
    }
}

fn trimmed(secret: &SecretString) -> SecretString {
    SecretString::from(secret.expose_secret().trim())
}

/// Reads a `securitykey` body. serde's own messages are not kept: they can quote a value.
pub fn parse_security_key(body: &[u8]) -> Result<Expiring, MetadataError> {
    let key: SecurityKey = serde_json::from_slice(body)
        .map_err(|_| MetadataError::Malformed("not the expected JSON"))?;
    let c = key.credential;
    if c.access.trim().is_empty() || c.secret.expose_secret().trim().is_empty() {
        return Err(MetadataError::Malformed("empty access or secret"));
    }
    let expires_at: jiff::Timestamp = c
        .expires_at
        .trim()
        .parse()
        .map_err(|_| MetadataError::Malformed("expires_at is not an RFC 3339 time"))?;
    let credentials = Credentials::AkSk {
        access_key: c.access.trim().to_string(),
        secret_key: trimmed(&c.secret),
        security_token: c
            .securitytoken
            .as_ref()
            .filter(|t| !t.expose_secret().trim().is_empty())
            .map(trimmed),
    };
    // Sent, such a key's header would be dropped: no request without authentication.
    let names = Names::keys("access", "secret", "securitytoken", "", "");
    credentials.check_sendable(&names).map_err(|_| {
        MetadataError::Malformed("a credential holds a character a header cannot carry")
    })?;
    Ok(Expiring {
        credentials: Arc::new(credentials),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_no_header_can_carry_is_refused() {
        let err = parse_security_key(
            br#"{"credential": {"access": "TMP\u0000AK", "secret": "s",
                 "expires_at": "2026-11-28T12:00:00.000000Z"}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("cannot carry"), "{err}");
    }

    #[test]
    fn parses_a_security_key() {
        let key = parse_security_key(
            br#"{"credential": {"access": "TMPAK", "secret": " TMPSK-very-secret ",
                 "securitytoken": "STS-very-secret", "expires_at": "2026-11-28T12:00:00.000000Z"}}"#,
        )
        .unwrap();
        assert_eq!(key.expires_at, "2026-11-28T12:00:00Z".parse().unwrap());
        match &*key.credentials {
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token: Some(token),
            } => {
                assert_eq!(access_key, "TMPAK");
                assert_eq!(secret_key.expose_secret(), "TMPSK-very-secret");
                assert_eq!(token.expose_secret(), "STS-very-secret");
            }
            other => panic!("{other:?}"),
        }
        for shown in [format!("{key:?}"), key.credentials.to_string()] {
            assert!(!shown.contains("very-secret"), "{shown}");
        }
    }

    #[test]
    fn a_bad_security_key_never_quotes_its_body() {
        for body in [
            &br#"{"credential": {"access": "A", "secret": 12345, "expires_at": "x"}}"#[..],
            br#"{"credential": {"access": "A", "secret": "SECRETVALUE", "expires_at": "SECRETVALUE"}}"#,
            br#"{"credential": {"access": "", "secret": "SECRETVALUE", "expires_at": "2026-01-01T00:00:00Z"}}"#,
            b"SECRETVALUE",
        ] {
            let err = parse_security_key(body).unwrap_err();
            assert!(!err.to_string().contains("SECRETVALUE") && !err.to_string().contains("12345"));
        }
    }

    #[test]
    fn endpoint_from_env_or_off() {
        let base = Metadata::endpoint_from_env(&Env::from_pairs::<&str, &str>([])).unwrap();
        assert_eq!(base.as_str(), "http://169.254.169.254/");
        let m = Metadata::new(base, crate::api::http::metadata_client().unwrap());
        assert_eq!(
            m.url(SECURITY_KEY_PATH).as_str(),
            "http://169.254.169.254/openstack/latest/securitykey"
        );
        let off = Env::from_pairs([(ENV_METADATA_ENDPOINT, "off")]);
        assert!(Metadata::endpoint_from_env(&off).is_none());
        let local = Env::from_pairs([(ENV_METADATA_ENDPOINT, "http://127.0.0.1:9")]);
        let base = Metadata::endpoint_from_env(&local).unwrap();
        let m = Metadata::new(base, crate::api::http::metadata_client().unwrap());
        assert_eq!(
            m.url(TOKEN_PATH).as_str(),
            "http://127.0.0.1:9/meta-data/latest/api/token"
        );
    }
}

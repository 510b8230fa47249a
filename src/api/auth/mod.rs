//! Authentication: the credentials ([`credentials`]) and their sources ([`profile`],
//! [`metadata`], chained and kept fresh by [`provider`]); how a request is signed ([`signer`]);
//! and [`headers`], which puts the two together for one request.

pub mod credentials;
pub mod metadata;
pub mod profile;
pub mod provider;
pub mod signer;

pub use credentials::{Credentials, CredentialsError};
pub use provider::{Provider, Source};

use http::{HeaderName, HeaderValue};
use secrecy::ExposeSecret;
use url::Url;
use zeroize::Zeroize;

/// The `Host` header a URL produces: the port only when it is not the scheme's default.
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// The headers that authenticate one body-less request to `url`.
///
/// `Host` is returned too, so that the value signed is the value sent. Values that carry a
/// secret or a signature are marked sensitive, which keeps them out of the HTTP stack's own
/// debug output.
pub fn headers(
    credentials: &Credentials,
    method: &str,
    url: &Url,
    project_id: Option<&str>,
    body: &[u8],
    now: jiff::Timestamp,
) -> Vec<(HeaderName, HeaderValue)> {
    let mut plain: Vec<(String, String)> = vec![("host".into(), host_header(url))];
    if let Some(project_id) = project_id {
        plain.push(("x-project-id".into(), project_id.to_string()));
    }
    let mut sensitive: Vec<(String, String)> = Vec::new();
    match credentials {
        Credentials::Token(token) => {
            sensitive.push(("x-auth-token".into(), token.expose_secret().to_string()));
        }
        Credentials::AkSk {
            access_key,
            secret_key,
            security_token,
        } => {
            let date = signer::sdk_date(now);
            plain.push((signer::DATE_HEADER.into(), date.clone()));
            let token = security_token.as_ref().map(|t| {
                (
                    "x-security-token".to_string(),
                    t.expose_secret().to_string(),
                )
            });
            let mut signed = plain.clone();
            signed.extend(token.clone());
            let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            let signature = signer::sign(
                &signer::Request {
                    method,
                    path: url.path(),
                    query: &query,
                    headers: &signed,
                    body,
                },
                secret_key.expose_secret(),
                &date,
            );
            // Our copy of the token in what was signed is zeroed here, the others below.
            signed.iter_mut().for_each(|(_, value)| value.zeroize());
            sensitive.extend(token);
            sensitive.push(("authorization".into(), signature.authorization(access_key)));
        }
    }
    let mark = |sensitive: bool| {
        move |(name, value): &(String, String)| {
            // Names are our own literals; values come from a URL, a validated project id and
            // credentials. A value that is not a legal header is dropped; the server's 401
            // then says what is wrong, which beats a panic.
            let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
            let mut value = HeaderValue::from_str(value).ok()?;
            value.set_sensitive(sensitive);
            Some((name, value))
        }
    };
    let headers = plain
        .iter()
        .filter_map(mark(false))
        .chain(sensitive.iter().filter_map(mark(true)))
        .collect();
    // The header values now belong to the HTTP stack; our copies of the secrets go.
    sensitive.iter_mut().for_each(|(_, value)| value.zeroize());
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn host_keeps_a_non_default_port_only() {
        assert_eq!(
            host_header(&Url::parse("https://dcs.x.com/v2").unwrap()),
            "dcs.x.com"
        );
        assert_eq!(
            host_header(&Url::parse("https://dcs.x.com:443/v2").unwrap()),
            "dcs.x.com"
        );
        assert_eq!(
            host_header(&Url::parse("http://127.0.0.1:8443/v2").unwrap()),
            "127.0.0.1:8443"
        );
        assert_eq!(
            host_header(&Url::parse("http://[::1]:9/").unwrap()),
            "[::1]:9"
        );
    }

    #[test]
    fn signed_headers_match_the_sdk_vector_for_temporary_credentials() {
        // The "temporary credentials" vector without its User-Agent header.
        let creds = Credentials::AkSk {
            access_key: "AKEXAMPLE".into(),
            secret_key: SecretString::from("SKEXAMPLE"),
            security_token: Some(SecretString::from("TOKENEXAMPLE")),
        };
        let url = Url::parse(
            "https://dcs.cn-north-4.myhuaweicloud.com/v2/0123456789abcdef0123456789abcdef/jobs/ff8080818822bbf70188235afc24141a",
        )
        .unwrap();
        let now: jiff::Timestamp = "2023-05-16T12:00:00Z".parse().unwrap();
        let headers = headers(
            &creds,
            "GET",
            &url,
            Some("0123456789abcdef0123456789abcdef"),
            b"",
            now,
        );
        let get = |n: &str| {
            headers
                .iter()
                .find(|(name, _)| name == n)
                .map(|(_, v)| (v.to_str().unwrap().to_string(), v.is_sensitive()))
        };
        assert_eq!(get("x-sdk-date"), Some(("20230516T120000Z".into(), false)));
        assert_eq!(get("x-security-token"), Some(("TOKENEXAMPLE".into(), true)));
        let (authorization, sensitive) = get("authorization").unwrap();
        assert!(sensitive);
        assert!(authorization.starts_with(
            "SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=host;x-project-id;x-sdk-date;x-security-token, Signature="
        ));
    }

    #[test]
    fn token_auth_sends_the_token_and_no_signature() {
        let creds = Credentials::Token(SecretString::from("IAMTOKEN"));
        let url = Url::parse("http://127.0.0.1:1/v2/p/jobs/j").unwrap();
        let headers = headers(
            &creds,
            "GET",
            &url,
            Some("p"),
            b"",
            jiff::Timestamp::UNIX_EPOCH,
        );
        let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["host", "x-project-id", "x-auth-token"]);
        assert!(headers[2].1.is_sensitive());
    }
}

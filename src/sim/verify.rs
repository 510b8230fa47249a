//! How `dcs-sim` checks a request's credentials, the way API Gateway does: an `X-Auth-Token`,
//! or an SDK-HMAC-SHA256 signature recomputed over exactly the headers it names.

use crate::api::auth::signer;
use http::request::Parts;

/// What the endpoint knows of an access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found {
        secret_key: String,
        /// When set, the request must carry this `X-Security-Token`, signed.
        security_token: Option<String>,
    },
    /// Issued once (by instance metadata), no longer valid.
    Expired,
    Unknown,
}

/// API Gateway refuses a signing date further than this from its clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// Why a request was refused (answered 401 with an APIGW-style body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: &'static str,
    pub message: String,
}

fn reject(code: &'static str, message: impl Into<String>) -> Rejection {
    Rejection {
        code,
        message: message.into(),
    }
}

/// Accepts the request or says why not. `auth_token` is the IAM token accepted, if any;
/// `lookup` tells what an access key is.
pub fn check(
    auth_token: Option<&str>,
    lookup: impl Fn(&str) -> Lookup,
    request: &Parts,
    body: &[u8],
    now: jiff::Timestamp,
) -> Result<(), Rejection> {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    if let Some(token) = header("x-auth-token") {
        return match auth_token {
            Some(expected) if expected == token => Ok(()),
            _ => Err(reject(
                "APIGW.0301",
                "Incorrect IAM authentication information: the token is not valid.",
            )),
        };
    }
    let authorization = header("authorization").ok_or_else(|| {
        reject(
            "APIGW.0301",
            "Incorrect IAM authentication information: Authorization header is missing.",
        )
    })?;
    let (access, signed_headers, signature) =
        parse_authorization(&authorization).ok_or_else(|| {
            reject(
                "APIGW.0301",
                "Incorrect IAM authentication information: Authorization is malformed.",
            )
        })?;
    let (secret_key, security_token) =
        match lookup(&access) {
            Lookup::Found {
                secret_key,
                security_token,
            } => (secret_key, security_token),
            Lookup::Expired => return Err(reject(
                "APIGW.0301",
                "Incorrect IAM authentication information: the temporary credentials have expired.",
            )),
            Lookup::Unknown => {
                return Err(reject(
                    "APIGW.0301",
                    "Incorrect IAM authentication information: ak not found.",
                ))
            }
        };
    let names: Vec<&str> = signed_headers.split(';').collect();
    for required in ["host", signer::DATE_HEADER] {
        if !names.contains(&required) {
            return Err(reject(
                "APIGW.0301",
                format!("Incorrect IAM authentication information: {required} is not signed."),
            ));
        }
    }
    let date = header(signer::DATE_HEADER).unwrap_or_default();
    let signed_at = signer::parse_sdk_date(&date).ok_or_else(|| {
        reject(
            "APIGW.0301",
            "Incorrect IAM authentication information: X-Sdk-Date is malformed.",
        )
    })?;
    if (now.as_second() - signed_at.as_second()).abs() > MAX_CLOCK_SKEW_SECS {
        return Err(reject(
            "APIGW.0301",
            "Incorrect IAM authentication information: the request has expired (X-Sdk-Date too far from the server time).",
        ));
    }
    if let Some(expected) = &security_token {
        if header("x-security-token").as_ref() != Some(expected)
            || !names.contains(&"x-security-token")
        {
            return Err(reject(
                "APIGW.0301",
                "Incorrect IAM authentication information: the security token is missing or not valid.",
            ));
        }
    }
    let mut headers = Vec::with_capacity(names.len());
    for name in &names {
        let value = header(name).ok_or_else(|| {
            reject(
                "APIGW.0301",
                format!(
                    "Incorrect IAM authentication information: signed header {name} is missing."
                ),
            )
        })?;
        headers.push((name.to_string(), value));
    }
    let query: Vec<(String, String)> = request
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let expected = signer::sign_headers(
        &signer::Request {
            method: request.method.as_str(),
            path: request.uri.path(),
            query: &query,
            headers: &headers,
            body,
        },
        &headers,
        &secret_key,
        &date,
    );
    if signer::verify(&secret_key, &expected.string_to_sign, &signature) {
        Ok(())
    } else {
        Err(reject(
            "APIGW.0301",
            "Incorrect IAM authentication information: verify aksk signature fail.",
        ))
    }
}

/// `SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…` → its three parts.
fn parse_authorization(value: &str) -> Option<(String, String, String)> {
    let rest = value.strip_prefix(signer::ALGORITHM)?.trim_start();
    let (mut access, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, val) = part.trim().split_once('=')?;
        match key {
            "Access" => access = Some(val.to_string()),
            "SignedHeaders" => signed = Some(val.to_string()),
            "Signature" => signature = Some(val.to_string()),
            _ => return None,
        }
    }
    Some((access?, signed?, signature?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::auth::{self, Credentials};
    use crate::sim::SimAuth;
    use secrecy::SecretString;

    fn check(auth: &SimAuth, request: &Parts, now: jiff::Timestamp) -> Result<(), Rejection> {
        super::check(
            auth.auth_token.as_deref(),
            |ak| auth.lookup(ak),
            request,
            b"",
            now,
        )
    }

    fn request(creds: &Credentials, at: jiff::Timestamp) -> Parts {
        let url = url::Url::parse("http://127.0.0.1:9/v2/p/jobs/j").unwrap();
        let mut builder = http::Request::get(url.as_str());
        for (name, value) in auth::headers(creds, "GET", &url, Some("p"), b"", at) {
            builder = builder.header(name, value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    fn aksk(sk: &str, token: Option<&str>) -> Credentials {
        Credentials::AkSk {
            access_key: SimAuth::default().access_key,
            secret_key: SecretString::from(sk),
            security_token: token.map(SecretString::from),
        }
    }

    #[test]
    fn accepts_our_own_signature_and_refuses_a_wrong_secret() {
        let auth = SimAuth::default();
        let now = jiff::Timestamp::now();
        assert_eq!(
            check(&auth, &request(&aksk(&auth.secret_key, None), now), now),
            Ok(())
        );
        let refused = check(&auth, &request(&aksk("wrong", None), now), now).unwrap_err();
        assert!(refused.message.contains("signature"), "{refused:?}");
    }

    #[test]
    fn a_body_is_signed_and_checked() {
        let auth = SimAuth::default();
        let now = jiff::Timestamp::now();
        let url = url::Url::parse("http://127.0.0.1:9/v2/p/instances/i/backups").unwrap();
        let body = br#"{"remark":"before the change"}"#;
        let creds = aksk(&auth.secret_key, None);
        let mut builder = http::Request::post(url.as_str());
        for (name, value) in auth::headers(&creds, "POST", &url, Some("p"), body, now) {
            builder = builder.header(name, value);
        }
        let parts = builder.body(()).unwrap().into_parts().0;
        let checked = |body: &[u8]| super::check(None, |ak| auth.lookup(ak), &parts, body, now);
        assert_eq!(checked(body), Ok(()));
        assert!(checked(br#"{"remark":"after the change"}"#).is_err());
        assert!(checked(b"").is_err());
    }

    #[test]
    fn refuses_a_tampered_request() {
        let auth = SimAuth::default();
        let now = jiff::Timestamp::now();
        let mut parts = request(&aksk(&auth.secret_key, None), now);
        parts.uri = "http://127.0.0.1:9/v2/p/jobs/other".parse().unwrap();
        assert!(check(&auth, &parts, now).is_err());
    }

    #[test]
    fn refuses_an_old_date() {
        let auth = SimAuth::default();
        let now = jiff::Timestamp::now();
        let then = now - jiff::SignedDuration::from_mins(16);
        let refused = check(&auth, &request(&aksk(&auth.secret_key, None), then), now).unwrap_err();
        assert!(refused.message.contains("expired"));
    }

    #[test]
    fn security_token_required_when_configured() {
        let auth = SimAuth {
            security_token: Some("STS".into()),
            ..SimAuth::default()
        };
        let now = jiff::Timestamp::now();
        assert!(check(&auth, &request(&aksk(&auth.secret_key, None), now), now).is_err());
        assert!(check(
            &auth,
            &request(&aksk(&auth.secret_key, Some("bad")), now),
            now
        )
        .is_err());
        assert_eq!(
            check(
                &auth,
                &request(&aksk(&auth.secret_key, Some("STS")), now),
                now
            ),
            Ok(())
        );
    }

    #[test]
    fn tokens() {
        let auth = SimAuth::default();
        let now = jiff::Timestamp::now();
        let good = Credentials::Token(SecretString::from(auth.auth_token.clone().unwrap()));
        assert_eq!(check(&auth, &request(&good, now), now), Ok(()));
        let bad = Credentials::Token(SecretString::from("nope"));
        assert!(check(&auth, &request(&bad, now), now).is_err());
    }
}

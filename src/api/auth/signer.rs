//! SDK-HMAC-SHA256, the AK/SK request signature of Huawei Cloud's API Gateway.
//!
//! Written by hand rather than taken from a crate because it is the one piece every request
//! depends on and no maintained Rust crate implements it; `tests/signer_vectors.rs` holds it
//! to signatures computed by Huawei's official SDK. The same code signs requests in the
//! client and verifies them in `dcs-sim`, so a mistake cannot hide behind a matching mistake
//! on the other side: the vectors pin both.

use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

/// The algorithm's name, as it starts the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// The header that carries the signing time, `YYYYMMDDTHHMMSSZ` in UTC.
pub const DATE_HEADER: &str = "x-sdk-date";

/// RFC 3986 unreserved characters stay as they are; everything else is `%XX`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// What the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `PUT`, …
    pub method: &'a str,
    /// The path as sent (percent-encoded or not: segments are decoded, then encoded again,
    /// as the official SDK does).
    pub path: &'a str,
    /// Decoded query pairs.
    pub query: &'a [(String, String)],
    /// Headers to sign, `host` and `x-sdk-date` among them; any case.
    pub headers: &'a [(String, String)],
    /// The body (empty for a GET), hashed into the signature.
    pub body: &'a [u8],
}

/// The signature and the intermediate strings, kept so that tests can compare each step.
///
/// The canonical request holds every signed header's value, a security token among them:
/// it is zeroed on drop and left out of `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature {
    /// Method, path, query, headers, signed header names and the body's hash, one a line.
    pub canonical_request: String,
    /// The algorithm, the date and the canonical request's hash.
    pub string_to_sign: String,
    /// The signed header names, lower case, `;`-separated.
    pub signed_headers: String,
    /// Hex HMAC-SHA256 of the string to sign.
    pub signature: String,
}

impl Drop for Signature {
    fn drop(&mut self) {
        self.canonical_request.zeroize();
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signature")
            .field("canonical_request", &"[REDACTED]")
            .field("string_to_sign", &self.string_to_sign)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &self.signature)
            .finish()
    }
}

impl Signature {
    /// The value of the `Authorization` header.
    pub fn authorization(&self, access_key: &str) -> String {
        format!(
            "{ALGORITHM} Access={access_key}, SignedHeaders={}, Signature={}",
            self.signed_headers, self.signature
        )
    }
}

/// Signs every header whose name has no `_`, as the official SDK does.
pub fn sign(req: &Request<'_>, secret_key: &str, sdk_date: &str) -> Signature {
    let mut signed: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(name, _)| !name.contains('_'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
        .collect();
    let signature = sign_headers(req, &signed, secret_key, sdk_date);
    signed.iter_mut().for_each(|(_, value)| value.zeroize());
    signature
}

/// Signs exactly the headers given, which the verifier takes from `SignedHeaders`.
pub fn sign_headers(
    req: &Request<'_>,
    headers: &[(String, String)],
    secret_key: &str,
    sdk_date: &str,
) -> Signature {
    let mut headers: Vec<(String, &str)> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim()))
        .collect();
    headers.sort();
    let signed_headers = headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let mut canonical_request = format!(
        "{}\n{}\n{}\n",
        req.method.to_ascii_uppercase(),
        canonical_uri(req.path),
        canonical_query(req.query)
    );
    for (name, value) in &headers {
        canonical_request.push_str(name);
        canonical_request.push(':');
        canonical_request.push_str(value);
        canonical_request.push('\n');
    }
    canonical_request.push('\n');
    canonical_request.push_str(&signed_headers);
    canonical_request.push('\n');
    canonical_request.push_str(&hex::encode(Sha256::digest(req.body)));

    let string_to_sign = format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let signature = hex::encode(hmac(secret_key, &string_to_sign).finalize().into_bytes());
    Signature {
        canonical_request,
        string_to_sign,
        signed_headers,
        signature,
    }
}

/// Checks a hex signature in constant time.
#[cfg(any(test, feature = "sim"))]
pub fn verify(secret_key: &str, string_to_sign: &str, hex_signature: &str) -> bool {
    match hex::decode(hex_signature) {
        Ok(given) => hmac(secret_key, string_to_sign)
            .verify_slice(&given)
            .is_ok(),
        Err(_) => false,
    }
}

fn hmac(secret_key: &str, message: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret_key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(message.as_bytes());
    mac
}

/// Each segment encoded, and always a trailing `/` (the URL actually sent has none).
fn canonical_uri(path: &str) -> String {
    let mut uri = path
        .split('/')
        .map(|segment| encode(&percent_decode_str(segment).decode_utf8_lossy()))
        .collect::<Vec<_>>()
        .join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> =
        query.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// `X-Sdk-Date` for a moment.
pub fn sdk_date(at: jiff::Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// Reads an `X-Sdk-Date` back (the verifier checks it against its clock).
#[cfg(any(test, feature = "sim"))]
pub fn parse_sdk_date(text: &str) -> Option<jiff::Timestamp> {
    let civil = jiff::fmt::strtime::parse("%Y%m%dT%H%M%SZ", text)
        .ok()?
        .to_datetime()
        .ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_segments_are_encoded_and_end_with_a_slash() {
        assert_eq!(canonical_uri("/v2/p/jobs/j"), "/v2/p/jobs/j/");
        assert_eq!(canonical_uri("/a%20b/c d/"), "/a%20b/c%20d/");
        assert_eq!(canonical_uri("/"), "/");
    }

    #[test]
    fn sdk_date_round_trips() {
        let at: jiff::Timestamp = "2023-05-16T12:00:00Z".parse().unwrap();
        assert_eq!(sdk_date(at), "20230516T120000Z");
        assert_eq!(parse_sdk_date("20230516T120000Z"), Some(at));
        assert_eq!(parse_sdk_date("2023-05-16"), None);
    }

    #[test]
    fn verify_accepts_the_signature_and_refuses_others() {
        let sig = hex::encode(hmac("sk", "text").finalize().into_bytes());
        assert!(verify("sk", "text", &sig));
        assert!(!verify("other", "text", &sig));
        assert!(!verify("sk", "text", "not hex"));
    }

    #[derive(serde::Deserialize)]
    struct Vectors {
        cases: Vec<Case>,
    }

    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        ak: String,
        sk: String,
        method: String,
        host: String,
        path: String,
        query: Vec<(String, String)>,
        headers: std::collections::BTreeMap<String, String>,
        body: String,
        canonical_request: String,
        string_to_sign: String,
        authorization: String,
    }

    /// Every signature in `tests/data/sdk-hmac-sha256.json`, computed by Huawei's official SDK
    /// signer (huaweicloudsdkcore), must come out of ours step by step.
    #[test]
    fn every_sdk_vector_passes() {
        let text = include_str!("../../../tests/data/sdk-hmac-sha256.json");
        let vectors: Vectors = serde_json::from_str(text).expect("the vector file parses");
        assert!(vectors.cases.len() >= 8, "the vector file lost cases");
        for case in &vectors.cases {
            // As the SDK: Host is added from the host, every header without '_' is signed.
            let mut headers: Vec<(String, String)> = vec![("Host".into(), case.host.clone())];
            headers.extend(case.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
            let date = &case.headers["X-Sdk-Date"];
            let signature = sign(
                &Request {
                    method: &case.method,
                    path: &case.path,
                    query: &case.query,
                    headers: &headers,
                    body: case.body.as_bytes(),
                },
                &case.sk,
                date,
            );
            assert_eq!(
                signature.canonical_request, case.canonical_request,
                "{}: canonical request",
                case.name
            );
            assert_eq!(
                signature.string_to_sign, case.string_to_sign,
                "{}: string to sign",
                case.name
            );
            assert_eq!(
                signature.authorization(&case.ak),
                case.authorization,
                "{}: Authorization",
                case.name
            );
            assert!(
                verify(
                    &case.sk,
                    &case.string_to_sign,
                    signature
                        .authorization(&case.ak)
                        .rsplit('=')
                        .next()
                        .unwrap()
                ),
                "{}: verify",
                case.name
            );
        }
    }
}

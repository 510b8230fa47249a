//! Every signature in `tests/data/sdk-hmac-sha256.json`, computed by Huawei's official SDK
//! signer (huaweicloudsdkcore), must come out of ours step by step.

use dcs_wait::api::auth::signer;
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
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

#[test]
fn every_sdk_vector_passes() {
    let text = include_str!("data/sdk-hmac-sha256.json");
    let vectors: Vectors = serde_json::from_str(text).expect("the vector file parses");
    assert!(vectors.cases.len() >= 8, "the vector file lost cases");
    for case in &vectors.cases {
        // As the SDK: Host is added from the host, every header without '_' is signed.
        let mut headers: Vec<(String, String)> = vec![("Host".into(), case.host.clone())];
        headers.extend(case.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
        let date = &case.headers["X-Sdk-Date"];
        let signature = signer::sign(
            &signer::Request {
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
            signer::verify(
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

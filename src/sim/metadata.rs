//! ECS instance metadata: the session token step and the security key, issuing temporary
//! credentials that the credential check then honours for a while.

use super::answer::{json, response, Body};
use super::scenario::SimMetadata;
use super::state::{Issued, State};
use bytes::Bytes;
use http::{Method, Response, StatusCode};
use std::time::Duration;
use tokio::time::Instant;

const TOKEN_PATH: &str = "/meta-data/latest/api/token";
const SECURITY_KEY_PATH: &str = "/openstack/latest/securitykey";
/// One session token serves every client: the simulator checks the step is taken, not
/// who took it.
const SESSION_TOKEN: &str = "sim-metadata-session-token";

/// The answer when `parts` asks for metadata; `None` when it asks for something else.
pub(super) fn answer(
    state: &State,
    metadata: &SimMetadata,
    parts: &http::request::Parts,
    request_id: &str,
) -> Option<Response<Body>> {
    let path = parts.uri.path();
    if path != TOKEN_PATH && path != SECURITY_KEY_PATH {
        return None;
    }
    state.stats().metadata_requests += 1;
    let plain = |status: StatusCode, text: &str| {
        response(
            status,
            "text/plain",
            Bytes::from(text.to_string()),
            request_id,
        )
    };
    if path == TOKEN_PATH {
        return Some(match (metadata.session_tokens, &parts.method) {
            (false, _) => plain(StatusCode::NOT_FOUND, "not found"),
            (true, &Method::PUT) => plain(StatusCode::OK, SESSION_TOKEN),
            (true, _) => plain(StatusCode::METHOD_NOT_ALLOWED, "use PUT"),
        });
    }
    let token = parts
        .headers
        .get("x-metadata-token")
        .and_then(|v| v.to_str().ok());
    if metadata.session_tokens && token != Some(SESSION_TOKEN) {
        return Some(plain(
            StatusCode::UNAUTHORIZED,
            "X-Metadata-Token is missing or not valid",
        ));
    }
    let n = {
        let mut stats = state.stats();
        stats.metadata_issued += 1;
        stats.metadata_issued
    };
    let access_key = format!("{}{n}", metadata.access_key_prefix);
    let secret_key = format!("{}{n}", metadata.secret_key_prefix);
    let security_token = format!("{}{n}", metadata.security_token_prefix);
    let lifetime = Duration::from_secs(metadata.lifetime_secs);
    let honoured = metadata.honoured_ms.map_or(lifetime, Duration::from_millis);
    let expires_at = state
        .now()
        .checked_add(lifetime)
        .unwrap_or_else(|_| state.now());
    state.issue(
        access_key.clone(),
        Issued {
            secret_key: secret_key.clone(),
            security_token: security_token.clone(),
            honoured_until: Instant::now() + honoured,
        },
    );
    let body = serde_json::json!({"credential": {
        "access": access_key,
        "secret": secret_key,
        "securitytoken": security_token,
        "expires_at": expires_at.strftime("%Y-%m-%dT%H:%M:%S.000000Z").to_string(),
    }});
    Some(json(StatusCode::OK, &body, request_id))
}

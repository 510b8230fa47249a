//! IAM's project look-up, for a client that was given no project id.

use super::answer::{json, Body};
use super::state::State;
use http::{Response, StatusCode};

/// IAM's `GET /v3/projects?name=`: the scenario's projects of that name.
pub(super) fn projects(
    state: &State,
    parts: &http::request::Parts,
    request_id: &str,
) -> Response<Body> {
    let name = parts.uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "name")
            .map(|(_, v)| v.into_owned())
    });
    let projects: Vec<serde_json::Value> = state
        .scenario
        .iam_projects
        .iter()
        .filter(|p| name.as_deref().is_none_or(|n| n == p.name))
        .map(|p| serde_json::json!({"id": p.id, "name": p.name, "enabled": true, "domain_id": "sim"}))
        .collect();
    json(
        StatusCode::OK,
        &serde_json::json!({"projects": projects, "links": {"self": "/v3/projects"}}),
        request_id,
    )
}

//! Which handler answers a request: the counters, instance metadata, IAM, or the job API.

use super::answer::{error, json, Answer, Body};
use super::records::{self, Of};
use super::state::State;
use super::{iam, instances, jobs, metadata, STATS_PATH};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;

pub(super) async fn handle(state: Arc<State>, request: Request<Incoming>) -> Answer {
    let (parts, body) = request.into_parts();
    let request_id = state.next_request_id();
    // Read whole before the signature is checked: its hash is signed. A body past the
    // client's own cap is none of a DCS request's.
    let limited = http_body_util::Limited::new(body, crate::api::http::MAX_BODY_BYTES);
    let body = match http_body_util::BodyExt::collect(limited).await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "APIGW.0201",
                "The request body is too large or could not be read.",
                &request_id,
            ))
        }
    };
    let mut response = route(&state, &parts, &body, &request_id).await?;
    state.date(&mut response);
    Ok(response)
}

async fn route(
    state: &State,
    parts: &http::request::Parts,
    body: &[u8],
    request_id: &str,
) -> Answer {
    let path = parts.uri.path();
    if path == STATS_PATH {
        let stats = state.stats().clone();
        return Ok(json(StatusCode::OK, &stats, request_id));
    }
    if let Some(metadata) = &state.scenario.metadata {
        if let Some(response) = metadata::answer(state, metadata, parts, request_id) {
            return Ok(response);
        }
    }
    state.stats().requests += 1;
    if path == "/v3/projects" {
        state.stats().iam_requests += 1;
        if let Some(refused) = state.refusal(parts, body, request_id) {
            return Ok(refused);
        }
        return Ok(iam::projects(state, parts, request_id));
    }
    let route = match resolve(&parts.method, path) {
        Ok(route) => route,
        Err(unrouted) => return Ok(unrouted.answer(request_id)),
    };
    if let Some(refused) = state.refusal(parts, body, request_id) {
        return Ok(refused);
    }
    dcs(state, route, parts.uri.query(), body, request_id).await
}

/// Which DCS API `method` on `path` is, or the gateway's answer when none.
pub(super) fn resolve<'a>(method: &Method, path: &'a str) -> Result<Route<'a>, Unrouted> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (segments.as_slice(), method) {
        (["v2", project, "jobs", job], &Method::GET) => Ok(Route::Job(project, job)),
        (["v2", project, "instances", id], &Method::GET) => Ok(Route::Instance(project, id)),
        (["v2", project, "instances", id, "async-swap"], &Method::PUT) => {
            Ok(Route::Swap(project, id))
        }
        (["v2", project, "instances", id, "tasks"], &Method::GET) => Ok(Route::Tasks(project, id)),
        (["v2", project, "instances", id, list @ ("backups" | "restores")], method)
            if method == Method::GET || method == Method::POST =>
        {
            let of = if *list == "backups" {
                Of::Backups
            } else {
                Of::Restores
            };
            Ok(Route::Records(project, id, of, method == Method::POST))
        }
        (["v2", _, "jobs", _], _)
        | (["v2", _, "instances", _], _)
        | (["v2", _, "instances", _, "async-swap" | "tasks" | "backups" | "restores"], _) => {
            Err(Unrouted::Method)
        }
        _ => Err(Unrouted::Path),
    }
}

/// A request no DCS API takes.
pub(super) enum Unrouted {
    /// A known path, another method.
    Method,
    /// No such API.
    Path,
}

impl Unrouted {
    /// What API Gateway answers.
    pub(super) fn answer(self, request_id: &str) -> Response<Body> {
        match self {
            Unrouted::Method => error(
                StatusCode::METHOD_NOT_ALLOWED,
                "APIGW.0102",
                "The method is not allowed.",
                request_id,
            ),
            Unrouted::Path => error(
                StatusCode::NOT_FOUND,
                "APIGW.0101",
                "The API does not exist or has not been published in the environment.",
                request_id,
            ),
        }
    }
}

/// The answer of a DCS API, its credentials already checked.
pub(super) async fn dcs(
    state: &State,
    route: Route<'_>,
    query: Option<&str>,
    body: &[u8],
    request_id: &str,
) -> Answer {
    match route {
        Route::Job(project, job) => jobs::get(state, project, job, request_id).await,
        Route::Instance(project, id) => instances::get(state, project, id, request_id).await,
        Route::Swap(project, id) => instances::start_swap(state, project, id, request_id).await,
        Route::Tasks(project, id) => instances::tasks(state, project, id, query, request_id),
        Route::Records(project, id, of, false) => {
            records::list(state, project, id, of, query, request_id)
        }
        Route::Records(project, id, of, true) => {
            records::start(state, project, id, of, body, request_id).await
        }
    }
}

/// The DCS APIs it serves, with their path's project and id.
pub(super) enum Route<'a> {
    Job(&'a str, &'a str),
    Instance(&'a str, &'a str),
    Swap(&'a str, &'a str),
    Tasks(&'a str, &'a str),
    /// Backups or restores: listed, or (`true`) one started.
    Records(&'a str, &'a str, Of, bool),
}

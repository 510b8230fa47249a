//! The HTTP side of `dcs-sim`: hyper directly rather than a framework, because injecting
//! faults needs what frameworks hide: closing a connection without an answer, holding an
//! answer forever, sending a body that is not what the headers promise.

use super::scenario::{Fault, Scenario, SimJob};
use super::verify;
use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// The path of the counters, which is not counted itself.
pub const STATS_PATH: &str = "/_sim/stats";

/// What the endpoint has seen; tests assert on it ("no request was sent", "no retry").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Every request but those for the counters.
    pub requests: u64,
    /// Requests refused for their credentials.
    pub rejected: u64,
    /// For each job id asked for (known or not), when each authenticated request for it
    /// came: milliseconds after the first. Its length is the number of polls.
    pub per_job: BTreeMap<String, Vec<u64>>,
}

/// A running endpoint; dropping it stops the server and every connection.
#[derive(Debug)]
pub struct SimServer {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SimServer {
    /// Binds `addr` (port 0 for any free port) and serves `scenario`.
    pub async fn start(scenario: Scenario, addr: SocketAddr) -> std::io::Result<SimServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            scenario,
            jobs: Mutex::new(HashMap::new()),
            stats: Mutex::new(Stats::default()),
            next_request_id: AtomicU64::new(1),
        });
        let task = tokio::spawn(serve(listener, state.clone()));
        Ok(SimServer { addr, state, task })
    }

    /// `http://{addr}`, the value for `--endpoint`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn stats(&self) -> Stats {
        self.state.stats().clone()
    }

    pub fn scenario(&self) -> &Scenario {
        &self.state.scenario
    }
}

#[derive(Debug)]
struct State {
    scenario: Scenario,
    jobs: Mutex<HashMap<String, JobClock>>,
    stats: Mutex<Stats>,
    next_request_id: AtomicU64,
}

impl State {
    /// A poisoned lock only means another connection panicked mid-update of counters; the
    /// counters are still the best we have.
    fn stats(&self) -> MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// When a job's timeline began (its first authenticated request), and how many requests it
/// has had.
#[derive(Debug, Clone, Copy)]
struct JobClock {
    origin: Instant,
    origin_epoch_ms: i64,
    requests: u32,
}

/// The connection is closed without an answer.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fault: connection dropped")
    }
}

impl std::error::Error for DropConnection {}

type Answer = Result<Response<Full<Bytes>>, DropConnection>;

async fn serve(listener: TcpListener, state: Arc<State>) {
    // Connections live in this set, so aborting the server task ends them all, stalled
    // answers included.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let state = state.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |request| handle(state.clone(), request));
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                Err(e) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!("dcs-sim: accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Answer {
    let (parts, _body) = request.into_parts();
    let request_id = format!(
        "{:032x}",
        state.next_request_id.fetch_add(1, Ordering::Relaxed)
    );
    if parts.uri.path() == STATS_PATH {
        let stats = state.stats().clone();
        return Ok(json(StatusCode::OK, &stats, &request_id));
    }
    state.stats().requests += 1;

    let segments: Vec<&str> = parts.uri.path().trim_matches('/').split('/').collect();
    let (project_id, job_id) = match segments.as_slice() {
        ["v2", project, "jobs", job] => (*project, *job),
        _ => {
            return Ok(error(
                StatusCode::NOT_FOUND,
                "APIGW.0101",
                "The API does not exist or has not been published in the environment.",
                &request_id,
            ))
        }
    };
    if parts.method != Method::GET {
        return Ok(error(
            StatusCode::METHOD_NOT_ALLOWED,
            "APIGW.0102",
            "The method is not allowed.",
            &request_id,
        ));
    }
    if let Err(rejection) = verify::check(&state.scenario.auth, &parts, jiff::Timestamp::now()) {
        state.stats().rejected += 1;
        return Ok(error(
            StatusCode::UNAUTHORIZED,
            rejection.code,
            &rejection.message,
            &request_id,
        ));
    }
    let clock = {
        let mut jobs = state.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let clock = jobs.entry(job_id.to_string()).or_insert_with(|| JobClock {
            origin: Instant::now(),
            origin_epoch_ms: jiff::Timestamp::now().as_millisecond(),
            requests: 0,
        });
        clock.requests += 1;
        *clock
    };
    let elapsed_ms = clock.origin.elapsed().as_millis() as u64;
    state
        .stats()
        .per_job
        .entry(job_id.to_string())
        .or_default()
        .push(elapsed_ms);
    if state
        .scenario
        .project_id
        .as_deref()
        .is_some_and(|expected| expected != project_id)
    {
        return Ok(error(
            StatusCode::FORBIDDEN,
            "111401004",
            "The project ID does not match the credentials.",
            &request_id,
        ));
    }
    let Some(job) = state.scenario.jobs.iter().find(|j| j.job_id == job_id) else {
        return Ok(error(
            StatusCode::NOT_FOUND,
            "DCS.4404",
            "The job does not exist.",
            &request_id,
        ));
    };
    let fault = job
        .faults
        .iter()
        .find(|rule| rule.applies(clock.requests, elapsed_ms))
        .map(|rule| &rule.fault);
    answer(job, clock, fault, &request_id).await
}

async fn answer(job: &SimJob, clock: JobClock, fault: Option<&Fault>, request_id: &str) -> Answer {
    let mut status_override = None;
    match fault {
        None => {}
        Some(Fault::Error {
            http_status,
            error_code,
            error_msg,
            retry_after,
        }) => {
            let status =
                StatusCode::from_u16(*http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = error(
                status,
                error_code.as_deref().unwrap_or("DCS.5000"),
                error_msg.as_deref().unwrap_or("Internal server error."),
                request_id,
            );
            if let Some(value) = retry_after.as_deref().and_then(|v| v.parse().ok()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return Ok(response);
        }
        Some(Fault::Html { http_status }) => {
            let status = StatusCode::from_u16(*http_status).unwrap_or(StatusCode::BAD_GATEWAY);
            let body = format!(
                "<html>\r\n<head><title>{status}</title></head>\r\n<body>\r\n<center><h1>{status}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
            );
            return Ok(response(status, "text/html", body.into(), request_id));
        }
        Some(Fault::Stall { ms: Some(ms) }) => {
            tokio::time::sleep(std::time::Duration::from_millis(*ms)).await;
        }
        Some(Fault::Stall { ms: None }) => std::future::pending::<()>().await,
        Some(Fault::Drop) => return Err(DropConnection),
        Some(Fault::Malformed) => {
            let body = format!(r#"{{"job_id": "{}", "status": "RUN"#, job.job_id);
            return Ok(response(
                StatusCode::OK,
                "application/json",
                body.into(),
                request_id,
            ));
        }
        Some(Fault::Empty) => {
            return Ok(response(
                StatusCode::OK,
                "application/json",
                Bytes::new(),
                request_id,
            ));
        }
        Some(Fault::Status { status }) => status_override = Some(status.clone()),
    }
    let body = job_body(job, clock, status_override);
    Ok(json(StatusCode::OK, &body, request_id))
}

/// Exactly the documented shape: every field a string or null.
#[derive(Serialize)]
struct JobBody {
    job_id: String,
    job_type: String,
    status: String,
    begin_time: Option<String>,
    end_time: Option<String>,
    fail_reason: Option<String>,
}

fn job_body(job: &SimJob, clock: JobClock, status_override: Option<String>) -> JobBody {
    let elapsed_ms = clock.origin.elapsed().as_millis() as u64;
    let begin = clock.origin_epoch_ms + job.start_delay_ms as i64;
    let end = begin + job.run_ms as i64;
    let (status, begin_time, end_time, fail_reason) = if elapsed_ms < job.start_delay_ms {
        ("INIT".to_string(), None, None, None)
    } else if elapsed_ms < job.start_delay_ms + job.run_ms {
        ("RUNNING".to_string(), Some(begin), None, None)
    } else {
        (
            job.final_status.clone(),
            Some(begin),
            Some(end),
            job.fail_reason.clone(),
        )
    };
    JobBody {
        job_id: job.job_id.clone(),
        job_type: job.job_type.clone(),
        status: status_override.unwrap_or(status),
        begin_time: begin_time.map(|t| t.to_string()),
        end_time: end_time.map(|t| t.to_string()),
        fail_reason,
    }
}

fn error(status: StatusCode, code: &str, message: &str, request_id: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({
        "error_code": code,
        "error_msg": message,
        "error_ext_msg": null,
    });
    json(status, &body, request_id)
}

fn json<T: Serialize>(status: StatusCode, body: &T, request_id: &str) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    response(status, "application/json", bytes.into(), request_id)
}

fn response(
    status: StatusCode,
    content_type: &str,
    body: Bytes,
    request_id: &str,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(v) = content_type.parse() {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = request_id.parse() {
        headers.insert("x-request-id", v);
    }
    response
}

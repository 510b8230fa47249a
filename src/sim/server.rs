//! The HTTP side of `dcs-sim`: hyper directly rather than a framework, because injecting
//! faults needs what frameworks hide: closing a connection without an answer, holding an
//! answer forever, sending a body that is not what the headers promise.

use super::scenario::{Fault, Scenario, SimJob, SimMetadata};
use super::tls::TlsIdentity;
use super::verify::{self, Lookup};
use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

/// The path of the counters, which is not counted itself.
pub const STATS_PATH: &str = "/_sim/stats";

/// What the endpoint has seen; tests assert on it ("no request was sent", "no retry").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Every request but those for the counters.
    pub requests: u64,
    /// Requests refused for their credentials.
    pub rejected: u64,
    /// IAM project look-ups (counted in `requests` too).
    pub iam_requests: u64,
    /// Instance metadata requests (session token and security key; not in `requests`).
    pub metadata_requests: u64,
    /// Temporary credentials issued by instance metadata.
    pub metadata_issued: u64,
    /// For each job id asked for (known or not), when each authenticated request for it
    /// came: milliseconds after the first. Its length is the number of polls.
    pub per_job: BTreeMap<String, Vec<u64>>,
}

/// A running endpoint; dropping it stops the server and every connection.
#[derive(Debug)]
pub struct SimServer {
    addr: SocketAddr,
    https: bool,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SimServer {
    /// Binds `addr` (port 0 for any free port) and serves `scenario` over HTTP.
    pub async fn start(scenario: Scenario, addr: SocketAddr) -> std::io::Result<SimServer> {
        SimServer::start_with_tls(scenario, addr, None).await
    }

    /// The same, over HTTPS with `tls` when given.
    pub async fn start_with_tls(
        scenario: Scenario,
        addr: SocketAddr,
        tls: Option<&TlsIdentity>,
    ) -> std::io::Result<SimServer> {
        let acceptor = tls
            .map(TlsIdentity::acceptor)
            .transpose()
            .map_err(std::io::Error::other)?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::new(scenario));
        let https = acceptor.is_some();
        let task = tokio::spawn(serve(listener, acceptor, state.clone()));
        Ok(SimServer {
            addr,
            https,
            state,
            task,
        })
    }

    /// `http://{addr}` (or `https://`), the value for `--endpoint`.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    pub fn stats(&self) -> Stats {
        self.state.stats().clone()
    }

    pub fn scenario(&self) -> &Scenario {
        &self.state.scenario
    }
}

#[derive(Debug)]
pub(super) struct State {
    scenario: Scenario,
    /// When it started, by tokio's clock and by the wall clock: its own clock runs from
    /// there on tokio's, so that under a paused (virtual) clock its `Date` and job times
    /// move with the virtual time.
    started: (Instant, jiff::Timestamp),
    jobs: Mutex<HashMap<String, JobClock>>,
    stats: Mutex<Stats>,
    next_request_id: AtomicU64,
    /// Temporary credentials issued by instance metadata, by access key.
    issued: Mutex<HashMap<String, Issued>>,
}

#[derive(Debug, Clone)]
struct Issued {
    secret_key: String,
    security_token: String,
    honoured_until: Instant,
}

/// A poisoned lock only means another connection panicked mid-update; the data is still the
/// best we have.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl State {
    pub(super) fn new(scenario: Scenario) -> State {
        State {
            scenario,
            started: (Instant::now(), jiff::Timestamp::now()),
            jobs: Mutex::new(HashMap::new()),
            stats: Mutex::new(Stats::default()),
            next_request_id: AtomicU64::new(1),
            issued: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn stats(&self) -> MutexGuard<'_, Stats> {
        lock(&self.stats)
    }

    /// The simulator's clock, which may run off the real one on purpose.
    fn now(&self) -> jiff::Timestamp {
        let (instant, timestamp) = self.started;
        let now = jiff::SignedDuration::try_from(instant.elapsed())
            .ok()
            .and_then(|elapsed| timestamp.checked_add(elapsed).ok())
            .unwrap_or(timestamp);
        now.checked_add(jiff::SignedDuration::from_secs(
            self.scenario.clock_offset_secs,
        ))
        .unwrap_or(now)
    }

    pub(super) fn next_request_id(&self) -> String {
        format!(
            "{:032x}",
            self.next_request_id.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Sets `Date` from the simulator's clock, skewed when the scenario says so: clients
    /// correct by it.
    pub(super) fn date(&self, response: &mut Response<Body>) {
        let printer = jiff::fmt::rfc2822::DateTimePrinter::new();
        if let Ok(date) = printer.timestamp_to_rfc9110_string(&self.now()) {
            if let Ok(value) = date.parse() {
                response.headers_mut().insert(header::DATE, value);
            }
        }
    }

    fn lookup(&self, access_key: &str) -> Lookup {
        match self.scenario.auth.lookup(access_key) {
            Lookup::Unknown => match lock(&self.issued).get(access_key) {
                Some(issued) if issued.honoured_until > Instant::now() => Lookup::Found {
                    secret_key: issued.secret_key.clone(),
                    security_token: Some(issued.security_token.clone()),
                },
                Some(_) => Lookup::Expired,
                None => Lookup::Unknown,
            },
            known => known,
        }
    }

    /// Checks credentials: the 401 answer when they are refused, else nothing.
    fn refusal(&self, parts: &http::request::Parts, request_id: &str) -> Option<Response<Body>> {
        let auth_token = self.scenario.auth.auth_token.as_deref();
        let checked = verify::check(auth_token, |ak| self.lookup(ak), parts, self.now());
        checked.err().map(|rejection| {
            self.stats().rejected += 1;
            error(
                StatusCode::UNAUTHORIZED,
                rejection.code,
                &rejection.message,
                request_id,
            )
        })
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
pub(super) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fault: connection dropped")
    }
}

impl std::error::Error for DropConnection {}

pub(super) type Answer = Result<Response<Body>, DropConnection>;

/// Every answer's body: whole, or trickled.
pub(super) type Body = UnsyncBoxBody<Bytes, std::convert::Infallible>;

fn whole(bytes: Bytes) -> Body {
    Full::new(bytes).boxed_unsync()
}

/// A body sent one byte at a time, `every` apart: a server that has sent its headers and
/// then all but stops.
struct Trickle {
    bytes: Bytes,
    every: Duration,
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl Trickle {
    fn body(bytes: Bytes, every: Duration) -> Body {
        let sleep = Box::pin(tokio::time::sleep(every));
        Trickle {
            bytes,
            every,
            sleep,
        }
        .boxed_unsync()
    }
}

impl hyper::body::Body for Trickle {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.bytes.is_empty() {
            return std::task::Poll::Ready(None);
        }
        std::task::ready!(std::future::Future::poll(self.sleep.as_mut(), cx));
        let next = Instant::now() + self.every;
        self.sleep.as_mut().reset(next);
        let byte = self.bytes.split_to(1);
        std::task::Poll::Ready(Some(Ok(Frame::data(byte))))
    }
}

async fn serve(listener: TcpListener, tls: Option<TlsAcceptor>, state: Arc<State>) {
    // Connections live in this set, so aborting the server task ends them all, stalled
    // answers included.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let state = state.clone();
                    let tls = tls.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |request| handle(state.clone(), request));
                        let http = http1::Builder::new();
                        match tls {
                            None => {
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                            // A client that refuses our certificate ends the handshake: fine.
                            Some(tls) => {
                                if let Ok(stream) = tls.accept(stream).await {
                                    let _ = http.serve_connection(TokioIo::new(stream), service).await;
                                }
                            }
                        }
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
    let request_id = state.next_request_id();
    let mut response = route(&state, &parts, &request_id).await?;
    state.date(&mut response);
    Ok(response)
}

async fn route(state: &State, parts: &http::request::Parts, request_id: &str) -> Answer {
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
        if let Some(refused) = state.refusal(parts, request_id) {
            return Ok(refused);
        }
        return Ok(projects(state, parts, request_id));
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (project_id, job_id) = match segments.as_slice() {
        ["v2", project, "jobs", job] => (*project, *job),
        _ => {
            return Ok(error(
                StatusCode::NOT_FOUND,
                "APIGW.0101",
                "The API does not exist or has not been published in the environment.",
                request_id,
            ))
        }
    };
    if parts.method != Method::GET {
        return Ok(error(
            StatusCode::METHOD_NOT_ALLOWED,
            "APIGW.0102",
            "The method is not allowed.",
            request_id,
        ));
    }
    if let Some(refused) = state.refusal(parts, request_id) {
        return Ok(refused);
    }
    state.job(project_id, job_id, request_id).await
}

impl State {
    /// An authenticated GET of a job: counted, then answered by its timeline and faults.
    pub(super) async fn job(&self, project_id: &str, job_id: &str, request_id: &str) -> Answer {
        let clock = {
            let mut jobs = lock(&self.jobs);
            let clock = jobs.entry(job_id.to_string()).or_insert_with(|| JobClock {
                origin: Instant::now(),
                // Its own clock, like its Date header: a skewed server is skewed throughout.
                origin_epoch_ms: self.now().as_millisecond(),
                requests: 0,
            });
            clock.requests += 1;
            *clock
        };
        let elapsed_ms = clock.origin.elapsed().as_millis() as u64;
        self.stats()
            .per_job
            .entry(job_id.to_string())
            .or_default()
            .push(elapsed_ms);
        if self
            .scenario
            .project_id
            .as_deref()
            .is_some_and(|expected| expected != project_id)
        {
            return Ok(error(
                StatusCode::FORBIDDEN,
                "111401004",
                "The project ID does not match the credentials.",
                request_id,
            ));
        }
        let Some(job) = self.scenario.jobs.iter().find(|j| j.job_id == job_id) else {
            return Ok(error(
                StatusCode::NOT_FOUND,
                "DCS.4404",
                "The job does not exist.",
                request_id,
            ));
        };
        let fault = job
            .faults
            .iter()
            .find(|rule| rule.applies(clock.requests, elapsed_ms))
            .map(|rule| &rule.fault);
        answer(job, clock, fault, request_id).await
    }
}

/// IAM's `GET /v3/projects?name=`: the scenario's projects of that name.
fn projects(state: &State, parts: &http::request::Parts, request_id: &str) -> Response<Body> {
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
        Some(Fault::Oversized { bytes }) => {
            // A job, then spaces: valid JSON, only too long to be read.
            let mut body = serde_json::to_vec(&job_body(job, clock, None)).unwrap_or_default();
            // At most 64 MiB: a scenario cannot make the simulator itself run out of memory.
            let len = (*bytes).min(64 << 20) as usize;
            body.resize(body.len().max(len), b' ');
            return Ok(response(
                StatusCode::OK,
                "application/json",
                body.into(),
                request_id,
            ));
        }
        Some(Fault::Trickle { ms }) => {
            let body = serde_json::to_vec(&job_body(job, clock, None)).unwrap_or_default();
            let mut answer = response(StatusCode::OK, "application/json", Bytes::new(), request_id);
            *answer.body_mut() = Trickle::body(body.into(), Duration::from_millis(*ms));
            return Ok(answer);
        }
        Some(Fault::OtherJob) => {
            let mut body = job_body(job, clock, None);
            body.job_id = format!("{}-other", job.job_id);
            return Ok(json(StatusCode::OK, &body, request_id));
        }
        Some(Fault::Redirect { location }) => {
            let mut answer = response(StatusCode::FOUND, "text/plain", Bytes::new(), request_id);
            if let Ok(value) = location.parse() {
                answer.headers_mut().insert(header::LOCATION, value);
            }
            return Ok(answer);
        }
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

fn error(status: StatusCode, code: &str, message: &str, request_id: &str) -> Response<Body> {
    let body = serde_json::json!({
        "error_code": code,
        "error_msg": message,
        "error_ext_msg": null,
    });
    json(status, &body, request_id)
}

fn json<T: Serialize>(status: StatusCode, body: &T, request_id: &str) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    response(status, "application/json", bytes.into(), request_id)
}

fn response(
    status: StatusCode,
    content_type: &str,
    body: Bytes,
    request_id: &str,
) -> Response<Body> {
    let mut response = Response::new(whole(body));
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

/// ECS instance metadata: the session token step and the security key.
mod metadata {
    use super::*;

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
        lock(&state.issued).insert(
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
}

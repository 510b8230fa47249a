//! One GET of the job API, and what its result means for the wait.
//!
//! Every answer is classified here, once, so the wait loop only has to know three things:
//! a job came back; try again ([`PollError::Transient`], [`PollError::NotFound`] while the
//! grace period lasts); or stop ([`PollError::Final`]).

use crate::api_error::ApiError;
use crate::auth::{self, Credentials, Provider};
use crate::http::{self, BodyError, MAX_BODY_BYTES};
use crate::job::Job;
use crate::untrusted::printable;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use url::Url;

/// The longest `Retry-After` honoured; a longer one is read as this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Why a poll did not produce a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollError {
    /// Worth another try: 5xx, 429, 408, connection trouble, a malformed 200.
    Transient {
        error: ApiError,
        /// The server's `Retry-After`, capped at [`MAX_RETRY_AFTER`].
        retry_after: Option<Duration>,
    },
    /// 404: a job just created may not be visible yet; the wait decides how long to believe it.
    NotFound(ApiError),
    /// 400, 401, 403 and other answers that another try will not change.
    Final(ApiError),
}

impl PollError {
    pub fn api_error(&self) -> &ApiError {
        match self {
            PollError::Transient { error, .. } => error,
            PollError::NotFound(error) | PollError::Final(error) => error,
        }
    }

    pub fn transient(error: ApiError) -> PollError {
        PollError::Transient {
            error,
            retry_after: None,
        }
    }
}

/// Requests in flight at once, for all jobs together. Loopback or not, a few dozen
/// connections carry thousands of polls a second; ten thousand jobs polled at once would
/// otherwise open ten thousand connections, each with its buffers and its handshake.
pub const MAX_IN_FLIGHT: usize = 64;

/// How far our clock may be from the server's before a refused signature is blamed on it.
/// API Gateway allows 15 minutes; honest clocks are within seconds.
pub const SKEW_THRESHOLD: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// A whole answer: status, the headers we read, the body (at most [`MAX_BODY_BYTES`]).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: AnswerHeaders,
    pub body: Vec<u8>,
}

/// Signed GETs to Huawei Cloud APIs over one reused HTTP client (one connection pool for
/// every job), with the credentials of the moment and a correction for a skewed clock.
#[derive(Debug)]
pub struct ApiClient {
    http: reqwest::Client,
    provider: Arc<Provider>,
    in_flight: tokio::sync::Semaphore,
    /// Server time minus our time, learnt from a refused request; added to `X-Sdk-Date`.
    skew_ms: AtomicI64,
}

impl ApiClient {
    pub fn new(http: reqwest::Client, provider: Arc<Provider>) -> ApiClient {
        ApiClient {
            http,
            provider,
            in_flight: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
            skew_ms: AtomicI64::new(0),
        }
    }

    /// One GET of `url`. When API Gateway refuses a signature and its `Date` is far from our
    /// clock, the clock is corrected by the difference and the request made once more, as the
    /// AWS SDKs do; the correction stays for every later request.
    ///
    /// Several jobs refused at once all try again: one of them learns the correction, the
    /// others see that their request was signed before it.
    pub async fn get(&self, url: &Url, project_id: Option<&str>) -> Result<Reply, PollError> {
        let (reply, signed_with) = self.send(url, project_id).await?;
        if let (401, Some(skew)) = (reply.status, signed_with) {
            if self.learn_skew(&reply) || self.skew() != skew {
                return Ok(self.send(url, project_id).await?.0);
            }
        }
        Ok(reply)
    }

    fn skew(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_millis(self.skew_ms.load(Ordering::Relaxed))
    }

    /// The reply, and the clock correction it was signed with (none for a token).
    async fn send(
        &self,
        url: &Url,
        project_id: Option<&str>,
    ) -> Result<(Reply, Option<jiff::SignedDuration>), PollError> {
        // Never closed, so acquiring cannot fail; a permit is held until the body is read.
        let _permit = self.in_flight.acquire().await.ok();
        let credentials = self
            .provider
            .credentials()
            .await
            .map_err(|e| PollError::transient(ApiError::local("credentials", e.to_string())))?;
        let skew = self.skew();
        let now = jiff::Timestamp::now()
            .checked_add(skew)
            .unwrap_or_else(|_| jiff::Timestamp::now());
        let headers = auth::headers(&credentials, "GET", url, project_id, now);
        let signed_with = matches!(*credentials, Credentials::AkSk { .. }).then_some(skew);
        let mut request = self.http.get(url.clone());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let mut response = request.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = AnswerHeaders::read(response.headers());
        let body = match http::read_body(&mut response).await {
            Ok(body) => body,
            Err(BodyError::Transport(e)) => return Err(transport_error(e)),
            Err(BodyError::TooLarge) => return Err(body_too_large(status, headers.request_id)),
        };
        Ok((
            Reply {
                status,
                headers,
                body,
            },
            signed_with,
        ))
    }

    /// Takes the server's clock from a refused reply; true when that changed ours enough to
    /// be worth another try.
    fn learn_skew(&self, reply: &Reply) -> bool {
        let Some(server) = reply
            .headers
            .date
            .as_deref()
            .and_then(|d| jiff::fmt::rfc2822::parse(d).ok())
            .map(|z| z.timestamp())
        else {
            return false;
        };
        let skew = server.duration_since(jiff::Timestamp::now());
        if (skew - self.skew()).abs() < SKEW_THRESHOLD {
            return false;
        }
        tracing::debug!(
            "the server refused our signature and its clock is {:.0} s from ours: \
             signing with its time from now on and trying once more",
            skew.as_secs_f64()
        );
        self.skew_ms.store(
            skew.as_millis().clamp(i64::MIN as i128, i64::MAX as i128) as i64,
            Ordering::Relaxed,
        );
        true
    }
}

/// Reads DCS jobs.
#[derive(Debug, Clone)]
pub struct DcsClient {
    api: Arc<ApiClient>,
    endpoint: Url,
    project_id: String,
}

impl DcsClient {
    /// `endpoint` is the DCS base URL, already validated (see [`crate::options`]).
    pub fn new(api: Arc<ApiClient>, endpoint: Url, project_id: String) -> DcsClient {
        DcsClient {
            api,
            endpoint,
            project_id,
        }
    }

    /// `{endpoint}/v2/{project_id}/jobs/{job_id}`, keeping any path prefix of the endpoint.
    pub fn job_url(&self, job_id: &str) -> Url {
        let mut url = self.endpoint.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .pop_if_empty()
                .extend(["v2", &self.project_id, "jobs", job_id]);
        }
        url
    }

    /// One GET, classified.
    pub async fn get_job(&self, job_id: &str) -> Result<Job, PollError> {
        let reply = self
            .api
            .get(&self.job_url(job_id), Some(&self.project_id))
            .await?;
        interpret(job_id, reply, SystemTime::now())
    }
}

/// What an answer to a GET of `job_id` says: [`classify`], and the job must be that one.
pub fn interpret(job_id: &str, reply: Reply, now: SystemTime) -> Result<Job, PollError> {
    classify(reply, now).and_then(|job| same_job(job_id, job))
}

/// A body past [`MAX_BODY_BYTES`], cut off unread: worth another try (a proxy's error page,
/// say), never worth reading whole.
pub fn body_too_large(status: u16, request_id: Option<String>) -> PollError {
    let mut error = ApiError::local(
        "body_too_large",
        format!("the answer is larger than {MAX_BODY_BYTES} bytes"),
    );
    error.http_status = Some(status);
    error.request_id = request_id;
    PollError::transient(error)
}

/// An answer about another job is not an answer about ours: its SUCCESS would end our wait
/// on someone else's result. A cache or gateway that mixes answers up will not stop doing so
/// on a retry, so it is final.
fn same_job(asked: &str, job: Job) -> Result<Job, PollError> {
    match job.job_id.as_deref() {
        Some(answered) if answered != asked => {
            let answered: String = answered.chars().take(64).collect();
            Err(PollError::Final(ApiError::local(
                "job_id_mismatch",
                format!(
                    "asked for job {asked}, the server answered about job {answered}; check \
                 --endpoint and any proxy or cache in between"
                ),
            )))
        }
        _ => Ok(job),
    }
}

/// The headers of an answer that classification reads.
#[derive(Debug, Default, Clone)]
pub struct AnswerHeaders {
    pub request_id: Option<String>,
    pub retry_after: Option<String>,
    pub location: Option<String>,
    pub date: Option<String>,
}

impl AnswerHeaders {
    /// The ones present as visible ASCII; others are as good as absent.
    pub fn read(headers: &::http::HeaderMap) -> AnswerHeaders {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        AnswerHeaders {
            request_id: header("x-request-id"),
            retry_after: header("retry-after"),
            location: header("location"),
            date: header("date"),
        }
    }
}

/// Decides what an HTTP answer means; pure, so every rule has a unit test.
pub fn classify(reply: Reply, now: SystemTime) -> Result<Job, PollError> {
    let Reply {
        status,
        headers: mut answer,
        body,
    } = reply;
    // Shown in messages: made printable like every text from the server.
    answer.request_id = answer.request_id.as_deref().map(printable);
    answer.location = answer.location.as_deref().map(printable);
    if status == 200 {
        let answered_at = answer
            .date
            .as_deref()
            .and_then(|d| jiff::fmt::rfc2822::parse(d).ok())
            .map(|z| z.timestamp().as_millisecond());
        return Job::parse(&body)
            .map(|job| Job { answered_at, ..job })
            .map_err(|e| {
                let mut error = ApiError::local("malformed_body", e.to_string());
                error.http_status = Some(status);
                error.request_id = answer.request_id;
                PollError::transient(error)
            });
    }
    let mut error = ApiError::from_response(status, &body, answer.request_id);
    match status {
        429 => Err(PollError::Transient {
            error,
            retry_after: answer
                .retry_after
                .as_deref()
                .and_then(|v| parse_retry_after(v, now)),
        }),
        404 => Err(PollError::NotFound(error)),
        408 | 500..=599 => Err(PollError::transient(error)),
        300..=399 => {
            error.code.get_or_insert_with(|| "redirect".into());
            error.message = match answer.location {
                Some(to) => format!("the endpoint redirects to {to}; give that endpoint instead"),
                None => "the endpoint answered with a redirect; check --endpoint".into(),
            };
            Err(PollError::Final(error))
        }
        _ => Err(PollError::Final(error)),
    }
}

/// `Retry-After` as delay-seconds or an HTTP date, capped at [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let delay = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
        let now = jiff::Timestamp::try_from(now).ok()?;
        Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO)
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

/// No answer at all: connect refused, reset, a timeout inside the HTTP stack, a cut body —
/// worth another try. Except a certificate we do not trust: no retry will change that.
fn transport_error(e: reqwest::Error) -> PollError {
    let code = if e.is_timeout() {
        "request_timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "transport"
    };
    // reqwest's message names the URL (no secret in it); its sources say what happened.
    let mut message = e.to_string();
    let mut untrusted = false;
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        untrusted |= is_untrusted_certificate(cause);
        source = cause.source();
    }
    if untrusted {
        return PollError::Final(ApiError::local(
            "tls",
            format!(
                "{message} — the server's certificate is not trusted: if a corporate CA signed \
                 it, give that CA with --ca-bundle FILE"
            ),
        ));
    }
    PollError::transient(ApiError::local(code, message))
}

/// Whether `cause` is rustls refusing the server's certificate. hyper wraps it in an
/// `io::Error` inside another, and `io::Error::source` skips the wrapped error itself, so the
/// layers are opened by hand.
fn is_untrusted_certificate(mut cause: &(dyn std::error::Error + 'static)) -> bool {
    loop {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            );
        }
        match cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => cause = inner,
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Status;

    fn at(text: &str) -> SystemTime {
        SystemTime::try_from(text.parse::<jiff::Timestamp>().unwrap()).unwrap()
    }

    fn reply(status: u16, body: &str, headers: AnswerHeaders) -> Reply {
        Reply {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn an_answer_about_another_job_is_final() {
        let now = SystemTime::now();
        let answer =
            |body: &str| interpret("job-1", reply(200, body, AnswerHeaders::default()), now);
        match answer(r#"{"job_id": "job-2", "status": "SUCCESS"}"#) {
            Err(PollError::Final(error)) => {
                assert_eq!(error.code.as_deref(), Some("job_id_mismatch"));
                assert!(error.message.contains("job-2"), "{error}");
            }
            other => panic!("{other:?}"),
        }
        // The same job, or one that does not say which: taken.
        assert!(answer(r#"{"job_id": "job-1", "status": "SUCCESS"}"#).is_ok());
        assert!(answer(r#"{"status": "SUCCESS"}"#).is_ok());
    }

    fn classify_plain(status: u16, body: &str) -> Result<Job, PollError> {
        classify(
            reply(status, body, AnswerHeaders::default()),
            SystemTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn a_200_job_is_a_job_and_a_bad_200_is_transient() {
        let job = classify_plain(200, r#"{"status":"RUNNING"}"#).unwrap();
        assert_eq!(job.status, Status::Running);
        for body in ["", "{", "<html></html>", r#"{"job_id":"x"}"#] {
            let err = classify_plain(200, body).unwrap_err();
            assert!(matches!(err, PollError::Transient { .. }), "{body:?}");
            assert_eq!(err.api_error().code.as_deref(), Some("malformed_body"));
        }
    }

    #[test]
    fn server_errors_and_throttling_are_transient() {
        for status in [500, 502, 503, 504, 408] {
            assert!(matches!(
                classify_plain(status, "<html>oops</html>"),
                Err(PollError::Transient {
                    retry_after: None,
                    ..
                })
            ));
        }
        let err = classify(
            reply(
                429,
                r#"{"error_code":"APIG.0308","error_msg":"throttled"}"#,
                AnswerHeaders {
                    retry_after: Some("7".into()),
                    request_id: Some("rid".into()),
                    ..AnswerHeaders::default()
                },
            ),
            SystemTime::UNIX_EPOCH,
        )
        .unwrap_err();
        assert_eq!(
            err,
            PollError::Transient {
                error: ApiError {
                    code: Some("APIG.0308".into()),
                    message: "throttled".into(),
                    http_status: Some(429),
                    request_id: Some("rid".into()),
                },
                retry_after: Some(Duration::from_secs(7)),
            }
        );
    }

    #[test]
    fn not_found_and_final_errors() {
        assert!(matches!(
            classify_plain(404, "{}"),
            Err(PollError::NotFound(_))
        ));
        for status in [400, 401, 403, 405, 301] {
            assert!(
                matches!(classify_plain(status, ""), Err(PollError::Final(_))),
                "{status}"
            );
        }
    }

    #[test]
    fn retry_after_seconds_dates_and_caps() {
        let now = at("2026-11-28T12:00:00Z");
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("3600", now), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("Sat, 28 Nov 2026 12:00:05 GMT", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse_retry_after("Sat, 28 Nov 2026 11:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn job_url_keeps_an_endpoint_prefix() {
        let creds = Credentials::Token(secrecy::SecretString::from("t"));
        let provider = Arc::new(Provider::fixed(auth::Source::AuthToken, creds));
        let api = Arc::new(ApiClient::new(
            crate::http::api_client(None, false).unwrap(),
            provider,
        ));
        let client = |endpoint: &str| {
            DcsClient::new(api.clone(), Url::parse(endpoint).unwrap(), "p1".into())
        };
        assert_eq!(
            client("https://dcs.example.com/prefix/")
                .job_url("j1")
                .as_str(),
            "https://dcs.example.com/prefix/v2/p1/jobs/j1"
        );
        assert_eq!(
            client("https://dcs.example.com").job_url("j1").as_str(),
            "https://dcs.example.com/v2/p1/jobs/j1"
        );
    }
}

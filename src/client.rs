//! One GET of the job API, and what its result means for the wait.
//!
//! Every answer is classified here, once, so the wait loop only has to know three things:
//! a job came back; try again ([`PollError::Transient`], [`PollError::NotFound`] while the
//! grace period lasts); or stop ([`PollError::Final`]).

use crate::api_error::ApiError;
use crate::auth::{self, Credentials};
use crate::job::Job;
use std::time::{Duration, SystemTime};
use url::Url;

/// Bodies past this size are cut off unread: a job is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

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

    fn transient(error: ApiError) -> PollError {
        PollError::Transient {
            error,
            retry_after: None,
        }
    }
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("could not set up the HTTP client: {0}")]
pub struct BuildError(#[from] reqwest::Error);

/// Reads DCS jobs over one reused HTTP client (one connection pool for every job).
#[derive(Debug, Clone)]
pub struct DcsClient {
    http: reqwest::Client,
    endpoint: Url,
    project_id: String,
    credentials: Credentials,
}

impl DcsClient {
    /// `endpoint` is the DCS base URL, already validated (see [`crate::options`]).
    pub fn new(
        endpoint: Url,
        project_id: String,
        credentials: Credentials,
    ) -> Result<DcsClient, BuildError> {
        // reqwest is built without a default crypto provider so that we choose ring (smaller
        // and quicker to build than aws-lc). Installing it twice is harmless: the second call
        // reports the first and changes nothing.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("dcs-wait/", env!("CARGO_PKG_VERSION")))
            // A redirect would carry our signed headers to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(DcsClient {
            http,
            endpoint,
            project_id,
            credentials,
        })
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
        let url = self.job_url(job_id);
        let headers = auth::headers(
            &self.credentials,
            "GET",
            &url,
            Some(&self.project_id),
            jiff::Timestamp::now(),
        );
        let mut request = self.http.get(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let mut response = request.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let request_id = header("x-request-id");
        let retry_after = header("retry-after");
        let location = header("location");
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_BODY_BYTES {
                        let mut error = ApiError::local(
                            "body_too_large",
                            format!("the answer is larger than {MAX_BODY_BYTES} bytes"),
                        );
                        error.http_status = Some(status);
                        error.request_id = request_id;
                        return Err(PollError::transient(error));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(transport_error(e)),
            }
        }
        classify(
            status,
            &body,
            AnswerHeaders {
                request_id,
                retry_after,
                location,
            },
            SystemTime::now(),
        )
    }
}

/// The headers of an answer that classification reads.
#[derive(Debug, Default, Clone)]
pub struct AnswerHeaders {
    pub request_id: Option<String>,
    pub retry_after: Option<String>,
    pub location: Option<String>,
}

/// Decides what an HTTP answer means; pure, so every rule has a unit test.
pub fn classify(
    status: u16,
    body: &[u8],
    answer: AnswerHeaders,
    now: SystemTime,
) -> Result<Job, PollError> {
    if status == 200 {
        return Job::parse(body).map_err(|e| {
            let mut error = ApiError::local("malformed_body", e.to_string());
            error.http_status = Some(status);
            error.request_id = answer.request_id;
            PollError::transient(error)
        });
    }
    let mut error = ApiError::from_response(status, body, answer.request_id);
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

/// No answer at all: connect refused, reset, a timeout inside the HTTP stack, a cut body.
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
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    PollError::transient(ApiError::local(code, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Status;

    fn at(text: &str) -> SystemTime {
        SystemTime::try_from(text.parse::<jiff::Timestamp>().unwrap()).unwrap()
    }

    fn classify_plain(status: u16, body: &str) -> Result<Job, PollError> {
        classify(
            status,
            body.as_bytes(),
            AnswerHeaders::default(),
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
            429,
            br#"{"error_code":"APIG.0308","error_msg":"throttled"}"#,
            AnswerHeaders {
                retry_after: Some("7".into()),
                request_id: Some("rid".into()),
                ..AnswerHeaders::default()
            },
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
        let client = DcsClient::new(
            Url::parse("https://dcs.example.com/prefix/").unwrap(),
            "p1".into(),
            creds.clone(),
        )
        .unwrap();
        assert_eq!(
            client.job_url("j1").as_str(),
            "https://dcs.example.com/prefix/v2/p1/jobs/j1"
        );
        let client = DcsClient::new(
            Url::parse("https://dcs.example.com").unwrap(),
            "p1".into(),
            creds,
        )
        .unwrap();
        assert_eq!(
            client.job_url("j1").as_str(),
            "https://dcs.example.com/v2/p1/jobs/j1"
        );
    }
}

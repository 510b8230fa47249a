//! What an answer means for the wait.
//!
//! Every answer is classified here, once, so the wait loop only has to know three things:
//! a job came back; try again ([`PollError::Transient`], [`PollError::NotFound`] while the
//! grace period lasts); or stop ([`PollError::Final`]).

use super::error::{dcs_form, ApiError, ErrorKind};
use super::http::MAX_BODY_BYTES;
use super::ids::JobId;
use super::job::Job;
use super::untrusted::printable;
use std::time::{Duration, SystemTime};

/// The longest `Retry-After` honoured; a longer one is read as this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Why a poll did not produce a job: the failed request, and whether to try again. It
/// displays as that request's [`ApiError`], whose source it gives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PollError {
    /// Worth another try: 5xx, 429, 408, connection trouble, a malformed 200.
    Transient {
        /// The failed request.
        error: ApiError,
        /// The server's `Retry-After`, capped at 60 s.
        retry_after: Option<Duration>,
    },
    /// 404: a job just created may not be visible yet; the wait decides how long to believe it.
    NotFound(ApiError),
    /// 400, 401, 403 and other answers that another try will not change.
    Final(ApiError),
}

impl std::fmt::Display for PollError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.api_error(), f)
    }
}

impl std::error::Error for PollError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(self.api_error())
    }
}

impl PollError {
    /// The failed request, whatever the kind.
    pub fn api_error(&self) -> &ApiError {
        match self {
            PollError::Transient { error, .. } => error,
            PollError::NotFound(error) | PollError::Final(error) => error,
        }
    }

    /// Worth another try, with no `Retry-After`.
    pub fn transient(error: ApiError) -> PollError {
        PollError::Transient {
            error,
            retry_after: None,
        }
    }
}

/// A whole answer: status, the headers we read, the body (at most [`MAX_BODY_BYTES`]).
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The headers that classification reads.
    pub headers: AnswerHeaders,
    /// The body, whole.
    pub body: Vec<u8>,
}

/// What an answer to a GET of `job_id` says: [`classify`], and the job must be that one.
pub fn interpret(job_id: &JobId, reply: Reply, now: SystemTime) -> Result<Job, PollError> {
    classify(reply, now).and_then(|job| same_job(job_id, job))
}

/// A body past [`MAX_BODY_BYTES`], cut off unread: worth another try (a proxy's error page,
/// say), never worth reading whole.
pub(crate) fn body_too_large(status: u16, request_id: Option<String>) -> PollError {
    let mut error = ApiError::new(
        ErrorKind::BodyTooLarge,
        format!("the answer is larger than {MAX_BODY_BYTES} bytes"),
    );
    error.http_status = Some(status);
    error.request_id = request_id;
    PollError::transient(error)
}

/// An answer about another job is not an answer about ours: its SUCCESS would end our wait
/// on someone else's result. A cache or gateway that mixes answers up will not stop doing so
/// on a retry, so it is final.
fn same_job(asked: &JobId, job: Job) -> Result<Job, PollError> {
    match job.job_id.as_deref() {
        Some(answered) if answered != asked.as_str() => {
            let answered: String = answered.chars().take(64).collect();
            Err(PollError::Final(ApiError::new(
                ErrorKind::JobIdMismatch,
                format!(
                    "asked for job {asked}, the server answered about job {answered}; check \
                 the endpoint and any proxy or cache in between"
                ),
            )))
        }
        _ => Ok(job),
    }
}

/// The headers of an answer that classification reads.
#[derive(Debug, Default, Clone)]
pub struct AnswerHeaders {
    /// `X-Request-Id`.
    pub request_id: Option<String>,
    /// `Retry-After`.
    pub retry_after: Option<String>,
    /// `Location`, of a redirect.
    pub location: Option<String>,
    /// `Date`: the server's clock.
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

/// Decides what an answer to a GET of a job means; pure, so every rule has a unit test.
pub fn classify(reply: Reply, now: SystemTime) -> Result<Job, PollError> {
    classify_as(reply, now, |body, answered_at| {
        Job::parse(body).map(|job| Job { answered_at, ..job })
    })
}

/// Decides what an answer means, its 200 body read by `parse` (given the server's `Date`,
/// epoch milliseconds): any API's answer, the rules of [`classify`].
pub(crate) fn classify_as<T, E>(
    reply: Reply,
    now: SystemTime,
    parse: impl FnOnce(&[u8], Option<i64>) -> Result<T, E>,
) -> Result<T, PollError>
where
    E: std::error::Error + Send + Sync + 'static,
{
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
        return parse(&body, answered_at).map_err(|e| {
            let mut error = ApiError::new(
                ErrorKind::MalformedBody,
                "the answer is not what the API documents",
            )
            .with_source(e);
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
        // DCS's "invalid task id": how it may say that a job does not exist (yet).
        400 if error
            .code
            .as_deref()
            .map(dcs_form)
            .is_some_and(|c| c == "DCS.4070") =>
        {
            error.kind = ErrorKind::NotFound;
            Err(PollError::NotFound(error))
        }
        408 | 500..=599 => Err(PollError::transient(error)),
        300..=399 => {
            error.message = match answer.location {
                Some(to) => format!("the endpoint redirects to {to}; give that endpoint instead"),
                None => "the endpoint answered with a redirect; check the endpoint".into(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::job::Status;

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
        let answer = |body: &str| {
            interpret(
                &"job-1".parse().unwrap(),
                reply(200, body, AnswerHeaders::default()),
                now,
            )
        };
        match answer(r#"{"job_id": "job-2", "status": "SUCCESS"}"#) {
            Err(PollError::Final(error)) => {
                assert_eq!(error.kind, ErrorKind::JobIdMismatch);
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
            assert_eq!(err.api_error().kind, ErrorKind::MalformedBody);
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
        let mut error = ApiError::new(ErrorKind::Http, "throttled");
        error.code = Some("APIG.0308".into());
        error.http_status = Some(429);
        error.request_id = Some("rid".into());
        assert_eq!(
            err,
            PollError::Transient {
                error,
                retry_after: Some(Duration::from_secs(7)),
            }
        );
    }

    #[test]
    fn not_found_and_final_errors() {
        for (status, body) in [
            (404, "{}"),
            (
                400,
                r#"{"error_code": "DCS.4070", "error_msg": "Invalid task ID."}"#,
            ),
            (
                400,
                r#"{"error_code": "111400070", "error_msg": "Invalid job ID."}"#,
            ),
        ] {
            let answer = classify_plain(status, body);
            assert!(
                matches!(&answer, Err(PollError::NotFound(e)) if e.kind == ErrorKind::NotFound),
                "{status} {body}: {answer:?}"
            );
        }
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

    proptest::proptest! {
        /// The whole classification of an answer: any status, any body, any `Retry-After`,
        /// `Date` and request id. Only a 200 is a job; a `Retry-After` is capped.
        #[test]
        fn any_answer_is_classified(
            status in proptest::prop_oneof![proptest::arbitrary::any::<u16>(), 100u16..600],
            body in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..256),
            retry_after in proptest::option::of(".{0,32}"),
            date in proptest::option::of(".{0,32}"),
            request_id in proptest::option::of(".{0,40}"),
        ) {
            let headers = AnswerHeaders { request_id, retry_after, location: None, date };
            match classify(Reply { status, headers, body }, SystemTime::now()) {
                Ok(_) => proptest::prop_assert_eq!(status, 200),
                Err(PollError::Transient { retry_after: Some(after), .. }) => {
                    proptest::prop_assert!(after <= MAX_RETRY_AFTER)
                }
                Err(error) => {
                    let _ = error.to_string();
                }
            }
        }

        #[test]
        fn any_retry_after_is_capped(value in ".{0,40}", offset in proptest::arbitrary::any::<u32>()) {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(offset));
            if let Some(after) = parse_retry_after(&value, now) {
                proptest::prop_assert!(after <= MAX_RETRY_AFTER);
            }
        }
    }
}

//! The job as `GET /v2/{project_id}/jobs/{job_id}` reports it.
//!
//! Parsing is tolerant on purpose: the API documents every field as a string, but a
//! gateway, an older region or a future version may send numbers, `null`, empty strings or
//! nothing at all. None of that may turn a finished job into a failed wait, so every field
//! but `status` is optional and times accept both strings and numbers.

use super::untrusted::opt_text;
use serde::{Deserialize, Deserializer};
use std::fmt;

/// A job's `status`, keeping the raw text of values we do not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Queued, not started.
    Init,
    /// Running.
    Running,
    /// Finished, and it worked.
    Success,
    /// `FAIL` (what the API sends) or `FAILED` (what the product brief says); `raw` keeps which.
    Failed {
        /// The status as sent.
        raw: String,
    },
    /// Anything else: not finished, reported as sent.
    Unknown(String),
}

impl Status {
    /// Case and surrounding white space are forgiven; the text of an unknown value is kept.
    pub fn parse(raw: &str) -> Status {
        let trimmed = raw.trim();
        match trimmed.to_ascii_uppercase().as_str() {
            "INIT" => Status::Init,
            "RUNNING" => Status::Running,
            "SUCCESS" => Status::Success,
            "FAIL" | "FAILED" => Status::Failed {
                raw: trimmed.to_string(),
            },
            _ => Status::Unknown(raw.to_string()),
        }
    }

    /// The text to show and report for this status.
    pub fn as_str(&self) -> &str {
        match self {
            Status::Init => "INIT",
            Status::Running => "RUNNING",
            Status::Success => "SUCCESS",
            Status::Failed { raw } | Status::Unknown(raw) => raw,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One response body of the job API.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Job {
    /// The job this answer is about.
    #[serde(default, deserialize_with = "opt_text")]
    pub job_id: Option<String>,
    /// What kind of operation (`masterStandbySwapJob`, `extendDCSInstance`, …): an open set.
    #[serde(default, deserialize_with = "opt_text")]
    pub job_type: Option<String>,
    /// Where it is.
    #[serde(deserialize_with = "status")]
    pub status: Status,
    /// Epoch milliseconds.
    #[serde(default, deserialize_with = "opt_millis")]
    pub begin_time: Option<i64>,
    /// Epoch milliseconds.
    #[serde(default, deserialize_with = "opt_millis")]
    pub end_time: Option<i64>,
    /// Why it failed, in the API's words.
    #[serde(default, deserialize_with = "opt_text")]
    pub fail_reason: Option<String>,
    /// When the server answered (its `Date` header, epoch milliseconds): not part of the
    /// body, set by the client. With `begin_time` it tells the job's age by one clock.
    #[serde(skip)]
    pub answered_at: Option<i64>,
}

/// Why a 200 body is not a job.
#[derive(Debug, thiserror::Error)]
#[error("the job body is not valid: {0}")]
pub struct ParseError(#[from] serde_json::Error);

/// What `end_time − begin_time` says about a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobDuration {
    /// How long it ran.
    Millis(u64),
    /// The server reported an end before the beginning: never shown as a negative number.
    EndBeforeBegin {
        /// `begin_time`, epoch milliseconds.
        begin: i64,
        /// `end_time`, epoch milliseconds.
        end: i64,
    },
    /// One of the two times is missing.
    Unknown,
}

impl JobDuration {
    /// `end − begin`, in epoch milliseconds.
    pub fn between(begin: Option<i64>, end: Option<i64>) -> JobDuration {
        match (begin, end) {
            (Some(begin), Some(end)) if end >= begin => JobDuration::Millis(end.abs_diff(begin)),
            (Some(begin), Some(end)) => JobDuration::EndBeforeBegin { begin, end },
            _ => JobDuration::Unknown,
        }
    }
}

impl Job {
    /// Parses a 200 body. An empty or malformed body, or one without `status`, is an error.
    pub fn parse(body: &[u8]) -> Result<Job, ParseError> {
        Ok(serde_json::from_slice(body)?)
    }

    /// `end_time − begin_time`, or why there is none.
    pub fn duration(&self) -> JobDuration {
        JobDuration::between(self.begin_time, self.end_time)
    }

    /// How long ago the job began, by the server's clock, when the answer says.
    pub fn age(&self) -> Option<std::time::Duration> {
        let (begin, now) = (self.begin_time?, self.answered_at?);
        Some(std::time::Duration::from_millis(
            now.saturating_sub(begin).max(0) as u64,
        ))
    }

    /// `end_time − begin_time` in milliseconds, when both are known and in order.
    pub fn duration_ms(&self) -> Option<u64> {
        match self.duration() {
            JobDuration::Millis(ms) => Some(ms),
            _ => None,
        }
    }
}

fn status<'de, D: Deserializer<'de>>(d: D) -> Result<Status, D::Error> {
    match opt_text(d)? {
        Some(s) => Ok(Status::parse(&s)),
        None => Err(serde::de::Error::custom("status is null or empty")),
    }
}

/// Epoch milliseconds as a string or a number; null, empty or unreadable is "not known".
///
/// An unreadable time is not worth failing a wait over: the status decides the outcome and
/// the duration is then simply unknown.
fn opt_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(serde_json::Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let job = Job::parse(
            br#"{"job_id": "ff8080818822bbf70188235afc24141a", "job_type": "masterStandbySwapJob",
                 "status": "SUCCESS", "begin_time": "1684191545379", "end_time": "1684191548248",
                 "fail_reason": null}"#,
        )
        .unwrap();
        assert_eq!(job.status, Status::Success);
        assert_eq!(job.job_type.as_deref(), Some("masterStandbySwapJob"));
        assert_eq!(job.duration(), JobDuration::Millis(2869));
        assert_eq!(job.fail_reason, None);
    }

    #[test]
    fn times_as_numbers_null_absent_or_empty() {
        let job = Job::parse(br#"{"status":"RUNNING","begin_time":1000,"end_time":""}"#).unwrap();
        assert_eq!(job.begin_time, Some(1000));
        assert_eq!(job.end_time, None);
        assert_eq!(job.duration(), JobDuration::Unknown);
        let job = Job::parse(br#"{"status":"INIT","begin_time":null}"#).unwrap();
        assert_eq!((job.begin_time, job.end_time), (None, None));
        let job = Job::parse(br#"{"status":"SUCCESS","begin_time":"x","end_time":2.0}"#).unwrap();
        assert_eq!((job.begin_time, job.end_time), (None, Some(2)));
    }

    #[test]
    fn end_before_begin_is_an_anomaly_not_a_negative_duration() {
        let job =
            Job::parse(br#"{"status":"SUCCESS","begin_time":"2000","end_time":"1500"}"#).unwrap();
        assert_eq!(
            job.duration(),
            JobDuration::EndBeforeBegin {
                begin: 2000,
                end: 1500
            }
        );
        assert_eq!(job.duration_ms(), None);
    }

    #[test]
    fn fail_and_failed_are_failure_and_keep_their_text() {
        for raw in ["FAIL", "FAILED", "failed"] {
            let job = Job::parse(format!(r#"{{"status":"{raw}"}}"#).as_bytes()).unwrap();
            assert!(matches!(job.status, Status::Failed { .. }), "{raw}");
            assert_eq!(job.status.as_str(), raw);
        }
    }

    #[test]
    fn an_unknown_status_keeps_its_text() {
        let job = Job::parse(br#"{"status":"PAUSED"}"#).unwrap();
        assert_eq!(job.status, Status::Unknown("PAUSED".into()));
        assert_eq!(job.status.to_string(), "PAUSED");
    }

    #[test]
    fn malformed_bodies_are_errors() {
        for body in [
            &b""[..],
            b"{",
            b"<html>bad gateway</html>",
            b"{}",
            br#"{"status":null}"#,
            br#"{"status":""}"#,
            b"[]",
        ] {
            assert!(
                Job::parse(body).is_err(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn numbers_in_text_fields_are_kept_as_text() {
        let job = Job::parse(br#"{"status":"FAIL","fail_reason":42,"job_id":7}"#).unwrap();
        assert_eq!(job.fail_reason.as_deref(), Some("42"));
        assert_eq!(job.job_id.as_deref(), Some("7"));
    }
}

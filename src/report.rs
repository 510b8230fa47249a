//! What a wait found: one [`JobReport`] per job, and the exit code for them all. The formats
//! they are rendered in are in [`crate::export`].

use crate::api_error::ApiError;
use crate::job::{self, Job};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// How the wait for one job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failed,
    Timeout,
    Error,
    Interrupted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failed => "failed",
            Outcome::Timeout => "timeout",
            Outcome::Error => "error",
            Outcome::Interrupted => "interrupted",
        }
    }
}

/// One job's report: exactly the fields of the JSON contract, in its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobReport {
    pub job_id: String,
    pub job_type: Option<String>,
    /// The last raw status seen.
    pub status: Option<String>,
    pub outcome: Outcome,
    pub begin_time: Option<i64>,
    pub end_time: Option<i64>,
    pub duration_ms: Option<u64>,
    pub fail_reason: Option<String>,
    /// Requests made for this job.
    pub polls: u32,
    pub error: Option<ApiError>,
}

impl JobReport {
    /// The report for `job_id` after `polls` requests, `last` the last job seen.
    pub fn new(
        job_id: &str,
        outcome: Outcome,
        last: Option<&Job>,
        polls: u32,
        error: Option<ApiError>,
    ) -> JobReport {
        JobReport {
            job_id: job_id.to_string(),
            job_type: last.and_then(|j| j.job_type.clone()),
            status: last.map(|j| j.status.as_str().to_string()),
            outcome,
            begin_time: last.and_then(|j| j.begin_time),
            end_time: last.and_then(|j| j.end_time),
            duration_ms: last.and_then(Job::duration_ms),
            fail_reason: last.and_then(|j| j.fail_reason.clone()),
            polls,
            error,
        }
    }

    pub fn duration(&self) -> job::Duration {
        job::Duration::between(self.begin_time, self.end_time)
    }

    /// What a person needs to read after the status: why it failed or what went wrong.
    pub fn detail(&self) -> String {
        let mut detail = String::new();
        if let Some(reason) = &self.fail_reason {
            detail.push_str(reason);
        }
        if let Some(error) = &self.error {
            if !detail.is_empty() {
                detail.push_str("; ");
            }
            if self.outcome == Outcome::Timeout {
                detail.push_str("last error: ");
            }
            let _ = write!(detail, "{error}");
            if let Some(hint) = error.hint() {
                let _ = write!(detail, " — {hint}");
            }
        }
        if let job::Duration::EndBeforeBegin { .. } = self.duration() {
            if !detail.is_empty() {
                detail.push_str("; ");
            }
            detail.push_str("the server reported end_time before begin_time");
        }
        detail
    }
}

/// The process exit code, by the contract in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Every job SUCCESS.
    Success = 0,
    /// A job FAIL.
    JobFailed = 1,
    /// Usage or configuration error, before any request.
    Usage = 2,
    /// The deadline passed with a job unfinished.
    Timeout = 3,
    /// A job could not be read: auth, permission, not found past the grace period, bad request.
    Unreadable = 4,
    /// SIGINT.
    Interrupted = 130,
    /// SIGTERM.
    Terminated = 143,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The code one job's outcome gives on its own (an interruption counts as SIGINT).
    pub fn of(outcome: Outcome) -> ExitStatus {
        match outcome {
            Outcome::Success => ExitStatus::Success,
            Outcome::Failed => ExitStatus::JobFailed,
            Outcome::Timeout => ExitStatus::Timeout,
            Outcome::Error => ExitStatus::Unreadable,
            Outcome::Interrupted => ExitStatus::Interrupted,
        }
    }

    /// Several jobs: the first that applies of 4, 3, 1, 0. An interruption is handled by the
    /// caller, which knows the signal.
    pub fn of_all(reports: &[JobReport]) -> ExitStatus {
        [
            ExitStatus::Unreadable,
            ExitStatus::Timeout,
            ExitStatus::JobFailed,
        ]
        .into_iter()
        .find(|status| reports.iter().any(|r| ExitStatus::of(r.outcome) == *status))
        .unwrap_or(ExitStatus::Success)
    }
}

/// `2.869s`, `4m 05s`, `1h 02m 05s`.
pub fn human_duration(ms: u64) -> String {
    let secs = ms / 1000;
    match secs {
        0..=59 => format!("{}.{:03}s", secs, ms % 1000),
        60..=3599 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m {:02}s", secs / 3600, secs / 60 % 60, secs % 60),
    }
}

/// A report to render in tests: a swap that ran 2.869 s.
#[cfg(test)]
pub(crate) fn sample(outcome: Outcome) -> JobReport {
    let job = Job::parse(
        br#"{"job_id":"j1","job_type":"masterStandbySwapJob","status":"FAIL",
             "begin_time":"1684191545379","end_time":"1684191548248","fail_reason":"disk full"}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    JobReport::new("j1", outcome, Some(&job), 3, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_priority_is_4_3_1_0() {
        let mut all = vec![sample(Outcome::Success)];
        assert_eq!(ExitStatus::of_all(&all), ExitStatus::Success);
        all.push(sample(Outcome::Failed));
        assert_eq!(ExitStatus::of_all(&all), ExitStatus::JobFailed);
        all.push(sample(Outcome::Timeout));
        assert_eq!(ExitStatus::of_all(&all), ExitStatus::Timeout);
        all.insert(0, sample(Outcome::Error));
        assert_eq!(ExitStatus::of_all(&all).code(), 4);
        assert_eq!(ExitStatus::of_all(&[]), ExitStatus::Success);
    }

    #[test]
    fn end_before_begin_is_said_not_negative() {
        let job =
            Job::parse(br#"{"status":"SUCCESS","begin_time":"2000","end_time":"1000"}"#).unwrap();
        let r = JobReport::new("j", Outcome::Success, Some(&job), 1, None);
        assert_eq!(r.duration_ms, None);
        assert!(r.detail().contains("end_time before begin_time"));
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(2869), "2.869s");
        assert_eq!(human_duration(245_000), "4m 05s");
        assert_eq!(human_duration(3_725_000), "1h 02m 05s");
    }
}

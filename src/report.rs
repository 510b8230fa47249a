//! What a wait found, for people (aligned text), for machines (JSON Lines) and for the shell
//! (the exit code).

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

    fn duration(&self) -> job::Duration {
        job::Duration::between(self.begin_time, self.end_time)
    }

    /// What a person needs to read after the status: why it failed or what went wrong.
    fn detail(&self) -> String {
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

/// One JSON object per line.
pub fn json_lines(reports: &[JobReport]) -> String {
    let mut out = String::new();
    for report in reports {
        // A report holds only strings, numbers and options: serialising cannot fail.
        if let Ok(line) = serde_json::to_string(report) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// A header and one aligned line per job.
pub fn text(reports: &[JobReport]) -> String {
    let rows: Vec<[String; 6]> = reports
        .iter()
        .map(|r| {
            [
                r.job_id.clone(),
                r.job_type.clone().unwrap_or_else(|| "-".into()),
                r.status.clone().unwrap_or_else(|| "-".into()),
                r.outcome.as_str().to_string(),
                match r.duration() {
                    job::Duration::Millis(ms) => human_duration(ms),
                    _ => "-".into(),
                },
                r.polls.to_string(),
            ]
        })
        .collect();
    let header = ["JOB", "TYPE", "STATUS", "OUTCOME", "DURATION", "POLLS"].map(String::from);
    let mut widths = [0usize; 6];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let details =
        std::iter::once(String::from("DETAIL")).chain(reports.iter().map(JobReport::detail));
    for (row, detail) in std::iter::once(&header).chain(&rows).zip(details) {
        let mut line = String::new();
        for (cell, w) in row.iter().zip(widths) {
            let _ = write!(line, "{cell:<w$}  ");
        }
        line.push_str(&detail);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn report(outcome: Outcome) -> JobReport {
        let job = Job::parse(
            br#"{"job_id":"j1","job_type":"masterStandbySwapJob","status":"FAIL",
                 "begin_time":"1684191545379","end_time":"1684191548248","fail_reason":"disk full"}"#,
        )
        .unwrap();
        JobReport::new("j1", outcome, Some(&job), 3, None)
    }

    #[test]
    fn json_has_exactly_the_contract_fields_in_order() {
        let line = json_lines(&[report(Outcome::Failed)]);
        assert_eq!(
            line,
            "{\"job_id\":\"j1\",\"job_type\":\"masterStandbySwapJob\",\"status\":\"FAIL\",\
             \"outcome\":\"failed\",\"begin_time\":1684191545379,\"end_time\":1684191548248,\
             \"duration_ms\":2869,\"fail_reason\":\"disk full\",\"polls\":3,\"error\":null}\n"
        );
        let mut r = JobReport::new("j2", Outcome::Error, None, 1, None);
        r.error = Some(ApiError::from_response(
            403,
            br#"{"error_code":"111401003","error_msg":"no"}"#,
            Some("rid".into()),
        ));
        let v: serde_json::Value = serde_json::from_str(json_lines(&[r]).trim()).unwrap();
        assert_eq!(
            v["error"],
            serde_json::json!({"code":"111401003","message":"no","http_status":403,"request_id":"rid"})
        );
        assert_eq!(v["status"], serde_json::Value::Null);
    }

    #[test]
    fn exit_code_priority_is_4_3_1_0() {
        let mut all = vec![report(Outcome::Success)];
        assert_eq!(ExitStatus::of_all(&all), ExitStatus::Success);
        all.push(report(Outcome::Failed));
        assert_eq!(ExitStatus::of_all(&all), ExitStatus::JobFailed);
        all.push(report(Outcome::Timeout));
        assert_eq!(ExitStatus::of_all(&all), ExitStatus::Timeout);
        all.insert(0, report(Outcome::Error));
        assert_eq!(ExitStatus::of_all(&all).code(), 4);
        assert_eq!(ExitStatus::of_all(&[]), ExitStatus::Success);
    }

    #[test]
    fn text_is_aligned_and_carries_the_reason() {
        let mut other = report(Outcome::Success);
        other.job_id = "a-much-longer-job-id".into();
        other.fail_reason = None;
        other.status = Some("SUCCESS".into());
        let text = text(&[report(Outcome::Failed), other]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let col = |l: &str| l.find("masterStandbySwapJob").unwrap();
        assert_eq!(col(lines[1]), col(lines[2]));
        assert!(lines[1].contains("2.869s") && lines[1].ends_with("disk full"));
        assert!(lines[0].starts_with("JOB "));
    }

    #[test]
    fn end_before_begin_is_said_not_negative() {
        let job =
            Job::parse(br#"{"status":"SUCCESS","begin_time":"2000","end_time":"1000"}"#).unwrap();
        let r = JobReport::new("j", Outcome::Success, Some(&job), 1, None);
        assert_eq!(r.duration_ms, None);
        let text = text(&[r]);
        assert!(text.contains("end_time before begin_time"), "{text}");
        assert!(!text.contains("-1000"));
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(2869), "2.869s");
        assert_eq!(human_duration(245_000), "4m 05s");
        assert_eq!(human_duration(3_725_000), "1h 02m 05s");
    }
}

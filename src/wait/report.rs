//! What a wait found: one [`JobReport`] per job, and the exit code for them all. The formats
//! the command line renders them in are in its `export` module.

use super::error::WaitError;
use crate::api::untrusted::{capped, MAX_COMPOSED};
use crate::api::{BackupId, InstanceId, Job, JobDuration, JobId, RestoreId, TaskStatus};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// How the wait for one job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Outcome {
    /// The job ended `SUCCESS`.
    Success,
    /// The job ended `FAIL`.
    Failed,
    /// The deadline passed first.
    Timeout,
    /// The job could not be read: auth, permission, not found past the grace period, a bad
    /// request.
    Error,
    /// Stopped from outside (a signal, the caller's future, fail-fast).
    Interrupted,
}

impl Outcome {
    /// The word used in every report format.
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

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one wait is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Subject {
    /// A job, until it ends.
    Job(JobId),
    /// A master/standby swap to start on an instance, then its job (or its task) until it
    /// ends.
    Swap(InstanceId),
    /// An instance, until it is ready (or, for a swap's dry run, whether a swap could start).
    Instance(InstanceId),
    /// A backup of an instance: started, or followed by its id, until its record ends.
    Backup(InstanceId),
    /// A restore onto an instance: started, or followed by its id, until its record ends and
    /// the instance is ready again.
    Restore(InstanceId),
}

impl Subject {
    /// How it is named in logs and on the board: its id.
    pub fn name(&self) -> &str {
        match self {
            Subject::Job(job_id) => job_id.as_str(),
            Subject::Swap(instance_id)
            | Subject::Instance(instance_id)
            | Subject::Backup(instance_id)
            | Subject::Restore(instance_id) => instance_id.as_str(),
        }
    }

    fn job_id(&self) -> Option<&JobId> {
        match self {
            Subject::Job(job_id) => Some(job_id),
            _ => None,
        }
    }

    fn instance_id(&self) -> Option<&InstanceId> {
        match self {
            Subject::Job(_) => None,
            Subject::Swap(instance_id)
            | Subject::Instance(instance_id)
            | Subject::Backup(instance_id)
            | Subject::Restore(instance_id) => Some(instance_id),
        }
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Job(job_id) => write!(f, "job {job_id}"),
            Subject::Swap(instance_id)
            | Subject::Instance(instance_id)
            | Subject::Backup(instance_id)
            | Subject::Restore(instance_id) => write!(f, "instance {instance_id}"),
        }
    }
}

/// A background task as an instance wait saw it last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TaskSeen {
    /// Its name (`EXTEND`, `masterStandbySwapJob`, …).
    pub name: Option<String>,
    /// Its status (`EXECUTING`, `SUCCESS`, `FAILED`, …).
    pub status: String,
    /// When it was created, epoch milliseconds.
    pub created: Option<i64>,
    /// When it last changed, epoch milliseconds.
    pub updated: Option<i64>,
    /// Its details as the API sent them (an object that describes the change), strings
    /// made printable.
    pub details: Option<crate::api::Details>,
}

impl TaskSeen {
    /// How long it took, once it ended: updated − created, in milliseconds.
    pub fn duration_ms(&self) -> Option<u64> {
        match (self.created, self.updated) {
            (Some(created), Some(updated)) if !TaskStatus::parse(&self.status).is_in_progress() => {
                u64::try_from(updated.checked_sub(created)?).ok()
            }
            _ => None,
        }
    }
}

/// One wait's report: exactly the fields of the JSON contract, in its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct JobReport {
    /// The job waited on: the one given, or the one a swap started (null when none did).
    pub job_id: Option<JobId>,
    /// The instance, for a swap or an instance wait; null for a plain job wait.
    pub instance_id: Option<InstanceId>,
    /// The backup started or followed; absent from other reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_id: Option<BackupId>,
    /// The restore started or followed; absent from other reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_id: Option<RestoreId>,
    /// Its `job_type`, once seen (`masterStandbySwapJob`, …).
    pub job_type: Option<String>,
    /// The last raw status seen.
    pub status: Option<String>,
    /// How the wait ended.
    pub outcome: Outcome,
    /// `begin_time`, epoch milliseconds.
    pub begin_time: Option<i64>,
    /// `end_time`, epoch milliseconds.
    pub end_time: Option<i64>,
    /// `end_time − begin_time`, when both are known and in order.
    pub duration_ms: Option<u64>,
    /// A backup's size in bytes, once its record says; absent from other reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// Why the job failed, in the API's words.
    pub fail_reason: Option<String>,
    /// For an instance wait: the background tasks that count as the operation waited for
    /// (created within `--since`); null otherwise.
    pub tasks: Option<Vec<TaskSeen>>,
    /// Requests made for this job.
    pub polls: u32,
    /// For a backup or a restore: whether this run started it (else it was followed by its
    /// id, or it is unknown whether it started); absent from other reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<bool>,
    /// What went wrong, when something did: a failed request, or what the wait concluded.
    pub error: Option<WaitError>,
}

impl JobReport {
    /// The report on `subject` after `polls` requests, `last` the last job seen.
    pub(crate) fn new(
        subject: &Subject,
        outcome: Outcome,
        last: Option<&Job>,
        polls: u32,
        error: Option<WaitError>,
    ) -> JobReport {
        JobReport {
            job_id: subject.job_id().cloned(),
            instance_id: subject.instance_id().cloned(),
            backup_id: None,
            restore_id: None,
            job_type: last.and_then(|j| j.job_type.clone()),
            status: last.map(|j| j.status.as_str().to_string()),
            outcome,
            begin_time: last.and_then(|j| j.begin_time),
            end_time: last.and_then(|j| j.end_time),
            duration_ms: last.and_then(Job::duration_ms),
            size_bytes: None,
            fail_reason: last.and_then(|j| j.fail_reason.clone()),
            tasks: None,
            polls,
            started: None,
            error,
        }
    }

    /// The report of a wait that could not begin (no client, say): an error, no request
    /// made. A program that waits on several gives each one, as the command line does.
    pub fn not_begun(subject: &Subject, error: impl Into<WaitError>) -> JobReport {
        JobReport::new(subject, Outcome::Error, None, 0, Some(error.into()))
    }

    /// How it is named: the instance, else the job.
    pub fn name(&self) -> &str {
        match (&self.instance_id, &self.job_id) {
            (Some(instance_id), _) => instance_id.as_str(),
            (None, Some(job_id)) => job_id.as_str(),
            (None, None) => "-",
        }
    }

    /// What the operation waited on is known by: its job, backup or restore id.
    pub fn operation_id(&self) -> Option<&str> {
        self.job_id
            .as_ref()
            .map(JobId::as_str)
            .or(self.backup_id.as_ref().map(BackupId::as_str))
            .or(self.restore_id.as_ref().map(RestoreId::as_str))
    }

    /// `end_time − begin_time`, or why there is none.
    pub fn duration(&self) -> JobDuration {
        JobDuration::between(self.begin_time, self.end_time)
    }

    /// What a person needs to read after the status: why it failed or what went wrong, cut
    /// at 1 000 characters and marked (the JSON report keeps each part whole).
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
            let _ = match error {
                WaitError::Request(error) => write!(detail, "{}", error.with_causes()),
                other => write!(detail, "{other}"),
            };
        }
        if let JobDuration::EndBeforeBegin { .. } = self.duration() {
            if !detail.is_empty() {
                detail.push_str("; ");
            }
            detail.push_str("the server reported end_time before begin_time");
        }
        capped(detail, MAX_COMPOSED)
    }
}

/// The process exit code, by the contract in the README ("Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
    /// The process exit code.
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

/// A report for the tests below: a swap that ran 2.869 s.
#[cfg(test)]
fn sample(outcome: Outcome) -> JobReport {
    let job = Job::parse(
        br#"{"job_id":"j1","job_type":"masterStandbySwapJob","status":"FAIL",
             "begin_time":"1684191545379","end_time":"1684191548248","fail_reason":"disk full"}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    JobReport::new(
        &Subject::Job("j1".parse().unwrap()),
        outcome,
        Some(&job),
        3,
        None,
    )
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
        let r = JobReport::new(
            &Subject::Job("j".parse().unwrap()),
            Outcome::Success,
            Some(&job),
            1,
            None,
        );
        assert_eq!(r.duration_ms, None);
        assert!(r.detail().contains("end_time before begin_time"));
    }
}

/// Fuzzing of what a report makes of any job body: the parser never panics, a duration is
/// only ever end − begin, and whatever the server sent, the text a report shows holds no
/// control character (an escape sequence, a forged log line) or bidirectional override.
/// The formats the command line renders reports in are fuzzed beside them (`src/cli/fuzz.rs`).
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// Every outcome's report of `job`: only printable text in what a person reads.
    fn reports_are_printable(job: &Job) -> Result<(), TestCaseError> {
        let printable = |text: &str| {
            !text
                .chars()
                .any(|c| c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c))
        };
        for outcome in [
            Outcome::Success,
            Outcome::Failed,
            Outcome::Timeout,
            Outcome::Error,
        ] {
            let report = JobReport::new(
                &Subject::Job("job-1".parse().unwrap()),
                outcome,
                Some(job),
                3,
                None,
            );
            let shown = [
                report.detail(),
                report.status.clone().unwrap_or_default(),
                report.job_type.clone().unwrap_or_default(),
            ];
            for text in shown {
                prop_assert!(printable(&text), "{text:?}");
            }
        }
        Ok(())
    }

    /// Strings a server might put where a number or a date belongs.
    fn field_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(|n| Value::String(n.to_string())),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            Just(Value::String("9223372036854775808".into())),
            Just(Value::String("-9223372036854775808".into())),
            Just(Value::String("1.5e3".into())),
            Just(Value::String(String::new())),
            any::<bool>().prop_map(Value::Bool),
            ".{0,40}".prop_map(Value::String),
            Just(serde_json::json!({"nested": [1, 2]})),
        ]
    }

    /// Job bodies near the documented shape: every field present or not, of any type.
    fn job_body() -> impl Strategy<Value = Vec<u8>> {
        let status = prop_oneof![
            Just("SUCCESS".to_string()),
            Just("FAIL".to_string()),
            Just("FAILED".to_string()),
            Just("RUNNING".to_string()),
            Just("INIT".to_string()),
            ".{0,12}",
        ];
        (
            proptest::option::of(status),
            proptest::collection::vec(
                (
                    prop_oneof![
                        Just("job_id"),
                        Just("job_type"),
                        Just("begin_time"),
                        Just("end_time"),
                        Just("fail_reason"),
                        Just("extra"),
                    ],
                    field_value(),
                ),
                0..6,
            ),
        )
            .prop_map(|(status, fields)| {
                let mut body = serde_json::Map::new();
                if let Some(status) = status {
                    body.insert("status".into(), status.into());
                }
                for (name, value) in fields {
                    body.insert(name.into(), value);
                }
                serde_json::to_vec(&body).unwrap_or_default()
            })
    }

    proptest! {
        #![proptest_config(crate::common::proptest_config(2_000))]

        #[test]
        fn any_bytes_as_a_job_body(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(job) = Job::parse(&body) {
                let _ = (job.duration(), job.age(), job.duration_ms());
                reports_are_printable(&job)?;
            }
        }

        #[test]
        fn job_bodies_of_any_field_type(body in job_body(), answered_at in any::<Option<i64>>()) {
            if let Ok(job) = Job::parse(&body) {
                let job = Job { answered_at, ..job };
                let _ = job.age();
                // A duration is only ever end − begin, never negative.
                if let Some(ms) = job.duration_ms() {
                    let (begin, end) = (job.begin_time.unwrap(), job.end_time.unwrap());
                    prop_assert!(end >= begin);
                    prop_assert_eq!(ms as i128, end as i128 - begin as i128);
                }
                reports_are_printable(&job)?;
            }
        }
    }
}

//! An instance and its background tasks, as the API describes them: what a swap's start is
//! checked against, and what says an instance is really ready.
//!
//! `GET /v2/{project_id}/instances/{instance_id}` gives many fields; these are the few a wait
//! reads. `GET …/tasks` lists background tasks with times as RFC 3339 text and `task_count` as
//! a string. Every text is made printable where it is parsed, like a job's.

use super::job::{Job, Status};
use super::untrusted::{capped, opt_text, printable_json, MAX_COMPOSED};
use serde::{Deserialize, Deserializer, Serialize};

/// The task a master/standby swap runs as.
pub const SWAP_TASK: &str = "masterStandbySwapJob";

/// An instance, as far as a wait needs it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Instance {
    /// Its id, as the answer gives it.
    #[serde(default, deserialize_with = "opt_text")]
    pub instance_id: Option<String>,
    /// Its name.
    #[serde(default, deserialize_with = "opt_text")]
    pub name: Option<String>,
    /// `RUNNING`, `EXTENDING`, `RESTARTING`, `ERROR`, `FROZEN`, … (as sent).
    #[serde(default, deserialize_with = "opt_text")]
    pub status: Option<String>,
    /// `single`, `ha`, `ha_rw_split`, `proxy`, `cluster`.
    #[serde(default, deserialize_with = "opt_text")]
    pub cache_mode: Option<String>,
    /// `Redis`, `Memcached`.
    #[serde(default, deserialize_with = "opt_text")]
    pub engine: Option<String>,
    /// `5.0`, `6.0`, …
    #[serde(default, deserialize_with = "opt_text")]
    pub engine_version: Option<String>,
}

impl Instance {
    /// Parses a 200 body.
    pub(crate) fn parse(body: &[u8]) -> Result<Instance, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Whether its status is `RUNNING`.
    pub fn is_running(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case("RUNNING"))
    }
}

/// Where a background task is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskStatus {
    /// Accepted, not started.
    Created,
    /// Queued.
    Waiting,
    /// Running.
    Executing,
    /// Ended, and it worked.
    Success,
    /// Ended, and it did not.
    Failed,
    /// Ended: called off before it was done (a status sibling services document).
    Cancelled,
    /// Ended: removed before it was done.
    Deleted,
    /// A status no document names: not known to have ended, so counted as in progress;
    /// kept as sent.
    Other(String),
}

impl TaskStatus {
    pub(crate) fn parse(raw: &str) -> TaskStatus {
        match raw.trim().to_ascii_uppercase().as_str() {
            "CREATED" => TaskStatus::Created,
            "WAITING" => TaskStatus::Waiting,
            "EXECUTING" => TaskStatus::Executing,
            "SUCCESS" => TaskStatus::Success,
            "FAILED" => TaskStatus::Failed,
            "CANCELLED" | "CANCELED" => TaskStatus::Cancelled,
            "DELETED" => TaskStatus::Deleted,
            _ => TaskStatus::Other(raw.to_string()),
        }
    }

    /// The text to show for it.
    pub fn as_str(&self) -> &str {
        match self {
            TaskStatus::Created => "CREATED",
            TaskStatus::Waiting => "WAITING",
            TaskStatus::Executing => "EXECUTING",
            TaskStatus::Success => "SUCCESS",
            TaskStatus::Failed => "FAILED",
            TaskStatus::Cancelled => "CANCELLED",
            TaskStatus::Deleted => "DELETED",
            TaskStatus::Other(raw) => raw,
        }
    }

    /// `CREATED`, `WAITING`, `EXECUTING`, or a status no document names.
    pub fn is_in_progress(&self) -> bool {
        matches!(
            self,
            TaskStatus::Created
                | TaskStatus::Waiting
                | TaskStatus::Executing
                | TaskStatus::Other(_)
        )
    }

    /// Ended without doing what it was for: `FAILED`, `CANCELLED` or `DELETED`.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            TaskStatus::Failed | TaskStatus::Cancelled | TaskStatus::Deleted
        )
    }
}

/// One background task of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Task {
    /// Its id (not documented to equal a job id).
    #[serde(default, deserialize_with = "opt_text")]
    pub id: Option<String>,
    /// What it does: `masterStandbySwapJob`, `EXTEND`, `BindEip`, … (an open set).
    #[serde(default, deserialize_with = "opt_text")]
    pub name: Option<String>,
    /// Where it is.
    #[serde(deserialize_with = "task_status")]
    pub status: TaskStatus,
    /// When it was created, epoch milliseconds.
    #[serde(default, deserialize_with = "opt_time")]
    pub created_at: Option<i64>,
    /// When it last changed, epoch milliseconds: its end, once it has ended.
    #[serde(default, deserialize_with = "opt_time")]
    pub updated_at: Option<i64>,
    /// Its details as sent (an object that describes the change — `old_capacity`,
    /// `new_capacity`, … — or a text), each string made printable; none when empty. See
    /// [`details_in_words`](Task::details_in_words).
    #[serde(default, deserialize_with = "opt_details")]
    pub details: Option<Details>,
}

impl Task {
    /// The task as a job, so that the wait loop can follow it: in progress is `RUNNING`
    /// (`INIT` before it executes), its times are its creation and, once ended, its last
    /// change, and a failure's reason is its details.
    pub fn as_job(&self, answered_at: Option<i64>) -> Job {
        let ended = !self.status.is_in_progress();
        Job {
            job_id: None,
            job_type: self.name.clone(),
            status: match &self.status {
                TaskStatus::Created | TaskStatus::Waiting => Status::Init,
                TaskStatus::Executing => Status::Running,
                TaskStatus::Success => Status::Success,
                failed @ (TaskStatus::Failed | TaskStatus::Cancelled | TaskStatus::Deleted) => {
                    Status::Failed {
                        raw: failed.as_str().into(),
                    }
                }
                TaskStatus::Other(raw) => Status::Unknown(raw.clone()),
            },
            begin_time: self.created_at,
            end_time: self.updated_at.filter(|_| ended),
            fail_reason: self.failure(),
            answered_at,
        }
    }

    /// Why it did not do what it was for, once it ended so: its name, its status and its
    /// details in words (`task EXTEND FAILED (capacity 2 → 4 GB)`).
    pub fn failure(&self) -> Option<String> {
        if !self.status.is_failure() {
            return None;
        }
        let name = self.name.as_deref().unwrap_or("(unnamed)");
        let mut reason = format!("task {name} {}", self.status.as_str());
        if let Some(words) = self.details_in_words() {
            reason.push_str(&format!(" ({words})"));
        }
        Some(capped(reason, MAX_COMPOSED))
    }

    /// Its details said in words: the changes the API documents as `old_…`/`new_…` pairs
    /// (`capacity 2 → 4 GB`, `replicas 1 → 2`), then any other field as `name value`; a text
    /// as it is.
    pub fn details_in_words(&self) -> Option<String> {
        use serde_json::Value;
        let fields = match &self.details.as_ref()?.0 {
            Value::Object(fields) => fields,
            Value::String(text) => return Some(text.clone()),
            other => return Some(other.to_string()),
        };
        let word = |value: &Value| match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let mut said = Vec::new();
        let mut paired = Vec::new();
        for (field, label, unit) in CHANGES {
            let (old, new) = (format!("old_{field}"), format!("new_{field}"));
            if let (Some(from), Some(to)) = (fields.get(&old), fields.get(&new)) {
                said.push(format!("{label} {} → {}{unit}", word(from), word(to)));
                paired.extend([old, new]);
            }
        }
        for (field, value) in fields {
            if !paired.contains(field) && !value.is_null() {
                said.push(format!("{field} {}", word(value)));
            }
        }
        (!said.is_empty()).then(|| said.join(", "))
    }
}

/// The changes a task's details describe as `old_…`/`new_…` pairs (the SDK's
/// `DetailsBody`): the field, its name in words, its unit.
const CHANGES: &[(&str, &str, &str)] = &[
    ("capacity", "capacity", " GB"),
    ("resource_spec_code", "spec", ""),
    ("replica_num", "replicas", ""),
    ("cache_mode", "mode", ""),
    ("port", "port", ""),
];

/// The answer of the task list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TaskList {
    /// The tasks, newest first as the API sends them.
    #[serde(default)]
    pub tasks: Vec<Task>,
    /// When the server answered (its `Date`, epoch milliseconds): set by the client.
    #[serde(skip)]
    pub answered_at: Option<i64>,
}

impl TaskList {
    /// Parses a 200 body.
    pub(crate) fn parse(body: &[u8]) -> Result<TaskList, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

fn task_status<'de, D: Deserializer<'de>>(d: D) -> Result<TaskStatus, D::Error> {
    match opt_text(d)? {
        Some(s) => Ok(TaskStatus::parse(&s)),
        None => Err(serde::de::Error::custom("a task's status is null or empty")),
    }
}

/// RFC 3339 text (`2020-06-17T07:38:42.503Z`), or epoch milliseconds; unreadable is unknown.
pub(super) fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => s
            .trim()
            .parse::<jiff::Timestamp>()
            .ok()
            .map(|t| t.as_millisecond())
            .or_else(|| s.trim().parse::<i64>().ok()),
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        _ => None,
    })
}

fn opt_details<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Details>, D::Error> {
    use serde_json::Value;
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::Object(o)) if o.is_empty() => None,
        Some(sent) => Some(Details(printable_json(sent))),
    })
}

/// A task's details as the API sent them — an object that describes the change, or a
/// failure's reason — read from an answer with every string made printable. Written back as
/// the same JSON (a report's `tasks[].details`, dcs-sim's answers); said in words by
/// the wait (`Task::details_in_words`). What dcs-sim is to send deserializes as it is
/// (`serde_json::from_value::<Details>(json)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Details(pub(crate) serde_json::Value);

impl Details {
    /// A reason, as the API gives a failed task's, kept as it is.
    pub fn text(reason: &str) -> Details {
        Details(serde_json::Value::String(reason.to_string()))
    }
}

/// As compact JSON.
impl std::fmt::Display for Details {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_shapes() {
        let list = TaskList::parse(
            br#"{"task_count": "2", "tasks": [
                {"id": "t2", "name": "masterStandbySwapJob", "user_name": "u", "user_id": "x",
                 "params": "", "status": "EXECUTING", "created_at": "2020-06-17T07:38:42.503Z",
                 "updated_at": "2020-06-17T07:38:44.071Z", "enable_show": true, "details": {}},
                {"id": "t1", "name": "EXTEND", "status": "FAILED",
                 "created_at": "2020-06-17T07:00:00Z", "updated_at": "2020-06-17T07:01:00Z",
                 "details": "EXTEND FAILED: \u001b[31mno capacity"}]}"#,
        )
        .unwrap();
        let swap = &list.tasks[0];
        assert_eq!(swap.name.as_deref(), Some(SWAP_TASK));
        assert!(swap.status.is_in_progress());
        assert_eq!(swap.created_at, Some(1_592_379_522_503));
        assert_eq!(swap.details, None);
        let job = swap.as_job(Some(1_592_379_530_000));
        assert_eq!((job.status, job.end_time), (Status::Running, None));
        let failed = list.tasks[1].as_job(None);
        assert!(matches!(failed.status, Status::Failed { .. }));
        assert_eq!(failed.duration_ms(), Some(60_000));
        let reason = failed.fail_reason.unwrap();
        assert!(
            reason.starts_with("task EXTEND FAILED (EXTEND FAILED") && !reason.contains('\u{1b}')
        );
        for (status, ended, failure) in [
            ("CANCELLED", true, true),
            ("canceled", true, true),
            ("DELETED", true, true),
            ("SUCCESS", true, false),
            ("PAUSED", false, false),
        ] {
            let task = TaskStatus::parse(status);
            assert_eq!(!task.is_in_progress(), ended, "{status}");
            assert_eq!(task.is_failure(), failure, "{status}");
        }

        let instance = Instance::parse(
            br#"{"instance_id": "i-1", "name": "cache", "status": "RUNNING", "cache_mode": "ha",
                 "engine": "Redis", "engine_version": "6.0", "capacity": 2}"#,
        )
        .unwrap();
        assert!(instance.is_running());
        assert_eq!(instance.cache_mode.as_deref(), Some("ha"));
        assert!(!Instance::parse(br#"{"status": "EXTENDING"}"#)
            .unwrap()
            .is_running());
    }

    #[test]
    fn details_are_said_in_words_and_kept_as_sent() {
        let list = TaskList::parse(
            br#"{"tasks": [{"name": "EXTEND", "status": "FAILED",
                 "details": {"old_capacity": "2", "new_capacity": "4", "old_replica_num": 1,
                             "new_replica_num": 2, "node_name": "n\u001b1", "enable_ssl": null}}]}"#,
        )
        .unwrap();
        let task = &list.tasks[0];
        assert_eq!(
            task.failure().as_deref(),
            Some("task EXTEND FAILED (capacity 2 → 4 GB, replicas 1 → 2, node_name n\\u{1b}1)")
        );
        assert_eq!(task.details.as_ref().unwrap().0["new_capacity"], "4");
    }
}

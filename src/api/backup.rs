//! Backups and restores as their records say: neither returns a job, and neither has a GET
//! by id. `GET …/instances/{id}/backups` and `…/restores` list records, newest first, ten to
//! a page unless `limit` says more, and answer 204 with no body when there is none.
//!
//! A record's `error_code` comes as a string (the SDK), as `{}` (the API's own example) or
//! null; its times as RFC 3339 text; its `size` as a number. Every text is made printable
//! where it is parsed, like a job's.

use super::answer::{classify_as, PollError};
use super::client::Client;
use super::ids::{BackupId, InstanceId, RestoreId};
use super::instance::opt_time;
use super::job::{Job, Status};
use super::start::{classify_start, parse_id, Start};
use super::untrusted::{opt_text, printable};
use ::http::Method;
use serde::{Deserialize, Deserializer};
use std::time::SystemTime;

/// Where a backup or restore record is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordStatus {
    /// Queued.
    Waiting,
    /// Running: `backuping` for a backup, `restoring` for a restore.
    InProgress(String),
    /// Done.
    Succeed,
    /// Ended without doing it.
    Failed,
    /// A backup kept past its retention.
    Expired,
    /// A backup deleted.
    Deleted,
    /// Not a documented status: not finished, kept as sent.
    Other(String),
}

impl RecordStatus {
    /// The status of `raw`, as the API spells it (lower case; any case is read).
    pub fn parse(raw: &str) -> RecordStatus {
        match raw.trim().to_ascii_lowercase().as_str() {
            "waiting" => RecordStatus::Waiting,
            "backuping" | "restoring" => RecordStatus::InProgress(raw.trim().to_string()),
            "succeed" => RecordStatus::Succeed,
            "failed" => RecordStatus::Failed,
            "expired" => RecordStatus::Expired,
            "deleted" => RecordStatus::Deleted,
            _ => RecordStatus::Other(raw.to_string()),
        }
    }

    /// As the API spells it.
    pub fn as_str(&self) -> &str {
        match self {
            RecordStatus::Waiting => "waiting",
            RecordStatus::InProgress(raw) | RecordStatus::Other(raw) => raw,
            RecordStatus::Succeed => "succeed",
            RecordStatus::Failed => "failed",
            RecordStatus::Expired => "expired",
            RecordStatus::Deleted => "deleted",
        }
    }

    /// Whether it ended without doing what it was for: `failed`, `expired` or `deleted`.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            RecordStatus::Failed | RecordStatus::Expired | RecordStatus::Deleted
        )
    }

    /// Whether it ended, either way.
    pub fn is_final(&self) -> bool {
        *self == RecordStatus::Succeed || self.is_failure()
    }
}

/// A record followed as a job, the way waits follow jobs (`kind` is its job type:
/// `backup`, `restore`): `waiting` is `INIT`, in progress is `RUNNING`, `succeed` is
/// `SUCCESS`, `failed`/`expired`/`deleted` are a failure whose reason is the error code in
/// words; its times are its creation and, once ended, its last change.
fn record_job(
    kind: &str,
    status: &RecordStatus,
    created_at: Option<i64>,
    updated_at: Option<i64>,
    error_code: Option<&str>,
    answered_at: Option<i64>,
) -> Job {
    let fail_reason = status.is_failure().then(|| match error_code {
        Some(code) => error_in_words(code),
        None => format!("the {kind} ended {}", status.as_str()),
    });
    Job {
        job_id: None,
        job_type: Some(kind.to_string()),
        status: match status {
            RecordStatus::Waiting => Status::Init,
            RecordStatus::InProgress(_) => Status::Running,
            RecordStatus::Succeed => Status::Success,
            failed @ (RecordStatus::Failed | RecordStatus::Expired | RecordStatus::Deleted) => {
                Status::Failed {
                    raw: failed.as_str().to_string(),
                }
            }
            RecordStatus::Other(raw) => Status::Unknown(raw.clone()),
        },
        begin_time: created_at,
        end_time: updated_at.filter(|_| status.is_final()),
        fail_reason,
        answered_at,
    }
}

impl BackupRecord {
    /// It, followed as a job of type `backup` (see [`RecordStatus`]).
    pub fn as_job(&self, answered_at: Option<i64>) -> Job {
        let code = self.error_code.as_deref();
        record_job(
            "backup",
            &self.status,
            self.created_at,
            self.updated_at,
            code,
            answered_at,
        )
    }
}

impl RestoreRecord {
    /// It, followed as a job of type `restore` (see [`RecordStatus`]).
    pub fn as_job(&self, answered_at: Option<i64>) -> Job {
        let code = self.error_code.as_deref();
        record_job(
            "restore",
            &self.status,
            self.created_at,
            self.updated_at,
            code,
            answered_at,
        )
    }
}

/// What the error codes of a failed record mean, as DCS documents them.
pub const RECORD_ERRORS: &[(&str, &str)] = &[
    ("dcs.08.0001", "the backup tool failed to start"),
    ("dcs.08.0002", "execution timed out"),
    ("dcs.08.0003", "deleting the bucket failed"),
    ("dcs.08.0004", "getting the AK/SK failed"),
    ("dcs.08.0005", "creating the bucket failed"),
    ("dcs.08.0006", "reading the backup size failed"),
    ("dcs.08.0007", "syncing data during a restore failed"),
    (
        "dcs.08.0008",
        "the scheduled backup did not run because the instance was running other tasks",
    ),
];

/// A record's error code and its meaning in words: `dcs.08.0002: execution timed out`, or
/// the code alone when DCS documents no meaning for it.
pub fn error_in_words(code: &str) -> String {
    match RECORD_ERRORS
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(code.trim()))
    {
        Some((known, meaning)) => format!("{known}: {meaning}"),
        None => code.to_string(),
    }
}

/// One backup, as its record says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BackupRecord {
    /// Its id.
    #[serde(default, deserialize_with = "opt_text")]
    pub backup_id: Option<String>,
    /// Its name (`backup_20190510163116`).
    #[serde(default, deserialize_with = "opt_text")]
    pub backup_name: Option<String>,
    /// Where it is.
    #[serde(deserialize_with = "record_status")]
    pub status: RecordStatus,
    /// When it was created, epoch milliseconds.
    #[serde(default, deserialize_with = "opt_time")]
    pub created_at: Option<i64>,
    /// When it last changed (when it completed, once it has), epoch milliseconds.
    #[serde(default, deserialize_with = "opt_time")]
    pub updated_at: Option<i64>,
    /// Its size in bytes.
    #[serde(default, deserialize_with = "opt_size")]
    pub size: Option<u64>,
    /// `manual` or `auto` (scheduled).
    #[serde(default, deserialize_with = "opt_text")]
    pub backup_type: Option<String>,
    /// `rdb` or `aof`.
    #[serde(default, deserialize_with = "opt_text")]
    pub backup_format: Option<String>,
    /// The caller's remark.
    #[serde(default, deserialize_with = "opt_text")]
    pub remark: Option<String>,
    /// The error code of a failed one; none for `{}`, null or empty.
    #[serde(default, deserialize_with = "opt_code")]
    pub error_code: Option<String>,
    /// Whether a restore from it is allowed (`"TRUE"`, `"FALSE"`).
    #[serde(default, deserialize_with = "opt_flag")]
    pub is_support_restore: Option<bool>,
}

/// One restore, as its record says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RestoreRecord {
    /// Its id.
    #[serde(default, deserialize_with = "opt_text")]
    pub restore_id: Option<String>,
    /// The backup it restores.
    #[serde(default, deserialize_with = "opt_text")]
    pub backup_id: Option<String>,
    /// Where it is.
    #[serde(deserialize_with = "record_status")]
    pub status: RecordStatus,
    /// When it was created, epoch milliseconds.
    #[serde(default, deserialize_with = "opt_time")]
    pub created_at: Option<i64>,
    /// When it last changed, epoch milliseconds.
    #[serde(default, deserialize_with = "opt_time")]
    pub updated_at: Option<i64>,
    /// The caller's remark.
    #[serde(default, deserialize_with = "opt_text")]
    pub restore_remark: Option<String>,
    /// The error code of a failed one; none for `{}`, null or empty.
    #[serde(default, deserialize_with = "opt_code")]
    pub error_code: Option<String>,
}

/// A page of a record list, and how many records there are in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordPage<T> {
    /// The records of this page, newest first.
    pub records: Vec<T>,
    /// How many records match, on every page together.
    pub total: u64,
    /// When the server answered (its `Date`, epoch milliseconds).
    pub answered_at: Option<i64>,
}

impl<T> RecordPage<T> {
    /// The page of a 204: no record at all.
    pub fn empty(answered_at: Option<i64>) -> RecordPage<T> {
        RecordPage {
            records: Vec::new(),
            total: 0,
            answered_at,
        }
    }
}

/// Which records of a list to read: created since `since` (by the server's clock; the API
/// counts whole seconds), from the `offset`-th, at most `limit` (1 to 1 000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Only records created since then.
    pub since: Option<std::time::SystemTime>,
    /// How many to skip.
    pub offset: u32,
    /// How many at most.
    pub limit: u32,
}

impl Default for Page {
    /// The first hundred, of any age.
    fn default() -> Page {
        Page {
            since: None,
            offset: 0,
            limit: 100,
        }
    }
}

/// A backup's settings.
///
/// # Default
///
/// - format: none, the instance's own
/// - remark: none (the record's remark still holds dcs-wait's mark of the start)
///
/// ```
/// let request = dcs_wait::BackupRequest::default()
///     .with_format("rdb")
///     .with_remark("before the deploy");
/// assert_eq!(request.format.as_deref(), Some("rdb"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupRequest {
    /// `rdb` or `aof`.
    pub format: Option<String>,
    /// Free text kept with the record.
    pub remark: Option<String>,
}

impl BackupRequest {
    /// The backup's format: `rdb` or `aof`.
    pub fn with_format(mut self, format: impl Into<String>) -> Self {
        self.format = Some(format.into());
        self
    }

    /// Free text kept with the record.
    pub fn with_remark(mut self, remark: impl Into<String>) -> Self {
        self.remark = Some(remark.into());
        self
    }
}

impl Client {
    /// Starts a manual backup: one `POST …/backups`, never repeated here. The answer says
    /// what it proves ([`Start`]): only [`Start::NotStarted`] and [`Start::Busy`] allow
    /// another call.
    pub(crate) async fn start_backup(
        &self,
        instance_id: &InstanceId,
        request: &BackupRequest,
    ) -> Start<BackupId> {
        let mut body = serde_json::Map::new();
        if let Some(format) = &request.format {
            body.insert("backup_format".into(), format.clone().into());
        }
        if let Some(remark) = &request.remark {
            body.insert("remark".into(), remark.clone().into());
        }
        let body = serde_json::Value::Object(body).to_string();
        let url = self.instance_path(instance_id, "backups");
        let sent = self.send(&Method::POST, &url, Some(body.as_bytes())).await;
        classify_start(sent, SystemTime::now(), |body| parse_id(body, "backup_id"))
    }

    /// Starts a restore of `backup_id` onto the instance: one `POST …/restores`, never
    /// repeated here; see [`Client::start_backup`].
    pub(crate) async fn start_restore(
        &self,
        instance_id: &InstanceId,
        backup_id: &BackupId,
        remark: Option<&str>,
    ) -> Start<RestoreId> {
        let mut body = serde_json::json!({ "backup_id": backup_id.as_str() });
        if let Some(remark) = remark {
            body["remark"] = remark.into();
        }
        let body = body.to_string();
        let url = self.instance_path(instance_id, "restores");
        let sent = self.send(&Method::POST, &url, Some(body.as_bytes())).await;
        classify_start(sent, SystemTime::now(), |body| parse_id(body, "restore_id"))
    }

    /// One page of the instance's backup records, newest first; a 204 is a page of none.
    pub(crate) async fn list_backups(
        &self,
        instance_id: &InstanceId,
        page: &Page,
    ) -> Result<RecordPage<BackupRecord>, PollError> {
        self.list(instance_id, "backups", page, parse_backups).await
    }

    /// One page of the instance's restore records, newest first; a 204 is a page of none.
    pub(crate) async fn list_restores(
        &self,
        instance_id: &InstanceId,
        page: &Page,
    ) -> Result<RecordPage<RestoreRecord>, PollError> {
        self.list(instance_id, "restores", page, parse_restores)
            .await
    }

    async fn list<T>(
        &self,
        instance_id: &InstanceId,
        records: &str,
        page: &Page,
        parse: fn(&[u8]) -> Result<RecordPage<T>, serde_json::Error>,
    ) -> Result<RecordPage<T>, PollError> {
        let mut url = self.instance_path(instance_id, records);
        {
            let mut query = url.query_pairs_mut();
            if let Some(since) = page.since.and_then(|t| jiff::Timestamp::try_from(t).ok()) {
                let since = since.strftime("%Y%m%d%H%M%S").to_string();
                query.append_pair("begin_time", &since);
            }
            query
                .append_pair("offset", &page.offset.to_string())
                .append_pair("limit", &page.limit.clamp(1, 1000).to_string());
        }
        let mut reply = self.send(&Method::GET, &url, None).await?;
        // No record at all: 204 with no body, read here as a 200 of an empty page.
        let empty = reply.status == 204;
        if empty {
            reply.status = 200;
        }
        classify_as(reply, SystemTime::now(), |body, answered_at| {
            let page = if empty {
                Ok(RecordPage::empty(None))
            } else {
                parse(body)
            };
            page.map(|page| RecordPage {
                answered_at,
                ..page
            })
        })
    }
}

/// Parses the 200 body of the backup list.
pub(crate) fn parse_backups(body: &[u8]) -> Result<RecordPage<BackupRecord>, serde_json::Error> {
    parse_page(body, "backup_record_response")
}

/// Parses the 200 body of the restore list.
pub(crate) fn parse_restores(body: &[u8]) -> Result<RecordPage<RestoreRecord>, serde_json::Error> {
    parse_page(body, "restore_record_response")
}

/// `{"total_num": N, "{key}": [records]}`; a missing list is none, a missing count the
/// list's length.
fn parse_page<T: serde::de::DeserializeOwned>(
    body: &[u8],
    key: &str,
) -> Result<RecordPage<T>, serde_json::Error> {
    #[derive(Deserialize)]
    struct Page {
        #[serde(default, deserialize_with = "opt_size")]
        total_num: Option<u64>,
        #[serde(flatten)]
        rest: serde_json::Map<String, serde_json::Value>,
    }
    let page: Page = serde_json::from_slice(body)?;
    let records: Vec<T> = match page.rest.get(key) {
        Some(list) => Vec::<T>::deserialize(list)?,
        None => Vec::new(),
    };
    Ok(RecordPage {
        total: page.total_num.unwrap_or(records.len() as u64),
        records,
        answered_at: None,
    })
}

fn record_status<'de, D: Deserializer<'de>>(d: D) -> Result<RecordStatus, D::Error> {
    match opt_text(d)? {
        Some(s) => Ok(RecordStatus::parse(&s)),
        None => Err(serde::de::Error::custom(
            "a record's status is null or empty",
        )),
    }
}

/// A count or a size: a number, or a number as text.
fn opt_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// An error code: a string (the SDK's), or `{}` and null (none, as the API's example has it).
/// An object with a `code` is read for it, in case the API fills the object in.
fn opt_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Some(printable(s.trim())),
        Some(serde_json::Value::Object(o)) => o
            .get("code")
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(|s| printable(s.trim())),
        _ => None,
    })
}

/// `"TRUE"` / `"FALSE"` (any case), or a JSON boolean.
fn opt_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Bool(b)) => Some(b),
        Some(serde_json::Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_backup_record_is_read() {
        let page = parse_backups(
            br#"{"total_num": 1, "backup_record_response": [{"backup_id": "4631832a-1", "period": {},
                 "backup_name": "backup_20190510163116", "instance_id": "5560df16-1", "size": 880232,
                 "backup_type": "manual", "created_at": "2019-05-10T08:31:16.166Z",
                 "updated_at": "2019-05-10T08:32:30.546Z", "progress": "100.00", "error_code": {},
                 "remark": "001", "status": "succeed", "is_support_restore": "TRUE",
                 "execution_at": "2019-05-11T08:31:16.166Z", "backup_format": "aof"}]}"#,
        )
        .unwrap();
        assert_eq!(page.total, 1);
        let record = &page.records[0];
        assert_eq!(record.backup_id.as_deref(), Some("4631832a-1"));
        assert_eq!(record.status, RecordStatus::Succeed);
        assert_eq!(
            record.updated_at.unwrap() - record.created_at.unwrap(),
            74_380
        );
        assert_eq!(record.size, Some(880_232));
        assert_eq!(record.error_code, None);
        assert_eq!(record.is_support_restore, Some(true));
        assert_eq!(record.remark.as_deref(), Some("001"));
        assert_eq!(record.backup_format.as_deref(), Some("aof"));
    }

    #[test]
    fn error_codes_in_any_shape_and_in_words() {
        let restores = parse_restores(
            br#"{"total_num": "3", "restore_record_response": [
                 {"restore_id": "r1", "backup_id": "b1", "status": "failed", "error_code": "dcs.08.0002"},
                 {"restore_id": "r2", "status": "restoring", "error_code": null},
                 {"restore_id": "r3", "status": "RESTORING", "error_code": {"code": "dcs.08.0007"}}]}"#,
        )
        .unwrap();
        assert_eq!(restores.total, 3);
        let [failed, running, odd] = &restores.records[..] else {
            panic!("{restores:?}")
        };
        assert!(failed.status.is_failure() && failed.status.is_final());
        assert_eq!(
            error_in_words(failed.error_code.as_deref().unwrap()),
            "dcs.08.0002: execution timed out"
        );
        assert_eq!(running.error_code, None);
        assert!(!running.status.is_final());
        assert_eq!(odd.status.as_str(), "RESTORING");
        assert_eq!(odd.error_code.as_deref(), Some("dcs.08.0007"));
        assert_eq!(error_in_words("dcs.99.0001"), "dcs.99.0001");
    }

    #[test]
    fn statuses() {
        for (raw, done, failure) in [
            ("waiting", false, false),
            ("backuping", false, false),
            ("restoring", false, false),
            ("succeed", true, false),
            ("failed", true, true),
            ("expired", true, true),
            ("deleted", true, true),
            ("paused", false, false),
        ] {
            let status = RecordStatus::parse(raw);
            assert_eq!(
                (status.is_final(), status.is_failure()),
                (done, failure),
                "{raw}"
            );
            assert_eq!(status.as_str(), raw);
        }
        assert!(parse_backups(br#"{"backup_record_response": [{"status": null}]}"#).is_err());
        let hostile = parse_backups(
            br#"{"backup_record_response": [{"status": "fail\u001bed", "remark": "a\u200bb"}]}"#,
        )
        .unwrap();
        assert_eq!(hostile.records[0].status.as_str(), "fail\\u{1b}ed");
        assert_eq!(hostile.records[0].remark.as_deref(), Some("a\\u{200b}b"));
    }
}

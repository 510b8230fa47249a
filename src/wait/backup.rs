//! Back an instance up, or restore one from a backup, and wait until its record ends — for
//! a restore, until the instance is ready again too — on the one start-once piece
//! ([`start_once`](super::start_once)). Neither returns a job: each is followed through its
//! record in the instance's list, read as a job.
//!
//! What is theirs: the `POST` and its body; a record found by its id in the list; and, after
//! an answer that proves nothing, the record this start made, known by a token of ours in its
//! remark (`dcs-wait:1a2b3c4d`, after the user's own remark), so that "is this record mine?"
//! has an exact answer.

use super::fan_out;
use super::options::WaitOptions;
use super::report::{JobReport, Subject};
use super::start_once::{Found, Operation, OwnFound, Search, Seen, StartOnce};
use super::swap::InstanceSource;
use crate::api::{
    ApiError, BackupId, BackupRecord, BackupRequest, Client, ErrorKind, InstanceId, Page,
    PollError, RecordPage, RestoreId, RestoreRecord, Start,
};
use std::future::Future;
use std::sync::Arc;

/// What backups and restores ask of the outside besides an instance: their starts and their
/// record lists.
pub trait RecordSource: InstanceSource {
    /// One start of a backup: see [`Client::start_backup`].
    fn start_backup(
        &self,
        instance_id: &InstanceId,
        request: &BackupRequest,
    ) -> impl Future<Output = Start<BackupId>> + Send;

    /// One start of a restore: see [`Client::start_restore`].
    fn start_restore(
        &self,
        instance_id: &InstanceId,
        backup_id: &BackupId,
        remark: Option<&str>,
    ) -> impl Future<Output = Start<RestoreId>> + Send;

    /// One page of the instance's backup records, newest first.
    fn backups(
        &self,
        instance_id: &InstanceId,
        page: &Page,
    ) -> impl Future<Output = Result<RecordPage<BackupRecord>, PollError>> + Send;

    /// One page of the instance's restore records, newest first.
    fn restores(
        &self,
        instance_id: &InstanceId,
        page: &Page,
    ) -> impl Future<Output = Result<RecordPage<RestoreRecord>, PollError>> + Send;
}

impl RecordSource for Client {
    fn start_backup(
        &self,
        instance_id: &InstanceId,
        request: &BackupRequest,
    ) -> impl Future<Output = Start<BackupId>> + Send {
        Client::start_backup(self, instance_id, request)
    }

    fn start_restore(
        &self,
        instance_id: &InstanceId,
        backup_id: &BackupId,
        remark: Option<&str>,
    ) -> impl Future<Output = Start<RestoreId>> + Send {
        Client::start_restore(self, instance_id, backup_id, remark)
    }

    fn backups(
        &self,
        instance_id: &InstanceId,
        page: &Page,
    ) -> impl Future<Output = Result<RecordPage<BackupRecord>, PollError>> + Send {
        self.list_backups(instance_id, page)
    }

    fn restores(
        &self,
        instance_id: &InstanceId,
        page: &Page,
    ) -> impl Future<Output = Result<RecordPage<RestoreRecord>, PollError>> + Send {
        self.list_restores(instance_id, page)
    }
}

/// Starts one manual backup of every instance at once and waits until each record ends,
/// under one deadline. Reports come back in the order of `instance_ids`, each with its
/// `backup_id` (none when no backup is known to have started), `size_bytes` and `started`.
/// No instance is ever backed up twice by one call: see the module's documentation.
///
/// ```no_run
/// # async fn example(client: dcs_wait::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let instances = vec!["5560df16-cebf-4473-95c4-d8b0ba1ab0e6".parse()?];
/// let request = dcs_wait::BackupRequest::default();
/// let reports = dcs_wait::backup_all(
///     client, &instances, &request, &Default::default(), std::future::pending(),
/// )
/// .await;
/// println!("{:?} {}", reports[0].backup_id, reports[0].outcome);
/// # Ok(()) }
/// ```
pub async fn backup_all<C>(
    client: Client,
    instance_ids: &[InstanceId],
    request: &BackupRequest,
    options: &WaitOptions,
    cancel: C,
) -> Vec<JobReport>
where
    C: Future<Output = ()>,
{
    backup_all_from(client, instance_ids, request, options, cancel).await
}

/// [`backup_all`] on any source: the client, or a test's.
pub(crate) async fn backup_all_from<S, C>(
    source: S,
    instance_ids: &[InstanceId],
    request: &BackupRequest,
    options: &WaitOptions,
    cancel: C,
) -> Vec<JobReport>
where
    S: RecordSource,
    C: Future<Output = ()>,
{
    let backup = |source: &Arc<S>, instance_id: &InstanceId| {
        let token = Token::new();
        let request = BackupRequest {
            remark: Some(token.remark(request.remark.as_deref())),
            ..request.clone()
        };
        StartOnce::new(source, Backup { token }, instance_id, request)
    };
    fan_out::each(source, instance_ids, backup, options, cancel).await
}

/// Waits until the record of `backup_id`, a backup already started (by a person, a
/// schedule, another tool), ends. Nothing is sent that changes anything.
///
/// ```no_run
/// # async fn example(client: dcs_wait::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let instance = "5560df16-cebf-4473-95c4-d8b0ba1ab0e6".parse()?;
/// let backup = "4631832a-f4f3-4d5c-b0e7-ff4a1c4ea4c0".parse()?;
/// let report =
///     dcs_wait::follow_backup(client, &instance, &backup, &Default::default(), std::future::pending())
///         .await;
/// println!("{} {:?} bytes", report.outcome, report.size_bytes);
/// # Ok(()) }
/// ```
pub async fn follow_backup<C>(
    client: Client,
    instance_id: &InstanceId,
    backup_id: &BackupId,
    options: &WaitOptions,
    cancel: C,
) -> JobReport
where
    C: Future<Output = ()>,
{
    let follow = |source: &Arc<Client>, instance_id: &InstanceId| {
        let op = Backup {
            token: Token::new(),
        };
        StartOnce::following(source, op, instance_id, backup_id.clone())
    };
    one(fan_out::each(
        client,
        std::slice::from_ref(instance_id),
        follow,
        options,
        cancel,
    )
    .await)
}

/// Starts one restore of `backup_id` onto the instance and waits until its record ends and
/// the instance is ready again (it is `RESTORING` meanwhile). Never started twice by one
/// call: a restore repeated would throw away what was written in between.
///
/// ```no_run
/// # async fn example(client: dcs_wait::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let instance = "5560df16-cebf-4473-95c4-d8b0ba1ab0e6".parse()?;
/// let backup = "4631832a-f4f3-4d5c-b0e7-ff4a1c4ea4c0".parse()?;
/// let report = dcs_wait::restore(
///     client, &instance, &backup, None, &Default::default(), std::future::pending(),
/// )
/// .await;
/// println!("{:?} {}", report.restore_id, report.outcome);
/// # Ok(()) }
/// ```
pub async fn restore<C>(
    client: Client,
    instance_id: &InstanceId,
    backup_id: &BackupId,
    remark: Option<&str>,
    options: &WaitOptions,
    cancel: C,
) -> JobReport
where
    C: Future<Output = ()>,
{
    restore_from(client, instance_id, backup_id, remark, options, cancel).await
}

/// [`restore`] on any source: the client, or a test's.
pub(crate) async fn restore_from<S, C>(
    source: S,
    instance_id: &InstanceId,
    backup_id: &BackupId,
    remark: Option<&str>,
    options: &WaitOptions,
    cancel: C,
) -> JobReport
where
    S: RecordSource,
    C: Future<Output = ()>,
{
    let restore = |source: &Arc<S>, instance_id: &InstanceId| {
        let token = Token::new();
        let request = (backup_id.clone(), token.remark(remark));
        StartOnce::new(source, Restore { token }, instance_id, request)
    };
    one(fan_out::each(
        source,
        std::slice::from_ref(instance_id),
        restore,
        options,
        cancel,
    )
    .await)
}

/// Waits until the record of `restore_id`, a restore already started, ends, and the
/// instance is ready again. Nothing is sent that changes anything.
pub async fn follow_restore<C>(
    client: Client,
    instance_id: &InstanceId,
    restore_id: &RestoreId,
    options: &WaitOptions,
    cancel: C,
) -> JobReport
where
    C: Future<Output = ()>,
{
    let follow = |source: &Arc<Client>, instance_id: &InstanceId| {
        let op = Restore {
            token: Token::new(),
        };
        StartOnce::following(source, op, instance_id, restore_id.clone())
    };
    one(fan_out::each(
        client,
        std::slice::from_ref(instance_id),
        follow,
        options,
        cancel,
    )
    .await)
}

/// The one report of a wait on one instance.
fn one(mut reports: Vec<JobReport>) -> JobReport {
    // `each` gives one report per id, and exactly one id was given.
    reports.swap_remove(0)
}

/// The mark of one start in the record's remark: `dcs-wait:` and eight hexadecimal digits,
/// random per start.
struct Token(String);

impl Token {
    fn new() -> Token {
        Token(format!("dcs-wait:{:08x}", fastrand::u32(..)))
    }

    /// The remark sent: the user's, then the token.
    fn remark(&self, user: Option<&str>) -> String {
        match user.map(str::trim).filter(|r| !r.is_empty()) {
            Some(user) => format!("{user} {}", self.0),
            None => self.0.clone(),
        }
    }

    /// Whether a record's remark carries it.
    fn marks(&self, remark: Option<&str>) -> bool {
        remark.is_some_and(|r| r.split_whitespace().any(|word| word == self.0))
    }
}

/// What a read of a record gives the report besides the job: its status as sent, and a
/// backup's size.
#[derive(Default)]
struct Record {
    status: Option<String>,
    size: Option<u64>,
}

/// A backup, known after an inconclusive start by the token in its record's remark.
struct Backup {
    token: Token,
}

/// A restore, known after an inconclusive start by the token in its record's remark.
struct Restore {
    token: Token,
}

/// The most records a search pages through: a thousand a page.
const MAX_PAGES: u32 = 10;

/// The record `wanted` picks, paging through the list newest first; with its page's
/// `answered_at`, and how many pages were read.
pub(super) async fn page_through<T, F, Fut>(
    mut list: F,
    wanted: impl Fn(&T) -> bool,
) -> Result<(Option<(T, Option<i64>)>, u32), PollError>
where
    F: FnMut(Page) -> Fut,
    Fut: Future<Output = Result<RecordPage<T>, PollError>>,
{
    let mut page = Page {
        since: None,
        offset: 0,
        limit: 1000,
    };
    for pages in 1..=MAX_PAGES {
        let read = list(page).await?;
        let (seen, total) = (read.records.len() as u32, read.total);
        let answered_at = read.answered_at;
        if let Some(record) = read.records.into_iter().find(|r| wanted(r)) {
            return Ok((Some((record, answered_at)), pages));
        }
        page.offset += seen;
        if seen == 0 || u64::from(page.offset) >= total {
            return Ok((None, pages));
        }
    }
    Ok((None, MAX_PAGES))
}

/// The error while a record is not listed: "not found", which the wait believes to be "not
/// listed yet" for its grace.
pub(super) fn not_listed(what: &str, id: &str, instance_id: &InstanceId) -> PollError {
    PollError::NotFound(ApiError::new(
        ErrorKind::NotFound,
        format!("{what} {id} is not among the {what} records of instance {instance_id}"),
    ))
}

/// What backup and restore records differ in, for the one way both are read: their list,
/// their id, their remark, and what the report keeps of them.
trait Listed: Sized + Send + 'static {
    /// `backup` or `restore`.
    const WHAT: &'static str;

    /// One page of the instance's records of this kind.
    fn list<'a, S: RecordSource>(
        source: &'a S,
        instance_id: &'a InstanceId,
        page: Page,
    ) -> impl Future<Output = Result<RecordPage<Self>, PollError>> + Send + 'a;

    fn id(&self) -> Option<&str>;
    fn remark(&self) -> Option<&str>;
    fn created_at(&self) -> Option<i64>;

    /// It as a job, and what else the report keeps of it.
    fn seen(&self, answered_at: Option<i64>, requests: u32) -> Seen<Record>;
}

impl Listed for BackupRecord {
    const WHAT: &'static str = "backup";

    async fn list<S: RecordSource>(
        source: &S,
        instance_id: &InstanceId,
        page: Page,
    ) -> Result<RecordPage<Self>, PollError> {
        source.backups(instance_id, &page).await
    }

    fn id(&self) -> Option<&str> {
        self.backup_id.as_deref()
    }

    fn remark(&self) -> Option<&str> {
        self.remark.as_deref()
    }

    fn created_at(&self) -> Option<i64> {
        self.created_at
    }

    fn seen(&self, answered_at: Option<i64>, requests: u32) -> Seen<Record> {
        Seen {
            requests,
            job: self.as_job(answered_at),
            extra: Record {
                status: Some(self.status.as_str().to_string()),
                size: self.size.filter(|_| self.status.is_final()),
            },
        }
    }
}

impl Listed for RestoreRecord {
    const WHAT: &'static str = "restore";

    async fn list<S: RecordSource>(
        source: &S,
        instance_id: &InstanceId,
        page: Page,
    ) -> Result<RecordPage<Self>, PollError> {
        source.restores(instance_id, &page).await
    }

    fn id(&self) -> Option<&str> {
        self.restore_id.as_deref()
    }

    fn remark(&self) -> Option<&str> {
        self.restore_remark.as_deref()
    }

    fn created_at(&self) -> Option<i64> {
        self.created_at
    }

    fn seen(&self, answered_at: Option<i64>, requests: u32) -> Seen<Record> {
        Seen {
            requests,
            job: self.as_job(answered_at),
            extra: Record {
                status: Some(self.status.as_str().to_string()),
                size: None,
            },
        }
    }
}

/// The record of `id`, found by paging through the list; "not found" while it is not listed.
async fn follow_listed<T: Listed, S: RecordSource>(
    source: &S,
    instance_id: &InstanceId,
    id: &str,
) -> Result<Seen<Record>, PollError> {
    let list = |page| T::list(source, instance_id, page);
    match page_through(list, |r: &T| r.id() == Some(id)).await? {
        (Some((record, answered_at)), pages) => Ok(record.seen(answered_at, pages)),
        (None, _) => Err(not_listed(T::WHAT, id, instance_id)),
    }
}

/// The record this start made: the one found before, or one created since the start whose
/// remark holds `token`.
async fn find_listed<T: Listed, S: RecordSource, Id: std::str::FromStr>(
    source: &S,
    instance_id: &InstanceId,
    search: &Search,
    token: &Token,
) -> OwnFound<Id, Record> {
    let page = Page {
        since: Some(search.asked_since),
        ..Page::default()
    };
    let list = T::list(source, instance_id, page).await?;
    let answered_at = list.answered_at;
    let ours = list.records.into_iter().find(|r| {
        let key = r.id().unwrap_or_default();
        search.is_ours(key, r.created_at(), answered_at, token.marks(r.remark()))
    });
    Ok(ours.map(|record| Found {
        key: record.id().unwrap_or_default().to_string(),
        id: record.id().and_then(|id| id.parse().ok()),
        seen: record.seen(answered_at, 1),
    }))
}

/// The report's share of a record: whether this run started it, and its status as sent.
fn report_record(report: &mut JobReport, started: bool, seen: &Record) {
    report.started = Some(started);
    if seen.status.is_some() {
        report.status = seen.status.clone();
    }
}

impl<S: RecordSource> Operation<S> for Backup {
    type Id = BackupId;
    type Extra = Record;
    /// Its format and remark, the remark ending with the token.
    type Request = BackupRequest;
    const NAME: &'static str = "backup";
    const ID_NAME: &'static str = "backup";
    const SUBJECT: fn(InstanceId) -> Subject = Subject::Backup;

    async fn start<'a>(
        &'a self,
        source: &'a S,
        instance_id: &'a InstanceId,
        request: &'a BackupRequest,
    ) -> Start<BackupId> {
        source.start_backup(instance_id, request).await
    }

    async fn follow<'a>(
        &'a self,
        source: &'a S,
        instance_id: &'a InstanceId,
        backup_id: &'a BackupId,
    ) -> Result<Seen<Record>, PollError> {
        follow_listed::<BackupRecord, S>(source, instance_id, backup_id.as_str()).await
    }

    async fn find_own<'a>(
        &'a self,
        source: &'a S,
        instance_id: &'a InstanceId,
        search: &'a Search,
    ) -> OwnFound<BackupId, Record> {
        find_listed::<BackupRecord, S, BackupId>(source, instance_id, search, &self.token).await
    }

    fn evidence(&self) -> String {
        format!("a backup record whose remark holds {}", self.token.0)
    }

    fn check_before_retrying(&self) -> String {
        format!(
            "the instance's backup records (a manual backup created since the start, its \
             remark ending {})",
            self.token.0
        )
    }

    fn report(&self, report: &mut JobReport, id: Option<&BackupId>, started: bool, seen: &Record) {
        report.backup_id = id.cloned();
        report.size_bytes = seen.size;
        report_record(report, started, seen);
    }
}

impl<S: RecordSource> Operation<S> for Restore {
    type Id = RestoreId;
    type Extra = Record;
    /// The backup it restores from, and its remark, ending with the token.
    type Request = (BackupId, String);
    const NAME: &'static str = "restore";
    const ID_NAME: &'static str = "restore";
    const SUBJECT: fn(InstanceId) -> Subject = Subject::Restore;

    async fn start<'a>(
        &'a self,
        source: &'a S,
        instance_id: &'a InstanceId,
        (backup_id, remark): &'a (BackupId, String),
    ) -> Start<RestoreId> {
        source
            .start_restore(instance_id, backup_id, Some(remark))
            .await
    }

    async fn follow<'a>(
        &'a self,
        source: &'a S,
        instance_id: &'a InstanceId,
        restore_id: &'a RestoreId,
    ) -> Result<Seen<Record>, PollError> {
        follow_listed::<RestoreRecord, S>(source, instance_id, restore_id.as_str()).await
    }

    async fn find_own<'a>(
        &'a self,
        source: &'a S,
        instance_id: &'a InstanceId,
        search: &'a Search,
    ) -> OwnFound<RestoreId, Record> {
        find_listed::<RestoreRecord, S, RestoreId>(source, instance_id, search, &self.token).await
    }

    fn evidence(&self) -> String {
        format!("a restore record whose remark holds {}", self.token.0)
    }

    fn check_before_retrying(&self) -> String {
        format!(
            "the instance's restore records (a restore created since the start, its remark \
             ending {}) and whether the instance is RESTORING",
            self.token.0
        )
    }

    fn then_ready(&self) -> bool {
        true
    }

    fn report(&self, report: &mut JobReport, id: Option<&RestoreId>, started: bool, seen: &Record) {
        report.restore_id = id.cloned();
        report_record(report, started, seen);
    }
}

//! Start a master/standby swap and wait for it: once, never twice.
//!
//! Per instance: send the start; while its answer proves that nothing started (429, no
//! connection, a busy instance) send it again, on the retry backoff or, for a busy instance,
//! on the schedule's patience; once it started, wait on its job with the very loop of a plain
//! wait. An answer that proves nothing (a timeout, a dropped connection, a 5xx, an unreadable
//! 200) is never followed by another start: the instance's background tasks say whether the
//! swap started, and the swap's task is then followed to its end; with no such task within a
//! grace period, the report says that it is unknown whether it started.

use super::engine::{later, no_answer, Clock, Kind, Look, Reads};
use super::fan_out;
use super::job::Followed;
use super::options::WaitOptions;
use super::report::{JobReport, Outcome, Subject};
use super::source::JobSource;
use crate::api::{
    ApiError, Client, ErrorKind, Instance, InstanceId, Job, JobId, PollError, SwapStart, TaskList,
    SWAP_TASK,
};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long after an inconclusive start the swap's task may take to appear in the list
/// (never past the deadline).
pub const START_GRACE: Duration = Duration::from_secs(30);

/// How far before our start a task may have been created by the server's clock and still
/// be ours: the `Date` of an answer counts whole seconds, and the start took a round trip.
const CREATED_MARGIN: Duration = Duration::from_secs(2);

/// What a swap asks of the outside besides jobs: its start, the instance and its tasks.
pub trait InstanceSource: JobSource {
    /// One start of a swap on `instance_id`: see [`SwapStart`].
    fn start_swap(&self, instance_id: &InstanceId) -> impl Future<Output = SwapStart> + Send;

    /// One read of the instance.
    fn instance(
        &self,
        instance_id: &InstanceId,
    ) -> impl Future<Output = Result<Instance, PollError>> + Send;

    /// One read of the instance's background tasks, newest first: created since `since`
    /// (server clock), or of any age.
    fn tasks(
        &self,
        instance_id: &InstanceId,
        since: Option<jiff::Timestamp>,
    ) -> impl Future<Output = Result<TaskList, PollError>> + Send;

    /// The server's time, as near as the source knows it.
    fn server_now(&self) -> jiff::Timestamp;
}

impl InstanceSource for Client {
    fn start_swap(&self, instance_id: &InstanceId) -> impl Future<Output = SwapStart> + Send {
        Client::start_swap(self, instance_id)
    }

    fn instance(
        &self,
        instance_id: &InstanceId,
    ) -> impl Future<Output = Result<Instance, PollError>> + Send {
        self.get_instance(instance_id)
    }

    fn tasks(
        &self,
        instance_id: &InstanceId,
        since: Option<jiff::Timestamp>,
    ) -> impl Future<Output = Result<TaskList, PollError>> + Send {
        self.list_tasks(instance_id, since)
    }

    fn server_now(&self) -> jiff::Timestamp {
        Client::server_now(self)
    }
}

/// Starts a master/standby swap on every instance at once and waits for each, under one
/// deadline ([`WaitOptions::timeout`] covers the starts too). Reports come back in the order
/// of `instance_ids`, each with `instance_id` and the started `job_id` (none when no swap is
/// known to have started). `cancel` ends every wait as for [`wait_all`](super::wait_all).
///
/// No instance is ever swapped twice: see the module's documentation.
///
/// ```no_run
/// # async fn example(client: dcs_wait::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let instances = vec!["5560df16-cebf-4473-95c4-d8b0ba1ab0e6".parse()?];
/// let reports =
///     dcs_wait::swap_all(client, &instances, &Default::default(), std::future::pending()).await;
/// println!("{:?} {}", reports[0].job_id, reports[0].outcome);
/// # Ok(()) }
/// ```
pub async fn swap_all<S, C>(
    source: S,
    instance_ids: &[InstanceId],
    options: &WaitOptions,
    cancel: C,
) -> Vec<JobReport>
where
    S: InstanceSource,
    C: Future<Output = ()>,
{
    let swap = |source: &Arc<S>, instance_id: &InstanceId| SwapWait {
        source: source.clone(),
        subject: Subject::Swap(instance_id.clone()),
        instance_id: instance_id.clone(),
        phase: Phase::Starting(Starting::default()),
    };
    fan_out::each(source, instance_ids, swap, options, cancel).await
}

/// A swap on one instance: started at most once, then followed to its end.
struct SwapWait<S> {
    source: Arc<S>,
    subject: Subject,
    instance_id: InstanceId,
    phase: Phase,
}

enum Phase {
    /// No start has been proved yet.
    Starting(Starting),
    /// It started as this job, which is followed.
    Started { job_id: JobId, followed: Followed },
    /// An answer proved nothing: the swap's task is looked for among the instance's
    /// background tasks, and followed once found.
    FindingOut {
        search: TaskSearch,
        followed: Followed,
    },
}

/// The starts so far.
#[derive(Default)]
struct Starting {
    /// When the first start went.
    first_try: Option<Instant>,
    /// The busy code last logged, so that a busy instance is said once per reason.
    busy_with: Option<Option<String>>,
    /// Whether a start is on its way, its answer not yet read.
    sending: bool,
}

/// What one start led to.
enum Started {
    /// Nothing started: what to do about it.
    No(Look),
    /// A swap started as this job, sent at that time.
    Yes(JobId, Instant),
    /// It may have started.
    Maybe(TaskSearch),
}

impl Starting {
    /// One start, and what its answer proves.
    async fn start<S: InstanceSource>(
        &mut self,
        source: &S,
        instance_id: &InstanceId,
        reads: &mut Reads<'_>,
    ) -> Result<Started, Outcome> {
        let server_before = source.server_now();
        let sending = &mut self.sending;
        let start = move || async move {
            *sending = true;
            source.start_swap(instance_id).await
        };
        let sent_at = Instant::now();
        let answer = reads.send(start).await?;
        self.sending = false;
        let first_try = *self.first_try.get_or_insert(sent_at);
        let (answer, sent_at) = match answer {
            Some(answered) => answered,
            // No answer in time is as inconclusive as a dropped connection: the start went
            // out.
            None => (SwapStart::Ambiguous(no_answer(sent_at)), sent_at),
        };
        Ok(match answer {
            SwapStart::Started(job_id) => {
                tracing::info!("swap started on {instance_id}: job {job_id}");
                Started::Yes(job_id, sent_at)
            }
            SwapStart::NotStarted { error, retry_after } => {
                Started::No(Look::Failed(PollError::Transient { error, retry_after }))
            }
            SwapStart::Busy(error) => {
                let delay = reads.scheduled(None, first_try, None);
                if self.busy_with.as_ref() != Some(&error.code) {
                    tracing::warn!(
                        "{instance_id}: busy, the swap did not start ({error}); sending it \
                         again when the instance is free, next in {delay:.1?}"
                    );
                    self.busy_with = Some(error.code.clone());
                }
                Started::No(Look::Again {
                    delay,
                    kept: Some(error),
                })
            }
            SwapStart::Refused(error) => Started::No(Look::Failed(PollError::Final(error))),
            SwapStart::Ambiguous(error) => {
                tracing::warn!(
                    "{instance_id}: the answer to the swap proves nothing ({}): it may \
                     have started. Not sending it again; looking for its task among the \
                     instance's background tasks",
                    error.with_causes()
                );
                Started::Maybe(TaskSearch::new(error, server_before, sent_at))
            }
        })
    }
}

impl<S: InstanceSource> Kind for SwapWait<S> {
    fn subject(&self) -> &Subject {
        &self.subject
    }

    async fn look(&mut self, reads: &mut Reads<'_>) -> Result<Look, Outcome> {
        let (source, id, name) = (&*self.source, &self.instance_id, self.subject.name());
        match &mut self.phase {
            Phase::Starting(starting) => match starting.start(source, id, reads).await? {
                Started::No(look) => Ok(look),
                Started::Yes(job_id, sent_at) => {
                    // The job is as old as the start, not as the run: its age plans the
                    // polls, and its 404 grace counts from then. It is read at once.
                    let followed = Followed::since(sent_at);
                    self.phase = Phase::Started { job_id, followed };
                    Ok(Look::again(Duration::ZERO))
                }
                Started::Maybe(search) => {
                    let followed = Followed::since(reads.clock().start);
                    self.phase = Phase::FindingOut { search, followed };
                    Ok(Look::again(Duration::ZERO))
                }
            },
            Phase::Started { job_id, followed } => {
                let answer = reads.read(|| source.fetch(job_id)).await?;
                Ok(followed.conclude(name, answer, reads))
            }
            Phase::FindingOut { search, followed } => {
                let answer = reads
                    .read(|| source.tasks(id, Some(search.asked_since)))
                    .await?;
                let answer = answer.and_then(|list| search.find(id, list));
                Ok(followed.conclude(name, answer, reads))
            }
        }
    }

    fn job(&self) -> Option<&Job> {
        match &self.phase {
            Phase::Starting(_) => None,
            Phase::Started { followed, .. } | Phase::FindingOut { followed, .. } => {
                followed.last.as_ref()
            }
        }
    }

    fn not_found_until(&self, options: &WaitOptions, clock: Clock) -> Instant {
        match &self.phase {
            Phase::Starting(_) => later(clock.start, options.not_found_grace),
            Phase::Started { followed, .. } => later(followed.since, options.not_found_grace),
            Phase::FindingOut { search, .. } => later(search.began, START_GRACE),
        }
    }

    fn retrying(&self) -> &'static str {
        match self.phase {
            Phase::Starting(_) => "the swap did not start: sending it again",
            Phase::Started { .. } | Phase::FindingOut { .. } => "trying again",
        }
    }

    fn report(self, outcome: Outcome, polls: u32, error: Option<ApiError>) -> JobReport {
        match self.phase {
            Phase::Starting(starting) => {
                // The start may be on its way: say so rather than pretend nothing happened.
                let error = match (outcome, starting.sending) {
                    (Outcome::Interrupted, true) => Some(unknown(
                        &self.instance_id,
                        "the wait was interrupted while the start was on its way",
                    )),
                    _ => error,
                };
                JobReport::new(&self.subject, outcome, None, polls, error)
            }
            Phase::Started { job_id, followed } => {
                let mut report = followed.report(&self.subject, outcome, polls, error);
                report.job_id = Some(job_id);
                report
            }
            // No task seen by the deadline: as unknown as after the grace, not merely
            // unfinished.
            Phase::FindingOut { search, followed } => match (outcome, &followed.last) {
                (Outcome::Timeout, None) => {
                    let lost = search.lost(&self.instance_id);
                    followed.report(&self.subject, Outcome::Error, polls, Some(lost))
                }
                _ => followed.report(&self.subject, outcome, polls, error),
            },
        }
    }
}

/// The search for a swap's task after a start whose answer proved nothing: a
/// [`SWAP_TASK`] task created since the start is the evidence that it started.
struct TaskSearch {
    /// Why it is unknown whether the swap started.
    why: ApiError,
    /// The list is asked for a minute around the start (our clock may be off the server's);
    /// which task is ours is then decided on the server's own clock, from its `Date`.
    asked_since: jiff::Timestamp,
    server_before: jiff::Timestamp,
    sent_at: Instant,
    /// When the search began: the task has [`START_GRACE`] from then to appear.
    began: Instant,
    /// The task found, by id.
    found: Option<Option<String>>,
}

impl TaskSearch {
    fn new(why: ApiError, server_before: jiff::Timestamp, sent_at: Instant) -> TaskSearch {
        TaskSearch {
            why,
            asked_since: server_before
                .checked_sub(jiff::SignedDuration::from_mins(1))
                .unwrap_or(server_before),
            server_before,
            sent_at,
            began: Instant::now(),
            found: None,
        }
    }

    /// The swap's task in `list`, as a job; "not found" while there is none.
    fn find(&mut self, instance_id: &InstanceId, list: TaskList) -> Result<Job, PollError> {
        let created_since = list
            .answered_at
            .map_or(self.server_before.as_millisecond(), |answered| {
                answered - (self.sent_at.elapsed() + CREATED_MARGIN).as_millis() as i64
            });
        let task = list.tasks.iter().find(|task| match &self.found {
            Some(id) => task.id == *id,
            None => {
                task.name.as_deref() == Some(SWAP_TASK)
                    && task.created_at.is_some_and(|at| at >= created_since)
            }
        });
        let Some(task) = task else {
            return Err(PollError::NotFound(self.lost(instance_id)));
        };
        if self.found.is_none() {
            tracing::info!(
                "{instance_id}: the swap started: its task {} was created after the start",
                task.id.as_deref().unwrap_or("(no id)")
            );
            self.found = Some(task.id.clone());
        }
        Ok(task.as_job(list.answered_at))
    }

    /// The error when no task has appeared.
    fn lost(&self, instance_id: &InstanceId) -> ApiError {
        unknown(
            instance_id,
            &format!(
                "the answer to the start was inconclusive ({}), and no {SWAP_TASK} task has \
                 appeared since",
                self.why.with_causes()
            ),
        )
    }
}

/// The error of a swap that may or may not have started.
fn unknown(instance_id: &InstanceId, why: &str) -> ApiError {
    ApiError::new(
        ErrorKind::StartUnknown,
        format!(
            "{why}: it is unknown whether the swap of {instance_id} started. Before starting \
             it again, look at the instance's background tasks (a {SWAP_TASK} task since the \
             start) and at which node is the master"
        ),
    )
}

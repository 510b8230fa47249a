//! Start a master/standby swap and wait for it: once, never twice.
//!
//! Per instance: send the start; while its answer proves that nothing started (429, no
//! connection, a busy instance) send it again, on the retry backoff or, for a busy instance,
//! on the schedule's patience; once it started, wait on its job with the very loop of a plain
//! wait. An answer that proves nothing (a timeout, a dropped connection, a 5xx, an unreadable
//! 200) is never followed by another start: the instance's background tasks say whether the
//! swap started, and the swap's task is then followed to its end; with no such task within a
//! grace period, the report says that it is unknown whether it started.

use super::all::{fan_out, Share};
use super::observer::WaitEvent;
use super::options::WaitOptions;
use super::poll::{later, poll_until_done, turn, Clock};
use super::report::{JobReport, Outcome, Subject};
use super::source::JobSource;
use crate::api::{
    ApiError, Client, Instance, InstanceId, Job, PollError, SwapStart, TaskList, SWAP_TASK,
};
use backon::{BackoffBuilder, Retryable};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::{sleep_until, timeout_at, Instant};
use tokio_util::sync::CancellationToken;

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

impl<S: InstanceSource> InstanceSource for Arc<S> {
    fn start_swap(&self, instance_id: &InstanceId) -> impl Future<Output = SwapStart> + Send {
        (**self).start_swap(instance_id)
    }

    fn instance(
        &self,
        instance_id: &InstanceId,
    ) -> impl Future<Output = Result<Instance, PollError>> + Send {
        (**self).instance(instance_id)
    }

    fn tasks(
        &self,
        instance_id: &InstanceId,
        since: Option<jiff::Timestamp>,
    ) -> impl Future<Output = Result<TaskList, PollError>> + Send {
        (**self).tasks(instance_id, since)
    }

    fn server_now(&self) -> jiff::Timestamp {
        (**self).server_now()
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
    fan_out(
        source,
        Subject::instances(instance_ids),
        options,
        cancel,
        start_and_wait,
    )
    .await
}

/// Reads every instance, as a swap's dry run: no start is sent. An instance that is
/// `RUNNING` is a success; one that cannot be read, or is in another state, is an error
/// (`not_running`). Transient faults are retried until the deadline.
pub async fn check_all<S, C>(
    source: S,
    instance_ids: &[InstanceId],
    options: &WaitOptions,
    cancel: C,
) -> Vec<JobReport>
where
    S: InstanceSource,
    C: Future<Output = ()>,
{
    fan_out(
        source,
        Subject::instances(instance_ids),
        options,
        cancel,
        check,
    )
    .await
}

async fn check<S: InstanceSource>(share: Share<S>) -> JobReport {
    let Some(instance_id) = share.subject.instance_id.clone() else {
        return share.internal("an instance wait without an instance");
    };
    let (source, options, stop) = (&*share.source, &*share.options, &share.stop);
    let (subject, clock) = (&share.subject, share.clock);
    let polls = std::sync::atomic::AtomicU32::new(0);
    let read = || {
        polls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let end = clock
            .deadline
            .min(later(Instant::now(), options.request_timeout));
        let instance_id = &instance_id;
        async move {
            match timeout_at(end, source.instance(instance_id)).await {
                Ok(read) => read,
                Err(_) => Err(PollError::transient(ApiError::local(
                    "request_timeout",
                    "no answer in time",
                ))),
            }
        }
    };
    let read = read
        .retry(options.retry)
        .sleep(tokio::time::sleep)
        .when(|e| matches!(e, PollError::Transient { .. }) && Instant::now() < clock.deadline);
    let instance = tokio::select! {
        biased;
        _ = stop.cancelled() => {
            let polls = polls.load(std::sync::atomic::Ordering::Relaxed);
            return JobReport::new(subject, Outcome::Interrupted, None, polls, None);
        }
        _ = sleep_until(clock.deadline) => Err(PollError::transient(ApiError::local("timeout", "the deadline passed"))),
        read = read => read,
    };
    let polls = polls.into_inner();
    let instance = match instance {
        Ok(instance) => instance,
        Err(e) => {
            let outcome = match e {
                PollError::Transient { .. } => Outcome::Timeout,
                _ => Outcome::Error,
            };
            return JobReport::new(subject, outcome, None, polls, Some(e.api_error().clone()));
        }
    };
    let status = instance.status.clone().unwrap_or_else(|| "-".into());
    let mode = instance.cache_mode.as_deref().unwrap_or("unknown mode");
    tracing::info!(
        "{instance_id}: {status}, {mode}, {} {} (dry run: no swap sent)",
        instance.engine.as_deref().unwrap_or(""),
        instance.engine_version.as_deref().unwrap_or("")
    );
    let mut report = JobReport::new(subject, Outcome::Success, None, polls, None);
    report.status = instance.status.clone();
    if !instance.is_running() {
        report.outcome = Outcome::Error;
        report.error = Some(ApiError::local(
            "not_running",
            format!("the instance is {status} ({mode}), not RUNNING: DCS would refuse a swap now"),
        ));
    }
    report
}

async fn start_and_wait<S: InstanceSource>(share: Share<S>) -> JobReport {
    let Some(instance_id) = share.subject.instance_id.clone() else {
        return share.internal("an instance wait without an instance");
    };
    let (source, options, cancel) = (&*share.source, &*share.options, &share.stop);
    let (subject, clock, seed) = (&share.subject, share.clock, share.seed);
    let last_try_at = clock.last_poll_at();
    let first_try = Instant::now();
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut retries = options.retry.build();
    let mut last_error: Option<ApiError> = None;
    let mut busy_with: Option<Option<String>> = None;
    let mut starts = 0u32;
    let mut next_at = Instant::now();
    loop {
        if let Err(outcome) = turn(next_at, options, clock, cancel).await {
            return JobReport::new(subject, outcome, None, starts, last_error);
        }
        starts += 1;
        let sent_at = Instant::now();
        let server_before = source.server_now();
        let request_end = clock.deadline.min(later(sent_at, options.request_timeout));
        let answer = tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                // The start may be on its way: say so rather than pretend nothing happened.
                let error = unknown(&instance_id, "the wait was interrupted while the start was on its way");
                return JobReport::new(subject, Outcome::Interrupted, None, starts, Some(error));
            }
            answer = timeout_at(request_end, source.start_swap(&instance_id)) => answer,
        };
        // No answer in time is as inconclusive as a dropped connection: the start went out.
        let answer = answer.unwrap_or_else(|_| {
            SwapStart::Ambiguous(ApiError::local(
                "request_timeout",
                format!("no answer within {:.1?}", Instant::now() - sent_at),
            ))
        });
        let delay = match answer {
            SwapStart::Started(job_id) => {
                tracing::info!("swap started on {instance_id}: job {job_id}");
                let subject = subject.with_job(job_id.clone());
                let fetch = || source.fetch(&job_id);
                // The job is as old as the start, not as the run: its age plans the polls.
                let clock = Clock {
                    start: sent_at,
                    ..clock
                };
                let mut report =
                    poll_until_done(&subject, fetch, options, clock, seed, cancel).await;
                report.polls += starts;
                return report;
            }
            SwapStart::NotStarted { error, retry_after } => {
                if let (Some(limiter), Some(429)) = (&options.limiter, error.http_status) {
                    limiter.throttled();
                }
                let delay = retries
                    .next()
                    .unwrap_or(options.schedule.max_lag())
                    .max(retry_after.unwrap_or_default());
                tracing::warn!(
                    "{instance_id}: the swap did not start ({error}); sending it again in {delay:.1?}"
                );
                last_error = Some(error);
                delay
            }
            SwapStart::Busy(error) => {
                let waited = Instant::now() - first_try;
                let delay = options.schedule.delay(waited, waited, None, &mut rng);
                if busy_with.as_ref() != Some(&error.code) {
                    tracing::warn!(
                        "{instance_id}: busy, the swap did not start ({error}); sending it again \
                         when the instance is free, next in {delay:.1?}"
                    );
                    busy_with = Some(error.code.clone());
                }
                last_error = Some(error);
                delay
            }
            SwapStart::Refused(error) => {
                tracing::error!("{instance_id}: the swap was refused: {error}");
                return JobReport::new(subject, Outcome::Error, None, starts, Some(error));
            }
            SwapStart::Ambiguous(error) => {
                return find_out(
                    source,
                    subject,
                    error,
                    server_before,
                    sent_at,
                    starts,
                    options,
                    clock,
                    seed,
                    cancel,
                )
                .await;
            }
        };
        if Instant::now() >= last_try_at {
            tracing::warn!("{instance_id}: deadline reached; the swap never started");
            return JobReport::new(subject, Outcome::Timeout, None, starts, last_error);
        }
        next_at = later(Instant::now(), delay).min(last_try_at);
        if let Some(observer) = &options.observer {
            observer.on_event(&WaitEvent::Polled {
                subject,
                job: None,
                error: last_error.as_ref(),
                next_poll: next_at,
            });
        }
    }
}

/// After a start whose answer proves nothing: never start again; the swap's background
/// task, created since the start, is the evidence that it started, and is followed to its
/// end. None within [`START_GRACE`]: it is unknown whether the swap started.
#[allow(clippy::too_many_arguments)]
async fn find_out<S: InstanceSource>(
    source: &S,
    subject: &Subject,
    error: ApiError,
    server_before: jiff::Timestamp,
    sent_at: Instant,
    starts: u32,
    options: &WaitOptions,
    clock: Clock,
    seed: u64,
    cancel: &CancellationToken,
) -> JobReport {
    let Some(instance_id) = subject.instance_id.clone() else {
        return JobReport::new(subject, Outcome::Error, None, starts, Some(error));
    };
    tracing::warn!(
        "{instance_id}: the answer to the swap proves nothing ({error}): it may have started. \
         Not sending it again; looking for its task among the instance's background tasks"
    );
    // The list is asked for a minute around the start (our clock may be off the server's);
    // which task is ours is then decided on the server's own clock, from its `Date`.
    let asked_since = server_before
        .checked_sub(jiff::SignedDuration::from_mins(1))
        .unwrap_or(server_before);
    let followed: Mutex<Option<String>> = Mutex::new(None);
    let lost = unknown(
        &instance_id,
        &format!("the answer to the start was inconclusive ({error}), and no {SWAP_TASK} task has appeared since"),
    );
    let fetch = || {
        let (instance_id, followed, lost) = (&instance_id, &followed, &lost);
        async move {
            let list = source.tasks(instance_id, Some(asked_since)).await?;
            let created_since = list
                .answered_at
                .map_or(server_before.as_millisecond(), |answered| {
                    answered - (sent_at.elapsed() + CREATED_MARGIN).as_millis() as i64
                });
            let mut followed = followed.lock().unwrap_or_else(|e| e.into_inner());
            let task = list.tasks.iter().find(|task| match followed.as_deref() {
                Some(id) => task.id.as_deref() == Some(id),
                None => {
                    task.name.as_deref() == Some(SWAP_TASK)
                        && task.created_at.is_some_and(|at| at >= created_since)
                }
            });
            let Some(task) = task else {
                return Err(PollError::NotFound(lost.clone()));
            };
            if followed.is_none() {
                tracing::info!(
                    "{instance_id}: the swap started: its task {} was created after the start",
                    task.id.as_deref().unwrap_or("(no id)")
                );
                *followed = task.id.clone();
            }
            Ok::<Job, PollError>(task.as_job(list.answered_at))
        }
    };
    // The grace counts from now, as the clock's start counts the 404 grace of a plain wait.
    let grace = (Instant::now() - clock.start) + START_GRACE;
    let options = WaitOptions {
        not_found_grace: grace,
        ..options.clone()
    };
    let mut report = poll_until_done(subject, fetch, &options, clock, seed, cancel).await;
    report.polls += starts;
    // No task seen by the deadline: as unknown as after the grace, not merely unfinished.
    let seen = report.status.is_some();
    if report.outcome == Outcome::Timeout && !seen {
        report.outcome = Outcome::Error;
        report.error = Some(lost);
    }
    report
}

/// The error of a swap that may or may not have started.
fn unknown(instance_id: &InstanceId, why: &str) -> ApiError {
    ApiError::local(
        "start_unknown",
        format!(
            "{why}: it is unknown whether the swap of {instance_id} started. Before starting \
             it again, look at the instance's background tasks (a {SWAP_TASK} task since the \
             start) and at which node is the master"
        ),
    )
}

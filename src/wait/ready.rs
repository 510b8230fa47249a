//! Wait until an instance is really ready, after an operation that returns no job (resize,
//! restart, flush, port or password change).
//!
//! Ready means both, seen together: the instance's status is `RUNNING`, and none of its
//! background tasks is in progress (`CREATED`, `WAITING`, `EXECUTING`). Two lessons of
//! Terraform's provider are built in: the status flickers to `RUNNING` mid-operation, so
//! readiness must be seen on two polls in a row (the second soon after the first); and the
//! instance says `RUNNING` while a task still runs, so the tasks are read too — only when the
//! status alone cannot settle it, so an instance that says `EXTENDING` costs one request a
//! poll. Tasks created within `since` before the wait began are the operation waited for: one
//! of them that ended `FAILED` makes the outcome `failed`.

use super::engine::{Kind, Look, Reads};
use super::error::WaitError;
use super::fan_out;
use super::observer;
use super::options::WaitOptions;
use super::report::{JobReport, Outcome, Subject, TaskSeen};
use super::swap::{InstanceSource, OnInstance};
use super::{NARRATION, OUTCOME};
use crate::api::{
    Client, Instance, InstanceId, JobDuration, PollError, Task, TaskList, TaskStatus,
};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How soon readiness is looked at again to confirm it: soon enough to cost little lag, long
/// enough for a flicker to show.
pub const CONFIRM_AFTER: Duration = Duration::from_secs(1);

/// Statuses an instance does not leave by itself: the operation failed.
const BROKEN: &[(&str, &str)] = &[
    ("ERROR", "the instance is in ERROR"),
    ("CREATEFAILED", "creating the instance failed"),
    (
        "FROZEN",
        "the instance is FROZEN: the account's balance is due; top it up to unfreeze it",
    ),
];

/// Waits until every instance is ready (see the module's documentation), under one
/// deadline. `since` is how long before the wait a task may have been created and still count
/// as the operation waited for. Reports come back in the order of `instance_ids`, with the
/// instance's last status, the counted tasks, and their span as the duration.
///
/// ```no_run
/// # async fn example(client: dcs_wait::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let instances = vec!["5560df16-cebf-4473-95c4-d8b0ba1ab0e6".parse()?];
/// let since = std::time::Duration::from_secs(300);
/// let reports = dcs_wait::ready_all(
///     client, &instances, since, &Default::default(), std::future::pending(),
/// )
/// .await;
/// println!("{} {:?}", reports[0].outcome, reports[0].status);
/// # Ok(()) }
/// ```
pub async fn ready_all<C>(
    client: Client,
    instance_ids: &[InstanceId],
    since: Duration,
    options: &WaitOptions,
    cancel: C,
) -> Vec<JobReport>
where
    C: Future<Output = ()>,
{
    ready_all_from(client, instance_ids, since, options, cancel).await
}

/// [`ready_all`] on any source: the client, or a test's.
pub(crate) async fn ready_all_from<S, C>(
    source: S,
    instance_ids: &[InstanceId],
    since: Duration,
    options: &WaitOptions,
    cancel: C,
) -> Vec<JobReport>
where
    S: InstanceSource,
    C: Future<Output = ()>,
{
    // The window's start, on the server's clock, as the wait begins.
    let bound_ms = source
        .server_now()
        .checked_sub(since)
        .map_or(i64::MIN, super::start_once::epoch_ms);
    let ready = |source: &Arc<S>, instance_id: &InstanceId| Ready {
        on: OnInstance::new(source, instance_id, Subject::Instance),
        bound_ms,
        seen: Seen::default(),
    };
    fan_out::each(source, instance_ids, ready, options, cancel).await
}

/// What one look at an instance found.
enum State {
    /// Not ready: the age of the operation, when a task in progress tells it.
    Busy(Option<Duration>),
    /// Ready, as far as this look goes.
    Ready,
    /// It will not get ready: why.
    Broken(&'static str),
}

/// One instance, until it is ready.
pub(super) struct Ready<S> {
    on: OnInstance<S>,
    /// Tasks created since this (server clock, epoch ms) are the operation waited for.
    bound_ms: i64,
    seen: Seen,
}

impl<S: InstanceSource> Ready<S> {
    /// `instance_id` until it is ready, counting no task as the operation waited for (the
    /// operation was followed by its own record).
    pub(super) fn new(source: &Arc<S>, instance_id: &InstanceId) -> Ready<S> {
        Ready {
            on: OnInstance::new(source, instance_id, Subject::Instance),
            bound_ms: i64::MAX,
            seen: Seen::default(),
        }
    }

    /// The instance's status, as last read.
    pub(super) fn status(&self) -> Option<&str> {
        self.seen.status.as_deref()
    }

    /// Why it will not get ready, once a look found that.
    pub(super) fn fail_reason(&self) -> Option<&str> {
        self.seen.fail_reason.as_deref()
    }

    /// The instance, then its tasks when the status alone cannot settle it. Each read takes
    /// its turn (the budget counts both).
    async fn state(&mut self, reads: &mut Reads<'_>) -> Result<Result<State, PollError>, Outcome> {
        let id = &self.on.id;
        let instance = match reads.read(|| self.on.source.instance(id)).await? {
            Ok(instance) => instance,
            Err(failure) => return Ok(Err(failure)),
        };
        self.seen.note_status(id, &instance);
        let status = instance
            .status
            .as_deref()
            .unwrap_or("")
            .trim()
            .to_ascii_uppercase();
        if let Some((_, why)) = BROKEN.iter().find(|(broken, _)| *broken == status) {
            return Ok(Ok(State::Broken(why)));
        }
        if !instance.is_running() {
            return Ok(Ok(State::Busy(None)));
        }
        let list = reads.read(|| self.on.source.tasks(id, None)).await?;
        Ok(list.map(|list| self.seen.note_tasks(id, &list, self.bound_ms)))
    }
}

impl<S: InstanceSource> Kind for Ready<S> {
    fn subject(&self) -> &Subject {
        &self.on.subject
    }

    async fn look(&mut self, reads: &mut Reads<'_>) -> Result<Look, Outcome> {
        let state = self.state(reads).await?;
        let (name, seen) = (self.on.id.as_str(), &mut self.seen);
        let ready_before = std::mem::take(&mut seen.ready_once);
        Ok(match state {
            Err(failure) => Look::Failed(failure),
            Ok(State::Broken(why)) => {
                tracing::error!(target: OUTCOME, "{name}: {why}");
                seen.fail_reason = Some(why.to_string());
                Look::End(Outcome::Failed, None)
            }
            Ok(State::Ready) if ready_before => match seen.failed_task() {
                Some(reason) => {
                    tracing::error!(target: OUTCOME, "{name}: ready, but {reason}");
                    seen.fail_reason = Some(reason);
                    Look::End(Outcome::Failed, None)
                }
                None => {
                    tracing::info!(target: OUTCOME, "{name}: ready (RUNNING, no task in progress)");
                    Look::End(Outcome::Success, None)
                }
            },
            Ok(State::Ready) => {
                seen.ready_once = true;
                Look::again(CONFIRM_AFTER.min(reads.options().schedule.max_lag()))
            }
            Ok(State::Busy(age)) => Look::again(reads.scheduled(age, reads.clock().start, None)),
        })
    }

    fn seen(&self) -> observer::Seen<'_> {
        observer::Seen::new(self.seen.status.as_deref(), self.seen.begin_ms)
    }

    fn report(self, outcome: Outcome, polls: u32, error: Option<WaitError>) -> JobReport {
        self.seen.report(&self.on.subject, outcome, polls, error)
    }
}

/// What the wait has seen of one instance.
#[derive(Default)]
struct Seen {
    status: Option<String>,
    /// The tasks within the window, newest first, as last seen.
    counted: Vec<Task>,
    /// When the earliest task in progress was created (server clock, epoch ms), if one is.
    begin_ms: Option<i64>,
    /// Whether the last look found it ready, to be confirmed.
    ready_once: bool,
    fail_reason: Option<String>,
}

impl Seen {
    fn note_status(&mut self, instance_id: &InstanceId, instance: &Instance) {
        if instance.status != self.status {
            tracing::info!(
                target: NARRATION,
                "{instance_id}: {}",
                instance.status.as_deref().unwrap_or("(no status)")
            );
        }
        self.status = instance.status.clone();
    }

    /// Notes the tasks; ready unless one (of any age) is in progress.
    fn note_tasks(&mut self, instance_id: &InstanceId, list: &TaskList, bound_ms: i64) -> State {
        let counted: Vec<Task> = list
            .tasks
            .iter()
            .filter(|task| task.created_at.is_some_and(|at| at >= bound_ms))
            .cloned()
            .collect();
        for task in &counted {
            let before = self
                .counted
                .iter()
                .find(|t| t.id == task.id && t.name == task.name);
            if before.map(|t| &t.status) != Some(&task.status) {
                let name = task.name.as_deref().unwrap_or("(unnamed)");
                match &task.status {
                    TaskStatus::Other(raw) => tracing::warn!(
                        "{instance_id}: task {name}: unknown status {raw:?}, counted as in progress"
                    ),
                    status => tracing::info!("{instance_id}: task {name} {}", status.as_str()),
                }
            }
        }
        self.counted = counted;
        let in_progress = list
            .tasks
            .iter()
            .filter(|task| task.status.is_in_progress());
        self.begin_ms = in_progress.clone().filter_map(|task| task.created_at).min();
        match self.begin_ms {
            Some(earliest) => {
                let age = list
                    .answered_at
                    .map(|now| Duration::from_millis(now.saturating_sub(earliest).max(0) as u64));
                State::Busy(age)
            }
            None if list.tasks.iter().any(|task| task.status.is_in_progress()) => State::Busy(None),
            None => State::Ready,
        }
    }

    /// The first counted task that ended without doing what it was for, as a reason.
    fn failed_task(&self) -> Option<String> {
        self.counted.iter().find_map(Task::failure)
    }

    fn report(
        self,
        subject: &Subject,
        outcome: Outcome,
        polls: u32,
        error: Option<WaitError>,
    ) -> JobReport {
        let mut report = JobReport::new(subject, outcome, None, polls, error);
        report.status = self.status.clone();
        report.fail_reason = self.fail_reason.clone();
        report.begin_time = self.counted.iter().filter_map(|t| t.created_at).min();
        let all_ended = self.counted.iter().all(|t| !t.status.is_in_progress());
        report.end_time = self
            .counted
            .iter()
            .filter_map(|t| t.updated_at)
            .max()
            .filter(|_| all_ended && !self.counted.is_empty());
        report.duration_ms = match report.duration() {
            JobDuration::Millis(ms) => Some(ms),
            _ => None,
        };
        report.tasks = Some(
            self.counted
                .iter()
                .map(|t| TaskSeen {
                    name: t.name.clone(),
                    status: t.status.as_str().to_string(),
                    created: t.created_at,
                    updated: t.updated_at,
                    details: t.details.clone(),
                })
                .collect(),
        );
        report
    }
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use super::*;
    use crate::sim::{InProcess, Scenario, SimInstance, SimTask, StatusSpan};
    use tokio::time::Instant;

    fn sim(instance: SimInstance) -> InProcess {
        InProcess::new(Scenario {
            instances: vec![instance],
            ..Scenario::demo()
        })
    }

    async fn wait(sim: InProcess) -> (JobReport, Duration, u64) {
        let options = WaitOptions {
            seed: Some(7),
            ..WaitOptions::default()
        };
        let started = Instant::now();
        let ids = ["i-1".parse().unwrap()];
        let mut reports = ready_all(
            sim.client(),
            &ids,
            Duration::from_secs(300),
            &options,
            std::future::pending(),
        )
        .await;
        let report = reports.pop().unwrap();
        (report, started.elapsed(), sim.stats().requests)
    }

    #[tokio::test(start_paused = true)]
    async fn readiness_is_confirmed_once_soon_after() {
        let (report, took, requests) = wait(sim(SimInstance::new("i-1", 0))).await;
        assert_eq!(report.outcome, Outcome::Success);
        // Ready at once, confirmed one second later: two looks of two reads each.
        assert_eq!(took, CONFIRM_AFTER);
        assert_eq!((report.polls, requests), (4, 4));
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_status_is_one_read_a_poll_and_polled_by_the_schedule() {
        let instance = SimInstance {
            timeline: vec![StatusSpan {
                status: "EXTENDING".into(),
                until_ms: 40_000,
            }],
            ..SimInstance::new("i-1", 0)
        };
        let (report, took, requests) = wait(sim(instance)).await;
        assert_eq!(report.outcome, Outcome::Success);
        assert_eq!(report.polls as u64, requests);
        // Noticed within the knob's lag, and confirmed.
        let knob = WaitOptions::default().schedule.max_lag();
        assert!(took >= Duration::from_secs(40), "{took:?}");
        assert!(
            took <= Duration::from_secs(40) + knob + CONFIRM_AFTER,
            "{took:?}"
        );
        // Far fewer reads than a poll a second: the ramp, then max_lag.
        assert!(requests < 20, "{requests}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_old_task_in_progress_blocks_and_sets_the_pace() {
        // A task created 20 minutes before the wait and still executing for 10 more: older
        // than --since, so not counted, but it blocks readiness.
        let instance = SimInstance {
            tasks: vec![SimTask {
                name: "EXTEND".into(),
                start_ms: -1_200_000,
                run_ms: 1_800_000,
                final_status: "SUCCESS".into(),
                details: None,
            }],
            ..SimInstance::new("i-1", 0)
        };
        let (report, took, requests) = wait(sim(instance)).await;
        assert_eq!(report.outcome, Outcome::Success);
        assert!(took >= Duration::from_secs(600), "{took:?}");
        assert_eq!(report.tasks, Some(Vec::new()), "not counted");
        // Its age (20 min, past the schedule's patience) spaces the polls out.
        assert!(requests < 60, "{requests}");
    }
}

//! Waiting on a job: read it until it ends. A started swap's job is followed the same way.

use super::engine::{Kind, Look, Reads};
use super::error::WaitError;
use super::fan_out;
use super::observer::Seen;
use super::options::WaitOptions;
use super::report::{JobReport, Outcome, Subject};
use super::source::JobSource;
use super::{NARRATION, OUTCOME};
use crate::api::{Client, Job, JobId, PollError, Status};
use std::future::Future;
use std::sync::Arc;
use tokio::time::Instant;

/// Waits for one job and reports how it ended. Dropping the future stops the wait (with no
/// report); [`wait_all`] can be stopped and still report.
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let client = dcs_wait::Client::from_env().await?;
/// let job_id = "ff8080818822bbf70188235afc24141a".parse()?;
/// let report = dcs_wait::wait_one(client, &job_id, &dcs_wait::WaitOptions::default()).await;
/// println!("{} {:?} ms", report.outcome, report.duration_ms);
/// # Ok(()) }
/// ```
pub async fn wait_one(client: Client, job_id: &JobId, options: &WaitOptions) -> JobReport {
    fan_out::one(JobWait::new(&Arc::new(client), job_id), options).await
}

/// Waits for every job at once, sharing `source`, under one deadline. Reports come back in
/// the order of `job_ids`. When `cancel` completes, every wait ends at once as
/// `interrupted` with its last status; so does the first failure with
/// [`fail_fast`](WaitOptions::fail_fast), and those reports say so in `error`. Pass
/// `std::future::pending()` for no cancellation, or any future: a signal, a channel, a
/// timer.
///
/// ```no_run
/// # async fn example(client: dcs_wait::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let ids: Vec<dcs_wait::JobId> = vec!["job-1".parse()?, "job-2".parse()?];
/// let stop = async {
///     let _ = tokio::signal::ctrl_c().await;
/// };
/// let reports = dcs_wait::wait_all(client, &ids, &Default::default(), stop).await;
/// std::process::exit(dcs_wait::ExitStatus::of_all(&reports).code().into());
/// # }
/// ```
pub async fn wait_all<C>(
    client: Client,
    job_ids: &[JobId],
    options: &WaitOptions,
    cancel: C,
) -> Vec<JobReport>
where
    C: Future<Output = ()>,
{
    wait_all_from(client, job_ids, options, cancel).await
}

/// [`wait_all`] on any source: the client, or a test's.
pub(crate) async fn wait_all_from<S, C>(
    source: S,
    job_ids: &[JobId],
    options: &WaitOptions,
    cancel: C,
) -> Vec<JobReport>
where
    S: JobSource,
    C: Future<Output = ()>,
{
    fan_out::each(source, job_ids, JobWait::new, options, cancel).await
}

/// A wait on a job.
struct JobWait<S> {
    source: Arc<S>,
    subject: Subject,
    job_id: JobId,
    followed: Followed,
}

impl<S> JobWait<S> {
    fn new(source: &Arc<S>, job_id: &JobId) -> JobWait<S> {
        JobWait {
            source: source.clone(),
            subject: Subject::Job(job_id.clone()),
            job_id: job_id.clone(),
            followed: Followed::since(Instant::now()),
        }
    }
}

impl<S: JobSource> Kind for JobWait<S> {
    fn subject(&self) -> &Subject {
        &self.subject
    }

    async fn look(&mut self, reads: &mut Reads<'_>) -> Result<Look, Outcome> {
        let answer = reads.read(|| self.source.fetch(&self.job_id)).await?;
        Ok(self.followed.conclude(self.subject.name(), answer, reads))
    }

    fn seen(&self) -> Seen<'_> {
        self.followed.seen()
    }

    fn not_found_until(&self, options: &WaitOptions, _: super::engine::Clock) -> Instant {
        super::engine::later(self.followed.since, options.not_found_grace)
    }

    fn report(self, outcome: Outcome, polls: u32, error: Option<WaitError>) -> JobReport {
        self.followed.report(&self.subject, outcome, polls, error)
    }
}

/// Something followed as a job (a job, or a swap's task), as far as it has been seen.
pub(super) struct Followed {
    /// Since when it has been waited on: its age when the server does not tell it.
    pub(super) since: Instant,
    /// The last answer read.
    pub(super) last: Option<Job>,
}

impl Followed {
    pub(super) fn since(since: Instant) -> Followed {
        Followed { since, last: None }
    }

    /// Its last status and begin time, for the observer.
    pub(super) fn seen(&self) -> Seen<'_> {
        let last = self.last.as_ref();
        Seen::new(
            last.map(|job| job.status.as_str()),
            last.and_then(|job| job.begin_time),
        )
    }

    /// What one read of it says: it ended, or when to look again.
    pub(super) fn conclude(
        &mut self,
        name: &str,
        answer: Result<Job, PollError>,
        reads: &mut Reads<'_>,
    ) -> Look {
        let job = match answer {
            Ok(job) => job,
            Err(failure) => return Look::Failed(failure),
        };
        log_change(name, self.last.as_ref(), &job);
        let outcome = match job.status {
            Status::Success => Some(Outcome::Success),
            Status::Failed { .. } => Some(Outcome::Failed),
            _ => None,
        };
        if let Some(outcome) = outcome {
            self.last = Some(job);
            return Look::End(outcome, None);
        }
        // The job's age by the server's clock, or how long we have waited; the schedule
        // takes the larger (both only ever underestimate it).
        let window = job
            .job_type
            .as_deref()
            .and_then(|t| reads.options().history.window(t));
        let delay = reads.scheduled(job.age(), self.since, window);
        self.last = Some(job);
        Look::again(delay)
    }

    /// The report on `subject`, with what was last seen of it.
    pub(super) fn report(
        &self,
        subject: &Subject,
        outcome: Outcome,
        polls: u32,
        error: Option<WaitError>,
    ) -> JobReport {
        JobReport::new(subject, outcome, self.last.as_ref(), polls, error)
    }
}

/// One line per change of status, not per poll; an unknown status is a warning, once. The
/// last line says how it ended: an error when it failed.
fn log_change(name: &str, previous: Option<&Job>, job: &Job) {
    if previous.map(|p| &p.status) == Some(&job.status) {
        return;
    }
    match &job.status {
        Status::Unknown(raw) => {
            tracing::warn!("{name}: unknown status {raw:?}: not a finished state, still waiting")
        }
        Status::Success => tracing::info!(target: OUTCOME, "{name}: {}", job.status),
        Status::Failed { .. } => tracing::error!(target: OUTCOME, "{name}: {}", job.status),
        status => tracing::info!(target: NARRATION, "{name}: {status}"),
    }
}

//! One job's wait: poll on the schedule, retry on faults, keep the deadline.
//!
//! Two clocks of backoff meet here. The [`Schedule`] says when to look again at a job that
//! answered but is not finished, from the job's age and type. After a transient fault (5xx,
//! 429, a dropped connection) the retry delay comes from backon's exponential backoff
//! instead, stretched to any `Retry-After`, and reset by the next good answer. All timing
//! goes through `tokio::time`, which `tokio::time::pause` turns into virtual time.

use super::observer::WaitEvent;
use super::options::WaitOptions;
use super::report::{JobReport, Outcome, Subject};
use crate::api::{ApiError, Job, PollError, Status};
use backon::BackoffBuilder;
use std::future::Future;
use std::time::Duration;
use tokio::time::{sleep_until, timeout_at, Instant};
use tokio_util::sync::CancellationToken;

/// The last poll is made this long before the deadline (or a tenth of the timeout, if that is
/// shorter), so that its answer can arrive before the deadline rather than be cut off by it.
pub const LAST_POLL_HEADROOM: Duration = Duration::from_secs(1);

/// When the waits began and when they must end.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    pub(super) start: Instant,
    pub(super) deadline: Instant,
}

impl Clock {
    /// When the last request goes: [`LAST_POLL_HEADROOM`] before the deadline, or a tenth of
    /// the whole wait when that is shorter.
    pub(super) fn last_poll_at(&self) -> Instant {
        self.deadline - LAST_POLL_HEADROOM.min((self.deadline - self.start) / 10)
    }
}

/// Polls with `fetch` until the job it reads ends, the deadline passes or `cancel` fires.
/// `fetch` reads a job, or something followed as one (a swap's background task).
pub(super) async fn poll_until_done<F, Fut>(
    subject: &Subject,
    fetch: F,
    options: &WaitOptions,
    clock: Clock,
    seed: u64,
    cancel: &CancellationToken,
) -> JobReport
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Job, PollError>>,
{
    let name = subject.name();
    let last_poll_at = clock.last_poll_at();
    let mut faults = Faults::new(options, clock);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut last: Option<Job> = None;
    let mut last_error: Option<ApiError> = None;
    let mut polls = 0u32;
    let mut next_at = clock.start;

    loop {
        if let Err(outcome) = turn(next_at, options, clock, cancel).await {
            return JobReport::new(subject, outcome, last.as_ref(), polls, last_error);
        }
        polls += 1;
        let sent_at = Instant::now();
        let request_end = clock.deadline.min(later(sent_at, options.request_timeout));
        let answer = tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                return JobReport::new(subject, Outcome::Interrupted, last.as_ref(), polls, last_error);
            }
            answer = timeout_at(request_end, fetch()) => answer,
        };
        let now = Instant::now();
        let delay = match answer {
            Ok(Ok(job)) => {
                log_change(name, last.as_ref(), &job);
                let outcome = match job.status {
                    Status::Success => Some(Outcome::Success),
                    Status::Failed { .. } => Some(Outcome::Failed),
                    _ => None,
                };
                last = Some(job);
                if let Some(outcome) = outcome {
                    return JobReport::new(subject, outcome, last.as_ref(), polls, None);
                }
                last_error = None;
                faults.reset();
                // The job's age by the server's clock, or how long we have waited; the
                // schedule takes the larger (both only ever underestimate it).
                let waited = now - clock.start;
                let age = last.as_ref().and_then(Job::age).unwrap_or(waited);
                let window = last
                    .as_ref()
                    .and_then(|j| j.job_type.as_deref())
                    .and_then(|t| options.priors.window(t));
                options.schedule.delay(age, waited, window, &mut rng)
            }
            Ok(Err(failure)) => match faults.after(name, failure, now) {
                Ok((delay, error)) => {
                    last_error = Some(error);
                    delay
                }
                Err(error) => {
                    return JobReport::new(
                        subject,
                        Outcome::Error,
                        last.as_ref(),
                        polls,
                        Some(error),
                    )
                }
            },
            Err(_elapsed) => {
                let (delay, error) = faults.timed_out(name, now - sent_at);
                last_error = Some(error);
                delay
            }
        };
        if Instant::now() >= last_poll_at {
            tracing::warn!("{name}: deadline reached; the job is not finished");
            return JobReport::new(subject, Outcome::Timeout, last.as_ref(), polls, last_error);
        }
        next_at = later(Instant::now(), delay).min(last_poll_at);
        if let Some(observer) = &options.observer {
            observer.on_event(&WaitEvent::Polled {
                subject,
                job: last.as_ref(),
                error: last_error.as_ref(),
                next_poll: next_at,
            });
        }
        tracing::debug!(
            "{name}: poll {polls} done; next in {:.1?}",
            next_at - Instant::now()
        );
    }
}

/// How a wait rides out failed reads: the retry backoff (reset by a good answer) stretched to
/// any `Retry-After`, a 429 slowing the shared budget, the 404 grace; and which failures end
/// the wait.
pub(super) struct Faults<'a> {
    options: &'a WaitOptions,
    retries: backon::ExponentialBackoff,
    grace_end: Instant,
}

impl<'a> Faults<'a> {
    pub(super) fn new(options: &'a WaitOptions, clock: Clock) -> Faults<'a> {
        Faults {
            options,
            retries: options.retry.build(),
            grace_end: later(clock.start, options.not_found_grace),
        }
    }

    /// A good answer: the next fault backs off from the start again.
    pub(super) fn reset(&mut self) {
        self.retries = self.options.retry.build();
    }

    fn next_delay(&mut self) -> Duration {
        self.retries
            .next()
            .unwrap_or(self.options.schedule.max_lag())
    }

    /// After `failure` of a read of `name` at `now`: how long until the next try, with the
    /// error to keep; or the error that ends the wait.
    pub(super) fn after(
        &mut self,
        name: &str,
        failure: PollError,
        now: Instant,
    ) -> Result<(Duration, ApiError), ApiError> {
        match failure {
            PollError::Final(error) => {
                tracing::error!("{name}: {error}");
                Err(error)
            }
            PollError::NotFound(error) => {
                if now >= self.grace_end {
                    tracing::error!("{name}: still not found after the grace period: {error}");
                    return Err(error);
                }
                tracing::info!("{name}: not visible yet ({error}); trying again");
                // Look once more right at the end of the grace period rather than past it.
                Ok((self.next_delay().min(self.grace_end - now), error))
            }
            PollError::Transient { error, retry_after } => {
                if let (Some(limiter), Some(429)) = (&self.options.limiter, error.http_status) {
                    limiter.throttled();
                }
                let delay = self.next_delay().max(retry_after.unwrap_or_default());
                tracing::warn!("{name}: {error}; trying again in {delay:.1?}");
                Ok((delay, error))
            }
        }
    }

    /// No answer within `waited`: another try after the backoff.
    pub(super) fn timed_out(&mut self, name: &str, waited: Duration) -> (Duration, ApiError) {
        let error = ApiError::local("request_timeout", format!("no answer within {waited:.1?}"));
        let delay = self.next_delay();
        tracing::warn!("{name}: {error}; trying again in {delay:.1?}");
        (delay, error)
    }
}

/// Waits for `next_at`, then for the request budget: a request may go now. Or why not: the
/// wait was cancelled (`Interrupted`), or the deadline passed while waiting for the budget
/// (`Timeout`).
pub(super) async fn turn(
    next_at: Instant,
    options: &WaitOptions,
    clock: Clock,
    cancel: &CancellationToken,
) -> Result<(), Outcome> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => return Err(Outcome::Interrupted),
        _ = sleep_until(next_at) => {}
    }
    if let Some(limiter) = &options.limiter {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(Outcome::Interrupted),
            _ = sleep_until(clock.deadline) => return Err(Outcome::Timeout),
            _ = limiter.acquire() => {}
        }
    }
    Ok(())
}

/// `at + by`, saturating far in the future instead of overflowing (a library caller may ask
/// for any duration).
pub(super) fn later(at: Instant, by: Duration) -> Instant {
    at.checked_add(by)
        .or_else(|| at.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(at)
}

/// One line per change of status, not per poll; an unknown status is a warning, once.
fn log_change(name: &str, previous: Option<&Job>, job: &Job) {
    if previous.map(|p| &p.status) == Some(&job.status) {
        return;
    }
    match &job.status {
        Status::Unknown(raw) => {
            tracing::warn!("{name}: unknown status {raw:?}: not a finished state, still waiting")
        }
        status => tracing::info!("{name}: {status}"),
    }
}

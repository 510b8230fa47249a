//! The wait loop: schedule + job source + deadline → a report per job.
//!
//! The loop is generic over [`JobSource`], so the CLI (over HTTP), the unit tests (a scripted
//! source in virtual time) and benchmarks drive the very same code. All timing goes through
//! `tokio::time`, which `tokio::time::pause` turns into virtual time.
//!
//! Two clocks of backoff meet here. The [`Schedule`] says when to look again at a job that
//! answered but is not finished, from the job's age and type. After a transient fault (5xx, 429, a dropped connection) the
//! retry delay comes from backon's exponential backoff instead, stretched to any
//! `Retry-After`, and reset by the next good answer.

use crate::api_error::ApiError;
use crate::client::{DcsClient, PollError};
use crate::history::Priors;
use crate::job::{Job, Status};
use crate::limiter::RateLimiter;
use crate::progress::Board;
use crate::report::{JobReport, Outcome};
use crate::schedule::Schedule;
use backon::{BackoffBuilder, ExponentialBuilder};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, timeout_at, Instant};
use tokio_util::sync::CancellationToken;

/// Where jobs come from: the HTTP client, or a test's script.
pub trait JobSource: Send + Sync + 'static {
    fn fetch(&self, job_id: &str) -> impl Future<Output = Result<Job, PollError>> + Send;
}

impl JobSource for DcsClient {
    fn fetch(&self, job_id: &str) -> impl Future<Output = Result<Job, PollError>> + Send {
        self.get_job(job_id)
    }
}

/// The last poll is made this long before the deadline (or a tenth of the timeout, if that is
/// shorter), so that its answer can arrive before the deadline rather than be cut off by it.
pub const LAST_POLL_HEADROOM: Duration = Duration::from_secs(1);

/// How to wait.
///
/// # Default
///
/// - timeout: 30 min, for all jobs together
/// - request_timeout: 10 s, and never past the deadline
/// - not_found_grace: 30 s: a job may answer 404 for a moment after it was created
/// - schedule: [`Schedule::default`]
/// - retry (after a transient fault): exponential from 0.5 s, factor 2, at most 15 s, plus
///   backon's jitter (up to the delay again), no limit on tries but the deadline
/// - seed: random (a fixed seed makes the jitter reproducible)
/// - fail_fast: off; on, the first job that fails or cannot be read stops every other wait
/// - limiter: none; one shared [`RateLimiter`] bounds the requests of all jobs together
/// - progress: none; a [`Board`] is told of every poll and every end
/// - priors: the built-in ones; with a [`History`](crate::history::History), learnt ones
#[derive(Debug, Clone)]
pub struct WaitOptions {
    pub timeout: Duration,
    pub request_timeout: Duration,
    pub not_found_grace: Duration,
    pub schedule: Schedule,
    pub retry: ExponentialBuilder,
    pub seed: Option<u64>,
    pub fail_fast: bool,
    pub limiter: Option<Arc<RateLimiter>>,
    pub progress: Option<Arc<Board>>,
    pub priors: Arc<Priors>,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(30 * 60),
            request_timeout: Duration::from_secs(10),
            not_found_grace: Duration::from_secs(30),
            schedule: Schedule::default(),
            retry: ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(500))
                .with_factor(2.0)
                .with_max_delay(Duration::from_secs(15))
                .with_jitter()
                .without_max_times(),
            seed: None,
            fail_fast: false,
            limiter: None,
            progress: None,
            priors: Arc::default(),
        }
    }
}

/// Waits for every job at once, sharing `source`, under one deadline. Reports come back in
/// the order of `job_ids`. Cancelling `cancel` ends every wait at once as `interrupted`; so
/// does the first failure with `fail_fast`, and those reports say so in `error`.
pub async fn wait_all<S: JobSource>(
    source: Arc<S>,
    job_ids: &[String],
    options: &WaitOptions,
    cancel: &CancellationToken,
) -> Vec<JobReport> {
    let start = Instant::now();
    let deadline = later(start, options.timeout);
    let seed = options.seed.unwrap_or_else(|| fastrand::u64(..));
    // Cancelled by a signal (through `cancel`) or by --fail-fast (this one alone).
    let stop = cancel.child_token();
    let mut tasks = tokio::task::JoinSet::new();
    let mut index_of = HashMap::new();
    for (index, job_id) in job_ids.iter().enumerate() {
        let (source, job_id, options, stop) = (
            source.clone(),
            job_id.clone(),
            options.clone(),
            stop.clone(),
        );
        let job_seed = seed.wrapping_add((index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let handle = tasks.spawn(async move {
            let clock = Clock { start, deadline };
            wait_one(&*source, &job_id, &options, clock, job_seed, &stop).await
        });
        index_of.insert(handle.id(), index);
    }
    let mut reports: Vec<Option<JobReport>> = vec![None; job_ids.len()];
    let mut first_failure: Option<(String, Outcome)> = None;
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((id, report)) => {
                if let Some(board) = &options.progress {
                    board.finished(&report);
                }
                let failed = matches!(report.outcome, Outcome::Failed | Outcome::Error);
                if options.fail_fast && failed && first_failure.is_none() {
                    tracing::warn!(
                        "{}: {}; --fail-fast stops the other waits",
                        report.job_id,
                        report.outcome.as_str()
                    );
                    first_failure = Some((report.job_id.clone(), report.outcome));
                    stop.cancel();
                }
                reports[index_of[&id]] = Some(report);
            }
            Err(e) => {
                // A wait that panicked is a bug; it still gets a report, not a crash of all.
                let error = ApiError::local("internal", format!("the wait stopped: {e}"));
                let index = index_of[&e.id()];
                reports[index] = Some(JobReport::new(
                    &job_ids[index],
                    Outcome::Error,
                    None,
                    0,
                    Some(error),
                ));
            }
        }
    }
    let mut reports: Vec<JobReport> = reports.into_iter().flatten().collect();
    if let (Some((failed, outcome)), false) = (first_failure, cancel.is_cancelled()) {
        for report in &mut reports {
            if report.outcome == Outcome::Interrupted {
                report.error = Some(ApiError::local(
                    "fail_fast",
                    format!(
                        "stopped waiting: job {failed} ended {} (--fail-fast)",
                        outcome.as_str()
                    ),
                ));
            }
        }
    }
    reports
}

#[derive(Debug, Clone, Copy)]
struct Clock {
    start: Instant,
    deadline: Instant,
}

async fn wait_one<S: JobSource>(
    source: &S,
    job_id: &str,
    options: &WaitOptions,
    clock: Clock,
    seed: u64,
    cancel: &CancellationToken,
) -> JobReport {
    let headroom = LAST_POLL_HEADROOM.min((clock.deadline - clock.start) / 10);
    let last_poll_at = clock.deadline - headroom;
    let grace_end = later(clock.start, options.not_found_grace);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut retries = options.retry.build();
    let retry_delay = |retries: &mut backon::ExponentialBackoff| {
        retries.next().unwrap_or(options.schedule.max_lag())
    };
    let mut last: Option<Job> = None;
    let mut last_error: Option<ApiError> = None;
    let mut polls = 0u32;
    let mut next_at = clock.start;

    loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                return JobReport::new(job_id, Outcome::Interrupted, last.as_ref(), polls, last_error);
            }
            _ = sleep_until(next_at) => {}
        }
        if let Some(limiter) = &options.limiter {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    return JobReport::new(job_id, Outcome::Interrupted, last.as_ref(), polls, last_error);
                }
                _ = sleep_until(clock.deadline) => {
                    return JobReport::new(job_id, Outcome::Timeout, last.as_ref(), polls, last_error);
                }
                _ = limiter.acquire() => {}
            }
        }
        polls += 1;
        let sent_at = Instant::now();
        let request_end = clock.deadline.min(later(sent_at, options.request_timeout));
        let answer = tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                return JobReport::new(job_id, Outcome::Interrupted, last.as_ref(), polls, last_error);
            }
            answer = timeout_at(request_end, source.fetch(job_id)) => answer,
        };
        let now = Instant::now();
        let delay = match answer {
            Ok(Ok(job)) => {
                log_change(job_id, last.as_ref(), &job);
                let outcome = match job.status {
                    Status::Success => Some(Outcome::Success),
                    Status::Failed { .. } => Some(Outcome::Failed),
                    _ => None,
                };
                last = Some(job);
                if let Some(outcome) = outcome {
                    return JobReport::new(job_id, outcome, last.as_ref(), polls, None);
                }
                last_error = None;
                retries = options.retry.build();
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
            Ok(Err(PollError::Final(error))) => {
                tracing::error!("{job_id}: {error}");
                return JobReport::new(job_id, Outcome::Error, last.as_ref(), polls, Some(error));
            }
            Ok(Err(PollError::NotFound(error))) => {
                if now >= grace_end {
                    tracing::error!("{job_id}: still not found after the grace period: {error}");
                    return JobReport::new(
                        job_id,
                        Outcome::Error,
                        last.as_ref(),
                        polls,
                        Some(error),
                    );
                }
                tracing::info!("{job_id}: not visible yet ({error}); trying again");
                last_error = Some(error);
                // Look once more right at the end of the grace period rather than past it.
                retry_delay(&mut retries).min(grace_end - now)
            }
            Ok(Err(PollError::Transient { error, retry_after })) => {
                if let (Some(limiter), Some(429)) = (&options.limiter, error.http_status) {
                    limiter.throttled();
                }
                let delay = retry_delay(&mut retries).max(retry_after.unwrap_or_default());
                tracing::warn!("{job_id}: {error}; trying again in {delay:.1?}");
                last_error = Some(error);
                delay
            }
            Err(_elapsed) => {
                let error = ApiError::local(
                    "request_timeout",
                    format!("no answer within {:.1?}", now - sent_at),
                );
                let delay = retry_delay(&mut retries);
                tracing::warn!("{job_id}: {error}; trying again in {delay:.1?}");
                last_error = Some(error);
                delay
            }
        };
        if Instant::now() >= last_poll_at {
            tracing::warn!("{job_id}: deadline reached; the job is not finished");
            return JobReport::new(job_id, Outcome::Timeout, last.as_ref(), polls, last_error);
        }
        next_at = later(Instant::now(), delay).min(last_poll_at);
        if let Some(board) = &options.progress {
            board.polled(job_id, last.as_ref().map(|j| j.status.as_str()), next_at);
        }
        tracing::debug!(
            "{job_id}: poll {polls} done; next in {:.1?}",
            next_at - Instant::now()
        );
    }
}

/// `at + by`, saturating far in the future instead of overflowing (a library caller may ask
/// for any duration).
fn later(at: Instant, by: Duration) -> Instant {
    at.checked_add(by)
        .or_else(|| at.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(at)
}

/// One line per change of status, not per poll; an unknown status is a warning, once.
fn log_change(job_id: &str, previous: Option<&Job>, job: &Job) {
    if previous.map(|p| &p.status) == Some(&job.status) {
        return;
    }
    match &job.status {
        Status::Unknown(raw) => {
            tracing::warn!("{job_id}: unknown status {raw:?}: not a finished state, still waiting")
        }
        status => tracing::info!("{job_id}: {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::Mutex;

    /// One scripted answer: after `delay`, `result`.
    type Step = (Duration, Result<Job, PollError>);

    /// Answers from a script, recording when each request was made (virtual time).
    struct Script {
        steps: Mutex<VecDeque<Step>>,
        /// Answer when the script is used up.
        last: Step,
        calls: Mutex<Vec<Duration>>,
        epoch: Instant,
    }

    impl Script {
        fn new(steps: Vec<Step>, last: Step) -> Arc<Script> {
            Arc::new(Script {
                steps: Mutex::new(steps.into()),
                last,
                calls: Mutex::new(Vec::new()),
                epoch: Instant::now(),
            })
        }
        fn call_times(&self) -> Vec<Duration> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl JobSource for Script {
        fn fetch(&self, _job_id: &str) -> impl Future<Output = Result<Job, PollError>> + Send {
            self.calls.lock().unwrap().push(self.epoch.elapsed());
            let (delay, result) = self
                .steps
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| self.last.clone());
            async move {
                tokio::time::sleep(delay).await;
                result
            }
        }
    }

    fn job(status: &str) -> Result<Job, PollError> {
        Ok(Job::parse(
            format!(
                r#"{{"status":"{status}","job_type":"masterStandbySwapJob","begin_time":"1000","end_time":"3869","fail_reason":"boom"}}"#
            )
            .as_bytes(),
        )
        .unwrap())
    }

    fn now(r: Result<Job, PollError>) -> Step {
        (Duration::ZERO, r)
    }

    fn transient(code: &str, retry_after: Option<u64>) -> Result<Job, PollError> {
        Err(PollError::Transient {
            error: ApiError::local(code, "fault"),
            retry_after: retry_after.map(Duration::from_secs),
        })
    }

    fn no_jitter() -> WaitOptions {
        WaitOptions {
            schedule: Schedule::default().with_jitter(0.0),
            retry: ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(500))
                .with_max_delay(Duration::from_secs(15))
                .without_max_times(),
            seed: Some(1),
            ..WaitOptions::default()
        }
    }

    async fn run(script: &Arc<Script>, options: &WaitOptions) -> JobReport {
        let mut reports = wait_all(
            script.clone(),
            &["job-1".to_string()],
            options,
            &CancellationToken::new(),
        )
        .await;
        reports.pop().unwrap()
    }

    fn secs(times: &[Duration]) -> Vec<f64> {
        times.iter().map(|d| d.as_secs_f64()).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn polls_on_the_schedule_until_success() {
        let script = Script::new(
            vec![now(job("INIT")), now(job("RUNNING")), now(job("RUNNING"))],
            now(job("SUCCESS")),
        );
        let report = run(&script, &no_jitter()).await;
        assert_eq!(report.outcome, Outcome::Success);
        assert_eq!(report.polls, 4);
        assert_eq!(report.duration_ms, Some(2869));
        assert_eq!(report.error, None);
        // A swap: nothing to poll for until its window opens at 2.15 s, then every 0.5 s.
        assert_eq!(secs(&script.call_times()), [0.0, 2.15, 2.65, 3.15]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_job_that_began_before_the_wait_is_polled_for_its_real_age() {
        // The server says the swap began 5 s before it answered: its window is open already.
        let mut late = job("RUNNING");
        if let Ok(job) = &mut late {
            job.answered_at = Some(6_000);
        }
        let script = Script::new(vec![now(late)], now(job("SUCCESS")));
        run(&script, &no_jitter()).await;
        assert_eq!(secs(&script.call_times()), [0.0, 0.5]);
    }

    #[tokio::test(start_paused = true)]
    async fn fail_reports_the_reason() {
        let script = Script::new(vec![now(job("RUNNING"))], now(job("FAIL")));
        let report = run(&script, &no_jitter()).await;
        assert_eq!(report.outcome, Outcome::Failed);
        assert_eq!(report.fail_reason.as_deref(), Some("boom"));
        assert_eq!(report.status.as_deref(), Some("FAIL"));
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_makes_a_last_poll_just_before_the_deadline() {
        let script = Script::new(vec![], now(job("RUNNING")));
        let options = WaitOptions {
            timeout: Duration::from_secs(60),
            ..no_jitter()
        };
        let started = Instant::now();
        let report = run(&script, &options).await;
        assert_eq!(report.outcome, Outcome::Timeout);
        assert_eq!(report.status.as_deref(), Some("RUNNING"));
        let times = script.call_times();
        assert_eq!(times.last().copied(), Some(Duration::from_secs(59)));
        assert!(started.elapsed() <= Duration::from_secs(60));
        assert_eq!(report.polls as usize, times.len());
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_server_never_holds_past_the_deadline() {
        let stall = (Duration::from_secs(3600), job("SUCCESS"));
        let script = Script::new(vec![], stall);
        let options = WaitOptions {
            timeout: Duration::from_secs(25),
            ..no_jitter()
        };
        let started = Instant::now();
        let report = run(&script, &options).await;
        assert_eq!(report.outcome, Outcome::Timeout);
        assert!(
            started.elapsed() <= Duration::from_secs(25),
            "{:?}",
            started.elapsed()
        );
        let error = report.error.unwrap();
        assert_eq!(error.code.as_deref(), Some("request_timeout"));
        // Requests at 0 s and 10.5 s each time out after 10 s; the third is cut by the deadline.
        assert_eq!(secs(&script.call_times()), [0.0, 10.5, 21.5]);
    }

    #[tokio::test(start_paused = true)]
    async fn final_errors_are_not_retried() {
        let error = ApiError::from_response(
            401,
            br#"{"error_code":"APIGW.0301","error_msg":"bad sig"}"#,
            None,
        );
        let script = Script::new(vec![], now(Err(PollError::Final(error.clone()))));
        let report = run(&script, &no_jitter()).await;
        assert_eq!(report.outcome, Outcome::Error);
        assert_eq!(report.polls, 1);
        assert_eq!(report.error, Some(error));
    }

    #[tokio::test(start_paused = true)]
    async fn transient_faults_are_retried_with_backoff_and_then_forgotten() {
        let script = Script::new(
            vec![
                now(transient("http_503", None)),
                now(transient("connect", None)),
                now(job("RUNNING")),
            ],
            now(job("SUCCESS")),
        );
        let report = run(&script, &no_jitter()).await;
        assert_eq!(report.outcome, Outcome::Success);
        assert_eq!(report.polls, 4);
        assert_eq!(report.error, None);
        // 0.5 s and 1 s of retry backoff, then the schedule: the swap's window opens at 2.15 s.
        assert_eq!(secs(&script.call_times()), [0.0, 0.5, 1.5, 2.15]);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured() {
        let script = Script::new(
            vec![now(transient("APIG.0308", Some(7)))],
            now(job("SUCCESS")),
        );
        run(&script, &no_jitter()).await;
        assert_eq!(secs(&script.call_times()), [0.0, 7.0]);
    }

    #[tokio::test(start_paused = true)]
    async fn not_found_is_believed_only_for_the_grace_period() {
        let not_found = || {
            now(Err(PollError::NotFound(ApiError::from_response(
                404, b"", None,
            ))))
        };
        let script = Script::new(vec![not_found(), not_found()], now(job("SUCCESS")));
        let report = run(&script, &no_jitter()).await;
        assert_eq!((report.outcome, report.polls), (Outcome::Success, 3));

        let script = Script::new(vec![], not_found());
        let options = WaitOptions {
            not_found_grace: Duration::from_secs(5),
            ..no_jitter()
        };
        let report = run(&script, &options).await;
        assert_eq!(report.outcome, Outcome::Error);
        assert_eq!(report.error.unwrap().http_status, Some(404));
        // Backoff 0.5, 1, 2, then a last look right at the end of the grace period.
        assert_eq!(secs(&script.call_times()), [0.0, 0.5, 1.5, 3.5, 5.0]);
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_interrupts_at_once_and_keeps_the_last_status() {
        let script = Script::new(
            vec![now(job("RUNNING"))],
            (Duration::from_secs(3600), job("SUCCESS")),
        );
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            trigger.cancel();
        });
        let started = Instant::now();
        let reports = wait_all(script.clone(), &["j".into()], &no_jitter(), &cancel).await;
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert_eq!(reports[0].outcome, Outcome::Interrupted);
        assert_eq!(reports[0].status.as_deref(), Some("RUNNING"));
    }

    #[tokio::test(start_paused = true)]
    async fn fail_fast_stops_the_others_with_their_last_status() {
        // Jobs answer in turn from one script: the third answer, a FAIL, goes to some job.
        let script = Script::new(
            vec![now(job("RUNNING")), now(job("RUNNING")), now(job("FAIL"))],
            now(job("RUNNING")),
        );
        let ids: Vec<String> = (0..3).map(|i| format!("job-{i}")).collect();
        let options = WaitOptions {
            fail_fast: true,
            ..no_jitter()
        };
        let started = Instant::now();
        let reports = wait_all(script.clone(), &ids, &options, &CancellationToken::new()).await;
        assert!(started.elapsed() < Duration::from_secs(60));
        let failed: Vec<&JobReport> = reports
            .iter()
            .filter(|r| r.outcome == Outcome::Failed)
            .collect();
        assert_eq!(failed.len(), 1);
        let stopped: Vec<&JobReport> = reports
            .iter()
            .filter(|r| r.outcome == Outcome::Interrupted)
            .collect();
        assert_eq!(stopped.len(), 2);
        for report in stopped {
            assert_eq!(report.status.as_deref(), Some("RUNNING"));
            let error = report.error.as_ref().unwrap();
            assert_eq!(error.code.as_deref(), Some("fail_fast"));
            assert!(error.message.contains(&failed[0].job_id));
        }

        // Without it, the others go on until the deadline.
        let script = Script::new(
            vec![now(job("RUNNING")), now(job("RUNNING")), now(job("FAIL"))],
            now(job("RUNNING")),
        );
        let options = WaitOptions {
            timeout: Duration::from_secs(60),
            ..no_jitter()
        };
        let reports = wait_all(script, &ids, &options, &CancellationToken::new()).await;
        assert_eq!(
            reports
                .iter()
                .filter(|r| r.outcome == Outcome::Timeout)
                .count(),
            2
        );
    }

    #[tokio::test(start_paused = true)]
    async fn durations_beyond_the_clock_do_not_panic() {
        let script = Script::new(vec![], now(job("SUCCESS")));
        let options = WaitOptions {
            timeout: Duration::MAX,
            request_timeout: Duration::MAX,
            not_found_grace: Duration::MAX,
            ..no_jitter()
        };
        assert_eq!(run(&script, &options).await.outcome, Outcome::Success);
    }

    #[tokio::test(start_paused = true)]
    async fn several_jobs_share_the_source_and_keep_their_order() {
        let script = Script::new(
            vec![now(job("RUNNING")), now(job("FAIL"))],
            now(job("SUCCESS")),
        );
        let ids: Vec<String> = (0..5).map(|i| format!("job-{i}")).collect();
        let reports = wait_all(
            script.clone(),
            &ids,
            &no_jitter(),
            &CancellationToken::new(),
        )
        .await;
        let got: Vec<&str> = reports.iter().map(|r| r.job_id.as_str()).collect();
        assert_eq!(got, ids.iter().map(String::as_str).collect::<Vec<_>>());
        let outcomes = reports
            .iter()
            .filter(|r| r.outcome == Outcome::Failed)
            .count();
        assert_eq!(outcomes, 1);
    }
}

//! The entry points: wait for one job, or for many under one deadline.

use super::observer::WaitEvent;
use super::options::WaitOptions;
use super::poll::{later, poll_until_done, Clock};
use super::report::{JobReport, Outcome, Subject};
use super::source::JobSource;
use crate::api::{ApiError, JobId};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

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
pub async fn wait_one<S: JobSource>(source: S, job_id: &JobId, options: &WaitOptions) -> JobReport {
    let mut reports = wait_all(
        source,
        std::slice::from_ref(job_id),
        options,
        std::future::pending(),
    )
    .await;
    reports.pop().unwrap_or_else(|| {
        let error = ApiError::local("internal", "the wait ended without a report");
        JobReport::new(
            &Subject::job(job_id.clone()),
            Outcome::Error,
            None,
            0,
            Some(error),
        )
    })
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
pub async fn wait_all<S, C>(
    source: S,
    job_ids: &[JobId],
    options: &WaitOptions,
    cancel: C,
) -> Vec<JobReport>
where
    S: JobSource,
    C: Future<Output = ()>,
{
    let subjects = job_ids.iter().cloned().map(Subject::job).collect();
    fan_out(
        source,
        subjects,
        options,
        cancel,
        |share: Share<S>| async move {
            let Some(job_id) = share.subject.job_id.clone() else {
                return share.internal("a job wait without a job");
            };
            let fetch = || share.source.fetch(&job_id);
            poll_until_done(
                &share.subject,
                fetch,
                &share.options,
                share.clock,
                share.seed,
                &share.stop,
            )
            .await
        },
    )
    .await
}

/// One wait's share of a fan-out: the source and options all waits share, its subject, the
/// clock, its own jitter seed, and the token it stops on.
pub(super) struct Share<S> {
    pub(super) source: Arc<S>,
    pub(super) options: Arc<WaitOptions>,
    pub(super) subject: Subject,
    pub(super) clock: Clock,
    pub(super) seed: u64,
    pub(super) stop: CancellationToken,
}

impl<S> Share<S> {
    /// The report of a wait that could not run: a bug, said as one.
    pub(super) fn internal(&self, why: &str) -> JobReport {
        let error = ApiError::local("internal", format!("{why} ({})", self.subject));
        JobReport::new(&self.subject, Outcome::Error, None, 0, Some(error))
    }
}

/// Runs `work` for every subject at once under one deadline, sharing `source`, and gives the
/// reports in the order of `subjects`: what every kind of wait shares. When `cancel`
/// completes, or the first failure comes with `fail_fast`, every share's token is cancelled.
pub(super) async fn fan_out<S, W, Fut, C>(
    source: S,
    subjects: Vec<Subject>,
    options: &WaitOptions,
    cancel: C,
    work: W,
) -> Vec<JobReport>
where
    S: Send + Sync + 'static,
    W: Fn(Share<S>) -> Fut,
    Fut: Future<Output = JobReport> + Send + 'static,
    C: Future<Output = ()>,
{
    // One source and one set of options for every wait: pointers to clone per subject.
    let (source, shared) = (Arc::new(source), Arc::new(options.clone()));
    let share = move |subject, clock, seed, stop| {
        work(Share {
            source: source.clone(),
            options: shared.clone(),
            subject,
            clock,
            seed,
            stop,
        })
    };
    let token = CancellationToken::new();
    let waits = run_all(subjects, options, &token, share);
    tokio::pin!(waits, cancel);
    tokio::select! {
        reports = &mut waits => return reports,
        () = &mut cancel => token.cancel(),
    }
    waits.await
}

async fn run_all<W, Fut>(
    subjects: Vec<Subject>,
    options: &WaitOptions,
    cancel: &CancellationToken,
    work: W,
) -> Vec<JobReport>
where
    W: Fn(Subject, Clock, u64, CancellationToken) -> Fut,
    Fut: Future<Output = JobReport> + Send + 'static,
{
    let start = Instant::now();
    let clock = Clock {
        start,
        deadline: later(start, options.timeout),
    };
    let seed = options.seed.unwrap_or_else(|| fastrand::u64(..));
    // Cancelled by the caller (through `cancel`) or by fail_fast (this one alone).
    let stop = cancel.child_token();
    let mut tasks = tokio::task::JoinSet::new();
    let mut index_of = HashMap::new();
    for (index, subject) in subjects.iter().enumerate() {
        let own_seed = seed.wrapping_add((index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let handle = tasks.spawn(work(subject.clone(), clock, own_seed, stop.clone()));
        index_of.insert(handle.id(), index);
    }
    let mut reports: Vec<Option<JobReport>> = vec![None; subjects.len()];
    let mut first_failure: Option<(Subject, Outcome)> = None;
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((id, report)) => {
                if let Some(observer) = &options.observer {
                    observer.on_event(&WaitEvent::Finished(&report));
                }
                let failed = matches!(report.outcome, Outcome::Failed | Outcome::Error);
                if options.fail_fast && failed && first_failure.is_none() {
                    tracing::warn!(
                        "{}: {}; fail-fast stops the other waits",
                        report.name(),
                        report.outcome.as_str()
                    );
                    first_failure = Some((report.subject(), report.outcome));
                    stop.cancel();
                }
                reports[index_of[&id]] = Some(report);
            }
            Err(e) => {
                // A wait that panicked is a bug; it still gets a report, not a crash of all.
                let error = ApiError::local("internal", format!("the wait stopped: {e}"));
                let index = index_of[&e.id()];
                reports[index] = Some(JobReport::new(
                    &subjects[index],
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
                        "stopped waiting: {failed} ended {}, and fail-fast is on",
                        outcome.as_str()
                    ),
                ));
            }
        }
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Job, PollError};
    use crate::wait::Schedule;
    use backon::ExponentialBuilder;
    use std::collections::VecDeque;
    use std::sync::Arc;
    use std::sync::Mutex;
    use std::time::Duration;

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
        fn fetch(&self, _job_id: &JobId) -> impl Future<Output = Result<Job, PollError>> + Send {
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
            &["job-1".parse().unwrap()],
            options,
            std::future::pending(),
        )
        .await;
        reports.pop().unwrap()
    }

    fn ids(ids: &[&str]) -> Vec<JobId> {
        ids.iter().map(|id| id.parse().unwrap()).collect()
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
    async fn the_observer_is_told_of_every_poll_and_the_end() {
        let script = Script::new(
            vec![now(transient("http_503", None)), now(job("RUNNING"))],
            now(job("SUCCESS")),
        );
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let log = seen.clone();
        let started = Instant::now();
        let options = WaitOptions {
            observer: Some(Arc::new(move |event: &WaitEvent<'_>| {
                let line = match event {
                    WaitEvent::Polled {
                        subject,
                        job,
                        error,
                        next_poll,
                    } => format!(
                        "{} {} {} next {:.2}",
                        subject.name(),
                        job.map_or("-", |j| j.status.as_str()),
                        error.map_or("-", |e| e.code.as_deref().unwrap_or("?")),
                        (*next_poll - started).as_secs_f64()
                    ),
                    WaitEvent::Finished(report) => format!("{} {}", report.name(), report.outcome),
                };
                log.lock().unwrap().push(line);
            })),
            ..no_jitter()
        };
        let report = run(&script, &options).await;
        assert_eq!(report.outcome, Outcome::Success);
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "job-1 - http_503 next 0.50",
                "job-1 RUNNING - next 2.15",
                "job-1 success",
            ]
        );
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
        let cancel = tokio::time::sleep(Duration::from_secs(5));
        let started = Instant::now();
        let reports = wait_all(script.clone(), &ids(&["j"]), &no_jitter(), cancel).await;
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
        let ids: Vec<JobId> = (0..3)
            .map(|i| format!("job-{i}").parse().unwrap())
            .collect();
        let options = WaitOptions {
            fail_fast: true,
            ..no_jitter()
        };
        let started = Instant::now();
        let reports = wait_all(script.clone(), &ids, &options, std::future::pending()).await;
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
            assert!(error.message.contains(failed[0].name()));
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
        let reports = wait_all(script, &ids, &options, std::future::pending()).await;
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
        let ids: Vec<JobId> = (0..5)
            .map(|i| format!("job-{i}").parse().unwrap())
            .collect();
        let reports = wait_all(script.clone(), &ids, &no_jitter(), std::future::pending()).await;
        let got: Vec<&str> = reports.iter().map(JobReport::name).collect();
        assert_eq!(got, ids.iter().map(JobId::as_str).collect::<Vec<_>>());
        let outcomes = reports
            .iter()
            .filter(|r| r.outcome == Outcome::Failed)
            .count();
        assert_eq!(outcomes, 1);
    }
}

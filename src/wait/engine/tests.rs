//! The driver's rules, on plain job waits in virtual time: the schedule, the deadline, the
//! retries, the 404 grace, cancellation and fail-fast.

use crate::api::{ApiError, ErrorKind, Job, JobId, PollError};
use crate::wait::WaitError;
use crate::wait::{
    wait_all_from, JobReport, JobSource, Outcome, Retry, Schedule, WaitEvent, WaitOptions, Waiting,
};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// One scripted answer: after `delay`, `result`.
type Step = (Duration, Result<Job, PollError>);

/// Answers from a script, recording when each request was made (virtual time). Its clones
/// share the script and the record.
#[derive(Clone)]
struct Script {
    steps: Arc<Mutex<VecDeque<Step>>>,
    /// Answer when the script is used up.
    last: Step,
    calls: Arc<Mutex<Vec<Duration>>>,
    epoch: Instant,
}

impl Script {
    fn new(steps: Vec<Step>, last: Step) -> Script {
        Script {
            steps: Arc::new(Mutex::new(steps.into())),
            last,
            calls: Arc::default(),
            epoch: Instant::now(),
        }
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

/// A transient fault: an error answer with the API's `code`, or no answer at all.
fn transient(code: Option<&str>, retry_after: Option<u64>) -> Result<Job, PollError> {
    let mut error = ApiError::new(ErrorKind::Connect, "fault");
    if let Some(code) = code {
        error.kind = ErrorKind::Http;
        error.code = Some(code.into());
    }
    Err(PollError::Transient {
        error,
        retry_after: retry_after.map(Duration::from_secs),
    })
}

fn no_jitter() -> WaitOptions {
    WaitOptions {
        schedule: Schedule::default().with_jitter(0.0),
        retry: Retry::default().without_jitter(),
        seed: Some(1),
        ..WaitOptions::default()
    }
}

async fn run(script: &Script, options: &WaitOptions) -> JobReport {
    let mut reports = wait_all_from(
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
async fn the_observer_is_told_of_every_poll_why_it_waits_and_the_end() {
    let not_found = Err(PollError::NotFound(ApiError::new(
        ErrorKind::NotFound,
        "404",
    )));
    let script = Script::new(
        vec![
            now(not_found),
            now(transient(Some("http_503"), None)),
            now(job("RUNNING")),
        ],
        now(job("SUCCESS")),
    );
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let started = Instant::now();
    // Each event's durations from now, as times since the wait began.
    let secs = move |from_now: Duration| (Instant::now() + from_now - started).as_secs_f64();
    let options = WaitOptions {
        observer: Some(Arc::new(move |event: &WaitEvent<'_>| {
            let line = match event {
                WaitEvent::Polled {
                    subject,
                    seen,
                    waiting,
                    next_poll,
                } => {
                    let why = match waiting {
                        Waiting::InProgress => "-".to_string(),
                        Waiting::NotFoundYet { gives_up_in, .. } => {
                            format!("not found until {:.0}", secs(*gives_up_in))
                        }
                        Waiting::Retrying { error, start } => {
                            format!("retrying {} {start}", error.wire_code().unwrap_or("?"))
                        }
                        other => format!("{other:?}"),
                    };
                    format!(
                        "{} {} {why} next {:.2}",
                        subject.name(),
                        seen.status.unwrap_or("-"),
                        secs(*next_poll)
                    )
                }
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
            "job-1 - not found until 30 next 0.50",
            "job-1 - retrying http_503 false next 1.50",
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
    assert_eq!(error.request().unwrap().kind, ErrorKind::RequestTimeout);
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
    assert_eq!(report.error, Some(error.into()));
}

#[tokio::test(start_paused = true)]
async fn transient_faults_are_retried_with_backoff_and_then_forgotten() {
    let script = Script::new(
        vec![
            now(transient(Some("http_503"), None)),
            now(transient(None, None)),
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
        vec![now(transient(Some("APIG.0308"), Some(7)))],
        now(job("SUCCESS")),
    );
    run(&script, &no_jitter()).await;
    assert_eq!(secs(&script.call_times()), [0.0, 7.0]);
}

/// A server never reached (every try fails to connect) is a wrong endpoint or proxy, not a
/// slow job: an error at the unreachable grace, not a timeout at the deadline.
#[tokio::test(start_paused = true)]
async fn a_server_never_reached_is_an_error_at_the_unreachable_grace() {
    let script = Script::new(vec![], now(transient(None, None)));
    let options = WaitOptions {
        unreachable_grace: Duration::from_secs(20),
        ..no_jitter()
    };
    let started = Instant::now();
    let report = run(&script, &options).await;
    assert_eq!(report.outcome, Outcome::Error);
    assert_eq!(
        report.error.unwrap().request().unwrap().kind,
        ErrorKind::Connect
    );
    // Backoff 0.5, 1, 2, 4, 8, then a last try right at the end of the grace.
    assert_eq!(
        secs(&script.call_times()),
        [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 20.0]
    );
    assert_eq!(started.elapsed(), Duration::from_secs(20));

    // A deadline before the grace: still an error, at the deadline.
    let script = Script::new(vec![], now(transient(None, None)));
    let options = WaitOptions {
        timeout: Duration::from_secs(5),
        ..no_jitter()
    };
    let report = run(&script, &options).await;
    assert_eq!(report.outcome, Outcome::Error);
    assert_eq!(
        report.error.unwrap().request().unwrap().kind,
        ErrorKind::Connect
    );
}

/// Once the server has answered, connection faults are ridden out to the deadline, as any
/// other transient fault; so are faults that are not about connecting.
#[tokio::test(start_paused = true)]
async fn after_an_answer_connection_faults_are_ridden_out_to_the_deadline() {
    let options = WaitOptions {
        timeout: Duration::from_secs(120),
        unreachable_grace: Duration::from_secs(20),
        ..no_jitter()
    };
    let script = Script::new(vec![now(job("RUNNING"))], now(transient(None, None)));
    let report = run(&script, &options).await;
    assert_eq!(report.outcome, Outcome::Timeout);
    assert_eq!(
        report.error.unwrap().request().unwrap().kind,
        ErrorKind::Connect
    );

    let script = Script::new(vec![], now(transient(Some("http_503"), None)));
    let report = run(&script, &options).await;
    assert_eq!(report.outcome, Outcome::Timeout);
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
    assert_eq!(
        report.error.unwrap().request().unwrap().http_status,
        Some(404)
    );
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
    let reports = wait_all_from(script.clone(), &ids(&["j"]), &no_jitter(), cancel).await;
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
    let reports = wait_all_from(script.clone(), &ids, &options, std::future::pending()).await;
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
        let Some(WaitError::FailFast(message)) = &report.error else {
            panic!("{report:?}");
        };
        assert!(message.contains(failed[0].name()));
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
    let reports = wait_all_from(script, &ids, &options, std::future::pending()).await;
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
    let reports = wait_all_from(script.clone(), &ids, &no_jitter(), std::future::pending()).await;
    let got: Vec<&str> = reports.iter().map(JobReport::name).collect();
    assert_eq!(got, ids.iter().map(JobId::as_str).collect::<Vec<_>>());
    let outcomes = reports
        .iter()
        .filter(|r| r.outcome == Outcome::Failed)
        .count();
    assert_eq!(outcomes, 1);
}

/// Every kind of wait runs on the one driver: each of its requests takes its turn from the
/// shared budget, its report counts them all, and the observer hears of its looks and its
/// end. Through dcs-sim in-process, under a budget of one request a second.
#[cfg(feature = "sim")]
mod every_kind {
    use crate::api::{Client, Instance, InstanceId, Job, JobId, PollError, SwapStart, TaskList};
    use crate::sim::{InProcess, Scenario, SimInstance, SimJob};
    use crate::wait::{
        check_all_from, ready_all_from, swap_all_from, wait_all_from, InstanceSource, JobReport,
        JobSource, RateLimiter, WaitEvent, WaitOptions,
    };
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use tokio::time::Instant;

    /// dcs-sim behind its client, noting when each request went out; clones share the notes.
    #[derive(Clone)]
    struct Timed {
        sim: InProcess,
        client: Client,
        sent: Arc<Mutex<Vec<Instant>>>,
    }

    impl Timed {
        fn note(&self) {
            self.sent.lock().unwrap().push(Instant::now());
        }
    }

    impl JobSource for Timed {
        async fn fetch(&self, job_id: &JobId) -> Result<Job, PollError> {
            self.note();
            self.client.fetch(job_id).await
        }
    }

    impl InstanceSource for Timed {
        async fn start_swap(&self, instance_id: &InstanceId) -> SwapStart {
            self.note();
            self.client.start_swap(instance_id).await
        }
        async fn instance(&self, instance_id: &InstanceId) -> Result<Instance, PollError> {
            self.note();
            self.client.get_instance(instance_id).await
        }
        async fn tasks(
            &self,
            instance_id: &InstanceId,
            since: Option<std::time::SystemTime>,
        ) -> Result<TaskList, PollError> {
            self.note();
            self.client.list_tasks(instance_id, since).await
        }
        fn server_now(&self) -> std::time::SystemTime {
            self.client.server_now()
        }
    }

    /// Per subject: the looks the observer heard of, and its ends.
    type Heard = Arc<Mutex<HashMap<String, (u32, u32)>>>;

    fn options(heard: &Heard) -> WaitOptions {
        let log = heard.clone();
        WaitOptions {
            limiter: Some(Arc::new(RateLimiter::new(1))),
            seed: Some(3),
            timeout: Duration::from_secs(600),
            observer: Some(Arc::new(move |event: &WaitEvent<'_>| {
                let mut log = log.lock().unwrap();
                match event {
                    WaitEvent::Polled { subject, .. } => {
                        log.entry(subject.name().to_string()).or_default().0 += 1
                    }
                    WaitEvent::Finished(report) => {
                        log.entry(report.name().to_string()).or_default().1 += 1
                    }
                }
            })),
            ..WaitOptions::default()
        }
    }

    /// Runs `kind` against a fresh dcs-sim and checks what every kind must hold; gives the
    /// reports and what the observer heard.
    async fn check<F, Fut>(kind: &str, wait: F) -> (Vec<JobReport>, Heard)
    where
        F: FnOnce(Timed, WaitOptions) -> Fut,
        Fut: std::future::Future<Output = Vec<JobReport>>,
    {
        let scenario = Scenario {
            jobs: (1..=3)
                .map(|i| SimJob {
                    job_id: format!("job-{i}"),
                    job_type: "extendDCSInstance".into(),
                    start_delay_ms: 0,
                    run_ms: 4_000,
                    final_status: "SUCCESS".into(),
                    fail_reason: None,
                    faults: Vec::new(),
                    expect: None,
                })
                .collect(),
            instances: (1..=3)
                .map(|i| SimInstance::new(&format!("i-{i}"), 2_500))
                .collect(),
            ..Scenario::demo()
        };
        let sim = InProcess::new(scenario);
        let source = Timed {
            client: sim.client(),
            sim,
            sent: Arc::default(),
        };
        let heard = Heard::default();
        let reports = wait(source.clone(), options(&heard)).await;
        let sent = source.sent.lock().unwrap().clone();
        for pair in sent.windows(2) {
            assert!(
                pair[1] - pair[0] >= Duration::from_millis(999),
                "{kind}: two requests {:?} apart under --max-rps 1",
                pair[1] - pair[0]
            );
        }
        let polls: u32 = reports.iter().map(|r| r.polls).sum();
        assert_eq!(polls as usize, sent.len(), "{kind}: polls reported");
        assert_eq!(source.sim.stats().requests, sent.len() as u64, "{kind}");
        let heard_now = heard.lock().unwrap().clone();
        for report in &reports {
            assert_eq!(
                report.outcome,
                crate::wait::Outcome::Success,
                "{kind}: {report:?}"
            );
            let (_, ends) = heard_now.get(report.name()).copied().unwrap_or_default();
            assert_eq!(ends, 1, "{kind}: {} ended once", report.name());
        }
        (reports, heard)
    }

    fn looks(heard: &Heard, name: &str) -> u32 {
        heard
            .lock()
            .unwrap()
            .get(name)
            .map_or(0, |(looks, _)| *looks)
    }

    fn jobs() -> Vec<JobId> {
        (1..=3)
            .map(|i| format!("job-{i}").parse().unwrap())
            .collect()
    }

    fn instances() -> Vec<InstanceId> {
        (1..=3).map(|i| format!("i-{i}").parse().unwrap()).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn every_kind_of_wait_takes_its_turns_and_reports_its_polls() {
        let never = std::future::pending::<()>;
        let (reports, heard) = check("job", |s, o| async move {
            wait_all_from(s, &jobs(), &o, never()).await
        })
        .await;
        for report in &reports {
            assert!(report.polls > 1 && looks(&heard, report.name()) == report.polls - 1);
        }

        let (reports, heard) = check("swap", |s, o| async move {
            swap_all_from(s, &instances(), &o, never()).await
        })
        .await;
        for report in &reports {
            // The start, then the job until it ends: every look but the last is told.
            assert!(report.job_id.is_some(), "{report:?}");
            assert_eq!(looks(&heard, report.name()), report.polls - 1, "{report:?}");
        }

        let (reports, heard) = check("ready", |s, o| async move {
            let since = Duration::from_secs(60);
            ready_all_from(s, &instances(), since, &o, never()).await
        })
        .await;
        for report in &reports {
            // Two reads a look (the instance, its tasks), confirmed on a second look.
            assert_eq!((report.polls, looks(&heard, report.name())), (4, 1));
        }

        let (reports, _) = check("dry run", |s, o| async move {
            check_all_from(s, &instances(), &o, never()).await
        })
        .await;
        assert!(reports.iter().all(|r| r.polls == 1), "{reports:?}");
    }
}

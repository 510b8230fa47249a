//! Property tests: random job timelines and random sequences of every fault dcs-sim injects,
//! at random requests and times, against the real wait loop and the client's own
//! classification, in virtual time (tokio's paused clock), so a two-hour wait takes
//! milliseconds. The job source is dcs-sim's job API called in-process
//! ([`crate::sim::InProcess`]), wrapped to record when each request went out, when its
//! answer came back and what it meant. One to four jobs share the source, and half the cases
//! share a rate limit too.
//!
//! Invariants, for every job of every case:
//! 1. the wait ends by its deadline;
//! 2. it ends at the first decisive answer — a SUCCESS or FAIL job, a final error, a 404 past
//!    the grace period — with the matching outcome, and sends nothing after it (final errors
//!    are never retried);
//! 3. without one, the outcome is `timeout`, and (without a rate limit, which may hold a poll
//!    back to the deadline) the last request ended no earlier than the last poll's time:
//!    transient errors, cut-off requests and 404s within the grace period are always retried;
//! 4. a reported duration is `end_time − begin_time` of the answer that ended the wait;
//! 5. requests are spaced as the schedule and the backoff allow: at most three gaps shorter
//!    than their smallest step (the approach of a known window, the end of the 404 grace
//!    period, the last poll before the deadline), and dcs-sim saw exactly the polls reported;
//! 6. nothing panics.

use crate::api::http::MAX_BODY_BYTES;
use crate::api::{Client, Job, JobId, PollError, Status};
use crate::sim::{Fault, FaultRule, InProcess, Scenario, SimJob};
use crate::wait::{
    wait_all_from, JobSource, Outcome, RateLimiter, Schedule, WaitOptions, LAST_POLL_HEADROOM,
};
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// One request as the wait loop saw it.
#[derive(Debug)]
struct Request {
    sent: Instant,
    /// When it came back and what it meant; `None` when the loop cut it off (timeout).
    answer: Option<(Instant, Result<Job, PollError>)>,
}

/// dcs-sim in-process behind its client; clones share the record.
#[derive(Clone)]
struct Recorder {
    sim: InProcess,
    client: Client,
    /// Each job's requests, in order.
    log: Arc<Mutex<HashMap<String, Vec<Request>>>>,
}

impl JobSource for Recorder {
    async fn fetch(&self, job_id: &JobId) -> Result<Job, PollError> {
        let index = {
            let mut log = self.log.lock().unwrap();
            let requests = log.entry(job_id.to_string()).or_default();
            requests.push(Request {
                sent: Instant::now(),
                answer: None,
            });
            requests.len() - 1
        };
        let result = self.client.fetch(job_id).await;
        if let Some(requests) = self.log.lock().unwrap().get_mut(job_id.as_str()) {
            requests[index].answer = Some((Instant::now(), result.clone()));
        }
        result
    }
}

fn fault() -> impl Strategy<Value = Fault> {
    let error = |statuses: Vec<u16>| {
        (
            proptest::sample::select(statuses),
            proptest::option::of(0u64..120),
        )
            .prop_map(|(http_status, retry_after)| Fault::Error {
                http_status,
                error_code: Some(format!("SIM.{http_status}")),
                error_msg: Some("injected".into()),
                retry_after: retry_after.map(|s| s.to_string()),
                request_id: None,
            })
    };
    // Transient kinds weigh more: final ones end a case at once, and long sequences of
    // faults that must be ridden out are the interesting ones.
    prop_oneof![
        4 => error(vec![500, 502, 503, 504, 429, 408]),
        1 => error(vec![404]),
        1 => error(vec![400, 401, 403, 409]),
        2 => proptest::sample::select(vec![502u16, 503, 504])
            .prop_map(|http_status| Fault::Html { http_status, title: None }),
        2 => proptest::option::of(0u64..40_000).prop_map(|ms| Fault::Stall { ms }),
        2 => Just(Fault::Drop),
        2 => Just(Fault::Malformed),
        2 => Just(Fault::Empty),
        2 => proptest::sample::select(vec!["RUNNING", "WEIRD", "SUCCESS", "FAIL", ""])
            .prop_map(|s| Fault::Status { status: s.into() }),
        1 => (1u64..1_000).prop_map(|extra| Fault::Oversized {
            bytes: MAX_BODY_BYTES as u64 + extra
        }),
        2 => (1u64..500).prop_map(|ms| Fault::Trickle { ms }),
        1 => Just(Fault::OtherJob),
        1 => Just(Fault::Redirect {
            location: "http://elsewhere.invalid/".into()
        }),
    ]
}

fn fault_rule() -> impl Strategy<Value = FaultRule> {
    prop_oneof![
        (proptest::collection::vec(1u32..40, 1..6), fault())
            .prop_map(|(requests, fault)| FaultRule::on(&requests, fault)),
        (0u64..900_000, fault()).prop_map(|(until_ms, fault)| FaultRule::until(until_ms, fault)),
    ]
}

fn sim_job() -> impl Strategy<Value = SimJob> {
    (
        proptest::sample::select(vec!["masterStandbySwapJob", "extendDCSInstance"]),
        0u64..10_000,
        prop_oneof![0u64..10_000, 0u64..3_600_000],
        proptest::sample::select(vec!["SUCCESS", "FAIL"]),
        proptest::collection::vec(fault_rule(), 0..6),
    )
        .prop_map(
            |(job_type, start_delay_ms, run_ms, final_status, faults)| SimJob {
                job_id: "job-1".into(),
                job_type: job_type.into(),
                start_delay_ms,
                run_ms,
                final_status: final_status.into(),
                fail_reason: (final_status == "FAIL").then(|| "injected failure".into()),
                faults,
                expect: None,
            },
        )
}

#[derive(Debug, Clone)]
struct Knobs {
    timeout: Duration,
    request_timeout: Duration,
    not_found_grace: Duration,
    max_lag: Duration,
    seed: u64,
    max_rps: Option<u32>,
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        1_000u64..7_200_000,
        100u64..30_000,
        0u64..120_000,
        1_000u64..60_000,
        any::<u64>(),
        proptest::option::of(1u32..20),
    )
        .prop_map(
            |(timeout, request_timeout, grace, max_lag, seed, max_rps)| Knobs {
                timeout: Duration::from_millis(timeout),
                request_timeout: Duration::from_millis(request_timeout),
                not_found_grace: Duration::from_millis(grace),
                max_lag: Duration::from_millis(max_lag),
                seed,
                max_rps,
            },
        )
}

/// What the first decisive answer says the outcome must be.
fn decisive(result: &Result<Job, PollError>, at: Instant, grace_end: Instant) -> Option<Outcome> {
    match result {
        Ok(job) => match job.status {
            Status::Success => Some(Outcome::Success),
            Status::Failed { .. } => Some(Outcome::Failed),
            _ => None,
        },
        Err(PollError::Final(_)) => Some(Outcome::Error),
        Err(PollError::NotFound(_)) if at >= grace_end => Some(Outcome::Error),
        Err(_) => None,
    }
}

fn check(jobs: Vec<SimJob>, knobs: Knobs) -> Result<(), TestCaseError> {
    super::in_virtual_time(async move {
        let mut options = WaitOptions::default()
            .with_timeout(knobs.timeout)
            .with_request_timeout(knobs.request_timeout)
            .with_not_found_grace(knobs.not_found_grace)
            .with_schedule(Schedule::default().with_max_lag(knobs.max_lag))
            .with_seed(knobs.seed);
        if let Some(rps) = knobs.max_rps {
            options = options.with_limiter(Arc::new(RateLimiter::new(rps)));
        }
        let ids: Vec<JobId> = jobs.iter().map(|j| j.job_id.parse().unwrap()).collect();
        let sim = InProcess::new(Scenario {
            jobs,
            ..Scenario::demo()
        });
        let recorder = Recorder {
            client: sim.client(),
            sim,
            log: Arc::default(),
        };
        let start = Instant::now();
        let reports = wait_all_from(recorder.clone(), &ids, &options, std::future::pending()).await;
        let ended = Instant::now();
        let deadline = start + knobs.timeout;
        let last_poll_at = deadline - LAST_POLL_HEADROOM.min(knobs.timeout / 10);
        let grace_end = start + knobs.not_found_grace;
        let logs = recorder.log.lock().unwrap();
        let stats = recorder.sim.stats();

        // 1.
        prop_assert!(
            ended <= deadline,
            "ended {:?} past the deadline",
            ended - deadline
        );
        prop_assert_eq!(reports.len(), ids.len());
        for (id, report) in ids.iter().zip(&reports) {
            prop_assert_eq!(report.job_id.as_ref(), Some(id));
            let log = logs.get(id.as_str()).map_or(&[][..], Vec::as_slice);

            // 5 (the count).
            prop_assert_eq!(report.polls as usize, log.len());
            let seen = stats.per_job.get(id.as_str()).map_or(0, Vec::len);
            prop_assert_eq!(seen, log.len());

            // 2, 3, 4.
            let first_decisive = log.iter().enumerate().find_map(|(i, request)| {
                let (at, result) = request.answer.as_ref()?;
                decisive(result, *at, grace_end).map(|outcome| (i, outcome, result))
            });
            match first_decisive {
                Some((index, outcome, result)) => {
                    prop_assert_eq!(
                        index + 1,
                        log.len(),
                        "{}: requests after a decisive answer",
                        id
                    );
                    prop_assert_eq!(report.outcome, outcome);
                    if let Ok(job) = result {
                        prop_assert_eq!(report.status.as_deref(), Some(job.status.as_str()));
                        prop_assert_eq!(report.duration_ms, job.duration_ms());
                        prop_assert_eq!(
                            (report.begin_time, report.end_time),
                            (job.begin_time, job.end_time)
                        );
                        if let (Some(ms), Some(begin), Some(end)) =
                            (report.duration_ms, job.begin_time, job.end_time)
                        {
                            prop_assert_eq!(ms as i128, end as i128 - begin as i128);
                        }
                    }
                }
                None => {
                    prop_assert_eq!(report.outcome, Outcome::Timeout, "{:?}", report);
                    if knobs.max_rps.is_none() {
                        // When the last request ended: its answer, or where the loop cut it.
                        let last = log.last().map(|request| match &request.answer {
                            Some((at, _)) => *at,
                            None => deadline.min(request.sent + knobs.request_timeout),
                        });
                        prop_assert!(
                            last.is_some_and(|last| last >= last_poll_at),
                            "{}: gave up before the last poll's time ({:?})",
                            id,
                            last
                        );
                    }
                }
            }

            // 5 (the spacing).
            let fine = (knobs.max_lag / 20).mul_f64(0.9);
            let smallest_step = fine.min(Duration::from_millis(500));
            let short_gaps = log
                .windows(2)
                .filter(|pair| pair[1].sent - pair[0].sent < smallest_step)
                .count();
            prop_assert!(
                short_gaps <= 3,
                "{id}: {short_gaps} gaps under {smallest_step:?}"
            );
        }
        Ok(())
    })
}

/// One to four jobs, `job-1` to `job-4`.
fn sim_jobs() -> impl Strategy<Value = Vec<SimJob>> {
    proptest::collection::vec(sim_job(), 1..5).prop_map(|jobs| {
        jobs.into_iter()
            .enumerate()
            .map(|(i, job)| SimJob {
                job_id: format!("job-{}", i + 1),
                ..job
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(crate::common::proptest_config(256))]

    #[test]
    fn the_wait_keeps_its_promises_under_any_faults(jobs in sim_jobs(), knobs in knobs()) {
        check(jobs, knobs)?;
    }
}

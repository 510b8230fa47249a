//! Property test of the promise "never twice": random sequences of start faults and swap
//! timelines against the real swap loop (`swap_all`) in virtual time, through dcs-sim's
//! instance and job APIs in-process, wrapped to record every start and what it proved.
//!
//! For every instance:
//! 1. the run ends by the deadline;
//! 2. at most one swap started;
//! 3. no start followed one whose answer did not prove that nothing started;
//! 4. a report that says a swap ran (success or failed, or a job id) has one that started,
//!    and a started swap is never reported as a plain success of nothing.

use crate::api::{Client, Instance, InstanceId, Job, JobId, PollError, SwapStart, TaskList};
use crate::sim::{Fault, InProcess, Scenario, SimInstance, StartFault};
use crate::wait::{swap_all_from, InstanceSource, JobSource, Outcome, Schedule, WaitOptions};
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// What each start of each instance proved; `None` when the loop stopped waiting for it.
type Starts = Arc<Mutex<HashMap<String, Vec<Option<SwapStart>>>>>;

/// dcs-sim in-process behind its client; clones share the record.
#[derive(Clone)]
struct Recorder {
    sim: InProcess,
    client: Client,
    starts: Starts,
}

impl JobSource for Recorder {
    async fn fetch(&self, job_id: &JobId) -> Result<Job, PollError> {
        self.client.fetch(job_id).await
    }
}

impl InstanceSource for Recorder {
    async fn start_swap(&self, instance_id: &InstanceId) -> SwapStart {
        let index = {
            let mut starts = self.starts.lock().unwrap();
            let list = starts.entry(instance_id.to_string()).or_default();
            list.push(None);
            list.len() - 1
        };
        let proved = self.client.start_swap(instance_id).await;
        if let Some(list) = self.starts.lock().unwrap().get_mut(instance_id.as_str()) {
            list[index] = Some(proved.clone());
        }
        proved
    }

    async fn instance(&self, instance_id: &InstanceId) -> Result<Instance, PollError> {
        self.client.get_instance(instance_id).await
    }

    async fn tasks(
        &self,
        instance_id: &InstanceId,
        since: Option<std::time::SystemTime>,
    ) -> Result<TaskList, PollError> {
        self.client.list_tasks(instance_id, since).await
    }

    fn server_now(&self) -> std::time::SystemTime {
        self.client.server_now()
    }
}

/// A fault on a swap's start (see [`super::starts::start_fault`]).
fn start_fault() -> impl Strategy<Value = StartFault> {
    super::starts::start_fault(prop_oneof![
        Just(Fault::busy()),
        (0u64..5).prop_map(|s| Fault::throttled(&s.to_string())),
        Just(Fault::swap_not_supported()),
    ])
}

fn instance() -> impl Strategy<Value = SimInstance> {
    (
        0u64..120_000,
        any::<bool>(),
        proptest::collection::vec(start_fault(), 0..4),
    )
        .prop_map(|(run_ms, succeeds, start_faults)| SimInstance {
            swap_final_status: if succeeds { "SUCCESS" } else { "FAIL" }.into(),
            start_faults,
            ..SimInstance::new("", run_ms)
        })
}

#[derive(Debug, Clone)]
struct Knobs {
    timeout: Duration,
    request_timeout: Duration,
    max_lag: Duration,
    seed: u64,
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (1u64..600, 1u64..15, 1u64..30, any::<u64>()).prop_map(|(t, r, lag, seed)| Knobs {
        timeout: Duration::from_secs(t),
        request_timeout: Duration::from_secs(r),
        max_lag: Duration::from_secs(lag),
        seed,
    })
}

fn check(mut instances: Vec<SimInstance>, knobs: Knobs) -> Result<(), TestCaseError> {
    for (i, instance) in instances.iter_mut().enumerate() {
        instance.instance_id = format!("inst-{i}");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async move {
        let options = WaitOptions::default()
            .with_timeout(knobs.timeout)
            .with_request_timeout(knobs.request_timeout)
            .with_schedule(Schedule::default().with_max_lag(knobs.max_lag))
            .with_seed(knobs.seed);
        let ids: Vec<InstanceId> = instances
            .iter()
            .map(|i| i.instance_id.parse().unwrap())
            .collect();
        let sim = InProcess::new(Scenario {
            instances,
            ..Scenario::demo()
        });
        let recorder = Recorder {
            client: sim.client(),
            sim,
            starts: Arc::default(),
        };
        let start = Instant::now();
        let reports = swap_all_from(recorder.clone(), &ids, &options, std::future::pending()).await;
        // 1.
        prop_assert!(Instant::now() <= start + knobs.timeout);
        let stats = recorder.sim.stats();
        let starts = recorder.starts.lock().unwrap();
        for (id, report) in ids.iter().zip(&reports) {
            let swaps = stats.per_instance.get(id.as_str()).map_or(0, |s| s.swaps);
            // 2.
            prop_assert!(swaps <= 1, "{id}: {swaps} swaps; {report:?}");
            // 3.
            let proved = starts.get(id.as_str()).map_or(&[][..], Vec::as_slice);
            if let Some((_, earlier)) = proved.split_last() {
                for (i, start) in earlier.iter().enumerate() {
                    prop_assert!(
                        matches!(
                            start,
                            Some(SwapStart::NotStarted { .. } | SwapStart::Busy(_))
                        ),
                        "{id}: start {} proved {start:?}, and another followed",
                        i + 1
                    );
                }
            }
            // 4.
            if matches!(report.outcome, Outcome::Success | Outcome::Failed)
                || report.job_id.is_some()
            {
                prop_assert_eq!(swaps, 1, "{} reported {:?}", id, report);
            }
            if swaps == 1 && report.outcome == Outcome::Error {
                let code = report.error.as_ref().and_then(|e| e.code());
                prop_assert!(
                    code != Some("DCS.4855"),
                    "{id}: a swap started, yet refused: {report:?}"
                );
            }
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: crate::shared::proptest_cases(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn never_twice(
        instances in proptest::collection::vec(instance(), 1..4),
        knobs in knobs(),
    ) {
        check(instances, knobs)?;
    }
}

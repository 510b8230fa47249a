//! Property test of the promise "never twice" for backups and restores: random sequences of
//! start faults and record timelines against the real loops (`backup_all`, `restore`) in
//! virtual time, through dcs-sim's APIs in-process, wrapped to record every start and what it
//! proved.
//!
//! For every instance:
//! 1. the run ends by the deadline;
//! 2. at most one backup (one restore) started;
//! 3. no start followed one whose answer did not prove that nothing started;
//! 4. a report that says one ran (success, failed, or an id) has one that started.

use crate::api::{
    BackupId, BackupRecord, BackupRequest, Client, Instance, InstanceId, Job, JobId, Page,
    PollError, RecordPage, RestoreId, RestoreRecord, Start, SwapStart, TaskList,
};
use crate::sim::{Fault, InProcess, Scenario, SimInstance, SimPlan, SimRecord, StartFault};
use crate::wait::{InstanceSource, JobSource, Outcome, RecordSource, Schedule, WaitOptions};
use proptest::prelude::*;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Whether each start of each instance proved that nothing started; `None` when the loop
/// stopped waiting for its answer.
type Starts = Arc<Mutex<HashMap<String, Vec<Option<bool>>>>>;

/// dcs-sim in-process behind its client; clones share the record.
#[derive(Clone)]
struct Recorder {
    client: Client,
    starts: Starts,
}

impl Recorder {
    async fn recorded<T>(
        &self,
        instance_id: &InstanceId,
        start: impl Future<Output = Start<T>>,
    ) -> Start<T> {
        let index = {
            let mut starts = self.starts.lock().unwrap();
            let list = starts.entry(instance_id.to_string()).or_default();
            list.push(None);
            list.len() - 1
        };
        let proved = start.await;
        let nothing = matches!(proved, Start::NotStarted { .. } | Start::Busy(_));
        if let Some(list) = self.starts.lock().unwrap().get_mut(instance_id.as_str()) {
            list[index] = Some(nothing);
        }
        proved
    }
}

impl JobSource for Recorder {
    async fn fetch(&self, job_id: &JobId) -> Result<Job, PollError> {
        self.client.fetch(job_id).await
    }
}

impl InstanceSource for Recorder {
    async fn start_swap(&self, instance_id: &InstanceId) -> SwapStart {
        self.client.start_swap(instance_id).await
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

impl RecordSource for Recorder {
    async fn start_backup(
        &self,
        instance_id: &InstanceId,
        request: &BackupRequest,
    ) -> Start<BackupId> {
        self.recorded(instance_id, self.client.start_backup(instance_id, request))
            .await
    }
    async fn start_restore(
        &self,
        instance_id: &InstanceId,
        backup_id: &BackupId,
        remark: Option<&str>,
    ) -> Start<RestoreId> {
        self.recorded(
            instance_id,
            self.client.start_restore(instance_id, backup_id, remark),
        )
        .await
    }
    async fn backups(
        &self,
        instance_id: &InstanceId,
        page: &Page,
    ) -> Result<RecordPage<BackupRecord>, PollError> {
        self.client.list_backups(instance_id, page).await
    }
    async fn restores(
        &self,
        instance_id: &InstanceId,
        page: &Page,
    ) -> Result<RecordPage<RestoreRecord>, PollError> {
        self.client.list_restores(instance_id, page).await
    }
}

/// A fault on a backup's or restore's start (see [`super::starts::start_fault`]).
fn start_fault() -> impl Strategy<Value = StartFault> {
    let busy = |code: &str| Fault::Error {
        http_status: 400,
        error_code: Some(code.into()),
        error_msg: Some("busy".into()),
        retry_after: None,
        request_id: None,
    };
    super::starts::start_fault(prop_oneof![
        Just(busy("DCS.4096")),
        Just(busy("111400097")),
        Just(busy("DCS.4049")),
        (0u64..5).prop_map(|s| Fault::throttled(&s.to_string())),
        Just(busy("DCS.4087")),
    ])
}

fn plan() -> impl Strategy<Value = SimPlan> {
    (
        0u64..5_000,
        0u64..120_000,
        prop_oneof![Just("succeed"), Just("failed"), Just("expired")],
        proptest::collection::vec(start_fault(), 0..4),
    )
        .prop_map(|(waiting_ms, run_ms, end, start_faults)| SimPlan {
            waiting_ms,
            run_ms,
            final_status: end.into(),
            error_code: (end != "succeed").then(|| "dcs.08.0002".into()),
            start_faults,
        })
}

#[derive(Debug, Clone)]
struct Knobs {
    timeout: Duration,
    request_timeout: Duration,
    max_lag: Duration,
    seed: u64,
    restore: bool,
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (1u64..600, 1u64..15, 1u64..30, any::<u64>(), any::<bool>()).prop_map(
        |(t, r, lag, seed, restore)| Knobs {
            timeout: Duration::from_secs(t),
            request_timeout: Duration::from_secs(r),
            max_lag: Duration::from_secs(lag),
            seed,
            restore,
        },
    )
}

fn check(plans: Vec<SimPlan>, knobs: Knobs) -> Result<(), TestCaseError> {
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
        let instances: Vec<SimInstance> = plans
            .into_iter()
            .enumerate()
            .map(|(i, plan)| {
                let mut instance = SimInstance::new(&format!("inst-{i}"), 0);
                instance.backups = vec![SimRecord {
                    id: format!("good-{i}"),
                    backup_id: None,
                    start_ms: -60_000,
                    waiting_ms: 0,
                    run_ms: 1_000,
                    final_status: "succeed".into(),
                    error_code: None,
                    remark: None,
                    backup_type: "auto".into(),
                }];
                instance.backup = plan.clone();
                instance.restore = plan;
                instance
            })
            .collect();
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
            starts: Arc::default(),
        };
        let start = Instant::now();
        let reports = if knobs.restore {
            let mut reports = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                let backup = format!("good-{i}").parse().unwrap();
                let report = crate::wait::restore_from(
                    recorder.clone(),
                    id,
                    &backup,
                    None,
                    &options,
                    std::future::pending(),
                )
                .await;
                reports.push(report);
            }
            reports
        } else {
            let request = BackupRequest::default();
            crate::wait::backup_all_from(
                recorder.clone(),
                &ids,
                &request,
                &options,
                std::future::pending(),
            )
            .await
        };
        // 1.
        prop_assert!(Instant::now() <= start + knobs.timeout * ids.len() as u32);
        let stats = sim.stats();
        let starts = recorder.starts.lock().unwrap();
        for (id, report) in ids.iter().zip(&reports) {
            let counted = stats.records.get(id.as_str()).cloned().unwrap_or_default();
            let made = if knobs.restore {
                counted.restores
            } else {
                counted.backups
            };
            // 2.
            prop_assert!(made <= 1, "{id}: {made} started; {report:?}");
            // 3.
            let proved = starts.get(id.as_str()).map_or(&[][..], Vec::as_slice);
            if let Some((_, earlier)) = proved.split_last() {
                for (i, nothing) in earlier.iter().enumerate() {
                    prop_assert!(
                        *nothing == Some(true),
                        "{id}: start {} proved {nothing:?}, and another followed",
                        i + 1
                    );
                }
            }
            // 4.
            let named = report.backup_id.is_some() || report.restore_id.is_some();
            if matches!(report.outcome, Outcome::Success | Outcome::Failed) || named {
                prop_assert_eq!(made, 1, "{} reported {:?}", id, report);
            }
            if report.started == Some(true) {
                prop_assert_eq!(made, 1, "{} reported {:?}", id, report);
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
        plans in proptest::collection::vec(plan(), 1..4),
        knobs in knobs(),
    ) {
        check(plans, knobs)?;
    }
}

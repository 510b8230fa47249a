//! Property tests of the waits against dcs-sim in-process, in virtual time, through sources
//! that wrap the client to record what each request proved: the driver under random faults
//! (`faults`), and "never twice" for swaps (`swap`), backups and restores (`records`). They
//! live in the crate because the sources they wrap are not public API.

mod faults;
mod records;
mod starts;
mod swap;

use crate::api::{
    BackupId, BackupRecord, BackupRequest, Client, Instance, InstanceId, Job, JobId, Page,
    PollError, RecordPage, RestoreId, RestoreRecord, Start, SwapStart, TaskList,
};
use crate::sim::{InProcess, Scenario, SimInstance};
use crate::wait::{InstanceSource, JobSource, RecordSource, Schedule, WaitOptions};
use proptest::prelude::*;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `future` run to its end on tokio's paused clock, where hours take milliseconds.
fn in_virtual_time<T>(future: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(future)
}

/// The settings a "never twice" case varies.
#[derive(Debug, Clone)]
struct Knobs {
    timeout: Duration,
    request_timeout: Duration,
    max_lag: Duration,
    seed: u64,
}

impl Knobs {
    fn options(&self) -> WaitOptions {
        WaitOptions::default()
            .with_timeout(self.timeout)
            .with_request_timeout(self.request_timeout)
            .with_schedule(Schedule::default().with_max_lag(self.max_lag))
            .with_seed(self.seed)
    }
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (1u64..600, 1u64..15, 1u64..30, any::<u64>()).prop_map(|(t, r, lag, seed)| Knobs {
        timeout: Duration::from_secs(t),
        request_timeout: Duration::from_secs(r),
        max_lag: Duration::from_secs(lag),
        seed,
    })
}

/// dcs-sim in-process behind its client, recording for every start (a swap's, a backup's, a
/// restore's) whether its answer proved that nothing started: `None` while the loop waits
/// for it, and when it stopped waiting. Clones share the record.
#[derive(Clone)]
struct Recorder {
    client: Client,
    starts: Arc<Mutex<HashMap<String, Vec<Option<bool>>>>>,
}

impl Recorder {
    /// `instances` in dcs-sim in-process (the demo's jobs beside them), their ids, and a
    /// recorder on its client.
    fn on(instances: Vec<SimInstance>) -> (Vec<InstanceId>, InProcess, Recorder) {
        let ids = instances
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
        (ids, sim, recorder)
    }

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

    /// The promise itself: no start on `instance_id` followed one whose answer did not prove
    /// that nothing started.
    fn no_start_after_an_inconclusive_one(
        &self,
        instance_id: &InstanceId,
    ) -> Result<(), TestCaseError> {
        let starts = self.starts.lock().unwrap();
        let proved = starts
            .get(instance_id.as_str())
            .map_or(&[][..], Vec::as_slice);
        if let Some((_, earlier)) = proved.split_last() {
            for (i, nothing) in earlier.iter().enumerate() {
                prop_assert!(
                    *nothing == Some(true),
                    "{instance_id}: start {} proved {nothing:?}, and another followed",
                    i + 1
                );
            }
        }
        Ok(())
    }
}

impl JobSource for Recorder {
    async fn fetch(&self, job_id: &JobId) -> Result<Job, PollError> {
        self.client.fetch(job_id).await
    }
}

impl InstanceSource for Recorder {
    async fn start_swap(&self, instance_id: &InstanceId) -> SwapStart {
        self.recorded(instance_id, self.client.start_swap(instance_id))
            .await
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

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

use super::{in_virtual_time, knobs, Knobs, Recorder};
use crate::api::BackupRequest;
use crate::sim::{Fault, SimInstance, SimPlan, SimRecord, StartFault};
use crate::wait::Outcome;
use proptest::prelude::*;
use tokio::time::Instant;

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

fn check(plans: Vec<SimPlan>, knobs: Knobs, restore: bool) -> Result<(), TestCaseError> {
    in_virtual_time(async move {
        let options = knobs.options();
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
        let (ids, sim, recorder) = Recorder::on(instances);
        let start = Instant::now();
        let reports = if restore {
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
        for (id, report) in ids.iter().zip(&reports) {
            let counted = stats.records.get(id.as_str()).cloned().unwrap_or_default();
            let made = if restore {
                counted.restores
            } else {
                counted.backups
            };
            // 2.
            prop_assert!(made <= 1, "{id}: {made} started; {report:?}");
            // 3.
            recorder.no_start_after_an_inconclusive_one(id)?;
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
    #![proptest_config(crate::common::proptest_config(256))]

    #[test]
    fn never_twice(
        plans in proptest::collection::vec(plan(), 1..4),
        knobs in knobs(),
        restore in any::<bool>(),
    ) {
        check(plans, knobs, restore)?;
    }
}

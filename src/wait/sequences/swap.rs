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

use super::{in_virtual_time, knobs, Knobs, Recorder};
use crate::sim::{Fault, SimInstance, StartFault};
use crate::wait::{swap_all_from, Outcome};
use proptest::prelude::*;
use tokio::time::Instant;

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

fn check(mut instances: Vec<SimInstance>, knobs: Knobs) -> Result<(), TestCaseError> {
    for (i, instance) in instances.iter_mut().enumerate() {
        instance.instance_id = format!("inst-{i}");
    }
    in_virtual_time(async move {
        let options = knobs.options();
        let (ids, sim, recorder) = Recorder::on(instances);
        let start = Instant::now();
        let reports = swap_all_from(recorder.clone(), &ids, &options, std::future::pending()).await;
        // 1.
        prop_assert!(Instant::now() <= start + knobs.timeout);
        let stats = sim.stats();
        for (id, report) in ids.iter().zip(&reports) {
            let swaps = stats.per_instance.get(id.as_str()).map_or(0, |s| s.swaps);
            // 2.
            prop_assert!(swaps <= 1, "{id}: {swaps} swaps; {report:?}");
            // 3.
            recorder.no_start_after_an_inconclusive_one(id)?;
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
    #![proptest_config(crate::common::proptest_config(256))]

    #[test]
    fn never_twice(
        instances in proptest::collection::vec(instance(), 1..4),
        knobs in knobs(),
    ) {
        check(instances, knobs)?;
    }
}

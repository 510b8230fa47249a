//! Reports for the output formats' tests, from a real wait: the library builds a report only
//! by waiting, and so do these, on dcs-sim in-process under tokio's paused clock.

use dcs_wait::sim::{InProcess, Scenario};
use dcs_wait::{JobReport, Outcome, WaitOptions};

/// A swap job `j1` that ran 2.869 s and failed (`disk full`), as a wait reported it, with
/// `outcome` set as the test needs. The fields the sim's clock decides (when it began and
/// ended, how many polls it took) are pinned, so that a test can compare whole lines.
pub fn sample(outcome: Outcome) -> JobReport {
    let scenario: Scenario = serde_json::from_value(serde_json::json!({
        "jobs": [{"job_id": "j1", "run_ms": 2869, "final_status": "FAIL", "fail_reason": "disk full"}]
    }))
    .unwrap_or_else(|e| panic!("the sample scenario: {e}"));
    let sim = InProcess::new(scenario);
    let job_id = "j1".parse().unwrap_or_else(|e| panic!("{e}"));
    // A runtime of its own, on a thread of its own: some callers are inside one already.
    let wait = move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap_or_else(|e| panic!("a runtime: {e}"))
            .block_on(dcs_wait::wait_one(
                sim.client(),
                &job_id,
                &WaitOptions::default(),
            ))
    };
    let mut report = std::thread::spawn(wait)
        .join()
        .unwrap_or_else(|_| panic!("the sample wait panicked"));
    assert_eq!(
        (
            report.outcome,
            report.duration_ms,
            report.fail_reason.as_deref()
        ),
        (Outcome::Failed, Some(2869), Some("disk full")),
        "{report:?}"
    );
    report.begin_time = Some(1_684_191_545_379);
    report.end_time = Some(1_684_191_548_248);
    report.polls = 3;
    report.outcome = outcome;
    report
}

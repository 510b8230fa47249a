//! Reports for the output formats' tests, from real waits: the library builds a report only
//! by waiting, and so do these, on dcs-sim in-process under tokio's paused clock.

use dcs_wait::sim::{InProcess, Scenario};
use dcs_wait::{JobReport, Outcome, TaskSeen, WaitOptions};
use std::future::Future;
use std::sync::OnceLock;

/// A swap job `j1` that ran 2.869 s and failed (`disk full`), as a wait reported it, with
/// `outcome` set as the test needs. The fields the sim's clock decides (when it began and
/// ended, how many polls it took) are pinned, so that a test can compare whole lines.
pub fn sample(outcome: Outcome) -> JobReport {
    let sim = in_process(serde_json::json!({
        "jobs": [{"job_id": "j1", "run_ms": 2869, "final_status": "FAIL", "fail_reason": "disk full"}]
    }));
    let mut report = waited(move || async move {
        let job_id = "j1".parse().unwrap_or_else(|e| panic!("{e}"));
        dcs_wait::wait_one(sim.client(), &job_id, &WaitOptions::default()).await
    });
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

/// A task `name` in `status`, created and last updated at those epoch milliseconds, with
/// `details`: the task an instance wait saw (an `EXTEND` that ended), its fields set as the
/// test needs.
pub fn task(
    name: &str,
    status: &str,
    created: i64,
    updated: i64,
    details: Option<serde_json::Value>,
) -> TaskSeen {
    static SEEN: OnceLock<TaskSeen> = OnceLock::new();
    let mut task = SEEN
        .get_or_init(|| {
            let sim = in_process(serde_json::json!({
                "jobs": [],
                "instances": [{"instance_id": "inst-1", "tasks": [
                    {"name": "EXTEND", "start_ms": 0, "run_ms": 500}
                ]}]
            }));
            let report = waited(move || async move {
                let ids = ["inst-1".parse().unwrap_or_else(|e| panic!("{e}"))];
                let since = std::time::Duration::from_secs(300);
                let never = std::future::pending();
                let options = WaitOptions::default();
                let mut reports =
                    dcs_wait::ready_all(sim.client(), &ids, since, &options, never).await;
                reports.swap_remove(0)
            });
            let mut tasks = report.tasks.unwrap_or_default();
            assert_eq!(tasks.len(), 1, "{tasks:?}");
            tasks.swap_remove(0)
        })
        .clone();
    task.name = Some(name.into());
    task.status = status.into();
    task.created = Some(created);
    task.updated = Some(updated);
    task.details = details.map(|d| serde_json::from_value(d).unwrap_or_else(|e| panic!("{e}")));
    task
}

/// dcs-sim in-process, serving `scenario` (a scenario file's JSON).
pub fn in_process(scenario: serde_json::Value) -> InProcess {
    let scenario: Scenario =
        serde_json::from_value(scenario).unwrap_or_else(|e| panic!("the sample scenario: {e}"));
    InProcess::new(scenario)
}

/// What `wait` gives, run on a paused clock in a runtime and on a thread of their own: some
/// callers are inside a runtime already.
pub fn waited<W, F>(wait: W) -> JobReport
where
    W: FnOnce() -> F + Send + 'static,
    F: Future<Output = JobReport>,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap_or_else(|e| panic!("a runtime: {e}"))
            .block_on(wait())
    })
    .join()
    .unwrap_or_else(|_| panic!("the sample wait panicked"))
}

//! `dcs-wait instance`, end to end: the built binary waits on instances of dcs-sim over
//! loopback until they are really ready, through every outcome.

mod common;

use common::*;
use dcs_wait::sim::{Fault, FaultRule, Scenario, SimInstance, SimServer, SimTask, StatusSpan};
use dcs_wait::Details;
use serde_json::Value;
use std::time::Duration;

const INSTANCE: &str = "i-resize";

fn span(status: &str, until_ms: u64) -> StatusSpan {
    StatusSpan {
        status: status.into(),
        until_ms,
    }
}

fn task(name: &str, start_ms: i64, run_ms: u64, final_status: &str) -> SimTask {
    SimTask {
        name: name.into(),
        start_ms,
        run_ms,
        final_status: final_status.into(),
        details: None,
    }
}

async fn sim_with(timeline: Vec<StatusSpan>, tasks: Vec<SimTask>) -> SimServer {
    start(Scenario {
        instances: vec![SimInstance {
            timeline,
            tasks,
            ..SimInstance::new(INSTANCE, 1_000)
        }],
        ..scenario(Vec::new())
    })
    .await
}

async fn wait_ready(sim: &SimServer, extra: &[&str]) -> Run {
    let mut args = vec!["instance"];
    args.extend_from_slice(extra);
    args.push(INSTANCE);
    wait_on(sim, &args).await
}

#[tokio::test]
async fn a_resize_is_ready_when_running_with_its_task_done() {
    let sim = sim_with(
        vec![span("EXTENDING", 2_500)],
        vec![task("EXTEND", 0, 2_500, "SUCCESS")],
    )
    .await;
    let run = wait_ready(&sim, &[]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    let report = run.report();
    assert_eq!(report["instance_id"], INSTANCE);
    assert_eq!(report["job_id"], Value::Null);
    assert_eq!(report["status"], "RUNNING");
    assert_eq!(report["outcome"], "success");
    assert_eq!(report["tasks"][0]["name"], "EXTEND");
    assert_eq!(report["tasks"][0]["status"], "SUCCESS");
    let duration = report["duration_ms"].as_u64().unwrap();
    assert!((2_400..=2_600).contains(&duration), "{report}");
    assert!(
        run.elapsed >= Duration::from_millis(2_500),
        "{:?}",
        run.elapsed
    );
}

#[tokio::test]
async fn running_while_a_task_still_runs_is_not_ready() {
    // The instance says RUNNING throughout; only its task says the operation goes on.
    let sim = sim_with(
        Vec::new(),
        vec![task("ChangeInstanceSpec", 0, 3_000, "SUCCESS")],
    )
    .await;
    let run = wait_ready(&sim, &[]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.elapsed >= Duration::from_secs(3), "{:?}", run.elapsed);
    assert_eq!(run.report()["tasks"][0]["status"], "SUCCESS");
}

#[tokio::test]
async fn a_one_poll_running_flicker_is_not_ready() {
    // RUNNING for the first look, then RESTARTING until 2.5 s: the confirmation catches it.
    let sim = sim_with(
        vec![span("RUNNING", 500), span("RESTARTING", 2_500)],
        Vec::new(),
    )
    .await;
    let run = wait_ready(&sim, &[]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.elapsed >= Duration::from_millis(2_500),
        "{:?}",
        run.elapsed
    );
    assert!(run.stderr.contains("RESTARTING"), "{}", run.stderr);
}

#[tokio::test]
async fn a_task_that_failed_fails_the_wait_and_is_named() {
    let mut failed = task("EXTEND", 0, 1_000, "FAILED");
    failed.details = Some(Details::text("EXTEND FAILED: no capacity in the zone"));
    let sim = sim_with(vec![span("EXTENDING", 1_000)], vec![failed]).await;
    let run = wait_ready(&sim, &[]).await;
    assert_eq!(run.code, 1, "{run:#?}");
    let report = run.report();
    assert_eq!(report["outcome"], "failed");
    let reason = report["fail_reason"].as_str().unwrap();
    assert!(reason.contains("EXTEND FAILED: no capacity"), "{reason}");

    // Details as DCS sends them, an object describing the change: in words in the reason
    // and the text table, as the object in the JSON report's tasks.
    let change = serde_json::json!({"old_capacity": "2", "new_capacity": "4"});
    let mut failed = task("EXTEND", 0, 1_000, "FAILED");
    failed.details = Some(serde_json::from_value(change.clone()).unwrap());
    let sim = sim_with(vec![span("EXTENDING", 1_000)], vec![failed]).await;
    let run = wait_ready(&sim, &[]).await;
    assert_eq!(run.code, 1, "{run:#?}");
    let report = run.report();
    assert_eq!(
        report["fail_reason"],
        "task EXTEND FAILED (capacity 2 → 4 GB)"
    );
    assert_eq!(report["tasks"][0]["details"], change);
    let run = wait_ready(&sim, &["--output", "text"]).await;
    assert!(
        run.stdout
            .contains("task EXTEND FAILED (capacity 2 → 4 GB)"),
        "{run:#?}"
    );
}

/// `CANCELLED` and `DELETED` have ended: not in progress, and for the operation waited on,
/// not a success. A status no document names is counted as in progress, said once.
#[tokio::test]
async fn cancelled_is_a_failure_and_an_unknown_task_status_is_in_progress() {
    let sim = sim_with(vec![], vec![task("EXTEND", 0, 500, "CANCELLED")]).await;
    let run = wait_ready(&sim, &[]).await;
    assert_eq!(run.code, 1, "{run:#?}");
    let reason = run.report()["fail_reason"].as_str().unwrap().to_string();
    assert!(reason.contains("task EXTEND CANCELLED"), "{reason}");

    // Deleted long before the window: not ours, and not in progress.
    let sim = sim_with(vec![], vec![task("EXTEND", -3_600_000, 500, "DELETED")]).await;
    let run = wait_ready(&sim, &[]).await;
    assert_eq!(run.code, 0, "{run:#?}");

    let sim = sim_with(vec![], vec![task("EXTEND", 0, 0, "PAUSED")]).await;
    let run = wait_ready(&sim, &["--timeout", "3s"]).await;
    assert_eq!(run.code, 3, "{run:#?}");
    let said = run.stderr.matches("unknown status \"PAUSED\"").count();
    assert_eq!(said, 1, "{}", run.stderr);
}

#[tokio::test]
async fn a_task_that_failed_before_since_is_not_ours() {
    // Failed ten minutes before the wait: with --since 5m it is someone else's operation.
    let mut old = task("EXTEND", -600_000, 60_000, "FAILED");
    old.details = Some(Details::text("an old failure"));
    let sim = sim_with(Vec::new(), vec![old]).await;
    let run = wait_ready(&sim, &["--since", "5m"]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    let report = run.report();
    assert_eq!(report["tasks"], serde_json::json!([]));
    assert_eq!(report["duration_ms"], Value::Null);
    // With a window that reaches it, it is.
    let run = wait_ready(&sim, &["--since", "15m"]).await;
    assert_eq!(run.code, 1, "{run:#?}");
}

#[tokio::test]
async fn error_and_frozen_instances_fail_and_say_which() {
    for (status, says) in [("ERROR", "in ERROR"), ("FROZEN", "top it up")] {
        let sim = sim_with(vec![span(status, 60_000)], Vec::new()).await;
        let run = wait_ready(&sim, &[]).await;
        assert_eq!(run.code, 1, "{status}: {run:#?}");
        let report = run.report();
        assert_eq!(report["status"], status);
        let reason = report["fail_reason"].as_str().unwrap();
        assert!(reason.contains(says), "{reason}");
        // The status alone settles it: no task list is read.
        assert_eq!(report["polls"], 1, "{report}");
    }
}

#[tokio::test]
async fn an_unknown_instance_is_an_error_after_the_grace() {
    let sim = sim_with(Vec::new(), Vec::new()).await;
    let run = wait_on(&sim, &["--not-found-grace", "1s", "instance", "i-unknown"]).await;
    assert_eq!(run.code, 4, "{run:#?}");
    let report = run.report();
    assert_eq!(report["outcome"], "error");
    assert_eq!(report["error"]["code"], "111404022");
}

#[tokio::test]
async fn a_busy_instance_costs_one_request_a_poll_and_faults_are_ridden_out() {
    let sim = start(Scenario {
        instances: vec![SimInstance {
            timeline: vec![span("EXTENDING", 3_000)],
            faults: vec![FaultRule::on(&[2], Fault::server_error(503))],
            ..SimInstance::new(INSTANCE, 1_000)
        }],
        ..scenario(Vec::new())
    })
    .await;
    let run = wait_ready(&sim, &["--timeout", "2s"]).await;
    assert_eq!(run.code, 3, "{run:#?}");
    let report = run.report();
    assert_eq!(report["outcome"], "timeout");
    assert_eq!(report["status"], "EXTENDING");
    // Every request was a read of the instance: the tasks were never needed.
    assert_eq!(
        report["polls"].as_u64(),
        Some(sim.stats().requests),
        "{report}"
    );
    let run = wait_ready(&sim, &[]).await;
    assert_eq!(run.code, 0, "{run:#?}");
}

#[tokio::test]
async fn bad_instance_ids_send_nothing() {
    let sim = sim_with(Vec::new(), Vec::new()).await;
    let run = wait_on(&sim, &["instance", "--", "a/b"]).await;
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("is not a DCS instance id"),
        "{}",
        run.stderr
    );
    let run = wait_on(&sim, &["instance", "--since", "soon", INSTANCE]).await;
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(sim.stats().requests, 0);
}

//! `dcs-wait swap`, end to end: the built binary starts swaps on dcs-sim over loopback and
//! waits for them. Every case says how many starts dcs-sim saw and how many of them started
//! a swap: the promise is that no instance is ever swapped twice.

mod common;

use common::*;
use dcs_wait::sim::{
    Fault, Scenario, SimInstance, SimServer, SimTask, StartFault, StatusSpan, SwapStats,
};
use serde_json::Value;
use std::time::Duration;

const INSTANCE: &str = "5560df16-cebf-4473-95c4-d8b0ba1ab0e6";

async fn sim_with(instance: SimInstance) -> SimServer {
    start(Scenario {
        instances: vec![instance],
        ..scenario(Vec::new())
    })
    .await
}

/// A 1.5 s swap on [`INSTANCE`] with `faults` on its starts.
fn instance(faults: Vec<StartFault>) -> SimInstance {
    SimInstance {
        start_faults: faults,
        ..SimInstance::new(INSTANCE, 1_500)
    }
}

fn swaps(sim: &SimServer) -> SwapStats {
    sim.stats()
        .per_instance
        .get(INSTANCE)
        .cloned()
        .unwrap_or_default()
}

async fn swap(sim: &SimServer, extra: &[&str]) -> Run {
    let mut args = vec!["swap"];
    args.extend_from_slice(extra);
    wait_on(sim, &args).await
}

fn assert_started_job(report: &Value) {
    assert_eq!(report["instance_id"], INSTANCE);
    let job = report["job_id"].as_str().expect("a started job");
    assert!(job.starts_with("ff80a0a0"), "{report}");
}

#[tokio::test]
async fn a_swap_is_started_once_and_waited_for() {
    let sim = sim_with(instance(Vec::new())).await;
    let run = swap(&sim, &[INSTANCE, INSTANCE]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    let report = run.report();
    assert_started_job(&report);
    assert_eq!(report["outcome"], "success");
    assert_eq!(report["duration_ms"], 1_500);
    assert_eq!(report["job_type"], "masterStandbySwapJob");
    // 1 start + the job's reads: at most 1 PUT and 5 GETs for a short swap.
    let polls = report["polls"].as_u64().unwrap();
    assert!((2..=6).contains(&polls), "{report}");
    assert_eq!(
        swaps(&sim),
        SwapStats {
            starts: 1,
            swaps: 1
        }
    );
    let job = report["job_id"].as_str().unwrap();
    assert!(
        run.stderr
            .contains(&format!("swap started on {INSTANCE}: job {job}")),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn throttled_and_busy_starts_are_sent_again_until_one_starts() {
    let throttled = StartFault::on(&[1], Fault::throttled("1"), false);
    // Busy in every spelling of the API: the legacy numeric code, and the codes only
    // Terraform's provider knew; nothing started, so the start is sent again.
    let busy = |code: &str| Fault::Error {
        http_status: 400,
        error_code: Some(code.into()),
        error_msg: Some("busy".into()),
        retry_after: None,
        request_id: None,
    };
    let spelled = ["111400113", "DCS.4121", "DCS.4975"]
        .iter()
        .enumerate()
        .map(|(i, code)| StartFault::on(&[i as u32 + 1], busy(code), false))
        .collect();
    for (faults, starts, first) in [
        (vec![throttled], 2, "APIG.0308"),
        (vec![StartFault::busy(3)], 4, "DCS.4049"),
        (spelled, 4, "111400113"),
    ] {
        let sim = sim_with(instance(faults)).await;
        let run = swap(&sim, &[INSTANCE]).await;
        assert_eq!(run.code, 0, "{run:#?}");
        assert_started_job(&run.report());
        assert_eq!(swaps(&sim), SwapStats { starts, swaps: 1 });
        // The reason is said when it changes, not at every try.
        assert_eq!(run.stderr.matches(first).count(), 1, "{}", run.stderr);
    }
}

#[tokio::test]
async fn busy_until_the_deadline_is_a_timeout_with_no_swap() {
    let sim = sim_with(instance(vec![StartFault::busy(1_000)])).await;
    let run = swap(&sim, &["--timeout", "4s", INSTANCE]).await;
    assert_eq!(run.code, 3, "{run:#?}");
    let report = run.report();
    assert_eq!(report["outcome"], "timeout");
    assert_eq!(report["job_id"], Value::Null);
    assert_eq!(report["error"]["code"], "DCS.4049");
    let stats = swaps(&sim);
    assert_eq!(stats.swaps, 0);
    // The schedule's patience, not a hammer: a few tries in 4 s.
    assert!((2..=6).contains(&stats.starts), "{stats:?}");
}

#[tokio::test]
async fn final_refusals_are_not_sent_again() {
    let refused = StartFault::on(&[1, 2, 3], Fault::swap_not_supported(), false);
    let sim = sim_with(instance(vec![refused])).await;
    let run = swap(&sim, &[INSTANCE]).await;
    assert_eq!(run.code, 4, "{run:#?}");
    let report = run.report();
    assert_eq!(report["outcome"], "error");
    assert_eq!(report["error"]["code"], "DCS.4855");
    assert_eq!(report["job_id"], Value::Null);
    assert_eq!(
        swaps(&sim),
        SwapStats {
            starts: 1,
            swaps: 0
        }
    );

    // No such instance: DCS's 404, not retried.
    let run = swap(&sim, &["no-such-instance"]).await;
    assert_eq!(run.code, 4, "{run:#?}");
    assert_eq!(run.report()["error"]["code"], "111404022");
    assert!(!sim.stats().per_instance.contains_key("no-such-instance"));

    // Refused credentials (401): one request, no swap.
    let mut env = aksk(&sim);
    env[1].1 = "wrong-secret".into();
    let mut args = args_for(&sim);
    args.extend(["swap".to_string(), INSTANCE.to_string()]);
    let before = sim.stats().requests;
    let run = dcs_wait(&args, &env).await;
    assert_eq!(run.code, 4, "{run:#?}");
    assert_eq!(run.report()["error"]["http_status"], 401);
    assert_eq!(sim.stats().requests - before, 1);
    assert_eq!(swaps(&sim).swaps, 0);
}

#[tokio::test]
async fn a_lost_answer_is_never_sent_again_and_its_task_is_followed() {
    for fault in [Fault::Drop, Fault::server_error(502)] {
        let lost = StartFault::on(&[1], fault.clone(), true);
        let sim = sim_with(instance(vec![lost])).await;
        let run = swap(&sim, &[INSTANCE]).await;
        assert_eq!(run.code, 0, "{fault:?}: {run:#?}");
        let report = run.report();
        assert_eq!(report["outcome"], "success", "{report}");
        assert_eq!(report["status"], "SUCCESS");
        assert_eq!(report["job_type"], "masterStandbySwapJob");
        // The task's own times: created at the start, updated at its end.
        let duration = report["duration_ms"].as_u64().unwrap();
        assert!((1_400..=1_600).contains(&duration), "{report}");
        assert_eq!(
            report["job_id"],
            Value::Null,
            "the job id was in the lost answer"
        );
        assert_eq!(
            swaps(&sim),
            SwapStats {
                starts: 1,
                swaps: 1
            },
            "{fault:?}"
        );
        assert!(run.stderr.contains("proves nothing"), "{}", run.stderr);
    }
}

/// dcs-sim refuses a swap as DCS does, by what the instance is doing: not `RUNNING`
/// (`DCS.4049`) or a task in progress (`DCS.4017`) are busy, and the swap starts once the
/// instance is free; not master/standby (`DCS.4086`) is final.
#[tokio::test]
async fn dcs_sim_refuses_a_swap_as_dcs_does() {
    let extending = SimInstance {
        timeline: vec![StatusSpan {
            status: "EXTENDING".into(),
            until_ms: 1_500,
        }],
        ..instance(Vec::new())
    };
    let resizing = SimInstance {
        tasks: vec![SimTask {
            name: "EXTEND".into(),
            start_ms: 0,
            run_ms: 1_500,
            final_status: "SUCCESS".into(),
            details: None,
        }],
        ..instance(Vec::new())
    };
    for (busy, code) in [(extending, "DCS.4049"), (resizing, "DCS.4017")] {
        let sim = sim_with(busy).await;
        let run = swap(&sim, &[INSTANCE]).await;
        assert_eq!(run.code, 0, "{code}: {run:#?}");
        assert_started_job(&run.report());
        let counted = swaps(&sim);
        assert!(
            counted.starts >= 2 && counted.swaps == 1,
            "{code}: {counted:?}"
        );
        assert!(run.stderr.contains(code), "{}", run.stderr);
    }

    let single = SimInstance {
        cache_mode: "single".into(),
        ..instance(Vec::new())
    };
    let sim = sim_with(single).await;
    let run = swap(&sim, &[INSTANCE]).await;
    assert_eq!(run.code, 4, "{run:#?}");
    assert_eq!(run.report()["error"]["code"], "DCS.4086");
    assert_eq!(
        swaps(&sim),
        SwapStats {
            starts: 1,
            swaps: 0
        }
    );
}

/// A swap followed through its task, which ends `CANCELLED` (or `DELETED`): it failed, and
/// the report names the task; it is not polled until the deadline.
#[tokio::test]
async fn a_swap_whose_task_ends_cancelled_fails_naming_it() {
    for ended in ["CANCELLED", "DELETED"] {
        let lost = StartFault::on(&[1], Fault::Drop, true);
        let sim = sim_with(SimInstance {
            swap_final_status: ended.into(),
            ..instance(vec![lost])
        })
        .await;
        let run = swap(&sim, &[INSTANCE]).await;
        assert_eq!(run.code, 1, "{ended}: {run:#?}");
        let report = run.report();
        assert_eq!(report["outcome"], "failed");
        assert_eq!(report["status"], ended);
        let reason = report["fail_reason"].as_str().unwrap();
        assert!(
            reason.contains(&format!("task masterStandbySwapJob {ended}")),
            "{reason}"
        );
    }
}

#[tokio::test]
async fn with_no_task_after_a_lost_answer_it_is_unknown_and_said_so() {
    // The connection drops and nothing started: only the tasks can tell, and they show none.
    let lost = StartFault::on(&[1], Fault::Drop, false);
    let sim = sim_with(instance(vec![lost])).await;
    let run = swap(&sim, &["--timeout", "5s", INSTANCE]).await;
    assert_eq!(run.code, 4, "{run:#?}");
    let report = run.report();
    assert_eq!(report["outcome"], "error");
    assert_eq!(report["error"]["code"], "start_unknown");
    let message = report["error"]["message"].as_str().unwrap();
    assert!(message.contains("unknown whether the swap"), "{message}");
    assert!(message.contains("background tasks"), "{message}");
    assert_eq!(
        swaps(&sim),
        SwapStats {
            starts: 1,
            swaps: 0
        }
    );
    assert_ended_by(&run, Duration::from_secs(5));
}

#[tokio::test]
async fn a_connection_that_never_opened_is_tried_again() {
    // Nothing listens there: every start is refused before anything is sent.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let args = [
        "--endpoint",
        &url,
        "--project-id",
        PROJECT,
        "--output",
        "json",
        "--timeout",
        "4s",
        "swap",
        INSTANCE,
    ];
    let env = [("DCS_WAIT_AUTH_TOKEN", "t".to_string())];
    let run = dcs_wait(&args, &env).await;
    // Tried again until the deadline (before the unreachable grace); a server never reached
    // is an error, not a swap "still running".
    assert_eq!(run.code, 4, "{run:#?}");
    let report = run.report();
    assert_eq!(report["outcome"], "error");
    assert_eq!(report["error"]["code"], "connect");
    assert_eq!(report["job_id"], Value::Null);
    assert!(report["polls"].as_u64().unwrap() >= 2, "{report}");
    assert!(run.stderr.contains("did not start"), "{}", run.stderr);
}

#[tokio::test]
async fn a_dry_run_reads_the_instance_and_starts_nothing() {
    let sim = start(Scenario {
        instances: vec![
            instance(Vec::new()),
            SimInstance {
                status: "EXTENDING".into(),
                ..SimInstance::new("i-resizing", 1_000)
            },
        ],
        ..scenario(Vec::new())
    })
    .await;
    let run = swap(&sim, &["--dry-run", INSTANCE]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    let report = run.report();
    assert_eq!(
        (report["status"].as_str(), report["polls"].as_u64()),
        (Some("RUNNING"), Some(1))
    );
    assert!(run.stderr.contains("RUNNING, ha"), "{}", run.stderr);
    let run = swap(&sim, &["--dry-run", "i-resizing"]).await;
    assert_eq!(run.code, 4, "{run:#?}");
    assert_eq!(run.report()["error"]["code"], "not_running");
    let run = swap(&sim, &["--dry-run", "i-unknown"]).await;
    assert_eq!(run.code, 4, "{run:#?}");
    assert!(
        sim.stats().per_instance.is_empty(),
        "a dry run sent a start"
    );
}

#[tokio::test]
async fn bad_instance_ids_send_nothing() {
    let sim = sim_with(instance(Vec::new())).await;
    for bad in ["a/b", "../x", &"x".repeat(65)] {
        let run = swap(&sim, &["--", bad]).await;
        assert_eq!(run.code, 2, "{bad}: {run:#?}");
        assert!(
            run.stderr.contains("is not a DCS instance id"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(sim.stats().requests, 0);
}

#[tokio::test]
async fn instance_ids_from_stdin_and_every_report_format() {
    let sim = sim_with(instance(Vec::new())).await;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("output");
    let junit = dir.path().join("junit.xml");
    let mut args = args_for(&sim);
    args.extend(
        ["--junit", junit.to_str().unwrap(), "swap", "-"]
            .iter()
            .map(|s| s.to_string()),
    );
    let mut env = aksk(&sim);
    env.push(("GITHUB_OUTPUT", output.display().to_string()));
    let input = format!(r#"[{{"instance_id": "{INSTANCE}"}}]"#);
    let run = dcs_wait_with_stdin(&args, &env, input.as_bytes()).await;
    assert_eq!(run.code, 0, "{run:#?}");
    let job = run.report()["job_id"].as_str().unwrap().to_string();
    let outputs = std::fs::read_to_string(&output).unwrap();
    assert!(outputs.contains(&format!("job_id={job}\n")), "{outputs}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(INSTANCE) && xml.contains(&job), "{xml}");

    let mut text = args_for(&sim);
    text.truncate(4);
    text.extend(["swap".to_string(), INSTANCE.to_string()]);
    let run = dcs_wait(&text, &aksk(&sim)).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stdout.starts_with("INSTANCE "), "{}", run.stdout);
    assert_eq!(swaps(&sim).swaps, 2, "two runs, one swap each");
}

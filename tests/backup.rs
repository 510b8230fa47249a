//! `dcs-wait backup` and `dcs-wait restore`, the real binary against dcs-sim on loopback:
//! started once and followed, followed by id, refused at once, dry runs, and the report.

mod common;

use common::*;
use dcs_wait::sim::{Scenario, SimInstance, SimPlan, SimRecord};

const INSTANCE: &str = "5560df16-cebf-4473-95c4-d8b0ba1ab0e6";

fn record(id: &str, status: &str) -> SimRecord {
    SimRecord {
        id: id.into(),
        backup_id: None,
        start_ms: -600_000,
        waiting_ms: 0,
        run_ms: 60_000,
        final_status: status.into(),
        error_code: (status == "failed").then(|| "dcs.08.0002".into()),
        remark: None,
        backup_type: "auto".into(),
    }
}

async fn sim_with(instance: SimInstance) -> dcs_wait::sim::SimServer {
    start(Scenario {
        instances: vec![instance],
        ..scenario(Vec::new())
    })
    .await
}

fn quick(instance_id: &str) -> SimInstance {
    let mut instance = SimInstance::new(instance_id, 0);
    instance.backup = SimPlan::lasting(700);
    instance.restore = SimPlan::lasting(900);
    instance.backups = vec![record("good-1", "succeed"), record("bad-1", "failed")];
    instance
}

async fn run(sim: &dcs_wait::sim::SimServer, args: &[&str]) -> Run {
    let mut all = args_for(sim);
    all.extend(args.iter().map(|a| a.to_string()));
    dcs_wait(&all, &aksk(sim)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_started_once_and_reported() {
    let sim = sim_with(quick(INSTANCE)).await;
    let run = run(
        &sim,
        &[
            "backup",
            "--format",
            "aof",
            "--remark",
            "before 2.4",
            INSTANCE,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:#?}");
    let report = run.report();
    assert_eq!(report["instance_id"], INSTANCE);
    assert_eq!(report["status"], "succeed");
    assert_eq!(report["outcome"], "success");
    assert_eq!(report["duration_ms"], 1_200);
    assert_eq!(report["size_bytes"], 880_232);
    assert_eq!(report["started"], true);
    let backup_id = report["backup_id"].as_str().unwrap();
    assert!(
        run.stderr
            .contains(&format!("backup started on {INSTANCE}: backup {backup_id}")),
        "the id is logged as soon as it is known: {}",
        run.stderr
    );
    let stats = sim.stats().records[INSTANCE].clone();
    assert_eq!((stats.backup_starts, stats.backups), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_and_restores_followed_by_id_send_nothing_that_changes_anything() {
    let sim = sim_with(quick(INSTANCE)).await;
    let run_ = run(&sim, &["backup", "--id", "bad-1", INSTANCE]).await;
    assert_eq!(run_.code, 1, "{run_:#?}");
    let report = run_.report();
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["status"], "failed");
    assert_eq!(report["fail_reason"], "dcs.08.0002: execution timed out");
    assert_eq!(report["started"], false);
    assert_eq!(report["duration_ms"], 60_000);
    let run_ = run(
        &sim,
        &[
            "restore",
            "--id",
            "no-such-restore",
            "--not-found-grace",
            "1s",
            INSTANCE,
        ],
    )
    .await;
    assert_eq!(run_.code, 4, "{run_:#?}");
    assert!(
        !sim.stats().records.contains_key(INSTANCE),
        "nothing started"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_waits_for_the_instance_and_a_bad_backup_is_refused_at_once() {
    let sim = sim_with(quick(INSTANCE)).await;
    let done = run(&sim, &["restore", "--from", "good-1", INSTANCE]).await;
    assert_eq!(done.code, 0, "{done:#?}");
    let report = done.report();
    assert_eq!(report["status"], "succeed");
    assert_eq!(report["started"], true);
    assert!(report["restore_id"].is_string(), "{report}");
    assert!(report.get("backup_id").is_none(), "{report}");
    let refused = run(&sim, &["restore", "--from", "bad-1", INSTANCE]).await;
    assert_eq!(refused.code, 4, "{refused:#?}");
    assert_eq!(refused.report()["error"]["code"], "DCS.4087");
    assert_ended_by(&refused, std::time::Duration::ZERO);
    let stats = sim.stats().records[INSTANCE].clone();
    assert_eq!((stats.restore_starts, stats.restores), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_runs_prove_what_they_can_and_start_nothing() {
    let mut single = quick("single-1");
    single.cache_mode = "single".into();
    let sim = start(Scenario {
        instances: vec![quick(INSTANCE), single],
        ..scenario(Vec::new())
    })
    .await;
    for (args, code, says) in [
        (&["backup", "--dry-run", INSTANCE][..], 0, ""),
        (
            &["restore", "--dry-run", "--from", "good-1", INSTANCE],
            0,
            "",
        ),
        (
            &["restore", "--dry-run", "--from", "bad-1", INSTANCE],
            4,
            "is failed: a restore needs one that succeeded",
        ),
        (
            &["restore", "--dry-run", "--from", "gone-1", INSTANCE],
            4,
            "not among the backup records",
        ),
        (
            &["backup", "--dry-run", "single-1"],
            4,
            "single-node instance cannot be backed up",
        ),
    ] {
        let run = run(&sim, args).await;
        assert_eq!(run.code, code, "{args:?}: {run:#?}");
        let report = run.report();
        if code != 0 {
            let message = report["error"]["message"].as_str().unwrap();
            assert!(message.contains(says), "{args:?}: {message}");
        }
    }
    assert!(sim.stats().records.is_empty(), "nothing started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ids_and_mixed_options_are_refused_before_any_request() {
    let sim = sim_with(quick(INSTANCE)).await;
    for args in [
        &["backup", "--id", "a/b", INSTANCE][..],
        &["backup", "--id", "b1", INSTANCE, "other-1"],
        &["restore", INSTANCE],
        &["restore", "--from", "b1", "--id", "r1", INSTANCE],
        &["backup", "--format", "zip", INSTANCE],
        &["backup", "--id", "b1", "--remark", "x", INSTANCE],
    ] {
        let run = run(&sim, args).await;
        assert_eq!(run.code, 2, "{args:?}: {run:#?}");
        assert!(!run.stderr.trim().is_empty(), "{args:?}");
    }
    assert_eq!(sim.stats().requests, 0);
}

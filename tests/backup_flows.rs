//! Backups and restores against dcs-sim in-process, in virtual time: started once and
//! followed through their records, found by the remark's token after an answer that proves
//! nothing, refused for good where DCS says so, and a restore waited for until the instance
//! is ready again.

use dcs_wait::sim::{Fault, InProcess, Scenario, SimInstance, SimPlan, SimRecord, StartFault};
use dcs_wait::{BackupRequest, InstanceId, JobReport, Outcome, WaitOptions};
use std::time::Duration;
use tokio::time::Instant;

const INSTANCE: &str = "inst-1";

fn sim(instance: SimInstance) -> InProcess {
    InProcess::new(Scenario {
        instances: vec![SimInstance {
            instance_id: INSTANCE.into(),
            ..instance
        }],
        ..Scenario::demo()
    })
}

fn options() -> WaitOptions {
    WaitOptions::default()
        .with_seed(11)
        .with_timeout(Duration::from_secs(600))
}

fn id() -> InstanceId {
    INSTANCE.parse().unwrap()
}

async fn backup(sim: &InProcess, remark: Option<&str>) -> (JobReport, Duration) {
    let started = Instant::now();
    let mut request = BackupRequest::default().with_format("rdb");
    request.remark = remark.map(String::from);
    let mut reports = dcs_wait::backup_all(
        sim.client(),
        &[id()],
        &request,
        &options(),
        std::future::pending(),
    )
    .await;
    (reports.remove(0), started.elapsed())
}

fn succeeded_backup(id: &str) -> SimRecord {
    SimRecord {
        id: id.into(),
        backup_id: None,
        start_ms: -3_600_000,
        waiting_ms: 0,
        run_ms: 60_000,
        final_status: "succeed".into(),
        error_code: None,
        remark: None,
        backup_type: "auto".into(),
    }
}

#[tokio::test(start_paused = true)]
async fn a_backup_is_started_once_and_followed_to_its_end() {
    let sim = sim(SimInstance::new(INSTANCE, 0));
    let (report, took) = backup(&sim, Some("before the deploy")).await;
    assert_eq!(report.outcome, Outcome::Success, "{report:?}");
    assert_eq!(report.status.as_deref(), Some("succeed"));
    assert_eq!(report.duration_ms, Some(4_500), "updated_at − created_at");
    assert_eq!(report.size_bytes, Some(880_232));
    assert_eq!(report.started, Some(true));
    assert!(report.backup_id.is_some());
    assert!(report.job_id.is_none());
    let stats = sim.stats().records[INSTANCE].clone();
    assert_eq!((stats.backup_starts, stats.backups), (1, 1));
    assert!(took >= Duration::from_millis(4_500), "{took:?}");
    let json = serde_json::to_value(&report).unwrap();
    for key in ["backup_id", "size_bytes", "started"] {
        assert!(json.get(key).is_some(), "{key}: {json}");
    }
    assert!(json.get("restore_id").is_none(), "{json}");
}

#[tokio::test(start_paused = true)]
async fn a_lost_answer_is_followed_by_the_record_its_token_names_never_a_second_start() {
    // The backup starts, then the connection drops: the answer proves nothing.
    let mut instance = SimInstance::new(INSTANCE, 0);
    instance.backup.start_faults = vec![StartFault::on(&[1], Fault::Drop, true)];
    // Someone else's backup, made at the same moment, must not be taken for ours.
    let sim = sim(instance);
    let (report, _) = backup(&sim, None).await;
    assert_eq!(report.outcome, Outcome::Success, "{report:?}");
    assert_eq!(report.started, Some(true));
    assert!(
        report.backup_id.is_some(),
        "known by its record: {report:?}"
    );
    let stats = sim.stats().records[INSTANCE].clone();
    assert_eq!((stats.backup_starts, stats.backups), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_lost_answer_with_no_record_ends_start_unknown_within_the_grace() {
    let mut instance = SimInstance::new(INSTANCE, 0);
    instance.backup.start_faults = vec![StartFault::on(&[1], Fault::server_error(502), false)];
    let sim = sim(instance);
    let (report, took) = backup(&sim, None).await;
    assert_eq!(report.outcome, Outcome::Error, "{report:?}");
    let error = report.error.as_ref().unwrap();
    assert_eq!(error.code(), Some("start_unknown"));
    assert!(
        error.message().contains("backup records"),
        "{}",
        error.message()
    );
    assert!(error.message().contains("dcs-wait:"), "{}", error.message());
    assert_eq!(report.started, Some(false));
    assert!(
        // The evidence's documented 30 s (docs/backup.md), and the polls around it.
        took <= Duration::from_secs(30 + 31),
        "{took:?}"
    );
    let stats = sim.stats().records[INSTANCE].clone();
    assert_eq!((stats.backup_starts, stats.backups), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn a_busy_instance_is_asked_again_once_free() {
    // A scheduled backup runs for the first 20 s: DCS.4096 until then.
    let mut running = succeeded_backup("sched-1");
    running.start_ms = -1_000;
    running.run_ms = 20_000;
    let mut instance = SimInstance::new(INSTANCE, 0);
    instance.backups = vec![running];
    let sim = sim(instance);
    let (report, took) = backup(&sim, None).await;
    assert_eq!(report.outcome, Outcome::Success, "{report:?}");
    let stats = sim.stats().records[INSTANCE].clone();
    assert!(stats.backup_starts >= 2, "{stats:?}");
    assert_eq!(stats.backups, 1);
    assert!(took >= Duration::from_secs(19), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn a_failed_backup_says_its_error_code_in_words() {
    let mut instance = SimInstance::new(INSTANCE, 0);
    instance.backup = SimPlan {
        final_status: "failed".into(),
        error_code: Some("dcs.08.0002".into()),
        ..SimPlan::backup()
    };
    let sim = sim(instance);
    let (report, _) = backup(&sim, None).await;
    assert_eq!(report.outcome, Outcome::Failed, "{report:?}");
    assert_eq!(report.status.as_deref(), Some("failed"));
    assert_eq!(
        report.fail_reason.as_deref(),
        Some("dcs.08.0002: execution timed out")
    );
    assert_eq!(report.size_bytes, Some(0));
}

#[tokio::test(start_paused = true)]
async fn a_backup_started_elsewhere_is_followed_by_its_id_and_nothing_is_started() {
    let mut running = succeeded_backup("sched-7");
    running.start_ms = -1_000;
    running.run_ms = 30_000;
    let mut instance = SimInstance::new(INSTANCE, 0);
    // A thousand and five newer ones: it is on the second page of a thousand.
    let newer = (0..1_005).map(|n| SimRecord {
        start_ms: -500,
        ..succeeded_backup(&format!("new-{n}"))
    });
    instance.backups = newer.chain([running]).collect();
    let sim = sim(instance);
    let report = dcs_wait::follow_backup(
        sim.client(),
        &id(),
        &"sched-7".parse().unwrap(),
        &options(),
        std::future::pending(),
    )
    .await;
    assert_eq!(report.outcome, Outcome::Success, "{report:?}");
    assert_eq!(report.started, Some(false));
    assert_eq!(report.duration_ms, Some(30_000));
    // Each look reads both pages, and each page counts.
    assert_eq!(sim.stats().requests, u64::from(report.polls));
    assert_eq!(report.polls % 2, 0, "{report:?}");
    assert!(
        !sim.stats().records.contains_key(INSTANCE),
        "nothing started"
    );
}

#[tokio::test(start_paused = true)]
async fn an_unknown_backup_on_an_empty_list_is_not_found_after_the_grace() {
    let sim = sim(SimInstance::new(INSTANCE, 0));
    let report = dcs_wait::follow_backup(
        sim.client(),
        &id(),
        &"nope".parse().unwrap(),
        &options(),
        std::future::pending(),
    )
    .await;
    assert_eq!(report.outcome, Outcome::Error, "{report:?}");
    let error = report.error.unwrap();
    assert!(
        error.message().contains("not among the backup records"),
        "{}",
        error.message()
    );
}

#[tokio::test(start_paused = true)]
async fn a_restore_waits_for_its_record_and_then_for_the_instance() {
    let mut instance = SimInstance::new(INSTANCE, 0);
    instance.backups = vec![succeeded_backup("good-1")];
    let sim = sim(instance);
    let started = Instant::now();
    let report = dcs_wait::restore(
        sim.client(),
        &id(),
        &"good-1".parse().unwrap(),
        Some("roll back"),
        &options(),
        std::future::pending(),
    )
    .await;
    assert_eq!(report.outcome, Outcome::Success, "{report:?}");
    assert_eq!(report.status.as_deref(), Some("succeed"));
    assert_eq!(report.duration_ms, Some(6_500));
    assert_eq!(report.started, Some(true));
    assert!(report.restore_id.is_some());
    // The record's end, then readiness confirmed.
    assert!(
        started.elapsed() >= Duration::from_millis(7_500),
        "{:?}",
        started.elapsed()
    );
    let stats = sim.stats().records[INSTANCE].clone();
    assert_eq!((stats.restore_starts, stats.restores), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_restore_from_a_backup_that_did_not_succeed_is_refused_at_once() {
    let mut failed = succeeded_backup("bad-1");
    failed.final_status = "failed".into();
    let mut instance = SimInstance::new(INSTANCE, 0);
    instance.backups = vec![failed];
    let sim = sim(instance);
    let started = Instant::now();
    let report = dcs_wait::restore(
        sim.client(),
        &id(),
        &"bad-1".parse().unwrap(),
        None,
        &options(),
        std::future::pending(),
    )
    .await;
    assert_eq!(report.outcome, Outcome::Error, "{report:?}");
    assert_eq!(
        report.error.as_ref().and_then(|e| e.code()),
        Some("DCS.4087")
    );
    assert_eq!(started.elapsed(), Duration::ZERO, "at once");
    assert_eq!(sim.stats().records[INSTANCE].restore_starts, 1);
}

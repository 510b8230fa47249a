//! How soon `backup` notices a backup's end, and at what cost in requests, against
//! Terraform's huaweicloud provider (10 s delay, then a poll every 10 s). Measured, not
//! asserted: `cargo bench --bench backup`.
//!
//! 300 backups (fixed seed), each `waiting` 2 s, then backing up for a duration log-uniform
//! on [10 s, 30 min]. dcs-wait is the real start-once loop (`backup_all`) against dcs-sim
//! in-process, in virtual time (`tokio::time::pause`), with the command line's default
//! schedule (and with `--max-lag 30s`) and no history; Terraform is its published schedule, computed directly.
//!
//! Per waiter: detection lag p50, p95 and max (the time the wait ends − the record's end)
//! and requests per backup (dcs-wait: the POST and every list read, from the report;
//! Terraform: the POST and its reads).

use dcs_wait::sim::{InProcess, Scenario, SimInstance, SimPlan};
use dcs_wait::Schedule;
use dcs_wait::{BackupRequest, InstanceId, Outcome, WaitOptions};
use std::time::Duration;
use tokio::time::Instant;

const BACKUPS: usize = 300;
const SEED: u64 = 20_261_204;
const WAITING_MS: u64 = 2_000;

fn main() {
    let mut rng = fastrand::Rng::with_seed(SEED);
    let spans: Vec<u64> = (0..BACKUPS)
        .map(|_| {
            let (low, high) = (10f64.ln(), 1_800f64.ln());
            let run_s = (low + rng.f64() * (high - low)).exp();
            (run_s * 1000.0) as u64
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let ours = |max_lag: u64| {
        let mut ours = Vec::with_capacity(BACKUPS);
        for (n, run_ms) in spans.iter().enumerate() {
            let lag_and_requests = runtime.block_on(async {
                let id = format!("inst-{n}");
                let instance = SimInstance {
                    backup: SimPlan {
                        waiting_ms: WAITING_MS,
                        ..SimPlan::lasting(*run_ms)
                    },
                    ..SimInstance::new(&id, 0)
                };
                let sim = InProcess::new(Scenario {
                    instances: vec![instance],
                    ..Scenario::demo()
                });
                let options = WaitOptions::default()
                    .with_seed(SEED + n as u64)
                    .with_schedule(Schedule::default().with_max_lag(Duration::from_secs(max_lag)))
                    .with_timeout(Duration::from_secs(3_600));
                let ids: Vec<InstanceId> = vec![id.parse().expect("an id")];
                let started = Instant::now();
                let report = dcs_wait::backup_all(
                    sim.client(),
                    &ids,
                    &BackupRequest::default(),
                    &options,
                    std::future::pending(),
                )
                .await
                .remove(0);
                assert_eq!(report.outcome, Outcome::Success, "{report:?}");
                let ended = (WAITING_MS + run_ms) as f64 / 1000.0;
                let lag = started.elapsed().as_secs_f64() - ended;
                let created = sim.stats().records[&id].backups;
                assert_eq!(created, 1, "never twice");
                (lag, f64::from(report.polls))
            });
            ours.push(lag_and_requests);
        }
        ours
    };
    let (ours_10, ours_30) = (ours(10), ours(30));
    // Terraform: the POST, then reads at 10, 20, 30 s… until one sees the end.
    let terraform: Vec<(f64, f64)> = spans
        .iter()
        .map(|run_ms| {
            let ended = (WAITING_MS + run_ms) as f64 / 1000.0;
            let reads = (ended / 10.0).ceil().max(1.0);
            (reads * 10.0 - ended, 1.0 + reads)
        })
        .collect();
    println!(
        "{BACKUPS} backups, waiting {} s then 10 s – 30 min (log-uniform), seed {SEED}",
        WAITING_MS / 1000
    );
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>14}",
        "waiter", "lag p50", "lag p95", "lag max", "requests/backup"
    );
    for (name, results) in [
        ("dcs-wait backup (defaults)", &ours_10),
        ("dcs-wait --max-lag 30s", &ours_30),
        ("Terraform (10 s / 10 s)", &terraform),
    ] {
        let mut lags: Vec<f64> = results.iter().map(|(lag, _)| *lag).collect();
        lags.sort_by(f64::total_cmp);
        let pick =
            |p: f64| lags[((lags.len() as f64 * p).ceil() as usize).clamp(1, lags.len()) - 1];
        let requests = results.iter().map(|(_, r)| r).sum::<f64>() / results.len() as f64;
        println!(
            "{name:<28} {:>8.1}s {:>8.1}s {:>8.1}s {:>14.1}",
            pick(0.5),
            pick(0.95),
            lags[lags.len() - 1],
            requests
        );
    }
}

//! Polls and detection lag for a 3 s master/standby swap, measured over real HTTP against
//! dcs-sim on loopback with the real client and wait loop (the CLI's code path).
//!
//! `cargo run --release --example lag_3s` — 50 waits at once, each with its own jitter seed.
//! Detection lag = when dcs-sim answered the poll that saw SUCCESS − when the job ended,
//! both on dcs-sim's clock.

use dcs_wait::sim::{Scenario, SimJob, SimServer};
use dcs_wait::{wait_all, JobId, WaitOptions};

const WAITS: usize = 50;
const RUN_MS: u64 = 3_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut scenario = Scenario::demo();
    scenario.jobs = (0..WAITS)
        .map(|i| SimJob {
            job_id: format!("swap-{i}"),
            job_type: "masterStandbySwapJob".into(),
            start_delay_ms: 0,
            run_ms: RUN_MS,
            final_status: "SUCCESS".into(),
            fail_reason: None,
            faults: Vec::new(),
            expect: None,
        })
        .collect();
    let sim = SimServer::start(scenario.clone(), "127.0.0.1:0".parse()?).await?;
    let client = sim.client().await?;
    let ids = scenario
        .jobs
        .iter()
        .map(|j| j.job_id.parse())
        .collect::<Result<Vec<JobId>, _>>()?;
    let reports = wait_all(
        client,
        &ids,
        &WaitOptions::default(),
        std::future::pending(),
    )
    .await;
    let stats = sim.stats();
    let mut lags: Vec<u64> = Vec::new();
    let mut polls: Vec<usize> = Vec::new();
    for report in &reports {
        assert_eq!(report.duration_ms, Some(RUN_MS), "{report:?}");
        let times = &stats.per_job[report.name()];
        lags.push(
            times
                .last()
                .copied()
                .unwrap_or_default()
                .saturating_sub(RUN_MS),
        );
        polls.push(times.len());
    }
    lags.sort_unstable();
    polls.sort_unstable();
    let mean = |v: &[u64]| v.iter().sum::<u64>() as f64 / v.len() as f64;
    println!("{WAITS} waits on a {RUN_MS} ms job, default schedule, dcs-sim on loopback");
    println!(
        "polls per wait: min {} median {} max {} (mean {:.2})",
        polls[0],
        polls[polls.len() / 2],
        polls[polls.len() - 1],
        polls.iter().sum::<usize>() as f64 / polls.len() as f64
    );
    println!(
        "detection lag ms: min {} median {} p95 {} max {} (mean {:.0})",
        lags[0],
        lags[lags.len() / 2],
        lags[lags.len() * 95 / 100],
        lags[lags.len() - 1],
        mean(&lags)
    );
    Ok(())
}

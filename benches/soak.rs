//! Soak: the real dcs-wait binary waits for 1 000 jobs at once against a dcs-sim on loopback
//! that faults a fifth of all requests, for about two minutes, and every report is checked.
//!
//! `cargo bench --bench soak` (release build). `DCS_WAIT_SOAK_JOBS` and
//! `DCS_WAIT_SOAK_FAULT_RATE` change the number of jobs and the share of faulted requests.
//!
//! Each job runs 20 to 110 s and ends SUCCESS or (one in five) FAIL. Each of its requests is
//! faulted with the given probability (fixed seed), with one of every transient kind dcs-sim
//! has — 5xx JSON, HTML 502, 429 with Retry-After, a dropped connection, a stall past the
//! request timeout, a cut-off, empty or oversized body, a trickled body, an unknown status.
//! Final kinds are left out: they would end a wait as an error, which the property tests
//! check. A report is right when its outcome is the job's, its duration is the job's run
//! time to the millisecond, and its poll count is what dcs-sim counted.

#[path = "../tests/common/mod.rs"]
mod common;

use dcs_wait::sim::{Fault, FaultRule, SimJob};

fn transient_fault(rng: &mut fastrand::Rng) -> Fault {
    match rng.u8(0..11) {
        0 => Fault::server_error(500),
        1 => Fault::server_error(503),
        2 => Fault::Html {
            http_status: 502,
            title: None,
        },
        3 => Fault::throttled("1"),
        4 => Fault::Drop,
        5 => Fault::Stall { ms: Some(3_000) },
        6 => Fault::Malformed,
        7 => Fault::Empty,
        8 => Fault::Oversized { bytes: 2 << 20 },
        9 => Fault::Trickle { ms: 50 },
        _ => Fault::Status {
            status: "MAINTAINING".into(),
        },
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let jobs: usize = env_or("DCS_WAIT_SOAK_JOBS", 1_000);
    let rate: f64 = env_or("DCS_WAIT_SOAK_FAULT_RATE", 0.2);
    let mut rng = fastrand::Rng::with_seed(20261128);
    let scenario_jobs: Vec<SimJob> = (0..jobs)
        .map(|i| {
            // Faults on request numbers chosen at random; 400 is past any wait here.
            let mut faults = Vec::new();
            for n in 1..400u32 {
                if rng.f64() < rate {
                    faults.push(FaultRule::on(&[n], transient_fault(&mut rng)));
                }
            }
            let fails = rng.u8(0..5) == 0;
            SimJob {
                job_id: format!("soak-{i}"),
                job_type: "extendDCSInstance".into(),
                start_delay_ms: rng.u64(0..5_000),
                run_ms: rng.u64(20_000..110_000),
                final_status: if fails { "FAIL" } else { "SUCCESS" }.into(),
                fail_reason: fails.then(|| "soak failure".into()),
                faults,
                expect: None,
            }
        })
        .collect();
    let sim = common::sim(scenario_jobs.clone()).await;
    let mut args = common::args_for(&sim);
    args.extend(
        [
            "--max-rps",
            "0",
            "--request-timeout",
            "2s",
            "--timeout",
            "10m",
            "-",
        ]
        .map(String::from),
    );
    let ids: String = scenario_jobs
        .iter()
        .map(|j| format!("{}\n", j.job_id))
        .collect();
    let output = common::dcs_wait_with_stdin(&args, &common::aksk(&sim), ids.as_bytes()).await;
    let elapsed = output.elapsed;

    let stats = sim.stats();
    let mut wrong = Vec::new();
    let mut faulted = 0usize;
    let mut lags = Vec::new();
    let reports = output.reports();
    for job in &scenario_jobs {
        let Some(report) = reports.iter().find(|r| r["job_id"] == job.job_id.as_str()) else {
            wrong.push(format!("{}: no report", job.job_id));
            continue;
        };
        let times = stats.per_job.get(&job.job_id).cloned().unwrap_or_default();
        faulted += job
            .faults
            .iter()
            .filter(|rule| rule.requests.iter().any(|&n| n as usize <= times.len()))
            .count();
        let expected = if job.final_status == "FAIL" {
            "failed"
        } else {
            "success"
        };
        let right = report["outcome"] == expected
            && report["duration_ms"] == job.run_ms
            && report["polls"].as_u64() == Some(times.len() as u64);
        if !right {
            wrong.push(format!("{}: {report}", job.job_id));
        }
        if let Some(last) = times.last() {
            let ended = job.start_delay_ms + job.run_ms;
            lags.push(last.saturating_sub(ended) as f64 / 1000.0);
        }
    }
    lags.sort_by(f64::total_cmp);
    let at = |q: f64| {
        lags.get(((lags.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "soak: {jobs} jobs, {:.0} % of requests faulted (transient kinds)",
        rate * 100.0
    );
    println!("  wall time            {:.1} s", elapsed.as_secs_f64());
    println!(
        "  exit code            {:?} (1: some jobs FAIL, as scripted)",
        output.code
    );
    println!(
        "  requests             {} ({faulted} faulted, {:.1} %)",
        stats.requests,
        100.0 * faulted as f64 / stats.requests.max(1) as f64
    );
    println!(
        "  requests per job     {:.1}",
        stats.requests as f64 / jobs as f64
    );
    println!(
        "  detection lag        p50 {:.2} s, p95 {:.2} s, max {:.2} s (last poll − end, dcs-sim's clock)",
        at(0.5),
        at(0.95),
        at(1.0)
    );
    println!("  reports right        {}/{jobs}", jobs - wrong.len());
    for w in wrong.iter().take(10) {
        println!("  WRONG {w}");
    }
    if !wrong.is_empty() {
        std::process::exit(1);
    }
}

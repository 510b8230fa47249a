//! How soon each waiter notices a finished job, and at what cost in requests.
//!
//! `cargo bench --bench schedule` — the standard workload of 4 000 jobs (fixed seed): even
//! ones `masterStandbySwapJob`, log-normal durations (median 3 s, σ 0.4); odd ones cycling
//! through modifyBandwidth, backupDCSInstance, extendDCSInstance and restoreDCSInstance,
//! log-uniform on [1 s, 1 800 s]. Every waiter starts when its job is submitted.
//!
//! dcs-wait is the real wait loop and schedule (`wait_all`, the CLI's code) through the real
//! client against dcs-sim in-process, in virtual time (`tokio::time::pause`): each job
//! RUNNING from its first poll until its duration (to the millisecond) has passed, then
//! SUCCESS. The other waiters are their
//! published schedules (see "How dcs-wait polls" in the README), computed directly.
//!
//! Per waiter: detection lag p50 and p95 (the first poll at or after the end − the end),
//! relative lag p95 (lag ÷ duration), requests per job, and lag p50 and requests per job of
//! the swaps alone; dcs-wait across its knob, and on a second workload with and without
//! history. The table is also written as JSON to `docs/schedule-bench.json`, and lag p95
//! against requests per job drawn to `docs/schedule-bench.svg` (both shown in the README).

use dcs_wait::sim::{InProcess, Scenario};
use dcs_wait::{wait_all, History, JobId, Outcome, Schedule, WaitEvent, WaitOptions};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

const JOBS: usize = 4_000;
const SEED: u64 = 20_261_128;
const LONG_TYPES: [&str; 4] = [
    "modifyBandwidth",
    "backupDCSInstance",
    "extendDCSInstance",
    "restoreDCSInstance",
];

#[derive(Debug, Clone)]
struct SimJob {
    id: String,
    job_type: &'static str,
    /// Seconds from submission to the end.
    duration: f64,
}

/// A standard normal from two uniforms (Box–Muller).
fn normal(rng: &mut fastrand::Rng) -> f64 {
    let (u1, u2) = (rng.f64().max(f64::MIN_POSITIVE), rng.f64());
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// The second workload: every type has a stable duration (log-normal, σ 0.3) around its
/// own median, and 20 earlier durations of each are known.
const STABLE: [(&str, f64); 5] = [
    ("masterStandbySwapJob", 3.0),
    ("modifyBandwidth", 20.0),
    ("backupDCSInstance", 120.0),
    ("extendDCSInstance", 300.0),
    ("restoreDCSInstance", 900.0),
];

fn stable_duration(rng: &mut fastrand::Rng, median: f64) -> f64 {
    median * (0.3 * normal(rng)).exp()
}

fn stable_workload() -> (Vec<SimJob>, History) {
    let mut rng = fastrand::Rng::with_seed(SEED + 1);
    let mut history = History::default();
    for (job_type, median) in STABLE {
        for _ in 0..20 {
            let earlier = stable_duration(&mut rng, median);
            history.record(job_type, Duration::from_secs_f64(earlier));
        }
    }
    let jobs = (0..JOBS)
        .map(|i| {
            let (job_type, median) = STABLE[i % STABLE.len()];
            SimJob {
                id: format!("job-{i}"),
                job_type,
                duration: stable_duration(&mut rng, median),
            }
        })
        .collect();
    (jobs, history)
}

fn workload() -> Vec<SimJob> {
    let mut rng = fastrand::Rng::with_seed(SEED);
    (0..JOBS)
        .map(|i| {
            let (job_type, duration) = if i % 2 == 0 {
                ("masterStandbySwapJob", 3.0 * (0.4 * normal(&mut rng)).exp())
            } else {
                let t = LONG_TYPES[(i / 2) % LONG_TYPES.len()];
                (t, (rng.f64() * 1800f64.ln()).exp())
            };
            SimJob {
                id: format!("job-{i}"),
                job_type,
                duration,
            }
        })
        .collect()
}

/// What one waiter did for one job.
#[derive(Debug, Clone, Copy)]
struct Seen {
    lag: f64,
    requests: usize,
}

/// A peer's poll times (seconds from submission), as an endless iterator.
fn peer_polls(name: &str, rng: &mut fastrand::Rng) -> Box<dyn Iterator<Item = f64>> {
    let mut uniform = {
        let mut rng = fastrand::Rng::with_seed(rng.u64(..));
        move |lo: f64, hi: f64| lo + (hi - lo) * rng.f64()
    };
    let waits: Box<dyn FnMut(usize) -> f64> = match name {
        "AWS CLI waiter (15 s)" => Box::new(|_| 15.0),
        "AWS SDK waiter" => {
            Box::new(move |n| uniform(2.0, (2.0 * 2f64.powi(n as i32 - 1)).min(120.0)))
        }
        "Terraform default" => Box::new(|n| (0.1 * 2f64.powi(n as i32)).min(10.0)),
        "KooCLI --cli-waiter (5 s)" | "shell loop (sleep 5)" => Box::new(|_| 5.0),
        "gcloud" => Box::new(move |n| {
            if n == 1 {
                1.0
            } else {
                (2.0 * 1.4f64.powi(n as i32 - 1) + uniform(0.0, 1.0)).min(180.0)
            }
        }),
        "google-api-core" => Box::new(move |n| uniform(0.0, 1.5f64.powi(n as i32 - 1).min(20.0))),
        // Delay 2 s, then every 10 s: the first poll is at 2 s, not at once.
        "Terraform huaweicloud" => {
            return Box::new(std::iter::successors(Some(2.0), |t| Some(t + 10.0)))
        }
        other => panic!("unknown peer {other}"),
    };
    let mut waits = waits;
    let mut n = 0;
    Box::new(std::iter::successors(Some(0.0), move |t| {
        n += 1;
        Some(t + waits(n))
    }))
}

const PEERS: [&str; 8] = [
    "AWS CLI waiter (15 s)",
    "AWS SDK waiter",
    "Terraform default",
    "Terraform huaweicloud",
    "KooCLI --cli-waiter (5 s)",
    "gcloud",
    "google-api-core",
    "shell loop (sleep 5)",
];

fn peer(name: &str, jobs: &[SimJob]) -> Vec<Seen> {
    let mut rng = fastrand::Rng::with_seed(SEED ^ 0xA5A5);
    jobs.iter()
        .map(|job| {
            let (index, at) = peer_polls(name, &mut rng)
                .enumerate()
                .find(|(_, at)| *at >= job.duration)
                .unwrap_or_else(|| unreachable!("poll times never end"));
            Seen {
                lag: at - job.duration,
                requests: index + 1,
            }
        })
        .collect()
}

fn dcs_wait(jobs: &[SimJob], options: WaitOptions) -> Vec<Seen> {
    let scenario: Scenario = serde_json::from_value(serde_json::json!({
        "jobs": jobs.iter().map(|job| serde_json::json!({
            "job_id": job.id,
            "job_type": job.job_type,
            "run_ms": (job.duration * 1000.0).round() as u64,
        })).collect::<Vec<_>>()
    }))
    .expect("a scenario");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let sim = InProcess::new(scenario);
        let start = Instant::now();
        // When each wait saw its job end: the observer is told as the report is made.
        let seen_at: Arc<Mutex<HashMap<String, f64>>> = Arc::default();
        let record = seen_at.clone();
        let observer = move |event: &WaitEvent<'_>| {
            if let (WaitEvent::Finished(report), Ok(mut seen)) = (event, record.lock()) {
                seen.insert(report.name().to_string(), start.elapsed().as_secs_f64());
            }
        };
        let ids: Vec<JobId> = jobs
            .iter()
            .map(|j| j.id.parse().expect("a job id"))
            .collect();
        let options = options
            .with_timeout(Duration::from_secs(3 * 3600))
            .with_seed(SEED)
            .with_observer(observer);
        let reports = wait_all(sim.client(), &ids, &options, std::future::pending()).await;
        assert!(reports.iter().all(|r| r.outcome == Outcome::Success));
        let seen_at = seen_at.lock().expect("not poisoned");
        jobs.iter()
            .zip(&reports)
            .map(|(job, report)| Seen {
                lag: seen_at[&job.id] - job.duration,
                requests: report.polls as usize,
            })
            .collect()
    })
}

fn print_row(r: &Row) {
    println!(
        "{:<28} {:>7.2}s {:>7.2}s {:>8.2} {:>9.1} {:>8.2}s {:>9.1}",
        r.waiter,
        r.lag_p50,
        r.lag_p95,
        r.relative_lag_p95,
        r.requests_per_job,
        r.swap_lag_p50,
        r.swap_requests_per_job
    );
}

fn quantile(mut values: Vec<f64>, q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * q).round() as usize]
}

#[derive(serde::Serialize)]
struct Row {
    waiter: String,
    lag_p50: f64,
    lag_p95: f64,
    relative_lag_p95: f64,
    requests_per_job: f64,
    swap_lag_p50: f64,
    swap_requests_per_job: f64,
}

fn row(waiter: &str, jobs: &[SimJob], seen: &[Seen]) -> Row {
    let swaps: Vec<(&SimJob, &Seen)> = jobs
        .iter()
        .zip(seen)
        .filter(|(j, _)| j.job_type == "masterStandbySwapJob")
        .collect();
    let mean = |v: &mut dyn Iterator<Item = usize>, n: usize| v.sum::<usize>() as f64 / n as f64;
    Row {
        waiter: waiter.to_string(),
        lag_p50: quantile(seen.iter().map(|s| s.lag).collect(), 0.5),
        lag_p95: quantile(seen.iter().map(|s| s.lag).collect(), 0.95),
        relative_lag_p95: quantile(
            jobs.iter()
                .zip(seen)
                .map(|(j, s)| s.lag / j.duration)
                .collect(),
            0.95,
        ),
        requests_per_job: mean(&mut seen.iter().map(|s| s.requests), seen.len()),
        swap_lag_p50: quantile(swaps.iter().map(|(_, s)| s.lag).collect(), 0.5),
        swap_requests_per_job: mean(&mut swaps.iter().map(|(_, s)| s.requests), swaps.len()),
    }
}

/// Settings of the knob, `--max-lag`, in seconds.
const KNOB: [f64; 22] = [
    2.0, 3.0, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 8.5, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 20.0,
    30.0, 45.0, 60.0, 90.0, 120.0,
];

fn main() {
    let jobs = workload();
    let mut rows = vec![row(
        "dcs-wait (default)",
        &jobs,
        &dcs_wait(&jobs, WaitOptions::default()),
    )];
    rows.extend(
        PEERS
            .iter()
            .map(|name| row(name, &jobs, &peer(name, &jobs))),
    );
    let curve: Vec<Row> = KNOB
        .iter()
        .map(|&lag| {
            let options = WaitOptions::default()
                .with_schedule(Schedule::default().with_max_lag(Duration::from_secs_f64(lag)));
            row(
                &format!("dcs-wait --max-lag {lag}s"),
                &jobs,
                &dcs_wait(&jobs, options),
            )
        })
        .collect();
    println!(
        "{:<28} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9}",
        "waiter", "lag p50", "lag p95", "rel p95", "req/job", "swap p50", "swap req"
    );
    for r in &rows {
        print_row(r);
    }
    for r in &curve {
        print_row(r);
    }
    println!("for each other waiter, a knob setting at least as good on lag p95 and requests/job:");
    for peer in &rows[1..] {
        let better = curve
            .iter()
            .find(|r| r.lag_p95 <= peer.lag_p95 && r.requests_per_job <= peer.requests_per_job);
        println!(
            "  {:<28} {}",
            peer.waiter,
            better.map_or("none".to_string(), |r| r.waiter.clone())
        );
    }
    rows.extend(curve);

    let (stable, history) = stable_workload();
    println!("\nsecond workload: stable durations per type (σ 0.3), 20 earlier ones known");
    let cold = row(
        "dcs-wait, no history",
        &stable,
        &dcs_wait(&stable, WaitOptions::default()),
    );
    let warm_options = WaitOptions::default().with_history(Arc::new(history));
    let warm = row(
        "dcs-wait, with history",
        &stable,
        &dcs_wait(&stable, warm_options),
    );
    for r in [&cold, &warm] {
        print_row(r);
    }
    rows.extend([cold, warm]);
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let svg = docs.join("schedule-bench.svg");
    match plot(&rows, &svg) {
        Ok(()) => println!("drawn: {}", svg.display()),
        Err(e) => eprintln!("cannot draw {}: {e}", svg.display()),
    }
    let path = docs.join("schedule-bench.json");
    match serde_json::to_string_pretty(&rows).map(|json| std::fs::write(&path, json)) {
        Ok(Ok(())) => println!("written: {}", path.display()),
        Ok(Err(e)) => eprintln!("cannot write {}: {e}", path.display()),
        Err(e) => eprintln!("cannot serialise the table: {e}"),
    }
}

/// Lag p95 against requests per job, log-log: every other waiter a point, dcs-wait a curve
/// across its knob.
fn plot(rows: &[Row], path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    let root = SVGBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "detection lag p95 against requests per job",
            ("sans-serif", 22),
        )
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d((4.0f64..80.0).log_scale(), (1.0f64..120.0).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("requests per job")
        .y_desc("lag p95 (s)")
        .draw()?;
    let curve: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| r.waiter.starts_with("dcs-wait --max-lag"))
        .map(|r| (r.requests_per_job, r.lag_p95))
        .collect();
    chart
        .draw_series(LineSeries::new(curve.clone(), BLUE.stroke_width(2)))?
        .label("dcs-wait across --max-lag")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    chart.draw_series(curve.iter().map(|&p| Circle::new(p, 3, BLUE.filled())))?;
    // Waiters with the same schedule share a point and a label.
    let mut points: Vec<((f64, f64), String)> = Vec::new();
    for r in rows.iter().filter(|r| !r.waiter.starts_with("dcs-wait")) {
        let point = (r.requests_per_job, r.lag_p95);
        match points.iter_mut().find(|(p, _)| *p == point) {
            Some((_, label)) => *label = format!("{label} / {}", r.waiter),
            None => points.push((point, r.waiter.clone())),
        }
    }
    for (point, label) in points {
        chart.draw_series(std::iter::once(Circle::new(point, 4, RED.filled())))?;
        chart.draw_series(std::iter::once(Text::new(
            label,
            (point.0 * 1.03, point.1 * 1.05),
            ("sans-serif", 13),
        )))?;
    }
    if let Some(default) = rows.iter().find(|r| r.waiter == "dcs-wait (default)") {
        let point = (default.requests_per_job, default.lag_p95);
        chart.draw_series(std::iter::once(Circle::new(point, 6, BLUE.filled())))?;
        chart.draw_series(std::iter::once(Text::new(
            "dcs-wait default",
            (point.0 * 1.03, point.1 * 0.85),
            ("sans-serif", 13),
        )))?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    root.present()?;
    Ok(())
}

//! A 3 s master/standby swap started and waited for by `dcs-wait swap`, measured, not
//! asserted: the release binary against dcs-sim on loopback, 30 runs one after
//! another (`cargo bench --bench swap`).
//!
//! Per run: the requests made (the start and the job's reads, from the report) and the
//! overhead — the time from launching dcs-wait to its exit, minus the swap's own duration
//! (`duration_ms`, 3 000). Prints p50 and p95 of both, and the PUTs dcs-sim counted.

#[path = "../tests/common/mod.rs"]
mod common;

use dcs_wait::sim::{Scenario, SimInstance};
use std::process::Stdio;
use std::time::Instant;

const RUNS: usize = 30;
const INSTANCE: &str = "5560df16-cebf-4473-95c4-d8b0ba1ab0e6";

fn main() {
    let scenario = Scenario {
        instances: vec![SimInstance::new(INSTANCE, 3_000)],
        ..common::scenario(Vec::new())
    };
    // dcs-sim serves on this runtime's workers while the main thread runs dcs-wait.
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let sim = runtime.block_on(common::start(scenario));
    let mut args = common::args_for(&sim);
    args.extend(["swap".to_string(), INSTANCE.to_string()]);

    let mut overheads = Vec::with_capacity(RUNS);
    let mut requests = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let launched = Instant::now();
        let output = common::dcs_wait_command(&args, &common::token(&sim))
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .expect("dcs-wait runs");
        let elapsed = launched.elapsed();
        let report: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("one JSON report");
        assert_eq!(report["outcome"], "success", "{report}");
        let swap_ms = report["duration_ms"].as_u64().expect("a duration");
        overheads.push(elapsed.as_secs_f64() - swap_ms as f64 / 1000.0);
        requests.push(report["polls"].as_u64().expect("polls"));
    }
    let counted = sim.stats().per_instance.get(INSTANCE).cloned();

    overheads.sort_by(f64::total_cmp);
    requests.sort_unstable();
    let pick = |p: f64| ((RUNS as f64 * p).ceil() as usize).clamp(1, RUNS) - 1;
    println!("{RUNS} runs of `dcs-wait swap` on a 3 s swap, dcs-sim on loopback");
    println!(
        "requests per swap (1 PUT + GETs): p50 {} p95 {} max {}",
        requests[pick(0.5)],
        requests[pick(0.95)],
        requests[RUNS - 1]
    );
    println!(
        "overhead (launch to exit − the swap's 3 s): p50 {:.3} s p95 {:.3} s max {:.3} s",
        overheads[pick(0.5)],
        overheads[pick(0.95)],
        overheads[RUNS - 1]
    );
    if let Some(counted) = counted {
        println!(
            "dcs-sim counted {} starts and {} swaps",
            counted.starts, counted.swaps
        );
    }
}

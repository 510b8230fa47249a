//! A 3 s master/standby swap started and waited for by `dcs-wait swap`, measured, not
//! asserted: the release binary against a dcs-sim process on loopback, 30 runs one after
//! another (`cargo bench --bench swap`).
//!
//! Per run: the requests made (the start and the job's reads, from the report) and the
//! overhead — the time from launching dcs-wait to its exit, minus the swap's own duration
//! (`duration_ms`, 3 000). Prints p50 and p95 of both, and the PUTs dcs-sim counted.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

const RUNS: usize = 30;
const INSTANCE: &str = "5560df16-cebf-4473-95c4-d8b0ba1ab0e6";
const PROJECT: &str = "0123456789abcdef0123456789abcdef";
const TOKEN: &str = "bench-iam-token";

fn main() {
    let dir = std::env::temp_dir().join(format!("dcs-wait-swap-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let scenario = serde_json::json!({
        "project_id": PROJECT,
        "auth": {"access_key": "BENCHAK", "secret_key": "bench-sk", "auth_token": TOKEN},
        "jobs": [],
        "instances": [{"instance_id": INSTANCE, "swap_run_ms": 3000}],
    });
    let scenario_path = dir.join("scenario.json");
    std::fs::write(&scenario_path, scenario.to_string()).expect("the scenario is written");
    let mut sim = Command::new(env!("CARGO_BIN_EXE_dcs-sim"))
        .args(["--listen", "127.0.0.1:0", "--scenario"])
        .arg(&scenario_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dcs-sim starts");
    let mut first = String::new();
    BufReader::new(sim.stdout.take().expect("piped"))
        .read_line(&mut first)
        .expect("dcs-sim prints its address");
    let url = first
        .trim()
        .strip_prefix("dcs-sim listening on ")
        .expect("an address line")
        .to_string();

    let mut overheads = Vec::with_capacity(RUNS);
    let mut requests = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let launched = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_dcs-wait"))
            .args([
                "--endpoint",
                &url,
                "--project-id",
                PROJECT,
                "--output",
                "json",
            ])
            .args(["swap", INSTANCE])
            .env_clear()
            .env("DCS_WAIT_AUTH_TOKEN", TOKEN)
            .env("DCS_WAIT_METADATA_ENDPOINT", "off")
            .env("DCS_WAIT_NO_HISTORY", "true")
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
    let stats = Command::new("curl")
        .args(["-s", &format!("{url}/_sim/stats")])
        .output()
        .ok()
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok());
    let _ = sim.kill();
    let _ = sim.wait();
    let _ = std::fs::remove_dir_all(&dir);

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
    if let Some(stats) = stats {
        let counted = &stats["per_instance"][INSTANCE];
        println!(
            "dcs-sim counted {} starts and {} swaps",
            counted["starts"], counted["swaps"]
        );
    }
}

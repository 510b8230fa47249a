//! Scale and cold-start cost of the real binaries, measured, not asserted.
//!
//! `cargo bench --bench scale` (release build; needs `ulimit -n` ≥ 20 500 and curl):
//!
//! 1. **10 000 concurrent waits** in one dcs-wait process (ids on stdin, `--max-rps 0`)
//!    against a dcs-sim process on loopback. Jobs last 1 to 10 s. Prints polls per second,
//!    the client's CPU time per poll (user + sys of the dcs-wait process, from `getrusage`
//!    of the waited child, ÷ polls), its peak RSS, and whether every report was right.
//! 2. **One wait on an already finished job** from a cold process, with `X-Auth-Token`,
//!    against `curl` making the same GET: median wall time of 30 runs each, and dcs-wait's
//!    peak RSS.
//!
//! `DCS_WAIT_BENCH_JOBS` changes the number of jobs of part 1.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PROJECT: &str = "0123456789abcdef0123456789abcdef";
const TOKEN: &str = "bench-iam-token";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--measure-child") {
        return measure_child(&args[2], &args[3..]);
    }
    let jobs: usize = std::env::var("DCS_WAIT_BENCH_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = std::env::temp_dir().join(format!("dcs-wait-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");

    // Job i lasts 1 s + (i mod 10) s; the last job is already finished (run 0) for part 2.
    let run_ms = |i: usize| 1_000 + (i % 10) as u64 * 1_000;
    let mut scenario_jobs: Vec<serde_json::Value> = (0..jobs)
        .map(|i| serde_json::json!({"job_id": format!("job-{i}"), "run_ms": run_ms(i)}))
        .collect();
    scenario_jobs.push(serde_json::json!({"job_id": "done-1", "run_ms": 0}));
    let scenario = serde_json::json!({
        "project_id": PROJECT,
        "auth": {"access_key": "BENCHAK", "secret_key": "bench-sk", "auth_token": TOKEN},
        "jobs": scenario_jobs,
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

    scale(&url, jobs, run_ms);
    cold_start(&url);

    let _ = sim.kill();
    let _ = sim.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

fn dcs_wait(url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dcs-wait"));
    command
        .args([
            "--endpoint",
            url,
            "--project-id",
            PROJECT,
            "--output",
            "json",
            "-q",
        ])
        .env_clear()
        .env("DCS_WAIT_AUTH_TOKEN", TOKEN)
        .env("DCS_WAIT_METADATA_ENDPOINT", "off");
    command
}

/// What one run of a process cost.
struct Measured {
    code: Option<i32>,
    wall: Duration,
    /// User + system CPU time.
    cpu: Duration,
    user: Duration,
    peak_rss: u64,
    stdout: Vec<u8>,
}

/// Runs `command` with `input` on stdin, and reads its own resource use with `wait4`.
///
/// Through a fresh copy of this bench (`--measure-child`): a child's peak RSS counts the
/// memory of the process it was spawned from until its `exec`, and this process holds
/// megabytes of scenario and reports. The copy holds almost nothing.
fn measured(command: Command, input: &[u8]) -> Measured {
    let mut helper = Command::new(std::env::current_exe().expect("the bench's own path"));
    helper
        .arg("--measure-child")
        .arg(command.get_program())
        .args(command.get_args());
    helper.env_clear();
    helper.envs(command.get_envs().filter_map(|(k, v)| Some((k, v?))));
    let started = Instant::now();
    let mut child = helper
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the helper starts");
    let mut stdin = child.stdin.take().expect("piped");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("the helper ends");
    let wall = started.elapsed();
    let _ = writer.join();
    // The helper's last stderr line: "code user_us sys_us maxrss_kb".
    let stderr = String::from_utf8_lossy(&output.stderr);
    let figures: Vec<i64> = stderr
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let [code, user_us, sys_us, maxrss_kb] = figures[..] else {
        panic!("the helper said: {stderr}");
    };
    Measured {
        code: (code >= 0).then_some(code as i32),
        wall,
        cpu: Duration::from_micros((user_us + sys_us) as u64),
        user: Duration::from_micros(user_us as u64),
        peak_rss: maxrss_kb as u64 * 1024,
        stdout: output.stdout,
    }
}

/// The helper: runs the command it is given (stdin, stdout inherited; the child's stderr
/// dropped), waits for it with `wait4`, and prints its exit code, CPU and peak RSS on stderr.
// The child is reaped by `wait4` itself, which std cannot see.
#[allow(clippy::zombie_processes)]
fn measure_child(program: &str, args: &[String]) {
    let child = Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .expect("the measured command starts");
    // SAFETY: wait4 fills the status and the rusage struct we hand it, for our own child.
    let (status, usage) = unsafe {
        let mut status = 0;
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage);
        (status, usage)
    };
    let micros = |t: libc::timeval| t.tv_sec * 1_000_000 + t.tv_usec;
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    eprintln!(
        "{code} {} {} {}",
        micros(usage.ru_utime),
        micros(usage.ru_stime),
        usage.ru_maxrss
    );
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn scale(url: &str, jobs: usize, run_ms: impl Fn(usize) -> u64) {
    let ids: String = (0..jobs).map(|i| format!("job-{i}\n")).collect();
    let mut command = dcs_wait(url);
    command.args(["--max-rps", "0", "--timeout", "5m", "-"]);
    let run = measured(command, ids.as_bytes());
    let mut polls = 0u64;
    let mut right = 0usize;
    for line in String::from_utf8_lossy(&run.stdout).lines() {
        let report: serde_json::Value = serde_json::from_str(line).expect("a JSON report");
        polls += report["polls"].as_u64().unwrap_or(0);
        let index: usize = report["job_id"]
            .as_str()
            .and_then(|id| id.strip_prefix("job-"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(usize::MAX);
        if report["outcome"] == "success" && report["duration_ms"].as_u64() == Some(run_ms(index)) {
            right += 1;
        }
    }
    let wall = run.wall.as_secs_f64();
    println!("== {jobs} concurrent waits in one dcs-wait process, rate limit off");
    println!("exit code {:?}, wall {wall:.2} s", run.code);
    println!("polls: {polls} ({:.0} per second)", polls as f64 / wall);
    let per_poll = |d: Duration| d.as_secs_f64() * 1e6 / polls.max(1) as f64;
    println!(
        "client CPU (user + sys): {:.3} s = {:.1} µs per poll ({:.1} µs user, {:.1} µs sys)",
        run.cpu.as_secs_f64(),
        per_poll(run.cpu),
        per_poll(run.user),
        per_poll(run.cpu - run.user)
    );
    println!("client peak RSS: {:.1} MiB", mib(run.peak_rss));
    println!("reports right (success, exact duration): {right} of {jobs}");
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn cold_start(url: &str) {
    const RUNS: usize = 30;
    let job_url = format!("{url}/v2/{PROJECT}/jobs/done-1");
    let (mut curl, mut ours, mut rss) = (Vec::new(), Vec::new(), 0u64);
    for _ in 0..RUNS {
        let mut command = Command::new("curl");
        command
            .args(["-s", "-o", "/dev/null", "-H"])
            .arg(format!("X-Auth-Token: {TOKEN}"))
            .arg(&job_url);
        let run = measured(command, b"");
        assert_eq!(run.code, Some(0), "curl failed");
        curl.push(run.wall);
        let mut command = dcs_wait(url);
        command.arg("done-1");
        let run = measured(command, b"");
        assert_eq!(run.code, Some(0), "dcs-wait failed");
        ours.push(run.wall);
        rss = rss.max(run.peak_rss);
    }
    let (curl, ours) = (median(curl), median(ours));
    println!("== one wait on a finished job from a cold process ({RUNS} runs each, median)");
    println!("curl GET:  {:.2} ms", curl.as_secs_f64() * 1e3);
    println!(
        "dcs-wait:  {:.2} ms ({:.2}× curl), peak RSS {:.1} MiB",
        ours.as_secs_f64() * 1e3,
        ours.as_secs_f64() / curl.as_secs_f64(),
        mib(rss)
    );
}

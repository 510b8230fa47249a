//! Scale and cold-start cost of the real binaries, measured, not asserted.
//!
//! `cargo bench --bench scale` (release build; needs `ulimit -n` ≥ 20 500 and curl):
//!
//! 1. **10 000 concurrent waits** in one dcs-wait process (ids on stdin, `--max-rps 0`)
//!    against dcs-sim on loopback. Jobs last 1 to 10 s. Prints polls per second, the
//!    client's CPU time per poll (user + sys of the dcs-wait process, from `getrusage` of
//!    the waited child, ÷ polls), its peak RSS, and whether every report was right.
//! 2. **The baseline**, in the same run: a bare client — reqwest on the same current-thread
//!    runtime, the same IAM token header — making as many GETs of the same jobs to the same
//!    dcs-sim, one task per job with its requests one after another (at most 64 in flight,
//!    as dcs-wait), each body read. Prints its CPU per request and dcs-wait's CPU per poll
//!    as a ratio of it: what the waiting (timers, schedule, parsing, reports) costs beyond
//!    the HTTP exchange itself.
//! 3. **One wait on an already finished job** from a cold process, with `X-Auth-Token`,
//!    against `curl` making the same GET and against `dcs-wait --version` (the process
//!    start alone): median wall time of 30 runs each, and dcs-wait's peak RSS.
//!
//! The token, not AK/SK: both sides then send the same header, and neither signs.
//! dcs-sim runs in this process; every figure is of a child, read with `wait4`.
//! `DCS_WAIT_BENCH_JOBS` changes the number of jobs of parts 1 and 2.

#[path = "../tests/common/mod.rs"]
mod common;

use dcs_wait::sim::SimServer;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--measure-child") => return measure_child(&args[2], &args[3..]),
        Some("--baseline") => return baseline(&args[2..]),
        _ => {}
    }
    let jobs: usize = std::env::var("DCS_WAIT_BENCH_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);

    // Job i lasts 1 s + (i mod 10) s; the last job is already finished (run 0) for part 3.
    let run_ms = |i: usize| 1_000 + (i % 10) as u64 * 1_000;
    let mut scenario_jobs: Vec<_> = (0..jobs)
        .map(|i| common::job(&format!("job-{i}"), run_ms(i)))
        .collect();
    scenario_jobs.push(common::job("done-1", 0));
    // dcs-sim serves on this runtime's workers while the main thread runs the children.
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let sim = runtime.block_on(common::sim(scenario_jobs));

    let (polls, per_poll) = scale(&sim, jobs, run_ms);
    compare_with_baseline(&sim, jobs, polls, per_poll);
    cold_start(&sim);
}

/// dcs-wait against `sim`, with its token, JSON output and nothing on stderr but errors.
fn dcs_wait(sim: &SimServer, extra: &[&str]) -> Command {
    let mut args = common::args_for(sim);
    args.push("-q".into());
    args.extend(extra.iter().map(|s| s.to_string()));
    common::dcs_wait_command(&args, &common::token(sim))
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

/// Part 1; returns the polls made and the CPU per poll.
fn scale(sim: &SimServer, jobs: usize, run_ms: impl Fn(usize) -> u64) -> (u64, Duration) {
    let ids: String = (0..jobs).map(|i| format!("job-{i}\n")).collect();
    let command = dcs_wait(sim, &["--max-rps", "0", "--timeout", "5m", "-"]);
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
    (polls, run.cpu / polls.max(1) as u32)
}

/// Part 2: the bare client, run as a child of its own (`--baseline`), measured as dcs-wait.
fn compare_with_baseline(sim: &SimServer, jobs: usize, requests: u64, per_poll: Duration) {
    let mut command = Command::new(std::env::current_exe().expect("the bench's own path"));
    command
        .arg("--baseline")
        .arg(sim.url())
        .arg(common::PROJECT)
        .arg(&common::token(sim)[0].1)
        .arg(jobs.to_string())
        .arg(requests.to_string());
    let run = measured(command, b"");
    let answered: u64 = String::from_utf8_lossy(&run.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    let per_request = run.cpu / requests.max(1) as u32;
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    println!("== the baseline: a bare reqwest client, the same {requests} GETs, {jobs} tasks");
    println!(
        "exit code {:?}, wall {:.2} s, {answered} answered 200",
        run.code,
        run.wall.as_secs_f64()
    );
    println!(
        "client CPU (user + sys): {:.3} s = {:.1} µs per request",
        run.cpu.as_secs_f64(),
        micros(per_request)
    );
    println!(
        "dcs-wait CPU per poll ÷ baseline CPU per request: {:.2}× (target ≤ 1.5×)",
        micros(per_poll) / micros(per_request).max(f64::MIN_POSITIVE)
    );
}

/// Requests the baseline has in flight at most: as many as dcs-wait's client lets out at once
/// (`MAX_IN_FLIGHT` in `src/api/transport.rs`), so both keep as many connections. All 10 000
/// tasks at once would overflow dcs-sim's accept queue, and the SYN retries would cost more
/// than the requests.
const IN_FLIGHT: usize = 64;

/// The bare client: `jobs` tasks on a current-thread runtime share `requests` GETs of
/// `job-{i}`, each task's one after another, at most [`IN_FLIGHT`] at once; prints how many
/// were answered 200.
fn baseline(args: &[String]) {
    let [url, project, token, jobs, requests] = args else {
        panic!("--baseline URL PROJECT TOKEN JOBS REQUESTS");
    };
    let jobs: u64 = jobs.parse().expect("a number of jobs");
    let requests: u64 = requests.parse().expect("a number of requests");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .tls_certs_only(Vec::new())
        .build()
        .expect("a client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let in_flight = std::sync::Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let answered = runtime.block_on(async {
        let tasks: Vec<_> = (0..jobs)
            .map(|i| {
                let (client, token) = (client.clone(), token.clone());
                let in_flight = in_flight.clone();
                let url = format!("{url}/v2/{project}/jobs/job-{i}");
                let mine = requests / jobs + u64::from(i < requests % jobs);
                tokio::spawn(async move {
                    let mut answered = 0u64;
                    for _ in 0..mine {
                        let _turn = in_flight.acquire().await;
                        let Ok(response) =
                            client.get(&url).header("X-Auth-Token", &token).send().await
                        else {
                            continue;
                        };
                        let ok = response.status() == 200;
                        if response.bytes().await.is_ok() && ok {
                            answered += 1;
                        }
                    }
                    answered
                })
            })
            .collect();
        let mut answered = 0;
        for task in tasks {
            answered += task.await.unwrap_or(0);
        }
        answered
    });
    println!("{answered}");
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Part 3.
fn cold_start(sim: &SimServer) {
    const RUNS: usize = 30;
    let job_url = format!("{}/v2/{}/jobs/done-1", sim.url(), common::PROJECT);
    let token = &common::token(sim)[0].1;
    let (mut curl, mut version, mut ours, mut rss) = (Vec::new(), Vec::new(), Vec::new(), 0u64);
    for _ in 0..RUNS {
        let mut command = Command::new("curl");
        command
            .args(["-s", "-o", "/dev/null", "-H"])
            .arg(format!("X-Auth-Token: {token}"))
            .arg(&job_url);
        let run = measured(command, b"");
        assert_eq!(run.code, Some(0), "curl failed");
        curl.push(run.wall);
        let run = measured(common::dcs_wait_command(&["--version"], &[]), b"");
        assert_eq!(run.code, Some(0), "dcs-wait --version failed");
        version.push(run.wall);
        let run = measured(dcs_wait(sim, &["done-1"]), b"");
        assert_eq!(run.code, Some(0), "dcs-wait failed");
        ours.push(run.wall);
        rss = rss.max(run.peak_rss);
    }
    let (curl, version, ours) = (median(curl), median(version), median(ours));
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("== one wait on a finished job from a cold process ({RUNS} runs each, median)");
    println!("curl GET:            {:.2} ms", ms(curl));
    println!("dcs-wait --version:  {:.2} ms", ms(version));
    println!(
        "dcs-wait:            {:.2} ms ({:.2}× curl, {:.2}× --version), peak RSS {:.1} MiB",
        ms(ours),
        ms(ours) / ms(curl),
        ms(ours) / ms(version),
        mib(rss)
    );
}

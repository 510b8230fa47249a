//! Shared by the integration tests: a real dcs-sim on 127.0.0.1:0 and the real dcs-wait
//! binary, run with a clean environment so that nothing of the machine's leaks in.

#![allow(dead_code)] // each test binary uses its own part of this module

pub mod runner;

use dcs_wait::sim::{Scenario, SimAuth, SimJob, SimServer};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

pub const PROJECT: &str = "proj0123456789";

pub fn job(job_id: &str, run_ms: u64) -> SimJob {
    SimJob {
        job_id: job_id.into(),
        job_type: "masterStandbySwapJob".into(),
        start_delay_ms: 0,
        run_ms,
        final_status: "SUCCESS".into(),
        fail_reason: None,
        faults: Vec::new(),
        expect: None,
    }
}

/// A job that ends `FAIL`, with `reason` as its fail_reason.
pub fn failed_job(job_id: &str, run_ms: u64, reason: Option<&str>) -> SimJob {
    SimJob {
        final_status: "FAIL".into(),
        fail_reason: reason.map(str::to_string),
        ..job(job_id, run_ms)
    }
}

/// A scenario of `jobs` in project [`PROJECT`], with the default test credentials.
pub fn scenario(jobs: Vec<SimJob>) -> Scenario {
    Scenario {
        project_id: Some(PROJECT.into()),
        auth: SimAuth::default(),
        jobs,
        clock_offset_secs: 0,
        metadata: None,
        iam_projects: Vec::new(),
        instances: Vec::new(),
    }
}

pub async fn start(scenario: Scenario) -> SimServer {
    SimServer::start(scenario, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .expect("dcs-sim binds a loopback port")
}

pub async fn sim(jobs: Vec<SimJob>) -> SimServer {
    start(scenario(jobs)).await
}

pub async fn sim_with_auth(jobs: Vec<SimJob>, auth: SimAuth) -> SimServer {
    start(Scenario {
        auth,
        ..scenario(jobs)
    })
    .await
}

/// AK/SK the simulator accepts.
pub fn aksk(sim: &SimServer) -> Vec<(&'static str, String)> {
    let auth = &sim.scenario().auth;
    vec![
        ("HUAWEICLOUD_SDK_AK", auth.access_key.clone()),
        ("HUAWEICLOUD_SDK_SK", auth.secret_key.clone()),
    ]
}

/// The IAM token the simulator accepts (no signing: the cheapest way to authenticate).
pub fn token(sim: &SimServer) -> Vec<(&'static str, String)> {
    let token = sim.scenario().auth.auth_token.clone();
    vec![(
        "DCS_WAIT_AUTH_TOKEN",
        token.expect("the scenario has a token"),
    )]
}

/// `--endpoint`, `--project-id` and JSON output for `sim`.
pub fn args_for(sim: &SimServer) -> Vec<String> {
    vec![
        "--endpoint".into(),
        sim.url(),
        "--project-id".into(),
        PROJECT.into(),
        "--output".into(),
        "json".into(),
    ]
}

#[derive(Debug)]
pub struct Run {
    /// The exit code; -1 when a signal ended the process.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// The JSON Lines reports on stdout.
    pub fn reports(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}\n{self:#?}"))
            })
            .collect()
    }

    pub fn report(&self) -> serde_json::Value {
        let mut reports = self.reports();
        assert_eq!(reports.len(), 1, "{self:#?}");
        reports.remove(0)
    }
}

/// The built dcs-wait with `args`, and `env` as its environment and nothing of this
/// machine's: no home directory (so no profile file), instance metadata off and no history,
/// unless `env` says otherwise. A test must never ask 169.254.169.254.
pub fn dcs_wait_command<S: AsRef<str>>(
    args: &[S],
    env: &[(&str, String)],
) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dcs-wait"));
    command
        .args(args.iter().map(AsRef::as_ref))
        .env_clear()
        .env("DCS_WAIT_METADATA_ENDPOINT", "off")
        .env("DCS_WAIT_NO_HISTORY", "true")
        .env("HOME", "/nonexistent/dcs-wait-test-home")
        .envs(env.iter().map(|(k, v)| (k, v)));
    command
}

/// Starts [`dcs_wait_command`] with piped standard streams.
pub fn spawn_dcs_wait<S: AsRef<str>>(args: &[S], env: &[(&str, String)]) -> tokio::process::Child {
    tokio::process::Command::from(dcs_wait_command(args, env))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("dcs-wait starts")
}

/// Waits for a started dcs-wait to end.
pub async fn finish(child: tokio::process::Child, started: Instant) -> Run {
    let output = child.wait_with_output().await.expect("dcs-wait ends");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// Runs the built dcs-wait with `env` as its environment (see [`spawn_dcs_wait`]) and an
/// empty stdin.
pub async fn dcs_wait<S: AsRef<str>>(args: &[S], env: &[(&str, String)]) -> Run {
    dcs_wait_with_stdin(args, env, b"").await
}

/// The same, with `input` on stdin.
pub async fn dcs_wait_with_stdin<S: AsRef<str>>(
    args: &[S],
    env: &[(&str, String)],
    input: &[u8],
) -> Run {
    use tokio::io::AsyncWriteExt;
    let started = Instant::now();
    let mut child = spawn_dcs_wait(args, env);
    if let Some(mut stdin) = child.stdin.take() {
        // dcs-wait reads stdin only for `-`; otherwise the pipe may close unread.
        let _ = stdin.write_all(input).await;
    }
    finish(child, started).await
}

/// The usual run: JSON output against `sim` with its AK/SK, plus `extra` arguments.
pub async fn wait_on(sim: &SimServer, extra: &[&str]) -> Run {
    wait_on_with(sim, extra, &aksk(sim)).await
}

/// The same with `env` instead of the AK/SK alone.
pub async fn wait_on_with(sim: &SimServer, extra: &[&str], env: &[(&str, String)]) -> Run {
    let mut args = args_for(sim);
    args.extend(extra.iter().map(|s| s.to_string()));
    dcs_wait(&args, env).await
}

/// Requests the simulator saw for `job_id`.
pub fn polls(sim: &SimServer, job_id: &str) -> usize {
    sim.stats().per_job.get(job_id).map_or(0, Vec::len)
}

/// A process that must end by its deadline may still need time to start and print on a busy
/// machine; this bounds that slack without making the test about speed.
pub const SLACK: Duration = Duration::from_secs(8);

pub fn assert_ended_by(run: &Run, deadline: Duration) {
    assert!(run.elapsed < deadline + SLACK, "{:?}", run.elapsed);
}

/// Every secret of a leak test holds this; no output may.
pub const SECRET_MARK: &str = "VERY-SECRET";

/// Checks that no secret (anything holding [`SECRET_MARK`]) is in the run's output.
pub fn assert_no_secret(run: &Run) {
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains(SECRET_MARK), "a secret leaked:\n{output}");
    }
}

/// The highest verbosity: every log line of every module.
pub fn trace() -> (&'static str, String) {
    ("RUST_LOG", "trace".to_string())
}

/// Every `run:` in a YAML document, however deep.
pub fn run_scripts(yaml: &yaml_rust2::Yaml) -> Vec<String> {
    let mut found = Vec::new();
    collect(yaml, &mut found);
    found
}

fn collect(yaml: &yaml_rust2::Yaml, found: &mut Vec<String>) {
    use yaml_rust2::Yaml;
    match yaml {
        Yaml::Hash(hash) => {
            for (key, value) in hash {
                match (key, value) {
                    (Yaml::String(k), Yaml::String(script)) if k == "run" => {
                        found.push(script.clone())
                    }
                    _ => collect(value, found),
                }
            }
        }
        Yaml::Array(items) => items.iter().for_each(|item| collect(item, found)),
        _ => {}
    }
}

/// Whether a tool a test runs (a real proxy, jq) is installed: `.ci/run` installs each, so
/// under `CI` a missing one fails the test; elsewhere the test says so and is not tried.
pub fn installed(tool: &str, version_arg: &str, why: &str) -> bool {
    if std::process::Command::new(tool)
        .arg(version_arg)
        .output()
        .is_ok()
    {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{tool} is missing: .ci/run installs it"
    );
    eprintln!("SKIPPED: {tool} is not installed (.ci/run installs it): {why}");
    false
}

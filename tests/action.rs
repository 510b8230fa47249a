//! The GitHub Action (`action.yml`), run the way a runner runs a composite action: a small
//! runner below parses `action.yml`, evaluates the inputs into each step's `env:`, runs each
//! `run:` with `bash --noprofile --norc -eo pipefail` as GitHub's `shell: bash` does, with
//! `GITHUB_OUTPUT`, `GITHUB_PATH`, `GITHUB_STEP_SUMMARY`, `RUNNER_TOOL_CACHE`, `RUNNER_TEMP`,
//! `RUNNER_OS`, `RUNNER_ARCH` and `GITHUB_ACTION_PATH` set, stops at the first failing
//! step, and maps the steps' outputs to the action's. The action installs the release
//! archive from a loopback HTTP server (`DCS_WAIT_DOWNLOAD_URL`) and waits on dcs-sim.
//!
//! The archive: the one `dist build` made when `DCS_WAIT_DIST_DIR` names its output
//! (`.ci/release` does that), else this build's binaries packed in dist's layout.
//!
//! Not emulated, and refused if `action.yml` ever needs it: `uses:` steps, `if:`,
//! `working-directory`, shells other than bash, expressions other than `inputs.*` and
//! `steps.*.outputs.*`. `GITHUB_ENV` and `GITHUB_STATE` are not set, so a step that writes
//! them fails. Only this machine's OS and architecture are run: the macOS and Windows
//! branches of `action/install.sh` are not.

mod common;

use common::*;
use dcs_wait::sim::{Scenario, SimInstance, SimServer};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use yaml_rust2::{Yaml, YamlLoader};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `action.yml`, as far as a composite action of ours uses it.
struct Action {
    /// Input name → default.
    inputs: BTreeMap<String, String>,
    /// Output name → its `value:` expression.
    outputs: BTreeMap<String, String>,
    steps: Vec<Step>,
}

struct Step {
    id: String,
    env: Vec<(String, String)>,
    run: String,
}

fn text(yaml: &Yaml, what: &str) -> String {
    match yaml {
        Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        other => panic!("{what}: expected text, found {other:?}"),
    }
}

fn entries<'a>(yaml: &'a Yaml, what: &str) -> Vec<(String, &'a Yaml)> {
    match yaml {
        Yaml::Hash(hash) => hash.iter().map(|(k, v)| (text(k, what), v)).collect(),
        Yaml::BadValue => Vec::new(),
        other => panic!("{what}: expected a mapping, found {other:?}"),
    }
}

fn load_action() -> Action {
    let source = std::fs::read_to_string(Path::new(ROOT).join("action.yml")).unwrap();
    let doc = YamlLoader::load_from_str(&source).unwrap().remove(0);
    assert_eq!(text(&doc["runs"]["using"], "runs.using"), "composite");
    let inputs = entries(&doc["inputs"], "inputs")
        .into_iter()
        .map(|(name, spec)| {
            let default = match &spec["default"] {
                Yaml::BadValue => String::new(),
                d => text(d, "default"),
            };
            (name, default)
        })
        .collect();
    let outputs = entries(&doc["outputs"], "outputs")
        .into_iter()
        .map(|(name, spec)| (name, text(&spec["value"], "value")))
        .collect();
    let steps = doc["runs"]["steps"]
        .as_vec()
        .expect("runs.steps")
        .iter()
        .map(|step| {
            for (key, _) in entries(step, "step") {
                assert!(
                    ["id", "name", "shell", "env", "run"].contains(&key.as_str()),
                    "this runner does not emulate a step's `{key}`"
                );
            }
            assert_eq!(
                text(&step["shell"], "shell"),
                "bash",
                "only bash is emulated"
            );
            Step {
                id: text(&step["id"], "id"),
                env: entries(&step["env"], "env")
                    .into_iter()
                    .map(|(k, v)| (k, text(v, "env value")))
                    .collect(),
                run: text(&step["run"], "run"),
            }
        })
        .collect();
    Action {
        inputs,
        outputs,
        steps,
    }
}

/// `${{ inputs.NAME }}` and `${{ steps.ID.outputs.NAME }}`, the only expressions emulated.
fn expand(
    template: &str,
    inputs: &BTreeMap<String, String>,
    steps: &BTreeMap<String, BTreeMap<String, String>>,
) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("an unclosed expression") + start;
        let expr = rest[start + 3..end].trim();
        let parts: Vec<&str> = expr.split('.').collect();
        let value = match parts.as_slice() {
            ["inputs", name] => inputs
                .get(*name)
                .unwrap_or_else(|| panic!("no input {name}"))
                .clone(),
            ["steps", id, "outputs", name] => steps
                .get(*id)
                .and_then(|o| o.get(*name))
                .cloned()
                .unwrap_or_default(),
            _ => panic!("this runner does not emulate the expression `{expr}`"),
        };
        out.push_str(&value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// A `GITHUB_OUTPUT` file: `name=value` lines and `name<<DELIMITER` blocks (whichever of
/// `=` and `<<` comes first decides, as the runner does); the last value of a name wins.
fn parse_outputs(file: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = file.lines();
    while let Some(line) = lines.next() {
        let equals = line.find('=').unwrap_or(usize::MAX);
        let heredoc = line.find("<<").unwrap_or(usize::MAX);
        if heredoc < equals {
            let delimiter = &line[heredoc + 2..];
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            outputs.insert(line[..heredoc].to_string(), value.join("\n"));
        } else if equals < usize::MAX {
            outputs.insert(line[..equals].to_string(), line[equals + 1..].to_string());
        }
    }
    outputs
}

/// One run of the action, as its caller's workflow sees it.
#[derive(Debug)]
struct ActionRun {
    passed: bool,
    outputs: BTreeMap<String, String>,
    log: String,
    summary: String,
}

/// A runner machine: its tool cache lasts from one use of the action to the next, as it
/// does across the steps of a job (and across jobs on a self-hosted runner).
struct Runner {
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
}

/// `RUNNER_OS`, `RUNNER_ARCH` and the release target for this machine.
fn platform() -> (&'static str, &'static str, String) {
    let os = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "macOS",
        other => panic!("the action test runs on Linux or macOS, not {other}"),
    };
    let (arch, cpu) = match std::env::consts::ARCH {
        "x86_64" => ("X64", "x86_64"),
        "aarch64" => ("ARM64", "aarch64"),
        other => panic!("no release for {other}"),
    };
    let target = match os {
        "Linux" => format!("{cpu}-unknown-linux-musl"),
        _ => format!("{cpu}-apple-darwin"),
    };
    (os, arch, target)
}

/// The system's tools (bash, curl, tar, sha256sum) and nothing of cargo's: the only
/// dcs-wait the action can run is the one it installed.
const SYSTEM_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

impl Runner {
    fn new(download_url: &str, sim_env: Vec<(&str, String)>) -> Runner {
        let home = tempfile::tempdir().unwrap();
        for dir in ["tool-cache", "temp"] {
            std::fs::create_dir(home.path().join(dir)).unwrap();
        }
        let (os, arch, _) = platform();
        let path = |p: &str| home.path().join(p).to_string_lossy().into_owned();
        let mut env = vec![
            ("HOME".to_string(), path(".")),
            ("RUNNER_OS".into(), os.into()),
            ("RUNNER_ARCH".into(), arch.into()),
            ("RUNNER_TOOL_CACHE".into(), path("tool-cache")),
            ("RUNNER_TEMP".into(), path("temp")),
            ("GITHUB_ACTION_PATH".into(), ROOT.into()),
            ("GITHUB_ACTIONS".into(), "true".into()),
            ("DCS_WAIT_DOWNLOAD_URL".into(), download_url.into()),
            ("DCS_WAIT_METADATA_ENDPOINT".into(), "off".into()),
            ("DCS_WAIT_NO_HISTORY".into(), "true".into()),
        ];
        env.extend(sim_env.into_iter().map(|(k, v)| (k.to_string(), v)));
        Runner { home, env }
    }

    fn tool_cache(&self) -> PathBuf {
        self.home.path().join("tool-cache")
    }

    /// Where the action keeps this release's archive.
    fn cached_archive(&self) -> PathBuf {
        let (_, _, target) = platform();
        self.tool_cache().join(format!(
            "dcs-wait/{}/{target}/dcs-wait-{target}.tar.gz",
            env!("CARGO_PKG_VERSION")
        ))
    }

    /// Runs the action with `with` as its inputs, on a blocking thread: the steps are
    /// processes, and dcs-sim answers them from this test's runtime meanwhile.
    async fn run(&self, with: &[(&str, &str)]) -> ActionRun {
        let env = self.env.clone();
        let home = self.home.path().to_path_buf();
        let with: Vec<(String, String)> = with
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        tokio::task::spawn_blocking(move || run_action(&load_action(), &with, &env, &home))
            .await
            .unwrap()
    }
}

fn run_action(
    action: &Action,
    with: &[(String, String)],
    env: &[(String, String)],
    home: &Path,
) -> ActionRun {
    let mut inputs = action.inputs.clone();
    for (name, value) in with {
        assert!(inputs.contains_key(name), "action.yml has no input {name}");
        inputs.insert(name.clone(), value.clone());
    }
    let github_path = home.join("github-path");
    let summary = home.join("step-summary");
    std::fs::write(&github_path, "").unwrap();
    std::fs::write(&summary, "").unwrap();
    let mut step_outputs = BTreeMap::new();
    let mut log = String::new();
    let mut passed = true;
    for (n, step) in action.steps.iter().enumerate() {
        let script = home.join(format!("step-{n}.sh"));
        let output_file = home.join(format!("step-{n}.output"));
        std::fs::write(&script, &step.run).unwrap();
        std::fs::write(&output_file, "").unwrap();
        // GITHUB_PATH entries come before the PATH, the latest first.
        let added = std::fs::read_to_string(&github_path).unwrap();
        let mut path: Vec<&str> = added.lines().rev().collect();
        path.push(SYSTEM_PATH);
        let result = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("PATH", path.join(":"))
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_PATH", &github_path)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .envs(
                step.env
                    .iter()
                    .map(|(k, v)| (k, expand(v, &inputs, &step_outputs))),
            )
            .current_dir(home)
            .output()
            .unwrap();
        log.push_str(&format!("--- step {}: {}\n", step.id, result.status));
        log.push_str(&String::from_utf8_lossy(&result.stdout));
        log.push_str(&String::from_utf8_lossy(&result.stderr));
        let written = std::fs::read_to_string(&output_file).unwrap();
        step_outputs.insert(step.id.clone(), parse_outputs(&written));
        if !result.status.success() {
            passed = false;
            break;
        }
    }
    let outputs = action
        .outputs
        .iter()
        .map(|(name, value)| (name.clone(), expand(value, &inputs, &step_outputs)))
        .collect();
    ActionRun {
        passed,
        outputs,
        log,
        summary: std::fs::read_to_string(&summary).unwrap(),
    }
}

/// A loopback HTTP server of release files, counting what it was asked for.
struct Releases {
    url: String,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Releases {
    fn serve(files: BTreeMap<String, Vec<u8>>) -> Releases {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    continue;
                }
                // The rest of the head, up to its blank line.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request.split(' ').nth(1).unwrap_or("/").to_string();
                log.lock().unwrap().push(path.clone());
                let (status, body) = match files.get(path.trim_start_matches('/')) {
                    Some(body) => ("200 OK", body.as_slice()),
                    None => ("404 Not Found", &b"not found"[..]),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(body);
            }
        });
        Releases { url, asked }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

/// The release files for this machine: the archive and its `.sha256`, made once for all
/// the tests here (packing the debug binaries takes seconds).
fn release_files() -> BTreeMap<String, Vec<u8>> {
    static FILES: OnceLock<BTreeMap<String, Vec<u8>>> = OnceLock::new();
    FILES.get_or_init(make_release_files).clone()
}

fn make_release_files() -> BTreeMap<String, Vec<u8>> {
    let (_, _, target) = platform();
    let archive = format!("dcs-wait-{target}.tar.gz");
    let checksum = format!("{archive}.sha256");
    if let Some(dist) = std::env::var_os("DCS_WAIT_DIST_DIR") {
        let dist = PathBuf::from(dist);
        let read = |name: &str| {
            std::fs::read(dist.join(name)).unwrap_or_else(|e| panic!("{name} in dist: {e}"))
        };
        return BTreeMap::from([
            (archive.clone(), read(&archive)),
            (checksum.clone(), read(&checksum)),
        ]);
    }
    // dist's layout: a directory named like the archive holding both binaries and the README.
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join(format!("dcs-wait-{target}"));
    std::fs::create_dir(&dir).unwrap();
    for (from, name) in [
        (env!("CARGO_BIN_EXE_dcs-wait").to_string(), "dcs-wait"),
        (env!("CARGO_BIN_EXE_dcs-sim").to_string(), "dcs-sim"),
        (format!("{ROOT}/README.md"), "README.md"),
    ] {
        std::fs::copy(from, dir.join(name)).unwrap();
    }
    // gzip -1: the debug binaries are large, and the level is not what is tested.
    let packed = Command::new("sh")
        .args(["-c", r#"tar -cf - -C "$1" "$2" | gzip -1 > "$3""#, "sh"])
        .arg(work.path())
        .arg(format!("dcs-wait-{target}"))
        .arg(work.path().join(&archive))
        .status()
        .unwrap();
    assert!(packed.success());
    let bytes = std::fs::read(work.path().join(&archive)).unwrap();
    let sum = format!("{} *{archive}\n", hex::encode(Sha256::digest(&bytes)));
    BTreeMap::from([(archive, bytes), (checksum, sum.into_bytes())])
}

const INSTANCE: &str = "5560df16-cebf-4473-95c4-d8b0ba1ab0e6";

async fn dcs_sim() -> SimServer {
    start(Scenario {
        instances: vec![SimInstance {
            backup: dcs_wait::sim::SimPlan::lasting(300),
            restore: dcs_wait::sim::SimPlan::lasting(300),
            backups: vec![dcs_wait::sim::SimRecord {
                id: "nightly-1".into(),
                backup_id: None,
                start_ms: -60_000,
                waiting_ms: 0,
                run_ms: 1_000,
                final_status: "succeed".into(),
                error_code: None,
                remark: None,
                backup_type: "auto".into(),
            }],
            ..SimInstance::new(INSTANCE, 1_000)
        }],
        ..scenario(vec![
            job("ok-1", 300),
            job("ok-2", 500),
            failed_job("fail-1", 300, Some("the standby is not in sync")),
            job("slow-1", 600_000),
        ])
    })
    .await
}

fn sim_env(sim: &SimServer) -> Vec<(&'static str, String)> {
    let mut env = aksk(sim);
    env.push(("DCS_WAIT_ENDPOINT", sim.url()));
    env.push(("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT.into()));
    env
}

/// What a test runs the action with: dcs-sim, a server of release files, and a runner
/// pointed at both.
struct SetUp {
    sim: SimServer,
    releases: Releases,
    runner: Runner,
}

async fn set_up(files: BTreeMap<String, Vec<u8>>) -> SetUp {
    let sim = dcs_sim().await;
    let releases = Releases::serve(files);
    let runner = Runner::new(&releases.url, sim_env(&sim));
    SetUp {
        sim,
        releases,
        runner,
    }
}

/// The step's verdict and the two outputs a workflow branches on.
fn assert_ended(run: &ActionRun, passed: bool, outcome: &str, exit_code: &str) {
    assert_eq!(
        (run.passed, output(run, "outcome"), output(run, "exit_code")),
        (passed, outcome, exit_code),
        "{run:#?}"
    );
}

fn output<'a>(run: &'a ActionRun, name: &str) -> &'a str {
    run.outputs
        .get(name)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no output {name}: {run:#?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn installs_once_then_waits_from_the_tool_cache() {
    for dir in SYSTEM_PATH.split(':') {
        assert!(
            !Path::new(dir).join("dcs-wait").exists(),
            "{dir} has a dcs-wait"
        );
    }
    let t = set_up(release_files()).await;
    let (_, _, target) = platform();

    let first = t.runner.run(&[("ids", "ok-1\n  ok-2 ")]).await;
    assert_ended(&first, true, "success", "0");
    assert_eq!(output(&first, "duration_ms"), "500");
    assert_eq!(output(&first, "job_id"), "ok-1 ok-2");
    assert!(first.summary.contains("| `ok-2` |"), "{}", first.summary);
    let archive = format!("/dcs-wait-{target}.tar.gz");
    let checksum = format!("{archive}.sha256");
    assert_eq!(t.releases.asked(), [checksum.as_str(), &archive]);
    assert!(t.runner.cached_archive().is_file(), "{first:#?}");

    // The cache holds the archive; each run checks it against the release's checksum.
    let second = t.runner.run(&[("ids", "ok-1")]).await;
    assert_ended(&second, true, "success", "0");
    assert!(
        second.log.contains("from the tool cache, checked against"),
        "{}",
        second.log
    );
    assert_eq!(t.releases.asked(), [checksum.as_str(), &archive, &checksum]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_tool_cache_is_caught_and_replaced_before_it_runs() {
    let t = set_up(release_files()).await;
    let first = t.runner.run(&[("ids", "ok-1")]).await;
    assert_ended(&first, true, "success", "0");
    // What an attacker with write access to a shared runner's cache would leave: an archive
    // whose dcs-wait reports success without asking anyone.
    let fake = t.runner.home.path().join("fake");
    let (_, _, target) = platform();
    let dir = fake.join(format!("dcs-wait-{target}"));
    std::fs::create_dir_all(&dir).unwrap();
    let script = "#!/bin/sh\necho outcome=success >>\"$GITHUB_OUTPUT\"\necho exit_code=0 >>\"$GITHUB_OUTPUT\"\n";
    std::fs::write(dir.join("dcs-wait"), script).unwrap();
    std::fs::set_permissions(
        dir.join("dcs-wait"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let packed = Command::new("tar")
        .arg("-czf")
        .arg(t.runner.cached_archive())
        .arg("-C")
        .arg(&fake)
        .arg(format!("dcs-wait-{target}"))
        .status()
        .unwrap();
    assert!(packed.success());

    let run = t.runner.run(&[("ids", "fail-1")]).await;
    assert!(
        run.log.contains("does not match the release"),
        "{}",
        run.log
    );
    assert_ended(&run, false, "failed", "1");
    assert_eq!(
        std::fs::read(t.runner.cached_archive()).unwrap(),
        release_files()[&format!("dcs-wait-{target}.tar.gz")],
        "the cache holds the release's archive again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_input_quoted_in_an_error_cannot_start_a_command_of_its_own() {
    let t = set_up(release_files()).await;
    let evil = "x\n::add-mask::secret\r##[group]y %0A";
    for input in ["command", "fail-on-error", "version"] {
        let run = t.runner.run(&[("ids", "ok-1"), (input, evil)]).await;
        assert!(!run.passed, "{run:#?}");
        // The action runs on GitHub alone: its runner's reading is the one that counts.
        let found: Vec<_> = runner::commands(&run.log)
            .into_iter()
            .filter(|c| c.runner == "github")
            .collect();
        let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["error"], "{input}: {found:#?}\n{}", run.log);
        assert!(
            found[0]
                .line
                .contains("x%0A::add-mask::secret%0D##[group]y %250A"),
            "{input}: {}",
            run.log
        );
    }
    assert_eq!(t.sim.stats().requests, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn args_that_end_dcs_wait_without_waiting_are_refused() {
    let t = set_up(release_files()).await;
    for args in [
        "--version",
        "-V",
        "--help",
        "-h",
        "-vh",
        "--completions bash",
        "--completions=zsh",
        "--man-page",
        "--man-page=swap",
        "--demo",
        "help",
    ] {
        let run = t.runner.run(&[("ids", "ok-1"), ("args", args)]).await;
        assert_ended(&run, false, "error", "2");
        assert!(
            run.log.contains("ends dcs-wait without waiting"),
            "{args}: {}",
            run.log
        );
    }
    assert_eq!(t.sim.stats().requests, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_download_url_must_be_https_unless_it_is_loopback() {
    let t = set_up(release_files()).await;
    let mut runner = Runner::new("http://downloads.example/dcs-wait", sim_env(&t.sim));
    let run = runner.run(&[("ids", "ok-1")]).await;
    assert!(!run.passed);
    assert!(run.log.contains("must be https"), "{}", run.log);
    // Parsed, not matched as a prefix; a user or password refused and never printed.
    let port = t.releases.url.rsplit(':').next().unwrap().to_string();
    for (url, says) in [
        (
            format!("http://127.0.0.1:x@127.0.0.2:{port}"),
            "must not hold a user or password (http://…@127.0.0.2:",
        ),
        (
            format!("https://user:{SECRET_MARK}@mirror.example/dcs-wait"),
            "must not hold a user or password (https://…@mirror.example)",
        ),
        (
            "http://127.0.0.1.evil.example/dcs-wait".to_string(),
            "must be https (or http to a loopback address), not 'http://127.0.0.1.evil.example'",
        ),
        (
            format!("http://127.0.0.1\\evil.example:{port}/x"),
            "has an unusable host",
        ),
        ("127.0.0.1/dcs-wait".to_string(), "is not a URL"),
    ] {
        runner.env.retain(|(k, _)| k != "DCS_WAIT_DOWNLOAD_URL");
        runner
            .env
            .push(("DCS_WAIT_DOWNLOAD_URL".into(), url.clone()));
        let run = runner.run(&[("ids", "ok-1")]).await;
        assert!(!run.passed, "{url}");
        assert!(run.log.contains(says), "{url}: {}", run.log);
        assert!(!run.log.contains(SECRET_MARK), "{}", run.log);
        assert!(!run.log.contains("127.0.0.1:x"), "{}", run.log);
    }
    assert!(t.releases.asked().is_empty(), "{:?}", t.releases.asked());
    // The tests' own server is plain http on 127.0.0.1: allowed, and used by every test.
    runner.env.retain(|(k, _)| k != "DCS_WAIT_DOWNLOAD_URL");
    runner
        .env
        .push(("DCS_WAIT_DOWNLOAD_URL".into(), t.releases.url.clone()));
    assert_ended(&runner.run(&[("ids", "ok-1")]).await, true, "success", "0");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_job_fails_the_step_unless_told_otherwise() {
    let t = set_up(release_files()).await;

    let failed = t.runner.run(&[("ids", "fail-1")]).await;
    assert_ended(&failed, false, "failed", "1");
    assert_eq!(output(&failed, "duration_ms"), "300");
    assert!(
        failed.log.contains("the standby is not in sync"),
        "{}",
        failed.log
    );

    let told = t
        .runner
        .run(&[("ids", "fail-1"), ("fail-on-error", "false")])
        .await;
    assert_ended(&told, true, "failed", "1");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_timeout_input_is_the_deadline() {
    let t = set_up(release_files()).await;
    let run = t
        .runner
        .run(&[
            ("ids", "slow-1"),
            ("timeout", "2s"),
            ("args", "--max-lag 1s"),
        ])
        .await;
    assert_ended(&run, false, "timeout", "3");
    assert_eq!(output(&run, "duration_ms"), "");
}

#[tokio::test(flavor = "multi_thread")]
async fn swap_starts_the_swap_and_names_its_job() {
    let t = set_up(release_files()).await;
    let run = t
        .runner
        .run(&[("command", "swap"), ("ids", INSTANCE), ("timeout", "1m")])
        .await;
    assert_ended(&run, true, "success", "0");
    assert_eq!(output(&run, "duration_ms"), "1000");
    assert!(output(&run, "job_id").starts_with("ff80a0a0"), "{run:#?}");
    let swaps = t.sim.stats().per_instance[INSTANCE].clone();
    assert_eq!((swaps.starts, swaps.swaps), (1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_and_restore_start_once_and_name_their_records() {
    let t = set_up(release_files()).await;
    let run = t
        .runner
        .run(&[("command", "backup"), ("ids", INSTANCE), ("timeout", "1m")])
        .await;
    assert_ended(&run, true, "success", "0");
    assert!(output(&run, "backup_id").starts_with('b'), "{run:#?}");
    assert_eq!(output(&run, "duration_ms"), "800");
    let run = t
        .runner
        .run(&[
            ("command", "restore"),
            ("ids", INSTANCE),
            ("backup-id", "nightly-1"),
            ("timeout", "1m"),
        ])
        .await;
    assert_ended(&run, true, "success", "0");
    assert!(output(&run, "restore_id").starts_with('r'), "{run:#?}");
    let records = t.sim.stats().records[INSTANCE].clone();
    assert_eq!((records.backups, records.restores), (1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn inputs_are_data_never_shell_code() {
    let t = set_up(release_files()).await;
    let marker = t.runner.home.path().join("injected");
    let evil = format!("ok-1 $(touch {0}) `touch {0}`; touch {0}", marker.display());
    let run = t
        .runner
        .run(&[
            ("ids", &evil),
            (
                "args",
                &format!("--max-rps 5 $(touch {})", marker.display()),
            ),
            ("fail-on-error", "false"),
        ])
        .await;
    assert!(!marker.exists(), "an input ran as shell code: {run:#?}");
    // The words reached dcs-wait as arguments and ids, which it refused: a usage error.
    assert_ended(&run, true, "error", "2");
    assert_eq!(t.sim.stats().requests, 0, "{run:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_archive_is_not_installed() {
    let mut files = release_files();
    let (_, _, target) = platform();
    let archive = files.get_mut(&format!("dcs-wait-{target}.tar.gz")).unwrap();
    let last = archive.len() - 1;
    archive[last] ^= 0x01;
    let t = set_up(files).await;
    let run = t.runner.run(&[("ids", "ok-1")]).await;
    assert!(!run.passed, "{run:#?}");
    assert!(
        run.log.contains("does not match its .sha256"),
        "{}",
        run.log
    );
    assert!(!t.runner.tool_cache().join("dcs-wait").exists(), "{run:#?}");
    assert_eq!(t.sim.stats().requests, 0);
}

#[test]
fn outputs_files_are_read_as_the_runner_reads_them() {
    let outputs = parse_outputs("a=1\nb<<EOF\nx=y\nz\nEOF\nc=p<<q\na=2\n");
    let expected = [("a", "2"), ("b", "x=y\nz"), ("c", "p<<q")];
    assert_eq!(
        outputs,
        expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>()
    );
}

#[test]
fn no_expression_inside_a_script_and_the_version_is_this_release() {
    let action = load_action();
    for step in &action.steps {
        assert!(
            !step.run.contains("${{"),
            "step {}: an expression in `run:` is script injection; pass it through `env:`",
            step.id
        );
    }
    for input in action.inputs.keys() {
        let used = action.steps.iter().any(|s| {
            s.env
                .iter()
                .any(|(_, v)| v.contains(&format!("inputs.{input} ")))
        });
        assert!(used, "input {input} reaches no step");
    }
    // Bumped with each release: the action installs the release it belongs to.
    assert_eq!(action.inputs["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn the_documented_workflows_parse_and_keep_expressions_out_of_scripts() {
    let mut blocks = Vec::new();
    for page in ["README.md", "docs/ci.md", "docs/install.md"] {
        let text = std::fs::read_to_string(Path::new(ROOT).join(page)).unwrap();
        blocks.extend(
            text.split("```yaml\n")
                .skip(1)
                .map(|rest| (page, rest.split("```").next().unwrap().to_string())),
        );
    }
    assert!(blocks.len() >= 5, "{}", blocks.len());
    let mut found = Vec::new();
    for (page, block) in blocks {
        let docs = YamlLoader::load_from_str(&block)
            .unwrap_or_else(|e| panic!("{page}: the YAML does not parse: {e}\n{block}"));
        docs.iter().for_each(|doc| found.extend(run_scripts(doc)));
    }
    assert!(!found.is_empty());
    for script in found {
        assert!(
            !script.contains("${{"),
            "an expression inside run: {script}"
        );
    }
}

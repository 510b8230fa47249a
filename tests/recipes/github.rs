//! A GitHub Actions job as the runner runs it, for what the recipes use: steps in order, each
//! `if:` evaluated (no status function means `success() && …`), `run:` in `bash -e` (with
//! `shell: bash`, `bash --noprofile --norc -eo pipefail`), `env:` merged from the workflow,
//! the job and the step, step outputs from `GITHUB_OUTPUT`, `GITHUB_PATH` for later steps, a
//! failed step failing the job. This action (`uses: dcs-wait/dcs-wait@…`) runs its own
//! `action/run.sh` with its inputs, after its install step put dcs-wait on PATH.

use super::expr::{self, Context};
use super::sandbox::Sandbox;
use super::scalar as text;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use yaml_rust2::Yaml;

/// Environment variables, in the order they are set.
pub type Env = Vec<(String, String)>;

fn pairs(yaml: &Yaml) -> Env {
    yaml.as_hash()
        .map(|h| {
            h.iter()
                .map(|(k, v)| (text(k).expect("a key"), text(v).expect("a scalar value")))
                .collect()
        })
        .unwrap_or_default()
}

/// The action's inputs and their defaults, from `action.yml`.
fn action_defaults() -> Env {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    let docs = yaml_rust2::YamlLoader::load_from_str(&std::fs::read_to_string(path).unwrap())
        .expect("action.yml");
    docs[0]["inputs"]
        .as_hash()
        .expect("inputs")
        .iter()
        .map(|(k, v)| {
            let default = text(&v["default"]).unwrap_or_default();
            (text(k).unwrap(), default)
        })
        .collect()
}

/// `name=value` lines and `name<<DELIMITER` blocks.
fn read_outputs(path: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = HashMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        }
    }
    out
}

/// Runs `steps` with `env` (the workflow's and the job's) in `sandbox`.
/// Whether the job failed.
pub fn run_job(sandbox: &Sandbox, env: &[(String, String)], steps: &[Yaml]) -> bool {
    let mut failed = false;
    let mut outputs: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut path_dirs: Vec<PathBuf> = Vec::new();
    let github_path = sandbox.path("github_path");
    for (n, step) in steps.iter().enumerate() {
        let name = text(&step["name"])
            .or_else(|| text(&step["id"]))
            .unwrap_or_else(|| format!("step {}", n + 1));
        let cx = Context {
            failed,
            outputs: &outputs,
        };
        if !expr::condition(text(&step["if"]).as_deref(), &cx) {
            continue;
        }
        let mut step_env: Vec<(String, String)> = env.to_vec();
        step_env.extend(pairs(&step["env"]));
        let step_env: Vec<(String, String)> = step_env
            .into_iter()
            .map(|(k, v)| (k, expr::interpolate(&v, &cx)))
            .collect();
        let output_file = sandbox.path(&format!("output-{n}"));
        let (program, args, extra_env) = if let Some(run) = text(&step["run"]) {
            assert!(
                !run.contains("${{"),
                "{name}: an expression inside run: is script injection; pass it through env:"
            );
            let script = sandbox.path(&format!("step-{n}.sh"));
            std::fs::write(&script, run).unwrap();
            let args: Vec<String> = match text(&step["shell"]).as_deref() {
                None => vec!["-e".into()],
                Some("bash") => vec![
                    "--noprofile".into(),
                    "--norc".into(),
                    "-eo".into(),
                    "pipefail".into(),
                ],
                Some(other) => panic!("{name}: the recipe test does not run shell: {other}"),
            };
            let mut args = args;
            args.push(script.display().to_string());
            ("bash", args, Vec::new())
        } else if let Some(uses) = text(&step["uses"]) {
            let (repo, reference) = uses.split_once('@').expect("uses: owner/name@ref");
            assert_eq!(
                repo, "dcs-wait/dcs-wait",
                "{name}: only this action is run here"
            );
            assert!(
                reference.len() == 40 && reference.chars().all(|c| c.is_ascii_hexdigit()),
                "{name}: the action is pinned by a full commit SHA, not {reference:?}"
            );
            // The action's install step: dcs-wait on PATH for this step and, through
            // GITHUB_PATH, the later ones.
            if !path_dirs.contains(&sandbox.dist()) {
                path_dirs.insert(0, sandbox.dist());
            }
            let with: HashMap<String, String> = pairs(&step["with"])
                .into_iter()
                .map(|(k, v)| (k, expr::interpolate(&v, &cx)))
                .collect();
            let defaults = action_defaults();
            for input in with.keys() {
                assert!(
                    defaults.iter().any(|(k, _)| k == input),
                    "{name}: the action has no input {input:?}"
                );
            }
            let inputs = defaults
                .into_iter()
                .map(|(input, default)| {
                    let value = with.get(&input).cloned().unwrap_or(default);
                    let var = format!("DCS_WAIT_ACTION_{}", input.to_uppercase().replace('-', "_"));
                    (var, value)
                })
                .collect();
            let run_sh = Path::new(env!("CARGO_MANIFEST_DIR")).join("action/run.sh");
            ("bash", vec![run_sh.display().to_string()], inputs)
        } else {
            panic!("{name}: a step with neither run: nor uses:");
        };
        let mut command = sandbox.command(program, &sandbox.path_var(&path_dirs));
        command
            .args(&args)
            .envs(step_env)
            .envs(extra_env)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_PATH", &github_path)
            .env("GITHUB_ACTIONS", "true")
            .env("RUNNER_TEMP", sandbox.path("temp"));
        let status = command.status().expect("bash runs");
        let code = status.code().unwrap_or(-1);
        if let Some(id) = text(&step["id"]) {
            outputs.insert(id, read_outputs(&output_file));
        }
        for dir in std::fs::read_to_string(&github_path)
            .unwrap_or_default()
            .lines()
        {
            let dir = PathBuf::from(dir);
            if !path_dirs.contains(&dir) {
                path_dirs.insert(0, dir);
            }
        }
        if code != 0 && text(&step["continue-on-error"]).as_deref() != Some("true") {
            failed = true;
        }
    }
    failed
}

/// The jobs of a recipe: a workflow's (`jobs:`), or one job of a list of steps.
pub fn jobs(yaml: &Yaml) -> Vec<(String, Env, Vec<Yaml>)> {
    if let Some(steps) = yaml.as_vec() {
        let name = text(&steps[0]["name"]).expect("a recipe's first step has a name");
        return vec![(name, Vec::new(), steps.clone())];
    }
    let workflow_env = pairs(&yaml["env"]);
    yaml["jobs"]
        .as_hash()
        .expect("jobs:")
        .iter()
        .map(|(name, job)| {
            let name = text(name).unwrap();
            let mut env = workflow_env.clone();
            env.extend(pairs(&job["env"]));
            if let Some((var, _)) = env.iter().find(|(k, _)| k.starts_with("HUAWEICLOUD_SDK_")) {
                panic!("{name}: {var} in the job's env reaches every step; give it to the steps that use it");
            }
            assert_eq!(
                text(&job["permissions"]["contents"]).as_deref(),
                Some("read"),
                "{name}: a workflow recipe says `permissions: contents: read`"
            );
            let steps = job["steps"].as_vec().expect("steps:").clone();
            (name, env, steps)
        })
        .collect()
}

/// Whether a recipe is a GitHub Actions workflow or a list of its steps.
pub fn is_github(yaml: &Yaml) -> bool {
    yaml.as_vec().is_some() || !yaml["jobs"].is_badvalue()
}

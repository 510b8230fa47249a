//! A GitLab CI job as its runner runs it, for what the recipes use: `extends:` merged,
//! `before_script` and `script` in one POSIX shell with `set -e` and no `pipefail`, `variables`
//! in the environment, and `allow_failure` (`true` or `exit_codes`) turning a failure into a
//! warning. An image whose name holds `dcs-wait` has it on PATH; any other must install it.

use super::sandbox::Sandbox;
use super::scalar as text;
use super::Ended;
use yaml_rust2::Yaml;

/// A job's keys over those of the template it extends.
fn merged(all: &Yaml, job: &Yaml) -> yaml_rust2::yaml::Hash {
    let mut out = match text(&job["extends"]) {
        Some(template) => merged(all, &all[template.as_str()]),
        None => Default::default(),
    };
    for (k, v) in job.as_hash().expect("a job is a mapping") {
        out.insert(k.clone(), v.clone());
    }
    out
}

/// The jobs of a pipeline (those not starting with `.`), each with its merged keys.
pub fn jobs(yaml: &Yaml) -> Vec<(String, Yaml)> {
    yaml.as_hash()
        .expect("a pipeline")
        .iter()
        .filter_map(|(name, job)| {
            let name = text(name)?;
            (!name.starts_with('.')).then(|| (name, Yaml::Hash(merged(yaml, job))))
        })
        .collect()
}

/// Whether a recipe is a GitLab CI pipeline: a mapping of jobs with `script:`.
pub fn is_gitlab(yaml: &Yaml) -> bool {
    yaml.as_hash().is_some_and(|h| {
        h.values()
            .any(|job| !job["script"].is_badvalue() || !job["extends"].is_badvalue())
    })
}

fn lines(yaml: &Yaml) -> Vec<String> {
    yaml.as_vec()
        .map(|v| v.iter().map(|l| text(l).expect("a script line")).collect())
        .unwrap_or_default()
}

/// Runs one job; the CI/CD variables a project would set are in the environment.
pub fn run_job(sandbox: &Sandbox, job: &Yaml) -> Ended {
    let mut script = vec!["set -e".to_string()];
    script.extend(lines(&job["before_script"]));
    script.extend(lines(&job["script"]));
    let image = text(&job["image"]).expect("a recipe names its image");
    let mut first = vec![sandbox.root().join("usr/local/bin")];
    if image.contains("dcs-wait") {
        first.push(sandbox.dist());
    }
    let mut command = sandbox.command("sh", &sandbox.path_var(&first));
    command
        .arg("-c")
        .arg(script.join("\n"))
        .env("GITLAB_CI", "true")
        .env("DCS_INSTANCE_ID", "5560df16-cebf-4473-95c4-d8b0ba1ab0e6")
        .env("RESIZE_JOB_ID", "ff8080818822bbf70188235b0c3a1b2c")
        .env("HUAWEICLOUD_SDK_AK", "masked-ak")
        .env("HUAWEICLOUD_SDK_SK", "masked-sk");
    if let Some(vars) = job["variables"].as_hash() {
        for (k, v) in vars {
            command.env(text(k).unwrap(), text(v).unwrap());
        }
    }
    let code = command.status().expect("sh runs").code().unwrap_or(-1);
    let allowed = match &job["allow_failure"] {
        Yaml::Boolean(b) => *b,
        Yaml::Hash(_) => job["allow_failure"]["exit_codes"]
            .as_vec()
            .expect("exit_codes")
            .iter()
            .any(|c| c.as_i64() == Some(code.into())),
        _ => false,
    };
    match (code, allowed) {
        (0, _) => Ended::Passed,
        (_, true) => Ended::Allowed,
        (_, false) => Ended::Failed,
    }
}

//! Every CI recipe and deployment script the docs offer to copy, run as its CI system would
//! run it against a stand-in dcs-wait exiting 0, 1, 3 and 4: the job must fail for every
//! outcome but success, except the exit codes the recipe says it tolerates (and there it
//! must pass). A recipe is a ```yaml block (a GitHub Actions workflow or list of steps, or a
//! GitLab CI pipeline) or a ```sh block that starts with `#!`, in README.md or docs/.

#[path = "../common/mod.rs"]
mod common;
mod expr;
mod github;
mod gitlab;
mod sandbox;

use sandbox::Sandbox;
use std::path::Path;
use yaml_rust2::{Yaml, YamlLoader};

/// What each recipe tolerates besides success, by file and name (a workflow's job, a list of
/// steps' first step, a GitLab job, `script` for a shell script). A recipe that calls
/// `./deploy.sh` is also run with the deploy failing, and must then fail whatever dcs-wait says.
const TOLERATES: &[(&str, &str, &[i32])] = &[
    ("README.md", "failover", &[]),
    ("README.md", "swap", &[3]),
    ("docs/backup.md", "script", &[]),
    ("docs/ci.md", "Install dcs-wait", &[]),
    ("docs/ci.md", "Back up the cache", &[]),
    ("docs/ci.md", "Start the swap", &[]),
    ("docs/ci.md", "swap", &[]),
    ("docs/ci.md", "wait-for-resize", &[3]),
    ("docs/install.md", "Wait for the resize", &[]),
    ("docs/install.md", "failover", &[3]),
    ("docs/install.md", "swap", &[]),
    ("docs/instance.md", "script", &[]),
    ("docs/instance.md", "Wait until the cache is ready", &[]),
];

/// A YAML scalar as the text a runner reads (`true`, `3` and `'3'` alike).
pub fn scalar(yaml: &Yaml) -> Option<String> {
    match yaml {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        Yaml::Real(r) => Some(r.clone()),
        _ => None,
    }
}

/// The exit codes a stand-in dcs-wait gives: success, failed, not over, refused or unknown.
const CODES: [i32; 4] = [0, 1, 3, 4];

enum Kind {
    /// A GitHub Actions job: its workflow and job environment, its steps.
    GitHub(github::Env, Vec<Yaml>),
    GitLab(Yaml),
    Script(String),
}

struct Recipe {
    file: String,
    name: String,
    kind: Kind,
    text: String,
}

fn pages() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec!["README.md".to_string()];
    let mut docs: Vec<String> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.ends_with(".md").then(|| format!("docs/{name}"))
        })
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

fn code_blocks(markdown: &str) -> Vec<(String, String)> {
    use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(lang))) => {
                current = Some((lang.to_string(), String::new()))
            }
            Event::Text(t) => {
                if let Some((_, body)) = current.as_mut() {
                    body.push_str(&t)
                }
            }
            Event::End(TagEnd::CodeBlock) => out.extend(current.take()),
            _ => {}
        }
    }
    out
}

fn recipes() -> Vec<Recipe> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for file in pages() {
        let markdown = std::fs::read_to_string(root.join(&file)).unwrap();
        for (lang, body) in code_blocks(&markdown) {
            let recipe = |name: String, kind| Recipe {
                file: file.clone(),
                name,
                kind,
                text: body.clone(),
            };
            if lang == "sh" && body.starts_with("#!") {
                out.push(recipe("script".into(), Kind::Script(body.clone())));
            } else if lang == "yaml" {
                let yaml = YamlLoader::load_from_str(&body)
                    .unwrap_or_else(|e| panic!("{file}: a yaml block that is not YAML: {e}"))
                    .remove(0);
                if github::is_github(&yaml) {
                    for (name, env, steps) in github::jobs(&yaml) {
                        out.push(recipe(name, Kind::GitHub(env, steps)));
                    }
                } else if gitlab::is_gitlab(&yaml) {
                    for (name, job) in gitlab::jobs(&yaml) {
                        out.push(recipe(name, Kind::GitLab(job)));
                    }
                } else {
                    panic!("{file}: a yaml block that is neither GitHub Actions nor GitLab CI");
                }
            }
        }
    }
    out
}

/// How one run of a recipe ended, as its CI system shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Passed,
    /// GitLab's `allow_failure`: a warning; the pipeline goes on.
    Allowed,
    Failed,
}

impl Ended {
    fn word(self) -> &'static str {
        match self {
            Ended::Passed => "passes",
            Ended::Allowed => "passes (warning)",
            Ended::Failed => "FAILS",
        }
    }
}

fn run(recipe: &Recipe, sandbox: &Sandbox) -> Ended {
    match &recipe.kind {
        Kind::GitHub(env, steps) => {
            if github::run_job(sandbox, env, steps) {
                Ended::Failed
            } else {
                Ended::Passed
            }
        }
        Kind::GitLab(job) => gitlab::run_job(sandbox, job),
        Kind::Script(text) => {
            let script = sandbox.path("recipe.sh");
            std::fs::write(&script, text).unwrap();
            let status = sandbox
                .command("bash", &sandbox.path_var(&[sandbox.dist()]))
                .arg(&script)
                .env("INSTANCE", "5560df16-cebf-4473-95c4-d8b0ba1ab0e6")
                .status()
                .expect("bash runs");
            if status.success() {
                Ended::Passed
            } else {
                Ended::Failed
            }
        }
    }
}

/// What a recipe must do when dcs-wait's first call exits `code`, its later calls 0, and the
/// deploy exits `deploy`.
fn expected(tolerated: &[i32], code: i32, deploy: i32, gitlab: bool) -> Ended {
    if deploy != 0 {
        Ended::Failed
    } else if code == 0 {
        Ended::Passed
    } else if tolerated.contains(&code) {
        if gitlab {
            Ended::Allowed
        } else {
            Ended::Passed
        }
    } else {
        Ended::Failed
    }
}

/// One run, and what in it contradicts the recipe's promise: the wrong end, a step after a
/// wait that did not succeed, a restore that was not called for.
fn check(
    recipe: &Recipe,
    codes: (i32, i32),
    deploy: i32,
    want: Option<Ended>,
) -> (Ended, Vec<String>, usize) {
    let label = format!("{} › {}", recipe.file, recipe.name);
    let sandbox = Sandbox::new(codes, deploy);
    let ended = run(recipe, &sandbox);
    let calls = sandbox.calls();
    let waits: Vec<&String> = calls.iter().filter(|c| c.starts_with("dcs-wait")).collect();
    let mut wrong = Vec::new();
    let at = format!(
        "{label}, dcs-wait exits {} then {}, deploy exits {deploy}",
        codes.0, codes.1
    );
    assert!(
        !waits.is_empty(),
        "{at}: dcs-wait was never called; calls: {calls:?}"
    );
    // A later wait that ran and did not succeed fails the job: no recipe tolerates that.
    let want = want.unwrap_or(if deploy != 0 || (waits.len() > 1 && codes.1 != 0) {
        Ended::Failed
    } else {
        Ended::Passed
    });
    if ended != want {
        wrong.push(format!(
            "{at}: the job {} where it should {}; calls: {calls:?}",
            ended.word(),
            want.word()
        ));
    }
    let risky = calls
        .iter()
        .any(|c| c.starts_with("deploy.sh") || c.starts_with("run-migrations.sh"));
    if codes.0 != 0 && risky {
        wrong.push(format!(
            "{at}: went on after a wait that did not succeed: {calls:?}"
        ));
    }
    if calls.iter().any(|c| c.starts_with("dcs-wait restore")) && (deploy == 0 || codes.0 != 0) {
        wrong.push(format!(
            "{at}: restored when the deploy succeeded or the backup did not: {calls:?}"
        ));
    }
    (ended, wrong, waits.len())
}

#[test]
fn every_recipe_fails_the_job_for_every_outcome_but_success_unless_it_says_so() {
    if !common::installed("jq", "--version", "the backup recipe needs it") {
        return;
    }
    let recipes = recipes();
    for (file, name, _) in TOLERATES {
        assert!(
            recipes.iter().any(|r| r.file == *file && r.name == *name),
            "{file} has no recipe {name:?} any more: update TOLERATES"
        );
    }
    let mut table = vec![format!(
        "| recipe | first wait {} | a later wait exits 1, 3, 4 |\n|---|---|---|---|---|---|",
        CODES.map(|c| format!("exits {c}")).join(" | ")
    )];
    let mut wrong = Vec::new();
    for recipe in &recipes {
        let label = format!("{} › {}", recipe.file, recipe.name);
        let tolerated = TOLERATES
            .iter()
            .find(|(f, n, _)| *f == recipe.file && *n == recipe.name)
            .unwrap_or_else(|| panic!("{label}: a new recipe; say what it tolerates in TOLERATES"))
            .2;
        let deploys: &[i32] = if recipe.text.contains("deploy.sh") {
            &[0, 1]
        } else {
            &[0]
        };
        let gitlab = matches!(recipe.kind, Kind::GitLab(_));
        for &deploy in deploys {
            let mut cells = Vec::new();
            for code in CODES {
                let want = expected(tolerated, code, deploy, gitlab);
                let (ended, found, _) = check(recipe, (code, 0), deploy, Some(want));
                wrong.extend(found);
                cells.push(ended.word().to_string());
            }
            let mut later: Vec<&str> = CODES[1..]
                .iter()
                .map(|&code| {
                    let (ended, found, waits) = check(recipe, (0, code), deploy, None);
                    wrong.extend(found);
                    if waits > 1 {
                        ended.word()
                    } else {
                        "no later wait"
                    }
                })
                .collect();
            later.dedup();
            cells.push(later.join(", "));
            let variant = match (deploys.len(), deploy) {
                (1, _) => "",
                (_, 0) => " (deploy succeeds)",
                _ => " (deploy fails)",
            };
            table.push(format!("| {label}{variant} | {} |", cells.join(" | ")));
        }
    }
    eprintln!("{}", table.join("\n"));
    assert!(
        wrong.is_empty(),
        "recipes that do not fail where they say:\n{}",
        wrong.join("\n")
    );
}

/// The action is pinned by a full commit SHA with its tag in a comment, the same everywhere;
/// where the repository's history is at hand, that commit's action is this tree's.
#[test]
fn the_action_is_pinned_by_commit_with_its_tag() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let version = env!("CARGO_PKG_VERSION");
    let mut pins = std::collections::BTreeSet::new();
    for file in pages() {
        let text = std::fs::read_to_string(root.join(&file)).unwrap();
        for line in text
            .lines()
            .filter(|l| l.contains("uses: dcs-wait/dcs-wait@"))
        {
            let pin = line.split("dcs-wait/dcs-wait@").nth(1).unwrap();
            let (sha, tag) = pin.split_once(" # ").unwrap_or_else(|| {
                panic!("{file}: `{line}` has no `# v{version}` comment after its SHA")
            });
            assert!(
                sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                "{file}: `{line}` is not pinned by a full commit SHA"
            );
            assert_eq!(tag.trim(), format!("v{version}"), "{file}: `{line}`");
            pins.insert(sha.to_string());
        }
    }
    assert_eq!(pins.len(), 1, "one pinned commit in every recipe: {pins:?}");
    let sha = pins.into_iter().next().unwrap();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| o.stdout)
    };
    if git(&["cat-file", "-e", &format!("{sha}^{{commit}}")]).is_none() {
        // A shallow clone or a source archive: the commit cannot be looked at here.
        eprintln!("SKIPPED: {sha} is not in this checkout's history");
        return;
    }
    for file in [
        "action.yml",
        "action/install.sh",
        "action/run.sh",
        "action/common.sh",
    ] {
        let pinned = git(&["show", &format!("{sha}:{file}")]).unwrap_or_default();
        let here = std::fs::read(root.join(file)).unwrap();
        assert!(
            pinned == here,
            "{file} changed since the pinned commit {sha}: pin the docs to a commit that has this action"
        );
    }
}

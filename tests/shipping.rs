//! What is shipped beside the binary, read as its tools read it: the Dockerfile's images
//! (pinned bases, no root, no test server in a job image) and the release workflow (the tag
//! never inside a script, write access in one job). Neither is built here (no Docker daemon,
//! no GitHub), so these are the checks that run on every `cargo test`.

mod common;

use common::run_scripts;
use yaml_rust2::{Yaml, YamlLoader};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The Dockerfile's stages: (the `FROM` line, the comment line above it, its other lines).
fn stages() -> Vec<(String, String, Vec<String>)> {
    let text = std::fs::read_to_string(format!("{ROOT}/Dockerfile")).unwrap();
    let mut stages: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut above = String::new();
    for line in text.lines() {
        if line.starts_with("FROM ") {
            stages.push((line.to_string(), above.clone(), Vec::new()));
        } else if let Some(stage) = stages.last_mut() {
            stage.2.push(line.to_string());
        }
        above = line.to_string();
    }
    stages
}

#[test]
fn images_start_from_pinned_bases_and_run_as_no_root() {
    let stages = stages();
    assert_eq!(stages.len(), 4, "{stages:#?}");
    for (from, above, lines) in &stages {
        let image = from.split_whitespace().nth(1).unwrap();
        if image == "scratch" {
            continue;
        }
        let (tag, digest) = image
            .split_once("@sha256:")
            .unwrap_or_else(|| panic!("{from}: not pinned by digest"));
        assert!(
            digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
            "{from}"
        );
        assert_eq!(above, &format!("# {tag}"), "the tag beside {from}");
        let build = from.ends_with(" AS build");
        let user = lines.iter().rev().find_map(|l| l.strip_prefix("USER "));
        if !build {
            let user = user.unwrap_or_else(|| panic!("{from}: runs as root"));
            assert!(
                !user.starts_with('0') && !user.starts_with("root"),
                "{from}: {user}"
            );
        }
    }
    let (_, _, last) = stages.last().unwrap();
    assert!(
        last.iter().any(|l| l.starts_with("USER 65532")),
        "{last:#?}"
    );
    let alpine = stages
        .iter()
        .find(|(from, _, _)| from.ends_with(" AS alpine"))
        .expect("an alpine target");
    assert!(
        !alpine
            .2
            .iter()
            .any(|l| !l.starts_with('#') && l.contains("dcs-sim")),
        "the job image carries the test server: {alpine:#?}"
    );
}

fn release_workflow() -> Yaml {
    let text = std::fs::read_to_string(format!("{ROOT}/.github/workflows/release.yml")).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

#[test]
fn the_release_keeps_the_tag_out_of_scripts_and_writes_from_one_job() {
    let workflow = release_workflow();
    for script in run_scripts(&workflow) {
        // Only the plan's own matrix (dist's settings) is expanded inside a script.
        let mut rest = script.as_str();
        while let Some(start) = rest.find("${{") {
            let expr = rest[start + 3..].split("}}").next().unwrap().trim();
            assert!(
                expr.starts_with("matrix."),
                "`{expr}` expanded inside a script: pass it through env:\n{script}"
            );
            rest = &rest[start + 3..];
        }
    }
    assert_eq!(
        workflow["permissions"]["contents"].as_str(),
        Some("read"),
        "the workflow's default"
    );
    let Yaml::Hash(jobs) = &workflow["jobs"] else {
        panic!("no jobs")
    };
    let writers: Vec<&str> = jobs
        .iter()
        .filter(|(_, job)| job["permissions"]["contents"].as_str() == Some("write"))
        .map(|(name, _)| name.as_str().unwrap())
        .collect();
    assert_eq!(writers, ["host"]);
}

/// The README and every page under docs/.
fn pages() -> Vec<std::path::PathBuf> {
    let mut pages = vec![std::path::PathBuf::from(format!("{ROOT}/README.md"))];
    for entry in std::fs::read_dir(format!("{ROOT}/docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            found.push(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

#[test]
fn every_link_between_the_pages_resolves() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let dir = page.parent().unwrap();
        for (start, _) in text.match_indices("](") {
            let rest = &text[start + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = &rest[..end];
            if target.contains("://") || target.starts_with("mailto:") || target.contains(' ') {
                continue;
            }
            let (file, fragment) = target.split_once('#').unwrap_or((target, ""));
            let path = if file.is_empty() {
                page.clone()
            } else {
                dir.join(file)
            };
            let ok = path.exists()
                && (fragment.is_empty()
                    || anchors(&std::fs::read_to_string(&path).unwrap_or_default())
                        .iter()
                        .any(|a| a == fragment));
            if !ok {
                broken.push(format!("{}: {target}", page.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_readme_is_a_front_page() {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 300,
        "the README has {lines} lines; depth goes to docs/"
    );
}

#[test]
fn wheels_are_built_for_every_archive_and_published_only_when_switched_on() {
    let workflow = release_workflow();
    let dist = std::fs::read_to_string(format!("{ROOT}/dist-workspace.toml")).unwrap();
    let targets_line = dist.lines().find(|l| l.starts_with("targets = ")).unwrap();
    let wheels: Vec<&str> = workflow["jobs"]["build-wheels"]["strategy"]["matrix"]["include"]
        .as_vec()
        .expect("a wheel matrix")
        .iter()
        .map(|entry| entry["target"].as_str().unwrap())
        .collect();
    for target in targets_line
        .split('"')
        .filter(|t| t.contains('-') && !t.contains(' '))
    {
        assert!(wheels.contains(&target), "no wheel for {target}");
    }
    assert!(workflow["jobs"]["build-sdist"]["steps"].as_vec().is_some());
    let publish = &workflow["jobs"]["publish-pypi"];
    assert_eq!(publish["environment"].as_str(), Some("pypi"));
    assert_eq!(publish["permissions"]["id-token"].as_str(), Some("write"));
    assert!(
        publish["if"]
            .as_str()
            .unwrap()
            .contains("vars.PYPI_PUBLISH == 'true'"),
        "publishing must wait until it is switched on"
    );
    // One version: maturin reads Cargo.toml's.
    let pyproject = std::fs::read_to_string(format!("{ROOT}/pyproject.toml")).unwrap();
    assert!(pyproject.contains("dynamic = [\"version\"]") && !pyproject.contains("\nversion ="));
}

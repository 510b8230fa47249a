//! The real dcs-wait binary against a dcs-sim that misbehaves on purpose: bodies too large to
//! read, bodies that trickle in, answers about another job, redirects elsewhere. Each must end
//! as the documented error or be ridden out, never as a success, a hang or a leak.

mod common;

use common::*;
use dcs_wait::sim::Scenario;
use dcs_wait::sim::{Fault, FaultRule};
use serde_json::Value;
use std::time::Duration;

/// The largest resident set of any child this test process has waited for, in KiB.
fn children_peak_rss_kib() -> i64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    usage.ru_maxrss
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_cap_is_cut_off_and_retried_never_read_whole() {
    const BODY: u64 = 64 << 20;
    let mut huge = job("huge-1", 0);
    huge.faults = vec![FaultRule::on(&[1, 2], Fault::Oversized { bytes: BODY })];
    let sim = sim(vec![huge]).await;
    let run = wait_on(&sim, &["-v", "huge-1"]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    let report = run.report();
    assert_eq!(report["outcome"], "success");
    assert_eq!(report["polls"], 3, "two cut-off bodies, then the job");
    assert!(run.stderr.contains("body_too_large"), "{}", run.stderr);
    // Every child of this test binary is a dcs-wait of a few MiB; one that had buffered the
    // 64 MiB body would have peaked above it.
    let peak_mib = children_peak_rss_kib() / 1024;
    assert!(peak_mib < 40, "a child peaked at {peak_mib} MiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_is_bounded_by_the_request_timeout() {
    // A byte every 200 ms: the ~150-byte job would take half a minute.
    let mut once = job("trickle-once", 0);
    once.faults = vec![FaultRule::on(&[1], Fault::Trickle { ms: 200 })];
    let mut always = job("trickle-always", 0);
    always.faults = vec![FaultRule::until(u64::MAX, Fault::Trickle { ms: 200 })];
    let sim = sim(vec![once, always]).await;

    let run = wait_on(&sim, &["--request-timeout", "1s", "trickle-once"]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.report()["polls"], 2);

    let run = wait_on(
        &sim,
        &[
            "--request-timeout",
            "1s",
            "--timeout",
            "4s",
            "trickle-always",
        ],
    )
    .await;
    assert_eq!(run.code, 3, "{run:#?}");
    assert_ended_by(&run, Duration::from_secs(4));
    let report = run.report();
    assert_eq!(report["outcome"], "timeout");
    assert_eq!(
        report["status"],
        Value::Null,
        "no trickled answer was taken"
    );
    assert_eq!(report["error"]["code"], "request_timeout");
    assert!(
        polls(&sim, "trickle-always") >= 2,
        "a timed-out request is retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_about_another_job_is_a_final_error_not_a_success() {
    let mut other = job("swap-1", 0);
    other.faults = vec![FaultRule::until(u64::MAX, Fault::OtherJob)];
    let sim = sim(vec![other]).await;
    let run = wait_on(&sim, &["swap-1"]).await;
    assert_eq!(run.code, 4, "{run:#?}");
    let report = run.report();
    assert_eq!(report["outcome"], "error");
    assert_eq!(
        report["status"],
        Value::Null,
        "the other job's SUCCESS is not ours"
    );
    assert_eq!(report["error"]["code"], "job_id_mismatch");
    assert!(
        report["error"]["message"]
            .as_str()
            .unwrap()
            .contains("swap-1-other"),
        "{report}"
    );
    assert_eq!(polls(&sim, "swap-1"), 1, "not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_not_followed_to_another_host() {
    // The other host is a second dcs-sim: it would accept our signature (same credentials),
    // so only not following the redirect keeps the request from reaching it.
    let elsewhere = sim(vec![job("swap-1", 0)]).await;
    let mut moved = job("swap-1", 0);
    moved.faults = vec![FaultRule::until(
        u64::MAX,
        Fault::Redirect {
            location: format!("{}/v2/{PROJECT}/jobs/swap-1", elsewhere.url()),
        },
    )];
    let sim = sim(vec![moved]).await;
    let run = wait_on(&sim, &["swap-1"]).await;
    assert_eq!(run.code, 4, "{run:#?}");
    let report = run.report();
    assert_eq!(report["error"]["code"], "redirect");
    assert_eq!(report["error"]["http_status"], 302);
    assert!(
        report["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&elsewhere.url()),
        "{report}"
    );
    assert_eq!(polls(&sim, "swap-1"), 1);
    assert_eq!(
        elsewhere.stats().requests,
        0,
        "nothing reached the other host"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_text_cannot_rewrite_the_terminal_or_forge_log_lines() {
    // An escape sequence (clear screen), a new line that is a GitHub workflow command, and a
    // right-to-left override, in the fail reason and in an error message.
    let hostile = "\u{1b}[2J\n::set-output name=outcome::success\n\u{202E}txt.exe";
    let failed = failed_job("fail-1", 0, Some(hostile));
    let mut refused = job("refused-1", 0);
    refused.faults = vec![FaultRule::on(
        &[1],
        Fault::Error {
            http_status: 403,
            error_code: Some("DCS.4403".into()),
            error_msg: Some(hostile.into()),
            retry_after: None,
            request_id: None,
        },
    )];
    let sim = sim(vec![failed, refused]).await;
    let mut args = args_for(&sim);
    args.retain(|a| a != "--output" && a != "json");
    args.extend(["-vv", "fail-1", "refused-1"].map(String::from));
    let run = dcs_wait(&args, &aksk(&sim)).await;
    assert_eq!(run.code, 4, "{run:#?}");
    assert!(
        run.stdout.contains("set-output"),
        "the text is kept, escaped: {run:#?}"
    );
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains('\u{1b}'), "{output}");
        assert!(!output.contains('\u{202E}'), "{output}");
        assert!(
            !output.lines().any(|line| line.starts_with("::")),
            "{output}"
        );
    }
}
#[test]
fn the_parsers_find_what_the_runners_act_on() {
    let names = |runner: &str, text| -> Vec<String> {
        runner::commands(text)
            .into_iter()
            .filter(|c| c.runner == runner)
            .map(|c| c.name)
            .collect()
    };
    assert_eq!(
        names("github", "x ##[error file=a]b\n  ::warning::w\n::nope::x"),
        ["error", "warning"]
    );
    assert_eq!(
        names("github", "#\u{200b}#[add-mask]x\r::Debug::y"),
        ["add-mask", "Debug"]
    );
    assert_eq!(
        names("github", "a ::error::x\n##[error x\n##[section]s"),
        Vec::<String>::new()
    );
    assert_eq!(
        names(
            "github",
            "::stop-commands::t1\n::error::x\n##[t1]\n::notice::y"
        ),
        ["notice"]
    );
    assert_eq!(
        names(
            "azure",
            "x ##VSO[task.setvariable variable=A]b\n##[section]s\n##vso[task.complete"
        ),
        ["task.setvariable", "section"]
    );
    assert_eq!(
        names("teamcity", "a ##teamcity[setParameter name='x' value='y']"),
        ["setParameter"]
    );
    assert!(runner::commands("#\\u0023vso[x] #&#35;teamcity[y] &#35;&#35;[z]").is_empty());
}

/// GitHub's older command form anywhere in a line, the newer at a line's start (after
/// blanks), one hidden by invisible characters, Azure Pipelines' and TeamCity's.
const COMMANDS: &[&str] = &[
    "##[error file=README.md;line=1;title=Security]deploy approved",
    "##[add-mask]FAIL",
    "#\u{200b}#[group]folded",
    "  ::error::forged",
    "##vso[task.setvariable variable=DCS_WAIT_ENDPOINT]https://evil.example",
    "##VSO[task.uploadfile]/home/vsts/.huaweicloud/credentials",
    "##teamcity[setParameter name='env.DCS_WAIT_ENDPOINT' value='x']",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_server_text_becomes_a_runner_command() {
    use dcs_wait::sim::{SimInstance, SimTask};
    // Every runner's commands in each field a server fills; a header (request id, location)
    // carries visible ASCII only, so no invisible character there.
    let all = COMMANDS.join(" | ");
    let ascii = COMMANDS
        .iter()
        .filter(|c| c.is_ascii())
        .copied()
        .collect::<Vec<_>>()
        .join(" | ");
    let reason = failed_job("reason-1", 0, Some(&all));
    let mut job_type = job("type-1", 0);
    job_type.job_type = all.clone();
    let mut status = job("status-1", 0);
    status.faults = vec![FaultRule::until(
        u64::MAX,
        Fault::Status {
            status: all.clone(),
        },
    )];
    let mut refused = job("refused-1", 0);
    refused.faults = vec![FaultRule::until(
        u64::MAX,
        Fault::Error {
            http_status: 403,
            error_code: Some(all.clone()),
            error_msg: Some(all.clone()),
            retry_after: None,
            request_id: Some(format!("req {ascii}")),
        },
    )];
    let mut page = job("page-1", 0);
    page.faults = vec![FaultRule::until(
        u64::MAX,
        Fault::Html {
            http_status: 502,
            title: Some(all.clone()),
        },
    )];
    let mut moved = job("moved-1", 0);
    moved.faults = vec![FaultRule::until(
        u64::MAX,
        Fault::Redirect {
            location: format!("https://elsewhere.example/{ascii}"),
        },
    )];
    let mut instance = SimInstance::new("inst-1", 0);
    instance.tasks = vec![SimTask {
        name: all.clone(),
        start_ms: -1_000,
        run_ms: 0,
        final_status: "FAILED".into(),
        details: Some(details(serde_json::json!({ all.clone(): all.clone() }))),
    }];
    let sim = start(Scenario {
        instances: vec![instance],
        // IAM's answer for a run given a region and no project id.
        iam_projects: vec![dcs_wait::sim::SimProject {
            id: all.clone(),
            name: "sim-region-1".into(),
        }],
        ..scenario(vec![reason, job_type, status, refused, page, moved])
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let jobs = [
        "reason-1",
        "type-1",
        "status-1",
        "refused-1",
        "page-1",
        "moved-1",
    ];
    let mut seen = Vec::new();
    for (output, verbosity) in [("text", "-vv"), ("json", "-v")] {
        for what in [&jobs[..], &["instance", "--since", "10m", "inst-1"]] {
            let junit = dir.path().join(format!("{output}.xml"));
            let summary = dir.path().join(format!("{output}.md"));
            let mut args = args_for(&sim);
            args.retain(|a| a != "--output" && a != "json");
            args.extend(
                [
                    "--output",
                    output,
                    verbosity,
                    "--timeout",
                    "3s",
                    "--heartbeat",
                    "1s",
                    "--junit",
                ]
                .map(String::from),
            );
            args.push(junit.display().to_string());
            args.extend(what.iter().map(|s| s.to_string()));
            let mut env = token(&sim);
            env.push(("GITHUB_ACTIONS", "true".into()));
            env.push(("GITHUB_STEP_SUMMARY", summary.display().to_string()));
            let run = dcs_wait(&args, &env).await;
            assert_ne!(run.code, 0, "{run:#?}");
            let files = [&junit, &summary].map(|f| std::fs::read_to_string(f).unwrap());
            for (name, text) in [
                ("stdout", &run.stdout),
                ("stderr", &run.stderr),
                ("JUnit", &files[0]),
                ("summary", &files[1]),
            ] {
                let found = runner::commands(text);
                assert!(found.is_empty(), "{output} {name}: {found:#?}\n{text}");
            }
            if output == "json" {
                seen.extend(run.reports());
            }
            // The text is there to read, escaped, not dropped.
            assert!(run.stdout.contains("deploy approved"), "{run:#?}");
        }
    }
    // JSON Lines decode to exactly what the server sent, but for its invisible character,
    // which is an escape there as everywhere.
    let all = all.replace('\u{200b}', "\\u{200b}");
    let field = |id: &str, key: &str| {
        let report = seen
            .iter()
            .find(|r| r["job_id"] == id || r["instance_id"] == id)
            .unwrap_or_else(|| panic!("no report for {id}: {seen:#?}"));
        report.pointer(key).cloned().unwrap_or_default()
    };
    assert_eq!(field("reason-1", "/fail_reason"), all.as_str());
    assert_eq!(field("type-1", "/job_type"), all.as_str());
    assert_eq!(field("status-1", "/status"), all.as_str());
    assert_eq!(field("refused-1", "/error/code"), all.as_str());
    assert_eq!(field("refused-1", "/error/message"), all.as_str());
    assert_eq!(
        field("refused-1", "/error/request_id"),
        format!("req {ascii}").as_str()
    );
    assert_eq!(field("inst-1", "/tasks/0/name"), all.as_str());

    // IAM's project id, refused as an id and quoted in the error, in text and JSON.
    for output in ["text", "json"] {
        let mut args = vec!["--endpoint".to_string(), sim.url()];
        args.extend(
            [
                "--region",
                "sim-region-1",
                "--output",
                output,
                "-v",
                "swap-1",
            ]
            .map(String::from),
        );
        let mut env = aksk(&sim);
        env.push(("HUAWEICLOUD_SDK_IAM_ENDPOINT", sim.url()));
        let run = dcs_wait(&args, &env).await;
        assert_ne!(run.code, 0, "{run:#?}");
        assert!(run.stderr.contains("deploy approved"), "{run:#?}");
        for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            let found = runner::commands(text);
            assert!(found.is_empty(), "IAM {output} {name}: {found:#?}\n{text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_text_is_capped_in_every_output() {
    use dcs_wait::sim::{SimInstance, SimTask};
    // A failed task whose details hold a thousand keys: a 900 KB reason once said in words.
    let details_object: serde_json::Map<String, serde_json::Value> = (0..1000)
        .map(|n| (format!("key{n}"), "v".repeat(900).into()))
        .collect();
    let mut instance = SimInstance::new("inst-1", 0);
    instance.tasks = vec![SimTask {
        name: "EXTEND".into(),
        start_ms: -1_000,
        run_ms: 0,
        final_status: "FAILED".into(),
        details: Some(details(details_object.into())),
    }];
    // And many jobs, each with a long reason, for the summary.
    let jobs: Vec<_> = (0..40)
        .map(|n| failed_job(&format!("fail-{n}"), 0, Some(&"<".repeat(990))))
        .collect();
    let ids: Vec<String> = jobs.iter().map(|j| j.job_id.clone()).collect();
    let sim = start(Scenario {
        instances: vec![instance],
        ..scenario(jobs)
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let what: [Vec<String>; 2] = [
        ["instance", "--since", "10m", "inst-1"]
            .map(String::from)
            .to_vec(),
        ids,
    ];
    for output in ["text", "json"] {
        for what in &what {
            let junit = dir.path().join("junit.xml");
            let summary = dir.path().join("summary.md");
            let _ = std::fs::remove_file(&summary);
            let mut args = args_for(&sim);
            args.retain(|a| a != "--output" && a != "json");
            args.extend(["--output", output, "-v", "--junit"].map(String::from));
            args.push(junit.display().to_string());
            args.extend(what.iter().cloned());
            let mut env = token(&sim);
            env.push(("GITHUB_STEP_SUMMARY", summary.display().to_string()));
            let run = dcs_wait(&args, &env).await;
            assert_eq!(run.code, 1, "{}", run.stderr);
            let junit = std::fs::read_to_string(&junit).unwrap();
            let summary = std::fs::read_to_string(&summary).unwrap();
            for (name, text, longest) in [
                (
                    "stdout",
                    &run.stdout,
                    if output == "json" { 16 * 1024 } else { 2_200 },
                ),
                ("stderr", &run.stderr, 2_200),
                ("JUnit", &junit, 6_000),
            ] {
                let line = text.lines().map(str::len).max().unwrap_or(0);
                assert!(line <= longest, "{output} {name}: a line of {line} bytes");
            }
            assert!(summary.len() <= 64 * 1024, "{output}: {}", summary.len());
            let instance = what[0] == "instance";
            if !instance {
                assert!(summary.contains("more waits not shown here"), "{output}");
            }
            if instance {
                assert!(run.stdout.contains("more characters)"), "{output}: marked");
            }
            if instance && output == "json" {
                let report = run.report();
                let details = report["tasks"][0]["details"].as_str().unwrap();
                assert!(details.starts_with("{\"key0\":\"vvv"), "{details:.80}");
                assert!(details.ends_with("more characters)"), "{report}");
            }
        }
    }
}

/// Task details for dcs-sim to send as they are.
fn details(json: serde_json::Value) -> dcs_wait::Details {
    serde_json::from_value(json).expect("JSON")
}

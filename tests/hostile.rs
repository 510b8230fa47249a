//! The real dcs-wait binary against a dcs-sim that misbehaves on purpose: bodies too large to
//! read, bodies that trickle in, answers about another job, redirects elsewhere. Each must end
//! as the documented error or be ridden out, never as a success, a hang or a leak.

mod common;

use common::*;
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

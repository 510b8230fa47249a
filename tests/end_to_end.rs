//! The real dcs-wait binary against a real dcs-sim over 127.0.0.1: outcomes, exit codes,
//! faults, authentication. Timing is only ever bounded generously from above (a deadline is
//! a promise) or from below (Retry-After); counts come from dcs-sim.

mod common;

use common::*;
use dcs_wait::sim::{Fault, FaultRule, SimAuth};
use serde_json::Value;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_reports_the_exact_duration() {
    let sim = sim(vec![job("swap-1", 1500)]).await;
    let run = wait_on(&sim, &["swap-1"]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    let report = run.report();
    assert_eq!(report["job_id"], "swap-1");
    assert_eq!(report["job_type"], "masterStandbySwapJob");
    assert_eq!(report["status"], "SUCCESS");
    assert_eq!(report["outcome"], "success");
    assert_eq!(report["duration_ms"], 1500);
    assert_eq!(
        report["end_time"].as_i64().unwrap() - report["begin_time"].as_i64().unwrap(),
        1500
    );
    assert_eq!(report["fail_reason"], Value::Null);
    assert_eq!(report["error"], Value::Null);
    assert_eq!(
        report["polls"].as_u64().unwrap() as usize,
        polls(&sim, "swap-1")
    );
    let fields: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = [
        "job_id",
        "instance_id",
        "job_type",
        "status",
        "outcome",
        "begin_time",
        "end_time",
        "duration_ms",
        "fail_reason",
        "tasks",
        "polls",
        "error",
    ];
    expected.sort();
    let mut fields = fields;
    fields.sort();
    assert_eq!(fields, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_exits_1_with_its_reason() {
    let mut failing = failed_job("backup-1", 300, Some("disk full on the standby"));
    failing.job_type = "backupDCSInstance".into();
    let sim = sim(vec![failing]).await;
    let run = wait_on(&sim, &["backup-1"]).await;
    assert_eq!(run.code, 1, "{run:#?}");
    let report = run.report();
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["status"], "FAIL");
    assert_eq!(report["fail_reason"], "disk full on the standby");
    assert_eq!(report["duration_ms"], 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_job_exits_3_by_the_deadline() {
    let sim = sim(vec![job("slow-1", 600_000)]).await;
    let run = wait_on(&sim, &["--timeout", "2s", "slow-1"]).await;
    assert_eq!(run.code, 3, "{run:#?}");
    assert_ended_by(&run, Duration::from_secs(2));
    let report = run.report();
    assert_eq!(report["outcome"], "timeout");
    assert_eq!(report["status"], "RUNNING");
    assert_eq!(report["end_time"], Value::Null);
    assert_eq!(report["duration_ms"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_does_not_hold_the_process_past_the_deadline() {
    let mut stalled = job("stalled-1", 0);
    stalled.faults = vec![FaultRule::until(u64::MAX, Fault::Stall { ms: None })];
    let sim = sim(vec![stalled]).await;
    let run = wait_on(&sim, &["--timeout", "2s", "stalled-1"]).await;
    assert_eq!(run.code, 3, "{run:#?}");
    assert_ended_by(&run, Duration::from_secs(2));
    let report = run.report();
    assert_eq!(report["outcome"], "timeout");
    assert_eq!(report["status"], Value::Null);
    assert_eq!(report["error"]["code"], "request_timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_exits_4_without_a_retry() {
    let sim = sim(vec![job("swap-1", 0)]).await;
    let env = vec![
        ("HUAWEICLOUD_SDK_AK", sim.scenario().auth.access_key.clone()),
        ("HUAWEICLOUD_SDK_SK", "not-the-secret".to_string()),
    ];
    let mut args = args_for(&sim);
    args.push("swap-1".into());
    let run = dcs_wait(&args, &env).await;
    assert_eq!(run.code, 4, "{run:#?}");
    let report = run.report();
    assert_eq!(report["outcome"], "error");
    assert_eq!(report["polls"], 1);
    assert_eq!(report["error"]["http_status"], 401);
    assert_eq!(report["error"]["code"], "APIGW.0301");
    assert!(report["error"]["request_id"].is_string());
    let stats = sim.stats();
    assert_eq!((stats.requests, stats.rejected), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transient_fault_is_ridden_out() {
    let faults = [
        ("e500", Fault::server_error(500)),
        ("e503", Fault::server_error(503)),
        (
            "html502",
            Fault::Html {
                http_status: 502,
                title: None,
            },
        ),
        ("throttled", Fault::throttled("1")),
        ("stall", Fault::Stall { ms: Some(3000) }),
        ("dropped", Fault::Drop),
        ("malformed", Fault::Malformed),
        ("empty", Fault::Empty),
    ];
    let jobs = faults
        .iter()
        .map(|(id, fault)| {
            let mut j = job(id, 0);
            j.faults = vec![FaultRule::on(&[1, 2], fault.clone())];
            j
        })
        .collect();
    let sim = sim(jobs).await;
    let mut args: Vec<&str> = vec!["--request-timeout", "1s"];
    args.extend(faults.iter().map(|(id, _)| *id));
    let run = wait_on(&sim, &args).await;
    assert_eq!(run.code, 0, "{run:#?}");
    for report in run.reports() {
        let id = report["job_id"].as_str().unwrap();
        assert_eq!(report["outcome"], "success", "{id}: {report}");
        assert_eq!(report["error"], Value::Null, "{id}");
        // Two faulted requests, then the answer.
        assert_eq!(report["polls"], 3, "{id}: {report}");
        assert_eq!(polls(&sim, id), 3, "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    let mut throttled = job("throttled-1", 0);
    throttled.faults = vec![FaultRule::on(&[1], Fault::throttled("2"))];
    let sim = sim(vec![throttled]).await;
    let run = wait_on(&sim, &["throttled-1"]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    let times = &sim.stats().per_job["throttled-1"];
    assert_eq!(times.len(), 2);
    assert!(
        times[1] >= 2000,
        "second request {} ms after the first",
        times[1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_is_believed_for_the_grace_period_only() {
    let mut late = job("late-1", 0);
    late.faults = vec![FaultRule::until(1200, Fault::not_found())];
    let sim = sim(vec![late]).await;
    let run = wait_on(&sim, &["late-1"]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.report()["polls"].as_u64().unwrap() >= 2);

    let run = wait_on(&sim, &["--not-found-grace", "1s", "never-1"]).await;
    assert_eq!(run.code, 4, "{run:#?}");
    let report = run.report();
    assert_eq!(report["outcome"], "error");
    assert_eq!(report["error"]["http_status"], 404);
    // Polls at 0, after the retry backoff (0.5 s to 1 s), and once more right at the end of
    // the grace period: never more, and only two when an answer comes after the grace ended.
    let times = &sim.stats().per_job["never-1"];
    assert!((2..=3).contains(&times.len()), "{times:?}");
    assert_eq!(report["polls"].as_u64().unwrap() as usize, times.len());
    assert!(
        !report["error"]["message"]
            .as_str()
            .unwrap()
            .contains("instance"),
        "{report}"
    );

    // An instance's id given as a job's: the error names the instance commands.
    let uuid = "5560df16-cebf-4473-95c4-d8b0ba1ab0e6";
    let run = wait_on(&sim, &["--not-found-grace", "1s", uuid]).await;
    assert_eq!(run.code, 4, "{run:#?}");
    let says = format!("to wait until the instance is ready, dcs-wait instance {uuid}");
    assert!(
        run.report()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&says),
        "{run:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_status_is_logged_kept_and_waited_past() {
    let mut odd = job("odd-1", 0);
    odd.faults = vec![FaultRule::on(
        &[1],
        Fault::Status {
            status: "PENDING_REVIEW".into(),
        },
    )];
    let mut stuck = job("stuck-1", 0);
    stuck.faults = vec![FaultRule::until(
        u64::MAX,
        Fault::Status {
            status: "PENDING_REVIEW".into(),
        },
    )];
    let sim = sim(vec![odd, stuck]).await;
    let run = wait_on(&sim, &["odd-1"]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr.contains("unknown status \"PENDING_REVIEW\""),
        "{}",
        run.stderr
    );

    let run = wait_on(&sim, &["--timeout", "2s", "stuck-1"]).await;
    assert_eq!(run.code, 3, "{run:#?}");
    assert_eq!(run.report()["status"], "PENDING_REVIEW");
    assert_eq!(
        run.stderr.matches("unknown status").count(),
        1,
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_iam_token_is_sent_instead_of_a_signature() {
    let sim = sim(vec![job("swap-1", 0)]).await;
    let mut args = args_for(&sim);
    args.push("swap-1".into());
    let run = dcs_wait(&args, &token(&sim)).await;
    assert_eq!(run.code, 0, "{run:#?}");

    let run = dcs_wait(&args, &[("DCS_WAIT_AUTH_TOKEN", "expired".to_string())]).await;
    assert_eq!(run.code, 4, "{run:#?}");
    assert_eq!(run.report()["polls"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_credentials_send_a_signed_security_token() {
    let auth = SimAuth {
        security_token: Some("sts-token-value".into()),
        ..SimAuth::default()
    };
    let sim = sim_with_auth(vec![job("swap-1", 0)], auth).await;
    let mut args = args_for(&sim);
    args.push("swap-1".into());
    let mut env = aksk(&sim);
    let run = dcs_wait(&args, &env).await;
    assert_eq!(run.code, 4, "without the token: {run:#?}");
    env.push(("HUAWEICLOUD_SDK_SECURITY_TOKEN", "sts-token-value".into()));
    let run = dcs_wait(&args, &env).await;
    assert_eq!(run.code, 0, "with the token: {run:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_jobs_at_once_one_report_each_and_the_worst_exit_code() {
    let failing = failed_job("fail-1", 200, Some("no"));
    let mut refused = job("bad-1", 0);
    refused.faults = vec![FaultRule::on(
        &[1],
        Fault::Error {
            http_status: 400,
            error_code: Some("111400094".into()),
            error_msg: Some("This job cannot be queried.".into()),
            retry_after: None,
            request_id: None,
        },
    )];
    let sim = sim(vec![job("ok-1", 500), failing, refused]).await;
    let run = wait_on(&sim, &["ok-1", "fail-1", "bad-1"]).await;
    assert_eq!(run.code, 4, "{run:#?}");
    let outcomes: Vec<(String, String)> = run
        .reports()
        .iter()
        .map(|r| {
            (
                r["job_id"].as_str().unwrap().into(),
                r["outcome"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("ok-1", "success"),
            ("fail-1", "failed"),
            ("bad-1", "error")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let run = wait_on(&sim, &["ok-1", "fail-1"]).await;
    assert_eq!(run.code, 1, "{run:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_output_is_one_aligned_line_per_job() {
    let failing = failed_job("fail-1", 100, Some("the reason"));
    let sim = sim(vec![job("a-longer-job-id", 100), failing]).await;
    let mut args = args_for(&sim);
    args.truncate(4); // no --output json
    args.extend(["a-longer-job-id".into(), "fail-1".into()]);
    let run = dcs_wait(&args, &aksk(&sim)).await;
    assert_eq!(run.code, 1, "{run:#?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    let column = |line: &str| line.find("masterStandbySwapJob").unwrap();
    assert_eq!(column(lines[1]), column(lines[2]));
    assert!(lines[2].ends_with("the reason"), "{}", lines[2]);
    assert!(lines[1].contains("0.100s"), "{}", lines[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_any_output_at_the_highest_verbosity() {
    const SK: &str = "sk-VERY-SECRET-0001";
    const STS: &str = "sts-VERY-SECRET-0002";
    const IAM: &str = "iam-VERY-SECRET-0003";
    let auth = SimAuth {
        access_key: "AKLEAKTEST".into(),
        secret_key: SK.into(),
        security_token: Some(STS.into()),
        auth_token: Some(IAM.into()),
    };
    // Every fault dcs-sim injects, each on the first request of its own job (so they run
    // side by side), then the answer; plus a job that does not exist (404, then final).
    let faults = [
        Fault::server_error(500),
        Fault::throttled("1"),
        Fault::Drop,
        Fault::Html {
            http_status: 502,
            title: None,
        },
        Fault::Stall { ms: Some(3_000) },
        Fault::Malformed,
        Fault::Empty,
        Fault::Status {
            status: "WEIRD".into(),
        },
        Fault::Oversized { bytes: 2 << 20 },
        Fault::Trickle { ms: 100 },
        Fault::OtherJob,
        Fault::Redirect {
            location: "http://127.0.0.1:9/elsewhere".into(),
        },
        Fault::Error {
            http_status: 403,
            error_code: Some("DCS.4403".into()),
            error_msg: Some("Forbidden.".into()),
            retry_after: None,
            request_id: None,
        },
    ];
    let jobs: Vec<_> = faults
        .iter()
        .enumerate()
        .map(|(i, fault)| {
            let mut faulty = job(&format!("fault-{i}"), 0);
            faulty.faults = vec![FaultRule::on(&[1], fault.clone())];
            faulty
        })
        .collect();
    let aksk_env = |sk: &str| {
        vec![
            ("HUAWEICLOUD_SDK_AK", "AKLEAKTEST".to_string()),
            ("HUAWEICLOUD_SDK_SK", sk.to_string()),
            ("HUAWEICLOUD_SDK_SECURITY_TOKEN", STS.to_string()),
            trace(),
        ]
    };
    let credentials = [
        aksk_env(SK),
        // A wrong secret that is still a secret: refused, and never printed.
        aksk_env("sk-VERY-SECRET-wrong"),
        vec![("DCS_WAIT_AUTH_TOKEN", IAM.to_string()), trace()],
        vec![
            ("DCS_WAIT_AUTH_TOKEN", "iam-VERY-SECRET-wrong".to_string()),
            trace(),
        ],
    ];
    for (n, env) in credentials.iter().enumerate() {
        // A fresh endpoint each time, so that every run meets every fault.
        let sim = sim_with_auth(jobs.clone(), auth.clone()).await;
        let mut args = args_for(&sim);
        args.extend(
            ["-vv", "--request-timeout", "1s", "--not-found-grace", "1s"].map(String::from),
        );
        args.extend(jobs.iter().map(|j| j.job_id.clone()));
        args.push("missing-1".into());
        let run = dcs_wait(&args, env).await;
        assert_eq!(run.code, 4, "{run:#?}");
        if n % 2 == 0 {
            // The right credentials: every fault was met and logged.
            for said in [
                "HTTP 500",
                "body_too_large",
                "request_timeout",
                "job_id_mismatch",
            ] {
                assert!(run.stderr.contains(said), "{said}: {}", run.stderr);
            }
        }
        assert_no_secret(&run);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_and_sigterm_report_every_job_interrupted() {
    let jobs = ["int-1", "int-2", "term-1", "term-2"];
    let sim = sim(jobs.iter().map(|id| job(id, 600_000)).collect()).await;
    for (signal, code, ids) in [("INT", 130, &jobs[..2]), ("TERM", 143, &jobs[2..])] {
        let mut args = args_for(&sim);
        args.extend(ids.iter().map(|id| id.to_string()));
        let started = std::time::Instant::now();
        let child = spawn_dcs_wait(&args, &aksk(&sim));
        let pid = child.id().expect("running").to_string();
        // Signal once the waits are under way: every job has been polled.
        let mut tries = 0;
        while ids.iter().any(|id| polls(&sim, id) == 0) {
            tries += 1;
            assert!(tries < 400, "dcs-wait never polled");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let killed = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let run = finish(child, started).await;
        assert_eq!(run.code, code, "SIG{signal}: {run:#?}");
        let reports = run.reports();
        assert_eq!(reports.len(), 2, "{run:#?}");
        for report in reports {
            assert_eq!(report["outcome"], "interrupted");
            assert_eq!(report["status"], "RUNNING");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_and_checks_itself() {
    let run = dcs_wait(&["--demo", "--output", "json"], &[]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    let outcomes: Vec<Value> = run.reports().iter().map(|r| r["outcome"].clone()).collect();
    assert_eq!(
        outcomes,
        ["success", "failed", "success", "success", "success", "success", "success"]
    );
    // The fourth is the demo's swap: started once, after one busy answer.
    let swap = &run.reports()[3];
    assert!(
        swap["instance_id"].is_string() && swap["job_id"].is_string(),
        "{swap}"
    );
    assert!(
        run.stderr
            .contains("the swap was sent 2 times and started 1"),
        "{}",
        run.stderr
    );
    // Then a backup and a restore, each started once, named by their records' ids.
    let (backup, restore) = (&run.reports()[4], &run.reports()[5]);
    assert!(
        backup["backup_id"].is_string() && backup["started"] == true,
        "{backup}"
    );
    assert_eq!(backup["status"], "succeed");
    assert!(
        restore["restore_id"].is_string() && restore["started"] == true,
        "{restore}"
    );
    // Last, an instance resized elsewhere, ready once its task is done: the task counted.
    let ready = &run.reports()[6];
    assert_eq!(ready["status"], "RUNNING", "{ready}");
    assert_eq!(ready["tasks"][0]["name"], "EXTEND", "{ready}");
    assert!(
        ready["duration_ms"].as_u64().is_some_and(|ms| ms > 0),
        "{ready}"
    );
    assert!(
        run.stderr
            .contains("1 backup and 1 restore started, each once"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("every outcome matched its script"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dcs_sim_binary_serves_its_scenario() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_dcs-sim"))
        .args(["--listen", "127.0.0.1:0"])
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("dcs-sim starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines
        .next_line()
        .await
        .unwrap()
        .expect("dcs-sim prints its address");
    let url = first
        .strip_prefix("dcs-sim listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    // Then what a newcomer copies: the settings, and a command for each scripted job.
    let mut banner = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        let end = line.starts_with("Or authenticate");
        banner.push(line);
        if end {
            break;
        }
    }
    let env: Vec<(&str, String)> = banner
        .iter()
        .flat_map(|l| l.split_whitespace())
        .filter_map(|word| word.split_once('='))
        .filter(|(k, _)| k.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    assert_eq!(env.len(), 4, "{banner:#?}");
    let demo = dcs_wait::sim::Scenario::demo();
    let failing = &demo.jobs[1];
    let command = banner
        .iter()
        .find(|l| l.contains(&failing.job_id))
        .unwrap_or_else(|| panic!("no command for {}: {banner:#?}", failing.job_id));
    let mut args: Vec<&str> = command
        .split('#')
        .next()
        .unwrap()
        .split_whitespace()
        .skip(1)
        .collect();
    args.extend(["--output", "json"]);
    let run = dcs_wait(&args, &env).await;
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(
        run.report()["fail_reason"],
        failing.fail_reason.clone().unwrap()
    );
    let stats: Value = reqwest_free_get(&url, dcs_wait::sim::STATS_PATH).await;
    assert!(stats["requests"].as_u64().unwrap() >= 2, "{stats}");
    child.kill().await.unwrap();
}

/// A GET without a client library: the stats route needs no signature.
async fn reqwest_free_get(base: &str, path: &str) -> Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let body = answer.split("\r\n\r\n").nth(1).unwrap();
    serde_json::from_str(body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_ids_come_from_stdin_in_every_form() {
    let sim = sim(vec![job("swap-1", 0), job("swap-2", 0), job("swap-3", 0)]).await;
    let mut args = args_for(&sim);
    args.extend(["-".to_string(), "swap-3".to_string()]);
    for input in [
        &b"swap-1 swap-2\n"[..],
        b"{\"job_id\": \"swap-1\"}\n{\"job_id\": \"swap-2\"}\n",
        b"[{\"job_id\": \"swap-1\"}, {\"job_id\": \"swap-2\"}]",
        b"{\"jobs\": [{\"job_id\": \"swap-1\"}, {\"job_id\": \"swap-2\"}]}",
    ] {
        let run = dcs_wait_with_stdin(&args, &aksk(&sim), input).await;
        assert_eq!(run.code, 0, "{run:#?}");
        let ids: Vec<String> = run
            .reports()
            .iter()
            .map(|r| r["job_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, ["swap-1", "swap-2", "swap-3"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_fast_stops_waiting_at_the_first_failure() {
    let failing = failed_job("fail-1", 300, None);
    let sim = sim(vec![failing, job("long-1", 600_000)]).await;
    let run = wait_on(&sim, &["--fail-fast", "fail-1", "long-1"]).await;
    assert_eq!(run.code, 1, "{run:#?}");
    assert_ended_by(&run, Duration::from_secs(3));
    let reports = run.reports();
    assert_eq!(reports[0]["outcome"], "failed");
    assert_eq!(reports[1]["outcome"], "interrupted");
    assert_eq!(reports[1]["status"], "RUNNING");
    assert_eq!(reports[1]["error"]["code"], "fail_fast");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_and_github_reports_are_written() {
    let failing = failed_job("fail-1", 200, Some("no <space> & no luck"));
    let sim = sim(vec![job("ok-1", 300), failing]).await;
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("dcs-wait.xml");
    let summary = dir.path().join("summary.md");
    let output = dir.path().join("output");
    let mut args = args_for(&sim);
    args.extend([
        "--junit".into(),
        junit.display().to_string(),
        "ok-1".into(),
        "fail-1".into(),
    ]);
    let mut env = aksk(&sim);
    env.push(("GITHUB_STEP_SUMMARY", summary.display().to_string()));
    env.push(("GITHUB_OUTPUT", output.display().to_string()));
    let run = dcs_wait(&args, &env).await;
    assert_eq!(run.code, 1, "{run:#?}");

    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("valid XML");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0].attribute("time"), Some("0.300"));
    let failure = cases[1]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure");
    assert_eq!(failure.attribute("message"), Some("no <space> & no luck"));

    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        // Shown as text, not read as a tag.
        summary.contains("| `fail-1` |") && summary.contains("no &lt;space&gt; &amp; no luck"),
        "{summary}"
    );
    let output = std::fs::read_to_string(&output).unwrap();
    assert_eq!(
        output,
        "outcome=failed\nduration_ms=300\nexit_code=1\njob_id=ok-1 fail-1\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_jobs_share_one_request_budget() {
    let ids: Vec<String> = (0..20).map(|i| format!("long-{i}")).collect();
    let sim = sim(ids.iter().map(|id| job(id, 600_000)).collect()).await;
    let mut args: Vec<&str> = vec!["--max-rps", "4", "--timeout", "3s"];
    args.extend(ids.iter().map(String::as_str));
    let run = wait_on(&sim, &args).await;
    assert_eq!(run.code, 3, "{run:#?}");
    // A burst of 4, then 4 a second for under 3 s. Unlimited, 20 jobs make 60 requests in
    // that time (polls at 0, 1 and 2.5 s).
    let requests = sim.stats().requests;
    assert!(requests <= 4 + 4 * 3, "{requests} requests");
    let polled: u64 = run
        .reports()
        .iter()
        .map(|r| r["polls"].as_u64().unwrap())
        .sum();
    assert_eq!(polled, requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_a_terminal_progress_is_plain_log_lines_and_a_heartbeat() {
    let mut slow = job("slow-1", 3_500);
    slow.start_delay_ms = 300;
    let sim = sim(vec![slow]).await;
    let run = wait_on(&sim, &["--heartbeat", "1s", "slow-1"]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    let beats = run
        .stderr
        .matches("still waiting for 1 of 1 jobs after")
        .count();
    assert!(beats >= 2, "{}", run.stderr);
    for change in ["slow-1: INIT", "slow-1: RUNNING", "slow-1: SUCCESS"] {
        assert_eq!(
            run.stderr.matches(change).count(),
            1,
            "{change}: {}",
            run.stderr
        );
    }
    assert!(
        !run.stderr.contains('\u{1b}'),
        "no escape codes off a terminal"
    );
}

/// Poll times the schedule predicts for a job of `duration` (seconds), delays shortened by
/// `jitter` (0: none, 0.1: the most the default shortens): how many polls see it finished.
fn predicted_polls(duration: f64, job_type: &str, jitter: f64) -> usize {
    use dcs_wait::Schedule;
    let schedule = Schedule::default();
    let (mut at, mut polls) = (0.0f64, 1);
    while at < duration {
        let age = Duration::from_secs_f64(at);
        let window = dcs_wait::prior(job_type);
        let nominal = schedule.nominal(age, window).as_secs_f64();
        let windowed = window.is_some_and(|w| age < w.closes);
        at += if windowed {
            nominal
        } else {
            nominal * (1.0 - jitter)
        };
        polls += 1;
    }
    polls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_real_time_the_polls_are_the_ones_the_schedule_predicts() {
    // Swaps of about 1, 3, 7 and 15 s, each ending mid-way between two polls, so that the
    // count does not hang on a few milliseconds of a busy machine.
    let durations_ms = [1_000u64, 2_900, 6_900, 15_000];
    let jobs = durations_ms
        .iter()
        .map(|&ms| job(&format!("swap-{ms}"), ms))
        .collect();
    let sim = sim(jobs).await;
    let mut args: Vec<String> = durations_ms.iter().map(|ms| format!("swap-{ms}")).collect();
    args.insert(0, "--max-rps".into());
    args.insert(1, "0".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = wait_on(&sim, &args).await;
    assert_eq!(run.code, 0, "{run:#?}");
    for ms in durations_ms {
        let duration = ms as f64 / 1000.0;
        let predicted = predicted_polls(duration, "masterStandbySwapJob", 0.0);
        assert_eq!(
            predicted,
            predicted_polls(duration, "masterStandbySwapJob", 0.1),
            "{ms} ms ends too near a poll for a stable count"
        );
        let id = format!("swap-{ms}");
        assert_eq!(
            polls(&sim, &id),
            predicted,
            "{id}: {:?}",
            sim.stats().per_job[&id]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durations_are_remembered_in_a_history_that_never_fails_a_wait() {
    let mut backup = job("bk-1", 300);
    backup.job_type = "backupDCSInstance".into();
    let mut failing = failed_job("bk-2", 100, None);
    failing.job_type = "backupDCSInstance".into();
    let sim = sim(vec![backup, failing]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cache").join("history.json");
    let mut env = aksk(&sim);
    env.push(("DCS_WAIT_NO_HISTORY", "false".into()));
    env.push(("DCS_WAIT_HISTORY_FILE", file.display().to_string()));

    let run = wait_on_with(&sim, &["bk-1", "bk-2"], &env).await;
    assert_eq!(run.code, 1, "{run:#?}");
    let written: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    // Only the success is remembered: a failure's duration says nothing of the usual one.
    assert_eq!(
        written,
        serde_json::json!({"types": {"backupDCSInstance": [300]}})
    );

    std::fs::write(&file, "{ corrupt").unwrap();
    let run = wait_on_with(&sim, &["bk-1"], &env).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stderr.contains("is corrupt"), "{}", run.stderr);

    std::fs::write(&file, "untouched").unwrap();
    let run = wait_on_with(&sim, &["--no-history", "bk-1"], &env).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_json_lines_when_asked_and_keep_full_timestamps_in_a_ci_log() {
    let sim = sim(vec![failed_job("fail-1", 200, Some("no luck"))]).await;
    let json = wait_on(&sim, &["--log-format", "json", "-v", "fail-1"]).await;
    assert_eq!(json.code, 1, "{json:#?}");
    let lines: Vec<Value> = json
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines.len() >= 2, "{json:#?}");
    assert!(lines
        .iter()
        .any(|l| l["level"] == "ERROR" && l["fields"]["message"] == "fail-1: FAIL"));
    assert!(lines
        .iter()
        .all(|l| l["timestamp"].as_str().is_some_and(|t| t.ends_with('Z'))));

    // Off a terminal (this pipe), text lines carry the full UTC time.
    let text = wait_on(&sim, &["fail-1"]).await;
    let line = text
        .stderr
        .lines()
        .find(|l| l.contains("fail-1: FAIL"))
        .unwrap();
    assert!(
        line.starts_with("20") && line.contains('T') && line.contains("Z "),
        "{line}"
    );
}

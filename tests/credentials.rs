//! Where credentials, project ids and connections come from, each source tested over
//! loopback with the real binary: environment, profile file, instance metadata (and its
//! refresh), their order, IAM project look-up, clock-skew correction, proxies.

mod common;

use common::*;
use dcs_wait::sim::{Scenario, SimMetadata, SimProject};
use std::time::Duration;

/// The arguments for `sim` without `--project-id`.
fn args_without_project(sim: &dcs_wait::sim::SimServer, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--endpoint".to_string(),
        sim.url(),
        "--output".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn profile(dir: &tempfile::TempDir, text: &str) -> String {
    profile_named(dir, "credentials", text)
}

fn profile_named(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn with_metadata(metadata: SimMetadata) -> Scenario {
    Scenario {
        metadata: Some(metadata),
        ..scenario(vec![job("swap-1", 300)])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_file_alone_with_its_project_id() {
    let sim = sim(vec![job("swap-1", 300)]).await;
    let dir = tempfile::tempdir().unwrap();
    let auth = &sim.scenario().auth;
    let path = profile(
        &dir,
        &format!(
            "[basic]\nak = {}\nsk = {}\nproject_id = {PROJECT}\n",
            auth.access_key, auth.secret_key
        ),
    );
    let args = args_without_project(&sim, &["-v", "swap-1"]);
    let run = dcs_wait(&args, &[("HUAWEICLOUD_SDK_CREDENTIALS_FILE", path.clone())]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr
            .contains(&format!("from the profile file {path}")),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(&auth.secret_key));

    // The same file where the SDKs look by default: ~/.huaweicloud/credentials.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".huaweicloud")).unwrap();
    std::fs::copy(&path, home.path().join(".huaweicloud/credentials")).unwrap();
    let run = dcs_wait(&args, &[("HOME", home.path().display().to_string())]).await;
    assert_eq!(run.code, 0, "{run:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_profile_exits_2_naming_the_file_and_sends_nothing() {
    let sim = sim(vec![job("swap-1", 0)]).await;
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            profile_named(&dir, "bad-ini", "[basic\nak = x\n"),
            "is not valid INI",
        ),
        (
            profile_named(&dir, "half", "[basic]\nak = an-ak\n"),
            "has `ak` in [basic] but not `sk`",
        ),
        (
            dir.path().display().to_string(),
            "cannot read the credentials file",
        ),
    ];
    for (path, says) in cases {
        let args = args_without_project(&sim, &["--project-id", PROJECT, "swap-1"]);
        let run = dcs_wait(&args, &[("HUAWEICLOUD_SDK_CREDENTIALS_FILE", path.clone())]).await;
        assert_eq!(run.code, 2, "{run:#?}");
        assert!(
            run.stderr.contains(says) && run.stderr.contains(&path),
            "{}",
            run.stderr
        );
    }
    assert_eq!(sim.stats().requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_metadata_alone_with_and_without_session_tokens() {
    for session_tokens in [true, false] {
        let sim = start(with_metadata(SimMetadata {
            session_tokens,
            ..SimMetadata::default()
        }))
        .await;
        let args = args_without_project(&sim, &["--project-id", PROJECT, "-v", "swap-1"]);
        let run = dcs_wait(&args, &[("DCS_WAIT_METADATA_ENDPOINT", sim.url())]).await;
        assert_eq!(run.code, 0, "session tokens {session_tokens}: {run:#?}");
        assert!(
            run.stderr.contains("from instance metadata at"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("tmp-secret-key"), "{}", run.stderr);
        let stats = sim.stats();
        assert_eq!(stats.metadata_issued, 1);
        assert_eq!(stats.metadata_requests, 2, "token step, then the key");
        assert_eq!(stats.rejected, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_are_asked_in_the_sdk_order() {
    let sim = start(with_metadata(SimMetadata::default())).await;
    let auth = sim.scenario().auth.clone();
    let dir = tempfile::tempdir().unwrap();
    let good_profile = profile(
        &dir,
        &format!(
            "[basic]\nak = {}\nsk = {}\n",
            auth.access_key, auth.secret_key
        ),
    );
    let args = args_without_project(&sim, &["--project-id", PROJECT, "swap-1"]);
    let metadata = ("DCS_WAIT_METADATA_ENDPOINT", sim.url());
    let file = ("HUAWEICLOUD_SDK_CREDENTIALS_FILE", good_profile.clone());

    // The environment before the profile: a wrong secret there is used, and refused.
    let mut env = vec![
        metadata.clone(),
        file.clone(),
        ("HUAWEICLOUD_SDK_AK", auth.access_key.clone()),
        ("HUAWEICLOUD_SDK_SK", "wrong".to_string()),
    ];
    assert_eq!(dcs_wait(&args, &env).await.code, 4);
    // An IAM token before AK/SK.
    env.push(("DCS_WAIT_AUTH_TOKEN", auth.auth_token.clone().unwrap()));
    assert_eq!(dcs_wait(&args, &env).await.code, 0);
    // The profile before instance metadata.
    let run = dcs_wait(&args, &[metadata.clone(), file]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(sim.stats().metadata_requests, 0);
    // Metadata last.
    let run = dcs_wait(&args, &[metadata]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(sim.stats().metadata_issued, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiring_metadata_credentials_are_refreshed_during_a_wait() {
    // Each credential claims 40 min + 2 s of life, so it is due for refresh 2 s after issue;
    // dcs-sim stops accepting it after 9 s. A 14 s job needs at least two refreshes.
    // At the highest verbosity, with secrets that must not show.
    let mut scenario = with_metadata(SimMetadata {
        lifetime_secs: 40 * 60 + 2,
        honoured_ms: Some(9_000),
        secret_key_prefix: "md-VERY-SECRET-sk-".into(),
        security_token_prefix: "md-VERY-SECRET-sts-".into(),
        ..SimMetadata::default()
    });
    scenario.jobs = vec![job("resize-1", 14_000)];
    let sim = start(scenario).await;
    let args = args_without_project(&sim, &["--project-id", PROJECT, "-vv", "resize-1"]);
    let run = dcs_wait(&args, &[("DCS_WAIT_METADATA_ENDPOINT", sim.url()), trace()]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert_no_secret(&run);
    let stats = sim.stats();
    assert!(stats.metadata_issued >= 3, "{stats:?}");
    assert_eq!(
        stats.rejected, 0,
        "a request went out with stale credentials"
    );
    assert!(
        run.stderr.contains("credentials refreshed"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metadata_endpoint_that_never_answers_fails_fast_once() {
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let sim = sim(vec![job("swap-1", 0)]).await;
    let args = args_without_project(&sim, &["--project-id", PROJECT, "swap-1"]);
    let run = dcs_wait(&args, &[("DCS_WAIT_METADATA_ENDPOINT", silent_url)]).await;
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("did not answer"), "{}", run.stderr);
    // One metadata timeout (3 s), not one per anything.
    assert!(
        run.elapsed < Duration::from_secs(3) + SLACK,
        "{:?}",
        run.elapsed
    );
    assert_eq!(sim.stats().requests, 0);

    // Nothing listening at all: refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let run = dcs_wait(&args, &[("DCS_WAIT_METADATA_ENDPOINT", closed_url)]).await;
    assert_eq!(run.code, 2, "{run:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skewed_clock_is_corrected_once_and_for_all() {
    // The server's clock is half an hour ahead: every X-Sdk-Date of ours looks half an hour
    // old. Three jobs are refused at once; one learns the correction, all three try again.
    // At the highest verbosity, with a secret that must not show.
    let ids = ["swap-1", "swap-2", "swap-3"];
    let mut skewed = Scenario {
        clock_offset_secs: 1800,
        ..scenario(ids.iter().map(|id| job(id, 1500)).collect())
    };
    skewed.auth.secret_key = "sk-VERY-SECRET-skew".into();
    let sim = start(skewed).await;
    let mut args = args_for(&sim);
    args.push("-vv".into());
    args.extend(ids.iter().map(|id| id.to_string()));
    let mut env = aksk(&sim);
    env.push(trace());
    let run = dcs_wait(&args, &env).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert_no_secret(&run);
    let said: i64 = run
        .stderr
        .split("its clock is ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no skew message: {}", run.stderr));
    assert!((1790..=1810).contains(&said), "{said}");
    let stats = sim.stats();
    assert!(
        (1..=3).contains(&stats.rejected),
        "refused at first only, then corrected for good: {stats:?}"
    );
    for report in run.reports() {
        assert_eq!(report["duration_ms"], 1500);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_clock_a_day_away_is_not_believed_and_nothing_is_resent() {
    // A day ahead: whoever answers would have us sign for tomorrow, a request to replay then.
    for command in [&["swap-1"][..], &["swap", "inst-1"]] {
        let sim = start(Scenario {
            clock_offset_secs: 24 * 3600,
            instances: vec![dcs_wait::sim::SimInstance::new("inst-1", 0)],
            ..scenario(vec![job("swap-1", 0)])
        })
        .await;
        let mut args = args_for(&sim);
        args.extend(command.iter().map(|s| s.to_string()));
        let run = dcs_wait(&args, &aksk(&sim)).await;
        assert_eq!(run.code, 4, "{run:#?}");
        let report = run.report();
        assert_eq!(report["error"]["code"], "clock_skew", "{run:#?}");
        assert_eq!(report["error"]["http_status"], 401);
        let message = report["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("Set this machine's clock right"),
            "{message}"
        );
        assert!(
            message.contains("ahead of this machine's clock"),
            "{message}"
        );
        let stats = sim.stats();
        assert_eq!((stats.requests, stats.rejected), (1, 1), "{stats:?}");
        assert_ended_by(&run, Duration::from_secs(2));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_project_id_is_looked_up_at_iam() {
    let projects = |names: &[&str]| {
        names
            .iter()
            .enumerate()
            .map(|(i, name)| SimProject {
                id: if i == 0 {
                    PROJECT.into()
                } else {
                    format!("other{i}")
                },
                name: name.to_string(),
            })
            .collect::<Vec<_>>()
    };
    for (names, code, says) in [
        (&["sim-region-1", "sim-region-2"][..], 0, ""),
        (
            &["sim-region-2"][..],
            2,
            "knows 0 projects named sim-region-1",
        ),
        (
            &["sim-region-1", "sim-region-1"][..],
            2,
            "knows 2 projects named sim-region-1",
        ),
    ] {
        let sim = start(Scenario {
            iam_projects: projects(names),
            ..scenario(vec![job("swap-1", 0)])
        })
        .await;
        let args = args_without_project(&sim, &["--region", "sim-region-1", "-v", "swap-1"]);
        let mut env = aksk(&sim);
        env.push(("HUAWEICLOUD_SDK_IAM_ENDPOINT", sim.url()));
        let run = dcs_wait(&args, &env).await;
        assert_eq!(run.code, code, "{names:?}: {run:#?}");
        assert!(run.stderr.contains(says), "{}", run.stderr);
        assert_eq!(sim.stats().iam_requests, 1);
        if code == 0 {
            assert!(run
                .stderr
                .contains(&format!("project id {PROJECT}, from IAM")));
        } else {
            assert_eq!(polls(&sim, "swap-1"), 0);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_iam_refusal_is_reported_for_every_job_with_exit_4() {
    let sim = sim(vec![job("swap-1", 0)]).await;
    let args = args_without_project(&sim, &["--region", "sim-region-1", "swap-1", "swap-2"]);
    let env = vec![
        ("HUAWEICLOUD_SDK_AK", sim.scenario().auth.access_key.clone()),
        ("HUAWEICLOUD_SDK_SK", "wrong".to_string()),
        ("HUAWEICLOUD_SDK_IAM_ENDPOINT", sim.url()),
    ];
    let run = dcs_wait(&args, &env).await;
    assert_eq!(run.code, 4, "{run:#?}");
    let reports = run.reports();
    assert_eq!(reports.len(), 2);
    for report in reports {
        assert_eq!(report["outcome"], "error");
        assert_eq!(report["polls"], 0);
        assert_eq!(report["error"]["http_status"], 401);
    }
    assert_eq!(sim.stats().iam_requests, 1, "a refusal is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_loopback_endpoint_is_never_reached_through_a_proxy() {
    // Plain HTTP through a proxy would hand it the token or the signature in the clear.
    let proxy = Proxy::start().await;
    let sim = start(Scenario {
        iam_projects: vec![SimProject {
            id: PROJECT.into(),
            name: "sim-region-1".into(),
        }],
        ..scenario(vec![job("swap-1", 300)])
    })
    .await;
    let proxies =
        ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"].map(|v| (v, proxy.url.clone()));
    for (run_number, credentials) in [aksk(&sim), token(&sim)].into_iter().enumerate() {
        // The DCS endpoint, and IAM's (the project id looked up), both plain loopback HTTP.
        let args = args_without_project(&sim, &["--region", "sim-region-1", "swap-1"]);
        let mut env = credentials;
        env.extend(proxies.clone());
        env.push(("HUAWEICLOUD_SDK_IAM_ENDPOINT", sim.url()));
        let run = dcs_wait(&args, &env).await;
        assert_eq!(run.code, 0, "{run:#?}");
        assert_eq!(sim.stats().iam_requests, run_number as u64 + 1);
    }
    assert_eq!(proxy.accepted(), 0, "a request reached the proxy");

    // The proxy is real: an https:// endpoint is taken to it.
    let endpoint = sim.url().replace("http://", "https://");
    let mut args = vec!["--endpoint".to_string(), endpoint];
    args.extend(
        [
            "--project-id",
            PROJECT,
            "--unreachable-grace",
            "1s",
            "swap-1",
        ]
        .map(String::from),
    );
    let mut env = aksk(&sim);
    env.extend(proxies);
    let run = dcs_wait(&args, &env).await;
    assert_eq!(run.code, 4, "{run:#?}");
    assert!(proxy.accepted() >= 1, "the proxy saw nothing");
}

/// A forward proxy for plain HTTP: reads the request head to learn the target, then relays
/// bytes both ways. Counts the connections it accepted, whatever they asked.
struct Proxy {
    url: String,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Proxy {
    async fn start() -> Proxy {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut head = vec![0u8; 8192];
                    let n = client.read(&mut head).await.unwrap_or(0);
                    let text = String::from_utf8_lossy(&head[..n]).to_string();
                    // "GET http://127.0.0.1:PORT/path HTTP/1.1"
                    let Some(target) = text
                        .split_whitespace()
                        .nth(1)
                        .and_then(|uri| uri.strip_prefix("http://"))
                        .and_then(|rest| rest.split('/').next())
                        .map(str::to_string)
                    else {
                        return;
                    };
                    let Ok(mut upstream) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    if upstream.write_all(&head[..n]).await.is_ok() {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        });
        Proxy { url, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_refused_unless_its_ca_is_given() {
    let identity = dcs_wait::sim::TlsIdentity::self_signed(&["127.0.0.1", "localhost"]).unwrap();
    let sim = dcs_wait::sim::SimServer::start_with_tls(
        scenario(vec![job("swap-1", 300)]),
        "127.0.0.1:0".parse().unwrap(),
        Some(&identity),
    )
    .await
    .unwrap();
    assert!(sim.url().starts_with("https://127.0.0.1:"));
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &identity.cert_pem).unwrap();
    let ca = ca.display().to_string();
    let mut args = args_for(&sim);
    args.push("swap-1".into());

    let run = dcs_wait(&args, &aksk(&sim)).await;
    assert_eq!(run.code, 4, "refused, and not retried: {run:#?}");
    let report = run.report();
    assert_eq!(report["error"]["code"], "tls");
    assert_eq!(report["polls"], 1);
    assert!(report["error"]["message"]
        .as_str()
        .unwrap()
        .contains("--ca-bundle"));
    assert_eq!(sim.stats().requests, 0);

    let mut with_flag = args.clone();
    with_flag.extend(["--ca-bundle".to_string(), ca.clone()]);
    let run = dcs_wait(&with_flag, &aksk(&sim)).await;
    assert_eq!(run.code, 0, "{run:#?}");

    let mut env = aksk(&sim);
    env.push(("SSL_CERT_FILE", ca));
    let run = dcs_wait(&args, &env).await;
    assert_eq!(run.code, 0, "{run:#?}");

    let mut bad = args.clone();
    bad.extend(["--ca-bundle".to_string(), "/nonexistent/ca.pem".to_string()]);
    let run = dcs_wait(&bad, &aksk(&sim)).await;
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run
        .stderr
        .contains("cannot read the CA bundle /nonexistent/ca.pem"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_of_a_profile_or_of_metadata_appears_at_the_highest_verbosity() {
    let mut scenario = with_metadata(SimMetadata {
        secret_key_prefix: "md-VERY-SECRET-sk-".into(),
        security_token_prefix: "md-VERY-SECRET-sts-".into(),
        ..SimMetadata::default()
    });
    scenario.auth.secret_key = "profile-VERY-SECRET-sk".into();
    scenario.iam_projects = vec![SimProject {
        id: PROJECT.into(),
        name: "sim-region-1".into(),
    }];
    // One job per run: a fault on a job's first request happens once in dcs-sim's life.
    scenario.jobs = ["flaky-1", "flaky-2"]
        .map(|id| {
            let mut flaky = job(id, 0);
            flaky.faults = vec![dcs_wait::sim::FaultRule::on(
                &[1],
                dcs_wait::sim::Fault::server_error(503),
            )];
            flaky
        })
        .to_vec();
    let sim = start(scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let profile_path = profile(
        &dir,
        &format!(
            "[basic]\nak = {}\nsk = profile-VERY-SECRET-sk\n",
            sim.scenario().auth.access_key
        ),
    );
    // The project id comes from IAM, so that request is logged too.
    let args = |job: &str| args_without_project(&sim, &["-vv", "--region", "sim-region-1", job]);
    let trace = trace();
    let iam = ("HUAWEICLOUD_SDK_IAM_ENDPOINT", sim.url());
    let from_profile = ("HUAWEICLOUD_SDK_CREDENTIALS_FILE", profile_path);
    let from_metadata = ("DCS_WAIT_METADATA_ENDPOINT", sim.url());
    let runs = [
        dcs_wait(
            &args("flaky-1"),
            &[trace.clone(), iam.clone(), from_profile],
        )
        .await,
        dcs_wait(&args("flaky-2"), &[trace, iam, from_metadata]).await,
    ];
    for run in &runs {
        assert_eq!(run.code, 0, "{run:#?}");
        assert!(
            run.stderr.contains("HTTP 503"),
            "trace logging ran: {}",
            run.stderr
        );
        assert_no_secret(run);
    }
    assert_eq!(sim.stats().metadata_issued, 1);

    // Profiles that cannot be used, with a secret in them: the error names the file and
    // the line, never a value.
    for text in [
        "[basic]\nsk = profile-VERY-SECRET-sk\n",
        "[basic\nak = AK\nsk = profile-VERY-SECRET-sk\n",
    ] {
        let path = profile_named(&dir, "broken", text);
        let run = dcs_wait(
            &args("flaky-1"),
            &[common::trace(), ("HUAWEICLOUD_SDK_CREDENTIALS_FILE", path)],
        )
        .await;
        assert_eq!(run.code, 2, "{run:#?}");
        assert!(run.stderr.contains("broken"), "{}", run.stderr);
        assert_no_secret(&run);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_no_header_can_carry_is_refused_before_any_request() {
    // Sent, the header would be dropped and the request go out unauthenticated.
    let sim = sim(vec![job("swap-1", 0)]).await;
    let mut args = args_for(&sim);
    args.push("swap-1".into());
    let keys = aksk(&sim);
    let dir = tempfile::tempdir().unwrap();
    let file = profile(&dir, "[basic]\nak = AK\u{7f}x\nsk = sk-VERY-SECRET\n");
    for (env, name, says) in [
        (
            vec![(
                "DCS_WAIT_AUTH_TOKEN",
                "tok-VERY-SECRET\u{1b}[2J".to_string(),
            )],
            "DCS_WAIT_AUTH_TOKEN".to_string(),
            "a control character at character 16",
        ),
        (
            vec![
                ("HUAWEICLOUD_SDK_AK", "AK\u{1}x".to_string()),
                keys[1].clone(),
            ],
            "HUAWEICLOUD_SDK_AK".to_string(),
            "a control character at character 3",
        ),
        (
            vec![
                keys[0].clone(),
                keys[1].clone(),
                (
                    "HUAWEICLOUD_SDK_SECURITY_TOKEN",
                    "sts-VERY-SECRETé".to_string(),
                ),
            ],
            "HUAWEICLOUD_SDK_SECURITY_TOKEN".to_string(),
            "a character outside ASCII at character 16",
        ),
        (
            vec![("HUAWEICLOUD_SDK_CREDENTIALS_FILE", file.clone())],
            format!("ak in {file}"),
            "a control character at character 3",
        ),
    ] {
        let run = dcs_wait(&args, &env).await;
        assert_eq!(run.code, 2, "{run:#?}");
        assert!(
            run.stderr.contains(&format!("{name} holds {says}")),
            "{run:#?}"
        );
        assert!(!run.stderr.contains("VERY-SECRET"), "{run:#?}");
        assert!(!run.stderr.contains('\u{1b}'), "{run:#?}");
    }
    assert_eq!(sim.stats().requests, 0, "a request was sent");
}

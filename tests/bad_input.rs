//! Every mistake a user can make on the command line or in the environment: exit 2, a
//! message that says what to do, and not one request sent.

mod common;

use common::*;

struct Case {
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    /// A phrase of the message that tells the user what to do.
    says: &'static str,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_exits_2_says_what_to_do_and_sends_nothing() {
    let sim = sim(vec![job("swap-1", 0)]).await;
    let with = |extra: &[&str]| {
        let mut args = args_for(&sim);
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let keys = aksk(&sim);
    let cases = vec![
        Case {
            args: with(&["swap/1"]),
            env: keys.clone(),
            says: "is not a DCS job id",
        },
        Case {
            args: with(&["--", "-x;rm"]),
            env: keys.clone(),
            says: "is not a DCS job id",
        },
        Case {
            args: with(&[&"j".repeat(65)]),
            env: keys.clone(),
            says: "1 to 64 letters",
        },
        Case {
            args: with(&["-"]),
            env: keys.clone(),
            says: "stdin, line 1: no job ids",
        },
        Case {
            args: with(&["--timeout", "soon", "swap-1"]),
            env: keys.clone(),
            says: "such as 90s, 5m or 1h30m",
        },
        Case {
            args: with(&["--timeout", "0s", "swap-1"]),
            env: keys.clone(),
            says: "more than zero",
        },
        Case {
            args: with(&["--not-found-grace", "5", "swap-1"]),
            env: keys.clone(),
            says: "such as 90s",
        },
        Case {
            args: vec!["--output".into(), "yaml".into(), "swap-1".into()],
            env: keys.clone(),
            says: "possible values",
        },
        Case {
            args: with(&["swap-1"]),
            env: vec![],
            says: "set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK",
        },
        Case {
            args: with(&["swap-1"]),
            env: vec![("HUAWEICLOUD_SDK_AK", "AK".into())],
            says: "HUAWEICLOUD_SDK_SK is not",
        },
        Case {
            args: vec![
                "--endpoint".into(),
                "http://192.0.2.10:8080".into(),
                "--project-id".into(),
                PROJECT.into(),
                "swap-1".into(),
            ],
            env: keys.clone(),
            says: "use https://",
        },
        Case {
            args: vec![
                "--endpoint".into(),
                "ftp://127.0.0.1".into(),
                "--project-id".into(),
                PROJECT.into(),
                "swap-1".into(),
            ],
            env: keys.clone(),
            says: "scheme must be https://",
        },
        Case {
            args: vec!["--endpoint".into(), sim.url(), "swap-1".into()],
            env: keys.clone(),
            says: "give --project-id",
        },
        Case {
            args: vec!["--project-id".into(), PROJECT.into(), "swap-1".into()],
            env: keys.clone(),
            says: "give --region",
        },
        Case {
            args: vec![
                "--region".into(),
                "cn north".into(),
                "--project-id".into(),
                PROJECT.into(),
                "swap-1".into(),
            ],
            env: keys.clone(),
            says: "such as cn-north-4",
        },
        Case {
            args: vec![],
            env: keys.clone(),
            says: "JOB_ID",
        },
        Case {
            args: with(&["instances", "5560df16-cebf-4473-95c4-d8b0ba1ab0e6"]),
            env: keys.clone(),
            says: "did you mean `dcs-wait instance <INSTANCE_ID>...`?",
        },
        Case {
            args: with(&["swpa", "5560df16-cebf-4473-95c4-d8b0ba1ab0e6"]),
            env: keys.clone(),
            says: "did you mean `dcs-wait swap <INSTANCE_ID>...`?",
        },
        Case {
            args: with(&["wiat", "swap-1"]),
            env: keys.clone(),
            says: "waiting on jobs takes no command",
        },
    ];
    for case in cases {
        let run = dcs_wait(&case.args, &case.env).await;
        assert_eq!(run.code, 2, "{:?}: {run:#?}", case.args);
        assert!(
            run.stderr.contains(case.says),
            "{:?}: {}",
            case.args,
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{:?}: {}", case.args, run.stdout);
    }
    for (input, says) in [
        (
            &b"swap-1\nswap/2\n"[..],
            "stdin, line 2: \"swap/2\" is not a DCS job id",
        ),
        (
            b"{\"job_id\": \"swap-1\"}\n{\"job_id\": ",
            "stdin, line 2: not valid JSON",
        ),
        (b"{\"id\": \"swap-1\"}", "no job_id field"),
    ] {
        let run = dcs_wait_with_stdin(&with(&["-"]), &keys, input).await;
        assert_eq!(run.code, 2, "{run:#?}");
        assert!(run.stderr.contains(says), "{}", run.stderr);
    }
    let mut junit_elsewhere = args_for(&sim);
    junit_elsewhere.extend([
        "--junit".into(),
        "/nonexistent/dir/report.xml".into(),
        "swap-1".into(),
    ]);
    let run = dcs_wait(&junit_elsewhere, &keys).await;
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("its directory does not exist"),
        "{}",
        run.stderr
    );
    assert_eq!(sim.stats().requests, 0, "a bad input sent a request");
}

#[tokio::test]
async fn arguments_quoted_in_a_usage_error_cannot_become_runner_commands() {
    // In CI the arguments may come from anyone (a previous step's output, a PR's title).
    for args in [
        &["--##[error title=x]approved"][..],
        &["##[add-mask]swap-1"],
        &["--timeout", "##[error]x", "swap-1"],
        &["-", "--project-id", "##[group]p"],
        &["##vso[task.setvariable variable=X]y"],
        &[
            "--timeout",
            "##teamcity[setParameter name='x' value='y']",
            "swap-1",
        ],
        &[
            "instance",
            "--since",
            "##VSO[task.complete result=Succeeded]",
            "i-1",
        ],
    ] {
        let run = dcs_wait_with_stdin(args, &[], b"##[endgroup]swap-1").await;
        assert_eq!(run.code, 2, "{run:#?}");
        assert!(!run.stderr.trim().is_empty(), "{run:#?}");
        let found = runner::commands(&run.stderr);
        assert!(found.is_empty(), "{args:?}: {found:#?}");
    }
}

#[tokio::test]
async fn help_and_version_exit_0() {
    for flag in ["--help", "--version"] {
        let run = dcs_wait(&[flag], &[]).await;
        assert_eq!(run.code, 0, "{run:#?}");
        assert!(run.stdout.contains("dcs-wait"));
    }
    let run = dcs_wait(&["--help"], &[]).await;
    for phrase in [
        "Usage: dcs-wait [OPTIONS] <JOB_ID>...\n       dcs-wait swap [OPTIONS] <INSTANCE_ID>...",
        "Examples:\n  dcs-wait --region cn-north-4",
        "Exit codes:",
        "--timeout",
        "--not-found-grace",
        "DCS_WAIT_AUTH_TOKEN",
    ] {
        assert!(run.stdout.contains(phrase), "{phrase}");
    }
    for command in ["swap", "instance"] {
        let run = dcs_wait(&[command, "--help"], &[]).await;
        assert_eq!(run.code, 0, "{run:#?}");
        let usage = format!("Usage: dcs-wait {command} [OPTIONS] <INSTANCE_ID>...");
        assert!(run.stdout.contains(&usage), "{}", run.stdout);
        assert!(run
            .stdout
            .contains(&format!("Examples:\n  dcs-wait {command} ")));
    }
}

/// `--help` groups the options under headings, in short lines with `-h`; it prints no value
/// from the environment; a usage line never shows an option the environment filled as
/// required; an option of another command says whose it is; the commands that wait on other
/// things than jobs say waits.
#[tokio::test]
async fn help_is_grouped_and_tells_nothing_of_the_environment() {
    let env = [
        (
            "SSL_CERT_FILE",
            "/etc/ssl/private-path-of-this-machine.pem".to_string(),
        ),
        (
            "DCS_WAIT_ENDPOINT",
            "https://dcs.secret-region.example".to_string(),
        ),
        (
            "HUAWEICLOUD_SDK_PROJECT_ID",
            "project-of-this-user".to_string(),
        ),
    ];
    for args in [
        &["--help"][..],
        &["-h"],
        &["swap", "--help"],
        &["instance", "-h"],
    ] {
        let run = dcs_wait(args, &env).await;
        assert_eq!(run.code, 0, "{run:#?}");
        for heading in ["\nTarget:\n", "\nTiming:\n", "\nOutput:\n", "\nCI:\n"] {
            assert!(
                run.stdout.contains(heading),
                "{args:?}: {heading:?}\n{}",
                run.stdout
            );
        }
        for (_, value) in &env {
            assert!(
                !run.stdout.contains(value.as_str()),
                "{args:?} printed {value}"
            );
        }
        // The variable's name, not its value.
        assert!(run.stdout.contains("SSL_CERT_FILE]"), "{}", run.stdout);
    }
    let short = dcs_wait(&["-h"], &env).await;
    let options = short
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with('-'))
        .count();
    assert!(
        short.stdout.lines().count() < options * 2 + 45,
        "short help of {} lines for {options} options:\n{}",
        short.stdout.lines().count(),
        short.stdout
    );
    let instance = dcs_wait(&["instance", "-h"], &[]).await;
    let deadline = instance
        .stdout
        .lines()
        .find(|l| l.contains("--timeout"))
        .unwrap();
    assert!(deadline.contains("all waits"), "{deadline}");

    // The environment fills --endpoint and --project-id: the usage line does not ask for them.
    let run = dcs_wait(&["swap"], &env).await;
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr
            .contains("Usage: dcs-wait swap [OPTIONS] <INSTANCE_ID>...\n"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("--endpoint <URL>"), "{}", run.stderr);

    let run = dcs_wait(&["swap", "--since", "5m", "i-1"], &env).await;
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr
            .contains("--since is an option of `dcs-wait instance`, not of `dcs-wait swap`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("-- --since"), "{}", run.stderr);
    let run = dcs_wait(&["backup", "--from", "b-1", "i-1"], &env).await;
    assert!(
        run.stderr
            .contains("--from is an option of `dcs-wait restore`, not of `dcs-wait backup`"),
        "{}",
        run.stderr
    );
}

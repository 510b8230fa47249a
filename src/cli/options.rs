//! Checked, typed options: the raw arguments of [`super::args`] are read here once, and only
//! what comes out is read afterwards.
//!
//! Everything a user can get wrong on the command line is caught here, before any request: a
//! bad job id, region or project id, an endpoint that would send credentials in clear text,
//! a JUnit path in no directory. Every message says what to do. What needs the environment's
//! files and services (the credentials, the project id) is the library's
//! [`ClientBuilder::connect`].

use super::args::{Args, Command, ManPage, OutputFormat};
use super::logging::LogFormat;
use super::stdin::{self, InputError, StdinId};
use super::terminal::Terminal;
use dcs_wait::{
    BackupId, BackupRequest, ClientBuilder, EndpointError, Env, InstanceId, InvalidId, JobId,
    ProjectId, RestoreId,
};
use dcs_wait::{History, RateLimiter, Schedule, WaitOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What the command line asks for, all of it valid.
#[derive(Debug)]
pub struct Options {
    /// `-v` count minus `-q` count.
    pub verbosity: i8,
    /// How log lines are written.
    pub log_format: LogFormat,
    /// What stderr is and can show.
    pub terminal: Terminal,
    /// What to do.
    pub mode: Mode,
}

/// What to do.
#[derive(Debug)]
pub enum Mode {
    /// Wait on jobs.
    Wait(Box<WaitRun>),
    /// Wait on the demo's jobs, served by a dcs-sim started in this process.
    Demo(Box<Run>),
    /// Print a completion script.
    Completions(clap_complete::Shell),
    /// Print the man page.
    ManPage(ManPage),
}

/// A wait on the user's jobs or instances.
#[derive(Debug)]
pub struct WaitRun {
    /// What to wait on.
    pub waits: Waits,
    /// The endpoint, region, project id and CA bundle given, ready to connect.
    pub client: ClientBuilder,
    /// The history file to read and write, unless turned off.
    pub history: Option<PathBuf>,
    /// How to wait and where the reports go.
    pub run: Run,
}

/// What a wait is on, each id in the order given, once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waits {
    /// Jobs.
    Jobs(Vec<JobId>),
    /// Swaps to start on these instances, and wait for.
    Swap(Vec<InstanceId>),
    /// A swap's dry run: these instances read, nothing started.
    DryRun(Vec<InstanceId>),
    /// These instances, until ready; tasks created within the duration before count.
    Ready(Vec<InstanceId>, Duration),
    /// A backup to start on each of these instances, and wait for.
    Backup(Vec<InstanceId>, BackupRequest),
    /// A backup started elsewhere, followed.
    FollowBackup(InstanceId, BackupId),
    /// A restore of the backup to start onto the instance, with the user's remark.
    Restore(InstanceId, BackupId, Option<String>),
    /// A restore started elsewhere, followed.
    FollowRestore(InstanceId, RestoreId),
    /// A backup's or a restore's dry run: each instance read, (restore) the backup looked up,
    /// nothing started.
    RecordDryRun(Vec<InstanceId>, Option<BackupId>),
}

/// How to wait and where the reports go: shared by a wait and the demo.
#[derive(Debug, Clone)]
pub struct Run {
    /// The loop's settings (the observer is the command line's own, added when it runs).
    pub wait: WaitOptions,
    /// Where the reports go.
    pub outputs: Outputs,
}

/// Where the reports go besides the exit code.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// The format on stdout.
    pub format: OutputFormat,
    /// A JUnit file to write, in a directory that exists.
    pub junit: Option<PathBuf>,
    /// Read for `GITHUB_STEP_SUMMARY` and `GITHUB_OUTPUT`.
    pub env: Env,
    /// What stderr is and can show: a live display, finished lines, or the log alone.
    pub terminal: Terminal,
    /// How often a heartbeat line is logged off a terminal.
    pub heartbeat: Duration,
}

/// A mistake in the command line or the environment (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// A job id argument that is not one.
    #[error(
        "'{0}' is not a DCS job id: a job id is 1 to 64 letters, digits, '-' or '_' \
         (give the job_id the DCS operation returned)"
    )]
    BadJobId(String, #[source] InvalidId),
    /// An instance id argument that is not one.
    #[error(
        "'{0}' is not a DCS instance id: an instance id is 1 to 64 letters, digits, '-' or '_'"
    )]
    BadInstanceId(String, #[source] InvalidId),
    /// Job ids on stdin that are not usable.
    #[error(transparent)]
    Stdin(#[from] InputError),
    /// Stdin could not be read.
    #[error("cannot read job ids from stdin: {0}")]
    StdinUnreadable(#[source] std::io::Error),
    /// Neither an endpoint nor a region.
    #[error(
        "no endpoint: give --region REGION (or set HUAWEICLOUD_SDK_REGION), or --endpoint URL"
    )]
    NoEndpoint,
    /// No usable endpoint.
    #[error(transparent)]
    Endpoint(EndpointError),
    /// The JUnit file's directory does not exist.
    #[error("cannot write the JUnit report to {0}: its directory does not exist")]
    JunitDirectory(String),
    /// A command with job ids, `--demo`, `--completions` or `--man-page`.
    #[error(
        "`swap`, `instance`, `backup` and `restore` are commands of their own: give them \
         instance ids, without job ids, --demo, --completions or --man-page"
    )]
    TwoCommands,
    /// A first word that is nearly a command's name (or a flag said as a word).
    #[error("'{0}' is not a command, nor a job id: did you mean `{1}`?")]
    NotACommand(String, &'static str),
    /// A project id that is not one.
    #[error("'{0}' is not a project id: a project id is 1 to 64 letters, digits, '-' or '_'")]
    BadProjectId(String, #[source] InvalidId),
    /// A backup or restore id that is not one.
    #[error(
        "'{0}' is not a DCS {1}: it is 1 to 64 letters, digits, '-' or '_' (give the {2} \
         the backup list or the API answered)"
    )]
    BadRecordId(String, &'static str, &'static str),
    /// `backup --id` or `restore` with other than one instance.
    #[error(
        "a restore, or a backup followed by --id, is one instance's: give exactly one \
         INSTANCE_ID"
    )]
    OneInstance,
}

impl Options {
    /// Checks `args`, reading endpoint overrides, the history path and CI outputs from `env`.
    /// `stdin` is called, once, only when an id is `-`.
    pub fn check(
        args: Args,
        env: &Env,
        stdin: impl FnOnce() -> std::io::Result<Vec<u8>>,
    ) -> Result<Options, UsageError> {
        let verbosity = args.verbosity();
        let terminal = Terminal::of_stderr(env, verbosity);
        let other_mode = args.demo || args.man_page.is_some() || args.completions.is_some();
        if args.command.is_some() && (other_mode || !args.job_ids.is_empty()) {
            return Err(UsageError::TwoCommands);
        }
        let mode = if let Some(shell) = args.completions {
            Mode::Completions(shell)
        } else if let Some(page) = args.man_page {
            Mode::ManPage(page)
        } else if args.demo {
            Mode::Demo(Box::new(run(&args, env, terminal)?))
        } else {
            Mode::Wait(Box::new(wait_run(&args, env, terminal, stdin)?))
        };
        Ok(Options {
            verbosity,
            log_format: args.log_format,
            terminal,
            mode,
        })
    }
}

fn wait_run(
    args: &Args,
    env: &Env,
    terminal: Terminal,
    stdin: impl FnOnce() -> std::io::Result<Vec<u8>>,
) -> Result<WaitRun, UsageError> {
    let waits = match &args.command {
        None => {
            if let Some(first) = args.job_ids.first() {
                if let Some(meant) = super::suggest::command_for(first) {
                    return Err(UsageError::NotACommand(first.clone(), meant));
                }
            }
            Waits::Jobs(ids(&args.job_ids, stdin, UsageError::BadJobId)?)
        }
        Some(Command::Swap(swap)) => {
            let instances = ids(&swap.instance_ids, stdin, UsageError::BadInstanceId)?;
            if swap.dry_run {
                Waits::DryRun(instances)
            } else {
                Waits::Swap(instances)
            }
        }
        Some(Command::Instance(wait)) => Waits::Ready(
            ids(&wait.instance_ids, stdin, UsageError::BadInstanceId)?,
            wait.since,
        ),
        Some(Command::Backup(backup)) => {
            let instances = ids(&backup.instance_ids, stdin, UsageError::BadInstanceId)?;
            match &backup.id {
                Some(id) => {
                    let [instance] = <[InstanceId; 1]>::try_from(instances)
                        .map_err(|_| UsageError::OneInstance)?;
                    Waits::FollowBackup(instance, record_id(id, "backup id", "backup_id")?)
                }
                None if backup.dry_run => Waits::RecordDryRun(instances, None),
                None => {
                    let mut request = BackupRequest::default();
                    request.format = backup.format.map(|f| f.as_str().to_string());
                    request.remark = backup.remark.clone();
                    Waits::Backup(instances, request)
                }
            }
        }
        Some(Command::Restore(restore)) => {
            let given = ids(
                std::slice::from_ref(&restore.instance_id),
                stdin,
                UsageError::BadInstanceId,
            )?;
            let [instance] =
                <[InstanceId; 1]>::try_from(given).map_err(|_| UsageError::OneInstance)?;
            match (&restore.id, &restore.from) {
                (Some(id), _) => {
                    Waits::FollowRestore(instance, record_id(id, "restore id", "restore_id")?)
                }
                (None, Some(from)) => {
                    let backup = record_id(from, "backup id", "backup_id")?;
                    if restore.dry_run {
                        Waits::RecordDryRun(vec![instance], Some(backup))
                    } else {
                        Waits::Restore(instance, backup, restore.remark.clone())
                    }
                }
                // clap requires --from unless --id is given.
                (None, None) => return Err(UsageError::TwoCommands),
            }
        }
    };
    let mut client = ClientBuilder::default().env(env.clone());
    if let Some(endpoint) = &args.endpoint {
        client = client.endpoint(endpoint);
    }
    if let Some(region) = &args.region {
        client = client.region(region);
    }
    client.check_endpoint().map_err(|e| match e {
        EndpointError::NoEndpoint => UsageError::NoEndpoint,
        e => UsageError::Endpoint(e),
    })?;
    if let Some(text) = &args.project_id {
        let id: ProjectId = text
            .parse()
            .map_err(|e| UsageError::BadProjectId(text.clone(), e))?;
        client = client.project_id(id);
    }
    if let Some(path) = &args.ca_bundle {
        client = client.ca_bundle(path);
    }
    Ok(WaitRun {
        waits,
        client,
        history: (!args.no_history).then(|| History::path(env)).flatten(),
        run: run(args, env, terminal)?,
    })
}

/// A backup or restore id, checked.
fn record_id<I: std::str::FromStr>(
    text: &str,
    kind: &'static str,
    field: &'static str,
) -> Result<I, UsageError> {
    text.parse()
        .map_err(|_| UsageError::BadRecordId(text.to_string(), kind, field))
}

/// The ids as given, `-` replaced by those on stdin, each once in the order first seen.
fn ids<I: StdinId + Clone + Eq + std::hash::Hash>(
    given: &[String],
    stdin: impl FnOnce() -> std::io::Result<Vec<u8>>,
    bad: fn(String, InvalidId) -> UsageError,
) -> Result<Vec<I>, UsageError> {
    let mut stdin = Some(stdin);
    let mut ids: Vec<I> = Vec::with_capacity(given.len());
    for text in given {
        if text == "-" {
            // A second `-` finds stdin read already: nothing more comes of it.
            if let Some(read) = stdin.take() {
                let input = read().map_err(UsageError::StdinUnreadable)?;
                ids.extend(stdin::parse(&input)?);
            }
        } else {
            ids.push(text.parse().map_err(|e| bad(text.clone(), e))?);
        }
    }
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    Ok(ids)
}

fn run(args: &Args, env: &Env, terminal: Terminal) -> Result<Run, UsageError> {
    if let Some(path) = &args.junit {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if dir.is_some_and(|d| !d.is_dir()) {
            return Err(UsageError::JunitDirectory(path.display().to_string()));
        }
    }
    Ok(Run {
        wait: {
            let wait = WaitOptions::default()
                .with_timeout(args.timeout)
                .with_request_timeout(args.request_timeout)
                .with_not_found_grace(args.not_found_grace)
                .with_unreachable_grace(args.unreachable_grace)
                .with_fail_fast(args.fail_fast)
                .with_schedule(Schedule::default().with_max_lag(args.max_lag));
            match args.max_rps {
                0 => wait,
                rps => wait.with_limiter(Arc::new(RateLimiter::new(rps))),
            }
        },
        outputs: Outputs {
            format: args.output,
            junit: args.junit.clone(),
            env: env.clone(),
            terminal,
            heartbeat: args.heartbeat,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[(&str, &str)] = &[("HUAWEICLOUD_SDK_AK", "AK"), ("HUAWEICLOUD_SDK_SK", "SK")];

    fn check(args: &[&str], vars: &[(&str, &str)], stdin: &[u8]) -> Result<Options, UsageError> {
        let mut all = vec!["dcs-wait"];
        all.extend_from_slice(args);
        Options::check(
            Args::parse_from_args(all).unwrap(),
            &Env::from_pairs(vars.iter().copied()),
            || Ok(stdin.to_vec()),
        )
    }

    fn wait_run(args: &[&str], vars: &[(&str, &str)]) -> Result<WaitRun, UsageError> {
        wait_run_with_stdin(args, vars, b"")
    }

    fn wait_run_with_stdin(
        args: &[&str],
        vars: &[(&str, &str)],
        stdin: &[u8],
    ) -> Result<WaitRun, UsageError> {
        match check(args, vars, stdin)?.mode {
            Mode::Wait(run) => Ok(*run),
            other => panic!("{other:?}"),
        }
    }

    fn ids(run: &WaitRun) -> Vec<&str> {
        match &run.waits {
            Waits::Jobs(ids) => ids.iter().map(JobId::as_str).collect(),
            Waits::Swap(ids)
            | Waits::DryRun(ids)
            | Waits::Ready(ids, _)
            | Waits::Backup(ids, _)
            | Waits::RecordDryRun(ids, _) => ids.iter().map(InstanceId::as_str).collect(),
            Waits::FollowBackup(id, _) | Waits::Restore(id, _, _) | Waits::FollowRestore(id, _) => {
                vec![id.as_str()]
            }
        }
    }

    #[test]
    fn backup_and_restore_take_their_options() {
        let o = wait_run(
            &[
                "backup", "--format", "aof", "--remark", "r", "--region", "r", "i-1", "i-2",
            ],
            KEYS,
        )
        .unwrap();
        assert_eq!(ids(&o), ["i-1", "i-2"]);
        let Waits::Backup(_, request) = &o.waits else {
            panic!("{:?}", o.waits)
        };
        assert_eq!(request.format.as_deref(), Some("aof"));
        assert_eq!(request.remark.as_deref(), Some("r"));
        let o = wait_run(&["backup", "--id", "b-1", "--region", "r", "i-1"], KEYS).unwrap();
        assert!(matches!(&o.waits, Waits::FollowBackup(i, b) if i == "i-1" && b.as_str() == "b-1"));
        let o = wait_run(&["restore", "--from", "b-1", "--region", "r", "i-1"], KEYS).unwrap();
        assert!(
            matches!(&o.waits, Waits::Restore(i, b, None) if i == "i-1" && b.as_str() == "b-1")
        );
        let o = wait_run(
            &[
                "restore",
                "--dry-run",
                "--from",
                "b-1",
                "--region",
                "r",
                "i-1",
            ],
            KEYS,
        )
        .unwrap();
        assert!(matches!(&o.waits, Waits::RecordDryRun(_, Some(_))));
        for bad in [
            &["backup", "--id", "b-1", "--region", "r", "i-1", "i-2"][..],
            &["restore", "--from", "a b", "--region", "r", "i-1"],
        ] {
            assert!(wait_run(bad, KEYS).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn swap_takes_instance_ids_and_every_option() {
        let o = wait_run(
            &[
                "swap",
                "--timeout",
                "5m",
                "--region",
                "r",
                "i-1",
                "i-2",
                "i-1",
            ],
            &[],
        )
        .unwrap();
        assert!(matches!(o.waits, Waits::Swap(_)));
        assert_eq!(ids(&o), ["i-1", "i-2"]);
        assert_eq!(o.run.wait.timeout, Duration::from_secs(300));
        let o = wait_run_with_stdin(
            &["--region", "r", "--fail-fast", "swap", "--dry-run", "-"],
            &[],
            b"i-3",
        )
        .unwrap();
        assert!(o.run.wait.fail_fast);
        assert_eq!(o.waits, Waits::DryRun(vec!["i-3".parse().unwrap()]));
        let o = wait_run_with_stdin(
            &["--region", "r", "swap", "-"],
            &[],
            br#"{"instance_id": "i-9"}"#,
        )
        .unwrap();
        assert_eq!(o.waits, Waits::Swap(vec!["i-9".parse().unwrap()]));
        let err = wait_run(&["--region", "r", "swap", "a/b"], &[]).unwrap_err();
        assert!(
            matches!(&err, UsageError::BadInstanceId(id, _) if id == "a/b"),
            "{err}"
        );
        assert!(err.to_string().contains("is not a DCS instance id"));
    }

    #[test]
    fn a_first_word_near_a_command_is_a_usage_error() {
        let err = wait_run(&["instances", "5560df16-cebf-4473-95c4-d8b0ba1ab0e6"], &[]);
        assert!(
            matches!(&err, Err(UsageError::NotACommand(word, meant))
                if word == "instances" && meant.starts_with("dcs-wait instance")),
            "{err:?}"
        );
        // Only the first word: a later one is a job id like any other.
        let later = wait_run(
            &["--region", "r1", "--project-id", "p", "job-1", "wiat"],
            KEYS,
        );
        assert_eq!(ids(&later.unwrap()), ["job-1", "wiat"]);
    }

    #[test]
    fn job_ids_are_checked_and_deduplicated() {
        let o = wait_run(
            &["--region", "r1", "--project-id", "p", "a", "b", "a"],
            KEYS,
        )
        .unwrap();
        assert_eq!(ids(&o), ["a", "b"]);
        let long = "x".repeat(65);
        for bad in ["a/b", "../x", "a b", "é", long.as_str(), ""] {
            let err =
                wait_run(&["--region", "r1", "--project-id", "p", "--", bad], KEYS).unwrap_err();
            assert!(
                matches!(&err, UsageError::BadJobId(id, _) if id == bad),
                "{err}"
            );
            assert!(err
                .to_string()
                .contains("job_id the DCS operation returned"));
        }
        let o = wait_run_with_stdin(&["--region", "r1", "a", "-", "b"], &[], b"x a\ny").unwrap();
        assert_eq!(ids(&o), ["a", "x", "y", "b"]);
        assert!(matches!(
            wait_run_with_stdin(&["--region", "r1", "a", "-"], &[], b"ok\nnot/ok"),
            Err(UsageError::Stdin(e)) if e.line == 2
        ));
    }

    #[test]
    fn stdin_is_read_only_for_a_dash() {
        let args = Args::parse_from_args(["dcs-wait", "--region", "r1", "a"]).unwrap();
        let checked = Options::check(args, &Env::from_pairs::<&str, &str>([]), || {
            panic!("stdin read without a '-'")
        });
        assert!(checked.is_ok());
    }

    #[test]
    fn the_endpoint_is_checked_before_any_request() {
        assert!(matches!(
            wait_run(&["--project-id", "p", "j"], KEYS),
            Err(UsageError::NoEndpoint)
        ));
        assert!(matches!(
            wait_run(
                &["--endpoint", "http://10.0.0.1", "--project-id", "p", "j"],
                KEYS
            ),
            Err(UsageError::Endpoint(EndpointError::InsecureEndpoint(_)))
        ));
        assert!(matches!(
            wait_run(&["--region", "R_1", "--project-id", "p", "j"], KEYS),
            Err(UsageError::Endpoint(EndpointError::BadRegion(r))) if r == "R_1"
        ));
        assert!(wait_run(&["--region", "r", "j"], KEYS).is_ok());
    }

    #[test]
    fn a_project_id_must_be_one() {
        assert!(matches!(
            wait_run(&["--region", "r", "--project-id", "p/q", "j"], KEYS),
            Err(UsageError::BadProjectId(p, _)) if p == "p/q"
        ));
    }

    #[test]
    fn swap_is_a_command_of_its_own() {
        for args in [
            &["--demo", "swap", "i"][..],
            &["--man-page", "instance", "swap", "i"],
        ] {
            assert!(
                matches!(check(args, &[], b""), Err(UsageError::TwoCommands)),
                "{args:?}"
            );
        }
    }

    #[test]
    fn modes() {
        assert!(matches!(
            check(&["--completions", "bash"], &[], b"").unwrap().mode,
            Mode::Completions(clap_complete::Shell::Bash)
        ));
        assert!(matches!(
            check(&["--man-page"], &[], b"").unwrap().mode,
            Mode::ManPage(ManPage::DcsWait)
        ));
        let demo = check(&["--demo", "--timeout", "5m", "-q"], &[], b"").unwrap();
        assert_eq!(demo.verbosity, -1);
        match demo.mode {
            Mode::Demo(run) => assert_eq!(run.wait.timeout, Duration::from_secs(300)),
            other => panic!("{other:?}"),
        }
        let o = wait_run(
            &["--region", "r", "--no-history", "--max-rps", "0", "j"],
            &[],
        )
        .unwrap();
        assert!(o.history.is_none() && o.run.wait.limiter.is_none());
    }

    #[test]
    fn a_junit_file_needs_its_directory() {
        assert!(matches!(
            wait_run(
                &["--region", "r", "--junit", "/nonexistent/dir/j.xml", "j"],
                &[]
            ),
            Err(UsageError::JunitDirectory(_))
        ));
    }
}

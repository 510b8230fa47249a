//! The command line as clap sees it: raw arguments. [`super::options`] checks them, once,
//! into the typed options that everything after reads.
//!
//! No flag takes a secret: flags show in `ps` and in CI logs. Secrets come from the
//! environment only (see docs/credentials.md).

use crate::logging::LogFormat;
use clap::{ArgAction, CommandFactory, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// How the commands are typed: clap's own line would put ids before a command.
const USAGE: &str = "\
dcs-wait [OPTIONS] <JOB_ID>...
       dcs-wait swap [OPTIONS] <INSTANCE_ID>...
       dcs-wait instance [OPTIONS] <INSTANCE_ID>...
       dcs-wait backup [OPTIONS] <INSTANCE_ID>...
       dcs-wait restore --from <BACKUP_ID> [OPTIONS] <INSTANCE_ID>
       dcs-wait --demo";

/// The main help's epilogue: examples, exit codes, where credentials come from.
const AFTER_HELP: &str = "\
Examples:
  dcs-wait --region cn-north-4 ff8080818822bbf70188235afc24141a
  dcs-wait --timeout 15m --output json $JOB_ID | jq .duration_ms
  echo \"$RESPONSE\" | dcs-wait -            # job_id fields of an API answer
  dcs-wait swap $INSTANCE_ID               # start the swap once, wait for it
  dcs-wait instance --since 10m $INSTANCE_ID
  dcs-wait backup $INSTANCE_ID             # start one backup, wait for its record
  dcs-wait restore --from $BACKUP_ID $INSTANCE_ID
  dcs-wait --demo                          # no cloud account needed

Exit codes:
  0    every wait ended in success
  1    a job, a swap, a backup, a restore or an instance's task failed
  2    a mistake in the call or the configuration (no request was sent)
  3    the deadline came while an operation was not over (the server answered)
  4    an operation could not be read or started (auth, permission, not found, refused, or
       whether it started is unknown), or the server was never reached (--unreachable-grace)
  130  interrupted by SIGINT; 143 by SIGTERM
With several waits the first that applies wins: 4, 3, 1, 0.

Credentials, never from a flag, in this order: an IAM token in DCS_WAIT_AUTH_TOKEN;
HUAWEICLOUD_SDK_AK + HUAWEICLOUD_SDK_SK [+ HUAWEICLOUD_SDK_SECURITY_TOKEN]; the profile file
~/.huaweicloud/credentials (or HUAWEICLOUD_SDK_CREDENTIALS_FILE); ECS instance metadata.";

const SWAP_EXAMPLES: &str = "\
Examples:
  dcs-wait swap --dry-run $INSTANCE_ID     # prove credentials, project, instance; start nothing
  dcs-wait swap --timeout 15m $INSTANCE_ID
  dcs-wait swap --output json $A $B | jq -r .job_id";

const BACKUP_EXAMPLES: &str = "\
Examples:
  dcs-wait backup $INSTANCE_ID             # start one backup, wait until its record ends
  dcs-wait backup --format aof --remark 'before 2.4' $INSTANCE_ID
  dcs-wait backup --id $BACKUP_ID $INSTANCE_ID   # one started elsewhere: only followed
  dcs-wait backup --output json $INSTANCE_ID | jq -r .backup_id
  dcs-wait backup --dry-run $INSTANCE_ID   # prove credentials and instance; start nothing";

const RESTORE_EXAMPLES: &str = "\
Examples:
  dcs-wait restore --from $BACKUP_ID $INSTANCE_ID   # start it once, wait until it is over
  dcs-wait restore --id $RESTORE_ID $INSTANCE_ID    # one started elsewhere: only followed
  dcs-wait restore --dry-run --from $BACKUP_ID $INSTANCE_ID";

const INSTANCE_EXAMPLES: &str = "\
Examples:
  dcs-wait instance $INSTANCE_ID           # after a resize, restart or password change
  dcs-wait instance --since 20m $INSTANCE_ID
      # count the tasks created in the 20 minutes before: pick a --since that reaches back
      # to the operation's start, and no further";

/// Waits for Huawei Cloud DCS operations to end, and says how each ended.
///
/// Jobs, master/standby swaps, backups and restores, and an instance's readiness; a swap, a
/// backup or a restore is started once and never twice.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "dcs-wait",
    version,
    override_usage = USAGE,
    after_help = "Examples, exit codes and where credentials come from: dcs-wait --help",
    after_long_help = AFTER_HELP,
    max_term_width = 100,
    subcommand_negates_reqs = true
)]
pub struct Args {
    /// What else to do than wait on jobs.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Job ids to wait for; `-` reads them from stdin.
    ///
    /// The job_id an asynchronous DCS operation returned. On stdin: separated by white
    /// space, or JSON (an object, an array or JSON Lines) holding job_id fields.
    #[arg(
        value_name = "JOB_ID",
        required_unless_present_any = ["demo", "completions", "man_page"]
    )]
    pub job_ids: Vec<String>,

    /// The DCS endpoint's URL, else derived from --region.
    ///
    /// https://, or http:// on loopback only (dcs-sim).
    #[arg(
        help_heading = "Target",
        hide_env_values = true,
        long,
        global = true,
        env = "DCS_WAIT_ENDPOINT",
        value_name = "URL"
    )]
    pub endpoint: Option<String>,

    /// The region, e.g. cn-north-4.
    ///
    /// The endpoint is then https://dcs.{REGION}.myhuaweicloud.com.
    #[arg(
        help_heading = "Target",
        hide_env_values = true,
        long,
        global = true,
        env = "HUAWEICLOUD_SDK_REGION",
        value_name = "REGION"
    )]
    pub region: Option<String>,

    /// The project id of the instances' region (else the profile's, or IAM's).
    #[arg(
        help_heading = "Target",
        hide_env_values = true,
        long,
        global = true,
        env = "HUAWEICLOUD_SDK_PROJECT_ID",
        value_name = "ID"
    )]
    pub project_id: Option<String>,

    /// The deadline for all waits together, e.g. 90s, 5m, 1h30m.
    #[arg(help_heading = "Timing", hide_env_values = true, long, global = true, env = "DCS_WAIT_TIMEOUT", value_name = "DURATION", default_value = "30m",
          value_parser = parse_duration)]
    pub timeout: Duration,

    /// How long a 404 is believed to be "not visible yet".
    ///
    /// A job, task or record that is still not found after this is an error (exit 4).
    #[arg(help_heading = "Timing", long, global = true, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub not_found_grace: Duration,

    /// How long to try to connect while the server has never answered.
    ///
    /// After this, a wrong endpoint or proxy, or a name that does not resolve, is an error
    /// (exit 4) at once, not at the deadline.
    #[arg(help_heading = "Timing", hide_env_values = true, long, global = true, env = "DCS_WAIT_UNREACHABLE_GRACE", value_name = "DURATION",
          default_value = "30s", value_parser = parse_duration)]
    pub unreachable_grace: Duration,

    /// The longest wait for one answer (never past the deadline).
    #[arg(help_heading = "Timing", long, global = true, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Extra trusted CA certificates (PEM), for a corporate CA.
    ///
    /// Added to the platform's own.
    #[arg(
        help_heading = "Target",
        hide_env_values = true,
        long,
        global = true,
        env = "SSL_CERT_FILE",
        value_name = "FILE"
    )]
    pub ca_bundle: Option<PathBuf>,

    /// The report on stdout: a text table, or JSON Lines (one object a wait).
    #[arg(help_heading = "Output", hide_env_values = true, long, global = true, env = "DCS_WAIT_OUTPUT", value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// The longest an operation may be over before dcs-wait notices.
    ///
    /// The one knob of the poll schedule, while an operation is within its usual span:
    /// smaller notices sooner, with more requests (see docs/polling.md).
    #[arg(help_heading = "Timing", hide_env_values = true, long, global = true, env = "DCS_WAIT_MAX_LAG", value_name = "DURATION", default_value = "10s",
          value_parser = parse_duration)]
    pub max_lag: Duration,

    /// Neither read nor write the history of operation durations.
    ///
    /// The history is kept in the user's cache directory to plan polls (see
    /// docs/polling.md).
    #[arg(help_heading = "Timing", hide_env_values = true, long, global = true, env = "DCS_WAIT_NO_HISTORY", value_parser = clap::builder::FalseyValueParser::new())]
    pub no_history: bool,

    /// At most N requests a second for all waits together (0: no limit).
    ///
    /// In bursts of at most N; a 429 halves it for a while.
    #[arg(
        help_heading = "Timing",
        hide_env_values = true,
        long,
        global = true,
        env = "DCS_WAIT_MAX_RPS",
        value_name = "N",
        default_value_t = 20
    )]
    pub max_rps: u32,

    /// Stop all waits at the first that fails or cannot be read.
    ///
    /// The others are reported interrupted, with their last status.
    #[arg(help_heading = "Timing", long, global = true)]
    pub fail_fast: bool,

    /// Also write a JUnit XML report here, one test case a wait.
    #[arg(help_heading = "CI", long, global = true, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Off a terminal, a "still waiting" log line this often.
    ///
    /// So that CI systems that kill silent steps do not kill a long wait.
    #[arg(help_heading = "CI", long, global = true, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub heartbeat: Duration,

    /// Log lines on stderr: text, or JSON (one object a line).
    ///
    /// Text at a terminal has the local time and says a repeated line once; elsewhere, full
    /// UTC timestamps.
    #[arg(
        help_heading = "Output",
        long,
        global = true,
        value_name = "FORMAT",
        default_value = "text"
    )]
    pub log_format: LogFormat,

    /// More logging on stderr (-v debug, -vv trace); RUST_LOG wins.
    #[arg(help_heading = "Output", short, global = true, long, action = ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Less logging on stderr (-q errors only, -qq nothing).
    #[arg(help_heading = "Output", short, global = true, long, action = ArgAction::Count)]
    pub quiet: u8,

    /// Print a shell completion script and exit.
    #[arg(help_heading = "Other", long, value_name = "SHELL", conflicts_with_all = ["job_ids", "demo", "man_page"])]
    pub completions: Option<clap_complete::Shell>,

    /// Print a man page (roff) and exit: dcs-wait(1), or a command's.
    ///
    /// With a command's name its own page, dcs-wait-swap(1), dcs-wait-instance(1),
    /// dcs-wait-backup(1) or dcs-wait-restore(1), which dcs-wait(1) refers to.
    #[arg(help_heading = "Other", long, value_name = "COMMAND", num_args = 0..=1, default_missing_value = "dcs-wait",
          conflicts_with_all = ["job_ids", "demo"])]
    pub man_page: Option<ManPage>,

    /// Run every command against a built-in local DCS endpoint (no cloud account).
    #[arg(help_heading = "Other", long, conflicts_with_all = ["job_ids", "endpoint", "region", "project_id"])]
    pub demo: bool,
}

/// The commands besides waiting on jobs.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Start a master/standby swap on each instance, once, and wait for it.
    ///
    /// Never twice, even when an answer is lost (see docs/swap.md).
    #[command(after_help = SWAP_EXAMPLES, override_usage = "dcs-wait swap [OPTIONS] <INSTANCE_ID>...")]
    Swap(SwapArgs),
    /// Wait until each instance is really ready: RUNNING, no task in progress.
    ///
    /// After an operation that returns no job (resize, restart, flush, port or password
    /// change): RUNNING, with no background task in progress, seen twice in a row (see
    /// docs/instance.md).
    #[command(after_help = INSTANCE_EXAMPLES, override_usage = "dcs-wait instance [OPTIONS] <INSTANCE_ID>...")]
    Instance(InstanceArgs),
    /// Start one backup of each instance, once, and wait until its record ends.
    ///
    /// Or, with --id, follow a backup started elsewhere (see docs/backup.md).
    #[command(after_help = BACKUP_EXAMPLES, override_usage = "dcs-wait backup [OPTIONS] <INSTANCE_ID>...\n       dcs-wait backup --id <BACKUP_ID> [OPTIONS] <INSTANCE_ID>")]
    Backup(BackupArgs),
    /// Start one restore onto an instance, once, and wait until it is ready again.
    ///
    /// The restore's record must end, then the instance be ready; or, with --id, follow a
    /// restore started elsewhere (see docs/backup.md).
    #[command(after_help = RESTORE_EXAMPLES, override_usage = "dcs-wait restore --from <BACKUP_ID> [OPTIONS] <INSTANCE_ID>\n       dcs-wait restore --id <RESTORE_ID> [OPTIONS] <INSTANCE_ID>")]
    Restore(RestoreArgs),
}

/// `dcs-wait backup`.
#[derive(Debug, Clone, clap::Args)]
pub struct BackupArgs {
    /// Instance ids to back up, each once; `-` reads them from stdin.
    ///
    /// With --id, the one instance of that backup.
    #[arg(value_name = "INSTANCE_ID", required = true)]
    pub instance_ids: Vec<String>,

    /// Follow this backup, started already: nothing is sent that changes anything.
    ///
    /// One started by a person, a schedule or Terraform.
    #[arg(long, value_name = "BACKUP_ID", conflicts_with_all = ["format", "remark", "dry_run"])]
    pub id: Option<String>,

    /// The backup's format: rdb or aof (the instance's default when not given).
    #[arg(long, value_enum)]
    pub format: Option<BackupFormat>,

    /// A remark kept with the backup.
    ///
    /// dcs-wait adds its own token after it (see docs/backup.md).
    #[arg(long, value_name = "TEXT")]
    pub remark: Option<String>,

    /// Start nothing: prove the credentials, the project and each instance.
    ///
    /// Each instance must be readable and of a kind that can be backed up; exit 0 when
    /// all holds.
    #[arg(long)]
    pub dry_run: bool,
}

/// `dcs-wait restore`.
#[derive(Debug, Clone, clap::Args)]
pub struct RestoreArgs {
    /// The instance to restore onto; `-` reads it from stdin.
    #[arg(value_name = "INSTANCE_ID", required = true)]
    pub instance_id: String,

    /// The backup to restore from: it must have succeeded.
    #[arg(
        long,
        value_name = "BACKUP_ID",
        required_unless_present = "id",
        conflicts_with = "id"
    )]
    pub from: Option<String>,

    /// Follow this restore, started already: nothing is sent that changes anything.
    #[arg(long, value_name = "RESTORE_ID", conflicts_with_all = ["remark", "dry_run"])]
    pub id: Option<String>,

    /// A remark kept with the restore.
    ///
    /// dcs-wait adds its own token after it.
    #[arg(long, value_name = "TEXT")]
    pub remark: Option<String>,

    /// Start nothing: prove the credentials, the instance and the backup.
    ///
    /// The instance must be readable, and the backup must exist, have succeeded and
    /// support restoring; exit 0 when all holds.
    #[arg(long)]
    pub dry_run: bool,
}

/// A backup's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackupFormat {
    /// Redis's snapshot.
    Rdb,
    /// Redis's append-only file.
    Aof,
}

impl BackupFormat {
    /// As the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            BackupFormat::Rdb => "rdb",
            BackupFormat::Aof => "aof",
        }
    }
}

/// `dcs-wait instance`.
#[derive(Debug, Clone, clap::Args)]
pub struct InstanceArgs {
    /// Instance ids to wait for; `-` reads them from stdin.
    ///
    /// On stdin: separated by white space, or JSON holding instance_id fields.
    #[arg(value_name = "INSTANCE_ID", required = true)]
    pub instance_ids: Vec<String>,

    /// How far back before the wait the operation's tasks were created.
    ///
    /// Background tasks created within this long before the wait began are the operation
    /// waited for: one that ended FAILED fails the wait.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub since: Duration,
}

/// `dcs-wait swap`.
#[derive(Debug, Clone, clap::Args)]
pub struct SwapArgs {
    /// Instance ids to swap, each once; `-` reads them from stdin.
    ///
    /// On stdin: separated by white space, or JSON holding instance_id fields.
    #[arg(value_name = "INSTANCE_ID", required = true)]
    pub instance_ids: Vec<String>,

    /// Start nothing: prove the credentials, the project and each instance.
    ///
    /// Reads each instance and reports its status; exit 0 when it is RUNNING, 4
    /// otherwise.
    #[arg(long)]
    pub dry_run: bool,
}

/// The man pages there are: one for each command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ManPage {
    /// dcs-wait(1)
    #[value(name = "dcs-wait")]
    DcsWait,
    /// dcs-wait-swap(1)
    Swap,
    /// dcs-wait-instance(1)
    Instance,
    /// dcs-wait-backup(1)
    Backup,
    /// dcs-wait-restore(1)
    Restore,
}

/// The report format on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

impl Args {
    /// Parses an argument list (the program name first), so tests need no process.
    pub fn parse_from_args<I, T>(args: I) -> Result<Args, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        Args::try_parse_from(&args).map_err(|e| belongs_elsewhere(e, &args))
    }

    /// The completion script for `shell`, from this very definition.
    pub fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Args::command(), "dcs-wait", &mut out);
        out
    }

    /// A man page, from this very definition; a command's has the options it inherits.
    pub fn man_page(page: ManPage) -> std::io::Result<Vec<u8>> {
        let mut command = Args::command();
        command.build();
        let (name, page_name) = match page {
            ManPage::DcsWait => (None, "dcs-wait"),
            ManPage::Swap => (Some("swap"), "dcs-wait-swap"),
            ManPage::Instance => (Some("instance"), "dcs-wait-instance"),
            ManPage::Backup => (Some("backup"), "dcs-wait-backup"),
            ManPage::Restore => (Some("restore"), "dcs-wait-restore"),
        };
        let command = match name {
            None => command,
            Some(name) => command
                .find_subcommand(name)
                .cloned()
                .map(|sub| sub.name(page_name).version(env!("CARGO_PKG_VERSION")))
                .ok_or_else(|| std::io::Error::other(format!("no command {name}")))?,
        };
        let mut out = Vec::new();
        clap_mangen::Man::new(command).render(&mut out)?;
        Ok(out)
    }

    /// Log verbosity: positive is more, negative less.
    pub fn verbosity(&self) -> i8 {
        self.verbose.min(8) as i8 - self.quiet.min(8) as i8
    }
}

/// clap's answer to an option of another command (`swap --since 5m`) is a tip to pass it as
/// a value (`-- --since`): say instead which command it belongs to.
fn belongs_elsewhere(error: clap::Error, args: &[OsString]) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg) else {
        return error;
    };
    let Some(name) = arg.strip_prefix("--").and_then(|a| a.split('=').next()) else {
        return error;
    };
    if error.kind() != ErrorKind::UnknownArgument {
        return error;
    }
    let top = Args::command();
    let full_name = |command: &clap::Command| match command.get_name() {
        "dcs-wait" => "dcs-wait".to_string(),
        sub => format!("dcs-wait {sub}"),
    };
    let owners: Vec<String> = std::iter::once(&top)
        .chain(top.get_subcommands())
        .filter(|c| {
            c.get_arguments()
                .any(|a| a.get_long() == Some(name) && !a.is_global_set())
        })
        .map(|c| format!("`{}`", full_name(c)))
        .collect();
    if owners.is_empty() {
        return error;
    }
    let here = args
        .iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .find_map(|a| top.find_subcommand(a))
        .map_or_else(|| "dcs-wait".to_string(), full_name);
    let rendered = error.render().to_string();
    let usage = rendered
        .find("Usage:")
        .map_or("", |at| rendered[at..].trim_end());
    clap::Error::raw(
        ErrorKind::UnknownArgument,
        format!(
            "--{name} is an option of {}, not of `{here}`\n\n{usage}\n",
            owners.join(" and ")
        ),
    )
}

/// The longest duration any option takes: far beyond any DCS job, and far from the limits of
/// the clock arithmetic.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// `90s`, `5m`, `1h30m`, `1.5s`, or ISO 8601 (`PT5M`); more than zero, at most 366 days.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    const FORMS: &str = "use a number with a unit, such as 90s, 5m or 1h30m";
    let parsed: jiff::SignedDuration = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a duration: {FORMS}"))?;
    match Duration::try_from(parsed) {
        Ok(d) if d > MAX_DURATION => Err(format!(
            "'{text}' is longer than the most, 366 days (8784h)"
        )),
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(format!("'{text}' must be more than zero: {FORMS}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("PT2M"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("8785h").unwrap_err().contains("366 days"));
        assert_eq!(parse_duration("8784h"), Ok(MAX_DURATION));
        for bad in ["", "90", "5x", "-5s", "0s", "soon"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("90s, 5m or 1h30m"), "{bad}: {err}");
        }
    }

    #[test]
    fn parses_an_argument_list() {
        let cli = Args::parse_from_args([
            "dcs-wait",
            "--timeout",
            "5m",
            "--output",
            "json",
            "-vv",
            "a",
            "b",
        ])
        .unwrap();
        assert_eq!(cli.job_ids, ["a", "b"]);
        assert_eq!(cli.timeout, Duration::from_secs(300));
        assert_eq!(cli.output, OutputFormat::Json);
        assert_eq!(cli.verbosity(), 2);
    }

    #[test]
    fn usage_errors_are_exit_code_2() {
        for args in [
            &["dcs-wait"][..],
            &["dcs-wait", "--timeout", "soon", "j"],
            &["dcs-wait", "--output", "xml", "j"],
            &["dcs-wait", "-v", "-q", "j"],
            &["dcs-wait", "--demo", "j"],
        ] {
            let err = Args::parse_from_args(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn the_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn completions_and_man_page_come_from_the_definition() {
        let bash = String::from_utf8(Args::completion_script(clap_complete::Shell::Bash)).unwrap();
        assert!(bash.contains("--not-found-grace") && bash.contains("--fail-fast"));
        let man = String::from_utf8(Args::man_page(ManPage::DcsWait).unwrap()).unwrap();
        assert!(man.contains(".TH dcs-wait 1"), "{}", &man[..80]);
        assert!(man.contains(r"not\-found\-grace"));
        // Every page it refers to is one that can be made, with the options it inherits.
        for (name, page) in [
            ("swap", ManPage::Swap),
            ("instance", ManPage::Instance),
            ("backup", ManPage::Backup),
            ("restore", ManPage::Restore),
        ] {
            assert!(man.contains(&format!(r"dcs\-wait\-{name}(1)")), "{name}");
            let sub = String::from_utf8(Args::man_page(page).unwrap()).unwrap();
            assert!(sub.contains(&format!(".TH dcs-wait-{name} 1")), "{sub}");
            assert!(
                sub.contains(r"\-\-timeout") && sub.contains("INSTANCE_ID"),
                "{sub}"
            );
        }
        let cli = Args::parse_from_args(["dcs-wait", "--completions", "zsh"]).unwrap();
        assert_eq!(cli.completions, Some(clap_complete::Shell::Zsh));
        for (args, page) in [
            (&["dcs-wait", "--man-page"][..], ManPage::DcsWait),
            (&["dcs-wait", "--man-page", "swap"], ManPage::Swap),
            (&["dcs-wait", "--man-page=instance"], ManPage::Instance),
        ] {
            assert_eq!(Args::parse_from_args(args).unwrap().man_page, Some(page));
        }
    }
}

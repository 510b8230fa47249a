//! The binary's life after parsing: check the options, wait, print, pick the exit code.

use crate::cli::{Cli, OutputFormat};
use crate::env::Env;
use crate::export;
use crate::history::{History, Priors};
use crate::options::Options;
use crate::progress::Board;
use crate::report::{ExitStatus, JobReport, Outcome};
use crate::setup::{self, SetupError};
use crate::signals::SignalWatch;
use crate::wait::{self, JobSource, WaitOptions};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Runs `dcs-wait` as the command line asks.
pub async fn run(cli: Cli) -> ExitStatus {
    if let Some(shell) = cli.completions {
        return print_or_fail(Ok(Cli::completion_script(shell)));
    }
    if cli.man_page {
        return print_or_fail(Cli::man_page());
    }
    if cli.demo {
        return crate::demo::run(&cli).await;
    }
    let env = Env::process();
    let stdin = if cli.job_ids.iter().any(|id| id == "-") {
        let mut input = Vec::new();
        match std::io::stdin().lock().read_to_end(&mut input) {
            Ok(_) => Some(input),
            Err(e) => {
                say(&format!("dcs-wait: cannot read job ids from stdin: {e}"));
                return ExitStatus::Usage;
            }
        }
    } else {
        None
    };
    let options = match Options::from_cli(&cli, &env, stdin.as_deref()) {
        Ok(options) => options,
        Err(e) => {
            say(&format!("dcs-wait: {e}"));
            return ExitStatus::Usage;
        }
    };
    let outputs = Outputs::from_cli(&cli, env.clone());
    let client = match setup::client(&options, &env).await {
        Ok(client) => client,
        Err(SetupError::Usage(message)) => {
            say(&format!("dcs-wait: {message}"));
            return ExitStatus::Usage;
        }
        Err(SetupError::Unreadable(error)) => {
            // No job could be read: each still gets its report, with the reason.
            tracing::error!("{error}");
            let reports: Vec<JobReport> = options
                .job_ids
                .iter()
                .map(|id| JobReport::new(id, Outcome::Error, None, 0, Some(error.clone())))
                .collect();
            publish(&reports, ExitStatus::Unreadable, &outputs);
            return ExitStatus::Unreadable;
        }
    };
    tracing::debug!("endpoint {}", options.endpoint);
    let history = (!cli.no_history)
        .then(|| History::path(&env))
        .flatten()
        .map(|path| {
            let history = History::load(&path);
            (path, history)
        });
    let wait = WaitOptions {
        priors: Arc::new(Priors::new(
            history.as_ref().map(|(_, h)| h.clone()).unwrap_or_default(),
        )),
        ..options.wait.clone()
    };
    let (reports, status) =
        wait_and_report(Arc::new(client), &options.job_ids, &wait, &outputs).await;
    if let Some((path, mut history)) = history {
        remember(&mut history, &reports);
        if let Err(e) = history.save(&path) {
            tracing::warn!("history {} not written ({e})", path.display());
        }
    }
    status
}

/// The durations of the jobs that succeeded, by type. Failed jobs often end early for
/// reasons of their own: their durations would teach the schedule the wrong window.
fn remember(history: &mut History, reports: &[JobReport]) {
    for report in reports {
        if let (Outcome::Success, Some(job_type), Some(ms)) =
            (report.outcome, &report.job_type, report.duration_ms)
        {
            history.record(job_type, Duration::from_millis(ms));
        }
    }
}

/// Where the reports go besides the exit code.
#[derive(Debug, Clone)]
pub struct Outputs {
    pub format: OutputFormat,
    pub junit: Option<PathBuf>,
    /// Read for `GITHUB_STEP_SUMMARY` and `GITHUB_OUTPUT`.
    pub env: Env,
    /// A live display on stderr (a terminal) rather than heartbeat lines (a CI log).
    pub live: bool,
    pub heartbeat: Duration,
}

impl Outputs {
    pub fn from_cli(cli: &Cli, env: Env) -> Outputs {
        Outputs {
            format: cli.output,
            junit: cli.junit.clone(),
            env,
            live: std::io::stderr().is_terminal() && cli.verbosity() >= 0,
            heartbeat: cli.heartbeat,
        }
    }
}

/// Waits for every job, publishes the reports, and gives the exit status: the signal's,
/// when one interrupted the wait, else the jobs' own.
pub async fn wait_and_report<S: JobSource>(
    source: Arc<S>,
    job_ids: &[String],
    options: &WaitOptions,
    outputs: &Outputs,
) -> (Vec<JobReport>, ExitStatus) {
    let cancel = CancellationToken::new();
    let signals = SignalWatch::start(cancel.clone());
    let board = Board::new(job_ids, outputs.live);
    let shown = if outputs.live {
        tokio::spawn(board.clone().tick())
    } else {
        tokio::spawn(board.clone().heartbeat(outputs.heartbeat))
    };
    let options = WaitOptions {
        progress: Some(board.clone()),
        ..options.clone()
    };
    let reports = wait::wait_all(source, job_ids, &options, &cancel).await;
    shown.abort();
    board.clear();
    let status = signals
        .received()
        .unwrap_or_else(|| ExitStatus::of_all(&reports));
    publish(&reports, status, outputs);
    (reports, status)
}

/// The reports on stdout, in the JUnit file, and to GitHub Actions. None of these can change
/// the exit code: it reports the jobs. A closed stdout (`| head`) is no reason to panic.
fn publish(reports: &[JobReport], status: ExitStatus, outputs: &Outputs) {
    let rendered = match outputs.format {
        OutputFormat::Text => export::text::render(reports),
        OutputFormat::Json => export::json::render(reports),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(rendered.as_bytes())
        .and_then(|_| stdout.flush());
    if let Some(path) = &outputs.junit {
        let written = export::junit::render(reports)
            .map_err(|e| e.to_string())
            .and_then(|xml| {
                export::write_atomically(path, xml.as_bytes()).map_err(|e| e.to_string())
            });
        if let Err(e) = written {
            tracing::error!("cannot write the JUnit report {}: {e}", path.display());
        }
    }
    export::github::write(&outputs.env, reports, status);
}

fn print_or_fail(text: std::io::Result<Vec<u8>>) -> ExitStatus {
    let mut stdout = std::io::stdout().lock();
    match text.and_then(|t| stdout.write_all(&t)) {
        Ok(()) => ExitStatus::Success,
        Err(e) => {
            say(&format!("dcs-wait: {e}"));
            ExitStatus::Usage
        }
    }
}

/// A line on stderr that must not panic when stderr is closed (`eprintln!` would).
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

//! The command line: raw arguments ([`args`]) checked once into options ([`options`]), then
//! run here: connect, wait, print, pick the exit code. The wait itself is the library's; this
//! wing adds the terminal ([`progress`], [`logging`]), the signals ([`signals`]), the output
//! formats ([`export`]) and the [`demo`].

pub mod args;
pub mod demo;
pub mod export;
pub mod logging;
pub mod options;
pub mod progress;
pub mod signals;
pub mod stdin;

use crate::api::{Client, ConnectError, IamError};
use crate::wait::{self, ExitStatus, History, JobReport, JobSource, Outcome, Priors};
use args::{Args, OutputFormat};
use options::{Mode, Outputs, Run, WaitRun};
use progress::Board;
use signals::SignalWatch;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// Runs what the checked options ask for.
pub async fn run(mode: Mode) -> ExitStatus {
    match mode {
        Mode::Completions(shell) => print_or_fail(Ok(Args::completion_script(shell))),
        Mode::ManPage => print_or_fail(Args::man_page()),
        Mode::Demo(run) => demo::run(*run).await,
        Mode::Wait(wait) => wait_on_jobs(*wait).await,
    }
}

async fn wait_on_jobs(options: WaitRun) -> ExitStatus {
    let WaitRun {
        job_ids,
        client,
        history,
        mut run,
    } = options;
    let client: Client = match client.connect().await {
        Ok(client) => client,
        Err(e) => {
            let Some(error) = e.unreadable() else {
                say(&format!("dcs-wait: {}", in_flags(&e)));
                return ExitStatus::Usage;
            };
            // No job could be read: each still gets its report, with the reason.
            tracing::error!("{e}");
            let reports: Vec<JobReport> = job_ids
                .iter()
                .map(|id| JobReport::new(id, Outcome::Error, None, 0, Some(error.clone())))
                .collect();
            publish(&reports, ExitStatus::Unreadable, &run.outputs);
            return ExitStatus::Unreadable;
        }
    };
    tracing::debug!("endpoint {}", client.endpoint());
    let history = history.map(|path| {
        let history = History::load(&path);
        (path, history)
    });
    run.wait.priors = Arc::new(Priors::new(
        history.as_ref().map(|(_, h)| h.clone()).unwrap_or_default(),
    ));
    let (reports, status) = wait_and_report(client, &job_ids, run).await;
    if let Some((path, mut history)) = history {
        remember(&mut history, &reports);
        if let Err(e) = history.save(&path) {
            tracing::warn!("history {} not written ({e})", path.display());
        }
    }
    status
}

/// A set-up mistake in the words of this command line: its flags beside the library's
/// variables.
fn in_flags(error: &ConnectError) -> String {
    match error {
        ConnectError::NoProjectId => "no project id: give --project-id ID, set \
             HUAWEICLOUD_SDK_PROJECT_ID, or give --region so that it can be looked up at IAM"
            .into(),
        ConnectError::Iam(IamError::NotOne { region, count }) => {
            format!("IAM knows {count} projects named {region}, not exactly one: give --project-id")
        }
        other => other.to_string(),
    }
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

/// Waits for every job, with the progress board as the observer, publishes the reports, and
/// gives the exit status: the signal's, when one interrupted the wait, else the jobs' own.
pub async fn wait_and_report<S: JobSource + Clone>(
    source: S,
    job_ids: &[crate::api::JobId],
    run: Run,
) -> (Vec<JobReport>, ExitStatus) {
    let Run { mut wait, outputs } = run;
    let signals = SignalWatch::start();
    let board = Board::new(job_ids, outputs.live);
    let shown = if outputs.live {
        tokio::spawn(board.clone().tick())
    } else {
        tokio::spawn(board.clone().heartbeat(outputs.heartbeat))
    };
    wait.observer = Some(board.clone());
    let reports = wait::wait_all(source, job_ids, &wait, signals.first()).await;
    shown.abort();
    board.clear();
    let status = signals
        .received()
        .unwrap_or_else(|| ExitStatus::of_all(&reports));
    publish(&reports, status, &outputs);
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
        if let Err(e) = export::junit::write(path, reports) {
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

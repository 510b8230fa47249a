//! How a run's reports go out: the progress board while it waits, then stdout, the JUnit
//! file and GitHub Actions; the exit status, a signal's when one came.

use super::args::OutputFormat;
use super::export;
use super::options::{Outputs, Run};
use super::progress::Board;
use super::signals::SignalWatch;
use super::terminal::{stdout_columns, Display};
use crate::defuse::{defused, Syntax};
use dcs_wait::{ExitStatus, JobReport, Subject, WaitOptions};
use std::future::Future;
use std::io::Write;

/// Runs `waits` with the progress board as the observer and the first signal as the stop,
/// publishes the reports, and gives the exit status: the signal's, when one interrupted the
/// wait, else the reports' own. `subjects` are what the board shows.
pub async fn run_and_report<F, Fut>(
    subjects: &[Subject],
    run: Run,
    waits: F,
) -> (Vec<JobReport>, ExitStatus)
where
    F: FnOnce(WaitOptions, &SignalWatch) -> Fut,
    Fut: Future<Output = Vec<JobReport>>,
{
    let Run { mut wait, outputs } = run;
    let signals = SignalWatch::start();
    let board = Board::new(subjects, outputs.terminal);
    let shown = if outputs.terminal.display == Display::Live {
        tokio::spawn(board.clone().tick())
    } else {
        tokio::spawn(board.clone().heartbeat(outputs.heartbeat))
    };
    wait.observer = Some(board.clone());
    let reports = waits(wait, &signals).await;
    shown.abort();
    board.clear();
    super::logging::flush();
    let status = signals
        .received()
        .unwrap_or_else(|| ExitStatus::of_all(&reports));
    publish(&reports, status, &outputs);
    (reports, status)
}

/// The reports on stdout, in the JUnit file, and to GitHub Actions. None of these can change
/// the exit code: it reports the jobs. A closed stdout (`| head`) is no reason to panic.
pub fn publish(reports: &[JobReport], status: ExitStatus, outputs: &Outputs) {
    let rendered = match outputs.format {
        OutputFormat::Text => export::text::render(reports, stdout_columns()),
        OutputFormat::Json => export::json::render(reports),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(defused(&rendered, Syntax::Json).as_bytes())
        .and_then(|_| stdout.flush());
    if let Some(path) = &outputs.junit {
        if let Err(e) = export::junit::write(path, reports) {
            tracing::error!("cannot write the JUnit report {}: {e}", path.display());
        }
    }
    export::github::write(&outputs.env, reports, status);
}

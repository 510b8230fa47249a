//! How a run's reports go out: the progress board while it waits, then stdout, the JUnit
//! file and GitHub Actions; the exit status, a signal's when one came.

use super::args::OutputFormat;
use super::export;
use super::options::{Outputs, Run};
use super::progress::Board;
use super::signals::SignalWatch;
use crate::api::JobId;
use crate::wait::{self, ExitStatus, JobReport, JobSource};
use std::io::Write;

/// Waits for every job, with the progress board as the observer, publishes the reports, and
/// gives the exit status: the signal's, when one interrupted the wait, else the jobs' own.
pub async fn wait_and_report<S: JobSource>(
    source: S,
    job_ids: &[JobId],
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
pub fn publish(reports: &[JobReport], status: ExitStatus, outputs: &Outputs) {
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

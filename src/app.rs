//! The binary's life after parsing: check the options, wait, print, pick the exit code.

use crate::cli::{Cli, OutputFormat};
use crate::env::Env;
use crate::options::Options;
use crate::report::{self, ExitStatus, JobReport, Outcome};
use crate::setup::{self, SetupError};
use crate::signals::SignalWatch;
use crate::wait::{self, JobSource, WaitOptions};
use std::io::Write;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Runs `dcs-wait` as the command line asks.
pub async fn run(cli: Cli) -> ExitStatus {
    if cli.demo {
        return crate::demo::run(&cli).await;
    }
    let env = Env::process();
    let options = match Options::from_cli(&cli, &env) {
        Ok(options) => options,
        Err(e) => {
            say(&format!("dcs-wait: {e}"));
            return ExitStatus::Usage;
        }
    };
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
            print(&reports, options.output);
            return ExitStatus::Unreadable;
        }
    };
    tracing::debug!("endpoint {}", options.endpoint);
    let (_, status) = wait_and_report(
        Arc::new(client),
        &options.job_ids,
        &options.wait,
        options.output,
    )
    .await;
    status
}

/// Waits for every job, prints the reports on stdout, and gives the exit status: the
/// signal's, when one interrupted the wait, else the jobs' own.
pub async fn wait_and_report<S: JobSource>(
    source: Arc<S>,
    job_ids: &[String],
    options: &WaitOptions,
    output: OutputFormat,
) -> (Vec<JobReport>, ExitStatus) {
    let cancel = CancellationToken::new();
    let signals = SignalWatch::start(cancel.clone());
    let reports = wait::wait_all(source, job_ids, options, &cancel).await;
    let rendered = match output {
        OutputFormat::Text => report::text(&reports),
        OutputFormat::Json => report::json_lines(&reports),
    };
    // A closed stdout (`| head`) is no reason to panic or to change the exit code.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(rendered.as_bytes())
        .and_then(|_| stdout.flush());
    let status = signals
        .received()
        .unwrap_or_else(|| ExitStatus::of_all(&reports));
    (reports, status)
}

/// The reports on stdout. A closed stdout (`| head`) is no reason to panic or to change the
/// exit code.
fn print(reports: &[JobReport], output: OutputFormat) {
    let rendered = match output {
        OutputFormat::Text => report::text(reports),
        OutputFormat::Json => report::json_lines(reports),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(rendered.as_bytes())
        .and_then(|_| stdout.flush());
}

/// A line on stderr that must not panic when stderr is closed (`eprintln!` would).
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

//! The binary's life after parsing: check the options, wait, print, pick the exit code.

use crate::cli::{Cli, OutputFormat};
use crate::client::DcsClient;
use crate::options::Options;
use crate::report::{self, ExitStatus, JobReport};
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
    let options = match Options::from_cli(&cli, &crate::env::Env::process()) {
        Ok(options) => options,
        Err(e) => {
            say(&format!("dcs-wait: {e}"));
            return ExitStatus::Usage;
        }
    };
    tracing::debug!(
        "endpoint {}, project {}, credentials: {}",
        options.endpoint,
        options.project_id,
        options.credentials.describe()
    );
    let client = match DcsClient::new(options.endpoint, options.project_id, options.credentials) {
        Ok(client) => client,
        Err(e) => {
            say(&format!("dcs-wait: {e}"));
            return ExitStatus::Usage;
        }
    };
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

/// A line on stderr that must not panic when stderr is closed (`eprintln!` would).
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

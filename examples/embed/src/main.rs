//! A program that embeds dcs-wait as a library built with `default-features = false`: what a
//! deployment tool written in Rust would do. It reads its configuration the way `dcs-wait`
//! does with no flags ([`dcs_wait::Client::from_env`]), waits on the job ids it is given,
//! prints one line per job, and exits with dcs-wait's exit codes.
//!
//! ```text
//! DCS_WAIT_ENDPOINT=https://… HUAWEICLOUD_SDK_PROJECT_ID=… HUAWEICLOUD_SDK_AK=… \
//!   HUAWEICLOUD_SDK_SK=… cargo run -p dcs-wait-embed -- JOB_ID…
//! ```
//!
//! CI runs it against dcs-sim (`.ci/embed`).

use dcs_wait::{Client, ExitStatus, JobId, WaitEvent, WaitOptions};
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let ids: Result<Vec<JobId>, _> = std::env::args().skip(1).map(|a| a.parse()).collect();
    let ids = match ids {
        Ok(ids) if !ids.is_empty() => ids,
        Ok(_) => return usage("give at least one job id"),
        Err(e) => return usage(&e.to_string()),
    };
    let client = match Client::from_env().await {
        Ok(client) => client,
        Err(e) => return usage(&e.to_string()),
    };
    // Any closure is an observer: here, one line per poll on stderr.
    let options = WaitOptions::default().with_observer(|event: &WaitEvent<'_>| {
        if let WaitEvent::Polled { subject, seen, .. } = event {
            let status = seen.status.unwrap_or("-");
            eprintln!("embed: {} is {status}", subject.name());
        }
    });
    // Cancellation is any future: Ctrl-C here.
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let reports = dcs_wait::wait_all(client, &ids, &options, stop).await;
    for report in &reports {
        let took = report
            .duration_ms
            .map_or_else(String::new, |ms| format!(" in {ms} ms"));
        let why = report.detail();
        let why = if why.is_empty() {
            why
        } else {
            format!(": {why}")
        };
        println!("{} {}{took}{why}", report.name(), report.outcome);
    }
    ExitCode::from(ExitStatus::of_all(&reports).code())
}

fn usage(why: &str) -> ExitCode {
    eprintln!("embed: {why}");
    ExitCode::from(ExitStatus::Usage.code())
}

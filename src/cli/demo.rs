//! `dcs-wait --demo`: the real client and wait loop against the local DCS endpoint, started
//! in this process with the built-in scenario, so a newcomer sees every part work without a
//! cloud account. It exits 0 when every outcome is the one its scenario scripted.

use super::logging::say;
use super::options::Run;
use super::publish::wait_and_report;
use crate::api::JobId;
use crate::sim::{Scenario, SimServer};
use crate::wait::ExitStatus;
use std::net::{Ipv4Addr, SocketAddr};

/// Serves the demo scenario, waits on its jobs as `run` says, and says whether every outcome
/// was the scripted one.
pub async fn run(run: Run) -> ExitStatus {
    let scenario = Scenario::demo();
    let sim = match SimServer::start(scenario.clone(), SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
    {
        Ok(sim) => sim,
        Err(e) => {
            say(&format!(
                "dcs-wait: cannot start the local DCS endpoint on 127.0.0.1: {e}"
            ));
            return ExitStatus::Usage;
        }
    };
    let client = match sim.client().await {
        Ok(client) => client,
        Err(e) => {
            say(&format!("dcs-wait: {e}"));
            return ExitStatus::Usage;
        }
    };
    say(&format!(
        "demo: a local DCS endpoint is serving {} scripted jobs on {} (AK/SK signatures checked):",
        scenario.jobs.len(),
        sim.url()
    ));
    for job in &scenario.jobs {
        let faults: Vec<String> = job.faults.iter().map(ToString::to_string).collect();
        let faults = if faults.is_empty() {
            "no faults".to_string()
        } else {
            faults.join(", ")
        };
        say(&format!(
            "  {}  {}: {:.1}s, then {}; {faults}",
            job.job_id,
            job.job_type,
            (job.start_delay_ms + job.run_ms) as f64 / 1000.0,
            job.final_status
        ));
    }
    let job_ids: Result<Vec<JobId>, _> = scenario.jobs.iter().map(|j| j.job_id.parse()).collect();
    let job_ids = match job_ids {
        Ok(ids) => ids,
        Err(e) => {
            say(&format!("dcs-wait: the demo scenario: {e}"));
            return ExitStatus::Usage;
        }
    };
    let (reports, status) = wait_and_report(client, &job_ids, run).await;
    if matches!(status, ExitStatus::Interrupted | ExitStatus::Terminated) {
        return status;
    }
    let mut all_matched = true;
    say("demo: what each outcome would make dcs-wait exit with, alone:");
    for (job, report) in scenario.jobs.iter().zip(&reports) {
        let matched = job.expect.is_none_or(|expect| expect == report.outcome);
        all_matched &= matched;
        say(&format!(
            "  {}  {:<8} → exit {}   {}",
            report.name(),
            report.outcome.as_str(),
            ExitStatus::of(report.outcome).code(),
            match job.expect {
                Some(expect) if matched => format!("as scripted ({})", expect.as_str()),
                Some(expect) => format!("NOT as scripted: expected {}", expect.as_str()),
                None => "no script".into(),
            }
        ));
    }
    say(&format!(
        "demo: waiting on all {} together exits {} (the first of 4, 3, 1, 0 that applies); {} requests in all",
        reports.len(),
        status.code(),
        sim.stats().requests
    ));
    if all_matched {
        say("demo: every outcome matched its script");
        ExitStatus::Success
    } else {
        say("demo: an outcome did not match its script");
        ExitStatus::JobFailed
    }
}

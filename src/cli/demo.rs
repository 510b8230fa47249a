//! `dcs-wait --demo`: the real client and wait loop against the local DCS endpoint, started
//! in this process with the built-in scenario, so a newcomer sees every part work without a
//! cloud account: three jobs waited on, and one swap started (refused once as busy) and
//! waited for. It exits 0 when every outcome is the one its scenario scripted.

use super::logging::say;
use super::options::Run;
use super::publish::run_and_report;
use crate::api::{InstanceId, JobId};
use crate::sim::{Scenario, SimServer};
use crate::wait::{self, ExitStatus, Outcome, Subject};
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
        "demo: a local DCS endpoint is serving {} scripted jobs and an instance on {} (AK/SK signatures checked):",
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
    for instance in &scenario.instances {
        say(&format!(
            "  {}  an instance: its swap is started here ({}), then runs {:.1}s",
            instance.instance_id,
            instance
                .start_faults
                .iter()
                .map(|f| f.rule.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            instance.swap_run_ms as f64 / 1000.0
        ));
    }
    let job_ids: Result<Vec<JobId>, _> = scenario.jobs.iter().map(|j| j.job_id.parse()).collect();
    let instance_ids: Result<Vec<InstanceId>, _> = scenario
        .instances
        .iter()
        .map(|i| i.instance_id.parse())
        .collect();
    let (job_ids, instance_ids) = match (job_ids, instance_ids) {
        (Ok(jobs), Ok(instances)) => (jobs, instances),
        (Err(e), _) | (_, Err(e)) => {
            say(&format!("dcs-wait: the demo scenario: {e}"));
            return ExitStatus::Usage;
        }
    };
    let subjects: Vec<Subject> = job_ids
        .iter()
        .cloned()
        .map(Subject::Job)
        .chain(instance_ids.iter().cloned().map(Subject::Swap))
        .collect();
    let (reports, status) = run_and_report(&subjects, run, |options, signals| {
        let (jobs_stop, swaps_stop) = (signals.first(), signals.first());
        async move {
            let (mut reports, swaps) = tokio::join!(
                wait::wait_all(client.clone(), &job_ids, &options, jobs_stop),
                wait::swap_all(client, &instance_ids, &options, swaps_stop)
            );
            reports.extend(swaps);
            reports
        }
    })
    .await;
    if matches!(status, ExitStatus::Interrupted | ExitStatus::Terminated) {
        return status;
    }
    let expected = scenario.jobs.iter().map(|job| job.expect.as_deref()).chain(
        scenario
            .instances
            .iter()
            .map(|_| Some(Outcome::Success.as_str())),
    );
    let mut all_matched = true;
    say("demo: what each outcome would make dcs-wait exit with, alone:");
    for (expect, report) in expected.zip(&reports) {
        let matched = expect.is_none_or(|expect| expect == report.outcome.as_str());
        all_matched &= matched;
        say(&format!(
            "  {}  {:<8} → exit {}   {}",
            report.name(),
            report.outcome.as_str(),
            ExitStatus::of(report.outcome).code(),
            match expect {
                Some(expect) if matched => format!("as scripted ({expect})"),
                Some(expect) => format!("NOT as scripted: expected {expect}"),
                None => "no script".into(),
            }
        ));
    }
    if let Some(swaps) = sim.stats().per_instance.values().next() {
        say(&format!(
            "demo: the swap was sent {} times and started {} swap (a busy answer proves \
             nothing started)",
            swaps.starts, swaps.swaps
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

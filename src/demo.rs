//! `dcs-wait --demo`: the real client and wait loop against the local DCS endpoint, started
//! in this process with the built-in scenario, so a newcomer sees every part work without a
//! cloud account. It exits 0 when every outcome is the one its scenario scripted.

use crate::app::{say, wait_and_report, Outputs};
use crate::auth::{Credentials, Provider, Source};
use crate::cli::Cli;
use crate::client::{ApiClient, DcsClient};
use crate::env::Env;
use crate::http;
use crate::report::ExitStatus;
use crate::sim::{Scenario, SimServer};
use secrecy::SecretString;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

pub async fn run(cli: &Cli) -> ExitStatus {
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
    let client = match demo_client(&sim) {
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
    let job_ids: Vec<String> = scenario.jobs.iter().map(|j| j.job_id.clone()).collect();
    let options = cli.wait_options();
    let outputs = Outputs::from_cli(cli, Env::process());
    let (reports, status) = wait_and_report(Arc::new(client), &job_ids, &options, &outputs).await;
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
            report.job_id,
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

/// A client for `sim` with its own credentials, as an embedding program would build one.
pub fn demo_client(sim: &SimServer) -> Result<DcsClient, Box<dyn std::error::Error>> {
    let scenario = sim.scenario();
    let credentials = Credentials::AkSk {
        access_key: scenario.auth.access_key.clone(),
        secret_key: SecretString::from(scenario.auth.secret_key.clone()),
        security_token: scenario.auth.security_token.clone().map(SecretString::from),
    };
    let provider = Arc::new(Provider::fixed(Source::Explicit, credentials));
    let api = Arc::new(ApiClient::new(http::api_client(None, false)?, provider));
    let project_id = scenario.project_id.clone().unwrap_or_default();
    Ok(DcsClient::new(
        api,
        url::Url::parse(&sim.url())?,
        project_id,
    ))
}

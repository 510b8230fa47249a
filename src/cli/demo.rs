//! `dcs-wait --demo`: the real client and wait loop against the local DCS endpoint, started
//! in this process with the built-in scenario, so a newcomer sees every part work without a
//! cloud account: three jobs waited on, one swap started (refused once as busy) and waited
//! for, one backup started and followed through its record, one restore started from last
//! night's backup and waited for until the instance is ready, and one instance resized
//! elsewhere waited for until it is really ready. It exits 0 when every outcome is the one
//! its scenario scripted.

use super::logging::say;
use super::options::Run;
use super::publish::run_and_report;
use dcs_wait::sim::{Scenario, SimServer};
use dcs_wait::{BackupId, BackupRequest, InstanceId, JobId};
use dcs_wait::{ExitStatus, Outcome, Subject};
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
        "demo: a local DCS endpoint is serving {} scripted jobs and {} instances on {} (AK/SK signatures checked):",
        scenario.jobs.len(),
        scenario.instances.len(),
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
    // The demo scenario's instances, in order: swapped, backed up, restored, resized.
    let [swapped, backed_up, restored, resized] = &scenario.instances[..] else {
        say("dcs-wait: the demo scenario needs four instances");
        return ExitStatus::Usage;
    };
    say(&format!(
        "  {}  an instance: its swap is started here ({}), then runs {:.1}s",
        swapped.instance_id,
        swapped
            .start_faults
            .iter()
            .map(|f| f.rule.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        swapped.swap_run_ms as f64 / 1000.0
    ));
    say(&format!(
        "  {}  an instance: a backup is started here, and its record ends {} after {:.1}s",
        backed_up.instance_id,
        backed_up.backup.final_status,
        (backed_up.backup.waiting_ms + backed_up.backup.run_ms) as f64 / 1000.0
    ));
    let Some(nightly) = restored.backups.first() else {
        say("dcs-wait: the demo scenario's restored instance has no backup");
        return ExitStatus::Usage;
    };
    say(&format!(
        "  {}  an instance: restored from backup {} ({}), {:.1}s, then ready again",
        restored.instance_id,
        nightly.id,
        nightly.remark.as_deref().unwrap_or("-"),
        (restored.restore.waiting_ms + restored.restore.run_ms) as f64 / 1000.0
    ));
    say(&format!(
        "  {}  an instance: {} (resized elsewhere) for {:.1}s, its task {:.1}s; waited for until ready",
        resized.instance_id,
        resized.timeline.first().map_or("RUNNING", |span| span.status.as_str()),
        resized.timeline.last().map_or(0, |span| span.until_ms) as f64 / 1000.0,
        resized.tasks.first().map_or(0, |task| task.run_ms) as f64 / 1000.0
    ));
    let ids = || -> Result<_, dcs_wait::InvalidId> {
        let job_ids: Vec<JobId> = scenario
            .jobs
            .iter()
            .map(|j| j.job_id.parse())
            .collect::<Result<_, _>>()?;
        let instance = |i: &dcs_wait::sim::SimInstance| i.instance_id.parse::<InstanceId>();
        let nightly: BackupId = nightly.id.parse()?;
        Ok((
            job_ids,
            instance(swapped)?,
            instance(backed_up)?,
            instance(restored)?,
            instance(resized)?,
            nightly,
        ))
    };
    let (job_ids, swap_id, backup_id, restore_id, ready_id, nightly) = match ids() {
        Ok(ids) => ids,
        Err(e) => {
            say(&format!("dcs-wait: the demo scenario: {e}"));
            return ExitStatus::Usage;
        }
    };
    let subjects: Vec<Subject> = job_ids
        .iter()
        .cloned()
        .map(Subject::Job)
        .chain([
            Subject::Swap(swap_id.clone()),
            Subject::Backup(backup_id.clone()),
            Subject::Restore(restore_id.clone()),
            Subject::Instance(ready_id.clone()),
        ])
        .collect();
    let (reports, status) = run_and_report(&subjects, run, |options, signals| {
        let stops = [(); 5].map(|()| signals.first());
        let [jobs_stop, swap_stop, backup_stop, restore_stop, ready_stop] = stops;
        async move {
            let request = BackupRequest::default().with_remark("dcs-wait demo");
            let (swap_ids, backup_ids, ready_ids) = ([swap_id], [backup_id], [ready_id]);
            // The resize's task began before the wait: --since 5m counts it.
            let since = std::time::Duration::from_secs(300);
            let (mut reports, swaps, backups, restore, ready) = tokio::join!(
                dcs_wait::wait_all(client.clone(), &job_ids, &options, jobs_stop),
                dcs_wait::swap_all(client.clone(), &swap_ids, &options, swap_stop),
                dcs_wait::backup_all(client.clone(), &backup_ids, &request, &options, backup_stop),
                dcs_wait::restore(
                    client.clone(),
                    &restore_id,
                    &nightly,
                    None,
                    &options,
                    restore_stop
                ),
                dcs_wait::ready_all(client, &ready_ids, since, &options, ready_stop),
            );
            reports.extend(swaps);
            reports.extend(backups);
            reports.push(restore);
            reports.extend(ready);
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
    let records = sim.stats().records;
    let (backups, restores) = records
        .values()
        .fold((0, 0), |(b, r), c| (b + c.backups, r + c.restores));
    say(&format!(
        "demo: {backups} backup and {restores} restore started, each once, followed through \
         its record"
    ));
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

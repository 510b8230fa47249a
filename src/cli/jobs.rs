//! Waiting on the user's jobs or swaps: connect as the options say, plan by the history,
//! wait, publish, and remember how long the jobs took.

use super::logging::say;
use super::options::{WaitRun, Waits};
use super::publish::{publish, run_and_report};
use super::suggest::is_instance_shaped;
use dcs_wait::{Client, ConnectError, ErrorKind, HttpError, IamError};
use dcs_wait::{ExitStatus, History, JobReport, Outcome, Subject, WaitError};
use std::sync::Arc;
use std::time::Duration;

/// Waits on what `options` names — jobs, swaps, or a swap's dry run — and gives the exit
/// status.
pub async fn run(options: WaitRun) -> ExitStatus {
    let WaitRun {
        waits,
        client,
        history,
        mut run,
    } = options;
    let subjects: Vec<Subject> = match &waits {
        Waits::Jobs(ids) => ids.iter().cloned().map(Subject::Job).collect(),
        Waits::Swap(ids) => ids.iter().cloned().map(Subject::Swap).collect(),
        Waits::DryRun(ids) | Waits::Ready(ids, _) | Waits::RecordDryRun(ids, _) => {
            ids.iter().cloned().map(Subject::Instance).collect()
        }
        Waits::Backup(ids, _) => ids.iter().cloned().map(Subject::Backup).collect(),
        Waits::FollowBackup(id, _) => vec![Subject::Backup(id.clone())],
        Waits::Restore(id, _, _) | Waits::FollowRestore(id, _) => {
            vec![Subject::Restore(id.clone())]
        }
    };
    let client: Client = match client.connect().await {
        Ok(client) => client,
        Err(e) => {
            let Some(error) = e.unreadable() else {
                say(&format!("dcs-wait: {}", in_flags(&e)));
                return ExitStatus::Usage;
            };
            // Nothing could be read: each still gets its report, with the reason.
            tracing::error!("{}", in_flags(&e));
            let reports: Vec<JobReport> = subjects
                .iter()
                .map(|subject| JobReport::not_begun(subject, error.clone()))
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
    run.wait.history = Arc::new(history.as_ref().map(|(_, h)| h.clone()).unwrap_or_default());
    let (reports, status) = run_and_report(&subjects, run, |wait, signals| {
        let stop = signals.first();
        async move {
            let mut reports = match &waits {
                Waits::Jobs(ids) => dcs_wait::wait_all(client, ids, &wait, stop).await,
                Waits::Swap(ids) => dcs_wait::swap_all(client, ids, &wait, stop).await,
                Waits::DryRun(ids) => dcs_wait::check_all(client, ids, &wait, stop).await,
                Waits::Ready(ids, since) => {
                    dcs_wait::ready_all(client, ids, *since, &wait, stop).await
                }
                Waits::Backup(ids, request) => {
                    dcs_wait::backup_all(client, ids, request, &wait, stop).await
                }
                Waits::FollowBackup(id, backup) => {
                    vec![dcs_wait::follow_backup(client, id, backup, &wait, stop).await]
                }
                Waits::Restore(id, backup, remark) => {
                    let remark = remark.as_deref();
                    vec![dcs_wait::restore(client, id, backup, remark, &wait, stop).await]
                }
                Waits::FollowRestore(id, restore) => {
                    vec![dcs_wait::follow_restore(client, id, restore, &wait, stop).await]
                }
                Waits::RecordDryRun(ids, from) => {
                    dcs_wait::check_records(client, ids, from.as_ref(), &wait, stop).await
                }
            };
            reports.iter_mut().for_each(in_our_words);
            reports
        }
    })
    .await;
    if let Some((path, mut history)) = history {
        remember(&mut history, &reports);
        if let Err(e) = history.save(&path) {
            tracing::warn!("history {} not written ({e})", path.display());
        }
    }
    status
}

/// How this command line adds a trusted CA.
const CA_FLAGS: &str = " (dcs-wait --ca-bundle FILE, or SSL_CERT_FILE)";

/// A report's error with what this command line offers: how to trust a CA, and the
/// instance commands for a job id not found that has an instance id's shape.
fn in_our_words(report: &mut JobReport) {
    let (Some(WaitError::Request(error)), job_id) = (report.error.as_mut(), &report.job_id) else {
        return;
    };
    match error.kind {
        ErrorKind::Tls => error.message.push_str(CA_FLAGS),
        ErrorKind::NotFound if report.instance_id.is_none() => {
            if let Some(id) = job_id.as_ref().filter(|id| is_instance_shaped(id.as_str())) {
                error.message.push_str(&format!(
                    " ({id} has the shape of an instance id, not a job id: to wait until \
                     the instance is ready, dcs-wait instance {id}; to swap it, dcs-wait swap {id})"
                ));
            }
        }
        _ => {}
    }
}

/// A set-up mistake in the words of this command line: its flags beside the library's
/// variables, and what lies under it.
fn in_flags(error: &ConnectError) -> String {
    let said = match error {
        ConnectError::NoProjectId => "no project id: give --project-id ID, set \
             HUAWEICLOUD_SDK_PROJECT_ID, or give --region so that it can be looked up at IAM"
            .into(),
        ConnectError::Iam(IamError::NotOne { region, count }) => {
            format!("IAM knows {count} projects named {region}, not exactly one: give --project-id")
        }
        ConnectError::Http(HttpError::NoTrustRoots(_)) => format!("{error}{CA_FLAGS}"),
        other => other.to_string(),
    };
    crate::common::causes::said_with_causes(said, error)
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

//! Many waits under one deadline: each runs on the driver in a task of its own, and the
//! reports come back in order. Cancelling (the caller's future, or fail-fast) ends them all.

use super::engine::{drive, Clock, Kind};
use super::error::WaitError;
use super::observer::WaitEvent;
use super::options::WaitOptions;
use super::report::{JobReport, Outcome};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// One wait of the kind `wait` makes of each id, all sharing `source`, all at once under one
/// deadline; the reports come in the order of `ids`. When `cancel` completes, or the first
/// failure comes with [`fail_fast`](WaitOptions::fail_fast), every wait ends as
/// `interrupted`.
pub(super) async fn each<S, I, K, C>(
    source: S,
    ids: &[I],
    wait: impl Fn(&Arc<S>, &I) -> K,
    options: &WaitOptions,
    cancel: C,
) -> Vec<JobReport>
where
    K: Kind + 'static,
    C: Future<Output = ()>,
{
    let source = Arc::new(source);
    let waits = ids.iter().map(|id| wait(&source, id)).collect();
    let token = CancellationToken::new();
    let all = run_all(waits, options, &token);
    tokio::pin!(all, cancel);
    tokio::select! {
        reports = &mut all => return reports,
        () = &mut cancel => token.cancel(),
    }
    all.await
}

/// One wait alone, on the caller's task: [`each`] of one without the fan.
pub(super) async fn one<K: Kind>(wait: K, options: &WaitOptions) -> JobReport {
    let clock = Clock::from_now(options.timeout);
    let shared = Arc::new(options.clone());
    let report = drive(wait, shared, clock, seed(options), CancellationToken::new()).await;
    finished(options, &report);
    report
}

fn seed(options: &WaitOptions) -> u64 {
    options.seed.unwrap_or_else(|| fastrand::u64(..))
}

fn finished(options: &WaitOptions, report: &JobReport) {
    if let Some(observer) = &options.observer {
        observer.on_event(&WaitEvent::Finished(report));
    }
}

async fn run_all<K: Kind + 'static>(
    waits: Vec<K>,
    options: &WaitOptions,
    cancel: &CancellationToken,
) -> Vec<JobReport> {
    let clock = Clock::from_now(options.timeout);
    let seed = seed(options);
    // Cancelled by the caller (through `cancel`) or by fail_fast (this one alone).
    let stop = cancel.child_token();
    let shared = Arc::new(options.clone());
    let mut tasks = tokio::task::JoinSet::new();
    let mut index_of = HashMap::new();
    let mut subjects = Vec::with_capacity(waits.len());
    for (index, kind) in waits.into_iter().enumerate() {
        let own_seed = seed.wrapping_add((index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let (options, stop) = (shared.clone(), stop.clone());
        subjects.push(kind.subject().clone());
        let handle = tasks.spawn(drive(kind, options, clock, own_seed, stop));
        index_of.insert(handle.id(), index);
    }
    let mut reports: Vec<Option<JobReport>> = vec![None; subjects.len()];
    let mut first_failure: Option<(usize, Outcome)> = None;
    while let Some(joined) = tasks.join_next_with_id().await {
        let (index, report) = match joined {
            Ok((id, report)) => (index_of[&id], report),
            Err(e) => {
                // A wait that panicked is a bug; it still gets a report, not a crash of all.
                let index = index_of[&e.id()];
                let error = WaitError::Internal(format!("the wait stopped: {e}"));
                let report = JobReport::new(&subjects[index], Outcome::Error, None, 0, Some(error));
                (index, report)
            }
        };
        finished(options, &report);
        let failed = matches!(report.outcome, Outcome::Failed | Outcome::Error);
        if options.fail_fast && failed && first_failure.is_none() {
            tracing::warn!(
                "{}: {}; fail-fast stops the other waits",
                report.name(),
                report.outcome.as_str()
            );
            first_failure = Some((index, report.outcome));
            stop.cancel();
        }
        reports[index] = Some(report);
    }
    let mut reports: Vec<JobReport> = reports.into_iter().flatten().collect();
    if let (Some((failed, outcome)), false) = (first_failure, cancel.is_cancelled()) {
        for report in &mut reports {
            if report.outcome == Outcome::Interrupted {
                report.error = Some(WaitError::FailFast(format!(
                    "stopped waiting: {} ended {}, and fail-fast is on",
                    subjects[failed],
                    outcome.as_str()
                )));
            }
        }
    }
    reports
}

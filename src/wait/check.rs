//! Dry runs: read each instance and say whether DCS would accept a swap now, or a backup or
//! restore (its backup looked up too). No start is sent.

use super::backup::{not_listed, page_through, RecordSource};
use super::engine::{Kind, Look, Reads};
use super::error::WaitError;
use super::fan_out;
use super::options::WaitOptions;
use super::report::{JobReport, Outcome, Subject};
use super::swap::{InstanceSource, OnInstance};
use crate::api::{BackupId, BackupRecord, Client, Instance, InstanceId, PollError};
use std::future::Future;
use std::sync::Arc;

/// Reads every instance, as a swap's dry run: no start is sent. An instance that is
/// `RUNNING` is a success; one that cannot be read, or is in another state, is an error
/// (`not_running`). Transient faults are retried until the deadline.
pub async fn check_all<C>(
    client: Client,
    instance_ids: &[InstanceId],
    options: &WaitOptions,
    cancel: C,
) -> Vec<JobReport>
where
    C: Future<Output = ()>,
{
    check_all_from(client, instance_ids, options, cancel).await
}

/// [`check_all`] on any source: the client, or a test's.
pub(crate) async fn check_all_from<S, C>(
    source: S,
    instance_ids: &[InstanceId],
    options: &WaitOptions,
    cancel: C,
) -> Vec<JobReport>
where
    S: InstanceSource,
    C: Future<Output = ()>,
{
    let check = |source: &Arc<S>, instance_id: &InstanceId| Check {
        on: OnInstance::new(source, instance_id, Subject::Instance),
        status: None,
    };
    fan_out::each(source, instance_ids, check, options, cancel).await
}

/// One read of the instance for a dry run, or the look that a failed read is.
async fn read_instance<S: InstanceSource>(
    source: &S,
    instance_id: &InstanceId,
    reads: &mut Reads<'_>,
) -> Result<Result<Instance, Look>, Outcome> {
    Ok(match reads.read(|| source.instance(instance_id)).await? {
        Ok(instance) => Ok(instance),
        // No such instance: no grace, a start would be refused as well.
        Err(PollError::NotFound(error)) => Err(Look::Failed(PollError::Final(error))),
        Err(failure) => Err(Look::Failed(failure)),
    })
}

/// One instance's dry run.
struct Check<S> {
    on: OnInstance<S>,
    /// The status read, once read.
    status: Option<String>,
}

impl<S: InstanceSource> Kind for Check<S> {
    fn subject(&self) -> &Subject {
        &self.on.subject
    }

    async fn look(&mut self, reads: &mut Reads<'_>) -> Result<Look, Outcome> {
        let instance = match read_instance(&*self.on.source, &self.on.id, reads).await? {
            Ok(instance) => instance,
            Err(failed) => return Ok(failed),
        };
        let status = instance.status.clone().unwrap_or_else(|| "-".into());
        let mode = instance.cache_mode.as_deref().unwrap_or("unknown mode");
        tracing::info!(
            "{}: {status}, {mode}, {} {} (dry run: no swap sent)",
            self.on.id,
            instance.engine.as_deref().unwrap_or(""),
            instance.engine_version.as_deref().unwrap_or("")
        );
        self.status = instance.status.clone();
        Ok(if instance.is_running() {
            Look::End(Outcome::Success, None)
        } else {
            let error = WaitError::NotRunning(format!(
                "the instance is {status} ({mode}), not RUNNING: DCS would refuse a swap now"
            ));
            Look::End(Outcome::Error, Some(error))
        })
    }

    fn report(self, outcome: Outcome, polls: u32, error: Option<WaitError>) -> JobReport {
        let mut report = JobReport::new(&self.on.subject, outcome, None, polls, error);
        report.status = self.status;
        report
    }
}

/// Reads every instance, as a backup's dry run, or (`from` a backup) a restore's: the
/// instance must be readable and of a kind that can be backed up (not single-node), and the
/// backup must be listed, have succeeded and support restoring. Nothing is started.
pub async fn check_records<C>(
    client: Client,
    instance_ids: &[InstanceId],
    from: Option<&BackupId>,
    options: &WaitOptions,
    cancel: C,
) -> Vec<JobReport>
where
    C: Future<Output = ()>,
{
    let check = |source: &Arc<Client>, instance_id: &InstanceId| RecordCheck {
        on: OnInstance::new(source, instance_id, Subject::Instance),
        from: from.cloned(),
        status: None,
    };
    fan_out::each(client, instance_ids, check, options, cancel).await
}

/// One instance's backup or restore dry run.
struct RecordCheck<S> {
    on: OnInstance<S>,
    /// The backup a restore would be from.
    from: Option<BackupId>,
    status: Option<String>,
}

impl<S: RecordSource> RecordCheck<S> {
    /// Why DCS would refuse: `None` when it would not.
    async fn refusal(
        &mut self,
        instance: &Instance,
        reads: &mut Reads<'_>,
    ) -> Result<Result<Option<String>, PollError>, Outcome> {
        if instance
            .cache_mode
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("single"))
        {
            return Ok(Ok(Some(
                "a single-node instance cannot be backed up or restored: only master/standby \
                 and cluster instances can"
                    .into(),
            )));
        }
        let Some(backup_id) = &self.from else {
            return Ok(Ok(None));
        };
        let (source, id) = (&*self.on.source, &self.on.id);
        let list = |page| async move { source.backups(id, &page).await };
        let wanted = |r: &BackupRecord| r.backup_id.as_deref() == Some(backup_id.as_str());
        let found = match reads.read(|| page_through(list, wanted)).await? {
            Ok((found, pages)) => {
                reads.paid_for(pages.saturating_sub(1)).await?;
                found
            }
            Err(failure) => return Ok(Err(failure)),
        };
        let Some((backup, _)) = found else {
            return Ok(Err(match not_listed("backup", backup_id.as_str(), id) {
                PollError::NotFound(error) => PollError::Final(error),
                other => other,
            }));
        };
        Ok(Ok(if backup.status != crate::api::RecordStatus::Succeed {
            Some(format!(
                "backup {backup_id} is {}: a restore needs one that succeeded (DCS.4087)",
                backup.status.as_str()
            ))
        } else if backup.is_support_restore == Some(false) {
            Some(format!("backup {backup_id} does not support restoring"))
        } else {
            None
        }))
    }
}

impl<S: RecordSource> Kind for RecordCheck<S> {
    fn subject(&self) -> &Subject {
        &self.on.subject
    }

    async fn look(&mut self, reads: &mut Reads<'_>) -> Result<Look, Outcome> {
        let instance = match read_instance(&*self.on.source, &self.on.id, reads).await? {
            Ok(instance) => instance,
            Err(failed) => return Ok(failed),
        };
        self.status = instance.status.clone();
        let what = if self.from.is_some() {
            "restore"
        } else {
            "backup"
        };
        tracing::info!(
            "{}: {}, {} (dry run: no {what} sent)",
            self.on.id,
            instance.status.as_deref().unwrap_or("-"),
            instance.cache_mode.as_deref().unwrap_or("unknown mode"),
        );
        Ok(match self.refusal(&instance, reads).await? {
            Ok(None) => Look::End(Outcome::Success, None),
            Ok(Some(why)) => Look::End(
                Outcome::Error,
                Some(WaitError::NotPossible(format!(
                    "{why}: DCS would refuse the {what}"
                ))),
            ),
            Err(failure) => Look::Failed(failure),
        })
    }

    fn report(self, outcome: Outcome, polls: u32, error: Option<WaitError>) -> JobReport {
        let mut report = JobReport::new(&self.on.subject, outcome, None, polls, error);
        report.status = self.status;
        report
    }
}

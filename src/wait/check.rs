//! A swap's dry run: read each instance and say whether DCS would accept a swap now. No start
//! is sent.

use super::engine::{Kind, Look, Reads};
use super::fan_out;
use super::options::WaitOptions;
use super::report::{JobReport, Outcome, Subject};
use super::swap::InstanceSource;
use crate::api::{ApiError, ErrorKind, InstanceId, PollError};
use std::future::Future;
use std::sync::Arc;

/// Reads every instance, as a swap's dry run: no start is sent. An instance that is
/// `RUNNING` is a success; one that cannot be read, or is in another state, is an error
/// (`not_running`). Transient faults are retried until the deadline.
pub async fn check_all<S, C>(
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
        source: source.clone(),
        subject: Subject::Instance(instance_id.clone()),
        instance_id: instance_id.clone(),
        status: None,
    };
    fan_out::each(source, instance_ids, check, options, cancel).await
}

/// One instance's dry run.
struct Check<S> {
    source: Arc<S>,
    subject: Subject,
    instance_id: InstanceId,
    /// The status read, once read.
    status: Option<String>,
}

impl<S: InstanceSource> Kind for Check<S> {
    fn subject(&self) -> &Subject {
        &self.subject
    }

    async fn look(&mut self, reads: &mut Reads<'_>) -> Result<Look, Outcome> {
        let instance = match reads
            .read(|| self.source.instance(&self.instance_id))
            .await?
        {
            Ok(instance) => instance,
            // No such instance: no grace, a swap would be refused as well.
            Err(PollError::NotFound(error)) => return Ok(Look::Failed(PollError::Final(error))),
            Err(failure) => return Ok(Look::Failed(failure)),
        };
        let status = instance.status.clone().unwrap_or_else(|| "-".into());
        let mode = instance.cache_mode.as_deref().unwrap_or("unknown mode");
        tracing::info!(
            "{}: {status}, {mode}, {} {} (dry run: no swap sent)",
            self.instance_id,
            instance.engine.as_deref().unwrap_or(""),
            instance.engine_version.as_deref().unwrap_or("")
        );
        self.status = instance.status.clone();
        Ok(if instance.is_running() {
            Look::End(Outcome::Success, None)
        } else {
            let error = ApiError::new(
                ErrorKind::NotRunning,
                format!(
                    "the instance is {status} ({mode}), not RUNNING: DCS would refuse a swap now"
                ),
            );
            Look::End(Outcome::Error, Some(error))
        })
    }

    fn report(self, outcome: Outcome, polls: u32, error: Option<ApiError>) -> JobReport {
        let mut report = JobReport::new(&self.subject, outcome, None, polls, error);
        report.status = self.status;
        report
    }
}

//! Start a master/standby swap and wait for it: once, never twice, on the one start-once
//! piece ([`start_once`](super::start_once)). What is the swap's own: its `PUT`, its job
//! followed by id, and, after an answer that proves nothing, a `masterStandbySwapJob` task
//! created since the start as the evidence that it started (followed as a job).

use super::fan_out;
use super::options::WaitOptions;
use super::report::{JobReport, Subject};
use super::source::JobSource;
use super::start_once::{Found, Operation, Search, Seen, StartOnce};
use crate::api::{Client, Instance, InstanceId, JobId, PollError, SwapStart, TaskList, SWAP_TASK};
use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

/// What a swap asks of the outside besides jobs: its start, the instance and its tasks.
pub trait InstanceSource: JobSource {
    /// One start of a swap on `instance_id`: see [`SwapStart`].
    fn start_swap(&self, instance_id: &InstanceId) -> impl Future<Output = SwapStart> + Send;

    /// One read of the instance.
    fn instance(
        &self,
        instance_id: &InstanceId,
    ) -> impl Future<Output = Result<Instance, PollError>> + Send;

    /// One read of the instance's background tasks, newest first: created since `since`
    /// (server clock), or of any age.
    fn tasks(
        &self,
        instance_id: &InstanceId,
        since: Option<SystemTime>,
    ) -> impl Future<Output = Result<TaskList, PollError>> + Send;

    /// The server's time, as near as the source knows it.
    fn server_now(&self) -> SystemTime;
}

/// What every wait on an instance holds: where it reads, what it is about, and which
/// instance. One constructor for the readiness, the dry runs and the start-once operations.
pub(super) struct OnInstance<S> {
    pub(super) source: Arc<S>,
    pub(super) subject: Subject,
    pub(super) id: InstanceId,
}

impl<S> OnInstance<S> {
    /// `instance_id`, read through `source`; `subject` says what its wait is about.
    pub(super) fn new(
        source: &Arc<S>,
        instance_id: &InstanceId,
        subject: fn(InstanceId) -> Subject,
    ) -> OnInstance<S> {
        OnInstance {
            source: source.clone(),
            subject: subject(instance_id.clone()),
            id: instance_id.clone(),
        }
    }
}

impl InstanceSource for Client {
    fn start_swap(&self, instance_id: &InstanceId) -> impl Future<Output = SwapStart> + Send {
        Client::start_swap(self, instance_id)
    }

    fn instance(
        &self,
        instance_id: &InstanceId,
    ) -> impl Future<Output = Result<Instance, PollError>> + Send {
        self.get_instance(instance_id)
    }

    fn tasks(
        &self,
        instance_id: &InstanceId,
        since: Option<SystemTime>,
    ) -> impl Future<Output = Result<TaskList, PollError>> + Send {
        self.list_tasks(instance_id, since)
    }

    fn server_now(&self) -> SystemTime {
        Client::server_now(self)
    }
}

/// Starts a master/standby swap on every instance at once and waits for each, under one
/// deadline ([`WaitOptions::timeout`] covers the starts too). Reports come back in the order
/// of `instance_ids`, each with `instance_id` and the started `job_id` (none when no swap is
/// known to have started). `cancel` ends every wait as for [`wait_all`](super::wait_all).
///
/// No instance is ever swapped twice: see the module's documentation.
///
/// ```no_run
/// # async fn example(client: dcs_wait::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let instances = vec!["5560df16-cebf-4473-95c4-d8b0ba1ab0e6".parse()?];
/// let reports =
///     dcs_wait::swap_all(client, &instances, &Default::default(), std::future::pending()).await;
/// println!("{:?} {}", reports[0].job_id, reports[0].outcome);
/// # Ok(()) }
/// ```
pub async fn swap_all<C>(
    client: Client,
    instance_ids: &[InstanceId],
    options: &WaitOptions,
    cancel: C,
) -> Vec<JobReport>
where
    C: Future<Output = ()>,
{
    swap_all_from(client, instance_ids, options, cancel).await
}

/// [`swap_all`] on any source: the client, or a test's.
pub(crate) async fn swap_all_from<S, C>(
    source: S,
    instance_ids: &[InstanceId],
    options: &WaitOptions,
    cancel: C,
) -> Vec<JobReport>
where
    S: InstanceSource,
    C: Future<Output = ()>,
{
    let swap =
        |source: &Arc<S>, instance_id: &InstanceId| StartOnce::new(source, Swap, instance_id, ());
    fan_out::each(source, instance_ids, swap, options, cancel).await
}

/// A master/standby swap.
struct Swap;

impl<S: InstanceSource> Operation<S> for Swap {
    type Id = JobId;
    type Extra = ();
    type Request = ();
    const NAME: &'static str = "swap";
    const ID_NAME: &'static str = "job";
    const SUBJECT: fn(InstanceId) -> Subject = Subject::Swap;

    fn start<'a>(
        &'a self,
        source: &'a S,
        instance_id: &'a InstanceId,
        _: &'a (),
    ) -> impl Future<Output = SwapStart> + Send + 'a {
        source.start_swap(instance_id)
    }

    async fn follow<'a>(
        &'a self,
        source: &'a S,
        _: &'a InstanceId,
        job_id: &'a JobId,
    ) -> Result<Seen<()>, PollError> {
        let job = source.fetch(job_id).await?;
        Ok(Seen {
            job,
            extra: (),
            requests: 1,
        })
    }

    async fn find_own<'a>(
        &'a self,
        source: &'a S,
        instance_id: &'a InstanceId,
        search: &'a Search,
    ) -> Result<Option<Found<JobId, ()>>, PollError> {
        let list = source.tasks(instance_id, Some(search.asked_since)).await?;
        let task = list.tasks.iter().find(|task| {
            let key = task.id.as_deref().unwrap_or_default();
            let swap = task.name.as_deref() == Some(SWAP_TASK);
            search.is_ours(key, task.created_at, list.answered_at, swap)
        });
        Ok(task.map(|task| Found {
            key: task.id.clone().unwrap_or_default(),
            id: None,
            seen: Seen {
                job: task.as_job(list.answered_at),
                extra: (),
                requests: 1,
            },
        }))
    }

    fn evidence(&self) -> String {
        format!("a {SWAP_TASK} task created since the start")
    }

    fn check_before_retrying(&self) -> String {
        format!(
            "the instance's background tasks (a {SWAP_TASK} task since the start) and at \
             which node is the master"
        )
    }

    fn report(&self, report: &mut JobReport, id: Option<&JobId>, _: bool, _: &()) {
        if let Some(job_id) = id {
            report.job_id = Some(job_id.clone());
        }
    }
}

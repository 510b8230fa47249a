//! Where jobs come from: the one thing the wait loop asks of the outside.

use crate::api::{Client, Job, JobId, PollError};
use std::future::Future;

/// Where jobs come from: a [`Client`] (over HTTP, or dcs-sim in-process), or a test's script. The loop is generic over it, so all of them drive the very same code.
pub trait JobSource: Send + Sync + 'static {
    /// One look at `job_id`: the job, or why not and whether another try may help.
    fn fetch(&self, job_id: &JobId) -> impl Future<Output = Result<Job, PollError>> + Send;
}

impl JobSource for Client {
    fn fetch(&self, job_id: &JobId) -> impl Future<Output = Result<Job, PollError>> + Send {
        self.get_job(job_id)
    }
}

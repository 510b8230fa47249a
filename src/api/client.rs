//! The DCS API of one project at one endpoint: what the waits read.

use super::answer::Reply;
use super::answer::{classify_as, interpret, PollError};
use super::ids::{InstanceId, JobId, ProjectId};
use super::instance::{Instance, TaskList};
use super::job::Job;
use super::start::{classify_start, parse_job_id, SwapStart};
use super::transport::{Call, Exchange};
use ::http::Method;
use std::sync::Arc;
use std::time::SystemTime;
use url::Url;

/// Reads DCS jobs and instances of one project, and starts swaps. Cheap to clone: clones share one connection pool, the
/// credentials (kept fresh) and the clock correction. [`Client::from_env`] and
/// [`Client::builder`] make one.
#[derive(Debug, Clone)]
pub struct Client {
    transport: Arc<dyn Exchange>,
    endpoint: Url,
    project_id: ProjectId,
}

impl Client {
    pub(crate) fn new(
        transport: Arc<dyn Exchange>,
        endpoint: Url,
        project_id: ProjectId,
    ) -> Client {
        Client {
            transport,
            endpoint,
            project_id,
        }
    }

    /// The DCS endpoint requests go to.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// The project whose jobs are read.
    pub fn project_id(&self) -> &ProjectId {
        &self.project_id
    }

    /// `{endpoint}/v2/{project_id}/jobs/{job_id}`, keeping any path prefix of the endpoint.
    pub(crate) fn job_url(&self, job_id: &JobId) -> Url {
        self.url(&["jobs", job_id.as_str()])
    }

    /// `{endpoint}/v2/{project_id}/` and `path`: only ids and our own words go in.
    fn url(&self, path: &[&str]) -> Url {
        let mut url = self.endpoint.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .pop_if_empty()
                .extend(["v2", self.project_id.as_str()])
                .extend(path);
        }
        url
    }

    /// `{endpoint}/v2/{project_id}/instances/{instance_id}`.
    pub(crate) fn instance_url(&self, instance_id: &InstanceId) -> Url {
        self.url(&["instances", instance_id.as_str()])
    }

    /// `{endpoint}/v2/{project_id}/instances/{instance_id}/{what}`.
    pub(super) fn instance_path(&self, instance_id: &InstanceId, what: &str) -> Url {
        let mut url = self.instance_url(instance_id);
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(what);
        }
        url
    }

    /// One request of this project's, with a JSON `body` when given.
    pub(super) async fn send(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
    ) -> Result<Reply, PollError> {
        let call = Call {
            method,
            url,
            project_id: Some(self.project_id.as_str()),
            body,
        };
        self.transport.request(call).await
    }

    /// The server's time as near as this client knows it: its own clock, corrected by what
    /// a refused signature taught.
    pub(crate) fn server_now(&self) -> SystemTime {
        SystemTime::try_from(self.transport.server_now()).unwrap_or_else(|_| SystemTime::now())
    }

    /// Starts a master/standby swap: one `PUT …/async-swap`, never repeated here. The answer
    /// says what it proves ([`SwapStart`]): only [`SwapStart::NotStarted`] and
    /// [`SwapStart::Busy`] allow another call.
    pub(crate) async fn start_swap(&self, instance_id: &InstanceId) -> SwapStart {
        let url = self.instance_path(instance_id, "async-swap");
        let sent = self.send(&Method::PUT, &url, None).await;
        classify_start(sent, SystemTime::now(), parse_job_id)
    }

    /// One GET of the instance, classified like a job's.
    pub(crate) async fn get_instance(
        &self,
        instance_id: &InstanceId,
    ) -> Result<Instance, PollError> {
        let reply = self
            .send(&Method::GET, &self.instance_url(instance_id), None)
            .await?;
        classify_as(reply, SystemTime::now(), |body, _| Instance::parse(body))
    }

    /// One GET of the instance's background tasks, newest first: those created since `since`
    /// (by the server's clock; the API counts whole seconds), or the newest hundred of any
    /// age; classified like a job's.
    pub(crate) async fn list_tasks(
        &self,
        instance_id: &InstanceId,
        since: Option<SystemTime>,
    ) -> Result<TaskList, PollError> {
        let mut url = self.instance_path(instance_id, "tasks");
        {
            let mut query = url.query_pairs_mut();
            if let Some(since) = since.and_then(|t| jiff::Timestamp::try_from(t).ok()) {
                query.append_pair("start_time", &since.strftime("%Y%m%d%H%M%S").to_string());
            }
            query.append_pair("limit", "100");
        }
        let reply = self.send(&Method::GET, &url, None).await?;
        classify_as(reply, SystemTime::now(), |body, answered_at| {
            TaskList::parse(body).map(|list| TaskList {
                answered_at,
                ..list
            })
        })
    }

    /// One GET of the job, classified: the job, or why not and whether to try again.
    pub(crate) async fn get_job(&self, job_id: &JobId) -> Result<Job, PollError> {
        let reply = self.send(&Method::GET, &self.job_url(job_id), None).await?;
        interpret(job_id, reply, SystemTime::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_url_keeps_an_endpoint_prefix() {
        use crate::api::auth::{Credentials, Provider, Source};
        let creds = Credentials::Token(secrecy::SecretString::from("t"));
        let provider = Arc::new(Provider::fixed(Source::AuthToken, creds));
        let transport = Arc::new(crate::api::transport::Transport::new(
            crate::api::http::api_client(None, false).unwrap(),
            provider,
        ));
        let client = |endpoint: &str| {
            Client::new(
                transport.clone(),
                Url::parse(endpoint).unwrap(),
                "p1".parse().unwrap(),
            )
        };
        let j1: JobId = "j1".parse().unwrap();
        assert_eq!(
            client("https://dcs.example.com/prefix/")
                .job_url(&j1)
                .as_str(),
            "https://dcs.example.com/prefix/v2/p1/jobs/j1"
        );
        assert_eq!(
            client("https://dcs.example.com").job_url(&j1).as_str(),
            "https://dcs.example.com/v2/p1/jobs/j1"
        );
    }
}

//! The DCS API of one project at one endpoint: what the waits read.

use super::answer::{interpret, PollError};
use super::ids::{JobId, ProjectId};
use super::job::Job;
use super::transport::Transport;
use std::sync::Arc;
use std::time::SystemTime;
use url::Url;

/// Reads DCS jobs of one project. Cheap to clone: clones share one connection pool, the
/// credentials (kept fresh) and the clock correction. [`Client::from_env`] and
/// [`Client::builder`] make one.
#[derive(Debug, Clone)]
pub struct Client {
    transport: Arc<Transport>,
    endpoint: Url,
    project_id: ProjectId,
}

impl Client {
    pub(super) fn new(transport: Arc<Transport>, endpoint: Url, project_id: ProjectId) -> Client {
        Client {
            transport,
            endpoint,
            project_id,
        }
    }

    /// The DCS endpoint requests go to.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The project whose jobs are read.
    pub fn project_id(&self) -> &ProjectId {
        &self.project_id
    }

    /// `{endpoint}/v2/{project_id}/jobs/{job_id}`, keeping any path prefix of the endpoint.
    pub fn job_url(&self, job_id: &JobId) -> Url {
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

    /// One GET of the job, classified: the job, or why not and whether to try again.
    ///
    /// ```no_run
    /// # async fn example(client: dcs_wait::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let job = client.get_job(&"ff8080818822bbf70188235afc24141a".parse()?).await?;
    /// println!("{}", job.status);
    /// # Ok(()) }
    /// ```
    pub async fn get_job(&self, job_id: &JobId) -> Result<Job, PollError> {
        let reply = self
            .transport
            .get(&self.job_url(job_id), Some(self.project_id.as_str()))
            .await?;
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
        let transport = Arc::new(Transport::new(
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

//! dcs-sim's job API without the socket: the same timelines, faults and answers as over
//! HTTP, handed to the client's own classification. It is a [`JobSource`], so the real wait
//! loop can run against every fault dcs-sim injects under tokio's paused clock, where hours
//! of waiting take milliseconds (property tests, benchmarks).
//!
//! What the socket would add is simulated at its edge: a dropped connection is the transport
//! error the client would see, a body is read with the client's own cap
//! ([`append_capped`]), and a trickled body takes its time.

use super::answer::Body;
use super::state::State;
use super::{jobs, Scenario, Stats};
use crate::api::answer::body_too_large;
use crate::api::http::append_capped;
use crate::api::{interpret, AnswerHeaders, ApiError, Job, JobId, PollError, Reply};
use crate::wait::JobSource;
use http_body_util::BodyExt;
use std::time::SystemTime;

/// The job API of a [`Scenario`], called directly. Requests are not signed or checked.
#[derive(Debug)]
pub struct InProcess {
    state: State,
    project_id: String,
}

impl InProcess {
    /// The job API of `scenario`, its project the scenario's (any, when it names none).
    pub fn new(scenario: Scenario) -> InProcess {
        let project_id = scenario
            .project_id
            .clone()
            .unwrap_or_else(|| "in-process".into());
        InProcess {
            state: State::new(scenario),
            project_id,
        }
    }

    /// What it has seen, as `GET /_sim/stats` would say.
    pub fn stats(&self) -> Stats {
        self.state.stats().clone()
    }

    /// One request for `job_id`, answered as over HTTP.
    pub async fn get(&self, job_id: &JobId) -> Result<Reply, PollError> {
        let request_id = self.state.next_request_id();
        self.state.stats().requests += 1;
        let Ok(mut response) =
            jobs::get(&self.state, &self.project_id, job_id.as_str(), &request_id).await
        else {
            return Err(PollError::transient(ApiError::local(
                "transport",
                "connection closed before a complete answer",
            )));
        };
        self.state.date(&mut response);
        let (parts, body) = response.into_parts();
        let status = parts.status.as_u16();
        let headers = AnswerHeaders::read(&parts.headers);
        let body = read_body(body)
            .await
            .ok_or_else(|| body_too_large(status, headers.request_id.clone()))?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// Frame by frame, as the client reads: `None` once past the cap.
async fn read_body(mut body: Body) -> Option<Vec<u8>> {
    let mut read = Vec::new();
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            append_capped(&mut read, &data).ok()?;
        }
    }
    Some(read)
}

impl JobSource for InProcess {
    async fn fetch(&self, job_id: &JobId) -> Result<Job, PollError> {
        let reply = self.get(job_id).await?;
        interpret(job_id, reply, SystemTime::now())
    }
}

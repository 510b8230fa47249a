//! dcs-sim's job and instance APIs without the socket: the same timelines, faults and
//! answers as over HTTP, handed to the client's own classification. It is a [`JobSource`]
//! and an [`InstanceSource`], so the real wait and swap loops can run against every fault
//! dcs-sim injects under tokio's paused clock, where hours of waiting take milliseconds
//! (property tests, benchmarks).
//!
//! What the socket would add is simulated at its edge: a dropped connection is the transport
//! error the client would see, a body is read with the client's own cap
//! ([`append_capped`]), and a trickled body takes its time.

use super::answer::{Answer, Body};
use super::state::State;
use super::{instances, jobs, Scenario, Stats};
use crate::api::answer::{body_too_large, classify_as};
use crate::api::http::append_capped;
use crate::api::{
    classify_start, interpret, AnswerHeaders, ApiError, ErrorKind, Instance, InstanceId, Job,
    JobId, PollError, Reply, SwapStart, TaskList,
};
use crate::wait::{InstanceSource, JobSource};
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
        let request_id = self.counted();
        let answer = jobs::get(&self.state, &self.project_id, job_id.as_str(), &request_id);
        self.reply(answer.await).await
    }

    fn counted(&self) -> String {
        self.state.stats().requests += 1;
        self.state.next_request_id()
    }

    /// What the client would read of `answer`.
    async fn reply(&self, answer: Answer) -> Result<Reply, PollError> {
        let Ok(mut response) = answer else {
            return Err(PollError::transient(ApiError::new(
                ErrorKind::Transport,
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

impl InstanceSource for InProcess {
    async fn start_swap(&self, instance_id: &InstanceId) -> SwapStart {
        let request_id = self.counted();
        let answer = instances::start_swap(
            &self.state,
            &self.project_id,
            instance_id.as_str(),
            &request_id,
        );
        classify_start(self.reply(answer.await).await, SystemTime::now())
    }

    async fn instance(&self, instance_id: &InstanceId) -> Result<Instance, PollError> {
        let request_id = self.counted();
        let answer = instances::get(
            &self.state,
            &self.project_id,
            instance_id.as_str(),
            &request_id,
        );
        let reply = self.reply(answer.await).await?;
        classify_as(reply, SystemTime::now(), |body, _| Instance::parse(body))
    }

    async fn tasks(
        &self,
        instance_id: &InstanceId,
        since: Option<jiff::Timestamp>,
    ) -> Result<TaskList, PollError> {
        let request_id = self.counted();
        let query = since.map(|since| format!("start_time={}", since.strftime("%Y%m%d%H%M%S")));
        let answer = instances::tasks(
            &self.state,
            &self.project_id,
            instance_id.as_str(),
            query.as_deref(),
            &request_id,
        );
        let reply = self.reply(answer).await?;
        classify_as(reply, SystemTime::now(), |body, answered_at| {
            TaskList::parse(body).map(|list| TaskList {
                answered_at,
                ..list
            })
        })
    }

    fn server_now(&self) -> jiff::Timestamp {
        self.state.now()
    }
}

impl JobSource for InProcess {
    async fn fetch(&self, job_id: &JobId) -> Result<Job, PollError> {
        let reply = self.get(job_id).await?;
        interpret(job_id, reply, SystemTime::now())
    }
}

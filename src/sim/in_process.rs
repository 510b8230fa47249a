//! dcs-sim without the socket: the same handlers, timelines, faults and answers, behind the
//! very [`Client`] that talks HTTP. Every wait runs against it unchanged under tokio's paused
//! clock, where hours of waiting take milliseconds (property tests, benchmarks).
//!
//! What the socket would add is simulated at its edge: a dropped connection is the transport
//! error the client would see, a body is read with the client's own cap
//! ([`append_capped`]), and a trickled body takes its time. Requests are not signed or
//! checked.

use super::answer::{Answer, Body};
use super::router;
use super::state::State;
use super::{Scenario, Stats};
use crate::api::answer::{body_too_large, AnswerHeaders, PollError, Reply};
use crate::api::http::append_capped;
use crate::api::transport::{Call, Exchange, Sent};
use crate::api::{ApiError, Client, ErrorKind, ProjectId};
use http::Method;
use http_body_util::BodyExt;
use std::sync::Arc;
use url::Url;

/// The DCS API of a [`Scenario`], called directly, behind a [`Client`].
///
/// ```
/// # async fn example() {
/// use dcs_wait::sim::{InProcess, Scenario};
///
/// let sim = InProcess::new(Scenario::demo());
/// let job_id = "ff8080818822bbf70188235afc24141a".parse().unwrap();
/// let report = dcs_wait::wait_one(sim.client(), &job_id, &Default::default()).await;
/// assert_eq!(sim.stats().requests, u64::from(report.polls));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct InProcess {
    state: Arc<State>,
    project_id: ProjectId,
}

impl InProcess {
    /// The DCS API of `scenario`, its project the scenario's (any, when it names none).
    pub fn new(scenario: Scenario) -> InProcess {
        let project_id = scenario
            .project_id
            .as_deref()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| "in-process".parse().expect("a valid project id"));
        InProcess {
            state: Arc::new(State::new(scenario)),
            project_id,
        }
    }

    /// A client whose requests this answers.
    pub fn client(&self) -> Client {
        let endpoint = Url::parse("http://dcs-sim.in-process/").expect("a valid URL");
        Client::new(Arc::new(self.clone()), endpoint, self.project_id.clone())
    }

    /// What it has seen, as `GET /_sim/stats` would say.
    pub fn stats(&self) -> Stats {
        self.state.stats().clone()
    }

    async fn answer(&self, method: &Method, url: &Url, body: &[u8]) -> Result<Reply, PollError> {
        self.state.stats().requests += 1;
        let request_id = self.state.next_request_id();
        let answer = match router::resolve(method, url.path()) {
            Ok(route) => router::dcs(&self.state, route, url.query(), body, &request_id).await,
            Err(unrouted) => Ok(unrouted.answer(&request_id)),
        };
        self.reply(answer).await
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

impl Exchange for InProcess {
    fn request<'a>(&'a self, call: Call<'a>) -> Sent<'a> {
        Box::pin(self.answer(call.method, call.url, call.body.unwrap_or_default()))
    }

    fn server_now(&self) -> jiff::Timestamp {
        self.state.now()
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

//! The job API: an authenticated GET of a job, answered by its timeline and its faults.

use super::answer::{error, fault_answer, json, response, Answer, Trickle};
use super::scenario::{Fault, SimJob};
use super::state::{lock, JobClock, State};
use bytes::Bytes;
use http::StatusCode;
use serde::Serialize;
use std::time::Duration;
use tokio::time::Instant;

/// An authenticated GET of a job: counted, then answered by its timeline and faults.
pub(super) async fn get(state: &State, project_id: &str, job_id: &str, request_id: &str) -> Answer {
    let clock = {
        let mut jobs = lock(&state.jobs);
        let clock = jobs.entry(job_id.to_string()).or_insert_with(|| JobClock {
            origin: Instant::now(),
            // Its own clock, like its Date header: a skewed server is skewed throughout.
            origin_epoch_ms: state.now().as_millisecond(),
            requests: 0,
        });
        clock.requests += 1;
        *clock
    };
    let elapsed_ms = clock.origin.elapsed().as_millis() as u64;
    state
        .stats()
        .per_job
        .entry(job_id.to_string())
        .or_default()
        .push(elapsed_ms);
    if state
        .scenario
        .project_id
        .as_deref()
        .is_some_and(|expected| expected != project_id)
    {
        return Ok(error(
            StatusCode::FORBIDDEN,
            "111401004",
            "The project ID does not match the credentials.",
            request_id,
        ));
    }
    let scripted = state
        .scenario
        .jobs
        .iter()
        .find(|j| j.job_id == job_id)
        .cloned();
    let Some(job) = scripted.or_else(|| lock(&state.started_jobs).get(job_id).cloned()) else {
        // No route documents this answer; a code from DCS's published table.
        return Ok(error(
            StatusCode::NOT_FOUND,
            "111400070",
            "Invalid job ID.",
            request_id,
        ));
    };
    let job = &job;
    let fault = job
        .faults
        .iter()
        .find(|rule| rule.applies(clock.requests, elapsed_ms))
        .map(|rule| &rule.fault);
    answer(job, clock, fault, request_id).await
}

async fn answer(job: &SimJob, clock: JobClock, fault: Option<&Fault>, request_id: &str) -> Answer {
    let mut status_override = None;
    match fault {
        None => {}
        Some(Fault::Malformed) => {
            let body = format!(r#"{{"job_id": "{}", "status": "RUN"#, job.job_id);
            return Ok(response(
                StatusCode::OK,
                "application/json",
                body.into(),
                request_id,
            ));
        }
        Some(Fault::Status { status }) => status_override = Some(status.clone()),
        Some(Fault::Oversized { bytes }) => {
            // A job, then spaces: valid JSON, only too long to be read.
            let mut body = serde_json::to_vec(&job_body(job, clock, None)).unwrap_or_default();
            // At most 64 MiB: a scenario cannot make the simulator itself run out of memory.
            let len = (*bytes).min(64 << 20) as usize;
            body.resize(body.len().max(len), b' ');
            return Ok(response(
                StatusCode::OK,
                "application/json",
                body.into(),
                request_id,
            ));
        }
        Some(Fault::Trickle { ms }) => {
            let body = serde_json::to_vec(&job_body(job, clock, None)).unwrap_or_default();
            let mut answer = response(StatusCode::OK, "application/json", Bytes::new(), request_id);
            *answer.body_mut() = Trickle::body(body.into(), Duration::from_millis(*ms));
            return Ok(answer);
        }
        Some(Fault::OtherJob) => {
            let mut body = job_body(job, clock, None);
            body.job_id = format!("{}-other", job.job_id);
            return Ok(json(StatusCode::OK, &body, request_id));
        }
        Some(other) => {
            if let Some(answer) = fault_answer(other, request_id).await {
                return answer;
            }
        }
    }
    let body = job_body(job, clock, status_override);
    Ok(json(StatusCode::OK, &body, request_id))
}

/// Exactly the documented shape: every field a string or null.
#[derive(Serialize)]
struct JobBody {
    job_id: String,
    job_type: String,
    status: String,
    begin_time: Option<String>,
    end_time: Option<String>,
    fail_reason: Option<String>,
}

fn job_body(job: &SimJob, clock: JobClock, status_override: Option<String>) -> JobBody {
    let elapsed_ms = clock.origin.elapsed().as_millis() as u64;
    let begin = clock.origin_epoch_ms + job.start_delay_ms as i64;
    let end = begin + job.run_ms as i64;
    let (status, begin_time, end_time, fail_reason) = if elapsed_ms < job.start_delay_ms {
        ("INIT".to_string(), None, None, None)
    } else if elapsed_ms < job.start_delay_ms + job.run_ms {
        ("RUNNING".to_string(), Some(begin), None, None)
    } else {
        (
            job.final_status.clone(),
            Some(begin),
            Some(end),
            job.fail_reason.clone(),
        )
    };
    JobBody {
        job_id: job.job_id.clone(),
        job_type: job.job_type.clone(),
        status: status_override.unwrap_or(status),
        begin_time: begin_time.map(|t| t.to_string()),
        end_time: end_time.map(|t| t.to_string()),
        fail_reason,
    }
}

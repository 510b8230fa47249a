//! Instances: `GET …/instances/{id}`, `PUT …/instances/{id}/async-swap` and
//! `GET …/instances/{id}/tasks`. A swap's start creates a job (served by the job API, its
//! clock starting at once) and a `masterStandbySwapJob` background task that ends with it;
//! the start's faults answer before or after the swap starts, as the scenario says.

use super::answer::{error, fault_answer, json, Answer};
use super::records;
use super::scenario::{SimInstance, SimJob, StartFault};
use super::state::{lock, JobClock, State, SwapTask};
use crate::api::Details;
use http::StatusCode;
use serde_json::json;
use tokio::time::Instant;

/// Why an instance is not answered for.
pub(super) enum Unknown {
    /// The request names another project than the scenario's.
    Project,
    /// No such instance.
    Instance,
}

impl Unknown {
    pub(super) fn answer(self, request_id: &str) -> Answer {
        Ok(match self {
            Unknown::Project => error(
                StatusCode::FORBIDDEN,
                "111401004",
                "The project ID does not match the credentials.",
                request_id,
            ),
            Unknown::Instance => error(
                StatusCode::NOT_FOUND,
                "111404022",
                "The instance does not exist.",
                request_id,
            ),
        })
    }
}

pub(super) fn find<'a>(
    state: &'a State,
    project_id: &str,
    instance_id: &str,
) -> Result<&'a SimInstance, Unknown> {
    if state
        .scenario
        .project_id
        .as_deref()
        .is_some_and(|expected| expected != project_id)
    {
        return Err(Unknown::Project);
    }
    state
        .scenario
        .instances
        .iter()
        .find(|i| i.instance_id == instance_id)
        .ok_or(Unknown::Instance)
}

/// `GET …/instances/{id}`: its status on its timeline, or a fault.
pub(super) async fn get(
    state: &State,
    project_id: &str,
    instance_id: &str,
    request_id: &str,
) -> Answer {
    let instance = match find(state, project_id, instance_id) {
        Ok(instance) => instance,
        Err(unknown) => return unknown.answer(request_id),
    };
    let (read, elapsed_ms) = {
        let now_ms = state.now().as_millisecond();
        let mut instances = lock(&state.instances);
        let seen = instances.entry(instance_id.to_string()).or_default();
        let (origin, _) = seen.origin(now_ms);
        seen.reads += 1;
        (seen.reads, origin.elapsed().as_millis() as u64)
    };
    let fault = instance
        .faults
        .iter()
        .find(|rule| rule.applies(read, elapsed_ms));
    if let Some(fault) = fault {
        if let Some(answer) = fault_answer(&fault.fault, request_id).await {
            return answer;
        }
    }
    // A restore overwrites the data: the instance says so while it runs.
    let status = match records::running(state, instance) {
        (_, true) => "RESTORING",
        _ => instance.status_at(elapsed_ms),
    };
    Ok(json(
        StatusCode::OK,
        &json!({
            "instance_id": instance.instance_id,
            "name": format!("sim-{}", instance.instance_id),
            "status": status,
            "cache_mode": instance.cache_mode,
            "engine": "Redis",
            "engine_version": "6.0",
            "capacity": 1,
        }),
        request_id,
    ))
}

/// `PUT …/instances/{id}/async-swap`: counted, then faulted or started as the scenario says.
pub(super) async fn start_swap(
    state: &State,
    project_id: &str,
    instance_id: &str,
    request_id: &str,
) -> Answer {
    let instance = match find(state, project_id, instance_id) {
        Ok(instance) => instance,
        Err(unknown) => return unknown.answer(request_id),
    };
    let (start, elapsed_ms) = {
        let now_ms = state.now().as_millisecond();
        let mut instances = lock(&state.instances);
        let swaps = instances.entry(instance_id.to_string()).or_default();
        swaps.origin(now_ms);
        let first = *swaps.first_start.get_or_insert_with(Instant::now);
        let mut stats = state.stats();
        let counted = stats
            .per_instance
            .entry(instance_id.to_string())
            .or_default();
        counted.starts += 1;
        (counted.starts, first.elapsed().as_millis() as u64)
    };
    let fault = instance
        .start_faults
        .iter()
        .find(|f| f.rule.applies(start, elapsed_ms));
    let started = start_under(
        fault,
        || refusal(state, instance),
        || swap(state, instance),
        request_id,
    );
    let job_id = match started.await {
        Ok(job_id) => job_id,
        Err(answer) => return answer,
    };
    Ok(json(
        StatusCode::OK,
        &json!({ "job_id": job_id }),
        request_id,
    ))
}

/// A start under `fault` (the one that applies to it, if any): with none, refused as
/// `refusal` says or started by `start`; with one, its answer before the start (`started`
/// false: nothing starts, unless the fault only stalls) or after it. The started one's id,
/// or the answer that replaces it.
pub(super) async fn start_under(
    fault: Option<&StartFault>,
    refusal: impl FnOnce() -> Option<(&'static str, &'static str)>,
    start: impl FnOnce() -> String,
    request_id: &str,
) -> Result<String, Answer> {
    match fault {
        Some(fault) if !fault.started => {
            if let Some(answer) = fault_answer(&fault.rule.fault, request_id).await {
                return Err(answer);
            }
            // A stall that ends: the start goes through after all.
            Ok(start())
        }
        Some(fault) => {
            let id = start();
            match fault_answer(&fault.rule.fault, request_id).await {
                Some(answer) => Err(answer),
                None => Ok(id),
            }
        }
        None => match refusal() {
            Some((code, message)) => Err(Ok(error(
                StatusCode::BAD_REQUEST,
                code,
                message,
                request_id,
            ))),
            None => Ok(start()),
        },
    }
}

/// Why DCS would refuse a swap on `instance` now, as its code and message: not
/// master/standby, not `RUNNING`, or busy with a task.
fn refusal(state: &State, instance: &SimInstance) -> Option<(&'static str, &'static str)> {
    if instance.cache_mode != "ha" {
        return Some((
            "DCS.4086",
            "Only master/standby instances support this operation.",
        ));
    }
    let (views, since_origin) = views(state, instance);
    if instance.status_at(since_origin.max(0) as u64) != "RUNNING" {
        return Some(("DCS.4049", "The instance status is not running."));
    }
    match records::running(state, instance) {
        (true, _) => return Some(("DCS.4096", "The instance is being backed up.")),
        (_, true) => return Some(("DCS.4097", "The instance is being restored.")),
        _ => {}
    }
    if views.iter().any(TaskView::in_progress) {
        return Some(("DCS.4017", "A job is still running on the instance."));
    }
    None
}

/// Whether one of the instance's tasks (a swap's too) is in progress.
pub(super) fn swap_in_progress(state: &State, instance: &SimInstance) -> bool {
    views(state, instance).0.iter().any(TaskView::in_progress)
}

/// Starts a swap: its job and its task, both from now.
fn swap(state: &State, instance: &SimInstance) -> String {
    let n = {
        let mut stats = state.stats();
        let counted = stats
            .per_instance
            .entry(instance.instance_id.clone())
            .or_default();
        counted.swaps += 1;
        stats.per_instance.values().map(|c| c.swaps).sum::<u32>()
    };
    let job_id = format!("ff80a0a0{n:024x}");
    let now = Instant::now();
    let now_ms = state.now().as_millisecond();
    let job = SimJob {
        job_id: job_id.clone(),
        job_type: "masterStandbySwapJob".into(),
        start_delay_ms: 0,
        run_ms: instance.swap_run_ms,
        final_status: instance.swap_final_status.clone(),
        fail_reason: instance.swap_fail_reason.clone(),
        faults: Vec::new(),
        expect: None,
    };
    lock(&state.jobs).insert(
        job_id.clone(),
        JobClock {
            origin: now,
            origin_epoch_ms: now_ms,
            requests: 0,
        },
    );
    lock(&state.started_jobs).insert(job_id.clone(), job);
    lock(&state.instances)
        .entry(instance.instance_id.clone())
        .or_default()
        .tasks
        .push(SwapTask {
            id: format!("task-{n}"),
            job_id: job_id.clone(),
            created: now,
            created_epoch_ms: now_ms,
        });
    job_id
}

/// `GET …/instances/{id}/tasks?start_time=…&end_time=…` (`yyyyMMddHHmmss`, UTC, on the
/// creation time): its scripted tasks and its swaps' tasks that exist by now, newest first.
pub(super) fn tasks(
    state: &State,
    project_id: &str,
    instance_id: &str,
    query: Option<&str>,
    request_id: &str,
) -> Answer {
    let instance = match find(state, project_id, instance_id) {
        Ok(instance) => instance,
        Err(unknown) => return unknown.answer(request_id),
    };
    let (since, until) = (
        query_time(query, "start_time"),
        query_time(query, "end_time"),
    );
    let (views, _) = views(state, instance);
    let mut tasks: Vec<&TaskView> = views
        .iter()
        .filter(|task| task.age_ms >= 0)
        .filter(|task| since.is_none_or(|since| task.created_ms >= since))
        .filter(|task| until.is_none_or(|until| task.created_ms <= until))
        .collect();
    tasks.sort_by_key(|task| std::cmp::Reverse(task.created_ms));
    let tasks: Vec<serde_json::Value> = tasks.into_iter().map(TaskView::json).collect();
    Ok(json(
        StatusCode::OK,
        &json!({"task_count": tasks.len().to_string(), "tasks": tasks}),
        request_id,
    ))
}

/// The instance's tasks as they stand now — scripted, and its swaps' — and the time since
/// the first request about it.
fn views(state: &State, instance: &SimInstance) -> (Vec<TaskView>, i64) {
    let now_ms = state.now().as_millisecond();
    let mut instances = lock(&state.instances);
    let seen = instances.entry(instance.instance_id.clone()).or_default();
    let (origin, origin_ms) = seen.origin(now_ms);
    let since_origin = origin.elapsed().as_millis() as i64;
    let views = {
        let scripted = instance.tasks.iter().enumerate().map(|(i, task)| TaskView {
            id: format!("{}-task-{i}", instance.instance_id),
            name: task.name.clone(),
            created_ms: origin_ms + task.start_ms,
            age_ms: since_origin - task.start_ms,
            run_ms: task.run_ms,
            final_status: task.final_status.clone(),
            details: task.details.clone(),
            params: String::new(),
        });
        let swaps = seen.tasks.iter().map(|task| TaskView {
            id: task.id.clone(),
            name: "masterStandbySwapJob".into(),
            created_ms: task.created_epoch_ms,
            age_ms: task.created.elapsed().as_millis() as i64,
            run_ms: instance.swap_run_ms,
            final_status: instance.swap_final_status.clone(),
            details: instance.swap_fail_reason.as_deref().map(Details::text),
            params: format!("job {}", task.job_id),
        });
        scripted.chain(swaps).collect()
    };
    (views, since_origin)
}

/// A task as it stands now.
struct TaskView {
    id: String,
    name: String,
    created_ms: i64,
    /// How long ago it was created (negative: not yet).
    age_ms: i64,
    run_ms: u64,
    final_status: String,
    details: Option<Details>,
    params: String,
}

impl TaskView {
    /// Created, and not yet ended.
    fn in_progress(&self) -> bool {
        (0..self.run_ms as i64).contains(&self.age_ms)
    }

    fn json(&self) -> serde_json::Value {
        let ended = self.age_ms >= self.run_ms as i64;
        let status = match (ended, self.final_status.as_str()) {
            (false, _) => "EXECUTING",
            (true, "SUCCESS") => "SUCCESS",
            (true, "FAIL" | "FAILED") => "FAILED",
            (true, other) => other,
        };
        let updated = self.created_ms + self.age_ms.clamp(0, self.run_ms as i64);
        json!({
            "id": self.id,
            "name": self.name,
            "user_name": "sim",
            "params": self.params,
            "status": status,
            "created_at": rfc3339(self.created_ms),
            "updated_at": rfc3339(updated),
            "enable_show": true,
            "details": match &self.details {
                Some(details) if ended => details.0.clone(),
                _ => json!({}),
            },
        })
    }
}

/// The query's `name`.
pub(super) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The query's `name` as a time (`yyyyMMddHHmmss`, UTC), epoch milliseconds.
pub(super) fn query_time(query: Option<&str>, name: &str) -> Option<i64> {
    let text = query_param(query, name)?;
    let at = jiff::civil::DateTime::strptime("%Y%m%d%H%M%S", &text).ok()?;
    jiff::tz::TimeZone::UTC
        .to_timestamp(at)
        .ok()
        .map(|at| at.as_millisecond())
}

/// `2020-06-17T07:38:42.503Z`, as the API writes times.
pub(super) fn rfc3339(epoch_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(epoch_ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

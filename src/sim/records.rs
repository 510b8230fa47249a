//! Backups and restores: `POST …/instances/{id}/backups` and `…/restores` start one, `GET`
//! of the same paths lists the records, newest first, ten to a page unless `limit` says more,
//! and 204 with no body when there is none. A record is `waiting`, then `backuping` or
//! `restoring`, then its final status, on the instance's clock; while a restore runs the
//! instance is `RESTORING`, and while either runs a new start (or a swap) is refused busy
//! (`DCS.4096` backing up, `DCS.4097` restoring).

use super::answer::{error, json, Answer, Body};
use super::instances::{find, query_param, query_time, rfc3339, start_under, swap_in_progress};
use super::scenario::{SimInstance, SimRecord};
use super::state::{lock, StartedRecord, State};
use http::{Response, StatusCode};
use serde_json::json;
use tokio::time::Instant;

/// A backup or a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Of {
    Backups,
    Restores,
}

impl Of {
    /// Its status while in progress.
    fn in_progress(self) -> &'static str {
        match self {
            Of::Backups => "backuping",
            Of::Restores => "restoring",
        }
    }
}

/// A record as it stands now.
struct View {
    of: Of,
    record: SimRecord,
    created_ms: i64,
    /// How long ago it was created (negative: not yet).
    age_ms: i64,
}

impl View {
    fn span_ms(&self) -> i64 {
        (self.record.waiting_ms + self.record.run_ms) as i64
    }

    fn running(&self) -> bool {
        (0..self.span_ms()).contains(&self.age_ms)
    }

    fn status(&self) -> &str {
        if self.age_ms < self.record.waiting_ms as i64 {
            "waiting"
        } else if self.age_ms < self.span_ms() {
            self.of.in_progress()
        } else {
            &self.record.final_status
        }
    }

    fn json(&self, instance_id: &str) -> serde_json::Value {
        let updated = self.created_ms + self.age_ms.clamp(0, self.span_ms());
        let ended = !self.running();
        let succeeded = ended && self.status() == "succeed";
        let progress = match (ended, self.record.run_ms) {
            (true, _) | (false, 0) => 100.0,
            (false, run) => {
                let done = (self.age_ms - self.record.waiting_ms as i64).max(0) as f64;
                (done / run as f64 * 100.0).min(100.0)
            }
        };
        let error_code = match (&self.record.error_code, ended) {
            (Some(code), true) => json!(code),
            _ => json!({}),
        };
        let name = format!("{}_{}", self.of_word(), stamp(self.created_ms));
        match self.of {
            Of::Backups => json!({
                "backup_id": self.record.id,
                "period": {},
                "backup_name": name,
                "instance_id": instance_id,
                "size": if succeeded { 880_232 } else { 0 },
                "backup_type": self.record.backup_type,
                "created_at": rfc3339(self.created_ms),
                "updated_at": rfc3339(updated),
                "progress": format!("{progress:.2}"),
                "error_code": error_code,
                "remark": self.record.remark,
                "status": self.status(),
                "is_support_restore": if succeeded { "TRUE" } else { "FALSE" },
                "execution_at": rfc3339(self.created_ms),
                "backup_format": "rdb",
            }),
            Of::Restores => json!({
                "restore_id": self.record.id,
                "backup_id": self.record.backup_id,
                "restore_name": name,
                "backup_name": self.record.backup_id.as_deref().map(|b| format!("backup_{b}")),
                "created_at": rfc3339(self.created_ms),
                "updated_at": rfc3339(updated),
                "progress": format!("{progress:.2}"),
                "error_code": error_code,
                "restore_remark": self.record.remark,
                "backup_remark": serde_json::Value::Null,
                "status": self.status(),
            }),
        }
    }

    fn of_word(&self) -> &'static str {
        match self.of {
            Of::Backups => "backup",
            Of::Restores => "restore",
        }
    }
}

/// The instance's records of one kind as they stand now: scripted, then started ones.
fn views(state: &State, instance: &SimInstance, of: Of) -> Vec<View> {
    let now_ms = state.now().as_millisecond();
    let mut instances = lock(&state.instances);
    let seen = instances.entry(instance.instance_id.clone()).or_default();
    let (origin, origin_ms) = seen.origin(now_ms);
    let since_origin = origin.elapsed().as_millis() as i64;
    let (scripted, started) = match of {
        Of::Backups => (&instance.backups, &seen.backups),
        Of::Restores => (&instance.restores, &seen.restores),
    };
    let scripted = scripted.iter().map(|record| View {
        of,
        record: record.clone(),
        created_ms: origin_ms + record.start_ms,
        age_ms: since_origin - record.start_ms,
    });
    let started = started.iter().map(|started| View {
        of,
        record: started.record.clone(),
        created_ms: started.created_epoch_ms,
        age_ms: started.created.elapsed().as_millis() as i64,
    });
    scripted.chain(started).collect()
}

/// Whether a backup, and whether a restore, runs on `instance` now.
pub(super) fn running(state: &State, instance: &SimInstance) -> (bool, bool) {
    let any = |of| views(state, instance, of).iter().any(View::running);
    (any(Of::Backups), any(Of::Restores))
}

/// `GET …/backups` or `…/restores` with `begin_time`, `end_time` (`yyyyMMddHHmmss`, UTC, on
/// the creation time), `offset` and `limit`.
pub(super) fn list(
    state: &State,
    project_id: &str,
    instance_id: &str,
    of: Of,
    query: Option<&str>,
    request_id: &str,
) -> Answer {
    let instance = match find(state, project_id, instance_id) {
        Ok(instance) => instance,
        Err(unknown) => return unknown.answer(request_id),
    };
    let param = |name: &str| query_param(query, name);
    let (since, until) = (
        query_time(query, "begin_time"),
        query_time(query, "end_time"),
    );
    let offset: usize = param("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let limit: usize = param("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(10)
        .clamp(1, 1000);
    let mut views: Vec<View> = views(state, instance, of)
        .into_iter()
        .filter(|view| view.age_ms >= 0)
        .filter(|view| since.is_none_or(|since| view.created_ms >= since))
        .filter(|view| until.is_none_or(|until| view.created_ms <= until))
        .collect();
    if views.is_empty() {
        return Ok(no_content(request_id));
    }
    views.sort_by_key(|view| std::cmp::Reverse(view.created_ms));
    let total = views.len();
    let page: Vec<serde_json::Value> = views
        .iter()
        .skip(offset)
        .take(limit)
        .map(|view| view.json(instance_id))
        .collect();
    let key = match of {
        Of::Backups => "backup_record_response",
        Of::Restores => "restore_record_response",
    };
    Ok(json(
        StatusCode::OK,
        &json!({ "total_num": total, key: page }),
        request_id,
    ))
}

/// 204, as DCS answers a list with no record: no body at all.
fn no_content(request_id: &str) -> Response<Body> {
    let mut response = json(StatusCode::NO_CONTENT, &json!({}), request_id);
    *response.body_mut() = Body::default();
    response.headers_mut().remove(http::header::CONTENT_TYPE);
    response
}

/// `POST …/backups` (`{"remark", "backup_format"}`) or `…/restores` (`{"backup_id",
/// "remark"}`): counted, then faulted or started as the instance's plan says.
pub(super) async fn start(
    state: &State,
    project_id: &str,
    instance_id: &str,
    of: Of,
    body: &[u8],
    request_id: &str,
) -> Answer {
    let instance = match find(state, project_id, instance_id) {
        Ok(instance) => instance,
        Err(unknown) => return unknown.answer(request_id),
    };
    let Ok(asked) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            "DCS.4000",
            "The request body is not valid JSON.",
            request_id,
        ));
    };
    let text = |key: &str| asked.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let plan = match of {
        Of::Backups => &instance.backup,
        Of::Restores => &instance.restore,
    };
    let (start, elapsed_ms) = count(state, instance_id, of);
    let record = || SimRecord {
        id: String::new(),
        backup_id: text("backup_id"),
        start_ms: 0,
        waiting_ms: plan.waiting_ms,
        run_ms: plan.run_ms,
        final_status: plan.final_status.clone(),
        error_code: plan.error_code.clone(),
        remark: text("remark"),
        backup_type: "manual".into(),
    };
    let fault = plan
        .start_faults
        .iter()
        .find(|f| f.rule.applies(start, elapsed_ms));
    let started = start_under(
        fault,
        || refusal(state, instance, of, text("backup_id")),
        || create(state, instance, of, record()),
        request_id,
    );
    let id = match started.await {
        Ok(id) => id,
        Err(answer) => return answer,
    };
    let key = match of {
        Of::Backups => "backup_id",
        Of::Restores => "restore_id",
    };
    Ok(json(StatusCode::OK, &json!({ key: id }), request_id))
}

/// This start's number on the instance (1 for the first) and the time since the first.
fn count(state: &State, instance_id: &str, of: Of) -> (u32, u64) {
    let now_ms = state.now().as_millisecond();
    let first = {
        let mut instances = lock(&state.instances);
        let seen = instances.entry(instance_id.to_string()).or_default();
        seen.origin(now_ms);
        *match of {
            Of::Backups => &mut seen.first_backup_start,
            Of::Restores => &mut seen.first_restore_start,
        }
        .get_or_insert_with(Instant::now)
    };
    let mut stats = state.stats();
    let counted = stats.records.entry(instance_id.to_string()).or_default();
    let starts = match of {
        Of::Backups => &mut counted.backup_starts,
        Of::Restores => &mut counted.restore_starts,
    };
    *starts += 1;
    (*starts, first.elapsed().as_millis() as u64)
}

/// Why DCS would refuse the start now, as its code and message: a single-node instance, a
/// restore from a backup that did not succeed, or an instance busy with something else.
fn refusal(
    state: &State,
    instance: &SimInstance,
    of: Of,
    backup_id: Option<String>,
) -> Option<(&'static str, &'static str)> {
    if instance.cache_mode == "single" {
        return Some((
            "DCS.4086",
            "Only master/standby and cluster instances can be backed up or restored.",
        ));
    }
    if of == Of::Restores {
        let succeeded = backup_id.is_some_and(|id| {
            views(state, instance, Of::Backups)
                .iter()
                .any(|view| view.record.id == id && view.age_ms >= 0 && view.status() == "succeed")
        });
        if !succeeded {
            return Some((
                "DCS.4087",
                "Restoration is allowed only from a backup that succeeded.",
            ));
        }
    }
    let (backing_up, restoring) = running(state, instance);
    if backing_up {
        return Some(("DCS.4096", "The instance is being backed up."));
    }
    if restoring {
        return Some(("DCS.4097", "The instance is being restored."));
    }
    if swap_in_progress(state, instance) {
        return Some(("DCS.4017", "A job is still running on the instance."));
    }
    None
}

/// Starts a backup or restore from now: its id.
fn create(state: &State, instance: &SimInstance, of: Of, mut record: SimRecord) -> String {
    let n = {
        let mut stats = state.stats();
        let counted = stats
            .records
            .entry(instance.instance_id.clone())
            .or_default();
        match of {
            Of::Backups => counted.backups += 1,
            Of::Restores => counted.restores += 1,
        }
        stats
            .records
            .values()
            .map(|c| c.backups + c.restores)
            .sum::<u32>()
    };
    record.id = match of {
        Of::Backups => format!("b{n:07x}-5ac1-4d5e-9f00-000000000000"),
        Of::Restores => format!("r{n:07x}-5ac1-4d5e-9f00-000000000000"),
    };
    let started = StartedRecord {
        record: record.clone(),
        created: Instant::now(),
        created_epoch_ms: state.now().as_millisecond(),
    };
    let mut instances = lock(&state.instances);
    let seen = instances.entry(instance.instance_id.clone()).or_default();
    match of {
        Of::Backups => seen.backups.push(started),
        Of::Restores => seen.restores.push(started),
    }
    record.id
}

/// `20190510163116`, as a record's name has it.
fn stamp(epoch_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(epoch_ms)
        .map(|t| t.strftime("%Y%m%d%H%M%S").to_string())
        .unwrap_or_default()
}

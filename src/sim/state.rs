//! What dcs-sim knows and remembers: the scenario, its own clock, the counters, the
//! temporary credentials it issued, and each job's timeline; and the credential check every
//! request goes through.

use super::answer::{error, Body};
use super::scenario::Scenario;
use super::verify::{self, Lookup};
use http::{header, Response, StatusCode};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use tokio::time::Instant;

/// What the endpoint has seen; tests assert on it ("no request was sent", "no retry").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Every request but those for the counters.
    pub requests: u64,
    /// Requests refused for their credentials.
    pub rejected: u64,
    /// IAM project look-ups (counted in `requests` too).
    pub iam_requests: u64,
    /// Instance metadata requests (session token and security key; not in `requests`).
    pub metadata_requests: u64,
    /// Temporary credentials issued by instance metadata.
    pub metadata_issued: u64,
    /// For each job id asked for (known or not), when each authenticated request for it
    /// came: milliseconds after the first. Its length is the number of polls.
    pub per_job: BTreeMap<String, Vec<u64>>,
    /// For each instance a swap was asked of: its starts, and how many of them started one.
    pub per_instance: BTreeMap<String, SwapStats>,
    /// For each instance a backup or a restore was asked of: the starts, and how many of
    /// them started one.
    pub records: BTreeMap<String, RecordStats>,
}

/// The starts of backups and restores on one instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecordStats {
    /// Authenticated `POST …/backups` requests.
    pub backup_starts: u32,
    /// How many of them started a backup.
    pub backups: u32,
    /// Authenticated `POST …/restores` requests.
    pub restore_starts: u32,
    /// How many of them started a restore.
    pub restores: u32,
}

/// The starts of swaps on one instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SwapStats {
    /// Authenticated `PUT …/async-swap` requests.
    pub starts: u32,
    /// How many of them started a swap.
    pub swaps: u32,
}

/// Everything the endpoint knows, shared by its connections.
#[derive(Debug)]
pub(super) struct State {
    pub(super) scenario: Scenario,
    /// When it started, by tokio's clock and by the wall clock: its own clock runs from
    /// there on tokio's, so that under a paused (virtual) clock its `Date` and job times
    /// move with the virtual time.
    started: (Instant, jiff::Timestamp),
    pub(super) jobs: Mutex<HashMap<String, JobClock>>,
    stats: Mutex<Stats>,
    next_request_id: AtomicU64,
    /// Temporary credentials issued by instance metadata, by access key.
    issued: Mutex<HashMap<String, Issued>>,
    /// What happened to each instance, by id.
    pub(super) instances: Mutex<HashMap<String, InstanceState>>,
    /// The jobs swaps started, by job id.
    pub(super) started_jobs: Mutex<HashMap<String, super::scenario::SimJob>>,
}

/// What happened to one instance: when the first request about it and the first start came,
/// the reads of it, and the tasks its swaps created.
#[derive(Debug, Default)]
pub(super) struct InstanceState {
    /// The first request about it, of any kind: its timeline and tasks count from there.
    pub(super) first_request: Option<(Instant, i64)>,
    pub(super) first_start: Option<Instant>,
    pub(super) reads: u32,
    pub(super) tasks: Vec<SwapTask>,
    /// Backups and restores started on it, by `POST`.
    pub(super) backups: Vec<StartedRecord>,
    pub(super) restores: Vec<StartedRecord>,
    /// When the first start of a backup and of a restore came (their faults count from it).
    pub(super) first_backup_start: Option<Instant>,
    pub(super) first_restore_start: Option<Instant>,
}

/// A backup or restore started by a `POST`: its record, from its creation.
#[derive(Debug, Clone)]
pub(super) struct StartedRecord {
    pub(super) record: super::scenario::SimRecord,
    pub(super) created: Instant,
    pub(super) created_epoch_ms: i64,
}

impl InstanceState {
    /// The origin of its clock (monotonic, and epoch ms on the simulator's clock), set by the
    /// first request about it.
    pub(super) fn origin(&mut self, state_now_ms: i64) -> (Instant, i64) {
        *self
            .first_request
            .get_or_insert_with(|| (Instant::now(), state_now_ms))
    }
}

/// The background task of one swap: created with its job, ended with it.
#[derive(Debug, Clone)]
pub(super) struct SwapTask {
    pub(super) id: String,
    pub(super) job_id: String,
    pub(super) created: Instant,
    pub(super) created_epoch_ms: i64,
}

#[derive(Debug, Clone)]
pub(super) struct Issued {
    pub(super) secret_key: String,
    pub(super) security_token: String,
    pub(super) honoured_until: Instant,
}

/// A poisoned lock only means another connection panicked mid-update; the data is still the
/// best we have.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl State {
    pub(super) fn new(scenario: Scenario) -> State {
        State {
            scenario,
            started: (Instant::now(), jiff::Timestamp::now()),
            jobs: Mutex::new(HashMap::new()),
            stats: Mutex::new(Stats::default()),
            next_request_id: AtomicU64::new(1),
            issued: Mutex::new(HashMap::new()),
            instances: Mutex::new(HashMap::new()),
            started_jobs: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn stats(&self) -> MutexGuard<'_, Stats> {
        lock(&self.stats)
    }

    /// The simulator's clock, which may run off the real one on purpose.
    pub(super) fn now(&self) -> jiff::Timestamp {
        let (instant, timestamp) = self.started;
        let now = jiff::SignedDuration::try_from(instant.elapsed())
            .ok()
            .and_then(|elapsed| timestamp.checked_add(elapsed).ok())
            .unwrap_or(timestamp);
        now.checked_add(jiff::SignedDuration::from_secs(
            self.scenario.clock_offset_secs,
        ))
        .unwrap_or(now)
    }

    pub(super) fn next_request_id(&self) -> String {
        format!(
            "{:032x}",
            self.next_request_id.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Sets `Date` from the simulator's clock, skewed when the scenario says so: clients
    /// correct by it.
    pub(super) fn date(&self, response: &mut Response<Body>) {
        let printer = jiff::fmt::rfc2822::DateTimePrinter::new();
        if let Ok(date) = printer.timestamp_to_rfc9110_string(&self.now()) {
            if let Ok(value) = date.parse() {
                response.headers_mut().insert(header::DATE, value);
            }
        }
    }

    /// Temporary credentials, honoured by the credential check until they lapse.
    pub(super) fn issue(&self, access_key: String, issued: Issued) {
        lock(&self.issued).insert(access_key, issued);
    }

    fn lookup(&self, access_key: &str) -> Lookup {
        match self.scenario.auth.lookup(access_key) {
            Lookup::Unknown => match lock(&self.issued).get(access_key) {
                Some(issued) if issued.honoured_until > Instant::now() => Lookup::Found {
                    secret_key: issued.secret_key.clone(),
                    security_token: Some(issued.security_token.clone()),
                },
                Some(_) => Lookup::Expired,
                None => Lookup::Unknown,
            },
            known => known,
        }
    }

    /// Checks credentials: the 401 answer when they are refused, else nothing.
    pub(super) fn refusal(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
        request_id: &str,
    ) -> Option<Response<Body>> {
        let auth_token = self.scenario.auth.auth_token.as_deref();
        let checked = verify::check(auth_token, |ak| self.lookup(ak), parts, body, self.now());
        checked.err().map(|rejection| {
            self.stats().rejected += 1;
            error(
                StatusCode::UNAUTHORIZED,
                rejection.code,
                &rejection.message,
                request_id,
            )
        })
    }
}

/// When a job's timeline began (its first authenticated request), and how many requests it
/// has had.
#[derive(Debug, Clone, Copy)]
pub(super) struct JobClock {
    pub(super) origin: Instant,
    pub(super) origin_epoch_ms: i64,
    pub(super) requests: u32,
}

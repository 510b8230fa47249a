//! What `dcs-sim` serves: jobs with a timeline and faults, read from a JSON file.
//!
//! A job's clock starts at the first request for it (the moment a waiter starts), so a test's
//! timing does not depend on how long the process took to start. From then on it is `INIT`
//! for `start_delay_ms`, `RUNNING` for `run_ms`, then `final_status`; `begin_time` and
//! `end_time` are wall-clock epoch milliseconds, exactly `run_ms` apart.

use serde::{Deserialize, Serialize};

/// A whole scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// When set, requests for another project are refused with 403.
    #[serde(default)]
    pub project_id: Option<String>,
    /// The credentials it accepts.
    #[serde(default)]
    pub auth: SimAuth,
    /// The jobs it serves.
    pub jobs: Vec<SimJob>,
    /// The simulator's clock runs this far from the real one (its `Date` header and its
    /// check of `X-Sdk-Date`): a client with a skewed clock, seen from the other side.
    #[serde(default)]
    pub clock_offset_secs: i64,
    /// When set, it serves ECS instance metadata too.
    #[serde(default)]
    pub metadata: Option<SimMetadata>,
    /// What IAM's `GET /v3/projects?name=` knows.
    #[serde(default)]
    pub iam_projects: Vec<SimProject>,
    /// Instances: read, swapped (`PUT …/async-swap` starts a job and a background task),
    /// and their tasks listed.
    #[serde(default)]
    pub instances: Vec<SimInstance>,
}

/// An instance, and what a swap on it does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimInstance {
    /// Its id.
    pub instance_id: String,
    /// Its status (default `RUNNING`).
    #[serde(default = "running")]
    pub status: String,
    /// Its `cache_mode` (default `ha`: master/standby).
    #[serde(default = "ha")]
    pub cache_mode: String,
    /// How long the job a swap starts runs (default 3 s).
    #[serde(default = "three_seconds")]
    pub swap_run_ms: u64,
    /// How that job ends (default `SUCCESS`).
    #[serde(default = "default_final_status")]
    pub swap_final_status: String,
    /// Its `fail_reason` when it fails.
    #[serde(default)]
    pub swap_fail_reason: Option<String>,
    /// What goes wrong with the answers to its swaps' starts, and when.
    #[serde(default)]
    pub start_faults: Vec<StartFault>,
    /// Its status over time, from the first request about it: each span's status until
    /// `until_ms`; `status` after the last.
    #[serde(default)]
    pub timeline: Vec<StatusSpan>,
    /// Background tasks of its own (besides its swaps'), on the same clock.
    #[serde(default)]
    pub tasks: Vec<SimTask>,
    /// What goes wrong with the answers to reads of it (`GET …/instances/{id}`), and when.
    #[serde(default)]
    pub faults: Vec<FaultRule>,
    /// Its backup records before any start (a schedule's, a person's), on its clock.
    #[serde(default)]
    pub backups: Vec<SimRecord>,
    /// Its restore records before any start, on its clock.
    #[serde(default)]
    pub restores: Vec<SimRecord>,
    /// What a backup started on it does (`POST …/backups`).
    #[serde(default = "SimPlan::backup")]
    pub backup: SimPlan,
    /// What a restore started on it does (`POST …/restores`).
    #[serde(default = "SimPlan::restore")]
    pub restore: SimPlan,
}

/// A backup or restore record that exists without a start: created `start_ms` after the first
/// request about its instance (negative: before it), `waiting` for `waiting_ms`, in progress
/// (`backuping`, `restoring`) for `run_ms`, then `final_status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimRecord {
    /// Its id (`backup_id` or `restore_id`).
    pub id: String,
    /// For a restore: the backup it restores.
    #[serde(default)]
    pub backup_id: Option<String>,
    /// When it is created, ms from the first request about the instance.
    #[serde(default)]
    pub start_ms: i64,
    /// How long it is `waiting`.
    #[serde(default)]
    pub waiting_ms: u64,
    /// How long it is in progress.
    #[serde(default)]
    pub run_ms: u64,
    /// How it ends: `succeed` (default), `failed`, `expired`, `deleted`.
    #[serde(default = "succeed")]
    pub final_status: String,
    /// The `error_code` of a failed one (`dcs.08.0002`); served as `{}` when none.
    #[serde(default)]
    pub error_code: Option<String>,
    /// Its remark.
    #[serde(default)]
    pub remark: Option<String>,
    /// `manual` (default) or `auto`.
    #[serde(default = "manual")]
    pub backup_type: String,
}

/// What a backup or restore started on an instance does, and what goes wrong with the
/// answers to its starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimPlan {
    /// How long it is `waiting`.
    #[serde(default)]
    pub waiting_ms: u64,
    /// How long it is in progress.
    pub run_ms: u64,
    /// How it ends (default `succeed`).
    #[serde(default = "succeed")]
    pub final_status: String,
    /// The `error_code` of a failed one.
    #[serde(default)]
    pub error_code: Option<String>,
    /// What goes wrong with the answers to its starts, and when (as a swap's).
    #[serde(default)]
    pub start_faults: Vec<StartFault>,
}

impl SimPlan {
    /// A backup: half a second waiting, four seconds backing up, `succeed`.
    pub fn backup() -> SimPlan {
        SimPlan::lasting(4_000)
    }

    /// A restore: half a second waiting, six seconds restoring, `succeed`.
    pub fn restore() -> SimPlan {
        SimPlan::lasting(6_000)
    }

    /// Half a second waiting, `run_ms` in progress, `succeed`, no fault.
    pub fn lasting(run_ms: u64) -> SimPlan {
        SimPlan {
            waiting_ms: 500,
            run_ms,
            final_status: succeed(),
            error_code: None,
            start_faults: Vec::new(),
        }
    }
}

fn succeed() -> String {
    "succeed".into()
}
fn manual() -> String {
    "manual".into()
}

/// A status an instance shows until `until_ms` after the first request about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusSpan {
    /// The status.
    pub status: String,
    /// Until when, ms after the first request about the instance.
    pub until_ms: u64,
}

/// A background task: created `start_ms` after the first request about its instance
/// (negative: before it), `EXECUTING` for `run_ms`, then `final_status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimTask {
    /// Its name (`EXTEND`, `ChangeInstanceSpec`, `BindEip`, …).
    pub name: String,
    /// When it is created, ms from the first request about the instance.
    #[serde(default)]
    pub start_ms: i64,
    /// How long it executes.
    #[serde(default)]
    pub run_ms: u64,
    /// How it ends (default `SUCCESS`).
    #[serde(default = "default_final_status")]
    pub final_status: String,
    /// Its details, served once it has ended: an object that describes the change, as
    /// DCS sends it (`{"old_capacity": "2", "new_capacity": "4"}`), or a text.
    #[serde(default)]
    pub details: Option<crate::api::Details>,
}

impl SimInstance {
    /// A `RUNNING` master/standby instance whose swaps take `swap_run_ms`, with no fault.
    pub fn new(instance_id: &str, swap_run_ms: u64) -> SimInstance {
        SimInstance {
            instance_id: instance_id.into(),
            status: running(),
            cache_mode: ha(),
            swap_run_ms,
            swap_final_status: default_final_status(),
            swap_fail_reason: None,
            start_faults: Vec::new(),
            timeline: Vec::new(),
            tasks: Vec::new(),
            faults: Vec::new(),
            backups: Vec::new(),
            restores: Vec::new(),
            backup: SimPlan::backup(),
            restore: SimPlan::restore(),
        }
    }

    /// Its status `elapsed_ms` after the first request about it.
    pub fn status_at(&self, elapsed_ms: u64) -> &str {
        self.timeline
            .iter()
            .find(|span| elapsed_ms < span.until_ms)
            .map_or(&self.status, |span| &span.status)
    }
}

fn running() -> String {
    "RUNNING".into()
}
fn ha() -> String {
    "ha".into()
}
fn three_seconds() -> u64 {
    3_000
}

/// A fault of the answer to a swap's start, and when it applies: on the listed starts of the
/// instance (1 is the first) and/or on every start until `until_ms` after the first.
/// `started`: the swap starts before the fault answers (an answer lost after the fact);
/// otherwise nothing starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartFault {
    /// When it applies, and what goes wrong.
    #[serde(flatten)]
    pub rule: FaultRule,
    /// Whether the swap starts before the fault answers.
    #[serde(default)]
    pub started: bool,
}

impl StartFault {
    /// DCS's 400 `DCS.4049` (the instance is not running: busy) on the first `starts`
    /// starts: nothing starts.
    pub fn busy(starts: u32) -> StartFault {
        let requests: Vec<u32> = (1..=starts).collect();
        StartFault {
            rule: FaultRule::on(&requests, Fault::busy()),
            started: false,
        }
    }

    /// `fault` on the listed starts, the swap started (`started`) or not.
    pub fn on(requests: &[u32], fault: Fault, started: bool) -> StartFault {
        StartFault {
            rule: FaultRule::on(requests, fault),
            started,
        }
    }
}

/// Instance metadata: each `securitykey` request issues new temporary credentials (access
/// key `{access_key_prefix}{n}`, and so on), which the job API then accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimMetadata {
    /// Issued access keys start with this.
    #[serde(default = "default_tmp_ak")]
    pub access_key_prefix: String,
    /// Issued secret keys start with this.
    #[serde(default = "default_tmp_sk")]
    pub secret_key_prefix: String,
    /// Issued security tokens start with this.
    #[serde(default = "default_tmp_sts")]
    pub security_token_prefix: String,
    /// `expires_at` is this far after issue.
    #[serde(default = "default_lifetime")]
    pub lifetime_secs: u64,
    /// How long the job API accepts each issued credential; its whole lifetime when absent.
    /// Shorter, it tests that a client refreshes before `expires_at` comes near.
    #[serde(default)]
    pub honoured_ms: Option<u64>,
    /// Whether the token step (`PUT .../api/token`) exists; without it the PUT answers 404.
    #[serde(default = "yes")]
    pub session_tokens: bool,
}

impl Default for SimMetadata {
    fn default() -> Self {
        SimMetadata {
            access_key_prefix: default_tmp_ak(),
            secret_key_prefix: default_tmp_sk(),
            security_token_prefix: default_tmp_sts(),
            lifetime_secs: default_lifetime(),
            honoured_ms: None,
            session_tokens: true,
        }
    }
}

fn default_tmp_ak() -> String {
    "TMPAK".into()
}
fn default_tmp_sk() -> String {
    "tmp-secret-key-".into()
}
fn default_tmp_sts() -> String {
    "tmp-security-token-".into()
}
fn default_lifetime() -> u64 {
    3600
}
fn yes() -> bool {
    true
}

/// A project IAM knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimProject {
    /// Its id.
    pub id: String,
    /// Its name: a region's.
    pub name: String,
}

/// The credentials the endpoint accepts. These are test values, not secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimAuth {
    /// The access key.
    pub access_key: String,
    /// The secret key.
    pub secret_key: String,
    /// When set, signed requests must carry this `X-Security-Token`, signed.
    #[serde(default)]
    pub security_token: Option<String>,
    /// When set, `X-Auth-Token` with this value is accepted instead of a signature.
    #[serde(default)]
    pub auth_token: Option<String>,
}

impl SimAuth {
    /// What the static credentials say of an access key.
    pub(super) fn lookup(&self, access_key: &str) -> super::verify::Lookup {
        if access_key == self.access_key {
            super::verify::Lookup::Found {
                secret_key: self.secret_key.clone(),
                security_token: self.security_token.clone(),
            }
        } else {
            super::verify::Lookup::Unknown
        }
    }
}

impl Default for SimAuth {
    fn default() -> Self {
        SimAuth {
            access_key: "DEMOACCESSKEY".into(),
            secret_key: "demo-secret-key".into(),
            security_token: None,
            auth_token: Some("demo-iam-token".into()),
        }
    }
}

/// One job and its timeline: `INIT` for `start_delay_ms`, `RUNNING` for `run_ms`, then
/// `final_status`, counted from the first request for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimJob {
    /// Its id (any text: a scenario may hold ids a client must refuse).
    pub job_id: String,
    /// Its `job_type` (default `masterStandbySwapJob`).
    #[serde(default = "default_job_type")]
    pub job_type: String,
    /// How long it is `INIT`.
    #[serde(default)]
    pub start_delay_ms: u64,
    /// How long it is `RUNNING`: `end_time − begin_time`.
    #[serde(default)]
    pub run_ms: u64,
    /// The status it ends with (default `SUCCESS`).
    #[serde(default = "default_final_status")]
    pub final_status: String,
    /// Its `fail_reason` once ended.
    #[serde(default)]
    pub fail_reason: Option<String>,
    /// What goes wrong with its answers, and when.
    #[serde(default)]
    pub faults: Vec<FaultRule>,
    /// What a waiter should conclude, as the report's `outcome` says it (`success`,
    /// `failed`, `timeout`, `error`); the demo checks it.
    #[serde(default)]
    pub expect: Option<String>,
}

fn default_job_type() -> String {
    "masterStandbySwapJob".into()
}

fn default_final_status() -> String {
    "SUCCESS".into()
}

/// A fault and when it applies: on the listed requests for the job (1 is the first), and/or
/// on every request until `until_ms` after the job's first request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// The requests it applies to, 1 the first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<u32>,
    /// Every request before this many milliseconds after the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<u64>,
    /// What goes wrong.
    #[serde(flatten)]
    pub fault: Fault,
}

impl FaultRule {
    /// `fault` on the listed requests.
    pub fn on(requests: &[u32], fault: Fault) -> FaultRule {
        FaultRule {
            requests: requests.to_vec(),
            until_ms: None,
            fault,
        }
    }

    /// `fault` on every request for the first `until_ms`.
    pub fn until(until_ms: u64, fault: Fault) -> FaultRule {
        FaultRule {
            requests: Vec::new(),
            until_ms: Some(until_ms),
            fault,
        }
    }

    /// Whether it applies to request number `request`, `elapsed_ms` after the first.
    pub fn applies(&self, request: u32, elapsed_ms: u64) -> bool {
        self.requests.contains(&request) || self.until_ms.is_some_and(|until| elapsed_ms < until)
    }
}

/// What can go wrong with one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Fault {
    /// An error answer with a DCS/APIG-style JSON body (`Retry-After` optional): 5xx, 429,
    /// 404, 400, 403.
    Error {
        /// The HTTP status.
        http_status: u16,
        /// `error_code` (default `DCS.5000`).
        #[serde(default)]
        error_code: Option<String>,
        /// `error_msg`.
        #[serde(default)]
        error_msg: Option<String>,
        /// `Retry-After`, as sent.
        #[serde(default)]
        retry_after: Option<String>,
        /// `X-Request-Id`, in place of the generated one.
        #[serde(default)]
        request_id: Option<String>,
    },
    /// An HTML error page, as a proxy or load balancer sends.
    Html {
        /// The HTTP status (default 502).
        #[serde(default = "bad_gateway")]
        http_status: u16,
        /// The page's title, in place of the status.
        #[serde(default)]
        title: Option<String>,
    },
    /// Holds the answer for `ms` (forever when absent), then answers normally.
    Stall {
        /// How long; forever when absent.
        #[serde(default)]
        ms: Option<u64>,
    },
    /// Closes the connection without an answer.
    Drop,
    /// 200 with a cut-off JSON body.
    Malformed,
    /// 200 with an empty body.
    Empty,
    /// 200 with this status in place of the real one.
    Status {
        /// The status sent.
        status: String,
    },
    /// 200 with the job padded to `bytes` (a client must stop reading at its cap).
    Oversized {
        /// The body's length.
        bytes: u64,
    },
    /// 200, headers at once, then the body one byte every `ms`.
    Trickle {
        /// Milliseconds between bytes.
        ms: u64,
    },
    /// 200 with another job: its `job_id` is this one's with `-other` appended.
    OtherJob,
    /// 302 to `location`.
    Redirect {
        /// The `Location` header.
        location: String,
    },
}

fn bad_gateway() -> u16 {
    502
}

impl std::fmt::Display for FaultRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.fault {
            Fault::Error {
                http_status,
                error_code,
                retry_after,
                ..
            } => {
                write!(f, "HTTP {http_status}")?;
                if let Some(code) = error_code {
                    write!(f, " {code}")?;
                }
                if let Some(after) = retry_after {
                    write!(f, " (Retry-After {after})")?;
                }
            }
            Fault::Html { http_status, .. } => write!(f, "HTML {http_status} page")?,
            Fault::Stall { ms: Some(ms) } => write!(f, "{ms} ms stall")?,
            Fault::Stall { ms: None } => f.write_str("endless stall")?,
            Fault::Drop => f.write_str("dropped connection")?,
            Fault::Malformed => f.write_str("malformed body")?,
            Fault::Empty => f.write_str("empty body")?,
            Fault::Status { status } => write!(f, "status {status:?}")?,
            Fault::Oversized { bytes } => write!(f, "{bytes}-byte body")?,
            Fault::Trickle { ms } => write!(f, "body trickled a byte every {ms} ms")?,
            Fault::OtherJob => f.write_str("another job's answer")?,
            Fault::Redirect { location } => write!(f, "redirect to {location}")?,
        }
        if !self.requests.is_empty() {
            let list: Vec<String> = self.requests.iter().map(u32::to_string).collect();
            write!(f, " on request {}", list.join(", "))?;
        }
        if let Some(until) = self.until_ms {
            write!(f, " for the first {until} ms")?;
        }
        Ok(())
    }
}

impl Fault {
    /// `http_status` with DCS's internal-error body.
    pub fn server_error(http_status: u16) -> Fault {
        Fault::Error {
            http_status,
            error_code: Some("DCS.5000".into()),
            error_msg: Some("Internal server error.".into()),
            retry_after: None,
            request_id: None,
        }
    }

    /// API Gateway's 429 (`APIG.0308`) with this `Retry-After`.
    pub fn throttled(retry_after: &str) -> Fault {
        Fault::Error {
            http_status: 429,
            error_code: Some("APIG.0308".into()),
            error_msg: Some("The request is throttled.".into()),
            retry_after: Some(retry_after.into()),
            request_id: None,
        }
    }

    /// DCS's 400 for a swap the instance refuses while it is busy (`DCS.4049`).
    pub fn busy() -> Fault {
        Fault::Error {
            http_status: 400,
            error_code: Some("DCS.4049".into()),
            error_msg: Some("The instance status is not running.".into()),
            retry_after: None,
            request_id: None,
        }
    }

    /// DCS's 400 for an instance that cannot swap at all (`DCS.4855`).
    pub fn swap_not_supported() -> Fault {
        Fault::Error {
            http_status: 400,
            error_code: Some("DCS.4855".into()),
            error_msg: Some("Master/standby switchover is not supported.".into()),
            retry_after: None,
            request_id: None,
        }
    }

    /// A 404 for a job DCS does not know (yet), with the code of its published table.
    pub fn not_found() -> Fault {
        Fault::Error {
            http_status: 404,
            error_code: Some("111400070".into()),
            error_msg: Some("Invalid job ID.".into()),
            retry_after: None,
            request_id: None,
        }
    }
}

impl Scenario {
    /// The built-in scenario of `dcs-wait --demo` and of `dcs-sim` without `--scenario`.
    pub fn demo() -> Scenario {
        Scenario {
            project_id: Some("0123456789abcdef0123456789abcdef".into()),
            auth: SimAuth::default(),
            jobs: vec![
                SimJob {
                    job_id: "ff8080818822bbf70188235afc24141a".into(),
                    job_type: "masterStandbySwapJob".into(),
                    start_delay_ms: 200,
                    run_ms: 2_800,
                    final_status: "SUCCESS".into(),
                    fail_reason: None,
                    faults: vec![FaultRule::on(
                        &[2],
                        Fault::Html {
                            http_status: 502,
                            title: None,
                        },
                    )],
                    expect: Some("success".into()),
                },
                SimJob {
                    job_id: "ff8080818822bbf70188235b0c3a1b2c".into(),
                    job_type: "extendDCSInstance".into(),
                    start_delay_ms: 100,
                    run_ms: 1_500,
                    final_status: "FAIL".into(),
                    fail_reason: Some(
                        "Resize failed: the availability zone has no capacity left for this spec."
                            .into(),
                    ),
                    faults: Vec::new(),
                    expect: Some("failed".into()),
                },
                SimJob {
                    job_id: "ff8080818822bbf70188235b1d4e5f60".into(),
                    job_type: "modifyBandwidth".into(),
                    start_delay_ms: 0,
                    run_ms: 1_200,
                    final_status: "SUCCESS".into(),
                    fail_reason: None,
                    faults: vec![FaultRule::on(&[1], Fault::throttled("1"))],
                    expect: Some("success".into()),
                },
            ],
            clock_offset_secs: 0,
            metadata: None,
            iam_projects: Vec::new(),
            instances: vec![
                SimInstance {
                    instance_id: "5560df16-cebf-4473-95c4-d8b0ba1ab0e6".into(),
                    swap_run_ms: 2_500,
                    start_faults: vec![StartFault::busy(1)],
                    ..SimInstance::new("", 0)
                },
                // Backed up.
                SimInstance {
                    instance_id: "7c1a2b3d-0e4f-4a5b-8c6d-9e0f1a2b3c4d".into(),
                    backup: SimPlan::lasting(2_000),
                    ..SimInstance::new("", 0)
                },
                // Restored from last night's backup.
                SimInstance {
                    instance_id: "9d8e7f6a-5b4c-4d3e-8f1a-0b9c8d7e6f5a".into(),
                    restore: SimPlan::lasting(2_500),
                    backups: vec![SimRecord {
                        id: "b0c1d2e3-f4a5-4b6c-8d7e-9f0a1b2c3d4e".into(),
                        backup_id: None,
                        start_ms: -86_400_000,
                        waiting_ms: 0,
                        run_ms: 95_000,
                        final_status: succeed(),
                        error_code: None,
                        remark: Some("nightly".into()),
                        backup_type: "auto".into(),
                    }],
                    ..SimInstance::new("", 0)
                },
                // Resized by someone else: ready once its task is done.
                SimInstance {
                    instance_id: "3b2a1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d".into(),
                    timeline: vec![StatusSpan {
                        status: "EXTENDING".into(),
                        until_ms: 2_000,
                    }],
                    tasks: vec![SimTask {
                        name: "EXTEND".into(),
                        start_ms: -500,
                        run_ms: 2_500,
                        final_status: "SUCCESS".into(),
                        details: None,
                    }],
                    ..SimInstance::new("", 0)
                },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_round_trips_through_json() {
        let demo = Scenario::demo();
        let text = serde_json::to_string_pretty(&demo).unwrap();
        assert_eq!(serde_json::from_str::<Scenario>(&text).unwrap(), demo);
    }

    #[test]
    fn fault_rules_read_from_json() {
        let rule: FaultRule =
            serde_json::from_str(r#"{"requests":[2,3],"kind":"stall","ms":1500}"#).unwrap();
        assert_eq!(
            rule,
            FaultRule::on(&[2, 3], Fault::Stall { ms: Some(1500) })
        );
        assert!(rule.applies(3, 0) && !rule.applies(1, 0));
        let rule: FaultRule = serde_json::from_str(r#"{"until_ms":2000,"kind":"drop"}"#).unwrap();
        assert!(rule.applies(9, 1999) && !rule.applies(9, 2000));
        let minimal: Scenario = serde_json::from_str(r#"{"jobs":[{"job_id":"j"}]}"#).unwrap();
        assert_eq!(minimal.jobs[0].final_status, "SUCCESS");
    }
}

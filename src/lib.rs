//! dcs-wait waits for Huawei Cloud DCS (managed Redis) jobs to finish and reports how they
//! ended: did it succeed, how long did it take, and why did it fail.
//!
//! # In your `Cargo.toml`
//!
//! A program that only waits needs none of the binaries' crates, and tokio's current-thread
//! runtime is enough (`signal` only to stop on Ctrl-C, as [`wait_all`]'s example does):
//!
//! ```toml
//! [dependencies]
//! dcs-wait = { version = "0.1", default-features = false }
//! tokio = { version = "1", features = ["macros", "rt", "signal"] }
//! ```
//!
//! `examples/embed` is such a program, with exactly these lines; CI checks that they match.
//!
//! # Quick start
//!
//! Wait on one job with the credentials, region and project the `dcs-wait` command would use
//! (`HUAWEICLOUD_SDK_AK`/`_SK`, `HUAWEICLOUD_SDK_REGION`, …; see [`Client::from_env`]):
//!
//! ```no_run
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let client = dcs_wait::Client::from_env().await?;
//!     let job_id: dcs_wait::JobId = "ff8080818822bbf70188235afc24141a".parse()?;
//!     let report = dcs_wait::wait_one(client, &job_id, &dcs_wait::WaitOptions::default()).await;
//!     match report.duration_ms {
//!         Some(ms) => println!("{job_id}: {} in {ms} ms", report.outcome),
//!         None => println!("{job_id}: {} ({})", report.outcome, report.detail()),
//!     }
//!     Ok(())
//! }
//! ```
//!
//! [`wait_all`] waits on many jobs under one deadline and stops when any future you give it
//! completes; [`swap_all`] starts a master/standby swap on instances and waits for it,
//! never starting one twice; [`WaitOptions`] holds every setting (deadline, schedule, rate limit, an
//! [`Observer`] told of every poll); [`ExitStatus::of_all`] turns reports into the command
//! line's exit code.
//!
//! # Layout
//!
//! Everything a dependent uses is at the crate root (this page); `sim` is the one public
//! module. Behind the door, three wings and a simulator:
//!
//! - `api` (private), the DCS API: identifiers, endpoints, credentials and signing, one
//!   signed request, what an answer means, the job and error bodies, IAM, and the
//!   [`Client`];
//! - `wait` (private), the waiting engine: the loop, the poll schedule, the history of
//!   durations, the rate limit and the reports;
//! - `sim` (feature `sim`), dcs-sim: a local DCS endpoint with scripted jobs, signature
//!   checks and injected faults, for tests and the demo.
//!
//! The command line is not in the library: it is the `dcs-wait` binary's own modules, built
//! on this door like any dependent.
//!
//! # Logging
//!
//! The waits log through `tracing`: how each wait ended under the target
//! `dcs_wait::outcome`, what it saw along the way (a status, a busy start) under
//! `dcs_wait::narration`, the rest under their modules'. A program that shows the same on a
//! display of its own (an [`Observer`]) can leave those two targets out of its log.
//!
//! # Features
//!
//! - `sim`: the simulator's HTTP server and TLS (hyper's server side, rcgen);
//! - `cli` (implies `sim`): the binaries' crates (clap, indicatif, JUnit, logging).
//!
//! Both are on by default; a program that only waits needs neither (see above).

#![warn(missing_docs)]

mod api;
mod common;
#[cfg(feature = "sim")]
pub mod sim;
mod wait;

// The one door: what a dependent uses, side by side. The wings behind it (`api`, `wait`) are
// private; the compiler keeps anything else out of reach.

/// A failed request.
pub use api::{ApiError, ErrorKind, WithCauses};
/// Identifiers, checked once.
pub use api::{BackupId, InstanceId, InvalidId, JobId, ProjectId, RestoreId};
/// What a backup asks for, and what a report holds from the API's answers.
pub use api::{BackupRequest, Details, JobDuration};
/// The client, how it is set up, and what can go wrong doing so.
pub use api::{
    Client, ClientBuilder, ConnectError, CredentialsError, EndpointError, Env, HttpError, IamError,
};
/// Waits: on jobs, on a swap, a backup or a restore started once, on an instance's
/// readiness, and the dry runs.
pub use wait::{
    backup_all, check_all, check_records, follow_backup, follow_restore, ready_all, restore,
    swap_all, wait_all, wait_one,
};
/// How to wait, and what the waits tell as they go.
pub use wait::{
    prior, History, Observer, RateLimiter, Retry, Schedule, Seen, WaitEvent, WaitOptions, Waiting,
    Window,
};
/// How each wait ended, and the exit code of them all.
pub use wait::{ExitStatus, JobReport, Outcome, Subject, TaskSeen, WaitError};

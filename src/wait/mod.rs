//! The waiting engine: one driver for every kind of wait, the kinds, and the [`JobReport`]
//! each wait gives.
//!
//! - `engine`: the driver — the deadline, the request budget, the request timeout,
//!   cancellation, the observer's events, and how failed reads are ridden out — and the
//!   `Kind` a wait supplies: what one look reads and concludes;
//! - `fan_out`: many waits under one deadline, fail-fast, cancel;
//! - `job`: [`wait_one`] and [`wait_all`], waits on jobs;
//! - `start_once`: start an operation once, then follow it — the one piece the swap, the
//!   backup and the restore share, each supplying only what is its own;
//! - `swap`: [`swap_all`], start a swap and wait for it, never twice; [`InstanceSource`],
//!   what the waits about instances ask of the outside;
//! - `backup`: [`backup_all`], [`restore`], [`follow_backup`], [`follow_restore`]: backups
//!   and restores followed through their records; [`RecordSource`];
//! - `check`: [`check_all`] and [`check_records`], dry runs;
//! - `ready`: [`ready_all`], until an instance is really ready after an operation that
//!   returns no job;
//! - `source`: [`JobSource`], what a job wait asks of the outside;
//! - `options`: [`WaitOptions`] and [`Retry`], every setting and its default;
//! - `observer`: [`Observer`] and [`WaitEvent`], what the waits tell as they go;
//! - `schedule`: when to look again ([`Schedule`]), from the job's age and type;
//! - `history`: the durations of past jobs by type ([`History`]), for the schedule;
//! - `limiter`: one budget of requests for all jobs ([`RateLimiter`]);
//! - `report`: how each wait ended ([`JobReport`], [`Outcome`]) and the exit code
//!   ([`ExitStatus`]).

mod backup;
mod check;
mod engine;
mod error;
mod fan_out;
mod history;
mod job;
mod limiter;
mod observer;
mod options;
mod ready;
mod report;
mod schedule;
#[cfg(all(test, feature = "sim"))]
mod sequences;
mod source;
mod start_once;
mod swap;

pub use backup::{backup_all, follow_backup, follow_restore, restore};
pub use check::{check_all, check_records};
#[cfg(test)]
pub(crate) use engine::LAST_POLL_HEADROOM;
pub use error::WaitError;
pub use history::History;
pub use job::{wait_all, wait_one};
pub use limiter::RateLimiter;
pub use observer::{Observer, Seen, WaitEvent, Waiting};

/// The log target of lines that narrate a wait's progress (a status, a busy start): a live
/// display that shows the same takes them off the log.
pub(crate) const NARRATION: &str = "dcs_wait::narration";
/// The log target of the line that says how a wait ended: a display that prints each
/// finished wait once takes it off the log.
pub(crate) const OUTCOME: &str = "dcs_wait::outcome";
pub use options::{Retry, WaitOptions};
pub use ready::ready_all;
pub use report::{ExitStatus, JobReport, Outcome, Subject, TaskSeen};
pub use schedule::{prior, Schedule, Window};
pub use swap::swap_all;

// What the waits ask of the outside, and the waits on any source: for the tests' own sources.
#[cfg(test)]
pub(crate) use backup::{backup_all_from, restore_from, RecordSource};
#[cfg(test)]
pub(crate) use check::check_all_from;
#[cfg(test)]
pub(crate) use job::wait_all_from;
#[cfg(test)]
pub(crate) use ready::ready_all_from;
#[cfg(test)]
pub(crate) use source::JobSource;
#[cfg(test)]
pub(crate) use swap::{swap_all_from, InstanceSource};

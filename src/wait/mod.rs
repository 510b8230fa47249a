//! The waiting engine: the loop that puts a [`JobSource`], the [`Schedule`] and the deadline
//! together, and the [`JobReport`] it gives for each job.
//!
//! - `all`: [`wait_one`] and [`wait_all`], the entry points (fan-out, fail-fast, cancel);
//! - `poll`: one job's loop (schedule, retries, deadline);
//! - `source`: [`JobSource`], what the loop asks of the outside;
//! - `swap`: [`swap_all`], start a swap and wait for it, never twice; [`check_all`], its dry
//!   run; [`InstanceSource`], what they ask of the outside;
//! - `options`: [`WaitOptions`], every setting and its default;
//! - `observer`: [`Observer`] and [`WaitEvent`], what the loop tells as it goes;
//! - `schedule`: when to look again ([`Schedule`]), from the job's age and type;
//! - `ready`: [`ready_all`], until an instance is really ready after an operation that
//!   returns no job;
//! - `history`: the durations of past jobs by type ([`History`]), for the schedule;
//! - `limiter`: one budget of requests for all jobs ([`RateLimiter`]);
//! - `report`: how each wait ended ([`JobReport`], [`Outcome`]) and the exit code
//!   ([`ExitStatus`]).

mod all;
mod history;
mod limiter;
mod observer;
mod options;
mod poll;
mod ready;
mod report;
mod schedule;
mod source;
mod swap;

pub use all::{wait_all, wait_one};
pub use history::{History, Priors, ENV_HISTORY_FILE};
pub use limiter::RateLimiter;
pub use observer::{Observer, WaitEvent};
pub use options::WaitOptions;
pub use poll::LAST_POLL_HEADROOM;
pub use ready::{ready_all, CONFIRM_AFTER};
#[cfg(test)]
pub(crate) use report::sample;
pub use report::{ExitStatus, JobReport, Outcome, Subject, TaskSeen};
pub use schedule::{prior, Schedule, Window};
pub use source::JobSource;
pub use swap::{check_all, swap_all, InstanceSource, START_GRACE};

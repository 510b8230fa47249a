//! What the waits are doing, told to whoever listens: the loop knows no terminal. The
//! command line's live display and heartbeat are one observer; a test can be another.

use super::report::{JobReport, Subject};
use crate::api::{ApiError, Job};
use std::fmt;
use tokio::time::Instant;

/// One thing that happened in a wait.
#[derive(Debug)]
#[non_exhaustive]
pub enum WaitEvent<'a> {
    /// A request for `subject` is done and its wait is not over; the next request is due
    /// at `next_poll`.
    Polled {
        /// What is waited on.
        subject: &'a Subject,
        /// The last job seen (this poll's, or an earlier one's when this poll failed); a
        /// swap's background task is followed as a job.
        job: Option<&'a Job>,
        /// Why this request did not read the job, when it did not.
        error: Option<&'a ApiError>,
        /// When the next poll is due.
        next_poll: Instant,
    },
    /// The wait for one job is over.
    Finished(&'a JobReport),
}

/// Told of every [`WaitEvent`], as it happens, from the waiting task: it should return
/// quickly. Any `Fn(&WaitEvent)` closure is one.
///
/// ```
/// use dcs_wait::{WaitEvent, WaitOptions};
/// use std::sync::Arc;
///
/// let options = WaitOptions {
///     observer: Some(Arc::new(|event: &WaitEvent<'_>| {
///         if let WaitEvent::Finished(report) = event {
///             eprintln!("{} ended {}", report.name(), report.outcome);
///         }
///     })),
///     ..WaitOptions::default()
/// };
/// ```
pub trait Observer: Send + Sync {
    /// Something happened.
    fn on_event(&self, event: &WaitEvent<'_>);
}

impl<F> Observer for F
where
    F: Fn(&WaitEvent<'_>) + Send + Sync,
{
    fn on_event(&self, event: &WaitEvent<'_>) {
        self(event)
    }
}

impl fmt::Debug for dyn Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Observer")
    }
}

//! What the waits are doing, told to whoever listens: the loop knows no terminal. The
//! command line's live display and heartbeat are one observer; a test can be another.

use super::report::JobReport;
use crate::api::{ApiError, Job, JobId};
use std::fmt;
use tokio::time::Instant;

/// One thing that happened in a wait.
#[derive(Debug)]
#[non_exhaustive]
pub enum WaitEvent<'a> {
    /// A poll of `job_id` is done and the job is not finished; the next poll is due at
    /// `next_poll`.
    Polled {
        /// The job polled.
        job_id: &'a JobId,
        /// The last job seen (this poll's, or an earlier one's when this poll failed).
        job: Option<&'a Job>,
        /// Why this poll did not read the job, when it did not.
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
///             eprintln!("{} ended {}", report.job_id, report.outcome);
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

//! What the waits are doing, told to whoever listens: the loop knows no terminal. The
//! command line's live display and heartbeat are one observer; a test can be another.

use super::report::{JobReport, Subject};
use crate::api::ApiError;
use std::fmt;
use std::time::Duration;

/// One thing that happened in a wait.
#[derive(Debug)]
#[non_exhaustive]
pub enum WaitEvent<'a> {
    /// A look at `subject` is done and its wait is not over; the next look is due in
    /// `next_poll`.
    Polled {
        /// What is waited on.
        subject: &'a Subject,
        /// What the wait last saw of it (this look's, or an earlier one's when this look
        /// read nothing).
        seen: Seen<'a>,
        /// Why the wait goes on.
        waiting: Waiting<'a>,
        /// How soon the next look is due.
        next_poll: Duration,
    },
    /// The wait for one job is over.
    Finished(&'a JobReport),
}

/// What a wait last saw of what it waits on: enough for a line on a display.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct Seen<'a> {
    /// The status as the server words it: a job's (`RUNNING`), a swap's task, a backup's
    /// record, an instance's (`EXTENDING`); `None` before the first answer.
    pub status: Option<&'a str>,
    /// When the operation began, epoch milliseconds on the server's clock, once known.
    pub begin_time: Option<i64>,
}

impl<'a> Seen<'a> {
    /// A status and a begin time.
    pub fn new(status: Option<&'a str>, begin_time: Option<i64>) -> Seen<'a> {
        Seen { status, begin_time }
    }
}

/// Why a wait goes on after a look.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Waiting<'a> {
    /// The look read what is waited on, and it is not over.
    InProgress,
    /// DCS refused a start for now (the instance is busy with another operation): the start
    /// is sent again, as nothing started.
    Busy(&'a ApiError),
    /// Not found, and believed not visible yet for `gives_up_in` more: then the wait ends as
    /// an error.
    NotFoundYet {
        /// The "not found".
        error: &'a ApiError,
        /// How long until the grace ends.
        gives_up_in: Duration,
    },
    /// No connection could be opened, and the server has never answered: tried for
    /// `gives_up_in` more, then the wait ends as an error.
    Unreachable {
        /// Why the connection failed.
        error: &'a ApiError,
        /// How long until the grace ends.
        gives_up_in: Duration,
        /// Whether the request tried again is the start (which nothing sent, so nothing
        /// started).
        start: bool,
    },
    /// A fault that passes (a 5xx, a 429, a dropped connection): the same request is made
    /// again at the next poll. `start` when that request is a start that nothing proved
    /// started.
    Retrying {
        /// The fault.
        error: &'a ApiError,
        /// Whether the request made again is the start.
        start: bool,
    },
}

/// Told of every [`WaitEvent`], as it happens, from the waiting task: it should return
/// quickly. Any `Fn(&WaitEvent)` closure is one.
///
/// ```
/// use dcs_wait::{WaitEvent, WaitOptions};
///
/// let options = WaitOptions::default().with_observer(|event: &WaitEvent<'_>| {
///     if let WaitEvent::Finished(report) = event {
///         eprintln!("{} ended {}", report.name(), report.outcome);
///     }
/// });
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

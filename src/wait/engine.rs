//! The one driver of every wait.
//!
//! A kind of wait (a job; a swap, backup or restore started once and followed; an instance's
//! readiness; a dry run) supplies a [`Kind`]: what one look reads and what it concludes, and
//! the report it gives at the end.
//! Everything else is the driver's, once for all of them: when to look (the deadline, the last
//! look's headroom before it), the request budget (every read takes its turn), the request
//! timeout, cancellation, the observer's events, and how a failed read is ridden out.
//!
//! A new kind of wait is a struct of what it has seen so far and an `impl Kind`: its
//! [`subject`](Kind::subject), one [`look`](Kind::look) — requests through [`Reads`], a
//! [`Look`] back — and its [`report`](Kind::report); then an entry point that hands
//! [`fan_out::each`](super::fan_out::each) a constructor. `seen`, `not_found_until` and
//! `starts` have defaults.
//!
//! Two clocks of backoff meet here. The kind says when to look again after a look that
//! settled nothing, usually from the [`Schedule`](super::Schedule). After a transient fault
//! (5xx, 429, a dropped connection) the delay comes from the retry backoff instead, stretched
//! to any `Retry-After`, and reset by the next look that reads something. All timing goes
//! through `tokio::time`, which `tokio::time::pause` turns into virtual time.

use super::error::WaitError;
use super::observer::{Seen, WaitEvent, Waiting};
use super::options::{Backoff, WaitOptions};
use super::report::{JobReport, Outcome, Subject};
use super::schedule::Window;
use super::OUTCOME;
use crate::api::{ApiError, ErrorKind, PollError};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, timeout_at, Instant};
use tokio_util::sync::CancellationToken;

#[cfg(test)]
mod tests;

/// The last poll is made this long before the deadline (or a tenth of the timeout, if that is
/// shorter), so that its answer can arrive before the deadline rather than be cut off by it.
pub const LAST_POLL_HEADROOM: Duration = Duration::from_secs(1);

/// When the waits began and when they must end.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    pub(super) start: Instant,
    pub(super) deadline: Instant,
}

impl Clock {
    /// From now until `timeout` from now.
    pub(super) fn from_now(timeout: Duration) -> Clock {
        let start = Instant::now();
        Clock {
            start,
            deadline: later(start, timeout),
        }
    }

    /// When the last request goes: [`LAST_POLL_HEADROOM`] before the deadline, or a tenth of
    /// the whole wait when that is shorter.
    fn last_poll_at(&self) -> Instant {
        self.deadline - LAST_POLL_HEADROOM.min((self.deadline - self.start) / 10)
    }
}

/// What one look concluded.
pub(super) enum Look {
    /// The wait is over: how, and what went wrong when something did.
    End(Outcome, Option<WaitError>),
    /// Nothing settled: look again after `delay`. `kept` is an error worth reporting should
    /// the deadline come first (a busy instance's refusal, say).
    Again {
        delay: Duration,
        kept: Option<ApiError>,
    },
    /// A read failed: the driver rides it out or ends the wait, by its kind.
    Failed(PollError),
}

impl Look {
    /// Look again after `delay`.
    pub(super) fn again(delay: Duration) -> Look {
        Look::Again { delay, kept: None }
    }
}

/// One kind of wait: what a look reads and concludes. The driver ([`drive`]) does the rest.
pub(super) trait Kind: Send {
    /// What is waited on.
    fn subject(&self) -> &Subject;

    /// One look. Every request goes through `reads`, which takes its turn from the budget;
    /// `Err` when the wait must end there (cancelled, or the deadline came while waiting for
    /// the budget).
    fn look(&mut self, reads: &mut Reads<'_>)
        -> impl Future<Output = Result<Look, Outcome>> + Send;

    /// What the wait last saw, for the observer.
    fn seen(&self) -> Seen<'_> {
        Seen::default()
    }

    /// Until when a "not found" is believed to be "not visible yet": by default the wait's
    /// own grace from its start.
    fn not_found_until(&self, options: &WaitOptions, clock: Clock) -> Instant {
        later(clock.start, options.not_found_grace)
    }

    /// Whether the next look sends a start (nothing proved the last one started), for the
    /// observer: a fault ridden out is then a start sent again, not a read.
    fn starts(&self) -> bool {
        false
    }

    /// The report, once the wait is over; `polls` counts every request it made.
    fn report(self, outcome: Outcome, polls: u32, error: Option<WaitError>) -> JobReport;
}

/// Runs one wait of `kind` to its end: looks when the kind asks (or the retry
/// backoff says), until a look ends it, a read fails for good, the deadline comes or
/// `cancel` fires.
///
/// Its arguments are owned so that a task can run this very future: tens of thousands of
/// waits sleep at once, and every byte of it is paid that many times.
pub(super) async fn drive<K: Kind>(
    mut kind: K,
    options: Arc<WaitOptions>,
    clock: Clock,
    seed: u64,
    cancel: CancellationToken,
) -> JobReport {
    let options = &*options;
    let last_poll_at = clock.last_poll_at();
    let mut reads = Reads {
        options,
        clock,
        cancel: &cancel,
        rng: fastrand::Rng::with_seed(seed),
        polls: 0,
    };
    // Made at the first fault of a run of them: most waits never meet one.
    let mut retries: Option<Box<Backoff>> = None;
    let mut last_error: Option<ApiError> = None;
    // Until the server first answers, a connection that cannot be opened says the endpoint
    // or the proxy is wrong more likely than that a fault passes: after this, or at the
    // deadline, it ends the wait as an error. After the first answer it is ridden out.
    let mut unreachable_until = Some(later(clock.start, options.unreachable_grace));
    let mut next_at = clock.start;
    loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return kind.report(Outcome::Interrupted, reads.polls, last_error.map(WaitError::Request)),
            _ = sleep_until(next_at) => {}
        }
        let look = match kind.look(&mut reads).await {
            Ok(look) => look,
            Err(outcome) => {
                return kind.report(outcome, reads.polls, last_error.map(WaitError::Request))
            }
        };
        let (delay, why) = match look {
            Look::End(outcome, error) => return kind.report(outcome, reads.polls, error),
            Look::Again { delay, kept } => {
                retries = None;
                unreachable_until = None;
                let why = if kept.is_some() {
                    Why::Busy
                } else {
                    Why::InProgress
                };
                last_error = kept;
                (delay, why)
            }
            Look::Failed(failure) => {
                if !unreached(&failure) {
                    unreachable_until = None;
                }
                let not_found_until = kind.not_found_until(options, clock);
                let retries = retries.get_or_insert_with(|| Box::new(options.retry.backoff(seed)));
                let name = kind.subject().name();
                let graces = (not_found_until, unreachable_until);
                match ride_out(name, failure, retries, graces, options) {
                    Ok((delay, error, why)) => {
                        last_error = Some(error);
                        (delay, why)
                    }
                    Err(error) => {
                        return kind.report(Outcome::Error, reads.polls, Some(error.into()))
                    }
                }
            }
        };
        let (subject, name) = (kind.subject(), kind.subject().name());
        if Instant::now() >= last_poll_at {
            if unreachable_until.is_some()
                && last_error
                    .as_ref()
                    .is_some_and(|e| e.kind == ErrorKind::Connect)
            {
                tracing::error!(target: OUTCOME, "{name}: deadline reached, and the server never answered");
                return kind.report(
                    Outcome::Error,
                    reads.polls,
                    last_error.map(WaitError::Request),
                );
            }
            tracing::warn!(target: OUTCOME, "{name}: deadline reached; the wait is not over");
            return kind.report(
                Outcome::Timeout,
                reads.polls,
                last_error.map(WaitError::Request),
            );
        }
        next_at = later(Instant::now(), delay).min(last_poll_at);
        if let Some(observer) = &options.observer {
            let now = Instant::now();
            let waiting = match (why, last_error.as_ref()) {
                (Why::Busy, Some(error)) => Waiting::Busy(error),
                (Why::NotFoundYet(until), Some(error)) => Waiting::NotFoundYet {
                    error,
                    gives_up_in: until.saturating_duration_since(now),
                },
                (Why::Unreachable(until), Some(error)) => Waiting::Unreachable {
                    error,
                    gives_up_in: until.saturating_duration_since(now),
                    start: kind.starts(),
                },
                (Why::Retrying, Some(error)) => Waiting::Retrying {
                    error,
                    start: kind.starts(),
                },
                _ => Waiting::InProgress,
            };
            observer.on_event(&WaitEvent::Polled {
                subject,
                seen: kind.seen(),
                waiting,
                next_poll: next_at.saturating_duration_since(now),
            });
        }
        tracing::debug!(
            "{name}: look done after {} requests; next in {:.1?}",
            reads.polls,
            next_at - Instant::now()
        );
    }
}

/// Why the wait goes on, before the error it names is kept: [`Waiting`] without the borrow.
#[derive(Debug, Clone, Copy)]
enum Why {
    InProgress,
    Busy,
    NotFoundYet(Instant),
    Unreachable(Instant),
    Retrying,
}

/// Whether a failed read never reached the server: no connection could be opened.
fn unreached(failure: &PollError) -> bool {
    matches!(failure, PollError::Transient { error, .. } if error.kind == ErrorKind::Connect)
}

/// After a failed read: how long until the next try, with the error to keep and why the
/// wait goes on; or the error that ends the wait. `graces` say until when a "not found" is
/// believed to pass, and a connection that cannot be opened while the server has never
/// answered. What is ridden out is the observer's to say (the command line words it); what
/// ends the wait is logged here.
fn ride_out(
    name: &str,
    failure: PollError,
    retries: &mut Backoff,
    (grace_end, unreachable): (Instant, Option<Instant>),
    options: &WaitOptions,
) -> Result<(Duration, ApiError, Why), ApiError> {
    let now = Instant::now();
    match failure {
        PollError::Final(error) => {
            tracing::error!(target: OUTCOME, "{name}: {}", error.with_causes());
            Err(error)
        }
        PollError::NotFound(error) => {
            if now >= grace_end {
                tracing::error!(target: OUTCOME, "{name}: still not found after the grace period: {error}");
                return Err(error);
            }
            // Look once more right at the end of the grace period rather than past it.
            let delay = retries.next_delay().min(grace_end - now);
            Ok((delay, error, Why::NotFoundYet(grace_end)))
        }
        PollError::Transient { error, .. }
            if error.kind == ErrorKind::Connect && unreachable.is_some_and(|end| now >= end) =>
        {
            tracing::error!(target: OUTCOME, "{name}: never reached the server: {}", error.with_causes());
            Err(error)
        }
        PollError::Transient { error, retry_after } => {
            if let (Some(limiter), Some(429)) = (&options.limiter, error.http_status) {
                limiter.throttled();
            }
            let mut delay = retries.next_delay().max(retry_after.unwrap_or_default());
            let mut why = Why::Retrying;
            if let (ErrorKind::Connect, Some(end)) = (error.kind, unreachable) {
                // Try once more right at the end of the grace rather than past it.
                delay = delay.min(end - now);
                why = Why::Unreachable(end);
            }
            // The request id is said where the fault is final; a retried one has it at -v.
            if let Some(id) = &error.request_id {
                tracing::debug!("{name}: request id {id}");
            }
            Ok((delay, error, why))
        }
    }
}

/// What a look reads through: each request takes its turn from the budget, counts as a poll,
/// and is cut off at the request timeout, the deadline or a cancellation.
pub(super) struct Reads<'a> {
    options: &'a WaitOptions,
    clock: Clock,
    cancel: &'a CancellationToken,
    rng: fastrand::Rng,
    polls: u32,
}

impl Reads<'_> {
    /// Counts `more` requests that one read made besides its first (the further pages of a
    /// list), and takes their turns from the budget now: paid after the fact, but paid.
    pub(super) async fn paid_for(&mut self, more: u32) -> Result<(), Outcome> {
        for _ in 0..more {
            if let Some(limiter) = &self.options.limiter {
                tokio::select! {
                    biased;
                    _ = self.cancel.cancelled() => return Err(Outcome::Interrupted),
                    _ = sleep_until(self.clock.deadline) => return Err(Outcome::Timeout),
                    _ = limiter.acquire() => {}
                }
            }
            self.polls += 1;
        }
        Ok(())
    }

    /// Sends the request `send` makes once its turn comes; its answer, or `None` when none
    /// came within the request timeout (or by the deadline). The request is made only then,
    /// so that this future does not hold it twice.
    pub(super) async fn send<F: Future>(
        &mut self,
        send: impl FnOnce() -> F,
    ) -> Result<Option<(F::Output, Instant)>, Outcome> {
        if let Some(limiter) = &self.options.limiter {
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return Err(Outcome::Interrupted),
                _ = sleep_until(self.clock.deadline) => return Err(Outcome::Timeout),
                _ = limiter.acquire() => {}
            }
        }
        self.polls += 1;
        let sent_at = Instant::now();
        let end = self
            .clock
            .deadline
            .min(later(sent_at, self.options.request_timeout));
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(Outcome::Interrupted),
            answer = timeout_at(end, send()) => Ok(answer.ok().map(|answer| (answer, sent_at))),
        }
    }

    /// [`send`](Reads::send) for a read, which no answer in time leaves as a transient failure.
    pub(super) async fn read<T, F: Future<Output = Result<T, PollError>>>(
        &mut self,
        read: impl FnOnce() -> F,
    ) -> Result<Result<T, PollError>, Outcome> {
        let sent_at = Instant::now();
        Ok(match self.send(read).await? {
            Some((answer, _)) => answer,
            None => Err(PollError::transient(no_answer(sent_at))),
        })
    }

    /// The schedule's delay before the next look at something of `age` (when the server
    /// told it) that has been waited on since `since`, and usually ends in `window`.
    pub(super) fn scheduled(
        &mut self,
        age: Option<Duration>,
        since: Instant,
        window: Option<Window>,
    ) -> Duration {
        let waited = Instant::now().saturating_duration_since(since);
        self.options
            .schedule
            .delay(age.unwrap_or(waited), waited, window, &mut self.rng)
    }

    /// The settings of the wait.
    pub(super) fn options(&self) -> &WaitOptions {
        self.options
    }

    /// When the waits began and must end.
    pub(super) fn clock(&self) -> Clock {
        self.clock
    }
}

/// The error of a request that got no answer in time, sent at `sent_at`.
pub(super) fn no_answer(sent_at: Instant) -> ApiError {
    ApiError::new(
        ErrorKind::RequestTimeout,
        format!("no answer within {:.1?}", sent_at.elapsed()),
    )
}

/// `at + by`, saturating far in the future instead of overflowing (a library caller may ask
/// for any duration).
pub(super) fn later(at: Instant, by: Duration) -> Instant {
    at.checked_add(by)
        .or_else(|| at.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(at)
}

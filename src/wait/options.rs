//! How to wait: every setting of the loop, with its default.

use super::history::History;
use super::limiter::RateLimiter;
use super::observer::Observer;
use super::schedule::Schedule;
use backon::BackoffBuilder;
use std::sync::Arc;
use std::time::Duration;

/// How to wait.
///
/// # Default
///
/// - timeout: 30 min, for all jobs together
/// - request_timeout: 10 s, and never past the deadline
/// - not_found_grace: 30 s: a job may answer 404 for a moment after it was created
/// - unreachable_grace: 30 s: how long a wait tries to connect while the server has never
///   answered it, before that is an error (a wrong endpoint or proxy, not a slow job)
/// - schedule: [`Schedule::default`]
/// - retry (after a transient fault): [`Retry::default`]
/// - seed: random (a fixed seed makes the jitter reproducible)
/// - fail_fast: off; on, the first job that fails or cannot be read stops every other wait
/// - limiter: none; one shared [`RateLimiter`] bounds the requests of all jobs together
/// - observer: none; an [`Observer`] is told of every poll and every end
/// - history: none, so the built-in priors (a swap takes about 3 s); with a [`History`],
///   the durations of earlier jobs by type
///
/// Fixed, not settings: the last poll goes 1 s before the deadline (a tenth of the timeout
/// when that is shorter), so that its answer comes in time; after a start whose answer
/// proves nothing, its task or record is looked for 30 s (never past the deadline); an
/// answer past 1 MiB is cut off unread.
///
/// Built from the default, one setting at a time, so that a setting added later breaks no
/// caller:
///
/// ```
/// use dcs_wait::{WaitEvent, WaitOptions};
/// use std::time::Duration;
///
/// let options = WaitOptions::default()
///     .with_timeout(Duration::from_secs(15 * 60))
///     .with_fail_fast(true)
///     .with_observer(|event: &WaitEvent<'_>| {
///         if let WaitEvent::Finished(report) = event {
///             eprintln!("{} ended {}", report.name(), report.outcome);
///         }
///     });
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WaitOptions {
    /// The deadline, from the start of the wait, for all jobs together.
    pub timeout: Duration,
    /// The longest wait for one answer (never past the deadline).
    pub request_timeout: Duration,
    /// How long a job may answer 404 (not visible yet) before that is an error.
    pub not_found_grace: Duration,
    /// How long a wait goes on trying to connect while no answer has ever come, before it
    /// ends as an error (`ErrorKind::Connect`) instead of riding the faults out to the
    /// deadline. Once the server has answered, connection faults are ridden out as others.
    pub unreachable_grace: Duration,
    /// When to look again at a job that is not finished.
    pub schedule: Schedule,
    /// When to try again after a transient fault.
    pub retry: Retry,
    /// The seed of the schedule's and the retries' jitter.
    pub seed: Option<u64>,
    /// Whether the first job that fails or cannot be read stops the other waits.
    pub fail_fast: bool,
    /// One budget of requests for every job.
    pub limiter: Option<Arc<RateLimiter>>,
    /// Told of every poll and every end.
    pub observer: Option<Arc<dyn Observer>>,
    /// How long jobs of each type usually take.
    pub history: Arc<History>,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(30 * 60),
            request_timeout: Duration::from_secs(10),
            not_found_grace: Duration::from_secs(30),
            unreachable_grace: Duration::from_secs(30),
            schedule: Schedule::default(),
            retry: Retry::default(),
            seed: None,
            fail_fast: false,
            limiter: None,
            observer: None,
            history: Arc::default(),
        }
    }
}

impl WaitOptions {
    /// The deadline for all waits together.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest wait for one answer.
    pub fn with_request_timeout(mut self, request_timeout: Duration) -> Self {
        self.request_timeout = request_timeout;
        self
    }

    /// How long a "not found" is believed to be "not visible yet".
    pub fn with_not_found_grace(mut self, grace: Duration) -> Self {
        self.not_found_grace = grace;
        self
    }

    /// How long to try to connect while the server has never answered.
    pub fn with_unreachable_grace(mut self, grace: Duration) -> Self {
        self.unreachable_grace = grace;
        self
    }

    /// When to look again at an operation that is not over.
    pub fn with_schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// When to try again after a transient fault.
    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// A fixed seed for the jitter, for reproducible timing.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Whether the first wait that fails or cannot be read stops the others.
    pub fn with_fail_fast(mut self, fail_fast: bool) -> Self {
        self.fail_fast = fail_fast;
        self
    }

    /// One budget of requests for every wait.
    pub fn with_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Told of every look and every end; any `Fn(&WaitEvent)` closure is an observer.
    pub fn with_observer(mut self, observer: impl Observer + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// How long operations of each type usually take: their earlier durations.
    pub fn with_history(mut self, history: Arc<History>) -> Self {
        self.history = history;
        self
    }
}

/// When to try again after a transient fault: a delay that doubles from `min_delay` up to
/// `max_delay`, each lengthened at random by up to itself (jitter), with no limit on tries
/// but the deadline. A read that succeeds starts it over.
///
/// # Default
///
/// - min_delay: 0.5 s
/// - max_delay: 15 s
/// - factor: 2
/// - jitter: on
///
/// ```
/// use dcs_wait::Retry;
/// use std::time::Duration;
///
/// let steady = Retry::default()
///     .with_min_delay(Duration::from_secs(1))
///     .with_max_delay(Duration::from_secs(1))
///     .without_jitter();
/// # let _ = steady;
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    min_delay: Duration,
    max_delay: Duration,
    factor: f32,
    jitter: bool,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(15),
            factor: 2.0,
            jitter: true,
        }
    }
}

impl Retry {
    /// The first delay.
    pub fn with_min_delay(mut self, min_delay: Duration) -> Self {
        self.min_delay = min_delay;
        self
    }

    /// The longest delay.
    pub fn with_max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// How much each delay grows on the one before; below 1 it does not grow.
    pub fn with_factor(mut self, factor: f32) -> Self {
        self.factor = if factor.is_finite() {
            factor.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// Delays exactly as computed, no randomness.
    pub fn without_jitter(mut self) -> Self {
        self.jitter = false;
        self
    }

    /// The delays from the start, their jitter drawn from `seed`.
    pub(crate) fn backoff(&self, seed: u64) -> Backoff {
        let mut builder = backon::ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_factor(self.factor)
            .without_max_times();
        if self.jitter {
            builder = builder.with_jitter().with_jitter_seed(seed);
        }
        Backoff {
            delays: builder.build(),
            max_delay: self.max_delay,
        }
    }
}

/// The delays of one run of a [`Retry`]: backon's timing, behind a type of ours.
pub(crate) struct Backoff {
    delays: backon::ExponentialBackoff,
    max_delay: Duration,
}

impl Backoff {
    /// The next delay.
    pub(crate) fn next_delay(&mut self) -> Duration {
        self.delays.next().unwrap_or(self.max_delay)
    }
}

//! How to wait: every setting of the loop, with its default.

use super::history::Priors;
use super::limiter::RateLimiter;
use super::observer::Observer;
use super::schedule::Schedule;
use backon::ExponentialBuilder;
use std::sync::Arc;
use std::time::Duration;

/// How to wait.
///
/// # Default
///
/// - timeout: 30 min, for all jobs together
/// - request_timeout: 10 s, and never past the deadline
/// - not_found_grace: 30 s: a job may answer 404 for a moment after it was created
/// - schedule: [`Schedule::default`]
/// - retry (after a transient fault): exponential from 0.5 s, factor 2, at most 15 s, plus
///   backon's jitter (up to the delay again), no limit on tries but the deadline
/// - seed: random (a fixed seed makes the jitter reproducible)
/// - fail_fast: off; on, the first job that fails or cannot be read stops every other wait
/// - limiter: none; one shared [`RateLimiter`] bounds the requests of all jobs together
/// - observer: none; an [`Observer`] is told of every poll and every end
/// - priors: the built-in ones; with a [`History`](super::History), learnt ones
#[derive(Debug, Clone)]
pub struct WaitOptions {
    /// The deadline, from the start of the wait, for all jobs together.
    pub timeout: Duration,
    /// The longest wait for one answer (never past the deadline).
    pub request_timeout: Duration,
    /// How long a job may answer 404 (not visible yet) before that is an error.
    pub not_found_grace: Duration,
    /// When to look again at a job that is not finished.
    pub schedule: Schedule,
    /// When to try again after a transient fault.
    pub retry: ExponentialBuilder,
    /// The seed of the schedule's and the retries' jitter.
    pub seed: Option<u64>,
    /// Whether the first job that fails or cannot be read stops the other waits.
    pub fail_fast: bool,
    /// One budget of requests for every job.
    pub limiter: Option<Arc<RateLimiter>>,
    /// Told of every poll and every end.
    pub observer: Option<Arc<dyn Observer>>,
    /// How long jobs of each type usually take.
    pub priors: Arc<Priors>,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(30 * 60),
            request_timeout: Duration::from_secs(10),
            not_found_grace: Duration::from_secs(30),
            schedule: Schedule::default(),
            retry: ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(500))
                .with_factor(2.0)
                .with_max_delay(Duration::from_secs(15))
                .with_jitter()
                .without_max_times(),
            seed: None,
            fail_fast: false,
            limiter: None,
            observer: None,
            priors: Arc::default(),
        }
    }
}

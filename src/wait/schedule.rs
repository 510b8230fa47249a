//! When to poll next: pure, no clock, no I/O.
//!
//! The delay before the next poll is a function of the job's *age* — how long ago it began,
//! by the server's clock when the answer says (`begin_time` and the `Date` header), else how
//! long we have waited — and of what its type usually takes. Other waiters count from the
//! moment they started and know nothing of the job; a wait started late then ramps up from
//! zero, and a swap that takes seconds is polled like a resize that takes half an hour.
//!
//! - **Known types** have a window where they usually end (a master/standby swap: about 2 to
//!   8 s; other types once their history says). Before a short window there is nothing to
//!   poll for, before a long one the delay is the job's age; inside, polls come every
//!   eleventh of the window's width, between `max_lag / 20` and `max_lag`.
//! - **Otherwise** the delay grows with the age — half of it — between `max_lag / 8` and
//!   `max_lag`, so a job is noticed no later than half its age after it ended (relative lag
//!   ≤ 0.5) once it is older than the first step, and never later than `max_lag` while it is
//!   younger than 15 minutes (or `90 · max_lag`).
//!   Past that the delay grows again, a quarter of the age: the few jobs that run that long
//!   cost a handful of polls more, not one every `max_lag`.
//!
//! `max_lag` is the one knob: smaller notices sooner with more requests, larger the opposite.

use std::time::Duration;

/// Where a job of a known type usually ends, as ages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// The age by which few jobs of the type have ended.
    pub opens: Duration,
    /// The age by which most have.
    pub closes: Duration,
}

impl Window {
    /// The window of a log-normal duration (median `median`, `sigma` of its logarithm): from
    /// its 5th to its 99th percentile, so that few jobs end before it opens.
    pub fn log_normal(median: Duration, sigma: f64) -> Window {
        let at = |z: f64| median.mul_f64((z * sigma).exp());
        Window {
            opens: at(-1.6449),
            closes: at(2.3263),
        }
    }
}

/// What a job type's durations are known to be without any history: a master/standby swap
/// takes about 3 s (log-normal, σ 0.4 — a window of 2.15 to 7.6 s); a backup or a restore
/// (followed through its record, as type `backup` or `restore`) anything from seconds to
/// half an hour, with the data's size, so that whole span is its window: polled every
/// `max_lag` through it, as Terraform's every 10 s. Other types vary too much with the
/// instance to say; their history (see [`History`](super::History)) does.
pub fn prior(job_type: &str) -> Option<Window> {
    match job_type {
        "masterStandbySwapJob" => Some(Window {
            opens: Duration::from_millis(2_150),
            closes: Duration::from_millis(7_600),
        }),
        "backup" | "restore" => Some(Window {
            opens: Duration::from_secs(5),
            closes: Duration::from_secs(30 * 60),
        }),
        _ => None,
    }
}

/// The poll schedule.
///
/// # Default
///
/// - max_lag: 10 s — measured on the standard workload (`cargo bench --bench schedule`): the
///   best balance of lag and requests against every other waiter; see docs/polling.md.
/// - jitter: 0.1 — each delay of the ramp (below `max_lag`, outside a known window) shortened
///   at random by up to a tenth, so that many waiters started together spread out; it never
///   makes a poll later, and a tenth spreads them as well as a fifth did for half the extra
///   requests.
///
/// # Examples
///
/// ```
/// use dcs_wait::{prior, Schedule};
/// use std::time::Duration;
///
/// let s = Schedule::default();
/// let secs = |age: f64, job_type: Option<&str>| {
///     let age = Duration::from_secs_f64(age);
///     s.nominal(age, job_type.and_then(prior)).as_secs_f64()
/// };
/// // A swap: nothing to poll for before 2.15 s, then every half second.
/// assert_eq!(secs(0.0, Some("masterStandbySwapJob")), 2.15);
/// assert_eq!(secs(3.0, Some("masterStandbySwapJob")), 0.5);
/// // Anything else: half its age, at least 1.25 s and at most 10 s.
/// assert_eq!(secs(0.2, None), 1.25);
/// assert_eq!(secs(6.0, None), 3.0);
/// assert_eq!(secs(400.0, None), 10.0);
/// // Past 15 minutes a quarter of its age.
/// assert_eq!(secs(1200.0, None), 300.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    max_lag: Duration,
    jitter: f64,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            max_lag: Duration::from_secs(10),
            jitter: 0.1,
        }
    }
}

/// The ramp's shortest step is `max_lag` over this. Jobs that end sooner than that are few,
/// and polling them sooner costs every job its polls: at `max_lag / 20` the ramp took 1.1
/// more requests per job on the standard workload for a relative lag p95 of 0.40 instead of
/// 0.46, a margin the 0.5 target did not need (`cargo bench --bench schedule`).
const RAMP_FLOOR_DIV: u32 = 8;

/// Below this, `max_lag` would ask for polls faster than any API answers.
const MIN_LAG: Duration = Duration::from_millis(100);

impl Schedule {
    /// The knob: the longest a job may have ended unnoticed while it is in its usual span.
    pub fn with_max_lag(mut self, max_lag: Duration) -> Self {
        self.max_lag = max_lag.max(MIN_LAG);
        self
    }

    /// The largest fraction a delay may be shortened by, clamped to `[0, 0.9]`.
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 0.9)
        };
        self
    }

    /// The knob: the longest a finished job may go unnoticed in its usual span.
    pub fn max_lag(&self) -> Duration {
        self.max_lag
    }

    /// Up to this age the delay stays at most `max_lag`.
    fn patience(&self) -> Duration {
        (self.max_lag * 90).max(Duration::from_secs(15 * 60))
    }

    /// The nominal delay, before jitter, for a job of this age whose type usually ends in
    /// `window`.
    pub fn nominal(&self, age: Duration, window: Option<Window>) -> Duration {
        let fine = self.max_lag / 20;
        if let Some(window) = window {
            if age < window.opens {
                // A short wait for the window (a swap's seconds) is slept through. A long one
                // (a backup's minutes) is not: a job that fails early is still noticed
                // within its age, at the cost of a few polls.
                let until = window.opens - age;
                return if window.opens <= self.max_lag {
                    until
                } else {
                    until.min(age.max(fine))
                };
            }
            if age < window.closes {
                return ((window.closes - window.opens) / 11).clamp(fine, self.max_lag);
            }
        }
        if age < self.patience() {
            (age / 2).clamp(self.max_lag / RAMP_FLOOR_DIV, self.max_lag)
        } else {
            (age / 4).max(self.max_lag)
        }
    }

    /// The delay before the next poll of a job of this age and type, `waited` into the wait.
    ///
    /// The age comes from the server's clocks (`begin_time` and `Date`), which may disagree;
    /// so the age alone never stretches a delay past `max_lag`, nor past how long we have
    /// waited ourselves.
    ///
    /// Jitter spreads the polls of jobs outside a known window while they ramp up. Inside a
    /// window the steps are fine already, and a jittered wait for it to open would poll a job
    /// that cannot have ended yet. From `max_lag` on the delay is constant (past the patience, a
    /// fixed share of the age), so the phases the ramp spread stay spread: jittering those delays too cost 5 % more polls on
    /// long jobs (0.6 per job on the standard workload) and spread nothing more.
    pub(crate) fn delay(
        &self,
        age: Duration,
        waited: Duration,
        window: Option<Window>,
        rng: &mut fastrand::Rng,
    ) -> Duration {
        let age = age.max(waited);
        let nominal = self.nominal(age, window).min(self.max_lag.max(waited));
        if window.is_some_and(|window| age < window.closes) || nominal >= self.max_lag {
            nominal
        } else {
            nominal.mul_f64(1.0 - self.jitter * rng.f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &Schedule, age: f64, job_type: Option<&str>) -> f64 {
        s.nominal(Duration::from_secs_f64(age), job_type.and_then(prior))
            .as_secs_f64()
    }

    #[test]
    fn a_swap_waits_for_its_window_then_polls_finely() {
        let s = Schedule::default();
        let swap = Some("masterStandbySwapJob");
        assert_eq!(secs(&s, 0.0, swap), 2.15);
        assert!((secs(&s, 1.0, swap) - 1.15).abs() < 1e-9);
        assert_eq!(secs(&s, 2.15, swap), 0.5);
        assert_eq!(secs(&s, 7.5, swap), 0.5);
        // Past the window: like any job of that age.
        assert_eq!(secs(&s, 8.0, swap), 4.0);
    }

    #[test]
    fn other_jobs_grow_with_their_age_then_wait_longer_past_patience() {
        let s = Schedule::default();
        let series: Vec<f64> = [0.0, 1.0, 3.0, 19.0, 20.0, 899.0, 900.0, 2000.0]
            .iter()
            .map(|&a| secs(&s, a, Some("extendDCSInstance")))
            .collect();
        assert_eq!(series, [1.25, 1.25, 1.5, 9.5, 10.0, 10.0, 225.0, 500.0]);
    }

    #[test]
    fn the_knob_scales_everything_but_the_windows() {
        let s = Schedule::default().with_max_lag(Duration::from_secs(60));
        assert_eq!(secs(&s, 0.0, None), 7.5);
        assert_eq!(secs(&s, 1000.0, None), 60.0);
        assert_eq!(secs(&s, 5399.0, None), 60.0);
        assert_eq!(secs(&s, 5400.0, None), 1350.0);
        assert_eq!(secs(&s, 3.0, Some("masterStandbySwapJob")), 3.0);
        let tiny = Schedule::default().with_max_lag(Duration::ZERO);
        assert_eq!(tiny.max_lag(), MIN_LAG);
    }

    #[test]
    fn a_long_window_from_history_is_approached_by_doubling() {
        let s = Schedule::default();
        let window = Window::log_normal(Duration::from_secs(600), 0.3);
        let at = |age: f64| {
            s.nominal(Duration::from_secs_f64(age), Some(window))
                .as_secs_f64()
        };
        // Opens at about 366 s: until then each delay is the age (a failure is noticed within
        // its age), never past the opening.
        assert_eq!(at(0.0), 0.5);
        assert_eq!(at(100.0), 100.0);
        assert!((at(300.0) - (window.opens.as_secs_f64() - 300.0)).abs() < 1e-6);
        // Inside, an eleventh of its width, at most max_lag: every 10 s.
        assert_eq!(at(500.0), 10.0);
    }

    #[test]
    fn the_server_clock_alone_never_stretches_a_delay_past_max_lag() {
        let s = Schedule::default().with_jitter(0.0);
        let mut rng = fastrand::Rng::with_seed(1);
        let hour = Duration::from_secs(3600);
        // A job an hour old by the server, 5 s into the wait: every 10 s, not every 15 min.
        assert_eq!(
            s.delay(hour, Duration::from_secs(5), None, &mut rng),
            Duration::from_secs(10)
        );
        // The wait itself past its patience: a quarter of the age.
        assert_eq!(
            s.delay(hour, hour, None, &mut rng),
            Duration::from_secs(900)
        );
    }

    #[test]
    fn jitter_only_shortens_and_stays_within_its_fraction() {
        let s = Schedule::default();
        let mut rng = fastrand::Rng::with_seed(3);
        let mut shortened = 0;
        for age in 0..20_000 {
            let age = Duration::from_millis(age * 100 + 7);
            let nominal = s.nominal(age, None);
            let jittered = s.delay(age, age, None, &mut rng);
            assert!(
                jittered <= nominal && jittered.as_secs_f64() >= nominal.as_secs_f64() * 0.9 - 1e-9
            );
            if nominal >= s.max_lag() {
                assert_eq!(jittered, nominal, "at {age:?}: past the ramp, no jitter");
            } else if jittered < nominal {
                shortened += 1;
            }
        }
        // The ramp (ages below 20 s) is jittered.
        assert!(shortened > 150, "{shortened} ramp delays shortened");
        let none = Schedule::default().with_jitter(f64::NAN);
        let six = Duration::from_secs(6);
        assert_eq!(none.delay(six, six, None, &mut rng), Duration::from_secs(3));
    }
}

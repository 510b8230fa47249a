//! When to poll next: pure, no clock, no I/O.
//!
//! A schedule is just an `Iterator<Item = Duration>` of delays between polls (the first poll
//! is made at once, by the wait loop). Keeping it pure lets tests and benchmarks check it
//! exactly, and lets a smarter schedule replace this one without touching the loop.

use std::time::Duration;

/// Exponential backoff between a floor and a cap, with downward jitter.
///
/// Delay *n* (from 0) is `min(cap, floor · factorⁿ)`, shortened by a random fraction of at
/// most `jitter`. Jitter only ever shortens a delay, so a schedule never polls later than its
/// nominal curve: many waiters started together spread out, and nothing is noticed later
/// than without jitter.
///
/// # Default
///
/// - floor: 1 s — a master/standby swap takes a few seconds; a first re-poll after 1 s catches
///   the fastest jobs without a burst of requests.
/// - factor: 1.5
/// - cap: 30 s — a resize or restore can take half an hour; polling it every 30 s at most
///   costs about two requests a minute and notices its end within 30 s.
/// - jitter: 0.2
///
/// # Examples
///
/// ```
/// use dcs_wait::schedule::PollSchedule;
/// use std::time::Duration;
///
/// let delays: Vec<Duration> = PollSchedule::default()
///     .with_jitter(0.0)
///     .delays(7)
///     .take(4)
///     .collect();
/// assert_eq!(delays, [1000, 1500, 2250, 3375].map(Duration::from_millis));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollSchedule {
    floor: Duration,
    factor: f64,
    cap: Duration,
    jitter: f64,
}

impl Default for PollSchedule {
    fn default() -> Self {
        PollSchedule {
            floor: Duration::from_secs(1),
            factor: 1.5,
            cap: Duration::from_secs(30),
            jitter: 0.2,
        }
    }
}

impl PollSchedule {
    /// The first delay. A floor above the cap raises the cap to it.
    pub fn with_floor(mut self, floor: Duration) -> Self {
        self.floor = floor;
        self.cap = self.cap.max(floor);
        self
    }

    /// Growth per poll; values below 1 (or not numbers) are taken as 1, a fixed interval.
    pub fn with_factor(mut self, factor: f64) -> Self {
        self.factor = if factor >= 1.0 { factor } else { 1.0 };
        self
    }

    /// The longest delay. A cap below the floor lowers the floor to it.
    pub fn with_cap(mut self, cap: Duration) -> Self {
        self.cap = cap;
        self.floor = self.floor.min(cap);
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

    pub fn cap(&self) -> Duration {
        self.cap
    }

    /// The endless sequence of delays; `seed` makes the jitter reproducible.
    pub fn delays(&self, seed: u64) -> Delays {
        Delays {
            schedule: *self,
            nominal: self.floor.as_secs_f64(),
            rng: fastrand::Rng::with_seed(seed),
        }
    }
}

/// The delays of one [`PollSchedule`]; never ends.
#[derive(Debug, Clone)]
pub struct Delays {
    schedule: PollSchedule,
    nominal: f64,
    rng: fastrand::Rng,
}

impl Iterator for Delays {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let s = &self.schedule;
        let delay = self.nominal * (1.0 - s.jitter * self.rng.f64());
        self.nominal = (self.nominal * s.factor).min(s.cap.as_secs_f64());
        Some(Duration::from_secs_f64(delay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_by_the_factor_up_to_the_cap() {
        let delays: Vec<f64> = PollSchedule::default()
            .with_jitter(0.0)
            .delays(1)
            .take(12)
            .map(|d| d.as_secs_f64())
            .collect();
        assert_eq!(&delays[..3], &[1.0, 1.5, 2.25]);
        assert!(delays.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(delays[11], 30.0);
    }

    #[test]
    fn jitter_only_shortens_and_stays_within_its_fraction() {
        let plain: Vec<Duration> = PollSchedule::default()
            .with_jitter(0.0)
            .delays(0)
            .take(50)
            .collect();
        for seed in 0..20 {
            let jittered: Vec<Duration> = PollSchedule::default().delays(seed).take(50).collect();
            for (j, p) in jittered.iter().zip(&plain) {
                assert!(*j <= *p && j.as_secs_f64() >= p.as_secs_f64() * 0.8 - 1e-9);
            }
        }
    }

    #[test]
    fn same_seed_same_delays_other_seed_other_delays() {
        let a: Vec<Duration> = PollSchedule::default().delays(42).take(10).collect();
        let b: Vec<Duration> = PollSchedule::default().delays(42).take(10).collect();
        let c: Vec<Duration> = PollSchedule::default().delays(43).take(10).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn builders_keep_the_schedule_sane() {
        let s = PollSchedule::default()
            .with_floor(Duration::from_secs(60))
            .with_factor(0.5)
            .with_jitter(f64::NAN);
        let d: Vec<Duration> = s.delays(0).take(3).collect();
        assert_eq!(d, [Duration::from_secs(60); 3]);
        let s = PollSchedule::default().with_cap(Duration::from_millis(100));
        assert!(s
            .with_jitter(0.0)
            .delays(0)
            .take(5)
            .all(|d| d == Duration::from_millis(100)));
    }
}

//! One request budget for every job of a run, so that a thousand waits do not trip API
//! Gateway's throttling: at most `rate` requests a second, in bursts of at most `rate`.
//!
//! GCRA (the "virtual scheduling" form of a token bucket): each request reserves the next
//! slot, `1 / rate` after the last, and may run up to `burst − 1` slots ahead of time. A 429
//! halves the rate for everyone (at most once a second, so one burst of 429s counts once);
//! it then grows back by a tenth of the maximum each second without one.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// One budget of requests for every wait: at most a rate a second, in bursts of at most
/// that many (GCRA); a 429 halves it for a while.
#[derive(Debug)]
pub struct RateLimiter {
    max_rate: f64,
    burst: u32,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// When the next request is due (the "theoretical arrival time").
    next: Instant,
    rate: f64,
    /// Since when `rate` has been growing back.
    since: Instant,
    last_throttled: Option<Instant>,
}

/// The rate never falls below this, so that a wait always makes progress.
const MIN_RATE: f64 = 0.2;

impl RateLimiter {
    /// At most `rate` requests a second (at least one), in bursts of at most `rate`.
    pub fn new(rate: u32) -> RateLimiter {
        let rate = rate.max(1);
        let now = Instant::now();
        RateLimiter {
            max_rate: f64::from(rate),
            burst: rate,
            state: Mutex::new(State {
                next: now,
                rate: f64::from(rate),
                since: now,
                last_throttled: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The rate now, after any growth back since the last 429.
    fn current_rate(&self, state: &mut State, now: Instant) -> f64 {
        let grown = (now - state.since).as_secs_f64() * self.max_rate / 10.0;
        state.rate = (state.rate + grown).min(self.max_rate);
        state.since = now;
        state.rate
    }

    /// Waits for this request's slot.
    pub async fn acquire(&self) {
        let at = {
            let mut state = self.state();
            let now = Instant::now();
            let interval = Duration::from_secs_f64(1.0 / self.current_rate(&mut state, now));
            let ahead = interval * (self.burst - 1);
            let due = state.next.max(now);
            state.next = due + interval;
            due.checked_sub(ahead).unwrap_or(now).max(now)
        };
        tokio::time::sleep_until(at).await;
    }

    /// A 429 came back: slow every job down.
    pub fn throttled(&self) {
        let mut state = self.state();
        let now = Instant::now();
        if state
            .last_throttled
            .is_some_and(|t| now - t < Duration::from_secs(1))
        {
            return;
        }
        let rate = (self.current_rate(&mut state, now) / 2.0).max(MIN_RATE);
        state.rate = rate;
        state.last_throttled = Some(now);
        tracing::warn!("the API is throttling: slowing every wait to {rate:.1} requests a second");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(limiter: &RateLimiter) -> f64 {
        let mut state = limiter.state();
        limiter.current_rate(&mut state, Instant::now())
    }

    async fn time_for(limiter: &RateLimiter, requests: usize) -> Duration {
        let started = Instant::now();
        for _ in 0..requests {
            limiter.acquire().await;
        }
        started.elapsed()
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_then_the_rate() {
        let limiter = RateLimiter::new(10);
        assert_eq!(time_for(&limiter, 10).await, Duration::ZERO);
        // 90 more at 10 a second.
        let rest = time_for(&limiter, 90).await;
        assert!((rest.as_secs_f64() - 9.0).abs() < 0.01, "{rest:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_jobs_share_the_budget() {
        let limiter = std::sync::Arc::new(RateLimiter::new(5));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let limiter = limiter.clone();
            tasks.spawn(async move { limiter.acquire().await });
        }
        while tasks.join_next().await.is_some() {}
        // 5 at once, then 45 at 5 a second.
        assert!((started.elapsed().as_secs_f64() - 9.0).abs() < 0.01);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_halves_the_rate_once_per_burst_and_it_grows_back() {
        let limiter = RateLimiter::new(10);
        limiter.throttled();
        limiter.throttled(); // the same burst: counted once
        assert!((rate(&limiter) - 5.0).abs() < 1e-9);
        tokio::time::sleep(Duration::from_secs(2)).await;
        limiter.throttled();
        // 5 grew by 2 s × 1/s to 7, then halved.
        assert!((rate(&limiter) - 3.5).abs() < 1e-6);
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(rate(&limiter), 10.0);
    }
}

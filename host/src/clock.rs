//! The time every account rule reads, injectable so tests can move it forward.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A source of "now" as Unix milliseconds UTC.
pub trait Clock: Send + Sync + Debug {
    fn now_ms(&self) -> i64;

    fn today(&self) -> time::Date {
        time::OffsetDateTime::from_unix_timestamp(self.now_ms().div_euclid(1000))
            .map(|t| t.date())
            .unwrap_or(time::Date::MIN)
    }
}

/// A wait between attempts: `base` after the first, doubling per attempt, never more than
/// `max`.
pub fn backoff(
    base: std::time::Duration,
    max: std::time::Duration,
    attempts: i64,
) -> std::time::Duration {
    let exp = attempts.clamp(1, 20) as u32 - 1;
    base.saturating_mul(1u32 << exp).min(max)
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        crate::db::now_ms()
    }
}

/// A clock that starts at the system time and moves only when told to.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new() -> Arc<ManualClock> {
        Arc::new(ManualClock(AtomicI64::new(crate::db::now_ms())))
    }

    pub fn advance(&self, by: std::time::Duration) {
        self.0.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

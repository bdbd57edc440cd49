//! Rate limits and back-off, counted in the database so every replica sees the same counts.

use super::AuthError;
use crate::db::{self, Db};

/// At most `count` hits per `window_ms`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub count: i64,
    pub window_ms: i64,
}

impl Limit {
    pub const fn new(count: i64, window_ms: i64) -> Limit {
        Limit { count, window_ms }
    }
}

#[derive(Debug)]
pub struct Limiter<'a> {
    db: &'a Db,
    now: i64,
}

impl<'a> Limiter<'a> {
    pub fn new(db: &'a Db, now: i64) -> Limiter<'a> {
        Limiter { db, now }
    }

    /// Counts a hit on `key`; refuses once the window's allowance is used up.
    pub async fn hit(&self, key: &str, limit: Limit) -> Result<(), AuthError> {
        let c = db::limits::hit(self.db.pool(), key, self.now, self.now - limit.window_ms).await?;
        if c.count > limit.count {
            let retry_after_s = ((c.window_start + limit.window_ms - self.now) / 1000).max(1);
            return Err(AuthError::TooManyAttempts { retry_after_s });
        }
        Ok(())
    }

    /// Refuses while `key` is backing off after repeated failures; otherwise says whether it
    /// has failures on record (which a success should clear).
    pub async fn check_backoff(&self, key: &str) -> Result<bool, AuthError> {
        let Some(c) = db::limits::get(self.db.pool(), key).await? else {
            return Ok(false);
        };
        if c.blocked_until > self.now {
            return Err(AuthError::TooManyAttempts {
                retry_after_s: ((c.blocked_until - self.now) / 1000).max(1),
            });
        }
        Ok(true)
    }

    /// Counts a failure; from the `threshold`th failure within a day, each further failure
    /// blocks the key for twice as long as the one before, up to `max_ms`.
    pub async fn failure(
        &self,
        key: &str,
        threshold: i64,
        base_ms: i64,
        max_ms: i64,
    ) -> Result<(), AuthError> {
        let c = db::limits::hit(
            self.db.pool(),
            key,
            self.now,
            self.now - 24 * 60 * 60 * 1000,
        )
        .await?;
        if c.count >= threshold {
            let exp = (c.count - threshold).min(20) as u32;
            let block = base_ms.saturating_mul(1i64 << exp).min(max_ms);
            db::limits::block_until(self.db.pool(), key, self.now + block).await?;
        }
        Ok(())
    }

    pub async fn clear(&self, key: &str) -> Result<(), AuthError> {
        db::limits::clear(self.db.pool(), key).await?;
        Ok(())
    }
}

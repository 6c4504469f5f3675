//! Per-key quotas on proof jobs (the costly resource): a key over its quota gets 429
//! with `Retry-After`, and `/metrics` counts `over_quota` refusals. A token bucket per
//! key (governor, GCRA), refilled evenly over the minute.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::RateLimiter;

/// The quota of each key.
pub struct Quota {
    limiter: Option<RateLimiter<[u8; 32], DefaultKeyedStateStore<[u8; 32]>, DefaultClock>>,
}

impl Quota {
    /// `n` per minute and key, with bursts of `n`; 0 turns quotas off.
    pub fn per_minute(n: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(n).map(|n| RateLimiter::keyed(governor::Quota::per_minute(n))),
        }
    }

    /// Takes one from `key`'s bucket, or says how long until one is there.
    pub fn take(&self, key: &[u8; 32]) -> Result<(), Duration> {
        let Some(l) = &self.limiter else {
            return Ok(());
        };
        l.check_key(key)
            .map_err(|not_until| not_until.wait_time_from(l.clock().now()))?;
        // Forget idle keys now and then, so the table does not grow without bound.
        if l.len() > 100_000 {
            l.retain_recent();
        }
        Ok(())
    }
}

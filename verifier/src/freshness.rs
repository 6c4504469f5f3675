//! Revocation and freshness: which checkpoint roots a verifier accepts, and when.
//!
//! Revocation empties a consent's leaf, so every checkpoint after it has a root without
//! the consent. A proof against an older root is accepted only while that root is the
//! latest or was superseded less than the freshness window ago; the window's clock starts
//! when the root is superseded, not when it was made. A proof that states its time
//! (access authorization's `now`) must state one within a small skew of the verifier's
//! clock, or, in an audit, of the ledger time of the entry that logged it.
//!
//! So once a revocation has landed and the window has passed, no proof from the revoked
//! consent is accepted: the old roots are stale, and the new ones do not contain it.

/// The default freshness window: 10 minutes.
pub const DEFAULT_WINDOW_SECS: u64 = 600;
/// The default allowed skew between a proof's `now` and the verifier's clock: 2 minutes.
pub const DEFAULT_SKEW_SECS: u64 = 120;

/// Why a root or a proof's time is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FreshnessError {
    /// The checkpoint was superseded too long before the time of the check.
    #[error("stale root: checkpoint at seq {seq} was superseded at {superseded_at}, {age} s before {at} (window {window} s)")]
    Stale {
        /// The checkpoint's entry seq.
        seq: u64,
        /// When it was superseded.
        superseded_at: u64,
        /// The time of the check.
        at: u64,
        /// `at - superseded_at`.
        age: u64,
        /// The window.
        window: u64,
    },
    /// Without the ledger's history, the checkpoint is older than the window.
    #[error("checkpoint at seq {seq} was made {age} s before {at}; without the ledger database only a checkpoint younger than the window ({window} s) is accepted: ask for a proof against a recent checkpoint, or verify with the ledger")]
    TooOld {
        /// The checkpoint's entry seq.
        seq: u64,
        /// When it was made.
        made: u64,
        /// The time of the check.
        at: u64,
        /// `at - made`.
        age: u64,
        /// The window.
        window: u64,
    },
    /// The checkpoint was made after the time of the check.
    #[error("checkpoint at seq {seq} was made at {made}, after {at}")]
    FromTheFuture {
        /// The checkpoint's entry seq.
        seq: u64,
        /// Its time.
        made: u64,
        /// The time of the check.
        at: u64,
    },
    /// The checkpoint is not one of this ledger's.
    #[error("checkpoint at seq {0} is not on this ledger")]
    UnknownCheckpoint(u64),
    /// The ledger's checkpoint history could not be read or does not hold up.
    #[error("cannot read the checkpoint history: {0}")]
    History(String),
    /// The proof's `now` is too far from the time of the check.
    #[error("the proof's time {now} is {distance} s from {at} (allowed skew {skew} s)")]
    Skew {
        /// The proof's time.
        now: u64,
        /// The time of the check.
        at: u64,
        /// `|now - at|`.
        distance: u64,
        /// The allowed skew.
        skew: u64,
    },
}

/// The freshness rules: window and skew, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// How long after a root is superseded proofs against it are still accepted.
    pub window_secs: u64,
    /// How far a proof's `now` may be from the verifier's time.
    pub skew_secs: u64,
}

impl Default for Freshness {
    fn default() -> Self {
        Self {
            window_secs: DEFAULT_WINDOW_SECS,
            skew_secs: DEFAULT_SKEW_SECS,
        }
    }
}

impl Freshness {
    /// Checks that checkpoint `seq`, made at `made` and superseded at `superseded_at`
    /// (`None` while it is the latest), is acceptable at time `at`.
    pub fn check_root(
        &self,
        seq: u64,
        made: u64,
        superseded_at: Option<u64>,
        at: u64,
    ) -> Result<(), FreshnessError> {
        if made > at.saturating_add(self.skew_secs) {
            return Err(FreshnessError::FromTheFuture { seq, made, at });
        }
        match superseded_at {
            Some(sup) if at >= sup && at - sup >= self.window_secs => Err(FreshnessError::Stale {
                seq,
                superseded_at: sup,
                at,
                age: at - sup,
                window: self.window_secs,
            }),
            _ => Ok(()),
        }
    }

    /// The light rule, for a verifier that has the checkpoint but not the ledger's
    /// history: checkpoint `seq`, made at `made`, is accepted at `at` only while it is
    /// younger than the window. It is never more lenient than [`Freshness::check_root`]:
    /// a checkpoint is superseded no earlier than it is made, so a root refused by the
    /// full rule is refused here too. A quiet ledger needs a heartbeat checkpoint
    /// (`medproof ledger heartbeat`) at least every half window for a recent one to exist.
    pub fn check_recent(&self, seq: u64, made: u64, at: u64) -> Result<(), FreshnessError> {
        if made > at.saturating_add(self.skew_secs) {
            return Err(FreshnessError::FromTheFuture { seq, made, at });
        }
        if at >= made && at - made >= self.window_secs {
            return Err(FreshnessError::TooOld {
                seq,
                made,
                at,
                age: at - made,
                window: self.window_secs,
            });
        }
        Ok(())
    }

    /// Checks that a proof's `now` is within the skew of `at`.
    pub fn check_now(&self, now: u64, at: u64) -> Result<(), FreshnessError> {
        let distance = now.abs_diff(at);
        if distance > self.skew_secs {
            return Err(FreshnessError::Skew {
                now,
                at,
                distance,
                skew: self.skew_secs,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_starts_when_the_root_is_superseded() {
        let f = Freshness::default();
        // The latest root is always fresh, however old.
        assert_eq!(f.check_root(1, 0, None, 1_000_000), Ok(()));
        // Made long ago but superseded recently: fresh.
        assert_eq!(f.check_root(1, 0, Some(10_000), 10_000 + 599), Ok(()));
        // Superseded exactly the window ago: stale.
        assert!(matches!(
            f.check_root(1, 0, Some(10_000), 10_600),
            Err(FreshnessError::Stale { age: 600, .. })
        ));
        // A check dated before the supersession (an audit of an old entry) is fine.
        assert_eq!(f.check_root(1, 0, Some(10_000), 5_000), Ok(()));
        // A checkpoint made after the check's time (beyond the skew) is refused.
        assert!(matches!(
            f.check_root(1, 5_000, None, 4_000),
            Err(FreshnessError::FromTheFuture { .. })
        ));
    }

    #[test]
    fn light_rule_accepts_only_recent_checkpoints() {
        let f = Freshness::default();
        assert_eq!(f.check_recent(1, 10_000, 10_000), Ok(()));
        assert_eq!(f.check_recent(1, 10_000, 10_599), Ok(()));
        assert!(matches!(
            f.check_recent(1, 10_000, 10_600),
            Err(FreshnessError::TooOld { age: 600, .. })
        ));
        assert!(matches!(
            f.check_recent(1, 10_000, 10_000 - 121),
            Err(FreshnessError::FromTheFuture { .. })
        ));
        // Never more lenient than the full rule, whatever the supersession time.
        for (made, sup, at) in [(0, 0, 600), (0, 100, 700), (50, 60, 2_000)] {
            if f.check_root(1, made, Some(sup), at).is_err() {
                assert!(f.check_recent(1, made, at).is_err());
            }
        }
    }

    #[test]
    fn now_must_be_within_the_skew() {
        let f = Freshness {
            window_secs: 600,
            skew_secs: 60,
        };
        assert_eq!(f.check_now(1_000, 1_060), Ok(()));
        assert_eq!(f.check_now(1_060, 1_000), Ok(()));
        assert!(f.check_now(1_000, 1_061).is_err());
        assert!(f.check_now(1_061, 1_000).is_err());
        assert!(f.check_now(u64::MAX, 0).is_err());
    }
}

//! The values of the ledger's index column families, one codec each, beside the layout
//! they implement (keys are in [`crate::store::Cf`]). Every decoder refuses a value of
//! the wrong length or with an unknown tag; each pair is round-trip tested.
//!
//! | column family | value |
//! | --- | --- |
//! | `Leaves` | `tree (u8) \| leaf index (u64) \| seq of the adding entry (u64)` |
//! | `Checkpoints` | `entry seq (u64) \| superseded_at (u64; u64::MAX while latest)` |
//! | `Keys` | `role (u8) \| seq of the last entry that changed it (u64) \| suspended (u8)` |
//! | `Consents` | `granter key (32) \| revoked (u8)` |
//! | `Seen`, `Bindings`, `Claims` | `seq (u64)` of the entry that added the key (a `Claims` key is `policy (32) \| claim id (32)`, see [`claim_key`]) |
//!
//! Integers are big-endian. These are indexes: a verifier re-checks what they say
//! against the signed chain.

use crate::entry::Role;
use crate::ledger::TreeId;
use crate::rules::{ConsentStatus, KeyStatus};

fn u64_at(v: &[u8], at: usize) -> Option<u64> {
    v.get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
}

/// The `Claims` key of a claim id submitted under `policy`: both, 32 bytes each.
pub fn claim_key(policy: &medproof_verifier::Fr, claim_id: &medproof_verifier::Fr) -> [u8; 64] {
    use medproof_verifier::checkpoint::fr_to_be32;
    let mut k = [0u8; 64];
    k[..32].copy_from_slice(&fr_to_be32(policy));
    k[32..].copy_from_slice(&fr_to_be32(claim_id));
    k
}

/// The `Leaves` value of a commitment: its tree, leaf index, and the seq of the entry
/// that added it.
pub fn leaf_value(tree: TreeId, index: u64, seq: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(17);
    v.push(tree as u8);
    v.extend_from_slice(&index.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    v
}

/// Decodes a `Leaves` value.
pub fn leaf(v: &[u8]) -> Option<(TreeId, u64, u64)> {
    if v.len() != 17 {
        return None;
    }
    Some((TreeId::from_u8(v[0])?, u64_at(v, 1)?, u64_at(v, 9)?))
}

/// The `Checkpoints` value of a checkpoint: its entry seq and when it was superseded.
pub fn checkpoint_value(seq: u64, superseded_at: Option<u64>) -> Vec<u8> {
    let mut v = seq.to_be_bytes().to_vec();
    v.extend_from_slice(&superseded_at.unwrap_or(u64::MAX).to_be_bytes());
    v
}

/// Decodes a `Checkpoints` value.
pub fn checkpoint(v: &[u8]) -> Option<(u64, Option<u64>)> {
    if v.len() != 16 {
        return None;
    }
    let sup = u64_at(v, 8)?;
    Some((u64_at(v, 0)?, (sup != u64::MAX).then_some(sup)))
}

/// The `Keys` value of a key.
pub fn key_value(status: KeyStatus, seq: u64) -> Vec<u8> {
    let mut v = vec![status.role as u8];
    v.extend_from_slice(&seq.to_be_bytes());
    v.push(u8::from(status.suspended));
    v
}

/// Decodes a `Keys` value.
pub fn key_status(v: &[u8]) -> Option<(KeyStatus, u64)> {
    if v.len() != 10 || v[9] > 1 {
        return None;
    }
    let role = Role::from_u8(v[0]).ok()?;
    Some((
        KeyStatus {
            role,
            suspended: v[9] == 1,
        },
        u64_at(v, 1)?,
    ))
}

/// The `Consents` value of a consent.
pub fn consent_value(status: ConsentStatus) -> Vec<u8> {
    let mut v = status.granter.to_vec();
    v.push(u8::from(status.revoked));
    v
}

/// Decodes a `Consents` value.
pub fn consent_status(v: &[u8]) -> Option<ConsentStatus> {
    if v.len() != 33 || v[32] > 1 {
        return None;
    }
    Some(ConsentStatus {
        granter: v[..32].try_into().ok()?,
        revoked: v[32] == 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_codec_roundtrips_and_refuses_bad_values() {
        for (t, i, s) in [(TreeId::Records, 0, 5), (TreeId::Policies, u64::MAX, 1)] {
            assert_eq!(leaf(&leaf_value(t, i, s)), Some((t, i, s)));
        }
        assert_eq!(leaf(&[9; 17]), None);
        assert_eq!(leaf(&[0; 16]), None);
        for sup in [None, Some(0), Some(7)] {
            assert_eq!(checkpoint(&checkpoint_value(3, sup)), Some((3, sup)));
        }
        assert_eq!(checkpoint(&[0; 15]), None);
        for suspended in [false, true] {
            let k = KeyStatus {
                role: Role::Insurer,
                suspended,
            };
            assert_eq!(key_status(&key_value(k, 42)), Some((k, 42)));
        }
        let mut bad = key_value(
            KeyStatus {
                role: Role::Patient,
                suspended: false,
            },
            1,
        );
        bad[9] = 2;
        assert_eq!(key_status(&bad), None);
        bad[0] = 9;
        assert_eq!(key_status(&bad[..9]), None);
        for revoked in [false, true] {
            let c = ConsentStatus {
                granter: [4; 32],
                revoked,
            };
            assert_eq!(consent_status(&consent_value(c)), Some(c));
        }
        assert_eq!(consent_status(&[0; 32]), None);
    }
}

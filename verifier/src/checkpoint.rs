//! Signed checkpoints: the ledger's word on its state, which verifiers trust instead of a
//! root a prover sends.
//!
//! A checkpoint is `{seq, chain_head, records_root, consents_root, time}` signed with the
//! ledger's Ed25519 key over
//! `"medproof.checkpoint.v1" || seq (u64 BE) || chain_head (32) || records_root (32, BE)
//!  || consents_root (32, BE) || time (u64 BE)`.

use ark_ff::{BigInteger, PrimeField};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::field::{fr_from_decimal, fr_to_decimal, FieldError};
use crate::Fr;

/// Domain separator of the checkpoint signature.
pub const CHECKPOINT_DOMAIN: &[u8] = b"medproof.checkpoint.v1";
/// The version of the ledger's entry encoding (the ledger's `entry::ENTRY_VERSION` is
/// this one), which [`Checkpoint::entry_encoding`] writes.
pub const ENTRY_VERSION: u8 = 2;
/// The kind byte of a checkpoint entry (the ledger's `entry::KIND_CHECKPOINT` is this).
pub const KIND_CHECKPOINT: u8 = 7;

/// Why a checkpoint is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// A field that does not decode.
    #[error("checkpoint field `{0}` is malformed")]
    Malformed(&'static str),
    /// A root that is not a canonical field element.
    #[error("checkpoint field `{name}`: {source}")]
    Field {
        /// The field.
        name: &'static str,
        /// Why.
        source: FieldError,
    },
    /// The signature does not verify under the ledger's key.
    #[error("checkpoint signature does not verify under the ledger's key")]
    BadSignature,
}

/// A signed checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Sequence number of the checkpoint's own ledger entry.
    pub seq: u64,
    /// SHA-256 of the entry before it (the chain head it vouches for).
    pub chain_head: [u8; 32],
    /// Root of the records tree.
    pub records_root: Fr,
    /// Root of the consents tree.
    pub consents_root: Fr,
    /// Ledger time, Unix seconds.
    pub time: u64,
    /// Ed25519 signature by the ledger.
    pub signature: [u8; 64],
}

/// 32-byte big-endian encoding of a canonical field element.
pub fn fr_to_be32(x: &Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&x.into_bigint().to_bytes_be());
    out
}

impl Checkpoint {
    /// The bytes the ledger signs.
    pub fn signing_bytes(
        seq: u64,
        chain_head: &[u8; 32],
        records_root: &Fr,
        consents_root: &Fr,
        time: u64,
    ) -> Vec<u8> {
        let mut m = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + 8 + 96 + 8);
        m.extend_from_slice(CHECKPOINT_DOMAIN);
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(chain_head);
        m.extend_from_slice(&fr_to_be32(records_root));
        m.extend_from_slice(&fr_to_be32(consents_root));
        m.extend_from_slice(&time.to_be_bytes());
        m
    }

    /// Checks the signature under the ledger's public key.
    pub fn verify(&self, ledger_key: &VerifyingKey) -> Result<(), CheckpointError> {
        let msg = Self::signing_bytes(
            self.seq,
            &self.chain_head,
            &self.records_root,
            &self.consents_root,
            self.time,
        );
        ledger_key
            .verify_strict(&msg, &Signature::from_bytes(&self.signature))
            .map_err(|_| CheckpointError::BadSignature)
    }

    /// The ledger entry that holds this checkpoint, encoded as the ledger encodes it
    /// (entry version 2, kind 7: `2 || seq || time || chain_head || 7 || records_root ||
    /// consents_root || signature`): the leaf of the transparency log that stands for it.
    pub fn entry_encoding(&self) -> Vec<u8> {
        let mut e = Vec::with_capacity(1 + 8 + 8 + 32 + 1 + 64 + 64);
        e.push(ENTRY_VERSION);
        e.extend_from_slice(&self.seq.to_be_bytes());
        e.extend_from_slice(&self.time.to_be_bytes());
        e.extend_from_slice(&self.chain_head);
        e.push(KIND_CHECKPOINT);
        e.extend_from_slice(&fr_to_be32(&self.records_root));
        e.extend_from_slice(&fr_to_be32(&self.consents_root));
        e.extend_from_slice(&self.signature);
        e
    }

    /// The JSON form carried in bundles.
    pub fn to_json(&self) -> CheckpointJson {
        CheckpointJson {
            seq: self.seq,
            chain_head: hex::encode(self.chain_head),
            records_root: fr_to_decimal(&self.records_root),
            consents_root: fr_to_decimal(&self.consents_root),
            time: self.time,
            signature: hex::encode(self.signature),
        }
    }
}

/// A checkpoint as JSON: hashes and signature in hex, roots as decimal strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointJson {
    /// See [`Checkpoint::seq`].
    pub seq: u64,
    /// Hex.
    pub chain_head: String,
    /// Decimal.
    pub records_root: String,
    /// Decimal.
    pub consents_root: String,
    /// Unix seconds.
    pub time: u64,
    /// Hex.
    pub signature: String,
}

fn hex_array<const N: usize>(name: &'static str, s: &str) -> Result<[u8; N], CheckpointError> {
    hex::decode(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(CheckpointError::Malformed(name))
}

impl CheckpointJson {
    /// Parses every field (signature not yet checked).
    pub fn parse(&self) -> Result<Checkpoint, CheckpointError> {
        let root = |name, s: &str| {
            fr_from_decimal(s).map_err(|source| CheckpointError::Field { name, source })
        };
        Ok(Checkpoint {
            seq: self.seq,
            chain_head: hex_array("chain_head", &self.chain_head)?,
            records_root: root("records_root", &self.records_root)?,
            consents_root: root("consents_root", &self.consents_root)?,
            time: self.time,
            signature: hex_array("signature", &self.signature)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn signed(key: &SigningKey) -> Checkpoint {
        let (seq, head, r, c, t) = (7, [3u8; 32], Fr::from(5u64), Fr::from(6u64), 1_700_000_000);
        let sig = key.sign(&Checkpoint::signing_bytes(seq, &head, &r, &c, t));
        Checkpoint {
            seq,
            chain_head: head,
            records_root: r,
            consents_root: c,
            time: t,
            signature: sig.to_bytes(),
        }
    }

    #[test]
    fn signature_binds_every_field() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let cp = signed(&key);
        assert_eq!(cp.verify(&key.verifying_key()), Ok(()));
        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert_eq!(
            cp.verify(&other.verifying_key()),
            Err(CheckpointError::BadSignature)
        );
        for tamper in [
            |c: &mut Checkpoint| c.seq += 1,
            |c: &mut Checkpoint| c.chain_head[0] ^= 1,
            |c: &mut Checkpoint| c.records_root += Fr::from(1u64),
            |c: &mut Checkpoint| c.consents_root += Fr::from(1u64),
            |c: &mut Checkpoint| c.time += 1,
        ] {
            let mut c = cp;
            tamper(&mut c);
            assert_eq!(
                c.verify(&key.verifying_key()),
                Err(CheckpointError::BadSignature)
            );
        }
        assert_eq!(cp.to_json().parse(), Ok(cp));
    }
}

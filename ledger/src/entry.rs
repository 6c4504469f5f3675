//! Ledger entries and their canonical encoding (version 1).
//!
//! ```text
//! entry      = version:u8(=1) seq:u64 time:u64 prev:[32] kind:u8 body
//! body       = submission (kinds 1-6) | checkpoint (kind 7)
//! submission = payload signer:[32] nonce:[16] signature:[64]
//! payload    = role:u8                      (1 register key)
//!            | commitment:fr                (2 commit record, 3 grant consent, 5 publish policy)
//!            | consent_index:u64            (4 revoke consent)
//!            | bundle:var (JSON, <= 64 KiB) (6 log access)
//! checkpoint = records_root:fr consents_root:fr signature:[64]
//! ```
//!
//! Integers are big-endian; `fr` is a canonical 32-byte big-endian field element; `var`
//! is a u32 length and the bytes. `prev` is the SHA-256 of the previous entry's encoding
//! (zeros for the first), so the entries form a hash chain.
//!
//! A submission is signed by its author over
//! `"medproof.submission.v1" || kind || payload || signer || nonce`; the nonce makes each
//! signed submission unique, and the ledger refuses one it has seen before (replay).
//! Entries hold commitments, public keys, signatures and proof bundles, never plaintext.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use medproof_verifier::{Checkpoint, Fr};
use sha2::{Digest, Sha256};

use crate::encoding::{DecodeError, Reader, Writer};

/// Version byte of the entry encoding.
pub const ENTRY_VERSION: u8 = 1;
/// Domain separator of submission signatures.
pub const SUBMISSION_DOMAIN: &[u8] = b"medproof.submission.v1";
/// Largest proof bundle an access entry may carry.
pub const MAX_BUNDLE_BYTES: usize = 64 * 1024;

/// The role a key is registered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Grants and revokes consents.
    Patient = 1,
    /// Commits records, logs accesses.
    Provider = 2,
    /// Publishes policies.
    Insurer = 3,
    /// Audits.
    Regulator = 4,
}

impl Role {
    /// From its byte.
    pub fn from_u8(v: u8) -> Result<Self, DecodeError> {
        Ok(match v {
            1 => Role::Patient,
            2 => Role::Provider,
            3 => Role::Insurer,
            4 => Role::Regulator,
            _ => {
                return Err(DecodeError::Unknown {
                    what: "role",
                    value: v,
                })
            }
        })
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Patient => "patient",
            Role::Provider => "provider",
            Role::Insurer => "insurer",
            Role::Regulator => "regulator",
        }
    }
}

/// What a signed submission asks the ledger to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Register the signer's key for a role (the signature proves possession).
    RegisterKey {
        /// The role.
        role: Role,
    },
    /// A provider commits a record commitment to the records tree.
    CommitRecord {
        /// The record commitment.
        commitment: Fr,
    },
    /// A patient grants a consent: its commitment joins the consents tree.
    GrantConsent {
        /// The consent commitment.
        commitment: Fr,
    },
    /// A patient revokes a consent they granted: its leaf is emptied.
    RevokeConsent {
        /// The consent's leaf index in the consents tree.
        consent_index: u64,
    },
    /// An insurer publishes a policy commitment.
    PublishPolicy {
        /// The policy commitment.
        commitment: Fr,
    },
    /// A provider logs an access with its proof bundle (JSON bytes).
    LogAccess {
        /// The bundle.
        bundle: Vec<u8>,
    },
}

impl Action {
    /// The entry kind byte.
    pub fn kind(&self) -> u8 {
        match self {
            Action::RegisterKey { .. } => 1,
            Action::CommitRecord { .. } => 2,
            Action::GrantConsent { .. } => 3,
            Action::RevokeConsent { .. } => 4,
            Action::PublishPolicy { .. } => 5,
            Action::LogAccess { .. } => 6,
        }
    }

    /// A short name.
    pub fn name(&self) -> &'static str {
        match self {
            Action::RegisterKey { .. } => "register-key",
            Action::CommitRecord { .. } => "commit-record",
            Action::GrantConsent { .. } => "grant-consent",
            Action::RevokeConsent { .. } => "revoke-consent",
            Action::PublishPolicy { .. } => "publish-policy",
            Action::LogAccess { .. } => "log-access",
        }
    }

    fn encode_payload(&self, w: &mut Writer) {
        match self {
            Action::RegisterKey { role } => {
                w.u8(*role as u8);
            }
            Action::CommitRecord { commitment }
            | Action::GrantConsent { commitment }
            | Action::PublishPolicy { commitment } => {
                w.fr(commitment);
            }
            Action::RevokeConsent { consent_index } => {
                w.u64(*consent_index);
            }
            Action::LogAccess { bundle } => {
                w.var(bundle);
            }
        }
    }

    fn decode_payload(kind: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match kind {
            1 => Action::RegisterKey {
                role: Role::from_u8(r.u8()?)?,
            },
            2 => Action::CommitRecord {
                commitment: r.fr("commitment")?,
            },
            3 => Action::GrantConsent {
                commitment: r.fr("commitment")?,
            },
            4 => Action::RevokeConsent {
                consent_index: r.u64()?,
            },
            5 => Action::PublishPolicy {
                commitment: r.fr("commitment")?,
            },
            6 => Action::LogAccess {
                bundle: r.var("bundle", MAX_BUNDLE_BYTES)?.to_vec(),
            },
            _ => {
                return Err(DecodeError::Unknown {
                    what: "entry kind",
                    value: kind,
                })
            }
        })
    }
}

/// A signed request to append an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// What to do.
    pub action: Action,
    /// The author's Ed25519 public key.
    pub signer: [u8; 32],
    /// Random, so that each signed submission is unique.
    pub nonce: [u8; 16],
    /// Ed25519 signature over [`Submission::signing_bytes`].
    pub signature: [u8; 64],
}

impl Submission {
    /// The bytes the author signs.
    pub fn signing_bytes(action: &Action, signer: &[u8; 32], nonce: &[u8; 16]) -> Vec<u8> {
        let mut w = Writer::default();
        w.raw(SUBMISSION_DOMAIN).u8(action.kind());
        action.encode_payload(&mut w);
        w.raw(signer).raw(nonce);
        w.0
    }

    /// Signs `action` with `key` and a fresh random nonce.
    pub fn sign(action: Action, key: &SigningKey) -> Self {
        let mut nonce = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
        Self::sign_with_nonce(action, key, nonce)
    }

    /// Signs with a given nonce (tests; replays).
    pub fn sign_with_nonce(action: Action, key: &SigningKey, nonce: [u8; 16]) -> Self {
        let signer = key.verifying_key().to_bytes();
        let signature = key
            .sign(&Self::signing_bytes(&action, &signer, &nonce))
            .to_bytes();
        Self {
            action,
            signer,
            nonce,
            signature,
        }
    }

    /// Whether the signature verifies under `signer` (strict: no malleable signatures,
    /// no weak keys).
    pub fn signature_ok(&self) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.signer) else {
            return false;
        };
        let msg = Self::signing_bytes(&self.action, &self.signer, &self.nonce);
        key.verify_strict(&msg, &Signature::from_bytes(&self.signature))
            .is_ok()
    }

    /// The id under which a replay is recognised: SHA-256 of the signed bytes.
    pub fn replay_id(&self) -> [u8; 32] {
        Sha256::digest(Self::signing_bytes(&self.action, &self.signer, &self.nonce)).into()
    }
}

/// The body of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A signed submission.
    Submission(Submission),
    /// A checkpoint: the roots after the entries before it, signed by the ledger.
    Checkpoint {
        /// Records tree root.
        records_root: Fr,
        /// Consents tree root.
        consents_root: Fr,
        /// The ledger's signature (see [`Checkpoint::signing_bytes`]).
        signature: [u8; 64],
    },
}

/// Kind byte of checkpoint entries.
pub const KIND_CHECKPOINT: u8 = 7;

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the chain, from 0.
    pub seq: u64,
    /// Ledger time, Unix seconds.
    pub time: u64,
    /// SHA-256 of the previous entry's encoding (zeros for the first).
    pub prev: [u8; 32],
    /// What the entry records.
    pub body: Body,
}

impl Entry {
    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(ENTRY_VERSION)
            .u64(self.seq)
            .u64(self.time)
            .raw(&self.prev);
        match &self.body {
            Body::Submission(s) => {
                w.u8(s.action.kind());
                s.action.encode_payload(&mut w);
                w.raw(&s.signer).raw(&s.nonce).raw(&s.signature);
            }
            Body::Checkpoint {
                records_root,
                consents_root,
                signature,
            } => {
                w.u8(KIND_CHECKPOINT)
                    .fr(records_root)
                    .fr(consents_root)
                    .raw(signature);
            }
        }
        w.0
    }

    /// Decodes a canonical encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader(bytes);
        let version = r.u8()?;
        if version != ENTRY_VERSION {
            return Err(DecodeError::Unknown {
                what: "entry version",
                value: version,
            });
        }
        let seq = r.u64()?;
        let time = r.u64()?;
        let prev = r.array()?;
        let kind = r.u8()?;
        let body = if kind == KIND_CHECKPOINT {
            Body::Checkpoint {
                records_root: r.fr("records_root")?,
                consents_root: r.fr("consents_root")?,
                signature: r.array()?,
            }
        } else {
            let action = Action::decode_payload(kind, &mut r)?;
            Body::Submission(Submission {
                action,
                signer: r.array()?,
                nonce: r.array()?,
                signature: r.array()?,
            })
        };
        r.end()?;
        Ok(Self {
            seq,
            time,
            prev,
            body,
        })
    }

    /// SHA-256 of the encoding: the next entry's `prev`.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.encode()).into()
    }

    /// The entry that `checkpoint` is (a checkpoint carries every field of its entry), so
    /// that its hash can be known without reading it from storage.
    pub fn of_checkpoint(checkpoint: &Checkpoint) -> Self {
        Self {
            seq: checkpoint.seq,
            time: checkpoint.time,
            prev: checkpoint.chain_head,
            body: Body::Checkpoint {
                records_root: checkpoint.records_root,
                consents_root: checkpoint.consents_root,
                signature: checkpoint.signature,
            },
        }
    }

    /// The checkpoint this entry is, if it is one.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        match &self.body {
            Body::Checkpoint {
                records_root,
                consents_root,
                signature,
            } => Some(Checkpoint {
                seq: self.seq,
                chain_head: self.prev,
                records_root: *records_root,
                consents_root: *consents_root,
                time: self.time,
                signature: *signature,
            }),
            Body::Submission(_) => None,
        }
    }

    /// A one-line description without any payload values.
    pub fn describe(&self) -> String {
        match &self.body {
            Body::Submission(s) => format!(
                "seq {} time {} {} by {}",
                self.seq,
                self.time,
                s.action.name(),
                &hex::encode(s.signer)[..16]
            ),
            Body::Checkpoint { .. } => format!("seq {} time {} checkpoint", self.seq, self.time),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_roundtrips_and_signatures_bind() {
        let key = SigningKey::from_bytes(&[1u8; 32]);
        let actions = vec![
            Action::RegisterKey {
                role: Role::Provider,
            },
            Action::CommitRecord {
                commitment: Fr::from(5u64),
            },
            Action::GrantConsent {
                commitment: Fr::from(6u64),
            },
            Action::RevokeConsent { consent_index: 3 },
            Action::PublishPolicy {
                commitment: Fr::from(7u64),
            },
            Action::LogAccess {
                bundle: b"{}".to_vec(),
            },
        ];
        for (i, a) in actions.into_iter().enumerate() {
            let s = Submission::sign(a, &key);
            assert!(s.signature_ok());
            let e = Entry {
                seq: i as u64,
                time: 10,
                prev: [i as u8; 32],
                body: Body::Submission(s.clone()),
            };
            assert_eq!(Entry::decode(&e.encode()), Ok(e.clone()));
            let mut forged = s.clone();
            forged.nonce[0] ^= 1;
            assert!(!forged.signature_ok());
        }
        let cp = Entry {
            seq: 9,
            time: 11,
            prev: [2; 32],
            body: Body::Checkpoint {
                records_root: Fr::from(1u64),
                consents_root: Fr::from(2u64),
                signature: [4; 64],
            },
        };
        assert_eq!(Entry::decode(&cp.encode()), Ok(cp.clone()));
        assert_eq!(Entry::of_checkpoint(&cp.checkpoint().unwrap()), cp);
        let mut bytes = cp.encode();
        bytes.push(0);
        assert_eq!(Entry::decode(&bytes), Err(DecodeError::Trailing(1)));
        bytes[0] = 2;
        assert!(Entry::decode(&bytes).is_err());
    }
}

//! Ledger entries and their canonical encoding (version 2).
//!
//! ```text
//! entry      = version:u8(=2) seq:u64 time:u64 prev:[32] kind:u8 body
//! body       = genesis (kind 8) | submission (kinds 1-6, 9-11) | checkpoint (kind 7)
//! genesis    = ledger_key:[32] count:u8 registrar:[32]*count keys:u8 key*keys signature:[64]
//! key        = statement:u8 vk_id:[32] (0 | 1 transcript:[64])  (at most one per statement;
//!                                              0: single-party setup, 1: ceremony)
//! submission = payload ledger_id:[32] expires:u64 signer:[32] nonce:[16] signature:[64]
//! payload    = role:u8                      (1 register key: patients register themselves)
//!            | commitment:fr                (2 commit record, 3 grant consent, 5 publish policy)
//!            | consent_index:u64            (4 revoke consent)
//!            | bundle:var nonce:fr          (6 log access: the proof bundle, JSON <= 63 KiB,
//!                                              and the data holder's challenge)
//!            | key:[32] role:u8             (9 admit key, by a registrar)
//!            | key:[32]                     (10 suspend key, by a registrar)
//!            | policy:fr claim_id:fr        (11 submit claim, by the policy's insurer)
//! checkpoint = records_root:fr consents_root:fr signature:[64]
//! ```
//!
//! Integers are big-endian; `fr` is a canonical 32-byte big-endian field element; `var`
//! is a u32 length and the bytes. `prev` is the SHA-256 of the previous entry's encoding
//! (zeros for the genesis), so the entries form a hash chain. The genesis is entry 0,
//! signed by the ledger key over `"medproof.genesis.v2" || time` and its fields as
//! encoded; its hash is the ledger id. It names each statement's verifying key (and the
//! ceremony transcript it came from): verifiers refuse a proof under any other key.
//!
//! A submission is signed by its author over
//! `"medproof.submission.v2" || kind || payload || ledger_id || expires || signer ||
//! nonce`: it is valid on one ledger only, until `expires` (ledger time, Unix seconds);
//! the nonce makes each signed submission unique, and the ledger refuses one it has seen
//! before (replay). Entries hold commitments, public keys, signatures and proof bundles,
//! never plaintext.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use medproof_verifier::{Checkpoint, Fr, Statement};
use sha2::{Digest, Sha256};

use crate::encoding::{DecodeError, Reader, Writer};

/// Version byte of the entry encoding.
pub const ENTRY_VERSION: u8 = medproof_verifier::checkpoint::ENTRY_VERSION;
/// Domain separator of submission signatures.
pub const SUBMISSION_DOMAIN: &[u8] = b"medproof.submission.v2";
/// Domain separator of the genesis signature.
pub const GENESIS_DOMAIN: &[u8] = b"medproof.genesis.v2";
/// Most registrars a genesis may name.
pub const MAX_REGISTRARS: usize = 16;
/// Largest proof bundle an access entry may carry: 63 KiB, so that the longest access
/// entry ([`MAX_ACCESS_ENTRY_OVERHEAD`] more) still fits a C2SP entry bundle's u16 length
/// ([`crate::tlog::MAX_ENTRY_BYTES`]). A proof bundle is about 2 KiB.
pub const MAX_BUNDLE_BYTES: usize = 63 * 1024;
/// The bytes of an access entry besides its bundle: version, seq, time, prev, kind, the
/// bundle's length, the nonce, the envelope, signer, submission nonce and signature.
pub const MAX_ACCESS_ENTRY_OVERHEAD: usize = 1 + 8 + 8 + 32 + 1 + 4 + 32 + 32 + 8 + 32 + 16 + 64;
const _: () = assert!(
    MAX_BUNDLE_BYTES + MAX_ACCESS_ENTRY_OVERHEAD <= crate::tlog::MAX_ENTRY_BYTES,
    "the longest access entry must fit an entry bundle"
);

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
    /// Register the signer's key for a role (the signature proves possession). Only
    /// patients register themselves; other roles are admitted by a registrar.
    RegisterKey {
        /// The role.
        role: Role,
    },
    /// A registrar admits a key for a role (provider, insurer or regulator).
    AdmitKey {
        /// The admitted key.
        key: [u8; 32],
        /// Its role.
        role: Role,
    },
    /// A registrar suspends a key: its later submissions are refused.
    SuspendKey {
        /// The suspended key.
        key: [u8; 32],
    },
    /// An insurer records that it accepted (pays) a claim: the same claim id is refused
    /// the second time.
    SubmitClaim {
        /// The policy the claim was made under (published by the signer).
        policy: Fr,
        /// The claim id the claim proof names.
        claim_id: Fr,
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
    /// A provider logs an access with its proof bundle (JSON bytes) and the nonce of the
    /// request (the data holder's challenge), from which the proof's request binding is
    /// recomputed.
    LogAccess {
        /// The bundle.
        bundle: Vec<u8>,
        /// The request's nonce.
        nonce: Fr,
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
            Action::AdmitKey { .. } => 9,
            Action::SuspendKey { .. } => 10,
            Action::SubmitClaim { .. } => 11,
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
            Action::AdmitKey { .. } => "admit-key",
            Action::SuspendKey { .. } => "suspend-key",
            Action::SubmitClaim { .. } => "submit-claim",
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
            Action::LogAccess { bundle, nonce } => {
                w.var(bundle).fr(nonce);
            }
            Action::AdmitKey { key, role } => {
                w.raw(key).u8(*role as u8);
            }
            Action::SuspendKey { key } => {
                w.raw(key);
            }
            Action::SubmitClaim { policy, claim_id } => {
                w.fr(policy).fr(claim_id);
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
                nonce: r.fr("nonce")?,
            },
            9 => Action::AdmitKey {
                key: r.array()?,
                role: Role::from_u8(r.u8()?)?,
            },
            10 => Action::SuspendKey { key: r.array()? },
            11 => Action::SubmitClaim {
                policy: r.fr("policy")?,
                claim_id: r.fr("claim_id")?,
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

/// Where and until when a signed submission is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    /// The ledger it is for (the hash of that ledger's genesis).
    pub ledger_id: [u8; 32],
    /// The last ledger time (Unix seconds) at which it may be appended.
    pub expires: u64,
}

/// A signed request to append an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// What to do.
    pub action: Action,
    /// The ledger and the expiry it is signed for.
    pub envelope: Envelope,
    /// The author's Ed25519 public key.
    pub signer: [u8; 32],
    /// Random, so that each signed submission is unique.
    pub nonce: [u8; 16],
    /// Ed25519 signature over [`Submission::signing_bytes`].
    pub signature: [u8; 64],
}

impl Submission {
    /// The bytes the author signs.
    pub fn signing_bytes(
        action: &Action,
        envelope: &Envelope,
        signer: &[u8; 32],
        nonce: &[u8; 16],
    ) -> Vec<u8> {
        let mut w = Writer::default();
        w.raw(SUBMISSION_DOMAIN).u8(action.kind());
        action.encode_payload(&mut w);
        w.raw(&envelope.ledger_id)
            .u64(envelope.expires)
            .raw(signer)
            .raw(nonce);
        w.0
    }

    /// Signs `action` for `envelope` with `key` and a fresh random nonce.
    pub fn sign(action: Action, key: &SigningKey, envelope: Envelope) -> Self {
        let mut nonce = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
        Self::sign_with_nonce(action, key, envelope, nonce)
    }

    /// Signs with a given nonce (tests; replays).
    pub fn sign_with_nonce(
        action: Action,
        key: &SigningKey,
        envelope: Envelope,
        nonce: [u8; 16],
    ) -> Self {
        let signer = key.verifying_key().to_bytes();
        let signature = key
            .sign(&Self::signing_bytes(&action, &envelope, &signer, &nonce))
            .to_bytes();
        Self {
            action,
            envelope,
            signer,
            nonce,
            signature,
        }
    }

    fn signed_bytes(&self) -> Vec<u8> {
        Self::signing_bytes(&self.action, &self.envelope, &self.signer, &self.nonce)
    }

    /// Whether the signature verifies under `signer` (strict: no malleable signatures,
    /// no weak keys).
    pub fn signature_ok(&self) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.signer) else {
            return false;
        };
        key.verify_strict(
            &self.signed_bytes(),
            &Signature::from_bytes(&self.signature),
        )
        .is_ok()
    }

    /// The id under which a replay is recognised: SHA-256 of the signed bytes.
    pub fn replay_id(&self) -> [u8; 32] {
        Sha256::digest(self.signed_bytes()).into()
    }
}

/// A verifying key the genesis names: for its statement, the only key whose proofs this
/// ledger's verifiers accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesisKey {
    /// The statement.
    pub statement: Statement,
    /// SHA-256 of the compressed verifying key: a bundle's `vk_id`.
    pub vk_id: [u8; 32],
    /// The setup ceremony's transcript hash (Blake2b-512 over the circuit hash and every
    /// contribution), or `None` for keys from a single-party setup.
    pub transcript: Option<[u8; 64]>,
}

impl GenesisKey {
    /// `vk_id` as bundles carry it (hex).
    pub fn vk_id_hex(&self) -> String {
        hex::encode(self.vk_id)
    }

    /// The transcript hash in hex, or `"single-party"`.
    pub fn origin(&self) -> String {
        match &self.transcript {
            Some(t) => format!("ceremony transcript {}", hex::encode(t)),
            None => "single-party setup".to_string(),
        }
    }
}

/// The first entry of a ledger: the ledger's key, the registrars who admit providers,
/// insurers and regulators, and the verifying key of each statement (with its ceremony
/// transcript hash), signed by the ledger key. Its hash is the ledger id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    /// The key that signs the ledger's checkpoints.
    pub ledger_key: [u8; 32],
    /// The registrars' keys.
    pub registrars: Vec<[u8; 32]>,
    /// The verifying keys, at most one per statement.
    pub keys: Vec<GenesisKey>,
    /// The ledger key's signature (see [`Genesis::signing_bytes`]).
    pub signature: [u8; 64],
}

impl Genesis {
    /// The bytes the ledger key signs.
    pub fn signing_bytes(
        time: u64,
        ledger_key: &[u8; 32],
        registrars: &[[u8; 32]],
        keys: &[GenesisKey],
    ) -> Vec<u8> {
        let mut w = Writer::default();
        w.raw(GENESIS_DOMAIN).u64(time);
        Self::encode_fields(&mut w, ledger_key, registrars, keys);
        w.0
    }

    /// `ledger_key count registrars key_count keys`, as both the signature and the entry
    /// encode them.
    fn encode_fields(
        w: &mut Writer,
        ledger_key: &[u8; 32],
        registrars: &[[u8; 32]],
        keys: &[GenesisKey],
    ) {
        w.raw(ledger_key).u8(registrars.len() as u8);
        for r in registrars {
            w.raw(r);
        }
        w.u8(keys.len() as u8);
        for k in keys {
            w.u8(k.statement.code()).raw(&k.vk_id);
            match &k.transcript {
                Some(t) => w.u8(1).raw(t),
                None => w.u8(0),
            };
        }
    }

    fn decode_keys(r: &mut Reader<'_>) -> Result<Vec<GenesisKey>, DecodeError> {
        let count = r.u8()? as usize;
        if count > Statement::ALL.len() {
            return Err(DecodeError::TooLong("genesis keys"));
        }
        let mut keys: Vec<GenesisKey> = Vec::with_capacity(count);
        for _ in 0..count {
            let code = r.u8()?;
            let statement = Statement::from_code(code).ok_or(DecodeError::Unknown {
                what: "statement",
                value: code,
            })?;
            if keys.iter().any(|k| k.statement == statement) {
                return Err(DecodeError::Duplicate("genesis keys"));
            }
            let vk_id = r.array()?;
            let transcript = match r.u8()? {
                0 => None,
                1 => Some(r.array()?),
                other => {
                    return Err(DecodeError::Unknown {
                        what: "key origin",
                        value: other,
                    })
                }
            };
            keys.push(GenesisKey {
                statement,
                vk_id,
                transcript,
            });
        }
        Ok(keys)
    }

    /// The genesis of a new ledger at `time`, signed by `key`, naming `registrars` and
    /// the verifying `keys`.
    pub fn signed(
        key: &SigningKey,
        registrars: &[[u8; 32]],
        keys: &[GenesisKey],
        time: u64,
    ) -> Self {
        let ledger_key = key.verifying_key().to_bytes();
        let signature = key
            .sign(&Self::signing_bytes(time, &ledger_key, registrars, keys))
            .to_bytes();
        Self {
            ledger_key,
            registrars: registrars.to_vec(),
            keys: keys.to_vec(),
            signature,
        }
    }

    /// Entry 0 holding this genesis, signed for `time`.
    pub fn into_entry(self, time: u64) -> Entry {
        Entry {
            seq: 0,
            time,
            prev: [0; 32],
            body: Body::Genesis(self),
        }
    }

    /// [`Genesis::signed`] as entry 0.
    pub fn entry(
        key: &SigningKey,
        registrars: &[[u8; 32]],
        keys: &[GenesisKey],
        time: u64,
    ) -> Entry {
        Self::signed(key, registrars, keys, time).into_entry(time)
    }

    /// Whether it is signed by `key`, and is `key`'s.
    pub fn verify(&self, time: u64, key: &VerifyingKey) -> bool {
        self.ledger_key == key.to_bytes()
            && key
                .verify_strict(
                    &Self::signing_bytes(time, &self.ledger_key, &self.registrars, &self.keys),
                    &Signature::from_bytes(&self.signature),
                )
                .is_ok()
    }

    /// The key it names for `statement`.
    pub fn key(&self, statement: Statement) -> Option<&GenesisKey> {
        self.keys.iter().find(|k| k.statement == statement)
    }

    /// Whether `vk_id` (hex, as a bundle carries it) is the key it names for `statement`.
    pub fn names(&self, statement: Statement, vk_id: &str) -> bool {
        self.key(statement)
            .is_some_and(|k| hex::decode(vk_id).is_ok_and(|id| id == k.vk_id))
    }
}

/// The body of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// The first entry.
    Genesis(Genesis),
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
pub const KIND_CHECKPOINT: u8 = medproof_verifier::checkpoint::KIND_CHECKPOINT;
/// Kind byte of the genesis entry.
pub const KIND_GENESIS: u8 = 8;

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
            Body::Genesis(g) => {
                w.u8(KIND_GENESIS);
                Genesis::encode_fields(&mut w, &g.ledger_key, &g.registrars, &g.keys);
                w.raw(&g.signature);
            }
            Body::Submission(s) => {
                w.u8(s.action.kind());
                s.action.encode_payload(&mut w);
                w.raw(&s.envelope.ledger_id)
                    .u64(s.envelope.expires)
                    .raw(&s.signer)
                    .raw(&s.nonce)
                    .raw(&s.signature);
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
        } else if kind == KIND_GENESIS {
            let ledger_key = r.array()?;
            let count = r.u8()?;
            if count as usize > MAX_REGISTRARS {
                return Err(DecodeError::TooLong("registrars"));
            }
            let registrars = (0..count)
                .map(|_| r.array())
                .collect::<Result<Vec<_>, _>>()?;
            Body::Genesis(Genesis {
                ledger_key,
                registrars,
                keys: Genesis::decode_keys(&mut r)?,
                signature: r.array()?,
            })
        } else {
            let action = Action::decode_payload(kind, &mut r)?;
            Body::Submission(Submission {
                action,
                envelope: Envelope {
                    ledger_id: r.array()?,
                    expires: r.u64()?,
                },
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
            Body::Submission(_) | Body::Genesis(_) => None,
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
            Body::Genesis(_) => format!("seq {} time {} genesis", self.seq, self.time),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_roundtrips_and_signatures_bind() {
        let key = SigningKey::from_bytes(&[1u8; 32]);
        let env = Envelope {
            ledger_id: [9; 32],
            expires: 1_000,
        };
        let actions = vec![
            Action::RegisterKey {
                role: Role::Patient,
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
                nonce: Fr::from(8u64),
            },
            Action::AdmitKey {
                key: [4; 32],
                role: Role::Provider,
            },
            Action::SuspendKey { key: [4; 32] },
            Action::SubmitClaim {
                policy: Fr::from(1u64),
                claim_id: Fr::from(2u64),
            },
        ];
        for (i, a) in actions.into_iter().enumerate() {
            let s = Submission::sign(a, &key, env);
            assert!(s.signature_ok());
            let e = Entry {
                seq: i as u64,
                time: 10,
                prev: [i as u8; 32],
                body: Body::Submission(s.clone()),
            };
            assert_eq!(Entry::decode(&e.encode()), Ok(e.clone()));
            // The signature binds the nonce, the ledger and the expiry.
            let mut forged = s.clone();
            forged.nonce[0] ^= 1;
            assert!(!forged.signature_ok());
            let mut elsewhere = s.clone();
            elsewhere.envelope.ledger_id[0] ^= 1;
            assert!(!elsewhere.signature_ok());
            let mut later = s.clone();
            later.envelope.expires += 1;
            assert!(!later.signature_ok());
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
        bytes[0] = 1;
        assert!(Entry::decode(&bytes).is_err());

        let keys = [
            GenesisKey {
                statement: Statement::AccessAuthorization,
                vk_id: [8; 32],
                transcript: Some([9; 64]),
            },
            GenesisKey {
                statement: Statement::RecordInclusion,
                vk_id: [10; 32],
                transcript: None,
            },
        ];
        let genesis = Genesis::entry(&key, &[[5; 32], [6; 32]], &keys, 77);
        assert_eq!(Entry::decode(&genesis.encode()), Ok(genesis.clone()));
        let Body::Genesis(g) = &genesis.body else {
            unreachable!()
        };
        assert!(g.verify(77, &key.verifying_key()));
        assert!(!g.verify(78, &key.verifying_key()));
        let other = SigningKey::from_bytes(&[2u8; 32]);
        assert!(!g.verify(77, &other.verifying_key()));
        assert!(g.names(Statement::AccessAuthorization, &hex::encode([8; 32])));
        assert!(!g.names(Statement::AccessAuthorization, &hex::encode([10; 32])));
        assert!(!g.names(Statement::ClaimCompliance, &hex::encode([8; 32])));
        assert!(!g.names(Statement::RecordInclusion, "not hex"));
        // The signature binds the keys: another key id, another origin, one dropped.
        for tamper in [
            |g: &mut Genesis| g.keys[0].vk_id[0] ^= 1,
            |g: &mut Genesis| g.keys[0].transcript = None,
            |g: &mut Genesis| g.keys[1].transcript = Some([0; 64]),
            |g: &mut Genesis| g.keys.truncate(1),
        ] {
            let mut t = g.clone();
            tamper(&mut t);
            assert!(!t.verify(77, &key.verifying_key()));
        }
        // A statement named twice, an unknown statement or origin: refused.
        let mut twice = g.clone();
        twice.keys[1].statement = Statement::AccessAuthorization;
        let mut bytes = Entry {
            body: Body::Genesis(twice),
            ..genesis.clone()
        }
        .encode();
        assert_eq!(
            Entry::decode(&bytes),
            Err(DecodeError::Duplicate("genesis keys"))
        );
        let first_key = bytes.len() - 64 - 2 * (1 + 32 + 1) - 64;
        bytes[first_key] = 9;
        assert!(matches!(
            Entry::decode(&bytes),
            Err(DecodeError::Unknown {
                what: "statement",
                value: 9
            })
        ));
        bytes[first_key] = 2;
        bytes[first_key + 33] = 2;
        assert!(matches!(
            Entry::decode(&bytes),
            Err(DecodeError::Unknown {
                what: "key origin",
                value: 2
            })
        ));
    }
}

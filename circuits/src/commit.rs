//! Hiding commitments and the domain tags that keep each use of the hash apart.
//!
//! Every commitment is a Poseidon hash of a domain tag, the committed fields and a random
//! blinding field element, with a fixed arity per use. The tag is an ASCII string of at
//! most 31 bytes read as a big-endian integer, so other tooling can recompute it.
//! Merkle nodes are the one untagged use (`H(left, right)`), as in circomlib-based trees.
//! Above the leaves, a node's inputs are Poseidon outputs, which equal a short ASCII tag
//! with negligible probability. At the lowest level they are not: the leaves are values
//! that submitters choose, so a node over the leaves `(T, x)`, with `T` the tag of an
//! arity-2 use, *is* the tagged hash `H(T, x)`. Nothing relies on the two being apart: a
//! path has a fixed depth, and a circuit recomputes the leaf it proves from an opening of
//! a larger arity, so a node never stands in for a leaf or a commitment.
//!
//! | use | arity | inputs |
//! | --- | --- | --- |
//! | Merkle node | 2 | left, right |
//! | key ref | 3 | `medproof.key.v1`, key_hi, key_lo (an Ed25519 public key, two 128-bit halves) |
//! | patient ref | 3 | `medproof.patient.v1`, key_ref (the patient's ledger key), patient_salt |
//! | consents leaf | 3 | `medproof.consentleaf.v1`, granter key_ref, consent commitment |
//! | records leaf | 3 | `medproof.recordleaf.v1`, committer key_ref, record commitment |
//! | record | 7 | `medproof.record.v1`, patient_ref, category, digest_hi, digest_lo, created_at, blinding |
//! | consent | 8 | `medproof.consent.v1`, patient_ref, grantee, category, purpose, valid_from, valid_until, blinding |
//! | claim record | 8 | `medproof.claim.v1`, patient_ref, code, service_date, amount, digest_hi, digest_lo, blinding |
//! | policy | 7 | `medproof.policy.v1`, policyholder, codes_root, period_start, period_end, limit, blinding |
//! | claim id | 3 | `medproof.claimid.v1`, policy commitment, claim blinding |
//! | access request | 5 | `medproof.access.v1`, provider_ref, record, now, nonce |
//!
//! The ledger sees who signs each submission and binds what a signer adds to the signer:
//! it puts `H(TAG_CONSENT_LEAF, granter key_ref, consent)` in the consents tree and
//! `H(TAG_RECORD_LEAF, committer key_ref, record)` in the records tree, never the bare
//! commitment. A consent's `patient_ref` must be derived from the granter's key, so a
//! consent works only for records of the patient whose key granted it. A provider's
//! `provider_ref` is its key_ref.
//!
//! A procedure code (e.g. `"99213"`, `"J3490"`) is its ASCII text read as a big-endian
//! integer, like a tag; it is a leaf of the policy's covered-codes tree and never leaves
//! a commitment or a private witness.

use std::fmt;

use ark_bn254::Fr;
use ark_ff::PrimeField;
use sha2::{Digest, Sha256};

use crate::poseidon;

pub mod constraints;

/// A domain tag: one per use of the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// `patient_ref = H(tag, key_ref, patient_salt)`.
    Patient,
    /// `key_ref = H(tag, key_hi, key_lo)`: an Ed25519 public key as a field element.
    Key,
    /// A consents-tree leaf: `H(tag, granter key_ref, consent commitment)`.
    ConsentLeaf,
    /// A records-tree leaf: `H(tag, committer key_ref, record commitment)`.
    RecordLeaf,
    /// Record commitments.
    Record,
    /// Consent commitments.
    Consent,
    /// Claim records (committed to the records tree like any record).
    Claim,
    /// Insurance policies.
    Policy,
    /// Claim ids, derived from a claim record's blinding.
    ClaimId,
    /// Access requests, whose hash a proof of access is bound to.
    AccessRequest,
}

impl Domain {
    /// The tag's ASCII name.
    pub const fn name(self) -> &'static str {
        match self {
            Domain::Patient => "medproof.patient.v1",
            Domain::Key => "medproof.key.v1",
            Domain::ConsentLeaf => "medproof.consentleaf.v1",
            Domain::RecordLeaf => "medproof.recordleaf.v1",
            Domain::Record => "medproof.record.v1",
            Domain::Consent => "medproof.consent.v1",
            Domain::Claim => "medproof.claim.v1",
            Domain::Policy => "medproof.policy.v1",
            Domain::ClaimId => "medproof.claimid.v1",
            Domain::AccessRequest => "medproof.access.v1",
        }
    }

    /// The tag as a field element: the name's bytes as a big-endian integer.
    pub fn tag(self) -> Fr {
        let name = self.name().as_bytes();
        debug_assert!(name.len() <= 31);
        Fr::from_be_bytes_mod_order(name)
    }
}

/// An Ed25519 public key as a field element: `H(TAG_KEY, key_hi, key_lo)`, the key's
/// two 128-bit halves (big-endian).
pub fn key_ref(public_key: &[u8; 32]) -> Fr {
    poseidon::hash(&[
        Domain::Key.tag(),
        Fr::from_be_bytes_mod_order(&public_key[..16]),
        Fr::from_be_bytes_mod_order(&public_key[16..]),
    ])
}

/// A patient's pseudonym: `H(TAG_PATIENT, key_ref, patient_salt)`, derived from the key
/// the patient registered on the ledger and a secret salt (the salt keeps the pseudonym
/// from being computed from the public key). Only a consent granted by that key can
/// authorize access to records made out to this pseudonym.
pub fn patient_ref(key_ref: Fr, patient_salt: Fr) -> Fr {
    poseidon::hash(&[Domain::Patient.tag(), key_ref, patient_salt])
}

/// The consents-tree leaf the ledger stores for a consent granted by the key whose
/// key_ref is `granter`.
pub fn consent_leaf(granter: Fr, consent: Fr) -> Fr {
    poseidon::hash(&[Domain::ConsentLeaf.tag(), granter, consent])
}

/// The records-tree leaf the ledger stores for a record committed by the key whose
/// key_ref is `committer`.
pub fn record_leaf(committer: Fr, record: Fr) -> Fr {
    poseidon::hash(&[Domain::RecordLeaf.tag(), committer, record])
}

/// SHA-256 of a record's bytes (e.g. a FHIR resource), packed into two field elements:
/// the high and low 128 bits, each a canonical field element.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ContentDigest(pub [u8; 32]);

impl ContentDigest {
    /// SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// `(hi, lo)`: the two 128-bit halves, big-endian, as field elements.
    pub fn to_field_elements(&self) -> [Fr; 2] {
        [
            Fr::from_be_bytes_mod_order(&self.0[..16]),
            Fr::from_be_bytes_mod_order(&self.0[16..]),
        ]
    }
}

impl fmt::Debug for ContentDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContentDigest(<redacted>)")
    }
}

/// Everything needed to open a record commitment. Secret: its `Debug` shows nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct RecordOpening {
    /// The patient's pseudonym.
    pub patient_ref: Fr,
    /// The record's category code.
    pub category: u32,
    /// SHA-256 of the record's content.
    pub content_digest: ContentDigest,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: u64,
    /// Random blinding; must be fresh and uniform for each record.
    pub blinding: Fr,
}

impl RecordOpening {
    /// The field elements hashed into the commitment, tag first.
    pub fn preimage(&self) -> [Fr; 7] {
        let [hi, lo] = self.content_digest.to_field_elements();
        [
            Domain::Record.tag(),
            self.patient_ref,
            Fr::from(self.category),
            hi,
            lo,
            Fr::from(self.created_at),
            self.blinding,
        ]
    }

    /// The record commitment that goes on the ledger.
    pub fn commitment(&self) -> Fr {
        poseidon::hash(&self.preimage())
    }
}

impl fmt::Debug for RecordOpening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecordOpening(<redacted>)")
    }
}

/// Everything needed to open a consent commitment: the patient lets `grantee` (a
/// provider's reference) access records of `category` for `purpose` from `valid_from`
/// to `valid_until` (Unix seconds, inclusive). Secret: its `Debug` shows nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsentOpening {
    /// The patient's pseudonym.
    pub patient_ref: Fr,
    /// The provider the consent is granted to.
    pub grantee: Fr,
    /// Record category code.
    pub category: u32,
    /// Purpose code (treatment, payment, research, ...).
    pub purpose: u32,
    /// First second of validity.
    pub valid_from: u64,
    /// Last second of validity.
    pub valid_until: u64,
    /// Random blinding; fresh and uniform for each consent.
    pub blinding: Fr,
}

impl ConsentOpening {
    /// The field elements hashed into the commitment, tag first.
    pub fn preimage(&self) -> [Fr; 8] {
        [
            Domain::Consent.tag(),
            self.patient_ref,
            self.grantee,
            Fr::from(self.category),
            Fr::from(self.purpose),
            Fr::from(self.valid_from),
            Fr::from(self.valid_until),
            self.blinding,
        ]
    }

    /// The consent commitment that goes on the ledger.
    pub fn commitment(&self) -> Fr {
        poseidon::hash(&self.preimage())
    }

    /// Whether the consent covers `now` (the relation the access statement enforces).
    pub fn valid_at(&self, now: u64) -> bool {
        self.valid_from <= now && now <= self.valid_until
    }
}

impl fmt::Debug for ConsentOpening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConsentOpening(<redacted>)")
    }
}

/// A provider's public reference: the [`key_ref`] of its ledger key, so the grantee of a
/// consent is the key that signs the provider's ledger entries, and an audit can tie
/// each logged access to its signer.
pub fn provider_ref(public_key: &[u8; 32]) -> Fr {
    key_ref(public_key)
}

/// The hash of an access request that an access proof is bound to: who asks
/// (`provider_ref`), for which record (its commitment), when (`now`), and a fresh
/// `nonce` so that two requests never share a binding.
pub fn request_binding(provider_ref: Fr, record: Fr, now: u64, nonce: Fr) -> Fr {
    poseidon::hash(&[
        Domain::AccessRequest.tag(),
        provider_ref,
        record,
        Fr::from(now),
        nonce,
    ])
}

/// Why a procedure code cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Empty, longer than 31 bytes, or not printable ASCII.
    #[error("a procedure code is 1 to 31 printable ASCII characters without spaces")]
    Malformed,
}

/// A procedure code as a field element: its ASCII text read as a big-endian integer.
/// Never 0 (the empty leaf of a codes tree), since a code is not empty.
pub fn procedure_code(code: &str) -> Result<Fr, CodeError> {
    let ok = !code.is_empty() && code.len() <= 31 && code.bytes().all(|b| b.is_ascii_graphic());
    if !ok {
        return Err(CodeError::Malformed);
    }
    Ok(Fr::from_be_bytes_mod_order(code.as_bytes()))
}

/// Everything needed to open a claim record: a service (procedure `code`, on
/// `service_date`, billed `amount` in minor units) given to the patient, with the
/// digest of the claim document. Committed to the records tree. Secret: its `Debug`
/// shows nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimOpening {
    /// The patient's pseudonym.
    pub patient_ref: Fr,
    /// The procedure code, from [`procedure_code`].
    pub code: Fr,
    /// Date of service, Unix seconds.
    pub service_date: u64,
    /// Billed amount, minor currency units.
    pub amount: u64,
    /// SHA-256 of the claim document (e.g. a FHIR `Claim`).
    pub content_digest: ContentDigest,
    /// Random blinding; fresh and uniform for each claim.
    pub blinding: Fr,
}

impl ClaimOpening {
    /// The field elements hashed into the commitment, tag first.
    pub fn preimage(&self) -> [Fr; 8] {
        let [hi, lo] = self.content_digest.to_field_elements();
        [
            Domain::Claim.tag(),
            self.patient_ref,
            self.code,
            Fr::from(self.service_date),
            Fr::from(self.amount),
            hi,
            lo,
            self.blinding,
        ]
    }

    /// The commitment that goes to the records tree.
    pub fn commitment(&self) -> Fr {
        poseidon::hash(&self.preimage())
    }

    /// The claim's public id under the policy committed as `policy`:
    /// `H(TAG_CLAIM_ID, policy, blinding)`. One record yields one id per policy, and an
    /// id made for one insurer's policy is not an id under another's.
    pub fn claim_id(&self, policy: Fr) -> Fr {
        poseidon::hash(&[Domain::ClaimId.tag(), policy, self.blinding])
    }
}

impl fmt::Debug for ClaimOpening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClaimOpening(<redacted>)")
    }
}

/// Everything needed to open a policy commitment: who is insured (`policyholder`, a
/// patient_ref), which codes are covered (the root of the covered-codes tree), the
/// period (inclusive, Unix seconds) and the per-claim limit (minor units). The insurer
/// publishes the commitment and gives the opening to the policyholder.
#[derive(Clone, PartialEq, Eq)]
pub struct PolicyOpening {
    /// The insured patient's pseudonym.
    pub policyholder: Fr,
    /// Root of the covered-codes tree (see [`crate::codes::CodeSet`]).
    pub codes_root: Fr,
    /// First second of cover.
    pub period_start: u64,
    /// Last second of cover.
    pub period_end: u64,
    /// Largest amount one claim may have.
    pub limit: u64,
    /// Random blinding.
    pub blinding: Fr,
}

impl PolicyOpening {
    /// The field elements hashed into the commitment, tag first.
    pub fn preimage(&self) -> [Fr; 7] {
        [
            Domain::Policy.tag(),
            self.policyholder,
            self.codes_root,
            Fr::from(self.period_start),
            Fr::from(self.period_end),
            Fr::from(self.limit),
            self.blinding,
        ]
    }

    /// The policy commitment the insurer publishes.
    pub fn commitment(&self) -> Fr {
        poseidon::hash(&self.preimage())
    }
}

impl fmt::Debug for PolicyOpening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PolicyOpening(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_distinct_and_documented() {
        let all = [
            Domain::Patient,
            Domain::Key,
            Domain::ConsentLeaf,
            Domain::RecordLeaf,
            Domain::Record,
            Domain::Consent,
            Domain::Claim,
            Domain::Policy,
            Domain::ClaimId,
            Domain::AccessRequest,
        ];
        for (i, a) in all.iter().enumerate() {
            assert!(a.name().len() <= 31);
            for b in &all[i + 1..] {
                assert_ne!(a.tag(), b.tag(), "{a:?} {b:?}");
            }
        }
        // "medproof.record.v1" as a big-endian integer.
        let expected = Fr::from_be_bytes_mod_order(b"medproof.record.v1");
        assert_eq!(Domain::Record.tag(), expected);
    }

    #[test]
    fn digest_halves_are_big_endian() {
        let d = ContentDigest([1u8; 32]);
        let [hi, lo] = d.to_field_elements();
        assert_eq!(hi, lo);
        assert_eq!(hi, Fr::from(u128::from_be_bytes([1u8; 16])));
    }

    #[test]
    fn commitment_hides_behind_blinding_and_binds_every_field() {
        let base = RecordOpening {
            patient_ref: patient_ref(Fr::from(98u64), Fr::from(99u64)),
            category: 3,
            content_digest: ContentDigest::of(b"{\"resourceType\":\"Observation\"}"),
            created_at: 1_700_000_000,
            blinding: Fr::from(12345u64),
        };
        let c = base.commitment();
        let mut other = base.clone();
        other.blinding = Fr::from(12346u64);
        assert_ne!(other.commitment(), c);
        other = base.clone();
        other.category = 4;
        assert_ne!(other.commitment(), c);
        other = base.clone();
        other.created_at += 1;
        assert_ne!(other.commitment(), c);
        assert_eq!(format!("{base:?}"), "RecordOpening(<redacted>)");
    }

    #[test]
    fn consent_commitment_binds_every_field() {
        let base = ConsentOpening {
            patient_ref: patient_ref(Fr::from(6u64), Fr::from(7u64)),
            grantee: Fr::from(8u64),
            category: 3,
            purpose: 1,
            valid_from: 10,
            valid_until: 20,
            blinding: Fr::from(9u64),
        };
        let c = base.commitment();
        let changes: [fn(&mut ConsentOpening); 7] = [
            |o| o.patient_ref += Fr::from(1u64),
            |o| o.grantee += Fr::from(1u64),
            |o| o.category += 1,
            |o| o.purpose += 1,
            |o| o.valid_from += 1,
            |o| o.valid_until += 1,
            |o| o.blinding += Fr::from(1u64),
        ];
        for change in changes {
            let mut o = base.clone();
            change(&mut o);
            assert_ne!(o.commitment(), c);
        }
        assert_eq!(format!("{base:?}"), "ConsentOpening(<redacted>)");
    }

    #[test]
    fn procedure_codes_are_ascii_integers() {
        assert_eq!(procedure_code("A").unwrap(), Fr::from(65u64));
        assert_eq!(procedure_code("99213").unwrap(), Fr::from(0x3939323133u64));
        for bad in ["", " 1", "é", &"9".repeat(32)] {
            assert_eq!(procedure_code(bad), Err(CodeError::Malformed), "{bad:?}");
        }
    }
}

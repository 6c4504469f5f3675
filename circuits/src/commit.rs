//! Hiding commitments and the domain tags that keep each use of the hash apart.
//!
//! Every commitment is a Poseidon hash of a domain tag, the committed fields and a random
//! blinding field element, with a fixed arity per use. The tag is an ASCII string of at
//! most 31 bytes read as a big-endian integer, so other tooling can recompute it.
//! Merkle nodes are the one untagged use (`H(left, right)`), as in circomlib-based trees;
//! a node can only collide with a tagged hash if a Poseidon output equals a short ASCII
//! tag, which happens with negligible probability.
//!
//! | use | arity | inputs |
//! | --- | --- | --- |
//! | Merkle node | 2 | left, right |
//! | patient ref | 2 | `medproof.patient.v1`, patient_secret |
//! | record | 7 | `medproof.record.v1`, patient_ref, category, digest_hi, digest_lo, created_at, blinding |
//! | consent | 8 | `medproof.consent.v1`, patient_ref, grantee, category, purpose, valid_from, valid_until, blinding |

use std::fmt;

use ark_bn254::Fr;
use ark_ff::PrimeField;
use sha2::{Digest, Sha256};

use crate::poseidon;

pub mod constraints;

/// A domain tag: one per use of the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// `patient_ref = H(tag, patient_secret)`.
    Patient,
    /// Record commitments.
    Record,
    /// Consent commitments.
    Consent,
}

impl Domain {
    /// The tag's ASCII name.
    pub const fn name(self) -> &'static str {
        match self {
            Domain::Patient => "medproof.patient.v1",
            Domain::Record => "medproof.record.v1",
            Domain::Consent => "medproof.consent.v1",
        }
    }

    /// The tag as a field element: the name's bytes as a big-endian integer.
    pub fn tag(self) -> Fr {
        let name = self.name().as_bytes();
        debug_assert!(name.len() <= 31);
        Fr::from_be_bytes_mod_order(name)
    }
}

/// A patient's public pseudonym: `H(TAG_PATIENT, patient_secret)`.
pub fn patient_ref(patient_secret: Fr) -> Fr {
    poseidon::hash(&[Domain::Patient.tag(), patient_secret])
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_distinct_and_documented() {
        assert_ne!(Domain::Patient.tag(), Domain::Record.tag());
        assert_ne!(Domain::Consent.tag(), Domain::Record.tag());
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
            patient_ref: patient_ref(Fr::from(99u64)),
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
            patient_ref: patient_ref(Fr::from(7u64)),
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
}

//! The R1CS twin of [`super::RecordOpening::commitment`].

use std::borrow::Borrow;

use ark_bn254::Fr;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{Namespace, SynthesisError};

use super::{ClaimOpening, ConsentOpening, Domain, PolicyOpening, RecordOpening};
use crate::poseidon::constraints::hash_gadget;

/// A record opening in the circuit, without its category (which a statement may make
/// public, so it is passed in separately).
pub struct RecordOpeningVar {
    /// The patient's pseudonym.
    pub patient_ref: FpVar<Fr>,
    /// High 128 bits of the content digest.
    pub digest_hi: FpVar<Fr>,
    /// Low 128 bits of the content digest.
    pub digest_lo: FpVar<Fr>,
    /// Creation time.
    pub created_at: FpVar<Fr>,
    /// Blinding.
    pub blinding: FpVar<Fr>,
}

impl RecordOpeningVar {
    /// The commitment, computed with `category` as the category field.
    pub fn commitment(&self, category: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
        hash_gadget(&[
            FpVar::Constant(Domain::Record.tag()),
            self.patient_ref.clone(),
            category.clone(),
            self.digest_hi.clone(),
            self.digest_lo.clone(),
            self.created_at.clone(),
            self.blinding.clone(),
        ])
    }
}

/// Allocates element `i` of a commitment preimage (or reports the missing witness).
fn preimage_allocator<const N: usize>(
    cs: ark_relations::gr1cs::ConstraintSystemRef<Fr>,
    pre: Result<[Fr; N], SynthesisError>,
    mode: AllocationMode,
) -> impl Fn(usize) -> Result<FpVar<Fr>, SynthesisError> {
    move |i| {
        FpVar::new_variable(
            cs.clone(),
            || pre.as_ref().map(|p| p[i]).map_err(|e| *e),
            mode,
        )
    }
}

impl AllocVar<RecordOpening, Fr> for RecordOpeningVar {
    fn new_variable<T: Borrow<RecordOpening>>(
        cs: impl Into<Namespace<Fr>>,
        f: impl FnOnce() -> Result<T, SynthesisError>,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        let pre = f().map(|o| o.borrow().preimage());
        let field = preimage_allocator(cs.into().cs(), pre, mode);
        // Preimage layout: [tag, patient_ref, category, hi, lo, created_at, blinding].
        Ok(Self {
            patient_ref: field(1)?,
            digest_hi: field(3)?,
            digest_lo: field(4)?,
            created_at: field(5)?,
            blinding: field(6)?,
        })
    }
}

/// A consent opening in the circuit. The statement decides which fields it compares
/// with public inputs and which it range-checks.
pub struct ConsentOpeningVar {
    /// The preimage after the tag: patient_ref, grantee, category, purpose, valid_from,
    /// valid_until, blinding.
    pub fields: [FpVar<Fr>; 7],
}

impl ConsentOpeningVar {
    /// Position of `patient_ref` in [`ConsentOpeningVar::fields`].
    pub const PATIENT_REF: usize = 0;
    /// Position of `grantee`.
    pub const GRANTEE: usize = 1;
    /// Position of `category`.
    pub const CATEGORY: usize = 2;
    /// Position of `purpose`.
    pub const PURPOSE: usize = 3;
    /// Position of `valid_from`.
    pub const VALID_FROM: usize = 4;
    /// Position of `valid_until`.
    pub const VALID_UNTIL: usize = 5;

    /// The commitment.
    pub fn commitment(&self) -> Result<FpVar<Fr>, SynthesisError> {
        tagged_hash(Domain::Consent, &self.fields)
    }
}

/// `patient_ref = H(TAG_PATIENT, key_ref, patient_salt)` in the circuit.
pub fn patient_ref_gadget(
    key_ref: &FpVar<Fr>,
    salt: &FpVar<Fr>,
) -> Result<FpVar<Fr>, SynthesisError> {
    tagged_hash(Domain::Patient, &[key_ref.clone(), salt.clone()])
}

/// The consents-tree leaf `H(TAG_CONSENT_LEAF, granter, consent)` in the circuit.
pub fn consent_leaf_gadget(
    granter: &FpVar<Fr>,
    consent: &FpVar<Fr>,
) -> Result<FpVar<Fr>, SynthesisError> {
    tagged_hash(Domain::ConsentLeaf, &[granter.clone(), consent.clone()])
}

/// The records-tree leaf `H(TAG_RECORD_LEAF, committer, record)` in the circuit.
pub fn record_leaf_gadget(
    committer: &FpVar<Fr>,
    record: &FpVar<Fr>,
) -> Result<FpVar<Fr>, SynthesisError> {
    tagged_hash(Domain::RecordLeaf, &[committer.clone(), record.clone()])
}

/// `H(tag, fields..)` in the circuit.
fn tagged_hash(domain: Domain, fields: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    let mut inputs = vec![FpVar::Constant(domain.tag())];
    inputs.extend(fields.iter().cloned());
    hash_gadget(&inputs)
}

/// Allocates every preimage element after the tag: `M = N + 1`.
fn alloc_after_tag<const N: usize, const M: usize>(
    cs: impl Into<Namespace<Fr>>,
    pre: Result<[Fr; M], SynthesisError>,
    mode: AllocationMode,
) -> Result<[FpVar<Fr>; N], SynthesisError> {
    let field = preimage_allocator(cs.into().cs(), pre, mode);
    let fields = (1..M).map(field).collect::<Result<Vec<_>, _>>()?;
    fields.try_into().map_err(|_| SynthesisError::Unsatisfiable)
}

impl AllocVar<ConsentOpening, Fr> for ConsentOpeningVar {
    fn new_variable<T: Borrow<ConsentOpening>>(
        cs: impl Into<Namespace<Fr>>,
        f: impl FnOnce() -> Result<T, SynthesisError>,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        let fields = alloc_after_tag(cs, f().map(|o| o.borrow().preimage()), mode)?;
        Ok(Self { fields })
    }
}

/// A claim record opening in the circuit.
pub struct ClaimOpeningVar {
    /// The preimage after the tag: patient_ref, code, service_date, amount, digest_hi,
    /// digest_lo, blinding.
    pub fields: [FpVar<Fr>; 7],
}

impl ClaimOpeningVar {
    /// Position of `patient_ref` in [`ClaimOpeningVar::fields`].
    pub const PATIENT_REF: usize = 0;
    /// Position of the procedure code.
    pub const CODE: usize = 1;
    /// Position of the service date.
    pub const SERVICE_DATE: usize = 2;
    /// Position of the amount.
    pub const AMOUNT: usize = 3;
    /// Position of the blinding.
    pub const BLINDING: usize = 6;

    /// The commitment.
    pub fn commitment(&self) -> Result<FpVar<Fr>, SynthesisError> {
        tagged_hash(Domain::Claim, &self.fields)
    }

    /// The claim id under `policy`: `H(TAG_CLAIM_ID, policy, blinding)`.
    pub fn claim_id(&self, policy: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
        tagged_hash(
            Domain::ClaimId,
            &[policy.clone(), self.fields[Self::BLINDING].clone()],
        )
    }
}

impl AllocVar<ClaimOpening, Fr> for ClaimOpeningVar {
    fn new_variable<T: Borrow<ClaimOpening>>(
        cs: impl Into<Namespace<Fr>>,
        f: impl FnOnce() -> Result<T, SynthesisError>,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        let fields = alloc_after_tag(cs, f().map(|o| o.borrow().preimage()), mode)?;
        Ok(Self { fields })
    }
}

/// A policy opening in the circuit.
pub struct PolicyOpeningVar {
    /// The preimage after the tag: policyholder, codes_root, period_start, period_end,
    /// limit, blinding.
    pub fields: [FpVar<Fr>; 6],
}

impl PolicyOpeningVar {
    /// Position of the policyholder in [`PolicyOpeningVar::fields`].
    pub const POLICYHOLDER: usize = 0;
    /// Position of the covered-codes root.
    pub const CODES_ROOT: usize = 1;
    /// Position of the period's start.
    pub const PERIOD_START: usize = 2;
    /// Position of the period's end.
    pub const PERIOD_END: usize = 3;
    /// Position of the limit.
    pub const LIMIT: usize = 4;

    /// The commitment.
    pub fn commitment(&self) -> Result<FpVar<Fr>, SynthesisError> {
        tagged_hash(Domain::Policy, &self.fields)
    }
}

impl AllocVar<PolicyOpening, Fr> for PolicyOpeningVar {
    fn new_variable<T: Borrow<PolicyOpening>>(
        cs: impl Into<Namespace<Fr>>,
        f: impl FnOnce() -> Result<T, SynthesisError>,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        let fields = alloc_after_tag(cs, f().map(|o| o.borrow().preimage()), mode)?;
        Ok(Self { fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commit::{consent_leaf, patient_ref, record_leaf, ContentDigest};
    use ark_r1cs_std::GR1CSVar;
    use ark_relations::gr1cs::ConstraintSystem;

    #[test]
    fn gadgets_equal_their_native_twins() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let consent = ConsentOpening {
            patient_ref: patient_ref(Fr::from(10u64), Fr::from(11u64)),
            grantee: Fr::from(22u64),
            category: 3,
            purpose: 1,
            valid_from: 1_700_000_000,
            valid_until: 1_800_000_000,
            blinding: Fr::from(33u64),
        };
        let var = ConsentOpeningVar::new_witness(cs.clone(), || Ok(consent.clone())).unwrap();
        assert_eq!(
            var.commitment().unwrap().value().unwrap(),
            consent.commitment()
        );
        assert!(consent.valid_at(1_700_000_000) && consent.valid_at(1_800_000_000));
        assert!(!consent.valid_at(1_699_999_999) && !consent.valid_at(1_800_000_001));

        let record = RecordOpening {
            patient_ref: consent.patient_ref,
            category: 3,
            content_digest: ContentDigest::of(b"x"),
            created_at: 5,
            blinding: Fr::from(44u64),
        };
        let rvar = RecordOpeningVar::new_witness(cs.clone(), || Ok(record.clone())).unwrap();
        let category = FpVar::new_input(cs.clone(), || Ok(Fr::from(3u64))).unwrap();
        assert_eq!(
            rvar.commitment(&category).unwrap().value().unwrap(),
            record.commitment()
        );

        let claim = ClaimOpening {
            patient_ref: consent.patient_ref,
            code: crate::commit::procedure_code("99213").unwrap(),
            service_date: 1_750_000_000,
            amount: 12_500,
            content_digest: ContentDigest::of(b"claim"),
            blinding: Fr::from(55u64),
        };
        let cvar = ClaimOpeningVar::new_witness(cs.clone(), || Ok(claim.clone())).unwrap();
        assert_eq!(
            cvar.commitment().unwrap().value().unwrap(),
            claim.commitment()
        );
        let policy_c = FpVar::new_witness(cs.clone(), || Ok(Fr::from(88u64))).unwrap();
        assert_eq!(
            cvar.claim_id(&policy_c).unwrap().value().unwrap(),
            claim.claim_id(Fr::from(88u64))
        );
        let (k, x) = (
            FpVar::new_witness(cs.clone(), || Ok(Fr::from(3u64))).unwrap(),
            FpVar::new_witness(cs.clone(), || Ok(Fr::from(4u64))).unwrap(),
        );
        let (kn, xn) = (Fr::from(3u64), Fr::from(4u64));
        assert_eq!(
            patient_ref_gadget(&k, &x).unwrap().value().unwrap(),
            patient_ref(kn, xn)
        );
        assert_eq!(
            consent_leaf_gadget(&k, &x).unwrap().value().unwrap(),
            consent_leaf(kn, xn)
        );
        assert_eq!(
            record_leaf_gadget(&k, &x).unwrap().value().unwrap(),
            record_leaf(kn, xn)
        );
        assert_ne!(consent_leaf(kn, xn), record_leaf(kn, xn));
        let policy = PolicyOpening {
            policyholder: consent.patient_ref,
            codes_root: Fr::from(66u64),
            period_start: 1,
            period_end: 2,
            limit: 3,
            blinding: Fr::from(77u64),
        };
        let pvar = PolicyOpeningVar::new_witness(cs.clone(), || Ok(policy.clone())).unwrap();
        assert_eq!(
            pvar.commitment().unwrap().value().unwrap(),
            policy.commitment()
        );
        assert!(cs.is_satisfied().unwrap());
    }
}

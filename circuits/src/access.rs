//! Statement 2: access authorization. "The provider `provider_ref` holds a consent, in
//! the consents tree of a signed checkpoint, for this category and purpose, valid at
//! `now`, from the patient whose record (committed as `record`) is accessed."
//!
//! Public (see [`AccessPublic`]): consents root, provider ref, category, purpose, now,
//! request binding, record commitment. Private: the consent's opening and path, the
//! granter's key_ref and the patient's salt, the record's opening. Enforced:
//! - the consents-tree leaf `H(TAG_CONSENT_LEAF, granter, consent)`, recomputed from the
//!   opening and the granter's key_ref, is under the root (the ledger wraps each consent
//!   with the key that signed its grant; a revoked consent's leaf is empty, so it is
//!   under no later root);
//! - the consent's patient_ref is `H(TAG_PATIENT, granter, salt)`: the consent is the
//!   patient's own, granted with the key the pseudonym is derived from, so a key that
//!   grants in another patient's name yields no proof;
//! - its grantee is the provider, its category and purpose are the public ones;
//! - `valid_from <= now <= valid_until`, all three range-checked to 64 bits, so the
//!   comparisons cannot wrap around the field;
//! - the record's opening hashes to the public record commitment, with the consent's
//!   patient_ref and the public category (its presence on the ledger is checked outside
//!   the circuit, against the checkpoint);
//! - the request binding is squared into a constraint, so no optimiser can leave it free
//!   and the proof answers one request only.

use std::fmt;

use ark_bn254::Fr;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use medproof_statement::statement::{AccessPublic, PublicInputs};

use crate::commit::constraints::{
    consent_leaf_gadget, patient_ref_gadget, ConsentOpeningVar, RecordOpeningVar,
};
use crate::commit::{consent_leaf, patient_ref, ConsentOpening, RecordOpening};
use crate::merkle::constraints::MerklePathVar;
use crate::merkle::MerklePath;
use crate::range::constraints::{enforce_le_u64, enforce_u64};
use crate::Trees;

/// The private part of an access proof.
#[derive(Clone)]
pub struct AccessWitness {
    /// The consent's opening.
    pub consent: ConsentOpening,
    /// The key_ref of the key that granted it (the ledger wrapped its leaf with it).
    pub granter: Fr,
    /// The patient's salt: `consent.patient_ref = H(TAG_PATIENT, granter, salt)`.
    pub patient_salt: Fr,
    /// The wrapped leaf's path in the consents tree.
    pub path: MerklePath,
    /// The accessed record's opening.
    pub record: RecordOpening,
}

/// The access-authorization circuit. All fields are `None` for key generation.
#[derive(Clone, Default)]
pub struct AccessCircuit {
    public: Option<AccessPublic>,
    witness: Option<AccessWitness>,
    trees: Trees,
}

impl AccessCircuit {
    /// The circuit without a witness, for setup and shape checks.
    pub fn blank() -> Self {
        Self::default()
    }

    /// The circuit with a full assignment.
    pub fn new(public: AccessPublic, witness: AccessWitness) -> Self {
        Self {
            public: Some(public),
            witness: Some(witness),
            trees: Trees::LEDGER,
        }
    }

    /// The same circuit over trees of other shapes (to measure them; keys fix the shape).
    pub fn with_trees(self, trees: Trees) -> Self {
        Self { trees, ..self }
    }

    /// Whether the witness satisfies the relation, computed natively (the circuit's twin).
    pub fn native_check(&self) -> bool {
        let (Some(p), Some(w)) = (&self.public, &self.witness) else {
            return false;
        };
        let (c, r) = (&w.consent, &w.record);
        c.grantee == p.provider_ref
            && c.category == p.category
            && c.purpose == p.purpose
            && c.valid_at(p.now)
            && w.path.verify_in(
                self.trees.ledger,
                p.consents_root,
                consent_leaf(w.granter, c.commitment()),
            )
            && c.patient_ref == patient_ref(w.granter, w.patient_salt)
            && r.patient_ref == c.patient_ref
            && r.category == p.category
            && r.commitment() == p.record
    }
}

impl fmt::Debug for AccessCircuit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessCircuit")
            .field("public", &self.public)
            .field("witness", &self.witness.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ConstraintSynthesizer<Fr> for AccessCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let public = self.public.ok_or(SynthesisError::AssignmentMissing);
        let inputs: Vec<FpVar<Fr>> = (0..AccessPublic::LEN)
            .map(|i| FpVar::new_input(cs.clone(), || public.map(|p| p.to_field_elements()[i])))
            .collect::<Result<_, _>>()?;
        let root = &inputs[AccessPublic::CONSENTS_ROOT];
        let provider = &inputs[AccessPublic::PROVIDER_REF];
        let category = &inputs[AccessPublic::CATEGORY];
        let purpose = &inputs[AccessPublic::PURPOSE];
        let now = &inputs[AccessPublic::NOW];
        let binding = &inputs[AccessPublic::REQUEST_BINDING];
        let record_commitment = &inputs[AccessPublic::RECORD];

        let w = self.witness.ok_or(SynthesisError::AssignmentMissing);
        let w = w.as_ref().map_err(|e| *e);
        let consent = ConsentOpeningVar::new_witness(cs.clone(), || w.map(|w| w.consent.clone()))?;
        let granter = FpVar::new_witness(cs.clone(), || w.map(|w| w.granter))?;
        let salt = FpVar::new_witness(cs.clone(), || w.map(|w| w.patient_salt))?;
        let path = MerklePathVar::new_in(
            cs.clone(),
            || w.map(|w| w.path.clone()),
            self.trees.ledger,
            AllocationMode::Witness,
        )?;
        let record = RecordOpeningVar::new_witness(cs.clone(), || w.map(|w| w.record.clone()))?;
        let field = |i: usize| &consent.fields[i];

        // The consent, wrapped with the key that granted it, is in the tree.
        let leaf = consent_leaf_gadget(&granter, &consent.commitment()?)?;
        path.enforce_membership(&leaf, root)?;
        // It is the patient's own: the pseudonym is derived from the granting key.
        patient_ref_gadget(&granter, &salt)?
            .enforce_equal(field(ConsentOpeningVar::PATIENT_REF))?;
        // It is granted to this provider, for this category and purpose.
        field(ConsentOpeningVar::GRANTEE).enforce_equal(provider)?;
        field(ConsentOpeningVar::CATEGORY).enforce_equal(category)?;
        field(ConsentOpeningVar::PURPOSE).enforce_equal(purpose)?;
        // It is valid now: valid_from <= now <= valid_until, on 64-bit integers.
        let valid_from = field(ConsentOpeningVar::VALID_FROM);
        let valid_until = field(ConsentOpeningVar::VALID_UNTIL);
        enforce_u64(valid_from)?;
        enforce_u64(valid_until)?;
        enforce_u64(now)?;
        enforce_le_u64(valid_from, now)?;
        enforce_le_u64(now, valid_until)?;
        // The accessed record is this patient's, of this category.
        record
            .patient_ref
            .enforce_equal(field(ConsentOpeningVar::PATIENT_REF))?;
        record
            .commitment(category)?
            .enforce_equal(record_commitment)?;
        // The request binding takes part in a constraint.
        let _bound = binding.square()?;
        Ok(())
    }
}

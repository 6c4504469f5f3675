//! Statement 2: access authorization. "The provider `provider_ref` holds a consent, in
//! the consents tree of a signed checkpoint, for this category and purpose, valid at
//! `now`, from the patient whose record (committed as `record`) is accessed."
//!
//! Public (see [`AccessPublic`]): consents root, provider ref, category, purpose, now,
//! request binding, record commitment. Private: the consent's opening and path, the
//! record's opening. Enforced:
//! - the consent commitment recomputed from its opening is a leaf under the root (a
//!   revoked consent's leaf is empty, so it is under no later root);
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
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use medproof_verifier::statement::{AccessPublic, PublicInputs};

use crate::commit::constraints::{ConsentOpeningVar, RecordOpeningVar};
use crate::commit::{ConsentOpening, RecordOpening};
use crate::merkle::constraints::MerklePathVar;
use crate::merkle::MerklePath;
use crate::range::constraints::{enforce_le_u64, enforce_u64};

/// The access-authorization circuit. All fields are `None` for key generation.
#[derive(Clone, Default)]
pub struct AccessCircuit {
    public: Option<AccessPublic>,
    consent: Option<ConsentOpening>,
    path: Option<MerklePath>,
    record: Option<RecordOpening>,
}

impl AccessCircuit {
    /// The circuit without a witness, for setup and shape checks.
    pub fn blank() -> Self {
        Self::default()
    }

    /// The circuit with a full assignment: `path` is the consent's path in the consents
    /// tree; `record` opens the accessed record's commitment.
    pub fn new(
        public: AccessPublic,
        consent: ConsentOpening,
        path: MerklePath,
        record: RecordOpening,
    ) -> Self {
        Self {
            public: Some(public),
            consent: Some(consent),
            path: Some(path),
            record: Some(record),
        }
    }

    /// Whether the witness satisfies the relation, computed natively (the circuit's twin).
    pub fn native_check(&self) -> bool {
        let (Some(p), Some(c), Some(path), Some(r)) =
            (&self.public, &self.consent, &self.path, &self.record)
        else {
            return false;
        };
        c.grantee == p.provider_ref
            && c.category == p.category
            && c.purpose == p.purpose
            && c.valid_at(p.now)
            && path.verify(p.consents_root, c.commitment())
            && r.patient_ref == c.patient_ref
            && r.category == p.category
            && r.commitment() == p.record
    }
}

impl fmt::Debug for AccessCircuit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessCircuit")
            .field("public", &self.public)
            .field("consent", &self.consent.as_ref().map(|_| "<redacted>"))
            .field("path", &self.path.as_ref().map(|_| "<redacted>"))
            .field("record", &self.record.as_ref().map(|_| "<redacted>"))
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

        let consent = ConsentOpeningVar::new_witness(cs.clone(), || {
            self.consent.ok_or(SynthesisError::AssignmentMissing)
        })?;
        let path = MerklePathVar::new_witness(cs.clone(), || {
            self.path.ok_or(SynthesisError::AssignmentMissing)
        })?;
        let record = RecordOpeningVar::new_witness(cs.clone(), || {
            self.record.ok_or(SynthesisError::AssignmentMissing)
        })?;
        let field = |i: usize| &consent.fields[i];

        // The consent is in the tree.
        path.enforce_membership(&consent.commitment()?, root)?;
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

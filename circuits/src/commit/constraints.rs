//! The R1CS twin of [`super::RecordOpening::commitment`].

use std::borrow::Borrow;

use ark_bn254::Fr;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{Namespace, SynthesisError};

use super::{Domain, RecordOpening};
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

impl AllocVar<RecordOpening, Fr> for RecordOpeningVar {
    fn new_variable<T: Borrow<RecordOpening>>(
        cs: impl Into<Namespace<Fr>>,
        f: impl FnOnce() -> Result<T, SynthesisError>,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        let cs = cs.into().cs();
        let pre = f().map(|o| o.borrow().preimage());
        let field = |i: usize| {
            FpVar::new_variable(
                cs.clone(),
                || pre.as_ref().map(|p| p[i]).map_err(|e| *e),
                mode,
            )
        };
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

//! Statement 1: "a record of this category is in the ledger's records tree".
//!
//! Public (see [`RecordInclusionPublic`]): the records root, the disclosed category, and
//! a context binding. Private: the record's other fields, its blinding, the key_ref of
//! the provider that committed it, and its Merkle path. Enforced: the records-tree leaf
//! `H(TAG_RECORD_LEAF, committer, commitment)`, with the commitment recomputed from the
//! opening (with the public category), is under the public root. The binding is squared into a constraint so that no
//! optimiser can leave it free, and a proof cannot be moved to another context.

use std::fmt;

use ark_bn254::Fr;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use medproof_statement::statement::{PublicInputs, RecordInclusionPublic};

use crate::commit::constraints::{record_leaf_gadget, RecordOpeningVar};
use crate::commit::{record_leaf, RecordOpening};
use crate::merkle::constraints::MerklePathVar;
use crate::merkle::MerklePath;
use crate::Trees;

/// The record-inclusion circuit. All fields are `None` for key generation.
#[derive(Clone, Default)]
pub struct RecordInclusionCircuit {
    public: Option<RecordInclusionPublic>,
    record: Option<RecordOpening>,
    committer: Option<Fr>,
    path: Option<MerklePath>,
    trees: Trees,
}

impl RecordInclusionCircuit {
    /// The circuit without a witness, for setup and shape checks.
    pub fn blank() -> Self {
        Self::default()
    }

    /// The circuit with a full assignment: `committer` is the key_ref of the key that
    /// committed the record, `path` the wrapped leaf's path.
    pub fn new(
        public: RecordInclusionPublic,
        record: RecordOpening,
        committer: Fr,
        path: MerklePath,
    ) -> Self {
        Self {
            public: Some(public),
            record: Some(record),
            committer: Some(committer),
            path: Some(path),
            trees: Trees::LEDGER,
        }
    }

    /// The same circuit over trees of other shapes (to measure them; keys fix the shape).
    pub fn with_trees(self, trees: Trees) -> Self {
        Self { trees, ..self }
    }

    /// Whether the witness satisfies the relation, computed natively (the circuit's twin).
    pub fn native_check(&self) -> bool {
        match (&self.public, &self.record, &self.committer, &self.path) {
            (Some(p), Some(r), Some(k), Some(path)) => {
                r.category == p.category()
                    && path.verify_in(
                        self.trees.ledger,
                        p.records_root(),
                        record_leaf(*k, r.commitment()),
                    )
            }
            _ => false,
        }
    }
}

impl fmt::Debug for RecordInclusionCircuit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordInclusionCircuit")
            .field("public", &self.public)
            .field("record", &self.record.as_ref().map(|_| "<redacted>"))
            .field("committer", &self.committer.as_ref().map(|_| "<redacted>"))
            .field("path", &self.path.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ConstraintSynthesizer<Fr> for RecordInclusionCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let public = self.public.ok_or(SynthesisError::AssignmentMissing);
        // Inputs in the order fixed by RecordInclusionPublic's constants.
        let inputs: Vec<FpVar<Fr>> = (0..RecordInclusionPublic::LEN)
            .map(|i| FpVar::new_input(cs.clone(), || public.map(|p| p.to_field_elements()[i])))
            .collect::<Result<_, _>>()?;
        let root = &inputs[RecordInclusionPublic::RECORDS_ROOT];
        let category = &inputs[RecordInclusionPublic::CATEGORY];
        let binding = &inputs[RecordInclusionPublic::BINDING];

        let record = RecordOpeningVar::new_witness(cs.clone(), || {
            self.record.ok_or(SynthesisError::AssignmentMissing)
        })?;
        let committer = FpVar::new_witness(cs.clone(), || {
            self.committer.ok_or(SynthesisError::AssignmentMissing)
        })?;
        let path = MerklePathVar::new_in(
            cs.clone(),
            || self.path.ok_or(SynthesisError::AssignmentMissing),
            self.trees.ledger,
            AllocationMode::Witness,
        )?;

        let leaf = record_leaf_gadget(&committer, &record.commitment(category)?)?;
        path.enforce_membership(&leaf, root)?;
        let _bound = binding.square()?;
        Ok(())
    }
}

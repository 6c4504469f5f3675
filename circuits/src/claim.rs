//! Statement 3: claim compliance. "A claim record on the ledger, for exactly the claimed
//! amount, meets the insurer's policy."
//!
//! Public (see [`ClaimPublic`]): records root, policy commitment, claimed amount, claim
//! id, the provider that committed the claim record, and a context binding. Private: the
//! claim record's opening and path, the policy's opening, the code's path in the
//! policy's covered-codes tree. Enforced:
//! - the records-tree leaf `H(TAG_RECORD_LEAF, provider, commitment)` is under the
//!   records root: the claim record was committed by that provider's key (insurers know
//!   and pay providers, so they can tell a hospital's attestation from a policyholder's);
//! - the policy opening hashes to the public policy commitment (its publication on the
//!   ledger is checked outside the circuit);
//! - the record's patient is the policyholder;
//! - the procedure code is not 0 and is a leaf of the covered-codes tree (4-ary, depth 8)
//!   whose root is sealed in the policy;
//! - `period_start <= service_date <= period_end` and `amount <= limit`, every operand
//!   range-checked to 64 bits; the amount equals the public claimed amount;
//! - the claim id is `H(TAG_CLAIM_ID, policy, record blinding)`: one record, one id per
//!   policy; the insurer records it on the ledger when it pays, and the ledger refuses
//!   it a second time;
//! - the binding (the insurer's challenge) is squared into a constraint, so a proof
//!   answers one request.
//!
//! The diagnosis, the code, the date, the patient and the policy's terms stay private.

use std::fmt;

use ark_bn254::Fr;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use medproof_statement::statement::{ClaimPublic, PublicInputs};

use crate::commit::constraints::{record_leaf_gadget, ClaimOpeningVar, PolicyOpeningVar};
use crate::commit::{record_leaf, ClaimOpening, PolicyOpening};
use crate::merkle::constraints::MerklePathVar;
use crate::merkle::MerklePath;
use crate::range::constraints::{enforce_le_u64, enforce_u64};
use crate::range::le_u64;
use crate::Trees;

/// The private part of a claim proof.
#[derive(Clone)]
pub struct ClaimWitness {
    /// The claim record's opening.
    pub claim: ClaimOpening,
    /// Its path in the records tree.
    pub record_path: MerklePath,
    /// The policy's opening.
    pub policy: PolicyOpening,
    /// The code's path in the policy's covered-codes tree.
    pub code_path: MerklePath,
}

/// The claim-compliance circuit. All fields are `None` for key generation.
#[derive(Clone, Default)]
pub struct ClaimCircuit {
    public: Option<ClaimPublic>,
    witness: Option<ClaimWitness>,
    trees: Trees,
}

impl ClaimCircuit {
    /// The circuit without a witness, for setup and shape checks.
    pub fn blank() -> Self {
        Self::default()
    }

    /// The circuit with a full assignment.
    pub fn new(public: ClaimPublic, witness: ClaimWitness) -> Self {
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
        let (c, pol) = (&w.claim, &w.policy);
        w.record_path.verify_in(
            self.trees.ledger,
            p.records_root,
            record_leaf(p.provider, c.commitment()),
        ) && pol.commitment() == p.policy
            && c.patient_ref == pol.policyholder
            && c.code != Fr::from(0u64)
            && w.code_path
                .verify_in(self.trees.codes, pol.codes_root, c.code)
            && le_u64(pol.period_start, c.service_date)
            && le_u64(c.service_date, pol.period_end)
            && le_u64(c.amount, pol.limit)
            && c.amount == p.claimed_amount
            && c.claim_id(p.policy) == p.claim_id
    }
}

impl fmt::Debug for ClaimCircuit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimCircuit")
            .field("public", &self.public)
            .field("witness", &self.witness.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ConstraintSynthesizer<Fr> for ClaimCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let public = self.public.ok_or(SynthesisError::AssignmentMissing);
        let inputs: Vec<FpVar<Fr>> = (0..ClaimPublic::LEN)
            .map(|i| FpVar::new_input(cs.clone(), || public.map(|p| p.to_field_elements()[i])))
            .collect::<Result<_, _>>()?;
        let root = &inputs[ClaimPublic::RECORDS_ROOT];
        let policy_commitment = &inputs[ClaimPublic::POLICY];
        let claimed = &inputs[ClaimPublic::CLAIMED_AMOUNT];
        let claim_id = &inputs[ClaimPublic::CLAIM_ID];
        let provider = &inputs[ClaimPublic::PROVIDER];
        let binding = &inputs[ClaimPublic::BINDING];

        let w = self.witness.ok_or(SynthesisError::AssignmentMissing);
        let w = w.as_ref().map_err(|e| *e);
        let claim = ClaimOpeningVar::new_witness(cs.clone(), || w.map(|w| w.claim.clone()))?;
        let record_path = MerklePathVar::new_in(
            cs.clone(),
            || w.map(|w| w.record_path.clone()),
            self.trees.ledger,
            AllocationMode::Witness,
        )?;
        let policy = PolicyOpeningVar::new_witness(cs.clone(), || w.map(|w| w.policy.clone()))?;
        let code_path = MerklePathVar::new_in(
            cs.clone(),
            || w.map(|w| w.code_path.clone()),
            self.trees.codes,
            AllocationMode::Witness,
        )?;
        let c = |i: usize| &claim.fields[i];
        let p = |i: usize| &policy.fields[i];

        // The claim record is on the ledger, committed by the provider.
        let leaf = record_leaf_gadget(provider, &claim.commitment()?)?;
        record_path.enforce_membership(&leaf, root)?;
        // The policy is the public one, and the patient is its holder.
        policy.commitment()?.enforce_equal(policy_commitment)?;
        c(ClaimOpeningVar::PATIENT_REF).enforce_equal(p(PolicyOpeningVar::POLICYHOLDER))?;
        // The code is covered (and is not the empty leaf).
        let code = c(ClaimOpeningVar::CODE);
        code.enforce_not_equal(&FpVar::zero())?;
        code_path.enforce_membership(code, p(PolicyOpeningVar::CODES_ROOT))?;
        // The date is within the period, the amount within the limit.
        let date = c(ClaimOpeningVar::SERVICE_DATE);
        let amount = c(ClaimOpeningVar::AMOUNT);
        let (start, end) = (
            p(PolicyOpeningVar::PERIOD_START),
            p(PolicyOpeningVar::PERIOD_END),
        );
        let limit = p(PolicyOpeningVar::LIMIT);
        for x in [date, amount, start, end, limit] {
            enforce_u64(x)?;
        }
        enforce_le_u64(start, date)?;
        enforce_le_u64(date, end)?;
        enforce_le_u64(amount, limit)?;
        amount.enforce_equal(claimed)?;
        // One record, one claim id under this policy.
        claim.claim_id(policy_commitment)?.enforce_equal(claim_id)?;
        // The binding takes part in a constraint.
        let _bound = binding.square()?;
        Ok(())
    }
}

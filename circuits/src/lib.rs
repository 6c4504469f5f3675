//! medproof's statements and the gadgets they are built from.
//!
//! Each gadget has a native twin beside it (`foo.rs` native, `foo/constraints.rs` the
//! gadget), tested equal. This crate does no I/O: no files, no network, no storage; it
//! takes the statement vocabulary (typed public inputs) from `medproof-statement`, and
//! knows no signatures or JSON (`.ci/run` checks its dependency tree).

#![forbid(unsafe_code)]

pub mod access;
pub mod claim;
pub mod codes;
pub mod commit;
pub mod merkle;
pub mod poseidon;
pub mod range;
pub mod record_inclusion;
pub mod shape;

pub use ark_bn254::Fr;

use merkle::TreeShape;

/// The shapes of the trees a statement's paths are in: the ledger's records and
/// consents trees, and a policy's covered codes. Fixed by the statement's keys;
/// the other shapes are there to be measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trees {
    /// The records and consents trees.
    pub ledger: TreeShape,
    /// A policy's covered-codes tree.
    pub codes: TreeShape,
}

impl Trees {
    /// The trees of the ledger (4-ary).
    pub const LEDGER: Trees = Trees {
        ledger: merkle::LEDGER_TREE,
        codes: codes::CODES_TREE,
    };
    /// Binary trees of the same capacities (the ledger's up to storage format 5).
    pub const BINARY: Trees = Trees {
        ledger: merkle::BINARY_TREE,
        codes: TreeShape::new(2, 16),
    };
    /// 8-ary trees of at least the same capacities.
    pub const OCTAL: Trees = Trees {
        ledger: merkle::OCTAL_TREE,
        codes: TreeShape::new(8, 6),
    };
}

impl Default for Trees {
    fn default() -> Self {
        Self::LEDGER
    }
}

pub use medproof_statement::statement::Statement;

/// Any statement's circuit: the one place where a statement becomes its circuit, for
/// setup, shapes and proving alike.
#[derive(Debug, Clone)]
pub enum AnyCircuit {
    /// Record inclusion.
    RecordInclusion(record_inclusion::RecordInclusionCircuit),
    /// Access authorization.
    Access(access::AccessCircuit),
    /// Claim compliance.
    Claim(claim::ClaimCircuit),
}

impl AnyCircuit {
    /// `statement`'s circuit without a witness (for setup and shapes).
    pub fn blank(statement: Statement) -> Self {
        match statement {
            Statement::RecordInclusion => {
                Self::RecordInclusion(record_inclusion::RecordInclusionCircuit::blank())
            }
            Statement::AccessAuthorization => Self::Access(access::AccessCircuit::blank()),
            Statement::ClaimCompliance => Self::Claim(claim::ClaimCircuit::blank()),
        }
    }

    /// The statement it proves.
    pub fn statement(&self) -> Statement {
        match self {
            Self::RecordInclusion(_) => Statement::RecordInclusion,
            Self::Access(_) => Statement::AccessAuthorization,
            Self::Claim(_) => Statement::ClaimCompliance,
        }
    }
}

impl ark_relations::gr1cs::ConstraintSynthesizer<Fr> for AnyCircuit {
    fn generate_constraints(
        self,
        cs: ark_relations::gr1cs::ConstraintSystemRef<Fr>,
    ) -> Result<(), ark_relations::gr1cs::SynthesisError> {
        match self {
            Self::RecordInclusion(c) => c.generate_constraints(cs),
            Self::Access(c) => c.generate_constraints(cs),
            Self::Claim(c) => c.generate_constraints(cs),
        }
    }
}

/// The shape of `statement`'s circuit, synthesized without a witness.
pub fn statement_shape(
    statement: Statement,
) -> Result<shape::CircuitShape, ark_relations::gr1cs::SynthesisError> {
    shape::CircuitShape::of(AnyCircuit::blank(statement))
}

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

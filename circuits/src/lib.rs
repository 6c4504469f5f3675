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

/// The shape of `statement`'s circuit, synthesized without a witness.
pub fn statement_shape(
    statement: Statement,
) -> Result<shape::CircuitShape, ark_relations::gr1cs::SynthesisError> {
    match statement {
        Statement::RecordInclusion => {
            shape::CircuitShape::of(record_inclusion::RecordInclusionCircuit::blank())
        }
        Statement::AccessAuthorization => shape::CircuitShape::of(access::AccessCircuit::blank()),
        Statement::ClaimCompliance => shape::CircuitShape::of(claim::ClaimCircuit::blank()),
    }
}

//! medproof's statement vocabulary, shared by the circuits that prove and the light
//! verifier that checks: the statements and their versions, each statement's typed
//! public inputs with one `to_field_elements()` in a fixed order, and the canonical
//! decimal encoding of field elements.
//!
//! It is small on purpose: no constraint code, no curve arithmetic, no signatures, no
//! serialization formats, so that both sides can depend on it without pulling in the
//! other's dependencies.

#![forbid(unsafe_code)]

pub mod field;
pub mod statement;

pub use field::{fr_from_decimal, fr_to_decimal, FieldError};
pub use statement::{
    AccessPublic, ClaimPublic, LedgerRoot, PublicInputError, PublicInputs, RecordInclusionPublic,
    Statement,
};

/// The scalar field of BN254, in which every statement's public inputs live.
pub use ark_bn254::Fr;

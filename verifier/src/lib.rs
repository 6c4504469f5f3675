//! The light verifier of medproof.
//!
//! It holds what a relying party needs to check a proof and nothing more: the JSON proof
//! bundle, signed checkpoints and their freshness, and Groth16 verification over BN254,
//! one proof at a time or in a batch that shares one final exponentiation. The typed
//! public inputs and canonical field encoding come from `medproof-statement`, which the
//! circuits share, and are re-exported here.
//!
//! It is not a prover: it has no constraint code, no storage and no network. The prover,
//! the params and the service depend on its small types; it depends on none of them.
//!
//! Errors follow ark-groth16's convention: `Ok(false)` means "this proof is wrong",
//! `Err(..)` means "this input is malformed" (wrong number of inputs, a value that is not
//! a canonical field element, bytes that are not a valid curve point).

#![forbid(unsafe_code)]

pub mod bundle;
pub mod checkpoint;
pub mod freshness;
pub mod groth16;
pub mod tlog;

/// The statement vocabulary, from [`medproof_statement`] (shared with the circuits).
pub use medproof_statement::{field, statement};

pub use bundle::{BundleError, CheckpointHistory, ProofBundle};
pub use checkpoint::{Checkpoint, CheckpointError};
pub use field::{fr_from_decimal, fr_to_decimal, FieldError};
pub use freshness::{Freshness, FreshnessError};
pub use groth16::{PreparedVerifyingKey, Proof, VerifyError, VerifyingKey};
pub use statement::{AccessPublic, ClaimPublic, LedgerRoot, RecordInclusionPublic, Statement};

/// The scalar field of BN254, in which every statement's public inputs live.
pub use ark_bn254::Fr;

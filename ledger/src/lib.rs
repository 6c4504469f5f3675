//! medproof's ledger: an append-only, SHA-256 hash-chained log of commitments in
//! RocksDB, with Poseidon trees and signed checkpoints.
//!
//! Not built yet: this crate reserves its place in the workspace. Until it lands, the
//! records tree lives in memory (`medproof_circuits::merkle::MerkleTree`) and proofs are
//! checked against the root the verifier is given.
#![forbid(unsafe_code)]

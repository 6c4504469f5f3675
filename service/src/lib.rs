//! medproof's service and command line.
//!
//! Today this is the `medproof` CLI (key setup, proving, verification, audits, snarkjs
//! export, Poseidon hashing, the demo), the parties' actions on a ledger
//! ([`scenario`]), and the FHIR R4 mapping ([`fhir`]). The HTTP API (actix-web) comes with the service issue;
//! it will be the only crate that does network I/O.

#![forbid(unsafe_code)]

pub mod api;
pub mod assemble;
pub mod auth;
pub mod client;
pub mod demo;
pub mod fhir;
pub mod input;
pub mod ledger_cli;
pub mod progress;
pub mod scenario;
pub mod snarkjs;
pub mod verify;
pub mod wire;

use std::path::{Path, PathBuf};

/// Where keys live inside a data dir.
pub fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
}

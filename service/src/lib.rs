//! medproof's service and command line.
//!
//! The HTTP API ([`api`], actix-web) and its [`client`], the documents they and the CLI
//! exchange ([`wire`], [`input`]), witness assembly ([`assemble`]), signed requests
//! ([`auth`]), verifying a bundle against a ledger ([`verify`]), the parties' actions on
//! a ledger ([`scenario`]), the FHIR R4 mapping ([`fhir`]) and the demo. This is the only
//! crate that does network I/O.

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

use medproof_params::{LoadOptions, Manifest, StatementKeys};
use medproof_verifier::bundle::Verifier;
use medproof_verifier::groth16::PreparedVerifyingKey;
use medproof_verifier::Statement;

/// Where keys live inside a data dir.
pub fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
}

/// Loads the keys of every statement, generating them first if the dir has none (or
/// has keys for fewer statements than this version proves).
pub fn ensure_keys(data_dir: &Path) -> anyhow::Result<(Vec<StatementKeys>, bool)> {
    let dir = keys_dir(data_dir);
    let complete = medproof_params::exists(&dir)
        && Manifest::read(&dir)
            .map(|m| Statement::ALL.iter().all(|s| m.entry(*s).is_ok()))
            .unwrap_or(false);
    let generated = !complete;
    if generated {
        if medproof_params::exists(&dir) {
            eprintln!(
                "keys in {} lack a statement of this version: generating a full set",
                dir.display()
            );
        }
        let statements = Statement::ALL;
        medproof_params::setup(
            &dir,
            &statements,
            &crate::progress::SetupBar::new(statements.len()),
        )?;
    }
    let keys = Statement::ALL
        .iter()
        .map(|s| medproof_params::load(&dir, *s, LoadOptions::default()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((keys, generated))
}

/// A verifier holding the (prepared) verifying key of each of `keys`.
pub fn verifier_of(keys: &[StatementKeys]) -> anyhow::Result<Verifier> {
    let mut verifier = Verifier::new();
    for k in keys {
        verifier.insert(
            k.statement,
            PreparedVerifyingKey::new(k.verifying_key.clone())?,
        )?;
    }
    Ok(verifier)
}

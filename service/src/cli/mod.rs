//! The `medproof` commands, one file each; what several share is here.

pub mod anchor;
pub mod audit;
pub mod ceremony;
pub mod client;
pub mod demo;
pub mod export;
pub mod hash;
pub mod ledger;
pub mod party;
pub mod prove;
pub mod serve;
pub mod setup;
pub mod verify;
pub mod witness;

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use medproof_params::LoadOptions;
use medproof_service::keys_dir;
use medproof_verifier::bundle::Verifier;
use medproof_verifier::freshness::Freshness;
use medproof_verifier::groth16::PreparedVerifyingKey;
use medproof_verifier::{ProofBundle, Statement};

/// How a command ended, when not in success.
pub(crate) enum Failure {
    /// The proof (or a demo proof) does not verify: exit 1.
    Invalid(String),
    /// Anything else: exit 2.
    Error(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Error(e)
    }
}

/// The freshness rules, in seconds.
#[derive(clap::Args, Clone, Copy)]
pub struct FreshnessArgs {
    /// Accept a root until this long after it was superseded.
    #[arg(long, default_value_t = medproof_verifier::freshness::DEFAULT_WINDOW_SECS)]
    pub window: u64,
    /// Accept a proof's `now` this far from the verifier's time.
    #[arg(long, default_value_t = medproof_verifier::freshness::DEFAULT_SKEW_SECS)]
    pub skew: u64,
}

impl FreshnessArgs {
    pub fn rules(self) -> Freshness {
        Freshness {
            window_secs: self.window,
            skew_secs: self.skew,
        }
    }
}

pub fn read_bundle(path: &Path) -> Result<ProofBundle> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    ProofBundle::from_json(&text).with_context(|| path.display().to_string())
}

/// A verifier with the data dir's (integrity-checked) verifying key for `statement`.
pub fn verifier_for(data_dir: &Path, statement: Statement) -> Result<Verifier> {
    let vk = medproof_params::load_verifying_key(
        &keys_dir(data_dir),
        statement,
        LoadOptions::default(),
    )?;
    let mut verifier = Verifier::new();
    verifier.insert(statement, PreparedVerifyingKey::new(vk)?)?;
    Ok(verifier)
}

pub fn print_json(v: &impl serde::Serialize) -> Result<(), Failure> {
    println!(
        "{}",
        serde_json::to_string_pretty(v).map_err(anyhow::Error::from)?
    );
    Ok(())
}

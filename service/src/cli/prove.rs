//! `medproof prove`: a proof from a local input.

use std::fs;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use medproof_params::LoadOptions;
use medproof_prover::{ProofRequest, Prover};
use medproof_service::input::RecordInclusionInput;
use medproof_service::{keys_dir, ledger_cli};
use medproof_verifier::Statement;

use super::Failure;

#[derive(Subcommand)]
pub enum Command {
    /// Prove that a record is in the records tree (see the README for the input).
    RecordInclusion {
        /// Data dir holding the keys.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// The input JSON.
        #[arg(long)]
        input: PathBuf,
        /// Where to write the bundle (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Runs the command.
pub fn run(command: Command) -> Result<(), Failure> {
    let Command::RecordInclusion {
        data_dir,
        input,
        out,
    } = command;
    let text =
        fs::read_to_string(&input).with_context(|| format!("cannot read {}", input.display()))?;
    let input = RecordInclusionInput::from_json(&text)?;
    let ledger = if input.has_leaves() {
        None
    } else {
        Some(ledger_cli::open_existing(&data_dir, None)?)
    };
    let (request, checkpoint) = input.to_request(ledger.as_ref())?;
    drop(ledger);
    let keys = medproof_params::load(
        &keys_dir(&data_dir),
        Statement::RecordInclusion,
        LoadOptions::default(),
    )
    .map_err(anyhow::Error::from)?;
    let prover = Prover::without_tables([keys], 0).map_err(anyhow::Error::from)?;
    let mut bundle = prover
        .prove(&ProofRequest::RecordInclusion(request))
        .map_err(anyhow::Error::from)?;
    if let Some(cp) = &checkpoint {
        bundle = bundle.with_checkpoint(cp);
    }
    match out {
        Some(path) => fs::write(&path, bundle.to_json())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => println!("{}", bundle.to_json()),
    }
    Ok(())
}

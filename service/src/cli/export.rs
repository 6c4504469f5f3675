//! `medproof export`: a bundle for other tools.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::Subcommand;
use medproof_params::LoadOptions;
use medproof_service::{keys_dir, snarkjs};

use super::{read_bundle, Failure};

#[derive(Subcommand)]
pub enum Command {
    /// Write verification_key.json, proof.json and public.json for `snarkjs groth16 verify`.
    Snarkjs {
        /// The bundle (JSON).
        bundle: PathBuf,
        /// Data dir holding the keys.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs the command.
pub fn run(command: Command) -> Result<(), Failure> {
    let Command::Snarkjs {
        bundle,
        data_dir,
        out,
    } = command;
    let bundle = read_bundle(&bundle)?;
    let decoded = bundle.decode().map_err(anyhow::Error::from)?;
    let vk = medproof_params::load_verifying_key(
        &keys_dir(&data_dir),
        decoded.statement,
        LoadOptions::default(),
    )
    .map_err(anyhow::Error::from)?;
    if vk.id() != decoded.vk_id {
        return Err(anyhow!(
            "bundle was made for verifying key {}, but {} holds {}",
            decoded.vk_id,
            data_dir.display(),
            vk.id()
        )
        .into());
    }
    snarkjs::export(&vk, &decoded, &out)?;
    println!(
        "wrote verification_key.json, proof.json, public.json to {}",
        out.display()
    );
    Ok(())
}

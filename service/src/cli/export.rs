//! `medproof export`: keys and bundles for other tools.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::Subcommand;
use medproof_params::LoadOptions;
use medproof_service::{keys_dir, snarkjs, solidity};
use medproof_verifier::bundle::DecodedBundle;
use medproof_verifier::groth16::VerifyingKey;
use medproof_verifier::Statement;

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
    /// Write a Solidity verifier contract per statement (gnark's Groth16 template,
    /// rendered from the data dir's verifying keys): `<Statement>Verifier.sol`.
    Solidity {
        /// Data dir holding the keys.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print, as JSON, what a call to the statement's Solidity verifier needs: the proof
    /// words (G2 coordinates imaginary part first, as EIP-197 wants), the public
    /// inputs, and the whole ABI-encoded call.
    Calldata {
        /// The bundle (JSON).
        bundle: PathBuf,
        /// Data dir holding the keys: if given, the bundle must be for its key.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

/// The data dir's integrity-checked verifying key for a statement.
fn load_vk(data_dir: &Path, statement: Statement) -> Result<VerifyingKey, Failure> {
    Ok(
        medproof_params::load_verifying_key(&keys_dir(data_dir), statement, LoadOptions::default())
            .map_err(anyhow::Error::from)?,
    )
}

/// Refuses a bundle made for another key than `vk`.
fn same_key(decoded: &DecodedBundle, vk: &VerifyingKey, data_dir: &Path) -> Result<(), Failure> {
    if vk.id() != decoded.vk_id {
        return Err(anyhow!(
            "bundle was made for verifying key {}, but {} holds {}",
            decoded.vk_id,
            data_dir.display(),
            vk.id()
        )
        .into());
    }
    Ok(())
}

/// Runs the command.
pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Snarkjs {
            bundle,
            data_dir,
            out,
        } => {
            let decoded = read_bundle(&bundle)?
                .decode()
                .map_err(anyhow::Error::from)?;
            let vk = load_vk(&data_dir, decoded.statement)?;
            same_key(&decoded, &vk, &data_dir)?;
            snarkjs::export(&vk, &decoded, &out)?;
            println!(
                "wrote verification_key.json, proof.json, public.json to {}",
                out.display()
            );
        }
        Command::Solidity { data_dir, out } => {
            let keys = Statement::ALL
                .into_iter()
                .map(|s| load_vk(&data_dir, s).map(|vk| (s, vk)))
                .collect::<Result<Vec<_>, _>>()?;
            for path in solidity::write_contracts(&keys, &out)? {
                println!("wrote {}", path.display());
            }
        }
        Command::Calldata { bundle, data_dir } => {
            let decoded = read_bundle(&bundle)?
                .decode()
                .map_err(anyhow::Error::from)?;
            if let Some(data_dir) = data_dir {
                let vk = load_vk(&data_dir, decoded.statement)?;
                same_key(&decoded, &vk, &data_dir)?;
            }
            let text = serde_json::to_string_pretty(&solidity::calldata(&decoded))
                .map_err(anyhow::Error::from)?;
            println!("{text}");
        }
    }
    Ok(())
}

//! `medproof hash`: hashes the way medproof computes them.

use anyhow::{anyhow, Result};
use clap::Subcommand;
use medproof_verifier::{fr_from_decimal, fr_to_decimal};

use super::Failure;

#[derive(Subcommand)]
pub enum Command {
    /// circomlib's Poseidon of 1 to 16 decimal field elements.
    Poseidon {
        /// Inputs, canonical decimal.
        #[arg(required = true, num_args = 1..)]
        inputs: Vec<String>,
    },
}

/// Runs the command.
pub fn run(command: Command) -> Result<(), Failure> {
    let Command::Poseidon { inputs } = command;
    if inputs.len() > medproof_circuits::poseidon::MAX_INPUTS {
        return Err(anyhow!(
            "Poseidon takes 1 to {} inputs, got {}",
            medproof_circuits::poseidon::MAX_INPUTS,
            inputs.len()
        )
        .into());
    }
    let xs = inputs
        .iter()
        .enumerate()
        .map(|(i, s)| fr_from_decimal(s).map_err(|e| anyhow!("input {}: {e}", i + 1)))
        .collect::<Result<Vec<_>>>()?;
    println!("{}", fr_to_decimal(&medproof_circuits::poseidon::hash(&xs)));
    Ok(())
}

//! `medproof setup`: fresh Groth16 keys for every statement, from a single party's
//! randomness (for development and tests; a deployment holds a ceremony: `medproof
//! ceremony`).

use std::path::PathBuf;

use anyhow::anyhow;
use medproof_service::keys_dir;
use medproof_verifier::Statement;

use super::Failure;

/// Flags.
#[derive(clap::Args)]
pub struct Args {
    /// Data dir; keys go to DATA_DIR/keys.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// Replace existing keys (proofs made with the old keys stop verifying).
    #[arg(long)]
    pub force: bool,
}

/// Runs the command.
pub fn run(args: Args) -> Result<(), Failure> {
    let Args { data_dir, force } = args;
    let dir = keys_dir(&data_dir);
    if medproof_ledger::db_dir(&data_dir).is_dir() {
        return Err(anyhow!(
            "{} holds a ledger whose genesis names the keys it was created with: new keys beside it would be refused by its verifiers (set up keys in a data dir before its first start)",
            data_dir.display()
        )
        .into());
    }
    if medproof_params::exists(&dir) && !force {
        return Err(anyhow!(
            "keys already exist in {} (use --force to replace them; old proofs stop verifying)",
            dir.display()
        )
        .into());
    }
    let statements = Statement::ALL;
    let m = medproof_params::setup(
        &dir,
        &statements,
        &medproof_service::progress::SetupBar::new(statements.len()),
    )
    .map_err(anyhow::Error::from)?;
    for k in &m.keys {
        println!(
            "{} v{}: {} constraints, vk {}",
            k.statement, k.version, k.constraints, k.vk_id
        );
    }
    println!(
        "single-party setup: whoever ran it could have kept the secrets and forge proofs; \
         for a deployment, hold a ceremony (see the README, \"A setup ceremony\")"
    );
    Ok(())
}

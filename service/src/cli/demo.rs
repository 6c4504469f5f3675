//! `medproof demo`: the four stories on synthetic data.

use std::path::PathBuf;

use medproof_service::demo::{self, DemoOptions};

use super::Failure;

/// Flags.
#[derive(clap::Args)]
pub struct Args {
    /// Data dir; keys are generated in DATA_DIR/keys if missing.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// Where bundles are written.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Synthetic records to commit.
    #[arg(long, default_value_t = 16)]
    pub records: usize,
    /// Inclusion proofs to make, in parallel.
    #[arg(long, default_value_t = 8)]
    pub proofs: usize,
    /// Prover threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Leave out the access logged with another request's proof, which the audit
    /// otherwise names: the demo's ledger then audits clean.
    #[arg(long)]
    pub no_forged_access: bool,
}

/// Runs the command.
pub fn run(args: Args) -> Result<(), Failure> {
    let Args {
        data_dir,
        out,
        records,
        proofs,
        threads,
        no_forged_access,
    } = args;
    let report = demo::run(&DemoOptions {
        data_dir,
        out,
        records,
        proofs,
        threads,
        forged_access: !no_forged_access,
    })?;
    if report.all_valid {
        Ok(())
    } else {
        Err(Failure::Invalid("a demo proof did not verify".into()))
    }
}

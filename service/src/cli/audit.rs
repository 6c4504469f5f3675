//! `medproof audit`: a period of the access log, for a regulator.

use std::fs;
use std::path::PathBuf;

use anyhow::Context;
use medproof_ledger::audit::{audit, AuditOptions};
use medproof_service::ledger_cli;
use medproof_verifier::Statement;

use super::{verifier_for, Failure, FreshnessArgs};

/// Flags.
#[derive(clap::Args)]
pub struct Args {
    /// Data dir holding the ledger and the keys.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// First entry of the period (default: the first).
    #[arg(long)]
    pub from: Option<u64>,
    /// One past the last entry of the period (default: the ledger's length).
    #[arg(long)]
    pub to: Option<u64>,
    /// Write the JSON report here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// The trusted ledger public key, hex (default: DATA_DIR/ledger.pub).
    #[arg(long)]
    pub ledger_key: Option<String>,
    /// A checkpoint you saw before, `SEQ:CHAIN_HEAD`: the audit fails unless the
    /// ledger still holds it and extends it (no rollback, no fork).
    #[arg(long)]
    pub since: Option<ledger_cli::Since>,
    #[command(flatten)]
    pub freshness: FreshnessArgs,
}

/// Runs the command.
pub fn run(args: Args) -> Result<(), Failure> {
    let Args {
        data_dir,
        from,
        to,
        report,
        ledger_key,
        since,
        freshness,
    } = args;
    let ledger = ledger_cli::open_existing(&data_dir, ledger_key.as_deref())?;
    let key = ledger.public_key();
    if let Some(since) = since {
        let c = ledger
            .extends(since.seq, &since.chain_head, &key)
            .map_err(anyhow::Error::from)?;
        if let Some(reason) = ledger_cli::continuity_problem(&c, since.seq, false) {
            return Err(Failure::Invalid(format!("audit refused: {reason}")));
        }
    }
    let verifier = verifier_for(&data_dir, Statement::AccessAuthorization)?;
    let opts = AuditOptions {
        from: from.unwrap_or(0),
        to: to.unwrap_or(ledger.len()),
        rules: freshness.rules(),
        batch: medproof_ledger::audit::DEFAULT_BATCH,
    };
    let bar = medproof_service::progress::entries_bar();
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let result = audit(&ledger, &verifier, &key, &opts, &progress);
    bar.finish_and_clear();
    let result = result.map_err(anyhow::Error::from)?;
    if let Some(path) = report {
        let json = serde_json::to_string_pretty(&result).map_err(anyhow::Error::from)?;
        fs::write(&path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("{}", result.summary());
    if result.passed() {
        Ok(())
    } else {
        Err(Failure::Invalid(format!(
            "audit failed: {} invalid, {} stale, chain {}",
            result.invalid,
            result.stale,
            if result.chain_ok { "intact" } else { "broken" }
        )))
    }
}

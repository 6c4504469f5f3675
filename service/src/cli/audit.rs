//! `medproof audit`: a period of the access log, for a regulator.

use std::fs;
use std::path::PathBuf;

use anyhow::Context;
use medproof_ledger::audit::{audit, AuditOptions, AuditReport};
use medproof_ledger::{Ledger, Store};
use medproof_service::anchor::{AnchorContract, AnchorMismatch};
use medproof_service::client::Client;
use medproof_service::{ledger_cli, remote};
use medproof_verifier::bundle::Verifier;
use medproof_verifier::tlog::CosignatureVerifier;
use medproof_verifier::Statement;

use super::{verifier_for, Failure, FreshnessArgs};

/// Flags.
#[derive(clap::Args)]
pub struct Args {
    /// Data dir holding the ledger and the keys.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// Audit the ledger a service serves at this URL instead, from its transparency log
    /// (`/checkpoint` and `/tile/entries/…`), trusting only --ledger-key: the whole log
    /// is fetched, checked against the signed checkpoint, and rebuilt in memory. The
    /// verifying key is fetched too and taken only if the genesis names it.
    #[arg(long)]
    pub url: Option<String>,
    /// With an `https` --url: trust only the PEM certificates in this file.
    #[arg(long, requires = "url")]
    pub ca_cert: Option<PathBuf>,
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
    /// A cosigned C2SP checkpoint of the ledger's log (a witness's published
    /// `checkpoint`, or the service's `GET /v1/log/cosigned`): the report then names
    /// which --witness keys vouch for the period, and fails if the checkpoint is of
    /// another history, does not reach the period's end, or has too few of them.
    /// Without --to, the period ends where that checkpoint ends.
    #[arg(long)]
    pub cosigned: Option<PathBuf>,
    /// A witness's cosignature verifier key (`name+keyid+base64`); repeat for several.
    #[arg(long = "witness", requires = "cosigned")]
    pub witness: Vec<String>,
    /// How many of the --witness keys must vouch [default: all of them].
    #[arg(long = "witnesses", requires = "cosigned")]
    pub required_witnesses: Option<usize>,
    #[command(flatten)]
    pub freshness: FreshnessArgs,
    // With --anchor-rpc and --anchor-contract, the checkpoint that closes the period must
    // be anchored there (the report says so under `anchor`; another checkpoint at that
    // seq, or none, fails the audit).
    #[command(flatten)]
    pub chain: super::verify::ChainArgs,
}

/// What the chain says about the period's closing checkpoint.
#[derive(serde::Serialize)]
struct AnchorReport {
    /// The anchor contract.
    contract: String,
    /// The closing checkpoint's seq.
    seq: u64,
    /// Block time it was anchored at, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    anchored_at: Option<u64>,
    /// Why it does not match the chain, if it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

/// Runs the command.
pub fn run(args: Args) -> Result<(), Failure> {
    let Args {
        data_dir,
        url,
        ca_cert,
        from,
        to,
        report,
        ledger_key,
        since,
        cosigned,
        witness,
        required_witnesses,
        freshness,
        chain,
    } = args;
    let chain = chain.contract()?;
    let (witnesses, required) = super::verify::WitnessArgs {
        witness,
        required: required_witnesses,
    }
    .parse()?;
    let cosigned = cosigned
        .map(|path| {
            fs::read(&path)
                .with_context(|| format!("cannot read {}", path.display()))
                .map(|note| Cosigned {
                    note,
                    witnesses,
                    required,
                })
        })
        .transpose()?;
    let period = Period {
        from,
        to,
        since,
        rules: freshness.rules(),
        cosigned,
        chain,
    };
    let (result, anchor) = match url {
        Some(url) => {
            let client = match &ca_cert {
                Some(path) => Client::with_ca(
                    &url,
                    &fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
                )?,
                None => Client::new(&url),
            };
            let key = ledger_cli::trusted_key(&data_dir, ledger_key.as_deref())?;
            let bar = medproof_service::progress::tiles_bar();
            let fetched = remote::fetch_ledger(&client, &key, &|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            });
            bar.finish_and_clear();
            let ledger = fetched?;
            let verifier =
                remote::fetch_verifier(&client, &ledger, Statement::AccessAuthorization)?;
            run_audit(&ledger, &verifier, &period)?
        }
        None => {
            let ledger = ledger_cli::open_existing(&data_dir, ledger_key.as_deref())?;
            let verifier = verifier_for(&data_dir, Statement::AccessAuthorization)?;
            run_audit(&ledger, &verifier, &period)?
        }
    };
    let anchor_problem = anchor.as_ref().and_then(|a| a.problem.clone());
    if let Some(path) = report {
        let mut json = serde_json::to_value(&result).map_err(anyhow::Error::from)?;
        if let Some(a) = &anchor {
            json["anchor"] = serde_json::to_value(a).map_err(anyhow::Error::from)?;
            if a.problem.is_some() {
                json["passed"] = false.into();
            }
        }
        let json = serde_json::to_string_pretty(&json).map_err(anyhow::Error::from)?;
        fs::write(&path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("{}", result.summary());
    if let Some(a) = &anchor {
        match (&a.problem, a.anchored_at) {
            (None, Some(at)) => println!(
                "its closing checkpoint {} is anchored by {} at block time {at}",
                a.seq, a.contract
            ),
            (Some(problem), _) => println!("on chain: {problem}"),
            (None, None) => {}
        }
    }
    if let Some(problem) = anchor_problem {
        Err(Failure::Invalid(format!("audit failed: {problem}")))
    } else if result.passed() {
        Ok(())
    } else {
        Err(Failure::Invalid(format!(
            "audit failed: {} invalid, {} stale, chain {}{}",
            result.invalid,
            result.stale,
            if result.chain_ok { "intact" } else { "broken" },
            match &result.witnesses {
                Some(w) if !w.passed() => format!(
                    ", {} of {} required witnesses vouch",
                    w.vouched.len(),
                    w.required
                ),
                _ => String::new(),
            }
        )))
    }
}

/// What to audit.
struct Period {
    from: Option<u64>,
    to: Option<u64>,
    since: Option<ledger_cli::Since>,
    rules: medproof_verifier::freshness::Freshness,
    cosigned: Option<Cosigned>,
    chain: Option<AnchorContract>,
}

/// A cosigned log checkpoint and the witnesses to look for on it.
struct Cosigned {
    note: Vec<u8>,
    witnesses: Vec<CosignatureVerifier>,
    required: usize,
}

/// The audit of `period` of `ledger` (local or rebuilt from a remote log), trusting the
/// key the ledger was opened with.
fn run_audit<S: Store + Sync>(
    ledger: &Ledger<S>,
    verifier: &Verifier,
    period: &Period,
) -> Result<(AuditReport, Option<AnchorReport>), Failure> {
    let key = ledger.public_key();
    if let Some(since) = &period.since {
        let c = ledger
            .extends(since.seq, &since.chain_head, &key)
            .map_err(anyhow::Error::from)?;
        if let Some(reason) = ledger_cli::continuity_problem(&c, since.seq, false) {
            return Err(Failure::Invalid(format!("audit refused: {reason}")));
        }
    }
    // With a cosigned checkpoint and no --to, the period ends where the witnesses saw
    // the log end (if that is within this ledger; add_witnesses says why not if not).
    let witnessed_size = period.cosigned.as_ref().and_then(|c| {
        let size = ledger.log_verifier().ok()?.open(&c.note).ok()?.size;
        (size <= ledger.len()).then_some(size)
    });
    let opts = AuditOptions {
        from: period.from.unwrap_or(0),
        to: period.to.or(witnessed_size).unwrap_or(ledger.len()),
        rules: period.rules,
        batch: medproof_ledger::audit::DEFAULT_BATCH,
    };
    let bar = medproof_service::progress::entries_bar();
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let result = audit(ledger, verifier, &key, &opts, &progress);
    bar.finish_and_clear();
    let mut result = result.map_err(anyhow::Error::from)?;
    if let Some(c) = &period.cosigned {
        result
            .add_witnesses(ledger, &c.note, &c.witnesses, c.required)
            .map_err(anyhow::Error::from)?;
    }
    let anchor = match &period.chain {
        None => None,
        Some(contract) => {
            let seq = result.checkpoints.end.seq;
            let checkpoint = ledger
                .checkpoint_at(seq)
                .map_err(anyhow::Error::from)?
                .ok_or_else(|| {
                    anyhow::anyhow!("the closing checkpoint {seq} is not in the ledger")
                })?
                .checkpoint;
            let (anchored_at, problem) = match contract.check(&checkpoint) {
                Ok(a) => (Some(a.anchored_at), None),
                Err(AnchorMismatch::Unreachable(e)) => return Err(anyhow::anyhow!(e).into()),
                Err(e) => (None, Some(e.to_string())),
            };
            Some(AnchorReport {
                contract: contract.address().to_string(),
                seq,
                anchored_at,
                problem,
            })
        }
    };
    Ok((result, anchor))
}

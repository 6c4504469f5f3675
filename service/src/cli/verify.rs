//! `medproof verify`: fails closed (see the command's help).

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use medproof_service::anchor::{AnchorContract, AnchorMismatch};
use medproof_service::ledger_cli;
use medproof_service::verify::{verify_bundle, Anchor, FreshnessRule};
use medproof_verifier::tlog::CosignatureVerifier;
use medproof_verifier::{fr_from_decimal, Statement};

use super::{read_bundle, verifier_for, Failure, FreshnessArgs};

/// Flags.
#[derive(clap::Args)]
pub struct Args {
    /// The bundle (JSON).
    pub bundle: PathBuf,
    /// Data dir holding the verifying keys (and, if present, the ledger).
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// The trusted ledger public key, hex (default: DATA_DIR/ledger.pub).
    #[arg(long)]
    pub ledger_key: Option<String>,
    /// The ledger's genesis document (`medproof ledger entry 0`, `GET /v1/entries/0`),
    /// checked under the trusted key: the verifying keys it names are the only ones
    /// accepted. Default: DATA_DIR/genesis.json; not needed when the data dir holds the
    /// ledger database.
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// Check the proof alone when the bundle carries no checkpoint: its root is then
    /// whatever the prover chose. For those who know what they are doing.
    #[arg(long)]
    pub allow_unanchored: bool,
    /// The binding the proof must answer (decimal): the challenge this verifier
    /// issued for record inclusion and claims, the request binding it computed for
    /// access (provider, record, time and its nonce). Another binding is not valid.
    #[arg(long)]
    pub expect_binding: Option<String>,
    #[command(flatten)]
    pub freshness: FreshnessArgs,
    #[command(flatten)]
    pub witnesses: WitnessArgs,
    #[command(flatten)]
    pub chain: ChainArgs,
}

/// An EVM anchor a verifier requires.
#[derive(clap::Args, Debug, Default)]
pub struct ChainArgs {
    /// A JSON-RPC endpoint of the chain the ledger anchors its checkpoints on. With
    /// --anchor-contract, the bundle's checkpoint (for `verify`) or the period's closing
    /// checkpoint (for `audit`) must be anchored there at its seq, with the same fields
    /// (a rolled-back or forked ledger cannot match the chain).
    #[arg(long, requires = "anchor_contract")]
    pub anchor_rpc: Option<String>,
    /// The address of the ledger's `MedproofAnchor` contract.
    #[arg(long, requires = "anchor_rpc")]
    pub anchor_contract: Option<String>,
}

impl ChainArgs {
    /// The contract, if one is required.
    pub fn contract(&self) -> anyhow::Result<Option<AnchorContract>> {
        match (&self.anchor_rpc, &self.anchor_contract) {
            (Some(rpc), Some(contract)) => Ok(Some(AnchorContract::new(rpc, contract)?)),
            _ => Ok(None),
        }
    }
}

/// Witnesses a verifier requires.
#[derive(clap::Args, Debug, Default)]
pub struct WitnessArgs {
    /// A witness's cosignature verifier key (`name+keyid+base64`, from `medproof witness
    /// key`); repeat for several. The bundle must then carry a log checkpoint (`log`)
    /// that holds its checkpoint and that --witnesses of these cosigned.
    #[arg(long = "witness")]
    pub witness: Vec<String>,
    /// How many of the --witness keys must have cosigned [default: all of them].
    #[arg(long = "witnesses")]
    pub required: Option<usize>,
}

impl WitnessArgs {
    /// The witness keys and how many must have cosigned.
    pub fn parse(&self) -> anyhow::Result<(Vec<CosignatureVerifier>, usize)> {
        let mut keys = Vec::new();
        for k in &self.witness {
            let v = CosignatureVerifier::from_verifier_key(k)
                .map_err(|e| anyhow!("--witness {k}: {e}"))?;
            if !keys.contains(&v) {
                keys.push(v);
            }
        }
        let required = self.required.unwrap_or(keys.len());
        if required > keys.len() {
            anyhow::bail!(
                "--witnesses {required}: only {} witness keys are given",
                keys.len()
            );
        }
        Ok((keys, required))
    }
}

/// Runs the command: `medproof verify` fails closed (see the command's help).
pub fn run(args: Args) -> Result<(), Failure> {
    let Args {
        bundle: path,
        data_dir,
        ledger_key,
        genesis,
        allow_unanchored,
        expect_binding,
        freshness,
        witnesses,
        chain,
    } = args;
    let chain = chain.contract()?;
    let (path, data_dir) = (path.as_path(), data_dir.as_path());
    let (ledger_key, genesis) = (ledger_key.as_deref(), genesis.as_deref());
    let expect_binding = expect_binding.as_deref();
    let (witnesses, required_witnesses) = witnesses.parse()?;
    let bundle = read_bundle(path)?;
    let statement = Statement::from_name(&bundle.statement)
        .ok_or_else(|| anyhow!("unknown statement `{}`", bundle.statement))?;
    let verifier = verifier_for(data_dir, statement)?;
    let expect_binding = expect_binding
        .map(|b| fr_from_decimal(b).map_err(|e| anyhow!("--expect-binding: {e}")))
        .transpose()?;
    // The ledger's key is needed only to check a checkpoint; the database only when the
    // data dir holds it.
    let anchored = bundle.checkpoint.is_some();
    let key = match anchored {
        true => Some(ledger_cli::trusted_key(data_dir, ledger_key)?),
        false => None,
    };
    let with_database = anchored && medproof_ledger::db_dir(data_dir).is_dir();
    // A bundle from another ledger is a verdict, whatever ledger this data dir holds:
    // the database (which would not open under another key) is opened only for a
    // checkpoint the trusted key signed; `verify_bundle` then checks it in full.
    let untrusted = key.is_some_and(|key| {
        bundle
            .checkpoint
            .as_ref()
            .and_then(|c| c.parse().ok())
            .is_some_and(|cp| cp.verify(&key).is_err())
    });
    let ledger = match with_database && !untrusted {
        true => Some(ledger_cli::open_existing(data_dir, ledger_key)?),
        false => None,
    };
    // Without the database, the genesis document names the keys (checked under the
    // trusted key; one that does not check is an error, not a verdict). A checkpoint the
    // trusted key did not sign is the verdict already.
    let genesis = match (key, ledger.is_some() || untrusted) {
        (Some(key), false) => {
            let path = genesis
                .map(Path::to_path_buf)
                .unwrap_or_else(|| medproof_service::genesis_path(data_dir));
            match (path.exists(), genesis.is_some()) {
                (false, false) => None,
                _ => Some(read_genesis(&path, &key)?),
            }
        }
        _ => None,
    };
    let anchor = Anchor {
        key,
        ledger: ledger.as_ref(),
        genesis: genesis.as_ref(),
        rules: freshness.rules(),
        now: medproof_ledger::Clock::now(&medproof_ledger::SystemClock),
        expect_binding,
        allow_unanchored,
        witnesses: &witnesses,
        required_witnesses,
    };
    let verdict = verify_bundle(&verifier, &bundle, &anchor).map_err(anyhow::Error::from)?;
    if !verdict.valid {
        return Err(Failure::Invalid(
            verdict.reason().unwrap_or("not valid").to_string(),
        ));
    }
    // The chain last: only a checkpoint the trusted key signed gets this far.
    let on_chain = match &chain {
        None => None,
        Some(contract) => {
            let checkpoint = match (&bundle.checkpoint, verdict.freshness) {
                (Some(c), FreshnessRule::History | FreshnessRule::Light) => {
                    c.parse().map_err(anyhow::Error::from)?
                }
                _ => {
                    return Err(Failure::Invalid(
                        "an on-chain anchor is required, and the bundle carries no checkpoint"
                            .into(),
                    ))
                }
            };
            match contract.check(&checkpoint) {
                Ok(a) => Some(format!(
                    "checkpoint {} anchored by {} at block time {}",
                    checkpoint.seq,
                    contract.address(),
                    a.anchored_at
                )),
                Err(AnchorMismatch::Unreachable(e)) => return Err(anyhow!(e).into()),
                Err(e) => return Err(Failure::Invalid(e.to_string())),
            }
        }
    };
    match verdict.freshness {
        FreshnessRule::Unanchored => {
            eprintln!("warning: no ledger checkpoint: the proof's root was NOT checked against any ledger (--allow-unanchored)");
            println!("valid (unanchored): {statement} proof verifies against the roots it names");
        }
        FreshnessRule::History | FreshnessRule::Light => {
            for c in &verdict.checks {
                println!("{:<10} {}", c.name, c.detail);
            }
            if let Some(detail) = on_chain {
                println!("{:<10} {detail}", "chain");
            }
            println!("valid: {statement} proof verifies");
        }
    }
    Ok(())
}

/// The genesis in the document at `path`, checked under `key`.
fn read_genesis(
    path: &Path,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<medproof_ledger::entry::Genesis, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow!("cannot read the genesis {}: {e}", path.display()))?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow!("{}: not JSON: {e}", path.display()))?;
    medproof_service::wire::parse_genesis(&doc, key)
        .map_err(|e| anyhow!("{}: {e}", path.display()).into())
}

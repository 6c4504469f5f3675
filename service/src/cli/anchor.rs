//! `medproof anchor …`: the ledger's checkpoints on an EVM chain (`MedproofAnchor.sol`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy_primitives::Address;
use anyhow::{anyhow, Context};
use clap::Subcommand;
use medproof_ledger::{Ledger, RocksStore};
use medproof_service::anchor::{self, AnchorContract, AnchorMismatch};

use super::Failure;

/// The contract and the endpoint that reaches it.
#[derive(clap::Args, Clone, Debug)]
pub struct Chain {
    /// The chain's JSON-RPC endpoint (e.g. http://127.0.0.1:8545).
    #[arg(long = "rpc")]
    pub rpc: String,
    /// The address of the ledger's `MedproofAnchor` contract.
    #[arg(long = "contract")]
    pub contract: String,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create an Ethereum key (mode 0600; never over an existing file) and print its
    /// account: fund it, and deploy `MedproofAnchor.sol` with it as the ledger's account.
    Key {
        /// Where to write it.
        #[arg(long, default_value = "data/anchor.key")]
        key: PathBuf,
    },
    /// Post the ledger's checkpoints that the contract does not hold yet (each one, or
    /// every --every-th), from the ledger's Ethereum account, oldest first, and wait for
    /// each to be mined. Refuses when the chain already anchors another checkpoint at
    /// a seq of this ledger (exit 1: the ledger forked or was rolled back). With
    /// --interval, keeps doing so.
    Post {
        /// Data dir of the ledger (opened read-only: the service may be running).
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        #[command(flatten)]
        chain: Chain,
        /// The ledger's Ethereum key file (`anchor key`) [default: DATA_DIR/anchor.key].
        #[arg(long)]
        key: Option<PathBuf>,
        /// Anchor every N-th checkpoint (by its number in the ledger, 1 for the first).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
        every: u64,
        /// Post again every this many seconds, until stopped.
        #[arg(long)]
        interval: Option<u64>,
    },
    /// Show the latest anchored checkpoint and check it against the ledger: exit 1 if
    /// the chain anchors another checkpoint at that seq.
    Status {
        /// Data dir of the ledger (opened read-only).
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        #[command(flatten)]
        chain: Chain,
    },
}

fn open(data_dir: &Path) -> anyhow::Result<Ledger<RocksStore>> {
    medproof_ledger::open_dir_read_only(data_dir, None)
        .with_context(|| format!("cannot open the ledger in {}", data_dir.display()))
}

/// Checks the contract is this ledger's, and that what it anchored last is this ledger's.
/// With `poster`, the contract must also accept anchors from that account.
fn check_contract(
    ledger: &Ledger<RocksStore>,
    contract: &AnchorContract,
    poster: Option<Address>,
) -> Result<Option<u64>, Failure> {
    let (account, key) = contract.ledger()?;
    if let Some(poster) = poster.filter(|p| *p != account) {
        return Err(anyhow!(
            "the key is of {poster}, but contract {} accepts anchors only from {account}",
            contract.address()
        )
        .into());
    }
    if key != ledger.public_key().to_bytes() {
        return Err(anyhow!(
            "contract {} anchors the ledger with key {}, not this one ({})",
            contract.address(),
            hex::encode(key),
            hex::encode(ledger.public_key().to_bytes())
        )
        .into());
    }
    let latest = contract.latest_seq()?;
    if let Some(seq) = latest {
        let Some(info) = ledger.checkpoint_at(seq).map_err(anyhow::Error::from)? else {
            return Err(Failure::Invalid(format!(
                "the chain anchors a checkpoint at seq {seq}, where this ledger has none: it forked or was rolled back"
            )));
        };
        match contract.check(&info.checkpoint) {
            Ok(_) => {}
            Err(AnchorMismatch::Unreachable(e)) => return Err(anyhow!(e).into()),
            Err(e) => return Err(Failure::Invalid(e.to_string())),
        }
    }
    Ok(latest)
}

fn post_due(
    data_dir: &Path,
    contract: &AnchorContract,
    signer: &alloy_signer_local::PrivateKeySigner,
    every: u64,
) -> Result<usize, Failure> {
    let ledger = open(data_dir)?;
    let latest = check_contract(&ledger, contract, Some(signer.address()))?;
    let history: Vec<u64> = ledger
        .checkpoint_history()
        .into_iter()
        .map(|(seq, _)| seq)
        .collect();
    let due = anchor::to_post(&history, latest, every);
    for seq in &due {
        let info = ledger
            .checkpoint_at(*seq)
            .map_err(anyhow::Error::from)?
            .ok_or_else(|| anyhow!("checkpoint {seq} vanished from the ledger"))?;
        let posted = contract.post(signer, &info.checkpoint)?;
        println!(
            "anchored checkpoint {} in block {} (transaction {}, {} gas)",
            posted.seq, posted.block, posted.tx, posted.gas_used
        );
    }
    Ok(due.len())
}

/// Runs the command.
pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Key { key } => {
            let address = anchor::create_key(&key)?;
            eprintln!(
                "wrote {} (keep it as carefully as ledger.key)",
                key.display()
            );
            println!("{address}");
        }
        Command::Post {
            data_dir,
            chain,
            key,
            every,
            interval,
        } => {
            let key = key.unwrap_or_else(|| data_dir.join("anchor.key"));
            let signer = anchor::load_key(&key)?;
            let contract = AnchorContract::new(&chain.rpc, &chain.contract)?;
            loop {
                let posted = post_due(&data_dir, &contract, &signer, every)?;
                if posted == 0 && interval.is_none() {
                    println!(
                        "nothing to anchor: the chain holds the ledger's latest due checkpoint"
                    );
                }
                match interval {
                    Some(secs) => std::thread::sleep(Duration::from_secs(secs.max(1))),
                    None => break,
                }
            }
        }
        Command::Status { data_dir, chain } => {
            let ledger = open(&data_dir)?;
            let contract = AnchorContract::new(&chain.rpc, &chain.contract)?;
            match check_contract(&ledger, &contract, None)? {
                None => println!("nothing anchored yet"),
                Some(seq) => {
                    let at = contract
                        .anchored(seq)?
                        .map(|a| a.anchored_at)
                        .unwrap_or_default();
                    let behind = ledger
                        .checkpoint_history()
                        .iter()
                        .filter(|(s, _)| *s > seq)
                        .count();
                    println!(
                        "latest anchored checkpoint: seq {seq}, block time {at}, matches this ledger; {behind} later checkpoints not anchored"
                    );
                }
            }
        }
    }
    Ok(())
}

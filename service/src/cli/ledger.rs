//! `medproof ledger …`: inspect and verify the ledger.

use std::fs;
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use clap::Subcommand;
use medproof_service::{ledger_cli, wire};

use super::{print_json, Failure};

#[derive(Subcommand)]
pub enum Command {
    /// Re-walk the chain, recompute every root, check every signature and checkpoint:
    /// exit 0 OK, 1 the first bad seq and why.
    Verify {
        /// Data dir holding the ledger.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// The trusted ledger public key, hex (default: DATA_DIR/ledger.pub).
        #[arg(long)]
        ledger_key: Option<String>,
        /// A checkpoint you saw before, `SEQ:CHAIN_HEAD`: fail unless the ledger still
        /// holds it and extends it (no rollback, no fork).
        #[arg(long)]
        since: Option<ledger_cli::Since>,
    },
    /// Sign a heartbeat checkpoint if the latest one is older than --max-age, so that
    /// verifiers without the ledger database find a fresh one (run it at least every
    /// half freshness window while the ledger is quiet).
    Heartbeat {
        /// Data dir holding the ledger and its key.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Sign only if the latest checkpoint is at least this old, in seconds.
        #[arg(long, default_value_t = medproof_verifier::freshness::DEFAULT_WINDOW_SECS / 2)]
        max_age: u64,
    },
    /// Check a receipt (a signed checkpoint, e.g. the one a revocation returned) against
    /// the ledger: exit 0 if the ledger still holds it and extends it, 1 if it was rolled
    /// back or signed another checkpoint at that seq (equivocation).
    CheckReceipt {
        /// The receipt: a checkpoint as JSON (bare, or under "checkpoint").
        receipt: PathBuf,
        /// Data dir holding the ledger.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// The trusted ledger public key, hex (default: DATA_DIR/ledger.pub).
        #[arg(long)]
        ledger_key: Option<String>,
    },
    /// Show the latest checkpoint, or the checkpoint entry at --seq.
    Checkpoint {
        /// Data dir holding the ledger.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Sequence number of a checkpoint entry.
        #[arg(long)]
        seq: Option<u64>,
    },
    /// Show the entry at SEQ.
    Entry {
        /// Sequence number.
        seq: u64,
        /// Data dir holding the ledger.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
    },
    /// The transparency log: its name (origin), note verifier key and latest C2SP
    /// checkpoint; with --out, the log as the files a static web server serves
    /// (`checkpoint`, `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`).
    Log {
        /// Data dir holding the ledger.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Write the checkpoint and every tile under this directory.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The RFC 6962 proof that the entry at SEQ is in the log's tree (of all entries, or
    /// of the first --size), checked before it is printed.
    ProveInclusion {
        /// The entry's sequence number.
        seq: u64,
        /// Entries in the tree [default: all].
        #[arg(long)]
        size: Option<u64>,
        /// Data dir holding the ledger.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
    },
    /// Check that the log's checkpoint NEW extends its checkpoint OLD (each a C2SP
    /// checkpoint file, a signed note as `GET /checkpoint` serves it, or `latest`):
    /// prints the consistency proof; exit 1 if either is not signed by this log, or this
    /// ledger does not hold both trees (a fork, a rollback, a changed entry).
    Consistency {
        /// The older checkpoint.
        old: String,
        /// The newer checkpoint [default: latest].
        #[arg(default_value = "latest")]
        new: String,
        /// Data dir holding the ledger.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// The trusted ledger public key, hex (default: DATA_DIR/ledger.pub).
        #[arg(long)]
        ledger_key: Option<String>,
    },
    /// Add to a proof bundle its place in the transparency log: the C2SP checkpoint
    /// COSIGNED (a signed note with witnesses' cosignatures, e.g. a witness's
    /// DIR/checkpoint) and the inclusion proof of the bundle's checkpoint entry in it,
    /// for verifiers that require witnesses (`verify --witness`).
    LogProof {
        /// The bundle (JSON).
        bundle: PathBuf,
        /// The cosigned checkpoint file.
        #[arg(long)]
        cosigned: PathBuf,
        /// Write the bundle here [default: print it].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Data dir holding the ledger.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
    },
    /// Show where a commitment is, with its Merkle path and the current root.
    Path {
        /// The commitment, decimal.
        commitment: String,
        /// Data dir holding the ledger.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
    },
}

/// Runs the command.
pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Verify {
            data_dir,
            ledger_key,
            since,
        } => match ledger_cli::verify_dir(&data_dir, ledger_key.as_deref(), since)? {
            Ok(r) => {
                println!(
                    "OK: {} entries, {} checkpoints, {} records, {} consents, chain head {}",
                    r.entries,
                    r.checkpoints,
                    r.records,
                    r.consents,
                    hex::encode(r.chain_head)
                );
                if let Some(seq) = r.entries.checked_sub(1) {
                    println!(
                        "keep for next time: --since {seq}:{}",
                        hex::encode(r.last_checkpoint_head)
                    );
                }
                Ok(())
            }
            Err(e) => Err(Failure::Invalid(format!(
                "ledger verification failed at {e}"
            ))),
        },
        Command::Heartbeat { data_dir, max_age } => {
            let mut ledger = ledger_cli::open_writable(&data_dir)?;
            match ledger
                .heartbeat_if_older(max_age)
                .map_err(anyhow::Error::from)?
            {
                Some(cp) => println!("signed heartbeat checkpoint {} at time {}", cp.seq, cp.time),
                None => {
                    println!("the latest checkpoint is younger than {max_age} s: nothing to sign")
                }
            }
            Ok(())
        }
        Command::CheckReceipt {
            receipt,
            data_dir,
            ledger_key,
        } => {
            let text = fs::read_to_string(&receipt)
                .with_context(|| format!("cannot read {}", receipt.display()))?;
            let checkpoint =
                ledger_cli::parse_receipt(&text).with_context(|| receipt.display().to_string())?;
            let ledger = ledger_cli::open_existing(&data_dir, ledger_key.as_deref())?;
            let key = ledger.public_key();
            checkpoint.verify(&key).map_err(|e| {
                anyhow!(
                    "{}: {e}: it is not a receipt of this ledger",
                    receipt.display()
                )
            })?;
            let c = ledger
                .extends_checkpoint(&checkpoint, &key)
                .map_err(anyhow::Error::from)?;
            match ledger_cli::continuity_problem(&c, checkpoint.seq, true) {
                None => {
                    println!(
                        "OK: the ledger holds checkpoint {} of the receipt and extends it ({} entries)",
                        checkpoint.seq,
                        ledger.len()
                    );
                    Ok(())
                }
                Some(reason) => Err(Failure::Invalid(reason)),
            }
        }
        Command::Checkpoint { data_dir, seq } => {
            let ledger = ledger_cli::open_existing(&data_dir, None)?;
            let info = match seq {
                Some(s) => ledger
                    .checkpoint_at(s)
                    .map_err(anyhow::Error::from)?
                    .ok_or_else(|| anyhow!("entry {s} is not a checkpoint"))?,
                None => ledger
                    .latest_checkpoint()
                    .map_err(anyhow::Error::from)?
                    .ok_or_else(|| anyhow!("the ledger has no checkpoint yet"))?,
            };
            print_json(&wire::checkpoint_json(&info))
        }
        Command::Entry { seq, data_dir } => {
            let ledger = ledger_cli::open_existing(&data_dir, None)?;
            let entry = ledger
                .entry(seq)
                .map_err(anyhow::Error::from)?
                .ok_or_else(|| anyhow!("no entry {seq} (the ledger has {})", ledger.len()))?;
            print_json(&wire::entry_json(&entry))
        }
        Command::Log { data_dir, out } => {
            let ledger = ledger_cli::open_existing(&data_dir, None)?;
            let cosigned = medproof_service::api::cosign::Cosigned::load(&data_dir, &ledger)
                .latest()
                .is_some();
            let info = wire::log_info(&ledger, cosigned).map_err(anyhow::Error::from)?;
            if let Some(out) = out {
                let files = ledger_cli::export_log(&ledger, &out)?;
                eprintln!(
                    "wrote the checkpoint and {files} tiles of {} entries under {}",
                    info.size,
                    out.display()
                );
            }
            print_json(&info)
        }
        Command::ProveInclusion {
            seq,
            size,
            data_dir,
        } => {
            let ledger = ledger_cli::open_existing(&data_dir, None)?;
            let size = size.unwrap_or(ledger.len());
            let proof = wire::inclusion_json(&ledger, seq, size).map_err(anyhow::Error::from)?;
            ledger_cli::check_inclusion(&proof)?;
            print_json(&proof)
        }
        Command::Consistency {
            old,
            new,
            data_dir,
            ledger_key,
        } => {
            let ledger = ledger_cli::open_existing(&data_dir, ledger_key.as_deref())?;
            match ledger_cli::consistency(&ledger, &old, &new)? {
                Ok(proof) => print_json(&proof),
                Err(reason) => Err(Failure::Invalid(reason)),
            }
        }
        Command::LogProof {
            bundle,
            cosigned,
            out,
            data_dir,
        } => {
            let ledger = ledger_cli::open_existing(&data_dir, None)?;
            let mut b = super::read_bundle(&bundle)?;
            let note = fs::read(&cosigned)
                .with_context(|| format!("cannot read {}", cosigned.display()))?;
            match ledger_cli::log_proof(&ledger, &b, &note)? {
                Ok(log) => b.log = Some(log),
                Err(reason) => return Err(Failure::Invalid(reason)),
            }
            let json = b.to_json();
            match out {
                Some(path) => medproof_service::write_file_atomic(&path, json.as_bytes())?,
                None => println!("{json}"),
            }
            Ok(())
        }
        Command::Path {
            commitment,
            data_dir,
        } => {
            let ledger = ledger_cli::open_existing(&data_dir, None)?;
            let c = wire::field("commitment", &commitment).map_err(anyhow::Error::from)?;
            let doc = wire::path_json(&ledger, &c)
                .map_err(anyhow::Error::from)?
                .ok_or_else(|| anyhow!("commitment is not on the ledger"))?;
            print_json(&doc)
        }
    }
}

//! `medproof client …`: drive a running service from a shell. Output is the service's
//! JSON document, pretty-printed. Exit codes as `verify`: 0 done (valid), 1 refused by
//! the ledger or not valid (the error code and reason on stderr), 2 anything else.

use std::fs;
use std::path::PathBuf;

use anyhow::{anyhow, Context, Result};
use clap::Subcommand;
use medproof_ledger::{keyfile, Submission};
use medproof_service::client::{Client, Reply};
use medproof_service::wire::ActionJson;
use medproof_verifier::ProofBundle;
use serde_json::{json, Value};

use crate::Failure;

/// Flags shared by every client command.
#[derive(clap::Args)]
pub struct Args {
    /// The service's base URL.
    #[arg(long, env = "MEDPROOF_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// For an `https` server: trust only the PEM certificates in this file (its
    /// self-signed certificate, or a private authority) instead of the public ones.
    #[arg(long, env = "MEDPROOF_CA_CERT")]
    ca_cert: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The ledger's id, public key, length and registrars.
    Info,
    /// Create an Ed25519 key file (mode 0600) with its public half beside it.
    Keygen {
        /// The key file to create.
        out: PathBuf,
    },
    /// Sign an action with a key file and submit it.
    ///
    /// ACTION is JSON, e.g. '{"type":"register-key","role":"patient"}',
    /// '{"type":"commit-record","commitment":"123"}',
    /// '{"type":"admit-key","key":"<hex>","role":"provider"}',
    /// '{"type":"revoke-consent","consent_index":0}'.
    Submit {
        /// The signer's key file.
        #[arg(long)]
        key: PathBuf,
        /// The action, as JSON.
        action: String,
        /// Seconds the signed submission stays valid.
        #[arg(long, default_value_t = 600)]
        valid_for: u64,
    },
    /// Log an access with its proof bundle, signed by the provider that made it: the
    /// nonce is the challenge the proof answers (`party access` printed it).
    LogAccess {
        /// The provider's key file.
        #[arg(long)]
        key: PathBuf,
        /// The access proof bundle.
        #[arg(long)]
        bundle: PathBuf,
        /// The nonce, decimal.
        #[arg(long)]
        nonce: String,
    },
    /// Show the entry at SEQ.
    Entry {
        /// Sequence number.
        seq: u64,
    },
    /// Show the latest checkpoint, or the checkpoint entry at --seq.
    Checkpoint {
        /// A checkpoint entry's seq.
        #[arg(long)]
        seq: Option<u64>,
    },
    /// Show a commitment's Merkle path with the checkpoint it is against.
    Path {
        /// The commitment, decimal.
        commitment: String,
    },
    /// Ask the service to verify a bundle against its ledger: exit 0 valid, 1 not.
    Verify {
        /// The bundle (JSON).
        bundle: PathBuf,
        /// The binding the proof must answer (decimal).
        #[arg(long)]
        expect_binding: Option<String>,
    },
    /// Prove a statement on the service's prover from a party's openings, and wait
    /// for the bundle. STATEMENT is record-inclusion (the input of `prove
    /// record-inclusion`, without `leaves`), access or claim (signed by the provider
    /// the input names).
    Prove {
        /// record-inclusion, access or claim.
        #[arg(value_parser = ["record-inclusion", "access", "claim"])]
        statement: String,
        /// The key file to sign the request with (the job is readable by it only).
        #[arg(long)]
        key: PathBuf,
        /// The input JSON.
        #[arg(long)]
        input: PathBuf,
        /// Where to write the bundle (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Audit a period of the ledger (at most 4,096 entries): exit 0 passed, 1 not.
    Audit {
        /// First entry of the period.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// One past the last entry (default: 4,096 past FROM, or the end).
        #[arg(long)]
        to: Option<u64>,
    },
    /// A patient's access history: who accessed the named records, when, and for what
    /// (a signed request by the patient's key).
    History {
        /// The patient's key file.
        #[arg(long)]
        key: PathBuf,
        /// Record commitments (decimal), from the openings the patient's providers gave.
        #[arg(required = true, num_args = 1..)]
        records: Vec<String>,
    },
}

fn print(v: &Value) -> Result<(), Failure> {
    println!(
        "{}",
        serde_json::to_string_pretty(v).map_err(anyhow::Error::from)?
    );
    Ok(())
}

/// A 2xx is printed; a refusal (4xx with a code) exits 1; anything else 2.
fn answer(r: Reply) -> Result<(), Failure> {
    if (200..300).contains(&r.status) {
        if let Some(l) = &r.location {
            eprintln!("location: {l}");
        }
        return print(&r.body);
    }
    match (r.status, r.error()) {
        (400..=499, Some(e)) => {
            let at = r
                .location
                .map(|l| format!(" (existing: {l})"))
                .unwrap_or_default();
            Err(Failure::Invalid(format!(
                "{} {}: {}{at}",
                r.status, e.error_code, e.error_message
            )))
        }
        _ => Err(anyhow!("HTTP {}: {}", r.status, r.body).into()),
    }
}

fn read(path: &PathBuf) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Runs a client command.
pub fn run(args: Args) -> Result<(), Failure> {
    let c = match &args.ca_cert {
        Some(path) => Client::with_ca(
            &args.server,
            &fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        )?,
        None => Client::new(&args.server),
    };
    match args.command {
        Command::Info => answer(c.get("/v1/ledger")?),
        Command::Keygen { out } => {
            if out.exists() {
                return Err(anyhow!("{} exists: not overwriting a key", out.display()).into());
            }
            let (key, _) = keyfile::load_or_create(&out).map_err(anyhow::Error::from)?;
            print(&json!({
                "key_file": out.display().to_string(),
                "public_key": hex::encode(key.verifying_key().to_bytes()),
            }))
        }
        Command::Submit {
            key,
            action,
            valid_for,
        } => {
            let signer = keyfile::load(&key).map_err(anyhow::Error::from)?;
            let action: ActionJson = serde_json::from_str(&action).context("ACTION")?;
            let action = action.parse().map_err(anyhow::Error::from)?;
            let envelope = c.envelope(valid_for)?;
            answer(c.submit(&Submission::sign(action, &signer, envelope))?)
        }
        Command::LogAccess { key, bundle, nonce } => {
            let signer = keyfile::load(&key).map_err(anyhow::Error::from)?;
            let bundle = ProofBundle::from_json(&read(&bundle)?).map_err(anyhow::Error::from)?;
            let action = medproof_ledger::Action::LogAccess {
                bundle: bundle.to_json().into_bytes(),
                nonce: medproof_verifier::fr_from_decimal(&nonce)
                    .map_err(|e| anyhow!("--nonce: {e}"))?,
            };
            answer(c.submit(&Submission::sign(action, &signer, c.envelope(600)?))?)
        }
        Command::Entry { seq } => answer(c.get(&format!("/v1/entries/{seq}"))?),
        Command::Checkpoint { seq } => answer(c.get(&match seq {
            Some(s) => format!("/v1/checkpoints/{s}"),
            None => "/v1/checkpoints/latest".into(),
        })?),
        Command::Path { commitment } => answer(c.get(&format!("/v1/paths/{commitment}"))?),
        Command::Verify {
            bundle,
            expect_binding,
        } => {
            let bundle = ProofBundle::from_json(&read(&bundle)?).map_err(anyhow::Error::from)?;
            let r = c.post(
                "/v1/verify",
                &json!({ "bundle": bundle, "expect_binding": expect_binding }),
            )?;
            let verdict = r.ok()?;
            for check in verdict["checks"].as_array().into_iter().flatten() {
                println!(
                    "{:<10} {} {}",
                    check["name"].as_str().unwrap_or("?"),
                    if check["passed"] == true {
                        "ok  "
                    } else {
                        "FAIL"
                    },
                    check["detail"].as_str().unwrap_or("")
                );
            }
            match verdict["valid"] == true {
                true => Ok(()),
                false => Err(Failure::Invalid(
                    "the service found the bundle not valid".into(),
                )),
            }
        }
        Command::Prove {
            statement,
            key,
            input,
            out,
        } => {
            let key = keyfile::load(&key).map_err(anyhow::Error::from)?;
            let input: Value = serde_json::from_str(&read(&input)?).context("input")?;
            let r = c.signed_post(&format!("/v1/proofs/{statement}"), &input, &key)?;
            if r.status != 202 {
                return answer(r);
            }
            let location = r
                .location
                .ok_or_else(|| anyhow!("the service gave no job location"))?;
            let job = c.wait_job(&location, &key, std::time::Duration::from_secs(600))?;
            if job["status"] != "done" {
                return Err(anyhow!("the proof job failed: {}", job["error"]).into());
            }
            let bundle =
                serde_json::to_string_pretty(&job["bundle"]).map_err(anyhow::Error::from)?;
            match out {
                Some(p) => fs::write(&p, bundle + "\n")
                    .with_context(|| format!("cannot write {}", p.display()))?,
                None => println!("{bundle}"),
            }
            Ok(())
        }
        Command::Audit { from, to } => {
            let query = match to {
                Some(to) => format!("/v1/audit?from={from}&to={to}"),
                None => format!("/v1/audit?from={from}"),
            };
            let report = c.get(&query)?;
            if !(200..300).contains(&report.status) {
                return answer(report);
            }
            let passed = report.body["passed"] == true;
            print(&report.body)?;
            match passed {
                true => Ok(()),
                false => Err(Failure::Invalid("the period did not pass the audit".into())),
            }
        }
        Command::History { key, records } => {
            let key = keyfile::load(&key).map_err(anyhow::Error::from)?;
            answer(c.signed_post("/v1/history", &json!({ "records": records }), &key)?)
        }
    }
}

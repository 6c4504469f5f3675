//! The `medproof` command line.
//!
//! Exit codes: 0 success (for `verify`: the proof is valid); 1 the proof does not verify
//! (or the demo found an invalid proof, or the audit failed); 2 malformed input, missing or damaged keys, or
//! any other error, with a one-line reason on stderr.

mod cli;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand};
use medproof_ledger::audit::{audit, AuditOptions};
use medproof_params::LoadOptions;
use medproof_prover::{ProofRequest, Prover};
use medproof_service::demo::{self, DemoOptions};
use medproof_service::input::RecordInclusionInput;
use medproof_service::verify::{verify_bundle, Anchor, FreshnessRule};
use medproof_service::{keys_dir, ledger_cli, snarkjs, wire};
use medproof_verifier::bundle::Verifier;
use medproof_verifier::freshness::Freshness;
use medproof_verifier::groth16::PreparedVerifyingKey;
use medproof_verifier::{fr_from_decimal, fr_to_decimal, ProofBundle, Statement};

#[derive(Parser)]
#[command(
    name = "medproof",
    version,
    about = "Zero-knowledge audit and access proofs for health data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate Groth16 keys for every statement (fresh OS randomness).
    Setup {
        /// Data dir; keys go to DATA_DIR/keys.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Replace existing keys (proofs made with the old keys stop verifying).
        #[arg(long)]
        force: bool,
    },
    /// Prove a statement.
    Prove {
        #[command(subcommand)]
        statement: ProveCommand,
    },
    /// Verify a proof bundle: exit 0 valid, 1 not valid (with the reason), 2 malformed.
    ///
    /// Fails closed: the bundle must carry a checkpoint signed by the trusted ledger key
    /// (DATA_DIR/ledger.pub, or --ledger-key) whose root is the proof's, and its freshness
    /// is always judged against this machine's clock: with the ledger database in
    /// DATA_DIR, the root must be the latest or superseded less than the window ago; without
    /// it, the checkpoint itself must be younger than the window. A proof's `now` must be
    /// within the skew.
    Verify {
        /// The bundle (JSON).
        bundle: PathBuf,
        /// Data dir holding the verifying keys (and, if present, the ledger).
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// The trusted ledger public key, hex (default: DATA_DIR/ledger.pub).
        #[arg(long)]
        ledger_key: Option<String>,
        /// Check the proof alone when the bundle carries no checkpoint: its root is then
        /// whatever the prover chose. For those who know what they are doing.
        #[arg(long)]
        allow_unanchored: bool,
        /// The binding the proof must answer (decimal): the challenge this verifier
        /// issued for record inclusion and claims, the request binding it computed for
        /// access (provider, record, time and its nonce). Another binding is not valid.
        #[arg(long)]
        expect_binding: Option<String>,
        #[command(flatten)]
        freshness: FreshnessArgs,
    },
    /// Audit a period of the access log: the chain between two signed checkpoints, and
    /// every access entry's proof (batch-verified, fresh at the entry's time). Exit 0
    /// passed, 1 anything failed.
    Audit {
        /// Data dir holding the ledger and the keys.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// First entry of the period (default: the first).
        #[arg(long)]
        from: Option<u64>,
        /// One past the last entry of the period (default: the ledger's length).
        #[arg(long)]
        to: Option<u64>,
        /// Write the JSON report here.
        #[arg(long)]
        report: Option<PathBuf>,
        /// The trusted ledger public key, hex (default: DATA_DIR/ledger.pub).
        #[arg(long)]
        ledger_key: Option<String>,
        /// A checkpoint you saw before, `SEQ:CHAIN_HEAD`: the audit fails unless the
        /// ledger still holds it and extends it (no rollback, no fork).
        #[arg(long)]
        since: Option<ledger_cli::Since>,
        #[command(flatten)]
        freshness: FreshnessArgs,
    },
    /// Inspect and verify the ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Export a bundle for other tools.
    Export {
        #[command(subcommand)]
        format: ExportCommand,
    },
    /// Compute hashes the way medproof does.
    Hash {
        #[command(subcommand)]
        hash: HashCommand,
    },
    /// Serve the HTTP API over the ledger in a data dir (keys and ledger created on
    /// first start).
    Serve(cli::serve::Args),
    /// Drive a running service from a shell.
    Client(cli::client::Args),
    /// Run the record-inclusion story end to end on synthetic data.
    Demo {
        /// Data dir; keys are generated in DATA_DIR/keys if missing.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Where bundles are written.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Synthetic records to commit.
        #[arg(long, default_value_t = 16)]
        records: usize,
        /// Inclusion proofs to make, in parallel.
        #[arg(long, default_value_t = 8)]
        proofs: usize,
        /// Prover threads (0: one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
}

/// The freshness rules, in seconds.
#[derive(clap::Args, Clone, Copy)]
struct FreshnessArgs {
    /// Accept a root until this long after it was superseded.
    #[arg(long, default_value_t = medproof_verifier::freshness::DEFAULT_WINDOW_SECS)]
    window: u64,
    /// Accept a proof's `now` this far from the verifier's time.
    #[arg(long, default_value_t = medproof_verifier::freshness::DEFAULT_SKEW_SECS)]
    skew: u64,
}

impl FreshnessArgs {
    fn rules(self) -> Freshness {
        Freshness {
            window_secs: self.window,
            skew_secs: self.skew,
        }
    }
}

#[derive(Subcommand)]
enum LedgerCommand {
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
    /// Show where a commitment is, with its Merkle path and the current root.
    Path {
        /// The commitment, decimal.
        commitment: String,
        /// Data dir holding the ledger.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum ProveCommand {
    /// Prove that a record is in the records tree (see the README for the input).
    RecordInclusion {
        /// Data dir holding the keys.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// The input JSON.
        #[arg(long)]
        input: PathBuf,
        /// Where to write the bundle (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
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
}

#[derive(Subcommand)]
enum HashCommand {
    /// circomlib's Poseidon of 1 to 16 decimal field elements.
    Poseidon {
        /// Inputs, canonical decimal.
        #[arg(required = true, num_args = 1..)]
        inputs: Vec<String>,
    },
}

/// How a command ended, when not in success.
pub(crate) enum Failure {
    /// The proof (or a demo proof) does not verify: exit 1.
    Invalid(String),
    /// Anything else: exit 2.
    Error(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Error(e)
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Invalid(msg)) => {
            eprintln!("invalid: {msg}");
            ExitCode::from(1)
        }
        Err(Failure::Error(e)) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, skipping a cause whose text the message
/// before it already includes.
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string().replace('\n', " ");
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

fn read_bundle(path: &Path) -> Result<ProofBundle> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    ProofBundle::from_json(&text).with_context(|| path.display().to_string())
}

/// A verifier with the data dir's (integrity-checked) verifying key for `statement`.
fn verifier_for(data_dir: &Path, statement: Statement) -> Result<Verifier> {
    let vk = medproof_params::load_verifying_key(
        &keys_dir(data_dir),
        statement,
        LoadOptions::default(),
    )?;
    let mut verifier = Verifier::new();
    verifier.insert(statement, PreparedVerifyingKey::new(vk)?)?;
    Ok(verifier)
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Setup { data_dir, force } => {
            let dir = keys_dir(&data_dir);
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
            Ok(())
        }
        Command::Prove {
            statement:
                ProveCommand::RecordInclusion {
                    data_dir,
                    input,
                    out,
                },
        } => {
            let text = fs::read_to_string(&input)
                .with_context(|| format!("cannot read {}", input.display()))?;
            let input = RecordInclusionInput::from_json(&text)?;
            let ledger = if input.has_leaves() {
                None
            } else {
                Some(ledger_cli::open_existing(&data_dir, None)?)
            };
            let (request, checkpoint) = input.to_request(ledger.as_ref())?;
            drop(ledger);
            let keys = medproof_params::load(
                &keys_dir(&data_dir),
                Statement::RecordInclusion,
                LoadOptions::default(),
            )
            .map_err(anyhow::Error::from)?;
            let prover = Prover::new([keys], 0).map_err(anyhow::Error::from)?;
            let mut bundle = prover
                .prove(&ProofRequest::RecordInclusion(request))
                .map_err(anyhow::Error::from)?;
            if let Some(cp) = &checkpoint {
                bundle = bundle.with_checkpoint(cp);
            }
            match out {
                Some(path) => fs::write(&path, bundle.to_json())
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => println!("{}", bundle.to_json()),
            }
            Ok(())
        }
        Command::Verify {
            bundle,
            data_dir,
            ledger_key,
            allow_unanchored,
            expect_binding,
            freshness,
        } => verify_command(
            &bundle,
            &data_dir,
            ledger_key.as_deref(),
            allow_unanchored,
            expect_binding.as_deref(),
            freshness,
        ),
        Command::Audit {
            data_dir,
            from,
            to,
            report,
            ledger_key,
            since,
            freshness,
        } => {
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
        Command::Ledger { command } => ledger_command(command),
        Command::Serve(args) => Ok(cli::serve::run(args)?),
        Command::Client(args) => cli::client::run(args),
        Command::Export {
            format:
                ExportCommand::Snarkjs {
                    bundle,
                    data_dir,
                    out,
                },
        } => {
            let bundle = read_bundle(&bundle)?;
            let decoded = bundle.decode().map_err(anyhow::Error::from)?;
            let vk = medproof_params::load_verifying_key(
                &keys_dir(&data_dir),
                decoded.statement,
                LoadOptions::default(),
            )
            .map_err(anyhow::Error::from)?;
            if vk.id() != decoded.vk_id {
                return Err(anyhow!(
                    "bundle was made for verifying key {}, but {} holds {}",
                    decoded.vk_id,
                    data_dir.display(),
                    vk.id()
                )
                .into());
            }
            snarkjs::export(&vk, &decoded, &out)?;
            println!(
                "wrote verification_key.json, proof.json, public.json to {}",
                out.display()
            );
            Ok(())
        }
        Command::Hash {
            hash: HashCommand::Poseidon { inputs },
        } => {
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
        Command::Demo {
            data_dir,
            out,
            records,
            proofs,
            threads,
        } => {
            let report = demo::run(&DemoOptions {
                data_dir,
                out,
                records,
                proofs,
                threads,
            })?;
            if report.all_valid {
                Ok(())
            } else {
                Err(Failure::Invalid("a demo proof did not verify".into()))
            }
        }
    }
}

/// `medproof verify`: fails closed (see the command's help).
fn verify_command(
    path: &Path,
    data_dir: &Path,
    ledger_key: Option<&str>,
    allow_unanchored: bool,
    expect_binding: Option<&str>,
    freshness: FreshnessArgs,
) -> Result<(), Failure> {
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
    let anchor = Anchor {
        key,
        ledger: ledger.as_ref(),
        rules: freshness.rules(),
        now: medproof_ledger::Clock::now(&medproof_ledger::SystemClock),
        expect_binding,
        allow_unanchored,
    };
    let verdict = verify_bundle(&verifier, &bundle, &anchor).map_err(anyhow::Error::from)?;
    if !verdict.valid {
        return Err(Failure::Invalid(
            verdict.reason().unwrap_or("not valid").to_string(),
        ));
    }
    match verdict.freshness {
        FreshnessRule::Unanchored => {
            eprintln!("warning: no ledger checkpoint: the proof's root was NOT checked against any ledger (--allow-unanchored)");
            println!("valid (unanchored): {statement} proof verifies against the roots it names");
        }
        FreshnessRule::History | FreshnessRule::Light => {
            for c in &verdict.checks {
                println!("{:<10} {}", c.name, c.detail);
            }
            println!("valid: {statement} proof verifies");
        }
    }
    Ok(())
}

fn print_json(v: &serde_json::Value) -> Result<(), Failure> {
    println!(
        "{}",
        serde_json::to_string_pretty(v).map_err(anyhow::Error::from)?
    );
    Ok(())
}

fn ledger_command(command: LedgerCommand) -> Result<(), Failure> {
    match command {
        LedgerCommand::Verify {
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
        LedgerCommand::Heartbeat { data_dir, max_age } => {
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
        LedgerCommand::CheckReceipt {
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
        LedgerCommand::Checkpoint { data_dir, seq } => {
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
        LedgerCommand::Entry { seq, data_dir } => {
            let ledger = ledger_cli::open_existing(&data_dir, None)?;
            let entry = ledger
                .entry(seq)
                .map_err(anyhow::Error::from)?
                .ok_or_else(|| anyhow!("no entry {seq} (the ledger has {})", ledger.len()))?;
            print_json(&wire::entry_json(&entry))
        }
        LedgerCommand::Path {
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

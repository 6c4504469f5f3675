//! The `medproof` command line.
//!
//! Exit codes: 0 success (for `verify`: the proof is valid); 1 the proof does not verify
//! (or the demo found an invalid proof, or the audit failed); 2 malformed input, missing or damaged keys, or
//! any other error, with a one-line reason on stderr.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cli::Failure;

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
    /// Generate Groth16 keys for every statement from one party's randomness (for
    /// development: a deployment holds a ceremony).
    Setup(cli::setup::Args),
    /// Prove a statement.
    Prove {
        #[command(subcommand)]
        statement: cli::prove::Command,
    },
    /// Verify a proof bundle: exit 0 valid, 1 not valid (with the reason), 2 malformed.
    ///
    /// Fails closed: the bundle must carry a checkpoint signed by the trusted ledger key
    /// (DATA_DIR/ledger.pub, or --ledger-key) whose root is the proof's, and its freshness
    /// is always judged against this machine's clock: with the ledger database in
    /// DATA_DIR, the root must be the latest or superseded less than the window ago; without
    /// it, the checkpoint itself must be younger than the window. A proof's `now` must be
    /// within the skew.
    Verify(cli::verify::Args),
    /// Audit a period of the access log: the chain between two signed checkpoints, and
    /// every access entry's proof (batch-verified, fresh at the entry's time). Exit 0
    /// passed, 1 anything failed.
    Audit(cli::audit::Args),
    /// Inspect and verify the ledger.
    Ledger {
        #[command(subcommand)]
        command: cli::ledger::Command,
    },
    /// Export keys and bundles for other tools (snarkjs, Solidity verifiers on an EVM).
    Export {
        #[command(subcommand)]
        format: cli::export::Command,
    },
    /// Anchor the ledger's checkpoints on an EVM chain (`MedproofAnchor.sol`, written by
    /// `export solidity`), and check what the chain holds.
    Anchor {
        #[command(subcommand)]
        command: cli::anchor::Command,
    },
    /// Compute hashes the way medproof does.
    Hash {
        #[command(subcommand)]
        hash: cli::hash::Command,
    },
    /// Serve the HTTP API over the ledger in a data dir (keys and ledger created on
    /// first start).
    Serve(cli::serve::Args),
    /// Drive a running service from a shell.
    Client(cli::client::Args),
    /// A multi-party setup ceremony in snarkjs's formats: .r1cs out, .ptau checked,
    /// phase 2 started, contributed to, closed by a beacon, verified, and imported.
    Ceremony {
        #[command(subcommand)]
        command: cli::ceremony::Command,
    },
    /// Make a party's openings on its own machine (only commitments go to the ledger).
    Party {
        #[command(subcommand)]
        command: cli::party::Command,
    },
    /// Run medproof's four stories end to end on synthetic data.
    Demo(cli::demo::Args),
    /// Witness a ledger's transparency log: cosign its checkpoints only while each
    /// extends the last (C2SP tlog-witness), and keep the evidence when one does not.
    Witness {
        #[command(subcommand)]
        command: cli::witness::Command,
    },
}

fn main() -> ExitCode {
    medproof_service::logging::init();
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

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Setup(args) => cli::setup::run(args),
        Command::Prove { statement } => cli::prove::run(statement),
        Command::Verify(args) => cli::verify::run(args),
        Command::Audit(args) => cli::audit::run(args),
        Command::Ledger { command } => cli::ledger::run(command),
        Command::Export { format } => cli::export::run(format),
        Command::Anchor { command } => cli::anchor::run(command),
        Command::Hash { hash } => cli::hash::run(hash),
        Command::Serve(args) => Ok(cli::serve::run(args)?),
        Command::Client(args) => cli::client::run(args),
        Command::Party { command } => cli::party::run(command),
        Command::Ceremony { command } => cli::ceremony::run(command),
        Command::Demo(args) => cli::demo::run(args),
        Command::Witness { command } => cli::witness::run(command),
    }
}

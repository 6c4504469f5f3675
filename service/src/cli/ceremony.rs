//! `medproof ceremony …`: the files a multi-party setup works on, in the formats of the
//! circom tools (snarkjs) so that a ceremony can be held and checked with them.

use std::fs;
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use clap::Subcommand;
use medproof_circuits::statement_shape;
use medproof_params::circom;
use medproof_params::ptau as circom_ptau;
use medproof_prover::ProofRequest;
use medproof_service::input::RecordInclusionInput;
use medproof_service::ledger_cli;
use medproof_verifier::Statement;

use super::Failure;

#[derive(Subcommand)]
pub enum Command {
    /// Check a phase-1 `.ptau` (snarkjs's format): every point on the curve and in its
    /// subgroup, and the points powers of one secret τ (with α and β) by pairings.
    /// Exit 0 if it holds, 1 if not (the section named), 2 if unreadable.
    CheckPtau {
        /// The `.ptau` file.
        ptau: PathBuf,
        /// Read and check only the powers up to 2^POWER (a large ceremony file serves a
        /// statement from its first powers) [default: all the file holds].
        #[arg(long)]
        power: Option<u32>,
    },
    /// Write a statement's constraint system as circom's binary `.r1cs` (wire 0 the
    /// constant 1, then the public inputs in the bundle's order, then the witness: the
    /// order the keys use), for `snarkjs r1cs info` and a snarkjs phase 2.
    R1cs {
        /// record-inclusion, access-authorization or claim-compliance.
        #[arg(long)]
        statement: String,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the full assignment of a record-inclusion input as snarkjs's `.wtns`, so
    /// that `snarkjs wtns check` can check it against the exported `.r1cs`. The file
    /// holds the record's opening: keep it private.
    Witness {
        /// Data dir with the ledger (for an input without `leaves`).
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// A record-inclusion input (as for `prove record-inclusion`).
        #[arg(long)]
        input: PathBuf,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

fn statement(name: &str) -> anyhow::Result<Statement> {
    Statement::from_name(name).ok_or_else(|| {
        anyhow!(
            "no statement {name:?}: one of {}",
            Statement::ALL
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Runs the command.
pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::CheckPtau { ptau, power } => {
            let p = match circom_ptau::read_ptau_file(&ptau, power) {
                Ok(p) => p,
                Err(e @ circom_ptau::PtauError::Unreadable(_)) => return Err(anyhow!("{e}").into()),
                Err(e @ circom_ptau::PtauError::Format(_)) => {
                    return Err(anyhow!("{}: {e}", ptau.display()).into())
                }
                Err(e) => return Err(Failure::Invalid(format!("{}: {e}", ptau.display()))),
            };
            p.check(&mut rand::rngs::OsRng)
                .map_err(|e| Failure::Invalid(format!("{}: {e}", ptau.display())))?;
            println!(
                "{}: powers of one τ, α and β up to 2^{} (ceremony power {}): serves statements of up to {} constraints and inputs",
                ptau.display(),
                p.power,
                p.ceremony_power,
                1u64 << p.power
            );
        }
        Command::R1cs {
            statement: name,
            out,
        } => {
            let shape = statement_shape(statement(&name)?)
                .map_err(|e| anyhow!("cannot synthesize {name}: {e}"))?;
            let file = fs::File::create(&out)
                .with_context(|| format!("cannot write {}", out.display()))?;
            circom::write_r1cs(&shape, std::io::BufWriter::new(file))
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "{}: {} constraints, {} public inputs, {} wires; digest {}",
                out.display(),
                shape.num_constraints,
                shape.num_instance - 1,
                shape.num_instance + shape.num_witness,
                shape.digest_hex()
            );
        }
        Command::Witness {
            data_dir,
            input,
            out,
        } => {
            let text = fs::read_to_string(&input)
                .with_context(|| format!("cannot read {}", input.display()))?;
            let input = RecordInclusionInput::from_json(&text)?;
            let ledger = match input.has_leaves() {
                true => None,
                false => Some(ledger_cli::open_existing(&data_dir, None)?),
            };
            let (request, _) = input.to_request(ledger.as_ref())?;
            let request = ProofRequest::RecordInclusion(request);
            let shape = statement_shape(Statement::RecordInclusion)
                .map_err(|e| anyhow!("cannot synthesize record-inclusion: {e}"))?;
            let z = shape
                .assign(request.circuit())
                .map_err(|e| anyhow!("the input is not a witness: {e}"))?;
            let file = fs::File::create(&out)
                .with_context(|| format!("cannot write {}", out.display()))?;
            circom::write_wtns(&z, std::io::BufWriter::new(file))
                .with_context(|| format!("cannot write {}", out.display()))?;
        }
    }
    Ok(())
}

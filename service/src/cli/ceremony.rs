//! `medproof ceremony …`: a multi-party setup in the formats of the circom tools
//! (snarkjs), so that a ceremony can be held and checked with them: the constraint
//! system out (`.r1cs`), phase 1 checked (`.ptau`), phase 2 started, contributed to,
//! closed by a beacon and verified (`.zkey`, alternating with `snarkjs zkey
//! contribute` as contributors like), and its keys imported into a data dir.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use clap::Subcommand;
use medproof_circuits::shape::CircuitShape;
use medproof_circuits::statement_shape;
use medproof_params::ptau::{self as circom_ptau, PtauError};
use medproof_params::zkey::{self, Zkey, ZkeyError};
use medproof_params::{circom, phase2};
use medproof_prover::ProofRequest;
use medproof_service::input::RecordInclusionInput;
use medproof_service::ledger_cli;
use medproof_verifier::Statement;
use rand::rngs::OsRng;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use super::Failure;

/// The constraint system a phase 2 is for: one of medproof's statements, or any
/// circom `.r1cs`.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
pub struct System {
    /// record-inclusion, access-authorization or claim-compliance.
    #[arg(long)]
    statement: Option<String>,
    /// A circom `.r1cs` file instead of a statement.
    #[arg(long)]
    r1cs: Option<PathBuf>,
}

impl System {
    fn shape(&self) -> anyhow::Result<CircuitShape> {
        match (&self.statement, &self.r1cs) {
            (Some(name), _) => statement_shape(statement(name)?)
                .map_err(|e| anyhow!("cannot synthesize {name}: {e}")),
            (None, Some(path)) => {
                let file = fs::File::open(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                circom::read_r1cs(std::io::BufReader::new(file))
                    .with_context(|| format!("{}", path.display()))
            }
            (None, None) => Err(anyhow!("name a --statement or an --r1cs")),
        }
    }
}

/// What a phase-2 key is verified against: the `.ptau` and the constraint system (the
/// initial key recomputed, as `snarkjs zkey verify` does), or an initial key the
/// verifier made itself earlier with `ceremony new` from them (faster: it is not
/// recomputed).
#[derive(clap::Args)]
pub struct Start {
    /// The prepared phase-1 file the ceremony started from.
    #[arg(long, required_unless_present = "initial")]
    ptau: Option<PathBuf>,
    /// The statement (`import` takes a statement only).
    #[command(flatten)]
    system: System,
    /// An initial key you made yourself with `ceremony new`, instead of --ptau.
    #[arg(long, conflicts_with = "ptau")]
    initial: Option<PathBuf>,
}

impl Start {
    /// The initial key: recomputed from the `.ptau`, or read and checked to be for the
    /// constraint system.
    fn initial_key(&self, shape: &CircuitShape) -> Result<Zkey, Failure> {
        match (&self.initial, &self.ptau) {
            (Some(path), _) => {
                let z = read_zkey(path)?;
                z.matches(shape)
                    .map_err(|e| Failure::Invalid(format!("{}: {e}", path.display())))?;
                if !z.contributions.is_empty() {
                    return Err(Failure::Invalid(format!(
                        "{}: not an initial key (it has contributions)",
                        path.display()
                    )));
                }
                Ok(z)
            }
            (None, Some(ptau)) => initial_key(ptau, shape),
            (None, None) => Err(anyhow!("name the --ptau or an --initial key").into()),
        }
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Start phase 2 of a statement from a prepared `.ptau` (`snarkjs powersoftau
    /// prepare phase2`), as `snarkjs zkey new` does: the `.ptau`'s powers and the
    /// Lagrange points used are checked first. Prints the circuit hash.
    New {
        /// The prepared phase-1 file.
        #[arg(long)]
        ptau: PathBuf,
        #[command(flatten)]
        system: System,
        /// The `.zkey` to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Contribute fresh randomness to a `.zkey` (OS randomness, mixed with --entropy
    /// if given): prints the contribution hash for the contributor to publish. The
    /// secret is never written anywhere.
    Contribute {
        /// The `.zkey` to contribute to (the previous contributor's).
        #[arg(long = "in")]
        input: PathBuf,
        /// The `.zkey` to write.
        #[arg(long)]
        out: PathBuf,
        /// The contributor's name, recorded in the file (at most 64 bytes).
        #[arg(long)]
        name: Option<String>,
        /// Extra text mixed into the randomness.
        #[arg(long)]
        entropy: Option<String>,
    },
    /// Close a ceremony with a random beacon: a public value nobody could know in
    /// advance (e.g. a future block hash), hashed with SHA-256 2^EXP times.
    Beacon {
        /// The `.zkey` to apply the beacon to.
        #[arg(long = "in")]
        input: PathBuf,
        /// The `.zkey` to write.
        #[arg(long)]
        out: PathBuf,
        /// The beacon's value, hex.
        #[arg(long)]
        beacon: String,
        /// log2 of the SHA-256 iterations (10 to 32: medproof verifies no more).
        #[arg(long, default_value_t = 10)]
        iterations_exp: u8,
        /// The name recorded for the beacon.
        #[arg(long)]
        name: Option<String>,
    },
    /// Verify a phase-2 `.zkey` against the `.ptau` and the constraint system: every
    /// contribution's proof and the key itself. Prints each contribution's hash (to
    /// compare with what its contributor published) and the transcript hash. Exit 0
    /// if it holds, 1 if not (the reason named), 2 if a file is unreadable.
    Verify {
        #[command(flatten)]
        start: Start,
        /// The `.zkey` to verify.
        #[arg(long)]
        zkey: PathBuf,
    },
    /// Verify a ceremony's final `.zkey` (as `verify`), then install it as a
    /// statement's proving and verifying keys in a data dir; the manifest records the
    /// ceremony (circuit hash, transcript hash, contributions). Proofs made with these
    /// keys use circom's reduction and verify in snarkjs too.
    Import {
        /// The final `.zkey`.
        #[arg(long)]
        zkey: PathBuf,
        #[command(flatten)]
        start: Start,
        /// The data dir whose keys/ receive the keys.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
    },
    /// Check a phase-1 `.ptau` (snarkjs's format) as `snarkjs powersoftau verify` does:
    /// every point on the curve and in its subgroup, the points powers of one secret τ
    /// (with α and β) by pairings, and every contribution of its transcript (proofs of
    /// knowledge, points that follow, beacons regenerated). Prints each contribution's
    /// response hash, to compare with what its contributor published. Exit 0 if it
    /// holds, 1 if not (the section or contribution named), 2 if unreadable.
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

fn read_zkey(path: &Path) -> Result<Zkey, Failure> {
    zkey::read_zkey_file(path).map_err(|e| match e {
        ZkeyError::Unreadable(_) => Failure::from(anyhow!("{e}")),
        e => Failure::Invalid(format!("{}: {e}", path.display())),
    })
}

fn write_zkey(path: &Path, z: &Zkey) -> anyhow::Result<()> {
    medproof_service::write_file_atomic(path, &zkey::write_zkey(z))
}

/// The initial key of `shape` from `ptau`; a refused `.ptau` is exit 1, an unreadable
/// one exit 2.
fn initial_key(ptau: &Path, shape: &CircuitShape) -> Result<Zkey, Failure> {
    zkey::new_zkey(ptau, shape, &mut OsRng).map_err(|e| match e {
        ZkeyError::Ptau(PtauError::Unreadable(_)) | ZkeyError::Unreadable(_) => {
            Failure::from(anyhow!("{e}"))
        }
        e => Failure::Invalid(format!("{}: {e}", ptau.display())),
    })
}

/// Prints each contribution of `z` with its hash.
fn print_contributions(z: &Zkey) {
    for (i, c) in z.contributions.iter().enumerate() {
        let what = match &c.beacon {
            Some(b) => format!(
                " (beacon {} iterated 2^{})",
                hex::encode(&b.hash),
                b.iterations_exp
            ),
            None => String::new(),
        };
        println!(
            "contribution #{} {}{what}: {}",
            i + 1,
            c.name.as_deref().unwrap_or("(no name)"),
            hex::encode(phase2::contribution_hash(c))
        );
    }
}

/// Runs the command.
pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::New { ptau, system, out } => {
            let shape = system.shape()?;
            let z = initial_key(&ptau, &shape)?;
            write_zkey(&out, &z)?;
            println!(
                "{}: phase 2 started ({} constraints, domain 2^{}); circuit hash {}",
                out.display(),
                shape.num_constraints,
                z.domain_size.trailing_zeros(),
                hex::encode(z.cs_hash)
            );
        }
        Command::Contribute {
            input,
            out,
            name,
            entropy,
        } => {
            let z = read_zkey(&input)?;
            let mut seed = [0u8; 32];
            OsRng.fill_bytes(&mut seed);
            let mut h = Sha256::new();
            h.update(seed);
            h.update(entropy.unwrap_or_default().as_bytes());
            let mut rng = ChaCha20Rng::from_seed(h.finalize().into());
            let (next, hash) =
                phase2::contribute(&z, name.as_deref(), &mut rng).map_err(|e| anyhow!("{e}"))?;
            write_zkey(&out, &next)?;
            println!(
                "contribution #{} hash (publish it): {}",
                next.contributions.len(),
                hex::encode(hash)
            );
        }
        Command::Beacon {
            input,
            out,
            beacon,
            iterations_exp,
            name,
        } => {
            let z = read_zkey(&input)?;
            let hash = hex::decode(&beacon).map_err(|e| anyhow!("--beacon: not hex: {e}"))?;
            let b = zkey::Beacon {
                hash,
                iterations_exp,
            };
            let (next, hash) =
                phase2::beacon(&z, name.as_deref(), &b).map_err(|e| anyhow!("{e}"))?;
            write_zkey(&out, &next)?;
            println!(
                "beacon contribution #{} hash: {}",
                next.contributions.len(),
                hex::encode(hash)
            );
        }
        Command::Verify { start, zkey } => {
            let shape = start.system.shape()?;
            let initial = start.initial_key(&shape)?;
            let z = read_zkey(&zkey)?;
            phase2::verify(&z, &initial, &mut OsRng)
                .map_err(|e| Failure::Invalid(format!("{}: {e}", zkey.display())))?;
            print_contributions(&z);
            println!(
                "{}: valid; circuit hash {}; transcript hash {}",
                zkey.display(),
                hex::encode(z.cs_hash),
                hex::encode(phase2::transcript_hash(&z))
            );
        }
        Command::Import {
            zkey,
            start,
            data_dir,
        } => {
            let name = start
                .system
                .statement
                .clone()
                .ok_or_else(|| anyhow!("import needs the --statement the keys are for"))?;
            let s = statement(&name)?;
            // The genesis names a ledger's keys when it is created: keys installed beside
            // an existing ledger would only be refused by its verifiers.
            if medproof_ledger::db_dir(&data_dir).is_dir() {
                return Err(anyhow!(
                    "{} holds a ledger already, whose genesis names the keys it was created with: import the ceremony's keys into a data dir before its first start",
                    data_dir.display()
                )
                .into());
            }
            let shape = statement_shape(s).map_err(|e| anyhow!("cannot synthesize {name}: {e}"))?;
            let initial = start.initial_key(&shape)?;
            let z = read_zkey(&zkey)?;
            let dir = medproof_service::keys_dir(&data_dir);
            let imported = medproof_params::import_ceremony_keys(&dir, s, &z, &initial, &mut OsRng);
            let manifest = match imported {
                Ok(m) => m,
                Err(e @ medproof_params::ParamsError::Ceremony { .. }) => {
                    return Err(Failure::Invalid(format!("{}: {e}", zkey.display())))
                }
                Err(e) => return Err(anyhow::Error::from(e).into()),
            };
            print_contributions(&z);
            let entry = manifest.entry(s).map_err(anyhow::Error::from)?;
            println!(
                "{name}: ceremony keys installed in {} (vk id {}; transcript hash {})",
                dir.display(),
                entry.vk_id,
                hex::encode(phase2::transcript_hash(&z))
            );
        }
        Command::CheckPtau { ptau, power } => {
            let (p, contributions) =
                match circom_ptau::check_ptau_file(&ptau, power, &mut rand::rngs::OsRng) {
                    Ok(p) => p,
                    Err(e @ circom_ptau::PtauError::Unreadable(_)) => {
                        return Err(anyhow!("{e}").into())
                    }
                    Err(e @ circom_ptau::PtauError::Format(_)) => {
                        return Err(anyhow!("{}: {e}", ptau.display()).into())
                    }
                    Err(e) => return Err(Failure::Invalid(format!("{}: {e}", ptau.display()))),
                };
            for (i, c) in contributions.iter().enumerate() {
                println!(
                    "contribution #{} {}{}: response hash {}",
                    i + 1,
                    c.name.as_deref().unwrap_or("(unnamed)"),
                    match &c.beacon {
                        Some(b) => format!(
                            " (beacon {} iterated 2^{})",
                            hex::encode(&b.hash),
                            b.iterations_exp
                        ),
                        None => String::new(),
                    },
                    hex::encode(c.response_hash())
                );
            }
            println!(
                "{}: powers of one τ, α and β up to 2^{} (ceremony power {}), from {} verified contributions: serves statements of up to {} constraints and inputs",
                ptau.display(),
                p.power,
                p.ceremony_power,
                contributions.len(),
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

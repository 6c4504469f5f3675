//! `medproof party …`: the openings a party makes on its own machine, with fresh
//! blindings, so that only commitments reach the ledger. Each command writes the
//! opening (a JSON file the party keeps, or shares with whom the design says) and
//! prints the one value the next shell command needs on stdout: the patient's
//! pseudonym, a commitment, or a nonce. Nothing here talks to a server.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use ark_ff::UniformRand;
use clap::Subcommand;
use medproof_circuits::commit::{
    key_ref, patient_ref, ConsentOpening, ContentDigest, RecordOpening,
};
use medproof_ledger::keyfile;
use medproof_service::input::{AccessInput, ClaimJson, ConsentJson, PolicyJson, RecordJson};
use medproof_service::write_secret;
use medproof_verifier::{fr_from_decimal, fr_to_decimal, Fr};
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

use super::Failure;

#[derive(Subcommand)]
pub enum Command {
    /// A patient's pseudonym: creates the secret salt beside the key file
    /// (`patient.key` → `patient.salt`, mode 0600) if it is not there, and prints
    /// `patient_ref`, which the patient gives its providers.
    Patient {
        /// The patient's key file.
        #[arg(long)]
        key: PathBuf,
    },
    /// A provider's record opening: SHA-256 of the content, a fresh blinding; prints
    /// the commitment to submit (`commit-record`).
    Record {
        /// The patient's pseudonym (from `party patient`).
        #[arg(long)]
        patient_ref: String,
        /// Category code (e.g. 3, laboratory).
        #[arg(long)]
        category: u32,
        /// The record's content (e.g. a FHIR resource); only its SHA-256 is used.
        #[arg(long)]
        content: PathBuf,
        /// Creation time, Unix seconds [default: now].
        #[arg(long)]
        created_at: Option<u64>,
        /// Where to write the opening.
        #[arg(long)]
        out: PathBuf,
    },
    /// A patient's consent opening for a provider; prints the commitment to submit
    /// (`grant-consent`, signed by the same key).
    Consent {
        /// The patient's key file (its salt beside it).
        #[arg(long)]
        key: PathBuf,
        /// The provider's Ed25519 public key, hex (its `.pub` file's content).
        #[arg(long)]
        grantee: String,
        /// Category code the consent covers.
        #[arg(long)]
        category: u32,
        /// Purpose code (e.g. 1, treatment).
        #[arg(long)]
        purpose: u32,
        /// Days of validity from now.
        #[arg(long, default_value_t = 30)]
        days: u64,
        /// Where to write the opening.
        #[arg(long)]
        out: PathBuf,
    },
    /// An insurer's policy opening for a policyholder: covered codes, a period from
    /// now, a limit; prints the commitment to submit (`publish-policy`).
    Policy {
        /// The policyholder's pseudonym (from `party patient`).
        #[arg(long)]
        policyholder: String,
        /// Covered procedure codes, comma-separated (e.g. 99213,99214).
        #[arg(long, value_delimiter = ',', required = true)]
        codes: Vec<String>,
        /// Days of cover from now.
        #[arg(long, default_value_t = 365)]
        days: u64,
        /// Largest amount covered per claim, in cents.
        #[arg(long)]
        limit: u64,
        /// Where to write the opening.
        #[arg(long)]
        out: PathBuf,
    },
    /// A provider's claim record opening (a billed service for the patient); prints the
    /// commitment to submit (`commit-record`).
    Claim {
        /// The patient's pseudonym.
        #[arg(long)]
        patient_ref: String,
        /// The procedure code, as billed (e.g. 99213).
        #[arg(long)]
        code: String,
        /// Amount claimed, in cents.
        #[arg(long)]
        amount: u64,
        /// The claim document (e.g. a FHIR Claim); only its SHA-256 is used.
        #[arg(long)]
        content: PathBuf,
        /// Date of service, Unix seconds [default: now].
        #[arg(long)]
        service_date: Option<u64>,
        /// Where to write the opening.
        #[arg(long)]
        out: PathBuf,
    },
    /// A provider's input for an access proof (`client prove access`), from the
    /// openings the patient shared: prints the nonce to log the access with.
    Access {
        /// The provider's public key file (`provider.pub`).
        #[arg(long)]
        provider: PathBuf,
        /// The consent's opening (from `party consent`).
        #[arg(long)]
        consent: PathBuf,
        /// The consent's leaf index (the `leaf_index` its grant's receipt shows).
        #[arg(long)]
        consent_index: u64,
        /// The patient's public key file (`patient.pub`): the consent's granter.
        #[arg(long)]
        granter: PathBuf,
        /// The patient's salt file (shared by the patient).
        #[arg(long)]
        salt: PathBuf,
        /// The record's opening (from `party record`).
        #[arg(long)]
        record: PathBuf,
        /// The data holder's challenge, decimal [default: fresh].
        #[arg(long)]
        nonce: Option<String>,
        /// Where to write the input.
        #[arg(long)]
        out: PathBuf,
    },
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    write_secret(path, &(serde_json::to_string_pretty(value)? + "\n"))
}

fn salt_path(key: &Path) -> PathBuf {
    key.with_extension("salt")
}

fn load_salt(path: &Path) -> Result<Fr> {
    fr_from_decimal(read(path)?.trim()).map_err(|e| anyhow!("{}: {e}", path.display()))
}

fn public_key(path: &Path) -> Result<[u8; 32]> {
    keyfile::load_public(path)
        .map(|k| k.to_bytes())
        .map_err(|e| anyhow!("{e}"))
}

/// The patient's pseudonym from their key file and the salt beside it.
fn patient_of(key: &Path) -> Result<(Fr, Fr)> {
    let signer = keyfile::load(key).map_err(anyhow::Error::from)?;
    let salt = load_salt(&salt_path(key))
        .context("no salt beside the key: run `medproof party patient --key` first")?;
    Ok((
        patient_ref(key_ref(&signer.verifying_key().to_bytes()), salt),
        salt,
    ))
}

/// Runs a party command.
pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Patient { key } => {
            let salt = salt_path(&key);
            if !salt.exists() {
                keyfile::load(&key).map_err(anyhow::Error::from)?;
                write_secret(&salt, &(fr_to_decimal(&Fr::rand(&mut OsRng)) + "\n"))?;
                eprintln!(
                    "wrote {} (secret: share it only with your providers)",
                    salt.display()
                );
            }
            println!("{}", fr_to_decimal(&patient_of(&key)?.0));
        }
        Command::Record {
            patient_ref,
            category,
            content,
            created_at,
            out,
        } => {
            let bytes =
                fs::read(&content).with_context(|| format!("cannot read {}", content.display()))?;
            let opening = RecordOpening {
                patient_ref: fr_from_decimal(&patient_ref)
                    .map_err(|e| anyhow!("--patient-ref: {e}"))?,
                category,
                content_digest: ContentDigest(Sha256::digest(&bytes).into()),
                created_at: created_at.unwrap_or_else(now),
                blinding: Fr::rand(&mut OsRng),
            };
            write_json(&out, &RecordJson::from_opening(&opening))?;
            println!("{}", fr_to_decimal(&opening.commitment()));
        }
        Command::Consent {
            key,
            grantee,
            category,
            purpose,
            days,
            out,
        } => {
            let grantee: [u8; 32] = hex::decode(grantee.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| anyhow!("--grantee: expected a public key, 64 hex digits"))?;
            let valid_from = now();
            let opening = ConsentOpening {
                patient_ref: patient_of(&key)?.0,
                grantee: key_ref(&grantee),
                category,
                purpose,
                valid_from,
                valid_until: valid_from.saturating_add(days.saturating_mul(86_400)),
                blinding: Fr::rand(&mut OsRng),
            };
            write_json(&out, &ConsentJson::from_opening(&opening))?;
            println!("{}", fr_to_decimal(&opening.commitment()));
        }
        Command::Policy {
            policyholder,
            codes,
            days,
            limit,
            out,
        } => {
            let start = now();
            let policy = PolicyJson {
                policyholder,
                codes,
                period_start: start,
                period_end: start.saturating_add(days.saturating_mul(86_400)),
                limit,
                blinding: fr_to_decimal(&Fr::rand(&mut OsRng)),
            };
            let (opening, _) = policy.to_opening()?;
            write_json(&out, &policy)?;
            println!("{}", fr_to_decimal(&opening.commitment()));
        }
        Command::Claim {
            patient_ref,
            code,
            amount,
            content,
            service_date,
            out,
        } => {
            let bytes =
                fs::read(&content).with_context(|| format!("cannot read {}", content.display()))?;
            let claim = ClaimJson {
                patient_ref,
                code,
                service_date: service_date.unwrap_or_else(now),
                amount,
                content_sha256: hex::encode(Sha256::digest(&bytes)),
                blinding: fr_to_decimal(&Fr::rand(&mut OsRng)),
            };
            let opening = claim.to_opening()?;
            write_json(&out, &claim)?;
            println!("{}", fr_to_decimal(&opening.commitment()));
        }
        Command::Access {
            provider,
            consent,
            consent_index,
            granter,
            salt,
            record,
            nonce,
            out,
        } => {
            let consent: ConsentJson = serde_json::from_str(&read(&consent)?)
                .with_context(|| format!("{}: not a consent opening", consent.display()))?;
            let record: RecordJson = serde_json::from_str(&read(&record)?)
                .with_context(|| format!("{}: not a record opening", record.display()))?;
            let nonce = match nonce {
                Some(n) => fr_from_decimal(&n).map_err(|e| anyhow!("--nonce: {e}"))?,
                None => Fr::rand(&mut OsRng),
            };
            let input = AccessInput {
                provider: hex::encode(public_key(&provider)?),
                consent,
                consent_index,
                granter: hex::encode(public_key(&granter)?),
                patient_salt: fr_to_decimal(&load_salt(&salt)?),
                record,
                now: now(),
                nonce: fr_to_decimal(&nonce),
            };
            write_json(&out, &input)?;
            println!("{}", fr_to_decimal(&nonce));
        }
    }
    Ok(())
}

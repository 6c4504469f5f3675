//! Groth16 keys for medproof's statements: setup, files, manifest, integrity checks.
//!
//! `setup` runs a circuit-specific Groth16 setup per statement from OS randomness; the
//! toxic waste lives only inside ark-groth16's generator and is dropped there. It writes
//! `<dir>/<statement>.pk` (uncompressed), `<dir>/<statement>.vk` (compressed) and
//! `<dir>/manifest.json`, which names each key's statement, circuit version,
//! constraint-system digest, verifying-key id, and the SHA-256 and size of each file.
//!
//! Loading checks all of it and refuses a missing, truncated, altered or mismatched file
//! with an error that says which file and why. Parsing from a reader is separate from
//! opening a path, and hashing happens while reading.
//!
//! [`insecure_seeded_setup`] is deterministic, for tests only: its manifest says
//! `"insecure": true`, and [`load`] refuses it unless asked not to.

#![forbid(unsafe_code)]

pub mod circom;
pub mod phase1;
pub mod phase2;
pub mod ptau;
mod ratio;
pub mod reduction;
pub mod zkey;

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use ark_bn254::{Bn254, Fr};
use ark_groth16::r1cs_to_qap::LibsnarkReduction;
use ark_groth16::{Groth16, ProvingKey};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use medproof_circuits::shape::CircuitShape;
use medproof_circuits::statement_shape;
use medproof_verifier::groth16::VerifyingKey;
use medproof_verifier::Statement;
use rand::{CryptoRng, RngCore, SeedableRng};
use reduction::{CircomReduction, MixedRadixReduction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Name of the manifest file in a key directory.
pub const MANIFEST: &str = "manifest.json";
/// Version of the manifest format.
pub const MANIFEST_FORMAT: u32 = 1;

/// What can go wrong with keys.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    /// An I/O error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A file the manifest names, or the manifest itself, is absent.
    #[error("{0}: missing (run `medproof setup` to generate keys)")]
    Missing(PathBuf),
    /// The manifest cannot be parsed.
    #[error("{path}: not a valid key manifest: {reason}")]
    Manifest {
        /// The manifest's path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The manifest has no entry for the statement.
    #[error("the key manifest has no entry for statement `{0}` (run `medproof setup`)")]
    NotInManifest(Statement),
    /// Keys made for another version of the circuit.
    #[error("keys for `{statement}` are for circuit version {found}, this build has version {expected}; run `medproof setup` again")]
    Version {
        /// The statement.
        statement: Statement,
        /// This build's version.
        expected: u32,
        /// The manifest's.
        found: u32,
    },
    /// Keys made for a circuit with another constraint system.
    #[error("keys for `{statement}` were made for constraint system {found}, but this build's circuit is {expected}; run `medproof setup` again")]
    Digest {
        /// The statement.
        statement: Statement,
        /// This build's digest.
        expected: String,
        /// The manifest's.
        found: String,
    },
    /// A file whose size is not what the manifest says (e.g. truncated).
    #[error(
        "{path}: size is {actual} bytes, the manifest says {expected} (truncated or replaced)"
    )]
    Size {
        /// The file.
        path: PathBuf,
        /// Size in the manifest.
        expected: u64,
        /// Size on disk.
        actual: u64,
    },
    /// A file whose SHA-256 is not what the manifest says.
    #[error("{path}: SHA-256 does not match the manifest (the file was altered)")]
    Hash {
        /// The file.
        path: PathBuf,
    },
    /// A file whose contents do not decode as a key.
    #[error("{path}: not a valid key: {reason}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The verifying key's id is not the manifest's.
    #[error("{path}: verifying key id {actual} differs from the manifest's {expected}")]
    KeyId {
        /// The file.
        path: PathBuf,
        /// Manifest's id.
        expected: String,
        /// Computed id.
        actual: String,
    },
    /// Keys from a seeded, insecure setup where real keys are required.
    #[error("keys in {0} come from an insecure seeded test setup; refusing to use them (run `medproof setup`)")]
    Insecure(PathBuf),
    /// A ceremony's key that does not verify, or is not for the statement.
    #[error("the ceremony's key for `{statement}` is refused: {reason}")]
    Ceremony {
        /// The statement.
        statement: Statement,
        /// Why.
        reason: String,
    },
    /// Circuit synthesis failed.
    #[error("circuit synthesis failed for `{statement}`: {reason}")]
    Synthesis {
        /// The statement.
        statement: Statement,
        /// Why.
        reason: String,
    },
}

/// SHA-256 and size of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// File name, relative to the key directory.
    pub name: String,
    /// Hex SHA-256 of the contents.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// The manifest's record of one statement's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// Statement name.
    pub statement: String,
    /// Circuit version.
    pub version: u32,
    /// Number of constraints.
    pub constraints: usize,
    /// Hex constraint-system digest.
    pub digest: String,
    /// Verifying key id (hex SHA-256 of the compressed key).
    pub vk_id: String,
    /// The proving key file.
    pub proving_key: FileEntry,
    /// The verifying key file.
    pub verifying_key: FileEntry,
    /// Set for keys imported from a multi-party ceremony ([`import_ceremony_keys`]);
    /// absent for keys from [`setup`] (a single party's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceremony: Option<CeremonyEntry>,
    /// The reduction of keys from [`setup`]; absent for ceremony keys (whose entry
    /// names theirs) and for keys written before it was recorded (libsnark's over a
    /// power of two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduction: Option<Reduction>,
}

/// The R1CS-to-QAP reduction keys were made for: it fixes the FFT domain and what the
/// `H` points are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reduction {
    /// ark-groth16's default (libsnark's), over a power-of-two domain: keys from
    /// [`setup`] before the mixed-radix domain, still read and proved with.
    #[default]
    Libsnark,
    /// libsnark's over the smallest domain of size `2^a·3^b`
    /// ([`reduction::MixedRadixReduction`]): keys from [`setup`].
    #[serde(rename = "libsnark-mixed-radix")]
    LibsnarkMixedRadix,
    /// circom's and snarkjs's ([`reduction::CircomReduction`]): keys from a `.zkey`.
    Circom,
}

impl Reduction {
    /// The FFT domain of a circuit with `rows` constraints and instance variables.
    pub fn domain(self, rows: usize) -> Option<GeneralEvaluationDomain<Fr>> {
        match self {
            Reduction::Libsnark | Reduction::Circom => GeneralEvaluationDomain::new(rows),
            Reduction::LibsnarkMixedRadix => reduction::smallest_domain(rows),
        }
    }

    /// How many `H` points keys of this reduction hold for a circuit of `rows` rows:
    /// the quotient's coefficients (libsnark's, one fewer than the domain's points) or
    /// the doubled domain's odd points (circom's, as many as the domain's).
    pub fn h_points(self, rows: usize) -> Option<usize> {
        let d = self.domain(rows)?.size();
        match self {
            Reduction::Libsnark | Reduction::LibsnarkMixedRadix => Some(d - 1),
            Reduction::Circom => Some(d),
        }
    }
}

/// What the manifest records of the ceremony a statement's keys come from, so that
/// anyone holding the published transcript can check that these are its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyEntry {
    /// The reduction the keys prove with (circom's, for a `.zkey`).
    pub reduction: Reduction,
    /// snarkjs's circuit hash (hex Blake2b-512 of the initial key).
    pub circuit_hash: String,
    /// Hex Blake2b-512 over the circuit hash and every contribution's public key
    /// ([`phase2::transcript_hash`]).
    pub transcript: String,
    /// Each contribution in order: its name and the hash its contributor published.
    pub contributions: Vec<ContributionEntry>,
}

/// One contribution of a ceremony, as the manifest names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContributionEntry {
    /// The contributor's name, if given.
    pub name: Option<String>,
    /// Hex Blake2b-512 of the contribution's public key ("Contribution Hash").
    pub hash: String,
    /// Whether it is a random beacon.
    pub beacon: bool,
}

/// The manifest of a key directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format version ([`MANIFEST_FORMAT`]).
    pub format: u32,
    /// True for keys from [`insecure_seeded_setup`].
    pub insecure: bool,
    /// One entry per statement.
    pub keys: Vec<KeyEntry>,
}

impl Manifest {
    /// Reads and parses `<dir>/manifest.json`.
    pub fn read(dir: &Path) -> Result<Self, ParamsError> {
        let path = dir.join(MANIFEST);
        let text = fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
        let m: Manifest = serde_json::from_str(&text).map_err(|e| ParamsError::Manifest {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if m.format != MANIFEST_FORMAT {
            return Err(ParamsError::Manifest {
                path,
                reason: format!("format {} is not {MANIFEST_FORMAT}", m.format),
            });
        }
        Ok(m)
    }

    /// The entry for `statement`.
    pub fn entry(&self, statement: Statement) -> Result<&KeyEntry, ParamsError> {
        self.keys
            .iter()
            .find(|k| k.statement == statement.name())
            .ok_or(ParamsError::NotInManifest(statement))
    }
}

fn io_err(path: &Path, e: io::Error) -> ParamsError {
    if e.kind() == io::ErrorKind::NotFound {
        ParamsError::Missing(path.to_path_buf())
    } else {
        ParamsError::Io {
            path: path.to_path_buf(),
            source: e,
        }
    }
}

/// A reader that hashes and counts what passes through it.
pub struct HashReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> HashReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// Reads to the end, then returns the hex SHA-256 and the byte count.
    pub fn finish(mut self) -> io::Result<(String, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((hex::encode(self.hasher.finalize()), self.count))
    }
}

impl<R: Read> Read for HashReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Parses a proving key (uncompressed, validated) from a reader.
pub fn read_proving_key<R: Read>(
    r: R,
) -> Result<ProvingKey<Bn254>, ark_serialize::SerializationError> {
    ProvingKey::deserialize_with_mode(r, Compress::No, Validate::Yes)
}

/// Parses a verifying key (compressed, validated) from a reader.
pub fn read_verifying_key<R: Read>(
    r: R,
) -> Result<VerifyingKey, ark_serialize::SerializationError> {
    VerifyingKey::deserialize_with_mode(r, Compress::Yes, Validate::Yes)
}

/// Opens `entry`'s file in `dir`, parses it with `parse` while hashing, and checks the
/// whole file against the manifest.
fn load_file<T>(
    dir: &Path,
    entry: &FileEntry,
    parse: impl FnOnce(&mut HashReader<BufReader<File>>) -> Result<T, ark_serialize::SerializationError>,
) -> Result<T, ParamsError> {
    let path = dir.join(&entry.name);
    let file = File::open(&path).map_err(|e| io_err(&path, e))?;
    let actual = file.metadata().map_err(|e| io_err(&path, e))?.len();
    if actual != entry.size {
        return Err(ParamsError::Size {
            path,
            expected: entry.size,
            actual,
        });
    }
    let mut reader = HashReader::new(BufReader::new(file));
    let parsed = parse(&mut reader);
    let (sha, _) = reader.finish().map_err(|e| io_err(&path, e))?;
    if sha != entry.sha256 {
        return Err(ParamsError::Hash { path });
    }
    parsed.map_err(|e| ParamsError::Decode {
        path,
        reason: e.to_string(),
    })
}

/// Everything a prover needs for one statement.
pub struct StatementKeys {
    /// The statement.
    pub statement: Statement,
    /// The circuit's shape (matrices reused for every proof).
    pub shape: CircuitShape,
    /// The proving key.
    pub proving_key: ProvingKey<Bn254>,
    /// The verifying key.
    pub verifying_key: VerifyingKey,
    /// Its id (hex SHA-256 of its compressed encoding), computed once at load.
    pub vk_id: String,
    /// The reduction the proving key was made for.
    pub reduction: Reduction,
    /// The transcript hash of the ceremony the keys come from (Blake2b-512), `None` for
    /// a single-party setup.
    pub transcript: Option<[u8; 64]>,
}

impl std::fmt::Debug for StatementKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatementKeys")
            .field("statement", &self.statement)
            .field("constraints", &self.shape.num_constraints)
            .field("vk_id", &self.vk_id)
            .finish()
    }
}

/// How strict loading is.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Accept keys from [`insecure_seeded_setup`].
    pub allow_insecure: bool,
}

fn shape_of(statement: Statement) -> Result<CircuitShape, ParamsError> {
    statement_shape(statement).map_err(|e| ParamsError::Synthesis {
        statement,
        reason: e.to_string(),
    })
}

/// Checks a manifest entry against this build's circuit.
fn check_entry(
    manifest: &Manifest,
    dir: &Path,
    statement: Statement,
    shape: &CircuitShape,
    opts: LoadOptions,
) -> Result<KeyEntry, ParamsError> {
    if manifest.insecure && !opts.allow_insecure {
        return Err(ParamsError::Insecure(dir.to_path_buf()));
    }
    let entry = manifest.entry(statement)?;
    if entry.version != statement.version() {
        return Err(ParamsError::Version {
            statement,
            expected: statement.version(),
            found: entry.version,
        });
    }
    if entry.digest != shape.digest_hex() {
        return Err(ParamsError::Digest {
            statement,
            expected: shape.digest_hex(),
            found: entry.digest.clone(),
        });
    }
    Ok(entry.clone())
}

fn load_vk_checked(dir: &Path, entry: &KeyEntry) -> Result<VerifyingKey, ParamsError> {
    let vk = load_file(dir, &entry.verifying_key, |r| read_verifying_key(r))?;
    let id = vk.id();
    if id != entry.vk_id {
        return Err(ParamsError::KeyId {
            path: dir.join(&entry.verifying_key.name),
            expected: entry.vk_id.clone(),
            actual: id,
        });
    }
    vk.check_safe().map_err(|e| ParamsError::Decode {
        path: dir.join(&entry.verifying_key.name),
        reason: e.to_string(),
    })?;
    Ok(vk)
}

/// Loads and checks the proving and verifying keys of `statement` from `dir`.
pub fn load(
    dir: &Path,
    statement: Statement,
    opts: LoadOptions,
) -> Result<StatementKeys, ParamsError> {
    let manifest = Manifest::read(dir)?;
    let shape = shape_of(statement)?;
    let entry = check_entry(&manifest, dir, statement, &shape, opts)?;
    let verifying_key = load_vk_checked(dir, &entry)?;
    let proving_key = load_file(dir, &entry.proving_key, |r| read_proving_key(r))?;
    if proving_key.vk.gamma_abc_g1 != verifying_key.gamma_abc_g1
        || proving_key.vk.delta_g2 != verifying_key.delta_g2
    {
        return Err(ParamsError::Decode {
            path: dir.join(&entry.proving_key.name),
            reason: "proving key does not belong to the verifying key".into(),
        });
    }
    let transcript = entry
        .ceremony
        .as_ref()
        .map(|c| {
            hex::decode(&c.transcript)
                .ok()
                .and_then(|t| <[u8; 64]>::try_from(t).ok())
                .ok_or_else(|| ParamsError::Decode {
                    path: dir.join(MANIFEST),
                    reason: format!("`{statement}`: the ceremony transcript is not 128 hex digits"),
                })
        })
        .transpose()?;
    let reduction = match (&entry.ceremony, entry.reduction) {
        (Some(c), None) => c.reduction,
        (None, r) => r.unwrap_or_default(),
        (Some(_), Some(_)) => {
            return Err(ParamsError::Decode {
                path: dir.join(MANIFEST),
                reason: format!("`{statement}`: the entry names a reduction twice"),
            })
        }
    };
    // The H query's length follows from the reduction and the circuit: a key for
    // another domain would only make proofs that fail.
    let rows = shape.num_constraints + shape.num_instance;
    let expected = reduction.h_points(rows);
    if expected != Some(proving_key.h_query.len()) {
        return Err(ParamsError::Decode {
            path: dir.join(&entry.proving_key.name),
            reason: format!(
                "the H query has {} points; {reduction:?} keys of this circuit have {}",
                proving_key.h_query.len(),
                expected.map_or("none".to_string(), |n| n.to_string())
            ),
        });
    }
    Ok(StatementKeys {
        statement,
        shape,
        proving_key,
        reduction,
        vk_id: entry.vk_id,
        verifying_key,
        transcript,
    })
}

/// Loads and checks only the verifying key of `statement` (for verifiers).
pub fn load_verifying_key(
    dir: &Path,
    statement: Statement,
    opts: LoadOptions,
) -> Result<VerifyingKey, ParamsError> {
    let manifest = Manifest::read(dir)?;
    let shape = shape_of(statement)?;
    let entry = check_entry(&manifest, dir, statement, &shape, opts)?;
    load_vk_checked(dir, &entry)
}

/// The verifier's view of ark-groth16's verifying key (same fields, same encoding).
pub fn to_light_vk(vk: &ark_groth16::VerifyingKey<Bn254>) -> VerifyingKey {
    VerifyingKey {
        alpha_g1: vk.alpha_g1,
        beta_g2: vk.beta_g2,
        gamma_g2: vk.gamma_g2,
        delta_g2: vk.delta_g2,
        gamma_abc_g1: vk.gamma_abc_g1.clone(),
    }
}

/// Writes `statement`'s proving key and (light) verifying key into `dir`, and returns
/// their manifest entry.
fn write_keys(
    dir: &Path,
    statement: Statement,
    shape: &CircuitShape,
    pk: &ProvingKey<Bn254>,
    origin: KeyOrigin,
) -> Result<KeyEntry, ParamsError> {
    let (ceremony, reduction) = match origin {
        KeyOrigin::Setup(r) => (None, Some(r)),
        KeyOrigin::Ceremony(c) => (Some(c), None),
    };
    let vk = to_light_vk(&pk.vk);
    let name = statement.name();
    let proving_key = write_atomic(dir, &format!("{name}.pk"), |w| {
        pk.serialize_uncompressed(w).map_err(ser_err)
    })?;
    let verifying_key = write_atomic(dir, &format!("{name}.vk"), |w| {
        vk.serialize_compressed(w).map_err(ser_err)
    })?;
    Ok(KeyEntry {
        statement: name.to_string(),
        version: statement.version(),
        constraints: shape.num_constraints,
        digest: shape.digest_hex(),
        vk_id: vk.id(),
        proving_key,
        verifying_key,
        ceremony,
        reduction,
    })
}

/// Where keys come from, as their manifest entry records it.
enum KeyOrigin {
    /// A single party's setup, with this reduction.
    Setup(Reduction),
    /// A ceremony (its entry names the reduction).
    Ceremony(CeremonyEntry),
}

/// Writes `bytes` to `dir/name` through a temporary file and a rename, so a crash never
/// leaves a half-written key under the final name.
fn write_atomic(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> Result<FileEntry, ParamsError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let result = (|| {
        let mut w = BufWriter::new(File::create(&tmp)?);
        write(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        fs::rename(&tmp, &path)
    })();
    result.map_err(|e| io_err(&path, e))?;
    let file = File::open(&path).map_err(|e| io_err(&path, e))?;
    let (sha256, size) = HashReader::new(BufReader::new(file))
        .finish()
        .map_err(|e| io_err(&path, e))?;
    Ok(FileEntry {
        name: name.to_string(),
        sha256,
        size,
    })
}

fn ser_err(e: ark_serialize::SerializationError) -> io::Error {
    io::Error::other(e.to_string())
}

/// Reports progress of a setup.
pub trait Progress {
    /// A new stage for `statement` begins.
    fn stage(&self, statement: Statement, stage: &str);
    /// The statement is done.
    fn done(&self, statement: Statement);
}

/// No progress output.
pub struct Quiet;

impl Progress for Quiet {
    fn stage(&self, _: Statement, _: &str) {}
    fn done(&self, _: Statement) {}
}

fn setup_with<R: RngCore + CryptoRng>(
    dir: &Path,
    statements: &[Statement],
    rng: &mut R,
    insecure: bool,
    reduction: Reduction,
    progress: &dyn Progress,
) -> Result<Manifest, ParamsError> {
    fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let mut keys = Vec::new();
    for &statement in statements {
        progress.stage(statement, "synthesizing");
        let shape = shape_of(statement)?;
        progress.stage(statement, "generating keys");
        // ark-groth16 synthesizes the circuit again, with tracing off as everywhere.
        let blank = medproof_circuits::AnyCircuit::blank(statement);
        let pk = medproof_circuits::shape::untraced(|| match reduction {
            Reduction::LibsnarkMixedRadix => {
                Groth16::<Bn254, MixedRadixReduction>::generate_random_parameters_with_reduction(
                    blank, rng,
                )
            }
            Reduction::Libsnark => {
                Groth16::<Bn254, LibsnarkReduction>::generate_random_parameters_with_reduction(
                    blank, rng,
                )
            }
            Reduction::Circom => {
                Groth16::<Bn254, CircomReduction>::generate_random_parameters_with_reduction(
                    blank, rng,
                )
            }
        })
        .map_err(|e| ParamsError::Synthesis {
            statement,
            reason: e.to_string(),
        })?;
        progress.stage(statement, "writing");
        keys.push(write_keys(
            dir,
            statement,
            &shape,
            &pk,
            KeyOrigin::Setup(reduction),
        )?);
        progress.done(statement);
    }
    let manifest = Manifest {
        format: MANIFEST_FORMAT,
        insecure,
        keys,
    };
    write_manifest(dir, &manifest)?;
    Ok(manifest)
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), ParamsError> {
    let text = serde_json::to_string_pretty(manifest).map_err(|e| ParamsError::Manifest {
        path: dir.join(MANIFEST),
        reason: e.to_string(),
    })?;
    write_atomic(dir, MANIFEST, |w| w.write_all(text.as_bytes()))?;
    Ok(())
}

/// Verifies a ceremony's final `.zkey` against `initial` (the key [`zkey::new_zkey`]
/// makes from the `.ptau` and this build's constraint system, or one the caller made so
/// earlier), then writes it as `statement`'s keys in `dir` (replacing that statement's
/// entry in an existing manifest, or starting one), the manifest recording the
/// ceremony. A key that does not verify, or is for another system, is refused, and so
/// is a directory of insecure test keys.
pub fn import_ceremony_keys(
    dir: &Path,
    statement: Statement,
    key: &zkey::Zkey,
    initial: &zkey::Zkey,
    rng: &mut impl RngCore,
) -> Result<Manifest, ParamsError> {
    let shape = shape_of(statement)?;
    let refused = |reason: String| ParamsError::Ceremony { statement, reason };
    initial.matches(&shape).map_err(refused)?;
    phase2::verify(key, initial, rng).map_err(|e| refused(e.to_string()))?;
    let mut manifest = match exists(dir) {
        true => Manifest::read(dir)?,
        false => Manifest {
            format: MANIFEST_FORMAT,
            insecure: false,
            keys: Vec::new(),
        },
    };
    if manifest.insecure {
        return Err(ParamsError::Insecure(dir.to_path_buf()));
    }
    fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let ceremony = CeremonyEntry {
        reduction: Reduction::Circom,
        circuit_hash: hex::encode(key.cs_hash),
        transcript: hex::encode(phase2::transcript_hash(key)),
        contributions: key
            .contributions
            .iter()
            .map(|c| ContributionEntry {
                name: c.name.clone(),
                hash: hex::encode(phase2::contribution_hash(c)),
                beacon: c.beacon.is_some(),
            })
            .collect(),
    };
    let entry = write_keys(
        dir,
        statement,
        &shape,
        &key.to_proving_key(),
        KeyOrigin::Ceremony(ceremony),
    )?;
    manifest.keys.retain(|k| k.statement != statement.name());
    manifest.keys.push(entry);
    write_manifest(dir, &manifest)?;
    Ok(manifest)
}

/// Generates fresh keys for `statements` into `dir` from OS randomness.
pub fn setup(
    dir: &Path,
    statements: &[Statement],
    progress: &dyn Progress,
) -> Result<Manifest, ParamsError> {
    let mut rng = rand::rngs::StdRng::from_entropy();
    setup_with(
        dir,
        statements,
        &mut rng,
        false,
        Reduction::LibsnarkMixedRadix,
        progress,
    )
}

/// Deterministic keys from `seed`. INSECURE: anyone who knows the seed can forge proofs.
/// For tests and benchmarks only; the manifest is marked insecure.
pub fn insecure_seeded_setup(
    dir: &Path,
    statements: &[Statement],
    seed: u64,
) -> Result<Manifest, ParamsError> {
    insecure_seeded_setup_with(dir, statements, seed, Reduction::LibsnarkMixedRadix)
}

/// [`insecure_seeded_setup`] for keys of another reduction: ark-groth16's own
/// (libsnark's over a power of two, as [`setup`] made them before the mixed-radix
/// domain), or circom's. INSECURE, for tests and benchmarks (the old path beside the
/// new one) only.
pub fn insecure_seeded_setup_with(
    dir: &Path,
    statements: &[Statement],
    seed: u64,
    reduction: Reduction,
) -> Result<Manifest, ParamsError> {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    setup_with(dir, statements, &mut rng, true, reduction, &Quiet)
}

/// Whether `dir` holds a manifest (keys were generated there).
pub fn exists(dir: &Path) -> bool {
    dir.join(MANIFEST).is_file()
}

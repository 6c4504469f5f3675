//! Phase 1 of a Groth16 setup from a snarkjs `.ptau` file (the format of the Perpetual
//! Powers of Tau and Hermez ceremonies): read, every point validated, and checked to be
//! powers of one secret τ (with α and β) by pairings, so that a phase 2 can start from it.
//!
//! The file is an iden3 binary container (magic `ptau`, version 1). Section 1 holds the
//! base field's size and modulus, the file's power `n` and the ceremony's power;
//! sections 2 to 6 hold `[τ^i]G1` for `i < 2^(n+1) - 1`, `[τ^i]G2`, `[ατ^i]G1` and
//! `[βτ^i]G1` for `i < 2^n`, and `[β]G2`; points are uncompressed `x | y`, each
//! coordinate 32 bytes little-endian in Montgomery form, the point at infinity all zeros.
//! Section 7 holds the contributions, which [`crate::phase1`] verifies; sections 12 to
//! 15 (after `prepare phase2`) the same points in Lagrange form, which
//! [`crate::zkey::new_zkey`] checks against the powers rather than trusts.

use ark_bn254::{Fq, Fq2, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::{BigInt, BigInteger, Field, PrimeField, UniformRand, Zero};
use rand::RngCore;

use crate::ratio::{combine, same_ratio};

/// The largest power read (2^24 points per section: a few GiB).
pub const MAX_POWER: u32 = 24;

/// The largest power a BN254 ceremony can have (the scalar field's 2-adicity).
pub const MAX_CEREMONY_POWER: u32 = 28;

/// Why a `.ptau` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PtauError {
    /// The file cannot be read.
    #[error("cannot read {0}")]
    Unreadable(String),
    /// Not a BN254 `.ptau`, or damaged.
    #[error("not a BN254 .ptau file: {0}")]
    Format(String),
    /// A point is not on the curve, or not in the prime-order subgroup.
    #[error("{section}[{index}] is not a valid point: {why}")]
    Point {
        /// The section's name.
        section: &'static str,
        /// The point's index.
        index: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// The points are not powers of one τ (with α and β).
    #[error("the powers are inconsistent: {0}")]
    Inconsistent(&'static str),
    /// The transcript holds no contribution: the secrets are 1, known to all.
    #[error("the file has no contribution: its secrets are known to all (as `powersoftau new` makes it)")]
    NoContribution,
    /// A contribution of the transcript (section 7) does not verify.
    #[error("contribution #{index}: {reason}")]
    Contribution {
        /// Its number, from 1.
        index: usize,
        /// What fails.
        reason: String,
    },
}

fn format(why: impl Into<String>) -> PtauError {
    PtauError::Format(why.into())
}

/// The powers of a phase-1 ceremony.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ptau {
    /// The file's power `n`: it serves circuits of up to `2^n` constraints and inputs.
    pub power: u32,
    /// The power the ceremony was run at (`≥ power`).
    pub ceremony_power: u32,
    /// `[τ^i]G1`, `i < 2^(n+1) - 1`.
    pub tau_g1: Vec<G1Affine>,
    /// `[τ^i]G2`, `i < 2^n`.
    pub tau_g2: Vec<G2Affine>,
    /// `[ατ^i]G1`, `i < 2^n`.
    pub alpha_tau_g1: Vec<G1Affine>,
    /// `[βτ^i]G1`, `i < 2^n`.
    pub beta_tau_g1: Vec<G1Affine>,
    /// `[β]G2`.
    pub beta_g2: G2Affine,
}

/// A base-field element stored in Montgomery form, if canonical.
fn fq_from_montgomery(b: &[u8]) -> Option<Fq> {
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().zip(b.chunks_exact(8)) {
        *limb = u64::from_le_bytes(chunk.try_into().ok()?);
    }
    let repr = BigInt::new(limbs);
    (repr < Fq::MODULUS).then(|| Fq::new_unchecked(repr))
}

pub(crate) fn fq_to_montgomery(x: &Fq) -> Vec<u8> {
    // `x.0` is the Montgomery representation.
    x.0.to_bytes_le()
}

pub(crate) fn g1_of(b: &[u8], section: &'static str, index: usize) -> Result<G1Affine, PtauError> {
    let bad = |why| PtauError::Point {
        section,
        index,
        why,
    };
    let x = fq_from_montgomery(&b[..32]).ok_or(bad("a coordinate at or above the modulus"))?;
    let y = fq_from_montgomery(&b[32..64]).ok_or(bad("a coordinate at or above the modulus"))?;
    if x.is_zero() && y.is_zero() {
        return Ok(G1Affine::zero());
    }
    let p = G1Affine::new_unchecked(x, y);
    if !p.is_on_curve() {
        return Err(bad("not on the curve"));
    }
    // G1 of BN254 has cofactor 1: on the curve is in the group.
    Ok(p)
}

pub(crate) fn g2_of(b: &[u8], section: &'static str, index: usize) -> Result<G2Affine, PtauError> {
    let bad = |why| PtauError::Point {
        section,
        index,
        why,
    };
    let c = |o: usize| {
        fq_from_montgomery(&b[o..o + 32]).ok_or(bad("a coordinate at or above the modulus"))
    };
    let (x, y) = (Fq2::new(c(0)?, c(32)?), Fq2::new(c(64)?, c(96)?));
    if x.is_zero() && y.is_zero() {
        return Ok(G2Affine::zero());
    }
    let p = G2Affine::new_unchecked(x, y);
    if !p.is_on_curve() {
        return Err(bad("not on the curve"));
    }
    if !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(bad("not in the prime-order subgroup"));
    }
    Ok(p)
}

fn points<T>(
    body: &[u8],
    count: usize,
    size: usize,
    section: &'static str,
    read: impl Fn(&[u8], &'static str, usize) -> Result<T, PtauError>,
) -> Result<Vec<T>, PtauError> {
    if body.len() != count * size {
        return Err(format(format!(
            "{section} holds {} bytes, not {count} points",
            body.len()
        )));
    }
    body.chunks_exact(size)
        .enumerate()
        .map(|(i, b)| read(b, section, i))
        .collect()
}

/// Reads and validates a `.ptau` held in memory (every point on the curve and in its
/// subgroup). Use [`Ptau::check`] to check that the points are powers of one secret.
pub fn read_ptau(bytes: &[u8]) -> Result<Ptau, PtauError> {
    read_ptau_from(std::io::Cursor::new(bytes), bytes.len() as u64, None)
}

/// Reads the powers up to `2^power` (default: all the file holds) of the `.ptau` at
/// `path`, without reading the rest: a large ceremony file (the Hermez files go to
/// 2^28, tens of GB) serves a small statement from its first powers.
pub fn read_ptau_file(path: &std::path::Path, power: Option<u32>) -> Result<Ptau, PtauError> {
    PtauFile::open(path)?.powers(power)
}

/// Reads the powers up to `2^power` (default: all) of the `.ptau` at `path` and checks
/// them ([`Ptau::check`]) and its transcript ([`crate::phase1::verify`]): every
/// contribution's proofs and points, and, when all the points are read, that the last
/// challenge hashes them. Returns the powers and the contributions (each with its
/// [`crate::phase1::Contribution::response_hash`]). The first challenge hashes the
/// ceremony's initial points: a file from a ceremony of 2^28 makes that about 100 GB of
/// hashing.
pub fn check_ptau_file(
    path: &std::path::Path,
    power: Option<u32>,
    rng: &mut impl RngCore,
) -> Result<(Ptau, Vec<crate::phase1::Contribution>), PtauError> {
    let mut file = PtauFile::open(path)?;
    let ptau = file.powers(power)?;
    ptau.check(rng)?;
    let contributions = file.contributions()?;
    let whole = ptau.power == file.power;
    crate::phase1::verify(&contributions, &ptau, whole)?;
    Ok((ptau, contributions))
}

/// An open `.ptau`: its section table and header, read lazily by point ranges.
pub(crate) struct PtauFile<R> {
    r: R,
    /// (type, offset, size) of each section.
    sections: Vec<(u32, u64, u64)>,
    /// The file's power `n`.
    pub power: u32,
    /// The ceremony's power.
    pub ceremony_power: u32,
}

impl PtauFile<std::io::BufReader<std::fs::File>> {
    /// Opens the `.ptau` at `path` and reads its section table and header.
    pub(crate) fn open(path: &std::path::Path) -> Result<Self, PtauError> {
        let io = |e: std::io::Error| PtauError::Unreadable(format!("{}: {e}", path.display()));
        let file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        PtauFile::parse(std::io::BufReader::new(file), len)
    }
}

fn io_format(e: std::io::Error) -> PtauError {
    format(format!("cannot read: {e}"))
}

impl<R: std::io::Read + std::io::Seek> PtauFile<R> {
    pub(crate) fn parse(mut r: R, len: u64) -> Result<Self, PtauError> {
        use std::io::SeekFrom;
        let mut head = [0u8; 12];
        r.read_exact(&mut head).map_err(io_format)?;
        let word = |b: &[u8], o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        if &head[..4] != b"ptau" || word(&head, 4) != 1 {
            return Err(format("wrong magic or version"));
        }
        // The section table: (type, offset, size), every section inside the file.
        let mut sections = Vec::new();
        let mut at = 12u64;
        for _ in 0..word(&head, 8) {
            let mut frame = [0u8; 12];
            r.read_exact(&mut frame).map_err(io_format)?;
            let size = u64::from_le_bytes(frame[4..12].try_into().map_err(|_| format("frame"))?);
            at += 12;
            if at.checked_add(size).is_none_or(|end| end > len) {
                return Err(format("a section runs past the end of the file"));
            }
            sections.push((word(&frame, 0), at, size));
            at += size;
            r.seek(SeekFrom::Start(at)).map_err(io_format)?;
        }
        if at != len {
            return Err(format("bytes after the last section"));
        }
        let mut file = PtauFile {
            r,
            sections,
            power: 0,
            ceremony_power: 0,
        };
        let (o, n) = file.section(1)?;
        if n != 4 + 32 + 4 + 4 {
            return Err(format("its curve is not BN254"));
        }
        let header = file.read_at(o, 44)?;
        if header[..4] != 32u32.to_le_bytes() || header[4..36] != Fq::MODULUS.to_bytes_le()[..] {
            return Err(format("its curve is not BN254"));
        }
        let (power, ceremony_power) = (word(&header, 36), word(&header, 40));
        // BN254's scalar field has 2-adicity 28: no ceremony goes beyond 2^28.
        if power == 0 || ceremony_power < power || ceremony_power > MAX_CEREMONY_POWER {
            return Err(format(format!(
                "power {power} (ceremony power {ceremony_power})"
            )));
        }
        file.power = power;
        file.ceremony_power = ceremony_power;
        Ok(file)
    }

    /// The offset and size of the one section of `kind`.
    pub(crate) fn section(&self, kind: u32) -> Result<(u64, u64), PtauError> {
        let mut found = self.sections.iter().filter(|(k, _, _)| *k == kind);
        match (found.next(), found.next()) {
            (Some((_, o, n)), None) => Ok((*o, *n)),
            (None, _) => Err(format(format!("no section {kind}"))),
            (Some(_), Some(_)) => Err(format(format!("section {kind} twice"))),
        }
    }

    /// Whether the file has a section of `kind`.
    pub(crate) fn has(&self, kind: u32) -> bool {
        self.sections.iter().any(|(k, _, _)| *k == kind)
    }

    fn read_at(&mut self, offset: u64, n: usize) -> Result<Vec<u8>, PtauError> {
        use std::io::SeekFrom;
        self.r.seek(SeekFrom::Start(offset)).map_err(io_format)?;
        let mut b = vec![0u8; n];
        self.r.read_exact(&mut b).map_err(io_format)?;
        Ok(b)
    }

    /// The raw bytes of points `first..first + count` of section `kind`, whose points
    /// are `size` bytes each; refused if they run past the section.
    pub(crate) fn points_raw(
        &mut self,
        kind: u32,
        first: u64,
        count: usize,
        size: usize,
    ) -> Result<Vec<u8>, PtauError> {
        let (o, len) = self.section(kind)?;
        let end = (first + count as u64) * size as u64;
        if end > len {
            return Err(format(format!(
                "section {kind} holds {len} bytes, too few for points {first}..{}",
                first + count as u64
            )));
        }
        self.read_at(o + first * size as u64, count * size)
    }

    /// The contributions (section 7), every point validated.
    pub(crate) fn contributions(&mut self) -> Result<Vec<crate::phase1::Contribution>, PtauError> {
        let (o, len) = self.section(7)?;
        if len > 1 << 26 {
            return Err(format(format!("section 7 holds {len} bytes")));
        }
        let bytes = self.read_at(o, len as usize)?;
        crate::phase1::parse_contributions(&bytes)
    }

    /// Checks that section `kind` holds exactly `count` points of `size` bytes.
    pub(crate) fn expect_len(&self, kind: u32, count: u64, size: usize) -> Result<(), PtauError> {
        let (_, len) = self.section(kind)?;
        if len != count * size as u64 {
            return Err(format(format!(
                "section {kind} holds {len} bytes, not {count} points"
            )));
        }
        Ok(())
    }

    /// Points `first..first + count` of a G1 section, validated.
    pub(crate) fn g1s(
        &mut self,
        kind: u32,
        name: &'static str,
        first: u64,
        count: usize,
    ) -> Result<Vec<G1Affine>, PtauError> {
        let raw = self.points_raw(kind, first, count, 64)?;
        points(&raw, count, 64, name, g1_of)
    }

    /// Points `first..first + count` of a G2 section, validated.
    pub(crate) fn g2s(
        &mut self,
        kind: u32,
        name: &'static str,
        first: u64,
        count: usize,
    ) -> Result<Vec<G2Affine>, PtauError> {
        let raw = self.points_raw(kind, first, count, 128)?;
        points(&raw, count, 128, name, g2_of)
    }
}

fn read_ptau_from<R: std::io::Read + std::io::Seek>(
    r: R,
    len: u64,
    power: Option<u32>,
) -> Result<Ptau, PtauError> {
    PtauFile::parse(r, len)?.powers(power)
}

impl<R: std::io::Read + std::io::Seek> PtauFile<R> {
    /// The powers up to `2^power` (default: all the file holds), validated.
    pub(crate) fn powers(&mut self, power: Option<u32>) -> Result<Ptau, PtauError> {
        let file_power = self.power;
        let power = power.unwrap_or(file_power);
        if power == 0 || power > file_power {
            return Err(format(format!(
                "power {power} asked; the file holds powers 1 to {file_power}"
            )));
        }
        if power > MAX_POWER {
            return Err(format(format!(
                "power {power}: medproof reads at most 2^{MAX_POWER} powers; ask for fewer"
            )));
        }
        let (full, n) = (1u64 << file_power, 1usize << power);
        self.expect_len(2, 2 * full - 1, 64)?;
        self.expect_len(3, full, 128)?;
        self.expect_len(4, full, 64)?;
        self.expect_len(5, full, 64)?;
        self.expect_len(6, 1, 128)?;
        Ok(Ptau {
            power,
            ceremony_power: self.ceremony_power,
            tau_g1: self.g1s(2, "tauG1", 0, 2 * n - 1)?,
            tau_g2: self.g2s(3, "tauG2", 0, n)?,
            alpha_tau_g1: self.g1s(4, "alphaTauG1", 0, n)?,
            beta_tau_g1: self.g1s(5, "betaTauG1", 0, n)?,
            beta_g2: self.g2s(6, "betaG2", 0, 1)?[0],
        })
    }
}

impl Ptau {
    /// Checks that the points are powers of one τ, α and β: the generators first,
    /// `τ` the same in G1 and G2, each section's consecutive points in ratio τ (a random
    /// linear combination each, so one pairing equation per section), α and β shared by
    /// their sections, and no secret zero.
    pub fn check(&self, rng: &mut impl RngCore) -> Result<(), PtauError> {
        use PtauError::Inconsistent as bad;
        let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
        if self.tau_g1[0] != g1 || self.tau_g2[0] != g2 {
            return Err(bad("the first powers are not the generators"));
        }
        let tau_g2 = self.tau_g2[1];
        if self.tau_g1[1].is_zero() || self.alpha_tau_g1[0].is_zero() || self.beta_g2.is_zero() {
            return Err(bad("τ, α or β is zero"));
        }
        if !same_ratio(g1, self.tau_g1[1], g2, tau_g2) {
            return Err(bad("τ differs between G1 and G2"));
        }
        // One random combination per section: Σ r_i x_{i+1} = τ Σ r_i x_i.
        let mut shifted = |ps: &[G1Affine]| -> bool {
            let r: Vec<ark_bn254::Fr> = (0..ps.len() - 1).map(|_| UniformRand::rand(rng)).collect();
            same_ratio(
                combine(&ps[..ps.len() - 1], &r),
                combine(&ps[1..], &r),
                g2,
                tau_g2,
            )
        };
        if !shifted(&self.tau_g1) {
            return Err(bad("tauG1 is not a sequence of powers of τ"));
        }
        if !shifted(&self.alpha_tau_g1) {
            return Err(bad("alphaTauG1 is not a sequence of powers of τ"));
        }
        if !shifted(&self.beta_tau_g1) {
            return Err(bad("betaTauG1 is not a sequence of powers of τ"));
        }
        let r: Vec<ark_bn254::Fr> = (0..self.tau_g2.len() - 1)
            .map(|_| UniformRand::rand(rng))
            .collect();
        let low = combine(&self.tau_g2[..self.tau_g2.len() - 1], &r);
        let high = combine(&self.tau_g2[1..], &r);
        // e(G1, Σ r_i τ^{i+1} G2) == e(τ G1, Σ r_i τ^i G2)
        if !same_ratio(g1, self.tau_g1[1], low, high) {
            return Err(bad("tauG2 is not a sequence of powers of τ"));
        }
        // The first alpha and beta powers match β in G2 and α across sections:
        // e(βG1, G2) == e(G1, βG2); e(ατ G1, G2) == e(α G1, τ G2) is implied above.
        if !same_ratio(g1, self.beta_tau_g1[0], g2, self.beta_g2) {
            return Err(bad("β differs between betaTauG1 and betaG2"));
        }
        Ok(())
    }
}

/// G1 points as snarkjs stores them: `x | y`, each 32 bytes little-endian in Montgomery
/// form; the point at infinity all zeros.
pub(crate) fn g1_lem(ps: &[G1Affine]) -> Vec<u8> {
    ps.iter()
        .flat_map(|p| match p.xy() {
            Some((x, y)) => [fq_to_montgomery(&x), fq_to_montgomery(&y)].concat(),
            None => vec![0u8; 64],
        })
        .collect()
}

/// G2 points as snarkjs stores them: `x.c0 | x.c1 | y.c0 | y.c1`, Montgomery form.
pub(crate) fn g2_lem(ps: &[G2Affine]) -> Vec<u8> {
    ps.iter()
        .flat_map(|p| match p.xy() {
            Some((x, y)) => [x.c0, x.c1, y.c0, y.c1]
                .iter()
                .flat_map(fq_to_montgomery)
                .collect(),
            None => vec![0u8; 128],
        })
        .collect()
}

/// Writes `ptau` as snarkjs does (sections 1 to 7, no contributions), for tests and
/// for tools that make small phase-1 files of their own.
pub fn write_ptau(ptau: &Ptau) -> Vec<u8> {
    let mut header = 32u32.to_le_bytes().to_vec();
    header.extend_from_slice(&Fq::MODULUS.to_bytes_le());
    header.extend_from_slice(&ptau.power.to_le_bytes());
    header.extend_from_slice(&ptau.ceremony_power.to_le_bytes());
    crate::circom::container(
        b"ptau",
        1,
        &[
            (1, header),
            (2, g1_lem(&ptau.tau_g1)),
            (3, g2_lem(&ptau.tau_g2)),
            (4, g1_lem(&ptau.alpha_tau_g1)),
            (5, g1_lem(&ptau.beta_tau_g1)),
            (6, g2_lem(&[ptau.beta_g2])),
            (7, 0u32.to_le_bytes().to_vec()),
        ],
    )
}

/// A `.ptau` of the powers of `tau`, `alpha` and `beta` at `power`, prepared for phase 2
/// as `snarkjs powersoftau prepare phase2` prepares one: sections 1 to 7, then 12 to 15,
/// the Lagrange points of every domain from 1 to `2^power` (and `2^(power+1)` for τ in
/// G1, its last power taken as zero). Computed from the secrets, in the field (tests and
/// benchmarks; a real phase 1 never holds its secrets in one place).
pub fn prepared_from_secrets(
    power: u32,
    tau: ark_bn254::Fr,
    alpha: ark_bn254::Fr,
    beta: ark_bn254::Fr,
) -> Vec<u8> {
    use ark_bn254::Fr;
    use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
    use rayon::prelude::*;
    // The Lagrange coefficients at τ of every domain, each times `k`.
    let lagrange = |blocks: u32, k: Fr| -> Vec<Fr> {
        let mut out = Vec::new();
        for p in 0..blocks {
            let n = 1usize << p;
            let full = p <= power;
            let mut v: Vec<Fr> = (0..n)
                .map(|i| match full || i + 1 < n {
                    true => tau.pow([i as u64]) * k,
                    false => Fr::zero(),
                })
                .collect();
            if let Some(d) = Radix2EvaluationDomain::<Fr>::new(n) {
                d.ifft_in_place(&mut v);
            }
            out.extend(v);
        }
        out
    };
    let g1 = |s: &[Fr]| -> Vec<u8> {
        let v: Vec<G1Projective> = s
            .par_iter()
            .map(|k| G1Projective::generator() * k)
            .collect();
        g1_lem(&G1Projective::normalize_batch(&v))
    };
    let g2 = |s: &[Fr]| -> Vec<u8> {
        let v: Vec<G2Projective> = s
            .par_iter()
            .map(|k| G2Projective::generator() * k)
            .collect();
        g2_lem(&G2Projective::normalize_batch(&v))
    };
    let one = Fr::from(1u64);
    let mut bytes = write_ptau(&from_secrets(power, tau, alpha, beta));
    let sections = [
        (12u32, g1(&lagrange(power + 2, one))),
        (13, g2(&lagrange(power + 1, one))),
        (14, g1(&lagrange(power + 1, alpha))),
        (15, g1(&lagrange(power + 1, beta))),
    ];
    let count = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) + 4;
    bytes[8..12].copy_from_slice(&count.to_le_bytes());
    for (kind, body) in sections {
        bytes.extend_from_slice(&kind.to_le_bytes());
        bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
        bytes.extend(body);
    }
    bytes
}

/// The powers of `tau`, `alpha` and `beta` at `power` (tests; a real phase 1 never
/// holds its secrets in one place).
pub fn from_secrets(
    power: u32,
    tau: ark_bn254::Fr,
    alpha: ark_bn254::Fr,
    beta: ark_bn254::Fr,
) -> Ptau {
    let n = 1usize << power;
    let mut powers = Vec::with_capacity(2 * n);
    let mut t = ark_bn254::Fr::from(1u64);
    for _ in 0..2 * n - 1 {
        powers.push(t);
        t *= tau;
    }
    let g1 = G1Projective::generator();
    let g2 = G2Projective::generator();
    use rayon::prelude::*;
    let times_g1 = |k: ark_bn254::Fr| -> Vec<G1Affine> {
        G1Projective::normalize_batch(
            &powers[..n]
                .par_iter()
                .map(|p| g1 * (*p * k))
                .collect::<Vec<_>>(),
        )
    };
    Ptau {
        power,
        ceremony_power: power,
        tau_g1: G1Projective::normalize_batch(
            &powers.par_iter().map(|p| g1 * p).collect::<Vec<_>>(),
        ),
        tau_g2: G2Projective::normalize_batch(
            &powers[..n].par_iter().map(|p| g2 * p).collect::<Vec<_>>(),
        ),
        alpha_tau_g1: times_g1(alpha),
        beta_tau_g1: times_g1(beta),
        beta_g2: (g2 * beta).into_affine(),
    }
}

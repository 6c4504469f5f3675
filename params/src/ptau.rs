//! Phase 1 of a Groth16 setup from a snarkjs `.ptau` file (the format of the Perpetual
//! Powers of Tau and Hermez ceremonies): read, every point validated, and checked to be
//! powers of one secret τ (with α and β) by pairings, so that a phase 2 can start from it.
//!
//! The file is an iden3 binary container (magic `ptau`, version 1). Section 1 holds the
//! base field's size and modulus, the file's power `n` and the ceremony's power;
//! sections 2 to 6 hold `[τ^i]G1` for `i < 2^(n+1) - 1`, `[τ^i]G2`, `[ατ^i]G1` and
//! `[βτ^i]G1` for `i < 2^n`, and `[β]G2`; points are uncompressed `x | y`, each
//! coordinate 32 bytes little-endian in Montgomery form, the point at infinity all zeros.
//! Section 7 holds the contributions (their hashes are checked by a later slice, with
//! the phase-2 transcript); sections 12 to 15 (after `prepare phase2`) the same points in
//! Lagrange form, which medproof recomputes rather than trusts.

use ark_bn254::{Bn254, Fq, Fq2, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{BigInt, BigInteger, PrimeField, UniformRand, Zero};
use rand::RngCore;

/// The largest power read (2^24 points per section: a few GiB).
pub const MAX_POWER: u32 = 24;

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

fn fq_to_montgomery(x: &Fq) -> Vec<u8> {
    // `x.0` is the Montgomery representation.
    x.0.to_bytes_le()
}

fn g1_of(b: &[u8], section: &'static str, index: usize) -> Result<G1Affine, PtauError> {
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

fn g2_of(b: &[u8], section: &'static str, index: usize) -> Result<G2Affine, PtauError> {
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
    let io = |e: std::io::Error| PtauError::Unreadable(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    read_ptau_from(std::io::BufReader::new(file), len, power)
}

fn read_ptau_from<R: std::io::Read + std::io::Seek>(
    mut r: R,
    len: u64,
    power: Option<u32>,
) -> Result<Ptau, PtauError> {
    use std::io::SeekFrom;
    let io = |e: std::io::Error| format(format!("cannot read: {e}"));
    let read = |r: &mut R, n: usize| -> Result<Vec<u8>, PtauError> {
        let mut b = vec![0u8; n];
        r.read_exact(&mut b).map_err(io)?;
        Ok(b)
    };
    let head = read(&mut r, 12)?;
    let word = |b: &[u8], o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    if &head[..4] != b"ptau" || word(&head, 4) != 1 {
        return Err(format("wrong magic or version"));
    }
    // The section table: (type, offset, size), every section inside the file.
    let mut sections = Vec::new();
    let mut at = 12u64;
    for _ in 0..word(&head, 8) {
        let frame = read(&mut r, 12)?;
        let size = u64::from_le_bytes(frame[4..12].try_into().map_err(|_| format("frame"))?);
        at += 12;
        if at.checked_add(size).is_none_or(|end| end > len) {
            return Err(format("a section runs past the end of the file"));
        }
        sections.push((word(&frame, 0), at, size));
        at += size;
        r.seek(SeekFrom::Start(at)).map_err(io)?;
    }
    if at != len {
        return Err(format("bytes after the last section"));
    }
    let find = |kind: u32| -> Result<(u64, u64), PtauError> {
        let mut found = sections.iter().filter(|(k, _, _)| *k == kind);
        match (found.next(), found.next()) {
            (Some((_, o, n)), None) => Ok((*o, *n)),
            (None, _) => Err(format(format!("no section {kind}"))),
            (Some(_), Some(_)) => Err(format(format!("section {kind} twice"))),
        }
    };
    let (o, n) = find(1)?;
    r.seek(SeekFrom::Start(o)).map_err(io)?;
    let header = read(
        &mut r,
        usize::try_from(n).map_err(|_| format("header"))?.min(64),
    )?;
    if header.len() != 4 + 32 + 4 + 4
        || header[..4] != 32u32.to_le_bytes()
        || header[4..36] != Fq::MODULUS.to_bytes_le()[..]
    {
        return Err(format("its curve is not BN254"));
    }
    let (file_power, ceremony_power) = (word(&header, 36), word(&header, 40));
    if file_power == 0 || file_power > 32 || ceremony_power < file_power {
        return Err(format(format!(
            "power {file_power} (ceremony power {ceremony_power})"
        )));
    }
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
    let mut section = |kind: u32, count: usize, size: usize, full_count: u64| {
        let (o, len) = find(kind)?;
        if len != full_count * size as u64 {
            return Err(format(format!(
                "section {kind} holds {len} bytes, not {full_count} points"
            )));
        }
        r.seek(SeekFrom::Start(o)).map_err(io)?;
        read(&mut r, count * size)
    };
    let tau_g1 = section(2, 2 * n - 1, 64, 2 * full - 1)?;
    let tau_g2 = section(3, n, 128, full)?;
    let alpha = section(4, n, 64, full)?;
    let beta = section(5, n, 64, full)?;
    let beta_g2 = section(6, 1, 128, 1)?;
    Ok(Ptau {
        power,
        ceremony_power,
        tau_g1: points(&tau_g1, 2 * n - 1, 64, "tauG1", g1_of)?,
        tau_g2: points(&tau_g2, n, 128, "tauG2", g2_of)?,
        alpha_tau_g1: points(&alpha, n, 64, "alphaTauG1", g1_of)?,
        beta_tau_g1: points(&beta, n, 64, "betaTauG1", g1_of)?,
        beta_g2: points(&beta_g2, 1, 128, "betaG2", g2_of)?[0],
    })
}

/// `Σ r_i p_i` for the points `ps[range]`.
fn combine<A: AffineRepr>(ps: &[A], r: &[A::ScalarField]) -> A::Group
where
    A::Group: VariableBaseMSM<MulBase = A>,
{
    <A::Group as VariableBaseMSM>::msm_unchecked(ps, r)
}

/// Whether `e(a1, a2) == e(b1, b2)`.
fn same_ratio(a1: G1Projective, a2: G2Affine, b1: G1Projective, b2: G2Affine) -> bool {
    Bn254::multi_pairing([a1.into_affine(), (-b1).into_affine()], [a2, b2]).is_zero()
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
        if !same_ratio(self.tau_g1[1].into_group(), g2, g1.into_group(), tau_g2) {
            return Err(bad("τ differs between G1 and G2"));
        }
        // One random combination per section: Σ r_i x_{i+1} = τ Σ r_i x_i.
        let mut shifted = |ps: &[G1Affine]| -> bool {
            let r: Vec<ark_bn254::Fr> = (0..ps.len() - 1).map(|_| UniformRand::rand(rng)).collect();
            let low = combine(&ps[..ps.len() - 1], &r);
            let high = combine(&ps[1..], &r);
            same_ratio(high, g2, low, tau_g2)
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
        let low = combine(&self.tau_g2[..self.tau_g2.len() - 1], &r).into_affine();
        let high = combine(&self.tau_g2[1..], &r).into_affine();
        // e(G1, Σ r_i τ^{i+1} G2) == e(τ G1, Σ r_i τ^i G2)
        if !Bn254::multi_pairing(
            [g1, (-self.tau_g1[1].into_group()).into_affine()],
            [high, low],
        )
        .is_zero()
        {
            return Err(bad("tauG2 is not a sequence of powers of τ"));
        }
        // The first alpha and beta powers match β in G2 and α across sections:
        // e(βG1, G2) == e(G1, βG2); e(ατ G1, G2) == e(α G1, τ G2) is implied above.
        if !same_ratio(
            self.beta_tau_g1[0].into_group(),
            g2,
            g1.into_group(),
            self.beta_g2,
        ) {
            return Err(bad("β differs between betaTauG1 and betaG2"));
        }
        Ok(())
    }
}

/// Writes `ptau` as snarkjs does (sections 1 to 7, no contributions), for tests and
/// for tools that make small phase-1 files of their own.
pub fn write_ptau(ptau: &Ptau) -> Vec<u8> {
    let g1 = |ps: &[G1Affine]| -> Vec<u8> {
        ps.iter()
            .flat_map(|p| match p.xy() {
                Some((x, y)) => [fq_to_montgomery(&x), fq_to_montgomery(&y)].concat(),
                None => vec![0u8; 64],
            })
            .collect()
    };
    let g2 = |ps: &[G2Affine]| -> Vec<u8> {
        ps.iter()
            .flat_map(|p| match p.xy() {
                Some((x, y)) => [x.c0, x.c1, y.c0, y.c1]
                    .iter()
                    .flat_map(fq_to_montgomery)
                    .collect(),
                None => vec![0u8; 128],
            })
            .collect()
    };
    let mut header = 32u32.to_le_bytes().to_vec();
    header.extend_from_slice(&Fq::MODULUS.to_bytes_le());
    header.extend_from_slice(&ptau.power.to_le_bytes());
    header.extend_from_slice(&ptau.ceremony_power.to_le_bytes());
    crate::circom::container(
        b"ptau",
        1,
        &[
            (1, header),
            (2, g1(&ptau.tau_g1)),
            (3, g2(&ptau.tau_g2)),
            (4, g1(&ptau.alpha_tau_g1)),
            (5, g1(&ptau.beta_tau_g1)),
            (6, g2(&[ptau.beta_g2])),
            (7, 0u32.to_le_bytes().to_vec()),
        ],
    )
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
    let times_g1 = |k: ark_bn254::Fr| -> Vec<G1Affine> {
        G1Projective::normalize_batch(
            &powers[..n]
                .iter()
                .map(|p| g1 * (*p * k))
                .collect::<Vec<_>>(),
        )
    };
    Ptau {
        power,
        ceremony_power: power,
        tau_g1: G1Projective::normalize_batch(&powers.iter().map(|p| g1 * p).collect::<Vec<_>>()),
        tau_g2: G2Projective::normalize_batch(
            &powers[..n].iter().map(|p| g2 * p).collect::<Vec<_>>(),
        ),
        alpha_tau_g1: times_g1(alpha),
        beta_tau_g1: times_g1(beta),
        beta_g2: (g2 * beta).into_affine(),
    }
}

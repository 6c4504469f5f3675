//! Phase 2 of a Groth16 setup in snarkjs's `.zkey` format, so that medproof and snarkjs
//! can take turns in one ceremony and anyone can check it with either tool.
//!
//! A `.zkey` is an iden3 binary container (magic `zkey`, version 1): section 1 the
//! protocol (1 = Groth16); 2 the sizes and the verifying key's points (α, β in G1 and
//! G2, γ, δ); 3 `IC` (the public inputs' points); 4 the A and B matrices' coefficients;
//! 5, 6, 7 each wire's `A(τ)`, `B(τ)` in G1 and G2; 8 `C`, the private wires'
//! `(βA + αB + C)(τ)/δ`; 9 `H`, the doubled domain's odd Lagrange points over δ (see
//! [`crate::reduction`]); 10 the circuit hash and the contributions. Points as in a
//! `.ptau` (Montgomery form); coefficients times R² (snarkjs's "double Montgomery").
//!
//! [`new_zkey`] starts phase 2 from a prepared `.ptau` and a statement's constraint
//! system exactly as `snarkjs zkey new` does, so that both compute the same file and the
//! same circuit hash. It does not trust the `.ptau`: the powers pass the pairing checks of
//! [`crate::ptau`], and each Lagrange section it uses is checked against the powers by a
//! random linear combination (`Σ r_j L_j = Σ_k ifft(r)_k τ^k`, one MSM pair a section)
//! rather than recomputed.

use std::path::Path;

use ark_bn254::{Bn254, Fq, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{BigInteger, Field, PrimeField, UniformRand, Zero};
use ark_groth16::{ProvingKey, VerifyingKey};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use blake2::{Blake2b512, Digest};
use medproof_circuits::shape::CircuitShape;
use rand::RngCore;
use rayon::prelude::*;

use crate::circom::{self, CircomError};
use crate::ptau::{self, PtauError, PtauFile};

const MAGIC: &[u8; 4] = b"zkey";
const WHAT: &str = "zkey";
/// snarkjs's protocol id for Groth16.
const GROTH16: u32 = 1;
/// The largest domain read (as for `.ptau` files).
const MAX_DOMAIN_POWER: u32 = ptau::MAX_POWER;

/// Why a `.zkey` (or the making of one) is refused.
#[derive(Debug, thiserror::Error)]
pub enum ZkeyError {
    /// The file cannot be read or written.
    #[error("cannot read {0}")]
    Unreadable(String),
    /// Not a BN254 Groth16 `.zkey`, or damaged.
    #[error("not a BN254 Groth16 .zkey: {0}")]
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
    /// The phase-1 file is refused.
    #[error("the .ptau: {0}")]
    Ptau(#[from] PtauError),
    /// The circuit does not fit the phase-1 file.
    #[error("{0}")]
    TooLarge(String),
}

fn format(why: impl Into<String>) -> ZkeyError {
    ZkeyError::Format(why.into())
}

impl From<CircomError> for ZkeyError {
    fn from(e: CircomError) -> Self {
        match e {
            CircomError::Io(e) => ZkeyError::Unreadable(e.to_string()),
            CircomError::Format { why, .. } => ZkeyError::Format(why),
        }
    }
}

fn point_error(e: PtauError) -> ZkeyError {
    match e {
        PtauError::Point {
            section,
            index,
            why,
        } => ZkeyError::Point {
            section,
            index,
            why,
        },
        other => format(other.to_string()),
    }
}

/// One coefficient of the A (matrix 0) or B (matrix 1) polynomials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coeff {
    /// 0 for A, 1 for B.
    pub matrix: u32,
    /// The row: a constraint, or `m + i` for the row binding public input `i`.
    pub constraint: u32,
    /// The wire.
    pub signal: u32,
    /// The coefficient.
    pub value: Fr,
}

/// A random beacon's parameters: the value published by a public source, and how many
/// times SHA-256 is iterated over it (2^exp).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beacon {
    /// The beacon's value.
    pub hash: Vec<u8>,
    /// log2 of the number of SHA-256 iterations (10 to 63).
    pub iterations_exp: u8,
}

/// One contribution to phase 2: δ after it, and the contributor's proof of knowledge of
/// the factor it multiplied δ by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// `[δ]G1` after this contribution.
    pub delta_after: G1Affine,
    /// A random point `s`.
    pub g1_s: G1Affine,
    /// `x·s`, where `x` is the contribution's secret factor.
    pub g1_sx: G1Affine,
    /// `x·h`, `h` the transcript hashed to G2.
    pub g2_spx: G2Affine,
    /// Blake2b-512 over the circuit hash, the earlier contributions' public keys, and
    /// `s`, `x·s`.
    pub transcript: [u8; 64],
    /// The contributor's name (at most 64 bytes).
    pub name: Option<String>,
    /// Set when the secret factor comes from a random beacon rather than a person.
    pub beacon: Option<Beacon>,
}

/// A Groth16 `.zkey`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zkey {
    /// Wires, counting the constant.
    pub n_vars: usize,
    /// Public inputs, not counting the constant.
    pub n_public: usize,
    /// The constraint domain's size (a power of two).
    pub domain_size: usize,
    /// `[α]G1`.
    pub alpha_g1: G1Affine,
    /// `[β]G1`.
    pub beta_g1: G1Affine,
    /// `[β]G2`.
    pub beta_g2: G2Affine,
    /// `[γ]G2` (the generator).
    pub gamma_g2: G2Affine,
    /// `[δ]G1`.
    pub delta_g1: G1Affine,
    /// `[δ]G2`.
    pub delta_g2: G2Affine,
    /// The public inputs' points, `(βA + αB + C)(τ)` (γ = 1).
    pub ic: Vec<G1Affine>,
    /// The A and B coefficients.
    pub coeffs: Vec<Coeff>,
    /// `[A_i(τ)]G1` per wire.
    pub a: Vec<G1Affine>,
    /// `[B_i(τ)]G1` per wire.
    pub b_g1: Vec<G1Affine>,
    /// `[B_i(τ)]G2` per wire.
    pub b_g2: Vec<G2Affine>,
    /// The private wires' `[(βA + αB + C)(τ)/δ]G1`.
    pub c: Vec<G1Affine>,
    /// The doubled domain's odd Lagrange points at τ, over δ.
    pub h: Vec<G1Affine>,
    /// Blake2b-512 of the initial key (snarkjs's "circuit hash").
    pub cs_hash: [u8; 64],
    /// The contributions, in order.
    pub contributions: Vec<Contribution>,
}

/// `R² mod r`: snarkjs stores coefficients multiplied by it.
fn r_squared() -> Fr {
    Fr::from(2u64).pow([512u64])
}

fn g1_points(body: &[u8], count: usize, name: &'static str) -> Result<Vec<G1Affine>, ZkeyError> {
    if body.len() != count * 64 {
        return Err(format(format!(
            "{name} holds {} bytes, not {count} points",
            body.len()
        )));
    }
    body.par_chunks_exact(64)
        .enumerate()
        .map(|(i, b)| ptau::g1_of(b, name, i).map_err(point_error))
        .collect()
}

fn g2_points(body: &[u8], count: usize, name: &'static str) -> Result<Vec<G2Affine>, ZkeyError> {
    if body.len() != count * 128 {
        return Err(format(format!(
            "{name} holds {} bytes, not {count} points",
            body.len()
        )));
    }
    body.par_chunks_exact(128)
        .enumerate()
        .map(|(i, b)| ptau::g2_of(b, name, i).map_err(point_error))
        .collect()
}

/// Reads a `.zkey` held in memory, every point validated (on the curve, G2 in its
/// subgroup), every coefficient canonical, every index in range.
pub fn read_zkey(bytes: &[u8]) -> Result<Zkey, ZkeyError> {
    let sections = circom::read_container(bytes, MAGIC, 1, WHAT)?;
    let one = |kind: u32| circom::one_section(&sections, kind, WHAT);
    let mut c = circom::Cursor::new(one(1)?, WHAT);
    let protocol = c.u32()?;
    if protocol != GROTH16 || !c.done() {
        return Err(format(format!(
            "protocol {protocol}: medproof reads Groth16 keys only"
        )));
    }
    let mut c = circom::Cursor::new(one(2)?, WHAT);
    if c.u32()? != 32 || c.take(32)? != Fq::MODULUS.to_bytes_le().as_slice() {
        return Err(format("its base field is not BN254's"));
    }
    if c.u32()? != 32 || c.take(32)? != Fr::MODULUS.to_bytes_le().as_slice() {
        return Err(format("its scalar field is not BN254's"));
    }
    let (n_vars, n_public, domain_size) = (c.u32()? as usize, c.u32()? as usize, c.u32()? as usize);
    if n_public + 1 > n_vars {
        return Err(format(format!(
            "{n_public} public inputs of {n_vars} wires"
        )));
    }
    if !domain_size.is_power_of_two()
        || !(2..=1 << MAX_DOMAIN_POWER).contains(&domain_size)
        || n_public + 1 >= domain_size
    {
        return Err(format(format!("domain size {domain_size}")));
    }
    let g1 = |c: &mut circom::Cursor, name| -> Result<G1Affine, ZkeyError> {
        Ok(g1_points(c.take(64)?, 1, name)?[0])
    };
    let g2 = |c: &mut circom::Cursor, name| -> Result<G2Affine, ZkeyError> {
        Ok(g2_points(c.take(128)?, 1, name)?[0])
    };
    let alpha_g1 = g1(&mut c, "alpha1")?;
    let beta_g1 = g1(&mut c, "beta1")?;
    let beta_g2 = g2(&mut c, "beta2")?;
    let gamma_g2 = g2(&mut c, "gamma2")?;
    let delta_g1 = g1(&mut c, "delta1")?;
    let delta_g2 = g2(&mut c, "delta2")?;
    if !c.done() {
        return Err(format("bytes after the Groth16 header"));
    }

    let mut c = circom::Cursor::new(one(4)?, WHAT);
    let count = c.u32()? as usize;
    let r2_inv = r_squared().inverse().ok_or_else(|| format("R²"))?;
    let mut coeffs = Vec::with_capacity(count.min(bytes.len() / 44));
    for _ in 0..count {
        let (matrix, constraint, signal) = (c.u32()?, c.u32()?, c.u32()?);
        let value =
            circom::fr_from_le32(c.take(32)?).ok_or_else(|| format("a coefficient not below r"))?;
        if matrix > 1 || constraint as usize >= domain_size || signal as usize >= n_vars {
            return Err(format(format!(
                "coefficient ({matrix}, {constraint}, {signal}) out of range"
            )));
        }
        coeffs.push(Coeff {
            matrix,
            constraint,
            signal,
            value: value * r2_inv,
        });
    }
    if !c.done() {
        return Err(format("bytes after the last coefficient"));
    }

    let (cs_hash, contributions) = read_mpc(one(10)?)?;
    Ok(Zkey {
        n_vars,
        n_public,
        domain_size,
        alpha_g1,
        beta_g1,
        beta_g2,
        gamma_g2,
        delta_g1,
        delta_g2,
        ic: g1_points(one(3)?, n_public + 1, "IC")?,
        coeffs,
        a: g1_points(one(5)?, n_vars, "A")?,
        b_g1: g1_points(one(6)?, n_vars, "B1")?,
        b_g2: g2_points(one(7)?, n_vars, "B2")?,
        c: g1_points(one(8)?, n_vars - n_public - 1, "C")?,
        h: g1_points(one(9)?, domain_size, "H")?,
        cs_hash,
        contributions,
    })
}

/// Reads section 10: the circuit hash and the contributions.
fn read_mpc(body: &[u8]) -> Result<([u8; 64], Vec<Contribution>), ZkeyError> {
    let mut c = circom::Cursor::new(body, WHAT);
    let mut cs_hash = [0u8; 64];
    cs_hash.copy_from_slice(c.take(64)?);
    let n = c.u32()? as usize;
    let mut contributions = Vec::with_capacity(n.min(body.len() / 392));
    for i in 0..n {
        let g1 = |c: &mut circom::Cursor| -> Result<G1Affine, ZkeyError> {
            Ok(g1_points(c.take(64)?, 1, "contribution")?[0])
        };
        let delta_after = g1(&mut c)?;
        let g1_s = g1(&mut c)?;
        let g1_sx = g1(&mut c)?;
        let g2_spx = g2_points(c.take(128)?, 1, "contribution")?[0];
        let mut transcript = [0u8; 64];
        transcript.copy_from_slice(c.take(64)?);
        let kind = c.u32()?;
        let len = c.u32()? as usize;
        let mut p = circom::Cursor::new(c.take(len)?, WHAT);
        let (mut name, mut exp, mut hash, mut last) = (None, None, None, 0u8);
        while !p.done() {
            let t = p.take(1)?[0];
            if t <= last {
                return Err(format(format!(
                    "contribution {}: parameters out of order",
                    i + 1
                )));
            }
            last = t;
            match t {
                1 => {
                    let n = p.take(1)?[0] as usize;
                    let s = std::str::from_utf8(p.take(n)?)
                        .map_err(|_| format(format!("contribution {}: a name not UTF-8", i + 1)))?;
                    name = Some(s.to_string());
                }
                2 => exp = Some(p.take(1)?[0]),
                3 => {
                    let n = p.take(1)?[0] as usize;
                    hash = Some(p.take(n)?.to_vec());
                }
                other => {
                    return Err(format(format!(
                        "contribution {}: unknown parameter {other}",
                        i + 1
                    )))
                }
            }
        }
        let beacon = match (kind, exp, hash) {
            (0, None, None) => None,
            (1, Some(iterations_exp), Some(hash)) => Some(Beacon {
                hash,
                iterations_exp,
            }),
            _ => {
                return Err(format(format!(
                    "contribution {}: type {kind} with these parameters",
                    i + 1
                )))
            }
        };
        contributions.push(Contribution {
            delta_after,
            g1_s,
            g1_sx,
            g2_spx,
            transcript,
            name,
            beacon,
        });
    }
    if !c.done() {
        return Err(format("bytes after the last contribution"));
    }
    Ok((cs_hash, contributions))
}

/// Reads the `.zkey` at `path`.
pub fn read_zkey_file(path: &Path) -> Result<Zkey, ZkeyError> {
    let bytes = std::fs::read(path)
        .map_err(|e| ZkeyError::Unreadable(format!("{}: {e}", path.display())))?;
    read_zkey(&bytes)
}

/// One contribution as snarkjs writes it.
fn contribution_bytes(c: &Contribution) -> Vec<u8> {
    let mut out = ptau::g1_lem(&[c.delta_after, c.g1_s, c.g1_sx]);
    out.extend(ptau::g2_lem(&[c.g2_spx]));
    out.extend_from_slice(&c.transcript);
    out.extend_from_slice(&u32::from(c.beacon.is_some()).to_le_bytes());
    let mut params = Vec::new();
    if let Some(name) = &c.name {
        params.push(1u8);
        params.push(name.len() as u8);
        params.extend_from_slice(name.as_bytes());
    }
    if let Some(b) = &c.beacon {
        params.extend_from_slice(&[2, b.iterations_exp, 3, b.hash.len() as u8]);
        params.extend_from_slice(&b.hash);
    }
    out.extend_from_slice(&(params.len() as u32).to_le_bytes());
    out.extend(params);
    out
}

/// Writes `z` as a `.zkey` (sections in order 1 to 10).
pub fn write_zkey(z: &Zkey) -> Vec<u8> {
    let mut header = Vec::new();
    header.extend_from_slice(&32u32.to_le_bytes());
    header.extend_from_slice(&Fq::MODULUS.to_bytes_le());
    header.extend_from_slice(&32u32.to_le_bytes());
    header.extend_from_slice(&Fr::MODULUS.to_bytes_le());
    for n in [z.n_vars, z.n_public, z.domain_size] {
        header.extend_from_slice(&(n as u32).to_le_bytes());
    }
    header.extend(ptau::g1_lem(&[z.alpha_g1, z.beta_g1]));
    header.extend(ptau::g2_lem(&[z.beta_g2, z.gamma_g2]));
    header.extend(ptau::g1_lem(&[z.delta_g1]));
    header.extend(ptau::g2_lem(&[z.delta_g2]));
    let r2 = r_squared();
    let mut coeffs = (z.coeffs.len() as u32).to_le_bytes().to_vec();
    for c in &z.coeffs {
        for w in [c.matrix, c.constraint, c.signal] {
            coeffs.extend_from_slice(&w.to_le_bytes());
        }
        coeffs.extend((c.value * r2).into_bigint().to_bytes_le());
    }
    let mut mpc = z.cs_hash.to_vec();
    mpc.extend_from_slice(&(z.contributions.len() as u32).to_le_bytes());
    for c in &z.contributions {
        mpc.extend(contribution_bytes(c));
    }
    circom::container(
        MAGIC,
        1,
        &[
            (1, GROTH16.to_le_bytes().to_vec()),
            (2, header),
            (3, ptau::g1_lem(&z.ic)),
            (4, coeffs),
            (5, ptau::g1_lem(&z.a)),
            (6, ptau::g1_lem(&z.b_g1)),
            (7, ptau::g2_lem(&z.b_g2)),
            (8, ptau::g1_lem(&z.c)),
            (9, ptau::g1_lem(&z.h)),
            (10, mpc),
        ],
    )
}

/// A base-field element as 32 bytes big-endian (standard form).
fn fq_be(x: &Fq) -> Vec<u8> {
    x.into_bigint().to_bytes_be()
}

/// A G1 point in snarkjs's uncompressed form, which its hashes cover: `x | y`
/// big-endian; the point at infinity all zeros.
pub(crate) fn g1_u(p: &G1Affine) -> Vec<u8> {
    match p.xy() {
        Some((x, y)) => [fq_be(&x), fq_be(&y)].concat(),
        None => vec![0u8; 64],
    }
}

/// A G2 point in snarkjs's uncompressed form: `x.c1 | x.c0 | y.c1 | y.c0` big-endian.
pub(crate) fn g2_u(p: &G2Affine) -> Vec<u8> {
    match p.xy() {
        Some((x, y)) => [fq_be(&x.c1), fq_be(&x.c0), fq_be(&y.c1), fq_be(&y.c0)].concat(),
        None => vec![0u8; 128],
    }
}

/// Hashes a length as snarkjs does (u32, big-endian).
fn hash_len(h: &mut Blake2b512, n: usize) {
    h.update((n as u32).to_be_bytes());
}

/// The phase-1 points a statement's phase 2 starts from, checked.
struct Phase1 {
    alpha_g1: G1Affine,
    beta_g1: G1Affine,
    beta_g2: G2Affine,
    /// `[τ^i]G1`, `i < 2d` (the last one zero when the file ends before it).
    tau_g1: Vec<G1Affine>,
    /// Lagrange points of the domain of size `d`: τ in G1 and G2, ατ, βτ.
    l_tau: Vec<G1Affine>,
    l_tau_g2: Vec<G2Affine>,
    l_alpha: Vec<G1Affine>,
    l_beta: Vec<G1Affine>,
    /// Lagrange points of the domain of size `2d`, τ in G1.
    l2_tau: Vec<G1Affine>,
}

/// Checks that `lagrange` is the Lagrange form of `powers` on `domain`, by one random
/// linear combination: `Σ r_j L_j == Σ_k ifft(r)_k P_k`.
fn check_lagrange<A>(
    lagrange: &[A],
    powers: &[A],
    domain: Radix2EvaluationDomain<Fr>,
    rng: &mut impl RngCore,
    section: &'static str,
) -> Result<(), ZkeyError>
where
    A: AffineRepr<ScalarField = Fr>,
    A::Group: VariableBaseMSM<MulBase = A>,
{
    let r: Vec<Fr> = (0..lagrange.len()).map(|_| Fr::rand(rng)).collect();
    let s = domain.ifft(&r);
    if crate::ratio::combine(lagrange, &r) != crate::ratio::combine(powers, &s) {
        return Err(ZkeyError::Ptau(PtauError::Inconsistent(section)));
    }
    Ok(())
}

/// Reads and checks what a domain of `2^power` needs from a prepared `.ptau`.
fn read_phase1(path: &Path, power: u32, rng: &mut impl RngCore) -> Result<Phase1, ZkeyError> {
    let mut file = PtauFile::open(path)?;
    if power > file.power {
        return Err(ZkeyError::TooLarge(format!(
            "the statement needs a .ptau of power {power} or more; this one has power {}",
            file.power
        )));
    }
    if !(12..=15).all(|k| file.has(k)) {
        return Err(ZkeyError::Ptau(PtauError::Format(
            "it is not prepared for phase 2 (run `snarkjs powersoftau prepare phase2`)".into(),
        )));
    }
    let ptau = file.powers(Some(power))?;
    ptau.check(rng)?;
    let d = 1usize << power;
    let fp = u64::from(file.power);
    file.expect_len(12, (1 << (fp + 2)) - 1, 64)?;
    for k in 13..=15 {
        file.expect_len(k, (1 << (fp + 1)) - 1, if k == 13 { 128 } else { 64 })?;
    }
    // τ^(2d-1): in the file unless it was made at this very power; snarkjs then takes
    // it as zero, and so does the check of the doubled domain's Lagrange points.
    let mut tau_g1 = ptau.tau_g1.clone();
    if file.power > power {
        let last = file.g1s(2, "tauG1", 2 * d as u64 - 1, 1)?[0];
        // e(τ^(2d-2) G1, τ G2) == e(τ^(2d-1) G1, G2)
        if !crate::ratio::same_ratio(
            tau_g1[2 * d - 2],
            last,
            G2Affine::generator(),
            ptau.tau_g2[1],
        ) {
            return Err(ZkeyError::Ptau(PtauError::Inconsistent(
                "tauG1 is not a sequence of powers of τ",
            )));
        }
        tau_g1.push(last);
    } else {
        tau_g1.push(G1Affine::zero());
    }
    let first = d as u64 - 1;
    let l_tau = file.g1s(12, "tauG1 (Lagrange)", first, d)?;
    let l2_tau = file.g1s(12, "tauG1 (Lagrange)", 2 * d as u64 - 1, 2 * d)?;
    let l_tau_g2 = file.g2s(13, "tauG2 (Lagrange)", first, d)?;
    let l_alpha = file.g1s(14, "alphaTauG1 (Lagrange)", first, d)?;
    let l_beta = file.g1s(15, "betaTauG1 (Lagrange)", first, d)?;
    let domain = |n: usize| Radix2EvaluationDomain::<Fr>::new(n).ok_or_else(|| format("domain"));
    let (dd, d2) = (domain(d)?, domain(2 * d)?);
    check_lagrange(&l_tau, &tau_g1[..d], dd, rng, "section 12 (tauG1 Lagrange)")?;
    check_lagrange(&l2_tau, &tau_g1, d2, rng, "section 12 (tauG1 Lagrange)")?;
    check_lagrange(
        &l_tau_g2,
        &ptau.tau_g2,
        dd,
        rng,
        "section 13 (tauG2 Lagrange)",
    )?;
    check_lagrange(
        &l_alpha,
        &ptau.alpha_tau_g1,
        dd,
        rng,
        "section 14 (alphaTauG1 Lagrange)",
    )?;
    check_lagrange(
        &l_beta,
        &ptau.beta_tau_g1,
        dd,
        rng,
        "section 15 (betaTauG1 Lagrange)",
    )?;
    Ok(Phase1 {
        alpha_g1: ptau.alpha_tau_g1[0],
        beta_g1: ptau.beta_tau_g1[0],
        beta_g2: ptau.beta_g2,
        tau_g1,
        l_tau,
        l_tau_g2,
        l_alpha,
        l_beta,
        l2_tau,
    })
}

/// The size of the constraint domain of `shape`, as ark-groth16 and snarkjs both
/// choose it: the smallest power of two above the constraints plus the public inputs.
pub fn domain_size(shape: &CircuitShape) -> usize {
    (shape.num_constraints + shape.num_instance).next_power_of_two()
}

/// The A and B coefficients of `shape` in snarkjs's order: per constraint A's terms
/// then B's, then one A term per public input (constant included) binding it.
pub fn coefficients(shape: &CircuitShape) -> Vec<Coeff> {
    let [a, b, _] = &shape.matrices;
    let mut out = Vec::new();
    for i in 0..shape.num_constraints {
        for (matrix, rows) in [(0u32, a), (1, b)] {
            for (value, wire) in rows.get(i).map(Vec::as_slice).unwrap_or_default() {
                out.push(Coeff {
                    matrix,
                    constraint: i as u32,
                    signal: *wire as u32,
                    value: *value,
                });
            }
        }
    }
    for s in 0..shape.num_instance {
        out.push(Coeff {
            matrix: 0,
            constraint: (shape.num_constraints + s) as u32,
            signal: s as u32,
            value: Fr::from(1u64),
        });
    }
    out
}

/// `Σ` of each list of terms, as affine points, with `mul` a scalar multiplication.
/// Long lists (the constant wire's, say) get one parallel MSM each; the many short ones
/// are summed serially side by side, so that no MSM's own parallelism nests inside
/// another (rayon's work stealing would then stack jobs on one thread's stack until it
/// overflows).
fn sums<A>(terms: &[Vec<(A, Fr)>], mul: impl Fn(A, Fr) -> A::Group + Sync) -> Vec<A>
where
    A: AffineRepr<ScalarField = Fr>,
    A::Group: VariableBaseMSM<MulBase = A>,
{
    const LONG: usize = 256;
    let mut sums: Vec<A::Group> = terms
        .par_iter()
        .map(|t| match t.len() > LONG {
            true => A::Group::zero(),
            false => t.iter().map(|(b, s)| mul(*b, *s)).sum(),
        })
        .collect();
    for (sum, t) in sums.iter_mut().zip(terms) {
        if t.len() > LONG {
            let (bases, scalars): (Vec<A>, Vec<Fr>) = t.iter().copied().unzip();
            *sum = A::Group::msm_unchecked(&bases, &scalars);
        }
    }
    A::Group::normalize_batch(&sums)
}

/// Scalar multiplications by the GLV method (arkworks' `*` on BN254 uses it only for
/// projective G1 points).
fn mul_g1(p: G1Affine, s: Fr) -> G1Projective {
    <ark_bn254::g1::Config as GLVConfig>::glv_mul_projective(p.into_group(), s)
}

fn mul_g2(p: G2Affine, s: Fr) -> ark_bn254::G2Projective {
    <ark_bn254::g2::Config as GLVConfig>::glv_mul_projective(p.into_group(), s)
}

/// Starts phase 2 for `shape` from the prepared `.ptau` at `ptau` (checked first): the
/// key `snarkjs zkey new` makes, with no contribution yet (δ = 1).
pub fn new_zkey(
    ptau: &Path,
    shape: &CircuitShape,
    rng: &mut impl RngCore,
) -> Result<Zkey, ZkeyError> {
    let d = domain_size(shape);
    let power = d.trailing_zeros();
    if power > MAX_DOMAIN_POWER {
        return Err(ZkeyError::TooLarge(format!(
            "a domain of 2^{power}: medproof reads at most 2^{MAX_DOMAIN_POWER}"
        )));
    }
    let p1 = read_phase1(ptau, power, rng)?;
    let (m, n_public) = (shape.num_constraints, shape.num_instance - 1);
    let n_vars = shape.num_instance + shape.num_witness;
    // Terms of each point: (Lagrange base, coefficient), as snarkjs's `processConstraints`.
    let mut a = vec![Vec::new(); n_vars];
    let mut b1 = vec![Vec::new(); n_vars];
    let mut b2 = vec![Vec::new(); n_vars];
    let mut ic = vec![Vec::new(); n_public + 1];
    let mut c = vec![Vec::new(); n_vars - n_public - 1];
    let mut to_ic_or_c = |s: usize, term: (G1Affine, Fr)| {
        if s <= n_public {
            ic[s].push(term);
        } else {
            c[s - n_public - 1].push(term);
        }
    };
    let [ma, mb, mc] = &shape.matrices;
    for i in 0..m {
        for &(v, s) in ma.get(i).map(Vec::as_slice).unwrap_or_default() {
            a[s].push((p1.l_tau[i], v));
            to_ic_or_c(s, (p1.l_beta[i], v));
        }
        for &(v, s) in mb.get(i).map(Vec::as_slice).unwrap_or_default() {
            b1[s].push((p1.l_tau[i], v));
            b2[s].push((p1.l_tau_g2[i], v));
            to_ic_or_c(s, (p1.l_alpha[i], v));
        }
        for &(v, s) in mc.get(i).map(Vec::as_slice).unwrap_or_default() {
            to_ic_or_c(s, (p1.l_tau[i], v));
        }
    }
    let one = Fr::from(1u64);
    for s in 0..=n_public {
        a[s].push((p1.l_tau[m + s], one));
        ic[s].push((p1.l_beta[m + s], one));
    }
    let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
    let mut z = Zkey {
        n_vars,
        n_public,
        domain_size: d,
        alpha_g1: p1.alpha_g1,
        beta_g1: p1.beta_g1,
        beta_g2: p1.beta_g2,
        gamma_g2: g2,
        delta_g1: g1,
        delta_g2: g2,
        ic: sums(&ic, mul_g1),
        coeffs: coefficients(shape),
        a: sums(&a, mul_g1),
        b_g1: sums(&b1, mul_g1),
        b_g2: sums(&b2, mul_g2),
        c: sums(&c, mul_g1),
        h: p1.l2_tau.iter().skip(1).step_by(2).copied().collect(),
        cs_hash: [0; 64],
        contributions: Vec::new(),
    };
    z.cs_hash = circuit_hash(&z, &p1.tau_g1);
    Ok(z)
}

/// snarkjs's circuit hash of an initial key: Blake2b-512 over the header's points, then
/// each section's length and points in the order `zkey new` computes them (IC, H as the
/// powers `τ^i·Z(τ)`, C, A, B1, B2).
fn circuit_hash(z: &Zkey, tau_g1: &[G1Affine]) -> [u8; 64] {
    let mut h = Blake2b512::new();
    for p in [z.alpha_g1, z.beta_g1] {
        h.update(g1_u(&p));
    }
    h.update(g2_u(&z.beta_g2));
    h.update(g2_u(&z.gamma_g2));
    h.update(g1_u(&z.delta_g1));
    h.update(g2_u(&z.delta_g2));
    let g1s = |h: &mut Blake2b512, ps: &[G1Affine]| {
        hash_len(h, ps.len());
        for p in ps {
            h.update(g1_u(p));
        }
    };
    g1s(&mut h, &z.ic);
    // `[τ^(i+d) - τ^i]G1`, in chunks of 2^14 as snarkjs reads them (its last chunk
    // covers a whole chunk's length: for d above 2^14 + 1 that is more than d - 1).
    let d = z.domain_size;
    hash_len(&mut h, d - 1);
    let chunk = (d - 1).min(1 << 14);
    let mut zt = Vec::new();
    let mut i = 0;
    while i < d - 1 {
        zt.extend((i..i + chunk).map(|k| tau_g1[k + d].into_group() - tau_g1[k].into_group()));
        i += 1 << 14;
    }
    for p in G1Projective::normalize_batch(&zt) {
        h.update(g1_u(&p));
    }
    g1s(&mut h, &z.c);
    g1s(&mut h, &z.a);
    g1s(&mut h, &z.b_g1);
    hash_len(&mut h, z.b_g2.len());
    for p in &z.b_g2 {
        h.update(g2_u(p));
    }
    h.finalize().into()
}

impl Zkey {
    /// Whether this key was made for `shape`: the sizes, the domain and the A and B
    /// coefficients agree. (The points are checked by verifying the ceremony.)
    pub fn matches(&self, shape: &CircuitShape) -> Result<(), String> {
        let n_vars = shape.num_instance + shape.num_witness;
        if (self.n_vars, self.n_public, self.domain_size)
            != (n_vars, shape.num_instance - 1, domain_size(shape))
        {
            return Err(format!(
                "the key has {} wires, {} public inputs and a domain of {}; the statement \
                 {n_vars}, {} and {}",
                self.n_vars,
                self.n_public,
                self.domain_size,
                shape.num_instance - 1,
                domain_size(shape)
            ));
        }
        if self.coeffs != coefficients(shape) {
            return Err("the key's A and B coefficients are not the statement's".into());
        }
        Ok(())
    }

    /// The proving key (its verifying key inside) for ark-groth16 with
    /// [`crate::reduction::CircomReduction`].
    pub fn to_proving_key(&self) -> ProvingKey<Bn254> {
        ProvingKey {
            vk: VerifyingKey {
                alpha_g1: self.alpha_g1,
                beta_g2: self.beta_g2,
                gamma_g2: self.gamma_g2,
                delta_g2: self.delta_g2,
                gamma_abc_g1: self.ic.clone(),
            },
            beta_g1: self.beta_g1,
            delta_g1: self.delta_g1,
            a_query: self.a.clone(),
            b_g1_query: self.b_g1.clone(),
            b_g2_query: self.b_g2.clone(),
            h_query: self.h.clone(),
            l_query: self.c.clone(),
        }
    }
}

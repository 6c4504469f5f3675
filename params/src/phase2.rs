//! Phase-2 contributions, the random beacon, and the verification of a whole phase-2
//! transcript, as snarkjs does them, so that contributions made with `snarkjs zkey
//! contribute` and with `medproof ceremony contribute` alternate in one ceremony and
//! either tool verifies the result.
//!
//! A contribution multiplies δ by a secret `x` (and divides the `C` and `H` points by
//! it) and publishes a proof of knowledge of `x`: a random `s` and `x·s` in G1, and `x·h`
//! where `h` is the transcript (the circuit hash, every earlier contribution's public
//! key, `s` and `x·s`, under Blake2b-512) hashed to G2 with snarkjs's generator
//! ([`SnarkjsRng`]: ffjavascript's ChaCha20 and its point sampling). Verifying checks
//! each proof and that the δs chain, then that the key is the initial key (recomputed
//! from the `.ptau` and the constraint system) with only δ, `C` and `H` changed, by
//! pairings over random linear combinations.

use ark_bn254::{g2, Fq, Fq2, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::short_weierstrass::SWCurveConfig;
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{BigInt, Field, PrimeField, UniformRand, Zero};
use blake2::{Blake2b512, Digest};
use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use sha2::Sha256;

use crate::ratio::{combine, same_ratio};
use crate::zkey::{g1_u, g2_u, Beacon, Contribution, Zkey};

/// The random generator snarkjs derives its points and beacon secrets from:
/// ffjavascript's ChaCha20 keyed with eight 32-bit words read big-endian from a hash,
/// its counter from zero (the same stream as `rand_chacha` keyed with those words
/// little-endian), and its samplers: a field element from four 64-bit draws (high word
/// first) masked to 254 bits, retried until below the modulus and read as Montgomery
/// form; a point from such an `x`, a coin for the sign of `y`, retried until on the
/// curve, and in G2 multiplied by the cofactor.
pub struct SnarkjsRng(ChaCha20Rng);

/// BN254's G2 cofactor, the integer snarkjs multiplies a sampled point by (arkworks'
/// `clear_cofactor` uses an endomorphism and lands on another point).
const G2_COFACTOR: [u64; 4] = [
    0x345f_2299_c0f9_fa8d,
    0x06ce_ecda_572a_2489,
    0xb850_45b6_8181_585e,
    0x3064_4e72_e131_a029,
];

/// ffjavascript's sign: the standard form above (q - 1)/2.
fn is_negative(x: &Fq) -> bool {
    x.into_bigint() > Fq::MODULUS_MINUS_ONE_DIV_TWO
}

impl SnarkjsRng {
    /// Keyed by the first 32 bytes of `hash`, as snarkjs's `hashToG2` and beacon do.
    pub fn from_hash(hash: &[u8]) -> Self {
        let mut key = [0u8; 32];
        for (k, word) in key.chunks_exact_mut(4).zip(hash.chunks_exact(4)) {
            let w = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
            k.copy_from_slice(&w.to_le_bytes());
        }
        SnarkjsRng(ChaCha20Rng::from_seed(key))
    }

    /// The generator of a beacon: SHA-256 iterated `2^exp` times over its value; `None`
    /// for an exponent outside 10 to [`MAX_BEACON_EXP`] (snarkjs's minimum, and the most
    /// medproof iterates), so that no caller can be made to hash for ever.
    pub fn from_beacon(beacon: &Beacon) -> Option<Self> {
        if !(10..=MAX_BEACON_EXP).contains(&beacon.iterations_exp) {
            return None;
        }
        let mut h = beacon.hash.clone();
        for _ in 0..(1u64 << beacon.iterations_exp) {
            h = Sha256::digest(&h).to_vec();
        }
        Some(SnarkjsRng::from_hash(&h))
    }

    fn u64(&mut self) -> u64 {
        let hi = u64::from(self.0.next_u32());
        (hi << 32) | u64::from(self.0.next_u32())
    }

    fn limbs(&mut self) -> [u64; 4] {
        let mut l = [0u64; 4];
        for limb in &mut l {
            *limb = self.u64();
        }
        l[3] &= (1 << 62) - 1;
        l
    }

    /// A base-field element.
    pub fn fq(&mut self) -> Fq {
        loop {
            let l = BigInt::new(self.limbs());
            if l < Fq::MODULUS {
                return Fq::new_unchecked(l);
            }
        }
    }

    /// A scalar.
    pub fn fr(&mut self) -> Fr {
        loop {
            let l = BigInt::new(self.limbs());
            if l < Fr::MODULUS {
                return Fr::new_unchecked(l);
            }
        }
    }

    fn coin(&mut self) -> bool {
        self.0.next_u32() & 1 == 1
    }

    /// A G1 point.
    pub fn g1(&mut self) -> G1Affine {
        loop {
            let x = self.fq();
            let greatest = self.coin();
            let rhs = x * x * x + ark_bn254::g1::Config::COEFF_B;
            if let Some(y) = rhs.sqrt() {
                let y = if is_negative(&y) != greatest { -y } else { y };
                return G1Affine::new_unchecked(x, y);
            }
        }
    }

    /// A G2 point (in the prime-order subgroup).
    pub fn g2(&mut self) -> G2Affine {
        loop {
            let x = Fq2::new(self.fq(), self.fq());
            let greatest = self.coin();
            let rhs = x * x * x + g2::Config::COEFF_B;
            if let Some(y) = rhs.sqrt() {
                let negative = if y.c1.is_zero() {
                    is_negative(&y.c0)
                } else {
                    is_negative(&y.c1)
                };
                let y = if negative != greatest { -y } else { y };
                let p = G2Affine::new_unchecked(x, y);
                return p.mul_bigint(G2_COFACTOR).into_affine();
            }
        }
    }
}

/// A transcript hashed to G2, as snarkjs's `hashToG2`.
pub fn hash_to_g2(transcript: &[u8; 64]) -> G2Affine {
    SnarkjsRng::from_hash(transcript).g2()
}

/// The bytes of a contribution's public key that the transcripts cover.
fn public_key_bytes(c: &Contribution) -> Vec<u8> {
    let mut out = g1_u(&c.delta_after);
    out.extend(g1_u(&c.g1_s));
    out.extend(g1_u(&c.g1_sx));
    out.extend(g2_u(&c.g2_spx));
    out.extend_from_slice(&c.transcript);
    out
}

/// A contribution's hash, the value its contributor publishes (snarkjs prints it as
/// "Contribution Hash").
pub fn contribution_hash(c: &Contribution) -> [u8; 64] {
    Blake2b512::digest(public_key_bytes(c)).into()
}

/// The hash of the whole transcript of `z`: Blake2b-512 over the circuit hash and every
/// contribution's public key, the state the next contribution would start from. It
/// names a ceremony's result (medproof's manifest records it).
pub fn transcript_hash(z: &Zkey) -> [u8; 64] {
    accumulated(z, z.contributions.len()).finalize().into()
}

fn accumulated(z: &Zkey, upto: usize) -> Blake2b512 {
    let mut h = Blake2b512::new();
    h.update(z.cs_hash);
    for c in &z.contributions[..upto] {
        h.update(public_key_bytes(c));
    }
    h
}

/// Applies the secret `x` to `z`, with the proof of knowledge from `s`.
fn apply(
    z: &Zkey,
    x: Fr,
    g1_s: G1Affine,
    name: Option<String>,
    beacon: Option<Beacon>,
) -> (Zkey, [u8; 64]) {
    let g1_sx = (g1_s * x).into_affine();
    let mut t = accumulated(z, z.contributions.len());
    t.update(g1_u(&g1_s));
    t.update(g1_u(&g1_sx));
    let transcript: [u8; 64] = t.finalize().into();
    let g2_spx = (hash_to_g2(&transcript) * x).into_affine();
    let inverse = x.inverse().unwrap_or_default();
    let scale = |ps: &[G1Affine]| -> Vec<G1Affine> {
        let v: Vec<G1Projective> = ps.par_iter().map(|p| *p * inverse).collect();
        G1Projective::normalize_batch(&v)
    };
    let mut out = z.clone();
    out.delta_g1 = (z.delta_g1 * x).into_affine();
    out.delta_g2 = (z.delta_g2 * x).into_affine();
    out.c = scale(&z.c);
    out.h = scale(&z.h);
    let c = Contribution {
        delta_after: out.delta_g1,
        g1_s,
        g1_sx,
        g2_spx,
        transcript,
        name,
        beacon,
    };
    let hash = contribution_hash(&c);
    out.contributions.push(c);
    (out, hash)
}

/// The most SHA-256 iterations of a beacon medproof makes or verifies: 2^32, some
/// minutes. snarkjs accepts up to 2^63, which nobody can verify; a `.zkey` naming more
/// than 2^32 is refused rather than left to hang the verifier.
pub const MAX_BEACON_EXP: u8 = 32;

/// The longest contributor name snarkjs's format holds (in bytes).
pub const MAX_NAME: usize = 64;

/// Contributes fresh randomness from `rng` to `z`: returns the new key and the
/// contribution hash to publish. The secret lives only inside this call.
pub fn contribute(
    z: &Zkey,
    name: Option<&str>,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<(Zkey, [u8; 64]), String> {
    let name = checked_name(name)?;
    let mut x = Fr::rand(rng);
    while x.is_zero() {
        x = Fr::rand(rng);
    }
    let s = G1Projective::rand(rng).into_affine();
    Ok(apply(z, x, s, name, None))
}

fn checked_name(name: Option<&str>) -> Result<Option<String>, String> {
    match name {
        Some(n) if n.len() > MAX_NAME => Err(format!(
            "a contributor's name holds at most {MAX_NAME} bytes"
        )),
        Some(n) => Ok(Some(n.to_string())),
        None => Ok(None),
    }
}

/// Applies a random beacon (a public value nobody could predict, e.g. a future block
/// hash, iterated through SHA-256 `2^iterations_exp` times): the last step of a
/// ceremony, so that even if every contributor colluded, the key depends on a value
/// none of them chose.
pub fn beacon(z: &Zkey, name: Option<&str>, b: &Beacon) -> Result<(Zkey, [u8; 64]), String> {
    let name = checked_name(name)?;
    if b.hash.is_empty() || b.hash.len() > 255 {
        return Err("a beacon value holds 1 to 255 bytes".into());
    }
    let mut rng = SnarkjsRng::from_beacon(b).ok_or_else(|| {
        format!("the beacon's iterations exponent is from 10 to {MAX_BEACON_EXP}")
    })?;
    let x = rng.fr();
    let s = rng.g1();
    Ok(apply(z, x, s, name, Some(b.clone())))
}

/// Why a phase-2 key fails verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A contribution's proof or chain is broken.
    #[error("contribution {index}: {why}")]
    Contribution {
        /// 1-based.
        index: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// The key differs from the initial key where it must not.
    #[error("{0}")]
    Key(&'static str),
}

/// Verifies `z` against `initial` (the key `new_zkey` makes from the same `.ptau` and
/// constraint system): every contribution's proof of knowledge and transcript, the
/// beacon's secret when there is one, the δ chain, and that nothing but δ, `C` and `H`
/// changed, those by the same factor. Returns each contribution's hash. A key with no
/// contribution is refused: its δ is known to everyone.
pub fn verify(
    z: &Zkey,
    initial: &Zkey,
    rng: &mut impl RngCore,
) -> Result<Vec<[u8; 64]>, VerifyError> {
    use VerifyError::Key;
    if !initial.contributions.is_empty()
        || initial.delta_g1 != G1Affine::generator()
        || initial.delta_g2 != G2Affine::generator()
    {
        return Err(Key(
            "the initial key is not one (it has contributions, or δ ≠ 1)",
        ));
    }
    let mut delta = G1Affine::generator();
    let mut hashes = Vec::new();
    // The transcript so far, carried from one contribution to the next.
    let mut so_far = accumulated(z, 0);
    for (i, c) in z.contributions.iter().enumerate() {
        let bad = |why| VerifyError::Contribution { index: i + 1, why };
        let mut t = so_far.clone();
        t.update(g1_u(&c.g1_s));
        t.update(g1_u(&c.g1_sx));
        if <[u8; 64]>::from(t.finalize()) != c.transcript {
            return Err(bad("its transcript is not the hash of what precedes it"));
        }
        let h = hash_to_g2(&c.transcript);
        if !same_ratio(c.g1_s, c.g1_sx, h, c.g2_spx) {
            return Err(bad("its proof of knowledge does not hold"));
        }
        if !same_ratio(delta, c.delta_after, h, c.g2_spx) {
            return Err(bad("its δ is not the previous δ times its secret"));
        }
        if let Some(b) = &c.beacon {
            let mut rng = SnarkjsRng::from_beacon(b).ok_or_else(|| {
                bad("its beacon is iterated outside 2^10 to 2^32 times (medproof verifies no more)")
            })?;
            let x = rng.fr();
            let s = rng.g1();
            if s != c.g1_s || (s * x).into_affine() != c.g1_sx {
                return Err(bad("its key is not the beacon's"));
            }
        }
        hashes.push(contribution_hash(c));
        so_far.update(public_key_bytes(c));
        delta = c.delta_after;
    }
    if z.contributions.is_empty() {
        return Err(Key(
            "no contribution: δ is the generator, known to everyone, so anyone could forge proofs",
        ));
    }
    if (z.n_vars, z.n_public, z.domain_size)
        != (initial.n_vars, initial.n_public, initial.domain_size)
    {
        return Err(Key("its sizes are not the constraint system's"));
    }
    if z.cs_hash != initial.cs_hash {
        return Err(Key(
            "its circuit hash is not the one of this constraint system and .ptau",
        ));
    }
    if (z.alpha_g1, z.beta_g1, z.beta_g2, z.gamma_g2)
        != (
            initial.alpha_g1,
            initial.beta_g1,
            initial.beta_g2,
            initial.gamma_g2,
        )
    {
        return Err(Key("α, β or γ is not the phase-1 file's"));
    }
    if z.delta_g1 != delta {
        return Err(Key("δ in G1 is not the last contribution's"));
    }
    if !same_ratio(
        G1Affine::generator(),
        delta,
        G2Affine::generator(),
        z.delta_g2,
    ) {
        return Err(Key("δ in G2 is not δ in G1"));
    }
    if z.ic != initial.ic {
        return Err(Key("the IC points changed"));
    }
    if z.coeffs != initial.coeffs {
        return Err(Key("the coefficients changed"));
    }
    if z.a != initial.a || z.b_g1 != initial.b_g1 || z.b_g2 != initial.b_g2 {
        return Err(Key("the A or B points changed"));
    }
    // C and H: divided by δ, checked by one random combination each:
    // e(Σ r·C₀, δ) == e(Σ r·C, G2).
    for (now, before, name) in [
        (
            &z.c,
            &initial.c,
            "the C points are not the initial ones over δ",
        ),
        (
            &z.h,
            &initial.h,
            "the H points are not the initial ones over δ",
        ),
    ] {
        if now.len() != before.len() {
            return Err(Key(name));
        }
        let r: Vec<Fr> = (0..now.len()).map(|_| Fr::rand(rng)).collect();
        if !now.is_empty()
            && !same_ratio(
                combine(now, &r),
                combine(before, &r),
                G2Affine::generator(),
                z.delta_g2,
            )
        {
            return Err(Key(name));
        }
    }
    Ok(hashes)
}

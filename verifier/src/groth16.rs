//! Groth16 verification over BN254, single and batched.
//!
//! The key and proof types serialize exactly like ark-groth16's (same fields, same order),
//! so the prover's files and proofs are read here without depending on ark-groth16, which
//! would pull constraint-system code into the light verifier.
//!
//! Points are always deserialized with validation (on the curve, in the prime-order
//! subgroup), and trailing bytes are refused.

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::pairing::{Pairing, PairingOutput};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{One, PrimeField, Zero};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Why a proof could not be checked (as opposed to "checked, and wrong").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The number of public inputs does not match the key.
    #[error("expected {expected} public inputs, got {got}")]
    InputCount {
        /// What the verifying key needs.
        expected: usize,
        /// What was supplied.
        got: usize,
    },
    /// Bytes that are not a valid, canonical encoding of the object.
    #[error("malformed {what}: {reason}")]
    Encoding {
        /// Which object ("proof", "verifying key").
        what: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// A batch with nothing in it.
    #[error("empty batch")]
    EmptyBatch,
    /// A verifying key that no honest setup produces and that would let proofs be forged
    /// (an identity point, or `gamma = delta`).
    #[error("unsafe verifying key: {0}")]
    UnsafeKey(&'static str),
}

/// A Groth16 proof `(A, B, C)`.
#[derive(Debug, Clone, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct Proof {
    /// `A` in G1.
    pub a: G1Affine,
    /// `B` in G2.
    pub b: G2Affine,
    /// `C` in G1.
    pub c: G1Affine,
}

impl Proof {
    /// Size in bytes of a compressed proof.
    pub const COMPRESSED_LEN: usize = 128;

    /// Decodes a compressed proof, validating every point and refusing trailing bytes.
    pub fn from_compressed(bytes: &[u8]) -> Result<Self, VerifyError> {
        decode_exact(bytes, "proof")
    }

    /// The compressed encoding.
    pub fn to_compressed(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::COMPRESSED_LEN);
        self.serialize_compressed(&mut out)
            .expect("writing to a Vec cannot fail");
        out
    }
}

/// A Groth16 verifying key, laid out as ark-groth16's.
#[derive(Debug, Clone, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct VerifyingKey {
    /// `alpha` in G1.
    pub alpha_g1: G1Affine,
    /// `beta` in G2.
    pub beta_g2: G2Affine,
    /// `gamma` in G2.
    pub gamma_g2: G2Affine,
    /// `delta` in G2.
    pub delta_g2: G2Affine,
    /// The input commitments; `gamma_abc_g1[0]` is the constant term.
    pub gamma_abc_g1: Vec<G1Affine>,
}

impl VerifyingKey {
    /// Decodes a compressed key, validating every point and refusing trailing bytes.
    pub fn from_compressed(bytes: &[u8]) -> Result<Self, VerifyError> {
        decode_exact(bytes, "verifying key")
    }

    /// The compressed encoding.
    pub fn to_compressed(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.serialize_compressed(&mut out)
            .expect("writing to a Vec cannot fail");
        out
    }

    /// The key's id: hex SHA-256 of its compressed encoding.
    pub fn id(&self) -> String {
        hex::encode(Sha256::digest(self.to_compressed()))
    }

    /// Number of public inputs the key expects.
    pub fn num_inputs(&self) -> usize {
        self.gamma_abc_g1.len().saturating_sub(1)
    }

    /// Refuses a key that an honest setup does not produce and under which proofs can be
    /// forged: any identity point (with `delta` or `gamma` the identity, or an input's
    /// base the identity, the pairing equation no longer binds the proof or that
    /// input), or `gamma = delta` (then `C` can absorb the input commitment, and any
    /// public inputs verify).
    pub fn check_safe(&self) -> Result<(), VerifyError> {
        if self.alpha_g1.is_zero() {
            return Err(VerifyError::UnsafeKey("alpha is the identity"));
        }
        for (name, p) in [
            ("beta is the identity", &self.beta_g2),
            ("gamma is the identity", &self.gamma_g2),
            ("delta is the identity", &self.delta_g2),
        ] {
            if p.is_zero() {
                return Err(VerifyError::UnsafeKey(name));
            }
        }
        if self.gamma_abc_g1.is_empty() {
            return Err(VerifyError::UnsafeKey("it has no input bases"));
        }
        if self.gamma_abc_g1.iter().any(|p| p.is_zero()) {
            return Err(VerifyError::UnsafeKey("an input base is the identity"));
        }
        if self.gamma_g2 == self.delta_g2 {
            return Err(VerifyError::UnsafeKey("gamma equals delta"));
        }
        Ok(())
    }
}

fn decode_exact<T: CanonicalDeserialize>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, VerifyError> {
    let mut reader = bytes;
    let value = T::deserialize_compressed(&mut reader).map_err(|e| VerifyError::Encoding {
        what,
        reason: e.to_string(),
    })?;
    if !reader.is_empty() {
        return Err(VerifyError::Encoding {
            what,
            reason: format!("{} trailing bytes", reader.len()),
        });
    }
    Ok(value)
}

/// A verifying key with its pairing-side constants computed once.
#[derive(Debug, Clone)]
pub struct PreparedVerifyingKey {
    vk: VerifyingKey,
    id: String,
    alpha_beta: PairingOutput<Bn254>,
    neg_gamma: <Bn254 as Pairing>::G2Prepared,
    neg_delta: <Bn254 as Pairing>::G2Prepared,
    neg_beta: <Bn254 as Pairing>::G2Prepared,
}

impl PreparedVerifyingKey {
    /// Prepares `vk` for repeated verification, refusing an unsafe key (see
    /// [`VerifyingKey::check_safe`]).
    pub fn new(vk: VerifyingKey) -> Result<Self, VerifyError> {
        vk.check_safe()?;
        Ok(Self::prepare(vk))
    }

    fn prepare(vk: VerifyingKey) -> Self {
        let alpha_beta = Bn254::pairing(vk.alpha_g1, vk.beta_g2);
        let neg = |p: G2Affine| (-p).into();
        Self {
            id: vk.id(),
            alpha_beta,
            neg_gamma: neg(vk.gamma_g2),
            neg_delta: neg(vk.delta_g2),
            neg_beta: neg(vk.beta_g2),
            vk,
        }
    }

    /// The key this was prepared from.
    pub fn key(&self) -> &VerifyingKey {
        &self.vk
    }

    /// The key's id (see [`VerifyingKey::id`]).
    pub fn id(&self) -> &str {
        &self.id
    }

    fn check_len(&self, inputs: &[Fr]) -> Result<(), VerifyError> {
        let expected = self.vk.num_inputs();
        if inputs.len() != expected || self.vk.gamma_abc_g1.is_empty() {
            return Err(VerifyError::InputCount {
                expected,
                got: inputs.len(),
            });
        }
        Ok(())
    }

    /// `gamma_abc[0] + sum_i x_i * gamma_abc[i+1]`.
    fn input_commitment(&self, inputs: &[Fr]) -> G1Projective {
        let bases = &self.vk.gamma_abc_g1;
        G1Projective::msm_unchecked(&bases[1..], inputs) + bases[0]
    }

    /// Verifies one proof. `Ok(false)`: the proof is wrong for these inputs.
    pub fn verify(&self, inputs: &[Fr], proof: &Proof) -> Result<bool, VerifyError> {
        self.check_len(inputs)?;
        let ic = self.input_commitment(inputs).into_affine();
        let ml = Bn254::multi_miller_loop(
            [
                <Bn254 as Pairing>::G1Prepared::from(proof.a),
                ic.into(),
                proof.c.into(),
            ],
            [
                <Bn254 as Pairing>::G2Prepared::from(proof.b),
                self.neg_gamma.clone(),
                self.neg_delta.clone(),
            ],
        );
        Ok(Bn254::final_exponentiation(ml).is_some_and(|out| out == self.alpha_beta))
    }

    /// Verifies many proofs with one random linear combination and one final
    /// exponentiation. Returns `Ok(true)` only if every proof is valid (except with
    /// probability about 2^-128). The coefficients are drawn here, from the operating
    /// system's CSPRNG: a caller who chose them could make a bad proof pass.
    ///
    /// With random `r_i`, it checks
    /// `prod e(r_i A_i, B_i) * e(sum r_i IC_i, -gamma) * e(sum r_i C_i, -delta)
    ///  * e((sum r_i) alpha, -beta) = 1`.
    pub fn verify_batch(&self, items: &[(&[Fr], &Proof)]) -> Result<bool, VerifyError> {
        if items.is_empty() {
            return Err(VerifyError::EmptyBatch);
        }
        for (inputs, _) in items {
            self.check_len(inputs)?;
        }
        let n_inputs = self.vk.num_inputs();
        // 128-bit nonzero coefficients: enough for soundness 2^-128, half the cost of
        // full-width scalars.
        let r: Vec<Fr> = items
            .iter()
            .map(|_| loop {
                let x = (u128::from(OsRng.next_u64()) << 64) | u128::from(OsRng.next_u64());
                if x != 0 {
                    break Fr::from(x);
                }
            })
            .collect();
        let r_sum: Fr = r.iter().sum();

        // sum_i r_i * IC_i = r_sum * gamma_abc[0] + sum_j (sum_i r_i x_ij) gamma_abc[j+1]
        let mut agg = vec![Fr::zero(); n_inputs + 1];
        agg[0] = r_sum;
        for ((inputs, _), ri) in items.iter().zip(&r) {
            for (a, x) in agg[1..].iter_mut().zip(inputs.iter()) {
                *a += *ri * x;
            }
        }
        let ic = G1Projective::msm_unchecked(&self.vk.gamma_abc_g1, &agg);
        let cs: Vec<G1Affine> = items.iter().map(|(_, p)| p.c).collect();
        let c = G1Projective::msm_unchecked(&cs, &r);
        let alpha = self.vk.alpha_g1 * r_sum;

        let a_scaled: Vec<G1Projective> = items
            .iter()
            .zip(&r)
            .map(|((_, p), ri)| p.a.mul_bigint(ri.into_bigint()))
            .collect();
        let mut g1: Vec<G1Affine> = G1Projective::normalize_batch(&a_scaled);
        g1.extend(G1Projective::normalize_batch(&[ic, c, alpha]));

        let mut g2: Vec<<Bn254 as Pairing>::G2Prepared> =
            items.iter().map(|(_, p)| p.b.into()).collect();
        g2.push(self.neg_gamma.clone());
        g2.push(self.neg_delta.clone());
        g2.push(self.neg_beta.clone());

        let ml = Bn254::multi_miller_loop(g1, g2);
        Ok(Bn254::final_exponentiation(ml).is_some_and(|out| out.0.is_one()))
    }

    /// Verifies a batch and, when it fails, finds the wrong proofs by bisection.
    /// Returns the indices of the proofs that do not verify (empty: all valid).
    pub fn find_invalid(&self, items: &[(&[Fr], &Proof)]) -> Result<Vec<usize>, VerifyError> {
        let mut bad = Vec::new();
        self.bisect(items, 0, &mut bad)?;
        Ok(bad)
    }

    fn bisect(
        &self,
        items: &[(&[Fr], &Proof)],
        offset: usize,
        bad: &mut Vec<usize>,
    ) -> Result<(), VerifyError> {
        if items.is_empty() {
            return Ok(());
        }
        if items.len() == 1 {
            if !self.verify(items[0].0, items[0].1)? {
                bad.push(offset);
            }
            return Ok(());
        }
        if self.verify_batch(items)? {
            return Ok(());
        }
        let mid = items.len() / 2;
        self.bisect(&items[..mid], offset, bad)?;
        self.bisect(&items[mid..], offset + mid, bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::PrimeGroup;

    #[test]
    fn malformed_proof_bytes_are_errors() {
        assert!(matches!(
            Proof::from_compressed(&[]),
            Err(VerifyError::Encoding { what: "proof", .. })
        ));
        assert!(Proof::from_compressed(&[0xff; Proof::COMPRESSED_LEN]).is_err());
        let p = Proof {
            a: G1Affine::generator(),
            b: G2Affine::generator(),
            c: (G1Projective::generator() * Fr::from(3u64)).into_affine(),
        };
        let bytes = p.to_compressed();
        assert_eq!(bytes.len(), Proof::COMPRESSED_LEN);
        assert_eq!(Proof::from_compressed(&bytes), Ok(p));
        let mut long = bytes.clone();
        long.push(0);
        assert!(Proof::from_compressed(&long).is_err());
        assert!(Proof::from_compressed(&bytes[..100]).is_err());
    }

    fn g1(k: u64) -> G1Affine {
        (G1Projective::generator() * Fr::from(k)).into_affine()
    }

    fn g2(k: u64) -> G2Affine {
        (ark_bn254::G2Projective::generator() * Fr::from(k)).into_affine()
    }

    fn sample_key() -> VerifyingKey {
        VerifyingKey {
            alpha_g1: g1(2),
            beta_g2: g2(3),
            gamma_g2: g2(5),
            delta_g2: g2(7),
            gamma_abc_g1: vec![g1(11), g1(13)],
        }
    }

    #[test]
    fn unsafe_keys_are_refused_at_load() {
        assert!(PreparedVerifyingKey::new(sample_key()).is_ok());
        type Tamper = fn(&mut VerifyingKey);
        let tampers: [(Tamper, &str); 7] = [
            (|k| k.alpha_g1 = G1Affine::zero(), "alpha"),
            (|k| k.beta_g2 = G2Affine::zero(), "beta"),
            (|k| k.gamma_g2 = G2Affine::zero(), "gamma is"),
            (|k| k.delta_g2 = G2Affine::zero(), "delta"),
            (|k| k.gamma_abc_g1[1] = G1Affine::zero(), "input base"),
            (|k| k.gamma_abc_g1.clear(), "no input"),
            (|k| k.delta_g2 = k.gamma_g2, "gamma equals delta"),
        ];
        for (tamper, reason) in tampers {
            let mut k = sample_key();
            tamper(&mut k);
            match PreparedVerifyingKey::new(k) {
                Err(VerifyError::UnsafeKey(r)) => assert!(r.contains(reason), "{r}"),
                other => panic!("{reason}: {other:?}"),
            }
        }
    }

    /// Why `gamma = delta` is refused: under such a key, `(alpha, beta, -IC)` verifies
    /// for any public inputs.
    #[test]
    fn gamma_equal_delta_would_let_anyone_forge() {
        let mut k = sample_key();
        k.delta_g2 = k.gamma_g2;
        let pvk = PreparedVerifyingKey::prepare(k.clone());
        let inputs = [Fr::from(123_456u64)];
        let ic = pvk.input_commitment(&inputs).into_affine();
        let forged = Proof {
            a: k.alpha_g1,
            b: k.beta_g2,
            c: (-ic.into_group()).into_affine(),
        };
        assert_eq!(pvk.verify(&inputs, &forged), Ok(true));
        assert!(PreparedVerifyingKey::new(k).is_err());
    }
}

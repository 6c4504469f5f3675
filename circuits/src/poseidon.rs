//! Poseidon over the BN254 scalar field, compatible with circomlib's `Poseidon(n)`.
//!
//! Parameters: width `t = n + 1` for `n` inputs, 8 full rounds, circomlib's partial-round
//! count for each `t` (57 at `t = 3`), S-box `x^5`, round constants and MDS matrix from
//! the Grain LFSR of the Poseidon reference (which is how circomlib made them), initial
//! state `[0, in_1, .., in_n]`, output `state[0]`.
//!
//! Constants are built once per width, on first use, and shared. This one native
//! implementation is used by commitments, trees, the ledger and the tests; the gadget in
//! [`constraints`] is its twin and is tested equal to it.
//!
//! A sponge without padding has `H([a]) = H([a, 0])`; this module avoids that by giving
//! every arity its own parameters, and callers give every use its own arity and tag.

use std::sync::OnceLock;

use ark_bn254::Fr;
use ark_crypto_primitives::sponge::poseidon::find_poseidon_ark_and_mds;
use ark_ff::{Field, Zero};

pub mod constraints;

/// Largest number of inputs supported (circomlib goes up to 16).
pub const MAX_INPUTS: usize = 16;
/// Number of full rounds, for every width.
pub const FULL_ROUNDS: usize = 8;
/// Partial rounds for `t = 2..=17`, from circomlib's `poseidon.circom` (`N_ROUNDS_P`).
pub const PARTIAL_ROUNDS: [usize; MAX_INPUTS] = [
    56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68,
];

/// Round constants and MDS matrix for one width.
#[derive(Debug)]
pub struct PoseidonParams {
    /// State width `t = n + 1`.
    pub width: usize,
    /// Number of partial rounds.
    pub partial_rounds: usize,
    /// Round constants, `width` per round, flattened.
    pub ark: Vec<Fr>,
    /// MDS matrix, row-major: `new[i] = sum_j mds[i * width + j] * old[j]`.
    pub mds: Vec<Fr>,
}

impl PoseidonParams {
    fn generate(n_inputs: usize) -> Self {
        let width = n_inputs + 1;
        let partial_rounds = PARTIAL_ROUNDS[n_inputs - 1];
        let (ark, mds) = find_poseidon_ark_and_mds::<Fr>(
            254,
            n_inputs,
            FULL_ROUNDS as u64,
            partial_rounds as u64,
            0,
        );
        Self {
            width,
            partial_rounds,
            ark: ark.into_iter().flatten().collect(),
            mds: mds.into_iter().flatten().collect(),
        }
    }

    /// Total rounds.
    pub fn rounds(&self) -> usize {
        FULL_ROUNDS + self.partial_rounds
    }

    /// Whether round `r` is a full round.
    pub fn is_full_round(&self, r: usize) -> bool {
        r < FULL_ROUNDS / 2 || r >= FULL_ROUNDS / 2 + self.partial_rounds
    }
}

/// The parameters for `n_inputs` inputs (`1..=MAX_INPUTS`), built on first use.
///
/// # Panics
/// If `n_inputs` is 0 or above [`MAX_INPUTS`]: arities are fixed by the code, never by
/// input a client controls.
pub fn params(n_inputs: usize) -> &'static PoseidonParams {
    static PARAMS: [OnceLock<PoseidonParams>; MAX_INPUTS] = [const { OnceLock::new() }; MAX_INPUTS];
    assert!(
        (1..=MAX_INPUTS).contains(&n_inputs),
        "Poseidon arity {n_inputs} is not in 1..={MAX_INPUTS}"
    );
    PARAMS[n_inputs - 1].get_or_init(|| PoseidonParams::generate(n_inputs))
}

#[inline(always)]
fn sbox(x: &mut Fr) {
    let x2 = x.square();
    let x4 = x2.square();
    *x *= x4;
}

/// The Poseidon permutation on a state of width `T` with parameters `p`.
#[inline]
fn permute<const T: usize>(state: &mut [Fr; T], p: &PoseidonParams) {
    debug_assert_eq!(p.width, T);
    let mds: &[Fr] = &p.mds;
    for (r, c) in p.ark.chunks_exact(T).enumerate() {
        for (s, c) in state.iter_mut().zip(c) {
            *s += c;
        }
        if p.is_full_round(r) {
            state.iter_mut().for_each(sbox);
        } else {
            sbox(&mut state[0]);
        }
        let old = *state;
        for (i, s) in state.iter_mut().enumerate() {
            let row = &mds[i * T..(i + 1) * T];
            let mut acc = Fr::zero();
            for (m, x) in row.iter().zip(&old) {
                acc += *m * x;
            }
            *s = acc;
        }
    }
}

/// circomlib's `Poseidon(N)`: hash of `N` field elements, for `N` in `1..=MAX_INPUTS`.
///
/// `T` must be `N + 1`; use [`hash`] or the fixed-arity helpers, which pick it.
#[inline]
fn hash_t<const T: usize>(inputs: &[Fr]) -> Fr {
    let mut state = [Fr::zero(); T];
    state[1..].copy_from_slice(inputs);
    permute(&mut state, params(T - 1));
    state[0]
}

/// Hash of two elements (the node of a binary tree).
#[inline]
pub fn hash2(a: Fr, b: Fr) -> Fr {
    hash_t::<3>(&[a, b])
}

/// circomlib's `Poseidon(n)` for `n = inputs.len()` in `1..=MAX_INPUTS`.
///
/// # Panics
/// If the arity is out of range (arities are fixed by the code, not by clients; the CLI
/// checks before calling).
pub fn hash(inputs: &[Fr]) -> Fr {
    macro_rules! arity {
        ($($n:literal),*) => {
            match inputs.len() {
                $($n => hash_t::<{ $n + 1 }>(inputs),)*
                n => panic!("Poseidon arity {n} is not in 1..={MAX_INPUTS}"),
            }
        };
    }
    arity!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn fr(s: &str) -> Fr {
        Fr::from_str(s).expect("decimal")
    }

    /// circomlib's published vectors (test/poseidon.js, and circomlibjs's
    /// test/poseidon.js, which computes the same function).
    #[test]
    fn circomlib_vectors() {
        assert_eq!(
            hash2(Fr::from(1u64), Fr::from(2u64)),
            fr("7853200120776062878684798364095072458815029376092732009249414926327459813530")
        );
        assert_eq!(
            hash(&[1u64, 2, 0, 0, 0].map(Fr::from)),
            fr("1018317224307729531995786483840663576608797660851238720571059489595066344487")
        );
        assert_eq!(
            hash(&[1u64].map(Fr::from)),
            fr("18586133768512220936620570745912940619677854269274689475585506675881198879027")
        );
    }

    /// Vectors for every arity 1..=16, computed by circomlibjs 0.1.7 with
    /// `tests/vectors/gen_poseidon_vectors.mjs`.
    #[test]
    fn circomlibjs_vectors_every_arity() {
        let text = include_str!("../tests/vectors/circomlibjs_poseidon.json");
        let cases: Vec<(Vec<String>, String)> = serde_json::from_str(text).expect("vectors");
        assert_eq!(cases.len(), 17);
        for (inputs, expected) in cases {
            let xs: Vec<Fr> = inputs.iter().map(|s| fr(s)).collect();
            assert_eq!(hash(&xs), fr(&expected), "arity {}", xs.len());
        }
    }

    #[test]
    fn generic_and_fixed_agree_and_arities_differ() {
        let a = Fr::from(5u64);
        assert_eq!(hash(&[a, a]), hash2(a, a));
        assert_ne!(hash(&[a]), hash(&[a, Fr::zero()]));
    }
}

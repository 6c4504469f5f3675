//! The small constraint system the ceremony tests share, and what they do with it.

#![allow(dead_code, clippy::unwrap_used)]

use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use ark_groth16::Groth16;
use medproof_circuits::shape::CircuitShape;
use medproof_params::ptau::prepared_from_secrets;
use medproof_params::reduction::CircomReduction;
use medproof_params::zkey::Zkey;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// A seeded generator.
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// `x³ + x + five = y` with `y` public (wires [1, y, x, x², x³]) for `five` 5 or 6: the
/// circom systems in `tests/data/cube{5,6}.r1cs`, which the service's CLI test uses too.
pub fn cube(five: u64) -> CircuitShape {
    // The directory cargo runs the test in, read at run time: a binary reused from a
    // build cache made in another checkout would otherwise look in that checkout.
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
    let path = format!("{dir}/tests/data/cube{five}.r1cs");
    let file = std::fs::File::open(path).unwrap();
    medproof_params::circom::read_r1cs(std::io::BufReader::new(file)).unwrap()
}

/// The full assignment of [`cube`]`(5)` at `x`.
pub fn assignment(x: u64) -> Vec<Fr> {
    let x = Fr::from(x);
    vec![
        Fr::from(1u64),
        x * x * x + x + Fr::from(5u64),
        x,
        x * x,
        x * x * x,
    ]
}

/// A `.ptau` of `2^power` prepared for phase 2, from secrets drawn with `seed`.
pub fn prepared(power: u32, seed: u64) -> Vec<u8> {
    let mut r = rng(seed);
    prepared_from_secrets(power, Fr::rand(&mut r), Fr::rand(&mut r), Fr::rand(&mut r))
}

/// Proves [`cube`]`(5)` at x = 3 under `z` (circom's reduction), and verifies the proof
/// against the public input `public`.
pub fn proves(z: &Zkey, shape: &CircuitShape, public: Fr) -> bool {
    let pk = z.to_proving_key();
    let mut r = rng(3);
    let proof = Groth16::<Bn254, CircomReduction>::create_proof_with_reduction_and_matrices(
        &pk,
        Fr::rand(&mut r),
        Fr::rand(&mut r),
        &shape.matrices,
        shape.num_instance,
        shape.num_constraints,
        &assignment(3),
    )
    .unwrap();
    let pvk = ark_groth16::prepare_verifying_key(&pk.vk);
    Groth16::<Bn254>::verify_proof(&pvk, &proof, &[public]).unwrap()
}

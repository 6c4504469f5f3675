//! Phase 2 in snarkjs's `.zkey` format on a small constraint system: a key started from
//! a prepared phase-1 file reads back as written, proves with the circom reduction and
//! verifies; a wrong public input, a damaged phase-1 file, a file too small and a key
//! for another system are refused. `interop/check.sh` checks the same against snarkjs
//! with the statements' own systems.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ark_bn254::{Bn254, Fr, G1Affine};
use ark_ec::AffineRepr;
use ark_ff::UniformRand;
use ark_groth16::Groth16;
use medproof_params::ptau::{from_secrets, write_ptau, PtauError};
use medproof_params::reduction::CircomReduction;
use medproof_params::zkey::{new_zkey, read_zkey, write_zkey, ZkeyError};

use crate::common::{assignment, cube, prepared, proves, rng};

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_new_key_reads_back_proves_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let shape = cube(5);
    let ptau = write(&dir, "p.ptau", &prepared(3, 13));
    let z = new_zkey(&ptau, &shape, &mut rng(13)).unwrap();
    assert_eq!((z.n_vars, z.n_public, z.domain_size), (5, 1, 8));
    assert_eq!(z.delta_g1, G1Affine::generator());
    assert!(z.contributions.is_empty());
    z.matches(&shape).unwrap();
    let back = read_zkey(&write_zkey(&z)).unwrap();
    assert_eq!(back, z);
    // The same file twice gives the same key and circuit hash.
    assert_eq!(new_zkey(&ptau, &shape, &mut rng(13)).unwrap(), z);

    let y = assignment(3)[1];
    assert!(proves(&z, &shape, y));
    // Negative twin: the same proof against another public input.
    assert!(!proves(&z, &shape, y + Fr::from(1u64)));
    // From a larger file of the same secrets (τ^15 then real, not taken as zero).
    let larger = write(&dir, "l.ptau", &prepared(4, 13));
    let z4 = new_zkey(&larger, &shape, &mut rng(13)).unwrap();
    assert_eq!((z4.a.clone(), z4.ic.clone()), (z.a.clone(), z.ic.clone()));
    assert!(proves(&z4, &shape, y));
}

#[test]
fn keys_generated_by_ark_with_the_circom_reduction_prove() {
    // The reduction's witness map and H points agree with each other whichever side
    // made the key: a key from ark-groth16's generator with this reduction proves too.
    use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
    struct Cube(Option<u64>);
    impl ConstraintSynthesizer<Fr> for Cube {
        fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
            use ark_relations::gr1cs::Variable;
            use ark_relations::lc;
            let x = self.0.map(Fr::from);
            let y = cs.new_input_variable(|| {
                let x = x.ok_or(SynthesisError::AssignmentMissing)?;
                Ok(x * x * x + x + Fr::from(5u64))
            })?;
            let xv = cs.new_witness_variable(|| x.ok_or(SynthesisError::AssignmentMissing))?;
            let x2 = cs.new_witness_variable(|| {
                x.map(|x| x * x).ok_or(SynthesisError::AssignmentMissing)
            })?;
            let x3 = cs.new_witness_variable(|| {
                x.map(|x| x * x * x)
                    .ok_or(SynthesisError::AssignmentMissing)
            })?;
            cs.enforce_r1cs_constraint(|| lc!() + xv, || lc!() + xv, || lc!() + x2)?;
            cs.enforce_r1cs_constraint(|| lc!() + x2, || lc!() + xv, || lc!() + x3)?;
            cs.enforce_r1cs_constraint(
                || lc!() + x3 + xv + (Fr::from(5u64), Variable::One),
                || lc!() + Variable::One,
                || lc!() + y,
            )?;
            Ok(())
        }
    }
    let mut r = rng(13);
    let pk = Groth16::<Bn254, CircomReduction>::generate_random_parameters_with_reduction(
        Cube(None),
        &mut r,
    )
    .unwrap();
    let proof = Groth16::<Bn254, CircomReduction>::create_random_proof_with_reduction(
        Cube(Some(3)),
        &pk,
        &mut r,
    )
    .unwrap();
    let pvk = ark_groth16::prepare_verifying_key(&pk.vk);
    let y = assignment(3)[1];
    assert!(Groth16::<Bn254>::verify_proof(&pvk, &proof, &[y]).unwrap());
    assert!(!Groth16::<Bn254>::verify_proof(&pvk, &proof, &[y + Fr::from(1u64)]).unwrap());
}

#[test]
fn a_phase_1_file_that_is_unprepared_too_small_or_damaged_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let shape = cube(5);
    let mut r = rng(13);
    let p = from_secrets(3, Fr::rand(&mut r), Fr::rand(&mut r), Fr::rand(&mut r));
    let unprepared = write(&dir, "u.ptau", &write_ptau(&p));
    let err = new_zkey(&unprepared, &shape, &mut rng(13)).unwrap_err();
    assert!(err.to_string().contains("prepare phase2"), "{err}");

    let small = write(&dir, "s.ptau", &prepared(2, 13));
    assert!(matches!(
        new_zkey(&small, &shape, &mut rng(13)),
        Err(ZkeyError::TooLarge(_))
    ));

    // Two Lagrange points of the domain of 8 swapped in section 12 (at offset 7 points):
    // every point is valid, the sum is not the powers'.
    let mut bytes = prepared(3, 13);
    let at = section_offset(&bytes, 12) + 64 * 7;
    let (x, y) = (at + 64, at + 128);
    let tmp = bytes[x..y].to_vec();
    bytes.copy_within(at..x, x);
    bytes[at..x].copy_from_slice(&tmp);
    let swapped = write(&dir, "w.ptau", &bytes);
    match new_zkey(&swapped, &shape, &mut rng(13)) {
        Err(ZkeyError::Ptau(PtauError::Inconsistent(why))) => assert!(why.contains("12"), "{why}"),
        other => panic!("expected the Lagrange check to fail, got {other:?}"),
    }
}

#[test]
fn a_key_for_another_system_does_not_match() {
    let dir = tempfile::tempdir().unwrap();
    let shape = cube(5);
    let ptau = write(&dir, "p.ptau", &prepared(3, 13));
    let z = new_zkey(&ptau, &shape, &mut rng(13)).unwrap();
    let mut other = cube(5);
    other.matrices[1][2][0].0 = Fr::from(2u64);
    assert!(z.matches(&other).unwrap_err().contains("coefficients"));
}

#[test]
fn damaged_keys_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let ptau = write(&dir, "p.ptau", &prepared(3, 13));
    let bytes = write_zkey(&new_zkey(&ptau, &cube(5), &mut rng(13)).unwrap());
    // An A point moved off the curve.
    let mut b = bytes.clone();
    let at = section_offset(&b, 5) + 64 + 5;
    b[at] ^= 1;
    assert!(matches!(
        read_zkey(&b),
        Err(ZkeyError::Point { section: "A", .. })
    ));
    // Cut short, and the protocol changed.
    assert!(read_zkey(&bytes[..bytes.len() - 1]).is_err());
    let mut b = bytes.clone();
    let at = section_offset(&b, 1);
    b[at] = 2;
    assert!(read_zkey(&b).unwrap_err().to_string().contains("Groth16"));
}

/// Where the body of section `kind` starts in an iden3 container.
fn section_offset(bytes: &[u8], kind: u32) -> usize {
    let mut at = 12;
    loop {
        let k = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let n = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().unwrap()) as usize;
        if k == kind {
            return at + 12;
        }
        at += 12 + n;
    }
}

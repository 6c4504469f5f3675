//! medproof's prove step against ark-groth16's: with the same blinding scalars the two
//! give the same proof, for keys of every reduction; a witness that breaks a
//! constraint is refused with that constraint's number, before any MSM.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_groth16::Groth16;
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use medproof_circuits::commit::{key_ref, patient_ref, record_leaf, ContentDigest, RecordOpening};
use medproof_circuits::merkle::MerkleTree;
use medproof_circuits::record_inclusion::RecordInclusionCircuit;
use medproof_circuits::shape::{AssignError, CircuitShape};
use medproof_params::reduction::{CircomReduction, MixedRadixReduction};
use medproof_params::Reduction;
use medproof_prover::groth16::{prove, witness_map, ProvingTables};
use medproof_prover::ProveError;
use medproof_verifier::statement::{PublicInputs, RecordInclusionPublic};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// A record-inclusion circuit with its witness, and its public inputs.
fn circuit(rng: &mut ChaCha20Rng) -> (RecordInclusionCircuit, Vec<Fr>) {
    let committer = key_ref(&[4u8; 32]);
    let record = RecordOpening {
        patient_ref: patient_ref(Fr::rand(rng), Fr::rand(rng)),
        category: 12,
        content_digest: ContentDigest::of(b"{\"resourceType\":\"Observation\"}"),
        created_at: 1_760_000_000,
        blinding: Fr::rand(rng),
    };
    let mut tree = MerkleTree::new();
    for _ in 0..5 {
        tree.push(Fr::rand(rng)).unwrap();
    }
    let i = tree
        .push(record_leaf(committer, record.commitment()))
        .unwrap();
    let public = RecordInclusionPublic::new(tree.root(), 12, Fr::from(77u64));
    let c = RecordInclusionCircuit::new(public, record, committer, tree.path(i).unwrap());
    (c, public.to_field_elements())
}

fn same_proof_as_ark_groth16<Q: R1CSToQAP>(reduction: Reduction, seed: u64) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (c, inputs) = circuit(&mut rng);
    let shape = CircuitShape::of(RecordInclusionCircuit::blank()).unwrap();
    let pk = Groth16::<Bn254, Q>::generate_random_parameters_with_reduction(
        RecordInclusionCircuit::blank(),
        &mut rng,
    )
    .unwrap();
    let rows = shape.num_constraints + shape.num_instance;
    assert_eq!(Some(pk.h_query.len()), reduction.h_points(rows));
    let z = shape.assign(c).unwrap();
    let tables = ProvingTables::new(&pk);
    let (r, s) = (Fr::rand(&mut rng), Fr::rand(&mut rng));

    let ours = prove(&pk, &tables, &shape, reduction, &z.0, r, s).unwrap();
    let theirs = Groth16::<Bn254, Q>::create_proof_with_reduction_and_matrices(
        &pk,
        r,
        s,
        &shape.matrices,
        shape.num_instance,
        shape.num_constraints,
        &z.0,
    )
    .unwrap();
    assert_eq!((ours.a, ours.b, ours.c), (theirs.a, theirs.b, theirs.c));
    let pvk = ark_groth16::prepare_verifying_key(&pk.vk);
    assert!(Groth16::<Bn254, Q>::verify_proof(&pvk, &theirs, &inputs).unwrap());
    // Its negative twin: the proof does not verify for another root.
    let mut wrong = inputs.clone();
    wrong[0] += Fr::from(1u64);
    assert!(!Groth16::<Bn254, Q>::verify_proof(&pvk, &theirs, &wrong).unwrap());

    // The witness map itself matches the reduction's.
    let ours = witness_map(&shape, reduction, &z.0).unwrap();
    let theirs = Q::witness_map_from_matrices::<Fr, ark_poly::GeneralEvaluationDomain<Fr>>(
        &shape.matrices,
        shape.num_instance,
        shape.num_constraints,
        &z.0,
    )
    .unwrap();
    assert_eq!(ours, theirs);
}

#[test]
fn the_same_proof_as_ark_groth16_with_libsnarks_reduction() {
    same_proof_as_ark_groth16::<LibsnarkReduction>(Reduction::Libsnark, 1);
}

#[test]
fn the_same_proof_as_ark_groth16_over_the_mixed_radix_domain() {
    // 5,502 constraints and 3 public inputs: 6,144 points (2^11·3) instead of 8,192.
    let shape = CircuitShape::of(RecordInclusionCircuit::blank()).unwrap();
    let rows = shape.num_constraints + shape.num_instance;
    assert_eq!(rows, 5_506);
    let domain = Reduction::LibsnarkMixedRadix.domain(rows).unwrap();
    assert!(matches!(domain, GeneralEvaluationDomain::MixedRadix(_)));
    assert_eq!(domain.size(), 6_144);
    same_proof_as_ark_groth16::<MixedRadixReduction>(Reduction::LibsnarkMixedRadix, 4);
}

#[test]
fn the_same_proof_as_ark_groth16_with_circoms_reduction() {
    same_proof_as_ark_groth16::<CircomReduction>(Reduction::Circom, 2);
}

#[test]
fn a_broken_constraint_is_refused_with_its_number() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let (c, _) = circuit(&mut rng);
    let shape = CircuitShape::of(RecordInclusionCircuit::blank()).unwrap();
    let z = shape.assign(c).unwrap().0;
    // One witness variable changed at a time (the first, one in the middle, the last):
    // the refusal names the first constraint that breaks, as the serial check does.
    for k in [shape.num_instance, z.len() / 2, z.len() - 1] {
        let mut bad = z.clone();
        bad[k] += Fr::from(1u64);
        let row = shape
            .first_unsatisfied(&bad)
            .expect("some constraint breaks");
        for reduction in [
            Reduction::Libsnark,
            Reduction::LibsnarkMixedRadix,
            Reduction::Circom,
        ] {
            assert_eq!(
                witness_map(&shape, reduction, &bad),
                Err(ProveError::Witness(AssignError::Unsatisfied(row)))
            );
        }
    }
    // A tampered public input too.
    let mut bad = z.clone();
    bad[1] += Fr::from(1u64);
    assert!(matches!(
        witness_map(&shape, Reduction::Libsnark, &bad),
        Err(ProveError::Witness(AssignError::Unsatisfied(_)))
    ));
    // And an assignment of another length.
    assert_eq!(
        witness_map(&shape, Reduction::Libsnark, &z[1..]),
        Err(ProveError::Witness(AssignError::ShapeMismatch))
    );
}

//! The trees' shapes side by side, in one run: binary (the ledger's up to storage format
//! 5), 4-ary (the ledger's now) and 8-ary. For each shape: the node hash, a path update
//! (one leaf overwritten in a tree of 2^16 leaves), a batched append of 1,000 leaves, and
//! for each statement its constraints, Groth16 domain and proving time. The proofs use
//! ark-groth16's own prover and a seeded (insecure) setup for every shape alike, so the
//! shapes compare with each other; `record_inclusion` and `stories` measure medproof's
//! prover on the ledger's shape.

#![allow(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use ark_groth16::Groth16;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use medproof_circuits::access::{AccessCircuit, AccessWitness};
use medproof_circuits::claim::{ClaimCircuit, ClaimWitness};
use medproof_circuits::commit::{
    consent_leaf, key_ref, patient_ref, procedure_code, record_leaf, ClaimOpening, ConsentOpening,
    ContentDigest, PolicyOpening, RecordOpening,
};
use medproof_circuits::merkle::{node_hash, MerkleTree};
use medproof_circuits::record_inclusion::RecordInclusionCircuit;
use medproof_circuits::shape::CircuitShape;
use medproof_circuits::{AnyCircuit, Trees};
use medproof_verifier::statement::{
    AccessPublic, ClaimPublic, PublicInputs, RecordInclusionPublic,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const T0: u64 = 1_780_000_000;
const TREE_LEAVES: u64 = 1 << 16;

fn shapes() -> [(&'static str, Trees); 3] {
    [
        ("binary", Trees::BINARY),
        ("4-ary", Trees::LEDGER),
        ("8-ary", Trees::OCTAL),
    ]
}

fn record(rng: &mut ChaCha20Rng, patient: Fr, category: u32) -> RecordOpening {
    RecordOpening {
        patient_ref: patient,
        category,
        content_digest: ContentDigest::of(b"{\"resourceType\":\"Observation\"}"),
        created_at: T0,
        blinding: Fr::rand(rng),
    }
}

/// A tree of `trees.ledger`'s shape with a few random leaves before `leaf`; its index.
fn tree_with(trees: Trees, rng: &mut ChaCha20Rng, leaf: Fr) -> (MerkleTree, u64) {
    let mut t = MerkleTree::with_shape(trees.ledger);
    for _ in 0..5 {
        t.push(Fr::rand(rng)).unwrap();
    }
    let i = t.push(leaf).unwrap();
    (t, i)
}

/// `(public inputs, circuit with its witness)` for each statement over `trees`.
fn statements(trees: Trees, rng: &mut ChaCha20Rng) -> Vec<(Vec<Fr>, AnyCircuit)> {
    let provider = key_ref(&[1u8; 32]);
    let granter = key_ref(&[2u8; 32]);
    let salt = Fr::rand(rng);
    let patient = patient_ref(granter, salt);

    let r = record(rng, patient, 3);
    let (t, i) = tree_with(trees, rng, record_leaf(provider, r.commitment()));
    let public = RecordInclusionPublic::new(t.root(), 3, Fr::from(5u64));
    let ri = RecordInclusionCircuit::new(public, r.clone(), provider, t.path(i).unwrap())
        .with_trees(trees);

    let consent = ConsentOpening {
        patient_ref: patient,
        grantee: provider,
        category: 3,
        purpose: 1,
        valid_from: T0 - 10,
        valid_until: T0 + 10,
        blinding: Fr::rand(rng),
    };
    let (t, i) = tree_with(trees, rng, consent_leaf(granter, consent.commitment()));
    let access_public = AccessPublic {
        consents_root: t.root(),
        provider_ref: provider,
        category: 3,
        purpose: 1,
        now: T0,
        request_binding: Fr::from(6u64),
        record: r.commitment(),
    };
    let access = AccessCircuit::new(
        access_public,
        AccessWitness {
            consent,
            granter,
            patient_salt: salt,
            path: t.path(i).unwrap(),
            record: r,
        },
    )
    .with_trees(trees);

    let mut codes: Vec<Fr> = ["99213", "99214", "J3490", "80053", "A0425"]
        .iter()
        .map(|c| procedure_code(c).unwrap())
        .collect();
    codes.sort();
    let mut code_tree = MerkleTree::with_shape(trees.codes);
    code_tree.extend(&codes).unwrap();
    let policy = PolicyOpening {
        policyholder: patient,
        codes_root: code_tree.root(),
        period_start: T0 - 100,
        period_end: T0 + 100,
        limit: 50_000,
        blinding: Fr::rand(rng),
    };
    let claim = ClaimOpening {
        patient_ref: patient,
        code: codes[2],
        service_date: T0,
        amount: 1_200,
        content_digest: ContentDigest::of(b"{\"resourceType\":\"Claim\"}"),
        blinding: Fr::rand(rng),
    };
    let (t, i) = tree_with(trees, rng, record_leaf(provider, claim.commitment()));
    let claim_public = ClaimPublic {
        records_root: t.root(),
        policy: policy.commitment(),
        claimed_amount: 1_200,
        claim_id: claim.claim_id(policy.commitment()),
        provider,
        binding: Fr::from(7u64),
    };
    let claim = ClaimCircuit::new(
        claim_public,
        ClaimWitness {
            record_path: t.path(i).unwrap(),
            claim,
            policy,
            code_path: code_tree.path(2).unwrap(),
        },
    )
    .with_trees(trees);

    assert!(ri.native_check() && access.native_check() && claim.native_check());
    vec![
        (public.to_field_elements(), AnyCircuit::RecordInclusion(ri)),
        (
            access_public.to_field_elements(),
            AnyCircuit::Access(access),
        ),
        (claim_public.to_field_elements(), AnyCircuit::Claim(claim)),
    ]
}

/// The same circuit without its witness, for the setup.
fn blank(c: &AnyCircuit, trees: Trees) -> AnyCircuit {
    match c {
        AnyCircuit::RecordInclusion(_) => {
            AnyCircuit::RecordInclusion(RecordInclusionCircuit::blank().with_trees(trees))
        }
        AnyCircuit::Access(_) => AnyCircuit::Access(AccessCircuit::blank().with_trees(trees)),
        AnyCircuit::Claim(_) => AnyCircuit::Claim(ClaimCircuit::blank().with_trees(trees)),
    }
}

fn native(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut g = c.benchmark_group("trees_native");
    for (name, trees) in shapes() {
        let shape = trees.ledger;
        let children: Vec<Fr> = (0..shape.arity()).map(|_| Fr::rand(&mut rng)).collect();
        let _ = node_hash(&children); // the constants, outside the timed loop
        g.bench_function(format!("node_hash/{name}"), |b| {
            b.iter(|| node_hash(black_box(&children)))
        });
        let mut tree = MerkleTree::with_shape(shape);
        let leaves: Vec<Fr> = (0..TREE_LEAVES).map(Fr::from).collect();
        tree.extend(&leaves).unwrap();
        let mut i = 0u64;
        g.bench_function(format!("path_update/{name}"), |b| {
            b.iter(|| {
                i = (i + 7_919) % TREE_LEAVES;
                tree.set(i, Fr::from(i + 1)).unwrap();
            })
        });
        let batch: Vec<Fr> = (0..1_000u64).map(|x| Fr::from(x + TREE_LEAVES)).collect();
        g.bench_function(format!("append_1000/{name}"), |b| {
            b.iter_batched(
                || tree.clone(),
                |mut t| t.extend(black_box(&batch)).unwrap(),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn proving(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut g = c.benchmark_group("trees_prove");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for (name, trees) in shapes() {
        for (inputs, circuit) in statements(trees, &mut rng) {
            let statement = circuit.statement();
            let shape = CircuitShape::of(blank(&circuit, trees)).unwrap();
            eprintln!(
                "{statement} over {name} trees: {} constraints, {} witness variables, domain {}",
                shape.num_constraints,
                shape.num_witness,
                shape.domain_size()
            );
            let pk = Groth16::<Bn254>::generate_random_parameters_with_reduction(
                blank(&circuit, trees),
                &mut rng,
            )
            .unwrap();
            let pvk = ark_groth16::prepare_verifying_key(&pk.vk);
            let proof = Groth16::<Bn254>::create_random_proof_with_reduction(
                circuit.clone(),
                &pk,
                &mut rng,
            )
            .unwrap();
            assert!(Groth16::<Bn254>::verify_proof(&pvk, &proof, &inputs).unwrap());
            g.bench_function(format!("{statement}/{name}"), |b| {
                b.iter(|| {
                    Groth16::<Bn254>::create_random_proof_with_reduction(
                        circuit.clone(),
                        &pk,
                        &mut rng,
                    )
                    .unwrap()
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, native, proving);
criterion_main!(benches);

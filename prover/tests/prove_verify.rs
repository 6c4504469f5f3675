//! End to end: prove record inclusion, verify with the light verifier (single, batch,
//! bundle), and reject every tampered variant.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use medproof_circuits::commit::{key_ref, patient_ref, record_leaf, ContentDigest, RecordOpening};
use medproof_circuits::merkle::MerkleTree;
use medproof_circuits::shape::AssignError;
use medproof_params::{insecure_seeded_setup_with, load, LoadOptions, Reduction};
use medproof_prover::{ProofRequest, ProveError, Prover, RecordInclusionRequest, Shape};
use medproof_verifier::bundle::{BundleError, Verifier};
use medproof_verifier::groth16::{PreparedVerifyingKey, VerifyError};
use medproof_verifier::statement::RecordInclusionPublic;
use medproof_verifier::{ProofBundle, Statement};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

struct World {
    prover: Prover,
    verifier: Verifier,
    tree: MerkleTree,
    records: Vec<RecordOpening>,
    _dir: tempfile::TempDir,
}

fn world() -> World {
    world_with(Reduction::LibsnarkMixedRadix)
}

/// The world over keys of `reduction` (the one `setup` writes is the mixed-radix one).
fn world_with(reduction: Reduction) -> World {
    let dir = tempfile::tempdir().unwrap();
    insecure_seeded_setup_with(dir.path(), &[Statement::RecordInclusion], 3, reduction).unwrap();
    let keys = load(
        dir.path(),
        Statement::RecordInclusion,
        LoadOptions {
            allow_insecure: true,
        },
    )
    .unwrap();
    let mut verifier = Verifier::new();
    verifier
        .insert(
            Statement::RecordInclusion,
            PreparedVerifyingKey::new(keys.verifying_key.clone()).unwrap(),
        )
        .unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let mut tree = MerkleTree::new();
    let records: Vec<RecordOpening> = (0..6u64)
        .map(|i| RecordOpening {
            patient_ref: patient_ref(Fr::rand(&mut rng), Fr::rand(&mut rng)),
            category: 10 + (i % 2) as u32,
            content_digest: ContentDigest::of(format!("resource {i}").as_bytes()),
            created_at: 1_760_000_000 + i * 60,
            blinding: Fr::rand(&mut rng),
        })
        .collect();
    for r in &records {
        tree.push(record_leaf(committer(), r.commitment())).unwrap();
    }
    World {
        prover: Prover::new([keys], 2).unwrap(),
        verifier,
        tree,
        records,
        _dir: dir,
    }
}

/// The key_ref of the provider that committed the records.
fn committer() -> Fr {
    key_ref(&[3u8; 32])
}

fn inclusion(w: &World, i: usize, binding: u64) -> RecordInclusionRequest {
    let public =
        RecordInclusionPublic::new(w.tree.root(), w.records[i].category, Fr::from(binding));
    RecordInclusionRequest {
        public,
        record: w.records[i].clone(),
        committer: committer(),
        path: w.tree.path(i as u64).unwrap(),
    }
}

fn request(w: &World, i: usize, binding: u64) -> ProofRequest {
    ProofRequest::RecordInclusion(inclusion(w, i, binding))
}

/// Proves records `0..n` in parallel, with binding `binding(i)`; every proof must succeed.
fn prove_all(w: &World, n: usize, binding: impl Fn(usize) -> u64) -> Vec<ProofBundle> {
    let requests: Vec<ProofRequest> = (0..n).map(|i| request(w, i, binding(i))).collect();
    w.prover
        .prove_many(&requests)
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

fn with_input(b: &ProofBundle, name: &str, value: &str) -> ProofBundle {
    let mut b = b.clone();
    b.public_inputs.insert(name.into(), value.into());
    b
}

#[test]
fn proofs_verify_and_tampering_is_rejected() {
    let w = world();
    let bundles = prove_all(&w, 4, |i| 100 + i as u64);

    for b in &bundles {
        assert!(w.verifier.verify(b).unwrap());
        // Round trip through JSON.
        assert!(w
            .verifier
            .verify(&ProofBundle::from_json(&b.to_json()).unwrap())
            .unwrap());
    }

    // The same proof with a wrong root, another category, another binding: Ok(false).
    let b = &bundles[0];
    let root = &b.public_inputs["records_root"];
    let other_root = medproof_verifier::fr_to_decimal(
        &(medproof_verifier::fr_from_decimal(root).unwrap() + Fr::from(1u64)),
    );
    assert!(!w
        .verifier
        .verify(&with_input(b, "records_root", &other_root))
        .unwrap());
    let other_cat = if b.public_inputs["category"] == "10" {
        "11"
    } else {
        "10"
    };
    assert!(!w
        .verifier
        .verify(&with_input(b, "category", other_cat))
        .unwrap());
    assert!(!w.verifier.verify(&with_input(b, "binding", "7")).unwrap());
    // Another proof's bytes under this bundle's inputs.
    let mut swapped = b.clone();
    swapped.proof = bundles[1].proof.clone();
    assert!(!w.verifier.verify(&swapped).unwrap());

    // Malformed: out-of-field input, missing input, extra input, wrong key id.
    let modulus = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
    assert!(matches!(
        w.verifier.verify(&with_input(b, "binding", modulus)),
        Err(BundleError::Inputs(_))
    ));
    let mut missing = b.clone();
    missing.public_inputs.remove("binding");
    assert!(matches!(
        w.verifier.verify(&missing),
        Err(BundleError::Inputs(_))
    ));
    assert!(matches!(
        w.verifier.verify(&with_input(b, "extra", "1")),
        Err(BundleError::Inputs(_))
    ));
    let mut other_key = b.clone();
    other_key.vk_id = "00".repeat(32);
    assert!(matches!(
        w.verifier.verify(&other_key),
        Err(BundleError::KeyMismatch { .. })
    ));

    // The light verifier counts inputs itself.
    let key = w.verifier.key(Statement::RecordInclusion).unwrap();
    let decoded = b.decode().unwrap();
    let mut extra = decoded.inputs.clone();
    extra.push(Fr::from(0u64));
    assert_eq!(
        key.verify(&extra, &decoded.proof),
        Err(VerifyError::InputCount {
            expected: 3,
            got: 4
        })
    );
    assert_eq!(
        key.verify(&decoded.inputs[..2], &decoded.proof),
        Err(VerifyError::InputCount {
            expected: 3,
            got: 2
        })
    );

    // It agrees with ark-groth16's verifier.
    let keys = w.prover.keys(Statement::RecordInclusion).unwrap();
    let pvk = ark_groth16::prepare_verifying_key(&keys.proving_key.vk);
    let ark_proof = ark_groth16::Proof::<Bn254> {
        a: decoded.proof.a,
        b: decoded.proof.b,
        c: decoded.proof.c,
    };
    assert!(
        ark_groth16::Groth16::<Bn254>::verify_proof(&pvk, &ark_proof, &decoded.inputs).unwrap()
    );
}

#[test]
fn batch_verification_finds_the_bad_proofs() {
    let w = world();
    let bundles = prove_all(&w, 6, |i| i as u64);
    let decoded: Vec<_> = bundles.iter().map(|b| b.decode().unwrap()).collect();
    let key = w.verifier.key(Statement::RecordInclusion).unwrap();
    let items: Vec<(&[Fr], &_)> = decoded
        .iter()
        .map(|d| (d.inputs.as_slice(), &d.proof))
        .collect();
    assert!(key.verify_batch(&items).unwrap());
    assert!(key.find_invalid(&items).unwrap().is_empty());

    // Tamper with proofs 1 and 4: one input changed, one proof swapped.
    let mut bad_inputs = decoded[1].inputs.clone();
    bad_inputs[RecordInclusionPublic::BINDING] += Fr::from(1u64);
    let mut items = items.clone();
    items[1].0 = &bad_inputs;
    items[4].1 = &decoded[5].proof;
    assert!(!key.verify_batch(&items).unwrap());
    assert_eq!(key.find_invalid(&items).unwrap(), vec![1, 4]);
    assert_eq!(key.verify_batch(&[]), Err(VerifyError::EmptyBatch));
}

#[test]
fn bad_witness_is_refused_before_proving_and_fails_alone() {
    let w = world();
    let good = request(&w, 2, 5);
    // Wrong disclosed category: the witness does not satisfy the statement.
    let mut bad = inclusion(&w, 3, 5);
    bad.public = RecordInclusionPublic::new(w.tree.root(), bad.record.category + 1, Fr::from(5u64));
    // A record that is not in the tree.
    let mut absent = inclusion(&w, 0, 5);
    absent.record.blinding += Fr::from(1u64);

    let requests = [
        good,
        ProofRequest::RecordInclusion(bad),
        ProofRequest::RecordInclusion(absent),
    ];
    // Each proof on the whole pool, and one proof per lane.
    for shape in [Shape::Shared, Shape::Lanes] {
        let results = w.prover.prove_many_shaped(&requests, shape);
        assert_eq!(results.len(), 3, "{shape:?}");
        assert!(w.verifier.verify(results[0].as_ref().unwrap()).unwrap());
        assert!(
            matches!(
                results[1],
                Err(ProveError::Witness(AssignError::Unsatisfied(_)))
            ),
            "{shape:?}"
        );
        assert!(
            matches!(
                results[2],
                Err(ProveError::Witness(AssignError::Unsatisfied(_)))
            ),
            "{shape:?}"
        );
    }
    // One lane by itself, whatever its number.
    let lone = w.prover.prove_on_lane(&requests[0], 7).unwrap();
    assert!(w.verifier.verify(&lone).unwrap());
    assert!(matches!(
        w.prover.prove_on_lane(&requests[1], 0),
        Err(ProveError::Witness(AssignError::Unsatisfied(_)))
    ));
}

#[test]
fn proofs_verify_before_while_and_after_the_tables_are_built() {
    let w = world();
    assert_eq!(
        w.prover.table_bytes(),
        0,
        "no tables before the first proof"
    );
    // The first proofs start the build in the background and prove without waiting.
    for b in prove_all(&w, 4, |i| 200 + i as u64) {
        assert!(w.verifier.verify(&b).unwrap());
    }
    w.prover.build_tables();
    assert!(w.prover.table_bytes() > 10_000_000, "the tables are built");
    for b in prove_all(&w, 4, |i| 300 + i as u64) {
        assert!(w.verifier.verify(&b).unwrap());
        assert!(!w.verifier.verify(&with_input(&b, "binding", "1")).unwrap());
    }
}

#[test]
fn keys_of_every_reduction_make_proofs_that_verify() {
    // Keys from before the mixed-radix domain (libsnark's over a power of two), the keys
    // `setup` writes now, and circom's (a ceremony's): each proves with ark-groth16's
    // prover (before the tables are built) and with medproof's (after), and each proof
    // has its negative twin.
    for reduction in [
        Reduction::Libsnark,
        Reduction::LibsnarkMixedRadix,
        Reduction::Circom,
    ] {
        let w = world_with(reduction);
        let keys = w.prover.keys(Statement::RecordInclusion).unwrap();
        assert_eq!(keys.reduction, reduction);
        assert_eq!(
            w.prover.table_bytes(),
            0,
            "no tables before the first proof"
        );
        for round in 0..2u64 {
            if round == 1 {
                w.prover.build_tables();
                assert!(w.prover.table_bytes() > 0);
            }
            for b in prove_all(&w, 2, |i| 500 + 10 * round + i as u64) {
                assert!(w.verifier.verify(&b).unwrap(), "{reduction:?}");
                assert!(!w.verifier.verify(&with_input(&b, "binding", "1")).unwrap());
            }
        }
    }
}

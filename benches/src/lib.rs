//! Fixtures shared by medproof's benchmarks: keys from an insecure seeded setup (never
//! for production), a records tree, and valid proofs.

#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use medproof_circuits::commit::{key_ref, patient_ref, record_leaf, ContentDigest, RecordOpening};
use medproof_circuits::merkle::MerkleTree;
use medproof_params::{
    insecure_seeded_setup, insecure_seeded_setup_with, load, LoadOptions, Reduction,
};
use medproof_prover::{ProofRequest, Prover, RecordInclusionRequest};
use medproof_verifier::groth16::{PreparedVerifyingKey, Proof};
use medproof_verifier::statement::RecordInclusionPublic;
use medproof_verifier::Statement;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// A prover, its prepared verifying key, and proof requests over a small tree.
pub struct Fixture {
    /// The prover (keys loaded, matrices cached, fixed-base tables built).
    pub prover: Prover,
    /// ark-groth16's prover (no tables) on ark-groth16's own keys (libsnark's reduction
    /// over a power-of-two domain, as `setup` made them before the mixed-radix domain),
    /// from the same seed: the path before.
    pub ark_prover: Prover,
    /// medproof's prove step on those power-of-two keys: the smaller domain's gain apart.
    pub power_of_two: Prover,
    /// The prepared verifying key.
    pub pvk: PreparedVerifyingKey,
    /// Requests, one per record.
    pub requests: Vec<ProofRequest>,
    _dirs: [tempfile::TempDir; 2],
}

/// Builds the fixture with `records` records and a prover of `threads` threads.
pub fn fixture(records: usize, threads: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let old = tempfile::tempdir().unwrap();
    insecure_seeded_setup(dir.path(), &[Statement::RecordInclusion], 11).unwrap();
    insecure_seeded_setup_with(
        old.path(),
        &[Statement::RecordInclusion],
        11,
        Reduction::Libsnark,
    )
    .unwrap();
    let load_keys = |dir: &std::path::Path| {
        load(
            dir,
            Statement::RecordInclusion,
            LoadOptions {
                allow_insecure: true,
            },
        )
        .unwrap()
    };
    let keys = load_keys(dir.path());
    let pvk = PreparedVerifyingKey::new(keys.verifying_key.clone()).expect("a safe key");
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let openings: Vec<RecordOpening> = (0..records)
        .map(|i| RecordOpening {
            patient_ref: patient_ref(Fr::rand(&mut rng), Fr::rand(&mut rng)),
            category: (i % 4) as u32,
            content_digest: ContentDigest::of(&i.to_le_bytes()),
            created_at: 1_760_000_000 + i as u64,
            blinding: Fr::rand(&mut rng),
        })
        .collect();
    let committer = key_ref(&[1u8; 32]);
    let mut tree = MerkleTree::new();
    tree.extend(
        &openings
            .iter()
            .map(|r| record_leaf(committer, r.commitment()))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let requests = openings
        .iter()
        .enumerate()
        .map(|(i, r)| {
            ProofRequest::RecordInclusion(RecordInclusionRequest {
                public: RecordInclusionPublic::new(tree.root(), r.category, Fr::from(i as u64)),
                record: r.clone(),
                committer,
                path: tree.path(i as u64).unwrap(),
            })
        })
        .collect();
    let prover = Prover::new([keys], threads).unwrap();
    prover.build_tables();
    let power_of_two = Prover::new([load_keys(old.path())], threads).unwrap();
    power_of_two.build_tables();
    Fixture {
        prover,
        ark_prover: Prover::without_tables([load_keys(old.path())], threads).unwrap(),
        power_of_two,
        pvk,
        requests,
        _dirs: [dir, old],
    }
}

/// `n` valid `(inputs, proof)` pairs: a few real proofs, re-randomized (a re-randomized
/// Groth16 proof is a fresh, valid proof of the same statement) to reach `n` cheaply.
pub fn proofs(f: &Fixture, n: usize) -> Vec<(Vec<Fr>, Proof)> {
    let real: Vec<(Vec<Fr>, Proof)> = f
        .prover
        .prove_many(&f.requests)
        .into_iter()
        .map(|b| {
            let d = b.unwrap().decode().unwrap();
            (d.inputs, d.proof)
        })
        .collect();
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    (0..n)
        .map(|i| {
            let (inputs, p) = &real[i % real.len()];
            (inputs.clone(), rerandomize(&f.pvk, p, &mut rng))
        })
        .collect()
}

/// A fresh, valid proof of the same statement as `p` (Groth16 proofs re-randomize).
pub fn rerandomize(pvk: &PreparedVerifyingKey, p: &Proof, rng: &mut ChaCha20Rng) -> Proof {
    let key = pvk.key();
    let vk = ark_groth16::VerifyingKey::<Bn254> {
        alpha_g1: key.alpha_g1,
        beta_g2: key.beta_g2,
        gamma_g2: key.gamma_g2,
        delta_g2: key.delta_g2,
        gamma_abc_g1: key.gamma_abc_g1.clone(),
    };
    let ark = ark_groth16::Proof::<Bn254> {
        a: p.a,
        b: p.b,
        c: p.c,
    };
    let r = ark_groth16::Groth16::<Bn254>::rerandomize_proof(&vk, &ark, rng);
    Proof {
        a: r.a,
        b: r.b,
        c: r.c,
    }
}

/// The seed of the ledger key of [`provider_ledger`].
pub const LEDGER_KEY: [u8; 32] = [1u8; 32];

/// A ledger on RocksDB in `dir` (key from [`LEDGER_KEY`], a registrar) with one
/// admitted provider, and that provider's key.
pub fn provider_ledger(
    dir: &std::path::Path,
) -> (
    medproof_ledger::Ledger<medproof_ledger::RocksStore>,
    ed25519_dalek::SigningKey,
) {
    use ed25519_dalek::SigningKey;
    use medproof_ledger::{Action, Ledger, RocksStore, Role, Submission, SystemClock};
    let registrar = SigningKey::from_bytes(&[3u8; 32]);
    let mut l = Ledger::create(
        RocksStore::open(dir).unwrap(),
        SigningKey::from_bytes(&LEDGER_KEY),
        std::sync::Arc::new(SystemClock),
        &[registrar.verifying_key()],
        &[],
    )
    .unwrap();
    let provider = SigningKey::from_bytes(&[2u8; 32]);
    let admit = Submission::sign(
        Action::AdmitKey {
            key: provider.verifying_key().to_bytes(),
            role: Role::Provider,
        },
        &registrar,
        l.envelope(86_400).unwrap(),
    );
    l.append_one(admit).unwrap();
    (l, provider)
}

/// `n` record commitments (the values `from + 1` ..= `from + n`) signed by `provider`.
pub fn record_commits(
    env: medproof_ledger::Envelope,
    provider: &ed25519_dalek::SigningKey,
    from: u64,
    n: u64,
) -> Vec<medproof_ledger::Submission> {
    (from..from + n)
        .map(|i| {
            medproof_ledger::Submission::sign(
                medproof_ledger::Action::CommitRecord {
                    commitment: Fr::from(i + 1),
                },
                provider,
                env,
            )
        })
        .collect()
}

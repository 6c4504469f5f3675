//! Fixtures shared by medproof's benchmarks: keys from an insecure seeded setup (never
//! for production), a records tree, valid proofs, and the users' statements over a
//! ledger.

#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use ed25519_dalek::SigningKey;
use medproof_circuits::commit::{key_ref, patient_ref, record_leaf, ContentDigest, RecordOpening};
use medproof_circuits::merkle::MerkleTree;
use medproof_ledger::{Clock, Ledger, MemStore};
use medproof_params::{
    insecure_seeded_setup, insecure_seeded_setup_with, load, LoadOptions, Reduction, StatementKeys,
};
use medproof_prover::{ProofRequest, Prover, RecordInclusionRequest};
use medproof_service::scenario::{ConsentTerms, GrantedConsent, Parties};
use medproof_verifier::bundle::Verifier;
use medproof_verifier::groth16::{PreparedVerifyingKey, Proof};
use medproof_verifier::statement::RecordInclusionPublic;
use medproof_verifier::{Checkpoint, Statement};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// medproof's prover, the same prove step on power-of-two keys, and ark-groth16's
/// prover, over `statements`' keys from one insecure seeded setup.
pub struct Provers {
    /// medproof's prover on keys over the smallest domain (tables built).
    pub prover: Prover,
    /// ark-groth16's prover (no tables) on ark-groth16's own keys (libsnark's reduction
    /// over a power-of-two domain, as `setup` made them before the mixed-radix domain),
    /// from the same seed: the path before.
    pub ark_prover: Prover,
    /// medproof's prove step on those power-of-two keys: the smaller domain's gain apart.
    pub power_of_two: Prover,
}

/// [`Provers`] of `threads` threads over `statements`' keys from seed `seed` (tables
/// built: seconds). The keys are read into memory; their directories go when it
/// returns. Prints each statement's shape and the tables' size.
pub fn provers(statements: &[Statement], seed: u64, threads: usize) -> Provers {
    let dir = tempfile::tempdir().unwrap();
    let old = tempfile::tempdir().unwrap();
    insecure_seeded_setup(dir.path(), statements, seed).unwrap();
    insecure_seeded_setup_with(old.path(), statements, seed, Reduction::Libsnark).unwrap();
    let keys = |dir: &tempfile::TempDir| -> Vec<StatementKeys> {
        statements
            .iter()
            .map(|&s| {
                load(
                    dir.path(),
                    s,
                    LoadOptions {
                        allow_insecure: true,
                    },
                )
                .unwrap()
            })
            .collect()
    };
    let prover = Prover::new(keys(&dir), threads).unwrap();
    prover.build_tables();
    let power_of_two = Prover::new(keys(&old), threads).unwrap();
    power_of_two.build_tables();
    for &s in statements {
        let k = prover.keys(s).unwrap();
        eprintln!(
            "{s}: {} constraints, {} public inputs, domain {} ({} over a power of two)",
            k.shape.num_constraints,
            k.shape.num_instance - 1,
            k.proving_key.h_query.len() + 1,
            k.shape.domain_size()
        );
    }
    eprintln!(
        "fixed-base tables: {:.1} MB",
        prover.table_bytes() as f64 / 1e6
    );
    Provers {
        prover,
        ark_prover: Prover::without_tables(keys(&old), threads).unwrap(),
        power_of_two,
    }
}

/// A prover, its prepared verifying key, and proof requests over a small tree.
pub struct Fixture {
    /// The prover (keys loaded, matrices cached, fixed-base tables built).
    pub prover: Prover,
    /// ark-groth16's prover on power-of-two keys ([`Provers::ark_prover`]).
    pub ark_prover: Prover,
    /// medproof's prove step on power-of-two keys ([`Provers::power_of_two`]).
    pub power_of_two: Prover,
    /// The prepared verifying key.
    pub pvk: PreparedVerifyingKey,
    /// Requests, one per record.
    pub requests: Vec<ProofRequest>,
}

/// Builds the fixture with `records` records and a prover of `threads` threads.
pub fn fixture(records: usize, threads: usize) -> Fixture {
    let Provers {
        prover,
        ark_prover,
        power_of_two,
    } = provers(&[Statement::RecordInclusion], 11, threads);
    let keys = prover.keys(Statement::RecordInclusion).unwrap();
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
    Fixture {
        prover,
        ark_prover,
        power_of_two,
        pvk,
        requests,
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

/// The time of [`stories`]' ledger, consent and claim.
pub const T0: u64 = 1_780_000_000;

/// A clock that says what it is set to.
pub struct FixedClock(pub AtomicU64);

impl Clock for FixedClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The users' statements over a ledger in memory: a provider, a patient's lab records,
/// a consent, a policy and a claim; provers for access and claim on keys over the
/// smallest domain, and, from the same seed, on keys over the power-of-two domain
/// (medproof's prove step and ark-groth16's prover, the path before).
pub struct Stories {
    /// medproof's prover (fixed-base tables built).
    pub prover: Prover,
    /// ark-groth16's prover on power-of-two keys ([`Provers::ark_prover`]).
    pub ark_prover: Prover,
    /// medproof's prove step on power-of-two keys ([`Provers::power_of_two`]).
    pub power_of_two: Prover,
    /// The verifying keys of `prover`'s keys.
    pub verifier: Verifier,
    /// The ledger and its parties.
    pub parties: Parties<MemStore>,
    /// The records committed (category 1, at `T0`).
    pub records: Vec<RecordOpening>,
    /// The patient's consent (category 1, purpose 1, a day either side of `T0`).
    pub consent: GrantedConsent,
    /// One access request per record, with the checkpoint it was made against.
    pub access: Vec<(ProofRequest, Checkpoint)>,
    /// A claim under the policy.
    pub claim: ProofRequest,
    /// The fixture's random stream, for more requests.
    pub rng: ChaCha20Rng,
}

/// Builds [`Stories`] (keys from seed 12, tables built: seconds).
pub fn stories() -> Stories {
    let statements = [Statement::AccessAuthorization, Statement::ClaimCompliance];
    let Provers {
        prover,
        ark_prover,
        power_of_two,
    } = provers(&statements, 12, 0);
    let mut verifier = Verifier::new();
    let mut named = Vec::new();
    for s in statements {
        let k = prover.keys(s).unwrap();
        verifier
            .insert(
                s,
                PreparedVerifyingKey::new(k.verifying_key.clone()).expect("a safe key"),
            )
            .unwrap();
        named.extend(medproof_service::genesis_keys(std::slice::from_ref(k)).unwrap());
    }

    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let clock = Arc::new(FixedClock(AtomicU64::new(T0)));
    let registrar = SigningKey::generate(&mut rng);
    let ledger = Ledger::create(
        MemStore::new(),
        SigningKey::generate(&mut rng),
        clock,
        &[registrar.verifying_key()],
        &named,
    )
    .unwrap();
    let mut p = Parties::register(ledger, registrar, &mut rng).unwrap();
    let docs: Vec<Vec<u8>> = (0..8).map(|i| format!("lab {i}").into_bytes()).collect();
    let records = p
        .commit_records(
            &docs
                .iter()
                .map(|d| (1, d.as_slice(), T0))
                .collect::<Vec<_>>(),
            &mut rng,
        )
        .unwrap();
    let consent = p
        .grant(
            ConsentTerms {
                category: 1,
                purpose: 1,
                valid_from: T0 - 86_400,
                valid_until: T0 + 86_400,
            },
            &mut rng,
        )
        .unwrap();
    let policy = p
        .publish_policy(
            &["99213", "80053"],
            (T0 - 86_400, T0 + 86_400),
            50_000,
            &mut rng,
        )
        .unwrap();
    let claim = p
        .commit_claim("99213", T0, 12_550, b"claim", &mut rng)
        .unwrap();
    let access = records
        .iter()
        .map(|r| {
            let (req, cp) = p.access_request(&consent, r, T0, &mut rng).unwrap();
            (ProofRequest::Access(req), cp)
        })
        .collect();
    let (claim_req, _) = p.claim_request(&claim, &policy, Fr::from(1u64)).unwrap();
    Stories {
        prover,
        ark_prover,
        power_of_two,
        verifier,
        parties: p,
        records,
        consent,
        access,
        claim: ProofRequest::Claim(claim_req),
        rng,
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
    use medproof_ledger::{Action, RocksStore, Role, Submission, SystemClock};
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

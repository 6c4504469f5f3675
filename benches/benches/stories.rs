//! The users' statements: proving access authorization and claim compliance (4-ary
//! ledger trees), and auditing a log of 1,024 access entries (chain walk, every check of
//! each entry, binding recomputation, batch verification). Each logged access answers
//! its own request, so each is a real proof (the ledger refuses a binding logged twice).

#![allow(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ed25519_dalek::SigningKey;
use medproof_ledger::audit::{audit, AuditOptions, DEFAULT_BATCH};
use medproof_ledger::{Clock, Ledger, MemStore};
use medproof_params::{
    insecure_seeded_setup, insecure_seeded_setup_with, load, LoadOptions, Reduction,
};
use medproof_prover::{ProofRequest, Prover};
use medproof_service::scenario::{ConsentTerms, Parties};
use medproof_verifier::bundle::Verifier;
use medproof_verifier::freshness::Freshness;
use medproof_verifier::groth16::PreparedVerifyingKey;
use medproof_verifier::{ProofBundle, Statement};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const T0: u64 = 1_780_000_000;
const AUDITED: usize = 1_024;

struct FixedClock(AtomicU64);

impl Clock for FixedClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let old = tempfile::tempdir().unwrap();
    let statements = [Statement::AccessAuthorization, Statement::ClaimCompliance];
    insecure_seeded_setup(dir.path(), &statements, 12).unwrap();
    insecure_seeded_setup_with(old.path(), &statements, 12, Reduction::Libsnark).unwrap();
    let mut verifier = Verifier::new();
    let mut keys = Vec::new();
    let load_from = |dir: &std::path::Path, s| {
        load(
            dir,
            s,
            LoadOptions {
                allow_insecure: true,
            },
        )
        .unwrap()
    };
    for s in statements {
        let k = load_from(dir.path(), s);
        eprintln!(
            "{s}: {} constraints, {} public inputs, domain {} ({} over a power of two)",
            k.shape.num_constraints,
            k.shape.num_instance - 1,
            k.proving_key.h_query.len() + 1,
            k.shape.domain_size()
        );
        verifier
            .insert(
                s,
                PreparedVerifyingKey::new(k.verifying_key.clone()).expect("a safe key"),
            )
            .unwrap();
        keys.push(k);
    }
    let named = medproof_service::genesis_keys(&keys).unwrap();
    let prover = Prover::new(keys, 0).unwrap();
    prover.build_tables();
    eprintln!(
        "fixed-base tables: {:.1} MB",
        prover.table_bytes() as f64 / 1e6
    );
    // ark-groth16's prover on ark-groth16's own keys (a power-of-two domain, from the
    // same seed): the path before, in the same run; and medproof's prove step on them.
    let ark_prover =
        Prover::without_tables(statements.map(|s| load_from(old.path(), s)), 0).unwrap();
    let power_of_two = Prover::new(statements.map(|s| load_from(old.path(), s)), 0).unwrap();
    power_of_two.build_tables();

    // A ledger with a provider, a patient's lab records, a consent, a policy, a claim.
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
    let access: Vec<(ProofRequest, _)> = records
        .iter()
        .map(|r| {
            let (req, cp) = p.access_request(&consent, r, T0, &mut rng).unwrap();
            (ProofRequest::Access(req), cp)
        })
        .collect();
    let (claim_req, _) = p
        .claim_request(&claim, &policy, medproof_verifier::Fr::from(1u64))
        .unwrap();
    let claim_req = ProofRequest::Claim(claim_req);

    let mut g = c.benchmark_group("stories");
    g.sample_size(10);
    g.bench_function("access_prove", |b| {
        b.iter(|| prover.prove(&access[0].0).unwrap())
    });
    g.bench_function("claim_prove", |b| {
        b.iter(|| prover.prove(&claim_req).unwrap())
    });
    g.bench_function("claim_prove_power_of_two", |b| {
        b.iter(|| power_of_two.prove(&claim_req).unwrap())
    });
    // The claim's steps before its MSMs (domain 9,216): synthesis, then the witness map
    // (rows, check, FFTs).
    let claim_keys = prover.keys(Statement::ClaimCompliance).unwrap();
    g.bench_function("claim_synthesize", |b| {
        b.iter(|| claim_keys.shape.synthesize(claim_req.circuit()).unwrap())
    });
    let z = claim_keys.shape.synthesize(claim_req.circuit()).unwrap().0;
    g.bench_function("claim_witness_map", |b| {
        b.iter(|| {
            medproof_prover::groth16::witness_map(&claim_keys.shape, claim_keys.reduction, &z)
                .unwrap()
        })
    });
    let old_claim_keys = power_of_two.keys(Statement::ClaimCompliance).unwrap();
    g.bench_function("claim_witness_map_power_of_two", |b| {
        b.iter(|| {
            medproof_prover::groth16::witness_map(
                &old_claim_keys.shape,
                old_claim_keys.reduction,
                &z,
            )
            .unwrap()
        })
    });
    g.bench_function("access_prove_ark_groth16", |b| {
        b.iter(|| ark_prover.prove(&access[0].0).unwrap())
    });
    g.bench_function("claim_prove_ark_groth16", |b| {
        b.iter(|| ark_prover.prove(&claim_req).unwrap())
    });
    g.finish();

    // AUDITED logged accesses, each a real proof answering its own request.
    let requests: Vec<(ProofRequest, _)> = (0..AUDITED)
        .map(|i| {
            let (req, cp) = p
                .access_request(&consent, &records[i % records.len()], T0, &mut rng)
                .unwrap();
            (ProofRequest::Access(req), cp)
        })
        .collect();
    let only: Vec<ProofRequest> = requests.iter().map(|(r, _)| r.clone()).collect();
    let bundles: Vec<ProofBundle> = prover
        .prove_many(&only)
        .into_iter()
        .zip(&requests)
        .map(|(b, (_, cp))| b.unwrap().with_checkpoint(cp))
        .collect();
    let from = p.ledger.len();
    p.log_accesses(&bundles).unwrap();
    let opts = AuditOptions {
        from,
        to: p.ledger.len(),
        rules: Freshness::default(),
        batch: DEFAULT_BATCH,
    };
    let key = p.ledger.public_key();
    let report = audit(&p.ledger, &verifier, &key, &opts, &|_, _| {}).unwrap();
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.accesses, AUDITED as u64);

    let mut g = c.benchmark_group("audit");
    g.sample_size(10);
    g.throughput(Throughput::Elements(AUDITED as u64));
    g.bench_function("access_entries_1024", |b| {
        b.iter(|| audit(&p.ledger, &verifier, &key, &opts, &|_, _| {}).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

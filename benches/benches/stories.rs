//! The users' statements: proving access authorization and claim compliance (4-ary
//! ledger trees), and auditing a log of 1,024 access entries (chain walk, every check of
//! each entry, binding recomputation, batch verification). Each logged access answers
//! its own request, so each is a real proof (the ledger refuses a binding logged twice).

#![allow(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use medproof_benches::{stories, Stories, T0};
use medproof_ledger::audit::{audit, AuditOptions, DEFAULT_BATCH};
use medproof_prover::ProofRequest;
use medproof_verifier::freshness::Freshness;
use medproof_verifier::{ProofBundle, Statement};

const AUDITED: usize = 1_024;

fn bench(c: &mut Criterion) {
    let Stories {
        prover,
        ark_prover,
        power_of_two,
        verifier,
        parties: mut p,
        records,
        consent,
        access,
        claim: claim_req,
        mut rng,
    } = stories();

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

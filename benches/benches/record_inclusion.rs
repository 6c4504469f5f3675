//! Record inclusion in the ledger's 4-ary tree: proving (one proof; and a parallel
//! batch, one proof per core against each proof on every core), with medproof's prove
//! step (fixed-base tables, keys over the mixed-radix domain) and, in the same run, on
//! keys over the power-of-two domain (`prove_power_of_two`), and ark-groth16's prover on
//! those (`*_ark_groth16`, the path before);
//! verification with a prepared key, and batch verification at 1, 16, 64 and 256 proofs
//! compared with verifying the same proofs one by one.

#![allow(missing_docs)]
#![allow(clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use medproof_benches::{fixture, proofs};
use medproof_prover::Shape;

fn bench(c: &mut Criterion) {
    let f = fixture(8, 0);
    let keys = f.prover.keys(f.requests[0].statement()).unwrap();

    let mut g = c.benchmark_group("record_inclusion");
    g.sample_size(10);
    g.bench_function("prove", |b| {
        b.iter(|| f.prover.prove(&f.requests[0]).unwrap())
    });
    // The steps of `prove` before the MSMs: synthesis, then the witness map (rows,
    // check, FFTs).
    g.bench_function("synthesize", |b| {
        b.iter(|| keys.shape.synthesize(f.requests[0].circuit()).unwrap())
    });
    let z = keys.shape.synthesize(f.requests[0].circuit()).unwrap().0;
    g.bench_function("witness_map", |b| {
        b.iter(|| medproof_prover::groth16::witness_map(&keys.shape, keys.reduction, &z).unwrap())
    });
    g.bench_function("prove_power_of_two", |b| {
        b.iter(|| f.power_of_two.prove(&f.requests[0]).unwrap())
    });
    g.bench_function("prove_ark_groth16", |b| {
        b.iter(|| f.ark_prover.prove(&f.requests[0]).unwrap())
    });
    g.throughput(Throughput::Elements(8));
    // 8 proofs, each on the whole pool (`prove_many`, what the service does), against
    // one proof per core, each on a lane of its own.
    g.bench_function("prove_many_8", |b| {
        b.iter(|| f.prover.prove_many_shaped(&f.requests, Shape::Shared))
    });
    g.bench_function("prove_many_8_lanes", |b| {
        b.iter(|| f.prover.prove_many_shaped(&f.requests, Shape::Lanes))
    });
    g.bench_function("prove_many_8_ark_groth16", |b| {
        b.iter(|| f.ark_prover.prove_many(&f.requests))
    });
    g.finish();

    let all = proofs(&f, 256);
    let mut g = c.benchmark_group("verify");
    let (inputs, proof) = &all[0];
    g.bench_function("single_prepared", |b| {
        b.iter(|| assert!(f.pvk.verify(inputs, proof).unwrap()))
    });
    for n in [1usize, 16, 64, 256] {
        let items: Vec<(&[ark_bn254::Fr], _)> =
            all[..n].iter().map(|(i, p)| (i.as_slice(), p)).collect();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("batch", n), &items, |b, items| {
            b.iter(|| assert!(f.pvk.verify_batch(items).unwrap()))
        });
        if n == 64 {
            g.bench_with_input(BenchmarkId::new("one_by_one", n), &items, |b, items| {
                b.iter(|| {
                    for (i, p) in items {
                        assert!(f.pvk.verify(i, p).unwrap());
                    }
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

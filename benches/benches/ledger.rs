//! The ledger on RocksDB: record commitments appended per second with tree updates,
//! synced single appends vs batches (each append also writes a signed checkpoint), path
//! lookups, and `verify` over 10,000 entries. Submissions are signed before timing.

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use medproof_benches::{provider_ledger, record_commits};
use medproof_ledger::verify::verify;
use medproof_verifier::Fr;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (mut ledger, provider) = provider_ledger(dir.path());
    let env = ledger.envelope(86_400).unwrap();
    let mut next = 0u64;

    let mut g = c.benchmark_group("ledger_append");
    g.sample_size(20);
    g.throughput(Throughput::Elements(1));
    g.bench_function("single_synced", |b| {
        b.iter_batched(
            || {
                next += 1;
                record_commits(env, &provider, next * 1_000_000, 1)
            },
            |batch| ledger.append(&batch).unwrap(),
            BatchSize::SmallInput,
        )
    });
    for size in [100u64, 1_000] {
        g.throughput(Throughput::Elements(size));
        g.bench_function(format!("batch_{size}"), |b| {
            b.iter_batched(
                || {
                    next += 1;
                    record_commits(env, &provider, next * 1_000_000, size)
                },
                |batch| ledger.append(&batch).unwrap(),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();

    // Lookups in a ledger of a few thousand records.
    let n = ledger.records().len();
    let probe = Fr::from(1_000_001u64);
    let mut g = c.benchmark_group("ledger_lookup");
    g.bench_function("path_by_index", |b| {
        b.iter(|| ledger.records().path(n / 2).unwrap())
    });
    g.bench_function("locate_commitment", |b| {
        b.iter(|| ledger.locate(&probe).unwrap().unwrap())
    });
    g.finish();

    // verify over a ledger of 10,000 entries (batches of 1,000 records + checkpoints).
    let vdir = tempfile::tempdir().unwrap();
    let (mut vl, vprov) = provider_ledger(vdir.path());
    while vl.len() < 10_000 {
        let batch = record_commits(vl.envelope(86_400).unwrap(), &vprov, vl.len() * 10, 999);
        vl.append(&batch).unwrap();
    }
    let key = vl.public_key();
    let entries = vl.len();
    let store = vl.into_store();
    let mut g = c.benchmark_group("ledger_verify");
    g.sample_size(10);
    g.throughput(Throughput::Elements(entries));
    g.bench_function("verify_10k_entries", |b| {
        b.iter(|| verify(&store, &key).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

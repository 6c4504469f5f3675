//! The transparency log (RFC 6962 tree, C2SP checkpoints) on RocksDB:
//!
//! - `tlog_append`: an append of 1,000 records (1,001 entries with its checkpoint) and, in
//!   the same run, the log's share of it: the entries' leaf hashes, the tree hashes to
//!   store (read from the same RocksDB) and the signed C2SP checkpoint.
//! - `tlog_1m`: inclusion and consistency proofs in a log of 10^6 entries, made from
//!   RocksDB and checked; their sizes are printed at setup. Building the ledger of 10^6
//!   entries takes a few minutes.

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ed25519_dalek::SigningKey;
use medproof_benches::{provider_ledger, record_commits, LEDGER_KEY};
use medproof_ledger::tlog::{self, Hash};
use medproof_ledger::{Ledger, RocksStore};

/// Appends batches of `batch` records until the ledger holds at least `size` entries.
fn grow(ledger: &mut Ledger<RocksStore>, provider: &SigningKey, size: u64, batch: u64) {
    while ledger.len() < size {
        let env = ledger.envelope(86_400).unwrap();
        let subs = record_commits(env, provider, ledger.len() * 100, batch);
        ledger.append(&subs).unwrap();
    }
}

/// The log's share of an append of `entries`: what `Ledger::append` adds for the RFC
/// 6962 tree and the C2SP checkpoint (the write batch's extra puts aside).
fn log_work(ledger: &Ledger<RocksStore>, key: &SigningKey, entries: &[Vec<u8>]) -> Vec<u8> {
    let size = ledger.len();
    let leaves: Vec<Hash> = entries.iter().map(|e| tlog::leaf_hash(e)).collect();
    let (hashes, root) = tlog::extend(ledger.store(), size, &leaves).unwrap();
    assert!(hashes.len() >= leaves.len());
    tlog::sign_checkpoint(ledger.origin(), size + leaves.len() as u64, root, key).unwrap()
}

fn append_share(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (mut ledger, provider) = provider_ledger(dir.path());
    grow(&mut ledger, &provider, 10_000, 999);
    let key = SigningKey::from_bytes(&LEDGER_KEY);
    // The encodings of a real append of 1,000 records and its checkpoint.
    let before = ledger.len();
    let env = ledger.envelope(86_400).unwrap();
    ledger
        .append(&record_commits(env, &provider, 1 << 40, 1_000))
        .unwrap();
    let entries: Vec<Vec<u8>> = (before..ledger.len())
        .map(|seq| ledger.entry(seq).unwrap().unwrap().encode())
        .collect();
    assert_eq!(entries.len(), 1_001);
    let bytes: usize = entries.iter().map(Vec::len).sum();
    let size = ledger.len();
    let (hashes, _) = tlog::extend(
        ledger.store(),
        size,
        &entries
            .iter()
            .map(|e| tlog::leaf_hash(e))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    println!(
        "tlog_append: 1,001 entries of {bytes} bytes; the log adds {} stored hashes ({} bytes with their 8-byte keys) and a {}-byte signed checkpoint",
        hashes.len(),
        hashes.len() * 40,
        log_work(&ledger, &key, &entries).len()
    );

    let mut g = c.benchmark_group("tlog_append");
    g.sample_size(20);
    g.throughput(Throughput::Elements(1_000));
    let mut next = 1u64 << 41;
    let env = ledger.envelope(86_400).unwrap();
    g.bench_function("append_batch_1000", |b| {
        b.iter_batched(
            || {
                next += 1_000;
                record_commits(env, &provider, next, 1_000)
            },
            |batch| ledger.append(&batch).unwrap(),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("log_share_batch_1000", |b| {
        b.iter(|| log_work(&ledger, &key, &entries))
    });
    g.finish();
}

fn million(c: &mut Criterion) {
    const SIZE: u64 = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let (mut ledger, provider) = provider_ledger(dir.path());
    let t = std::time::Instant::now();
    grow(&mut ledger, &provider, SIZE, 9_999);
    println!(
        "tlog_1m: a ledger of {} entries built in {:.0} s",
        ledger.len(),
        t.elapsed().as_secs_f64()
    );
    let root = |n: u64| ledger.tlog_root(n).unwrap();
    for old in [1, SIZE / 2, SIZE / 2 + 1, SIZE - 1, 999_983] {
        let proof = ledger.consistency_proof(old, SIZE).unwrap();
        tlog::check_consistency(&proof, old, root(old), SIZE, root(SIZE)).unwrap();
        println!(
            "tlog_1m: consistency {old} -> {SIZE}: {} hashes, {} bytes",
            proof.len(),
            32 * proof.len()
        );
    }
    let index = SIZE / 2 + 1;
    let leaf = ledger.log_leaf_hash(index).unwrap();
    let inclusion = ledger.inclusion_proof(index, SIZE).unwrap();
    println!(
        "tlog_1m: inclusion of {index} in {SIZE}: {} hashes, {} bytes",
        inclusion.len(),
        32 * inclusion.len()
    );
    let (old, new) = (SIZE / 2 + 1, SIZE);
    let consistency = ledger.consistency_proof(old, new).unwrap();
    let (old_root, new_root) = (root(old), root(new));

    let mut g = c.benchmark_group("tlog_1m");
    g.bench_function("prove_consistency_500001_to_1m", |b| {
        b.iter(|| ledger.consistency_proof(old, new).unwrap())
    });
    g.bench_function("check_consistency_500001_to_1m", |b| {
        b.iter(|| tlog::check_consistency(&consistency, old, old_root, new, new_root).unwrap())
    });
    g.bench_function("prove_inclusion_500001_in_1m", |b| {
        b.iter(|| ledger.inclusion_proof(index, SIZE).unwrap())
    });
    g.bench_function("check_inclusion_500001_in_1m", |b| {
        b.iter(|| tlog::check_inclusion(&inclusion, SIZE, new_root, index, leaf).unwrap())
    });
    g.bench_function("tree_root_1m", |b| b.iter(|| root(SIZE)));
    g.finish();
}

criterion_group!(benches, append_share, million);
criterion_main!(benches);

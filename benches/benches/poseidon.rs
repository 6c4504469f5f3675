//! Native Poseidon (circomlib parameters): the 2-to-1 hash, the 4-to-1 node hash of the
//! ledger's trees and the 7-input record commitment; a path read from the ledger's tree.
//! Constants are built before timing. The tree shapes compare in `trees`.

#![allow(missing_docs)]

use ark_bn254::Fr;
use ark_ff::UniformRand;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use medproof_circuits::merkle::MerkleTree;
use medproof_circuits::poseidon::{hash, hash2};
use rand::SeedableRng;

fn bench(c: &mut Criterion) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let a = Fr::rand(&mut rng);
    let b = Fr::rand(&mut rng);
    let four: Vec<Fr> = (0..4).map(|_| Fr::rand(&mut rng)).collect();
    let seven: Vec<Fr> = (0..7).map(|_| Fr::rand(&mut rng)).collect();
    let _ = (hash2(a, b), hash(&four), hash(&seven)); // build the constants outside the timed loop

    let mut g = c.benchmark_group("poseidon");
    g.bench_function("hash2", |bench| {
        bench.iter(|| hash2(black_box(a), black_box(b)))
    });
    g.bench_function("hash4_node", |bench| bench.iter(|| hash(black_box(&four))));
    g.bench_function("hash7_record", |bench| {
        bench.iter(|| hash(black_box(&seven)))
    });
    g.finish();

    let mut tree = MerkleTree::new();
    tree.extend(&(0..1024u64).map(Fr::from).collect::<Vec<_>>())
        .expect("fits");
    c.bench_function("merkle/path_ledger", |bench| {
        bench.iter(|| tree.path(black_box(517)).expect("leaf"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

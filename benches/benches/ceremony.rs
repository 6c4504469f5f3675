//! The setup ceremony per statement: a phase-2 contribution, the verification of a key
//! against its initial key, and the size of a `.zkey`; and record-inclusion proving with
//! ceremony keys (circom's reduction over a power-of-two domain) against single-party
//! keys (libsnark's, over the smallest domain and over the same power of two), in the
//! same run. The phase-1 file is made from known secrets at power 14 (the statements'
//! domain); starting phase 2 (`new_zkey`, the part of `ceremony verify --ptau` that
//! recomputes the initial key) is timed once per statement and printed, too slow for
//! criterion's ten samples.

#![allow(missing_docs)]
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use ark_bn254::Fr;
use criterion::{criterion_group, criterion_main, Criterion};
use medproof_benches::fixture;
use medproof_circuits::statement_shape;
use medproof_params::phase2::{contribute, verify};
use medproof_params::ptau::prepared_from_secrets;
use medproof_params::zkey::{new_zkey, write_zkey};
use medproof_params::{import_ceremony_keys, load, LoadOptions};
use medproof_prover::Prover;
use medproof_verifier::Statement;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    let ptau = dir.path().join("p14.ptau");
    std::fs::write(
        &ptau,
        prepared_from_secrets(14, Fr::from(7u64), Fr::from(11u64), Fr::from(13u64)),
    )
    .unwrap();

    let mut g = c.benchmark_group("ceremony");
    g.sample_size(10);
    let mut record_inclusion = None;
    for s in Statement::ALL {
        let shape = statement_shape(s).unwrap();
        let t = Instant::now();
        let z0 = new_zkey(&ptau, &shape, &mut rng).unwrap();
        let new_time = t.elapsed();
        let (z1, _) = contribute(&z0, Some("bench"), &mut rng).unwrap();
        eprintln!(
            "{}: new_zkey {:.1} s; .zkey {} bytes",
            s.name(),
            new_time.as_secs_f64(),
            write_zkey(&z1).len()
        );
        g.bench_function(format!("contribute/{}", s.name()), |b| {
            b.iter(|| contribute(&z0, None, &mut rng).unwrap())
        });
        g.bench_function(format!("verify/{}", s.name()), |b| {
            b.iter(|| verify(&z1, &z0, &mut rng).unwrap())
        });
        if s == Statement::RecordInclusion {
            record_inclusion = Some((z1, z0));
        }
    }
    g.finish();

    // The same request proved with single-party keys and with ceremony keys.
    let f = fixture(1, 0);
    let keys_dir = dir.path().join("keys");
    let (z1, z0) = record_inclusion.unwrap();
    import_ceremony_keys(&keys_dir, Statement::RecordInclusion, &z1, &z0, &mut rng).unwrap();
    let keys = load(
        &keys_dir,
        Statement::RecordInclusion,
        LoadOptions::default(),
    )
    .unwrap();
    let ceremony = Prover::new([keys], 0).unwrap();
    // Each prover with its tables, so that no sample falls back to ark-groth16's.
    ceremony.build_tables();
    let mut g = c.benchmark_group("prove_record_inclusion");
    g.sample_size(10);
    g.bench_function("single_party_keys", |b| {
        b.iter(|| f.prover.prove(&f.requests[0]).unwrap())
    });
    // Ceremony keys keep circom's power-of-two domain (snarkjs's `.zkey`): their cost
    // apart from the domain's is against single-party keys over the same domain.
    g.bench_function("single_party_keys_power_of_two", |b| {
        b.iter(|| f.power_of_two.prove(&f.requests[0]).unwrap())
    });
    g.bench_function("ceremony_keys", |b| {
        b.iter(|| ceremony.prove(&f.requests[0]).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The proving key's multi-scalar multiplications, in one run: `ark-ec`'s variable-base
//! MSM (what ark-groth16's prover calls) against medproof's fixed-base tables
//! (`medproof_prover::msm`), for the sizes of the statements' queries, in G1 and G2,
//! with random scalars (the H query's) and witness-like ones (bits, small values and
//! some full-size elements, as the A, B and L queries see); and the fixed-base table's
//! window widths side by side, which chose `default_window`.

#![allow(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ark_bn254::{Fr, G1Projective, G2Projective};
use ark_ec::{CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::UniformRand;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use medproof_prover::msm::FixedBaseMsm;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn bases<G: CurveGroup<ScalarField = Fr> + PrimeGroup>(
    n: usize,
    rng: &mut ChaCha20Rng,
) -> Vec<G::Affine> {
    let g = G::generator();
    let v: Vec<G> = (0..n).map(|_| g * Fr::rand(rng)).collect();
    G::normalize_batch(&v)
}

fn witness_like(n: usize, rng: &mut ChaCha20Rng) -> Vec<Fr> {
    (0..n)
        .map(|i| match i % 4 {
            0 | 1 => Fr::from((i % 2) as u64),
            2 => Fr::from(i as u64),
            _ => Fr::rand(rng),
        })
        .collect()
}

fn msm(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut g = c.benchmark_group("msm");
    g.sample_size(20);
    for n in [8_192usize, 16_384] {
        let g1 = bases::<G1Projective>(n, &mut rng);
        let table = FixedBaseMsm::new(&g1);
        eprintln!(
            "G1 table of {n}: window {}, {} bytes",
            table.window(),
            table.memory_bytes()
        );
        for (kind, scalars) in [
            (
                "random",
                (0..n).map(|_| Fr::rand(&mut rng)).collect::<Vec<_>>(),
            ),
            ("witness", witness_like(n, &mut rng)),
        ] {
            g.bench_function(format!("g1_{kind}_{n}/ark_ec"), |b| {
                b.iter(|| G1Projective::msm(black_box(&g1), black_box(&scalars)).unwrap())
            });
            g.bench_function(format!("g1_{kind}_{n}/fixed_base"), |b| {
                b.iter(|| table.msm(black_box(&scalars)).unwrap())
            });
        }
    }
    let n = 8_192;
    let g2 = bases::<G2Projective>(n, &mut rng);
    let table = FixedBaseMsm::new(&g2);
    eprintln!(
        "G2 table of {n}: window {}, {} bytes",
        table.window(),
        table.memory_bytes()
    );
    let scalars = witness_like(n, &mut rng);
    g.bench_function(format!("g2_witness_{n}/ark_ec"), |b| {
        b.iter(|| G2Projective::msm(black_box(&g2), black_box(&scalars)).unwrap())
    });
    g.bench_function(format!("g2_witness_{n}/fixed_base"), |b| {
        b.iter(|| table.msm(black_box(&scalars)).unwrap())
    });
    g.finish();
}

fn windows(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut g = c.benchmark_group("fixed_base_window");
    g.sample_size(10);
    for n in [1_024usize, 8_192, 16_384] {
        let g1 = bases::<G1Projective>(n, &mut rng);
        let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        for window in 9..=16 {
            let table = FixedBaseMsm::with_window(&g1, window);
            g.bench_function(format!("{n}/{window}"), |b| {
                b.iter(|| table.msm(black_box(&scalars)).unwrap())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, msm, windows);
criterion_main!(benches);

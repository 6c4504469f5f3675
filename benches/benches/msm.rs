//! The proving key's multi-scalar multiplications, in one run: `ark-ec`'s variable-base
//! MSM (what ark-groth16's prover calls) against medproof's fixed-base tables
//! (`medproof_prover::msm`), for the sizes of the statements' queries, in G1 and G2,
//! with random scalars (the H query's) and witness-like ones (bits, small values and
//! some full-size elements, as the A, B and L queries see); and the fixed-base table's
//! window widths side by side, which chose `default_window`.

#![allow(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ark_bn254::{Fr, G1Projective, G2Projective};
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::UniformRand;
use criterion::measurement::WallTime;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkGroup, Criterion};
use medproof_prover::msm::{FixedBaseMsm, MsmField};
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

/// `ark-ec`'s MSM and the fixed-base table of the same bases, on the same scalars,
/// as `{name}/ark_ec` and `{name}/fixed_base`.
fn versus<P: SWCurveConfig<ScalarField = Fr, BaseField: MsmField>>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    bases: &[Affine<P>],
    scalars: &[Fr],
) {
    let table = FixedBaseMsm::new(bases);
    eprintln!(
        "{name}: window {}, table {} bytes",
        table.window(),
        table.memory_bytes()
    );
    g.bench_function(format!("{name}/ark_ec"), |b| {
        b.iter(|| Projective::<P>::msm(black_box(bases), black_box(scalars)).unwrap())
    });
    g.bench_function(format!("{name}/fixed_base"), |b| {
        b.iter(|| table.msm(black_box(scalars)).unwrap())
    });
}

fn msm(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut g = c.benchmark_group("msm");
    g.sample_size(20);
    for n in [8_192usize, 16_384] {
        let g1 = bases::<G1Projective>(n, &mut rng);
        let random: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        versus(&mut g, &format!("g1_random_{n}"), &g1, &random);
        let witness = witness_like(n, &mut rng);
        versus(&mut g, &format!("g1_witness_{n}"), &g1, &witness);
    }
    let n = 8_192;
    let g2 = bases::<G2Projective>(n, &mut rng);
    let witness = witness_like(n, &mut rng);
    versus(&mut g, &format!("g2_witness_{n}"), &g2, &witness);
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

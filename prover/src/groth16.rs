//! medproof's Groth16 prove step, around ark-groth16's keys and its reductions' maths.
//!
//! What it changes against `Groth16::create_proof_with_reduction_and_matrices`, for the
//! same proof (the same `r` and `s` give the same bytes, tested):
//! - the constraints are evaluated once, in parallel, and checked there (`A·B = C` on
//!   every row) before anything else: the witness check no longer walks the matrices
//!   a second time on one thread;
//! - the A, B and C evaluations go through their FFTs side by side, rather than one
//!   after the other each on every thread;
//! - the five multi-scalar multiplications use the fixed-base tables of
//!   [`ProvingTables`], built once when the keys are loaded, on the caller's rayon pool,
//!   one after the other, each split across the whole pool.

use ark_bn254::{g1, g2, Bn254, Fr, G1Projective, G2Projective};
use ark_ec::CurveGroup;
use ark_ff::{FftField, Field};
use ark_groth16::ProvingKey;
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use medproof_circuits::shape::{AssignError, CircuitShape};
use medproof_params::reduction::{evaluate_rows, odd_coset_product};
use medproof_params::Reduction;
use medproof_verifier::groth16::Proof;
use rayon::prelude::*;

use crate::fft;
use crate::msm::{FixedBaseMsm, MsmError};
use crate::ProveError;

type Domain = GeneralEvaluationDomain<Fr>;

/// A proving key's five queries as fixed-base tables.
pub struct ProvingTables {
    a: FixedBaseMsm<g1::Config>,
    b_g1: FixedBaseMsm<g1::Config>,
    b_g2: FixedBaseMsm<g2::Config>,
    h: FixedBaseMsm<g1::Config>,
    l: FixedBaseMsm<g1::Config>,
}

impl std::fmt::Debug for ProvingTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvingTables")
            .field("bytes", &self.memory_bytes())
            .finish()
    }
}

impl ProvingTables {
    /// The tables of `pk`'s queries, built on the current rayon pool.
    pub fn new(pk: &ProvingKey<Bn254>) -> Self {
        let ((a, b_g1), ((b_g2, h), l)) = rayon::join(
            || {
                rayon::join(
                    || FixedBaseMsm::new(&pk.a_query),
                    || FixedBaseMsm::new(&pk.b_g1_query),
                )
            },
            || {
                rayon::join(
                    || {
                        rayon::join(
                            || FixedBaseMsm::new(&pk.b_g2_query),
                            || FixedBaseMsm::new(&pk.h_query),
                        )
                    },
                    || FixedBaseMsm::new(&pk.l_query),
                )
            },
        );
        Self {
            a,
            b_g1,
            b_g2,
            h,
            l,
        }
    }

    /// The bytes the tables hold.
    pub fn memory_bytes(&self) -> usize {
        self.a.memory_bytes()
            + self.b_g1.memory_bytes()
            + self.b_g2.memory_bytes()
            + self.h.memory_bytes()
            + self.l.memory_bytes()
    }
}

/// A Groth16 proof of the assignment `z` (`[1, public inputs.., witness..]`) with the
/// blinding scalars `r` and `s`, or the first constraint `z` does not satisfy.
///
/// Every constraint is checked before anything is proved; then come the witness map's
/// FFTs and the five MSMs.
pub fn prove(
    pk: &ProvingKey<Bn254>,
    tables: &ProvingTables,
    shape: &CircuitShape,
    reduction: Reduction,
    z: &[Fr],
    r: Fr,
    s: Fr,
) -> Result<Proof, ProveError> {
    let (domain, [ea, eb, ec]) = checked_rows(shape, reduction, z)?;
    let aux = z.get(shape.num_instance..).unwrap_or_default();
    let msm = |e: MsmError| ProveError::Groth16(e.to_string());
    let h = quotient(reduction, domain, ea, eb, ec)?;
    let h = h.get(..tables.h.len()).ok_or(ProveError::Groth16(format!(
        "the H query has {} points for {} coefficients",
        tables.h.len(),
        h.len()
    )))?;
    // One MSM after the other, each split across the whole pool. Side by side (under
    // `rayon::join`), a thread that finished early found the last MSM's parts already
    // taken by the other thread and waited (benches/REPORT.md).
    let h_acc = tables.h.msm(h).map_err(msm)?;
    let a = tables.a.msm(z).map_err(msm)?;
    let b_g1 = tables.b_g1.msm(z).map_err(msm)?;
    let b_g2 = tables.b_g2.msm(z).map_err(msm)?;
    let l_acc = tables.l.msm(aux).map_err(msm)?;
    let delta_g1: G1Projective = pk.delta_g1.into();
    let g_a = a + pk.vk.alpha_g1 + delta_g1 * r;
    let g1_b = b_g1 + pk.beta_g1 + delta_g1 * s;
    let g2_b: G2Projective = b_g2 + pk.vk.beta_g2 + pk.vk.delta_g2 * s;
    let g_c = g_a * s + g1_b * r - delta_g1 * (r * s) + l_acc + h_acc;
    Ok(Proof {
        a: g_a.into_affine(),
        b: g2_b.into_affine(),
        c: g_c.into_affine(),
    })
}

/// The H polynomial's scalars for the keys' reduction: the quotient's coefficients
/// (libsnark's) or the values of `A·B − C` on the doubled domain's odd coset
/// (circom's). Checks every constraint on the way.
pub fn witness_map(
    shape: &CircuitShape,
    reduction: Reduction,
    z: &[Fr],
) -> Result<Vec<Fr>, ProveError> {
    let (domain, [a, b, c]) = checked_rows(shape, reduction, z)?;
    quotient(reduction, domain, a, b, c)
}

/// The evaluations of the A, B and C rows on `z`, padded to the reduction's FFT
/// domain, once every constraint is checked (`A·B = C` on each row).
fn checked_rows(
    shape: &CircuitShape,
    reduction: Reduction,
    z: &[Fr],
) -> Result<(Domain, [Vec<Fr>; 3]), ProveError> {
    let n = shape.num_constraints;
    let inputs = shape.num_instance;
    if z.len() != shape.num_instance + shape.num_witness {
        return Err(AssignError::ShapeMismatch.into());
    }
    let domain = reduction.domain(n + inputs).ok_or(ProveError::Groth16(
        "the circuit is too large for the field's FFT domains".into(),
    ))?;
    let [a, b, c] = evaluate_rows(&shape.matrices, inputs, n, z, domain.size());
    if let Some(bad) = (0..n)
        .into_par_iter()
        .with_min_len(1_024)
        .find_first(|&i| a[i] * b[i] != c[i])
    {
        return Err(AssignError::Unsatisfied(bad).into());
    }
    Ok((domain, [a, b, c]))
}

/// The H query's scalars from the checked rows.
fn quotient(
    reduction: Reduction,
    domain: Domain,
    a: Vec<Fr>,
    b: Vec<Fr>,
    c: Vec<Fr>,
) -> Result<Vec<Fr>, ProveError> {
    match reduction {
        Reduction::Libsnark | Reduction::LibsnarkMixedRadix => libsnark_quotient(domain, a, b, c),
        Reduction::Circom => {
            odd_coset_product(&domain, a, b, c).map_err(|e| ProveError::Groth16(e.to_string()))
        }
    }
}

/// libsnark's: the coefficients of `(A·B − C) / Z` (evaluated on a coset where the
/// vanishing polynomial `Z` is a non-zero constant), as ark-groth16's reduction, over a
/// domain of either kind.
fn libsnark_quotient(
    domain: Domain,
    mut a: Vec<Fr>,
    mut b: Vec<Fr>,
    mut c: Vec<Fr>,
) -> Result<Vec<Fr>, ProveError> {
    let coset = domain
        .get_coset(Fr::GENERATOR)
        .ok_or(ProveError::Groth16("no coset by the generator".into()))?;
    let z_inv = domain
        .evaluate_vanishing_polynomial(Fr::GENERATOR)
        .inverse()
        .ok_or(ProveError::Groth16("the generator is in the domain".into()))?;
    let g = Fr::GENERATOR;
    // Mixed-radix domains go through medproof's FFT (ark-poly's is slower there than
    // its radix-2 FFT over twice the points); the output is the same.
    let to_coset = |v: &mut Vec<Fr>| match &domain {
        GeneralEvaluationDomain::MixedRadix(d) => fft::domain_to_coset(d, v, g),
        GeneralEvaluationDomain::Radix2(_) => {
            domain.ifft_in_place(v);
            coset.fft_in_place(v);
        }
    };
    rayon::join(
        || to_coset(&mut a),
        || rayon::join(|| to_coset(&mut b), || to_coset(&mut c)),
    );
    a.par_iter_mut()
        .zip(&b)
        .zip(&c)
        .with_min_len(1_024)
        .for_each(|((a, b), c)| *a = (*a * b - c) * z_inv);
    match &domain {
        GeneralEvaluationDomain::MixedRadix(d) => fft::coset_ifft(d, &mut a, g),
        GeneralEvaluationDomain::Radix2(_) => coset.ifft_in_place(&mut a),
    }
    Ok(a)
}

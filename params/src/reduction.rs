//! The R1CS-to-QAP reduction of circom and snarkjs, so that keys from a snarkjs phase 2
//! (a `.zkey`) prove with ark-groth16.
//!
//! ark-groth16's default (libsnark's) reduction divides `A·B − C` by the vanishing
//! polynomial on a coset and commits to the quotient's coefficients against the
//! `[τ^i Z(τ)/δ]` points. snarkjs instead stores as `H` the Lagrange points of the domain
//! twice as large at its odd positions, `[L_{2i+1}(τ)/δ]`, and the prover gives the
//! values of `A·B − C` on the odd coset `ω_{2d}·⟨ω_d⟩`: on the even points (the
//! constraint domain) the product vanishes, so those values alone interpolate it. The
//! roots of unity are arkworks' own, which for BN254 are snarkjs's (checked by the
//! interop tests: a proof from imported keys verifies in snarkjs).

use ark_ff::PrimeField;
use ark_groth16::r1cs_to_qap::{evaluate_constraint, LibsnarkReduction, R1CSToQAP};
use ark_poly::EvaluationDomain;
use ark_relations::gr1cs::{ConstraintSystemRef, Matrix, SynthesisError};
use rayon::prelude::*;

/// snarkjs's reduction (see the module's documentation).
pub struct CircomReduction;

/// Multiplies `v[i]` by `g^i`.
fn distribute_powers<F: PrimeField>(v: &mut [F], g: F) {
    let mut pow = F::one();
    for x in v.iter_mut() {
        *x *= pow;
        pow *= g;
    }
}

impl R1CSToQAP for CircomReduction {
    #[allow(clippy::type_complexity)]
    fn instance_map_with_evaluation<F: PrimeField, D: EvaluationDomain<F>>(
        cs: ConstraintSystemRef<F>,
        t: &F,
    ) -> Result<(Vec<F>, Vec<F>, Vec<F>, F, usize, usize), SynthesisError> {
        // The A, B and C polynomials are the same in both reductions; only H differs.
        LibsnarkReduction::instance_map_with_evaluation::<F, D>(cs, t)
    }

    fn witness_map_from_matrices<F: PrimeField, D: EvaluationDomain<F>>(
        matrices: &[Matrix<F>],
        num_inputs: usize,
        num_constraints: usize,
        full_assignment: &[F],
    ) -> Result<Vec<F>, SynthesisError> {
        let domain =
            D::new(num_constraints + num_inputs).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        let [a, b, c] = evaluate_rows(
            matrices,
            num_inputs,
            num_constraints,
            full_assignment,
            domain.size(),
        );
        odd_coset_product(&domain, a, b, c)
    }

    fn h_query_scalars<F: PrimeField, D: EvaluationDomain<F>>(
        max_power: usize,
        t: F,
        _zt: F,
        delta_inverse: F,
    ) -> Result<Vec<F>, SynthesisError> {
        // The odd Lagrange coefficients of the doubled domain at τ, over δ; like
        // snarkjs, from the powers below τ^(2d-1) (the last one is zero: the product
        // has degree at most 2d - 2, so it never needs it).
        let mut scalars = Vec::with_capacity(2 * max_power + 2);
        let mut pow = delta_inverse;
        for _ in 0..2 * max_power + 1 {
            scalars.push(pow);
            pow *= t;
        }
        let domain = D::new(scalars.len()).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        domain.ifft_in_place(&mut scalars);
        Ok(scalars.into_iter().skip(1).step_by(2).collect())
    }
}

/// The values of `A·B − C` on the odd coset `ω_{2d}·⟨ω_d⟩` of `domain`, from the
/// evaluations of A, B and C on `domain` (its FFTs side by side): circom's `H` scalars.
pub fn odd_coset_product<F: PrimeField, D: EvaluationDomain<F>>(
    domain: &D,
    mut a: Vec<F>,
    mut b: Vec<F>,
    mut c: Vec<F>,
) -> Result<Vec<F>, SynthesisError> {
    let shift = D::new(2 * domain.size())
        .ok_or(SynthesisError::PolynomialDegreeTooLarge)?
        .element(1);
    let on_odd_coset = |v: &mut Vec<F>| {
        domain.ifft_in_place(v);
        distribute_powers(v, shift);
        domain.fft_in_place(v);
    };
    let ((), ((), ())) = rayon::join(
        || on_odd_coset(&mut a),
        || rayon::join(|| on_odd_coset(&mut b), || on_odd_coset(&mut c)),
    );
    a.par_iter_mut()
        .zip(&b)
        .zip(&c)
        .for_each(|((a, b), c)| *a = *a * b - c);
    Ok(a)
}

/// The evaluations of A, B and C on the constraint domain of size `d`: row `i` of each
/// matrix against the assignment (in parallel), then the rows that bind the public
/// inputs (A only, as in the keys), the rest zero. Both reductions start from these.
pub fn evaluate_rows<F: PrimeField>(
    matrices: &[Matrix<F>],
    num_inputs: usize,
    num_constraints: usize,
    full_assignment: &[F],
    d: usize,
) -> [Vec<F>; 3] {
    let (ma, mb, mc) = (&matrices[0], &matrices[1], &matrices[2]);
    let mut a = vec![F::zero(); d];
    let mut b = vec![F::zero(); d];
    let mut c = vec![F::zero(); d];
    a[..num_constraints]
        .par_iter_mut()
        .zip(&mut b[..num_constraints])
        .zip(&mut c[..num_constraints])
        .enumerate()
        .with_min_len(256)
        .for_each(|(i, ((a, b), c))| {
            *a = evaluate_constraint(&ma[i], full_assignment);
            *b = evaluate_constraint(&mb[i], full_assignment);
            *c = evaluate_constraint(&mc[i], full_assignment);
        });
    a[num_constraints..num_constraints + num_inputs]
        .copy_from_slice(&full_assignment[..num_inputs]);
    [a, b, c]
}

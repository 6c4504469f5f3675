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
//!
//! [`MixedRadixReduction`] is libsnark's over a smaller domain. A QAP needs a domain of
//! at least as many points as the constraints and public inputs, and any multiplicative
//! subgroup serves; ark-groth16 takes the next power of two. BN254's scalar field also
//! has subgroups of order `2^a·3^b` (b ≤ 2), so a circuit of 9,124 rows fits in 9,216
//! points instead of 16,384 and one of 5,506 in 6,144 instead of 8,192: the witness
//! map's FFTs and the `H` query shrink with it. The verifier never sees the domain (it
//! is in the keys' points only), so proofs and verifying keys keep their form; snarkjs's
//! prover and `.zkey` assume a power of two, so ceremony keys keep circom's reduction.

use ark_ff::{FftField, PrimeField};
use ark_groth16::r1cs_to_qap::{evaluate_constraint, LibsnarkReduction, R1CSToQAP};
use ark_poly::{
    EvaluationDomain, GeneralEvaluationDomain, MixedRadixEvaluationDomain, Radix2EvaluationDomain,
};
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

/// The smallest FFT domain of at least `n` points: of size `2^a·3^b` (b ≤ 2) where the
/// field has such subgroups (BN254's scalar field does), and the power-of-two domain,
/// ark-groth16's, whenever it is no larger (so every circuit that fits a power of two
/// as well as any other keeps ark-groth16's domain, generator included).
pub fn smallest_domain<F: FftField>(n: usize) -> Option<GeneralEvaluationDomain<F>> {
    let radix2 = Radix2EvaluationDomain::<F>::new(n);
    // `MixedRadixEvaluationDomain::new` panics on a field without a small subgroup.
    let mixed = F::SMALL_SUBGROUP_BASE.and_then(|_| MixedRadixEvaluationDomain::<F>::new(n));
    match (radix2, mixed) {
        (Some(r), Some(m)) if m.size() < r.size() => Some(GeneralEvaluationDomain::MixedRadix(m)),
        (Some(r), _) => Some(GeneralEvaluationDomain::Radix2(r)),
        (None, m) => m.map(GeneralEvaluationDomain::MixedRadix),
    }
}

/// libsnark's reduction over [`smallest_domain`] (see the module's documentation): the
/// keys [`crate::setup`] makes. Whatever domain type ark-groth16 passes is ignored; the
/// domain follows from the number of rows alone, so the key generator, ark-groth16's
/// prover and medproof's agree on it.
pub struct MixedRadixReduction;

/// Runs `$f` of libsnark's reduction over the smallest domain of `$n` points.
macro_rules! over_smallest_domain {
    ($n:expr, $f:ident::<$F:ty>($($arg:expr),*)) => {
        match smallest_domain::<$F>($n) {
            Some(GeneralEvaluationDomain::MixedRadix(_)) => {
                LibsnarkReduction::$f::<$F, MixedRadixEvaluationDomain<$F>>($($arg),*)
            }
            Some(GeneralEvaluationDomain::Radix2(_)) => {
                LibsnarkReduction::$f::<$F, Radix2EvaluationDomain<$F>>($($arg),*)
            }
            None => Err(SynthesisError::PolynomialDegreeTooLarge),
        }
    };
}

impl R1CSToQAP for MixedRadixReduction {
    #[allow(clippy::type_complexity)]
    fn instance_map_with_evaluation<F: PrimeField, D: EvaluationDomain<F>>(
        cs: ConstraintSystemRef<F>,
        t: &F,
    ) -> Result<(Vec<F>, Vec<F>, Vec<F>, F, usize, usize), SynthesisError> {
        let n = cs.num_constraints() + cs.num_instance_variables();
        let map = over_smallest_domain!(n, instance_map_with_evaluation::<F>(cs, t))?;
        // ark-groth16 draws τ outside its own (power-of-two) domain; one inside this one
        // would make every key point zero. (The chance is about n/2^254.)
        if map.3.is_zero() {
            return Err(SynthesisError::DivisionByZero);
        }
        Ok(map)
    }

    fn witness_map_from_matrices<F: PrimeField, D: EvaluationDomain<F>>(
        matrices: &[Matrix<F>],
        num_inputs: usize,
        num_constraints: usize,
        full_assignment: &[F],
    ) -> Result<Vec<F>, SynthesisError> {
        over_smallest_domain!(
            num_constraints + num_inputs,
            witness_map_from_matrices::<F>(matrices, num_inputs, num_constraints, full_assignment)
        )
    }

    fn h_query_scalars<F: PrimeField, D: EvaluationDomain<F>>(
        max_power: usize,
        t: F,
        zt: F,
        delta_inverse: F,
    ) -> Result<Vec<F>, SynthesisError> {
        // `τ^i·Z(τ)/δ` for i below the domain's size less one: nothing depends on the
        // domain but `Z(τ)` and the count, both passed in.
        LibsnarkReduction::h_query_scalars::<F, D>(max_power, t, zt, delta_inverse)
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

#[cfg(test)]
mod tests {
    use ark_bn254::Fr;

    use super::*;

    fn size_of(n: usize) -> (usize, bool) {
        let d = smallest_domain::<Fr>(n).expect("a domain");
        (
            d.size(),
            matches!(d, GeneralEvaluationDomain::MixedRadix(_)),
        )
    }

    #[test]
    fn the_smallest_domain_is_mixed_only_where_it_is_smaller() {
        // The statements' row counts: record inclusion, access, claim.
        assert_eq!(size_of(5_506), (6_144, true));
        assert_eq!(size_of(6_498), (8_192, false));
        assert_eq!(size_of(9_124), (9_216, true));
        // Powers of two, and just past them.
        assert_eq!(size_of(1), (1, false));
        assert_eq!(size_of(8_192), (8_192, false));
        assert_eq!(size_of(8_193), (9_216, true));
        assert_eq!(size_of(9_217), (12_288, true));
        // As large as the field allows: 2^28·9 points, and none beyond.
        assert_eq!(size_of(1 << 28), (1 << 28, false));
        assert_eq!(size_of((1 << 28) + 1), (9 << 25, true));
        assert_eq!(size_of(9 << 28), (9 << 28, true));
        assert!(smallest_domain::<Fr>((9 << 28) + 1).is_none());
    }

    #[test]
    fn the_power_of_two_domain_is_ark_groth16s() {
        for n in [1, 2, 1_000, 8_192] {
            let ours = smallest_domain::<Fr>(n).unwrap();
            let ark = GeneralEvaluationDomain::<Fr>::new(n).unwrap();
            assert_eq!(
                (ours.size(), ours.group_gen()),
                (ark.size(), ark.group_gen())
            );
        }
    }
}

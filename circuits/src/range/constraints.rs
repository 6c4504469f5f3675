//! The R1CS twins of [`super::as_u64`] and [`super::le_u64`].

use ark_bn254::Fr;
use ark_ff::{AdditiveGroup, Field, PrimeField};
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::GR1CSVar;
use ark_relations::gr1cs::SynthesisError;

use super::BITS;

/// Enforces `0 <= x < 2^64`: allocates its 64 bits (one boolean constraint each) and
/// enforces that they recompose to `x` (one constraint). 65 constraints.
pub fn enforce_u64(x: &FpVar<Fr>) -> Result<(), SynthesisError> {
    let cs = x.cs();
    let value = x.value().ok();
    let mut acc = FpVar::Constant(Fr::from(0u64));
    let mut weight = Fr::ONE;
    for i in 0..BITS {
        // In setup mode there is no value; when `x` is not a u64 the bits are those of its
        // low limb, and the recomposition constraint fails.
        let bit = Boolean::new_witness(cs.clone(), || {
            value
                .map(|v| (v.into_bigint().0[0] >> i) & 1 == 1)
                .ok_or(SynthesisError::AssignmentMissing)
        })?;
        acc += FpVar::from(bit) * weight;
        weight.double_in_place();
    }
    acc.enforce_equal(x)
}

/// Enforces `a <= b` for `a` and `b` already known to be below 2^64 (public inputs
/// range-checked by the verifier, or witnesses passed through [`enforce_u64`]):
/// `b - a` must itself be below 2^64. 65 constraints.
pub fn enforce_le_u64(a: &FpVar<Fr>, b: &FpVar<Fr>) -> Result<(), SynthesisError> {
    enforce_u64(&(b - a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::range::{as_u64, le_u64};
    use ark_relations::gr1cs::ConstraintSystem;

    fn le_holds(a: Fr, b: Fr) -> (bool, usize) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let a = FpVar::new_witness(cs.clone(), || Ok(a)).unwrap();
        let b = FpVar::new_input(cs.clone(), || Ok(b)).unwrap();
        enforce_le_u64(&a, &b).unwrap();
        (cs.is_satisfied().unwrap(), cs.num_constraints())
    }

    #[test]
    fn comparison_matches_its_twin_at_the_edges() {
        let max = u64::MAX;
        let cases = [
            (0, 0),
            (0, max),
            (max, max),
            (max, 0),
            (5, 4),
            (4, 5),
            (1 << 63, (1 << 63) - 1),
            (1_700_000_000, 1_700_000_001),
        ];
        for (a, b) in cases {
            let (ok, n) = le_holds(Fr::from(a), Fr::from(b));
            assert_eq!(ok, le_u64(a, b), "{a} <= {b}");
            assert_eq!(n, 65);
        }
    }

    #[test]
    fn range_check_refuses_values_of_64_bits_and_more() {
        for (x, is_u64) in [
            (Fr::from(0u64), true),
            (Fr::from(u64::MAX), true),
            (Fr::from(u64::MAX) + Fr::from(1u64), false),
            (-Fr::from(1u64), false),
            (Fr::from(1u128 << 100) + Fr::from(7u64), false),
        ] {
            assert_eq!(as_u64(&x).is_some(), is_u64);
            let cs = ConstraintSystem::<Fr>::new_ref();
            let v = FpVar::new_witness(cs.clone(), || Ok(x)).unwrap();
            enforce_u64(&v).unwrap();
            assert_eq!(cs.is_satisfied().unwrap(), is_u64, "{x}");
        }
    }
}

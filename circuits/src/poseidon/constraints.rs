//! The R1CS twin of [`super::hash`]: same parameters, same rounds, same output.
//!
//! Cost: 3 constraints per S-box (`x^2`, `x^4`, `x^5`). The capacity element starts as
//! the constant 0, so the first round's S-box on it is folded into a constant: 240
//! constraints for the 2-to-1 hash, like circomlib's `Poseidon(2)`. Linear layers are
//! linear combinations and cost no constraints.

use ark_bn254::Fr;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::SynthesisError;

use super::{params, MAX_INPUTS};

fn sbox(x: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(x4 * x)
}

/// Poseidon of `inputs` in the circuit; equal to [`super::hash`] on their values.
///
/// Returns `SynthesisError::Unsatisfiable` if the arity is outside `1..=MAX_INPUTS`
/// (arities are fixed by circuit code, so this is a programming error, reported
/// without a panic).
pub fn hash_gadget(inputs: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    if inputs.is_empty() || inputs.len() > MAX_INPUTS {
        return Err(SynthesisError::Unsatisfiable);
    }
    let p = params(inputs.len());
    let t = p.width;
    let mut state: Vec<FpVar<Fr>> = Vec::with_capacity(t);
    state.push(FpVar::Constant(Fr::from(0u64)));
    state.extend(inputs.iter().cloned());
    for (r, c) in p.ark.chunks_exact(t).enumerate() {
        for (s, c) in state.iter_mut().zip(c) {
            *s += *c;
        }
        if p.is_full_round(r) {
            for s in state.iter_mut() {
                *s = sbox(s)?;
            }
        } else {
            state[0] = sbox(&state[0])?;
        }
        state = p
            .mds
            .chunks_exact(t)
            .map(|row| row.iter().zip(&state).map(|(m, x)| x * *m).sum())
            .collect();
    }
    Ok(state.swap_remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_r1cs_std::alloc::AllocVar;
    use ark_r1cs_std::GR1CSVar;
    use ark_relations::gr1cs::ConstraintSystem;
    use ark_std::UniformRand;
    use rand::SeedableRng;

    #[test]
    fn gadget_equals_native_and_cost_is_pinned() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        // (arity, constraints): 3 per S-box, minus the 3 folded into the constant capacity.
        for (n, expected) in [
            (1usize, 3 * (8 * 2 + 56) - 3),
            (2, 240),
            (4, 297),
            (7, 3 * (8 * 8 + 64) - 3),
            (8, 402),
        ] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let xs: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            let vars: Vec<FpVar<Fr>> = xs
                .iter()
                .map(|x| FpVar::new_witness(cs.clone(), || Ok(*x)).unwrap())
                .collect();
            let out = hash_gadget(&vars).unwrap();
            assert_eq!(out.value().unwrap(), super::super::hash(&xs), "arity {n}");
            assert!(cs.is_satisfied().unwrap());
            assert_eq!(cs.num_constraints(), expected, "arity {n}");
        }
    }

    #[test]
    fn wrong_output_is_unsatisfied() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let a = FpVar::new_witness(cs.clone(), || Ok(Fr::from(1u64))).unwrap();
        let b = FpVar::new_witness(cs.clone(), || Ok(Fr::from(2u64))).unwrap();
        let claimed = FpVar::new_input(cs.clone(), || Ok(Fr::from(3u64))).unwrap();
        let out = hash_gadget(&[a, b]).unwrap();
        ark_r1cs_std::eq::EqGadget::enforce_equal(&out, &claimed).unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }

    #[test]
    fn bad_arity_is_an_error() {
        assert_eq!(hash_gadget(&[]).err(), Some(SynthesisError::Unsatisfiable));
    }
}

//! Helpers shared by the circuit tests.

use ark_bn254::Fr;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisError,
};
use medproof_circuits::shape::{AssignError, CircuitShape};

/// Whether `circuit` is satisfied, decided three ways that must agree: arkworks' own
/// checker, the shape's cached matrices (what the prover uses), and `native` (the
/// circuit's native twin).
pub fn satisfied<C: ConstraintSynthesizer<Fr> + Clone>(
    shape: &CircuitShape,
    circuit: C,
    native: bool,
) -> bool {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    // A witness of the wrong form (e.g. a path of another shape) cannot be synthesized.
    let ark = match circuit.clone().generate_constraints(cs.clone()) {
        Ok(()) => {
            cs.finalize();
            cs.is_satisfied().unwrap()
        }
        Err(SynthesisError::Unsatisfiable) => false,
        Err(e) => panic!("unexpected {e}"),
    };
    let ours = match shape.assign(circuit) {
        Ok(_) => true,
        Err(AssignError::Unsatisfied(_))
        | Err(AssignError::Synthesis(SynthesisError::Unsatisfiable)) => false,
        Err(e) => panic!("unexpected {e}"),
    };
    assert_eq!(ark, ours, "the shape's checker disagrees with arkworks'");
    assert_eq!(ark, native, "the native twin disagrees with the circuit");
    ark
}

//! The shape of a circuit: its constraint matrices, sizes and digest, and the witness
//! assignment of one instance.
//!
//! The matrices are the same for every proof of a circuit: they are built once (when
//! keys are generated or loaded), pinned by their digest, and reused to check each
//! witness before proving, so a bad witness is reported where it is made, not as a
//! proof that fails later.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField, Zero};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, Matrix, OptimizationGoal, SynthesisError,
    SynthesisMode, R1CS_PREDICATE_LABEL,
};
use sha2::{Digest, Sha256};

/// The R1CS of a circuit, as Groth16 sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitShape {
    /// Public inputs, counting the constant 1.
    pub num_instance: usize,
    /// Private witness variables.
    pub num_witness: usize,
    /// Rank-1 constraints.
    pub num_constraints: usize,
    /// A, B and C.
    pub matrices: [Matrix<Fr>; 3],
    /// SHA-256 over the sizes and the matrices (see [`CircuitShape::digest`]).
    pub digest: [u8; 32],
}

/// A full assignment: `[1, public inputs.., witness..]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Assignment(pub Vec<Fr>);

impl std::fmt::Debug for Assignment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Assignment(<{} values redacted>)", self.0.len())
    }
}

/// Runs `f` (circuit synthesis) with tracing off on this thread.
///
/// arkworks' gadgets open an INFO span (target `gr1cs`) for each operation, and its
/// namespaces (`ns!`) never close theirs: they are forgotten on purpose. Under a
/// subscriber that enables them (`RUST_LOG=info` is enough), every synthesis left
/// thousands of open spans in the subscriber's registry, with witness values in their
/// fields: `medproof demo` grew past 24 GB and was killed with nothing printed. Inside
/// `f` no subscriber is asked, so none records them.
pub fn untraced<R>(f: impl FnOnce() -> R) -> R {
    tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), f)
}

fn new_cs(mode: SynthesisMode) -> ark_relations::gr1cs::ConstraintSystemRef<Fr> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(mode);
    cs
}

impl CircuitShape {
    /// Synthesizes `circuit` (usually blank) in setup mode and records its shape.
    pub fn of<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<Self, SynthesisError> {
        let cs = new_cs(SynthesisMode::Setup);
        untraced(|| circuit.generate_constraints(cs.clone()))?;
        cs.finalize();
        let mut all = cs.to_matrices()?;
        let abc = all
            .remove(R1CS_PREDICATE_LABEL)
            .ok_or(SynthesisError::Unsatisfiable)?;
        let matrices: [Matrix<Fr>; 3] =
            abc.try_into().map_err(|_| SynthesisError::Unsatisfiable)?;
        let mut shape = Self {
            num_instance: cs.num_instance_variables(),
            num_witness: cs.num_witness_variables(),
            num_constraints: cs.num_constraints(),
            matrices,
            digest: [0; 32],
        };
        shape.digest = shape.compute_digest();
        Ok(shape)
    }

    /// A shape from its sizes and matrices (read from a file), its digest computed.
    pub fn from_parts(
        num_instance: usize,
        num_witness: usize,
        num_constraints: usize,
        matrices: [Matrix<Fr>; 3],
    ) -> Self {
        let mut shape = Self {
            num_instance,
            num_witness,
            num_constraints,
            matrices,
            digest: [0; 32],
        };
        shape.digest = shape.compute_digest();
        shape
    }

    /// SHA-256 of `"medproof.r1cs.v1"`, the three sizes (u64 LE), then for each matrix and
    /// each row its length and `(index u64 LE, coefficient 32 bytes LE)` terms.
    fn compute_digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"medproof.r1cs.v1");
        for n in [self.num_instance, self.num_witness, self.num_constraints] {
            h.update((n as u64).to_le_bytes());
        }
        for m in &self.matrices {
            h.update((m.len() as u64).to_le_bytes());
            for row in m {
                h.update((row.len() as u64).to_le_bytes());
                for (coeff, index) in row {
                    h.update((*index as u64).to_le_bytes());
                    h.update(coeff.into_bigint().to_bytes_le());
                }
            }
        }
        h.finalize().into()
    }

    /// The digest as hex.
    pub fn digest_hex(&self) -> String {
        self.digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Size of the evaluation domain Groth16 needs: constraints plus inputs, rounded up
    /// to a power of two.
    pub fn domain_size(&self) -> usize {
        (self.num_constraints + self.num_instance).next_power_of_two()
    }

    /// Synthesizes `circuit` with its witness, without building matrices, and checks the
    /// assignment against this shape. Returns the assignment, or the index of the first
    /// unsatisfied constraint.
    pub fn assign<C: ConstraintSynthesizer<Fr>>(
        &self,
        circuit: C,
    ) -> Result<Assignment, AssignError> {
        let z = self.synthesize(circuit)?;
        if let Some(row) = self.first_unsatisfied(&z.0) {
            return Err(AssignError::Unsatisfied(row));
        }
        Ok(z)
    }

    /// Synthesizes `circuit` with its witness, without building matrices, and checks
    /// only that the assignment has this shape's length: for a prover that checks the
    /// constraints itself while it evaluates them (see `medproof_prover`).
    pub fn synthesize<C: ConstraintSynthesizer<Fr>>(
        &self,
        circuit: C,
    ) -> Result<Assignment, AssignError> {
        let cs = new_cs(SynthesisMode::Prove {
            construct_matrices: false,
            generate_lc_assignments: false,
        });
        untraced(|| circuit.generate_constraints(cs.clone()))?;
        let mut z = cs.instance_assignment()?;
        z.extend(cs.witness_assignment()?);
        if z.len() != self.num_instance + self.num_witness {
            return Err(AssignError::ShapeMismatch);
        }
        Ok(Assignment(z))
    }

    /// The first row `i` with `<A_i,z> * <B_i,z> != <C_i,z>`.
    pub fn first_unsatisfied(&self, z: &[Fr]) -> Option<usize> {
        let eval = |row: &[(Fr, usize)]| -> Fr {
            row.iter().fold(Fr::zero(), |acc, (c, i)| {
                acc + *c * z.get(*i).copied().unwrap_or_default()
            })
        };
        let [a, b, c] = &self.matrices;
        (0..self.num_constraints).find(|&i| eval(&a[i]) * eval(&b[i]) != eval(&c[i]))
    }
}

/// Why a witness could not be assigned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssignError {
    /// Synthesis failed (e.g. a missing or malformed witness).
    #[error("circuit synthesis failed: {0}")]
    Synthesis(#[from] SynthesisError),
    /// The witness has a different number of variables than the shape.
    #[error("the witness does not match the circuit's shape")]
    ShapeMismatch,
    /// The witness does not satisfy constraint number `0`.
    #[error("the witness does not satisfy the statement (constraint {0} fails)")]
    Unsatisfied(usize),
}

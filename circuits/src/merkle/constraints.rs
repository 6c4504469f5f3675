//! The R1CS twin of [`super::MerklePath::root_in`], with membership enforced.
//!
//! At each level the node's position among its parent's `arity` children is the leaf
//! index's digit, allocated as `log2(arity)` bits, each constrained boolean. The children
//! are placed by a gadget that costs, for `k` bits and `a = 2^k` children, `k` boolean
//! checks, `2^k - k - 1` products of bits, and `2a - 4` products to place the node (the
//! first and last child take one each, the others two, and one child is free: the
//! children sum to the node plus its siblings). Arity 2: 2 constraints a level (as a
//! boolean and a selection); arity 4: 7; arity 8: 19. The hash is then circomlib's
//! `Poseidon(arity)`.

use std::borrow::Borrow;

use ark_bn254::Fr;
use ark_ff::Field;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::{Namespace, SynthesisError};

use super::{MerklePath, TreeShape, LEDGER_TREE};
use crate::poseidon::constraints::hash_gadget;

/// A Merkle path in the circuit: the digit's bits and the siblings, per level.
pub struct MerklePathVar {
    /// For each level, the bits of the node's position, least significant first, each
    /// constrained to be 0 or 1.
    pub bits: Vec<Vec<FpVar<Fr>>>,
    /// For each level, the other children, left to right.
    pub siblings: Vec<Vec<FpVar<Fr>>>,
}

/// The `arity = 2^bits.len()` children of a node whose position has `bits` (boolean,
/// least significant first) and whose other children are `siblings` (left to right).
fn place(
    bits: &[FpVar<Fr>],
    node: &FpVar<Fr>,
    siblings: &[FpVar<Fr>],
) -> Result<Vec<FpVar<Fr>>, SynthesisError> {
    let arity = 1usize << bits.len();
    if siblings.len() != arity - 1 {
        return Err(SynthesisError::Unsatisfiable);
    }
    // The multilinear monomials: mono[m] is the product of the bits set in mask m.
    let mut mono: Vec<FpVar<Fr>> = vec![FpVar::one(); arity];
    for m in 1..arity {
        let low = m.trailing_zeros() as usize;
        let rest = m & (m - 1);
        mono[m] = if rest == 0 {
            bits[low].clone()
        } else {
            &mono[rest] * &bits[low]
        };
    }
    // [digit = d] = prod_{i in d} b_i prod_{i not in d} (1 - b_i), expanded: a linear
    // combination of the monomials over the masks that contain d.
    let is = |d: usize| -> FpVar<Fr> {
        (0..arity)
            .filter(|m| m & d == d)
            .map(|m| {
                if (m ^ d).count_ones().is_multiple_of(2) {
                    mono[m].clone()
                } else {
                    FpVar::zero() - &mono[m]
                }
            })
            .sum()
    };
    let eq: Vec<FpVar<Fr>> = (0..arity).map(is).collect();
    // Child i is the node if digit = i, sibling i if digit > i, sibling i - 1 if digit < i:
    // s_i + [d = i](node - s_i) + [d < i](s_{i-1} - s_i), with the ends simpler.
    // The child left to the sum: a middle one (the second of a pair).
    let free = arity / 2;
    let mut children: Vec<Option<FpVar<Fr>>> = vec![None; arity];
    let mut below = FpVar::zero(); // [d < i]
    for i in 0..arity {
        if i != free {
            let child = if i == 0 {
                &siblings[0] + &eq[0] * (node - &siblings[0])
            } else if i == arity - 1 {
                &siblings[i - 1] + &eq[i] * (node - &siblings[i - 1])
            } else {
                &siblings[i]
                    + &eq[i] * (node - &siblings[i])
                    + &below * (&siblings[i - 1] - &siblings[i])
            };
            children[i] = Some(child);
        }
        below += &eq[i];
    }
    let total: FpVar<Fr> = siblings.iter().sum::<FpVar<Fr>>() + node;
    let placed: FpVar<Fr> = children.iter().flatten().sum();
    children[free] = Some(total - placed);
    Ok(children.into_iter().flatten().collect())
}

impl MerklePathVar {
    /// The root obtained by hashing `leaf` up the path.
    pub fn root(&self, leaf: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
        let mut node = leaf.clone();
        for (bits, siblings) in self.bits.iter().zip(&self.siblings) {
            node = hash_gadget(&place(bits, &node, siblings)?)?;
        }
        Ok(node)
    }

    /// Enforces that `leaf` is in the tree with root `root`.
    pub fn enforce_membership(
        &self,
        leaf: &FpVar<Fr>,
        root: &FpVar<Fr>,
    ) -> Result<(), SynthesisError> {
        self.root(leaf)?.enforce_equal(root)
    }

    /// Allocates a path in a tree of `shape` (the ledger's trees use [`LEDGER_TREE`],
    /// through [`AllocVar`]; a policy's codes tree is smaller). A path of another shape
    /// is an error.
    pub fn new_in(
        cs: impl Into<Namespace<Fr>>,
        f: impl FnOnce() -> Result<MerklePath, SynthesisError>,
        shape: TreeShape,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        let path = f().and_then(|p| {
            if p.has_shape(shape) {
                Ok(p)
            } else {
                Err(SynthesisError::Unsatisfiable)
            }
        });
        // An error other than a missing assignment (setup) is the caller's to see now.
        if let Err(SynthesisError::Unsatisfiable) = path {
            return Err(SynthesisError::Unsatisfiable);
        }
        let bits = (0..shape.depth())
            .map(|l| {
                (0..shape.bits() as usize)
                    .map(|b| {
                        path.as_ref()
                            .map(|p| Fr::from((shape.digit(p.index, l) >> b) as u64 & 1))
                            .map_err(|e| *e)
                    })
                    .collect()
            })
            .collect();
        let siblings = (0..shape.depth())
            .map(|l| {
                (0..shape.arity() - 1)
                    .map(|i| path.as_ref().map(|p| p.siblings[l][i]).map_err(|e| *e))
                    .collect()
            })
            .collect();
        Self::alloc(cs, bits, siblings, mode)
    }

    /// Allocates the given bit and sibling values (per level), and constrains each bit
    /// to be 0 or 1. The bit values come from [`Self::new_in`]; the tests give others.
    fn alloc(
        cs: impl Into<Namespace<Fr>>,
        bits: Vec<Vec<Result<Fr, SynthesisError>>>,
        siblings: Vec<Vec<Result<Fr, SynthesisError>>>,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        let cs = cs.into().cs();
        let mut bit_vars = Vec::with_capacity(bits.len());
        let mut sibling_vars = Vec::with_capacity(siblings.len());
        for (level_bits, level_siblings) in bits.into_iter().zip(siblings) {
            let level_bits = level_bits
                .into_iter()
                .map(|b| {
                    let b = FpVar::new_variable(cs.clone(), || b, mode)?;
                    // b (b - 1) = 0
                    b.mul_equals(&(&b - Fr::ONE), &FpVar::zero())?;
                    Ok(b)
                })
                .collect::<Result<Vec<_>, SynthesisError>>()?;
            let level_siblings = level_siblings
                .into_iter()
                .map(|s| FpVar::new_variable(cs.clone(), || s, mode))
                .collect::<Result<Vec<_>, _>>()?;
            bit_vars.push(level_bits);
            sibling_vars.push(level_siblings);
        }
        Ok(Self {
            bits: bit_vars,
            siblings: sibling_vars,
        })
    }
}

impl AllocVar<MerklePath, Fr> for MerklePathVar {
    fn new_variable<T: Borrow<MerklePath>>(
        cs: impl Into<Namespace<Fr>>,
        f: impl FnOnce() -> Result<T, SynthesisError>,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        Self::new_in(cs, || f().map(|p| p.borrow().clone()), LEDGER_TREE, mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{MerkleTree, BINARY_TREE, OCTAL_TREE};
    use ark_ff::Zero;
    use ark_r1cs_std::GR1CSVar;
    use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef, R1CS_PREDICATE_LABEL};

    const SHAPES: [TreeShape; 3] = [LEDGER_TREE, BINARY_TREE, OCTAL_TREE];

    fn tree(shape: TreeShape) -> MerkleTree {
        let mut t = MerkleTree::with_shape(shape);
        t.extend(&(1..=19u64).map(Fr::from).collect::<Vec<_>>())
            .unwrap();
        t
    }

    /// Allocates `path` in a tree of `shape`, hashes `leaf` up and enforces the root.
    /// Returns whether the system is satisfied, the computed root and the cost.
    fn check(shape: TreeShape, path: &MerklePath, leaf: Fr, root: Fr) -> (bool, Fr, usize) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let root_var = FpVar::new_input(cs.clone(), || Ok(root)).unwrap();
        let leaf_var = FpVar::new_witness(cs.clone(), || Ok(leaf)).unwrap();
        let p = MerklePathVar::new_in(
            cs.clone(),
            || Ok(path.clone()),
            shape,
            AllocationMode::Witness,
        )
        .unwrap();
        p.enforce_membership(&leaf_var, &root_var).unwrap();
        let (ok, n) = (cs.is_satisfied().unwrap(), cs.num_constraints());
        let computed = p.root(&leaf_var).unwrap().value().unwrap();
        (ok, computed, n)
    }

    #[test]
    fn gadget_equals_native_enforces_and_cost_is_pinned() {
        // depth × (Poseidon(arity) + placement) + the root equality.
        let cost = |shape: TreeShape| match shape.arity() {
            2 => 32 * (240 + 2) + 1,
            4 => 16 * (297 + 7) + 1,
            8 => 11 * (402 + 19) + 1,
            _ => unreachable!(),
        };
        for shape in SHAPES {
            let t = tree(shape);
            for index in [0u64, 5, 7, 18] {
                let (path, leaf) = (t.path(index).unwrap(), t.leaf(index).unwrap());
                let (ok, computed, n) = check(shape, &path, leaf, t.root());
                assert!(ok, "{shape:?} leaf {index}");
                assert_eq!(Some(computed), path.root_in(shape, leaf));
                assert_eq!(n, cost(shape), "{shape:?}");
                // The membership is enforced, not merely computed.
                assert!(!check(shape, &path, leaf, t.root() + Fr::from(1u64)).0);
                assert!(!check(shape, &path, leaf + Fr::from(1u64), t.root()).0);
                let mut moved = path.clone();
                moved.index ^= 1 << shape.bits();
                assert!(!check(shape, &moved, leaf, t.root()).0);
                let mut permuted = path.clone();
                permuted.siblings[0].rotate_left(1);
                assert!(!check(shape, &permuted, leaf, t.root()).0 || shape.arity() == 2);
            }
        }
    }

    /// The placement gadget alone, bits and their checks included: 2, 7 and 19.
    #[test]
    fn placement_cost_is_pinned() {
        for (arity, cost) in [(2usize, 2usize), (4, 7), (8, 19)] {
            let k = arity.trailing_zeros() as usize;
            let cs = ConstraintSystem::<Fr>::new_ref();
            let bits = vec![(0..k).map(|b| Ok(Fr::from((5 >> b) as u64 & 1))).collect()];
            let siblings = vec![(0..arity - 1)
                .map(|i| Ok(Fr::from(i as u64 + 10)))
                .collect()];
            let p =
                MerklePathVar::alloc(cs.clone(), bits, siblings, AllocationMode::Witness).unwrap();
            let node = FpVar::new_witness(cs.clone(), || Ok(Fr::from(99u64))).unwrap();
            let children = place(&p.bits[0], &node, &p.siblings[0]).unwrap();
            assert_eq!(cs.num_constraints(), cost, "arity {arity}");
            let digit = 5 & (arity - 1);
            let values: Vec<Fr> = children.iter().map(|c| c.value().unwrap()).collect();
            let mut expected: Vec<Fr> = (0..arity as u64 - 1).map(|i| Fr::from(i + 10)).collect();
            expected.insert(digit, Fr::from(99u64));
            assert_eq!(values, expected, "arity {arity}");
        }
    }

    #[test]
    fn every_position_places_the_node() {
        // A node at each position of a level, with distinct siblings, hashes as natively.
        for shape in SHAPES {
            let t = tree(shape);
            for index in 0..shape.arity() as u64 {
                let (path, leaf) = (t.path(index).unwrap(), t.leaf(index).unwrap());
                assert!(check(shape, &path, leaf, t.root()).0, "{shape:?} {index}");
            }
        }
    }

    #[test]
    fn a_path_of_another_shape_is_an_error() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let path = tree(BINARY_TREE).path(3).unwrap();
        assert!(MerklePathVar::new_witness(cs.clone(), || Ok(path)).is_err());
        let mut path = tree(LEDGER_TREE).path(3).unwrap();
        path.index += LEDGER_TREE.capacity();
        assert!(MerklePathVar::new_witness(cs, || Ok(path)).is_err());
    }

    /// The rows of `cs` (finalized) that its assignment does not satisfy.
    fn failing_rows(cs: &ConstraintSystemRef<Fr>) -> usize {
        cs.finalize();
        let mut z = cs.instance_assignment().unwrap();
        z.extend(cs.witness_assignment().unwrap());
        let mut m = cs.to_matrices().unwrap();
        let abc = m.remove(R1CS_PREDICATE_LABEL).unwrap();
        let eval = |row: &[(Fr, usize)]| row.iter().map(|(c, i)| *c * z[*i]).sum::<Fr>();
        (0..abc[0].len())
            .filter(|&r| eval(&abc[0][r]) * eval(&abc[1][r]) != eval(&abc[2][r]))
            .count()
    }

    /// Bits that are not 0 or 1 (a "digit" of 4 in a 4-ary level, or a half) place the
    /// node somewhere that is no position; every other constraint can be met, so the
    /// bit checks alone must refuse them.
    #[test]
    fn non_boolean_bits_are_refused_by_the_bit_checks_alone() {
        let half = Fr::from(2u64).inverse().unwrap();
        let t = tree(LEDGER_TREE);
        let (path, leaf) = (t.path(5).unwrap(), t.leaf(5).unwrap());
        for (b0, b1) in [
            (Fr::zero(), Fr::from(2u64)),
            (half, Fr::zero()),
            (half, half),
        ] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let mut bits: Vec<Vec<Result<Fr, SynthesisError>>> = (0..LEDGER_TREE.depth())
                .map(|l| {
                    let d = LEDGER_TREE.digit(path.index, l);
                    vec![Ok(Fr::from(d as u64 & 1)), Ok(Fr::from(d as u64 >> 1))]
                })
                .collect();
            bits[0] = vec![Ok(b0), Ok(b1)];
            let siblings = path
                .siblings
                .iter()
                .map(|s| s.iter().map(|x| Ok(*x)).collect())
                .collect();
            let p =
                MerklePathVar::alloc(cs.clone(), bits, siblings, AllocationMode::Witness).unwrap();
            let leaf_var = FpVar::new_witness(cs.clone(), || Ok(leaf)).unwrap();
            // The root such a path reaches, claimed as the public root.
            let reached = p.root(&leaf_var).unwrap().value().unwrap();
            assert_ne!(reached, t.root());
            let root = FpVar::new_input(cs.clone(), || Ok(reached)).unwrap();
            p.enforce_membership(&leaf_var, &root).unwrap();
            assert!(!cs.is_satisfied().unwrap());
            let bad_bits = [b0, b1].iter().filter(|b| **b != Fr::zero()).count();
            assert_eq!(failing_rows(&cs), bad_bits, "({b0}, {b1})");
        }
    }
}

//! The R1CS twin of [`super::MerklePath::root_from`], with membership enforced.

use std::borrow::Borrow;

use ark_bn254::Fr;
use ark_r1cs_std::alloc::{AllocVar, AllocationMode};
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::select::CondSelectGadget;
use ark_relations::gr1cs::{Namespace, SynthesisError};

use super::{MerklePath, DEPTH};
use crate::poseidon::constraints::hash2_gadget;

/// A Merkle path in the circuit: one boolean direction and one sibling per level.
pub struct MerklePathVar {
    /// Bit `l` of the leaf index (1: the node at level `l` is a right child).
    pub bits: Vec<Boolean<Fr>>,
    /// Siblings from the leaf up.
    pub siblings: Vec<FpVar<Fr>>,
}

impl MerklePathVar {
    /// The root obtained by hashing `leaf` up the path. 2 constraints per level plus the
    /// hash (the boolean check of the bit, and one selection).
    pub fn root(&self, leaf: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
        let mut node = leaf.clone();
        for (bit, sib) in self.bits.iter().zip(&self.siblings) {
            // left = bit ? sib : node; right = node + sib - left (free).
            let left = FpVar::conditionally_select(bit, sib, &node)?;
            let right = &node + sib - &left;
            node = hash2_gadget(&left, &right)?;
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
}

impl MerklePathVar {
    /// Allocates a path of `depth` levels (the ledger's trees use [`DEPTH`], through
    /// [`AllocVar`]; a policy's codes tree is shallower). A path of another length, or an
    /// index with bits above `depth`, is an error.
    pub fn new_at_depth(
        cs: impl Into<Namespace<Fr>>,
        f: impl FnOnce() -> Result<MerklePath, SynthesisError>,
        depth: usize,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        let cs = cs.into().cs();
        let path = f();
        if let Ok(p) = &path {
            if p.siblings.len() != depth || p.index.checked_shr(depth as u32).unwrap_or(0) != 0 {
                return Err(SynthesisError::Unsatisfiable);
            }
        }
        let mut bits = Vec::with_capacity(depth);
        let mut siblings = Vec::with_capacity(depth);
        for l in 0..depth {
            bits.push(Boolean::new_variable(
                cs.clone(),
                || {
                    path.as_ref()
                        .map(|p| (p.index >> l) & 1 == 1)
                        .map_err(|e| *e)
                },
                mode,
            )?);
            siblings.push(FpVar::new_variable(
                cs.clone(),
                || path.as_ref().map(|p| p.siblings[l]).map_err(|e| *e),
                mode,
            )?);
        }
        Ok(Self { bits, siblings })
    }
}

impl AllocVar<MerklePath, Fr> for MerklePathVar {
    fn new_variable<T: Borrow<MerklePath>>(
        cs: impl Into<Namespace<Fr>>,
        f: impl FnOnce() -> Result<T, SynthesisError>,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        Self::new_at_depth(cs, || f().map(|p| p.borrow().clone()), DEPTH, mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::MerkleTree;
    use ark_r1cs_std::GR1CSVar;
    use ark_relations::gr1cs::ConstraintSystem;

    fn setup(index: u64) -> (MerkleTree, MerklePath, Fr) {
        let mut t = MerkleTree::new();
        t.extend(&(1..=9u64).map(Fr::from).collect::<Vec<_>>())
            .unwrap();
        (t.clone(), t.path(index).unwrap(), t.leaf(index).unwrap())
    }

    fn check(path: &MerklePath, leaf: Fr, root: Fr) -> (bool, Fr) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let root_var = FpVar::new_input(cs.clone(), || Ok(root)).unwrap();
        let leaf_var = FpVar::new_witness(cs.clone(), || Ok(leaf)).unwrap();
        let p = MerklePathVar::new_witness(cs.clone(), || Ok(path.clone())).unwrap();
        let computed = p.root(&leaf_var).unwrap().value().unwrap();
        p.enforce_membership(&leaf_var, &root_var).unwrap();
        (cs.is_satisfied().unwrap(), computed)
    }

    #[test]
    fn gadget_equals_native_and_enforces() {
        for index in [0u64, 5, 8] {
            let (t, path, leaf) = setup(index);
            let (ok, computed) = check(&path, leaf, t.root());
            assert!(ok);
            assert_eq!(computed, path.root_from(leaf));
            // The membership is enforced, not merely computed.
            assert!(!check(&path, leaf, t.root() + Fr::from(1u64)).0);
            assert!(!check(&path, leaf + Fr::from(1u64), t.root()).0);
            let mut flipped = path.clone();
            flipped.index ^= 1 << 3;
            assert!(!check(&flipped, leaf, t.root()).0);
        }
    }

    #[test]
    fn malformed_path_is_an_error() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let short = MerklePath {
            index: 0,
            siblings: vec![Fr::from(0u64); 3],
        };
        assert!(MerklePathVar::new_witness(cs, || Ok(short)).is_err());
    }
}

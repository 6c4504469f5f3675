//! A policy's covered-codes set: a 4-ary Poseidon Merkle tree of depth 8 (room for
//! 65,536 procedure codes) whose root is sealed in the policy commitment.
//!
//! Leaves are the codes as field elements ([`crate::commit::procedure_code`]), sorted
//! and without duplicates, then padded with empty (0) leaves; nodes hash their four
//! children as in the ledger's trees. A code is never 0, and the claim circuit enforces that, so
//! an empty leaf proves nothing.

use ark_bn254::Fr;

use crate::commit::{procedure_code, CodeError};
use crate::merkle::{MerklePath, MerkleTree, TreeShape};

/// The shape of a covered-codes tree: 4-ary, 8 levels, room for 65,536 codes.
pub const CODES_TREE: TreeShape = TreeShape::new(4, 8);

/// Why a set of codes cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeSetError {
    /// One code is malformed.
    #[error("covered code #{index}: {source}")]
    Code {
        /// Its position in the input.
        index: usize,
        /// What is wrong.
        source: CodeError,
    },
    /// More codes than the tree holds.
    #[error("{0} covered codes; a policy holds at most 65,536")]
    TooMany(usize),
}

/// The covered codes and their tree.
#[derive(Debug, Clone)]
pub struct CodeSet {
    /// Leaves: the sorted codes.
    tree: MerkleTree,
}

impl CodeSet {
    /// The set of `codes` (text, e.g. `"99213"`).
    pub fn new<S: AsRef<str>>(codes: &[S]) -> Result<Self, CodeSetError> {
        let fields = codes
            .iter()
            .enumerate()
            .map(|(index, c)| {
                procedure_code(c.as_ref()).map_err(|source| CodeSetError::Code { index, source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_fields(fields)
    }

    /// The set of codes already mapped to field elements.
    pub fn from_fields(mut codes: Vec<Fr>) -> Result<Self, CodeSetError> {
        codes.sort();
        codes.dedup();
        let mut tree = MerkleTree::with_shape(CODES_TREE);
        tree.extend(&codes)
            .map_err(|_| CodeSetError::TooMany(codes.len()))?;
        Ok(Self { tree })
    }

    /// The tree's root, sealed in the policy commitment.
    pub fn root(&self) -> Fr {
        self.tree.root()
    }

    /// Number of codes.
    pub fn len(&self) -> usize {
        self.tree.leaves().len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// The path of `code`, if it is covered.
    pub fn path(&self, code: Fr) -> Option<MerklePath> {
        let index = self.tree.leaves().binary_search(&code).ok()?;
        self.tree.path(index as u64).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covered_codes_have_paths_to_the_root() {
        let set = CodeSet::new(&["99213", "99214", "J3490", "99213"]).unwrap();
        assert_eq!(set.len(), 3);
        for c in ["99213", "99214", "J3490"] {
            let code = procedure_code(c).unwrap();
            let path = set.path(code).unwrap();
            assert!(path.verify_in(CODES_TREE, set.root(), code));
            assert!(!path.verify(set.root(), code), "the shape matters");
        }
        assert!(set.path(procedure_code("99215").unwrap()).is_none());
        // The root depends on the set.
        let other = CodeSet::new(&["99213", "99214"]).unwrap();
        assert_ne!(other.root(), set.root());
        assert!(CodeSet::new(&["ok", ""]).is_err());
    }
}

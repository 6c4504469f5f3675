//! An append-only Poseidon Merkle tree of fixed depth, sparse to the right.
//!
//! Leaves are numbered in the order they are appended. Only the nodes over existing
//! leaves are stored (about two per leaf); every subtree to the right of the last leaf is
//! empty and stands in as a precomputed zero-subtree hash. A leaf can be overwritten (a
//! revocation empties a consent's leaf), never removed. Empty leaves are 0.
//!
//! Nodes are `H(left, right)` with circomlib's 2-to-1 Poseidon.

use std::sync::OnceLock;

use ark_bn254::Fr;
use ark_ff::Zero;

use crate::poseidon::hash2;

pub mod constraints;

/// Depth of the ledger's trees: room for 2^32 leaves.
pub const DEPTH: usize = 32;

/// What can go wrong with a tree operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// The tree holds `2^depth` leaves already.
    #[error("tree is full ({0} leaves)")]
    Full(u64),
    /// No leaf at this index.
    #[error("no leaf at index {index} (tree has {len})")]
    NoSuchLeaf {
        /// Asked-for index.
        index: u64,
        /// Number of leaves.
        len: u64,
    },
}

/// `zero_hashes()[l]` is the root of an empty subtree of height `l`.
pub fn zero_hashes() -> &'static [Fr; DEPTH + 1] {
    static ZEROS: OnceLock<[Fr; DEPTH + 1]> = OnceLock::new();
    ZEROS.get_or_init(|| {
        let mut z = [Fr::zero(); DEPTH + 1];
        for l in 0..DEPTH {
            z[l + 1] = hash2(z[l], z[l]);
        }
        z
    })
}

/// The authentication path of one leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerklePath {
    /// The leaf's position; bit `l` says whether the node at level `l` is a right child.
    pub index: u64,
    /// Siblings from the leaf level up, `DEPTH` of them.
    pub siblings: Vec<Fr>,
}

impl MerklePath {
    /// The root obtained by hashing `leaf` up this path.
    pub fn root_from(&self, leaf: Fr) -> Fr {
        self.siblings
            .iter()
            .enumerate()
            .fold(leaf, |node, (l, sib)| {
                if (self.index >> l) & 1 == 1 {
                    hash2(*sib, node)
                } else {
                    hash2(node, *sib)
                }
            })
    }

    /// Whether `leaf` at this path hashes to `root`.
    pub fn verify(&self, root: Fr, leaf: Fr) -> bool {
        self.siblings.len() == DEPTH && self.index >> DEPTH == 0 && self.root_from(leaf) == root
    }
}

/// The tree. `levels[0]` holds the leaves, `levels[DEPTH]` at most the root.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    levels: Vec<Vec<Fr>>,
}

impl Default for MerkleTree {
    fn default() -> Self {
        Self::new()
    }
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self {
            levels: vec![Vec::new(); DEPTH + 1],
        }
    }

    /// Number of leaves appended.
    pub fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// Whether no leaf was appended.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The current root.
    pub fn root(&self) -> Fr {
        self.levels[DEPTH]
            .first()
            .copied()
            .unwrap_or(zero_hashes()[DEPTH])
    }

    /// The leaf at `index`.
    pub fn leaf(&self, index: u64) -> Option<Fr> {
        self.levels[0].get(usize::try_from(index).ok()?).copied()
    }

    fn node(&self, level: usize, index: usize) -> Fr {
        self.levels[level]
            .get(index)
            .copied()
            .unwrap_or(zero_hashes()[level])
    }

    /// Appends one leaf; returns its index.
    pub fn push(&mut self, leaf: Fr) -> Result<u64, TreeError> {
        let index = self.len();
        self.extend(&[leaf])?;
        Ok(index)
    }

    /// Appends many leaves, hashing each shared upper node once. Returns the index of
    /// the first.
    pub fn extend(&mut self, leaves: &[Fr]) -> Result<u64, TreeError> {
        let start = self.len();
        if start + leaves.len() as u64 > 1u64 << DEPTH {
            return Err(TreeError::Full(start));
        }
        self.levels[0].extend_from_slice(leaves);
        self.rehash_from(start as usize);
        Ok(start)
    }

    /// Overwrites the leaf at `index` (e.g. with 0 to revoke).
    pub fn set(&mut self, index: u64, leaf: Fr) -> Result<(), TreeError> {
        let len = self.len();
        let i = usize::try_from(index)
            .ok()
            .filter(|&i| (i as u64) < len)
            .ok_or(TreeError::NoSuchLeaf { index, len })?;
        self.levels[0][i] = leaf;
        let mut i = i;
        for l in 0..DEPTH {
            let parent = i / 2;
            let h = hash2(self.node(l, parent * 2), self.node(l, parent * 2 + 1));
            self.levels[l + 1][parent] = h;
            i = parent;
        }
        Ok(())
    }

    /// Recomputes every node over leaves `first..` on every level.
    fn rehash_from(&mut self, first: usize) {
        let mut first = first;
        for l in 0..DEPTH {
            let child_len = self.levels[l].len();
            if child_len == 0 {
                return;
            }
            let first_parent = first / 2;
            let parent_len = child_len.div_ceil(2);
            let parents: Vec<Fr> = (first_parent..parent_len)
                .map(|p| hash2(self.node(l, 2 * p), self.node(l, 2 * p + 1)))
                .collect();
            let next = &mut self.levels[l + 1];
            next.truncate(first_parent);
            next.extend(parents);
            first = first_parent;
        }
    }

    /// The authentication path of the leaf at `index`.
    pub fn path(&self, index: u64) -> Result<MerklePath, TreeError> {
        let len = self.len();
        if index >= len {
            return Err(TreeError::NoSuchLeaf { index, len });
        }
        let siblings = (0..DEPTH)
            .map(|l| self.node(l, ((index >> l) ^ 1) as usize))
            .collect();
        Ok(MerklePath { index, siblings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Root of a dense tree over `leaves` padded with zeros, computed the naive way.
    fn naive_root(leaves: &[Fr]) -> Fr {
        let mut level: Vec<Fr> = leaves.to_vec();
        for l in 0..DEPTH {
            if level.len() % 2 == 1 {
                level.push(zero_hashes()[l]);
            }
            if level.is_empty() {
                return zero_hashes()[DEPTH];
            }
            level = level.chunks(2).map(|c| hash2(c[0], c[1])).collect();
        }
        level[0]
    }

    #[test]
    fn empty_tree_root_is_zero_subtree() {
        let t = MerkleTree::new();
        assert_eq!(t.root(), zero_hashes()[DEPTH]);
        assert_eq!(t.path(0), Err(TreeError::NoSuchLeaf { index: 0, len: 0 }));
    }

    #[test]
    fn push_extend_and_naive_agree() {
        let leaves: Vec<Fr> = (1..=13u64).map(Fr::from).collect();
        let mut one_by_one = MerkleTree::new();
        for x in &leaves {
            one_by_one.push(*x).unwrap();
            assert_eq!(
                one_by_one.root(),
                naive_root(&leaves[..one_by_one.len() as usize])
            );
        }
        let mut batched = MerkleTree::new();
        batched.extend(&leaves[..5]).unwrap();
        batched.extend(&leaves[5..]).unwrap();
        assert_eq!(batched.root(), one_by_one.root());
        for (i, leaf) in leaves.iter().enumerate() {
            let path = batched.path(i as u64).unwrap();
            assert!(path.verify(batched.root(), *leaf));
            assert!(!path.verify(batched.root(), *leaf + Fr::from(1u64)));
        }
    }

    #[test]
    fn set_updates_root_and_paths() {
        let leaves: Vec<Fr> = (1..=6u64).map(Fr::from).collect();
        let mut t = MerkleTree::new();
        t.extend(&leaves).unwrap();
        t.set(2, Fr::zero()).unwrap();
        let mut expected = leaves.clone();
        expected[2] = Fr::zero();
        assert_eq!(t.root(), naive_root(&expected));
        assert!(!t.path(2).unwrap().verify(t.root(), leaves[2]));
        assert!(t.path(3).unwrap().verify(t.root(), leaves[3]));
        assert!(matches!(
            t.set(6, Fr::zero()),
            Err(TreeError::NoSuchLeaf { .. })
        ));
    }

    #[test]
    fn path_with_wrong_index_fails() {
        let mut t = MerkleTree::new();
        t.extend(&(1..=4u64).map(Fr::from).collect::<Vec<_>>())
            .unwrap();
        let mut p = t.path(1).unwrap();
        p.index ^= 1;
        assert!(!p.verify(t.root(), Fr::from(2u64)));
    }
}

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

/// Levels with at least this many nodes to rehash are hashed in parallel.
const PARALLEL_MIN: usize = 64;

/// What can go wrong with a tree operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// The tree holds `2^depth` leaves already.
    #[error("tree is full ({0} leaves)")]
    Full(u64),
    /// Stored levels whose sizes do not fit together.
    #[error("malformed tree: {0}")]
    Malformed(String),
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

    /// Whether `leaf` at this path hashes to `root` in a tree of depth [`DEPTH`].
    pub fn verify(&self, root: Fr, leaf: Fr) -> bool {
        self.verify_at_depth(root, leaf, DEPTH)
    }

    /// Whether `leaf` at this path hashes to `root` in a tree of depth `depth`.
    pub fn verify_at_depth(&self, root: Fr, leaf: Fr, depth: usize) -> bool {
        self.siblings.len() == depth
            && self.index.checked_shr(depth as u32).unwrap_or(0) == 0
            && self.root_from(leaf) == root
    }
}

/// One node that changed: what a store writes to persist the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeWrite {
    /// Level (0: leaves).
    pub level: u8,
    /// Position within the level.
    pub index: u64,
    /// The node's value.
    pub value: Fr,
}

/// The tree. `levels[0]` holds the leaves, `levels[DEPTH]` at most the root.
///
/// The tree math is pure: it records which nodes changed, and [`MerkleTree::take_writes`]
/// hands them to whoever persists them.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    levels: Vec<Vec<Fr>>,
    /// Leaves from this index on were appended since the last `take_writes`.
    dirty_from: Option<usize>,
    /// Leaves overwritten since the last `take_writes`.
    dirty_leaves: Vec<usize>,
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
            dirty_from: None,
            dirty_leaves: Vec::new(),
        }
    }

    /// A tree from stored levels (as persisted from [`MerkleTree::take_writes`]). Checks
    /// that the level sizes fit together; [`MerkleTree::check`] rehashes every node.
    pub fn from_levels(levels: Vec<Vec<Fr>>) -> Result<Self, TreeError> {
        if levels.len() != DEPTH + 1 {
            return Err(TreeError::Malformed(format!(
                "{} levels, expected {}",
                levels.len(),
                DEPTH + 1
            )));
        }
        if levels[0].len() as u64 > 1u64 << DEPTH {
            return Err(TreeError::Full(levels[0].len() as u64));
        }
        for l in 0..DEPTH {
            let expected = levels[l].len().div_ceil(2);
            if levels[l + 1].len() != expected {
                return Err(TreeError::Malformed(format!(
                    "level {} has {} nodes, expected {expected}",
                    l + 1,
                    levels[l + 1].len()
                )));
            }
        }
        Ok(Self {
            levels,
            dirty_from: None,
            dirty_leaves: Vec::new(),
        })
    }

    /// Rehashes every stored node; returns the first `(level, index)` that is not the
    /// hash of its children.
    pub fn check(&self) -> Result<(), (u8, u64)> {
        for l in 0..DEPTH {
            for (p, stored) in self.levels[l + 1].iter().enumerate() {
                if hash2(self.node(l, 2 * p), self.node(l, 2 * p + 1)) != *stored {
                    return Err(((l + 1) as u8, p as u64));
                }
            }
        }
        Ok(())
    }

    /// The nodes changed since the last call, each once, leaves first.
    pub fn take_writes(&mut self) -> Vec<NodeWrite> {
        let mut out = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        if let Some(first) = self.dirty_from.take() {
            let mut first = first;
            for l in 0..=DEPTH {
                for i in first..self.levels[l].len() {
                    seen.insert((l, i));
                }
                first /= 2;
            }
        }
        for leaf in std::mem::take(&mut self.dirty_leaves) {
            let mut i = leaf;
            for l in 0..=DEPTH {
                seen.insert((l, i));
                i /= 2;
            }
        }
        for (l, i) in seen {
            out.push(NodeWrite {
                level: l as u8,
                index: i as u64,
                value: self.levels[l][i],
            });
        }
        out
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
        let first = start as usize;
        self.dirty_from = Some(self.dirty_from.map_or(first, |d| d.min(first)));
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
        self.dirty_leaves.push(i);
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
            let children = &self.levels[l];
            let zero = zero_hashes()[l];
            let parent = |p: usize| {
                let child = |i: usize| children.get(i).copied().unwrap_or(zero);
                hash2(child(2 * p), child(2 * p + 1))
            };
            // A batch of leaves shares its upper levels; wide levels hash in parallel.
            let parents: Vec<Fr> = if parent_len - first_parent >= PARALLEL_MIN {
                use rayon::prelude::*;
                (first_parent..parent_len)
                    .into_par_iter()
                    .map(parent)
                    .collect()
            } else {
                (first_parent..parent_len).map(parent).collect()
            };
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
    fn writes_rebuild_the_same_tree() {
        let mut t = MerkleTree::new();
        let mut stored: Vec<Vec<Fr>> = vec![Vec::new(); DEPTH + 1];
        let mut persist = |t: &mut MerkleTree| {
            for w in t.take_writes() {
                let level = &mut stored[w.level as usize];
                let i = w.index as usize;
                if i == level.len() {
                    level.push(w.value);
                } else {
                    level[i] = w.value;
                }
            }
            MerkleTree::from_levels(stored.clone()).unwrap()
        };
        t.extend(&(1..=5u64).map(Fr::from).collect::<Vec<_>>())
            .unwrap();
        assert_eq!(persist(&mut t).root(), t.root());
        t.push(Fr::from(6u64)).unwrap();
        t.set(1, Fr::zero()).unwrap();
        let reloaded = persist(&mut t);
        assert_eq!(reloaded.root(), t.root());
        assert!(reloaded.check().is_ok());
        assert!(t.take_writes().is_empty());
    }

    #[test]
    fn from_levels_refuses_bad_shapes_and_check_finds_bad_nodes() {
        let mut t = MerkleTree::new();
        t.extend(&(1..=3u64).map(Fr::from).collect::<Vec<_>>())
            .unwrap();
        let mut levels = t.levels.clone();
        levels[1].pop();
        assert!(matches!(
            MerkleTree::from_levels(levels),
            Err(TreeError::Malformed(_))
        ));
        let mut levels = t.levels.clone();
        levels[2][0] += Fr::from(1u64);
        assert_eq!(
            MerkleTree::from_levels(levels).unwrap().check(),
            Err((2, 0))
        );
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

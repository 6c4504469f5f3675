//! An append-only Poseidon Merkle tree of fixed shape, sparse to the right.
//!
//! A node has [`TreeShape::arity`] children (4 for the ledger's trees) and hashes them
//! with circomlib's `Poseidon(arity)`: `H(c_0, .., c_{arity-1})`, children left to right.
//! Leaves are numbered in the order they are appended; leaf `i` sits under digit `l` of
//! `i` in base `arity` at level `l` (level 0: the leaves). Only the nodes over existing
//! leaves are stored (about `1 / (arity - 1)` of a node per leaf above the leaves);
//! every subtree to the right of the last leaf is empty and stands in as a precomputed
//! zero-subtree hash. A leaf can be overwritten (a revocation empties a consent's leaf),
//! never removed. Empty leaves are 0.
//!
//! **Path format.** A [`MerklePath`] is the leaf's `index` and, for each level from the
//! leaves up, the `arity - 1` other children of the node's parent, left to right (the
//! node itself left out). With `d` the index's digit at that level, the parent is the
//! hash of the siblings with the node inserted at position `d`. This is the format of
//! `medproof ledger path`, `GET /v1/paths/{commitment}` and the prover's witness.

use std::sync::{Mutex, PoisonError};

use ark_bn254::Fr;
use ark_ff::Zero;

use crate::poseidon;

pub mod constraints;

/// How a tree is built: children per node and levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TreeShape {
    arity: usize,
    depth: usize,
}

/// The ledger's records and consents trees: 4-ary, 16 levels, room for 2^32 leaves.
pub const LEDGER_TREE: TreeShape = TreeShape::new(4, 16);
/// The binary tree of the same capacity that the ledger used up to storage format 5,
/// kept for comparisons (benchmarks, and the arity tests).
pub const BINARY_TREE: TreeShape = TreeShape::new(2, 32);
/// An 8-ary tree of at least the same capacity (2^33), measured beside the 4-ary one.
pub const OCTAL_TREE: TreeShape = TreeShape::new(8, 11);

/// Largest arity: circomlib's Poseidon takes at most 16 inputs.
const MAX_ARITY: usize = 16;

impl TreeShape {
    /// A tree of `arity` children per node (a power of two, 2 to 16) and `depth` levels
    /// above the leaves, holding at most 2^63 leaves.
    ///
    /// # Panics
    /// On any other arity or depth: shapes are fixed by the code, never by input.
    pub const fn new(arity: usize, depth: usize) -> Self {
        assert!(
            arity.is_power_of_two() && arity >= 2 && arity <= MAX_ARITY,
            "tree arity must be a power of two in 2..=16"
        );
        assert!(
            depth >= 1 && (arity.trailing_zeros() as usize) * depth <= 63,
            "tree depth out of range"
        );
        Self { arity, depth }
    }

    /// Children per node.
    pub const fn arity(self) -> usize {
        self.arity
    }

    /// Levels above the leaves.
    pub const fn depth(self) -> usize {
        self.depth
    }

    /// Bits of the leaf index per level (`log2(arity)`).
    pub const fn bits(self) -> u32 {
        self.arity.trailing_zeros()
    }

    /// Number of leaves the tree holds: `arity^depth`.
    pub const fn capacity(self) -> u64 {
        1 << (self.bits() as usize * self.depth)
    }

    /// The position of leaf `index`'s ancestor at `level` among its siblings.
    pub const fn digit(self, index: u64, level: usize) -> usize {
        ((index >> (self.bits() as usize * level)) as usize) & (self.arity - 1)
    }

    /// `zero_hashes()[l]` is the root of an empty subtree of height `l`, for
    /// `l` in `0..=depth`. Computed once per shape.
    pub fn zero_hashes(self) -> &'static [Fr] {
        type Cache = Vec<(TreeShape, &'static [Fr])>;
        static ZEROS: Mutex<Cache> = Mutex::new(Vec::new());
        let mut cache = ZEROS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, z)) = cache.iter().find(|(s, _)| *s == self) {
            return z;
        }
        let mut z = vec![Fr::zero(); self.depth + 1];
        for l in 0..self.depth {
            z[l + 1] = node_hash(&vec![z[l]; self.arity]);
        }
        // One small array per shape the code names, kept for the process's life.
        let z: &'static [Fr] = Vec::leak(z);
        cache.push((self, z));
        z
    }
}

/// A node: circomlib's `Poseidon(n)` of its `n` children, left to right.
#[inline]
pub fn node_hash(children: &[Fr]) -> Fr {
    poseidon::hash(children)
}

/// Levels with at least this many nodes to rehash are hashed in parallel.
const PARALLEL_MIN: usize = 64;

/// What can go wrong with a tree operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// The tree holds its capacity of leaves already.
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

/// The authentication path of one leaf (see the module's path format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerklePath {
    /// The leaf's position; its base-`arity` digit `l` places the node at level `l`.
    pub index: u64,
    /// For each level from the leaves up, the other `arity - 1` children, left to right.
    pub siblings: Vec<Vec<Fr>>,
}

impl MerklePath {
    /// Whether the path has `shape`: `depth` levels of `arity - 1` siblings each, and an
    /// index below the capacity.
    pub fn has_shape(&self, shape: TreeShape) -> bool {
        self.siblings.len() == shape.depth
            && self.siblings.iter().all(|s| s.len() == shape.arity - 1)
            && self.index < shape.capacity()
    }

    /// The root obtained by hashing `leaf` up this path in a tree of `shape`, or `None`
    /// if the path does not have that shape.
    pub fn root_in(&self, shape: TreeShape, leaf: Fr) -> Option<Fr> {
        if !self.has_shape(shape) {
            return None;
        }
        let mut children = [Fr::zero(); MAX_ARITY];
        let children = &mut children[..shape.arity];
        let root = self
            .siblings
            .iter()
            .enumerate()
            .fold(leaf, |node, (l, sibs)| {
                let d = shape.digit(self.index, l);
                children[..d].copy_from_slice(&sibs[..d]);
                children[d] = node;
                children[d + 1..].copy_from_slice(&sibs[d..]);
                node_hash(children)
            });
        Some(root)
    }

    /// Whether `leaf` at this path hashes to `root` in a tree of the ledger's shape.
    pub fn verify(&self, root: Fr, leaf: Fr) -> bool {
        self.verify_in(LEDGER_TREE, root, leaf)
    }

    /// Whether `leaf` at this path hashes to `root` in a tree of `shape`.
    pub fn verify_in(&self, shape: TreeShape, root: Fr, leaf: Fr) -> bool {
        self.root_in(shape, leaf) == Some(root)
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

/// The tree. `levels[0]` holds the leaves, `levels[depth]` at most the root.
///
/// The tree math is pure: it records which nodes changed, and [`MerkleTree::take_writes`]
/// hands them to whoever persists them.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    shape: TreeShape,
    zeros: &'static [Fr],
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
    /// An empty tree of the ledger's shape.
    pub fn new() -> Self {
        Self::with_shape(LEDGER_TREE)
    }

    /// An empty tree of `shape`.
    pub fn with_shape(shape: TreeShape) -> Self {
        Self {
            shape,
            zeros: shape.zero_hashes(),
            levels: vec![Vec::new(); shape.depth + 1],
            dirty_from: None,
            dirty_leaves: Vec::new(),
        }
    }

    /// A tree of `shape` from stored levels (as persisted from
    /// [`MerkleTree::take_writes`]). Checks that the level sizes fit together;
    /// [`MerkleTree::check`] rehashes every node.
    pub fn from_levels(shape: TreeShape, levels: Vec<Vec<Fr>>) -> Result<Self, TreeError> {
        if levels.len() != shape.depth + 1 {
            return Err(TreeError::Malformed(format!(
                "{} levels, expected {}",
                levels.len(),
                shape.depth + 1
            )));
        }
        if levels[0].len() as u64 > shape.capacity() {
            return Err(TreeError::Full(levels[0].len() as u64));
        }
        for l in 0..shape.depth {
            let expected = levels[l].len().div_ceil(shape.arity);
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
            ..Self::with_shape(shape)
        })
    }

    /// The tree's shape.
    pub fn shape(&self) -> TreeShape {
        self.shape
    }

    /// Rehashes every stored node; returns the first `(level, index)` that is not the
    /// hash of its children.
    pub fn check(&self) -> Result<(), (u8, u64)> {
        for l in 0..self.shape.depth {
            for (p, stored) in self.levels[l + 1].iter().enumerate() {
                if self.parent(l, p) != *stored {
                    return Err(((l + 1) as u8, p as u64));
                }
            }
        }
        Ok(())
    }

    /// The nodes changed since the last call, each once, leaves first.
    pub fn take_writes(&mut self) -> Vec<NodeWrite> {
        let arity = self.shape.arity;
        let mut seen = std::collections::BTreeSet::new();
        if let Some(mut first) = self.dirty_from.take() {
            for l in 0..=self.shape.depth {
                for i in first..self.levels[l].len() {
                    seen.insert((l, i));
                }
                first /= arity;
            }
        }
        for mut i in std::mem::take(&mut self.dirty_leaves) {
            for l in 0..=self.shape.depth {
                seen.insert((l, i));
                i /= arity;
            }
        }
        seen.into_iter()
            .map(|(l, i)| NodeWrite {
                level: l as u8,
                index: i as u64,
                value: self.levels[l][i],
            })
            .collect()
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
        self.node(self.shape.depth, 0)
    }

    /// The leaf at `index`.
    pub fn leaf(&self, index: u64) -> Option<Fr> {
        self.levels[0].get(usize::try_from(index).ok()?).copied()
    }

    /// The leaves, in order.
    pub fn leaves(&self) -> &[Fr] {
        &self.levels[0]
    }

    fn node(&self, level: usize, index: usize) -> Fr {
        self.levels[level]
            .get(index)
            .copied()
            .unwrap_or(self.zeros[level])
    }

    /// The hash of the children of node `p` at level `l + 1`.
    fn parent(&self, l: usize, p: usize) -> Fr {
        let arity = self.shape.arity;
        let mut children = [Fr::zero(); MAX_ARITY];
        for (c, slot) in children[..arity].iter_mut().enumerate() {
            *slot = self.node(l, p * arity + c);
        }
        node_hash(&children[..arity])
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
        if start + leaves.len() as u64 > self.shape.capacity() {
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
        let mut i = usize::try_from(index)
            .ok()
            .filter(|&i| (i as u64) < len)
            .ok_or(TreeError::NoSuchLeaf { index, len })?;
        self.levels[0][i] = leaf;
        self.dirty_leaves.push(i);
        for l in 0..self.shape.depth {
            i /= self.shape.arity;
            self.levels[l + 1][i] = self.parent(l, i);
        }
        Ok(())
    }

    /// Recomputes every node over leaves `first..` on every level.
    fn rehash_from(&mut self, first: usize) {
        let arity = self.shape.arity;
        let mut first = first;
        for l in 0..self.shape.depth {
            let child_len = self.levels[l].len();
            if child_len == 0 {
                return;
            }
            let first_parent = first / arity;
            let parent_len = child_len.div_ceil(arity);
            let parent = |p: usize| self.parent(l, p);
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
        let arity = self.shape.arity;
        let siblings = (0..self.shape.depth)
            .map(|l| {
                let node = (index >> (self.shape.bits() as usize * l)) as usize;
                let first = node - node % arity;
                (first..first + arity)
                    .filter(|&i| i != node)
                    .map(|i| self.node(l, i))
                    .collect()
            })
            .collect();
        Ok(MerklePath { index, siblings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPES: [TreeShape; 3] = [LEDGER_TREE, BINARY_TREE, OCTAL_TREE];

    /// Root of a dense tree of `shape` over `leaves` padded with zeros, the naive way.
    fn naive_root(shape: TreeShape, leaves: &[Fr]) -> Fr {
        let zeros = shape.zero_hashes();
        let mut level: Vec<Fr> = leaves.to_vec();
        for zero in &zeros[..shape.depth()] {
            if level.is_empty() {
                return zeros[shape.depth()];
            }
            level.resize(level.len().next_multiple_of(shape.arity()), *zero);
            level = level.chunks(shape.arity()).map(node_hash).collect();
        }
        level.first().copied().unwrap_or(zeros[shape.depth()])
    }

    #[test]
    fn shapes_hold_two_to_the_32_and_zeros_chain() {
        assert_eq!(LEDGER_TREE.capacity(), 1 << 32);
        assert_eq!(BINARY_TREE.capacity(), 1 << 32);
        assert_eq!(OCTAL_TREE.capacity(), 1 << 33);
        assert_eq!(LEDGER_TREE.digit(0b11_10_01, 0), 1);
        assert_eq!(LEDGER_TREE.digit(0b11_10_01, 2), 3);
        for shape in SHAPES {
            let z = shape.zero_hashes();
            assert_eq!(z.len(), shape.depth() + 1);
            assert_eq!(z[1], node_hash(&vec![Fr::zero(); shape.arity()]));
            assert!(std::ptr::eq(z, shape.zero_hashes()), "computed once");
        }
    }

    #[test]
    fn empty_tree_root_is_zero_subtree() {
        for shape in SHAPES {
            let t = MerkleTree::with_shape(shape);
            assert_eq!(t.root(), shape.zero_hashes()[shape.depth()]);
            assert_eq!(t.path(0), Err(TreeError::NoSuchLeaf { index: 0, len: 0 }));
        }
    }

    #[test]
    fn push_extend_and_naive_agree() {
        let leaves: Vec<Fr> = (1..=21u64).map(Fr::from).collect();
        for shape in SHAPES {
            let mut one_by_one = MerkleTree::with_shape(shape);
            for x in &leaves {
                one_by_one.push(*x).unwrap();
                let n = one_by_one.len() as usize;
                assert_eq!(one_by_one.root(), naive_root(shape, &leaves[..n]));
            }
            let mut batched = MerkleTree::with_shape(shape);
            batched.extend(&leaves[..5]).unwrap();
            batched.extend(&leaves[5..]).unwrap();
            assert_eq!(batched.root(), one_by_one.root());
            for (i, leaf) in leaves.iter().enumerate() {
                let path = batched.path(i as u64).unwrap();
                assert!(path.has_shape(shape));
                assert!(path.verify_in(shape, batched.root(), *leaf));
                assert!(!path.verify_in(shape, batched.root(), *leaf + Fr::from(1u64)));
            }
        }
    }

    #[test]
    fn a_path_is_checked_against_its_shape() {
        let mut t = MerkleTree::new();
        t.extend(&(1..=6u64).map(Fr::from).collect::<Vec<_>>())
            .unwrap();
        let (root, leaf) = (t.root(), Fr::from(6u64));
        let path = t.path(5).unwrap();
        assert!(path.verify(root, leaf));
        assert_eq!(path.siblings.len(), 16);
        assert_eq!(
            path.siblings[0],
            vec![Fr::from(5u64), Fr::zero(), Fr::zero()]
        );
        assert!(!path.verify_in(BINARY_TREE, root, leaf));
        let mut short = path.clone();
        short.siblings.pop();
        assert_eq!(short.root_in(LEDGER_TREE, leaf), None);
        let mut wide = path.clone();
        wide.siblings[3].push(Fr::zero());
        assert_eq!(wide.root_in(LEDGER_TREE, leaf), None);
        let mut beyond = path.clone();
        beyond.index += LEDGER_TREE.capacity();
        assert_eq!(beyond.root_in(LEDGER_TREE, leaf), None);
        // Siblings in another order, or the node at another position, miss the root.
        let mut permuted = path.clone();
        permuted.siblings[0].swap(0, 1);
        assert!(!permuted.verify(root, leaf));
        let mut moved = path;
        moved.index ^= 0b10;
        assert!(!moved.verify(root, leaf));
    }

    #[test]
    fn a_full_tree_refuses_more() {
        let small = TreeShape::new(4, 2);
        let mut t = MerkleTree::with_shape(small);
        t.extend(&vec![Fr::from(1u64); 15]).unwrap();
        assert_eq!(t.push(Fr::from(2u64)), Ok(15));
        assert_eq!(t.push(Fr::from(3u64)), Err(TreeError::Full(16)));
        assert!(t
            .path(15)
            .unwrap()
            .verify_in(small, t.root(), Fr::from(2u64)));
    }

    #[test]
    fn set_updates_root_and_paths() {
        let leaves: Vec<Fr> = (1..=11u64).map(Fr::from).collect();
        for shape in SHAPES {
            let mut t = MerkleTree::with_shape(shape);
            t.extend(&leaves).unwrap();
            t.set(2, Fr::zero()).unwrap();
            let mut expected = leaves.clone();
            expected[2] = Fr::zero();
            assert_eq!(t.root(), naive_root(shape, &expected));
            assert!(!t.path(2).unwrap().verify_in(shape, t.root(), leaves[2]));
            assert!(t.path(9).unwrap().verify_in(shape, t.root(), leaves[9]));
            assert!(matches!(
                t.set(11, Fr::zero()),
                Err(TreeError::NoSuchLeaf { .. })
            ));
        }
    }

    #[test]
    fn writes_rebuild_the_same_tree() {
        for shape in SHAPES {
            let mut t = MerkleTree::with_shape(shape);
            let mut stored: Vec<Vec<Fr>> = vec![Vec::new(); shape.depth() + 1];
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
                MerkleTree::from_levels(shape, stored.clone()).unwrap()
            };
            t.extend(&(1..=9u64).map(Fr::from).collect::<Vec<_>>())
                .unwrap();
            assert_eq!(persist(&mut t).root(), t.root());
            t.push(Fr::from(10u64)).unwrap();
            t.set(1, Fr::zero()).unwrap();
            let reloaded = persist(&mut t);
            assert_eq!(reloaded.root(), t.root());
            assert!(reloaded.check().is_ok());
            assert!(t.take_writes().is_empty());
        }
    }

    #[test]
    fn from_levels_refuses_bad_shapes_and_check_finds_bad_nodes() {
        let mut t = MerkleTree::new();
        t.extend(&(1..=5u64).map(Fr::from).collect::<Vec<_>>())
            .unwrap();
        let mut levels = t.levels.clone();
        levels[1].pop();
        assert!(matches!(
            MerkleTree::from_levels(LEDGER_TREE, levels),
            Err(TreeError::Malformed(_))
        ));
        assert!(matches!(
            MerkleTree::from_levels(BINARY_TREE, t.levels.clone()),
            Err(TreeError::Malformed(_))
        ));
        let mut levels = t.levels.clone();
        levels[2][0] += Fr::from(1u64);
        assert_eq!(
            MerkleTree::from_levels(LEDGER_TREE, levels)
                .unwrap()
                .check(),
            Err((2, 0))
        );
    }
}

//! A policy's covered-codes set: a Poseidon Merkle tree of depth 16 (room for 65,536
//! procedure codes) whose root is sealed in the policy commitment.
//!
//! Leaves are the codes as field elements ([`crate::commit::procedure_code`]), sorted
//! and without duplicates, then padded with empty (0) leaves; nodes are `H(left, right)`
//! as in the ledger's trees. A code is never 0, and the claim circuit enforces that, so
//! an empty leaf proves nothing.

use ark_bn254::Fr;

use crate::commit::{procedure_code, CodeError};
use crate::merkle::{zero_hashes, MerklePath};
use crate::poseidon::hash2;

/// Depth of a covered-codes tree.
pub const CODES_DEPTH: usize = 16;

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
    /// `levels[0]`: the sorted codes; `levels[CODES_DEPTH]`: the root.
    levels: Vec<Vec<Fr>>,
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
        if codes.len() > 1 << CODES_DEPTH {
            return Err(CodeSetError::TooMany(codes.len()));
        }
        let mut levels = vec![codes];
        for l in 0..CODES_DEPTH {
            let below = &levels[l];
            let zero = zero_hashes()[l];
            let next = below
                .chunks(2)
                .map(|c| hash2(c[0], c.get(1).copied().unwrap_or(zero)))
                .collect();
            levels.push(next);
        }
        Ok(Self { levels })
    }

    /// The tree's root, sealed in the policy commitment.
    pub fn root(&self) -> Fr {
        self.levels[CODES_DEPTH]
            .first()
            .copied()
            .unwrap_or(zero_hashes()[CODES_DEPTH])
    }

    /// Number of codes.
    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The path of `code`, if it is covered.
    pub fn path(&self, code: Fr) -> Option<MerklePath> {
        let index = self.levels[0].binary_search(&code).ok()?;
        let siblings = (0..CODES_DEPTH)
            .map(|l| {
                let sib = (index >> l) ^ 1;
                self.levels[l].get(sib).copied().unwrap_or(zero_hashes()[l])
            })
            .collect();
        Some(MerklePath {
            index: index as u64,
            siblings,
        })
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
            assert!(path.verify_at_depth(set.root(), code, CODES_DEPTH));
            assert!(!path.verify(set.root(), code), "depth matters");
        }
        assert!(set.path(procedure_code("99215").unwrap()).is_none());
        // The root depends on the set.
        let other = CodeSet::new(&["99213", "99214"]).unwrap();
        assert_ne!(other.root(), set.root());
        assert!(CodeSet::new(&["ok", ""]).is_err());
    }
}

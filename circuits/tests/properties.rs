//! Properties over random inputs: the tree's batched and one-by-one appends agree and
//! every path verifies; canonical decimal encoding round-trips.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ark_bn254::Fr;
use ark_ff::PrimeField;
use medproof_circuits::merkle::MerkleTree;
use medproof_statement::{fr_from_decimal, fr_to_decimal};
use proptest::prelude::*;

fn fr(bytes: [u8; 32]) -> Fr {
    Fr::from_le_bytes_mod_order(&bytes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn extend_in_chunks_equals_push(leaves in prop::collection::vec(any::<[u8; 32]>(), 1..40), split in 0usize..40) {
        let leaves: Vec<Fr> = leaves.into_iter().map(fr).collect();
        let split = split.min(leaves.len());
        let mut a = MerkleTree::new();
        for x in &leaves {
            a.push(*x).unwrap();
        }
        let mut b = MerkleTree::new();
        b.extend(&leaves[..split]).unwrap();
        b.extend(&leaves[split..]).unwrap();
        prop_assert_eq!(a.root(), b.root());
        for (i, x) in leaves.iter().enumerate() {
            prop_assert!(b.path(i as u64).unwrap().verify(b.root(), *x));
        }
    }

    #[test]
    fn decimal_roundtrip(bytes in any::<[u8; 32]>()) {
        let x = fr(bytes);
        let s = fr_to_decimal(&x);
        prop_assert_eq!(fr_from_decimal(&s), Ok(x));
    }
}

//! Range checks and comparisons of 64-bit integers (timestamps, amounts) in the field.
//!
//! Native twins of the gadgets in [`constraints`]: a value is a `u64` if it is below
//! 2^64, and `a <= b` for two `u64`s is decided on integers. In the circuit, a full-field
//! comparison costs about 1,900 constraints; knowing both sides are below 2^64 it costs
//! one 64-bit decomposition of `b - a` (65 constraints), since for `a > b` that
//! difference wraps to above `p - 2^64`, which has no 64-bit decomposition.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};

pub mod constraints;

/// Number of bits of the integers compared.
pub const BITS: usize = 64;

/// The field element as a `u64`, if it is one.
pub fn as_u64(x: &Fr) -> Option<u64> {
    let b = x.into_bigint();
    if b.num_bits() as usize > BITS {
        return None;
    }
    Some(b.0[0])
}

/// `a <= b` on integers: the relation [`constraints::enforce_le_u64`] enforces.
pub fn le_u64(a: u64, b: u64) -> bool {
    a <= b
}

//! medproof's statements and the gadgets they are built from.
#![forbid(unsafe_code)]
pub mod poseidon;

//! Canonical decimal encoding of BN254 scalar field elements.
//!
//! A public input travels as a decimal string. It is accepted only in its canonical form:
//! digits only, no sign, no leading zeros, and strictly below the field modulus. A value
//! at or above the modulus is an error, never silently reduced: two different strings
//! must never name the same statement.

use ark_ff::{BigInteger, PrimeField};
use num_bigint::BigUint;

use crate::Fr;

/// Why a string is not a canonical field element.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// The string is empty.
    #[error("empty string is not a field element")]
    Empty,
    /// A character other than an ASCII digit.
    #[error("not a decimal number (only the digits 0-9 are allowed)")]
    NotDecimal,
    /// A leading zero in a number other than `0`.
    #[error("leading zeros are not canonical")]
    LeadingZero,
    /// The value is at or above the BN254 scalar field modulus.
    #[error("value is not below the BN254 scalar field modulus")]
    NotBelowModulus,
}

/// Longest decimal string worth parsing: the modulus has 77 digits.
const MAX_DIGITS: usize = 78;

/// Parses a canonical decimal string into a field element.
pub fn fr_from_decimal(s: &str) -> Result<Fr, FieldError> {
    if s.is_empty() {
        return Err(FieldError::Empty);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::NotDecimal);
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(FieldError::LeadingZero);
    }
    if s.len() > MAX_DIGITS {
        return Err(FieldError::NotBelowModulus);
    }
    let value = BigUint::parse_bytes(s.as_bytes(), 10).ok_or(FieldError::NotDecimal)?;
    let modulus: BigUint = Fr::MODULUS.into();
    if value >= modulus {
        return Err(FieldError::NotBelowModulus);
    }
    Ok(Fr::from(value))
}

/// Writes a field element as its canonical decimal string.
pub fn fr_to_decimal(x: &Fr) -> String {
    BigUint::from_bytes_le(&x.into_bigint().to_bytes_le()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The BN254 scalar field modulus r, as published in EIP-196/197.
    const MODULUS: &str =
        "21888242871839275222246405745257275088548364400416034343698204186575808495617";

    #[test]
    fn roundtrip_and_edges() {
        assert_eq!(fr_from_decimal("0"), Ok(Fr::from(0u64)));
        assert_eq!(fr_from_decimal("12345"), Ok(Fr::from(12345u64)));
        let max = "21888242871839275222246405745257275088548364400416034343698204186575808495616";
        let x = fr_from_decimal(max).expect("r - 1 is canonical");
        assert_eq!(x, -Fr::from(1u64));
        assert_eq!(fr_to_decimal(&x), max);
    }

    #[test]
    fn rejects_non_canonical() {
        assert_eq!(fr_from_decimal(MODULUS), Err(FieldError::NotBelowModulus));
        let above = "21888242871839275222246405745257275088548364400416034343698204186575808495618";
        assert_eq!(fr_from_decimal(above), Err(FieldError::NotBelowModulus));
        assert_eq!(
            fr_from_decimal(&"9".repeat(200)),
            Err(FieldError::NotBelowModulus)
        );
        assert_eq!(fr_from_decimal(""), Err(FieldError::Empty));
        assert_eq!(fr_from_decimal("-1"), Err(FieldError::NotDecimal));
        assert_eq!(fr_from_decimal("+1"), Err(FieldError::NotDecimal));
        assert_eq!(fr_from_decimal(" 1"), Err(FieldError::NotDecimal));
        assert_eq!(fr_from_decimal("0x10"), Err(FieldError::NotDecimal));
        assert_eq!(fr_from_decimal("007"), Err(FieldError::LeadingZero));
    }
}

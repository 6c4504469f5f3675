//! The canonical binary encoding of ledger entries: fixed-width big-endian integers,
//! 32-byte field elements (big-endian, canonical), length-prefixed byte strings. One
//! value has exactly one encoding, and decoding refuses anything else (a non-canonical
//! field element, an unknown tag, a truncated or over-long input).

use ark_ff::PrimeField;
use medproof_verifier::checkpoint::fr_to_be32;
use medproof_verifier::Fr;

/// Why bytes are not a canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended early.
    #[error("truncated")]
    Truncated,
    /// Bytes left over after the value.
    #[error("{0} trailing bytes")]
    Trailing(usize),
    /// A field element at or above the modulus.
    #[error("non-canonical field element in `{0}`")]
    NonCanonical(&'static str),
    /// An unknown tag or version.
    #[error("unknown {what} {value}")]
    Unknown {
        /// What the byte was supposed to name.
        what: &'static str,
        /// The byte.
        value: u8,
    },
    /// A length above the limit.
    #[error("`{0}` is too long")]
    TooLong(&'static str),
    /// A list that names one item twice.
    #[error("`{0}` names an item twice")]
    Duplicate(&'static str),
}

/// Writes the canonical encoding.
#[derive(Debug, Default)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    /// One byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    /// A big-endian u64.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Raw fixed-size bytes.
    pub fn raw(&mut self, v: &[u8]) -> &mut Self {
        self.0.extend_from_slice(v);
        self
    }
    /// A field element, 32 bytes big-endian.
    pub fn fr(&mut self, v: &Fr) -> &mut Self {
        self.raw(&fr_to_be32(v))
    }
    /// A byte string with a u32 big-endian length prefix.
    pub fn var(&mut self, v: &[u8]) -> &mut Self {
        let len = u32::try_from(v.len()).expect("byte strings are capped far below 4 GiB");
        self.0.extend_from_slice(&len.to_be_bytes());
        self.raw(v)
    }
}

/// Reads the canonical encoding.
#[derive(Debug)]
pub struct Reader<'a>(pub &'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    /// A big-endian u64.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let b: [u8; 8] = self
            .take(8)?
            .try_into()
            .map_err(|_| DecodeError::Truncated)?;
        Ok(u64::from_be_bytes(b))
    }
    /// `N` raw bytes.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        self.take(N)?.try_into().map_err(|_| DecodeError::Truncated)
    }
    /// A canonical field element.
    pub fn fr(&mut self, name: &'static str) -> Result<Fr, DecodeError> {
        let b: [u8; 32] = self.array()?;
        fr_from_be32(&b).ok_or(DecodeError::NonCanonical(name))
    }
    /// A length-prefixed byte string of at most `max` bytes.
    pub fn var(&mut self, name: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = u32::from_be_bytes(self.array()?) as usize;
        if len > max {
            return Err(DecodeError::TooLong(name));
        }
        self.take(len)
    }
    /// Fails if anything is left.
    pub fn end(&self) -> Result<(), DecodeError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing(self.0.len()))
        }
    }
}

/// Decodes a 32-byte big-endian field element, refusing values at or above the modulus.
pub fn fr_from_be32(b: &[u8; 32]) -> Option<Fr> {
    let x = Fr::from_be_bytes_mod_order(b);
    (fr_to_be32(&x) == *b).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_refusals() {
        let mut w = Writer::default();
        w.u8(7).u64(1 << 40).fr(&Fr::from(99u64)).var(b"abc");
        let mut r = Reader(&w.0);
        assert_eq!(r.u8(), Ok(7));
        assert_eq!(r.u64(), Ok(1 << 40));
        assert_eq!(r.fr("x"), Ok(Fr::from(99u64)));
        assert_eq!(r.var("v", 3), Ok(&b"abc"[..]));
        assert_eq!(r.end(), Ok(()));
        assert_eq!(Reader(&w.0[..5]).u64(), Err(DecodeError::Truncated));
        assert_eq!(fr_from_be32(&[0xff; 32]), None);
        let mut long = Writer::default();
        long.var(b"abcd");
        assert_eq!(Reader(&long.0).var("v", 3), Err(DecodeError::TooLong("v")));
    }
}

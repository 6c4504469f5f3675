//! circom's binary files, so that the tools of the circom ecosystem (snarkjs for a
//! phase-2 ceremony, `snarkjs wtns check`, `snarkjs r1cs info`) read medproof's
//! constraint systems as they are: `.r1cs` (a constraint system) and `.wtns` (a full
//! assignment).
//!
//! Both are iden3 binary containers: a 4-byte magic, a version (u32), a section count
//! (u32), then sections of `type (u32) | size (u64) | bytes`; integers little-endian,
//! field elements as 32 bytes little-endian in standard (not Montgomery) form.
//!
//! The wire order is medproof's variable order, which the keys use: wire 0 is the
//! constant 1, wires `1..num_instance` the public inputs in the order of the statement's
//! typed inputs, then the witness variables. The public inputs are declared as circom's
//! public inputs (no outputs, no private inputs: a circom "private input" is only a
//! label for the witness generator, which medproof does not use).

use std::io::{self, Read, Write};

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use medproof_circuits::shape::{Assignment, CircuitShape};

const R1CS_MAGIC: &[u8; 4] = b"r1cs";
const WTNS_MAGIC: &[u8; 4] = b"wtns";
const R1CS_VERSION: u32 = 1;
const WTNS_VERSION: u32 = 2;
const FIELD_BYTES: u32 = 32;

/// A `.r1cs` or `.wtns` file that cannot be read as medproof's.
#[derive(Debug, thiserror::Error)]
pub enum CircomError {
    /// Reading failed.
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    /// Not the file it should be, or not for BN254's scalar field.
    #[error("not a circom {what} file for BN254: {why}")]
    Format {
        /// `r1cs` or `wtns`.
        what: &'static str,
        /// What is wrong.
        why: String,
    },
}

fn format(what: &'static str, why: impl Into<String>) -> CircomError {
    CircomError::Format {
        what,
        why: why.into(),
    }
}

fn modulus_le() -> Vec<u8> {
    Fr::MODULUS.to_bytes_le()
}

fn fr_le(x: &Fr) -> Vec<u8> {
    x.into_bigint().to_bytes_le()
}

/// One section: its type, then its length, then its bytes.
fn section(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
}

pub(crate) fn container(magic: &[u8; 4], version: u32, sections: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(magic);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    for (kind, body) in sections {
        section(&mut out, *kind, body);
    }
    out
}

fn u32_of(n: usize, what: &'static str) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| io::Error::other(format!("{what} {n} does not fit in 32 bits")))
}

/// Writes `shape` as circom's `.r1cs` (version 1: header, constraints, wire-to-label
/// map with label = wire).
pub fn write_r1cs(shape: &CircuitShape, mut w: impl Write) -> io::Result<()> {
    let wires = shape.num_instance + shape.num_witness;
    let mut header = Vec::new();
    header.extend_from_slice(&FIELD_BYTES.to_le_bytes());
    header.extend_from_slice(&modulus_le());
    header.extend_from_slice(&u32_of(wires, "wires")?.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes()); // public outputs
    header.extend_from_slice(&u32_of(shape.num_instance - 1, "public inputs")?.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes()); // private inputs
    header.extend_from_slice(&(wires as u64).to_le_bytes()); // labels
    header.extend_from_slice(&u32_of(shape.num_constraints, "constraints")?.to_le_bytes());

    let mut constraints = Vec::new();
    let [a, b, c] = &shape.matrices;
    for i in 0..shape.num_constraints {
        for m in [a, b, c] {
            let row = m.get(i).map(Vec::as_slice).unwrap_or_default();
            constraints.extend_from_slice(&u32_of(row.len(), "terms")?.to_le_bytes());
            for (coeff, wire) in row {
                constraints.extend_from_slice(&u32_of(*wire, "wire")?.to_le_bytes());
                constraints.extend_from_slice(&fr_le(coeff));
            }
        }
    }
    let labels: Vec<u8> = (0..wires as u64).flat_map(u64::to_le_bytes).collect();
    w.write_all(&container(
        R1CS_MAGIC,
        R1CS_VERSION,
        &[(1, header), (2, constraints), (3, labels)],
    ))
}

/// Writes a full assignment (`[1, public inputs.., witness..]`) as snarkjs's `.wtns`
/// (version 2).
pub fn write_wtns(z: &Assignment, mut w: impl Write) -> io::Result<()> {
    let mut header = Vec::new();
    header.extend_from_slice(&FIELD_BYTES.to_le_bytes());
    header.extend_from_slice(&modulus_le());
    header.extend_from_slice(&u32_of(z.0.len(), "witness values")?.to_le_bytes());
    let values: Vec<u8> = z.0.iter().flat_map(fr_le).collect();
    w.write_all(&container(
        WTNS_MAGIC,
        WTNS_VERSION,
        &[(1, header), (2, values)],
    ))
}

/// A constraint system read from a `.r1cs`: sizes and the three matrices, as
/// [`CircuitShape`] holds them (its digest recomputed from what was read).
pub fn read_r1cs(mut r: impl Read) -> Result<CircuitShape, CircomError> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)?;
    let what = "r1cs";
    let sections = read_container(&bytes, R1CS_MAGIC, R1CS_VERSION, what)?;
    let find = |kind: u32| one_section(&sections, kind, what);
    let mut h = Cursor::new(find(1)?, what);
    h.bn254_field()?;
    let wires = h.u32()? as usize;
    let (outputs, inputs, private) = (h.u32()?, h.u32()? as usize, h.u32()?);
    let _labels = h.u64()?;
    let m = h.u32()? as usize;
    if outputs != 0 || private != 0 {
        return Err(format(
            what,
            "medproof's systems declare public inputs only (no outputs, no private inputs)",
        ));
    }
    if inputs >= wires {
        return Err(format(what, "more public inputs than wires"));
    }
    let mut c = Cursor::new(find(2)?, what);
    let mut matrices: [Vec<Vec<(Fr, usize)>>; 3] = Default::default();
    for _ in 0..m {
        for matrix in &mut matrices {
            let n = c.u32()? as usize;
            let mut row = Vec::with_capacity(n.min(wires));
            for _ in 0..n {
                let wire = c.u32()? as usize;
                if wire >= wires {
                    return Err(format(what, format!("wire {wire} of {wires}")));
                }
                let coeff = fr_from_le32(c.take(32)?)
                    .ok_or_else(|| format(what, "a coefficient at or above the modulus"))?;
                row.push((coeff, wire));
            }
            matrix.push(row);
        }
    }
    if !c.done() {
        return Err(format(what, "bytes after the last constraint"));
    }
    Ok(CircuitShape::from_parts(
        inputs + 1,
        wires - inputs - 1,
        m,
        matrices,
    ))
}

/// Reads a `.wtns`: the full assignment.
pub fn read_wtns(mut r: impl Read) -> Result<Assignment, CircomError> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)?;
    let what = "wtns";
    let sections = read_container(&bytes, WTNS_MAGIC, WTNS_VERSION, what)?;
    let body = |kind: u32| one_section(&sections, kind, what);
    let mut h = Cursor::new(body(1)?, what);
    h.bn254_field()?;
    let n = h.u32()? as usize;
    let mut v = Cursor::new(body(2)?, what);
    let mut z = Vec::with_capacity(n.min(1 << 24));
    for _ in 0..n {
        let x = fr_from_le32(v.take(32)?)
            .ok_or_else(|| format(what, "a value at or above the modulus"))?;
        z.push(x);
    }
    if !v.done() {
        return Err(format(what, "bytes after the last value"));
    }
    Ok(Assignment(z))
}

pub(crate) fn read_container<'a>(
    bytes: &'a [u8],
    magic: &[u8; 4],
    version: u32,
    what: &'static str,
) -> Result<Vec<(u32, &'a [u8])>, CircomError> {
    let mut c = Cursor::new(bytes, what);
    if c.take(4)? != magic {
        return Err(format(what, "wrong magic"));
    }
    let v = c.u32()?;
    if v != version {
        return Err(format(what, format!("version {v}, expected {version}")));
    }
    let n = c.u32()?;
    let mut sections = Vec::new();
    for _ in 0..n {
        let kind = c.u32()?;
        let len = usize::try_from(c.u64()?).map_err(|_| format(what, "a section too long"))?;
        sections.push((kind, c.take(len)?));
    }
    if !c.done() {
        return Err(format(what, "bytes after the last section"));
    }
    Ok(sections)
}

/// The one section of `kind` (a missing or repeated one is an error).
pub(crate) fn one_section<'a>(
    sections: &[(u32, &'a [u8])],
    kind: u32,
    what: &'static str,
) -> Result<&'a [u8], CircomError> {
    let mut found = sections.iter().filter(|(k, _)| *k == kind);
    match (found.next(), found.next()) {
        (Some((_, body)), None) => Ok(body),
        (None, _) => Err(format(what, format!("no section {kind}"))),
        (Some(_), Some(_)) => Err(format(what, format!("section {kind} twice"))),
    }
}

/// Reads little-endian integers and byte runs, failing on a short file.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    what: &'static str,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Self { bytes, at: 0, what }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], CircomError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| format(self.what, "the file ends early"))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, CircomError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, CircomError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    /// A header's field: 32-byte elements modulo BN254's scalar field.
    fn bn254_field(&mut self) -> Result<(), CircomError> {
        if self.u32()? != FIELD_BYTES || self.take(32)? != modulus_le().as_slice() {
            return Err(format(self.what, "its field is not BN254's scalar field"));
        }
        Ok(())
    }

    pub(crate) fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

/// A 32-byte little-endian field element, if canonical (below the modulus).
pub(crate) fn fr_from_le32(b: &[u8]) -> Option<Fr> {
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().zip(b.chunks_exact(8)) {
        *limb = u64::from_le_bytes(chunk.try_into().ok()?);
    }
    Fr::from_bigint(ark_ff::BigInt::new(limbs))
}

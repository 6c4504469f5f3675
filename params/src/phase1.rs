//! Phase 1's transcript: the contributions a `.ptau` records (its section 7), verified as
//! `snarkjs powersoftau verify` verifies them, so that a phase-1 file is trusted for its
//! history and not only for its points.
//!
//! Each contribution holds the points `[τ]G1, [τ]G2, [α]G1, [β]G1, [β]G2` after it, the
//! contributor's public key (for each of τ, α, β: `s G1`, `s x G1` and `s' x G2`, with
//! `s' G2` hashed to the curve from the previous challenge and `s G1, s x G1`), the
//! state of the Blake2b hash of its response before the key (snarkjs's "partial hash"),
//! the next challenge hash, and for a beacon its value and iterations. Verifying checks,
//! for every contribution: the proofs of knowledge against the previous challenge, that
//! its points follow the previous contribution's by the same secrets, and a beacon's key
//! regenerated from its value; then that the last contribution's points are the file's,
//! and (for a file at its ceremony's power) that its next challenge hashes the file's
//! response. It gives every contribution's response hash, which each contributor
//! published when contributing.

use ark_bn254::{Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use blake2::{Blake2b512, Digest};

use crate::circom::{CircomError, Cursor};
use crate::phase2::{hash_to_g2, SnarkjsRng};
use crate::ptau::{g1_of, g2_of, Ptau, PtauError};
use crate::ratio::same_ratio;
use crate::zkey::{g1_u, g2_u, Beacon};

/// A contributor's public key for one secret `x` (τ, α or β).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PubKey {
    /// `s G1`, random.
    pub g1_s: G1Affine,
    /// `s x G1`.
    pub g1_sx: G1Affine,
    /// `s' x G2`, with `s' G2` hashed from the challenge and the two G1 points.
    pub g2_spx: G2Affine,
}

/// One contribution to a phase-1 ceremony, as a `.ptau` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// `[τ]G1` after it.
    pub tau_g1: G1Affine,
    /// `[τ]G2` after it.
    pub tau_g2: G2Affine,
    /// `[α]G1` after it.
    pub alpha_g1: G1Affine,
    /// `[β]G1` after it.
    pub beta_g1: G1Affine,
    /// `[β]G2` after it.
    pub beta_g2: G2Affine,
    /// The keys for τ, α and β.
    pub keys: [PubKey; 3],
    /// Blake2b's state over the response before the key (snarkjs's layout: the 128-byte
    /// block buffer, the eight state words, then the bytes compressed and the bytes
    /// buffered).
    pub partial_hash: [u8; 216],
    /// The challenge the next contributor answers.
    pub next_challenge: [u8; 64],
    /// The contributor's name, if given.
    pub name: Option<String>,
    /// The beacon, for a beacon contribution.
    pub beacon: Option<Beacon>,
}

/// Most contributions a section 7 may hold (the Perpetual Powers of Tau has fewer than
/// a hundred).
const MAX_CONTRIBUTIONS: u32 = 65_536;

/// A contribution's point, validated.
fn g1(c: &mut Cursor<'_>, index: usize) -> Result<G1Affine, PtauError> {
    g1_of(c.take(64).map_err(format)?, "contributions", index)
}

fn g2(c: &mut Cursor<'_>, index: usize) -> Result<G2Affine, PtauError> {
    g2_of(c.take(128).map_err(format)?, "contributions", index)
}

fn byte(c: &mut Cursor<'_>) -> Result<u8, PtauError> {
    Ok(c.take(1).map_err(format)?[0])
}

fn format(e: CircomError) -> PtauError {
    PtauError::Format(e.to_string())
}

/// The fewest bytes a contribution takes (points, key, hash state, challenge, kind,
/// parameter length): bounds what a count may reserve.
const MIN_CONTRIBUTION_BYTES: usize = 448 + 768 + 216 + 64 + 8;

fn refused(index: usize, reason: impl Into<String>) -> PtauError {
    PtauError::Contribution {
        index,
        reason: reason.into(),
    }
}

/// Parses section 7 (every point validated).
pub fn parse_contributions(section: &[u8]) -> Result<Vec<Contribution>, PtauError> {
    let mut r = Cursor::new(section, "ptau");
    let count = r.u32().map_err(format)?;
    if count > MAX_CONTRIBUTIONS {
        return Err(PtauError::Format(format!("{count} contributions")));
    }
    let mut out = Vec::with_capacity((count as usize).min(section.len() / MIN_CONTRIBUTION_BYTES));
    for i in 1..=count as usize {
        let (tau_g1, tau_g2) = (g1(&mut r, i)?, g2(&mut r, i)?);
        let (alpha_g1, beta_g1, beta_g2) = (g1(&mut r, i)?, g1(&mut r, i)?, g2(&mut r, i)?);
        let mut g1s = [G1Affine::zero(); 6];
        for p in &mut g1s {
            *p = g1(&mut r, i)?;
        }
        let mut g2s = [G2Affine::zero(); 3];
        for p in &mut g2s {
            *p = g2(&mut r, i)?;
        }
        let keys = [0, 1, 2].map(|k| PubKey {
            g1_s: g1s[2 * k],
            g1_sx: g1s[2 * k + 1],
            g2_spx: g2s[k],
        });
        let mut partial_hash = [0u8; 216];
        partial_hash.copy_from_slice(r.take(216).map_err(format)?);
        let mut next_challenge = [0u8; 64];
        next_challenge.copy_from_slice(r.take(64).map_err(format)?);
        let kind = r.u32().map_err(format)?;
        let params = r.u32().map_err(format)? as usize;
        let mut p = Cursor::new(r.take(params).map_err(format)?, "ptau");
        let (mut name, mut exp, mut hash, mut last) = (None, None, None, 0u8);
        while !p.done() {
            let t = byte(&mut p)?;
            if t <= last {
                return Err(refused(i, "its parameters are not sorted"));
            }
            last = t;
            match t {
                1 => {
                    let n = byte(&mut p)? as usize;
                    name = Some(String::from_utf8_lossy(p.take(n).map_err(format)?).into_owned());
                }
                2 => exp = Some(byte(&mut p)?),
                3 => {
                    let n = byte(&mut p)? as usize;
                    hash = Some(p.take(n).map_err(format)?.to_vec());
                }
                other => return Err(refused(i, format!("an unknown parameter {other}"))),
            }
        }
        let beacon = match (kind, exp, hash) {
            (0, None, None) => None,
            (1, Some(iterations_exp), Some(hash)) => Some(Beacon {
                hash,
                iterations_exp,
            }),
            _ => return Err(refused(i, "neither a contribution nor a whole beacon")),
        };
        out.push(Contribution {
            tau_g1,
            tau_g2,
            alpha_g1,
            beta_g1,
            beta_g2,
            keys,
            partial_hash,
            next_challenge,
            name,
            beacon,
        });
    }
    if !r.done() {
        return Err(PtauError::Format(
            "bytes after the last contribution".into(),
        ));
    }
    Ok(out)
}

/// The key's bytes as snarkjs hashes them into the response (uncompressed, big-endian).
fn key_bytes(keys: &[PubKey; 3]) -> Vec<u8> {
    let mut v = Vec::with_capacity(6 * 64 + 3 * 128);
    for k in keys {
        v.extend(g1_u(&k.g1_s));
        v.extend(g1_u(&k.g1_sx));
    }
    for k in keys {
        v.extend(g2_u(&k.g2_spx));
    }
    v
}

impl Contribution {
    /// The response hash: what the contributor published ("Contribution Response Hash").
    pub fn response_hash(&self) -> [u8; 64] {
        blake2b_resume(&self.partial_hash, &key_bytes(&self.keys))
    }
}

/// The points a contribution leaves, for the first contribution's predecessor.
struct Points {
    tau_g1: G1Affine,
    tau_g2: G2Affine,
    alpha_g1: G1Affine,
    beta_g1: G1Affine,
    beta_g2: G2Affine,
    next_challenge: [u8; 64],
}

/// The challenge the first contributor of a ceremony of `2^power` answers: the hash of
/// the empty hash and the initial (all generator) points.
pub fn first_challenge(power: u32) -> [u8; 64] {
    let (g1, g2) = (g1_u(&G1Affine::generator()), g2_u(&G2Affine::generator()));
    let mut h = Blake2b512::new();
    h.update(Blake2b512::digest([]));
    let repeat = |h: &mut Blake2b512, p: &[u8], n: u64| {
        let block: Vec<u8> = p.repeat(4096);
        for _ in 0..n / 4096 {
            h.update(&block);
        }
        for _ in 0..n % 4096 {
            h.update(p);
        }
    };
    let n = 1u64 << power;
    repeat(&mut h, &g1, 2 * n - 1);
    repeat(&mut h, &g2, n);
    repeat(&mut h, &g1, n);
    repeat(&mut h, &g1, n);
    h.update(&g2);
    h.finalize().into()
}

/// snarkjs's `getG2sp`: `s' G2` for secret `personalization` (0 τ, 1 α, 2 β).
fn g2_sp(personalization: u8, challenge: &[u8; 64], key: &PubKey) -> G2Affine {
    let mut h = Blake2b512::new();
    h.update([personalization]);
    h.update(challenge);
    h.update(g1_u(&key.g1_s));
    h.update(g1_u(&key.g1_sx));
    hash_to_g2(&h.finalize().into())
}

/// The key a beacon contribution must hold: snarkjs's `keyFromBeacon`; `None` for a
/// beacon iterated more than medproof verifies.
fn beacon_keys(beacon: &Beacon, challenge: &[u8; 64]) -> Option<[PubKey; 3]> {
    let mut rng = SnarkjsRng::from_beacon(beacon)?;
    let secrets: [Fr; 3] = [rng.fr(), rng.fr(), rng.fr()];
    let mut keys = [PubKey {
        g1_s: G1Affine::zero(),
        g1_sx: G1Affine::zero(),
        g2_spx: G2Affine::zero(),
    }; 3];
    for (k, x) in secrets.iter().enumerate() {
        let g1_s = rng.g1();
        let g1_sx = (g1_s * x).into_affine();
        let mut key = PubKey {
            g1_s,
            g1_sx,
            g2_spx: G2Affine::zero(),
        };
        key.g2_spx = (g2_sp(k as u8, challenge, &key) * x).into_affine();
        keys[k] = key;
    }
    Some(keys)
}

/// One contribution against its predecessor (see the module docs).
fn verify_one(index: usize, c: &Contribution, prev: &Points) -> Result<(), PtauError> {
    let bad = |reason: &str| refused(index, reason.to_string());
    if let Some(b) = &c.beacon {
        let keys = beacon_keys(b, &prev.next_challenge).ok_or_else(|| {
            bad("its beacon is iterated outside 2^10 to 2^32 times (medproof verifies no more)")
        })?;
        if keys != c.keys {
            return Err(bad("its key is not the one its beacon generates"));
        }
    }
    let sp = [0u8, 1, 2].map(|k| g2_sp(k, &prev.next_challenge, &c.keys[k as usize]));
    for (k, name) in ["τ", "α", "β"].iter().enumerate() {
        let key = &c.keys[k];
        if !same_ratio(key.g1_s, key.g1_sx, sp[k], key.g2_spx) {
            return Err(refused(
                index,
                format!("its proof of knowledge of {name} does not verify"),
            ));
        }
    }
    let [tau, alpha, beta] = &c.keys;
    let follows = same_ratio(prev.tau_g1, c.tau_g1, sp[0], tau.g2_spx)
        && same_ratio(tau.g1_s, tau.g1_sx, prev.tau_g2, c.tau_g2)
        && same_ratio(prev.alpha_g1, c.alpha_g1, sp[1], alpha.g2_spx)
        && same_ratio(prev.beta_g1, c.beta_g1, sp[2], beta.g2_spx)
        && same_ratio(beta.g1_s, beta.g1_sx, prev.beta_g2, c.beta_g2);
    if !follows {
        return Err(bad(
            "its points do not follow the previous contribution's by its secrets",
        ));
    }
    Ok(())
}

/// Verifies the contributions of a phase-1 file whose points are `ptau` (see the module
/// docs); `whole` says that `ptau` holds all the file's points, so that the last
/// challenge is checked against them when the file is at its ceremony's power. A file
/// with no contribution is refused: its secrets are known to all.
pub fn verify(contributions: &[Contribution], ptau: &Ptau, whole: bool) -> Result<(), PtauError> {
    let Some(last) = contributions.last() else {
        return Err(PtauError::NoContribution);
    };
    let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
    let mut prev = Points {
        tau_g1: g1,
        tau_g2: g2,
        alpha_g1: g1,
        beta_g1: g1,
        beta_g2: g2,
        next_challenge: first_challenge(ptau.ceremony_power),
    };
    for (i, c) in contributions.iter().enumerate() {
        verify_one(i + 1, c, &prev)?;
        prev = Points {
            tau_g1: c.tau_g1,
            tau_g2: c.tau_g2,
            alpha_g1: c.alpha_g1,
            beta_g1: c.beta_g1,
            beta_g2: c.beta_g2,
            next_challenge: c.next_challenge,
        };
    }
    if (ptau.tau_g1[1], ptau.tau_g2[1], ptau.alpha_tau_g1[0])
        != (last.tau_g1, last.tau_g2, last.alpha_g1)
        || (ptau.beta_tau_g1[0], ptau.beta_g2) != (last.beta_g1, last.beta_g2)
    {
        return Err(PtauError::Inconsistent(
            "the file's points are not the last contribution's",
        ));
    }
    if whole && ptau.power == ptau.ceremony_power {
        let mut h = Blake2b512::new();
        h.update(last.response_hash());
        for p in ptau.tau_g1.iter() {
            h.update(g1_u(p));
        }
        for p in ptau.tau_g2.iter() {
            h.update(g2_u(p));
        }
        for p in ptau.alpha_tau_g1.iter().chain(&ptau.beta_tau_g1) {
            h.update(g1_u(p));
        }
        h.update(g2_u(&ptau.beta_g2));
        if <[u8; 64]>::from(h.finalize()) != last.next_challenge {
            return Err(PtauError::Inconsistent(
                "the last contribution's next challenge is not the hash of the file's points",
            ));
        }
    }
    Ok(())
}

/// BLAKE2b-512 (RFC 7693) resumed from snarkjs's saved state `partial` and fed `more`:
/// how snarkjs finishes a response hash. (No Blake2b crate restores a saved state, so
/// the compression function is here, checked against the `blake2` crate in the tests.)
pub fn blake2b_resume(partial: &[u8; 216], more: &[u8]) -> [u8; 64] {
    let word = |i: usize| {
        u32::from_le_bytes([
            partial[128 + 4 * i],
            partial[129 + 4 * i],
            partial[130 + 4 * i],
            partial[131 + 4 * i],
        ]) as u64
    };
    let mut h = [0u64; 8];
    for (i, w) in h.iter_mut().enumerate() {
        *w = word(2 * i) | (word(2 * i + 1) << 32);
    }
    let compressed = word(16) | (word(17) << 32);
    let pos = (word(18) | (word(19) << 32)) as usize;
    let mut state = Blake2bState {
        h,
        buf: partial[..128].try_into().unwrap_or([0; 128]),
        pos: pos.min(128),
        len: u128::from(compressed) + pos.min(128) as u128,
    };
    state.update(more);
    state.finalize()
}

const IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

const SIGMA: [[usize; 16]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

/// A BLAKE2b-512 computation in progress (unkeyed), as snarkjs saves it.
struct Blake2bState {
    h: [u64; 8],
    buf: [u8; 128],
    /// Bytes in `buf`.
    pos: usize,
    /// Bytes taken in so far, `buf` included (the counter `t`).
    len: u128,
}

impl Blake2bState {
    #[cfg(test)]
    fn new() -> Self {
        let mut h = IV;
        h[0] ^= 0x0101_0000 ^ 64;
        Self {
            h,
            buf: [0; 128],
            pos: 0,
            len: 0,
        }
    }

    fn compress(&mut self, last: bool) {
        let m: [u64; 16] = std::array::from_fn(|i| {
            u64::from_le_bytes(self.buf[8 * i..8 * i + 8].try_into().unwrap_or([0; 8]))
        });
        let mut v = [0u64; 16];
        v[..8].copy_from_slice(&self.h);
        v[8..].copy_from_slice(&IV);
        v[12] ^= self.len as u64;
        v[13] ^= (self.len >> 64) as u64;
        if last {
            v[14] = !v[14];
        }
        let g = |v: &mut [u64; 16], a: usize, b: usize, c: usize, d: usize, x: u64, y: u64| {
            v[a] = v[a].wrapping_add(v[b]).wrapping_add(x);
            v[d] = (v[d] ^ v[a]).rotate_right(32);
            v[c] = v[c].wrapping_add(v[d]);
            v[b] = (v[b] ^ v[c]).rotate_right(24);
            v[a] = v[a].wrapping_add(v[b]).wrapping_add(y);
            v[d] = (v[d] ^ v[a]).rotate_right(16);
            v[c] = v[c].wrapping_add(v[d]);
            v[b] = (v[b] ^ v[c]).rotate_right(63);
        };
        for round in 0..12 {
            let s = &SIGMA[round % 10];
            g(&mut v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
            g(&mut v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
            g(&mut v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
            g(&mut v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
            g(&mut v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
            g(&mut v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
            g(&mut v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
            g(&mut v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
        }
        for i in 0..8 {
            self.h[i] ^= v[i] ^ v[i + 8];
        }
    }

    /// Takes in `data`; a full buffer is compressed only when more data follows (the
    /// last block is compressed by `finalize`).
    fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.pos == 128 {
                self.compress(false);
                self.pos = 0;
            }
            let take = (128 - self.pos).min(data.len());
            self.buf[self.pos..self.pos + take].copy_from_slice(&data[..take]);
            self.pos += take;
            self.len += take as u128;
            data = &data[take..];
        }
    }

    fn finalize(mut self) -> [u8; 64] {
        self.buf[self.pos..].fill(0);
        self.compress(true);
        let mut out = [0u8; 64];
        for (chunk, w) in out.chunks_exact_mut(8).zip(self.h) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compression function and padding agree with the `blake2` crate at every
    /// length around the block boundaries, fed in pieces.
    #[test]
    fn blake2b_matches_the_blake2_crate() {
        let data: Vec<u8> = (0..600u32).map(|i| (i * 31 + 7) as u8).collect();
        for n in [0, 1, 63, 127, 128, 129, 255, 256, 257, 384, 600] {
            for split in [0, 1, 64, 128, n / 2] {
                let split = split.min(n);
                let mut s = Blake2bState::new();
                s.update(&data[..split]);
                s.update(&data[split..n]);
                let want: [u8; 64] = Blake2b512::digest(&data[..n]).into();
                assert_eq!(s.finalize(), want, "length {n} split at {split}");
            }
        }
    }

    /// A state saved in snarkjs's layout and resumed gives the hash of the whole.
    #[test]
    fn a_saved_state_resumes() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 13 + 1) as u8).collect();
        for cut in [0, 100, 128, 256, 300, 640] {
            let mut s = Blake2bState::new();
            s.update(&data[..cut]);
            let mut partial = [0u8; 216];
            partial[..128].copy_from_slice(&s.buf);
            let mut words = Vec::new();
            for w in s.h {
                words.push(w as u32);
                words.push((w >> 32) as u32);
            }
            let compressed = s.len as u64 - s.pos as u64;
            words.extend([
                compressed as u32,
                (compressed >> 32) as u32,
                s.pos as u32,
                0,
            ]);
            for (i, w) in words.iter().enumerate() {
                partial[128 + 4 * i..132 + 4 * i].copy_from_slice(&w.to_le_bytes());
            }
            let want: [u8; 64] = Blake2b512::digest(&data).into();
            assert_eq!(blake2b_resume(&partial, &data[cut..]), want, "cut {cut}");
        }
    }
}

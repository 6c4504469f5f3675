//! Fixed-base multi-scalar multiplication for a proving key's queries.
//!
//! A proving key's bases never change, so each base's window multiples `2^(c·j)·P`
//! (`j < W`, `W·c ≥ 255`) are computed once, when the key is loaded. A product
//! `Σ s_i·P_i` then needs no doubling: the scalars are written in signed base-`2^c`
//! digits (each in `[-2^(c-1), 2^(c-1)]`), and every (base, window) whose digit `d` is
//! not zero puts `±2^(c·j)·P_i` into bucket `|d|`. One set of `2^(c-1)` buckets serves
//! every window, where Pippenger's method keeps one set per window and doubles between
//! them.
//!
//! The buckets are dealt to as many parts as the pool has threads, in turn (part `t`
//! of `T` takes buckets `t`, `t + T`, `t + 2T`, ..., so that every part gets small and
//! large magnitudes alike). Each thread walks the table in order (the digits were
//! computed once, in parallel) and adds every point whose bucket is its part's into
//! that bucket's affine sum. The additions are batched: a batch's additions share one
//! field inversion (Montgomery's trick), so an affine addition costs about six field
//! multiplications, against about ten for the mixed addition into a projective bucket
//! that `ark-ec`'s MSM does; their subtractions are [`MsmField::minus`], which does not
//! branch on its operands. A point whose bucket already waits in the batch is queued
//! for the next one (past a bound, added projectively). The result is `Σ k·B_k`, by
//! running sums over each part's buckets. Reading the table in order was faster than
//! summing each bucket's points as a tree (benches/REPORT.md). Each thread reads every
//! digit to find its part's: on many cores that scan, not the additions, would grow
//! into the cost.
//!
//! Scalars equal to one would all land in one bucket and serialize the batches; their
//! bases are summed apart, as a tree of affine additions (each round adds the points
//! two by two, a chunk of a round sharing one inversion).
//!
//! Identity bases (a proving key has many: the B query of every variable that appears
//! in no B term) are dropped when the table is built. Memory: `W` affine points per
//! non-identity base; [`FixedBaseMsm::memory_bytes`] says how much. A call takes 4 bytes
//! per table entry for the digits and, per thread, an affine and a projective sum per
//! bucket of its part (at width 13 on 2 threads, about 0.35 MB per thread in G1 and
//! 0.7 MB in G2).
//!
//! Everything runs on the calling thread's rayon pool: a prover that installs its own
//! pool gets no other threads (`ark-ec`'s MSM builds a new two-thread pool per call).

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{
    AdditiveGroup, BigInt, BigInteger, Field, Fp, FpConfig, One, PrimeField, QuadExtConfig,
    QuadExtField, Zero,
};
use rayon::prelude::*;
use std::marker::PhantomData;

/// The digit bits the windows must cover: a canonical BN254 scalar has 254 bits, and a
/// signed digit expansion needs one more for the last carry.
const SCALAR_BITS: u32 = 255;

/// Pair additions that share one inversion: large enough that the inversion is
/// amortized, small enough that a round splits evenly across threads.
const CHUNK: usize = 512;

/// Why a fixed-base MSM could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MsmError {
    /// The number of scalars is not the number of bases.
    #[error("{scalars} scalars for {bases} bases")]
    Length {
        /// Bases in the table.
        bases: usize,
        /// Scalars given.
        scalars: usize,
    },
}

/// Window multiples of fixed bases, for multi-scalar multiplications against them.
#[derive(Clone)]
pub struct FixedBaseMsm<P: SWCurveConfig> {
    /// The window width `c` in bits.
    window: u32,
    /// Windows per scalar, `W = ⌈255 / c⌉`.
    windows: u32,
    /// The number of bases, identities included.
    len: usize,
    /// For each row of the table, the index of its (non-identity) base.
    rows: Vec<u32>,
    /// `table[k·W + j] = 2^(c·j) · bases[rows[k]]`.
    table: Vec<Affine<P>>,
}

impl<P: SWCurveConfig<BaseField: MsmField>> std::fmt::Debug for FixedBaseMsm<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixedBaseMsm")
            .field("bases", &self.len)
            .field("non_identity", &self.rows.len())
            .field("window", &self.window)
            .field("bytes", &self.memory_bytes())
            .finish()
    }
}

/// The window width for `n` bases, from the sweep in `benches/benches/msm.rs`
/// (`fixed_base_window`, random scalars; figures in benches/REPORT.md): 11 best at
/// 1,024 bases; at 8,192, 13 and 15 alike and 13 kept for its smaller buckets (a
/// quarter of 15's); at 16,384, 15 ahead of 13 alone but never inside the claim's
/// proof, so 13 there too.
pub fn default_window(n: usize) -> u32 {
    match n {
        0..=63 => 6,
        64..=1_023 => 9,
        1_024..=4_095 => 11,
        4_096..=32_767 => 13,
        _ => 15,
    }
}

impl<P: SWCurveConfig> FixedBaseMsm<P>
where
    P::ScalarField: PrimeField,
    P::BaseField: MsmField,
{
    /// The table of `bases`, with the window width for their number.
    pub fn new(bases: &[Affine<P>]) -> Self {
        Self::with_window(bases, default_window(bases.len()))
    }

    /// The table of `bases` with windows of `window` bits (clamped to 2..=20).
    pub fn with_window(bases: &[Affine<P>], window: u32) -> Self {
        let window = window.clamp(2, 20);
        let windows = SCALAR_BITS.div_ceil(window);
        let rows: Vec<u32> = (0..bases.len() as u32)
            .filter(|&i| !bases[i as usize].is_zero())
            .collect();
        let w = windows as usize;
        let mut projective = vec![Projective::<P>::zero(); rows.len() * w];
        projective
            .par_chunks_mut(w)
            .zip(rows.par_iter())
            .for_each(|(out, &i)| {
                let mut p: Projective<P> = bases[i as usize].into();
                for (j, slot) in out.iter_mut().enumerate() {
                    if j > 0 {
                        for _ in 0..window {
                            p.double_in_place();
                        }
                    }
                    *slot = p;
                }
            });
        let table = projective
            .par_chunks(4_096)
            .flat_map_iter(Projective::<P>::normalize_batch)
            .collect();
        Self {
            window,
            windows,
            len: bases.len(),
            rows,
            table,
        }
    }

    /// The number of bases, identities included.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bases.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bases that are not the identity (the table's rows).
    pub fn non_identity(&self) -> usize {
        self.rows.len()
    }

    /// The window width in bits.
    pub fn window(&self) -> u32 {
        self.window
    }

    /// The bytes the table holds.
    pub fn memory_bytes(&self) -> usize {
        self.table.len() * std::mem::size_of::<Affine<P>>()
            + self.rows.len() * std::mem::size_of::<u32>()
    }

    /// `Σ scalars[i] · bases[i]` by accumulation: the scalars' digits are computed
    /// once; then each thread takes a part of the buckets, walks the table in order and
    /// adds each of its points into its bucket's affine sum, in batches of additions
    /// that share one inversion. Scalars equal to one (a witness's many bits) would all
    /// fall into one bucket; their bases are summed apart, as a tree.
    pub fn msm(&self, scalars: &[P::ScalarField]) -> Result<Projective<P>, MsmError> {
        if scalars.len() != self.len {
            return Err(MsmError::Length {
                bases: self.len,
                scalars: scalars.len(),
            });
        }
        let w = self.windows as usize;
        let one = P::ScalarField::one();
        let mut digits = vec![0i32; self.rows.len() * w];
        digits
            .par_chunks_mut(w)
            .zip(self.rows.par_iter())
            .for_each(|(out, &i)| {
                let s = &scalars[i as usize];
                if *s != one {
                    signed_digits(&s.into_bigint(), self.window, out)
                }
            });
        // The table entries (window 0) of the bases whose scalar is one.
        let ones: Vec<u32> = (0..self.rows.len())
            .filter(|&k| scalars[self.rows[k] as usize] == one)
            .map(|k| (k * w) as u32)
            .collect();
        let buckets = 1usize << (self.window - 1);
        let parts = rayon::current_num_threads().clamp(1, buckets);
        // Magnitude m's bucket, m − 1, goes to part (m − 1) mod parts, as its
        // (m − 1) div parts'th bucket: every part sees small and large magnitudes
        // alike (the top window's digits are all small, so contiguous ranges were
        // uneven). `NONE` for a zero digit.
        let slots: Vec<(u32, u32)> = (0..=buckets)
            .map(|m| match m.checked_sub(1) {
                Some(b) => ((b % parts) as u32, (b / parts) as u32),
                None => (NONE, NONE),
            })
            .collect();
        let (sum, ones) = rayon::join(
            || {
                (0..parts)
                    .into_par_iter()
                    .map(|part| {
                        let mine = (buckets - part).div_ceil(parts);
                        let mut acc = Accumulator::<P>::new(mine);
                        for (i, &d) in digits.iter().enumerate() {
                            let (owner, b) = slots[d.unsigned_abs() as usize];
                            if owner == part as u32 {
                                let p = self.table[i];
                                acc.add(b as usize, if d < 0 { -p } else { p });
                            }
                        }
                        acc.finish(part, parts)
                    })
                    .sum::<Projective<P>>()
            },
            || tree_sum(&self.table, &ones),
        );
        Ok(sum + ones)
    }
}

/// The signed base-`2^c` digits of `scalar`, least significant first; the digits
/// times their weights sum to the scalar (`out.len() · c ≥ 255` leaves no carry).
fn signed_digits<B: BigInteger>(scalar: &B, c: u32, out: &mut [i32]) {
    let limbs = scalar.as_ref();
    let half = 1i64 << (c - 1);
    let mut carry = 0i64;
    for (j, d) in out.iter_mut().enumerate() {
        let raw = bits(limbs, j as u32 * c, c) as i64 + carry;
        if raw >= half {
            *d = (raw - (1i64 << c)) as i32;
            carry = 1;
        } else {
            *d = raw as i32;
            carry = 0;
        }
    }
    debug_assert_eq!(carry, 0, "the windows cover the scalar");
}

/// `c` bits of `limbs` from bit `at` (zero past the end).
fn bits(limbs: &[u64], at: u32, c: u32) -> u64 {
    let (limb, off) = ((at / 64) as usize, at % 64);
    let Some(&lo) = limbs.get(limb) else {
        return 0;
    };
    let mut v = lo >> off;
    if off + c > 64 {
        if let Some(&hi) = limbs.get(limb + 1) {
            v |= hi << (64 - off);
        }
    }
    v & ((1u64 << c) - 1)
}

/// `Σ table[i]` over `indices`, as rounds of pairwise affine additions (an odd point
/// passes through), each chunk of a round sharing one inversion.
fn tree_sum<P: SWCurveConfig<BaseField: MsmField>>(
    table: &[Affine<P>],
    indices: &[u32],
) -> Affine<P> {
    let mut points: Vec<Affine<P>> = indices.iter().map(|&i| table[i as usize]).collect();
    while points.len() > 1 {
        let mut out = vec![Affine::<P>::identity(); points.len().div_ceil(2)];
        out.par_chunks_mut(CHUNK)
            .zip(points.par_chunks(2 * CHUNK))
            .for_each(|(out, points)| add_pairs(out, points));
        points = out;
    }
    points.first().copied().unwrap_or_else(Affine::identity)
}

/// `out[i] = points[2i] + points[2i + 1]` (or `points[2i]` alone at an odd end), with
/// one field inversion for the whole chunk. Equal points are doubled; opposite points
/// give the identity.
fn add_pairs<P: SWCurveConfig<BaseField: MsmField>>(out: &mut [Affine<P>], points: &[Affine<P>]) {
    // (output index, a, b, doubling) of the additions that need an inversion.
    let mut pending = Vec::with_capacity(out.len());
    let mut den = Vec::with_capacity(out.len());
    for (i, (o, pair)) in out.iter_mut().zip(points.chunks(2)).enumerate() {
        let a = pair[0];
        let Some(&b) = pair.get(1) else {
            *o = a;
            continue;
        };
        if a.is_zero() {
            *o = b;
        } else if b.is_zero() {
            *o = a;
        } else if a.x != b.x {
            den.push(b.x - a.x);
            pending.push((i, a, b, false));
        } else if a.y == b.y && !a.y.is_zero() {
            den.push(a.y.double());
            pending.push((i, a, b, true));
        } else {
            *o = Affine::identity();
        }
    }
    P::BaseField::invert_all(&mut den);
    for ((i, a, b, doubling), inv) in pending.into_iter().zip(den) {
        let lambda = if doubling {
            let xx = a.x.square();
            (xx.double() + xx + P::COEFF_A) * inv
        } else {
            (b.y - a.y) * inv
        };
        let x = lambda.square() - a.x - b.x;
        let y = lambda * (a.x - x) - a.y;
        out[i] = Affine::new_unchecked(x, y);
    }
}

/// A magnitude that goes to no bucket (a zero digit).
const NONE: u32 = u32::MAX;

/// `a + p` given `inv = 1 / (p.x − a.x)` (so `a ≠ ±p`, neither the identity).
#[inline(always)]
fn add_with_inverse<P: SWCurveConfig<BaseField: MsmField>>(
    a: &Affine<P>,
    p: &Affine<P>,
    inv: &P::BaseField,
) -> Affine<P> {
    let lambda = P::BaseField::minus(&p.y, &a.y) * inv;
    let x = P::BaseField::minus(&P::BaseField::minus(&lambda.square(), &a.x), &p.x);
    let y = P::BaseField::minus(&(lambda * P::BaseField::minus(&a.x, &x)), &a.y);
    Affine::new_unchecked(x, y)
}

/// Bucket sums kept affine where possible: `affine[b] + overflow[b]` is bucket `b`'s sum.
struct Accumulator<P: SWCurveConfig> {
    affine: Vec<Affine<P>>,
    overflow: Vec<Projective<P>>,
    busy: Vec<bool>,
    batch: Vec<(u32, Affine<P>)>,
    den: Vec<P::BaseField>,
    /// Points whose bucket was busy, for the next batch, and the emptied queue of the
    /// previous flush.
    queue: Vec<(u32, Affine<P>)>,
    spare: Vec<(u32, Affine<P>)>,
    /// Additions per batch, and the bound of the queue: a quarter of the buckets (the
    /// batch size measured best at 2,048 buckets), so few points find theirs busy.
    cap: usize,
}

impl<P: SWCurveConfig> Accumulator<P>
where
    P::BaseField: MsmField,
{
    fn new(buckets: usize) -> Self {
        let cap = (buckets / 4).clamp(16, 1024);
        Self {
            cap,
            affine: vec![Affine::identity(); buckets],
            overflow: vec![Projective::zero(); buckets],
            busy: vec![false; buckets],
            // One more than `cap`: a batch refilled from the queue may be full when the
            // next point comes.
            batch: Vec::with_capacity(cap + 1),
            den: Vec::with_capacity(cap + 1),
            queue: Vec::with_capacity(cap),
            spare: Vec::with_capacity(cap),
        }
    }

    /// Adds `p` into bucket `b`, flushing the batch when it is full.
    fn add(&mut self, b: usize, p: Affine<P>) {
        self.place(b, p);
        if self.batch.len() >= self.cap {
            self.flush();
        }
    }

    /// Puts `p` into the batch, or settles it at once (an empty bucket, opposite
    /// points, a doubling), or queues it when its bucket is busy (projectively once
    /// the queue is full).
    fn place(&mut self, b: usize, p: Affine<P>) {
        if self.busy[b] {
            if self.queue.len() < self.cap {
                self.queue.push((b as u32, p));
            } else {
                self.overflow[b] += p;
            }
            return;
        }
        let a = self.affine[b];
        if a.is_zero() {
            self.affine[b] = p;
        } else if a.x != p.x {
            self.busy[b] = true;
            self.den.push(P::BaseField::minus(&p.x, &a.x));
            self.batch.push((b as u32, p));
        } else if a.y == p.y {
            // The same point: a doubling, rare enough to take projectively.
            self.overflow[b] += p;
        } else {
            self.affine[b] = Affine::identity();
        }
    }

    fn flush(&mut self) {
        P::BaseField::invert_all(&mut self.den);
        for (&(b, p), inv) in self.batch.iter().zip(&self.den) {
            let b = b as usize;
            self.affine[b] = add_with_inverse(&self.affine[b], &p, inv);
            self.busy[b] = false;
        }
        self.batch.clear();
        self.den.clear();
        // The queued points go into the emptied batch (at most `cap` of them, so the
        // queue they leave cannot overflow); the two queues swap, so neither is
        // reallocated.
        let queued = std::mem::replace(&mut self.queue, std::mem::take(&mut self.spare));
        for &(b, p) in &queued {
            self.place(b as usize, p);
        }
        self.spare = queued;
        self.spare.clear();
    }

    /// The weighted sum of the buckets, as [`strided_sum`].
    fn finish(mut self, part: usize, parts: usize) -> Projective<P> {
        self.flush();
        for (b, p) in std::mem::take(&mut self.queue) {
            self.overflow[b as usize] += p;
        }
        self.flush();
        strided_sum(&self.affine, &self.overflow, part, parts)
    }
}

/// The base-field arithmetic of the accumulation, for BN254's base field (G1) and its
/// quadratic extension (G2): batch inversion, and subtraction (in the base field one
/// that does not branch on its operands: ark-ff's compares them first, a branch that
/// random operands mispredict half the time; benches/REPORT.md has the gain).
pub trait MsmField: Field {
    /// Replaces every element (all non-zero) by its inverse.
    fn invert_all(v: &mut [Self]);

    /// `a − b`.
    fn minus(a: &Self, b: &Self) -> Self;
}

impl<C: FpConfig<N>, const N: usize> MsmField for Fp<C, N> {
    /// Montgomery's trick: one inversion and three multiplications per element.
    fn invert_all(v: &mut [Self]) {
        let mut prefix = Vec::with_capacity(v.len());
        let mut acc = Self::one();
        for x in v.iter() {
            prefix.push(acc);
            acc *= x;
        }
        let Some(mut inv) = acc.inverse() else {
            return; // empty (a zero never gets here: the callers exclude it)
        };
        for (x, before) in v.iter_mut().zip(prefix).rev() {
            let next = inv * *x;
            *x = inv * before;
            inv = next;
        }
    }

    /// Adds the modulus back, masked by the borrow, instead of comparing first.
    #[inline(always)]
    fn minus(a: &Self, b: &Self) -> Self {
        let (x, y) = (&(a.0).0, &(b.0).0);
        let mut r = [0u64; N];
        let mut borrow = 0u64;
        for i in 0..N {
            let (d, b1) = x[i].overflowing_sub(y[i]);
            let (d, b2) = d.overflowing_sub(borrow);
            r[i] = d;
            borrow = u64::from(b1 | b2);
        }
        let mask = borrow.wrapping_neg();
        let mut carry = 0u64;
        for (limb, m) in r.iter_mut().zip(C::MODULUS.0) {
            let (s, c1) = limb.overflowing_add(m & mask);
            let (s, c2) = s.overflowing_add(carry);
            *limb = s;
            carry = u64::from(c1 | c2);
        }
        Fp(BigInt(r), PhantomData)
    }
}

impl<C: QuadExtConfig> MsmField for QuadExtField<C>
where
    C::BaseField: MsmField,
{
    /// `x⁻¹ = x̄ / N(x)`: the norms `c0² − β·c1²` are inverted together in the base
    /// field, about 7 base-field multiplications per element against about 9 for the
    /// three extension-field products of Montgomery's trick.
    fn invert_all(v: &mut [Self]) {
        let mut norms: Vec<C::BaseField> = v.iter().map(QuadExtField::norm).collect();
        C::BaseField::invert_all(&mut norms);
        for (x, n) in v.iter_mut().zip(&norms) {
            x.c1 = -x.c1;
            x.mul_assign_by_basefield(n);
        }
    }

    /// ark-ff's: the base field's, coefficient by coefficient, measured no faster in
    /// G2.
    #[inline(always)]
    fn minus(a: &Self, b: &Self) -> Self {
        *a - b
    }
}

/// `Σ (part + 1 + k·parts) · (affine[k] + overflow[k])`, the weighted sum of a part's
/// buckets (bucket `k` of the part holds magnitude `part + 1 + k·parts`): running sums
/// give `S = Σ (k + 1) · sums[k]` and `T = Σ sums[k]`, and the sum is
/// `parts·S − (parts − 1 − part)·T`. The affine sums enter the running sum as they are
/// (a mixed addition); the projective overflow, usually all zero, only where it is not.
fn strided_sum<P: SWCurveConfig>(
    affine: &[Affine<P>],
    overflow: &[Projective<P>],
    part: usize,
    parts: usize,
) -> Projective<P>
where
    P::ScalarField: PrimeField,
{
    let mut running = Projective::<P>::zero();
    let mut sum = Projective::<P>::zero();
    for (a, o) in affine.iter().zip(overflow).rev() {
        if !a.is_zero() {
            running += a;
        }
        if !o.is_zero() {
            running += o;
        }
        sum += running;
    }
    if parts > 1 {
        sum *= P::ScalarField::from(parts as u64);
    }
    let surplus = (parts - 1 - part) as u64;
    if surplus > 0 {
        sum -= running * P::ScalarField::from(surplus);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
    use ark_ec::{PrimeGroup, VariableBaseMSM};
    use ark_ff::UniformRand;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn reference<G: VariableBaseMSM>(bases: &[G::MulBase], scalars: &[G::ScalarField]) -> G {
        G::msm(bases, scalars).unwrap()
    }

    fn random_bases(n: usize, rng: &mut ChaCha20Rng) -> Vec<G1Affine> {
        // Random multiples of the generator, by batch normalization.
        let g = G1Projective::generator();
        let v: Vec<G1Projective> = (0..n).map(|_| g * Fr::rand(rng)).collect();
        G1Projective::normalize_batch(&v)
    }

    /// Scalars at the digit boundaries of window `c`, and the extremes of the field.
    fn edge_scalars(c: u32) -> Vec<Fr> {
        let two = |k: u32| Fr::from(2u64).pow([u64::from(k)]);
        let mut v = vec![
            Fr::zero(),
            Fr::from(1u64),
            -Fr::from(1u64),
            -Fr::from(2u64),
            two(c - 1),
            two(c - 1) - Fr::from(1u64),
            two(c - 1) + Fr::from(1u64),
            two(c) - Fr::from(1u64),
            two(c),
            two(253),
            two(254) - Fr::from(1u64), // reduced mod r
            -two(c - 1),
        ];
        // Every digit at its most negative: 2^(c-1) in every window, plus the carries.
        let mut all_half = Fr::zero();
        for j in 0..SCALAR_BITS.div_ceil(c) - 1 {
            all_half += two(c * j + c - 1);
        }
        v.push(all_half);
        v
    }

    fn check(bases: &[G1Affine], scalars: &[Fr], window: u32) {
        let table = FixedBaseMsm::with_window(bases, window);
        let got = table.msm(scalars).unwrap();
        let want: G1Projective = reference(bases, scalars);
        assert_eq!(got.into_affine(), want.into_affine(), "window {window}");
    }

    #[test]
    fn the_digits_sum_back_to_the_scalar() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for c in [2, 5, 8, 13, 16, 20] {
            let mut scalars = edge_scalars(c);
            scalars.extend((0..50).map(|_| Fr::rand(&mut rng)));
            for s in scalars {
                let mut digits = vec![0i32; SCALAR_BITS.div_ceil(c) as usize];
                signed_digits(&s.into_bigint(), c, &mut digits);
                let half = 1i32 << (c - 1);
                let mut back = Fr::zero();
                for (j, &d) in digits.iter().enumerate() {
                    assert!((-half..=half).contains(&d), "digit {d} for c = {c}");
                    let weight = Fr::from(2u64).pow([u64::from(c) * j as u64]);
                    let magnitude = weight * Fr::from(d.unsigned_abs());
                    back += if d < 0 { -magnitude } else { magnitude };
                }
                assert_eq!(back, s, "c = {c}");
            }
        }
    }

    #[test]
    fn edge_scalars_against_ark_ec() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        for c in [3, 8, 13] {
            let scalars = edge_scalars(c);
            let bases = random_bases(scalars.len(), &mut rng);
            check(&bases, &scalars, c);
        }
    }

    #[test]
    fn identity_repeated_and_opposite_bases() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let p = random_bases(1, &mut rng)[0];
        let q = random_bases(1, &mut rng)[0];
        // Repeated bases with equal scalars put equal points into one bucket (a
        // doubling); a base and its negation with equal scalars, opposite ones (the
        // identity); identity bases are dropped.
        let bases = vec![
            p,
            p,
            p,
            -p,
            G1Affine::identity(),
            q,
            q,
            -q,
            G1Affine::identity(),
            p,
        ];
        let s = Fr::rand(&mut rng);
        for scalars in [
            vec![s; bases.len()],
            vec![Fr::from(1u64); bases.len()],
            vec![Fr::zero(); bases.len()],
            (0..bases.len() as u64).map(|i| Fr::from(i % 3)).collect(),
        ] {
            for c in [4, 13] {
                check(&bases, &scalars, c);
            }
        }
        let table = FixedBaseMsm::with_window(&bases, 8);
        assert_eq!(table.len(), 10);
        assert_eq!(table.non_identity(), 8);
    }

    #[test]
    fn sizes_one_two_and_a_window_boundary() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        for n in [0usize, 1, 2, 3, 63, 64, 65, 511, 512, 513] {
            let bases = random_bases(n, &mut rng);
            let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            check(&bases, &scalars, default_window(n));
        }
    }

    #[test]
    fn the_proving_sizes_with_witness_like_scalars() {
        // Mostly bits and small values with some full-size elements, as a witness is:
        // one bucket then holds thousands of points (a deep addition tree).
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        for n in [8_192usize, 16_384] {
            let bases = random_bases(n, &mut rng);
            let scalars: Vec<Fr> = (0..n)
                .map(|i| match i % 4 {
                    0 | 1 => Fr::from((i % 2) as u64),
                    2 => Fr::from(i as u64),
                    _ => Fr::rand(&mut rng),
                })
                .collect();
            check(&bases, &scalars, default_window(n));
            let random: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            check(&bases, &random, default_window(n));
        }
    }

    #[test]
    fn g2_against_ark_ec() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let g = G2Projective::generator();
        let edges = edge_scalars(9);
        let n = 300 + edges.len();
        let mut v: Vec<G2Projective> = (0..n).map(|_| g * Fr::rand(&mut rng)).collect();
        v.push(v[0]);
        v.push(-v[1]);
        v.push(G2Projective::zero());
        let bases: Vec<G2Affine> = G2Projective::normalize_batch(&v);
        let mut scalars: Vec<Fr> = (0..300).map(|_| Fr::rand(&mut rng)).collect();
        scalars.extend(edges);
        scalars.extend([scalars[0], scalars[1], Fr::rand(&mut rng)]);
        let table = FixedBaseMsm::with_window(&bases, 9);
        let want: G2Projective = reference(&bases, &scalars);
        assert_eq!(
            table.msm(&scalars).unwrap().into_affine(),
            want.into_affine()
        );
    }

    #[test]
    fn a_hot_bucket_that_is_not_one_fills_the_queue() {
        // Thousands of points in one bucket other than the ones': the batch takes one
        // at a time, the queue fills, and the rest are added projectively.
        let mut rng = ChaCha20Rng::seed_from_u64(10);
        let bases = random_bases(4_000, &mut rng);
        let scalars: Vec<Fr> = (0..4_000u64)
            .map(|i| match i % 3 {
                0 => Fr::from(2u64),
                1 => -Fr::from(2u64),
                _ => Fr::from(3u64),
            })
            .collect();
        check(&bases, &scalars, 11);
        check(&bases, &scalars, 5);
    }

    #[test]
    fn any_thread_count_splits_the_buckets() {
        // Pools whose size does not divide the buckets, and pools with more threads
        // than a small window has buckets.
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let bases = random_bases(40, &mut rng);
        let scalars: Vec<Fr> = (0..40).map(|_| Fr::rand(&mut rng)).collect();
        for threads in [1, 3, 7, 24] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for window in [2, 4, 6] {
                pool.install(|| check(&bases, &scalars, window));
            }
        }
    }

    #[test]
    fn batch_inverses_in_both_fields() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        for n in [0usize, 1, 2, 7, 100] {
            let fq: Vec<ark_bn254::Fq> = (0..n).map(|_| ark_bn254::Fq::rand(&mut rng)).collect();
            let mut got = fq.clone();
            MsmField::invert_all(&mut got);
            for (x, y) in fq.iter().zip(&got) {
                assert_eq!(*x * y, ark_bn254::Fq::one());
            }
            let mut fq2: Vec<ark_bn254::Fq2> =
                (0..n).map(|_| ark_bn254::Fq2::rand(&mut rng)).collect();
            // Elements with a zero coefficient too.
            if n > 1 {
                fq2[0].c1 = ark_bn254::Fq::zero();
                fq2[1].c0 = ark_bn254::Fq::zero();
            }
            let mut got = fq2.clone();
            MsmField::invert_all(&mut got);
            for (x, y) in fq2.iter().zip(&got) {
                assert_eq!(x.inverse().unwrap(), *y);
            }
        }
    }

    /// The edges of the base field and random elements, against ark-ff's subtraction.
    #[test]
    fn branchless_subtraction_matches_ark_ff() {
        use ark_bn254::{Fq, Fq2};
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let mut values = vec![
            Fq::zero(),
            Fq::one(),
            -Fq::one(),
            Fq::from(2u64),
            -Fq::from(2u64),
            Fq::from(u64::MAX),
            -Fq::from(u64::MAX),
        ];
        values.extend((0..100).map(|_| Fq::rand(&mut rng)));
        for a in &values {
            for b in &values {
                assert_eq!(MsmField::minus(a, b), *a - b);
            }
        }
        for pair in values.chunks_exact(4) {
            let (a, b) = (Fq2::new(pair[0], pair[1]), Fq2::new(pair[2], pair[3]));
            assert_eq!(MsmField::minus(&a, &b), a - b);
            assert_eq!(MsmField::minus(&b, &a), b - a);
        }
    }

    #[test]
    fn a_length_mismatch_is_an_error() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let table = FixedBaseMsm::new(&random_bases(4, &mut rng));
        assert_eq!(
            table.msm(&[Fr::from(1u64); 3]),
            Err(MsmError::Length {
                bases: 4,
                scalars: 3
            })
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn branchless_subtraction_on_any_bytes(x in any::<[u8; 32]>(), y in any::<[u8; 32]>()) {
            use ark_bn254::Fq;
            let (a, b) = (Fq::from_le_bytes_mod_order(&x), Fq::from_le_bytes_mod_order(&y));
            prop_assert_eq!(MsmField::minus(&a, &b), a - b);
            // The scalar field is another modulus of four limbs.
            let (s, t) = (Fr::from_le_bytes_mod_order(&x), Fr::from_le_bytes_mod_order(&y));
            prop_assert_eq!(MsmField::minus(&s, &t), s - t);
        }

        #[test]
        fn random_inputs_match_ark_ec(
            seed in any::<u64>(),
            n in 0usize..200,
            window in 2u32..=16,
            identities in 0usize..4,
            small in any::<bool>(),
        ) {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let mut bases = random_bases(n, &mut rng);
            for k in 0..identities.min(n) {
                bases[(k * 7) % n] = G1Affine::identity();
            }
            if n >= 4 {
                bases[n - 1] = bases[0];
                bases[n - 2] = -bases[1];
            }
            let scalars: Vec<Fr> = (0..n)
                .map(|_| if small { Fr::from(u64::from(rand::Rng::gen::<u8>(&mut rng)) % 5) } else { Fr::rand(&mut rng) })
                .collect();
            let table = FixedBaseMsm::with_window(&bases, window);
            let want: G1Projective = reference(&bases, &scalars);
            prop_assert_eq!(table.msm(&scalars).unwrap().into_affine(), want.into_affine());
        }
    }
}

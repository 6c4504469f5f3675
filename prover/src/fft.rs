//! FFTs over the mixed-radix domains of [`medproof_params::reduction::smallest_domain`]
//! (`3^b·2^k` points), for the witness map.
//!
//! ark-poly's mixed-radix FFT permutes with a `seen` table and spends about eight
//! multiplications on each radix-3 step of three points, so a claim's witness map over
//! 9,216 points took longer than over 16,384 with the radix-2 FFT. Here each factor 3
//! is one Cooley–Tukey step: the three thirds of the vector are combined column by
//! column (one multiplication by a cube root of unity, `y1 = (a − c) + w·(b − c)` and
//! `y2 = (a − b) − w·(b − c)`, since `w² = −1 − w`), twiddled, transformed recursively
//! (the thirds side by side), and interleaved; what is left is a power of two, done by
//! ark-poly's radix-2 FFT with the generator set to the one needed. The output equals
//! ark-poly's for the same domain (tested against it).

use ark_bn254::Fr;
use ark_ff::{Field, One, Zero};
use ark_poly::{EvaluationDomain, MixedRadixEvaluationDomain, Radix2EvaluationDomain};
use rayon::prelude::*;

/// Columns per rayon task in a radix-3 step.
const CHUNK: usize = 512;

/// From the evaluations `x` on the domain's points `ω^j` to those of the same
/// polynomial on `offset·ω^j`: the inverse transform, one pass multiplying by
/// `offset^i/n` (the inverse's `1/n` and the shift together), the forward transform.
pub fn domain_to_coset(domain: &MixedRadixEvaluationDomain<Fr>, x: &mut [Fr], offset: Fr) {
    debug_assert_eq!(x.len() as u64, domain.size);
    dft(x, domain.group_gen_inv);
    scale_by_powers(x, offset, domain.size_inv);
    dft(x, domain.group_gen);
}

/// The coefficients of the polynomial whose evaluations on `offset·ω^j` are `x`;
/// `offset` is not zero (the prover's is the field's generator).
pub fn coset_ifft(domain: &MixedRadixEvaluationDomain<Fr>, x: &mut [Fr], offset: Fr) {
    debug_assert_eq!(x.len() as u64, domain.size);
    debug_assert!(!offset.is_zero());
    dft(x, domain.group_gen_inv);
    let inv = offset.inverse().unwrap_or_else(Fr::one);
    scale_by_powers(x, inv, domain.size_inv);
}

/// `x[i] *= c·g^i`, in parallel chunks.
fn scale_by_powers(x: &mut [Fr], g: Fr, c: Fr) {
    x.par_chunks_mut(CHUNK).enumerate().for_each(|(k, chunk)| {
        let mut p = c * g.pow([(k * CHUNK) as u64]);
        for v in chunk {
            *v *= p;
            p *= g;
        }
    });
}

/// `x[j] ← Σ_i x[i]·ω^(ij)`, for `ω` of order `x.len()` (a power of two times a power
/// of three).
fn dft(x: &mut [Fr], omega: Fr) {
    let n = x.len();
    if !n.is_multiple_of(3) {
        return radix2(x, omega);
    }
    let m = n / 3;
    let w = omega.pow([m as u64]);
    {
        let (r0, rest) = x.split_at_mut(m);
        let (r1, r2) = rest.split_at_mut(m);
        // Column i: (a, b, c) = (x[i], x[m + i], x[2m + i]) → its 3-point DFT, the
        // second and third outputs twiddled by ω^i and ω^(2i).
        r0.par_chunks_mut(CHUNK)
            .zip(r1.par_chunks_mut(CHUNK))
            .zip(r2.par_chunks_mut(CHUNK))
            .enumerate()
            .for_each(|(k, ((a, b), c))| {
                let mut t = omega.pow([(k * CHUNK) as u64]);
                for ((a, b), c) in a.iter_mut().zip(b.iter_mut()).zip(c.iter_mut()) {
                    let u = w * (*b - *c);
                    let (y1, y2) = (*a - *c + u, *a - *b - u);
                    *a += *b + *c;
                    *b = y1 * t;
                    *c = y2 * t.square();
                    t *= omega;
                }
            });
        let omega3 = omega.pow([3]);
        rayon::join(
            || dft(r0, omega3),
            || rayon::join(|| dft(r1, omega3), || dft(r2, omega3)),
        );
    }
    // Row r holds the outputs r, r + 3, r + 6, ...: interleave them.
    let rows = x.to_vec();
    x.par_chunks_mut(3 * CHUNK)
        .enumerate()
        .for_each(|(k, out)| {
            for (i, v) in out.chunks_mut(3).enumerate() {
                let j = k * CHUNK + i;
                v.copy_from_slice(&[rows[j], rows[m + j], rows[2 * m + j]]);
            }
        });
}

/// A radix-2 DFT with the generator `omega` (ark-poly's, its generator replaced).
fn radix2(x: &mut [Fr], omega: Fr) {
    let Some(mut domain) = Radix2EvaluationDomain::<Fr>::new(x.len()) else {
        unreachable!("a factor of a mixed-radix domain's size is a radix-2 size")
    };
    domain.group_gen = omega;
    domain.group_gen_inv = omega.inverse().unwrap_or_else(Fr::one);
    let mut v = x.to_vec();
    domain.fft_in_place(&mut v);
    x.copy_from_slice(&v);
}

#[cfg(test)]
mod tests {
    use ark_ff::UniformRand;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;

    #[test]
    fn the_same_transforms_as_ark_poly() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let g = Fr::from(5u64);
        // 3, 9, 2^k·3 and 2^k·9 points, and a power of two (no factor 3).
        for n in [3, 9, 6, 18, 96, 288, 6_144, 9_216, 1_024] {
            let domain = MixedRadixEvaluationDomain::<Fr>::new(n).unwrap();
            assert_eq!(domain.size(), n);
            let coset = domain.get_coset(g).unwrap();
            let x: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();

            // Evaluations on the domain to evaluations on the coset, and (offset one)
            // back to themselves.
            let (mut ours, mut theirs) = (x.clone(), x.clone());
            domain_to_coset(&domain, &mut ours, g);
            domain.ifft_in_place(&mut theirs);
            coset.fft_in_place(&mut theirs);
            assert_eq!(ours, theirs, "to the coset, {n} points");
            assert_ne!(ours, x);

            let mut ours = x.clone();
            domain_to_coset(&domain, &mut ours, Fr::one());
            assert_eq!(ours, x, "to the domain itself, {n} points");

            let (mut ours, mut theirs) = (x.clone(), x.clone());
            coset_ifft(&domain, &mut ours, Fr::one());
            domain.ifft_in_place(&mut theirs);
            assert_eq!(ours, theirs, "ifft, {n} points");

            let (mut ours, mut theirs) = (x.clone(), x);
            coset_ifft(&domain, &mut ours, g);
            coset.ifft_in_place(&mut theirs);
            assert_eq!(ours, theirs, "coset ifft, {n} points");
        }
    }
}

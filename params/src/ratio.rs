//! The two pairing tools both ceremony phases check with: snarkjs's `sameRatio` and one
//! random linear combination of a list of points.

use ark_bn254::{Bn254, G1Affine, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::Zero;

/// snarkjs's `sameRatio`: whether `e(g1s, g2sx) == e(g1sx, g2s)` (one secret takes `g1s`
/// to `g1sx` and `g2s` to `g2sx`); false if any point is the identity.
pub(crate) fn same_ratio(g1s: G1Affine, g1sx: G1Affine, g2s: G2Affine, g2sx: G2Affine) -> bool {
    if g1s.is_zero() || g1sx.is_zero() || g2s.is_zero() || g2sx.is_zero() {
        return false;
    }
    Bn254::multi_pairing([g1s, (-g1sx.into_group()).into_affine()], [g2sx, g2s]).is_zero()
}

/// `Σ r_i p_i`: one random combination of `ps`, so that one pairing checks them all.
pub(crate) fn combine<A: AffineRepr>(ps: &[A], r: &[A::ScalarField]) -> A
where
    A::Group: VariableBaseMSM<MulBase = A>,
{
    <A::Group as VariableBaseMSM>::msm_unchecked(ps, r).into_affine()
}

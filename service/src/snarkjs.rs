//! Export of a verifying key and a proof in the JSON formats `snarkjs groth16 verify`
//! reads: decimal strings, projective coordinates with z = 1, G2 coordinates as
//! `[c0, c1]`.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use ark_bn254::{G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::PrimeField;
use medproof_verifier::bundle::DecodedBundle;
use medproof_verifier::fr_to_decimal;
use medproof_verifier::groth16::VerifyingKey;
use num_bigint::BigUint;
use serde_json::{json, Value};

fn dec<F: PrimeField>(x: F) -> String {
    let b: BigUint = x.into_bigint().into();
    b.to_string()
}

fn g1(p: &G1Affine) -> Value {
    // snarkjs writes the point at infinity as [0, 1, 0].
    match p.xy() {
        Some((x, y)) => json!([dec(x), dec(y), "1"]),
        None => json!(["0", "1", "0"]),
    }
}

fn g2(p: &G2Affine) -> Value {
    match p.xy() {
        Some((x, y)) => json!([[dec(x.c0), dec(x.c1)], [dec(y.c0), dec(y.c1)], ["1", "0"]]),
        None => json!([["0", "0"], ["1", "0"], ["0", "0"]]),
    }
}

/// The verifying key as `verification_key.json`.
pub fn verification_key(vk: &VerifyingKey) -> Value {
    json!({
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.num_inputs(),
        "vk_alpha_1": g1(&vk.alpha_g1),
        "vk_beta_2": g2(&vk.beta_g2),
        "vk_gamma_2": g2(&vk.gamma_g2),
        "vk_delta_2": g2(&vk.delta_g2),
        "IC": vk.gamma_abc_g1.iter().map(g1).collect::<Vec<_>>(),
    })
}

/// The proof as `proof.json`.
pub fn proof(bundle: &DecodedBundle) -> Value {
    json!({
        "pi_a": g1(&bundle.proof.a),
        "pi_b": g2(&bundle.proof.b),
        "pi_c": g1(&bundle.proof.c),
        "protocol": "groth16",
        "curve": "bn128",
    })
}

/// The public inputs as `public.json`, in circuit order.
pub fn public(bundle: &DecodedBundle) -> Value {
    json!(bundle.inputs.iter().map(fr_to_decimal).collect::<Vec<_>>())
}

/// Writes the three files into `out`.
pub fn export(vk: &VerifyingKey, bundle: &DecodedBundle, out: &Path) -> Result<()> {
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for (name, value) in [
        ("verification_key.json", verification_key(vk)),
        ("proof.json", proof(bundle)),
        ("public.json", public(bundle)),
    ] {
        let path = out.join(name);
        let text = serde_json::to_string_pretty(&value)?;
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

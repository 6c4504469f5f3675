//! Solidity verifiers for the statements, and the calldata that calls them.
//!
//! The contracts are gnark's Groth16 verifier template, rendered from the data dir's
//! verifying keys by `taceo-groth16-sol` (MIT/Apache). `verifyProof(uint256[8],
//! uint256[N])` returns nothing and reverts on failure: `PublicInputNotInField()` for an
//! input at or above the scalar field's modulus r (the EVM's ECMUL would reduce it, so
//! `x` and `x + r` would otherwise both verify), `ProofInvalid()` for a failed pairing, a
//! point off its curve, or a coordinate at or above the base field's modulus q (which
//! the pairing precompile refuses).
//!
//! The proof's 8 words are A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y: EIP-197
//! wants each G2 coordinate with its imaginary part first.
//!
//! Beside them, [`ANCHOR_CONTRACT`] (`contracts/MedproofAnchor.sol`) takes the ledger's
//! checkpoints and verifies proofs against the roots it holds.

use std::fs;
use std::path::{Path, PathBuf};

use alloy_primitives::{keccak256, U256};
use anyhow::{bail, Context, Result};
use medproof_verifier::bundle::DecodedBundle;
use medproof_verifier::checkpoint::fr_to_be32;
use medproof_verifier::groth16::VerifyingKey;
use medproof_verifier::{Fr, Statement};
use serde::Serialize;
use taceo_groth16_sol::askama::Template;
use taceo_groth16_sol::{SolidityVerifierConfig, SolidityVerifierContext};

/// The Solidity version the contracts are written for (`pragma solidity`).
pub const PRAGMA: &str = "^0.8.20";

/// The contract's name for a statement: `RecordInclusionVerifier`, ...
pub fn contract_name(statement: Statement) -> String {
    let mut name: String = statement
        .name()
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    name.push_str("Verifier");
    name
}

/// The signature of the contract's verifying function for a statement.
pub fn verify_signature(statement: Statement) -> String {
    format!(
        "verifyProof(uint256[8],uint256[{}])",
        statement.input_names().len()
    )
}

/// The contract that verifies `statement`'s proofs under `vk`, as Solidity source.
pub fn verifier_contract(statement: Statement, vk: &VerifyingKey) -> Result<String> {
    let inputs = statement.input_names();
    if vk.num_inputs() != inputs.len() {
        bail!(
            "the {statement} verifying key has {} public inputs, the statement {}",
            vk.num_inputs(),
            inputs.len()
        );
    }
    let context = SolidityVerifierContext {
        vk: ark_groth16::VerifyingKey {
            alpha_g1: vk.alpha_g1,
            beta_g2: vk.beta_g2,
            gamma_g2: vk.gamma_g2,
            delta_g2: vk.delta_g2,
            gamma_abc_g1: vk.gamma_abc_g1.clone(),
        },
        config: SolidityVerifierConfig {
            pragma_version: PRAGMA.to_string(),
        },
    };
    let rendered = context
        .render()
        .context("cannot render the Solidity verifier template")?;
    // The template names its contract `Verifier`; one file per statement names each.
    let declaration = "\ncontract Verifier {";
    if rendered.matches(declaration).count() != 1 {
        bail!("the Solidity verifier template no longer declares one `contract Verifier`");
    }
    let name = contract_name(statement);
    let header = format!(
        "\n/// medproof {statement} (circuit version {}), verifying key {}.\n/// verifyProof(proof, input): input = [{}].\ncontract {name} {{",
        statement.version(),
        vk.id(),
        inputs.join(", "),
    );
    let mut source = rendered.trim_start().replacen(declaration, &header, 1);
    source.push('\n');
    Ok(source)
}

/// The anchoring contract: the ledger's account posts its checkpoints (strictly
/// increasing seq); contracts verify proofs against anchored roots that are fresh by
/// block time, through the three verifiers.
pub const ANCHOR_CONTRACT: &str = include_str!("../contracts/MedproofAnchor.sol");

/// Writes `<Contract>.sol` for each `(statement, key)` into `out`, and
/// `MedproofAnchor.sol`; returns the paths. Every contract is rendered before any file is
/// written.
pub fn write_contracts(keys: &[(Statement, VerifyingKey)], out: &Path) -> Result<Vec<PathBuf>> {
    let mut files = keys
        .iter()
        .map(|(statement, vk)| {
            Ok((
                format!("{}.sol", contract_name(*statement)),
                verifier_contract(*statement, vk)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    files.push((
        "MedproofAnchor.sol".to_string(),
        ANCHOR_CONTRACT.to_string(),
    ));
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut written = Vec::new();
    for (name, source) in files {
        let path = out.join(name);
        fs::write(&path, source).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// What a contract call needs to verify one bundle.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Calldata {
    /// The statement.
    pub statement: String,
    /// The verifying key the proof was made for (the contract's header names it).
    pub vk_id: String,
    /// The contract [`write_contracts`] writes for the statement.
    pub contract: String,
    /// The function to call.
    pub function: String,
    /// A, B, C as 8 words (0x, 32 bytes each), G2 coordinates imaginary part first.
    pub proof: Vec<String>,
    /// The proof as `verifyCompressedProof` takes it (4 words).
    pub compressed_proof: Vec<String>,
    /// The public inputs' names, in circuit order.
    pub input_names: Vec<String>,
    /// The public inputs (0x, 32 bytes each), in circuit order.
    pub input: Vec<String>,
    /// The whole call: the function's selector and its ABI-encoded arguments (static
    /// arrays: one word each, in order), for `eth_call`.
    pub calldata: String,
}

fn word(x: U256) -> String {
    format!("0x{}", hex::encode(x.to_be_bytes::<32>()))
}

fn field_word(x: &Fr) -> U256 {
    U256::from_be_bytes(fr_to_be32(x))
}

/// The calldata of `verifyProof` for a decoded bundle (its points are validated).
pub fn calldata(bundle: &DecodedBundle) -> Calldata {
    let ark = ark_groth16::Proof {
        a: bundle.proof.a,
        b: bundle.proof.b,
        c: bundle.proof.c,
    };
    let proof = taceo_groth16_sol::prepare_uncompressed_proof(&ark);
    let compressed = taceo_groth16_sol::prepare_compressed_proof(&ark);
    let input: Vec<U256> = bundle.inputs.iter().map(field_word).collect();
    let function = verify_signature(bundle.statement);
    let mut call = keccak256(function.as_bytes())[..4].to_vec();
    for w in proof.iter().chain(&input) {
        call.extend_from_slice(&w.to_be_bytes::<32>());
    }
    Calldata {
        statement: bundle.statement.name().to_string(),
        vk_id: bundle.vk_id.clone(),
        contract: contract_name(bundle.statement),
        function,
        proof: proof.iter().copied().map(word).collect(),
        compressed_proof: compressed.iter().copied().map(word).collect(),
        input_names: bundle
            .statement
            .input_names()
            .iter()
            .map(|n| n.to_string())
            .collect(),
        input: input.into_iter().map(word).collect(),
        calldata: format!("0x{}", hex::encode(call)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::PrimeField;

    #[test]
    fn contract_names_and_signatures() {
        assert_eq!(
            contract_name(Statement::RecordInclusion),
            "RecordInclusionVerifier"
        );
        assert_eq!(
            contract_name(Statement::AccessAuthorization),
            "AccessAuthorizationVerifier"
        );
        assert_eq!(
            contract_name(Statement::ClaimCompliance),
            "ClaimComplianceVerifier"
        );
        assert_eq!(
            verify_signature(Statement::AccessAuthorization),
            "verifyProof(uint256[8],uint256[7])"
        );
    }

    fn key(inputs: usize) -> VerifyingKey {
        use ark_ec::AffineRepr;
        let g1 = ark_bn254::G1Affine::generator();
        let g2 = ark_bn254::G2Affine::generator();
        VerifyingKey {
            alpha_g1: g1,
            beta_g2: g2,
            gamma_g2: g2,
            delta_g2: g2,
            gamma_abc_g1: vec![g1; inputs + 1],
        }
    }

    #[test]
    fn a_contract_names_its_statement_key_and_inputs() {
        let vk = key(3);
        let source = verifier_contract(Statement::RecordInclusion, &vk).unwrap();
        assert!(source.starts_with("// SPDX-License-Identifier: MIT\n"));
        assert!(source.contains(&format!("pragma solidity {PRAGMA};")));
        assert!(source.contains("\ncontract RecordInclusionVerifier {"));
        assert!(!source.contains("contract Verifier"));
        assert!(source.contains(&vk.id()));
        assert!(source.contains("input = [records_root, category, binding]"));
        assert!(source.contains("uint256[3] calldata input"));
        // A key with another number of inputs than the statement is refused.
        let err = verifier_contract(Statement::AccessAuthorization, &vk).unwrap_err();
        assert!(err.to_string().contains("3 public inputs"), "{err}");
    }

    #[test]
    fn the_anchor_contract_agrees_with_the_rust_constants() {
        use medproof_verifier::checkpoint::CHECKPOINT_DOMAIN;
        let domain = std::str::from_utf8(CHECKPOINT_DOMAIN).unwrap();
        assert!(ANCHOR_CONTRACT.contains(&format!("\"{domain}\", c.seq")));
        let r = num_bigint::BigUint::from(ark_bn254::Fr::MODULUS);
        assert!(ANCHOR_CONTRACT.contains(&format!("\n        {r};")));
        for statement in Statement::ALL {
            let signature = format!(
                "verifyProof(uint256[8] calldata proof, uint256[{}] calldata input)",
                statement.input_names().len()
            );
            assert!(ANCHOR_CONTRACT.contains(&signature), "{statement}");
            // Each statement's root is its first input, as the contract reads it.
            assert_eq!(statement.root_input().0, 0, "{statement}");
        }
        use medproof_verifier::AccessPublic;
        assert!(
            ANCHOR_CONTRACT.contains(&format!("uint256 proofNow = input[{}];", AccessPublic::NOW))
        );
    }

    #[test]
    fn a_field_element_is_one_big_endian_word() {
        let w = field_word(&Fr::from(0x0102u64));
        assert_eq!(
            word(w),
            "0x0000000000000000000000000000000000000000000000000000000000000102"
        );
        // -1 in Fr is r - 1.
        let minus_one = field_word(&-Fr::from(1u64));
        assert_eq!(
            word(minus_one + U256::from(1u64)),
            "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001"
        );
    }
}

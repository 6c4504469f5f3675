//! The JSON proof bundle: how a proof travels between prover, ledger and verifier.
//!
//! ```json
//! {
//!   "statement": "record-inclusion",
//!   "version": 2,
//!   "public_inputs": { "records_root": "123…", "category": "3", "binding": "42…" },
//!   "proof": "<base64 of the 128-byte compressed proof>",
//!   "vk_id": "<hex SHA-256 of the compressed verifying key>"
//! }
//! ```
//!
//! Unknown fields, missing fields, wrong types and duplicated input names are errors.
//! The input vector is built from the statement's typed struct, never from the order in
//! which a client listed its inputs.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, CheckpointError, CheckpointJson};
use crate::freshness::{Freshness, FreshnessError};
use crate::groth16::{PreparedVerifyingKey, Proof, VerifyError};
use crate::statement::{AccessPublic, LedgerRoot, PublicInputError, PublicInputs, Statement};
use crate::Fr;

/// Why a bundle could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Not JSON, or JSON of the wrong shape.
    #[error("not a valid proof bundle: {0}")]
    Json(#[from] serde_json::Error),
    /// A statement name this verifier does not know.
    #[error("unknown statement `{0}`")]
    UnknownStatement(String),
    /// A known statement at a version this verifier does not have.
    #[error("statement `{statement}` version {got} is not supported (this verifier has version {expected})")]
    Version {
        /// The statement.
        statement: Statement,
        /// The version it has here.
        expected: u32,
        /// The version in the bundle.
        got: u32,
    },
    /// The public inputs do not fit the statement.
    #[error(transparent)]
    Inputs(#[from] PublicInputError),
    /// The proof field is not base64.
    #[error("proof is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The proof or key failed to decode, or the input count is wrong.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// No verifying key is loaded for the statement.
    #[error("no verifying key loaded for statement `{0}`")]
    NoKey(Statement),
    /// The bundle carries no checkpoint, and one is required.
    #[error("the bundle carries no ledger checkpoint, so its root cannot be checked")]
    NoCheckpoint,
    /// The checkpoint is malformed or not signed by the trusted ledger key.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The proof is not against the checkpoint's root.
    #[error("the proof's `{input}` is not the checkpoint's root")]
    RootMismatch {
        /// The public input that should equal the root.
        input: &'static str,
    },
    /// The root is stale, or the proof's time is too far from the verifier's.
    #[error(transparent)]
    Freshness(#[from] FreshnessError),
    /// The bundle names a different verifying key than the one loaded.
    #[error("bundle was made for verifying key {got}, but the loaded key is {expected}")]
    KeyMismatch {
        /// The loaded key's id.
        expected: String,
        /// The id in the bundle.
        got: String,
    },
}

/// A proof bundle as it travels (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofBundle {
    /// The statement's name.
    pub statement: String,
    /// The statement's circuit version.
    pub version: u32,
    /// Named public inputs; field elements as canonical decimal strings.
    #[serde(deserialize_with = "unique_keys")]
    pub public_inputs: BTreeMap<String, String>,
    /// Base64 (standard alphabet, padded) of the compressed proof.
    pub proof: String,
    /// Id of the verifying key the proof was made for.
    pub vk_id: String,
    /// The ledger checkpoint whose root the proof was made against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CheckpointJson>,
    /// Where that checkpoint is in the ledger's transparency log, with the witnesses'
    /// cosignatures (for verifiers that require witnesses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<crate::tlog::LogProof>,
}

/// A bundle whose every part has been parsed and range-checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedBundle {
    /// The statement.
    pub statement: Statement,
    /// Public inputs in circuit order, built from the typed struct.
    pub inputs: Vec<Fr>,
    /// The proof, with validated points.
    pub proof: Proof,
    /// Id of the verifying key it names.
    pub vk_id: String,
}

impl DecodedBundle {
    /// The time the proof states, for statements that have one (access authorization).
    pub fn now(&self) -> Option<u64> {
        match self.statement {
            Statement::AccessAuthorization => {
                medproof_statement::statement::small_u64(&self.inputs[AccessPublic::NOW])
            }
            Statement::RecordInclusion | Statement::ClaimCompliance => None,
        }
    }
}

/// A ledger's checkpoint history, as a verifier needs it to judge a root's freshness.
pub trait CheckpointHistory {
    /// When `checkpoint` was superseded (`None` while it is the latest), or
    /// [`FreshnessError::UnknownCheckpoint`] if this ledger has no such checkpoint.
    fn superseded_at(&self, checkpoint: &Checkpoint) -> Result<Option<u64>, FreshnessError>;
}

impl ProofBundle {
    /// Builds a bundle from typed inputs and a proof.
    pub fn new<P: PublicInputs>(inputs: &P, proof: &Proof, vk_id: &str) -> Self {
        Self {
            statement: P::STATEMENT.name().to_string(),
            version: P::STATEMENT.version(),
            public_inputs: inputs.to_named(),
            proof: base64::engine::general_purpose::STANDARD.encode(proof.to_compressed()),
            vk_id: vk_id.to_string(),
            checkpoint: None,
            log: None,
        }
    }

    /// The same bundle, carrying the checkpoint it was made against.
    pub fn with_checkpoint(mut self, checkpoint: &Checkpoint) -> Self {
        self.checkpoint = Some(checkpoint.to_json());
        self
    }

    /// Parses a bundle from JSON text.
    pub fn from_json(text: &str) -> Result<Self, BundleError> {
        Ok(serde_json::from_str(text)?)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a bundle always serializes")
    }

    /// Parses the statement, the typed inputs and the proof, checking every range.
    pub fn decode(&self) -> Result<DecodedBundle, BundleError> {
        let statement = Statement::from_name(&self.statement)
            .ok_or_else(|| BundleError::UnknownStatement(self.statement.clone()))?;
        if self.version != statement.version() {
            return Err(BundleError::Version {
                statement,
                expected: statement.version(),
                got: self.version,
            });
        }
        let inputs = statement.parse_inputs(&self.public_inputs)?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(&self.proof)?;
        let proof = Proof::from_compressed(&bytes)?;
        Ok(DecodedBundle {
            statement,
            inputs,
            proof,
            vk_id: self.vk_id.clone(),
        })
    }
}

/// Verifying keys by statement: checks bundles end to end.
#[derive(Debug, Default, Clone)]
pub struct Verifier {
    keys: BTreeMap<Statement, PreparedVerifyingKey>,
}

impl Verifier {
    /// An empty verifier.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the key for `statement`. Fails if the key's input count does
    /// not match the statement's.
    pub fn insert(
        &mut self,
        statement: Statement,
        key: PreparedVerifyingKey,
    ) -> Result<(), VerifyError> {
        let expected = statement.input_names().len();
        if key.key().num_inputs() != expected {
            return Err(VerifyError::InputCount {
                expected,
                got: key.key().num_inputs(),
            });
        }
        self.keys.insert(statement, key);
        Ok(())
    }

    /// The prepared key for `statement`.
    pub fn key(&self, statement: Statement) -> Option<&PreparedVerifyingKey> {
        self.keys.get(&statement)
    }

    /// Decodes a bundle and finds its key, checking the key id.
    pub fn prepare<'a>(
        &'a self,
        bundle: &ProofBundle,
    ) -> Result<(DecodedBundle, &'a PreparedVerifyingKey), BundleError> {
        let decoded = bundle.decode()?;
        let key = self
            .keys
            .get(&decoded.statement)
            .ok_or(BundleError::NoKey(decoded.statement))?;
        if key.id() != decoded.vk_id {
            return Err(BundleError::KeyMismatch {
                expected: key.id().to_string(),
                got: decoded.vk_id,
            });
        }
        Ok((decoded, key))
    }

    /// Checks one bundle's proof: `Ok(false)` if the proof is wrong, `Err` if the bundle
    /// is malformed or made for another key. The root is taken as given: use
    /// [`Verifier::verify_against`] to check it against a signed checkpoint.
    pub fn verify(&self, bundle: &ProofBundle) -> Result<bool, BundleError> {
        let (decoded, key) = self.prepare(bundle)?;
        Ok(key.verify(&decoded.inputs, &decoded.proof)?)
    }

    /// Checks a decoded bundle's checkpoint: present, signed by `ledger_key`, and with
    /// the root the proof was made against. Returns the parsed checkpoint.
    pub fn check_checkpoint(
        bundle: &ProofBundle,
        decoded: &DecodedBundle,
        ledger_key: &ed25519_dalek::VerifyingKey,
    ) -> Result<Checkpoint, BundleError> {
        Self::check_checkpoint_with(bundle, decoded, |cp| cp.verify(ledger_key))
    }

    /// [`Verifier::check_checkpoint`] with the signature check supplied by the caller
    /// (an audit checks each distinct checkpoint's signature once, not once per proof).
    pub fn check_checkpoint_with(
        bundle: &ProofBundle,
        decoded: &DecodedBundle,
        signed: impl FnOnce(&Checkpoint) -> Result<(), CheckpointError>,
    ) -> Result<Checkpoint, BundleError> {
        let checkpoint = bundle
            .checkpoint
            .as_ref()
            .ok_or(BundleError::NoCheckpoint)?
            .parse()?;
        signed(&checkpoint)?;
        let (position, which) = decoded.statement.root_input();
        let expected = match which {
            LedgerRoot::Records => checkpoint.records_root,
            LedgerRoot::Consents => checkpoint.consents_root,
        };
        if decoded.inputs[position] != expected {
            return Err(BundleError::RootMismatch {
                input: decoded.statement.input_names()[position],
            });
        }
        Ok(checkpoint)
    }

    /// Checks a bundle against the ledger: its checkpoint must be signed by `ledger_key`
    /// and the proof's root must be the checkpoint's; then the proof is checked.
    /// Returns the checkpoint, so the caller can judge its freshness (or use
    /// [`Verifier::verify_fresh`], which does).
    pub fn verify_against(
        &self,
        bundle: &ProofBundle,
        ledger_key: &ed25519_dalek::VerifyingKey,
    ) -> Result<(bool, Checkpoint), BundleError> {
        let (decoded, key) = self.prepare(bundle)?;
        let checkpoint = Self::check_checkpoint(bundle, &decoded, ledger_key)?;
        Ok((key.verify(&decoded.inputs, &decoded.proof)?, checkpoint))
    }

    /// Everything [`Verifier::verify_against`] checks, and freshness at time `at` (the
    /// verifier's clock, Unix seconds): the checkpoint is one of the ledger's, latest or
    /// superseded less than the window before `at`, and a proof's `now` is within the
    /// skew of `at`.
    pub fn verify_fresh(
        &self,
        bundle: &ProofBundle,
        ledger_key: &ed25519_dalek::VerifyingKey,
        history: &impl CheckpointHistory,
        rules: &Freshness,
        at: u64,
    ) -> Result<(bool, Checkpoint), BundleError> {
        let (decoded, key) = self.prepare(bundle)?;
        let checkpoint = Self::check_checkpoint(bundle, &decoded, ledger_key)?;
        let superseded_at = history.superseded_at(&checkpoint)?;
        rules.check_root(checkpoint.seq, checkpoint.time, superseded_at, at)?;
        if let Some(now) = decoded.now() {
            rules.check_now(now, at)?;
        }
        Ok((key.verify(&decoded.inputs, &decoded.proof)?, checkpoint))
    }
}

impl BundleError {
    /// Whether the bundle is well formed and its proof simply does not hold against the
    /// trusted ledger (no checkpoint, an untrusted signature, another root, a stale
    /// root), as opposed to malformed input or a missing key.
    pub fn is_verdict(&self) -> bool {
        matches!(
            self,
            BundleError::NoCheckpoint
                | BundleError::Checkpoint(CheckpointError::BadSignature)
                | BundleError::RootMismatch { .. }
                | BundleError::Freshness(_)
        )
    }
}

/// Deserializes a JSON object into a map, refusing a key that appears twice.
fn unique_keys<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of named decimal strings")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((k, v)) = map.next_entry::<String, String>()? {
                if out.contains_key(&k) {
                    return Err(serde::de::Error::custom(format!(
                        "duplicate public input `{k}`"
                    )));
                }
                out.insert(k, v);
            }
            Ok(out)
        }
    }
    d.deserialize_map(V)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"statement":"record-inclusion","version":2,
        "public_inputs":{"records_root":"1","category":"2","binding":"3"},
        "proof":"AA==","vk_id":"x"}"#;

    #[test]
    fn shape_errors() {
        assert!(ProofBundle::from_json(GOOD).is_ok());
        assert!(ProofBundle::from_json("not json").is_err());
        let extra = GOOD.replace(r#""vk_id":"x""#, r#""vk_id":"x","extra":1"#);
        assert!(ProofBundle::from_json(&extra).is_err());
        let missing = GOOD.replace(r#","vk_id":"x""#, "");
        assert!(ProofBundle::from_json(&missing).is_err());
        let wrong_type = GOOD.replace(r#""version":2"#, r#""version":"2""#);
        assert!(ProofBundle::from_json(&wrong_type).is_err());
        let number_input = GOOD.replace(r#""category":"2""#, r#""category":2"#);
        assert!(ProofBundle::from_json(&number_input).is_err());
        let dup = GOOD.replace(r#""category":"2""#, r#""category":"2","category":"5""#);
        let err = ProofBundle::from_json(&dup).unwrap_err().to_string();
        assert!(err.contains("duplicate public input"), "{err}");
    }

    #[test]
    fn decode_errors() {
        let b = ProofBundle::from_json(GOOD).unwrap();
        // "AA==" decodes to one byte: not a proof.
        assert!(matches!(
            b.decode(),
            Err(BundleError::Verify(VerifyError::Encoding { .. }))
        ));
        let mut v = b.clone();
        v.version = 9;
        assert!(matches!(
            v.decode(),
            Err(BundleError::Version { got: 9, .. })
        ));
        let mut s = b.clone();
        s.statement = "nope".into();
        assert!(matches!(s.decode(), Err(BundleError::UnknownStatement(_))));
        let mut p = b;
        p.proof = "!!".into();
        assert!(matches!(p.decode(), Err(BundleError::Base64(_))));
    }
}

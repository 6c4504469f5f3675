//! The JSON input of `medproof prove record-inclusion`.
//!
//! ```json
//! {
//!   "leaves": ["<decimal>", "..."],
//!   "index": 3,
//!   "record": {
//!     "patient_ref": "<decimal>",
//!     "category": 3,
//!     "content_sha256": "<64 hex digits>",
//!     "created_at": 1760000000,
//!     "blinding": "<decimal>"
//!   },
//!   "binding": "<decimal>"
//! }
//! ```
//!
//! `leaves` are the records tree's leaves (record commitments) in order; `index` is the
//! position of the record to prove; `record` is its opening; `binding` is the context the
//! proof is bound to (e.g. the verifier's challenge). Field elements are canonical
//! decimal strings. Until the ledger lands, the tree is rebuilt from `leaves`.

use anyhow::{anyhow, bail, Context, Result};
use medproof_circuits::commit::{ContentDigest, RecordOpening};
use medproof_circuits::merkle::MerkleTree;
use medproof_prover::RecordInclusionRequest;
use medproof_verifier::statement::RecordInclusionPublic;
use medproof_verifier::{fr_from_decimal, fr_to_decimal, Fr};
use serde::{Deserialize, Serialize};

/// A record's opening as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordJson {
    /// The patient's pseudonym, decimal.
    pub patient_ref: String,
    /// Category code.
    pub category: u32,
    /// SHA-256 of the record's content, hex.
    pub content_sha256: String,
    /// Creation time, Unix seconds.
    pub created_at: u64,
    /// Blinding, decimal.
    pub blinding: String,
}

/// The whole input.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordInclusionInput {
    /// Leaves of the records tree, decimal.
    pub leaves: Vec<String>,
    /// Position of the record to prove.
    pub index: u64,
    /// The record's opening.
    pub record: RecordJson,
    /// Context binding, decimal.
    pub binding: String,
}

fn field(name: &str, s: &str) -> Result<Fr> {
    fr_from_decimal(s).map_err(|e| anyhow!("`{name}`: {e}"))
}

impl RecordJson {
    /// From an opening.
    pub fn from_opening(r: &RecordOpening) -> Self {
        Self {
            patient_ref: fr_to_decimal(&r.patient_ref),
            category: r.category,
            content_sha256: hex::encode(r.content_digest.0),
            created_at: r.created_at,
            blinding: fr_to_decimal(&r.blinding),
        }
    }

    /// To an opening, checking every field.
    pub fn to_opening(&self) -> Result<RecordOpening> {
        let digest: [u8; 32] = hex::decode(&self.content_sha256)
            .ok()
            .and_then(|d| d.try_into().ok())
            .ok_or_else(|| anyhow!("`record.content_sha256`: expected 64 hex digits"))?;
        Ok(RecordOpening {
            patient_ref: field("record.patient_ref", &self.patient_ref)?,
            category: self.category,
            content_digest: ContentDigest(digest),
            created_at: self.created_at,
            blinding: field("record.blinding", &self.blinding)?,
        })
    }
}

impl RecordInclusionInput {
    /// Parses the JSON text.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).context("not a valid record-inclusion input")
    }

    /// Rebuilds the tree, checks that the record is the leaf at `index`, and makes the
    /// proof request.
    pub fn to_request(&self) -> Result<RecordInclusionRequest> {
        let leaves = self
            .leaves
            .iter()
            .enumerate()
            .map(|(i, s)| field(&format!("leaves[{i}]"), s))
            .collect::<Result<Vec<Fr>>>()?;
        let mut tree = MerkleTree::new();
        tree.extend(&leaves)?;
        let record = self.record.to_opening()?;
        let Some(leaf) = tree.leaf(self.index) else {
            bail!(
                "`index` {} is past the last of the {} leaves",
                self.index,
                leaves.len()
            );
        };
        if leaf != record.commitment() {
            bail!(
                "the record's commitment is not the leaf at index {}",
                self.index
            );
        }
        let public = RecordInclusionPublic::new(
            tree.root(),
            record.category,
            field("binding", &self.binding)?,
        );
        Ok(RecordInclusionRequest {
            public,
            record,
            path: tree.path(self.index)?,
        })
    }
}

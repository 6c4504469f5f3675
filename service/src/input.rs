//! The JSON input of `medproof prove record-inclusion`.
//!
//! ```json
//! {
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
//! `record` is the opening of a record committed to the ledger in the data dir; the
//! proof is made against the ledger's latest checkpoint, which the bundle carries.
//! `binding` is the context the proof is bound to (e.g. the verifier's challenge).
//! Field elements are canonical decimal strings.
//!
//! Without a ledger, `"leaves": [...]` (the records tree's leaves in order: each is a
//! record commitment wrapped with its committer's key), `"index": N` (the record's
//! position) and `"committer": "<hex Ed25519 key>"` (the provider that committed it)
//! rebuild the tree in memory; such a bundle has no checkpoint, and its root can only be
//! checked by whoever knows the tree (`verify --allow-unanchored`).

use anyhow::{anyhow, bail, Context, Result};
use medproof_circuits::commit::{key_ref, record_leaf, ContentDigest, RecordOpening};
use medproof_circuits::merkle::MerkleTree;
use medproof_ledger::{Ledger, RocksStore, TreeId};
use medproof_prover::RecordInclusionRequest;
use medproof_verifier::statement::RecordInclusionPublic;
use medproof_verifier::{fr_from_decimal, fr_to_decimal, Checkpoint, Fr};
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
    /// Leaves of the records tree, decimal (without a ledger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaves: Option<Vec<String>>,
    /// Position of the record to prove (with `leaves`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// The committing provider's Ed25519 public key, hex (with `leaves`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committer: Option<String>,
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

    /// Whether the input carries its own tree (no ledger needed).
    pub fn has_leaves(&self) -> bool {
        self.leaves.is_some()
    }

    /// Makes the proof request: against the ledger's latest checkpoint, or, with
    /// `leaves`, against the tree they make.
    pub fn to_request(
        &self,
        ledger: Option<&Ledger<RocksStore>>,
    ) -> Result<(RecordInclusionRequest, Option<Checkpoint>)> {
        let record = self.record.to_opening()?;
        let binding = field("binding", &self.binding)?;
        let commitment = record.commitment();
        match (&self.leaves, self.index, ledger) {
            (Some(leaves), Some(index), _) => {
                let leaves = leaves
                    .iter()
                    .enumerate()
                    .map(|(i, s)| field(&format!("leaves[{i}]"), s))
                    .collect::<Result<Vec<Fr>>>()?;
                let mut tree = MerkleTree::new();
                tree.extend(&leaves)?;
                let Some(leaf) = tree.leaf(index) else {
                    bail!(
                        "`index` {index} is past the last of the {} leaves",
                        leaves.len()
                    );
                };
                let committer: [u8; 32] = self
                    .committer
                    .as_deref()
                    .and_then(|h| hex::decode(h).ok())
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| {
                        anyhow!("`leaves` needs `committer`: the committing provider's key, 64 hex digits")
                    })?;
                let committer = key_ref(&committer);
                if leaf != record_leaf(committer, commitment) {
                    bail!("the leaf at index {index} is not the record's commitment wrapped with the committer's key");
                }
                let public = RecordInclusionPublic::new(tree.root(), record.category, binding);
                let path = tree.path(index)?;
                Ok((
                    RecordInclusionRequest {
                        public,
                        record,
                        committer,
                        path,
                    },
                    None,
                ))
            }
            (Some(_), None, _) => bail!("`leaves` needs `index`"),
            (None, Some(_), _) => bail!("`index` needs `leaves`"),
            (None, None, None) => bail!("no ledger to prove against, and no `leaves`"),
            (None, None, Some(ledger)) => {
                let anchored = ledger
                    .anchored_path(&commitment)?
                    .ok_or_else(|| anyhow!("the record's commitment is not in a ledger tree"))?;
                if anchored.tree != TreeId::Records {
                    bail!("the commitment is on the ledger, but not as a record");
                }
                let (checkpoint, path, committer) =
                    (anchored.checkpoint, anchored.path, anchored.added_by);
                let public =
                    RecordInclusionPublic::new(checkpoint.records_root, record.category, binding);
                Ok((
                    RecordInclusionRequest {
                        public,
                        record,
                        committer: key_ref(&committer),
                        path,
                    },
                    Some(checkpoint),
                ))
            }
        }
    }
}

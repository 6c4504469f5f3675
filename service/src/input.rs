//! The JSON inputs of the proofs: record inclusion (`medproof prove record-inclusion`,
//! `POST /v1/proofs/record-inclusion`), access ([`AccessInput`]) and claim
//! ([`ClaimInput`]). Each holds a party's secret openings; the service's prover routes
//! receive them, which is why those routes can be switched off on a ledger node.
//!
//! Record inclusion:
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
use medproof_circuits::codes::CodeSet;
use medproof_circuits::commit::{
    key_ref, procedure_code, record_leaf, ClaimOpening, ConsentOpening, ContentDigest,
    PolicyOpening, RecordOpening,
};
use medproof_circuits::merkle::MerkleTree;
use medproof_ledger::{Ledger, RocksStore};
use medproof_prover::RecordInclusionRequest;
use medproof_verifier::statement::RecordInclusionPublic;
use medproof_verifier::{fr_from_decimal, fr_to_decimal, Checkpoint, Fr};
use serde::{Deserialize, Serialize};

/// A record's opening as JSON.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordJson {
    /// The patient's pseudonym, decimal.
    #[schema(pattern = "^[0-9]{1,77}$")]
    pub patient_ref: String,
    /// Category code.
    pub category: u32,
    /// SHA-256 of the record's content, hex.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub content_sha256: String,
    /// Creation time, Unix seconds.
    pub created_at: u64,
    /// Blinding, decimal.
    #[schema(pattern = "^[0-9]{1,77}$")]
    pub blinding: String,
}

/// The whole input.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
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
    #[schema(pattern = "^[0-9]{1,77}$")]
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
                let (request, checkpoint) =
                    crate::assemble::record_inclusion(ledger, record, binding)?;
                Ok((request, Some(checkpoint)))
            }
        }
    }
}

fn key_hex(name: &str, s: &str) -> Result<[u8; 32]> {
    crate::wire::hex_bytes(name, s).map_err(anyhow::Error::from)
}

/// A consent's opening as JSON (the patient shares it with the grantee).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentJson {
    /// The patient's pseudonym, decimal.
    #[schema(pattern = "^[0-9]{1,77}$")]
    pub patient_ref: String,
    /// The grantee's key_ref, decimal.
    #[schema(pattern = "^[0-9]{1,77}$")]
    pub grantee: String,
    /// Record category code.
    pub category: u32,
    /// Purpose code.
    pub purpose: u32,
    /// First second of validity.
    pub valid_from: u64,
    /// Last second of validity.
    pub valid_until: u64,
    /// Blinding, decimal.
    #[schema(pattern = "^[0-9]{1,77}$")]
    pub blinding: String,
}

impl ConsentJson {
    /// From an opening.
    pub fn from_opening(c: &ConsentOpening) -> Self {
        Self {
            patient_ref: fr_to_decimal(&c.patient_ref),
            grantee: fr_to_decimal(&c.grantee),
            category: c.category,
            purpose: c.purpose,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
            blinding: fr_to_decimal(&c.blinding),
        }
    }

    /// To an opening, checking every field.
    pub fn to_opening(&self) -> Result<ConsentOpening> {
        Ok(ConsentOpening {
            patient_ref: field("consent.patient_ref", &self.patient_ref)?,
            grantee: field("consent.grantee", &self.grantee)?,
            category: self.category,
            purpose: self.purpose,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            blinding: field("consent.blinding", &self.blinding)?,
        })
    }
}

/// The input of an access-authorization proof (`POST /v1/proofs/access`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessInput {
    /// The provider's Ed25519 public key, hex (the proof names it).
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub provider: String,
    /// The consent's opening.
    pub consent: ConsentJson,
    /// Its leaf index in the consents tree.
    pub consent_index: u64,
    /// The patient's Ed25519 public key, hex (the consent's granter).
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub granter: String,
    /// The salt of the patient's pseudonym, decimal.
    #[schema(pattern = "^[0-9]{1,77}$")]
    pub patient_salt: String,
    /// The record's opening.
    pub record: RecordJson,
    /// The access time, Unix seconds.
    pub now: u64,
    /// The data holder's challenge, decimal.
    #[schema(pattern = "^[0-9]{1,77}$")]
    pub nonce: String,
}

impl AccessInput {
    /// The proof request, against the ledger's latest checkpoint.
    pub fn to_request<S: medproof_ledger::Store>(
        &self,
        ledger: &Ledger<S>,
    ) -> Result<(medproof_prover::AccessRequest, Checkpoint)> {
        let openings = crate::assemble::AccessOpenings {
            consent: self.consent.to_opening()?,
            consent_index: self.consent_index,
            granter: key_hex("granter", &self.granter)?,
            patient_salt: field("patient_salt", &self.patient_salt)?,
            record: self.record.to_opening()?,
        };
        crate::assemble::check_consent(ledger, &openings)?;
        crate::assemble::access(
            ledger,
            &key_hex("provider", &self.provider)?,
            openings,
            self.now,
            field("nonce", &self.nonce)?,
        )
    }
}

/// A claim record's opening as JSON.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimJson {
    /// The patient's pseudonym, decimal.
    #[schema(pattern = "^[0-9]{1,77}$")]
    pub patient_ref: String,
    /// The procedure code (e.g. `99213`), as billed.
    pub code: String,
    /// Date of service, Unix seconds.
    pub service_date: u64,
    /// Amount claimed, in cents.
    pub amount: u64,
    /// SHA-256 of the claim document, hex.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub content_sha256: String,
    /// Blinding, decimal.
    #[schema(pattern = "^[0-9]{1,77}$")]
    pub blinding: String,
}

impl ClaimJson {
    /// To an opening, checking every field.
    pub fn to_opening(&self) -> Result<ClaimOpening> {
        let digest: [u8; 32] = key_hex("claim.content_sha256", &self.content_sha256)?;
        Ok(ClaimOpening {
            patient_ref: field("claim.patient_ref", &self.patient_ref)?,
            code: procedure_code(&self.code).map_err(|e| anyhow!("`claim.code`: {e}"))?,
            service_date: self.service_date,
            amount: self.amount,
            content_digest: ContentDigest(digest),
            blinding: field("claim.blinding", &self.blinding)?,
        })
    }
}

/// A policy's opening as JSON, with its covered codes.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyJson {
    /// The policyholder's pseudonym, decimal.
    #[schema(pattern = "^[0-9]{1,77}$")]
    pub policyholder: String,
    /// The covered procedure codes (their tree's root is in the commitment).
    pub codes: Vec<String>,
    /// First second of cover.
    pub period_start: u64,
    /// Last second of cover.
    pub period_end: u64,
    /// Largest amount covered, in cents.
    pub limit: u64,
    /// Blinding, decimal.
    #[schema(pattern = "^[0-9]{1,77}$")]
    pub blinding: String,
}

impl PolicyJson {
    /// To an opening and the covered codes' tree, checking every field.
    pub fn to_opening(&self) -> Result<(PolicyOpening, CodeSet)> {
        let codes = CodeSet::new(&self.codes).map_err(|e| anyhow!("`policy.codes`: {e}"))?;
        let policy = PolicyOpening {
            policyholder: field("policy.policyholder", &self.policyholder)?,
            codes_root: codes.root(),
            period_start: self.period_start,
            period_end: self.period_end,
            limit: self.limit,
            blinding: field("policy.blinding", &self.blinding)?,
        };
        Ok((policy, codes))
    }
}

/// The input of a claim-compliance proof (`POST /v1/proofs/claim`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimInput {
    /// The provider's Ed25519 public key, hex (it committed the claim record).
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub provider: String,
    /// The claim record's opening.
    pub claim: ClaimJson,
    /// The policy's opening.
    pub policy: PolicyJson,
    /// The insurer's challenge, decimal.
    #[schema(pattern = "^[0-9]{1,77}$")]
    pub binding: String,
}

impl ClaimInput {
    /// The proof request, against the ledger's latest checkpoint.
    pub fn to_request<S: medproof_ledger::Store>(
        &self,
        ledger: &Ledger<S>,
    ) -> Result<(medproof_prover::ClaimRequest, Checkpoint)> {
        let claim = self.claim.to_opening()?;
        let (policy, codes) = self.policy.to_opening()?;
        crate::assemble::claim(
            ledger,
            &key_hex("provider", &self.provider)?,
            claim,
            policy,
            &codes,
            field("binding", &self.binding)?,
        )
    }
}

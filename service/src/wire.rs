//! The JSON documents medproof exchanges, shared by the CLI and the HTTP API so that a
//! CLI's JSON output and an HTTP response are the same document: signed submissions,
//! entries, checkpoints, anchored paths, and the error body.
//!
//! Conventions: hashes, keys, nonces and signatures in lowercase hex; field elements as
//! canonical decimal strings (a value at or above the scalar field's modulus is refused);
//! times in Unix seconds. No document carries an opening: only commitments, keys,
//! signatures and proof bundles.

use medproof_circuits::merkle::LEDGER_TREE;
use medproof_ledger::entry::{Body, Genesis, GenesisKey};
use medproof_ledger::{Action, CheckpointInfo, Entry, Envelope, Ledger, LedgerError, Role};
use medproof_ledger::{Store, Submission, TreeId};
use medproof_verifier::{fr_from_decimal, fr_to_decimal, Fr};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// An error as the API answers it (and as `medproof client` prints it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable and machine-readable: `malformed`, `bad_signature`, `unknown_key`,
    /// `not_admitted`, `wrong_role`, `replay`, `not_granter`, `expired`, …
    pub error_code: String,
    /// For a person; never names a patient or carries a secret.
    pub error_message: String,
}

/// A wire value that does not parse; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {reason}")]
pub struct WireError {
    /// The field, as a path (`action.commitment`).
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

fn wire_err(field: &str, reason: impl Into<String>) -> WireError {
    WireError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Parses `N` bytes of hex.
pub fn hex_bytes<const N: usize>(field: &str, s: &str) -> Result<[u8; N], WireError> {
    hex::decode(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| wire_err(field, format!("expected {} hex digits", 2 * N)))
}

/// Parses a canonical decimal field element.
pub fn field(field: &str, s: &str) -> Result<Fr, WireError> {
    fr_from_decimal(s).map_err(|e| wire_err(field, e.to_string()))
}

/// A role's name, as [`Role::name`] writes it.
pub fn role_from_name(field: &str, s: &str) -> Result<Role, WireError> {
    [
        Role::Patient,
        Role::Provider,
        Role::Insurer,
        Role::Regulator,
    ]
    .into_iter()
    .find(|r| r.name() == s)
    .ok_or_else(|| {
        wire_err(
            field,
            format!("unknown role `{s}` (patient, provider, insurer, regulator)"),
        )
    })
}

/// What a submission asks, as JSON (`type` names the action).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ActionJson {
    /// The signer registers its own key (patients only).
    RegisterKey {
        /// `patient`.
        #[schema(pattern = "^(patient|provider|insurer|regulator)$")]
        role: String,
    },
    /// A registrar admits a key.
    AdmitKey {
        /// Hex Ed25519 public key.
        #[schema(pattern = "^[0-9a-fA-F]{64}$")]
        key: String,
        /// `provider`, `insurer` or `regulator`.
        #[schema(pattern = "^(patient|provider|insurer|regulator)$")]
        role: String,
    },
    /// A registrar suspends a key.
    SuspendKey {
        /// Hex Ed25519 public key.
        #[schema(pattern = "^[0-9a-fA-F]{64}$")]
        key: String,
    },
    /// A provider commits a record commitment.
    CommitRecord {
        /// Decimal.
        #[schema(pattern = "^[0-9]{1,77}$")]
        commitment: String,
    },
    /// A patient grants a consent.
    GrantConsent {
        /// Decimal.
        #[schema(pattern = "^[0-9]{1,77}$")]
        commitment: String,
    },
    /// A patient revokes a consent it granted.
    RevokeConsent {
        /// The consent's leaf index.
        consent_index: u64,
    },
    /// An insurer publishes a policy commitment.
    PublishPolicy {
        /// Decimal.
        #[schema(pattern = "^[0-9]{1,77}$")]
        commitment: String,
    },
    /// A provider logs an access with its proof.
    LogAccess {
        /// The proof bundle's JSON text, exactly as signed.
        bundle: String,
        /// The request's nonce, decimal.
        #[schema(pattern = "^[0-9]{1,77}$")]
        nonce: String,
    },
    /// An insurer records a claim it accepts.
    SubmitClaim {
        /// The policy, decimal.
        #[schema(pattern = "^[0-9]{1,77}$")]
        policy: String,
        /// The claim id, decimal.
        #[schema(pattern = "^[0-9]{1,77}$")]
        claim_id: String,
    },
}

impl ActionJson {
    /// From an action.
    pub fn of(a: &Action) -> Self {
        match a {
            Action::RegisterKey { role } => Self::RegisterKey {
                role: role.name().into(),
            },
            Action::AdmitKey { key, role } => Self::AdmitKey {
                key: hex::encode(key),
                role: role.name().into(),
            },
            Action::SuspendKey { key } => Self::SuspendKey {
                key: hex::encode(key),
            },
            Action::CommitRecord { commitment } => Self::CommitRecord {
                commitment: fr_to_decimal(commitment),
            },
            Action::GrantConsent { commitment } => Self::GrantConsent {
                commitment: fr_to_decimal(commitment),
            },
            Action::RevokeConsent { consent_index } => Self::RevokeConsent {
                consent_index: *consent_index,
            },
            Action::PublishPolicy { commitment } => Self::PublishPolicy {
                commitment: fr_to_decimal(commitment),
            },
            Action::LogAccess { bundle, nonce } => Self::LogAccess {
                bundle: String::from_utf8_lossy(bundle).into_owned(),
                nonce: fr_to_decimal(nonce),
            },
            Action::SubmitClaim { policy, claim_id } => Self::SubmitClaim {
                policy: fr_to_decimal(policy),
                claim_id: fr_to_decimal(claim_id),
            },
        }
    }

    /// To an action, checking every field.
    pub fn parse(&self) -> Result<Action, WireError> {
        Ok(match self {
            Self::RegisterKey { role } => Action::RegisterKey {
                role: role_from_name("action.role", role)?,
            },
            Self::AdmitKey { key, role } => Action::AdmitKey {
                key: hex_bytes("action.key", key)?,
                role: role_from_name("action.role", role)?,
            },
            Self::SuspendKey { key } => Action::SuspendKey {
                key: hex_bytes("action.key", key)?,
            },
            Self::CommitRecord { commitment } => Action::CommitRecord {
                commitment: field("action.commitment", commitment)?,
            },
            Self::GrantConsent { commitment } => Action::GrantConsent {
                commitment: field("action.commitment", commitment)?,
            },
            Self::RevokeConsent { consent_index } => Action::RevokeConsent {
                consent_index: *consent_index,
            },
            Self::PublishPolicy { commitment } => Action::PublishPolicy {
                commitment: field("action.commitment", commitment)?,
            },
            Self::LogAccess { bundle, nonce } => Action::LogAccess {
                bundle: bundle.as_bytes().to_vec(),
                nonce: field("action.nonce", nonce)?,
            },
            Self::SubmitClaim { policy, claim_id } => Action::SubmitClaim {
                policy: field("action.policy", policy)?,
                claim_id: field("action.claim_id", claim_id)?,
            },
        })
    }
}

/// A signed submission as JSON: what a party sends to `POST /v1/entries`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionJson {
    /// What to do.
    pub action: ActionJson,
    /// The ledger it is signed for (hex; `GET /v1/ledger` gives it).
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub ledger_id: String,
    /// The last ledger time at which it may be appended.
    pub expires: u64,
    /// The signer's Ed25519 public key, hex.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub signer: String,
    /// 16 random bytes, hex.
    #[schema(pattern = "^[0-9a-fA-F]{32}$")]
    pub nonce: String,
    /// Ed25519 signature over the submission's canonical bytes, hex.
    #[schema(pattern = "^[0-9a-fA-F]{128}$")]
    pub signature: String,
}

impl SubmissionJson {
    /// From a submission.
    pub fn of(s: &Submission) -> Self {
        Self {
            action: ActionJson::of(&s.action),
            ledger_id: hex::encode(s.envelope.ledger_id),
            expires: s.envelope.expires,
            signer: hex::encode(s.signer),
            nonce: hex::encode(s.nonce),
            signature: hex::encode(s.signature),
        }
    }

    /// To a submission, checking every field (not the signature: the ledger does).
    pub fn parse(&self) -> Result<Submission, WireError> {
        Ok(Submission {
            action: self.action.parse()?,
            envelope: Envelope {
                ledger_id: hex_bytes("ledger_id", &self.ledger_id)?,
                expires: self.expires,
            },
            signer: hex_bytes("signer", &self.signer)?,
            nonce: hex_bytes("nonce", &self.nonce)?,
            signature: hex_bytes("signature", &self.signature)?,
        })
    }
}

/// Where a submission landed: the answer to an accepted `POST /v1/entries`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Appended {
    /// The entry's seq.
    pub seq: u64,
    /// Its leaf index in the records or consents tree, if it added a leaf.
    pub leaf_index: Option<u64>,
    /// The signed checkpoint that follows it (the receipt).
    #[schema(value_type = Object)]
    pub checkpoint: medproof_verifier::checkpoint::CheckpointJson,
}

/// The ledger's identity: what a party needs to sign submissions for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerInfo {
    /// The ledger id (hash of its genesis), hex: a submission's envelope names it.
    pub ledger_id: String,
    /// The key that signs checkpoints, hex: what verifiers trust.
    pub public_key: String,
    /// Number of entries.
    pub entries: u64,
    /// The ledger's time now (a submission's `expires` is compared with it).
    pub time: u64,
    /// The registrars the genesis names (they admit providers, insurers, regulators),
    /// hex.
    pub registrars: Vec<String>,
    /// The verifying keys the genesis names: proofs under any other key are refused.
    pub keys: Vec<GenesisKeyDoc>,
}

/// The ledger as a transparency log (C2SP): what a monitor or witness pins, and where
/// it stands now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogInfo {
    /// The log's name: the first line of its checkpoints.
    pub origin: String,
    /// The note verifier key (`origin+keyid+base64`) of the ledger's Ed25519 key.
    pub verifier_key: String,
    /// Entries in the log.
    pub size: u64,
    /// The RFC 6962 root of all of them, base64.
    pub root: String,
    /// The latest C2SP checkpoint, as a signed note (what `GET /checkpoint` serves).
    pub checkpoint: String,
    /// Whether a witness has cosigned a checkpoint of the log yet (`GET
    /// /v1/log/cosigned` serves the latest one).
    pub cosigned: bool,
}

/// A proof that an entry is in the log's tree of `size` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InclusionProofJson {
    /// The entry's seq (its leaf index).
    pub index: u64,
    /// Entries in the tree.
    pub size: u64,
    /// The tree's root, base64.
    pub root: String,
    /// The entry's leaf hash (SHA-256 of 0x00 and its encoding), base64.
    pub leaf_hash: String,
    /// The RFC 6962 audit path, base64 hashes from the leaf up.
    pub proof: Vec<String>,
}

/// A proof that the log's tree of `new` entries extends its tree of `old` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProofJson {
    /// Entries in the older tree.
    pub old: u64,
    /// Entries in the newer tree.
    pub new: u64,
    /// The older tree's root, base64.
    pub old_root: String,
    /// The newer tree's root, base64.
    pub new_root: String,
    /// The RFC 6962 consistency proof, base64 hashes.
    pub proof: Vec<String>,
}

/// Hashes as base64 strings.
pub fn hashes_b64(hashes: &[medproof_ledger::tlog::Hash]) -> Vec<String> {
    hashes.iter().map(ToString::to_string).collect()
}

/// Base64 strings as hashes.
pub fn hashes_from_b64(hashes: &[String]) -> Option<Vec<medproof_ledger::tlog::Hash>> {
    hashes
        .iter()
        .map(|h| medproof_ledger::tlog::Hash::parse_hash(h).ok())
        .collect()
}

/// The log's inclusion proof of entry `index` in its tree of `size` entries.
pub fn inclusion_json<S: Store>(
    ledger: &Ledger<S>,
    index: u64,
    size: u64,
) -> Result<InclusionProofJson, LedgerError> {
    let proof = ledger.inclusion_proof(index, size)?;
    Ok(InclusionProofJson {
        index,
        size,
        root: ledger.tlog_root(size)?.to_string(),
        leaf_hash: ledger.log_leaf_hash(index)?.to_string(),
        proof: hashes_b64(&proof),
    })
}

/// The log's consistency proof from its tree of `old` entries to that of `new`.
pub fn consistency_json<S: Store>(
    ledger: &Ledger<S>,
    old: u64,
    new: u64,
) -> Result<ConsistencyProofJson, LedgerError> {
    Ok(ConsistencyProofJson {
        old,
        new,
        old_root: ledger.tlog_root(old)?.to_string(),
        new_root: ledger.tlog_root(new)?.to_string(),
        proof: hashes_b64(&ledger.consistency_proof(old, new)?),
    })
}

/// The log's identity and latest checkpoint; `cosigned`: whether a witness has cosigned
/// one of its checkpoints.
pub fn log_info<S: Store>(ledger: &Ledger<S>, cosigned: bool) -> Result<LogInfo, LedgerError> {
    let cp = ledger.tlog_checkpoint()?;
    Ok(LogInfo {
        origin: ledger.origin().to_string(),
        verifier_key: ledger.log_verifier()?.verifier_key(),
        size: cp.size,
        root: cp.root.to_string(),
        checkpoint: String::from_utf8_lossy(&cp.note).into_owned(),
        cosigned,
    })
}

/// A verifying key a genesis names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenesisKeyDoc {
    /// The statement's name.
    pub statement: String,
    /// The key's id (hex SHA-256 of the compressed key), as bundles carry it.
    pub vk_id: String,
    /// The setup ceremony's transcript hash (hex Blake2b-512); `null` for keys from a
    /// single-party setup, which whoever ran it could forge proofs under.
    pub transcript: Option<String>,
}

impl GenesisKeyDoc {
    /// The document of `k`.
    pub fn of(k: &GenesisKey) -> Self {
        Self {
            statement: k.statement.name().to_string(),
            vk_id: k.vk_id_hex(),
            transcript: k.transcript.map(hex::encode),
        }
    }
}

/// The genesis that entry 0's document holds (its [`entry_json`], as `genesis.json`,
/// `medproof ledger entry 0` and `GET /v1/entries/0` give it), checked: its `encoding`
/// (the canonical bytes, hex) decodes to entry 0, a genesis signed by `trusted`, and the
/// rest of the document says what the encoding says (so what a person reads in it is
/// what is checked).
pub fn parse_genesis(
    doc: &Value,
    trusted: &ed25519_dalek::VerifyingKey,
) -> Result<Genesis, String> {
    let encoding = doc
        .get("encoding")
        .and_then(Value::as_str)
        .ok_or("no `encoding` (hex of the canonical genesis entry)")?;
    let bytes = hex::decode(encoding).map_err(|_| "`encoding` is not hex")?;
    let entry = Entry::decode(&bytes).map_err(|e| format!("`encoding`: {e}"))?;
    let Body::Genesis(g) = &entry.body else {
        return Err("not a genesis entry".into());
    };
    if entry.seq != 0 || !g.verify(entry.time, trusted) {
        return Err("not a genesis signed by the trusted ledger key".into());
    }
    if &entry_json(&entry) != doc {
        return Err("its fields do not say what its `encoding` says".into());
    }
    Ok(g.clone())
}

/// A checkpoint with its place in history, as JSON.
pub fn checkpoint_json(info: &CheckpointInfo) -> Value {
    json!({
        "number": info.number,
        "superseded_at": info.superseded_at,
        "checkpoint": info.checkpoint.to_json(),
    })
}

/// An entry as JSON: kind, signer and commitments; an access bundle as its JSON.
pub fn entry_json(e: &Entry) -> Value {
    let mut v = json!({
        "seq": e.seq,
        "time": e.time,
        "prev": hex::encode(e.prev),
        "hash": hex::encode(e.hash()),
    });
    match &e.body {
        Body::Genesis(g) => {
            v["kind"] = "genesis".into();
            v["ledger_key"] = hex::encode(g.ledger_key).into();
            v["registrars"] = g
                .registrars
                .iter()
                .map(hex::encode)
                .collect::<Vec<_>>()
                .into();
            v["keys"] = json!(g.keys.iter().map(GenesisKeyDoc::of).collect::<Vec<_>>());
            v["signature"] = hex::encode(g.signature).into();
            v["encoding"] = hex::encode(e.encode()).into();
        }
        Body::Checkpoint {
            records_root,
            consents_root,
            signature,
        } => {
            v["kind"] = "checkpoint".into();
            v["records_root"] = fr_to_decimal(records_root).into();
            v["consents_root"] = fr_to_decimal(consents_root).into();
            v["signature"] = hex::encode(signature).into();
        }
        Body::Submission(s) => {
            v["kind"] = s.action.name().into();
            v["signer"] = hex::encode(s.signer).into();
            v["nonce"] = hex::encode(s.nonce).into();
            v["ledger_id"] = hex::encode(s.envelope.ledger_id).into();
            v["expires"] = s.envelope.expires.into();
            v["signature"] = hex::encode(s.signature).into();
            match &s.action {
                Action::RegisterKey { role } => v["role"] = role.name().into(),
                Action::CommitRecord { commitment }
                | Action::GrantConsent { commitment }
                | Action::PublishPolicy { commitment } => {
                    v["commitment"] = fr_to_decimal(commitment).into()
                }
                Action::RevokeConsent { consent_index } => {
                    v["consent_index"] = (*consent_index).into()
                }
                Action::LogAccess { bundle, nonce } => {
                    v["bundle"] = serde_json::from_slice(bundle).unwrap_or(Value::Null);
                    v["request_nonce"] = fr_to_decimal(nonce).into();
                }
                Action::AdmitKey { key, role } => {
                    v["key"] = hex::encode(key).into();
                    v["role"] = role.name().into();
                }
                Action::SuspendKey { key } => v["key"] = hex::encode(key).into(),
                Action::SubmitClaim { policy, claim_id } => {
                    v["policy"] = fr_to_decimal(policy).into();
                    v["claim_id"] = fr_to_decimal(claim_id).into();
                }
            }
        }
    }
    v
}

/// Where `commitment` is: its tree and index and, for records and consents, its path
/// with the signed checkpoint it is against (read together), the leaf (the commitment
/// wrapped with the key that added it) and that key. `None` if it is not on the ledger.
///
/// The path is `index`, `arity` and `siblings`: for each level from the leaves up, the
/// `arity - 1` other children of the node's parent, left to right; the parent is the
/// Poseidon of those children with the node inserted at the index's base-`arity` digit
/// for that level (see [`medproof_circuits::merkle`]).
pub fn path_json<S: Store>(
    ledger: &Ledger<S>,
    commitment: &Fr,
) -> Result<Option<Value>, LedgerError> {
    let Some((tree, index, _)) = ledger.locate(commitment)? else {
        return Ok(None);
    };
    let mut v = json!({ "tree": tree.name(), "index": index });
    if let Some(a) = ledger.anchored_path(commitment)? {
        let root = match a.tree {
            TreeId::Consents => a.checkpoint.consents_root,
            _ => a.checkpoint.records_root,
        };
        v["added_by"] = hex::encode(a.added_by).into();
        v["leaf"] = fr_to_decimal(&a.leaf).into();
        v["root"] = fr_to_decimal(&root).into();
        v["arity"] = LEDGER_TREE.arity().into();
        v["siblings"] = a
            .path
            .siblings
            .iter()
            .map(|level| level.iter().map(fr_to_decimal).collect::<Vec<_>>())
            .collect::<Vec<_>>()
            .into();
        v["current"] = a.path.verify(root, a.leaf).into();
        v["checkpoint"] = json!(a.checkpoint.to_json());
    }
    Ok(Some(v))
}

/// Records one history request asks about at most.
pub const MAX_HISTORY_RECORDS: usize = 64;
/// Accesses one answer holds at most (each record's oldest first; more sets `truncated`).
pub const MAX_HISTORY_ACCESSES: usize = 256;

/// `POST /v1/history`: the access history of records, asked by a patient.
///
/// The ledger cannot tell which records are a patient's (a record commitment hides its
/// patient), so the patient's client names them: the commitments of the records its
/// providers gave it the openings of. The answer is made of public entries; asking
/// with a signed POST keeps the link between the patient's key and those records out
/// of URLs and access logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryRequest {
    /// Record commitments, canonical decimal; 1 to 64.
    #[schema(min_items = 1, max_items = 64)]
    pub records: Vec<String>,
}

impl HistoryRequest {
    /// The commitments, parsed and checked (count, canonical, no repeats).
    pub fn parse(&self) -> Result<Vec<Fr>, WireError> {
        if self.records.is_empty() || self.records.len() > MAX_HISTORY_RECORDS {
            return Err(wire_err(
                "records",
                format!(
                    "{} records; ask about 1 to {MAX_HISTORY_RECORDS}",
                    self.records.len()
                ),
            ));
        }
        let mut out = Vec::with_capacity(self.records.len());
        for (i, r) in self.records.iter().enumerate() {
            let c = fr_from_decimal(r)
                .map_err(|e| wire_err(&format!("records[{i}]"), e.to_string()))?;
            if out.contains(&c) {
                return Err(wire_err(&format!("records[{i}]"), "named twice"));
            }
            out.push(c);
        }
        Ok(out)
    }
}

/// One logged access to a record, as its entry shows it: who, when, for what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccessSeen {
    /// The access entry's seq (`GET /v1/entries/{seq}` shows the whole entry).
    pub seq: u64,
    /// When the ledger logged it (Unix seconds).
    pub logged_at: u64,
    /// The record accessed (commitment, decimal).
    pub record: String,
    /// The provider that accessed it (its Ed25519 key, hex).
    pub provider: String,
    /// The data category the proof names.
    pub category: String,
    /// The purpose the proof names.
    pub purpose: String,
    /// The time the proof names (Unix seconds).
    pub now: String,
    /// The seq of the checkpoint the consent was proved against.
    pub checkpoint_seq: Option<u64>,
    /// Whether the audit counts it as authorized: its proof verifies against a fresh,
    /// signed root, for the provider that logged it and the request it names. An
    /// access that is listed but not authorized is what a patient should act on.
    pub authorized: bool,
    /// Why it is not authorized (never a patient value).
    pub problem: Option<String>,
}

/// The answer of `POST /v1/history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccessHistory {
    /// The accesses, by record in the order asked, each record's oldest first.
    pub accesses: Vec<AccessSeen>,
    /// More accesses exist than the 256 an answer holds: ask about fewer records.
    pub truncated: bool,
    /// The ledger's length when read.
    pub ledger_len: u64,
}

impl AccessSeen {
    /// The access `entry` shows, if it is an access entry with a readable bundle, with
    /// the problem the audit of the entry found (`None`: authorized; see
    /// [`medproof_ledger::audit::check_logged_accesses`]).
    pub fn of(entry: &Entry, problem: Option<String>) -> Option<Self> {
        use medproof_verifier::AccessPublic;
        let Body::Submission(s) = &entry.body else {
            return None;
        };
        let Action::LogAccess { bundle, .. } = &s.action else {
            return None;
        };
        let text = std::str::from_utf8(bundle).ok()?;
        let bundle = medproof_verifier::ProofBundle::from_json(text).ok()?;
        let decoded = bundle.decode().ok()?;
        let input = |i: usize| decoded.inputs.get(i).map(fr_to_decimal);
        Some(Self {
            seq: entry.seq,
            logged_at: entry.time,
            record: input(AccessPublic::RECORD)?,
            provider: hex::encode(s.signer),
            category: input(AccessPublic::CATEGORY)?,
            purpose: input(AccessPublic::PURPOSE)?,
            now: input(AccessPublic::NOW)?,
            checkpoint_seq: bundle.checkpoint.as_ref().map(|c| c.seq),
            authorized: problem.is_none(),
            problem,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use medproof_verifier::Statement;

    /// A genesis document is believed only under the key that signed it, and only when
    /// what it shows is what its encoding says.
    #[test]
    fn a_genesis_document_is_checked_under_the_trusted_key() {
        let ledger = SigningKey::from_bytes(&[1; 32]);
        let keys = [GenesisKey {
            statement: Statement::AccessAuthorization,
            vk_id: [2; 32],
            transcript: Some([3; 64]),
        }];
        let doc = entry_json(&Genesis::entry(&ledger, &[[4; 32]], &keys, 5));
        let g = parse_genesis(&doc, &ledger.verifying_key()).unwrap();
        assert!(g.names(Statement::AccessAuthorization, &hex::encode([2; 32])));

        let other = SigningKey::from_bytes(&[9; 32]).verifying_key();
        assert!(parse_genesis(&doc, &other)
            .unwrap_err()
            .contains("trusted ledger key"));
        // The same genesis re-signed by another key, shown with this key's fields.
        let forged = entry_json(&Genesis::entry(
            &SigningKey::from_bytes(&[9; 32]),
            &[[4; 32]],
            &keys,
            5,
        ));
        assert!(parse_genesis(&forged, &ledger.verifying_key()).is_err());
        let mut shown = doc.clone();
        shown["keys"][0]["vk_id"] = hex::encode([7; 32]).into();
        assert!(parse_genesis(&shown, &ledger.verifying_key())
            .unwrap_err()
            .contains("do not say"));
        let mut bare = doc.clone();
        bare.as_object_mut().unwrap().remove("encoding");
        assert!(parse_genesis(&bare, &ledger.verifying_key()).is_err());
        // Another entry than a genesis.
        let mut checkpoint = doc;
        checkpoint["encoding"] = hex::encode(
            Entry {
                seq: 1,
                time: 5,
                prev: [0; 32],
                body: Body::Checkpoint {
                    records_root: Fr::from(1u64),
                    consents_root: Fr::from(1u64),
                    signature: [0; 64],
                },
            }
            .encode(),
        )
        .into();
        assert!(parse_genesis(&checkpoint, &ledger.verifying_key())
            .unwrap_err()
            .contains("not a genesis"));
    }
}

//! `medproof ledger …`: inspect and verify the ledger in a data dir. Output is JSON
//! (hashes and signatures in hex, field elements in decimal); no command prints an
//! opening or any payload beyond commitments, keys and signatures.

use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use ed25519_dalek::VerifyingKey;
use medproof_ledger::entry::Body;
use medproof_ledger::verify::{verify, VerifyFailure, VerifyReport};
use medproof_ledger::{
    db_dir, key_path, keyfile, Action, CheckpointInfo, Entry, Ledger, RocksStore, SystemClock,
};
use medproof_verifier::{fr_from_decimal, fr_to_decimal};
use serde_json::{json, Value};

/// Fails unless `data_dir` holds a ledger.
fn require_ledger(data_dir: &Path) -> Result<()> {
    if !db_dir(data_dir).is_dir() {
        bail!(
            "no ledger in {} (run `medproof demo` or start the service to create one)",
            data_dir.display()
        );
    }
    Ok(())
}

/// Opens the existing ledger in `data_dir`.
pub fn open_existing(data_dir: &Path) -> Result<Ledger<RocksStore>> {
    require_ledger(data_dir)?;
    medproof_ledger::open_dir(data_dir, Arc::new(SystemClock)).map_err(anyhow::Error::from)
}

/// The ledger public key to trust: `hex` if given, else the key file's.
pub fn trusted_key(data_dir: &Path, hex_key: Option<&str>) -> Result<VerifyingKey> {
    match hex_key {
        Some(h) => {
            let bytes: [u8; 32] = hex::decode(h)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| anyhow!("--ledger-key: expected 64 hex digits"))?;
            VerifyingKey::from_bytes(&bytes)
                .map_err(|_| anyhow!("--ledger-key: not an Ed25519 public key"))
        }
        None => Ok(keyfile::load(&key_path(data_dir))?.verifying_key()),
    }
}

/// Re-walks the ledger in `data_dir`. The outer error is "could not run"; the inner one
/// is the first bad entry.
pub fn verify_dir(
    data_dir: &Path,
    hex_key: Option<&str>,
) -> Result<Result<VerifyReport, VerifyFailure>> {
    require_ledger(data_dir)?;
    let key = trusted_key(data_dir, hex_key)?;
    let path = db_dir(data_dir);
    let store = RocksStore::open(&path).with_context(|| path.display().to_string())?;
    Ok(verify(&store, &key))
}

/// A checkpoint as JSON.
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
                Action::LogAccess { bundle } => {
                    v["bundle"] = serde_json::from_slice(bundle).unwrap_or(Value::Null);
                }
            }
        }
    }
    v
}

/// Where a commitment is, with its path and the current root.
pub fn path_json(ledger: &Ledger<RocksStore>, commitment: &str) -> Result<Value> {
    let c = fr_from_decimal(commitment).map_err(|e| anyhow!("commitment: {e}"))?;
    let (tree, index, path) = ledger
        .locate(&c)?
        .ok_or_else(|| anyhow!("commitment is not on the ledger"))?;
    let mut v = json!({ "tree": tree.name(), "index": index });
    if let Some(p) = path {
        let root = match tree {
            medproof_ledger::TreeId::Consents => ledger.consents().root(),
            _ => ledger.records().root(),
        };
        v["root"] = fr_to_decimal(&root).into();
        v["siblings"] = p
            .siblings
            .iter()
            .map(fr_to_decimal)
            .collect::<Vec<_>>()
            .into();
        v["current"] = p.verify(root, c).into();
    }
    Ok(v)
}

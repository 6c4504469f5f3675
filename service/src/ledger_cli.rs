//! `medproof ledger …`: inspect and verify the ledger in a data dir. Output is JSON
//! (hashes and signatures in hex, field elements in decimal); no command prints an
//! opening or any payload beyond commitments, keys and signatures.

use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use ed25519_dalek::VerifyingKey;
use medproof_ledger::verify::{verify, VerifyFailure, VerifyReport};
use medproof_ledger::{
    db_dir, keyfile, public_key_path, Continuity, Ledger, RocksStore, Store, SystemClock,
};
use serde_json::Value;

/// Opens the existing ledger in `data_dir` to read it, trusting `hex_key` (or the data
/// dir's `ledger.pub`): no private key is read, and RocksDB is opened read-only.
pub fn open_existing(data_dir: &Path, hex_key: Option<&str>) -> Result<Ledger<RocksStore>> {
    let key = hex_key.map(parse_key).transpose()?;
    medproof_ledger::open_dir_read_only(data_dir, key).map_err(anyhow::Error::from)
}

/// Opens the ledger in `data_dir` to append to it (with its signing key).
pub fn open_writable(data_dir: &Path) -> Result<Ledger<RocksStore>> {
    if !db_dir(data_dir).is_dir() {
        bail!(
            "no ledger in {} (run `medproof demo` or start the service to create one)",
            data_dir.display()
        );
    }
    medproof_ledger::open_dir(data_dir, Arc::new(SystemClock)).map_err(anyhow::Error::from)
}

fn parse_key(hex_key: &str) -> Result<VerifyingKey> {
    keyfile::parse_public(hex_key)
        .ok_or_else(|| anyhow!("--ledger-key: expected 64 hex digits of an Ed25519 public key"))
}

/// The ledger public key to trust: `hex` if given, else the data dir's `ledger.pub`.
/// Verifiers never need the private key.
pub fn trusted_key(data_dir: &Path, hex_key: Option<&str>) -> Result<VerifyingKey> {
    match hex_key {
        Some(h) => parse_key(h),
        None => Ok(keyfile::load_public(&public_key_path(data_dir))?),
    }
}

/// A checkpoint a party saw before, as `SEQ:CHAIN_HEAD` (the checkpoint's seq and its
/// `chain_head` in hex, as `ledger checkpoint` prints them).
#[derive(Debug, Clone, Copy)]
pub struct Since {
    /// The checkpoint's seq.
    pub seq: u64,
    /// Its chain head.
    pub chain_head: [u8; 32],
}

impl std::str::FromStr for Since {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!("expected SEQ:CHAIN_HEAD (a checkpoint's seq and 64 hex digits), got `{s}`");
        let (seq, head) = s.split_once(':').ok_or_else(bad)?;
        Ok(Self {
            seq: seq.parse().map_err(|_| bad())?,
            chain_head: hex::decode(head)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(bad)?,
        })
    }
}

/// What a ledger's continuity says, as a failure to report; `None` when it extends.
/// `receipt`: the party holds the whole signed checkpoint (so another checkpoint signed
/// at its seq proves that the ledger equivocated), not only its seq and chain head.
pub fn continuity_problem(c: &Continuity, seq: u64, receipt: bool) -> Option<String> {
    match c {
        Continuity::Extends => None,
        Continuity::RolledBack { entries } => Some(format!(
            "the ledger was rolled back: it has {entries} entries and no longer holds the checkpoint at seq {seq}"
        )),
        Continuity::Forked { ledger: Some(cp) } if receipt => Some(format!(
            "EQUIVOCATION: the ledger signed another checkpoint at seq {seq} (chain head {}, time {}) than the one in the receipt; both signatures verify",
            hex::encode(cp.chain_head),
            cp.time
        )),
        Continuity::Forked { ledger: Some(cp) } => Some(format!(
            "FORK: the ledger's checkpoint at seq {seq} vouches for chain head {}, not the one you saw: this ledger does not extend it",
            hex::encode(cp.chain_head)
        )),
        Continuity::Forked { ledger: None } => Some(format!(
            "FORK: the ledger holds no signed checkpoint at seq {seq}: it is not the chain you saw"
        )),
    }
}

/// Re-walks the ledger in `data_dir`, read-only, trusting `hex_key` (or `ledger.pub`).
/// The outer error is "could not run"; the inner one is the first bad entry, or a chain
/// that does not extend `since`.
pub fn verify_dir(
    data_dir: &Path,
    hex_key: Option<&str>,
    since: Option<Since>,
) -> Result<Result<VerifyReport, VerifyFailure>> {
    if !db_dir(data_dir).is_dir() {
        bail!(
            "no ledger in {} (run `medproof demo` or start the service to create one)",
            data_dir.display()
        );
    }
    let key = trusted_key(data_dir, hex_key)?;
    let path = db_dir(data_dir);
    let store = RocksStore::open_read_only(&path).with_context(|| path.display().to_string())?;
    let report = match verify(&store, &key) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    if let Some(since) = since {
        let ledger = Ledger::open_read_only(store, key)?;
        let c = ledger.extends(since.seq, &since.chain_head, &key)?;
        if let Some(reason) = continuity_problem(&c, since.seq, false) {
            return Ok(Err(VerifyFailure {
                seq: Some(since.seq),
                reason,
            }));
        }
    }
    Ok(Ok(report))
}

/// Parses a receipt: a checkpoint as JSON, bare or under `"checkpoint"` (as `ledger
/// checkpoint` prints it and a revocation returns it).
pub fn parse_receipt(text: &str) -> Result<medproof_verifier::Checkpoint> {
    let v: Value = serde_json::from_str(text).context("not JSON")?;
    let inner = v.get("checkpoint").cloned().unwrap_or(v);
    let json: medproof_verifier::checkpoint::CheckpointJson =
        serde_json::from_value(inner).context("not a checkpoint")?;
    Ok(json.parse()?)
}

/// Writes the log under `out` as a static web server serves it: `checkpoint` and every
/// tile (full and partial) and entry bundle; returns the number of tiles written.
pub fn export_log(ledger: &Ledger<RocksStore>, out: &Path) -> Result<usize> {
    let size = ledger.len();
    // What OUT already publishes must be a prefix of this log: a static copy is never
    // rolled back or replaced by another history.
    let published = out.join("checkpoint");
    if let Ok(note) = std::fs::read(&published) {
        let old = ledger.log_verifier()?.open(&note).map_err(|e| {
            anyhow!(
                "{} is not a checkpoint of this log: {e}",
                published.display()
            )
        })?;
        if old.size > size || ledger.tlog_root(old.size)? != old.root {
            bail!(
                "{} publishes a log of {} entries that this ledger ({size} entries) does not extend: it was rolled back, or is another history",
                published.display(),
                old.size
            );
        }
    }
    let tiles = medproof_ledger::tlog::tiles_of(size);
    for tile in &tiles {
        let bytes = ledger
            .tile(tile)?
            .ok_or_else(|| anyhow!("{} is not in the log", tile.path()))?;
        let path = out.join(tile.path());
        // A tile is immutable: one already there is kept, and must be the same.
        if let Ok(existing) = std::fs::read(&path) {
            if existing != bytes {
                bail!(
                    "{} differs from the log's {}: the files there are of another history",
                    path.display(),
                    tile.path()
                );
            }
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        crate::write_file_atomic(&path, &bytes)?;
    }
    // The checkpoint last: a reader that sees it finds every tile it needs.
    let checkpoint = ledger.tlog_checkpoint()?;
    crate::write_file_atomic(&published, &checkpoint.note)?;
    Ok(tiles.len())
}

fn parse_hash(what: &str, b64: &str) -> Result<medproof_ledger::tlog::Hash> {
    medproof_ledger::tlog::Hash::parse_hash(b64).map_err(|_| anyhow!("{what}: not a base64 hash"))
}

/// Checks an inclusion proof as a client would, from its own fields.
pub fn check_inclusion(p: &crate::wire::InclusionProofJson) -> Result<()> {
    let proof = crate::wire::hashes_from_b64(&p.proof).ok_or_else(|| anyhow!("malformed proof"))?;
    medproof_ledger::tlog::check_inclusion(
        &proof,
        p.size,
        parse_hash("root", &p.root)?,
        p.index,
        parse_hash("leaf_hash", &p.leaf_hash)?,
    )?;
    Ok(())
}

/// Checks that this log's checkpoint `new` extends its checkpoint `old` (each a file
/// holding a signed note, or `latest`) against the ledger: the outer error is a usage
/// or read error; the inner one says why the two are not one history of this ledger.
pub fn consistency(
    ledger: &Ledger<RocksStore>,
    old: &str,
    new: &str,
) -> Result<std::result::Result<crate::wire::ConsistencyProofJson, String>> {
    use medproof_ledger::tlog;
    let verifier = ledger.log_verifier()?;
    let open = |name: &str| -> Result<std::result::Result<tlog::SignedCheckpoint, String>> {
        if name == "latest" {
            return Ok(Ok(ledger.tlog_checkpoint()?));
        }
        let note = std::fs::read(name).with_context(|| format!("cannot read {name}"))?;
        Ok(verifier
            .open(&note)
            .map_err(|e| format!("{name}: {e} (`{}`)", verifier.verifier_key())))
    };
    let (old_cp, new_cp) = match (open(old)?, open(new)?) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
    };
    if old_cp.size > new_cp.size {
        return Ok(Err(format!(
            "{old} has {} entries and {new} {}: the newer checkpoint must not be smaller (a rollback, if both are this log's)",
            old_cp.size, new_cp.size
        )));
    }
    if new_cp.size > ledger.len() {
        bail!(
            "{new} has {} entries and this copy of the ledger {}: update it, or check against the service",
            new_cp.size,
            ledger.len()
        );
    }
    for (name, cp) in [(old, &old_cp), (new, &new_cp)] {
        if ledger.tlog_root(cp.size)? != cp.root {
            return Ok(Err(format!(
                "{name} is signed by this log, but this ledger's first {} entries make another tree: the log forked, or an entry was changed (keep {name} as evidence)",
                cp.size
            )));
        }
    }
    let proof = crate::wire::consistency_json(ledger, old_cp.size, new_cp.size)?;
    let hashes =
        crate::wire::hashes_from_b64(&proof.proof).ok_or_else(|| anyhow!("malformed proof"))?;
    if let Err(e) =
        tlog::check_consistency(&hashes, old_cp.size, old_cp.root, new_cp.size, new_cp.root)
    {
        return Ok(Err(format!("{old} and {new}: {e}")));
    }
    Ok(Ok(proof))
}

/// The log proof of `bundle`'s checkpoint in the C2SP checkpoint `note` (which may carry
/// witnesses' cosignatures): see [`log_proof_of`]. The inner error says why not.
pub fn log_proof<S: Store>(
    ledger: &Ledger<S>,
    bundle: &medproof_verifier::ProofBundle,
    note: &[u8],
) -> Result<std::result::Result<medproof_verifier::tlog::LogProof, String>> {
    let Some(cp) = &bundle.checkpoint else {
        return Ok(Err("the bundle carries no checkpoint".to_string()));
    };
    log_proof_of(ledger, &cp.parse()?, note)
}

/// The log proof of the checkpoint `cp` in the C2SP checkpoint `note`: `cp` must be
/// signed by this ledger, the note signed by this ledger's log, its tree this ledger's,
/// holding `cp`'s entry. The inner error says why not.
pub fn log_proof_of<S: Store>(
    ledger: &Ledger<S>,
    cp: &medproof_verifier::Checkpoint,
    note: &[u8],
) -> Result<std::result::Result<medproof_verifier::tlog::LogProof, String>> {
    if cp.verify(&ledger.public_key()).is_err() {
        return Ok(Err(
            "the bundle's checkpoint is not signed by this ledger".to_string()
        ));
    }
    let signed = match ledger.log_verifier()?.open(note) {
        Ok(s) => s,
        Err(e) => return Ok(Err(format!("the cosigned checkpoint: {e}"))),
    };
    if cp.seq >= signed.size {
        return Ok(Err(format!(
            "the cosigned checkpoint holds {} entries, not the bundle's checkpoint entry {}: wait for a later cosignature",
            signed.size, cp.seq
        )));
    }
    if signed.size > ledger.len() || ledger.tlog_root(signed.size)? != signed.root {
        return Ok(Err(
            "the cosigned checkpoint is not of this ledger's history".to_string(),
        ));
    }
    let proof = ledger.inclusion_proof(cp.seq, signed.size)?;
    let log = medproof_verifier::tlog::LogProof {
        checkpoint: String::from_utf8_lossy(note).into_owned(),
        inclusion: crate::wire::hashes_b64(&proof),
    };
    // As a verifier will check it.
    if let Err(e) = log.check(cp, &ledger.public_key(), &[]) {
        return Ok(Err(format!("the log proof does not check: {e}")));
    }
    Ok(Ok(log))
}

//! medproof's ledger: an append-only, SHA-256 hash-chained log of commitments, with
//! Poseidon Merkle trees over records and consents and Ed25519-signed checkpoints.
//!
//! The chain and tree math is pure and computes every write; a [`Store`] commits them,
//! one atomic, synced write per append or batch. [`MemStore`] runs the same code in
//! memory for tests; [`RocksStore`] is the durable backend. [`verify::verify`] re-walks
//! a store trusting only the ledger's public key; [`audit::audit`] checks a period of
//! the access log for a regulator.
//!
//! Entries hold commitments, public keys, signatures and proof bundles — never plaintext
//! health data (see [`entry`] for the encoding).

#![forbid(unsafe_code)]

pub mod audit;
pub mod codec;
pub mod encoding;
pub mod entry;
pub mod keyfile;
pub mod ledger;
pub mod rocks;
pub mod rules;
pub mod store;
pub mod tlog;
pub mod verify;
pub mod watermark;
pub mod witness;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use entry::{Action, Entry, Envelope, GenesisKey, Role, Submission};
pub use ledger::{
    AnchoredPath, Appended, BatchOutcome, CheckpointInfo, Clock, Continuity, Ledger, LedgerError,
    Receipt, Refusal, SystemClock, TreeId,
};
pub use rocks::RocksStore;
pub use store::{MemStore, Store};
pub use watermark::Watermark;

/// The RocksDB directory inside a data dir.
pub fn db_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("ledger")
}

/// The ledger key file inside a data dir.
pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("ledger.key")
}

/// The ledger public key file inside a data dir (what verifiers trust).
pub fn public_key_path(data_dir: &Path) -> PathBuf {
    keyfile::public_path(&key_path(data_dir))
}

/// Errors opening a ledger from a data dir.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The key file.
    #[error(transparent)]
    Key(#[from] keyfile::KeyFileError),
    /// The ledger itself.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The high-water mark.
    #[error(transparent)]
    Watermark(#[from] watermark::WatermarkError),
    /// No ledger in the data dir.
    #[error("no ledger in {0} (run `medproof demo` or start the service to create one)")]
    NoLedger(PathBuf),
    /// The database.
    #[error("{path}: {source}")]
    Store {
        /// The database directory.
        path: PathBuf,
        /// What RocksDB said.
        source: store::StoreError,
    },
}

/// The registrar key file a new data dir gets when no registrar is named.
pub fn registrar_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("registrar.key")
}

/// What a new ledger's genesis names (used only when a ledger is created).
#[derive(Debug, Clone, Default)]
pub struct NewLedger {
    /// The registrars; `None`: the key in `data_dir/registrar.key` (created, mode 0600,
    /// with its public half in `registrar.pub`).
    pub registrars: Option<Vec<ed25519_dalek::VerifyingKey>>,
    /// The verifying key of each statement, with its ceremony transcript: verifiers
    /// accept proofs under these keys only. None named: no proof is accepted.
    pub keys: Vec<GenesisKey>,
    /// The transparency log's name (its C2SP origin); `None`:
    /// [`tlog::default_origin`] of the ledger id.
    pub origin: Option<String>,
}

/// Opens the existing ledger in `data_dir` to append: RocksDB in `data_dir/ledger`, the
/// signing key in `data_dir/ledger.key`, the high-water mark in `data_dir/ledger.hwm` (a
/// database behind it is refused). A data dir without a ledger is
/// [`OpenError::NoLedger`]: only [`open_dir_with`] creates one, with the genesis it is
/// given (a ledger's verifying keys are named when it is created, never by default).
pub fn open_dir(data_dir: &Path, clock: Arc<dyn Clock>) -> Result<Ledger<RocksStore>, OpenError> {
    open_dir_with(data_dir, clock, None)
}

/// [`open_dir`], creating the ledger with the genesis `new` if there is none yet.
pub fn open_dir_with(
    data_dir: &Path,
    clock: Arc<dyn Clock>,
    new: Option<NewLedger>,
) -> Result<Ledger<RocksStore>, OpenError> {
    let path = db_dir(data_dir);
    if new.is_none() && !path.is_dir() {
        return Err(OpenError::NoLedger(data_dir.to_path_buf()));
    }
    let mark = Watermark::in_dir(data_dir);
    // A key is created only with a new ledger: a ledger whose key is gone stays closed
    // rather than being re-keyed.
    let key = if path.exists() {
        keyfile::load(&key_path(data_dir))?
    } else {
        keyfile::load_or_create(&key_path(data_dir))?.0
    };
    let store = RocksStore::open(&path).map_err(|source| OpenError::Store {
        path: path.clone(),
        source,
    })?;
    let empty = store
        .last(store::Cf::Entries)
        .map_err(|source| OpenError::Store { path, source })?
        .is_none();
    // A new ledger, unless a mark says one was here (then opening reports the rollback).
    let fresh = empty && matches!(mark.load(&key.verifying_key())?, None | Some(None));
    let ledger = if fresh {
        let new = new.ok_or_else(|| OpenError::NoLedger(data_dir.to_path_buf()))?;
        let registrars = match new.registrars {
            Some(r) => r,
            None => vec![keyfile::load_or_create(&registrar_key_path(data_dir))?
                .0
                .verifying_key()],
        };
        mark.store(None)?;
        Ledger::create_named(
            store,
            key,
            clock,
            &registrars,
            &new.keys,
            new.origin.as_deref(),
        )?
    } else {
        Ledger::open(store, key, clock)?
    };
    Ok(ledger.with_watermark(mark)?)
}

/// Opens the existing ledger in `data_dir` to read and verify it, trusting `public` (by
/// default the data dir's `ledger.pub`): no private key is read, RocksDB is opened
/// read-only (so a regulator can audit while the service writes), and the high-water
/// mark, if present, is checked.
pub fn open_dir_read_only(
    data_dir: &Path,
    public: Option<ed25519_dalek::VerifyingKey>,
) -> Result<Ledger<RocksStore>, OpenError> {
    let path = db_dir(data_dir);
    if !path.is_dir() {
        return Err(OpenError::NoLedger(data_dir.to_path_buf()));
    }
    let public = match public {
        Some(k) => k,
        None => keyfile::load_public(&public_key_path(data_dir))?,
    };
    let store =
        RocksStore::open_read_only(&path).map_err(|source| OpenError::Store { path, source })?;
    Ok(Ledger::open_read_only(store, public)?.with_watermark(Watermark::in_dir(data_dir))?)
}

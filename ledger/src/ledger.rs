//! The ledger: validation, the hash chain, the trees and checkpoints over any [`Store`].
//!
//! Every append (one submission or a batch) is validated whole before anything changes,
//! then becomes entries, tree updates, a signed checkpoint entry and a new chain head,
//! committed in one atomic, synced write. If that write fails, the ledger refuses further
//! appends until it is reopened, so memory never runs ahead of the disk.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use medproof_circuits::merkle::{MerklePath, MerkleTree, NodeWrite, LEDGER_TREE};
use medproof_verifier::checkpoint::fr_to_be32;
use medproof_verifier::{Checkpoint, Fr};
use sha2::{Digest, Sha256};

use crate::codec;
use crate::encoding::fr_from_be32;
use crate::entry::{Action, Body, Entry, Envelope, Genesis, GenesisKey, Role, Submission};
use crate::rules::{self, ConsentStatus, Effect, KeyStatus, Pending, State};
use crate::store::{Cf, Store, StoreError, WriteSet};
use crate::tlog::{self, Hash, LogVerifier, SignedCheckpoint, TilePath, TlogError};
use crate::watermark::Watermark;
use medproof_circuits::commit::{consent_leaf, key_ref, record_leaf};

/// A source of ledger time (Unix seconds).
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

pub use crate::rules::Refusal;

/// A ledger error.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The storage backend failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored data is not what the ledger wrote (altered outside medproof).
    #[error("the ledger data is inconsistent{}: {reason} (run `medproof ledger verify`)", seq.map(|s| format!(" at seq {s}")).unwrap_or_default())]
    Corrupt {
        /// The first bad entry, if known.
        seq: Option<u64>,
        /// What is wrong.
        reason: String,
    },
    /// The data dir was written by a medproof with another storage layout.
    #[error("the ledger's storage format is {found}, and this medproof reads format {STORAGE_FORMAT}: keep the old data dir with the version that wrote it, and start a new one")]
    Format {
        /// The format found (1: before formats were recorded).
        found: u32,
    },
    /// Submission `index` of the batch was refused; nothing was written.
    #[error("submission {index} refused: {reason}")]
    Refused {
        /// Position in the batch.
        index: usize,
        /// Why.
        reason: Refusal,
    },
    /// An append with nothing in it.
    #[error("nothing to append")]
    EmptyBatch,
    /// A write failed earlier; the ledger must be reopened.
    #[error("a previous write failed; reopen the ledger")]
    Poisoned,
    /// The database is behind the checkpoint the ledger last signed (its high-water
    /// mark): an older copy was restored, or the database was cut back.
    #[error("the ledger database is behind its high-water mark: the ledger signed checkpoint {mark} but the database has {entries} entries; an older copy was restored or it was cut back, which would undo revocations (restore the latest data)")]
    RolledBack {
        /// The seq of the checkpoint in the mark.
        mark: u64,
        /// Entries in the database.
        entries: u64,
    },
    /// The database holds another entry where the ledger signed a checkpoint.
    #[error("the ledger database holds another entry at seq {0} than the checkpoint the ledger signed there (its high-water mark): the database was replaced")]
    Diverged(u64),
    /// The mark is missing beside a database that has entries.
    #[error("{0}: the high-water mark is missing beside a ledger that has entries, so a rollback could not be told; restore it from where the data dir came from")]
    WatermarkMissing(std::path::PathBuf),
    /// The mark could not be read or written.
    #[error(transparent)]
    Watermark(#[from] crate::watermark::WatermarkError),
    /// The ledger has no genesis yet: create it with [`Ledger::create`].
    #[error("the ledger has no genesis entry: create it (with its registrars) before appending")]
    NoGenesis,
    /// A genesis for a store that has entries.
    #[error("the ledger has entries already: it has a genesis")]
    HasGenesis,
    /// Too many registrars for a genesis.
    #[error("a genesis names 1 to {} registrars", crate::entry::MAX_REGISTRARS)]
    Registrars,
    /// Two verifying keys for one statement.
    #[error("a genesis names at most one verifying key per statement")]
    GenesisKeys,
    /// The ledger was opened with its public key only, to read and verify.
    #[error("the ledger is open read-only (with its public key): it cannot append")]
    ReadOnly,
    /// A log name that begins as the ledger key's other signed messages do.
    #[error("`{0}` cannot name the log: names that start with `medproof.` are the domains of the ledger key's other signatures")]
    ReservedOrigin(String),
    /// A format this version upgrades when it opens the ledger to write.
    #[error("the ledger's storage format is {found}: open it once with a command that writes (e.g. `medproof serve`) to upgrade it to format {STORAGE_FORMAT}, then read it")]
    NeedsUpgrade {
        /// The format found.
        found: u32,
    },
    /// The transparency log's formats.
    #[error(transparent)]
    Tlog(#[from] TlogError),
}

/// The storage layout this version writes and reads (`Meta/"format"`). Format 3: entries
/// of version 2 (a genesis, submissions bound to a ledger id and an expiry, admission,
/// suspension, claims), tree leaves wrapped with their signer's key, and the `Claims`
/// and `Bindings` indexes; see [`crate::store::Cf`] for the layout. Format 2 added the
/// adding entry's seq to each `Leaves` value; format 1 (no format key) predates it.
/// Format 5: the genesis names each statement's verifying key and its ceremony transcript.
/// Format 6: the records and consents trees (and policies' covered-codes trees) are
/// 4-ary ([`LEDGER_TREE`]): 16 levels of nodes, each the Poseidon of four children.
/// Format 7: the RFC 6962 tree over the entries ([`Cf::Tlog`]), the log's origin and its
/// latest C2SP checkpoint ([`crate::tlog`]); a format-6 ledger is upgraded when it is
/// opened to write.
pub const STORAGE_FORMAT: u32 = 7;
/// The format [`Ledger::open`] upgrades in place.
const UPGRADABLE_FORMAT: u32 = 6;
pub(crate) const FORMAT_KEY: &[u8] = b"format";
pub(crate) const ORIGIN_KEY: &[u8] = b"origin";
pub(crate) const TLOG_CHECKPOINT_KEY: &[u8] = b"tlog-checkpoint";

/// Tree ids in the `Nodes` and `Leaves` column families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeId {
    /// Record commitments.
    Records = 0,
    /// Consent commitments.
    Consents = 1,
    /// Policy commitments (no tree; indexed for lookup and uniqueness).
    Policies = 2,
}

impl TreeId {
    pub(crate) fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(TreeId::Records),
            1 => Some(TreeId::Consents),
            2 => Some(TreeId::Policies),
            _ => None,
        }
    }

    /// Name.
    pub fn name(self) -> &'static str {
        match self {
            TreeId::Records => "records",
            TreeId::Consents => "consents",
            TreeId::Policies => "policies",
        }
    }
}

/// A checkpoint with its place in history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointInfo {
    /// The signed checkpoint.
    pub checkpoint: Checkpoint,
    /// Its number (0 for the first).
    pub number: u64,
    /// When the next checkpoint replaced it; `None` while it is the latest.
    pub superseded_at: Option<u64>,
}

/// A commitment's place in a tree, with the signed checkpoint its path is against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchoredPath {
    /// The latest checkpoint when it was read.
    pub checkpoint: Checkpoint,
    /// The tree (records or consents).
    pub tree: TreeId,
    /// The leaf index.
    pub index: u64,
    /// The path from the leaf to the checkpoint's root.
    pub path: MerklePath,
    /// The leaf in the tree: the commitment wrapped with the key that added it, or 0
    /// for a revoked consent (whose path then proves nothing).
    pub leaf: Fr,
    /// That key.
    pub added_by: [u8; 32],
}

/// How the ledger stands to a checkpoint a party saw before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Continuity {
    /// The chain holds it and extends it.
    Extends,
    /// The ledger has no entry at its seq any more: it was rolled back.
    RolledBack {
        /// Entries the ledger has now.
        entries: u64,
    },
    /// The ledger holds something else at its seq: the signed checkpoint there, if any
    /// (two checkpoints signed at one seq: the ledger equivocated).
    Forked {
        /// What the ledger has signed at that seq now.
        ledger: Option<Checkpoint>,
    },
}

/// Where an accepted submission of [`Ledger::append_each`] landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Its entry's seq.
    pub seq: u64,
    /// Its leaf index, if it added a leaf.
    pub leaf_index: Option<u64>,
}

/// What [`Ledger::append_each`] did with each submission of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Per submission, in order: where it landed, or why it was refused.
    pub results: Vec<Result<Appended, Refusal>>,
    /// The checkpoint signed after the accepted ones (`None`: all were refused and
    /// nothing was written).
    pub checkpoint: Option<Checkpoint>,
}

fn seq_of_key<S: Store>(ledger: &Ledger<S>, key: &[u8; 32]) -> Result<Option<u64>, LedgerError> {
    Ok(ledger
        .store
        .get(Cf::Keys, key)?
        .and_then(|v| codec::key_status(&v))
        .map(|(_, seq)| seq))
}

/// What an append produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Sequence numbers of the submissions, in order.
    pub seqs: Vec<u64>,
    /// Leaf index per submission for those that add a leaf.
    pub leaf_indices: Vec<Option<u64>>,
    /// The checkpoint signed after them.
    pub checkpoint: Checkpoint,
}

pub(crate) fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// The key of the access index: the record, then the access entry's seq.
pub(crate) fn access_key(record: &Fr, seq: u64) -> Vec<u8> {
    let mut k = fr_to_be32(record).to_vec();
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub(crate) fn node_key(tree: TreeId, level: u8, index: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(10);
    k.push(tree as u8);
    k.push(level);
    k.extend_from_slice(&index.to_be_bytes());
    k
}

fn u64_at(v: &[u8], at: usize) -> Option<u64> {
    v.get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
}

fn corrupt(seq: Option<u64>, reason: impl Into<String>) -> LedgerError {
    LedgerError::Corrupt {
        seq,
        reason: reason.into(),
    }
}

/// The genesis, its hash (the ledger id) and its registrars as a set.
#[derive(Debug, Clone)]
struct GenesisInfo {
    id: [u8; 32],
    registrars: HashSet<[u8; 32]>,
    genesis: Genesis,
}

impl GenesisInfo {
    fn new(id: [u8; 32], genesis: Genesis) -> Self {
        Self {
            id,
            registrars: genesis.registrars.iter().copied().collect(),
            genesis,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct CheckpointMeta {
    seq: u64,
    superseded_at: Option<u64>,
}

/// The stored chain head (`Meta/"head"`) of a chain of `next_seq` entries, the last of
/// which hashes to `hash` at ledger time `last_time`, with `policies` policies.
pub(crate) fn head_value(next_seq: u64, hash: [u8; 32], last_time: u64, policies: u64) -> Vec<u8> {
    Head {
        next_seq,
        hash,
        last_time,
        policies,
    }
    .encode()
}

/// Head of the chain as stored under `Meta/"head"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Head {
    next_seq: u64,
    hash: [u8; 32],
    last_time: u64,
    policies: u64,
}

impl Head {
    const KEY: &'static [u8] = b"head";
    fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(56);
        v.extend_from_slice(&self.next_seq.to_be_bytes());
        v.extend_from_slice(&self.hash);
        v.extend_from_slice(&self.last_time.to_be_bytes());
        v.extend_from_slice(&self.policies.to_be_bytes());
        v
    }
    fn decode(v: &[u8]) -> Option<Self> {
        if v.len() != 56 {
            return None;
        }
        Some(Self {
            next_seq: u64_at(v, 0)?,
            hash: v[8..40].try_into().ok()?,
            last_time: u64_at(v, 40)?,
            policies: u64_at(v, 48)?,
        })
    }
}

/// The ledger over a store.
pub struct Ledger<S: Store> {
    store: S,
    /// The checkpoint signing key; `None` for a read-only ledger.
    signer: Option<SigningKey>,
    public: VerifyingKey,
    clock: Arc<dyn Clock>,
    head: Head,
    records: MerkleTree,
    consents: MerkleTree,
    genesis: Option<GenesisInfo>,
    keys: HashMap<[u8; 32], KeyStatus>,
    consent_meta: Vec<ConsentStatus>,
    checkpoints: Vec<CheckpointMeta>,
    /// The transparency log's name (C2SP origin); empty until the genesis names it.
    origin: String,
    poisoned: bool,
    watermark: Option<Watermark>,
}

impl<S: Store> std::fmt::Debug for Ledger<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("next_seq", &self.head.next_seq)
            .field("records", &self.records.len())
            .field("consents", &self.consents.len())
            .finish()
    }
}

/// Reads a tree's nodes from the store.
pub(crate) fn load_tree<S: Store>(store: &S, tree: TreeId) -> Result<MerkleTree, LedgerError> {
    let depth = LEDGER_TREE.depth();
    let mut levels: Vec<Vec<Fr>> = vec![Vec::new(); depth + 1];
    let mut bad: Option<String> = None;
    store.scan(Cf::Nodes, &mut |k, v| {
        if bad.is_some() || k.first() != Some(&(tree as u8)) {
            return Ok(());
        }
        let parsed = (|| {
            let level = *k.get(1)? as usize;
            let index = u64_at(k, 2)?;
            let value: [u8; 32] = v.try_into().ok()?;
            Some((level, index, fr_from_be32(&value)?))
        })();
        match parsed {
            Some((level, index, value))
                if level <= depth && index == levels[level].len() as u64 && k.len() == 10 =>
            {
                levels[level].push(value)
            }
            _ => bad = Some(format!("malformed {} tree node", tree.name())),
        }
        Ok(())
    })?;
    if let Some(reason) = bad {
        return Err(corrupt(None, reason));
    }
    MerkleTree::from_levels(LEDGER_TREE, levels)
        .map_err(|e| corrupt(None, format!("{} tree: {e}", tree.name())))
}

impl<S: Store> Ledger<S> {
    /// Opens the ledger in `store`, signing checkpoints with `key`. A new store starts an
    /// empty ledger. Data altered outside medproof is reported as [`LedgerError::Corrupt`].
    pub fn open(store: S, key: SigningKey, clock: Arc<dyn Clock>) -> Result<Self, LedgerError> {
        let public = key.verifying_key();
        Self::open_with(store, Some(key), public, clock)
    }

    /// Opens the ledger in `store` to read and verify it, trusting `public` as the key
    /// that signs its checkpoints; no private key is needed, and appends are refused.
    pub fn open_read_only(store: S, public: VerifyingKey) -> Result<Self, LedgerError> {
        Self::open_with(store, None, public, Arc::new(SystemClock))
    }

    fn open_with(
        store: S,
        signer: Option<SigningKey>,
        public: VerifyingKey,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, LedgerError> {
        let mut upgrade = false;
        let head = match store.get(Cf::Meta, Head::KEY)? {
            Some(v) => {
                let found = match store.get(Cf::Meta, FORMAT_KEY)? {
                    Some(f) => <[u8; 4]>::try_from(f.as_slice())
                        .map(u32::from_be_bytes)
                        .map_err(|_| corrupt(None, "malformed storage format"))?,
                    None => 1,
                };
                match found {
                    STORAGE_FORMAT => {}
                    UPGRADABLE_FORMAT if signer.is_some() => upgrade = true,
                    UPGRADABLE_FORMAT => return Err(LedgerError::NeedsUpgrade { found }),
                    _ => return Err(LedgerError::Format { found }),
                }
                Head::decode(&v).ok_or_else(|| corrupt(None, "malformed chain head"))?
            }
            None => {
                if store.last(Cf::Entries)?.is_some() {
                    return Err(corrupt(None, "entries exist but the chain head is missing"));
                }
                Head::default()
            }
        };
        let mut keys = HashMap::new();
        let mut bad = false;
        store.scan(Cf::Keys, &mut |k, v| {
            match (<[u8; 32]>::try_from(k), codec::key_status(v)) {
                (Ok(pk), Some((status, _))) => {
                    keys.insert(pk, status);
                }
                _ => bad = true,
            }
            Ok(())
        })?;
        let mut consent_meta = Vec::new();
        store.scan(Cf::Consents, &mut |k, v| {
            match codec::consent_status(v) {
                Some(c) if u64_at(k, 0) == Some(consent_meta.len() as u64) => consent_meta.push(c),
                _ => bad = true,
            }
            Ok(())
        })?;
        let mut checkpoints = Vec::new();
        store.scan(Cf::Checkpoints, &mut |k, v| {
            match (u64_at(k, 0), u64_at(v, 0), u64_at(v, 8)) {
                // Numbered from 0 without a gap, at strictly increasing seqs.
                (Some(n), Some(seq), Some(sup))
                    if n == checkpoints.len() as u64
                        && checkpoints
                            .last()
                            .is_none_or(|c: &CheckpointMeta| c.seq < seq) =>
                {
                    checkpoints.push(CheckpointMeta {
                        seq,
                        superseded_at: (sup != u64::MAX).then_some(sup),
                    })
                }
                _ => bad = true,
            }
            Ok(())
        })?;
        if bad {
            return Err(corrupt(None, "malformed key, consent or checkpoint index"));
        }
        let records = load_tree(&store, TreeId::Records)?;
        let consents = load_tree(&store, TreeId::Consents)?;
        if consents.len() != consent_meta.len() as u64 {
            return Err(corrupt(None, "consents tree and consent index disagree"));
        }
        let genesis = match store.get(Cf::Entries, &seq_key(0))? {
            None => None,
            Some(bytes) => {
                let entry = Entry::decode(&bytes)
                    .map_err(|e| corrupt(Some(0), format!("entry does not decode: {e}")))?;
                match &entry.body {
                    Body::Genesis(g) if entry.seq == 0 && g.verify(entry.time, &public) => {
                        Some(GenesisInfo::new(entry.hash(), g.clone()))
                    }
                    _ => {
                        return Err(corrupt(
                            Some(0),
                            "the first entry is not a genesis signed by this ledger's key",
                        ))
                    }
                }
            }
        };
        let origin = match store.get(Cf::Meta, ORIGIN_KEY)? {
            Some(v) => String::from_utf8(v).map_err(|_| corrupt(None, "malformed log origin"))?,
            None => String::new(),
        };
        let mut ledger = Self {
            store,
            signer,
            public,
            clock,
            head,
            records,
            consents,
            genesis,
            keys,
            consent_meta,
            checkpoints,
            origin,
            poisoned: false,
            watermark: None,
        };
        if upgrade {
            ledger.upgrade_to_tlog()?;
        }
        ledger.quick_check()?;
        Ok(ledger)
    }

    /// Format 6 to 7: the RFC 6962 tree over the entries there are, the default origin
    /// and a C2SP checkpoint of them, written in one batch with the new format.
    fn upgrade_to_tlog(&mut self) -> Result<(), LedgerError> {
        let mut leaves = Vec::with_capacity(self.head.next_seq as usize);
        self.store.scan(Cf::Entries, &mut |_, v| {
            leaves.push(tlog::leaf_hash(v));
            Ok(())
        })?;
        if leaves.len() as u64 != self.head.next_seq {
            return Err(corrupt(None, "entries are missing"));
        }
        let id = self.id().ok_or(LedgerError::NoGenesis)?;
        self.origin = tlog::default_origin(&id);
        let mut ws = WriteSet::default();
        self.tlog_writes(0, &leaves, true, &mut ws)?;
        ws.put(Cf::Meta, FORMAT_KEY, STORAGE_FORMAT.to_be_bytes());
        self.store.write(ws, true)?;
        tracing::info!(
            "upgraded the ledger to storage format {STORAGE_FORMAT}: a transparency log of {} entries named `{}`",
            leaves.len(),
            self.origin
        );
        Ok(())
    }

    /// Adds to `ws` the tree hashes of `leaves` after the first `size` entries and the
    /// signed C2SP checkpoint of the tree they make (and the origin, with `origin`).
    fn tlog_writes(
        &self,
        size: u64,
        leaves: &[Hash],
        origin: bool,
        ws: &mut WriteSet,
    ) -> Result<(), LedgerError> {
        let signer = self.signer.as_ref().ok_or(LedgerError::ReadOnly)?;
        let (hashes, root) = tlog::extend(&self.store, size, leaves)?;
        for (index, hash) in hashes {
            ws.put(Cf::Tlog, tlog::hash_key(index), hash.0);
        }
        let note = tlog::sign_checkpoint(&self.origin, size + leaves.len() as u64, root, signer)?;
        ws.put(Cf::Meta, TLOG_CHECKPOINT_KEY, note);
        if origin {
            ws.put(Cf::Meta, ORIGIN_KEY, self.origin.as_bytes());
        }
        Ok(())
    }

    /// Cheap consistency checks at open: the last entry hashes to the stored head, is
    /// the latest checkpoint, is signed by this ledger, and vouches for the stored trees.
    fn quick_check(&self) -> Result<(), LedgerError> {
        let last = self.store.last(Cf::Entries)?;
        let Some((k, v)) = last else {
            if self.head.next_seq != 0 || !self.checkpoints.is_empty() {
                return Err(corrupt(Some(0), "entries are missing"));
            }
            return Ok(());
        };
        let seq = u64_at(&k, 0).ok_or_else(|| corrupt(None, "malformed entry key"))?;
        if seq + 1 != self.head.next_seq {
            return Err(corrupt(
                Some(seq),
                format!(
                    "last entry is {seq}, the chain head says {}",
                    self.head.next_seq.wrapping_sub(1)
                ),
            ));
        }
        let entry = Entry::decode(&v)
            .map_err(|e| corrupt(Some(seq), format!("entry does not decode: {e}")))?;
        if entry.seq != seq || entry.hash() != self.head.hash {
            return Err(corrupt(
                Some(seq),
                "the last entry does not hash to the chain head",
            ));
        }
        let cp = entry
            .checkpoint()
            .ok_or_else(|| corrupt(Some(seq), "the last entry is not a checkpoint"))?;
        if self.checkpoints.last().map(|c| c.seq) != Some(seq) {
            return Err(corrupt(
                Some(seq),
                "the checkpoint index does not end at the last entry",
            ));
        }
        cp.verify(&self.public_key()).map_err(|_| {
            corrupt(
                Some(seq),
                "the last checkpoint is not signed by this ledger's key",
            )
        })?;
        if cp.records_root != self.records.root() || cp.consents_root != self.consents.root() {
            return Err(corrupt(
                Some(seq),
                "the stored trees do not match the last checkpoint",
            ));
        }
        let signed = self.tlog_checkpoint().map_err(|e| match e {
            LedgerError::Tlog(e) => corrupt(None, format!("the log's C2SP checkpoint: {e}")),
            e => e,
        })?;
        if signed.size != self.head.next_seq {
            return Err(corrupt(
                None,
                format!(
                    "the log's C2SP checkpoint has {} entries, the ledger {}",
                    signed.size, self.head.next_seq
                ),
            ));
        }
        if tlog::tree_hash(&self.store, &HashMap::new(), signed.size)? != signed.root {
            return Err(corrupt(
                None,
                "the log's stored hashes do not make the root of its C2SP checkpoint",
            ));
        }
        Ok(())
    }

    /// Checks the database against the high-water mark `mark` and keeps the mark up to
    /// date from now on: a database behind the mark, or holding another entry where the
    /// mark's checkpoint was signed, is refused. A writable ledger moves a mark that is
    /// behind forward (a crash can leave it one append behind), and writes an empty one
    /// for a new ledger; a missing mark beside a ledger with entries is refused. A
    /// read-only ledger only reads the mark, if there is one.
    pub fn with_watermark(mut self, mark: Watermark) -> Result<Self, LedgerError> {
        let loaded = mark.load(&self.public)?;
        match &loaded {
            None if self.is_read_only() => {}
            None if !self.is_empty() => {
                return Err(LedgerError::WatermarkMissing(mark.path().to_path_buf()))
            }
            None => {}
            // An empty mark is written before a new ledger's genesis: beside anything but
            // the genesis and its checkpoint it would let a restored database through
            // (an empty mark needs no signature).
            Some(None) if self.len() > 2 => {
                return Err(LedgerError::WatermarkMissing(mark.path().to_path_buf()))
            }
            Some(None) => {}
            Some(Some(cp)) => {
                if cp.seq >= self.len() {
                    return Err(LedgerError::RolledBack {
                        mark: cp.seq,
                        entries: self.len(),
                    });
                }
                if !self.holds_checkpoint(cp)? {
                    return Err(LedgerError::Diverged(cp.seq));
                }
            }
        }
        if !self.is_read_only() {
            // Moved forward (or written for a new ledger) only when it is behind.
            let latest = self.latest_checkpoint()?.map(|i| i.checkpoint);
            if loaded != Some(latest) {
                mark.store(latest.as_ref())?;
            }
        }
        self.watermark = Some(mark);
        Ok(self)
    }

    /// The ledger's public key (what verifiers trust).
    pub fn public_key(&self) -> VerifyingKey {
        self.public
    }

    /// Whether the ledger was opened without its signing key.
    pub fn is_read_only(&self) -> bool {
        self.signer.is_none()
    }

    /// The store (for tests and tools).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Gives the store back.
    pub fn into_store(self) -> S {
        self.store
    }

    /// Number of entries.
    pub fn len(&self) -> u64 {
        self.head.next_seq
    }

    /// Whether the ledger has no entry.
    pub fn is_empty(&self) -> bool {
        self.head.next_seq == 0
    }

    /// SHA-256 of the last entry (zeros when empty).
    pub fn chain_head(&self) -> [u8; 32] {
        self.head.hash
    }

    /// The records tree.
    pub fn records(&self) -> &MerkleTree {
        &self.records
    }

    /// The consents tree.
    pub fn consents(&self) -> &MerkleTree {
        &self.consents
    }

    /// The role `key` is registered for.
    pub fn role_of(&self, key: &[u8; 32]) -> Option<Role> {
        self.keys.get(key).map(|k| k.role)
    }

    /// A registered key's role and whether a registrar suspended it.
    pub fn key_standing(&self, key: &[u8; 32]) -> Option<crate::rules::KeyStatus> {
        self.keys.get(key).copied()
    }

    /// Whether a failed write left the ledger unable to append until it is reopened.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// The registrars the genesis names.
    pub fn registrars(&self) -> Vec<[u8; 32]> {
        let mut r: Vec<_> = self
            .genesis
            .as_ref()
            .map(|g| g.registrars.iter().copied().collect())
            .unwrap_or_default();
        r.sort();
        r
    }

    /// The genesis: the registrars and the verifying keys (see [`Genesis::key`] and
    /// [`Genesis::names`]); `None` before the ledger is created.
    pub fn genesis(&self) -> Option<&Genesis> {
        self.genesis.as_ref().map(|g| &g.genesis)
    }

    /// The ledger id (the hash of its genesis entry), which every submission names.
    pub fn id(&self) -> Option<[u8; 32]> {
        self.genesis.as_ref().map(|g| g.id)
    }

    /// An envelope for submissions to this ledger, valid for `secs` seconds of ledger
    /// time from now.
    pub fn envelope(&self, secs: u64) -> Result<Envelope, LedgerError> {
        Ok(Envelope {
            ledger_id: self.id().ok_or(LedgerError::NoGenesis)?,
            expires: self.clock.now().saturating_add(secs),
        })
    }

    /// Creates a ledger in an empty `store`: its genesis entry, signed by `key`, names
    /// `registrars` (the keys that admit providers, insurers and regulators) and the
    /// verifying `keys` (at most one per statement: verifiers accept proofs under these
    /// only), and a first checkpoint follows it.
    pub fn create(
        store: S,
        key: SigningKey,
        clock: Arc<dyn Clock>,
        registrars: &[VerifyingKey],
        keys: &[GenesisKey],
    ) -> Result<Self, LedgerError> {
        Self::create_named(store, key, clock, registrars, keys, None)
    }

    /// [`Ledger::create`], naming the transparency log `origin` (its C2SP checkpoints'
    /// first line, e.g. the URL prefix it is served at without the scheme); `None`:
    /// [`tlog::default_origin`].
    pub fn create_named(
        store: S,
        key: SigningKey,
        clock: Arc<dyn Clock>,
        registrars: &[VerifyingKey],
        keys: &[GenesisKey],
        origin: Option<&str>,
    ) -> Result<Self, LedgerError> {
        if let Some(o) = origin {
            tlog::check_log_origin(o)?;
        }
        let mut ledger = Self::open(store, key, clock)?;
        if !ledger.is_empty() {
            return Err(LedgerError::HasGenesis);
        }
        if registrars.is_empty() || registrars.len() > crate::entry::MAX_REGISTRARS {
            return Err(LedgerError::Registrars);
        }
        if keys
            .iter()
            .enumerate()
            .any(|(i, k)| keys[..i].iter().any(|o| o.statement == k.statement))
        {
            return Err(LedgerError::GenesisKeys);
        }
        let registrars: Vec<[u8; 32]> = registrars.iter().map(|k| k.to_bytes()).collect();
        let signer = ledger.signer.as_ref().ok_or(LedgerError::ReadOnly)?;
        let time = ledger.clock.now();
        let body = Genesis::signed(signer, &registrars, keys, time);
        let genesis = body.clone().into_entry(time);
        let id = genesis.hash();
        ledger.origin = origin
            .map(str::to_string)
            .unwrap_or_else(|| tlog::default_origin(&id));
        ledger.genesis = Some(GenesisInfo::new(id, body));
        ledger.commit(&[], &[], Some(genesis), time)?;
        Ok(ledger)
    }

    /// The entry at `seq`.
    pub fn entry(&self, seq: u64) -> Result<Option<Entry>, LedgerError> {
        match self.store.get(Cf::Entries, &seq_key(seq))? {
            Some(v) => Entry::decode(&v)
                .map(Some)
                .map_err(|e| corrupt(Some(seq), format!("entry does not decode: {e}"))),
            None => Ok(None),
        }
    }

    /// The access entries that name `record` (the record a logged access proof is
    /// for), oldest first, at most `limit`. The index is a hint: each entry it points
    /// at is read and checked to be an access to `record`, else the store is corrupt.
    pub fn accesses_of(&self, record: &Fr, limit: usize) -> Result<Vec<Entry>, LedgerError> {
        let prefix = fr_to_be32(record);
        let keys = self.store.keys_with_prefix(Cf::Accesses, &prefix, limit)?;
        keys.iter()
            .map(|k| {
                let seq = k
                    .get(32..40)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_be_bytes)
                    .ok_or_else(|| corrupt(None, "an access index key is not record | seq"))?;
                let entry = self
                    .entry(seq)?
                    .ok_or_else(|| corrupt(Some(seq), "the access index names a missing entry"))?;
                let named = match &entry.body {
                    Body::Submission(Submission {
                        action: Action::LogAccess { bundle, nonce },
                        signer,
                        ..
                    }) => rules::access_ref(bundle, signer, nonce).ok(),
                    _ => None,
                };
                match named {
                    Some(a) if a.record == *record => Ok(entry),
                    _ => Err(corrupt(
                        Some(seq),
                        "the access index names an entry that is not an access to the record",
                    )),
                }
            })
            .collect()
    }

    fn checkpoint_info(&self, number: usize) -> Result<Option<CheckpointInfo>, LedgerError> {
        let Some(meta) = self.checkpoints.get(number) else {
            return Ok(None);
        };
        let entry = self
            .entry(meta.seq)?
            .ok_or_else(|| corrupt(Some(meta.seq), "checkpoint entry is missing"))?;
        let checkpoint = entry.checkpoint().ok_or_else(|| {
            corrupt(
                Some(meta.seq),
                "indexed checkpoint is not a checkpoint entry",
            )
        })?;
        Ok(Some(CheckpointInfo {
            checkpoint,
            number: number as u64,
            superseded_at: meta.superseded_at,
        }))
    }

    /// The transparency log's name: the origin line of its C2SP checkpoints.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The log's note verifier (its origin and the ledger's key), what monitors and
    /// witnesses pin.
    pub fn log_verifier(&self) -> Result<LogVerifier, LedgerError> {
        Ok(LogVerifier::new(&self.origin, self.public)?)
    }

    /// The latest C2SP checkpoint (of all entries), its signature checked.
    pub fn tlog_checkpoint(&self) -> Result<SignedCheckpoint, LedgerError> {
        let note = self
            .store
            .get(Cf::Meta, TLOG_CHECKPOINT_KEY)?
            .ok_or_else(|| corrupt(None, "the log's C2SP checkpoint is missing"))?;
        Ok(self.log_verifier()?.open(&note)?)
    }

    fn within(&self, size: u64) -> Result<(), LedgerError> {
        match size <= self.len() {
            true => Ok(()),
            false => Err(TlogError::OutOfRange(format!(
                "the log has {} entries, not {size}",
                self.len()
            ))
            .into()),
        }
    }

    /// The root of the RFC 6962 tree of the first `size` entries.
    pub fn tlog_root(&self, size: u64) -> Result<Hash, LedgerError> {
        self.within(size)?;
        Ok(tlog::tree_hash(&self.store, &HashMap::new(), size)?)
    }

    /// The proof that entry `index` is in the tree of the first `size` entries.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
        self.within(size)?;
        Ok(tlog::prove_inclusion(&self.store, size, index)?)
    }

    /// The proof that the tree of the first `new` entries extends that of the first `old`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, LedgerError> {
        self.within(new)?;
        Ok(tlog::prove_consistency(&self.store, old, new)?)
    }

    /// The RFC 6962 leaf hash of entry `seq` (of its stored encoding).
    pub fn log_leaf_hash(&self, seq: u64) -> Result<Hash, LedgerError> {
        let bytes = self
            .store
            .get(Cf::Entries, &seq_key(seq))?
            .ok_or_else(|| corrupt(Some(seq), "the entry is missing"))?;
        Ok(tlog::leaf_hash(&bytes))
    }

    /// A C2SP tile's bytes: hashes, or an entry bundle; `None` if the log does not hold
    /// all of it yet.
    pub fn tile(&self, tile: &TilePath) -> Result<Option<Vec<u8>>, LedgerError> {
        if !tile.within(self.len()) {
            return Ok(None);
        }
        if let Some(hashes) = tile.read_hashes(&self.store)? {
            return Ok(Some(hashes));
        }
        let mut entries = Vec::with_capacity(tile.width() as usize);
        for seq in tile.entry_range() {
            entries.push(
                self.store
                    .get(Cf::Entries, &seq_key(seq))?
                    .ok_or_else(|| corrupt(Some(seq), "the entry is missing"))?,
            );
        }
        tlog::entry_bundle(entries.iter().map(Vec::as_slice))
            .map(Some)
            .ok_or_else(|| corrupt(None, "an entry is longer than an entry bundle can carry"))
    }

    /// The latest checkpoint.
    pub fn latest_checkpoint(&self) -> Result<Option<CheckpointInfo>, LedgerError> {
        match self.checkpoints.len() {
            0 => Ok(None),
            n => self.checkpoint_info(n - 1),
        }
    }

    /// The checkpoint whose entry is at `seq`, if that entry is a checkpoint.
    pub fn checkpoint_at(&self, seq: u64) -> Result<Option<CheckpointInfo>, LedgerError> {
        match self.checkpoints.binary_search_by_key(&seq, |c| c.seq) {
            Ok(n) => self.checkpoint_info(n),
            Err(_) => Ok(None),
        }
    }

    /// Walks the chain forward from the entry after `seq`, whose predecessor hashes to
    /// `hash`, to the next checkpoint entry: each entry must link to the one before it,
    /// and the checkpoint must be signed by `key`. Returns that checkpoint's entry, or
    /// `None` if the chain ends first. Reads the chain only, never an index.
    fn next_signed_checkpoint(
        &self,
        seq: u64,
        hash: [u8; 32],
        key: &VerifyingKey,
    ) -> Result<Option<Entry>, LedgerError> {
        let (found, _) = self.walk_links(seq, hash, |e| e.checkpoint().is_some())?;
        if let Some(cp) = found.as_ref().and_then(Entry::checkpoint) {
            cp.verify(key)
                .map_err(|_| corrupt(Some(cp.seq), "checkpoint is not signed by the ledger key"))?;
        }
        Ok(found)
    }

    /// Walks the chain from the entry after `seq` (whose predecessor hashes to `hash`),
    /// each entry linking to the one before it, until `stop` holds for an entry (which is
    /// returned) or the chain ends. Returns that entry, if any, and the hash of the last
    /// entry walked.
    fn walk_links(
        &self,
        seq: u64,
        mut hash: [u8; 32],
        mut stop: impl FnMut(&Entry) -> bool,
    ) -> Result<(Option<Entry>, [u8; 32]), LedgerError> {
        for next in seq + 1..self.len() {
            let entry = self
                .entry(next)?
                .ok_or_else(|| corrupt(Some(next), "entry is missing"))?;
            if entry.seq != next || entry.prev != hash {
                return Err(corrupt(
                    Some(next),
                    "the entry does not link to the one before it",
                ));
            }
            hash = entry.hash();
            if stop(&entry) {
                return Ok((Some(entry), hash));
            }
        }
        Ok((None, hash))
    }

    /// Whether `checkpoint` is this ledger's: the entry at its seq is that checkpoint
    /// (read from the chain, not from the checkpoint index).
    pub fn holds_checkpoint(&self, checkpoint: &Checkpoint) -> Result<bool, LedgerError> {
        Ok(self.entry(checkpoint.seq)? == Some(Entry::of_checkpoint(checkpoint)))
    }

    /// When `checkpoint` (signed by `key`) was superseded, read from the signed chain
    /// rather than from the index: the chain is walked from the checkpoint's own entry
    /// (rebuilt from the checkpoint, so its hash is known) to the next checkpoint entry,
    /// whose signature is checked; its time is the answer. `None` while it is the latest.
    pub fn superseded_on_chain(
        &self,
        checkpoint: &Checkpoint,
        key: &VerifyingKey,
    ) -> Result<Option<u64>, LedgerError> {
        let hash = Entry::of_checkpoint(checkpoint).hash();
        Ok(self
            .next_signed_checkpoint(checkpoint.seq, hash, key)?
            .map(|e| e.time))
    }

    /// Whether the chain extends the checkpoint at `seq` whose chain head a party saw
    /// (`ledger verify --since`, `audit --since`): the entry at `seq` must be a checkpoint
    /// signed by `key` over `chain_head`, and every entry after it must link to it.
    pub fn extends(
        &self,
        seq: u64,
        chain_head: &[u8; 32],
        key: &VerifyingKey,
    ) -> Result<Continuity, LedgerError> {
        self.extends_where(seq, key, |cp| cp.chain_head == *chain_head)
    }

    /// Whether the chain still holds `checkpoint` (a receipt) and extends it; a different
    /// checkpoint signed at its seq is an equivocation.
    pub fn extends_checkpoint(
        &self,
        checkpoint: &Checkpoint,
        key: &VerifyingKey,
    ) -> Result<Continuity, LedgerError> {
        self.extends_where(checkpoint.seq, key, |cp| cp == checkpoint)
    }

    fn extends_where(
        &self,
        seq: u64,
        key: &VerifyingKey,
        seen: impl FnOnce(&Checkpoint) -> bool,
    ) -> Result<Continuity, LedgerError> {
        if seq >= self.len() {
            return Ok(Continuity::RolledBack {
                entries: self.len(),
            });
        }
        let entry = self
            .entry(seq)?
            .ok_or_else(|| corrupt(Some(seq), "entry is missing"))?;
        let signed = entry.checkpoint().filter(|cp| cp.verify(key).is_ok());
        match signed {
            Some(cp) if seen(&cp) => {}
            other => return Ok(Continuity::Forked { ledger: other }),
        }
        let (_, hash) = self.walk_links(seq, entry.hash(), |_| false)?;
        if hash != self.head.hash {
            return Err(corrupt(None, "the chain does not end at the stored head"));
        }
        Ok(Continuity::Extends)
    }

    /// The entry at `seq`, read from the chain and vouched for by the signed checkpoint
    /// that follows it: the entries from it to that checkpoint link by SHA-256, and the
    /// checkpoint's signature under `key` is checked. An index can name a seq; only this
    /// says what is there.
    pub fn entry_on_chain(&self, seq: u64, key: &VerifyingKey) -> Result<Entry, LedgerError> {
        self.entry_vouched(seq, key).map(|(e, _)| e)
    }

    /// [`Ledger::entry_on_chain`], with the seq of the checkpoint that vouches for it:
    /// every entry between the two is vouched for too.
    pub fn entry_vouched(&self, seq: u64, key: &VerifyingKey) -> Result<(Entry, u64), LedgerError> {
        let entry = self
            .entry(seq)?
            .ok_or_else(|| corrupt(Some(seq), "entry is missing"))?;
        if entry.seq != seq {
            return Err(corrupt(Some(seq), "the entry says it is at another seq"));
        }
        if let Some(cp) = entry.checkpoint() {
            cp.verify(key)
                .map_err(|_| corrupt(Some(seq), "checkpoint is not signed by the ledger key"))?;
            return Ok((entry, seq));
        }
        match self.next_signed_checkpoint(seq, entry.hash(), key)? {
            Some(cp) => Ok((entry, cp.seq)),
            None => Err(corrupt(Some(seq), "no signed checkpoint follows the entry")),
        }
    }

    /// Every checkpoint's `(seq, superseded_at)`, oldest first.
    pub fn checkpoint_history(&self) -> Vec<(u64, Option<u64>)> {
        self.checkpoints
            .iter()
            .map(|c| (c.seq, c.superseded_at))
            .collect()
    }

    /// Which tree `commitment` is in, its leaf index, and the seq of the entry that
    /// added it.
    pub fn committed_at(&self, commitment: &Fr) -> Result<Option<(TreeId, u64, u64)>, LedgerError> {
        let Some(v) = self.store.get(Cf::Leaves, &fr_to_be32(commitment))? else {
            return Ok(None);
        };
        codec::leaf(&v)
            .map(Some)
            .ok_or_else(|| corrupt(None, "malformed leaf index"))
    }

    /// The key that added `commitment` (committed the record, granted the consent,
    /// published the policy): the signer of the entry its index names, read from the
    /// signed chain (see [`Ledger::entry_on_chain`]).
    pub fn committer_of(&self, commitment: &Fr) -> Result<Option<[u8; 32]>, LedgerError> {
        let Some((_, _, seq)) = self.committed_at(commitment)? else {
            return Ok(None);
        };
        let entry = self.entry_on_chain(seq, &self.public)?;
        Ok(adds(&entry, commitment).map(|(_, signer)| signer))
    }

    /// Where `commitment` is: its tree, leaf index and (for records and consents) path.
    pub fn locate(
        &self,
        commitment: &Fr,
    ) -> Result<Option<(TreeId, u64, Option<MerklePath>)>, LedgerError> {
        let Some((tree, index, _)) = self.committed_at(commitment)? else {
            return Ok(None);
        };
        let path = match tree {
            TreeId::Records => Some(self.records.path(index)),
            TreeId::Consents => Some(self.consents.path(index)),
            TreeId::Policies => None,
        }
        .transpose()
        .map_err(|e| corrupt(None, format!("leaf index points outside the tree: {e}")))?;
        Ok(Some((tree, index, path)))
    }

    /// The path of leaf `index` of `tree` (records or consents) with the latest signed
    /// checkpoint, read together, the path checked against that checkpoint's root.
    pub fn path_with_checkpoint(
        &self,
        tree: TreeId,
        index: u64,
    ) -> Result<(Checkpoint, MerklePath, Fr), LedgerError> {
        let checkpoint = self
            .latest_checkpoint()?
            .ok_or_else(|| corrupt(None, "the ledger has no checkpoint yet"))?
            .checkpoint;
        let (t, root) = match tree {
            TreeId::Records => (&self.records, checkpoint.records_root),
            TreeId::Consents => (&self.consents, checkpoint.consents_root),
            TreeId::Policies => return Err(corrupt(None, "policies are in no tree")),
        };
        let outside = |e| corrupt(None, format!("leaf index points outside the tree: {e}"));
        let path = t.path(index).map_err(outside)?;
        let leaf = t
            .leaf(index)
            .ok_or_else(|| corrupt(None, "leaf index points outside the tree"))?;
        if !path.verify(root, leaf) {
            return Err(corrupt(
                Some(checkpoint.seq),
                "the trees do not match the latest checkpoint",
            ));
        }
        Ok((checkpoint, path, leaf))
    }

    /// Where `commitment` is in the records or consents tree, with the latest signed
    /// checkpoint, read together: the path is against that checkpoint's root (checked
    /// here), so a prover never pairs a path with a checkpoint of another moment. The
    /// leaf is the commitment wrapped with the key that added it, read from the signed
    /// chain. `None` if the commitment is not in a tree (absent, or a policy).
    pub fn anchored_path(&self, commitment: &Fr) -> Result<Option<AnchoredPath>, LedgerError> {
        let Some((tree @ (TreeId::Records | TreeId::Consents), index, _)) =
            self.committed_at(commitment)?
        else {
            return Ok(None);
        };
        let (checkpoint, path, leaf) = self.path_with_checkpoint(tree, index)?;
        let added_by = self
            .committer_of(commitment)?
            .ok_or_else(|| corrupt(None, "the commitment's entry does not add it"))?;
        let by = key_ref(&added_by);
        let (wrapped, revoked) = match tree {
            TreeId::Records => (record_leaf(by, *commitment), false),
            _ => (
                consent_leaf(by, *commitment),
                usize::try_from(index)
                    .ok()
                    .and_then(|i| self.consent_meta.get(i))
                    .is_some_and(|c| c.revoked),
            ),
        };
        // The leaf is the commitment wrapped with its signer's key, or empty once revoked.
        let expected = if revoked { Fr::from(0u64) } else { wrapped };
        if leaf != expected {
            return Err(corrupt(
                None,
                "a tree leaf is not its commitment wrapped with the key that added it",
            ));
        }
        Ok(Some(AnchoredPath {
            checkpoint,
            tree,
            index,
            path,
            leaf,
            added_by,
        }))
    }

    /// Appends one submission.
    pub fn append_one(&mut self, submission: Submission) -> Result<Receipt, LedgerError> {
        self.append(std::slice::from_ref(&submission))
    }

    /// Appends a batch: all are validated first, and either all land, followed by one
    /// signed checkpoint, in one synced write, or none does.
    pub fn append(&mut self, batch: &[Submission]) -> Result<Receipt, LedgerError> {
        if batch.is_empty() {
            return Err(LedgerError::EmptyBatch);
        }
        self.writable()?;
        // One ledger time for the whole batch: its expiry checks and its entries.
        let time = self.clock.now().max(self.head.last_time);
        let effects = self.validate(batch, time)?;
        self.commit(batch, &effects, None, time)
    }

    /// Appends the submissions of `batch` that the rules accept, each checked against the
    /// state and the accepted ones before it, with one signed checkpoint after them, in
    /// one synced write; a refused submission is left out alone (a service batches
    /// concurrent clients' submissions: one client's bad one must not fail the others).
    /// Nothing is written when every one is refused. An error (storage, a read-only
    /// ledger) means nothing was written.
    pub fn append_each(&mut self, batch: &[Submission]) -> Result<BatchOutcome, LedgerError> {
        if batch.is_empty() {
            return Err(LedgerError::EmptyBatch);
        }
        self.writable()?;
        let time = self.clock.now().max(self.head.last_time);
        let verdicts = self.check_each(batch, time)?;
        let mut accepted = Vec::new();
        let mut effects = Vec::new();
        for (s, v) in batch.iter().zip(&verdicts) {
            if let Ok(c) = v {
                accepted.push(s.clone());
                effects.push(c.clone());
            }
        }
        let receipt = match accepted.is_empty() {
            true => None,
            false => Some(self.commit(&accepted, &effects, None, time)?),
        };
        let mut landed = receipt
            .iter()
            .flat_map(|r| r.seqs.iter().zip(&r.leaf_indices));
        let results = verdicts
            .into_iter()
            .map(|v| {
                v.map(|_| {
                    let (seq, leaf) = landed
                        .next()
                        .expect("the receipt has one slot per accepted submission");
                    Appended {
                        seq: *seq,
                        leaf_index: *leaf,
                    }
                })
            })
            .collect();
        Ok(BatchOutcome {
            results,
            checkpoint: receipt.map(|r| r.checkpoint),
        })
    }

    /// The entry that already holds what `refusal` says `submission` repeats: the same
    /// signed submission (a replay), its commitment, its access binding, its claim, or
    /// its key's registration. `None` for other refusals (or if the index has no row).
    pub fn existing_entry(
        &self,
        submission: &Submission,
        refusal: &Refusal,
    ) -> Result<Option<u64>, LedgerError> {
        let seq_of = |cf: Cf, key: &[u8]| -> Result<Option<u64>, LedgerError> {
            Ok(self.store.get(cf, key)?.and_then(|v| u64_at(&v, 0)))
        };
        match (refusal, &submission.action) {
            (Refusal::Replay, _) => seq_of(Cf::Seen, &submission.replay_id()),
            (Refusal::DuplicateCommitment, _) => {
                let commitment = match &submission.action {
                    Action::CommitRecord { commitment }
                    | Action::GrantConsent { commitment }
                    | Action::PublishPolicy { commitment } => commitment,
                    _ => return Ok(None),
                };
                Ok(self.committed_at(commitment)?.map(|(_, _, seq)| seq))
            }
            (Refusal::DuplicateBinding, Action::LogAccess { bundle, nonce }) => {
                match rules::access_ref(bundle, &submission.signer, nonce) {
                    Ok(a) => seq_of(Cf::Bindings, &fr_to_be32(&a.binding)),
                    Err(_) => Ok(None),
                }
            }
            (Refusal::ClaimAlreadySubmitted, Action::SubmitClaim { policy, claim_id }) => {
                seq_of(Cf::Claims, &codec::claim_key(policy, claim_id))
            }
            (Refusal::AlreadyRegistered, Action::RegisterKey { .. }) => {
                seq_of_key(self, &submission.signer)
            }
            (Refusal::AlreadyRegistered, Action::AdmitKey { key, .. }) => seq_of_key(self, key),
            _ => Ok(None),
        }
    }

    /// Signs a new checkpoint with no entry before it (a heartbeat), so that verifiers
    /// without the ledger database always find a recent one: the light freshness rule
    /// accepts a checkpoint only while it is younger than the window.
    pub fn heartbeat(&mut self) -> Result<Checkpoint, LedgerError> {
        self.writable()?;
        let time = self.clock.now().max(self.head.last_time);
        Ok(self.commit(&[], &[], None, time)?.checkpoint)
    }

    /// Signs a heartbeat checkpoint if the latest one is `max_age` seconds old or older
    /// (or there is none); returns it, or `None` if the latest one is recent enough.
    pub fn heartbeat_if_older(&mut self, max_age: u64) -> Result<Option<Checkpoint>, LedgerError> {
        let now = self.clock.now();
        match self.latest_checkpoint()? {
            Some(info) if now < info.checkpoint.time.saturating_add(max_age) => Ok(None),
            _ => self.heartbeat().map(Some),
        }
    }

    fn writable(&self) -> Result<(), LedgerError> {
        if self.poisoned {
            return Err(LedgerError::Poisoned);
        }
        if self.signer.is_none() {
            return Err(LedgerError::ReadOnly);
        }
        if self.genesis.is_none() {
            return Err(LedgerError::NoGenesis);
        }
        Ok(())
    }

    /// Applies a validated batch (possibly empty: a heartbeat; or the genesis) and writes
    /// it durably.
    fn commit(
        &mut self,
        batch: &[Submission],
        effects: &[Checked],
        genesis: Option<Entry>,
        time: u64,
    ) -> Result<Receipt, LedgerError> {
        let mut ws = WriteSet::default();
        let result = self.apply(batch, effects, genesis, time, &mut ws);
        let receipt = match result {
            Ok(r) => r,
            Err(e) => {
                self.poisoned = true;
                return Err(e);
            }
        };
        if let Err(e) = self.store.write(ws, true) {
            self.poisoned = true;
            return Err(e.into());
        }
        // The entries are durable: a mark that could not be moved is behind, which is
        // safe, so the append is not reported as failed.
        if let Some(mark) = &self.watermark {
            if let Err(e) = mark.store(Some(&receipt.checkpoint)) {
                tracing::error!("cannot update the high-water mark: {e}");
            }
        }
        Ok(receipt)
    }

    /// Checks every submission against the current state and those before it in the
    /// batch (the rules are in [`crate::rules`]); returns each one's effect.
    fn validate(&self, batch: &[Submission], now: u64) -> Result<Vec<Checked>, LedgerError> {
        self.check_each(batch, now)?
            .into_iter()
            .enumerate()
            .map(|(index, v)| v.map_err(|reason| LedgerError::Refused { index, reason }))
            .collect()
    }

    /// Checks each submission against the state and the accepted ones before it in the
    /// batch; a refused one is left out of the state the later ones see.
    fn check_each(
        &self,
        batch: &[Submission],
        now: u64,
    ) -> Result<Vec<Result<Checked, Refusal>>, LedgerError> {
        // What each submission determines alone (signature, replay id, leaf, access
        // binding) is independent of the others and of the state: in parallel first.
        let prepared = rules::Prepared::all(&batch.iter().collect::<Vec<_>>());
        let state = StoreState::new(self);
        let mut pending = Pending::new(&state);
        let mut out = Vec::with_capacity(batch.len());
        for (s, p) in batch.iter().zip(&prepared) {
            let id = p.replay_id();
            out.push(rules::check(&pending, s, now, p).map(|effect| {
                pending.apply(&effect, &s.signer, id);
                Checked {
                    effect,
                    replay_id: id,
                }
            }));
            // A refusal that a failed read caused is the read's error.
            if let Some(e) = state.read_error.take() {
                return Err(e);
            }
        }
        Ok(out)
    }

    /// Turns a validated batch into entries and writes; updates memory.
    fn apply(
        &mut self,
        batch: &[Submission],
        effects: &[Checked],
        genesis: Option<Entry>,
        time: u64,
        ws: &mut WriteSet,
    ) -> Result<Receipt, LedgerError> {
        let mut head = self.head;
        let mut seqs = Vec::with_capacity(batch.len());
        let mut leaf_indices = Vec::with_capacity(batch.len());
        // The transparency log's leaves of the entries this append writes.
        let mut log_leaves: Vec<Hash> = Vec::with_capacity(batch.len() + 2);
        let mut push_entry = |head: &mut Head, entry: Entry, ws: &mut WriteSet| -> u64 {
            let bytes = entry.encode();
            head.hash = Sha256::digest(&bytes).into();
            log_leaves.push(tlog::leaf_hash(&bytes));
            ws.put(Cf::Entries, seq_key(entry.seq), bytes);
            head.next_seq += 1;
            head.last_time = entry.time;
            entry.seq
        };
        let next = |head: &Head, body: Body| Entry {
            seq: head.next_seq,
            time,
            prev: head.hash,
            body,
        };
        let genesis_written = genesis.is_some();
        if let Some(g) = genesis {
            push_entry(&mut head, g, ws);
        }
        let tree_err = |e| corrupt(None, format!("tree update failed: {e}"));
        // New leaves are appended to the trees together, so that they share the hashing
        // of their upper levels.
        let mut new_records: Vec<Fr> = Vec::new();
        let mut new_consents: Vec<Fr> = Vec::new();
        for (s, c) in batch.iter().zip(effects) {
            let entry = next(&head, Body::Submission(s.clone()));
            let seq = push_entry(&mut head, entry, ws);
            seqs.push(seq);
            ws.put(Cf::Seen, c.replay_id, seq_key(seq));
            let leaf = match &c.effect {
                Effect::Register { key, role } => {
                    let status = KeyStatus {
                        role: *role,
                        suspended: false,
                    };
                    self.keys.insert(*key, status);
                    ws.put(Cf::Keys, *key, codec::key_value(status, seq));
                    None
                }
                Effect::Suspend { key } => {
                    if let Some(k) = self.keys.get_mut(key) {
                        k.suspended = true;
                        ws.put(Cf::Keys, *key, codec::key_value(*k, seq));
                    }
                    None
                }
                Effect::Record { commitment, leaf } => {
                    let i = self.records.len() + new_records.len() as u64;
                    new_records.push(*leaf);
                    ws.put(
                        Cf::Leaves,
                        fr_to_be32(commitment),
                        leaf_value(TreeId::Records, i, seq),
                    );
                    Some(i)
                }
                Effect::Consent {
                    commitment,
                    leaf,
                    granter,
                } => {
                    let i = self.consents.len() + new_consents.len() as u64;
                    new_consents.push(*leaf);
                    ws.put(
                        Cf::Leaves,
                        fr_to_be32(commitment),
                        leaf_value(TreeId::Consents, i, seq),
                    );
                    let status = ConsentStatus {
                        granter: *granter,
                        revoked: false,
                    };
                    self.consent_meta.push(status);
                    ws.put(Cf::Consents, seq_key(i), codec::consent_value(status));
                    Some(i)
                }
                Effect::Revoke { index } => {
                    // The consent may have been granted earlier in this batch.
                    self.consents
                        .extend(&std::mem::take(&mut new_consents))
                        .map_err(tree_err)?;
                    self.consents
                        .set(*index, Fr::from(0u64))
                        .map_err(tree_err)?;
                    let m = &mut self.consent_meta[*index as usize];
                    m.revoked = true;
                    ws.put(Cf::Consents, seq_key(*index), codec::consent_value(*m));
                    Some(*index)
                }
                Effect::Policy { commitment } => {
                    let i = head.policies;
                    head.policies += 1;
                    ws.put(
                        Cf::Leaves,
                        fr_to_be32(commitment),
                        leaf_value(TreeId::Policies, i, seq),
                    );
                    Some(i)
                }
                Effect::Access { binding, record } => {
                    ws.put(Cf::Bindings, fr_to_be32(binding), seq_key(seq));
                    ws.put(Cf::Accesses, access_key(record, seq), Vec::new());
                    None
                }
                Effect::Claim { policy, claim_id } => {
                    ws.put(Cf::Claims, codec::claim_key(policy, claim_id), seq_key(seq));
                    None
                }
            };
            leaf_indices.push(leaf);
        }
        self.records.extend(&new_records).map_err(tree_err)?;
        self.consents.extend(&new_consents).map_err(tree_err)?;
        // The checkpoint vouches for everything before it.
        let (records_root, consents_root) = (self.records.root(), self.consents.root());
        let cp_seq = head.next_seq;
        let signer = self.signer.as_ref().ok_or(LedgerError::ReadOnly)?;
        let signature = signer
            .sign(&Checkpoint::signing_bytes(
                cp_seq,
                &head.hash,
                &records_root,
                &consents_root,
                time,
            ))
            .to_bytes();
        let chain_head = head.hash;
        let entry = next(
            &head,
            Body::Checkpoint {
                records_root,
                consents_root,
                signature,
            },
        );
        push_entry(&mut head, entry, ws);
        let number = self.checkpoints.len() as u64;
        if let Some(prev) = self.checkpoints.last_mut() {
            prev.superseded_at = Some(time);
            ws.put(
                Cf::Checkpoints,
                seq_key(number - 1),
                checkpoint_value(prev.seq, Some(time)),
            );
        }
        self.checkpoints.push(CheckpointMeta {
            seq: cp_seq,
            superseded_at: None,
        });
        ws.put(
            Cf::Checkpoints,
            seq_key(number),
            checkpoint_value(cp_seq, None),
        );
        for (tree, t) in [
            (TreeId::Records, &mut self.records),
            (TreeId::Consents, &mut self.consents),
        ] {
            for NodeWrite {
                level,
                index,
                value,
            } in t.take_writes()
            {
                ws.put(Cf::Nodes, node_key(tree, level, index), fr_to_be32(&value));
            }
        }
        self.tlog_writes(self.head.next_seq, &log_leaves, genesis_written, ws)?;
        ws.put(Cf::Meta, Head::KEY, head.encode());
        ws.put(Cf::Meta, FORMAT_KEY, STORAGE_FORMAT.to_be_bytes());
        self.head = head;
        Ok(Receipt {
            seqs,
            leaf_indices,
            checkpoint: Checkpoint {
                seq: cp_seq,
                chain_head,
                records_root,
                consents_root,
                time,
                signature,
            },
        })
    }
}

/// A submission the rules accepted, with its effect.
#[derive(Debug, Clone)]
struct Checked {
    effect: Effect,
    replay_id: [u8; 32],
}

/// The ledger as the rules see it: memory for keys and consents, the store's indexes for
/// the rest. A store read that fails is kept and reported after the check.
struct StoreState<'a, S: Store> {
    ledger: &'a Ledger<S>,
    read_error: std::cell::Cell<Option<LedgerError>>,
}

impl<'a, S: Store> StoreState<'a, S> {
    fn new(ledger: &'a Ledger<S>) -> Self {
        Self {
            ledger,
            read_error: std::cell::Cell::new(None),
        }
    }

    fn get(&self, cf: Cf, key: &[u8]) -> Option<Vec<u8>> {
        match self.ledger.store.get(cf, key) {
            Ok(v) => v,
            Err(e) => {
                self.read_error.set(Some(e.into()));
                None
            }
        }
    }
}

impl<S: Store> State for StoreState<'_, S> {
    fn ledger_id(&self) -> [u8; 32] {
        self.ledger.id().unwrap_or_default()
    }
    fn is_registrar(&self, key: &[u8; 32]) -> bool {
        self.ledger
            .genesis
            .as_ref()
            .is_some_and(|g| g.registrars.contains(key))
    }
    fn key(&self, key: &[u8; 32]) -> Option<KeyStatus> {
        self.ledger.keys.get(key).copied()
    }
    fn seen(&self, replay_id: &[u8; 32]) -> bool {
        self.get(Cf::Seen, replay_id).is_some()
    }
    fn has_commitment(&self, c: &Fr) -> bool {
        self.get(Cf::Leaves, &fr_to_be32(c)).is_some()
    }
    fn records_len(&self) -> u64 {
        self.ledger.records.len()
    }
    fn consents_len(&self) -> u64 {
        self.ledger.consents.len()
    }
    fn consent(&self, index: u64) -> Option<ConsentStatus> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.ledger.consent_meta.get(i))
            .copied()
    }
    fn policy_publisher(&self, policy: &Fr) -> Option<[u8; 32]> {
        let v = self.get(Cf::Leaves, &fr_to_be32(policy))?;
        let seq = match codec::leaf(&v) {
            Some((TreeId::Policies, _, seq)) => seq,
            _ => return None,
        };
        match self.ledger.entry(seq) {
            Ok(Some(Entry {
                body: Body::Submission(s),
                ..
            })) if matches!(s.action, Action::PublishPolicy { commitment } if commitment == *policy) => {
                Some(s.signer)
            }
            Ok(_) => None,
            Err(e) => {
                self.read_error.set(Some(e));
                None
            }
        }
    }
    fn binding_logged(&self, b: &Fr) -> bool {
        self.get(Cf::Bindings, &fr_to_be32(b)).is_some()
    }
    fn claim_submitted(&self, policy: &Fr, id: &Fr) -> bool {
        self.get(Cf::Claims, &codec::claim_key(policy, id))
            .is_some()
    }
}

pub(crate) use codec::{checkpoint_value, leaf_value};

/// If `entry` is a submission that adds `commitment`, the tree it joins and its signer.
pub fn adds(entry: &Entry, commitment: &Fr) -> Option<(TreeId, [u8; 32])> {
    let Body::Submission(s) = &entry.body else {
        return None;
    };
    let tree = match s.action {
        Action::CommitRecord { commitment: c } if c == *commitment => TreeId::Records,
        Action::GrantConsent { commitment: c } if c == *commitment => TreeId::Consents,
        Action::PublishPolicy { commitment: c } if c == *commitment => TreeId::Policies,
        _ => return None,
    };
    Some((tree, s.signer))
}

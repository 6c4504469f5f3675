//! `ledger verify`: re-walks the whole chain from the store alone, trusting only the
//! ledger's public key. It checks the genesis, every entry's encoding, position and
//! `prev` link, every submission against the same rules as an append ([`crate::rules`]:
//! signature, ledger id, expiry, replay, admission, roles), rebuilds both trees and checks
//! every checkpoint's roots and signature, then checks the stored head, trees, and
//! indexes against what it rebuilt, and the transparency log: every stored hash of the
//! RFC 6962 tree over the entries, and the signed C2SP checkpoint of all of them. It stops at the first bad entry and names it.

use std::collections::{HashMap, HashSet};

use ed25519_dalek::VerifyingKey;
use medproof_circuits::merkle::MerkleTree;
use medproof_verifier::checkpoint::fr_to_be32;
use medproof_verifier::Fr;
use rayon::prelude::*;

use crate::codec;
use crate::entry::{Body, Entry, Submission};
use crate::ledger::{
    checkpoint_value, head_value, leaf_value, load_tree, node_key, TreeId, FORMAT_KEY, ORIGIN_KEY,
    STORAGE_FORMAT, TLOG_CHECKPOINT_KEY,
};
use crate::rules::{self, ConsentStatus, Effect, KeyStatus, State};
use crate::store::{Cf, MemStore, Store, WriteSet};
use crate::tlog::{self, LogVerifier};

/// Entries whose submission signatures are checked together, in parallel.
const SIGNATURE_RUN: usize = 1024;

/// What a successful walk saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries walked.
    pub entries: u64,
    /// Checkpoints among them.
    pub checkpoints: u64,
    /// Records tree leaves.
    pub records: u64,
    /// Consents tree leaves.
    pub consents: u64,
    /// SHA-256 of the last entry.
    pub chain_head: [u8; 32],
    /// The chain head the last checkpoint vouches for (what `--since SEQ:HEAD` takes).
    pub last_checkpoint_head: [u8; 32],
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", seq.map(|s| format!("seq {s}: ")).unwrap_or_default())]
pub struct VerifyFailure {
    /// The first bad entry, when the problem is in one.
    pub seq: Option<u64>,
    /// What is wrong.
    pub reason: String,
}

fn fail(seq: Option<u64>, reason: impl Into<String>) -> VerifyFailure {
    VerifyFailure {
        seq,
        reason: reason.into(),
    }
}

/// An index as stored: key → value.
type Index = HashMap<Vec<u8>, Vec<u8>>;

#[derive(Default)]
struct Replay {
    prev_hash: [u8; 32],
    prev_time: u64,
    next: u64,
    /// The ledger id and the registrars, from the genesis.
    genesis: Option<([u8; 32], HashSet<[u8; 32]>)>,
    /// Replay ids taken, with the seq of the entry that took each.
    seen: HashMap<[u8; 32], u64>,
    /// Each key's standing and the seq of the last entry that changed it.
    keys: HashMap<[u8; 32], (KeyStatus, u64)>,
    commitments: HashMap<[u8; 32], (TreeId, u64, u64)>,
    consent_status: Vec<ConsentStatus>,
    policies: u64,
    publishers: HashMap<[u8; 32], [u8; 32]>,
    bindings: HashMap<[u8; 32], u64>,
    /// `record | seq` of every access entry.
    accesses: HashSet<Vec<u8>>,
    claims: HashMap<[u8; 64], u64>,
    records: MerkleTree,
    consents: MerkleTree,
    /// Leaves not yet in the trees: appended together at the next checkpoint (or before
    /// a revocation), so that they share the hashing of their upper levels.
    new_records: Vec<Fr>,
    new_consents: Vec<Fr>,
    checkpoints: Vec<(u64, u64)>,
    last_checkpoint_head: [u8; 32],
}

impl Replay {
    fn flush(&mut self, seq: Option<u64>) -> Result<(), VerifyFailure> {
        let records = std::mem::take(&mut self.new_records);
        let consents = std::mem::take(&mut self.new_consents);
        self.records
            .extend(&records)
            .and_then(|_| self.consents.extend(&consents))
            .map(|_| ())
            .map_err(|e| fail(seq, e.to_string()))
    }

    /// The indexes the entries make: `(column family, what it indexes, key → value)`.
    fn indexes(&self) -> Vec<(Cf, &'static str, Index)> {
        let bytes = |k: &[u8; 32]| k.to_vec();
        // The indexes that map a key to the seq of the entry that added it: the writer
        // refuses replays, duplicate bindings and claims paid twice by them.
        fn by_seq<'a, K: AsRef<[u8]> + 'a>(
            map: impl IntoIterator<Item = (&'a K, &'a u64)>,
        ) -> Index {
            map.into_iter()
                .map(|(k, seq)| (k.as_ref().to_vec(), seq.to_be_bytes().to_vec()))
                .collect()
        }
        vec![
            (
                Cf::Leaves,
                "commitment",
                self.commitments
                    .iter()
                    .map(|(k, (t, i, seq))| (bytes(k), leaf_value(*t, *i, *seq)))
                    .collect(),
            ),
            (
                Cf::Keys,
                "key",
                self.keys
                    .iter()
                    .map(|(k, (status, seq))| (bytes(k), codec::key_value(*status, *seq)))
                    .collect(),
            ),
            (
                Cf::Consents,
                "consent",
                self.consent_status
                    .iter()
                    .enumerate()
                    .map(|(i, c)| ((i as u64).to_be_bytes().to_vec(), codec::consent_value(*c)))
                    .collect(),
            ),
            (Cf::Seen, "replay", by_seq(&self.seen)),
            (Cf::Bindings, "access binding", by_seq(&self.bindings)),
            (Cf::Claims, "claim", by_seq(&self.claims)),
            (
                Cf::Accesses,
                "access",
                self.accesses
                    .iter()
                    .map(|k| (k.clone(), Vec::new()))
                    .collect(),
            ),
        ]
    }

    /// The checkpoint index: each checkpoint's seq and when the next superseded it.
    fn checkpoint_index(&self) -> Vec<Vec<u8>> {
        self.checkpoints
            .iter()
            .enumerate()
            .map(|(i, (seq, _))| {
                checkpoint_value(*seq, self.checkpoints.get(i + 1).map(|next| next.1))
            })
            .collect()
    }

    fn step(
        &mut self,
        key: &[u8],
        bytes: &[u8],
        ledger_key: &VerifyingKey,
        peek: &dyn Fn(u64) -> Option<Entry>,
        head_hash: Option<[u8; 32]>,
        prepared: Option<&rules::Prepared>,
    ) -> Result<(), VerifyFailure> {
        let expected = self.next;
        let stored_at = <[u8; 8]>::try_from(key)
            .map(u64::from_be_bytes)
            .map_err(|_| fail(Some(expected), "malformed entry key"))?;
        if stored_at != expected {
            return Err(fail(
                Some(expected),
                format!("entry {expected} is missing (next stored entry is {stored_at})"),
            ));
        }
        let entry = Entry::decode(bytes)
            .map_err(|e| fail(Some(expected), format!("entry does not decode: {e}")))?;
        if entry.seq != expected {
            return Err(fail(
                Some(expected),
                format!("entry stored at {expected} says it is seq {}", entry.seq),
            ));
        }
        if entry.prev != self.prev_hash {
            // Either the previous entry or this one's `prev` was altered. If this entry
            // still links to its successor (or to the stored head), it is intact, and the
            // previous one was altered.
            let intact = match peek(expected + 1) {
                Some(next) => next.prev == entry.hash(),
                None => head_hash == Some(entry.hash()),
            };
            let culprit = if intact {
                expected.saturating_sub(1)
            } else {
                expected
            };
            return Err(fail(
                Some(culprit),
                format!("the link between entries {} and {expected} is broken: entry {culprit} was altered", expected.saturating_sub(1)),
            ));
        }
        if entry.time < self.prev_time {
            return Err(fail(Some(expected), "time goes backwards"));
        }
        self.apply(&entry, ledger_key, prepared)?;
        self.prev_hash = entry.hash();
        self.prev_time = entry.time;
        self.next += 1;
        Ok(())
    }

    /// Applies one entry; `prepared` is its submission prepared beforehand (in parallel
    /// for a run of entries).
    fn apply(
        &mut self,
        entry: &Entry,
        ledger_key: &VerifyingKey,
        prepared: Option<&rules::Prepared>,
    ) -> Result<(), VerifyFailure> {
        let seq = Some(entry.seq);
        match &entry.body {
            Body::Checkpoint {
                records_root,
                consents_root,
                ..
            } => {
                let cp = entry
                    .checkpoint()
                    .ok_or_else(|| fail(seq, "not a checkpoint"))?;
                self.flush(seq)?;
                cp.verify(ledger_key).map_err(|_| {
                    fail(
                        seq,
                        "checkpoint signature does not verify under the ledger key",
                    )
                })?;
                if *records_root != self.records.root() {
                    return Err(fail(
                        seq,
                        "checkpoint's records root is not the root of the entries before it",
                    ));
                }
                if *consents_root != self.consents.root() {
                    return Err(fail(
                        seq,
                        "checkpoint's consents root is not the root of the entries before it",
                    ));
                }
                self.checkpoints.push((entry.seq, entry.time));
                self.last_checkpoint_head = entry.prev;
            }
            Body::Genesis(g) => {
                if entry.seq != 0 || !g.verify(entry.time, ledger_key) {
                    return Err(fail(
                        seq,
                        "a genesis that is not the first entry, or not signed by the ledger key",
                    ));
                }
                self.genesis = Some((entry.hash(), g.registrars.iter().copied().collect()));
            }
            Body::Submission(s) => {
                if self.genesis.is_none() {
                    return Err(fail(seq, "the first entry is not a genesis"));
                }
                let own;
                let prepared = match prepared {
                    Some(p) => p,
                    None => {
                        own = rules::Prepared::of(s);
                        &own
                    }
                };
                let effect = rules::check(&*self, s, entry.time, prepared)
                    .map_err(|r| fail(seq, format!("{}: {r}", s.action.name())))?;
                self.seen.insert(prepared.replay_id(), entry.seq);
                self.effect(&effect, s, entry.seq)?;
            }
        }
        Ok(())
    }

    /// Applies an accepted submission's effect.
    fn effect(&mut self, effect: &Effect, s: &Submission, seq: u64) -> Result<(), VerifyFailure> {
        let mut add = |c: &Fr, tree: TreeId, index: u64| {
            self.commitments.insert(fr_to_be32(c), (tree, index, seq));
        };
        match effect {
            Effect::Register { key, role } => {
                let status = KeyStatus {
                    role: *role,
                    suspended: false,
                };
                self.keys.insert(*key, (status, seq));
            }
            Effect::Suspend { key } => {
                if let Some((k, at)) = self.keys.get_mut(key) {
                    k.suspended = true;
                    *at = seq;
                }
            }
            Effect::Record { commitment, leaf } => {
                let index = self.records.len() + self.new_records.len() as u64;
                add(commitment, TreeId::Records, index);
                self.new_records.push(*leaf);
            }
            Effect::Consent {
                commitment,
                leaf,
                granter,
            } => {
                let index = self.consents.len() + self.new_consents.len() as u64;
                add(commitment, TreeId::Consents, index);
                self.new_consents.push(*leaf);
                self.consent_status.push(ConsentStatus {
                    granter: *granter,
                    revoked: false,
                });
            }
            Effect::Revoke { index } => {
                if let Some(c) = self.consent_status.get_mut(*index as usize) {
                    c.revoked = true;
                }
                self.flush(Some(seq))?;
                self.consents
                    .set(*index, Fr::from(0u64))
                    .map_err(|e| fail(Some(seq), e.to_string()))?;
            }
            Effect::Policy { commitment } => {
                add(commitment, TreeId::Policies, self.policies);
                self.policies += 1;
                self.publishers.insert(fr_to_be32(commitment), s.signer);
            }
            Effect::Access { binding, record } => {
                self.bindings.insert(fr_to_be32(binding), seq);
                self.accesses.insert(crate::ledger::access_key(record, seq));
            }
            Effect::Claim { policy, claim_id } => {
                self.claims.insert(codec::claim_key(policy, claim_id), seq);
            }
        }
        Ok(())
    }
}

impl State for Replay {
    fn ledger_id(&self) -> [u8; 32] {
        self.genesis.as_ref().map(|g| g.0).unwrap_or_default()
    }
    fn is_registrar(&self, key: &[u8; 32]) -> bool {
        self.genesis.as_ref().is_some_and(|g| g.1.contains(key))
    }
    fn key(&self, key: &[u8; 32]) -> Option<KeyStatus> {
        self.keys.get(key).map(|k| k.0)
    }
    fn seen(&self, replay_id: &[u8; 32]) -> bool {
        self.seen.contains_key(replay_id)
    }
    fn has_commitment(&self, c: &Fr) -> bool {
        self.commitments.contains_key(&fr_to_be32(c))
    }
    fn records_len(&self) -> u64 {
        self.records.len() + self.new_records.len() as u64
    }
    fn consents_len(&self) -> u64 {
        self.consent_status.len() as u64
    }
    fn consent(&self, index: u64) -> Option<ConsentStatus> {
        self.consent_status
            .get(usize::try_from(index).ok()?)
            .copied()
    }
    fn policy_publisher(&self, policy: &Fr) -> Option<[u8; 32]> {
        self.publishers.get(&fr_to_be32(policy)).copied()
    }
    fn binding_logged(&self, b: &Fr) -> bool {
        self.bindings.contains_key(&fr_to_be32(b))
    }
    fn claim_submitted(&self, policy: &Fr, id: &Fr) -> bool {
        self.claims.contains_key(&codec::claim_key(policy, id))
    }
}

/// Checks that the index in `cf` holds exactly `expected` (key → value).
fn check_index<S: Store>(
    store: &S,
    cf: Cf,
    expected: HashMap<Vec<u8>, Vec<u8>>,
    name: &str,
) -> Result<(), VerifyFailure> {
    let mut count = 0usize;
    let mut bad = false;
    store
        .scan(cf, &mut |k, v| {
            count += 1;
            bad |= expected.get(k).map(Vec::as_slice) != Some(v);
            Ok(())
        })
        .map_err(|e| fail(None, e.to_string()))?;
    if bad || count != expected.len() {
        return Err(fail(
            None,
            format!("the {name} index does not match the chain"),
        ));
    }
    Ok(())
}

/// Walks the whole chain in `store` (its entries only), trusting only `ledger_key`:
/// what the entries make, and the RFC 6962 leaf hash of each. `head_hash` (the stored
/// chain head, if any) only helps to name which of two unlinked entries was altered.
fn walk<S: Store>(
    store: &S,
    ledger_key: &VerifyingKey,
    head_hash: Option<[u8; 32]>,
) -> Result<(Replay, Vec<tlog::Hash>), VerifyFailure> {
    let storage = |e: crate::store::StoreError| fail(None, e.to_string());
    let mut r = Replay::default();
    let mut walk_error = None;
    let peek = |seq: u64| -> Option<Entry> {
        let bytes = store.get(Cf::Entries, &seq.to_be_bytes()).ok()??;
        Entry::decode(&bytes).ok()
    };
    // Entries are walked in runs: the submissions of a run are prepared (signature,
    // replay id, leaf, access binding) in parallel, then its entries are applied in order.
    let mut run: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(SIGNATURE_RUN);
    let mut apply_run = |r: &mut Replay, run: &mut Vec<(Vec<u8>, Vec<u8>)>| {
        // Checkpoints are checked in order; undecodable entries fail in `step`.
        let decoded: Vec<Option<Submission>> = run
            .par_iter()
            .map(|(_, v)| match Entry::decode(v) {
                Ok(Entry {
                    body: Body::Submission(s),
                    ..
                }) => Some(s),
                _ => None,
            })
            .collect();
        let mut prepared =
            rules::Prepared::all(&decoded.iter().flatten().collect::<Vec<_>>()).into_iter();
        let oks: Vec<Option<rules::Prepared>> = decoded
            .iter()
            .map(|s| s.as_ref().and_then(|_| prepared.next()))
            .collect();
        for ((k, v), ok) in run.drain(..).zip(oks) {
            if walk_error.is_none() {
                if let Err(e) = r.step(&k, &v, ledger_key, &peek, head_hash, ok.as_ref()) {
                    walk_error = Some(e);
                }
            }
        }
    };
    let mut log_leaves = Vec::new();
    store
        .scan(Cf::Entries, &mut |k, v| {
            log_leaves.push(tlog::leaf_hash(v));
            run.push((k.to_vec(), v.to_vec()));
            if run.len() == SIGNATURE_RUN {
                apply_run(&mut r, &mut run);
            }
            Ok(())
        })
        .map_err(storage)?;
    apply_run(&mut r, &mut run);
    if let Some(e) = walk_error {
        return Err(e);
    }
    r.flush(r.next.checked_sub(1))?;
    Ok((r, log_leaves))
}

/// Walks the whole ledger in `store`, trusting only `ledger_key`.
pub fn verify<S: Store>(
    store: &S,
    ledger_key: &VerifyingKey,
) -> Result<VerifyReport, VerifyFailure> {
    let storage = |e: crate::store::StoreError| fail(None, e.to_string());
    let head = store.get(Cf::Meta, b"head").map_err(storage)?;
    let head_hash: Option<[u8; 32]> = head
        .as_ref()
        .and_then(|h| h.get(8..40))
        .and_then(|h| h.try_into().ok());
    let (r, log_leaves) = walk(store, ledger_key, head_hash)?;
    let last = r.next.checked_sub(1);

    // The chain head.
    match head {
        None if r.next == 0 => {}
        None => return Err(fail(last, "the chain head is missing")),
        Some(h) => {
            let next = h
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes);
            if next != Some(r.next) {
                return Err(fail(
                    last.or(Some(0)),
                    format!(
                        "the chain head says {:?} entries, the chain has {}",
                        next, r.next
                    ),
                ));
            }
            if h.get(8..40) != Some(&r.prev_hash[..]) {
                return Err(fail(
                    last,
                    "the last entry does not hash to the stored chain head",
                ));
            }
        }
    }
    if r.next > 0 && r.checkpoints.last().map(|c| c.0) != last {
        return Err(fail(last, "the chain does not end with a checkpoint"));
    }

    // The checkpoint history.
    let mut stored_cps = Vec::new();
    store
        .scan(Cf::Checkpoints, &mut |_, v| {
            stored_cps.push(v.to_vec());
            Ok(())
        })
        .map_err(storage)?;
    if stored_cps.len() != r.checkpoints.len() {
        return Err(fail(
            None,
            format!(
                "{} checkpoints indexed, {} in the chain",
                stored_cps.len(),
                r.checkpoints.len()
            ),
        ));
    }
    for ((stored, expected), (seq, _)) in stored_cps
        .iter()
        .zip(r.checkpoint_index())
        .zip(&r.checkpoints)
    {
        if *stored != expected {
            return Err(fail(
                Some(*seq),
                "the checkpoint index entry does not match the chain",
            ));
        }
    }

    // The stored trees and indexes.
    for (tree, rebuilt) in [
        (TreeId::Records, &r.records),
        (TreeId::Consents, &r.consents),
    ] {
        let stored = load_tree(store, tree).map_err(|e| fail(None, e.to_string()))?;
        if stored.len() != rebuilt.len()
            || stored.root() != rebuilt.root()
            || stored.check().is_err()
        {
            return Err(fail(
                None,
                format!("the stored {} tree does not match the chain", tree.name()),
            ));
        }
    }
    for (cf, name, expected) in r.indexes() {
        check_index(store, cf, expected, name)?;
    }
    check_log(store, ledger_key, &log_leaves)?;
    Ok(VerifyReport {
        entries: r.next,
        checkpoints: r.checkpoints.len() as u64,
        records: r.records.len(),
        consents: r.consents.len(),
        chain_head: r.prev_hash,
        last_checkpoint_head: r.last_checkpoint_head,
    })
}

/// The transparency log: every stored hash is the one the entries make, and the stored
/// C2SP checkpoint is signed by the ledger's key over all of them.
fn check_log<S: Store>(
    store: &S,
    ledger_key: &VerifyingKey,
    leaves: &[tlog::Hash],
) -> Result<(), VerifyFailure> {
    if leaves.is_empty() {
        return check_index(store, Cf::Tlog, HashMap::new(), "transparency log hash");
    }
    let (hashes, root) =
        tlog::extend(&MemStore::new(), 0, leaves).map_err(|e| fail(None, e.to_string()))?;
    check_index(
        store,
        Cf::Tlog,
        hashes
            .into_iter()
            .map(|(i, h)| (tlog::hash_key(i).to_vec(), h.0.to_vec()))
            .collect(),
        "transparency log hash",
    )?;
    let read = |key: &[u8]| {
        store
            .get(Cf::Meta, key)
            .map_err(|e| fail(None, e.to_string()))?
            .ok_or_else(|| fail(None, "the log's origin or C2SP checkpoint is missing"))
    };
    let origin = String::from_utf8(read(ORIGIN_KEY)?)
        .map_err(|_| fail(None, "the log's origin is not text"))?;
    let note = read(TLOG_CHECKPOINT_KEY)?;
    let signed = LogVerifier::new(&origin, *ledger_key)
        .and_then(|v| v.open(&note))
        .map_err(|e| fail(None, format!("the log's C2SP checkpoint: {e}")))?;
    if signed.size != leaves.len() as u64 || signed.root != root {
        return Err(fail(
            None,
            "the log's C2SP checkpoint is not of the entries in the chain",
        ));
    }
    Ok(())
}

/// A ledger rebuilt in memory from its entries alone: what a monitor that fetched a
/// remote ledger's transparency log (its signed checkpoint `note` and the entry bundles)
/// audits, with the ledger's public key as the only thing it trusts.
///
/// The entries must be exactly the ones the note commits to: the note must be signed by
/// `ledger_key` for the log `origin`, of `entries.len()` entries, with the RFC 6962 root
/// they make. Then the chain is walked as [`verify`] walks it (every link, signature,
/// rule and checkpoint) and every tree and index is built from it, so the ledger that is
/// opened (read-only) answers exactly as the operator's own would at that size.
/// Everything is held in memory: about twice the entries' size.
pub fn rebuild(
    entries: Vec<Vec<u8>>,
    origin: &str,
    note: &[u8],
    ledger_key: &VerifyingKey,
) -> Result<crate::Ledger<MemStore>, VerifyFailure> {
    let signed = LogVerifier::new(origin, *ledger_key)
        .and_then(|v| v.open(note))
        .map_err(|e| fail(None, format!("the log's C2SP checkpoint: {e}")))?;
    let leaves: Vec<tlog::Hash> = entries.par_iter().map(|e| tlog::leaf_hash(e)).collect();
    let (hashes, root) =
        tlog::extend(&MemStore::new(), 0, &leaves).map_err(|e| fail(None, e.to_string()))?;
    if signed.size != entries.len() as u64 || signed.root != root {
        return Err(fail(
            None,
            format!(
                "the log's C2SP checkpoint is of {} entries with another root than the {} entries given",
                signed.size,
                entries.len()
            ),
        ));
    }
    let mut ws = WriteSet::default();
    for (seq, entry) in entries.into_iter().enumerate() {
        ws.put(Cf::Entries, (seq as u64).to_be_bytes(), entry);
    }
    let mut store = MemStore::new();
    let storage = |e: crate::store::StoreError| fail(None, e.to_string());
    store.write(ws, false).map_err(storage)?;
    let (mut r, _) = walk(&store, ledger_key, None)?;
    if r.next > 0 && r.checkpoints.last().map(|c| c.0) != r.next.checked_sub(1) {
        return Err(fail(
            r.next.checked_sub(1),
            "the chain does not end with a checkpoint",
        ));
    }
    let mut ws = WriteSet::default();
    for (n, value) in r.checkpoint_index().into_iter().enumerate() {
        ws.put(Cf::Checkpoints, (n as u64).to_be_bytes(), value);
    }
    for (tree, t) in [
        (TreeId::Records, &mut r.records),
        (TreeId::Consents, &mut r.consents),
    ] {
        for w in t.take_writes() {
            ws.put(
                Cf::Nodes,
                node_key(tree, w.level, w.index),
                fr_to_be32(&w.value),
            );
        }
    }
    for (cf, _, index) in r.indexes() {
        for (k, v) in index {
            ws.put(cf, k, v);
        }
    }
    for (index, hash) in hashes {
        ws.put(Cf::Tlog, tlog::hash_key(index), hash.0);
    }
    ws.put(
        Cf::Meta,
        b"head".to_vec(),
        head_value(r.next, r.prev_hash, r.prev_time, r.policies),
    );
    ws.put(Cf::Meta, FORMAT_KEY, STORAGE_FORMAT.to_be_bytes());
    ws.put(Cf::Meta, ORIGIN_KEY, origin.as_bytes());
    ws.put(Cf::Meta, TLOG_CHECKPOINT_KEY, note.to_vec());
    store.write(ws, false).map_err(storage)?;
    crate::Ledger::open_read_only(store, *ledger_key).map_err(|e| fail(None, e.to_string()))
}

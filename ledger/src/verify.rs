//! `ledger verify`: re-walks the whole chain from the store alone, trusting only the
//! ledger's public key. It checks every entry's encoding, position and `prev` link, every
//! submission's signature, replay and authorization rule, rebuilds both trees and checks
//! every checkpoint's roots and signature, then checks the stored head, trees, and
//! indexes against what it rebuilt. It stops at the first bad entry and names it.

use std::collections::{HashMap, HashSet};

use ed25519_dalek::VerifyingKey;
use medproof_circuits::merkle::MerkleTree;
use medproof_verifier::checkpoint::fr_to_be32;
use medproof_verifier::Fr;
use rayon::prelude::*;

use crate::entry::{Action, Body, Entry, Role};
use crate::ledger::{checkpoint_value, leaf_value, load_tree, TreeId};
use crate::store::{Cf, Store};

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

#[derive(Default)]
struct Replay {
    prev_hash: [u8; 32],
    prev_time: u64,
    next: u64,
    seen: HashSet<[u8; 32]>,
    keys: HashMap<[u8; 32], Role>,
    commitments: HashMap<[u8; 32], (TreeId, u64, u64)>,
    consent_granters: Vec<([u8; 32], bool)>,
    policies: u64,
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

    fn step(
        &mut self,
        key: &[u8],
        bytes: &[u8],
        ledger_key: &VerifyingKey,
        peek: &dyn Fn(u64) -> Option<Entry>,
        head_hash: Option<[u8; 32]>,
        signature_ok: bool,
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
        self.apply(&entry, ledger_key, signature_ok)?;
        self.prev_hash = entry.hash();
        self.prev_time = entry.time;
        self.next += 1;
        Ok(())
    }

    /// Applies one entry; `signature_ok` is its submission signature's check, made
    /// beforehand (in parallel for a run of entries).
    fn apply(
        &mut self,
        entry: &Entry,
        ledger_key: &VerifyingKey,
        signature_ok: bool,
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
            Body::Submission(s) => {
                if !signature_ok {
                    return Err(fail(
                        seq,
                        format!("{} signature does not verify", s.action.name()),
                    ));
                }
                if !self.seen.insert(s.replay_id()) {
                    return Err(fail(seq, "replayed submission"));
                }
                let role = self.keys.get(&s.signer).copied();
                let need = |needed: Role| -> Result<(), VerifyFailure> {
                    if role == Some(needed) {
                        Ok(())
                    } else {
                        Err(fail(
                            seq,
                            format!(
                                "{} by a key not registered as {}",
                                s.action.name(),
                                needed.name()
                            ),
                        ))
                    }
                };
                let records_len = self.records.len() + self.new_records.len() as u64;
                let consents_len = self.consents.len() + self.new_consents.len() as u64;
                let mut unique = |c: &Fr, tree: TreeId, index: u64| -> Result<(), VerifyFailure> {
                    if self
                        .commitments
                        .insert(fr_to_be32(c), (tree, index, entry.seq))
                        .is_some()
                    {
                        return Err(fail(seq, "duplicate commitment"));
                    }
                    Ok(())
                };
                match &s.action {
                    Action::RegisterKey { role: r } => {
                        if role.is_some() {
                            return Err(fail(seq, "key registered twice"));
                        }
                        self.keys.insert(s.signer, *r);
                    }
                    Action::CommitRecord { commitment } => {
                        need(Role::Provider)?;
                        unique(commitment, TreeId::Records, records_len)?;
                        self.new_records.push(*commitment);
                    }
                    Action::GrantConsent { commitment } => {
                        need(Role::Patient)?;
                        unique(commitment, TreeId::Consents, consents_len)?;
                        self.new_consents.push(*commitment);
                        self.consent_granters.push((s.signer, false));
                    }
                    Action::RevokeConsent { consent_index } => {
                        need(Role::Patient)?;
                        let i = *consent_index;
                        match usize::try_from(i)
                            .ok()
                            .and_then(|i| self.consent_granters.get_mut(i))
                        {
                            Some((g, revoked)) if *g == s.signer && !*revoked => *revoked = true,
                            _ => {
                                return Err(fail(
                                    seq,
                                    format!(
                                    "revocation of consent {i} is not by its granter, or repeats"
                                ),
                                ))
                            }
                        }
                        self.flush(seq)?;
                        self.consents
                            .set(i, Fr::from(0u64))
                            .map_err(|e| fail(seq, e.to_string()))?;
                    }
                    Action::PublishPolicy { commitment } => {
                        need(Role::Insurer)?;
                        unique(commitment, TreeId::Policies, self.policies)?;
                        self.policies += 1;
                    }
                    Action::LogAccess { .. } => need(Role::Provider)?,
                }
            }
        }
        Ok(())
    }
}

/// Walks the whole ledger in `store`, trusting only `ledger_key`.
pub fn verify<S: Store>(
    store: &S,
    ledger_key: &VerifyingKey,
) -> Result<VerifyReport, VerifyFailure> {
    let storage = |e: crate::store::StoreError| fail(None, e.to_string());
    let mut r = Replay::default();
    let mut walk_error = None;
    let head = store.get(Cf::Meta, b"head").map_err(storage)?;
    let head_hash: Option<[u8; 32]> = head
        .as_ref()
        .and_then(|h| h.get(8..40))
        .and_then(|h| h.try_into().ok());
    let peek = |seq: u64| -> Option<Entry> {
        let bytes = store.get(Cf::Entries, &seq.to_be_bytes()).ok()??;
        Entry::decode(&bytes).ok()
    };
    // Entries are walked in runs: the submission signatures of a run are checked in
    // parallel, then its entries are applied in order.
    let mut run: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(SIGNATURE_RUN);
    let mut apply_run = |r: &mut Replay, run: &mut Vec<(Vec<u8>, Vec<u8>)>| {
        let oks: Vec<bool> = run
            .par_iter()
            .map(|(_, v)| match Entry::decode(v) {
                Ok(Entry {
                    body: Body::Submission(s),
                    ..
                }) => s.signature_ok(),
                // Checkpoints are checked in order; undecodable entries fail in `step`.
                _ => true,
            })
            .collect();
        for ((k, v), ok) in run.drain(..).zip(oks) {
            if walk_error.is_none() {
                if let Err(e) = r.step(&k, &v, ledger_key, &peek, head_hash, ok) {
                    walk_error = Some(e);
                }
            }
        }
    };
    store
        .scan(Cf::Entries, &mut |k, v| {
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
    let last = r.next.checked_sub(1);
    r.flush(last)?;

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
    for (i, (seq, _)) in r.checkpoints.iter().enumerate() {
        let superseded = r.checkpoints.get(i + 1).map(|next| next.1);
        if stored_cps[i] != checkpoint_value(*seq, superseded) {
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
    let mut leaves = 0usize;
    let mut bad_leaf = false;
    store
        .scan(Cf::Leaves, &mut |k, v| {
            leaves += 1;
            let ok = <[u8; 32]>::try_from(k)
                .ok()
                .and_then(|k| r.commitments.get(&k))
                .is_some_and(|(t, i, seq)| leaf_value(*t, *i, *seq) == v);
            bad_leaf |= !ok;
            Ok(())
        })
        .map_err(storage)?;
    if bad_leaf || leaves != r.commitments.len() {
        return Err(fail(None, "the commitment index does not match the chain"));
    }
    let mut keys = 0usize;
    store
        .scan(Cf::Keys, &mut |k, v| {
            keys += 1;
            let ok = <[u8; 32]>::try_from(k)
                .ok()
                .and_then(|k| r.keys.get(&k))
                .is_some_and(|role| v.first() == Some(&(*role as u8)));
            bad_leaf |= !ok;
            Ok(())
        })
        .map_err(storage)?;
    if bad_leaf || keys != r.keys.len() {
        return Err(fail(None, "the key index does not match the chain"));
    }
    Ok(VerifyReport {
        entries: r.next,
        checkpoints: r.checkpoints.len() as u64,
        records: r.records.len(),
        consents: r.consents.len(),
        chain_head: r.prev_hash,
        last_checkpoint_head: r.last_checkpoint_head,
    })
}

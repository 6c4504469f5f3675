//! The regulator's audit of a period of the access log.
//!
//! [`audit`] takes a range of entries `[from, to)` and:
//! 1. walks the hash chain from the last signed checkpoint at or before `from` to the
//!    first signed checkpoint at or after `to - 1`, so every entry of the range lies
//!    between two signed checkpoints: every entry must be there (no gap), decode, link
//!    to its predecessor by SHA-256, and carry a valid signature (submissions by their
//!    signer, checkpoints by the ledger key);
//! 2. checks every access entry in the range: its bundle is an access-authorization
//!    proof made by the provider that signed the entry, against a checkpoint of this
//!    ledger (signed, with the proof's root), for a record on the ledger; the checkpoint
//!    was acceptable at the entry's ledger time (latest, or superseded less than the
//!    freshness window before it), and the proof's `now` is within the skew of that time;
//! 3. verifies the proofs that passed those checks in batches (one final exponentiation
//!    per batch, bisection to name the bad ones).
//!
//! The report counts entries, accesses, valid, invalid and stale ones, and lists each
//! problem with its seq and a reason that names no patient, record or value.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use medproof_circuits::commit::provider_ref;
use medproof_verifier::bundle::{CheckpointHistory, DecodedBundle, Verifier};
use medproof_verifier::freshness::{Freshness, FreshnessError};
use medproof_verifier::groth16::{PreparedVerifyingKey, Proof};
use medproof_verifier::statement::{AccessPublic, ClaimPublic};
use medproof_verifier::{Checkpoint, Fr, ProofBundle, Statement};
use rayon::prelude::*;
use serde::Serialize;

use crate::entry::{Action, Body, Entry};
use crate::ledger::{Ledger, LedgerError, TreeId};
use crate::store::Store;
use crate::tlog::CosignatureVerifier;

/// Proofs verified together in one batch.
pub const DEFAULT_BATCH: usize = 256;

/// What to audit and how.
#[derive(Debug, Clone, Copy)]
pub struct AuditOptions {
    /// First entry of the range.
    pub from: u64,
    /// One past the last entry of the range.
    pub to: u64,
    /// The freshness rules applied at each access entry's ledger time.
    pub rules: Freshness,
    /// Proofs per verification batch.
    pub batch: usize,
}

/// Why an audit could not run at all (a failed check is a report, not an error).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The range is empty or goes past the end of the ledger.
    #[error(
        "cannot audit entries {from}..{to}: the ledger has {len} entries (need from < to <= {len})"
    )]
    Range {
        /// Asked-for start.
        from: u64,
        /// Asked-for end.
        to: u64,
        /// Entries in the ledger.
        len: u64,
    },
    /// No signed checkpoint closes the range.
    #[error("no signed checkpoint at or after entry {0}")]
    NoClosingCheckpoint(u64),
    /// The verifier has no key for access proofs.
    #[error("no verifying key loaded for access-authorization proofs")]
    NoKey,
    /// The loaded key is not the one the ledger's genesis names.
    #[error("the access-authorization verifying key loaded here ({loaded}) is not the one this ledger's genesis names ({named}): proofs under it prove nothing about this ledger")]
    KeyNotNamed {
        /// The loaded key's id.
        loaded: String,
        /// What the genesis names (`none` if nothing).
        named: String,
    },
    /// Reading the ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// A checkpoint bounding the audited chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckpointRef {
    /// Its entry seq.
    pub seq: u64,
    /// Its ledger time.
    pub time: u64,
}

/// The checkpoints the audit walked between.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditCheckpoints {
    /// The checkpoint the walk starts from (`None`: the genesis of the chain).
    pub start: Option<CheckpointRef>,
    /// The checkpoint that closes the walk.
    pub end: CheckpointRef,
    /// Signed checkpoints walked, both ends included.
    pub walked: u64,
}

/// What kind of problem an entry has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProblemKind {
    /// The chain is broken here: a missing, undecodable, unlinked or badly signed entry.
    Chain,
    /// An access entry whose proof, bundle or signer does not hold up.
    Invalid,
    /// An access entry whose proof was made against a root that was no longer
    /// acceptable at the entry's time, or whose `now` is outside the skew.
    Stale,
}

/// One problem, at one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The entry.
    pub seq: u64,
    /// The kind.
    pub kind: ProblemKind,
    /// Why, without any patient data.
    pub reason: String,
}

/// The audit's findings; serialized as the JSON report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Whether the period passed: chain intact, every access valid and fresh.
    pub passed: bool,
    /// First entry audited.
    pub from: u64,
    /// One past the last entry audited.
    pub to: u64,
    /// Entries in the range.
    pub entries: u64,
    /// Access entries in the range.
    pub accesses: u64,
    /// Access entries whose proof is valid, fresh and by their signer.
    pub valid: u64,
    /// Access entries with an invalid proof or bundle.
    pub invalid: u64,
    /// Access entries against a stale root or with `now` outside the skew.
    pub stale: u64,
    /// Whether the chain links without a gap between the two checkpoints.
    pub chain_ok: bool,
    /// SHA-256 of the last entry of the range (hex), if the walk reached it.
    pub chain_head: Option<String>,
    /// The checkpoints bounding the walk.
    pub checkpoints: AuditCheckpoints,
    /// The freshness window applied, seconds.
    pub window_secs: u64,
    /// The skew allowed, seconds.
    pub skew_secs: u64,
    /// Every problem found, by seq.
    pub problems: Vec<Problem>,
    /// The witnesses that vouch for the period, when the audit was asked to check them
    /// ([`AuditReport::add_witnesses`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witnesses: Option<WitnessReport>,
}

/// Who vouches for an audited period: witnesses that cosigned a C2SP checkpoint of the
/// ledger's transparency log that holds the period's closing checkpoint and that is a
/// checkpoint of this very ledger (the same root at its size).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WitnessReport {
    /// Entries in the cosigned log checkpoint.
    pub log_size: u64,
    /// The names of the given witnesses whose cosignature on it verifies.
    pub vouched: Vec<String>,
    /// How many were required.
    pub required: usize,
    /// Why the checkpoint vouches for nothing here (another history, too short, not
    /// signed by the ledger), if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl WitnessReport {
    /// Whether enough witnesses vouch.
    pub fn passed(&self) -> bool {
        self.problem.is_none() && self.vouched.len() >= self.required
    }
}

impl AuditReport {
    /// Whether the period passed: chain intact, every access valid and fresh.
    pub fn passed(&self) -> bool {
        self.passed
    }

    /// Records which of `witnesses` vouch for the period: `note` must be a C2SP
    /// checkpoint of `ledger`'s transparency log, signed by the ledger's key, that holds
    /// the period's closing checkpoint, with the root this ledger's own entries make at
    /// its size; then the witnesses whose cosignature on it verifies are named. A note
    /// of another history (a fork), of more entries than the ledger holds (a rollback),
    /// or cosigned by fewer than `required` of them fails the report.
    pub fn add_witnesses<S: Store>(
        &mut self,
        ledger: &Ledger<S>,
        note: &[u8],
        witnesses: &[CosignatureVerifier],
        required: usize,
    ) -> Result<(), AuditError> {
        let mut report = WitnessReport {
            log_size: 0,
            vouched: Vec::new(),
            required,
            problem: None,
        };
        let closing = self.checkpoints.end.seq;
        match ledger.log_verifier()?.open(note) {
            Err(e) => {
                report.problem = Some(format!(
                    "not a checkpoint of this ledger's log signed by its key: {e}"
                ))
            }
            Ok(cp) => {
                report.log_size = cp.size;
                report.problem = if cp.size > ledger.len() {
                    Some(format!(
                        "the cosigned checkpoint is of {} entries, and this ledger holds {}: it was rolled back, or is another copy",
                        cp.size,
                        ledger.len()
                    ))
                } else if cp.size <= closing {
                    Some(format!(
                        "the cosigned checkpoint is of {} entries: it does not hold the period's closing checkpoint (entry {closing})",
                        cp.size
                    ))
                } else if ledger.tlog_root(cp.size)? != cp.root {
                    Some(format!(
                        "this ledger's first {} entries make another root than the cosigned checkpoint, signed by the same key: the log forked",
                        cp.size
                    ))
                } else {
                    None
                };
                if report.problem.is_none() {
                    report.vouched = witnesses
                        .iter()
                        .filter(|w| w.cosigned(note).is_some())
                        .map(|w| w.name().to_string())
                        .collect();
                }
            }
        }
        self.passed &= report.passed();
        self.witnesses = Some(report);
        Ok(())
    }

    /// A short human summary.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "audit of entries {}..{}: {} entries, {} accesses: {} valid, {} invalid, {} stale; chain {}",
            self.from,
            self.to,
            self.entries,
            self.accesses,
            self.valid,
            self.invalid,
            self.stale,
            if self.chain_ok { "intact" } else { "BROKEN" },
        );
        let start = self
            .checkpoints
            .start
            .map_or("genesis".to_string(), |c| format!("checkpoint {}", c.seq));
        s.push_str(&format!(
            " from {start} to checkpoint {} ({} checkpoints)",
            self.checkpoints.end.seq, self.checkpoints.walked
        ));
        for p in self.problems.iter().take(20) {
            s.push_str(&format!("\n  seq {}: {:?}: {}", p.seq, p.kind, p.reason));
        }
        if self.problems.len() > 20 {
            s.push_str(&format!("\n  ... and {} more", self.problems.len() - 20));
        }
        if let Some(w) = &self.witnesses {
            s.push_str(&match &w.problem {
                Some(p) => format!("\n  witnesses: none vouch: {p}"),
                None => format!(
                    "\n  witnesses: {} vouch ({} required) for the log's first {} entries{}{}",
                    w.vouched.len(),
                    w.required,
                    w.log_size,
                    if w.vouched.is_empty() { "" } else { ": " },
                    w.vouched.join(", ")
                ),
            });
        }
        s.push_str(if self.passed() {
            "\nPASSED"
        } else {
            "\nFAILED"
        });
        s
    }
}

impl<S: Store> CheckpointHistory for Ledger<S> {
    fn superseded_at(&self, checkpoint: &Checkpoint) -> Result<Option<u64>, FreshnessError> {
        // Read from the chain: the entry at its seq is this checkpoint.
        match self.holds_checkpoint(checkpoint) {
            Ok(true) => self
                .superseded_on_chain(checkpoint, &self.public_key())
                .map_err(|e| FreshnessError::History(e.to_string())),
            Ok(false) => Err(FreshnessError::UnknownCheckpoint(checkpoint.seq)),
            Err(e) => Err(FreshnessError::History(e.to_string())),
        }
    }
}

/// A commitment a proof names as public input but does not prove to be on the ledger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// An access proof's record is not a committed record.
    #[error("the accessed record is not committed on the ledger before the proof's checkpoint")]
    RecordMissing,
    /// A claim proof's policy was not published by an insurer.
    #[error("the claim's policy is not published on the ledger before the proof's checkpoint")]
    PolicyMissing,
    /// The ledger could not be read.
    #[error("cannot read the ledger: {0}")]
    Ledger(String),
}

/// Checks what a proof's circuit leaves to the ledger: an access proof's record must be
/// a committed record, a claim proof's policy a published policy, added before the
/// proof's checkpoint. The commitment index only says where to look: the entry there is
/// read from the chain and vouched for by the signed checkpoint after it (see
/// [`Ledger::entry_on_chain`]), and must add this commitment.
pub fn check_references<S: Store>(
    ledger: &Ledger<S>,
    decoded: &DecodedBundle,
    checkpoint: &Checkpoint,
) -> Result<(), ReferenceError> {
    check_references_with(ledger, decoded, checkpoint, &|seq| {
        ledger.entry_on_chain(seq, &ledger.public_key())
    })
}

/// [`check_references`] with the chain read supplied by the caller (an audit reads each
/// stretch of the chain once, not once per proof).
pub fn check_references_with<S: Store>(
    ledger: &Ledger<S>,
    decoded: &DecodedBundle,
    checkpoint: &Checkpoint,
    entry_on_chain: &dyn Fn(u64) -> Result<Entry, LedgerError>,
) -> Result<(), ReferenceError> {
    let (commitment, tree, missing) = match decoded.statement {
        Statement::AccessAuthorization => (
            decoded.inputs[AccessPublic::RECORD],
            TreeId::Records,
            ReferenceError::RecordMissing,
        ),
        Statement::ClaimCompliance => (
            decoded.inputs[ClaimPublic::POLICY],
            TreeId::Policies,
            ReferenceError::PolicyMissing,
        ),
        Statement::RecordInclusion => return Ok(()),
    };
    // On the ledger, and before the checkpoint the proof was made against.
    let seq = match ledger.committed_at(&commitment) {
        Ok(Some((t, _, seq))) if t == tree && seq < checkpoint.seq => seq,
        Ok(_) => return Err(missing),
        Err(e) => return Err(ReferenceError::Ledger(e.to_string())),
    };
    let entry = entry_on_chain(seq).map_err(|e| ReferenceError::Ledger(e.to_string()))?;
    match crate::ledger::adds(&entry, &commitment) {
        Some((t, _)) if t == tree => Ok(()),
        _ => Err(missing),
    }
}

/// An access entry read from the chain.
struct LoggedAccess {
    seq: u64,
    time: u64,
    signer: [u8; 32],
    bundle: Vec<u8>,
    nonce: Fr,
}

/// An access whose every check but the proof passed.
struct ReadyProof {
    seq: u64,
    inputs: Vec<Fr>,
    proof: Proof,
}

impl ReadyProof {
    fn binding(&self) -> Fr {
        self.inputs[AccessPublic::REQUEST_BINDING]
    }
}

/// Audits `[opts.from, opts.to)` of `ledger` (see the module docs), trusting only
/// `ledger_key` for checkpoint signatures. `progress(done, total)` is called now and then
/// with the number of entries walked.
pub fn audit<S: Store + Sync>(
    ledger: &Ledger<S>,
    verifier: &Verifier,
    ledger_key: &ed25519_dalek::VerifyingKey,
    opts: &AuditOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<AuditReport, AuditError> {
    let key = named_access_key(ledger, verifier)?;
    let history = ledger.checkpoint_history();
    audit_with(ledger, verifier, key, ledger_key, opts, progress, &history)
}

/// The verifier's key for access proofs, if it is the one the ledger's genesis names.
fn named_access_key<'v, S: Store>(
    ledger: &Ledger<S>,
    verifier: &'v Verifier,
) -> Result<&'v PreparedVerifyingKey, AuditError> {
    let key = verifier
        .key(Statement::AccessAuthorization)
        .ok_or(AuditError::NoKey)?;
    let genesis = ledger.genesis();
    if !genesis.is_some_and(|g| g.names(Statement::AccessAuthorization, key.id())) {
        return Err(AuditError::KeyNotNamed {
            loaded: key.id().to_string(),
            named: genesis
                .and_then(|g| g.key(Statement::AccessAuthorization))
                .map_or("none".into(), |k| k.vk_id_hex()),
        });
    }
    Ok(key)
}

/// [`audit`] with the access key checked and the checkpoint history read.
fn audit_with<S: Store + Sync>(
    ledger: &Ledger<S>,
    verifier: &Verifier,
    key: &PreparedVerifyingKey,
    ledger_key: &ed25519_dalek::VerifyingKey,
    opts: &AuditOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
    history: &[(u64, Option<u64>)],
) -> Result<AuditReport, AuditError> {
    let len = ledger.len();
    if opts.from >= opts.to || opts.to > len {
        return Err(AuditError::Range {
            from: opts.from,
            to: opts.to,
            len,
        });
    }
    // The history is oldest first: the last checkpoint at or before `from`, and the first
    // at or after the range's last entry.
    let start = history
        .partition_point(|(seq, _)| *seq <= opts.from)
        .checked_sub(1)
        .map(|i| history[i].0);
    let end = history
        .get(history.partition_point(|(seq, _)| *seq + 1 < opts.to))
        .map(|(seq, _)| *seq)
        .ok_or(AuditError::NoClosingCheckpoint(opts.to - 1))?;

    let mut problems = Vec::new();
    let walk = walk_chain(
        ledger,
        ledger_key,
        start,
        end,
        opts,
        progress,
        &mut problems,
    )?;

    // The walk must close on a signed checkpoint (the index could name another entry).
    let mut walk = walk;
    if walk.chain_ok && !walk.signed.contains_key(&end) {
        problems.push(Problem {
            seq: end,
            kind: ProblemKind::Chain,
            reason: format!("entry {end} is not a signed checkpoint"),
        });
        walk.chain_ok = false;
    }

    let chain = VouchedChain::new(&walk, start.unwrap_or(0), end);
    // Every access entry: checks that need no pairing, in parallel.
    let checked: Vec<Result<ReadyProof, Problem>> = walk
        .accesses
        .par_iter()
        .map(|a| check_access(ledger, verifier, ledger_key, &walk, &chain, &opts.rules, a))
        .collect();
    let mut ready = Vec::new();
    let (mut invalid, mut stale) = (0u64, 0u64);
    // A request binding logged twice: a proof answers one request.
    let mut bindings: HashMap<[u8; 32], u64> = HashMap::new();
    let checked = checked.into_iter().map(|c| {
        let r = c?;
        match bindings.entry(medproof_verifier::checkpoint::fr_to_be32(&r.binding())) {
            std::collections::hash_map::Entry::Occupied(first) => Err(Problem {
                seq: r.seq,
                kind: ProblemKind::Invalid,
                reason: format!(
                    "the request binding of the access at seq {} was logged again",
                    first.get()
                ),
            }),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(r.seq);
                Ok(r)
            }
        }
    });
    for c in checked {
        match c {
            Ok(r) => ready.push(r),
            Err(p) => {
                match p.kind {
                    ProblemKind::Stale => stale += 1,
                    _ => invalid += 1,
                }
                problems.push(p);
            }
        }
    }

    // The proofs, in batches.
    let batch = opts.batch.max(1);
    let bad: Vec<u64> = ready
        .par_chunks(batch)
        .map(|chunk| {
            let items: Vec<(&[Fr], &Proof)> = chunk
                .iter()
                .map(|r| (r.inputs.as_slice(), &r.proof))
                .collect();
            let found = key
                .find_invalid(&items)
                .unwrap_or_else(|_| (0..chunk.len()).collect());
            found.into_iter().map(|i| chunk[i].seq).collect::<Vec<_>>()
        })
        .flatten()
        .collect();
    for seq in &bad {
        problems.push(Problem {
            seq: *seq,
            kind: ProblemKind::Invalid,
            reason: "the proof does not verify".into(),
        });
    }
    invalid += bad.len() as u64;
    problems.sort_by_key(|p| p.seq);

    let accesses = walk.accesses.len() as u64;
    let valid = ready.len() as u64 - bad.len() as u64;
    Ok(AuditReport {
        passed: walk.chain_ok && invalid == 0 && stale == 0 && valid == accesses,
        from: opts.from,
        to: opts.to,
        entries: opts.to - opts.from,
        accesses,
        valid,
        invalid,
        stale,
        chain_ok: walk.chain_ok,
        chain_head: walk.chain_head.map(hex::encode),
        checkpoints: AuditCheckpoints {
            start: start.map(|seq| walk.checkpoint_ref(seq)),
            end: walk.checkpoint_ref(end),
            walked: walk.checkpoints.len() as u64,
        },
        window_secs: opts.rules.window_secs,
        skew_secs: opts.rules.skew_secs,
        problems,
        witnesses: None,
    })
}

/// The audit of each access entry at `seqs`, one entry at a time (with the checkpoints
/// around it), as a patient's access history shows them: `None` when the audit counts
/// it as an authorized access, else the problem it finds. What a whole period's audit
/// adds (a request binding logged twice) the ledger refuses at append.
pub fn check_logged_accesses<S: Store + Sync>(
    ledger: &Ledger<S>,
    verifier: &Verifier,
    ledger_key: &ed25519_dalek::VerifyingKey,
    seqs: &[u64],
    rules: Freshness,
) -> Result<Vec<Option<Problem>>, AuditError> {
    let key = named_access_key(ledger, verifier)?;
    let history = ledger.checkpoint_history();
    seqs.iter()
        .map(|&seq| {
            let opts = AuditOptions {
                from: seq,
                to: seq + 1,
                rules,
                batch: 1,
            };
            let report = audit_with(
                ledger,
                verifier,
                key,
                ledger_key,
                &opts,
                &|_, _| {},
                &history,
            )?;
            Ok(match (report.valid, report.problems.into_iter().next()) {
                (1, _) => None,
                (_, Some(p)) => Some(p),
                (_, None) => Some(Problem {
                    seq,
                    kind: ProblemKind::Invalid,
                    reason: format!("entry {seq} is not an access entry"),
                }),
            })
        })
        .collect()
}

/// What the chain walk saw.
struct Walk {
    chain_ok: bool,
    /// Checkpoints walked, their signatures checked.
    signed: HashMap<u64, Checkpoint>,
    chain_head: Option<[u8; 32]>,
    checkpoints: Vec<CheckpointRef>,
    accesses: Vec<LoggedAccess>,
}

impl Walk {
    fn checkpoint_ref(&self, seq: u64) -> CheckpointRef {
        self.checkpoints
            .iter()
            .copied()
            .find(|c| c.seq == seq)
            .unwrap_or(CheckpointRef { seq, time: 0 })
    }
}

/// Walks entries from `start` (or the genesis) to `end`, both included.
fn walk_chain<S: Store>(
    ledger: &Ledger<S>,
    ledger_key: &ed25519_dalek::VerifyingKey,
    start: Option<u64>,
    end: u64,
    opts: &AuditOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
    problems: &mut Vec<Problem>,
) -> Result<Walk, AuditError> {
    let mut walk = Walk {
        chain_ok: true,
        signed: HashMap::new(),
        chain_head: None,
        checkpoints: Vec::new(),
        accesses: Vec::new(),
    };
    let first = start.unwrap_or(0);
    let mut prev: Option<[u8; 32]> = start.is_none().then_some([0u8; 32]);
    let chain = |seq: u64, reason: String, problems: &mut Vec<Problem>| {
        problems.push(Problem {
            seq,
            kind: ProblemKind::Chain,
            reason,
        });
    };
    let total = end + 1 - first;
    let mut submissions = Vec::new();
    for seq in first..=end {
        if (seq - first).is_multiple_of(1024) {
            progress(seq - first, total);
        }
        let entry = match ledger.entry(seq) {
            Ok(Some(e)) => e,
            Ok(None) => {
                chain(seq, format!("entry {seq} is missing"), problems);
                walk.chain_ok = false;
                break;
            }
            Err(LedgerError::Corrupt { reason, .. }) => {
                chain(seq, format!("entry {seq}: {reason}"), problems);
                walk.chain_ok = false;
                break;
            }
            Err(e) => return Err(e.into()),
        };
        if entry.seq != seq {
            chain(
                seq,
                format!("entry stored at {seq} says it is {}", entry.seq),
                problems,
            );
            walk.chain_ok = false;
            break;
        }
        if let Some(p) = prev {
            if entry.prev != p {
                chain(
                    seq,
                    format!(
                        "entry {seq} does not link to entry {}: one of them was altered",
                        seq.saturating_sub(1)
                    ),
                    problems,
                );
                walk.chain_ok = false;
                break;
            }
        }
        match &entry.body {
            Body::Genesis(g) => {
                if seq != 0 || !g.verify(entry.time, ledger_key) {
                    chain(
                        seq,
                        format!("entry {seq}: not a genesis signed by the ledger key"),
                        problems,
                    );
                    walk.chain_ok = false;
                    break;
                }
            }
            Body::Checkpoint { .. } => {
                let signed = entry.checkpoint().filter(|c| c.verify(ledger_key).is_ok());
                let Some(signed) = signed else {
                    chain(
                        seq,
                        format!("entry {seq}: checkpoint signature does not verify"),
                        problems,
                    );
                    walk.chain_ok = false;
                    break;
                };
                walk.signed.insert(seq, signed);
                walk.checkpoints.push(CheckpointRef {
                    seq,
                    time: entry.time,
                });
            }
            Body::Submission(s) => {
                if let Action::LogAccess { bundle, nonce } = &s.action {
                    if (opts.from..opts.to).contains(&seq) {
                        walk.accesses.push(LoggedAccess {
                            seq,
                            time: entry.time,
                            signer: s.signer,
                            bundle: bundle.clone(),
                            nonce: *nonce,
                        });
                    }
                }
            }
        }
        let hash = entry.hash();
        if seq + 1 == opts.to {
            walk.chain_head = Some(hash);
        }
        prev = Some(hash);
        if let Body::Submission(s) = entry.body {
            submissions.push((seq, s));
        }
    }
    // Submission signatures, in parallel; the first bad one breaks the chain there.
    let bad = submissions
        .par_iter()
        .filter(|(_, s)| !s.signature_ok())
        .map(|(seq, s)| (*seq, s.action.name()))
        .min_by_key(|(seq, _)| *seq);
    if let Some((seq, name)) = bad {
        // Anything the walk saw after it is past the break.
        problems.retain(|p| p.seq < seq);
        chain(
            seq,
            format!("entry {seq}: {name} signature does not verify"),
            problems,
        );
        walk.chain_ok = false;
        walk.accesses.retain(|a| a.seq < seq);
        walk.checkpoints.retain(|c| c.seq < seq);
        walk.signed.retain(|s, _| *s < seq);
        if walk.chain_head.is_some() && seq < opts.to {
            walk.chain_head = None;
        }
    }
    progress(total, total);
    Ok(walk)
}

/// When `checkpoint` was superseded, read from the chain rather than from the ledger's
/// index: a walked checkpoint's successor is taken from the walk (no I/O, signature
/// already checked); otherwise [`Ledger::superseded_on_chain`] reads it.
fn superseded_on_chain<S: Store>(
    ledger: &Ledger<S>,
    ledger_key: &ed25519_dalek::VerifyingKey,
    walk: &Walk,
    checkpoint: &Checkpoint,
) -> Result<Option<u64>, String> {
    let seq = checkpoint.seq;
    let walked = walk.signed.get(&seq) == Some(checkpoint);
    let on_chain = walked || matches!(ledger.holds_checkpoint(checkpoint), Ok(true));
    if !on_chain {
        return Err(FreshnessError::UnknownCheckpoint(seq).to_string());
    }
    if walked {
        let i = walk.checkpoints.partition_point(|c| c.seq <= seq);
        if let Some(next) = walk.checkpoints.get(i) {
            return Ok(Some(next.time));
        }
    }
    ledger
        .superseded_on_chain(checkpoint, ledger_key)
        .map_err(|e| e.to_string())
}

/// Stretches of the chain already vouched for by a signed checkpoint, so that an audit
/// reads each stretch once however many proofs name entries in it.
struct VouchedChain {
    /// `start -> end`: entries `start..=end` link to the signed checkpoint at `end`.
    ranges: Mutex<BTreeMap<u64, u64>>,
}

impl VouchedChain {
    fn new(walk: &Walk, first: u64, end: u64) -> Self {
        let mut ranges = BTreeMap::new();
        if walk.chain_ok {
            ranges.insert(first, end);
        }
        Self {
            ranges: Mutex::new(ranges),
        }
    }

    fn covers(&self, seq: u64) -> bool {
        let ranges = self.ranges.lock().unwrap_or_else(|e| e.into_inner());
        ranges
            .range(..=seq)
            .next_back()
            .is_some_and(|(_, end)| *end >= seq)
    }

    /// The entry at `seq`, vouched for by the signed chain.
    fn entry<S: Store>(
        &self,
        ledger: &Ledger<S>,
        key: &ed25519_dalek::VerifyingKey,
        seq: u64,
    ) -> Result<Entry, LedgerError> {
        if self.covers(seq) {
            if let Some(e) = ledger.entry(seq)? {
                return Ok(e);
            }
        }
        let (entry, until) = ledger.entry_vouched(seq, key)?;
        self.ranges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(seq, until);
        Ok(entry)
    }
}

/// Every check of one access entry but the proof's pairing.
fn check_access<S: Store>(
    ledger: &Ledger<S>,
    verifier: &Verifier,
    ledger_key: &ed25519_dalek::VerifyingKey,
    walk: &Walk,
    chain: &VouchedChain,
    rules: &Freshness,
    access: &LoggedAccess,
) -> Result<ReadyProof, Problem> {
    let seq = access.seq;
    let invalid = |reason: String| Problem {
        seq,
        kind: ProblemKind::Invalid,
        reason,
    };
    let text =
        std::str::from_utf8(&access.bundle).map_err(|_| invalid("bundle is not UTF-8".into()))?;
    let bundle = ProofBundle::from_json(text).map_err(|e| invalid(e.to_string()))?;
    let (decoded, _) = verifier
        .prepare(&bundle)
        .map_err(|e| invalid(e.to_string()))?;
    if decoded.statement != Statement::AccessAuthorization {
        return Err(invalid(format!(
            "an access is logged with a `{}` proof, not an access-authorization proof",
            decoded.statement
        )));
    }
    let checkpoint = Verifier::check_checkpoint_with(&bundle, &decoded, |cp| {
        if walk.signed.get(&cp.seq) == Some(cp) {
            Ok(())
        } else {
            cp.verify(ledger_key)
        }
    })
    .map_err(|e| invalid(e.to_string()))?;
    if checkpoint.seq >= seq {
        return Err(invalid(format!(
            "the proof's checkpoint {} comes after the access entry",
            checkpoint.seq
        )));
    }
    let superseded_at =
        superseded_on_chain(ledger, ledger_key, walk, &checkpoint).map_err(invalid)?;
    if decoded.inputs[AccessPublic::PROVIDER_REF] != provider_ref(&access.signer) {
        return Err(invalid(
            "the proof is for another provider than the one that logged the access".into(),
        ));
    }
    // The binding is recomputed from the request the entry names.
    crate::rules::decoded_access_ref(&decoded, &access.signer, &access.nonce)
        .map_err(|e| invalid(e.to_string()))?;
    check_references_with(ledger, &decoded, &checkpoint, &|seq| {
        chain.entry(ledger, ledger_key, seq)
    })
    .map_err(|e| invalid(e.to_string()))?;
    let stale = |e: FreshnessError| Problem {
        seq,
        kind: ProblemKind::Stale,
        reason: e.to_string(),
    };
    rules
        .check_root(checkpoint.seq, checkpoint.time, superseded_at, access.time)
        .map_err(stale)?;
    if let Some(now) = decoded.now() {
        rules.check_now(now, access.time).map_err(stale)?;
    }
    Ok(ReadyProof {
        seq,
        inputs: decoded.inputs,
        proof: decoded.proof,
    })
}

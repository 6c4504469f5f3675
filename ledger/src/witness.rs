//! A witness of the ledger's transparency log (c2sp.org/tlog-witness): it keeps the
//! latest checkpoint of the log it cosigned, and cosigns a new one only when a
//! consistency proof shows that the new tree extends that one. A checkpoint the log
//! signed that does not (a fork, a rollback, a changed entry) is refused, and both
//! signed checkpoints are kept as evidence: two statements by the log's key that cannot
//! both be true.
//!
//! The state is one JSON file, replaced atomically before a cosignature is returned, so
//! a witness never cosigns two histories, even across a crash.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::tlog::{self, Cosigner, Hash, LogVerifier, TlogError};
use crate::watermark::write_atomic;

/// Why a witness did not cosign, each with the HTTP status tlog-witness gives it.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// A request that does not parse.
    #[error("malformed add-checkpoint request: {0}")]
    Malformed(String),
    /// A log this witness does not follow.
    #[error("this witness follows the log `{expected}`, not `{found}`")]
    UnknownLog {
        /// The log it follows.
        expected: String,
        /// The origin of the checkpoint.
        found: String,
    },
    /// Not signed by the log's key.
    #[error("the checkpoint is not signed by the log's key")]
    NotSigned,
    /// The client's old size is not the witness's.
    #[error("this witness last cosigned {size} entries of the log (the request said {old})")]
    Conflict {
        /// The size the witness cosigned last.
        size: u64,
        /// The size the request named.
        old: u64,
    },
    /// The log signed a checkpoint that does not extend the one the witness cosigned.
    #[error("INCONSISTENT LOG: {reason}; both signed checkpoints are kept in {}", evidence.display())]
    Inconsistent {
        /// What was found.
        reason: String,
        /// The file holding both checkpoints.
        evidence: PathBuf,
        /// The tlog-witness status: 409 for a rollback or another root at the same
        /// size, 422 for a consistency proof that does not verify.
        status: u16,
    },
    /// The state or evidence could not be read or written.
    #[error("witness state {path}: {reason}")]
    State {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
}

impl WitnessError {
    /// The HTTP status of c2sp.org/tlog-witness.
    pub fn status(&self) -> u16 {
        match self {
            WitnessError::Malformed(_) => 400,
            WitnessError::UnknownLog { .. } => 404,
            WitnessError::NotSigned => 403,
            WitnessError::Conflict { .. } => 409,
            WitnessError::Inconsistent { status, .. } => *status,
            WitnessError::State { .. } => 500,
        }
    }
}

/// What a witness keeps: the latest checkpoint it cosigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessState {
    /// The log's origin.
    pub origin: String,
    /// Entries in the cosigned tree.
    pub size: u64,
    /// Its root, base64.
    pub root: String,
    /// The log's signed note, as cosigned.
    pub checkpoint: String,
}

/// A witness of one log, with its state in a directory.
pub struct Witness {
    cosigner: Cosigner,
    log: LogVerifier,
    dir: PathBuf,
    state: Option<WitnessState>,
}

/// A parsed add-checkpoint request.
#[derive(Debug, Clone, PartialEq)]
pub struct AddCheckpoint {
    /// The size the client believes the witness cosigned last.
    pub old: u64,
    /// The consistency proof from `old` to the checkpoint.
    pub proof: Vec<Hash>,
    /// The checkpoint, a signed note.
    pub checkpoint: Vec<u8>,
}

impl AddCheckpoint {
    /// Parses the body of `POST /add-checkpoint`: `old N`, up to 63 base64 hashes, an
    /// empty line, then the checkpoint, every line ending in a newline.
    pub fn parse(body: &[u8]) -> Result<Self, WitnessError> {
        let bad = |m: &str| WitnessError::Malformed(m.to_string());
        let text = std::str::from_utf8(body).map_err(|_| bad("not UTF-8"))?;
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or_else(|| bad("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .filter(|n| *n == "0" || !n.starts_with('0'))
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| bad("the first line must be `old <size>`"))?;
        let proof = lines
            .map(|l| Hash::parse_hash(l).map_err(|_| bad("a proof line is not a base64 hash")))
            .collect::<Result<Vec<_>, _>>()?;
        if proof.len() > 63 {
            return Err(bad("more than 63 proof lines"));
        }
        Ok(Self {
            old,
            proof,
            checkpoint: checkpoint.as_bytes().to_vec(),
        })
    }

    /// The request body.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = format!("old {}\n", self.old);
        for h in &self.proof {
            out.push_str(&format!("{h}\n"));
        }
        out.push('\n');
        let mut out = out.into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }
}

const STATE_FILE: &str = "state.json";

impl Witness {
    /// The witness `cosigner` of the log `log`, its state in `dir` (created if missing).
    pub fn open(cosigner: Cosigner, log: LogVerifier, dir: &Path) -> Result<Self, WitnessError> {
        let state_err = |path: &Path, e: &dyn std::fmt::Display| WitnessError::State {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| state_err(dir, &e))?;
        let path = dir.join(STATE_FILE);
        let state = match std::fs::read(&path) {
            Ok(bytes) => {
                let s: WitnessState =
                    serde_json::from_slice(&bytes).map_err(|e| state_err(&path, &e))?;
                // The state is the witness's word: a changed one is not trusted.
                let cp = log
                    .open(s.checkpoint.as_bytes())
                    .map_err(|e| state_err(&path, &e))?;
                if s.origin != log.origin() || cp.size != s.size || cp.root.to_string() != s.root {
                    return Err(state_err(
                        &path,
                        &"the state is not the checkpoint it holds",
                    ));
                }
                Some(s)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(state_err(&path, &e)),
        };
        Ok(Self {
            cosigner,
            log,
            dir: dir.to_path_buf(),
            state,
        })
    }

    /// The latest checkpoint it cosigned.
    pub fn latest(&self) -> Option<&WitnessState> {
        self.state.as_ref()
    }

    /// The size it cosigned last (0 before the first).
    pub fn size(&self) -> u64 {
        self.state.as_ref().map_or(0, |s| s.size)
    }

    /// The log it follows.
    pub fn log(&self) -> &LogVerifier {
        &self.log
    }

    /// Checks `req` against the latest cosigned checkpoint and, if the new checkpoint
    /// extends it, records it and returns the cosignature line; `now` is the
    /// cosignature's time. The checks and the record are one step (`&mut self`).
    pub fn add_checkpoint(
        &mut self,
        req: &AddCheckpoint,
        now: u64,
    ) -> Result<String, WitnessError> {
        let text = tlog::note_text(&req.checkpoint).map_err(|_| {
            WitnessError::Malformed("the checkpoint is not a signed note".to_string())
        })?;
        let origin =
            String::from_utf8_lossy(text.split(|b| *b == b'\n').next().unwrap_or(&[])).into_owned();
        if origin != self.log.origin() {
            return Err(WitnessError::UnknownLog {
                expected: self.log.origin().to_string(),
                found: origin.chars().take(64).collect(),
            });
        }
        let cp = match self.log.open(&req.checkpoint) {
            Ok(cp) => cp,
            Err(TlogError::Malformed) => {
                return Err(WitnessError::Malformed("not a C2SP checkpoint".to_string()))
            }
            Err(_) => return Err(WitnessError::NotSigned),
        };
        if req.old > cp.size {
            return Err(WitnessError::Malformed(format!(
                "old size {} is larger than the checkpoint's {}",
                req.old, cp.size
            )));
        }
        if req.old != self.size() {
            return Err(WitnessError::Conflict {
                size: self.size(),
                old: req.old,
            });
        }
        // Signed by the log, and from the size cosigned last: what does not extend the
        // cosigned tree is evidence against the log.
        if let Some(prev) = &self.state {
            let prev_root = Hash::parse_hash(&prev.root).map_err(|_| WitnessError::State {
                path: self.dir.join(STATE_FILE),
                reason: "malformed root".to_string(),
            })?;
            if cp.size == prev.size && cp.root != prev_root {
                return Err(self.evidence(
                    &cp,
                    req,
                    now,
                    409,
                    format!(
                        "the log signed another root for {} entries than the one this witness cosigned (a fork)",
                        cp.size
                    ),
                ));
            }
            if cp.size > prev.size
                && tlog::check_consistency(&req.proof, prev.size, prev_root, cp.size, cp.root)
                    .is_err()
            {
                return Err(self.evidence(
                    &cp,
                    req,
                    now,
                    422,
                    format!(
                        "no consistency from the {} entries this witness cosigned to the {} of the new checkpoint (a fork, or a changed entry)",
                        prev.size, cp.size
                    ),
                ));
            }
        } else if !req.proof.is_empty() {
            return Err(WitnessError::Malformed(
                "a proof from old size 0 must be empty".to_string(),
            ));
        }
        let state = WitnessState {
            origin: self.log.origin().to_string(),
            size: cp.size,
            root: cp.root.to_string(),
            checkpoint: String::from_utf8_lossy(&cp.note).into_owned(),
        };
        let path = self.dir.join(STATE_FILE);
        let json = serde_json::to_vec_pretty(&state).map_err(|e| WitnessError::State {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        // Recorded before the cosignature leaves.
        write_atomic(&path, &json).map_err(|e| WitnessError::State {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        self.state = Some(state);
        Ok(self.cosigner.cosign(&text, now))
    }

    /// For a follower that finds the log serving a checkpoint smaller than the one this
    /// witness cosigned (a rollback): checks the checkpoint is the log's, keeps both as
    /// evidence and returns the refusal.
    pub fn rollback(&self, note: &[u8], now: u64) -> Result<WitnessError, WitnessError> {
        let cp = self.log.open(note).map_err(|_| WitnessError::NotSigned)?;
        let size = self.size();
        if cp.size >= size {
            return Err(WitnessError::Malformed(format!(
                "a checkpoint of {} entries is no rollback from {size}",
                cp.size
            )));
        }
        let req = AddCheckpoint {
            old: size,
            proof: Vec::new(),
            checkpoint: note.to_vec(),
        };
        Ok(self.evidence(
            &cp,
            &req,
            now,
            409,
            format!(
                "the log serves a checkpoint of {} entries after this witness cosigned {size} (a rollback)",
                cp.size
            ),
        ))
    }

    /// Keeps the cosigned checkpoint and the conflicting one in a file of the evidence
    /// directory, logs it loudly, and returns the refusal.
    fn evidence(
        &self,
        cp: &tlog::SignedCheckpoint,
        req: &AddCheckpoint,
        now: u64,
        status: u16,
        reason: String,
    ) -> WitnessError {
        let dir = self.dir.join("evidence");
        let path = dir.join(format!("{now}-{}.txt", cp.size));
        let cosigned = self
            .state
            .as_ref()
            .map(|s| s.checkpoint.clone())
            .unwrap_or_default();
        let text = format!(
            "{reason}\n\nThe checkpoint this witness cosigned:\n\n{cosigned}\nThe checkpoint the log signed then:\n\n{}\nThe request:\n\n{}",
            String::from_utf8_lossy(&cp.note),
            String::from_utf8_lossy(&req.encode()),
        );
        let written =
            std::fs::create_dir_all(&dir).and_then(|_| write_atomic(&path, text.as_bytes()));
        if let Err(e) = written {
            tracing::error!("cannot keep the evidence in {}: {e}", path.display());
        }
        tracing::error!(
            "INCONSISTENT LOG {}: {reason}; evidence in {}",
            self.log.origin(),
            path.display()
        );
        WitnessError::Inconsistent {
            reason,
            evidence: path,
            status,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::store::MemStore;
    use crate::tlog::CosignatureVerifier;
    use crate::{Clock, Ledger};

    struct Manual(AtomicU64);
    impl Clock for Manual {
        fn now(&self) -> u64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    fn ledger(clock: Arc<Manual>) -> Ledger<MemStore> {
        let registrar = SigningKey::from_bytes(&[2; 32]).verifying_key();
        Ledger::create(
            MemStore::new(),
            SigningKey::from_bytes(&[1; 32]),
            clock,
            &[registrar],
            &[],
        )
        .unwrap()
    }

    fn tick(l: &mut Ledger<MemStore>, clock: &Manual) {
        clock.0.fetch_add(1, Ordering::SeqCst);
        l.heartbeat().unwrap();
    }

    fn witness(l: &Ledger<MemStore>, dir: &Path) -> Witness {
        let cosigner =
            Cosigner::new("witness.example/w1", SigningKey::from_bytes(&[9; 32])).unwrap();
        Witness::open(cosigner, l.log_verifier().unwrap(), dir).unwrap()
    }

    fn request(l: &Ledger<MemStore>, old: u64) -> AddCheckpoint {
        let cp = l.tlog_checkpoint().unwrap();
        let proof = match old {
            0 => Vec::new(),
            old => l.consistency_proof(old, cp.size).unwrap(),
        };
        AddCheckpoint {
            old,
            proof,
            checkpoint: cp.note,
        }
    }

    #[test]
    fn cosigns_only_what_extends_what_it_cosigned() {
        let clock = Arc::new(Manual(AtomicU64::new(1_700_000_000)));
        let mut l = ledger(clock.clone());
        let dir = tempfile::tempdir().unwrap();
        let mut w = witness(&l, dir.path());
        let first = request(&l, 0);
        let line = w.add_checkpoint(&first, 77).unwrap();
        // The cosignature is tlog-cosignature v1 by the witness's key, at the time given.
        let v = Cosigner::new("witness.example/w1", SigningKey::from_bytes(&[9; 32]))
            .unwrap()
            .verifier();
        let cosigned = [first.checkpoint.clone(), line.clone().into_bytes()].concat();
        assert_eq!(v.cosigned(&cosigned), Some(77));
        assert_eq!(
            CosignatureVerifier::from_verifier_key(&v.verifier_key()).unwrap(),
            v
        );
        let other = Cosigner::new("witness.example/w1", SigningKey::from_bytes(&[8; 32])).unwrap();
        assert_eq!(other.verifier().cosigned(&cosigned), None);
        assert_eq!(v.cosigned(&first.checkpoint), None);
        // The time changed after signing (its last byte: the line is id, time, signature).
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let (head, sig) = line.trim_end().rsplit_once(' ').unwrap();
        let mut bytes = b64.decode(sig).unwrap();
        bytes[11] ^= 1;
        let time_changed = format!("{head} {}\n", b64.encode(bytes));
        assert_eq!(
            v.cosigned(&[first.checkpoint.clone(), time_changed.into_bytes()].concat()),
            None
        );
        let size = w.size();
        for _ in 0..3 {
            tick(&mut l, &clock);
        }
        // The old size must be the witness's; then the proof must verify.
        match w.add_checkpoint(&request(&l, 0), 78) {
            Err(e @ WitnessError::Conflict { .. }) => assert_eq!(e.status(), 409),
            other => panic!("expected a conflict, got {other:?}"),
        }
        let mut bad = request(&l, size);
        bad.old = l.len() + 1;
        assert_eq!(w.add_checkpoint(&bad, 78).unwrap_err().status(), 400);
        w.add_checkpoint(&request(&l, size), 79).unwrap();
        assert_eq!(w.size(), l.len());
        // The same checkpoint again: cosigned again, at the new time.
        w.add_checkpoint(&request(&l, l.len()), 80).unwrap();
        // Kept across a restart; a changed state is not trusted.
        let w2 = witness(&l, dir.path());
        assert_eq!(w2.latest(), w.latest());
        let state = dir.path().join(STATE_FILE);
        let text = std::fs::read_to_string(&state).unwrap();
        std::fs::write(
            &state,
            text.replacen(&format!("\"size\": {}", l.len()), "\"size\": 3", 1),
        )
        .unwrap();
        let cosigner =
            Cosigner::new("witness.example/w1", SigningKey::from_bytes(&[9; 32])).unwrap();
        assert!(Witness::open(cosigner, l.log_verifier().unwrap(), dir.path()).is_err());
    }

    #[test]
    fn another_log_or_another_key_is_refused() {
        let clock = Arc::new(Manual(AtomicU64::new(1_700_000_000)));
        let l = ledger(clock.clone());
        let dir = tempfile::tempdir().unwrap();
        let mut w = witness(&l, dir.path());
        // The same log's name, signed by another key: 403.
        let forger = Ledger::create_named(
            MemStore::new(),
            SigningKey::from_bytes(&[5; 32]),
            clock.clone(),
            &[SigningKey::from_bytes(&[2; 32]).verifying_key()],
            &[],
            Some(l.origin()),
        )
        .unwrap();
        assert_eq!(
            w.add_checkpoint(&request(&forger, 0), 1)
                .unwrap_err()
                .status(),
            403
        );
        // Another log: 404.
        let other = ledger(Arc::new(Manual(AtomicU64::new(1_600_000_000))));
        assert_eq!(
            w.add_checkpoint(&request(&other, 0), 1)
                .unwrap_err()
                .status(),
            404
        );
        // A proof from old size 0: 400.
        let mut req = request(&l, 0);
        req.proof.push(Hash([0; 32]));
        assert_eq!(w.add_checkpoint(&req, 1).unwrap_err().status(), 400);
        assert_eq!(w.size(), 0);
    }

    /// Attack: the operator forks the ledger after the witness cosigned one history, or
    /// rolls it back; the other history's checkpoints, validly signed, are refused and
    /// kept as evidence, and the witness's state stays on the first history.
    #[test]
    fn a_fork_or_a_rollback_is_refused_with_the_evidence_kept() {
        let clock = Arc::new(Manual(AtomicU64::new(1_700_000_000)));
        let mut base = ledger(clock.clone());
        tick(&mut base, &clock);
        let store = base.into_store();
        let key = SigningKey::from_bytes(&[1; 32]);
        let mut one = Ledger::open(store.clone(), key.clone(), clock.clone()).unwrap();
        let mut two = Ledger::open(store, key, clock.clone()).unwrap();
        tick(&mut one, &clock);
        tick(&mut two, &clock); // a second later: another entry at the same seq
        let dir = tempfile::tempdir().unwrap();
        let mut w = witness(&one, dir.path());
        w.add_checkpoint(&request(&one, 0), 10).unwrap();
        let cosigned = w.latest().cloned().unwrap();
        // Same size, another root.
        let e = w.add_checkpoint(&request(&two, two.len()), 11).unwrap_err();
        assert_eq!(e.status(), 409, "{e}");
        // Grown, with the other history's consistency proof.
        tick(&mut two, &clock);
        let e = w.add_checkpoint(&request(&two, one.len()), 12).unwrap_err();
        let WitnessError::Inconsistent {
            evidence, status, ..
        } = &e
        else {
            panic!("expected an inconsistency, got {e:?}")
        };
        assert_eq!(*status, 422);
        let kept = std::fs::read_to_string(evidence).unwrap();
        assert!(kept.contains(&cosigned.checkpoint), "{kept}");
        assert!(kept.contains(&String::from_utf8(two.tlog_checkpoint().unwrap().note).unwrap()));
        assert_eq!(w.latest(), Some(&cosigned));
        // A rollback: the log serves an older checkpoint than the one cosigned.
        tick(&mut one, &clock);
        let older = one.tlog_checkpoint().unwrap().note;
        tick(&mut one, &clock);
        w.add_checkpoint(&request(&one, w.size()), 13).unwrap();
        let e = w.rollback(&older, 14).unwrap();
        assert!(
            matches!(e, WitnessError::Inconsistent { status: 409, .. }),
            "{e}"
        );
        assert!(w
            .rollback(&one.tlog_checkpoint().unwrap().note, 15)
            .is_err());
        assert_eq!(
            std::fs::read_dir(dir.path().join("evidence"))
                .unwrap()
                .count(),
            3
        );
    }

    /// What a verifier that requires witnesses checks: the bundle's checkpoint entry is
    /// in the cosigned tree, signed by the ledger, cosigned by the witnesses named.
    #[test]
    fn a_log_proof_shows_the_witnesses_that_cosigned() {
        use crate::tlog::LogProof;
        let clock = Arc::new(Manual(AtomicU64::new(1_700_000_000)));
        let mut l = ledger(clock.clone());
        let cp = l.latest_checkpoint().unwrap().unwrap().checkpoint;
        tick(&mut l, &clock);
        let dir = tempfile::tempdir().unwrap();
        let mut w = witness(&l, dir.path());
        let req = request(&l, 0);
        let line = w.add_checkpoint(&req, 5).unwrap();
        let cosigned =
            String::from_utf8([req.checkpoint.clone(), line.into_bytes()].concat()).unwrap();
        let size = l.len();
        let proof = |seq| LogProof {
            checkpoint: cosigned.clone(),
            inclusion: l
                .inclusion_proof(seq, size)
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect(),
        };
        let key = l.public_key();
        let me = Cosigner::new("witness.example/w1", SigningKey::from_bytes(&[9; 32]))
            .unwrap()
            .verifier();
        let other = Cosigner::new("witness.example/w2", SigningKey::from_bytes(&[7; 32]))
            .unwrap()
            .verifier();
        let logged = proof(cp.seq)
            .check(&cp, &key, &[me.clone(), other.clone()])
            .unwrap();
        assert_eq!(
            (logged.size, logged.cosigned_by),
            (size, vec!["witness.example/w1".to_string()])
        );
        assert!(proof(cp.seq)
            .check(&cp, &key, &[other])
            .unwrap()
            .cosigned_by
            .is_empty());
        // Another entry's path, another ledger key, a changed checkpoint: refused.
        assert!(proof(cp.seq + 1)
            .check(&cp, &key, std::slice::from_ref(&me))
            .is_err());
        let stranger = SigningKey::from_bytes(&[3; 32]).verifying_key();
        assert!(proof(cp.seq)
            .check(&cp, &stranger, std::slice::from_ref(&me))
            .is_err());
        let mut changed = cp;
        changed.time += 1;
        assert!(proof(cp.seq).check(&changed, &key, &[me]).is_err());
    }

    #[test]
    fn requests_parse_as_tlog_witness_says() {
        let clock = Arc::new(Manual(AtomicU64::new(1_700_000_000)));
        let mut l = ledger(clock.clone());
        let old = l.len();
        tick(&mut l, &clock);
        tick(&mut l, &clock);
        let req = request(&l, old);
        assert!(!req.proof.is_empty());
        assert_eq!(AddCheckpoint::parse(&req.encode()).unwrap(), req);
        let note = String::from_utf8(req.checkpoint.clone()).unwrap();
        for bad in [
            format!("old 01\n\n{note}"),
            format!("old -1\n\n{note}"),
            format!("old 1\nnot-base64!\n\n{note}"),
            format!("new 1\n\n{note}"),
            format!("old 1\n{note}"),
            format!(
                "old 1\n{}\n{note}",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n".repeat(64)
            ),
        ] {
            assert!(AddCheckpoint::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}

//! The log's own witnesses: the service pushes each new checkpoint of its transparency
//! log to the witnesses it is configured with (c2sp.org/tlog-witness `add-checkpoint`,
//! with an RFC 6962 consistency proof from the size each witness holds), and keeps the
//! latest checkpoint with the cosignatures that came back (`DATA_DIR/log.cosigned`,
//! replaced atomically), which `GET /v1/log/cosigned` serves and from which
//! `GET /v1/log/proof` proves a bundle's checkpoint for verifiers that require witnesses.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use medproof_ledger::tlog::CosignatureVerifier;
use medproof_ledger::witness::AddCheckpoint;
use medproof_ledger::{Ledger, RocksStore};

use crate::client::Client;

/// A witness the log is pushed to.
#[derive(Debug, Clone)]
pub struct WitnessTarget {
    /// Its cosignature verifier key: only its valid cosignatures are kept.
    pub verifier: CosignatureVerifier,
    /// Its URL prefix (`POST {url}/add-checkpoint`).
    pub url: String,
}

impl WitnessTarget {
    /// Parses `VKEY@URL` (a cosignature verifier key, `name+keyid+base64`, and the
    /// witness's URL prefix).
    pub fn parse(s: &str) -> Result<Self> {
        let (vkey, url) = s
            .split_once('@')
            .ok_or_else(|| anyhow!("a witness to push to is VKEY@URL: {s:?}"))?;
        let verifier = CosignatureVerifier::from_verifier_key(vkey)
            .map_err(|e| anyhow!("witness key {vkey:?}: {e}"))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("witness URL {url:?}: not http:// or https://");
        }
        Ok(Self {
            verifier,
            url: url.trim_end_matches('/').to_string(),
        })
    }
}

/// The latest cosigned checkpoint of the log.
pub struct Cosigned {
    note: RwLock<Option<Vec<u8>>>,
    path: PathBuf,
}

impl Cosigned {
    /// The one kept in `data_dir`, if it is a checkpoint of `ledger`'s log (signed by
    /// it, of this history); anything else is set aside with a warning.
    pub fn load(data_dir: &Path, ledger: &Ledger<RocksStore>) -> Self {
        let path = data_dir.join("log.cosigned");
        let note = std::fs::read(&path).ok().filter(|note| {
            let ok = ledger
                .log_verifier()
                .ok()
                .and_then(|v| v.open(note).ok())
                .is_some_and(|cp| {
                    cp.size <= ledger.len() && ledger.tlog_root(cp.size).ok() == Some(cp.root)
                });
            if !ok {
                tracing::warn!(
                    "{} is not a checkpoint of this ledger's log: ignored",
                    path.display()
                );
            }
            ok
        });
        Self {
            note: RwLock::new(note),
            path,
        }
    }

    /// The latest cosigned checkpoint, if any.
    pub fn latest(&self) -> Option<Vec<u8>> {
        self.note.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn publish(&self, note: Vec<u8>) {
        if let Err(e) = crate::write_file_atomic(&self.path, &note) {
            tracing::error!("cannot keep the cosigned checkpoint: {e:#}");
        }
        *self.note.write().unwrap_or_else(|p| p.into_inner()) = Some(note);
    }
}

/// The thread that pushes checkpoints to the witnesses.
pub struct Pusher {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Pusher {
    /// Starts pushing `ledger`'s latest checkpoint to `targets` whenever the log grows
    /// (checked every `tick`), publishing each in `cosigned` with the cosignatures that
    /// came back. A witness that fails is tried again on the next growth or after
    /// `retry`.
    pub fn start(
        ledger: Arc<RwLock<Ledger<RocksStore>>>,
        targets: Vec<WitnessTarget>,
        cosigned: Arc<Cosigned>,
        tick: Duration,
        retry: Duration,
    ) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("medproof-witnesses".into())
            .spawn(move || {
                let mut held: Vec<u64> = vec![0; targets.len()];
                let mut pushed = 0u64;
                let mut failed_at: Option<std::time::Instant> = None;
                while !flag.load(Ordering::SeqCst) {
                    std::thread::sleep(tick);
                    let cp = match read(&ledger).tlog_checkpoint() {
                        Ok(cp) => cp,
                        Err(e) => {
                            tracing::error!("cannot read the log's checkpoint: {e}");
                            continue;
                        }
                    };
                    let due = cp.size != pushed || failed_at.is_some_and(|t| t.elapsed() >= retry);
                    if !due {
                        continue;
                    }
                    let mut lines = Vec::new();
                    let mut all = true;
                    for (t, held) in targets.iter().zip(held.iter_mut()) {
                        match push(&ledger, t, held, &cp.note, cp.size) {
                            Ok(line) => lines.push(line),
                            Err(e) => {
                                all = false;
                                tracing::warn!("witness {}: {e:#}", t.url);
                            }
                        }
                    }
                    if !lines.is_empty() {
                        let mut note = cp.note.clone();
                        for line in &lines {
                            note.extend_from_slice(line.as_bytes());
                        }
                        cosigned.publish(note);
                        tracing::info!(
                            "checkpoint of {} entries cosigned by {} of {} witnesses",
                            cp.size,
                            lines.len(),
                            targets.len()
                        );
                    }
                    pushed = cp.size;
                    failed_at = (!all).then(std::time::Instant::now);
                }
            })
            .context("cannot start the witness pusher")?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for it.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Pusher {
    fn drop(&mut self) {
        self.stop();
    }
}

fn read(ledger: &RwLock<Ledger<RocksStore>>) -> std::sync::RwLockReadGuard<'_, Ledger<RocksStore>> {
    ledger.read().unwrap_or_else(|p| p.into_inner())
}

/// Offers the checkpoint `note` of `size` entries to the witness `t`, which holds
/// `held` entries (as far as this service knows; a 409 tells the truth, once); returns
/// its valid cosignature line.
fn push(
    ledger: &RwLock<Ledger<RocksStore>>,
    t: &WitnessTarget,
    held: &mut u64,
    note: &[u8],
    size: u64,
) -> Result<String> {
    let client = Client::new(&t.url);
    for _ in 0..2 {
        if *held > size {
            bail!(
                "the witness holds a checkpoint of {held} entries and the log has {size}: the log was rolled back"
            );
        }
        let proof = match *held {
            0 => Vec::new(),
            old if old == size => Vec::new(),
            old => read(ledger).consistency_proof(old, size)?,
        };
        let req = AddCheckpoint {
            old: *held,
            proof,
            checkpoint: note.to_vec(),
        };
        let r = client.post_bytes("/add-checkpoint", "text/plain", &req.encode())?;
        match r.status {
            200 => {
                let line = String::from_utf8(r.body).context("the cosignature is not text")?;
                let mut cosigned = note.to_vec();
                cosigned.extend_from_slice(line.as_bytes());
                if t.verifier.cosigned(&cosigned).is_none() {
                    bail!("the answer carries no valid cosignature of its key");
                }
                *held = size;
                return Ok(line);
            }
            409 => {
                let theirs: u64 = std::str::from_utf8(&r.body)
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .ok_or_else(|| anyhow!("409 without the size it holds"))?;
                if theirs == *held {
                    bail!("409 for the size it says it holds ({theirs})");
                }
                *held = theirs;
            }
            status => bail!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&r.body[..r.body.len().min(200)]).trim()
            ),
        }
    }
    bail!("the witness keeps answering 409")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_a_key_at_a_url() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
        let vkey = medproof_ledger::tlog::Cosigner::new("w.example/1", key)
            .unwrap()
            .verifier()
            .verifier_key();
        let t = WitnessTarget::parse(&format!("{vkey}@http://127.0.0.1:9/w/")).unwrap();
        assert_eq!(t.url, "http://127.0.0.1:9/w");
        assert_eq!(t.verifier.name(), "w.example/1");
        assert!(WitnessTarget::parse(&vkey).is_err());
        assert!(WitnessTarget::parse(&format!("{vkey}@ftp://x")).is_err());
        assert!(WitnessTarget::parse("nope@http://x").is_err());
    }
}

//! The high-water mark: the last checkpoint the ledger signed, kept in a file outside the
//! database (`DATA_DIR/ledger.hwm`) and rewritten after every append.
//!
//! Restoring an older copy of the database, or cutting it back to an earlier checkpoint,
//! would silently undo revocations; the next append would then sign a second, different
//! checkpoint for a seq that was signed already. Opening compares the database with the
//! mark and refuses one that is behind it, or that holds another entry at the mark's seq.
//!
//! The mark is written by replacing the file atomically (write, sync, rename, sync the
//! directory) after the database's own synced write. A crash between the two leaves the
//! mark one append behind, which is safe: opening then moves it forward. A new ledger
//! writes an empty mark before its first entry, so a missing mark beside a non-empty
//! database is itself refused.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use medproof_verifier::checkpoint::CheckpointJson;
use medproof_verifier::Checkpoint;
use serde::{Deserialize, Serialize};

/// The file name of the mark inside a data dir.
pub const FILE_NAME: &str = "ledger.hwm";

/// What went wrong with the mark.
#[derive(Debug, thiserror::Error)]
pub enum WatermarkError {
    /// I/O on the file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a mark, or its checkpoint is not signed by the ledger's key.
    #[error("{0}: not a high-water mark of this ledger: {1}")]
    Malformed(PathBuf, String),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkFile {
    /// The last checkpoint signed; `None` before the first one.
    checkpoint: Option<CheckpointJson>,
}

/// The mark's file.
#[derive(Debug, Clone)]
pub struct Watermark {
    path: PathBuf,
}

impl Watermark {
    /// The mark at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The mark of the ledger in `data_dir`.
    pub fn in_dir(data_dir: &Path) -> Self {
        Self::new(data_dir.join(FILE_NAME))
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> WatermarkError {
        WatermarkError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Reads the mark: `Ok(None)` if there is no file, `Ok(Some(None))` for an empty
    /// mark (a ledger with no checkpoint yet), `Ok(Some(Some(cp)))` otherwise. The
    /// checkpoint's signature is checked under `key`.
    pub fn load(&self, key: &VerifyingKey) -> Result<Option<Option<Checkpoint>>, WatermarkError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(e)),
        };
        let bad = |reason: String| WatermarkError::Malformed(self.path.clone(), reason);
        let mark: MarkFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let Some(json) = mark.checkpoint else {
            return Ok(Some(None));
        };
        let cp = json.parse().map_err(|e| bad(e.to_string()))?;
        cp.verify(key).map_err(|e| bad(e.to_string()))?;
        Ok(Some(Some(cp)))
    }

    /// Replaces the mark with `checkpoint` (or an empty mark), atomically and durably.
    pub fn store(&self, checkpoint: Option<&Checkpoint>) -> Result<(), WatermarkError> {
        let mark = MarkFile {
            checkpoint: checkpoint.map(Checkpoint::to_json),
        };
        let text = serde_json::to_string_pretty(&mark).map_err(|e| self.io(e.into()))?;
        write_atomic(&self.path, text.as_bytes()).map_err(|e| self.io(e))
    }
}

/// Replaces `path` with `bytes` through a synced temporary file renamed over it (and the
/// directory synced): a crash leaves the old file or the new one, never a torn one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).and_then(|d| d.sync_all())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};
    use medproof_verifier::Fr;

    #[test]
    fn roundtrip_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_bytes(&[3; 32]);
        let w = Watermark::in_dir(dir.path());
        assert!(w.load(&key.verifying_key()).unwrap().is_none());
        w.store(None).unwrap();
        assert_eq!(w.load(&key.verifying_key()).unwrap(), Some(None));
        let (r, c) = (Fr::from(1u64), Fr::from(2u64));
        let sig = key.sign(&Checkpoint::signing_bytes(4, &[7; 32], &r, &c, 99));
        let cp = Checkpoint {
            seq: 4,
            chain_head: [7; 32],
            records_root: r,
            consents_root: c,
            time: 99,
            signature: sig.to_bytes(),
        };
        w.store(Some(&cp)).unwrap();
        assert_eq!(w.load(&key.verifying_key()).unwrap(), Some(Some(cp)));
        let other = SigningKey::from_bytes(&[4; 32]);
        assert!(matches!(
            w.load(&other.verifying_key()),
            Err(WatermarkError::Malformed(..))
        ));
        fs::write(w.path(), "{}x").unwrap();
        assert!(w.load(&key.verifying_key()).is_err());
    }
}

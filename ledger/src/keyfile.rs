//! The ledger's Ed25519 signing key: created on first start with file mode 0600, refused
//! if anyone else can read it. The public half is written beside it as hex, for the
//! verifiers who must trust it.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;

/// What went wrong with the key file.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// I/O on the file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is readable or writable by group or others.
    #[error(
        "{0}: the ledger key is accessible to other users (mode {1:o}); run `chmod 600` on it"
    )]
    Permissions(PathBuf, u32),
    /// The file is not a key.
    #[error("{0}: not a ledger key (expected 32 bytes)")]
    Malformed(PathBuf),
    /// The file is not a public key.
    #[error("{0}: not a ledger public key (expected 64 hex digits of an Ed25519 key)")]
    MalformedPublic(PathBuf),
}

fn io(path: &Path, source: std::io::Error) -> KeyFileError {
    KeyFileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Loads the key at `path`, creating it (mode 0600) if absent. Returns the key and
/// whether it was created. Also writes `<path>.pub` with the public key in hex.
pub fn load_or_create(path: &Path) -> Result<(SigningKey, bool), KeyFileError> {
    let created = !path.exists();
    if created {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| io(path, e))?;
        f.write_all(&key.to_bytes()).map_err(|e| io(path, e))?;
        f.sync_all().map_err(|e| io(path, e))?;
    }
    let mode = fs::metadata(path)
        .map_err(|e| io(path, e))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::Permissions(path.to_path_buf(), mode));
    }
    let bytes: [u8; 32] = fs::read(path)
        .map_err(|e| io(path, e))?
        .try_into()
        .map_err(|_| KeyFileError::Malformed(path.to_path_buf()))?;
    let key = SigningKey::from_bytes(&bytes);
    let public = public_path(path);
    fs::write(
        &public,
        format!("{}\n", hex::encode(key.verifying_key().to_bytes())),
    )
    .map_err(|e| io(&public, e))?;
    Ok((key, created))
}

/// Loads an existing key (never creates one), with the same permission checks.
pub fn load(path: &Path) -> Result<SigningKey, KeyFileError> {
    if !path.exists() {
        return Err(io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no ledger key here (is this a medproof data dir?)",
            ),
        ));
    }
    load_or_create(path).map(|(k, _)| k)
}

/// The public key file beside a key file: `ledger.key` → `ledger.pub`.
pub fn public_path(key_path: &Path) -> PathBuf {
    key_path.with_extension("pub")
}

/// Loads a ledger public key written as hex (what `ledger.pub` holds), for verifiers that
/// must not hold the private key. A weak (small-order) key is refused.
pub fn load_public(path: &Path) -> Result<ed25519_dalek::VerifyingKey, KeyFileError> {
    let text = fs::read_to_string(path).map_err(|e| io(path, e))?;
    parse_public(text.trim()).ok_or_else(|| KeyFileError::MalformedPublic(path.to_path_buf()))
}

/// Parses a ledger public key from 64 hex digits; `None` if it is not a usable key.
pub fn parse_public(hex_key: &str) -> Option<ed25519_dalek::VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(hex_key).ok()?.try_into().ok()?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok()?;
    (!key.is_weak()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.key");
        let (k1, created) = load_or_create(&path).unwrap();
        assert!(created);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let (k2, created) = load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(k1.to_bytes(), k2.to_bytes());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            load_or_create(&path),
            Err(KeyFileError::Permissions(..))
        ));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, b"short").unwrap();
        assert!(matches!(
            load_or_create(&path),
            Err(KeyFileError::Malformed(_))
        ));
    }
}

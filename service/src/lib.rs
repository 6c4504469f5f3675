//! medproof's service and command line.
//!
//! The HTTP API ([`api`], actix-web) and its [`client`], the documents they and the CLI
//! exchange ([`wire`], [`input`]), witness assembly ([`assemble`]), signed requests
//! ([`auth`]), the log output ([`logging`]), verifying a bundle against a ledger
//! ([`verify`]), the parties' actions on a ledger ([`scenario`]), the FHIR R4 mapping
//! ([`fhir`]), exports for snarkjs ([`snarkjs`]) and the EVM ([`solidity`]),
//! checkpoints anchored on an EVM chain ([`anchor`]), and the demo. This is the only
//! crate that does network I/O.

#![forbid(unsafe_code)]

pub mod anchor;
pub mod api;
pub mod assemble;
pub mod auth;
pub mod client;
pub mod demo;
pub mod fhir;
pub mod input;
pub mod ledger_cli;
pub mod logging;
pub mod progress;
pub mod remote;
pub mod scenario;
pub mod snarkjs;
pub mod solidity;
pub mod verify;
pub mod wire;
pub mod witness;

use std::path::{Path, PathBuf};

use medproof_ledger::NewLedger;
use medproof_ledger::{GenesisKey, Ledger, RocksStore};
use medproof_params::{LoadOptions, Manifest, StatementKeys};
use medproof_verifier::bundle::Verifier;
use medproof_verifier::groth16::PreparedVerifyingKey;
use medproof_verifier::Statement;

/// Writes `text` to `path`, readable by its owner only (an opening, a salt or a wallet
/// is a secret), as [`write_file_atomic`] does: a file already there, whatever its mode,
/// is replaced, not rewritten in place.
pub fn write_secret(path: &Path, text: &str) -> anyhow::Result<()> {
    write_atomic(path, text.as_bytes(), 0o600)
}

/// Where keys live inside a data dir.
pub fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
}

/// Loads the keys of every statement, generating them first if the dir has none (or
/// has keys for fewer statements than this version proves) and no ledger was created
/// yet. A ledger's genesis names its keys, so keys are never generated beside an
/// existing ledger: missing keys there are an error to repair, not to paper over.
pub fn ensure_keys(data_dir: &Path) -> anyhow::Result<(Vec<StatementKeys>, bool)> {
    let dir = keys_dir(data_dir);
    let complete = medproof_params::exists(&dir)
        && Manifest::read(&dir)
            .map(|m| Statement::ALL.iter().all(|s| m.entry(*s).is_ok()))
            .unwrap_or(false);
    let generated = !complete;
    if generated {
        if medproof_ledger::db_dir(data_dir).is_dir() {
            anyhow::bail!(
                "{} lacks the keys of a statement of this version, beside a ledger whose genesis names the keys it was created with: restore them (or the ceremony's `medproof ceremony import`) rather than generate new ones, which its verifiers would refuse",
                dir.display()
            );
        }
        if medproof_params::exists(&dir) {
            eprintln!(
                "keys in {} lack a statement of this version: generating a full set",
                dir.display()
            );
        }
        let statements = Statement::ALL;
        medproof_params::setup(
            &dir,
            &statements,
            &crate::progress::SetupBar::new(statements.len()),
        )?;
    }
    let keys = Statement::ALL
        .iter()
        .map(|s| medproof_params::load(&dir, *s, LoadOptions::default()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((keys, generated))
}

/// What a genesis names of `keys`: each statement's verifying key id and the ceremony
/// transcript it comes from.
pub fn genesis_keys(keys: &[StatementKeys]) -> anyhow::Result<Vec<GenesisKey>> {
    keys.iter()
        .map(|k| {
            let vk_id = hex::decode(&k.vk_id)
                .ok()
                .and_then(|id| <[u8; 32]>::try_from(id).ok())
                .ok_or_else(|| anyhow::anyhow!("`{}`: malformed vk id", k.statement))?;
            Ok(GenesisKey {
                statement: k.statement,
                vk_id,
                transcript: k.transcript,
            })
        })
        .collect()
}

/// Refuses keys that are not the ones `ledger`'s genesis names: keys swapped into a data
/// dir after its ledger was created (whoever made them may hold their toxic waste).
pub fn check_genesis_keys<S: medproof_ledger::Store>(
    ledger: &Ledger<S>,
    keys: &[StatementKeys],
) -> anyhow::Result<()> {
    let genesis = ledger
        .genesis()
        .ok_or_else(|| anyhow::anyhow!("the ledger has no genesis entry"))?;
    for k in keys {
        if !genesis.names(k.statement, &k.vk_id) {
            let named = genesis
                .key(k.statement)
                .map_or("no key for it".to_string(), |g| {
                    format!("vk id {} ({})", g.vk_id_hex(), g.origin())
                });
            anyhow::bail!(
                "the `{}` keys here (vk id {}) are not the ones this ledger's genesis names ({named}): keys are fixed when a ledger is created; restore the keys it was created with",
                k.statement,
                k.vk_id
            );
        }
    }
    Ok(())
}

/// The genesis document inside a data dir: what a verifier without the ledger database
/// checks a bundle's verifying key against (entry 0's [`wire::entry_json`], checked by
/// [`wire::parse_genesis`]).
pub fn genesis_path(data_dir: &Path) -> PathBuf {
    data_dir.join("genesis.json")
}

/// Opens (creating on first start) the ledger in `data_dir` for `keys`: a new ledger's
/// genesis names them (and `registrars`, if given), and its transparency log gets the
/// name `origin` (if given); an existing ledger must name them.
/// Writes `genesis.json` beside it for light verifiers.
pub fn open_ledger(
    data_dir: &Path,
    clock: std::sync::Arc<dyn medproof_ledger::Clock>,
    registrars: Option<Vec<ed25519_dalek::VerifyingKey>>,
    origin: Option<&str>,
    keys: &[StatementKeys],
) -> anyhow::Result<Ledger<RocksStore>> {
    let new = NewLedger {
        registrars,
        keys: genesis_keys(keys)?,
        origin: origin.map(str::to_string),
    };
    let ledger = medproof_ledger::open_dir_with(data_dir, clock, Some(new))?;
    if let Some(o) = origin.filter(|o| *o != ledger.origin()) {
        anyhow::bail!(
            "this ledger's transparency log is named `{}`, not `{o}`: the name is fixed when a ledger is created",
            ledger.origin()
        );
    }
    check_genesis_keys(&ledger, keys)?;
    let genesis = ledger
        .entry(0)?
        .ok_or_else(|| anyhow::anyhow!("the ledger has no genesis entry"))?;
    let doc = serde_json::to_vec_pretty(&wire::entry_json(&genesis))?;
    let path = genesis_path(data_dir);
    if std::fs::read(&path).ok().as_deref() != Some(doc.as_slice()) {
        write_file_atomic(&path, &doc)?;
    }
    Ok(ledger)
}

/// Writes `bytes` to `path` through a temporary file, synced, then renamed (and the
/// directory synced), so a crash leaves the old file or the new one, never a torn one.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic(path, bytes, 0o666)
}

/// [`write_file_atomic`] with the new file's mode (before the umask).
fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let name = path
        .file_name()
        .ok_or_else(|| anyhow::anyhow!("{}: not a file path", path.display()))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    (|| {
        // A temporary file left by a crash is made again, so it takes `mode`.
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })()
    .with_context(|| format!("cannot write {}", path.display()))
}

/// A verifier holding the (prepared) verifying key of each of `keys`.
pub fn verifier_of(keys: &[StatementKeys]) -> anyhow::Result<Verifier> {
    let mut verifier = Verifier::new();
    for k in keys {
        verifier.insert(
            k.statement,
            PreparedVerifyingKey::new(k.verifying_key.clone())?,
        )?;
    }
    Ok(verifier)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_secret_written_over_a_readable_file_is_readable_by_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("patient-wallet.json");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        // A stale temporary file, readable by all, from a crash.
        let tmp = dir.path().join(".patient-wallet.json.tmp");
        std::fs::write(&tmp, "stale").unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
        super::write_secret(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!tmp.exists());
    }
}

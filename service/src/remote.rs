//! A remote ledger read from its transparency log over HTTP (C2SP tlog-tiles), trusting
//! only the ledger's public key: what `medproof audit --url` audits.
//!
//! The signed checkpoint (`GET /checkpoint`) is checked under the key; every entry
//! bundle (`GET /tile/entries/…`) is fetched; the entries must make the checkpoint's
//! RFC 6962 root, and the chain is then walked and rebuilt in memory
//! ([`medproof_ledger::verify::rebuild`]). The verifying key an audit needs is fetched
//! too, and taken only if its SHA-256 is the one the (signed) genesis names.

use anyhow::{anyhow, bail, Context, Result};
use ed25519_dalek::VerifyingKey;
use medproof_ledger::tlog::{split_entry_bundle, LogVerifier, TilePath, TILE_WIDTH};
use medproof_ledger::{Ledger, MemStore};
use medproof_verifier::bundle::Verifier;
use medproof_verifier::groth16::{PreparedVerifyingKey, VerifyingKey as Vk};
use medproof_verifier::Statement;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::client::Client;

/// Entry bundles fetched at once.
const FETCHERS: usize = 8;

/// The log's origin: the first line of its checkpoint note.
fn origin_of(note: &[u8]) -> Result<&str> {
    let first = note.split(|b| *b == b'\n').next().unwrap_or_default();
    std::str::from_utf8(first)
        .ok()
        .filter(|o| !o.is_empty())
        .ok_or_else(|| anyhow!("the log's checkpoint does not start with its origin"))
}

/// Fetches the whole log served at `client`'s URL and rebuilds the ledger from it;
/// `progress(done, total)` counts entry bundles.
pub fn fetch_ledger(
    client: &Client,
    key: &VerifyingKey,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Ledger<MemStore>> {
    let r = client.get_bytes("/checkpoint")?;
    if r.status != 200 {
        bail!("GET {}/checkpoint: HTTP {}", client.base(), r.status);
    }
    let note = r.body;
    let origin = origin_of(&note)?.to_string();
    let signed = LogVerifier::new(&origin, *key)
        .and_then(|v| v.open(&note))
        .with_context(|| {
            format!(
                "{}/checkpoint is not a checkpoint of the log `{origin}` signed by the ledger key",
                client.base()
            )
        })?;
    let tiles: Vec<TilePath> = (0..signed.size.div_ceil(TILE_WIDTH))
        .map(|n| {
            let width = (signed.size - n * TILE_WIDTH).min(TILE_WIDTH);
            TilePath::entries(n, width).ok_or_else(|| anyhow!("no entry bundle {n}"))
        })
        .collect::<Result<_>>()?;
    let total = tiles.len() as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    progress(0, total);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(FETCHERS)
        .build()
        .context("cannot start the fetchers")?;
    let bundles: Vec<Vec<Vec<u8>>> = pool.install(|| {
        tiles
            .par_iter()
            .with_max_len(1)
            .map(|tile| {
                let entries = fetch_bundle(client, tile)?;
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(n, total);
                Ok(entries)
            })
            .collect::<Result<_>>()
    })?;
    let entries: Vec<Vec<u8>> = bundles.into_iter().flatten().collect();
    medproof_ledger::verify::rebuild(entries, &origin, &note, key).map_err(|e| {
        anyhow!(
            "the ledger served at {} does not hold up: {e}",
            client.base()
        )
    })
}

/// One entry bundle, split into exactly the entries it must hold.
fn fetch_bundle(client: &Client, tile: &TilePath) -> Result<Vec<Vec<u8>>> {
    let path = format!("/{}", tile.path());
    let r = client.get_bytes(&path)?;
    if r.status != 200 {
        bail!("GET {}{path}: HTTP {}", client.base(), r.status);
    }
    let entries = split_entry_bundle(&r.body)
        .ok_or_else(|| anyhow!("{}{path} is not an entry bundle", client.base()))?;
    if entries.len() as u64 != tile.width() {
        bail!(
            "{}{path} holds {} entries, not {}",
            client.base(),
            entries.len(),
            tile.width()
        );
    }
    Ok(entries.into_iter().map(<[u8]>::to_vec).collect())
}

/// The verifying key of `statement` served by the service, if it is the one `ledger`'s
/// genesis names (by the SHA-256 of its compressed encoding); validated as it is read
/// (points on the curve, in the subgroup).
pub fn fetch_verifier<S: medproof_ledger::Store>(
    client: &Client,
    ledger: &Ledger<S>,
    statement: Statement,
) -> Result<Verifier> {
    let named = ledger
        .genesis()
        .and_then(|g| g.key(statement))
        .ok_or_else(|| anyhow!("the ledger's genesis names no {} key", statement.name()))?;
    let path = format!("/v1/verifying-keys/{}", statement.name());
    let r = client.get_bytes(&path)?;
    if r.status != 200 {
        bail!("GET {}{path}: HTTP {}", client.base(), r.status);
    }
    let id: [u8; 32] = Sha256::digest(&r.body).into();
    if id != named.vk_id {
        bail!(
            "{}{path} serves a key ({}) that is not the one the ledger's genesis names ({})",
            client.base(),
            hex::encode(id),
            named.vk_id_hex()
        );
    }
    let vk = Vk::from_compressed(&r.body).context("the verifying key is malformed")?;
    let mut verifier = Verifier::new();
    verifier.insert(statement, PreparedVerifyingKey::new(vk)?)?;
    Ok(verifier)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_is_the_first_line() {
        assert_eq!(origin_of(b"medproof/ab\n5\nroot\n").unwrap(), "medproof/ab");
        assert!(origin_of(b"\n5\n").is_err());
        assert!(origin_of(b"\xff\n").is_err());
    }
}

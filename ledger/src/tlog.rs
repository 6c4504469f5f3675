//! The ledger as a transparency log in the formats others already read: an RFC 6962
//! SHA-256 tree over the entries' canonical encodings (leaf `n` is
//! `SHA-256(0x00 || entry n)`), its signed tree heads as C2SP checkpoints
//! (<https://c2sp.org/tlog-checkpoint>) in signed notes (<https://c2sp.org/signed-note>),
//! and its hashes and entries as C2SP tiles (<https://c2sp.org/tlog-tiles>).
//!
//! The tree sits beside the hash chain and the Poseidon trees: each append stores the
//! new hashes (the `tlog_tiles` crate's stored-hash layout, a port of Go's
//! `sumdb/tlog`) and the new signed checkpoint in the same write batch as its entries.
//! Every append ends with a medproof checkpoint entry, so the C2SP checkpoint of each
//! append (size = entries, root = the tree's root) commits to that medproof checkpoint,
//! and a monitor that checks consistency between two C2SP checkpoints checks that the
//! ledger between them was only extended.

use std::collections::HashMap;

use ed25519_dalek::{Signer as _, SigningKey};
use signed_note::Note;
use tlog_tiles::{HashReader, Tile};

pub use medproof_verifier::tlog::*;

use crate::store::{Cf, Store};

/// Height of a tile: 256 hashes wide.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
/// The longest entry encoding an entry bundle can carry (a big-endian u16 length).
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;

/// The key of stored hash `index` in [`Cf::Tlog`].
pub(crate) fn hash_key(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

/// Reads stored hashes from a store, with hashes not yet written laid over them.
pub(crate) struct StoredHashes<'a, S: Store> {
    pub(crate) store: &'a S,
    pub(crate) pending: &'a HashMap<u64, Hash>,
}

impl<S: Store> HashReader for StoredHashes<'_, S> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|i| {
                if let Some(h) = self.pending.get(i) {
                    return Ok(*h);
                }
                let v = self
                    .store
                    .get(Cf::Tlog, &hash_key(*i))
                    .map_err(|e| tlog_tiles::Error::InvalidInput(e.to_string()))?
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)?;
                <[u8; 32]>::try_from(v.as_slice())
                    .map(Hash)
                    .map_err(|_| tlog_tiles::Error::MalformedHash)
            })
            .collect()
    }
}

fn storage(e: tlog_tiles::Error) -> TlogError {
    TlogError::Storage(e.to_string())
}

/// The hashes to store when the leaves `leaves` follow the first `size` entries, as
/// `(stored hash index, hash)`, and the root of the tree that then has
/// `size + leaves.len()` entries. Reads the tree's stored hashes from `store` and writes
/// nothing: an append puts the hashes in its write batch.
pub fn extend<S: Store>(
    store: &S,
    size: u64,
    leaves: &[Hash],
) -> Result<(Vec<(u64, Hash)>, Hash), TlogError> {
    let mut pending = HashMap::new();
    let mut writes = Vec::new();
    for (i, leaf) in leaves.iter().enumerate() {
        let n = size + i as u64;
        let reader = StoredHashes {
            store,
            pending: &pending,
        };
        let hashes =
            tlog_tiles::stored_hashes_for_record_hash(n, *leaf, &reader).map_err(storage)?;
        let start = tlog_tiles::stored_hash_index(0, n);
        for (j, h) in hashes.into_iter().enumerate() {
            pending.insert(start + j as u64, h);
            writes.push((start + j as u64, h));
        }
    }
    let total = size + leaves.len() as u64;
    let root = tree_hash(store, &pending, total)?;
    Ok((writes, root))
}

/// The root of the tree of the first `size` entries.
pub(crate) fn tree_hash<S: Store>(
    store: &S,
    pending: &HashMap<u64, Hash>,
    size: u64,
) -> Result<Hash, TlogError> {
    tlog_tiles::tree_hash(size, &StoredHashes { store, pending }).map_err(storage)
}

/// The proof that entry `index` is in the tree of the first `size` entries.
pub(crate) fn prove_inclusion<S: Store>(
    store: &S,
    size: u64,
    index: u64,
) -> Result<Vec<Hash>, TlogError> {
    if index >= size {
        return Err(TlogError::OutOfRange(format!(
            "entry {index} is not in a tree of {size} entries"
        )));
    }
    tlog_tiles::prove_record(
        size,
        index,
        &StoredHashes {
            store,
            pending: &HashMap::new(),
        },
    )
    .map_err(storage)
}

/// The proof that the tree of the first `new` entries extends that of the first `old`.
pub(crate) fn prove_consistency<S: Store>(
    store: &S,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, TlogError> {
    if old == 0 || old > new {
        return Err(TlogError::OutOfRange(format!(
            "a consistency proof goes from 1 <= old <= new entries, not from {old} to {new}"
        )));
    }
    tlog_tiles::prove_tree(
        new,
        old,
        &StoredHashes {
            store,
            pending: &HashMap::new(),
        },
    )
    .map_err(storage)
}

/// The origin a ledger gets when none is configured: `medproof/` and the first 8 bytes
/// of its ledger id in hex.
pub fn default_origin(ledger_id: &[u8; 32]) -> String {
    format!("medproof/{}", hex::encode(&ledger_id[..8]))
}

/// Checks that `origin` can name a medproof ledger's log: a valid note name (see
/// [`check_origin`]) that does not start with `medproof.`, the prefix of the domains of
/// everything else the ledger key signs (checkpoint entries, the genesis), so that the
/// text of a C2SP checkpoint can never begin as one of those messages does.
pub fn check_log_origin(origin: &str) -> Result<(), crate::LedgerError> {
    check_origin(origin)?;
    if origin.starts_with("medproof.") {
        return Err(crate::LedgerError::ReservedOrigin(
            origin.chars().take(64).collect(),
        ));
    }
    Ok(())
}

/// The ledger's key as a note signer.
struct NoteSigner<'a> {
    origin: &'a str,
    id: u32,
    key: &'a SigningKey,
}

impl signed_note::Signer for NoteSigner<'_> {
    fn name(&self) -> &str {
        self.origin
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ed25519_dalek::SignatureError> {
        Ok(self.key.sign(msg).to_bytes().to_vec())
    }
}

/// Signs the C2SP checkpoint `origin`, `size`, `root` as a signed note.
pub fn sign_checkpoint(
    origin: &str,
    size: u64,
    root: Hash,
    key: &SigningKey,
) -> Result<Vec<u8>, TlogError> {
    let cp =
        tlog_tiles::Checkpoint::new(origin, size, root, "").map_err(|_| TlogError::Malformed)?;
    let mut note = Note::new(&cp.to_bytes(), &[]).map_err(|_| TlogError::Malformed)?;
    let signer = NoteSigner {
        origin,
        id: key_id(origin, &key.verifying_key()),
        key,
    };
    note.add_sigs(&[&signer])
        .map_err(|_| TlogError::BadOrigin(origin.chars().take(64).collect()))?;
    Ok(note.to_bytes())
}

/// A witness's key, cosigning checkpoints (c2sp.org/tlog-cosignature, Ed25519 v1): its
/// signature, over `cosignature/v1`, the time and the checkpoint's text, says that as
/// of that time this is the largest consistent tree it has seen of the log.
pub struct Cosigner {
    name: String,
    key: SigningKey,
    verifier: CosignatureVerifier,
}

impl Cosigner {
    /// The cosigner `name` (a schema-less URL naming the witness) with `key`.
    pub fn new(name: &str, key: SigningKey) -> Result<Self, TlogError> {
        Ok(Self {
            verifier: CosignatureVerifier::new(name, key.verifying_key())?,
            name: name.to_string(),
            key,
        })
    }

    /// The public half, as verifiers are configured with it.
    pub fn verifier(&self) -> CosignatureVerifier {
        self.verifier.clone()
    }

    /// The cosignature line (`— name base64(key id || time || signature)`, with its
    /// newline) over a checkpoint's note text, at `time` (POSIX seconds).
    pub fn cosign(&self, text: &[u8], time: u64) -> String {
        use base64::Engine as _;
        use signed_note::Verifier as _;
        let signature = self.key.sign(&cosigned_message(text, time));
        let mut bytes = self.verifier.key_id().to_be_bytes().to_vec();
        bytes.extend_from_slice(&time.to_be_bytes());
        bytes.extend_from_slice(&signature.to_bytes());
        format!(
            "\u{2014} {} {}\n",
            self.name,
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }
}

/// A tile named by its C2SP path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TilePath {
    tile: Tile,
}

impl TilePath {
    /// Parses `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]` (the path after `tile/`);
    /// only the canonical spelling of a tile is accepted.
    pub fn parse(path: &str) -> Option<Self> {
        // Parsed here rather than by `Tile::from_path`, which panics on a level of 64 or
        // more and on a width of 0: these come from the network.
        if path.len() > 64 {
            return None;
        }
        let (level, rest) = path.split_once('/')?;
        let (data, l) = match level {
            "entries" => (true, 0),
            l => (false, l.parse::<u8>().ok().filter(|l| *l < 64)?),
        };
        let (index, width) = match rest.split_once(".p/") {
            Some((n, w)) => (n, w.parse::<u32>().ok().filter(|w| (1..256).contains(w))?),
            None => (rest, TILE_WIDTH as u32),
        };
        let mut n: u64 = 0;
        let parts: Vec<&str> = index.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            let digits = match i + 1 == parts.len() {
                true => *part,
                false => part.strip_prefix('x')?,
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            n = n
                .checked_mul(1000)?
                .checked_add(digits.parse::<u64>().ok()?)?;
        }
        let tile = Self {
            tile: Tile::new(TILE_HEIGHT, l, n, width, data),
        };
        // Only the canonical spelling (no leading zero groups, no `+1`, ...).
        (tile.path() == format!("tile/{path}")).then_some(tile)
    }

    /// The C2SP path, from `tile/`.
    pub fn path(&self) -> String {
        let go = self.tile.path();
        let rest = go
            .strip_prefix(&format!("tile/{TILE_HEIGHT}/"))
            .unwrap_or(&go);
        match rest.strip_prefix("data/") {
            Some(n) => format!("tile/entries/{n}"),
            None => format!("tile/{rest}"),
        }
    }

    /// Whether it is an entry bundle.
    pub fn is_entries(&self) -> bool {
        self.tile.is_data()
    }

    /// The level (0 for entry bundles).
    pub fn level(&self) -> u8 {
        self.tile.level()
    }

    /// The tile's index in its level.
    pub fn index(&self) -> u64 {
        self.tile.level_index()
    }

    /// Hashes (or entries) in it.
    pub fn width(&self) -> u64 {
        u64::from(self.tile.width())
    }

    /// Whether a tree of `size` entries holds all of this tile.
    pub fn within(&self, size: u64) -> bool {
        let level = u32::from(self.level()) * u32::from(TILE_HEIGHT);
        let available = size.checked_shr(level).unwrap_or(0);
        self.index()
            .checked_mul(TILE_WIDTH)
            .and_then(|start| start.checked_add(self.width()))
            .is_some_and(|end| end <= available)
    }

    /// The tile of hashes at `level`, `index`, `width` (a width of 256 is a full tile).
    pub fn hashes(level: u8, index: u64, width: u64) -> Option<Self> {
        Self::checked(level, index, width, false)
    }

    /// The entry bundle `index` of `width` entries.
    pub fn entries(index: u64, width: u64) -> Option<Self> {
        Self::checked(0, index, width, true)
    }

    fn checked(level: u8, index: u64, width: u64, data: bool) -> Option<Self> {
        if level >= 64 || !(1..=TILE_WIDTH).contains(&width) {
            return None;
        }
        Some(Self {
            tile: Tile::new(TILE_HEIGHT, level, index, width as u32, data),
        })
    }

    /// The hash tile's bytes from stored hashes (`None` for an entry bundle).
    pub(crate) fn read_hashes<S: Store>(&self, store: &S) -> Result<Option<Vec<u8>>, TlogError> {
        if self.is_entries() {
            return Ok(None);
        }
        self.tile
            .read_data(&StoredHashes {
                store,
                pending: &HashMap::new(),
            })
            .map(Some)
            .map_err(storage)
    }

    /// The entries an entry bundle holds.
    pub fn entry_range(&self) -> std::ops::Range<u64> {
        let start = self.index() * TILE_WIDTH;
        start..start + self.width()
    }
}

/// Every tile of a log of `size` entries, full and partial, hashes and entry bundles:
/// what a static copy of the log serves.
pub fn tiles_of(size: u64) -> Vec<TilePath> {
    let mut out = Vec::new();
    for tile in Tile::new_tiles(TILE_HEIGHT, 0, size) {
        if tile.level() == 0 {
            let mut data = tile;
            data.set_is_data();
            out.push(TilePath { tile: data });
        }
        out.push(TilePath { tile });
    }
    out
}

/// An entry bundle: each entry as a big-endian u16 length and its bytes.
pub fn entry_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&u16::try_from(e.len()).ok()?.to_be_bytes());
        out.extend_from_slice(e);
    }
    Some(out)
}

/// Splits an entry bundle into its entries.
pub fn split_entry_bundle(mut bundle: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !bundle.is_empty() {
        let len = u16::from_be_bytes(bundle.get(..2)?.try_into().ok()?) as usize;
        out.push(bundle.get(2..2 + len)?);
        bundle = &bundle[2 + len..];
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::{MemStore, WriteSet};
    use proptest::prelude::*;

    fn h(s: &str) -> Hash {
        Hash(hex::decode(s).unwrap().try_into().unwrap())
    }

    /// RFC 6962's Merkle Tree Hash by its definition (section 2.1), the reference the
    /// stored-hash tree is checked against.
    fn mth(leaves: &[Vec<u8>]) -> Hash {
        match leaves.len() {
            0 => Hash(sha2::Sha256::digest([]).into()),
            1 => leaf_hash(&leaves[0]),
            n => {
                let k = 1 << (n - 1).ilog2();
                tlog_tiles::node_hash(mth(&leaves[..k]), mth(&leaves[k..]))
            }
        }
    }
    use sha2::Digest as _;

    fn store_of(leaves: &[Vec<u8>]) -> MemStore {
        let mut store = MemStore::new();
        let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
        let (writes, _) = extend(&store, 0, &hashes).unwrap();
        let mut ws = WriteSet::default();
        for (i, h) in writes {
            ws.put(Cf::Tlog, hash_key(i), h.0);
        }
        store.write(ws, true).unwrap();
        store
    }

    // The RFC 6962 test data of transparency-dev/merkle (testonly/constants.go and
    // proof/verify_test.go): eight leaves, the root of each prefix, and proofs.
    fn vector_leaves() -> Vec<Vec<u8>> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|s| hex::decode(s).unwrap())
        .collect()
    }

    fn vector_roots() -> Vec<Hash> {
        [
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ]
        .iter()
        .map(|s| h(s))
        .collect()
    }

    /// (leaf index, tree size, proof)
    fn vector_inclusion() -> Vec<(u64, u64, Vec<Hash>)> {
        let p = |v: &[&str]| v.iter().map(|s| h(s)).collect::<Vec<_>>();
        vec![
            (0, 1, vec![]),
            (
                0,
                8,
                p(&[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ]),
            ),
            (
                5,
                8,
                p(&[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ]),
            ),
            (
                2,
                3,
                p(&["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
            ),
            (
                1,
                5,
                p(&[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ]),
            ),
        ]
    }

    /// (old size, new size, proof)
    fn vector_consistency() -> Vec<(u64, u64, Vec<Hash>)> {
        let p = |v: &[&str]| v.iter().map(|s| h(s)).collect::<Vec<_>>();
        vec![
            (1, 1, vec![]),
            (
                1,
                8,
                p(&[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ]),
            ),
            (
                6,
                8,
                p(&[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ]),
            ),
            (
                2,
                5,
                p(&[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ]),
            ),
            (
                6,
                7,
                p(&[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ]),
            ),
        ]
    }

    fn flipped(proof: &[Hash], i: usize) -> Vec<Hash> {
        let mut p = proof.to_vec();
        p[i].0[0] ^= 8;
        p
    }

    #[test]
    fn roots_and_proofs_are_the_published_rfc6962_vectors() {
        let leaves = vector_leaves();
        let roots = vector_roots();
        let store = store_of(&leaves);
        for (size, root) in roots.iter().enumerate() {
            assert_eq!(
                tree_hash(&store, &HashMap::new(), size as u64).unwrap(),
                *root
            );
            assert_eq!(mth(&leaves[..size]), *root, "the reference at {size}");
        }
        let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
        for (index, size, proof) in vector_inclusion() {
            assert_eq!(prove_inclusion(&store, size, index).unwrap(), proof);
            let (root, leaf) = (roots[size as usize], leaf_hash(&leaves[index as usize]));
            check_inclusion(&proof, size, root, index, leaf).unwrap();
            // The negative twins of transparency-dev's verifier tests.
            let mut wrong: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
                (index.wrapping_sub(1), size, root, leaf, proof.clone()),
                (index + 1, size, root, leaf, proof.clone()),
                (index ^ 2, size, root, leaf, proof.clone()),
                (index, size * 2, root, leaf, proof.clone()),
                (index, size / 2, root, leaf, proof.clone()),
                (index, size, root, leaf_hash(b"WrongLeaf"), proof.clone()),
                (index, size, roots[0], leaf, proof.clone()),
                (index, size, some, leaf, proof.clone()),
                (
                    index,
                    size,
                    root,
                    leaf,
                    [proof.clone(), vec![root]].concat(),
                ),
                (
                    index,
                    size,
                    root,
                    leaf,
                    [vec![root], proof.clone()].concat(),
                ),
            ];
            for i in 0..proof.len() {
                wrong.push((index, size, root, leaf, flipped(&proof, i)));
            }
            if !proof.is_empty() {
                wrong.push((index, size, root, leaf, proof[..proof.len() - 1].to_vec()));
            }
            for (i, s, r, l, p) in wrong {
                assert!(
                    check_inclusion(&p, s, r, i, l).is_err(),
                    "accepted a corrupted proof of {index} in {size} as {i} in {s}"
                );
            }
        }
        for (old, new, proof) in vector_consistency() {
            assert_eq!(prove_consistency(&store, old, new).unwrap(), proof);
            let (r1, r2) = (roots[old as usize], roots[new as usize]);
            check_consistency(&proof, old, r1, new, r2).unwrap();
            if proof.is_empty() {
                continue;
            }
            let mut wrong: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
                (old - 1, new, r1, r2, proof.clone()),
                (old + 1, new, r1, r2, proof.clone()),
                (old ^ 2, new, r1, r2, proof.clone()),
                (old, new * 2, r1, r2, proof.clone()),
                (old, new / 2, r1, r2, proof.clone()),
                (old, new, some, r2, proof.clone()),
                (old, new, r1, some, proof.clone()),
                (old, new, r2, r1, proof.clone()),
                (old, new, r1, r2, vec![]),
                (old, new, r1, r2, [proof.clone(), vec![r1]].concat()),
                (old, new, r1, r2, [vec![r2], proof.clone()].concat()),
                (old, new, r1, r2, [vec![proof[0]], proof.clone()].concat()),
                (old, new, r1, r2, proof[..proof.len() - 1].to_vec()),
            ];
            for i in 0..proof.len() {
                wrong.push((old, new, r1, r2, flipped(&proof, i)));
            }
            for (o, n, a, b, p) in wrong {
                assert!(
                    check_consistency(&p, o, a, n, b).is_err(),
                    "accepted a corrupted proof from {old} to {new} as {o} to {n}"
                );
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Against the definition: every prefix's root, an inclusion proof of any entry
        /// in any tree holding it, a consistency proof between any two sizes; a changed
        /// leaf or an older root refused.
        #[test]
        fn the_stored_tree_is_rfc6962s(
            leaves in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..300),
            picks in proptest::collection::vec(any::<u64>(), 3),
        ) {
            let store = store_of(&leaves);
            let n = leaves.len() as u64;
            let size = 1 + picks[0] % n;
            let index = picks[1] % size;
            let old = 1 + picks[2] % size;
            let root = mth(&leaves[..size as usize]);
            prop_assert_eq!(tree_hash(&store, &HashMap::new(), size).unwrap(), root);
            let leaf = leaf_hash(&leaves[index as usize]);
            let proof = prove_inclusion(&store, size, index).unwrap();
            prop_assert!(check_inclusion(&proof, size, root, index, leaf).is_ok());
            prop_assert!(check_inclusion(&proof, size, root, index, leaf_hash(b"other")).is_err());
            let old_root = mth(&leaves[..old as usize]);
            let proof = prove_consistency(&store, old, size).unwrap();
            prop_assert!(check_consistency(&proof, old, old_root, size, root).is_ok());
            if old < size {
                prop_assert!(check_consistency(&proof, old, root, size, root).is_err());
            }
        }
    }

    #[test]
    fn tile_paths_are_c2sps_and_only_canonical() {
        for (path, level, index, width, entries) in [
            ("0/000", 0, 0, 256, false),
            ("0/001.p/44", 0, 1, 44, false),
            ("1/000.p/1", 1, 0, 1, false),
            ("2/x001/x234/067", 2, 1_234_067, 256, false),
            ("entries/000.p/7", 0, 0, 7, true),
            ("entries/x001/234", 0, 1_234, 256, true),
        ] {
            let t = TilePath::parse(path).unwrap();
            assert_eq!(
                (t.level(), t.index(), t.width(), t.is_entries()),
                (level, index, width, entries),
                "{path}"
            );
            assert_eq!(t.path(), format!("tile/{path}"));
        }
        for bad in [
            "0/0",
            "0/1",
            "00/000",
            "0/000.p/0",
            "0/000.p/256",
            "0/000.p/007",
            "0/1234",
            "x/000",
            "64/000",
            "data/000",
            "8/0/000",
            "0/x000/001",
            "entries",
            "",
        ] {
            assert!(TilePath::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn tiles_hold_the_hashes_and_entries_c2sp_says() {
        let leaves: Vec<Vec<u8>> = (0..300u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let store = store_of(&leaves);
        let tiles = tiles_of(300);
        let paths: Vec<String> = tiles.iter().map(TilePath::path).collect();
        assert_eq!(
            paths,
            [
                "tile/entries/000",
                "tile/0/000",
                "tile/entries/001.p/44",
                "tile/0/001.p/44",
                "tile/1/000.p/1"
            ]
        );
        let full = TilePath::parse("0/000")
            .unwrap()
            .read_hashes(&store)
            .unwrap()
            .unwrap();
        assert_eq!(full.len(), 256 * 32);
        for (i, chunk) in full.chunks(32).enumerate() {
            assert_eq!(chunk, leaf_hash(&leaves[i]).0);
        }
        let partial = TilePath::parse("0/001.p/44")
            .unwrap()
            .read_hashes(&store)
            .unwrap()
            .unwrap();
        assert_eq!(&partial[..32], leaf_hash(&leaves[256]).0);
        let level1 = TilePath::parse("1/000.p/1")
            .unwrap()
            .read_hashes(&store)
            .unwrap()
            .unwrap();
        assert_eq!(level1, mth(&leaves[..256]).0);
        assert!(TilePath::parse("0/001").unwrap().within(512));
        assert!(!TilePath::parse("0/001").unwrap().within(300));
        assert!(TilePath::parse("0/001.p/44").unwrap().within(300));
        assert!(!TilePath::parse("0/001.p/45").unwrap().within(300));
        assert!(!TilePath::parse("1/000").unwrap().within(300));
        let bundle = entry_bundle(leaves[..3].iter().map(Vec::as_slice)).unwrap();
        assert_eq!(
            split_entry_bundle(&bundle).unwrap(),
            leaves[..3].iter().map(Vec::as_slice).collect::<Vec<_>>()
        );
        assert!(split_entry_bundle(&bundle[..bundle.len() - 1]).is_none());
        assert!(entry_bundle([vec![0u8; MAX_ENTRY_BYTES + 1].as_slice()]).is_none());
    }

    #[test]
    fn checkpoints_are_signed_notes_of_the_log_and_nothing_else() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let origin = "ledger.example.org/medproof";
        let v = LogVerifier::new(origin, key.verifying_key()).unwrap();
        let root = leaf_hash(b"x");
        let note = sign_checkpoint(origin, 12, root, &key).unwrap();
        let text = String::from_utf8(note.clone()).unwrap();
        assert!(
            text.starts_with(&format!("{origin}\n12\n{root}\n\n\u{2014} {origin} ")),
            "{text}"
        );
        let cp = v.open(&note).unwrap();
        assert_eq!((cp.size, cp.root), (12, root));
        // The verifier key round trip, and its id checked.
        let vkey = v.verifier_key();
        assert_eq!(
            LogVerifier::from_verifier_key(&vkey)
                .unwrap()
                .verifier_key(),
            vkey
        );
        let mut parts: Vec<&str> = vkey.splitn(3, '+').collect();
        let wrong_id = format!("{:08x}", u32::from_str_radix(parts[1], 16).unwrap() ^ 1);
        parts[1] = &wrong_id;
        assert_eq!(
            LogVerifier::from_verifier_key(&parts.join("+")).unwrap_err(),
            TlogError::BadVerifierKey
        );
        // Signed by another key, of another log, or changed after signing: refused.
        let forged = sign_checkpoint(origin, 12, root, &other).unwrap();
        assert_eq!(v.open(&forged).unwrap_err(), TlogError::NotSigned);
        let elsewhere = sign_checkpoint("other.example/log", 12, root, &key).unwrap();
        assert!(v.open(&elsewhere).is_err());
        let changed = text.replacen("\n12\n", "\n13\n", 1);
        assert_eq!(
            v.open(changed.as_bytes()).unwrap_err(),
            TlogError::NotSigned
        );
        assert_eq!(v.open(b"not a note").unwrap_err(), TlogError::Malformed);
        for bad in ["", "with space", "a+b", "tab\there"] {
            assert!(check_origin(bad).is_err(), "{bad:?}");
        }
        // The ledger key's other signing domains are not log names.
        for taken in [
            "medproof.checkpoint.v1",
            "medproof.genesis.v2",
            "medproof.x",
        ] {
            assert!(check_origin(taken).is_ok());
            assert!(check_log_origin(taken).is_err(), "{taken:?}");
        }
        assert!(check_log_origin(&default_origin(&[7; 32])).is_ok());
        assert!(check_log_origin("ledger.example.org/medproof").is_ok());
    }
}

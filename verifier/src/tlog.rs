//! The transparency log's formats, for verifiers: C2SP checkpoints in signed notes
//! (<https://c2sp.org/tlog-checkpoint>, <https://c2sp.org/signed-note>) checked under the
//! log's key, witnesses' cosignatures (<https://c2sp.org/tlog-cosignature>, Ed25519 v1),
//! and RFC 6962 inclusion and consistency proofs (SHA-256; leaf `SHA-256(0x00 || entry)`).
//! Public keys only: the ledger signs, the witnesses cosign ([`medproof-ledger`]'s
//! `tlog` and `witness` modules); everything here checks.

use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::Checkpoint;
use signed_note::{Note, VerificationError, Verifier, Verifiers};
pub use tlog_tiles::Hash;

/// Errors of the transparency-log formats.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogError {
    /// A signed note or checkpoint that does not parse.
    #[error("not a C2SP checkpoint in a signed note")]
    Malformed,
    /// A checkpoint of another log.
    #[error("the checkpoint is of the log `{found}`, not `{expected}`")]
    OtherOrigin {
        /// The origin expected.
        expected: String,
        /// The origin found.
        found: String,
    },
    /// No valid signature by the log's key.
    #[error("the checkpoint is not signed by the log's key")]
    NotSigned,
    /// A log name (origin) a note key cannot carry.
    #[error("`{0}` is not a log name: it must be non-empty printable text without spaces or `+` (e.g. `ledger.example.org/medproof`)")]
    BadOrigin(String),
    /// A verifier key that does not parse.
    #[error("not an Ed25519 note verifier key (`name+keyid+base64`)")]
    BadVerifierKey,
    /// A proof that does not check.
    #[error("the {0} proof does not verify")]
    BadProof(&'static str),
    /// Sizes or indexes a proof cannot be about.
    #[error("{0}")]
    OutOfRange(String),
    /// A stored hash is missing or the store failed.
    #[error("the log's stored hashes cannot be read: {0}")]
    Storage(String),
}

/// The leaf hash of an entry encoding.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    tlog_tiles::record_hash(entry)
}

/// Checks that `leaf` is entry `index` of the tree of `size` entries with root `root`.
pub fn check_inclusion(
    proof: &[Hash],
    size: u64,
    root: Hash,
    index: u64,
    leaf: Hash,
) -> Result<(), TlogError> {
    if index >= size {
        return Err(TlogError::OutOfRange(format!(
            "entry {index} is not in a tree of {size} entries"
        )));
    }
    tlog_tiles::check_record(&proof.to_vec(), size, root, index, leaf)
        .map_err(|_| TlogError::BadProof("inclusion"))
}

/// Checks that the tree of `new` entries with root `new_root` extends the tree of
/// `old` entries with root `old_root`.
pub fn check_consistency(
    proof: &[Hash],
    old: u64,
    old_root: Hash,
    new: u64,
    new_root: Hash,
) -> Result<(), TlogError> {
    if old == 0 || old > new {
        return Err(TlogError::OutOfRange(format!(
            "a consistency proof goes from 1 <= old <= new entries, not from {old} to {new}"
        )));
    }
    tlog_tiles::check_tree(&proof.to_vec(), new, new_root, old, old_root)
        .map_err(|_| TlogError::BadProof("consistency"))
}

/// Checks that `origin` can name a log in a signed note.
pub fn check_origin(origin: &str) -> Result<(), TlogError> {
    let printable = origin.chars().all(|c| c.is_ascii_graphic());
    if !printable || !signed_note::is_key_name_valid(origin) || origin.len() > 255 {
        return Err(TlogError::BadOrigin(origin.chars().take(64).collect()));
    }
    Ok(())
}

/// A log's public key as a note verifier (Ed25519, strict verification).
#[derive(Debug, Clone)]
pub struct LogVerifier {
    origin: String,
    id: u32,
    key: VerifyingKey,
}

/// Signature type of a log's Ed25519 note signatures (c2sp.org/signed-note).
pub const ALG_ED25519: u8 = 0x01;
/// Signature type of Ed25519 cosignatures (c2sp.org/tlog-cosignature, v1).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// A note key id: `SHA-256(name || "\n" || alg || key)[:4]`, big-endian.
pub fn typed_key_id(name: &str, alg: u8, key: &VerifyingKey) -> u32 {
    let mut encoded = vec![alg];
    encoded.extend_from_slice(key.as_bytes());
    signed_note::key_id(name, &encoded)
}

/// The key id of a log's Ed25519 note key.
pub fn key_id(origin: &str, key: &VerifyingKey) -> u32 {
    typed_key_id(origin, ALG_ED25519, key)
}

/// A verifier key `name+keyid+base64(alg || key)`.
pub fn encode_vkey(name: &str, alg: u8, key: &VerifyingKey) -> String {
    use base64::Engine as _;
    let mut encoded = vec![alg];
    encoded.extend_from_slice(key.as_bytes());
    format!(
        "{name}+{:08x}+{}",
        typed_key_id(name, alg, key),
        base64::engine::general_purpose::STANDARD.encode(encoded)
    )
}

/// Parses a verifier key `name+keyid+base64(alg || key)` of signature type `alg`,
/// checking its id.
fn parse_vkey(vkey: &str, alg: u8) -> Result<(String, VerifyingKey), TlogError> {
    use base64::Engine as _;
    // The name ends at the first `+`, the id at the second (base64 may hold `+`).
    let mut parts = vkey.trim().splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(TlogError::BadVerifierKey);
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(key)
        .map_err(|_| TlogError::BadVerifierKey)?;
    let (Some(&found), Ok(raw)) = (key.first(), <[u8; 32]>::try_from(&key[1.min(key.len())..]))
    else {
        return Err(TlogError::BadVerifierKey);
    };
    let key = VerifyingKey::from_bytes(&raw).map_err(|_| TlogError::BadVerifierKey)?;
    check_origin(name).map_err(|_| TlogError::BadVerifierKey)?;
    if found != alg
        || id.len() != 8
        || u32::from_str_radix(id, 16).ok() != Some(typed_key_id(name, alg, &key))
    {
        return Err(TlogError::BadVerifierKey);
    }
    Ok((name.to_string(), key))
}

impl LogVerifier {
    /// The verifier of the log `origin` signed by `key`.
    pub fn new(origin: &str, key: VerifyingKey) -> Result<Self, TlogError> {
        check_origin(origin)?;
        Ok(Self {
            origin: origin.to_string(),
            id: key_id(origin, &key),
            key,
        })
    }

    /// From a note verifier key (`name+keyid+base64`), whose id it checks.
    pub fn from_verifier_key(vkey: &str) -> Result<Self, TlogError> {
        let (name, key) = parse_vkey(vkey, ALG_ED25519)?;
        Self::new(&name, key)
    }

    /// The log's public key.
    pub fn key(&self) -> VerifyingKey {
        self.key
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The note verifier key.
    pub fn verifier_key(&self) -> String {
        encode_vkey(&self.origin, ALG_ED25519, &self.key)
    }

    /// Opens a signed checkpoint of this log: the note must carry a valid signature by
    /// the log's key and name this log's origin.
    pub fn open(&self, note: &[u8]) -> Result<SignedCheckpoint, TlogError> {
        let parsed = Note::from_bytes(note).map_err(|_| TlogError::Malformed)?;
        parsed.verify(self).map_err(|_| TlogError::NotSigned)?;
        let cp =
            tlog_tiles::Checkpoint::from_bytes(parsed.text()).map_err(|_| TlogError::Malformed)?;
        if cp.origin() != self.origin {
            return Err(TlogError::OtherOrigin {
                expected: self.origin.clone(),
                found: cp.origin().chars().take(64).collect(),
            });
        }
        Ok(SignedCheckpoint {
            size: cp.size(),
            root: *cp.hash(),
            note: note.to_vec(),
        })
    }
}

impl Verifier for LogVerifier {
    fn name(&self) -> &str {
        &self.origin
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match <[u8; 64]>::try_from(sig) {
            Ok(sig) => self
                .key
                .verify_strict(msg, &Signature::from_bytes(&sig))
                .is_ok(),
            Err(_) => false,
        }
    }
}

/// A single key as the set of keys a note is verified against.
fn only<'a>(
    v: &'a dyn Verifier,
    name: &str,
    id: u32,
) -> Result<&'a dyn Verifier, VerificationError> {
    if name == v.name() && id == v.key_id() {
        Ok(v)
    } else {
        Err(VerificationError::UnknownKey {
            name: name.to_string(),
            id,
        })
    }
}

impl Verifiers for LogVerifier {
    fn verifier(&self, name: &str, id: u32) -> Result<&dyn Verifier, VerificationError> {
        only(self, name, id)
    }
}

/// A C2SP checkpoint whose signature was checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedCheckpoint {
    /// Entries in the tree.
    pub size: u64,
    /// The tree's root.
    pub root: Hash,
    /// The signed note.
    pub note: Vec<u8>,
}

/// The note's text (the checkpoint body, without its signatures).
pub fn note_text(note: &[u8]) -> Result<Vec<u8>, TlogError> {
    Ok(Note::from_bytes(note)
        .map_err(|_| TlogError::Malformed)?
        .text()
        .to_vec())
}

/// What a tlog-cosignature v1 signs: `cosignature/v1`, `time T` and the note text.
pub fn cosigned_message(text: &[u8], time: u64) -> Vec<u8> {
    let mut m = format!("cosignature/v1\ntime {time}\n").into_bytes();
    m.extend_from_slice(text);
    m
}

/// A witness's public key, checking its cosignatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// The witness `name` with the public key `key`.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, TlogError> {
        check_origin(name)?;
        Ok(Self {
            id: typed_key_id(name, ALG_COSIGNATURE_V1, &key),
            name: name.to_string(),
            key,
        })
    }

    /// From a verifier key `name+keyid+base64(0x04 || Ed25519 key)`, whose id it checks.
    pub fn from_verifier_key(vkey: &str) -> Result<Self, TlogError> {
        let (name, key) = parse_vkey(vkey, ALG_COSIGNATURE_V1)?;
        Ok(Self {
            id: typed_key_id(&name, ALG_COSIGNATURE_V1, &key),
            name,
            key,
        })
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its verifier key.
    pub fn verifier_key(&self) -> String {
        encode_vkey(&self.name, ALG_COSIGNATURE_V1, &self.key)
    }

    /// The time of this witness's valid cosignature on the signed note `note`, if it
    /// carries one (a cosignature by this key that does not verify is none).
    pub fn cosigned(&self, note: &[u8]) -> Option<u64> {
        let note = Note::from_bytes(note).ok()?;
        let (verified, _) = note.verify(self).ok()?;
        let sig = verified.first()?.signature();
        Some(u64::from_be_bytes(sig.get(..8)?.try_into().ok()?))
    }
}

impl Verifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let (Some(time), Some(sig)) = (sig.get(..8), sig.get(8..)) else {
            return false;
        };
        let (Ok(time), Ok(sig)) = (<[u8; 8]>::try_from(time), <[u8; 64]>::try_from(sig)) else {
            return false;
        };
        let time = u64::from_be_bytes(time);
        time <= i64::MAX as u64
            && self
                .key
                .verify_strict(&cosigned_message(msg, time), &Signature::from_bytes(&sig))
                .is_ok()
    }
}

impl Verifiers for CosignatureVerifier {
    fn verifier(&self, name: &str, id: u32) -> Result<&dyn Verifier, VerificationError> {
        only(self, name, id)
    }
}

/// The most hashes an inclusion proof of a bundle may carry (a tree of 2^63 entries).
const MAX_PROOF_HASHES: usize = 64;

/// A bundle's place in the transparency log: a C2SP checkpoint (a signed note, with any
/// witnesses' cosignatures) of a tree that holds the bundle's checkpoint entry, and the
/// RFC 6962 inclusion proof of that entry in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogProof {
    /// The signed note.
    pub checkpoint: String,
    /// The inclusion proof, base64 hashes from the leaf up.
    pub inclusion: Vec<String>,
}

/// What a [`LogProof`] showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// The log's origin.
    pub origin: String,
    /// Entries in the cosigned tree.
    pub size: u64,
    /// The witnesses (of those asked about) whose valid cosignature it carries, by name.
    pub cosigned_by: Vec<String>,
}

impl LogProof {
    /// Checks that the entry of `checkpoint` is in the tree of the note's C2SP
    /// checkpoint, that note being signed by `ledger_key` (under the origin it names);
    /// tells which of `witnesses` cosigned it.
    pub fn check(
        &self,
        checkpoint: &Checkpoint,
        ledger_key: &VerifyingKey,
        witnesses: &[CosignatureVerifier],
    ) -> Result<Logged, TlogError> {
        let note = self.checkpoint.as_bytes();
        let text = note_text(note)?;
        let origin =
            String::from_utf8_lossy(text.split(|b| *b == b'\n').next().unwrap_or(&[])).into_owned();
        let signed = LogVerifier::new(&origin, *ledger_key)?.open(note)?;
        if self.inclusion.len() > MAX_PROOF_HASHES {
            return Err(TlogError::BadProof("inclusion"));
        }
        let proof = self
            .inclusion
            .iter()
            .map(|h| Hash::parse_hash(h).map_err(|_| TlogError::BadProof("inclusion")))
            .collect::<Result<Vec<_>, _>>()?;
        check_inclusion(
            &proof,
            signed.size,
            signed.root,
            checkpoint.seq,
            leaf_hash(&checkpoint.entry_encoding()),
        )?;
        let mut cosigned_by: Vec<String> = witnesses
            .iter()
            .filter(|w| w.cosigned(note).is_some())
            .map(|w| w.name().to_string())
            .collect();
        cosigned_by.sort();
        cosigned_by.dedup();
        Ok(Logged {
            origin,
            size: signed.size,
            cosigned_by,
        })
    }
}

//! Signed requests: how a party reads what is private to its key (a proof job it
//! created, its own access history) without a shared secret. The request carries four
//! headers: the key, the time, a random nonce, and an Ed25519 signature over
//!
//! ```text
//! medproof-request-v2\n{ledger id}\n{METHOD}\n{path and query}\n{hex SHA-256 of the body}\n{time}\n{nonce}
//! ```
//!
//! The ledger id (hex, `GET /v1/ledger`) binds the request to one deployment: a request
//! recorded at one service is refused by every other. The service refuses a request
//! outside the clock skew or whose (key, nonce) it has seen within the skew. Headers,
//! keys and signatures are never logged.

use std::collections::HashMap;
use std::sync::Mutex;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signer's public key, hex.
pub const KEY: &str = "medproof-key";
/// Unix seconds.
pub const TIME: &str = "medproof-time";
/// 16 random bytes, hex.
pub const NONCE: &str = "medproof-nonce";
/// The signature, hex.
pub const SIGNATURE: &str = "medproof-signature";

/// What a request is signed for: the ledger it is sent to, the method, the path with
/// its query, and the body.
pub struct Request<'a> {
    /// The ledger's id.
    pub ledger_id: &'a [u8; 32],
    /// The method.
    pub method: &'a str,
    /// The path and query.
    pub path: &'a str,
    /// The body.
    pub body: &'a [u8],
}

/// The bytes a request's signature covers.
pub fn signing_bytes(r: &Request<'_>, time: u64, nonce: &str) -> Vec<u8> {
    format!(
        "medproof-request-v2\n{}\n{}\n{}\n{}\n{time}\n{nonce}",
        hex::encode(r.ledger_id),
        r.method.to_ascii_uppercase(),
        r.path,
        hex::encode(Sha256::digest(r.body))
    )
    .into_bytes()
}

/// The four headers of `request` signed by `key` at `time`.
pub fn headers(key: &SigningKey, request: &Request<'_>, time: u64) -> [(&'static str, String); 4] {
    let mut nonce = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
    let nonce = hex::encode(nonce);
    let signature = key.sign(&signing_bytes(request, time, &nonce));
    [
        (KEY, hex::encode(key.verifying_key().to_bytes())),
        (TIME, time.to_string()),
        (NONCE, nonce),
        (SIGNATURE, hex::encode(signature.to_bytes())),
    ]
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A header is missing or malformed.
    #[error("a signed request needs the headers medproof-key, medproof-time, medproof-nonce and medproof-signature: {0}")]
    Missing(&'static str),
    /// The signature does not verify.
    #[error("the request's signature does not verify")]
    BadSignature,
    /// The time is outside the skew.
    #[error("the request's time is {0} s from the service's clock; sign it anew")]
    Stale(u64),
    /// The nonce was used before.
    #[error("this signed request was seen before (replay)")]
    Replayed,
    /// More signed requests within the skew than the replay cache holds: refused rather
    /// than forgetting nonces (which would let a recorded request be replayed).
    #[error("too many signed requests within the clock skew; retry shortly")]
    Busy,
}

/// The headers as received (any missing one is `None`).
pub struct Presented<'a> {
    /// [`KEY`].
    pub key: Option<&'a str>,
    /// [`TIME`].
    pub time: Option<&'a str>,
    /// [`NONCE`].
    pub nonce: Option<&'a str>,
    /// [`SIGNATURE`].
    pub signature: Option<&'a str>,
}

/// A request nonce under its signer's key.
type SeenNonce = ([u8; 32], [u8; 16]);

/// Checks signed requests and remembers their nonces for the skew.
pub struct Authenticator {
    ledger_id: [u8; 32],
    skew: u64,
    capacity: usize,
    seen: Mutex<HashMap<SeenNonce, u64>>,
}

/// Nonces remembered at most. Those older than the skew are forgotten (their requests
/// are refused as stale anyway); while the rest fill the cache, new requests are refused.
const MAX_SEEN: usize = 1 << 20;

impl Authenticator {
    /// Requests to the ledger `ledger_id` within `skew` seconds of the clock.
    pub fn new(ledger_id: [u8; 32], skew: u64) -> Self {
        Self::with_capacity(ledger_id, skew, MAX_SEEN)
    }

    /// Remembering at most `capacity` nonces.
    pub fn with_capacity(ledger_id: [u8; 32], skew: u64, capacity: usize) -> Self {
        Self {
            ledger_id,
            skew,
            capacity,
            seen: Mutex::default(),
        }
    }

    /// The key that signed the request, if it is signed, fresh and new.
    pub fn check(
        &self,
        p: &Presented<'_>,
        method: &str,
        path: &str,
        body: &[u8],
        now: u64,
    ) -> Result<[u8; 32], AuthError> {
        let key: [u8; 32] = p
            .key
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or(AuthError::Missing(KEY))?;
        let time: u64 = p
            .time
            .and_then(|t| t.parse().ok())
            .ok_or(AuthError::Missing(TIME))?;
        let nonce_hex = p.nonce.ok_or(AuthError::Missing(NONCE))?;
        let nonce: [u8; 16] = hex::decode(nonce_hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(AuthError::Missing(NONCE))?;
        let signature: [u8; 64] = p
            .signature
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or(AuthError::Missing(SIGNATURE))?;
        let verifying = VerifyingKey::from_bytes(&key).map_err(|_| AuthError::BadSignature)?;
        verifying
            .verify_strict(
                &signing_bytes(
                    &Request {
                        ledger_id: &self.ledger_id,
                        method,
                        path,
                        body,
                    },
                    time,
                    nonce_hex,
                ),
                &Signature::from_bytes(&signature),
            )
            .map_err(|_| AuthError::BadSignature)?;
        let off = now.abs_diff(time);
        if off > self.skew {
            return Err(AuthError::Stale(off));
        }
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.contains_key(&(key, nonce)) {
            return Err(AuthError::Replayed);
        }
        if seen.len() >= self.capacity {
            seen.retain(|_, t| now.abs_diff(*t) <= self.skew);
        }
        if seen.len() >= self.capacity {
            return Err(AuthError::Busy);
        }
        seen.insert((key, nonce), time);
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const LEDGER: [u8; 32] = [9u8; 32];

    fn headers(
        key: &SigningKey,
        method: &str,
        path: &str,
        body: &[u8],
        time: u64,
    ) -> [(&'static str, String); 4] {
        super::headers(
            key,
            &Request {
                ledger_id: &LEDGER,
                method,
                path,
                body,
            },
            time,
        )
    }

    fn presented<'a>(h: &'a [(&'static str, String); 4]) -> Presented<'a> {
        Presented {
            key: Some(&h[0].1),
            time: Some(&h[1].1),
            nonce: Some(&h[2].1),
            signature: Some(&h[3].1),
        }
    }

    /// Attack: flood the replay cache with fresh requests signed by throwaway keys, so
    /// that it forgets a victim's nonce, then replay the victim's request.
    #[test]
    fn a_full_replay_cache_refuses_new_requests_and_forgets_no_nonce() {
        let auth = Authenticator::with_capacity(LEDGER, 300, 2);
        let victim = SigningKey::from_bytes(&[4u8; 32]);
        let recorded = headers(&victim, "GET", "/v1/jobs/ab", b"", 1_000);
        assert!(auth
            .check(&presented(&recorded), "GET", "/v1/jobs/ab", b"", 1_000)
            .is_ok());
        let flood = |i: u8| {
            let k = SigningKey::from_bytes(&[10 + i; 32]);
            let h = headers(&k, "GET", "/v1/jobs/ab", b"", 1_000);
            auth.check(&presented(&h), "GET", "/v1/jobs/ab", b"", 1_000)
        };
        assert!(flood(0).is_ok());
        assert_eq!(flood(1), Err(AuthError::Busy));
        assert_eq!(
            auth.check(&presented(&recorded), "GET", "/v1/jobs/ab", b"", 1_000),
            Err(AuthError::Replayed)
        );
        // Once the skew has passed, the old nonces go and new requests are taken again
        // (the recorded request is now refused as stale).
        assert!(flood(2).is_err());
        let later = headers(&victim, "GET", "/v1/jobs/ab", b"", 1_400);
        assert!(auth
            .check(&presented(&later), "GET", "/v1/jobs/ab", b"", 1_400)
            .is_ok());
        assert_eq!(
            auth.check(&presented(&recorded), "GET", "/v1/jobs/ab", b"", 1_400),
            Err(AuthError::Stale(400))
        );
    }

    #[test]
    fn a_signed_request_passes_once_and_nothing_else_does() {
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let auth = Authenticator::new(LEDGER, 300);
        // Attack: a request signed for another deployment, replayed here.
        let elsewhere = super::headers(
            &key,
            &Request {
                ledger_id: &[8u8; 32],
                method: "GET",
                path: "/v1/jobs/ab",
                body: b"",
            },
            1_000,
        );
        assert_eq!(
            auth.check(&presented(&elsewhere), "GET", "/v1/jobs/ab", b"", 1_000),
            Err(AuthError::BadSignature)
        );
        let h = headers(&key, "GET", "/v1/jobs/ab", b"", 1_000);
        let p = presented(&h);
        assert_eq!(
            auth.check(&p, "GET", "/v1/jobs/ab", b"", 1_100),
            Ok(key.verifying_key().to_bytes())
        );
        assert_eq!(
            auth.check(&p, "GET", "/v1/jobs/ab", b"", 1_100),
            Err(AuthError::Replayed)
        );
        let h = headers(&key, "GET", "/v1/jobs/ab", b"", 1_000);
        let p = presented(&h);
        // Another path, method or body than signed; outside the skew.
        assert_eq!(
            auth.check(&p, "GET", "/v1/jobs/cd", b"", 1_000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            auth.check(&p, "POST", "/v1/jobs/ab", b"", 1_000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            auth.check(&p, "GET", "/v1/jobs/ab", b"x", 1_000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            auth.check(&p, "GET", "/v1/jobs/ab", b"", 1_301),
            Err(AuthError::Stale(301))
        );
        let missing = Presented {
            signature: None,
            ..presented(&h)
        };
        assert_eq!(
            auth.check(&missing, "GET", "/v1/jobs/ab", b"", 1_000),
            Err(AuthError::Missing(SIGNATURE))
        );
    }
}

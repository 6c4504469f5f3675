//! A phase-1 transcript that snarkjs 0.7.6 made (`tests/data/snarkjs-power2.ptau`:
//! `powersoftau new bn128 2`, contributions "alice" and "bob", a beacon of
//! 0x0102…1f iterated 2^10 times, `prepare phase2`) verifies, with the response hashes
//! and first challenge that `snarkjs powersoftau verify` printed for it; a changed
//! challenge, key, beacon or response state, a dropped contribution and a file with no
//! contribution are refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use medproof_params::phase1::{first_challenge, parse_contributions, verify, Contribution};
use medproof_params::ptau::{check_ptau_file, read_ptau, PtauError};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const FIXTURE: &[u8] = include_bytes!("../data/snarkjs-power2.ptau");

/// What `snarkjs powersoftau verify` printed: each contribution's response hash.
const RESPONSES: [&str; 3] = [
    "1884b4b1a051f9dfe0fd655ed251e532da58e0a0bf0c49f34e1d9ee1f7f6286308306a62f25c5f04cf2dfcc1dd2e36244ed6b633bc1cbd828eeea46432d2d77d",
    "a443ea4c4f65ba0b111ebdb4e2c4d7050031b68b206fe8e46dd7ccdd5f66469246e6e756213ffb831d8793d3d70362fce95f69a16f69acd73eb844e353d487d2",
    "6b01243455bcd408dd663a639e2e74f7402993fc120e4e14705baa838a210e3860ab4044cd5b5fa769dca73353ba8d42a916a57015dd030b43bc0757c13e316d",
];
/// The challenge the first contributor answered (a ceremony of 2^2).
const FIRST_CHALLENGE: &str = "cbe18de1dbb2c768cc2516accddf9c75fd5e082e6e57a6a1e3d10371ec9584c23d094a5ff2db25f5aa7ca42ba1391d1b28ab3218984c9766ae496c8781457b52";

/// The offset and length of section `kind` of an iden3 container.
fn section(bytes: &[u8], kind: u32) -> (usize, usize) {
    let mut at = 12;
    loop {
        let k = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let n = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().unwrap()) as usize;
        if k == kind {
            return (at + 12, n);
        }
        at += 12 + n;
    }
}

fn contributions(bytes: &[u8]) -> Vec<Contribution> {
    let (o, n) = section(bytes, 7);
    parse_contributions(&bytes[o..o + n]).unwrap()
}

fn refused_at(c: &[Contribution], index: usize) -> String {
    let ptau = read_ptau(FIXTURE).unwrap();
    match verify(c, &ptau, true) {
        Err(PtauError::Contribution { index: i, reason }) if i == index => reason,
        other => panic!("expected contribution #{index} refused, got {other:?}"),
    }
}

#[test]
fn snarkjs_s_transcript_verifies_with_its_hashes() {
    assert_eq!(hex::encode(first_challenge(2)), FIRST_CHALLENGE);
    let path = std::env::temp_dir().join(format!("medproof-p2-{}.ptau", std::process::id()));
    std::fs::write(&path, FIXTURE).unwrap();
    let checked = check_ptau_file(&path, None, &mut ChaCha20Rng::seed_from_u64(1));
    std::fs::remove_file(&path).unwrap();
    let (ptau, contributions) = checked.unwrap();
    assert_eq!((ptau.power, ptau.ceremony_power), (2, 2));
    let names: Vec<Option<&str>> = contributions.iter().map(|c| c.name.as_deref()).collect();
    assert_eq!(names, [Some("alice"), Some("bob"), Some("final beacon")]);
    let hashes: Vec<String> = contributions
        .iter()
        .map(|c| hex::encode(c.response_hash()))
        .collect();
    assert_eq!(hashes, RESPONSES);
    let beacon = contributions[2].beacon.as_ref().unwrap();
    assert_eq!(
        (hex::encode(&beacon.hash).as_str(), beacon.iterations_exp),
        (
            "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            10
        )
    );
    assert!(contributions[..2].iter().all(|c| c.beacon.is_none()));
}

#[test]
fn a_changed_or_dropped_contribution_is_refused() {
    let good = contributions(FIXTURE);
    let ptau = read_ptau(FIXTURE).unwrap();
    assert!(verify(&good, &ptau, true).is_ok());

    // Alice's next challenge changed: Bob's proofs no longer answer it.
    let mut c = good.clone();
    c[0].next_challenge[0] ^= 1;
    assert!(refused_at(&c, 2).contains("proof of knowledge"));
    // Bob's key for τ swapped for Alice's: his proof holds for her challenge, not his.
    let mut c = good.clone();
    c[1].keys[0] = c[0].keys[0];
    assert!(refused_at(&c, 2).contains("proof of knowledge"));
    // Bob's points swapped for Alice's: they do not follow hers by his secrets.
    let mut c = good.clone();
    c[1].tau_g1 = c[0].tau_g1;
    assert!(refused_at(&c, 2).contains("do not follow"));
    // Another beacon value: the key is not the one it generates.
    let mut c = good.clone();
    c[2].beacon.as_mut().unwrap().hash[0] ^= 1;
    assert!(refused_at(&c, 3).contains("beacon"));
    // A beacon iterated beyond what medproof verifies.
    let mut c = good.clone();
    c[2].beacon.as_mut().unwrap().iterations_exp = 40;
    assert!(refused_at(&c, 3).contains("2^32"));
    // The last response's saved hash state changed: its next challenge is not the hash
    // of the file.
    let mut c = good.clone();
    c[2].partial_hash[0] ^= 1;
    assert!(matches!(
        verify(&c, &ptau, true),
        Err(PtauError::Inconsistent(why)) if why.contains("next challenge")
    ));
    // The beacon dropped: the file's points are not Bob's.
    assert!(matches!(
        verify(&good[..2], &ptau, true),
        Err(PtauError::Inconsistent(why)) if why.contains("last contribution")
    ));
    // No contribution at all: its secrets are the generators'.
    assert!(matches!(
        verify(&[], &ptau, true),
        Err(PtauError::NoContribution)
    ));
}

#[test]
fn a_malformed_transcript_is_refused() {
    let (o, n) = section(FIXTURE, 7);
    let body = &FIXTURE[o..o + n];
    // Cut short, a trailing byte, a count larger than what follows.
    assert!(parse_contributions(&body[..n - 1]).is_err());
    assert!(parse_contributions(&[body, &[0]].concat()).is_err());
    let mut more = body.to_vec();
    more[0] = 4;
    assert!(parse_contributions(&more).is_err());
    // A key point moved off the curve (its x's lowest byte changed).
    let mut off = body.to_vec();
    off[4 + 448 + 64] ^= 1;
    assert!(matches!(
        parse_contributions(&off),
        Err(PtauError::Point { .. })
    ));
}
